//! `ir.model`, `ir.model.fields`, `ir.actions.server` and `base.automation`: what
//! `install-webhook` reads and writes, and the webhooks an automation rule posts.
//!
//! As recorded (captures-2 025–032, `webhooks/`): a rule on `sale.order` with trigger
//! `on_create_or_write` fires on every create, and on a write only when one of its trigger
//! fields changed; its "Send Webhook Notification" action posts, after the commit and from
//! the request that made the change, `_action`, `_id`, `_model`, `id` and the chosen fields
//! read with `load=None` (a many2one is a bare id, `write_date` has microseconds).

use std::sync::OnceLock;

use super::*;

#[derive(Debug, Clone)]
pub struct ServerAction {
    pub id: i64,
    pub name: String,
    pub model_id: i64,
    pub state: String,
    pub webhook_url: Option<String>,
    pub webhook_field_ids: Vec<i64>,
}

#[derive(Debug, Clone)]
pub struct AutomationRule {
    pub id: i64,
    pub name: String,
    pub model_id: i64,
    pub trigger: String,
    pub trigger_field_ids: Vec<i64>,
    pub action_server_ids: Vec<i64>,
    pub active: bool,
}

/// The trigger fields' values (and `write_date`) of every order before a change.
pub(crate) struct Snapshot {
    names: Vec<String>,
    values: BTreeMap<i64, (Vec<Value>, DateTime<Utc>)>,
}

/// A webhook to post once the request that made the change has committed.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub url: String,
    pub body: String,
}

/// The models `ir.model` lists: `(model, id, description)`; sale.order's id as recorded.
const IR_MODELS: &[(&str, i64, &str)] = &[
    ("ir.model", 1, "Models"),
    ("ir.model.fields", 2, "Fields"),
    ("ir.actions.server", 20, "Server Actions"),
    ("res.partner", 85, "Contact"),
    ("res.users", 90, "User"),
    ("product.product", 300, "Product Variant"),
    ("sale.order", 532, "Sales Order"),
    ("sale.order.line", 533, "Sales Order Line"),
    ("base.automation", 600, "Automation Rule"),
];

/// sale.order's field ids as the recorded server had them (026); other fields get ids of
/// their own from the model's base.
const RECORDED_FIELD_IDS: &[(&str, i64)] = &[
    ("amount_total", 6558),
    ("client_order_ref", 6529),
    ("currency_id", 6551),
    ("name", 6523),
    ("origin", 6533),
    ("state", 6526),
    ("write_date", 6587),
];

/// The same on the recorded server with Inventory (captures-3 063, 064): another database.
const RECORDED_FIELD_IDS_INVENTORY: &[(&str, i64)] = &[
    ("amount_invoiced", 6616),
    ("amount_total", 6614),
    ("delivery_status", 8163),
    ("invoice_status", 6619),
    ("name", 6579),
    ("origin", 6589),
    ("state", 6582),
    ("write_date", 6643),
];

/// The first field id of each model's unrecorded fields.
fn field_id_base(model: &str) -> i64 {
    match model {
        "sale.order" => 6400,
        "res.partner" => 2000,
        "product.product" => 3000,
        "res.users" => 4000,
        "sale.order.line" => 7000,
        "ir.model" => 100,
        "ir.model.fields" => 200,
        "ir.actions.server" => 300,
        _ => 500,
    }
}

/// One `ir.model.fields` record.
struct FieldRecord {
    id: i64,
    model: &'static str,
    name: String,
    ttype: String,
    string: String,
    store: bool,
}

impl World {
    /// `sale.order`'s `ir.model` id.
    fn order_model_id(&self) -> i64 {
        self.ir_models()
            .into_iter()
            .find(|(m, ..)| *m == "sale.order")
            .map_or(0, |m| m.1)
    }

    /// `ir.model`'s records: the recorded server's ids (with Inventory, its other
    /// database's: sale.order is 533 there, captures-3 064).
    fn ir_models(&self) -> Vec<(&'static str, i64, &'static str)> {
        IR_MODELS
            .iter()
            .map(|&(m, id, label)| match (m, self.books.inventory) {
                ("sale.order", true) => (m, 533, label),
                ("sale.order.line", true) => (m, 534, label),
                _ => (m, id, label),
            })
            .collect()
    }

    pub(super) fn ir_model_ids(&self) -> Vec<i64> {
        self.ir_models()
            .into_iter()
            .filter(|(m, ..)| self.model_installed(m))
            .map(|(_, id, _)| id)
            .collect()
    }

    fn ir_model(&self, id: i64) -> Option<(&'static str, i64, &'static str)> {
        self.ir_models()
            .into_iter()
            .find(|(m, i, _)| *i == id && self.model_installed(m))
    }

    fn model_pair(&self, id: i64) -> Value {
        match self.ir_model(id) {
            Some((_, id, label)) => Value::Array(vec![Value::Int(id), Value::str(label)]),
            None => Value::Bool(false),
        }
    }

    /// Every `ir.model.fields` record, built once per version and module set: a search
    /// evaluates fields of every record, and would otherwise rebuild them all each time.
    fn field_records(&self) -> &'static [FieldRecord] {
        static CELLS: [[OnceLock<Vec<FieldRecord>>; 4]; 4] =
            [const { [const { OnceLock::new() }; 4] }; 4];
        let v = self.version.clamp(16, 19);
        let modules = usize::from(self.base_automation) + 2 * usize::from(self.books.inventory);
        CELLS[(v - 16) as usize][modules].get_or_init(|| self.build_field_records())
    }

    fn build_field_records(&self) -> Vec<FieldRecord> {
        let mut out = Vec::new();
        let recorded_ids = if self.books.inventory {
            RECORDED_FIELD_IDS_INVENTORY
        } else {
            RECORDED_FIELD_IDS
        };
        for (model, ..) in IR_MODELS.iter().filter(|(m, ..)| self.model_installed(m)) {
            for (i, f) in self.fields(model).all().iter().enumerate() {
                let recorded = (*model == "sale.order")
                    .then(|| recorded_ids.iter().find(|(n, _)| *n == f.name))
                    .flatten();
                out.push(FieldRecord {
                    id: recorded.map_or(field_id_base(model) + i as i64, |(_, id)| *id),
                    model,
                    name: f.name.clone(),
                    ttype: f.ty.clone(),
                    string: f
                        .attrs
                        .get("string")
                        .and_then(|s| s.as_str())
                        .unwrap_or("")
                        .to_string(),
                    store: f
                        .attrs
                        .get("store")
                        .and_then(|s| s.as_bool())
                        .unwrap_or(true),
                });
            }
        }
        out
    }

    pub(super) fn field_record_ids(&self) -> Vec<i64> {
        self.field_records().iter().map(|f| f.id).collect()
    }

    /// A field of one of this module's records; `None` when the record or field is unknown.
    pub(super) fn automation_field(&self, model: &str, id: i64, field: &str) -> Option<Value> {
        let opt = |s: &Option<String>| s.as_ref().map_or(Value::Bool(false), Value::str);
        match model {
            "ir.model" => {
                let (m, _, label) = self.ir_model(id)?;
                Some(match field {
                    "model" => Value::str(m),
                    "name" | "display_name" => Value::str(label),
                    _ => return None,
                })
            }
            "ir.model.fields" => {
                let records = self.field_records();
                let f = records.iter().find(|f| f.id == id)?;
                let model_id = self
                    .ir_models()
                    .into_iter()
                    .find(|(m, ..)| *m == f.model)?
                    .1;
                Some(match field {
                    "name" => Value::str(&f.name),
                    "model" => Value::str(f.model),
                    "model_id" => self.model_pair(model_id),
                    "ttype" => Value::str(&f.ttype),
                    "field_description" => Value::str(&f.string),
                    "store" => Value::Bool(f.store),
                    "display_name" => Value::str(format!("{} ({})", f.string, f.model)),
                    _ => return None,
                })
            }
            "ir.actions.server" => {
                let a = self.actions.get(&id)?;
                let rule = self
                    .automations
                    .values()
                    .find(|r| r.action_server_ids.contains(&id));
                Some(match field {
                    "name" | "display_name" => Value::str(&a.name),
                    "model_id" => self.model_pair(a.model_id),
                    "model_name" => Value::str(self.ir_model(a.model_id).map_or("", |m| m.0)),
                    "state" => Value::str(&a.state),
                    "webhook_url" => opt(&a.webhook_url),
                    "webhook_field_ids" => Value::ints(&a.webhook_field_ids),
                    "usage" => Value::str("ir_actions_server"),
                    "type" => Value::str("ir.actions.server"),
                    "base_automation_id" => rule.map_or(Value::Bool(false), |r| {
                        Value::Array(vec![Value::Int(r.id), Value::str(&r.name)])
                    }),
                    _ => return None,
                })
            }
            "base.automation" => {
                let r = self.automations.get(&id)?;
                Some(match field {
                    "name" | "display_name" => Value::str(&r.name),
                    "model_id" => self.model_pair(r.model_id),
                    "model_name" => Value::str(self.ir_model(r.model_id).map_or("", |m| m.0)),
                    "trigger" => Value::str(&r.trigger),
                    "trigger_field_ids" => Value::ints(&r.trigger_field_ids),
                    "action_server_ids" => Value::ints(&r.action_server_ids),
                    "active" => Value::Bool(r.active),
                    _ => return None,
                })
            }
            _ => None,
        }
    }

    /// Server actions, rules and the model registry (`ir.model`: a salesman's search of it
    /// was refused by a real Odoo with an AccessError) need the Administration / Settings
    /// group, as in Odoo (`fields_get` describes a model to anyone); `base.automation` needs
    /// its module.
    pub(super) fn check_settings_access(
        &self,
        uid: i64,
        model: &str,
        method: &str,
    ) -> Result<(), Exception> {
        let guarded = method != "fields_get"
            && matches!(model, "ir.actions.server" | "base.automation" | "ir.model");
        if guarded && !self.user(uid).is_some_and(|u| u.settings_rights) {
            return Err(Exception::AccessError(format!(
                "You are not allowed to access '{}' ({model}) records.\n\nThis operation is allowed for the following groups:\n\t- Administration/Settings\n\nContact your administrator to request access if necessary.",
                self.ir_models()
                    .into_iter()
                    .find(|(m, ..)| *m == model)
                    .map_or("", |m| m.2)
            )));
        }
        if !self.model_installed(model) {
            return Err(Exception::UnknownModel(model.to_string()));
        }
        Ok(())
    }

    /// `[(6, 0, ids)]` (set) or a bare list of ids.
    fn x2many_ids(v: &Value) -> Result<Vec<i64>, Exception> {
        let bad =
            || Exception::ValueError(format!("Wrong value for a x2many field: {}", v.describe()));
        let Value::Array(commands) = v else {
            return Err(bad());
        };
        let mut ids = Vec::new();
        for c in commands {
            match c {
                Value::Int(id) => ids.push(*id),
                Value::Array(cmd) => match cmd.as_slice() {
                    [Value::Int(6), _, Value::Array(set)] => {
                        ids = set.iter().filter_map(Value::as_i64).collect();
                    }
                    [Value::Int(4), Value::Int(id), ..] => ids.push(*id),
                    [Value::Int(5), ..] => ids.clear(),
                    _ => return Err(bad()),
                },
                _ => return Err(bad()),
            }
        }
        Ok(ids)
    }

    fn selection_value(&self, model: &str, field: &str, v: &Value) -> Result<String, Exception> {
        let s = v.as_str().unwrap_or("").to_string();
        let allowed = self
            .fields(model)
            .get(field)
            .and_then(|f| f.attrs.get("selection"))
            .and_then(|s| s.as_array())
            .is_some_and(|opts| opts.iter().any(|o| o[0].as_str() == Some(&s)));
        if allowed {
            Ok(s)
        } else {
            Err(Exception::ValueError(format!(
                "Wrong value for {model}.{field}: '{s}'"
            )))
        }
    }

    fn apply_action_vals(
        &mut self,
        a: &mut ServerAction,
        members: &[(String, Value)],
    ) -> Result<(), Exception> {
        for (k, v) in members {
            match k.as_str() {
                "name" => a.name = v.as_str().unwrap_or("").to_string(),
                "model_id" => a.model_id = v.as_i64().unwrap_or(0),
                "state" => a.state = self.selection_value("ir.actions.server", "state", v)?,
                "webhook_url" => a.webhook_url = str_or_false(Some(v)),
                "webhook_field_ids" => a.webhook_field_ids = Self::x2many_ids(v)?,
                _ => {}
            }
        }
        if self.ir_model(a.model_id).is_none() {
            return Err(missing_required(
                "Model",
                "model_id",
                "Server Actions",
                "ir.actions.server",
            ));
        }
        Ok(())
    }

    fn apply_rule_vals(
        &mut self,
        r: &mut AutomationRule,
        members: &[(String, Value)],
    ) -> Result<(), Exception> {
        for (k, v) in members {
            match k.as_str() {
                "name" => r.name = v.as_str().unwrap_or("").to_string(),
                "model_id" => r.model_id = v.as_i64().unwrap_or(0),
                "trigger" => r.trigger = self.selection_value("base.automation", "trigger", v)?,
                "trigger_field_ids" => r.trigger_field_ids = Self::x2many_ids(v)?,
                "action_server_ids" => r.action_server_ids = Self::x2many_ids(v)?,
                "action_server_id" => r.action_server_ids = v.as_i64().into_iter().collect(),
                "active" => r.active = v.truthy(),
                _ => {}
            }
        }
        if self.ir_model(r.model_id).is_none() {
            return Err(missing_required(
                "Model",
                "model_id",
                "Automation Rule",
                "base.automation",
            ));
        }
        for id in &r.action_server_ids {
            if !self.actions.contains_key(id) {
                return Err(missing("ir.actions.server", *id));
            }
        }
        Ok(())
    }

    pub(super) fn create_automation_record(
        &mut self,
        model: &str,
        members: &[(String, Value)],
    ) -> Result<i64, Exception> {
        match model {
            "ir.actions.server" => {
                let mut a = ServerAction {
                    id: self.next_action,
                    name: String::new(),
                    model_id: 0,
                    state: "object_write".into(),
                    webhook_url: None,
                    webhook_field_ids: Vec::new(),
                };
                self.apply_action_vals(&mut a, members)?;
                self.next_action += 1;
                let id = a.id;
                self.actions.insert(id, a);
                Ok(id)
            }
            "base.automation" => {
                let mut r = AutomationRule {
                    id: self.next_automation,
                    name: String::new(),
                    model_id: 0,
                    trigger: "on_create_or_write".into(),
                    trigger_field_ids: Vec::new(),
                    action_server_ids: Vec::new(),
                    active: true,
                };
                self.apply_rule_vals(&mut r, members)?;
                self.next_automation += 1;
                let id = r.id;
                self.automations.insert(id, r);
                Ok(id)
            }
            _ => Err(Exception::AccessError(format!(
                "You are not allowed to create '{model}' records."
            ))),
        }
    }

    pub(super) fn write_automation_record(
        &mut self,
        model: &str,
        id: i64,
        members: &[(String, Value)],
    ) -> Result<(), Exception> {
        match model {
            "ir.actions.server" => {
                let mut a = self
                    .actions
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| missing(model, id))?;
                self.apply_action_vals(&mut a, members)?;
                self.actions.insert(id, a);
            }
            "base.automation" => {
                let mut r = self
                    .automations
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| missing(model, id))?;
                self.apply_rule_vals(&mut r, members)?;
                self.automations.insert(id, r);
            }
            _ => {
                return Err(Exception::AccessError(format!(
                    "You are not allowed to modify '{model}' records."
                )));
            }
        }
        Ok(())
    }

    pub(super) fn unlink_automation_records(
        &mut self,
        model: &str,
        ids: &[i64],
    ) -> Result<Value, Exception> {
        for &id in ids {
            if !self.exists(model, id) {
                return Err(missing(model, id));
            }
        }
        for id in ids {
            match model {
                "ir.actions.server" => {
                    self.actions.remove(id);
                    for r in self.automations.values_mut() {
                        r.action_server_ids.retain(|a| a != id);
                    }
                }
                _ => {
                    self.automations.remove(id);
                }
            }
        }
        Ok(Value::Bool(true))
    }

    /// The active rules on sale.order with the names of their trigger fields.
    fn order_rules(&self) -> Vec<(&AutomationRule, Vec<String>)> {
        let records = self.field_records();
        self.automations
            .values()
            .filter(|r| r.active && self.base_automation && r.model_id == self.order_model_id())
            .map(|r| {
                let names = r
                    .trigger_field_ids
                    .iter()
                    .filter_map(|id| records.iter().find(|f| f.id == *id))
                    .map(|f| f.name.clone())
                    .collect();
                (r, names)
            })
            .collect()
    }

    /// Every order's trigger-field values, to compare after a change; `None` when no rule
    /// is active (nothing to compare, nothing to pay).
    pub(crate) fn trigger_snapshot(&self) -> Option<Snapshot> {
        let rules = self.order_rules();
        if rules.is_empty() {
            return None;
        }
        let mut names: Vec<String> = rules.into_iter().flat_map(|(_, n)| n).collect();
        names.sort();
        names.dedup();
        let values = self
            .orders
            .iter()
            .map(|(id, o)| (*id, (self.trigger_values(*id, &names), o.write_date)))
            .collect();
        Some(Snapshot { names, values })
    }

    fn trigger_values(&self, order_id: i64, names: &[String]) -> Vec<Value> {
        names
            .iter()
            .map(|n| self.value("sale.order", order_id, n))
            .collect()
    }

    /// Queues the webhooks the active rules send for what changed since `before`. A change
    /// made through the order's lines posts the order's `write_date` from *before* it: the
    /// rule reads the order before Odoo flushes the recomputed total (captures-2 029 posted
    /// 11:20:47.374070, the previous write's stamp, from a request answered at 11:20:49).
    pub(crate) fn fire(&mut self, before: &Snapshot, through_lines: bool) {
        let mut queued = Vec::new();
        for (rule, names) in self.order_rules() {
            for &id in self.orders.keys() {
                let fires = match before.values.get(&id) {
                    None => matches!(rule.trigger.as_str(), "on_create" | "on_create_or_write"),
                    Some((old, _)) => {
                        let now = self.trigger_values(id, &before.names);
                        matches!(rule.trigger.as_str(), "on_write" | "on_create_or_write")
                            && before
                                .names
                                .iter()
                                .zip(old.iter().zip(&now))
                                .any(|(n, (a, b))| names.contains(n) && a != b)
                    }
                };
                if !fires {
                    continue;
                }
                for a in rule
                    .action_server_ids
                    .iter()
                    .filter_map(|a| self.actions.get(a))
                    .filter(|a| a.state == "webhook")
                {
                    if let Some(url) = &a.webhook_url {
                        let stamp = before
                            .values
                            .get(&id)
                            .filter(|_| through_lines)
                            .map(|(_, t)| *t);
                        queued.push(Webhook {
                            url: url.clone(),
                            body: self.webhook_body(a, id, stamp),
                        });
                    }
                }
            }
        }
        self.outbox.extend(queued);
    }

    /// The webhooks queued by the changes so far, to post now.
    pub fn take_webhooks(&mut self) -> Vec<Webhook> {
        std::mem::take(&mut self.outbox)
    }

    /// The body Odoo posts: keys sorted, Python's `json.dumps` separators.
    fn webhook_body(
        &self,
        a: &ServerAction,
        order_id: i64,
        write_date: Option<DateTime<Utc>>,
    ) -> String {
        let records = self.field_records();
        let mut members: BTreeMap<String, serde_json::Value> = BTreeMap::new();
        members.insert("_action".into(), format!("{}(#{})", a.name, a.id).into());
        members.insert("_id".into(), order_id.into());
        members.insert("_model".into(), "sale.order".into());
        members.insert("id".into(), order_id.into());
        for f in a.webhook_field_ids.iter().filter_map(|id| {
            records
                .iter()
                .find(|f| f.id == *id && f.model == "sale.order")
        }) {
            let v = match (
                f.ttype.as_str(),
                self.value("sale.order", order_id, &f.name),
            ) {
                (_, Value::Bool(b)) => serde_json::Value::Bool(b),
                ("many2one", Value::Array(pair)) => pair
                    .first()
                    .and_then(Value::as_i64)
                    .map_or(serde_json::Value::Bool(false), Into::into),
                ("datetime", _) => {
                    let o = &self.orders[&order_id];
                    let t = match f.name.as_str() {
                        "create_date" => o.create_date,
                        "date_order" => o.date_order,
                        _ => write_date.unwrap_or(o.write_date),
                    };
                    t.format("%Y-%m-%d %H:%M:%S%.6f").to_string().into()
                }
                (_, v) => v.to_json(),
            };
            members.insert(f.name.clone(), v);
        }
        let parts: Vec<String> = members
            .iter()
            .map(|(k, v)| format!("{}: {v}", serde_json::Value::from(k.as_str())))
            .collect();
        format!("{{{}}}", parts.join(", "))
    }
}

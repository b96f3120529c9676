//! The fields each model of the fake has, per Odoo version.
//!
//! `res.partner`, `sale.order` and `sale.order.line` are a real Odoo 19's `fields_get`
//! (captures-2 022–024, kept in `fields/`); older versions rename what they renamed. A read
//! or write of a field outside this list faults, as Odoo does.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use orderbridge_wire::Value;

/// The models the fake serves (`base.automation` only while its module is installed; the
/// stock models only with Inventory, `sale_stock`).
pub(crate) const MODELS: &[&str] = &[
    "ir.module.module",
    "stock.picking",
    "stock.move",
    "stock.backorder.confirmation",
    "sale.advance.payment.inv",
    "account.move",
    "account.payment.register",
    "sale.order.cancel",
    "res.partner",
    "product.product",
    "sale.order",
    "sale.order.line",
    "res.users",
    "ir.model",
    "ir.model.fields",
    "ir.actions.server",
    "base.automation",
];

#[derive(Debug, Clone)]
pub struct FieldDef {
    pub name: String,
    pub ty: String,
    /// The whole `fields_get` description (type, string, required, readonly, relation,
    /// selection, store).
    pub attrs: serde_json::Map<String, serde_json::Value>,
}

impl FieldDef {
    fn simple(name: &str, ty: &str, string: &str) -> FieldDef {
        let attrs = serde_json::json!({"readonly": false, "required": false, "store": true, "string": string, "type": ty});
        FieldDef {
            name: name.into(),
            ty: ty.into(),
            attrs: attrs.as_object().cloned().unwrap_or_default(),
        }
    }

    /// A field with more of its `fields_get` description (relation, selection).
    fn with(name: &str, ty: &str, string: &str, extra: serde_json::Value) -> FieldDef {
        let mut f = FieldDef::simple(name, ty, string);
        if let Some(extra) = extra.as_object() {
            f.attrs.extend(extra.clone());
        }
        f
    }

    /// What a record with nothing set in this field reads as.
    pub fn empty_value(&self) -> Value {
        match self.ty.as_str() {
            "one2many" | "many2many" | "properties" => Value::Array(vec![]),
            "integer" => Value::Int(0),
            "float" | "monetary" => Value::Double("0.0".into()),
            _ => Value::Bool(false),
        }
    }

    /// The description `fields_get` gives, cut to `attributes` when asked.
    pub fn describe(&self, attributes: Option<&[String]>) -> Value {
        let kept = self
            .attrs
            .iter()
            .filter(|(k, _)| attributes.is_none_or(|a| a.iter().any(|x| x == *k)));
        Value::Struct(
            kept.map(|(k, v)| (k.clone(), Value::from_json(v)))
                .collect(),
        )
    }
}

/// A model's fields, in Odoo's order.
#[derive(Debug, Clone, Default)]
pub struct Fields {
    list: Vec<FieldDef>,
    index: BTreeMap<String, usize>,
}

impl Fields {
    fn new(list: Vec<FieldDef>) -> Fields {
        let index = list
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone(), i))
            .collect();
        Fields { list, index }
    }

    pub fn get(&self, name: &str) -> Option<&FieldDef> {
        self.index.get(name).map(|&i| &self.list[i])
    }

    pub fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    pub fn all(&self) -> &[FieldDef] {
        &self.list
    }

    fn parse(json: &str) -> Fields {
        let map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(json).expect("the fake's field lists are valid JSON");
        Fields::new(
            map.into_iter()
                .map(|(name, v)| {
                    let attrs = v.as_object().cloned().unwrap_or_default();
                    let ty = attrs
                        .get("type")
                        .and_then(|t| t.as_str())
                        .unwrap_or("char")
                        .to_string();
                    FieldDef { name, ty, attrs }
                })
                .collect(),
        )
    }

    fn rename(&mut self, from: &str, to: &str, string: &str) {
        if let Some(&i) = self.index.get(from) {
            let f = &mut self.list[i];
            f.name = to.into();
            f.attrs.insert("string".into(), string.into());
            *self = Fields::new(std::mem::take(&mut self.list));
        }
    }

    /// Adds `extra`'s fields, replacing those of the same name (a module's fields over the
    /// base model's, with every attribute the real server describes them with).
    fn overlay(&mut self, extra: Fields) {
        let mut list = std::mem::take(&mut self.list);
        for f in extra.list {
            match list.iter_mut().find(|g| g.name == f.name) {
                Some(g) => *g = f,
                None => list.push(f),
            }
        }
        *self = Fields::new(list);
    }

    fn remove(&mut self, name: &str) {
        self.list.retain(|f| f.name != name);
        *self = Fields::new(std::mem::take(&mut self.list));
    }
}

/// Every model's fields for one Odoo version.
#[derive(Debug, Default)]
pub(crate) struct Catalogue {
    models: BTreeMap<&'static str, Fields>,
}

impl Catalogue {
    pub(crate) fn of(&self, model: &str) -> Option<&Fields> {
        self.models.get(model)
    }

    fn build(version: u32, inventory: bool) -> Catalogue {
        let mut order = Fields::parse(include_str!("fields/sale.order.json"));
        let mut line = Fields::parse(include_str!("fields/sale.order.line.json"));
        let partner = Fields::parse(include_str!("fields/res.partner.json"));
        if version <= 18 {
            line.rename("tax_ids", "tax_id", "Taxes");
            line.rename("product_uom_id", "product_uom", "Unit of Measure");
        }
        let mut stock = BTreeMap::new();
        if inventory {
            // captures-3 001-004 (Odoo 19) and 18/001-003 (Odoo 18, standing for 16 and
            // 17 too): sale_stock's fields with every attribute.
            if version >= 19 {
                order.overlay(Fields::parse(include_str!(
                    "fields/sale.order+sale_stock.json"
                )));
                line.overlay(Fields::parse(include_str!(
                    "fields/sale.order.line+sale_stock.json"
                )));
            } else {
                order.overlay(Fields::parse(include_str!(
                    "fields/18/sale.order+sale_stock.json"
                )));
                line.overlay(Fields::parse(include_str!(
                    "fields/18/sale.order.line+sale_stock.json"
                )));
            }
            let id = || {
                Fields::new(vec![
                    FieldDef::simple("id", "integer", "ID"),
                    FieldDef::simple("display_name", "char", "Display Name"),
                ])
            };
            let mut picking = id();
            picking.overlay(Fields::parse(include_str!("fields/stock.picking.json")));
            let mut moves = id();
            moves.overlay(if version >= 19 {
                Fields::parse(include_str!("fields/stock.move.json"))
            } else {
                Fields::parse(include_str!("fields/18/stock.move.json"))
            });
            let mut backorder = id();
            backorder.overlay(Fields::new(vec![
                FieldDef::with(
                    "pick_ids",
                    "many2many",
                    "Pick",
                    serde_json::json!({"relation": "stock.picking"}),
                ),
                FieldDef::with(
                    "backorder_confirmation_line_ids",
                    "one2many",
                    "Backorder Confirmation Lines",
                    serde_json::json!({"relation": "stock.backorder.confirmation.line"}),
                ),
                FieldDef::simple("show_transfers", "boolean", "Show Transfers"),
            ]));
            stock.insert("stock.picking", picking);
            stock.insert("stock.move", moves);
            stock.insert("stock.backorder.confirmation", backorder);
        }
        if version <= 16 {
            // Odoo 16 locks an order with the `done` state, not a boolean.
            order.remove("locked");
            if let Some(&i) = order.index.get("state") {
                order.list[i].attrs.insert(
                    "selection".into(),
                    serde_json::json!([
                        ["draft", "Quotation"],
                        ["sent", "Quotation Sent"],
                        ["sale", "Sales Order"],
                        ["done", "Locked"],
                        ["cancel", "Cancelled"]
                    ]),
                );
            }
        }
        let product = Fields::new(vec![
            FieldDef::simple("id", "integer", "ID"),
            FieldDef::simple("name", "char", "Name"),
            FieldDef::simple("display_name", "char", "Display Name"),
            FieldDef::simple("default_code", "char", "Internal Reference"),
            FieldDef::simple("list_price", "float", "Sales Price"),
            FieldDef::simple("taxes_id", "many2many", "Sales Taxes"),
            FieldDef::simple("uom_id", "many2one", "Unit"),
            FieldDef::simple("type", "selection", "Product Type"),
            FieldDef::simple("sale_ok", "boolean", "Can be Sold"),
            FieldDef::simple("invoice_policy", "selection", "Invoicing Policy"),
        ]);
        let mut product = product;
        if inventory {
            product.overlay(Fields::new(vec![
                FieldDef::simple("is_storable", "boolean", "Track Inventory"),
                FieldDef::simple("qty_available", "float", "Quantity On Hand"),
            ]));
        }
        let users = Fields::new(vec![
            FieldDef::simple("id", "integer", "ID"),
            FieldDef::simple("login", "char", "Login"),
            FieldDef::simple("name", "char", "Name"),
            FieldDef::simple("display_name", "char", "Display Name"),
        ]);
        let (action, automation) = automation_fields(version);
        let mut models = BTreeMap::from([
            ("sale.order", order),
            ("sale.order.line", line),
            ("res.partner", partner),
            ("product.product", product),
            ("res.users", users),
            ("ir.model", ir_model_fields().0),
            ("ir.model.fields", ir_model_fields().1),
            ("ir.actions.server", action),
            ("base.automation", automation),
            ("ir.module.module", module_fields()),
        ]);
        models.extend(stock);
        models.extend(accounting_fields());
        if version <= 18 {
            // Gone in 19, where action_cancel cancels at once.
            models.insert(
                "sale.order.cancel",
                Fields::new(vec![
                    FieldDef::simple("id", "integer", "ID"),
                    FieldDef::simple("display_name", "char", "Display Name"),
                    FieldDef::with(
                        "order_id",
                        "many2one",
                        "Sale Order",
                        serde_json::json!({"relation": "sale.order"}),
                    ),
                ]),
            );
        }
        Catalogue { models }
    }
}

/// `ir.module.module`, as far as "is a module installed" goes (captures-3 005).
fn module_fields() -> Fields {
    Fields::new(vec![
        FieldDef::simple("id", "integer", "ID"),
        FieldDef::simple("name", "char", "Technical Name"),
        FieldDef::simple("display_name", "char", "Display Name"),
        FieldDef::simple("state", "selection", "Status"),
        FieldDef::simple("installed_version", "char", "Latest Version"),
    ])
}

/// `account.move` and the invoicing and payment wizards, as captures-3 reads them.
fn accounting_fields() -> [(&'static str, Fields); 3] {
    let base = |more: Vec<FieldDef>| {
        let mut all = vec![
            FieldDef::simple("id", "integer", "ID"),
            FieldDef::simple("display_name", "char", "Display Name"),
        ];
        all.extend(more);
        Fields::new(all)
    };
    let m2o = |name: &str, string: &str, relation: &str| {
        FieldDef::with(
            name,
            "many2one",
            string,
            serde_json::json!({"relation": relation}),
        )
    };
    let money = |name: &str, string: &str| FieldDef::simple(name, "monetary", string);
    [
        (
            "account.move",
            base(vec![
                FieldDef::simple("name", "char", "Number"),
                FieldDef::simple("move_type", "selection", "Type"),
                FieldDef::simple("state", "selection", "Status"),
                FieldDef::simple("payment_state", "selection", "Payment Status"),
                money("amount_untaxed", "Untaxed Amount"),
                money("amount_tax", "Tax"),
                money("amount_total", "Total"),
                money("amount_residual", "Amount Due"),
                FieldDef::simple("invoice_origin", "char", "Origin"),
                FieldDef::simple("invoice_date", "date", "Invoice/Bill Date"),
                FieldDef::simple("invoice_date_due", "date", "Due Date"),
                m2o("partner_id", "Partner", "res.partner"),
                m2o("currency_id", "Currency", "res.currency"),
                FieldDef::with(
                    "invoice_line_ids",
                    "one2many",
                    "Invoice lines",
                    serde_json::json!({"relation": "account.move.line"}),
                ),
                FieldDef::simple("create_date", "datetime", "Created on"),
                FieldDef::simple("write_date", "datetime", "Last Updated on"),
            ]),
        ),
        (
            "sale.advance.payment.inv",
            base(vec![
                FieldDef::simple("advance_payment_method", "selection", "Create Invoice"),
                FieldDef::with(
                    "sale_order_ids",
                    "many2many",
                    "Sale Order",
                    serde_json::json!({"relation": "sale.order"}),
                ),
                FieldDef::simple("count", "integer", "Order Count"),
            ]),
        ),
        (
            "account.payment.register",
            base(vec![
                money("amount", "Amount"),
                FieldDef::simple("payment_date", "date", "Payment Date"),
                FieldDef::simple("communication", "char", "Memo"),
                m2o("journal_id", "Journal", "account.journal"),
                m2o(
                    "payment_method_line_id",
                    "Payment Method",
                    "account.payment.method.line",
                ),
                m2o("currency_id", "Currency", "res.currency"),
                m2o("partner_id", "Customer/Vendor", "res.partner"),
                FieldDef::simple("payment_type", "selection", "Payment Type"),
                FieldDef::with(
                    "line_ids",
                    "many2many",
                    "Journal items",
                    serde_json::json!({"relation": "account.move.line"}),
                ),
            ]),
        ),
    ]
}

/// `ir.model` and `ir.model.fields`, the fields `install-webhook` reads.
fn ir_model_fields() -> (Fields, Fields) {
    let model = Fields::new(vec![
        FieldDef::simple("id", "integer", "ID"),
        FieldDef::simple("name", "char", "Model Description"),
        FieldDef::simple("model", "char", "Model"),
        FieldDef::simple("display_name", "char", "Display Name"),
    ]);
    let fields = Fields::new(vec![
        FieldDef::simple("id", "integer", "ID"),
        FieldDef::simple("name", "char", "Field Name"),
        FieldDef::simple("model", "char", "Model Name"),
        FieldDef::with(
            "model_id",
            "many2one",
            "Model",
            serde_json::json!({"relation": "ir.model"}),
        ),
        FieldDef::simple("ttype", "selection", "Field Type"),
        FieldDef::simple("field_description", "char", "Field Label"),
        FieldDef::simple("store", "boolean", "Stored"),
        FieldDef::simple("display_name", "char", "Display Name"),
    ]);
    (model, fields)
}

/// `ir.actions.server` and `base.automation` as Odoo's source has them (not captured):
/// Odoo 17 brought the "Send Webhook Notification" action (`state` `webhook`,
/// `webhook_url`, `webhook_field_ids`) and rules with several actions
/// (`action_server_ids`); Odoo 16's rule *is* one server action (`action_server_id`).
fn automation_fields(version: u32) -> (Fields, Fields) {
    let mut states = vec![
        serde_json::json!(["object_write", "Update Record"]),
        serde_json::json!(["object_create", "Create Record"]),
        serde_json::json!(["code", "Execute Code"]),
        serde_json::json!(["multi", "Execute Existing Actions"]),
    ];
    if version >= 17 {
        states.push(serde_json::json!(["webhook", "Send Webhook Notification"]));
    }
    let state = FieldDef::with(
        "state",
        "selection",
        "Type",
        serde_json::json!({"selection": states}),
    );
    let model_id = FieldDef::with(
        "model_id",
        "many2one",
        "Model",
        serde_json::json!({"relation": "ir.model"}),
    );
    let mut action = vec![
        FieldDef::simple("id", "integer", "ID"),
        FieldDef::simple("name", "char", "Action Name"),
        model_id.clone(),
        FieldDef::simple("model_name", "char", "Model Name"),
        state.clone(),
        FieldDef::simple("code", "text", "Python Code"),
        FieldDef::simple("usage", "selection", "Usage"),
        FieldDef::simple("type", "char", "Action Type"),
        FieldDef::simple("display_name", "char", "Display Name"),
    ];
    let trigger = FieldDef::with(
        "trigger",
        "selection",
        "Trigger",
        serde_json::json!({"selection": [
            ["on_create", "On Creation"],
            ["on_write", "On Update"],
            ["on_create_or_write", "On Save"],
            ["on_unlink", "On Deletion"],
            ["on_change", "On UI Change"],
            ["on_time", "Based on Timed Condition"]
        ]}),
    );
    let trigger_fields = FieldDef::with(
        "trigger_field_ids",
        "many2many",
        "Trigger Fields",
        serde_json::json!({"relation": "ir.model.fields"}),
    );
    let mut automation = vec![
        FieldDef::simple("id", "integer", "ID"),
        FieldDef::simple("name", "char", "Automation Rule Name"),
        model_id,
        FieldDef::simple("model_name", "char", "Model Name"),
        trigger,
        trigger_fields,
        FieldDef::simple("active", "boolean", "Active"),
        FieldDef::simple("filter_domain", "char", "Apply on"),
        FieldDef::simple("filter_pre_domain", "char", "Before Update Domain"),
        FieldDef::simple("display_name", "char", "Display Name"),
    ];
    if version >= 17 {
        action.push(FieldDef::simple("webhook_url", "char", "Webhook URL"));
        action.push(FieldDef::with(
            "webhook_field_ids",
            "many2many",
            "Webhook Fields",
            serde_json::json!({"relation": "ir.model.fields"}),
        ));
        action.push(FieldDef::with(
            "base_automation_id",
            "many2one",
            "Automation Rule",
            serde_json::json!({"relation": "base.automation"}),
        ));
        automation.push(FieldDef::with(
            "action_server_ids",
            "one2many",
            "Actions",
            serde_json::json!({"relation": "ir.actions.server"}),
        ));
    } else {
        automation.push(FieldDef::with(
            "action_server_id",
            "many2one",
            "Server Actions",
            serde_json::json!({"relation": "ir.actions.server"}),
        ));
        automation.push(state);
    }
    (Fields::new(action), Fields::new(automation))
}

/// The catalogue of an Odoo version (16 to 19), built once.
/// The fields of Odoo `version`, with Inventory's (`sale_stock`) when `inventory`.
pub(crate) fn catalogue(version: u32, inventory: bool) -> &'static Catalogue {
    static CELLS: [OnceLock<Catalogue>; 8] = [const { OnceLock::new() }; 8];
    let v = version.clamp(16, 19);
    let cell = (v - 16) as usize * 2 + usize::from(inventory);
    CELLS[cell].get_or_init(|| Catalogue::build(v, inventory))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odoo_19_lines_have_tax_ids_and_older_ones_tax_id() {
        let l19 = catalogue(19, false).of("sale.order.line").unwrap();
        let l18 = catalogue(18, false).of("sale.order.line").unwrap();
        assert!(l19.contains("tax_ids") && l19.contains("product_uom_id"));
        assert!(!l18.contains("tax_ids") && !l18.contains("product_uom_id"));
        assert!(l18.contains("tax_id") && l18.contains("product_uom"));
    }

    #[test]
    fn the_real_fields_are_known() {
        let partner = catalogue(19, false).of("res.partner").unwrap();
        assert!(partner.contains("phone") && partner.contains("vat"));
        assert_eq!(partner.all().len(), 162);
    }
}

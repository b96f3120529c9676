//! The fake Odoo's data and model methods: res.partner, product.product, sale.order,
//! sale.order.line, res.users, with Odoo's behaviour as recorded from real servers.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

use super::domain;

mod automation;
mod demo;
mod fulfilment;
mod reads;
mod writes;
use super::binding::Args;
use super::exception::Exception;
use super::fields::{self, Fields, MODELS};
pub use automation::{AutomationRule, ServerAction, Webhook};
pub use fulfilment::{Books, Invoice, Picking, Sequences, StockMove};
use orderbridge_wire::{Value, format_odoo_datetime, number};
use rust_decimal::RoundingStrategy;

pub const DB: &str = "portal";
pub const ADMIN_UID: i64 = 2;
pub const ADMIN_LOGIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "admin";
pub const ADMIN_API_KEY: &str = "0123456789abcdef0123456789abcdef01234567";
pub const SALESMAN_UID: i64 = 6;
pub const SALESMAN_LOGIN: &str = "salesman";
pub const SALESMAN_PASSWORD: &str = "salesman";
pub const SALESMAN_API_KEY: &str = "5a1e5a1e5a1e5a1e5a1e5a1e5a1e5a1e5a1e5a1e";
pub const NOSALES_UID: i64 = 7;
pub const NOSALES_LOGIN: &str = "nosales";
pub const NOSALES_PASSWORD: &str = "nosales";
pub const NOSALES_API_KEY: &str = "fedcba9876543210fedcba9876543210fedcba98";
/// Odoo's demo office chair: list price 70.0, 15 % tax.
pub const CHAIR_PRODUCT_ID: i64 = 5;

#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub password: String,
    pub api_key: String,
    pub sales_rights: bool,
    /// Administration / Settings: server actions and automation rules.
    pub settings_rights: bool,
}

#[derive(Debug, Clone)]
pub struct Partner {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub parent_id: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Product {
    pub id: i64,
    pub name: String,
    pub default_code: String,
    pub list_price: Decimal,
    pub tax_percent: Decimal,
    pub description: String,
    /// Tracked in stock (`is_storable`, Inventory), with what is on hand.
    pub storable: bool,
    pub qty_available: Decimal,
    /// What deliveries may still reserve (on hand less what other moves hold).
    pub free_qty: Decimal,
}

impl Product {
    fn display_name(&self) -> String {
        format!("[{}] {}", self.default_code, self.name)
    }
}

#[derive(Debug, Clone)]
pub struct Order {
    pub id: i64,
    pub name: String,
    pub partner_id: i64,
    pub state: String,
    pub client_order_ref: Option<String>,
    pub origin: Option<String>,
    pub note: Option<String>,
    pub date_order: DateTime<Utc>,
    pub create_date: DateTime<Utc>,
    pub write_date: DateTime<Utc>,
    pub locked: bool,
    /// The delivery date promised to the customer (writable).
    pub commitment_date: Option<DateTime<Utc>>,
    pub line_ids: Vec<i64>,
    /// Test hook: an exact wire text for amount_total, e.g. `857.8699999`.
    pub amount_total_wire: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Line {
    pub id: i64,
    pub order_id: i64,
    pub product_id: i64,
    pub qty: Decimal,
    pub price_unit: Decimal,
    pub discount: Decimal,
    pub tax_percent: Decimal,
    /// `line_section`, `line_note` (and 19's `line_subsection`): a line with no product.
    pub display_type: Option<String>,
    /// A section's or note's text.
    pub label: Option<String>,
}

impl Line {
    fn subtotal(&self) -> Decimal {
        round_to(
            self.qty * self.price_unit * (Decimal::ONE_HUNDRED - self.discount)
                / Decimal::ONE_HUNDRED,
            2,
        )
    }
    fn tax(&self) -> Decimal {
        round_to(self.subtotal() * self.tax_percent / Decimal::ONE_HUNDRED, 2)
    }
}

/// Everything the fake server knows.
#[derive(Debug, Clone)]
pub struct World {
    /// The Odoo major version the fake plays (16 to 19).
    pub version: u32,
    pub users: Vec<User>,
    pub partners: BTreeMap<i64, Partner>,
    pub products: BTreeMap<i64, Product>,
    pub orders: BTreeMap<i64, Order>,
    pub lines: BTreeMap<i64, Line>,
    next_partner: i64,
    next_order: i64,
    /// The `S000nn` name sequence, apart from ids as in Odoo.
    next_order_seq: i64,
    /// A fixed "now" for replays (the recorded server's clock); the real clock when `None`.
    clock: Option<DateTime<Utc>>,
    next_line: i64,
    /// The Automation Rules module (`base_automation`) is installed.
    pub base_automation: bool,
    pub actions: BTreeMap<i64, ServerAction>,
    pub automations: BTreeMap<i64, AutomationRule>,
    next_action: i64,
    next_automation: i64,
    /// Webhooks to post once the current request has committed.
    outbox: Vec<Webhook>,
    /// Deliveries, invoices and payments (with Inventory for deliveries).
    pub books: Books,
}

fn model_label(model: &str) -> &'static str {
    match model {
        "sale.order" => "Sales Order",
        "sale.order.line" => "Sales Order Line",
        "res.partner" => "Contact",
        "product.product" => "Product Variant",
        _ => "User",
    }
}

impl World {
    fn insert_order(&mut self, partner_id: i64, when: DateTime<Utc>) -> i64 {
        let id = self.next_order;
        self.next_order += 1;
        let seq = self.next_order_seq;
        self.next_order_seq += 1;
        self.orders.insert(
            id,
            Order {
                id,
                name: format!("S{seq:05}"),
                partner_id,
                state: "draft".into(),
                client_order_ref: None,
                origin: None,
                note: None,
                date_order: when,
                create_date: when,
                write_date: when,
                locked: false,
                commitment_date: None,
                line_ids: Vec::new(),
                amount_total_wire: None,
            },
        );
        id
    }

    fn insert_line(
        &mut self,
        order_id: i64,
        product_id: i64,
        qty: Decimal,
        price: Decimal,
        discount: Option<Decimal>,
    ) -> i64 {
        let id = self.next_line;
        self.next_line += 1;
        let tax = self
            .products
            .get(&product_id)
            .map_or(Decimal::ZERO, |p| p.tax_percent);
        self.lines.insert(
            id,
            Line {
                id,
                order_id,
                product_id,
                qty,
                price_unit: price,
                discount: discount.unwrap_or_default(),
                tax_percent: tax,
                display_type: None,
                label: None,
            },
        );
        if let Some(o) = self.orders.get_mut(&order_id) {
            o.line_ids.push(id);
        }
        id
    }

    pub fn user(&self, uid: i64) -> Option<&User> {
        self.users.iter().find(|u| u.id == uid)
    }

    /// The user a password or API key belongs to.
    pub fn login(&self, login: &str, secret: &str) -> Option<i64> {
        self.users
            .iter()
            .find(|u| u.login == login && (u.password == secret || u.api_key == secret))
            .map(|u| u.id)
    }

    pub fn user_by_key(&self, key: &str) -> Option<i64> {
        self.users.iter().find(|u| u.api_key == key).map(|u| u.id)
    }

    pub fn check_secret(&self, uid: i64, secret: &str) -> bool {
        self.user(uid)
            .is_some_and(|u| u.password == secret || u.api_key == secret)
    }

    /// Amounts of an order: (untaxed, tax, total), computed like Odoo (per-line rounding).
    pub fn amounts(&self, o: &Order) -> (Decimal, Decimal, Decimal) {
        let (mut untaxed, mut tax) = (Decimal::ZERO, Decimal::ZERO);
        for l in o.line_ids.iter().filter_map(|id| self.lines.get(id)) {
            untaxed += l.subtotal();
            tax += l.tax();
        }
        (untaxed, tax, untaxed + tax)
    }

    fn touch(&mut self, order_id: i64) {
        let now = self.now();
        if let Some(o) = self.orders.get_mut(&order_id) {
            o.write_date = now;
        }
    }

    /// The model's fields in this version (empty for a model the fake does not know).
    pub fn fields(&self, model: &str) -> &'static Fields {
        static NONE: std::sync::OnceLock<Fields> = std::sync::OnceLock::new();
        fields::catalogue(self.version, self.books.inventory)
            .of(model)
            .unwrap_or_else(|| NONE.get_or_init(Fields::default))
    }

    /// A field's value as Odoo reads it: the modelled value, or the empty value of its type.
    pub fn value(&self, model: &str, id: i64, field: &str) -> Value {
        self.field(model, id, field).unwrap_or_else(|| {
            self.fields(model)
                .get(field)
                .map_or(Value::Bool(false), |f| f.empty_value())
        })
    }

    fn all_ids(&self, model: &str) -> Vec<i64> {
        match model {
            "sale.order" => self.orders.keys().copied().collect(),
            "sale.order.line" => self.lines.keys().copied().collect(),
            "res.partner" => self.partners.keys().copied().collect(),
            "product.product" => self.products.keys().copied().collect(),
            "ir.model" => self.ir_model_ids(),
            "ir.model.fields" => self.field_record_ids(),
            "ir.actions.server" => self.actions.keys().copied().collect(),
            "base.automation" => self.automations.keys().copied().collect(),
            "ir.module.module" => self.modules().iter().map(|m| m.0).collect(),
            m if fulfilment::MODELS.contains(&m) => self.fulfilment_ids(model),
            _ => self.users.iter().map(|u| u.id).collect(),
        }
    }

    /// The modules "is it installed" asks about: (id, name, state, version), in
    /// `ir.module.module`'s order (applications first).
    pub(super) fn modules(&self) -> Vec<(i64, &'static str, &'static str, String)> {
        let state = |on: bool| if on { "installed" } else { "uninstalled" };
        let v = self.version;
        // The recorded servers' ids (sale_stock is 471 on the Odoo 18 one).
        let sale_stock = if v >= 19 { 483 } else { 471 };
        vec![
            (1, "account", "installed", format!("{v}.0.1.4")),
            (
                509,
                "stock",
                state(self.books.inventory),
                format!("{v}.0.1.1"),
            ),
            (
                35,
                "base_automation",
                state(self.base_automation),
                format!("{v}.0.1.0"),
            ),
            (
                sale_stock,
                "sale_stock",
                state(self.books.inventory),
                format!("{v}.0.1.0"),
            ),
        ]
    }

    fn exists(&self, model: &str, id: i64) -> bool {
        match model {
            "sale.order" => self.orders.contains_key(&id),
            "sale.order.line" => self.lines.contains_key(&id),
            "res.partner" => self.partners.contains_key(&id),
            "product.product" => self.products.contains_key(&id),
            "ir.model" | "ir.model.fields" | "ir.actions.server" | "base.automation" => {
                self.automation_field(model, id, "display_name").is_some()
            }
            "ir.module.module" => self.modules().iter().any(|m| m.0 == id),
            m if fulfilment::MODELS.contains(&m) => self.fulfilment_ids(model).contains(&id),
            _ => self.user(id).is_some(),
        }
    }

    fn partner_pair(&self, id: i64) -> Value {
        match self.partners.get(&id) {
            Some(p) => Value::Array(vec![Value::Int(id), Value::str(&p.name)]),
            None => Value::Bool(false),
        }
    }

    fn check_model_access(&self, uid: i64, model: &str) -> Result<(), Exception> {
        let needs_sales = model.starts_with("sale.");
        if needs_sales && !self.user(uid).is_some_and(|u| u.sales_rights) {
            return Err(Exception::AccessError(format!(
                "You are not allowed to access '{}' ({model}) records.\n\nThis operation is allowed for the following groups:\n\t- Accounting/Invoicing\n\t- Sales/Administrator\n\t- Sales/User: Own Documents Only\n\t- Role / Portal\n\t- Show Accounting Features - Readonly\n\t- Show Full Accounting Features\n\nContact your administrator to request access if necessary.",
                model_label(model)
            )));
        }
        Ok(())
    }

    /// Runs `model.method` for `uid` with bound arguments.
    pub fn call(
        &mut self,
        uid: i64,
        model: &str,
        method: &str,
        ids: Option<Vec<i64>>,
        args: &Args,
    ) -> Result<Value, Exception> {
        if !MODELS.contains(&model) || !self.model_installed(model) {
            return Err(Exception::UnknownModel(model.to_string()));
        }
        if method.starts_with('_') {
            return Err(Exception::PrivateMethod(format!("{model}.{method}")));
        }
        let ids = ids.unwrap_or_default();
        match method {
            "check_access_rights" => {
                let allowed = self.check_model_access(uid, model).is_ok();
                let raise = args.get("raise_exception").is_none_or(Value::truthy);
                if !allowed && raise {
                    self.check_model_access(uid, model)?;
                }
                return Ok(Value::Bool(allowed));
            }
            "has_access" => return Ok(Value::Bool(self.check_model_access(uid, model).is_ok())),
            "context_get" if model == "res.users" => {
                return Ok(Value::object([
                    ("lang", Value::str("en_US")),
                    ("tz", Value::str("Europe/Brussels")),
                    ("uid", Value::Int(uid)),
                ]));
            }
            _ => {}
        }
        self.check_model_access(uid, model)?;
        self.check_settings_access(uid, model, method)?;
        // An automation rule compares its trigger fields before and after a change.
        let changes = matches!(
            method,
            "create" | "write" | "unlink" | "button_validate" | "process" | "create_invoices"
        ) || method.starts_with("action_");
        let before = changes.then(|| self.trigger_snapshot()).flatten();
        let result = self.call_checked(model, method, &ids, args)?;
        // A change made elsewhere (lines, deliveries, invoices) reaches the order as a
        // recompute: its post carries the order's previous write_date.
        let recompute = model != "sale.order";
        if let Some(before) = before {
            self.fire(&before, recompute);
        }
        if model == "sale.order" && method == "action_confirm" {
            // The delivery, then its recomputed delivery_status: a second post (captures-3 067).
            let before = self.trigger_snapshot();
            for &id in &ids {
                self.make_delivery(id);
            }
            if let Some(before) = before {
                self.fire(&before, true);
            }
        }
        Ok(result)
    }

    fn call_checked(
        &mut self,
        model: &str,
        method: &str,
        ids: &[i64],
        args: &Args,
    ) -> Result<Value, Exception> {
        let ids = ids.to_vec();
        match method {
            "read" => {
                let fields = args.strings("fields")?;
                self.read_rows(model, &ids, fields.as_deref())
            }
            "search_read" => {
                let dom = args.get("domain").cloned().unwrap_or(Value::Array(vec![]));
                let fields = args.strings("fields")?;
                let found = self.search_ids(
                    model,
                    &dom,
                    args.int("offset")?.unwrap_or(0),
                    args.int("limit")?,
                    args.str("order")?,
                )?;
                self.read_rows(model, &found, fields.as_deref())
            }
            "search" => {
                let dom = args.get("domain").cloned().unwrap_or(Value::Array(vec![]));
                let found = self.search_ids(
                    model,
                    &dom,
                    args.int("offset")?.unwrap_or(0),
                    args.int("limit")?,
                    args.str("order")?,
                )?;
                Ok(Value::ints(&found))
            }
            "search_count" => {
                let dom = args.get("domain").cloned().unwrap_or(Value::Array(vec![]));
                let n = self
                    .search_ids(model, &dom, 0, args.int("limit")?, Some("id"))?
                    .len();
                Ok(Value::Int(n as i64))
            }
            "fields_get" => self.fields_get(model, args),
            "create"
                if matches!(
                    model,
                    "stock.backorder.confirmation"
                        | "sale.advance.payment.inv"
                        | "account.payment.register"
                        | "sale.order.cancel"
                ) =>
            {
                let vals = args.get("vals_list").cloned().unwrap_or(Value::Nil);
                self.create_wizard(model, &vals, args)
            }
            "create" => self.create(model, args.get("vals_list").cloned().unwrap_or(Value::Nil)),
            "write" if model == "stock.move" => {
                let vals = args.get("vals").cloned().unwrap_or(Value::Struct(vec![]));
                self.write_moves(&ids, &vals)?;
                Ok(Value::Bool(true))
            }
            "button_validate" if model == "stock.picking" => self.button_validate(&ids, args),
            "process" if model == "stock.backorder.confirmation" => {
                self.process_backorder(&ids, args)
            }
            "create_invoices" if model == "sale.advance.payment.inv" => {
                self.create_invoices(&ids, args)
            }
            "action_post" if model == "account.move" => self.post_invoices(&ids),
            "web_save" if self.version >= 17 => self.web_save(model, &ids, args),
            "action_create_payments" if model == "account.payment.register" => {
                self.create_payments(&ids)
            }
            "write" => {
                let vals = args.get("vals").cloned().unwrap_or(Value::Struct(vec![]));
                self.write(model, &ids, &vals)?;
                Ok(Value::Bool(true))
            }
            "unlink" => self.unlink(model, &ids),
            "action_cancel" if model == "sale.order.cancel" => self.cancel_by_wizard(&ids),
            m if model == "sale.order" && m.starts_with("action_") => {
                self.order_action(&ids, m, args)
            }
            _ => Err(Exception::UnknownMethod(format!("{model}.{method}"))),
        }
    }
}

/// Rounds half away from zero, as Odoo's `float_round` does for money.
fn round_to(amount: Decimal, decimals: u32) -> Decimal {
    amount.round_dp_with_strategy(decimals, RoundingStrategy::MidpointAwayFromZero)
}

fn decimal_arg(v: Option<&Value>) -> Result<Option<Decimal>, Exception> {
    match v {
        None | Some(Value::Bool(false)) | Some(Value::Nil) => Ok(None),
        Some(Value::Int(i)) => Ok(Some(Decimal::from(*i))),
        Some(Value::Double(s)) => number::decimal(s).map(Some).map_err(|_| {
            Exception::ValueError(format!("could not convert string to float: '{s}'"))
        }),
        Some(other) => Err(Exception::ValueError(format!(
            "could not convert {} to float",
            other.describe()
        ))),
    }
}

fn vals_members(v: &Value) -> &[(String, Value)] {
    match v {
        Value::Struct(m) => m,
        _ => &[],
    }
}

fn str_or_false(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::Str(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

fn missing(model: &str, id: i64) -> Exception {
    Exception::MissingError(format!(
        "Record does not exist or has been deleted.\n(Record: {model}({id},), User: 2)"
    ))
}

fn missing_required(label: &str, field: &str, model_label: &str, model: &str) -> Exception {
    Exception::ValidationError(format!(
        "The operation cannot be completed: Missing required value for the field '{label}' ({field}).\nModel: '{model_label}' ({model})\n- create/update: a mandatory field is not set\n- delete: another model requires the record being deleted, you can archive it instead\n"
    ))
}

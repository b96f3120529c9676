//! The fake Odoo's data and model methods: res.partner, product.product, sale.order,
//! sale.order.line, res.users, with Odoo 19's behaviour as the transcripts show it.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

use super::domain;
use super::exc::Exc;
use super::fields::{self, Fields};
use orderbridge_wire::{Value, format_odoo_datetime, number};
use rust_decimal::RoundingStrategy;

pub const DB: &str = "portal";
pub const ADMIN_UID: i64 = 2;
pub const ADMIN_LOGIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "admin";
pub const ADMIN_API_KEY: &str = "0123456789abcdef0123456789abcdef01234567";
pub const NOSALES_UID: i64 = 7;
pub const NOSALES_LOGIN: &str = "nosales";
pub const NOSALES_PASSWORD: &str = "nosales";
pub const NOSALES_API_KEY: &str = "fedcba9876543210fedcba9876543210fedcba98";
/// The demo product of the transcripts: list price 70.0, 15 % tax.
pub const CHAIR_PRODUCT_ID: i64 = 5;

#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub password: String,
    pub api_key: String,
    pub sales_rights: bool,
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
}

pub const MODELS: &[&str] = &[
    "res.partner",
    "product.product",
    "sale.order",
    "sale.order.line",
    "res.users",
];

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
    /// The demo server: Deco Addict and friends, the office chair, and `orders` sale orders
    /// (with one line each, so their amounts are above zero).
    pub fn demo(orders: usize) -> World {
        World::demo_of(19, orders)
    }

    /// The demo server as Odoo `version` (16 to 19).
    pub fn demo_of(version: u32, orders: usize) -> World {
        let now = Utc::now();
        let mut w = World {
            version,
            users: vec![
                User {
                    id: ADMIN_UID,
                    login: ADMIN_LOGIN.into(),
                    name: "Mitchell Admin".into(),
                    password: ADMIN_PASSWORD.into(),
                    api_key: ADMIN_API_KEY.into(),
                    sales_rights: true,
                },
                User {
                    id: NOSALES_UID,
                    login: NOSALES_LOGIN.into(),
                    name: "No Sales".into(),
                    password: NOSALES_PASSWORD.into(),
                    api_key: NOSALES_API_KEY.into(),
                    sales_rights: false,
                },
            ],
            partners: BTreeMap::new(),
            products: BTreeMap::new(),
            orders: BTreeMap::new(),
            lines: BTreeMap::new(),
            next_partner: 44,
            next_order: 1,
            next_order_seq: 1,
            clock: None,
            next_line: 1,
        };
        for (id, name) in [
            (9, "Deco Addict"),
            (10, "Gemini Furniture"),
            (11, "Ready Mat"),
            (12, "Azure Interior"),
        ] {
            w.partners.insert(
                id,
                Partner {
                    id,
                    name: name.into(),
                    email: Some(format!(
                        "{}@example.com",
                        name.to_lowercase().replace(' ', ".")
                    )),
                    parent_id: None,
                },
            );
        }
        w.products.insert(
            CHAIR_PRODUCT_ID,
            Product {
                id: CHAIR_PRODUCT_ID,
                name: "Office Chair".into(),
                default_code: "FURN_7777".into(),
                list_price: Decimal::from(70),
                tax_percent: Decimal::from(15),
                description: "Comfortable yellow chair for daily work".into(),
            },
        );
        w.products.insert(
            6,
            Product {
                id: 6,
                name: "Office Lamp".into(),
                default_code: "FURN_8888".into(),
                list_price: Decimal::new(4000, 2),
                tax_percent: Decimal::from(15),
                description: String::new(),
            },
        );
        for i in 0..orders {
            let partner = 9 + (i as i64 % 4);
            let when = now - Duration::days((i % 60) as i64);
            // Deterministic, varied prices with cents.
            let price = Decimal::new(1000 + ((i as i64 * 7919) % 90_000), 2);
            let id = w.insert_order(partner, when);
            w.insert_line(id, CHAIR_PRODUCT_ID, Decimal::ONE, price, None);
            if i % 3 == 1 {
                w.orders.get_mut(&id).unwrap().state = "sale".into();
            } else if i % 3 == 2 {
                w.orders.get_mut(&id).unwrap().state = "sent".into();
            }
        }
        // The transcripts' server had 44 lines on its 20 demo orders: new lines start at 45.
        w.next_line = w.next_line.max(45);
        w
    }

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

    /// Test hook: give an order a line so that its total becomes `total` (tax included).
    pub fn set_order_total(&mut self, order_id: i64, total: Decimal) {
        let ids: Vec<i64> = self
            .orders
            .get(&order_id)
            .map(|o| o.line_ids.clone())
            .unwrap_or_default();
        for id in ids {
            self.lines.remove(&id);
        }
        if let Some(o) = self.orders.get_mut(&order_id) {
            o.line_ids.clear();
            o.amount_total_wire = None;
        }
        if !total.is_zero() {
            let id = self.insert_line(order_id, CHAIR_PRODUCT_ID, Decimal::ONE, total, None);
            self.lines.get_mut(&id).unwrap().tax_percent = Decimal::ZERO;
        }
        self.touch(order_id);
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
        fields::catalogue(self.version)
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
            _ => self.users.iter().map(|u| u.id).collect(),
        }
    }

    fn exists(&self, model: &str, id: i64) -> bool {
        match model {
            "sale.order" => self.orders.contains_key(&id),
            "sale.order.line" => self.lines.contains_key(&id),
            "res.partner" => self.partners.contains_key(&id),
            "product.product" => self.products.contains_key(&id),
            _ => self.user(id).is_some(),
        }
    }

    fn partner_pair(&self, id: i64) -> Value {
        match self.partners.get(&id) {
            Some(p) => Value::Array(vec![Value::Int(id), Value::str(&p.name)]),
            None => Value::Bool(false),
        }
    }

    /// One field of one record, as Odoo would serialize it; `None` for an unknown field.
    pub fn field(&self, model: &str, id: i64, field: &str) -> Option<Value> {
        let opt = |s: &Option<String>| s.as_ref().map_or(Value::Bool(false), Value::str);
        let dt = |t: &DateTime<Utc>| Value::str(format_odoo_datetime(*t));
        let usd = || Value::Array(vec![Value::Int(1), Value::str("USD")]);
        let pair = |i: i64, n: &str| Value::Array(vec![Value::Int(i), Value::str(n)]);
        if field == "id" {
            return Some(Value::Int(id));
        }
        match model {
            "sale.order" => {
                let o = self.orders.get(&id)?;
                let amounts = || self.amounts(o);
                Some(match field {
                    "name" | "display_name" => Value::str(&o.name),
                    "partner_id" => self.partner_pair(o.partner_id),
                    "amount_total" => match &o.amount_total_wire {
                        Some(w) => Value::Double(w.clone()),
                        None => Value::decimal(amounts().2),
                    },
                    "amount_untaxed" => Value::decimal(amounts().0),
                    "amount_tax" => Value::decimal(amounts().1),
                    "state" => Value::str(&o.state),
                    "client_order_ref" => opt(&o.client_order_ref),
                    "origin" => opt(&o.origin),
                    "note" => opt(&o.note),
                    "date_order" => dt(&o.date_order),
                    "create_date" => dt(&o.create_date),
                    "write_date" => dt(&o.write_date),
                    "currency_id" => usd(),
                    "order_line" => Value::ints(&o.line_ids),
                    "company_id" => pair(1, "YourCompany"),
                    "user_id" => pair(2, "Mitchell Admin"),
                    "pricelist_id" | "commitment_date" => Value::Bool(false),
                    "validity_date" => Value::str(
                        (o.create_date + Duration::days(31))
                            .format("%Y-%m-%d")
                            .to_string(),
                    ),
                    "locked" => Value::Bool(o.locked),
                    "invoice_status" => Value::str("no"),
                    "partner_invoice_id" | "partner_shipping_id" => self.partner_pair(o.partner_id),
                    "tag_ids" => Value::Array(vec![]),
                    _ => return None,
                })
            }
            "sale.order.line" => {
                let l = self.lines.get(&id)?;
                let p = self.products.get(&l.product_id);
                let o = self.orders.get(&l.order_id);
                Some(match field {
                    "order_id" => pair(l.order_id, o.map_or("", |o| o.name.as_str())),
                    "product_id" => pair(
                        l.product_id,
                        &p.map(Product::display_name).unwrap_or_default(),
                    ),
                    // A line's description: the product's name, then its sales description.
                    "name" | "display_name" => Value::str(p.map_or(String::new(), |p| {
                        if p.description.is_empty() {
                            p.display_name()
                        } else {
                            format!("{}\n{}", p.display_name(), p.description)
                        }
                    })),
                    "product_uom_qty" => Value::decimal(l.qty),
                    "product_uom_id" | "product_uom" => pair(1, "Units"),
                    "price_unit" => Value::decimal(l.price_unit),
                    "discount" => Value::decimal(l.discount),
                    "tax_ids" | "tax_id" => {
                        if l.tax_percent.is_zero() {
                            Value::Array(vec![])
                        } else {
                            Value::ints(&[1])
                        }
                    }
                    "price_subtotal" => Value::decimal(l.subtotal()),
                    "price_tax" => Value::decimal(l.tax()),
                    "price_total" => Value::decimal(l.subtotal() + l.tax()),
                    "currency_id" => usd(),
                    "state" => Value::str(o.map_or("draft", |o| o.state.as_str())),
                    "display_type" => Value::Bool(false),
                    "sequence" => Value::Int(10),
                    _ => return None,
                })
            }
            "res.partner" => {
                let p = self.partners.get(&id)?;
                Some(match field {
                    "name" | "display_name" => Value::str(&p.name),
                    "email" => opt(&p.email),
                    "active" => Value::Bool(true),
                    "type" => Value::str("contact"),
                    "lang" => Value::str("en_US"),
                    "parent_id" => p
                        .parent_id
                        .map_or(Value::Bool(false), |pid| self.partner_pair(pid)),
                    _ => return None,
                })
            }
            "product.product" => {
                let p = self.products.get(&id)?;
                Some(match field {
                    "name" => Value::str(&p.name),
                    "display_name" => Value::str(p.display_name()),
                    "default_code" => Value::str(&p.default_code),
                    "list_price" => Value::decimal(p.list_price),
                    "taxes_id" => Value::ints(&[1, 17]),
                    "uom_id" => pair(1, "Units"),
                    "type" => Value::str("consu"),
                    "sale_ok" => Value::Bool(true),
                    _ => return None,
                })
            }
            _ => {
                let u = self.user(id)?;
                Some(match field {
                    "login" => Value::str(&u.login),
                    "name" | "display_name" => Value::str(&u.name),
                    _ => return None,
                })
            }
        }
    }

    fn check_model_access(&self, uid: i64, model: &str) -> Result<(), Exc> {
        let needs_sales = model.starts_with("sale.");
        if needs_sales && !self.user(uid).is_some_and(|u| u.sales_rights) {
            return Err(Exc::AccessError(format!(
                "You are not allowed to access '{}' ({model}) records.\n\nThis operation is allowed for the following groups:\n\t- Accounting/Invoicing\n\t- Sales/Administrator\n\t- Sales/User: Own Documents Only\n\t- Role / Portal\n\t- Show Accounting Features - Readonly\n\t- Show Full Accounting Features\n\nContact your administrator to request access if necessary.",
                model_label(model)
            )));
        }
        Ok(())
    }

    fn read_rows(&self, model: &str, ids: &[i64], fields: Option<&[String]>) -> Result<Value, Exc> {
        let known = self.fields(model);
        let wanted: Vec<&str> = match fields {
            Some(f) if !f.is_empty() => f.iter().map(String::as_str).collect(),
            _ => known.all().iter().map(|f| f.name.as_str()).collect(),
        };
        for f in &wanted {
            if !known.contains(f) {
                return Err(Exc::ValueError(format!(
                    "Invalid field '{f}' on model '{model}'"
                )));
            }
        }
        let mut rows = Vec::new();
        for &id in ids {
            if !self.exists(model, id) {
                continue; // read of a missing id leaves it out, without error
            }
            let mut rec = vec![("id".to_string(), Value::Int(id))];
            for f in wanted.iter().filter(|f| **f != "id") {
                rec.push(((*f).to_string(), self.value(model, id, f)));
            }
            rows.push(Value::Struct(rec));
        }
        Ok(Value::Array(rows))
    }

    fn search_ids(
        &self,
        model: &str,
        dom: &Value,
        offset: i64,
        limit: Option<i64>,
        order: Option<&str>,
    ) -> Result<Vec<i64>, Exc> {
        let fields = self.fields(model);
        let known = |f: &str| fields.contains(f);
        let compiled = domain::compile(model, dom, &known)?;
        // `id in [...]` is how batches are read: look the ids up instead of scanning.
        let candidates = match compiled.id_filter() {
            Some(wanted) => wanted
                .into_iter()
                .filter(|id| self.exists(model, *id))
                .collect(),
            None => self.all_ids(model),
        };
        let mut ids: Vec<i64> = Vec::new();
        for id in candidates {
            if compiled.matches(&|f| self.value(model, id, f))? {
                ids.push(id);
            }
        }
        let default_order = if model == "sale.order" {
            "date_order desc, id desc"
        } else {
            "id"
        };
        let order = order.unwrap_or(default_order);
        domain::sort(&mut ids, order, &|id, f| self.value(model, id, f), &known)?;
        let start = offset.max(0) as usize;
        let it = ids.into_iter().skip(start);
        Ok(match limit {
            Some(l) if l > 0 => it.take(l as usize).collect(),
            _ => it.collect(),
        })
    }

    /// Runs `model.method` for `uid` with bound arguments.
    pub fn call(
        &mut self,
        uid: i64,
        model: &str,
        method: &str,
        ids: Option<Vec<i64>>,
        args: &super::Args,
    ) -> Result<Value, Exc> {
        if !MODELS.contains(&model) {
            return Err(Exc::UnknownModel(model.to_string()));
        }
        if method.starts_with('_') {
            return Err(Exc::PrivateMethod(format!("{model}.{method}")));
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
            "create" => self.create(model, args.get("vals_list").cloned().unwrap_or(Value::Nil)),
            "write" => {
                let vals = args.get("vals").cloned().unwrap_or(Value::Struct(vec![]));
                self.write(model, &ids, &vals)?;
                Ok(Value::Bool(true))
            }
            "unlink" => self.unlink(model, &ids),
            m if model == "sale.order" && m.starts_with("action_") => self.order_action(&ids, m),
            _ => Err(Exc::UnknownMethod(format!("{model}.{method}"))),
        }
    }

    /// `fields_get(allfields, attributes)` from the version's real field list.
    fn fields_get(&self, model: &str, args: &super::Args) -> Result<Value, Exc> {
        let fields = self.fields(model);
        let wanted = args.strings("allfields")?.filter(|f| !f.is_empty());
        let attributes = args.strings("attributes")?;
        // Odoo answers in the model's field order and leaves out unknown names.
        let described = fields
            .all()
            .iter()
            .filter(|f| wanted.as_ref().is_none_or(|w| w.contains(&f.name)))
            .map(|f| (f.name.clone(), f.describe(attributes.as_deref())))
            .collect();
        Ok(Value::Struct(described))
    }

    fn create(&mut self, model: &str, vals_list: Value) -> Result<Value, Exc> {
        let (list, single) = match vals_list {
            Value::Array(a) => (a, false),
            v @ Value::Struct(_) => (vec![v], true),
            other => {
                return Err(Exc::TypeError(format!(
                    "create() expects a list of dicts, got {}",
                    other.describe()
                )));
            }
        };
        // Validate everything before changing anything: one create is one transaction.
        let mut staged = self.clone();
        let mut ids = Vec::new();
        for vals in &list {
            ids.push(staged.create_one(model, vals)?);
        }
        *self = staged;
        Ok(if single {
            Value::Int(ids[0])
        } else {
            Value::ints(&ids)
        })
    }

    fn create_one(&mut self, model: &str, vals: &Value) -> Result<i64, Exc> {
        let Value::Struct(members) = vals else {
            return Err(Exc::TypeError("vals must be a dict".into()));
        };
        self.check_fields(model, members)?;
        let get = |k: &str| vals.get(k);
        match model {
            "res.partner" => {
                let name = get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                if name.is_empty() {
                    return Err(missing_required("Name", "name", "Contact", "res.partner"));
                }
                let id = self.next_partner;
                self.next_partner += 1;
                self.partners.insert(
                    id,
                    Partner {
                        id,
                        name,
                        email: get("email").and_then(Value::as_str).map(str::to_string),
                        parent_id: get("parent_id").and_then(Value::as_i64),
                    },
                );
                Ok(id)
            }
            "sale.order" => {
                let Some(partner) = get("partner_id").and_then(Value::as_i64) else {
                    return Err(missing_required(
                        "Customer",
                        "partner_id",
                        "Sales Order",
                        "sale.order",
                    ));
                };
                if !self.partners.contains_key(&partner) {
                    return Err(Exc::MissingError(format!(
                        "Record does not exist or has been deleted.\n(Record: res.partner({partner},), User: 2)"
                    )));
                }
                let id = self.insert_order(partner, self.now());
                let o = self.orders.get_mut(&id).unwrap();
                o.client_order_ref = str_or_false(get("client_order_ref"));
                o.origin = str_or_false(get("origin"));
                o.note = str_or_false(get("note"));
                if let Some(lines) = get("order_line") {
                    self.apply_line_commands(id, lines)?;
                }
                Ok(id)
            }
            "sale.order.line" => {
                let order = get("order_id").and_then(Value::as_i64).unwrap_or(0);
                if !self.orders.contains_key(&order) {
                    return Err(missing_required(
                        "Order Reference",
                        "order_id",
                        "Sales Order Line",
                        "sale.order.line",
                    ));
                }
                self.create_line(order, vals)
            }
            _ => Err(Exc::AccessError(format!(
                "You are not allowed to create '{}' ({model}) records.",
                model_label(model)
            ))),
        }
    }

    fn create_line(&mut self, order_id: i64, vals: &Value) -> Result<i64, Exc> {
        let product = vals.get("product_id").and_then(Value::as_i64).unwrap_or(0);
        let Some(p) = self.products.get(&product) else {
            return Err(Exc::MissingError(format!(
                "Record does not exist or has been deleted.\n(Record: product.product({product},), User: 2)"
            )));
        };
        let list_price = p.list_price;
        let qty = num(vals.get("product_uom_qty"))?.unwrap_or(Decimal::ONE);
        let price = num(vals.get("price_unit"))?.unwrap_or(list_price);
        let discount = num(vals.get("discount"))?;
        let taxes = self.line_taxes(vals)?;
        self.check_fields("sale.order.line", vals_members(vals))?;
        let id = self.insert_line(order_id, product, qty, price, discount);
        if let Some(t) = taxes {
            self.lines.get_mut(&id).unwrap().tax_percent = t;
        }
        self.touch(order_id);
        Ok(id)
    }

    /// x2many commands on order_line: (0, 0, vals) create, (1, id, vals) update, (2, id) delete.
    fn apply_line_commands(&mut self, order_id: i64, cmds: &Value) -> Result<(), Exc> {
        for cmd in cmds.as_array().unwrap_or(&[]) {
            let parts = cmd.as_array().unwrap_or(&[]);
            match (
                parts.first().and_then(Value::as_i64),
                parts.get(1).and_then(Value::as_i64),
            ) {
                (Some(0), _) => {
                    self.create_line(order_id, parts.get(2).unwrap_or(&Value::Nil))?;
                }
                (Some(1), Some(line)) => {
                    self.write_line(line, parts.get(2).unwrap_or(&Value::Nil))?
                }
                (Some(2), Some(line)) => {
                    self.lines.remove(&line);
                    if let Some(o) = self.orders.get_mut(&order_id) {
                        o.line_ids.retain(|l| *l != line);
                    }
                }
                _ => {
                    return Err(Exc::ValueError(format!(
                        "Invalid command {}",
                        cmd.describe()
                    )));
                }
            }
        }
        self.touch(order_id);
        Ok(())
    }

    /// The tax rate set by the version's taxes field (`tax_ids` / `tax_id`) as `(6, 0, ids)`:
    /// no ids, no tax; else the demo's 15 %.
    fn line_taxes(&self, vals: &Value) -> Result<Option<Decimal>, Exc> {
        let field = if self.version >= 19 {
            "tax_ids"
        } else {
            "tax_id"
        };
        let Some(cmds) = vals.get(field) else {
            return Ok(None);
        };
        let mut rate = None;
        for cmd in cmds.as_array().unwrap_or(&[]) {
            match cmd.as_array().unwrap_or(&[]) {
                [Value::Int(6), _, ids] => {
                    let none = ids.as_array().is_none_or(<[Value]>::is_empty);
                    rate = Some(if none {
                        Decimal::ZERO
                    } else {
                        Decimal::from(15)
                    });
                }
                [Value::Int(5), ..] => rate = Some(Decimal::ZERO),
                _ => {
                    return Err(Exc::ValueError(format!(
                        "Invalid command {}",
                        cmd.describe()
                    )));
                }
            }
        }
        Ok(rate)
    }

    fn write_line(&mut self, line_id: i64, vals: &Value) -> Result<(), Exc> {
        self.check_fields("sale.order.line", vals_members(vals))?;
        let taxes = self.line_taxes(vals)?;
        let qty = num(vals.get("product_uom_qty"))?;
        let price = num(vals.get("price_unit"))?;
        let discount = num(vals.get("discount"))?;
        let l = self
            .lines
            .get_mut(&line_id)
            .ok_or_else(|| missing("sale.order.line", line_id))?;
        if let Some(q) = qty {
            l.qty = q;
        }
        if let Some(p) = price {
            l.price_unit = p;
        }
        if let Some(d) = discount {
            l.discount = d;
        }
        if let Some(t) = taxes {
            l.tax_percent = t;
        }
        let order = l.order_id;
        if let Some(o) = self.orders.get_mut(&order) {
            o.amount_total_wire = None;
        }
        self.touch(order);
        Ok(())
    }

    /// Values may name any real field of the model; anything else is Odoo's ValueError.
    fn check_fields(&self, model: &str, members: &[(String, Value)]) -> Result<(), Exc> {
        let known = self.fields(model);
        match members.iter().find(|(k, _)| !known.contains(k)) {
            Some((k, _)) => Err(Exc::ValueError(format!("Invalid field '{k}' in '{model}'"))),
            None => Ok(()),
        }
    }

    fn write(&mut self, model: &str, ids: &[i64], vals: &Value) -> Result<(), Exc> {
        let Value::Struct(members) = vals else {
            return Err(Exc::TypeError("vals must be a dict".into()));
        };
        self.check_fields(model, members)?;
        for &id in ids {
            if !self.exists(model, id) {
                return Err(missing(model, id));
            }
        }
        let mut staged = self.clone();
        for &id in ids {
            match model {
                "sale.order" => {
                    for (k, v) in members {
                        match k.as_str() {
                            "state" => {
                                let s = v.as_str().unwrap_or("");
                                if !["draft", "sent", "sale", "cancel"].contains(&s) {
                                    return Err(Exc::ValueError(format!(
                                        "Wrong value for sale.order.state: '{s}'"
                                    )));
                                }
                                staged.orders.get_mut(&id).unwrap().state = s.to_string();
                            }
                            "client_order_ref" => {
                                staged.orders.get_mut(&id).unwrap().client_order_ref =
                                    str_or_false(Some(v))
                            }
                            "origin" => {
                                staged.orders.get_mut(&id).unwrap().origin = str_or_false(Some(v))
                            }
                            "note" => {
                                staged.orders.get_mut(&id).unwrap().note = str_or_false(Some(v))
                            }
                            "partner_id" => {
                                let p = v.as_i64().unwrap_or(0);
                                if !staged.partners.contains_key(&p) {
                                    return Err(missing("res.partner", p));
                                }
                                staged.orders.get_mut(&id).unwrap().partner_id = p;
                            }
                            "order_line" => staged.apply_line_commands(id, v)?,
                            _ => {}
                        }
                    }
                    staged.touch(id);
                }
                "sale.order.line" => staged.write_line(id, vals)?,
                "res.partner" => {
                    for (k, v) in members {
                        let p = staged.partners.get_mut(&id).unwrap();
                        match k.as_str() {
                            "name" => p.name = v.as_str().unwrap_or("").to_string(),
                            "email" => p.email = str_or_false(Some(v)),
                            "parent_id" => {
                                let parent = v.as_i64();
                                if parent == Some(id) {
                                    return Err(Exc::ValidationError(
                                        "You cannot create recursive Partner hierarchies.".into(),
                                    ));
                                }
                                p.parent_id = parent;
                            }
                            _ => {}
                        }
                    }
                }
                _ => {
                    return Err(Exc::AccessError(format!(
                        "You are not allowed to modify '{}' ({model}) records.",
                        model_label(model)
                    )));
                }
            }
        }
        *self = staged;
        Ok(())
    }

    fn unlink(&mut self, model: &str, ids: &[i64]) -> Result<Value, Exc> {
        if model != "sale.order" {
            return Err(Exc::AccessError(format!(
                "You are not allowed to delete '{}' ({model}) records.",
                model_label(model)
            )));
        }
        for &id in ids {
            let o = self.orders.get(&id).ok_or_else(|| missing(model, id))?;
            if o.state == "sale" || o.state == "sent" {
                return Err(Exc::UserError(
                    "You can not delete a sent quotation or a confirmed sales order. You must first cancel it.".into(),
                ));
            }
        }
        for &id in ids {
            if let Some(o) = self.orders.remove(&id) {
                for l in o.line_ids {
                    self.lines.remove(&l);
                }
            }
        }
        Ok(Value::Bool(true))
    }

    fn order_action(&mut self, ids: &[i64], action: &str) -> Result<Value, Exc> {
        let now = self.now();
        for &id in ids {
            if !self.orders.contains_key(&id) {
                return Err(missing("sale.order", id));
            }
        }
        for &id in ids {
            let o = self.orders.get_mut(&id).unwrap();
            match action {
                "action_confirm" => {
                    if !["draft", "sent"].contains(&o.state.as_str()) {
                        return Err(Exc::UserError(
                            "Some orders are not in a state requiring confirmation.".into(),
                        ));
                    }
                    o.state = "sale".into();
                }
                "action_quotation_sent" => o.state = "sent".into(),
                "action_cancel" => {
                    if o.locked {
                        return Err(Exc::UserError(
                            "You cannot cancel a locked order. Please unlock it first.".into(),
                        ));
                    }
                    o.state = "cancel".into();
                }
                "action_draft" => o.state = "draft".into(),
                "action_lock" => o.locked = true,
                "action_unlock" => o.locked = false,
                _ => return Err(Exc::UnknownMethod(format!("sale.order.{action}"))),
            }
            o.write_date = now;
        }
        Ok(match action {
            // These return None in Odoo: XML-RPC cannot marshal it, JSON sends null.
            "action_lock" | "action_unlock" => Value::Nil,
            _ => Value::Bool(true),
        })
    }

    /// Test hook: the id the next sale.order will get (ids only grow).
    pub fn set_next_order_id(&mut self, id: i64) {
        self.next_order = self.next_order.max(id);
        self.next_order_seq = self.next_order_seq.max(id);
    }

    /// The order ids, for tests.
    pub fn order_ids(&self) -> Vec<i64> {
        self.orders.keys().copied().collect()
    }

    /// Test hook: the name the next sale.order will get.
    pub fn next_order_name(&self) -> String {
        format!("S{:05}", self.next_order_seq)
    }

    /// Test hook: the number in the next sale.order's name (names and ids drift apart in a
    /// real database).
    pub fn set_next_order_seq(&mut self, seq: i64) {
        self.next_order_seq = seq;
    }

    /// The time writes are stamped with.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.unwrap_or_else(Utc::now)
    }

    /// Test hook: stops the clock at `t` (a replay sets the recorded server's time).
    pub fn set_clock(&mut self, t: DateTime<Utc>) {
        self.clock = Some(t);
    }

    /// Test hook: the id the next res.partner will get.
    pub fn set_next_partner_id(&mut self, id: i64) {
        self.next_partner = self.next_partner.max(id);
    }

    /// Test hook: the id the next sale.order.line will get.
    pub fn set_next_line_id(&mut self, id: i64) {
        self.next_line = self.next_line.max(id);
    }

    /// Test hook: a saleable product, as staff would add one.
    pub fn add_product(&mut self, id: i64, name: &str, list_price: Decimal) {
        self.products.insert(
            id,
            Product {
                id,
                name: name.into(),
                default_code: format!("P{id}"),
                list_price,
                tax_percent: Decimal::from(15),
                description: String::new(),
            },
        );
    }
}

/// Rounds half away from zero, as Odoo's `float_round` does for money.
fn round_to(amount: Decimal, decimals: u32) -> Decimal {
    amount.round_dp_with_strategy(decimals, RoundingStrategy::MidpointAwayFromZero)
}

fn num(v: Option<&Value>) -> Result<Option<Decimal>, Exc> {
    match v {
        None | Some(Value::Bool(false)) | Some(Value::Nil) => Ok(None),
        Some(Value::Int(i)) => Ok(Some(Decimal::from(*i))),
        Some(Value::Double(s)) => number::decimal(s)
            .map(Some)
            .map_err(|_| Exc::ValueError(format!("could not convert string to float: '{s}'"))),
        Some(other) => Err(Exc::ValueError(format!(
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

fn missing(model: &str, id: i64) -> Exc {
    Exc::MissingError(format!(
        "Record does not exist or has been deleted.\n(Record: {model}({id},), User: 2)"
    ))
}

fn missing_required(label: &str, field: &str, model_label: &str, model: &str) -> Exc {
    Exc::ValidationError(format!(
        "The operation cannot be completed: Missing required value for the field '{label}' ({field}).\nModel: '{model_label}' ({model})\n- create/update: a mandatory field is not set\n- delete: another model requires the record being deleted, you can archive it instead\n"
    ))
}

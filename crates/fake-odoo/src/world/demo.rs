//! The demo data the fake starts with, and the hooks tests use to act as Odoo's staff
//! (change a price, stop the clock, move the id sequences).

use super::*;

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
                    settings_rights: true,
                },
                User {
                    id: SALESMAN_UID,
                    login: SALESMAN_LOGIN.into(),
                    name: "Marc Demo".into(),
                    password: SALESMAN_PASSWORD.into(),
                    api_key: SALESMAN_API_KEY.into(),
                    sales_rights: true,
                    settings_rights: false,
                },
                User {
                    id: NOSALES_UID,
                    login: NOSALES_LOGIN.into(),
                    name: "No Sales".into(),
                    password: NOSALES_PASSWORD.into(),
                    api_key: NOSALES_API_KEY.into(),
                    sales_rights: false,
                    settings_rights: false,
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
            base_automation: true,
            actions: BTreeMap::new(),
            automations: BTreeMap::new(),
            // Where the recorded server's sequences stood (captures-2 027, 028).
            next_action: 353,
            next_automation: 2,
            outbox: Vec::new(),
            books: Books::default(),
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
                storable: false,
                qty_available: Decimal::ZERO,
                free_qty: Decimal::ZERO,
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
                storable: false,
                qty_available: Decimal::ZERO,
                free_qty: Decimal::ZERO,
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
        // Odoo's demo database has 44 lines on its 20 demo orders: new lines start at 45, as there.
        w.next_line = w.next_line.max(45);
        w
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

    /// Test hook: the id the next sale.order will get (ids only grow).
    /// A new draft order of `partner_id` with one untaxed line of `total`, as staff would
    /// enter it; returns its id.
    pub fn add_order(&mut self, partner_id: i64, total: Decimal) -> i64 {
        let now = self.now();
        let id = self.insert_order(partner_id, now);
        self.set_order_total(id, total);
        id
    }

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
                storable: false,
                qty_available: Decimal::ZERO,
                free_qty: Decimal::ZERO,
            },
        );
    }

    /// Test hook: where the ids of new server actions and automation rules start.
    pub fn set_next_automation_ids(&mut self, action: i64, rule: i64) {
        self.next_action = action;
        self.next_automation = rule;
    }

    /// Test hook: how much of a product deliveries may still reserve (the rest is held
    /// by other moves).
    pub fn set_free_qty(&mut self, product_id: i64, free: Decimal) {
        if let Some(p) = self.products.get_mut(&product_id) {
            p.free_qty = free;
        }
    }

    /// Test hook: a product's sales tax (percent; 0 for none).
    pub fn set_product_tax(&mut self, product_id: i64, percent: Decimal) {
        if let Some(p) = self.products.get_mut(&product_id) {
            p.tax_percent = percent;
        }
    }

    /// Test hook: staff add a product line to an order (as the order form does).
    pub fn add_line(&mut self, order_id: i64, product_id: i64, qty: Decimal) -> i64 {
        let vals = Value::object([
            ("product_id", Value::Int(product_id)),
            ("product_uom_qty", Value::decimal(qty)),
        ]);
        self.create_line(order_id, &vals)
            .expect("a known order and product")
    }

    /// Test hook: staff add a section (or, with `note`, a note) to an order.
    pub fn add_text_line(&mut self, order_id: i64, text: &str, note: bool) -> i64 {
        let kind = if note { "line_note" } else { "line_section" };
        let vals = Value::object([
            ("display_type", Value::str(kind)),
            ("name", Value::str(text)),
        ]);
        self.create_line(order_id, &vals).expect("a known order")
    }

    /// Test hook: staff confirm an order (with Inventory, its delivery is made).
    pub fn confirm(&mut self, order_id: i64) {
        self.order_action(&[order_id], "action_confirm", &Args::default())
            .expect("a quotation");
        self.make_delivery(order_id);
    }

    /// Test hook: staff cancel an order (Odoo 19's way, whatever was delivered).
    pub fn cancel(&mut self, order_id: i64) {
        let quiet = Args(vec![(
            "context".into(),
            Value::object([("disable_cancel_warning", Value::Bool(true))]),
        )]);
        self.order_action(&[order_id], "action_cancel", &quiet)
            .expect("an order that can be cancelled");
    }

    /// Test hook: an order's `write_date`.
    pub fn order_write_date(&self, order_id: i64) -> Option<DateTime<Utc>> {
        self.orders.get(&order_id).map(|o| o.write_date)
    }

    /// Test hook: staff lock an order (Odoo 17+).
    pub fn lock(&mut self, order_id: i64) {
        if let Some(o) = self.orders.get_mut(&order_id) {
            o.locked = true;
        }
    }

    /// Test hook: staff edit an order's note in Odoo.
    pub fn set_note(&mut self, order_id: i64, note: &str) {
        if let Some(o) = self.orders.get_mut(&order_id) {
            o.note = Some(note.to_string());
        }
        self.touch(order_id);
    }

    /// Test hook: a partner staff made.
    pub fn add_partner(&mut self, id: i64, name: &str) {
        self.partners.insert(
            id,
            Partner {
                id,
                name: name.into(),
                email: None,
                parent_id: None,
            },
        );
    }

    /// Test hook: storable goods with stock on hand (invoiced on delivered quantities).
    pub fn add_goods(
        &mut self,
        id: i64,
        (code, name, description): (&str, &str, &str),
        list_price: Decimal,
        on_hand: Decimal,
    ) {
        self.products.insert(
            id,
            Product {
                id,
                name: name.into(),
                default_code: code.into(),
                list_price,
                tax_percent: Decimal::from(15),
                description: description.into(),
                storable: true,
                qty_available: on_hand,
                free_qty: on_hand,
            },
        );
    }
}

//! Delivery, invoicing and payment, as Odoo 19 with Inventory (`sale_stock`) does them
//! (captures-3): a confirmed order's delivery picking and its moves, validation with the
//! backorder wizard, invoices made by `sale.advance.payment.inv`, posted, and paid through
//! `account.payment.register`; and what the order reads from all that (`delivery_status`,
//! `invoice_status`, `amount_invoiced`, `amount_to_invoice`, the lines' `qty_delivered`,
//! `qty_invoiced`, `qty_to_invoice`).

use super::*;

/// The stock, accounting and wizard models this module serves.
pub(crate) const MODELS: &[&str] = &[
    "stock.picking",
    "stock.move",
    "account.move",
    "stock.backorder.confirmation",
    "sale.advance.payment.inv",
    "account.payment.register",
    "sale.order.cancel",
];

#[derive(Debug, Clone)]
pub struct Picking {
    pub id: i64,
    pub name: String,
    pub order_id: i64,
    pub state: String,
    pub backorder_id: Option<i64>,
    pub scheduled: DateTime<Utc>,
    pub date_done: Option<DateTime<Utc>>,
    pub move_ids: Vec<i64>,
}

#[derive(Debug, Clone)]
pub struct StockMove {
    pub id: i64,
    pub picking_id: i64,
    pub sale_line_id: i64,
    pub product_id: i64,
    /// `product_uom_qty`: the demand.
    pub demand: Decimal,
    /// What will be (or was) delivered.
    pub quantity: Decimal,
    pub picked: bool,
    pub state: String,
}

#[derive(Debug, Clone)]
pub struct InvoiceLine {
    pub id: i64,
    pub sale_line_id: i64,
    pub qty: Decimal,
}

#[derive(Debug, Clone)]
pub struct Invoice {
    pub id: i64,
    /// `false` until posted.
    pub name: Option<String>,
    pub order_id: i64,
    /// `draft`, `posted`, `cancel`.
    pub state: String,
    /// `not_paid`, `paid` (and, as Odoo has them, `partial`, `reversed`, `in_payment`).
    pub payment_state: String,
    pub lines: Vec<InvoiceLine>,
    pub paid: Decimal,
    pub create_date: DateTime<Utc>,
    pub write_date: DateTime<Utc>,
}

#[derive(Debug, Clone)]
enum Wizard {
    /// Odoo 18's `sale.order.cancel`.
    CancelOrder {
        order_id: i64,
    },
    Backorder {
        pick_ids: Vec<i64>,
        line_id: i64,
    },
    AdvanceInvoice {
        method: String,
    },
    PaymentRegister {
        invoice_ids: Vec<i64>,
    },
}

/// The stock and accounting records of the fake, with their id sequences.
#[derive(Debug, Clone)]
pub struct Books {
    /// Inventory (`sale_stock`) is installed: confirmed orders get a delivery.
    pub inventory: bool,
    pub pickings: BTreeMap<i64, Picking>,
    pub moves: BTreeMap<i64, StockMove>,
    pub invoices: BTreeMap<i64, Invoice>,
    wizards: BTreeMap<(String, i64), Wizard>,
    next_picking: i64,
    next_picking_seq: i64,
    next_move: i64,
    next_invoice: i64,
    next_invoice_seq: i64,
    next_invoice_line: i64,
    next_wizard: BTreeMap<String, i64>,
    next_payment: i64,
}

impl Default for Books {
    fn default() -> Books {
        Books {
            inventory: false,
            pickings: BTreeMap::new(),
            moves: BTreeMap::new(),
            invoices: BTreeMap::new(),
            wizards: BTreeMap::new(),
            next_picking: 1,
            next_picking_seq: 1,
            next_move: 1,
            next_invoice: 1,
            next_invoice_seq: 1,
            next_invoice_line: 1,
            next_wizard: BTreeMap::new(),
            next_payment: 1,
        }
    }
}

/// Where a recorded server's sequences stood, for a replay.
#[derive(Debug, Clone, Copy)]
pub struct Sequences {
    pub picking: i64,
    pub picking_seq: i64,
    pub stock_move: i64,
    pub invoice: i64,
    pub invoice_seq: i64,
    pub invoice_line: i64,
    pub wizard: i64,
    pub payment: i64,
}

/// The action `button_validate` returns when some quantity is short (captures-3 017;
/// 18/014 has another view id).
fn backorder_action(picking_ids: &[i64], version: u32) -> Value {
    let view = if version >= 19 { 1058 } else { 1043 };
    Value::object([
        ("name", Value::str("Create Backorder?")),
        ("type", Value::str("ir.actions.act_window")),
        ("view_mode", Value::str("form")),
        ("res_model", Value::str("stock.backorder.confirmation")),
        (
            "views",
            Value::Array(vec![Value::Array(vec![
                Value::Int(view),
                Value::str("form"),
            ])]),
        ),
        ("view_id", Value::Int(view)),
        ("target", Value::str("new")),
        (
            "context",
            Value::object([
                ("button_validate_picking_ids", Value::ints(picking_ids)),
                ("default_show_transfers", Value::Bool(false)),
                (
                    "default_pick_ids",
                    Value::Array(
                        picking_ids
                            .iter()
                            .map(|id| Value::Array(vec![Value::Int(4), Value::Int(*id)]))
                            .collect(),
                    ),
                ),
            ]),
        ),
    ])
}

/// The window action `create_invoices` answers with (captures-3 027; 18/020 has other ids
/// and keys). Its `null` is what XML-RPC cannot marshal.
fn invoices_action(version: u32, partner: i64, origin: &str, made: Option<i64>) -> Value {
    let new = version >= 19;
    let (action, list, form, search) = if new {
        (260, 731, 737, 740)
    } else {
        (261, 703, 710, 713)
    };
    let domain = if new {
        "[('move_type', 'in', ['out_invoice', 'out_refund', 'out_receipt'])]"
    } else {
        "[('move_type', 'in', ['out_invoice', 'out_refund'])]"
    };
    let mut a = vec![
        ("id", Value::Int(action)),
        ("display_name", Value::str("Invoices")),
        ("name", Value::str("Invoices")),
        ("type", Value::str("ir.actions.act_window")),
        ("xml_id", Value::str("account.action_move_out_invoice_type")),
        ("path", Value::str("invoicing")),
        (
            "help",
            Value::str(
                "<p class=\"o_view_nocontent_smiling_face\">\n                Create a customer invoice\n              </p><p>\n                Create invoices, register payments and keep track of the discussions with your customers.\n              </p>\n            ",
            ),
        ),
        ("binding_model_id", Value::Bool(false)),
        ("binding_type", Value::str("action")),
        ("binding_view_types", Value::str("list,form")),
        (
            "view_id",
            Value::Array(vec![
                Value::Int(list),
                Value::str("account.out.invoice.list"),
            ]),
        ),
        ("domain", Value::str(domain)),
        (
            "context",
            Value::object([
                ("default_move_type", Value::str("out_invoice")),
                ("default_partner_id", Value::Int(partner)),
                ("default_partner_shipping_id", Value::Int(partner)),
                ("default_invoice_payment_term_id", Value::Nil),
                ("default_invoice_origin", Value::str(origin)),
            ]),
        ),
        ("res_id", made.map_or(Value::Bool(false), Value::Int)),
        ("res_model", Value::str("account.move")),
        ("target", Value::str("current")),
        ("view_mode", Value::str("list,kanban,form,activity")),
        ("mobile_view_mode", Value::str("kanban")),
        (
            "views",
            Value::Array(vec![
                Value::Array(vec![Value::Int(form), Value::str("form")]),
                Value::Array(vec![Value::Int(list), Value::str("list")]),
                Value::Array(vec![Value::Bool(false), Value::str("kanban")]),
                Value::Array(vec![Value::Bool(false), Value::str("activity")]),
            ]),
        ),
        ("limit", Value::Int(80)),
        (
            if new { "group_ids" } else { "groups_id" },
            Value::Array(vec![]),
        ),
        (
            "search_view_id",
            Value::Array(vec![
                Value::Int(search),
                Value::str("account.invoice.select"),
            ]),
        ),
        ("embedded_action_ids", Value::Array(vec![])),
        ("filter", Value::Bool(false)),
    ];
    if new {
        a.push(("cache", Value::Bool(true)));
    }
    Value::object(a)
}

/// The ids a context names (`active_ids`, `button_validate_picking_ids`).
fn context_ids(args: &Args, key: &str) -> Vec<i64> {
    let Some(Value::Struct(ctx)) = args.get("context") else {
        return Vec::new();
    };
    match ctx.iter().find(|(k, _)| k == key).map(|(_, v)| v) {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_i64).collect(),
        Some(Value::Int(i)) => vec![*i],
        _ => Vec::new(),
    }
}

impl World {
    /// Installs or removes Inventory (`sale_stock`): its fields and models come and go.
    pub fn set_inventory(&mut self, installed: bool) {
        self.books.inventory = installed;
    }

    /// Moves the stock and accounting sequences to where a recorded server had them.
    pub fn set_sequences(&mut self, s: Sequences) {
        let b = &mut self.books;
        b.next_picking = s.picking;
        b.next_picking_seq = s.picking_seq;
        b.next_move = s.stock_move;
        b.next_invoice = s.invoice;
        b.next_invoice_seq = s.invoice_seq;
        b.next_invoice_line = s.invoice_line;
        for m in [
            "stock.backorder.confirmation",
            "sale.advance.payment.inv",
            "account.payment.register",
            "sale.order.cancel",
        ] {
            b.next_wizard.insert(m.to_string(), s.wizard);
        }
        b.next_payment = s.payment;
    }

    /// Whether a model is served now: the stock models only with Inventory,
    /// `base.automation` only with Automation Rules.
    pub(super) fn model_installed(&self, model: &str) -> bool {
        match model {
            "base.automation" => self.base_automation,
            "stock.picking" | "stock.move" | "stock.backorder.confirmation" => self.books.inventory,
            _ => true,
        }
    }

    /// `action_confirm` with Inventory: one outgoing picking, a move per product line,
    /// reserved (`assigned`) with its whole demand.
    pub(super) fn make_delivery(&mut self, order_id: i64) {
        if !self.books.inventory {
            return;
        }
        let now = self.now();
        let lines: Vec<Line> = self
            .orders
            .get(&order_id)
            .map(|o| {
                o.line_ids
                    .iter()
                    .filter_map(|id| self.lines.get(id))
                    .filter(|l| l.display_type.is_none())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        if lines.is_empty() {
            return;
        }
        let b = &mut self.books;
        let picking_id = b.next_picking;
        b.next_picking += 1;
        let seq = b.next_picking_seq;
        b.next_picking_seq += 1;
        let mut move_ids = Vec::new();
        for l in lines {
            let id = b.next_move;
            b.next_move += 1;
            // Reserved from what is free of the product; storable goods only.
            let reserved = match self.products.get_mut(&l.product_id) {
                Some(p) if p.storable => {
                    let r = l.qty.min(p.free_qty.max(Decimal::ZERO));
                    p.free_qty -= r;
                    r
                }
                _ => l.qty,
            };
            let state = if reserved == l.qty {
                "assigned"
            } else if reserved.is_zero() {
                "confirmed"
            } else {
                "partially_available"
            };
            b.moves.insert(
                id,
                StockMove {
                    id,
                    picking_id,
                    sale_line_id: l.id,
                    product_id: l.product_id,
                    demand: l.qty,
                    quantity: reserved,
                    picked: false,
                    state: state.into(),
                },
            );
            move_ids.push(id);
        }
        b.pickings.insert(
            picking_id,
            Picking {
                id: picking_id,
                name: format!("WH/OUT/{seq:05}"),
                order_id,
                state: "assigned".into(),
                backorder_id: None,
                scheduled: now,
                date_done: None,
                move_ids,
            },
        );
    }

    /// An order's pickings, the newest first (as `picking_ids` lists them).
    fn pickings_of(&self, order_id: i64) -> Vec<&Picking> {
        let mut p: Vec<&Picking> = self
            .books
            .pickings
            .values()
            .filter(|p| p.order_id == order_id)
            .collect();
        p.sort_by_key(|p| std::cmp::Reverse(p.id));
        p
    }

    fn invoices_of(&self, order_id: i64) -> Vec<&Invoice> {
        self.books
            .invoices
            .values()
            .filter(|i| i.order_id == order_id)
            .collect()
    }

    /// `delivery_status`: none without a live picking; `full` once every picking is done
    /// or cancelled; `partial` when some is done; `started` when some is picked.
    pub(super) fn delivery_status(&self, order_id: i64) -> Value {
        let pickings = self.pickings_of(order_id);
        let live: Vec<&&Picking> = pickings.iter().filter(|p| p.state != "cancel").collect();
        if live.is_empty() {
            return Value::Bool(false);
        }
        if live.iter().all(|p| p.state == "done") {
            return Value::str("full");
        }
        if live.iter().any(|p| p.state == "done") {
            return Value::str("partial");
        }
        let picked = live.iter().any(|p| {
            p.move_ids
                .iter()
                .filter_map(|m| self.books.moves.get(m))
                .any(|m| m.picked)
        });
        Value::str(if picked { "started" } else { "pending" })
    }

    /// `effective_date`: when the first delivery was done.
    pub(super) fn effective_date(&self, order_id: i64) -> Option<DateTime<Utc>> {
        self.pickings_of(order_id)
            .iter()
            .filter_map(|p| p.date_done)
            .min()
    }

    pub(super) fn picking_ids(&self, order_id: i64) -> Value {
        Value::ints(
            &self
                .pickings_of(order_id)
                .iter()
                .map(|p| p.id)
                .collect::<Vec<_>>(),
        )
    }

    pub(super) fn invoice_ids(&self, order_id: i64) -> Value {
        Value::ints(
            &self
                .invoices_of(order_id)
                .iter()
                .map(|i| i.id)
                .collect::<Vec<_>>(),
        )
    }

    /// A line's delivered quantity: its done moves.
    pub(super) fn qty_delivered(&self, line_id: i64) -> Decimal {
        self.books
            .moves
            .values()
            .filter(|m| m.sale_line_id == line_id && m.state == "done")
            .map(|m| m.quantity)
            .sum()
    }

    /// A line's invoiced quantity: its lines on invoices not cancelled (drafts count), or
    /// posted ones only.
    fn qty_invoiced_where(&self, line_id: i64, posted_only: bool) -> Decimal {
        self.books
            .invoices
            .values()
            .filter(|i| i.state != "cancel" && (!posted_only || i.state == "posted"))
            .flat_map(|i| i.lines.iter())
            .filter(|l| l.sale_line_id == line_id)
            .map(|l| l.qty)
            .sum()
    }

    pub(super) fn qty_invoiced(&self, line_id: i64) -> Decimal {
        self.qty_invoiced_where(line_id, false)
    }

    /// Invoice policy "delivered quantities": what was delivered and not yet invoiced, on
    /// a confirmed order.
    pub(super) fn qty_to_invoice(&self, l: &Line) -> Decimal {
        let confirmed = self
            .orders
            .get(&l.order_id)
            .is_some_and(|o| o.state == "sale");
        if !confirmed || l.display_type.is_some() {
            return Decimal::ZERO;
        }
        let on_delivery = self.products.get(&l.product_id).is_some_and(|p| p.storable);
        let basis = if on_delivery {
            self.qty_delivered(l.id)
        } else {
            l.qty
        };
        basis - self.qty_invoiced(l.id)
    }

    /// `invoice_status`: `to invoice` when a line has something to invoice, `invoiced`
    /// when every line is invoiced in full, else `no` (drafts count, as in Odoo).
    pub(super) fn invoice_status(&self, o: &Order) -> &'static str {
        if o.state != "sale" {
            return "no";
        }
        let lines: Vec<&Line> = o
            .line_ids
            .iter()
            .filter_map(|id| self.lines.get(id))
            .filter(|l| l.display_type.is_none())
            .collect();
        if lines.iter().any(|l| !self.qty_to_invoice(l).is_zero()) {
            return "to invoice";
        }
        if !lines.is_empty() && lines.iter().all(|l| self.qty_invoiced(l.id) >= l.qty) {
            return "invoiced";
        }
        "no"
    }

    /// A line's price with tax, per unit's worth of `qty`, rounded as Odoo rounds a total.
    fn amount_for(&self, l: &Line, qty: Decimal) -> Decimal {
        if l.qty.is_zero() {
            return Decimal::ZERO;
        }
        round_to((l.subtotal() + l.tax()) * qty / l.qty, 2)
    }

    /// `amount_invoiced` and `amount_to_invoice`, with tax: posted invoices only.
    pub(super) fn invoice_amounts(&self, o: &Order) -> (Decimal, Decimal) {
        let (mut invoiced, mut to_invoice) = (Decimal::ZERO, Decimal::ZERO);
        for l in o.line_ids.iter().filter_map(|id| self.lines.get(id)) {
            let posted = self.qty_invoiced_where(l.id, true);
            invoiced += self.amount_for(l, posted);
            if o.state == "sale" {
                to_invoice += self.amount_for(l, self.qty_delivered(l.id) - posted);
            }
        }
        (invoiced, to_invoice.max(Decimal::ZERO))
    }

    fn invoice_total(&self, inv: &Invoice) -> (Decimal, Decimal) {
        let (mut untaxed, mut tax) = (Decimal::ZERO, Decimal::ZERO);
        for il in &inv.lines {
            if let Some(l) = self.lines.get(&il.sale_line_id) {
                let sub = round_to(
                    il.qty * l.price_unit * (Decimal::ONE_HUNDRED - l.discount)
                        / Decimal::ONE_HUNDRED,
                    2,
                );
                untaxed += sub;
                tax += round_to(sub * l.tax_percent / Decimal::ONE_HUNDRED, 2);
            }
        }
        (untaxed, tax)
    }

    /// Fields of the stock and accounting models.
    pub(super) fn fulfilment_field(&self, model: &str, id: i64, field: &str) -> Option<Value> {
        let dt = |t: &DateTime<Utc>| Value::str(format_odoo_datetime(*t));
        let pair = |i: i64, n: &str| Value::Array(vec![Value::Int(i), Value::str(n)]);
        match model {
            "stock.picking" => {
                let p = self.books.pickings.get(&id)?;
                let o = self.orders.get(&p.order_id)?;
                Some(match field {
                    "name" | "display_name" => Value::str(&p.name),
                    "state" => Value::str(&p.state),
                    "origin" => Value::str(&o.name),
                    "sale_id" => pair(o.id, &o.name),
                    "partner_id" => self.partner_pair(o.partner_id),
                    "picking_type_code" => Value::str("outgoing"),
                    "scheduled_date" | "date_deadline" => dt(&p.scheduled),
                    "date_done" => p.date_done.as_ref().map_or(Value::Bool(false), dt),
                    "move_ids" => Value::ints(&p.move_ids),
                    "backorder_id" => {
                        match p.backorder_id.and_then(|b| self.books.pickings.get(&b)) {
                            Some(b) => pair(b.id, &b.name),
                            None => Value::Bool(false),
                        }
                    }
                    "backorder_ids" => Value::ints(
                        &self
                            .books
                            .pickings
                            .values()
                            .filter(|b| b.backorder_id == Some(id))
                            .map(|b| b.id)
                            .collect::<Vec<_>>(),
                    ),
                    "location_id" => pair(5, "WH/Stock"),
                    "location_dest_id" => pair(2, "Customers"),
                    _ => return None,
                })
            }
            "stock.move" => {
                let m = self.books.moves.get(&id)?;
                let p = self.books.pickings.get(&m.picking_id)?;
                let product = self.products.get(&m.product_id);
                let product_name = product.map(Product::display_name).unwrap_or_default();
                Some(match field {
                    "picking_id" => pair(p.id, &p.name),
                    "sale_line_id" => {
                        let o = self.orders.get(&p.order_id)?;
                        let partner = self
                            .partners
                            .get(&o.partner_id)
                            .map_or(String::new(), |p| p.name.clone());
                        pair(
                            m.sale_line_id,
                            &format!("{} - {product_name} ({partner})", o.name),
                        )
                    }
                    "product_id" => pair(m.product_id, &product_name),
                    "product_uom_qty" => Value::decimal(m.demand),
                    "product_uom" => pair(1, "Units"),
                    "quantity" => Value::decimal(m.quantity),
                    "picked" => Value::Bool(m.picked),
                    "state" => Value::str(&m.state),
                    "display_name" => Value::str(product_name),
                    _ => return None,
                })
            }
            "account.move" => {
                let inv = self.books.invoices.get(&id)?;
                let o = self.orders.get(&inv.order_id)?;
                let (untaxed, tax) = self.invoice_total(inv);
                let total = untaxed + tax;
                Some(match field {
                    "name" => inv.name.as_ref().map_or(Value::Bool(false), Value::str),
                    "display_name" => Value::str(inv.name.as_deref().unwrap_or("Draft Invoice")),
                    "state" => Value::str(&inv.state),
                    "move_type" => Value::str("out_invoice"),
                    "invoice_origin" => Value::str(&o.name),
                    "amount_untaxed" => Value::decimal(untaxed),
                    "amount_tax" => Value::decimal(tax),
                    "amount_total" => Value::decimal(total),
                    "amount_residual" => Value::decimal(total - inv.paid),
                    "payment_state" => Value::str(&inv.payment_state),
                    "invoice_line_ids" => {
                        Value::ints(&inv.lines.iter().map(|l| l.id).collect::<Vec<_>>())
                    }
                    "partner_id" => self.partner_pair(o.partner_id),
                    "currency_id" => pair(1, "USD"),
                    "create_date" => dt(&inv.create_date),
                    "write_date" => dt(&inv.write_date),
                    _ => return None,
                })
            }
            "stock.backorder.confirmation" => {
                match self.books.wizards.get(&(model.to_string(), id))? {
                    Wizard::Backorder { pick_ids, line_id } => Some(match field {
                        "pick_ids" => Value::ints(pick_ids),
                        "backorder_confirmation_line_ids" => Value::ints(&[*line_id]),
                        "show_transfers" => Value::Bool(false),
                        _ => return None,
                    }),
                    _ => None,
                }
            }
            "sale.order.cancel" => match self.books.wizards.get(&(model.to_string(), id))? {
                Wizard::CancelOrder { order_id } => {
                    let o = self.orders.get(order_id)?;
                    Some(match field {
                        "order_id" => pair(o.id, &o.name),
                        _ => return None,
                    })
                }
                _ => None,
            },
            "sale.advance.payment.inv" => match self.books.wizards.get(&(model.to_string(), id))? {
                Wizard::AdvanceInvoice { method } => Some(match field {
                    "advance_payment_method" => Value::str(method),
                    _ => return None,
                }),
                _ => None,
            },
            "account.payment.register" => match self.books.wizards.get(&(model.to_string(), id))? {
                Wizard::PaymentRegister { invoice_ids } => {
                    let inv = invoice_ids
                        .first()
                        .and_then(|i| self.books.invoices.get(i))?;
                    let (untaxed, tax) = self.invoice_total(inv);
                    Some(match field {
                        "amount" => Value::decimal(untaxed + tax - inv.paid),
                        "currency_id" => pair(1, "USD"),
                        "journal_id" => pair(6, "Bank"),
                        "payment_date" => Value::str(self.now().format("%Y-%m-%d").to_string()),
                        "communication" => inv.name.as_ref().map_or(Value::Bool(false), Value::str),
                        "payment_method_line_id" => pair(1, "Manual Payment (Bank)"),
                        "payment_type" => Value::str("inbound"),
                        _ => return None,
                    })
                }
                _ => None,
            },
            _ => None,
        }
    }

    pub(super) fn fulfilment_ids(&self, model: &str) -> Vec<i64> {
        match model {
            "stock.picking" => self.books.pickings.keys().copied().collect(),
            "stock.move" => self.books.moves.keys().copied().collect(),
            "account.move" => self.books.invoices.keys().copied().collect(),
            _ => self
                .books
                .wizards
                .keys()
                .filter(|(m, _)| m == model)
                .map(|(_, id)| *id)
                .collect(),
        }
    }

    fn new_wizard(&mut self, model: &str, w: Wizard) -> i64 {
        let next = self.books.next_wizard.entry(model.to_string()).or_insert(1);
        let id = *next;
        *next += 1;
        self.books.wizards.insert((model.to_string(), id), w);
        id
    }

    /// `create` of a wizard: its defaults come from the context, as Odoo's do.
    pub(super) fn create_wizard(
        &mut self,
        model: &str,
        vals: &Value,
        args: &Args,
    ) -> Result<Value, Exception> {
        let list = match vals {
            Value::Array(a) => a.clone(),
            v @ Value::Struct(_) => vec![v.clone()],
            _ => vec![],
        };
        let mut ids = Vec::new();
        for v in &list {
            let get = |k: &str| vals_members(v).iter().find(|(n, _)| n == k).map(|(_, x)| x);
            let w = match model {
                "stock.backorder.confirmation" => {
                    let line_id = self.books.next_wizard.get(model).copied().unwrap_or(1);
                    Wizard::Backorder {
                        pick_ids: context_ids(args, "button_validate_picking_ids"),
                        line_id,
                    }
                }
                "sale.order.cancel" => Wizard::CancelOrder {
                    order_id: get("order_id").and_then(Value::as_i64).unwrap_or(0),
                },
                "sale.advance.payment.inv" => Wizard::AdvanceInvoice {
                    method: get("advance_payment_method")
                        .and_then(Value::as_str)
                        .unwrap_or("delivered")
                        .to_string(),
                },
                _ => Wizard::PaymentRegister {
                    invoice_ids: context_ids(args, "active_ids"),
                },
            };
            ids.push(self.new_wizard(model, w));
        }
        Ok(match vals {
            Value::Struct(_) => ids.first().map_or(Value::Bool(false), |i| Value::Int(*i)),
            _ => Value::ints(&ids),
        })
    }

    /// `stock.move` `write`: the quantity to deliver (and `picked`).
    pub(super) fn write_moves(&mut self, ids: &[i64], vals: &Value) -> Result<(), Exception> {
        for &id in ids {
            if !self.books.moves.contains_key(&id) {
                return Err(missing("stock.move", id));
            }
        }
        let qty = decimal_arg(
            vals_members(vals)
                .iter()
                .find(|(k, _)| k == "quantity")
                .map(|(_, v)| v),
        )?;
        let picked = vals_members(vals)
            .iter()
            .find(|(k, _)| k == "picked")
            .map(|(_, v)| v.truthy());
        for &id in ids {
            if let Some(m) = self.books.moves.get_mut(&id) {
                if let Some(q) = qty {
                    m.quantity = q;
                }
                if let Some(p) = picked {
                    m.picked = p;
                }
            }
        }
        Ok(())
    }

    /// `button_validate`: done at once when every move has its whole demand (or the
    /// context says what to do about the rest); else the backorder wizard's action.
    pub(super) fn button_validate(&mut self, ids: &[i64], args: &Args) -> Result<Value, Exception> {
        for &id in ids {
            if !self.books.pickings.contains_key(&id) {
                return Err(missing("stock.picking", id));
            }
        }
        let short = ids.iter().any(|id| {
            self.books.pickings[id]
                .move_ids
                .iter()
                .filter_map(|m| self.books.moves.get(m))
                .any(|m| m.quantity < m.demand)
        });
        let flag = |k: &str| match args.get("context") {
            Some(Value::Struct(c)) => c.iter().any(|(n, v)| n == k && v.truthy()),
            _ => false,
        };
        if short && !flag("skip_backorder") {
            return Ok(backorder_action(ids, self.version));
        }
        let no_backorder = context_ids(args, "picking_ids_not_to_backorder");
        for &id in ids {
            self.validate(id, !no_backorder.contains(&id));
        }
        Ok(Value::Bool(true))
    }

    /// Validates a picking: the moves' quantities are delivered; what is short goes to a
    /// backorder picking (`backorder`) or is dropped.
    fn validate(&mut self, picking_id: i64, backorder: bool) {
        let now = self.now();
        let Some(p) = self.books.pickings.get(&picking_id).cloned() else {
            return;
        };
        let mut rest = Vec::new();
        for mid in &p.move_ids {
            if let Some(m) = self.books.moves.get_mut(mid) {
                if m.quantity < m.demand {
                    rest.push((m.sale_line_id, m.product_id, m.demand - m.quantity));
                    m.demand = m.quantity;
                }
                m.state = "done".into();
                m.picked = true;
            }
        }
        if let Some(p) = self.books.pickings.get_mut(&picking_id) {
            p.state = "done".into();
            p.date_done = Some(now);
        }
        if backorder && !rest.is_empty() {
            let b = &mut self.books;
            let id = b.next_picking;
            b.next_picking += 1;
            let seq = b.next_picking_seq;
            b.next_picking_seq += 1;
            let mut move_ids = Vec::new();
            for (line, product, qty) in rest {
                let mid = b.next_move;
                b.next_move += 1;
                b.moves.insert(
                    mid,
                    StockMove {
                        id: mid,
                        picking_id: id,
                        sale_line_id: line,
                        product_id: product,
                        demand: qty,
                        quantity: qty,
                        picked: false,
                        state: "assigned".into(),
                    },
                );
                move_ids.push(mid);
            }
            b.pickings.insert(
                id,
                Picking {
                    id,
                    name: format!("WH/OUT/{seq:05}"),
                    order_id: p.order_id,
                    state: "assigned".into(),
                    backorder_id: Some(picking_id),
                    scheduled: p.scheduled,
                    date_done: None,
                    move_ids,
                },
            );
        }
        self.touch(p.order_id);
    }

    /// `stock.backorder.confirmation` `process`: validates the pickings its context names
    /// (`button_validate_picking_ids`), the rest going to a backorder; without that context
    /// it validates nothing and still answers `true`.
    pub(super) fn process_backorder(
        &mut self,
        ids: &[i64],
        args: &Args,
    ) -> Result<Value, Exception> {
        for &id in ids {
            if !self
                .books
                .wizards
                .contains_key(&("stock.backorder.confirmation".to_string(), id))
            {
                return Err(missing("stock.backorder.confirmation", id));
            }
        }
        for p in context_ids(args, "button_validate_picking_ids") {
            self.validate(p, true);
        }
        Ok(Value::Bool(true))
    }

    /// `sale.advance.payment.inv` `create_invoices` ("delivered" quantities): a draft invoice
    /// per order of the context's `active_ids`, and the invoices' window action.
    pub(super) fn create_invoices(&mut self, ids: &[i64], args: &Args) -> Result<Value, Exception> {
        for &id in ids {
            if !self
                .books
                .wizards
                .contains_key(&("sale.advance.payment.inv".to_string(), id))
            {
                return Err(missing("sale.advance.payment.inv", id));
            }
        }
        let now = self.now();
        let mut made = None;
        let mut partner = None;
        let mut origin = String::new();
        for order_id in context_ids(args, "active_ids") {
            let Some(o) = self.orders.get(&order_id).cloned() else {
                return Err(missing("sale.order", order_id));
            };
            let lines: Vec<(i64, Decimal)> = o
                .line_ids
                .iter()
                .filter_map(|id| self.lines.get(id))
                .map(|l| (l.id, self.qty_to_invoice(l)))
                .filter(|(_, q)| !q.is_zero())
                .collect();
            if lines.is_empty() {
                return Err(Exception::UserError(
                    "Cannot create an invoice. No items are available to invoice.\n\nTo resolve this issue, please ensure that:\n   • The products have been delivered before attempting to invoice them.\n   • The invoicing policy of the product is configured correctly.\n\nIf you want to invoice based on ordered quantities instead:\n   • For consumable or storable products, open the product, go to the 'General Information' tab and change the 'Invoicing Policy' from 'Delivered Quantities' to 'Ordered Quantities'.\n   • For services (and other products), change the 'Invoicing Policy' to 'Prepaid/Fixed Price'.\n".into(),
                ));
            }
            let b = &mut self.books;
            let id = b.next_invoice;
            b.next_invoice += 1;
            let lines = lines
                .into_iter()
                .map(|(sale_line_id, qty)| {
                    let lid = b.next_invoice_line;
                    b.next_invoice_line += 1;
                    InvoiceLine {
                        id: lid,
                        sale_line_id,
                        qty,
                    }
                })
                .collect();
            b.invoices.insert(
                id,
                Invoice {
                    id,
                    name: None,
                    order_id,
                    state: "draft".into(),
                    payment_state: "not_paid".into(),
                    lines,
                    paid: Decimal::ZERO,
                    create_date: now,
                    write_date: now,
                },
            );
            made = Some(id);
            partner = Some(o.partner_id);
            origin = o.name.clone();
            self.touch(order_id);
        }
        let partner = partner.unwrap_or_default();
        Ok(invoices_action(self.version, partner, &origin, made))
    }

    /// `account.move` `action_post`: numbered and posted; the order's `write_date` does not
    /// move (captures-3 031). Answers `false`.
    pub(super) fn post_invoices(&mut self, ids: &[i64]) -> Result<Value, Exception> {
        for &id in ids {
            if !self.books.invoices.contains_key(&id) {
                return Err(missing("account.move", id));
            }
        }
        let now = self.now();
        let year = now.format("%Y").to_string();
        for &id in ids {
            let seq = self.books.next_invoice_seq;
            let inv = self
                .books
                .invoices
                .get_mut(&id)
                .ok_or_else(|| missing("account.move", id))?;
            if inv.state != "draft" {
                return Err(Exception::UserError("The entry is already posted.".into()));
            }
            inv.name = Some(format!("INV/{year}/{seq:05}"));
            inv.state = "posted".into();
            inv.write_date = now;
            self.books.next_invoice_seq += 1;
        }
        Ok(Value::Bool(false))
    }

    /// `account.payment.register` `action_create_payments`: the invoices paid in full.
    pub(super) fn create_payments(&mut self, ids: &[i64]) -> Result<Value, Exception> {
        let mut invoices = Vec::new();
        for &id in ids {
            match self
                .books
                .wizards
                .get(&("account.payment.register".to_string(), id))
            {
                Some(Wizard::PaymentRegister { invoice_ids }) => {
                    invoices.extend(invoice_ids.clone())
                }
                _ => return Err(missing("account.payment.register", id)),
            }
        }
        let now = self.now();
        for id in invoices {
            let total = match self.books.invoices.get(&id) {
                Some(inv) => {
                    let (u, t) = self.invoice_total(inv);
                    u + t
                }
                None => continue,
            };
            if let Some(inv) = self.books.invoices.get_mut(&id) {
                inv.paid = total;
                inv.payment_state = "paid".into();
                inv.write_date = now;
            }
        }
        let payment = self.books.next_payment;
        self.books.next_payment += 1;
        // A payment's journal entry is an account.move of its own.
        self.books.next_invoice += 1;
        Ok(Value::object([
            ("name", Value::str("Payments")),
            ("type", Value::str("ir.actions.act_window")),
            ("res_model", Value::str("account.payment")),
            ("context", Value::object([("create", Value::Bool(false))])),
            ("view_mode", Value::str("form")),
            ("res_id", Value::Int(payment)),
        ]))
    }

    /// Odoo 18 and older: `action_cancel` on an order past the quotation cancels nothing
    /// and answers the `sale.order.cancel` wizard's action, unless the context says
    /// `disable_cancel_warning` (18/024, 030). Odoo 19 cancels at once.
    pub(super) fn cancel_warning(
        &self,
        ids: &[i64],
        args: &Args,
    ) -> Result<Option<Value>, Exception> {
        if self.version >= 19 {
            return Ok(None);
        }
        if ids
            .iter()
            .any(|id| self.orders.get(id).is_some_and(|o| o.locked))
        {
            return Err(Exception::UserError(
                "You cannot cancel a locked order. Please unlock it first.".into(),
            ));
        }
        let disabled = match args.get("context") {
            Some(Value::Struct(c)) => c
                .iter()
                .any(|(k, v)| k == "disable_cancel_warning" && v.truthy()),
            _ => false,
        };
        let warn = !disabled
            && ids
                .iter()
                .any(|id| self.orders.get(id).is_some_and(|o| o.state != "draft"));
        if !warn {
            return Ok(None);
        }
        let [id] = ids else {
            return Err(Exception::ValueError(format!(
                "Expected singleton: sale.order({})",
                ids.iter().map(|i| format!("{i}, ")).collect::<String>()
            )));
        };
        Ok(Some(Value::object([
            ("name", Value::str("Cancel Sales Order")),
            ("view_mode", Value::str("form")),
            ("res_model", Value::str("sale.order.cancel")),
            ("view_id", Value::Int(924)),
            ("type", Value::str("ir.actions.act_window")),
            (
                "context",
                Value::object([
                    ("default_template_id", Value::Int(13)),
                    ("default_order_id", Value::Int(*id)),
                    ("mark_so_as_canceled", Value::Bool(true)),
                    (
                        "default_email_layout_xmlid",
                        Value::str("mail.mail_notification_layout_with_responsible_signature"),
                    ),
                    ("model_description", Value::str("Sales Order")),
                ]),
            ),
            ("target", Value::str("new")),
        ])))
    }

    /// `sale.order.cancel` `action_cancel`: cancels its order (18/026).
    pub(super) fn cancel_by_wizard(&mut self, ids: &[i64]) -> Result<Value, Exception> {
        let mut orders = Vec::new();
        for &id in ids {
            match self
                .books
                .wizards
                .get(&("sale.order.cancel".to_string(), id))
            {
                Some(Wizard::CancelOrder { order_id }) => orders.push(*order_id),
                _ => return Err(missing("sale.order.cancel", id)),
            }
        }
        let quiet = Args(vec![(
            "context".into(),
            Value::object([("disable_cancel_warning", Value::Bool(true))]),
        )]);
        self.order_action(&orders, "action_cancel", &quiet)
    }

    /// What a cancelled order does to its delivery and invoices (Odoo 19): pickings not
    /// done are cancelled, draft invoices too; done pickings and posted invoices stay.
    pub(super) fn cancel_fulfilment(&mut self, order_id: i64) {
        let now = self.now();
        for p in self
            .books
            .pickings
            .values_mut()
            .filter(|p| p.order_id == order_id)
        {
            if p.state != "done" {
                p.state = "cancel".into();
                for m in &p.move_ids {
                    if let Some(m) = self.books.moves.get_mut(m) {
                        m.state = "cancel".into();
                    }
                }
            }
        }
        for inv in self
            .books
            .invoices
            .values_mut()
            .filter(|i| i.order_id == order_id)
        {
            if inv.state == "draft" {
                inv.state = "cancel".into();
                inv.write_date = now;
            }
        }
    }

    /// Test hooks, as staff would: deliver everything, invoice what was delivered and
    /// post it, pay it. Each through the same steps as the RPC calls.
    pub fn deliver_all(&mut self, order_id: i64) {
        let open: Vec<i64> = self
            .books
            .pickings
            .values()
            .filter(|p| p.order_id == order_id && p.state == "assigned")
            .map(|p| p.id)
            .collect();
        for p in open {
            self.validate(p, false);
        }
    }

    /// Delivers `qty` of an order's line now, the rest left in a backorder.
    pub fn deliver_line(&mut self, order_id: i64, line_id: i64, qty: Decimal) {
        let open: Option<i64> = self
            .books
            .pickings
            .values()
            .find(|p| p.order_id == order_id && p.state == "assigned")
            .map(|p| p.id);
        let Some(p) = open else { return };
        let moves = self.books.pickings[&p].move_ids.clone();
        for m in moves {
            if let Some(m) = self.books.moves.get_mut(&m) {
                m.quantity = if m.sale_line_id == line_id {
                    qty
                } else {
                    Decimal::ZERO
                };
            }
        }
        self.validate(p, true);
    }

    /// Invoices what was delivered, posts it, and returns the invoice's id.
    pub fn invoice_delivered(&mut self, order_id: i64) -> Option<i64> {
        let ctx = Args(vec![(
            "context".into(),
            Value::object([("active_ids", Value::ints(&[order_id]))]),
        )]);
        let wizard = self.new_wizard(
            "sale.advance.payment.inv",
            Wizard::AdvanceInvoice {
                method: "delivered".into(),
            },
        );
        self.create_invoices(&[wizard], &ctx).ok()?;
        let id = self
            .books
            .invoices
            .values()
            .filter(|i| i.order_id == order_id)
            .map(|i| i.id)
            .max()?;
        self.post_invoices(&[id]).ok()?;
        Some(id)
    }

    /// Pays an invoice in full.
    pub fn pay_invoice(&mut self, invoice_id: i64) {
        let wizard = self.new_wizard(
            "account.payment.register",
            Wizard::PaymentRegister {
                invoice_ids: vec![invoice_id],
            },
        );
        let _ = self.create_payments(&[wizard]);
    }
}

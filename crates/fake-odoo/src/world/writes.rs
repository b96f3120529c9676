//! Writes: `create`, `write` (with x2many line commands), `unlink` and the order actions,
//! each all-or-nothing like one Odoo transaction.

use super::*;

impl World {
    pub(super) fn create(&mut self, model: &str, vals_list: Value) -> Result<Value, Exception> {
        let (list, single) = match vals_list {
            Value::Array(a) => (a, false),
            v @ Value::Struct(_) => (vec![v], true),
            other => {
                return Err(Exception::TypeError(format!(
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

    pub(super) fn create_one(&mut self, model: &str, vals: &Value) -> Result<i64, Exception> {
        let Value::Struct(members) = vals else {
            return Err(Exception::TypeError("vals must be a dict".into()));
        };
        self.check_fields(model, members)?;
        let get = |k: &str| vals.get(k);
        match model {
            "ir.actions.server" | "base.automation" => {
                self.create_automation_record(model, members)
            }
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
                    return Err(Exception::MissingError(format!(
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
            _ => Err(Exception::AccessError(format!(
                "You are not allowed to create '{}' ({model}) records.",
                model_label(model)
            ))),
        }
    }

    pub(super) fn create_line(&mut self, order_id: i64, vals: &Value) -> Result<i64, Exception> {
        if let Some(kind) = vals.get("display_type").and_then(Value::as_str) {
            return self.create_display_line(order_id, kind, vals);
        }
        let product = vals.get("product_id").and_then(Value::as_i64).unwrap_or(0);
        let Some(p) = self.products.get(&product) else {
            return Err(Exception::MissingError(format!(
                "Record does not exist or has been deleted.\n(Record: product.product({product},), User: 2)"
            )));
        };
        let list_price = p.list_price;
        let qty = decimal_arg(vals.get("product_uom_qty"))?.unwrap_or(Decimal::ONE);
        let price = decimal_arg(vals.get("price_unit"))?.unwrap_or(list_price);
        let discount = decimal_arg(vals.get("discount"))?;
        let taxes = self.line_taxes(vals)?;
        self.check_fields("sale.order.line", vals_members(vals))?;
        let id = self.insert_line(order_id, product, qty, price, discount);
        if let Some(t) = taxes {
            self.lines.get_mut(&id).unwrap().tax_percent = t;
        }
        self.touch(order_id);
        Ok(id)
    }

    /// A section, subsection (Odoo 19) or note: a line with a text and no product.
    fn create_display_line(
        &mut self,
        order_id: i64,
        kind: &str,
        vals: &Value,
    ) -> Result<i64, Exception> {
        let kinds: &[&str] = if self.version >= 19 {
            &["line_section", "line_subsection", "line_note"]
        } else {
            &["line_section", "line_note"]
        };
        if !kinds.contains(&kind) {
            return Err(Exception::ValueError(format!(
                "Wrong value for sale.order.line.display_type: '{kind}'"
            )));
        }
        let text = vals
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let id = self.insert_line(order_id, 0, Decimal::ZERO, Decimal::ZERO, None);
        if let Some(l) = self.lines.get_mut(&id) {
            l.display_type = Some(kind.to_string());
            l.label = Some(text);
            l.tax_percent = Decimal::ZERO;
        }
        self.touch(order_id);
        Ok(id)
    }

    /// x2many commands on order_line: (0, 0, vals) create, (1, id, vals) update, (2, id) delete.
    pub(super) fn apply_line_commands(
        &mut self,
        order_id: i64,
        cmds: &Value,
    ) -> Result<(), Exception> {
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
                    return Err(Exception::ValueError(format!(
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
    pub(super) fn line_taxes(&self, vals: &Value) -> Result<Option<Decimal>, Exception> {
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
                    return Err(Exception::ValueError(format!(
                        "Invalid command {}",
                        cmd.describe()
                    )));
                }
            }
        }
        Ok(rate)
    }

    pub(super) fn write_line(&mut self, line_id: i64, vals: &Value) -> Result<(), Exception> {
        self.check_fields("sale.order.line", vals_members(vals))?;
        let taxes = self.line_taxes(vals)?;
        let qty = decimal_arg(vals.get("product_uom_qty"))?;
        let price = decimal_arg(vals.get("price_unit"))?;
        let discount = decimal_arg(vals.get("discount"))?;
        let locked = self
            .lines
            .get(&line_id)
            .and_then(|l| self.orders.get(&l.order_id))
            .is_some_and(|o| o.locked);
        if locked {
            // captures-3 058: a locked order's lines keep their quantities and prices.
            let labels: Vec<&str> = [
                ("product_uom_qty", "Quantity"),
                ("price_unit", "Unit Price"),
                ("discount", "Discount (%)"),
                ("product_id", "Product"),
            ]
            .iter()
            .filter(|(k, _)| vals.get(k).is_some())
            .map(|(_, label)| *label)
            .collect();
            if !labels.is_empty() {
                return Err(Exception::UserError(format!(
                    "It is forbidden to modify the following fields in a locked order:\n{}",
                    labels.join("\n")
                )));
            }
        }
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
    pub(super) fn check_fields(
        &self,
        model: &str,
        members: &[(String, Value)],
    ) -> Result<(), Exception> {
        let known = self.fields(model);
        match members.iter().find(|(k, _)| !known.contains(k)) {
            Some((k, _)) => Err(Exception::ValueError(format!(
                "Invalid field '{k}' in '{model}'"
            ))),
            None => Ok(()),
        }
    }

    pub(super) fn write(
        &mut self,
        model: &str,
        ids: &[i64],
        vals: &Value,
    ) -> Result<(), Exception> {
        let Value::Struct(members) = vals else {
            return Err(Exception::TypeError("vals must be a dict".into()));
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
                                    return Err(Exception::ValueError(format!(
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
                            "commitment_date" => {
                                staged.orders.get_mut(&id).unwrap().commitment_date = v
                                    .as_str()
                                    .and_then(|t| {
                                        chrono::NaiveDateTime::parse_from_str(
                                            t,
                                            "%Y-%m-%d %H:%M:%S",
                                        )
                                        .ok()
                                    })
                                    .map(|t| t.and_utc())
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
                "ir.actions.server" | "base.automation" => {
                    staged.write_automation_record(model, id, members)?
                }
                "res.partner" => {
                    for (k, v) in members {
                        let p = staged.partners.get_mut(&id).unwrap();
                        match k.as_str() {
                            "name" => p.name = v.as_str().unwrap_or("").to_string(),
                            "email" => p.email = str_or_false(Some(v)),
                            "parent_id" => {
                                let parent = v.as_i64();
                                if parent == Some(id) {
                                    return Err(Exception::ValidationError(
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
                    return Err(Exception::AccessError(format!(
                        "You are not allowed to modify '{}' ({model}) records.",
                        model_label(model)
                    )));
                }
            }
        }
        *self = staged;
        Ok(())
    }

    pub(super) fn unlink(&mut self, model: &str, ids: &[i64]) -> Result<Value, Exception> {
        if matches!(model, "ir.actions.server" | "base.automation") {
            return self.unlink_automation_records(model, ids);
        }
        if model != "sale.order" {
            return Err(Exception::AccessError(format!(
                "You are not allowed to delete '{}' ({model}) records.",
                model_label(model)
            )));
        }
        for &id in ids {
            let o = self.orders.get(&id).ok_or_else(|| missing(model, id))?;
            if o.state == "sale" || o.state == "sent" {
                return Err(Exception::UserError(
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

    pub(super) fn order_action(
        &mut self,
        ids: &[i64],
        action: &str,
        args: &Args,
    ) -> Result<Value, Exception> {
        let now = self.now();
        for &id in ids {
            if !self.orders.contains_key(&id) {
                return Err(missing("sale.order", id));
            }
        }
        if action == "action_cancel"
            && let Some(wizard) = self.cancel_warning(ids, args)?
        {
            return Ok(wizard);
        }
        for &id in ids {
            let o = self.orders.get_mut(&id).unwrap();
            match action {
                "action_confirm" => {
                    if !["draft", "sent"].contains(&o.state.as_str()) {
                        return Err(Exception::UserError(
                            "Some orders are not in a state requiring confirmation.".into(),
                        ));
                    }
                    o.state = "sale".into();
                    // Confirming dates the order now (captures-3 011, 013).
                    o.date_order = now;
                }
                "action_quotation_sent" => o.state = "sent".into(),
                "action_cancel" => {
                    if o.locked {
                        return Err(Exception::UserError(
                            "You cannot cancel a locked order. Please unlock it first.".into(),
                        ));
                    }
                    o.state = "cancel".into();
                }
                "action_draft" => o.state = "draft".into(),
                "action_lock" => o.locked = true,
                "action_unlock" => o.locked = false,
                _ => return Err(Exception::UnknownMethod(format!("sale.order.{action}"))),
            }
            o.write_date = now;
            // The delivery of a confirmed order is made by `call`, after the rules have
            // seen the state change: Odoo posts for each in turn.
            if action == "action_cancel" {
                self.cancel_fulfilment(id);
            }
        }
        Ok(match action {
            // These return None in Odoo: XML-RPC cannot marshal it, JSON sends null.
            "action_lock" | "action_unlock" => Value::Nil,
            _ => Value::Bool(true),
        })
    }
}

impl World {
    /// `web_save(vals, specification)`: creates (no ids) or writes the record, then reads
    /// it back as `specification` says — a relational field with `fields` as a dict of
    /// those — in the same transaction (captures-3 088-091; the web client's save).
    pub(super) fn web_save(
        &mut self,
        model: &str,
        ids: &[i64],
        args: &Args,
    ) -> Result<Value, Exception> {
        let vals = args.get("vals").cloned().unwrap_or(Value::Struct(vec![]));
        let ids = if ids.is_empty() {
            match self.create(model, vals)? {
                Value::Int(id) => vec![id],
                _ => vec![],
            }
        } else {
            self.write(model, ids, &vals)?;
            ids.to_vec()
        };
        let spec = match args.get("specification") {
            Some(Value::Struct(m)) => m.clone(),
            _ => Vec::new(),
        };
        let fields = self.fields(model);
        for (name, _) in &spec {
            if !fields.contains(name) {
                return Err(Exception::ValueError(format!(
                    "Invalid field '{name}' on model '{model}'"
                )));
            }
        }
        let rows = ids
            .iter()
            .map(|&id| {
                let mut rec = vec![("id".to_string(), Value::Int(id))];
                for (name, sub) in &spec {
                    if name == "id" {
                        continue;
                    }
                    let v = self.value(model, id, name);
                    let nested = match sub {
                        Value::Struct(m) => m.iter().find(|(k, _)| k == "fields").map(|(_, f)| f),
                        _ => None,
                    };
                    let v = match (nested, &v) {
                        // A many2one read as a dict of the fields asked for.
                        (Some(Value::Struct(sub)), Value::Array(pair)) if pair.len() == 2 => {
                            let mut d = vec![("id".to_string(), pair[0].clone())];
                            for (k, _) in sub {
                                if k == "display_name" {
                                    d.push((k.clone(), pair[1].clone()));
                                }
                            }
                            Value::Struct(d)
                        }
                        _ => v,
                    };
                    rec.push((name.clone(), v));
                }
                Value::Struct(rec)
            })
            .collect();
        Ok(Value::Array(rows))
    }
}

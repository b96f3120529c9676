//! Reads: field values as Odoo serializes them, `read`, `search` and `fields_get`.

use super::*;

impl World {
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
            "ir.model" | "ir.model.fields" | "ir.actions.server" | "base.automation" => {
                self.automation_field(model, id, field)
            }
            "ir.module.module" => {
                let m = self.modules().into_iter().find(|m| m.0 == id)?;
                Some(match field {
                    "name" | "display_name" => Value::str(m.1),
                    "state" => Value::str(m.2),
                    "installed_version" => Value::str(&m.3),
                    _ => return None,
                })
            }
            m if fulfilment::MODELS.contains(&m) => self.fulfilment_field(model, id, field),
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
                    "pricelist_id" => Value::Bool(false),
                    "commitment_date" => o.commitment_date.as_ref().map_or(Value::Bool(false), dt),
                    "delivery_status" => self.delivery_status(o.id),
                    "effective_date" => self
                        .effective_date(o.id)
                        .as_ref()
                        .map_or(Value::Bool(false), dt),
                    // A draft's is now; a confirmed order's, its order date (no lead time);
                    // a cancelled order has none.
                    "expected_date" => match o.state.as_str() {
                        "cancel" => Value::Bool(false),
                        "sale" => dt(&o.date_order),
                        _ => dt(&self.now()),
                    },
                    "picking_ids" => self.picking_ids(o.id),
                    "invoice_ids" => self.invoice_ids(o.id),
                    "amount_invoiced" => Value::decimal(self.invoice_amounts(o).0),
                    "amount_to_invoice" => Value::decimal(self.invoice_amounts(o).1),
                    "validity_date" => Value::str(
                        (o.create_date + Duration::days(31))
                            .format("%Y-%m-%d")
                            .to_string(),
                    ),
                    "locked" => Value::Bool(o.locked),
                    "invoice_status" => Value::str(self.invoice_status(o)),
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
                    "product_id" if l.display_type.is_some() => Value::Bool(false),
                    "product_id" => pair(
                        l.product_id,
                        &p.map(Product::display_name).unwrap_or_default(),
                    ),
                    // A section's or note's text.
                    "name" | "display_name" if l.label.is_some() => {
                        Value::str(l.label.clone().unwrap_or_default())
                    }
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
                    "display_type" => l
                        .display_type
                        .as_ref()
                        .map_or(Value::Bool(false), Value::str),
                    "sequence" => Value::Int(10),
                    "qty_delivered" => Value::decimal(self.qty_delivered(l.id)),
                    "qty_invoiced" => Value::decimal(self.qty_invoiced(l.id)),
                    "qty_to_invoice" => Value::decimal(self.qty_to_invoice(l)),
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
                    "is_storable" => Value::Bool(p.storable),
                    "invoice_policy" => Value::str(if p.storable { "delivery" } else { "order" }),
                    "qty_available" => Value::decimal(p.qty_available),
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

    pub(super) fn read_rows(
        &self,
        model: &str,
        ids: &[i64],
        fields: Option<&[String]>,
    ) -> Result<Value, Exception> {
        let known = self.fields(model);
        let wanted: Vec<&str> = match fields {
            Some(f) if !f.is_empty() => f.iter().map(String::as_str).collect(),
            _ => known.all().iter().map(|f| f.name.as_str()).collect(),
        };
        for f in &wanted {
            if !known.contains(f) {
                return Err(Exception::ValueError(format!(
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

    pub(super) fn search_ids(
        &self,
        model: &str,
        dom: &Value,
        offset: i64,
        limit: Option<i64>,
        order: Option<&str>,
    ) -> Result<Vec<i64>, Exception> {
        let fields = self.fields(model);
        let known = |f: &str| fields.contains(f);
        let compiled = domain::compile(model, dom, &known)?;
        // `id in [...]` is how batches are read: look the ids up instead of scanning.
        let by_order = (model == "sale.order.line")
            .then(|| compiled.in_filter("order_id"))
            .flatten();
        let candidates = match (compiled.id_filter(), by_order) {
            (Some(wanted), _) => wanted
                .into_iter()
                .filter(|id| self.exists(model, *id))
                .collect(),
            // The lines of these orders: Odoo's index on order_id.
            (None, Some(orders)) => orders
                .iter()
                .filter_map(|o| self.orders.get(o))
                .flat_map(|o| o.line_ids.iter().copied())
                .collect(),
            (None, None) => self.all_ids(model),
        };
        let mut ids: Vec<i64> = Vec::new();
        for id in candidates {
            if compiled.matches(&|f| self.value(model, id, f))? {
                ids.push(id);
            }
        }
        if model == "ir.module.module" && order.is_none() {
            // `application desc, sequence, name`: as the modules are listed.
            let rank: Vec<i64> = self.modules().iter().map(|m| m.0).collect();
            ids.sort_by_key(|id| rank.iter().position(|r| r == id));
            let start = offset.max(0) as usize;
            let it = ids.into_iter().skip(start);
            return Ok(match limit {
                Some(l) if l > 0 => it.take(l as usize).collect(),
                _ => it.collect(),
            });
        }
        if model == "sale.order.line" && order.is_none() {
            // Odoo sorts lines by their order (in the order's own sort), then sequence, id.
            let key = |id: &i64| {
                let l = self.lines.get(id);
                let o = l.and_then(|l| self.orders.get(&l.order_id));
                (
                    std::cmp::Reverse(o.map(|o| o.date_order)),
                    std::cmp::Reverse(o.map(|o| o.id)),
                    *id,
                )
            };
            ids.sort_by_key(key);
            let start = offset.max(0) as usize;
            let it = ids.into_iter().skip(start);
            return Ok(match limit {
                Some(l) if l > 0 => it.take(l as usize).collect(),
                _ => it.collect(),
            });
        }
        let default_order = match model {
            "sale.order" => "date_order desc, id desc",
            "ir.model.fields" => "name",
            _ => "id",
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

    /// `fields_get(allfields, attributes)` from the version's real field list.
    pub(super) fn fields_get(&self, model: &str, args: &Args) -> Result<Value, Exception> {
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
}

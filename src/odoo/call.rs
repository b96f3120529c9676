//! One model method call, and how each protocol carries its arguments.
//!
//! This is the one place that decides the call shapes. Over XML-RPC and JSON-RPC, Odoo's
//! `call_kw` takes a record method's ids and `create`'s values **positionally** only (a
//! keyword in their place is an `IndexError` inside Odoo); every other argument may be a
//! keyword. JSON-2 binds every argument by name against the method's signature.

use super::value::Value;

/// A call as the project makes it: the record ids (for methods on records) and named
/// arguments, in the order given.
#[derive(Debug, Clone)]
pub struct Call<'a> {
    pub model: &'a str,
    pub method: &'a str,
    pub ids: Option<&'a [i64]>,
    pub kwargs: Vec<(&'static str, Value)>,
}

/// Arguments that `call_kw` accepts only positionally, in order after the ids.
fn positional_only(method: &str) -> &'static [&'static str] {
    match method {
        "create" => &["vals_list"],
        // As recorded (captures-2 032): `write(ids, vals)`, both positional.
        "write" => &["vals"],
        // As recorded (captures-3 089): `web_save([], vals, specification=...)`.
        "web_save" => &["vals"],
        _ => &[],
    }
}

impl<'a> Call<'a> {
    pub fn new(model: &'a str, method: &'a str) -> Self {
        Call {
            model,
            method,
            ids: None,
            kwargs: Vec::new(),
        }
    }

    /// Calls the method on these records.
    pub fn on(mut self, ids: &'a [i64]) -> Self {
        self.ids = Some(ids);
        self
    }

    pub fn arg(mut self, name: &'static str, v: impl Into<Value>) -> Self {
        self.kwargs.push((name, v.into()));
        self
    }

    /// `model.method`, for messages.
    pub fn label(&self) -> String {
        format!("{}.{}", self.model, self.method)
    }

    /// `execute_kw`'s `args` and `kwargs`: the ids first, then the positional-only
    /// arguments, then everything else by keyword.
    pub(crate) fn rpc_args(&self) -> (Vec<Value>, Vec<(String, Value)>) {
        let mut args = Vec::new();
        if let Some(ids) = self.ids {
            args.push(Value::ints(ids));
        }
        let positional = positional_only(self.method);
        for name in positional {
            if let Some((_, v)) = self.kwargs.iter().find(|(k, _)| k == name) {
                args.push(v.clone());
            }
        }
        let kwargs = self
            .kwargs
            .iter()
            .filter(|(k, _)| !positional.contains(k))
            .map(|(k, v)| ((*k).to_string(), v.clone()))
            .collect();
        (args, kwargs)
    }

    /// The JSON-2 body: every argument by name, the ids as `ids`.
    pub(crate) fn json2_body(&self) -> Vec<(String, Value)> {
        let mut body = Vec::with_capacity(self.kwargs.len() + 1);
        if let Some(ids) = self.ids {
            body.push(("ids".to_string(), Value::ints(ids)));
        }
        body.extend(
            self.kwargs
                .iter()
                .map(|(k, v)| ((*k).to_string(), v.clone())),
        );
        body
    }
}

/// Options of `search_read`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SearchOpts<'a> {
    pub limit: Option<u32>,
    pub order: Option<&'a str>,
}

/// The calls the project makes, built in one place so that their shapes can be pinned.
impl<'a> Call<'a> {
    pub(crate) fn search_read(
        model: &'a str,
        domain: Value,
        fields: &[&str],
        opts: &SearchOpts<'_>,
    ) -> Self {
        let mut call = Call::new(model, "search_read")
            .arg("domain", domain)
            .arg("fields", Value::strs(fields));
        if let Some(l) = opts.limit {
            call = call.arg("limit", i64::from(l));
        }
        if let Some(o) = opts.order {
            call = call.arg("order", o);
        }
        call
    }

    pub(crate) fn read(model: &'a str, ids: &'a [i64], fields: &[&str]) -> Self {
        Call::new(model, "read")
            .on(ids)
            .arg("fields", Value::strs(fields))
    }

    pub(crate) fn create(model: &'a str, vals_list: Vec<Value>) -> Self {
        Call::new(model, "create").arg("vals_list", Value::Array(vals_list))
    }

    /// Creates one record and reads `fields` of it back, in one call; a many2one comes
    /// back as `{id, display_name}`.
    pub(crate) fn web_save_create(model: &'a str, vals: Value, fields: &[&str]) -> Self {
        let many2one = Value::Struct(vec![(
            "fields".to_string(),
            Value::Struct(vec![("display_name".to_string(), Value::Struct(vec![]))]),
        )]);
        let spec = fields
            .iter()
            .map(|f| {
                let sub = if f.ends_with("_id") {
                    many2one.clone()
                } else {
                    Value::Struct(vec![])
                };
                ((*f).to_string(), sub)
            })
            .collect();
        Call::new(model, "web_save")
            .on(&[])
            .arg("vals", vals)
            .arg("specification", Value::Struct(spec))
    }

    pub(crate) fn search(model: &'a str, domain: Value) -> Self {
        Call::new(model, "search").arg("domain", domain)
    }

    pub(crate) fn write(model: &'a str, ids: &'a [i64], vals: Value) -> Self {
        Call::new(model, "write").on(ids).arg("vals", vals)
    }

    pub(crate) fn unlink(model: &'a str, ids: &'a [i64]) -> Self {
        Call::new(model, "unlink").on(ids)
    }

    /// `fields_get` of these fields, with these attributes of each.
    pub(crate) fn fields_get(model: &'a str, fields: &[&str], attributes: &[&str]) -> Self {
        Call::new(model, "fields_get")
            .arg("allfields", Value::strs(fields))
            .arg("attributes", Value::strs(attributes))
    }

    pub(crate) fn check_access_rights(model: &'a str, operation: &str) -> Self {
        Call::new(model, "check_access_rights")
            .arg("operation", operation)
            .arg("raise_exception", false)
    }

    /// `has_access` on no records: the model-level check of Odoo 18 and later.
    pub(crate) fn has_access(model: &'a str, operation: &str) -> Self {
        Call::new(model, "has_access")
            .on(&[])
            .arg("operation", operation)
    }

    pub(crate) fn context_get() -> Self {
        Call::new("res.users", "context_get")
    }
}

/// The exact request of each call the project makes, over each protocol.
#[cfg(test)]
mod shapes {
    use super::*;
    use crate::odoo::value::domain;
    use crate::odoo::{Credentials, execute_kw_args, json2, jsonrpc};
    use crate::secret::Secret;

    fn creds() -> Credentials {
        Credentials {
            db: "portal".into(),
            login: "admin".into(),
            api_key: Some(Secret::new("KEY")),
            rpc_secret: Some(Secret::new("pw")),
        }
    }

    fn xml(call: &Call<'_>) -> String {
        orderbridge_wire::xmlrpc::encode_call("execute_kw", &execute_kw_args(&creds(), 2, call))
    }

    fn jsonrpc(call: &Call<'_>) -> String {
        let body = jsonrpc::request_body(
            "object",
            "execute_kw",
            execute_kw_args(&creds(), 2, call),
            1,
        );
        String::from_utf8(body.unwrap()).unwrap()
    }

    fn json2(call: &Call<'_>) -> (String, String) {
        let req = json2::request(&creds(), call).unwrap();
        (req.path, String::from_utf8(req.body).unwrap())
    }

    /// XML-RPC `execute_kw` params 5 and 6 (args, kwargs), without the whitespace.
    fn xml_args(call: &Call<'_>) -> String {
        let x = xml(call);
        let at = x
            .find(&format!("<string>{}</string>", call.method))
            .unwrap();
        x[at..].split_whitespace().collect()
    }

    const RPC_HEAD: &str = r#"{"jsonrpc":"2.0","method":"call","params":{"service":"object","method":"execute_kw","args":["portal",2,"pw","#;

    #[test]
    fn search_read_sends_domain_and_fields_as_keywords() {
        let opts = SearchOpts {
            limit: Some(1000),
            order: Some("id"),
        };
        let call = Call::search_read(
            "sale.order",
            domain("id", "in", Value::ints(&[1, 2])),
            &["name", "amount_total"],
            &opts,
        );
        assert_eq!(
            jsonrpc(&call),
            format!(
                r#"{RPC_HEAD}"sale.order","search_read",[],{{"domain":[["id","in",[1,2]]],"fields":["name","amount_total"],"limit":1000,"order":"id"}}]}},"id":1}}"#
            )
        );
        assert_eq!(
            xml_args(&call),
            "<string>search_read</string></value></param><param><value><array><data></data></array></value></param><param><value><struct><member><name>domain</name><value><array><data><value><array><data><value><string>id</string></value><value><string>in</string></value><value><array><data><value><int>1</int></value><value><int>2</int></value></data></array></value></data></array></value></data></array></value></member><member><name>fields</name><value><array><data><value><string>name</string></value><value><string>amount_total</string></value></data></array></value></member><member><name>limit</name><value><int>1000</int></value></member><member><name>order</name><value><string>id</string></value></member></struct></value></param></params></methodCall>"
        );
        assert_eq!(
            json2(&call),
            (
                "/json/2/sale.order/search_read".into(),
                r#"{"domain":[["id","in",[1,2]]],"fields":["name","amount_total"],"limit":1000,"order":"id"}"#.into()
            )
        );
    }

    #[test]
    fn write_sends_ids_and_vals_positionally_over_rpc_as_recorded() {
        let call = Call::write(
            "base.automation",
            &[2],
            Value::Struct(vec![("active".into(), Value::Bool(false))]),
        );
        assert_eq!(
            jsonrpc(&call),
            format!(
                r#"{RPC_HEAD}"base.automation","write",[[2],{{"active":false}}],{{}}]}},"id":1}}"#
            )
        );
        assert_eq!(
            json2(&call),
            (
                "/json/2/base.automation/write".into(),
                r#"{"ids":[2],"vals":{"active":false}}"#.into()
            )
        );
    }

    #[test]
    fn read_sends_its_ids_positionally_over_rpc_and_by_name_over_json2() {
        let call = Call::read("sale.order", &[7], &["name"]);
        assert_eq!(
            jsonrpc(&call),
            format!(r#"{RPC_HEAD}"sale.order","read",[[7]],{{"fields":["name"]}}]}},"id":1}}"#)
        );
        assert_eq!(
            xml_args(&call),
            "<string>read</string></value></param><param><value><array><data><value><array><data><value><int>7</int></value></data></array></value></data></array></value></param><param><value><struct><member><name>fields</name><value><array><data><value><string>name</string></value></data></array></value></member></struct></value></param></params></methodCall>"
        );
        assert_eq!(
            json2(&call),
            (
                "/json/2/sale.order/read".into(),
                r#"{"ids":[7],"fields":["name"]}"#.into()
            )
        );
    }

    #[test]
    fn create_sends_its_values_positionally_over_rpc_and_as_vals_list_over_json2() {
        let vals = Value::object([("partner_id", Value::Int(9)), ("origin", Value::str("K"))]);
        let call = Call::create("sale.order", vec![vals]);
        assert_eq!(
            jsonrpc(&call),
            format!(
                r#"{RPC_HEAD}"sale.order","create",[[{{"partner_id":9,"origin":"K"}}]],{{}}]}},"id":1}}"#
            )
        );
        assert_eq!(
            xml_args(&call),
            "<string>create</string></value></param><param><value><array><data><value><array><data><value><struct><member><name>partner_id</name><value><int>9</int></value></member><member><name>origin</name><value><string>K</string></value></member></struct></value></data></array></value></data></array></value></param><param><value><struct></struct></value></param></params></methodCall>"
        );
        assert_eq!(
            json2(&call),
            (
                "/json/2/sale.order/create".into(),
                r#"{"vals_list":[{"partner_id":9,"origin":"K"}]}"#.into()
            )
        );
    }

    #[test]
    fn check_access_rights_sends_its_arguments_as_keywords() {
        let call = Call::check_access_rights("sale.order", "read");
        assert_eq!(
            jsonrpc(&call),
            format!(
                r#"{RPC_HEAD}"sale.order","check_access_rights",[],{{"operation":"read","raise_exception":false}}]}},"id":1}}"#
            )
        );
        assert_eq!(
            xml_args(&call),
            "<string>check_access_rights</string></value></param><param><value><array><data></data></array></value></param><param><value><struct><member><name>operation</name><value><string>read</string></value></member><member><name>raise_exception</name><value><boolean>0</boolean></value></member></struct></value></param></params></methodCall>"
        );
        assert_eq!(
            json2(&call),
            (
                "/json/2/sale.order/check_access_rights".into(),
                r#"{"operation":"read","raise_exception":false}"#.into()
            )
        );
    }

    #[test]
    fn has_access_is_called_on_no_records() {
        let call = Call::has_access("sale.order", "write");
        assert_eq!(
            jsonrpc(&call),
            format!(
                r#"{RPC_HEAD}"sale.order","has_access",[[]],{{"operation":"write"}}]}},"id":1}}"#
            )
        );
        assert_eq!(
            json2(&call),
            (
                "/json/2/sale.order/has_access".into(),
                r#"{"ids":[],"operation":"write"}"#.into()
            )
        );
    }

    #[test]
    fn context_get_has_no_arguments() {
        let call = Call::context_get();
        assert_eq!(
            json2(&call),
            ("/json/2/res.users/context_get".into(), "{}".into())
        );
        assert_eq!(
            jsonrpc(&call),
            format!(r#"{RPC_HEAD}"res.users","context_get",[],{{}}]}},"id":1}}"#)
        );
    }

    #[test]
    fn json2_sends_the_key_as_a_bearer_and_the_database_as_a_header() {
        let req = json2::request(&creds(), &Call::context_get()).unwrap();
        assert_eq!(
            req.headers,
            vec![
                ("Authorization", "bearer KEY".to_string()),
                ("X-Odoo-Database", "portal".to_string())
            ]
        );
    }

    #[test]
    fn the_rpc_password_travels_in_execute_kw() {
        assert!(xml(&Call::context_get()).contains("<string>pw</string>"));
    }
}

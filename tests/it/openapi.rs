//! `docs/openapi.json` held to the server: the routes `serve` has, the description it
//! serves, and real answers checked against the schemas (members, required ones, types).

use serde_json::Value;

use crate::api::{TOKEN, call, checkout, order_json};
use crate::env::TestEnv;
use crate::serve::Served;

const DOC: &str = include_str!("../../docs/openapi.json");
const SERVE: &str = include_str!("../../src/commands/serve/mod.rs");

fn doc() -> Value {
    serde_json::from_str(DOC).unwrap()
}

/// `(path, method)` of every `/v1` route in serve's router.
fn routes() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = SERVE
        .lines()
        .filter_map(|l| {
            let rest = l.trim().strip_prefix(".route(\"")?;
            let (path, rest) = rest.split_once('"')?;
            let method = rest.trim_start_matches([',', ' ']).split('(').next()?;
            path.starts_with("/v1")
                .then(|| (path.to_string(), method.to_string()))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn the_description_names_exactly_the_routes_serve_has() {
    let mut documented: Vec<(String, String)> = doc()["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(|m| (path.clone(), m.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    documented.sort();
    assert!(routes().len() >= 6, "{:?}", routes());
    assert_eq!(documented, routes());
}

#[test]
fn the_description_is_served_without_a_token() {
    let env = TestEnv::new();
    env.link_deco();
    let served = Served::start_with_env(&env, &["--poll", "0"], &[]);
    let a = call(&served.addr, "GET", "/v1/openapi.json", &[], "");
    assert_eq!(a.status, 200);
    assert_eq!(a.body, doc());
    assert_eq!(a.body["openapi"], "3.1.0");
    served.stop();
}

/// Resolves `#/components/...`.
fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let mut at = root;
            for part in r.trim_start_matches("#/").split('/') {
                at = &at[part];
            }
            resolve(root, at)
        }
        None => schema,
    }
}

/// Whether `v` fits `schema`: types, const/enum, required members, and no member the
/// schema does not document where it says so. Returns the first misfit.
fn check(root: &Value, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    let schema = resolve(root, schema);
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            check(root, s, v, at)?;
        }
    }
    if let Some(any) = schema.get("oneOf").and_then(Value::as_array)
        && !any.iter().any(|s| check(root, s, v, at).is_ok())
    {
        return Err(format!("{at}: {v} fits none of oneOf"));
    }
    if let Some(c) = schema.get("const")
        && c != v
    {
        return Err(format!("{at}: {v} is not {c}"));
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array)
        && !e.contains(v)
    {
        return Err(format!("{at}: {v} is not one of {e:?}"));
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let fits = types.iter().any(|t| match *t {
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "null" => v.is_null(),
            "object" => v.is_object(),
            "array" => v.is_array(),
            _ => true,
        });
        if !fits {
            return Err(format!("{at}: {v} is not {types:?}"));
        }
    }
    if let (Some(props), Some(obj)) = (
        schema.get("properties").and_then(Value::as_object),
        v.as_object(),
    ) {
        for (k, s) in props {
            if let Some(x) = obj.get(k) {
                check(root, s, x, &format!("{at}.{k}"))?;
            }
        }
        if schema.get("additionalProperties") == Some(&Value::Bool(false))
            && let Some(k) = obj.keys().find(|k| !props.contains_key(*k))
        {
            return Err(format!("{at}: member {k} is not documented"));
        }
    }
    if let (Some(req), Some(obj)) = (
        schema.get("required").and_then(Value::as_array),
        v.as_object(),
    ) {
        for k in req.iter().filter_map(Value::as_str) {
            if !obj.contains_key(k) {
                return Err(format!("{at}: required member {k} is missing"));
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for (i, x) in arr.iter().enumerate() {
            check(root, items, x, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

/// The documented answer of `path`/`method` with `status`.
fn answer_schema(root: &Value, path: &str, method: &str, status: u16) -> Value {
    let r = &root["paths"][path][method]["responses"][status.to_string()];
    assert!(!r.is_null(), "{method} {path} does not document {status}");
    let r = resolve(root, r);
    r["content"]["application/json"]["schema"].clone()
}

fn holds(root: &Value, path: &str, method: &str, a: &crate::api::Answer) {
    let schema = answer_schema(root, path, method, a.status);
    if let Err(e) = check(root, &schema, &a.body, "answer") {
        panic!("{method} {path} {}: {e}\n{}", a.status, a.body);
    }
}

#[test]
fn the_check_refuses_an_undocumented_member_and_a_missing_required_one() {
    let root = doc();
    let customer = serde_json::json!({"$ref": "#/components/schemas/Customer"});
    let good = serde_json::json!({"id": 1, "name": "A", "email": "a@b.c", "odoo_partner_id": null, "created_at": "2026-12-02T00:00:00Z"});
    assert_eq!(check(&root, &customer, &good, "c"), Ok(()));
    let mut extra = good.clone();
    extra["secret"] = Value::from(1);
    assert!(check(&root, &customer, &extra, "c").is_err());
    let mut short = good;
    short.as_object_mut().unwrap().remove("email");
    assert!(check(&root, &customer, &short, "c").is_err());
}

#[test]
fn real_answers_fit_the_documented_envelope_and_schemas() {
    let root = doc();
    let env = TestEnv::new();
    env.link_deco();
    let served =
        Served::start_with_env(&env, &["--poll", "0"], &[("ORDERBRIDGE_API_TOKEN", TOKEN)]);
    let auth = [("Authorization", "Bearer api-token-0123456789abcdefghij")];
    let created = checkout(&served.addr, Some("oa-1"), &order_json("200.00"));
    holds(&root, "/v1/orders", "post", &created);
    let replay = checkout(&served.addr, Some("oa-1"), &order_json("200.00"));
    holds(&root, "/v1/orders", "post", &replay);
    let reused = checkout(&served.addr, Some("oa-1"), &order_json("1.00"));
    assert_eq!(reused.status, 422);
    holds(&root, "/v1/orders", "post", &reused);
    let bad = checkout(&served.addr, Some("oa-2"), "{\"customer_id\": 1}");
    holds(&root, "/v1/orders", "post", &bad);
    let no_token = call(&served.addr, "POST", "/v1/orders", &[], &order_json("1"));
    holds(&root, "/v1/orders", "post", &no_token);
    let id = created.body["data"]["order"]["id"].as_i64().unwrap();
    let shown = call(&served.addr, "GET", &format!("/v1/orders/{id}"), &auth, "");
    holds(&root, "/v1/orders/{which}", "get", &shown);
    let missing = call(&served.addr, "GET", "/v1/orders/S99999", &auth, "");
    holds(&root, "/v1/orders/{which}", "get", &missing);
    let listed = call(&served.addr, "GET", "/v1/customers/1/orders", &auth, "");
    holds(&root, "/v1/customers/{id}/orders", "get", &listed);
    let customer = call(
        &served.addr,
        "POST",
        "/v1/customers",
        &auth,
        r#"{"name": "OA", "email": "oa@example.com"}"#,
    );
    holds(&root, "/v1/customers", "post", &customer);
    let events = call(&served.addr, "GET", "/v1/events", &auth, "");
    assert!(!events.body["data"]["events"].as_array().unwrap().is_empty());
    holds(&root, "/v1/events", "get", &events);
    served.stop();
}

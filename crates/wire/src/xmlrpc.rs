//! The XML-RPC codec, both directions: a client's calls and a server's answers, shaped as
//! Python's `xmlrpc.client` and Odoo write them. quick-xml tokenizes; the mapping is ours so
//! that `<double>` keeps its wire text (money is never an `f64`).

use std::fmt::Write as _;

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::value::Value;

/// A decoded `<methodResponse>`.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    Params(Value),
    /// `faultCode` is usually an int, but Odoo's legacy `/xmlrpc/object` sends a string.
    Fault {
        code: Value,
        string: String,
    },
}

/// Encodes a `<methodCall>` the way Python's xmlrpc.client does.
pub fn encode_call(method: &str, params: &[Value]) -> String {
    let mut out = String::with_capacity(256);
    out.push_str("<?xml version='1.0'?>\n<methodCall>\n<methodName>");
    out.push_str(&escape(method));
    out.push_str("</methodName>\n<params>\n");
    for p in params {
        out.push_str("<param>\n");
        write_value(&mut out, p);
        out.push_str("</param>\n");
    }
    out.push_str("</params>\n</methodCall>\n");
    out
}

/// Encodes a successful `<methodResponse>` the way Odoo does.
pub fn encode_response(result: &Value) -> String {
    let mut out = String::with_capacity(256);
    out.push_str("<?xml version=\"1.0\"?>\n<methodResponse>\n<params>\n<param>\n");
    write_value(&mut out, result);
    out.push_str("</param>\n</params>\n\n</methodResponse>\n");
    out
}

/// Encodes a `<fault>` response the way Odoo does.
pub fn encode_fault(code: &Value, string: &str) -> String {
    let mut out = String::with_capacity(256);
    out.push_str("<?xml version=\"1.0\"?>\n<methodResponse>\n<fault>\n");
    let fault = Value::object([
        ("faultCode", code.clone()),
        ("faultString", Value::str(string)),
    ]);
    write_value(&mut out, &fault);
    out.push_str("</fault>\n\n</methodResponse>\n");
    out
}

fn escape(s: &str) -> String {
    // Python's xmlrpc.client escapes exactly these three.
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn write_value(out: &mut String, v: &Value) {
    out.push_str("<value>");
    match v {
        Value::Nil => out.push_str("<nil/>"),
        Value::Bool(b) => {
            let _ = write!(out, "<boolean>{}</boolean>", u8::from(*b));
        }
        Value::Int(i) => {
            let _ = write!(out, "<int>{i}</int>");
        }
        Value::Double(s) => {
            let _ = write!(out, "<double>{s}</double>");
        }
        Value::Str(s) => {
            let _ = write!(out, "<string>{}</string>", escape(s));
        }
        Value::Array(items) => {
            out.push_str("<array><data>\n");
            for item in items {
                write_value(out, item);
            }
            out.push_str("</data></array>");
        }
        Value::Struct(members) => {
            out.push_str("<struct>\n");
            for (k, item) in members {
                let _ = write!(out, "<member>\n<name>{}</name>\n", escape(k));
                write_value(out, item);
                out.push_str("</member>\n");
            }
            out.push_str("</struct>");
        }
    }
    out.push_str("</value>\n");
}

/// Decodes a `<methodResponse>`.
pub fn decode_response(body: &str) -> Result<Response, String> {
    let mut p = Parser::new(body);
    p.expect_start("methodResponse")?;
    match p.next_tag()? {
        Tag::Start(t) if t == "params" => {
            p.expect_start("param")?;
            p.expect_start("value")?;
            let v = p.value()?;
            p.expect_end("param")?;
            p.expect_end("params")?;
            p.expect_end("methodResponse")?;
            Ok(Response::Params(v))
        }
        Tag::Start(t) if t == "fault" => {
            p.expect_start("value")?;
            let v = p.value()?;
            p.expect_end("fault")?;
            let code = v.get("faultCode").cloned().unwrap_or(Value::Nil);
            let string = v
                .get("faultString")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            Ok(Response::Fault { code, string })
        }
        other => Err(format!("expected <params> or <fault>, found {other}")),
    }
}

/// Decodes a `<methodCall>` into its method name and parameters.
pub fn decode_call(body: &str) -> Result<(String, Vec<Value>), String> {
    let mut p = Parser::new(body);
    p.expect_start("methodCall")?;
    p.expect_start("methodName")?;
    let name = p.text_until_end("methodName")?;
    let mut params = Vec::new();
    match p.next_tag()? {
        Tag::Start(t) if t == "params" => loop {
            match p.next_tag()? {
                Tag::Start(t) if t == "param" => {
                    p.expect_start("value")?;
                    params.push(p.value()?);
                    p.expect_end("param")?;
                }
                Tag::End(t) if t == "params" => break,
                other => return Err(format!("expected <param>, found {other}")),
            }
        },
        Tag::Empty(t) if t == "params" => {}
        Tag::End(t) if t == "methodCall" => return Ok((name, params)),
        other => return Err(format!("expected <params>, found {other}")),
    }
    p.expect_end("methodCall")?;
    Ok((name, params))
}

enum Tag {
    Start(String),
    End(String),
    Empty(String),
    Eof,
}

impl std::fmt::Display for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tag::Start(t) => write!(f, "<{t}>"),
            Tag::End(t) => write!(f, "</{t}>"),
            Tag::Empty(t) => write!(f, "<{t}/>"),
            Tag::Eof => write!(f, "the end of the document"),
        }
    }
}

struct Parser<'a> {
    r: Reader<&'a [u8]>,
}

fn name_of(raw: &str) -> String {
    raw.to_string()
}

impl<'a> Parser<'a> {
    fn new(body: &'a str) -> Self {
        Parser {
            r: Reader::from_str(body),
        }
    }

    /// The next start/end/empty tag, skipping whitespace, declarations and comments.
    fn next_tag(&mut self) -> Result<Tag, String> {
        loop {
            match self
                .r
                .read_event()
                .map_err(|e| format!("malformed XML: {e}"))?
            {
                Event::Start(e) => return Ok(Tag::Start(name_of(e.name().as_ref()))),
                Event::End(e) => return Ok(Tag::End(name_of(e.name().as_ref()))),
                Event::Empty(e) => return Ok(Tag::Empty(name_of(e.name().as_ref()))),
                Event::Text(t) => {
                    let s = t.xml10_content();
                    if s.trim().is_empty() {
                        continue;
                    }
                    return Err(format!(
                        "unexpected text '{}'",
                        s.chars().take(40).collect::<String>()
                    ));
                }
                Event::Eof => return Ok(Tag::Eof),
                _ => {}
            }
        }
    }

    fn expect_start(&mut self, name: &str) -> Result<(), String> {
        match self.next_tag()? {
            Tag::Start(t) if t == name => Ok(()),
            other => Err(format!("expected <{name}>, found {other}")),
        }
    }

    fn expect_end(&mut self, name: &str) -> Result<(), String> {
        match self.next_tag()? {
            Tag::End(t) if t == name => Ok(()),
            other => Err(format!("expected </{name}>, found {other}")),
        }
    }

    /// Text up to the closing tag, with entity and character references resolved.
    fn text_until_end(&mut self, name: &str) -> Result<String, String> {
        let mut s = String::new();
        loop {
            match self
                .r
                .read_event()
                .map_err(|e| format!("malformed XML: {e}"))?
            {
                Event::Text(t) => s.push_str(&t.xml10_content()),
                Event::CData(c) => s.push_str(&c.xml10_content()),
                Event::GeneralRef(r) => {
                    if let Ok(Some(ch)) = r.resolve_char_ref() {
                        s.push(ch);
                    } else {
                        match r.xml10_content().as_ref() {
                            "lt" => s.push('<'),
                            "gt" => s.push('>'),
                            "amp" => s.push('&'),
                            "quot" => s.push('"'),
                            "apos" => s.push('\''),
                            other => return Err(format!("unknown entity &{other};")),
                        }
                    }
                }
                Event::End(e) if e.name().as_ref() == name => return Ok(s),
                Event::Comment(_) => {}
                Event::Eof => return Err(format!("document ended inside <{name}>")),
                _ => return Err(format!("unexpected markup inside <{name}>")),
            }
        }
    }

    /// A value whose `<value>` start tag was just read; consumes its `</value>`.
    fn value(&mut self) -> Result<Value, String> {
        // A <value> holds either one typed element or bare text (a string).
        let mut text = String::new();
        loop {
            match self
                .r
                .read_event()
                .map_err(|e| format!("malformed XML: {e}"))?
            {
                Event::Text(t) => text.push_str(&t.xml10_content()),
                Event::GeneralRef(r) => {
                    // Rare in bare-text values; resolve the common entities.
                    match r.xml10_content().as_ref() {
                        "lt" => text.push('<'),
                        "gt" => text.push('>'),
                        "amp" => text.push('&'),
                        "quot" => text.push('"'),
                        "apos" => text.push('\''),
                        _ => {
                            if let Ok(Some(ch)) = r.resolve_char_ref() {
                                text.push(ch);
                            }
                        }
                    }
                }
                Event::End(e) if e.name().as_ref() == "value" => return Ok(Value::Str(text)),
                Event::Empty(e) => {
                    let v = match e.name().as_ref() {
                        "nil" => Value::Nil,
                        "string" => Value::Str(String::new()),
                        other => return Err(format!("unexpected empty <{}/>", name_of(other))),
                    };
                    self.expect_end("value")?;
                    return Ok(v);
                }
                Event::Start(e) => {
                    let tag = name_of(e.name().as_ref());
                    let v = self.typed(&tag)?;
                    self.expect_end("value")?;
                    return Ok(v);
                }
                Event::Comment(_) => {}
                Event::Eof => return Err("document ended inside <value>".into()),
                _ => return Err("unexpected markup inside <value>".into()),
            }
        }
    }

    fn typed(&mut self, tag: &str) -> Result<Value, String> {
        match tag {
            "int" | "i4" | "i8" => {
                let t = self.text_until_end(tag)?;
                t.trim()
                    .parse::<i64>()
                    .map(Value::Int)
                    .map_err(|_| format!("<{tag}> holds '{t}', not an integer"))
            }
            "boolean" => match self.text_until_end(tag)?.trim() {
                "0" => Ok(Value::Bool(false)),
                "1" => Ok(Value::Bool(true)),
                t => Err(format!("<boolean> holds '{t}'")),
            },
            "double" => {
                let t = self.text_until_end(tag)?;
                Ok(Value::Double(t.trim().to_string()))
            }
            "string" | "dateTime.iso8601" | "base64" => Ok(Value::Str(self.text_until_end(tag)?)),
            "nil" => {
                self.expect_end("nil")?;
                Ok(Value::Nil)
            }
            "array" => {
                let mut items = Vec::new();
                match self.next_tag()? {
                    Tag::Start(t) if t == "data" => loop {
                        match self.next_tag()? {
                            Tag::Start(t) if t == "value" => items.push(self.value()?),
                            Tag::End(t) if t == "data" => break,
                            other => {
                                return Err(format!("expected <value> in <data>, found {other}"));
                            }
                        }
                    },
                    Tag::Empty(t) if t == "data" => {}
                    other => return Err(format!("expected <data>, found {other}")),
                }
                self.expect_end("array")?;
                Ok(Value::Array(items))
            }
            "struct" => {
                let mut members = Vec::new();
                loop {
                    match self.next_tag()? {
                        Tag::Start(t) if t == "member" => {
                            self.expect_start("name")?;
                            let name = self.text_until_end("name")?;
                            self.expect_start("value")?;
                            let v = self.value()?;
                            self.expect_end("member")?;
                            members.push((name, v));
                        }
                        Tag::End(t) if t == "struct" => break,
                        other => return Err(format!("expected <member>, found {other}")),
                    }
                }
                Ok(Value::Struct(members))
            }
            other => Err(format!("unknown XML-RPC type <{other}>")),
        }
    }
}

/// Calls `method(*params)` on an XML-RPC endpoint (`/xmlrpc/2/common` or `/xmlrpc/2/object`).
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_round_trips() {
        let params = vec![
            Value::str("portal"),
            Value::Int(2),
            Value::str("a<b&c"),
            Value::Array(vec![Value::Array(vec![])]),
            Value::object([("fields", Value::strs(&["name"])), ("x", Value::Nil)]),
            Value::Double("100.0".into()),
            Value::Bool(false),
        ];
        let xml = encode_call("execute_kw", &params);
        assert_eq!(
            decode_call(&xml).unwrap(),
            ("execute_kw".to_string(), params)
        );
    }

    #[test]
    fn response_with_empty_array_and_false() {
        let body = "<?xml version=\"1.0\"?>\n<methodResponse>\n<params>\n<param>\n<value><array><data>\n</data></array></value>\n</param>\n</params>\n\n</methodResponse>\n";
        assert_eq!(
            decode_response(body).unwrap(),
            Response::Params(Value::Array(vec![]))
        );
        let body = "<?xml version=\"1.0\"?><methodResponse><params><param><value><boolean>0</boolean></value></param></params></methodResponse>";
        assert_eq!(
            decode_response(body).unwrap(),
            Response::Params(Value::Bool(false))
        );
    }

    #[test]
    fn fault_with_string_code_from_legacy_path() {
        let body = "<?xml version=\"1.0\"?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value><string>warning -- MissingError\n\nRecord does not exist or has been deleted.</string></value>\n</member>\n<member>\n<name>faultString</name>\n<value><string></string></value>\n</member>\n</struct></value>\n</fault>\n\n</methodResponse>\n";
        match decode_response(body).unwrap() {
            Response::Fault { code, string } => {
                assert!(
                    code.as_str()
                        .unwrap()
                        .starts_with("warning -- MissingError")
                );
                assert_eq!(string, "");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn entities_in_strings_are_resolved() {
        let body = "<methodResponse><params><param><value><string>&gt; 5 &amp; &lt;&#65;</string></value></param></params></methodResponse>";
        assert_eq!(
            decode_response(body).unwrap(),
            Response::Params(Value::str("> 5 & <A"))
        );
    }

    #[test]
    fn bare_value_text_is_a_string() {
        let body =
            "<methodResponse><params><param><value>plain</value></param></params></methodResponse>";
        assert_eq!(
            decode_response(body).unwrap(),
            Response::Params(Value::str("plain"))
        );
    }

    #[test]
    fn truncated_or_html_bodies_are_errors() {
        assert!(
            decode_response("<?xml version=\"1.0\"?><methodResponse><params><param><value><int>2")
                .is_err()
        );
        assert!(decode_response("<html><body>502 Bad Gateway</body></html>").is_err());
        assert!(decode_response("").is_err());
    }

    #[test]
    fn doubles_keep_their_text() {
        let body = "<methodResponse><params><param><value><double>857.8699999</double></value></param></params></methodResponse>";
        assert_eq!(
            decode_response(body).unwrap(),
            Response::Params(Value::Double("857.8699999".into()))
        );
    }
}

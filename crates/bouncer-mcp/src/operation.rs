//! What a JSON-RPC message asks for: the MCP operation whose scopes it
//! needs, read from the request body before the MCP service sees it.
//!
//! Strict where a lenient reading could differ from the MCP service's:
//!
//! - one JSON object per request; a batch (a JSON array; MCP 2025-06-18
//!   removed batching) is refused, as is anything else that is not an
//!   object;
//! - a duplicated `method`, `params`, `name` or `uri` member is refused (a
//!   reader taking the first and another taking the last would disagree on
//!   the operation);
//! - `params` must be an object; `tools/call` and `prompts/get` need a
//!   string `name`, `resources/read|subscribe|unsubscribe` a string `uri`;
//! - a message without `method` must be a response (`result` or `error`).
//!
//! Every refusal here is an [`OperationError`]: the layer answers it with
//! 400 after authenticating the caller, never passes the body on.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;

/// The operation a message asks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// A request naming no tool, resource or prompt (`initialize`, `ping`,
    /// `tools/list`, `resources/list`, …), or a notification.
    Method(String),
    /// `tools/call` of a tool.
    Tool(String),
    /// `resources/read`, `resources/subscribe` or `resources/unsubscribe` of
    /// a resource URI.
    Resource {
        /// The method.
        method: String,
        /// The resource's URI.
        uri: String,
    },
    /// `prompts/get` of a prompt.
    Prompt(String),
    /// A response (`result` or `error`) to a request the server sent.
    Response,
}

impl Operation {
    /// The operation's key in a [`ScopeTable`](crate::ScopeTable), and the
    /// permission the gate logs: the method, `tools/call:<tool>`,
    /// `<method>:<uri>`, `prompts/get:<prompt>`, or `response`.
    pub fn key(&self) -> String {
        match self {
            Self::Method(m) => m.clone(),
            Self::Tool(name) => format!("tools/call:{name}"),
            Self::Resource { method, uri } => format!("{method}:{uri}"),
            Self::Prompt(name) => format!("prompts/get:{name}"),
            Self::Response => "response".to_owned(),
        }
    }

    /// The method, `None` for a response.
    pub fn method(&self) -> Option<&str> {
        match self {
            Self::Method(m) | Self::Resource { method: m, .. } => Some(m),
            Self::Tool(_) => Some("tools/call"),
            Self::Prompt(_) => Some("prompts/get"),
            Self::Response => None,
        }
    }
}

/// Why a body names no operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OperationError {
    /// Not JSON, or not a JSON-RPC message (JSON-RPC `-32700`/`-32600`).
    #[error("the body is not a JSON-RPC message: {0}")]
    Malformed(String),
    /// A JSON array: batches are not accepted.
    #[error("JSON-RPC batches are not accepted")]
    Batch,
    /// A method that needs a target without one (`tools/call` without a
    /// string `name`, …).
    #[error("`{0}` needs a string `{1}` in its params")]
    MissingTarget(String, &'static str),
}

impl OperationError {
    /// The JSON-RPC error code for it: `-32700` for unparsable JSON,
    /// `-32600` for an invalid request, `-32602` for invalid params.
    pub fn jsonrpc_code(&self) -> i32 {
        match self {
            Self::Malformed(_) => -32700,
            Self::Batch => -32600,
            Self::MissingTarget(..) => -32602,
        }
    }
}

/// `params` as far as the operation needs it: an object, at most one
/// `name` and one `uri`.
#[derive(Default)]
struct Params<'a> {
    name: Option<Cow<'a, str>>,
    uri: Option<Cow<'a, str>>,
}

impl<'de> Deserialize<'de> for Params<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Params<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a params object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Params<'de>, A::Error> {
                let mut p = Params::default();
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    let slot = match key.as_ref() {
                        "name" => &mut p.name,
                        "uri" => &mut p.uri,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    if slot.is_some() {
                        return Err(de::Error::custom(format!("duplicate `{key}`")));
                    }
                    // A non-string name or URI names no target: left unset.
                    *slot = map.next_value::<StringOrOther<'de>>()?.0;
                }
                Ok(p)
            }
        }
        d.deserialize_map(V)
    }
}

/// A string, or `None` for any other JSON value.
struct StringOrOther<'a>(Option<Cow<'a, str>>);

impl<'de> Deserialize<'de> for StringOrOther<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StringOrOther<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(StringOrOther(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(StringOrOther(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(StringOrOther(Some(Cow::Owned(v))))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(StringOrOther(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(StringOrOther(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(StringOrOther(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(StringOrOther(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(StringOrOther(None))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(StringOrOther(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(StringOrOther(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// The top-level message: an object, read member by member so that a
/// duplicate is refused.
struct Message<'a> {
    method: Option<Cow<'a, str>>,
    params: Option<Params<'a>>,
    response: bool,
}

impl<'de> Deserialize<'de> for Message<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Message<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON-RPC message object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Message<'de>, A::Error> {
                let mut m = Message {
                    method: None,
                    params: None,
                    response: false,
                };
                let mut seen_params = false;
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    match key.as_ref() {
                        "method" => {
                            if m.method.is_some() {
                                return Err(de::Error::custom("duplicate `method`"));
                            }
                            m.method = Some(map.next_value()?);
                        }
                        "params" => {
                            if seen_params {
                                return Err(de::Error::custom("duplicate `params`"));
                            }
                            seen_params = true;
                            m.params = map.next_value()?;
                        }
                        "result" | "error" => {
                            m.response = true;
                            map.next_value::<IgnoredAny>()?;
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(m)
            }
        }
        d.deserialize_map(V)
    }
}

/// The operation `body` asks for.
///
/// ```
/// use bouncer_mcp::{operation_of, Operation, OperationError};
///
/// let call = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{}}}"#;
/// assert_eq!(operation_of(call), Ok(Operation::Tool("echo".into())));
/// assert_eq!(operation_of(b"[]"), Err(OperationError::Batch));
/// ```
pub fn operation_of(body: &[u8]) -> Result<Operation, OperationError> {
    let start = body
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    match start.and_then(|i| body.get(i)) {
        Some(b'{') => {}
        Some(b'[') => return Err(OperationError::Batch),
        _ => return Err(OperationError::Malformed("not a JSON object".to_owned())),
    }
    let message: Message<'_> =
        serde_json::from_slice(body).map_err(|e| OperationError::Malformed(e.to_string()))?;
    let Some(method) = message.method else {
        return if message.response {
            Ok(Operation::Response)
        } else {
            Err(OperationError::Malformed(
                "neither a request, a notification nor a response".to_owned(),
            ))
        };
    };
    let params = message.params.unwrap_or_default();
    let need = |target: Option<Cow<'_, str>>, member: &'static str| {
        target
            .map(Cow::into_owned)
            .ok_or_else(|| OperationError::MissingTarget(method.to_string(), member))
    };
    Ok(match method.as_ref() {
        "tools/call" => Operation::Tool(need(params.name, "name")?),
        "prompts/get" => Operation::Prompt(need(params.name, "name")?),
        "resources/read" | "resources/subscribe" | "resources/unsubscribe" => Operation::Resource {
            uri: need(params.uri, "uri")?,
            method: method.into_owned(),
        },
        _ => Operation::Method(method.into_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(s: &str) -> Result<Operation, OperationError> {
        operation_of(s.as_bytes())
    }

    #[test]
    fn each_kind_of_message_names_its_operation() {
        let table: &[(&str, Result<Operation, OperationError>)] = &[
            (
                r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}"#,
                Ok(Operation::Method("initialize".into())),
            ),
            (
                r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
                Ok(Operation::Method("notifications/initialized".into())),
            ),
            (
                r#" {"id":2,"method":"tools/call","params":{"arguments":{"name":"x"},"name":"echo"}}"#,
                Ok(Operation::Tool("echo".into())),
            ),
            (
                r#"{"id":3,"method":"resources/read","params":{"uri":"file:///a"}}"#,
                Ok(Operation::Resource {
                    method: "resources/read".into(),
                    uri: "file:///a".into(),
                }),
            ),
            (
                r#"{"id":4,"method":"prompts/get","params":{"name":"p"}}"#,
                Ok(Operation::Prompt("p".into())),
            ),
            (
                r#"{"jsonrpc":"2.0","id":5,"result":{}}"#,
                Ok(Operation::Response),
            ),
            (
                r#"{"jsonrpc":"2.0","id":5,"error":{"code":1,"message":"x"}}"#,
                Ok(Operation::Response),
            ),
            (
                r#"{"method":"tools/call\u002f"}"#,
                Ok(Operation::Method("tools/call/".into())),
            ),
            // An escaped method name is the same name.
            (
                r#"{"method":"tools\/call","params":{"name":"e\u0063ho"}}"#,
                Ok(Operation::Tool("echo".into())),
            ),
        ];
        for (body, want) in table {
            assert_eq!(&op(body), want, "{body}");
        }
    }

    #[test]
    fn anything_ambiguous_is_refused() {
        let refused = [
            "",
            "   ",
            "null",
            "\"tools/call\"",
            "{",
            r#"{"id":1}"#,
            r#"{"method":"tools/call","method":"ping"}"#,
            r#"{"method":"tools/call","params":{"name":"ping","name":"reset"}}"#,
            r#"{"method":"tools/call","params":{},"params":{"name":"reset"}}"#,
            r#"{"method":"tools/call","params":["reset"]}"#,
            r#"{"method":"tools/call","params":{"name":7}}"#,
            r#"{"method":"tools/call"}"#,
            r#"{"method":"resources/read","params":{"name":"x"}}"#,
            r#"{"method":"prompts/get","params":null}"#,
            r#"{"method":7}"#,
            "\u{feff}{\"method\":\"ping\"}",
            r#"{"method":"ping"} {"method":"tools/call"}"#,
        ];
        for body in refused {
            assert!(op(body).is_err(), "{body:?} gave {:?}", op(body));
        }
        assert_eq!(op(r#" [{"method":"ping"}]"#), Err(OperationError::Batch));
    }
}

#[cfg(test)]
mod props {
    use proptest::prelude::*;
    use serde_json::{json, Value};

    use super::*;

    /// What a lenient reader (serde_json's `Value`) sees as the operation.
    fn lenient(v: &Value) -> Option<Operation> {
        let method = v.get("method")?.as_str()?.to_owned();
        let target = |m: &str| v.get("params")?.get(m)?.as_str().map(str::to_owned);
        Some(match method.as_str() {
            "tools/call" => Operation::Tool(target("name")?),
            "prompts/get" => Operation::Prompt(target("name")?),
            "resources/read" | "resources/subscribe" | "resources/unsubscribe" => {
                Operation::Resource {
                    uri: target("uri")?,
                    method,
                }
            }
            _ => Operation::Method(method),
        })
    }

    fn method() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("tools/call".to_owned()),
            Just("prompts/get".to_owned()),
            Just("resources/read".to_owned()),
            Just("initialize".to_owned()),
            Just("notifications/initialized".to_owned()),
            "\\PC{0,24}",
        ]
    }

    proptest! {
        /// Whatever bytes arrive, the reader answers without panicking.
        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = operation_of(&body);
        }

        /// A message without duplicated members means to us what it means
        /// to a lenient JSON reader: the same operation, or a refusal.
        #[test]
        fn without_duplicates_we_agree_with_a_lenient_reader(
            method in method(),
            name in proptest::option::of("\\PC{0,16}"),
            uri in proptest::option::of("\\PC{0,16}"),
            extra in proptest::option::of("\\PC{0,8}"),
        ) {
            let mut params = serde_json::Map::new();
            if let Some(n) = &name { params.insert("name".into(), n.clone().into()); }
            if let Some(u) = &uri { params.insert("uri".into(), u.clone().into()); }
            if let Some(e) = &extra { params.insert("arguments".into(), json!({"name": e})); }
            let v = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
            let body = serde_json::to_vec(&v).unwrap();
            prop_assert_eq!(operation_of(&body).ok(), lenient(&v));
        }
    }
}

//! Reading an RFC 7662 §2.2 introspection response, strictly, and judging
//! it against what the resource server expects.
//!
//! The parser is the one place an allow can start, so it reads only what
//! is unambiguous: a JSON object with no member repeated at any depth,
//! `active` a JSON boolean, and every member bouncer maps (`sub`, `scope`,
//! `exp`, `aud`, …) of its registered type. Anything else is an unreadable
//! answer (the authenticator's 503), never an allow and never a 401 that
//! blames the caller.

use std::fmt;

use bouncer_core::{AuthnReason, Identity, Unauthenticated};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::jwt::{into_identity, Claims, ClaimsMapper};
use crate::secret::{hex, sha256};

/// Why an introspection response could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// Not JSON (or nested too deeply).
    #[error("the answer is not JSON")]
    NotJson,
    /// JSON, but not an object.
    #[error("the answer is not a JSON object")]
    NotObject,
    /// A member appears twice in one object: which one counts is
    /// ambiguous.
    #[error("the answer repeats a member")]
    DuplicateMember,
    /// `active` is missing or not a JSON boolean (`"true"` is not `true`).
    #[error("`active` is missing or not a JSON boolean")]
    Active,
    /// A member bouncer reads has the wrong type (`exp` as a string,
    /// `scope` as an array, …).
    #[error("a member of an active answer has the wrong type")]
    MemberType,
}

/// A JSON value that refuses repeated members at every depth (serde_json's
/// own `Value` silently keeps the last one).
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

/// Marks the duplicate-member error, told apart from other JSON errors.
const DUPLICATE: &str = "bouncer: duplicate member";

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut all = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            all.push(v);
        }
        Ok(Value::Array(all))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let Strict(value) = map.next_value()?;
            if members.insert(key, value).is_some() {
                return Err(de::Error::custom(DUPLICATE));
            }
        }
        Ok(Value::Object(members))
    }
}

/// An introspection response that could be read.
#[derive(Debug, Clone)]
pub struct IntrospectionResponse {
    /// `None` for `active: false` (whatever else the answer holds).
    active: Option<Active>,
}

#[derive(Debug, Clone)]
struct Active {
    claims: Claims,
    token_type: Option<String>,
    /// `cnf` present: the token is bound to a key (DPoP, mTLS).
    bound: bool,
}

impl IntrospectionResponse {
    /// Reads a response body (RFC 7662 §2.2). `active: false` reads as an
    /// inactive answer whatever else it holds; an active answer needs its
    /// mapped members of the right types.
    pub fn parse(body: &[u8]) -> Result<Self, ResponseError> {
        let Strict(value) = serde_json::from_slice(body).map_err(|e| {
            if e.to_string().starts_with(DUPLICATE) {
                ResponseError::DuplicateMember
            } else {
                ResponseError::NotJson
            }
        })?;
        let Value::Object(members) = value else {
            return Err(ResponseError::NotObject);
        };
        match members.get("active") {
            Some(Value::Bool(true)) => {}
            Some(Value::Bool(false)) => return Ok(Self { active: None }),
            _ => return Err(ResponseError::Active),
        }
        let token_type = match members.get("token_type") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(ResponseError::MemberType),
        };
        let bound = match members.get("cnf") {
            None => false,
            Some(Value::Object(_)) => true,
            Some(_) => return Err(ResponseError::MemberType),
        };
        let mut claims: Claims = serde_json::from_value(Value::Object(members))
            .map_err(|_| ResponseError::MemberType)?;
        claims.set_raw(body.to_vec());
        Ok(Self {
            active: Some(Active {
                claims,
                token_type,
                bound,
            }),
        })
    }

    /// Whether the authorization server said `active: true`.
    pub fn is_active(&self) -> bool {
        self.active.is_some()
    }

    /// The members of an active answer, as the JWT mapping reads them.
    pub fn claims(&self) -> Option<&Claims> {
        self.active.as_ref().map(|a| &a.claims)
    }

    /// `exp` of an active answer.
    pub(crate) fn exp(&self) -> Option<u64> {
        self.active.as_ref().and_then(|a| a.claims.exp)
    }
}

/// What an active answer must also say for the token to be ours.
#[derive(Debug, Clone, Default)]
pub(crate) struct Expect {
    pub(crate) audience: Option<String>,
    pub(crate) issuer: Option<String>,
}

fn invalid(why: &'static str) -> Unauthenticated {
    Unauthenticated::new(AuthnReason::InvalidToken).with_description(why)
}

/// The revocation id of a token: `jti:<jti>` when the answer names one,
/// else `sha256:<hex>` of the token (as for a JWT without `jti`, so one
/// revocation store serves both).
pub(crate) fn revocation_id(claims: &Claims, token: &str) -> String {
    match &claims.jti {
        Some(jti) => format!("jti:{jti}"),
        None => format!("sha256:{}", hex(&sha256(token.as_bytes()))),
    }
}

/// Judges a read answer for `token` at `now` (seconds since the epoch).
pub(crate) fn judge(
    response: &IntrospectionResponse,
    token: &str,
    now: u64,
    expect: &Expect,
    mapper: Option<&dyn ClaimsMapper>,
) -> Result<Identity, Unauthenticated> {
    let Some(active) = &response.active else {
        return Err(invalid("the token is not active"));
    };
    if active.bound {
        return Err(invalid(
            "the token is bound to a key and is not a bearer token",
        ));
    }
    if active
        .token_type
        .as_deref()
        .is_some_and(|t| !t.eq_ignore_ascii_case("bearer"))
    {
        return Err(invalid("the token is not a bearer token"));
    }
    let claims = &active.claims;
    if let Some(iss) = &expect.issuer {
        if claims.iss.as_deref() != Some(iss.as_str()) {
            return Err(invalid("the token is from another issuer"));
        }
    }
    if let Some(aud) = &expect.audience {
        if !claims
            .aud
            .as_ref()
            .is_some_and(|a| a.iter().any(|x| x == aud))
        {
            return Err(invalid("the token is for another audience"));
        }
    }
    if claims.exp.is_some_and(|exp| exp <= now) {
        return Err(Unauthenticated::new(AuthnReason::TokenExpired));
    }
    if claims.nbf.is_some_and(|nbf| nbf > now) {
        return Err(invalid("the token is not valid yet"));
    }
    let mut claims = claims.clone();
    // A client-credentials token has no `sub` (RFC 7662 §2.2): the client
    // is the subject, and the mapping makes it a service.
    if claims.sub.as_deref().is_none_or(str::is_empty) {
        claims.sub = claims.client_id.clone();
    }
    let id = revocation_id(&claims, token);
    let none = || invalid("the answer names no subject");
    match mapper {
        Some(m) => {
            let identity = into_identity(claims.clone(), id).ok_or_else(none)?;
            m.map(&claims, identity)
        }
        None => into_identity(claims, id).ok_or_else(none),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use bouncer_core::PrincipalKind;

    use super::*;

    const NOW: u64 = 1_000_000_000;
    const AUD: &str = "https://api.example";
    const ISS: &str = "https://as.example";

    fn expect() -> Expect {
        Expect {
            audience: Some(AUD.into()),
            issuer: Some(ISS.into()),
        }
    }

    fn judged(body: &str) -> Result<Result<Identity, AuthnReason>, ResponseError> {
        let r = IntrospectionResponse::parse(body.as_bytes())?;
        Ok(judge(&r, "tok", NOW, &expect(), None).map_err(|e| e.reason()))
    }

    /// RFC 7662 §2.2's example, with our issuer and audience.
    const GOOD: &str = r#"{"active":true,"client_id":"l238j323ds-23ij4","username":"jdoe",
        "scope":"read write dolphin","sub":"Z5O3upPC88QrAjx00dis","aud":"https://api.example",
        "iss":"https://as.example","exp":1419356238000,"iat":1419350238,"extension_field":"twenty-seven"}"#;

    #[test]
    fn the_rfc_example_maps_into_an_identity() {
        let id = judged(GOOD).unwrap().unwrap();
        assert_eq!(id.subject(), "Z5O3upPC88QrAjx00dis");
        assert_eq!(id.kind(), PrincipalKind::User);
        assert_eq!(
            id.scopes().unwrap(),
            &["read".to_owned(), "write".into(), "dolphin".into()]
        );
        assert_eq!(
            id.credential().id().unwrap(),
            format!("sha256:{}", hex(&sha256(b"tok")))
        );
        assert!(id.credential().expires_at().is_some());
    }

    #[test]
    fn the_parsing_table() {
        use AuthnReason::*;
        use ResponseError::*;
        let exp = NOW + 60;
        let ok = |extra: &str| {
            format!(
                r#"{{"active":true,"sub":"al","aud":"{AUD}","iss":"{ISS}","exp":{exp}{extra}}}"#
            )
        };
        // (body, outcome): Ok(Ok(())) allows, Ok(Err(reason)) is a 401,
        // Err(e) an unreadable answer (503).
        type Outcome = Result<Result<(), AuthnReason>, ResponseError>;
        let table: Vec<(String, Outcome)> = vec![
            (ok(""), Ok(Ok(()))),
            (ok(r#","token_type":"Bearer""#), Ok(Ok(()))),
            (ok(r#","token_type":"bearer""#), Ok(Ok(()))),
            (ok(r#","unknown":{"deep":[1,2,{"x":null}]}"#), Ok(Ok(()))),
            (r#"{"active":false}"#.into(), Ok(Err(InvalidToken))),
            // Inactive wins over anything else in the answer.
            (
                r#"{"active":false,"sub":"al","exp":"soon"}"#.into(),
                Ok(Err(InvalidToken)),
            ),
            // `active` must be a JSON boolean.
            (r#"{"active":"true","sub":"al"}"#.into(), Err(Active)),
            (r#"{"active":1,"sub":"al"}"#.into(), Err(Active)),
            (r#"{"active":null}"#.into(), Err(Active)),
            (r#"{"sub":"al"}"#.into(), Err(Active)),
            (r#"{"Active":true,"sub":"al"}"#.into(), Err(Active)),
            // Repeated members, at the top or nested.
            (
                r#"{"active":false,"active":true,"sub":"al"}"#.into(),
                Err(DuplicateMember),
            ),
            (
                r#"{"active":true,"active":true,"sub":"al"}"#.into(),
                Err(DuplicateMember),
            ),
            (ok(r#","cnf":{"jkt":"a","jkt":"b"}"#), Err(DuplicateMember)),
            (ok(r#","sub":"eve""#), Err(DuplicateMember)),
            // Not JSON, not an object.
            ("".into(), Err(NotJson)),
            ("active=true".into(), Err(NotJson)),
            (r#"{"active":true"#.into(), Err(NotJson)),
            (r#"{"active":true} {}"#.into(), Err(NotJson)),
            ("[true]".into(), Err(NotObject)),
            ("true".into(), Err(NotObject)),
            // Mapped members of the wrong type.
            (ok(r#","scope":["a"]"#), Err(MemberType)),
            (
                r#"{"active":true,"sub":"al","exp":"1"}"#.into(),
                Err(MemberType),
            ),
            (
                r#"{"active":true,"sub":"al","exp":-1}"#.into(),
                Err(MemberType),
            ),
            (
                r#"{"active":true,"sub":"al","exp":1.5}"#.into(),
                Err(MemberType),
            ),
            (r#"{"active":true,"sub":7}"#.into(), Err(MemberType)),
            (ok(r#","token_type":1"#), Err(MemberType)),
            (ok(r#","cnf":"x""#), Err(MemberType)),
            (
                r#"{"active":true,"sub":"al","aud":[1]}"#.into(),
                Err(MemberType),
            ),
            // Active, but not for us.
            (
                r#"{"active":true,"sub":"al","iss":"https://as.example","exp":2000000000}"#.into(),
                Ok(Err(InvalidToken)),
            ),
            (
                format!(r#"{{"active":true,"sub":"al","aud":"https://other","iss":"{ISS}"}}"#),
                Ok(Err(InvalidToken)),
            ),
            (
                format!(
                    r#"{{"active":true,"sub":"al","aud":["https://other","{AUD}"],"iss":"{ISS}"}}"#
                ),
                Ok(Ok(())),
            ),
            (
                format!(r#"{{"active":true,"sub":"al","aud":"{AUD}"}}"#),
                Ok(Err(InvalidToken)),
            ),
            (
                format!(r#"{{"active":true,"sub":"al","aud":"{AUD}","iss":"https://evil"}}"#),
                Ok(Err(InvalidToken)),
            ),
            (
                format!(r#"{{"active":true,"sub":"al","aud":"{AUD}","iss":"{ISS}","exp":{NOW}}}"#),
                Ok(Err(TokenExpired)),
            ),
            (
                format!(
                    r#"{{"active":true,"sub":"al","aud":"{AUD}","iss":"{ISS}","nbf":{}}}"#,
                    NOW + 1
                ),
                Ok(Err(InvalidToken)),
            ),
            (ok(r#","cnf":{"jkt":"abc"}"#), Ok(Err(InvalidToken))),
            (ok(r#","token_type":"DPoP""#), Ok(Err(InvalidToken))),
            // No subject at all.
            (
                format!(r#"{{"active":true,"aud":"{AUD}","iss":"{ISS}"}}"#),
                Ok(Err(InvalidToken)),
            ),
            (
                format!(r#"{{"active":true,"sub":"","aud":"{AUD}","iss":"{ISS}"}}"#),
                Ok(Err(InvalidToken)),
            ),
        ];
        for (body, want) in table {
            let got = judged(&body).map(|r| r.map(|_| ()));
            assert_eq!(got, want, "{body}");
        }
    }

    #[test]
    fn a_client_credentials_answer_is_the_clients_service_identity() {
        let body = format!(
            r#"{{"active":true,"client_id":"svc","aud":"{AUD}","iss":"{ISS}","scope":"a b","jti":"j1","organization_id":"acme"}}"#
        );
        let id = judged(&body).unwrap().unwrap();
        assert_eq!(id.subject(), "svc");
        assert_eq!(id.kind(), PrincipalKind::Service);
        assert_eq!(id.organization(), Some("acme"));
        assert_eq!(id.credential().id(), Some("jti:j1"));
    }

    #[test]
    fn without_expectations_issuer_and_audience_are_not_required() {
        let r = IntrospectionResponse::parse(br#"{"active":true,"sub":"al"}"#).unwrap();
        assert!(judge(&r, "t", NOW, &Expect::default(), None).is_ok());
        assert_eq!(r.exp(), None);
    }

    #[test]
    fn a_custom_mapping_runs_after_the_default_one() {
        let r = IntrospectionResponse::parse(
            br#"{"active":true,"sub":"al","realm_access":{"roles":["x"]},"tier":"gold"}"#,
        )
        .unwrap();
        let m = |c: &Claims, id: Identity| {
            if c.get("tier") == Some(Value::from("gold")) {
                Ok(id.with_roles(["gold"]))
            } else {
                Err(Unauthenticated::new(AuthnReason::InvalidToken))
            }
        };
        let id = judge(&r, "t", NOW, &Expect::default(), Some(&m)).unwrap();
        assert_eq!(id.roles(), &["gold".to_owned()]);
    }

    mod props {
        use proptest::prelude::*;

        use super::*;

        fn value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                2 => Just(Value::Bool(true)),
                1 => Just(Value::Bool(false)),
                1 => Just(Value::Null),
                1 => Just(Value::from("true")),
                2 => Just(Value::from(AUD)),
                2 => Just(Value::from(ISS)),
                1 => Just(Value::from("Bearer")),
                1 => Just(Value::from("DPoP")),
                1 => Just(Value::from("")),
                1 => "[a-z]{1,6}".prop_map(Value::from),
                4 => (NOW - 3..NOW + 3).prop_map(Value::from),
                1 => any::<i64>().prop_map(Value::from),
                1 => Just(Value::from(1.5)),
            ];
            leaf.prop_recursive(2, 8, 3, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                    prop::collection::btree_map("[a-z]{1,3}", inner, 0..3)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        fn key() -> impl Strategy<Value = String> {
            prop_oneof![
                4 => Just("active".to_owned()),
                2 => Just("sub".to_owned()),
                2 => Just("aud".to_owned()),
                2 => Just("iss".to_owned()),
                3 => Just("exp".to_owned()),
                3 => Just("nbf".to_owned()),
                1 => Just("client_id".to_owned()),
                1 => Just("cnf".to_owned()),
                1 => Just("token_type".to_owned()),
                1 => Just("scope".to_owned()),
                1 => "[a-z]{1,8}",
            ]
        }

        /// Values that sit on the edge of each member's check.
        fn near(key: &str) -> Vec<Value> {
            use serde_json::json;
            match key {
                "active" => vec![
                    json!(true),
                    json!(false),
                    json!("true"),
                    json!(1),
                    json!(null),
                ],
                "exp" | "nbf" => vec![
                    json!(NOW - 1),
                    json!(NOW),
                    json!(NOW + 1),
                    json!(NOW.to_string()),
                    json!(-1),
                    json!(1.5),
                    json!(null),
                ],
                "aud" => vec![
                    json!(AUD),
                    json!([AUD]),
                    json!(["x", AUD]),
                    json!("x"),
                    json!([]),
                    json!([1]),
                    json!(format!("{AUD}/")),
                    json!({"aud": AUD}),
                ],
                "iss" => vec![json!(ISS), json!("x"), json!(""), json!([ISS])],
                "sub" | "client_id" => vec![json!("al"), json!(""), json!(7), json!(null)],
                "cnf" => vec![json!({"jkt": "a"}), json!("x"), json!({}), json!(null)],
                "token_type" => vec![json!("Bearer"), json!("bearer"), json!("DPoP"), json!(1)],
                _ => vec![json!("x"), json!(1), json!({"active": true})],
            }
        }

        fn member() -> impl Strategy<Value = (String, Value)> {
            key().prop_flat_map(|k| {
                let v = prop_oneof![3 => prop::sample::select(near(&k)), 1 => value()];
                (Just(k), v)
            })
        }

        /// What an allow requires, judged from the members as generated
        /// (so repeated members are seen, which a parsed map hides).
        fn may_allow(members: &[(String, Value)]) -> bool {
            let one = |k: &str| {
                let mut it = members.iter().filter(|(n, _)| n == k).map(|(_, v)| v);
                let first = it.next();
                if it.next().is_some() {
                    Err(())
                } else {
                    Ok(first)
                }
            };
            let mut keys: Vec<&String> = members.iter().map(|(k, _)| k).collect();
            keys.sort();
            keys.dedup();
            if keys.len() != members.len() {
                return false;
            }
            let Ok(Some(Value::Bool(true))) = one("active") else {
                return false;
            };
            let aud_ok = match one("aud") {
                Ok(Some(Value::String(a))) => a == AUD,
                Ok(Some(Value::Array(a))) => a.iter().any(|x| x == AUD),
                _ => false,
            };
            let iss_ok = matches!(one("iss"), Ok(Some(Value::String(i))) if i == ISS);
            let exp_ok = match one("exp") {
                Ok(None) => true,
                Ok(Some(v)) => v.as_u64().is_some_and(|e| e > NOW),
                Err(()) => false,
            };
            let nbf_ok = match one("nbf") {
                Ok(None) => true,
                Ok(Some(v)) => v.as_u64().is_some_and(|n| n <= NOW),
                Err(()) => false,
            };
            let unbound = matches!(one("cnf"), Ok(None));
            let bearer = match one("token_type") {
                Ok(None) => true,
                Ok(Some(Value::String(t))) => t.eq_ignore_ascii_case("bearer"),
                _ => false,
            };
            let named = |k: &str| matches!(one(k), Ok(Some(Value::String(s))) if !s.is_empty());
            aud_ok
                && iss_ok
                && exp_ok
                && nbf_ok
                && unbound
                && bearer
                && (named("sub") || named("client_id"))
        }

        fn render(members: &[(String, Value)]) -> String {
            let parts: Vec<String> = members
                .iter()
                .map(|(k, v)| format!("{}:{}", Value::from(k.as_str()), v))
                .collect();
            format!("{{{}}}", parts.join(","))
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(4000))]

            #[test]
            fn no_answer_allows_unless_active_is_true_and_every_check_passes(
                base in any::<bool>(),
                drop in 0usize..6,
                edits in prop::collection::vec((member(), any::<bool>(), any::<prop::sample::Index>()), 0..4),
            ) {
                // Half the cases start from an answer that allows, then
                // lose a member, and have members replaced or added
                // (repeats included): the edge where each check must hold.
                let mut members = if base { allowing() } else { Vec::new() };
                if drop < members.len() {
                    members.remove(drop);
                }
                for ((k, v), replace, at) in edits {
                    match members.iter_mut().find(|(n, _)| *n == k) {
                        Some(slot) if replace => slot.1 = v,
                        _ => {
                            let i = at.index(members.len() + 1);
                            members.insert(i, (k, v));
                        }
                    }
                }
                let body = render(&members);
                let allowed = IntrospectionResponse::parse(body.as_bytes())
                    .ok()
                    .and_then(|r| judge(&r, "t", NOW, &expect(), None).ok());
                if allowed.is_some() {
                    prop_assert!(may_allow(&members), "allowed: {body}");
                }
            }

            #[test]
            fn arbitrary_bytes_never_allow(body in prop::collection::vec(any::<u8>(), 0..64)) {
                let allowed = IntrospectionResponse::parse(&body)
                    .ok()
                    .and_then(|r| judge(&r, "t", NOW, &expect(), None).ok());
                prop_assert!(allowed.is_none());
            }
        }

        fn allowing() -> Vec<(String, Value)> {
            vec![
                ("active".to_owned(), Value::Bool(true)),
                ("sub".to_owned(), Value::from("al")),
                ("aud".to_owned(), Value::from(AUD)),
                ("iss".to_owned(), Value::from(ISS)),
            ]
        }

        #[test]
        fn the_oracle_is_not_vacuous() {
            // The base answer allows: the property is not trivially true.
            let members = allowing();
            assert!(may_allow(&members));
            let r = IntrospectionResponse::parse(render(&members).as_bytes()).unwrap();
            assert!(judge(&r, "t", NOW, &expect(), None).is_ok());
        }
    }
}

//! What is wrong with a response itself: where it breaks RFC 9110 §11
//! (challenges), RFC 6750 (Bearer), RFC 7617 (Basic), RFC 9470 (step-up),
//! RFC 9457 (problem details), or bouncer's one rule (401 when
//! authenticating could change the answer, 403 when it could not).

use bouncer_core::{Challenge, ChallengeError};
use serde_json::Value;

use super::codes;
use super::response::Response;

const BEARER_ERRORS: &[&str] = &[
    "invalid_request",
    "invalid_token",
    "insufficient_scope",
    "insufficient_user_authentication",
];

/// The problems of `res`. `presented`: whether the request carried
/// credentials, when known (`None`: judged from the code alone).
pub(crate) fn check(
    res: &Response,
    body: Option<&Value>,
    code: Option<&str>,
    challenges: Result<&Vec<Challenge>, &ChallengeError>,
    presented: Option<bool>,
) -> Vec<String> {
    let mut out = Vec::new();
    let status = res.status;
    let has_field = res.headers.contains_key(http::header::WWW_AUTHENTICATE);
    let challenges: &[Challenge] = match challenges {
        Ok(list) => list,
        Err(e) => {
            out.push(format!(
                "a WWW-Authenticate field does not parse as RFC 9110 §11 challenges: {e}"
            ));
            &[]
        }
    };
    if status == 401 && !has_field {
        out.push(
            "a 401 without WWW-Authenticate: RFC 9110 §15.5.2 requires at least one challenge"
                .into(),
        );
    }
    // No token (or no credentials at all) was presented.
    let no_token = presented == Some(false)
        || matches!(code, Some("missing_credentials" | "unsupported_scheme"));
    for c in challenges {
        let scheme = c.scheme().to_ascii_lowercase();
        if scheme == "basic" && c.get("realm").is_none() {
            out.push("a Basic challenge without `realm`: RFC 7617 §2 requires it".into());
        }
        if scheme != "bearer" {
            continue;
        }
        match c.get("error") {
            Some(e) if !BEARER_ERRORS.contains(&e) => out.push(format!(
                "Bearer error={e:?} is not a registered error code (RFC 6750 §3.1, RFC 9470 §3)"
            )),
            Some(e) if no_token && e != "insufficient_user_authentication" => out.push(format!(
                "Bearer error={e:?} although no token was presented: RFC 6750 §3.1 says the challenge SHOULD NOT carry an error code then"
            )),
            Some("insufficient_scope") if status != 403 => out.push(
                "error=\"insufficient_scope\" on a non-403: RFC 6750 §3.1 pairs it with 403".into(),
            ),
            Some("insufficient_user_authentication") => {
                if status != 401 {
                    out.push("error=\"insufficient_user_authentication\" on a non-401 (RFC 9470 §3)".into());
                }
                if c.get("acr_values").is_none() && c.get("max_age").is_none() {
                    out.push("a step-up challenge without acr_values or max_age: the client cannot tell what to do (RFC 9470 §3)".into());
                }
            }
            Some("invalid_token" | "invalid_request") if status != 401 && status != 400 => out.push(
                "error=\"invalid_token\"/\"invalid_request\" on a status other than 401/400 (RFC 6750 §3.1)".into(),
            ),
            _ => {}
        }
        if let Some(age) = c.get("max_age") {
            if age.parse::<u64>().is_err() {
                out.push(format!(
                    "max_age={age:?} is not a number of seconds (RFC 9470 §3)"
                ));
            }
        }
    }
    if let Some(code) = code {
        match codes::entry(code) {
            Some(e) if e.status != status => out.push(format!(
                "code {code:?} belongs with {} but the status is {status}{}",
                e.status,
                if e.status == 401 && status == 403 {
                    ": a 403 that should have been a 401 (authenticating could change the answer)"
                } else if e.status == 403 && status == 401 {
                    ": a 401 that should have been a 403 (authenticating again cannot help)"
                } else {
                    ""
                }
            )),
            Some(_) => {}
            None => out.push(format!("code {code:?} is not one of bouncer's codes")),
        }
        if code == "insufficient_scope"
            && !challenges
                .iter()
                .any(|c| c.get("error") == Some("insufficient_scope"))
        {
            out.push("insufficient_scope without a Bearer challenge carrying error=\"insufficient_scope\" and the scope (RFC 6750 §3.1)".into());
        }
    }
    if status == 403 && presented == Some(false) {
        let guard = matches!(code, Some("blocked_path" | "ip_blocked" | "geo_blocked"));
        if !guard {
            out.push("a 403 for an anonymous request: unless the refusal does not depend on who the caller is (a blocked path or address), it should be a 401 with a challenge".into());
        }
    }
    if matches!(status, 401 | 403) {
        let ct = res
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !ct.starts_with("application/problem+json") {
            out.push(format!(
                "content-type {ct:?}: bouncer answers application/problem+json (RFC 9457 §3)"
            ));
        }
    }
    if let Some(b) = body {
        if let Some(s) = b.get("status").and_then(Value::as_u64) {
            if s != u64::from(status) {
                out.push(format!(
                    "the problem body's status {s} differs from the HTTP status {status} (RFC 9457 §3.1.2)"
                ));
            }
        }
    }
    if status == 503 && !res.headers.contains_key(http::header::RETRY_AFTER) {
        out.push(
            "a 503 without Retry-After: bouncer always says when to retry (RFC 9110 §10.2.3)"
                .into(),
        );
    }
    out
}

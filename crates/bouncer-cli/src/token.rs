//! `bouncer token inspect TOKEN [--jwks FILE|URL] [--issuer I]
//! [--audience A] [--json]` (`explain.md` §5): a JWT's header and claims,
//! decoded without trusting them, its times relative to now, and, with
//! keys, whether the signature verifies (bouncer-authn's verifier) and which
//! validation fails.

use std::path::Path;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use bouncer_authn::jwt::{JwksConfig, JwksSource, JwtAuthenticator, JwtValidation, KeySet};
use serde_json::{json, Map, Value};

/// A token decoded without verifying anything.
#[derive(Debug, Clone)]
pub(crate) struct Decoded {
    pub(crate) header: Value,
    pub(crate) claims: Value,
}

/// Splits and decodes a compact JWS, trusting nothing.
pub(crate) fn decode(token: &str) -> Result<Decoded, String> {
    let token = token.trim();
    let token = token
        .strip_prefix("Bearer ")
        .or_else(|| token.strip_prefix("bearer "))
        .unwrap_or(token);
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(_s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("not a JWT: a compact JWS has three dot-separated parts".into());
    };
    let part = |p: &str, what: &str| -> Result<Value, String> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(p.trim_end_matches('='))
            .map_err(|e| format!("the {what} is not base64url: {e}"))?;
        serde_json::from_slice(&bytes).map_err(|e| format!("the {what} is not JSON: {e}"))
    };
    Ok(Decoded {
        header: part(h, "header")?,
        claims: part(c, "claims")?,
    })
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// `3m 20s ago` / `in 2h 5m`.
pub(crate) fn relative(t: i64, now: i64) -> String {
    let d = t - now;
    let a = d.unsigned_abs();
    let text = if a >= 86_400 {
        format!("{}d {}h", a / 86_400, a % 86_400 / 3600)
    } else if a >= 3600 {
        format!("{}h {}m", a / 3600, a % 3600 / 60)
    } else if a >= 60 {
        format!("{}m {}s", a / 60, a % 60)
    } else {
        format!("{a}s")
    };
    if d < 0 {
        format!("{text} ago")
    } else {
        format!("in {text}")
    }
}

/// The token's times relative to now, and the findings that would explain
/// a refusal: expired, not yet valid, wrong `iss`/`aud`, no `scope`, no MFA.
pub(crate) fn findings(
    d: &Decoded,
    issuer: Option<&str>,
    audience: Option<&str>,
) -> (Map<String, Value>, Vec<String>) {
    let now = now_secs();
    let mut times = Map::new();
    let mut out = Vec::new();
    for name in ["iat", "nbf", "exp", "auth_time"] {
        if let Some(t) = d.claims.get(name).and_then(Value::as_i64) {
            times.insert(name.to_owned(), json!(relative(t, now)));
        }
    }
    match d.claims.get("exp").and_then(Value::as_i64) {
        Some(exp) if exp < now => out.push(format!(
            "expired {} (exp): token_expired",
            relative(exp, now)
        )),
        Some(_) => {}
        None => out.push("no `exp` claim: a required claim is missing (invalid_token)".into()),
    }
    if let Some(nbf) = d.claims.get("nbf").and_then(Value::as_i64) {
        if nbf > now {
            out.push(format!(
                "not valid yet: nbf is {} (invalid_token)",
                relative(nbf, now)
            ));
        }
    }
    if d.claims.get("sub").is_none() {
        out.push("no `sub` claim: a required claim is missing (invalid_token)".into());
    }
    match d.header.get("alg").and_then(Value::as_str) {
        Some(a) if a.eq_ignore_ascii_case("none") => {
            out.push("alg is `none`: never accepted (invalid_token)".into())
        }
        None => out.push("no `alg` in the header (invalid_token)".into()),
        _ => {}
    }
    if let Some(want) = issuer {
        let iss = d.claims.get("iss").and_then(Value::as_str);
        if iss != Some(want) {
            out.push(format!(
                "wrong issuer: iss is {iss:?}, expected {want:?} (invalid_token)"
            ));
        }
    }
    if let Some(want) = audience {
        let ok = match d.claims.get("aud") {
            Some(Value::String(a)) => a == want,
            Some(Value::Array(v)) => v.iter().any(|a| a.as_str() == Some(want)),
            _ => false,
        };
        if !ok {
            out.push(format!(
                "wrong audience: aud is {}, expected {want:?} (invalid_token)",
                d.claims
                    .get("aud")
                    .map_or("absent".to_owned(), Value::to_string)
            ));
        }
    }
    if let Some(org) = d.claims.get("organization_id").and_then(Value::as_str) {
        out.push(format!(
            "bound to organization {org:?} (organization_id): a request for another organization is tenant_mismatch"
        ));
    }
    if let Some(Value::String(aud)) = d.claims.get("aud") {
        if let Some(org) = aud.strip_prefix("urn:logto:organization:") {
            out.push(format!(
                "bound to organization {org:?} (Logto's organization audience): a request for another organization is tenant_mismatch"
            ));
        }
    }
    if let Some(scope) = d.claims.get("scope").and_then(Value::as_str) {
        out.push(format!(
            "scope {scope:?}: a permission outside it is insufficient_scope, whatever the roles grant"
        ));
    }
    let mfa = d.claims.get("acr").and_then(Value::as_str) == Some("urn:logto:acr:mfa")
        || d.claims
            .get("amr")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|m| m.as_str() == Some("mfa")));
    if !mfa {
        out.push("no MFA: neither acr = \"urn:logto:acr:mfa\" nor \"mfa\" in amr (a route needing MFA answers mfa_required)".into());
    }
    (times, out)
}

/// The arguments of `bouncer token inspect`.
#[derive(Debug, clap::Args)]
pub(crate) struct InspectArgs {
    /// The token (a compact JWS; a leading `Bearer ` is ignored).
    token: String,
    /// A JWKS file or https URL whose keys verify the signature.
    #[arg(long, value_name = "FILE|URL")]
    jwks: Option<String>,
    /// The expected issuer (`iss`).
    #[arg(long)]
    issuer: Option<String>,
    /// The expected audience (`aud`).
    #[arg(long)]
    audience: Option<String>,
    /// One JSON object on stdout.
    #[arg(long)]
    json: bool,
}

/// Verifies with bouncer-authn's JWT authenticator: `Ok(subject)` or the
/// reason code it answered; `Err` when the keys or arguments are unusable.
pub(crate) fn verify(
    token: &str,
    jwks: &str,
    issuer: Option<&str>,
    audience: Option<&str>,
) -> Result<Result<String, String>, String> {
    let (Some(issuer), Some(audience)) = (issuer, audience) else {
        return Err(
            "verifying needs --issuer and --audience (bouncer never verifies without both)".into(),
        );
    };
    let validation = JwtValidation::new(issuer, audience);
    let auth = if jwks.starts_with("https://") || jwks.starts_with("http://") {
        // Plain http only to this machine (a local provider in a test).
        let local = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
            .iter()
            .any(|p| jwks.starts_with(p));
        let config = JwksConfig::default().with_allow_insecure_http(local);
        let source = JwksSource::new(jwks, config).map_err(|e| format!("{jwks}: {e}"))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime
            .block_on(source.refresh())
            .map_err(|e| format!("{jwks}: {e}"))?;
        JwtAuthenticator::from_jwks("bouncer", source, validation)
    } else {
        let keys = KeySet::from_jwks_file(Path::new(jwks)).map_err(|e| format!("{jwks}: {e}"))?;
        JwtAuthenticator::new("bouncer", keys, validation)
    };
    Ok(match auth.identify(token) {
        Ok(id) => Ok(id.subject().to_owned()),
        Err(r) => Err(r.reason().to_string()),
    })
}

/// Runs `bouncer token inspect`: 0 when decoded (and verified, with keys),
/// 1 when the signature or a validation fails, 2 when unreadable.
#[allow(clippy::print_stdout)]
pub(crate) fn inspect(args: &InspectArgs) -> ExitCode {
    let decoded = match decode(&args.token) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("bouncer token inspect: {e}");
            return ExitCode::from(2);
        }
    };
    let (times, findings) = findings(&decoded, args.issuer.as_deref(), args.audience.as_deref());
    let verified = match &args.jwks {
        None => None,
        Some(j) => match verify(
            args.token.trim().trim_start_matches("Bearer "),
            j,
            args.issuer.as_deref(),
            args.audience.as_deref(),
        ) {
            Ok(v) => Some(v),
            Err(e) => {
                eprintln!("bouncer token inspect: {e}");
                return ExitCode::from(2);
            }
        },
    };
    if args.json {
        let mut out = json!({
            "header": decoded.header,
            "claims": decoded.claims,
            "times": times,
            "findings": findings,
        });
        if let (Some(v), Some(o)) = (&verified, out.as_object_mut()) {
            o.insert(
                "verified".into(),
                match v {
                    Ok(sub) => json!({"ok": true, "subject": sub}),
                    Err(code) => json!({"ok": false, "code": code}),
                },
            );
        }
        println!("{out}");
    } else {
        println!("header: {}", decoded.header);
        println!(
            "claims: {}",
            serde_json::to_string_pretty(&decoded.claims).unwrap_or_default()
        );
        for (k, v) in &times {
            println!("{k}: {}", v.as_str().unwrap_or_default());
        }
        match &verified {
            Some(Ok(sub)) => println!("signature and claims: verified (subject {sub})"),
            Some(Err(code)) => println!("signature and claims: REFUSED ({code})"),
            None => println!("signature: not checked (no --jwks); nothing above is trusted"),
        }
        for f in &findings {
            println!("- {f}");
        }
    }
    match verified {
        Some(Err(_)) => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}

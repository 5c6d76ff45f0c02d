//! `bouncer explain --request 'METHOD URL' -H 'Name: value'... --config
//! FILE`: the decision service's own gate (`bouncer serve`'s configuration
//! loading and build), run offline on one request, with its trace stage by
//! stage, the deciding stage, and the policy rule's file and line.
//!
//! The request is seen as coming from `127.0.0.1` (a local proxy): a
//! configuration that trusts loopback reads `X-Forwarded-For` given with
//! `-H`. Redis, if configured, is not needed unless the request's decision
//! reads it (then the answer is the service's 503).

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use bouncer_core::{Decision, RequestContext, Stage, StageOutcome};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use serde_json::{json, Value};

use crate::serve::{app, config};

/// Splits `'METHOD URL'`.
fn request_line(line: &str) -> Result<(Method, Uri), String> {
    let mut words = line.split_whitespace();
    let (Some(m), Some(u), None) = (words.next(), words.next(), words.next()) else {
        return Err(format!("--request {line:?}: expected 'METHOD URL'"));
    };
    let method = Method::from_bytes(m.as_bytes()).map_err(|_| format!("{m:?} is not a method"))?;
    let uri: Uri = u.parse().map_err(|e| format!("{u:?}: {e}"))?;
    Ok((method, uri))
}

fn header_map(headers: &[String]) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    for h in headers {
        let Some((n, v)) = h.split_once(':') else {
            return Err(format!("-H {h:?}: expected 'Name: value'"));
        };
        let name = HeaderName::from_bytes(n.trim().as_bytes())
            .map_err(|_| format!("{n:?} is not a field name"))?;
        let value = HeaderValue::from_bytes(v.trim().as_bytes())
            .map_err(|_| format!("the value of {n} is not a field value"))?;
        map.append(name, value);
    }
    Ok(map)
}

pub(crate) fn outcome(o: StageOutcome) -> String {
    match o {
        StageOutcome::NotRun => "not run".into(),
        StageOutcome::Skipped => "skipped".into(),
        StageOutcome::Passed => "passed".into(),
        StageOutcome::Denied(c) => format!("denied: {c}"),
        StageOutcome::Faulted(c) => format!("faulted: {c}"),
        _ => "?".into(),
    }
}

/// Runs the gate and returns the explanation object.
pub(crate) async fn run(
    line: &str,
    headers: &[String],
    config_file: &Path,
) -> Result<Value, String> {
    let (method, uri) = request_line(line)?;
    let headers = header_map(headers)?;
    let config = config::load(config_file, &|_| None).map_err(|e| e.to_string())?;
    let service = app::build(&config)
        .await
        .map_err(|e| format!("{}: {e}", config.file.display()))?;
    let peer: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 0));
    let path = uri.path().to_owned();
    let ctx = RequestContext::new(&method, &uri, &headers).with_peer(Some(peer));
    let mut out = json!({"request": {"method": method.as_str(), "uri": uri.to_string()}});
    let verdict = match service.gate.guard(&ctx) {
        Err(verdict) => *verdict,
        Ok(proof) => {
            let Some(matched) = service.routes.find(&method, &path) else {
                if let Some(o) = out.as_object_mut() {
                    o.insert("status".into(), json!(404));
                    o.insert("code".into(), json!("not_found"));
                    o.insert("trace".into(), json!([{"stage": "guards", "outcome": "passed"}, {"stage": "routing", "outcome": "no route matches"}]));
                }
                return Ok(out);
            };
            let requirement = matched
                .route
                .requirement()
                .resolve(|n| matched.param(n))
                .map_err(|e| e.to_string())?;
            if let Some(o) = out.as_object_mut() {
                o.insert(
                    "requirement".into(),
                    json!({
                        "permission": requirement.required_permission(),
                        "organization": requirement.organization_id(),
                        "resource": requirement.resource_id(),
                        "elevated": requirement.is_elevated(),
                    }),
                );
            }
            service.gate.decide_guarded(proof, &ctx, &requirement).await
        }
    };
    let trace = verdict.trace();
    let stages: Vec<Value> = Stage::ALL
        .iter()
        .map(|s| json!({"stage": s.as_str(), "outcome": outcome(trace.outcome(*s))}))
        .collect();
    let (status, code, rule) = match verdict.decision() {
        Decision::Allow(_) => (200, "allow".to_owned(), None),
        Decision::Deny(d) => (
            d.status().as_u16(),
            d.code().as_str().to_owned(),
            match d {
                bouncer_core::Denial::Forbidden(r) => r.forbidden().rule().cloned(),
                _ => None,
            },
        ),
    };
    if let Some(o) = out.as_object_mut() {
        o.insert("status".into(), json!(status));
        o.insert("code".into(), json!(code));
        o.insert("trace".into(), Value::Array(stages));
        if let Some(s) = trace.deciding_stage() {
            o.insert("stage".into(), json!(s.as_str()));
        }
        if let Some(s) = trace.scheme() {
            o.insert("scheme".into(), json!(s.as_str()));
        }
        if let Some(s) = trace.subject() {
            o.insert("subject".into(), json!(s));
        }
        if let Some(e) = super::codes::entry(&code) {
            o.insert("meaning".into(), json!(e.meaning));
            o.insert("fix".into(), json!(e.fix));
            o.insert("rfc".into(), json!(e.rfc));
        }
        let rule = rule.or_else(|| {
            // The policy file's position of what decided, found by name.
            let subject = trace.subject()?;
            let req = o.get("requirement")?;
            crate::policy::locate_denial(
                &config.policy,
                &code,
                subject,
                req.get("organization").and_then(Value::as_str),
            )
        });
        if let Some(r) = rule {
            o.insert(
                "rule".into(),
                json!({"file": r.file(), "line": r.line(), "what": r.what()}),
            );
        }
    }
    Ok(out)
}

/// `bouncer explain --request`: 0 when the gate ran, 2 when it could not.
#[allow(clippy::print_stdout)]
pub(crate) fn main(line: &str, headers: &[String], config: Option<&Path>, json: bool) -> ExitCode {
    let Some(config) = config else {
        eprintln!("bouncer explain: --request needs --config FILE (the decision service's file)");
        return ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bouncer explain: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(line, headers, config)) {
        Ok(out) if json => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Ok(out) => {
            print!("{}", human(&out));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bouncer explain: {e}");
            ExitCode::from(2)
        }
    }
}

fn human(out: &Value) -> String {
    let s = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let request = out.get("request").cloned().unwrap_or_default();
    let mut t = format!(
        "{} {}\n  decision:    {} {}\n",
        s(&request, "method"),
        s(&request, "uri"),
        out.get("status").and_then(Value::as_u64).unwrap_or(0),
        s(out, "code"),
    );
    if let Some(trace) = out.get("trace").and_then(Value::as_array) {
        for step in trace {
            let stage = s(step, "stage");
            let mark = if Some(stage.as_str()) == out.get("stage").and_then(Value::as_str) {
                "  <- decided here"
            } else {
                ""
            };
            t.push_str(&format!("  {stage:<15} {}{mark}\n", s(step, "outcome")));
        }
    }
    for k in ["scheme", "subject", "meaning", "fix"] {
        if !s(out, k).is_empty() {
            t.push_str(&format!("  {k}: {}\n", s(out, k)));
        }
    }
    if let Some(r) = out.get("rule") {
        t.push_str(&format!(
            "  policy:      {}:{} ({})\n",
            s(r, "file"),
            r.get("line").and_then(Value::as_u64).unwrap_or(0),
            s(r, "what")
        ));
    }
    t
}

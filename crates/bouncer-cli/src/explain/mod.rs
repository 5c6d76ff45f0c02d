//! `bouncer explain [FILE]` (`explain.md` §4): reads an HTTP response as
//! `curl -si` prints it and says what it means and what to do — the
//! status, the reason `code`, the deciding stage, a meaning and a fix, the
//! RFC sections, the parsed challenges, the decision id, and `problems`
//! with the response itself (what breaks RFC 9110 §11, RFC 6750 or RFC
//! 9470). `--token` adds the token's decoded claims; `--request` with
//! `--config` runs the real gate offline on a request.
//!
//! | module | what |
//! |---|---|
//! | [`codes`] | the meaning, fix, stage and RFCs of every code |
//! | [`response`] | reading `curl -si` output |
//! | [`problems`] | what is wrong with a response |
//! | [`request`] | `--request`: the decision service's gate, offline, with its trace |

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use bouncer_core::{Challenge, DecisionId};
use serde_json::{json, Value};

pub(crate) mod codes;
pub(crate) mod problems;
pub(crate) mod request;
pub(crate) mod response;

use response::Response;

/// The arguments of `bouncer explain`.
#[derive(Debug, clap::Args)]
pub(crate) struct ExplainArgs {
    /// A response as `curl -si` prints it (standard input when absent or `-`).
    file: Option<PathBuf>,
    /// One JSON object on stdout.
    #[arg(long)]
    json: bool,
    /// The token that was sent: its claims are decoded (not trusted).
    #[arg(long, value_name = "TOKEN")]
    token: Option<String>,
    /// The request carried no credentials at all (so a Bearer `error`, or a
    /// 403 from anywhere but the guards, is a problem).
    #[arg(long)]
    no_credentials: bool,
    /// The expected issuer, to check the token's `iss`.
    #[arg(long)]
    issuer: Option<String>,
    /// The expected audience, to check the token's `aud`.
    #[arg(long)]
    audience: Option<String>,
    /// Run the gate offline on `'METHOD URL'` (needs --config), instead of
    /// reading a response.
    #[arg(long, value_name = "METHOD URL")]
    request: Option<String>,
    /// A header field of --request, `Name: value` (repeatable).
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// The decision service's configuration file (`bouncer serve --config`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// Explains a response: the JSON object of `explain.md` §4. `presented`
/// says whether the request carried credentials, when known.
pub(crate) fn explain(res: &Response, presented: Option<bool>) -> Value {
    let body: Option<Value> = serde_json::from_slice(&res.body).ok();
    let code = body
        .as_ref()
        .and_then(|b| b.get("code"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let decision_id = body
        .as_ref()
        .and_then(|b| b.get("instance"))
        .and_then(Value::as_str)
        .and_then(DecisionId::from_urn)
        .map(|id| id.to_string());
    let parsed = Challenge::parse_headers(&res.headers);
    let challenges: Vec<Value> = match &parsed {
        Ok(list) => list.iter().map(challenge_json).collect(),
        Err(_) => Vec::new(),
    };
    let entry = code.as_deref().and_then(codes::entry);
    let step_up_challenge = parsed.as_ref().is_ok_and(|list| {
        list.iter().any(|c| {
            c.get("error")
                .is_some_and(|e| e == "insufficient_user_authentication")
        })
    });
    let (meaning, fix, rfc, stage) = match entry {
        Some(e) => {
            // mfa_required without an RFC 9470 challenge is a session whose
            // MFA is pending: stage 2, not a step-up.
            let stage = if e.code == "mfa_required" && !step_up_challenge {
                "authentication"
            } else {
                e.stage
            };
            let (meaning, fix) = if e.code == "mfa_required" && !step_up_challenge {
                (
                    "The session's login is not finished: its MFA is pending.",
                    "Complete MFA (POST /login/mfa with the current one-time code), then retry with the same session cookie.",
                )
            } else {
                (e.meaning, e.fix)
            };
            (meaning, fix, e.rfc.to_vec(), Some(stage))
        }
        None => {
            let (m, f, r) = codes::by_status(res.status);
            (m, f, r.to_vec(), None)
        }
    };
    let problems = problems::check(
        res,
        body.as_ref(),
        code.as_deref(),
        parsed.as_ref(),
        presented,
    );
    let mut out = json!({
        "status": res.status,
        "meaning": meaning,
        "fix": fix,
        "rfc": rfc,
        "challenges": challenges,
        "problems": problems,
    });
    if let Some(o) = out.as_object_mut() {
        if let Some(c) = &code {
            o.insert("code".into(), json!(c));
        }
        if let Some(s) = stage {
            o.insert("stage".into(), json!(s));
        }
        if let Some(id) = decision_id {
            o.insert("decision_id".into(), json!(id));
        }
        if let Some(Value::String(scope)) = parsed
            .as_ref()
            .ok()
            .and_then(|l| l.iter().find_map(|c| c.get("scope")))
            .map(|s| json!(s))
        {
            o.insert("missing_scope".into(), json!(scope));
        }
    }
    out
}

fn challenge_json(c: &Challenge) -> Value {
    let mut params = serde_json::Map::new();
    for (name, value) in c.params() {
        params.insert(name.to_ascii_lowercase(), json!(value));
    }
    let mut v = json!({ "scheme": c.scheme(), "params": params });
    if let (Some(t), Some(o)) = (c.token68(), v.as_object_mut()) {
        o.insert("token68".into(), json!(t));
    }
    v
}

/// Adds `--token`'s decoded header, claims, times and findings.
fn with_token(out: &mut Value, token: &str, issuer: Option<&str>, audience: Option<&str>) {
    let Some(o) = out.as_object_mut() else { return };
    match crate::token::decode(token) {
        Ok(d) => {
            let (times, findings) = crate::token::findings(&d, issuer, audience);
            o.insert(
                "token".into(),
                json!({"header": d.header, "claims": d.claims, "times": times, "findings": findings, "trusted": false}),
            );
        }
        Err(e) => {
            o.insert("token".into(), json!({ "error": e }));
        }
    }
}

/// Runs `bouncer explain`: 0 when explained, 2 when the input is not an
/// HTTP response (or `--request` cannot run).
#[allow(clippy::print_stdout)]
pub(crate) fn main(args: &ExplainArgs) -> ExitCode {
    if let Some(line) = &args.request {
        return request::main(line, &args.headers, args.config.as_deref(), args.json);
    }
    let mut raw = Vec::new();
    let read = match args.file.as_deref() {
        None => std::io::stdin().read_to_end(&mut raw).map(|_| ()),
        Some(p) if p.as_os_str() == "-" => std::io::stdin().read_to_end(&mut raw).map(|_| ()),
        Some(p) => std::fs::read(p).map(|b| raw = b),
    };
    if let Err(e) = read {
        eprintln!("bouncer explain: {e}");
        return ExitCode::from(2);
    }
    let res = match response::parse(&raw) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bouncer explain: not an HTTP response: {e}");
            return ExitCode::from(2);
        }
    };
    let presented = if args.no_credentials {
        Some(false)
    } else {
        args.token.as_ref().map(|_| true)
    };
    let mut out = explain(&res, presented);
    if let Some(t) = &args.token {
        with_token(
            &mut out,
            t,
            args.issuer.as_deref(),
            args.audience.as_deref(),
        );
    }
    if args.json {
        println!("{out}");
    } else {
        print!("{}", human(&out));
    }
    ExitCode::SUCCESS
}

/// The human form of an explanation.
pub(crate) fn human(out: &Value) -> String {
    let s = |k: &str| out.get(k).and_then(Value::as_str).unwrap_or_default();
    let mut text = String::new();
    let status = out.get("status").and_then(Value::as_u64).unwrap_or(0);
    let code = s("code");
    text.push_str(&format!(
        "{status}{}{}\n",
        if code.is_empty() { "" } else { " " },
        code
    ));
    if !s("stage").is_empty() {
        text.push_str(&format!("  stage:       {}\n", s("stage")));
    }
    if !s("decision_id").is_empty() {
        text.push_str(&format!(
            "  decision:    {} (search the server's decision log for decision_id={})\n",
            s("decision_id"),
            s("decision_id")
        ));
    }
    text.push_str(&format!("  meaning:     {}\n", s("meaning")));
    text.push_str(&format!("  fix:         {}\n", s("fix")));
    if !s("missing_scope").is_empty() {
        text.push_str(&format!("  scope:       {}\n", s("missing_scope")));
    }
    let list = |k: &str| -> Vec<Value> {
        out.get(k)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let rfc: Vec<String> = list("rfc")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    if !rfc.is_empty() {
        text.push_str(&format!("  rfc:         {}\n", rfc.join(", ")));
    }
    for c in list("challenges") {
        let params: Vec<String> = c
            .get("params")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default();
        text.push_str(&format!(
            "  challenge:   {} {}\n",
            c.get("scheme").and_then(Value::as_str).unwrap_or_default(),
            params.join(", ")
        ));
    }
    let problems = list("problems");
    if problems.is_empty() {
        text.push_str(
            "  problems:    none (the response follows RFC 9110 §11, RFC 6750 and RFC 9470)\n",
        );
    } else {
        for p in problems {
            text.push_str(&format!(
                "  PROBLEM:     {}\n",
                p.as_str().unwrap_or_default()
            ));
        }
    }
    if let Some(t) = out.get("token") {
        if let Some(e) = t.get("error").and_then(Value::as_str) {
            text.push_str(&format!("  token:       unreadable: {e}\n"));
        } else {
            text.push_str("  token (decoded, NOT verified):\n");
            text.push_str(&format!(
                "    header:    {}\n",
                t.get("header").cloned().unwrap_or_default()
            ));
            text.push_str(&format!(
                "    claims:    {}\n",
                t.get("claims").cloned().unwrap_or_default()
            ));
            if let Some(times) = t.get("times").and_then(Value::as_object) {
                for (k, v) in times {
                    text.push_str(&format!("    {k}: {}\n", v.as_str().unwrap_or_default()));
                }
            }
            for f in t
                .get("findings")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
            {
                text.push_str(&format!("    - {}\n", f.as_str().unwrap_or_default()));
            }
        }
    }
    text
}

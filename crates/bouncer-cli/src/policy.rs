//! `bouncer policy check FILE` and `bouncer policy query FILE --subject S
//! [--org O] --permission P [--resource R --method M]` (`explain.md` §5):
//! the policy compiled by bouncer-authz, its warnings, and the decision of
//! stages 3–4 for one caller with the reason code and the place in the
//! file of the rule or role that decided.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bouncer_authz::{Policy, PolicyAuthorizer};
use bouncer_core::{
    async_trait, Authenticator, AuthnError, Challenge, ChallengeContext, Decision, Gate, Identity,
    PolicyRule, RequestContext, Requirement, SchemeName, Stage, StageOutcome,
};
use serde_json::{json, Value};

/// `bouncer policy` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum PolicyCommand {
    /// Parse and compile a policy file: errors with file:line:column (exit
    /// 1), warnings for roles never granted and permissions no role grants.
    Check {
        /// The policy file.
        file: PathBuf,
        /// One JSON object on stdout.
        #[arg(long)]
        json: bool,
    },
    /// The decision of stages 3–4 (account, authorization) for a caller:
    /// exit 0 allowed, 1 denied, 2 unusable.
    Query(QueryArgs),
}

/// The arguments of `bouncer policy query`.
#[derive(Debug, clap::Args)]
pub(crate) struct QueryArgs {
    /// The policy file.
    file: PathBuf,
    /// The caller's subject (user or service id).
    #[arg(long)]
    subject: String,
    /// The organization of the request (e.g. the path's `{org}`).
    #[arg(long)]
    org: Option<String>,
    /// The permission the route needs.
    #[arg(long)]
    permission: String,
    /// The resource id (resource access lists are not in a policy file:
    /// only tenant and permission rules apply to it here).
    #[arg(long)]
    resource: Option<String>,
    /// The request's method (default GET).
    #[arg(long, default_value = "GET")]
    method: String,
    /// One JSON object on stdout.
    #[arg(long)]
    json: bool,
}

/// Runs `bouncer policy ...`.
pub(crate) fn main(cmd: &PolicyCommand) -> ExitCode {
    match cmd {
        PolicyCommand::Check { file, json } => check(file, *json),
        PolicyCommand::Query(q) => query(q),
    }
}

// ---------------------------------------------------------------------------
// Places in the file.

/// The 1-based line of `[table]` (also written with quoted keys).
fn table_line(text: &str, path: &[&str]) -> Option<u32> {
    let want = path.join(".");
    text.lines()
        .position(|l| {
            let l = l.trim();
            l.starts_with('[')
                && !l.starts_with("[[")
                && l.trim_start_matches('[')
                    .split(']')
                    .next()
                    .is_some_and(|inner| inner.replace(['"', '\'', ' '], "") == want)
        })
        .and_then(|i| u32::try_from(i + 1).ok())
}

/// The 1-based line of `key = ...` inside `[table]`.
fn key_line(text: &str, table: &[&str], key: &str) -> Option<u32> {
    let start = usize::try_from(table_line(text, table)?).ok()?;
    for (i, line) in text.lines().enumerate().skip(start) {
        let l = line.trim();
        if l.starts_with('[') {
            return None;
        }
        if let Some((k, _)) = l.split_once('=') {
            if k.trim().trim_matches(['"', '\'']) == key {
                return u32::try_from(i + 1).ok();
            }
        }
    }
    None
}

/// Where the policy says what decided a refusal `code` for `subject` in
/// `org`: the member's entry (its roles), the members table, the
/// principal's state or global roles.
pub(crate) fn locate_denial(
    file: &Path,
    code: &str,
    subject: &str,
    org: Option<&str>,
) -> Option<PolicyRule> {
    let text = std::fs::read_to_string(file).ok()?;
    let name = file.display().to_string();
    let rule = |line: u32, what: String| Some(PolicyRule::new(name.as_str(), line, what));
    match code {
        "account_suspended" => {
            let line = key_line(&text, &["principals", subject], "state")
                .or_else(|| table_line(&text, &["principals", subject]))?;
            rule(line, format!("principal \"{subject}\": state"))
        }
        "elevation_required" => match table_line(&text, &["principals", subject]) {
            Some(line) => rule(
                line,
                format!("principal \"{subject}\": no elevated global role"),
            ),
            None => {
                let line = table_line(&text, &["global_roles"]).or_else(|| {
                    text.lines()
                        .position(|l| l.trim_start().starts_with("[global_roles."))
                        .and_then(|i| u32::try_from(i + 1).ok())
                })?;
                rule(line, format!("global roles: none granted to \"{subject}\""))
            }
        },
        "tenant_mismatch" => {
            let org = org?;
            let line = table_line(&text, &["organizations", org, "members"])
                .or_else(|| table_line(&text, &["organizations", org]))?;
            rule(
                line,
                format!("members of \"{org}\": \"{subject}\" is not one"),
            )
        }
        "insufficient_permission" | "insufficient_scope" => {
            let org = org?;
            let line = key_line(&text, &["organizations", org, "members"], subject)
                .map(|l| (l, "member"))
                .or_else(|| {
                    key_line(&text, &["organizations", org, "grants"], subject)
                        .map(|l| (l, "grant"))
                })?;
            let entry = text
                .lines()
                .nth(usize::try_from(line.0).ok()?.checked_sub(1)?)
                .unwrap_or_default()
                .trim();
            rule(
                line.0,
                format!("{} \"{subject}\" of \"{org}\": {entry}", line.1),
            )
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// check

fn names(table: Option<&toml::Value>) -> Vec<String> {
    table
        .and_then(toml::Value::as_table)
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default()
}

fn strings(v: Option<&toml::Value>) -> Vec<String> {
    v.and_then(toml::Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Roles never granted and permissions no role grants.
fn warnings(text: &str) -> Vec<String> {
    let Ok(doc) = toml::from_str::<toml::Table>(text) else {
        return Vec::new();
    };
    let roles = doc.get("roles");
    let globals = doc.get("global_roles");
    let mut granted_roles: Vec<String> = Vec::new();
    let mut granted_globals: Vec<String> = Vec::new();
    let mut granted_perms: Vec<String> = Vec::new();
    if let Some(orgs) = doc.get("organizations").and_then(toml::Value::as_table) {
        for org in orgs.values() {
            if let Some(m) = org.get("members").and_then(toml::Value::as_table) {
                for r in m.values() {
                    granted_roles.extend(strings(Some(r)));
                }
            }
            if let Some(g) = org.get("grants").and_then(toml::Value::as_table) {
                for p in g.values() {
                    granted_perms.extend(strings(Some(p)));
                }
            }
        }
    }
    if let Some(ps) = doc.get("principals").and_then(toml::Value::as_table) {
        for p in ps.values() {
            granted_globals.extend(strings(p.get("global_roles")));
            granted_perms.extend(strings(p.get("permissions")));
        }
    }
    // Inherited roles count as granted when their heir is.
    let mut changed = true;
    while changed {
        changed = false;
        for r in granted_roles.clone() {
            let parents = strings(
                roles
                    .and_then(|t| t.get(&r))
                    .and_then(|d| d.get("inherits")),
            );
            for p in parents {
                if !granted_roles.contains(&p) {
                    granted_roles.push(p);
                    changed = true;
                }
            }
        }
    }
    let mut out = Vec::new();
    let mut role_perms: Vec<String> = Vec::new();
    for (kind, table, granted, path) in [
        ("role", roles, &granted_roles, "roles"),
        ("global role", globals, &granted_globals, "global_roles"),
    ] {
        for r in names(table) {
            role_perms.extend(strings(
                table
                    .and_then(|t| t.get(&r))
                    .and_then(|d| d.get("permissions")),
            ));
            if !granted.contains(&r) {
                let at =
                    table_line(text, &[path, &r]).map_or(String::new(), |l| format!("line {l}: "));
                out.push(format!("{at}{kind} `{r}` is never granted"));
            }
        }
    }
    for p in strings(doc.get("permissions")) {
        if !role_perms.contains(&p) && !granted_perms.contains(&p) {
            out.push(format!(
                "permission `{p}` is granted by no role, grant or principal"
            ));
        }
    }
    out
}

#[allow(clippy::print_stdout)]
fn check(file: &Path, json: bool) -> ExitCode {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("bouncer policy check: {}: {e}", file.display());
            return ExitCode::from(2);
        }
    };
    let name = file.display().to_string();
    let result = bouncer_authz::policy::compile_str(&name, &text);
    let warnings = warnings(&text);
    let (valid, error) = match &result {
        Ok(_) => (true, None),
        Err(e) => (
            false,
            Some(
                json!({"file": e.file, "line": e.line, "column": e.column, "message": e.kind.to_string()}),
            ),
        ),
    };
    if json {
        println!(
            "{}",
            json!({"file": name, "valid": valid, "error": error, "warnings": warnings})
        );
    } else {
        match &result {
            Ok(_) => println!("{name}: valid"),
            Err(e) => println!("{}:{}:{}: error: {}", e.file, e.line, e.column, e.kind),
        }
        for w in &warnings {
            println!("{name}: warning: {w}");
        }
    }
    if valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

// ---------------------------------------------------------------------------
// query

/// Authenticates every request as one subject: stages 3–4 then decide.
struct As(String);

#[async_trait]
impl Authenticator for As {
    fn scheme(&self) -> SchemeName {
        SchemeName::new("query")
    }
    fn recognizes(&self, _: &RequestContext<'_>) -> bool {
        true
    }
    async fn authenticate(&self, _: &RequestContext<'_>) -> Result<Option<Identity>, AuthnError> {
        Ok(Some(Identity::user(
            self.0.clone(),
            SchemeName::new("query"),
        )))
    }
    fn challenge(&self, _: Option<&ChallengeContext<'_>>) -> Option<Challenge> {
        None
    }
}

/// The decision of stages 3–4 as a JSON object; `Err` when unusable.
pub(crate) fn decide(
    file: &Path,
    subject: &str,
    org: Option<&str>,
    permission: &str,
    resource: Option<&str>,
    method: &str,
) -> Result<Value, String> {
    let policy = Policy::from_file(file).map_err(|e| e.to_string())?;
    let gate = Gate::builder()
        .authenticator(As(subject.to_owned()))
        .accounts(policy.clone())
        .authorizer(PolicyAuthorizer::new(policy))
        .build();
    let mut requirement = Requirement::authenticated().permission(permission.to_owned());
    if let Some(o) = org {
        requirement = requirement.organization(o);
    }
    if let Some(r) = resource {
        requirement = requirement.resource(r);
    }
    gate.validate(&requirement).map_err(|e| e.to_string())?;
    let method = http::Method::from_bytes(method.as_bytes())
        .map_err(|_| format!("{method:?} is not a method"))?;
    let uri = http::Uri::from_static("/");
    let headers = http::HeaderMap::new();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| e.to_string())?;
    let ctx = RequestContext::new(&method, &uri, &headers);
    let verdict = runtime.block_on(gate.decide(&ctx, &requirement));
    let trace = verdict.trace();
    let stage = trace.deciding_stage();
    let (allowed, code, rule) = match verdict.decision() {
        Decision::Allow(_) => (true, "allow".to_owned(), None),
        Decision::Deny(d) => {
            let code = d.code().as_str().to_owned();
            let rule = match d {
                bouncer_core::Denial::Forbidden(r) => r.forbidden().rule().cloned(),
                _ => None,
            }
            .or_else(|| locate_denial(file, &code, subject, org));
            (false, code, rule)
        }
    };
    let faulted = stage.is_some_and(|s| matches!(trace.outcome(s), StageOutcome::Faulted(_)));
    if faulted {
        return Err(format!("the policy could not decide: {code}"));
    }
    let mut out = json!({
        "allowed": allowed,
        "code": code,
        "subject": subject,
        "organization": org,
        "permission": permission,
        "account": crate::explain::request::outcome(trace.outcome(Stage::Account)),
        "authorization": crate::explain::request::outcome(trace.outcome(Stage::Authorization)),
    });
    if let Some(o) = out.as_object_mut() {
        if let Some(s) = stage {
            o.insert("stage".into(), json!(s.as_str()));
        }
        if let Some(e) = crate::explain::codes::entry(&code) {
            o.insert("meaning".into(), json!(e.meaning));
            o.insert("fix".into(), json!(e.fix));
        }
        if let Some(r) = rule {
            o.insert(
                "rule".into(),
                json!({"file": r.file(), "line": r.line(), "what": r.what()}),
            );
        }
    }
    Ok(out)
}

#[allow(clippy::print_stdout)]
fn query(q: &QueryArgs) -> ExitCode {
    match decide(
        &q.file,
        &q.subject,
        q.org.as_deref(),
        &q.permission,
        q.resource.as_deref(),
        &q.method,
    ) {
        Err(e) => {
            eprintln!("bouncer policy query: {e}");
            ExitCode::from(2)
        }
        Ok(out) => {
            let allowed = out.get("allowed").and_then(Value::as_bool).unwrap_or(false);
            if q.json {
                println!("{out}");
            } else {
                let s = |k: &str| {
                    out.get(k)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                };
                if allowed {
                    println!(
                        "allowed: {} may {} in {}",
                        q.subject,
                        q.permission,
                        q.org.as_deref().unwrap_or("-")
                    );
                } else {
                    println!("denied: 403 {} (stage {})", s("code"), s("stage"));
                    println!("  meaning: {}", s("meaning"));
                    println!("  fix:     {}", s("fix"));
                }
                if let Some(r) = out.get("rule") {
                    println!(
                        "  policy:  {}:{} ({})",
                        r.get("file").and_then(Value::as_str).unwrap_or_default(),
                        r.get("line").and_then(Value::as_u64).unwrap_or(0),
                        r.get("what").and_then(Value::as_str).unwrap_or_default()
                    );
                }
            }
            if allowed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
    }
}

//! The configuration file of `bouncer serve`: one TOML file, every
//! mistake (an unknown key included) refused at start with its file, line
//! and column. Relative paths are relative to the file.
//!
//! ```toml
//! policy = "policy.toml"            # the library's policy file: roles, organizations,
//!                                   # [guards] (trusted proxies, forwarding source, IP,
//!                                   # country and path rules) and [credentials]
//! realm = "bouncer"                 # the realm of every challenge (default "bouncer")
//! expose_detail = true              # `detail` in problem bodies (default true)
//!
//! [listen]
//! http = "127.0.0.1:8080"           # default; BOUNCER_ADDR overrides
//! grpc = "127.0.0.1:50051"          # Envoy's gRPC ext_authz (off when absent);
//!                                   # BOUNCER_GRPC_ADDR overrides (and turns it on)
//!
//! [redis]                           # revocations, sessions, login counters (memory
//! url = "redis://127.0.0.1:6379/0"  # when absent); BOUNCER_REDIS_URL sets it
//!
//! [jwt]                             # Bearer JWTs
//! issuer = "https://auth.example"
//! audience = "https://api.example"
//! logto_organization_audience = false   # also aud = "urn:logto:organization:<org>"
//! leeway_secs = 30                  # at most 60
//! token_cache = 4096                # verified tokens remembered (0: none)
//! hmac = { algorithm = "HS256", secret_env = "MY_SECRET", secret = "fallback" }
//! jwks_file = "jwks.json"           # public keys (RSA, EC P-256, Ed25519)
//! jwks_url = "https://auth.example/jwks"   # fetched and refreshed; or instead:
//! oidc_discovery = true             # jwks_uri from <issuer>/.well-known/openid-configuration
//!
//! [basic]                           # users: the policy's [credentials.passwords]
//!
//! [api_keys]                        # keys: the policy's [credentials.api_keys]
//! header = "X-API-Key"              # default
//!
//! [sessions]                        # POST /login, /login/mfa, /logout; the session
//! idle_timeout_secs = 1800          # cookie (TOTP from [credentials.totp])
//! absolute_timeout_secs = 43200
//! secure_cookie = false
//!
//! [[routes]]                        # the first route matching method and path decides
//! methods = ["GET"]                 # default: every method; GET also answers HEAD
//! path = "/orgs/{org}/documents/{id}"   # literals, {param}, and a last {*rest}
//! require = "authenticated"         # or "optional", "public"
//! schemes = ["bearer", "basic", "api_key", "session"]   # default: every configured one
//! permission = "documents:read"
//! organization = "{org}"            # a path parameter, or a fixed organization
//! resource = "{id}"                 # a path parameter
//! elevated = false                  # the permission must come from a global role
//! step_up = { acr = ["urn:logto:acr:mfa"], amr = ["mfa"], max_age_secs = 300 }
//!
//! [resources.acme.roadmap]          # per organization and resource id
//! shared_with = ["alice"]           # private: these subjects only (and
//! shared_with_roles = []            # holders of these roles in the organization)
//! private = true                    # implied by a non-empty share list
//! read_only = false                 # unsafe methods are `read_only`
//! ```
//!
//! The HMAC secret comes from the variable `secret_env` when it is set and
//! not empty, else from `secret`; it must be at least as long as the hash
//! (32, 48 or 64 bytes). `jwks_url`/`oidc_discovery` may be combined with
//! `hmac` and `jwks_file`: HMAC-signed tokens are checked against the local
//! keys, every other token against the fetched set.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bouncer_authn::jwt::Algorithm;
use bouncer_authz::{AccessList, Resource};
use bouncer_core::route::RouteRequirement;
use bouncer_core::{SchemeName, StepUp};
use http::{HeaderName, Method};
use serde::Deserialize;
use toml::Spanned;

use super::resources::FileResources;
use super::routes::{Pattern, Route, RouteTable};

/// The default HTTP listen address.
pub(crate) const DEFAULT_HTTP: &str = "127.0.0.1:8080";

/// A configuration that cannot be used, placed in its file when it can be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConfigError {
    /// The file (or a variable's name).
    pub(crate) file: String,
    /// 1-based line and column, when the problem has a place.
    pub(crate) position: Option<(usize, usize)>,
    /// What is wrong.
    pub(crate) message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, column)) => write!(f, "{}:{line}:{column}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// The 1-based line and column (in characters) of byte `offset` of `text`.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// A secret that never shows in logs or `Debug`.
#[derive(Clone)]
pub(crate) struct Secret(pub(crate) Vec<u8>);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<{} bytes, redacted>)", self.0.len())
    }
}

/// Where the JWT verification keys come from.
#[derive(Debug, Clone)]
pub(crate) struct JwtConfig {
    pub(crate) issuer: String,
    pub(crate) audience: String,
    pub(crate) logto_organization_audience: bool,
    pub(crate) leeway: Option<Duration>,
    pub(crate) hmac: Option<(Algorithm, Secret)>,
    pub(crate) jwks_file: Option<PathBuf>,
    /// A JWKS URL, given or found by OIDC discovery at start.
    pub(crate) jwks_url: Option<String>,
    pub(crate) oidc_discovery: bool,
    pub(crate) token_cache: usize,
}

/// Cookie-session settings.
#[derive(Debug, Clone, Default)]
pub(crate) struct SessionSettings {
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) absolute_timeout: Option<Duration>,
    pub(crate) secure_cookie: bool,
}

/// A checked configuration.
#[derive(Debug)]
pub(crate) struct Config {
    /// The file it was read from.
    pub(crate) file: PathBuf,
    pub(crate) http: SocketAddr,
    pub(crate) grpc: Option<SocketAddr>,
    pub(crate) policy: PathBuf,
    pub(crate) realm: String,
    pub(crate) expose_detail: bool,
    pub(crate) redis: Option<String>,
    pub(crate) jwt: Option<JwtConfig>,
    pub(crate) basic: bool,
    pub(crate) api_key_header: Option<HeaderName>,
    pub(crate) sessions: Option<SessionSettings>,
    pub(crate) routes: RouteTable,
    pub(crate) resources: FileResources,
}

// ---------------------------------------------------------------------------
// The file as written.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    policy: Spanned<String>,
    #[serde(default)]
    realm: Option<Spanned<String>>,
    #[serde(default)]
    expose_detail: Option<bool>,
    #[serde(default)]
    listen: RawListen,
    #[serde(default)]
    redis: Option<RawRedis>,
    #[serde(default)]
    jwt: Option<RawJwt>,
    #[serde(default)]
    basic: Option<RawBasic>,
    #[serde(default)]
    api_keys: Option<RawApiKeys>,
    #[serde(default)]
    sessions: Option<RawSessions>,
    #[serde(default)]
    routes: Vec<RawRoute>,
    #[serde(default)]
    resources: BTreeMap<String, BTreeMap<String, Spanned<RawResource>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawListen {
    #[serde(default)]
    http: Option<Spanned<String>>,
    #[serde(default)]
    grpc: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRedis {
    url: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJwt {
    issuer: Spanned<String>,
    audience: Spanned<String>,
    #[serde(default)]
    logto_organization_audience: bool,
    #[serde(default)]
    leeway_secs: Option<Spanned<u64>>,
    #[serde(default)]
    hmac: Option<Spanned<RawHmac>>,
    #[serde(default)]
    jwks_file: Option<Spanned<String>>,
    #[serde(default)]
    jwks_url: Option<Spanned<String>>,
    #[serde(default)]
    oidc_discovery: Option<Spanned<bool>>,
    #[serde(default)]
    token_cache: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHmac {
    #[serde(default)]
    algorithm: Option<Spanned<String>>,
    #[serde(default)]
    secret: Option<Spanned<String>>,
    #[serde(default)]
    secret_env: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBasic {}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApiKeys {
    #[serde(default)]
    header: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSessions {
    #[serde(default)]
    idle_timeout_secs: Option<u64>,
    #[serde(default)]
    absolute_timeout_secs: Option<u64>,
    #[serde(default)]
    secure_cookie: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    #[serde(default)]
    methods: Option<Vec<Spanned<String>>>,
    path: Spanned<String>,
    #[serde(default)]
    require: Option<Spanned<String>>,
    #[serde(default)]
    schemes: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    permission: Option<Spanned<String>>,
    #[serde(default)]
    organization: Option<Spanned<String>>,
    #[serde(default)]
    resource: Option<Spanned<String>>,
    #[serde(default)]
    elevated: bool,
    #[serde(default)]
    step_up: Option<Spanned<RawStepUp>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStepUp {
    #[serde(default)]
    acr: Vec<String>,
    #[serde(default)]
    amr: Vec<String>,
    #[serde(default)]
    max_age_secs: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResource {
    #[serde(default)]
    private: Option<bool>,
    #[serde(default)]
    shared_with: Vec<String>,
    #[serde(default)]
    shared_with_roles: Vec<String>,
    #[serde(default)]
    read_only: bool,
}

// ---------------------------------------------------------------------------
// Checking.

/// Reads and checks `path`, with the environment overrides read by `env`.
pub(crate) fn load(
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.display().to_string(),
        position: None,
        message: format!("cannot read the configuration: {e}"),
    })?;
    parse(path, &text, env)
}

/// Checks configuration `text` read from `path` (relative paths in it are
/// relative to `path`'s directory).
pub(crate) fn parse(
    path: &Path,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let file = path.display().to_string();
    let at = |span: Option<Range<usize>>, message: String| ConfigError {
        file: file.clone(),
        position: span.map(|s| line_column(text, s.start)),
        message,
    };
    let raw: RawConfig = toml::from_str(text).map_err(|e| at(e.span(), e.message().to_owned()))?;
    let dir = path.parent().map_or_else(PathBuf::new, Path::to_path_buf);
    let relative = |p: &str| {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            dir.join(p)
        }
    };
    let var = |name: &str| env(name).filter(|v| !v.is_empty());
    let env_error = |name: &str, message: String| ConfigError {
        file: name.to_owned(),
        position: None,
        message,
    };

    // Listeners.
    let http = match var("BOUNCER_ADDR") {
        Some(v) => v.parse().map_err(|e| {
            env_error(
                "BOUNCER_ADDR",
                format!("`{v}` is not a socket address: {e}"),
            )
        })?,
        None => match &raw.listen.http {
            Some(s) => s
                .get_ref()
                .parse()
                .map_err(|e| at(Some(s.span()), format!("not a socket address: {e}")))?,
            None => DEFAULT_HTTP
                .parse()
                .map_err(|_| at(None, "bad default address".into()))?,
        },
    };
    let grpc = match var("BOUNCER_GRPC_ADDR") {
        Some(v) => Some(v.parse().map_err(|e| {
            env_error(
                "BOUNCER_GRPC_ADDR",
                format!("`{v}` is not a socket address: {e}"),
            )
        })?),
        None => match &raw.listen.grpc {
            Some(s) => Some(
                s.get_ref()
                    .parse()
                    .map_err(|e| at(Some(s.span()), format!("not a socket address: {e}")))?,
            ),
            None => None,
        },
    };
    let redis = match var("BOUNCER_REDIS_URL") {
        Some(url) => Some(url),
        None => match &raw.redis {
            Some(r) if r.url.get_ref().trim().is_empty() => {
                return Err(at(Some(r.url.span()), "empty Redis URL".into()))
            }
            Some(r) => Some(r.url.get_ref().clone()),
            None => None,
        },
    };

    let realm = match &raw.realm {
        Some(r) if r.get_ref().is_empty() || r.get_ref().contains(['"', '\\']) => {
            return Err(at(
                Some(r.span()),
                "the realm must be non-empty, without `\"` or `\\`".into(),
            ))
        }
        Some(r) => r.get_ref().clone(),
        None => "bouncer".to_owned(),
    };

    // Schemes.
    let jwt = match &raw.jwt {
        None => None,
        Some(j) => Some(jwt_config(j, &at, &relative, &var)?),
    };
    let api_key_header = match &raw.api_keys {
        None => None,
        Some(a) => Some(match &a.header {
            None => HeaderName::from_static("x-api-key"),
            Some(h) => HeaderName::try_from(h.get_ref().as_str())
                .map_err(|_| at(Some(h.span()), "not a header name".into()))?,
        }),
    };
    let sessions = raw.sessions.as_ref().map(|s| SessionSettings {
        idle_timeout: s.idle_timeout_secs.map(Duration::from_secs),
        absolute_timeout: s.absolute_timeout_secs.map(Duration::from_secs),
        secure_cookie: s.secure_cookie,
    });
    let mut configured: Vec<SchemeName> = Vec::new();
    if raw.basic.is_some() {
        configured.push(SchemeName::BASIC);
    }
    if jwt.is_some() {
        configured.push(SchemeName::BEARER);
    }
    if api_key_header.is_some() {
        configured.push(SchemeName::API_KEY);
    }
    if sessions.is_some() {
        configured.push(SchemeName::SESSION);
    }

    // Routes.
    let mut routes = Vec::with_capacity(raw.routes.len());
    for r in &raw.routes {
        routes.push(route(r, &configured, &at)?);
    }

    // Resources.
    let mut resources = FileResources::default();
    for (org, ids) in &raw.resources {
        for (id, res) in ids {
            let r = res.get_ref();
            let shared = !r.shared_with.is_empty() || !r.shared_with_roles.is_empty();
            if r.private == Some(false) && shared {
                return Err(at(
                    Some(res.span()),
                    format!("resource `{org}/{id}` is shared with someone but `private = false`"),
                ));
            }
            let private = (r.private == Some(true) || shared).then(|| AccessList {
                users: r.shared_with.clone(),
                roles: r.shared_with_roles.clone(),
            });
            resources.insert(
                org,
                id,
                Resource {
                    organization: Some(org.clone()),
                    private,
                    read_only: r.read_only,
                },
            );
        }
    }

    Ok(Config {
        file: path.to_path_buf(),
        http,
        grpc,
        policy: relative(raw.policy.get_ref()),
        realm,
        expose_detail: raw.expose_detail.unwrap_or(true),
        redis,
        jwt,
        basic: raw.basic.is_some(),
        api_key_header,
        sessions,
        routes: RouteTable::new(routes),
        resources,
    })
}

type At<'a> = dyn Fn(Option<Range<usize>>, String) -> ConfigError + 'a;

fn jwt_config(
    j: &RawJwt,
    at: &At<'_>,
    relative: &dyn Fn(&str) -> PathBuf,
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<JwtConfig, ConfigError> {
    for (field, value) in [("issuer", &j.issuer), ("audience", &j.audience)] {
        if value.get_ref().trim().is_empty() {
            return Err(at(Some(value.span()), format!("empty `{field}`")));
        }
    }
    let leeway = match &j.leeway_secs {
        Some(l) if *l.get_ref() > bouncer_authn::jwt::MAX_LEEWAY.as_secs() => {
            return Err(at(
                Some(l.span()),
                format!(
                    "leeway above {} s is refused",
                    bouncer_authn::jwt::MAX_LEEWAY.as_secs()
                ),
            ))
        }
        Some(l) => Some(Duration::from_secs(*l.get_ref())),
        None => None,
    };
    let hmac = match &j.hmac {
        None => None,
        Some(h) => {
            let span = h.span();
            let h = h.get_ref();
            let algorithm = match &h.algorithm {
                None => Algorithm::HS256,
                Some(a) => match a.get_ref().as_str() {
                    "HS256" => Algorithm::HS256,
                    "HS384" => Algorithm::HS384,
                    "HS512" => Algorithm::HS512,
                    other => {
                        return Err(at(
                            Some(a.span()),
                            format!("`{other}` is not an HMAC algorithm (HS256, HS384, HS512)"),
                        ))
                    }
                },
            };
            let from_env = h.secret_env.as_ref().and_then(|name| var(name.get_ref()));
            let secret = match (from_env, &h.secret) {
                (Some(s), _) => s,
                (None, Some(s)) => s.get_ref().clone(),
                (None, None) => {
                    let message = match &h.secret_env {
                        Some(name) => format!(
                            "the HMAC secret variable `{}` is unset and no `secret` is given",
                            name.get_ref()
                        ),
                        None => "an HMAC key needs `secret` or `secret_env`".to_owned(),
                    };
                    return Err(at(Some(span), message));
                }
            };
            let min = match algorithm {
                Algorithm::HS384 => 48,
                Algorithm::HS512 => 64,
                _ => 32,
            };
            if secret.len() < min {
                return Err(at(
                    Some(span),
                    format!("the {algorithm:?} secret must be at least {min} bytes"),
                ));
            }
            Some((algorithm, Secret(secret.into_bytes())))
        }
    };
    let discovery = j.oidc_discovery.as_ref().is_some_and(|d| *d.get_ref());
    if let (true, Some(url)) = (discovery, &j.jwks_url) {
        return Err(at(
            Some(url.span()),
            "`jwks_url` and `oidc_discovery` both name the key set: keep one".into(),
        ));
    }
    if hmac.is_none() && j.jwks_file.is_none() && j.jwks_url.is_none() && !discovery {
        return Err(at(
            Some(j.issuer.span()),
            "[jwt] needs keys: `hmac`, `jwks_file`, `jwks_url` or `oidc_discovery = true`".into(),
        ));
    }
    Ok(JwtConfig {
        issuer: j.issuer.get_ref().clone(),
        audience: j.audience.get_ref().clone(),
        logto_organization_audience: j.logto_organization_audience,
        leeway,
        hmac,
        jwks_file: j.jwks_file.as_ref().map(|f| relative(f.get_ref())),
        jwks_url: j.jwks_url.as_ref().map(|u| u.get_ref().clone()),
        oidc_discovery: discovery,
        token_cache: j.token_cache.unwrap_or(4096),
    })
}

fn scheme_name(s: &str) -> Option<SchemeName> {
    [
        SchemeName::BEARER,
        SchemeName::BASIC,
        SchemeName::API_KEY,
        SchemeName::SESSION,
    ]
    .into_iter()
    .find(|k| k.as_str().eq_ignore_ascii_case(s))
}

/// `{name}` → the path parameter `name`; anything else → a fixed value.
fn param_or_value(
    value: &Spanned<String>,
    pattern: &Pattern,
    at: &At<'_>,
) -> Result<Result<String, String>, ConfigError> {
    let v = value.get_ref();
    match v.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
        Some(name) if pattern.has_param(name) => Ok(Ok(name.to_owned())),
        Some(name) => Err(at(
            Some(value.span()),
            format!("the path has no parameter `{{{name}}}`"),
        )),
        None if v.is_empty() || v.contains(['{', '}']) => Err(at(
            Some(value.span()),
            format!("`{v}` is neither `{{param}}` nor a name"),
        )),
        None => Ok(Err(v.clone())),
    }
}

fn route(r: &RawRoute, configured: &[SchemeName], at: &At<'_>) -> Result<Route, ConfigError> {
    let pattern = Pattern::parse(r.path.get_ref()).map_err(|e| at(Some(r.path.span()), e))?;
    let methods = match &r.methods {
        None => None,
        Some(list) if list.is_empty() => {
            return Err(at(
                Some(r.path.span()),
                "`methods` is empty: leave it out to match every method".into(),
            ))
        }
        Some(list) if list.iter().any(|m| m.get_ref() == "*") => None,
        Some(list) => {
            let mut out = Vec::with_capacity(list.len());
            for m in list {
                let method = Method::from_bytes(m.get_ref().to_ascii_uppercase().as_bytes())
                    .map_err(|_| at(Some(m.span()), "not an HTTP method".into()))?;
                out.push(method);
            }
            Some(out)
        }
    };
    let mut req = match r.require.as_ref().map(|s| (s.get_ref().as_str(), s.span())) {
        None | Some(("authenticated", _)) => RouteRequirement::authenticated(),
        Some(("optional", _)) => RouteRequirement::optional(),
        Some(("public", _)) => RouteRequirement::public(),
        Some((other, span)) => {
            return Err(at(
                Some(span),
                format!(
                    "`require = \"{other}\"`: use \"authenticated\", \"optional\" or \"public\""
                ),
            ))
        }
    };
    let public = matches!(
        r.require.as_ref().map(|s| s.get_ref().as_str()),
        Some("public")
    );
    if public
        && (r.permission.is_some()
            || r.organization.is_some()
            || r.resource.is_some()
            || r.elevated
            || r.step_up.is_some())
    {
        return Err(at(
            r.require.as_ref().map(Spanned::span),
            "a public route cannot need a permission, organization, resource, elevation or step-up"
                .into(),
        ));
    }
    if configured.is_empty() && !public {
        return Err(at(
            Some(r.path.span()),
            "the route needs a caller but no scheme is configured ([jwt], [basic], [api_keys], [sessions])".into(),
        ));
    }
    let schemes = match &r.schemes {
        None => configured.to_vec(),
        Some(list) => {
            let mut out = Vec::with_capacity(list.len());
            for s in list {
                let Some(name) = scheme_name(s.get_ref()) else {
                    return Err(at(
                        Some(s.span()),
                        format!(
                            "unknown scheme `{}` (bearer, basic, api_key, session)",
                            s.get_ref()
                        ),
                    ));
                };
                if !configured.contains(&name) {
                    return Err(at(
                        Some(s.span()),
                        format!("the scheme `{name}` is not configured in this file"),
                    ));
                }
                out.push(name);
            }
            if out.is_empty() && !public {
                return Err(at(Some(r.path.span()), "`schemes` is empty".into()));
            }
            out
        }
    };
    req = req.schemes(schemes);
    if let Some(p) = &r.permission {
        if p.get_ref().trim().is_empty() {
            return Err(at(Some(p.span()), "empty permission".into()));
        }
        req = req.permission(p.get_ref().clone());
    }
    if let Some(o) = &r.organization {
        req = match param_or_value(o, &pattern, at)? {
            Ok(param) => req.organization_from(param),
            Err(fixed) => req.organization(fixed),
        };
    }
    if let Some(res) = &r.resource {
        match param_or_value(res, &pattern, at)? {
            Ok(param) => req = req.resource_from(param),
            Err(_) => {
                return Err(at(
                    Some(res.span()),
                    "`resource` names a path parameter, e.g. \"{id}\"".into(),
                ))
            }
        }
    }
    if r.elevated {
        req = req.elevated();
    }
    if let Some(s) = &r.step_up {
        let raw = s.get_ref();
        if raw.acr.is_empty() && raw.amr.is_empty() && raw.max_age_secs.is_none() {
            return Err(at(
                Some(s.span()),
                "an empty step-up: give `acr`, `amr` and/or `max_age_secs`".into(),
            ));
        }
        let mut step = StepUp::new().acr(raw.acr.clone()).amr(raw.amr.clone());
        if let Some(secs) = raw.max_age_secs {
            step = step.max_age(Duration::from_secs(secs));
        }
        req = req.step_up(step);
    }
    Ok(Route::new(methods, pattern, req))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn check(text: &str) -> Result<Config, ConfigError> {
        parse(Path::new("/etc/bouncer/bouncer.toml"), text, &no_env)
    }

    fn error(text: &str) -> ConfigError {
        check(text).unwrap_err()
    }

    const BASE: &str = r#"policy = "policy.toml"
[basic]
"#;

    #[test]
    fn line_and_column_count_characters() {
        assert_eq!(line_column("abc", 0), (1, 1));
        assert_eq!(line_column("abc\ndef", 5), (2, 2));
        assert_eq!(line_column("ä = 1\nb", 3), (1, 3));
        assert_eq!(line_column("x", 99), (1, 2));
    }

    #[test]
    fn a_minimal_file_has_defaults() {
        let c = check(BASE).unwrap();
        assert_eq!(c.http, DEFAULT_HTTP.parse().unwrap());
        assert_eq!(c.grpc, None);
        assert_eq!(c.policy, PathBuf::from("/etc/bouncer/policy.toml"));
        assert_eq!(c.realm, "bouncer");
        assert!(c.basic && c.jwt.is_none() && c.redis.is_none());
        assert!(c.expose_detail);
    }

    #[test]
    fn unknown_fields_are_refused_at_their_place() {
        let e = error("policy = \"p.toml\"\n[listen]\nhtp = \"x\"\n");
        assert_eq!(e.position, Some((3, 1)), "{e}");
        assert!(e.message.contains("unknown field `htp`"), "{e}");
        assert!(
            e.to_string().starts_with("/etc/bouncer/bouncer.toml:3:1: "),
            "{e}"
        );
    }

    #[test]
    fn toml_syntax_errors_have_a_place() {
        let e = error("policy = \"p.toml\"\n[listen\n");
        assert_eq!(e.position.map(|p| p.0), Some(2), "{e}");
    }

    #[test]
    fn a_missing_policy_is_refused() {
        let e = error("[basic]\n");
        assert!(e.message.contains("policy"), "{e}");
    }

    #[test]
    fn bad_addresses_point_at_the_value() {
        let e = error("policy = \"p\"\n[listen]\nhttp = \"localhost\"\n");
        assert_eq!(e.position, Some((3, 8)), "{e}");
    }

    #[test]
    fn the_environment_overrides_addresses_and_redis() {
        let env = |k: &str| match k {
            "BOUNCER_ADDR" => Some("127.0.0.1:9001".to_owned()),
            "BOUNCER_GRPC_ADDR" => Some("127.0.0.1:9002".to_owned()),
            "BOUNCER_REDIS_URL" => Some("redis://127.0.0.1:7000/0".to_owned()),
            _ => None,
        };
        let text = format!("{BASE}[listen]\nhttp = \"127.0.0.1:1\"\n");
        let c = parse(Path::new("b.toml"), &text, &env).unwrap();
        assert_eq!(c.http.port(), 9001);
        assert_eq!(c.grpc.map(|a| a.port()), Some(9002));
        assert_eq!(c.redis.as_deref(), Some("redis://127.0.0.1:7000/0"));
        let bad = |k: &str| (k == "BOUNCER_ADDR").then(|| "nope".to_owned());
        let e = parse(Path::new("b.toml"), BASE, &bad).unwrap_err();
        assert_eq!(e.file, "BOUNCER_ADDR");
    }

    #[test]
    fn hmac_secrets_come_from_the_environment_first_and_must_be_long() {
        let text = r#"policy = "p"
[jwt]
issuer = "https://i"
audience = "https://a"
hmac = { secret_env = "S", secret = "0123456789abcdef0123456789abcdef-default" }
"#;
        let c = check(text).unwrap();
        let (alg, secret) = c.jwt.unwrap().hmac.unwrap();
        assert_eq!(alg, Algorithm::HS256);
        assert!(secret.0.ends_with(b"-default"));
        let env = |k: &str| (k == "S").then(|| "x".repeat(40));
        let c = parse(Path::new("b.toml"), text, &env).unwrap();
        assert_eq!(c.jwt.unwrap().hmac.unwrap().1 .0, b"x".repeat(40));
        assert!(!format!("{:?}", Secret(b"hunter2".to_vec())).contains("hunter2"));

        let short = text.replace("-default", "");
        let e = check(&short.replace("0123456789abcdef0123456789abcdef", "short")).unwrap_err();
        assert!(e.message.contains("at least 32 bytes"), "{e}");
        assert_eq!(e.position.map(|p| p.0), Some(5));

        let unset = "policy = \"p\"\n[jwt]\nissuer = \"i\"\naudience = \"a\"\nhmac = { secret_env = \"NOPE\" }\n";
        assert!(check(unset)
            .unwrap_err()
            .message
            .contains("`NOPE` is unset"));
        let no_keys = "policy = \"p\"\n[jwt]\nissuer = \"i\"\naudience = \"a\"\n";
        assert!(check(no_keys).unwrap_err().message.contains("needs keys"));
    }

    #[test]
    fn routes_name_configured_schemes_and_real_parameters() {
        let route = |body: &str| format!("{BASE}[[routes]]\npath = \"/orgs/{{org}}/docs\"\n{body}");
        let e = error(&route("schemes = [\"bearer\"]\n"));
        assert_eq!(e.position, Some((5, 12)), "{e}");
        assert!(e.message.contains("not configured"), "{e}");
        let e = error(&route("schemes = [\"kerberos\"]\n"));
        assert!(e.message.contains("unknown scheme"), "{e}");
        let e = error(&route("organization = \"{tenant}\"\n"));
        assert_eq!(e.position, Some((5, 16)), "{e}");
        assert!(e.message.contains("no parameter `{tenant}`"), "{e}");
        let e = error(&route("resource = \"welcome\"\n"));
        assert!(e.message.contains("path parameter"), "{e}");
        let e = error(&route("require = \"maybe\"\n"));
        assert!(e.message.contains("\"authenticated\""), "{e}");
        let e = error(&route("require = \"public\"\npermission = \"x:y\"\n"));
        assert!(e.message.contains("public route"), "{e}");
        let e = error(&route("methods = [\"GE T\"]\n"));
        assert!(e.message.contains("HTTP method"), "{e}");
        let e = error(&route("step_up = {}\n"));
        assert!(e.message.contains("empty step-up"), "{e}");
        let e = error(&format!("{BASE}[[routes]]\npath = \"/a/{{id\"\n"));
        assert_eq!(e.position, Some((4, 8)), "{e}");
        assert!(check(&route(
            "organization = \"{org}\"\npermission = \"documents:read\"\n"
        ))
        .is_ok());
    }

    #[test]
    fn a_route_without_any_scheme_configured_is_refused() {
        let e = error("policy = \"p\"\n[[routes]]\npath = \"/me\"\n");
        assert!(e.message.contains("no scheme is configured"), "{e}");
        assert!(
            check("policy = \"p\"\n[[routes]]\npath = \"/health\"\nrequire = \"public\"\n").is_ok()
        );
    }

    #[test]
    fn resources_are_private_when_shared_and_may_be_read_only() {
        let text = format!(
            "{BASE}[resources.acme.roadmap]\nshared_with = [\"alice\"]\n[resources.acme.handbook]\nread_only = true\n[resources.acme.secret]\nprivate = true\n"
        );
        let c = check(&text).unwrap();
        let roadmap = c.resources.get("acme", "roadmap").unwrap();
        assert_eq!(roadmap.private.as_ref().unwrap().users, ["alice"]);
        assert!(!roadmap.read_only);
        let handbook = c.resources.get("acme", "handbook").unwrap();
        assert!(handbook.private.is_none() && handbook.read_only);
        assert!(c
            .resources
            .get("acme", "secret")
            .unwrap()
            .private
            .as_ref()
            .unwrap()
            .users
            .is_empty());
        let e = error(&format!(
            "{BASE}[resources.acme.x]\nprivate = false\nshared_with = [\"bob\"]\n"
        ));
        assert!(e.message.contains("private = false"), "{e}");
    }
}

//! The quickstart application, whatever the web framework: bouncer's crates
//! wired together with the policy file beside this file, the shared stores,
//! and a small in-memory documents API with its login, MFA and logout
//! logic.
//!
//! Every authentication and authorization decision here is the library's:
//! this file only configures it and describes documents (their
//! organization, who a private one is shared with, whether it is
//! read-only). The routes and handlers of each framework are thin glue
//! beside it: `axum_routes.rs` (`cargo run --example quickstart`) and
//! `actix_routes.rs` (`cargo run --example quickstart-actix`). Both declare
//! the same routes with the same [`require`] requirements and answer with
//! the same [`Answer`]s.

#![allow(unreachable_pub)] // shared by the example binaries and their end-to-end tests

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use bouncer_authn::api_key::ApiKeyAuthenticator;
use bouncer_authn::basic::{user_pass_from_headers, BasicAuthenticator, PasswordVerifierHandle};
use bouncer_authn::config::CredentialsConfig;
use bouncer_authn::jwt::{self, Algorithm, JwtAuthenticator, JwtValidation, KeySet, VerifyKey};
use bouncer_authn::revocation::{MemoryRevocationStore, RevocationStore};
use bouncer_authz::{
    AccessList, ClientIpResolver, GuardConfig, Policy, PolicyAuthorizer, Resource, ResourceResolver,
};
use bouncer_core::metadata::ProtectedResourceMetadata;
use bouncer_core::{
    Authenticated, AuthnReason, Denial, Fault, Gate, Requirement, SchemeName, Unauthenticated,
};
use bouncer_redis::RedisStore;
use bouncer_session::{
    CounterStore, LoginError, MemoryMfaDirectory, MemorySessionStore, SessionConfig, SessionStore,
    Sessions,
};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

/// The realm of every challenge.
pub const REALM: &str = "bouncer-quickstart";
/// The accepted token issuer.
pub const ISSUER: &str = "https://auth.bouncer.test";
/// The accepted token audience.
pub const AUDIENCE: &str = "https://api.bouncer.test";
/// `BOUNCER_DEMO_SECRET` when unset.
pub const DEFAULT_DEMO_SECRET: &str = "bouncer-demo-secret-change-me-0123456789";
/// The MFA requirement of `/admin/*`.
pub const MFA_ACR: &str = "urn:logto:acr:mfa";

/// CORS: any origin may call these methods with these request headers;
/// preflights are cached this long.
pub const CORS_METHODS: [Method; 4] = [Method::GET, Method::POST, Method::PUT, Method::DELETE];
/// See [`CORS_METHODS`].
pub const CORS_HEADERS: [&str; 3] = ["authorization", "content-type", "x-api-key"];
/// See [`CORS_METHODS`].
pub const CORS_MAX_AGE: Duration = Duration::from_secs(600);

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Start-up settings, from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `BOUNCER_ADDR`.
    pub addr: SocketAddr,
    /// `BOUNCER_DEMO_SECRET`.
    pub secret: String,
    /// `BOUNCER_DEMO_JWKS`.
    pub jwks: Option<PathBuf>,
    /// `BOUNCER_POLICY` (default: the file beside the example).
    pub policy: PathBuf,
    /// `BOUNCER_REDIS_URL`: share revocations, sessions and login counters
    /// through Redis (memory when unset).
    pub redis: Option<String>,
}

impl Config {
    /// Reads the environment.
    pub fn from_env() -> Result<Self, BoxError> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Ok(Self {
            addr: var("BOUNCER_ADDR")
                .unwrap_or_else(|| "127.0.0.1:8080".into())
                .parse()?,
            secret: var("BOUNCER_DEMO_SECRET").unwrap_or_else(|| DEFAULT_DEMO_SECRET.into()),
            jwks: var("BOUNCER_DEMO_JWKS").map(PathBuf::from),
            policy: var("BOUNCER_POLICY").map_or_else(default_policy_path, PathBuf::from),
            redis: var("BOUNCER_REDIS_URL"),
        })
    }
}

/// `examples/quickstart/policy.toml`.
pub fn default_policy_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("quickstart")
        .join("policy.toml")
}

/// The gate and the demo's state, shared by every handler (and every
/// worker). Cheap to clone.
#[derive(Clone)]
pub struct App {
    gate: Arc<Gate>,
    documents: Arc<Documents>,
    revocations: Arc<dyn RevocationStore>,
    sessions: Sessions,
    client_ip: ClientIpResolver,
}

/// Builds the gate, the stores and the documents.
pub fn build(config: &Config) -> Result<App, BoxError> {
    // One file, one loader per part: the policy, `[guards]` and
    // `[credentials]` (each refuses typos in its own part).
    let policy = Policy::from_file(&config.policy)?;
    let guards = GuardConfig::from_file(&config.policy)?;
    let credentials = CredentialsConfig::from_file(&config.policy)?;

    let mut keys = KeySet::new();
    let secret = config.secret.as_bytes();
    let hs256 = if secret.len() >= jwt::MIN_HMAC_SECRET_LEN {
        VerifyKey::hmac(Algorithm::HS256, secret)?
    } else {
        tracing::warn!(
            "BOUNCER_DEMO_SECRET is shorter than {} bytes: accepted for the demo only",
            jwt::MIN_HMAC_SECRET_LEN
        );
        VerifyKey::dangerous_short_hmac(Algorithm::HS256, secret)?
    };
    keys.insert(hs256)?;
    if let Some(path) = &config.jwks {
        keys.extend(KeySet::from_jwks_file(path)?)?;
    }

    // Shared state: Redis when configured (every instance sees the same
    // logouts and sessions), memory otherwise.
    let (revocations, session_store, counters): (
        Arc<dyn RevocationStore>,
        Arc<dyn SessionStore>,
        Arc<dyn CounterStore>,
    ) = match &config.redis {
        Some(url) => {
            let redis = Arc::new(RedisStore::open(url)?);
            (redis.clone(), redis.clone(), redis)
        }
        None => {
            let memory = Arc::new(MemorySessionStore::new());
            (
                Arc::new(MemoryRevocationStore::new()),
                memory.clone(),
                memory,
            )
        }
    };
    let validation = JwtValidation::new(ISSUER, AUDIENCE).accept_logto_organization_audience();
    let bearer = JwtAuthenticator::new(REALM, keys, validation).revocation(revocations.clone());
    let passwords = PasswordVerifierHandle::new(credentials.password_store()?);
    let basic = BasicAuthenticator::with_verifier(REALM, passwords.clone());
    let sessions = Sessions::new(
        session_store,
        counters,
        passwords,
        Arc::new(MemoryMfaDirectory::from_credentials(&credentials)?),
        SessionConfig::default(),
    )
    .with_accounts(Arc::new(policy.clone()));
    let api_key = ApiKeyAuthenticator::header("x-api-key", credentials.api_key_store()?);

    let documents = Arc::new(Documents::seeded());
    let gate = Gate::builder()
        .realm(REALM)
        .guard(guards.path_guard()?)
        .guard(guards.network_guard())
        // Basic first: RFC 9110 §11.3 advises listing well-supported schemes first.
        .authenticator(basic)
        .authenticator(bearer)
        .authenticator(api_key)
        .authenticator(sessions.authenticator())
        .accounts(policy.clone())
        .authorizer(PolicyAuthorizer::new(policy.clone()).resources_arc(documents.clone()))
        .build();

    Ok(App {
        gate: Arc::new(gate),
        documents,
        revocations,
        sessions,
        client_ip: guards.resolver(),
    })
}

/// What each route requires, for both frameworks.
pub mod require {
    use std::time::Duration;

    use bouncer_core::route::RouteRequirement;
    use bouncer_core::{SchemeName, StepUp};

    /// Any scheme; the session cookie is accepted wherever Bearer is
    /// (contract §5).
    pub fn any() -> RouteRequirement {
        RouteRequirement::authenticated().schemes([
            SchemeName::BEARER,
            SchemeName::BASIC,
            SchemeName::API_KEY,
            SchemeName::SESSION,
        ])
    }

    /// Bearer (or the session cookie) only.
    pub fn bearer() -> RouteRequirement {
        RouteRequirement::authenticated().schemes([SchemeName::BEARER, SchemeName::SESSION])
    }

    /// `permission` in the path's `{org}`.
    pub fn org(permission: &'static str) -> RouteRequirement {
        any().permission(permission).organization_from("org")
    }

    /// `permission` on the path's document `{id}` in `{org}`.
    pub fn doc(permission: &'static str) -> RouteRequirement {
        org(permission).resource_from("id")
    }

    fn mfa() -> StepUp {
        StepUp::new().acr([super::MFA_ACR]).amr(["mfa"])
    }

    fn admin() -> RouteRequirement {
        bearer().permission("admin:access").elevated()
    }

    /// `GET /admin/audit`: the admin role, then MFA.
    pub fn audit() -> RouteRequirement {
        admin().step_up(mfa())
    }

    /// `POST /admin/keys/rotate`: as [`audit`], with MFA at most 300 s old.
    pub fn rotate_keys() -> RouteRequirement {
        admin().step_up(mfa().max_age(Duration::from_secs(300)))
    }
}

/// The RFC 9728 document served at `/.well-known/oauth-protected-resource`.
pub fn metadata() -> ProtectedResourceMetadata {
    ProtectedResourceMetadata::new(AUDIENCE)
        .authorization_server(ISSUER)
        .scopes([
            "documents:read",
            "documents:write",
            "documents:delete",
            "admin:access",
        ])
        .name("bouncer quickstart")
}

/// A handler's answer, before a framework makes a response of it.
/// Denials are rendered by the adapter's `BouncerRejection`, i.e. by
/// core's one renderer, so both frameworks send the same bytes.
#[derive(Debug)]
pub enum Answer {
    /// 200 with a fixed text.
    Text {
        /// The media type.
        content_type: &'static str,
        /// The text.
        body: &'static str,
    },
    /// JSON, with an optional `Location`.
    Json {
        /// The status.
        status: StatusCode,
        /// `Location`, for 201.
        location: Option<String>,
        /// The body.
        body: Value,
    },
    /// No body, with an optional `Set-Cookie`.
    Empty {
        /// The status.
        status: StatusCode,
        /// `Set-Cookie`.
        set_cookie: Option<HeaderValue>,
    },
    /// A denial (401, 403, 429, 500, 503).
    Denied(Denial),
}

impl Answer {
    fn json(body: Value) -> Self {
        Self::Json {
            status: StatusCode::OK,
            location: None,
            body,
        }
    }

    fn empty(status: StatusCode) -> Self {
        Self::Empty {
            status,
            set_cookie: None,
        }
    }

    fn cookie(cookie: HeaderValue) -> Self {
        Self::Empty {
            status: StatusCode::NO_CONTENT,
            set_cookie: Some(cookie),
        }
    }
}

impl From<Fault> for Answer {
    fn from(f: Fault) -> Self {
        Self::Denied(Denial::Fault(f))
    }
}

/// The request body of POST and PUT.
#[derive(Debug, Deserialize)]
pub struct DocBody {
    title: String,
    content: String,
}

/// The JSON form of `POST /login`.
#[derive(Debug, Deserialize)]
struct LoginBody {
    username: String,
    password: String,
}

/// The JSON body of `POST /login/mfa`.
#[derive(Debug, Deserialize)]
struct MfaBody {
    code: String,
}

impl App {
    /// The gate, for the adapter's `Bouncer`.
    pub fn gate(&self) -> Arc<Gate> {
        self.gate.clone()
    }

    /// `GET /health`.
    pub fn health() -> Answer {
        Answer::Text {
            content_type: "text/plain; charset=utf-8",
            body: "ok",
        }
    }

    /// `GET /static/{file}`: public files. The blocked-path guard has
    /// already run.
    pub fn static_file(file: &str) -> Answer {
        match file {
            "readme.txt" => Answer::Text {
                content_type: "text/plain; charset=utf-8",
                body: "bouncer quickstart: public static file\n",
            },
            "app.js" => Answer::Text {
                content_type: "text/javascript",
                body: "console.log('hello from bouncer');\n",
            },
            _ => Answer::empty(StatusCode::NOT_FOUND),
        }
    }

    /// `GET /me`.
    pub fn me(who: &Authenticated) -> Answer {
        let kind = match who.kind() {
            bouncer_core::PrincipalKind::Service => "service",
            _ => "user",
        };
        Answer::json(json!({
            "sub": who.subject(),
            "kind": kind,
            "scheme": who.scheme().as_str(),
            "organization": who.organization(),
            "scopes": who.scopes(),
            "acr": who.auth_context().acr(),
            "amr": who.auth_context().amr(),
        }))
    }

    /// `GET /orgs/{org}/documents`.
    pub fn list_documents(&self, org: &str) -> Answer {
        let docs = match self.documents.read() {
            Ok(d) => d,
            Err(f) => return f.into(),
        };
        let items: Vec<_> = docs
            .iter()
            .filter(|((o, _), _)| o == org)
            .map(|((_, id), d)| {
                // Titles of private documents are not listed; reading one goes
                // through its access list.
                let title = if d.shared_with.is_some() { None } else { Some(d.title.clone()) };
                json!({ "id": id, "title": title, "private": d.shared_with.is_some(), "read_only": d.read_only })
            })
            .collect();
        Answer::json(json!({ "organization": org, "documents": items }))
    }

    /// `POST /orgs/{org}/documents`.
    pub fn create_document(&self, org: &str, body: DocBody) -> Answer {
        let n = self.documents.next_id.fetch_add(1, Ordering::Relaxed);
        let id = format!("doc-{n}");
        let doc = Doc {
            title: body.title,
            content: body.content,
            shared_with: None,
            read_only: false,
        };
        let out = doc_json(org, &id, &doc);
        match self.documents.write() {
            Ok(mut docs) => {
                docs.insert((org.to_owned(), id.clone()), doc);
            }
            Err(f) => return f.into(),
        }
        Answer::Json {
            status: StatusCode::CREATED,
            location: Some(format!("documents/{id}")),
            body: out,
        }
    }

    /// `GET /orgs/{org}/documents/{id}`.
    pub fn read_document(&self, org: &str, id: &str) -> Answer {
        match self.documents.read() {
            Ok(docs) => match docs.get(&(org.to_owned(), id.to_owned())) {
                Some(d) => Answer::json(doc_json(org, id, d)),
                None => Answer::empty(StatusCode::NOT_FOUND),
            },
            Err(f) => f.into(),
        }
    }

    /// `PUT /orgs/{org}/documents/{id}`.
    pub fn update_document(&self, org: &str, id: &str, body: DocBody) -> Answer {
        match self.documents.write() {
            Ok(mut docs) => match docs.get_mut(&(org.to_owned(), id.to_owned())) {
                Some(d) => {
                    d.title = body.title;
                    d.content = body.content;
                    Answer::json(doc_json(org, id, d))
                }
                None => Answer::empty(StatusCode::NOT_FOUND),
            },
            Err(f) => f.into(),
        }
    }

    /// `DELETE /orgs/{org}/documents/{id}`.
    pub fn delete_document(&self, org: &str, id: &str) -> Answer {
        match self.documents.write() {
            Ok(mut docs) => match docs.remove(&(org.to_owned(), id.to_owned())) {
                Some(_) => Answer::empty(StatusCode::NO_CONTENT),
                None => Answer::empty(StatusCode::NOT_FOUND),
            },
            Err(f) => f.into(),
        }
    }

    /// `POST /logout`: ends the session, or revokes the bearer token until
    /// it expires.
    pub async fn logout(&self, who: &Authenticated) -> Answer {
        if *who.scheme() == SchemeName::SESSION {
            return match self.sessions.logout(who.identity()).await {
                Ok(cookie) => Answer::cookie(cookie),
                Err(f) => f.into(),
            };
        }
        match jwt::revoke(self.revocations.as_ref(), who.identity()).await {
            Ok(_) => Answer::empty(StatusCode::NO_CONTENT),
            Err(f) => f.into(),
        }
    }

    /// `POST /login` with Basic credentials or `{"username", "password"}`:
    /// starts a session (204 and the `bouncer_session` cookie). `peer` is
    /// the TCP peer.
    pub async fn login(&self, peer: IpAddr, headers: &HeaderMap, body: &[u8]) -> Answer {
        let (user, password) = match user_pass_from_headers(headers) {
            Ok(Some(up)) => (up.user.clone(), up.password.clone()),
            Err(reason) => return self.reject(SchemeName::BASIC, reason),
            Ok(None) if body.is_empty() => {
                return self.reject(SchemeName::BASIC, AuthnReason::MissingCredentials)
            }
            Ok(None) => match serde_json::from_slice::<LoginBody>(body) {
                Ok(b) => (b.username, b.password),
                Err(_) => return self.reject(SchemeName::BASIC, AuthnReason::MalformedCredentials),
            },
        };
        // Throttling needs some address. When the proxy's forwarding data is
        // unreadable (the guards have already refused such requests, since the
        // demo has IP rules), count the attempt against the peer, i.e. the
        // proxy: every such request shares that one bucket, so unreadable
        // headers cannot buy a fresh allowance per attempt.
        let client = self
            .client_ip
            .resolve(peer, headers)
            .unwrap_or_else(|_| bouncer_authz::guards::canonical(peer));
        match self
            .sessions
            .login(headers, &user, &password, Some(client))
            .await
        {
            Ok(done) => Answer::cookie(done.set_cookie),
            Err(e) => self.deny(SchemeName::BASIC, e),
        }
    }

    /// `POST /login/mfa` with `{"code": "123456"}` and the pending
    /// session's cookie: completes the login (204 and a new cookie).
    pub async fn login_mfa(&self, headers: &HeaderMap, body: &[u8]) -> Answer {
        let code = serde_json::from_slice::<MfaBody>(body)
            .map(|b| b.code)
            .unwrap_or_default();
        match self.sessions.complete_mfa(headers, &code).await {
            Ok(cookie) => Answer::cookie(cookie),
            Err(e) => self.deny(SchemeName::SESSION, e),
        }
    }

    /// `GET /admin/audit`.
    pub fn audit(who: &Authenticated) -> Answer {
        Answer::json(json!({
            "requested_by": who.subject(),
            "events": [
                { "at": "2026-11-26T09:00:00Z", "actor": "alice", "action": "documents:write", "target": "acme/welcome" },
                { "at": "2026-11-26T09:05:00Z", "actor": "svc-reporter", "action": "documents:read", "target": "acme/welcome" },
            ],
        }))
    }

    /// `POST /admin/keys/rotate`.
    pub fn rotate_keys(who: &Authenticated) -> Answer {
        // The demo has no signing keys of its own to rotate: the route exists to
        // show a fresh-MFA (`max_age`) requirement, and says so.
        Answer::json(json!({ "accepted": true, "requested_by": who.subject(),
                             "note": "demo route: no keys are rotated" }))
    }

    /// The gate's own answer for a failed login step, so it looks like
    /// every other 401.
    fn deny(&self, scheme: SchemeName, e: LoginError) -> Answer {
        let requirement = Requirement::authenticated().schemes([scheme.clone()]);
        Answer::Denied(e.into_denial(&self.gate, &requirement, &scheme))
    }

    fn reject(&self, scheme: SchemeName, reason: AuthnReason) -> Answer {
        self.deny(
            scheme,
            LoginError::Unauthenticated(Unauthenticated::new(reason)),
        )
    }
}

/// A document.
#[derive(Debug, Clone)]
struct Doc {
    title: String,
    content: String,
    shared_with: Option<Vec<String>>,
    read_only: bool,
}

type DocMap = BTreeMap<(String, String), Doc>;

/// In-memory documents, keyed by (organization, id).
pub struct Documents {
    docs: RwLock<DocMap>,
    next_id: AtomicU64,
}

impl Documents {
    fn seeded() -> Self {
        let mut docs = BTreeMap::new();
        let mut add =
            |org: &str, id: &str, title: &str, shared: Option<&[&str]>, read_only: bool| {
                docs.insert(
                    (org.to_owned(), id.to_owned()),
                    Doc {
                        title: title.to_owned(),
                        content: format!("The {title} document."),
                        shared_with: shared.map(|s| s.iter().map(|x| (*x).to_owned()).collect()),
                        read_only,
                    },
                );
            };
        add("acme", "welcome", "Welcome to Acme", None, false);
        add("acme", "roadmap", "Acme roadmap", Some(&["alice"]), false);
        add(
            "acme",
            "handbook-2019",
            "Handbook 2019 (archived)",
            None,
            true,
        );
        add("globex", "plans", "Globex plans", None, false);
        Self {
            docs: RwLock::new(docs),
            next_id: AtomicU64::new(1),
        }
    }

    fn read(&self) -> Result<std::sync::RwLockReadGuard<'_, DocMap>, Fault> {
        self.docs
            .read()
            .map_err(|_| Fault::internal_msg("document store poisoned"))
    }

    fn write(&self) -> Result<std::sync::RwLockWriteGuard<'_, DocMap>, Fault> {
        self.docs
            .write()
            .map_err(|_| Fault::internal_msg("document store poisoned"))
    }
}

#[async_trait]
impl ResourceResolver for Documents {
    async fn resolve(
        &self,
        organization: Option<&str>,
        id: &str,
    ) -> Result<Option<Resource>, Fault> {
        let Some(org) = organization else {
            return Ok(None);
        };
        let docs = self.read()?;
        Ok(docs
            .get(&(org.to_owned(), id.to_owned()))
            .map(|d| Resource {
                organization: Some(org.to_owned()),
                private: d.shared_with.as_ref().map(|users| AccessList {
                    users: users.clone(),
                    roles: Vec::new(),
                }),
                read_only: d.read_only,
            }))
    }
}

fn doc_json(org: &str, id: &str, d: &Doc) -> Value {
    json!({ "organization": org, "id": id, "title": d.title, "content": d.content,
            "private": d.shared_with.is_some(), "read_only": d.read_only })
}

/// The render options of a denial a handler made (a login's 401, a
/// missing document's 404): a fresh decision id, recorded in the decision
/// log and metrics and named in the body's `instance`, as the adapters do
/// for the gate's denials.
pub(crate) fn handler_denial(denial: &bouncer_core::Denial) -> bouncer_core::RenderOptions {
    let id = bouncer_core::DecisionId::new();
    bouncer_core::logging::denial(
        &id,
        denial,
        &bouncer_core::logging::DecisionContext::default(),
    );
    bouncer_core::RenderOptions::new().instance(id.urn())
}

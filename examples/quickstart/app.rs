//! The quickstart application: bouncer's crates wired together with the
//! policy file beside this file, and a small in-memory documents API.
//!
//! Every authentication and authorization decision here is the library's:
//! this file only configures it and describes documents (their
//! organization, who a private one is shared with, whether it is
//! read-only).

#![allow(unreachable_pub)] // shared by the example binary and its end-to-end test

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::handler::Handler;
use axum::http::HeaderMap;
use axum::http::{header, HeaderName, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bouncer_authn::api_key::ApiKeyAuthenticator;
use bouncer_authn::basic::{user_pass_from_headers, BasicAuthenticator, PasswordVerifierHandle};
use bouncer_authn::config::CredentialsConfig;
use bouncer_authn::jwt::{self, Algorithm, JwtAuthenticator, JwtValidation, KeySet, VerifyKey};
use bouncer_authn::revocation::{MemoryRevocationStore, RevocationStore};
use bouncer_session::{
    CounterStore, MemoryMfaDirectory, MemorySessionStore, SessionConfig, SessionStore, Sessions,
};
use bouncer_authz::{
    AccessList, ClientIpResolver, Policy, PolicyAuthorizer, Resource, ResourceResolver,
};
use bouncer_axum::{Bouncer, BouncerRejection, Principal, RouteRequirement};
use bouncer_core::{AuthnReason, Denial, Fault, Gate, Rejection, Requirement, SchemeName, StepUp};
use bouncer_redis::RedisStore;
use serde::Deserialize;
use serde_json::json;
use tower_http::cors::{Any, CorsLayer};

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

type BoxError = Box<dyn std::error::Error + Send + Sync>;

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

/// The part of the policy file bouncer-authn reads.
#[derive(Deserialize)]
struct CredentialsSection {
    #[serde(default)]
    credentials: CredentialsConfig,
}

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    documents: Arc<Documents>,
    revocations: Arc<dyn RevocationStore>,
    sessions: Sessions,
    bouncer: Bouncer,
    client_ip: ClientIpResolver,
}

/// Builds the router (serve it with `ConnectInfo<SocketAddr>`).
pub fn build(config: &Config) -> Result<Router, BoxError> {
    let policy = Policy::from_file(&config.policy)?;
    let text = std::fs::read_to_string(&config.policy)?;
    let credentials = toml::from_str::<CredentialsSection>(&text)?.credentials;

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
    let guards = policy.guards();
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
    let bouncer = Bouncer::new(gate);

    let state = AppState {
        documents,
        revocations,
        sessions,
        bouncer: bouncer.clone(),
        client_ip: guards.resolver(),
    };
    Ok(routes(&bouncer, state))
}

fn routes(bouncer: &Bouncer, state: AppState) -> Router {
    // The session cookie is accepted wherever Bearer is (contract §5).
    let any = || {
        RouteRequirement::authenticated().schemes([
            SchemeName::BEARER,
            SchemeName::BASIC,
            SchemeName::API_KEY,
            SchemeName::SESSION,
        ])
    };
    let bearer =
        || RouteRequirement::authenticated().schemes([SchemeName::BEARER, SchemeName::SESSION]);
    let org = |permission: &'static str| any().permission(permission).organization_from("org");
    let doc = |permission: &'static str| org(permission).resource_from("id");
    let mfa = || StepUp::new().acr([MFA_ACR]).amr(["mfa"]);
    let admin = || bearer().permission("admin:access").elevated();
    let req = |r: RouteRequirement| bouncer.require(r);

    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-api-key"),
        ])
        .max_age(Duration::from_secs(600));

    Router::new()
        .route("/health", get(health))
        .route("/static/{file}", get(static_file))
        .route("/me", get(me).route_layer(req(any())))
        .route(
            "/orgs/{org}/documents",
            get(list_documents.layer(req(org("documents:read"))))
                .post(create_document.layer(req(org("documents:write")))),
        )
        .route(
            "/orgs/{org}/documents/{id}",
            get(read_document.layer(req(doc("documents:read"))))
                .put(update_document.layer(req(doc("documents:write"))))
                .delete(delete_document.layer(req(doc("documents:delete")))),
        )
        .route("/login", post(login))
        .route("/login/mfa", post(login_mfa))
        .route("/logout", post(logout).route_layer(req(bearer())))
        .route(
            "/admin/audit",
            get(audit).route_layer(req(admin().step_up(mfa()))),
        )
        .route(
            "/admin/keys/rotate",
            post(rotate_keys)
                .route_layer(req(admin().step_up(mfa().max_age(Duration::from_secs(300))))),
        )
        .with_state(state)
        .layer(cors)
        .layer(bouncer.guards())
}

async fn health() -> &'static str {
    "ok"
}

/// Public files. The blocked-path guard has already run.
async fn static_file(Path(file): Path<String>) -> Response {
    match file.as_str() {
        "readme.txt" => "bouncer quickstart: public static file\n".into_response(),
        "app.js" => (
            [(header::CONTENT_TYPE, "text/javascript")],
            "console.log('hello from bouncer');\n",
        )
            .into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn me(Principal(who): Principal) -> Json<serde_json::Value> {
    let kind = match who.kind() {
        bouncer_core::PrincipalKind::Service => "service",
        _ => "user",
    };
    Json(json!({
        "sub": who.subject(),
        "kind": kind,
        "scheme": who.scheme().as_str(),
        "organization": who.organization(),
        "scopes": who.scopes(),
        "acr": who.auth_context().acr(),
        "amr": who.auth_context().amr(),
    }))
}

/// A document.
#[derive(Debug, Clone)]
struct Doc {
    title: String,
    content: String,
    shared_with: Option<Vec<String>>,
    read_only: bool,
}

/// The request body of POST and PUT.
#[derive(Debug, Deserialize)]
struct DocBody {
    title: String,
    content: String,
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

fn fault(f: Fault) -> Response {
    BouncerRejection::new(Denial::Fault(f)).into_response()
}

fn doc_json(org: &str, id: &str, d: &Doc) -> serde_json::Value {
    json!({ "organization": org, "id": id, "title": d.title, "content": d.content,
            "private": d.shared_with.is_some(), "read_only": d.read_only })
}

async fn list_documents(State(s): State<AppState>, Path(org): Path<String>) -> Response {
    let docs = match s.documents.read() {
        Ok(d) => d,
        Err(f) => return fault(f),
    };
    let items: Vec<_> = docs
        .iter()
        .filter(|((o, _), _)| *o == org)
        .map(|((_, id), d)| {
            // Titles of private documents are not listed; reading one goes
            // through its access list.
            let title = if d.shared_with.is_some() { None } else { Some(d.title.clone()) };
            json!({ "id": id, "title": title, "private": d.shared_with.is_some(), "read_only": d.read_only })
        })
        .collect();
    Json(json!({ "organization": org, "documents": items })).into_response()
}

async fn create_document(
    State(s): State<AppState>,
    Path(org): Path<String>,
    Json(body): Json<DocBody>,
) -> Response {
    let n = s.documents.next_id.fetch_add(1, Ordering::Relaxed);
    let id = format!("doc-{n}");
    let doc = Doc {
        title: body.title,
        content: body.content,
        shared_with: None,
        read_only: false,
    };
    let out = doc_json(&org, &id, &doc);
    match s.documents.write() {
        Ok(mut docs) => {
            docs.insert((org, id.clone()), doc);
        }
        Err(f) => return fault(f),
    }
    (
        StatusCode::CREATED,
        [(header::LOCATION, format!("documents/{id}"))],
        Json(out),
    )
        .into_response()
}

async fn read_document(
    State(s): State<AppState>,
    Path((org, id)): Path<(String, String)>,
) -> Response {
    match s.documents.read() {
        Ok(docs) => match docs.get(&(org.clone(), id.clone())) {
            Some(d) => Json(doc_json(&org, &id, d)).into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        },
        Err(f) => fault(f),
    }
}

async fn update_document(
    State(s): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Json(body): Json<DocBody>,
) -> Response {
    match s.documents.write() {
        Ok(mut docs) => match docs.get_mut(&(org.clone(), id.clone())) {
            Some(d) => {
                d.title = body.title;
                d.content = body.content;
                Json(doc_json(&org, &id, d)).into_response()
            }
            None => StatusCode::NOT_FOUND.into_response(),
        },
        Err(f) => fault(f),
    }
}

async fn delete_document(
    State(s): State<AppState>,
    Path((org, id)): Path<(String, String)>,
) -> Response {
    match s.documents.write() {
        Ok(mut docs) => match docs.remove(&(org, id)) {
            Some(_) => StatusCode::NO_CONTENT.into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        },
        Err(f) => fault(f),
    }
}

/// Ends the session, or revokes the bearer token until it expires.
async fn logout(State(s): State<AppState>, Principal(who): Principal) -> Response {
    if *who.scheme() == SchemeName::SESSION {
        return match s.sessions.logout(who.identity()).await {
            Ok(cookie) => (StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response(),
            Err(f) => fault(f),
        };
    }
    match jwt::revoke(s.revocations.as_ref(), who.identity()).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(f) => fault(f),
    }
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

fn deny(s: &AppState, scheme: SchemeName, e: bouncer_session::LoginError) -> Response {
    let requirement = Requirement::authenticated().schemes([scheme.clone()]);
    let denial = e.into_denial(s.bouncer.gate(), &requirement, &scheme);
    BouncerRejection::new(denial).into_response()
}

fn reject(s: &AppState, scheme: SchemeName, reason: AuthnReason) -> Response {
    deny(
        s,
        scheme,
        bouncer_session::LoginError::Rejected(Rejection::new(reason)),
    )
}

/// `POST /login` with Basic credentials or `{"username", "password"}`:
/// starts a session (204 and the `bouncer_session` cookie).
async fn login(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (user, password) = match user_pass_from_headers(&headers) {
        Ok(Some(up)) => (up.user.clone(), up.password.clone()),
        Err(reason) => return reject(&s, SchemeName::BASIC, reason),
        Ok(None) if body.is_empty() => {
            return reject(&s, SchemeName::BASIC, AuthnReason::MissingCredentials)
        }
        Ok(None) => match serde_json::from_slice::<LoginBody>(&body) {
            Ok(b) => (b.username, b.password),
            Err(_) => return reject(&s, SchemeName::BASIC, AuthnReason::MalformedCredentials),
        },
    };
    // Throttling needs some address. When the proxy's forwarding data is
    // unreadable (the guards have already refused such requests, since the
    // demo has IP rules), count the attempt against the peer, i.e. the
    // proxy: every such request shares that one bucket, so unreadable
    // headers cannot buy a fresh allowance per attempt.
    let client = s
        .client_ip
        .resolve(peer.ip(), &headers)
        .unwrap_or_else(|_| bouncer_authz::guards::canonical(peer.ip()));
    match s
        .sessions
        .login(&headers, &user, &password, Some(client))
        .await
    {
        Ok(done) => (
            StatusCode::NO_CONTENT,
            [(header::SET_COOKIE, done.set_cookie)],
        )
            .into_response(),
        Err(e) => deny(&s, SchemeName::BASIC, e),
    }
}

/// `POST /login/mfa` with `{"code": "123456"}` and the pending session's
/// cookie: completes the login (204 and a new cookie).
async fn login_mfa(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let code = serde_json::from_slice::<MfaBody>(&body)
        .map(|b| b.code)
        .unwrap_or_default();
    match s.sessions.complete_mfa(&headers, &code).await {
        Ok(cookie) => (StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response(),
        Err(e) => deny(&s, SchemeName::SESSION, e),
    }
}

async fn audit(Principal(who): Principal) -> Json<serde_json::Value> {
    Json(json!({
        "requested_by": who.subject(),
        "events": [
            { "at": "2026-11-26T09:00:00Z", "actor": "alice", "action": "documents:write", "target": "acme/welcome" },
            { "at": "2026-11-26T09:05:00Z", "actor": "svc-reporter", "action": "documents:read", "target": "acme/welcome" },
        ],
    }))
}

async fn rotate_keys(Principal(who): Principal) -> Json<serde_json::Value> {
    // The demo has no signing keys of its own to rotate: the route exists to
    // show a fresh-MFA (`max_age`) requirement, and says so.
    Json(json!({ "accepted": true, "requested_by": who.subject(),
                 "note": "demo route: no keys are rotated" }))
}

//! The quickstart on axum: routes, CORS and the guard layer around the
//! framework-neutral [`app`](crate::app). Each handler only extracts what
//! the neutral one needs and makes an axum response of its [`Answer`].

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::handler::Handler;
use axum::http::{header, HeaderMap, HeaderName};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bouncer_axum::{Bouncer, BouncerRejection, Principal, ProtectedResourceMetadataExt as _};
use bouncer_core::UnknownName;
use tower_http::cors::{Any, CorsLayer};

use crate::app::{self, require, Answer, App, DocBody};

/// The router (serve it with `ConnectInfo<SocketAddr>`). Fails when a
/// route names a permission the policy does not define.
pub(crate) fn router(app: App) -> Result<Router, UnknownName> {
    let bouncer = Bouncer::from_arc(app.gate());
    let req = |r| bouncer.try_require(r);

    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods(app::CORS_METHODS)
        .allow_headers(app::CORS_HEADERS.map(HeaderName::from_static))
        .max_age(app::CORS_MAX_AGE);

    Ok(Router::new()
        .route("/health", get(|| async { respond(App::health()) }))
        .route("/static/{file}", get(static_file))
        .route("/me", get(me).route_layer(req(require::any())?))
        .route(
            "/orgs/{org}/documents",
            get(list_documents.layer(req(require::org("documents:read"))?))
                .post(create_document.layer(req(require::org("documents:write"))?)),
        )
        .route(
            "/orgs/{org}/documents/{id}",
            get(read_document.layer(req(require::doc("documents:read"))?))
                .put(update_document.layer(req(require::doc("documents:write"))?))
                .delete(delete_document.layer(req(require::doc("documents:delete"))?)),
        )
        .route("/login", post(login))
        .route("/login/mfa", post(login_mfa))
        .route("/logout", post(logout).route_layer(req(require::bearer())?))
        .route(
            "/admin/audit",
            get(audit).route_layer(req(require::audit())?),
        )
        .route(
            "/admin/keys/rotate",
            post(rotate_keys).route_layer(req(require::rotate_keys())?),
        )
        .with_state(app)
        .merge(app::metadata().router())
        .layer(cors)
        .layer(bouncer.guards()))
}

/// An [`Answer`] as an axum response; denials through core's renderer.
fn respond(answer: Answer) -> Response {
    match answer {
        Answer::Text { content_type, body } => {
            ([(header::CONTENT_TYPE, content_type)], body).into_response()
        }
        Answer::Json {
            status,
            location,
            body,
        } => match location {
            Some(l) => (status, [(header::LOCATION, l)], Json(body)).into_response(),
            None => (status, Json(body)).into_response(),
        },
        Answer::Empty { status, set_cookie } => match set_cookie {
            Some(c) => (status, [(header::SET_COOKIE, c)]).into_response(),
            None => status.into_response(),
        },
        Answer::Denied(d) => {
            let options = app::handler_denial(&d);
            BouncerRejection::new(d)
                .with_options(options)
                .into_response()
        }
    }
}

async fn static_file(Path(file): Path<String>) -> Response {
    respond(App::static_file(&file))
}

async fn me(Principal(who): Principal) -> Response {
    respond(App::me(&who))
}

async fn list_documents(State(s): State<App>, Path(org): Path<String>) -> Response {
    respond(s.list_documents(&org))
}

async fn create_document(
    State(s): State<App>,
    Path(org): Path<String>,
    Json(body): Json<DocBody>,
) -> Response {
    respond(s.create_document(&org, body))
}

async fn read_document(State(s): State<App>, Path((org, id)): Path<(String, String)>) -> Response {
    respond(s.read_document(&org, &id))
}

async fn update_document(
    State(s): State<App>,
    Path((org, id)): Path<(String, String)>,
    Json(body): Json<DocBody>,
) -> Response {
    respond(s.update_document(&org, &id, body))
}

async fn delete_document(
    State(s): State<App>,
    Path((org, id)): Path<(String, String)>,
) -> Response {
    respond(s.delete_document(&org, &id))
}

async fn logout(State(s): State<App>, Principal(who): Principal) -> Response {
    respond(s.logout(&who).await)
}

async fn login(
    State(s): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(s.login(peer.ip(), &headers, &body).await)
}

async fn login_mfa(State(s): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    respond(s.login_mfa(&headers, &body).await)
}

async fn audit(Principal(who): Principal) -> Response {
    respond(App::audit(&who))
}

async fn rotate_keys(Principal(who): Principal) -> Response {
    respond(App::rotate_keys(&who))
}

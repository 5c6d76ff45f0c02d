//! The quickstart on actix-web: routes, CORS and the guard middleware
//! around the framework-neutral [`app`](crate::app). Each handler only
//! extracts what the neutral one needs and makes an actix-web response of
//! its [`Answer`]. The routes, requirements and answers are the axum
//! quickstart's (`axum_routes.rs`).

use std::net::SocketAddr;

use actix_cors::Cors;
use actix_web::http::header::{HeaderValue, LOCATION, SET_COOKIE};
use actix_web::http::StatusCode;
use actix_web::{guard, web, HttpRequest, HttpResponse, HttpServer, Route};
use bouncer_actix::{
    Bouncer, BouncerRejection, Principal, ProtectedResourceMetadataExt as _, RouteRequirement,
};
use bouncer_core::{Fault, UnknownName};

use crate::app::{self, require, Answer, App, DocBody};

/// The server on `addr`, and the address it is bound to. `workers`:
/// actix-web's default (one per core) when `None`; with `Some(n)`, `n`
/// workers and no signal handling, for embedding (tests). Fails when a
/// route names a permission the policy does not define.
pub(crate) fn server(
    app: App,
    addr: SocketAddr,
    workers: Option<usize>,
) -> Result<(actix_web::dev::Server, SocketAddr), app::BoxError> {
    let bouncer = Bouncer::from_arc(app.gate());
    let requirements = Requirements::checked(&bouncer)?;
    let mut server = HttpServer::new(move || {
        actix_web::App::new()
            .app_data(web::Data::new(app.clone()))
            .configure(|cfg| routes(cfg, &bouncer, &requirements))
            .service(app::metadata().resource())
            .wrap(cors())
            // Wrapped last: the outermost middleware, before routing.
            .wrap(bouncer.guards())
    });
    if let Some(n) = workers {
        server = server.workers(n).disable_signals();
    }
    let server = server.bind(addr)?;
    let bound = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| std::io::Error::other("bound to no address"))?;
    Ok((server.run(), bound))
}

fn cors() -> Cors {
    Cors::default()
        .allow_any_origin()
        .send_wildcard()
        .allowed_methods(app::CORS_METHODS.iter().map(|m| m.as_str()))
        .allowed_headers(app::CORS_HEADERS)
        .max_age(usize::try_from(app::CORS_MAX_AGE.as_secs()).ok())
}

/// GET, and HEAD as axum's `get` answers it.
fn get() -> Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

/// The routes' requirements, each checked against the policy
/// ([`Bouncer::try_require`]) once, before the server starts: the
/// middleware itself is built per worker, where nothing can fail.
#[derive(Clone)]
struct Requirements {
    any: RouteRequirement,
    list: RouteRequirement,
    create: RouteRequirement,
    read: RouteRequirement,
    update: RouteRequirement,
    delete: RouteRequirement,
    bearer: RouteRequirement,
    audit: RouteRequirement,
    rotate_keys: RouteRequirement,
}

impl Requirements {
    fn checked(bouncer: &Bouncer) -> Result<Self, UnknownName> {
        let req = |r: RouteRequirement| bouncer.try_require(r.clone()).map(|_| r);
        Ok(Self {
            any: req(require::any())?,
            list: req(require::org("documents:read"))?,
            create: req(require::org("documents:write"))?,
            read: req(require::doc("documents:read"))?,
            update: req(require::doc("documents:write"))?,
            delete: req(require::doc("documents:delete"))?,
            bearer: req(require::bearer())?,
            audit: req(require::audit())?,
            rotate_keys: req(require::rotate_keys())?,
        })
    }
}

fn routes(cfg: &mut web::ServiceConfig, bouncer: &Bouncer, r: &Requirements) {
    let req = |r: &RouteRequirement| bouncer.require(r.clone());
    // One resource per path, with a route per method: a method the path
    // does not serve is a 405, as on axum.
    cfg.service(web::resource("/health").route(get().to(|| async { respond(App::health()) })))
        .service(web::resource("/static/{file}").route(get().to(static_file)))
        .service(web::resource("/me").route(get().to(me).wrap(req(&r.any))))
        .service(
            web::resource("/orgs/{org}/documents")
                .route(get().to(list_documents).wrap(req(&r.list)))
                .route(web::post().to(create_document).wrap(req(&r.create))),
        )
        .service(
            web::resource("/orgs/{org}/documents/{id}")
                .route(get().to(read_document).wrap(req(&r.read)))
                .route(web::put().to(update_document).wrap(req(&r.update)))
                .route(web::delete().to(delete_document).wrap(req(&r.delete))),
        )
        .service(web::resource("/login").route(web::post().to(login)))
        .service(web::resource("/login/mfa").route(web::post().to(login_mfa)))
        .service(web::resource("/logout").route(web::post().to(logout).wrap(req(&r.bearer))))
        .service(web::resource("/admin/audit").route(get().to(audit).wrap(req(&r.audit))))
        .service(
            web::resource("/admin/keys/rotate")
                .route(web::post().to(rotate_keys).wrap(req(&r.rotate_keys))),
        );
}

/// An [`Answer`] as an actix-web response; denials through core's renderer.
fn respond(answer: Answer) -> HttpResponse {
    let status = |s: http::StatusCode| {
        StatusCode::from_u16(s.as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    };
    match answer {
        Answer::Text { content_type, body } => {
            HttpResponse::Ok().content_type(content_type).body(body)
        }
        Answer::Json {
            status: s,
            location,
            body,
        } => {
            let mut b = HttpResponse::build(status(s));
            if let Some(l) = location {
                b.insert_header((LOCATION, l));
            }
            b.json(body)
        }
        Answer::Empty {
            status: s,
            set_cookie,
        } => {
            let mut b = HttpResponse::build(status(s));
            if let Some(c) = set_cookie {
                match HeaderValue::from_bytes(c.as_bytes()) {
                    Ok(v) => b.insert_header((SET_COOKIE, v)),
                    Err(e) => return respond(Fault::internal("set-cookie", e).into()),
                };
            }
            b.finish()
        }
        Answer::Denied(d) => {
            let options = app::handler_denial(&d);
            BouncerRejection::new(d).with_options(options).to_response()
        }
    }
}

async fn static_file(file: web::Path<String>) -> HttpResponse {
    respond(App::static_file(&file))
}

async fn me(Principal(who): Principal) -> HttpResponse {
    respond(App::me(&who))
}

async fn list_documents(s: web::Data<App>, org: web::Path<String>) -> HttpResponse {
    respond(s.list_documents(&org))
}

async fn create_document(
    s: web::Data<App>,
    org: web::Path<String>,
    body: web::Json<DocBody>,
) -> HttpResponse {
    respond(s.create_document(&org, body.into_inner()))
}

async fn read_document(s: web::Data<App>, p: web::Path<(String, String)>) -> HttpResponse {
    respond(s.read_document(&p.0, &p.1))
}

async fn update_document(
    s: web::Data<App>,
    p: web::Path<(String, String)>,
    body: web::Json<DocBody>,
) -> HttpResponse {
    respond(s.update_document(&p.0, &p.1, body.into_inner()))
}

async fn delete_document(s: web::Data<App>, p: web::Path<(String, String)>) -> HttpResponse {
    respond(s.delete_document(&p.0, &p.1))
}

async fn logout(s: web::Data<App>, Principal(who): Principal) -> HttpResponse {
    respond(s.logout(&who).await)
}

/// The request's header fields as the neutral handlers read them (`http`
/// 1), and its TCP peer.
fn headers_and_peer(req: &HttpRequest) -> Result<(http::HeaderMap, SocketAddr), Fault> {
    let headers = bouncer_actix::headers(req.headers())?;
    let peer = req
        .peer_addr()
        .ok_or(Fault::internal_msg("no peer address"))?;
    Ok((headers, peer))
}

async fn login(s: web::Data<App>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    match headers_and_peer(&req) {
        Ok((headers, peer)) => respond(s.login(peer.ip(), &headers, &body).await),
        Err(f) => respond(f.into()),
    }
}

async fn login_mfa(s: web::Data<App>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    match headers_and_peer(&req) {
        Ok((headers, _)) => respond(s.login_mfa(&headers, &body).await),
        Err(f) => respond(f.into()),
    }
}

async fn audit(Principal(who): Principal) -> HttpResponse {
    respond(App::audit(&who))
}

async fn rotate_keys(Principal(who): Principal) -> HttpResponse {
    respond(App::rotate_keys(&who))
}

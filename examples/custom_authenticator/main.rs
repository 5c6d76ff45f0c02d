//! `cargo run --example custom_authenticator`: a scheme written outside the
//! library (HMAC-signed requests, see `auth.rs`) next to Basic, behind the
//! same gate, policy and 401/403 rules.
//!
//! ```text
//! curl -i http://127.0.0.1:8090/reports                       # 401, challenges for both schemes
//! curl -i -u ops:ops-pass http://127.0.0.1:8090/reports       # 200
//! curl -i -H "X-Signature: $(cargo run -q --example custom_authenticator -- sign reporter GET /reports)" http://127.0.0.1:8090/reports
//! ```

pub(crate) mod auth;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::routing::get;
use axum::Router;
use bouncer_authn::basic::{BasicAuthenticator, MemoryCredentialStore, PasswordHash};
use bouncer_authz::{Policy, PolicyAuthorizer, SnapshotBuilder};
use bouncer_axum::{Bouncer, Principal, RouteRequirement};
use bouncer_core::{AccountState, Gate, SchemeName};

/// The demo client secrets (a real deployment loads them from a store).
pub fn demo_secrets() -> auth::MemorySecrets {
    auth::MemorySecrets(HashMap::from([
        (
            "reporter".to_owned(),
            b"reporter-secret-0123456789abcdef".to_vec(),
        ),
        (
            "intruder".to_owned(),
            b"intruder-secret-0123456789abcdef".to_vec(),
        ),
    ]))
}

/// The router: `/reports` needs `reports:read`, by Basic or by signature.
pub fn app() -> Result<Router, Box<dyn std::error::Error>> {
    let snapshot = SnapshotBuilder::new()
        .global_role("analyst", &[], &["reports:read"])
        .principal("reporter", AccountState::Active, &["analyst"])
        .principal("ops", AccountState::Active, &["analyst"])
        .principal("intruder", AccountState::Active, &[])
        .build()?;
    let policy = Policy::from_snapshot(snapshot);
    let mut users = MemoryCredentialStore::new();
    users.insert("ops", PasswordHash::hash("ops-pass")?);
    let gate = Gate::builder()
        .realm("reports")
        .authenticator(BasicAuthenticator::new("reports", users))
        .authenticator(auth::SignedRequests::new(demo_secrets()))
        .accounts(policy.clone())
        .authorizer(PolicyAuthorizer::new(policy))
        .build();
    let bouncer = Bouncer::new(gate);
    let read = RouteRequirement::authenticated()
        .schemes([SchemeName::BASIC, auth::SCHEME])
        .permission("reports:read");
    Ok(Router::new()
        .route("/reports", get(reports).route_layer(bouncer.require(read)))
        .layer(bouncer.guards()))
}

async fn reports(Principal(who): Principal) -> String {
    format!("quarterly report for {}\n", who.subject())
}

#[allow(clippy::print_stdout)]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [cmd, client, method, path] = args.as_slice() {
        if cmd == "sign" {
            let secrets = demo_secrets();
            let secret = secrets.0.get(client).ok_or("unknown client")?;
            let ts = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
            println!("{}", auth::header_value(client, secret, method, path, ts));
            return Ok(());
        }
    }
    let addr: SocketAddr = std::env::var("BOUNCER_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:8090".into())
        .parse()?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!(
        "custom authenticator demo on http://{}/reports",
        listener.local_addr()?
    );
    axum::serve(
        listener,
        app()?.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}

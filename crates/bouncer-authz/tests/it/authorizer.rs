//! The policy authorizer through the gate, with resources.

use async_trait::async_trait;
use bouncer_authz::{
    AccessList, Policy, PolicyAuthorizer, Resource, ResourceResolver, TokenRoleTrust,
};
use bouncer_core::*;

const POLICY: &str = r#"
[roles.viewer]
permissions = ["documents:read"]
[roles.editor]
inherits = ["viewer"]
permissions = ["documents:write", "documents:delete"]
[global_roles.admin]
permissions = ["admin:access"]
[organizations.acme.members]
alice = ["editor"]
bob = ["viewer"]
dave = ["editor"]
[organizations.acme.grants]
svc = ["documents:read"]
[organizations.globex.members]
carol = ["editor"]
[principals.erin]
global_roles = ["admin"]
[principals.dave]
state = "suspended"
"#;

struct Docs;
#[async_trait]
impl ResourceResolver for Docs {
    async fn resolve(&self, org: Option<&str>, id: &str) -> Result<Option<Resource>, Fault> {
        Ok(match (org, id) {
            (Some("acme"), "welcome") => Some(Resource {
                organization: Some("acme".into()),
                ..Resource::default()
            }),
            (Some("acme"), "roadmap") => Some(Resource {
                organization: Some("acme".into()),
                private: Some(AccessList {
                    users: vec!["alice".into()],
                    roles: vec![],
                }),
                read_only: false,
            }),
            (Some("acme"), "minutes") => Some(Resource {
                organization: Some("acme".into()),
                private: Some(AccessList {
                    users: vec![],
                    roles: vec!["editor".into()],
                }),
                read_only: false,
            }),
            (Some("acme"), "archive") => Some(Resource {
                organization: Some("acme".into()),
                read_only: true,
                ..Resource::default()
            }),
            (_, "broken") => return Err(Fault::internal_msg("store bug")),
            _ => None,
        })
    }
}

/// Authenticates `X-User: <sub>[;org=<bound>][;scope=a b][;roles=a,b]`.
struct Header;
#[async_trait]
impl Authenticator for Header {
    fn scheme(&self) -> SchemeName {
        SchemeName::BEARER
    }
    fn recognizes(&self, r: &RequestContext<'_>) -> bool {
        r.headers().contains_key("x-user")
    }
    async fn authenticate(&self, r: &RequestContext<'_>) -> Result<Option<Identity>, AuthnError> {
        let Some(v) = r.headers().get("x-user").and_then(|v| v.to_str().ok()) else {
            return Ok(None);
        };
        let mut parts = v.split(';');
        let mut id = Identity::user(parts.next().unwrap_or_default(), SchemeName::BEARER);
        for p in parts {
            if let Some(o) = p.strip_prefix("org=") {
                id = id.with_organization(o);
            }
            if let Some(s) = p.strip_prefix("scope=") {
                id = id.with_scopes(s.split(' '));
            }
            if let Some(r) = p.strip_prefix("roles=") {
                id = id.with_roles(r.split(','));
            }
        }
        Ok(Some(id))
    }
    fn challenge(&self, e: Option<&ChallengeContext<'_>>) -> Option<Challenge> {
        let mut b = Challenge::bearer().realm("t");
        if let Some(e) = e {
            b = b.maybe_error(challenge::BearerError::for_reason(e.reason));
            if let Some(s) = e.scope {
                b = b.scope(s);
            }
        }
        b.build().ok()
    }
}

fn gate() -> Gate {
    gate_with(TokenRoleTrust::NONE)
}

fn gate_with(trust: TokenRoleTrust) -> Gate {
    let policy = Policy::from_toml("p.toml", POLICY).unwrap();
    Gate::builder()
        .authenticator(Header)
        .accounts(policy.clone())
        .authorizer(
            PolicyAuthorizer::new(policy)
                .resources(Docs)
                .trust_token_roles(trust),
        )
        .build()
}

async fn run(method: &str, user: &str, req: Requirement) -> Verdict {
    run_on(&gate(), method, user, req).await
}

async fn run_on(gate: &Gate, method: &str, user: &str, req: Requirement) -> Verdict {
    let (parts, ()) = http::Request::builder()
        .method(method)
        .uri("/x")
        .header("x-user", user)
        .body(())
        .unwrap()
        .into_parts();
    gate.decide(&RequestContext::from_parts(&parts), &req).await
}

fn code(v: &Verdict) -> &'static str {
    v.decision().denial().map_or("allow", |d| d.code().as_str())
}

fn doc(org: &str, id: &str, perm: &'static str) -> Requirement {
    Requirement::authenticated()
        .organization(org)
        .resource(id)
        .permission(perm)
}

#[tokio::test]
async fn the_stage_four_order() {
    let cases = [
        (
            "GET",
            "alice",
            doc("acme", "welcome", "documents:read"),
            "allow",
        ),
        (
            "GET",
            "mallory",
            doc("acme", "welcome", "documents:read"),
            "tenant_mismatch",
        ),
        (
            "GET",
            "carol",
            doc("acme", "welcome", "documents:read"),
            "tenant_mismatch",
        ),
        (
            "GET",
            "alice;org=globex",
            doc("acme", "welcome", "documents:read"),
            "tenant_mismatch",
        ),
        (
            "GET",
            "alice;org=acme",
            doc("acme", "welcome", "documents:read"),
            "allow",
        ),
        (
            "DELETE",
            "bob",
            doc("acme", "welcome", "documents:delete"),
            "insufficient_permission",
        ),
        (
            "DELETE",
            "bob",
            doc("acme", "nothing", "documents:delete"),
            "insufficient_permission",
        ),
        (
            "GET",
            "bob",
            doc("acme", "nothing", "documents:read"),
            "not_found",
        ),
        (
            "GET",
            "alice;scope=documents:write",
            doc("acme", "welcome", "documents:read"),
            "insufficient_scope",
        ),
        (
            "GET",
            "alice;scope=documents:read",
            doc("acme", "welcome", "documents:read"),
            "allow",
        ),
        (
            "GET",
            "bob",
            doc("acme", "roadmap", "documents:read"),
            "not_shared",
        ),
        (
            "GET",
            "alice",
            doc("acme", "roadmap", "documents:read"),
            "allow",
        ),
        (
            "PUT",
            "alice",
            doc("acme", "archive", "documents:write"),
            "read_only",
        ),
        (
            "GET",
            "alice",
            doc("acme", "archive", "documents:read"),
            "allow",
        ),
        (
            "GET",
            "svc",
            doc("acme", "welcome", "documents:read"),
            "allow",
        ),
        (
            "GET",
            "svc",
            doc("acme", "welcome", "documents:write"),
            "insufficient_permission",
        ),
        (
            "GET",
            "dave",
            doc("acme", "welcome", "documents:read"),
            "account_suspended",
        ),
        (
            "GET",
            "erin",
            Requirement::authenticated()
                .permission("admin:access")
                .elevated(),
            "allow",
        ),
        (
            "GET",
            "alice",
            Requirement::authenticated()
                .permission("admin:access")
                .elevated(),
            "elevation_required",
        ),
        (
            "GET",
            "erin;scope=documents:read",
            Requirement::authenticated()
                .permission("admin:access")
                .elevated(),
            "insufficient_scope",
        ),
        (
            "GET",
            "alice",
            doc("acme", "broken", "documents:read"),
            "internal_error",
        ),
    ];
    for (method, user, req, expected) in cases {
        let v = run(method, user, req).await;
        assert_eq!(code(&v), expected, "{method} {user}: {}", v.trace());
    }
}

#[tokio::test]
async fn insufficient_scope_names_the_scope() {
    let v = run(
        "GET",
        "alice;scope=documents:read",
        doc("acme", "welcome", "documents:write"),
    )
    .await;
    let d = v.decision().denial().unwrap();
    assert_eq!(d.status(), 403);
    assert_eq!(d.challenges()[0].get("error"), Some("insufficient_scope"));
    assert_eq!(d.challenges()[0].get("scope"), Some("documents:write"));
}

fn admin() -> Requirement {
    Requirement::authenticated()
        .permission("admin:access")
        .elevated()
}

#[tokio::test]
async fn token_roles_count_only_where_trusted() {
    let none = gate_with(TokenRoleTrust::NONE);
    let global = gate_with(TokenRoleTrust::GLOBAL);
    let org = gate_with(TokenRoleTrust::ORGANIZATION);
    let both = gate_with(TokenRoleTrust::GLOBAL.and(TokenRoleTrust::ORGANIZATION));
    let in_initech = || {
        Requirement::authenticated()
            .organization("initech")
            .permission("documents:read")
    };
    // `kc` is known to the identity provider only, not to the policy.
    let cases: Vec<(&Gate, &str, &str, Requirement, &str)> = vec![
        // Off by default: the policy is the authority.
        (
            &none,
            "GET",
            "kc;roles=admin",
            admin(),
            "elevation_required",
        ),
        (
            &none,
            "GET",
            "kc;org=acme;roles=editor",
            doc("acme", "welcome", "documents:read"),
            "tenant_mismatch",
        ),
        // Global: a token role naming a global role is that global role.
        (
            &global,
            "GET",
            "kc;roles=offline_access,admin",
            admin(),
            "allow",
        ),
        (
            &global,
            "GET",
            "kc;roles=admin;scope=documents:read",
            admin(),
            "insufficient_scope",
        ),
        (
            &global,
            "GET",
            "kc;roles=editor",
            admin(),
            "elevation_required",
        ),
        (
            &global,
            "GET",
            "kc;org=acme;roles=editor",
            doc("acme", "welcome", "documents:read"),
            "tenant_mismatch",
        ),
        // Organization: held in the token's own organization, nowhere else.
        (
            &org,
            "DELETE",
            "kc;org=acme;roles=editor",
            doc("acme", "welcome", "documents:delete"),
            "allow",
        ),
        (
            &org,
            "DELETE",
            "kc;org=acme;roles=viewer",
            doc("acme", "welcome", "documents:delete"),
            "insufficient_permission",
        ),
        (
            &org,
            "GET",
            "kc;roles=editor",
            doc("acme", "welcome", "documents:read"),
            "tenant_mismatch",
        ),
        (
            &org,
            "GET",
            "kc;org=globex;roles=editor",
            doc("acme", "welcome", "documents:read"),
            "tenant_mismatch",
        ),
        (
            &org,
            "GET",
            "kc;org=acme;roles=offline_access",
            doc("acme", "welcome", "documents:read"),
            "tenant_mismatch",
        ),
        (
            &org,
            "GET",
            "kc;org=initech;roles=viewer",
            in_initech(),
            "allow",
        ),
        (
            &org,
            "GET",
            "kc;org=acme;roles=admin",
            admin(),
            "elevation_required",
        ),
        // Added to the policy's own roles; access lists see them.
        (
            &org,
            "DELETE",
            "bob;org=acme;roles=editor",
            doc("acme", "welcome", "documents:delete"),
            "allow",
        ),
        (
            &org,
            "DELETE",
            "bob;roles=editor",
            doc("acme", "welcome", "documents:delete"),
            "insufficient_permission",
        ),
        (
            &org,
            "GET",
            "kc;org=acme;roles=editor",
            doc("acme", "minutes", "documents:read"),
            "allow",
        ),
        (
            &org,
            "GET",
            "kc;org=acme;roles=viewer",
            doc("acme", "minutes", "documents:read"),
            "not_shared",
        ),
        (
            &none,
            "GET",
            "bob;org=acme;roles=editor",
            doc("acme", "minutes", "documents:read"),
            "not_shared",
        ),
        // Account states still apply.
        (
            &both,
            "GET",
            "dave;org=acme;roles=editor",
            doc("acme", "welcome", "documents:read"),
            "account_suspended",
        ),
        (
            &both,
            "GET",
            "kc;org=acme;roles=admin,viewer",
            admin(),
            "allow",
        ),
    ];
    for (gate, method, user, req, expected) in cases {
        let v = run_on(gate, method, user, req).await;
        assert_eq!(code(&v), expected, "{method} {user}: {}", v.trace());
    }
}

#[test]
fn a_misspelt_permission_fails_when_the_app_is_built() {
    let gate = gate();
    let typo = Requirement::authenticated().permission("documents:wrte");
    let e = gate.validate(&typo).unwrap_err();
    assert_eq!(
        (e.kind(), e.name()),
        (NameKind::Permission, "documents:wrte")
    );
    assert_eq!(e.to_string(), "unknown permission `documents:wrte`");
    // Defined permissions pass, with or without organization, resource or
    // elevation (those come from the request).
    for ok in [
        doc("acme", "welcome", "documents:delete"),
        Requirement::authenticated().permission("documents:read"),
        admin(),
        Requirement::authenticated(),
        Requirement::public(),
    ] {
        assert_eq!(gate.validate(&ok), Ok(()), "{ok:?}");
    }
    // Validation speaks for the policy in force.
    let policy = Policy::from_toml("p.toml", POLICY).unwrap();
    let authorizer = PolicyAuthorizer::new(policy.clone());
    assert!(authorizer.validate(&typo).is_err());
    policy
        .replace_from_toml("p.toml", "[roles.w]\npermissions = [\"documents:wrte\"]\n")
        .unwrap();
    assert_eq!(authorizer.validate(&typo), Ok(()));
}

/// Changes through the policy are visible to the next decision without a
/// recompile, and a bad change leaves the policy as it was.
#[test]
fn policy_changes_apply_without_a_recompile() {
    use bouncer_authz::{Policy, Query, SnapshotBuilder};
    let policy = Policy::from_snapshot(
        SnapshotBuilder::new()
            .role("viewer", &[], &["documents:read"])
            .member("acme", "alice", &["viewer"])
            .build()
            .unwrap(),
    );
    let allowed = |who: &str, perm: &str| {
        policy
            .snapshot()
            .authorize(&Query {
                subject: who,
                organization: Some("acme"),
                permission: Some(perm),
                ..Query::default()
            })
            .is_ok()
    };
    assert!(!allowed("bob", "documents:read"));
    policy.set_membership("acme", "bob", &["viewer"]).unwrap();
    assert!(allowed("bob", "documents:read"));
    policy
        .grant_role_permission("viewer", "documents:write")
        .unwrap();
    assert!(allowed("alice", "documents:write") && allowed("bob", "documents:write"));
    policy
        .revoke_role_permission("viewer", "documents:write")
        .unwrap();
    assert!(!allowed("alice", "documents:write"));
    policy.remove_membership("acme", "alice");
    assert!(!allowed("alice", "documents:read") && allowed("bob", "documents:read"));
    assert!(policy
        .set_membership("acme", "carol", &["no-such-role"])
        .is_err());
    assert!(!policy.snapshot().is_member("carol", "acme"));
    assert!(policy
        .grant_role_permission("viewer", "Not A Permission")
        .is_err());
}

//! The gate's stage order on a small model (contract §1): the test kit's
//! fake authenticators and path guard, with an account directory and an
//! authorizer written here.

use bouncer_core::*;
use bouncer_test::fakes::{FakeAuthenticator, FakePathGuard};
use http::{Request, StatusCode};
use proptest::prelude::*;

/// Bearer tokens `ok.<sub>.<role>[.mfa]` for the model's subjects and
/// roles, `broken` (500), `down` (503); any other token is
/// `invalid_token`.
fn bearer() -> FakeAuthenticator {
    let mut fake = FakeAuthenticator::bearer("test")
        .internal("broken")
        .unavailable("down");
    for sub in ["a", "al", "bob", "dave", "ghost"] {
        for role in ["reader", "writer"] {
            let id = Identity::user(sub, SchemeName::BEARER).with_roles([role]);
            let mfa = id
                .clone()
                .with_auth_context(AuthContext::new().with_amr(["mfa"]));
            fake = fake
                .accept(&format!("ok.{sub}.{role}"), id)
                .accept(&format!("ok.{sub}.{role}.mfa"), mfa);
        }
    }
    fake
}

/// `X-Api-Key: svc`, a writer service; no challenge of its own.
fn api_key() -> FakeAuthenticator {
    FakeAuthenticator::header(SchemeName::API_KEY, "x-api-key").accept(
        "svc",
        Identity::service("svc", SchemeName::API_KEY).with_roles(["writer"]),
    )
}

struct Accounts;
#[async_trait]
impl AccountDirectory for Accounts {
    async fn state(&self, i: &Identity) -> Result<AccountState, Fault> {
        match i.subject() {
            "dave" => Ok(AccountState::Suspended),
            "ghost" => Err(Fault::internal_msg("directory bug")),
            _ => Ok(AccountState::Active),
        }
    }
}

/// Grants `doc:write` to role `writer`; scopes narrow it.
struct Roles;
#[async_trait]
impl Authorizer for Roles {
    async fn authorize(
        &self,
        c: &Authenticated,
        _: &RequestContext<'_>,
        r: &Requirement,
    ) -> Result<(), AccessError> {
        if let Some(p) = r.required_permission() {
            if !c.roles().iter().any(|x| x == "writer") {
                return Err(ForbiddenReason::InsufficientPermission.into());
            }
            if !c.scope_allows(p) {
                return Err(Forbidden::insufficient_scope(p.to_owned()).into());
            }
        }
        Ok(())
    }
}

fn gate() -> Gate {
    Gate::builder()
        .realm("test")
        .guard(FakePathGuard::new(["/."]))
        .authenticator(bearer())
        .authenticator(api_key())
        .accounts(Accounts)
        .authorizer(Roles)
        .build()
}

async fn decide(gate: &Gate, path: &str, headers: &[(&str, &str)], req: &Requirement) -> Verdict {
    let mut b = Request::get(path);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let (parts, ()) = b.body(()).unwrap().into_parts();
    gate.decide(&RequestContext::from_parts(&parts), req).await
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

fn code(v: &Verdict) -> &'static str {
    v.decision().denial().map_or("allow", |d| d.code().as_str())
}

fn protected() -> Requirement {
    Requirement::authenticated()
        .permission("doc:write")
        .step_up(StepUp::new().amr(["mfa"]))
}

#[test]
fn anonymous_on_a_protected_route_is_401_with_a_challenge() {
    rt().block_on(async {
        let v = decide(&gate(), "/docs", &[], &protected()).await;
        let d = v.decision().denial().unwrap();
        assert_eq!(d.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(d.code(), "missing_credentials");
        assert_eq!(d.challenges()[0].to_string(), r#"Bearer realm="test""#);
    });
}

#[test]
fn anonymous_on_a_blocked_path_is_403() {
    rt().block_on(async {
        let v = decide(&gate(), "/.env", &[], &protected()).await;
        assert_eq!(v.decision().status(), StatusCode::FORBIDDEN);
        assert_eq!(code(&v), "blocked_path");
        assert_eq!(v.trace().deciding_stage(), Some(Stage::Guards));
    });
}

#[test]
fn missing_role_and_missing_mfa_is_403() {
    rt().block_on(async {
        let v = decide(
            &gate(),
            "/docs",
            &[("authorization", "Bearer ok.bob.reader")],
            &protected(),
        )
        .await;
        assert_eq!(code(&v), "insufficient_permission");
    });
}

#[test]
fn allowed_but_missing_mfa_is_401_with_step_up_challenge() {
    rt().block_on(async {
        let req = Requirement::authenticated()
            .permission("doc:write")
            .step_up(StepUp::new().acr(["urn:mfa"]).amr(["mfa"]));
        let v = decide(
            &gate(),
            "/docs",
            &[("authorization", "Bearer ok.al.writer")],
            &req,
        )
        .await;
        let d = v.decision().denial().unwrap();
        assert_eq!(d.code(), "mfa_required");
        assert_eq!(
            d.challenges()[0].get("error"),
            Some("insufficient_user_authentication")
        );
        assert_eq!(d.challenges()[0].get("acr_values"), Some("urn:mfa"));
        let v = decide(
            &gate(),
            "/docs",
            &[("authorization", "Bearer ok.al.writer.mfa")],
            &req,
        )
        .await;
        assert!(v.decision().is_allowed(), "{}", v.trace());
    });
}

#[test]
fn unsupported_and_malformed_schemes() {
    rt().block_on(async {
        let bearer_only = Requirement::authenticated().schemes([SchemeName::BEARER]);
        let v = decide(&gate(), "/x", &[("x-api-key", "svc")], &bearer_only).await;
        assert_eq!(code(&v), "unsupported_scheme");
        let v = decide(
            &gate(),
            "/x",
            &[("authorization", "Digest a=b")],
            &bearer_only,
        )
        .await;
        assert_eq!(code(&v), "unsupported_scheme");
        assert!(v.decision().denial().unwrap().challenges()[0]
            .get("error")
            .is_none());
        let v = decide(
            &gate(),
            "/x",
            &[("authorization", "Dig\"est")],
            &bearer_only,
        )
        .await;
        assert_eq!(code(&v), "malformed_credentials");
        let v = decide(&gate(), "/x", &[("authorization", "Bearer")], &bearer_only).await;
        assert_eq!(code(&v), "malformed_credentials");
        assert_eq!(
            v.decision().denial().unwrap().challenges()[0].get("error"),
            Some("invalid_request")
        );
    });
}

#[test]
fn strict_profile_answers_malformed_with_400() {
    rt().block_on(async {
        let g = Gate::builder()
            .authenticator(bearer())
            .profile(Profile::StrictRfc6750)
            .build();
        let v = decide(
            &g,
            "/x",
            &[("authorization", "Bearer")],
            &Requirement::authenticated(),
        )
        .await;
        assert_eq!(v.decision().status(), StatusCode::BAD_REQUEST);
        assert_eq!(code(&v), "malformed_credentials");
        assert!(!v.decision().denial().unwrap().challenges().is_empty());
    });
}

#[test]
fn api_key_failure_lists_bearer_without_error() {
    rt().block_on(async {
        let v = decide(
            &gate(),
            "/x",
            &[("x-api-key", "nope")],
            &Requirement::authenticated(),
        )
        .await;
        let d = v.decision().denial().unwrap();
        assert_eq!(d.code(), "invalid_credentials");
        assert_eq!(d.challenges().len(), 1);
        assert_eq!(d.challenges()[0].to_string(), r#"Bearer realm="test""#);
    });
}

#[test]
fn insufficient_scope_is_403_with_scope_challenge() {
    struct Scoped;
    #[async_trait]
    impl Authenticator for Scoped {
        fn scheme(&self) -> SchemeName {
            SchemeName::BEARER
        }
        fn recognizes(&self, _: &RequestContext<'_>) -> bool {
            true
        }
        async fn authenticate(
            &self,
            _: &RequestContext<'_>,
        ) -> Result<Option<Identity>, AuthnError> {
            Ok(Some(
                Identity::user("al", SchemeName::BEARER)
                    .with_roles(["writer"])
                    .with_scopes(["doc:read"]),
            ))
        }
        fn challenge(&self, e: Option<&ChallengeContext<'_>>) -> Option<Challenge> {
            bearer().challenge(e)
        }
    }
    rt().block_on(async {
        let g = Gate::builder()
            .authenticator(Scoped)
            .authorizer(Roles)
            .build();
        let v = decide(
            &g,
            "/x",
            &[],
            &Requirement::authenticated().permission("doc:write"),
        )
        .await;
        let d = v.decision().denial().unwrap();
        assert_eq!(d.status(), StatusCode::FORBIDDEN);
        assert_eq!(d.code(), "insufficient_scope");
        let c = &d.challenges()[0];
        assert_eq!(c.get("error"), Some("insufficient_scope"));
        assert_eq!(c.get("scope"), Some("doc:write"));
    });
}

#[test]
fn a_permission_without_an_authorizer_is_500_not_allow() {
    rt().block_on(async {
        let g = Gate::builder().authenticator(bearer()).build();
        let v = decide(
            &g,
            "/x",
            &[("authorization", "Bearer ok.a.writer")],
            &Requirement::authenticated().permission("p"),
        )
        .await;
        assert_eq!(v.decision().status(), StatusCode::INTERNAL_SERVER_ERROR);
    });
}

#[test]
fn optional_and_public_routes() {
    rt().block_on(async {
        let v = decide(&gate(), "/x", &[], &Requirement::optional()).await;
        assert!(matches!(v.decision(), Decision::Allow(Caller::Anonymous)));
        let v = decide(
            &gate(),
            "/x",
            &[("authorization", "Bearer bad")],
            &Requirement::optional(),
        )
        .await;
        assert_eq!(code(&v), "invalid_token");
        let v = decide(
            &gate(),
            "/x",
            &[("authorization", "Bearer bad")],
            &Requirement::public(),
        )
        .await;
        assert!(v.decision().is_allowed());
        let v = decide(&gate(), "/.git/config", &[], &Requirement::public()).await;
        assert_eq!(code(&v), "blocked_path");
    });
}

#[test]
fn cors_preflight_needs_no_credentials() {
    rt().block_on(async {
        let h = [
            ("origin", "https://app.example"),
            ("access-control-request-method", "POST"),
        ];
        let (parts, ()) = {
            let mut b = Request::options("/docs");
            for (k, v) in h {
                b = b.header(k, v);
            }
            b.body(()).unwrap().into_parts()
        };
        let v = gate()
            .decide(&RequestContext::from_parts(&parts), &protected())
            .await;
        assert!(v.decision().is_allowed());
    });
}

#[derive(Debug, Clone)]
enum Creds {
    None,
    Good {
        sub: &'static str,
        writer: bool,
        mfa: bool,
    },
    Bad,
    Broken,
    Down,
    UnknownScheme,
    Malformed,
}

fn creds() -> impl Strategy<Value = Creds> {
    prop_oneof![
        Just(Creds::None),
        (
            prop_oneof![Just("al"), Just("dave"), Just("ghost")],
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|(sub, writer, mfa)| Creds::Good { sub, writer, mfa }),
        Just(Creds::Bad),
        Just(Creds::Broken),
        Just(Creds::Down),
        Just(Creds::UnknownScheme),
        Just(Creds::Malformed),
    ]
}

/// The contract's order, written as plainly as possible.
fn model(blocked: bool, creds: &Creds, needs_perm: bool, needs_mfa: bool) -> (u16, &'static str) {
    if blocked {
        return (403, "blocked_path");
    }
    match creds {
        Creds::None => (401, "missing_credentials"),
        Creds::Bad => (401, "invalid_token"),
        Creds::Broken => (500, "internal_error"),
        Creds::Down => (503, "service_unavailable"),
        Creds::UnknownScheme => (401, "unsupported_scheme"),
        Creds::Malformed => (401, "malformed_credentials"),
        Creds::Good { sub, writer, mfa } => {
            if *sub == "ghost" {
                (500, "internal_error")
            } else if *sub == "dave" {
                (403, "account_suspended")
            } else if needs_perm && !writer {
                (403, "insufficient_permission")
            } else if needs_mfa && !mfa {
                (401, "mfa_required")
            } else {
                (200, "allow")
            }
        }
    }
}

proptest! {
    #[test]
    fn the_gate_follows_the_stage_order(
        blocked in any::<bool>(),
        creds in creds(),
        needs_perm in any::<bool>(),
        needs_mfa in any::<bool>(),
    ) {
        let path = if blocked { "/.htaccess" } else { "/docs" };
        let header = match &creds {
            Creds::None => None,
            Creds::Good { sub, writer, mfa } => Some(format!(
                "Bearer ok.{sub}.{}{}", if *writer { "writer" } else { "reader" }, if *mfa { ".mfa" } else { "" })),
            Creds::Bad => Some("Bearer bad".into()),
            Creds::Broken => Some("Bearer broken".into()),
            Creds::Down => Some("Bearer down".into()),
            Creds::UnknownScheme => Some("Negotiate abc".into()),
            Creds::Malformed => Some("Negotiate a b".into()),
        };
        let mut req = Requirement::authenticated();
        if needs_perm { req = req.permission("doc:write"); }
        if needs_mfa { req = req.step_up(StepUp::new().amr(["mfa"])); }
        let headers: Vec<(&str, &str)> = header.iter().map(|h| ("authorization", h.as_str())).collect();
        let v = rt().block_on(decide(&gate(), path, &headers, &req));
        let (status, expected) = model(blocked, &creds, needs_perm, needs_mfa);
        prop_assert_eq!(v.decision().status().as_u16(), status, "trace: {}", v.trace());
        prop_assert_eq!(code(&v), expected);
        if let Some(d) = v.decision().denial() {
            if d.status() == StatusCode::UNAUTHORIZED {
                prop_assert!(!d.challenges().is_empty());
            }
            if d.status().is_server_error() {
                prop_assert!(d.challenges().is_empty());
            }
            if d.status() == StatusCode::SERVICE_UNAVAILABLE {
                prop_assert!(d.retry_after().is_some());
            }
        }
    }
}

#[test]
fn step_up_for_a_scheme_without_a_challenge_puts_rfc9470_params_on_the_others() {
    rt().block_on(async {
        let req = Requirement::authenticated().step_up(StepUp::new().acr(["urn:mfa"]));
        let v = decide(&gate(), "/x", &[("x-api-key", "svc")], &req).await;
        let d = v.decision().denial().unwrap();
        assert_eq!(d.code(), "mfa_required");
        let c = &d.challenges()[0];
        assert_eq!(c.scheme(), "Bearer");
        assert_eq!(c.get("error"), Some("insufficient_user_authentication"));
        assert_eq!(c.get("acr_values"), Some("urn:mfa"));
    });
}

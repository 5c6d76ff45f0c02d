//! Challenges of custom schemes: a fixed challenge checked at compile time
//! (`static_challenge!`), the denial's context rendered onto it
//! (`Challenge::with_context`), and a step-up 401 sent to the schemes that
//! can meet it (`Authenticator::supports_step_up`).

use std::sync::Arc;
use std::time::Duration;

use bouncer_core::challenge::StaticChallenge;
use bouncer_core::*;
use http::Request;

const HMAC: StaticChallenge = static_challenge!("HMAC-SHA256", &[("realm", "reports")]);

/// `Authorization: Bearer ok.<sub>[.mfa]`; its tokens carry `amr`, and
/// were issued at the request's time.
struct Bearer;

#[async_trait]
impl Authenticator for Bearer {
    fn scheme(&self) -> SchemeName {
        SchemeName::BEARER
    }
    fn recognizes(&self, r: &RequestContext<'_>) -> bool {
        authorization::scheme_of(r.headers()).is_some_and(|s| s.eq_ignore_ascii_case("bearer"))
    }
    async fn authenticate(&self, r: &RequestContext<'_>) -> Result<Option<Identity>, AuthnError> {
        let token = r
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(AuthnReason::MalformedCredentials)?;
        match token.split('.').collect::<Vec<_>>().as_slice() {
            ["ok", sub, rest @ ..] => {
                let amr = if rest.contains(&"mfa") {
                    vec!["mfa"]
                } else {
                    vec!["pwd"]
                };
                Ok(Some(
                    Identity::user(*sub, SchemeName::BEARER).with_auth_context(
                        AuthContext::new().with_amr(amr).with_auth_time(r.now()),
                    ),
                ))
            }
            _ => Err(AuthnReason::InvalidToken.into()),
        }
    }
    fn challenge(&self, ctx: Option<&ChallengeContext<'_>>) -> Option<Challenge> {
        Challenge::bearer()
            .realm("reports")
            .context(ctx)
            .build()
            .ok()
    }
    fn supports_step_up(&self, _: &StepUp) -> bool {
        true
    }
}

/// `X-Signature: <client>` (`bad` fails): a scheme of its own, with a fixed
/// challenge and no way to carry MFA. `step_up` makes it claim it can.
struct Signed {
    step_up: bool,
}

#[async_trait]
impl Authenticator for Signed {
    fn scheme(&self) -> SchemeName {
        SchemeName::from_static("hmac_signature")
    }
    fn recognizes(&self, r: &RequestContext<'_>) -> bool {
        r.headers().contains_key("x-signature")
    }
    async fn authenticate(&self, r: &RequestContext<'_>) -> Result<Option<Identity>, AuthnError> {
        match r.headers().get("x-signature").map(|v| v.as_bytes()) {
            None => Ok(None),
            Some(b"bad") => Err(Unauthenticated::new(AuthnReason::InvalidCredentials)
                .with_description("the signature is not valid")
                .into()),
            Some(_) => Ok(Some(Identity::service("reporter", self.scheme()))),
        }
    }
    fn challenge(&self, ctx: Option<&ChallengeContext<'_>>) -> Option<Challenge> {
        Some(Challenge::from_static(HMAC).with_context(ctx))
    }
    fn supports_step_up(&self, _: &StepUp) -> bool {
        self.step_up
    }
}

/// `X-Api-Key`, no challenge of its own.
struct ApiKey;

#[async_trait]
impl Authenticator for ApiKey {
    fn scheme(&self) -> SchemeName {
        SchemeName::API_KEY
    }
    fn recognizes(&self, r: &RequestContext<'_>) -> bool {
        r.headers().contains_key("x-api-key")
    }
    async fn authenticate(&self, _: &RequestContext<'_>) -> Result<Option<Identity>, AuthnError> {
        Ok(Some(Identity::service("svc", SchemeName::API_KEY)))
    }
    fn challenge(&self, _: Option<&ChallengeContext<'_>>) -> Option<Challenge> {
        None
    }
}

async fn decide(gate: &Gate, headers: &[(&str, &str)], req: &Requirement) -> Verdict {
    let mut b = Request::get("/reports");
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

fn mfa() -> Requirement {
    Requirement::authenticated().step_up(
        StepUp::new()
            .acr(["urn:mfa"])
            .amr(["mfa"])
            .max_age(Duration::from_secs(300)),
    )
}

/// The challenges of a denial, as text, in order.
fn challenges(v: &Verdict) -> Vec<String> {
    v.decision()
        .denial()
        .unwrap()
        .challenges()
        .iter()
        .map(ToString::to_string)
        .collect()
}

const STEP_UP_BEARER: &str = r#"Bearer realm="reports", error="insufficient_user_authentication", error_description="stronger or more recent authentication is required", acr_values="urn:mfa", max_age="300""#;

#[test]
fn a_custom_schemes_401_says_what_failed() {
    let g = Gate::builder()
        .authenticator(Bearer)
        .authenticator(Signed { step_up: false })
        .build();
    rt().block_on(async {
        let v = decide(&g, &[("x-signature", "bad")], &Requirement::authenticated()).await;
        assert_eq!(v.decision().denial().unwrap().code(), "invalid_credentials");
        assert_eq!(
            challenges(&v),
            [
                r#"Bearer realm="reports""#,
                r#"HMAC-SHA256 realm="reports", error="invalid_token", error_description="the signature is not valid""#,
            ]
        );
        // Nothing presented: no error anywhere (RFC 6750 §3.1).
        let v = decide(&g, &[], &Requirement::authenticated()).await;
        assert_eq!(
            challenges(&v),
            [r#"Bearer realm="reports""#, r#"HMAC-SHA256 realm="reports""#]
        );
    });
}

#[test]
fn step_up_is_asked_of_the_scheme_that_can_meet_it_even_for_another_schemes_caller() {
    let g = Gate::builder()
        .authenticator(Bearer)
        .authenticator(Signed { step_up: false })
        .build();
    rt().block_on(async {
        // Authenticated by signature, which can never carry MFA: the
        // RFC 9470 parameters go on Bearer, the signature's challenge stays
        // plain.
        let v = decide(&g, &[("x-signature", "reporter")], &mfa()).await;
        assert_eq!(v.decision().denial().unwrap().code(), "mfa_required");
        assert_eq!(
            challenges(&v),
            [STEP_UP_BEARER, r#"HMAC-SHA256 realm="reports""#]
        );
        // Authenticated by Bearer without MFA: the same.
        let v = decide(&g, &[("authorization", "Bearer ok.al")], &mfa()).await;
        assert_eq!(
            challenges(&v),
            [STEP_UP_BEARER, r#"HMAC-SHA256 realm="reports""#]
        );
        let v = decide(&g, &[("authorization", "Bearer ok.al.mfa")], &mfa()).await;
        assert!(v.decision().is_allowed(), "{}", v.trace());
    });
}

#[test]
fn a_custom_scheme_that_can_step_up_is_asked_itself() {
    let g = Gate::builder()
        .authenticator(Bearer)
        .authenticator(Signed { step_up: true })
        .build();
    rt().block_on(async {
        let v = decide(&g, &[("x-signature", "reporter")], &mfa()).await;
        assert_eq!(
            challenges(&v),
            [
                r#"Bearer realm="reports""#,
                r#"HMAC-SHA256 realm="reports", error="insufficient_user_authentication", error_description="stronger or more recent authentication is required", acr_values="urn:mfa", max_age="300""#,
            ]
        );
    });
}

#[test]
fn a_caller_of_a_scheme_without_a_challenge_is_sent_to_those_that_can_step_up() {
    let g = Gate::builder()
        .authenticator(Signed { step_up: false })
        .authenticator(ApiKey)
        .authenticator(Arc::new(Bearer))
        .build();
    rt().block_on(async {
        // Shared through an Arc, Bearer still says it can step up.
        let v = decide(&g, &[("x-api-key", "k")], &mfa()).await;
        assert_eq!(
            challenges(&v),
            [r#"HMAC-SHA256 realm="reports""#, STEP_UP_BEARER]
        );
    });
}

#[test]
fn when_no_scheme_can_step_up_every_challenge_carries_the_parameters() {
    // The route's only challenge-bearing scheme cannot meet the step-up:
    // the 401 still carries the RFC 9470 parameters, on what there is.
    let g = Gate::builder()
        .authenticator(Signed { step_up: false })
        .authenticator(ApiKey)
        .build();
    rt().block_on(async {
        let v = decide(&g, &[("x-api-key", "k")], &mfa()).await;
        assert_eq!(
            challenges(&v),
            [r#"HMAC-SHA256 realm="reports", error="insufficient_user_authentication", error_description="stronger or more recent authentication is required", acr_values="urn:mfa", max_age="300""#]
        );
    });
}

#[test]
fn the_fallback_challenge_of_a_step_up_carries_the_parameters() {
    let g = Gate::builder()
        .realm("reports")
        .authenticator(ApiKey)
        .build();
    rt().block_on(async {
        let v = decide(&g, &[("x-api-key", "k")], &mfa()).await;
        assert_eq!(v.decision().denial().unwrap().code(), "mfa_required");
        assert_eq!(challenges(&v), [STEP_UP_BEARER]);
        // Any other 401 of such a route: the plain fallback (contract §2).
        let v = decide(&g, &[], &mfa()).await;
        assert_eq!(challenges(&v), [r#"Bearer realm="reports""#]);
    });
}

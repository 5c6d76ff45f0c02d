//! # 401 or 403?
//!
//! **401** when authenticating (again, or more strongly) could change the
//! answer; **403** when it could not — the caller is known, or the refusal
//! does not depend on who the caller is. Faults are 500/503, never either.
//!
//! Every row of the contract, and the API that produces it:
//!
//! | status | code | scenario | produced by |
//! |---|---|---|---|
//! | 401 | `missing_credentials` | no credentials of any kind | the [`Gate`](crate::Gate), when no authenticator [`recognizes`](crate::Authenticator::recognizes) the request |
//! | 401 | `malformed_credentials` | `Authorization` not valid for its scheme; two `Authorization` fields | an authenticator's [`AuthnReason::MalformedCredentials`](crate::AuthnReason), or the gate for an unparseable header ([`Profile::StrictRfc6750`](crate::Profile) makes it 400) |
//! | 401 | `unsupported_scheme` | credentials of a scheme the route does not accept | the gate, from [`Requirement::schemes`](crate::Requirement::schemes) |
//! | 401 | `invalid_credentials` | wrong password, unknown user, unknown API key | Basic and API-key authenticators (bouncer-authn); yours with [`AuthnReason::InvalidCredentials`](crate::AuthnReason) |
//! | 401 | `invalid_token` | bad signature, unknown `kid`, `alg` not allowed, wrong `iss`/`aud`, `nbf` ahead, missing claim | the JWT authenticator (bouncer-authn) |
//! | 401 | `token_expired` | `exp` past the leeway | the JWT authenticator |
//! | 401 | `token_revoked` | the token's `jti` was revoked (logout) | the JWT authenticator with a revocation store |
//! | 401 | `session_invalid` | unknown, expired or ended session | the session authenticator (bouncer-session `SessionAuthenticator`) |
//! | 401 | `mfa_required` | MFA pending at login; or the route's [`StepUp`](crate::StepUp) not met (RFC 9470 challenge) | the session authenticator (stage 2); the gate (stage 5) |
//! | 403 | `blocked_path` | dotfiles, `.git/`, configured patterns | a [`RequestGuard`](crate::RequestGuard): bouncer-authz `PathGuard` |
//! | 403 | `ip_blocked` | client IP in a denied range (after trusted proxies) | bouncer-authz `NetworkGuard` |
//! | 403 | `geo_blocked` | country denied | bouncer-authz `NetworkGuard` |
//! | 403 | `account_suspended` | suspended or disabled account | an [`AccountDirectory`](crate::AccountDirectory): bouncer-authz `Policy` |
//! | 403 | `tenant_mismatch` | not a member of the organization, or the token is bound to another | an [`Authorizer`](crate::Authorizer): bouncer-authz `PolicyAuthorizer`, from [`Requirement::organization`](crate::Requirement::organization) |
//! | 403 | `elevation_required` | the permission must come from a global role | `PolicyAuthorizer`, from [`Requirement::elevated`](crate::Requirement::elevated) |
//! | 403 | `insufficient_permission` | the roles do not grant the permission | `PolicyAuthorizer`, from [`Requirement::permission`](crate::Requirement::permission) |
//! | 403 | `insufficient_scope` | the roles grant it, the token's scope does not (Bearer `insufficient_scope` challenge) | `PolicyAuthorizer` with [`Forbidden::insufficient_scope`](crate::Forbidden::insufficient_scope) |
//! | 403 | `not_shared` | a private resource not shared with the caller | `PolicyAuthorizer` with a `ResourceResolver`, from [`Requirement::resource`](crate::Requirement::resource) |
//! | 403 | `read_only` | a read-only resource and an unsafe method | `PolicyAuthorizer` with a `ResourceResolver` |
//! | 404 | `not_found` | the resource does not exist (decided after membership) | a `ResourceResolver` returning `None` ([`AccessError::NotFound`](crate::AccessError)) |
//! | 429 | `too_many_requests` | repeated failed logins | bouncer-session `Sessions::login` |
//! | 500 | `internal_error` | a bug, a panicking or erroring stage | any stage's [`Fault::Internal`](crate::Fault) (the axum adapter also catches panics) |
//! | 503 | `service_unavailable` | a backing store is unreachable (`Retry-After`) | any stage's [`Fault::Unavailable`](crate::Fault) |
//!
//! ## Troubleshooting: why was I refused?
//!
//! Every denial's body names its decision in `instance`
//! (`urn:bouncer:decision:<id>`, a [`DecisionId`](crate::DecisionId)); the
//! decision log (target `bouncer::decision`, the `logging` module, feature
//! `tracing`) has the same id with the deciding stage, the subject, the
//! route pattern and, for a policy refusal, the file and line of the
//! entry behind it ([`PolicyRule`](crate::PolicyRule)). `bouncer explain`
//! reads a `curl -si` response and says what it means and how to fix it;
//! `bouncer policy query` asks the policy file directly. The README's
//! section [Why was I refused?](https://github.com/bouncer-rs/bouncer#why-was-i-refused)
//! walks through a real session.
//!
//! ## The consequences people get wrong
//!
//! - Anonymous to a route nobody could ever pass: **401**, not 403 — the
//!   gate never runs authorization for an unauthenticated caller.
//! - Anonymous to a blocked path, or from a blocked IP: **403** — guards run
//!   first and do not depend on identity.
//! - No role *and* no MFA: **403** — stage 4 denies before stage 5 would ask
//!   for step-up, which could not help.
//! - A revocation store or key source that is down: **503**, never 401 (the
//!   caller did nothing wrong) and never allow.
//!
//! ## Writing your own scheme
//!
//! Implement [`Authenticator`](crate::Authenticator): return `Ok(None)` when
//! the request carries nothing of yours, `Err(AuthnError::Unauthenticated(..))`
//! with a 401 reason when it carries yours and they fail, and
//! `Err(AuthnError::Fault(..))` when *you* fail. Return a
//! [`Challenge`](crate::Challenge) from `challenge` if your scheme has one;
//! otherwise the gate lists the route's other challenges (or a Bearer
//! fallback) so that every 401 still carries one. Run it through
//! `bouncer-test`'s conformance suite.
//!
//! - A fixed challenge: write it once with
//!   [`static_challenge!`](crate::static_challenge) (checked at compile
//!   time) and send it with [`Challenge::from_static`](crate::Challenge::from_static);
//!   [`Challenge::with_context`](crate::Challenge::with_context) adds
//!   `error`, `error_description`, `scope`, `acr_values` and `max_age` from
//!   the [`ChallengeContext`](crate::ChallengeContext), so your 401 says what
//!   failed.
//! - Step-up: if your credentials can carry `acr`, `amr` or a fresh
//!   `auth_time`, return `true` from
//!   [`supports_step_up`](crate::Authenticator::supports_step_up); a step-up
//!   401 then asks your scheme for it. If they cannot (the default), it asks
//!   the route's schemes that can (Bearer), even of a caller who came with
//!   yours.
//! - Time: compare expiry and timestamps with
//!   [`RequestContext::now`](crate::RequestContext::now), the gate's
//!   [`Clock`](crate::Clock), never with `SystemTime::now()`.
//! - Shared state: hand the gate an `Arc` of your authenticator (every
//!   stage trait is implemented for `Arc<T>` and `Box<T>`) and keep a clone.

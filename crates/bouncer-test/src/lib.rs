//! # bouncer-test
//!
//! Test support for people who use bouncer. **Depend on it as a
//! dev-dependency** to:
//!
//! - run your own [`Authenticator`](bouncer_core::Authenticator) through the
//!   [`conformance`] suite (one function, or the
//!   [`authenticator_conformance!`] macro),
//! - property-test your policy with the [`strategy`] module's proptest
//!   strategies ("no viewer can ever delete"),
//! - check a whole router's answers with a table ([`matrix::StatusMatrix`]),
//! - say what each credential does instead of writing a scheme:
//!   [`fakes::FakeAuthenticator`], [`fakes::FakePathGuard`],
//! - mint JWT test tokens ([`token::TestToken`]) and serve a router on a
//!   loopback port ([`matrix::serve_loopback`]),
//! - walk an adapter through every outcome with [`scripted`] stages,
//! - test against a real Redis: [`RedisServer`] starts a throwaway
//!   `redis-server` on a loopback port.
//!
//! | feature | default | adds |
//! |---|---|---|
//! | `authz` | yes | policy strategies ([`strategy::memberships`], `AccessRequest::query`) over bouncer-authz |
//! | `axum` | yes | [`matrix::StatusMatrix`] for axum routers in-process and any server over HTTP, [`matrix::serve_loopback`] |
//! | `jwt` | yes | [`token::TestToken`]: JWT test tokens with the claims bouncer reads |
//! | `auth-server` | no | `auth_server::TestAuthServer`: a loopback authorization server (RFC 8414 metadata, JWKS, RS256 `at+jwt` tokens) that can start late, stop, restart and rotate its key under the same `kid` |
//!
//! ```
//! use bouncer_test::conformance::{check_blocking, Suite};
//! # use bouncer_core::*;
//! # use async_trait::async_trait;
//! # struct Header;
//! # #[async_trait]
//! # impl Authenticator for Header {
//! #     fn scheme(&self) -> SchemeName { SchemeName::from_static("header") }
//! #     fn recognizes(&self, r: &RequestContext<'_>) -> bool { r.headers().contains_key("x-who") }
//! #     async fn authenticate(&self, r: &RequestContext<'_>) -> Result<Option<Identity>, AuthnError> {
//! #         match r.headers().get("x-who").map(|v| v.as_bytes()) {
//! #             None => Ok(None),
//! #             Some(b"trusted") => Ok(Some(Identity::user("t", self.scheme()))),
//! #             Some(_) => Err(AuthnReason::InvalidCredentials.into()),
//! #         }
//! #     }
//! #     fn challenge(&self, _: Option<&ChallengeContext<'_>>) -> Option<Challenge> { None }
//! # }
//! let suite = Suite::new()
//!     .valid(http::Request::get("/").header("x-who", "trusted").body(()).unwrap())
//!     .wrong(http::Request::get("/").header("x-who", "mallory").body(()).unwrap())
//!     .fuzz_header("x-who");
//! check_blocking(Header, &suite).unwrap();
//! ```

#[cfg(feature = "auth-server")]
pub mod auth_server;
pub mod conformance;
pub mod fakes;
#[cfg(feature = "axum")]
pub mod matrix;
mod redis_server;
pub mod scripted;
pub mod strategy;
#[cfg(feature = "jwt")]
pub mod token;

pub use redis_server::{RedisServer, TestServerError};

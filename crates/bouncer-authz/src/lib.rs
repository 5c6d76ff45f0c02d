//! # bouncer-authz
//!
//! Authorization for [bouncer-core](bouncer_core): roles with a hierarchy,
//! multi-tenant organizations (Logto's organization template), resource
//! access lists, read-only resources, account states, and the request
//! guards (blocked paths, client IP, country) that run before
//! authentication.
//!
//! **Depend on this crate** to authorize with a policy file or with
//! policies generated in code. It depends on bouncer-core, not on
//! bouncer-authn or any web framework.
//!
//! | type | implements | stage |
//! |---|---|---|
//! | [`PathGuard`], [`NetworkGuard`] | `RequestGuard` | 1 → `blocked_path`, `ip_blocked`, `geo_blocked` |
//! | [`Policy`] | `AccountDirectory` | 3 → `account_suspended` |
//! | [`PolicyAuthorizer`] | `Authorizer` | 4 → `tenant_mismatch`, `elevation_required`, `insufficient_permission`, `insufficient_scope`, `not_shared`, `read_only` |
//!
//! No optional features: everything above is always built.
//!
//! ## One policy file, one loader per table
//!
//! A policy file may hold the policy, the `[guards]` settings and
//! bouncer-authn's `[credentials]`. Each part has a loader of its own:
//! [`Policy::from_file`] reads the policy document (and, for convenience,
//! the guards: [`Policy::guards`]), [`GuardConfig::from_file`] reads only
//! `[guards]`, bouncer-authn's `CredentialsConfig::from_file` reads only
//! `[credentials]`. The policy document accepts exactly the tables of
//! [`policy::OTHER_LOADERS_TABLES`] unread; any other unknown table is an
//! error. Every loader's errors are a [`PolicyError`] with file, line and
//! column.
//!
//! ## Start-up checks
//!
//! [`PolicyAuthorizer`] implements `Authorizer::validate`: a route
//! requirement naming a permission the policy does not define is an
//! `UnknownName` error when the app is built (`Gate::validate`, which the
//! adapters call per route), not a silent 403 `insufficient_permission`
//! on every request.
//!
//! ## Roles from tokens
//!
//! The policy is the authority: roles a token asserts (Keycloak's
//! `realm_access.roles`) count for nothing unless the authorizer trusts
//! them explicitly with [`PolicyAuthorizer::trust_token_roles`] — as the
//! policy's global roles, as its organization roles in the token's own
//! organization, or both ([`TokenRoleTrust`]). Permissions a token asserts
//! (Auth0) are trusted separately, with
//! [`PolicyAuthorizer::trust_token_permissions`].
//!
//! The policy compiles into an immutable [`Snapshot`]: interned names and
//! permission bitsets. A decision is a few hash lookups and bit tests — no
//! allocation, no lock, O(1) in users, organizations and roles — and the
//! snapshot is swapped atomically on reload; a bad file never replaces a
//! good snapshot.
//!
//! ## Example: a policy file and a decision
//!
//! ```
//! use bouncer_authz::{Policy, Query};
//!
//! let policy = Policy::from_toml("policy.toml", r#"
//!     [roles.viewer]
//!     permissions = ["documents:read"]
//!     [roles.editor]
//!     inherits = ["viewer"]
//!     permissions = ["documents:write"]
//!     [organizations.acme.members]
//!     alice = ["editor"]
//!     bob = ["viewer"]
//! "#)?;
//! let snapshot = policy.snapshot();
//! let ask = |who, perm| Query { subject: who, organization: Some("acme"), permission: Some(perm), ..Query::default() };
//! assert!(snapshot.authorize(&ask("alice", "documents:read")).is_ok());
//! let denied = snapshot.authorize(&ask("bob", "documents:write")).unwrap_err();
//! assert_eq!(denied.reason().code(), "insufficient_permission");
//! let outsider = Query { subject: "mallory", ..ask("mallory", "documents:read") };
//! assert_eq!(snapshot.authorize(&outsider).unwrap_err().reason().code(), "tenant_mismatch");
//! # Ok::<(), bouncer_authz::PolicyError>(())
//! ```
//!
//! See the [`policy`] module for the whole file format, and the gate docs
//! in bouncer-core for how the stages fit together (the decision's
//! [`Trace`](bouncer_core::Trace) names the stage that decided).

mod authorizer;
mod bits;
mod classes;
mod delta;
mod error;
mod flat;
pub mod guards;
pub mod policy;
mod snapshot;

pub use authorizer::{AccessList, Policy, PolicyAuthorizer, Resource, ResourceResolver};
pub use delta::COMPACT_AT;
pub use error::{PolicyError, PolicyErrorKind};
pub use guards::{
    ClientIpResolver, CountryLookup, ForwardingSource, GuardConfig, NetworkGuard, PathGuard,
    UnreadableForwarding,
};
pub use policy::SnapshotBuilder;
pub use snapshot::{Grant, Query, Snapshot, SnapshotStats, TokenRoleTrust};

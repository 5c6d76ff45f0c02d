//! The policy file (TOML) and its compiler.
//!
//! ```toml
//! # Optional: when present, every permission used below must be listed.
//! permissions = ["documents:read", "documents:write", "documents:delete", "admin:access"]
//!
//! # Organization roles (Logto's organization template: one set for all
//! # organizations). `inherits` forms a DAG; a cycle is an error.
//! [roles.viewer]
//! permissions = ["documents:read"]
//! [roles.editor]
//! inherits = ["viewer"]
//! permissions = ["documents:write", "documents:delete"]
//!
//! # Global roles, held outside any organization.
//! [global_roles.admin]
//! permissions = ["admin:access"]
//!
//! [organizations.acme.members]       # principal = [organization roles]
//! alice = ["editor"]
//! [organizations.acme.grants]        # principal = [permissions], e.g. services
//! svc-reporter = ["documents:read"]
//!
//! [principals.erin]
//! global_roles = ["admin"]
//! [principals.dave]
//! state = "suspended"                # active | suspended | disabled
//!
//! [guards]
//! # The client address is the TCP peer, or, when the peer is a trusted
//! # proxy, read from the one `forwarded_header` (no other): for
//! # X-Forwarded-For and Forwarded (RFC 7239 `for=`) the right-most address
//! # that is not a trusted proxy; any other name (e.g. "X-Real-IP") is a
//! # header holding exactly one address. Default: "X-Forwarded-For".
//! # Fails closed once IP or country rules exist: an empty or unparsable
//! # element where an address must be read, a single-address header with
//! # several values, or more list elements than `max_forwarded_hops`
//! # (default 32, at most 256) is an unknown address, denied (`ip_blocked`,
//! # or `geo_blocked` with only country rules).
//! trusted_proxies = ["127.0.0.0/8", "::1/128"]
//! forwarded_header = "X-Forwarded-For"  # or "Forwarded", "X-Real-IP", …
//! max_forwarded_hops = 32
//! deny_ips = ["203.0.113.0/24"]
//! # Read only from trusted proxies; two values or an unreadable one is
//! # `geo_blocked`, none at all is no country (a deny list lets it pass).
//! country_header = "CF-IPCountry"
//! deny_countries = ["ZZ"]
//! blocked_paths = ["*.bak", "/server-status"]
//! ```
//!
//! ## One file, several loaders
//!
//! The policy document is read by [`compile_str`] / [`compile_file`] (and
//! [`Policy`](crate::Policy)). The tables listed in
//! [`OTHER_LOADERS_TABLES`] belong to other loaders and are accepted here
//! without being read: `[guards]` by
//! [`GuardConfig::from_file`](crate::GuardConfig::from_file), `[credentials]`
//! by bouncer-authn's `CredentialsConfig::from_file`. Any other unknown
//! table or key is an error, so a typo never passes silently.
//! [`compile_str`] and [`Policy`](crate::Policy) read `[guards]` too, with
//! its own loader, so one call checks both.
//!
//! Every error names the file, line and column, and the problem
//! ([`PolicyError`]).
//!
//! ## Layout
//!
//! `document` holds the serde shape of the file, `compile` the
//! [`SnapshotBuilder`] and the streaming compile; the error types live in
//! a module of their own (re-exported here), which the guard loader shares.

mod compile;
mod document;
mod positions;

pub use crate::error::{PolicyError, PolicyErrorKind};
pub(crate) use compile::valid_permission;
pub use compile::SnapshotBuilder;
pub use document::OTHER_LOADERS_TABLES;
pub use positions::Positions;

use crate::error::{locate, read_file};
use crate::guards::GuardConfig;
use crate::snapshot::Snapshot;
use document::Document;

/// A parsed and compiled policy file: the snapshot and the guard settings.
#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    /// The authorization snapshot.
    pub snapshot: Snapshot,
    /// The request-guard settings (the `[guards]` table, read by
    /// [`GuardConfig::from_toml_str`]).
    pub guards: GuardConfig,
}

/// Compiles the policy document of `text` into a snapshot, ignoring the
/// tables of [`OTHER_LOADERS_TABLES`]. `file` names it in errors.
pub fn compile_snapshot_str(file: &str, text: &str) -> Result<Snapshot, PolicyError> {
    let doc = Document::parse(file, text)?;
    compile::compile_doc(doc).map_err(|l| locate(file, text, l))
}

/// Parses and compiles policy text, and reads its `[guards]` table.
/// `file` names it in errors.
pub fn compile_str(file: &str, text: &str) -> Result<CompiledPolicy, PolicyError> {
    // The guards first: a small table, and its parse tree is gone before
    // the (possibly large) snapshot is built.
    let guards = GuardConfig::from_toml_str(file, text)?;
    let snapshot = compile_snapshot_str(file, text)?;
    Ok(CompiledPolicy { snapshot, guards })
}

/// Reads, parses and compiles a policy file, and reads its `[guards]`
/// table.
pub fn compile_file(path: &std::path::Path) -> Result<CompiledPolicy, PolicyError> {
    let (file, text) = read_file(path)?;
    compile_str(&file, &text)
}

//! # bouncer-store
//!
//! The one small vocabulary of bouncer's shared state: where revoked token
//! ids, sessions, counters and cached answers live. Each is a trait whose every error is a
//! [`Fault`](bouncer_core::Fault) — 503 when the backend is unreachable,
//! never "not revoked" and never "no session" — with an in-memory
//! implementation for one instance.
//!
//! **Depend on this crate** to implement a shared backend (as
//! `bouncer-redis` does) without pulling in any credential scheme: it
//! needs only bouncer-core, `async-trait` and `serde`.
//!
//! | trait | used by | in memory |
//! |---|---|---|
//! | [`RevocationStore`] | bearer tokens (`jti` revocation at logout) | [`MemoryRevocationStore`] |
//! | [`SessionStore`] | cookie sessions (`bouncer-session`) | [`MemorySessionStore`] |
//! | [`CounterStore`] | login throttling, one-time TOTP codes | [`MemorySessionStore`] |
//! | [`ReplayStore`] | one-time ids (DPoP proof `jti`s) | [`MemoryReplayStore`] |
//! | [`CacheStore`] | token introspection answers (keyed by a token hash) | [`MemoryCacheStore`] |
//!
//! The memory stores read the time from a [`Clock`](bouncer_core::Clock)
//! (`clock`, default the system clock), so that a gate or a session
//! service on another clock sees entries expire at its own time; a shared
//! backend expires its keys by its own clock.
//!
//! No optional features.

mod cache;
mod replay;
mod revocation;
mod session;

pub use cache::{CacheStore, MemoryCacheStore};
pub use replay::{MemoryReplayStore, ReplayStore, DEFAULT_REPLAY_CAPACITY};
pub use revocation::{MemoryRevocationStore, RevocationStore};
pub use session::{CounterStore, MemorySessionStore, SessionRecord, SessionState, SessionStore};

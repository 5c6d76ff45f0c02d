//! Revocation of tokens by id (`jti`, or a hash of the token when it has
//! none), so that a logout takes effect before the token expires. The
//! store trait and its in-memory implementation are `bouncer-store`'s,
//! re-exported here; `jwt::revoke` revokes a verified token.

pub use bouncer_store::{MemoryRevocationStore, RevocationStore};

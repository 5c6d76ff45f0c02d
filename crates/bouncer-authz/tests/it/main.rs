//! Integration tests of bouncer-authz over its public API.
#![allow(unreachable_pub, missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod authorizer;
mod guards;
mod load_errors;
mod props;

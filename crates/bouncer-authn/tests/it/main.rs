//! Integration tests of bouncer-authn over its public API.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod basic;
mod issuer;
mod jwks;
mod jwt;
mod props;
mod redaction;
mod support;
mod vectors;

//! Integration tests of bouncer-core over its public API.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod clock;
mod custom_schemes;
#[cfg(all(feature = "tracing", feature = "metrics", feature = "json"))]
mod decision_log;
mod external_corpora;
mod gate_order;
mod shared_stages;
mod syntax_props;

//! Integration tests of bouncer-core over its public API.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod clock;
mod custom_schemes;
mod external_corpora;
mod gate_order;
mod shared_stages;
mod syntax_props;

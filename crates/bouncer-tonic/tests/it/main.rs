//! bouncer-tonic over loopback: a real tonic server on `127.0.0.1:0`,
//! tonic clients, and raw HTTP/2 requests for the wire format.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod grpc;
mod support;

#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
pub(crate) mod pb {
    include!("../gen/bouncer.test.v1.rs");
}

/// The encoded descriptor set of `tests/proto/test.proto`.
pub(crate) const DESCRIPTOR: &[u8] = include_bytes!("../gen/descriptor.bin");

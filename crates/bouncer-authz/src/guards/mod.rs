//! Request guards (stage 1): identity-independent rules that run before
//! authentication, so an anonymous request to a blocked path or from a
//! blocked address is 403, not 401.
//!
//! [`GuardConfig`] holds their settings and reads them from the `[guards]`
//! table of a policy file (see the [`policy`](crate::policy) module for the
//! table's keys); [`PathGuard`] and [`NetworkGuard`] are the guards.
//!
//! # How the client address is found
//!
//! The client address is the TCP peer, unless the peer is a trusted proxy.
//! Then, and only then, the one forwarding source the deployment configured
//! ([`ForwardingSource`]) is read; every other forwarding header is ignored,
//! so a client cannot pick its own address by sending a header the proxy
//! does not write. Never "whichever is present".
//!
//! - [`ForwardingSource::XForwardedFor`] (the default) and
//!   [`ForwardingSource::Forwarded`] (RFC 7239, its `for=` parameter) are
//!   lists: all their field lines form one list, walked from the right. Each
//!   trusted-proxy address is skipped; the first address that is not a
//!   trusted proxy is the client. Elements further left were written by the
//!   client and are never read, so they never win. When every element is a
//!   trusted proxy, the left-most one is the client.
//! - [`ForwardingSource::Header`] names a single-address header such as
//!   `X-Real-IP`, which the proxy overwrites: its one value is the client.
//!
//! No forwarding header at all from a trusted proxy means the proxy itself
//! is the client. IPv4-mapped IPv6 addresses count as IPv4.
//!
//! # What fails closed
//!
//! The resolver returns a known address or [`UnreadableForwarding`], never
//! a guess. The address is unknown when the list has more elements than the
//! hop limit (the whole list is counted, so the work is bounded), when an
//! element that must be read (walking from the right while hops are trusted)
//! is empty or does not parse, when a `Forwarded` element has no `for=`,
//! several, `for=unknown` or an obfuscated identifier, when a quoted string
//! is left open (a comma cannot end it), and when a single-address header
//! has several values or field lines. [`NetworkGuard`] denies an unknown
//! address once it has IP or country rules: `ip_blocked` when IP rules
//! exist, `geo_blocked` when only country rules do.
//!
//! The country header (e.g. `CF-IPCountry`) is read only from a trusted
//! proxy. Two values (two field lines or a comma list) or a value that is
//! not two ASCII letters or digits (Cloudflare sends `XX` and `T1`) make the
//! country unknown, which is `geo_blocked`. No country header at all means
//! no country: a deny list lets it through, an allow list does not.

mod config;
mod network;
mod path;

pub use config::GuardConfig;
pub use network::{
    canonical, ClientIpResolver, CountryLookup, ForwardingSource, NetworkGuard,
    UnreadableForwarding, DEFAULT_MAX_HOPS,
};
pub use path::{normalize_path, PathGuard, PatternError};

//! Request guards (stage 1): identity-independent rules that run before
//! authentication, so an anonymous request to a blocked path or from a
//! blocked address is 403, not 401.

mod network;
mod path;

use http::HeaderName;
use ipnet::IpNet;
use serde::Deserialize;
use toml::Spanned;

pub use network::{
    canonical, ClientIpResolver, CountryLookup, ForwardingSource, NetworkGuard,
    UnreadableForwarding, DEFAULT_MAX_HOPS,
};
pub use path::{normalize_path, PathGuard, PatternError};

use crate::policy::{Located, PolicyErrorKind};

/// The `[guards]` table of a policy file.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct GuardsDoc {
    #[serde(default)]
    trusted_proxies: Vec<Spanned<String>>,
    #[serde(default)]
    allow_ips: Vec<Spanned<String>>,
    #[serde(default)]
    deny_ips: Vec<Spanned<String>>,
    #[serde(default)]
    forwarded_header: Option<Spanned<String>>,
    #[serde(default)]
    max_forwarded_hops: Option<Spanned<i64>>,
    #[serde(default)]
    country_header: Option<Spanned<String>>,
    #[serde(default)]
    allow_countries: Vec<Spanned<String>>,
    #[serde(default)]
    deny_countries: Vec<Spanned<String>>,
    #[serde(default)]
    blocked_paths: Vec<Spanned<String>>,
}

fn cidrs(v: &[Spanned<String>]) -> Result<Vec<IpNet>, Located> {
    v.iter()
        .map(|s| {
            let text = s.get_ref().trim();
            // A bare address is a /32 or /128 range.
            text.parse::<IpNet>()
                .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    (
                        PolicyErrorKind::BadCidr(s.get_ref().clone()),
                        Some(s.span()),
                    )
                })
        })
        .collect()
}

fn countries(v: &[Spanned<String>]) -> Result<Vec<String>, Located> {
    v.iter()
        .map(|s| {
            let c = s.get_ref();
            if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphanumeric()) {
                Ok(c.to_ascii_uppercase())
            } else {
                Err((PolicyErrorKind::BadCountry(c.clone()), Some(s.span())))
            }
        })
        .collect()
}

/// Most hops a policy file may allow.
const MAX_HOP_LIMIT: usize = 256;

fn header_name(h: &Spanned<String>) -> Result<HeaderName, Located> {
    HeaderName::try_from(h.get_ref().as_str()).map_err(|_| {
        (
            PolicyErrorKind::BadHeader(h.get_ref().clone()),
            Some(h.span()),
        )
    })
}

impl GuardsDoc {
    pub(crate) fn compile(&self) -> Result<GuardConfig, Located> {
        let country_header = self.country_header.as_ref().map(header_name).transpose()?;
        let forwarding_source = match &self.forwarded_header {
            None => ForwardingSource::default(),
            Some(h) => ForwardingSource::from_header(header_name(h)?),
        };
        let max_forwarded_hops = match &self.max_forwarded_hops {
            None => DEFAULT_MAX_HOPS,
            Some(n) => usize::try_from(*n.get_ref())
                .ok()
                .filter(|limit| (1..=MAX_HOP_LIMIT).contains(limit))
                .ok_or((PolicyErrorKind::BadHopLimit(*n.get_ref()), Some(n.span())))?,
        };
        for p in &self.blocked_paths {
            path::check_pattern(p.get_ref()).map_err(|e| {
                (
                    PolicyErrorKind::BadPattern(p.get_ref().clone(), e),
                    Some(p.span()),
                )
            })?;
        }
        Ok(GuardConfig {
            trusted_proxies: cidrs(&self.trusted_proxies)?,
            allow_ips: cidrs(&self.allow_ips)?,
            deny_ips: cidrs(&self.deny_ips)?,
            forwarding_source,
            max_forwarded_hops,
            country_header,
            allow_countries: countries(&self.allow_countries)?,
            deny_countries: countries(&self.deny_countries)?,
            blocked_paths: self
                .blocked_paths
                .iter()
                .map(|p| p.get_ref().clone())
                .collect(),
        })
    }
}

/// Validated guard settings (from a policy file or built by hand).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct GuardConfig {
    /// Proxies whose forwarding headers are believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Only these client ranges may call (empty: all).
    pub allow_ips: Vec<IpNet>,
    /// These client ranges may not call.
    pub deny_ips: Vec<IpNet>,
    /// The one forwarding header read from trusted proxies.
    forwarding_source: ForwardingSource,
    /// More forwarding elements than this: the address is unknown.
    max_forwarded_hops: usize,
    /// The country header, trusted only from trusted proxies.
    pub country_header: Option<HeaderName>,
    /// Only these countries may call (empty: all).
    pub allow_countries: Vec<String>,
    /// These countries may not call.
    pub deny_countries: Vec<String>,
    /// Extra blocked-path patterns.
    pub blocked_paths: Vec<String>,
}

impl Default for GuardConfig {
    /// No rules; `X-Forwarded-For` with [`DEFAULT_MAX_HOPS`].
    fn default() -> Self {
        Self {
            trusted_proxies: Vec::new(),
            allow_ips: Vec::new(),
            deny_ips: Vec::new(),
            forwarding_source: ForwardingSource::default(),
            max_forwarded_hops: DEFAULT_MAX_HOPS,
            country_header: None,
            allow_countries: Vec::new(),
            deny_countries: Vec::new(),
            blocked_paths: Vec::new(),
        }
    }
}

impl GuardConfig {
    /// The one forwarding header read from trusted proxies (policy file:
    /// `forwarded_header`; default `X-Forwarded-For`).
    pub fn forwarding_source(&self) -> &ForwardingSource {
        &self.forwarding_source
    }

    /// Sets the forwarding header read from trusted proxies.
    pub fn set_forwarding_source(&mut self, source: ForwardingSource) -> &mut Self {
        self.forwarding_source = source;
        self
    }

    /// The hop limit (policy file: `max_forwarded_hops`; default
    /// [`DEFAULT_MAX_HOPS`]).
    pub fn max_forwarded_hops(&self) -> usize {
        self.max_forwarded_hops
    }

    /// Sets the hop limit: a forwarding list with more elements than this
    /// makes the client address unknown.
    pub fn set_max_forwarded_hops(&mut self, limit: usize) -> &mut Self {
        self.max_forwarded_hops = limit;
        self
    }

    /// The path guard these settings describe.
    pub fn path_guard(&self) -> Result<PathGuard, PatternError> {
        PathGuard::with_patterns(&self.blocked_paths)
    }

    /// The client-address resolver these settings describe.
    pub fn resolver(&self) -> ClientIpResolver {
        ClientIpResolver::new(self.trusted_proxies.clone(), self.forwarding_source.clone())
            .with_max_hops(self.max_forwarded_hops)
    }

    /// The network guard these settings describe.
    pub fn network_guard(&self) -> NetworkGuard {
        let allow: Vec<&str> = self.allow_countries.iter().map(String::as_str).collect();
        let deny: Vec<&str> = self.deny_countries.iter().map(String::as_str).collect();
        let mut g = NetworkGuard::new(self.resolver())
            .allow_ips(self.allow_ips.clone())
            .deny_ips(self.deny_ips.clone())
            .allow_countries(&allow)
            .deny_countries(&deny);
        if let Some(h) = &self.country_header {
            g = g.country_header(h.clone());
        }
        g
    }
}

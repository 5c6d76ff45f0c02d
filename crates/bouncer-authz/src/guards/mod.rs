//! Request guards (stage 1): identity-independent rules that run before
//! authentication, so an anonymous request to a blocked path or from a
//! blocked address is 403, not 401.

mod network;
mod path;

use http::HeaderName;
use ipnet::IpNet;
use serde::Deserialize;
use toml::Spanned;

pub use network::{canonical, ClientIpResolver, CountryLookup, NetworkGuard};
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
            if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) {
                Ok(c.to_ascii_uppercase())
            } else {
                Err((PolicyErrorKind::BadCountry(c.clone()), Some(s.span())))
            }
        })
        .collect()
}

impl GuardsDoc {
    pub(crate) fn compile(&self) -> Result<GuardConfig, Located> {
        let country_header = match &self.country_header {
            None => None,
            Some(h) => Some(HeaderName::try_from(h.get_ref().as_str()).map_err(|_| {
                (
                    PolicyErrorKind::BadHeader(h.get_ref().clone()),
                    Some(h.span()),
                )
            })?),
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
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct GuardConfig {
    /// Proxies whose forwarding headers are believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Only these client ranges may call (empty: all).
    pub allow_ips: Vec<IpNet>,
    /// These client ranges may not call.
    pub deny_ips: Vec<IpNet>,
    /// The country header, trusted only from trusted proxies.
    pub country_header: Option<HeaderName>,
    /// Only these countries may call (empty: all).
    pub allow_countries: Vec<String>,
    /// These countries may not call.
    pub deny_countries: Vec<String>,
    /// Extra blocked-path patterns.
    pub blocked_paths: Vec<String>,
}

impl GuardConfig {
    /// The path guard these settings describe.
    pub fn path_guard(&self) -> Result<PathGuard, PatternError> {
        PathGuard::with_patterns(&self.blocked_paths)
    }

    /// The client-address resolver these settings describe.
    pub fn resolver(&self) -> ClientIpResolver {
        ClientIpResolver::new(self.trusted_proxies.clone())
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

//! [`GuardConfig`]: the request-guard settings, and their loader for the
//! `[guards]` table of a policy file.

use std::path::Path;

use http::HeaderName;
use ipnet::IpNet;
use serde::Deserialize;
use toml::Spanned;

use super::network::{ClientIpResolver, ForwardingSource, NetworkGuard, DEFAULT_MAX_HOPS};
use super::path::{self, PathGuard, PatternError};
use crate::error::{locate, parse_toml, read_file, Located, PolicyError, PolicyErrorKind};

/// Most hops a policy file may allow.
const MAX_HOP_LIMIT: usize = 256;

/// A policy file as the guard loader sees it: the `[guards]` table, every
/// other table left to its own loader.
#[derive(Debug, Deserialize, Default)]
struct GuardsFile {
    #[serde(default)]
    guards: Option<GuardsDoc>,
}

/// The `[guards]` table of a policy file.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct GuardsDoc {
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

/// A country code: two ASCII letters or digits, upper-cased.
fn country(c: &str) -> Result<String, PolicyErrorKind> {
    if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(c.to_ascii_uppercase())
    } else {
        Err(PolicyErrorKind::BadCountry(c.to_owned()))
    }
}

fn countries(v: &[Spanned<String>]) -> Result<Vec<String>, Located> {
    v.iter()
        .map(|s| country(s.get_ref()).map_err(|k| (k, Some(s.span()))))
        .collect()
}

fn header_name(h: &Spanned<String>) -> Result<HeaderName, Located> {
    HeaderName::try_from(h.get_ref().as_str()).map_err(|_| {
        (
            PolicyErrorKind::BadHeader(h.get_ref().clone()),
            Some(h.span()),
        )
    })
}

impl GuardsDoc {
    fn compile(&self) -> Result<GuardConfig, Located> {
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

/// Validated request-guard settings: read from the `[guards]` table of a
/// policy file ([`from_file`](Self::from_file),
/// [`from_toml_str`](Self::from_toml_str)) or built in code with the
/// setters. Turn them into guards with [`path_guard`](Self::path_guard)
/// and [`network_guard`](Self::network_guard).
///
/// ```
/// use bouncer_authz::GuardConfig;
///
/// let config = GuardConfig::from_toml_str("policy.toml", r#"
///     [roles.viewer]              # read by the policy loader, not here
///     permissions = ["documents:read"]
///     [guards]
///     trusted_proxies = ["127.0.0.0/8"]
///     deny_ips = ["203.0.113.0/24"]
/// "#)?;
/// assert_eq!(config.deny_ips().len(), 1);
///
/// let mut by_hand = GuardConfig::default();
/// by_hand
///     .set_deny_ips(vec!["203.0.113.0/24".parse().unwrap()])
///     .set_deny_countries(["zz"])?;
/// assert_eq!(by_hand.deny_countries(), ["ZZ"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct GuardConfig {
    trusted_proxies: Vec<IpNet>,
    allow_ips: Vec<IpNet>,
    deny_ips: Vec<IpNet>,
    forwarding_source: ForwardingSource,
    max_forwarded_hops: usize,
    country_header: Option<HeaderName>,
    allow_countries: Vec<String>,
    deny_countries: Vec<String>,
    blocked_paths: Vec<String>,
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
    /// Reads the `[guards]` table of a policy file. Every other table is
    /// left to its own loader; a file without `[guards]` gives the
    /// defaults. Errors name the file, line and column.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, PolicyError> {
        let (file, text) = read_file(path.as_ref())?;
        Self::from_toml_str(&file, &text)
    }

    /// Reads the `[guards]` table of policy text; `name` labels it in
    /// errors.
    pub fn from_toml_str(name: &str, text: &str) -> Result<Self, PolicyError> {
        let doc: GuardsFile = parse_toml(name, text)?;
        match &doc.guards {
            Some(g) => g.compile().map_err(|l| locate(name, text, l)),
            None => Ok(Self::default()),
        }
    }

    /// Proxies whose forwarding headers are believed (`trusted_proxies`).
    pub fn trusted_proxies(&self) -> &[IpNet] {
        &self.trusted_proxies
    }

    /// Sets the proxies whose forwarding headers are believed.
    pub fn set_trusted_proxies(&mut self, proxies: Vec<IpNet>) -> &mut Self {
        self.trusted_proxies = proxies;
        self
    }

    /// Only these client ranges may call; empty: all (`allow_ips`).
    pub fn allow_ips(&self) -> &[IpNet] {
        &self.allow_ips
    }

    /// Sets the client ranges that may call (empty: all).
    pub fn set_allow_ips(&mut self, ranges: Vec<IpNet>) -> &mut Self {
        self.allow_ips = ranges;
        self
    }

    /// These client ranges may not call (`deny_ips`).
    pub fn deny_ips(&self) -> &[IpNet] {
        &self.deny_ips
    }

    /// Sets the client ranges that may not call.
    pub fn set_deny_ips(&mut self, ranges: Vec<IpNet>) -> &mut Self {
        self.deny_ips = ranges;
        self
    }

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

    /// The country header, read only from trusted proxies
    /// (`country_header`).
    pub fn country_header(&self) -> Option<&HeaderName> {
        self.country_header.as_ref()
    }

    /// Sets the country header (`None`: no country from headers).
    pub fn set_country_header(&mut self, header: Option<HeaderName>) -> &mut Self {
        self.country_header = header;
        self
    }

    /// Only these countries may call; empty: all (`allow_countries`),
    /// upper-case.
    pub fn allow_countries(&self) -> &[String] {
        &self.allow_countries
    }

    /// Sets the countries that may call (empty: all). Codes are two ASCII
    /// letters or digits, any case; anything else is refused, and nothing
    /// is changed.
    pub fn set_allow_countries<I, S>(&mut self, codes: I) -> Result<&mut Self, PolicyErrorKind>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.allow_countries = codes
            .into_iter()
            .map(|c| country(c.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(self)
    }

    /// These countries may not call (`deny_countries`), upper-case.
    pub fn deny_countries(&self) -> &[String] {
        &self.deny_countries
    }

    /// Sets the countries that may not call. Codes are two ASCII letters
    /// or digits, any case; anything else is refused (a deny list never
    /// silently loses an entry), and nothing is changed.
    pub fn set_deny_countries<I, S>(&mut self, codes: I) -> Result<&mut Self, PolicyErrorKind>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.deny_countries = codes
            .into_iter()
            .map(|c| country(c.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(self)
    }

    /// Extra blocked-path patterns (`blocked_paths`), besides the hidden
    /// segments [`PathGuard`] always blocks.
    pub fn blocked_paths(&self) -> &[String] {
        &self.blocked_paths
    }

    /// Sets the extra blocked-path patterns. A pattern that does not
    /// compile is refused here, and nothing is changed.
    pub fn set_blocked_paths<I, S>(&mut self, patterns: I) -> Result<&mut Self, PatternError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let patterns: Vec<String> = patterns.into_iter().map(Into::into).collect();
        PathGuard::with_patterns(&patterns)?;
        self.blocked_paths = patterns;
        Ok(self)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_guards_table_is_read() {
        let text = "[roles.v]\nnot = \"read here\"\n[credentials]\nwhatever = 1\n[guards]\ndeny_ips = [\"10.0.0.0/8\"]\n";
        let g = GuardConfig::from_toml_str("p.toml", text).unwrap();
        assert_eq!(g.deny_ips(), ["10.0.0.0/8".parse::<IpNet>().unwrap()]);
        let g = GuardConfig::from_toml_str("p.toml", "[roles.v]\n").unwrap();
        assert!(g.deny_ips().is_empty() && g.blocked_paths().is_empty());
    }

    #[test]
    fn typos_in_the_guards_table_are_errors_with_a_place() {
        let e = GuardConfig::from_toml_str("p.toml", "[guards]\ndeny_ip = []\n").unwrap_err();
        assert!(matches!(e.kind, PolicyErrorKind::Syntax(_)), "{e}");
        assert_eq!((e.file(), e.line), ("p.toml", 2), "{e}");
        let e = GuardConfig::from_toml_str("p.toml", "[guards]\n\nblocked_paths = [\"a[\"]\n")
            .unwrap_err();
        assert!(matches!(e.kind, PolicyErrorKind::BadPattern(..)), "{e}");
        assert_eq!(e.position(), (3, 18), "{e}");
    }

    #[test]
    fn setters_refuse_what_the_loader_refuses() {
        let mut g = GuardConfig::default();
        assert_eq!(
            g.set_deny_countries(["ZZ", "Z-"]).unwrap_err(),
            PolicyErrorKind::BadCountry("Z-".into())
        );
        assert!(g.deny_countries().is_empty(), "nothing changed");
        g.set_allow_countries(["de", "AT"]).unwrap();
        assert_eq!(g.allow_countries(), ["DE", "AT"]);
        assert!(g.set_blocked_paths(["a["]).is_err());
        g.set_blocked_paths(["*.bak"]).unwrap();
        assert_eq!(g.blocked_paths(), ["*.bak"]);
        g.set_country_header(Some(HeaderName::from_static("cf-ipcountry")));
        assert_eq!(
            g.country_header().map(HeaderName::as_str),
            Some("cf-ipcountry")
        );
    }
}

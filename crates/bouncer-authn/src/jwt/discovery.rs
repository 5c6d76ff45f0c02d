//! Authorization server discovery: RFC 8414 metadata, falling back to
//! OpenID Connect Discovery, for a configured issuer.
//!
//! The well-known URLs tried, in order (RFC 8414 §3.1 inserts the suffix
//! between the host and the issuer's path; OpenID Discovery §4 appends it):
//!
//! 1. `https://as.example/.well-known/oauth-authorization-server/tenant`
//! 2. `https://as.example/.well-known/openid-configuration/tenant` (only for
//!    an issuer with a path; the form RFC 8414 §5 describes)
//! 3. `https://as.example/tenant/.well-known/openid-configuration`
//!
//! Only a non-success HTTP status (a 404: "not served here", or any
//! other) moves on to the next; a server that cannot be reached, or a document that names another
//! issuer, ends discovery with an error. The discovered `issuer` must equal
//! the configured one exactly (RFC 8414 §3.3), and the issuer and its
//! `jwks_uri` must be `https`, or `http` on loopback behind
//! [`JwksConfig::with_allow_loopback_http`].

use super::jwks::{
    check_issuer_url, client, fetch_bounded, read_metadata, JwksConfig, JwksError, ProviderMetadata,
};

/// The well-known URLs for `issuer`, in the order they are tried.
fn candidates(issuer: &str) -> Result<Vec<String>, JwksError> {
    let url = reqwest::Url::parse(issuer).map_err(|_| JwksError::BadUrl(issuer.to_owned()))?;
    if url.query().is_some() || url.fragment().is_some() {
        // RFC 8414 §2: no query or fragment in an issuer identifier.
        return Err(JwksError::BadUrl(issuer.to_owned()));
    }
    let origin = url.origin().ascii_serialization();
    let path = url.path().trim_end_matches('/');
    let mut out = vec![format!(
        "{origin}/.well-known/oauth-authorization-server{path}"
    )];
    if !path.is_empty() {
        out.push(format!("{origin}/.well-known/openid-configuration{path}"));
    }
    out.push(format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    ));
    Ok(out)
}

/// Discovers the authorization server `issuer`: its metadata (RFC 8414,
/// else OpenID discovery), checked to name `issuer` exactly and a
/// `jwks_uri` under the same transport rule as the issuer.
pub async fn discover_issuer(
    issuer: &str,
    config: &JwksConfig,
) -> Result<ProviderMetadata, JwksError> {
    discover_issuer_with(&client(config.timeout()), issuer, config).await
}

/// [`discover_issuer`] through `http` (a key source's own client: no new
/// client per rediscovery).
pub(super) async fn discover_issuer_with(
    http: &reqwest::Client,
    issuer: &str,
    config: &JwksConfig,
) -> Result<ProviderMetadata, JwksError> {
    check_issuer_url(issuer, config)?;
    let mut last = None;
    for candidate in candidates(issuer)? {
        let url = check_issuer_url(&candidate, config)?;
        let body = match fetch_bounded(http, &url).await {
            Ok((body, _)) => body,
            Err(e @ JwksError::Status { .. }) => {
                last = Some(e);
                continue;
            }
            Err(e) => return Err(e),
        };
        let meta = read_metadata(&body, &url, issuer)?;
        check_issuer_url(&meta.jwks_uri, config)?;
        return Ok(meta);
    }
    Err(last.unwrap_or_else(|| JwksError::BadUrl(issuer.to_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_urls_follow_rfc_8414_then_openid() {
        assert_eq!(
            candidates("https://as.example").unwrap(),
            [
                "https://as.example/.well-known/oauth-authorization-server",
                "https://as.example/.well-known/openid-configuration",
            ]
        );
        assert_eq!(
            candidates("https://as.example/tenant/").unwrap(),
            [
                "https://as.example/.well-known/oauth-authorization-server/tenant",
                "https://as.example/.well-known/openid-configuration/tenant",
                "https://as.example/tenant/.well-known/openid-configuration",
            ]
        );
        assert!(candidates("https://as.example/?x=1").is_err());
        assert!(candidates("not a url").is_err());
    }

    #[test]
    fn plain_http_issuers_need_loopback_and_the_opt_in() {
        let strict = JwksConfig::default();
        let loopback = JwksConfig::default().with_allow_loopback_http(true);
        // Even the broad opt-in for key URLs does not open issuers.
        let insecure = JwksConfig::default().with_allow_insecure_http(true);
        assert!(check_issuer_url("https://as.example", &strict).is_ok());
        assert!(check_issuer_url("http://127.0.0.1:9000", &strict).is_err());
        assert!(check_issuer_url("http://127.0.0.1:9000", &insecure).is_err());
        assert!(check_issuer_url("http://127.0.0.1:9000", &loopback).is_ok());
        assert!(check_issuer_url("http://[::1]:9000", &loopback).is_ok());
        assert!(check_issuer_url("http://localhost:9000", &loopback).is_ok());
        assert!(check_issuer_url("http://as.example", &loopback).is_err());
        assert!(check_issuer_url("ftp://127.0.0.1", &loopback).is_err());
    }
}

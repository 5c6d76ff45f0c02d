//! The call to the introspection endpoint (RFC 7662 §2.1) and what its
//! HTTP answer means. Only a `200` with a JSON body within the size bound
//! is an answer; everything else is a failure of ours or of the
//! authorization server, never of the caller (but for `400
//! unsupported_token_type`, which is about the token).

use reqwest::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::{StatusCode, Url};

use super::config::{AuthMethod, IntrospectionConfig};

/// Why no answer could be had. `Clone`: one lookup's failure is handed to
/// every request that waited on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Unreachable, timed out, 5xx or 429, or an answer that cannot be
    /// read: 503.
    Unavailable(String),
    /// The endpoint refused our request (client credentials, 4xx, an
    /// unexpected status): the deployment is set up wrong, 500.
    Misconfigured(&'static str),
    /// `400 unsupported_token_type` (RFC 7009 §2.2.1, which oidc-provider
    /// answers for a JWT): the token is not one this server introspects.
    UnsupportedToken,
}

pub(crate) struct Client {
    http: reqwest::Client,
    url: Url,
    method: AuthMethod,
    client_id: String,
    secret: String,
    max_response: usize,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("url", &self.url.as_str())
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// `application/x-www-form-urlencoded` for one value (RFC 6749 §2.3.1
/// asks for it on the Basic credentials too).
pub(crate) fn form_encode(s: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// Whether a `Content-Type` is JSON: `application/json`, parameters
/// (`charset`) allowed, case-insensitive.
pub(crate) fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
}

impl Client {
    pub(crate) fn new(url: Url, config: &IntrospectionConfig) -> Self {
        // TLS through aws-lc-rs, as for key sets: one crypto library.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(config.timeout())
            .connect_timeout(config.connect_timeout().min(config.timeout()))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        let auth = config.client_auth();
        Self {
            http,
            url,
            method: auth.method,
            client_id: auth.client_id.clone(),
            secret: auth.secret.clone(),
            max_response: config.max_response_bytes(),
        }
    }

    pub(crate) fn url(&self) -> &str {
        self.url.as_str()
    }

    async fn send(&self, token: &str) -> Result<reqwest::Response, reqwest::Error> {
        let mut form = format!("token={}&token_type_hint=access_token", form_encode(token));
        let mut req = self
            .http
            .post(self.url.clone())
            .header(ACCEPT, "application/json")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded");
        match self.method {
            AuthMethod::SecretBasic => {
                req = req.basic_auth(
                    form_encode(&self.client_id),
                    Some(form_encode(&self.secret)),
                );
            }
            AuthMethod::SecretPost => {
                form.push_str("&client_id=");
                form.push_str(&form_encode(&self.client_id));
                form.push_str("&client_secret=");
                form.push_str(&form_encode(&self.secret));
            }
        }
        req.body(form).send().await
    }

    /// Asks about `token`; the body of a `200` JSON answer.
    pub(crate) async fn introspect(&self, token: &str) -> Result<Vec<u8>, Failure> {
        let unreachable = |e: reqwest::Error| {
            Failure::Unavailable(format!(
                "cannot reach the introspection endpoint {}: {}",
                self.url,
                chain(&e.without_url())
            ))
        };
        // A pooled connection the server has closed fails at once (reset,
        // closed before the answer): try once more on a new one. The call
        // only reads, so sending it twice is harmless; a timeout is not
        // retried (the time is spent).
        let mut res = match self.send(token).await {
            Err(e) if !e.is_timeout() && (e.is_request() || e.is_connect()) => {
                tracing::debug!(target: "bouncer", error = %chain(&e), "introspection call failed; retrying once");
                self.send(token).await.map_err(unreachable)?
            }
            other => other.map_err(unreachable)?,
        };
        let status = res.status();
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            return Err(Failure::Unavailable(format!(
                "the introspection endpoint {} answered {status}",
                self.url
            )));
        }
        if status == StatusCode::BAD_REQUEST {
            let body = read_bounded(&mut res, 4096).await.unwrap_or_default();
            let error = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned));
            return Err(if error.as_deref() == Some("unsupported_token_type") {
                Failure::UnsupportedToken
            } else {
                Failure::Misconfigured("the introspection endpoint refused the request (400)")
            });
        }
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(Failure::Misconfigured(
                "the introspection endpoint refused the client credentials",
            ));
        }
        if status != StatusCode::OK {
            return Err(Failure::Misconfigured(
                "the introspection endpoint answered an unexpected status",
            ));
        }
        let json = res
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_json);
        if !json {
            return Err(Failure::Unavailable(format!(
                "the introspection endpoint {} answered without a JSON content type",
                self.url
            )));
        }
        let too_large = || {
            Failure::Unavailable(format!(
                "the introspection answer of {} is larger than {} bytes",
                self.url, self.max_response
            ))
        };
        let declared = res
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.max_response as u64) {
            return Err(too_large());
        }
        match read_bounded(&mut res, self.max_response).await {
            Ok(body) => Ok(body),
            Err(ReadError::TooLarge) => Err(too_large()),
            Err(ReadError::Transport(e)) => Err(unreachable(e)),
        }
    }
}

/// An error and its causes, `: `-separated (reqwest's own message alone
/// says only "error sending request").
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

enum ReadError {
    TooLarge,
    Transport(reqwest::Error),
}

async fn read_bounded(res: &mut reqwest::Response, max: usize) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(ReadError::Transport)? {
        if body.len() + chunk.len() > max {
            return Err(ReadError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding() {
        assert_eq!(form_encode("abc-._*09"), "abc-._*09");
        assert_eq!(form_encode("a b+c/=~:"), "a+b%2Bc%2F%3D%7E%3A");
        assert_eq!(form_encode("wörd"), "w%C3%B6rd");
    }

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(!is_json("application/jsonp"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/token-introspection+jwt"));
        assert!(!is_json(""));
    }
}

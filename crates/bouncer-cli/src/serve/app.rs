//! Wires the library's crates to a checked [`Config`]: the policy, its
//! guards and credentials, the schemes, the stores, the gate.

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use bouncer_authn::api_key::ApiKeyAuthenticator;
use bouncer_authn::basic::{BasicAuthenticator, PasswordVerifierHandle};
use bouncer_authn::config::CredentialsConfig;
use bouncer_authn::jwt::{
    self, JwksConfig, JwksSource, JwtAuthenticator, JwtValidation, KeySet, VerifyKey,
};
use bouncer_authn::revocation::{MemoryRevocationStore, RevocationStore};
use bouncer_authz::{Policy, PolicyAuthorizer};
use bouncer_core::render::RenderOptions;
use bouncer_core::{
    Authenticator, AuthnError, Challenge, ChallengeContext, Gate, Identity, RequestContext,
    SchemeName,
};
use bouncer_redis::RedisStore;
use bouncer_session::{
    CounterStore, MemoryMfaDirectory, MemorySessionStore, SessionConfig, SessionStore, Sessions,
};
use serde::Deserialize;

use super::config::{Config, JwtConfig};
use super::service::Service;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Whether a compact JWT's header names an HMAC algorithm. Reads the
/// header only (no verification): it picks which verifier runs, and each
/// verifier still checks everything.
fn is_hmac_token(token: &str) -> bool {
    #[derive(Deserialize)]
    struct Header {
        alg: String,
    }
    let Some(header) = token.split('.').next().filter(|h| h.len() <= 1024) else {
        return false;
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Header>(&bytes).ok())
        .is_some_and(|h| h.alg.starts_with("HS"))
}

/// Bearer tokens, verified by one key set, or by a local HMAC secret (and
/// JWKS file) and a fetched key set together: a JWKS never holds HMAC
/// keys, so an `HS*` token goes to the local keys and every other token
/// to the fetched ones.
enum Bearer {
    One(JwtAuthenticator),
    Split {
        local: JwtAuthenticator,
        remote: JwtAuthenticator,
    },
}

impl Bearer {
    fn first(&self) -> &JwtAuthenticator {
        match self {
            Self::One(a) | Self::Split { local: a, .. } => a,
        }
    }
}

#[async_trait]
impl Authenticator for Bearer {
    fn scheme(&self) -> SchemeName {
        SchemeName::BEARER
    }

    fn recognizes(&self, request: &RequestContext<'_>) -> bool {
        self.first().recognizes(request)
    }

    async fn authenticate(
        &self,
        request: &RequestContext<'_>,
    ) -> Result<Option<Identity>, AuthnError> {
        match self {
            Self::One(a) => a.authenticate(request).await,
            Self::Split { local, remote } => {
                let hmac =
                    matches!(jwt::bearer_token(request.headers()), Ok(Some(t)) if is_hmac_token(t));
                if hmac {
                    local.authenticate(request).await
                } else {
                    remote.authenticate(request).await
                }
            }
        }
    }

    fn challenge(&self, error: Option<&ChallengeContext<'_>>) -> Option<Challenge> {
        self.first().challenge(error)
    }
}

async fn bearer(
    realm: &str,
    j: &JwtConfig,
    revocations: Arc<dyn RevocationStore>,
) -> Result<Bearer, BoxError> {
    let mut validation = JwtValidation::new(j.issuer.clone(), j.audience.clone());
    if j.logto_organization_audience {
        validation = validation.accept_logto_organization_audience();
    }
    if let Some(leeway) = j.leeway {
        validation = validation.leeway(leeway);
    }
    let mut keys = KeySet::new();
    if let Some((alg, secret)) = &j.hmac {
        keys.insert(VerifyKey::hmac(*alg, &secret.0)?)?;
    }
    if let Some(file) = &j.jwks_file {
        let set = KeySet::from_jwks_file(file).map_err(|e| format!("{}: {e}", file.display()))?;
        for skipped in set.skipped() {
            tracing::warn!(target: "bouncer", "{}: key skipped: {skipped}", file.display());
        }
        keys.extend(set)?;
    }
    let cached = |a: JwtAuthenticator| match j.token_cache {
        0 => a,
        n => a.token_cache(n),
    };
    let local = (!keys.is_empty()).then(|| {
        cached(
            JwtAuthenticator::new(realm, keys, validation.clone()).revocation(revocations.clone()),
        )
    });
    let url = match (&j.jwks_url, j.oidc_discovery) {
        (Some(url), _) => Some(url.clone()),
        (None, true) => Some(
            jwt::discover(&j.issuer, &JwksConfig::default())
                .await?
                .jwks_uri,
        ),
        (None, false) => None,
    };
    let remote = match url {
        None => None,
        Some(url) => {
            let source = JwksSource::connect(&url, JwksConfig::default()).await?;
            source.spawn_refresher();
            Some(cached(
                JwtAuthenticator::from_jwks(realm, source, validation).revocation(revocations),
            ))
        }
    };
    Ok(match (local, remote) {
        (Some(local), Some(remote)) => Bearer::Split { local, remote },
        (Some(one), None) | (None, Some(one)) => Bearer::One(one),
        (None, None) => return Err("[jwt] has no usable key".into()),
    })
}

/// Builds the service.
pub(crate) async fn build(config: &Config) -> Result<Service, BoxError> {
    let policy_name = config.policy.display().to_string();
    let policy = Policy::from_file(&config.policy)?;
    let credentials = CredentialsConfig::from_file(&config.policy)?;
    let guards = policy.guards();
    if guards.trusted_proxies().is_empty() {
        return Err(format!(
            "{policy_name}: [guards] trusted_proxies is empty: the decision service believes a \
             description of the original request only from a trusted proxy, so it could decide nothing"
        )
        .into());
    }

    // Shared state: Redis when configured (every instance sees the same
    // logouts and sessions), memory otherwise.
    let (revocations, session_store, counters): (
        Arc<dyn RevocationStore>,
        Arc<dyn SessionStore>,
        Arc<dyn CounterStore>,
    ) = match &config.redis {
        Some(url) => {
            let redis = Arc::new(RedisStore::open(url)?);
            (redis.clone(), redis.clone(), redis)
        }
        None => {
            let memory = Arc::new(MemorySessionStore::new());
            (
                Arc::new(MemoryRevocationStore::new()),
                memory.clone(),
                memory,
            )
        }
    };

    let passwords = PasswordVerifierHandle::new(credentials.password_store()?);
    let mut gate = Gate::builder()
        .realm(config.realm.clone())
        .guard(guards.path_guard()?)
        .guard(guards.network_guard());
    // Basic first: RFC 9110 §11.3 advises listing well-supported schemes first.
    if config.basic {
        gate = gate.authenticator(BasicAuthenticator::with_verifier(
            config.realm.clone(),
            passwords.clone(),
        ));
    }
    if let Some(j) = &config.jwt {
        gate = gate.authenticator(bearer(&config.realm, j, revocations.clone()).await?);
    }
    if let Some(header) = &config.api_key_header {
        gate = gate.authenticator(ApiKeyAuthenticator::header(
            header.as_str(),
            credentials.api_key_store()?,
        ));
    }
    let sessions = match &config.sessions {
        None => None,
        Some(s) => {
            let mut settings = SessionConfig::default().with_secure_cookie(s.secure_cookie);
            if s.idle_timeout.is_some() || s.absolute_timeout.is_some() {
                let d = SessionConfig::default();
                settings = settings.with_timeouts(
                    s.idle_timeout.unwrap_or(d.idle_timeout()),
                    s.absolute_timeout.unwrap_or(d.absolute_timeout()),
                );
            }
            let sessions = Sessions::new(
                session_store,
                counters,
                passwords,
                Arc::new(MemoryMfaDirectory::from_credentials(&credentials)?),
                settings,
            )
            .with_accounts(Arc::new(policy.clone()));
            gate = gate.authenticator(sessions.authenticator());
            Some(sessions)
        }
    };
    let gate = gate
        .accounts(policy.clone())
        .authorizer(PolicyAuthorizer::new(policy.clone()).resources(config.resources.clone()))
        .build();

    Ok(Service {
        gate,
        routes: config.routes.clone(),
        trust: guards.resolver(),
        render: RenderOptions::new().expose_detail(config.expose_detail),
        sessions,
        revocations: config.jwt.as_ref().map(|_| revocations),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(header: &str) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!("{}.e30.sig", b64.encode(header))
    }

    #[test]
    fn the_token_header_picks_the_verifier() {
        assert!(is_hmac_token(&token(r#"{"alg":"HS256","typ":"JWT"}"#)));
        assert!(is_hmac_token(&token(r#"{"alg":"HS512"}"#)));
        assert!(!is_hmac_token(&token(r#"{"alg":"RS256","kid":"k"}"#)));
        assert!(!is_hmac_token(&token(r#"{"alg":"none"}"#)));
        assert!(!is_hmac_token("not a token"));
        assert!(!is_hmac_token(""));
        assert!(!is_hmac_token(&token(&format!(
            r#"{{"alg":"HS256","x":"{}"}}"#,
            "a".repeat(2000)
        ))));
    }
}

//! Demo tools for the quickstart: tokens, and the current time they are stamped with.

#[allow(unused_imports)]
use crate::*;

pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `cargo xtask token alice --org acme --mfa`
pub(crate) fn token(args: &[String]) -> Result<()> {
    say(&mint(args)?);
    Ok(())
}

/// A token id that no other demo token shares, even minted in the same
/// second by the same process (a logout revokes by `jti`).
pub(crate) fn unique_jti(sub: &str) -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{sub}-{nanos:x}-{:x}-{n}", std::process::id())
}

/// The RFC 7638 thumbprint of `examples/quickstart/demo-keys/dpop-es256.pem`.
pub(crate) fn demo_dpop_jkt() -> Result<String> {
    let pem = std::fs::read(root().join("examples/quickstart/demo-keys/dpop-es256.pem"))
        .context("reading the demo DPoP key")?;
    let key = EncodingKey::from_ec_pem(&pem)?;
    let jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&key, Algorithm::ES256)?;
    Ok(jwk.thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)?)
}

/// A demo token for the quickstart (see `usage`).
pub(crate) fn mint(args: &[String]) -> Result<String> {
    let (sub, opts) = args.split_first().ok_or_else(|| anyhow!(usage()))?;
    let mut claims = json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": sub,
        "iat": now(),
        "exp": now() + 3600,
        "jti": unique_jti(sub),
    });
    let mut alg = Algorithm::HS256;
    let mut kid: Option<String> = None;
    let mut typ = Some("at+jwt".to_owned());
    let mut secret =
        std::env::var("BOUNCER_DEMO_SECRET").unwrap_or_else(|_| DEFAULT_DEMO_SECRET.to_owned());
    let obj = claims.as_object_mut().ok_or_else(|| anyhow!("claims"))?;
    let mut it = opts.iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| anyhow!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--org" => {
                obj.insert("organization_id".into(), Value::String(value()?));
            }
            "--logto-org" => {
                obj.insert(
                    "aud".into(),
                    Value::String(format!("urn:logto:organization:{}", value()?)),
                );
            }
            "--scope" => {
                obj.insert("scope".into(), Value::String(value()?));
            }
            "--mfa" => {
                obj.insert("acr".into(), json!("urn:logto:acr:mfa"));
                obj.insert("amr".into(), json!(["pwd", "mfa"]));
                obj.insert("auth_time".into(), json!(now()));
            }
            "--acr" => {
                obj.insert("acr".into(), Value::String(value()?));
            }
            "--amr" => {
                let v = value()?;
                obj.insert("amr".into(), json!(v.split(',').collect::<Vec<_>>()));
            }
            "--auth-age" => {
                let age: u64 = value()?.parse().context("--auth-age takes seconds")?;
                obj.insert("auth_time".into(), json!(now().saturating_sub(age)));
            }
            "--exp" => {
                let rel: i64 = value()?
                    .parse()
                    .context("--exp takes seconds (may be negative)")?;
                obj.insert("exp".into(), json!(now().saturating_add_signed(rel)));
            }
            "--jti" => {
                obj.insert("jti".into(), Value::String(value()?));
            }
            "--no-jti" => {
                obj.remove("jti");
            }
            "--dpop" => {
                // Bound to the demo DPoP key (RFC 9449 §6.1): send it as
                // `Authorization: DPoP` with a proof from `bouncer token proof`.
                obj.insert("cnf".into(), json!({"jkt": demo_dpop_jkt()?}));
            }
            "--iss" => {
                obj.insert("iss".into(), Value::String(value()?));
            }
            "--aud" => {
                obj.insert("aud".into(), Value::String(value()?));
            }
            "--alg" => {
                alg = value()?.parse().map_err(|_| anyhow!("unknown algorithm"))?;
            }
            "--kid" => kid = Some(value()?),
            "--typ" => {
                let v = value()?;
                typ = (v != "none").then_some(v);
            }
            "--secret" => secret = value()?,
            other => bail!("unknown option `{other}`\n{}", usage()),
        }
    }
    let keys = root().join("examples/quickstart/demo-keys");
    let read = |name: &str| {
        std::fs::read(keys.join(name)).with_context(|| format!("reading demo key {name}"))
    };
    let (key, default_kid) = match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
            (EncodingKey::from_secret(secret.as_bytes()), None)
        }
        Algorithm::RS256 => (
            EncodingKey::from_rsa_pem(&read("rsa.pem")?)?,
            Some("demo-rsa"),
        ),
        Algorithm::ES256 => (
            EncodingKey::from_ec_pem(&read("ec256.pem")?)?,
            Some("demo-ec"),
        ),
        Algorithm::EdDSA => (
            EncodingKey::from_ed_pem(&read("ed25519.pem")?)?,
            Some("demo-ed"),
        ),
        other => bail!("the demo has no key for {other:?}"),
    };
    let mut header = Header::new(alg);
    header.typ = typ;
    header.kid = kid.or(default_kid.map(str::to_owned));
    Ok(jsonwebtoken::encode(&header, &claims, &key)?)
}

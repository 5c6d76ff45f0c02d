//! The scheme through a gate: the RFC 9449 §4.3 checks as a table of
//! abuse cases, replays, nonces, challenges and store faults.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::type_complexity
)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use base64::Engine as _;
use bouncer_core::{Fault, Gate, Requirement, Verdict};
use bouncer_store::MemoryReplayStore;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{json, Value};

use super::*;
use crate::jwt::{Algorithm, JwtValidation, KeySet, VerifyKey};

const SECRET: &[u8] = b"a-test-secret-of-at-least-32-bytes-for-hs256";
const ISS: &str = "https://auth.dpop.test";
const AUD: &str = "https://api.dpop.test";
const ORIGIN: &str = "https://api.dpop.test";
/// Far from the machine's clock: the gate's clock must be the one used.
const T0: u64 = 1_000_000_000;

/// An ES256 test key (PKCS#8).
pub(crate) const TEST_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg+cStZfvdDRFe1/h0
dDVJh7zM+NesKC+qO6ojA8DFZ8ShRANCAASSNOH5ABEmkv4CCH1tcS9YUd7xb2PJ
clJjuhU+ytzf/J0iFQuR+H+BTszxnRTvNGOKg5viSbAsujvJNr3/nWwN
-----END PRIVATE KEY-----
";

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

fn signer() -> ProofSigner {
    ProofSigner::from_pem(Algorithm::ES256, TEST_KEY.as_bytes()).unwrap()
}

fn jti() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!("jti-{}", N.fetch_add(1, Ordering::Relaxed))
}

fn token(jkt: Option<&str>) -> String {
    let mut claims = json!({"iss": ISS, "aud": AUD, "sub": "al", "exp": T0 + 600, "jti": jti()});
    if let Some(jkt) = jkt {
        claims["cnf"] = json!({"jkt": jkt});
    }
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET),
    )
    .unwrap()
}

fn jwt() -> JwtAuthenticator {
    let keys = KeySet::new()
        .with(VerifyKey::hmac(Algorithm::HS256, SECRET).unwrap())
        .unwrap();
    JwtAuthenticator::new("api", keys, JwtValidation::new(ISS, AUD))
}

fn gate_with(dpop: DpopAuthenticator, now: u64) -> Gate {
    Gate::builder()
        .realm("api")
        .authenticator(jwt())
        .authenticator(dpop)
        .clock(move || at(now))
        .build()
}

fn dpop() -> DpopAuthenticator {
    DpopAuthenticator::new(jwt(), Arc::new(MemoryReplayStore::new().clock(|| at(T0))))
        .origin(ORIGIN)
        .unwrap()
}

fn decide(gate: &Gate, method: &str, uri: &str, headers: &[(&str, &str)]) -> Verdict {
    let mut b = http::Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let (parts, ()) = b.body(()).unwrap().into_parts();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(gate.decide(
        &RequestContext::from_parts(&parts),
        &Requirement::authenticated(),
    ))
}

fn outcome(v: &Verdict) -> (String, Option<String>) {
    match v.decision().denial() {
        None => ("allow".into(), None),
        Some(d) => {
            let error = d
                .challenges()
                .iter()
                .find_map(|c| c.get("error").map(str::to_owned));
            (d.code().as_str().to_owned(), error)
        }
    }
}

fn proof_for(s: &ProofSigner, htm: &str, htu: &str, iat: u64, t: &str) -> String {
    s.proof(htm, htu, iat, &jti(), Some(t), None).unwrap()
}

#[test]
fn a_bound_token_with_its_proof_is_allowed_once() {
    let s = signer();
    let t = token(Some(s.jkt()));
    let g = gate_with(dpop(), T0);
    let p = proof_for(&s, "GET", "https://api.dpop.test/docs?x=1", T0, &t);
    let auth = format!("DPoP {t}");
    let headers = [("authorization", auth.as_str()), ("dpop", p.as_str())];
    let v = decide(&g, "GET", "/docs?y=2", &headers);
    assert_eq!(outcome(&v).0, "allow");
    let caller = match v.decision() {
        bouncer_core::Decision::Allow(c) => c.authenticated().unwrap().clone(),
        _ => unreachable!(),
    };
    assert_eq!(caller.identity().scheme(), &SCHEME_NAME);
    assert_eq!(caller.subject(), "al");
    // The same proof again.
    let v = decide(&g, "GET", "/docs", &headers);
    assert_eq!(
        outcome(&v),
        ("invalid_token".into(), Some(INVALID_DPOP_PROOF.into()))
    );
}

#[test]
fn abuse_cases_are_refused_with_the_right_error() {
    let s = signer();
    let t = token(Some(s.jkt()));
    let htu = "https://api.dpop.test/docs";
    let other = ProofSigner::from_pem(Algorithm::ES256, OTHER_KEY.as_bytes()).unwrap();
    let claims = |extra: Value| {
        let mut c = json!({"jti": jti(), "htm": "GET", "htu": htu, "iat": T0,
            "ath": access_token_hash(&t)});
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        c
    };
    let with_header = |f: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut h = s.header();
        f(&mut h);
        s.sign_raw(&h, &claims(json!({}))).unwrap()
    };
    let b64 = |v: &Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    };
    let private_jwk = {
        let mut h = s.header();
        h["jwk"]["d"] = json!("cStZfvdDRFe1_h0dDVJh7zM-NesKC-qO6ojA8DFZ8Q");
        h
    };
    let none = format!(
        "{}.{}.",
        b64(&json!({"typ": "dpop+jwt", "alg": "none", "jwk": s.public_jwk()})),
        b64(&claims(json!({})))
    );
    let hs256 = {
        let h = json!({"typ": "dpop+jwt", "alg": "HS256",
            "jwk": {"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}});
        let msg = format!("{}.{}", b64(&h), b64(&claims(json!({}))));
        let sig = jsonwebtoken::crypto::sign(
            msg.as_bytes(),
            &EncodingKey::from_secret(b"secret-secret-secret-secret-secret"),
            Algorithm::HS256,
        )
        .unwrap();
        format!("{msg}.{sig}")
    };
    let good = s.sign_raw(&s.header(), &claims(json!({}))).unwrap();
    let (gh, grest) = good.split_once('.').unwrap();
    let tampered = format!(
        "{gh}.{}.{}",
        b64(&claims(json!({"htm": "POST"}))),
        grest.split_once('.').unwrap().1
    );
    let cases: Vec<(&str, String)> = vec![
        (
            "wrong htm",
            s.sign_raw(&s.header(), &claims(json!({"htm": "POST"})))
                .unwrap(),
        ),
        (
            "lower-case htm",
            s.sign_raw(&s.header(), &claims(json!({"htm": "get"})))
                .unwrap(),
        ),
        (
            "wrong htu path",
            s.sign_raw(
                &s.header(),
                &claims(json!({"htu": "https://api.dpop.test/other"})),
            )
            .unwrap(),
        ),
        (
            "wrong htu host",
            s.sign_raw(
                &s.header(),
                &claims(json!({"htu": "https://evil.test/docs"})),
            )
            .unwrap(),
        ),
        (
            "wrong htu scheme",
            s.sign_raw(
                &s.header(),
                &claims(json!({"htu": "http://api.dpop.test/docs"})),
            )
            .unwrap(),
        ),
        (
            "relative htu",
            s.sign_raw(&s.header(), &claims(json!({"htu": "/docs"})))
                .unwrap(),
        ),
        (
            "stale iat",
            s.sign_raw(&s.header(), &claims(json!({"iat": T0 - 120})))
                .unwrap(),
        ),
        (
            "iat in the future",
            s.sign_raw(&s.header(), &claims(json!({"iat": T0 + 60})))
                .unwrap(),
        ),
        (
            "iat as a string",
            s.sign_raw(&s.header(), &claims(json!({"iat": T0.to_string()})))
                .unwrap(),
        ),
        (
            "missing iat",
            s.sign_raw(&s.header(), &claims(json!({"iat": null})))
                .unwrap(),
        ),
        (
            "missing jti",
            s.sign_raw(&s.header(), &claims(json!({"jti": null})))
                .unwrap(),
        ),
        (
            "empty jti",
            s.sign_raw(&s.header(), &claims(json!({"jti": ""})))
                .unwrap(),
        ),
        (
            "huge jti",
            s.sign_raw(&s.header(), &claims(json!({"jti": "j".repeat(300)})))
                .unwrap(),
        ),
        (
            "missing ath",
            s.sign_raw(&s.header(), &claims(json!({"ath": null})))
                .unwrap(),
        ),
        (
            "ath of another token",
            s.sign_raw(
                &s.header(),
                &claims(json!({"ath": access_token_hash("other")})),
            )
            .unwrap(),
        ),
        (
            "private key in jwk",
            s.sign_raw(&private_jwk, &claims(json!({}))).unwrap(),
        ),
        ("symmetric alg", hs256),
        ("alg none", none),
        (
            "alg absent",
            with_header(&|h| {
                h.remove("alg");
            }),
        ),
        (
            "typ JWT",
            with_header(&|h| {
                h.insert("typ".into(), json!("JWT"));
            }),
        ),
        (
            "typ absent",
            with_header(&|h| {
                h.remove("typ");
            }),
        ),
        (
            "no jwk",
            with_header(&|h| {
                h.remove("jwk");
            }),
        ),
        (
            "jwk of another key",
            with_header(&|h| {
                h.insert("jwk".into(), Value::Object(other.public_jwk().clone()));
            }),
        ),
        (
            "crit",
            with_header(&|h| {
                h.insert("crit".into(), json!(["x"]));
            }),
        ),
        (
            "alg not allowed for the key",
            with_header(&|h| {
                h.insert("alg".into(), json!("ES384"));
            }),
        ),
        ("tampered claims", tampered),
        (
            "signature stripped",
            format!("{}.", good.rsplit_once('.').unwrap().0),
        ),
        ("not a JWT", "garbage".into()),
        ("too long", "a".repeat(DEFAULT_MAX_PROOF_LEN + 1)),
        (
            "proof by another key (cnf.jkt mismatch)",
            other.proof("GET", htu, T0, &jti(), Some(&t), None).unwrap(),
        ),
    ];
    let g = gate_with(dpop(), T0);
    let auth = format!("DPoP {t}");
    for (name, proof) in cases {
        let v = decide(
            &g,
            "GET",
            "/docs",
            &[("authorization", &auth), ("dpop", &proof)],
        );
        assert_eq!(
            outcome(&v),
            ("invalid_token".into(), Some(INVALID_DPOP_PROOF.into())),
            "{name}"
        );
    }
    // Header-level abuse.
    let p = proof_for(&s, "GET", htu, T0, &t);
    let cases: Vec<(&str, Vec<(&str, &str)>, (&str, &str))> = vec![
        (
            "no DPoP field",
            vec![("authorization", &auth)],
            ("invalid_token", INVALID_DPOP_PROOF),
        ),
        (
            "two DPoP fields",
            vec![("authorization", &auth), ("dpop", &p), ("dpop", &p)],
            ("invalid_token", INVALID_DPOP_PROOF),
        ),
    ];
    for (name, headers, (code, error)) in cases {
        let v = decide(&g, "GET", "/docs", &headers);
        assert_eq!(outcome(&v), (code.into(), Some(error.into())), "{name}");
    }
}

/// A second ES256 key.
const OTHER_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg2A1mnx/YAIgjKA8z
hkDLSr1b/LD2bnmuh2OMF98q0+ihRANCAAT0pXrDR5AQPTVn0IPThFcQLxOAPVMy
Iq8+hSD5uEto2ImlE7sEYqo0QMWaVrcPmLyBd7wu9YL9SVkvbnMddG9o
-----END PRIVATE KEY-----
";

#[test]
fn tokens_and_schemes_are_not_confused() {
    let s = signer();
    let bound = token(Some(s.jkt()));
    let plain = token(None);
    let g = gate_with(dpop(), T0);
    // A DPoP-bound token as a bearer token.
    let v = decide(
        &g,
        "GET",
        "/docs",
        &[("authorization", &format!("Bearer {bound}"))],
    );
    assert_eq!(
        outcome(&v),
        ("invalid_token".into(), Some("invalid_token".into()))
    );
    assert_eq!(
        v.decision().denial().unwrap().challenges()[0].scheme(),
        "Bearer"
    );
    // An unbound token as a DPoP token, even with a good proof.
    let p = proof_for(&s, "GET", "https://api.dpop.test/docs", T0, &plain);
    let v = decide(
        &g,
        "GET",
        "/docs",
        &[("authorization", &format!("DPoP {plain}")), ("dpop", &p)],
    );
    assert_eq!(
        outcome(&v),
        ("invalid_token".into(), Some("invalid_token".into()))
    );
    // An unbound token as a bearer token still works.
    let v = decide(
        &g,
        "GET",
        "/docs",
        &[("authorization", &format!("Bearer {plain}"))],
    );
    assert_eq!(outcome(&v).0, "allow");
    // An expired bound token.
    let g_late = gate_with(dpop(), T0 + 3600);
    let p = proof_for(&s, "GET", "https://api.dpop.test/docs", T0 + 3600, &bound);
    let v = decide(
        &g_late,
        "GET",
        "/docs",
        &[("authorization", &format!("DPoP {bound}")), ("dpop", &p)],
    );
    assert_eq!(
        outcome(&v),
        ("token_expired".into(), Some("invalid_token".into()))
    );
    // Malformed DPoP authorization.
    let v = decide(&g, "GET", "/docs", &[("authorization", "DPoP a b")]);
    assert_eq!(
        outcome(&v),
        (
            "malformed_credentials".into(),
            Some("invalid_request".into())
        )
    );
}

#[test]
fn challenges_list_both_schemes_with_algs() {
    let g = gate_with(dpop(), T0);
    let v = decide(&g, "GET", "/docs", &[]);
    let d = v.decision().denial().unwrap();
    assert_eq!(d.code().as_str(), "missing_credentials");
    let c = d.challenges();
    assert_eq!(c.len(), 2);
    assert_eq!(c[0].to_string(), r#"Bearer realm="api""#);
    assert_eq!(
        c[1].to_string(),
        r#"DPoP realm="api", algs="ES256 ES384 PS256 PS384 PS512 RS256 RS384 RS512 EdDSA""#
    );
    let s = signer();
    let t = token(Some(s.jkt()));
    let p = proof_for(&s, "POST", "https://api.dpop.test/docs", T0, &t);
    let v = decide(
        &g,
        "GET",
        "/docs",
        &[("authorization", &format!("DPoP {t}")), ("dpop", &p)],
    );
    let c = v.decision().denial().unwrap().challenges();
    assert_eq!(
        c[0].get("error"),
        None,
        "only the failing scheme says what failed"
    );
    assert_eq!(c[1].get("error"), Some(INVALID_DPOP_PROOF));
    assert_eq!(
        c[1].get("error_description"),
        Some("the DPoP proof is not valid")
    );
    assert!(c[1].get("algs").is_some());
}

#[test]
fn the_request_url_comes_from_the_configured_origin() {
    let s = signer();
    let t = token(Some(s.jkt()));
    let auth = format!("DPoP {t}");
    // Behind a proxy that strips /api: the client's URL has it.
    let a = dpop().origin("https://Public.Example:443/api/").unwrap();
    let g = gate_with(a, T0);
    let p = proof_for(&s, "GET", "https://public.example/api/docs", T0, &t);
    let v = decide(
        &g,
        "GET",
        "/docs",
        &[
            ("authorization", &auth),
            ("dpop", &p),
            ("host", "internal:8080"),
        ],
    );
    assert_eq!(outcome(&v).0, "allow");
    // From the request's Host.
    let a = dpop().origin_from_request(false);
    let g = gate_with(a, T0);
    let p = proof_for(&s, "GET", "http://internal:8080/docs", T0, &t);
    let v = decide(
        &g,
        "GET",
        "/docs",
        &[
            ("authorization", &auth),
            ("dpop", &p),
            ("host", "internal:8080"),
        ],
    );
    assert_eq!(outcome(&v).0, "allow");
    let p = proof_for(&s, "GET", "http://internal:8080/docs", T0, &t);
    let v = decide(
        &g,
        "GET",
        "/docs",
        &[("authorization", &auth), ("dpop", &p)],
    );
    assert_eq!(
        outcome(&v).1.as_deref(),
        Some(INVALID_DPOP_PROOF),
        "no Host: no URL"
    );
    for bad in [
        "ftp://x",
        "https://x/?q",
        "https://x/#f",
        "https://u@x/",
        "x",
    ] {
        assert!(dpop().origin(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_nonce_is_asked_for_and_then_accepted() {
    let s = signer();
    let t = token(Some(s.jkt()));
    let nonces = NonceSource::new(
        b"a-dpop-nonce-secret-of-32-bytes!!",
        Duration::from_secs(60),
    )
    .unwrap();
    let g = gate_with(dpop().nonces(nonces.clone()), T0);
    let auth = format!("DPoP {t}");
    let htu = "https://api.dpop.test/docs";
    let p = proof_for(&s, "GET", htu, T0, &t);
    let v = decide(
        &g,
        "GET",
        "/docs",
        &[("authorization", &auth), ("dpop", &p)],
    );
    assert_eq!(
        outcome(&v),
        ("invalid_token".into(), Some(USE_DPOP_NONCE.into()))
    );
    let d = v.decision().denial().unwrap();
    let (name, value) = &d.headers()[0];
    assert_eq!(name, DPOP_NONCE_HEADER);
    let nonce = value.to_str().unwrap().to_owned();
    assert_eq!(nonce, nonces.current(at(T0)));
    // A stale nonce is asked again; the right one passes.
    let old = nonces.current(at(T0 - 600));
    let p = s
        .proof("GET", htu, T0, &jti(), Some(&t), Some(&old))
        .unwrap();
    let v = decide(
        &g,
        "GET",
        "/docs",
        &[("authorization", &auth), ("dpop", &p)],
    );
    assert_eq!(outcome(&v).1.as_deref(), Some(USE_DPOP_NONCE));
    let p = s
        .proof("GET", htu, T0, &jti(), Some(&t), Some(&nonce))
        .unwrap();
    let v = decide(
        &g,
        "GET",
        "/docs",
        &[("authorization", &auth), ("dpop", &p)],
    );
    assert_eq!(outcome(&v).0, "allow");
}

struct Down;

#[async_trait]
impl ReplayStore for Down {
    async fn first_use(&self, _id: &str, _ttl: Duration) -> Result<bool, Fault> {
        Err(Fault::unavailable(
            "replay",
            Duration::from_secs(2),
            std::io::Error::other("down"),
        ))
    }
}

#[test]
fn a_store_that_cannot_answer_is_503_never_allow() {
    let s = signer();
    let t = token(Some(s.jkt()));
    let a = DpopAuthenticator::new(jwt(), Arc::new(Down))
        .origin(ORIGIN)
        .unwrap();
    let g = gate_with(a, T0);
    let p = proof_for(&s, "GET", "https://api.dpop.test/docs", T0, &t);
    let v = decide(
        &g,
        "GET",
        "/docs",
        &[("authorization", &format!("DPoP {t}")), ("dpop", &p)],
    );
    let d = v.decision().denial().unwrap();
    assert_eq!(d.status().as_u16(), 503);
    assert_eq!(d.retry_after(), Some(Duration::from_secs(2)));
}

#[test]
fn the_jti_window_follows_the_gates_clock() {
    let s = signer();
    let t = token(Some(s.jkt()));
    let store = Arc::new(MemoryReplayStore::new().clock(|| at(T0)));
    let a = DpopAuthenticator::new(jwt(), store.clone())
        .origin(ORIGIN)
        .unwrap();
    let g = gate_with(a, T0);
    let p = proof_for(&s, "GET", "https://api.dpop.test/docs", T0 - 30, &t);
    let v = decide(
        &g,
        "GET",
        "/docs",
        &[("authorization", &format!("DPoP {t}")), ("dpop", &p)],
    );
    assert_eq!(outcome(&v).0, "allow");
    assert_eq!(
        store.len(),
        1,
        "the jti was recorded before the request was allowed"
    );
}

/// Records what it is asked, and says "first use".
#[derive(Default)]
struct Recording(std::sync::Mutex<Vec<Duration>>);

#[async_trait]
impl ReplayStore for Recording {
    async fn first_use(&self, _id: &str, ttl: Duration) -> Result<bool, Fault> {
        self.0.lock().unwrap().push(ttl);
        Ok(true)
    }
}

#[test]
fn a_jti_is_kept_as_long_as_its_proof_could_be_accepted() {
    let s = signer();
    let t = token(Some(s.jkt()));
    let store = Arc::new(Recording::default());
    let a = DpopAuthenticator::new(jwt(), store.clone())
        .origin(ORIGIN)
        .unwrap();
    let g = gate_with(a, T0);
    let window = ProofValidator::new().window().as_secs();
    // Made now, 30 s ago, and 5 s ahead of our clock.
    for (iat, left) in [(T0, window), (T0 - 30, window - 30), (T0 + 5, window + 5)] {
        let p = proof_for(&s, "GET", "https://api.dpop.test/docs", iat, &t);
        let v = decide(
            &g,
            "GET",
            "/docs",
            &[("authorization", &format!("DPoP {t}")), ("dpop", &p)],
        );
        assert_eq!(outcome(&v).0, "allow");
        let ttl = store.0.lock().unwrap().pop().unwrap();
        assert_eq!(ttl, Duration::from_secs(left + 1), "iat {iat}");
    }
}

//! DPoP over the public API: proofs of every algorithm family verify, and
//! no arbitrary or mutated proof header makes an invalid request pass.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bouncer_authn::dpop::{
    normalize_htu, DpopAuthenticator, ProofError, ProofRequest, ProofSigner, ProofValidator,
};
use bouncer_authn::jwt::{JwtAuthenticator, JwtValidation, KeySet, VerifyKey};
use bouncer_core::{Gate, RequestContext, Requirement};
use bouncer_store::MemoryReplayStore;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use proptest::prelude::*;

use crate::support::{AUD, HS_SECRET, ISS};

const T0: u64 = 1_700_000_000;
const HTU: &str = "https://api.example/docs";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

#[test]
fn proofs_of_every_algorithm_family_verify() {
    let table = [
        (Algorithm::ES256, "ec256.pem"),
        (Algorithm::ES384, "ec384.pem"),
        (Algorithm::RS256, "rsa.pem"),
        (Algorithm::PS256, "rsa.pem"),
        (Algorithm::PS512, "rsa.pem"),
        (Algorithm::EdDSA, "ed25519.pem"),
    ];
    let htu = normalize_htu(HTU).unwrap();
    for (alg, file) in table {
        let s = ProofSigner::from_pem(alg, &fixture(file)).unwrap();
        let p = s.proof("GET", HTU, T0, "j", Some("tok"), None).unwrap();
        let req = ProofRequest {
            method: "GET",
            htu: &htu,
            access_token: "tok",
            now: T0,
        };
        let v = ProofValidator::new().validate(&p, &req).unwrap();
        assert_eq!(v.jkt, s.jkt(), "{alg:?}");
        // Not allowed: refused before the signature is looked at.
        let only_es = ProofValidator::new().algorithms([Algorithm::ES256]);
        if alg != Algorithm::ES256 {
            assert_eq!(
                only_es.validate(&p, &req),
                Err(ProofError::Algorithm),
                "{alg:?}"
            );
        }
    }
    assert!(ProofSigner::from_pem(Algorithm::HS256, b"x").is_err());
}

fn signer() -> ProofSigner {
    ProofSigner::from_pem(Algorithm::ES256, &fixture("ec256.pem")).unwrap()
}

fn bound_token(jkt: &str) -> String {
    let claims = serde_json::json!({"iss": ISS, "aud": AUD, "sub": "al", "exp": T0 + 600, "cnf": {"jkt": jkt}});
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(HS_SECRET),
    )
    .unwrap()
}

fn gate() -> Gate {
    let keys = KeySet::new()
        .with(VerifyKey::hmac(Algorithm::HS256, HS_SECRET).unwrap())
        .unwrap();
    let jwt = JwtAuthenticator::new("api", keys, JwtValidation::new(ISS, AUD));
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(T0);
    let dpop = DpopAuthenticator::new(jwt, Arc::new(MemoryReplayStore::new().clock(move || at)))
        .origin("https://api.example")
        .unwrap();
    Gate::builder()
        .authenticator(dpop)
        .clock(move || at)
        .build()
}

fn allowed(gate: &Gate, token: &str, proof: &str) -> bool {
    let Ok(req) = http::Request::get("/docs")
        .header("authorization", format!("DPoP {token}"))
        .header("dpop", proof)
        .body(())
    else {
        return false; // not a header value at all
    };
    let (parts, ()) = req.into_parts();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(gate.decide(
        &RequestContext::from_parts(&parts),
        &Requirement::authenticated(),
    ))
    .decision()
    .is_allowed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn no_arbitrary_proof_passes(proof in "\\PC{0,300}|[A-Za-z0-9_.-]{0,600}") {
        let s = signer();
        let token = bound_token(s.jkt());
        prop_assert!(!allowed(&gate(), &token, &proof));
    }

    #[test]
    fn no_mutated_proof_passes(at in 0usize..1000, with in "[A-Za-z0-9_.=-]") {
        let s = signer();
        let token = bound_token(s.jkt());
        let good = s.proof("GET", HTU, T0, "jti-1", Some(&token), None).unwrap();
        let g = gate();
        let i = at % good.len();
        let mut bad = good.clone();
        bad.replace_range(i..=i, &with);
        prop_assume!(bad != good);
        prop_assert!(!allowed(&g, &token, &bad), "mutated at {i}");
        // The untouched proof passes once, then never again.
        prop_assert!(allowed(&g, &token, &good));
        prop_assert!(!allowed(&g, &token, &good));
    }
}

//! `bouncer token proof --htm GET --htu URL [--token T] [--nonce N]
//! [--key FILE]`: a DPoP proof (RFC 9449 §4.2) for one request, to send as
//! the `DPoP` header with `Authorization: DPoP <token>`. Without `--key`,
//! made with the quickstart's demo DPoP key
//! (`examples/quickstart/demo-keys/dpop-es256.pem`), the key that
//! `cargo xtask token <sub> --dpop` binds demo tokens to.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use bouncer_authn::dpop::ProofSigner;
use bouncer_authn::jwt::Algorithm;

/// The quickstart's demo DPoP key (public knowledge: for demos only).
const DEMO_KEY: &str = include_str!("../../../examples/quickstart/demo-keys/dpop-es256.pem");

/// Arguments of `bouncer token proof`.
#[derive(Debug, clap::Args)]
pub(crate) struct ProofArgs {
    /// The request's method (`htm`).
    #[arg(long, default_value = "GET")]
    htm: String,
    /// The request's URL (`htu`; query and fragment are not part of it).
    #[arg(long)]
    htu: String,
    /// The access token the proof goes with (its hash becomes `ath`).
    #[arg(long)]
    token: Option<String>,
    /// The server's nonce (from a `DPoP-Nonce` header).
    #[arg(long)]
    nonce: Option<String>,
    /// An ES256 private key (PKCS#8 PEM) instead of the demo key.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// Print the key's thumbprint (`cnf.jkt`) instead of a proof.
    #[arg(long)]
    jkt: bool,
}

/// A random `jti`: 16 bytes from the OS, hex.
fn random_jti() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).map_err(|e| format!("no randomness: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn make(args: &ProofArgs) -> Result<String, String> {
    let pem = match &args.key {
        Some(path) => std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?,
        None => DEMO_KEY.as_bytes().to_vec(),
    };
    let signer = ProofSigner::from_pem(Algorithm::ES256, &pem).map_err(|e| e.to_string())?;
    if args.jkt {
        return Ok(signer.jkt().to_owned());
    }
    let iat = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let token = args
        .token
        .as_deref()
        .map(|t| t.trim().trim_start_matches("DPoP ").trim());
    signer
        .proof(
            &args.htm,
            &args.htu,
            iat,
            &random_jti()?,
            token,
            args.nonce.as_deref(),
        )
        .map_err(|e| e.to_string())
}

#[allow(clippy::print_stdout)] // a CLI prints
pub(crate) fn main(args: &ProofArgs) -> ExitCode {
    match make(args) {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bouncer token proof: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use bouncer_authn::dpop::{normalize_htu, ProofRequest, ProofValidator};

    fn args(htm: &str, htu: &str, token: Option<&str>) -> ProofArgs {
        ProofArgs {
            htm: htm.into(),
            htu: htu.into(),
            token: token.map(str::to_owned),
            nonce: None,
            key: None,
            jkt: false,
        }
    }

    #[test]
    fn a_proof_verifies_for_its_request_and_token() {
        let p = make(&args("GET", "http://127.0.0.1:8080/me", Some("tok"))).unwrap();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let htu = normalize_htu("http://127.0.0.1:8080/me").unwrap();
        let req = ProofRequest {
            method: "GET",
            htu: &htu,
            access_token: "tok",
            now,
        };
        assert!(ProofValidator::new().validate(&p, &req).is_ok());
        let other = ProofRequest {
            method: "POST",
            ..req
        };
        assert!(ProofValidator::new().validate(&p, &other).is_err());
        // Two proofs never share a jti.
        assert_ne!(
            p,
            make(&args("GET", "http://127.0.0.1:8080/me", Some("tok"))).unwrap()
        );
    }

    #[test]
    fn the_demo_keys_thumbprint_is_the_one_demo_tokens_carry() {
        let mut a = args("GET", "http://x/", None);
        a.jkt = true;
        // `cargo xtask token <sub> --dpop` puts this in `cnf.jkt`.
        assert_eq!(
            make(&a).unwrap(),
            "gEceYFYJJNxMbseqeEMqYhUgwu5rxUEy35M9RSEVjPE"
        );
    }
}

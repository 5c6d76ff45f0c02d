//! RFC 7638 JWK thumbprints (SHA-256), the `jkt` of RFC 9449 §6.1.

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::secret::sha256;

/// The members that make up a key's thumbprint, in lexicographic order
/// (RFC 7638 §3.2), by `kty`.
fn required(kty: &str) -> Option<&'static [&'static str]> {
    match kty {
        "EC" => Some(&["crv", "kty", "x", "y"]),
        "RSA" => Some(&["e", "kty", "n"]),
        "OKP" => Some(&["crv", "kty", "x"]),
        _ => None,
    }
}

/// The base64url SHA-256 thumbprint of a public JWK (`EC`, `RSA`, `OKP`);
/// `None` when a required member is missing or not a string.
pub fn jwk_thumbprint(jwk: &Map<String, Value>) -> Option<String> {
    let kty = jwk.get("kty")?.as_str()?;
    let mut canonical = String::from("{");
    for (i, name) in required(kty)?.iter().enumerate() {
        let value = jwk.get(*name)?.as_str()?;
        if i > 0 {
            canonical.push(',');
        }
        // Names are plain ASCII; values are escaped as JSON strings.
        canonical.push('"');
        canonical.push_str(name);
        canonical.push_str("\":");
        canonical.push_str(&serde_json::to_string(value).ok()?);
    }
    canonical.push('}');
    Some(b64url(&sha256(canonical.as_bytes())))
}

/// base64url without padding.
pub(crate) fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    const RFC7638_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

    #[test]
    fn rfc_vectors() {
        let table = [
            // RFC 7638 §3.1 (the extra members `alg` and `kid` do not count).
            (
                serde_json::json!({"kty": "RSA", "n": RFC7638_N, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"}),
                "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
            ),
            // RFC 9449 §4.2's proof key and the `jkt` of §6.1.
            (
                serde_json::json!({"kty": "EC", "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
                    "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA", "crv": "P-256"}),
                "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
            ),
        ];
        for (jwk, want) in table {
            assert_eq!(jwk_thumbprint(&obj(jwk)).as_deref(), Some(want));
        }
    }

    #[test]
    fn incomplete_or_unknown_keys_have_none() {
        for jwk in [
            serde_json::json!({"kty": "RSA", "n": RFC7638_N}),
            serde_json::json!({"kty": "EC", "crv": "P-256", "x": "a", "y": 1}),
            serde_json::json!({"kty": "oct", "k": "c2VjcmV0"}),
            serde_json::json!({"n": RFC7638_N, "e": "AQAB"}),
        ] {
            assert_eq!(jwk_thumbprint(&obj(jwk)), None);
        }
    }
}

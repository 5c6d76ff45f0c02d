//! The public `WWW-Authenticate` and `Authorization` corpora
//! (`shared/external-corpora/{www-authenticate,authorization}/cases.json`,
//! sources and licences in their `SOURCE.md`), every case through the public
//! parsers.
//!
//! The corpora record what their source test suites assert, browsers'
//! leniency included. Where that disagrees with RFC 9110 (or, for
//! `Authorization`, with the HTTP contract), the exception tables below say
//! what bouncer does instead and why. An exception the corpus no longer
//! needs, or names a case that is not there, fails the test, so the tables
//! cannot go stale.
//!
//! Values are compared as octets. The corpus writes an expected value as the
//! ISO-8859-1 reading of its octets (see `greenbytes/simplebasicrealmutf8`),
//! so an expected string maps back to octets one char per byte.
//!
//! The `basic` / `bearer` decoding expectations of the Authorization cases
//! belong to bouncer-authn's authenticators; here only the `Credentials`
//! parse (`expect`) is checked.

use std::path::PathBuf;

use bouncer_core::challenge::render_list;
use bouncer_core::{AuthorizationError, Challenge, Credentials};
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue};
use serde_json::Value;

/// A case where bouncer follows the RFC (or the contract) rather than the
/// corpus: `ours` is the expectation bouncer meets, in the corpus' own
/// `expect` shape.
struct Exception {
    id: &'static str,
    ours: &'static str,
    why: &'static str,
}

const WWW_AUTHENTICATE_EXCEPTIONS: &[Exception] = &[
    Exception {
        id: "greenbytes/simplebasiclf",
        ours: r#"{"error": "CR LF in a field value"}"#,
        why: "CR and LF are not field content; RFC 9110 §5.5 lets a recipient reject them \
              (or replace them with SP). Undoing obs-fold is the message parser's job \
              (RFC 9112 §5.2), and what it hands on parses: greenbytes/simplebasiclf-unfolded.",
    },
    Exception {
        id: "chromium/NoQuotes",
        ours: r#"{"error": "'@' is not a tchar"}"#,
        why: "auth-param = token BWS \"=\" BWS ( token / quoted-string ) (RFC 9110 §11.2); \
              '@' is a delimiter, so `foobar@baz.com` is neither (Chromium is lenient).",
    },
    Exception {
        id: "chromium/MismatchedQuotes",
        ours: r#"{"error": "unterminated quoted-string"}"#,
        why: "a quoted-string ends with DQUOTE (RFC 9110 §5.6.4); Chromium accepts it unclosed.",
    },
    Exception {
        id: "chromium/MismatchedQuotesNoValue",
        ours: r#"{"error": "unterminated quoted-string"}"#,
        why: "a quoted-string ends with DQUOTE (RFC 9110 §5.6.4); Chromium accepts it unclosed.",
    },
    Exception {
        id: "chromium/MismatchedQuotesSpaces",
        ours: r#"{"error": "unterminated quoted-string"}"#,
        why: "a quoted-string ends with DQUOTE (RFC 9110 §5.6.4); Chromium accepts it unclosed.",
    },
    Exception {
        id: "chromium/MismatchedQuotesMultiple",
        ours: r#"{"error": "unterminated quoted-string"}"#,
        why: "a quoted-string ends with DQUOTE (RFC 9110 §5.6.4); Chromium accepts it unclosed.",
    },
    Exception {
        id: "chromium/NoValue",
        ours: r#"{"challenges": [{"scheme": "Digest", "token68": "qop=", "params": []}]}"#,
        why: "`qop=` is no auth-param (a value must follow '='), but it is a token68: \
              1*( ALPHA / DIGIT / ... ) *\"=\" (RFC 9110 §11.2). The challenge is valid.",
    },
    Exception {
        id: "chromium/Base64",
        ours: r#"{"challenges": [{"scheme": "NTLM", "token68": "SGVsbG8sIFdvcmxkCg===", "params": []}]}"#,
        why: "token68 allows any number of trailing '=' and is opaque (RFC 9110 §11.2): \
              the three received are kept; Chromium strips one.",
    },
];

const AUTHORIZATION_EXCEPTIONS: &[Exception] = &[Exception {
    id: "werkzeug/authorization_ignore_invalid_parameters",
    ours: r#"{"error": "not credentials syntax"}"#,
    why: "credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ] (RFC 9110 §11.6.2): \
          `foo` is a token68, which is not a list, so `, bar=` cannot follow it; `bar=` has no \
          value and `=qux` no name (§11.2). werkzeug drops what it cannot read; a recipient \
          that guesses turns garbage into credentials, so the value is malformed (contract §3).",
}];

fn corpus(relative: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/external-corpora")
        .join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the shared corpus {} ({e}). It is part of this test suite: the \
             `shared` directory must sit beside the checkout (../shared in CI).",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn text<'v>(v: &'v Value, key: &str) -> &'v str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` is not a string in {v}"))
}

fn list<'v>(v: &'v Value, key: &str) -> &'v [Value] {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("`{key}` is not an array in {v}"))
}

/// A string as one byte per char (ISO-8859-1): how the corpora write octets.
fn latin1(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or_else(|_| panic!("{s:?} is not ISO-8859-1")))
        .collect()
}

/// A field line's octets, by the case's `encoding`.
fn field_octets(field: &str, encoding: &str) -> Vec<u8> {
    match encoding {
        "utf8" => field.as_bytes().to_vec(),
        "latin1" => latin1(field),
        other => panic!("unknown encoding {other:?}"),
    }
}

fn exceptions_are_cases(table: &[Exception], cases: &[Value]) {
    for e in table {
        assert!(
            cases.iter().any(|c| text(c, "id") == e.id),
            "exception {:?} names no corpus case",
            e.id
        );
        assert!(!e.why.is_empty());
    }
}

/// Whether `got` meets a corpus-shaped expectation (`{"error": …}` or
/// `{"challenges": […]}`).
fn challenges_meet(
    got: &Result<Vec<Challenge>, String>,
    expect: &Value,
    exact: bool,
) -> Result<(), String> {
    let got = match (got, expect.get("error")) {
        (Err(_), Some(_)) => return Ok(()),
        (Err(e), None) => return Err(format!("refused ({e})")),
        (Ok(got), Some(_)) => return Err(format!("parsed as {:?}", render_list(got))),
        (Ok(got), None) => got,
    };
    let want = list(expect, "challenges");
    if got.len() != want.len() {
        return Err(format!(
            "{} challenges instead of {}: {:?}",
            got.len(),
            want.len(),
            render_list(got)
        ));
    }
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let scheme = text(w, "scheme");
        let scheme_ok = if exact {
            g.scheme() == scheme
        } else {
            g.scheme().eq_ignore_ascii_case(scheme)
        };
        if !scheme_ok {
            return Err(format!(
                "challenge {i}: scheme {:?}, not {scheme:?}",
                g.scheme()
            ));
        }
        if g.token68() != w["token68"].as_str() {
            return Err(format!(
                "challenge {i}: token68 {:?}, not {}",
                g.token68(),
                w["token68"]
            ));
        }
        let mut got_params: Vec<(String, Vec<u8>)> = g
            .params_bytes()
            .map(|(n, v)| (n.to_owned(), v.to_vec()))
            .collect();
        let mut want_params: Vec<(String, Vec<u8>)> = list(w, "params")
            .iter()
            .map(|p| {
                let name = p[0].as_str().unwrap_or_default().to_owned();
                (name, latin1(p[1].as_str().unwrap_or_default()))
            })
            .collect();
        if !exact {
            // Names are case-insensitive; "any" order compares as sets.
            for (n, _) in got_params.iter_mut().chain(want_params.iter_mut()) {
                n.make_ascii_lowercase();
            }
            got_params.sort();
            want_params.sort();
        }
        if got_params != want_params {
            return Err(format!(
                "challenge {i}: params {:?}, not {:?}",
                readable(&got_params),
                readable(&want_params)
            ));
        }
        // The text view is the UTF-8 reading of the same octets.
        for (name, octets) in g.params_bytes() {
            let lossy = String::from_utf8_lossy(octets);
            if g.get(name) != Some(lossy.as_ref()) {
                return Err(format!(
                    "challenge {i}: get({name:?}) is not the octets' text"
                ));
            }
        }
    }
    Ok(())
}

fn readable(params: &[(String, Vec<u8>)]) -> Vec<(&str, String)> {
    params
        .iter()
        .map(|(n, v)| (n.as_str(), v.escape_ascii().to_string()))
        .collect()
}

/// All field lines through `parse_list_bytes`, as one list (RFC 9110 §5.3).
fn parse_fields(fields: &[Vec<u8>]) -> Result<Vec<Challenge>, String> {
    let mut out = Vec::new();
    for f in fields {
        out.extend(Challenge::parse_list_bytes(f).map_err(|e| e.to_string())?);
    }
    Ok(out)
}

/// Runs one case through every public entry point that can take it, and
/// checks they agree and that what parsed survives rendering.
fn parse_www_authenticate(case: &Value) -> Result<Result<Vec<Challenge>, String>, String> {
    let encoding = text(case, "encoding");
    let fields: Vec<Vec<u8>> = list(case, "fields")
        .iter()
        .map(|f| field_octets(f.as_str().unwrap_or_default(), encoding))
        .collect();
    let outcome = parse_fields(&fields);

    // As header lines of a map (not possible with CR / LF in a field).
    let values: Result<Vec<HeaderValue>, _> =
        fields.iter().map(|f| HeaderValue::from_bytes(f)).collect();
    if let Ok(values) = values {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(WWW_AUTHENTICATE, v);
        }
        let via_map = Challenge::parse_headers(&headers).map_err(|e| e.to_string());
        if via_map.as_ref().ok() != outcome.as_ref().ok() {
            return Err(format!("parse_headers disagrees: {via_map:?}"));
        }
    }
    // As `&str`, when the octets are UTF-8.
    if let Ok(strs) = fields
        .iter()
        .map(|f| std::str::from_utf8(f))
        .collect::<Result<Vec<_>, _>>()
    {
        let mut via_str = Ok(Vec::new());
        for s in strs {
            match (&mut via_str, Challenge::parse_list(s)) {
                (Ok(all), Ok(more)) => all.extend(more),
                (Ok(_), Err(e)) => via_str = Err(e.to_string()),
                (Err(_), _) => {}
            }
        }
        if via_str.as_ref().ok() != outcome.as_ref().ok() {
            return Err(format!("parse_list disagrees: {via_str:?}"));
        }
    }
    if let Ok(challenges) = &outcome {
        // Each challenge as its own header line, octets unchanged.
        let mut headers = HeaderMap::new();
        for c in challenges {
            headers.append(WWW_AUTHENTICATE, c.to_header_value());
        }
        let again = Challenge::parse_headers(&headers).map_err(|e| e.to_string())?;
        if &again != challenges {
            return Err(format!(
                "to_header_value -> parse_headers changed it: {again:?}"
            ));
        }
        if challenges.iter().all(|c| {
            c.params_bytes()
                .all(|(_, v)| std::str::from_utf8(v).is_ok())
        }) {
            let line = render_list(challenges);
            if Challenge::parse_list(&line).as_ref() != Ok(challenges) {
                return Err(format!("render_list -> parse_list changed {line:?}"));
            }
        }
    }
    Ok(outcome)
}

#[test]
fn www_authenticate_corpus() {
    let corpus = corpus("www-authenticate/cases.json");
    let cases = list(&corpus, "cases");
    assert!(
        cases.len() >= 68,
        "the corpus shrank: {} cases",
        cases.len()
    );
    exceptions_are_cases(WWW_AUTHENTICATE_EXCEPTIONS, cases);
    let mut failures = Vec::new();
    for case in cases {
        let id = text(case, "id");
        let exact = match text(case, "param_order") {
            "exact" => true,
            "any" => false,
            other => panic!("{id}: unknown param_order {other:?}"),
        };
        let outcome = match parse_www_authenticate(case) {
            Ok(outcome) => outcome,
            Err(e) => {
                failures.push(format!("{id}: {e}"));
                continue;
            }
        };
        let corpus_says = challenges_meet(&outcome, &case["expect"], exact);
        match WWW_AUTHENTICATE_EXCEPTIONS.iter().find(|e| e.id == id) {
            None => {
                if let Err(e) = corpus_says {
                    failures.push(format!("{id}: {e}"));
                }
            }
            Some(exception) => {
                let ours: Value = serde_json::from_str(exception.ours).unwrap();
                if let Err(e) = challenges_meet(&outcome, &ours, exact) {
                    failures.push(format!("{id} (exception: {}): {e}", exception.why));
                }
                if corpus_says.is_ok() {
                    failures.push(format!("{id}: the corpus agrees now; drop its exception"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn www_authenticate_render_corpus() {
    let corpus = corpus("www-authenticate/cases.json");
    let cases = list(&corpus, "render_cases");
    assert!(cases.len() >= 3, "the corpus shrank: {} cases", cases.len());
    for case in cases {
        let id = text(case, "id");
        let mut c = Challenge::new(text(case, "scheme")).unwrap();
        for p in list(case, "params") {
            c = c
                .param(p[0].as_str().unwrap(), p[1].as_str().unwrap())
                .unwrap();
        }
        let want = text(case, "expect_text");
        assert_eq!(c.to_string(), want, "{id}");
        assert_eq!(c.to_header_value().as_bytes(), want.as_bytes(), "{id}");
        assert_eq!(Challenge::parse_list(want).unwrap(), vec![c], "{id}");
    }
}

/// The canonical wire form of a corpus `credentials` expectation: every
/// value a quoted-string, one SP, `", "` between parameters.
fn canonical_credentials(scheme: &str, want: &Value) -> Vec<u8> {
    let mut out = scheme.as_bytes().to_vec();
    if let Some(t) = want["token68"].as_str() {
        out.push(b' ');
        out.extend_from_slice(t.as_bytes());
    }
    for (i, p) in list(want, "params").iter().enumerate() {
        out.extend_from_slice(if i == 0 { b" " } else { b", " });
        out.extend_from_slice(p[0].as_str().unwrap().as_bytes());
        out.extend_from_slice(b"=\"");
        for b in latin1(p[1].as_str().unwrap()) {
            if b == b'"' || b == b'\\' {
                out.push(b'\\');
            }
            out.push(b);
        }
        out.push(b'"');
    }
    out
}

fn credentials_meet(got: &Result<Credentials, String>, expect: &Value) -> Result<(), String> {
    let got = match (got, expect.get("error")) {
        (Err(_), Some(_)) => return Ok(()),
        (Err(e), None) => return Err(format!("refused ({e})")),
        (Ok(got), Some(_)) => return Err(format!("parsed as {got:?}")),
        (Ok(got), None) => got,
    };
    let want = &expect["credentials"];
    let scheme = text(want, "scheme");
    if !got.is_scheme(scheme) {
        return Err(format!("scheme {:?}, not {scheme:?}", got.scheme()));
    }
    if got.token68() != want["token68"].as_str() {
        return Err(format!("token68 is not {}", want["token68"]));
    }
    for p in list(want, "params") {
        let name = p[0].as_str().unwrap();
        let value = latin1(p[1].as_str().unwrap());
        if got.param_bytes(name) != Some(value.as_slice()) {
            return Err(format!("param {name:?} is not {:?}", p[1]));
        }
    }
    // Nothing more, in this order: the same as the canonical form.
    let canonical = Credentials::parse_bytes(&canonical_credentials(got.scheme(), want))
        .map_err(|e| format!("the canonical form does not parse: {e}"))?;
    if &canonical != got {
        return Err(format!("{got:?} has more than {canonical:?}"));
    }
    Ok(())
}

/// One field: `parse_bytes`, `parse` and `from_headers` must agree. Several:
/// `from_headers` (the only reader of several lines).
fn parse_authorization(case: &Value) -> Result<Result<Credentials, String>, String> {
    let fields: Vec<&str> = list(case, "fields")
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    let mut headers = HeaderMap::new();
    for f in &fields {
        headers.append(
            AUTHORIZATION,
            HeaderValue::from_str(f).map_err(|e| e.to_string())?,
        );
    }
    let via_map = Credentials::from_headers(&headers);
    let [field] = fields.as_slice() else {
        if via_map != Err(AuthorizationError::Multiple) {
            return Err(format!(
                "{} fields are not refused: {via_map:?}",
                fields.len()
            ));
        }
        return Ok(Err("more than one Authorization field".into()));
    };
    let outcome = Credentials::parse_bytes(field.as_bytes()).map_err(|e| e.to_string());
    let via_str = Credentials::parse(field).map_err(|e| e.to_string());
    if via_str != outcome {
        return Err(format!("parse disagrees: {via_str:?}"));
    }
    let via_map = via_map.map_err(|e| e.to_string()).map(Option::unwrap);
    if via_map != outcome {
        return Err(format!("from_headers disagrees: {via_map:?}"));
    }
    Ok(outcome)
}

#[test]
fn authorization_corpus() {
    let corpus = corpus("authorization/cases.json");
    let cases = list(&corpus, "cases");
    assert!(
        cases.len() >= 57,
        "the corpus shrank: {} cases",
        cases.len()
    );
    exceptions_are_cases(AUTHORIZATION_EXCEPTIONS, cases);
    let mut failures = Vec::new();
    for case in cases {
        let id = text(case, "id");
        let outcome = match parse_authorization(case) {
            Ok(outcome) => outcome,
            Err(e) => {
                failures.push(format!("{id}: {e}"));
                continue;
            }
        };
        let corpus_says = credentials_meet(&outcome, &case["expect"]);
        match AUTHORIZATION_EXCEPTIONS.iter().find(|e| e.id == id) {
            None => {
                if let Err(e) = corpus_says {
                    failures.push(format!("{id}: {e}"));
                }
            }
            Some(exception) => {
                let ours: Value = serde_json::from_str(exception.ours).unwrap();
                if let Err(e) = credentials_meet(&outcome, &ours) {
                    failures.push(format!("{id} (exception: {}): {e}", exception.why));
                }
                if corpus_says.is_ok() {
                    failures.push(format!("{id}: the corpus agrees now; drop its exception"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

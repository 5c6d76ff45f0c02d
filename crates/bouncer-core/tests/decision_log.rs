//! The decision log and metrics (`explain.md` §2–3): one event per
//! decision with the id the body names, closed label sets, sampling.
//!
//! A test binary of its own: tracing caches each callsite's interest
//! process-wide, so other tests emitting the same events on other threads
//! without a subscriber could make this one miss lines.
#![cfg(all(feature = "tracing", feature = "metrics", feature = "json"))]
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bouncer_core::logging::{self, DecisionContext};
use bouncer_core::*;
use http::{Method, Request};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};

/// `Bearer ok.<sub>`: that user; anything else is `invalid_token`.
struct Tokens;

#[async_trait]
impl Authenticator for Tokens {
    fn scheme(&self) -> SchemeName {
        SchemeName::BEARER
    }
    fn recognizes(&self, r: &RequestContext<'_>) -> bool {
        authorization::scheme_of(r.headers()).is_some_and(|s| s.eq_ignore_ascii_case("bearer"))
    }
    async fn authenticate(&self, r: &RequestContext<'_>) -> Result<Option<Identity>, AuthnError> {
        let token = r
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ok."))
            .ok_or(AuthnReason::InvalidToken)?;
        Ok(Some(Identity::user(token, SchemeName::BEARER)))
    }
    fn challenge(&self, _: Option<&ChallengeContext<'_>>) -> Option<Challenge> {
        Challenge::bearer().realm("t").build().ok()
    }
}

/// Allows subjects starting with `a`; refuses the others, naming a rule.
struct Policy;

#[async_trait]
impl Authorizer for Policy {
    async fn authorize(
        &self,
        caller: &Authenticated,
        _: &RequestContext<'_>,
        _: &Requirement,
    ) -> Result<(), AccessError> {
        if caller.subject().starts_with('a') {
            Ok(())
        } else {
            let rule = Arc::new(PolicyRule::new("policy.toml", 7, "role \"viewer\""));
            Err(Forbidden::new(ForbiddenReason::InsufficientPermission)
                .with_rule(rule)
                .into())
        }
    }
}

fn gate() -> Gate {
    Gate::builder()
        .authenticator(Tokens)
        .authorizer(Policy)
        .build()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

async fn decide(gate: &Gate, path: &str, auth: Option<&str>) -> (DecisionId, Verdict) {
    let mut req = Request::get(path);
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let (parts, ()) = req.body(()).unwrap().into_parts();
    let requirement = Requirement::authenticated()
        .permission("documents:read")
        .organization("acme");
    let ctx = RequestContext::from_parts(&parts);
    let verdict = gate.decide(&ctx, &requirement).await;
    let id = DecisionId::new();
    let log = DecisionContext::new(&Method::GET)
        .route(Some("/orgs/{org}/documents"))
        .client(Some("192.0.2.7:5000".parse().unwrap()))
        .requirement(&requirement)
        .elapsed(Duration::from_micros(40));
    logging::decision(&id, &verdict, &log);
    (id, verdict)
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture<T>(f: impl FnOnce() -> T) -> (String, T) {
    let out = Captured::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let value = tracing::subscriber::with_default(subscriber, f);
    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    (text, value)
}

/// One test, so that the global sampling rate and tracing's callsite
/// cache see no other test at the same time.
#[test]
fn the_decision_log_and_metrics() {
    one_event_per_decision_with_the_bodys_id_and_never_the_raw_path_or_token();
    the_problem_body_names_the_decision();
    allows_are_sampled_denials_never();
    labels_come_from_closed_sets_whatever_the_paths_and_subjects();
}

fn one_event_per_decision_with_the_bodys_id_and_never_the_raw_path_or_token() {
    let g = gate();
    let (log, ids) = capture(|| {
        rt().block_on(async {
            vec![
                decide(
                    &g,
                    "/orgs/acme/documents?x=raw-path-1",
                    Some("Bearer ok.alice"),
                )
                .await
                .0,
                decide(
                    &g,
                    "/orgs/acme/documents?x=raw-path-2",
                    Some("Bearer ok.bob"),
                )
                .await
                .0,
                decide(
                    &g,
                    "/orgs/acme/documents?x=raw-path-3",
                    Some("Bearer s3cr3t-t0ken"),
                )
                .await
                .0,
            ]
        })
    });
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("bouncer::decision"))
        .collect();
    assert_eq!(lines.len(), 3, "{log}");
    for (line, id) in lines.iter().zip(&ids) {
        assert!(line.contains(&format!("decision_id={id}")), "{line}");
        assert!(line.contains("route=\"/orgs/{org}/documents\""), "{line}");
        assert!(line.contains("client=192.0.2.7"), "{line}");
        assert!(line.contains("organization=\"acme\""), "{line}");
        assert!(line.contains("permission=\"documents:read\""), "{line}");
    }
    assert!(lines[0].contains("outcome=\"allow\"") && lines[0].contains("code=\"allow\""));
    assert!(lines[0].contains("subject=\"alice\""));
    assert!(
        lines[1].contains("outcome=\"deny\"")
            && lines[1].contains("code=\"insufficient_permission\"")
    );
    assert!(lines[1].contains("stage=\"authorization\"") && lines[1].contains("subject=\"bob\""));
    assert!(lines[1].contains("rule_file=\"policy.toml\"") && lines[1].contains("rule_line=7"));
    assert!(
        lines[2].contains("code=\"invalid_token\"")
            && lines[2].contains("stage=\"authentication\"")
    );
    assert!(!log.contains("raw-path"), "{log}");
    assert!(!log.contains("s3cr3t"), "{log}");
}

fn the_problem_body_names_the_decision() {
    let g = gate();
    let (id, verdict) = rt().block_on(decide(&g, "/x", None));
    let Decision::Deny(d) = verdict.decision() else {
        panic!("allowed")
    };
    let rendered = d.render(&RenderOptions::new().instance(id.urn()));
    let body: serde_json::Value = serde_json::from_slice(rendered.body()).unwrap();
    let instance = body["instance"].as_str().unwrap();
    assert_eq!(DecisionId::from_urn(instance), Some(id));
}

fn labels_come_from_closed_sets_whatever_the_paths_and_subjects() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let g = gate();
    metrics::with_local_recorder(&recorder, || {
        rt().block_on(async {
            for i in 0..10_000 {
                let path = format!("/orgs/acme/documents/{i}");
                let first = if i % 2 == 0 { 'a' } else { 'b' };
                let token = format!("Bearer ok.{first}user{i}");
                let _ = decide(&g, &path, Some(&token)).await;
            }
            let _ = decide(&g, "/y", None).await;
        });
    });
    let snapshot = snapshotter.snapshot().into_vec();
    let mut counters = Vec::new();
    let mut histograms = 0;
    for (key, _, _, value) in &snapshot {
        let key = key.key();
        match value {
            DebugValue::Counter(n) => {
                assert_eq!(key.name(), "bouncer_decisions_total");
                let labels: Vec<String> = key
                    .labels()
                    .map(|l| format!("{}={}", l.key(), l.value()))
                    .collect();
                counters.push((labels.join(","), *n));
            }
            DebugValue::Histogram(_) => {
                assert_eq!(key.name(), "bouncer_decision_duration_seconds");
                histograms += 1;
            }
            DebugValue::Gauge(_) => panic!("no gauges"),
        }
    }
    counters.sort();
    assert_eq!(
        counters,
        vec![
            (
                "outcome=allow,status=200,code=allow,stage=none".to_owned(),
                5000
            ),
            (
                "outcome=deny,status=401,code=missing_credentials,stage=authentication".to_owned(),
                1
            ),
            (
                "outcome=deny,status=403,code=insufficient_permission,stage=authorization"
                    .to_owned(),
                5000
            ),
        ]
    );
    assert_eq!(histograms, 3);
}

fn allows_are_sampled_denials_never() {
    let g = gate();
    logging::set_allow_sample_rate(0.0);
    let (log, ()) = capture(|| {
        rt().block_on(async {
            for _ in 0..20 {
                let _ = decide(&g, "/z", Some("Bearer ok.alice")).await;
            }
            let _ = decide(&g, "/z", Some("Bearer ok.bob")).await;
        })
    });
    logging::set_allow_sample_rate(1.0);
    assert_eq!(
        log.lines()
            .filter(|l| l.contains("bouncer::decision"))
            .count(),
        1,
        "{log}"
    );
    assert!(log.contains("insufficient_permission"));
}

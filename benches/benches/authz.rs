//! Authorization decisions from strings (subject, organization,
//! permission): bouncer's compiled snapshot against casbin (RBAC with
//! domains) and cedar-policy, on the same generated policies.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::io::Write as _;
use std::time::Duration;

use bouncer_authz::Query;
use bouncer_benches::Shape;
use casbin::prelude::*;
use cedar_policy::{Authorizer, Context, Entities, EntityUid, PolicySet, Request};
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};

const CASBIN_MODEL: &str = r#"
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && r.obj == p.obj && r.act == p.act
"#;

fn split(perm: &str) -> (&str, &str) {
    perm.split_once(':').unwrap()
}

/// casbin with one `p` rule per (organization, role, permission) and one
/// `g` rule per membership: the usual RBAC-with-domains setup.
fn casbin(shape: Shape, rt: &tokio::runtime::Runtime) -> Enforcer {
    let dir = std::env::temp_dir().join(format!(
        "bouncer-bench-casbin-{}-{}",
        std::process::id(),
        shape.memberships
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("policy.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for o in 0..shape.organizations {
        for r in 0..shape.roles {
            for p in shape.permissions_of(r) {
                let (obj, act) = split(&p);
                writeln!(f, "p, {}, {}, {obj}, {act}", shape.role(r), shape.org(o)).unwrap();
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    for m in 0..shape.memberships {
        let (u, o, r) = shape.membership(m);
        if seen.insert((u.clone(), o.clone())) {
            writeln!(f, "g, {u}, {r}, {o}").unwrap();
        }
    }
    drop(f);
    rt.block_on(async {
        let model = DefaultModel::from_str(CASBIN_MODEL).await.unwrap();
        Enforcer::new(model, FileAdapter::new(path.to_str().unwrap().to_owned()))
            .await
            .unwrap()
    })
}

/// cedar with one policy per (organization, role, permission); users are
/// members of `Group::"<org>/<role>"`.
fn cedar(shape: Shape) -> (PolicySet, Entities) {
    let mut text = String::new();
    for o in 0..shape.organizations {
        for r in 0..shape.roles {
            for p in shape.permissions_of(r) {
                text.push_str(&format!(
                    "permit(principal in Group::\"{}/{}\", action == Action::\"{p}\", resource == Org::\"{}\");\n",
                    shape.org(o),
                    shape.role(r),
                    shape.org(o)
                ));
            }
        }
    }
    let policies: PolicySet = text.parse().unwrap();
    let mut parents: std::collections::HashMap<String, Vec<serde_json::Value>> = Default::default();
    let mut seen = std::collections::HashSet::new();
    for m in 0..shape.memberships {
        let (u, o, r) = shape.membership(m);
        if seen.insert((u.clone(), o.clone())) {
            parents
                .entry(u)
                .or_default()
                .push(serde_json::json!({"type": "Group", "id": format!("{o}/{r}")}));
        }
    }
    let entities: Vec<serde_json::Value> = parents
        .into_iter()
        .map(|(u, ps)| serde_json::json!({"uid": {"type": "User", "id": u}, "attrs": {}, "parents": ps}))
        .collect();
    (
        policies,
        Entities::from_json_value(serde_json::Value::Array(entities), None).unwrap(),
    )
}

fn uid(t: &str, id: &str) -> EntityUid {
    format!("{t}::\"{id}\"").parse().unwrap()
}

/// One decision from strings, which must allow.
fn allow(snapshot: &bouncer_authz::Snapshot, user: &str, org: &str, perm: &str) {
    let q = Query {
        subject: black_box(user),
        organization: Some(black_box(org)),
        permission: Some(black_box(perm)),
        ..Query::default()
    };
    assert!(snapshot.authorize(&q).is_ok());
}

fn decisions(c: &mut Criterion, name: &str, shape: Shape, peers: bool) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let snapshot = shape.bouncer_snapshot();
    let (user, org, perm) = shape.allowed_query(shape.memberships / 2);
    let mut group = c.benchmark_group(name);
    group.bench_function("bouncer", |b| {
        b.iter(|| {
            allow(&snapshot, &user, &org, &perm);
        })
    });
    if peers {
        let enforcer = casbin(shape, &rt);
        let (obj, act) = split(&perm);
        assert!(
            enforcer
                .enforce((user.as_str(), org.as_str(), obj, act))
                .unwrap(),
            "casbin must allow the same query"
        );
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(3));
        group.bench_function("casbin", |b| {
            b.iter(|| {
                assert!(enforcer
                    .enforce((black_box(user.as_str()), black_box(org.as_str()), obj, act))
                    .unwrap())
            })
        });
        let (policies, entities) = cedar(shape);
        let authorizer = Authorizer::new();
        let request = Request::new(
            uid("User", &user),
            uid("Action", &perm),
            uid("Org", &org),
            Context::empty(),
            None,
        )
        .unwrap();
        assert_eq!(
            authorizer
                .is_authorized(&request, &policies, &entities)
                .decision(),
            cedar_policy::Decision::Allow,
            "cedar must allow the same query"
        );
        group.bench_function("cedar", |b| {
            b.iter(|| {
                black_box(authorizer.is_authorized(black_box(&request), &policies, &entities))
            })
        });
    }
    group.finish();
}

fn tiny(c: &mut Criterion) {
    decisions(c, "authz_tiny", Shape::TINY, true);
}

fn scaled(c: &mut Criterion) {
    decisions(c, "authz_scaled", Shape::SCALED, true);
}

/// Flat from 10 to 1,000,000 memberships.
fn flat(c: &mut Criterion) {
    let mut group = c.benchmark_group("authz_flat");
    for m in [10usize, 10_000, 1_000_000] {
        let shape = Shape::SCALED.with_memberships(m);
        let snapshot = shape.bouncer_snapshot();
        let (user, org, perm) = shape.allowed_query(m / 2);
        group.bench_with_input(BenchmarkId::new("bouncer", m), &m, |b, _| {
            b.iter(|| {
                allow(&snapshot, &user, &org, &perm);
            })
        });
    }
    group.finish();
}

/// Compiling the scaled policy, from data and from the file format.
fn compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("policy_compile");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    for m in [10_000usize, 100_000, 1_000_000] {
        let shape = Shape::SCALED.with_memberships(m);
        let data = shape.bouncer_builder();
        group.bench_with_input(BenchmarkId::new("from_data", m), &m, |b, _| {
            b.iter_batched(
                || data.clone(),
                |d| black_box(d.build().unwrap()),
                BatchSize::LargeInput,
            )
        });
    }
    let text = Shape::SCALED.bouncer_toml();
    group.bench_function("from_file/100000", |b| {
        b.iter(|| black_box(bouncer_authz::policy::compile_str("bench.toml", &text).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, tiny, scaled, flat, compile);
criterion_main!(benches);

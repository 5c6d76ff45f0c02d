//! The authorization comparisons: bouncer at scale (one repeated query and
//! random mixes), and bouncer beside casbin and cedar-policy on the same
//! generated policies, each peer in its typical case next to its best.

use std::hint::black_box;
use std::time::Duration;

use bouncer_authz::{Query, Snapshot};

use crate::measure::Case;
use crate::Shape;

/// Rounds and turn length for a group: peers that take milliseconds per
/// decision get fewer, longer turns.
pub fn timing_for(group: &str) -> (usize, Duration) {
    match group {
        "authz_peers_scaled" => (5, Duration::from_millis(300)),
        "authz_scale" => (15, Duration::from_millis(40)),
        "authz_delta" => (9, Duration::from_millis(40)),
        _ => (21, Duration::from_millis(20)),
    }
}

/// A small deterministic generator (xorshift64*), so that every run asks
/// the same queries.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
    }
}

fn decide(snapshot: &Snapshot, user: &str, org: &str, perm: &str) -> bool {
    let q = Query {
        subject: user,
        organization: Some(org),
        permission: Some(perm),
        ..Query::default()
    };
    snapshot.authorize(&q).is_ok()
}

/// One query asked again and again.
fn repeat<'a>(name: String, snapshot: &'a Snapshot, q: &'a (String, String, String)) -> Case<'a> {
    Case::each(name, move || {
        let ok = decide(snapshot, black_box(&q.0), black_box(&q.1), black_box(&q.2));
        assert!(ok);
    })
}

/// A mix of queries asked in turn.
fn mix<'a>(name: String, snapshot: &'a Snapshot, qs: &'a [(String, String, String)]) -> Case<'a> {
    let mut i = 0usize;
    Case::each(name, move || {
        let q = &qs[i % qs.len()];
        i = i.wrapping_add(1);
        let ok = decide(snapshot, &q.0, &q.1, &q.2);
        assert!(ok);
    })
}

/// bouncer at 10 and at 1,000,000 memberships: one repeated query, and
/// random mixes of 4,096 and 262,144 queries (the first case, the mix of
/// 262,144 at 10 memberships, is the baseline).
pub fn authz_scale(f: &mut dyn FnMut(Vec<Case<'_>>)) {
    let small = Shape::SCALED.with_memberships(10);
    let large = Shape::SCALED.with_memberships(1_000_000);
    let s_small = small.bouncer_snapshot();
    let s_large = large.bouncer_snapshot();
    let q_small = random_queries(small, 262_144, 7);
    let q_large = random_queries(large, 262_144, 7);
    let one_small = small.allowed_query(small.memberships / 2);
    let one_large = large.allowed_query(large.memberships / 2);
    f(vec![
        mix("mix262144_at_10".into(), &s_small, &q_small),
        mix("mix262144_at_1m".into(), &s_large, &q_large),
        mix("mix4096_at_10".into(), &s_small, &q_small[..4096]),
        mix("mix4096_at_1m".into(), &s_large, &q_large[..4096]),
        repeat("repeat_at_10".into(), &s_small, &one_small),
        repeat("repeat_at_1m".into(), &s_large, &one_large),
    ]);
}

/// `n` allowed queries over random memberships of `shape`, each asking for
/// a random permission the membership's role grants. Every membership of
/// the generated shapes is its (user, organization) pair's only one (users
/// = memberships / 3 and 1,000 organizations are coprime), so membership
/// m holds role m % roles.
pub fn random_queries(shape: Shape, n: usize, seed: u64) -> Vec<(String, String, String)> {
    let mut rng = Rng::new(seed);
    let roles_perms: Vec<Vec<String>> = (0..shape.roles)
        .map(|r| shape.permissions_of(r).collect())
        .collect();
    // Small shapes (the tiny one) repeat pairs: the first membership of a
    // pair is the one the policy holds.
    let first: std::collections::HashMap<(String, String), usize> = if shape.memberships <= 1000 {
        let mut f = std::collections::HashMap::new();
        for m in 0..shape.memberships {
            let (u, o, _) = shape.membership(m);
            f.entry((u, o)).or_insert(m % shape.roles);
        }
        f
    } else {
        Default::default()
    };
    (0..n)
        .map(|_| {
            let m = rng.below(shape.memberships);
            let (u, o, _) = shape.membership(m);
            let role = first
                .get(&(u.clone(), o.clone()))
                .copied()
                .unwrap_or(m % shape.roles);
            let perms = &roles_perms[role];
            let p = perms[rng.below(perms.len())].clone();
            (u, o, p)
        })
        .collect()
}

const CASBIN_DOMAINS: &str = r#"
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

/// Roles defined once for every organization ("template" roles), members
/// given a role per organization.
const CASBIN_TEMPLATE: &str = r#"
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.obj == p.obj && r.act == p.act
"#;

fn split(perm: &str) -> (&str, &str) {
    perm.split_once(':').unwrap()
}

fn casbin_file(shape: Shape, template: bool) -> std::path::PathBuf {
    use std::io::Write as _;
    let dir = std::env::temp_dir().join(format!(
        "bouncer-compare-casbin-{}-{}-{template}",
        std::process::id(),
        shape.memberships
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("policy.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    if template {
        for r in 0..shape.roles {
            for p in shape.permissions_of(r) {
                let (obj, act) = split(&p);
                writeln!(f, "p, {}, {obj}, {act}", shape.role(r)).unwrap();
            }
        }
    } else {
        for o in 0..shape.organizations {
            for r in 0..shape.roles {
                for p in shape.permissions_of(r) {
                    let (obj, act) = split(&p);
                    writeln!(f, "p, {}, {}, {obj}, {act}", shape.role(r), shape.org(o)).unwrap();
                }
            }
        }
    }
    for m in 0..shape.memberships {
        let (u, o, r) = shape.membership(m);
        writeln!(f, "g, {u}, {r}, {o}").unwrap();
    }
    path
}

async fn casbin_enforcer(shape: Shape, template: bool) -> casbin::Enforcer {
    use casbin::prelude::*;
    let path = casbin_file(shape, template);
    let model = DefaultModel::from_str(if template {
        CASBIN_TEMPLATE
    } else {
        CASBIN_DOMAINS
    })
    .await
    .unwrap();
    Enforcer::new(model, FileAdapter::new(path.to_str().unwrap().to_owned()))
        .await
        .unwrap()
}

async fn casbin_cached(shape: Shape) -> casbin::CachedEnforcer {
    use casbin::prelude::*;
    let path = casbin_file(shape, true);
    let model = DefaultModel::from_str(CASBIN_TEMPLATE).await.unwrap();
    CachedEnforcer::new(model, FileAdapter::new(path.to_str().unwrap().to_owned()))
        .await
        .unwrap()
}

/// The queries the peers' cases ask: the first rule of the file, one in
/// the middle, the last, and a deny (a user asking in an organization it
/// is not a member of), as (user, org, permission, allowed).
fn positioned(shape: Shape) -> Vec<(&'static str, (String, String, String), bool)> {
    // Which of the role's permissions: 0 first, 1 middle, 2 last.
    let at = |m: usize, which: usize| {
        let (u, o, r) = shape.membership(m);
        let r: usize = r.trim_start_matches("role").parse().unwrap();
        let perms: Vec<String> = shape.permissions_of(r).collect();
        let i = match which {
            0 => 0,
            1 => perms.len() / 2,
            _ => perms.len() - 1,
        };
        (u, o, perms[i].clone())
    };
    // The middle organization, role and permission: the middle of the file
    // for both casbin models (rules by organization then role, or by role).
    let middle = shape.organizations / 2;
    let last = shape.organizations - 1;
    // Membership m is in org m % organizations with role m % roles.
    let with = |org: usize, role: usize| {
        (0..shape.memberships)
            .find(|m| m % shape.organizations == org && m % shape.roles == role)
            .unwrap_or(org.min(shape.memberships - 1))
    };
    // From the middle organization on, one holding the middle role.
    let middle_membership = (0..shape.memberships)
        .find(|m| m % shape.organizations >= middle && m % shape.roles == shape.roles / 2)
        .unwrap_or(with(middle, 0));
    let (u0, _, _) = shape.membership(0);
    vec![
        ("first", at(0, 0), true),
        ("middle", at(middle_membership, 1), true),
        ("last", at(with(last, shape.roles - 1), 2), true),
        (
            "deny",
            (
                u0,
                shape.org(1.min(shape.organizations - 1) + usize::from(shape.organizations == 1)),
                "res0:act0".to_owned(),
            ),
            false,
        ),
    ]
}

/// cedar with one policy per (organization, role, permission), or only
/// those of one organization; users are members of `Group::"<org>/<role>"`.
fn cedar(
    shape: Shape,
    only_org: Option<&str>,
) -> (cedar_policy::PolicySet, cedar_policy::Entities) {
    let mut text = String::new();
    for o in 0..shape.organizations {
        if only_org.is_some_and(|x| x != shape.org(o)) {
            continue;
        }
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
    let policies: cedar_policy::PolicySet = text.parse().unwrap();
    let mut parents: std::collections::HashMap<String, Vec<serde_json::Value>> = Default::default();
    for m in 0..shape.memberships {
        let (u, o, r) = shape.membership(m);
        if only_org.is_some_and(|x| x != o) {
            continue;
        }
        parents
            .entry(u)
            .or_default()
            .push(serde_json::json!({"type": "Group", "id": format!("{o}/{r}")}));
    }
    let entities: Vec<serde_json::Value> = parents
        .into_iter()
        .map(|(u, ps)| serde_json::json!({"uid": {"type": "User", "id": u}, "attrs": {}, "parents": ps}))
        .collect();
    (
        policies,
        cedar_policy::Entities::from_json_value(serde_json::Value::Array(entities), None).unwrap(),
    )
}

fn uid(t: &str, id: &str) -> cedar_policy::EntityUid {
    format!("{t}::\"{id}\"").parse().unwrap()
}

/// bouncer beside casbin (RBAC with domains; template roles, plain and
/// with its caching enforcer) and cedar (all policies; one tenant's
/// slice), each peer on the first, middle and last rule and a deny.
pub fn authz_peers(shape: Shape, f: &mut dyn FnMut(Vec<Case<'_>>)) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let snapshot = shape.bouncer_snapshot();
    let mix_q = random_queries(shape, 4096, 11);
    let one = shape.allowed_query(shape.memberships / 2);
    let domains = rt.block_on(casbin_enforcer(shape, false));
    let template = rt.block_on(casbin_enforcer(shape, true));
    let cached = std::cell::RefCell::new(rt.block_on(casbin_cached(shape)));
    let queries = positioned(shape);
    let (all_p, all_e) = cedar(shape, None);
    let slices: Vec<_> = queries
        .iter()
        .map(|(_, q, _)| cedar(shape, Some(&q.1)))
        .collect();
    let authorizer = cedar_policy::Authorizer::new();
    let requests: Vec<cedar_policy::Request> = queries
        .iter()
        .map(|(_, (u, o, p), _)| {
            cedar_policy::Request::new(
                uid("User", u),
                uid("Action", p),
                uid("Org", o),
                cedar_policy::Context::empty(),
                None,
            )
            .unwrap()
        })
        .collect();
    let mut cases = vec![
        mix("bouncer_mix4096".into(), &snapshot, &mix_q),
        repeat("bouncer_repeat".into(), &snapshot, &one),
    ];
    for (i, (pos, q, allowed)) in queries.iter().enumerate() {
        let want = *allowed;
        assert_eq!(decide(&snapshot, &q.0, &q.1, &q.2), want, "bouncer {pos}");
        let (obj, act) = split(&q.2);
        let (u, o) = (q.0.as_str(), q.1.as_str());
        use casbin::CoreApi as _;
        assert_eq!(
            domains.enforce((u, o, obj, act)).unwrap(),
            want,
            "casbin {pos}"
        );
        assert_eq!(
            template.enforce((u, o, obj, act)).unwrap(),
            want,
            "casbin template {pos}"
        );
        let d = &domains;
        cases.push(Case::each(format!("casbin_domains_{pos}"), move || {
            assert_eq!(
                d.enforce((black_box(u), black_box(o), obj, act)).unwrap(),
                want
            );
        }));
        let t = &template;
        cases.push(Case::each(format!("casbin_template_{pos}"), move || {
            assert_eq!(
                t.enforce((black_box(u), black_box(o), obj, act)).unwrap(),
                want
            );
        }));
        let decision = |a: cedar_policy::Response| a.decision() == cedar_policy::Decision::Allow;
        let (ap, ae, req, az) = (&all_p, &all_e, &requests[i], &authorizer);
        assert_eq!(decision(az.is_authorized(req, ap, ae)), want, "cedar {pos}");
        cases.push(Case::each(format!("cedar_all_{pos}"), move || {
            assert_eq!(decision(az.is_authorized(black_box(req), ap, ae)), want);
        }));
        let (sp, se) = (&slices[i].0, &slices[i].1);
        assert_eq!(
            decision(az.is_authorized(req, sp, se)),
            want,
            "cedar slice {pos}"
        );
        cases.push(Case::each(format!("cedar_slice_{pos}"), move || {
            assert_eq!(decision(az.is_authorized(black_box(req), sp, se)), want);
        }));
    }
    // The caching enforcer: one query repeated (every call a hit), and
    // the mix of 4,096 distinct queries (a miss until each is cached; with
    // more distinct queries than it holds, always).
    let (u, o, p) = (&one.0, &one.1, &one.2);
    let cr = &cached;
    cases.push(Case::each("casbin_cached_repeat", move || {
        use casbin::CoreApi as _;
        let (obj, act) = split(p);
        assert!(cr
            .borrow_mut()
            .enforce_mut((black_box(u.as_str()), o.as_str(), obj, act))
            .unwrap());
    }));
    let mut i = 0usize;
    let mq = &mix_q;
    cases.push(Case::each("casbin_cached_mix4096_fresh", move || {
        use casbin::CoreApi as _;
        let q = &mq[i % mq.len()];
        i = i.wrapping_add(1);
        let (obj, act) = split(&q.2);
        // A fresh query each time: the cache is cleared as it would be
        // by a policy change, so this is the enforcer's miss path.
        let mut e = cr.borrow_mut();
        casbin::CachedApi::<u64, bool>::get_mut_cache(&mut *e).clear();
        assert!(e
            .enforce_mut((q.0.as_str(), q.1.as_str(), obj, act))
            .unwrap());
    }));
    f(cases);
}

/// Changes at 1,000,000 memberships: how long until a new membership, a
/// removed one, or a permission granted to a role is in a snapshot (the
/// first case, a decision, for scale).
pub fn authz_delta(f: &mut dyn FnMut(Vec<Case<'_>>)) {
    let shape = Shape::SCALED.with_memberships(1_000_000);
    let snapshot = shape.bouncer_snapshot();
    let one = shape.allowed_query(shape.memberships / 2);
    // The overlay one change short of the fold: the dearest change there
    // is, and the table the background fold rebuilds from it.
    let mut full = snapshot.clone();
    for i in 0..bouncer_authz::COMPACT_AT - 1 {
        full = full
            .with_membership("org7", &format!("filler{i}"), &["role3"])
            .unwrap();
    }
    let mut n = 0u64;
    let mut m = 0u64;
    f(vec![
        repeat("decision".into(), &snapshot, &one),
        Case::each("add_membership_full_overlay", || {
            m += 1;
            let user = format!("newcomer{}", m % 1024);
            black_box(full.with_membership("org7", &user, &["role3"]).unwrap());
        }),
        Case::each("fold", || {
            black_box(full.compacted());
        }),
        Case::each("add_membership", || {
            n += 1;
            let user = format!("newcomer{}", n % 1024);
            black_box(snapshot.with_membership("org7", &user, &["role3"]).unwrap());
        }),
        Case::each("remove_membership", || {
            black_box(snapshot.without_membership(&one.1, &one.0));
        }),
        Case::each("grant_role_permission", || {
            black_box(snapshot.with_role_permission("role2", "res9:act9").unwrap());
        }),
        Case::each("revoke_role_permission", || {
            black_box(
                snapshot
                    .without_role_permission("role2", "res0:act0")
                    .unwrap(),
            );
        }),
    ]);
}

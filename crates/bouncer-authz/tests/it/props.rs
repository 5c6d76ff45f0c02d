//! Property tests against a naive reference evaluator on random policies.

use std::collections::{BTreeMap, BTreeSet};

use bouncer_authz::{Query, Snapshot, SnapshotBuilder};
use bouncer_core::{AccountState, ForbiddenReason};
use proptest::prelude::*;

const PERMS: [&str; 6] = [
    "doc:read",
    "doc:write",
    "doc:delete",
    "member:manage",
    "admin:access",
    "bill:read",
];
const ROLES: [&str; 5] = ["r0", "r1", "r2", "r3", "r4"];
const ORGS: [&str; 3] = ["o0", "o1", "o2"];
const USERS: [&str; 5] = ["u0", "u1", "u2", "u3", "u4"];

#[derive(Debug, Clone)]
struct Spec {
    /// role index → (parents with a lower index, permissions)
    roles: Vec<(Vec<usize>, Vec<usize>)>,
    /// global role permissions
    global: Vec<usize>,
    /// (user, org) → roles
    members: BTreeMap<(usize, usize), Vec<usize>>,
    /// users holding the global role
    admins: BTreeSet<usize>,
}

fn spec() -> impl Strategy<Value = Spec> {
    let roles = (0..ROLES.len())
        .map(|i| {
            (
                proptest::collection::btree_set(0..i.max(1), 0..=i.min(2))
                    .prop_map(move |s| s.into_iter().filter(|p| *p < i).collect::<Vec<_>>()),
                proptest::collection::vec(0..PERMS.len(), 0..3),
            )
        })
        .collect::<Vec<_>>();
    (
        roles,
        proptest::collection::vec(0..PERMS.len(), 0..3),
        proptest::collection::btree_map(
            (0..USERS.len(), 0..ORGS.len()),
            proptest::collection::vec(0..ROLES.len(), 0..3),
            0..10,
        ),
        proptest::collection::btree_set(0..USERS.len(), 0..3),
    )
        .prop_map(|(roles, global, members, admins)| Spec {
            roles,
            global,
            members,
            admins,
        })
}

fn build(s: &Spec) -> Snapshot {
    let mut b = SnapshotBuilder::new().permissions(&PERMS);
    for (i, (parents, perms)) in s.roles.iter().enumerate() {
        let parents: Vec<&str> = parents.iter().map(|p| ROLES[*p]).collect();
        let perms: Vec<&str> = perms.iter().map(|p| PERMS[*p]).collect();
        b = b.role(ROLES[i], &parents, &perms);
    }
    let global: Vec<&str> = s.global.iter().map(|p| PERMS[*p]).collect();
    b = b.global_role("admin", &[], &global);
    for ((u, o), roles) in &s.members {
        let roles: Vec<&str> = roles.iter().map(|r| ROLES[*r]).collect();
        b = b.member(ORGS[*o], USERS[*u], &roles);
    }
    for u in &s.admins {
        b = b.principal(USERS[*u], AccountState::Active, &["admin"]);
    }
    b.build().unwrap()
}

/// The permissions of a role and everything it inherits, by plain recursion.
fn closure(s: &Spec, role: usize) -> BTreeSet<usize> {
    let (parents, perms) = &s.roles[role];
    let mut out: BTreeSet<usize> = perms.iter().copied().collect();
    for p in parents {
        out.extend(closure(s, *p));
    }
    out
}

#[derive(Debug, Clone)]
struct Ask {
    user: usize,
    org: Option<usize>,
    bound: Option<usize>,
    perm: usize,
    elevated: bool,
    scopes: Option<Vec<usize>>,
}

fn ask() -> impl Strategy<Value = Ask> {
    (
        0..USERS.len(),
        proptest::option::of(0..ORGS.len()),
        proptest::option::weighted(0.2, 0..ORGS.len()),
        0..PERMS.len(),
        proptest::bool::weighted(0.2),
        proptest::option::weighted(0.3, proptest::collection::vec(0..PERMS.len(), 0..4)),
    )
        .prop_map(|(user, org, bound, perm, elevated, scopes)| Ask {
            user,
            org,
            bound,
            perm,
            elevated,
            scopes,
        })
}

/// The contract's stage-4 order, written naively.
fn naive(s: &Spec, a: &Ask) -> Result<(), ForbiddenReason> {
    let membership = match a.org {
        Some(o) => {
            if a.bound.is_some_and(|b| b != o) {
                return Err(ForbiddenReason::TenantMismatch);
            }
            match s.members.get(&(a.user, o)) {
                Some(roles) => Some(
                    roles
                        .iter()
                        .flat_map(|r| closure(s, *r))
                        .collect::<BTreeSet<_>>(),
                ),
                None => return Err(ForbiddenReason::TenantMismatch),
            }
        }
        None => None,
    };
    let global: BTreeSet<usize> = if s.admins.contains(&a.user) {
        s.global.iter().copied().collect()
    } else {
        BTreeSet::new()
    };
    if a.elevated && !global.contains(&a.perm) {
        return Err(ForbiddenReason::ElevationRequired);
    }
    if !(global.contains(&a.perm) || membership.is_some_and(|m| m.contains(&a.perm))) {
        return Err(ForbiddenReason::InsufficientPermission);
    }
    if let Some(scopes) = &a.scopes {
        if !scopes.contains(&a.perm) {
            return Err(ForbiddenReason::InsufficientScope);
        }
    }
    Ok(())
}

fn decide(snap: &Snapshot, a: &Ask) -> Result<(), ForbiddenReason> {
    let scopes: Option<Vec<String>> = a
        .scopes
        .as_ref()
        .map(|v| v.iter().map(|p| PERMS[*p].to_owned()).collect());
    let q = Query {
        subject: USERS[a.user],
        organization: a.org.map(|o| ORGS[o]),
        bound_organization: a.bound.map(|o| ORGS[o]),
        permission: Some(PERMS[a.perm]),
        elevated: a.elevated,
        scopes: scopes.as_deref(),
    };
    snap.authorize(&q).map(|_| ()).map_err(|f| f.reason())
}

proptest! {
    #[test]
    fn snapshot_agrees_with_the_naive_evaluator(s in spec(), asks in proptest::collection::vec(ask(), 1..40)) {
        let snap = build(&s);
        for a in &asks {
            prop_assert_eq!(decide(&snap, a), naive(&s, a), "{:?}", a);
        }
    }

    #[test]
    fn role_hierarchy_is_transitive(s in spec()) {
        let snap = build(&s);
        for ((u, o), roles) in &s.members {
            for r in roles {
                // Everything reachable through inheritance is granted.
                for p in closure(&s, *r) {
                    let a = Ask { user: *u, org: Some(*o), bound: None, perm: p, elevated: false, scopes: None };
                    prop_assert!(decide(&snap, &a).is_ok());
                }
            }
        }
    }

    #[test]
    fn adding_a_role_or_permission_never_turns_allow_into_deny(
        s in spec(), a in ask(), extra_role in 0..ROLES.len(), extra_perm in 0..PERMS.len(), target in 0..ROLES.len(),
    ) {
        let before = decide(&build(&s), &a).is_ok();
        let mut more = s.clone();
        if let Some(o) = a.org {
            more.members.entry((a.user, o)).or_default().push(extra_role);
        }
        more.roles[target].1.push(extra_perm);
        let after = decide(&build(&more), &a).is_ok();
        prop_assert!(!before || after);
    }

    #[test]
    fn no_one_outside_an_organization_is_allowed_in_it(s in spec(), a in ask()) {
        if let Some(o) = a.org {
            if !s.members.contains_key(&(a.user, o)) {
                prop_assert_eq!(decide(&build(&s), &a), Err(ForbiddenReason::TenantMismatch));
            }
        }
    }
}

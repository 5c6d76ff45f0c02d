//! Property tests against a naive reference evaluator on random policies.

use std::collections::{BTreeMap, BTreeSet};

use bouncer_authz::{Query, Snapshot, SnapshotBuilder, TokenRoleTrust};
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
    decide_with(snap, a, &[], TokenRoleTrust::NONE)
}

fn decide_with(
    snap: &Snapshot,
    a: &Ask,
    token_roles: &[String],
    trust: TokenRoleTrust,
) -> Result<(), ForbiddenReason> {
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
    snap.authorize_with_token_roles(&q, token_roles, trust)
        .map(|_| ())
        .map_err(|f| f.reason())
}

/// Role names a token may carry: organization roles, the global role, and
/// names the policy does not define.
fn token_roles() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(
        prop_oneof![
            (0..ROLES.len()).prop_map(|r| ROLES[r].to_owned()),
            Just("admin".to_owned()),
            Just("offline_access".to_owned()),
        ],
        0..4,
    )
}

fn trust() -> impl Strategy<Value = TokenRoleTrust> {
    prop_oneof![
        Just(TokenRoleTrust::NONE),
        Just(TokenRoleTrust::GLOBAL),
        Just(TokenRoleTrust::ORGANIZATION),
        Just(TokenRoleTrust::GLOBAL.and(TokenRoleTrust::ORGANIZATION)),
    ]
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

    #[test]
    fn trusting_token_roles_never_turns_allow_into_deny(
        s in spec(), a in ask(), roles in token_roles(), trust in trust(),
    ) {
        let snap = build(&s);
        let before = decide(&snap, &a).is_ok();
        prop_assert!(!before || decide_with(&snap, &a, &roles, trust).is_ok());
        // Untrusted, token roles change nothing.
        prop_assert_eq!(decide_with(&snap, &a, &roles, TokenRoleTrust::NONE), decide(&snap, &a));
    }

    #[test]
    fn a_trusted_organization_role_acts_as_a_membership_in_the_token_organization_only(
        s in spec(), a in ask(), roles in proptest::collection::vec(0..ROLES.len(), 1..3),
    ) {
        let names: Vec<String> = roles.iter().map(|r| ROLES[*r].to_owned()).collect();
        let snap = build(&s);
        let got = decide_with(&snap, &a, &names, TokenRoleTrust::ORGANIZATION);
        match (a.org, a.bound) {
            (Some(o), Some(b)) if o == b && !s.members.contains_key(&(a.user, o)) => {
                // The same as a policy membership with those roles.
                let mut more = s.clone();
                more.members.insert((a.user, o), roles.clone());
                prop_assert_eq!(got, naive(&more, &a), "{:?}", a);
            }
            (Some(_), Some(_)) => {}
            // No binding, or none needed: the token's roles are held nowhere.
            _ => prop_assert_eq!(got, decide(&snap, &a)),
        }
    }

    #[test]
    fn a_trusted_global_role_acts_as_the_policy_global_role(s in spec(), a in ask()) {
        let snap = build(&s);
        let got = decide_with(&snap, &a, &["admin".to_owned()], TokenRoleTrust::GLOBAL);
        let mut more = s.clone();
        more.admins.insert(a.user);
        prop_assert_eq!(got, naive(&more, &a), "{:?}", a);
    }
}

/// One change to a policy, applied as a delta and to the spec.
#[derive(Debug, Clone)]
enum Change {
    Set(usize, usize, Vec<usize>),
    Remove(usize, usize),
    Grant(usize, usize),
    Revoke(usize, usize),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        (
            0..USERS.len(),
            0..ORGS.len(),
            proptest::collection::vec(0..ROLES.len(), 0..3)
        )
            .prop_map(|(u, o, r)| Change::Set(u, o, r)),
        (0..USERS.len(), 0..ORGS.len()).prop_map(|(u, o)| Change::Remove(u, o)),
        (0..ROLES.len(), 0..PERMS.len()).prop_map(|(r, p)| Change::Grant(r, p)),
        (0..ROLES.len(), 0..PERMS.len()).prop_map(|(r, p)| Change::Revoke(r, p)),
    ]
}

fn apply(snap: &Snapshot, spec: &mut Spec, c: &Change) -> Snapshot {
    match c {
        Change::Set(u, o, roles) => {
            spec.members.insert((*u, *o), roles.clone());
            let names: Vec<&str> = roles.iter().map(|r| ROLES[*r]).collect();
            snap.with_membership(ORGS[*o], USERS[*u], &names).unwrap()
        }
        Change::Remove(u, o) => {
            spec.members.remove(&(*u, *o));
            snap.without_membership(ORGS[*o], USERS[*u])
        }
        Change::Grant(r, p) => {
            if !spec.roles[*r].1.contains(p) {
                spec.roles[*r].1.push(*p);
            }
            snap.with_role_permission(ROLES[*r], PERMS[*p]).unwrap()
        }
        Change::Revoke(r, p) => {
            spec.roles[*r].1.retain(|x| x != p);
            snap.without_role_permission(ROLES[*r], PERMS[*p]).unwrap()
        }
    }
}

proptest! {
    /// A snapshot with changes applied decides exactly like one compiled
    /// from the changed policy, before and after compaction.
    #[test]
    fn deltas_agree_with_a_fresh_compile(
        s in spec(),
        changes in proptest::collection::vec(change(), 1..12),
        asks in proptest::collection::vec((ask(), token_roles(), trust()), 1..30),
    ) {
        let mut spec = s;
        let mut snap = build(&spec);
        for c in &changes {
            snap = apply(&snap, &mut spec, c);
        }
        let fresh = build(&spec);
        let compacted = snap.compacted();
        for (a, roles, t) in &asks {
            let want = decide_with(&fresh, a, roles, *t);
            prop_assert_eq!(decide_with(&snap, a, roles, *t), want, "{:?} after {:?}", a, changes);
            prop_assert_eq!(decide_with(&compacted, a, roles, *t), want, "compacted: {:?}", a);
            prop_assert_eq!(decide(&snap, a), naive(&spec, a));
        }
        for u in USERS {
            for o in ORGS {
                prop_assert_eq!(snap.is_member(u, o), fresh.is_member(u, o));
                let mut got = snap.permissions_of(u, Some(o));
                let mut want = fresh.permissions_of(u, Some(o));
                got.sort_unstable();
                want.sort_unstable();
                prop_assert_eq!(got, want);
            }
        }
        prop_assert_eq!(snap.stats().memberships, fresh.stats().memberships);
    }
}

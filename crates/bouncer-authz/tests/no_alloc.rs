//! A decision against a compiled snapshot allocates nothing on the heap.
//! Its own binary without the test harness: the allocator counts every
//! thread, and libtest's own threads allocate while a test runs.
#![allow(missing_docs, clippy::unwrap_used, clippy::panic, clippy::print_stdout)]

use std::alloc::System;

use bouncer_authz::{Query, SnapshotBuilder, TokenRoleTrust};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn main() {
    decisions_do_not_allocate();
    println!("decisions_do_not_allocate ... ok");
    decisions_after_changes_do_not_allocate();
    println!("decisions_after_changes_do_not_allocate ... ok");
}

/// Decisions on a snapshot with changes applied (records in the overlay,
/// classes rebuilt) allocate nothing either.
fn decisions_after_changes_do_not_allocate() {
    let mut b = SnapshotBuilder::new()
        .role("viewer", &[], &["documents:read"])
        .role("editor", &["viewer"], &["documents:write"]);
    for user in 0..100 {
        b = b.member("acme", &format!("user{user}"), &["viewer"]);
    }
    let snapshot = b
        .build()
        .unwrap()
        .with_membership("acme", "newcomer", &["editor"])
        .unwrap()
        .without_membership("acme", "user3")
        .with_role_permission("viewer", "documents:share")
        .unwrap();
    let ask = |subject, permission| Query {
        subject,
        organization: Some("acme"),
        permission: Some(permission),
        ..Query::default()
    };
    let queries = [
        ask("newcomer", "documents:write"),
        ask("newcomer", "documents:share"),
        ask("user4", "documents:share"),
        ask("user3", "documents:read"),
        ask("user4", "documents:write"),
    ];
    let mut allowed = 0;
    let region = Region::new(GLOBAL);
    for _ in 0..1000 {
        for q in &queries {
            if snapshot.authorize(q).is_ok() {
                allowed += 1;
            }
        }
    }
    let stats = region.change();
    assert_eq!(allowed, 3000, "the first three are allowed");
    assert_eq!(stats.allocations, 0, "{stats:?}");
    assert_eq!(stats.reallocations, 0, "{stats:?}");
}

fn decisions_do_not_allocate() {
    let mut b = SnapshotBuilder::new()
        .role("viewer", &[], &["documents:read"])
        .role(
            "editor",
            &["viewer"],
            &["documents:write", "documents:delete"],
        )
        .global_role("admin", &[], &["admin:access"])
        .principal("erin", bouncer_core::AccountState::Active, &["admin"]);
    for org in 0..50 {
        for user in 0..20 {
            b = b.member(
                &format!("org{org}"),
                &format!("user{user}"),
                &[if user % 2 == 0 { "editor" } else { "viewer" }],
            );
        }
    }
    let snapshot = b.build().unwrap();
    let scopes = vec!["documents:read".to_owned()];
    let queries = [
        Query {
            subject: "user4",
            organization: Some("org7"),
            permission: Some("documents:delete"),
            ..Query::default()
        },
        Query {
            subject: "user5",
            organization: Some("org7"),
            permission: Some("documents:delete"),
            ..Query::default()
        },
        Query {
            subject: "nobody",
            organization: Some("org7"),
            permission: Some("documents:read"),
            ..Query::default()
        },
        Query {
            subject: "user4",
            organization: Some("org7"),
            bound_organization: Some("org8"),
            permission: Some("documents:read"),
            ..Query::default()
        },
        Query {
            subject: "erin",
            permission: Some("admin:access"),
            elevated: true,
            ..Query::default()
        },
        Query {
            subject: "user4",
            organization: Some("org7"),
            permission: Some("documents:read"),
            scopes: Some(&scopes),
            ..Query::default()
        },
    ];
    // Roles a token asserts, trusted: the same queries for a caller the
    // policy does not know, bound to org7.
    let token_roles = vec![
        "offline_access".to_owned(),
        "editor".to_owned(),
        "admin".to_owned(),
    ];
    let trust = TokenRoleTrust::GLOBAL.and(TokenRoleTrust::ORGANIZATION);
    let token_queries = [
        Query {
            subject: "kc",
            organization: Some("org7"),
            bound_organization: Some("org7"),
            permission: Some("documents:delete"),
            ..Query::default()
        },
        Query {
            subject: "kc",
            permission: Some("admin:access"),
            elevated: true,
            ..Query::default()
        },
    ];
    let mut allowed = 0;
    let region = Region::new(GLOBAL);
    for _ in 0..1000 {
        for q in &queries {
            if let Ok(grant) = snapshot.authorize(q) {
                allowed += 1;
                let _ = grant.has_role("editor");
            }
        }
        for q in &token_queries {
            if let Ok(grant) = snapshot.authorize_with_token_roles(q, &token_roles, trust) {
                allowed += 1;
                let _ = grant.has_role("editor");
            }
        }
    }
    let stats = region.change();
    assert_eq!(
        allowed, 5000,
        "three of the six queries and both token queries are allowed"
    );
    assert_eq!(stats.allocations, 0, "{stats:?}");
    assert_eq!(stats.reallocations, 0, "{stats:?}");
}

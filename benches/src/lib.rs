//! Shared fixtures: the same generated policies and tokens for bouncer and
//! its peers, so that every ratio compares like with like.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bouncer_authz::{Snapshot, SnapshotBuilder};

pub mod jwt_cases;
pub mod measure;
pub mod peers;
pub mod pipeline;

/// Organizations × roles × permissions, and memberships.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub organizations: usize,
    pub roles: usize,
    pub permissions: usize,
    pub memberships: usize,
}

impl Shape {
    /// The tiny policy.
    pub const TINY: Shape = Shape {
        organizations: 2,
        roles: 3,
        permissions: 4,
        memberships: 6,
    };
    /// 1,000 organizations × 10 roles × 20 permissions, 100,000 memberships.
    pub const SCALED: Shape = Shape {
        organizations: 1000,
        roles: 10,
        permissions: 20,
        memberships: 100_000,
    };

    pub fn with_memberships(self, memberships: usize) -> Shape {
        Shape {
            memberships,
            ..self
        }
    }

    pub fn role(&self, r: usize) -> String {
        format!("role{r}")
    }

    pub fn org(&self, o: usize) -> String {
        format!("org{o}")
    }

    pub fn user(&self, m: usize) -> String {
        format!("user{m}")
    }

    /// Role r grants permissions 0..=r (so higher roles grant more).
    pub fn permissions_of(&self, r: usize) -> impl Iterator<Item = String> + '_ {
        (0..self.permissions)
            .filter(move |p| p % self.roles <= r)
            .map(|p| format!("res{}:act{}", p / 4, p % 4))
    }

    /// Membership m: user m % users, in organization m % orgs, with one role.
    pub fn membership(&self, m: usize) -> (String, String, String) {
        let users = (self.memberships / 3).max(1);
        (
            self.user(m % users),
            self.org(m % self.organizations),
            self.role(m % self.roles),
        )
    }

    /// A query that is allowed: membership m asking for permission 0.
    pub fn allowed_query(&self, m: usize) -> (String, String, String) {
        let (u, o, _) = self.membership(m);
        (u, o, "res0:act0".to_owned())
    }

    pub fn bouncer_snapshot(&self) -> Snapshot {
        self.bouncer_builder().build().unwrap()
    }

    /// The policy as parsed data, ready to compile.
    pub fn bouncer_builder(&self) -> SnapshotBuilder {
        let mut b = SnapshotBuilder::new();
        for r in 0..self.roles {
            let perms: Vec<String> = self.permissions_of(r).collect();
            let perms: Vec<&str> = perms.iter().map(String::as_str).collect();
            b = b.role(&self.role(r), &[], &perms);
        }
        let mut seen = std::collections::HashSet::new();
        for m in 0..self.memberships {
            let (u, o, r) = self.membership(m);
            if seen.insert((u.clone(), o.clone())) {
                b = b.member(&o, &u, &[&r]);
            }
        }
        b
    }

    /// The same policy in bouncer's TOML format.
    pub fn bouncer_toml(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        for r in 0..self.roles {
            let perms: Vec<String> = self.permissions_of(r).map(|p| format!("\"{p}\"")).collect();
            let _ = writeln!(
                out,
                "[roles.{}]\npermissions = [{}]",
                self.role(r),
                perms.join(", ")
            );
        }
        let mut by_org: std::collections::BTreeMap<
            String,
            std::collections::BTreeMap<String, String>,
        > = Default::default();
        for m in 0..self.memberships {
            let (u, o, r) = self.membership(m);
            by_org.entry(o).or_default().entry(u).or_insert(r);
        }
        for (o, members) in by_org {
            let _ = writeln!(out, "[organizations.{o}.members]");
            for (u, r) in members {
                let _ = writeln!(out, "{u} = [\"{r}\"]");
            }
        }
        out
    }
}

/// The gRPC load benchmark's service (`proto/bench.proto`).
#[allow(
    clippy::all,
    clippy::pedantic,
    missing_docs,
    unreachable_pub,
    unused_qualifications
)]
pub mod grpc {
    tonic::include_proto!("bouncer.bench.v1");
}

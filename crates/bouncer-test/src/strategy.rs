//! proptest strategies for identities, memberships in a role template,
//! and access requests — to property-test your own policy:
//! "no viewer can ever delete", "no one outside acme reads acme's
//! documents".
//!
//! ```
//! use bouncer_test::strategy::{access_requests, memberships, RoleTemplate};
//! use proptest::prelude::*;
//!
//! let template = RoleTemplate::new()
//!     .role("viewer", &[], &["documents:read"])
//!     .role("editor", &["viewer"], &["documents:write", "documents:delete"]);
//! let orgs = ["acme", "globex"];
//! let people = ["ann", "ben", "cat"];
//! let perms = ["documents:read", "documents:write", "documents:delete"];
//!
//! proptest!(|(m in memberships(&template, &people, &orgs),
//!             r in access_requests(&people, &orgs, &perms))| {
//!     let snapshot = m.snapshot(&template);
//!     let allowed = snapshot.authorize(&r.query()).is_ok();
//!     // No viewer can ever delete.
//!     if m.roles_of(&r.subject, r.organization.as_deref().unwrap_or("")) == ["viewer"] && r.permission == "documents:delete" {
//!         prop_assert!(!allowed);
//!     }
//!     // No one outside an organization is ever allowed in it.
//!     if let Some(org) = &r.organization {
//!         if m.roles_of(&r.subject, org).is_empty() { prop_assert!(!allowed); }
//!     }
//! });
//! ```

use bouncer_core::{AuthContext, Identity, SchemeName};
use proptest::prelude::*;

/// A subject from a small alphabet (collisions are likely, on purpose).
pub fn subject() -> impl Strategy<Value = String> {
    "[a-e]{1,2}"
}

/// Arbitrary identities: user or service, any scheme, optionally
/// organization-bound, scope-limited and MFA-authenticated.
pub fn identity() -> impl Strategy<Value = Identity> {
    (
        subject(),
        any::<bool>(),
        prop_oneof![
            Just(SchemeName::BEARER),
            Just(SchemeName::BASIC),
            Just(SchemeName::API_KEY),
            Just(SchemeName::SESSION)
        ],
        proptest::option::of("[a-c]"),
        proptest::option::of(proptest::collection::vec("[a-c]:[rw]", 0..3)),
        any::<bool>(),
    )
        .prop_map(|(sub, service, scheme, org, scopes, mfa)| {
            let mut id = if service {
                Identity::service(sub, scheme)
            } else {
                Identity::user(sub, scheme)
            };
            if let Some(o) = org {
                id = id.with_organization(o);
            }
            if let Some(s) = scopes {
                id = id.with_scopes(s);
            }
            if mfa {
                id = id.with_auth_context(AuthContext::new().with_amr(["pwd", "mfa"]));
            }
            id
        })
}

/// An access request: who, where, what, with which token scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRequest {
    /// The caller.
    pub subject: String,
    /// The organization acted in.
    pub organization: Option<String>,
    /// The organization the credential is bound to.
    pub bound_organization: Option<String>,
    /// The permission needed.
    pub permission: String,
    /// Token scopes (`None`: not scope-limited).
    pub scopes: Option<Vec<String>>,
}

/// One of `names`, or `None` (always `None` when `names` is empty, so
/// global-only policies work too).
fn maybe_one_of(names: Vec<String>, some: f64) -> BoxedStrategy<Option<String>> {
    if names.is_empty() {
        Just(None).boxed()
    } else {
        proptest::option::weighted(some, proptest::sample::select(names)).boxed()
    }
}

/// One of `names`, or `fallback` when there are none.
fn one_of(names: Vec<String>, fallback: &str) -> BoxedStrategy<String> {
    if names.is_empty() {
        Just(fallback.to_owned()).boxed()
    } else {
        proptest::sample::select(names).boxed()
    }
}

/// Random access requests over the given names. Any list may be empty:
/// with no organizations every request is global, with no subjects or
/// permissions a name no policy defines stands in (and is refused).
pub fn access_requests(
    subjects: &[&str],
    organizations: &[&str],
    permissions: &[&str],
) -> impl Strategy<Value = AccessRequest> {
    let subjects: Vec<String> = subjects.iter().map(|s| (*s).to_owned()).collect();
    let orgs: Vec<String> = organizations.iter().map(|s| (*s).to_owned()).collect();
    let perms: Vec<String> = permissions.iter().map(|s| (*s).to_owned()).collect();
    (
        one_of(subjects, "nobody"),
        maybe_one_of(orgs.clone(), 0.9),
        maybe_one_of(orgs, 0.2),
        one_of(perms.clone(), "no:permission"),
        proptest::option::weighted(
            0.3,
            proptest::sample::subsequence(perms.clone(), 0..=perms.len()),
        ),
    )
        .prop_map(
            |(subject, organization, bound_organization, permission, scopes)| AccessRequest {
                subject,
                organization,
                bound_organization,
                permission,
                scopes,
            },
        )
}

#[cfg(feature = "authz")]
pub use with_authz::*;

#[cfg(feature = "authz")]
mod with_authz {
    use super::*;
    use bouncer_authz::{Query, Snapshot, SnapshotBuilder};
    use std::collections::BTreeMap;

    impl AccessRequest {
        /// The query for a [`Snapshot`].
        pub fn query(&self) -> Query<'_> {
            Query {
                subject: &self.subject,
                organization: self.organization.as_deref(),
                bound_organization: self.bound_organization.as_deref(),
                permission: Some(&self.permission),
                elevated: false,
                scopes: self.scopes.as_deref(),
            }
        }
    }

    /// The names a real policy uses — its principals, organizations and
    /// permissions — plus one stranger of each (a subject, an organization
    /// and a permission the policy does not know), to draw access requests
    /// from your own policy file. Global-only policies work too.
    ///
    /// ```
    /// use bouncer_authz::Policy;
    /// use bouncer_test::strategy::PolicyNames;
    /// use proptest::prelude::*;
    ///
    /// let policy = Policy::from_toml("p.toml", r#"
    /// [roles.viewer]
    /// permissions = ["documents:read"]
    /// [organizations.acme.members]
    /// ann = ["viewer"]
    /// "#)?;
    /// let snapshot = policy.snapshot();
    /// let names = PolicyNames::of(&snapshot);
    /// proptest!(|(r in names.access_requests())| {
    ///     // Nobody outside acme is ever allowed in it.
    ///     if r.subject != "ann" {
    ///         prop_assert!(snapshot.authorize(&r.query()).is_err());
    ///     }
    /// });
    /// # Ok::<(), bouncer_authz::PolicyError>(())
    /// ```
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct PolicyNames {
        /// Principals, and a stranger.
        pub subjects: Vec<String>,
        /// Organizations, and one the policy does not define.
        pub organizations: Vec<String>,
        /// Permissions, and one no role grants.
        pub permissions: Vec<String>,
    }

    impl PolicyNames {
        /// The names of `snapshot` (from `Policy::snapshot()`).
        pub fn of(snapshot: &Snapshot) -> Self {
            let own = |v: Vec<&str>, stranger: &str| {
                let mut v: Vec<String> = v.into_iter().map(str::to_owned).collect();
                v.push(stranger.to_owned());
                v
            };
            Self {
                subjects: own(snapshot.principal_names(), "stranger-not-in-the-policy"),
                organizations: own(snapshot.organization_names(), "org-not-in-the-policy"),
                permissions: own(snapshot.permission_names(), "permission:not-in-the-policy"),
            }
        }

        /// Random access requests over these names.
        pub fn access_requests(&self) -> impl Strategy<Value = AccessRequest> {
            let s: Vec<&str> = self.subjects.iter().map(String::as_str).collect();
            let o: Vec<&str> = self.organizations.iter().map(String::as_str).collect();
            let p: Vec<&str> = self.permissions.iter().map(String::as_str).collect();
            access_requests(&s, &o, &p)
        }
    }

    /// An organization role template (Logto-style): the roles every
    /// organization shares.
    #[derive(Debug, Clone, Default)]
    pub struct RoleTemplate {
        roles: Vec<(String, Vec<String>, Vec<String>)>,
    }

    impl RoleTemplate {
        /// An empty template.
        pub fn new() -> Self {
            Self::default()
        }

        /// Adds a role.
        pub fn role(mut self, name: &str, inherits: &[&str], permissions: &[&str]) -> Self {
            let own = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect();
            self.roles
                .push((name.to_owned(), own(inherits), own(permissions)));
            self
        }

        fn names(&self) -> Vec<String> {
            self.roles.iter().map(|(n, _, _)| n.clone()).collect()
        }
    }

    /// Random memberships: which template roles each subject holds in each
    /// organization.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct Memberships {
        roles: BTreeMap<(String, String), Vec<String>>,
    }

    impl Memberships {
        /// The roles `subject` holds in `organization` (empty: not a member).
        pub fn roles_of(&self, subject: &str, organization: &str) -> &[String] {
            self.roles
                .get(&(subject.to_owned(), organization.to_owned()))
                .map_or(&[], Vec::as_slice)
        }

        /// The compiled snapshot of these memberships under `template`.
        ///
        /// # Panics
        ///
        /// If the template itself does not compile (a test bug).
        #[allow(clippy::panic)]
        pub fn snapshot(&self, template: &RoleTemplate) -> Snapshot {
            let mut b = SnapshotBuilder::new();
            for (name, inherits, perms) in &template.roles {
                let inherits: Vec<&str> = inherits.iter().map(String::as_str).collect();
                let perms: Vec<&str> = perms.iter().map(String::as_str).collect();
                b = b.role(name, &inherits, &perms);
            }
            for ((subject, org), roles) in &self.roles {
                let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
                b = b.member(org, subject, &roles);
            }
            match b.build() {
                Ok(s) => s,
                Err(e) => panic!("the role template does not compile: {e}"),
            }
        }
    }

    /// Random memberships of `subjects` in `organizations`, each with one
    /// or two roles of `template` (or none).
    pub fn memberships(
        template: &RoleTemplate,
        subjects: &[&str],
        organizations: &[&str],
    ) -> impl Strategy<Value = Memberships> {
        let names = template.names();
        let pairs: Vec<(String, String)> = subjects
            .iter()
            .flat_map(|s| {
                organizations
                    .iter()
                    .map(move |o| ((*s).to_owned(), (*o).to_owned()))
            })
            .collect();
        // A template without roles makes no memberships (no panic).
        let per_pair = if names.is_empty() {
            Just(None).boxed()
        } else {
            proptest::option::weighted(
                0.6,
                proptest::sample::subsequence(names.clone(), 1..=names.len().min(2)),
            )
            .boxed()
        };
        proptest::collection::vec(per_pair, pairs.len()).prop_map(move |choices| Memberships {
            roles: pairs
                .iter()
                .cloned()
                .zip(choices)
                .filter_map(|(k, v)| v.map(|v| (k, v)))
                .collect(),
        })
    }
}

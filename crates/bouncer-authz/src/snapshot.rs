//! The compiled policy: interned names, permission and role bitsets per
//! membership class, a flat principal table, and a decision that costs a
//! few lookups and bit tests — no allocation, no lock, O(1) in the number
//! of users, organizations and roles, and one cache line it may not have
//! at a million memberships (see `flat`).

use std::sync::Arc;

use bouncer_core::{AccountState, Forbidden, ForbiddenReason};
use rustc_hash::FxHashMap;

use crate::bits::SetId;
use crate::classes::{Class, Classes, RoleGraph};
use crate::flat::{People, Person};

/// An immutable, compiled policy. Build it from a policy file with
/// [`Policy`](crate::Policy) or from data with [`SnapshotBuilder`](crate::policy::SnapshotBuilder).
#[derive(Debug, Clone)]
pub struct Snapshot {
    // Shared with the snapshots changes make from this one (a change
    // copies them only to add a name).
    pub(crate) permissions: Arc<FxHashMap<Arc<str>, u32>>,
    pub(crate) permission_names: Arc<Vec<Arc<str>>>,
    pub(crate) org_roles: FxHashMap<Arc<str>, u32>,
    pub(crate) global_roles: FxHashMap<Arc<str>, u32>,
    pub(crate) organizations: Arc<FxHashMap<Arc<str>, u32>>,
    /// Every principal's record: state, global class, memberships.
    pub(crate) people: Arc<People>,
    /// Records of the principals changed since the compile (see
    /// [`Snapshot::with_membership`]); looked at first.
    pub(crate) overlay: Overlay,
    /// Changes applied since the compile. Each overlay record carries the
    /// count it was written at, so a fold of an earlier snapshot keeps
    /// the records written after it.
    pub(crate) changes: u64,
    /// Per class (distinct roles and grants of a membership, or a
    /// principal's global permissions): its sets. Class 0 is empty.
    pub(crate) classes: Arc<Classes>,
    /// Organization roles as defined, to recompute closures.
    pub(crate) role_graph: Arc<RoleGraph>,
    pub(crate) global_closures: Arc<Vec<Vec<u64>>>,
    /// The account states records name by index (0 is active).
    pub(crate) states: Vec<AccountState>,
    /// How many memberships there are.
    pub(crate) memberships: usize,
    /// Whether the policy declared its permissions (no others then).
    pub(crate) declared_permissions: bool,
}

/// Principals changed by deltas: name → (the change count it was written
/// at, the record as `flat` encodes it). Persistent: a change copies one
/// path of the trie, not the map.
pub(crate) type Overlay = rpds::HashTrieMapSync<Box<str>, (u64, Box<[u8]>), FxBuild>;

/// Fx hashing, as the name maps use (`BuildHasherDefault` for its `Debug`).
type FxBuild = std::hash::BuildHasherDefault<rustc_hash::FxHasher>;

/// An overlay with nothing in it.
pub(crate) fn empty_overlay() -> Overlay {
    Overlay::new_with_hasher_and_ptr_kind(FxBuild::default())
}

/// What a request asks of the policy.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<'a> {
    /// The caller's subject.
    pub subject: &'a str,
    /// The organization acted in, if any.
    pub organization: Option<&'a str>,
    /// The organization the caller's credential is bound to, if any.
    pub bound_organization: Option<&'a str>,
    /// The permission needed, if any.
    pub permission: Option<&'a str>,
    /// Whether the permission must come from a global role.
    pub elevated: bool,
    /// The credential's scopes (`None` when not scope-limited).
    pub scopes: Option<&'a [String]>,
}

/// Where the policy believes the roles a credential asserts (Keycloak's
/// `realm_access.roles`, mapped into [`Identity::roles`]). Off by default:
/// the policy is the authority, and a token's roles count for nothing.
///
/// A token role counts only when it names a role the policy defines; other
/// names (an identity provider's own defaults such as `offline_access`) are
/// ignored, never an error.
///
/// - [`GLOBAL`](Self::GLOBAL): a token role naming one of the policy's
///   `[global_roles]` is held as that global role: its permissions hold in
///   every organization, and it satisfies elevation (`elevation_required`)
///   like a global role given in the policy. Trust it only from an issuer
///   whose realm roles you would write into `[principals]` yourself.
/// - [`ORGANIZATION`](Self::ORGANIZATION): a token role naming one of the
///   policy's organization `[roles]` is held in the token's own
///   organization (its `organization_id`, or Logto's organization
///   audience) and nowhere else; a token bound to no organization gets
///   nothing from it. Holding such a role makes the caller a member of
///   that organization even if the policy does not list it there (the
///   identity provider manages the memberships), and the role counts for
///   access lists as if held there. Organization roles never satisfy
///   elevation.
///
/// Both add to what the policy grants; neither takes anything away, and a
/// token's `scope` still narrows the result.
///
/// [`Identity::roles`]: bouncer_core::Identity::roles
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TokenRoleTrust {
    global: bool,
    organization: bool,
}

impl TokenRoleTrust {
    /// Token roles count nowhere (the default).
    pub const NONE: Self = Self {
        global: false,
        organization: false,
    };
    /// Token roles naming global roles are held as global roles.
    pub const GLOBAL: Self = Self {
        global: true,
        organization: false,
    };
    /// Token roles naming organization roles are held in the token's own
    /// organization.
    pub const ORGANIZATION: Self = Self {
        global: false,
        organization: true,
    };

    /// Both kinds of trust: `TokenRoleTrust::GLOBAL.and(TokenRoleTrust::ORGANIZATION)`.
    #[must_use]
    pub const fn and(self, other: Self) -> Self {
        Self {
            global: self.global || other.global,
            organization: self.organization || other.organization,
        }
    }

    /// Whether token roles may be global roles.
    pub const fn is_global(self) -> bool {
        self.global
    }

    /// Whether token roles may be organization roles in the token's
    /// organization.
    pub const fn is_organization(self) -> bool {
        self.organization
    }
}

/// A granted query: what the caller holds in the organization, for the
/// access-list checks that follow.
#[derive(Debug, Clone, Copy)]
pub struct Grant<'s> {
    snapshot: &'s Snapshot,
    membership: Option<Class>,
    /// Token roles held in the query's organization (empty unless trusted
    /// there).
    token_org_roles: &'s [String],
}

impl Grant<'_> {
    /// Whether the caller holds organization role `role` (directly) in the
    /// organization of the query: from the policy, or from a token role
    /// trusted there ([`TokenRoleTrust::ORGANIZATION`]).
    pub fn has_role(&self, role: &str) -> bool {
        let Some(r) = self.snapshot.org_roles.get(role) else {
            return false;
        };
        let from_policy = self.membership.is_some_and(|m| {
            self.snapshot
                .classes
                .role_sets
                .contains(m.roles, *r as usize)
        });
        from_policy || self.token_org_roles.iter().any(|t| t == role)
    }
}

impl Snapshot {
    /// Decides stage 4 up to the resource checks, in contract order:
    /// tenant, elevation, permission from roles, token scope.
    pub fn authorize(&self, q: &Query<'_>) -> Result<Grant<'_>, Forbidden> {
        self.authorize_with_token_roles(q, &[], TokenRoleTrust::NONE)
    }

    /// As [`authorize`](Self::authorize), also believing the roles the
    /// credential asserts (`token_roles`, e.g. [`Identity::roles`]) where
    /// `trust` says. With [`TokenRoleTrust::NONE`] it is `authorize`.
    ///
    /// [`Identity::roles`]: bouncer_core::Identity::roles
    pub fn authorize_with_token_roles<'s>(
        &'s self,
        q: &Query<'_>,
        token_roles: &'s [String],
        trust: TokenRoleTrust,
    ) -> Result<Grant<'s>, Forbidden> {
        let principal = self.person(q.subject);
        // Token roles held in the organization acted in: only when it is
        // the token's own organization.
        let token_org_roles: &[String] = match (q.organization, q.bound_organization) {
            (Some(org), Some(bound)) if trust.organization && org == bound => token_roles,
            _ => &[],
        };
        let token_global_roles: &[String] = if trust.global { token_roles } else { &[] };

        // Tenant: the token's binding, then membership.
        let membership = match q.organization {
            Some(org) => {
                if q.bound_organization.is_some_and(|bound| bound != org) {
                    return Err(Forbidden::new(ForbiddenReason::TenantMismatch));
                }
                let m = principal
                    .zip(self.organizations.get(org).copied())
                    .and_then(|(p, o)| p.membership(o))
                    .and_then(|c| self.classes.list.get(c as usize).copied());
                let via_token = token_org_roles
                    .iter()
                    .any(|r| self.org_roles.contains_key(r.as_str()));
                if m.is_none() && !via_token {
                    return Err(Forbidden::new(ForbiddenReason::TenantMismatch));
                }
                m
            }
            None => None,
        };
        let grant = Grant {
            snapshot: self,
            membership,
            token_org_roles,
        };

        let Some(permission) = q.permission else {
            let elevated = principal.is_some_and(|p| self.has_any_global(p))
                || self
                    .token_role_sets(
                        token_global_roles,
                        &self.global_roles,
                        &self.classes.global_role_perms,
                    )
                    .any(|set| self.classes.perm_sets.words(set).iter().any(|w| *w != 0));
            if q.elevated && !elevated {
                return Err(Forbidden::new(ForbiddenReason::ElevationRequired));
            }
            return Ok(grant);
        };
        let perm = self.permissions.get(permission).map(|p| *p as usize);
        let global =
            principal.and_then(|p| self.classes.list.get(p.global() as usize).map(|c| c.perms));
        let in_global = matches!((global, perm), (Some(g), Some(b)) if self.classes.perm_sets.contains(g, b))
            || perm.is_some_and(|b| {
                self.token_role_sets(
                    token_global_roles,
                    &self.global_roles,
                    &self.classes.global_role_perms,
                )
                .any(|set| self.classes.perm_sets.contains(set, b))
            });

        // Elevation: the permission must come from a global role.
        if q.elevated && !in_global {
            return Err(Forbidden::new(ForbiddenReason::ElevationRequired));
        }
        // Permission from roles (organization roles, grants, global roles).
        let in_org = matches!((membership, perm), (Some(m), Some(b)) if self.classes.perm_sets.contains(m.perms, b))
            || perm.is_some_and(|b| {
                self.token_role_sets(
                    token_org_roles,
                    &self.org_roles,
                    &self.classes.org_role_perms,
                )
                .any(|set| self.classes.perm_sets.contains(set, b))
            });
        if !(in_global || in_org) {
            return Err(Forbidden::new(ForbiddenReason::InsufficientPermission));
        }
        // Token scope narrows what the roles grant.
        if let Some(scopes) = q.scopes {
            if !scopes.iter().any(|s| s == permission) {
                return Err(Forbidden::insufficient_scope(permission.to_owned()));
            }
        }
        Ok(grant)
    }

    /// The permission sets of the `names` that are roles in `ids`.
    fn token_role_sets<'a>(
        &'a self,
        names: &'a [String],
        ids: &'a FxHashMap<Arc<str>, u32>,
        sets: &'a [SetId],
    ) -> impl Iterator<Item = SetId> + 'a {
        names
            .iter()
            .filter_map(move |n| ids.get(n.as_str()))
            .filter_map(move |id| sets.get(*id as usize).copied())
    }

    /// Whether the policy defines (declares or uses) `permission`.
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.contains_key(permission)
    }

    /// Whether the policy defines the organization role `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.org_roles.contains_key(role)
    }

    /// Whether the policy defines the global role `role`.
    pub fn has_global_role(&self, role: &str) -> bool {
        self.global_roles.contains_key(role)
    }

    /// The principal's record: from the changes applied since the compile,
    /// else from the compiled table.
    pub(crate) fn person(&self, name: &str) -> Option<Person<'_>> {
        if !self.overlay.is_empty() {
            if let Some((_, r)) = self.overlay.get(name) {
                return Some(Person::from_record(r));
            }
        }
        self.people.get(name)
    }

    fn has_any_global(&self, principal: Person<'_>) -> bool {
        self.classes
            .list
            .get(principal.global() as usize)
            .is_some_and(|g| {
                self.classes
                    .perm_sets
                    .words(g.perms)
                    .iter()
                    .any(|w| *w != 0)
            })
    }

    /// The account state of `subject`; unknown subjects are active (an
    /// identity provider may know users the policy does not; they simply
    /// hold no roles).
    pub fn account_state(&self, subject: &str) -> AccountState {
        // Through the overlay, as every other lookup of a principal.
        self.person(subject)
            .and_then(|p| self.states.get(p.state() as usize).copied())
            .unwrap_or(AccountState::Active)
    }

    /// Whether `subject` is a member of `organization`.
    pub fn is_member(&self, subject: &str, organization: &str) -> bool {
        match (self.person(subject), self.organizations.get(organization)) {
            (Some(p), Some(o)) => p.membership(*o).is_some(),
            _ => false,
        }
    }

    /// The permissions `subject` holds in `organization` (or globally with
    /// `None`), for display and tests. Allocates.
    pub fn permissions_of(&self, subject: &str, organization: Option<&str>) -> Vec<&str> {
        let Some(p) = self.person(subject) else {
            return Vec::new();
        };
        let m = organization
            .and_then(|o| self.organizations.get(o))
            .and_then(|o| p.membership(*o))
            .and_then(|c| self.classes.list.get(c as usize));
        let g = self.classes.list.get(p.global() as usize).map(|c| &c.perms);
        self.permission_names
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                m.is_some_and(|m| self.classes.perm_sets.contains(m.perms, *i))
                    || g.is_some_and(|g| self.classes.perm_sets.contains(*g, *i))
            })
            .map(|(_, n)| &**n)
            .collect()
    }

    /// Every permission the policy names, sorted (for tools and property
    /// tests over a real policy).
    pub fn permission_names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.permission_names.iter().map(|p| &**p).collect();
        v.sort_unstable();
        v
    }

    /// Every organization the policy names, sorted.
    pub fn organization_names(&self) -> Vec<&str> {
        sorted_keys(&self.organizations)
    }

    /// Every principal (user or service) the policy names, sorted.
    pub fn principal_names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .people
            .iter()
            .map(|p| p.name())
            .filter(|n| !self.overlay.contains_key(*n))
            .chain(self.overlay.keys().map(|k| &**k))
            .collect();
        v.sort_unstable();
        v
    }

    /// Every organization role the policy defines, sorted.
    pub fn organization_role_names(&self) -> Vec<&str> {
        sorted_keys(&self.org_roles)
    }

    /// Every global role the policy defines, sorted.
    pub fn global_role_names(&self) -> Vec<&str> {
        sorted_keys(&self.global_roles)
    }

    /// Counts, for reports.
    pub fn stats(&self) -> SnapshotStats {
        SnapshotStats {
            permissions: self.permission_names.len(),
            roles: self.org_roles.len(),
            organizations: self.organizations.len(),
            principals: self.people.len()
                + self
                    .overlay
                    .keys()
                    .filter(|k| self.people.get(k).is_none())
                    .count(),
            memberships: self.memberships,
            bitset_bytes: self.classes.perm_sets.heap_bytes() + self.classes.role_sets.heap_bytes(),
            principal_bytes: self.people.heap_bytes(),
        }
    }
}

fn sorted_keys(map: &FxHashMap<Arc<str>, u32>) -> Vec<&str> {
    let mut v: Vec<&str> = map.keys().map(|k| &**k).collect();
    v.sort_unstable();
    v
}

/// Sizes of a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SnapshotStats {
    /// Distinct permissions.
    pub permissions: usize,
    /// Organization roles.
    pub roles: usize,
    /// Organizations.
    pub organizations: usize,
    /// Principals (users and services).
    pub principals: usize,
    /// Memberships.
    pub memberships: usize,
    /// Bytes of permission and role bitsets.
    pub bitset_bytes: usize,
    /// Bytes of the principal table (index and records).
    pub principal_bytes: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SnapshotBuilder;

    fn snapshot() -> Snapshot {
        SnapshotBuilder::new()
            .role("viewer", &[], &["documents:read"])
            .role("editor", &["viewer"], &["documents:write"])
            .global_role("admin", &[], &["admin:access"])
            .member("acme", "alice", &["viewer"])
            .build()
            .unwrap()
    }

    fn reason(r: Result<Grant<'_>, Forbidden>) -> Option<ForbiddenReason> {
        r.err().map(|f| f.reason())
    }

    #[test]
    fn token_roles_are_held_by_their_closure_where_trusted() {
        let s = snapshot();
        let roles = ["editor".to_owned(), "admin".to_owned()];
        let write_in_acme = Query {
            subject: "kc",
            organization: Some("acme"),
            bound_organization: Some("acme"),
            permission: Some("documents:read"),
            ..Query::default()
        };
        // `editor` inherits `documents:read` from `viewer`.
        let g = s.authorize_with_token_roles(&write_in_acme, &roles, TokenRoleTrust::ORGANIZATION);
        assert!(
            g.is_ok_and(|g| g.has_role("editor") && !g.has_role("viewer") && !g.has_role("admin"))
        );
        assert_eq!(
            reason(s.authorize_with_token_roles(&write_in_acme, &roles, TokenRoleTrust::GLOBAL)),
            Some(ForbiddenReason::TenantMismatch)
        );
        let elevated = Query {
            subject: "kc",
            permission: Some("admin:access"),
            elevated: true,
            ..Query::default()
        };
        assert!(s
            .authorize_with_token_roles(&elevated, &roles, TokenRoleTrust::GLOBAL)
            .is_ok());
        assert_eq!(
            reason(s.authorize_with_token_roles(&elevated, &roles, TokenRoleTrust::ORGANIZATION)),
            Some(ForbiddenReason::ElevationRequired)
        );
        let elevated_only = Query {
            permission: None,
            ..elevated
        };
        assert!(s
            .authorize_with_token_roles(&elevated_only, &roles, TokenRoleTrust::GLOBAL)
            .is_ok());
        assert_eq!(
            reason(s.authorize(&elevated_only)),
            Some(ForbiddenReason::ElevationRequired)
        );
    }

    #[test]
    fn names_the_policy_defines() {
        let s = snapshot();
        assert!(s.has_permission("documents:write") && !s.has_permission("documents:wrte"));
        assert!(s.has_role("editor") && !s.has_role("admin"));
        assert!(s.has_global_role("admin") && !s.has_global_role("editor"));
    }
}

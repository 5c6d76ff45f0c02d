//! The compiled policy: interned names, permission and role bitsets, and a
//! decision that costs a few hash lookups and bit tests — no allocation,
//! no lock, O(1) in the number of users, organizations and roles.

use std::sync::Arc;

use bouncer_core::{AccountState, Forbidden, ForbiddenReason};
use rustc_hash::FxHashMap;

use crate::bits::{BitArena, SetId};

/// An immutable, compiled policy. Build it from a policy file with
/// [`Policy`](crate::Policy) or from data with [`SnapshotBuilder`](crate::policy::SnapshotBuilder).
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub(crate) permissions: FxHashMap<Arc<str>, u32>,
    pub(crate) permission_names: Vec<Arc<str>>,
    pub(crate) org_roles: FxHashMap<Arc<str>, u32>,
    pub(crate) organizations: FxHashMap<Arc<str>, u32>,
    pub(crate) principals: FxHashMap<Arc<str>, u32>,
    /// (principal, organization) → membership.
    pub(crate) memberships: FxHashMap<(u32, u32), Membership>,
    /// Per principal: permissions from global roles and global grants.
    pub(crate) global_perms: Vec<SetId>,
    /// Per principal: account state.
    pub(crate) states: Vec<AccountState>,
    pub(crate) perm_sets: BitArena,
    pub(crate) role_sets: BitArena,
}

/// A principal's membership in one organization.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Membership {
    /// Effective permissions (role closure plus direct grants).
    pub(crate) perms: SetId,
    /// The organization roles held (not their closure).
    pub(crate) roles: SetId,
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

/// A granted query: what the caller holds in the organization, for the
/// access-list checks that follow.
#[derive(Debug, Clone, Copy)]
pub struct Grant<'s> {
    snapshot: &'s Snapshot,
    membership: Option<Membership>,
}

impl Grant<'_> {
    /// Whether the caller holds organization role `role` (directly) in the
    /// organization of the query.
    pub fn has_role(&self, role: &str) -> bool {
        match (self.membership, self.snapshot.org_roles.get(role)) {
            (Some(m), Some(r)) => self.snapshot.role_sets.contains(m.roles, *r as usize),
            _ => false,
        }
    }
}

impl Snapshot {
    /// Decides stage 4 up to the resource checks, in contract order:
    /// tenant, elevation, permission from roles, token scope.
    pub fn authorize(&self, q: &Query<'_>) -> Result<Grant<'_>, Forbidden> {
        let principal = self.principals.get(q.subject).copied();

        // Tenant: the token's binding, then membership.
        let membership = match q.organization {
            Some(org) => {
                if q.bound_organization.is_some_and(|bound| bound != org) {
                    return Err(Forbidden::new(ForbiddenReason::TenantMismatch));
                }
                let m = principal
                    .zip(self.organizations.get(org).copied())
                    .and_then(|key| self.memberships.get(&key).copied());
                match m {
                    Some(m) => Some(m),
                    None => return Err(Forbidden::new(ForbiddenReason::TenantMismatch)),
                }
            }
            None => None,
        };

        let Some(permission) = q.permission else {
            if q.elevated && !principal.is_some_and(|p| self.has_any_global(p)) {
                return Err(Forbidden::new(ForbiddenReason::ElevationRequired));
            }
            return Ok(Grant {
                snapshot: self,
                membership,
            });
        };
        let perm = self.permissions.get(permission).map(|p| *p as usize);
        let global = principal.and_then(|p| self.global_perms.get(p as usize).copied());
        let in_global =
            matches!((global, perm), (Some(g), Some(b)) if self.perm_sets.contains(g, b));

        // Elevation: the permission must come from a global role.
        if q.elevated && !in_global {
            return Err(Forbidden::new(ForbiddenReason::ElevationRequired));
        }
        // Permission from roles (organization roles, grants, global roles).
        let in_org =
            matches!((membership, perm), (Some(m), Some(b)) if self.perm_sets.contains(m.perms, b));
        if !(in_global || in_org) {
            return Err(Forbidden::new(ForbiddenReason::InsufficientPermission));
        }
        // Token scope narrows what the roles grant.
        if let Some(scopes) = q.scopes {
            if !scopes.iter().any(|s| s == permission) {
                return Err(Forbidden::insufficient_scope(permission.to_owned()));
            }
        }
        Ok(Grant {
            snapshot: self,
            membership,
        })
    }

    fn has_any_global(&self, principal: u32) -> bool {
        self.global_perms
            .get(principal as usize)
            .is_some_and(|g| self.perm_sets.words(*g).iter().any(|w| *w != 0))
    }

    /// The account state of `subject`; unknown subjects are active (an
    /// identity provider may know users the policy does not; they simply
    /// hold no roles).
    pub fn account_state(&self, subject: &str) -> AccountState {
        self.principals
            .get(subject)
            .and_then(|p| self.states.get(*p as usize).copied())
            .unwrap_or(AccountState::Active)
    }

    /// Whether `subject` is a member of `organization`.
    pub fn is_member(&self, subject: &str, organization: &str) -> bool {
        match (
            self.principals.get(subject),
            self.organizations.get(organization),
        ) {
            (Some(p), Some(o)) => self.memberships.contains_key(&(*p, *o)),
            _ => false,
        }
    }

    /// The permissions `subject` holds in `organization` (or globally with
    /// `None`), for display and tests. Allocates.
    pub fn permissions_of(&self, subject: &str, organization: Option<&str>) -> Vec<&str> {
        let Some(p) = self.principals.get(subject).copied() else {
            return Vec::new();
        };
        let m = organization
            .and_then(|o| self.organizations.get(o))
            .and_then(|o| self.memberships.get(&(p, *o)));
        let g = self.global_perms.get(p as usize);
        self.permission_names
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                m.is_some_and(|m| self.perm_sets.contains(m.perms, *i))
                    || g.is_some_and(|g| self.perm_sets.contains(*g, *i))
            })
            .map(|(_, n)| &**n)
            .collect()
    }

    /// Counts, for reports.
    pub fn stats(&self) -> SnapshotStats {
        SnapshotStats {
            permissions: self.permission_names.len(),
            roles: self.org_roles.len(),
            organizations: self.organizations.len(),
            principals: self.principals.len(),
            memberships: self.memberships.len(),
            bitset_bytes: self.perm_sets.heap_bytes() + self.role_sets.heap_bytes(),
        }
    }
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
}

//! Changes to a compiled snapshot without compiling it again: a membership
//! added, replaced or removed, a permission granted to or revoked from an
//! organization role. Each makes a new [`Snapshot`] that shares the big
//! parts with the old one (`Arc`): the principal table is never copied —
//! a changed principal's record goes into a small overlay looked at first
//! — and a role change recomputes only the membership classes (one set per
//! distinct combination of roles and grants, a handful even at a million
//! memberships). Decisions on either snapshot stay lock-free and
//! allocation-free; the policy swaps the new one in atomically.
//!
//! The overlay is a persistent map: a change copies one path of it, not
//! the map. Lookups grow slower as it grows, so [`Policy`](crate::Policy)
//! folds it back into the table once it holds [`COMPACT_AT`] principals —
//! on a thread of its own, from the snapshot of that moment; changes made
//! meanwhile carry on in the overlay and are kept when the folded table is
//! swapped in. No change waits for a fold.

use std::sync::Arc;

use crate::error::PolicyErrorKind;
use crate::flat::{encode, People, PersonData};
use crate::policy::valid_permission;
use crate::snapshot::{empty_overlay, Snapshot};

/// Principals in the overlay at which [`Policy`](crate::Policy) folds it
/// into the table (in the background).
pub const COMPACT_AT: usize = 4096;

impl Snapshot {
    /// The record of `principal` as data, whether or not it exists.
    fn person_data(&self, principal: &str) -> PersonData {
        self.person(principal).map_or_else(
            || PersonData {
                name: principal.to_owned(),
                state: 0,
                global: 0,
                memberships: Vec::new(),
            },
            |p| p.to_data(),
        )
    }

    /// This snapshot with `principal`'s record replaced.
    fn with_person(&self, p: &PersonData, membership_delta: isize) -> Snapshot {
        let mut record = Vec::new();
        encode(p, &mut record);
        let mut next = self.clone();
        next.changes = self.changes.saturating_add(1);
        next.overlay.insert_mut(
            p.name.clone().into_boxed_str(),
            (next.changes, record.into_boxed_slice()),
        );
        next.memberships = self.memberships.saturating_add_signed(membership_delta);
        next
    }

    /// With `principal` a member of `organization` holding exactly `roles`
    /// there (added, or replacing the roles held; direct grants stay).
    /// An unknown role is an error, as in the policy file.
    pub fn with_membership(
        &self,
        organization: &str,
        principal: &str,
        roles: &[&str],
    ) -> Result<Snapshot, PolicyErrorKind> {
        let mut role_ids = Vec::with_capacity(roles.len());
        for r in roles {
            let id = self
                .org_roles
                .get(*r)
                .ok_or_else(|| PolicyErrorKind::UnknownRole((*r).to_owned()))?;
            role_ids.push(*id as usize);
        }
        let mut next = self.clone();
        let org = match self.organizations.get(organization) {
            Some(o) => *o,
            None => {
                let id = u32::try_from(self.organizations.len()).unwrap_or(u32::MAX);
                Arc::make_mut(&mut next.organizations).insert(Arc::from(organization), id);
                id
            }
        };
        let mut person = self.person_data(principal);
        let at = person.memberships.binary_search_by_key(&org, |m| m.0);
        let old_class = at
            .ok()
            .and_then(|i| person.memberships.get(i))
            .map_or(0, |m| m.1);
        let class = next.class_with_roles(old_class, &role_ids);
        let added = match at {
            Ok(i) => {
                if let Some(m) = person.memberships.get_mut(i) {
                    m.1 = class;
                }
                0
            }
            Err(i) => {
                person.memberships.insert(i, (org, class));
                1
            }
        };
        Ok(next.with_person(&person, added))
    }

    /// Without `principal`'s membership of `organization` (unchanged when
    /// there is none). Direct grants there, if any, keep a membership
    /// without roles, as the policy file's `[grants]` would.
    pub fn without_membership(&self, organization: &str, principal: &str) -> Snapshot {
        let (Some(org), Some(_)) = (self.organizations.get(organization), self.person(principal))
        else {
            return self.clone();
        };
        let mut person = self.person_data(principal);
        let Ok(i) = person.memberships.binary_search_by_key(org, |m| m.0) else {
            return self.clone();
        };
        let class = person.memberships.get(i).map_or(0, |m| m.1);
        let mut next = self.clone();
        let without_roles = next.class_with_roles(class, &[]);
        let removed = if next.class_has_direct(without_roles) {
            if let Some(m) = person.memberships.get_mut(i) {
                m.1 = without_roles;
            }
            0
        } else {
            person.memberships.remove(i);
            -1
        };
        next.with_person(&person, removed)
    }

    /// With `permission` granted to the organization role `role` (and so to
    /// every role inheriting it).
    pub fn with_role_permission(
        &self,
        role: &str,
        permission: &str,
    ) -> Result<Snapshot, PolicyErrorKind> {
        self.change_role(role, permission, true)
    }

    /// Without `permission` among the organization role `role`'s own
    /// permissions (a permission it inherits stays).
    pub fn without_role_permission(
        &self,
        role: &str,
        permission: &str,
    ) -> Result<Snapshot, PolicyErrorKind> {
        self.change_role(role, permission, false)
    }

    fn change_role(
        &self,
        role: &str,
        permission: &str,
        grant: bool,
    ) -> Result<Snapshot, PolicyErrorKind> {
        let r = *self
            .org_roles
            .get(role)
            .ok_or_else(|| PolicyErrorKind::UnknownRole(role.to_owned()))? as usize;
        let mut next = self.clone();
        let perm = match self.permissions.get(permission) {
            Some(p) => *p,
            None if !grant => return Ok(next),
            None => {
                if !valid_permission(permission) {
                    return Err(PolicyErrorKind::InvalidPermission(permission.to_owned()));
                }
                if self.declared_permissions {
                    return Err(PolicyErrorKind::UnknownPermission(permission.to_owned()));
                }
                let id = u32::try_from(self.permission_names.len()).unwrap_or(u32::MAX);
                let name: Arc<str> = Arc::from(permission);
                Arc::make_mut(&mut next.permission_names).push(name.clone());
                Arc::make_mut(&mut next.permissions).insert(name, id);
                id
            }
        };
        let mut graph = (*self.role_graph).clone();
        if let Some(own) = graph.own.get_mut(r) {
            match (grant, own.contains(&perm)) {
                (true, false) => own.push(perm),
                (false, true) => own.retain(|p| *p != perm),
                _ => return Ok(next),
            }
        }
        let count = next.permission_names.len();
        let words = count.div_ceil(64).max(1);
        let closures = graph.closures(words);
        let globals: Vec<Vec<u64>> = self
            .global_closures
            .iter()
            .map(|g| {
                let mut w = g.clone();
                w.resize(words, 0);
                w
            })
            .collect();
        next.classes = Arc::new(self.classes.rebuilt(count, closures, &globals));
        next.role_graph = Arc::new(graph);
        next.global_closures = Arc::new(globals);
        Ok(next)
    }

    /// The class with `class`'s direct grants and exactly `roles`.
    fn class_with_roles(&mut self, class: u32, roles: &[usize]) -> u32 {
        let mut key = self.classes.key_of(class);
        self.classes.set_roles(&mut key, roles);
        if let Some(c) = self.classes.lookup(&key) {
            return c;
        }
        Arc::make_mut(&mut self.classes).intern(key)
    }

    fn class_has_direct(&self, class: u32) -> bool {
        self.classes.has_direct(class)
    }

    /// The overlay folded into the principal table: what a compile of the
    /// changed policy would hold. O(principals); [`Policy`](crate::Policy)
    /// does it on a thread of its own once the overlay holds
    /// [`COMPACT_AT`] principals.
    pub fn compacted(&self) -> Snapshot {
        if self.overlay.is_empty() {
            return self.clone();
        }
        self.with_folded(self.changes, Arc::new(self.folded_people()))
    }

    /// The principal table with the overlay folded in. O(principals).
    pub(crate) fn folded_people(&self) -> People {
        let base = self
            .people
            .iter()
            .filter(|p| !self.overlay.contains_key(p.name()))
            .map(|p| p.to_data());
        let changed = self
            .overlay
            .values()
            .map(|(_, r)| crate::flat::Person::from_record(r).to_data());
        let all: Vec<PersonData> = base.chain(changed).collect();
        People::build(all.into_iter())
    }

    /// This snapshot on `people`, a table folded from an earlier snapshot
    /// of the same lineage (its change count `folded_at`): the overlay
    /// keeps only the records written after that one.
    pub(crate) fn with_folded(&self, folded_at: u64, people: Arc<People>) -> Snapshot {
        let mut next = self.clone();
        next.people = people;
        let mut overlay = empty_overlay();
        for (name, entry) in self.overlay.iter() {
            if entry.0 > folded_at {
                overlay.insert_mut(name.clone(), entry.clone());
            }
        }
        next.overlay = overlay;
        next
    }

    /// How many principals changed since the last compile or compaction.
    pub fn pending_changes(&self) -> usize {
        self.overlay.size()
    }
}

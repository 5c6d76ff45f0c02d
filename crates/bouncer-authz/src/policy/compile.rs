//! The compiler: a [`Document`] or data given in code, through one
//! [`SnapshotBuilder`], into a [`Snapshot`].
//!
//! The compile streams: the document is moved into the builder piece by
//! piece, so the parsed tree is freed while the snapshot is built.

use std::collections::HashMap;
use std::sync::Arc;

use bouncer_core::AccountState;
use rustc_hash::FxHashMap;
use toml::Spanned;

use super::document::Document;
use crate::classes::{Classes, RoleGraph};
use crate::error::{Located, PolicyErrorKind, Span};
use crate::flat::{People, PersonData};
use crate::snapshot::Snapshot;

fn spanned(v: Vec<Spanned<String>>) -> Vec<(String, Option<Span>)> {
    v.into_iter()
        .map(|s| {
            let span = s.span();
            (s.into_inner(), Some(span))
        })
        .collect()
}

/// Moves the document into the builder piece by piece, so the parsed tree
/// is freed while the snapshot is built (large policies peak lower).
pub(super) fn compile_doc(doc: Document) -> Result<Snapshot, Located> {
    let Document {
        permissions,
        roles,
        global_roles,
        organizations,
        principals,
        ..
    } = doc;
    let mut b = SnapshotBuilder::new();
    if let Some(perms) = permissions {
        b.declared = Some(spanned(perms));
    }
    for (name, role) in roles {
        let span = name.span();
        b.push_role(
            false,
            name.get_ref(),
            Some(span),
            spanned(role.inherits),
            spanned(role.permissions),
        );
    }
    for (name, role) in global_roles {
        let span = name.span();
        b.push_role(
            true,
            name.get_ref(),
            Some(span),
            spanned(role.inherits),
            spanned(role.permissions),
        );
    }
    for (org, o) in organizations {
        let org = org.into_inner();
        b.organizations.push(org.clone());
        for (member, roles) in o.members {
            let span = member.span();
            b.members.push(MemberDef {
                organization: org.clone(),
                principal: member.into_inner(),
                roles: spanned(roles),
                span: Some(span),
            });
        }
        for (principal, perms) in o.grants {
            b.grants.push(GrantDef {
                organization: Some(org.clone()),
                principal: principal.into_inner(),
                permissions: spanned(perms),
            });
        }
    }
    for (name, p) in principals {
        let state = match &p.state {
            None => AccountState::Active,
            Some(s) => parse_state(s.get_ref()).ok_or_else(|| {
                (
                    PolicyErrorKind::BadState(s.get_ref().clone()),
                    Some(s.span()),
                )
            })?,
        };
        let name = name.into_inner();
        if !p.permissions.is_empty() {
            b.grants.push(GrantDef {
                organization: None,
                principal: name.clone(),
                permissions: spanned(p.permissions),
            });
        }
        b.principals.push(PrincipalDef {
            name,
            state,
            global_roles: spanned(p.global_roles),
        });
    }
    b.build_located()
}

fn parse_state(s: &str) -> Option<AccountState> {
    match s {
        "active" => Some(AccountState::Active),
        "suspended" => Some(AccountState::Suspended),
        "disabled" => Some(AccountState::Disabled),
        _ => None,
    }
}

/// A permission must be `resource:action`: both parts non-empty, no
/// whitespace.
pub(crate) fn valid_permission(p: &str) -> bool {
    match p.split_once(':') {
        Some((r, a)) => !r.is_empty() && !a.is_empty() && !p.chars().any(char::is_whitespace),
        None => false,
    }
}

#[derive(Debug, Clone)]
struct RoleDef {
    name: String,
    span: Option<Span>,
    inherits: Vec<(String, Option<Span>)>,
    permissions: Vec<(String, Option<Span>)>,
}

#[derive(Debug, Clone)]
struct MemberDef {
    organization: String,
    principal: String,
    roles: Vec<(String, Option<Span>)>,
    span: Option<Span>,
}

#[derive(Debug, Clone)]
struct GrantDef {
    organization: Option<String>,
    principal: String,
    permissions: Vec<(String, Option<Span>)>,
}

#[derive(Debug, Clone)]
struct PrincipalDef {
    name: String,
    state: AccountState,
    global_roles: Vec<(String, Option<Span>)>,
}

/// Builds a [`Snapshot`] from data (the policy file goes through it too).
/// Use it to generate policies in tests and benchmarks.
///
/// ```
/// use bouncer_authz::policy::SnapshotBuilder;
/// use bouncer_authz::Query;
///
/// let snapshot = SnapshotBuilder::new()
///     .role("viewer", &[], &["documents:read"])
///     .role("editor", &["viewer"], &["documents:write"])
///     .member("acme", "alice", &["editor"])
///     .build()?;
/// let q = Query { subject: "alice", organization: Some("acme"), permission: Some("documents:read"), ..Query::default() };
/// assert!(snapshot.authorize(&q).is_ok());
/// # Ok::<(), bouncer_authz::policy::PolicyErrorKind>(())
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct SnapshotBuilder {
    declared: Option<Vec<(String, Option<Span>)>>,
    roles: Vec<RoleDef>,
    global_roles: Vec<RoleDef>,
    organizations: Vec<String>,
    members: Vec<MemberDef>,
    grants: Vec<GrantDef>,
    principals: Vec<PrincipalDef>,
}

fn owned(v: &[&str]) -> Vec<(String, Option<Span>)> {
    v.iter().map(|s| ((*s).to_owned(), None)).collect()
}

impl SnapshotBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    fn push_role(
        &mut self,
        global: bool,
        name: &str,
        span: Option<Span>,
        inherits: Vec<(String, Option<Span>)>,
        permissions: Vec<(String, Option<Span>)>,
    ) {
        let def = RoleDef {
            name: name.to_owned(),
            span,
            inherits,
            permissions,
        };
        if global {
            self.global_roles.push(def);
        } else {
            self.roles.push(def);
        }
    }

    /// Declares the permission vocabulary (optional).
    pub fn permissions(mut self, permissions: &[&str]) -> Self {
        self.declared = Some(owned(permissions));
        self
    }

    /// An organization role.
    pub fn role(mut self, name: &str, inherits: &[&str], permissions: &[&str]) -> Self {
        self.push_role(false, name, None, owned(inherits), owned(permissions));
        self
    }

    /// A global role.
    pub fn global_role(mut self, name: &str, inherits: &[&str], permissions: &[&str]) -> Self {
        self.push_role(true, name, None, owned(inherits), owned(permissions));
        self
    }

    /// An organization (also created by its first member).
    pub fn organization(mut self, name: &str) -> Self {
        self.organizations.push(name.to_owned());
        self
    }

    /// A membership with organization roles.
    pub fn member(mut self, organization: &str, principal: &str, roles: &[&str]) -> Self {
        self.members.push(MemberDef {
            organization: organization.to_owned(),
            principal: principal.to_owned(),
            roles: owned(roles),
            span: None,
        });
        self
    }

    /// Direct permissions in an organization (or globally with `None`).
    pub fn grant(
        mut self,
        organization: Option<&str>,
        principal: &str,
        permissions: &[&str],
    ) -> Self {
        self.grants.push(GrantDef {
            organization: organization.map(str::to_owned),
            principal: principal.to_owned(),
            permissions: owned(permissions),
        });
        self
    }

    /// A principal's account state and global roles.
    pub fn principal(mut self, name: &str, state: AccountState, global_roles: &[&str]) -> Self {
        self.principals.push(PrincipalDef {
            name: name.to_owned(),
            state,
            global_roles: owned(global_roles),
        });
        self
    }

    /// Compiles the snapshot.
    pub fn build(self) -> Result<Snapshot, PolicyErrorKind> {
        self.build_located().map_err(|(k, _)| k)
    }

    fn build_located(self) -> Result<Snapshot, Located> {
        // 1. Permissions: intern every name, checking form and declaration.
        let mut perms = PermissionInterner::default();
        if let Some(declared) = &self.declared {
            for (p, span) in declared {
                perms.intern(p, span, true)?;
            }
            perms.closed = true;
        }
        let org_role_perms = perms.intern_roles(&self.roles)?;
        let global_role_perms = perms.intern_roles(&self.global_roles)?;
        let mut grant_perms = Vec::with_capacity(self.grants.len());
        for g in &self.grants {
            grant_perms.push(perms.intern_all(&g.permissions)?);
        }
        let PermissionInterner {
            map: permissions,
            names: permission_names,
            ..
        } = perms;
        let perm_count = permission_names.len();

        // 2. Roles: ids, then the transitive closure of `inherits`.
        let org_role_ids = role_ids(&self.roles)?;
        let org_closure = closures(
            &self.roles,
            &org_role_ids,
            &org_role_perms,
            perm_count,
            false,
        )?;
        let org_parents: Vec<Vec<usize>> = self
            .roles
            .iter()
            .map(|r| {
                r.inherits
                    .iter()
                    .filter_map(|(n, _)| org_role_ids.get(n.as_str()).copied())
                    .collect()
            })
            .collect();
        let global_role_ids = role_ids(&self.global_roles)?;
        let global_closure = closures(
            &self.global_roles,
            &global_role_ids,
            &global_role_perms,
            perm_count,
            true,
        )?;

        let mut classes = Classes::new(perm_count, org_closure.clone(), &global_closure);

        // 3. Principals and organizations.
        let mut people = PrincipalIds::default();
        let mut organizations: FxHashMap<Arc<str>, u32> = FxHashMap::default();
        let mut org_id = |name: &str| -> u32 {
            if let Some(id) = organizations.get(name) {
                return *id;
            }
            let next = u32::try_from(organizations.len()).unwrap_or(u32::MAX);
            organizations.insert(Arc::from(name), next);
            next
        };
        for o in &self.organizations {
            org_id(o);
        }

        // 4. Global roles and states.
        let mut principal_globals: Vec<(u32, AccountState, Vec<usize>)> = Vec::new();
        for p in &self.principals {
            let id = people.id(&p.name);
            let mut roles = Vec::new();
            for (r, span) in &p.global_roles {
                let rid = *global_role_ids
                    .get(r.as_str())
                    .ok_or_else(|| (PolicyErrorKind::UnknownGlobalRole(r.clone()), span.clone()))?;
                roles.push(rid);
            }
            principal_globals.push((id, p.state, roles));
        }

        // 5. Memberships (each a class: its roles and their closure), then
        // direct grants, then global roles. Memberships are sorted by
        // (principal, organization, position) to find duplicates and to lay
        // out each principal's record.
        let mut memberships: Vec<(u32, u32, u32, u32)> = Vec::with_capacity(self.members.len());
        for (i, m) in self.members.iter().enumerate() {
            let p = people.id(&m.principal);
            let o = org_id(&m.organization);
            classes.clear_scratch();
            for (r, span) in &m.roles {
                let rid = *org_role_ids
                    .get(r.as_str())
                    .ok_or_else(|| (PolicyErrorKind::UnknownRole(r.clone()), span.clone()))?;
                classes.scratch_role(rid);
            }
            let class = classes.intern_scratch();
            memberships.push((p, o, u32::try_from(i).unwrap_or(u32::MAX), class));
        }
        memberships.sort_unstable();
        // The first member entry that repeats an earlier one is the error.
        let duplicate = memberships
            .windows(2)
            .filter_map(|w| match w {
                [a, b] if (a.0, a.1) == (b.0, b.1) => Some(b.2),
                _ => None,
            })
            .min();
        if let Some(m) = duplicate.and_then(|i| self.members.get(i as usize)) {
            return Err((
                PolicyErrorKind::DuplicateMember {
                    organization: m.organization.clone(),
                    member: m.principal.clone(),
                },
                m.span.clone(),
            ));
        }
        let find = |ms: &[(u32, u32, u32, u32)], p: u32, o: u32| {
            ms.binary_search_by(|m| (m.0, m.1).cmp(&(p, o))).ok()
        };
        // Grants in organizations the principal is not a member of make a
        // membership without roles.
        let mut grant_targets = Vec::with_capacity(self.grants.len());
        for g in &self.grants {
            let p = people.id(&g.principal);
            grant_targets.push((p, g.organization.as_deref().map(&mut org_id)));
        }
        let before = memberships.len();
        for (p, o) in &grant_targets {
            if let Some(o) = o {
                if find(memberships.get(..before).unwrap_or(&[]), *p, *o).is_none() {
                    memberships.push((*p, *o, u32::MAX, 0));
                }
            }
        }
        if memberships.len() > before {
            memberships.sort_unstable();
            memberships.dedup_by_key(|m| (m.0, m.1));
        }
        let mut globals: FxHashMap<u32, Vec<u64>> = FxHashMap::default();
        let words = perm_count.div_ceil(64).max(1);
        for ((p, o), ids) in grant_targets.iter().zip(&grant_perms) {
            match o {
                Some(o) => {
                    if let Some(m) = find(&memberships, *p, *o).and_then(|i| memberships.get_mut(i))
                    {
                        classes.load_scratch(m.3);
                        for id in ids {
                            classes.scratch_perm(*id as usize);
                        }
                        m.3 = classes.intern_scratch();
                    }
                }
                None => {
                    let g = globals.entry(*p).or_insert_with(|| vec![0; words]);
                    for id in ids {
                        if let Some(w) = g.get_mut(*id as usize / 64) {
                            *w |= 1u64 << (id % 64);
                        }
                    }
                }
            }
        }
        let mut states: Vec<AccountState> = vec![AccountState::Active];
        let mut person_state = vec![0u32; people.names.len()];
        for (id, state, roles) in principal_globals {
            let si = match states.iter().position(|s| *s == state) {
                Some(i) => i,
                None => {
                    states.push(state);
                    states.len() - 1
                }
            };
            if let Some(s) = person_state.get_mut(id as usize) {
                *s = u32::try_from(si).unwrap_or(0);
            }
            let g = globals.entry(id).or_insert_with(|| vec![0; words]);
            for rid in roles {
                if let Some(closure) = global_closure.get(rid) {
                    for (a, b) in g.iter_mut().zip(closure) {
                        *a |= *b;
                    }
                }
            }
        }
        let mut global_class = vec![0u32; people.names.len()];
        for (p, words) in &globals {
            classes.clear_scratch();
            classes.scratch_perms(words);
            if let Some(c) = global_class.get_mut(*p as usize) {
                *c = classes.intern_scratch();
            }
        }
        let membership_count = memberships.len();

        // The flat principal table: one record per principal, memberships
        // grouped by principal (they are sorted by it).
        let mut by_principal = memberships.chunk_by(|a, b| a.0 == b.0).peekable();
        let PrincipalIds { names, .. } = people;
        let person_count = names.len();
        let records = names.into_iter().enumerate().map(|(id, name)| {
            let id32 = u32::try_from(id).unwrap_or(u32::MAX);
            let own = match by_principal.peek() {
                Some(chunk) if chunk.first().is_some_and(|m| m.0 == id32) => by_principal.next(),
                _ => None,
            };
            PersonData {
                name: name.to_owned(),
                state: person_state.get(id).copied().unwrap_or(0),
                global: global_class.get(id).copied().unwrap_or(0),
                memberships: own.unwrap_or(&[]).iter().map(|m| (m.1, m.3)).collect(),
            }
        });
        let people = People::build(ExactLen(records, person_count));

        let interned = |ids: HashMap<&str, usize>| -> FxHashMap<Arc<str>, u32> {
            ids.into_iter()
                .map(|(k, v)| (Arc::from(k), u32::try_from(v).unwrap_or(u32::MAX)))
                .collect()
        };
        let org_roles = interned(org_role_ids);
        let global_roles = interned(global_role_ids);
        Ok(Snapshot {
            permissions: Arc::new(permissions),
            permission_names: Arc::new(permission_names),
            org_roles,
            global_roles,
            organizations: Arc::new(organizations),
            people: Arc::new(people),
            overlay: crate::snapshot::empty_overlay(),
            changes: 0,
            classes: Arc::new(classes),
            role_graph: Arc::new(RoleGraph {
                own: org_role_perms,
                parents: org_parents,
            }),
            global_closures: Arc::new(global_closure),
            states,
            memberships: membership_count,
            declared_permissions: self.declared.is_some(),
        })
    }
}

/// An iterator of known length (`People::build` sizes its index first).
struct ExactLen<I>(I, usize);

impl<I: Iterator> Iterator for ExactLen<I> {
    type Item = I::Item;
    fn next(&mut self) -> Option<I::Item> {
        let v = self.0.next();
        if v.is_some() {
            self.1 = self.1.saturating_sub(1);
        }
        v
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.1, Some(self.1))
    }
}

impl<I: Iterator> ExactSizeIterator for ExactLen<I> {}

/// Principal ids in order of first appearance, borrowing the builder's
/// names.
#[derive(Default)]
struct PrincipalIds<'a> {
    map: FxHashMap<&'a str, u32>,
    names: Vec<&'a str>,
}

impl<'a> PrincipalIds<'a> {
    fn id(&mut self, name: &'a str) -> u32 {
        if let Some(id) = self.map.get(name) {
            return *id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.map.insert(name, id);
        self.names.push(name);
        id
    }
}

#[derive(Default)]
struct PermissionInterner {
    map: FxHashMap<Arc<str>, u32>,
    names: Vec<Arc<str>>,
    /// A declared vocabulary: no new names after it.
    closed: bool,
}

impl PermissionInterner {
    fn intern(&mut self, p: &str, span: &Option<Span>, declaring: bool) -> Result<u32, Located> {
        if !valid_permission(p) {
            return Err((
                PolicyErrorKind::InvalidPermission(p.to_owned()),
                span.clone(),
            ));
        }
        if let Some(id) = self.map.get(p) {
            return Ok(*id);
        }
        if self.closed && !declaring {
            return Err((
                PolicyErrorKind::UnknownPermission(p.to_owned()),
                span.clone(),
            ));
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        let name: Arc<str> = Arc::from(p);
        self.names.push(name.clone());
        self.map.insert(name, id);
        Ok(id)
    }

    fn intern_all(&mut self, ps: &[(String, Option<Span>)]) -> Result<Vec<u32>, Located> {
        ps.iter().map(|(p, s)| self.intern(p, s, false)).collect()
    }

    fn intern_roles(&mut self, roles: &[RoleDef]) -> Result<Vec<Vec<u32>>, Located> {
        roles
            .iter()
            .map(|r| self.intern_all(&r.permissions))
            .collect()
    }
}

fn role_ids(roles: &[RoleDef]) -> Result<HashMap<&str, usize>, Located> {
    let mut ids = HashMap::with_capacity(roles.len());
    for (i, r) in roles.iter().enumerate() {
        if ids.insert(r.name.as_str(), i).is_some() {
            return Err((
                PolicyErrorKind::DuplicateRole(r.name.clone()),
                r.span.clone(),
            ));
        }
    }
    Ok(ids)
}

/// The permission closure of every role (its own permissions plus every
/// inherited role's), as bitset words. Rejects unknown parents and cycles.
fn closures(
    roles: &[RoleDef],
    ids: &HashMap<&str, usize>,
    own: &[Vec<u32>],
    perm_count: usize,
    global: bool,
) -> Result<Vec<Vec<u64>>, Located> {
    let words = perm_count.div_ceil(64).max(1);
    let mut parents: Vec<Vec<usize>> = Vec::with_capacity(roles.len());
    for r in roles {
        let mut ps = Vec::with_capacity(r.inherits.len());
        for (name, span) in &r.inherits {
            let id = ids.get(name.as_str()).copied().ok_or_else(|| {
                let kind = if global {
                    PolicyErrorKind::UnknownGlobalRole(name.clone())
                } else {
                    PolicyErrorKind::UnknownRole(name.clone())
                };
                (kind, span.clone())
            })?;
            ps.push(id);
        }
        parents.push(ps);
    }
    // Iterative DFS with colours: 0 new, 1 on the stack, 2 done.
    let mut colour = vec![0u8; roles.len()];
    let mut result: Vec<Vec<u64>> = vec![vec![0; words]; roles.len()];
    for start in 0..roles.len() {
        if colour.get(start) != Some(&0) {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        if let Some(c) = colour.get_mut(start) {
            *c = 1;
        }
        while let Some((node, next)) = stack.last().copied() {
            let ps = parents.get(node).map(Vec::as_slice).unwrap_or(&[]);
            if let Some(&parent) = ps.get(next) {
                if let Some(top) = stack.last_mut() {
                    top.1 += 1;
                }
                match colour.get(parent).copied() {
                    Some(0) => {
                        if let Some(c) = colour.get_mut(parent) {
                            *c = 1;
                        }
                        stack.push((parent, 0));
                    }
                    Some(1) => {
                        // A cycle: the stack from `parent` to the top, then `parent` again.
                        let from = stack.iter().position(|(n, _)| *n == parent).unwrap_or(0);
                        let mut cycle: Vec<String> = stack
                            .get(from..)
                            .unwrap_or(&[])
                            .iter()
                            .filter_map(|(n, _)| roles.get(*n).map(|r| r.name.clone()))
                            .collect();
                        if let Some(r) = roles.get(parent) {
                            cycle.push(r.name.clone());
                        }
                        let span = roles.get(parent).and_then(|r| r.span.clone());
                        return Err((PolicyErrorKind::RoleCycle(cycle), span));
                    }
                    _ => {}
                }
            } else {
                // All parents done: own permissions plus parents' closures.
                let mut acc = vec![0u64; words];
                for p in own.get(node).map(Vec::as_slice).unwrap_or(&[]) {
                    if let Some(w) = acc.get_mut(*p as usize / 64) {
                        *w |= 1u64 << (*p % 64);
                    }
                }
                for parent in ps {
                    if let Some(pc) = result.get(*parent) {
                        for (a, b) in acc.iter_mut().zip(pc) {
                            *a |= *b;
                        }
                    }
                }
                if let Some(slot) = result.get_mut(node) {
                    *slot = acc;
                }
                if let Some(c) = colour.get_mut(node) {
                    *c = 2;
                }
                stack.pop();
            }
        }
    }
    Ok(result)
}

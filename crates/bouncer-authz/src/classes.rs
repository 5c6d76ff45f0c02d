//! Membership classes: every distinct combination of organization roles
//! and direct grants, with its effective permissions (the roles' closures
//! plus the grants) as one bitset. Memberships name a class by id, so a
//! million memberships share a handful of sets, and a change to a role's
//! permissions recomputes the classes, never the memberships.

use rustc_hash::FxHashMap;

use crate::bits::{BitArena, SetId};

/// One class's sets.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Class {
    /// Effective permissions.
    pub(crate) perms: SetId,
    /// The organization roles held (not their closure).
    pub(crate) roles: SetId,
    /// The permissions granted directly.
    pub(crate) direct: SetId,
}

/// The organization roles as defined: own permissions and parents, for
/// recomputing closures when a role's permissions change.
#[derive(Debug, Clone, Default)]
pub(crate) struct RoleGraph {
    pub(crate) own: Vec<Vec<u32>>,
    pub(crate) parents: Vec<Vec<usize>>,
}

impl RoleGraph {
    /// Every role's closure as words of `words` (the graph has no cycle:
    /// the compiler refused them).
    pub(crate) fn closures(&self, words: usize) -> Vec<Vec<u64>> {
        let n = self.own.len();
        let mut out: Vec<Vec<u64>> = self
            .own
            .iter()
            .map(|ps| {
                let mut w = vec![0u64; words];
                for p in ps {
                    if let Some(x) = w.get_mut(*p as usize / 64) {
                        *x |= 1u64 << (p % 64);
                    }
                }
                w
            })
            .collect();
        // Relax until nothing changes: at most the depth of the graph.
        for _ in 0..=n {
            let mut changed = false;
            for r in 0..n {
                let mut acc = out.get(r).cloned().unwrap_or_default();
                for p in self.parents.get(r).map(Vec::as_slice).unwrap_or(&[]) {
                    if let Some(pc) = out.get(*p) {
                        for (a, b) in acc.iter_mut().zip(pc) {
                            *a |= *b;
                        }
                    }
                }
                if let Some(slot) = out.get_mut(r) {
                    if *slot != acc {
                        *slot = acc;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        out
    }
}

/// The classes, the role closures they are made from, and the closures as
/// sets of their own (for roles a token asserts).
#[derive(Debug, Clone)]
pub(crate) struct Classes {
    pub(crate) perm_sets: BitArena,
    pub(crate) role_sets: BitArena,
    pub(crate) list: Vec<Class>,
    /// Direct words then role words → class.
    map: FxHashMap<Box<[u64]>, u32>,
    pub(crate) perm_words: usize,
    role_words: usize,
    pub(crate) org_closures: Vec<Vec<u64>>,
    /// Per organization role: its closure as a set.
    pub(crate) org_role_perms: Vec<SetId>,
    /// Per global role: its closure as a set.
    pub(crate) global_role_perms: Vec<SetId>,
    scratch: Vec<u64>,
}

impl Classes {
    /// Classes over `perms` permissions and the organization roles whose
    /// closures are `org_closures`; class 0 is the empty one.
    pub(crate) fn new(
        perms: usize,
        org_closures: Vec<Vec<u64>>,
        global_closures: &[Vec<u64>],
    ) -> Self {
        let perm_words = perms.div_ceil(64).max(1);
        let role_words = org_closures.len().div_ceil(64).max(1);
        let mut c = Self {
            perm_sets: BitArena::new(perms),
            role_sets: BitArena::new(org_closures.len()),
            list: Vec::new(),
            map: FxHashMap::default(),
            perm_words,
            role_words,
            org_closures,
            org_role_perms: Vec::new(),
            global_role_perms: Vec::new(),
            scratch: vec![0; perm_words + role_words],
        };
        c.org_role_perms = (0..c.org_closures.len())
            .map(|r| {
                let set = c.perm_sets.alloc();
                if let Some(w) = c.org_closures.get(r) {
                    c.perm_sets.union_words(set, w);
                }
                set
            })
            .collect();
        c.global_role_perms = global_closures
            .iter()
            .map(|w| {
                let set = c.perm_sets.alloc();
                c.perm_sets.union_words(set, w);
                set
            })
            .collect();
        c.intern_scratch();
        c
    }

    pub(crate) fn clear_scratch(&mut self) {
        self.scratch.iter_mut().for_each(|w| *w = 0);
    }

    /// Starts from class `class`'s roles and grants.
    pub(crate) fn load_scratch(&mut self, class: u32) {
        self.clear_scratch();
        if let Some(c) = self.list.get(class as usize).copied() {
            let (d, r) = self.scratch.split_at_mut(self.perm_words);
            for (a, b) in d.iter_mut().zip(self.perm_sets.words(c.direct)) {
                *a = *b;
            }
            for (a, b) in r.iter_mut().zip(self.role_sets.words(c.roles)) {
                *a = *b;
            }
        }
    }

    pub(crate) fn scratch_role(&mut self, role: usize) {
        if let Some(w) = self.scratch.get_mut(self.perm_words + role / 64) {
            *w |= 1u64 << (role % 64);
        }
    }

    pub(crate) fn scratch_perm(&mut self, perm: usize) {
        if let Some(w) = self.scratch.get_mut(perm / 64) {
            *w |= 1u64 << (perm % 64);
        }
    }

    /// Direct permissions as words (global grants and global roles'
    /// closures: a principal's global class has no roles).
    pub(crate) fn scratch_perms(&mut self, words: &[u64]) {
        for (a, b) in self.scratch.iter_mut().zip(words) {
            *a |= *b;
        }
    }

    /// The class of the scratch roles and grants, made if new.
    pub(crate) fn intern_scratch(&mut self) -> u32 {
        if let Some(c) = self.map.get(self.scratch.as_slice()) {
            return *c;
        }
        let key = self.scratch.clone().into_boxed_slice();
        let id = u32::try_from(self.list.len()).unwrap_or(u32::MAX);
        let class = self.make(&key);
        self.list.push(class);
        self.map.insert(key, id);
        id
    }

    /// The key (direct words, role words) of `class`.
    pub(crate) fn key_of(&self, class: u32) -> Vec<u64> {
        let mut key = vec![0u64; self.perm_words + self.role_words];
        if let Some(c) = self.list.get(class as usize) {
            let (d, r) = key.split_at_mut(self.perm_words);
            for (a, b) in d.iter_mut().zip(self.perm_sets.words(c.direct)) {
                *a = *b;
            }
            for (a, b) in r.iter_mut().zip(self.role_sets.words(c.roles)) {
                *a = *b;
            }
        }
        key
    }

    /// Sets the roles of `key` to exactly `roles`.
    pub(crate) fn set_roles(&self, key: &mut [u64], roles: &[usize]) {
        for w in key.iter_mut().skip(self.perm_words) {
            *w = 0;
        }
        for r in roles {
            if let Some(w) = key.get_mut(self.perm_words + r / 64) {
                *w |= 1u64 << (r % 64);
            }
        }
    }

    /// The class of `key`, if there is one.
    pub(crate) fn lookup(&self, key: &[u64]) -> Option<u32> {
        self.map.get(key).copied()
    }

    /// The class of `key`, made if new.
    pub(crate) fn intern(&mut self, key: Vec<u64>) -> u32 {
        if key.len() == self.scratch.len() {
            self.scratch.copy_from_slice(&key);
        }
        self.intern_scratch()
    }

    /// Whether `class` holds direct grants.
    pub(crate) fn has_direct(&self, class: u32) -> bool {
        self.list
            .get(class as usize)
            .is_some_and(|c| self.perm_sets.words(c.direct).iter().any(|w| *w != 0))
    }

    /// The sets of a class from its key (direct words, role words).
    fn make(&mut self, key: &[u64]) -> Class {
        let (d, r) = key.split_at(self.perm_words.min(key.len()));
        let class = Class {
            perms: self.perm_sets.alloc(),
            roles: self.role_sets.alloc(),
            direct: self.perm_sets.alloc(),
        };
        self.perm_sets.union_words(class.direct, d);
        self.perm_sets.union_words(class.perms, d);
        self.role_sets.union_words(class.roles, r);
        for (i, w) in r.iter().enumerate() {
            for bit in 0..64 {
                if w & (1u64 << bit) != 0 {
                    let role = i * 64 + bit;
                    if let Some(closure) = self.org_closures.get(role) {
                        let closure = closure.clone();
                        self.perm_sets.union_words(class.perms, &closure);
                    }
                }
            }
        }
        class
    }

    /// The same classes (same ids) over `perms` permissions and new role
    /// closures: what a change to a role's permissions needs.
    pub(crate) fn rebuilt(
        &self,
        perms: usize,
        org_closures: Vec<Vec<u64>>,
        global_closures: &[Vec<u64>],
    ) -> Self {
        let mut keys: Vec<(u32, Vec<u64>)> = self
            .map
            .iter()
            .map(|(k, v)| (*v, self.widen(k, perms)))
            .collect();
        keys.sort_unstable_by_key(|(id, _)| *id);
        let mut next = Self::new(perms, org_closures, global_closures);
        next.list.clear();
        next.map.clear();
        for (_, key) in keys {
            next.scratch.copy_from_slice(&key);
            next.intern_scratch();
        }
        next
    }

    /// A key of this table laid out for a table of `perms` permissions.
    fn widen(&self, key: &[u64], perms: usize) -> Vec<u64> {
        let pw = perms.div_ceil(64).max(1);
        let (d, r) = key.split_at(self.perm_words.min(key.len()));
        let mut out = vec![0u64; pw + self.role_words];
        for (a, b) in out.iter_mut().zip(d) {
            *a = *b;
        }
        for (a, b) in out.iter_mut().skip(pw).zip(r) {
            *a = *b;
        }
        out
    }
}

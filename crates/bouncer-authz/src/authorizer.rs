//! The [`Policy`] (a reloadable snapshot) and the [`PolicyAuthorizer`] that
//! runs stage 4 against it, with resources described by the application.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use async_trait::async_trait;
use bouncer_core::{
    AccessError, AccountDirectory, AccountState, Authenticated, Authorizer, Fault, ForbiddenReason,
    Identity, RequestContext, Requirement, UnknownName,
};

use crate::error::{read_file, PolicyError, PolicyErrorKind};
use crate::guards::GuardConfig;
use crate::policy::{compile_str, CompiledPolicy, Positions};
use crate::snapshot::{Query, Snapshot, TokenRoleTrust};

struct PolicyInner {
    snapshot: ArcSwap<Snapshot>,
    /// Where the file's entries are, to name the rule behind a refusal
    /// (empty for a snapshot built in code).
    positions: ArcSwap<Positions>,
    guards: GuardConfig,
    source: Option<PathBuf>,
    /// Serializes writers (reloads and changes); readers never take it.
    writer: std::sync::Mutex<()>,
    /// Whether a fold of the overlay is running (one at a time).
    folding: AtomicBool,
    /// Bumped by every reload and replacement, under the writer lock: a
    /// fold begun before one is dropped, not swapped in.
    epoch: AtomicU64,
}

/// A compiled policy that can be swapped atomically at run time. Readers
/// never lock: each decision loads the current snapshot. Cheap to clone.
#[derive(Clone)]
pub struct Policy {
    inner: Arc<PolicyInner>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("source", &self.inner.source)
            .field("stats", &self.inner.snapshot.load().stats())
            .finish()
    }
}

impl Policy {
    fn from_compiled(c: CompiledPolicy, positions: Positions, source: Option<PathBuf>) -> Self {
        Self {
            inner: Arc::new(PolicyInner {
                snapshot: ArcSwap::from_pointee(c.snapshot),
                positions: ArcSwap::from_pointee(positions),
                guards: c.guards,
                source,
                writer: std::sync::Mutex::new(()),
                folding: AtomicBool::new(false),
                epoch: AtomicU64::new(0),
            }),
        }
    }

    /// Loads a policy file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, PolicyError> {
        let path = path.as_ref();
        let (file, text) = read_file(path)?;
        Ok(Self::from_compiled(
            compile_str(&file, &text)?,
            Positions::scan(&file, &text),
            Some(path.to_path_buf()),
        ))
    }

    /// Loads policy text; `name` labels it in errors.
    pub fn from_toml(name: &str, text: &str) -> Result<Self, PolicyError> {
        Ok(Self::from_compiled(
            compile_str(name, text)?,
            Positions::scan(name, text),
            None,
        ))
    }

    /// Wraps a snapshot built in code.
    pub fn from_snapshot(snapshot: Snapshot) -> Self {
        Self::from_compiled(
            CompiledPolicy {
                snapshot,
                guards: GuardConfig::default(),
            },
            Positions::default(),
            None,
        )
    }

    /// Where the current policy file's entries are (empty for a snapshot
    /// built in code).
    pub fn positions(&self) -> Arc<Positions> {
        self.inner.positions.load_full()
    }

    /// The current snapshot (lock-free). A reload replaces the policy's
    /// snapshot, never this one: it stays as it is for as long as it is
    /// held.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.inner.snapshot.load_full()
    }

    /// The current snapshot for one decision: no reference count touched.
    fn current(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        self.inner.snapshot.load()
    }

    /// The `[guards]` settings of the same file, read at load time by
    /// [`GuardConfig::from_toml_str`] (defaults for a policy built in
    /// code). A convenience: [`GuardConfig::from_file`] reads them alone.
    pub fn guards(&self) -> &GuardConfig {
        &self.inner.guards
    }

    /// Re-reads the file the policy came from. On any error the current
    /// snapshot stays in force. Guard settings are not reloaded.
    pub fn reload(&self) -> Result<(), PolicyError> {
        let Some(path) = &self.inner.source else {
            return Err(PolicyError::unplaced(
                "<memory>",
                PolicyErrorKind::Io("the policy was not loaded from a file".into()),
            ));
        };
        let (file, text) = read_file(path)?;
        let compiled = compile_str(&file, &text)?;
        let _w = self.write_lock();
        self.inner.epoch.fetch_add(1, Ordering::AcqRel);
        self.inner.snapshot.store(Arc::new(compiled.snapshot));
        self.inner
            .positions
            .store(Arc::new(Positions::scan(&file, &text)));
        Ok(())
    }

    /// Replaces the snapshot from text; on error the current one stays.
    pub fn replace_from_toml(&self, name: &str, text: &str) -> Result<(), PolicyError> {
        let compiled = compile_str(name, text)?;
        let _w = self.write_lock();
        self.inner.epoch.fetch_add(1, Ordering::AcqRel);
        self.inner.snapshot.store(Arc::new(compiled.snapshot));
        self.inner
            .positions
            .store(Arc::new(Positions::scan(name, text)));
        Ok(())
    }

    /// Replaces the snapshot (built in code: no file positions).
    pub fn replace(&self, snapshot: Snapshot) {
        let _w = self.write_lock();
        self.inner.epoch.fetch_add(1, Ordering::AcqRel);
        self.inner.snapshot.store(Arc::new(snapshot));
        self.inner.positions.store(Arc::new(Positions::default()));
    }

    fn write_lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.inner
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Applies one change to the current snapshot and swaps the result in
    /// (a delta, not a recompile: see [`Snapshot::with_membership`]).
    /// Writers take turns; decisions never wait. A change that fills the
    /// overlay starts a fold on a thread of its own and returns at once.
    fn change(
        &self,
        f: impl FnOnce(&Snapshot) -> Result<Snapshot, PolicyErrorKind>,
    ) -> Result<(), PolicyError> {
        let fold = {
            let _w = self.write_lock();
            let current = self.inner.snapshot.load();
            let next = Arc::new(f(&current).map_err(|k| PolicyError::unplaced("<change>", k))?);
            self.inner.snapshot.store(Arc::clone(&next));
            // Begun under the lock, so no reload can come between the
            // snapshot and the epoch the fold is checked against.
            (next.pending_changes() >= crate::COMPACT_AT
                && !self.inner.folding.swap(true, Ordering::AcqRel))
            .then(|| Fold::begin(self, next))
        };
        if let Some(job) = fold {
            self.fold_in_background(job);
        }
        Ok(())
    }

    /// Runs `job` on a new thread (the running flag is already set).
    fn fold_in_background(&self, job: Fold) {
        let spawned = std::thread::Builder::new()
            .name("bouncer-policy-fold".into())
            .spawn(move || job.run());
        if spawned.is_err() {
            // No thread to be had: the overlay keeps serving, if slower.
            self.inner.folding.store(false, Ordering::Release);
        }
    }

    /// Makes `principal` a member of `organization` holding exactly
    /// `roles` there (added, or replacing the roles held), visible to the
    /// next decision, without recompiling. The policy file is not
    /// rewritten: a [`reload`](Self::reload) goes back to it.
    pub fn set_membership(
        &self,
        organization: &str,
        principal: &str,
        roles: &[&str],
    ) -> Result<(), PolicyError> {
        self.change(|s| s.with_membership(organization, principal, roles))
    }

    /// Removes `principal`'s membership of `organization` (nothing when
    /// there is none), without recompiling.
    pub fn remove_membership(&self, organization: &str, principal: &str) {
        let _ = self.change(|s| Ok(s.without_membership(organization, principal)));
    }

    /// Grants `permission` to the organization role `role`, without
    /// recompiling.
    pub fn grant_role_permission(&self, role: &str, permission: &str) -> Result<(), PolicyError> {
        self.change(|s| s.with_role_permission(role, permission))
    }

    /// Revokes `permission` from the organization role `role`'s own
    /// permissions, without recompiling.
    pub fn revoke_role_permission(&self, role: &str, permission: &str) -> Result<(), PolicyError> {
        self.change(|s| s.without_role_permission(role, permission))
    }
}

/// One fold of a snapshot's overlay into its principal table, begun from
/// the snapshot current when the overlay filled.
struct Fold {
    policy: Policy,
    epoch: u64,
    base: Arc<Snapshot>,
}

impl Fold {
    fn begin(policy: &Policy, base: Arc<Snapshot>) -> Self {
        Self {
            policy: policy.clone(),
            epoch: policy.inner.epoch.load(Ordering::Acquire),
            base,
        }
    }

    /// Builds the folded table (O(principals), holding no lock), then
    /// swaps it in; the running flag is cleared however this ends.
    fn run(self) {
        struct Clear<'a>(&'a AtomicBool);
        impl Drop for Clear<'_> {
            fn drop(&mut self) {
                self.0.store(false, Ordering::Release);
            }
        }
        let _clear = Clear(&self.policy.inner.folding);
        let people = Arc::new(self.base.folded_people());
        self.finish(people);
    }

    /// Swaps in the current snapshot on the folded table, keeping the
    /// records changed since the fold began in its overlay. Nothing
    /// (`false`) when a reload or replacement came in between, or when the
    /// current snapshot no longer stands on the table the fold began from
    /// (another fold landed first): its overlay would then be judged
    /// against the wrong table.
    fn finish(&self, people: Arc<crate::flat::People>) -> bool {
        let _w = self.policy.write_lock();
        let current = self.policy.inner.snapshot.load_full();
        if self.policy.inner.epoch.load(Ordering::Acquire) != self.epoch
            || !Arc::ptr_eq(&current.people, &self.base.people)
        {
            return false;
        }
        let next = current.with_folded(self.base.changes, people);
        self.policy.inner.snapshot.store(Arc::new(next));
        true
    }
}

#[async_trait]
impl AccountDirectory for Policy {
    async fn state(&self, identity: &Identity) -> Result<AccountState, Fault> {
        Ok(self.current().account_state(identity.subject()))
    }
}

/// Who a private resource is shared with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessList {
    /// Subjects.
    pub users: Vec<String>,
    /// Organization roles (held directly in the resource's organization).
    pub roles: Vec<String>,
}

/// What the application says about a resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resource {
    /// The organization that owns it.
    pub organization: Option<String>,
    /// `Some` when the resource is private: only these may reach it.
    pub private: Option<AccessList>,
    /// Whether unsafe methods are refused (`read_only`).
    pub read_only: bool,
}

/// Describes resources for the access-list and read-only checks.
#[async_trait]
pub trait ResourceResolver: Send + Sync + 'static {
    /// The resource `id` in `organization`; `None` if it does not exist.
    async fn resolve(
        &self,
        organization: Option<&str>,
        id: &str,
    ) -> Result<Option<Resource>, Fault>;
}

/// Stage 4 against a [`Policy`]: tenant, elevation, permission from roles,
/// token scope, then — with a [`ResourceResolver`] — the access list and
/// read-only flag.
#[derive(Clone)]
pub struct PolicyAuthorizer {
    policy: Policy,
    resolver: Option<Arc<dyn ResourceResolver>>,
    trust_token_permissions: bool,
    token_roles: TokenRoleTrust,
}

impl std::fmt::Debug for PolicyAuthorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyAuthorizer")
            .field("policy", &self.policy)
            .field("resolver", &self.resolver.is_some())
            .field("trust_token_permissions", &self.trust_token_permissions)
            .field("token_roles", &self.token_roles)
            .finish()
    }
}

impl PolicyAuthorizer {
    /// Authorizes against `policy`.
    pub fn new(policy: Policy) -> Self {
        Self {
            policy,
            resolver: None,
            trust_token_permissions: false,
            token_roles: TokenRoleTrust::NONE,
        }
    }

    /// Resolves resources for access lists and read-only checks.
    pub fn resources(mut self, resolver: impl ResourceResolver) -> Self {
        self.resolver = Some(Arc::new(resolver));
        self
    }

    /// Resolves resources with a shared resolver.
    pub fn resources_arc(mut self, resolver: Arc<dyn ResourceResolver>) -> Self {
        self.resolver = Some(resolver);
        self
    }

    /// Also grants permissions the credential itself asserts (Auth0's
    /// `permissions` claim). Off by default: the policy is the authority.
    pub fn trust_token_permissions(mut self) -> Self {
        self.trust_token_permissions = true;
        self
    }

    /// Also believes the roles the credential asserts (Keycloak's
    /// `realm_access.roles`, in [`Identity::roles`]) as roles of the
    /// policy's vocabulary, where `trust` says: as global roles, in the
    /// token's own organization, or both. Off by default
    /// ([`TokenRoleTrust::NONE`]): the policy is the authority. See
    /// [`TokenRoleTrust`] for exactly what each grants.
    ///
    /// ```
    /// use bouncer_authz::{Policy, PolicyAuthorizer, TokenRoleTrust};
    ///
    /// let policy = Policy::from_toml("p.toml", r#"
    ///     [roles.editor]
    ///     permissions = ["documents:write"]
    ///     [global_roles.admin]
    ///     permissions = ["admin:access"]
    /// "#)?;
    /// let authorizer = PolicyAuthorizer::new(policy)
    ///     .trust_token_roles(TokenRoleTrust::GLOBAL.and(TokenRoleTrust::ORGANIZATION));
    /// # let _ = authorizer;
    /// # Ok::<(), bouncer_authz::PolicyError>(())
    /// ```
    pub fn trust_token_roles(mut self, trust: TokenRoleTrust) -> Self {
        self.token_roles = trust;
        self
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }
}

#[async_trait]
impl Authorizer for PolicyAuthorizer {
    async fn authorize(
        &self,
        caller: &Authenticated,
        request: &RequestContext<'_>,
        requirement: &Requirement,
    ) -> Result<(), AccessError> {
        let snapshot = self.policy.current();
        let query = Query {
            subject: caller.subject(),
            organization: requirement.organization_id(),
            bound_organization: caller.organization(),
            permission: requirement.required_permission(),
            elevated: requirement.is_elevated(),
            scopes: caller.scopes(),
        };
        let roles = caller.roles();
        let trust = self.token_roles;
        let grant = match snapshot.authorize_with_token_roles(&query, roles, trust) {
            Ok(g) => g,
            Err(f)
                if f.reason() == ForbiddenReason::InsufficientPermission
                    && self.trust_token_permissions
                    && query
                        .permission
                        .is_some_and(|p| caller.permissions().iter().any(|x| x == p)) =>
            {
                // The credential asserts the permission; scope still narrows it.
                let p = query.permission.unwrap_or_default();
                if !caller.scope_allows(p) {
                    return Err(bouncer_core::Forbidden::insufficient_scope(p.to_owned()).into());
                }
                snapshot
                    .authorize_with_token_roles(
                        &Query {
                            permission: None,
                            ..query
                        },
                        roles,
                        trust,
                    )
                    .map_err(AccessError::from)?
            }
            Err(f) => {
                // Only on a refusal: name the file's entry behind it.
                let rule = self.policy.inner.positions.load().rule_for(
                    f.reason(),
                    caller.subject(),
                    query.organization,
                );
                return Err(match rule {
                    Some(rule) => f.with_rule(rule),
                    None => f,
                }
                .into());
            }
        };

        let Some(id) = requirement.resource_id() else {
            return Ok(());
        };
        let Some(resolver) = &self.resolver else {
            return Err(Fault::misconfigured(
                "the route names a resource but no resolver is configured",
            )
            .into());
        };
        let org = requirement.organization_id();
        let resource = resolver
            .resolve(org, id)
            .await?
            .ok_or(AccessError::NotFound)?;
        if org.is_some() && resource.organization.as_deref() != org {
            return Err(AccessError::NotFound);
        }
        if let Some(acl) = &resource.private {
            let shared = acl.users.iter().any(|u| u == caller.subject())
                || acl.roles.iter().any(|r| grant.has_role(r));
            if !shared {
                return Err(ForbiddenReason::NotShared.into());
            }
        }
        if resource.read_only && request.is_unsafe_method() {
            return Err(ForbiddenReason::ReadOnly.into());
        }
        Ok(())
    }

    /// A requirement's permission must be one the current policy defines
    /// (declared in `permissions`, or used by a role or grant): a misspelt
    /// permission could never be granted, so it is refused when the app
    /// is built rather than answered `insufficient_permission` at run
    /// time. Organizations and resources come from the request and are not
    /// checked. A later reload may drop the permission again; validation
    /// speaks for the policy in force when it runs.
    fn validate(&self, requirement: &Requirement) -> Result<(), UnknownName> {
        match requirement.required_permission() {
            Some(p) if !self.policy.current().has_permission(p) => Err(UnknownName::permission(p)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod fold_tests {
    use super::*;

    fn policy() -> Policy {
        Policy::from_toml(
            "t.toml",
            r#"
            [roles.viewer]
            permissions = ["documents:read"]
            [organizations.acme.members]
            alice = ["viewer"]
            "#,
        )
        .unwrap()
    }

    #[test]
    fn a_fold_keeps_the_changes_made_while_it_ran() {
        let policy = policy();
        policy.set_membership("acme", "bob", &["viewer"]).unwrap();
        let job = Fold::begin(&policy, policy.snapshot());
        // While the table is being built: one new principal, one changed
        // again, one removed.
        policy.set_membership("acme", "carol", &["viewer"]).unwrap();
        policy.set_membership("acme", "bob", &[]).unwrap();
        policy.remove_membership("acme", "alice");
        assert!(job.finish(Arc::new(job.base.folded_people())));
        let s = policy.snapshot();
        assert_eq!(
            s.pending_changes(),
            3,
            "only the later records stay in the overlay"
        );
        assert!(s.is_member("carol", "acme"));
        assert!(s.permissions_of("bob", Some("acme")).is_empty());
        assert!(!s.is_member("alice", "acme"));
        // And a fold of this snapshot holds every change in its table.
        let folded = s.compacted();
        assert!(folded.is_member("carol", "acme") && !folded.is_member("alice", "acme"));
        assert!(folded.permissions_of("bob", Some("acme")).is_empty());
    }

    #[test]
    fn a_fold_from_an_older_table_never_lands_over_a_newer_one() {
        let policy = policy();
        policy.set_membership("acme", "bob", &["viewer"]).unwrap();
        let older = Fold::begin(&policy, policy.snapshot());
        policy.set_membership("acme", "bob", &[]).unwrap();
        let newer = Fold::begin(&policy, policy.snapshot());
        assert!(newer.finish(Arc::new(newer.base.folded_people())));
        // The older fold's table still has bob as a viewer: refused.
        assert!(!older.finish(Arc::new(older.base.folded_people())));
        assert!(policy
            .snapshot()
            .permissions_of("bob", Some("acme"))
            .is_empty());
    }

    #[test]
    fn a_fold_begun_before_a_reload_is_dropped() {
        let policy = policy();
        policy.set_membership("acme", "bob", &["viewer"]).unwrap();
        let job = Fold::begin(&policy, policy.snapshot());
        policy
            .replace_from_toml(
                "t.toml",
                "[roles.viewer]\npermissions = [\"documents:read\"]\n",
            )
            .unwrap();
        assert!(!job.finish(Arc::new(job.base.folded_people())));
        assert!(!policy.snapshot().is_member("bob", "acme"));
        assert!(!policy.snapshot().is_member("alice", "acme"));
    }

    #[test]
    fn a_full_overlay_is_folded_in_the_background_and_nothing_is_lost() {
        let policy = policy();
        let n = crate::COMPACT_AT + 100;
        for i in 0..n {
            policy
                .set_membership("acme", &format!("user{i}"), &["viewer"])
                .unwrap();
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while policy.snapshot().pending_changes() >= crate::COMPACT_AT {
            assert!(
                std::time::Instant::now() < deadline,
                "the fold never landed"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let s = policy.snapshot();
        assert!((0..n).all(|i| s.is_member(&format!("user{i}"), "acme")));
        assert!(s.is_member("alice", "acme"));
        assert_eq!(s.stats().principals, n + 1);
    }
}

//! Scopes per MCP operation, and the gate's stage 4 that checks them.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use bouncer_core::{
    AccessError, Authenticated, Authorizer, Forbidden, ForbiddenReason, RequestContext, Requirement,
};

/// The methods every valid token may call, whatever its scopes.
pub const SCOPE_FREE_METHODS: &[&str] = &["initialize", "ping", "tools/list"];

/// Which scopes each operation needs (every one of them).
///
/// An operation is looked up by its [`Operation::key`](crate::Operation::key):
/// a configured entry wins; else `initialize`, `ping`, `tools/list`,
/// `notifications/*` and responses need no scope; anything else — a tool,
/// resource, prompt or method nobody configured — is refused
/// (`insufficient_permission`, 403): an MCP server's new tool is closed
/// until someone says which scope opens it.
#[derive(Debug, Clone, Default)]
pub struct ScopeTable {
    entries: HashMap<String, Vec<String>>,
}

impl ScopeTable {
    /// An empty table: only the scope-free operations are allowed.
    pub fn new() -> Self {
        Self::default()
    }

    /// `key` needs every one of `scopes` (none: any valid token).
    pub fn insert<I, S>(&mut self, key: impl Into<String>, scopes: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        // Each scope once, in the order given (the challenge names them so).
        let mut once: Vec<String> = Vec::new();
        for s in scopes.into_iter().map(Into::into) {
            if !once.contains(&s) {
                once.push(s);
            }
        }
        self.entries.insert(key.into(), once);
    }

    /// The scopes `key` needs: `Some(&[])` for none, `None` when the
    /// operation is not allowed at all.
    pub fn scopes_for(&self, key: &str) -> Option<&[String]> {
        if let Some(scopes) = self.entries.get(key) {
            return Some(scopes);
        }
        let free = SCOPE_FREE_METHODS.contains(&key)
            || key.starts_with("notifications/")
            || key == "response";
        free.then_some(&[][..])
    }

    /// Every scope some operation needs, sorted, once each (for
    /// `scopes_supported`).
    pub fn all_scopes(&self) -> Vec<String> {
        let mut all: Vec<String> = self.entries.values().flatten().cloned().collect();
        all.sort();
        all.dedup();
        all
    }
}

/// Stage 4 of the MCP gate: the requirement's permission is the
/// operation's key; the caller's token must hold every scope the
/// [`ScopeTable`] lists for it. A token without a `scope` claim holds none.
#[derive(Debug, Clone)]
pub struct OperationScopes {
    table: Arc<ScopeTable>,
}

impl OperationScopes {
    /// Checks against `table`.
    pub fn new(table: Arc<ScopeTable>) -> Self {
        Self { table }
    }
}

#[async_trait]
impl Authorizer for OperationScopes {
    async fn authorize(
        &self,
        caller: &Authenticated,
        _request: &RequestContext<'_>,
        requirement: &Requirement,
    ) -> Result<(), AccessError> {
        let Some(key) = requirement.required_permission() else {
            // No operation named (a GET opening the event stream, a DELETE
            // ending a session): a valid token is enough.
            return Ok(());
        };
        let Some(needed) = self.table.scopes_for(key) else {
            return Err(Forbidden::new(ForbiddenReason::InsufficientPermission).into());
        };
        let held = caller.identity().scopes().unwrap_or_default();
        if needed.iter().all(|s| held.contains(s)) {
            Ok(())
        } else {
            // Every scope the operation needs, not only the missing ones:
            // the client asks for exactly this set (RFC 6750 §3.1).
            Err(Forbidden::insufficient_scope(needed.join(" ")).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_then_scope_free_then_refused() {
        let mut t = ScopeTable::new();
        t.insert("tools/call:echo", ["mcp:tools:echo"]);
        t.insert("tools/list", ["mcp:list"]);
        t.insert("resources/list", Vec::<String>::new());
        assert_eq!(
            t.scopes_for("tools/call:echo"),
            Some(&["mcp:tools:echo".to_owned()][..])
        );
        assert_eq!(
            t.scopes_for("tools/list"),
            Some(&["mcp:list".to_owned()][..])
        );
        assert_eq!(t.scopes_for("resources/list"), Some(&[][..]));
        for free in [
            "initialize",
            "ping",
            "notifications/initialized",
            "response",
        ] {
            assert_eq!(t.scopes_for(free), Some(&[][..]), "{free}");
        }
        for closed in [
            "tools/call:reset",
            "resources/read:file:///x",
            "prompts/get:p",
            "x/y",
            "",
        ] {
            assert_eq!(t.scopes_for(closed), None, "{closed}");
        }
        assert_eq!(t.all_scopes(), ["mcp:list", "mcp:tools:echo"]);
    }

    #[test]
    fn a_scope_named_twice_is_needed_once_in_the_order_given() {
        let mut t = ScopeTable::new();
        t.insert("tools/call:reset", ["b", "a", "b"]);
        assert_eq!(
            t.scopes_for("tools/call:reset"),
            Some(&["b".to_owned(), "a".to_owned()][..])
        );
    }
}

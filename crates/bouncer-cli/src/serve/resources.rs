//! Resource rules from the configuration file: per organization and id,
//! private (and who it is shared with) and read-only.
//!
//! The service does not know which resources exist — the backend does —
//! so a resource without a rule is an ordinary one of the route's
//! organization: not private, not read-only. The backend answers 404 for
//! what it does not have.

use std::collections::BTreeMap;

use async_trait::async_trait;
use bouncer_authz::{Resource, ResourceResolver};
use bouncer_core::Fault;

/// The `[resources]` tables, as a [`ResourceResolver`].
#[derive(Debug, Clone, Default)]
pub(crate) struct FileResources {
    rules: BTreeMap<(String, String), Resource>,
}

impl FileResources {
    /// Adds (or replaces) the rule of `organization`/`id`.
    pub(crate) fn insert(&mut self, organization: &str, id: &str, resource: Resource) {
        self.rules
            .insert((organization.to_owned(), id.to_owned()), resource);
    }

    /// The rule of `organization`/`id`, if there is one.
    pub(crate) fn get(&self, organization: &str, id: &str) -> Option<&Resource> {
        self.rules.get(&(organization.to_owned(), id.to_owned()))
    }

    /// How many rules.
    pub(crate) fn len(&self) -> usize {
        self.rules.len()
    }
}

#[async_trait]
impl ResourceResolver for FileResources {
    async fn resolve(
        &self,
        organization: Option<&str>,
        id: &str,
    ) -> Result<Option<Resource>, Fault> {
        let rule = organization.and_then(|org| self.get(org, id));
        Ok(Some(rule.cloned().unwrap_or_else(|| Resource {
            organization: organization.map(str::to_owned),
            private: None,
            read_only: false,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bouncer_authz::AccessList;

    #[tokio::test]
    async fn unknown_resources_are_ordinary_ones_of_the_organization() {
        let mut r = FileResources::default();
        r.insert(
            "acme",
            "roadmap",
            Resource {
                organization: Some("acme".into()),
                private: Some(AccessList {
                    users: vec!["alice".into()],
                    roles: Vec::new(),
                }),
                read_only: false,
            },
        );
        let known = r.resolve(Some("acme"), "roadmap").await.unwrap().unwrap();
        assert!(known.private.is_some());
        let other = r.resolve(Some("globex"), "roadmap").await.unwrap().unwrap();
        assert_eq!(other.organization.as_deref(), Some("globex"));
        assert!(other.private.is_none() && !other.read_only);
        let none = r.resolve(None, "roadmap").await.unwrap().unwrap();
        assert!(none.organization.is_none() && none.private.is_none());
        assert_eq!(r.len(), 1);
    }
}

//! The policy document: the serde shape of a policy file, with the place
//! of every name kept for errors.

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::Deserialize;
use toml::Spanned;

use crate::error::{parse_toml, PolicyError};

/// The top-level tables of a policy file that belong to other loaders. The
/// policy document accepts them without reading them; any other unknown
/// table or key is an error (a typo such as `[rolez]` must not pass):
///
/// | table | read by |
/// |---|---|
/// | `[guards]` | [`GuardConfig::from_file`](crate::GuardConfig::from_file) (this crate) |
/// | `[credentials]` | `CredentialsConfig::from_file` (bouncer-authn's `config` module) |
pub const OTHER_LOADERS_TABLES: &[&str] = &["guards", "credentials"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Document {
    #[serde(default)]
    pub(super) permissions: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub(super) roles: BTreeMap<Spanned<String>, RoleDoc>,
    #[serde(default)]
    pub(super) global_roles: BTreeMap<Spanned<String>, RoleDoc>,
    #[serde(default)]
    pub(super) organizations: BTreeMap<Spanned<String>, OrgDoc>,
    #[serde(default)]
    pub(super) principals: BTreeMap<Spanned<String>, PrincipalDoc>,
    // The tables of OTHER_LOADERS_TABLES, accepted and not read.
    #[serde(default, rename = "guards")]
    _guards: Option<IgnoredAny>,
    #[serde(default, rename = "credentials")]
    _credentials: Option<IgnoredAny>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RoleDoc {
    #[serde(default)]
    pub(super) inherits: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) permissions: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct OrgDoc {
    #[serde(default)]
    pub(super) members: BTreeMap<Spanned<String>, Vec<Spanned<String>>>,
    #[serde(default)]
    pub(super) grants: BTreeMap<Spanned<String>, Vec<Spanned<String>>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct PrincipalDoc {
    #[serde(default)]
    pub(super) state: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) global_roles: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) permissions: Vec<Spanned<String>>,
}

impl Document {
    /// Parses policy text; `file` names it in errors.
    pub(super) fn parse(file: &str, text: &str) -> Result<Self, PolicyError> {
        parse_toml(file, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PolicyErrorKind;

    #[test]
    fn the_tables_of_other_loaders_are_accepted_unread_and_nothing_else() {
        for table in OTHER_LOADERS_TABLES {
            let text = format!("[{table}]\nanything = {{ at = \"all\" }}\n");
            assert!(Document::parse("p.toml", &text).is_ok(), "{table}");
        }
        for typo in ["guard", "credential", "rolez", "Guards"] {
            let e = Document::parse("p.toml", &format!("[{typo}]\n")).unwrap_err();
            assert!(matches!(e.kind, PolicyErrorKind::Syntax(_)), "{typo}: {e}");
            assert_eq!(e.line, 1, "{e}");
        }
    }
}

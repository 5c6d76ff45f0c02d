//! Where the entries of a policy file are written, so a refusal can name
//! the rule or role behind it ([`bouncer_core::PolicyRule`], read by the
//! decision log and `bouncer explain`): the line of each organization's
//! `members` and `grants` tables and of every entry in them, of each
//! `[principals.<subject>]` and `[global_roles.<role>]` table.
//!
//! Built once when a file is loaded; looked up only when a request is
//! refused, so allowed decisions stay allocation-free.

use std::collections::HashMap;
use std::sync::Arc;

use bouncer_core::PolicyRule;

/// The places of a policy file's entries.
#[derive(Debug, Default)]
pub struct Positions {
    rules: HashMap<String, Arc<PolicyRule>>,
}

fn key(parts: &[&str]) -> String {
    parts.join("\u{0}")
}

/// `a."b c".d` → `["a", "b c", "d"]` (quoted keys without their quotes).
fn header_path(inner: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for c in inner.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => quote = Some(c),
            (None, '.') => out.push(std::mem::take(&mut cur).trim().to_owned()),
            (None, c) => cur.push(c),
        }
    }
    out.push(cur.trim().to_owned());
    out
}

impl Positions {
    /// Scans `text`, the policy file `file`.
    pub fn scan(file: &str, text: &str) -> Self {
        let file: Arc<str> = Arc::from(file);
        let mut rules = HashMap::new();
        let mut table: Vec<String> = Vec::new();
        let mut add = |k: String, line: usize, what: String| {
            let line = u32::try_from(line + 1).unwrap_or(u32::MAX);
            rules
                .entry(k)
                .or_insert_with(|| Arc::new(PolicyRule::new(Arc::clone(&file), line, what)));
        };
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            if let Some(inner) = line.strip_prefix('[').filter(|_| !line.starts_with("[[")) {
                let inner = inner.split(']').next().unwrap_or_default();
                table = header_path(inner);
                let t: Vec<&str> = table.iter().map(String::as_str).collect();
                match t.as_slice() {
                    ["organizations", org, "members"] => add(
                        key(&["members", org]),
                        i,
                        format!("[organizations.{org}.members]"),
                    ),
                    ["principals", subject] => add(
                        key(&["principal", subject]),
                        i,
                        format!("[principals.{subject}]"),
                    ),
                    ["global_roles", role] => {
                        add(key(&["global_roles"]), i, format!("[global_roles.{role}]"));
                    }
                    _ => {}
                }
                continue;
            }
            let Some((k, _)) = line.split_once('=') else {
                continue;
            };
            let k = k.trim().trim_matches(['"', '\'']);
            let t: Vec<&str> = table.iter().map(String::as_str).collect();
            match t.as_slice() {
                ["organizations", org, kind @ ("members" | "grants")] => {
                    let kind = if *kind == "members" {
                        "member"
                    } else {
                        "grant"
                    };
                    add(key(&[kind, org, k]), i, line.to_owned());
                }
                ["principals", subject] if k == "global_roles" => {
                    add(key(&["principal_roles", subject]), i, line.to_owned());
                }
                _ => {}
            }
        }
        Self { rules }
    }

    fn get(&self, parts: &[&str]) -> Option<Arc<PolicyRule>> {
        self.rules.get(&key(parts)).cloned()
    }

    /// The entry behind a refusal of `subject` for `reason` in
    /// `organization`: the members table (tenant), the subject's member or
    /// grant entry (permission, scope), its principal table or the global
    /// roles (elevation).
    pub fn rule_for(
        &self,
        reason: bouncer_core::ForbiddenReason,
        subject: &str,
        organization: Option<&str>,
    ) -> Option<Arc<PolicyRule>> {
        use bouncer_core::ForbiddenReason as R;
        match reason {
            R::TenantMismatch => self.get(&["members", organization?]),
            R::InsufficientPermission | R::InsufficientScope => match organization {
                Some(org) => self
                    .get(&["member", org, subject])
                    .or_else(|| self.get(&["grant", org, subject])),
                None => self
                    .get(&["principal_roles", subject])
                    .or_else(|| self.get(&["principal", subject])),
            },
            R::ElevationRequired => self
                .get(&["principal_roles", subject])
                .or_else(|| self.get(&["principal", subject]))
                .or_else(|| self.get(&["global_roles"])),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bouncer_core::ForbiddenReason as R;

    #[test]
    fn entries_are_found_by_line() {
        let text = "permissions = [\"a\"]\n[roles.viewer]\npermissions = [\"a\"]\n\n[organizations.acme.members]\nalice = [\"viewer\"]\n\"bob\" = [\"viewer\"]\n[organizations.acme.grants]\nsvc = [\"a\"]\n[principals.erin]\nglobal_roles = [\"admin\"]\n[global_roles.admin]\npermissions = [\"a\"]\n";
        let p = Positions::scan("p.toml", text);
        let at = |r, s, o| p.rule_for(r, s, o).map(|r| (r.line(), r.what().to_owned()));
        assert_eq!(
            at(R::InsufficientPermission, "alice", Some("acme")),
            Some((6, "alice = [\"viewer\"]".into()))
        );
        assert_eq!(
            at(R::InsufficientPermission, "bob", Some("acme")).map(|x| x.0),
            Some(7)
        );
        assert_eq!(
            at(R::InsufficientScope, "svc", Some("acme")).map(|x| x.0),
            Some(9)
        );
        assert_eq!(
            at(R::TenantMismatch, "carol", Some("acme")),
            Some((5, "[organizations.acme.members]".into()))
        );
        assert_eq!(at(R::TenantMismatch, "carol", Some("globex")), None);
        assert_eq!(
            at(R::ElevationRequired, "erin", None).map(|x| x.0),
            Some(11)
        );
        assert_eq!(
            at(R::ElevationRequired, "alice", None).map(|x| x.0),
            Some(12)
        );
        assert_eq!(at(R::NotShared, "alice", Some("acme")), None);
        assert_eq!(
            p.rule_for(R::TenantMismatch, "x", Some("acme"))
                .unwrap()
                .file(),
            "p.toml"
        );
    }
}

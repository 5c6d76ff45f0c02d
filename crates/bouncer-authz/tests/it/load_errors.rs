//! Every kind of bad policy file names the file, the line and the problem.

use bouncer_authz::{Policy, PolicyErrorKind};

fn err(text: &str) -> bouncer_authz::PolicyError {
    Policy::from_toml("bad.toml", text).unwrap_err()
}

#[test]
fn unknown_role_names_its_line() {
    let e = err("[roles.viewer]\npermissions = [\"documents:read\"]\n\n[organizations.acme.members]\nalice = [\"editor\"]\n");
    assert_eq!(e.kind, PolicyErrorKind::UnknownRole("editor".into()));
    assert_eq!((e.file.as_str(), e.line), ("bad.toml", 5));
    assert!(e.to_string().starts_with("bad.toml:5:"), "{e}");
}

#[test]
fn cycles_are_named() {
    let e = err("[roles.a]\ninherits = [\"b\"]\n[roles.b]\ninherits = [\"c\"]\n[roles.c]\ninherits = [\"a\"]\n");
    match &e.kind {
        PolicyErrorKind::RoleCycle(path) => {
            assert_eq!(path.first(), path.last());
            assert!(path.len() == 4, "{path:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        e.to_string().contains("a -> b -> c -> a") || e.to_string().contains("cycle"),
        "{e}"
    );
    assert!(e.line > 0);
    let e = err("[roles.a]\ninherits = [\"a\"]\n");
    assert!(matches!(e.kind, PolicyErrorKind::RoleCycle(_)));
}

#[test]
fn unknown_parent_role() {
    let e = err("[roles.a]\ninherits = [\"ghost\"]\n");
    assert_eq!(e.kind, PolicyErrorKind::UnknownRole("ghost".into()));
    assert_eq!(e.line, 2);
}

#[test]
fn duplicate_member_is_refused() {
    // TOML itself refuses a key twice in one table.
    let e = err("[roles.v]\npermissions=[\"d:r\"]\n[organizations.acme.members]\nalice = [\"v\"]\nalice = [\"v\"]\n");
    assert_eq!(e.line, 5, "{e}");
    assert!(e.to_string().contains("duplicate"), "{e}");
}

#[test]
fn bad_cidr() {
    let e = err("[guards]\ndeny_ips = [\"203.0.113.0/24\", \"300.1.1.1/8\"]\n");
    assert_eq!(e.kind, PolicyErrorKind::BadCidr("300.1.1.1/8".into()));
    assert_eq!(e.line, 2);
}

#[test]
fn unknown_permission_when_declared() {
    let e =
        err("permissions = [\"documents:read\"]\n[roles.v]\npermissions = [\"documents:reed\"]\n");
    assert_eq!(
        e.kind,
        PolicyErrorKind::UnknownPermission("documents:reed".into())
    );
    assert_eq!(e.line, 3);
}

#[test]
fn malformed_permission_state_and_syntax() {
    let e = err("[roles.v]\npermissions = [\"read\"]\n");
    assert_eq!(e.kind, PolicyErrorKind::InvalidPermission("read".into()));
    let e = err("[principals.dave]\nstate = \"frozen\"\n");
    assert_eq!(e.kind, PolicyErrorKind::BadState("frozen".into()));
    assert_eq!(e.line, 2);
    let e = err("[roles.v\n");
    assert!(matches!(e.kind, PolicyErrorKind::Syntax(_)));
    assert_eq!(e.line, 1);
    let e = err("[rolez.v]\n");
    assert!(
        matches!(e.kind, PolicyErrorKind::Syntax(_)),
        "unknown tables are typos"
    );
    let e = err("[principals.erin]\nglobal_roles = [\"root\"]\n");
    assert_eq!(e.kind, PolicyErrorKind::UnknownGlobalRole("root".into()));
}

#[test]
fn a_bad_file_never_replaces_a_good_snapshot() {
    let dir = std::env::temp_dir().join(format!("bouncer-authz-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("policy.toml");
    std::fs::write(
        &path,
        "[roles.v]\npermissions=[\"d:r\"]\n[organizations.acme.members]\nalice=[\"v\"]\n",
    )
    .unwrap();
    let policy = Policy::from_file(&path).unwrap();
    assert!(policy.snapshot().is_member("alice", "acme"));
    std::fs::write(&path, "[organizations.acme.members]\nalice=[\"ghost\"]\n").unwrap();
    let e = policy.reload().unwrap_err();
    assert!(e.file.ends_with("policy.toml"));
    assert!(
        policy.snapshot().is_member("alice", "acme"),
        "the old snapshot still serves"
    );
    std::fs::write(
        &path,
        "[roles.v]\npermissions=[\"d:r\"]\n[organizations.acme.members]\nbob=[\"v\"]\n",
    )
    .unwrap();
    policy.reload().unwrap();
    assert!(!policy.snapshot().is_member("alice", "acme"));
    assert!(policy.snapshot().is_member("bob", "acme"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_policy_document_accepts_only_the_listed_tables_of_other_loaders() {
    use bouncer_authz::policy::{compile_snapshot_str, OTHER_LOADERS_TABLES};
    assert_eq!(OTHER_LOADERS_TABLES, ["guards", "credentials"]);
    for table in OTHER_LOADERS_TABLES {
        let text =
            format!("[roles.v]\npermissions = [\"d:r\"]\n[{table}.anything]\nat = \"all\"\n");
        assert!(compile_snapshot_str("p.toml", &text).is_ok(), "{table}");
    }
    // bouncer-authn's table passes the policy unread; a typo of it does not.
    let p = Policy::from_toml(
        "p.toml",
        "[credentials.passwords]\nalice = \"$argon2id$...\"\n",
    );
    assert!(p.is_ok(), "{p:?}");
    let e = err("[roles.v]\n[credential.passwords]\nalice = \"x\"\n");
    assert!(matches!(e.kind, PolicyErrorKind::Syntax(_)), "{e}");
    assert_eq!(e.line, 2, "{e}");
}

#[test]
fn each_loader_reads_its_own_table_of_one_file() {
    use bouncer_authz::GuardConfig;
    let dir = std::env::temp_dir().join(format!("bouncer-authz-loaders-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("policy.toml");
    std::fs::write(
        &path,
        "[roles.v]\npermissions = [\"d:r\"]\n[organizations.acme.members]\nalice = [\"v\"]\n\
         [guards]\ndeny_ips = [\"203.0.113.0/24\"]\n\
         [credentials.passwords]\nalice = \"$argon2id$...\"\n",
    )
    .unwrap();
    let guards = GuardConfig::from_file(&path).unwrap();
    assert_eq!(guards.deny_ips().len(), 1);
    let policy = Policy::from_file(&path).unwrap();
    assert!(policy.snapshot().is_member("alice", "acme"));
    assert_eq!(policy.guards().deny_ips(), guards.deny_ips());

    // The guard loader's errors name the file, line and column too.
    std::fs::write(&path, "[roles.v]\n[guards]\ndeny_ips = [\"300.0.0.0/8\"]\n").unwrap();
    let e = GuardConfig::from_file(&path).unwrap_err();
    assert_eq!(e.kind, PolicyErrorKind::BadCidr("300.0.0.0/8".into()));
    assert!(e.file.ends_with("policy.toml"));
    assert_eq!((e.line, e.column), (3, 13), "{e}");
    let missing = GuardConfig::from_file(dir.join("missing.toml")).unwrap_err();
    assert!(matches!(missing.kind, PolicyErrorKind::Io(_)), "{missing}");
    std::fs::remove_dir_all(&dir).ok();
}

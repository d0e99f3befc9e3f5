//! The client commands against a live `TestServer`: every subcommand, as a table and
//! as `-o json`, its exit codes, and the files it trusts or writes.

use serde_json::Value;

use super::common::TestServer;
use super::kh::{Kh, mode, write_mode};

/// The `name` of each item of a JSON array.
fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| item["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn every_client_command_has_help_with_an_example() {
    let s = TestServer::start();
    let kh = Kh::of(&s);
    let commands: &[&[&str]] = &[
        &["projects"],
        &["projects", "list"],
        &["projects", "get"],
        &["projects", "create"],
        &["projects", "update"],
        &["projects", "delete"],
        &["sa"],
        &["service-accounts", "list"],
        &["sa", "get"],
        &["sa", "create"],
        &["sa", "update"],
        &["sa", "delete"],
        &["sa", "renew-token"],
        &["groups", "list"],
        &["groups", "get"],
        &["groups", "create"],
        &["groups", "update"],
        &["groups", "delete"],
        &["groups", "members"],
        &["groups", "add-members"],
        &["groups", "remove-members"],
        &["roles", "list"],
        &["roles", "get"],
        &["roles", "create"],
        &["roles", "update"],
        &["roles", "delete"],
        &["credentials", "list"],
        &["credentials", "get"],
        &["credentials", "create-secret"],
        &["credentials", "add-key"],
        &["credentials", "rotate"],
        &["credentials", "revoke"],
        &["audit-events", "list"],
        &["signing-keys", "list"],
        &["signing-keys", "rotate"],
        &["backup"],
        &["integrity-check"],
        &["token"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.push("--help");
        let help = kh.run(&args);
        assert!(
            help.ok().contains("Example:\n  "),
            "{command:?}: {}",
            help.stdout
        );
        assert!(help.stdout.contains("--url"), "{command:?}");
    }
}

#[test]
fn completions_cover_the_client_commands() {
    let s = TestServer::start();
    let kh = Kh::of(&s);
    for shell in ["bash", "zsh", "fish"] {
        let script = kh.run(&["completions", shell]).ok().to_owned();
        for word in [
            "service-accounts",
            "add-members",
            "create-secret",
            "apply",
            "export",
        ] {
            assert!(script.contains(word), "{shell}: {word}");
        }
    }
}

#[test]
fn projects_groups_and_roles_as_tables_and_json() {
    let s = TestServer::start();
    let kh = Kh::of(&s);
    let created = kh.json(&["projects", "create", "payments", "--max-active", "3"]);
    assert_eq!(created["credential_policy"]["max_active"], 3);
    kh.run(&["projects", "create", "search", "--metadata", "team=a"])
        .ok();
    let table = kh.run(&["projects", "list"]).ok().to_owned();
    assert!(table.starts_with("NAME "), "{table}");
    assert!(
        table.contains("payments") && table.contains("search"),
        "{table}"
    );
    assert_eq!(
        names(&kh.json(&["projects", "list"])),
        ["payments", "search"]
    );
    kh.run(&[
        "projects",
        "update",
        "search",
        "--description",
        "Search team",
    ])
    .ok();
    assert_eq!(
        kh.json(&["projects", "get", "search"])["description"],
        "Search team"
    );
    let yaml = kh
        .run(&["projects", "get", "search", "-o", "yaml"])
        .ok()
        .to_owned();
    assert!(yaml.contains("name: search"), "{yaml}");

    // Roles and groups, in a project named by --project and by KEYHOUSE_PROJECT.
    let p = ["--project", "payments"];
    let role = kh.json(
        &[
            &["roles", "create", "auditor", "--permission", "audit:read"][..],
            &p,
        ]
        .concat(),
    );
    assert_eq!(role["project"], "payments");
    kh.run(
        &[
            &[
                "roles",
                "update",
                "auditor",
                "--permission",
                "audit:read",
                "--permission",
                "roles:read",
            ][..],
            &p,
        ]
        .concat(),
    )
    .ok();
    let role = kh.json(&[&["roles", "get", "auditor"][..], &p].concat());
    assert_eq!(
        role["permissions"],
        serde_json::json!(["audit:read", "roles:read"])
    );
    assert!(
        kh.run(&[&["roles", "list"][..], &p].concat())
            .ok()
            .contains("auditor")
    );
    assert!(
        names(&kh.json(&["roles", "list"]))
            .iter()
            .all(|n| n != "auditor")
    );

    kh.run(
        &[
            &["groups", "create", "deployers", "--role", "auditor"][..],
            &p,
        ]
        .concat(),
    )
    .ok();
    kh.run(&[&["sa", "create", "ci-bot", "--no-secret"][..], &p].concat())
        .ok();
    kh.run(&[&["sa", "create", "cd-bot", "--no-secret"][..], &p].concat())
        .ok();
    let in_payments = |args: &[&str]| {
        let mut command = kh.command();
        command
            .args(args)
            .args(["-o", "json"])
            .env("KEYHOUSE_PROJECT", "payments");
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let members = in_payments(&["groups", "add-members", "deployers", "ci-bot", "cd-bot"]);
    assert_eq!(names(&members), ["cd-bot", "ci-bot"]);
    let members = in_payments(&["groups", "remove-members", "deployers", "cd-bot"]);
    assert_eq!(names(&members), ["ci-bot"]);
    assert_eq!(
        names(&in_payments(&["groups", "members", "deployers"])),
        ["ci-bot"]
    );
    assert_eq!(in_payments(&["groups", "get", "deployers"])["sa_count"], 1);
    kh.run(
        &[
            &[
                "groups",
                "update",
                "deployers",
                "--no-roles",
                "--display-name",
                "Deploy",
            ][..],
            &p,
        ]
        .concat(),
    )
    .ok();
    let group = in_payments(&["groups", "get", "deployers"]);
    assert_eq!(
        (group["roles"].clone(), group["display_name"].clone()),
        (serde_json::json!([]), "Deploy".into())
    );
    let table = kh
        .run(&[&["groups", "list"][..], &p].concat())
        .ok()
        .to_owned();
    assert!(
        table.starts_with("NAME") && table.contains("deployers"),
        "{table}"
    );

    kh.run(&[&["groups", "delete", "deployers"][..], &p].concat())
        .ok();
    kh.run(&[&["roles", "delete", "auditor"][..], &p].concat())
        .ok();
    kh.run(&["projects", "delete", "payments"])
        .fails(1, "FAILED_PRECONDITION");
    kh.run(&["projects", "delete", "payments", "--force"]).ok();
    assert_eq!(names(&kh.json(&["projects", "list"])), ["search"]);
}

#[test]
fn accounts_and_credentials_and_their_secrets() {
    let s = TestServer::start();
    let kh = Kh::of(&s);
    // A new secret alone on standard output, not a terminal here: no warning.
    let made = kh.run(&["sa", "create", "ci-bot", "--role", "viewer"]);
    let secret = made.ok().trim().to_owned();
    assert!(
        secret.starts_with("kh_") && !made.stderr.contains("warning"),
        "{}",
        made.stderr
    );
    assert_eq!(s.get_as(&secret, "/api/v1/me").status, 200);
    // As JSON, the API's answer, secret included.
    let json = kh.json(&["sa", "create", "cd-bot"]);
    assert!(json["token"].as_str().unwrap().starts_with("kh_"));
    // Into a file of mode 0600, and then standard output holds no secret.
    let file = kh.path("release.secret");
    let out = kh.run(&[
        "sa",
        "create",
        "release-bot",
        "--secret-file",
        file.to_str().unwrap(),
        "-o",
        "json",
    ]);
    assert_eq!(mode(&file), 0o600);
    let release = std::fs::read_to_string(&file).unwrap();
    assert!(!out.ok().contains(release.trim()), "{}", out.stdout);
    assert_eq!(out.json()["name"], "release-bot");
    assert_eq!(s.get_as(release.trim(), "/api/v1/me").status, 200);

    let table = kh.run(&["sa", "list"]).ok().to_owned();
    assert!(
        table.starts_with("NAME") && table.contains("release-bot"),
        "{table}"
    );
    kh.run(&[
        "sa",
        "update",
        "cd-bot",
        "--status",
        "disabled",
        "--metadata",
        "team=x",
    ])
    .ok();
    let cd = kh.json(&["sa", "get", "cd-bot"]);
    assert_eq!(
        (cd["status"].as_str(), cd["metadata"]["team"].as_str()),
        (Some("disabled"), Some("x"))
    );
    assert_eq!(
        names(&kh.json(&["sa", "list", "--status", "disabled"])),
        ["cd-bot"]
    );
    assert_eq!(
        names(&kh.json(&["sa", "list", "--role", "viewer"])),
        ["ci-bot"]
    );

    // Credentials: a second secret into a file, a public key, a rotation, a revocation.
    let second = kh.path("second.secret");
    kh.run(&[
        "credentials",
        "create-secret",
        "ci-bot",
        "--name",
        "deploy",
        "--secret-file",
        second.to_str().unwrap(),
    ])
    .ok();
    assert_eq!(mode(&second), 0o600);
    let pem = kh.path("key.pem");
    std::fs::write(&pem, rcgen::KeyPair::generate().unwrap().public_key_pem()).unwrap();
    let key = kh.json(&[
        "credentials",
        "add-key",
        "ci-bot",
        "--public-key-file",
        pem.to_str().unwrap(),
        "--name",
        "laptop",
    ]);
    assert_eq!(key["type"], "public_key");
    let listed = kh.json(&["credentials", "list", "ci-bot"]);
    assert_eq!(listed.as_array().unwrap().len(), 3, "{listed}");
    let table = kh.run(&["credentials", "list", "ci-bot"]).ok().to_owned();
    assert!(
        table.starts_with("ID") && table.contains("laptop"),
        "{table}"
    );
    let id = key["id"].as_str().unwrap();
    assert_eq!(
        kh.json(&["credentials", "get", "ci-bot", id])["name"],
        "laptop"
    );
    kh.run(&["credentials", "revoke", "ci-bot", id]).ok();
    kh.run(&["credentials", "get", "ci-bot", id])
        .fails(1, "NOT_FOUND");
    let rotated = kh
        .run(&["credentials", "rotate", "ci-bot"])
        .ok()
        .trim()
        .to_owned();
    assert_eq!(s.get_as(&rotated, "/api/v1/me").status, 200);
    assert_eq!(
        s.get_as(&secret, "/api/v1/me").status,
        401,
        "no grace period: the old one stops"
    );

    let renewed = kh.json(&["sa", "renew-token", "ci-bot"]);
    let renewed = renewed["token"].as_str().unwrap();
    assert_eq!(s.get_as(renewed, "/api/v1/me").status, 200);
    assert_eq!(s.get_as(&rotated, "/api/v1/me").status, 401);

    kh.run(&["sa", "delete", "cd-bot"]).ok();
    kh.run(&["sa", "get", "cd-bot"]).fails(1, "NOT_FOUND");
}

#[test]
fn audit_signing_keys_backup_integrity_and_token() {
    let s = TestServer::start();
    let kh = Kh::of(&s);
    kh.run(&["sa", "create", "ci-bot", "--no-secret"]).ok();
    let events = kh.json(&["audit-events", "list", "--action", "service_account.create"]);
    assert_eq!(events.as_array().unwrap().len(), 2, "{events}");
    let table = kh
        .run(&["audit-events", "list", "--limit", "1"])
        .ok()
        .to_owned();
    assert_eq!(table.lines().count(), 2, "{table}");
    assert!(
        table.starts_with("SEQ") && table.contains("bootstrap"),
        "{table}"
    );

    assert_eq!(
        kh.json(&["signing-keys", "list"]).as_array().unwrap().len(),
        1
    );
    kh.run(&["signing-keys", "rotate"]).ok();
    assert!(kh.run(&["signing-keys", "list"]).ok().contains("ES256"));
    assert_eq!(
        kh.json(&["signing-keys", "list"]).as_array().unwrap().len(),
        2
    );

    let backup = kh.path("backup.redb");
    kh.run(&["backup", "--to", backup.to_str().unwrap()]).ok();
    assert_eq!(mode(&backup), 0o600);
    assert!(std::fs::metadata(&backup).unwrap().len() > 0);
    assert_eq!(kh.json(&["integrity-check"])["ok"], true);
    assert!(kh.run(&["integrity-check"]).ok().contains("ok "));

    let token = kh
        .run(&["token", "--scope", "groups:read"])
        .ok()
        .trim()
        .to_owned();
    let me = s.get_as(&token, "/api/v1/me");
    assert_eq!(me.status, 200);
    assert_eq!(me.body["permissions"], serde_json::json!(["groups:read"]));
    let full = kh.json(&["token"]);
    assert_eq!(full["token_type"], "Bearer");
}

#[test]
fn exit_codes_name_the_cause() {
    let s = TestServer::start();
    let kh = Kh::of(&s);
    kh.run(&["sa", "get", "nobody"]).fails(1, "NOT_FOUND");
    kh.run(&["roles", "create", "Bad", "--permission", "x"])
        .fails(1, "INVALID_ARGUMENT");
    kh.run(&["sa", "frobnicate"])
        .fails(2, "unrecognized subcommand");
    let mut elsewhere = kh.command();
    let out = elsewhere
        .args(["sa", "list"])
        .env("KEYHOUSE_URL", "http://127.0.0.1:1")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let viewer = s.create_account("viewer-bot", &["viewer"]);
    let as_viewer = Kh::with_token(&s.base, &viewer);
    as_viewer
        .run(&["sa", "create", "x", "--no-secret"])
        .fails(1, "PERMISSION_DENIED");
    let nobody = Kh::with_token(&s.base, "kh_notasecret");
    nobody.run(&["sa", "list"]).fails(1, "UNAUTHENTICATED");
}

#[test]
fn no_secret_is_taken_from_the_command_line() {
    let s = TestServer::start();
    let kh = Kh::of(&s);
    kh.run(&["sa", "list", "--token", &s.token])
        .fails(2, "--token");
    // Anywhere else on the line, it is refused before anything is sent.
    kh.run(&["sa", "get", &s.token]).fails(2, "shows in ps");
    kh.run(&["sa", "create", "x", &format!("--description={}", s.token)])
        .fails(2, "shows in ps");
    assert_eq!(
        kh.run(&["sa", "get", "x"]).code,
        Some(1),
        "nothing was created"
    );
    // The variable works, for a pipeline's secret store.
    let mut command = kh.command();
    let out = command
        .args(["sa", "list"])
        .env_remove("KEYHOUSE_TOKEN_FILE")
        .env("KEYHOUSE_TOKEN", &s.token)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_profile_and_the_token_file_are_mode_checked() {
    let s = TestServer::start();
    let kh = Kh::of(&s);
    let token = kh.path("admin.token");
    write_mode(&token, &s.token, 0o644);
    let mut command = kh.command();
    let out = command
        .args(["sa", "list"])
        .env("KEYHOUSE_TOKEN_FILE", &token)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("chmod 600"));
    std::fs::set_permissions(&token, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();

    // A profile supplies the URL, the token file and the project.
    kh.run(&["projects", "create", "payments"]).ok();
    kh.run(&[
        "sa",
        "create",
        "pay-bot",
        "--project",
        "payments",
        "--no-secret",
    ])
    .ok();
    let profile_dir = kh.path(".config/keyhouse");
    std::fs::create_dir_all(&profile_dir).unwrap();
    let profile = profile_dir.join("client.toml");
    let text = format!(
        "url = \"{}\"\ntoken_file = \"{}\"\nproject = \"payments\"\n",
        s.base,
        token.display()
    );
    write_mode(&profile, &text, 0o600);
    let bare = |command: &mut std::process::Command| {
        command
            .env_remove("KEYHOUSE_URL")
            .env_remove("KEYHOUSE_TOKEN_FILE");
        let out = command.args(["sa", "list", "-o", "json"]).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stdout, stderr) = bare(&mut kh.command());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(names(&serde_json::from_str(&stdout).unwrap()), ["pay-bot"]);
    // Others may write it: refused, as it could send the token elsewhere.
    std::fs::set_permissions(
        &profile,
        std::os::unix::fs::PermissionsExt::from_mode(0o666),
    )
    .unwrap();
    let (code, _, stderr) = bare(&mut kh.command());
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("client.toml"), "{stderr}");
}

#[test]
fn lists_page_through_the_whole_collection_unless_limited() {
    let s = TestServer::start();
    let kh = Kh::of(&s);
    for i in 0..6 {
        kh.run(&["sa", "create", &format!("bot-{i}"), "--no-secret"])
            .ok();
    }
    let all = kh.json(&["sa", "list", "--page-size", "2"]);
    assert_eq!(all.as_array().unwrap().len(), 7, "admin and six bots");
    let some = kh.json(&["sa", "list", "--page-size", "2", "--limit", "3"]);
    assert_eq!(names(&some), ["admin", "bot-0", "bot-1"]);
    let table = kh.run(&["sa", "list", "--limit", "2"]).ok().to_owned();
    assert_eq!(table.lines().count(), 3, "{table}");
}

#[test]
fn a_private_ca_is_trusted_with_ca_file_only() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let (cert_file, key_file) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_file, cert.cert.pem()).unwrap();
    std::fs::write(&key_file, cert.key_pair.serialize_pem()).unwrap();
    let s = TestServer::start_with(|c| {
        c.server.tls = Some(keyhouse::config::TlsConfig {
            cert_file: Some(cert_file.clone()),
            key_file: Some(key_file.clone()),
        });
    });
    assert!(s.base.starts_with("https://"), "{}", s.base);
    let kh = Kh::of(&s);
    kh.run(&["sa", "list"]).fails(3, "cannot reach");
    let trusted = kh.run(&["sa", "list", "--ca-file", cert_file.to_str().unwrap()]);
    assert!(trusted.ok().contains("admin"), "{}", trusted.stdout);
    kh.run(&["sa", "list", "--ca-file", key_file.to_str().unwrap()])
        .fails(2, "no PEM certificate");
}

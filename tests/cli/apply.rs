//! `keyhouse apply` and `keyhouse export` against live `TestServer`s, on a file of 3
//! projects, 50 accounts, their groups and roles.

use serde_json::{Value, json};

use super::common::TestServer;
use super::kh::{Kh, mode};

const PROJECTS: [&str; 3] = ["alpha", "beta", "gamma"];

/// The file: in each project a custom role `deployer`, groups `ops` (bound to it) and
/// `readers` (viewer); 50 accounts spread over the projects, each in one group.
fn manifest() -> Value {
    let projects: Vec<Value> = PROJECTS
        .iter()
        .map(|p| json!({"name": p, "description": format!("team {p}"), "metadata": {"cost-centre": "42"}}))
        .collect();
    let roles: Vec<Value> = PROJECTS
        .iter()
        .map(|p| json!({"name": "deployer", "project": p, "permissions": ["deploy:run", "groups:read"]}))
        .collect();
    let mut groups = Vec::new();
    for p in PROJECTS {
        groups.push(json!({"name": "ops", "project": p, "roles": ["deployer"]}));
        groups.push(json!({"name": "readers", "project": p, "roles": ["viewer"], "display_name": "Readers"}));
    }
    let accounts: Vec<Value> = (0..50)
        .map(|i| {
            let group = if i % 2 == 0 { "ops" } else { "readers" };
            json!({
                "name": format!("bot-{i:02}"),
                "project": PROJECTS[i % 3],
                "roles": ["viewer"],
                "groups": [group],
                "metadata": {"owner": format!("team-{}", i % 5)},
            })
        })
        .collect();
    json!({"projects": projects, "roles": roles, "groups": groups, "service_accounts": accounts})
}

fn write(kh: &Kh, name: &str, manifest: &Value) -> String {
    let path = kh.path(name);
    std::fs::write(&path, serde_json::to_string_pretty(manifest).unwrap()).unwrap();
    path.to_str().unwrap().to_owned()
}

/// How many audit events the server holds: every change writes one.
fn events(s: &TestServer) -> usize {
    let mut count = 0;
    let mut token: Option<String> = None;
    loop {
        let path = match &token {
            Some(t) => format!("/api/v1/audit-events?per_page=1000&page_token={t}"),
            None => "/api/v1/audit-events?per_page=1000".to_owned(),
        };
        let page = s.get(&path).body;
        count += page["items"].as_array().unwrap().len();
        match page["next_page_token"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => return count,
        }
    }
}

fn account(s: &TestServer, project: &str, name: &str) -> Value {
    s.get(&format!(
        "/api/v1/projects/{project}/service-accounts/{name}"
    ))
    .body
}

#[test]
fn apply_creates_then_changes_nothing_then_exactly_the_difference_and_prunes_what_was_dropped() {
    let s = TestServer::start();
    let kh = Kh::of(&s);
    let mut file = manifest();
    let path = write(&kh, "keyhouse.json", &file);

    // A dry run plans everything and changes nothing.
    let before = events(&s);
    let plan = kh.json(&["apply", "-f", &path, "--dry-run"]);
    assert_eq!(
        plan["summary"],
        json!({"create": 62, "update": 0, "delete": 0, "unchanged": 0})
    );
    assert_eq!(events(&s), before);
    assert_eq!(s.get("/api/v1/projects").body["total_count"], 0);

    let first = kh.run(&["apply", "-f", &path]);
    assert!(first.ok().contains("create 62"), "{}", first.stdout);
    assert!(
        first
            .stderr
            .contains("[62/62] create service account beta/bot-49"),
        "{}",
        first.stderr
    );
    for (p, n) in [("alpha", 17), ("beta", 17), ("gamma", 16)] {
        let listed = s
            .get(&format!("/api/v1/projects/{p}/service-accounts"))
            .body;
        assert_eq!(listed["total_count"], n, "{p}");
    }
    let bot = account(&s, "alpha", "bot-00");
    assert_eq!(bot["groups"][0]["name"], "ops");
    assert_eq!(bot["metadata"]["keyhouse/managed-by"], "apply");
    assert_eq!(
        bot["active_credential_count"], 0,
        "no secret without --secrets-dir"
    );

    // A second run changes nothing, and says so.
    let after_first = events(&s);
    let second = kh.run(&["apply", "-f", &path]);
    assert!(
        second.ok().contains("no changes: 62 objects"),
        "{}",
        second.stdout
    );
    assert_eq!(events(&s), after_first);

    // An edited file: exactly the difference.
    file["service_accounts"][3]["description"] = json!("the release bot");
    file["groups"][1]["roles"] = json!(["viewer", "deployer"]);
    file["service_accounts"][4]["groups"] = json!(["ops", "readers"]);
    file["service_accounts"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "bot-50", "project": "beta"}));
    let path = write(&kh, "keyhouse.json", &file);
    let plan = kh.json(&["apply", "-f", &path, "--dry-run"]);
    assert_eq!(
        plan["summary"],
        json!({"create": 1, "update": 3, "delete": 0, "unchanged": 59})
    );
    let changed: Vec<&Value> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["action"] == "update")
        .collect();
    assert_eq!(
        changed[0]["changes"]["roles"]["to"],
        json!(["deployer", "viewer"]),
        "{plan}"
    );
    assert_eq!(events(&s), after_first, "the dry run changed nothing");
    let applied = kh.json(&["apply", "-f", &path]);
    assert_eq!(applied["summary"], plan["summary"]);
    assert_eq!(events(&s), after_first + 4);
    assert_eq!(
        account(&s, "alpha", "bot-03")["description"],
        "the release bot"
    );
    assert_eq!(
        account(&s, "beta", "bot-04")["groups"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert!(kh.run(&["apply", "-f", &path]).ok().contains("no changes"));

    // --prune: what the file dropped, only that; an account made by hand stays, and so
    // does the bootstrap admin.
    kh.run(&[
        "sa",
        "create",
        "by-hand",
        "--project",
        "alpha",
        "--no-secret",
    ])
    .ok();
    let accounts = file["service_accounts"].as_array_mut().unwrap();
    accounts.retain(|a| a["name"] != "bot-10" && a["name"] != "bot-11");
    let groups = file["groups"].as_array_mut().unwrap();
    groups.retain(|g| !(g["name"] == "readers" && g["project"] == "gamma"));
    for a in file["service_accounts"].as_array_mut().unwrap() {
        if a["project"] == "gamma" {
            a["groups"] = json!(["ops"]);
        }
    }
    let path = write(&kh, "keyhouse.json", &file);
    let without_prune = kh.json(&["apply", "-f", &path, "--dry-run"]);
    assert_eq!(without_prune["summary"]["delete"], 0);
    let before = events(&s);
    let plan = kh.json(&["apply", "-f", &path, "--dry-run", "--prune"]);
    let deleted: Vec<String> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["action"] == "delete")
        .map(|s| {
            format!(
                "{}/{}",
                s["project"].as_str().unwrap(),
                s["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        deleted,
        ["beta/bot-10", "gamma/bot-11", "gamma/readers"],
        "{plan}"
    );
    assert_eq!(events(&s), before, "the dry run changed nothing");
    let pruned = kh.json(&["apply", "-f", &path, "--prune"]);
    assert_eq!(pruned["summary"]["delete"], 3);
    assert_eq!(
        s.get("/api/v1/projects/beta/service-accounts/bot-10")
            .status,
        404
    );
    assert_eq!(s.get("/api/v1/projects/gamma/groups/readers").status, 404);
    assert_eq!(
        s.get("/api/v1/projects/alpha/service-accounts/by-hand")
            .status,
        200
    );
    assert_eq!(s.get("/api/v1/service-accounts/admin").status, 200);
    assert!(
        kh.run(&["apply", "-f", &path, "--prune"])
            .ok()
            .contains("no changes")
    );
}

#[test]
fn export_then_apply_on_an_empty_server_reproduces_the_same_objects() {
    let a = TestServer::start();
    let kh_a = Kh::of(&a);
    let path = write(&kh_a, "keyhouse.json", &manifest());
    kh_a.run(&["apply", "-f", &path]).ok();
    kh_a.run(&["roles", "create", "auditor", "--permission", "audit:read"])
        .ok();
    let exported = kh_a.run(&["export"]);
    let yaml = exported.ok().to_owned();
    assert!(
        yaml.contains("service_accounts:") && !yaml.contains("managed-by"),
        "{yaml}"
    );
    assert!(
        exported.stderr.contains("[4/4] exporting project gamma"),
        "{}",
        exported.stderr
    );

    let b = TestServer::start();
    let kh_b = Kh::of(&b);
    let mut apply = kh_b.command();
    apply
        .args(["apply", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = apply.spawn().unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), yaml.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        kh_b.run(&["export"]).ok(),
        yaml,
        "the same objects on both servers"
    );
    let only = kh_b
        .run(&["export", "--project", "beta", "-o", "json"])
        .json();
    assert_eq!(only["projects"].as_array().unwrap().len(), 1);
    assert_eq!(only["service_accounts"].as_array().unwrap().len(), 17);
}

#[test]
fn a_refusal_stops_the_run_with_what_was_done_and_no_partial_object() {
    let s = TestServer::start();
    let operator = s.create_account("op", &["operator"]);
    let kh = Kh::with_token(&s.base, &operator);
    let file = json!({
        "groups": [{"name": "builders"}],
        "service_accounts": [
            {"name": "a1", "groups": ["builders"]},
            {"name": "a2", "roles": ["admin"]},
            {"name": "a3"},
        ],
    });
    let path = write(&kh, "escalate.json", &file);
    let ran = kh.run(&["apply", "-f", &path]);
    ran.fails(1, "PERMISSION_DENIED");
    assert!(
        ran.stderr.contains("stopped at: create service account a2"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("done before it (2)"), "{}", ran.stderr);
    assert!(
        ran.stderr.contains("create service account a1"),
        "{}",
        ran.stderr
    );
    assert_eq!(s.get("/api/v1/service-accounts/a1").status, 200);
    assert_eq!(
        s.get("/api/v1/service-accounts/a2").status,
        404,
        "no partial object"
    );
    assert_eq!(
        s.get("/api/v1/service-accounts/a3").status,
        404,
        "nothing after the refusal"
    );
}

#[test]
fn new_secrets_go_to_files_of_mode_0600_and_toml_and_directories_are_read() {
    let s = TestServer::start();
    let kh = Kh::of(&s);
    let dir = kh.path("provision");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(
        dir.join("10-projects.toml"),
        "[[projects]]\nname = \"alpha\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("20-accounts.yaml"),
        "service_accounts:\n  - name: ci-bot\n    project: alpha\n  - name: root-bot\n",
    )
    .unwrap();
    std::fs::write(dir.join("README.md"), "not read").unwrap();
    let secrets = kh.path("secrets");
    let ran = kh.run(&[
        "apply",
        "-f",
        dir.to_str().unwrap(),
        "--secrets-dir",
        secrets.to_str().unwrap(),
    ]);
    assert!(
        !ran.ok().contains("kh_") && !ran.stderr.contains("kh_"),
        "no secret on the terminal"
    );
    for client_id in ["ci-bot@alpha", "root-bot"] {
        let file = secrets.join(format!("{client_id}.secret"));
        assert_eq!(mode(&file), 0o600, "{client_id}");
        let secret = std::fs::read_to_string(&file).unwrap();
        assert_eq!(s.get_as(secret.trim(), "/api/v1/me").status, 200);
    }
    let bad = kh.path("bad.yaml");
    std::fs::write(&bad, "service_accounts:\n  - name: x\n    colour: red\n").unwrap();
    kh.run(&["apply", "-f", bad.to_str().unwrap()])
        .fails(2, "colour");
}

#[test]
fn public_keys_are_added_once_and_known_by_their_fingerprint() {
    let s = TestServer::start();
    let kh = Kh::of(&s);
    let pem = rcgen::KeyPair::generate().unwrap().public_key_pem();
    let mut file = json!({"service_accounts": [
        {"name": "signer", "public_keys": [{"name": "runner", "public_key": pem}]},
    ]});
    let path = write(&kh, "keys.json", &file);
    kh.run(&["apply", "-f", &path]).ok();
    let listed = s.get("/api/v1/service-accounts/signer/credentials").body;
    assert_eq!(listed["items"][0]["name"], "runner");
    assert!(
        kh.run(&["apply", "-f", &path]).ok().contains("no changes"),
        "same fingerprint"
    );
    let second = rcgen::KeyPair::generate().unwrap().public_key_pem();
    file["service_accounts"][0]["public_keys"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "laptop", "public_key": second}));
    let path = write(&kh, "keys.json", &file);
    let plan = kh.json(&["apply", "-f", &path]);
    assert_eq!(plan["summary"]["update"], 1);
    assert!(
        plan["steps"][0]["changes"]["public_keys.laptop"].is_object(),
        "{plan}"
    );
    let listed = s.get("/api/v1/service-accounts/signer/credentials").body;
    assert_eq!(listed["total_count"], 2);
}

//! Upgrades keep data: databases and backups written by earlier releases (made by
//! `tests/fixtures/make_fixture.py`) open with this build, and every kind of object in
//! them reads and works: keyhouse 0.1 (`release-0.1`, before projects and the filters'
//! indexes), commit e2986d1 (`postings-1`, before the `d:` postings of display names),
//! commit e1195e4 (`postings-2`, before the condition sets), commit da0b0ee
//! (`postings-3`, before the sets of positioned trigrams) and commit 10586dd
//! (`postings-4`, the last to keep posting lists of trigrams). The fixtures hold the
//! same objects; `schema-1` (commit e812b2b, the last of schema 1) holds them and two
//! projects, one deleted, with their objects (see `check_projects`).
#![allow(clippy::unwrap_used, clippy::panic)] // tests: a failure should stop the test

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::common::{TestServer, names};
use redb::{ReadableDatabase, TableDefinition, TableHandle};
use serde_json::{Value, json};

const SA: &str = "/api/v1/service-accounts";

const RELEASE_0_1: &str = "release-0.1";
const POSTINGS_1: &str = "postings-1";
const POSTINGS_2: &str = "postings-2";
const POSTINGS_3: &str = "postings-3";
const POSTINGS_4: &str = "postings-4";
const SCHEMA_1: &str = "schema-1";
const PAY: &str = "/api/v1/projects/payments";

fn fixture(release: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(release)
        .join(name)
}

fn secrets(release: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(release, "secrets.json")).unwrap())
        .unwrap()
}

/// A server on a copy of `file` (the fixture itself stays as it is).
fn serve_copy_of(file: &Path) -> TestServer {
    TestServer::start_on_file_with(|config| {
        std::fs::copy(file, &config.storage.path).unwrap();
        std::fs::set_permissions(&config.storage.path, std::fs::Permissions::from_mode(0o600))
            .unwrap();
    })
}

/// What every upgraded database must still say and do.
fn check_fixture_data(s: &TestServer, release: &str) {
    let secrets = secrets(release);
    let admin = secrets["admin"].as_str().unwrap();
    let ci = secrets["ci_bot_rotated"].as_str().unwrap();

    let me = s.get_as(admin, "/api/v1/me");
    me.assert_status(200);
    assert_eq!(me.body["permissions"], json!(["*"]));

    // Accounts, with their fields, roles and groups.
    let bot = s.get_as(admin, &format!("{SA}/ci-bot"));
    bot.assert_status(200);
    assert_eq!(bot.body["display_name"], "CI bot");
    assert_eq!(bot.body["description"], "Builds things.");
    assert_eq!(bot.body["metadata"], json!({"team": "infra"}));
    assert_eq!(bot.body["external_id"], "ext-1");
    assert_eq!(bot.body["roles"], json!(["deployer"]));
    assert_eq!(bot.body["groups"][0]["name"], "builders");
    let all = s.get_as(admin, SA);
    assert_eq!(names(&all.body), ["admin", "ci-bot", "reader"]);
    assert_eq!(all.body["total_count"], 3);
    // The filters' indexes, which 0.1 did not keep (nor e2986d1 those of display
    // names, nor e1195e4 the condition sets that count combined conditions, nor
    // da0b0ee the positioned trigrams that count queries), are built at the first
    // open.
    for (filter, expected) in [
        ("role=deployer&group=builders", vec!["ci-bot"]),
        ("status=active&group=builders", vec!["ci-bot"]),
        ("status=disabled&group=readers", vec!["reader"]),
        ("status=disabled&group=builders", vec![]),
        ("status=disabled", vec!["reader"]),
        ("role=deployer", vec!["ci-bot"]),
        ("group=builders", vec!["ci-bot"]),
        ("query=bot", vec!["ci-bot"]),
        ("query=i%20bot", vec!["ci-bot"]),
        ("query=i%20bot&status=active", vec!["ci-bot"]),
        ("query=i%20bots", vec![]),
        ("query=ci-b", vec!["ci-bot"]),
        ("query=bot-ci", vec![]),
        ("query=eader&status=disabled", vec!["reader"]),
        ("query=ci&status=active", vec!["ci-bot"]),
    ] {
        let page = s.get_as(admin, &format!("{SA}?{filter}"));
        assert_eq!(names(&page.body), expected, "{filter}");
        assert_eq!(page.body["total_count"], expected.len(), "{filter}");
    }
    assert_eq!(
        s.get_as(admin, &format!("{SA}/reader")).body["status"],
        "disabled"
    );
    s.get_as(admin, &format!("{SA}/gone"))
        .assert_error(404, "NOT_FOUND");

    // Secrets: the rotated one works with the roles of the account and its group; the
    // first one, rotated with no grace, has expired; a disabled account's secret does
    // not work.
    let as_ci = s.get_as(ci, "/api/v1/me");
    as_ci.assert_status(200);
    let permissions = as_ci.body["permissions"].as_array().unwrap();
    assert!(permissions.contains(&json!("deploy:run")), "{}", as_ci.body);
    assert!(
        permissions.contains(&json!("groups:write")),
        "{}",
        as_ci.body
    );
    s.get_as(secrets["ci_bot_first"].as_str().unwrap(), "/api/v1/me")
        .assert_error(401, "UNAUTHENTICATED");
    s.get_as(secrets["reader"].as_str().unwrap(), "/api/v1/me")
        .assert_error(401, "UNAUTHENTICATED");

    // Credentials, with their last use.
    let credentials = s.get_as(admin, &format!("{SA}/ci-bot/credentials"));
    let items = credentials.body["items"].as_array().unwrap();
    let key = items.iter().find(|c| c["name"] == "laptop").unwrap();
    assert_eq!(key["type"], "public_key");
    assert!(key["fingerprint"].is_string());
    let rotated = items
        .iter()
        .find(|c| c["id"] == secrets["ci_bot_rotated_id"])
        .unwrap();
    assert!(rotated["last_used_at"].is_string(), "{rotated}");

    // Groups with their members, and roles, built-in and custom.
    let builders = s.get_as(admin, "/api/v1/groups/builders");
    assert_eq!(builders.body["roles"], json!(["operator"]));
    assert_eq!(builders.body["sa_count"], 1);
    let members = s.get_as(admin, "/api/v1/groups/builders/members");
    assert_eq!(names(&members.body), ["ci-bot"]);
    let deployer = s.get_as(admin, "/api/v1/roles/deployer");
    assert_eq!(
        deployer.body["permissions"],
        json!(["deploy:run", "service_accounts:read"])
    );
    assert_eq!(
        s.get_as(admin, "/api/v1/roles/viewer").body["builtin"],
        true
    );

    // The audit trail of the release.
    let audit = s.get_as(admin, "/api/v1/audit-events?per_page=1000");
    audit.assert_status(200);
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "service_account.create",
        "service_account.delete",
        "credential.create",
        "service_account.rotate_secret",
        "access_token.revoke",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }

    // Signing keys: a revoked token stays dead (it has expired by now too); new tokens
    // are signed and accepted.
    s.get_as(
        secrets["revoked_access_token"].as_str().unwrap(),
        "/api/v1/me",
    )
    .assert_error(401, "UNAUTHENTICATED");
    let token = s.form(
        "/oauth2/token",
        Some(("ci-bot", ci)),
        &[("grant_type", "client_credentials")],
    );
    token.assert_status(200);
    s.get_as(token.body["access_token"].as_str().unwrap(), "/api/v1/me")
        .assert_status(200);

    // And it takes writes.
    s.send(
        reqwest::Method::PATCH,
        &format!("{SA}/ci-bot"),
        Some(admin),
        Some(&json!({"description": "Upgraded."})),
        &[],
    )
    .assert_status(200);
    s.send(
        reqwest::Method::POST,
        SA,
        Some(admin),
        Some(&json!({"name": "after-upgrade", "roles": ["deployer"], "groups": ["builders"]})),
        &[],
    )
    .assert_status(201);
    let both = s.get_as(admin, &format!("{SA}?role=deployer&group=builders"));
    assert_eq!(names(&both.body), ["after-upgrade", "ci-bot"]);
    assert_eq!(both.body["total_count"], 2);
}

/// A server on a copy of the database restored from `release`'s backup.
fn serve_restored(release: &str) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let restored = dir.path().join("restored.redb");
    keyhouse::store::restore(&fixture(release, "backup.redb"), &restored).unwrap();
    serve_copy_of(&restored)
}

#[test]
fn a_database_of_release_0_1_opens_and_works() {
    let s = serve_copy_of(&fixture(RELEASE_0_1, "keyhouse.redb"));
    check_fixture_data(&s, RELEASE_0_1);
}

#[test]
fn a_backup_of_release_0_1_restores_and_works() {
    check_fixture_data(&serve_restored(RELEASE_0_1), RELEASE_0_1);
}

#[test]
fn a_database_kept_without_display_name_postings_opens_and_works() {
    let s = serve_copy_of(&fixture(POSTINGS_1, "keyhouse.redb"));
    check_fixture_data(&s, POSTINGS_1);
}

#[test]
fn a_backup_kept_without_display_name_postings_restores_and_works() {
    check_fixture_data(&serve_restored(POSTINGS_1), POSTINGS_1);
}

#[test]
fn a_database_kept_without_condition_sets_opens_and_works() {
    let s = serve_copy_of(&fixture(POSTINGS_2, "keyhouse.redb"));
    check_fixture_data(&s, POSTINGS_2);
}

#[test]
fn a_backup_kept_without_condition_sets_restores_and_works() {
    check_fixture_data(&serve_restored(POSTINGS_2), POSTINGS_2);
}

#[test]
fn a_database_kept_without_positioned_trigrams_opens_and_works() {
    let s = serve_copy_of(&fixture(POSTINGS_3, "keyhouse.redb"));
    check_fixture_data(&s, POSTINGS_3);
}

#[test]
fn a_backup_kept_without_positioned_trigrams_restores_and_works() {
    check_fixture_data(&serve_restored(POSTINGS_3), POSTINGS_3);
}

#[test]
fn a_database_kept_with_lists_of_trigrams_opens_and_works() {
    let s = serve_copy_of(&fixture(POSTINGS_4, "keyhouse.redb"));
    check_fixture_data(&s, POSTINGS_4);
}

#[test]
fn a_backup_kept_with_lists_of_trigrams_restores_and_works() {
    check_fixture_data(&serve_restored(POSTINGS_4), POSTINGS_4);
}

/// What the projects of `schema-1` must still say and do: a project with its policy, its
/// custom role, group and accounts (one named as a root account), their indexes,
/// credentials and audit trail, and the events of a deleted project.
fn check_projects(s: &TestServer, release: &str) {
    let secrets = secrets(release);
    let admin = secrets["admin"].as_str().unwrap();
    let pay_bot = secrets["payments_ci_bot"].as_str().unwrap();

    let project = s.get_as(admin, PAY);
    project.assert_status(200);
    assert_eq!(project.body["display_name"], "Payments");
    assert_eq!(project.body["metadata"], json!({"cost-center": "42"}));
    assert_eq!(project.body["credential_policy"]["max_active"], 4);
    assert_eq!(project.body["sa_count"], 2);
    assert_eq!(project.body["group_count"], 1);
    assert_eq!(project.body["role_count"], 1);
    s.get_as(admin, "/api/v1/projects/old-team")
        .assert_error(404, "NOT_FOUND");

    let bot = s.get_as(admin, &format!("{PAY}/service-accounts/ci-bot"));
    bot.assert_status(200);
    assert_eq!(bot.body["display_name"], "Payments CI");
    assert_eq!(bot.body["project"], "payments");
    assert_eq!(bot.body["external_id"], "ext-pay");
    assert_eq!(bot.body["roles"], json!(["pay-deployer"]));
    assert_eq!(bot.body["groups"][0]["name"], "pay-builders");
    let root_bot = s.get_as(admin, &format!("{SA}/ci-bot"));
    assert_eq!(root_bot.body["project"], Value::Null);
    assert_ne!(root_bot.body["id"], bot.body["id"]);
    for (filter, expected) in [
        ("", vec!["ci-bot", "pay-reader"]),
        ("?role=pay-deployer&group=pay-builders", vec!["ci-bot"]),
        ("?role=viewer", vec!["pay-reader"]),
        ("?query=reader", vec!["pay-reader"]),
        ("?query=payments%20ci", vec!["ci-bot"]),
        ("?status=disabled", vec![]),
    ] {
        let page = s.get_as(admin, &format!("{PAY}/service-accounts{filter}"));
        assert_eq!(names(&page.body), expected, "{filter}");
        assert_eq!(page.body["total_count"], expected.len(), "{filter}");
    }
    let everywhere = s.get_as(admin, &format!("{SA}?scope=all"));
    assert_eq!(everywhere.body["total_count"], 5, "{}", everywhere.body);
    let group = s.get_as(admin, &format!("{PAY}/groups/pay-builders"));
    assert_eq!(group.body["roles"], json!(["pay-deployer"]));
    assert_eq!(group.body["sa_count"], 1);
    let role = s.get_as(admin, &format!("{PAY}/roles/pay-deployer"));
    assert_eq!(
        role.body["permissions"],
        json!(["deploy:payments", "service_accounts:read"])
    );
    let keys = s.get_as(
        admin,
        &format!("{PAY}/service-accounts/pay-reader/credentials"),
    );
    assert_eq!(keys.body["items"][0]["name"], "reader-key");
    assert_eq!(keys.body["items"][0]["type"], "public_key");

    // The project's account authenticates, with its project's role, by secret and by
    // OAuth as `ci-bot@payments`.
    let me = s.get_as(pay_bot, "/api/v1/me");
    me.assert_status(200);
    let permissions = me.body["permissions"].as_array().unwrap();
    assert!(
        permissions.contains(&json!("deploy:payments")),
        "{}",
        me.body
    );
    let token = s.form(
        "/oauth2/token",
        Some(("ci-bot@payments", pay_bot)),
        &[("grant_type", "client_credentials")],
    );
    token.assert_status(200);
    s.get_as(token.body["access_token"].as_str().unwrap(), "/api/v1/me")
        .assert_status(200);

    // The project's trail, and at the root the events of both projects, the deleted
    // one's under the name it had.
    let trail = s.get_as(admin, &format!("{PAY}/audit-events?per_page=1000"));
    let items = trail.body["items"].as_array().unwrap();
    assert!(items.iter().all(|e| e["project"] == "payments"));
    for action in [
        "role.create",
        "group.create",
        "service_account.create",
        "credential.create",
    ] {
        assert!(items.iter().any(|e| e["action"] == action), "{action}");
    }
    let all = s.get_as(admin, "/api/v1/audit-events?per_page=1000");
    let all = all.body["items"].as_array().unwrap();
    let of = |project: &str| all.iter().filter(|e| e["project"] == project).count();
    assert_eq!(of("payments"), items.len());
    assert_eq!(
        of("old-team"),
        1,
        "the deleted project's account's creation"
    );
    assert!(all.iter().any(|e| e["project"].is_null()));
    let filtered = s.get_as(admin, "/api/v1/audit-events?project=old-team&per_page=1000");
    assert_eq!(
        filtered.body["items"].as_array().unwrap().len(),
        of("old-team")
    );
}

/// The writes a project of an upgraded database takes.
fn check_project_writes(s: &TestServer, release: &str) {
    let secrets = secrets(release);
    let admin = secrets["admin"].as_str().unwrap();
    s.patch_as(
        admin,
        &format!("{PAY}/service-accounts/ci-bot"),
        json!({"description": "Upgraded."}),
    )
    .assert_status(200);
    s.post_as(
        admin,
        &format!("{PAY}/service-accounts"),
        json!({"name": "after-upgrade", "roles": ["pay-deployer"], "groups": ["pay-builders"]}),
    )
    .assert_status(201);
    let both = s.get_as(
        admin,
        &format!("{PAY}/service-accounts?role=pay-deployer&group=pay-builders"),
    );
    assert_eq!(names(&both.body), ["after-upgrade", "ci-bot"]);
    let trail = s.get_as(admin, &format!("{PAY}/audit-events?per_page=1000"));
    let last = trail.body["items"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["action"], "service_account.create");
    assert_eq!(last["project"], "payments");
}

#[test]
fn a_database_of_schema_1_with_projects_opens_and_works() {
    let s = serve_copy_of(&fixture(SCHEMA_1, "keyhouse.redb"));
    check_projects(&s, SCHEMA_1);
    check_fixture_data(&s, SCHEMA_1);
    check_project_writes(&s, SCHEMA_1);
}

#[test]
fn a_backup_of_schema_1_with_projects_restores_and_works() {
    let s = serve_restored(SCHEMA_1);
    check_projects(&s, SCHEMA_1);
    check_fixture_data(&s, SCHEMA_1);
}

/// The schema version of the file at `path` and its tables' names, read with redb.
fn schema_of(path: &Path) -> (u64, Vec<String>) {
    let db = redb::Database::open(path).unwrap();
    let read = db.begin_read().unwrap();
    let meta: TableDefinition<&str, u64> = TableDefinition::new("meta_v1");
    let version = read
        .open_table(meta)
        .unwrap()
        .get("schema_version")
        .unwrap()
        .unwrap()
        .value();
    let tables = read
        .list_tables()
        .unwrap()
        .map(|t| t.name().to_owned())
        .collect();
    (version, tables)
}

/// A server on the database in `dir`, which outlives it.
fn serve_in(dir: &Path) -> TestServer {
    TestServer::start_on_file_with(|config| config.storage.path = dir.join("keyhouse.redb"))
}

const SIDE_TABLES: [&str; 2] = ["account_scopes_v1", "audit_projects_v1"];

/// Opens a copy of `release`'s database: before, it has schema 1 (with the side tables
/// if it has projects); `first` checks it through the API at the first open, which
/// migrates it to schema 2 without the side tables; `second` checks it again at a
/// second open, which finds nothing to migrate.
fn migrates_once(release: &str, first: fn(&TestServer), second: fn(&TestServer)) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keyhouse.redb");
    std::fs::copy(fixture(release, "keyhouse.redb"), &path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (before, tables) = schema_of(&path);
    assert_eq!(before, 1);
    let had_side_tables = SIDE_TABLES.iter().all(|t| tables.iter().any(|n| n == t));
    assert_eq!(had_side_tables, release == SCHEMA_1, "{tables:?}");

    first(&serve_in(dir.path()));
    let (after, tables) = schema_of(&path);
    assert_eq!(after, keyhouse::store::SCHEMA_VERSION);
    assert!(
        SIDE_TABLES.iter().all(|t| !tables.iter().any(|n| n == t)),
        "{tables:?}"
    );

    second(&serve_in(dir.path()));
    assert_eq!(
        schema_of(&path),
        (after, tables),
        "the second open migrates nothing"
    );
}

/// What a database upgraded and written by [`check_fixture_data`] holds at its next open.
fn check_after_restart(s: &TestServer, release: &str) {
    let secrets = secrets(release);
    let admin = secrets["admin"].as_str().unwrap();
    let both = s.get_as(admin, &format!("{SA}?role=deployer&group=builders"));
    assert_eq!(names(&both.body), ["after-upgrade", "ci-bot"]);
    let bot = s.get_as(admin, &format!("{SA}/ci-bot"));
    assert_eq!(bot.body["description"], "Upgraded.");
    assert_eq!(bot.body["project"], Value::Null);
    let ci = secrets["ci_bot_rotated"].as_str().unwrap();
    s.get_as(ci, "/api/v1/me").assert_status(200);
    let audit = s.get_as(admin, "/api/v1/audit-events?per_page=1000");
    let items = audit.body["items"].as_array().unwrap();
    let at_root = |e: &&Value| e["action"] == "service_account.update" && e["project"].is_null();
    let ci_bot = items.iter().rfind(|e| at_root(e)).unwrap();
    assert_eq!(ci_bot["target"]["name"], "ci-bot");
}

#[test]
fn a_database_of_release_0_1_migrates_once_and_works_before_and_after() {
    migrates_once(
        RELEASE_0_1,
        |s| check_fixture_data(s, RELEASE_0_1),
        |s| check_after_restart(s, RELEASE_0_1),
    );
}

#[test]
fn a_database_of_schema_1_migrates_once_and_works_before_and_after() {
    migrates_once(
        SCHEMA_1,
        |s| {
            check_projects(s, SCHEMA_1);
            check_fixture_data(s, SCHEMA_1);
            check_project_writes(s, SCHEMA_1);
        },
        |s| {
            check_after_restart(s, SCHEMA_1);
            let admin = secrets(SCHEMA_1)["admin"].as_str().unwrap().to_owned();
            let pay = s.get_as(&admin, &format!("{PAY}/service-accounts"));
            assert_eq!(names(&pay.body), ["after-upgrade", "ci-bot", "pay-reader"]);
            let bot = s.get_as(&admin, &format!("{PAY}/service-accounts/ci-bot"));
            assert_eq!(bot.body["description"], "Upgraded.");
            assert_eq!(bot.body["project"], "payments");
            let pay_bot = secrets(SCHEMA_1)["payments_ci_bot"]
                .as_str()
                .unwrap()
                .to_owned();
            s.get_as(&pay_bot, "/api/v1/me").assert_status(200);
            let trail = s.get_as(&admin, &format!("{PAY}/audit-events?per_page=1000"));
            let items = trail.body["items"].as_array().unwrap();
            assert!(items.iter().all(|e| e["project"] == "payments"));
            assert_eq!(items.last().unwrap()["target"]["name"], "after-upgrade");
        },
    );
}

//! Where objects live and where bindings hold: an account made in a project belongs to
//! it, joins only its groups, and acts in it only; the same name in two scopes is two
//! unrelated objects; tenant admins administer their project and nothing else.
#![allow(clippy::unwrap_used, clippy::panic)] // tests: a failure should stop the test

use crate::common::{TestServer, names};
use serde_json::{Value, json};

fn project(s: &TestServer, name: &str) {
    s.post("/api/v1/projects", json!({"name": name}))
        .assert_status(201);
}

/// Creates `name` under `base` holding `roles`; answers its id and secret.
fn account(s: &TestServer, base: &str, name: &str, roles: &[&str]) -> (String, String) {
    let reply = s.post(
        &format!("{base}/service-accounts"),
        json!({"name": name, "roles": roles, "initial_secret": {}}),
    );
    reply.assert_status(201);
    (
        reply.body["id"].as_str().unwrap().to_owned(),
        reply.body["secret"]["secret"].as_str().unwrap().to_owned(),
    )
}

const ROOT: &str = "/api/v1";
const P1: &str = "/api/v1/projects/p1";
const P2: &str = "/api/v1/projects/p2";

#[test]
fn the_same_name_in_two_scopes_is_two_unrelated_accounts() {
    let s = TestServer::start();
    project(&s, "p1");
    project(&s, "p2");
    let (root_id, root_secret) = account(&s, ROOT, "ci-bot", &["viewer"]);
    let (p1_id, p1_secret) = account(&s, P1, "ci-bot", &["viewer"]);
    let (p2_id, _) = account(&s, P2, "ci-bot", &[]);
    assert_ne!(root_id, p1_id);
    assert_ne!(p1_id, p2_id);
    for (base, id) in [(ROOT, &root_id), (P1, &p1_id), (P2, &p2_id)] {
        let read = s.get(&format!("{base}/service-accounts/ci-bot"));
        assert_eq!(&read.body["id"], id.as_str(), "{base}");
    }
    assert_eq!(
        names(&s.get(&format!("{P1}/service-accounts")).body),
        ["ci-bot"]
    );
    // Each secret is its own account's, acting where that account lives.
    let me = s.get_as(&p1_secret, &format!("{P1}/service-accounts/ci-bot"));
    assert_eq!(me.body["id"], p1_id.as_str());
    s.get_as(&p1_secret, &format!("{ROOT}/service-accounts"))
        .assert_error(403, "PERMISSION_DENIED");
    s.get_as(&p1_secret, &format!("{P2}/service-accounts"))
        .assert_error(404, "NOT_FOUND");
    s.get_as(&root_secret, &format!("{P2}/service-accounts/ci-bot"))
        .assert_status(200);
    // A bare client_id names the root's account; the project's secret is refused.
    let token = s.form(
        "/oauth2/token",
        Some(("ci-bot", &p1_secret)),
        &[("grant_type", "client_credentials")],
    );
    assert_eq!(token.status, 401, "{}", token.body);
    // Deleting one leaves the others.
    s.delete(&format!("{P1}/service-accounts/ci-bot"))
        .assert_status(204);
    s.get(&format!("{ROOT}/service-accounts/ci-bot"))
        .assert_status(200);
    s.get(&format!("{P2}/service-accounts/ci-bot"))
        .assert_status(200);
    s.get_as(&p1_secret, &format!("{P1}/roles"))
        .assert_error(401, "UNAUTHENTICATED");
}

#[test]
fn memberships_stay_within_a_scope() {
    let s = TestServer::start();
    project(&s, "p1");
    project(&s, "p2");
    for (base, group) in [(ROOT, "root-team"), (P1, "p1-team"), (P2, "p2-team")] {
        s.post(&format!("{base}/groups"), json!({"name": group}))
            .assert_status(201);
    }
    account(&s, P1, "member", &[]);
    account(&s, ROOT, "member", &[]);
    let put = |path: &str, body: serde_json::Value| {
        s.send(reqwest::Method::PUT, path, Some(&s.token), Some(&body), &[])
    };
    // p1's account joins p1's group, and no group of the root or of p2.
    for other in ["root-team", "p2-team"] {
        put(
            &format!("{P1}/service-accounts/member/groups"),
            json!({"add_to_groups": [other]}),
        )
        .assert_error(404, "NOT_FOUND");
    }
    put(
        &format!("{P1}/service-accounts/member/groups"),
        json!({"add_to_groups": ["p1-team"]}),
    )
    .assert_status(200);
    // The root's account joins the root's group; p1's group does not know it.
    put(
        &format!("{ROOT}/groups/root-team/members"),
        json!({"add": ["member"]}),
    )
    .assert_status(200);
    put(
        &format!("{ROOT}/groups/p1-team/members"),
        json!({"add": ["member"]}),
    )
    .assert_error(404, "NOT_FOUND");
    let root_members = s.get(&format!("{ROOT}/groups/root-team/members"));
    assert_eq!(names(&root_members.body), ["member"]);
    let p1_members = s.get(&format!("{P1}/groups/p1-team/members"));
    assert_eq!(names(&p1_members.body), ["member"]);
    let p1_member = s.get(&format!("{P1}/service-accounts/member"));
    assert_eq!(p1_member.body["groups"][0]["name"], "p1-team");
    assert_eq!(p1_member.body["groups"].as_array().unwrap().len(), 1);
    // A project account may be created straight into its project's groups only.
    s.post(
        &format!("{P1}/service-accounts"),
        json!({"name": "joiner", "groups": ["root-team"], "initial_secret": false}),
    )
    .assert_error(404, "NOT_FOUND");
}

#[test]
fn a_tenant_admin_administers_its_project_and_nothing_else() {
    let s = TestServer::start();
    project(&s, "p1");
    project(&s, "p2");
    let (_, boss) = account(&s, P1, "boss", &["admin"]);
    s.post(
        &format!("{P1}/roles"),
        json!({"name": "deployer", "permissions": ["deploy:run"]}),
    )
    .assert_status(201);
    // In p1: accounts, groups, custom roles, credentials, all of it.
    s.post_as(
        &boss,
        &format!("{P1}/service-accounts"),
        json!({"name": "worker", "roles": ["deployer", "operator"], "initial_secret": false}),
    )
    .assert_status(201);
    s.post_as(
        &boss,
        &format!("{P1}/groups"),
        json!({"name": "team", "roles": ["viewer"]}),
    )
    .assert_status(201);
    s.post_as(
        &boss,
        &format!("{P1}/service-accounts/worker/credentials"),
        json!({}),
    )
    .assert_status(201);
    // `/api/v1/me` shows what it holds where it lives.
    let me = s.get_as(&boss, "/api/v1/me");
    assert_eq!(me.body["permissions"], json!(["*"]));
    // Outside p1: nothing, and nothing server-wide.
    s.get_as(&boss, &format!("{P2}/service-accounts"))
        .assert_error(404, "NOT_FOUND");
    s.get_as(&boss, &format!("{ROOT}/service-accounts/admin"))
        .assert_error(404, "NOT_FOUND");
    s.post_as(
        &boss,
        &format!("{ROOT}/service-accounts"),
        json!({"name": "x"}),
    )
    .assert_error(403, "PERMISSION_DENIED");
    // It reads its own project, and lists only it; it changes no project.
    assert_eq!(names(&s.get_as(&boss, "/api/v1/projects").body), ["p1"]);
    s.get_as(&boss, P1).assert_status(200);
    s.get_as(&boss, P2).assert_error(404, "NOT_FOUND");
    s.patch_as(&boss, P1, json!({"description": "mine"}))
        .assert_error(403, "PERMISSION_DENIED");
    s.post_as(&boss, "/api/v1/projects", json!({"name": "p3"}))
        .assert_error(403, "PERMISSION_DENIED");
    s.post_as(&boss, "/api/v1/admin/backup", json!({}))
        .assert_error(403, "PERMISSION_DENIED");
    s.post_as(&boss, "/api/v1/signing-keys/rotate", json!({}))
        .assert_error(403, "PERMISSION_DENIED");
    // A project's administrator is no standing administrator of the installation.
    s.patch(
        "/api/v1/service-accounts/admin",
        json!({"status": "disabled"}),
    )
    .assert_error(409, "FAILED_PRECONDITION");
}

#[test]
fn scope_down_holds_within_each_scope() {
    let s = TestServer::start();
    project(&s, "p1");
    let (_, ops) = account(&s, P1, "ops", &["operator"]);
    account(&s, P1, "boss", &["admin"]);
    // It holds operator in p1 and may hand it out there, but not admin.
    s.post_as(
        &ops,
        &format!("{P1}/service-accounts"),
        json!({"name": "helper", "roles": ["operator"], "initial_secret": false}),
    )
    .assert_status(201);
    s.patch_as(
        &ops,
        &format!("{P1}/service-accounts/helper"),
        json!({"roles": ["admin"]}),
    )
    .assert_error(403, "PERMISSION_DENIED");
    // Nor act on p1's administrator.
    s.patch_as(
        &ops,
        &format!("{P1}/service-accounts/boss"),
        json!({"status": "disabled"}),
    )
    .assert_error(403, "PERMISSION_DENIED");
}

#[test]
fn a_forced_project_delete_forgets_where_its_accounts_lived() {
    let s = TestServer::start();
    project(&s, "p1");
    let (_, secret) = account(&s, P1, "ci-bot", &["viewer"]);
    s.delete(&format!("{P1}?force=true")).assert_status(204);
    project(&s, "p1");
    assert!(names(&s.get(&format!("{P1}/service-accounts")).body).is_empty());
    s.get_as(&secret, &format!("{P1}/service-accounts"))
        .assert_error(401, "UNAUTHENTICATED");
    s.post("/api/v1/admin/integrity-check", json!({}))
        .assert_status(200);
}

#[test]
fn a_project_lists_the_audit_events_of_its_own_changes() {
    let s = TestServer::start();
    project(&s, "p1");
    project(&s, "p2");
    account(&s, P1, "ci-bot", &[]);
    s.post(&format!("{P1}/groups"), json!({"name": "team"}))
        .assert_status(201);
    account(&s, P2, "other", &[]);
    let targets = |path: &str| -> Vec<String> {
        let page = s.get(path);
        page.assert_status(200);
        page.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                format!(
                    "{} {}",
                    e["action"].as_str().unwrap(),
                    e["target"]["name"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(
        targets(&format!("{P1}/audit-events")),
        ["service_account.create ci-bot", "group.create team"]
    );
    let p1_page = s.get(&format!("{P1}/audit-events?per_page=1"));
    assert_eq!(p1_page.body["total_count"], 2);
    let token = p1_page.body["next_page_token"].as_str().unwrap().to_owned();
    assert_eq!(
        s.get(&format!("{P1}/audit-events?per_page=1&page_token={token}"))
            .body["items"][0]["action"],
        "group.create"
    );
    assert!(
        !targets(&format!("{P2}/audit-events"))
            .iter()
            .any(|t| t.ends_with("ci-bot"))
    );
    // The root's trail holds every scope's events.
    let root = targets(&format!("{ROOT}/audit-events"));
    assert!(root.iter().any(|t| t == "service_account.create ci-bot"));
    assert!(root.iter().any(|t| t == "service_account.create other"));
    // Each event names the project its change was made in, and the root's trail
    // filters by it.
    let projects_of = |path: &str| -> Vec<Value> {
        s.get(path).body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["project"].clone())
            .collect()
    };
    assert_eq!(
        projects_of(&format!("{P1}/audit-events")),
        vec![json!("p1"); 2]
    );
    assert_eq!(
        projects_of(&format!("{ROOT}/audit-events?project=p1")),
        vec![json!("p1"); 2]
    );
    assert_eq!(
        targets(&format!("{ROOT}/audit-events?project=p2")),
        ["service_account.create other"]
    );
    let root_events = s
        .get(&format!("{ROOT}/audit-events?action=project.create"))
        .body;
    assert_eq!(root_events["total_count"], 2);
    assert_eq!(root_events["items"][0]["project"], Value::Null);
    assert_eq!(
        s.get(&format!("{ROOT}/audit-events?project=nowhere")).body["total_count"],
        0
    );
    // A deleted project's events keep its name; a new project of the old name starts
    // with an empty trail, and the root's filter by the name then lists the new one's
    // (tests/api/audit.rs follows both through).
    s.delete(&format!("{P1}?force=true")).assert_status(204);
    assert_eq!(
        projects_of(&format!("{ROOT}/audit-events?project=p1")),
        vec![json!("p1"); 2]
    );
    project(&s, "p1");
    assert!(targets(&format!("{P1}/audit-events")).is_empty());
    assert!(projects_of(&format!("{ROOT}/audit-events?project=p1")).is_empty());
}

#[test]
fn objects_read_with_their_project_lrn_and_link() {
    let s = TestServer::start();
    project(&s, "p1");
    s.post(&format!("{P1}/groups"), json!({"name": "team"}))
        .assert_status(201);
    s.post(
        &format!("{P1}/roles"),
        json!({"name": "deployer", "permissions": ["deploy:run"]}),
    )
    .assert_status(201);
    s.post(
        &format!("{P1}/service-accounts"),
        json!({"name": "ci-bot", "groups": ["team"], "initial_secret": false}),
    )
    .assert_status(201);
    let bot = s.get(&format!("{P1}/service-accounts/ci-bot")).body;
    assert_eq!(bot["project"], "p1");
    assert_eq!(bot["lrn"], "lrn:keyhouse:p1:service-account/ci-bot");
    assert_eq!(
        bot["self_link"],
        "/api/v1/projects/p1/service-accounts/ci-bot"
    );
    assert_eq!(bot["groups"][0]["lrn"], "lrn:keyhouse:p1:group/team");
    let team = s.get(&format!("{P1}/groups/team")).body;
    assert_eq!(
        (&team["project"], &team["lrn"]),
        (&json!("p1"), &json!("lrn:keyhouse:p1:group/team"))
    );
    let role = s.get(&format!("{P1}/roles/deployer")).body;
    assert_eq!(
        (&role["project"], &role["lrn"]),
        (&json!("p1"), &json!("lrn:keyhouse:p1:role/deployer"))
    );
    let root_admin = s.get(&format!("{ROOT}/service-accounts/admin")).body;
    assert_eq!(root_admin["project"], serde_json::Value::Null);
    assert_eq!(root_admin["lrn"], "lrn:keyhouse::service-account/admin");
    assert_eq!(root_admin["self_link"], "/api/v1/service-accounts/admin");
}

#[test]
fn each_scope_counts_only_its_own_objects() {
    let s = TestServer::start();
    project(&s, "p1");
    project(&s, "p2");
    for (base, accounts) in [(ROOT, 2), (P1, 3), (P2, 1)] {
        for i in 0..accounts {
            s.post(
                &format!("{base}/service-accounts"),
                json!({"name": format!("bot-{i}"), "initial_secret": false}),
            )
            .assert_status(201);
            s.post(&format!("{base}/groups"), json!({"name": format!("g-{i}")}))
                .assert_status(201);
        }
    }
    // The root also holds `admin`.
    for (base, accounts, groups) in [(ROOT, 3, 2), (P1, 3, 3), (P2, 1, 1)] {
        let page = s.get(&format!("{base}/service-accounts?per_page=2")).body;
        assert_eq!(page["total_count"], accounts, "{base}");
        let page = s.get(&format!("{base}/groups?per_page=2")).body;
        assert_eq!(page["total_count"], groups, "{base}");
    }
    let p1 = s.get("/api/v1/projects/p1").body;
    assert_eq!(
        (&p1["sa_count"], &p1["group_count"]),
        (&json!(3), &json!(3))
    );
}

#[test]
fn a_projects_credential_policy_bounds_its_accounts_credentials() {
    let s = TestServer::start();
    s.post(
        "/api/v1/projects",
        json!({"name": "p1", "credential_policy":
            {"max_active": 1, "default_lifetime_days": 10, "max_lifetime_days": 20}}),
    )
    .assert_status(201);
    let created = s.post(&format!("{P1}/service-accounts"), json!({"name": "ci-bot"}));
    created.assert_status(201);
    let expires: chrono::DateTime<chrono::Utc> = created.body["secret"]["expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let days = (expires - keyhouse::clock::now()).num_hours() as f64 / 24.0;
    assert!(
        (9.9..=10.1).contains(&days),
        "the project's default lifetime: {days}"
    );
    // One active credential at most in p1, five at the root.
    s.post(
        &format!("{P1}/service-accounts/ci-bot/credentials"),
        json!({}),
    )
    .assert_error(409, "LIMIT_EXCEEDED");
    let far = (keyhouse::clock::now() + chrono::Duration::days(30)).to_rfc3339();
    s.post(
        &format!("{P1}/service-accounts/ci-bot/rotate-secret"),
        json!({"expires_at": far}),
    )
    .assert_error(400, "INVALID_ARGUMENT");
    s.post(
        &format!("{P1}/service-accounts"),
        json!({"name": "other", "token_expires_at": far}),
    )
    .assert_error(400, "INVALID_ARGUMENT");
    // The root keeps the server's settings.
    s.post(
        &format!("{ROOT}/service-accounts"),
        json!({"name": "ci-bot"}),
    )
    .assert_status(201);
    s.post(
        &format!("{ROOT}/service-accounts/ci-bot/credentials"),
        json!({}),
    )
    .assert_status(201);
    s.post(
        &format!("{ROOT}/service-accounts/ci-bot/rotate-secret"),
        json!({"expires_at": far}),
    )
    .assert_status(201);
}

/// `(project, name)` of each item of a list.
fn placed(page: &Value) -> Vec<(Value, String)> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["project"].clone(), i["name"].as_str().unwrap().to_owned()))
        .collect()
}

#[test]
fn scope_all_lists_every_scope_the_caller_may_read() {
    let s = TestServer::start();
    project(&s, "p2");
    project(&s, "p1");
    for base in [ROOT, P1, P2] {
        s.post(&format!("{base}/groups"), json!({"name": "team"}))
            .assert_status(201);
    }
    account(&s, P2, "ci-bot", &[]);
    let (_, tenant) = account(&s, P1, "boss", &["admin"]);
    account(&s, P1, "ci-bot", &[]);
    account(&s, ROOT, "ci-bot", &[]);
    let (_, nobody) = account(&s, ROOT, "nobody", &[]);
    for (base, name) in [(ROOT, "ci-bot"), (P2, "ci-bot")] {
        s.send(
            reqwest::Method::PUT,
            &format!("{base}/service-accounts/{name}/groups"),
            Some(&s.token),
            Some(&json!({"add_to_groups": ["team"]})),
            &[],
        )
        .assert_status(200);
    }
    let (null, p1, p2) = (Value::Null, json!("p1"), json!("p2"));
    let everything = vec![
        (null.clone(), "admin".to_owned()),
        (null.clone(), "ci-bot".to_owned()),
        (null.clone(), "nobody".to_owned()),
        (p1.clone(), "boss".to_owned()),
        (p1.clone(), "ci-bot".to_owned()),
        (p2.clone(), "ci-bot".to_owned()),
    ];
    // A root account: every scope, the root's first, then each project's by name.
    let all = s.get(&format!("{ROOT}/service-accounts?scope=all"));
    all.assert_status(200);
    assert_eq!(placed(&all.body), everything);
    assert_eq!(all.body["total_count"], 6);
    // Paged by token and by number, the same order.
    let mut walked = Vec::new();
    let mut path = format!("{ROOT}/service-accounts?scope=all&per_page=4");
    loop {
        let page = s.get(&path).body;
        walked.extend(placed(&page));
        match page["next_page_token"].as_str() {
            Some(token) => path = format!("{path}&page_token={token}"),
            None => break,
        }
    }
    assert_eq!(walked, everything);
    let second = s.get(&format!(
        "{ROOT}/service-accounts?scope=all&per_page=4&page=2"
    ));
    assert_eq!(placed(&second.body), everything[4..]);
    // Filters apply in every scope; a group is the group of that name in each.
    assert_eq!(
        placed(
            &s.get(&format!("{ROOT}/service-accounts?scope=all&group=team"))
                .body
        ),
        [
            (null.clone(), "ci-bot".to_owned()),
            (p2.clone(), "ci-bot".to_owned())
        ]
    );
    assert_eq!(
        s.get(&format!("{ROOT}/service-accounts?scope=all&query=ci"))
            .body["total_count"],
        3
    );
    let groups = s.get(&format!("{ROOT}/groups?scope=all")).body;
    assert_eq!(
        placed(&groups),
        [
            (null.clone(), "team".to_owned()),
            (p1.clone(), "team".to_owned()),
            (p2.clone(), "team".to_owned())
        ]
    );
    assert_eq!(groups["items"][1]["lrn"], "lrn:keyhouse:p1:group/team");
    // A tenant admin: its own project only; without scope=all the root is refused.
    let own = s.get_as(&tenant, &format!("{ROOT}/service-accounts?scope=all"));
    assert_eq!(placed(&own.body), everything[3..5]);
    assert_eq!(own.body["total_count"], 2);
    assert_eq!(
        placed(&s.get_as(&tenant, &format!("{ROOT}/groups?scope=all")).body),
        [(p1.clone(), "team".to_owned())]
    );
    s.get_as(&tenant, &format!("{ROOT}/service-accounts"))
        .assert_error(403, "PERMISSION_DENIED");
    // Who may read nothing is refused; a project's routes list the project.
    s.get_as(&nobody, &format!("{ROOT}/service-accounts?scope=all"))
        .assert_error(403, "PERMISSION_DENIED");
    assert_eq!(
        placed(&s.get(&format!("{P2}/service-accounts?scope=all")).body),
        everything[5..]
    );
    s.get(&format!("{ROOT}/service-accounts?scope=everything"))
        .assert_error(400, "INVALID_ARGUMENT");
    assert_eq!(
        placed(&s.get(&format!("{ROOT}/service-accounts?scope=")).body),
        everything[..3],
        "an empty scope is no scope"
    );
    // A token of a one-scope list (no `scope/` in its key) is not a token of this one.
    s.get(&format!("{ROOT}/groups?scope=all&page_token=MQpjaS1ib3Q"))
        .assert_error(400, "INVALID_ARGUMENT");
}

//! Service accounts over HTTP: create, read, list, update, delete, `/me`, status,
//! expiry, etags, permissions and persistence across a restart.
#![allow(clippy::unwrap_used, clippy::panic)] // tests: a failure should stop the test

use crate::common::{NO_STORE, TestServer, names};
use reqwest::Method;
use serde_json::{Value, json};

const SA: &str = "/api/v1/service-accounts";

#[test]
fn create_returns_every_field_and_an_etag() {
    let s = TestServer::start();
    let reply = s.post(
        SA,
        json!({"name": "ci-bot", "description": "builds", "metadata": {"team": "platform"},
               "roles": ["viewer", "operator"], "days_valid": 30, "external_id": "ext-1",
               "initial_secret": false}),
    );
    reply.assert_status(201);
    let a = &reply.body;
    assert_eq!(a["name"], "ci-bot");
    assert_eq!(a["display_name"], "ci-bot", "display_name defaults to name");
    assert_eq!(a["description"], "builds");
    assert_eq!(a["metadata"], json!({"team": "platform"}));
    assert_eq!(a["status"], "active");
    assert_eq!(
        a["roles"],
        json!(["operator", "viewer"]),
        "roles are sorted"
    );
    assert_eq!(a["groups"], json!([]));
    assert_eq!(a["client_id"], "ci-bot");
    assert_eq!(a["external_id"], "ext-1");
    assert_eq!(a["expired"], false);
    assert!(a["expires_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(a["created_by"]["name"], "admin");
    assert_eq!(a["active_credential_count"], 0);
    assert_eq!(a["self_link"], "/api/v1/service-accounts/ci-bot");
    assert!(a.get("secret").is_none(), "no secret when asked for none");
    assert!(a.get("token").is_none(), "no token when asked for none");
    for field in ["id", "created_at", "updated_at", "etag"] {
        assert!(a[field].is_string(), "{field}");
    }
    assert!(a["last_seen_at"].is_null());
    let etag = a["etag"].as_str().unwrap();
    assert_eq!(reply.header("etag"), Some(format!("\"{etag}\"").as_str()));

    let read = s.get(&format!("{SA}/ci-bot"));
    read.assert_status(200);
    assert_eq!(read.body, reply.body);
    assert_eq!(read.header("etag"), reply.header("etag"));
}

/// A create answers with what a read of the account shows right after it (its secret
/// and token aside): the scope, credentials, groups and admin flag it reports are not
/// read back by the create, so this holds them to the read's.
#[test]
fn a_create_answers_what_a_read_shows() {
    let s = TestServer::start();
    s.post("/api/v1/projects", json!({"name": "p1"}))
        .assert_status(201);
    for base in [SA, "/api/v1/projects/p1/service-accounts"] {
        let groups = base.replace("service-accounts", "groups");
        s.post(&groups, json!({"name": "g1", "roles": ["viewer"]}))
            .assert_status(201);
        let later = (s.now() + chrono::Duration::days(3)).to_rfc3339();
        for body in [
            json!({"name": "plain"}),
            json!({"name": "admin-2", "roles": ["admin"], "initial_secret": false}),
            json!({"name": "grouped", "groups": ["g1"], "token_expires_at": later}),
            json!({"name": "never", "initial_secret": {"name": "ci", "expires_at": null}}),
        ] {
            let name = body["name"].as_str().unwrap().to_owned();
            let mut created = s.post(base, body).body;
            assert_eq!(created["name"], name.as_str(), "{base}: {created}");
            let object = created.as_object_mut().unwrap();
            object.remove("secret");
            object.remove("token");
            let read = s.get(&format!("{base}/{name}"));
            read.assert_status(200);
            assert_eq!(created, read.body, "{base}/{name}");
        }
    }
}

#[test]
fn names_must_be_unique_and_well_formed() {
    let s = TestServer::start();
    s.post(SA, json!({"name": "dup"})).assert_status(201);
    s.post(SA, json!({"name": "dup"}))
        .assert_error(409, "ALREADY_EXISTS");
    for bad in [
        "",
        "-a",
        "a-",
        "Upper",
        "under_score",
        "a.b",
        &"a".repeat(64),
    ] {
        let reply = s.post(SA, json!({ "name": bad }));
        reply.assert_error(400, "INVALID_ARGUMENT");
        assert_eq!(reply.body["error"]["details"][0]["field"], "name", "{bad}");
    }
    s.post(SA, json!({ "name": "a".repeat(63) }))
        .assert_status(201);
}

#[test]
fn fields_are_validated_and_a_refusal_writes_nothing() {
    let s = TestServer::start();
    let cases = [
        (json!({"name": "x", "display_name": ""}), "display_name"),
        (
            json!({"name": "x", "display_name": "d".repeat(256)}),
            "display_name",
        ),
        (
            json!({"name": "x", "description": "d".repeat(1025)}),
            "description",
        ),
        (
            json!({"name": "x", "metadata": {"k": "v".repeat(1025)}}),
            "metadata.k",
        ),
        (json!({"name": "x", "days_valid": 0}), "days_valid"),
        (json!({"name": "x", "days_valid": 731}), "days_valid"),
        (
            json!({"name": "x", "expires_at": "2001-01-01T00:00:00Z"}),
            "expires_at",
        ),
        (
            json!({"name": "x", "expires_at": "2999-01-01T00:00:00Z", "days_valid": 3}),
            "days_valid",
        ),
        (json!({"name": "x", "roles": ["Bad"]}), "roles[0]"),
        (
            json!({"name": "x", "initial_secret": {"expires_at": "2999-01-01T00:00:00Z"}}),
            "initial_secret.expires_at",
        ),
    ];
    for (body, field) in cases {
        let reply = s.post(SA, body.clone());
        reply.assert_error(400, "INVALID_ARGUMENT");
        assert_eq!(reply.body["error"]["details"][0]["field"], field, "{body}");
    }
    let many: serde_json::Map<String, Value> =
        (0..65).map(|i| (format!("k{i}"), json!("v"))).collect();
    s.post(SA, json!({"name": "x", "metadata": many}))
        .assert_error(400, "INVALID_ARGUMENT");
    s.post(SA, json!({"name": "x", "colour": "red"}))
        .assert_error(400, "INVALID_ARGUMENT");
    s.get(&format!("{SA}/x")).assert_error(404, "NOT_FOUND");
    assert_eq!(s.get(SA).body["total_count"], 1, "only admin exists");
}

#[test]
fn an_unknown_role_is_404_naming_it_and_nothing_is_created() {
    let s = TestServer::start();
    let reply = s.post(SA, json!({"name": "x", "roles": ["viewer", "ghost"]}));
    reply.assert_error(404, "NOT_FOUND");
    assert!(
        reply.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ghost")
    );
    s.get(&format!("{SA}/x")).assert_error(404, "NOT_FOUND");
}

#[test]
fn the_initial_secret_is_shown_once_and_works() {
    let s = TestServer::start();
    let reply = s.post(
        SA,
        json!({"name": "bot", "initial_secret": {"name": "deploy"}}),
    );
    reply.assert_status(201);
    let secret = &reply.body["secret"];
    let value = secret["secret"].as_str().unwrap();
    assert_eq!(value.len(), 49);
    assert_eq!(secret["prefix"], &value[..8]);
    assert_eq!(secret["name"], "deploy");
    assert_eq!(secret["type"], "secret");
    assert_eq!(reply.body["active_credential_count"], 1);
    let me = s.get_as(value, "/api/v1/me");
    me.assert_status(200);
    assert_eq!(me.body["name"], "bot");
    assert_eq!(me.body["authenticated_by"]["kind"], "secret");
    assert_eq!(me.body["authenticated_by"]["credential_id"], secret["id"]);
    assert_eq!(me.body["permissions"], json!([]));
    let read = s.get(&format!("{SA}/bot"));
    assert!(!read.body.to_string().contains(value), "never shown again");
}

#[test]
fn me_shows_effective_permissions() {
    let s = TestServer::start();
    let admin = s.get("/api/v1/me");
    admin.assert_status(200);
    assert_eq!(admin.body["name"], "admin");
    assert_eq!(admin.body["permissions"], json!(["*"]));
    let viewer = s.create_account("v", &["viewer"]);
    let me = s.get_as(&viewer, "/api/v1/me");
    assert_eq!(
        me.body["permissions"],
        json!([
            "credentials:read",
            "groups:read",
            "projects:read",
            "roles:read",
            "service_accounts:read"
        ])
    );
    let both = s.create_account("vo", &["viewer", "operator"]);
    let perms = s.get_as(&both, "/api/v1/me").body["permissions"].clone();
    assert_eq!(
        perms.as_array().unwrap().len(),
        8,
        "union without duplicates: {perms}"
    );
}

#[test]
fn patch_changes_only_what_it_names() {
    let s = TestServer::start();
    s.post(
        SA,
        json!({"name": "p", "description": "keep", "external_id": "e", "days_valid": 5}),
    )
    .assert_status(201);
    let reply = s.patch(&format!("{SA}/p"), json!({"display_name": "Pee"}));
    reply.assert_status(200);
    assert_eq!(reply.body["display_name"], "Pee");
    assert_eq!(reply.body["description"], "keep");
    assert_eq!(reply.body["external_id"], "e");
    let reply = s.patch(
        &format!("{SA}/p"),
        json!({"expires_at": null, "external_id": null}),
    );
    assert!(reply.body["expires_at"].is_null());
    assert!(reply.body["external_id"].is_null());
    assert_eq!(reply.body["display_name"], "Pee");
    s.patch(&format!("{SA}/p"), json!({"name": "q"}))
        .assert_error(400, "INVALID_ARGUMENT");
    s.patch(&format!("{SA}/p"), json!({"status": "sleeping"}))
        .assert_error(400, "INVALID_ARGUMENT");
    s.patch(
        &format!("{SA}/p"),
        json!({"expires_at": "2000-01-01T00:00:00Z"}),
    )
    .assert_error(400, "INVALID_ARGUMENT");
    s.patch(&format!("{SA}/nope"), json!({"display_name": "x"}))
        .assert_error(404, "NOT_FOUND");
}

#[test]
fn if_match_guards_patch_and_delete() {
    let s = TestServer::start();
    let created = s.post(SA, json!({"name": "e"}));
    let etag = created.body["etag"].as_str().unwrap().to_owned();
    let path = format!("{SA}/e");
    let patch = |if_match: &str, name: &str| {
        s.send(
            Method::PATCH,
            &path,
            Some(&s.token),
            Some(&json!({"display_name": name})),
            &[("If-Match", if_match)],
        )
    };
    patch("\"0000000000000000\"", "stale").assert_error(412, "STALE_ETAG");
    assert_eq!(
        s.get(&path).body["display_name"],
        "e",
        "a stale write changes nothing"
    );
    let fresh = patch(&format!("\"{etag}\""), "quoted");
    fresh.assert_status(200);
    let new_etag = fresh.body["etag"].as_str().unwrap().to_owned();
    assert_ne!(new_etag, etag);
    patch(&format!("\"{etag}\""), "old").assert_error(412, "STALE_ETAG");
    patch(&new_etag, "bare").assert_status(200);
    patch("*", "star").assert_status(200);
    let delete = |if_match: &str| {
        s.send(
            Method::DELETE,
            &path,
            Some(&s.token),
            None,
            &[("If-Match", if_match)],
        )
    };
    delete("\"0000000000000000\"").assert_error(412, "STALE_ETAG");
    s.get(&path).assert_status(200);
    let current = s.get(&path).body["etag"].as_str().unwrap().to_owned();
    delete(&format!("\"{current}\"")).assert_status(204);
    s.get(&path).assert_error(404, "NOT_FOUND");
}

#[test]
fn a_patch_that_changes_nothing_keeps_the_etag() {
    let s = TestServer::start();
    let created = s.post(SA, json!({"name": "same", "display_name": "Same"}));
    let again = s.patch(&format!("{SA}/same"), json!({"display_name": "Same"}));
    again.assert_status(200);
    assert_eq!(again.body["etag"], created.body["etag"]);
    assert_eq!(again.body["updated_at"], created.body["updated_at"]);
}

#[test]
fn disabling_stops_secrets_at_once_and_enabling_restores_them() {
    let s = TestServer::start();
    let secret = s.create_account("d", &["viewer"]);
    s.get_as(&secret, "/api/v1/me").assert_status(200);
    let reply = s.patch(&format!("{SA}/d"), json!({"status": "disabled"}));
    assert_eq!(reply.body["status"], "disabled");
    let refused = s.get_as(&secret, "/api/v1/me");
    refused.assert_error(401, "UNAUTHENTICATED");
    assert_eq!(refused.header("www-authenticate"), Some("Bearer"));
    s.get_as(&secret, SA).assert_error(401, "UNAUTHENTICATED");
    s.patch(&format!("{SA}/d"), json!({"status": "active"}));
    s.get_as(&secret, "/api/v1/me").assert_status(200);
}

#[test]
fn an_expired_account_cannot_authenticate() {
    let s = TestServer::start();
    let secret = s.create_account("soon", &[]);
    let at = (s.now() + chrono::Duration::seconds(2)).to_rfc3339();
    s.patch(&format!("{SA}/soon"), json!({"expires_at": at}))
        .assert_status(200);
    s.get_as(&secret, "/api/v1/me").assert_status(200);
    s.advance(chrono::Duration::seconds(4));
    s.get_as(&secret, "/api/v1/me")
        .assert_error(401, "UNAUTHENTICATED");
    assert_eq!(s.get(&format!("{SA}/soon")).body["expired"], true);
}

#[test]
fn delete_removes_the_account_and_its_secrets_and_a_new_one_inherits_nothing() {
    let s = TestServer::start();
    let old = s.create_account("gone", &["viewer"]);
    s.delete(&format!("{SA}/gone")).assert_status(204);
    s.get(&format!("{SA}/gone")).assert_error(404, "NOT_FOUND");
    s.get_as(&old, "/api/v1/me")
        .assert_error(401, "UNAUTHENTICATED");
    s.delete(&format!("{SA}/gone"))
        .assert_error(404, "NOT_FOUND");
    let reply = s.post(SA, json!({"name": "gone", "initial_secret": false}));
    reply.assert_status(201);
    assert_eq!(reply.body["roles"], json!([]));
    assert_eq!(reply.body["active_credential_count"], 0);
    s.get_as(&old, "/api/v1/me")
        .assert_error(401, "UNAUTHENTICATED");
}

#[test]
fn lists_page_in_name_order_with_exact_totals() {
    let s = TestServer::start();
    for i in (0..25).rev() {
        s.post(
            SA,
            json!({"name": format!("sa-{i:02}"), "display_name": format!("Robot {i}")}),
        )
        .assert_status(201);
    }
    let first = s.get(&format!("{SA}?per_page=10"));
    first.assert_status(200);
    assert_eq!(first.body["total_count"], 26);
    assert_eq!(first.body["page"], 1);
    assert_eq!(first.body["per_page"], 10);
    let mut all = names(&first.body);
    assert_eq!(all[0], "admin");
    let mut token = first.body["next_page_token"].as_str().map(str::to_owned);
    let mut pages = 1;
    while let Some(t) = token {
        let next = s.get(&format!("{SA}?per_page=10&page_token={t}"));
        next.assert_status(200);
        pages += 1;
        assert_eq!(next.body["page"], pages);
        all.extend(names(&next.body));
        token = next.body["next_page_token"].as_str().map(str::to_owned);
    }
    assert_eq!(pages, 3);
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted);
    assert_eq!(all.len(), 26);
    let third = s.get(&format!("{SA}?per_page=10&page=3"));
    assert_eq!(names(&third.body), all[20..]);
    assert!(third.body["next_page_token"].is_null());
    assert_eq!(s.get(&format!("{SA}?page=9")).body["items"], json!([]));
}

#[test]
fn lists_filter_by_query_status_and_role() {
    let s = TestServer::start();
    s.post(
        SA,
        json!({"name": "alpha", "display_name": "The BUILD bot"}),
    );
    s.post(SA, json!({"name": "build-2"}));
    s.post(SA, json!({"name": "other", "roles": ["viewer"]}));
    s.patch(&format!("{SA}/other"), json!({"status": "disabled"}));
    let q = s.get(&format!("{SA}?query=Build"));
    assert_eq!(names(&q.body), ["alpha", "build-2"]);
    assert_eq!(q.body["total_count"], 2);
    assert_eq!(q.body.get("total_count_exact"), None, "an exact count");
    let paged = s.get(&format!("{SA}?query=build&per_page=1"));
    assert_eq!(names(&paged.body), ["alpha"]);
    assert_eq!(paged.body["total_count"], 2);
    let t = paged.body["next_page_token"].as_str().unwrap();
    let next = s.get(&format!("{SA}?query=build&per_page=1&page_token={t}"));
    assert_eq!(names(&next.body), ["build-2"]);
    assert!(next.body["next_page_token"].is_null());
    assert_eq!(
        names(&s.get(&format!("{SA}?status=disabled")).body),
        ["other"]
    );
    assert_eq!(s.get(&format!("{SA}?status=active")).body["total_count"], 3);
    assert_eq!(names(&s.get(&format!("{SA}?role=viewer")).body), ["other"]);
    assert_eq!(names(&s.get(&format!("{SA}?role=admin")).body), ["admin"]);
}

/// A query whose exact count would read more sets than a page is worth (forty
/// characters, each of whose trigrams these names hold at every position) answers a
/// lower bound, marked so; its pages still hold every match once, in name order.
#[test]
fn a_costly_count_is_a_lower_bound_marked_inexact() {
    let s = TestServer::start();
    let mut expected = Vec::new();
    for i in 0..12 {
        let name = format!("{}-{i:02}", "a".repeat(60));
        s.post(SA, json!({ "name": name })).assert_status(201);
        expected.push(name);
    }
    s.post(SA, json!({"name": "b-01"})).assert_status(201);
    let first = format!("{SA}?per_page=5&query={}", "A".repeat(40));
    let (mut seen, mut path) = (Vec::new(), first.clone());
    loop {
        let page = s.get(&path);
        assert_eq!(page.status, 200, "{}", page.body);
        assert_eq!(page.body["total_count_exact"], false, "{}", page.body);
        let total = page.body["total_count"].as_u64().unwrap();
        let items = names(&page.body);
        let token = page.body["next_page_token"].as_str().map(str::to_owned);
        let least = items.len() as u64 + u64::from(token.is_some());
        assert!((least..=12).contains(&total), "{}", page.body);
        seen.extend(items);
        match token {
            Some(token) => path = format!("{first}&page_token={token}"),
            None => break,
        }
    }
    assert_eq!(seen, expected);
    let short = s.get(&format!("{SA}?query={}", "a".repeat(10)));
    assert_eq!(short.body["total_count"], 12);
    assert_eq!(short.body.get("total_count_exact"), None, "{}", short.body);
}

#[test]
fn bad_list_parameters_are_400_naming_them() {
    let s = TestServer::start();
    for (query, field) in [
        ("per_page=0", "per_page"),
        ("per_page=1001", "per_page"),
        ("per_page=ten", "per_page"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page_token=bm9wZQ", "page_token"),
        ("status=asleep", "status"),
        ("role=Bad_Role", "role"),
    ] {
        let reply = s.get(&format!("{SA}?{query}"));
        reply.assert_error(400, "INVALID_ARGUMENT");
        assert_eq!(reply.body["error"]["details"][0]["field"], field, "{query}");
    }
    s.get(&format!("{SA}?per_page=1000")).assert_status(200);
}

#[test]
fn permissions_hide_or_refuse() {
    let s = TestServer::start();
    let nobody = s.create_account("nobody", &[]);
    let viewer = s.create_account("viewer-1", &["viewer"]);
    let operator = s.create_account("op", &["operator"]);
    let target = format!("{SA}/op");

    // No read permission: lists are 403, objects 404 (no enumeration).
    s.get_as(&nobody, SA).assert_error(403, "PERMISSION_DENIED");
    s.get_as(&nobody, &target).assert_error(404, "NOT_FOUND");
    s.patch_as(&nobody, &target, json!({"display_name": "x"}))
        .assert_error(404, "NOT_FOUND");
    s.post_as(&nobody, SA, json!({"name": "n1"}))
        .assert_error(403, "PERMISSION_DENIED");

    // Read but not write: 403 on changes to objects it can see, 404 on missing ones.
    s.get_as(&viewer, &target).assert_status(200);
    s.get_as(&viewer, SA).assert_status(200);
    s.patch_as(&viewer, &target, json!({"display_name": "x"}))
        .assert_error(403, "PERMISSION_DENIED");
    s.send(Method::DELETE, &target, Some(&viewer), None, &[])
        .assert_error(403, "PERMISSION_DENIED");
    s.patch_as(
        &viewer,
        &format!("{SA}/missing"),
        json!({"display_name": "x"}),
    )
    .assert_error(404, "NOT_FOUND");
    s.post_as(&viewer, SA, json!({"name": "n2"}))
        .assert_error(403, "PERMISSION_DENIED");
    assert_eq!(s.get(&target).body["display_name"], "op");

    // Write: the operator manages accounts within the roles it holds.
    s.post_as(
        &operator,
        SA,
        json!({"name": "made-by-op", "roles": ["operator"]}),
    )
    .assert_status(201);
}

#[test]
fn an_operator_cannot_grant_roles_it_does_not_hold() {
    let s = TestServer::start();
    let operator = s.create_account("op", &["operator"]);
    s.post_as(&operator, SA, json!({"name": "evil", "roles": ["admin"]}))
        .assert_error(403, "PERMISSION_DENIED");
    s.get(&format!("{SA}/evil")).assert_error(404, "NOT_FOUND");
    s.patch_as(
        &operator,
        &format!("{SA}/op"),
        json!({"roles": ["operator", "admin"]}),
    )
    .assert_error(403, "PERMISSION_DENIED");
    s.post(SA, json!({"name": "plain"}));
    s.patch_as(
        &operator,
        &format!("{SA}/plain"),
        json!({"roles": ["viewer"]}),
    )
    .assert_error(403, "PERMISSION_DENIED");
    assert_eq!(
        s.get(&format!("{SA}/op")).body["roles"],
        json!(["operator"])
    );
    assert_eq!(s.get(&format!("{SA}/plain")).body["roles"], json!([]));
    s.patch_as(
        &operator,
        &format!("{SA}/plain"),
        json!({"roles": ["operator"]}),
    )
    .assert_status(200);
}

#[test]
fn data_survives_a_restart() {
    let mut s = TestServer::start();
    let secret = s.create_account("keeper", &["viewer"]);
    let before = s.get(&format!("{SA}/keeper")).body;
    s.restart();
    let after = s.get(&format!("{SA}/keeper"));
    after.assert_status(200);
    assert_eq!(after.body, before);
    s.get_as(&secret, "/api/v1/me").assert_status(200);
    assert_eq!(
        s.get(SA).body["total_count"],
        2,
        "no second admin at restart"
    );
}

/// A create that shows the first secret, and `renew-token`, answer what no cache may
/// keep; a create without a secret and a read are ordinary answers. At the root and in
/// a project.
#[test]
fn answers_showing_a_secret_are_not_cached() {
    let s = TestServer::start();
    s.post("/api/v1/projects", json!({"name": "p1"}))
        .assert_status(201);
    for base in [SA, "/api/v1/projects/p1/service-accounts"] {
        let created = s.post(base, json!({"name": "bot"}));
        created.assert_status(201);
        assert!(created.body["token"].is_string(), "{}", created.body);
        assert_eq!(created.caching(), NO_STORE, "{base} create");
        let renewed = s.post(&format!("{base}/bot/renew-token"), json!({}));
        renewed.assert_status(200);
        assert!(renewed.body["token"].is_string(), "{}", renewed.body);
        assert_eq!(renewed.caching(), NO_STORE, "{base} renew-token");
        let bare = s.post(base, json!({"name": "bare", "initial_secret": false}));
        bare.assert_status(201);
        assert!(bare.body.get("token").is_none(), "{}", bare.body);
        assert_eq!(
            bare.caching(),
            (None, None),
            "{base} create without a secret"
        );
        let read = s.get(&format!("{base}/bot"));
        read.assert_status(200);
        assert_eq!(read.caching(), (None, None), "{base} read");
    }
}

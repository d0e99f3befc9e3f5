//! The settings: precedence, bounds, file errors, and which variables are read.

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect()
}

#[test]
fn defaults_are_the_contracts() {
    let c = Config::load(None, env(&[])).unwrap();
    assert_eq!(c.server.listen, "127.0.0.1:8080");
    assert_eq!(c.server.max_body_bytes, 65536);
    assert_eq!(c.storage.path, PathBuf::from("./keyhouse.redb"));
    assert_eq!(c.storage.key_file, None);
    assert_eq!(c.storage.integrity_check_interval_seconds, 86400);
    assert_eq!(c.credentials.limits.max_active, 5);
    assert_eq!(c.credentials.limits.default_lifetime_days, 365);
    assert_eq!(c.credentials.limits.max_lifetime_days, 730);
    assert_eq!(c.credentials.last_used_flush_seconds, 5);
    assert_eq!(c.oauth.audience, "keyhouse");
    assert_eq!(c.oauth.access_token_ttl_seconds, 3600);
    assert_eq!(c.issuer(c.listen_addr().unwrap()), "http://127.0.0.1:8080");
    assert_eq!(c.security.max_auth_failures, 20);
    assert_eq!(c.security.auth_failure_window_seconds, 60);
}

#[test]
fn environment_overrides_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("k.toml");
    std::fs::write(
        &file,
        "[server]\nlisten = \"127.0.0.1:9000\"\n[credentials]\nmax_active = 3\n",
    )
    .unwrap();
    let c = Config::load(Some(&file), env(&[])).unwrap();
    assert_eq!(
        (c.server.listen.as_str(), c.credentials.limits.max_active),
        ("127.0.0.1:9000", 3)
    );
    let c = Config::load(
        Some(&file),
        env(&[
            ("KEYHOUSE_CREDENTIALS__MAX_ACTIVE", "7"),
            ("KEYHOUSE_OAUTH__AUDIENCE", "123"),
            ("OTHER", "x"),
        ]),
    )
    .unwrap();
    assert_eq!(c.credentials.limits.max_active, 7);
    assert_eq!(c.oauth.audience, "123");
    assert_eq!(c.server.listen, "127.0.0.1:9000");
}

#[test]
fn bad_settings_are_named() {
    let err = Config::load(None, env(&[("KEYHOUSE_CREDENTIALS__MAX_ACTIVE", "many")])).unwrap_err();
    assert!(err.to_string().contains("credentials.max_active"), "{err}");
    let err = Config::load(None, env(&[("KEYHOUSE_SERVER__LISTEN", "nowhere")])).unwrap_err();
    assert!(err.to_string().contains("server.listen"), "{err}");
    let err = Config::load(None, env(&[("KEYHOUSE_STORAGE__KEY_FILE", "")])).unwrap_err();
    assert!(err.to_string().contains("storage.key_file"), "{err}");
    let err = Config::load(None, env(&[("KEYHOUSE_NOPE__X", "1")])).unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
    let err =
        Config::load(None, env(&[("KEYHOUSE_BOOTSTRAP__ADMIN_TOKEN", "kh_nope")])).unwrap_err();
    assert!(err.to_string().contains("bootstrap.admin_token"), "{err}");
    assert!(
        !err.to_string().contains("kh_nope"),
        "never echo a secret: {err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("k.toml");
    std::fs::write(&file, "[server]\nlisen = \"x\"\n").unwrap();
    let err = Config::load(Some(&file), env(&[])).unwrap_err();
    assert!(err.to_string().contains("lisen"), "{err}");
}

#[test]
fn connection_settings_are_bounded() {
    let c = Config::load(None, env(&[])).unwrap();
    assert_eq!(c.server.max_connections, 768);
    assert_eq!(c.server.max_connections_per_address, None);
    assert_eq!(c.server.body_read_timeout_seconds, 10);
    let c = Config::load(
        None,
        env(&[
            ("KEYHOUSE_SERVER__MAX_CONNECTIONS", "8"),
            ("KEYHOUSE_SERVER__MAX_CONNECTIONS_PER_ADDRESS", "8"),
        ]),
    )
    .unwrap();
    assert_eq!(c.server.max_connections_per_address, Some(8));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("k.toml");
    std::fs::write(&file, "[server]\nmax_connections_per_address = 4\n").unwrap();
    let c = Config::load(Some(&file), env(&[])).unwrap();
    assert_eq!(c.server.max_connections_per_address, Some(4));
    let err = Config::load(
        None,
        env(&[("KEYHOUSE_SERVER__MAX_CONNECTIONS_PER_ADDRESS", "some")]),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("must be a whole number"), "{err}");
    for (var, value, named) in [
        ("KEYHOUSE_SERVER__MAX_CONNECTIONS", "0", "from 1 to 1000000"),
        (
            "KEYHOUSE_SERVER__MAX_CONNECTIONS",
            "1000001",
            "from 1 to 1000000",
        ),
        (
            "KEYHOUSE_SERVER__MAX_CONNECTIONS_PER_ADDRESS",
            "0",
            "from 1 to server.max_connections (768)",
        ),
        (
            "KEYHOUSE_SERVER__MAX_CONNECTIONS_PER_ADDRESS",
            "769",
            "from 1 to server.max_connections (768)",
        ),
        (
            "KEYHOUSE_SERVER__BODY_READ_TIMEOUT_SECONDS",
            "0",
            "from 1 to 300",
        ),
        (
            "KEYHOUSE_SERVER__BODY_READ_TIMEOUT_SECONDS",
            "301",
            "from 1 to 300",
        ),
    ] {
        let err = Config::load(None, env(&[(var, value)]))
            .unwrap_err()
            .to_string();
        let setting = var.trim_start_matches("KEYHOUSE_SERVER__").to_lowercase();
        assert!(err.contains(&format!("server.{setting}")), "{err}");
        assert!(err.contains(named), "{err}");
    }
}

#[test]
fn the_admin_token_may_come_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    let secret = Secret::generate().unwrap();
    std::fs::write(&file, format!("{}\n", secret.expose())).unwrap();
    let path = file.to_string_lossy().into_owned();
    let c = Config::load(
        None,
        env(&[("KEYHOUSE_BOOTSTRAP__ADMIN_TOKEN_FILE", &path)]),
    )
    .unwrap();
    assert_eq!(c.bootstrap_secret().unwrap(), Some(secret));
}

#[test]
fn every_number_is_bounded_and_the_error_names_the_setting_and_range() {
    let huge = "4000000000000";
    for (var, value, named) in [
        (
            "KEYHOUSE_SERVER__MAX_BODY_BYTES",
            huge,
            "from 1 to 67108864",
        ),
        (
            "KEYHOUSE_STORAGE__INTEGRITY_CHECK_INTERVAL_SECONDS",
            huge,
            "from 0 to 31536000",
        ),
        (
            "KEYHOUSE_CREDENTIALS__MAX_ACTIVE",
            "10001",
            "from 1 to 10000",
        ),
        (
            "KEYHOUSE_CREDENTIALS__MAX_LIFETIME_DAYS",
            "36501",
            "from 0 to 36500",
        ),
        (
            "KEYHOUSE_CREDENTIALS__DEFAULT_LIFETIME_DAYS",
            "731",
            "from 1 to credentials.max_lifetime_days (730)",
        ),
        (
            "KEYHOUSE_CREDENTIALS__DEFAULT_LIFETIME_DAYS",
            "0",
            "from 1 to credentials.max_lifetime_days (730)",
        ),
        (
            "KEYHOUSE_CREDENTIALS__LAST_USED_FLUSH_SECONDS",
            huge,
            "from 1 to 86400",
        ),
        (
            "KEYHOUSE_OAUTH__ACCESS_TOKEN_TTL_SECONDS",
            huge,
            "from 1 to 2592000",
        ),
        ("KEYHOUSE_SECURITY__MAX_AUTH_FAILURES", huge, "u32"),
        (
            "KEYHOUSE_SECURITY__MAX_AUTH_FAILURES",
            "1000001",
            "from 1 to 1000000",
        ),
        (
            "KEYHOUSE_SECURITY__AUTH_FAILURE_WINDOW_SECONDS",
            huge,
            "from 1 to 86400",
        ),
    ] {
        let err = Config::load(None, env(&[(var, value)]))
            .unwrap_err()
            .to_string();
        let setting = var
            .trim_start_matches(ENV_PREFIX)
            .replace("__", ".")
            .to_lowercase();
        assert!(err.contains(&setting), "{var}={value}: {err}");
        assert!(err.contains(named), "{var}={value}: {err}");
    }
}

#[test]
fn the_largest_lifetimes_are_accepted() {
    let c = Config::load(
        None,
        env(&[
            ("KEYHOUSE_CREDENTIALS__MAX_LIFETIME_DAYS", "36500"),
            ("KEYHOUSE_CREDENTIALS__DEFAULT_LIFETIME_DAYS", "36500"),
            ("KEYHOUSE_OAUTH__ACCESS_TOKEN_TTL_SECONDS", "2592000"),
        ]),
    )
    .unwrap();
    assert_eq!(c.credentials.limits.default_lifetime_days, 36500);
}

/// 0 days is "never expires" for the default and "no maximum" for the maximum; a
/// default of never, or above a maximum that is set, is refused.
#[test]
fn lifetimes_of_zero_mean_never_and_no_maximum() {
    let c = Config::load(
        None,
        env(&[
            ("KEYHOUSE_CREDENTIALS__MAX_LIFETIME_DAYS", "0"),
            ("KEYHOUSE_CREDENTIALS__DEFAULT_LIFETIME_DAYS", "0"),
        ]),
    )
    .unwrap();
    assert_eq!(c.credentials.limits.default_lifetime_days, 0);
    let c = Config::load(
        None,
        env(&[("KEYHOUSE_CREDENTIALS__MAX_LIFETIME_DAYS", "0")]),
    )
    .unwrap();
    assert_eq!(c.credentials.limits.default_lifetime_days, 365);
    for (max, default) in [("730", "0"), ("30", "31")] {
        let err = Config::load(
            None,
            env(&[
                ("KEYHOUSE_CREDENTIALS__MAX_LIFETIME_DAYS", max),
                ("KEYHOUSE_CREDENTIALS__DEFAULT_LIFETIME_DAYS", default),
            ]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("credentials.default_lifetime_days"), "{err}");
    }
}

#[test]
fn a_value_of_the_wrong_type_from_the_environment_is_named() {
    let err = Config::load(None, env(&[("KEYHOUSE_CREDENTIALS__MAX_ACTIVE", "-1")]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("credentials.max_active"), "{err}");
}

fn load_file(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("k.toml");
    std::fs::write(&file, text).unwrap();
    Config::load(Some(&file), env(&[])).unwrap_err().to_string()
}

#[test]
fn file_errors_give_the_setting_and_the_line() {
    let err =
        load_file("[server]\nlisten = \"127.0.0.1:1\"\n\n[credentials]\nmax_active = \"5\"\n");
    assert!(err.contains("line 5"), "{err}");
    assert!(err.contains("credentials.max_active"), "{err}");

    let err = load_file("[server]\n\nlisen = \"x\"\n");
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("server.lisen"), "{err}");

    let err =
        load_file("[oauth]\naudience = \"a\"\n[credentials]\nmax_lifetime_days = 5000000000\n");
    assert!(err.contains("line 4"), "{err}");
    assert!(err.contains("credentials.max_lifetime_days"), "{err}");

    let err = load_file("[server]\nlisten = \"a\"\nmax_connections = [\n");
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("not valid TOML"), "{err}");
}

#[test]
fn only_setting_variables_are_read_and_the_others_but_the_clients_returned() {
    let mut tree = toml::Table::try_from(Config::default()).unwrap();
    let ignored = env::apply(
        &mut tree,
        env(&[
            ("KEYHOUSE_URL", "http://x"),
            ("KEYHOUSE_TOKEN", "kh_x"),
            ("KEYHOUSE_TOKEN_FILE", "/t"),
            ("KEYHOUSE_PROJECT", "p"),
            ("KEYHOUSE_PROFILE", "/p"),
            ("KEYHOUSE_LISTEN", "127.0.0.1:1"),
            ("KEYHOUSE_SERVER__LISTEN", "127.0.0.1:1"),
            ("HOME", "/root"),
        ]),
    )
    .unwrap();
    assert_eq!(
        ignored,
        ["KEYHOUSE_LISTEN"],
        "the client's variables pass silently"
    );
    let c = Config::load(None, env(&[("KEYHOUSE_URL", "not a setting")])).unwrap();
    assert_eq!(c.server.listen, "127.0.0.1:8080");
}

/// The leaf paths of a table, dotted.
fn leaves(table: &toml::Table, prefix: &str, into: &mut Vec<String>) {
    for (key, value) in table {
        let path = format!("{prefix}{key}");
        match value {
            toml::Value::Table(inner) => leaves(inner, &format!("{path}."), into),
            _ => into.push(path),
        }
    }
}

#[test]
fn the_environment_knows_every_setting() {
    let mut c = Config::default();
    c.server.tls = Some(TlsConfig {
        cert_file: Some("c".into()),
        key_file: Some("k".into()),
    });
    c.server.max_connections_per_address = Some(1);
    c.storage.key_file = Some("k".into());
    c.bootstrap.admin_token = Some("t".into());
    c.bootstrap.admin_token_file = Some("f".into());
    c.oauth.issuer = Some("i".into());
    c.storage.postgres.url = Some("u".into());
    c.storage.postgres.url_file = Some("f".into());
    c.storage.postgres.ca_file = Some("c".into());
    let mut paths = Vec::new();
    leaves(&toml::Table::try_from(c).unwrap(), "", &mut paths);
    paths.sort();
    let mut known = SETTINGS.to_vec();
    known.sort();
    assert_eq!(paths, known);
}

#[test]
fn the_postgres_backend_needs_one_connection_string_and_sane_numbers() {
    let postgres = |tweak: &dyn Fn(&mut Config)| {
        let mut c = Config::default();
        c.storage.backend = Backend::Postgres;
        c.storage.postgres.url = Some("host=db".into());
        tweak(&mut c);
        c.validate().err().map(|e| e.to_string())
    };
    assert_eq!(postgres(&|_| {}), None);
    let none = postgres(&|c| c.storage.postgres.url = None).unwrap();
    assert!(none.contains("storage.postgres.url"), "{none}");
    let both = postgres(&|c| c.storage.postgres.url_file = Some("f".into())).unwrap();
    assert!(both.contains("not both"), "{both}");
    let one = postgres(&|c| c.storage.postgres.pool_size = 1).unwrap();
    assert!(one.contains("storage.postgres.pool_size"), "{one}");
    let slow = postgres(&|c| c.storage.postgres.connect_timeout_seconds = 0).unwrap();
    assert!(slow.contains("connect_timeout_seconds"), "{slow}");
}

#[test]
fn the_environment_chooses_the_backend_and_its_database() {
    let c = Config::load(
        None,
        env(&[
            ("KEYHOUSE_STORAGE__BACKEND", "postgres"),
            (
                "KEYHOUSE_STORAGE__POSTGRES__URL",
                "host=a,b target_session_attrs=read-write",
            ),
            ("KEYHOUSE_STORAGE__POSTGRES__POOL_SIZE", "3"),
            ("KEYHOUSE_STORAGE__POSTGRES__CHANGES", "poll"),
        ]),
    )
    .unwrap();
    assert_eq!(c.storage.backend, Backend::Postgres);
    assert_eq!(c.storage.postgres.pool_size, 3);
    match c.storage_location().unwrap() {
        crate::store::Location::Postgres(options) => {
            assert_eq!(options.location(), "postgres://a,b/");
            assert!(options.poll_changes);
        }
        other => panic!("{other:?}"),
    }
    let mut with_password = c.clone();
    with_password.storage.postgres.url = Some("postgres://kh:hunter2@db:5433/keys".into());
    let location = match with_password.storage_location().unwrap() {
        crate::store::Location::Postgres(options) => (options.location(), format!("{options:?}")),
        other => panic!("{other:?}"),
    };
    assert_eq!(location.0, "postgres://db:5433/keys");
    assert!(!location.1.contains("hunter2"), "{}", location.1);
    assert!(!format!("{with_password:?}").contains("hunter2"));
}

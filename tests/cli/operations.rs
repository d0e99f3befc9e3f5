//! Running it as operators do: JSON log lines, `SIGHUP`, systemd's notifications.

use std::net::TcpStream;
use std::os::unix::net::UnixDatagram;
use std::time::Instant;

use serde_json::Value;

use super::*;

/// How long a test waits for what it polls for before it fails.
const PATIENCE: Duration = Duration::from_secs(30);

#[test]
fn json_log_lines_carry_every_field_and_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(
        &dir.path().join("k.redb"),
        &[("KEYHOUSE_LOG__FORMAT", "json")],
    );
    let admin = served.printed_secret().unwrap();
    let client = reqwest::blocking::Client::new();
    let secret = crate::created_secret(&served.base, &admin, "bot");
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let me = client
        .get(format!("{}/api/v1/me", served.base))
        .bearer_auth(&secret)
        .header("traceparent", format!("00-{trace}-00f067aa0ba902b7-01"))
        .send()
        .unwrap();
    assert_eq!(me.status().as_u16(), 200);
    let request_id = me.headers()["x-request-id"].to_str().unwrap().to_owned();
    client
        .get(format!("{}/api/v1/me?access_token={secret}", served.base))
        .send()
        .unwrap();
    // A request actix cannot parse: answered 400, and not an error of the server's.
    let mut conn = TcpStream::connect(served.base.trim_start_matches("http://")).unwrap();
    conn.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    let _ = conn.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");

    let log = served.stop();
    let lines: Vec<Value> = log
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    for line in &lines {
        for field in ["time", "level", "target", "message"] {
            assert!(line[field].is_string(), "{field} in {line}");
        }
        let time = line["time"].as_str().unwrap();
        assert!(time.contains('T') && time.ends_with('Z'), "{time}");
        assert_ne!(line["level"], "ERROR", "{line}");
    }
    let access = lines
        .iter()
        .find(|l| l["request_id"] == request_id.as_str() && l["status"].is_u64())
        .unwrap_or_else(|| panic!("no access line of {request_id}: {log:?}"));
    assert_eq!(access["level"], "INFO");
    assert_eq!(access["method"], "GET");
    assert_eq!(access["route"], "/api/v1/me");
    assert_eq!(access["status"], 200);
    assert!(access["duration_ms"].as_f64().unwrap() >= 0.0, "{access}");
    assert_eq!(access["client"], "127.0.0.1");
    assert_eq!(access["trace_id"], trace);
    assert_eq!(access["parent_id"], "00f067aa0ba902b7");
    assert!(
        access["message"]
            .as_str()
            .unwrap()
            .contains("\"GET /api/v1/me HTTP/1.1\" 200"),
        "{access}"
    );
    let other = lines
        .iter()
        .find(|l| l["route"] == "/api/v1/me" && l["status"] == 401)
        .unwrap_or_else(|| panic!("the request with a secret in its URL: {log:?}"));
    assert!(other.get("trace_id").is_none(), "no trace sent: {other}");
    for line in &log {
        for s in [&admin, &secret] {
            assert!(!line.contains(&s[3..]), "a secret in the log: {line}");
        }
    }
}

/// A client that trusts `cert` alone; a new one for each call, so that no connection
/// (and no certificate it was opened with) is reused.
fn trusting(cert: &rcgen::CertifiedKey) -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .tls_built_in_root_certs(false)
        .build()
        .unwrap()
}

fn write_tls(dir: &Path, cert: &rcgen::CertifiedKey, level: &str) -> String {
    let (cert_file, key_file) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_file, cert.cert.pem()).unwrap();
    std::fs::write(&key_file, cert.key_pair.serialize_pem()).unwrap();
    let config = dir.join("keyhouse.toml");
    std::fs::write(
        &config,
        format!(
            "[log]\nlevel = \"{level}\"\nformat = \"json\"\n\n[server.tls]\n\
             cert_file = {cert_file:?}\nkey_file = {key_file:?}\n"
        ),
    )
    .unwrap();
    config.to_str().unwrap().to_owned()
}

#[test]
fn sighup_serves_a_renewed_certificate_and_the_reread_log_level_and_lives() {
    let dir = tempfile::tempdir().unwrap();
    let localhost = || rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (old, renewed) = (localhost(), localhost());
    let config = write_tls(dir.path(), &old, "info");
    let mut served = Served::start_with(&dir.path().join("k.redb"), &[], &["--config", &config]);
    let port = served.base.rsplit(':').next().unwrap().to_owned();
    let healthz = format!("https://localhost:{port}/healthz");
    assert!(trusting(&old).get(&healthz).send().is_ok());
    assert!(trusting(&renewed).get(&healthz).send().is_err());

    write_tls(dir.path(), &renewed, "debug");
    let hup = Command::new("kill")
        .args(["-HUP", &served.child.id().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    let deadline = Instant::now() + PATIENCE;
    while trusting(&renewed).get(&healthz).send().is_err() {
        assert!(
            Instant::now() < deadline,
            "the renewed certificate is not served"
        );
        assert!(
            served.child.try_wait().unwrap().is_none(),
            "SIGHUP ended it"
        );
    }
    assert!(served.child.try_wait().unwrap().is_none(), "it lives");
    assert!(
        trusting(&old).get(&healthz).send().is_err(),
        "the old one is gone"
    );

    let log = served.stop();
    let said = |what: &str| log.iter().any(|l| l.contains(what));
    assert!(said("SIGHUP: serving the TLS certificate"), "{log:?}");
    assert!(said("SIGHUP: log.level is \\\"debug\\\""), "{log:?}");
    // The reread level: actix-server's debug line as it stops is written.
    assert!(said("\"level\":\"DEBUG\""), "{log:?}");
}

#[test]
fn systemd_hears_ready_watchdog_and_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&path).unwrap();
    socket.set_read_timeout(Some(PATIENCE)).unwrap();
    let served = Served::start(
        &dir.path().join("k.redb"),
        &[
            ("NOTIFY_SOCKET", path.to_str().unwrap()),
            ("WATCHDOG_USEC", "200000"),
        ],
    );
    let mut heard = Vec::new();
    let mut hear = |want: &str| {
        let mut buf = [0u8; 512];
        loop {
            let n = socket
                .recv(&mut buf)
                .unwrap_or_else(|e| panic!("no {want} ({e}); heard {heard:?}"));
            let message = String::from_utf8_lossy(&buf[..n]).into_owned();
            heard.push(message.clone());
            if message.lines().any(|l| l == want) {
                return;
            }
        }
    };
    hear("READY=1");
    let readyz = reqwest::blocking::get(format!("{}/readyz", served.base)).unwrap();
    assert_eq!(readyz.status().as_u16(), 200);
    hear("WATCHDOG=1");
    served.stop();
    hear("STOPPING=1");
}

/// `keyhouse config check [--config FILE]` with `env`: exit code and standard output.
fn config_check(file: Option<&Path>, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut command = Command::new(BIN);
    command.args(["config", "check"]);
    if let Some(file) = file {
        command.arg("--config").arg(file);
    }
    let out = command.envs(env.iter().copied()).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn config_check_shows_each_setting_and_its_source_and_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let token = keyhouse::auth::secret::Secret::generate().unwrap();
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let good = file(
        "good.toml",
        &format!(
            "[storage]\npath = {:?}\n\n[log]\nformat = \"json\"\n",
            dir.path().join("k.redb")
        ),
    );
    let (code, out) = config_check(
        Some(&good),
        &[
            ("KEYHOUSE_BOOTSTRAP__ADMIN_TOKEN", token.expose()),
            ("KEYHOUSE_OAUTH__AUDIENCE", "payments"),
        ],
    );
    assert_eq!(code, Some(0), "{out}");
    let row = |name: &str| {
        out.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name}: {out}"))
            .to_owned()
    };
    assert!(row("log.format").ends_with("\"json\"  from file"), "{out}");
    assert!(
        row("oauth.audience").ends_with("\"payments\"  from environment KEYHOUSE_OAUTH__AUDIENCE"),
        "{out}"
    );
    assert!(row("server.listen").ends_with("\"127.0.0.1:8080\"  from default"));
    assert!(
        row("bootstrap.admin_token").contains("(set, masked)"),
        "{out}"
    );
    assert!(
        !out.contains(&token.expose()[3..]),
        "the secret is shown: {out}"
    );
    assert!(out.contains("no problems"), "{out}");

    let bad = [
        (
            "two bad keys",
            "[server]\nlisten = 5\nbogus = 1\n",
            &[
                "server.bogus is no setting",
                "invalid setting server.listen",
            ][..],
        ),
        (
            "two bad values",
            "[credentials]\nmax_active = 0\n\n[log]\nlevel = \"inf\"\n",
            &[
                "invalid setting credentials.max_active",
                "invalid setting log.level",
            ],
        ),
        (
            "files that are not there",
            "[server.tls]\ncert_file = \"/nonexistent/cert.pem\"\nkey_file = \"/nonexistent/key.pem\"\n\n\
             [storage]\npath = \"/nonexistent/dir/k.redb\"\n",
            &["server.tls.cert_file", "storage.path: its directory"],
        ),
    ];
    for (what, text, problems) in bad {
        let (code, out) = config_check(Some(&file("bad.toml", text)), &[]);
        assert_eq!(code, Some(1), "{what}: {out}");
        assert!(
            out.contains(&format!("{} problem(s)", problems.len())),
            "{what}: {out}"
        );
        for problem in problems {
            assert!(out.contains(problem), "{what}: no {problem:?} in {out}");
        }
    }
}

#[test]
fn completions_and_man_pages_come_from_the_command_definitions() {
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::new(BIN)
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        for word in ["keyhouse", "serve", "issue-token", "--config"] {
            assert!(script.contains(word), "{shell}: no {word}");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["man", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    for page in [
        "keyhouse.1",
        "keyhouse-serve.1",
        "keyhouse-admin-issue-token.1",
    ] {
        assert!(dir.path().join(page).is_file(), "{page}");
    }
    let serve = std::fs::read_to_string(dir.path().join("keyhouse-serve.1")).unwrap();
    for setting in keyhouse::config::SETTINGS {
        let variable = format!("KEYHOUSE_{}", setting.replace('.', "__").to_uppercase());
        assert!(
            serve.contains(&variable.replace('_', "\\_")) || serve.contains(&variable),
            "{variable} in keyhouse-serve.1"
        );
    }
}

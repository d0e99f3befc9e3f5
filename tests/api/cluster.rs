//! A throwaway PostgreSQL cluster for the tests: `initdb` and `postgres` from the
//! binaries `pg_config --bindir` names (or `KEYHOUSE_TEST_PG_BINDIR`), in a temporary
//! folder, on a free port, as an unprivileged user when the tests run as root
//! (PostgreSQL refuses root). One cluster serves the whole test binary, each test a
//! database of its own; it stops when the binary exits (its shell reads the binary's
//! end of a pipe).
#![allow(dead_code)] // each test binary uses its own subset of these helpers
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)] // tests

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The cluster, or why there is none.
static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();

pub struct Cluster {
    pub port: u16,
    /// The shell that runs `postgres` and stops it when this pipe closes.
    _keeper: Mutex<(Child, ChildStdin)>,
    _dir: tempfile::TempDir,
}

/// Whether the HTTP tests run on PostgreSQL (`KEYHOUSE_TEST_BACKEND=postgres`).
pub fn backend_is_postgres() -> bool {
    std::env::var("KEYHOUSE_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// The shared cluster; `None`, said once on stderr, where no PostgreSQL binaries are
/// found, unless `KEYHOUSE_TEST_BACKEND=postgres` or `KEYHOUSE_REQUIRE_POSTGRES=1` asks
/// for it (CI), which then fails.
pub fn shared() -> Option<&'static Cluster> {
    let cluster = CLUSTER.get_or_init(|| {
        let started = bindir().and_then(|bin| Cluster::start(&bin));
        if let Err(why) = &started {
            // Past the test harness's capture (which takes `eprintln!`), so that the
            // line shows in a passing run.
            let line = format!("PostgreSQL tests skipped: {why}\n");
            let _ = std::io::stderr().write_all(line.as_bytes());
        }
        started
    });
    let required =
        backend_is_postgres() || std::env::var("KEYHOUSE_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
    match cluster {
        Ok(cluster) => Some(cluster),
        Err(why) if required => panic!("PostgreSQL is required here: {why}"),
        Err(_) => None,
    }
}

fn bindir() -> Result<PathBuf, String> {
    let dir = match std::env::var_os("KEYHOUSE_TEST_PG_BINDIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let out = Command::new("pg_config")
                .arg("--bindir")
                .output()
                .map_err(|_| "no pg_config on PATH (install postgresql)".to_owned())?;
            PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
        }
    };
    if dir.join("initdb").is_file() && dir.join("postgres").is_file() {
        Ok(dir)
    } else {
        Err(format!("no initdb and postgres in {}", dir.display()))
    }
}

/// The user the cluster runs as: `nobody` for root, else the current user.
fn runs_as() -> Option<(String, u32, u32)> {
    let uid = String::from_utf8(Command::new("id").arg("-u").output().ok()?.stdout).ok()?;
    if uid.trim() != "0" {
        return None;
    }
    let id = |flag: &str| -> u32 {
        let out = Command::new("id").args([flag, "nobody"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    };
    Some(("nobody".to_owned(), id("-u"), id("-g")))
}

/// `program` as the cluster's user.
fn command(program: &Path) -> Command {
    match runs_as() {
        Some((user, _, _)) => {
            let mut command = Command::new("runuser");
            command.args(["-u", &user, "--"]).arg(program);
            command
        }
        None => Command::new(program),
    }
}

/// A new cluster's folder (owned by the user that runs it) and its data folder.
fn init(bin: &Path) -> Result<(tempfile::TempDir, PathBuf), String> {
    let dir = own_dir()?;
    let data = dir.path().join("data");
    let initdb = command(&bin.join("initdb"))
        .args(["-D"])
        .arg(&data)
        .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
        .stdout(Stdio::null())
        .output()
        .map_err(|e| format!("initdb: {e}"))?;
    if !initdb.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&initdb.stderr)
        ));
    }
    Ok((dir, data))
}

/// A temporary folder that the cluster's user owns.
fn own_dir() -> Result<tempfile::TempDir, String> {
    let dir = tempfile::Builder::new()
        .prefix("keyhouse-pg-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    if let Some((_, uid, gid)) = runs_as() {
        std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).map_err(|e| e.to_string())?;
    }
    Ok(dir)
}

/// The server's options: this port, its socket in `dir`, TCP on 127.0.0.1 only.
fn options(port: u16, dir: &Path) -> String {
    format!(
        "-p {port} -k '{}' -c listen_addresses=127.0.0.1 -c max_connections=400",
        dir.display()
    )
}

impl Cluster {
    fn start(bin: &Path) -> Result<Cluster, String> {
        let (dir, data) = init(bin)?;
        let port = free_port();
        // The shell stops the server (fast shutdown) when its stdin closes: when this
        // test binary exits, however it exits. Nothing here needs durability.
        let script = format!(
            "'{postgres}' -D '{data}' {options} -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off >'{dir}/log' 2>&1 & pid=$!; read _; kill -INT $pid; \
             wait $pid",
            postgres = bin.join("postgres").display(),
            data = data.display(),
            options = options(port, dir.path()),
            dir = dir.path().display(),
        );
        let mut keeper = command(Path::new("/bin/sh"))
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .spawn()
            .map_err(|e| format!("postgres: {e}"))?;
        let stdin = keeper.stdin.take().unwrap();
        let cluster = Cluster {
            port,
            _keeper: Mutex::new((keeper, stdin)),
            _dir: dir,
        };
        wait_ready(port)?;
        Ok(cluster)
    }

    /// The connection string of the database `name`.
    pub fn url(&self, name: &str) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname={name}",
            self.port
        )
    }

    /// A new, empty database: its connection string.
    pub fn new_database(&self) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "kh_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = postgres::Client::connect(&self.url("postgres"), postgres::NoTls).unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        self.url(&name)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Ok(keeper) = self._keeper.get_mut() {
            let _ = keeper.1.write_all(b"\n");
        }
    }
}

fn url(port: u16, name: &str) -> String {
    format!("host=127.0.0.1 port={port} user=postgres dbname={name}")
}

/// Waits for a starting server to take connections.
fn wait_ready(port: u16) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match postgres::Client::connect(&url(port, "postgres"), postgres::NoTls) {
            Ok(_) => return Ok(()),
            Err(err) if Instant::now() > deadline => {
                return Err(format!("the cluster did not start: {err}"));
            }
            // Polls a starting process: no time passes for the server under test.
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// A durable cluster of one test's own, which it stops and starts with `pg_ctl`; it
/// stops when dropped.
pub struct OwnCluster {
    pub port: u16,
    bin: PathBuf,
    data: PathBuf,
    dir: tempfile::TempDir,
}

impl OwnCluster {
    /// `None` where no PostgreSQL binaries are found (and none is required).
    pub fn start() -> Option<OwnCluster> {
        shared()?;
        let bin = bindir().unwrap();
        let (dir, data) = init(&bin).unwrap();
        let cluster = OwnCluster {
            port: free_port(),
            bin,
            data,
            dir,
        };
        cluster.start_again();
        Some(cluster)
    }

    fn pg_ctl(&self, args: &[&str]) {
        let out = command(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(args)
            .stdout(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts the server and waits until it takes connections.
    pub fn start_again(&self) {
        let log = self.dir.path().join("log");
        let options = options(self.port, self.dir.path());
        self.pg_ctl(&["start", "-w", "-l", log.to_str().unwrap(), "-o", &options]);
        wait_ready(self.port).unwrap();
    }

    /// Stops the server as a crash would (`pg_ctl stop -m immediate`).
    pub fn stop_immediately(&self) {
        self.pg_ctl(&["stop", "-m", "immediate"]);
    }

    pub fn url(&self) -> String {
        url(self.port, "postgres")
    }

    /// A streaming standby of this cluster (`pg_basebackup -R`), started.
    pub fn standby(&self) -> OwnCluster {
        let dir = own_dir().unwrap();
        let data = dir.path().join("data");
        let port = self.port.to_string();
        let out = command(&self.bin.join("pg_basebackup"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-R",
                "-X",
                "stream",
            ])
            .args(["-c", "fast", "-D"])
            .arg(&data)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_basebackup: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let standby = OwnCluster {
            port: free_port(),
            bin: self.bin.clone(),
            data,
            dir,
        };
        standby.start_again();
        standby
    }

    /// Makes this standby the primary, and waits until it takes writes.
    pub fn promote(&self) {
        self.pg_ctl(&["promote", "-w"]);
    }

    /// Runs `sql` here as the superuser; the first column of its first row, as text.
    pub fn query(&self, sql: &str) -> Option<String> {
        let mut client = postgres::Client::connect(&self.url(), postgres::NoTls).unwrap();
        let rows = client.simple_query(sql).unwrap();
        rows.iter().find_map(|message| match message {
            postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
            _ => None,
        })
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let _ = command(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["stop", "-m", "immediate"])
            .output();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

//! The HTTP layer under abuse: stalled bodies, late heads, many connections, and request
//! heads too large or malformed for the framework.
#![allow(clippy::unwrap_used, clippy::panic)] // tests: a failure should stop the test

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::common::TestServer;
use keyhouse::connections::HEAD_DEADLINE;
use reqwest::blocking::Client;
use serde_json::Value;

/// The head of a token request whose 60000-byte body never comes.
const STALLED: &[u8] = b"POST /oauth2/token HTTP/1.1\r\nHost: keyhouse\r\n\
    Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 60000\r\n\r\n";

fn stall(addr: SocketAddr) -> TcpStream {
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.write_all(STALLED).unwrap();
    conn
}

/// A raw answer: status, head (lowercased) and body.
struct Raw {
    status: u16,
    head: String,
    body: String,
}

impl Raw {
    /// Reads until the server closes the connection (at most 20 s).
    fn read(conn: &mut TcpStream) -> Raw {
        conn.set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut bytes = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            match conn.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => bytes.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
                Err(e) => panic!("no answer or no close: {e}; so far {bytes:?}"),
            }
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head.split(' ').nth(1).and_then(|s| s.parse().ok());
        Raw {
            status: status.unwrap_or_else(|| panic!("no status line: {text:?}")),
            head: head.to_lowercase(),
            body: body.to_owned(),
        }
    }

    /// Sends `request` on a new connection and reads the answer.
    fn send(addr: SocketAddr, request: &[u8]) -> Raw {
        let mut conn = TcpStream::connect(addr).unwrap();
        // The server may refuse before reading it all; its answer still comes.
        let _ = conn.write_all(request);
        Raw::read(&mut conn)
    }

    #[track_caller]
    fn assert_contract(&self, status: u16) {
        assert_eq!(self.status, status, "{}\n{}", self.head, self.body);
        let body: Value = serde_json::from_str(&self.body).unwrap();
        assert_eq!(body["error"]["code"], "INVALID_ARGUMENT", "{body}");
        assert!(body["error"]["message"].is_string(), "{body}");
        assert!(self.head.contains("\r\nx-request-id: "), "{}", self.head);
    }
}

#[test]
fn stalled_bodies_neither_starve_clients_nor_stay_open() {
    // All from one address: its share is raised to the whole cap, this test is the body's.
    let s = TestServer::start_with(|c| {
        c.server.body_read_timeout_seconds = 1;
        c.server.max_connections_per_address = Some(c.server.max_connections);
    });
    let mut stalled: Vec<TcpStream> = (0..300).map(|_| stall(s.addr())).collect();
    let client = Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    for _ in 0..3 {
        let started = Instant::now();
        let health = client.get(s.url("/healthz")).send().unwrap();
        let me = client
            .get(s.url("/api/v1/me"))
            .bearer_auth(&s.token)
            .send()
            .unwrap();
        assert_eq!((health.status().as_u16(), me.status().as_u16()), (200, 200));
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "answered in {:?}",
            started.elapsed()
        );
    }
    for conn in &mut stalled {
        let raw = Raw::read(conn);
        raw.assert_contract(408);
        assert!(raw.head.contains("connection: close"), "{}", raw.head);
    }
}

#[test]
fn connections_beyond_the_cap_wait_for_a_free_one() {
    let s = TestServer::start_with(|c| {
        c.server.max_connections = 2;
        c.server.max_connections_per_address = Some(2);
        c.server.body_read_timeout_seconds = 3;
    });
    let _stalled: Vec<TcpStream> = (0..2).map(|_| stall(s.addr())).collect();
    let started = Instant::now();
    let health = Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
        .get(s.url("/healthz"))
        .send()
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "served before a stalled connection was let go: {:?}",
        started.elapsed()
    );
}

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: k\r\n\r\n";

/// Reads one answer of a kept-alive connection (head and `Content-Length` body); its
/// status.
fn answer(conn: &mut TcpStream) -> u16 {
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = conn.read(&mut chunk).unwrap();
        assert!(n > 0, "closed before answering: {bytes:?}");
        bytes.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&bytes).to_lowercase();
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            continue;
        };
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .map_or(0, |n| n.trim().parse().unwrap());
        if body.len() >= length {
            return head.split(' ').nth(1).unwrap().parse().unwrap();
        }
    }
}

/// Asserts that the server closes `conn` without answering anything more, within
/// `within`.
#[track_caller]
fn assert_closed(conn: &mut TcpStream, within: Duration) {
    conn.set_read_timeout(Some(within)).unwrap();
    let mut byte = [0u8; 1];
    match conn.read(&mut byte) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("not closed within {within:?}: {other:?}"),
    }
}

/// A kept-alive connection that had one request answered, then sent half a head.
fn late_second_head(addr: SocketAddr) -> TcpStream {
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.write_all(HEALTHZ).unwrap();
    assert_eq!(answer(&mut conn), 200);
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: k\r\n")
        .unwrap();
    conn
}

// The deadline is the server's constant (HEAD_DEADLINE, 10 s), in real network time:
// this test waits it out once.
#[test]
fn late_second_heads_neither_starve_clients_nor_stay_open() {
    let s = TestServer::start_with(|c| {
        c.server.max_connections = 8;
        c.server.max_connections_per_address = Some(8);
    });
    let started = Instant::now();
    let mut late: Vec<TcpStream> = (0..8).map(|_| late_second_head(s.addr())).collect();
    // They hold every place: a new client waits for the deadline to free one.
    let health = Client::builder()
        .timeout(HEAD_DEADLINE * 3)
        .build()
        .unwrap()
        .get(s.url("/healthz"))
        .send()
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    for conn in &mut late {
        assert_closed(conn, HEAD_DEADLINE);
    }
    let waited = started.elapsed();
    assert!(
        waited >= HEAD_DEADLINE && waited < HEAD_DEADLINE + Duration::from_secs(5),
        "closed after {waited:?}"
    );
}

// A request under way has no head deadline, however long: this one's body takes longer
// than HEAD_DEADLINE (10 s) to arrive, in real time, on a kept-alive connection.
#[test]
fn a_slow_request_on_a_kept_alive_connection_is_not_cut() {
    let s = TestServer::start_with(|c| c.server.body_read_timeout_seconds = 60);
    let mut conn = TcpStream::connect(s.addr()).unwrap();
    conn.write_all(HEALTHZ).unwrap();
    assert_eq!(answer(&mut conn), 200);
    let body = b"grant_type=password";
    let head = format!(
        "POST /oauth2/token HTTP/1.1\r\nHost: k\r\nContent-Type: \
         application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).unwrap();
    let started = Instant::now();
    let pause = (HEAD_DEADLINE + Duration::from_secs(2)) / body.len() as u32;
    for byte in body {
        std::thread::sleep(pause);
        conn.write_all(&[*byte]).unwrap();
    }
    assert!(started.elapsed() > HEAD_DEADLINE);
    assert_eq!(answer(&mut conn), 400, "answered, not cut");
    conn.write_all(HEALTHZ).unwrap();
    assert_eq!(answer(&mut conn), 200, "and kept alive");
}

#[test]
fn one_address_holds_at_most_its_share_of_the_connections() {
    let s = TestServer::start_with(|c| {
        c.server.max_connections = 8;
        c.server.max_connections_per_address = Some(2);
    });
    // Answered, so counted before the next ones connect.
    let mut held: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut conn = TcpStream::connect(s.addr()).unwrap();
            conn.write_all(HEALTHZ).unwrap();
            assert_eq!(answer(&mut conn), 200);
            conn
        })
        .collect();
    let started = Instant::now();
    for _ in 0..20 {
        let mut beyond = TcpStream::connect(s.addr()).unwrap();
        // The server may close it before this is written.
        let _ = beyond.write_all(HEALTHZ);
        assert_closed(&mut beyond, Duration::from_secs(5));
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "closed at once: {:?}",
        started.elapsed()
    );
    let other_address = Client::builder()
        .local_address(IpAddr::from([127, 0, 0, 2]))
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    for _ in 0..3 {
        let health = other_address.get(s.url("/healthz")).send().unwrap();
        assert_eq!(health.status().as_u16(), 200);
    }
    // A place given back is taken again, once the server has seen the close.
    drop(held.pop());
    let freed = Instant::now();
    loop {
        let mut conn = TcpStream::connect(s.addr()).unwrap();
        let _ = conn.write_all(HEALTHZ);
        let mut first = [0u8; 1];
        conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        if conn.read(&mut first).is_ok_and(|n| n == 1) {
            break;
        }
        assert!(
            freed.elapsed() < Duration::from_secs(2),
            "the place stayed taken"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn long_targets_and_headers_get_the_error_body() {
    let s = TestServer::start();
    let long_uri = format!(
        "GET /healthz?pad={} HTTP/1.1\r\nHost: k\r\nConnection: close\r\n\r\n",
        "a".repeat(9 * 1024)
    );
    Raw::send(s.addr(), long_uri.as_bytes()).assert_contract(414);
    let big_header = format!(
        "GET /healthz HTTP/1.1\r\nHost: k\r\nX-Pad: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(20 * 1024)
    );
    Raw::send(s.addr(), big_header.as_bytes()).assert_contract(431);
    let fine = format!(
        "GET /healthz?pad={} HTTP/1.1\r\nHost: k\r\nX-Pad: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(7 * 1024),
        "a".repeat(15 * 1024)
    );
    assert_eq!(Raw::send(s.addr(), fine.as_bytes()).status, 200);
}

/// What actix refuses in its codec, before any of keyhouse runs: still refused, with
/// its bare status (docs/api.md).
#[test]
fn heads_the_codec_refuses_are_refused() {
    let s = TestServer::start();
    let mut huge = b"GET /healthz HTTP/1.1\r\nHost: k\r\nX-Pad: ".to_vec();
    huge.resize(128 * 1024, b'a');
    assert_eq!(Raw::send(s.addr(), &huge).status, 431);
    let huge_uri = format!(
        "GET /healthz?pad={} HTTP/1.1\r\nHost: k\r\n\r\n",
        "a".repeat(70 * 1024)
    );
    assert_eq!(Raw::send(s.addr(), huge_uri.as_bytes()).status, 400);
    let bad_byte = b"GET /healthz HTTP/1.1\r\nHost: k\r\nX-Bad: a\x01b\r\n\r\n";
    assert_eq!(Raw::send(s.addr(), bad_byte).status, 400);
    let no_host = b"GET /healthz HTTP/1.1\r\n\r\n";
    assert_eq!(Raw::send(s.addr(), no_host).status, 400);
}

/// The samples of `keyhouse_http_requests_total` in the server's `/metrics`.
fn request_series(s: &TestServer) -> Vec<String> {
    let text = reqwest::blocking::get(s.url("/metrics"))
        .unwrap()
        .text()
        .unwrap();
    text.lines()
        .filter(|line| line.starts_with("keyhouse_http_requests_total{"))
        .map(str::to_owned)
        .collect()
}

/// Any token is a method to actix, and any path reaches the fallback: neither becomes a
/// label, so `/metrics` keeps a bounded number of series whatever clients send.
#[test]
fn made_up_methods_and_paths_add_no_series() {
    let s = TestServer::start();
    let rounds = 100;
    for i in 0..rounds {
        for target in ["/healthz".to_owned(), format!("/made-up/{i}")] {
            let request =
                format!("FOO{i} {target} HTTP/1.1\r\nHost: k\r\nConnection: close\r\n\r\n");
            let status = Raw::send(s.addr(), request.as_bytes()).status;
            assert!(status == 404 || status == 405, "{status}");
        }
    }
    let series = request_series(&s);
    assert!(series.len() <= 4, "{series:#?}");
    assert!(
        !series
            .iter()
            .any(|line| line.contains("FOO") || line.contains("made-up")),
        "{series:#?}"
    );
    let other: u64 = series
        .iter()
        .filter(|line| line.contains("method=\"other\""))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    assert_eq!(other, 2 * rounds);
}

//! How many connections keyhouse holds open, how many of them one address may hold
//! (`addresses`), and for how long a client may keep one without progress
//! (`head_deadline`), so that idle or stalled clients cannot use up its file descriptors.

mod addresses;
mod head_deadline;

use std::time::Duration;

pub use addresses::{Addresses, Slot};
pub use head_deadline::{Activity, Guarded, Tracked};

/// Time a new connection has to send the head of its first request (actix answers a
/// bare 408 and closes it after).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// How long an idle keep-alive connection stays open between requests.
pub const KEEP_ALIVE: Duration = Duration::from_secs(5);
/// After a response that closes the connection, how long the client has to close it.
pub const DISCONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Time from a connection's accept, or from the end of a response, to the end of the
/// next request head: the keep-alive wait, then the time for a head.
pub const HEAD_DEADLINE: Duration = KEEP_ALIVE.saturating_add(HEADER_TIMEOUT);

/// File descriptors kept for everything but client connections: the listener, the
/// database, backups being written, logs and the runtime's own.
pub const RESERVED_FILES: usize = 64;

/// The most workers actix-server starts (it panics beyond).
const MAX_WORKERS: usize = 512;

/// The workers and the connections each may hold (actix's cap is per worker), and the
/// connections one address may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub workers: usize,
    pub per_worker: usize,
    /// `server.max_connections_per_address` (a quarter of the cap when unset), at most
    /// the cap in force.
    pub per_address: usize,
    /// The cap in force, when the open-file limit lowered `server.max_connections`.
    pub lowered_to: Option<usize>,
}

/// Splits `max_connections` over up to `parallelism` workers, first lowering it to
/// `RESERVED_FILES` below the soft open-file limit, when there is one.
pub fn plan(
    max_connections: usize,
    per_address: Option<usize>,
    open_files: Option<u64>,
    parallelism: usize,
) -> Plan {
    let room = open_files.map(|limit| {
        usize::try_from(limit)
            .unwrap_or(usize::MAX)
            .saturating_sub(RESERVED_FILES)
            .max(1)
    });
    let (total, lowered_to) = match room {
        Some(room) if room < max_connections => (room, Some(room)),
        _ => (max_connections, None),
    };
    let total = total.max(1);
    let workers = parallelism.min(MAX_WORKERS).clamp(1, total);
    Plan {
        workers,
        per_worker: (total / workers).max(1),
        per_address: per_address.unwrap_or(total / 4).clamp(1, total),
        lowered_to,
    }
}

/// The soft `RLIMIT_NOFILE` of this process, from `/proc/self/limits` (Linux); `None`
/// when it is unlimited or cannot be read.
pub fn open_file_limit() -> Option<u64> {
    soft_open_files(&std::fs::read_to_string("/proc/self/limits").ok()?)
}

fn soft_open_files(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: &str = "Limit                     Soft Limit           Hard Limit           Units     \n\
        Max processes             96365                96365                processes \n\
        Max open files            1024                 524288               files     \n\
        Max locked memory         8388608              8388608              bytes     \n";

    #[test]
    fn the_soft_limit_is_read_from_proc() {
        assert_eq!(soft_open_files(LIMITS), Some(1024));
        let unlimited = LIMITS.replace("1024  ", "unlimited");
        assert_eq!(soft_open_files(&unlimited), None);
        assert_eq!(soft_open_files("nothing here"), None);
        if cfg!(target_os = "linux") {
            assert!(open_file_limit().is_some());
        }
    }

    #[test]
    fn the_cap_is_split_over_the_workers() {
        let p = plan(768, None, Some(4096), 4);
        assert_eq!((p.workers, p.per_worker, p.lowered_to), (4, 192, None));
        let p = plan(768, None, None, 3);
        assert_eq!((p.workers, p.per_worker), (3, 256));
        assert!(p.workers * p.per_worker <= 768);
        let p = plan(1, None, None, 8);
        assert_eq!((p.workers, p.per_worker), (1, 1));
        assert_eq!(plan(100_000, None, None, 1000).workers, MAX_WORKERS);
    }

    #[test]
    fn an_address_may_hold_a_quarter_of_the_cap_unless_set() {
        assert_eq!(plan(768, None, None, 2).per_address, 192);
        assert_eq!(plan(768, Some(500), None, 2).per_address, 500);
        assert_eq!(plan(3, None, None, 2).per_address, 1);
        assert_eq!(plan(5000, None, Some(1024), 2).per_address, 240);
        assert_eq!(plan(5000, Some(5000), Some(1024), 2).per_address, 960);
    }

    #[test]
    fn the_cap_stays_below_the_open_file_limit() {
        let p = plan(5000, None, Some(1024), 2);
        assert_eq!(p.lowered_to, Some(1024 - RESERVED_FILES));
        assert_eq!(p.workers * p.per_worker, 1024 - RESERVED_FILES);
        let p = plan(5000, None, Some(10), 2);
        assert_eq!((p.workers, p.per_worker, p.lowered_to), (1, 1, Some(1)));
        assert_eq!(plan(768, None, Some(832), 2).lowered_to, None);
    }
}

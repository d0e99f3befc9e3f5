//! glibc's malloc gives each thread that allocates an arena of its own, up to eight per
//! core, and keeps what is freed in them resident: after a load of concurrent requests
//! keyhouse held 42 to 48 MiB at rest at 20,000 accounts, against 28 to 30 MiB with two arenas,
//! at the same throughput (`scripts/bench`; one arena cost half the token paths' rate).
//! glibc reads the limit, `MALLOC_ARENA_MAX`, only as the process starts, and setting it
//! in-process would need `unsafe` (`mallopt`), so `serve` starts itself again once with
//! it set. An operator's own `MALLOC_ARENA_MAX` is kept; other C libraries ignore it.

use std::os::unix::process::CommandExt;

/// The arenas `serve` runs with unless `MALLOC_ARENA_MAX` is set.
const ARENAS: &str = "2";

/// Replaces this process with itself, same arguments and `MALLOC_ARENA_MAX` set, unless
/// the variable is already set. Returns only when that cannot be done (then the process
/// goes on as it is, with a warning).
pub fn limit() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(err) => return log::warn!("cannot limit malloc's arenas: {err}"),
    };
    let err = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env("MALLOC_ARENA_MAX", ARENAS)
        .exec();
    log::warn!("cannot limit malloc's arenas: {err}");
}

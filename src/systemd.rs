//! systemd's notification protocol (sd_notify(3)), written here rather than taken from a
//! crate: a datagram of `KEY=value` lines to the Unix socket `$NOTIFY_SOCKET` names.
//! Without that variable (not started by systemd with `Type=notify`), nothing is sent.

use std::io;
use std::os::unix::net::UnixDatagram;
use std::time::Duration;

/// Sends `state` (such as `READY=1`) to systemd; `Ok(false)` when no socket is set.
pub fn notify(state: &str) -> io::Result<bool> {
    let Some(socket) = std::env::var_os("NOTIFY_SOCKET") else {
        return Ok(false);
    };
    let sender = UnixDatagram::unbound()?;
    let bytes = socket.as_encoded_bytes();
    if let Some(name) = bytes.strip_prefix(b"@") {
        send_abstract(&sender, name, state)?;
    } else {
        sender.send_to(state.as_bytes(), &socket)?;
    }
    Ok(true)
}

/// A socket of Linux's abstract namespace, which `@` starts in `$NOTIFY_SOCKET`.
#[cfg(target_os = "linux")]
fn send_abstract(sender: &UnixDatagram, name: &[u8], state: &str) -> io::Result<()> {
    use std::os::linux::net::SocketAddrExt;
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
    sender.send_to_addr(state.as_bytes(), &addr).map(drop)
}

#[cfg(not(target_os = "linux"))]
fn send_abstract(_sender: &UnixDatagram, _name: &[u8], _state: &str) -> io::Result<()> {
    Err(io::Error::other("abstract sockets exist only on Linux"))
}

/// How often to send `WATCHDOG=1`: half the `WATCHDOG_USEC` systemd set for this
/// process (`WATCHDOG_PID` unset or this process's id), as sd_watchdog_enabled(3)
/// advises.
pub fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.trim().parse().ok()?;
    if let Ok(pid) = std::env::var("WATCHDOG_PID")
        && pid.trim() != std::process::id().to_string()
    {
        return None;
    }
    (usec > 0).then(|| Duration::from_micros(usec / 2))
}

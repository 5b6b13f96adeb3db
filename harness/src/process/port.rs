//! TCP ports on 127.0.0.1: a free one to hand out, and whether (and by whom) one is held.
//!
//! The OS picks an unused port for a listener bound to port 0; the listener is closed before the
//! server binds it, so another process could grab it in between. Callers that can tell a bind
//! failure from other failures retry with a fresh port.

use std::{
    net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream},
    time::Duration,
};

/// Ports handed out lately, which may not be bound yet: never handed out twice in that time.
static RECENT: std::sync::Mutex<std::collections::VecDeque<u16>> =
    std::sync::Mutex::new(std::collections::VecDeque::new());
/// Enough for every server of the stacks a `--jobs` run boots at once.
const RECENT_KEPT: usize = 256;

/// A port that was free a moment ago, and not handed out lately by this process: a stack picks
/// several before binding any (the data API's port and its admin port), and stacks boot side by
/// side, so the OS alone could give the same free port twice.
pub(crate) fn free_port() -> std::io::Result<u16> {
    let mut recent = RECENT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for _ in 0..64 {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
            .local_addr()?
            .port();
        if !recent.contains(&port) {
            if recent.len() == RECENT_KEPT {
                recent.pop_front();
            }
            recent.push_back(port);
            return Ok(port);
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AddrInUse,
        "the OS kept offering ports this process handed out a moment ago",
    ))
}

/// Whether something accepts connections on 127.0.0.1:`port`.
pub(crate) fn is_listening(port: u16) -> bool {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok()
}

/// The processes holding a listening TCP socket on `port` (any address), from `/proc/net/tcp*`
/// and each process's open descriptors. Empty when none can be seen (another user's processes
/// are hidden from a non-root harness).
pub(crate) fn listeners(port: u16) -> Vec<libc::pid_t> {
    let inodes = listening_inodes(port);
    if inodes.is_empty() {
        return Vec::new();
    }
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        let holds = fds.flatten().any(|fd| {
            std::fs::read_link(fd.path()).is_ok_and(|target| {
                let target = target.to_string_lossy();
                inodes
                    .iter()
                    .any(|inode| *target == format!("socket:[{inode}]"))
            })
        });
        if holds {
            pids.push(pid);
        }
    }
    pids
}

/// Socket inodes in state LISTEN (0A) on `port`.
fn listening_inodes(port: u16) -> Vec<String> {
    let wanted = format!("{port:04X}");
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .flat_map(|text| {
            text.lines()
                .skip(1)
                .filter_map(|line| {
                    let fields: Vec<&str> = line.split_whitespace().collect();
                    let local_port = fields.get(1)?.rsplit(':').next()?;
                    (local_port == wanted && *fields.get(3)? == "0A")
                        .then(|| fields.get(9).map(|inode| (*inode).to_owned()))
                        .flatten()
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_not_handed_out_twice_in_a_row() {
        let ports: Vec<u16> = (0..100).map(|_| free_port().unwrap()).collect();
        let mut distinct = ports.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), ports.len(), "{ports:?}");
    }

    #[test]
    fn our_own_listener_is_seen_and_a_closed_port_is_free() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(is_listening(port));
        assert_eq!(listeners(port), vec![std::process::id() as libc::pid_t]);
        drop(listener);
        assert!(!is_listening(port));
        assert!(listeners(port).is_empty());
    }
}

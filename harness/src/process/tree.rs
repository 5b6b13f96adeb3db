//! A child's family, read from `/proc`: its descendants, and the members of a process group.
//!
//! Signalling only the direct child is the bug every service runner ships first (`sh` → `npm` →
//! `node` keeps the port). Descendants catch children that left the group (PostgreSQL's backends
//! call setsid); group members catch grandchildren whose parent already exited (reparented to
//! init, they are no one's descendants any more, but keep the group).

/// One process as `/proc/<pid>/stat` describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Proc {
    pub pid: libc::pid_t,
    pub parent: libc::pid_t,
    pub group: libc::pid_t,
    /// `Z` for a zombie: exited, holding nothing but its table entry.
    pub state: char,
}

/// Every process on the machine, as far as `/proc` lets us read it.
fn all() -> Vec<Proc> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| {
            let pid: libc::pid_t = entry.ok()?.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // The command name (field 2) may hold spaces; the fields after its `)` do not.
            let mut fields = stat[stat.rfind(')')? + 2..].split(' ');
            let state = fields.next()?.chars().next()?;
            let parent = fields.next()?.parse().ok()?;
            let group = fields.next()?.parse().ok()?;
            Some(Proc {
                pid,
                parent,
                group,
                state,
            })
        })
        .collect()
}

/// Every process below `root`.
pub(crate) fn descendants(root: libc::pid_t) -> Vec<libc::pid_t> {
    let procs = all();
    let mut found = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for proc in procs.iter().filter(|p| p.parent == parent) {
            found.push(proc.pid);
            frontier.push(proc.pid);
        }
    }
    found
}

/// The processes of group `group` that have not exited (zombies left out: an init that does
/// not reap would otherwise keep a stopped group "alive" forever).
pub(crate) fn live_members(group: libc::pid_t) -> Vec<libc::pid_t> {
    all()
        .into_iter()
        .filter(|p| p.group == group && p.state != 'Z')
        .map(|p| p.pid)
        .collect()
}

/// Whether `pid` exists and has not exited.
pub(crate) fn is_alive(pid: libc::pid_t) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rfind(')')
            .and_then(|end| stat[end + 2..].chars().next())
            .is_some_and(|state| state != 'Z')
    })
}

/// `pid`'s command line with spaces between arguments, for messages; empty if it is gone.
pub(crate) fn command_line(pid: libc::pid_t) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|raw| {
            String::from_utf8_lossy(&raw)
                .split('\0')
                .filter(|arg| !arg.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;

    #[test]
    fn a_grandchild_is_a_descendant_and_a_group_member() {
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 30 & wait"])
            .process_group(0)
            .spawn()
            .unwrap();
        let root = child.id() as libc::pid_t;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        // Between fork and exec the grandchild still reads as `sh`: wait for the exec too.
        let below = loop {
            let below = descendants(root);
            let exec_done = below
                .first()
                .is_some_and(|pid| command_line(*pid).starts_with("sleep"));
            if exec_done || std::time::Instant::now() > deadline {
                break below;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        };
        assert_eq!(below.len(), 1, "{below:?}");
        assert!(command_line(below[0]).starts_with("sleep 30"));
        let mut members = live_members(root);
        members.sort();
        let mut expected = vec![root, below[0]];
        expected.sort();
        assert_eq!(members, expected);
        // SAFETY: signalling the group this test created.
        unsafe { libc::kill(-root, libc::SIGKILL) };
        child.wait().unwrap();
    }
}

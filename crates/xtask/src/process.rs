//! Background processes: pid files, liveness checks and signals, using only std and `kill(1)`.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::Error;

/// Reads a pid file; `None` if it is missing or unreadable as a number.
pub(crate) fn read_pid(pid_file: &Path) -> Option<u32> {
    fs::read_to_string(pid_file).ok()?.trim().parse().ok()
}

/// True if `pid` is a live (not zombie) process whose command line contains `marker`.
///
/// The marker (the server's own directory) keeps us from signalling an unrelated process that got a
/// recycled pid after ours died.
pub(crate) fn is_ours(pid: u32, marker: &str) -> bool {
    let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let cmdline = String::from_utf8_lossy(&cmdline);
    cmdline.contains(marker) && !is_zombie(pid)
}

fn is_zombie(pid: u32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return true;
    };
    // Format: "pid (comm) S ..."; comm may contain spaces, so look after the last ')'.
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .is_none_or(|state| state == "Z" || state == "X")
}

/// Resident memory of `pid` in KiB (VmRSS), if the process exists.
pub(crate) fn rss_kib(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Sends `signal` (e.g. "TERM") to `pid` with kill(1).
pub(crate) fn signal(pid: u32, signal: &str) -> Result<(), Error> {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status()
        .map_err(Error::io("running kill(1)"))?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::Failed(format!("kill -{signal} {pid} failed")))
    }
}

/// Ends `pid` (SIGTERM, then SIGKILL after `grace`); returns true if it had to be killed.
pub(crate) fn terminate(pid: u32, marker: &str, grace: Duration) -> Result<bool, Error> {
    if !is_ours(pid, marker) {
        return Ok(false);
    }
    signal(pid, "TERM")?;
    if wait_gone(pid, marker, grace) {
        return Ok(false);
    }
    signal(pid, "KILL")?;
    if wait_gone(pid, marker, Duration::from_secs(10)) {
        Ok(true)
    } else {
        Err(Error::Failed(format!("process {pid} survived SIGKILL")))
    }
}

/// Kills `pid` at once (SIGKILL: a crash, nothing is flushed or closed) and waits until it is gone.
pub(crate) fn kill(pid: u32, marker: &str) -> Result<(), Error> {
    if !is_ours(pid, marker) {
        return Ok(());
    }
    signal(pid, "KILL")?;
    if wait_gone(pid, marker, Duration::from_secs(10)) {
        Ok(())
    } else {
        Err(Error::Failed(format!("process {pid} survived SIGKILL")))
    }
}

fn wait_gone(pid: u32, marker: &str, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if !is_ours(pid, marker) {
            return true;
        }
        thread::sleep(Duration::from_millis(100));
    }
    !is_ours(pid, marker)
}

/// The last `lines` lines of a log file (for error messages).
pub(crate) fn tail(path: &Path, lines: usize) -> String {
    let Ok(bytes) = fs::read(path) else {
        return format!("(no log at {})", path.display());
    };
    let text = String::from_utf8_lossy(&bytes);
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    all.get(start..).unwrap_or_default().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_process_is_alive_and_matched_by_its_command_line() {
        let pid = std::process::id();
        let exe = std::env::current_exe().expect("test binary path");
        let name = exe
            .file_name()
            .expect("file name")
            .to_string_lossy()
            .into_owned();
        assert!(is_ours(pid, &name));
        assert!(!is_ours(pid, "a marker no command line contains 7c1f0e"));
        assert!(rss_kib(pid).is_some_and(|kib| kib > 0));
    }

    #[test]
    fn terminate_ends_a_child_and_ignores_strangers() {
        let marker = "quiver-xtask-terminate-test";
        let mut child = Command::new("sh")
            // `; :` keeps sh from exec'ing sleep, so the marker ($0) stays on its command line.
            .args(["-c", "sleep 30; :", marker])
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn sh");
        let pid = child.id();
        // Until exec, the forked child still shows the test binary's command line.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !is_ours(pid, marker) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        assert!(is_ours(pid, marker));
        // A pid whose command line lacks the marker is left alone.
        assert!(!terminate(pid, "some other server", Duration::from_secs(1)).expect("no-op"));
        assert!(is_ours(pid, marker));
        let killed = terminate(pid, marker, Duration::from_secs(10)).expect("terminate");
        assert!(!killed, "sh ends on SIGTERM");
        assert!(!child.wait().expect("reap").success());
        assert!(!is_ours(pid, marker));
    }

    #[test]
    fn pid_files_and_log_tails() {
        let dir = std::env::temp_dir().join(format!("xtask-process-test-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("temp dir");
        let pid_file = dir.join("server.pid");
        assert_eq!(read_pid(&pid_file), None);
        fs::write(&pid_file, "1234\n").expect("write");
        assert_eq!(read_pid(&pid_file), Some(1234));
        fs::write(&pid_file, "not a pid").expect("write");
        assert_eq!(read_pid(&pid_file), None);

        let log = dir.join("server.log");
        fs::write(&log, "one\ntwo\nthree\n").expect("write");
        assert_eq!(tail(&log, 2), "two\nthree");
        assert_eq!(tail(&log, 10), "one\ntwo\nthree");
        assert!(tail(&dir.join("missing.log"), 3).contains("no log"));
        fs::remove_dir_all(&dir).expect("cleanup");
    }
}

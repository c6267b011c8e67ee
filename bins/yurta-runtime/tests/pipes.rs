//! A closed or full stdout: the reporting commands end as a filter does
//! (SIGPIPE, nothing on stderr, never a panic); a full one is one line.

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

fn runtime(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_yurta-runtime"));
    let root = std::env::temp_dir().join(format!("yurta-runtime-pipes-{}", std::process::id()));
    c.arg("--root").arg(root).args(args).stdin(Stdio::null());
    c
}

#[test]
fn reporting_commands_end_quietly_on_a_closed_pipe_and_say_so_on_a_full_disk() {
    for args in [&["features"][..], &["list", "--format", "json"][..]] {
        let (read, write) = nix::unistd::pipe().unwrap();
        drop(read);
        let out = runtime(args).stdout(Stdio::from(write)).output().unwrap();
        assert_eq!(
            out.status.signal(),
            Some(libc::SIGPIPE),
            "{args:?}: {out:?}"
        );
        assert!(out.stderr.is_empty(), "{args:?}: {out:?}");
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = runtime(args).stdout(Stdio::from(full)).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("No space left on device"), "{err}");
    }
}

//! Filters loaded into the real kernel, in a forked child (no root needed:
//! the child sets no_new_privs first).

use super::*;
use crate::install;

/// Run `body` in a forked child after installing `prog`; return its exit code.
/// The child only makes syscalls (no allocation), which is safe after fork.
fn in_child(prog: &Program, body: fn() -> i32) -> i32 {
    // SAFETY: fork in a test; the child calls only async-signal-safe functions and _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // SAFETY: prctl with integer arguments.
        if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
            // SAFETY: _exit never returns and is async-signal-safe.
            unsafe { libc::_exit(90) }
        }
        let code = match install(prog) {
            Ok(_) => body(),
            Err(_) => 91,
        };
        // SAFETY: as above.
        unsafe { libc::_exit(code) }
    }
    let mut status = 0;
    // SAFETY: waiting for our own child with a valid status pointer.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status), "child died: status {status:#x}");
    libc::WEXITSTATUS(status)
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn native_program(json: &str) -> Option<Program> {
    let native = crate::native_abi().ok()?;
    let prog = compile_for(&profile(json), native).unwrap();
    check(prog.instructions());
    Some(prog)
}

#[test]
fn kernel_returns_our_errno_and_allows_the_rest() {
    let Some(prog) = native_program(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["getcwd"],"action":"SCMP_ACT_ERRNO","errnoRet":123}]}"#,
    ) else {
        return;
    };
    let code = in_child(&prog, || {
        let mut buf = [0 as libc::c_char; 256];
        // SAFETY: buf is writable for its full length.
        if !unsafe { libc::getcwd(buf.as_mut_ptr(), buf.len()) }.is_null() {
            return 1; // the filter did not apply
        }
        if errno() != 123 {
            return 2;
        }
        // SAFETY: plain syscalls with valid pointers.
        let mut uts = unsafe { std::mem::zeroed::<libc::utsname>() };
        // SAFETY: uts is a valid utsname.
        if unsafe { libc::getpid() } <= 0 || unsafe { libc::uname(&mut uts) } != 0 {
            return 3;
        }
        0
    });
    assert_eq!(
        code, 0,
        "child exit code (1: getcwd allowed, 2: wrong errno, 3: other syscalls broken)"
    );
}

#[test]
fn kernel_accepts_the_default_profile() {
    let Ok(native) = crate::native_abi() else {
        return;
    };
    let prog = compile_for(&crate::default_profile_for(&[], native), native).unwrap();
    let code = in_child(&prog, || {
        // SAFETY: raw syscalls with integer arguments or null pointers.
        unsafe {
            if libc::unshare(libc::CLONE_NEWUSER) == 0 || errno() != libc::EPERM {
                return 1;
            }
            if libc::socket(libc::AF_VSOCK, libc::SOCK_STREAM, 0) >= 0 || errno() != libc::EPERM {
                return 2;
            }
            if libc::syscall(libc::SYS_clone3, std::ptr::null::<u8>(), 0usize) != -1
                || errno() != libc::ENOSYS
            {
                return 3;
            }
            if libc::getppid() <= 0 {
                return 4;
            }
        }
        0
    });
    assert_eq!(
        code, 0,
        "child exit code (1: unshare, 2: vsock, 3: clone3, 4: getppid)"
    );
}

#[test]
fn listener_fd_for_notify_rules() {
    let Some(prog) = native_program(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mknodat"],"action":"SCMP_ACT_NOTIFY"}]}"#,
    ) else {
        return;
    };
    assert!(prog.wants_listener());
    let code = in_child(&prog, || 0);
    // The kernel may predate user notification (5.0): then install fails with 91.
    assert!(code == 0 || code == 91, "child exit code {code}");
}

#[test]
fn supported_flags_are_a_subset_and_install_nothing() {
    let filters = || {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let seccomp = |l: &&str| l.starts_with("Seccomp");
        status
            .lines()
            .filter(seccomp)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let before = filters();
    let flags = crate::supported_flags();
    assert!(flags.iter().all(|f| crate::known_flags().contains(f)));
    // The probe must not have loaded a filter into this process.
    assert_eq!(filters(), before);
    // Every kernel since 4.14 takes these.
    for f in ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG"] {
        assert!(flags.contains(&f), "{flags:?}");
    }
}

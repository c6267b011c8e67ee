//! The default profile: in effect Docker's (moby profiles/seccomp/default.json),
//! written here as data — one allow list, capability groups, per-arch extras —
//! plus the e2k syscalls its libc needs.
//!
//! Owns only the profile's content; compiling it is [`crate::compile`]'s job.

use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction as Action, LinuxSeccompArg, LinuxSeccompArgBuilder,
    LinuxSeccompOperator as Op, LinuxSyscall,
};

use crate::arch::Abi;

/// Allowed for every container.
const ALLOWED: &[&str] = &[
    "accept",
    "accept4",
    "access",
    "adjtimex",
    "alarm",
    "bind",
    "brk",
    "capget",
    "capset",
    "chdir",
    "chmod",
    "chown",
    "chown32",
    "clock_adjtime",
    "clock_adjtime64",
    "clock_getres",
    "clock_getres_time64",
    "clock_gettime",
    "clock_gettime64",
    "clock_nanosleep",
    "clock_nanosleep_time64",
    "close",
    "close_range",
    "connect",
    "copy_file_range",
    "creat",
    "dup",
    "dup2",
    "dup3",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_ctl_old",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_wait",
    "epoll_wait_old",
    "eventfd",
    "eventfd2",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "faccessat",
    "faccessat2",
    "fadvise64",
    "fadvise64_64",
    "fallocate",
    "fanotify_mark",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchown",
    "fchown32",
    "fchownat",
    "fcntl",
    "fcntl64",
    "fdatasync",
    "fgetxattr",
    "flistxattr",
    "flock",
    "fork",
    "fremovexattr",
    "fsetxattr",
    "fstat",
    "fstat64",
    "fstatat64",
    "fstatfs",
    "fstatfs64",
    "fsync",
    "ftruncate",
    "ftruncate64",
    "futex",
    "futex_time64",
    "futex_waitv",
    "futimesat",
    "getcpu",
    "getcwd",
    "getdents",
    "getdents64",
    "getegid",
    "getegid32",
    "geteuid",
    "geteuid32",
    "getgid",
    "getgid32",
    "getgroups",
    "getgroups32",
    "getitimer",
    "getpeername",
    "getpgid",
    "getpgrp",
    "getpid",
    "getppid",
    "getpriority",
    "getrandom",
    "getresgid",
    "getresgid32",
    "getresuid",
    "getresuid32",
    "getrlimit",
    "get_robust_list",
    "getrusage",
    "getsid",
    "getsockname",
    "getsockopt",
    "get_thread_area",
    "gettid",
    "gettimeofday",
    "getuid",
    "getuid32",
    "getxattr",
    "inotify_add_watch",
    "inotify_init",
    "inotify_init1",
    "inotify_rm_watch",
    "io_cancel",
    "ioctl",
    "io_destroy",
    "io_getevents",
    "io_pgetevents",
    "io_pgetevents_time64",
    "ioprio_get",
    "ioprio_set",
    "io_setup",
    "io_submit",
    "io_uring_enter",
    "io_uring_register",
    "io_uring_setup",
    "ipc",
    "kill",
    "landlock_add_rule",
    "landlock_create_ruleset",
    "landlock_restrict_self",
    "lchown",
    "lchown32",
    "lgetxattr",
    "link",
    "linkat",
    "listen",
    "listxattr",
    "llistxattr",
    "_llseek",
    "lremovexattr",
    "lseek",
    "lsetxattr",
    "lstat",
    "lstat64",
    "madvise",
    "membarrier",
    "memfd_create",
    "memfd_secret",
    "mincore",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "mlock",
    "mlock2",
    "mlockall",
    "mmap",
    "mmap2",
    "mprotect",
    "mq_getsetattr",
    "mq_notify",
    "mq_open",
    "mq_timedreceive",
    "mq_timedreceive_time64",
    "mq_timedsend",
    "mq_timedsend_time64",
    "mq_unlink",
    "mremap",
    "msgctl",
    "msgget",
    "msgrcv",
    "msgsnd",
    "msync",
    "munlock",
    "munlockall",
    "munmap",
    "name_to_handle_at",
    "nanosleep",
    "newfstatat",
    "_newselect",
    "open",
    "openat",
    "openat2",
    "pause",
    "pidfd_open",
    "pidfd_send_signal",
    "pipe",
    "pipe2",
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "poll",
    "ppoll",
    "ppoll_time64",
    "prctl",
    "pread64",
    "preadv",
    "preadv2",
    "prlimit64",
    "process_mrelease",
    "pselect6",
    "pselect6_time64",
    "pwrite64",
    "pwritev",
    "pwritev2",
    "read",
    "readahead",
    "readlink",
    "readlinkat",
    "readv",
    "recv",
    "recvfrom",
    "recvmmsg",
    "recvmmsg_time64",
    "recvmsg",
    "remap_file_pages",
    "removexattr",
    "rename",
    "renameat",
    "renameat2",
    "restart_syscall",
    "rmdir",
    "rseq",
    "rt_sigaction",
    "rt_sigpending",
    "rt_sigprocmask",
    "rt_sigqueueinfo",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "rt_sigtimedwait_time64",
    "rt_tgsigqueueinfo",
    "sched_getaffinity",
    "sched_getattr",
    "sched_getparam",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_getscheduler",
    "sched_rr_get_interval",
    "sched_rr_get_interval_time64",
    "sched_setaffinity",
    "sched_setattr",
    "sched_setparam",
    "sched_setscheduler",
    "sched_yield",
    "seccomp",
    "select",
    "semctl",
    "semget",
    "semop",
    "semtimedop",
    "semtimedop_time64",
    "send",
    "sendfile",
    "sendfile64",
    "sendmmsg",
    "sendmsg",
    "sendto",
    "setfsgid",
    "setfsgid32",
    "setfsuid",
    "setfsuid32",
    "setgid",
    "setgid32",
    "setgroups",
    "setgroups32",
    "setitimer",
    "setpgid",
    "setpriority",
    "setregid",
    "setregid32",
    "setresgid",
    "setresgid32",
    "setresuid",
    "setresuid32",
    "setreuid",
    "setreuid32",
    "setrlimit",
    "set_robust_list",
    "setsid",
    "setsockopt",
    "set_thread_area",
    "set_tid_address",
    "setuid",
    "setuid32",
    "setxattr",
    "shmat",
    "shmctl",
    "shmdt",
    "shmget",
    "shutdown",
    "sigaltstack",
    "signalfd",
    "signalfd4",
    "sigprocmask",
    "sigreturn",
    "socketcall",
    "socketpair",
    "splice",
    "stat",
    "stat64",
    "statfs",
    "statfs64",
    "statx",
    "symlink",
    "symlinkat",
    "sync",
    "sync_file_range",
    "syncfs",
    "sysinfo",
    "tee",
    "tgkill",
    "time",
    "timer_create",
    "timer_delete",
    "timer_getoverrun",
    "timer_gettime",
    "timer_gettime64",
    "timer_settime",
    "timer_settime64",
    "timerfd_create",
    "timerfd_gettime",
    "timerfd_gettime64",
    "timerfd_settime",
    "timerfd_settime64",
    "times",
    "tkill",
    "truncate",
    "truncate64",
    "ugetrlimit",
    "umask",
    "uname",
    "unlink",
    "unlinkat",
    "utime",
    "utimensat",
    "utimensat_time64",
    "utimes",
    "vfork",
    "vmsplice",
    "wait4",
    "waitid",
    "waitpid",
    "write",
    "writev",
    // Docker gates these on kernel >= 4.8 (ptrace could bypass seccomp before); yurta needs newer anyway.
    "process_vm_readv",
    "process_vm_writev",
    "ptrace",
];

/// Allowed when the container has the capability.
const CAP_GROUPS: &[(&str, &[&str])] = &[
    ("CAP_DAC_READ_SEARCH", &["open_by_handle_at"]),
    (
        "CAP_SYS_ADMIN",
        &[
            "bpf",
            "clone",
            "clone3",
            "fanotify_init",
            "fsconfig",
            "fsmount",
            "fsopen",
            "fspick",
            "lookup_dcookie",
            "mount",
            "mount_setattr",
            "move_mount",
            "open_tree",
            "perf_event_open",
            "quotactl",
            "quotactl_fd",
            "setdomainname",
            "sethostname",
            "setns",
            "syslog",
            "umount",
            "umount2",
            "unshare",
            // e2k's thread-creating clone variant (same flags argument as clone).
            "clone_thread",
        ],
    ),
    ("CAP_SYS_BOOT", &["reboot"]),
    ("CAP_SYS_CHROOT", &["chroot"]),
    (
        "CAP_SYS_MODULE",
        &["delete_module", "init_module", "finit_module"],
    ),
    ("CAP_SYS_PACCT", &["acct"]),
    (
        "CAP_SYS_PTRACE",
        &[
            "kcmp",
            "pidfd_getfd",
            "process_madvise",
            "process_vm_readv",
            "process_vm_writev",
            "ptrace",
        ],
    ),
    ("CAP_SYS_RAWIO", &["iopl", "ioperm"]),
    (
        "CAP_SYS_TIME",
        &["settimeofday", "stime", "clock_settime", "clock_settime64"],
    ),
    ("CAP_SYS_TTY_CONFIG", &["vhangup"]),
    (
        "CAP_SYS_NICE",
        &[
            "get_mempolicy",
            "mbind",
            "set_mempolicy",
            "set_mempolicy_home_node",
        ],
    ),
    ("CAP_SYSLOG", &["syslog"]),
    ("CAP_BPF", &["bpf"]),
    ("CAP_PERFMON", &["perf_event_open"]),
];

/// Allowed on hosts of one architecture family (keyed by the native ABI).
fn arch_allowed(native: Abi) -> &'static [&'static str] {
    match native {
        Abi::X86_64 | Abi::X32 => &["arch_prctl", "modify_ldt"],
        Abi::X86 => &["modify_ldt"],
        Abi::Aarch64 | Abi::Arm => &[
            "arm_fadvise64_64",
            "arm_sync_file_range",
            "sync_file_range2",
            "breakpoint",
            "cacheflush",
            "set_tls",
        ],
        Abi::Ppc64le => &["sync_file_range2", "swapcontext"],
        Abi::S390x => &[
            "s390_pci_mmio_read",
            "s390_pci_mmio_write",
            "s390_runtime_instr",
        ],
        Abi::Riscv64 => &["riscv_flush_icache"],
        // e2k's libc does longjmp, ucontext and backtrace() through the kernel
        // (hardware stacks); none of these reaches beyond the calling process.
        Abi::E2k => &[
            "e2k_longjmp2",
            "setcontext",
            "makecontext",
            "swapcontext",
            "freecontext",
            "get_backtrace",
            "set_backtrace",
            "access_hw_stacks",
        ],
    }
}

/// personality(2) values Docker allows: PER_LINUX, PER_LINUX32, UNAME26,
/// UNAME26|PER_LINUX32, and 0xffffffff (query).
const PERSONALITIES: &[u64] = &[0x0, 0x8, 0x20000, 0x20008, 0xffff_ffff];

/// Namespace flags of clone(2): CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET.
const CLONE_NAMESPACE_FLAGS: u64 = 0x7E02_0000;

const AF_VSOCK: u64 = 40;

/// The default profile for this host, given the container's capabilities
/// (e.g. `"CAP_SYS_ADMIN"`; the `CAP_` prefix and case are optional). On a
/// host without a syscall table the profile has no architectures and
/// [`crate::compile`] reports the unsupported arch.
pub fn default_profile(capabilities: &[String]) -> LinuxSeccomp {
    match crate::native::native_abi() {
        Ok(native) => default_profile_for(capabilities, native),
        Err(_) => {
            let mut profile = default_profile_for(capabilities, Abi::X86_64);
            profile.set_architectures(Some(Vec::new()));
            profile
        }
    }
}

/// The default profile as it would be on a host whose native ABI is `native`.
pub fn default_profile_for(capabilities: &[String], native: Abi) -> LinuxSeccomp {
    let has = |cap: &str| {
        capabilities.iter().any(|c| {
            let c = c.to_ascii_uppercase();
            c == cap || format!("CAP_{c}") == cap
        })
    };
    let mut allowed: Vec<String> = ALLOWED
        .iter()
        .chain(arch_allowed(native))
        .map(|s| s.to_string())
        .collect();
    for (cap, names) in CAP_GROUPS {
        if has(cap) {
            allowed.extend(names.iter().map(|s| s.to_string()));
        }
    }
    let mut syscalls = vec![syscall(allowed, Action::ScmpActAllow, None, vec![])];
    syscalls.push(syscall(
        vec!["socket".into()],
        Action::ScmpActAllow,
        None,
        vec![arg(0, Op::ScmpCmpNe, AF_VSOCK, 0)],
    ));
    for &p in PERSONALITIES {
        syscalls.push(syscall(
            vec!["personality".into()],
            Action::ScmpActAllow,
            None,
            vec![arg(0, Op::ScmpCmpEq, p, 0)],
        ));
    }
    if !has("CAP_SYS_ADMIN") {
        // clone without namespace flags; s390 passes flags second.
        let flags_arg = if native == Abi::S390x { 1 } else { 0 };
        let no_ns = arg(flags_arg, Op::ScmpCmpMaskedEq, CLONE_NAMESPACE_FLAGS, 0);
        let clones = vec!["clone".to_string(), "clone_thread".to_string()];
        syscalls.push(syscall(clones, Action::ScmpActAllow, None, vec![no_ns]));
        // clone3's flags sit behind a pointer seccomp cannot read: make libc fall back to clone.
        syscalls.push(syscall(
            vec!["clone3".into()],
            Action::ScmpActErrno,
            Some(libc::ENOSYS as u32),
            vec![],
        ));
    }
    let mut profile = LinuxSeccomp::default();
    profile.set_default_action(Action::ScmpActErrno);
    profile.set_default_errno_ret(Some(libc::EPERM as u32));
    profile.set_architectures(Some(
        native
            .kernel_family()
            .iter()
            .map(|&a| oci_arch(a))
            .collect(),
    ));
    profile.set_syscalls(Some(syscalls));
    profile
}

/// The oci-spec name for an ABI; e2k has none there yet, so it is "native".
fn oci_arch(abi: Abi) -> Arch {
    match abi {
        Abi::X86_64 => Arch::ScmpArchX86_64,
        Abi::X86 => Arch::ScmpArchX86,
        Abi::X32 => Arch::ScmpArchX32,
        Abi::Aarch64 => Arch::ScmpArchAarch64,
        Abi::Arm => Arch::ScmpArchArm,
        Abi::Riscv64 => Arch::ScmpArchRiscv64,
        Abi::Ppc64le => Arch::ScmpArchPpc64le,
        Abi::S390x => Arch::ScmpArchS390x,
        Abi::E2k => Arch::ScmpArchNative,
    }
}

fn syscall(
    names: Vec<String>,
    action: Action,
    errno: Option<u32>,
    args: Vec<LinuxSeccompArg>,
) -> LinuxSyscall {
    let mut s = LinuxSyscall::default();
    s.set_names(names);
    s.set_action(action);
    s.set_errno_ret(errno);
    s.set_args((!args.is_empty()).then_some(args));
    s
}

fn arg(index: usize, op: Op, value: u64, value_two: u64) -> LinuxSeccompArg {
    let builder = LinuxSeccompArgBuilder::default()
        .index(index)
        .op(op)
        .value(value);
    let builder = if value_two != 0 {
        builder.value_two(value_two)
    } else {
        builder
    };
    // Every field has a default, so building cannot fail.
    builder
        .build()
        .expect("LinuxSeccompArg builder has defaults")
}

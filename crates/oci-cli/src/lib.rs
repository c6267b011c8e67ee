//! The runc-compatible command line of `yurta-runtime`, as plain data.
//!
//! This crate owns argument parsing only: flag names, defaults and help text
//! follow runc's so that podman, conmon, containerd and yurta's own engine can
//! drive `yurta-runtime` unchanged. It does nothing with the parsed values.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Command-line of `yurta-runtime`.
#[derive(Debug, Parser)]
#[command(
    name = "yurta-runtime",
    version,
    about = "yurta's OCI runtime: creates and runs containers from OCI bundles (runc-compatible)",
    long_about = "yurta-runtime implements the OCI runtime specification behind runc's command-line \
                  contract. A container is made from a bundle: a directory holding config.json and \
                  the root filesystem it names. Typical use:\n  \
                  yurta-runtime spec && yurta-runtime run mycontainer"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,
    #[command(subcommand)]
    pub command: Command,
}

/// Options that apply to every subcommand.
#[derive(Debug, Clone, Args)]
pub struct GlobalOpts {
    /// Directory holding the state of containers.
    #[arg(
        long,
        global = true,
        default_value = "/run/yurta-runtime",
        env = "YURTA_RUNTIME_ROOT"
    )]
    pub root: PathBuf,
    /// Write log messages to this file instead of standard error.
    #[arg(long, global = true)]
    pub log: Option<PathBuf>,
    /// Format of log messages.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Log debug messages too.
    #[arg(long, global = true)]
    pub debug: bool,
    /// Interpret cgroupsPath as "slice:prefix:name"; without systemd running, the
    /// path is expanded the way systemd would and managed through cgroupfs.
    #[arg(long, global = true)]
    pub systemd_cgroup: bool,
    /// With `spec`: write a config for an unprivileged user (a user namespace
    /// mapping the caller). Otherwise accepted for compatibility.
    #[arg(long, global = true, value_name = "true|false|auto", num_args = 0..=1, default_missing_value = "true")]
    pub rootless: Option<String>,
    /// Accepted for compatibility (checkpointing is not supported).
    #[arg(long, global = true, hide = true)]
    pub criu: Option<String>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// `time level message` lines.
    Text,
    /// One JSON object per line: {"level","msg","time"} as runc writes them.
    Json,
}

/// Output format of `list` and `ps`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a container from a bundle; its process waits for `start`.
    Create(Create),
    /// Start the user process of a created container.
    Start(ContainerId),
    /// Create and start a container, waiting for it unless --detach.
    Run(Run),
    /// Print the state of a container as OCI state JSON.
    State(ContainerId),
    /// Send a signal (default SIGTERM) to the container's init process.
    Kill(Kill),
    /// Delete a stopped container and everything the runtime made for it.
    Delete(Delete),
    /// Run a new process inside a running container.
    Exec(Exec),
    /// List the processes running inside a container.
    Ps(Ps),
    /// List containers under the state root.
    #[command(alias = "ls")]
    List(List),
    /// Freeze every process of a container.
    Pause(ContainerId),
    /// Thaw a paused container.
    Resume(ContainerId),
    /// Change the resource limits of a running container.
    Update(Update),
    /// Print what this runtime supports, as the OCI features JSON.
    Features,
    /// Print container events; with --stats, resource usage once.
    Events(Events),
    /// Write a starting config.json into the bundle directory.
    Spec(Spec),
}

impl Command {
    /// Whether the command only reports (prints) and changes nothing: it
    /// may end at any instant, e.g. when its reader goes away.
    pub fn only_reports(&self) -> bool {
        matches!(
            self,
            Command::State(_)
                | Command::Ps(_)
                | Command::List(_)
                | Command::Features
                | Command::Events(_)
        )
    }
}

/// A single container id.
#[derive(Debug, Args)]
pub struct ContainerId {
    /// Container id.
    pub id: String,
}

/// Options shared by `create` and `run`.
#[derive(Debug, Clone, Args)]
pub struct CreateOpts {
    /// Bundle directory (holding config.json).
    #[arg(short, long, default_value = ".")]
    pub bundle: PathBuf,
    /// Unix socket that receives the pseudo-terminal master when process.terminal is true.
    #[arg(long)]
    pub console_socket: Option<PathBuf>,
    /// Write the container's init pid to this file.
    #[arg(long)]
    pub pid_file: Option<PathBuf>,
    /// Move the root with MS_MOVE instead of pivot_root (needed on initramfs roots).
    #[arg(long)]
    pub no_pivot: bool,
    /// Accepted for compatibility: no new session keyring is ever made.
    #[arg(long)]
    pub no_new_keyring: bool,
    /// Pass this many file descriptors after stdio (3..3+N) into the container.
    #[arg(long, default_value_t = 0)]
    pub preserve_fds: u32,
    /// Container id.
    pub id: String,
}

/// `create`.
#[derive(Debug, Args)]
pub struct Create {
    #[command(flatten)]
    pub opts: CreateOpts,
}

/// `run`.
#[derive(Debug, Args)]
pub struct Run {
    #[command(flatten)]
    pub opts: CreateOpts,
    /// Return once the container is started instead of waiting for it.
    #[arg(short, long)]
    pub detach: bool,
    /// Keep the container's state after it exits (foreground runs delete it otherwise).
    #[arg(long)]
    pub keep: bool,
    /// Do not become the subreaper of the container's processes.
    #[arg(long)]
    pub no_subreaper: bool,
}

/// `kill`.
#[derive(Debug, Args)]
pub struct Kill {
    /// Signal every process in the container, not just init.
    #[arg(short, long)]
    pub all: bool,
    /// Container id.
    pub id: String,
    /// Signal name (TERM, SIGTERM) or number.
    #[arg(default_value = "SIGTERM")]
    pub signal: String,
}

/// `delete`.
#[derive(Debug, Args)]
pub struct Delete {
    /// Kill the container first if it is still running.
    #[arg(short, long)]
    pub force: bool,
    /// Container ids.
    #[arg(required = true)]
    pub ids: Vec<String>,
}

/// `exec`.
#[derive(Debug, Args)]
#[command(trailing_var_arg = true)]
pub struct Exec {
    /// Unix socket that receives the pseudo-terminal master with --tty.
    #[arg(long)]
    pub console_socket: Option<PathBuf>,
    /// Working directory inside the container.
    #[arg(long)]
    pub cwd: Option<String>,
    /// Set an environment variable (KEY=VALUE); repeatable.
    #[arg(short, long)]
    pub env: Vec<String>,
    /// Allocate a pseudo-terminal.
    #[arg(short, long)]
    pub tty: bool,
    /// User as UID[:GID].
    #[arg(short, long)]
    pub user: Option<String>,
    /// Additional group ids; repeatable.
    #[arg(short = 'g', long)]
    pub additional_gids: Vec<u32>,
    /// JSON file with an OCI process object (overrides the arguments).
    #[arg(short, long)]
    pub process: Option<PathBuf>,
    /// Return once the process has started.
    #[arg(short, long)]
    pub detach: bool,
    /// Write the new process's pid to this file.
    #[arg(long)]
    pub pid_file: Option<PathBuf>,
    /// Set no_new_privileges for the process.
    #[arg(long)]
    pub no_new_privs: bool,
    /// Add a capability (CAP_NET_ADMIN or NET_ADMIN); repeatable.
    #[arg(short, long)]
    pub cap: Vec<String>,
    /// Pass this many file descriptors after stdio into the process.
    #[arg(long, default_value_t = 0)]
    pub preserve_fds: u32,
    /// Accepted for compatibility (SELinux label).
    #[arg(long)]
    pub process_label: Option<String>,
    /// Accepted for compatibility (AppArmor profile).
    #[arg(long)]
    pub apparmor: Option<String>,
    /// Exec even when the container is paused.
    #[arg(long)]
    pub ignore_paused: bool,
    /// Container id.
    pub id: String,
    /// Command and arguments.
    pub command: Vec<String>,
}

/// `ps`.
#[derive(Debug, Args)]
#[command(trailing_var_arg = true)]
pub struct Ps {
    /// table runs ps(1) and keeps the container's rows; json prints the pids.
    #[arg(short, long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
    /// Container id.
    pub id: String,
    /// Options for ps(1), default -ef.
    #[arg(allow_hyphen_values = true)]
    pub ps_args: Vec<String>,
}

/// `list`.
#[derive(Debug, Args)]
pub struct List {
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
    /// Print only the ids.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `update`.
#[derive(Debug, Args)]
pub struct Update {
    /// JSON file with OCI linux.resources ("-" reads standard input).
    #[arg(short, long)]
    pub resources: Option<PathBuf>,
    /// Block IO weight (10..1000).
    #[arg(long)]
    pub blkio_weight: Option<u16>,
    /// CPU CFS period in microseconds.
    #[arg(long)]
    pub cpu_period: Option<u64>,
    /// CPU CFS quota in microseconds (-1: unlimited).
    #[arg(long, allow_hyphen_values = true)]
    pub cpu_quota: Option<i64>,
    /// CPU shares (relative weight).
    #[arg(long)]
    pub cpu_share: Option<u64>,
    /// CPU realtime period in microseconds.
    #[arg(long)]
    pub cpu_rt_period: Option<u64>,
    /// CPU realtime runtime in microseconds.
    #[arg(long, allow_hyphen_values = true)]
    pub cpu_rt_runtime: Option<i64>,
    /// CPUs allowed (0-3, 0,1).
    #[arg(long)]
    pub cpuset_cpus: Option<String>,
    /// Memory nodes allowed.
    #[arg(long)]
    pub cpuset_mems: Option<String>,
    /// Memory limit (bytes, or with k/m/g suffix; -1: unlimited).
    #[arg(long, allow_hyphen_values = true)]
    pub memory: Option<String>,
    /// Memory soft limit.
    #[arg(long, allow_hyphen_values = true)]
    pub memory_reservation: Option<String>,
    /// Memory plus swap limit.
    #[arg(long, allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Maximum number of processes (-1 or 0: unlimited).
    #[arg(long, allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
    /// Container id.
    pub id: String,
}

/// `events`.
#[derive(Debug, Args)]
pub struct Events {
    /// Print resource usage once and exit.
    #[arg(long)]
    pub stats: bool,
    /// Interval between stats (accepted; events are printed once).
    #[arg(long, default_value = "5s")]
    pub interval: String,
    /// Container id.
    pub id: String,
}

/// `spec`.
#[derive(Debug, Args)]
pub struct Spec {
    /// Directory to write config.json into.
    #[arg(short, long, default_value = ".")]
    pub bundle: PathBuf,
}

/// runc's parser accepts single-dash long flags (`-pid-file`); rewrite them
/// into the double-dash form clap expects, leaving everything after the
/// container command (exec's argv, ps's options) untouched.
pub fn normalize_args<I: IntoIterator<Item = String>>(args: I) -> Vec<String> {
    const LONG: &[&str] = &[
        "root",
        "log",
        "log-format",
        "debug",
        "systemd-cgroup",
        "rootless",
        "criu",
        "bundle",
        "console-socket",
        "pid-file",
        "no-pivot",
        "no-new-keyring",
        "preserve-fds",
        "detach",
        "keep",
        "no-subreaper",
        "all",
        "force",
        "cwd",
        "env",
        "tty",
        "user",
        "process",
        "no-new-privs",
        "cap",
        "format",
        "quiet",
        "resources",
        "stats",
        "interval",
        "process-label",
        "apparmor",
        "ignore-paused",
        "additional-gids",
    ];
    let mut out = Vec::new();
    let mut positional_seen = 0usize;
    let mut passthrough = false;
    for arg in args {
        if passthrough {
            out.push(arg);
            continue;
        }
        if arg == "--" {
            passthrough = true;
            out.push(arg);
            continue;
        }
        if let Some(rest) = arg.strip_prefix('-') {
            if !rest.starts_with('-') {
                let name = rest.split('=').next().unwrap_or(rest);
                if LONG.contains(&name) {
                    out.push(format!("-{arg}"));
                    continue;
                }
            }
        } else {
            positional_seen += 1;
            // program name, subcommand, id: after those, exec/ps arguments follow.
            if positional_seen >= 3 && out.iter().any(|a| a == "exec" || a == "ps") {
                passthrough = true;
            }
        }
        out.push(arg);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        let args = normalize_args(args.iter().map(|s| s.to_string()));
        Cli::try_parse_from(args).expect("parses")
    }

    #[test]
    fn create_with_conmon_style_flags() {
        let cli = parse(&[
            "yurta-runtime",
            "--log-format",
            "json",
            "--log",
            "/tmp/l",
            "create",
            "--bundle",
            "/b",
            "--pid-file",
            "/p",
            "--console-socket",
            "/s",
            "--no-new-keyring",
            "abc",
        ]);
        assert_eq!(cli.global.log_format, LogFormat::Json);
        match cli.command {
            Command::Create(c) => {
                assert_eq!(c.opts.bundle, PathBuf::from("/b"));
                assert_eq!(c.opts.pid_file, Some(PathBuf::from("/p")));
                assert_eq!(c.opts.id, "abc");
            }
            other => panic!("wrong command {other:?}"),
        }
    }

    #[test]
    fn single_dash_long_flags_are_accepted() {
        let cli = parse(&[
            "yurta-runtime",
            "-root",
            "/r",
            "run",
            "-bundle",
            "/b",
            "-d",
            "x",
        ]);
        assert_eq!(cli.global.root, PathBuf::from("/r"));
        assert!(matches!(
            cli.command,
            Command::Run(Run { detach: true, .. })
        ));
    }

    #[test]
    fn exec_arguments_are_not_rewritten() {
        let cli = parse(&["yurta-runtime", "exec", "-t", "c1", "sh", "-cwd", "-e", "x"]);
        match cli.command {
            Command::Exec(e) => {
                assert!(e.tty);
                assert_eq!(e.id, "c1");
                assert_eq!(e.command, vec!["sh", "-cwd", "-e", "x"]);
            }
            other => panic!("wrong command {other:?}"),
        }
    }

    #[test]
    fn kill_defaults_to_sigterm() {
        let cli = parse(&["yurta-runtime", "kill", "c1"]);
        match cli.command {
            Command::Kill(k) => assert_eq!(k.signal, "SIGTERM"),
            other => panic!("wrong command {other:?}"),
        }
    }

    #[test]
    fn ps_passes_options_through() {
        let cli = parse(&["yurta-runtime", "ps", "--format", "json", "c1", "-o", "pid"]);
        match cli.command {
            Command::Ps(p) => {
                assert_eq!(p.format, ListFormat::Json);
                assert_eq!(p.ps_args, vec!["-o", "pid"]);
            }
            other => panic!("wrong command {other:?}"),
        }
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}

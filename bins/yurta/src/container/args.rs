//! The flags of the container verbs (clap only, no behaviour).

use std::path::PathBuf;

use clap::Args;

/// `run` and `create`: Docker's flags, mapped onto `yurta_engine::CreateOptions`.
/// (`-h` is `--hostname`, as in Docker; help is `--help`.)
#[derive(Args, Clone, Debug, Default)]
#[command(disable_help_flag = true)]
pub struct CreateArgs {
    /// Print help
    #[arg(long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
    /// Run in the background and print the container's ID
    #[arg(short, long)]
    pub detach: bool,
    /// Keep stdin open
    #[arg(short, long)]
    pub interactive: bool,
    /// Allocate a pseudo-terminal
    #[arg(short, long)]
    pub tty: bool,
    #[command(flatten)]
    pub detach_keys: crate::container::detach::DetachKeysArg,
    /// Remove the container when it exits
    #[arg(long)]
    pub rm: bool,
    /// Assign a name to the container
    #[arg(long)]
    pub name: Option<String>,
    /// Set environment variables (K=V, or K to take the caller's)
    #[arg(short, long)]
    pub env: Vec<String>,
    /// Read environment variables from a file (K=V lines)
    #[arg(long)]
    pub env_file: Vec<PathBuf>,
    /// Bind mount or volume: SRC:DST[:OPTS], or DST for an anonymous volume
    #[arg(short, long)]
    pub volume: Vec<String>,
    /// type=bind|volume|tmpfs,source=,target=,...
    #[arg(long)]
    pub mount: Vec<String>,
    /// Mount a tmpfs: PATH[:size=64m,mode=1777,ro]
    #[arg(long)]
    pub tmpfs: Vec<String>,
    /// PID namespace: host shares the host's (default: the container's own)
    #[arg(long)]
    pub pid: Option<String>,
    /// IPC namespace: host shares the host's and its /dev/shm (default: private)
    #[arg(long)]
    pub ipc: Option<String>,
    /// UTS namespace: host shares the host's hostname
    #[arg(long)]
    pub uts: Option<String>,
    /// Working directory inside the container
    #[arg(short, long)]
    pub workdir: Option<String>,
    /// user[:group]
    #[arg(short, long)]
    pub user: Option<String>,
    /// Publish ports: [ip:][hostport:]containerport[/proto]; no or a 0
    /// hostport: a free one; IPv4 host addresses only
    #[arg(short, long)]
    pub publish: Vec<String>,
    /// Publish every exposed port to a free host port
    #[arg(short = 'P', long)]
    pub publish_all: bool,
    /// Expose a port without publishing it
    #[arg(long)]
    pub expose: Vec<String>,
    /// none, host, bridge (default) or a network's name
    #[arg(long, alias = "net")]
    pub network: Option<String>,
    /// Extra names of the container on its network
    #[arg(long)]
    pub network_alias: Vec<String>,
    /// Container host name (default: the short ID)
    #[arg(short = 'h', long)]
    pub hostname: Option<String>,
    /// Add a line to /etc/hosts: HOST:IP
    #[arg(long)]
    pub add_host: Vec<String>,
    /// Set a DNS server in /etc/resolv.conf
    #[arg(long)]
    pub dns: Vec<String>,
    /// Set a DNS search domain (replaces the host's)
    #[arg(long)]
    pub dns_search: Vec<String>,
    /// Set a resolver option, e.g. ndots:2 (replaces the host's)
    #[arg(long)]
    pub dns_option: Vec<String>,
    /// Add a supplementary group (a name in the image's /etc/group, or a GID)
    #[arg(long)]
    pub group_add: Vec<String>,
    /// Memory limit, e.g. 512m or 1g
    #[arg(short, long)]
    pub memory: Option<String>,
    /// Memory plus swap limit (-1: unlimited swap)
    #[arg(long)]
    pub memory_swap: Option<String>,
    /// Size of /dev/shm, e.g. 64m
    #[arg(long)]
    pub shm_size: Option<String>,
    /// Number of CPUs, e.g. 1.5
    #[arg(long)]
    pub cpus: Option<String>,
    /// CPU weight relative to other containers (default 1024)
    #[arg(short = 'c', long)]
    pub cpu_shares: Option<i64>,
    /// CPUs the container may run on, e.g. 0-2 or 0,3
    #[arg(long)]
    pub cpuset_cpus: Option<String>,
    /// CFS quota in microseconds per --cpu-period (instead of --cpus)
    #[arg(long, allow_negative_numbers = true)]
    pub cpu_quota: Option<i64>,
    /// CFS period in microseconds (1000-1000000; default 100000)
    #[arg(long)]
    pub cpu_period: Option<i64>,
    /// Memory soft limit, e.g. 256m (reclaimed first under pressure)
    #[arg(long)]
    pub memory_reservation: Option<String>,
    /// Tune the out-of-memory killer's preference (-1000 to 1000)
    #[arg(long, allow_negative_numbers = true)]
    pub oom_score_adj: Option<i64>,
    /// Maximum number of processes (-1: unlimited)
    #[arg(long, allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
    /// Mount the root filesystem read-only
    #[arg(long)]
    pub read_only: bool,
    /// Add a Linux capability (e.g. NET_ADMIN, or ALL)
    #[arg(long)]
    pub cap_add: Vec<String>,
    /// Drop a Linux capability (e.g. CHOWN, or ALL)
    #[arg(long)]
    pub cap_drop: Vec<String>,
    /// Give every capability and device, no seccomp or masked paths
    #[arg(long)]
    pub privileged: bool,
    /// seccomp=PROFILE.json|unconfined, no-new-privileges, ...
    #[arg(long)]
    pub security_opt: Vec<String>,
    /// Override the image's ENTRYPOINT
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// no, on-failure[:N], always, unless-stopped
    #[arg(long)]
    pub restart: Option<String>,
    /// Run an init (catatonit/tini) as pid 1
    #[arg(long)]
    pub init: bool,
    /// Set a label: KEY=VALUE
    #[arg(short, long)]
    pub label: Vec<String>,
    /// Signal that stops the container (default SIGTERM)
    #[arg(long)]
    pub stop_signal: Option<String>,
    /// Seconds to wait after the stop signal before SIGKILL (default 10)
    #[arg(long)]
    pub stop_timeout: Option<i64>,
    /// Command to run to check health (a shell command line)
    #[arg(long, help_heading = "Health check")]
    pub health_cmd: Option<String>,
    /// Time between running the check (ms|s|m|h; default 30s)
    #[arg(long, help_heading = "Health check")]
    pub health_interval: Option<String>,
    /// Maximum time to allow one check to run (default 30s)
    #[arg(long, help_heading = "Health check")]
    pub health_timeout: Option<String>,
    /// Consecutive failures needed to report unhealthy (default 3)
    #[arg(long, help_heading = "Health check", allow_negative_numbers = true)]
    pub health_retries: Option<i64>,
    /// Start period for the container to initialize before failures count
    #[arg(long, help_heading = "Health check")]
    pub health_start_period: Option<String>,
    /// Time between checks during the start period (default 5s)
    #[arg(long, help_heading = "Health check")]
    pub health_start_interval: Option<String>,
    /// Disable any container-specified HEALTHCHECK
    #[arg(long, help_heading = "Health check")]
    pub no_healthcheck: bool,
    /// os/arch[/variant] of the image
    #[arg(long)]
    pub platform: Option<String>,
    /// missing (default), always or never
    #[arg(long, default_value = "missing")]
    pub pull: String,
    /// Resource limit: NAME=SOFT[:HARD], e.g. nofile=1024:2048
    #[arg(long)]
    pub ulimit: Vec<String>,
    /// Namespaced kernel parameter: NAME=VALUE
    #[arg(long)]
    pub sysctl: Vec<String>,
    /// Add a host device: HOST[:CONTAINER[:PERMISSIONS]]
    #[arg(long)]
    pub device: Vec<String>,
    /// json-file only (accepted)
    #[arg(long)]
    pub log_driver: Option<String>,
    /// max-size=SIZE, max-file=N
    #[arg(long)]
    pub log_opt: Vec<String>,
    /// The image: name[:tag], ID or digest
    pub image: String,
    /// The command and its arguments (default: the image's CMD)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

#[derive(Args)]
pub struct StartArgs {
    /// Attach stdout/stderr and wait for the exit
    #[arg(short, long)]
    pub attach: bool,
    /// Attach stdin
    #[arg(short, long)]
    pub interactive: bool,
    #[command(flatten)]
    pub detach_keys: crate::container::detach::DetachKeysArg,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args)]
pub struct PsArgs {
    /// Show all containers (default: running only)
    #[arg(short, long)]
    pub all: bool,
    /// Only IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// status=, name=, id=, label=KEY[=VALUE], ancestor=
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// table, table TEMPLATE, json, or a Go template (docs/formats.md)
    #[arg(long)]
    pub format: Option<String>,
    /// Do not truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Show the last created container only (of any state)
    #[arg(short, long)]
    pub latest: bool,
    /// Show the N last created containers (of any state)
    #[arg(short = 'n', long, default_value_t = -1, allow_negative_numbers = true)]
    pub last: i64,
    /// Show the containers' sizes (writable layer, and with the image)
    #[arg(short, long)]
    pub size: bool,
}

#[derive(Args)]
pub struct LogsArgs {
    /// Follow the output
    #[arg(short, long)]
    pub follow: bool,
    /// Lines from the end ("all" or N)
    #[arg(short = 'n', long, default_value = "all")]
    pub tail: String,
    /// Only records since this time (RFC 3339, or 10s / 5m / 2h ago)
    #[arg(long)]
    pub since: Option<String>,
    /// Show timestamps
    #[arg(short, long)]
    pub timestamps: bool,
    pub container: String,
}

#[derive(Args)]
pub struct StopArgs {
    /// Seconds to wait before SIGKILL (default: the container's --stop-timeout, else 10)
    #[arg(short, long, alias = "time")]
    pub timeout: Option<i64>,
    /// Signal to send first (default: the container's --stop-signal, else SIGTERM)
    #[arg(short, long)]
    pub signal: Option<String>,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args)]
pub struct KillArgs {
    #[arg(short, long, default_value = "KILL")]
    pub signal: String,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args)]
pub struct RmArgs {
    /// Kill a running container first
    #[arg(short, long)]
    pub force: bool,
    /// Remove its anonymous volumes
    #[arg(short, long)]
    pub volumes: bool,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args)]
pub struct ContainersArgs {
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args)]
pub struct ExecArgs {
    #[arg(short, long)]
    pub detach: bool,
    #[arg(short, long)]
    pub interactive: bool,
    #[arg(short, long)]
    pub tty: bool,
    #[arg(short, long)]
    pub env: Vec<String>,
    #[arg(short, long)]
    pub workdir: Option<String>,
    #[arg(short, long)]
    pub user: Option<String>,
    #[arg(long)]
    pub privileged: bool,
    pub container: String,
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

#[derive(Args)]
pub struct InspectArgs {
    /// A Go template over each object, or json (default: indented JSON)
    #[arg(short, long)]
    pub format: Option<String>,
    /// container, image (default: a container, else an image)
    #[arg(long = "type")]
    pub kind: Option<String>,
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Args)]
pub struct PortArgs {
    pub container: String,
    /// PORT[/PROTO]
    pub port: Option<String>,
}

#[derive(Args)]
pub struct RenameArgs {
    pub container: String,
    pub new_name: String,
}

#[derive(Args)]
pub struct TopArgs {
    pub container: String,
    /// Options for ps(1) (default: -ef)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub ps_options: Vec<String>,
}

#[derive(Args)]
pub struct PruneArgs {
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Args)]
pub struct CleanupArgs {
    pub container: String,
}

#[derive(Args)]
pub struct HealthArgs {
    /// The container's ID
    pub container: String,
    /// Its init's pid: the monitor ends when it does
    #[arg(long)]
    pub pid: i32,
}

#[derive(Args)]
pub struct AttachArgs {
    /// Do not attach stdin
    #[arg(long)]
    pub no_stdin: bool,
    #[command(flatten)]
    pub detach_keys: crate::container::detach::DetachKeysArg,
    pub container: String,
}

#[derive(Args)]
pub struct StatsArgs {
    /// Show all containers (default: running only)
    #[arg(short, long)]
    pub all: bool,
    /// Print once instead of redrawing every second
    #[arg(long)]
    pub no_stream: bool,
    /// Do not truncate IDs
    #[arg(long)]
    pub no_trunc: bool,
    /// table, table TEMPLATE, json, or a Go template (docs/formats.md)
    #[arg(long)]
    pub format: Option<String>,
    /// Containers (default: every running one)
    pub containers: Vec<String>,
}

#[derive(Args)]
pub struct CpArgs {
    /// CONTAINER:PATH, a host path, or - (a tar stream on stdin)
    pub src: String,
    /// CONTAINER:PATH, a host path, or - (a tar stream on stdout)
    pub dest: String,
}

#[derive(Args)]
pub struct CpHelperArgs {
    /// A running container's init: enter its mount namespace and root.
    #[arg(long, required_unless_present = "root_dir")]
    pub pid: Option<i32>,
    /// A stopped container's root filesystem, mounted by `cp`: chroot there.
    #[arg(long, conflicts_with = "pid")]
    pub root_dir: Option<PathBuf>,
    #[arg(long)]
    pub pack: Option<String>,
    #[arg(long)]
    pub unpack: Option<String>,
    /// Print the path's stat as Docker's `X-Docker-Container-Path-Stat`
    /// JSON (name, size, mode, mtime, linkTarget).
    #[arg(long)]
    pub stat: Option<String>,
    /// Print a directory's entries as a JSON array (Name, Type, Size,
    /// Mode, Modified, Link), for the web console's file browser.
    #[arg(long)]
    pub list: Option<String>,
    /// The archive holds a directory's contents (`SRC/.`): a missing
    /// destination becomes that directory.
    #[arg(long)]
    pub contents: bool,
}

/// `commit`: Docker's flags.
#[derive(Args)]
pub struct CommitArgs {
    /// Author (e.g. "Jo Doe <jo@example.org>")
    #[arg(short, long)]
    pub author: Option<String>,
    /// Apply a Dockerfile instruction to the image (CMD, ENTRYPOINT, ENV, ...)
    #[arg(short, long)]
    pub change: Vec<String>,
    /// Commit message
    #[arg(short, long)]
    pub message: Option<String>,
    /// Pause the container during the commit (--pause=false: do not)
    #[arg(short, long, default_value_t = true, action = clap::ArgAction::Set,
          num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub pause: bool,
    pub container: String,
    /// REPOSITORY[:TAG]
    pub reference: Option<String>,
}

#[derive(Args)]
pub struct DiffArgs {
    pub container: String,
}

#[derive(Args)]
pub struct ExportArgs {
    /// Write to a file instead of stdout
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    pub container: String,
}

#[derive(Args)]
pub struct ExportHelperArgs {
    /// The container's full ID.
    pub container: String,
}

/// `update`: Docker's resource flags and restart policy.
#[derive(Args)]
pub struct UpdateArgs {
    /// Memory limit
    #[arg(short, long)]
    pub memory: Option<String>,
    /// Memory plus swap limit; -1 for unlimited swap
    #[arg(long, allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Number of CPUs
    #[arg(long)]
    pub cpus: Option<String>,
    /// CPU shares (relative weight)
    #[arg(short = 'c', long, allow_hyphen_values = true)]
    pub cpu_shares: Option<i64>,
    /// CPUs in which to allow execution (0-3, 0,1)
    #[arg(long)]
    pub cpuset_cpus: Option<String>,
    /// Process limit; -1 for unlimited
    #[arg(long, allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
    /// Restart policy: no, on-failure[:N], always, unless-stopped
    #[arg(long)]
    pub restart: Option<String>,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

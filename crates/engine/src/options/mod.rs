//! `run`/`create` flags → the record's `Config` and `HostConfig`, with
//! Docker's validation and its merge of the image's configuration.
//!
//! [`CreateOptions`] holds the flags as the user typed them;
//! [`CreateOptions::load_files`] inlines what must be read from files
//! (`--env-file`, `--security-opt seccomp=FILE`, as the docker CLI does),
//! and [`build`] is then pure. Published ports are parsed by the network
//! side and arrive ready in `port_bindings`.

pub mod env;
pub mod health;
pub mod limits;
pub mod parse;
pub mod update;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{json, Value};
use yurta_images::spec::RunConfig;

use crate::caps;
use crate::record::{Config, HostConfig, LogConfig, MountSpec, MountType, PortBinding};
use crate::volume::parse as volparse;
use crate::volume::VolumeSpecError;

/// Errors of this module; each names the offending value.
#[derive(Debug, thiserror::Error)]
pub enum OptionError {
    #[error("{0}")]
    Health(String),
    #[error("invalid --tmpfs {0:?}: {1}")]
    Tmpfs(String, String),
    /// A flag's value refused: the flag, the value, why.
    #[error("invalid --{0} {1:?}: {2}")]
    FlagValue(&'static str, String, String),
    #[error("Conflicting options: hostname and the UTS mode")]
    HostnameWithHostUts,
    #[error("{0}")]
    Conflict(&'static str),
    #[error("invalid {flag} size {value:?}")]
    Size { flag: &'static str, value: String },
    #[error("invalid --memory {0:?}: Minimum memory limit allowed is 6MB")]
    MemoryTooSmall(String),
    #[error("You should always set the memory limit when using a memory-swap limit")]
    SwapWithoutMemory,
    #[error(
        "Minimum memory-swap limit should be larger than memory limit (swap is memory plus swap)"
    )]
    SwapBelowMemory,
    #[error("invalid --cpus {0:?}: a number of CPUs from 0.01")]
    Cpus(String),
    #[error("invalid --cpus {value:?}: Range of CPUs is from 0.01 to {cpus}.00, as there are only {cpus} CPUs available")]
    CpusAboveHost { value: String, cpus: usize },
    #[error("{what} name {value:?} is too long: {len} bytes, at most {max}")]
    NameTooLong {
        what: &'static str,
        value: String,
        len: usize,
        max: usize,
    },
    #[error("invalid --cpu-shares {0}: a relative weight, 0 (unchanged) or more")]
    CpuShares(i64),
    #[error("invalid --memory {value:?}: Memory limit should be smaller than already set memoryswap limit ({swap} bytes), update the memoryswap at the same time")]
    MemoryAboveSwap { value: String, swap: i64 },
    #[error("invalid --restart {0:?}: Restart policy cannot be updated because AutoRemove is enabled for the container")]
    RestartAutoRemove(String),
    #[error("you must provide one or more flags when using this command")]
    NothingToUpdate,
    #[error("invalid --cpuset-cpus {0:?}")]
    Cpuset(String),
    #[error("bad ulimit {value:?}: {why}")]
    Ulimit { value: String, why: String },
    #[error("bad device {value:?}: {why}")]
    Device { value: String, why: String },
    #[error("bad sysctl {0:?}: {1}")]
    Sysctl(String, &'static str),
    #[error("invalid restart policy {0:?} (no, always, unless-stopped, on-failure[:N])")]
    Restart(String),
    #[error("Conflicting options: --restart {0:?} and --rm")]
    RestartWithRm(String),
    #[error("invalid --add-host {0:?}: expected HOST:IP")]
    AddHost(String),
    #[error("invalid --dns {0:?}: not an IP address")]
    Dns(String),
    #[error("invalid signal {0:?}")]
    Signal(String),
    #[error("invalid environment variable {0:?}")]
    Env(String),
    #[error("bad env file {file} line {line}: {value:?}")]
    EnvFile {
        file: String,
        line: usize,
        value: String,
    },
    #[error("reading {what} {}: {source}", path.display())]
    Read {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid --security-opt {0:?}")]
    SecurityOpt(String),
    #[error("the working directory {0:?} is invalid, it needs to be an absolute path")]
    Workdir(String),
    #[error("invalid --network {0:?}")]
    Network(String),
    #[error("invalid --log-opt {0:?}: {1}")]
    LogOpt(String, &'static str),
    #[error("invalid --hostname {0:?}")]
    Hostname(String),
    #[error("no command specified: the image has no CMD or ENTRYPOINT and none was given")]
    NoCommand,
    #[error(transparent)]
    Caps(#[from] caps::CapError),
    #[error(transparent)]
    Volume(#[from] VolumeSpecError),
}

/// The flags of `run`/`create`, as typed.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    pub name: Option<String>,
    /// The image as the user named it.
    pub image: String,
    pub command: Vec<String>,
    /// `--entrypoint` (`Some("")` clears the image's).
    pub entrypoint: Option<String>,
    pub env: Vec<String>,
    pub env_files: Vec<PathBuf>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    pub hostname: Option<String>,
    pub labels: Vec<String>,
    pub tty: bool,
    pub interactive: bool,
    pub detach: bool,
    pub volumes: Vec<String>,
    pub mounts: Vec<String>,
    /// `--tmpfs PATH[:OPTIONS]` (Docker's `HostConfig.Tmpfs`).
    pub tmpfs: Vec<String>,
    pub dns_search: Vec<String>,
    pub dns_options: Vec<String>,
    pub group_add: Vec<String>,
    /// `--cpu-quota`, `--cpu-period` (microseconds), `--memory-reservation`,
    /// `--oom-score-adj`.
    pub cpu_quota: Option<i64>,
    pub cpu_period: Option<i64>,
    pub memory_reservation: Option<String>,
    pub oom_score_adj: Option<i64>,
    /// `--pid`, `--ipc`, `--uts`: `host`, or the container's own.
    pub pid_mode: Option<String>,
    pub ipc_mode: Option<String>,
    pub uts_mode: Option<String>,
    pub read_only: bool,
    pub privileged: bool,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub security_opt: Vec<String>,
    pub memory: Option<String>,
    pub memory_swap: Option<String>,
    pub shm_size: Option<String>,
    pub cpus: Option<String>,
    pub cpu_shares: Option<i64>,
    pub cpuset_cpus: Option<String>,
    pub pids_limit: Option<i64>,
    pub ulimits: Vec<String>,
    pub sysctls: Vec<String>,
    pub devices: Vec<String>,
    pub init: bool,
    pub stop_signal: Option<String>,
    pub stop_timeout: Option<i64>,
    /// The container's own health check (flags or the API's config);
    /// None takes the image's.
    pub healthcheck: Option<crate::record::Healthcheck>,
    pub restart: Option<String>,
    pub auto_remove: bool,
    pub network: Option<String>,
    pub add_hosts: Vec<String>,
    pub dns: Vec<String>,
    pub log_opts: Vec<String>,
    pub publish_all: bool,
    /// `-p`, parsed by the network side: `"80/tcp"` → bindings.
    pub port_bindings: BTreeMap<String, Vec<PortBinding>>,
    /// `--expose` and the ports of `-p`, as `"80/tcp"`.
    pub expose: Vec<String>,
}

impl CreateOptions {
    /// Reads `--env-file`s (their variables go before `-e`'s) and
    /// `--security-opt seccomp=FILE` (replaced by the file's JSON, as the
    /// docker CLI sends it), so that [`build`] needs no files.
    pub fn load_files(
        &mut self,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(), OptionError> {
        let mut from_files = Vec::new();
        for path in std::mem::take(&mut self.env_files) {
            let content = std::fs::read_to_string(&path).map_err(|source| OptionError::Read {
                what: "env file",
                path: path.clone(),
                source,
            })?;
            from_files.extend(env::env_file(
                &path.display().to_string(),
                &content,
                lookup,
            )?);
        }
        let mut resolved = Vec::new();
        for e in &self.env {
            resolved.extend(env::env_value(e, lookup)?);
        }
        from_files.extend(resolved);
        self.env = from_files;
        for opt in &mut self.security_opt {
            let Some(file) = opt
                .strip_prefix("seccomp=")
                .or_else(|| opt.strip_prefix("seccomp:"))
            else {
                continue;
            };
            if file == "unconfined" || file.trim_start().starts_with('{') {
                continue;
            }
            let path = PathBuf::from(file);
            let content = std::fs::read_to_string(&path).map_err(|source| OptionError::Read {
                what: "seccomp profile",
                path: path.clone(),
                source,
            })?;
            serde_json::from_str::<Value>(&content)
                .map_err(|_| OptionError::SecurityOpt(format!("seccomp={file}")))?;
            *opt = format!("seccomp={content}");
        }
        Ok(())
    }
}

/// The record's `Config` and `HostConfig` for `opts` over the image's
/// configuration. The hostname is left empty when not given (the ID's
/// first 12 digits, once known).
pub fn build(image: &RunConfig, opts: &CreateOptions) -> Result<(Config, HostConfig), OptionError> {
    build_for(image, opts, limits::host_cpus())
}

/// [`build`] on a host with `host_cpus` CPUs (`--cpus` may not ask for more).
pub fn build_for(
    image: &RunConfig,
    opts: &CreateOptions,
    host_cpus: usize,
) -> Result<(Config, HostConfig), OptionError> {
    if let Some(name) = &opts.name {
        limits::container_name(name)?;
    }
    let hc = host_config(opts, host_cpus)?;
    check_cpu_and_memory(&hc)?;
    Ok((config(image, opts)?, hc))
}

fn config(image: &RunConfig, opts: &CreateOptions) -> Result<Config, OptionError> {
    if let Some(h) = &opts.healthcheck {
        health::validate(h)?;
    }
    let (entrypoint, cmd) = match &opts.entrypoint {
        Some(e) => {
            let e = (!e.is_empty()).then(|| vec![e.clone()]);
            (e, (!opts.command.is_empty()).then(|| opts.command.clone()))
        }
        None => {
            let cmd = if opts.command.is_empty() {
                image.cmd.clone()
            } else {
                Some(opts.command.clone())
            };
            (image.entrypoint.clone(), cmd)
        }
    };
    if entrypoint.iter().chain(&cmd).all(|v| v.is_empty()) {
        return Err(OptionError::NoCommand);
    }
    let workdir = match &opts.workdir {
        Some(w) if !w.starts_with('/') => return Err(OptionError::Workdir(w.clone())),
        Some(w) => w.clone(),
        None => image.working_dir.clone().unwrap_or_default(),
    };
    if opts.hostname.as_deref().is_some_and(|h| !h.is_empty())
        && opts.uts_mode.as_deref() == Some("host")
    {
        return Err(OptionError::HostnameWithHostUts);
    }
    if let Some(h) = &opts.hostname {
        let ok = !h.is_empty()
            && h.len() <= 255
            && h.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            });
        if !ok {
            return Err(OptionError::Hostname(h.clone()));
        }
    }
    if let Some(s) = &opts.stop_signal {
        parse::signal(s)?;
    }
    let mut labels = image.labels.clone().unwrap_or_default();
    labels.extend(opts.labels.iter().map(|l| parse::key_value(l)));
    let mut exposed = image.exposed_ports.clone().unwrap_or_default();
    for p in opts.expose.iter().chain(opts.port_bindings.keys()) {
        let key = if p.contains('/') {
            p.clone()
        } else {
            format!("{p}/tcp")
        };
        exposed.insert(key, json!({}));
    }
    let mut volumes = image.volumes.clone().unwrap_or_default();
    for v in &opts.volumes {
        if let volparse::Source::Anonymous = volparse::volume_flag(v)?.source {
            volumes.insert(v.clone(), json!({}));
        }
    }
    let env = env::merge(&image.env.clone().unwrap_or_default(), &opts.env);
    Ok(Config {
        hostname: opts.hostname.clone().unwrap_or_default(),
        domainname: String::new(),
        user: opts
            .user
            .clone()
            .or_else(|| image.user.clone())
            .unwrap_or_default(),
        attach_stdin: opts.interactive && !opts.detach,
        attach_stdout: !opts.detach,
        attach_stderr: !opts.detach,
        exposed_ports: (!exposed.is_empty()).then_some(exposed),
        tty: opts.tty,
        open_stdin: opts.interactive,
        stdin_once: opts.interactive && !opts.detach,
        env,
        cmd,
        image: opts.image.clone(),
        volumes: (!volumes.is_empty()).then_some(volumes),
        working_dir: workdir,
        entrypoint,
        labels,
        stop_signal: opts
            .stop_signal
            .clone()
            .or_else(|| image.stop_signal.clone()),
        stop_timeout: opts.stop_timeout,
        healthcheck: health::merge(opts.healthcheck.as_ref(), image_healthcheck(image).as_ref()),
    })
}

/// `--tmpfs PATH[:OPTIONS]` as the `--mount type=tmpfs` it means: `size`
/// and `mode` carry over, `ro` makes it read-only, and Docker's defaults
/// (`rw`, `noexec`, `nosuid`, `nodev`) are accepted as they are.
fn tmpfs_flag(v: &str) -> Result<String, OptionError> {
    let (path, options) = v.split_once(':').unwrap_or((v, ""));
    if !path.starts_with('/') {
        return Err(OptionError::Tmpfs(
            v.to_string(),
            "the path must be absolute".into(),
        ));
    }
    let mut out = format!("type=tmpfs,destination={path}");
    for o in options.split(',').filter(|o| !o.is_empty()) {
        match o.split_once('=') {
            Some(("size", n)) => out.push_str(&format!(",tmpfs-size={n}")),
            Some(("mode", m)) => out.push_str(&format!(",tmpfs-mode={m}")),
            None if o == "ro" => out.push_str(",readonly"),
            None if matches!(o, "rw" | "noexec" | "nosuid" | "nodev") => {}
            _ => {
                return Err(OptionError::Tmpfs(
                    v.to_string(),
                    format!(
                    "option {o:?} is not supported (size, mode, ro, rw, noexec, nosuid, nodev are)"
                ),
                ))
            }
        }
    }
    Ok(out)
}

/// The image's `HEALTHCHECK`, when it has one Docker's way.
fn image_healthcheck(image: &RunConfig) -> Option<crate::record::Healthcheck> {
    let v = image.extra.get("Healthcheck")?;
    serde_json::from_value(v.clone()).ok()
}

fn host_config(opts: &CreateOptions, host_cpus: usize) -> Result<HostConfig, OptionError> {
    let (memory, memory_swap) = parse::memory(opts.memory.as_deref(), opts.memory_swap.as_deref())?;
    let network = opts.network.clone().unwrap_or_else(|| "bridge".to_string());
    validate_network(&network)?;
    let host_network = network == "host";
    let restart = opts.restart.as_deref().map(parse::restart).transpose()?;
    if let Some(r) = &restart {
        if opts.auto_remove && r.name != "no" {
            return Err(OptionError::RestartWithRm(
                opts.restart.clone().unwrap_or_default(),
            ));
        }
    }
    caps::validate(&opts.cap_add)?;
    caps::validate(&opts.cap_drop)?;
    for o in &opts.security_opt {
        validate_security_opt(o)?;
    }
    let mut log = LogConfig::default();
    for o in &opts.log_opts {
        let (k, v) = parse::key_value(o);
        match k.as_str() {
            "max-size" => {
                parse::size("max-size", &v)?;
            }
            "max-file" if v.parse::<u32>().is_ok_and(|n| n > 0) => {}
            "max-file" => {
                return Err(OptionError::LogOpt(
                    o.clone(),
                    "max-file is a positive number",
                ))
            }
            "compress" | "labels" | "env" | "tag" | "mode" | "max-buffer-size" => {}
            _ => return Err(OptionError::LogOpt(o.clone(), "unknown log option")),
        }
        log.config.insert(k, v);
    }
    let mut mounts: Vec<MountSpec> = Vec::new();
    for t in &opts.tmpfs {
        mounts.push(volparse::mount_flag(&tmpfs_flag(t)?)?);
    }
    for m in &opts.mounts {
        let spec = volparse::mount_flag(m)?;
        if spec.kind == MountType::Volume && !spec.source.is_empty() {
            limits::volume_name(&spec.source)?;
        }
        mounts.push(spec);
    }
    for v in &opts.volumes {
        if let volparse::Source::Named(name) = volparse::volume_flag(v)?.source {
            limits::volume_name(&name)?;
        }
    }
    let binds: Vec<String> = opts
        .volumes
        .iter()
        .map(|v| volparse::volume_flag(v).map(|r| (v, r)))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|(_, r)| !matches!(r.source, volparse::Source::Anonymous))
        .map(|(v, _)| v.clone())
        .collect();
    let some = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
    Ok(HostConfig {
        binds: some(&binds),
        mounts,
        network_mode: network,
        port_bindings: opts
            .port_bindings
            .iter()
            .map(|(k, v)| (k.clone(), Some(v.clone())))
            .collect(),
        restart_policy: restart.unwrap_or_else(|| crate::record::RestartPolicy {
            name: "no".to_string(),
            maximum_retry_count: 0,
        }),
        auto_remove: opts.auto_remove,
        cap_add: some(&opts.cap_add),
        cap_drop: some(&opts.cap_drop),
        privileged: opts.privileged,
        publish_all_ports: opts.publish_all,
        readonly_rootfs: opts.read_only,
        security_opt: some(&opts.security_opt),
        memory,
        memory_swap,
        nano_cpus: opts
            .cpus
            .as_deref()
            .map(|c| cpus(c, host_cpus))
            .transpose()?
            .unwrap_or(0),
        cpu_shares: opts.cpu_shares.unwrap_or(0),
        cpuset_cpus: opts
            .cpuset_cpus
            .as_deref()
            .map(parse::cpuset)
            .transpose()?
            .unwrap_or_default(),
        pids_limit: opts.pids_limit.filter(|n| *n != 0),
        ulimits: Some(
            opts.ulimits
                .iter()
                .map(|u| parse::ulimit(u))
                .collect::<Result<_, _>>()?,
        )
        .filter(|v: &Vec<_>| !v.is_empty()),
        sysctls: opts
            .sysctls
            .iter()
            .map(|s| parse::sysctl(s, host_network))
            .collect::<Result<_, _>>()?,
        devices: opts
            .devices
            .iter()
            .map(|d| parse::device(d))
            .collect::<Result<_, _>>()?,
        init: opts.init.then_some(true),
        log_config: log,
        extra_hosts: some(
            &opts
                .add_hosts
                .iter()
                .map(|h| parse::add_host(h))
                .collect::<Result<_, _>>()?,
        ),
        dns: opts
            .dns
            .iter()
            .map(|d| parse::dns(d))
            .collect::<Result<_, _>>()?,
        shm_size: opts
            .shm_size
            .as_deref()
            .map(|s| parse::size("shm-size", s))
            .transpose()?
            .unwrap_or(64 << 20),
        cpu_quota: opts.cpu_quota.unwrap_or(0),
        cpu_period: opts.cpu_period.unwrap_or(0),
        memory_reservation: opts
            .memory_reservation
            .as_deref()
            .map(|s| parse::size("memory-reservation", s))
            .transpose()?
            .unwrap_or(0),
        oom_score_adj: opts.oom_score_adj.unwrap_or(0),
        dns_search: resolv_words("dns-search", &opts.dns_search)?,
        dns_options: resolv_words("dns-option", &opts.dns_options)?,
        group_add: opts.group_add.clone(),
        pid_mode: namespace_mode("pid", opts.pid_mode.as_deref(), &["host"])?,
        ipc_mode: namespace_mode(
            "ipc",
            opts.ipc_mode.as_deref(),
            &["host", "private", "shareable"],
        )?,
        uts_mode: namespace_mode("uts", opts.uts_mode.as_deref(), &["host"])?,
    })
}

/// Docker's checks of the CFS flags, the memory reservation and the OOM
/// score adjustment.
fn check_cpu_and_memory(hc: &HostConfig) -> Result<(), OptionError> {
    let bad = |flag: &'static str, v: i64, why: &str| {
        Err(OptionError::FlagValue(flag, v.to_string(), why.to_string()))
    };
    if hc.cpu_period != 0 && !(1000..=1_000_000).contains(&hc.cpu_period) {
        return bad("cpu-period", hc.cpu_period, "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1 second (i.e. 1000000)");
    }
    if hc.cpu_quota > 0 && hc.cpu_quota < 1000 {
        return bad(
            "cpu-quota",
            hc.cpu_quota,
            "CPU cfs quota can not be less than 1ms (i.e. 1000)",
        );
    }
    if hc.nano_cpus > 0 && (hc.cpu_quota > 0 || hc.cpu_period > 0) {
        return Err(OptionError::Conflict(
            "Conflicting options: Nano CPUs and CPU Period or Quota cannot both be set",
        ));
    }
    if !(-1000..=1000).contains(&hc.oom_score_adj) {
        return bad(
            "oom-score-adj",
            hc.oom_score_adj,
            "range for oom score adj is [-1000, 1000]",
        );
    }
    if hc.memory > 0 && hc.memory_reservation > hc.memory {
        return Err(OptionError::Conflict(
            "Minimum memory limit can not be less than memory reservation limit, see usage",
        ));
    }
    Ok(())
}

/// `--dns-search`/`--dns-option` values: one word each (they become
/// words of a resolv.conf line).
fn resolv_words(flag: &'static str, values: &[String]) -> Result<Vec<String>, OptionError> {
    for v in values {
        if v.is_empty() || v.contains(char::is_whitespace) || v.len() > 253 {
            return Err(OptionError::FlagValue(
                flag,
                v.clone(),
                "one word, without spaces".into(),
            ));
        }
    }
    Ok(values.to_vec())
}

/// `--pid`/`--ipc`/`--uts`: one of `known` or empty (the container's
/// own namespace). Docker's `container:NAME` and `none` are refused here
/// rather than ignored.
fn namespace_mode(
    flag: &'static str,
    value: Option<&str>,
    known: &[&str],
) -> Result<String, OptionError> {
    match value.unwrap_or("") {
        "" => Ok(String::new()),
        v if known.contains(&v) => Ok(v.to_string()),
        v if v.starts_with("container:") => Err(OptionError::FlagValue(
            flag,
            v.to_string(),
            "sharing another container's namespace is not supported (host is)".into(),
        )),
        v => Err(OptionError::FlagValue(
            flag,
            v.to_string(),
            format!(
                "expected {} (or nothing: the container's own)",
                known.join(", ")
            ),
        )),
    }
}

/// `--cpus` → NanoCpus, at most the host's CPUs.
pub fn cpus(value: &str, host_cpus: usize) -> Result<i64, OptionError> {
    let nano = parse::cpus(value)?;
    limits::cpus_on_host(value, nano, host_cpus)?;
    Ok(nano)
}

/// `none`, `host`, `bridge`, `default`, `container:NAME`, or a network name.
fn validate_network(n: &str) -> Result<(), OptionError> {
    let ok = match n.strip_prefix("container:") {
        Some(c) => !c.is_empty(),
        None => crate::ids::validate_name(n).is_ok(),
    };
    ok.then_some(())
        .ok_or_else(|| OptionError::Network(n.to_string()))
}

/// `seccomp=unconfined|<json>`, `no-new-privileges[=|:true|false]`;
/// `apparmor=`/`label=` are accepted and ignored (neither is enabled on
/// our hosts).
fn validate_security_opt(o: &str) -> Result<(), OptionError> {
    let bad = || OptionError::SecurityOpt(o.chars().take(80).collect());
    if o == "no-new-privileges" {
        return Ok(());
    }
    let (k, v) = o.split_once(['=', ':']).ok_or_else(bad)?;
    match k {
        "no-new-privileges" if matches!(v, "true" | "false") => Ok(()),
        "seccomp" if v == "unconfined" || serde_json::from_str::<Value>(v).is_ok() => Ok(()),
        "apparmor" | "label" => Ok(()),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests;

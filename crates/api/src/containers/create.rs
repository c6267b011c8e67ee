//! `POST /containers/create`: Docker's `Config`, `HostConfig` and
//! `NetworkingConfig` as the docker CLI, docker-py and Compose send them,
//! into the engine's [`CreateOptions`] — the same typed request `yurta
//! create` makes from its flags, so both are validated alike.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use yurta_engine::lifecycle::netns::port_bindings as port_specs;
use yurta_engine::record::PortBinding;
use yurta_engine::CreateOptions;

use crate::error::ApiError;

/// The request body: `Config` at the top level, with `HostConfig` and
/// `NetworkingConfig` inside.
#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct CreateBody {
    hostname: String,
    user: String,
    tty: bool,
    open_stdin: bool,
    exposed_ports: Option<BTreeMap<String, Value>>,
    env: Option<Vec<String>>,
    cmd: Option<StringOrList>,
    entrypoint: Option<StringOrList>,
    image: String,
    labels: Option<BTreeMap<String, String>>,
    working_dir: String,
    stop_signal: Option<String>,
    stop_timeout: Option<i64>,
    healthcheck: Option<yurta_engine::record::Healthcheck>,
    host_config: HostConfig,
    networking_config: NetworkingConfig,
}

/// `Cmd` and `Entrypoint`: a list, or (older clients) one string.
#[derive(Deserialize, Debug)]
#[serde(untagged)]
enum StringOrList {
    One(String),
    List(Vec<String>),
}

impl StringOrList {
    fn into_vec(self) -> Vec<String> {
        match self {
            StringOrList::One(s) if s.is_empty() => Vec::new(),
            StringOrList::One(s) => vec![s],
            StringOrList::List(l) => l,
        }
    }
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase", default)]
struct HostConfig {
    binds: Option<Vec<String>>,
    mounts: Option<Vec<Mount>>,
    tmpfs: Option<BTreeMap<String, String>>,
    pid_mode: String,
    ipc_mode: String,
    #[serde(rename = "UTSMode")]
    uts_mode: String,
    port_bindings: Option<BTreeMap<String, Option<Vec<HostBinding>>>>,
    publish_all_ports: bool,
    restart_policy: RestartPolicy,
    auto_remove: bool,
    network_mode: String,
    cap_add: Option<Vec<String>>,
    cap_drop: Option<Vec<String>>,
    security_opt: Option<Vec<String>>,
    privileged: bool,
    readonly_rootfs: bool,
    memory: i64,
    memory_swap: i64,
    nano_cpus: i64,
    cpu_shares: i64,
    cpuset_cpus: String,
    pids_limit: Option<i64>,
    shm_size: i64,
    ulimits: Option<Vec<Ulimit>>,
    sysctls: Option<BTreeMap<String, String>>,
    devices: Option<Vec<Device>>,
    init: Option<bool>,
    extra_hosts: Option<Vec<String>>,
    dns: Option<Vec<String>>,
    dns_search: Option<Vec<String>>,
    dns_options: Option<Vec<String>>,
    group_add: Option<Vec<String>>,
    cpu_quota: i64,
    cpu_period: i64,
    memory_reservation: i64,
    oom_score_adj: i64,
    log_config: LogConfig,
    /// Every other field, checked by [`refuse_unsupported`].
    #[serde(flatten)]
    other: BTreeMap<String, serde_json::Value>,
}

/// `HostConfig` fields yurta does not apply. A client that sets one gets
/// a 400 naming it rather than a container without it; their zero
/// values, which clients send by default, pass.
const UNSUPPORTED: [&str; 19] = [
    "VolumesFrom",
    "Links",
    "CpuRealtimePeriod",
    "CpuRealtimeRuntime",
    "CpusetMems",
    "BlkioWeight",
    "BlkioWeightDevice",
    "BlkioDeviceReadBps",
    "BlkioDeviceWriteBps",
    "BlkioDeviceReadIOps",
    "BlkioDeviceWriteIOps",
    "OomKillDisable",
    "CgroupParent",
    "UsernsMode",
    "StorageOpt",
    "DeviceCgroupRules",
    "DeviceRequests",
    "MaskedPaths",
    "ReadonlyPaths",
];

/// The first unsupported field with a value that is not its default.
fn refuse_unsupported(other: &BTreeMap<String, serde_json::Value>) -> Result<(), ApiError> {
    use serde_json::Value;
    let is_default = |v: &Value| match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    };
    for key in UNSUPPORTED {
        if let Some(v) = other.get(key).filter(|v| !is_default(v)) {
            return Err(ApiError::bad_request(format!(
                "HostConfig.{key} ({v}) is not supported by yurta"
            )));
        }
    }
    // Values that mean the default, spelled out.
    let defaults = [
        ("CgroupnsMode", &["", "private"][..]),
        ("Isolation", &["", "default"][..]),
        ("Runtime", &["", "runc", "yurta-runtime"][..]),
        ("VolumeDriver", &["", "local"][..]),
    ];
    for (key, ok) in defaults {
        if let Some(v) = other
            .get(key)
            .and_then(Value::as_str)
            .filter(|v| !ok.contains(v))
        {
            return Err(ApiError::bad_request(format!(
                "HostConfig.{key} {v:?} is not supported by yurta"
            )));
        }
    }
    Ok(())
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase", default)]
struct Mount {
    #[serde(rename = "Type")]
    kind: String,
    source: String,
    target: String,
    read_only: bool,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase", default)]
struct HostBinding {
    host_ip: String,
    host_port: String,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase", default)]
struct RestartPolicy {
    name: String,
    maximum_retry_count: i64,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase", default)]
struct Ulimit {
    name: String,
    soft: i64,
    hard: i64,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase", default)]
struct Device {
    path_on_host: String,
    path_in_container: String,
    cgroup_permissions: String,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase", default)]
struct LogConfig {
    #[serde(rename = "Type")]
    kind: String,
    #[serde(deserialize_with = "null_as_default")]
    config: BTreeMap<String, String>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase", default)]
struct NetworkingConfig {
    #[serde(deserialize_with = "null_as_default")]
    endpoints_config: BTreeMap<String, Option<EndpointConfig>>,
}

/// Compose v2 and Go clients send `null` for an empty map or string; it
/// reads as the empty value.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "PascalCase", default)]
struct EndpointConfig {
    aliases: Option<Vec<String>>,
}

/// The create request and the network aliases (`--network-alias`).
pub(crate) struct Request {
    pub options: CreateOptions,
    pub aliases: Vec<String>,
}

impl CreateBody {
    /// The engine's request; `name` from the query. Values the engine
    /// validates (sizes, signals, capabilities, ...) are passed as the
    /// CLI's flags would pass them.
    pub fn into_request(self, name: Option<String>) -> Result<Request, ApiError> {
        if self.image.is_empty() {
            return Err(ApiError::bad_request("Config.Image is empty"));
        }
        let hc = self.host_config;
        refuse_unsupported(&hc.other)?;
        if !matches!(hc.log_config.kind.as_str(), "" | "json-file") {
            return Err(ApiError::bad_request(format!(
                "log driver {:?} is not supported (json-file only)",
                hc.log_config.kind
            )));
        }
        let (entrypoint, command) = entry_and_command(self.entrypoint, self.cmd);
        let port_bindings = port_bindings(hc.port_bindings.unwrap_or_default())?;
        let mut expose: Vec<String> = self.exposed_ports.unwrap_or_default().into_keys().collect();
        expose.extend(port_bindings.keys().cloned());
        expose.dedup();
        let aliases = self
            .networking_config
            .endpoints_config
            .into_values()
            .flatten()
            .flat_map(|e| e.aliases.unwrap_or_default())
            .collect();
        let options = CreateOptions {
            name: name.filter(|n| !n.is_empty()),
            image: self.image,
            command,
            entrypoint,
            env: self.env.unwrap_or_default(),
            workdir: non_empty(self.working_dir),
            user: non_empty(self.user),
            hostname: non_empty(self.hostname),
            labels: key_values(self.labels.unwrap_or_default()),
            tty: self.tty,
            interactive: self.open_stdin,
            detach: true,
            volumes: hc.binds.unwrap_or_default(),
            dns_search: hc.dns_search.unwrap_or_default(),
            dns_options: hc.dns_options.unwrap_or_default(),
            group_add: hc.group_add.unwrap_or_default(),
            cpu_quota: (hc.cpu_quota != 0).then_some(hc.cpu_quota),
            cpu_period: (hc.cpu_period != 0).then_some(hc.cpu_period),
            memory_reservation: (hc.memory_reservation > 0)
                .then(|| hc.memory_reservation.to_string()),
            oom_score_adj: (hc.oom_score_adj != 0).then_some(hc.oom_score_adj),
            pid_mode: non_empty(hc.pid_mode),
            ipc_mode: non_empty(hc.ipc_mode),
            uts_mode: non_empty(hc.uts_mode),
            tmpfs: hc
                .tmpfs
                .unwrap_or_default()
                .into_iter()
                .map(|(path, o)| match o.is_empty() {
                    true => path,
                    false => format!("{path}:{o}"),
                })
                .collect(),
            mounts: hc
                .mounts
                .unwrap_or_default()
                .iter()
                .map(mount_flag)
                .collect(),
            read_only: hc.readonly_rootfs,
            privileged: hc.privileged,
            cap_add: hc.cap_add.unwrap_or_default(),
            cap_drop: hc.cap_drop.unwrap_or_default(),
            security_opt: hc.security_opt.unwrap_or_default(),
            memory: positive(hc.memory),
            memory_swap: (hc.memory_swap != 0).then(|| hc.memory_swap.to_string()),
            shm_size: positive(hc.shm_size),
            cpus: (hc.nano_cpus > 0).then(|| format!("{}", hc.nano_cpus as f64 / 1e9)),
            cpu_shares: (hc.cpu_shares > 0).then_some(hc.cpu_shares),
            cpuset_cpus: non_empty(hc.cpuset_cpus),
            pids_limit: hc.pids_limit.filter(|n| *n != 0),
            ulimits: hc
                .ulimits
                .unwrap_or_default()
                .iter()
                .map(|u| format!("{}={}:{}", u.name, u.soft, u.hard))
                .collect(),
            sysctls: key_values(hc.sysctls.unwrap_or_default()),
            devices: hc
                .devices
                .unwrap_or_default()
                .iter()
                .map(device_flag)
                .collect(),
            init: hc.init.unwrap_or(false),
            stop_signal: self.stop_signal.filter(|s| !s.is_empty()),
            stop_timeout: self.stop_timeout,
            healthcheck: self.healthcheck,
            restart: restart_flag(&hc.restart_policy),
            auto_remove: hc.auto_remove,
            network: non_empty(hc.network_mode).filter(|m| m != "default"),
            add_hosts: hc.extra_hosts.unwrap_or_default(),
            dns: hc.dns.unwrap_or_default(),
            log_opts: key_values(hc.log_config.config),
            publish_all: hc.publish_all_ports,
            port_bindings,
            expose,
            ..CreateOptions::default()
        };
        Ok(Request { options, aliases })
    }
}

/// Docker's `Entrypoint` list becomes `--entrypoint` (its first word) and
/// the command (its other words, then `Cmd`): the same container as
/// `docker run --entrypoint`, which also drops the image's `Cmd`.
fn entry_and_command(
    entrypoint: Option<StringOrList>,
    cmd: Option<StringOrList>,
) -> (Option<String>, Vec<String>) {
    let cmd = cmd.map(StringOrList::into_vec).unwrap_or_default();
    match entrypoint.map(StringOrList::into_vec) {
        None => (None, cmd),
        Some(e) if e.is_empty() => (Some(String::new()), cmd),
        Some(mut e) => {
            let first = e.remove(0);
            e.extend(cmd);
            (Some(first), e)
        }
    }
}

/// Docker's `PortBindings` as `-p` specs, parsed as the CLI parses them
/// (an exposed port without a binding stays exposed only).
fn port_bindings(
    given: BTreeMap<String, Option<Vec<HostBinding>>>,
) -> Result<BTreeMap<String, Vec<PortBinding>>, ApiError> {
    let mut specs = Vec::new();
    for (key, bindings) in &given {
        let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
        for b in bindings.iter().flatten() {
            specs.push(match (b.host_ip.as_str(), b.host_port.as_str()) {
                ("", "") => format!("{port}/{proto}"),
                ("", hp) => format!("{hp}:{port}/{proto}"),
                (ip, hp) => format!("{ip}:{hp}:{port}/{proto}"),
            });
        }
    }
    port_specs(&specs).map_err(|e| ApiError::bad_request(format!("invalid PortBindings: {e:#}")))
}

fn mount_flag(m: &Mount) -> String {
    let mut s = format!("type={},source={},target={}", m.kind, m.source, m.target);
    if m.source.is_empty() {
        s = format!("type={},target={}", m.kind, m.target);
    }
    if m.read_only {
        s.push_str(",readonly");
    }
    s
}

fn device_flag(d: &Device) -> String {
    let inside = if d.path_in_container.is_empty() {
        &d.path_on_host
    } else {
        &d.path_in_container
    };
    match d.cgroup_permissions.as_str() {
        "" => format!("{}:{inside}", d.path_on_host),
        p => format!("{}:{inside}:{p}", d.path_on_host),
    }
}

fn restart_flag(p: &RestartPolicy) -> Option<String> {
    match p.name.as_str() {
        "" | "no" => None,
        "on-failure" if p.maximum_retry_count > 0 => {
            Some(format!("on-failure:{}", p.maximum_retry_count))
        }
        n => Some(n.to_string()),
    }
}

fn key_values(m: BTreeMap<String, String>) -> Vec<String> {
    m.into_iter().map(|(k, v)| format!("{k}={v}")).collect()
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

fn positive(n: i64) -> Option<String> {
    (n > 0).then(|| n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nulls_of_go_clients_read_as_empty() {
        let body = r#"{"Image":"img","HostConfig":{"LogConfig":{"Type":"","Config":null}},
            "NetworkingConfig":{"EndpointsConfig":null}}"#;
        let b: CreateBody = serde_json::from_str(body).unwrap();
        assert!(b.into_request(None).is_ok());
    }

    fn request(body: &str) -> Request {
        let b: CreateBody = serde_json::from_str(body).unwrap();
        b.into_request(Some("web".into())).unwrap()
    }

    #[test]
    fn the_docker_clis_body_becomes_the_clis_options() {
        let r = request(
            r#"{"Image":"busybox","Cmd":["httpd","-f"],"Env":["A=1"],"Labels":{"x":"y"},
            "ExposedPorts":{"80/tcp":{}},"Tty":false,"OpenStdin":true,
            "HostConfig":{"Binds":["/srv:/srv:ro"],"PortBindings":{"80/tcp":[{"HostIp":"","HostPort":"8080"}]},
            "RestartPolicy":{"Name":"on-failure","MaximumRetryCount":3},"Memory":67108864,
            "NanoCpus":1500000000,"NetworkMode":"default","CapDrop":["NET_RAW"],
            "Mounts":[{"Type":"volume","Source":"data","Target":"/data","ReadOnly":true}]},
            "NetworkingConfig":{"EndpointsConfig":{"net":{"Aliases":["db"]}}}}"#,
        );
        let o = &r.options;
        assert_eq!(o.name.as_deref(), Some("web"));
        assert_eq!(o.command, ["httpd", "-f"]);
        assert_eq!(o.env, ["A=1"]);
        assert_eq!(o.labels, ["x=y"]);
        assert!(o.interactive && !o.tty);
        assert_eq!(o.volumes, ["/srv:/srv:ro"]);
        assert_eq!(o.mounts, ["type=volume,source=data,target=/data,readonly"]);
        assert_eq!(o.restart.as_deref(), Some("on-failure:3"));
        assert_eq!(o.memory.as_deref(), Some("67108864"));
        assert_eq!(o.cpus.as_deref(), Some("1.5"));
        assert_eq!(o.network, None);
        assert_eq!(o.cap_drop, ["NET_RAW"]);
        assert_eq!(o.port_bindings["80/tcp"][0].host_port, "8080");
        assert_eq!(o.expose, ["80/tcp"]);
        assert_eq!(r.aliases, ["db"]);
    }

    #[test]
    fn an_entrypoint_list_is_the_first_word_and_the_command_the_rest() {
        let r = request(r#"{"Image":"b","Entrypoint":["sh","-c"],"Cmd":["echo hi"]}"#);
        assert_eq!(r.options.entrypoint.as_deref(), Some("sh"));
        assert_eq!(r.options.command, ["-c", "echo hi"]);
        let r = request(r#"{"Image":"b","Entrypoint":[],"Cmd":"ls"}"#);
        assert_eq!(r.options.entrypoint.as_deref(), Some(""));
        assert_eq!(r.options.command, ["ls"]);
    }

    #[test]
    fn fields_yurta_does_not_apply_are_refused_unless_default() {
        let body = |hc: &str| -> CreateBody {
            serde_json::from_str(&format!(r#"{{"Image":"b","HostConfig":{{{hc}}}}}"#)).unwrap()
        };
        let defaults = r#""BlkioWeight":0,"OomKillDisable":false,"VolumesFrom":null,
            "CgroupnsMode":"","Isolation":"","MemorySwappiness":null,"ConsoleSize":[24,80]"#;
        assert!(body(defaults).into_request(None).is_ok());
        for (hc, named) in [
            (r#""VolumesFrom":["db"]"#, "HostConfig.VolumesFrom"),
            (r#""OomKillDisable":true"#, "HostConfig.OomKillDisable"),
            (
                r#""CgroupnsMode":"host""#,
                "HostConfig.CgroupnsMode \"host\"",
            ),
            (r#""Runtime":"kata""#, "HostConfig.Runtime \"kata\""),
        ] {
            let e = body(hc).into_request(None).err().expect(hc);
            assert_eq!(e.status, hyper::StatusCode::BAD_REQUEST);
            assert!(e.message.starts_with(named), "{}", e.message);
        }
    }

    #[test]
    fn bad_bodies_are_refused_with_the_value() {
        let b: CreateBody = serde_json::from_str(r#"{"Image":""}"#).unwrap();
        assert!(b.into_request(None).is_err());
        let b: CreateBody = serde_json::from_str(
            r#"{"Image":"b","HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":"x"}]}}}"#,
        )
        .unwrap();
        let e = b.into_request(None).err().unwrap();
        assert!(e.message.contains("PortBindings"), "{}", e.message);
    }
}

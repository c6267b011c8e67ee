//! A container's network: a persistent namespace file (`<dir>/netns`, a
//! bind mount of a new network namespace, as `ip netns add` makes them)
//! attached to its networks by yurta-network, and the record's
//! `NetworkSettings` filled from the endpoints.

use std::fs;
use std::path::Path;

use crate::record::{
    ContainerRecord, EndpointSettings, NetworkSettings, PortBinding as DockerBinding,
};
use crate::NetNs;
use anyhow::{bail, Context};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};
use yurta_network::{AttachRequest, Config, Networks, PortSpec};

use super::{Host, Paths};

/// The network manager; `YURTA_NET_TABLE`, `YURTA_NET_BRIDGE`,
/// `YURTA_NET_BRIDGE_PREFIX`, `YURTA_NET_VETH_PREFIX` and `YURTA_NET_TAP_PREFIX` rename yurta's
/// host objects (tests run beside a real installation with their own).
pub fn networks(host: &Host) -> anyhow::Result<Networks> {
    let cfg = Config::from_env(&host.root);
    Ok(Networks::open(cfg)?)
}

/// Makes `path` a new network namespace: a thread unshares its own
/// network namespace (per thread) and bind-mounts it on the file.
pub fn create(path: &Path) -> anyhow::Result<()> {
    fs::File::create(path).with_context(|| format!("create {}", path.display()))?;
    let target = path.to_path_buf();
    let r = std::thread::spawn(move || -> anyhow::Result<()> {
        unshare(CloneFlags::CLONE_NEWNET).context("unshare a network namespace")?;
        let tid = nix::unistd::gettid();
        let ns = format!("/proc/self/task/{tid}/ns/net");
        mount(
            Some(ns.as_str()),
            &target,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .with_context(|| format!("bind-mount the network namespace on {}", target.display()))
    })
    .join()
    .map_err(|_| anyhow::anyhow!("network namespace thread panicked"))?;
    if r.is_err() {
        let _ = fs::remove_file(path);
    }
    r
}

/// Unmounts and removes the namespace file; missing is fine.
pub fn remove(path: &Path) -> anyhow::Result<()> {
    if !path.exists() {
        return Ok(());
    }
    match umount2(path, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) => {}
        Err(e) => bail!("unmount {}: {e}", path.display()),
    }
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// Whether `path` is a bind-mounted namespace file that no process is in.
/// Then unmounting it drops the namespace's last reference, and the kernel
/// tears the namespace down with its links. A process of another container
/// sharing it (`--network container:`), or one that entered it, keeps it
/// alive. Looks at every process's `/proc/PID/ns/net` (about 3 µs each).
pub fn unused(path: &Path) -> bool {
    use nix::sys::statfs::{statfs, NSFS_MAGIC};
    use std::os::unix::fs::MetadataExt;
    let is_nsfs = statfs(path).is_ok_and(|s| s.filesystem_type() == NSFS_MAGIC);
    let Some(meta) = fs::metadata(path).ok().filter(|_| is_nsfs) else {
        return false;
    };
    let want = format!("net:[{}]", meta.ino());
    let Ok(procs) = fs::read_dir("/proc") else {
        return false;
    };
    !procs.flatten().any(|e| {
        let name = e.file_name();
        let is_pid = name.as_encoded_bytes().iter().all(u8::is_ascii_digit);
        is_pid
            && fs::read_link(e.path().join("ns/net"))
                .is_ok_and(|l| l.as_os_str().as_encoded_bytes() == want.as_bytes())
    })
}

/// The `-p` specs stored in the record (`HostConfig.PortBindings`, plus
/// every exposed port with `-P`).
fn port_specs(rec: &ContainerRecord) -> anyhow::Result<Vec<PortSpec>> {
    let mut out = Vec::new();
    let hc = &rec.host_config;
    for (key, bindings) in &hc.port_bindings {
        let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
        for b in bindings.iter().flatten() {
            let spec = format!("{}:{}:{port}/{proto}", b.host_ip, b.host_port);
            out.push(PortSpec::parse(&spec)?);
        }
    }
    if hc.publish_all_ports {
        for key in rec.config.exposed_ports.iter().flatten().map(|(k, _)| k) {
            if !hc.port_bindings.contains_key(key) {
                let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
                out.push(PortSpec::parse(&format!("{port}/{proto}"))?);
            }
        }
    }
    Ok(out)
}

/// `-p` arguments → the record's `PortBindings` (one key per container port).
pub fn port_bindings(
    publish: &[String],
) -> anyhow::Result<std::collections::BTreeMap<String, Vec<DockerBinding>>> {
    let mut map = std::collections::BTreeMap::<String, Vec<DockerBinding>>::new();
    for p in publish {
        let s = PortSpec::parse(p)?;
        let ip = s.host_ip.map(|i| i.to_string()).unwrap_or_default();
        let n = s.container.end - s.container.start;
        for i in 0..=n {
            let host = match s.host {
                None => String::new(),
                Some(h) if n == 0 && h.start != h.end => format!("{}-{}", h.start, h.end),
                Some(h) => (h.start + i).to_string(),
            };
            map.entry(format!("{}/{}", s.container.start + i, s.protocol))
                .or_default()
                .push(DockerBinding {
                    host_ip: ip.clone(),
                    host_port: host,
                });
        }
    }
    Ok(map)
}

/// What `prepare` needs from the network side.
pub struct Joined {
    pub netns: NetNs,
    pub addresses: Vec<String>,
}

/// Gives the container its network: none (a new namespace that the
/// runtime makes, lo up), host, or
/// a bridge network (namespace file, veth, address, ports). Returns the
/// record's new `NetworkSettings` for a bridge network (none, host and
/// `container:` have none of their own). Undone by `state::release`.
pub fn join(
    host: &Host,
    rec: &ContainerRecord,
    p: &Paths,
) -> anyhow::Result<(Joined, Option<NetworkSettings>)> {
    let mode = rec.host_config.network_mode.as_str();
    match mode {
        "host" => return Ok((joined(NetNs::Host, vec![]), None)),
        // The runtime creates the namespace and brings lo up (as runc):
        // no namespace file to bind-mount and unmount, no netlink here.
        // exec, stats and `container:` reach it through /proc/PID/ns/net.
        "none" => return Ok((joined(NetNs::New, vec![]), None)),
        m if m.starts_with("container:") => {
            let ns = other_netns(host, &m["container:".len()..])?;
            return Ok((joined(NetNs::Path(ns), vec![]), None));
        }
        _ => {}
    }
    let network = if mode == "default" { "bridge" } else { mode };
    let nets = networks(host)?;
    if network == "bridge" {
        nets.ensure_default()?;
    }
    create(&p.netns)?;
    let mut req = AttachRequest::new(network, &rec.id, &p.netns);
    req.container_name = rec.bare_name();
    req.aliases = rec
        .yurta
        .extra
        .get("NetworkAliases")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    req.ports = port_specs(rec)?;
    req.hosts_file = Some(p.dir.join("hosts"));
    req.dns_servers = yurta_network::files::parse_dns(&rec.host_config.dns)?;
    let ep = nets.attach(&req)?;
    let mut ports = std::collections::BTreeMap::new();
    for key in rec.config.exposed_ports.iter().flatten().map(|(k, _)| k) {
        ports.insert(key.clone(), None);
    }
    for b in &ep.ports {
        let key = format!("{}/{}", b.container_port, b.protocol);
        let v: &mut Option<Vec<DockerBinding>> = ports.entry(key).or_default();
        v.get_or_insert_with(Vec::new).push(DockerBinding {
            host_ip: b.host_ip.to_string(),
            host_port: b.host_port.to_string(),
        });
    }
    let mut ns = rec.network_settings.clone();
    ns.ip_address = ep.ip.to_string();
    ns.ip_prefix_len = ep.prefix.into();
    ns.gateway = ep.gateway.to_string();
    ns.mac_address = ep.mac.clone();
    ns.ports = ports;
    ns.sandbox_key = p.netns.display().to_string();
    ns.networks.clear();
    ns.networks
        .insert(ep.network.clone(), endpoint_settings(&ep, &req.aliases));
    let mut addresses = vec![ep.ip.to_string()];
    // The networks connected between create and start; a failure here is
    // undone with the rest by the caller's release (all endpoints go).
    for extra in super::connect::extra_networks(rec) {
        let mut req = AttachRequest::new(&extra.name, &rec.id, &p.netns);
        req.container_name = rec.bare_name();
        req.aliases = extra.aliases.clone();
        req.ip = extra.ip;
        req.hosts_file = Some(p.dir.join("hosts"));
        let ep = nets.attach(&req)?;
        ns.networks
            .insert(ep.network.clone(), endpoint_settings(&ep, &extra.aliases));
        addresses.push(ep.ip.to_string());
    }
    Ok((joined(NetNs::Path(p.netns.clone()), addresses), Some(ns)))
}

/// `--network container:NAME`: the other container's namespace file, or
/// its init's namespace (host and `none` modes included).
fn other_netns(host: &Host, name: &str) -> anyhow::Result<std::path::PathBuf> {
    let engine = crate::Engine::open(&host.root)?;
    let other = engine.containers.lookup(name)?;
    let p = Paths::new(&host.root, &other.id);
    let Some(pid) = super::state::init_pid(&p).filter(|_| other.state.running) else {
        bail!("--network container:{name}: the container is not running");
    };
    if p.netns.exists() {
        return Ok(p.netns);
    }
    Ok(format!("/proc/{pid}/ns/net").into())
}

/// The record's view of an endpoint yurta-network attached, with the
/// aliases asked for it.
pub fn endpoint_settings(ep: &yurta_network::Endpoint, aliases: &[String]) -> EndpointSettings {
    EndpointSettings {
        aliases: (!aliases.is_empty()).then(|| aliases.to_vec()),
        network_id: ep.network_id.clone(),
        endpoint_id: ep.endpoint_id.clone(),
        gateway: ep.gateway.to_string(),
        ip_address: ep.ip.to_string(),
        ip_prefix_len: ep.prefix.into(),
        mac_address: ep.mac.clone(),
    }
}

fn joined(netns: NetNs, addresses: Vec<String>) -> Joined {
    Joined { netns, addresses }
}

/// Rewrites the managed peers section of the container's /etc/hosts and,
/// on a user network, has the embedded DNS resolver serve its namespace
/// (before the container's process starts, or at `network connect`). As
/// in Docker, a resolver that cannot serve is a warning, not a failed
/// start: the container runs, with the names of its /etc/hosts.
pub fn refresh_peers(host: &Host, id: &str, hosts: &Path) -> anyhow::Result<()> {
    let nets = networks(host)?;
    let peers = nets.peers_of(id)?;
    yurta_network::files::update_peers(hosts, &peers)?;
    if nets.on_user_network(id)? {
        if let Err(e) = serve_dns(host, &Paths::new(&host.root, id)) {
            // A warning on stderr (the CLI's terminal, the service's log).
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "yurta: warning: {}", super::one_line(&e));
        }
    }
    Ok(())
}

/// The root's resolver (started if needed) answers at 127.0.0.11 in the
/// container's namespace, and its /etc/resolv.conf points there (a
/// container that started on the default network and was connected to a
/// user network gets it rewritten, in place: it is bind-mounted).
fn serve_dns(host: &Host, p: &Paths) -> anyhow::Result<()> {
    let bin = host.binaries.dns.clone();
    let start = yurta_resolver::Start::With(&bin);
    yurta_resolver::sync(&host.root, Some(&p.netns), start)?;
    let resolv = p.dir.join("resolv.conf");
    let text = fs::read_to_string(&resolv).unwrap_or_default();
    let ours = format!("nameserver {}", crate::etcfiles::EMBEDDED_DNS);
    if !text.lines().any(|l| l.trim() == ours) {
        let host = fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        let new = crate::etcfiles::embedded_resolv_conf(&host);
        fs::write(&resolv, new).with_context(|| format!("write {}", resolv.display()))?;
    }
    Ok(())
}

/// After `rename`: the container's endpoints carry the new name, so the
/// peers' /etc/hosts and the DNS resolver answer it at once.
pub fn renamed(host: &Host, id: &str, name: &str) -> anyhow::Result<()> {
    Ok(networks(host)?.rename_container(id, name)?)
}

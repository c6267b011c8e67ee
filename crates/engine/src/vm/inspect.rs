//! What a VM is and does, as JSON documents (Docker's inspect layout)
//! and the short texts lists show: the CLI's `vm inspect`/`vm ls` and the
//! web console read the same.

use serde_json::{json, Value};

use super::store::{Status, View, VmDir, VmRecord};

/// Docker's inspect layout: Name, State{…}, Config{…}.
pub fn document(vm: &VmDir, r: &VmRecord, v: &View) -> Value {
    let c = &r.config;
    let running = v.status == Status::Running;
    let live = v.live.as_ref().filter(|_| running);
    let disks: Vec<Value> = c
        .disks
        .iter()
        .enumerate()
        .map(|(i, d)| {
            json!({"Id": format!("vblk{i}"), "Path": d.path, "Format": d.format.as_str(),
                   "ReadOnly": d.readonly, "Created": d.created})
        })
        .collect();
    let networks: Vec<Value> = r
        .networks
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let tap = live.and_then(|l| l.taps.get(i));
            json!({
                "Network": n.network,
                "MacAddress": n.mac.as_str(),
                "Tap": tap.map(|t| t.tap.clone()),
                "Bridge": tap.map(|t| t.bridge.clone()),
                "IPAddress": tap.map(|t| t.ip.to_string()).or(n.ip.map(|ip| ip.to_string())),
                "IPPrefixLen": tap.map(|t| t.prefix),
                "Gateway": tap.map(|t| t.gateway.to_string()),
            })
        })
        .collect();
    json!({
        "Id": r.id,
        "Name": vm.name,
        "Created": r.created,
        "State": {
            "Status": v.status.as_str(),
            "Running": running,
            "Supervised": running && !v.unsupervised,
            "Pid": live.map(|l| l.pid).unwrap_or(0),
            "StartedAt": v.last.started_at.clone().unwrap_or_default(),
            "FinishedAt": if running { String::new() } else { v.last.finished_at.clone().unwrap_or_default() },
            "ExitReason": if running { String::new() } else { v.last.exit_reason.clone() },
        },
        "Config": {
            "Arch": c.arch.name(),
            "Machine": c.machine,
            "Accel": c.accel.as_str(),
            "AccelUsed": v.last.accel,
            "AccelReason": v.last.accel_reason,
            "Cpus": c.cpus,
            "Memory": c.memory.bytes(),
            "Kernel": c.kernel,
            "Initrd": c.initrd,
            "Cmdline": c.effective_cmdline(),
            "Image": r.image,
            "Cdrom": c.cdrom,
            "Disks": disks,
            "Networks": networks,
            "CloudInit": r.cloud_init.is_some(),
            "Display": if r.vnc { "vnc" } else { "none" },
        },
        "Vnc": live.and_then(|l| l.vnc.clone()),
        "Console": { "Log": vm.console_log(), "Socket": live.map(|_| vm.console_sock()) },
        "QemuCommand": live.map(|l| l.command.clone()),
    })
}

/// `vm ls`'s STATUS: the state, why it stopped, whether supervised.
pub fn status_text(v: &View) -> String {
    match v.status {
        Status::Running if v.unsupervised => "running (unsupervised)".into(),
        Status::Stopped if !v.last.exit_reason.is_empty() => {
            format!("stopped ({})", v.last.exit_reason)
        }
        s => s.as_str().into(),
    }
}

/// The running VM's addresses, `ip/prefix, …`.
pub fn addresses(v: &View) -> String {
    let Some(live) = &v.live else {
        return String::new();
    };
    if v.status != Status::Running {
        return String::new();
    }
    live.taps
        .iter()
        .map(|t| format!("{}/{}", t.ip, t.prefix))
        .collect::<Vec<_>>()
        .join(", ")
}

//! Mount options of config.json → mount(2) flags, propagation and data.

use nix::mount::MsFlags;

/// A mount's options, sorted into what mount(2) needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountOptions {
    /// Flags for the mount call itself.
    pub flags: MsFlags,
    /// Propagation changes applied after mounting (MS_SHARED, MS_SLAVE, ...).
    pub propagation: Vec<MsFlags>,
    /// Filesystem-specific options (mode=755,size=64k).
    pub data: String,
    /// `tmpcopyup`: copy what was at the destination into the new tmpfs.
    pub copy_up: bool,
    /// Options no kernel call understands here (idmap): rejected by the caller.
    pub unsupported: Vec<String>,
}

impl Default for MountOptions {
    fn default() -> Self {
        MountOptions {
            flags: MsFlags::empty(),
            propagation: Vec::new(),
            data: String::new(),
            copy_up: false,
            unsupported: Vec::new(),
        }
    }
}

impl MountOptions {
    /// True for bind mounts (`bind`/`rbind` options or type "bind").
    pub fn is_bind(&self) -> bool {
        self.flags.contains(MsFlags::MS_BIND)
    }
}

/// Sorts options into flags, propagation and data, as runc does.
pub fn parse(options: &[String]) -> MountOptions {
    let mut out = MountOptions::default();
    let mut data = Vec::new();
    for opt in options {
        let o = opt.as_str();
        if let Some((clear, flag)) = flag_of(o) {
            if clear {
                out.flags.remove(flag);
            } else {
                out.flags.insert(flag);
            }
        } else if let Some(p) = propagation_of(o) {
            out.propagation.push(p);
        } else if o == "defaults" {
            // mount(8)'s "defaults": nothing beyond the flags already unset.
        } else if o == "tmpcopyup" {
            out.copy_up = true;
        } else if matches!(o, "idmap" | "ridmap") || o.starts_with("idmap=") {
            out.unsupported.push(opt.clone());
        } else if matches!(
            o,
            "rro"
                | "rrw"
                | "rnosuid"
                | "rsuid"
                | "rnodev"
                | "rdev"
                | "rnoexec"
                | "rexec"
                | "rnoatime"
                | "ratime"
                | "rrelatime"
                | "rstrictatime"
                | "rnodiratime"
                | "rdiratime"
                | "rnorelatime"
                | "rnostrictatime"
        ) {
            // Recursive variants: apply the plain flag (mount_setattr would
            // also reach submounts; for the usual single mount it is the same).
            if let Some((clear, flag)) = flag_of(&o[1..]) {
                if clear {
                    out.flags.remove(flag);
                } else {
                    out.flags.insert(flag);
                }
            }
        } else {
            data.push(o);
        }
    }
    out.data = data.join(",");
    out
}

fn flag_of(o: &str) -> Option<(bool, MsFlags)> {
    Some(match o {
        "ro" => (false, MsFlags::MS_RDONLY),
        "rw" => (true, MsFlags::MS_RDONLY),
        "nosuid" => (false, MsFlags::MS_NOSUID),
        "suid" => (true, MsFlags::MS_NOSUID),
        "nodev" => (false, MsFlags::MS_NODEV),
        "dev" => (true, MsFlags::MS_NODEV),
        "noexec" => (false, MsFlags::MS_NOEXEC),
        "exec" => (true, MsFlags::MS_NOEXEC),
        "sync" => (false, MsFlags::MS_SYNCHRONOUS),
        "async" => (true, MsFlags::MS_SYNCHRONOUS),
        "dirsync" => (false, MsFlags::MS_DIRSYNC),
        "remount" => (false, MsFlags::MS_REMOUNT),
        "mand" => (false, MsFlags::MS_MANDLOCK),
        "nomand" => (true, MsFlags::MS_MANDLOCK),
        "atime" => (true, MsFlags::MS_NOATIME),
        "noatime" => (false, MsFlags::MS_NOATIME),
        "diratime" => (true, MsFlags::MS_NODIRATIME),
        "nodiratime" => (false, MsFlags::MS_NODIRATIME),
        "bind" => (false, MsFlags::MS_BIND),
        "rbind" => (false, MsFlags::MS_BIND | MsFlags::MS_REC),
        "relatime" => (false, MsFlags::MS_RELATIME),
        "norelatime" => (true, MsFlags::MS_RELATIME),
        "strictatime" => (false, MsFlags::MS_STRICTATIME),
        "nostrictatime" => (true, MsFlags::MS_STRICTATIME),
        "silent" => (false, MsFlags::MS_SILENT),
        "loud" => (true, MsFlags::MS_SILENT),
        _ => return None,
    })
}

/// Propagation option → flags (recursive ones carry MS_REC).
pub fn propagation_of(o: &str) -> Option<MsFlags> {
    Some(match o {
        "private" => MsFlags::MS_PRIVATE,
        "rprivate" => MsFlags::MS_PRIVATE | MsFlags::MS_REC,
        "shared" => MsFlags::MS_SHARED,
        "rshared" => MsFlags::MS_SHARED | MsFlags::MS_REC,
        "slave" => MsFlags::MS_SLAVE,
        "rslave" => MsFlags::MS_SLAVE | MsFlags::MS_REC,
        "unbindable" => MsFlags::MS_UNBINDABLE,
        "runbindable" => MsFlags::MS_UNBINDABLE | MsFlags::MS_REC,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(list: &[&str]) -> MountOptions {
        parse(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn flags_propagation_and_data_are_separated() {
        let o = opts(&[
            "nosuid",
            "noexec",
            "mode=755",
            "size=65536k",
            "rprivate",
            "ro",
        ]);
        assert_eq!(
            o.flags,
            MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_RDONLY
        );
        assert_eq!(o.propagation, vec![MsFlags::MS_PRIVATE | MsFlags::MS_REC]);
        assert_eq!(o.data, "mode=755,size=65536k");
    }

    #[test]
    fn later_options_win_and_rbind_is_recursive() {
        let o = opts(&["ro", "rw", "rbind"]);
        assert_eq!(o.flags, MsFlags::MS_BIND | MsFlags::MS_REC);
        assert!(o.is_bind());
    }

    #[test]
    fn special_options() {
        let o = opts(&["tmpcopyup", "idmap", "rro", "defaults"]);
        assert!(o.copy_up);
        assert_eq!(o.unsupported, vec!["idmap".to_string()]);
        assert_eq!(o.flags, MsFlags::MS_RDONLY);
        assert_eq!(o.data, "");
    }
}

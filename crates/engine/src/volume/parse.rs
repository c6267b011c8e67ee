//! `-v` and `--mount` syntax (Docker's), into one [`MountRequest`] shape.
//!
//! - `-v name:/path[:opts]` a named volume, `-v /host:/path[:opts]` a bind
//!   mount, `-v /path` an anonymous volume; opts are comma-separated `ro`,
//!   `rw`, `z`, `Z`, `nocopy` (volumes), a propagation (binds), and the
//!   ignored consistency words `consistent`, `cached`, `delegated`.
//! - `--mount type=bind|volume|tmpfs,source=,target=,readonly,...`.

use std::collections::BTreeMap;

use crate::options::parse::size;
use crate::record::{BindOptions, MountSpec, MountType, TmpfsOptions, VolumeOptions};

/// Errors of this module; each names the whole spec.
#[derive(Debug, thiserror::Error)]
pub enum VolumeSpecError {
    #[error("invalid volume specification: {spec:?}: {why}")]
    Volume { spec: String, why: String },
    #[error("invalid --mount {spec:?}: {why}")]
    Mount { spec: String, why: String },
}

/// Where a mount's content comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Named(String),
    Anonymous,
    Host(String),
    Tmpfs,
}

/// One mount asked for by `-v`, `--mount` or an image's VOLUME.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountRequest {
    pub source: Source,
    pub target: String,
    pub read_only: bool,
    /// `rprivate` unless given (binds only).
    pub propagation: String,
    pub no_copy: bool,
    /// The mode string Docker shows in `Mounts` (`ro,z`, `""`).
    pub mode: String,
    pub tmpfs_size: Option<i64>,
    pub tmpfs_mode: Option<u32>,
    pub volume_labels: BTreeMap<String, String>,
}

impl MountRequest {
    fn new(source: Source, target: &str) -> MountRequest {
        MountRequest {
            source,
            target: target.to_string(),
            read_only: false,
            propagation: String::new(),
            no_copy: false,
            mode: String::new(),
            tmpfs_size: None,
            tmpfs_mode: None,
            volume_labels: BTreeMap::new(),
        }
    }

    /// An image's `VOLUME` entry (always anonymous).
    pub fn image_volume(target: &str) -> MountRequest {
        MountRequest::new(Source::Anonymous, target)
    }

    pub fn kind(&self) -> MountType {
        match self.source {
            Source::Named(_) | Source::Anonymous => MountType::Volume,
            Source::Host(_) => MountType::Bind,
            Source::Tmpfs => MountType::Tmpfs,
        }
    }
}

const PROPAGATIONS: &[&str] = &[
    "shared", "rshared", "slave", "rslave", "private", "rprivate",
];

fn check_target(target: &str) -> Result<(), String> {
    if !target.starts_with('/') {
        return Err(format!("mount path {target:?} must be absolute"));
    }
    if target.trim_end_matches('/').is_empty() {
        return Err("destination can't be '/'".to_string());
    }
    Ok(())
}

/// Parses one `-v` value.
pub fn volume_flag(spec: &str) -> Result<MountRequest, VolumeSpecError> {
    let bad = |why: String| VolumeSpecError::Volume {
        spec: spec.to_string(),
        why,
    };
    let parts: Vec<&str> = spec.split(':').collect();
    let (src, target, mode) = match parts.as_slice() {
        [t] => (None, *t, ""),
        [s, t] => (Some(*s), *t, ""),
        [s, t, m] => (Some(*s), *t, *m),
        _ => return Err(bad("too many colons".to_string())),
    };
    check_target(target).map_err(bad)?;
    let source = match src {
        None => Source::Anonymous,
        Some("") => return Err(bad("empty source".to_string())),
        Some(s) if s.starts_with('/') => Source::Host(s.to_string()),
        Some(s) if crate::ids::validate_volume_name(s) => Source::Named(s.to_string()),
        Some(s) => {
            return Err(bad(format!(
                "{s:?} includes invalid characters for a local volume name, only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed; a host path must be absolute"
            )))
        }
    };
    let mut req = MountRequest::new(source, target);
    req.mode = mode.to_string();
    let (mut rw_seen, mut prop_seen) = (false, false);
    for opt in mode.split(',').filter(|o| !o.is_empty()) {
        match opt {
            "ro" | "rw" if rw_seen => return Err(bad("ro and rw given twice".to_string())),
            "ro" | "rw" => {
                rw_seen = true;
                req.read_only = opt == "ro";
            }
            "z" | "Z" | "consistent" | "cached" | "delegated" => {}
            "nocopy" if req.kind() == MountType::Volume => req.no_copy = true,
            p if PROPAGATIONS.contains(&p) && req.kind() == MountType::Bind && !prop_seen => {
                prop_seen = true;
                req.propagation = p.to_string();
            }
            other => return Err(bad(format!("invalid mode {other:?}"))),
        }
    }
    if req.kind() == MountType::Bind && req.propagation.is_empty() {
        req.propagation = "rprivate".to_string();
    }
    Ok(req)
}

fn bool_value(v: Option<&str>) -> Option<bool> {
    match v {
        None | Some("true") | Some("1") => Some(true),
        Some("false") | Some("0") => Some(false),
        _ => None,
    }
}

/// Parses one `--mount` value into Docker's `HostConfig.Mounts` entry.
pub fn mount_flag(spec: &str) -> Result<MountSpec, VolumeSpecError> {
    let bad = |why: String| VolumeSpecError::Mount {
        spec: spec.to_string(),
        why,
    };
    let mut m = MountSpec::default();
    let mut fields: Vec<(&str, Option<&str>)> = Vec::new();
    for field in spec.split(',') {
        let (k, v) = match field.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v)),
            None => (field.trim(), None),
        };
        if k == "type" {
            m.kind = match v {
                Some("bind") => MountType::Bind,
                Some("volume") => MountType::Volume,
                Some("tmpfs") => MountType::Tmpfs,
                _ => return Err(bad(format!("unsupported type {:?}", v.unwrap_or("")))),
            };
        } else {
            fields.push((k, v));
        }
    }
    for (k, v) in fields {
        let need = |v: Option<&str>| {
            v.map(str::to_string)
                .ok_or_else(|| bad(format!("{k} needs a value")))
        };
        match k {
            "source" | "src" => m.source = need(v)?,
            "target" | "destination" | "dst" => m.target = need(v)?,
            "readonly" | "ro" => {
                m.read_only = bool_value(v).ok_or_else(|| bad(format!("invalid value for {k}")))?
            }
            "consistency" => {}
            "bind-propagation" if m.kind == MountType::Bind => {
                let p = need(v)?;
                if !PROPAGATIONS.contains(&p.as_str()) {
                    return Err(bad(format!("invalid propagation {p:?}")));
                }
                m.bind_options = Some(BindOptions { propagation: p });
            }
            "volume-nocopy" if m.kind == MountType::Volume => {
                let no_copy = bool_value(v).ok_or_else(|| bad(format!("invalid value for {k}")))?;
                m.volume_options
                    .get_or_insert_with(VolumeOptions::default)
                    .no_copy = no_copy;
            }
            "volume-label" if m.kind == MountType::Volume => {
                let (lk, lv) = crate::options::parse::key_value(&need(v)?);
                m.volume_options
                    .get_or_insert_with(VolumeOptions::default)
                    .labels
                    .insert(lk, lv);
            }
            "volume-driver" if m.kind == MountType::Volume && v == Some("local") => {}
            "tmpfs-size" if m.kind == MountType::Tmpfs => {
                let bytes = size("tmpfs-size", &need(v)?).map_err(|e| bad(e.to_string()))?;
                m.tmpfs_options
                    .get_or_insert_with(TmpfsOptions::default)
                    .size_bytes = Some(bytes);
            }
            "tmpfs-mode" if m.kind == MountType::Tmpfs => {
                let s = need(v)?;
                let mode = u32::from_str_radix(&s, 8)
                    .ok()
                    .filter(|m| *m <= 0o7777)
                    .ok_or_else(|| bad(format!("invalid tmpfs-mode {s:?}")))?;
                m.tmpfs_options
                    .get_or_insert_with(TmpfsOptions::default)
                    .mode = Some(mode);
            }
            _ => {
                return Err(bad(format!(
                    "unexpected key {k:?} for a {} mount",
                    m.kind.as_str()
                )))
            }
        }
    }
    if m.target.is_empty() {
        return Err(bad("target is required".to_string()));
    }
    check_target(&m.target).map_err(bad)?;
    match m.kind {
        MountType::Bind if m.source.is_empty() => {
            return Err(bad("source is required for a bind mount".into()))
        }
        MountType::Bind if !m.source.starts_with('/') => {
            return Err(bad(format!(
                "bind source {:?} must be an absolute path",
                m.source
            )))
        }
        MountType::Tmpfs if !m.source.is_empty() => {
            return Err(bad("a tmpfs mount takes no source".to_string()))
        }
        MountType::Volume
            if !m.source.is_empty() && !crate::ids::validate_volume_name(&m.source) =>
        {
            return Err(bad(format!("invalid volume name {:?}", m.source)))
        }
        _ => {}
    }
    Ok(m)
}

/// The request of a `--mount` entry.
pub fn from_mount_spec(m: &MountSpec) -> MountRequest {
    let source = match m.kind {
        MountType::Bind => Source::Host(m.source.clone()),
        MountType::Tmpfs => Source::Tmpfs,
        MountType::Volume if m.source.is_empty() => Source::Anonymous,
        MountType::Volume => Source::Named(m.source.clone()),
    };
    let mut req = MountRequest::new(source, &m.target);
    req.read_only = m.read_only;
    if m.kind == MountType::Bind {
        req.propagation = m
            .bind_options
            .as_ref()
            .map(|b| b.propagation.clone())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "rprivate".to_string());
    }
    if let Some(v) = &m.volume_options {
        req.no_copy = v.no_copy;
        req.volume_labels = v.labels.clone();
    }
    if let Some(t) = &m.tmpfs_options {
        req.tmpfs_size = t.size_bytes;
        req.tmpfs_mode = t.mode;
    }
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_flags() {
        let r = volume_flag("data:/var/lib/data").unwrap();
        assert_eq!(r.source, Source::Named("data".into()));
        assert_eq!(
            (r.target.as_str(), r.read_only, r.propagation.as_str()),
            ("/var/lib/data", false, "")
        );
        let r = volume_flag("/srv:/srv:ro,rshared").unwrap();
        assert_eq!(r.source, Source::Host("/srv".into()));
        assert_eq!(
            (r.read_only, r.propagation.as_str(), r.mode.as_str()),
            (true, "rshared", "ro,rshared")
        );
        let r = volume_flag("/srv:/srv").unwrap();
        assert_eq!(r.propagation, "rprivate");
        let r = volume_flag("/cache").unwrap();
        assert_eq!(
            (r.source.clone(), r.kind()),
            (Source::Anonymous, MountType::Volume)
        );
        assert!(volume_flag("data:/d:nocopy,Z").unwrap().no_copy);
        assert!(!volume_flag("data:/d:rw").unwrap().read_only);
    }

    #[test]
    fn bad_volume_flags_name_the_spec() {
        for bad in [
            "relative",
            "data:rel",
            "a:/b:c:d",
            "/a:/b:ro,rw",
            "/a:/b:bogus",
            "da ta:/x",
            "data:/d:rshared",
            "/a:/b:nocopy",
            "data:/",
            ":/x",
        ] {
            let err = volume_flag(bad).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("invalid volume specification: {bad:?}: ")),
                "{err}"
            );
        }
    }

    #[test]
    fn mount_flags() {
        let m = mount_flag("type=bind,source=/srv,target=/data,readonly,bind-propagation=rslave")
            .unwrap();
        assert_eq!(
            (m.kind, m.source.as_str(), m.target.as_str(), m.read_only),
            (MountType::Bind, "/srv", "/data", true)
        );
        assert_eq!(from_mount_spec(&m).propagation, "rslave");
        let m = mount_flag("type=tmpfs,dst=/run,tmpfs-size=64m,tmpfs-mode=1770").unwrap();
        let r = from_mount_spec(&m);
        assert_eq!(
            (r.source, r.tmpfs_size, r.tmpfs_mode),
            (Source::Tmpfs, Some(64 << 20), Some(0o1770))
        );
        let m = mount_flag("source=vol,target=/v,volume-nocopy,volume-label=a=b,ro=false").unwrap();
        let r = from_mount_spec(&m);
        assert_eq!(
            (r.source.clone(), r.no_copy, r.read_only),
            (Source::Named("vol".into()), true, false)
        );
        assert_eq!(r.volume_labels["a"], "b");
        assert_eq!(
            from_mount_spec(&mount_flag("target=/anon").unwrap()).source,
            Source::Anonymous
        );
        let json = serde_json::to_value(mount_flag("type=bind,src=/a,dst=/b").unwrap()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"Type": "bind", "Source": "/a", "Target": "/b"})
        );
    }

    #[test]
    fn bad_mount_flags_name_the_spec() {
        for bad in [
            "type=nfs,target=/x",
            "type=bind,target=/x",
            "type=bind,source=rel,target=/x",
            "type=tmpfs,source=/a,target=/x",
            "source=v",
            "type=volume,target=/x,bind-propagation=shared",
            "type=tmpfs,target=/x,tmpfs-size=1q",
            "type=tmpfs,target=/x,tmpfs-mode=9",
            "type=bind,source=/a,target=rel",
            "target=/x,readonly=maybe",
            "target=/x,bogus=1",
        ] {
            let err = mount_flag(bad).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("invalid --mount {bad:?}: ")),
                "{err}"
            );
        }
    }
}

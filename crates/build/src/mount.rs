//! `RUN --mount=type=cache|bind|secret|tmpfs,key=value,...` as BuildKit
//! reads it. Values may use build variables; they are expanded by the
//! planner, which parses the spec again with the stage's variables.

/// What a RUN mount provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountType {
    /// Files of the context or of `from=` (a stage or an image), read-only
    /// unless `rw`; writes are discarded.
    Bind,
    /// A directory kept across builds, keyed by `id` (default: the target).
    Cache,
    Tmpfs,
    /// A `--secret` of the build, as a file (default
    /// `/run/secrets/<id>`) or an environment variable (`env=`).
    Secret,
}

/// Concurrent use of one cache mount by several builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharing {
    Shared,
    Private,
    Locked,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// The spec as written, for expansion by the planner.
    pub spec: String,
    pub kind: MountType,
    pub target: Option<String>,
    pub source: Option<String>,
    pub from: Option<String>,
    pub readonly: bool,
    pub id: Option<String>,
    pub sharing: Sharing,
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub required: bool,
    pub size: Option<u64>,
    pub env: Option<String>,
}

impl Mount {
    /// Parses a spec, passing each value through `expand` first. With
    /// `lenient`, numbers that still hold a variable are left for later.
    pub fn parse(
        spec: &str,
        expand: &dyn Fn(&str) -> Result<String, String>,
        lenient: bool,
    ) -> Result<Mount, String> {
        let mut fields = Vec::new();
        for field in spec.split(',').filter(|f| !f.is_empty()) {
            let (key, value) = match field.split_once('=') {
                Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(expand(v)?)),
                None => (field.trim().to_ascii_lowercase(), None),
            };
            fields.push((key, value));
        }
        let kind = match fields.iter().find(|(k, _)| k == "type") {
            None => MountType::Bind,
            Some((_, v)) => mount_type(v.as_deref().unwrap_or(""))?,
        };
        let mut mount = Mount {
            spec: spec.to_string(),
            kind,
            target: None,
            source: None,
            from: None,
            readonly: kind == MountType::Bind,
            id: None,
            sharing: Sharing::Shared,
            mode: None,
            uid: None,
            gid: None,
            required: false,
            size: None,
            env: None,
        };
        for (key, value) in fields {
            mount.set(&key, value, lenient)?;
        }
        mount.fill_defaults()?;
        Ok(mount)
    }

    fn set(&mut self, key: &str, value: Option<String>, lenient: bool) -> Result<(), String> {
        let text = |v: Option<String>| {
            v.ok_or_else(|| format!("mount option {key:?} needs a value ({key}=...)"))
        };
        let deferred =
            |v: &Option<String>| lenient && v.as_deref().is_some_and(|v| v.contains('$'));
        match key {
            "type" => {}
            "target" | "dst" | "destination" => self.target = Some(text(value)?),
            "source" | "src" => self.source = Some(text(value)?),
            "from" => self.from = Some(text(value)?),
            "id" => self.id = Some(text(value)?),
            "env" => self.env = Some(text(value)?),
            "readonly" | "ro" => self.readonly = boolean(key, value)?,
            "readwrite" | "rw" => self.readonly = !boolean(key, value)?,
            "required" => self.required = boolean(key, value)?,
            "sharing" => {
                self.sharing = match text(value)?.as_str() {
                    "shared" => Sharing::Shared,
                    "private" => Sharing::Private,
                    "locked" => Sharing::Locked,
                    other => return Err(format!("unsupported sharing value {other:?}")),
                }
            }
            _ if deferred(&value) => {}
            "mode" => {
                let v = text(value)?;
                self.mode = Some(
                    u32::from_str_radix(&v, 8)
                        .ok()
                        .filter(|m| *m <= 0o7777)
                        .ok_or_else(|| format!("mount mode needs an octal mode, got {v:?}"))?,
                )
            }
            "uid" | "gid" => {
                let v = text(value)?;
                let n = v
                    .parse::<u32>()
                    .map_err(|_| format!("mount {key} needs a number, got {v:?}"))?;
                if key == "uid" {
                    self.uid = Some(n);
                } else {
                    self.gid = Some(n);
                }
            }
            "size" => self.size = Some(size(&text(value)?)?),
            _ => return Err(format!("unexpected key {key:?} in mount {:?}", self.spec)),
        }
        Ok(())
    }

    fn fill_defaults(&mut self) -> Result<(), String> {
        match self.kind {
            MountType::Secret => {
                if self.id.is_none() {
                    let base = self
                        .target
                        .as_deref()
                        .and_then(|t| t.rsplit('/').find(|s| !s.is_empty()));
                    self.id = base.map(str::to_string);
                }
                let Some(id) = self.id.clone() else {
                    return Err("secret mount needs an id or a target".into());
                };
                if self.target.is_none() && self.env.is_none() {
                    self.target = Some(format!("/run/secrets/{id}"));
                }
            }
            _ => {
                if self.target.is_none() {
                    return Err(format!("mount {:?} needs a target", self.spec));
                }
                if self.kind == MountType::Cache && self.id.is_none() {
                    self.id = self.target.clone();
                }
            }
        }
        if self.kind != MountType::Cache && self.sharing != Sharing::Shared {
            return Err("sharing applies to cache mounts only".into());
        }
        if self.from.is_some() && !matches!(self.kind, MountType::Bind | MountType::Cache) {
            return Err("from= applies to bind and cache mounts only".into());
        }
        Ok(())
    }
}

fn mount_type(v: &str) -> Result<MountType, String> {
    match v.to_ascii_lowercase().as_str() {
        "bind" => Ok(MountType::Bind),
        "cache" => Ok(MountType::Cache),
        "tmpfs" => Ok(MountType::Tmpfs),
        "secret" => Ok(MountType::Secret),
        "ssh" => Err("mount type \"ssh\" is not supported".into()),
        other => Err(format!("unsupported mount type {other:?}")),
    }
}

fn boolean(key: &str, value: Option<String>) -> Result<bool, String> {
    match value.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("true") | Some("1") => Ok(true),
        Some("false") | Some("0") => Ok(false),
        Some(other) => Err(format!(
            "mount option {key} takes true or false, got {other:?}"
        )),
    }
}

/// `64m`, `1g`, `4096`, `512kb`: bytes with an optional binary unit.
fn size(v: &str) -> Result<u64, String> {
    let lower = v.trim().to_ascii_lowercase();
    let digits_end = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (number, unit) = lower.split_at(digits_end);
    let shift = match unit.trim_end_matches('b').trim_end_matches('i') {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        _ => return Err(format!("invalid mount size {v:?}")),
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1u64 << shift))
        .ok_or_else(|| format!("invalid mount size {v:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(spec: &str) -> Result<Mount, String> {
        Mount::parse(spec, &|v| Ok(v.to_string()), false)
    }

    #[test]
    fn mounts_get_buildkits_defaults() {
        let m = parse("type=cache,target=/root/.cache").unwrap();
        assert_eq!(m.kind, MountType::Cache);
        assert_eq!(m.id.as_deref(), Some("/root/.cache"));
        assert!(!m.readonly);
        let m = parse("target=/src").unwrap();
        assert_eq!(m.kind, MountType::Bind);
        assert!(m.readonly);
        let m = parse("type=bind,from=builder,source=/out,target=/in,rw").unwrap();
        assert_eq!(m.from.as_deref(), Some("builder"));
        assert!(!m.readonly);
        let m = parse("type=secret,id=token").unwrap();
        assert_eq!(m.target.as_deref(), Some("/run/secrets/token"));
        let m = parse("type=secret,target=/etc/key.pem,required").unwrap();
        assert_eq!(m.id.as_deref(), Some("key.pem"));
        assert!(m.required);
        let m = parse("type=secret,id=t,env=TOKEN").unwrap();
        assert_eq!((m.target, m.env.as_deref()), (None, Some("TOKEN")));
        let m = parse("type=tmpfs,target=/tmp,size=64m").unwrap();
        assert_eq!(m.size, Some(64 << 20));
        let m = parse("type=cache,target=/c,sharing=locked,mode=0700,uid=1000,gid=1000").unwrap();
        assert_eq!(
            (m.sharing, m.mode, m.uid, m.gid),
            (Sharing::Locked, Some(0o700), Some(1000), Some(1000))
        );
    }

    #[test]
    fn bad_mounts_say_what_is_wrong() {
        let cases = [
            ("type=volume,target=/x", "unsupported mount type \"volume\""),
            ("type=ssh", "not supported"),
            ("type=cache", "needs a target"),
            ("type=secret", "needs an id or a target"),
            (
                "type=cache,target=/x,sharing=all",
                "unsupported sharing value",
            ),
            ("type=cache,target=/x,mode=rwx", "octal"),
            ("type=cache,target=/x,uid=me", "needs a number"),
            ("type=tmpfs,target=/x,size=lots", "invalid mount size"),
            ("target=/x,colour=blue", "unexpected key \"colour\""),
            ("type=tmpfs,target=/x,sharing=locked", "cache mounts only"),
            ("type=secret,id=a,from=x", "bind and cache"),
            ("target=/x,ro=maybe", "true or false"),
        ];
        for (spec, want) in cases {
            let err = parse(spec).unwrap_err();
            assert!(err.contains(want), "{spec}: {err}");
        }
    }

    #[test]
    fn variables_in_numbers_wait_for_expansion() {
        let m = Mount::parse(
            "type=cache,target=/c,uid=$UID",
            &|v| Ok(v.to_string()),
            true,
        )
        .unwrap();
        assert_eq!(m.uid, None);
        let m = Mount::parse(
            "type=cache,target=/c,uid=$UID",
            &|v| Ok(v.replace("$UID", "7")),
            false,
        )
        .unwrap();
        assert_eq!(m.uid, Some(7));
    }
}

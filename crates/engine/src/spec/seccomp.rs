//! The seccomp part of a container's spec: Docker's default profile for
//! the container's capabilities, none (`seccomp=unconfined`,
//! `--privileged`), or a profile given with `--security-opt seccomp=FILE`
//! in Docker's format (`archMap`, `includes`/`excludes` by capability and
//! architecture) or already in OCI form.

use serde_json::{json, Map, Value};

use super::SpecError;

/// What `--security-opt` and `--privileged` ask for.
#[derive(Debug, Clone, PartialEq)]
pub enum Seccomp {
    Default,
    Unconfined,
    Profile(Value),
}

/// The choice made by a container's security options.
pub fn choice(security_opt: &[String], privileged: bool) -> Result<Seccomp, SpecError> {
    let mut out = if privileged {
        Seccomp::Unconfined
    } else {
        Seccomp::Default
    };
    for o in security_opt {
        let Some(v) = o
            .strip_prefix("seccomp=")
            .or_else(|| o.strip_prefix("seccomp:"))
        else {
            continue;
        };
        out = if v == "unconfined" {
            Seccomp::Unconfined
        } else {
            let profile = serde_json::from_str(v).map_err(|e| SpecError::Seccomp(e.to_string()))?;
            Seccomp::Profile(profile)
        };
    }
    Ok(out)
}

/// `linux.seccomp` for the choice (None: no filter).
pub fn linux_seccomp(choice: &Seccomp, caps: &[String]) -> Result<Option<Value>, SpecError> {
    match choice {
        Seccomp::Unconfined => Ok(None),
        Seccomp::Default => {
            let profile = yurta_seccomp::default_profile(caps);
            Ok(Some(
                serde_json::to_value(profile).expect("a profile serializes"),
            ))
        }
        Seccomp::Profile(p) => convert(p, caps, yurta_seccomp::native_arch_names()).map(Some),
    }
}

/// Docker's profile format → OCI's, for a host whose architectures are
/// `native` (native first).
pub fn convert(profile: &Value, caps: &[String], native: &[&str]) -> Result<Value, SpecError> {
    let obj = profile
        .as_object()
        .ok_or_else(|| SpecError::Seccomp("the profile is not a JSON object".to_string()))?;
    let default_action = obj
        .get("defaultAction")
        .and_then(Value::as_str)
        .ok_or_else(|| SpecError::Seccomp("the profile has no defaultAction".to_string()))?;
    let mut out = Map::new();
    out.insert("defaultAction".into(), json!(default_action));
    for k in [
        "defaultErrnoRet",
        "flags",
        "listenerPath",
        "listenerMetadata",
    ] {
        if let Some(v) = obj.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    let mut arches: Vec<Value> = obj
        .get("architectures")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(map) = obj.get("archMap").and_then(Value::as_array) {
        for entry in map {
            if entry["architecture"].as_str() == native.first().copied() {
                arches.push(entry["architecture"].clone());
                arches.extend(
                    entry["subArchitectures"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default(),
                );
            }
        }
    }
    if !arches.is_empty() {
        out.insert("architectures".into(), Value::Array(arches));
    }
    let arch = native.first().copied().unwrap_or_default();
    let has_cap = |c: &Value| c.as_str().is_some_and(|c| caps.iter().any(|h| h == c));
    let has_arch = |a: &Value| a.as_str() == Some(arch);
    let mut syscalls = Vec::new();
    for s in obj
        .get("syscalls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let list = |v: &Value, k: &str| {
            v.get(k)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let inc = s.get("includes").cloned().unwrap_or(Value::Null);
        let exc = s.get("excludes").cloned().unwrap_or(Value::Null);
        if !list(&inc, "caps").iter().all(has_cap)
            || (!list(&inc, "arches").is_empty() && !list(&inc, "arches").iter().any(has_arch))
            || list(&exc, "caps").iter().any(has_cap)
            || list(&exc, "arches").iter().any(has_arch)
        {
            continue;
        }
        let mut names = list(s, "names");
        if let Some(n) = s.get("name") {
            names.push(n.clone());
        }
        let mut rule = Map::new();
        rule.insert("names".into(), Value::Array(names));
        for k in ["action", "errnoRet", "args"] {
            if let Some(v) = s.get(k).filter(|v| !v.is_null()) {
                rule.insert(k.into(), v.clone());
            }
        }
        syscalls.push(Value::Object(rule));
    }
    out.insert("syscalls".into(), Value::Array(syscalls));
    let value = Value::Object(out);
    serde_json::from_value::<oci_spec::runtime::LinuxSeccomp>(value.clone())
        .map_err(|e| SpecError::Seccomp(e.to_string()))?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices() {
        assert_eq!(choice(&[], false).unwrap(), Seccomp::Default);
        assert_eq!(choice(&[], true).unwrap(), Seccomp::Unconfined);
        assert_eq!(
            choice(&["seccomp=unconfined".into()], false).unwrap(),
            Seccomp::Unconfined
        );
        let p = choice(
            &["seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\"}".into()],
            true,
        )
        .unwrap();
        assert!(matches!(p, Seccomp::Profile(_)));
        assert!(choice(&["seccomp={".into()], false).is_err());
    }

    #[test]
    fn docker_profiles_become_oci() {
        let docker = json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "defaultErrnoRet": 1,
            "archMap": [
                {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
                {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}
            ],
            "syscalls": [
                {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW", "args": [], "comment": "", "includes": {}, "excludes": {}},
                {"names": ["reboot"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_BOOT"]}},
                {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "SCMP_ARCH_X86_64"]}},
                {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_KILL"]}},
                {"name": "exit", "action": "SCMP_ACT_ALLOW"}
            ]
        });
        let caps = vec!["CAP_KILL".to_string()];
        let oci = convert(&docker, &caps, &["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]).unwrap();
        assert_eq!(
            oci,
            json!({
                "defaultAction": "SCMP_ACT_ERRNO",
                "defaultErrnoRet": 1,
                "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                "syscalls": [
                    {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW", "args": []},
                    {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW"},
                    {"names": ["exit"], "action": "SCMP_ACT_ALLOW"}
                ]
            })
        );
        let err = convert(&json!({"syscalls": []}), &caps, &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("defaultAction"), "{err}");
        let err = convert(&json!({"defaultAction": "SCMP_ACT_NOPE"}), &caps, &[]).unwrap_err();
        assert!(err.to_string().contains("SCMP_ACT_NOPE"), "{err}");
    }
}

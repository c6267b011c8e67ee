//! The configuration instructions of a build (ENV, WORKDIR, USER, EXPOSE,
//! LABEL, ENTRYPOINT, CMD, VOLUME, SHELL, STOPSIGNAL, HEALTHCHECK,
//! ONBUILD) applied to an image's run configuration, Docker's way: the
//! shell form of ENTRYPOINT and CMD goes through the stage's SHELL, an
//! ENTRYPOINT clears a CMD the base image had, `Shell`, `Healthcheck` and
//! `OnBuild` are kept in Docker's fields of the config.

use serde_json::{json, Value};
use yurta_build::ast::{Command, Healthcheck};
use yurta_build::plan::Op;
use yurta_images::spec::RunConfig;

/// The shell of shell-form commands when no SHELL was given.
pub const DEFAULT_SHELL: [&str; 2] = ["/bin/sh", "-c"];

/// The config's SHELL, or the default.
pub fn shell(run: &RunConfig) -> Vec<String> {
    run.extra
        .get("Shell")
        .and_then(|v| serde_json::from_value::<Vec<String>>(v.clone()).ok())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_SHELL.iter().map(|s| s.to_string()).collect())
}

/// The argv of `command`: as written (exec form) or through the shell.
pub fn argv(command: &Command, shell: &[String]) -> Vec<String> {
    match command {
        Command::Exec(v) => v.clone(),
        Command::Shell(s) => shell.iter().cloned().chain([s.clone()]).collect(),
    }
}

/// Applies a configuration op; false for an op that is not one (RUN,
/// COPY, ADD, WORKDIR's directory is the caller's).
pub fn apply(run: &mut RunConfig, op: &Op) -> bool {
    match op {
        Op::Env(pairs) => {
            for (k, v) in pairs {
                set_env(run, k, v);
            }
        }
        Op::Workdir(dir) => run.working_dir = Some(dir.clone()),
        Op::User(u) => run.user = Some(u.clone()),
        Op::Expose(ports) => {
            let map = run.exposed_ports.get_or_insert_with(Default::default);
            for p in ports {
                map.insert(p.clone(), json!({}));
            }
        }
        Op::Label(pairs) => {
            let map = run.labels.get_or_insert_with(Default::default);
            for (k, v) in pairs {
                map.insert(k.clone(), v.clone());
            }
        }
        Op::Entrypoint(c) => {
            run.entrypoint = Some(argv(c, &shell(run)));
            // Docker: a new ENTRYPOINT drops the CMD the base image had.
            run.cmd = None;
        }
        Op::Cmd(c) => run.cmd = Some(argv(c, &shell(run))),
        Op::Volume(paths) => {
            let map = run.volumes.get_or_insert_with(Default::default);
            for p in paths {
                map.insert(p.clone(), json!({}));
            }
        }
        Op::Shell(s) => {
            run.extra.insert("Shell".into(), json!(s));
        }
        Op::StopSignal(s) => run.stop_signal = Some(s.clone()),
        Op::Healthcheck(h) => {
            run.extra.insert("Healthcheck".into(), healthcheck(h));
        }
        Op::Onbuild(trigger) => {
            let list = run
                .extra
                .entry("OnBuild")
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(a) = list {
                a.push(Value::String(trigger.clone()));
            }
        }
        Op::Maintainer(_) => {}
        Op::Run { .. } | Op::Copy(_) => return false,
    }
    true
}

/// Sets `key=value` in the config's environment, replacing an earlier one.
pub fn set_env(run: &mut RunConfig, key: &str, value: &str) {
    let env = run.env.get_or_insert_with(Vec::new);
    let entry = format!("{key}={value}");
    match env
        .iter_mut()
        .find(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k) == key)
    {
        Some(e) => *e = entry,
        None => env.push(entry),
    }
}

/// Docker's `Healthcheck` object (durations in nanoseconds); a shell form
/// is `CMD-SHELL`, run through the container's shell, as Docker's.
fn healthcheck(h: &Healthcheck) -> Value {
    let (command, options) = match h {
        Healthcheck::None => return json!({ "Test": ["NONE"] }),
        Healthcheck::Check { command, options } => (command, options),
    };
    let test: Vec<String> = match command {
        Command::Exec(v) => ["CMD".to_string()].into_iter().chain(v.clone()).collect(),
        Command::Shell(s) => vec!["CMD-SHELL".into(), s.clone()],
    };
    let mut v = json!({ "Test": test });
    let nanos = |d: &std::time::Duration| json!(d.as_nanos() as u64);
    if let Some(d) = &options.interval {
        v["Interval"] = nanos(d);
    }
    if let Some(d) = &options.timeout {
        v["Timeout"] = nanos(d);
    }
    if let Some(d) = &options.start_period {
        v["StartPeriod"] = nanos(d);
    }
    if let Some(d) = &options.start_interval {
        v["StartInterval"] = nanos(d);
    }
    if let Some(r) = options.retries {
        v["Retries"] = json!(r);
    }
    v
}

/// The history's `created_by` of a step, as Docker's classic builder
/// writes it: `/bin/sh -c #(nop)  CMD ["sh"]` for configuration, the
/// command for RUN.
pub fn created_by(original: &str, shell: &[String]) -> String {
    format!("{} #(nop)  {}", shell.join(" "), original.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> RunConfig {
        RunConfig::default()
    }

    #[test]
    fn env_replaces_and_appends() {
        let mut r = cfg();
        apply(
            &mut r,
            &Op::Env(vec![("A".into(), "1".into()), ("B".into(), "2".into())]),
        );
        apply(&mut r, &Op::Env(vec![("A".into(), "3".into())]));
        assert_eq!(r.env.unwrap(), vec!["A=3", "B=2"]);
    }

    #[test]
    fn entrypoint_clears_the_base_cmd_and_shell_form_uses_shell() {
        let mut r = cfg();
        r.cmd = Some(vec!["sh".into()]);
        apply(&mut r, &Op::Shell(vec!["/bin/bash".into(), "-ec".into()]));
        apply(&mut r, &Op::Entrypoint(Command::Shell("run me".into())));
        assert_eq!(r.cmd, None);
        assert_eq!(
            r.entrypoint.clone().unwrap(),
            vec!["/bin/bash", "-ec", "run me"]
        );
        apply(&mut r, &Op::Cmd(Command::Exec(vec!["x".into()])));
        assert_eq!(r.cmd.unwrap(), vec!["x"]);
    }

    #[test]
    fn healthcheck_in_nanoseconds() {
        let mut r = cfg();
        let h = Healthcheck::Check {
            command: Command::Shell("true".into()),
            options: yurta_build::ast::HealthOptions {
                interval: Some(std::time::Duration::from_secs(5)),
                retries: Some(2),
                ..Default::default()
            },
        };
        apply(&mut r, &Op::Healthcheck(h));
        let v = &r.extra["Healthcheck"];
        assert_eq!(v["Test"], json!(["CMD-SHELL", "true"]));
        assert_eq!(v["Interval"], json!(5_000_000_000u64));
        assert_eq!(v["Retries"], json!(2));
    }

    #[test]
    fn ports_labels_volumes_onbuild() {
        let mut r = cfg();
        apply(&mut r, &Op::Expose(vec!["80/tcp".into()]));
        apply(&mut r, &Op::Label(vec![("a".into(), "b".into())]));
        apply(&mut r, &Op::Volume(vec!["/data".into()]));
        apply(&mut r, &Op::Onbuild("RUN true".into()));
        assert!(r.exposed_ports.unwrap().contains_key("80/tcp"));
        assert_eq!(r.labels.unwrap()["a"], "b");
        assert!(r.volumes.unwrap().contains_key("/data"));
        assert_eq!(r.extra["OnBuild"], json!(["RUN true"]));
    }
}

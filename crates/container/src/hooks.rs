//! Running OCI hooks: the hook gets the container's state JSON on stdin.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use oci_spec::runtime::Hook;

use crate::error::{Error, Result};

/// Runs `hooks` of `kind` in order, stopping at the first failure.
pub fn run(kind: &str, hooks: &[Hook], state_json: &str) -> Result<()> {
    for hook in hooks {
        run_one(kind, hook, state_json)?;
    }
    Ok(())
}

/// Runs every hook even if some fail, and reports all failures (for poststop).
pub fn run_all(kind: &str, hooks: &[Hook], state_json: &str) -> Vec<Error> {
    hooks
        .iter()
        .filter_map(|h| run_one(kind, h, state_json).err())
        .collect()
}

fn run_one(kind: &str, hook: &Hook, state_json: &str) -> Result<()> {
    let path = hook.path().display().to_string();
    let fail = |message: String| Error::Hook {
        kind: kind.to_string(),
        path: path.clone(),
        message,
    };
    let mut cmd = Command::new(hook.path());
    if let Some(args) = hook.args() {
        if let Some((arg0, rest)) = args.split_first() {
            cmd.arg0(arg0).args(rest);
        }
    }
    cmd.env_clear();
    for kv in hook.env().iter().flatten() {
        if let Some((k, v)) = kv.split_once('=') {
            cmd.env(k, v);
        }
    }
    cmd.stdin(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| fail(format!("cannot start: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook may exit without reading its stdin: ignore EPIPE.
        let _ = stdin.write_all(state_json.as_bytes());
    }
    let deadline = hook
        .timeout()
        .map(|t| Instant::now() + Duration::from_secs(t.max(1) as u64));
    let status = loop {
        match child.try_wait().map_err(|e| fail(e.to_string()))? {
            Some(status) => break status,
            None => match deadline {
                Some(d) if Instant::now() >= d => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(fail(format!(
                        "timed out after {}s",
                        hook.timeout().unwrap_or(0)
                    )));
                }
                Some(_) => std::thread::sleep(Duration::from_millis(2)),
                None => break child.wait().map_err(|e| fail(e.to_string()))?,
            },
        }
    };
    if status.success() {
        Ok(())
    } else {
        Err(fail(format!("exited with {status}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::HookBuilder;

    #[test]
    fn hook_gets_state_and_env_and_failures_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let hook = HookBuilder::default()
            .path("/bin/sh")
            .args(vec![
                "sh".into(),
                "-c".into(),
                format!("cat > {}; echo $X >> {}", out.display(), out.display()),
            ])
            .env(vec!["X=42".into()])
            .build()
            .unwrap();
        run("prestart", &[hook], "{\"id\":\"c\"}").unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "{\"id\":\"c\"}42\n");

        let bad = HookBuilder::default().path("/bin/false").build().unwrap();
        let err = run("createRuntime", &[bad], "{}").unwrap_err().to_string();
        assert!(
            err.contains("/bin/false") && err.contains("createRuntime"),
            "{err}"
        );

        let slow = HookBuilder::default()
            .path("/bin/sleep")
            .args(vec!["sleep".into(), "5".into()])
            .timeout(1i64)
            .build()
            .unwrap();
        let err = run("poststart", &[slow], "{}").unwrap_err().to_string();
        assert!(err.contains("timed out"), "{err}");
    }
}

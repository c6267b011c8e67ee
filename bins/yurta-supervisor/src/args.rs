//! The command line (see docs/supervisor.md). Parsed by hand: clap would be
//! a third of the binary, and the engine is the only caller.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    No,
    /// Restart after a non-zero exit; at most this many times (0 = no limit).
    OnFailure(u32),
    Always,
    UnlessStopped,
}

#[derive(Debug)]
pub struct Args {
    pub runtime: PathBuf,
    pub runtime_root: PathBuf,
    pub bundle: PathBuf,
    pub id: String,
    pub pid_file: PathBuf,
    pub log_path: Option<PathBuf>,
    pub log_max_size: u64,
    pub log_max_files: u32,
    pub exit_file: Option<PathBuf>,
    pub sync_fd: Option<i32>,
    pub tty: bool,
    pub stdin: bool,
    pub attach_socket: Option<PathBuf>,
    /// An inherited, connected SOCK_SEQPACKET socket: the first attach
    /// client, there before the container starts (a foreground `run`).
    pub attach_fd: Option<i32>,
    pub restart: Restart,
    pub stop_file: Option<PathBuf>,
    pub cgroup_oom: Option<PathBuf>,
    pub supervisor_pid_file: Option<PathBuf>,
    pub exit_command: Option<PathBuf>,
    pub exit_command_args: Vec<OsString>,
    /// Skip the exit command while another process holds an flock on this
    /// file (the engine cleaning up after the container itself).
    pub exit_command_lock: Option<PathBuf>,
    /// The health monitor, run after every start with `--pid INIT` added
    /// and stopped when the init exits.
    pub health_command: Option<PathBuf>,
    pub health_command_args: Vec<OsString>,
    /// The event journal (`<root>/events`): start, die and oom are
    /// recorded there with `event_attrs` (the container's name, image and
    /// labels, which the supervisor does not otherwise know).
    pub events_dir: Option<PathBuf>,
    pub event_attrs: Vec<(String, String)>,
}

pub const USAGE: &str =
    "usage: yurta-supervisor --runtime PATH --runtime-root DIR --bundle DIR --id ID \
--pid-file FILE [--log-path FILE] [--log-max-size BYTES] [--log-max-files N] [--exit-file FILE] \
[--sync-fd N] [--tty] [--stdin] [--attach-socket PATH [--attach-fd N]] \
[--restart no|on-failure[:N]|always|unless-stopped] [--stop-file FILE] [--cgroup-oom PATH] \
[--supervisor-pid-file FILE] [--exit-command PATH [--exit-command-arg ARG]... \
[--exit-command-lock FILE]] [--health-command PATH [--health-command-arg ARG]...] \
[--events-dir DIR [--event-attr KEY=VALUE]...]";

impl Args {
    pub fn parse(argv: impl IntoIterator<Item = OsString>) -> Result<Args, Error> {
        let mut b = Builder::default();
        let mut it = argv.into_iter().skip(1);
        while let Some(arg) = it.next() {
            let arg = arg
                .into_string()
                .map_err(|a| Error(format!("argument {a:?} is not UTF-8")))?;
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(OsString::from(v))),
                _ => (arg.clone(), None),
            };
            if name == "--tty" || name == "--stdin" {
                b.flag(&name, inline)?;
                continue;
            }
            let value = match inline {
                Some(v) => v,
                None => it
                    .next()
                    .ok_or_else(|| Error(format!("{name} needs a value")))?,
            };
            b.set(&name, value)?;
        }
        b.finish()
    }
}

#[derive(Default)]
struct Builder {
    runtime: Option<PathBuf>,
    runtime_root: Option<PathBuf>,
    bundle: Option<PathBuf>,
    id: Option<String>,
    pid_file: Option<PathBuf>,
    log_path: Option<PathBuf>,
    log_max_size: u64,
    log_max_files: Option<u32>,
    exit_file: Option<PathBuf>,
    sync_fd: Option<i32>,
    tty: bool,
    stdin: bool,
    attach_socket: Option<PathBuf>,
    attach_fd: Option<i32>,
    restart: Option<Restart>,
    stop_file: Option<PathBuf>,
    cgroup_oom: Option<PathBuf>,
    supervisor_pid_file: Option<PathBuf>,
    exit_command: Option<PathBuf>,
    exit_command_args: Vec<OsString>,
    exit_command_lock: Option<PathBuf>,
    health_command: Option<PathBuf>,
    health_command_args: Vec<OsString>,
    events_dir: Option<PathBuf>,
    event_attrs: Vec<(String, String)>,
}

impl Builder {
    fn flag(&mut self, name: &str, value: Option<OsString>) -> Result<(), Error> {
        let on = match value.as_ref().and_then(|v| v.to_str()) {
            None if value.is_none() => true,
            Some("true") => true,
            Some("false") => false,
            _ => {
                return Err(Error(format!(
                    "{name} takes no value or true/false, not {value:?}"
                )))
            }
        };
        match name {
            "--tty" => self.tty = on,
            _ => self.stdin = on,
        }
        Ok(())
    }

    fn set(&mut self, name: &str, v: OsString) -> Result<(), Error> {
        match name {
            "--runtime" => self.runtime = Some(abs(name, v)?),
            "--runtime-root" => self.runtime_root = Some(abs(name, v)?),
            "--bundle" => self.bundle = Some(abs(name, v)?),
            "--id" => self.id = Some(id(v)?),
            "--pid-file" => self.pid_file = Some(abs(name, v)?),
            "--log-path" => self.log_path = Some(abs(name, v)?),
            "--log-max-size" => self.log_max_size = num(name, &v)?,
            "--log-max-files" => self.log_max_files = Some(num(name, &v)?),
            "--exit-file" => self.exit_file = Some(abs(name, v)?),
            "--sync-fd" => self.sync_fd = Some(inherited_fd(name, &v)?),
            "--attach-fd" => self.attach_fd = Some(inherited_fd(name, &v)?),
            "--attach-socket" => self.attach_socket = Some(abs(name, v)?),
            "--restart" => self.restart = Some(restart(&v)?),
            "--stop-file" => self.stop_file = Some(abs(name, v)?),
            "--cgroup-oom" => self.cgroup_oom = Some(abs(name, v)?),
            "--supervisor-pid-file" => self.supervisor_pid_file = Some(abs(name, v)?),
            "--exit-command" => self.exit_command = Some(abs(name, v)?),
            "--exit-command-arg" => self.exit_command_args.push(v),
            "--exit-command-lock" => self.exit_command_lock = Some(abs(name, v)?),
            "--health-command" => self.health_command = Some(abs(name, v)?),
            "--health-command-arg" => self.health_command_args.push(v),
            "--events-dir" => self.events_dir = Some(abs(name, v)?),
            "--event-attr" => self.event_attrs.push(key_value(name, v)?),
            _ => return Err(Error(format!("unknown option {name:?}; {USAGE}"))),
        }
        Ok(())
    }

    fn finish(self) -> Result<Args, Error> {
        let need = |name: &str| Error(format!("{name} is required; {USAGE}"));
        let log_max_files = self.log_max_files.unwrap_or(1);
        if log_max_files == 0 {
            return Err(Error("--log-max-files 0: at least 1 file is kept".into()));
        }
        if self.attach_fd.is_some() && self.attach_socket.is_none() {
            return Err(Error("--attach-fd needs --attach-socket".into()));
        }
        Ok(Args {
            runtime: self.runtime.ok_or_else(|| need("--runtime"))?,
            runtime_root: self.runtime_root.ok_or_else(|| need("--runtime-root"))?,
            bundle: self.bundle.ok_or_else(|| need("--bundle"))?,
            id: self.id.ok_or_else(|| need("--id"))?,
            pid_file: self.pid_file.ok_or_else(|| need("--pid-file"))?,
            log_path: self.log_path,
            log_max_size: self.log_max_size,
            log_max_files,
            exit_file: self.exit_file,
            sync_fd: self.sync_fd,
            tty: self.tty,
            stdin: self.stdin,
            attach_socket: self.attach_socket,
            attach_fd: self.attach_fd,
            restart: self.restart.unwrap_or(Restart::No),
            stop_file: self.stop_file,
            cgroup_oom: self.cgroup_oom,
            supervisor_pid_file: self.supervisor_pid_file,
            exit_command: self.exit_command,
            exit_command_args: self.exit_command_args,
            exit_command_lock: self.exit_command_lock,
            health_command: self.health_command,
            health_command_args: self.health_command_args,
            events_dir: self.events_dir,
            event_attrs: self.event_attrs,
        })
    }
}

fn abs(name: &str, v: OsString) -> Result<PathBuf, Error> {
    let p = PathBuf::from(v);
    if !p.is_absolute() {
        return Err(Error(format!(
            "{name} {}: not an absolute path",
            p.display()
        )));
    }
    Ok(p)
}

fn key_value(name: &str, v: OsString) -> Result<(String, String), Error> {
    let s = v.to_string_lossy().into_owned();
    match s.split_once('=') {
        Some((k, val)) if !k.is_empty() => Ok((k.to_string(), val.to_string())),
        _ => Err(Error(format!("{name} {s:?}: expected KEY=VALUE"))),
    }
}

fn id(v: OsString) -> Result<String, Error> {
    let s = v.to_string_lossy().into_owned();
    if s.is_empty() || s.contains('/') || s.starts_with('-') {
        return Err(Error(format!("--id {s:?}: not a container id")));
    }
    Ok(s)
}

fn num<T: std::str::FromStr>(name: &str, v: &OsString) -> Result<T, Error> {
    v.to_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error(format!("{name} {v:?}: not a non-negative integer")))
}

/// Above 2: the standard descriptors are pointed at /dev/null.
fn inherited_fd(name: &str, v: &OsString) -> Result<i32, Error> {
    match num::<i32>(name, v)? {
        fd if fd > 2 => Ok(fd),
        fd => Err(Error(format!(
            "{name} {fd}: must be above 2 (stdio goes to /dev/null)"
        ))),
    }
}

pub(crate) fn restart(v: &OsString) -> Result<Restart, Error> {
    let s = v.to_str().unwrap_or("");
    let bad = || {
        Error(format!(
            "--restart {s:?}: expected no, on-failure[:N], always or unless-stopped"
        ))
    };
    Ok(match s {
        "no" => Restart::No,
        "always" => Restart::Always,
        "unless-stopped" => Restart::UnlessStopped,
        "on-failure" => Restart::OnFailure(0),
        _ => match s.strip_prefix("on-failure:") {
            Some(n) => Restart::OnFailure(n.parse().map_err(|_| bad())?),
            None => return Err(bad()),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, Error> {
        let base = [
            "sup",
            "--runtime",
            "/rt",
            "--runtime-root",
            "/r",
            "--bundle",
            "/b",
            "--id",
            "c1",
            "--pid-file",
            "/p",
        ];
        Args::parse(base.iter().chain(args).map(OsString::from))
    }

    #[test]
    fn parses_every_option() {
        let a = parse(&[
            "--log-path=/l",
            "--log-max-size",
            "1000",
            "--log-max-files",
            "3",
            "--exit-file",
            "/e",
            "--sync-fd",
            "5",
            "--tty",
            "--stdin",
            "--attach-socket",
            "/a",
            "--restart",
            "on-failure:2",
            "--stop-file",
            "/s",
            "--cgroup-oom",
            "/o",
            "--exit-command",
            "/x",
            "--exit-command-arg",
            "rm",
            "--exit-command-lock",
            "/k",
            "--health-command",
            "/y",
            "--health-command-arg",
            "__health",
            "--events-dir",
            "/r/events",
            "--event-attr",
            "name=web",
            "--event-attr=image=a=b",
        ])
        .unwrap();
        assert_eq!(a.log_max_size, 1000);
        assert_eq!(a.log_max_files, 3);
        assert_eq!(a.sync_fd, Some(5));
        assert!(a.tty && a.stdin);
        assert_eq!(a.restart, Restart::OnFailure(2));
        assert_eq!(a.exit_command_args, vec![OsString::from("rm")]);
        assert_eq!(a.exit_command_lock, Some(PathBuf::from("/k")));
        assert_eq!(a.health_command, Some(PathBuf::from("/y")));
        assert_eq!(a.health_command_args, vec![OsString::from("__health")]);
        assert_eq!(a.log_path, Some(PathBuf::from("/l")));
        assert_eq!(a.events_dir, Some(PathBuf::from("/r/events")));
        let attrs = [
            ("name".into(), "web".into()),
            ("image".into(), "a=b".into()),
        ];
        assert_eq!(a.event_attrs, attrs);
        let e = parse(&["--event-attr", "=x"]).unwrap_err().0;
        assert!(e.contains("\"=x\": expected KEY=VALUE"), "{e}");
    }

    #[test]
    fn errors_name_the_value() {
        let e = parse(&["--restart", "sometimes"]).unwrap_err().0;
        assert!(e.contains("\"sometimes\""), "{e}");
        let e = parse(&["--log-path", "rel/log"]).unwrap_err().0;
        assert!(e.contains("rel/log: not an absolute path"), "{e}");
        let e = parse(&["--bogus", "1"]).unwrap_err().0;
        assert!(e.contains("\"--bogus\""), "{e}");
        let e = Args::parse(["sup"].iter().map(OsString::from))
            .unwrap_err()
            .0;
        assert!(e.starts_with("--runtime is required"), "{e}");
        assert_eq!(
            parse(&["--restart", "on-failure"]).unwrap().restart,
            Restart::OnFailure(0)
        );
        assert!(parse(&["--restart", "on-failure:x"]).is_err());
        let e = parse(&["--sync-fd", "1"]).unwrap_err().0;
        assert!(e.starts_with("--sync-fd 1: must be above 2"), "{e}");
    }
}

//! One small handler per subcommand.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use yurta_container::container::{self, Container, CreateOptions, ExecOptions, ExecOutcome};
use yurta_container::state::Status;
use yurta_oci_cli::{Cli, Command, ListFormat};

use crate::console;

/// One line on stdout; an error (never a panic) when stdout is closed or
/// full.
fn print_line(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").and_then(|()| out.flush())
}

/// Runs the command; returns the process exit code.
pub fn dispatch(cli: &Cli) -> Result<i32> {
    let root = cli.global.root.as_path();
    match &cli.command {
        Command::Create(c) => {
            container::create(&create_options(cli, &c.opts))?;
            Ok(0)
        }
        Command::Start(c) => {
            container::start(root, &c.id)?;
            Ok(0)
        }
        Command::Run(r) => crate::run::run(root, create_options(cli, &r.opts), r),
        Command::State(c) => {
            let c = Container::load(root, &c.id)?;
            print_line(&c.state_json())?;
            Ok(0)
        }
        Command::Kill(k) => {
            let sig = yurta_container::signal::parse(&k.signal)?;
            container::kill(root, &k.id, sig, k.all)?;
            Ok(0)
        }
        Command::Delete(d) => {
            for id in &d.ids {
                container::delete(root, id, d.force)
                    .with_context(|| format!("deleting container {id:?}"))?;
            }
            Ok(0)
        }
        Command::Exec(e) => exec(root, e),
        Command::Ps(p) => ps(root, p),
        Command::List(l) => list(root, l),
        Command::Pause(c) => {
            container::pause(root, &c.id)?;
            Ok(0)
        }
        Command::Resume(c) => {
            container::resume(root, &c.id)?;
            Ok(0)
        }
        Command::Update(u) => {
            let resources = crate::update::resources_from(u)?;
            container::update(root, &u.id, &resources)?;
            Ok(0)
        }
        Command::Features => {
            print_line(&serde_json::to_string_pretty(
                &yurta_container::features::features(),
            )?)?;
            Ok(0)
        }
        Command::Events(e) => events(root, e),
        Command::Spec(s) => spec(
            &s.bundle,
            matches!(cli.global.rootless.as_deref(), Some("true")),
        ),
    }
}

fn create_options(cli: &Cli, o: &yurta_oci_cli::CreateOpts) -> CreateOptions {
    CreateOptions {
        root: cli.global.root.clone(),
        id: o.id.clone(),
        bundle: o.bundle.clone(),
        console_socket: o.console_socket.clone(),
        pid_file: o.pid_file.clone(),
        no_pivot: o.no_pivot,
        preserve_fds: o.preserve_fds,
        systemd_cgroup: cli.global.systemd_cgroup,
    }
}

fn exec(root: &Path, e: &yurta_oci_cli::Exec) -> Result<i32> {
    let mut opts = ExecOptions {
        root: root.to_path_buf(),
        id: e.id.clone(),
        process_file: e.process.clone(),
        args: e.command.clone(),
        env: e.env.clone(),
        cwd: e.cwd.clone(),
        user: e.user.clone(),
        additional_gids: e.additional_gids.clone(),
        caps: e.cap.clone(),
        tty: e.tty,
        no_new_privs: e.no_new_privs,
        console_socket: e.console_socket.clone(),
        pid_file: e.pid_file.clone(),
        detach: e.detach,
        preserve_fds: e.preserve_fds,
        ignore_paused: e.ignore_paused,
    };
    let wants_tty = e.tty || process_file_wants_tty(e.process.as_deref());
    if wants_tty && opts.console_socket.is_none() {
        if e.detach {
            bail!("cannot allocate a terminal for a detached exec without --console-socket");
        }
        return console::exec_with_terminal(&mut opts);
    }
    match container::exec(&opts)? {
        ExecOutcome::Detached { .. } => Ok(0),
        ExecOutcome::Exited { code } => Ok(code),
    }
}

fn process_file_wants_tty(path: Option<&Path>) -> bool {
    let Some(path) = path else { return false };
    std::fs::read(path)
        .ok()
        .and_then(|d| serde_json::from_slice::<serde_json::Value>(&d).ok())
        .and_then(|v| v.get("terminal").and_then(|t| t.as_bool()))
        .unwrap_or(false)
}

fn ps(root: &Path, p: &yurta_oci_cli::Ps) -> Result<i32> {
    let pids = container::pids(root, &p.id)?;
    if p.format == ListFormat::Json {
        print_line(&serde_json::to_string(&pids)?)?;
        return Ok(0);
    }
    let args = if p.ps_args.is_empty() {
        vec!["-ef".to_string()]
    } else {
        p.ps_args.clone()
    };
    let out = std::process::Command::new("ps")
        .args(&args)
        .output()
        .context("running ps")?;
    if !out.status.success() {
        bail!(
            "ps {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or("");
    let pid_col = header
        .split_whitespace()
        .position(|h| h == "PID")
        .context("ps output has no PID column")?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{header}")?;
    for line in lines {
        let pid = line
            .split_whitespace()
            .nth(pid_col)
            .and_then(|s| s.parse::<i32>().ok());
        if pid.is_some_and(|pid| pids.contains(&pid)) {
            writeln!(stdout, "{line}")?;
        }
    }
    Ok(0)
}

fn list(root: &Path, l: &yurta_oci_cli::List) -> Result<i32> {
    let all = container::list(root)?;
    let mut out = std::io::stdout().lock();
    if l.quiet {
        for c in &all {
            writeln!(out, "{}", c.state.id)?;
        }
    } else if l.format == ListFormat::Json {
        let states: Vec<_> = all.iter().map(|c| c.state.oci(c.status)).collect();
        writeln!(out, "{}", serde_json::to_string(&states)?)?;
    } else {
        writeln!(
            out,
            "{:<24}{:<10}{:<10}{:<40}{:<32}OWNER",
            "ID", "PID", "STATUS", "BUNDLE", "CREATED"
        )?;
        for c in &all {
            let pid = if c.status == Status::Stopped {
                0
            } else {
                c.state.pid
            };
            writeln!(
                out,
                "{:<24}{:<10}{:<10}{:<40}{:<32}{}",
                c.state.id,
                pid,
                c.status,
                c.state.bundle.display(),
                c.state.created,
                c.state.owner
            )?;
        }
    }
    Ok(0)
}

fn events(root: &Path, e: &yurta_oci_cli::Events) -> Result<i32> {
    let c = Container::load(root, &e.id)?;
    if c.status == Status::Stopped {
        bail!("container {:?} is stopped: no events", e.id);
    }
    if !e.stats {
        bail!("only `events --stats` is supported");
    }
    let stats = c.state.cgroup()?.stats()?;
    print_line(&serde_json::json!({"type": "stats", "id": e.id, "data": stats}).to_string())?;
    Ok(0)
}

fn spec(bundle: &Path, rootless: bool) -> Result<i32> {
    let path = bundle.join("config.json");
    if path.exists() {
        bail!("{} exists: remove it first", path.display());
    }
    let value = yurta_container::spec::default_config(rootless);
    std::fs::write(&path, serde_json::to_string_pretty(&value)?)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(0)
}

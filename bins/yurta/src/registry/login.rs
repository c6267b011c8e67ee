//! `yurta login` / `yurta logout`: credentials checked against the registry
//! and kept in a docker-config-compatible file, mode 0600 (see
//! `super::auth_file` for where).

use std::io::{self, BufRead, IsTerminal, Write};

use anyhow::{bail, Context};
use yurta_registry::Credentials;

use crate::cli::{LoginArgs, LogoutArgs};
use crate::Ctx;

pub fn login(_ctx: &Ctx, a: LoginArgs) -> anyhow::Result<()> {
    let registry = registry_name(a.server.as_deref())?;
    let username = match a.username {
        Some(u) => u,
        None => prompt(&registry, "Username: ", true)?,
    };
    let password = match (a.password, a.password_stdin) {
        (Some(_), true) => {
            bail!("login {registry}: --password and --password-stdin are mutually exclusive")
        }
        (Some(p), false) => {
            errln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
            p
        }
        (None, true) => read_stdin_password(&registry)?,
        (None, false) => prompt(&registry, "Password: ", false)?,
    };
    if username.is_empty() || password.is_empty() {
        bail!("login {registry}: a username and a password are needed");
    }
    let client = super::client(&a.registry);
    let path = super::auth_file(a.registry.authfile.as_ref());
    yurta_registry::login(
        &client,
        &registry,
        &Credentials::new(username, password),
        &path,
    )?;
    crate::progress::debug(&format!("credentials stored in {}", path.display()));
    outln!("Login Succeeded")?;
    Ok(())
}

pub fn logout(_ctx: &Ctx, a: LogoutArgs) -> anyhow::Result<()> {
    let registry = registry_name(a.server.as_deref())?;
    let path = super::auth_file(a.authfile.as_ref());
    match yurta_registry::logout(&path, &registry).with_context(|| format!("logout {registry}"))? {
        true => outln!("Removing login credentials for {registry}")?,
        false => outln!("Not logged in to {registry}")?,
    }
    Ok(())
}

/// `host[:port]` from what users type: `https://host/v1/`, `index.docker.io`…
fn registry_name(given: Option<&str>) -> anyhow::Result<String> {
    Ok(yurta_engine::distribution::settings::registry_name(given)?)
}

pub(crate) fn read_stdin_password(registry: &str) -> anyhow::Result<String> {
    let mut line = String::new();
    io::stdin()
        .lock()
        .read_line(&mut line)
        .with_context(|| format!("login {registry}: read the password from stdin"))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// Asks on the terminal; the password without echo.
pub(crate) fn prompt(registry: &str, question: &str, echo: bool) -> anyhow::Result<String> {
    let stdin = io::stdin();
    if !stdin.is_terminal() {
        bail!("login {registry}: stdin is not a terminal; use --username and --password-stdin");
    }
    eprint!("{question}");
    let _ = io::stderr().flush();
    let saved = (!echo).then(|| no_echo(&stdin)).flatten();
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if let Some(t) = saved {
        let _ = nix::sys::termios::tcsetattr(&stdin, nix::sys::termios::SetArg::TCSANOW, &t);
        errln!();
    }
    read.with_context(|| format!("login {registry}: read from the terminal"))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// Turns echo off; returns the settings to restore.
fn no_echo(stdin: &io::Stdin) -> Option<nix::sys::termios::Termios> {
    use nix::sys::termios::{tcgetattr, tcsetattr, LocalFlags, SetArg};
    let saved = tcgetattr(stdin).ok()?;
    let mut quiet = saved.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    tcsetattr(stdin, SetArg::TCSANOW, &quiet).ok()?;
    Some(saved)
}

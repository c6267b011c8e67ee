//! `yurta web user add|rm|ls`: the web console's accounts
//! (`yurta_web::accounts`, `<root>/web/users.json`, mode 0600). The
//! console itself runs in `yurta system service --web ADDR`.

use std::io::IsTerminal;

use anyhow::bail;
use clap::{Args, Subcommand};
use serde_json::json;
use yurta_web::accounts::Accounts;

use crate::format::{self, Format, Row};
use crate::registry::login::{prompt, read_stdin_password};
use crate::Ctx;

#[derive(Subcommand)]
pub enum WebCommand {
    /// Manage the web console's accounts
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add an account (the password is hashed with argon2id)
    Add(UserAddArgs),
    /// Remove an account; its sessions end at their next request
    #[command(visible_alias = "remove")]
    Rm(UserRmArgs),
    /// List the accounts
    #[command(visible_alias = "list")]
    Ls(UserLsArgs),
}

#[derive(Args)]
pub struct UserAddArgs {
    /// 1 to 64 of a-z, A-Z, 0-9, '.', '_', '-'
    pub name: String,
    /// Read the password from stdin (one line); otherwise it is asked for
    /// twice on the terminal
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Args)]
pub struct UserRmArgs {
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Args)]
pub struct UserLsArgs {
    /// Go template over .Name and .Created, or `json`
    #[arg(long)]
    pub format: Option<String>,
    /// Names only
    #[arg(short, long)]
    pub quiet: bool,
}

const HEADERS: [(&str, &str); 2] = [("Name", "NAME"), ("Created", "CREATED")];

pub fn run(ctx: &Ctx, c: WebCommand) -> anyhow::Result<()> {
    let accounts = Accounts::new(&ctx.root);
    match c {
        WebCommand::User(UserCommand::Add(a)) => {
            let password = match a.password_stdin {
                true => read_stdin_password(&format!("web user add {}", a.name))?,
                false => ask_twice(&a.name)?,
            };
            accounts.add(&a.name, &password)?;
            outln!("{}", a.name)?;
            Ok(())
        }
        WebCommand::User(UserCommand::Rm(a)) => {
            let mut failed = false;
            for name in &a.names {
                match accounts.remove(name) {
                    Ok(()) => outln!("{name}")?,
                    Err(e) => {
                        errln!("yurta: {e}");
                        failed = true;
                    }
                }
            }
            match failed {
                // Each failure has had its line.
                true => Err(crate::container::Exit {
                    code: 125,
                    message: None,
                }
                .into()),
                false => Ok(()),
            }
        }
        WebCommand::User(UserCommand::Ls(a)) => {
            let rows: Vec<Row> = accounts
                .list()?
                .into_iter()
                .map(|(name, u)| Row::new(json!({"Name": name, "Created": u.created})))
                .collect();
            let f = match a.quiet {
                true => Format::new(Some("{{.Name}}"), ""),
                false => Format::new(a.format.as_deref(), r"table {{.Name}}\t{{.Created}}"),
            };
            format::list(&f, &rows, &HEADERS)
        }
    }
}

fn ask_twice(name: &str) -> anyhow::Result<String> {
    if !std::io::stdin().is_terminal() {
        bail!("web user add {name}: stdin is not a terminal; use --password-stdin");
    }
    let what = format!("web user add {name}");
    let first = prompt(&what, "Password: ", false)?;
    let again = prompt(&what, "Repeat the password: ", false)?;
    if first != again {
        bail!("web user add {name}: the passwords differ");
    }
    Ok(first)
}

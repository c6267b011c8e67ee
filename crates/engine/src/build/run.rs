//! RUN: the command in a real container of the step's image (through the
//! engine's create and start: the default capabilities, seccomp profile,
//! masked paths and network of any container), its output streamed to the
//! build's progress, its changes committed as the step's image, the
//! container removed whatever happens.

use std::os::fd::AsRawFd;

use anyhow::{bail, Context};
use nix::sys::socket::{recv, MsgFlags};
use yurta_build::ast::{Command, Heredoc, Network};
use yurta_images::commit::{commit, CommitOptions, ContainerFs};
use yurta_images::rwlayer::Lowers;
use yurta_images::spec::RunConfig;
use yurta_images::ImageRecord;

use super::config;
use super::BuildProgress;
use crate::lifecycle::attach_protocol::{EXITED, FROM_STDERR, FROM_STDOUT};
use crate::lifecycle::changes::ReadFs;
use crate::lifecycle::{self, Attach, Host};
use crate::{CreateOptions, Engine};

/// One RUN, as the plan has it.
pub struct RunStep<'a> {
    pub command: &'a Command,
    pub heredocs: &'a [Heredoc],
    pub network: Option<&'a Network>,
    /// Build args and proxy args in the command's environment.
    pub env: Vec<(String, String)>,
    /// `--network` of the build, for RUNs without `--network`.
    pub default_network: Option<&'a str>,
    /// `--mount` specs of the container (see `super::mounts`).
    pub mounts: &'a [String],
    /// Mount targets whose stubs leave the changes.
    pub stubs: &'a [String],
    /// `SOURCE_DATE_EPOCH` (see `BuildOptions::timestamp`).
    pub timestamp: Option<i64>,
    /// The build's ID, the step container's label (see `super::stale`).
    pub build_id: &'a str,
}

/// Runs `step` on `parent` (whose run configuration is `run`) and returns
/// the image of its result.
pub fn run(
    host: &Host,
    engine: &Engine,
    parent: &ImageRecord,
    run: &RunConfig,
    step: &RunStep,
    progress: &dyn BuildProgress,
) -> anyhow::Result<ImageRecord> {
    let shell = config::shell(run);
    let argv = argv(step.command, step.heredocs, &shell);
    let network = match step.network {
        Some(Network::None) => "none",
        Some(Network::Host) => "host",
        Some(Network::Default) | None => step.default_network.unwrap_or("bridge"),
    };
    let opts = CreateOptions {
        image: parent.id.to_string(),
        entrypoint: Some(argv[0].clone()),
        command: argv[1..].to_vec(),
        env: extra_env(run, &step.env),
        network: Some(network.to_string()),
        labels: vec![format!("{}={}", super::stale::STEP_LABEL, step.build_id)],
        mounts: step.mounts.to_vec(),
        ..CreateOptions::default()
    };
    let rec = lifecycle::create(host, engine, &opts, &[])?;
    let done = run_and_commit(host, engine, parent, run, &rec, step, progress);
    let removed = lifecycle::remove(host, engine, &engine.containers.read(&rec.id)?, true, true);
    let image = done?;
    removed.with_context(|| format!("remove the build container {}", &rec.id[..12]))?;
    Ok(image)
}

fn run_and_commit(
    host: &Host,
    engine: &Engine,
    parent: &ImageRecord,
    run: &RunConfig,
    rec: &crate::ContainerRecord,
    step: &RunStep,
    progress: &dyn BuildProgress,
) -> anyhow::Result<ImageRecord> {
    let argv = argv(step.command, step.heredocs, &config::shell(run));
    let stubs = step.stubs;
    let started = lifecycle::start(host, engine, rec, Attach::Stream)?;
    yurta_fault::point("build.run.started");
    if let Some(sock) = &started.attach {
        relay_output(sock, progress);
    }
    let code = lifecycle::wait_exit(host, engine, &rec.id)?;
    if code != 0 {
        bail!(
            "The command '{}' returned a non-zero code: {code}",
            argv.join(" ")
        );
    }
    let rec = engine.containers.read(&rec.id)?;
    let (fs, dir) = ReadFs::of(engine, &rec);
    if fs == ReadFs::Upper && !stubs.is_empty() {
        let lowers = Lowers::open(&engine.images.unpack_image(parent)?)?;
        super::mounts::remove_stubs(&dir, &lowers, stubs);
    }
    let fs = match fs {
        ReadFs::Upper => ContainerFs::Upper(&dir),
        ReadFs::Copy => ContainerFs::Copy(&dir),
    };
    let opts = CommitOptions {
        config: run.clone(),
        created_by: argv.join(" "),
        build_cache: true,
        timestamp: step.timestamp,
        ..CommitOptions::default()
    };
    Ok(commit(&engine.images, parent, fs, &opts)?)
}

/// The container's output, as it comes, until it exits.
fn relay_output(sock: &std::os::fd::OwnedFd, progress: &dyn BuildProgress) {
    let mut buf = vec![0u8; 65536];
    loop {
        let n = match recv(sock.as_raw_fd(), &mut buf, MsgFlags::empty()) {
            Ok(0) => return,
            Ok(n) => n,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return,
        };
        match buf[0] {
            FROM_STDOUT | FROM_STDERR => progress.output(&buf[1..n]),
            EXITED => return,
            _ => {}
        }
    }
}

/// The command's argv: exec form as written, shell form through the
/// stage's shell. A heredoc (`RUN <<EOF`) that is the whole command is
/// the script; one the command reads is given to the shell as written.
fn argv(command: &Command, heredocs: &[Heredoc], shell: &[String]) -> Vec<String> {
    let Command::Shell(text) = command else {
        return config::argv(command, shell);
    };
    if heredocs.is_empty() {
        return config::argv(command, shell);
    }
    let only_heredoc = heredocs.len() == 1
        && text
            .trim()
            .trim_start_matches("<<")
            .trim_start_matches('-')
            .trim_matches(|c| c == '"' || c == '\'')
            == heredocs[0].name;
    let script = match only_heredoc {
        true => heredocs[0].body(),
        false => {
            let mut s = text.clone();
            for h in heredocs {
                s.push('\n');
                s.push_str(&h.body());
                s.push_str(&h.name);
            }
            s
        }
    };
    shell.iter().cloned().chain([script]).collect()
}

/// Build args (and proxy args) the image's ENV does not set, as `K=V`.
fn extra_env(run: &RunConfig, args: &[(String, String)]) -> Vec<String> {
    let set: Vec<&str> = run
        .env
        .iter()
        .flatten()
        .map(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k))
        .collect();
    args.iter()
        .filter(|(k, _)| !set.contains(&k.as_str()))
        .map(|(k, v)| format!("{k}={v}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heredoc(name: &str, content: &str) -> Heredoc {
        Heredoc {
            name: name.into(),
            content: content.into(),
            expand: true,
            chomp: false,
            fd: 0,
        }
    }

    #[test]
    fn a_heredoc_alone_is_the_script() {
        let sh = vec!["/bin/sh".to_string(), "-c".to_string()];
        let v = argv(
            &Command::Shell("<<EOF".into()),
            &[heredoc("EOF", "echo a\necho b\n")],
            &sh,
        );
        assert_eq!(v, vec!["/bin/sh", "-c", "echo a\necho b\n"]);
        let v = argv(
            &Command::Shell("cat <<EOF".into()),
            &[heredoc("EOF", "x\n")],
            &sh,
        );
        assert_eq!(v, vec!["/bin/sh", "-c", "cat <<EOF\nx\nEOF"]);
    }

    #[test]
    fn build_args_yield_to_env() {
        let run = RunConfig {
            env: Some(vec!["A=env".into()]),
            ..RunConfig::default()
        };
        let args = [
            ("A".to_string(), "arg".to_string()),
            ("B".into(), "b".into()),
        ];
        assert_eq!(extra_env(&run, &args), vec!["B=b"]);
    }
}

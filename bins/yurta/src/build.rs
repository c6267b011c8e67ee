//! `yurta build [-t NAME]... [-f FILE|-] [--build-arg K[=V]]... CONTEXT|-`:
//! flags → the engine's build (`yurta_engine::build`), Docker's classic
//! builder output on stdout (`-q`: only the image ID). It runs in the
//! `yurta-registry` sibling, which links OpenSSL, as base images may be
//! pulled. A failed build exits 1, as `docker build` does.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::{bail, Context};
use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use yurta_engine::build::{build as run_build, BuildOptions, BuildProgress};

use crate::container::Exit;
use crate::Ctx;

#[derive(Args, Clone)]
pub struct BuildArgs {
    /// Name and optionally a tag for the image (repeatable)
    #[arg(short, long = "tag", value_name = "NAME[:TAG]")]
    pub tags: Vec<String>,
    /// The Dockerfile (default CONTEXT/Dockerfile, else Containerfile); `-` reads it from stdin
    #[arg(short, long, value_name = "FILE")]
    pub file: Option<String>,
    /// A build-time variable: K=V, or K to take V from the environment (repeatable)
    #[arg(long = "build-arg", value_name = "K=V")]
    pub build_args: Vec<String>,
    /// The stage to build (default the last)
    #[arg(long)]
    pub target: Option<String>,
    /// Run every step, using no cached result
    #[arg(long)]
    pub no_cache: bool,
    /// Pull base images even when they are stored
    #[arg(long)]
    pub pull: bool,
    /// Write the image ID to this file
    #[arg(long, value_name = "FILE")]
    pub iidfile: Option<PathBuf>,
    /// Print only the image ID
    #[arg(short, long)]
    pub quiet: bool,
    /// A label of the image: K=V (repeatable)
    #[arg(long = "label", value_name = "K=V")]
    pub labels: Vec<String>,
    /// The network of RUN steps: bridge (default), none, host
    #[arg(long)]
    pub network: Option<String>,
    /// The target platform, os/arch[/variant] (default the host's)
    #[arg(long)]
    pub platform: Option<String>,
    /// Also write the image as an archive: type=docker|oci,dest=FILE
    #[arg(short, long, value_name = "type=docker|oci,dest=FILE")]
    pub output: Option<String>,
    /// How progress shows: auto (a live view on a terminal), plain, tty
    #[arg(long, default_value = "auto", value_name = "auto|plain|tty")]
    pub progress: String,
    /// Reproducible: the images' times and the latest mtime in their
    /// layers, in Unix seconds (default: $SOURCE_DATE_EPOCH, if set)
    #[arg(long, value_name = "SECONDS")]
    pub timestamp: Option<i64>,
    /// A secret for `RUN --mount=type=secret`: id=ID,src=FILE (or
    /// id=ID,env=VAR: the variable's value) (repeatable)
    #[arg(long = "secret", value_name = "id=ID,src=FILE")]
    pub secrets: Vec<String>,
    /// The build context: a directory, or `-` for a tar on stdin
    pub context: PathBuf,
}

/// Prints Docker's classic lines and the RUN output, unless quiet.
struct Printer {
    quiet: bool,
}

/// On a terminal (`--progress auto|tty`): the step lines scroll as
/// Docker's, while a RUN's output shows in a window of its last lines
/// that goes when the step ends; a failed step's whole output is printed
/// with the error.
struct Live {
    multi: MultiProgress,
    window: Vec<ProgressBar>,
    state: Mutex<LiveState>,
}

#[derive(Default)]
struct LiveState {
    /// The running step's output so far.
    output: Vec<u8>,
    /// Its last lines, shown in the window.
    last: std::collections::VecDeque<String>,
}

/// Lines of RUN output shown while the step runs.
const WINDOW: usize = 6;

impl Live {
    fn new() -> Live {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stdout());
        let style = ProgressStyle::with_template("  {wide_msg:.dim}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        let window = (0..WINDOW)
            .map(|_| {
                let b = multi.add(ProgressBar::new(0));
                b.set_style(style.clone());
                b
            })
            .collect();
        Live {
            multi,
            window,
            state: Mutex::new(LiveState::default()),
        }
    }

    fn draw(&self, st: &LiveState) {
        for (i, bar) in self.window.iter().enumerate() {
            bar.set_message(st.last.get(i).cloned().unwrap_or_default());
        }
    }

    /// The failed step's output, for the error.
    fn failed_output(&self) -> Vec<u8> {
        std::mem::take(&mut self.state.lock().unwrap_or_else(|e| e.into_inner()).output)
    }

    fn finish(&self) {
        for b in &self.window {
            b.finish_and_clear();
        }
    }
}

impl BuildProgress for Live {
    fn line(&self, text: &str) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if text.starts_with("Step ") || text.starts_with(" ---> ") {
            st.output.clear();
            st.last.clear();
            self.draw(&st);
        }
        let _ = self.multi.println(text);
    }

    fn output(&self, data: &[u8]) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.output.extend_from_slice(data);
        for l in String::from_utf8_lossy(data).lines() {
            if st.last.len() == WINDOW {
                st.last.pop_front();
            }
            st.last.push_back(l.to_string());
        }
        self.draw(&st);
    }
}

impl BuildProgress for Printer {
    fn line(&self, text: &str) {
        if !self.quiet {
            let _ = outln!("{text}");
        }
    }

    fn output(&self, data: &[u8]) {
        if !self.quiet {
            let mut out = crate::out::Stdout::lock();
            let _ = out.write_all(data).and_then(|_| out.flush());
        }
    }
}

pub fn build(ctx: &Ctx, a: BuildArgs) -> anyhow::Result<()> {
    let mut opts = options(&a)?;
    let live = match a.progress.as_str() {
        "plain" => false,
        "tty" => true,
        "auto" => !a.quiet && std::io::stdout().is_terminal(),
        other => bail!("--progress {other:?}: use auto, plain or tty"),
    };
    // `-`: the context is a tar on stdin, unpacked under the root.
    let _unpacked = match a.context.as_os_str() == "-" {
        true => {
            let dir = yurta_engine::build::unpack_context(&ctx.root, std::io::stdin().lock())?;
            opts.context = dir.dir.clone();
            Some(dir)
        }
        false => None,
    };
    let built = match live {
        true => {
            let view = Live::new();
            let built = run_build(ctx, &opts, &view);
            view.finish();
            if built.is_err() {
                let _ = std::io::stderr().write_all(&view.failed_output());
            }
            built
        }
        false => run_build(ctx, &opts, &Printer { quiet: a.quiet }),
    };
    // Secrets from the environment were written for this build only.
    let prefix = format!("yurta-secret-{}-", std::process::id());
    for p in opts.secrets.values() {
        let ours = p.starts_with(std::env::temp_dir())
            && p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&prefix));
        if ours {
            let _ = std::fs::remove_file(p);
        }
    }
    let built = built.map_err(|e| Exit {
        code: 1,
        message: Some(crate::out::OneLine(&e).to_string()),
    })?;
    let id = built.image.id.to_string();
    if let Some(f) = &a.iidfile {
        std::fs::write(f, &id).with_context(|| format!("--iidfile {}", f.display()))?;
    }
    if a.quiet {
        outln!("{id}")?;
    }
    Ok(())
}

fn options(a: &BuildArgs) -> anyhow::Result<BuildOptions> {
    let from_stdin = a.context.as_os_str() == "-";
    if from_stdin && a.file.as_deref() == Some("-") {
        bail!("-f - and a context on stdin (-) cannot both read stdin");
    }
    if !from_stdin && !a.context.is_dir() {
        bail!("build context {}: not a directory", a.context.display());
    }
    let mut opts = BuildOptions {
        context: std::path::absolute(&a.context)?,
        tags: a.tags.clone(),
        target: a.target.clone(),
        no_cache: a.no_cache,
        pull: a.pull,
        network: a.network.clone(),
        platform: a.platform.clone(),
        ..BuildOptions::default()
    };
    match a.file.as_deref() {
        Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("read the Dockerfile from stdin")?;
            opts.dockerfile_text = Some(text);
        }
        Some(f) => opts.dockerfile = Some(std::path::absolute(f)?),
        None => {}
    }
    opts.build_args = pairs("--build-arg", &a.build_args, true)?;
    opts.output = a.output.as_deref().map(output).transpose()?;
    opts.timestamp = match (a.timestamp, std::env::var("SOURCE_DATE_EPOCH")) {
        (Some(t), _) => Some(t),
        (None, Ok(v)) if !v.is_empty() => Some(
            v.trim()
                .parse()
                .with_context(|| format!("SOURCE_DATE_EPOCH {v:?}: not a number of seconds"))?,
        ),
        _ => None,
    };
    for spec in &a.secrets {
        let (id, path) = secret(spec)?;
        opts.secrets.insert(id, path);
    }
    opts.labels = pairs("--label", &a.labels, false)?;
    Ok(opts)
}

/// `--output type=docker|oci,dest=FILE` (`type` default docker).
fn output(spec: &str) -> anyhow::Result<(yurta_images::ArchiveFormat, PathBuf)> {
    let mut format = yurta_images::ArchiveFormat::DockerArchive;
    let mut dest = None;
    for field in spec.split(',') {
        match field.split_once('=') {
            Some(("type", "docker")) => format = yurta_images::ArchiveFormat::DockerArchive,
            Some(("type", "oci")) => format = yurta_images::ArchiveFormat::OciArchive,
            Some(("dest", d)) if !d.is_empty() => dest = Some(std::path::absolute(d)?),
            _ => bail!("--output {spec:?}: expected type=docker|oci,dest=FILE"),
        }
    }
    match dest {
        Some(d) => Ok((format, d)),
        None => bail!("--output {spec:?}: dest=FILE is missing"),
    }
}

/// `--secret id=ID,src=FILE` (or `env=VAR`, written to a private file
/// under the temporary directory that lives as long as this process).
fn secret(spec: &str) -> anyhow::Result<(String, PathBuf)> {
    let mut id = None;
    let mut src = None;
    let mut env = None;
    for field in spec.split(',') {
        match field.split_once('=') {
            Some(("id", v)) => id = Some(v.to_string()),
            Some(("src" | "source", v)) => src = Some(PathBuf::from(v)),
            Some(("env", v)) => env = Some(v.to_string()),
            Some(("type", "file" | "env")) => {}
            _ => bail!("--secret {spec:?}: expected id=ID,src=FILE or id=ID,env=VAR"),
        }
    }
    let Some(id) = id.filter(|i| !i.is_empty()) else {
        bail!("--secret {spec:?}: the id is missing");
    };
    let path = match (src, env) {
        (Some(p), None) => {
            if !p.is_file() {
                bail!("--secret {spec:?}: {}: no such file", p.display());
            }
            std::path::absolute(p)?
        }
        (None, Some(var)) => {
            let value = std::env::var(&var)
                .with_context(|| format!("--secret {spec:?}: ${var} is not set"))?;
            let path =
                std::env::temp_dir().join(format!("yurta-secret-{}-{id}", std::process::id()));
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&path)?;
            f.write_all(value.as_bytes())?;
            path
        }
        _ => bail!("--secret {spec:?}: give src=FILE or env=VAR"),
    };
    Ok((id, path))
}

/// `K=V` flags; `K` alone takes the environment's value when `env`.
fn pairs(flag: &str, given: &[String], env: bool) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for g in given {
        let (k, v) = match g.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None if env => match std::env::var(g) {
                Ok(v) => (g.clone(), v),
                Err(_) => continue, // Docker: an unset variable is left out
            },
            None => (g.clone(), String::new()),
        };
        if k.is_empty() {
            bail!("{flag} {g:?}: the name is empty");
        }
        out.insert(k, v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_args_from_flags_and_environment() {
        std::env::set_var("YURTA_TEST_BUILD_ARG", "from-env");
        let p = pairs(
            "--build-arg",
            &[
                "A=1".into(),
                "YURTA_TEST_BUILD_ARG".into(),
                "UNSET_XYZ_123".into(),
            ],
            true,
        )
        .unwrap();
        assert_eq!(p["A"], "1");
        assert_eq!(p["YURTA_TEST_BUILD_ARG"], "from-env");
        assert!(!p.contains_key("UNSET_XYZ_123"));
        assert!(pairs("--label", &["=x".into()], false).is_err());
    }
}

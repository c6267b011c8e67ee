//! `create`: everything up to an init process waiting for `start`.

use std::path::{Path, PathBuf};

use nix::sys::stat::Mode;
use nix::sys::wait::waitpid;
use nix::unistd::Pid;

use crate::channel::{self, Channel, Message};
use crate::error::{Error, Result};
use crate::namespaces::Plan;
use crate::process::cgroup_fork::fork_in_cgroup;
use crate::process::{finish, intermediate, InitArgs};
use crate::state::{proc_stat, ContainerDir, State, Status};
use crate::{hooks, spec, user};
use oci_spec::runtime::{LinuxNamespaceType, Process};

/// Options of `create` (and of the create half of `run`).
#[derive(Debug, Clone)]
pub struct CreateOptions {
    pub root: PathBuf,
    pub id: String,
    pub bundle: PathBuf,
    pub console_socket: Option<PathBuf>,
    pub pid_file: Option<PathBuf>,
    pub no_pivot: bool,
    pub preserve_fds: u32,
    pub systemd_cgroup: bool,
}

/// Creates the container; on any failure everything made so far is undone.
pub fn create(opts: &CreateOptions) -> Result<State> {
    let dir = ContainerDir::new(&opts.root, &opts.id)?;
    let bundle = std::fs::canonicalize(&opts.bundle).map_err(|e| Error::read(&opts.bundle, e))?;
    let config_path = bundle.join("config.json");
    let raw = std::fs::read(&config_path).map_err(|e| Error::read(&config_path, e))?;
    let spec = spec::parse(&config_path, &raw)?;
    let mut args = init_args(opts, &dir, &bundle, spec)?;
    // The seccomp program (~0.5 ms of CPU for Docker's profile) compiles in
    // a thread while this one makes the state directory and the cgroups;
    // the init gets it through the fork.
    let for_compile = args.spec.clone();
    let compiling = std::thread::spawn(move || finish::compile_seccomp(&for_compile));
    if let Err(e) = dir.create() {
        let _ = compiling.join();
        return Err(e);
    }
    let mut undo = Undo {
        dir: &dir,
        pids: Vec::new(),
        cgroup: None,
    };
    match create_in(opts, &dir, &raw, &mut args, compiling, &mut undo) {
        Ok(state) => Ok(state),
        Err(err) => {
            let mut errors = vec![err];
            errors.extend(undo.run());
            Err(if errors.len() == 1 {
                errors.pop().unwrap_or(Error::Setup(String::new()))
            } else {
                Error::Many(errors)
            })
        }
    }
}

fn init_args(
    opts: &CreateOptions,
    dir: &ContainerDir,
    bundle: &Path,
    spec: oci_spec::runtime::Spec,
) -> Result<InitArgs> {
    let process = spec
        .process()
        .clone()
        .ok_or_else(|| Error::InvalidConfig("config.json has no process".into()))?;
    let root = spec
        .root()
        .as_ref()
        .ok_or_else(|| Error::InvalidConfig("config.json has no root".into()))?;
    let rootfs = bundle.join(root.path());
    let rootfs = std::fs::canonicalize(&rootfs).map_err(|e| Error::read(&rootfs, e))?;
    let namespaces = spec
        .linux()
        .as_ref()
        .and_then(|l| l.namespaces().clone())
        .unwrap_or_default();
    let plan = Plan::from_config(&namespaces)?;
    check_config(&spec, &process, &plan)?;
    Ok(InitArgs {
        id: opts.id.clone(),
        process,
        bundle: bundle.to_path_buf(),
        rootfs,
        fifo: dir.fifo(),
        console_socket: opts.console_socket.clone(),
        no_pivot: opts.no_pivot,
        preserve_fds: opts.preserve_fds,
        plan,
        spec,
        seccomp: None,
    })
}

/// Refusals that need no process: settings this config cannot have.
fn check_config(spec: &oci_spec::runtime::Spec, process: &Process, plan: &Plan) -> Result<()> {
    user::check_additional_gids(process.user())?;
    if !plan.has(LinuxNamespaceType::Mount) {
        // Masking or write-protecting a path would mount over the host's.
        let linux = spec.linux().as_ref();
        for (field, paths) in [
            ("maskedPaths", linux.and_then(|l| l.masked_paths().as_ref())),
            (
                "readonlyPaths",
                linux.and_then(|l| l.readonly_paths().as_ref()),
            ),
        ] {
            if paths.is_some_and(|p| !p.is_empty()) {
                return Err(Error::InvalidConfig(format!(
                    "linux.{field} needs a mount namespace (linux.namespaces has no \"mount\")"
                )));
            }
        }
    }
    super::seccomp_agent::check_config(spec)
}

/// What to tear down if create fails half way.
struct Undo<'a> {
    dir: &'a ContainerDir,
    pids: Vec<i32>,
    cgroup: Option<Box<dyn yurta_cgroups::CgroupManager>>,
}

impl Undo<'_> {
    fn run(&mut self) -> Vec<Error> {
        let mut errors = Vec::new();
        for pid in self.pids.drain(..) {
            let _ = nix::sys::signal::kill(Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
            let _ = waitpid(Pid::from_raw(pid), None);
        }
        if let Some(cg) = self.cgroup.take() {
            if let Err(e) = cg.kill_all(libc::SIGKILL).and_then(|()| cg.remove()) {
                errors.push(e.into());
            }
        }
        if let Err(e) = self.dir.remove() {
            errors.push(e);
        }
        errors
    }
}

fn create_in(
    opts: &CreateOptions,
    dir: &ContainerDir,
    raw: &[u8],
    args: &mut InitArgs,
    compiling: SeccompThread,
    undo: &mut Undo,
) -> Result<State> {
    let prelude = prepare_dir_and_cgroup(opts, dir, raw, args, undo);
    // Joined before any return: no thread may run across the fork.
    args.seccomp = compiling
        .join()
        .map_err(|_| Error::Setup("seccomp compiler thread panicked".into()))??;
    let mut state = prelude?;
    let cgroup = undo
        .cgroup
        .as_ref()
        .ok_or_else(|| Error::Setup("no cgroup manager".into()))?;
    let (parent_end, child_end) = channel::pair()?;
    let child = fork_in_cgroup(&cgroup.self_join(), |pending| {
        intermediate::run(&child_end, args, pending)
    })?;
    drop(child_end);
    undo.pids.push(child);
    yurta_fault::point("runtime.create.forked");
    follow_setup(&parent_end, args, child, &mut state, undo)?;
    yurta_fault::point("runtime.create.ready");
    state.pid_start = proc_stat(state.pid)
        .map(|s| s.start_time)
        .ok_or_else(|| Error::Setup("container init exited during setup".into()))?;
    yurta_fault::point("runtime.create.saving");
    dir.save(&state)?;
    yurta_fault::point("runtime.create.saved");
    if let Some(pid_file) = &opts.pid_file {
        super::write_pid_file(pid_file, state.pid)?;
    }
    Ok(state)
}

type SeccompThread = std::thread::JoinHandle<Result<Option<yurta_seccomp::Program>>>;

/// The saved config and state, the exec fifo and the cgroup (prepared,
/// devices and limits set); everything before the fork.
fn prepare_dir_and_cgroup(
    opts: &CreateOptions,
    dir: &ContainerDir,
    raw: &[u8],
    args: &InitArgs,
    undo: &mut Undo,
) -> Result<State> {
    dir.save_config(raw)?;
    let linux = args.spec.linux().as_ref();
    let cgroups_path = linux.and_then(|l| l.cgroups_path().clone());
    let state = State {
        id: opts.id.clone(),
        pid: 0,
        pid_start: 0,
        bundle: args.bundle.clone(),
        rootfs: args.rootfs.clone(),
        created: crate::time::now(),
        owner: owner_name(),
        annotations: args.spec.annotations().clone().unwrap_or_default(),
        cgroups_path,
        systemd_cgroup: opts.systemd_cgroup,
    };
    // Saved at once (pid 0 reads as stopped): if this process is killed
    // half way, `delete` still finds the cgroup to remove.
    dir.save(&state)?;
    nix::unistd::mkfifo(&dir.fifo(), Mode::from_bits_truncate(0o622))
        .map_err(|e| Error::sys(format!("mkfifo {}", dir.fifo().display()), e))?;
    // Not subject to umask: init may run as another user (a user namespace).
    std::fs::set_permissions(
        dir.fifo(),
        std::os::unix::fs::PermissionsExt::from_mode(0o622),
    )
    .map_err(|e| Error::write(dir.fifo(), e))?;
    // Owned by `undo` before anything is written, so a failed apply or set
    // still removes whatever directories were made.
    let cgroup = undo.cgroup.insert(yurta_cgroups::create_manager(
        state.cgroups_path.as_deref(),
        &opts.id,
        opts.systemd_cgroup,
    )?);
    cgroup.prepare()?;
    if let Some(resources) = super::devices::effective_resources(&args.spec) {
        cgroup.set(&resources)?;
    }
    yurta_fault::point("runtime.create.cgroup");
    Ok(state)
}

/// Answers the children's requests until init reports Ready.
fn follow_setup(
    ch: &Channel,
    args: &InitArgs,
    intermediate: i32,
    state: &mut State,
    undo: &mut Undo,
) -> Result<()> {
    loop {
        match ch.recv()? {
            Some(Message::WriteIdMaps { pid }) => {
                let linux = args.spec.linux().as_ref();
                let uids = linux
                    .and_then(|l| l.uid_mappings().clone())
                    .unwrap_or_default();
                let gids = linux
                    .and_then(|l| l.gid_mappings().clone())
                    .unwrap_or_default();
                user::write_id_maps(pid, &uids, &gids)?;
                ch.send(&Message::IdMapsWritten)?;
            }
            Some(Message::InitPid { pid }) => {
                state.pid = pid;
                undo.pids.push(pid);
                let _ = waitpid(Pid::from_raw(intermediate), None);
                undo.pids.retain(|p| *p != intermediate);
            }
            Some(Message::RunCreateRuntimeHooks) => {
                let json = serde_json::to_string(&state.oci(Status::Creating)).unwrap_or_default();
                if let Some(h) = args.spec.hooks() {
                    hooks::run("prestart", h.prestart().as_deref().unwrap_or(&[]), &json)?;
                    hooks::run(
                        "createRuntime",
                        h.create_runtime().as_deref().unwrap_or(&[]),
                        &json,
                    )?;
                }
                ch.send(&Message::HooksDone)?;
            }
            Some(Message::SeccompListener { fd }) => {
                let oci = state.oci(Status::Creating);
                super::seccomp_agent::hand_over(ch, &args.spec, state.pid, fd, &oci)?;
            }
            Some(Message::Ready) => return Ok(()),
            Some(Message::Failed { message, exit_code }) => {
                return Err(match exit_code {
                    126 | 127 => Error::CannotRun { message, exit_code },
                    _ => Error::Setup(message),
                })
            }
            Some(other) => return Err(Error::Setup(format!("unexpected setup message {other:?}"))),
            None => {
                return Err(Error::Setup(
                    "container init exited during setup without saying why".into(),
                ))
            }
        }
    }
}

fn owner_name() -> String {
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    if uid == 0 {
        "root".into()
    } else {
        uid.to_string()
    }
}

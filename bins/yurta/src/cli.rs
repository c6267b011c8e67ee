//! The command line, Docker's verbs and flags (clap only, no behaviour).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "yurta",
    version,
    about = "Containers, images and virtual machines without a daemon"
)]
pub struct Cli {
    /// Where yurta keeps all its state.
    #[arg(long, global = true, env = "YURTA_ROOT", default_value = yurta_images::DEFAULT_ROOT)]
    pub root: PathBuf,
    /// error, warn, info or debug.
    #[arg(long, global = true, default_value = "warn")]
    pub log_level: String,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// List images
    Images(ListArgs),
    /// Manage images
    #[command(subcommand)]
    Image(ImageCommand),
    /// Show low-level information on containers or images
    Inspect(AnyInspectArgs),
    /// Remove one or more images
    Rmi(RmArgs),
    /// Create a tag TARGET that refers to SOURCE
    Tag(TagArgs),
    /// Show the history of an image
    History(HistoryArgs),
    /// Save images to a tar archive (streamed to stdout by default)
    Save(SaveArgs),
    /// Load images from a tar archive or stdin
    Load(LoadArgs),
    /// Import a root filesystem tarball or directory as an image
    Import(ImportArgs),
    /// Download an image from a registry
    Pull(PullArgs),
    /// Upload an image to a registry
    Push(PushArgs),
    /// Build an image from a Dockerfile or Containerfile and a context directory
    Build(crate::build::BuildArgs),
    /// Manage the build cache
    #[command(subcommand)]
    Builder(BuilderCommand),
    /// Log in to a registry
    Login(LoginArgs),
    /// Log out from a registry
    Logout(LogoutArgs),
    /// `run --pull`'s pull of an image, in yurta-registry (internal)
    #[command(name = "__pull-for-run", hide = true)]
    PullForRun(PullForRunArgs),
    /// Manage yurta
    #[command(subcommand)]
    System(SystemCommand),
    /// Run a registry server: serve, gc (in yurta-registry-server)
    #[command(subcommand)]
    Registry(crate::registry_server::RegistryCommand),
    /// Manage volumes
    #[command(subcommand)]
    Volume(crate::volume::VolumeCommand),
    /// Manage containers
    #[command(subcommand)]
    Container(crate::container::ContainerSub),
    /// Manage networks
    #[command(subcommand)]
    Network(crate::network::NetworkCommand),
    /// Manage virtual machines (QEMU/KVM)
    #[command(subcommand)]
    Vm(crate::vm::args::VmCommand),
    /// Manage manifest lists: one name for several platforms (amd64, e2k v3–v7, …)
    #[command(subcommand)]
    Manifest(crate::manifest::ManifestCommand),
    /// Manage the web console's accounts (the console runs in `system service --web`)
    #[command(subcommand)]
    Web(crate::web::WebCommand),
    #[command(flatten)]
    Containers(crate::container::ContainerCommand),
    /// Show what happened: container, image, network, volume and VM events
    Events(crate::events::EventsArgs),
    /// Show the yurta version information
    Version(crate::version::VersionArgs),
    /// Show system-wide information
    Info(crate::info::InfoArgs),
    /// Print the shell completion script (bash, zsh or fish)
    Completion(crate::completion::CompletionArgs),
    /// Write the manual pages into a directory (the install script)
    #[command(name = "__man", hide = true)]
    Man(crate::completion::ManArgs),
}

#[derive(Subcommand)]
pub enum ImageCommand {
    /// List images
    #[command(alias = "list")]
    Ls(ListArgs),
    /// Show low-level information on images
    Inspect(InspectArgs),
    /// Remove one or more images
    #[command(alias = "remove")]
    Rm(RmArgs),
    /// Create a tag TARGET that refers to SOURCE
    Tag(TagArgs),
    /// Show the history of an image
    History(HistoryArgs),
    /// Remove unused images
    Prune(PruneArgs),
    /// Save images to a tar archive
    Save(SaveArgs),
    /// Load images from a tar archive
    Load(LoadArgs),
    /// Import a root filesystem as an image
    Import(ImportArgs),
    /// Download an image from a registry
    Pull(PullArgs),
    /// Upload an image to a registry
    Push(PushArgs),
}

#[derive(Subcommand)]
pub enum SystemCommand {
    /// Show disk usage
    Df(DfArgs),
    /// Remove stopped containers, unused networks, dangling (or, with -a,
    /// unused) images and, with --volumes, unused anonymous volumes
    Prune(crate::prune::SystemPruneArgs),
    /// Show system-wide information
    Info(crate::info::InfoArgs),
    /// Show what happened (as `yurta events`)
    Events(crate::events::EventsArgs),
    /// After a host reboot: start the containers whose restart policy asks for it
    /// (always; unless-stopped unless stopped by the user). Run once at boot
    Boot,
    /// Serve the Docker Engine API (docs/api.md) on a unix socket or TCP
    Service(crate::system::ServiceArgs),
}

#[derive(Args)]
pub struct ListArgs {
    /// Only show image IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Show all images (the default hides nothing: there are no intermediate images)
    #[arg(short, long)]
    pub all: bool,
    /// table, table TEMPLATE, json, or a Go template (docs/formats.md)
    #[arg(long)]
    pub format: Option<String>,
    /// reference=PATTERN, dangling=true|false
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Do not truncate IDs
    #[arg(long)]
    pub no_trunc: bool,
    /// Show digests
    #[arg(long)]
    pub digests: bool,
    /// Only images of this repository[:tag]
    pub reference: Option<String>,
}

#[derive(Args)]
pub struct InspectArgs {
    /// A Go template over each image, or json (default: indented JSON)
    #[arg(short, long)]
    pub format: Option<String>,
    #[arg(required = true)]
    pub images: Vec<String>,
}

/// `yurta inspect`: containers, then images.
#[derive(Args)]
pub struct AnyInspectArgs {
    #[command(flatten)]
    pub args: crate::container::args::InspectArgs,
}

#[derive(Args)]
pub struct RmArgs {
    /// Remove the image even when several tags point at it
    #[arg(short, long)]
    pub force: bool,
    /// Kept for Docker compatibility (there are no parent images to keep)
    #[arg(long)]
    pub no_prune: bool,
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[derive(Args)]
pub struct TagArgs {
    pub source: String,
    pub target: String,
}

#[derive(Args)]
pub struct HistoryArgs {
    /// Only show image IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Do not truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Print sizes and dates in a human-readable format
    #[arg(short = 'H', long, default_value_t = true, action = clap::ArgAction::Set)]
    pub human: bool,
    /// table, table TEMPLATE, json, or a Go template (docs/formats.md)
    #[arg(long)]
    pub format: Option<String>,
    pub image: String,
}

#[derive(Args)]
pub struct PruneArgs {
    /// Remove all images not used by containers, not only dangling ones
    #[arg(short, long)]
    pub all: bool,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
}

#[derive(Args)]
pub struct SaveArgs {
    /// Write to a file instead of stdout
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// docker-archive (default) or oci-archive
    #[arg(long, default_value = "docker-archive")]
    pub format: String,
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[derive(Args)]
pub struct LoadArgs {
    /// Read from a file instead of stdin
    #[arg(short, long)]
    pub input: Option<PathBuf>,
    /// Suppress the progress output
    #[arg(short, long)]
    pub quiet: bool,
    /// The platform to take from a multi-platform archive (default: the host's)
    #[arg(long)]
    pub platform: Option<String>,
}

#[derive(Args)]
pub struct ImportArgs {
    /// Apply a Dockerfile instruction to the image (CMD, ENTRYPOINT, ENV, ...)
    #[arg(short, long)]
    pub change: Vec<String>,
    /// Set the commit message (the history comment)
    #[arg(short, long)]
    pub message: Option<String>,
    /// os/arch[/variant] of the image (default: the host's)
    #[arg(long)]
    pub platform: Option<String>,
    /// A tarball (plain, gzip or zstd), a directory, an http(s) URL of a
    /// tarball, or - for stdin
    pub source: String,
    /// name[:tag] for the image
    pub reference: Option<String>,
}

/// How a registry is reached: TLS, credentials file (pull, push, login).
#[derive(Args)]
pub struct RegistryOpts {
    /// Require HTTPS and verify certificates (`--tls-verify=false`: do not verify)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub tls_verify: Option<bool>,
    /// The credentials file (default: $YURTA_AUTH_FILE, else ~/.config/yurta/auth.json)
    #[arg(long, env = "YURTA_AUTH_FILE")]
    pub authfile: Option<PathBuf>,
}

#[derive(Args)]
pub struct PullArgs {
    /// os/arch[/variant] to take from a multi-platform image (default: the host's)
    #[arg(long)]
    pub platform: Option<String>,
    /// Only print the image's name when done
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub registry: RegistryOpts,
    /// NAME[:TAG|@DIGEST]
    pub image: String,
}

#[derive(Args)]
pub struct PullForRunArgs {
    #[arg(long)]
    pub platform: Option<String>,
    pub image: String,
}

#[derive(Args)]
pub struct PushArgs {
    /// Only print the digest when done
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub registry: RegistryOpts,
    /// A local image: name[:tag], ID or digest
    pub image: String,
    /// Where to push (podman's two-argument form; default: IMAGE)
    pub destination: Option<String>,
}

#[derive(Args)]
pub struct LoginArgs {
    #[arg(short, long)]
    pub username: Option<String>,
    /// The password (prefer --password-stdin)
    #[arg(short, long)]
    pub password: Option<String>,
    /// Read the password from stdin
    #[arg(long)]
    pub password_stdin: bool,
    #[command(flatten)]
    pub registry: RegistryOpts,
    /// host[:port] (default docker.io)
    pub server: Option<String>,
}

#[derive(Args)]
pub struct LogoutArgs {
    /// The credentials file (default: $YURTA_AUTH_FILE, else ~/.config/yurta/auth.json)
    #[arg(long, env = "YURTA_AUTH_FILE")]
    pub authfile: Option<PathBuf>,
    /// host[:port] (default docker.io)
    pub server: Option<String>,
}

#[derive(Args)]
pub struct DfArgs {
    /// Show detailed information
    #[arg(short, long)]
    pub verbose: bool,
    /// table, table TEMPLATE, json, or a Go template (docs/formats.md)
    #[arg(long)]
    pub format: Option<String>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}

#[derive(Subcommand)]
pub enum BuilderCommand {
    /// Remove the build cache
    Prune(crate::prune::BuilderPruneArgs),
}

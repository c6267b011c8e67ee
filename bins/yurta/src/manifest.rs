//! `yurta manifest`: one image name for several platforms (amd64 beside
//! e2k v3…v7), as podman and docker have it — local lists over the
//! engine's `yurta_engine::manifest`, pushed by `manifest push`
//! (`yurta_engine::distribution::push_list`, in `yurta-registry`, which
//! links OpenSSL). `yurta pull` of the index picks the host's best entry.

use clap::{Args, Subcommand};
use yurta_engine::manifest::{ManifestLists, Overrides};
use yurta_error::ErrorKind;

use crate::cli::RegistryOpts;
use crate::Ctx;

#[derive(Subcommand)]
pub enum ManifestCommand {
    /// Make a manifest list of local images
    Create(CreateArgs),
    /// Add a local image to a list
    Add(EntryArgs),
    /// Set an entry's platform or annotations
    Annotate(EntryArgs),
    /// Take an image out of a list
    Remove(RemoveArgs),
    /// Remove manifest lists (not their images)
    Rm(RmArgs),
    /// Print a list as the OCI image index it pushes
    Inspect(InspectArgs),
    /// Push a list (with --all, its images first) to a registry
    Push(PushArgs),
}

#[derive(Args)]
pub struct CreateArgs {
    /// Add to a list of that name if there is one
    #[arg(long)]
    pub amend: bool,
    /// The list's name (NAME[:TAG])
    pub list: String,
    /// Local images: names, IDs or digests
    pub images: Vec<String>,
}

#[derive(Args)]
pub struct EntryArgs {
    /// The entry's OS (default: the image's)
    #[arg(long)]
    pub os: Option<String>,
    /// The entry's architecture, e.g. amd64, arm64, e2k (default: the image's)
    #[arg(long)]
    pub arch: Option<String>,
    /// The entry's variant, e.g. v6 for an Elbrus-16C image, v8 for arm64
    #[arg(long)]
    pub variant: Option<String>,
    /// CPU features (comma-separated)
    #[arg(long, value_delimiter = ',')]
    pub features: Vec<String>,
    /// OS features (comma-separated)
    #[arg(long, value_delimiter = ',')]
    pub os_features: Vec<String>,
    /// An annotation of the entry, KEY=VALUE (repeatable)
    #[arg(long)]
    pub annotation: Vec<String>,
    /// The list's name
    pub list: String,
    /// A local image (add), or an entry's image or digest (annotate)
    pub image: String,
}

#[derive(Args)]
pub struct RemoveArgs {
    pub list: String,
    /// An entry's image or digest
    pub image: String,
}

#[derive(Args)]
pub struct RmArgs {
    #[arg(required = true)]
    pub lists: Vec<String>,
}

#[derive(Args)]
pub struct InspectArgs {
    #[command(flatten)]
    pub registry: RegistryOpts,
    /// A local list, else an image or list in a registry (printed as
    /// stored there)
    pub list: String,
}

#[derive(Args)]
pub struct PushArgs {
    /// Push the list's images too (by digest, untagged) before the list
    #[arg(long)]
    pub all: bool,
    /// Only print the list's digest when done
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub registry: RegistryOpts,
    pub list: String,
    /// Where to (NAME[:TAG]; default: the list's name)
    pub destination: Option<String>,
}

pub fn run(ctx: &Ctx, c: ManifestCommand) -> anyhow::Result<()> {
    let lists = ManifestLists::new(&ctx.root);
    match c {
        ManifestCommand::Create(a) => {
            let rec = lists.create(&a.list, &a.images, a.amend)?;
            outln!("{}", rec.name)?;
        }
        ManifestCommand::Add(a) => {
            let entry = lists.add(&a.list, &a.image, &overrides(&a))?;
            outln!("{}", entry.digest)?;
        }
        ManifestCommand::Annotate(a) => {
            lists.annotate(&a.list, &a.image, &overrides(&a))?;
            outln!("{}", ManifestLists::normalize(&a.list)?)?;
        }
        ManifestCommand::Remove(a) => {
            lists.remove_entry(&a.list, &a.image)?;
            outln!("{}", a.image)?;
        }
        ManifestCommand::Rm(a) => {
            let mut failed = false;
            for list in &a.lists {
                match lists.remove(list) {
                    Ok(()) => outln!("{list}")?,
                    Err(e) => {
                        errln!("yurta: {}", crate::out::OneLine(&e));
                        failed = true;
                    }
                }
            }
            if failed {
                return Err(crate::container::Exit {
                    code: 125,
                    message: None,
                }
                .into());
            }
        }
        ManifestCommand::Inspect(a) => match lists.get(&a.list) {
            Ok(rec) => outln!("{}", String::from_utf8_lossy(&ManifestLists::index(&rec)?))?,
            Err(e) if kind_of(&e) == Some(ErrorKind::NotFound) => {
                (ctx.registry)(ctx, crate::RegistryCommand::ManifestInspect(a))?
            }
            Err(e) => return Err(e),
        },
        ManifestCommand::Push(a) => (ctx.registry)(ctx, crate::RegistryCommand::ManifestPush(a))?,
    }
    Ok(())
}

fn overrides(a: &EntryArgs) -> Overrides {
    Overrides {
        os: a.os.clone(),
        arch: a.arch.clone(),
        variant: a.variant.clone(),
        features: a.features.clone(),
        os_features: a.os_features.clone(),
        annotations: a.annotation.clone(),
    }
}

fn kind_of(e: &anyhow::Error) -> Option<ErrorKind> {
    e.downcast_ref::<yurta_error::Error>().map(|e| e.kind)
}

/// `manifest inspect` of a name with no local list, in `yurta-registry`:
/// what its registry stores under it, byte for byte.
pub fn inspect_remote(_ctx: &Ctx, a: InspectArgs) -> anyhow::Result<()> {
    let client = crate::registry::client(&a.registry);
    let found = yurta_engine::distribution::remote::manifest(&client, &a.list)
        .map_err(|e| anyhow::anyhow!("{}: no such manifest list here; {e}", a.list))?;
    let text = String::from_utf8_lossy(&found.bytes);
    outln!("{}", text.trim_end())?;
    Ok(())
}

/// `manifest push`, in `yurta-registry`.
pub fn push(ctx: &Ctx, a: PushArgs) -> anyhow::Result<()> {
    let client = crate::registry::client(&a.registry);
    let report = crate::registry::Report::new(a.quiet);
    let dest = a.destination.clone().unwrap_or_else(|| a.list.clone());
    let pushed =
        yurta_engine::distribution::push_list(&ctx.root, &a.list, &dest, a.all, &client, &report)?;
    if a.quiet {
        outln!("{}", pushed.digest)?;
    }
    Ok(())
}

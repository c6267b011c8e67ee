//! save, load, import.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::Path;

use anyhow::{bail, Context};
use yurta_images::{ArchiveFormat, ImportOptions, ImportSource, Store};

use crate::cli::{ImportArgs, LoadArgs, SaveArgs};
use crate::{progress, Ctx};

pub fn save(ctx: &Ctx, a: SaveArgs) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let format: ArchiveFormat = a.format.parse()?;
    let catalog = store.list()?;
    let mut items = Vec::new();
    for name in &a.images {
        let one = yurta_images::service::save_items(&catalog, std::slice::from_ref(name))
            .with_context(|| format!("save {name}"))?;
        items.extend(one);
    }
    let report = progress::reporter(false);
    match &a.output {
        Some(path) => {
            let tmp = path.with_extension("yurta-partial");
            let file =
                File::create(&tmp).with_context(|| format!("save: create {}", tmp.display()))?;
            let saved = yurta_images::save(
                &store,
                &items,
                format,
                BufWriter::new(file),
                report.as_ref(),
            )
            .map_err(anyhow::Error::from)
            .and_then(|out| finish(out, &tmp, path));
            if saved.is_err() {
                // A failed save (a full disk, say) leaves no partial archive.
                let _ = std::fs::remove_file(&tmp);
            }
            saved
        }
        None if io::stdout().is_terminal() => bail!(
            "save: refusing to write an archive to a terminal; use -o FILE or redirect stdout"
        ),
        None => {
            let out = yurta_images::save(
                &store,
                &items,
                format,
                BufWriter::new(crate::out::Stdout::lock()),
                report.as_ref(),
            )?;
            out.into_inner()
                .map_err(|e| e.into_error())?
                .flush()
                .context("save: write to stdout")
        }
    }
}

/// Flushes and renames the finished archive into place, so an interrupted
/// save never leaves a truncated archive under the requested name.
fn finish(out: BufWriter<File>, tmp: &Path, path: &Path) -> anyhow::Result<()> {
    let file = out
        .into_inner()
        .map_err(|e| e.into_error())
        .with_context(|| format!("save: write {}", tmp.display()))?;
    file.sync_all()
        .with_context(|| format!("save: fsync {}", tmp.display()))?;
    std::fs::rename(tmp, path).with_context(|| format!("save: rename into {}", path.display()))
}

pub fn load(ctx: &Ctx, a: LoadArgs) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let platform = crate::platform::given(a.platform.as_deref())?;
    let report = progress::reporter(a.quiet);
    let loaded = match &a.input {
        Some(path) => {
            let file =
                File::open(path).with_context(|| format!("load: open {}", path.display()))?;
            yurta_images::load(&store, file, platform.as_ref(), report.as_ref())
        }
        None if io::stdin().is_terminal() => {
            bail!("load: requested load from stdin, but stdin is empty; use -i FILE")
        }
        None => yurta_images::load(
            &store,
            io::stdin().lock(),
            platform.as_ref(),
            report.as_ref(),
        ),
    }
    .context("load")?;
    for l in loaded {
        if l.tags.is_empty() {
            outln!("Loaded image ID: {}", l.image.id)?;
        }
        for t in l.tags {
            crate::events::image_ref("load", &yurta_images::inspect::familiar_tag(&t));
            outln!("Loaded image: {}", yurta_images::inspect::familiar_tag(&t))?;
        }
    }
    Ok(())
}

pub fn import(ctx: &Ctx, a: ImportArgs) -> anyhow::Result<()> {
    if yurta_engine::fetch::is_url(&a.source) {
        return (ctx.registry)(ctx, crate::RegistryCommand::ImportUrl(a));
    }
    let (store, opts) = import_options(ctx, &a)?;
    let source = if a.source == "-" {
        ImportSource::Tar {
            name: "-".into(),
            reader: Box::new(io::stdin().lock()),
        }
    } else {
        let path = Path::new(&a.source);
        if path.is_dir() {
            ImportSource::Dir(path)
        } else {
            let file =
                File::open(path).with_context(|| format!("import: open {}", path.display()))?;
            ImportSource::Tar {
                name: a.source.clone(),
                reader: Box::new(file),
            }
        }
    };
    finish_import(&store, source, &opts, &a.source)
}

/// `import URL`, in `yurta-registry` (the download may need OpenSSL): the
/// body streams into the import, never whole on disk or in memory.
pub fn import_url(ctx: &Ctx, a: ImportArgs) -> anyhow::Result<()> {
    let (store, opts) = import_options(ctx, &a)?;
    let body = yurta_engine::fetch::get(&a.source).context("import")?;
    let source = ImportSource::Tar {
        name: a.source.clone(),
        reader: body,
    };
    finish_import(&store, source, &opts, &a.source)
}

fn import_options(ctx: &Ctx, a: &ImportArgs) -> anyhow::Result<(Store, ImportOptions)> {
    let opts = ImportOptions {
        platform: crate::platform::given(a.platform.as_deref())?,
        changes: a.change.clone(),
        message: a.message.clone(),
        reference: a.reference.clone(),
    };
    Ok((ctx.store()?, opts))
}

fn finish_import(
    store: &Store,
    source: ImportSource,
    opts: &ImportOptions,
    named: &str,
) -> anyhow::Result<()> {
    let report = progress::reporter(false);
    let image = yurta_images::import(store, source, opts, report.as_ref())?;
    crate::events::image("import", &image.id.to_string(), named);
    outln!("{}", image.id)?;
    Ok(())
}

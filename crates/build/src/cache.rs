//! Cache keys of build steps. A step's key is a SHA-256 over its parent's
//! key, the step with every argument expanded, and its inputs:
//!
//! - COPY/ADD from the context: each selected file's path below its
//!   source, type, mode bits, size, content digest and link target —
//!   not its mtime, and not its owner, because files from the context
//!   land owned by root or by `--chown`, which is part of the step;
//! - COPY --from / RUN --mount from= a stage: that stage's final key;
//!   from an image: its reference and the digest it resolved to;
//! - RUN --mount=type=bind without from: the context files it binds.
//!
//! A stage's first key comes from its base: `scratch` and the platform, an
//! image's reference, platform and resolved digest, or the final key of
//! the stage it is built on. Changing one copied file therefore changes
//! the key of that COPY and of every later step, and nothing before it.

use std::fs::File;
use std::io::Read;

use sha2::{Digest, Sha256};

use crate::ast::Source;
use crate::context::{is_url, Context, ContextError, EntryKind, Selection};
use crate::mount::MountType;
use crate::plan::{Base, CopyFrom, Op, Plan, Step};
use crate::platform::Platform;

/// A step's cache key (hex SHA-256).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(pub String);

/// The keys of one stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageKeys {
    pub base: Key,
    /// One per step of the stage.
    pub steps: Vec<Key>,
}

impl StageKeys {
    /// The key of the stage's result.
    pub fn result(&self) -> &Key {
        self.steps.last().unwrap_or(&self.base)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{file}:{line}: {instruction}: {source}")]
    Context {
        file: String,
        line: usize,
        instruction: &'static str,
        #[source]
        source: ContextError,
    },
    #[error("{file}:{line}: {instruction}: when using {instruction} with more than one source file, the destination must be a directory and end with a /")]
    NotDirectory {
        file: String,
        line: usize,
        instruction: &'static str,
    },
}

/// Resolves an image reference for a platform to its manifest digest,
/// when the caller knows it.
pub trait ImageDigests {
    fn digest(&self, reference: &str, platform: &Platform) -> Option<String>;
}

/// No digests known: image keys use the reference alone.
pub struct NoDigests;

impl ImageDigests for NoDigests {
    fn digest(&self, _: &str, _: &Platform) -> Option<String> {
        None
    }
}

/// Length-prefixed fields, so that no two different field lists hash alike.
struct Hasher(Sha256);

impl Hasher {
    fn new(kind: &str) -> Hasher {
        let mut h = Hasher(Sha256::new());
        h.field(kind.as_bytes());
        h
    }

    fn field(&mut self, bytes: &[u8]) -> &mut Hasher {
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
        self
    }

    fn text(&mut self, s: &str) -> &mut Hasher {
        self.field(s.as_bytes())
    }

    fn key(self) -> Key {
        Key(hex::encode(self.0.finalize()))
    }
}

/// The keys of every stage the plan's target needs (`None` for the
/// others), hashing the context files the steps use.
pub fn keys(
    plan: &Plan,
    context: &Context,
    images: &dyn ImageDigests,
) -> Result<Vec<Option<StageKeys>>, KeyError> {
    let mut all: Vec<Option<StageKeys>> = vec![None; plan.stages.len()];
    for index in plan.order() {
        let stage = &plan.stages[index];
        let base = match &stage.base {
            Base::Scratch => {
                let mut h = Hasher::new("scratch");
                h.text(&stage.platform.to_string());
                h.key()
            }
            Base::Image(reference) => image_key(reference, &stage.platform, images),
            Base::Stage(i) => result_of(&all, *i),
        };
        let mut parent = base.clone();
        let mut steps = Vec::new();
        for step in &stage.steps {
            let inputs = inputs(plan, &all, step, &stage.platform, context, images)?;
            parent = step_key(&parent, &step.op, inputs.as_ref());
            steps.push(parent.clone());
        }
        all[index] = Some(StageKeys { base, steps });
    }
    Ok(all)
}

/// The key of `op` run on the result `parent`, with the digest of its inputs.
pub fn step_key(parent: &Key, op: &Op, inputs: Option<&Key>) -> Key {
    let mut h = Hasher::new("step");
    h.text(&parent.0);
    // The Debug form holds every expanded argument of the step; proxy
    // settings are left out, as Docker does.
    match op {
        Op::Run { proxy_args, .. } if !proxy_args.is_empty() => {
            let mut op = op.clone();
            if let Op::Run { proxy_args, .. } = &mut op {
                proxy_args.clear();
            }
            h.text(&format!("{op:?}"));
        }
        _ => {
            h.text(&format!("{op:?}"));
        }
    }
    h.text(inputs.map_or("", |k| k.0.as_str()));
    h.key()
}

fn image_key(reference: &str, platform: &Platform, images: &dyn ImageDigests) -> Key {
    let mut h = Hasher::new("image");
    h.text(reference).text(&platform.to_string());
    h.text(&images.digest(reference, platform).unwrap_or_default());
    h.key()
}

fn result_of(all: &[Option<StageKeys>], stage: usize) -> Key {
    // Plan::order puts dependencies first, so the stage has keys already.
    all.get(stage)
        .and_then(|k| k.as_ref())
        .map(|k| k.result().clone())
        .unwrap_or_else(|| Key(String::new()))
}

fn inputs(
    plan: &Plan,
    all: &[Option<StageKeys>],
    step: &Step,
    platform: &Platform,
    context: &Context,
    images: &dyn ImageDigests,
) -> Result<Option<Key>, KeyError> {
    let instruction = step_keyword(&step.op);
    let in_context = |e: ContextError| KeyError::Context {
        file: plan.file.clone(),
        line: step.line,
        instruction,
        source: e,
    };
    match &step.op {
        Op::Copy(copy) => {
            match &copy.from {
                CopyFrom::Stage(i) => return Ok(Some(result_of(all, *i))),
                CopyFrom::Image(r) => return Ok(Some(image_key(r, platform, images))),
                CopyFrom::Context => {}
            }
            let paths: Vec<String> = copy
                .sources
                .iter()
                .filter_map(|s| match s {
                    Source::Path(p) if !(copy.add && is_url(p)) => Some(p.clone()),
                    _ => None,
                })
                .collect();
            let selection = context.select(&paths).map_err(in_context)?;
            let count = selection.roots.len() + copy.sources.len() - paths.len();
            if count > 1 && !copy.dest.ends_with('/') {
                return Err(KeyError::NotDirectory {
                    file: plan.file.clone(),
                    line: step.line,
                    instruction,
                });
            }
            Ok(Some(selection_digest(&selection).map_err(in_context)?))
        }
        Op::Run { mounts, .. } => {
            let mut h = Hasher::new("mounts");
            let mut any = false;
            for mount in mounts.iter().filter(|m| m.kind == MountType::Bind) {
                any = true;
                let key = match mount.from.as_deref() {
                    Some(from) => match stage_named(plan, from) {
                        Some(i) => result_of(all, i),
                        None => image_key(from, platform, images),
                    },
                    None => {
                        let source = mount.source.clone().unwrap_or_else(|| ".".into());
                        let selection = context.select(&[source]).map_err(in_context)?;
                        selection_digest(&selection).map_err(in_context)?
                    }
                };
                h.text(&key.0);
            }
            Ok(any.then(|| h.key()))
        }
        _ => Ok(None),
    }
}

/// A `from=` value naming a stage by index or name.
fn stage_named(plan: &Plan, from: &str) -> Option<usize> {
    if let Ok(i) = from.parse::<usize>() {
        return (i < plan.stages.len()).then_some(i);
    }
    let lower = from.to_ascii_lowercase();
    plan.stages
        .iter()
        .position(|s| s.name.as_deref() == Some(lower.as_str()))
}

fn step_keyword(op: &Op) -> &'static str {
    match op {
        Op::Run { .. } => "RUN",
        Op::Copy(c) if c.add => "ADD",
        Op::Copy(_) => "COPY",
        _ => "STEP",
    }
}

/// The digest of the selected files' content and metadata.
pub fn selection_digest(selection: &Selection) -> Result<Key, ContextError> {
    let mut h = Hasher::new("selection");
    for (root, name) in selection.roots.iter().zip(&selection.names) {
        h.text(root).text(name);
    }
    for entry in &selection.entries {
        h.text(&entry.root.to_string()).text(&entry.rel);
        h.text(&format!("{:o}", entry.mode));
        match &entry.kind {
            EntryKind::File { size } => {
                h.text("file").text(&size.to_string());
                h.text(&file_digest(&entry.host_path)?);
            }
            EntryKind::Dir => {
                h.text("dir");
            }
            EntryKind::Symlink { target } => {
                h.text("symlink").text(target);
            }
            EntryKind::Other => {
                h.text("other");
            }
        }
    }
    Ok(h.key())
}

fn file_digest(path: &std::path::Path) -> Result<String, ContextError> {
    let io = |error| ContextError::Io {
        path: path.to_path_buf(),
        error,
    };
    let mut file = File::open(path).map_err(io)?;
    let mut sha = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        sha.update(&buf[..n]);
    }
    Ok(hex::encode(sha.finalize()))
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;

//! The build context: which files COPY and ADD take from it.
//!
//! Sources are paths relative to the context root (a leading `/` means the
//! root too); a path that climbs out of it (`../x`) is refused. Symbolic
//! links met while resolving a source are followed *inside* the context:
//! an absolute target is taken from the context root and `..` stops at
//! the root, so a link can never reach a file outside it. Links found while
//! walking a directory are copied as links. A directory source stands for
//! its contents. `.dockerignore` (or `<Dockerfile>.dockerignore` beside the
//! Dockerfile, or podman's `.containerignore`) removes files from the
//! context as if they were not there.

use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::ignore::{clean, Ignore, Pattern};

/// ADD sources fetched over the network rather than from the context.
pub fn is_url(source: &str) -> bool {
    source.starts_with("http://") || source.starts_with("https://")
}

#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error("forbidden path outside the build context: {0}")]
    Outside(String),
    #[error("file not found in build context or excluded by .dockerignore: {0}")]
    NotFound(String),
    #[error("no source files were specified: {0} matches no file of the build context")]
    NoMatch(String),
    #[error("too many levels of symbolic links resolving {0}")]
    SymlinkLoop(String),
    #[error("{0}")]
    Ignore(String),
    #[error("{path}: {error}")]
    Io { path: PathBuf, error: io::Error },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> ContextError + '_ {
    move |error| ContextError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// What one selected entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    File {
        size: u64,
    },
    Dir,
    Symlink {
        target: String,
    },
    /// Devices, fifos and sockets: copied as they are.
    Other,
}

/// One file of a selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Which of the selected roots it belongs to.
    pub root: usize,
    /// Path below that root (`""` for the root itself when it is not a
    /// directory).
    pub rel: String,
    /// Path in the context after following links.
    pub context_path: String,
    pub host_path: PathBuf,
    pub kind: EntryKind,
    /// Permission bits with setuid, setgid and sticky (`st_mode & 07777`).
    pub mode: u32,
}

/// The files one COPY or ADD takes from the context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// The source paths after glob expansion and link resolution, in
    /// order; a directory here stands for its contents.
    pub roots: Vec<String>,
    /// The same before following links: a file root lands at the
    /// destination under the base name of its name here (`COPY link /x/`
    /// makes `/x/link` with the content of what `link` points to).
    pub names: Vec<String>,
    pub entries: Vec<Entry>,
}

pub struct Context {
    root: PathBuf,
    ignore: Ignore,
}

impl Context {
    /// Opens the context at `root`, reading the ignore file that applies
    /// to `dockerfile` (a path on the host, when it has one).
    pub fn open(root: &Path, dockerfile: Option<&Path>) -> Result<Context, ContextError> {
        let mut candidates = Vec::new();
        if let Some(df) = dockerfile {
            let mut name = df.as_os_str().to_owned();
            name.push(".dockerignore");
            candidates.push(PathBuf::from(name));
        }
        candidates.push(root.join(".dockerignore"));
        candidates.push(root.join(".containerignore"));
        for path in candidates {
            match fs::read_to_string(&path) {
                Ok(text) => {
                    let name = path.display().to_string();
                    let ignore = Ignore::parse(&name, &text).map_err(ContextError::Ignore)?;
                    return Ok(Context::with_ignore(root, ignore));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error(&path)(e)),
            }
        }
        Ok(Context::with_ignore(root, Ignore::default()))
    }

    pub fn with_ignore(root: &Path, ignore: Ignore) -> Context {
        Context {
            root: root.to_path_buf(),
            ignore,
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Selects the files of `sources` (paths or globs as COPY takes them).
    pub fn select(&self, sources: &[String]) -> Result<Selection, ContextError> {
        let mut roots = Vec::new();
        for source in sources {
            let rel = confine(source)?;
            if has_glob(&rel) {
                let pattern = Pattern::new(&rel, false).map_err(ContextError::Ignore)?;
                let mut all = Vec::new();
                self.walk("", &mut |path, _| all.push(path.to_string()))?;
                let before = roots.len();
                roots.extend(all.into_iter().filter(|p| pattern.matches(p)));
                if roots.len() == before {
                    return Err(ContextError::NoMatch(source.clone()));
                }
            } else {
                if !rel.is_empty() && self.ignore.excludes(&rel) && !self.brings_back(&rel)? {
                    return Err(ContextError::NotFound(source.clone()));
                }
                roots.push(rel);
            }
        }
        let mut selection = Selection {
            roots: Vec::new(),
            names: Vec::new(),
            entries: Vec::new(),
        };
        for (index, path) in roots.into_iter().enumerate() {
            let resolved = self.resolve(&path)?;
            self.add_root(index, &resolved, &mut selection)?;
            selection.roots.push(resolved);
            selection.names.push(path);
        }
        Ok(selection)
    }

    /// Whether an excluded path is a directory that `!` patterns bring
    /// some files back into (it then exists in the context as their parent).
    fn brings_back(&self, path: &str) -> Result<bool, ContextError> {
        if !self.ignore.has_exceptions() || !self.host(path).is_dir() {
            return Ok(false);
        }
        let mut any = false;
        self.walk(path, &mut |_, _| any = true)?;
        Ok(any)
    }

    fn add_root(
        &self,
        index: usize,
        path: &str,
        selection: &mut Selection,
    ) -> Result<(), ContextError> {
        let host = self.host(path);
        let meta = fs::symlink_metadata(&host).map_err(io_error(&host))?;
        if !meta.is_dir() {
            selection
                .entries
                .push(entry(index, String::new(), path, host, &meta)?);
            return Ok(());
        }
        let mut found = Vec::new();
        self.walk(path, &mut |p, meta| {
            found.push((p.to_string(), meta.clone()))
        })?;
        for (p, meta) in found {
            let rel = if path.is_empty() {
                p.clone()
            } else {
                p[path.len() + 1..].to_string()
            };
            let host = self.host(&p);
            selection.entries.push(entry(index, rel, &p, host, &meta)?);
        }
        Ok(())
    }

    fn host(&self, path: &str) -> PathBuf {
        if path.is_empty() {
            self.root.clone()
        } else {
            self.root.join(path)
        }
    }

    /// Calls `found` for everything below `dir` (context-relative) that is
    /// not ignored, in name order, parents before children; an ignored
    /// directory is reported too when `!` patterns bring back something in
    /// it (it is their parent). Links are not followed.
    fn walk(
        &self,
        dir: &str,
        found: &mut dyn FnMut(&str, &fs::Metadata),
    ) -> Result<(), ContextError> {
        self.walk_below(dir, &mut Vec::new(), found)
    }

    fn walk_below(
        &self,
        dir: &str,
        pending: &mut Vec<(String, fs::Metadata)>,
        found: &mut dyn FnMut(&str, &fs::Metadata),
    ) -> Result<(), ContextError> {
        let host = self.host(dir);
        let mut names: Vec<String> = Vec::new();
        for item in fs::read_dir(&host).map_err(io_error(&host))? {
            let item = item.map_err(io_error(&host))?;
            names.push(item.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        for name in names {
            let path = if dir.is_empty() {
                name
            } else {
                format!("{dir}/{name}")
            };
            let host = self.host(&path);
            let meta = fs::symlink_metadata(&host).map_err(io_error(&host))?;
            let excluded = self.ignore.excludes(&path);
            if !excluded {
                for (parent, parent_meta) in pending.drain(..) {
                    found(&parent, &parent_meta);
                }
                found(&path, &meta);
            }
            if meta.is_dir() && (!excluded || self.ignore.has_exceptions()) {
                if excluded {
                    pending.push((path.clone(), meta.clone()));
                }
                self.walk_below(&path, pending, found)?;
                if pending.last().is_some_and(|(p, _)| *p == path) {
                    pending.pop();
                }
            }
        }
        Ok(())
    }

    /// Follows links in `path` without leaving the context; returns the
    /// context-relative path of what it names.
    fn resolve(&self, path: &str) -> Result<String, ContextError> {
        let mut done: Vec<String> = Vec::new();
        let mut todo: Vec<String> = path.split('/').rev().map(str::to_string).collect();
        let mut hops = 0;
        while let Some(part) = todo.pop() {
            match part.as_str() {
                "" | "." => continue,
                ".." => {
                    done.pop();
                    continue;
                }
                _ => {}
            }
            let candidate = self.root.join(done.join("/")).join(&part);
            let meta = match fs::symlink_metadata(&candidate) {
                Ok(m) => m,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(ContextError::NotFound(path.to_string()))
                }
                Err(e) => return Err(io_error(&candidate)(e)),
            };
            if !meta.file_type().is_symlink() {
                done.push(part);
                continue;
            }
            hops += 1;
            if hops > 40 {
                return Err(ContextError::SymlinkLoop(path.to_string()));
            }
            let target = fs::read_link(&candidate).map_err(io_error(&candidate))?;
            let target = target.to_string_lossy();
            if target.starts_with('/') {
                done.clear();
            }
            todo.extend(target.split('/').rev().map(str::to_string));
        }
        Ok(done.join("/"))
    }
}

fn entry(
    root: usize,
    rel: String,
    path: &str,
    host: PathBuf,
    meta: &fs::Metadata,
) -> Result<Entry, ContextError> {
    let ft = meta.file_type();
    let kind = if ft.is_file() {
        EntryKind::File { size: meta.size() }
    } else if ft.is_dir() {
        EntryKind::Dir
    } else if ft.is_symlink() {
        let target = fs::read_link(&host).map_err(io_error(&host))?;
        EntryKind::Symlink {
            target: target.to_string_lossy().into_owned(),
        }
    } else {
        EntryKind::Other
    };
    Ok(Entry {
        root,
        rel,
        context_path: path.to_string(),
        host_path: host,
        kind,
        mode: meta.permissions().mode() & 0o7777,
    })
}

/// A source as a clean context-relative path (`""` for the root); refused
/// when it climbs out of the context.
fn confine(source: &str) -> Result<String, ContextError> {
    let cleaned = clean(source.trim_start_matches('/'));
    if cleaned == ".." || cleaned.starts_with("../") {
        return Err(ContextError::Outside(source.to_string()));
    }
    Ok(if cleaned == "." {
        String::new()
    } else {
        cleaned
    })
}

fn has_glob(path: &str) -> bool {
    path.contains(['*', '?', '['])
}

#[cfg(test)]
#[path = "context_tests.rs"]
mod tests;

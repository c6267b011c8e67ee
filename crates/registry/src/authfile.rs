//! Credentials in a docker-config-compatible file:
//! `{"auths": {"host[:port]": {"auth": base64("user:password")}}}`.
//!
//! Other keys of the file (and other fields of an entry) are kept as they
//! are when an entry is written or removed. Writes go to a temporary file
//! created with mode 0600 in the same directory and renamed over the old
//! one, so the file is never world-readable and never half-written.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{Map, Value};

use crate::config::Credentials;
use crate::error::{Error, Result};
use crate::reference::DOCKER_HUB;

/// A credentials file at a path chosen by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthFile {
    path: PathBuf,
}

impl AuthFile {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        AuthFile { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The credentials stored for `registry`, if any. A missing file is
    /// the same as an empty one.
    pub fn get(&self, registry: &str) -> Result<Option<Credentials>> {
        let doc = self.load()?;
        let Some(auths) = doc.get("auths").and_then(Value::as_object) else {
            return Ok(None);
        };
        let want = normalize_key(registry);
        for (key, entry) in auths {
            if normalize_key(key) != want {
                continue;
            }
            if let Some(c) = self.decode_entry(key, entry)? {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }

    /// Stores (or replaces) the entry for `registry`.
    pub fn store(&self, registry: &str, creds: &Credentials) -> Result<()> {
        let mut doc = self.load()?;
        let auths = auths_mut(&mut doc, &self.path)?;
        let want = normalize_key(registry);
        auths.retain(|k, _| normalize_key(k) != want);
        let token = B64.encode(format!("{}:{}", creds.username, creds.password));
        let mut entry = Map::new();
        entry.insert("auth".into(), Value::String(token));
        auths.insert(registry.to_string(), Value::Object(entry));
        self.save(&doc)
    }

    /// Removes the entry for `registry`; false when there was none.
    pub fn remove(&self, registry: &str) -> Result<bool> {
        let mut doc = self.load()?;
        let auths = auths_mut(&mut doc, &self.path)?;
        let want = normalize_key(registry);
        let before = auths.len();
        auths.retain(|k, _| normalize_key(k) != want);
        if auths.len() == before {
            return Ok(false);
        }
        self.save(&doc)?;
        Ok(true)
    }

    fn load(&self) -> Result<Value> {
        let bytes = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(empty_doc()),
            Err(e) => return Err(Error::file(&self.path, e)),
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(empty_doc());
        }
        let v: Value = serde_json::from_slice(&bytes)
            .map_err(|e| Error::file(&self.path, format!("not JSON: {e}")))?;
        match v {
            Value::Object(_) => Ok(v),
            _ => Err(Error::file(&self.path, "not a JSON object")),
        }
    }

    fn decode_entry(&self, key: &str, entry: &Value) -> Result<Option<Credentials>> {
        let Some(auth) = entry.get("auth").and_then(Value::as_str) else {
            return Ok(None);
        };
        if auth.is_empty() {
            return Ok(None);
        }
        let bad = |why: &str| Error::file(&self.path, format!("auths.{key:?}.auth: {why}"));
        let raw = B64.decode(auth.trim()).map_err(|_| bad("not base64"))?;
        let text = String::from_utf8(raw).map_err(|_| bad("not UTF-8"))?;
        let (user, pass) = text
            .split_once(':')
            .ok_or_else(|| bad("not user:password"))?;
        Ok(Some(Credentials::new(user, pass)))
    }

    fn save(&self, doc: &Value) -> Result<()> {
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| Error::file(dir, e))?;
        let mut bytes = serde_json::to_vec_pretty(doc).expect("a JSON value serializes");
        bytes.push(b'\n');
        let tmp = temp_path(dir, &self.path);
        let result = write_new_0600(&tmp, &bytes)
            .and_then(|()| fs::rename(&tmp, &self.path).map_err(|e| Error::file(&self.path, e)));
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result?;
        // Make the rename durable; failure to sync a directory is harmless.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

fn empty_doc() -> Value {
    Value::Object(Map::new())
}

fn auths_mut<'a>(doc: &'a mut Value, path: &Path) -> Result<&'a mut Map<String, Value>> {
    let obj = doc.as_object_mut().expect("load returns an object");
    let auths = obj
        .entry("auths")
        .or_insert_with(|| Value::Object(Map::new()));
    auths
        .as_object_mut()
        .ok_or_else(|| Error::file(path, "\"auths\" is not an object"))
}

fn temp_path(dir: &Path, target: &Path) -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = target
        .file_name()
        .map_or_else(|| "auth.json".into(), |n| n.to_string_lossy().into_owned());
    dir.join(format!(".{name}.tmp-{}-{n}", std::process::id()))
}

/// Created exclusively with mode 0600: the data is never readable by others.
fn write_new_0600(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::file(path, e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::file(path, e))
}

/// `https://index.docker.io/v1/` → `docker.io`; `http://h:5000/` → `h:5000`.
fn normalize_key(key: &str) -> String {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = k.split('/').next().unwrap_or(k);
    match host {
        "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB.to_string(),
        h => h.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn store_get_remove_keep_other_keys() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("sub/auth.json");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(
            &path,
            r#"{"auths":{"other:1":{"auth":"eDp5"}},"credHelpers":{"a":"b"}}"#,
        )
        .unwrap();
        let f = AuthFile::new(&path);
        f.store("reg:5000", &Credentials::new("u", "p:w")).unwrap();
        assert_eq!(
            f.get("reg:5000").unwrap(),
            Some(Credentials::new("u", "p:w"))
        );
        assert_eq!(f.get("other:1").unwrap(), Some(Credentials::new("x", "y")));
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(f.remove("reg:5000").unwrap());
        assert!(!f.remove("reg:5000").unwrap());
        let v: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        assert_eq!(v["credHelpers"]["a"], "b");
        assert!(v["auths"].get("reg:5000").is_none());
        let leftovers = fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1, "temporary files left behind");
    }

    #[test]
    fn docker_hub_keys_match() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("config.json");
        let auth = B64.encode("me:pw");
        fs::write(
            &path,
            format!(r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{auth}"}}}}}}"#),
        )
        .unwrap();
        let f = AuthFile::new(&path);
        assert_eq!(f.get("docker.io").unwrap().unwrap().username, "me");
        assert_eq!(f.get("quay.io").unwrap(), None);
    }

    #[test]
    fn missing_file_is_empty_and_created_with_private_dir() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("new/dir/auth.json");
        let f = AuthFile::new(&path);
        assert_eq!(f.get("x").unwrap(), None);
        assert!(!f.remove("x").unwrap());
        f.store("x", &Credentials::new("a", "b")).unwrap();
        let mode = fs::metadata(d.path().join("new/dir"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[test]
    fn bad_entries_name_the_file() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("a.json");
        fs::write(&path, r#"{"auths":{"h":{"auth":"!!"}}}"#).unwrap();
        let e = AuthFile::new(&path).get("h").unwrap_err().to_string();
        assert!(e.contains("a.json") && e.contains("base64"), "{e}");
        fs::write(&path, "[1]").unwrap();
        assert!(AuthFile::new(&path).get("h").is_err());
    }
}

//! OCI image layouts written by hand for skopeo to copy into a registry:
//! uncompressed tar layers made by the system's `tar`, configs with a
//! platform, and multi-platform indexes.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

pub const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const INDEX: &str = "application/vnd.oci.image.index.v1+json";
const CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const LAYER: &str = "application/vnd.oci.image.layer.v1.tar";

/// An OCI image layout directory being filled.
pub struct Layout {
    pub dir: PathBuf,
}

impl Layout {
    pub fn new(dir: &Path) -> Layout {
        fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        Layout {
            dir: dir.to_path_buf(),
        }
    }

    /// Stores bytes; returns their descriptor.
    pub fn blob(&self, media_type: &str, bytes: &[u8]) -> Value {
        let digest = yurta_registry::sha256_digest(bytes).to_string();
        let hex = digest.strip_prefix("sha256:").unwrap();
        fs::write(self.dir.join("blobs/sha256").join(hex), bytes).unwrap();
        json!({"mediaType": media_type, "digest": digest, "size": bytes.len()})
    }

    /// A one-layer image of the tar of `rootfs` for `arch[/variant]`;
    /// returns the manifest's descriptor (with its platform).
    pub fn image(&self, rootfs: &Path, arch: &str, variant: Option<&str>) -> Value {
        let tar = super::sh("tar", &["-C", rootfs.to_str().unwrap(), "-cf", "-", "."]);
        assert_eq!(tar.code, 0, "{}", tar.stderr);
        let tar = tar.raw;
        let layer = self.blob(LAYER, &tar);
        let mut platform = json!({"architecture": arch, "os": "linux"});
        if let Some(v) = variant {
            platform["variant"] = json!(v);
        }
        let mut config = platform.clone();
        config["config"] = json!({"Cmd": ["/bin/sh"]});
        config["rootfs"] = json!({"type": "layers", "diff_ids": [layer["digest"]]});
        let config = self.blob(CONFIG, &serde_json::to_vec(&config).unwrap());
        let manifest = json!({
            "schemaVersion": 2, "mediaType": MANIFEST, "config": config, "layers": [layer],
        });
        let mut desc = self.blob(MANIFEST, &serde_json::to_vec(&manifest).unwrap());
        desc["platform"] = platform;
        desc
    }

    /// An index of `entries`; returns its descriptor.
    pub fn index(&self, entries: &[Value]) -> Value {
        let index = json!({"schemaVersion": 2, "mediaType": INDEX, "manifests": entries});
        self.blob(INDEX, &serde_json::to_vec(&index).unwrap())
    }

    /// Names `desc` `tag` in index.json (what `oci:DIR:tag` finds).
    pub fn name(&self, desc: &Value, tag: &str) {
        let mut d = desc.clone();
        d["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
        let index = json!({"schemaVersion": 2, "manifests": [d]});
        fs::write(
            self.dir.join("index.json"),
            serde_json::to_vec(&index).unwrap(),
        )
        .unwrap();
    }

    /// `oci:DIR:tag`, for skopeo.
    pub fn source(&self, tag: &str) -> String {
        format!("oci:{}:{tag}", self.dir.display())
    }
}

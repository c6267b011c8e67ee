//! Tiny images made in memory: one gzip'd tar layer, a config, a manifest,
//! and an OCI image layout directory for skopeo to read.

use std::fs;
use std::io::Write;
use std::path::Path;

use serde_json::json;
use yurta_registry::sha256_digest;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

#[derive(Clone)]
pub struct Blob {
    pub bytes: Vec<u8>,
    pub digest: String,
}

impl Blob {
    pub fn new(bytes: Vec<u8>) -> Blob {
        let digest = sha256_digest(&bytes).to_string();
        Blob { bytes, digest }
    }

    pub fn descriptor(&self, media_type: &str) -> serde_json::Value {
        json!({"mediaType": media_type, "digest": self.digest, "size": self.bytes.len()})
    }
}

pub struct Image {
    pub layer: Blob,
    pub config: Blob,
    pub manifest: Blob,
    pub arch: String,
    pub variant: Option<String>,
}

/// A layer holding `/hello.txt` with `text` (and `filler` bytes of noise in
/// `/filler`, to make blobs big enough for chunking and ranges).
pub fn layer(text: &str, filler: usize) -> Blob {
    let mut tar = tar::Builder::new(Vec::new());
    append(&mut tar, "hello.txt", text.as_bytes());
    if filler > 0 {
        // xorshift: incompressible, so blob sizes stay near `filler`.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15 ^ text.len() as u64;
        let noise: Vec<u8> = (0..filler)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        append(&mut tar, "filler", &noise);
    }
    let tar = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    Blob::new(gz.finish().unwrap())
}

fn append(tar: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]) {
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(1_700_000_000);
    h.set_cksum();
    tar.append_data(&mut h, path, data).unwrap();
}

pub fn image(arch: &str, variant: Option<&str>, text: &str, filler: usize) -> Image {
    let layer = layer(text, filler);
    let mut config = json!({
        "architecture": arch,
        "os": "linux",
        "config": {"Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [layer.digest]},
    });
    if let Some(v) = variant {
        config["variant"] = json!(v);
    }
    let config = Blob::new(serde_json::to_vec(&config).unwrap());
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config.descriptor(OCI_CONFIG),
        "layers": [layer.descriptor(OCI_LAYER)],
    });
    Image {
        layer,
        config,
        manifest: Blob::new(serde_json::to_vec(&manifest).unwrap()),
        arch: arch.to_string(),
        variant: variant.map(str::to_string),
    }
}

/// Writes an OCI image layout with the image under `tag`.
pub fn write_layout(dir: &Path, img: &Image, tag: &str) {
    let blobs = dir.join("blobs/sha256");
    fs::create_dir_all(&blobs).unwrap();
    for b in [&img.layer, &img.config, &img.manifest] {
        let hex = b.digest.strip_prefix("sha256:").unwrap();
        fs::write(blobs.join(hex), &b.bytes).unwrap();
    }
    fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let mut desc = img.manifest.descriptor(OCI_MANIFEST);
    desc["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
    let index = json!({"schemaVersion": 2, "manifests": [desc]});
    fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
}

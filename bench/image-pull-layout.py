#!/usr/bin/env python3
"""Writes an OCI image layout with LAYERS gzip layers of SIZE_MIB MiB of
/dev/urandom data each (incompressible), tagged `1`, for bench/image-pull.sh.

    image-pull-layout.py DIR LAYERS SIZE_MIB
"""
import gzip, hashlib, io, json, os, sys, tarfile, time

def blob(d, media, data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(d, "blobs/sha256", digest), "wb") as f:
        f.write(data)
    return {"mediaType": media, "digest": "sha256:" + digest, "size": len(data)}

def layer(n, mib):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as t:
        data = os.urandom(mib << 20)
        info = tarfile.TarInfo(f"data/layer{n}.bin")
        info.size, info.mtime, info.mode = len(data), 1700000000, 0o644
        t.addfile(info, io.BytesIO(data))
    tar = raw.getvalue()
    return tar, gzip.compress(tar, compresslevel=1, mtime=0)

def main():
    d, count, mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    os.makedirs(os.path.join(d, "blobs/sha256"), exist_ok=True)
    layers, diff_ids = [], []
    for n in range(count):
        tar, gz = layer(n, mib)
        diff_ids.append("sha256:" + hashlib.sha256(tar).hexdigest())
        layers.append(blob(d, "application/vnd.oci.image.layer.v1.tar+gzip", gz))
    config = {"architecture": "amd64", "os": "linux",
              "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "config": {"Cmd": ["/bin/sh"]},
              "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    cfg = blob(d, "application/vnd.oci.image.config.v1+json", json.dumps(config).encode())
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": cfg, "layers": layers}
    desc = blob(d, manifest["mediaType"], json.dumps(manifest).encode())
    desc["annotations"] = {"org.opencontainers.image.ref.name": "1"}
    with open(os.path.join(d, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [desc]}, f)
    with open(os.path.join(d, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')

main()

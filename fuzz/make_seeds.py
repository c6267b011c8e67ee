#!/usr/bin/env python3
"""Writes the seed inputs of the fuzz targets into fuzz/seeds/<target>/.

Seeds are realistic inputs (a small busybox-like layer, whiteouts, hostile
paths, Docker/OCI manifests, typical flag values). `scripts/fuzz.sh --seed`
merges them into fuzz/corpus/<target>/ with `cargo fuzz cmin`; only the
minimized corpus is committed. Run from anywhere: paths are relative to
this file.
"""

import gzip
import io
import json
import os
import subprocess
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
SEEDS = os.path.join(HERE, "seeds")


def put(target, name, data):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- layers

def tar_bytes(entries, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for e in entries:
            info = tarfile.TarInfo(e["name"])
            info.type = e.get("type", tarfile.REGTYPE)
            info.mode = e.get("mode", 0o644)
            info.mtime = e.get("mtime", 1700000000)
            info.uid = e.get("uid", 0)
            info.gid = e.get("gid", 0)
            info.linkname = e.get("link", "")
            info.devmajor = e.get("major", 0)
            info.devminor = e.get("minor", 0)
            info.pax_headers = e.get("pax", {})
            data = e.get("data", b"")
            info.size = len(data) if info.type == tarfile.REGTYPE else 0
            t.addfile(info, io.BytesIO(data) if info.size else None)
    return buf.getvalue()


D, F, L, H = tarfile.DIRTYPE, tarfile.REGTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE

BUSYBOX = [
    {"name": "./", "type": D, "mode": 0o755},
    {"name": "bin/", "type": D, "mode": 0o755},
    {"name": "bin/busybox", "data": b"\x7fELF" + b"\0" * 60 + b"busybox", "mode": 0o755},
    {"name": "bin/sh", "type": H, "link": "bin/busybox"},
    {"name": "bin/ls", "type": L, "link": "busybox"},
    {"name": "etc/", "type": D, "mode": 0o755},
    {"name": "etc/passwd", "data": b"root:x:0:0:root:/root:/bin/sh\n"},
    {"name": "etc/shadow", "data": b"root:*:19000::::::\n", "mode": 0o600, "gid": 42},
    {"name": "tmp/", "type": D, "mode": 0o1777},
    {"name": "dev/", "type": D},
    {"name": "dev/null", "type": tarfile.CHRTYPE, "major": 1, "minor": 3, "mode": 0o666},
    {"name": "run/fifo", "type": tarfile.FIFOTYPE},
    {"name": "usr/bin/ping", "data": b"ping", "mode": 0o4755,
     "pax": {"SCHILY.xattr.security.capability": "\x01\x00\x00\x02",
             "SCHILY.xattr.user.note": "x"}},
    {"name": "var/sparse", "data": b"\0" * 8192 + b"end"},
]

WHITEOUTS = [
    {"name": "etc/.wh.passwd"},
    {"name": "tmp/.wh..wh..opq"},
    {"name": "tmp/kept", "data": b"new"},
    {"name": ".wh..wh.plnk/", "type": D},
    {"name": "bin/.wh.ls"},
]

HOSTILE = [
    # A symlink to the canary beside the root, then writes through it.
    [{"name": "esc", "type": L, "link": "../canary"},
     {"name": "esc/file", "data": b"pwned"},
     {"name": "esc/dir/x", "data": b"pwned"}],
    [{"name": "a/b", "type": L, "link": "../../canary/file"},
     {"name": "a/b", "data": b"pwned"}],
    [{"name": "../canary/file", "data": b"pwned"}],
    [{"name": "/../canary/new", "data": b"pwned"}],
    [{"name": "x", "type": H, "link": "../canary/file"}],
    [{"name": "d", "type": L, "link": "../canary"},
     {"name": "y", "type": H, "link": "d/file"}],
    [{"name": "d", "type": L, "link": "../canary"},
     {"name": "d/.wh.file"}],
    [{"name": "d", "type": L, "link": "../canary"},
     {"name": "d/.wh..wh..opq"}],
    [{"name": "d", "type": L, "link": "../canary/dir"},
     {"name": "d", "type": D, "mode": 0o777}],
    [{"name": "f", "type": L, "link": "../canary/file"},
     {"name": "f", "type": F, "data": b"pwned", "mode": 0o777}],
    [{"name": "f", "type": L, "link": "/etc/passwd",
      "pax": {"SCHILY.xattr.user.x": "y"}}],
    [{"name": "self", "type": H, "link": "self"}],
    [{"name": "dir/", "type": D}, {"name": "h", "type": H, "link": "dir"}],
    [{"name": "big", "data": b"a" * 100, "pax": {"uid": "99999999999", "gid": "1.5",
                                                  "mtime": "-1.5"}}],
    [{"name": "n" * 200 + "/" + "m" * 200, "data": b"long"}],
]


def layers():
    busy = tar_bytes(BUSYBOX)
    for mode in (0, 1):
        put("layer_unpack", f"busybox-{mode}", bytes([mode]) + busy)
        put("layer_unpack", f"whiteouts-{mode}", bytes([mode]) + tar_bytes(BUSYBOX + WHITEOUTS))
    put("layer_unpack", "busybox-gnu", b"\0" + tar_bytes(BUSYBOX[:9], tarfile.GNU_FORMAT))
    put("layer_unpack", "busybox-ustar", b"\1" + tar_bytes(BUSYBOX[:9], tarfile.USTAR_FORMAT))
    put("layer_unpack", "busybox-gzip", b"\0" + gzip.compress(busy, mtime=0))
    zst = subprocess.run(["zstd", "-q", "-c", "-19"], input=busy, stdout=subprocess.PIPE,
                         check=True).stdout
    put("layer_unpack", "busybox-zstd", b"\1" + zst)
    put("layer_unpack", "empty", b"\0" + b"\0" * 1024)
    for i, entries in enumerate(HOSTILE):
        put("layer_unpack", f"hostile-{i}", bytes([i & 1]) + tar_bytes(entries))


# ---------------------------------------------------------------- JSON

def digest(c):
    return "sha256:" + (c * 64)[:64]


def image_json():
    oci_manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": digest("a"), "size": 581},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": digest("b"), "size": 2152262}],
        "annotations": {"org.opencontainers.image.created": "2024-01-01T00:00:00Z"},
    }
    docker_manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "size": 1457, "digest": digest("c")},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": 2220094, "digest": digest("d"),
                    "urls": ["https://example.invalid/layer"]}],
    }

    def entry(c, arch, variant=None, os_="linux"):
        p = {"architecture": arch, "os": os_}
        if variant:
            p["variant"] = variant
        return {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": digest(c), "size": 610, "platform": p}

    oci_index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            entry("1", "amd64"), entry("2", "arm", "v6"), entry("3", "arm", "v7"),
            entry("4", "arm64", "v8"), entry("5", "e2k", "v4"), entry("6", "e2k", "v6"),
            entry("7", "386"), entry("8", "ppc64le"), entry("9", "s390x"),
            entry("0", "unknown", None, "unknown"),
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest("e"),
             "size": 566, "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
             "platform": {"architecture": "unknown", "os": "unknown"}},
        ],
    }
    docker_list = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
        "manifests": [dict(entry("f", "amd64", "v3"),
                           mediaType="application/vnd.docker.distribution.manifest.v2+json"),
                      dict(entry("1", "arm64"), platform={
                          "architecture": "aarch64", "os": "linux", "os.version": "6.1",
                          "os.features": ["x"]})],
    }
    bare_index = {"schemaVersion": 2, "manifests": [entry("2", "e2k", "v5")]}
    config = {
        "architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
        "author": "yurta",
        "config": {"User": "1000:1000", "Env": ["PATH=/usr/bin:/bin", "A=b"],
                   "Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo hi"],
                   "WorkingDir": "/srv", "Labels": {"a": "b"}, "StopSignal": "SIGTERM",
                   "ExposedPorts": {"80/tcp": {}}, "Volumes": {"/data": {}},
                   "Healthcheck": {"Test": ["CMD", "true"]}, "OnBuild": None},
        "rootfs": {"type": "layers", "diff_ids": [digest("a"), digest("b")]},
        "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "ADD rootfs.tar /"},
                    {"created_by": "CMD [\"sh\"]", "empty_layer": True}],
        "container_config": {"Hostname": "x"}, "docker_version": "24.0",
    }
    e2k_config = {"architecture": "e2k", "os": "linux", "variant": "v5",
                  "rootfs": {"type": "layers", "diff_ids": []}}
    for name, doc in [("oci-manifest", oci_manifest), ("docker-manifest", docker_manifest),
                      ("oci-index", oci_index), ("docker-list", docker_list),
                      ("bare-index", bare_index), ("config", config), ("e2k-config", e2k_config)]:
        put("image_json", name, json.dumps(doc, indent=1))
    put("image_json", "link", '</v2/library/busybox/tags/list?last=1.36&n=100>; rel="next"')
    put("image_json", "content-type", "application/vnd.oci.image.index.v1+json; charset=utf-8")
    put("image_json", "platform", "linux/arm/v7")


# ---------------------------------------------------------------- flags

def flags():
    refs = ["busybox", "busybox:1.36", "library/busybox:latest", "docker.io/busybox",
            "index.docker.io/library/x", "localhost/base", "localhost:5000/a/b:t",
            "127.0.0.1:5000/e2k/base:6", "[::1]:5000/x", "quay.io/a/b_c__d-e.f:v1.0-rc",
            "myorg/app@" + digest("e"), "h:1/a:t@" + digest("0"), "MyHost/app",
            "a/b/c/d/e/f", "x@sha512:" + "ab" * 64]
    for i, r in enumerate(refs):
        put("image_reference", f"ref-{i}", r)
    ports = ["80", "8080:80", "127.0.0.1:8080:80", "127.0.0.1::80", "8000-8010:9000-9010/udp",
             ":80/tcp", "0.0.0.0:1-2:3-4/UDP", "65535:1", "[::1]:80:80"]
    for i, p in enumerate(ports):
        put("port_spec", f"port-{i}", p)
    vols = ["/data", "name:/data", "name:/data:ro,nocopy", "/host:/c:rw,rshared,z",
            "/h:/c:cached", "type=bind,source=/h,target=/c,readonly,bind-propagation=rslave",
            "type=volume,src=v,dst=/d,volume-nocopy=true,volume-label=a=b,volume-driver=local",
            "type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1777", "target=/x,ro=false"]
    for i, v in enumerate(vols):
        put("volume_spec", f"vol-{i}", v)
    opts = [(0, "1.5g"), (0, "100MB"), (1, "512m|1g"), (1, "6m|-1"), (2, "1.5"), (3, "0-3,5"),
            (4, "nofile=1024:2048"), (4, "core=-1"), (5, "/dev/fuse:/dev/fuse:rwm"),
            (5, "/dev/sda:r"), (6, "net.ipv4.ip_forward=1"), (7, "kernel/shmmax=1"),
            (8, "on-failure:3"), (9, "host:10.0.0.1"), (9, "h=[::1]"), (10, "SIGRTMIN+3"),
            (10, "term"), (11, "a=b")]
    for i, (which, v) in enumerate(opts):
        put("run_options", f"opt-{i}", bytes([which]) + v.encode())


# ---------------------------------------------------------------- seccomp

def seccomp():
    docker = {
        "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
        "archMap": [{"architecture": "SCMP_ARCH_X86_64",
                     "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
                    {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
                    {"architecture": "SCMP_ARCH_S390X", "subArchitectures": ["SCMP_ARCH_S390"]}],
        "syscalls": [
            {"names": ["read", "write", "openat", "close", "exit_group"],
             "action": "SCMP_ACT_ALLOW"},
            {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
            {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ"}],
             "excludes": {"caps": ["CAP_SYS_ADMIN"], "arches": ["s390", "s390x"]}},
            {"names": ["mount", "umount2"], "action": "SCMP_ACT_ALLOW",
             "includes": {"caps": ["CAP_SYS_ADMIN"]}},
            {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW",
             "includes": {"arches": ["amd64", "x32"]}},
            {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
            {"name": "ptrace", "action": "SCMP_ACT_ALLOW",
             "includes": {"caps": ["CAP_SYS_PTRACE"]}},
        ],
    }
    oci = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
           "flags": ["SECCOMP_FILTER_FLAG_LOG"],
           "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO",
                         "args": [{"index": 1, "value": 9, "valueTwo": 0, "op": "SCMP_CMP_GE"}]},
                        {"names": ["ioctl"], "action": "SCMP_ACT_NOTIFY"}]}
    for i in range(4):
        put("seccomp_convert", f"docker-{i}", bytes([i | 0x0c]) + json.dumps(docker).encode())
    put("seccomp_convert", "oci", b"\0" + json.dumps(oci).encode())

# ---------------------------------------------------------------- dockerfile

DOCKERFILES = {
    "multistage": """# syntax=docker/dockerfile:1
ARG BASE=busybox
ARG VERSION
FROM --platform=$BUILDPLATFORM ${BASE}:${VERSION:-latest} AS build
ARG TARGETARCH TARGETVARIANT
WORKDIR /src
COPY --chown=1000:1000 --chmod=0755 src/ ./
RUN --mount=type=cache,target=/root/.cache,sharing=locked \\
    --mount=type=secret,id=token,required \\
    --network=none \\
    make ARCH=$TARGETARCH${TARGETVARIANT:+-$TARGETVARIANT}
FROM scratch AS out
COPY --from=build /src/app /app
COPY --from=0 /etc/passwd /etc/
ENV PATH=/bin:/usr/bin HOME="/home/app" LEGACY_FREE=1
ENV OLD style value
LABEL org.opencontainers.image.title="app" version=${VERSION:-dev}
EXPOSE 8080/tcp 53/udp 9000-9002
USER 1000:1000
VOLUME ["/data"]
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=3s --retries=3 CMD ["/app", "-health"]
ENTRYPOINT ["/app"]
CMD --serve
""",
    "heredocs": """FROM busybox
RUN <<EOF
set -e
echo $HOME
EOF
RUN python3 3<<'A' <<-B && cat
print("x")
A
\tindented
\tB
COPY <<one.txt <<"two.txt" /dest/
first $HOME
one.txt
second $HOME
two.txt
""",
    "escape": """# escape=`
FROM mcr.example/windows
SHELL ["powershell", "-command"]
RUN dir c:\\ `
    && echo done
WORKDIR c:\\app
""",
    "onbuild": """FROM alpine AS base
ONBUILD COPY . /app
ONBUILD RUN make
MAINTAINER someone <x@example.invalid>
FROM base
HEALTHCHECK NONE
ADD --checksum=sha256:""" + "ab" * 32 + """ https://example.invalid/a.tgz /tmp/
ADD local.tar.gz /opt/
""",
    "continuations": """FROM a
RUN echo a \\
# comment inside
  b \\

  c
LABEL a=b \\
      c="d e"
""",
    "expansion": """FROM a
ARG X=abcabc
ENV A=${X#*b} B=${X##*b} C=${X%b*} D=${X%%b*} E=${X/b/-} F=${X//b/-}
ENV G=${UNSET:-dflt} H=${X:+alt} I=${UNSET-x} J=${X+y} K='$X' L=\\$X
WORKDIR /a/../b/./c
""",
    "dockerignore": "**/*.tmp\n!keep.tmp\nnode_modules\n/build/\n# comment\n[a-c]?.log\n",
}


def dockerfile():
    for name, text in DOCKERFILES.items():
        put("dockerfile", name, text)


if __name__ == "__main__":
    layers()
    image_json()
    flags()
    seccomp()
    dockerfile()

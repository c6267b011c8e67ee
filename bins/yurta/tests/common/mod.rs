//! Helpers for the `yurta` binary's tests: a private `--root` per test, a
//! busybox root filesystem, and running commands with their output.

#![allow(dead_code)]

pub mod debian;
pub mod files;
pub mod fingerprint;
pub mod oci;
pub mod podman;
pub mod proxy;
pub mod registry;
pub mod vmlab;
pub mod world;

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct Yurta {
    pub dir: tempfile::TempDir,
}

pub struct Out {
    pub code: i32,
    /// stdout as bytes.
    pub raw: Vec<u8>,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// A finished command's exit code and output.
    pub fn of(o: Output) -> Out {
        Out {
            code: o.status.code().unwrap_or(-1),
            raw: o.stdout.clone(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Panics with the whole output unless the command succeeded.
    pub fn ok(self) -> Out {
        assert_eq!(
            self.code, 0,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

impl Yurta {
    pub fn new() -> Yurta {
        Yurta {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn run(&self, args: &[&str]) -> Out {
        let o = self.cmd(args).stdin(Stdio::null()).output().unwrap();
        Out::of(o)
    }

    /// `yurta --root <private> ARGS` with a private credentials file
    /// (`auth.json` here) and certs dir (`certs.d` here), so the host's
    /// /etc/yurta and ~/.config are never read or written.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_yurta"));
        c.arg("--root")
            .arg(self.root())
            .args(args)
            .env("YURTA_AUTH_FILE", self.path("auth.json"))
            .env("YURTA_CERTS_DIR", self.path("certs.d"))
            .env_remove("YURTA_INSECURE_REGISTRIES");
        c
    }

    /// Runs with `input` on stdin.
    pub fn run_stdin(&self, args: &[&str], input: &str) -> Out {
        use std::io::Write;
        let mut child = self
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        Out::of(child.wait_with_output().unwrap())
    }

    /// Builds `tag` for `platform` from scratch: one file, /hello, saying
    /// `text` (COPY only, so any platform builds here).
    pub fn build_file_image(&self, platform: &str, tag: &str, text: &str) {
        let ctx = self.path(&format!("ctx-{}", tag.replace([':', '/'], "-")));
        std::fs::create_dir_all(&ctx).unwrap();
        std::fs::write(ctx.join("hello"), text).unwrap();
        std::fs::write(ctx.join("Dockerfile"), "FROM scratch\nCOPY hello /hello\n").unwrap();
        self.run(&[
            "build",
            "-q",
            "--platform",
            platform,
            "-t",
            tag,
            ctx.to_str().unwrap(),
        ])
        .ok();
    }

    /// A static busybox root filesystem (bin/busybox, bin/sh, bin/echo...).
    pub fn rootfs(&self) -> PathBuf {
        let dir = self.path("rootfs");
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        std::fs::create_dir_all(dir.join("etc")).unwrap();
        std::fs::copy("/bin/busybox", dir.join("bin/busybox"))
            .expect("a static /bin/busybox (busybox-static)");
        for tool in ["sh", "echo", "cat", "ls", "true"] {
            symlink("busybox", dir.join("bin").join(tool)).unwrap();
        }
        std::fs::write(dir.join("etc/motd"), "made by a test\n").unwrap();
        dir
    }
}

/// Runs any command, returning its output.
pub fn sh(program: &str, args: &[&str]) -> Out {
    let o = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    Out::of(o)
}

/// A tar of `dir` made by the system's tar (what users feed import).
pub fn tar_of(dir: &Path, out: &Path) {
    sh(
        "tar",
        &[
            "-C",
            dir.to_str().unwrap(),
            "-cf",
            out.to_str().unwrap(),
            ".",
        ],
    )
    .ok();
}

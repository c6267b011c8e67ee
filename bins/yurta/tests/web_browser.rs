//! The web console in a real browser (issue 13): Debian's Chromium driven
//! by Playwright (PyPI, in /opt/yurta-test/playwright; scripts/test.sh
//! installs both) through web_common/browser.py — log in, the CLI's
//! container in the list, a container from the form, its logs, `echo`
//! and `top` in its terminal, a VM's serial console, a VNC VM's screen
//! drawn, stop and remove both, phone width, log out. The pages' JS+CSS
//! must fit the 300 KiB gzip budget. With YURTA_WEB_SHOTS=DIR the
//! screenshots of docs/web.md are written there; the measurements (first
//! page, keystroke echo, memory with ten terminals) are printed.

mod api_common;
mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::vmlab::Lab;
use common::{tar_of, Out};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/web_common/browser.py");
const PLAYWRIGHT: &str = "/opt/yurta-test/playwright";
const DIST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/dist/assets");

/// The service with the console, on the lab's root; stopped when dropped.
struct Console {
    child: std::process::Child,
    log: std::path::PathBuf,
}

impl Drop for Console {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.child.wait();
    }
}

/// The pages' compressed JavaScript and CSS, in bytes.
fn pages_gzip_size() -> u64 {
    std::fs::read_dir(DIST)
        .expect("web/dist: run scripts/web.sh before building")
        .flatten()
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.ends_with(".js.gz") || n.ends_with(".css.gz")
        })
        .map(|e| e.metadata().unwrap().len())
        .sum()
}

#[test]
fn the_console_in_a_real_browser() {
    if std::env::var_os("YURTA_SKIP_BROWSER_TESTS").is_some() {
        eprintln!("skipped: YURTA_SKIP_BROWSER_TESTS");
        return;
    }
    let size = pages_gzip_size();
    assert!(
        size <= 300 << 10,
        "JS+CSS is {size} bytes gzip, over 300 KiB"
    );
    assert!(
        Path::new("/usr/bin/chromium").exists() && Path::new(PLAYWRIGHT).exists(),
        "Debian's chromium and Playwright in {PLAYWRIGHT} are needed (scripts/test.sh installs them)"
    );
    let Some(lab) = Lab::new() else { return };
    // busybox with every applet (top and vi included), as `img`.
    let rootfs = lab.y.rootfs();
    let o = Command::new("chroot")
        .arg(&rootfs)
        .args(["/bin/busybox", "--install", "-s", "/bin"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    let tar = lab.y.path("img.tar");
    tar_of(&rootfs, &tar);
    lab.run(&["import", "-c", "CMD [\"sh\"]", tar.to_str().unwrap(), "img"])
        .ok();
    let mut add = lab
        .cmd(&["web", "user", "add", "alice", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"correct horse\n")
        .unwrap();
    assert!(add.wait().unwrap().success());
    lab.run(&["run", "-d", "--name", "clict", "img", "sleep", "1000"])
        .ok();
    for (name, extra) in [
        (
            "vmser",
            &["--network", "none", "--disk", "64M", "--start"][..],
        ),
        (
            "vmvnc",
            &["--network", "none", "--display", "vnc", "--start"][..],
        ),
    ] {
        let o: Out = lab.create(name, extra);
        assert_eq!(o.code, 0, "{}", o.stderr);
    }
    lab.wait_log("vmser", "YURTA-READY", 1);

    let port = yurta_testutil::net::free_port();
    let addr = format!("127.0.0.1:{port}");
    let sock = lab.y.path("api.sock");
    let log = lab.y.path("service.log");
    let child = lab
        .cmd(&[
            "system",
            "service",
            "--web",
            &addr,
            &format!("unix://{}", sock.display()),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let console = Console { child, log };
    api_common::poll("the web console", || {
        std::net::TcpStream::connect(&addr).is_ok()
    });

    let shots = std::env::var("YURTA_WEB_SHOTS").unwrap_or_default();
    let o = Command::new("/usr/bin/python3")
        .env("PYTHONPATH", PLAYWRIGHT)
        .arg(SCRIPT)
        .arg(format!("http://{addr}"))
        .args(["alice", "correct horse", "clict", "vmser", "vmvnc"])
        .arg(console.child.id().to_string())
        .arg(&shots)
        .output()
        .unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(
        o.status.success(),
        "{out}{err}\nservice:\n{}",
        std::fs::read_to_string(&console.log).unwrap_or_default()
    );
    println!("measurements: {} (JS+CSS {size} bytes gzip)", out.trim());
    drop(console);
    // The VNC VM was removed in the browser; the other goes with the lab.
    lab.assert_clean("vmvnc");
    let ps = lab.run(&["ps", "-a", "--format", "{{.Names}}"]).ok().stdout;
    assert_eq!(ps.trim(), "clict", "the form's container was removed");
}

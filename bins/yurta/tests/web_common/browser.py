"""The web console in a real browser (Debian's Chromium through
Playwright): what issue 13 asks a user to be able to do, end to end, and
the numbers docs/benchmarks.md records. Run by tests/web_browser.rs:

    browser.py BASE USER PASSWORD CLI_CONTAINER SERIAL_VM VNC_VM SERVICE_PID SHOTS_DIR

SHOTS_DIR empty: no screenshots. Prints one JSON line of measurements
last (nothing in it is asserted: timings are recorded, never tested).
"""

import json
import os
import statistics
import sys
import time

from playwright.sync_api import expect, sync_playwright

BASE, USER, PASSWORD, CLI_CT, SERIAL_VM, VNC_VM, SERVICE_PID, SHOTS = sys.argv[1:9]
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
LONG = 120_000  # ms: a TCG guest boots in seconds, more on a busy machine
metrics = {}
errors = []


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name + ".png"))


def ready(page):
    page.wait_for_selector('body[data-ready="1"]', timeout=LONG)


def term_text(page):
    return page.evaluate(
        """() => { const t = window.yurtaTerm; if (!t) return '';
        const b = t.buffer.active; let s = '';
        for (let i = 0; i < b.length; i++) s += b.getLine(i).translateToString(true) + '\\n';
        return s; }"""
    )


def wait_term(page, needle, timeout=LONG):
    deadline = time.monotonic() + timeout / 1000
    while needle not in term_text(page):
        if time.monotonic() > deadline:
            raise AssertionError("%r not on the terminal:\n%s" % (needle, term_text(page)))
        page.wait_for_timeout(100)


def open_tab(page, name):
    page.get_by_role("tab", name=name).click()


def rss_kib(pid):
    """Resident memory: all of it, and the part that is not the binary's
    own pages (a debug build maps a large one)."""
    out = {}
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            k = line.split(":")[0]
            if k in ("VmRSS", "RssAnon"):
                out[k] = int(line.split()[1])
    return out


def canvas_drawn(page):
    return page.evaluate(
        """() => { const c = document.querySelector('.screen canvas');
        if (!c || !c.width || !c.height) return false;
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const seen = new Set();
        for (let i = 0; i < d.length; i += 4 * 97) { seen.add(d[i] << 16 | d[i + 1] << 8 | d[i + 2]); if (seen.size > 1) return true; }
        return false; }"""
    )


with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    # Failed requests are checked by their answers below, not by the
    # console's "Failed to load resource" lines.
    page.on("console", lambda m: m.type == "error" and not m.text.startswith("Failed to load resource") and errors.append(m.text))
    # Answers of 400 and above: only the ones this script provokes.
    expected = ("/api/docker/containers/create?name=webmade", "/api/vms")
    page.on("response", lambda r: r.status >= 400 and not r.url.replace(BASE, "").startswith(expected) and errors.append("%d %s" % (r.status, r.url)))

    # Log in: the page without a session goes to the login.
    page.goto(BASE + "/containers")
    expect(page).to_have_url(BASE + "/login?next=/containers")
    shot(page, "login")
    page.get_by_label("Username").fill(USER)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Invalid username or password")).to_be_visible()
    page.get_by_label("Username").fill(USER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(BASE + "/containers")
    ready(page)

    # The first page usable: a fresh load of the list, to its first data.
    loads = []
    for _ in range(5):
        page.goto(BASE + "/containers")
        ready(page)
        loads.append(page.evaluate("performance.getEntriesByName('yurta-ready').pop().startTime"))
    metrics["first_page_ms"] = statistics.median(loads)
    metrics["transferred_js_css_bytes"] = page.evaluate(
        """() => performance.getEntriesByType('resource')
            .filter(r => /\\.(js|css)$/.test(r.name)).reduce((a, r) => a + r.encodedBodySize, 0)"""
    )

    # The container the CLI made is listed.
    row = page.locator('[data-name="%s"]' % CLI_CT).first
    expect(row).to_be_visible()
    shot(page, "containers")

    # A container from the form, then its logs.
    page.get_by_role("button", name="Create container").click()
    page.get_by_label("Image").fill("nosuchimage")
    page.get_by_label("Name", exact=True).fill("webmade")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.locator(".form-error")).to_contain_text("nosuchimage")
    page.get_by_label("Image").fill("img")
    page.get_by_label("Command").fill("sh -c 'echo from-the-form; exec sleep 1000'")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page).to_have_url(BASE + "/containers/webmade", timeout=LONG)
    ready(page)
    open_tab(page, "Logs")
    expect(page.get_by_role("log")).to_contain_text("from-the-form", timeout=LONG)

    # Its terminal: echo, top and back, and how fast keystrokes echo.
    open_tab(page, "Terminal")
    page.wait_for_function("() => window.yurtaTerm", timeout=LONG)
    page.locator(".terminal").first.click()
    page.keyboard.type("echo hi-$((6*7))\n")
    wait_term(page, "hi-42")
    page.keyboard.type("top\n")
    wait_term(page, "PID")
    shot(page, "terminal-top")
    page.keyboard.press("q")
    page.keyboard.type("clear; echo after-top\n")
    wait_term(page, "after-top")
    # A keystroke's echo: from xterm's input (what typing does) until the
    # shell's echo of it is on the screen.
    echo = []
    typed = ""
    for ch in "abcdefghijklmnopqrst":
        typed += ch
        echo.append(page.evaluate(
            """(typed) => new Promise((done) => { const t = window.yurtaTerm;
            const line = () => { const b = t.buffer.active;
                return b.getLine(b.baseY + b.cursorY).translateToString(true); };
            const t0 = performance.now();
            const d = t.onWriteParsed(() => { if (line().endsWith(typed)) { d.dispose(); done(performance.now() - t0); } });
            t.input(typed.slice(-1), true); })""", typed))
    page.keyboard.press("Control+U")
    metrics["keystroke_echo_ms_median"] = statistics.median(echo)
    metrics["keystroke_echo_ms_max"] = max(echo)

    # The terminal shared as a one-time link, opened without a session.
    page.get_by_role("button", name="Share this console").first.click()
    link = page.get_by_label("Console link").input_value()
    page.keyboard.press("Escape")
    anon = browser.new_context(viewport={"width": 1000, "height": 700})
    ap = anon.new_page()
    ap.goto(link)
    ap.wait_for_function("() => window.yurtaTerm", timeout=LONG)
    ap.locator(".terminal").first.click()
    ap.keyboard.type("echo shared-$((3*3))\n")
    wait_term(ap, "shared-9")
    ap.goto(link)  # used: it opens nothing a second time
    expect(ap.get_by_text("used or has expired").first).to_be_visible()
    ap.goto(BASE + "/containers")
    expect(ap).to_have_url(BASE + "/login?next=/containers")
    anon.close()

    # Its files: a directory, then the CPU and memory graphs.
    open_tab(page, "Files")
    expect(page.get_by_role("table", name="Files in /")).to_contain_text("etc", timeout=LONG)
    open_tab(page, "Stats")
    page.wait_for_selector("figure.chart canvas", timeout=LONG)
    shot(page, "container-stats")

    # Ten open terminals: the service's memory.
    metrics["service_rss_kib_before_terminals"] = rss_kib(SERVICE_PID)
    extra = []
    for i in range(10):
        tp = ctx.new_page()
        tp.goto(BASE + "/containers/" + CLI_CT)
        ready(tp)
        open_tab(tp, "Terminal")
        tp.wait_for_function("() => window.yurtaTerm", timeout=LONG)
        tp.locator(".terminal").first.click()
        tp.keyboard.type("echo term-%d\n" % i)
        wait_term(tp, "term-%d" % i)
        extra.append(tp)
    metrics["service_rss_kib_10_terminals"] = rss_kib(SERVICE_PID)
    for tp in extra:
        tp.close()

    # The serial console of a running VM: its prompt, a command.
    page.goto(BASE + "/vms/" + SERIAL_VM)
    ready(page)
    open_tab(page, "Serial console")
    page.wait_for_function("() => window.yurtaTerm", timeout=LONG)
    wait_term(page, "YURTA-READY")
    page.locator(".terminal").first.click()
    page.keyboard.type("echo vm-$((2+3))\n")
    wait_term(page, "vm-5")
    shot(page, "vm-serial")
    open_tab(page, "Snapshots")
    page.get_by_label("Snapshot name").fill("before")
    page.get_by_label("Snapshot name").press("Enter")
    expect(page.get_by_role("table", name="Snapshots")).to_contain_text("before", timeout=LONG)
    page.get_by_role("table", name="Snapshots").get_by_role("button", name="Restore").click()
    page.get_by_role("dialog").get_by_role("button", name="Restore", exact=True).click()
    expect(page.get_by_text("Restored %s to before" % SERIAL_VM)).to_be_visible(timeout=LONG)

    # The VM form: the engine's check of a bad value, in place.
    page.goto(BASE + "/vms")
    ready(page)
    page.get_by_role("button", name="Create VM").click()
    page.get_by_label("Name", exact=True).fill("badvm")
    page.get_by_label("Disk image path").fill("/nonexistent/disk.qcow2")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.locator(".form-error")).to_contain_text("/nonexistent/disk.qcow2", timeout=LONG)
    page.keyboard.press("Escape")

    # A VM's screen through noVNC: the canvas is drawn.
    page.goto(BASE + "/vms/" + VNC_VM)
    ready(page)
    open_tab(page, "Screen")
    page.wait_for_selector(".screen canvas", timeout=LONG)
    deadline = time.monotonic() + LONG / 1000
    while not canvas_drawn(page):
        assert time.monotonic() < deadline, "the VM's screen stayed blank"
        page.wait_for_timeout(250)
    shot(page, "vm-screen")

    # The VM list, then stop and remove both the container and a VM.
    page.goto(BASE + "/vms")
    ready(page)
    expect(page.locator('[data-name="%s"]' % SERIAL_VM).first).to_be_visible()
    shot(page, "vms")
    page.goto(BASE + "/containers/webmade")
    ready(page)
    page.get_by_role("button", name="Stop", exact=True).first.click()
    expect(page.get_by_text("exited").first).to_be_visible(timeout=LONG)
    page.get_by_role("button", name="Remove", exact=True).first.click()
    page.get_by_role("dialog").get_by_role("button", name="Remove", exact=True).click()
    expect(page).to_have_url(BASE + "/containers", timeout=LONG)
    expect(page.locator('[data-name="webmade"]')).to_have_count(0)
    page.goto(BASE + "/vms/" + VNC_VM)
    ready(page)
    page.get_by_role("button", name="Kill", exact=True).first.click()
    page.get_by_role("dialog").get_by_role("button", name="Kill", exact=True).click()
    expect(page.get_by_text("stopped").first).to_be_visible(timeout=LONG)
    page.get_by_role("button", name="Remove", exact=True).first.click()
    page.get_by_role("dialog").get_by_role("button", name="Remove", exact=True).click()
    expect(page).to_have_url(BASE + "/vms", timeout=LONG)
    expect(page.locator('[data-name="%s"]' % VNC_VM)).to_have_count(0)

    # At phone width.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, storage_state=ctx.storage_state())
    pp = phone.new_page()
    pp.goto(BASE + "/containers")
    ready(pp)
    expect(pp.locator('[data-name="%s"]' % CLI_CT).first).to_be_visible()
    shot(pp, "phone")
    overflow = pp.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
    assert not overflow, "the page is wider than a phone"
    phone.close()

    # Log out: the session is gone.
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(BASE + "/login")
    page.goto(BASE + "/vms")
    expect(page).to_have_url(BASE + "/login?next=/vms")
    browser.close()

assert not errors, "errors in the pages: %r" % errors
print(json.dumps(metrics))

"""The web console's service side, as a browser meets it, without a
browser: every route without a session and with a forged Origin, CSRF,
login throttling, logout, a removed user, a container's terminal over its
WebSocket (echo, size, resize, exit code), a console ticket used twice,
files, the stats stream. Run by tests/web.rs with Debian's Python:

    web_checks.py BASE_URL CONTAINER USER PASSWORD YURTA ROOT
"""

import http.client
import json
import re
import subprocess
import sys
import time
import urllib.parse

import websocket

BASE, CT, USER, PASSWORD, YURTA, ROOT = sys.argv[1:7]
HOSTPORT = urllib.parse.urlparse(BASE).netloc
EVIL = "http://evil.example"


def req(method, path, body=None, headers=None, cookie=None):
    c = http.client.HTTPConnection(HOSTPORT, timeout=30)
    h = dict(headers or {})
    if cookie:
        h["Cookie"] = cookie
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data


def login(user, password, origin=None):
    form = urllib.parse.urlencode({"username": user, "password": password, "next": "/vms"})
    h = {"Content-Type": "application/x-www-form-urlencoded"}
    if origin:
        h["Origin"] = origin
    return req("POST", "/login", form.encode(), h)


def ws(path, cookie=None, origin=None, ticket=None):
    url = "ws://" + HOSTPORT + path
    if ticket:
        url += ("&" if "?" in path else "?") + "ticket=" + ticket
    h = []
    if cookie:
        h.append("Cookie: " + cookie)
    return websocket.create_connection(url, header=h, origin=origin or BASE, timeout=30)


def ws_status(path, **kw):
    try:
        ws(path, **kw).close()
        return 101
    except websocket.WebSocketBadStatusException as e:
        return e.status_code


# Every route without a session: pages go to the login, the rest is 401.
PAGES = ["/", "/containers", "/containers/" + CT, "/vms", "/vms/x", "/images", "/networks", "/volumes"]
API = [
    ("GET", "/api/session"), ("GET", "/api/docker/containers/json"),
    ("POST", "/api/docker/containers/" + CT + "/stop"), ("GET", "/api/vms"),
    ("GET", "/api/vms/x"), ("POST", "/api/vms"), ("POST", "/api/vms/x/start"),
    ("DELETE", "/api/vms/x"), ("GET", "/api/vms/x/snapshots"),
    ("GET", "/api/containers/" + CT + "/files?path=/"),
    ("GET", "/api/containers/" + CT + "/file?path=/etc/hostname"),
    ("PUT", "/api/containers/" + CT + "/file?path=/tmp/x"), ("GET", "/api/stats"),
    ("POST", "/api/tickets"), ("POST", "/logout"),
]
SOCKETS = ["/ws/containers/" + CT + "/exec", "/ws/vms/x/serial", "/ws/vms/x/vnc"]
for p in PAGES:
    s, h, _ = req("GET", p)
    assert s == 303 and h["location"].startswith("/login"), (p, s, h)
s, h, _ = req("GET", "/containers/" + CT)
assert h["location"] == "/login?next=/containers/" + CT, h
for m, p in API:
    s, _, body = req(m, p, b"{}")
    if p == "/logout":
        assert s == 303, (m, p, s)  # a page: back to the login
        continue
    assert s == 401, (m, p, s, body)
    assert json.loads(body)["message"] == "login required"
for p in SOCKETS:
    assert ws_status(p) == 401, p
s, h, _ = req("GET", "/login")
assert s in (200, 503), s  # 503: the pages were not built in (no web/dist)
assert h["x-frame-options"] == "DENY"

# A forged Origin is refused before anything else, logged in or not.
s, _, _ = login(USER, PASSWORD, origin=EVIL)
assert s == 403, s
for m, p in API:
    if m != "GET":
        s, _, _ = req(m, p, b"{}", {"Origin": EVIL})
        assert s == 403, (m, p, s)
for p in SOCKETS:
    assert ws_status(p, origin=EVIL) == 403, p

# Log in: a strict cookie, the CSRF token from /api/session.
s, h, _ = login(USER, "wrong-password")
assert s == 303 and h["location"] == "/login?failed=1&next=/vms", h
s, h, _ = login(USER, PASSWORD)
assert s == 303 and h["location"] == "/vms", (s, h)
setc = h["set-cookie"]
assert "HttpOnly" in setc and "SameSite=Strict" in setc and "Path=/" in setc, setc
cookie = setc.split(";")[0]
s, _, body = req("GET", "/api/session", cookie=cookie)
sess = json.loads(body)
assert s == 200 and sess["user"] == USER, body
csrf = {"X-CSRF-Token": sess["csrf"]}

# With the session: CSRF and Origin still guard every change.
for m, p in API:
    if m != "GET" and p != "/logout":
        s, _, _ = req(m, p, b"{}", cookie=cookie)
        assert s == 403, ("no CSRF token", m, p, s)
        s, _, _ = req(m, p, b"{}", {"Origin": EVIL, **csrf}, cookie=cookie)
        assert s == 403, ("forged origin", m, p, s)
for p in SOCKETS:
    assert ws_status(p, cookie=cookie, origin=EVIL) == 403, p
s, _, body = req("GET", "/api/docker/containers/json", cookie=cookie)
names = [n for c in json.loads(body) for n in c["Names"]]
assert "/" + CT in names, names
s, _, body = req("POST", "/api/docker/containers/nosuch/stop", cookie=cookie, headers=csrf)
assert s == 404 and "nosuch" in json.loads(body)["message"], (s, body)
s, _, body = req("POST", "/api/vms", {"Name": "bad", "Memory": "lots"}, csrf, cookie)
assert s == 400 and json.loads(body)["message"], (s, body)

# A terminal: keystrokes, its size and a resize, the exit code.
t = ws("/ws/containers/" + CT + "/exec?cols=100&rows=30", cookie=cookie)


def read_until(sock, needle):
    seen = b""
    while needle not in seen:
        op, data = sock.recv_data()
        if op == websocket.ABNF.OPCODE_TEXT:
            seen += b"<" + data + b">"
            if needle not in seen:
                raise AssertionError("control before %r: %r" % (needle, seen))
        elif op == websocket.ABNF.OPCODE_CLOSE:
            raise AssertionError("closed before %r: %r" % (needle, seen))
        else:
            seen += data
    return seen


t.send_binary(b"echo hi-$((40+2))\n")
read_until(t, b"hi-42")
t.send_binary(b"stty size\n")
read_until(t, b"30 100")
t.send(json.dumps({"type": "resize", "cols": 77, "rows": 21}))
t.send_binary(b"stty size\n")
read_until(t, b"21 77")
t.send_binary(b"exit 3\n")
out = read_until(t, b'"exit"')
assert b'"code":3' in out, out
t.close()

# A console ticket: one console, once, without the session.
s, _, body = req("POST", "/api/tickets", {"Kind": "exec", "Target": CT}, csrf, cookie)
assert s == 201, (s, body)
url = json.loads(body)["Url"]
ticket = url.rsplit("/", 1)[1]
s, _, page = req("GET", url)
assert s in (200, 503), s
if s == 200:
    assert b'<meta name="yurta-console" content="exec ' + CT.encode() + b'">' in page, page[:400]
assert ws_status("/ws/vms/x/serial", ticket=ticket) == 403, "another console"
t = ws("/ws/containers/" + CT + "/exec", ticket=ticket)
t.send_binary(b"echo by-ticket; echo pid=$$.\n")
seen = read_until(t, b"by-ticket")
while not re.search(rb"pid=\d+\.", seen):
    seen += read_until(t, b".")
shell_pid = re.search(rb"pid=(\d+)\.", seen).group(1).decode()


def running_in_ct(pid):
    kill = [YURTA, "--root", ROOT, "exec", CT, "sh", "-c", "kill -0 " + pid]
    return subprocess.run(kill, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


assert running_in_ct(shell_pid), "the terminal's shell " + shell_pid
t.close()
# The browser left: the terminal hangs up and its shell ends.
for _ in range(300):
    alive = running_in_ct(shell_pid)
    if not alive:
        break
    time.sleep(0.1)
assert not alive, "the shell of a closed terminal still runs"
assert ws_status("/ws/containers/" + CT + "/exec", ticket=ticket) == 401, "used twice"
s, _, _ = req("GET", url)
assert s == 404, "the page of a used ticket"
s, _, body = req("POST", "/api/tickets", {"Kind": "shell", "Target": CT}, csrf, cookie)
assert s == 400, (s, body)

# Files: a listing, an upload, the download of it.
s, _, body = req("GET", "/api/containers/%s/files?path=/etc" % CT, cookie=cookie)
entries = {e["Name"]: e for e in json.loads(body)}
assert s == 200 and entries["hostname"]["Type"] == "file", body
s, _, body = req("PUT", "/api/containers/%s/file?path=/etc/up.txt" % CT, b"uploaded\n", csrf, cookie)
assert s == 201, (s, body)
s, h, body = req("GET", "/api/containers/%s/file?path=/etc/up.txt" % CT, cookie=cookie)
assert s == 200 and body == b"uploaded\n", (s, body)
assert h["content-disposition"] == 'attachment; filename="up.txt"', h
s, _, body = req("GET", "/api/containers/%s/file?path=/nonexistent" % CT, cookie=cookie)
assert s == 404, (s, body)
s, _, body = req("GET", "/api/containers/%s/files?path=etc" % CT, cookie=cookie)
assert s == 400, (s, body)

# The stats stream: the container's line.
c = http.client.HTTPConnection(HOSTPORT, timeout=30)
c.request("GET", "/api/stats", headers={"Cookie": cookie})
r = c.getresponse()
line = json.loads(r.readline())
cid = subprocess.check_output([YURTA, "--root", ROOT, "inspect", "-f", "{{.Id}}", CT]).decode().strip()
assert cid in line["containers"], line
assert line["containers"][cid]["memory"] > 0, line
c.close()

# Logout ends the session; so does removing the user.
s, _, _ = req("POST", "/logout", headers=csrf, cookie=cookie)
assert s == 303
assert req("GET", "/api/session", cookie=cookie)[0] == 401
s, h, _ = login(USER, PASSWORD)
cookie = h["set-cookie"].split(";")[0]
assert req("GET", "/api/session", cookie=cookie)[0] == 200
subprocess.check_call([YURTA, "--root", ROOT, "web", "user", "rm", USER], stdout=subprocess.DEVNULL)
assert req("GET", "/api/session", cookie=cookie)[0] == 401
# Throttling: five failures, then 429 (last: the address stays locked).
for _ in range(5):
    s, h, _ = login("mallory", "not-the-password")
    assert s == 303 and "failed=1" in h["location"], (s, h)
s, h, _ = login("mallory", "not-the-password")
assert s == 429 and "limited=1" in h["location"], (s, h)

print("ok")

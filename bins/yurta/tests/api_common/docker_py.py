"""docker-py against `yurta system service` (bins/yurta/tests/api_py.rs):
images, volumes, networks, containers, system and events through the SDK.
Usage: docker_py.py unix:///path/to/sock"""
import sys
import time

import docker

c = docker.DockerClient(base_url=sys.argv[1], version="auto")
print("docker-py", docker.__version__, file=sys.stderr)
assert c.ping()
assert c.version()["ApiVersion"] == "1.41", c.version()
assert c.info()["Images"] == 1, c.info()

img = c.images.get("img")
assert "img:latest" in [t for i in c.images.list() for t in i.tags]
assert img.tag("pyimg", "v1")
assert "pyimg:v1" in c.images.get("img").tags
assert len(img.history()) >= 1
c.images.remove("pyimg:v1")
try:
    c.images.get("nosuch")
    raise SystemExit("no error for a missing image")
except docker.errors.ImageNotFound:
    pass
# Saved by name (Image.save() names the ID: no tag in the archive, as Docker).
archive = b"".join(c.api.get_image("img"))
c.images.remove("img")
loaded = c.images.load(archive)
assert [i.tags for i in loaded] == [["img:latest"]], [i.attrs for i in loaded]

vol = c.volumes.create("pyvol", labels={"x": "y"})
assert c.volumes.get("pyvol").attrs["Labels"] == {"x": "y"}
assert [v.name for v in c.volumes.list(filters={"label": "x=y"})] == ["pyvol"]
vol.remove()
try:
    c.volumes.get("pyvol")
    raise SystemExit("no error for a missing volume")
except docker.errors.NotFound:
    pass
c.volumes.create("pyvol2")
assert "pyvol2" in c.volumes.prune()["VolumesDeleted"]

net = c.networks.create("pynet", labels={"a": "b"})
assert c.networks.get(net.id).name == "pynet"
assert [n.name for n in c.networks.list(filters={"label": "a=b"})] == ["pynet"]
try:
    c.networks.create("pynet")
    raise SystemExit("no error for a taken network name")
except docker.errors.APIError as e:
    assert e.status_code == 409, e
net.remove()
c.networks.create("pynet2")
assert "pynet2" in c.networks.prune()["NetworksDeleted"]

# Containers: run (create, start, wait, logs), detached ones, stop, remove.
assert c.containers.run("img", ["sh", "-c", "echo hi; echo no >&2"]) == b"hi\n"
try:
    c.containers.run("img", ["sh", "-c", "exit 4"])
    raise SystemExit("no error for a failed command")
except docker.errors.ContainerError as e:
    assert e.exit_status == 4, e
ct = c.containers.run("img", "sleep 300", detach=True, name="pyct", labels={"a": "b"})
ct.reload()
assert ct.status == "running", ct.status
assert [x.name for x in c.containers.list(filters={"label": "a=b"})] == ["pyct"]
r = ct.exec_run(["sh", "-c", "echo py; exit 2"])
assert (r.exit_code, r.output) == (2, b"py\n"), r
ct.stop(timeout=1)
ct.reload()
assert ct.status == "exited", ct.status
# sleep as pid 1 ignores SIGTERM: killed after the timeout, as in Docker.
assert ct.attrs["State"]["ExitCode"] == 137, ct.attrs["State"]
ct.remove()
try:
    c.containers.get("pyct")
    raise SystemExit("no error for a removed container")
except docker.errors.NotFound:
    pass
assert len(c.containers.prune()["ContainersDeleted"]) == 2
assert c.containers.list(all=True) == []

assert "Images" in c.df()
until = int(time.time()) + 1
seen = [(e["Type"], e["Action"]) for e in c.events(since=0, until=until, decode=True)]
for want in [("volume", "create"), ("network", "destroy"), ("image", "tag"), ("image", "load")]:
    assert want in seen, (want, seen)
print("ok")

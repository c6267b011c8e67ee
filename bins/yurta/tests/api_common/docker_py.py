"""docker-py against `yurta system service` (bins/yurta/tests/api_py.rs):
images, volumes, networks, system and events through the SDK.
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

assert "Images" in c.df()
until = int(time.time()) + 1
seen = [(e["Type"], e["Action"]) for e in c.events(since=0, until=until, decode=True)]
for want in [("volume", "create"), ("network", "destroy"), ("image", "tag"), ("image", "load")]:
    assert want in seen, (want, seen)
print("ok")

"""Backend driven by a Store written in Python: a tiny Store that calls its
backend the way Python borgstore 0.6's Store does (find by info() on every
level, nested names, recursive list over directories, soft delete as a move
to NAME.del), so what Python borgstore (and borg through it) needs from a
BackendBase is exercised without Python borgstore installed. Items it writes
are read back by the C Store on the same URL, and the other way round."""

import hashlib
import os
import subprocess
import sys
import textwrap

import borgstore_c
from borgstore_c import Backend, ItemInfo

DEL = ".del"
LEVELS = {"config/": [0], "data/": [0, 2]}  # "data/": a live level 0 and a level 2


def nest(name, level, suffix=""):
    """Python borgstore's nesting: 2 hex digits per level become directories."""
    ns, _, key = name.rpartition("/")
    dirs = [key[2 * i:2 * i + 2] for i in range(level)]
    return "/".join([p for p in [ns] if p] + dirs + [key + suffix])


class PyStore:
    """The calls Python borgstore's Store makes on its backend, nothing else."""

    def __init__(self, backend, levels):
        self.backend = backend
        self.levels = sorted(levels.items(), key=lambda e: len(e[0]), reverse=True)

    def create(self):
        self.backend.create()
        if self.backend.precreate_dirs:  # pragma: no cover - ours is False
            raise AssertionError("precreate_dirs")

    def __enter__(self):
        self.backend.__enter__()
        return self

    def __exit__(self, *exc):
        return self.backend.__exit__(*exc)

    def _levels(self, name):
        return next(lv for ns, lv in self.levels if name.startswith(ns))

    def find(self, name, deleted=False):
        suffix = DEL if deleted else ""
        for level in self._levels(name):
            nested = nest(name, level, suffix)
            if self.backend.info(nested).exists:
                break
        return nested

    def store(self, name, value):
        self.backend.store(self.find(name), value)

    def load(self, name, *, size=None, offset=0, deleted=False):
        return self.backend.load(self.find(name, deleted), size=size, offset=offset)

    def info(self, name, deleted=False):
        return self.backend.info(self.find(name, deleted))

    def soft_delete(self, name):
        nested = self.find(name)
        self.backend.move(nested, nested + DEL)

    def list(self, name, deleted=False):
        for info in self.backend.list(name):
            if info.directory:
                yield from self.list(f"{name}/{info.name}", deleted)
            elif info.name.endswith(DEL) == deleted:
                yield info._replace(name=info.name.removesuffix(DEL))


def test_a_python_store_over_the_backend(make_url):
    url = make_url()
    store = PyStore(Backend(url), LEVELS)
    store.create()
    keys = [f"{i:08x}" for i in (0x01020304, 0x01ff0000, 0xab000000)]
    with store:
        for ns in ("config", "data"):
            store.backend.mkdir(ns)
        store.store("config/main", b"settings")
        for k in keys:
            store.store(f"data/{k}", k.encode() * 3)
        store.backend.store("data/00000001", b"flat")  # an item left at level 0
        assert store.backend.info("data/01/02/01020304").exists  # nested at the last level
        assert store.load("data/00000001") == b"flat"  # found at the first level
        assert store.load(f"data/{keys[0]}", offset=8, size=4) == keys[0][:4].encode()
        assert store.load(f"data/{keys[0]}", offset=-3) == keys[0][-3:].encode()
        info = store.info(f"data/{keys[1]}")
        assert isinstance(info, ItemInfo) and info.size == 24 and info.exists
        assert [i.name for i in store.list("data")] == ["00000001"] + keys
        store.soft_delete(f"data/{keys[2]}")
        assert [i.name for i in store.list("data", deleted=True)] == [keys[2]]
        assert store.load(f"data/{keys[2]}", deleted=True) == keys[2].encode() * 3
        assert not store.info(f"data/{keys[2]}").exists
        assert store.backend.hash(store.find(f"data/{keys[1]}")) == hashlib.sha256(
            keys[1].encode() * 3).hexdigest()
        target = store.backend.defrag([(store.find(f"data/{keys[0]}"), 0, 8),
                                       ("data/00000001", 0, 4)],
                                      algorithm="sha256", namespace="data", levels=2)
        digest = hashlib.sha256(keys[0].encode() + b"flat").hexdigest()
        assert target == nest(f"data/{digest}", 2)
        assert store.backend.quota() == {"limit": -1, "usage": -1}

    # the C Store reads what the Python Store wrote, and the other way round
    c_store = borgstore_c.Store(url=url, levels=LEVELS)
    with c_store:
        assert c_store.load("config/main") == b"settings"
        assert c_store.load(f"data/{keys[1]}") == keys[1].encode() * 3
        assert c_store.load(f"data/{keys[2]}", deleted=True) == keys[2].encode() * 3
        assert sorted(i.name for i in c_store.list("data")) == sorted(
            ["00000001", keys[0], keys[1], digest])
        c_store.store("data/cdcdcdcd", b"from C")
    with store:
        assert store.load("data/cdcdcdcd") == b"from C"
        assert store.backend.info("data/cd/cd/cdcdcdcd").exists
    store.backend.destroy()


def test_registered_as_python_borgstores_backendbase(tmp_path):
    """Where Python borgstore is installed, Backend is a virtual subclass of
    its BackendBase (so isinstance checks in borg accept it). Here a stand-in
    borgstore package with an ABC BackendBase takes its place."""
    pkg = tmp_path / "borgstore" / "backends"
    pkg.mkdir(parents=True)
    (tmp_path / "borgstore" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "_base.py").write_text("from abc import ABC\nclass BackendBase(ABC):\n    pass\n")
    code = textwrap.dedent(f"""
        import borgstore_c
        from borgstore.backends._base import BackendBase
        assert issubclass(borgstore_c.Backend, BackendBase)
        assert isinstance(borgstore_c.Backend("file://{tmp_path}/s"), BackendBase)
        print("registered")
    """)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path)] + sys.path)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "registered"


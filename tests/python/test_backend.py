"""Backend: Python borgstore's BackendBase interface over the C backends
(what Python borgstore's Store calls), and Store(backend=Backend(...))."""

import hashlib

import pytest

import borgstore_c
from borgstore_c import Backend, ItemInfo, Store
from conftest import LEVELS_CONFIG

METHODS = ["create", "destroy", "open", "close", "mkdir", "rmdir", "info", "load", "store",
           "delete", "move", "list", "hash", "defrag", "quota", "gather", "__enter__",
           "__exit__"]


@pytest.fixture()
def backend(make_url):
    be = Backend(make_url())
    be.create()
    try:
        yield be
    finally:
        if be.opened:
            be.close()
        be.destroy()


def test_has_the_backendbase_interface():
    for m in METHODS:
        assert callable(getattr(Backend, m)), m
    assert Backend.precreate_dirs is False


def test_backend_operations(backend):
    with backend as be:
        be.mkdir("data")
        assert be.info("data").directory
        be.store("data/00/0000", b"0123456789")
        info = be.info("data/00/0000")
        assert info[:4] == ("0000", True, 10, False) and isinstance(info, ItemInfo)
        assert not be.info("data/nothing").exists
        assert be.load("data/00/0000", size=3, offset=2) == b"234"
        assert be.load("data/00/0000", offset=-2) == b"89"
        assert [i.name for i in be.list("data")] == ["00"]
        assert [i.name for i in be.list("data/00")] == ["0000"]
        assert be.hash("data/00/0000") == hashlib.sha256(b"0123456789").hexdigest()
        assert be.hash("data/00/0000", algorithm="sha3_256") == hashlib.sha3_256(
            b"0123456789").hexdigest()
        assert be.gather([("data/00/0000", 1, 2), ("data/00/0000", 8, 2)]) == b"1289"
        with pytest.raises(borgstore_c.ReadRangeError, match="requested 5 bytes at offset 8"):
            be.gather([("data/00/0000", 8, 5)])
        name = be.defrag([("data/00/0000", 0, 4)], algorithm="sha256", namespace="data",
                         levels=1)
        h = hashlib.sha256(b"0123").hexdigest()
        assert name == f"data/{h[:2]}/{h}"
        assert be.defrag([("data/00/0000", 0, 1)], target="data/t") == "data/t"
        be.move("data/t", "data/u")
        assert be.load("data/u") == b"0"
        be.delete("data/u")
        with pytest.raises(borgstore_c.ObjectNotFound):
            be.delete("data/u")
        assert be.quota() == {"limit": -1, "usage": -1}
        be.mkdir("empty")
        be.rmdir("empty")
        assert not be.info("empty").exists


def test_backend_state_errors(make_url):
    be = Backend(make_url())
    with pytest.raises(borgstore_c.BackendDoesNotExist):
        be.open()
    be.create()
    with pytest.raises(borgstore_c.BackendMustBeOpen):
        be.info("x")
    with be:
        with pytest.raises(borgstore_c.BackendMustNotBeOpen):
            be.destroy()
    be.destroy()
    with pytest.raises(borgstore_c.BackendURLInvalid):
        Backend("bogus://x")


def test_store_over_a_backend_object(make_url):
    be = Backend(make_url())
    store = Store(backend=be, levels=LEVELS_CONFIG)
    assert store.backend is be
    store.create()
    with store:
        store.store("two/12345678", b"v")
        # the Store's backend is the object: backend names are nested
        assert be.info("two/12/34/12345678").exists
    store.destroy()
    with pytest.raises(ValueError):
        Store(backend=be, levels=LEVELS_CONFIG)  # already taken by a Store
    del store  # the store frees the C backend; the object stays safe to call
    import gc
    gc.collect()
    with pytest.raises(RuntimeError, match="released with its Store"):
        be.info("x")


def test_python_backend_objects_are_refused(make_url):
    class PyBackend:
        pass

    with pytest.raises(TypeError):
        Store(backend=PyBackend(), levels=LEVELS_CONFIG)

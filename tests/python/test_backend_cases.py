"""Python borgstore's generic backend tests (tests/test_backends.py), run on
Backend over file://, serve:// and ssh://: what Python borgstore's Store and
borg expect of any BackendBase."""

import pytest

from borgstore_c import (Backend, BackendAlreadyExists, BackendDoesNotExist, BackendMustBeOpen,
                         BackendMustNotBeOpen, ObjectNotFound)
from conftest import key

ROOTNS = ""


@pytest.fixture()
def backend_created(make_url):
    be = Backend(make_url())
    be.create()
    try:
        yield be
    finally:
        if be.opened:
            be.close()
        be.destroy()


def names(backend, ns):
    return [i.name for i in backend.list(ns)]


def test_flat(backend_created):
    with backend_created as backend:
        k0, v0, k1, v1, k2, k42 = key(0), b"value0", key(1), b"value1", key(2), key(42)
        assert sorted(backend.list(ROOTNS)) == []
        backend.store(k0, v0)
        i0 = backend.info(k0)
        assert i0.exists and i0.size == len(v0) and not i0.directory
        assert backend.load(k0) == v0
        assert names(backend, ROOTNS) == [k0]
        backend.store(k1, v1)
        assert names(backend, ROOTNS) == sorted([k0, k1])
        backend.delete(k0)
        assert not backend.info(k0).exists
        backend.move(k1, k2)
        assert not backend.info(k1).exists and backend.info(k2).exists
        assert names(backend, ROOTNS) == [k2]
        backend.delete(k2)
        assert names(backend, ROOTNS) == []
        assert not backend.info(k42).exists
        with pytest.raises(ObjectNotFound):
            backend.load(k42)
        with pytest.raises(ObjectNotFound):
            backend.delete(k42)


def test_namespaced(backend_created):
    with backend_created as backend:
        k0, v0, ns0, k1, v1, ns1 = key(0), b"value0", "data", key(1), b"value1", "meta"
        k2, k42, ns42 = key(2), key(42), "ns42"
        backend.mkdir(ns0)
        backend.store(ns0 + "/" + k0, v0)
        assert backend.info(ns0 + "/" + k0).exists
        assert not backend.info(ns1 + "/" + k0).exists
        assert names(backend, ns0) == [k0]
        ins0 = backend.info(ns0)
        assert ins0.exists and ins0.directory
        backend.mkdir(ns1)
        backend.store(ns1 + "/" + k1, v1)
        assert backend.load(ns1 + "/" + k1) == v1
        backend.delete(ns0 + "/" + k0)
        assert names(backend, ns0) == []
        backend.move(ns1 + "/" + k1, ns1 + "/" + k2)
        assert names(backend, ns1) == [k2]
        backend.delete(ns1 + "/" + k2)
        assert names(backend, ROOTNS) == ["data", "meta"]
        for name in (ns0 + "/" + k42, ns42 + "/" + k42):
            assert not backend.info(name).exists
            with pytest.raises(ObjectNotFound):
                backend.load(name)
            with pytest.raises(ObjectNotFound):
                backend.delete(name)
        backend.rmdir(ns0)
        backend.rmdir(ns1)
        assert names(backend, ROOTNS) == []


def test_invalid_name(backend_created):
    with backend_created as backend:
        for name in ("/etc/passwd", "../etc/passwd", "foo/../etc/passwd"):
            with pytest.raises(ValueError):
                backend.info(name)


def test_list(backend_created):
    with backend_created as backend:
        backend.store(key(0), b"value0")
        backend.store(key(1), b"value1")
        backend.mkdir("dir")
        items = list(backend.list(ROOTNS))
        assert [(i.name, i.exists, i.size, i.directory) for i in items if not i.directory] == [
            (key(0), True, 6, False), (key(1), True, 6, False)]
        assert [(i.name, i.exists) for i in items if i.directory] == [("dir", True)]
        assert list(backend.list("dir")) == []
        with pytest.raises(ObjectNotFound):
            list(backend.list("nonexistent"))


@pytest.mark.parametrize("exp", [0, 3, 6, 7])
def test_scalability_size(backend_created, exp):
    with backend_created as backend:
        value = bytes(10**exp)
        backend.store("key", value)
        assert backend.load("key") == value


def test_load_partial(backend_created):
    with backend_created as backend:
        backend.store("key", b"0123456789")
        assert backend.load("key", size=3) == b"012"
        assert backend.load("key", offset=5) == b"56789"
        assert backend.load("key", offset=4, size=4) == b"4567"


def test_already_exists_does_not_exist_and_open_states(make_url):
    backend = Backend(make_url())
    with pytest.raises(BackendDoesNotExist):
        backend.open()
    backend.create()
    with backend as be:
        be.store("key", b"value")
        with pytest.raises(BackendMustNotBeOpen):
            be.open()
    with pytest.raises(BackendMustBeOpen):
        backend.store("key", b"x")
    with pytest.raises(BackendAlreadyExists):
        backend.create()
    backend.destroy()
    with pytest.raises(BackendDoesNotExist):
        backend.destroy()


def test_must_be_open(backend_created):
    backend = backend_created
    for call in (lambda: list(backend.list("dir")), lambda: backend.mkdir("dir"),
                 lambda: backend.rmdir("dir"), lambda: backend.store("key", b"value"),
                 lambda: backend.load("key"), lambda: backend.info("key"),
                 lambda: backend.move("key", "otherkey"), backend.close):
        with pytest.raises(BackendMustBeOpen):
            call()


def test_must_not_be_open(backend_created):
    backend = backend_created
    backend.open()
    for call in (backend.open, backend.create, backend.destroy):
        with pytest.raises(BackendMustNotBeOpen):
            call()
    backend.close()


def test_missing_nesting_dirs_store_and_move(backend_created):
    with backend_created as backend:
        assert not backend.precreate_dirs
        backend.store("namespace1/nest1/key1", b"value1")
        backend.move("namespace1/nest1/key1", "namespace1a/nest1a/key1a")
        backend.precreate_dirs = True  # Python's backends then mkdir on a retry
        backend.store("namespace2/nest2/key2", b"value2")
        backend.move("namespace2/nest2/key2", "namespace2a/nest2a/key2a")
        assert backend.load("namespace2a/nest2a/key2a") == b"value2"


def test_missing_parent_dirs(make_url):
    be = Backend(make_url("missing_parent_dir1/missing_parent_dir2/store"))
    be.create()
    with be:
        be.store("key", b"value")
    be.destroy()

"""The Store API, following Python borgstore 0.6's own tests/test_store.py
(same layout, same assertions where our behaviour is the same), over every
scheme."""

import hashlib

import pytest

import borgstore_c
from borgstore_c import ItemInfo, Store
from conftest import LEVELS_CONFIG, key, list_store_names, list_store_names_sorted

ROOTNS = ""


def ii(name, size):
    return ItemInfo(name=name, exists=True, size=size, directory=False)


def same(info, expected):
    """ItemInfo equality but for mtime (the storage's clock)."""
    return info._replace(mtime=0) == expected


def test_basics(store_created):
    ns, k0, v0 = "two", key(0), b"value0"
    nsk0 = ns + "/" + k0
    with store_created as store:
        store.store(nsk0, v0)
        assert store.load(nsk0) == v0
        assert store.info(nsk0).exists
        assert not store.info(nsk0).directory
        assert store.info(nsk0).size == len(v0)
        assert store.info(nsk0).mtime > 0
        assert store.find(nsk0) == "two/00/00/00000000"
        # at the backend's level (no automatic nesting), as Python's test does
        assert store.backend.info("two/00").directory
        assert store.backend.info("two/00/00").directory
        assert store.backend.info("two/00/00/00000000").size == len(v0)
        assert [i._replace(mtime=0) for i in store.list(ns)] == [ii(k0, len(v0))]
        store.delete(nsk0)
        assert not store.info(nsk0).exists
        assert list(store.list(ns)) == []
        assert not store.backend.info("two/00/00/00000000").exists


def test_config_constructor_is_like_levels(make_url):
    cfg = {ns: {"levels": levels} for ns, levels in LEVELS_CONFIG.items()}
    store = Store(url=make_url(), config=cfg)
    store.create()
    with store:
        store.store("two/12345678", b"x")
        assert store.find("two/12345678") == "two/12/34/12345678"
    store.destroy()


def test_constructor_errors(make_url, tmp_path):
    with pytest.raises(borgstore_c.NoBackendGiven):
        Store(levels=LEVELS_CONFIG)
    with pytest.raises(ValueError, match="No or invalid levels configuration given."):
        Store(url=make_url(), levels={})
    with pytest.raises(borgstore_c.BackendURLInvalid):
        Store(url="nosuchscheme:///x", levels=LEVELS_CONFIG)
    with pytest.raises(ValueError):
        Store(url=make_url(), config={"data/": {"levels": [1], "colour": "red"}})


def test_defrag_nested(store_created):
    ns, v1, v2 = "two", b"0123456789", b"abcdefghij"
    with store_created as store:
        store.store(ns + "/file1", v1)
        store.store(ns + "/file2", v2)
        sources = [("file1", 2, 3), ("file2", 5, 2)]
        res = store.defrag(sources, target="target1", namespace=ns)
        assert res == "target1"
        assert store.load(ns + "/" + res) == b"234fg"
        res = store.defrag(sources, algorithm="sha256", namespace=ns)
        assert res == hashlib.sha256(b"234fg").hexdigest()
        assert store.load(ns + "/" + res) == b"234fg"


def test_defrag_read_range_error_text(store_created):
    with store_created as store:
        store.store("two/file1", b"0123456789")
        msg = "Read range error from two/fi/le/file1 (requested 20 bytes at offset 2, got 8)"
        with pytest.raises(borgstore_c.ReadRangeError) as exc:
            store.defrag([("file1", 2, 20)], target="target1", namespace="two")
        assert str(exc.value) == msg
        assert not store.info("two/target1").exists  # nothing stored


def test_defrag_argument_errors(store_created):
    with store_created as store:
        store.store("zero/a", b"abc")
        with pytest.raises(ValueError, match="Either target or algorithm"):
            store.defrag([("a", 0, 1)], namespace="zero")
        with pytest.raises(ValueError, match="must not contain '/'"):
            store.defrag([("x/a", 0, 1)], target="t", namespace="zero")
        with pytest.raises(ValueError):
            store.defrag([("a", 0)], target="t", namespace="zero")


def test_hash(store_created):
    ns, k0, v0 = "two", key(0), b"value0"
    nsk0 = ns + "/" + k0
    with store_created as store:
        store.store(nsk0, v0)
        assert store.hash(nsk0) == hashlib.sha256(v0).hexdigest()
        assert store.hash(nsk0, algorithm="sha256") == hashlib.sha256(v0).hexdigest()
        store.move(nsk0, delete=True)
        assert store.hash(nsk0, deleted=True) == hashlib.sha256(v0).hexdigest()
        with pytest.raises(ValueError, match="Unsupported hash algorithm"):
            store.hash(nsk0, algorithm="invalid_algo", deleted=True)
        with pytest.raises(ValueError) as exc:
            store.hash(nsk0, algorithm="md4", deleted=True)
        assert str(exc.value) == "Unsupported hash algorithm: md4"


@pytest.mark.parametrize("alg", sorted(hashlib.algorithms_guaranteed - {"shake_128", "shake_256"}))
def test_hash_every_hashlib_algorithm(store_created, alg):
    value = bytes(range(256)) * 40
    with store_created as store:
        store.store("one/0000", value)
        assert store.hash("one/0000", algorithm=alg) == hashlib.new(alg, value).hexdigest()
        expected = hashlib.new(alg, value[:1000]).hexdigest()
        if len("one/xx/" + expected) <= borgstore_c.MAX_NAME_LENGTH:
            assert store.defrag([("0000", 0, 1000)], algorithm=alg, namespace="one") == expected
        else:  # as in Python borgstore, a name over 100 characters is refused
            with pytest.raises(ValueError):
                store.defrag([("0000", 0, 1000)], algorithm=alg, namespace="one")


def test_scalability_count(store_created):
    with store_created as store:
        for namespace, count in ("zero", 100), ("one", 300):
            keys = [key(i) for i in range(count)]
            for k in keys:
                store.store(namespace + "/" + k, b"")
            assert list_store_names(store, namespace) == keys


def test_upgrade_levels(store_created):
    k0, v0, k1, v1 = key(0), b"value0", key(1), b"value1"
    store_created.set_levels({ROOTNS: [0]}, create=True)
    with store_created as store:
        store.store(k0, v0)
        assert store.find(k0) == k0
        assert same(store.info(k0), ii(k0, len(v0)))
        assert list_store_names(store, ROOTNS) == [k0]
    store_created.set_levels({ROOTNS: [0, 1]}, create=True)
    with store_created as store:
        assert store.find(k0) == k0
        assert list_store_names(store, ROOTNS) == [k0]
        store.store(k1, v1)
        assert store.find(k1) == "00/" + k1
        assert same(store.info(k1), ii(k1, len(v1)))
        assert list_store_names_sorted(store, ROOTNS) == [k0, k1]
        store.delete(k1)
        store.store(k0, b"value0new")
        assert store.find(k0) == k0
        assert same(store.info(k0), ii(k0, 9))
        assert list_store_names(store, ROOTNS) == [k0]
        assert store.load(k0) == b"value0new"


def test_downgrade_levels(store_created):
    k0, v0, k1, v1 = key(0), b"value0", key(1), b"value1"
    store_created.set_levels({ROOTNS: [1]}, create=True)
    with store_created as store:
        store.store(k1, v1)
        assert store.find(k1) == "00/" + k1
        assert list_store_names(store, ROOTNS) == [k1]
    store_created.set_levels({ROOTNS: [1, 0]}, create=True)
    with store_created as store:
        assert store.find(k1) == "00/" + k1
        store.store(k0, v0)
        assert store.find(k0) == k0
        assert list_store_names_sorted(store, ROOTNS) == [k0, k1]
        store.delete(k0)
        store.store(k1, b"value1new")
        assert store.find(k1) == "00/" + k1
        assert list_store_names(store, ROOTNS) == [k1]
        assert store.load(k1) == b"value1new"


def test_move_delete_undelete(store_created):
    ns, k0, k1 = "zero", key(0), key(1)
    with store_created as store:
        store.store(ns + "/" + k0, b"value0")
        store.store(ns + "/" + k1, b"value1")
        store.move(ns + "/" + k0, delete=True)
        assert list_store_names(store, ns, deleted=False) == [k1]
        assert list_store_names(store, ns, deleted=True) == [k0]
        assert store.load(ns + "/" + k0, deleted=True) == b"value0"
        with pytest.raises(borgstore_c.ObjectNotFound):
            store.load(ns + "/" + k0)
        store.move(ns + "/" + k0, undelete=True)
        assert list_store_names(store, ns, deleted=False) == [k0, k1]
        assert list_store_names(store, ns, deleted=True) == []


def test_move_change_level(store_created):
    k0 = key(0)
    store_created.set_levels({ROOTNS: [0]}, create=True)
    with store_created as store:
        store.store(k0, b"value0")
        assert store.find(k0) == k0
    store_created.set_levels({ROOTNS: [0, 1]}, create=True)
    with store_created as store:
        store.move(k0, change_level=True)
        assert store.find(k0) == "00/" + k0


def test_move_generic(store_created):
    with store_created as store:
        store.store("zero/aaa", b"value")
        store.move("zero/aaa", "zero/bbb")
        assert store.load("zero/bbb") == b"value"
        store.store("one/00000000", b"value")
        store.move("one/00000000", "two/00000000")
        assert store.load("two/00000000") == b"value"
        with pytest.raises(ValueError, match="Generic move requires new_name to be given."):
            store.move("zero/bbb")


def test_nesting_config(store_created):
    with store_created as store:
        store.store("zero/something", b"")
        store.store("one/1234", b"")
        store.store("two/12345678", b"")
        assert store.find("zero/something") == "zero/something"
        assert store.find("one/1234") == "one/12/1234"
        assert store.find("two/12345678") == "two/12/34/12345678"


def test_load_partial(store_created):
    k = "zero/key"
    with store_created as store:
        store.store(k, b"0123456789")
        assert store.load(k) == b"0123456789"
        assert store.load(k, size=3) == b"012"
        assert store.load(k, offset=5) == b"56789"
        assert store.load(k, offset=4, size=4) == b"4567"
        assert store.load(k, offset=-3) == b"789"
        assert store.load(k, offset=8, size=10) == b"89"
        assert store.load(k, offset=20) == b""
        with pytest.raises(borgstore_c.ReadRangeError):
            store.load(k, offset=-20)


def test_list_is_sorted(store_created):
    unsorted_keys = "0012", "0000", "9999", "9988", "5566", "6655", "3322", "3300"
    with store_created as store:
        for ns in "zero", "one", "two":
            for k in unsorted_keys:
                store.store(f"{ns}/{k}", b"")
            assert list_store_names(store, ns) == sorted(unsorted_keys)


def test_list_missing_namespace(store_created):
    with store_created as store:
        with pytest.raises(borgstore_c.ObjectNotFound):
            list(store.list("zero"))


def test_stats(store_created):
    with store_created as store:
        ns, k = "zero", "zero/key"
        st = store.stats
        assert st["store_calls"] == st["load_calls"] == st["list_calls"] == 0
        store.store(k, b"")
        store.store(k, b"")
        store.load(k)
        list(store.list(ns))
        st = store.stats
        assert st["store_calls"] == 2 and st["load_calls"] == 1 and st["list_calls"] == 1
        assert st["load_time"] > 0 and st["store_time"] > 0
        assert st["load_volume"] == 0 and st["store_volume"] == 0
        store.store(k, bytes(100))
        store.store(k, bytes(100))
        store.load(k)
        store.load(k)
        st = store.stats
        assert st["store_volume"] == 200 and st["load_volume"] == 200
        for name in "info", "load", "store", "delete", "move", "list":
            assert f"{name}_calls" in st and f"{name}_time" in st


def test_errors_and_hierarchy(store_created):
    for cls in (borgstore_c.ObjectNotFound, borgstore_c.BackendDoesNotExist,
                borgstore_c.PermissionDenied, borgstore_c.QuotaExceeded,
                borgstore_c.ReadRangeError, borgstore_c.BackendMustBeOpen,
                borgstore_c.BackendMustNotBeOpen, borgstore_c.BackendAlreadyExists,
                borgstore_c.BackendURLInvalid, borgstore_c.NoBackendGiven):
        assert issubclass(cls, borgstore_c.BackendError)
    store = store_created
    with pytest.raises(borgstore_c.BackendMustBeOpen):
        store.load("zero/x")
    with store:
        store.store("zero/x", b"")
    with pytest.raises(borgstore_c.BackendAlreadyExists):
        store.create()  # not empty any more
    with store:
        with pytest.raises(borgstore_c.BackendMustNotBeOpen):
            store.open()
        with pytest.raises(borgstore_c.ObjectNotFound):
            store.load("zero/missing")
        with pytest.raises(borgstore_c.ObjectNotFound):
            store.delete("zero/missing")
        with pytest.raises(ValueError):
            store.store("zero/UPPER", b"")
        with pytest.raises(ValueError):
            store.store("zero/../x", b"")
        with pytest.raises(ValueError):
            store.store("nonamespace", b"")
        with pytest.raises(TypeError):
            store.store("zero/x", "not bytes")
        with pytest.raises(TypeError):
            store.load(123)


def test_does_not_exist(make_url):
    store = Store(url=make_url("never-created"), levels=LEVELS_CONFIG)
    with pytest.raises(borgstore_c.BackendDoesNotExist):
        store.open()


def test_buffer_protocol_values(store_created):
    import array

    with store_created as store:
        store.store("zero/mv", memoryview(b"0123456789")[2:5])
        assert store.load("zero/mv") == b"234"
        store.store("zero/ba", bytearray(b"abc"))
        assert store.load("zero/ba") == b"abc"
        store.store("zero/ar", array.array("I", [1, 2]))
        assert store.info("zero/ar").size == 8
        with pytest.raises((TypeError, BufferError, ValueError)):
            store.store("zero/nc", memoryview(b"0123456789")[::2])


def test_store_empty_key_and_repr(store_created):
    assert "Store(url=" in repr(store_created)
    with store_created as store:
        store.store("zero/empty", b"")
        assert store.load("zero/empty") == b""


def test_deviation_short_keys_at_nesting_levels(store_created):
    """docs/python.md: a key shorter than 2 hex digits per nesting level (the
    empty key too) is a ValueError; Python borgstore would build a name with
    empty path components."""
    with store_created as store:
        with pytest.raises(ValueError):
            store.store("one/", b"")
        for name in ("one/a", "two/abc"):
            with pytest.raises(ValueError, match="too short"):
                store.store(name, b"")
        store.store("zero/a", b"")  # level 0: any key


def test_deviation_info_of_soft_deleted_item_is_the_key(store_created):
    with store_created as store:
        store.store("zero/k", b"x")
        store.move("zero/k", delete=True)
        info = store.info("zero/k", deleted=True)
        assert info.exists and info.name == "k"  # Python passes "k.del" through


def test_raw_stats_as_python_borgstores_tests_read_them(store_created):
    """Python borgstore's test_stats reads store._stats (a Counter; ns)."""
    with store_created as store:
        ns, k = "zero", "zero/key"
        assert store._stats == {}
        store.store(k, b"")
        assert store._stats["store_calls"] == 1
        store.store(k, b"")
        store.load(k)
        assert store._stats["load_calls"] == 1 and store._stats["store_calls"] == 2
        list(store.list(ns))
        assert store._stats["list_calls"] == 1
        assert store._stats["list_time"] > 0 and store._stats["load_time"] > 0
        assert store._stats["load_volume"] == 0 and store._stats["store_volume"] == 0
        store.store(k, bytes(100))
        store.store(k, bytes(100))
        assert store._stats["store_volume"] == 200
        store.load(k)
        assert store._stats["load_volume"] == 100
        assert isinstance(store._stats["store_time"], int)


def test_name_in_no_namespace_is_a_keyerror_too(store_created):
    """Python borgstore raises KeyError("no matching namespace found for: ...");
    ours is that and a ValueError, in single calls and in batches."""
    with store_created as store:
        for call in (lambda: store.store("other/x", b""), lambda: store.info("other/x"),
                     lambda: store.find("other/x")):
            with pytest.raises(KeyError, match="no matching namespace found for: other/x"):
                call()
            with pytest.raises(ValueError):
                call()
        [(name, exc)] = list(store.load_many(["other/x"]))
        assert isinstance(exc, KeyError) and isinstance(exc, ValueError)
        assert str(exc) == "no matching namespace found for: other/x"
        assert isinstance(exc, borgstore_c.NamespaceNotConfigured)

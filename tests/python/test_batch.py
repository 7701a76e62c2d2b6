"""Batch methods (beyond Python borgstore): results as they arrive, one
failing item does not fail the others, values without copies, bounded
chunks; over every scheme."""

import pytest

import borgstore_c
from conftest import key


def test_store_load_info_delete_many(store_created):
    n = 500
    items = [(f"one/{key(i)}", bytes([i % 256]) * (i % 50)) for i in range(n)]
    with store_created as store:
        res = list(store.store_many(items))
        assert sorted(res) == sorted((name, None) for name, _ in items)
        loaded = dict(store.load_many(name for name, _ in items))
        assert loaded == dict(items)
        infos = dict(store.info_many([name for name, _ in items]))
        assert {k: v.size for k, v in infos.items()} == {k: len(v) for k, v in items}
        assert all(v.exists for v in infos.values())
        assert store.stats["store_calls"] == n and store.stats["load_calls"] == n
        deleted = list(store.delete_many([name for name, _ in items[:100]]))
        assert sorted(deleted) == sorted((name, None) for name, _ in items[:100])
        assert len(list(store.list("one"))) == n - 100


def test_missing_items_fail_alone(store_created):
    with store_created as store:
        store.store("zero/a", b"A")
        store.store("zero/c", b"C")
        res = dict(store.load_many(["zero/a", "zero/b", "zero/c"]))
        assert res["zero/a"] == b"A" and res["zero/c"] == b"C"
        assert isinstance(res["zero/b"], borgstore_c.ObjectNotFound)
        infos = dict(store.info_many(["zero/a", "zero/b"]))
        assert infos["zero/a"].exists and not infos["zero/b"].exists
        dels = dict(store.delete_many(["zero/b", "zero/a"]))
        assert isinstance(dels["zero/b"], borgstore_c.ObjectNotFound) and dels["zero/a"] is None
        bad = dict(store.store_many([("zero/UPPER", b""), ("zero/ok", b"1")]))
        assert isinstance(bad["zero/UPPER"], ValueError) and bad["zero/ok"] is None


def test_partial_and_deleted_loads(store_created):
    with store_created as store:
        list(store.store_many((f"zero/k{i}", b"0123456789") for i in range(10)))
        res = dict(store.load_many([f"zero/k{i}" for i in range(10)], offset=2, size=3))
        assert set(res.values()) == {b"234"}
        store.move("zero/k0", delete=True)
        assert dict(store.load_many(["zero/k0"], deleted=True)) == {"zero/k0": b"0123456789"}
        with pytest.raises(TypeError):
            store.info_many(["zero/k1"], offset=1)


def test_buffers_without_copies_and_windows(store_created):
    big = bytearray(b"x" * 100_000)
    views = [memoryview(big)[i * 1000:(i + 1) * 1000] for i in range(100)]
    with store_created as store:
        for window in (1, 4, 0):
            res = list(store.store_many(((f"one/{key(i)}", v) for i, v in enumerate(views)),
                                        window=window))
            assert len(res) == 100 and all(r is None for _, r in res)
        got = dict(store.load_many([f"one/{key(i)}" for i in range(100)], window=3))
        assert all(len(v) == 1000 for v in got.values())
    assert store_created.window >= 1


def test_early_stop_and_bad_input(store_created):
    with store_created as store:
        list(store.store_many((f"zero/k{i}", b"v") for i in range(300)))
        it = store.load_many(f"zero/k{i}" for i in range(300))
        first = next(it)
        assert first[1] == b"v"
        del it  # abandoned mid-way: results of its chunk are released
        with pytest.raises(TypeError):
            list(store.store_many(["not-a-pair"]))
        with pytest.raises(TypeError):
            list(store.load_many([1, 2]))
        with pytest.raises(ValueError):
            list(store.load_many(["zero/k1"], window=-1))
    with pytest.raises(borgstore_c.BackendMustBeOpen):
        list(store_created.load_many(["zero/k1"]))


def test_move_many_soft_delete_undelete_change_level(store_created):
    names = [f"zero/k{i}" for i in range(50)]
    with store_created as store:
        list(store.store_many((n, b"v") for n in names))
        res = dict(store.move_many(names + ["zero/missing"], delete=True))
        assert all(res[n] is None for n in names)
        assert isinstance(res["zero/missing"], borgstore_c.ObjectNotFound)
        assert list(store.list("zero")) == []
        assert len(list(store.list("zero", deleted=True))) == 50
        assert all(r is None for _, r in store.move_many(names, undelete=True))
        assert len(list(store.list("zero"))) == 50
        with pytest.raises(ValueError, match="exactly one"):
            store.move_many(names, delete=True, undelete=True)
        store.store("zero/abcd", b"v")
    store_created.set_levels({"zero/": [0, 1]})
    with store_created as store:
        res = list(store.move_many(["zero/abcd"], change_level=True))
        assert res == [("zero/abcd", None)]
        assert store.find("zero/abcd") == "zero/ab/abcd"
        assert store.load("zero/abcd") == b"v"

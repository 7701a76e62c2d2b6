"""The Store cache through the binding: Python borgstore 0.6's config keys
(cache, max_age, size) and cache_url, its stats keys, and ours
(verify_sha256: a corrupted entry is refetched, never returned)."""

import hashlib
import os

import pytest

import borgstore_c

from conftest import url_for


def packs_config(**policy):
    return {"config/": {"levels": [0]}, "packs/": {"levels": [1], **policy}}


def cached_store(scheme, tmp_path, **policy):
    store = borgstore_c.Store(url=url_for(scheme, tmp_path / "store"),
                              config=packs_config(**policy),
                              cache_url=f"file://{tmp_path / 'cache'}")
    store.create()
    return store


def pack(i, size=100_000):
    value = bytes((i + k) % 251 for k in range(size))
    return "packs/" + hashlib.sha256(value).hexdigest(), value


def test_writethrough_answers_repeated_ranges_from_the_cache(scheme, tmp_path):
    store = cached_store(scheme, tmp_path, cache="writethrough")
    name, value = pack(1)
    with store:
        store.store(name, value)
        before = store.stats
        assert store.load(name, offset=10, size=100) == value[10:110]
        assert store.load(name, offset=5000, size=7) == value[5000:5007]
        assert store.load(name, offset=-4, size=4) == value[-4:]  # not Python 0.6's b""
        after = store.stats
    store.destroy()
    # the store was asked once (the whole value), the cache answered the rest
    assert after["backend_load_calls"] - before["backend_load_calls"] <= 1
    assert after["cache_hits"] >= 2
    for k in ("cache_hits", "cache_misses", "cache_hit_ratio", "cache_errors",
              "cache_load_calls", "cache_store_calls", "cache_delete_calls",
              "cache_load_volume", "cache_store_volume", "cache_disabled"):
        assert k in after, k


def test_delete_and_namespaces_without_a_cache(scheme, tmp_path):
    store = cached_store(scheme, tmp_path, cache="mirror")
    name, value = pack(2, 1000)
    with store:
        store.store("config/c", b"settings")
        store.store(name, value)
        assert store.load(name) == value
        store.delete(name)
        with pytest.raises(borgstore_c.ObjectNotFound):
            store.load(name)
        assert store.load("config/c") == b"settings"
        assert store.stats["cache_errors"] == 0
    store.destroy()


def test_a_corrupted_entry_is_refetched_never_returned(tmp_path):
    store = cached_store("file", tmp_path, cache="writethrough", verify_sha256=True)
    name, value = pack(3)
    with store:
        store.store(name, value)
        assert store.load(name, offset=0, size=10) == value[:10]
    key = name.split("/")[1]
    entries = [os.path.join(d, f) for d, _, files in os.walk(tmp_path / "cache")
               for f in files if f == key]
    assert len(entries) == 1, entries
    with open(entries[0], "r+b") as f:
        f.write(b"\0" * 10)
    with store:
        assert store.load(name, offset=0, size=10) == value[:10]
        assert store.stats["cache_corrupt"] == 1
    store.destroy()


def test_config_errors_are_value_errors(tmp_path):
    url = f"file://{tmp_path / 'store'}"
    with pytest.raises(ValueError, match="cache_url"):
        borgstore_c.Store(url=url, config=packs_config(cache="writethrough"))
    with pytest.raises(ValueError, match="cache mode"):
        borgstore_c.Store(url=url, config=packs_config(cache="sometimes"),
                          cache_url=f"file://{tmp_path / 'cache'}")
    with pytest.raises(ValueError, match="Invalid namespace config keys"):
        borgstore_c.Store(url=url, config=packs_config(colour="blue"))


def test_cache_invalidate_drops_an_item(tmp_path):
    store = cached_store("file", tmp_path, cache="writethrough")
    name, value = pack(4, 1000)
    with store:
        store.store(name, value)
        store.load(name)
        store.cache_invalidate(name)
        misses = store.stats["cache_misses"]
        assert store.load(name) == value
        assert store.stats["cache_misses"] == misses + 1
    store.destroy()

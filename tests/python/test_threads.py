"""Threads (Python borgstore's test_threading: one Store shared by many
threads), the GIL released during C calls, and reference counts / memory
that stay flat over many operations."""

import os
import sys
import threading

import pytest

import borgstore_c
from borgstore_c import Store
from conftest import LEVELS_CONFIG, key


def test_threads_share_one_store(store_created):
    n_threads, per_thread = 8, 50
    errors = []
    with store_created as store:
        def work(t):
            try:
                for i in range(per_thread):
                    name = f"one/{key(t * 1000 + i)}"
                    value = f"{t}-{i}".encode()
                    store.store(name, value)
                    assert store.load(name) == value
                    assert store.info(name).size == len(value)
                # listing while others write: only complete items appear
                for info in store.list("one"):
                    assert info.size > 0
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(n_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert len(list(store.list("one"))) == n_threads * per_thread
        assert store.stats["store_calls"] == n_threads * per_thread


def _count_until(event):
    n = 0
    while not event.is_set():
        n += 1
    return n


def test_gil_is_released_during_a_slow_load(store_created):
    """Another thread keeps running Python code while a load waits (here on
    the emulated latency, 300 ms slept inside the C call). Held, the GIL
    would let this thread count for at most a switch interval or two (5 ms
    each); the bar is 60 ms of counting at the rate measured just before,
    so the machine's speed and load cancel out."""
    with store_created as store:
        store.store("zero/slow", b"x")
        tick = threading.Event()
        timer = threading.Timer(0.02, tick.set)  # 20 ms of counting
        timer.start()
        per_20ms = _count_until(tick)
        timer.join()
        store._set_emulation(300_000, 0)  # 300 ms per backend call
        in_call = threading.Event()
        done = threading.Event()

        def slow():
            in_call.set()
            store.load("zero/slow")
            done.set()

        t = threading.Thread(target=slow)
        t.start()
        in_call.wait()
        ran = _count_until(done)
        t.join()
        store._set_emulation(0, 0)
        assert ran > 3 * per_20ms, (ran, per_20ms)


def test_refcounts_do_not_change(store_created):
    with store_created as store:
        value = b"v" * 100
        name = "zero/" + "refcount"
        before = sys.getrefcount(value), sys.getrefcount(name)
        for _ in range(1000):
            store.store(name, value)
            store.load(name)
            store.info(name)
            list(store.store_many([(name, value)]))
            list(store.load_many([name]))
            list(store.info_many([name]))
        assert (sys.getrefcount(value), sys.getrefcount(name)) == before
        try:
            store.load("zero/missing")
        except borgstore_c.ObjectNotFound:
            pass
        assert (sys.getrefcount(value), sys.getrefcount(name)) == before


def rss_kib():
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    import os
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


@pytest.mark.skipif(bool(os.environ.get("BSC_ASAN")),
                    reason="ASan keeps freed memory in quarantine, so RSS grows by design; "
                    "the normal build runs this check")
def test_100k_operations_keep_rss_flat(tmp_path):
    """100,000 operations (loads, infos, failing loads, stores, batch items)
    on file://: the RSS after them is within a few MiB of the RSS after a
    warm-up run of the same loop."""
    store = Store(url=f"file://{tmp_path / 'store'}", levels=LEVELS_CONFIG)
    store.create()
    value = bytes(1000)

    def loop(n):
        for i in range(n):
            name = f"zero/k{i % 100}"
            if i % 10 == 0:
                store.store(name, value)
            store.load("zero/k0")
            store.info(name)
            try:
                store.load("zero/missing")
            except borgstore_c.ObjectNotFound:
                pass
            if i % 1000 == 0:
                list(store.load_many(f"zero/k{j}" for j in range(100)))
                list(store.info_many(["zero/k0", "zero/missing"]))

    with store:
        loop(5000)
        warm = rss_kib()
        loop(32_000)  # 3.1 operations each, plus batch items: over 100,000
        grown = rss_kib() - warm
    store.destroy()
    assert grown < 4096, f"RSS grew by {grown} KiB"


def test_a_batch_iterator_refuses_a_second_concurrent_next(store_created):
    """As a generator does ("already executing"): here the input iterator
    itself asks the batch for its next result while the batch pulls input."""
    with store_created as store:
        store.store("zero/a", b"A")
        seen = []

        def names():
            yield "zero/a"
            try:
                next(batch)
            except ValueError as e:
                seen.append(str(e))

        batch = store.load_many(names())
        assert list(batch) == [("zero/a", b"A")]
        assert seen == ["batch already running in another thread"]


def test_one_backend_object_shared_by_threads(make_url):
    """C backends are not thread-safe: the Backend object serializes its
    calls (with the GIL released while one waits)."""
    be = borgstore_c.Backend(make_url())
    be.create()
    errors = []
    with be:
        be.mkdir("data")

        def work(t):
            try:
                for i in range(40):
                    name = f"data/{t:02x}{i:06x}"
                    be.store(name, name.encode())
                    assert be.load(name) == name.encode()
                    assert be.info(name).size == len(name)
                assert len([i for i in be.list("data") if i.name.startswith(f"{t:02x}")]) == 40
            except Exception as e:  # pragma: no cover - reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    be.destroy()
    assert errors == []


def test_list_is_lazy_and_interleaves(store_created):
    """Python borgstore's test_threading: the listing thread may use the
    store inside its loop, and another thread's operations complete while a
    listing is suspended between items (joined inside the loop)."""
    with store_created as store:
        for i in range(50):
            store.store(f"zero/{key(i)}", b"value")
        seen = 0
        for info in store.list("zero"):
            seen += 1
            assert store.info(f"zero/{info.name}").exists
        assert seen == 50

        def other():
            for i in range(10):
                k = f"zero/{key(100 + i)}"
                store.store(k, b"other")
                store.delete(k)

        seen = 0
        for _ in store.list("zero"):
            seen += 1
            if seen == 1:
                t = threading.Thread(target=other)
                t.start()
                t.join()  # would deadlock if the listing held the store's lock
        assert seen >= 50


def test_stats_safe_under_concurrency(store_created):
    n_threads, n_ops = 4, 25
    with store_created as store:
        def hammer(t):
            for i in range(n_ops):
                k = f"zero/{key(t * 1000 + i)}"
                store.store(k, b"x")
                store.load(k)

        threads = [threading.Thread(target=hammer, args=(n,)) for n in range(n_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        st = store.stats
        assert st["store_calls"] == st["load_calls"] == n_threads * n_ops

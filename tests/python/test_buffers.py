"""Values go from the caller's buffer to the backend without a copy: a
64 MiB value stored from a memoryview raises the peak RSS by far less than
its size (file://, whose C backend writes straight from the buffer). The
peak (VmHWM) is reset first through /proc/self/clear_refs."""

import os
import re

import pytest

import borgstore_c
from conftest import url_for

SIZE = 64 << 20

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("BSC_ASAN")),
    reason="ASan's allocator and quarantine make RSS meaningless; the normal build runs this")


def status_kib(field):
    with open("/proc/self/status") as f:
        return int(re.search(field + r":\s+(\d+)", f.read()).group(1))


def peak_growth_kib(fn):
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # the peak RSS starts again from the current RSS
    before = status_kib("VmRSS")
    fn()
    return status_kib("VmHWM") - before


@pytest.fixture()
def big():
    buf = bytearray(os.urandom(1 << 20) * (SIZE >> 20))  # touched: resident
    yield buf


def test_store_takes_the_callers_buffer(tmp_path, big):
    store = borgstore_c.Store(url=url_for("file", tmp_path / "s"), levels={"zero/": [0]})
    store.create()
    with store:
        view = memoryview(big)
        grown = peak_growth_kib(lambda: store.store("zero/big", view[1:]))
        assert store.info("zero/big").size == SIZE - 1
        assert grown < SIZE // 4 // 1024, f"peak RSS grew by {grown} KiB"
        chunks = [(f"zero/c{i}", view[i * (SIZE // 4):(i + 1) * (SIZE // 4)]) for i in range(4)]
        grown = peak_growth_kib(lambda: list(store.store_many(chunks)))
        assert grown < SIZE // 4 // 1024, f"peak RSS grew by {grown} KiB"
        assert store.load("zero/c3") == big[3 * (SIZE // 4):]
    store.destroy()


def test_backend_store_takes_the_callers_buffer(tmp_path, big):
    be = borgstore_c.Backend(url_for("file", tmp_path / "b"))
    be.create()
    with be:
        grown = peak_growth_kib(lambda: be.store("big", memoryview(big)))
        assert grown < SIZE // 4 // 1024, f"peak RSS grew by {grown} KiB"
        assert be.info("big").size == SIZE
    be.destroy()

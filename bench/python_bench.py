#!/usr/bin/env python3
"""The standard workload (as borgstore-bench) driven from Python through
borgstore_c: N small values under data/<sha256> at level 1, then M large
ones. One line per phase 'phase count seconds ops/s MB/s', every value read
back checked. --window 1: single-item calls (as Python borgstore makes
them); otherwise the batch methods (load_many, ...).

usage: PYTHONPATH=build/python python3 bench/python_bench.py URL [--n N] [--m M]
       [--size BYTES] [--large-size BYTES] [--window W]
"""

import argparse
import hashlib
import sys
import time

import borgstore_c


def report(phase, count, secs, nbytes=0):
    secs = max(secs, 1e-9)
    mb = f"{nbytes / secs / 1e6:9.1f}" if nbytes else f"{'-':>9}"
    print(f"{phase:<14} {count:8d} {secs:9.3f} {count / secs:11.0f} {mb}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--m", type=int, default=16)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--large-size", type=int, default=8 << 20)
    ap.add_argument("--window", type=int, default=0)
    a = ap.parse_args()
    errors = 0
    values = [(i.to_bytes(8, "big") * (a.size // 8 + 1))[: a.size] for i in range(a.n)]
    values = [hashlib.sha512(v).digest() * (a.size // 64 + 1) for v in values]
    values = [v[: a.size] for v in values]
    names = ["data/" + hashlib.sha256(v).hexdigest() for v in values]
    expected = dict(zip(names, values))
    batch = a.window != 1
    store = borgstore_c.Store(url=a.url, levels={"": [0], "data/": [1]})
    t = time.perf_counter()
    store.create()
    report("create", 1, time.perf_counter() - t)
    store.open()

    t = time.perf_counter()
    if batch:
        errors += sum(r is not None for _, r in store.store_many(zip(names, values),
                                                                 window=a.window))
    else:
        for name, value in zip(names, values):
            store.store(name, value)
    report("store", a.n, time.perf_counter() - t, a.n * a.size)

    t = time.perf_counter()
    count = sum(1 for _ in store.list("data"))
    errors += count != a.n
    report("list", count, time.perf_counter() - t)

    t = time.perf_counter()
    if batch:
        for name, info in store.info_many(names, window=a.window):
            errors += isinstance(info, Exception) or info.size != a.size
    else:
        for name in names:
            errors += store.info(name).size != a.size
    report("info", a.n, time.perf_counter() - t)

    for phase, size in ("load", None), ("load_partial", 64):
        t = time.perf_counter()
        got = 0
        if batch:
            for name, value in store.load_many(names, size=size, window=a.window):
                errors += isinstance(value, Exception) or value != expected[name][:size]
                got += len(value)
        else:
            for name in names:
                value = store.load(name, size=size)
                errors += value != expected[name][:size]
                got += len(value)
        report(phase, a.n, time.perf_counter() - t, got)

    t = time.perf_counter()
    if batch:
        errors += sum(r is not None for _, r in store.move_many(names, delete=True,
                                                                window=a.window))
    else:
        for name in names:
            store.move(name, delete=True)
    report("soft_delete", a.n, time.perf_counter() - t)

    t = time.perf_counter()
    if batch:
        errors += sum(r is not None for _, r in store.delete_many(names, deleted=True,
                                                                  window=a.window))
    else:
        for name in names:
            store.delete(name, deleted=True)
    report("delete", a.n, time.perf_counter() - t)

    if a.m:
        large = [(f"data/{i:064x}", bytes([i % 256]) * a.large_size) for i in range(a.m)]
        t = time.perf_counter()
        if batch:
            errors += sum(r is not None for _, r in store.store_many(large, window=a.window))
        else:
            for name, value in large:
                store.store(name, value)
        report("store_large", a.m, time.perf_counter() - t, a.m * a.large_size)
        t = time.perf_counter()
        want = dict(large)
        if batch:
            for name, value in store.load_many([n for n, _ in large], window=a.window):
                errors += value != want[name]
        else:
            for name, _ in large:
                errors += store.load(name) != want[name]
        report("load_large", a.m, time.perf_counter() - t, a.m * a.large_size)
        list(store.delete_many([n for n, _ in large]))
    store.close()
    store.destroy()
    print(f"# errors={errors}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

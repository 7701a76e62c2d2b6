"""Quota and permissions: settings of the file:// backend (as in Python
borgstore, where only posixfs has them); following its test_posixfs_quota
and test_posixfs_permissions."""

import pytest

import borgstore_c
from borgstore_c import Store
from conftest import LEVELS_CONFIG


@pytest.fixture()
def url(tmp_path):
    return f"file://{tmp_path / 'store'}"


def test_quota_enforced_and_reported(url):
    store = Store(url=url, levels=LEVELS_CONFIG, quota=1000)
    store.create()
    with store:
        store.store("zero/a", bytes(600))
        q = store.quota()
        assert q["limit"] == 1000 and q["usage"] >= 600
        with pytest.raises(borgstore_c.QuotaExceeded):
            store.store("zero/b", bytes(600))
        store.delete("zero/a")
        store.store("zero/b", bytes(600))  # room again
    store.destroy()


def test_no_quota(url):
    store = Store(url=url, levels=LEVELS_CONFIG)
    store.create()
    with store:
        assert store.quota() == {"limit": -1, "usage": -1}
    store.destroy()


def test_permissions_read_only(url):
    rw = Store(url=url, levels=LEVELS_CONFIG)
    rw.create()
    with rw:
        rw.store("zero/a", b"x")
    ro = Store(url=url, levels=LEVELS_CONFIG, permissions={"": "lr"})
    with ro:
        assert ro.load("zero/a") == b"x"
        assert [i.name for i in ro.list("zero")] == ["a"]
        with pytest.raises(borgstore_c.PermissionDenied):
            ro.store("zero/b", b"y")
        with pytest.raises(borgstore_c.PermissionDenied):
            ro.delete("zero/a")
    rw.destroy()


def test_permissions_preset_no_delete(url):
    store = Store(url=url, levels={"": [0]})
    store.create()
    nodel = Store(url=url, levels={"": [0]}, permissions="borgbackup-no-delete")
    with nodel:
        nodel.store("data/a", b"x")  # borg's layout: data/ may be written, not deleted
        with pytest.raises(borgstore_c.PermissionDenied):
            nodel.delete("data/a")
    store.destroy()


def test_bad_permissions(url):
    with pytest.raises(ValueError):
        Store(url=url, levels=LEVELS_CONFIG, permissions=42)


def test_deviation_quota_usage_is_persisted_at_once(tmp_path):
    """docs/python.md: quota.hid is written with every change (Python borgstore
    writes it when the store is closed), so a crash loses no accounting."""
    store = Store(url=f"file://{tmp_path / 'store'}", levels=LEVELS_CONFIG, quota=10_000)
    store.create()
    with store:
        store.store("zero/a", bytes(1234))
        usage = int((tmp_path / "store" / "quota.hid").read_text())
        assert usage >= 1234
    store.destroy()

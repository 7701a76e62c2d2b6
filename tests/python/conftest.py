"""Fixtures of the borgstore_c suite: every store test runs over file://,
serve:// (borgstore-serve over pipes) and ssh:// (the test sshd of
tests/integration/with-sshd.sh). BSC_TEST_SCHEMES=file,serve limits the
schemes for a run by hand; under meson all three run, and a missing sshd is
a failed setup, not a skip."""

import os

import pytest

import borgstore_c

SCHEMES = os.environ.get("BSC_TEST_SCHEMES", "file,serve,ssh").split(",")

# Python borgstore's test layout.
LEVELS_CONFIG = {"zero/": [0], "one/": [1], "two/": [2]}


def key(i):
    """Python borgstore's tests' keys: 8 hex digits."""
    return f"{i:08x}"


def url_for(scheme, path):
    path = os.path.abspath(path)
    if scheme == "file":
        return f"file://{path}"
    if scheme == "serve":
        if not os.environ.get("BORGSTORE_REMOTE_PATH"):
            pytest.fail("serve:// needs BORGSTORE_REMOTE_PATH (the borgstore-serve to run)")
        return f"serve://{path}"
    if scheme == "ssh":
        alias = os.environ.get("BS_SSHD_ALIAS")
        if not alias:
            pytest.fail("ssh:// needs the test sshd: run under tests/integration/with-sshd.sh")
        return f"ssh://{alias}/{path}"
    raise ValueError(scheme)


@pytest.fixture(params=SCHEMES)
def scheme(request):
    return request.param


@pytest.fixture()
def make_url(scheme, tmp_path):
    """make_url(name="store") -> a URL of a fresh location for the scheme."""
    return lambda name="store": url_for(scheme, tmp_path / name)


@pytest.fixture()
def store_created(make_url):
    """A created (closed) Store with LEVELS_CONFIG, destroyed afterwards."""
    store = borgstore_c.Store(url=make_url(), levels=LEVELS_CONFIG)
    store.create()
    try:
        yield store
    finally:
        if store.is_open:
            store.close()
        store.destroy()


def list_store_names(store, ns, deleted=False):
    return [info.name for info in store.list(ns, deleted=deleted)]


def list_store_names_sorted(store, ns, deleted=False):
    return sorted(list_store_names(store, ns, deleted=deleted))

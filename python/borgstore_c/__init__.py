"""borgstore_c: the C borgstore (libborgstore) for Python.

A drop-in for Python borgstore 0.6's ``Store`` (same constructor, methods,
``ItemInfo`` and exception names), plus batch methods (``load_many``,
``info_many``, ``store_many``, ``delete_many``) and ``Backend``, an object with
Python borgstore's ``BackendBase`` interface over the C backends. Every C call
runs with the GIL released. See docs/python.md for the differences.
"""

import json
import os
from collections import Counter, namedtuple

from . import _borgstore_c

__all__ = [
    "Store", "Backend", "ItemInfo", "BackendError", "BackendURLInvalid", "NoBackendGiven",
    "BackendAlreadyExists", "BackendDoesNotExist", "BackendMustNotBeOpen", "BackendMustBeOpen",
    "ObjectNotFound", "PermissionDenied", "QuotaExceeded", "ReadRangeError",
    "BackendConnectionError", "NamespaceNotConfigured", "DEL_SUFFIX", "MAX_NAME_LENGTH",
]

DEL_SUFFIX = ".del"
MAX_NAME_LENGTH = _borgstore_c.NAME_MAX

# mtime: the last modification as a UNIX timestamp [s] (float, the storage side's
# clock), 0 when the backend does not know (as in Python borgstore 0.6.1).
ItemInfo = namedtuple("ItemInfo", "name exists size directory mtime", defaults=(0,))


class BackendError(Exception):
    """Base class of the errors of this package (as in Python borgstore)."""


class BackendURLInvalid(BackendError):
    """Raised when trying to create a store using an invalid backend URL."""


class NoBackendGiven(BackendError):
    """Raised when trying to create a store and giving neither a backend nor a URL."""


class BackendAlreadyExists(BackendError):
    """Raised when a backend already exists."""


class BackendDoesNotExist(BackendError):
    """Raised when a backend does not exist."""


class BackendMustNotBeOpen(BackendError):
    """Backend must not be open."""


class BackendMustBeOpen(BackendError):
    """Backend must be open."""


class ObjectNotFound(BackendError):
    """Object not found."""


class PermissionDenied(BackendError):
    """Permission denied for the requested operation."""


class QuotaExceeded(BackendError):
    """The quota does not allow this store."""


class ReadRangeError(BackendError):
    """A read range reaches outside of the item."""


class BackendConnectionError(BackendError):
    """The connection to a remote backend failed or timed out (not in Python borgstore)."""


class NamespaceNotConfigured(ValueError, KeyError):
    """A name in no configured namespace: an invalid argument (ValueError), and
    a KeyError as in Python borgstore, with its text."""

    __str__ = ValueError.__str__  # the text, not KeyError's repr of it


_borgstore_c._register(
    ItemInfo,
    {
        "NOT_FOUND": ObjectNotFound,
        "ALREADY_EXISTS": BackendAlreadyExists,
        "DOES_NOT_EXIST": BackendDoesNotExist,
        "MUST_BE_OPEN": BackendMustBeOpen,
        "MUST_NOT_BE_OPEN": BackendMustNotBeOpen,
        "INVALID": ValueError,
        "URL_INVALID": BackendURLInvalid,
        "PERMISSION": PermissionDenied,
        "QUOTA": QuotaExceeded,
        "READ_RANGE": ReadRangeError,
        "CONNECTION": BackendConnectionError,
        "TIMEOUT": BackendConnectionError,
        "NO_NAMESPACE": NamespaceNotConfigured,
    },
    BackendError,
)


def _permissions(permissions):
    if permissions is None or isinstance(permissions, str):
        return permissions
    if isinstance(permissions, dict):
        return json.dumps(permissions)
    raise ValueError("permissions must be a dict, a preset name or None")


_CACHE_KEYS = {"cache", "max_age", "size", "verify_sha256"}


def _cache_policies(config):
    """{namespace: {"cache": mode, "max_age": s, "size": bytes}} -> the policies
    of the namespaces that name a cache (verify_sha256 is ours: keys are the
    sha256 of their values, checked on every hit)."""
    policies = []
    for namespace, cfg in (config or {}).items():
        if not isinstance(cfg, dict) or "cache" not in cfg and not (_CACHE_KEYS & set(cfg)):
            continue
        mode = cfg.get("cache", "off")
        if mode not in ("off", "mirror", "writethrough"):
            raise ValueError(f"Invalid cache mode for {namespace!r}: {mode!r}")
        max_age = float(cfg.get("max_age") or 0)
        size = int(cfg.get("size") or 0)
        if max_age < 0 or size < 0:
            raise ValueError(f"Invalid cache max_age or size for {namespace!r}")
        policies.append((namespace, mode, max_age, size, bool(cfg.get("verify_sha256"))))
    return policies


def _namespaces(levels):
    """{namespace: [levels]} or {namespace: {"levels": [levels]}} -> [(namespace, [levels])]."""
    if not levels or not isinstance(levels, dict):
        raise ValueError("No or invalid levels configuration given.")
    result = []
    for namespace, cfg in levels.items():
        if isinstance(cfg, dict):
            unknown = set(cfg) - {"levels"} - _CACHE_KEYS
            if unknown:
                raise ValueError(f"Invalid namespace config keys: {sorted(unknown)!r}")
            cfg = cfg.get("levels")
        if not cfg or not isinstance(cfg, (list, tuple)):
            raise ValueError("'levels' is required and must be a non-empty list of ints.")
        if not isinstance(namespace, str):
            raise ValueError(f"Invalid namespace: {namespace!r}")
        result.append((namespace, list(cfg)))
    return result


class Backend(_borgstore_c.Backend):
    """A C backend with Python borgstore's BackendBase interface.

    Backend(url, permissions=None, quota=None): url as for Store (file://,
    serve://, ssh://, sftp://, rclone:...). Names are backend names (with
    namespace and nesting). Usable as Python borgstore's Store(backend=...).
    """

    precreate_dirs = False

    def __init__(self, url, permissions=None, quota=None):
        super().__init__(url, _permissions(permissions), int(quota or 0))
        self.url = url

    def __repr__(self):
        return f"<borgstore_c.Backend(url={self.url!r})>"

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.close()
        return False

    def gather(self, sources):
        """the contents of the (name, offset, size) ranges, concatenated."""
        parts = []
        for name, offset, size in sources:
            if size == 0:
                continue
            chunk = self.load(name, offset=offset, size=size)
            if len(chunk) != size:
                raise ReadRangeError(
                    f"Read range error from {name} (requested {size} bytes at offset {offset}, "
                    f"got {len(chunk)})"
                )
            parts.append(chunk)
        return b"".join(parts)


try:  # let Python borgstore see Backend as one of its own, where it is installed
    from borgstore.backends._base import BackendBase as _BackendBase

    _BackendBase.register(Backend)
except ImportError:  # pragma: no cover - Python borgstore is optional
    pass


class Store(_borgstore_c.Store):
    """libborgstore's Store with the interface of Python borgstore 0.6's Store.

    Store(url=None, backend=None, levels=None, config=None, permissions=None, quota=None,
          cache_url=None):
    levels is {namespace: [levels]}, config is {namespace: {"levels": [levels]}} (give
    one); backend is a borgstore_c.Backend, which the store takes over.
    store.backend is that Backend (or one over the URL's backend): calls on it
    bypass the store's lock, nesting and stats, as in Python borgstore.
    """

    def __init__(self, url=None, backend=None, levels=None, config=None, permissions=None,
                 quota=None, cache_url=None, cache_backend=None):
        if backend is None and url is None:
            raise NoBackendGiven("You need to give a backend instance or a backend url.")
        if config is not None and levels is not None:
            raise ValueError("Give levels or config, not both.")
        if config is not None and (not isinstance(config, dict) or not config):
            raise ValueError("No or invalid config given.")
        namespaces = _namespaces(config if config is not None else levels)
        if backend is not None and (permissions is not None or quota is not None):
            raise ValueError("permissions and quota are settings of the backend")
        super().__init__(url, namespaces, _permissions(permissions), int(quota or 0), backend)
        self.url = url
        if cache_backend is not None:
            raise ValueError("cache_backend is not supported: give cache_url (docs/python.md)")
        policies = _cache_policies(config)
        if any(p[1] != "off" for p in policies) and cache_url is None:
            raise ValueError("A cache mode other than 'off' needs cache_url.")
        if cache_url is not None or policies:
            self._set_cache(cache_url, policies)
        self.cache_url = cache_url
        if backend is None:
            # Python borgstore's store.backend, for inspection: calls on it
            # bypass the store's lock, nesting and stats.
            backend = self._backend_view(Backend)
            backend.url = url
        self.backend = backend
        self.levels = sorted(((ns, lv) for ns, lv in namespaces), key=lambda e: len(e[0]),
                             reverse=True)
        self.latency = float(os.environ.get("BORGSTORE_LATENCY", "0")) / 1e6
        self.bandwidth = float(os.environ.get("BORGSTORE_BANDWIDTH", "0")) / 8

    def __repr__(self):
        return f"<Store(url={self.url!r}, levels={self.levels!r})>"

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.close()
        return False

    def set_levels(self, levels, create=False):
        namespaces = _namespaces(levels)
        self._set_levels(namespaces)
        self.levels = sorted(namespaces, key=lambda e: len(e[0]), reverse=True)
        if create:
            self.create_levels()

    @property
    def stats(self):
        """call counters, times [s], volumes [bytes] and throughputs, as Python borgstore's."""
        return self._c_stats()

    @property
    def _stats(self):
        """Python borgstore's raw counters, as its tests read them: a Counter
        of the counted keys only, times in ns (int), volumes in bytes."""
        raw = Counter()
        for k, v in self._c_stats().items():
            if k.endswith("_throughput"):
                continue
            v = int(v * 1e9) if k.endswith("_time") else v
            if v:
                raw[k] = v
        return raw

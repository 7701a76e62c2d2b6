/* The Store type: libborgstore's bs_store with Python borgstore 0.6's
 * method signatures. Argument normalization that is easier in Python
 * (levels/config dicts, permissions) happens in __init__.py's subclass. */
#include "bsc.h"

#include <string.h>

#define FASTKW (PyObject * self_, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
#define SELF ((BscStore *)self_)
#define ARGS(fn, npos, ...)                                                                \
    static const char *const names_[] = {__VA_ARGS__};                                     \
    enum { N_ = sizeof names_ / sizeof names_[0] };                                        \
    PyObject *a[N_];                                                                       \
    if (bsc_args(args, nargs, kwnames, fn, names_, N_, npos, a)) return NULL

/* ns_list: a sequence of (prefix, [levels...]) -> out (prefixes borrowed). */
static int namespaces(PyObject *ns_list, bs_store_namespace **out, size_t *n_out)
{
    PyObject *seq = PySequence_Fast(ns_list, "namespaces must be a sequence");
    if (!seq) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    bs_store_namespace *ns = PyMem_Calloc(n ? (size_t)n : 1, sizeof *ns);
    if (!ns) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *prefix, *levels;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, i), "UO", &prefix, &levels)) goto fail;
        if (!(ns[i].prefix = PyUnicode_AsUTF8(prefix))) goto fail;
        PyObject *lv = PySequence_Fast(levels, "levels must be a list of ints");
        if (!lv) goto fail;
        Py_ssize_t nl = PySequence_Fast_GET_SIZE(lv);
        if (nl < 1 || nl > BS_STORE_LEVELS_MAX) {
            Py_DECREF(lv);
            PyErr_Format(PyExc_ValueError, "Invalid levels: %U: %R", prefix, levels);
            goto fail;
        }
        for (Py_ssize_t j = 0; j < nl; j++) {
            long v = PyLong_AsLong(PySequence_Fast_GET_ITEM(lv, j));
            if (v == -1 && PyErr_Occurred()) {
                Py_DECREF(lv);
                goto fail;
            }
            ns[i].levels[j] = v < 0 || v > BS_STORE_LEVEL_MAX ? -1 : (int)v;
        }
        ns[i].nlevels = (size_t)nl;
        Py_DECREF(lv);
    }
    /* The prefixes stay valid while seq (holding the str objects) lives: the
     * caller uses them before returning, and seq is a new reference to
     * either ns_list itself or a list holding its items. */
    Py_DECREF(seq);
    *out = ns;
    *n_out = (size_t)n;
    return 0;
fail:
    Py_DECREF(seq);
    PyMem_Free(ns);
    return -1;
}

/* __init__(url, namespaces, permissions=None, quota=0, backend=None) */
static int store_init(PyObject *self_, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"url", "namespaces", "permissions", "quota", "backend", NULL};
    PyObject *url_o, *ns_list, *backend = Py_None;
    const char *perms = NULL;
    unsigned long long quota = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|zKO", kwlist, &url_o, &ns_list, &perms,
                                     &quota, &backend))
        return -1;
    if (SELF->s) {
        PyErr_SetString(PyExc_RuntimeError, "Store.__init__ called twice");
        return -1;
    }
    bs_store_namespace *ns;
    size_t n;
    if (namespaces(ns_list, &ns, &n)) return -1;
    bs_store_config cfg = {.namespaces = ns, .n_namespaces = n};
    cfg.backend.permissions = perms;
    cfg.backend.quota = quota;
    int rc;
    bs_store *s = NULL;
    if (backend != Py_None) {
        if (!PyObject_TypeCheck(backend, &BscBackend_Type)) {
            PyMem_Free(ns);
            PyErr_SetString(PyExc_TypeError,
                            "backend must be a borgstore_c.Backend (a Python backend object "
                            "can not drive the C Store)");
            return -1;
        }
        BscBackend *bo = (BscBackend *)backend;
        if (!bo->b || bo->owned) {
            PyMem_Free(ns);
            PyErr_SetString(PyExc_ValueError, "this Backend is already used by a Store");
            return -1;
        }
        BSC_NOGIL(rc = bs_store_new_from_backend(&s, bo->b, &cfg));
        if (!rc) {
            bo->owned = 1;
            Py_INCREF(backend);
            SELF->backend = backend;
        }
    } else {
        const char *url = bsc_str(url_o, "url");
        if (!url) {
            PyMem_Free(ns);
            return -1;
        }
        BSC_NOGIL(rc = bs_store_new(&s, url, &cfg));
    }
    PyMem_Free(ns);
    if (rc) {
        bsc_raise(rc);
        return -1;
    }
    SELF->s = s;
    return 0;
}

static void store_dealloc(PyObject *self_)
{
    PyObject_GC_UnTrack(self_);
    if (SELF->s) BSC_NOGIL(bs_store_free(SELF->s));
    SELF->s = NULL;
    if (SELF->backend) ((BscBackend *)SELF->backend)->b = NULL; /* freed with the store */
    Py_CLEAR(SELF->backend);
    Py_TYPE(self_)->tp_free(self_);
}

static int store_traverse(PyObject *self_, visitproc visit, void *arg)
{
    Py_VISIT(SELF->backend);
    return 0;
}

static int store_clear(PyObject *self_)
{
    (void)self_; /* the backend reference must live as long as the store */
    return 0;
}

/* The store pointer, or NULL with an exception set. */
static bs_store *ST(PyObject *self_)
{
    if (!SELF->s) PyErr_SetString(PyExc_RuntimeError, "Store is not initialized");
    return SELF->s;
}

#define CALL0(fname, cfn)                                                      \
    static PyObject *fname(PyObject *self_, PyObject *unused)                  \
    {                                                                          \
        (void)unused;                                                          \
        bs_store *s = ST(self_);                                               \
        if (!s) return NULL;                                                   \
        int rc;                                                                \
        BSC_NOGIL(rc = cfn);                                                   \
        if (rc) return bsc_raise(rc);                                          \
        Py_RETURN_NONE;                                                        \
    }
CALL0(store_create, bs_store_create(s, 0))
CALL0(store_create_levels, bs_store_create_levels(s))
CALL0(store_destroy, bs_store_destroy(s))
CALL0(store_open, bs_store_open(s))
CALL0(store_close, bs_store_close(s))

static PyObject *store_is_open(PyObject *self_, void *unused)
{
    (void)unused;
    bs_store *s = ST(self_);
    if (!s) return NULL;
    bool open;
    BSC_NOGIL(open = bs_store_is_open(s));
    return PyBool_FromLong(open);
}

static PyObject *store_set_levels_c(PyObject *self_, PyObject *ns_list)
{
    bs_store *s = ST(self_);
    if (!s) return NULL;
    bs_store_namespace *ns;
    size_t n;
    if (namespaces(ns_list, &ns, &n)) return NULL;
    int rc;
    BSC_NOGIL(rc = bs_store_set_config(s, ns, n));
    PyMem_Free(ns);
    if (rc) return bsc_raise(rc);
    Py_RETURN_NONE;
}

static PyObject *store_find FASTKW
{
    ARGS("find", 1, "name", "deleted");
    bs_store *s = ST(self_);
    const char *name = s ? bsc_str(a[0], "name") : NULL;
    int deleted = bsc_bool(a[1], 0);
    if (!name || deleted < 0) return NULL;
    char out[BS_NAME_BUF];
    int rc;
    BSC_NOGIL(rc = bs_store_find(s, name, deleted, out));
    if (rc) return bsc_raise(rc);
    return PyUnicode_FromString(out);
}

static PyObject *store_info FASTKW
{
    ARGS("info", 1, "name", "deleted");
    bs_store *s = ST(self_);
    const char *name = s ? bsc_str(a[0], "name") : NULL;
    int deleted = bsc_bool(a[1], 0);
    if (!name || deleted < 0) return NULL;
    bs_item_info info;
    int rc;
    BSC_NOGIL(rc = bs_store_info(s, name, deleted, &info));
    if (rc) return bsc_raise(rc);
    return bsc_item_info(&info);
}

static PyObject *store_load FASTKW
{
    ARGS("load", 1, "name", "size", "offset", "deleted");
    bs_store *s = ST(self_);
    const char *name = s ? bsc_str(a[0], "name") : NULL;
    int64_t size, offset;
    int deleted = bsc_bool(a[3], 0);
    if (!name || deleted < 0 || bsc_int64(a[1], BS_SIZE_ALL, &size) ||
        bsc_int64(a[2], 0, &offset))
        return NULL;
    if (size < 0 && size != BS_SIZE_ALL) {
        PyErr_SetString(PyExc_ValueError, "size must be None or >= 0");
        return NULL;
    }
    uint8_t *data;
    size_t len;
    int rc;
    BSC_NOGIL(rc = bs_store_load(s, name, offset, size, deleted, &data, &len));
    if (rc) return bsc_raise(rc);
    PyObject *res = PyBytes_FromStringAndSize((const char *)data, (Py_ssize_t)len);
    bs_free(data);
    return res;
}

static PyObject *store_store FASTKW
{
    ARGS("store", 2, "name", "value");
    bs_store *s = ST(self_);
    const char *name = s ? bsc_str(a[0], "name") : NULL;
    if (!name) return NULL;
    if (!a[1]) return PyErr_Format(PyExc_TypeError, "store() missing argument 'value'");
    Py_buffer view;
    if (PyObject_GetBuffer(a[1], &view, PyBUF_CONTIG_RO) < 0) return NULL;
    int rc;
    BSC_NOGIL(rc = bs_store_store(s, name, view.buf, (size_t)view.len));
    PyBuffer_Release(&view);
    if (rc) return bsc_raise(rc);
    Py_RETURN_NONE;
}

static PyObject *store_delete FASTKW
{
    ARGS("delete", 1, "name", "deleted");
    bs_store *s = ST(self_);
    const char *name = s ? bsc_str(a[0], "name") : NULL;
    int deleted = bsc_bool(a[1], 0);
    if (!name || deleted < 0) return NULL;
    int rc;
    BSC_NOGIL(rc = bs_store_delete(s, name, deleted));
    if (rc) return bsc_raise(rc);
    Py_RETURN_NONE;
}

static PyObject *store_move FASTKW
{
    ARGS("move", 2, "name", "new_name", "delete", "undelete", "change_level", "deleted");
    bs_store *s = ST(self_);
    const char *name = s ? bsc_str(a[0], "name") : NULL;
    if (!name) return NULL;
    int del = bsc_bool(a[2], 0), undel = bsc_bool(a[3], 0), chg = bsc_bool(a[4], 0);
    int deleted = bsc_bool(a[5], 0);
    if (del < 0 || undel < 0 || chg < 0 || deleted < 0) return NULL;
    const char *new_name = NULL;
    bs_move_mode mode = BS_MOVE_RENAME;
    if (del) mode = BS_MOVE_SOFT_DELETE;
    else if (undel) mode = BS_MOVE_UNDELETE;
    else if (chg) mode = BS_MOVE_CHANGE_LEVEL;
    else {
        if (!a[1] || a[1] == Py_None || !PyObject_IsTrue(a[1])) {
            PyErr_SetString(PyExc_ValueError, "Generic move requires new_name to be given.");
            return NULL;
        }
        if (!(new_name = bsc_str(a[1], "new_name"))) return NULL;
    }
    int rc;
    BSC_NOGIL(rc = bs_store_move(s, name, new_name, mode, deleted));
    if (rc) return bsc_raise(rc);
    Py_RETURN_NONE;
}

static PyObject *store_list FASTKW
{
    ARGS("list", 2, "name", "deleted");
    bs_store *s = ST(self_);
    const char *name = s ? bsc_str(a[0], "name") : NULL;
    int deleted = bsc_bool(a[1], 0);
    if (!name || deleted < 0) return NULL;
    return bsc_store_list_new(SELF, name, deleted);
}

static PyObject *store_hash FASTKW
{
    ARGS("hash", 2, "name", "algorithm", "deleted");
    bs_store *s = ST(self_);
    const char *name = s ? bsc_str(a[0], "name") : NULL;
    int deleted = bsc_bool(a[2], 0);
    bs_hash_alg alg;
    if (!name || deleted < 0 || bsc_hash_alg(a[1], &alg)) return NULL;
    char hex[BS_HASH_HEX_SIZE];
    int rc;
    BSC_NOGIL(rc = bs_store_hash(s, name, alg, deleted, hex));
    if (rc) return bsc_raise(rc);
    return PyUnicode_FromString(hex);
}

/* sources: iterable of (name, offset, size) -> blocks (names borrowed from
 * the tuples kept in *keep). */
static int blocks(PyObject *sources, PyObject **keep, bs_store_block **out, size_t *n_out)
{
    PyObject *seq = PySequence_List(sources);
    if (!seq) return -1;
    Py_ssize_t n = PyList_GET_SIZE(seq);
    bs_store_block *b = PyMem_Calloc(n ? (size_t)n : 1, sizeof *b);
    if (!b) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *name;
        long long off, size;
        PyObject *src = PyList_GET_ITEM(seq, i);
        if (!PyTuple_Check(src) && !PyList_Check(src)) goto bad;
        PyObject *t = PySequence_Tuple(src);
        if (!t) goto fail;
        PyList_SET_ITEM(seq, i, t); /* keeps the name alive */
        Py_DECREF(src);
        if (!PyArg_ParseTuple(t, "ULL", &name, &off, &size)) goto bad;
        if (off < 0 || size < 0) {
            PyErr_Format(PyExc_ValueError,
                         "source offset and size must be non-negative ints, got %R", t);
            goto fail;
        }
        if (!(b[i].name = PyUnicode_AsUTF8(name))) goto fail;
        if (strchr(b[i].name, '/')) {
            PyErr_Format(PyExc_ValueError,
                         "item name must not contain '/' (namespace is given separately): %R",
                         name);
            goto fail;
        }
        b[i].offset = (uint64_t)off;
        b[i].size = (uint64_t)size;
    }
    *keep = seq;
    *out = b;
    *n_out = (size_t)n;
    return 0;
bad:
    PyErr_Clear();
    PyErr_SetString(PyExc_ValueError, "source must be a (name, offset, size) tuple");
fail:
    Py_DECREF(seq);
    PyMem_Free(b);
    return -1;
}

static PyObject *store_defrag FASTKW
{
    ARGS("defrag", 1, "sources", "target", "algorithm", "namespace", "deleted");
    bs_store *s = ST(self_);
    if (!s) return NULL;
    if (!a[0]) return PyErr_Format(PyExc_TypeError, "defrag() missing argument 'sources'");
    int deleted = bsc_bool(a[4], 0);
    if (deleted < 0) return NULL;
    const char *target = NULL, *ns = "";
    if (a[1] && a[1] != Py_None && !(target = bsc_str(a[1], "target"))) return NULL;
    if (a[3] && a[3] != Py_None && !(ns = bsc_str(a[3], "namespace"))) return NULL;
    if (target && strchr(target, '/'))
        return PyErr_Format(PyExc_ValueError,
                            "item name must not contain '/' (namespace is given separately): %R",
                            a[1]);
    bs_hash_alg alg = BS_HASH_SHA256;
    if (!target && (!a[2] || a[2] == Py_None)) {
        PyErr_SetString(PyExc_ValueError, "Either target or algorithm must be given for defrag");
        return NULL;
    }
    if (a[2] && a[2] != Py_None && bsc_hash_alg(a[2], &alg)) return NULL;
    PyObject *keep;
    bs_store_block *src;
    size_t n;
    if (blocks(a[0], &keep, &src, &n)) return NULL;
    char key[BS_NAME_BUF];
    int rc;
    BSC_NOGIL(rc = bs_store_defrag(s, ns, src, n, target, alg, deleted, key));
    PyMem_Free(src);
    Py_DECREF(keep);
    if (rc) return bsc_raise(rc);
    return PyUnicode_FromString(key);
}

static PyObject *store_quota(PyObject *self_, PyObject *unused)
{
    (void)unused;
    bs_store *s = ST(self_);
    if (!s) return NULL;
    bs_quota q;
    int rc;
    BSC_NOGIL(rc = bs_store_quota(s, &q));
    if (rc) return bsc_raise(rc);
    return Py_BuildValue("{sLsL}", "limit", (long long)q.limit, "usage", (long long)q.usage);
}

static PyObject *store_stats_c(PyObject *self_, PyObject *unused)
{
    (void)unused;
    bs_store *s = ST(self_);
    if (!s) return NULL;
    bs_store_stats st;
    BSC_NOGIL(bs_store_stats_get(s, &st));
#define U(k) #k, (unsigned long long)st.k
#define D(k) #k, st.k
    PyObject *d = Py_BuildValue(
        "{sKsKsKsKsKsK sdsdsdsdsdsd sKsKsdsd sKsKsKsKsK sKsd}", U(info_calls), U(load_calls),
        U(store_calls), U(delete_calls), U(move_calls), U(list_calls), D(info_time),
        D(load_time), D(store_time), D(delete_time), D(move_time), D(list_time),
        U(load_volume), U(store_volume), D(load_throughput), D(store_throughput),
        U(backend_load_calls), U(backend_store_calls), U(backend_delete_calls),
        U(backend_load_volume), U(backend_store_volume), U(hash_calls), D(hash_time));
    /* Python borgstore's cache keys (and ours: corrupt, evicted) */
    PyObject *c = d ? Py_BuildValue("{sKsKsdsK sKsKsKsKsK sKsKsK}", U(cache_hits),
                                    U(cache_misses), D(cache_hit_ratio), U(cache_errors),
                                    U(cache_load_calls), U(cache_store_calls),
                                    U(cache_delete_calls), U(cache_load_volume),
                                    U(cache_store_volume), U(cache_disabled),
                                    U(cache_corrupt), U(cache_evicted))
                    : NULL;
    if (!c || PyDict_Update(d, c)) {
        Py_XDECREF(c);
        Py_XDECREF(d);
        return NULL;
    }
    Py_DECREF(c);
    return d;
#undef U
#undef D
}

/* _set_cache(url, [(prefix, mode, max_age, size, verify_sha256), ...]):
 * bs_store_set_cache with url as the cache backend (None: no cache). */
static PyObject *store_set_cache_c(PyObject *self_, PyObject *args)
{
    const char *url;
    PyObject *policies;
    if (!PyArg_ParseTuple(args, "zO", &url, &policies)) return NULL;
    bs_store *s = ST(self_);
    if (!s) return NULL;
    PyObject *seq = PySequence_Fast(policies, "cache policies must be a sequence");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    bs_cache_namespace *ns = PyMem_Calloc(n ? (size_t)n : 1, sizeof *ns);
    if (!ns) {
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    PyObject *result = NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        const char *mode;
        unsigned long long size;
        int verify;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, i), "ssdKp", &ns[i].prefix, &mode,
                              &ns[i].max_age, &size, &verify))
            goto out;
        if (!strcmp(mode, "off")) ns[i].mode = BS_CACHE_OFF;
        else if (!strcmp(mode, "mirror")) ns[i].mode = BS_CACHE_MIRROR;
        else if (!strcmp(mode, "writethrough")) ns[i].mode = BS_CACHE_WRITETHROUGH;
        else {
            PyErr_Format(PyExc_ValueError, "Invalid cache mode: %s", mode);
            goto out;
        }
        ns[i].size = size;
        ns[i].verify_sha256 = verify;
    }
    bs_cache_config cfg = {.url = url, .namespaces = ns, .n_namespaces = (size_t)n};
    int rc;
    BSC_NOGIL(rc = bs_store_set_cache(s, url || n ? &cfg : NULL));
    if (rc) {
        bsc_raise(rc);
        goto out;
    }
    result = Py_NewRef(Py_None);
out:
    PyMem_Free(ns);
    Py_DECREF(seq);
    return result;
}

static PyObject *store_cache_invalidate(PyObject *self_, PyObject *args)
{
    const char *name;
    if (!PyArg_ParseTuple(args, "s", &name)) return NULL;
    bs_store *s = ST(self_);
    if (!s) return NULL;
    int rc;
    BSC_NOGIL(rc = bs_store_cache_invalidate(s, name));
    if (rc) return bsc_raise(rc);
    Py_RETURN_NONE;
}

static PyObject *store_set_emulation(PyObject *self_, PyObject *args)
{
    double latency_us, bandwidth_bps;
    if (!PyArg_ParseTuple(args, "dd", &latency_us, &bandwidth_bps)) return NULL;
    bs_store *s = ST(self_);
    if (!s) return NULL;
    BSC_NOGIL(bs_store_set_emulation(s, latency_us, bandwidth_bps));
    Py_RETURN_NONE;
}

/* _backend_view(cls): a cls (Backend subclass) object over the store's own
 * backend, for inspection as Python borgstore's store.backend. It is owned
 * by the store (released with it) and bypasses the store's mutex. */
static PyObject *store_backend_view(PyObject *self_, PyObject *cls)
{
    bs_store *s = ST(self_);
    if (!s) return NULL;
    if (!PyType_Check(cls) || !PyType_IsSubtype((PyTypeObject *)cls, &BscBackend_Type))
        return PyErr_Format(PyExc_TypeError, "a Backend class is needed");
    if (SELF->backend) return Py_NewRef(SELF->backend);
    PyTypeObject *t = (PyTypeObject *)cls;
    PyObject *view = t->tp_alloc(t, 0);
    if (!view) return NULL;
    if (bsc_backend_lock_new((BscBackend *)view)) {
        Py_DECREF(view);
        return NULL;
    }
    ((BscBackend *)view)->b = bs_store_backend(s);
    ((BscBackend *)view)->owned = 1;
    SELF->backend = Py_NewRef(view);
    return view;
}

static PyObject *store_window(PyObject *self_, void *unused)
{
    (void)unused;
    bs_store *s = ST(self_);
    if (!s) return NULL;
    size_t w;
    BSC_NOGIL(w = bs_backend_window(bs_store_backend(s)));
    return PyLong_FromSize_t(w);
}

/* Batches: (items, *, offset=0, size=None, deleted=False, window=0). */
static PyObject *batch(PyObject *self_, PyObject *const *args, Py_ssize_t nargs,
                       PyObject *kwnames, bs_op_kind kind, const char *fn)
{
    ARGS(fn, 1, "items", "offset", "size", "deleted", "window");
    if (!ST(self_)) return NULL;
    if (!a[0]) return PyErr_Format(PyExc_TypeError, "%s() missing its first argument", fn);
    if ((kind != BS_OP_LOAD) && (a[1] || a[2]))
        return PyErr_Format(PyExc_TypeError, "%s() takes no offset or size", fn);
    if (kind == BS_OP_STORE && a[3])
        return PyErr_Format(PyExc_TypeError, "%s() takes no deleted", fn);
    int64_t offset, size, window;
    int deleted = bsc_bool(a[3], 0);
    if (deleted < 0 || bsc_int64(a[1], 0, &offset) || bsc_int64(a[2], BS_SIZE_ALL, &size) ||
        bsc_int64(a[4], 0, &window))
        return NULL;
    if (window < 0 || (size < 0 && size != BS_SIZE_ALL)) {
        PyErr_SetString(PyExc_ValueError, "window and size must be >= 0");
        return NULL;
    }
    return bsc_batch_new(SELF, kind, a[0], offset, size, deleted, (Py_ssize_t)window);
}

static PyObject *store_load_many FASTKW
{
    return batch(self_, args, nargs, kwnames, BS_OP_LOAD, "load_many");
}
static PyObject *store_info_many FASTKW
{
    return batch(self_, args, nargs, kwnames, BS_OP_INFO, "info_many");
}
static PyObject *store_store_many FASTKW
{
    return batch(self_, args, nargs, kwnames, BS_OP_STORE, "store_many");
}
static PyObject *store_delete_many FASTKW
{
    return batch(self_, args, nargs, kwnames, BS_OP_DELETE, "delete_many");
}

/* move_many(names, *, delete=False, undelete=False, change_level=False,
 * deleted=False, window=0): the moves that keep the name, in batches. */
static PyObject *store_move_many FASTKW
{
    ARGS("move_many", 1, "names", "delete", "undelete", "change_level", "deleted", "window");
    if (!ST(self_)) return NULL;
    if (!a[0]) return PyErr_Format(PyExc_TypeError, "move_many() missing argument 'names'");
    int del = bsc_bool(a[1], 0), undel = bsc_bool(a[2], 0), chg = bsc_bool(a[3], 0);
    int deleted = bsc_bool(a[4], 0);
    int64_t window;
    if (del < 0 || undel < 0 || chg < 0 || deleted < 0 || bsc_int64(a[5], 0, &window))
        return NULL;
    if (del + undel + chg != 1) {
        PyErr_SetString(PyExc_ValueError,
                        "move_many needs exactly one of delete, undelete or change_level");
        return NULL;
    }
    if (window < 0) {
        PyErr_SetString(PyExc_ValueError, "window must be >= 0");
        return NULL;
    }
    PyObject *it = bsc_batch_new(SELF, BS_OP_MOVE, a[0], 0, BS_SIZE_ALL, deleted,
                                 (Py_ssize_t)window);
    if (it)
        bsc_batch_set_mode(it, del ? BS_MOVE_SOFT_DELETE
                               : undel ? BS_MOVE_UNDELETE : BS_MOVE_CHANGE_LEVEL);
    return it;
}

#define FK(name, fn, doc) {name, (PyCFunction)(void (*)(void))fn, METH_FASTCALL | METH_KEYWORDS, doc}
static PyMethodDef store_methods[] = {
    {"create", store_create, METH_NOARGS, "initialize the storage (must be closed)"},
    {"create_levels", store_create_levels, METH_NOARGS, "pre-create nesting directories"},
    {"destroy", store_destroy, METH_NOARGS, "remove the storage and everything in it"},
    {"open", store_open, METH_NOARGS, "start using the storage"},
    {"close", store_close, METH_NOARGS, "stop using the storage"},
    {"_set_levels", store_set_levels_c, METH_O, "replace the namespace configuration"},
    {"_backend_view", store_backend_view, METH_O, "the store's backend as a cls object"},
    FK("find", store_find, "find(name, *, deleted=False) -> nested backend name"),
    FK("info", store_info, "info(name, *, deleted=False) -> ItemInfo"),
    FK("load", store_load, "load(name, *, size=None, offset=0, deleted=False) -> bytes"),
    FK("store", store_store, "store(name, value): value is any contiguous buffer"),
    FK("delete", store_delete, "delete(name, *, deleted=False)"),
    FK("move", store_move,
       "move(name, new_name=None, *, delete=False, undelete=False, change_level=False, "
       "deleted=False)"),
    FK("list", store_list, "list(name, deleted=False) -> iterator of ItemInfo"),
    FK("hash", store_hash, "hash(name, algorithm='sha256', *, deleted=False) -> hex digest"),
    FK("defrag", store_defrag,
       "defrag(sources, *, target=None, algorithm=None, namespace=None, deleted=False) -> key"),
    {"quota", store_quota, METH_NOARGS, "quota() -> {'limit': n, 'usage': n}"},
    {"_c_stats", store_stats_c, METH_NOARGS, "the statistics as a dict"},
    {"_set_cache", store_set_cache_c, METH_VARARGS, "give the (closed) store a cache"},
    {"cache_invalidate", store_cache_invalidate, METH_VARARGS,
     "drop cached entries: \"\" all, a namespace, or one item"},
    {"_set_emulation", store_set_emulation, METH_VARARGS, "(latency_us, bandwidth_bps)"},
    FK("load_many", store_load_many,
       "load_many(names, *, offset=0, size=None, deleted=False, window=0) -> "
       "iterator of (name, bytes or exception), in completion order"),
    FK("info_many", store_info_many,
       "info_many(names, *, deleted=False, window=0) -> iterator of (name, ItemInfo or "
       "exception)"),
    FK("store_many", store_store_many,
       "store_many(items, *, window=0) -> iterator of (name, None or exception); items are "
       "(name, value) pairs"),
    FK("delete_many", store_delete_many,
       "delete_many(names, *, deleted=False, window=0) -> iterator of (name, None or "
       "exception)"),
    FK("move_many", store_move_many,
       "move_many(names, *, delete=False, undelete=False, change_level=False, deleted=False, "
       "window=0) -> iterator of (name, None or exception)"),
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef store_getset[] = {
    {"is_open", store_is_open, NULL, "whether the store is open", NULL},
    {"window", store_window, NULL, "requests the backend keeps in flight in batches", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject BscStore_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_borgstore_c.Store",
    .tp_basicsize = sizeof(BscStore),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "libborgstore's Store (use borgstore_c.Store)",
    .tp_new = PyType_GenericNew,
    .tp_init = store_init,
    .tp_dealloc = store_dealloc,
    .tp_traverse = store_traverse,
    .tp_clear = store_clear,
    .tp_methods = store_methods,
    .tp_getset = store_getset,
};

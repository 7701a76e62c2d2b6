/* Backend: a bs_backend with Python borgstore's BackendBase interface, so
 * Python borgstore's own Store(backend=...) (and borg through it) can use
 * the C backends (file://, serve://, ssh://, sftp://, rclone:...). Names are
 * backend names (nested, with namespace), as in BackendBase. */
#include "bsc.h"

#include <string.h>

#define FASTKW (PyObject * self_, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
#define SELF ((BscBackend *)self_)
#define ARGS(fn, npos, ...)                                                                \
    static const char *const names_[] = {__VA_ARGS__};                                     \
    enum { N_ = sizeof names_ / sizeof names_[0] };                                        \
    PyObject *a[N_];                                                                       \
    if (bsc_args(args, nargs, kwnames, fn, names_, N_, npos, a)) return NULL

int bsc_backend_lock_new(BscBackend *be)
{
    if (!be->lock && !(be->lock = PyThread_allocate_lock())) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static int backend_init(PyObject *self_, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"url", "permissions", "quota", NULL};
    const char *url, *perms = NULL;
    unsigned long long quota = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "s|zK", kwlist, &url, &perms, &quota)) return -1;
    if (SELF->b || SELF->owned) {
        PyErr_SetString(PyExc_RuntimeError, "Backend.__init__ called twice");
        return -1;
    }
    bs_backend_config cfg = {.permissions = perms, .quota = quota};
    if (bsc_backend_lock_new(SELF)) return -1;
    int rc;
    BSC_NOGIL(rc = bs_backend_new(&SELF->b, url, &cfg));
    if (rc) {
        SELF->b = NULL;
        bsc_raise(rc);
        return -1;
    }
    return 0;
}

static void backend_dealloc(PyObject *self_)
{
    if (SELF->b && !SELF->owned) BSC_NOGIL(bs_backend_free(SELF->b));
    SELF->b = NULL;
    if (SELF->lock) PyThread_free_lock(SELF->lock);
    SELF->lock = NULL;
    Py_TYPE(self_)->tp_free(self_);
}

static bs_backend *BE(PyObject *self_)
{
    if (!SELF->b)
        PyErr_SetString(PyExc_RuntimeError,
                        SELF->owned ? "the backend was released with its Store"
                                    : "Backend is not initialized");
    return SELF->b;
}

#define CALL0(fname, cfn)                                                      \
    static PyObject *fname(PyObject *self_, PyObject *unused)                  \
    {                                                                          \
        (void)unused;                                                          \
        bs_backend *b = BE(self_);                                             \
        if (!b) return NULL;                                                   \
        int rc;                                                                \
        BSC_BACKEND(SELF, rc = cfn);                                                   \
        if (rc) return bsc_raise(rc);                                          \
        Py_RETURN_NONE;                                                        \
    }
CALL0(backend_create, bs_backend_create(b))
CALL0(backend_destroy, bs_backend_destroy(b))
CALL0(backend_open, bs_backend_open(b))
CALL0(backend_close, bs_backend_close(b))

#define CALL1(fname, pyname, cfn)                                              \
    static PyObject *fname(PyObject *self_, PyObject *arg)                     \
    {                                                                          \
        bs_backend *b = BE(self_);                                             \
        const char *name = b ? bsc_str(arg, "name") : NULL;                    \
        if (!name) return NULL;                                                \
        int rc;                                                                \
        BSC_BACKEND(SELF, rc = cfn);                                                   \
        if (rc) return bsc_raise(rc);                                          \
        Py_RETURN_NONE;                                                        \
    }
CALL1(backend_mkdir, "mkdir", bs_backend_mkdir(b, name))
CALL1(backend_rmdir, "rmdir", bs_backend_rmdir(b, name))
CALL1(backend_delete, "delete", bs_backend_delete(b, name))

static PyObject *backend_info(PyObject *self_, PyObject *arg)
{
    bs_backend *b = BE(self_);
    const char *name = b ? bsc_str(arg, "name") : NULL;
    if (!name) return NULL;
    bs_item_info info;
    int rc;
    BSC_BACKEND(SELF, rc = bs_backend_info(b, name, &info));
    if (rc) return bsc_raise(rc);
    return bsc_item_info(&info);
}

static PyObject *backend_load FASTKW
{
    ARGS("load", 1, "name", "size", "offset");
    bs_backend *b = BE(self_);
    const char *name = b ? bsc_str(a[0], "name") : NULL;
    int64_t size, offset;
    if (!name || bsc_int64(a[1], BS_SIZE_ALL, &size) || bsc_int64(a[2], 0, &offset)) return NULL;
    if (size < 0 && size != BS_SIZE_ALL) {
        PyErr_SetString(PyExc_ValueError, "size must be None or >= 0");
        return NULL;
    }
    uint8_t *data;
    size_t len;
    int rc;
    BSC_BACKEND(SELF, rc = bs_backend_load(b, name, offset, size, &data, &len));
    if (rc) return bsc_raise(rc);
    PyObject *res = PyBytes_FromStringAndSize((const char *)data, (Py_ssize_t)len);
    bs_free(data);
    return res;
}

static PyObject *backend_store FASTKW
{
    ARGS("store", 2, "name", "value");
    bs_backend *b = BE(self_);
    const char *name = b ? bsc_str(a[0], "name") : NULL;
    if (!name) return NULL;
    if (!a[1]) return PyErr_Format(PyExc_TypeError, "store() missing argument 'value'");
    Py_buffer view;
    if (PyObject_GetBuffer(a[1], &view, PyBUF_CONTIG_RO) < 0) return NULL;
    int rc;
    BSC_BACKEND(SELF, rc = bs_backend_store(b, name, view.buf, (size_t)view.len));
    PyBuffer_Release(&view);
    if (rc) return bsc_raise(rc);
    Py_RETURN_NONE;
}

static PyObject *backend_move FASTKW
{
    ARGS("move", 2, "curr_name", "new_name");
    bs_backend *b = BE(self_);
    const char *cur = b ? bsc_str(a[0], "curr_name") : NULL;
    const char *dst = cur ? bsc_str(a[1], "new_name") : NULL;
    if (!dst) return NULL;
    int rc;
    BSC_BACKEND(SELF, rc = bs_backend_move(b, cur, dst));
    if (rc) return bsc_raise(rc);
    Py_RETURN_NONE;
}

static PyObject *backend_list(PyObject *self_, PyObject *arg)
{
    bs_backend *b = BE(self_);
    const char *name = b ? bsc_str(arg, "name") : NULL;
    if (!name) return NULL;
    return bsc_backend_list_new(self_, name);
}

static PyObject *backend_hash FASTKW
{
    ARGS("hash", 2, "name", "algorithm");
    bs_backend *b = BE(self_);
    const char *name = b ? bsc_str(a[0], "name") : NULL;
    bs_hash_alg alg;
    if (!name || bsc_hash_alg(a[1], &alg)) return NULL;
    char hex[BS_HASH_HEX_SIZE];
    int rc;
    BSC_BACKEND(SELF, rc = bs_backend_hash(b, name, alg, hex));
    if (rc) return bsc_raise(rc);
    return PyUnicode_FromString(hex);
}

/* defrag(sources, *, target=None, algorithm=None, namespace=None, levels=0) */
static PyObject *backend_defrag FASTKW
{
    ARGS("defrag", 1, "sources", "target", "algorithm", "namespace", "levels");
    bs_backend *b = BE(self_);
    if (!b) return NULL;
    if (!a[0]) return PyErr_Format(PyExc_TypeError, "defrag() missing argument 'sources'");
    const char *target = NULL, *ns = NULL;
    if (a[1] && a[1] != Py_None && !(target = bsc_str(a[1], "target"))) return NULL;
    if (a[3] && a[3] != Py_None && !(ns = bsc_str(a[3], "namespace"))) return NULL;
    int64_t levels;
    if (bsc_int64(a[4], 0, &levels)) return NULL;
    if (levels < 0 || levels > BS_STORE_LEVEL_MAX)
        return PyErr_Format(PyExc_ValueError, "Invalid levels: %lld", (long long)levels);
    bs_hash_alg alg = BS_HASH_SHA256;
    if (!target && (!a[2] || a[2] == Py_None)) {
        PyErr_SetString(PyExc_ValueError, "Either target or algorithm must be given for defrag");
        return NULL;
    }
    if (a[2] && a[2] != Py_None && bsc_hash_alg(a[2], &alg)) return NULL;
    PyObject *seq = PySequence_List(a[0]);
    if (!seq) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(seq);
    bs_defrag_source *src = PyMem_Calloc(n ? (size_t)n : 1, sizeof *src);
    if (!src) {
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *t = PySequence_Tuple(PyList_GET_ITEM(seq, i)), *name;
        long long off, size;
        if (!t) goto fail;
        PyList_SetItem(seq, i, t); /* keeps the name alive */
        if (!PyArg_ParseTuple(t, "ULL", &name, &off, &size)) goto fail;
        if (off < 0 || size < 0) {
            PyErr_Format(PyExc_ValueError, "source offset and size must be non-negative: %R", t);
            goto fail;
        }
        if (!(src[i].name = PyUnicode_AsUTF8(name))) goto fail;
        src[i].offset = (uint64_t)off;
        src[i].size = (uint64_t)size;
    }
    char out[BS_NAME_BUF];
    int rc;
    BSC_BACKEND(SELF,
                rc = bs_backend_defrag(b, src, (size_t)n, target, alg, ns, (int)levels, out));
    PyMem_Free(src);
    Py_DECREF(seq);
    if (rc) return bsc_raise(rc);
    return PyUnicode_FromString(out);
fail:
    PyMem_Free(src);
    Py_DECREF(seq);
    return NULL;
}

static PyObject *backend_quota(PyObject *self_, PyObject *unused)
{
    (void)unused;
    bs_backend *b = BE(self_);
    if (!b) return NULL;
    bs_quota q;
    int rc;
    BSC_BACKEND(SELF, rc = bs_backend_quota(b, &q));
    if (rc) return bsc_raise(rc);
    return Py_BuildValue("{sLsL}", "limit", (long long)q.limit, "usage", (long long)q.usage);
}

static PyObject *backend_is_open(PyObject *self_, void *unused)
{
    (void)unused;
    bs_backend *b = BE(self_);
    if (!b) return NULL;
    int open;
    BSC_BACKEND(SELF, open = bs_backend_is_open(b));
    return PyBool_FromLong(open);
}

#define FK(name, fn, doc) {name, (PyCFunction)(void (*)(void))fn, METH_FASTCALL | METH_KEYWORDS, doc}
static PyMethodDef backend_methods[] = {
    {"create", backend_create, METH_NOARGS, "create (initialize) the storage"},
    {"destroy", backend_destroy, METH_NOARGS, "remove the storage and its contents"},
    {"open", backend_open, METH_NOARGS, "start using the storage"},
    {"close", backend_close, METH_NOARGS, "stop using the storage"},
    {"mkdir", backend_mkdir, METH_O, "mkdir(name)"},
    {"rmdir", backend_rmdir, METH_O, "rmdir(name)"},
    {"info", backend_info, METH_O, "info(name) -> ItemInfo"},
    FK("load", backend_load, "load(name, *, size=None, offset=0) -> bytes"),
    FK("store", backend_store, "store(name, value)"),
    {"delete", backend_delete, METH_O, "delete(name)"},
    FK("move", backend_move, "move(curr_name, new_name)"),
    {"list", backend_list, METH_O, "list(name) -> sorted iterator of ItemInfo"},
    FK("hash", backend_hash, "hash(name, algorithm='sha256') -> hex digest"),
    FK("defrag", backend_defrag,
       "defrag(sources, *, target=None, algorithm=None, namespace=None, levels=0) -> name"),
    {"quota", backend_quota, METH_NOARGS, "quota() -> {'limit': n, 'usage': n}"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef backend_getset[] = {
    {"opened", backend_is_open, NULL, "whether the backend is open", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject BscBackend_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_borgstore_c.Backend",
    .tp_basicsize = sizeof(BscBackend),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "a libborgstore backend (use borgstore_c.Backend)",
    .tp_new = PyType_GenericNew,
    .tp_init = backend_init,
    .tp_dealloc = backend_dealloc,
    .tp_methods = backend_methods,
    .tp_getset = backend_getset,
};

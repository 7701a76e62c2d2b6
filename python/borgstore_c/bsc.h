/* Shared declarations of the _borgstore_c extension module: the Python
 * binding of libborgstore's public API (include/borgstore/). Every C call
 * runs with the GIL released; Python objects are only touched with it held. */
#ifndef BSC_H
#define BSC_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <borgstore/borgstore.h>
#include <pythread.h>

/* Runs stmt (a libborgstore call) with the GIL released. */
#define BSC_NOGIL(stmt)                                                        \
    do {                                                                       \
        Py_BEGIN_ALLOW_THREADS stmt;                                           \
        Py_END_ALLOW_THREADS                                                   \
    } while (0)

/* ---- errors.c: codes -> the Python exception classes of __init__.py ---- */
/* Registers ItemInfo and the exception classes (called once by __init__.py). */
PyObject *bsc_register(PyObject *mod, PyObject *args);
/* Sets the exception for rc with the calling thread's bs_error_message();
 * returns NULL. */
PyObject *bsc_raise(int rc);
/* Sets the exception for rc with message msg (NULL: the code's text). */
PyObject *bsc_raise_msg(int rc, const char *msg);
/* A new exception instance for rc and msg (batch results), or NULL. */
PyObject *bsc_exc_new(int rc, const char *msg);
/* A new ItemInfo namedtuple from info, or NULL. */
PyObject *bsc_item_info(const bs_item_info *info);
/* The class raised for code rc (borrowed). */
PyObject *bsc_exc_class(int rc);

/* ---- args.c: keyword arguments of METH_FASTCALL | METH_KEYWORDS ---- */
/* Fills out[0..n) from args/kwnames by names[0..n): the first npos may be
 * positional; missing ones stay NULL (borrowed references). Returns 0, or -1
 * with TypeError set. */
int bsc_args(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, const char *fn,
             const char *const *names, int n, int npos, PyObject **out);
/* A str argument as UTF-8 (borrowed from the str object); NULL + TypeError. */
const char *bsc_str(PyObject *o, const char *what);
/* Truth value of an optional argument (NULL: dflt); -1 on error. */
int bsc_bool(PyObject *o, int dflt);
/* An optional int argument (NULL or None: dflt); -1 with an error set on
 * failure (check PyErr_Occurred). */
int bsc_int64(PyObject *o, int64_t dflt, int64_t *out);
/* A hash algorithm name (NULL or None: sha256). 0, or -1 with ValueError. */
int bsc_hash_alg(PyObject *o, bs_hash_alg *out);

/* ---- store.c ---- */
typedef struct {
    PyObject_HEAD
    bs_store *s;
    PyObject *backend; /* the Backend object the store took over, or NULL */
} BscStore;
extern PyTypeObject BscStore_Type;

/* ---- list.c: lazy Store.list / Backend.list iterators ---- */
PyObject *bsc_store_list_new(BscStore *store, const char *ns, int deleted);
PyObject *bsc_backend_list_new(PyObject *owner, const char *name);
extern PyTypeObject BscList_Type;

/* ---- batch.c: load_many / info_many / store_many / delete_many ---- */
PyObject *bsc_batch_new(BscStore *store, bs_op_kind kind, PyObject *items, int64_t offset,
                        int64_t size, int deleted, Py_ssize_t window);
/* Sets the move mode of a BS_OP_MOVE batch made by bsc_batch_new. */
void bsc_batch_set_mode(PyObject *batch, bs_move_mode mode);
extern PyTypeObject BscBatch_Type;

/* ---- backend.c: a BackendBase-compatible object over bs_backend ---- */
typedef struct {
    PyObject_HEAD
    bs_backend *b;  /* NULL once released with the Store that took it */
    int owned;      /* a Store frees b */
    PyThread_type_lock lock; /* one thread at a time in b (C backends are not
                                thread-safe; the Store has its own mutex) */
} BscBackend;
extern PyTypeObject BscBackend_Type;

/* Runs stmt (a call on be->b) without the GIL, holding be's lock. */
#define BSC_BACKEND(be, stmt)                                                  \
    do {                                                                       \
        Py_BEGIN_ALLOW_THREADS PyThread_acquire_lock((be)->lock, WAIT_LOCK);   \
        stmt;                                                                  \
        PyThread_release_lock((be)->lock);                                     \
        Py_END_ALLOW_THREADS                                                   \
    } while (0)
/* Gives a Backend object its lock; -1 with MemoryError. */
int bsc_backend_lock_new(BscBackend *be);

#endif

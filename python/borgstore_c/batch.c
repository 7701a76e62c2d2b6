/* Batch iterators (Store.load_many, info_many, store_many, delete_many,
 * move_many):
 * the input is consumed a chunk at a time, each chunk runs as one
 * libborgstore batch (the backend's window in flight) with the GIL
 * released, and its results are yielded in completion order as
 * (name, result) pairs, a failed item's result being its exception. Memory
 * is bounded by the chunk: loads shrink it to about CHUNK_BYTES of values. */
#include "bsc.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK_MIN 64
#define CHUNK_MAX 4096
#define CHUNK_BYTES (64u << 20)

typedef struct item_res {
    size_t index;
    int rc;
    char *msg;
    bs_item_info info;
    uint8_t *data;
    size_t len;
} item_res;

typedef struct {
    PyObject_HEAD
    BscStore *store;
    PyObject *input; /* iterator over names or (name, value) pairs */
    bs_op_kind kind;
    int64_t offset, size;
    int deleted;
    bs_move_mode mode; /* BS_OP_MOVE */
    size_t window, chunk;
    /* the current chunk */
    PyObject **names;
    const char **cnames;
    Py_buffer *views;
    const void **values;
    size_t *lens;
    size_t n;
    item_res *res;
    size_t nres, pos;
    /* an error that ended a batch, raised once its results are out */
    int end_rc;
    char *end_msg;
    int done;
    int busy; /* next() runs (a chunk may run without the GIL) */
    uint64_t bytes_seen, items_seen;
} BscBatch;

PyObject *bsc_batch_new(BscStore *store, bs_op_kind kind, PyObject *items, int64_t offset,
                        int64_t size, int deleted, Py_ssize_t window)
{
    PyObject *input = PyObject_GetIter(items);
    if (!input) return NULL;
    BscBatch *self = PyObject_New(BscBatch, &BscBatch_Type);
    if (!self) {
        Py_DECREF(input);
        return NULL;
    }
    char *zero = (char *)self + offsetof(BscBatch, store);
    memset(zero, 0, sizeof(BscBatch) - offsetof(BscBatch, store));
    Py_INCREF(store);
    self->store = store;
    self->input = input;
    self->kind = kind;
    self->offset = offset;
    self->size = size;
    self->deleted = deleted;
    size_t w = (size_t)window;
    if (!w) BSC_NOGIL(w = bs_backend_window(bs_store_backend(store->s)));
    self->window = w;
    size_t c = 4 * w;
    self->chunk = c < CHUNK_MIN ? CHUNK_MIN : c > CHUNK_MAX ? CHUNK_MAX : c;
    const size_t cap = CHUNK_MAX;
    self->names = PyMem_Calloc(cap, sizeof *self->names);
    self->cnames = PyMem_Calloc(cap, sizeof *self->cnames);
    self->res = PyMem_Calloc(cap, sizeof *self->res);
    if (kind == BS_OP_STORE) {
        self->views = PyMem_Calloc(cap, sizeof *self->views);
        self->values = PyMem_Calloc(cap, sizeof *self->values);
        self->lens = PyMem_Calloc(cap, sizeof *self->lens);
    }
    if (!self->names || !self->cnames || !self->res ||
        (kind == BS_OP_STORE && (!self->views || !self->values || !self->lens))) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    return (PyObject *)self;
}

void bsc_batch_set_mode(PyObject *batch, bs_move_mode mode) { ((BscBatch *)batch)->mode = mode; }

/* Releases the results and inputs of the current chunk. */
static void drop_chunk(BscBatch *self)
{
    for (size_t i = 0; i < self->nres; i++) { /* consumed ones are NULL */
        bs_free(self->res[i].data);
        free(self->res[i].msg);
    }
    self->nres = self->pos = 0;
    for (size_t i = 0; i < self->n; i++) {
        Py_CLEAR(self->names[i]);
        if (self->views && self->values[i]) {
            PyBuffer_Release(&self->views[i]);
            self->values[i] = NULL;
        }
    }
    self->n = 0;
}

static int on_result(void *ctx, size_t index, bs_op_result *r)
{
    BscBatch *self = ctx;
    if (self->nres >= self->n) return 0; /* cannot happen: one result per item */
    item_res *out = &self->res[self->nres++];
    memset(out, 0, sizeof *out);
    out->index = index;
    out->rc = r->rc;
    if (r->rc) {
        out->msg = strdup(r->message ? r->message : bs_error_str(r->rc));
    } else if (self->kind == BS_OP_INFO) {
        out->info = r->info;
    } else if (self->kind == BS_OP_LOAD) {
        out->data = r->data; /* taken over: released in next() or drop_chunk */
        out->len = r->len;
        r->data = NULL;
    }
    return 0;
}

/* Pulls the next chunk from the input and runs it. 0: ran (maybe empty:
 * input exhausted), -1: Python error. */
static int run_chunk(BscBatch *self)
{
    drop_chunk(self);
    size_t want = self->chunk;
    if (self->kind == BS_OP_LOAD && self->items_seen) {
        uint64_t avg = self->bytes_seen / self->items_seen;
        if (avg && CHUNK_BYTES / avg < want) want = CHUNK_BYTES / avg;
        if (want < 1) want = 1;
    }
    while (self->n < want) {
        PyObject *item = PyIter_Next(self->input);
        if (!item) {
            if (PyErr_Occurred()) return -1;
            break;
        }
        size_t i = self->n;
        PyObject *name = item;
        if (self->kind == BS_OP_STORE) {
            PyObject *value;
            if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
                Py_DECREF(item);
                PyErr_SetString(PyExc_TypeError, "store_many items must be (name, value) tuples");
                return -1;
            }
            name = PyTuple_GET_ITEM(item, 0);
            value = PyTuple_GET_ITEM(item, 1);
            if (PyObject_GetBuffer(value, &self->views[i], PyBUF_CONTIG_RO) < 0) {
                Py_DECREF(item);
                return -1;
            }
            self->values[i] = self->views[i].buf ? self->views[i].buf : (const void *)"";
            self->lens[i] = (size_t)self->views[i].len;
            Py_INCREF(name);
            Py_DECREF(item);
        }
        self->names[i] = name; /* owns the reference */
        self->n++;
        if (!(self->cnames[i] = bsc_str(name, "name"))) return -1;
    }
    if (!self->n) {
        self->done = 1;
        return 0;
    }
    bs_store *s = self->store->s;
    const char *const *names = self->cnames;
    size_t n = self->n, w = self->window;
    int rc = 0;
    switch (self->kind) {
    case BS_OP_LOAD:
        BSC_NOGIL(rc = bs_store_load_many(s, names, n, self->offset, self->size, self->deleted, w,
                                          on_result, self));
        break;
    case BS_OP_INFO:
        BSC_NOGIL(rc = bs_store_info_many(s, names, n, self->deleted, w, on_result, self));
        break;
    case BS_OP_STORE:
        BSC_NOGIL(rc = bs_store_store_many(s, names, self->values, self->lens, n, w, on_result,
                                           self));
        break;
    case BS_OP_DELETE:
        BSC_NOGIL(rc = bs_store_delete_many(s, names, n, self->deleted, w, on_result, self));
        break;
    case BS_OP_MOVE:
        BSC_NOGIL(rc = bs_store_move_many(s, names, n, self->mode, self->deleted, w, on_result,
                                          self));
        break;
    default: break;
    }
    if (rc) {
        self->end_rc = rc;
        self->end_msg = strdup(bs_error_message());
    }
    for (size_t i = 0; i < self->nres; i++) {
        self->items_seen++;
        self->bytes_seen += self->res[i].len;
    }
    return 0;
}

static PyObject *next_item(BscBatch *self)
{
    while (self->pos >= self->nres) {
        if (self->end_rc) {
            int rc = self->end_rc;
            self->end_rc = 0;
            self->done = 1;
            drop_chunk(self);
            bsc_raise_msg(rc, self->end_msg);
            free(self->end_msg);
            self->end_msg = NULL;
            return NULL;
        }
        if (self->done) {
            drop_chunk(self);
            return NULL;
        }
        if (run_chunk(self)) {
            self->done = 1;
            drop_chunk(self);
            return NULL;
        }
    }
    item_res *r = &self->res[self->pos++];
    PyObject *value;
    if (r->rc) value = bsc_exc_new(r->rc, r->msg);
    else if (self->kind == BS_OP_LOAD)
        value = PyBytes_FromStringAndSize((const char *)r->data, (Py_ssize_t)r->len);
    else if (self->kind == BS_OP_INFO) value = bsc_item_info(&r->info);
    else value = Py_NewRef(Py_None);
    bs_free(r->data);
    r->data = NULL;
    free(r->msg);
    r->msg = NULL;
    if (!value) return NULL;
    PyObject *name = r->index < self->n ? self->names[r->index] : Py_None;
    return Py_BuildValue("(ON)", name, value);
}

static PyObject *batch_next(PyObject *o)
{
    BscBatch *self = (BscBatch *)o;
    if (self->busy) {
        PyErr_SetString(PyExc_ValueError, "batch already running in another thread");
        return NULL;
    }
    self->busy = 1;
    PyObject *res = next_item(self);
    self->busy = 0;
    return res;
}

static void batch_dealloc(PyObject *o)
{
    BscBatch *self = (BscBatch *)o;
    if (self->names) drop_chunk(self);
    PyMem_Free(self->names);
    PyMem_Free(self->cnames);
    PyMem_Free(self->res);
    PyMem_Free(self->views);
    PyMem_Free(self->values);
    PyMem_Free(self->lens);
    free(self->end_msg);
    Py_XDECREF(self->input);
    Py_XDECREF(self->store);
    PyObject_Free(o);
}

PyTypeObject BscBatch_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_borgstore_c.BatchIterator",
    .tp_basicsize = sizeof(BscBatch),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "results of a batch, (name, result) in completion order",
    .tp_dealloc = batch_dealloc,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = batch_next,
};

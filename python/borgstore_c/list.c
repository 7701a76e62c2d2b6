/* Lazy listings: Store.list (recursive, the Store's iterator) and
 * Backend.list (one directory). Each step runs with the GIL released; the
 * iterator keeps its owner (Store or Backend object) alive. */
#include "bsc.h"

typedef struct {
    PyObject_HEAD
    PyObject *owner;
    bs_store_list_iter *sit;
    bs_list_iter *bit;
    int busy; /* a step runs (without the GIL) */
} BscList;

PyObject *bsc_store_list_new(BscStore *store, const char *ns, int deleted)
{
    bs_store_list_iter *it;
    int rc;
    BSC_NOGIL(rc = bs_store_list_begin(store->s, ns, deleted, &it));
    if (rc) return bsc_raise(rc);
    BscList *self = PyObject_New(BscList, &BscList_Type);
    if (!self) {
        BSC_NOGIL(bs_store_list_end(it));
        return NULL;
    }
    Py_INCREF(store);
    self->owner = (PyObject *)store;
    self->sit = it;
    self->bit = NULL;
    self->busy = 0;
    return (PyObject *)self;
}

PyObject *bsc_backend_list_new(PyObject *owner, const char *name)
{
    BscBackend *be = (BscBackend *)owner;
    bs_list_iter *it;
    int rc;
    BSC_BACKEND(be, rc = bs_backend_list_begin(be->b, name, &it));
    if (rc) return bsc_raise(rc);
    BscList *self = PyObject_New(BscList, &BscList_Type);
    if (!self) {
        BSC_BACKEND(be, bs_backend_list_end(it));
        return NULL;
    }
    Py_INCREF(owner);
    self->owner = owner;
    self->sit = NULL;
    self->bit = it;
    self->busy = 0;
    return (PyObject *)self;
}

static void end(BscList *self)
{
    bs_store_list_iter *sit = self->sit;
    bs_list_iter *bit = self->bit;
    self->sit = NULL;
    self->bit = NULL;
    if (sit) BSC_NOGIL(bs_store_list_end(sit));
    BscBackend *be = (BscBackend *)self->owner;
    if (bit && be->b) BSC_BACKEND(be, bs_backend_list_end(bit));
    else if (bit) bs_backend_list_end(bit); /* its backend is gone: only memory */
}

static void list_dealloc(PyObject *o)
{
    BscList *self = (BscList *)o;
    end(self);
    Py_CLEAR(self->owner);
    PyObject_Free(o);
}

static int busy_error(void)
{
    PyErr_SetString(PyExc_ValueError, "listing already running in another thread");
    return -1;
}

static PyObject *list_next(PyObject *o)
{
    BscList *self = (BscList *)o;
    if (self->busy) return busy_error(), NULL;
    if (!self->sit && !self->bit) return NULL;
    if (self->bit && !((BscBackend *)self->owner)->b) {
        end(self); /* the backend went away with its Store */
        PyErr_SetString(PyExc_RuntimeError, "the backend was released");
        return NULL;
    }
    bs_item_info info;
    int rc;
    self->busy = 1;
    if (self->sit) BSC_NOGIL(rc = bs_store_list_next(self->sit, &info));
    else BSC_BACKEND((BscBackend *)self->owner, rc = bs_backend_list_next(self->bit, &info));
    self->busy = 0;
    if (rc == 1) return bsc_item_info(&info);
    if (rc == 0) {
        end(self);
        return NULL;
    }
    bsc_raise(rc);
    end(self);
    return NULL;
}

static PyObject *list_close(PyObject *o, PyObject *unused)
{
    (void)unused;
    if (((BscList *)o)->busy) return busy_error(), NULL;
    end((BscList *)o);
    Py_RETURN_NONE;
}

static PyMethodDef list_methods[] = {
    {"close", list_close, METH_NOARGS, "end the listing early"},
    {NULL, NULL, 0, NULL},
};

PyTypeObject BscList_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_borgstore_c.ListIterator",
    .tp_basicsize = sizeof(BscList),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "a lazy listing",
    .tp_dealloc = list_dealloc,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = list_next,
    .tp_methods = list_methods,
};

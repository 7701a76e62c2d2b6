/* Error codes to Python exceptions: the classes live in __init__.py (Python
 * borgstore's names and hierarchy) and are registered here once; messages
 * are libborgstore's, without the code's short prefix ("object not found: "),
 * so texts match Python borgstore's where both have them. */
#include "bsc.h"

#include <string.h>

#define N_CODES (BS_ERROR_WIRE_MAX + 1)
static PyObject *exc_by_code[N_CODES]; /* index: -code */
static PyObject *exc_default;          /* BackendError */
static PyObject *item_info_cls;        /* ItemInfo namedtuple */
static PyObject *exc_no_namespace;     /* a ValueError that is a KeyError too */

PyObject *bsc_register(PyObject *mod, PyObject *args)
{
    (void)mod;
    PyObject *info_cls, *by_id, *dflt;
    if (!PyArg_ParseTuple(args, "OO!O", &info_cls, &PyDict_Type, &by_id, &dflt)) return NULL;
    Py_INCREF(info_cls);
    Py_XSETREF(item_info_cls, info_cls);
    Py_INCREF(dflt);
    Py_XSETREF(exc_default, dflt);
    for (int wire = 1; wire < N_CODES; wire++) {
        PyObject *cls = PyDict_GetItemString(by_id, bs_error_id(-wire)); /* borrowed */
        Py_XINCREF(cls);
        Py_XSETREF(exc_by_code[wire], cls);
    }
    PyObject *nn = PyDict_GetItemString(by_id, "NO_NAMESPACE"); /* borrowed */
    Py_XINCREF(nn);
    Py_XSETREF(exc_no_namespace, nn);
    Py_RETURN_NONE;
}

PyObject *bsc_exc_class(int rc)
{
    int wire = -rc;
    PyObject *cls = wire > 0 && wire < N_CODES ? exc_by_code[wire] : NULL;
    if (cls) return cls;
    return exc_default ? exc_default : PyExc_RuntimeError;
}

/* msg without the "short text: " prefix of its code. */
static const char *strip(int rc, const char *msg)
{
    if (!msg || !*msg) return bs_error_str(rc);
    const char *prefix = bs_error_str(rc);
    size_t n = strlen(prefix);
    if (!strncmp(msg, prefix, n) && msg[n] == ':' && msg[n + 1] == ' ') return msg + n + 2;
    return msg;
}

/* The exception object for rc and its message. A name in no configured
 * namespace is a KeyError in Python borgstore (with its own text) and an
 * invalid argument here: the class is both. */
PyObject *bsc_exc_new(int rc, const char *msg)
{
    static const char no_ns[] = "no namespace configured for: ";
    msg = strip(rc, msg);
    if (rc == BS_ERR_INVALID && exc_no_namespace && !strncmp(msg, no_ns, sizeof no_ns - 1))
        return PyObject_CallFunction(exc_no_namespace, "N",
                                     PyUnicode_FromFormat("no matching namespace found for: %s",
                                                          msg + sizeof no_ns - 1));
    return PyObject_CallFunction(bsc_exc_class(rc), "s", msg);
}

PyObject *bsc_raise_msg(int rc, const char *msg)
{
    PyObject *exc = bsc_exc_new(rc, msg);
    if (exc) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
    return NULL;
}

PyObject *bsc_raise(int rc) { return bsc_raise_msg(rc, bs_error_message()); }

static PyObject *seconds(int64_t ns)
{
    return ns ? PyFloat_FromDouble((double)ns / 1e9) : PyLong_FromLong(0);
}

PyObject *bsc_item_info(const bs_item_info *info)
{
    if (!item_info_cls || !PyType_Check(item_info_cls) ||
        !PyType_IsSubtype((PyTypeObject *)item_info_cls, &PyTuple_Type)) {
        PyErr_SetString(PyExc_RuntimeError, "borgstore_c is not initialized");
        return NULL;
    }
    PyObject *f[5];
    f[0] = PyUnicode_FromString(info->name);
    f[1] = PyBool_FromLong(info->exists);
    f[2] = PyLong_FromUnsignedLongLong(info->size);
    f[3] = PyBool_FromLong(info->directory);
    f[4] = seconds(info->mtime_ns);
    PyObject *res = NULL;
    if (f[0] && f[2] && f[4]) {
        /* A namedtuple is a tuple subclass without instance dict: filling
         * one directly skips its Python-level __new__ (the hot path of
         * info_many and list). */
        PyTypeObject *t = (PyTypeObject *)item_info_cls;
        res = t->tp_alloc(t, 5);
        if (res) {
            for (int i = 0; i < 5; i++) PyTuple_SET_ITEM(res, i, f[i]);
            return res;
        }
    }
    for (int i = 0; i < 5; i++) Py_XDECREF(f[i]);
    return res;
}

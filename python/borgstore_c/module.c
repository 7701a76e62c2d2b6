/* The _borgstore_c module: its types, the registration hook used by
 * __init__.py and the argument helpers every method shares. */
#include "bsc.h"

#include <string.h>

int bsc_args(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, const char *fn,
             const char *const *names, int n, int npos, PyObject **out)
{
    for (int i = 0; i < n; i++) out[i] = NULL;
    if (nargs > npos) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %d positional arguments (%zd given)",
                     fn, npos, nargs);
        return -1;
    }
    for (Py_ssize_t i = 0; i < nargs; i++) out[i] = args[i];
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t k = 0; k < nkw; k++) {
        const char *kw = PyUnicode_AsUTF8(PyTuple_GET_ITEM(kwnames, k));
        if (!kw) return -1;
        int i = 0;
        while (i < n && strcmp(kw, names[i])) i++;
        if (i == n) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%s'", fn, kw);
            return -1;
        }
        if (out[i]) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", fn, kw);
            return -1;
        }
        out[i] = args[nargs + k];
    }
    return 0;
}

const char *bsc_str(PyObject *o, const char *what)
{
    if (!o || !PyUnicode_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s must be str, but got: %s", what,
                     o ? Py_TYPE(o)->tp_name : "nothing");
        return NULL;
    }
    return PyUnicode_AsUTF8(o);
}

int bsc_bool(PyObject *o, int dflt) { return o ? PyObject_IsTrue(o) : dflt; }

int bsc_int64(PyObject *o, int64_t dflt, int64_t *out)
{
    if (!o || o == Py_None) {
        *out = dflt;
        return 0;
    }
    long long v = PyLong_AsLongLong(o);
    if (v == -1 && PyErr_Occurred()) return -1;
    *out = v;
    return 0;
}

int bsc_hash_alg(PyObject *o, bs_hash_alg *out)
{
    if (!o || o == Py_None) {
        *out = BS_HASH_SHA256;
        return 0;
    }
    const char *name = bsc_str(o, "algorithm");
    if (!name) return -1;
    int rc = bs_hash_alg_parse(name, out);
    if (rc) {
        bsc_raise(rc);
        return -1;
    }
    return 0;
}

static PyObject *error_name(PyObject *mod, PyObject *arg)
{
    (void)mod;
    long code = PyLong_AsLong(arg);
    if (code == -1 && PyErr_Occurred()) return NULL;
    return PyUnicode_FromString(bs_error_id((int)code));
}

static PyMethodDef module_methods[] = {
    {"_register", bsc_register, METH_VARARGS,
     "_register(ItemInfo, {error id: class}, default class): set up the module"},
    {"_error_id", error_name, METH_O, "the C identifier of an error code"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_borgstore_c",
    "libborgstore's Store and backends for Python (use the borgstore_c package)", -1,
    module_methods, NULL, NULL, NULL, NULL,
};

static int add_type(PyObject *m, PyTypeObject *t, const char *name)
{
    if (PyType_Ready(t) < 0) return -1;
    Py_INCREF(t);
    if (PyModule_AddObject(m, name, (PyObject *)t) < 0) {
        Py_DECREF(t);
        return -1;
    }
    return 0;
}

PyMODINIT_FUNC PyInit__borgstore_c(void)
{
    PyObject *m = PyModule_Create(&module_def);
    if (!m) return NULL;
    if (add_type(m, &BscStore_Type, "Store") || add_type(m, &BscBackend_Type, "Backend") ||
        PyType_Ready(&BscList_Type) < 0 || PyType_Ready(&BscBatch_Type) < 0 ||
        PyModule_AddIntConstant(m, "NAME_MAX", BS_NAME_MAX) ||
        PyModule_AddIntConstant(m, "LEVEL_MAX", BS_STORE_LEVEL_MAX)) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

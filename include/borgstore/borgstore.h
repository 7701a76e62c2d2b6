/* borgstore: the whole public API in one include. Applications normally
 * need only this; the parts are errors.h (codes and messages), hash.h
 * (content hash algorithms), backend.h (raw backends) and store.h (the
 * Store with namespaces, nesting, soft delete and stats). */
#ifndef BORGSTORE_BORGSTORE_H
#define BORGSTORE_BORGSTORE_H

#include "borgstore/errors.h"
#include "borgstore/hash.h"
#include "borgstore/backend.h"
#include "borgstore/store.h"

#endif

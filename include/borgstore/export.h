/* BS_API marks the functions libborgstore exports. The library is built
 * with hidden visibility, so everything else (the bs__ internals) stays
 * out of its dynamic symbol table and out of applications' reach. */
#ifndef BORGSTORE_EXPORT_H
#define BORGSTORE_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define BS_API __attribute__((visibility("default")))
#else
#define BS_API
#endif

#endif

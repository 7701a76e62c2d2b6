/* An in-memory transport for the RPC client: reads come from a fixed byte
 * string (a scripted or fuzzed server), a few bytes at a time with "nothing
 * yet" in between, writes are swallowed, and the end of the bytes is the
 * end of the connection. Used by the reply fuzz target and the allocation
 * tests. */
#ifndef BS_TESTS_FUZZ_MEMTRANSPORT_H
#define BS_TESTS_FUZZ_MEMTRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/transport.h"

typedef struct mem_transport {
    bs_transport base;
    const uint8_t *p;
    size_t left;
    size_t piece; /* most bytes one read returns */
    bool dry;     /* the next read finds nothing (toggles) */
    bool hold;    /* at the end of the bytes: "nothing yet" instead of EOF */
    size_t written;
} mem_transport;

/* Sets t up to play the len bytes at p. Not owned; close does nothing. */
void mem_transport_init(mem_transport *t, const uint8_t *p, size_t len, size_t piece);

#endif

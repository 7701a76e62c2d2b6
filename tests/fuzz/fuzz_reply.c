/* Fuzz target: the client's side of the protocol. The input plays a
 * (possibly malicious) borgstore-serve: after two selector bytes (read
 * sizes, how the calls are collected) it is what the client reads through
 * an in-memory transport (a few bytes per read, so replies arrive while the
 * client waits; the end of the input ends the connection). The client
 * connects and sends a fixed pipeline of calls; whatever it accepts must be
 * sane: values within what was asked, list entry and defrag names that are
 * valid item names, hex digests of hex digits. */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"

#include "memtransport.h"

#include "client/remote/rpc.h"
#include "common/error.h"
#include "common/names.h"

#define NCALLS 15

static void check_reply(const bs__req *q, const bs__reply *r)
{
    if (getenv("BS_FUZZ_VERBOSE"))
        fprintf(stderr, "call %u -> %d %s\n", q->method, r->rc, r->rc ? bs_error_message() : "");
    if (r->rc) {
        FUZZ_CHECK(r->rc < 0 && !r->value && !r->entries, "failed call with results (%d)", r->rc);
        return;
    }
    switch (q->method) {
    case BS_M_LOAD:
        FUZZ_CHECK(r->value, "load without a buffer");
        if (q->size >= 0) FUZZ_CHECK(r->value_len <= (uint64_t)q->size, "more than asked");
        break;
    case BS_M_LIST:
    case BS_M_LIST_NEXT:
        FUZZ_CHECK(r->n_entries <= BS_LIST_PAGE_CEIL, "%zu entries", r->n_entries);
        for (size_t i = 0; i < r->n_entries; i++) {
            const char *nm = r->entries[i].name;
            FUZZ_CHECK(*nm && !strchr(nm, '/') && bs__name_is_valid(nm),
                       "list entry name accepted from the server: \"%s\"", nm);
        }
        break;
    case BS_M_DEFRAG:
        FUZZ_CHECK(*r->name && bs__name_is_valid(r->name), "defrag name accepted: \"%s\"",
                   r->name);
        break;
    case BS_M_HASH:
        FUZZ_CHECK(*r->hex && strspn(r->hex, "0123456789abcdef") == strlen(r->hex),
                   "hex digest accepted: \"%s\"", r->hex);
        break;
    case BS_M_PING:
        if (q->has_data) FUZZ_CHECK(r->value || !r->value_len, "ping data");
        break;
    default:
        break;
    }
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    static const size_t pieces[4] = {1, 7, 4096, SIZE_MAX};
    mem_transport t;
    mem_transport_init(&t, data + 2, size - 2, pieces[data[0] & 3]);
    int mode = data[1] % 3;
    bs__rpc_opts opts = {.timeout_ms = 1000, .max_value = 1u << 30};
    bs__rpc *c;
    if (bs__rpc_connect(&c, &t.base, &opts)) return 0;
    const bs__hello *h = bs__rpc_server(c);
    FUZZ_CHECK(h->max_frame >= BS_FRAME_MIN && h->max_inflight > 0, "accepted hello limits");

    static const bs_defrag_source src[2] = {{"data/aa", 0, 3}, {"data/bb", 1, 2}};
    static const uint8_t five[5] = "hello";
    bs__req calls[NCALLS] = {
        {.method = BS_M_INFO, .name = "data/aa"},
        {.method = BS_M_LOAD, .name = "data/bb", .size = BS_SIZE_ALL},
        {.method = BS_M_LOAD, .name = "data/cc", .offset = 2, .size = 10},
        {.method = BS_M_LIST, .name = "data"},
        {.method = BS_M_LIST_NEXT, .cursor = 1},
        {.method = BS_M_HASH, .name = "data/dd", .alg = "sha256"},
        {.method = BS_M_DEFRAG, .sources = src, .n_sources = 2, .ns = "data", .alg = "sha256",
         .levels = 1},
        {.method = BS_M_QUOTA},
        {.method = BS_M_PING, .data = five, .data_len = 3, .has_data = true},
        {.method = BS_M_STORE, .name = "data/ee", .data = five, .data_len = 5},
        {.method = BS_M_DELETE, .name = "data/ff"},
        {.method = BS_M_MOVE, .name = "data/gg", .dst = "data/hh"},
        {.method = BS_M_MKDIR, .name = "data/ii"},
        {.method = BS_M_LIST_END, .cursor = 1},
        {.method = BS_M_LOAD, .name = "data/jj", .size = 0},
    };
    uint32_t ids[NCALLS] = {0};
    size_t sent = 0;
    for (; sent < NCALLS; sent++)
        if (bs__rpc_submit(c, &calls[sent], &ids[sent])) break;
    bs__reply r;
    if (mode == 0) { /* collect in order */
        for (size_t i = 0; i < sent; i++) {
            bs__rpc_wait(c, ids[i], &r);
            check_reply(&calls[i], &r);
            bs__reply_clear(&r);
        }
    } else if (mode == 1) { /* as they complete, forgetting every third call */
        for (size_t i = 0; i < sent; i += 3) bs__rpc_discard(c, ids[i]);
        uint32_t id;
        for (int rounds = 0; rounds < NCALLS + 1 && bs__rpc_poll(c, &id, 0) == 1; rounds++) {
            size_t i = 0;
            while (i < sent && ids[i] != id) i++;
            FUZZ_CHECK(i < sent && i % 3 != 0, "poll returned id %u", id);
            bs__rpc_wait(c, id, &r);
            check_reply(&calls[i], &r);
            bs__reply_clear(&r);
        }
    } else { /* fire and forget */
        for (size_t i = 0; i < sent; i++) bs__rpc_discard(c, ids[i]);
        (void)bs__rpc_drain(c);
        size_t failed;
        (void)bs__rpc_take_deferred(c, &failed);
        FUZZ_CHECK(failed <= sent, "%zu failures of %zu calls", failed, sent);
    }
    FUZZ_CHECK(bs__rpc_broken(c) == (bs__rpc_error(c) != 0), "broken state");
    bs__rpc_free(c);
    return 0;
}

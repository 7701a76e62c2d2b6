/* The receive side of the RPC client: the preamble, the hello answer, and
 * each frame matched to its call (results decoded, load values landing in
 * one buffer each and checked against their hash). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/remote/rpc_internal.h"
#include "common/error.h"
#include "common/names.h"
#include "proto/value_out.h"

/* ---- receiving ------------------------------------------------------------ */

/* Compares got with the hash the server sent; a mismatch drops the value. */
static void check_hash(slot *s, const uint8_t got[BS_VALUE_HASH_LEN])
{
    if (memcmp(got, s->hash, BS_VALUE_HASH_LEN) == 0) return;
    free(s->reply.value);
    s->reply.value = NULL;
    s->reply.value_len = 0;
    s->reply.rc = BS_ERR_INTEGRITY;
    s->errmsg = strdup("integrity error: loaded value does not match its hash");
}

static void check_value(slot *s)
{
    uint8_t got[BS_VALUE_HASH_LEN];
    bs__value_hash(got, s->reply.value, s->reply.value_len);
    check_hash(s, got);
}

static int on_hello(bs__rpc *c, const bs__env *env)
{
    if (env->id != HELLO_ID || (env->kind != BS_KIND_OK && env->kind != BS_KIND_ERR))
        return bs__rpc_proto_fail(c, "unexpected frame (kind %llu) before the hello answer", env->kind);
    if (env->kind == BS_KIND_ERR) {
        char msg[BS_MESSAGE_MAX];
        char text[900];
        bs__rpc_printable(text, sizeof text, (const uint8_t *)env->text, env->text_len);
        snprintf(msg, sizeof msg, "borgstore-serve refused the connection: %s", text);
        int code = bs_error_from_wire(env->code);
        bs__error_set_raw(code, 0, msg);
        return bs__rpc_fail(c, code);
    }
    bs__result res;
    if (bs__result_decode(&res, BS_M_HELLO, env->body, env->body_len))
        return bs__rpc_proto_fail(c, "bad hello answer%.0llu", 0);
    const bs__hello *h = &res.hello;
    if (h->version != BS_PROTO_VERSION) return bs__rpc_proto_fail(c, "unknown version %llu", h->version);
    if (h->max_frame < BS_FRAME_MIN || h->max_inflight == 0)
        return bs__rpc_proto_fail(c, "impossible limits (max_frame %llu)", h->max_frame);
    c->hello = *h;
    c->peer_max_frame = h->max_frame > BS_FRAME_CEIL ? BS_FRAME_CEIL : h->max_frame;
    c->window = h->max_inflight > BS_INFLIGHT_CEIL ? BS_INFLIGHT_CEIL : h->max_inflight;
    c->window_bytes = h->max_inflight_bytes ? h->max_inflight_bytes : BS_INFLIGHT_BYTES_DEFAULT;
    uint32_t n = 2;
    while (n < 2 * c->window) n *= 2;
    c->slots = calloc(n, sizeof *c->slots);
    c->done = calloc(n, sizeof *c->done);
    if (!c->slots || !c->done) {
        bs__error_set(BS_ERR_NOMEM, NULL);
        return bs__rpc_fail(c, BS_ERR_NOMEM);
    }
    c->mask = n - 1;
    c->next_id = HELLO_ID + 1;
    c->phase = PH_READY;
    return 0;
}

static int on_result(bs__rpc *c, slot *s, const bs__env *env)
{
    bs__result res;
    if (bs__result_decode(&res, s->method, env->body, env->body_len)) {
        char msg[BS_MESSAGE_MAX];
        snprintf(msg, sizeof msg, "%s", bs_error_message());
        bs__error_set(BS_ERR_PROTOCOL, "borgstore-serve sent a bad result: %s", msg);
        return bs__rpc_fail(c, BS_ERR_PROTOCOL);
    }
    bs__reply *r = &s->reply;
    r->method = s->method;
    switch (s->method) {
    case BS_M_INFO:
        r->info = res.info;
        break;
    case BS_M_HASH:
        if (!res.hex[0] || strspn(res.hex, "0123456789abcdef") != strlen(res.hex))
            return bs__rpc_proto_fail(c, "a hash result that is not a hex digest%.0llu", 0);
        memcpy(r->hex, res.hex, sizeof r->hex);
        break;
    case BS_M_DEFRAG:
        if (!res.name[0] || !bs__name_is_valid(res.name))
            return bs__rpc_proto_fail(c, "a defrag result that is not an item name%.0llu", 0);
        memcpy(r->name, res.name, sizeof r->name);
        break;
    case BS_M_QUOTA:
        r->quota = res.quota;
        break;
    case BS_M_LIST:
    case BS_M_LIST_NEXT: {
        r->entries = malloc((res.n_entries ? res.n_entries : 1) * sizeof *r->entries);
        if (!r->entries) {
            bs__error_set(BS_ERR_NOMEM, NULL);
            return bs__rpc_fail(c, BS_ERR_NOMEM);
        }
        size_t pos = 0;
        while (r->n_entries < res.n_entries &&
               bs__list_entry_next(&res, &pos, &r->entries[r->n_entries]) == 1) {
            /* names go back to the application: one valid component each */
            const char *nm = r->entries[r->n_entries].name;
            if (!nm[0] || strchr(nm, '/') || !bs__name_is_valid(nm))
                return bs__rpc_proto_fail(c, "list entry %llu is not a valid item name",
                                  (unsigned long long)r->n_entries);
            r->n_entries++;
        }
        r->has_cursor = res.has_cursor;
        r->cursor = res.cursor;
        break;
    }
    case BS_M_PING:
        if (res.has_data) {
            r->value = malloc(res.data_len ? res.data_len : 1);
            if (!r->value) return bs__rpc_fail(c, bs__error_set(BS_ERR_NOMEM, NULL));
            memcpy(r->value, res.data, res.data_len);
            r->value_len = res.data_len;
        }
        break;
    case BS_M_LOAD: {
        uint64_t size = res.value_size;
        if (size > c->o.max_value)
            return bs__rpc_proto_fail(c, "a value of %llu bytes exceeds our limit", size);
        if (s->want_size >= 0 && size > (uint64_t)s->want_size)
            return bs__rpc_proto_fail(c, "%llu bytes sent for a smaller range", size);
        if (res.has_data && res.data_len != size)
            return bs__rpc_proto_fail(c, "inline value of the wrong size (%llu)", res.data_len);
        /* inline: the hash comes along; in DATA frames: in the last one */
        if (res.has_data != (res.hash != NULL))
            return bs__rpc_proto_fail(c, res.has_data ? "an inline value without its hash%.0llu"
                                              : "a hash before a value in DATA frames%.0llu", 0);
        if (!res.has_data && size == 0)
            return bs__rpc_proto_fail(c, "an empty value in DATA frames%.0llu", 0);
        if (res.hash) memcpy(s->hash, res.hash, sizeof s->hash);
        /* the buffer the value lands in: whole when inline, else it grows
         * as DATA arrives, so an announced size costs nothing up front */
        bool now = res.has_data;
        s->value_cap = now ? (size_t)size : size < c->o.max_frame ? (size_t)size : c->o.max_frame;
        r->value = malloc(s->value_cap ? s->value_cap : 1);
        if (!r->value) return bs__rpc_fail(c, bs__error_set(BS_ERR_NOMEM, "no memory for a %llu-byte value",
                                                  (unsigned long long)size));
        r->value_len = (size_t)size;
        if (now) {
            if (size) memcpy(r->value, res.data, (size_t)size);
            check_value(s);
            break;
        }
        s->value_got = 0;
        s->state = ST_RECEIVING;
        c->receiving = s;
        /* hashed chunk by chunk as it arrives, overlapping the transfer */
        crypto_generichash_init(c->rx_hash, NULL, 0, BS_VALUE_HASH_LEN);
        return 0;
    }
    default:
        break;
    }
    bs__rpc_complete(c, s);
    return 0;
}

static int on_frame(bs__rpc *c, const uint8_t *f, size_t len)
{
    bs__env env;
    if (bs__env_decode(f, len, &env)) {
        char msg[BS_MESSAGE_MAX];
        snprintf(msg, sizeof msg, "%s", bs_error_message());
        bs__error_set(BS_ERR_PROTOCOL, "borgstore-serve sent a malformed frame: %s", msg);
        return bs__rpc_fail(c, BS_ERR_PROTOCOL);
    }
    if (env.kind == BS_KIND_LOG) {
        if (c->o.log) {
            char msg[BS_MESSAGE_MAX];
            bs__rpc_printable(msg, sizeof msg, (const uint8_t *)env.text, env.text_len);
            c->o.log(c->o.log_ctx, (int)env.level, msg);
        }
        return 0;
    }
    /* a whole frame other than LOG: progress for the reply deadline */
    c->last_progress = bs__rpc_now_ms();
    if (c->phase == PH_HELLO) return on_hello(c, &env);
    if (c->receiving) {
        slot *s = c->receiving;
        if (env.kind != BS_KIND_DATA || env.id != s->id)
            return bs__rpc_proto_fail(c, "the value of request %llu was interrupted", s->id);
        if (env.data_len > s->reply.value_len - s->value_got)
            return bs__rpc_proto_fail(c, "more data than announced for request %llu", s->id);
        bool last = env.data_len == s->reply.value_len - s->value_got;
        if (last != (env.hash != NULL))
            return bs__rpc_proto_fail(c, last ? "the last chunk of value %llu lacks its hash"
                                      : "a hash before the last chunk of value %llu", s->id);
        size_t need = (size_t)s->value_got + env.data_len;
        if (need > s->value_cap) { /* double, never past the announced size */
            size_t cap = s->value_cap * 2 > need ? s->value_cap * 2 : need;
            if (cap > s->reply.value_len) cap = s->reply.value_len;
            uint8_t *v = realloc(s->reply.value, cap);
            if (!v) return bs__rpc_fail(c, bs__error_set(BS_ERR_NOMEM, "no memory for a %zu-byte value",
                                                 s->reply.value_len));
            s->reply.value = v;
            s->value_cap = cap;
        }
        memcpy(s->reply.value + s->value_got, env.data, env.data_len);
        crypto_generichash_update(c->rx_hash, s->reply.value + s->value_got, env.data_len);
        s->value_got += env.data_len;
        if (last) {
            uint8_t got[BS_VALUE_HASH_LEN];
            crypto_generichash_final(c->rx_hash, got, sizeof got);
            memcpy(s->hash, env.hash, sizeof s->hash);
            check_hash(s, got);
            bs__rpc_complete(c, s);
        }
        return 0;
    }
    if (env.kind == BS_KIND_DATA) return bs__rpc_proto_fail(c, "data for no pending value (id %llu)", env.id);
    if (env.kind != BS_KIND_OK && env.kind != BS_KIND_ERR)
        return bs__rpc_proto_fail(c, "unexpected message kind %llu", env.kind);
    slot *s = bs__rpc_slot_of(c, env.id);
    if (!s || s->state != ST_SENT)
        return bs__rpc_proto_fail(c, "reply for an unknown or already answered request %llu", env.id);
    if (env.kind == BS_KIND_ERR) {
        s->reply.method = s->method;
        s->reply.rc = bs_error_from_wire(env.code);
        /* the server's text reaches a terminal: printable bytes only */
        char msg[BS_MESSAGE_MAX];
        bs__rpc_printable(msg, sizeof msg, (const uint8_t *)env.text, env.text_len);
        s->errmsg = strdup(msg);
        bs__rpc_complete(c, s);
        return 0;
    }
    return on_result(c, s, &env);
}

int bs__rpc_process_input(bs__rpc *c)
{
    while (c->phase != PH_BROKEN) {
        if (c->phase == PH_PREAMBLE) {
            if (bs__inbuf_len(&c->in) < BS_PROTO_PREAMBLE_LEN) return 0;
            unsigned v;
            if (bs__preamble_check(c->in.data + c->in.head, &v)) {
                bs__error_set(BS_ERR_PROTOCOL,
                              "the remote side is not borgstore-serve (wrong command, or a "
                              "shell that prints text on login?)");
                return BS_ERR_PROTOCOL; /* the caller collects the text first */
            }
            bs__inbuf_consume(&c->in, BS_PROTO_PREAMBLE_LEN);
            c->phase = PH_HELLO;
            continue;
        }
        const uint8_t *f;
        size_t len;
        uint32_t max = c->phase == PH_READY ? c->o.max_frame : BS_FRAME_MIN;
        int rc = bs__inbuf_next(&c->in, max, &f, &len);
        if (rc < 0) return bs__rpc_fail(c, rc);
        if (rc == 0) return 0;
        if ((rc = on_frame(c, f, len))) return rc;
    }
    return c->broken_rc;
}

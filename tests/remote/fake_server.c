/* A misbehaving borgstore-serve for client tests: does a correct handshake
 * (or none), then breaks the protocol in the way argv[1] names:
 *   banner       print a shell banner instead of the preamble
 *   unknown-id   answer each request with a reply for another id
 *   duplicate    answer each request twice
 *   bad-hash     answer every load with bytes that do not match the hash
 *   frames-ok    answer loads correctly in DATA frames (the hash in the last)
 *   frames-bad-hash   ... with a last frame whose hash does not match
 *   frames-no-hash    ... with no hash in the last frame
 *   frames-early-hash ... with the hash in the first frame
 *   frames-header-hash ... with the hash in the result instead
 *   silent       never answer after the handshake
 *   huge-frame   answer with a frame length of 0xffffffff
 *   huge-count   answer with an array header of 2^32-1 elements
 *   garbage      answer with a frame that is not msgpack
 *   err-escape   answer every request with an ERR whose text holds ESC,
 *                newlines and other control bytes
 *   log-flood    answer no request, but send a LOG frame every 0.3 s forever
 *   trickle      answer each request one byte every 0.1 s (a 2000-byte frame)
 *   empty-pages  answer list and list_next with no entries but a cursor */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto/frame.h"
#include "proto/msg.h"

static void out(const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(1, b, n);
        if (w <= 0) exit(0);
        b += w;
        n -= (size_t)w;
    }
}

static bs__inbuf in;

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Next frame from stdin (exits at EOF). */
static void next_frame(const uint8_t **f, size_t *len)
{
    for (;;) {
        int rc = bs__inbuf_next(&in, BS_FRAME_CEIL, f, len);
        if (rc < 0) exit(3);
        if (rc == 1) return;
        uint8_t *p;
        size_t cap;
        if (bs__inbuf_space(&in, BS_FRAME_CEIL, &p, &cap)) exit(3);
        ssize_t n = read(0, p, cap);
        if (n <= 0) exit(0);
        bs__inbuf_wrote(&in, (size_t)n);
    }
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "banner")) {
        printf("Welcome to Example Hosting!\nLast login: yesterday\n");
        fflush(stdout);
        char junk[4096];
        while (read(0, junk, sizeof junk) > 0) {
        }
        return 0;
    }
    uint8_t pre[BS_PROTO_PREAMBLE_LEN];
    bs__preamble_put(pre);
    out(pre, sizeof pre);
    /* the client's preamble */
    while (bs__inbuf_len(&in) < BS_PROTO_PREAMBLE_LEN) {
        uint8_t *p;
        size_t cap;
        bs__inbuf_space(&in, 0, &p, &cap);
        ssize_t n = read(0, p, BS_PROTO_PREAMBLE_LEN - bs__inbuf_len(&in));
        if (n <= 0) return 0;
        bs__inbuf_wrote(&in, (size_t)n);
    }
    bs__inbuf_consume(&in, BS_PROTO_PREAMBLE_LEN);
    const uint8_t *f;
    size_t len;
    bs__env env;
    next_frame(&f, &len);
    if (bs__env_decode(f, len, &env) || env.method != BS_M_HELLO) return 4;
    bs__result res = {0};
    res.hello = (bs__hello){.version = BS_PROTO_VERSION, .features = BS_FEAT_ALL, .max_frame = BS_FRAME_DEFAULT,
                            .max_value = BS_VALUE_DEFAULT, .max_inflight = 4,
                            .max_inflight_bytes = 1 << 20, .max_name = 100, .list_page = 100,
                            .max_defrag = 10};
    strcpy(res.hello.impl, "fake");
    bs_buf b = {0};
    bs__enc_ok(&b, env.id, BS_M_HELLO, &res, BS_FRAME_DEFAULT, false, NULL);
    out(b.data, b.len);
    b.len = 0;
    for (;;) {
        next_frame(&f, &len);
        if (bs__env_decode(f, len, &env) || env.kind != BS_KIND_REQ) return 5;
        uint32_t m = (uint32_t)env.method;
        memset(&res, 0, sizeof res);
        if (!strcmp(mode, "silent")) continue;
        if (!strcmp(mode, "huge-frame")) {
            out("\xff\xff\xff\xff\x93\x02", 6);
            continue;
        }
        if (!strcmp(mode, "huge-count")) {
            out("\x00\x00\x00\x06\xdd\xff\xff\xff\xff\x02", 10);
            continue;
        }
        if (!strcmp(mode, "err-escape")) {
            bs__enc_err(&b, env.id, BS_ERR_NOT_FOUND,
                        "gone\x1b[2J\x1b]0;owned\x07\nborgstore: fake line\r\x7f");
            out(b.data, b.len);
            b.len = 0;
            continue;
        }
        if (!strcmp(mode, "log-flood")) { /* until the client goes away */
            for (;;) {
                bs__enc_log(&b, 30, "still working");
                out(b.data, b.len);
                b.len = 0;
                pause_ms(300);
            }
        }
        if (!strcmp(mode, "trickle")) {
            static uint8_t pad[2000];
            res.data = pad;
            res.data_len = sizeof pad;
            res.has_data = true;
            size_t tail;
            bs__enc_ok(&b, env.id, BS_M_PING, &res, BS_FRAME_DEFAULT, true, &tail);
            bs__buf_append(&b, pad, tail);
            for (size_t i = 0; i < b.len; i++) {
                out(b.data + i, 1);
                pause_ms(100);
            }
            b.len = 0;
            continue;
        }
        if (!strcmp(mode, "empty-pages") && (m == BS_M_LIST || m == BS_M_LIST_NEXT)) {
            res.has_cursor = true;
            res.cursor = 7;
        }
        if (!strcmp(mode, "garbage")) {
            out("\x00\x00\x00\x03\xc1\xc1\xc1", 7);
            continue;
        }
        uint8_t hash[BS_VALUE_HASH_LEN];
        if (m == BS_M_LOAD && !strncmp(mode, "frames-", 7)) {
            /* 100000 bytes in two DATA frames */
            static uint8_t v[100000];
            memset(v, 'v', sizeof v);
            bs__value_hash(hash, v, sizeof v);
            res.value_size = sizeof v;
            if (!strcmp(mode, "frames-header-hash")) res.hash = hash;
            bs__enc_ok(&b, env.id, m, &res, BS_FRAME_DEFAULT, false, NULL);
            bool early = !strcmp(mode, "frames-early-hash");
            bool trailing = !strcmp(mode, "frames-ok") || !strcmp(mode, "frames-bad-hash");
            if (!strcmp(mode, "frames-bad-hash")) hash[0] ^= 1;
            for (size_t off = 0; off < sizeof v; off += sizeof v / 2) {
                bool with = off ? trailing : early;
                if (with) bs__enc_data_last(&b, env.id, sizeof v / 2, BS_FRAME_DEFAULT);
                else bs__enc_data(&b, env.id, sizeof v / 2, BS_FRAME_DEFAULT);
                bs__buf_append(&b, v + off, sizeof v / 2);
                uint8_t trailer[BS_DATA_TRAILER_LEN];
                bs__data_trailer(trailer, hash);
                if (with) bs__buf_append(&b, trailer, sizeof trailer);
            }
            out(b.data, b.len);
            b.len = 0;
            continue;
        }
        if (m == BS_M_LOAD) {
            bs__value_hash(hash, "abd", 3);
            res.value_size = 3;
            res.hash = hash;
            res.data = (const uint8_t *)"abc";
            res.data_len = 3;
            res.has_data = true;
        }
        if (m == BS_M_INFO) res.info.exists = false;
        if (m == BS_M_LIST) res.n_entries = 0;
        uint32_t id = !strcmp(mode, "unknown-id") ? env.id + 7 : env.id;
        size_t tail;
        bs__enc_ok(&b, id, m, &res, BS_FRAME_DEFAULT, true, &tail);
        if (tail) bs__buf_append(&b, res.data, tail);
        out(b.data, b.len);
        if (!strcmp(mode, "duplicate")) out(b.data, b.len);
        b.len = 0;
    }
}

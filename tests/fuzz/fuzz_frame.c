/* Fuzz target: framing. After two selector bytes (the frame limit, the size
 * of each read), the input is the byte stream a peer sends. It is fed to the
 * input buffer piece by piece and split into frames; the result must match
 * a plain reading of the length prefixes, re-framing a frame must give back
 * its header, and the buffer never holds more than one frame + read-ahead. */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"

#include "common/error.h"
#include "proto/frame.h"

#define READ_AHEAD (64u * 1024) /* proto/frame.c reads this far past a frame */

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    static const uint32_t limits[4] = {BS_FRAME_MIN, 16, 1000, BS_FRAME_DEFAULT};
    uint32_t max = limits[data[0] & 3];
    size_t piece = data[1] & 0x80 ? SIZE_MAX : (size_t)(data[1] % 23) + 1;
    data += 2;
    size -= 2;

    if (size >= BS_PROTO_PREAMBLE_LEN) {
        unsigned v = 0;
        bool good = memcmp(data, BS_PROTO_MAGIC, BS_PROTO_MAGIC_LEN) == 0 &&
                    data[BS_PROTO_MAGIC_LEN] != 0;
        int rc = bs__preamble_check(data, &v);
        FUZZ_CHECK((rc == 0) == good, "preamble check %d", rc);
        if (good) FUZZ_CHECK(v == data[BS_PROTO_MAGIC_LEN], "version %u", v);
    }

    size_t bound = (size_t)max + BS_FRAME_HEADER > READ_AHEAD ? (size_t)max + BS_FRAME_HEADER
                                                                : READ_AHEAD;
    bs__inbuf ib = {0};
    size_t fed = 0, ref = 0; /* ref: where the reference reading stands */
    bool ended = false;
    while (!ended) {
        for (;;) { /* take every complete frame */
            const uint8_t *f = NULL;
            size_t len = 0;
            int rc = bs__inbuf_next(&ib, max, &f, &len);
            size_t avail = fed - ref;
            if (avail < BS_FRAME_HEADER) {
                FUZZ_CHECK(rc == 0, "frame from %zu bytes", avail);
                break;
            }
            uint32_t n = bs__be32_get(data + ref);
            if (n == 0 || n > max) {
                FUZZ_CHECK(rc == BS_ERR_PROTOCOL, "length %u accepted (limit %u)", n, max);
                ended = true;
                break;
            }
            if (avail - BS_FRAME_HEADER < n) {
                FUZZ_CHECK(rc == 0, "incomplete frame returned");
                break;
            }
            FUZZ_CHECK(rc == 1 && len == n, "rc %d len %zu, expected %u", rc, len, n);
            FUZZ_CHECK(memcmp(f, data + ref + BS_FRAME_HEADER, n) == 0, "frame bytes differ");
            bs_buf b = {0};
            size_t mark;
            FUZZ_CHECK(bs__frame_begin(&b, &mark) == 0, "begin");
            FUZZ_CHECK(bs__buf_append(&b, f, len) == 0, "append");
            FUZZ_CHECK(bs__frame_end(&b, mark, 0, max) == 0, "re-framing refused");
            FUZZ_CHECK(b.len == len + BS_FRAME_HEADER && memcmp(b.data, data + ref, b.len) == 0,
                       "re-framed bytes differ");
            bs__buf_free(&b);
            ref += BS_FRAME_HEADER + n;
        }
        if (ended || fed == size) break;
        uint8_t *p;
        size_t cap;
        int rc = bs__inbuf_space(&ib, max, &p, &cap);
        FUZZ_CHECK(rc == 0, "no space although the head frame is valid (%d)", rc);
        FUZZ_CHECK(cap > 0, "no room to read");
        FUZZ_CHECK(ib.cap <= bound, "buffer of %zu bytes for frames of at most %u", ib.cap, max);
        size_t n = size - fed;
        if (n > piece) n = piece;
        if (n > cap) n = cap;
        memcpy(p, data + fed, n);
        bs__inbuf_wrote(&ib, n);
        fed += n;
    }
    bs__inbuf_free(&ib);
    return 0;
}

/* Untrusted bytes made safe to log and to send as message text (see
 * printable.h). */
#include "common/printable.h"

#include <stdint.h>
#include <string.h>

size_t bs__printable(char *out, size_t cap, const void *p, size_t n)
{
    static const char hexd[] = "0123456789abcdef";
    const uint8_t *in = p;
    size_t o = 0;
    if (!cap) return 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = in[i];
        if (c >= 0x20 && c < 0x7f) {
            if (o + 1 >= cap) break;
            out[o++] = (char)c;
        } else {
            if (o + 4 >= cap) break;
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hexd[c >> 4];
            out[o++] = hexd[c & 15];
        }
    }
    out[o] = '\0';
    return o;
}

size_t bs__printable_str(char *out, size_t cap, const char *s)
{
    if (!s) s = "(null)";
    return bs__printable(out, cap, s, strlen(s));
}

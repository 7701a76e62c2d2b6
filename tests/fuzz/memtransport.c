/* In-memory transport (see memtransport.h). */
#include "memtransport.h"

#include <string.h>

#include "common/error.h"

static ssize_t mt_write(bs_transport *bt, const void *data, size_t len)
{
    (void)data;
    ((mem_transport *)bt)->written += len;
    return (ssize_t)len;
}

static ssize_t mt_read(bs_transport *bt, void *buf, size_t cap)
{
    mem_transport *t = (mem_transport *)bt;
    if (!t->left && t->hold) return 0;
    if (!t->left) return bs__error_set(BS_ERR_CONNECTION, "the scripted server has nothing more");
    if ((t->dry = !t->dry)) return 0;
    size_t n = t->left < cap ? t->left : cap;
    if (n > t->piece) n = t->piece;
    memcpy(buf, t->p, n);
    t->p += n;
    t->left -= n;
    return (ssize_t)n;
}

static int mt_wait(bs_transport *t, bool r, bool w, int timeout_ms)
{
    (void)t, (void)r, (void)w, (void)timeout_ms;
    return 1; /* a read always answers at once: data, nothing yet, or the end */
}

static void mt_shutdown(bs_transport *t) { (void)t; }
static const char *mt_stderr(bs_transport *t) { (void)t; return ""; }
static void mt_close(bs_transport *t) { (void)t; }

static const bs_transport_ops mt_ops = {mt_write, mt_read, mt_wait, mt_shutdown, mt_stderr,
                                        mt_close};

void mem_transport_init(mem_transport *t, const uint8_t *p, size_t len, size_t piece)
{
    memset(t, 0, sizeof *t);
    t->base.ops = &mt_ops;
    t->p = p;
    t->left = len;
    t->piece = piece ? piece : 1;
}

/* The requests a client has in flight, as far as the server can see: from
 * when a request is read until the last byte of its reply has been written
 * to stdout. Enforces the envelope rules on ids (0 is reserved, an id stays
 * taken while its request is in flight) and the max_inflight announced in
 * hello. Replies already written into the pipe no longer count, so a client
 * that overruns its window is caught when the server's output is backed up,
 * which is when the window matters to the server. */
#include <stdio.h>
#include <stdlib.h>

#include "server/serve.h"

/* Drops the requests whose replies have been written completely. */
static void retire(serve *s)
{
    serve_inflight *f = &s->inflight;
    while (f->n && f->end[f->head] <= s->out_written) {
        f->head = (f->head + 1) % f->cap;
        f->n--;
    }
}

int serve_inflight_admit(serve *s, uint32_t id)
{
    serve_inflight *f = &s->inflight;
    if (!f->cap) {
        f->cap = s->opt->max_inflight ? s->opt->max_inflight : 1;
        f->id = calloc(f->cap, sizeof *f->id);
        f->end = calloc(f->cap, sizeof *f->end);
        if (!f->id || !f->end) return serve_fatal(s, id, "out of memory");
    }
    if (id == 0) return serve_fatal(s, 0, "request id 0 is reserved");
    retire(s);
    for (size_t i = 0; i < f->n; i++)
        if (f->id[(f->head + i) % f->cap] == id) {
            char msg[96];
            snprintf(msg, sizeof msg, "request id %u is still in flight", id);
            return serve_fatal(s, id, msg);
        }
    if (f->n >= f->cap) {
        char msg[96];
        snprintf(msg, sizeof msg, "more than max_inflight (%zu) requests in flight", f->cap);
        return serve_fatal(s, id, msg);
    }
    size_t at = (f->head + f->n++) % f->cap;
    f->id[at] = id;
    f->end[at] = UINT64_MAX; /* not answered yet */
    return 0;
}

void serve_inflight_settle(serve *s)
{
    serve_inflight *f = &s->inflight;
    uint64_t queued = s->out_written + bs__outq_pending(&s->out);
    for (size_t i = 0; i < f->n; i++) {
        size_t at = (f->head + i) % f->cap;
        if (f->end[at] != UINT64_MAX) continue;
        if (s->up.active && s->up.id == f->id[at]) continue; /* its value is arriving */
        f->end[at] = queued;
    }
}

void serve_inflight_free(serve *s)
{
    free(s->inflight.id);
    free(s->inflight.end);
    s->inflight = (serve_inflight){0};
}

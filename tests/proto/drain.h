/* Test helper shared by the output-queue tests: writes everything queued
 * into out, at most step bytes per "write"; returns how many iov calls it
 * took. */
#ifndef BS_TESTS_PROTO_DRAIN_H
#define BS_TESTS_PROTO_DRAIN_H

#include <criterion/criterion.h>

#include "proto/outq.h"

static inline int drain(bs__outq *q, bs_buf *out, size_t step)
{
    int calls = 0;
    while (bs__outq_pending(q)) {
        struct iovec iov[64];
        int n = bs__outq_iov(q, iov, 64);
        calls++;
        cr_assert_gt(n, 0);
        size_t left = step, done = 0;
        for (int i = 0; i < n && left; i++) {
            size_t t = iov[i].iov_len < left ? iov[i].iov_len : left;
            bs__buf_append(out, iov[i].iov_base, t);
            left -= t;
            done += t;
        }
        bs__outq_consume(q, done);
    }
    return calls;
}

#endif

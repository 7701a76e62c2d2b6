/* Replays every fuzz target's checked-in inputs (the seed corpus in
 * corpus/<target>/ and every input that once crashed, in
 * regressions/<target>/) through the same entry points libFuzzer calls, in
 * the normal and sanitizer builds. A crash or a failed FUZZ_CHECK aborts
 * the test. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/helpers/testutil.h"

int fuzz_frame_one(const uint8_t *data, size_t size);
int fuzz_msg_one(const uint8_t *data, size_t size);
int fuzz_serve_one(const uint8_t *data, size_t size);
int fuzz_names_one(const uint8_t *data, size_t size);
int fuzz_url_one(const uint8_t *data, size_t size);
int fuzz_permissions_one(const uint8_t *data, size_t size);
int fuzz_reply_one(const uint8_t *data, size_t size);
int fuzz_http_one(const uint8_t *data, size_t size);
int fuzz_http_resp_one(const uint8_t *data, size_t size);
int fuzz_s3xml_one(const uint8_t *data, size_t size);

typedef struct input {
    char *name;
    char *data;
    size_t len;
} input;

/* Reads every file of tests/fuzz/<sub>/<target>/ (missing folder: none). */
static size_t load_dir(input *out, size_t max, size_t n, const char *sub, const char *target)
{
    char rel[256];
    snprintf(rel, sizeof rel, "tests/fuzz/%s/%s", sub, target);
    char *dir = strdup(bs_test_source_path(rel));
    DIR *d = opendir(dir);
    if (!d) {
        free(dir);
        return n;
    }
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        if (e->d_name[0] == '.') continue;
        char *path;
        cr_assert(asprintf(&path, "%s/%s", dir, e->d_name) > 0);
        out[n].data = bs_test_read_file(path, &out[n].len);
        cr_assert_not_null(out[n].data, "cannot read %s", path);
        out[n].name = path;
        n++;
    }
    closedir(d);
    free(dir);
    return n;
}

/* All inputs are read first: the serve target drops root on its first call. */
static void replay(const char *target, int (*one)(const uint8_t *, size_t), size_t min_seeds)
{
    static input in[4096];
    size_t seeds = load_dir(in, 4096, 0, "corpus", target);
    size_t n = load_dir(in, 4096, seeds, "regressions", target);
    cr_assert_geq(seeds, min_seeds, "%s: only %zu seeds checked in", target, seeds);
    for (size_t i = 0; i < n; i++) {
        fprintf(stderr, "# %s\n", in[i].name);
        cr_assert_eq(one((const uint8_t *)in[i].data, in[i].len), 0, "%s", in[i].name);
    }
    for (size_t i = 0; i < n; i++) {
        free(in[i].name);
        free(in[i].data);
    }
}

TestSuite(fuzz_replay, .timeout = 120);

Test(fuzz_replay, frame_inputs_pass) { replay("frame", fuzz_frame_one, 3); }
Test(fuzz_replay, message_inputs_pass) { replay("msg", fuzz_msg_one, 10); }
Test(fuzz_replay, server_conversations_pass) { replay("serve", fuzz_serve_one, 8); }
Test(fuzz_replay, name_inputs_pass) { replay("names", fuzz_names_one, 5); }
Test(fuzz_replay, url_inputs_pass) { replay("url", fuzz_url_one, 5); }
Test(fuzz_replay, permission_inputs_pass) { replay("permissions", fuzz_permissions_one, 5); }
Test(fuzz_replay, client_reply_inputs_pass) { replay("reply", fuzz_reply_one, 4); }
Test(fuzz_replay, http_head_inputs_pass) { replay("http", fuzz_http_one, 5); }
Test(fuzz_replay, rest_response_heads_pass) { replay("http_resp", fuzz_http_resp_one, 5); }
Test(fuzz_replay, s3_xml_inputs_pass) { replay("s3xml", fuzz_s3xml_one, 5); }

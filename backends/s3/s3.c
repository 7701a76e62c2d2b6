/* The S3 backend (s3:... and b2:..., see s3_config.h for the URL): Python
 * borgstore's layout, so a bucket written by one is read by the other:
 *   - item name -> key path + "/" + name;
 *   - directory -> zero-byte marker object path + "/" + name + "/"
 *     (the store's root marker is path + "/");
 *   - listing: ListObjectsV2 with Delimiter "/", Contents are items and
 *     CommonPrefixes directories, paged with continuation tokens.
 * Requests are built, signed and retried in s3_http.c; batches are in
 * s3_batch.c. Where the contract asks for more than Python does (a store
 * creates missing parent directories, create accepts an empty store), the
 * markers are added, never other objects. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/list_array.h"
#include "backends/s3/s3_internal.h"
#include "backends/s3/s3_xml.h"
#include "common/error.h"
#include "common/names.h"
#include "common/timestamp.h"

#define LIST_LIMIT ((size_t)16 << 20) /* bytes of one ListObjectsV2 page */
#define TOKEN_MAX 4096

static s3fs *S(bs_backend *b)
{
    return (s3fs *)b;
}

char *bs__s3_key(const s3fs *s, const char *name)
{
    char *k;
    if (asprintf(&k, "%s/%s", s->cfg.path, name) < 0) return NULL;
    return k;
}

static int nomem(void)
{
    return bs__error_set(BS_ERR_NOMEM, NULL);
}

/* ---- the set of directories known to have a marker ------------------------ */

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static bool dir_known(const s3fs *s, const char *d)
{
    if (!s->dirs_cap) return false;
    for (size_t i = fnv(d) & (s->dirs_cap - 1);; i = (i + 1) & (s->dirs_cap - 1)) {
        if (!s->dirs[i]) return false;
        if (!strcmp(s->dirs[i], d)) return true;
    }
}

static void dirs_clear(s3fs *s)
{
    for (size_t i = 0; i < s->dirs_cap; i++) free(s->dirs[i]);
    free(s->dirs);
    s->dirs = NULL;
    s->dirs_cap = s->dirs_n = 0;
}

/* Remembers d (best effort: without memory it is only forgotten). */
static void dir_add(s3fs *s, const char *d)
{
    if (dir_known(s, d)) return;
    if ((s->dirs_n + 1) * 2 > s->dirs_cap) {
        size_t cap = s->dirs_cap ? s->dirs_cap * 2 : 64;
        char **n = calloc(cap, sizeof *n);
        if (!n) return;
        for (size_t i = 0; i < s->dirs_cap; i++) {
            if (!s->dirs[i]) continue;
            size_t j = fnv(s->dirs[i]) & (cap - 1);
            while (n[j]) j = (j + 1) & (cap - 1);
            n[j] = s->dirs[i];
        }
        free(s->dirs);
        s->dirs = n;
        s->dirs_cap = cap;
    }
    char *c = strdup(d);
    if (!c) return;
    size_t j = fnv(d) & (s->dirs_cap - 1);
    while (s->dirs[j]) j = (j + 1) & (s->dirs_cap - 1);
    s->dirs[j] = c;
    s->dirs_n++;
}

/* Forgets d and everything below it (after rmdir or destroy). */
static void dir_forget(s3fs *s)
{
    dirs_clear(s);
}

/* ---- requests used by several operations --------------------------------- */

static int request(s3fs *s, const bs_s3_req *q, bs_s3_resp *r, const char *what)
{
    return bs__s3_request(&s->http, q, r, what);
}

static int put_object(s3fs *s, const char *key, const void *data, size_t len, const char *what,
                      const char *name)
{
    bs_s3_req q = {.method = "PUT", .key = key, .body = data, .body_len = len};
    bs_s3_resp r = {0};
    int rc = request(s, &q, &r, what);
    if (!rc && r.status / 100 != 2) rc = bs__s3_error(&r, what, name);
    bs__s3_resp_free(&r);
    return rc;
}

static int put_marker(s3fs *s, const char *dir)
{
    char *key;
    if (asprintf(&key, "%s/%s%s", s->cfg.path, dir, *dir ? "/" : "") < 0) return nomem();
    int rc = put_object(s, key, NULL, 0, "mkdir", dir);
    free(key);
    if (!rc) dir_add(s, dir);
    return rc;
}

/* Puts the markers of dir and of its missing ancestors. */
static int ensure_dir(s3fs *s, const char *dir)
{
    if (dir_known(s, dir)) return 0;
    char buf[BS_NAME_BUF];
    size_t n = strlen(dir);
    if (n >= sizeof buf) return bs__error_set(BS_ERR_INVALID, "s3: name too long");
    for (size_t i = 0; i <= n; i++) {
        if (dir[i] != '/' && dir[i] != '\0') continue;
        memcpy(buf, dir, i);
        buf[i] = '\0';
        if (dir_known(s, buf)) continue;
        int rc = put_marker(s, buf);
        if (rc) return rc;
    }
    return 0;
}

/* The parent directory of name exists (a store or move target). */
int bs__s3_ensure_parent(s3fs *s, const char *name)
{
    const char *slash = strrchr(name, '/');
    if (!slash) return 0; /* the root's marker is put by create */
    char buf[BS_NAME_BUF];
    size_t n = (size_t)(slash - name);
    if (n >= sizeof buf) return bs__error_set(BS_ERR_INVALID, "s3: name too long");
    memcpy(buf, name, n);
    buf[n] = '\0';
    return ensure_dir(s, buf);
}

/* One ListObjectsV2 page: 0 with r holding a 200 reply, or an error. */
static int list_page(s3fs *s, const char *prefix, bool delimiter, int max_keys,
                     const char *token, bs_s3_resp *r, const char *what, const char *name)
{
    char mk[16];
    snprintf(mk, sizeof mk, "%d", max_keys);
    bs_s3_query qs[5];
    size_t n = 0;
    qs[n++] = (bs_s3_query){"list-type", "2"};
    qs[n++] = (bs_s3_query){"prefix", prefix};
    qs[n++] = (bs_s3_query){"max-keys", mk};
    if (delimiter) qs[n++] = (bs_s3_query){"delimiter", "/"};
    if (token && *token) qs[n++] = (bs_s3_query){"continuation-token", token};
    bs_s3_req q = {.method = "GET", .query = qs, .n_query = n, .limit = LIST_LIMIT};
    int rc = request(s, &q, r, what);
    if (!rc && r->status != 200) rc = bs__s3_error(r, what, name);
    return rc;
}

static bs_s3_span body_span(const bs_s3_resp *r)
{
    return (bs_s3_span){(const char *)r->body.data, r->body.len};
}

/* The continuation token of a truncated page into token ("" when done). */
static int next_token(const bs_s3_resp *r, char token[TOKEN_MAX], const char *what)
{
    char t[16];
    token[0] = '\0';
    if (bs__s3_xml_text(body_span(r), "IsTruncated", t, sizeof t) < 0 || strcmp(t, "true"))
        return 0;
    if (bs__s3_xml_text(body_span(r), "NextContinuationToken", token, TOKEN_MAX) <= 0)
        return bs__error_set(BS_ERR_PROTOCOL, "s3: %s: truncated listing without a token", what);
    return 0;
}

/* Keys under prefix (no delimiter), up to max: counts them into *n and
 * reports whether one other than skip exists. */
static int any_key(s3fs *s, const char *prefix, const char *skip, bool *other, bool *any,
                   const char *what)
{
    bs_s3_resp r = {0};
    int rc = list_page(s, prefix, false, 2, NULL, &r, what, "");
    *other = *any = false;
    if (!rc) {
        bs_s3_span in = body_span(&r), c;
        char key[2048];
        while (bs__s3_xml_next(&in, "Contents", &c)) {
            *any = true;
            long n = bs__s3_xml_text(c, "Key", key, sizeof key);
            if (n < 0 || !skip || strcmp(key, skip)) *other = true;
        }
    }
    bs__s3_resp_free(&r);
    return rc;
}

static int head(s3fs *s, const char *key, bs_s3_resp *r, const char *what)
{
    bs_s3_req q = {.method = "HEAD", .key = key};
    return request(s, &q, r, what);
}

/* ---- life cycle ------------------------------------------------------------ */

static int s3_create(bs_backend *b)
{
    s3fs *s = S(b);
    char *root = bs__s3_key(s, "");
    if (!root) return nomem();
    bool other, any;
    int rc = any_key(s, root, root, &other, &any, "create");
    if (!rc && other)
        rc = bs__error_set(BS_ERR_ALREADY_EXISTS, "s3: create: the store is not empty");
    if (!rc) rc = put_marker(s, "");
    free(root);
    return rc;
}

static int s3_open(bs_backend *b)
{
    s3fs *s = S(b);
    dirs_clear(s);
    char *root = bs__s3_key(s, "");
    if (!root) return nomem();
    bs_s3_resp r = {0};
    int rc = head(s, root, &r, "open");
    if (!rc && r.status == 200) {
        dir_add(s, "");
    } else if (!rc && r.status == 404) {
        /* A store laid out without a root marker still counts. */
        bool other, any;
        rc = any_key(s, root, NULL, &other, &any, "open");
        if (!rc && !any) rc = bs__error_set(BS_ERR_DOES_NOT_EXIST, "s3: open: no store there");
    } else if (!rc) {
        rc = bs__s3_error(&r, "open", "");
    }
    bs__s3_resp_free(&r);
    free(root);
    return rc;
}

static int s3_close(bs_backend *b)
{
    dirs_clear(S(b));
    return 0;
}

/* The body of a DeleteObjects request for the keys of a listing page. */
static int delete_body(bs_buf *out, const bs_s3_resp *page, size_t *count)
{
    static const char head_[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                                "<Delete><Quiet>true</Quiet>";
    *count = 0;
    if (bs__buf_append(out, head_, sizeof head_ - 1)) return BS_ERR_NOMEM;
    bs_s3_span in = body_span(page), c, k;
    while (bs__s3_xml_next(&in, "Contents", &c)) {
        /* The key goes back as the server wrote it: still XML-escaped. */
        if (!bs__s3_xml_next(&c, "Key", &k)) continue;
        if (bs__buf_append(out, "<Object><Key>", 13) || bs__buf_append(out, k.p, k.len) ||
            bs__buf_append(out, "</Key></Object>", 15))
            return BS_ERR_NOMEM;
        (*count)++;
    }
    return bs__buf_append(out, "</Delete>", 9) ? BS_ERR_NOMEM : 0;
}

static int s3_destroy(bs_backend *b)
{
    s3fs *s = S(b);
    char *root = bs__s3_key(s, "");
    if (!root) return nomem();
    int rc = 0;
    /* Pages of up to 1,000 keys, each deleted in one DeleteObjects; the
     * listing starts over after each, as the deleted keys are gone. */
    for (bool first = true;; first = false) {
        bs_s3_resp page = {0};
        rc = list_page(s, root, false, 1000, NULL, &page, "destroy", "");
        bs_buf body = {0};
        size_t count = 0;
        if (!rc && delete_body(&body, &page, &count)) rc = nomem();
        bs__s3_resp_free(&page);
        if (!rc && count == 0 && first)
            rc = bs__error_set(BS_ERR_DOES_NOT_EXIST, "s3: destroy: no store there");
        if (rc || count == 0) {
            bs__buf_free(&body);
            break;
        }
        char md5[32];
        bs__s3_md5_base64(md5, body.data, body.len);
        bs_s3_query del = {"delete", ""};
        bs_s3_req q = {.method = "POST", .query = &del, .n_query = 1, .body = body.data,
                       .body_len = body.len, .content_md5 = md5};
        bs_s3_resp r = {0};
        rc = request(s, &q, &r, "destroy");
        if (!rc && r.status != 200) rc = bs__s3_error(&r, "destroy", "");
        if (!rc) {
            bs_s3_span in = body_span(&r), e;
            if (bs__s3_xml_next(&in, "Error", &e)) {
                char code[64] = "";
                bs__s3_xml_text(e, "Code", code, sizeof code);
                rc = bs__error_set(BS_ERR_IO, "s3: destroy: a key was not deleted: %s", code);
            }
        }
        bs__s3_resp_free(&r);
        bs__buf_free(&body);
        if (rc) break;
    }
    dir_forget(s);
    free(root);
    return rc;
}

/* ---- directories ------------------------------------------------------------- */

static int s3_mkdir(bs_backend *b, const char *name)
{
    return ensure_dir(S(b), name);
}

static int s3_rmdir(bs_backend *b, const char *name)
{
    s3fs *s = S(b);
    char *prefix;
    if (asprintf(&prefix, "%s/%s/", s->cfg.path, name) < 0) return nomem();
    bs_s3_resp r = {0};
    int rc = list_page(s, prefix, true, 2, NULL, &r, "rmdir", name);
    if (!rc) {
        bs_s3_span in = body_span(&r), c;
        bool marker = false, other = false;
        char key[2048];
        while (bs__s3_xml_next(&in, "Contents", &c)) {
            if (bs__s3_xml_text(c, "Key", key, sizeof key) >= 0 && !strcmp(key, prefix))
                marker = true;
            else
                other = true;
        }
        in = body_span(&r);
        if (bs__s3_xml_next(&in, "CommonPrefixes", &c)) other = true;
        if (other)
            rc = bs__error_set(BS_ERR_IO, "s3: rmdir %s: directory not empty", name);
        else if (!marker)
            rc = bs__error_set(BS_ERR_NOT_FOUND, "s3: rmdir %s: no such directory", name);
    }
    bs__s3_resp_free(&r);
    if (!rc) {
        bs_s3_req q = {.method = "DELETE", .key = prefix};
        rc = request(s, &q, &r, "rmdir");
        if (!rc && r.status / 100 != 2) rc = bs__s3_error(&r, "rmdir", name);
        bs__s3_resp_free(&r);
        dir_forget(s);
    }
    free(prefix);
    return rc;
}

/* ---- items ------------------------------------------------------------------- */

static int s3_info(bs_backend *b, const char *name, bs_item_info *out)
{
    s3fs *s = S(b);
    memset(out, 0, sizeof *out);
    char *key = bs__s3_key(s, name), *dir = NULL;
    if (!key || asprintf(&dir, "%s/", key) < 0) {
        free(key);
        return nomem();
    }
    bs_s3_resp r = {0};
    int rc = head(s, key, &r, "info");
    if (!rc && r.status == 200) {
        out->exists = true;
        out->size = r.length > 0 ? (uint64_t)r.length : 0;
        out->mtime_ns = r.mtime_ns;
    } else if (!rc && r.status == 404) {
        rc = head(s, dir, &r, "info");
        if (!rc && r.status == 200) {
            out->exists = out->directory = true;
        } else if (!rc && r.status == 404) {
            /* A directory without a marker: keys below it. */
            bool other, any;
            rc = any_key(s, dir, NULL, &other, &any, "info");
            if (!rc) out->exists = out->directory = any;
        } else if (!rc) {
            rc = bs__s3_error(&r, "info", name);
        }
    } else if (!rc) {
        rc = bs__s3_error(&r, "info", name);
    }
    bs__s3_resp_free(&r);
    free(key);
    free(dir);
    return rc;
}

/* "bytes a-b/total" -> a; false when malformed. */
static bool range_start(const char *cr, int64_t *start)
{
    long long a, e;
    if (sscanf(cr, "bytes %lld-%lld/", &a, &e) != 2 || a < 0 || e < a) return false;
    *start = a;
    return true;
}

int bs__s3_range_header(char out[64], int64_t start, int64_t size)
{
    if (start == 0 && size < 0) return 0;
    if (size >= 0)
        snprintf(out, 64, "bytes=%lld-%lld", (long long)start, (long long)(start + size - 1));
    else
        snprintf(out, 64, "bytes=%lld-", (long long)start);
    return 1;
}

int bs__s3_load_reply(const bs_s3_resp *r, int64_t start, int64_t size, const char *name,
                      uint8_t **out, size_t *out_len)
{
    const uint8_t *p = r->body.data;
    size_t len = r->body.len;
    if (r->status == 416) {
        len = 0; /* the object exists (404 else): the range starts past its end */
    } else if (r->status == 200) {
        /* a server that ignored the range sent everything: cut it here */
        size_t off = (size_t)start < len ? (size_t)start : len;
        p += off;
        len -= off;
        if (size >= 0 && (uint64_t)size < len) len = (size_t)size;
    } else if (r->status == 206) {
        int64_t got;
        if (!range_start(r->content_range, &got) || got != start)
            return bs__error_set(BS_ERR_PROTOCOL, "s3: load %s: the server sent another range",
                                 name);
        if (size >= 0 && (uint64_t)size < len) len = (size_t)size;
    } else {
        return bs__s3_error(r, "load", name);
    }
    *out = malloc(len ? len : 1);
    if (!*out) return nomem();
    if (len) memcpy(*out, p, len);
    *out_len = len;
    return 0;
}

/* GET bytes [start, start + size) (size < 0: to the end) of key. A start
 * at or past the end gives no bytes. */
static int get_range(s3fs *s, const char *key, int64_t start, int64_t size, const char *name,
                     uint8_t **out, size_t *out_len)
{
    char range[64];
    bool ranged = bs__s3_range_header(range, start, size);
    bs_s3_req q = {.method = "GET", .key = key, .range = ranged ? range : NULL,
                   .limit = SIZE_MAX};
    bs_s3_resp r = {0};
    int rc = request(s, &q, &r, "load");
    if (!rc) rc = bs__s3_load_reply(&r, start, size, name, out, out_len);
    bs__s3_resp_free(&r);
    return rc;
}

static int s3_load(bs_backend *b, const char *name, int64_t offset, int64_t size,
                   uint8_t **out, size_t *out_len)
{
    s3fs *s = S(b);
    *out = NULL;
    *out_len = 0;
    char *key = bs__s3_key(s, name);
    if (!key) return nomem();
    int rc = 0;
    if (offset < 0 || size == 0) {
        /* The size first: no suffix ranges (servers differ on them), and a
         * start before the beginning is a range error. */
        bs_s3_resp r = {0};
        rc = head(s, key, &r, "load");
        if (!rc && r.status != 200) rc = bs__s3_error(&r, "load", name);
        int64_t total = r.length;
        bs__s3_resp_free(&r);
        if (!rc && offset < 0 && -offset > total)
            rc = bs__error_set(BS_ERR_READ_RANGE, "s3: load %s: offset %lld before the start",
                               name, (long long)offset);
        if (!rc && size == 0) {
            *out = malloc(1);
            rc = *out ? 0 : nomem();
        } else if (!rc) {
            offset += total;
        }
        if (rc || size == 0) {
            free(key);
            return rc;
        }
    }
    rc = get_range(s, key, offset, size, name, out, out_len);
    free(key);
    return rc;
}

static int s3_store(bs_backend *b, const char *name, const void *data, size_t len)
{
    s3fs *s = S(b);
    int rc = bs__s3_ensure_parent(s, name);
    if (rc) return rc;
    char *key = bs__s3_key(s, name);
    if (!key) return nomem();
    if (len > s->part_size)
        rc = bs__s3_multipart_put(s, key, data, len, name);
    else
        rc = put_object(s, key, data, len, "store", name);
    free(key);
    return rc;
}

/* DELETE of key; S3 answers 204 whether it existed or not. */
static int delete_key(s3fs *s, const char *key, const char *name)
{
    bs_s3_req q = {.method = "DELETE", .key = key};
    bs_s3_resp r = {0};
    int rc = request(s, &q, &r, "delete");
    if (!rc && r.status / 100 != 2 && r.status != 404) rc = bs__s3_error(&r, "delete", name);
    bs__s3_resp_free(&r);
    return rc;
}

static int s3_delete(bs_backend *b, const char *name)
{
    s3fs *s = S(b);
    char *key = bs__s3_key(s, name);
    if (!key) return nomem();
    bs_s3_resp r = {0};
    int rc = head(s, key, &r, "delete");
    if (!rc && r.status != 200) rc = bs__s3_error(&r, "delete", name);
    bs__s3_resp_free(&r);
    if (!rc) rc = delete_key(s, key, name);
    free(key);
    return rc;
}

static int s3_move(bs_backend *b, const char *cur, const char *dst)
{
    s3fs *s = S(b);
    int rc = bs__s3_ensure_parent(s, dst);
    if (rc) return rc;
    char *from = bs__s3_key(s, cur), *to = bs__s3_key(s, dst);
    if (!from || !to) {
        free(from);
        free(to);
        return nomem();
    }
    /* CopyObject then DeleteObject, as Python's: not atomic, and limited to
     * 5 GB per object (borg packs are far smaller). */
    bs_s3_req q = {.method = "PUT", .key = to, .copy_source = from};
    bs_s3_resp r = {0};
    rc = request(s, &q, &r, "move");
    if (!rc && r.status != 200) rc = bs__s3_error(&r, "move", cur);
    if (!rc) {
        /* A copy can fail after its 200 was sent: the error is the body. */
        bs_s3_span in = body_span(&r), e;
        if (bs__s3_xml_next(&in, "Error", &e)) {
            bs__s3_xml_text(e, "Code", r.code, sizeof r.code);
            rc = bs__error_set(BS_ERR_IO, "s3: move %s: copy failed: %s", cur, r.code);
        }
    }
    bs__s3_resp_free(&r);
    if (!rc && strcmp(from, to) != 0) rc = delete_key(s, from, cur);
    free(from);
    free(to);
    return rc;
}

/* ---- listing ------------------------------------------------------------------ */

static int push(bs_list_array *it, size_t *cap, const char *name, bool dir, uint64_t size,
                int64_t mtime)
{
    if (!bs__name_is_valid(name) || bs__ends_with(name, ".tmp") || strchr(name, '/')) return 0;
    if (strlen(name) >= BS_NAME_BUF) return 0;
    if (it->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        bs_item_info *n = realloc(it->items, nc * sizeof *n);
        if (!n) return nomem();
        it->items = n;
        *cap = nc;
    }
    bs_item_info *i = &it->items[it->n++];
    memset(i, 0, sizeof *i);
    strcpy(i->name, name);
    i->exists = true;
    i->directory = dir;
    i->size = dir ? 0 : size;
    i->mtime_ns = mtime;
    return 0;
}

static int list_into(s3fs *s, const char *name, bs_list_array *it)
{
    char *prefix;
    if (asprintf(&prefix, "%s/%s%s", s->cfg.path, name, *name ? "/" : "") < 0) return nomem();
    size_t plen = strlen(prefix), cap = 0;
    char *token = malloc(TOKEN_MAX), *key = malloc(TOKEN_MAX);
    int rc = token && key ? 0 : nomem();
    bool seen = false;
    if (!rc) token[0] = '\0';
    for (bool first = true; !rc && (first || token[0]); first = false) {
        bs_s3_resp r = {0};
        rc = list_page(s, prefix, true, 1000, token, &r, "list", name);
        if (!rc) {
            bs_s3_span in = body_span(&r), c;
            while (!rc && bs__s3_xml_next(&in, "Contents", &c)) {
                seen = true;
                uint64_t size = 0;
                char lm[64];
                int64_t mt = 0;
                if (bs__s3_xml_text(c, "Key", key, TOKEN_MAX) < (long)plen ||
                    strncmp(key, prefix, plen) != 0)
                    continue;
                bs__s3_xml_u64(c, "Size", &size);
                if (bs__s3_xml_text(c, "LastModified", lm, sizeof lm) > 0)
                    bs__rfc3339_to_ns(lm, &mt);
                if (key[plen]) rc = push(it, &cap, key + plen, false, size, mt);
            }
            in = body_span(&r);
            while (!rc && bs__s3_xml_next(&in, "CommonPrefixes", &c)) {
                seen = true;
                long n = bs__s3_xml_text(c, "Prefix", key, TOKEN_MAX);
                if (n <= (long)plen + 1 || strncmp(key, prefix, plen) != 0) continue;
                key[n - 1] = '\0'; /* the trailing '/' */
                rc = push(it, &cap, key + plen, true, 0, 0);
            }
            if (!rc) rc = next_token(&r, token, "list");
        }
        bs__s3_resp_free(&r);
    }
    if (!rc && !seen)
        rc = bs__error_set(BS_ERR_NOT_FOUND, "s3: list %s: no such directory", name);
    free(token);
    free(key);
    free(prefix);
    return rc;
}

static int s3_list_begin(bs_backend *b, const char *name, bs_list_iter **out)
{
    bs_list_array *it = bs__list_array_new();
    if (!it) return nomem();
    int rc = list_into(S(b), name, it);
    if (rc) {
        bs__list_array_free(it);
        return rc;
    }
    bs__list_array_sort(it);
    *out = &it->base;
    return 0;
}

static void s3_free(bs_backend *b)
{
    s3fs *s = S(b);
    dirs_clear(s);
    bs__s3_batch_free(s);
    bs__s3_http_free(&s->http);
    bs__s3_config_clear(&s->cfg);
    free(s);
}

static const bs_backend_ops s3_ops = {
    .version = BS_BACKEND_OPS_VERSION,
    .scheme = "s3",
    .create = s3_create,
    .destroy = s3_destroy,
    .open = s3_open,
    .close = s3_close,
    .mkdir = s3_mkdir,
    .rmdir = s3_rmdir,
    .info = s3_info,
    .load = s3_load,
    .store = s3_store,
    .delete = s3_delete,
    .move = s3_move,
    .list_begin = s3_list_begin,
    .hash = NULL,   /* generic: S3 has no server-side hash we could trust */
    .defrag = NULL, /* generic: load + store */
    .quota = NULL,
    .free = s3_free,
    .window = bs__s3_window,
    .batch = bs__s3_batch,
};

int bs__s3_new(bs_backend **out, const char *url, const bs_backend_config *cfg)
{
    *out = NULL;
    if (cfg->permissions && *cfg->permissions)
        return bs__error_set(BS_ERR_INVALID, "s3: does not enforce permissions (use the "
                                             "bucket's access policies)");
    if (cfg->quota) return bs__error_set(BS_ERR_INVALID, "s3: does not enforce a quota");
    s3fs *s = calloc(1, sizeof *s);
    if (!s) return nomem();
    int rc = bs__s3_config_parse(&s->cfg, url);
    if (!rc) rc = bs__s3_config_resolve(&s->cfg);
    if (!rc) rc = bs__s3_http_init(&s->http, &s->cfg);
    if (rc) {
        bs__s3_config_clear(&s->cfg);
        free(s);
        return rc;
    }
    const char *ps = getenv("BORGSTORE_S3_PART_SIZE");
    s->part_size = (size_t)64 << 20;
    if (ps && *ps) {
        char *end;
        unsigned long long v = strtoull(ps, &end, 10);
        if (!*end && v >= ((size_t)5 << 20)) s->part_size = (size_t)v;
    }
    s->base.ops = &s3_ops;
    *out = &s->base;
    return 0;
}

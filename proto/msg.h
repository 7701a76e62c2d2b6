/* Messages: the envelope of every frame, the method table, and the encoders
 * and decoders of each method's arguments and results. Decoders are pure
 * functions of a byte buffer (views into it, small fixed copies for
 * strings); encoders append to a bs_buf and can leave a value's bytes out so
 * the caller sends them from its own buffer (the frame's "tail"). */
#ifndef BS_PROTO_MSG_H
#define BS_PROTO_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "borgstore/backend.h"
#include "common/buf.h"
#include "proto/limits.h"

/* Frame kinds: element 0 of every envelope array. */
enum bs__kind {
    BS_KIND_REQ = 1,  /* [1, id, method, args-map] */
    BS_KIND_OK = 2,   /* [2, id, result-map] */
    BS_KIND_ERR = 3,  /* [3, id, wire-code, message] */
    BS_KIND_DATA = 4, /* [4, id, chunk-bin] or, last of a value, [4, id, chunk-bin, hash] */
    BS_KIND_LOG = 5,  /* [5, level, message] */
};

/* Method ids (never renumber; append). */
enum bs__method {
    BS_M_HELLO = 0,
    BS_M_PING = 1,
    BS_M_CREATE = 2,
    BS_M_DESTROY = 3,
    BS_M_OPEN = 4,
    BS_M_CLOSE = 5,
    BS_M_MKDIR = 6,
    BS_M_RMDIR = 7,
    BS_M_INFO = 8,
    BS_M_LOAD = 9,
    BS_M_STORE = 10,
    BS_M_DELETE = 11,
    BS_M_MOVE = 12,
    BS_M_LIST = 13,
    BS_M_LIST_NEXT = 14,
    BS_M_LIST_END = 15,
    BS_M_HASH = 16,
    BS_M_DEFRAG = 17,
    BS_M_QUOTA = 18,
    BS_M_COUNT
};

/* Method flags. */
#define BS_MF_PREOPEN 0x01       /* allowed while no store is open */
#define BS_MF_OPEN 0x02          /* needs an open store */
#define BS_MF_WRITES 0x04        /* changes the store: refused when read-only */
#define BS_MF_RETRY 0x08         /* safe to repeat after a lost connection */
#define BS_MF_GONE_IS_DONE 0x10  /* on a repeat, NOT_FOUND means it was done */

typedef struct bs__method_info {
    const char *name;
    unsigned flags;
    uint64_t required; /* mask of BS_K_* argument keys that must be present */
} bs__method_info;

/* Table entry of method m, or NULL when m is not a method. */
const bs__method_info *bs__method_get(uint64_t m);

/* Log levels (Python logging's numbers). */
#define BS_LOG_DEBUG 10
#define BS_LOG_INFO 20
#define BS_LOG_WARNING 30
#define BS_LOG_ERROR 40
#define BS_LOG_CRITICAL 50

/* Feature flags (hello "features"; unknown strings are ignored). */
#define BS_FEAT_INTEGRITY 0x01   /* "integrity": store/load carry BLAKE2b hashes */
#define BS_FEAT_LIST_CURSOR 0x02 /* "list-cursor": list_next / list_end */
#define BS_FEAT_LOG 0x04         /* "log": LOG frames */
#define BS_FEAT_MTIME 0x08       /* "mtime": list entries carry a 5th element, mtime */
#define BS_FEAT_ALL 0x0f
/* "feature" string -> flag; 0 when unknown. */
unsigned bs__feature_parse(const char *s, size_t len);

/* Argument / result keys (bit numbers in bs__method_info.required). */
enum bs__key {
    BS_K_NAME, BS_K_DST, BS_K_PATH, BS_K_OFFSET, BS_K_SIZE, BS_K_HASH, BS_K_DATA,
    BS_K_LIMIT, BS_K_AFTER, BS_K_CURSOR, BS_K_ALG, BS_K_SOURCES, BS_K_TARGET, BS_K_NS,
    BS_K_LEVELS, BS_K_VERSIONS, BS_K_IMPL, BS_K_FEATURES, BS_K_MAX_FRAME, BS_K_MAX_VALUE,
    BS_K_LOG_LEVEL, BS_K_VERSION, BS_K_MAX_INFLIGHT, BS_K_MAX_INFLIGHT_BYTES,
    BS_K_MAX_NAME, BS_K_LIST_PAGE, BS_K_MAX_DEFRAG, BS_K_PERMISSIONS, BS_K_QUOTA,
    BS_K_READ_ONLY, BS_K_PINNED, BS_K_EXISTS, BS_K_DIR, BS_K_ATIME, BS_K_HEX,
    BS_K_ENTRIES, BS_K_USAGE, BS_K_MTIME, BS_K_COUNT
};
#define BS_KBIT(k) (1ull << (k))

/* Decoded envelope of one frame. Views point into the frame. */
typedef struct bs__env {
    unsigned kind;
    uint32_t id;        /* REQ, OK, ERR, DATA */
    uint64_t method;    /* REQ (unchecked: may be unknown) */
    const uint8_t *body; /* REQ args / OK result: the map's bytes */
    size_t body_len;
    unsigned code;      /* ERR: wire code (unchecked) */
    unsigned level;     /* LOG */
    const char *text;   /* ERR, LOG message (not NUL-terminated) */
    size_t text_len;
    const uint8_t *data; /* DATA chunk */
    size_t data_len;
    const uint8_t *hash; /* DATA: the value's hash (last chunk only), or NULL */
} bs__env;

/* Decodes the envelope of a frame's msgpack bytes: one array of the kind's
 * shape, nothing after it. The body map of REQ/OK is checked for structure
 * (counts, depth) but not decoded. 0 or BS_ERR_PROTOCOL. */
int bs__env_decode(const uint8_t *frame, size_t len, bs__env *out);

/* What hello carries in either direction. */
typedef struct bs__hello {
    uint32_t versions;      /* request: bit v set for each version offered */
    uint32_t version;       /* result: the version chosen */
    char impl[BS_IMPL_MAX]; /* "borgstore-c 0.1.0" */
    unsigned features;      /* BS_FEAT_* */
    uint32_t max_frame;     /* largest frame the sender accepts */
    uint64_t max_value;     /* largest value the sender accepts */
    uint32_t log_level;     /* request: in-band log threshold */
    /* result only */
    uint32_t max_inflight;
    uint64_t max_inflight_bytes;
    uint32_t max_name;
    uint32_t list_page;
    uint32_t max_defrag;
    char permissions[1024]; /* "" when none */
    uint64_t quota;         /* 0: none enforced */
    bool read_only;
    bool pinned;
} bs__hello;

/* A request. For encoding the caller fills the pointer fields; decoding
 * copies strings into the buffers below and points at them, and leaves
 * views into the frame for data, hash and the defrag sources. */
typedef struct bs__req {
    uint32_t id;
    uint32_t method;
    uint64_t present;    /* decode: BS_KBIT of each key seen */
    const char *name;
    const char *dst;     /* move: target name */
    const char *target;  /* defrag: target name or NULL */
    const char *path;    /* create / destroy / open */
    const char *alg;     /* hash, defrag: algorithm name or NULL */
    const char *ns;      /* defrag namespace or NULL */
    const char *after;   /* list: start after this name, or NULL */
    int64_t offset;      /* load (default 0) */
    int64_t size;        /* load: BS_SIZE_ALL or >= 0; store: value size */
    const uint8_t *hash; /* store, inline value only: BS_VALUE_HASH_LEN bytes */
    const uint8_t *data; /* store / ping: inline bytes (has_data) */
    size_t data_len;
    bool has_data;
    uint64_t cursor;     /* list_next, list_end */
    uint32_t limit;      /* list, list_next: 0 = server default */
    uint32_t levels;     /* defrag */
    /* defrag: encode from sources[0..n_sources); decode gives raw bytes to
     * walk with bs__defrag_source_next and the count. */
    const bs_defrag_source *sources;
    size_t n_sources;
    const uint8_t *sources_raw;
    size_t sources_raw_len;
    bs__hello hello;
    char name_buf[BS_NAME_BUF], dst_buf[BS_NAME_BUF], target_buf[BS_NAME_BUF];
    char ns_buf[BS_NAME_BUF], after_buf[BS_NAME_BUF], alg_buf[16];
    char path_buf[BS_PATH_MAX];
} bs__req;

/* A result (OK body). Same conventions as bs__req. */
typedef struct bs__result {
    uint64_t present;
    bs_item_info info;     /* info: exists, directory, size, atime_ns */
    uint64_t value_size;   /* load: bytes of the value sent */
    const uint8_t *hash;   /* load, inline value only */
    const uint8_t *data;   /* load / ping inline bytes */
    size_t data_len;
    bool has_data;
    char hex[BS_HASH_HEX_SIZE];  /* hash */
    char name[BS_NAME_BUF];      /* defrag */
    bs_quota quota;              /* quota */
    /* list: encode from entries[0..n_entries); decode gives raw bytes to
     * walk with bs__list_entry_next and the count. */
    const bs_item_info *entries;
    size_t n_entries;
    bool entries_mtime;          /* list: encode 5-element entries (peer has "mtime") */
    const uint8_t *entries_raw;
    size_t entries_raw_len;
    uint64_t cursor;             /* list: has_cursor when more pages wait */
    bool has_cursor;
    bs__hello hello;
} bs__result;

/* Decodes a request body (map) for method. Checks every known key's type,
 * that required keys are there, string lengths, and that strings hold no
 * NUL. Unknown keys are skipped. Returns 0, BS_ERR_PROTOCOL (type/structure)
 * or BS_ERR_INVALID (a value out of range, e.g. a name too long). */
int bs__req_decode(bs__req *out, uint64_t method, const uint8_t *body, size_t len);

/* Decodes a result body for the method that was asked. 0, BS_ERR_PROTOCOL. */
int bs__result_decode(bs__result *out, uint32_t method, const uint8_t *body, size_t len);

/* Walkers over decoded list entries / defrag sources: 1 with the next item,
 * 0 at the end, BS_ERR_PROTOCOL / BS_ERR_INVALID. *pos starts at 0. */
int bs__list_entry_next(const bs__result *res, size_t *pos, bs_item_info *out);
int bs__defrag_source_next(const bs__req *req, size_t *pos, char name[BS_NAME_BUF],
                           uint64_t *offset, uint64_t *size);

/* Encoders: append one frame to out (max_frame = the peer's limit).
 * With inline_tail, a store's / load's / ping's data is announced as the
 * last element but its bytes are left for the caller to send right after
 * (*tail = their count); otherwise the data is not sent inline at all. */
int bs__enc_req(bs_buf *out, const bs__req *r, uint32_t max_frame, bool inline_tail,
                size_t *tail);
int bs__enc_ok(bs_buf *out, uint32_t id, uint32_t method, const bs__result *res,
               uint32_t max_frame, bool inline_tail, size_t *tail);
int bs__enc_err(bs_buf *out, uint32_t id, int code, const char *msg);
/* A DATA frame header for a chunk of chunk_len bytes that follow. */
int bs__enc_data(bs_buf *out, uint32_t id, size_t chunk_len, uint32_t max_frame);
/* The header of a value's last DATA frame: the chunk_len bytes, then the
 * BS_DATA_TRAILER_LEN bytes of bs__data_trailer follow. */
int bs__enc_data_last(bs_buf *out, uint32_t id, size_t chunk_len, uint32_t max_frame);
#define BS_DATA_TRAILER_LEN (2 + BS_VALUE_HASH_LEN)
/* The hash element that ends a value's last DATA frame (msgpack bin8). */
void bs__data_trailer(uint8_t out[BS_DATA_TRAILER_LEN], const uint8_t hash[BS_VALUE_HASH_LEN]);
int bs__enc_log(bs_buf *out, unsigned level, const char *msg);

/* Largest DATA chunk (room for the header and a trailing hash) / inline
 * value for a peer accepting max_frame. */
static inline size_t bs__chunk_max(uint32_t max_frame) { return max_frame - 64; }
static inline size_t bs__inline_max(uint32_t max_frame)
{
    return max_frame - BS_FRAME_OVERHEAD;
}

/* BLAKE2b-256 of a value (the integrity hash). */
void bs__value_hash(uint8_t out[BS_VALUE_HASH_LEN], const void *data, size_t len);

#endif

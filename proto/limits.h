/* Protocol constants: preamble, version, and every limit on untrusted input
 * with its default. Both sides enforce these before allocating anything; the
 * negotiated values travel in the hello exchange (docs/protocol.md). */
#ifndef BS_PROTO_LIMITS_H
#define BS_PROTO_LIMITS_H

#include <stdint.h>

/* Preamble each side sends first: 7 magic bytes, then its highest protocol
 * version. 0x89 is not text, so a shell banner never matches by accident. */
#define BS_PROTO_MAGIC "\x89" "BSTORE"
#define BS_PROTO_MAGIC_LEN 7
#define BS_PROTO_PREAMBLE_LEN 8
#define BS_PROTO_VERSION 2

/* Frame length prefix (big-endian u32). */
#define BS_FRAME_HEADER 4
/* Every peer accepts frames of this size; used until hello completes. */
#define BS_FRAME_MIN 65536u
/* Hard ceiling for a negotiated max frame. */
#define BS_FRAME_CEIL (64u * 1024 * 1024)
/* Default largest frame a peer accepts. */
#define BS_FRAME_DEFAULT (1024u * 1024)
/* Room a frame needs besides a DATA chunk or inline value: envelope, keys,
 * hash and headers (generous; the encoders stay well below it). */
#define BS_FRAME_OVERHEAD 512u

/* Largest value (store body, load reply) by default, and the ceiling. */
#define BS_VALUE_DEFAULT (256ull * 1024 * 1024)
#define BS_VALUE_CEIL (16ull * 1024 * 1024 * 1024)

/* Requests in flight (sent, not yet fully answered) and their bytes. */
#define BS_INFLIGHT_DEFAULT 128u
#define BS_INFLIGHT_CEIL 4096u
#define BS_INFLIGHT_BYTES_DEFAULT (16u * 1024 * 1024)

/* Entries per list page, by default and at most. */
#define BS_LIST_PAGE_DEFAULT 1000u
#define BS_LIST_PAGE_CEIL 10000u
/* Open list cursors the server keeps per connection. */
#define BS_LIST_CURSORS 8u

/* Blocks in one defrag request. */
#define BS_DEFRAG_MAX 4096u

/* Longest path (create/open/destroy) and other strings on the wire. */
#define BS_PATH_MAX 4096u
#define BS_MESSAGE_MAX 1024u /* error and log messages (longer are cut) */
#define BS_IMPL_MAX 64u      /* implementation names in hello */
#define BS_FEATURES_MAX 32u  /* feature strings in hello */

/* Nesting depth of any msgpack value (ours need 4). */
#define BS_MP_DEPTH_MAX 8

/* Integrity hash of values: BLAKE2b with a 32-byte digest, no key. */
#define BS_VALUE_HASH_LEN 32

#endif

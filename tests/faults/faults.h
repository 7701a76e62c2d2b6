/* Shared by the fault-injection and concurrency tests: a private mount
 * namespace with small or read-only filesystems (these tests run as root;
 * anything else is a failed setup, not a skip), self-describing values that
 * show whether what was read is exactly one value that was written, and a
 * raw look at a store's directory tree (temp files, the usage on disk). */
#ifndef BS_TESTS_FAULTS_H
#define BS_TESTS_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Moves this process (and its children) into a mount namespace of its own,
 * so mounts vanish with it. Fails the test when that is not permitted. */
void ft_private_mounts(void);

/* Mounts a tmpfs of the given size at dir/name (created) and returns that
 * path (malloc'd). */
char *ft_tmpfs(const char *dir, const char *name, size_t bytes);

/* Unmounts path (lazily, so open files do not stand in the way). */
void ft_unmount(const char *path);

/* Remounts the filesystem at path read-only (ro) or read-write. */
void ft_remount(const char *path, bool ro);

/* Value len (>= FT_VALUE_MIN) bytes for id (non-zero): a header naming id
 * and len, then bytes derived from id. */
#define FT_VALUE_MIN 24
void ft_value(uint8_t *buf, size_t len, uint64_t id);

/* The id of buf when it is exactly ft_value(id, len), else 0 (torn, cut,
 * mixed or foreign). */
uint64_t ft_value_id(const uint8_t *buf, size_t len);

/* Walks the tree under dir: the bytes of regular files that count for the
 * quota (not *.tmp, not *.hid) and how many *.tmp files lie around. served:
 * what borgstore-serve's --quota counts (each of those files at least 4096
 * bytes, each directory below dir 4096). */
typedef struct ft_tree {
    int64_t usage;
    int64_t served;
    size_t tmp_files;
    size_t files;
} ft_tree;
ft_tree ft_scan(const char *dir);

/* Sets BORGSTORE_REMOTE_PATH to the built borgstore-serve (plus extra
 * words, may be NULL) for serve:// URLs. */
void ft_use_built_server(const char *extra);

/* Microseconds since an arbitrary start. */
uint64_t ft_now_us(void);

/* xorshift64*: deterministic pseudo-random numbers for a test. */
uint64_t ft_rand(uint64_t *state);

#endif

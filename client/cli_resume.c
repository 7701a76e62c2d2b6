/* import/export --resume and --checksum: whether an item is already at its
 * target, so a transfer run again goes on where it stopped (like rclone
 * copy). Equal sizes decide; --checksum also compares SHA-256 digests, the
 * store's computed where the value is (bs_store_hash: over ssh:// the value
 * does not travel). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "client/cli.h"
#include "common/hashing.h"

#define READ_CHUNK ((size_t)1 << 20)

/* Hex SHA-256 of the regular file at path (symlinks not followed). */
static int file_sha256(const char *path, char hex[BS_HASH_HEX_SIZE])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return -1;
    static uint8_t buf[READ_CHUNK];
    bs_hash_ctx h;
    bs__hash_init(&h, BS_HASH_SHA256);
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            close(fd);
            return -1;
        }
        if (n == 0) break;
        bs__hash_update(&h, buf, (size_t)n);
    }
    close(fd);
    uint8_t digest[BS_HASH_MAX_BYTES];
    bs__hex(hex, digest, bs__hash_final(&h, digest));
    return 0;
}

bool cli_resume_same(bs_store *s, const cli_opts *o, const char *name, const char *path,
                     uint64_t local_size, uint64_t store_size)
{
    if (local_size != store_size) return false;
    if (!o->checksum) return true;
    /* a digest that cannot be had means "transfer it": the transfer then
     * reports whatever is wrong */
    char local[BS_HASH_HEX_SIZE], stored[BS_HASH_HEX_SIZE];
    if (file_sha256(path, local)) return false;
    if (bs_store_hash(s, name, BS_HASH_SHA256, false, stored)) return false;
    return !strcmp(local, stored);
}

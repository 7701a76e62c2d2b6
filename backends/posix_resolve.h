/* Resolving item names beneath a store's base directory fd, so that no name
 * (and no symlink planted inside the store) can reach outside of it.
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) when the kernel has it,
 * else a component walk with openat(O_NOFOLLOW) that refuses every symlink.
 * These helpers behave like system calls: they return an fd (or 0) and -1
 * with errno set; EXDEV and ELOOP mean "would leave the store / symlink". */
#ifndef BS_BACKENDS_POSIX_RESOLVE_H
#define BS_BACKENDS_POSIX_RESOLVE_H

#include <stdbool.h>
#include <sys/types.h>

/* Opens rel ("" or "." = the base itself) beneath basefd with open flags
 * (O_CLOEXEC is always added) and mode. O_NOFOLLOW in flags applies to the
 * last component. Returns the fd or -1 with errno. */
int bs__beneath_open(int basefd, const char *rel, int flags, mode_t mode);

/* mkdir -p of rel beneath basefd (mode 0777 & ~umask for new directories);
 * existing directories are fine. Returns an O_PATH fd of the directory or -1
 * with errno. With do_fsync, the parent of every created directory is
 * fsynced. *created (may be NULL) counts the directories this call made. */
int bs__beneath_mkdirs(int basefd, const char *rel, bool do_fsync, unsigned *created);

/* fsync of the directory dirfd refers to (works for O_PATH fds).
 * 0 or -1 with errno. */
int bs__fsync_dir(int dirfd);

/* Whether openat2 is used (false after ENOSYS or when forced off). */
bool bs__beneath_uses_openat2(void);

/* Test hook: force the openat fallback walk even when openat2 exists. */
void bs__beneath_force_fallback(bool on);

#endif

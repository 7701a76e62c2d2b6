/* Races against the place a store is served from: a second process (the
 * client's other connection, or another local user) swaps a component of
 * the store path between a real directory and a symlink to the outside,
 * while borgstore-serve opens, destroys and creates stores at that path.
 * Before the store was placed through held directory handles this escaped
 * --restrict-to-path within a few hundred tries. Bounded in count and time. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "tests/helpers/testutil.h"

#define TRIES 3000
#define SECONDS 20

static char *dir;

static void setup(void) { dir = bs_test_tmpdir(); }
static void teardown(void)
{
    bs_test_rmtree(dir);
    free(dir);
}

TestSuite(race, .init = setup, .fini = teardown, .timeout = 120);

static const char *P(const char *rel)
{
    static char buf[8][4096];
    static int i;
    i = (i + 1) % 8;
    snprintf(buf[i], sizeof buf[i], "%s/%s", dir, rel);
    return buf[i];
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

/* Exchanges a and b as fast as it can, for at most SECONDS + 10 s. */
static pid_t start_flipper(const char *a, const char *b)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        time_t end = time(NULL) + SECONDS + 10;
        while (time(NULL) < end)
            for (int i = 0; i < 1000; i++) renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
        _exit(0);
    }
    return pid;
}

static void stop_flipper(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

Test(race, a_swapped_component_never_leads_outside_the_restriction)
{
    /* outside: a store with a secret; alice/x: a real directory, alice/y: a
     * symlink to outside, the two swapped all the time */
    cr_assert_eq(mkdir(P("outside"), 0700), 0);
    cr_assert_eq(mkdir(P("outside/s"), 0700), 0);
    write_file(P("outside/s/secret"), "SECRET");
    cr_assert_eq(mkdir(P("alice"), 0700), 0);
    cr_assert_eq(mkdir(P("alice/x"), 0700), 0);
    cr_assert_eq(mkdir(P("alice/x/s"), 0700), 0);
    write_file(P("alice/x/s/secret"), "inside");
    cr_assert_eq(symlink(P("outside"), P("alice/y")), 0);

    const char *args[] = {"--restrict-to-path", P("alice"), NULL};
    srv s;
    srv_start(&s, args, dir, false);
    srv_handshake(&s);
    pid_t flipper = start_flipper(P("alice/x"), P("alice/y"));

    int read_out = 0, destroyed_out = 0, created_out = 0, opened = 0, tries = 0;
    time_t end = time(NULL) + SECONDS;
    for (; tries < TRIES && time(NULL) < end; tries++) {
        if (srv_open(&s, "open", P("alice/x/s")) == 0) {
            opened++;
            uint8_t *v;
            size_t len;
            if (srv_load(&s, "secret", 0, BS_SIZE_ALL, &v, &len) == 0) {
                if (len == 6 && !memcmp(v, "SECRET", 6)) read_out++;
                free(v);
            }
            bs__req r = {.method = BS_M_CLOSE};
            bs__result res;
            cr_assert_eq(srv_call(&s, &r, &res), 0, "%s", srv_last_error);
        }
        srv_open(&s, "destroy", P("alice/x/s"));
        if (access(P("outside/s/secret"), F_OK) != 0) destroyed_out++;
        srv_open(&s, "create", P("alice/x/n"));
        if (access(P("outside/n"), F_OK) == 0) created_out++;
        srv_open(&s, "create", P("alice/x/s")); /* again for the next open */
        if (read_out || destroyed_out || created_out) break;
    }
    stop_flipper(flipper);
    cr_assert_eq(srv_stop(&s), 0);
    cr_assert_eq(read_out, 0, "read the outside secret (try %d)", tries);
    cr_assert_eq(destroyed_out, 0, "destroyed the outside store (try %d)", tries);
    cr_assert_eq(created_out, 0, "created a directory outside (try %d)", tries);
    cr_assert_gt(opened, 0, "the store inside was never opened in %d tries", tries);
}

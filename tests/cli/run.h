/* Running the borgstore binary from tests: feed stdin, collect stdout and
 * stderr (all at once through poll, so large values in both directions
 * cannot deadlock), and the exit status. */
#ifndef BS_TEST_CLI_RUN_H
#define BS_TEST_CLI_RUN_H

#include <stdbool.h>
#include <stddef.h>

typedef struct run_result {
    int status; /* exit status, or 128 + signal */
    char *out;  /* NUL-terminated (binary safe with out_len) */
    size_t out_len;
    char *err;
    size_t err_len;
} run_result;

/* Runs argv (argv[0] = program path, NULL-terminated) with in[0..in_len) on
 * stdin. With stderr_tty, stderr is a pseudo-terminal (what it shows is in
 * err). Aborts the test on setup failures. */
void run_argv(run_result *r, const void *in, size_t in_len, bool stderr_tty,
              const char *const argv[]);

/* Runs argv with stdin and stderr on one pseudo-terminal (a user at a
 * terminal): answer (may be NULL) is typed into it at once; what the terminal
 * shows (the echo included) lands in err. stdout is a pipe. */
void run_pty(run_result *r, const char *answer, const char *const argv[]);

void run_free(run_result *r);

/* run_argv with the borgstore binary as argv[0]. */
#define BS(r, in, in_len, ...)                                                          \
    do {                                                                                \
        const char *argv_[] = {bs_cli_path(), __VA_ARGS__, NULL};                       \
        run_argv((r), (in), (in_len), false, argv_);                                    \
    } while (0)

const char *bs_cli_path(void);

#endif

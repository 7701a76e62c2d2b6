/* The CLI's cache options (cli_cache.c): --cache URL and repeatable
 * --cache-ns NS=MODE[,max-age=SECONDS][,size=BYTES][,verify]. */
#ifndef BS_CLIENT_CLI_CACHE_H
#define BS_CLIENT_CLI_CACHE_H

#include "borgstore/borgstore.h"

/* If argv[*i] is a cache option (--opt VALUE or --opt=VALUE), takes it (and
 * its value, advancing *i) and returns 0, or CLI_USAGE after a message.
 * Returns -1 when argv[*i] is no cache option. */
int cli_cache_arg(int argc, char **argv, int *i);

/* Gives s the cache the options asked for (nothing without any). Returns 0
 * or an exit status after a message. */
int cli_cache_apply(bs_store *s);

#endif

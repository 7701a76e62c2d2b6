/* The CLI's cache options: --cache URL and --cache-ns NS=MODE[,...] (parsed
 * by bs_cache_namespace_parse), collected while the command line is read and
 * applied to the store before it opens. */
#include "client/cli_cache.h"

#include <string.h>

#include "client/cli.h"

static const char *cache_url;
static bs_cache_namespace policies[CLI_NS_MAX];
static char prefixes[CLI_NS_MAX][BS_NAME_BUF];
static size_t n_policies;

int cli_cache_arg(int argc, char **argv, int *i)
{
    static const char *const opts[] = {"--cache", "--cache-ns"};
    const char *a = argv[*i], *value = NULL;
    int which = -1;
    for (int k = 0; k < 2 && which < 0; k++) {
        size_t n = strlen(opts[k]);
        if (strncmp(a, opts[k], n) || (a[n] != '\0' && a[n] != '=')) continue;
        which = k;
        if (a[n] == '=') value = a + n + 1;
        else if (*i + 1 < argc) value = argv[++*i];
        else return cli_usage("%s needs a value", opts[k]);
    }
    if (which < 0) return -1;
    if (which == 0) {
        if (!*value) return cli_usage("--cache needs a URL");
        cache_url = value;
        return 0;
    }
    if (n_policies == CLI_NS_MAX) return cli_usage("too many --cache-ns (max %d)", CLI_NS_MAX);
    bs_cache_namespace *p = &policies[n_policies];
    if (bs_cache_namespace_parse(p, prefixes[n_policies], value))
        return cli_usage("--cache-ns: %s", bs_error_message());
    for (size_t k = 0; k < n_policies; k++)
        if (!strcmp(policies[k].prefix, p->prefix))
            return cli_usage("--cache-ns given twice for '%s'", value);
    n_policies++;
    return 0;
}

int cli_cache_apply(bs_store *s)
{
    if (!cache_url && !n_policies) return 0;
    if (!cache_url) return cli_usage("--cache-ns needs --cache URL");
    if (!n_policies) return cli_usage("--cache needs at least one --cache-ns");
    bs_cache_config cc = {.url = cache_url, .namespaces = policies, .n_namespaces = n_policies};
    int rc = bs_store_set_cache(s, &cc);
    if (rc) return rc == BS_ERR_URL_INVALID ? (cli_fail(rc), CLI_USAGE) : cli_fail(rc);
    return 0;
}

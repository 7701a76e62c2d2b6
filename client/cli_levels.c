/* ls after a nesting-level change: the Store's listing finds items on every
 * nesting level (as Python borgstore's does), but get, info and rm look only
 * on the configured levels. ls counts the items found elsewhere and says so,
 * with the --levels that reaches them. */
#include <stdio.h>
#include <string.h>

#include "client/cli.h"

void cli_levels_start(cli_levels *l, const bs_store_namespace *c, const char *ns)
{
    memset(l, 0, sizeof *l);
    snprintf(l->ns, sizeof l->ns, "%s", ns);
    if (!c) return;
    for (size_t i = 0; i < c->nlevels; i++)
        if (c->levels[i] >= 0 && c->levels[i] < 32) l->configured |= 1u << c->levels[i];
    l->active = true;
}

void cli_levels_see(cli_levels *l, const char *dir, const char *key)
{
    if (!l->active) return;
    size_t nl = strlen(l->ns);
    if (strncmp(dir, l->ns, nl) || (dir[nl] && dir[nl] != '/')) return;
    /* nesting directories hold two characters of the key each, in order
     * ("data/00/11/00112233"); any other directory is a namespace of its
     * own, not nesting */
    unsigned depth = 0;
    size_t at = 0;
    for (const char *p = dir + nl; *p;) {
        p++; /* '/' */
        size_t n = strcspn(p, "/");
        if (n != 2 || strncmp(p, key + at, 2) || strlen(key) < at + 2) return;
        at += 2;
        depth++;
        p += n;
    }
    if (depth < 32 && (l->configured >> depth) & 1u) return;
    l->unreachable++;
    if (depth < 32) l->found |= 1u << depth;
}

/* "1,2" of the levels in mask. */
static void level_list(char *out, size_t cap, unsigned mask)
{
    size_t len = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < 32 && len + 4 < cap; i++)
        if ((mask >> i) & 1u)
            len += (size_t)snprintf(out + len, cap - len, "%s%u", len ? "," : "", i);
}

void cli_levels_note(const cli_levels *l)
{
    if (!l->unreachable) return;
    char found[100], configured[100], both[100];
    level_list(found, sizeof found, l->found);
    level_list(configured, sizeof configured, l->configured);
    level_list(both, sizeof both, l->found | l->configured);
    bool one = l->unreachable == 1;
    fprintf(stderr,
            "borgstore: note: %llu item%s listed in %s/ %s on nesting level%s %s, but %s/ is "
            "opened with level%s %s: get, info and rm do not find %s. Give the levels the store "
            "was written with (--levels %s=%s), or all while moving items (--levels %s=%s).\n",
            (unsigned long long)l->unreachable, one ? "" : "s", l->ns, one ? "is" : "are",
            strchr(found, ',') ? "s" : "", found, l->ns, strchr(configured, ',') ? "s" : "",
            configured, one ? "it" : "them", l->ns, found, l->ns, both);
}

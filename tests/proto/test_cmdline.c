/* Shell-like word splitting for BORGSTORE_RSH / BORGSTORE_REMOTE_PATH and
 * SSH_ORIGINAL_COMMAND: quotes, escapes, and the malformed cases. */
#include <criterion/criterion.h>
#include <string.h>

#include "borgstore/errors.h"
#include "proto/cmdline.h"

static void check(const char *in, const char *const *want)
{
    char **argv;
    size_t argc;
    cr_assert_eq(bs__split_words(&argv, &argc, in), 0, "%s", in);
    size_t n = 0;
    while (want[n]) n++;
    cr_assert_eq(argc, n, "word count of <%s>", in);
    for (size_t i = 0; i < n; i++) cr_assert_str_eq(argv[i], want[i], "word %zu of <%s>", i, in);
    cr_assert_null(argv[n]);
    bs__argv_free(argv);
}

Test(cmdline, plain_words_and_blanks)
{
    check("ssh", (const char *[]){"ssh", NULL});
    check("  ssh   -J  jump\t-v\n", (const char *[]){"ssh", "-J", "jump", "-v", NULL});
    check("", (const char *[]){NULL});
    check("   ", (const char *[]){NULL});
}

Test(cmdline, quotes_and_escapes)
{
    check("ssh -o 'ProxyCommand nc %h %p'", (const char *[]){"ssh", "-o", "ProxyCommand nc %h %p", NULL});
    check("a\"b c\"d", (const char *[]){"ab cd", NULL});
    check("\"x \\\"y\\\" \\\\ \\z\"", (const char *[]){"x \"y\" \\ \\z", NULL});
    check("a\\ b", (const char *[]){"a b", NULL});
    check("'' \"\"", (const char *[]){"", "", NULL});
    check("'it'\\''s'", (const char *[]){"it's", NULL});
}

Test(cmdline, malformed_input_is_refused)
{
    char **argv = (char **)1;
    size_t argc = 9;
    cr_assert_eq(bs__split_words(&argv, &argc, "ssh 'open"), BS_ERR_INVALID);
    cr_assert_null(argv);
    cr_assert_eq(argc, 0);
    cr_assert_eq(bs__split_words(&argv, &argc, "ssh \"open"), BS_ERR_INVALID);
    cr_assert_eq(bs__split_words(&argv, &argc, "ssh \\"), BS_ERR_INVALID);
    char many[2000] = "";
    for (int i = 0; i < 300; i++) strcat(many, "w ");
    cr_assert_eq(bs__split_words(&argv, &argc, many), BS_ERR_INVALID, "more than 256 words");
}

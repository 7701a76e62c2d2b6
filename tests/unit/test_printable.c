/* common/printable: untrusted bytes rendered for logs and messages. */
#include <criterion/criterion.h>
#include <string.h>

#include "common/printable.h"

Test(printable, control_and_non_ascii_bytes_are_escaped)
{
    char out[64];
    static const char in[] = "a\nb\x1b[2J\xff\\c";
    size_t n = bs__printable(out, sizeof out, in, sizeof in - 1);
    cr_assert_str_eq(out, "a\\x0ab\\x1b[2J\\xff\\c");
    cr_assert_eq(n, strlen(out));
}

Test(printable, a_nul_byte_inside_is_escaped_too)
{
    char out[16];
    bs__printable(out, sizeof out, "a\0b", 3);
    cr_assert_str_eq(out, "a\\x00b");
}

Test(printable, output_is_cut_at_a_whole_escape)
{
    char out[6];
    bs__printable(out, sizeof out, "ab\x01", 3);
    cr_assert_str_eq(out, "ab", "no half escape");
    bs__printable_str(out, sizeof out, NULL);
    cr_assert_str_eq(out, "(null", "cut to the buffer");
}

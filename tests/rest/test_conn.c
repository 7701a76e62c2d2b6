/* The REST responses (server/rest/conn.c): the error mapping and Python's
 * error shape, for the codes a pipe test cannot provoke (412 must be open /
 * must not be open: the server opens the backend per request). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/rest/rest.h"

/* The bytes rest_send_error writes for code and msg. */
static char *error_bytes(int code, const char *msg, bs_http_method method)
{
    static serve_opts o;
    static serve s;
    s.opt = &o;
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    rest_conn c = {.s = &s, .out_fd = fds[1]};
    c.req.method = method;
    cr_assert_eq(rest_send_error(&c, rest_status_for(code), msg), 0);
    close(fds[1]);
    char *out = calloc(1, 65536);
    size_t n = 0;
    ssize_t r;
    while ((r = read(fds[0], out + n, 65535 - n)) > 0) n += (size_t)r;
    close(fds[0]);
    return out;
}

Test(rest_conn, must_be_open_is_412_with_the_words_in_reason_and_body)
{
    char *r = error_bytes(BS_ERR_MUST_BE_OPEN, "backend must be open", BS_HTTP_GET);
    cr_assert(!strncmp(r, "HTTP/1.1 412 backend must be open\r\n", 35), "%s", r);
    cr_assert_not_null(strstr(r, "<p>Message: backend must be open.</p>"));
    free(r);
    r = error_bytes(BS_ERR_MUST_NOT_BE_OPEN, "backend must not be open", BS_HTTP_POST);
    cr_assert(!strncmp(r, "HTTP/1.1 412 backend must not be open\r\n", 39), "%s", r);
    cr_assert_not_null(strstr(r, "must not be open"));
    free(r);
}

Test(rest_conn, error_mapping_follows_python_borgstore)
{
    static const struct {
        int code, status;
    } map[] = {
        {BS_ERR_NOT_FOUND, 404},   {BS_ERR_DOES_NOT_EXIST, 410}, {BS_ERR_ALREADY_EXISTS, 409},
        {BS_ERR_PERMISSION, 403},  {BS_ERR_QUOTA, 507},          {BS_ERR_READ_RANGE, 416},
        {BS_ERR_INVALID, 400},     {BS_ERR_IO, 500},             {BS_ERR_INTEGRITY, 500},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        cr_assert_eq(rest_status_for(map[i].code), map[i].status, "code %d", map[i].code);
}

Test(rest_conn, a_head_error_has_content_length_but_no_body_and_no_line_breaks_leak)
{
    char *r = error_bytes(BS_ERR_NOT_FOUND, "data/x\r\nX-Evil: 1", BS_HTTP_HEAD);
    cr_assert_null(strstr(r, "\r\nX-Evil"), "%s", r);
    cr_assert_not_null(strstr(r, "Content-Length: "));
    cr_assert_not_null(strstr(r, "Connection: close\r\n"));
    const char *end = strstr(r, "\r\n\r\n");
    cr_assert_not_null(end);
    cr_assert_eq(end[4], '\0', "a HEAD error carries no body");
    free(r);
}

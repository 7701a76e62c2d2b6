/* The error table: fixed wire numbers, names, per-thread messages, errno. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "common/error.h"

Test(errors, wire_numbers_are_fixed)
{
    /* These numbers travel on the wire: this test fails if anyone renumbers. */
    cr_assert_eq(bs_error_to_wire(BS_ERR_NOT_FOUND), 1);
    cr_assert_eq(bs_error_to_wire(BS_ERR_ALREADY_EXISTS), 2);
    cr_assert_eq(bs_error_to_wire(BS_ERR_DOES_NOT_EXIST), 3);
    cr_assert_eq(bs_error_to_wire(BS_ERR_MUST_BE_OPEN), 4);
    cr_assert_eq(bs_error_to_wire(BS_ERR_MUST_NOT_BE_OPEN), 5);
    cr_assert_eq(bs_error_to_wire(BS_ERR_INVALID), 6);
    cr_assert_eq(bs_error_to_wire(BS_ERR_URL_INVALID), 7);
    cr_assert_eq(bs_error_to_wire(BS_ERR_PERMISSION), 8);
    cr_assert_eq(bs_error_to_wire(BS_ERR_QUOTA), 9);
    cr_assert_eq(bs_error_to_wire(BS_ERR_READ_RANGE), 10);
    cr_assert_eq(bs_error_to_wire(BS_ERR_CONNECTION), 11);
    cr_assert_eq(bs_error_to_wire(BS_ERR_PROTOCOL), 12);
    cr_assert_eq(bs_error_to_wire(BS_ERR_INTEGRITY), 13);
    cr_assert_eq(bs_error_to_wire(BS_ERR_IO), 14);
}

Test(errors, every_code_round_trips_over_the_wire)
{
    for (unsigned w = 1; w <= BS_ERROR_WIRE_MAX; w++) {
        int code = bs_error_from_wire(w);
        cr_assert_eq(bs_error_to_wire(code), w, "wire %u", w);
        cr_assert_str_neq(bs_error_name(code), "UnknownError");
    }
}

Test(errors, unknown_wire_numbers_are_protocol_errors)
{
    cr_assert_eq(bs_error_from_wire(0), BS_ERR_PROTOCOL);
    cr_assert_eq(bs_error_from_wire(BS_ERROR_WIRE_MAX + 1), BS_ERR_PROTOCOL);
    cr_assert_eq(bs_error_from_wire(0xffffffffu), BS_ERR_PROTOCOL);
}

Test(errors, names_match_python_borgstore_exceptions)
{
    cr_assert_str_eq(bs_error_name(BS_ERR_NOT_FOUND), "ObjectNotFound");
    cr_assert_str_eq(bs_error_name(BS_ERR_ALREADY_EXISTS), "BackendAlreadyExists");
    cr_assert_str_eq(bs_error_name(BS_ERR_DOES_NOT_EXIST), "BackendDoesNotExist");
    cr_assert_str_eq(bs_error_name(BS_ERR_MUST_BE_OPEN), "BackendMustBeOpen");
    cr_assert_str_eq(bs_error_name(BS_ERR_MUST_NOT_BE_OPEN), "BackendMustNotBeOpen");
    cr_assert_str_eq(bs_error_name(BS_ERR_INVALID), "ValueError");
    cr_assert_str_eq(bs_error_name(BS_ERR_URL_INVALID), "BackendURLInvalid");
    cr_assert_str_eq(bs_error_name(BS_ERR_PERMISSION), "PermissionDenied");
    cr_assert_str_eq(bs_error_name(BS_ERR_QUOTA), "QuotaExceeded");
    cr_assert_str_eq(bs_error_name(BS_ERR_READ_RANGE), "ReadRangeError");
    cr_assert_str_eq(bs_error_name(BS_ERR_CONNECTION), "BackendConnectionError");
    cr_assert_str_eq(bs_error_name(BS_ERR_IO), "BackendError");
    cr_assert_str_eq(bs_error_name(0), "Success");
    cr_assert_str_eq(bs_error_name(-999), "UnknownError");
}

Test(errors, set_returns_code_and_keeps_message)
{
    int rc = bs__error_set(BS_ERR_NOT_FOUND, "%s/%s", "data", "00ff");
    cr_assert_eq(rc, BS_ERR_NOT_FOUND);
    cr_assert_str_eq(bs_error_message(), "object not found: data/00ff");
    cr_assert_eq(bs_error_errno(), 0);
    bs__error_set(BS_ERR_MUST_BE_OPEN, NULL);
    cr_assert_str_eq(bs_error_message(), "backend must be open");
}

Test(errors, errno_is_mapped_and_kept)
{
    cr_assert_eq(bs__error_errno(ENOENT, "x"), BS_ERR_NOT_FOUND);
    cr_assert_eq(bs__error_errno(EACCES, "x"), BS_ERR_PERMISSION);
    cr_assert_eq(bs__error_errno(ENOSPC, "store %s", "data/1"), BS_ERR_IO);
    cr_assert_eq(bs_error_errno(), ENOSPC);
    cr_assert(strstr(bs_error_message(), "data/1"));
    cr_assert(strstr(bs_error_message(), strerror(ENOSPC)));
}

static void *other_thread(void *arg)
{
    (void)arg;
    bs__error_set(BS_ERR_QUOTA, "other thread");
    return NULL;
}

Test(errors, message_is_per_thread)
{
    bs__error_set(BS_ERR_INVALID, "mine");
    pthread_t t;
    pthread_create(&t, NULL, other_thread, NULL);
    pthread_join(t, NULL);
    cr_assert_str_eq(bs_error_message(), "invalid argument: mine");
}

Test(errors, long_messages_are_truncated_not_overflowed)
{
    char big[2000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    bs__error_set(BS_ERR_IO, "%s", big);
    cr_assert_lt(strlen(bs_error_message()), 600);
}

Test(errors, saved_message_can_be_rewrapped_and_restored)
{
    bs__error_errno(ENOSPC, "store %s", "data/1");
    bs__error_saved why;
    bs__error_save(&why);
    /* a new message built from the old one (never from the live buffer) */
    cr_assert_eq(bs__error_set(BS_ERR_PROTOCOL, "wrapped: %s", why.msg), BS_ERR_PROTOCOL);
    cr_assert(strstr(bs_error_message(), "protocol error: wrapped: "), "%s", bs_error_message());
    cr_assert(strstr(bs_error_message(), "data/1"), "%s", bs_error_message());
    cr_assert_eq(bs_error_errno(), 0);
    /* and the old error back, errno included */
    cr_assert_eq(bs__error_restore(&why, BS_ERR_IO), BS_ERR_IO);
    cr_assert_str_eq(bs_error_message(), why.msg);
    cr_assert_eq(bs_error_errno(), ENOSPC);
}

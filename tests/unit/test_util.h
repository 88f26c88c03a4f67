/*
 * Shared by the unit-test programs: each tests/unit/test_NAME.c defines
 * `Suite *NAME_suite(void)` and ends with TEST_MAIN(NAME_suite).  The
 * program prints Check's summary line and exits non-zero on any failure.
 */
#ifndef MAILSIM_TEST_UTIL_H
#define MAILSIM_TEST_UTIL_H

#include <check.h>
#include <stdlib.h>

#define TEST_MAIN(suite_fn)                                         \
    int main(void)                                                  \
    {                                                               \
        SRunner *runner = srunner_create(suite_fn());               \
        srunner_run_all(runner, CK_NORMAL);                         \
        int failed = srunner_ntests_failed(runner);                 \
        srunner_free(runner);                                       \
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;           \
    }

#endif

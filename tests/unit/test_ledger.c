/*
 * Unit tests for the message ledger: counting, every allowed transition,
 * the aborts on forbidden moves and on moves from an empty state, the
 * balance check and its message, and the in-flight count.
 */
#include <signal.h>
#include <string.h>

#include "models/ledger.h"
#include "tests/unit/test_util.h"

#define STATES MESSAGE_STATE_COUNT

/* The transitions that ledger.h documents, written out independently of
 * the table in ledger.c: expected_allowed[from][to]. */
static const bool expected_allowed[STATES][STATES] = {
    [MESSAGE_CREATED] = {
        [MESSAGE_QUEUED] = true,
        [MESSAGE_IN_DELIVERY] = true,
        [MESSAGE_REJECTED] = true,
    },
    [MESSAGE_QUEUED] = {
        [MESSAGE_IN_DELIVERY] = true,
        [MESSAGE_DEFERRED] = true,
    },
    [MESSAGE_IN_DELIVERY] = {
        [MESSAGE_QUEUED] = true,
        [MESSAGE_DEFERRED] = true,
        [MESSAGE_DELIVERED] = true,
        [MESSAGE_BOUNCED] = true,
        [MESSAGE_DROPPED] = true,
    },
    [MESSAGE_DEFERRED] = {
        [MESSAGE_IN_DELIVERY] = true,
        [MESSAGE_QUEUED] = true,
        [MESSAGE_BOUNCED] = true,
    },
};

/* Number of allowed pairs in expected_allowed. */
#define ALLOWED_COUNT 13
#define FORBIDDEN_COUNT (STATES * STATES - ALLOWED_COUNT)

/* Creates one message and moves it to `state` along allowed transitions. */
static void put_message_in(struct ledger *ledger, enum message_state state)
{
    ledger_create(ledger);
    switch (state) {
    case MESSAGE_CREATED:
        break;
    case MESSAGE_QUEUED:
    case MESSAGE_REJECTED:
        ledger_move(ledger, MESSAGE_CREATED, state);
        break;
    case MESSAGE_IN_DELIVERY:
        ledger_move(ledger, MESSAGE_CREATED, MESSAGE_IN_DELIVERY);
        break;
    default:
        ledger_move(ledger, MESSAGE_CREATED, MESSAGE_IN_DELIVERY);
        ledger_move(ledger, MESSAGE_IN_DELIVERY, state);
        break;
    }
}

/* The `index`-th (from, to) pair that expected_allowed forbids, in row
 * order. */
static void forbidden_pair(int index, enum message_state *from,
                           enum message_state *to)
{
    int seen = 0;
    for (int f = 0; f < STATES; f++) {
        for (int t = 0; t < STATES; t++) {
            if (expected_allowed[f][t])
                continue;
            if (seen == index) {
                *from = f;
                *to = t;
                return;
            }
            seen++;
        }
    }
    ck_abort_msg("forbidden pair %d out of range", index);
}

START_TEST(init_is_empty)
{
    struct ledger ledger;
    memset(&ledger, 0xff, sizeof ledger);

    ledger_init(&ledger);
    ck_assert_uint_eq(ledger.created, 0);
    for (int state = 0; state < STATES; state++)
        ck_assert_uint_eq(ledger.count[state], 0);
    ck_assert_uint_eq(ledger_in_flight(&ledger), 0);
}
END_TEST

START_TEST(create_counts_created)
{
    struct ledger ledger;
    ledger_init(&ledger);

    ledger_create(&ledger);
    ledger_create(&ledger);
    ledger_create(&ledger);
    ck_assert_uint_eq(ledger.created, 3);
    ck_assert_uint_eq(ledger.count[MESSAGE_CREATED], 3);
    for (int state = MESSAGE_QUEUED; state < STATES; state++)
        ck_assert_uint_eq(ledger.count[state], 0);
}
END_TEST

START_TEST(move_updates_both_counts)
{
    struct ledger ledger;
    ledger_init(&ledger);
    ledger_create(&ledger);
    ledger_create(&ledger);

    ledger_move(&ledger, MESSAGE_CREATED, MESSAGE_QUEUED);
    ck_assert_uint_eq(ledger.count[MESSAGE_CREATED], 1);
    ck_assert_uint_eq(ledger.count[MESSAGE_QUEUED], 1);
    ck_assert_uint_eq(ledger.created, 2);

    ledger_move(&ledger, MESSAGE_QUEUED, MESSAGE_IN_DELIVERY);
    ck_assert_uint_eq(ledger.count[MESSAGE_QUEUED], 0);
    ck_assert_uint_eq(ledger.count[MESSAGE_IN_DELIVERY], 1);
    ck_assert_uint_eq(ledger.count[MESSAGE_CREATED], 1);
    ck_assert_uint_eq(ledger.created, 2);
}
END_TEST

START_TEST(expected_table_size)
{
    int allowed = 0;
    for (int from = 0; from < STATES; from++)
        for (int to = 0; to < STATES; to++)
            allowed += expected_allowed[from][to];
    ck_assert_int_eq(allowed, ALLOWED_COUNT);
}
END_TEST

START_TEST(every_allowed_move)
{
    int tried = 0;

    for (int from = 0; from < STATES; from++) {
        for (int to = 0; to < STATES; to++) {
            if (!expected_allowed[from][to])
                continue;
            struct ledger ledger;
            ledger_init(&ledger);
            put_message_in(&ledger, from);
            ck_assert_uint_eq(ledger.count[from], 1);

            ledger_move(&ledger, from, to);
            ck_assert_msg(ledger.count[from] == 0, "%s -> %s: %s not emptied",
                          message_state_name(from), message_state_name(to),
                          message_state_name(from));
            ck_assert_msg(ledger.count[to] == 1, "%s -> %s: %s count %llu",
                          message_state_name(from), message_state_name(to),
                          message_state_name(to),
                          (unsigned long long)ledger.count[to]);
            ck_assert_uint_eq(ledger.created, 1);
            char why[200];
            ck_assert(ledger_check(&ledger, why, sizeof why));
            tried++;
        }
    }
    ck_assert_int_eq(tried, ALLOWED_COUNT);
}
END_TEST

/* Loop test: _i picks one forbidden pair.  The move must abort even though
 * a message is counted in the state it leaves. */
START_TEST(forbidden_move_aborts)
{
    enum message_state from, to;
    forbidden_pair(_i, &from, &to);

    struct ledger ledger;
    ledger_init(&ledger);
    put_message_in(&ledger, from);
    ck_assert_uint_eq(ledger.count[from], 1);

    ledger_move(&ledger, from, to);
}
END_TEST

START_TEST(delivered_to_queued_aborts)
{
    struct ledger ledger;
    ledger_init(&ledger);
    put_message_in(&ledger, MESSAGE_DELIVERED);

    ledger_move(&ledger, MESSAGE_DELIVERED, MESSAGE_QUEUED);
}
END_TEST

START_TEST(invalid_state_aborts)
{
    struct ledger ledger;
    ledger_init(&ledger);
    ledger_create(&ledger);

    ledger_move(&ledger, MESSAGE_CREATED, MESSAGE_STATE_COUNT);
}
END_TEST

START_TEST(move_from_empty_aborts)
{
    struct ledger ledger;
    ledger_init(&ledger);

    ledger_move(&ledger, MESSAGE_CREATED, MESSAGE_QUEUED);
}
END_TEST

/* The message that would move is in another state. */
START_TEST(move_from_other_state_aborts)
{
    struct ledger ledger;
    ledger_init(&ledger);
    put_message_in(&ledger, MESSAGE_QUEUED);

    ledger_move(&ledger, MESSAGE_IN_DELIVERY, MESSAGE_DELIVERED);
}
END_TEST

START_TEST(check_balanced)
{
    struct ledger ledger;
    char why[200] = "untouched";

    ledger_init(&ledger);
    ck_assert(ledger_check(&ledger, why, sizeof why));

    put_message_in(&ledger, MESSAGE_DELIVERED);
    put_message_in(&ledger, MESSAGE_DEFERRED);
    put_message_in(&ledger, MESSAGE_CREATED);
    ck_assert(ledger_check(&ledger, why, sizeof why));
    ck_assert_str_eq(why, "untouched");
}
END_TEST

START_TEST(check_unbalanced_message)
{
    struct ledger ledger;
    char why[300];

    ledger_init(&ledger);
    put_message_in(&ledger, MESSAGE_QUEUED);
    put_message_in(&ledger, MESSAGE_BOUNCED);
    ledger.count[MESSAGE_QUEUED]++;

    ck_assert(!ledger_check(&ledger, why, sizeof why));
    ck_assert_str_eq(why, "created 2 but states sum to 3: created=0 queued=2 "
                          "in_delivery=0 deferred=0 delivered=0 bounced=1 "
                          "rejected=0 dropped=0");
}
END_TEST

/* A lost message (sum below created) is reported as well. */
START_TEST(check_lost_message)
{
    struct ledger ledger;
    char why[300];

    ledger_init(&ledger);
    put_message_in(&ledger, MESSAGE_DROPPED);
    ledger.count[MESSAGE_DROPPED]--;

    ck_assert(!ledger_check(&ledger, why, sizeof why));
    ck_assert_str_eq(why, "created 1 but states sum to 0: created=0 queued=0 "
                          "in_delivery=0 deferred=0 delivered=0 bounced=0 "
                          "rejected=0 dropped=0");
}
END_TEST

START_TEST(check_truncates_message)
{
    struct ledger ledger;
    char why[16];

    memset(why, 'x', sizeof why);
    ledger_init(&ledger);
    ledger_create(&ledger);
    ledger.count[MESSAGE_CREATED] = 5;

    ck_assert(!ledger_check(&ledger, why, 10));
    ck_assert_str_eq(why, "created 1");
    ck_assert_int_eq(why[10], 'x');
}
END_TEST

START_TEST(in_flight_counts_unfinished)
{
    struct ledger ledger;
    ledger_init(&ledger);

    for (int state = 0; state < STATES; state++)
        put_message_in(&ledger, state);
    put_message_in(&ledger, MESSAGE_QUEUED);

    /* created, queued twice, in_delivery, deferred. */
    ck_assert_uint_eq(ledger_in_flight(&ledger), 5);
    ck_assert_uint_eq(ledger.created, 9);

    ledger_move(&ledger, MESSAGE_DEFERRED, MESSAGE_BOUNCED);
    ck_assert_uint_eq(ledger_in_flight(&ledger), 4);
    ledger_move(&ledger, MESSAGE_CREATED, MESSAGE_IN_DELIVERY);
    ck_assert_uint_eq(ledger_in_flight(&ledger), 4);
}
END_TEST

START_TEST(state_names)
{
    ck_assert_str_eq(message_state_name(MESSAGE_CREATED), "created");
    ck_assert_str_eq(message_state_name(MESSAGE_QUEUED), "queued");
    ck_assert_str_eq(message_state_name(MESSAGE_IN_DELIVERY), "in_delivery");
    ck_assert_str_eq(message_state_name(MESSAGE_DEFERRED), "deferred");
    ck_assert_str_eq(message_state_name(MESSAGE_DELIVERED), "delivered");
    ck_assert_str_eq(message_state_name(MESSAGE_BOUNCED), "bounced");
    ck_assert_str_eq(message_state_name(MESSAGE_REJECTED), "rejected");
    ck_assert_str_eq(message_state_name(MESSAGE_DROPPED), "dropped");
    ck_assert_str_eq(message_state_name(MESSAGE_STATE_COUNT), "invalid");
    ck_assert_str_eq(message_state_name((enum message_state)-1), "invalid");
}
END_TEST

START_TEST(final_states)
{
    ck_assert(!message_state_is_final(MESSAGE_CREATED));
    ck_assert(!message_state_is_final(MESSAGE_QUEUED));
    ck_assert(!message_state_is_final(MESSAGE_IN_DELIVERY));
    ck_assert(!message_state_is_final(MESSAGE_DEFERRED));
    ck_assert(message_state_is_final(MESSAGE_DELIVERED));
    ck_assert(message_state_is_final(MESSAGE_BOUNCED));
    ck_assert(message_state_is_final(MESSAGE_REJECTED));
    ck_assert(message_state_is_final(MESSAGE_DROPPED));
}
END_TEST

Suite *ledger_suite(void);

Suite *ledger_suite(void)
{
    Suite *suite = suite_create("ledger");
    TCase *count_case = tcase_create("count");
    TCase *move_case = tcase_create("move");
    TCase *check_case = tcase_create("check");

    tcase_add_test(count_case, init_is_empty);
    tcase_add_test(count_case, create_counts_created);
    tcase_add_test(count_case, in_flight_counts_unfinished);
    tcase_add_test(count_case, state_names);
    tcase_add_test(count_case, final_states);
    suite_add_tcase(suite, count_case);

    tcase_add_test(move_case, move_updates_both_counts);
    tcase_add_test(move_case, expected_table_size);
    tcase_add_test(move_case, every_allowed_move);
    tcase_add_loop_test_raise_signal(move_case, forbidden_move_aborts, SIGABRT,
                                     0, FORBIDDEN_COUNT);
    tcase_add_test_raise_signal(move_case, delivered_to_queued_aborts, SIGABRT);
    tcase_add_test_raise_signal(move_case, invalid_state_aborts, SIGABRT);
    tcase_add_test_raise_signal(move_case, move_from_empty_aborts, SIGABRT);
    tcase_add_test_raise_signal(move_case, move_from_other_state_aborts,
                                SIGABRT);
    suite_add_tcase(suite, move_case);

    tcase_add_test(check_case, check_balanced);
    tcase_add_test(check_case, check_unbalanced_message);
    tcase_add_test(check_case, check_lost_message);
    tcase_add_test(check_case, check_truncates_message);
    suite_add_tcase(suite, check_case);
    return suite;
}

TEST_MAIN(ledger_suite)

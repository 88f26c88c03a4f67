/*
 * Unit tests for messages: message_new, and how recipients' phases drive
 * the message's ledger state, the finished time and the return value of
 * message_set_phase.
 */
#include <signal.h>

#include "models/message.h"
#include "tests/unit/test_util.h"

/* Asserts that the ledger counts exactly one message, in `state`. */
static void assert_only_in(const struct ledger *ledger, enum message_state state)
{
    char why[300];

    for (int s = 0; s < MESSAGE_STATE_COUNT; s++) {
        uint64_t expected = s == (int)state ? 1 : 0;
        ck_assert_msg(ledger->count[s] == expected,
                      "ledger %s count %llu, expected %llu",
                      message_state_name(s),
                      (unsigned long long)ledger->count[s],
                      (unsigned long long)expected);
    }
    ck_assert_uint_eq(ledger->created, 1);
    ck_assert_msg(ledger_check(ledger, why, sizeof why), "%s", why);
}

START_TEST(new_message_fields)
{
    struct ledger ledger;
    ledger_init(&ledger);

    struct message *message = message_new(&ledger, 42, 3, 7 * SIM_SEC);
    ck_assert_uint_eq(message->id, 42);
    ck_assert_int_eq(message->state, MESSAGE_CREATED);
    ck_assert_int_eq(message->submitted, 7 * SIM_SEC);
    ck_assert_int_eq(message->accepted, -1);
    ck_assert_int_eq(message->finished, -1);
    ck_assert_uint_eq(message->recipient_count, 3);
    ck_assert_uint_eq(message->phase_count[PHASE_NEW], 3);
    for (int phase = PHASE_QUEUED; phase < PHASE_COUNT; phase++)
        ck_assert_uint_eq(message->phase_count[phase], 0);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(message->recipients[i].phase, PHASE_NEW);
        ck_assert_int_eq(message->recipients[i].stored, -1);
        ck_assert_int_eq(message->recipients[i].seen, -1);
        ck_assert_uint_eq(message->recipients[i].attempts, 0);
    }
    assert_only_in(&ledger, MESSAGE_CREATED);
    message_free(message);
}
END_TEST

START_TEST(new_messages_add_up)
{
    struct ledger ledger;
    ledger_init(&ledger);

    struct message *first = message_new(&ledger, 1, 1, 0);
    struct message *second = message_new(&ledger, 2, 5, 0);
    ck_assert_uint_eq(ledger.created, 2);
    ck_assert_uint_eq(ledger.count[MESSAGE_CREATED], 2);
    message_free(first);
    message_free(second);
}
END_TEST

START_TEST(active_and_queued_is_in_delivery)
{
    struct ledger ledger;
    ledger_init(&ledger);
    struct message *message = message_new(&ledger, 1, 2, 0);

    ck_assert(!message_set_phase(message, &ledger, 0, PHASE_QUEUED, 1));
    ck_assert_int_eq(message->state, MESSAGE_QUEUED);
    assert_only_in(&ledger, MESSAGE_QUEUED);

    ck_assert(!message_set_phase(message, &ledger, 1, PHASE_QUEUED, 2));
    ck_assert_int_eq(message->state, MESSAGE_QUEUED);

    ck_assert(!message_set_phase(message, &ledger, 0, PHASE_ACTIVE, 3));
    ck_assert_int_eq(message->state, MESSAGE_IN_DELIVERY);
    ck_assert_uint_eq(message->phase_count[PHASE_ACTIVE], 1);
    ck_assert_uint_eq(message->phase_count[PHASE_QUEUED], 1);
    assert_only_in(&ledger, MESSAGE_IN_DELIVERY);
    ck_assert_int_eq(message->finished, -1);
    message_free(message);
}
END_TEST

START_TEST(all_deferred_is_deferred)
{
    struct ledger ledger;
    ledger_init(&ledger);
    struct message *message = message_new(&ledger, 1, 2, 0);

    message_set_phase(message, &ledger, 0, PHASE_ACTIVE, 1);
    message_set_phase(message, &ledger, 1, PHASE_ACTIVE, 1);
    ck_assert_int_eq(message->state, MESSAGE_IN_DELIVERY);

    ck_assert(!message_set_phase(message, &ledger, 0, PHASE_DEFERRED, 2));
    ck_assert_int_eq(message->state, MESSAGE_IN_DELIVERY);

    ck_assert(!message_set_phase(message, &ledger, 1, PHASE_DEFERRED, 3));
    ck_assert_int_eq(message->state, MESSAGE_DEFERRED);
    ck_assert_uint_eq(message->phase_count[PHASE_DEFERRED], 2);
    assert_only_in(&ledger, MESSAGE_DEFERRED);
    ck_assert_int_eq(message->finished, -1);
    message_free(message);
}
END_TEST

/* A queued recipient outranks a deferred one. */
START_TEST(queued_and_deferred_is_queued)
{
    struct ledger ledger;
    ledger_init(&ledger);
    struct message *message = message_new(&ledger, 1, 2, 0);

    message_set_phase(message, &ledger, 0, PHASE_QUEUED, 1);
    message_set_phase(message, &ledger, 1, PHASE_QUEUED, 1);
    message_set_phase(message, &ledger, 0, PHASE_DEFERRED, 2);
    ck_assert_int_eq(message->state, MESSAGE_QUEUED);
    assert_only_in(&ledger, MESSAGE_QUEUED);

    message_set_phase(message, &ledger, 1, PHASE_DEFERRED, 3);
    ck_assert_int_eq(message->state, MESSAGE_DEFERRED);
    assert_only_in(&ledger, MESSAGE_DEFERRED);
    message_free(message);
}
END_TEST

START_TEST(all_delivered_finishes_once)
{
    struct ledger ledger;
    ledger_init(&ledger);
    struct message *message = message_new(&ledger, 1, 3, 0);

    for (uint16_t i = 0; i < 3; i++)
        ck_assert(!message_set_phase(message, &ledger, i, PHASE_ACTIVE, SIM_SEC));

    ck_assert(!message_set_phase(message, &ledger, 0, PHASE_DELIVERED, 2 * SIM_SEC));
    ck_assert_int_eq(message->finished, -1);
    ck_assert(!message_set_phase(message, &ledger, 2, PHASE_DELIVERED, 3 * SIM_SEC));
    ck_assert_int_eq(message->finished, -1);
    ck_assert_int_eq(message->state, MESSAGE_IN_DELIVERY);

    ck_assert(message_set_phase(message, &ledger, 1, PHASE_DELIVERED, 4 * SIM_SEC));
    ck_assert_int_eq(message->state, MESSAGE_DELIVERED);
    ck_assert_int_eq(message->finished, 4 * SIM_SEC);
    ck_assert_uint_eq(message->phase_count[PHASE_DELIVERED], 3);
    ck_assert_uint_eq(message->phase_count[PHASE_ACTIVE], 0);
    assert_only_in(&ledger, MESSAGE_DELIVERED);
    ck_assert_uint_eq(ledger_in_flight(&ledger), 0);
    message_free(message);
}
END_TEST

START_TEST(bounce_outranks_delivery)
{
    struct ledger ledger;
    ledger_init(&ledger);
    struct message *message = message_new(&ledger, 1, 2, 0);

    message_set_phase(message, &ledger, 0, PHASE_ACTIVE, 1);
    message_set_phase(message, &ledger, 1, PHASE_ACTIVE, 1);
    ck_assert(!message_set_phase(message, &ledger, 0, PHASE_BOUNCED, 5));
    ck_assert_int_eq(message->state, MESSAGE_IN_DELIVERY);

    ck_assert(message_set_phase(message, &ledger, 1, PHASE_DELIVERED, 9));
    ck_assert_int_eq(message->state, MESSAGE_BOUNCED);
    ck_assert_int_eq(message->finished, 9);
    assert_only_in(&ledger, MESSAGE_BOUNCED);
    message_free(message);
}
END_TEST

START_TEST(all_rejected_from_new)
{
    struct ledger ledger;
    ledger_init(&ledger);
    struct message *message = message_new(&ledger, 1, 2, 0);

    ck_assert(!message_set_phase(message, &ledger, 0, PHASE_REJECTED, 3));
    ck_assert_int_eq(message->state, MESSAGE_CREATED);
    assert_only_in(&ledger, MESSAGE_CREATED);

    ck_assert(message_set_phase(message, &ledger, 1, PHASE_REJECTED, 3));
    ck_assert_int_eq(message->state, MESSAGE_REJECTED);
    ck_assert_int_eq(message->finished, 3);
    assert_only_in(&ledger, MESSAGE_REJECTED);
    message_free(message);
}
END_TEST

/* A message that goes straight from new to delivered passes through
 * in_delivery in the ledger, which would otherwise abort. */
START_TEST(new_to_delivered_direct)
{
    struct ledger ledger;
    ledger_init(&ledger);
    struct message *message = message_new(&ledger, 1, 1, 0);

    ck_assert(message_set_phase(message, &ledger, 0, PHASE_DELIVERED, 11));
    ck_assert_int_eq(message->state, MESSAGE_DELIVERED);
    ck_assert_int_eq(message->finished, 11);
    assert_only_in(&ledger, MESSAGE_DELIVERED);
    message_free(message);
}
END_TEST

START_TEST(dsn_dropped)
{
    struct ledger ledger;
    ledger_init(&ledger);
    struct message *message = message_new(&ledger, 1, 1, 0);

    message_set_phase(message, &ledger, 0, PHASE_QUEUED, 1);
    message_set_phase(message, &ledger, 0, PHASE_ACTIVE, 2);
    ck_assert(message_set_phase(message, &ledger, 0, PHASE_DROPPED, 3));
    ck_assert_int_eq(message->state, MESSAGE_DROPPED);
    ck_assert_int_eq(message->finished, 3);
    assert_only_in(&ledger, MESSAGE_DROPPED);
    message_free(message);
}
END_TEST

/* One recipient delivered, the other deferred, retried and delivered: the
 * message passes in_delivery -> deferred -> queued -> in_delivery. */
START_TEST(retry_after_deferral)
{
    struct ledger ledger;
    ledger_init(&ledger);
    struct message *message = message_new(&ledger, 1, 2, 0);

    message_set_phase(message, &ledger, 0, PHASE_ACTIVE, 1);
    message_set_phase(message, &ledger, 1, PHASE_ACTIVE, 1);
    ck_assert(!message_set_phase(message, &ledger, 0, PHASE_DELIVERED, 2));
    ck_assert(!message_set_phase(message, &ledger, 1, PHASE_DEFERRED, 2));
    ck_assert_int_eq(message->state, MESSAGE_DEFERRED);
    assert_only_in(&ledger, MESSAGE_DEFERRED);

    ck_assert(!message_set_phase(message, &ledger, 1, PHASE_QUEUED, 300));
    ck_assert_int_eq(message->state, MESSAGE_QUEUED);
    assert_only_in(&ledger, MESSAGE_QUEUED);

    ck_assert(!message_set_phase(message, &ledger, 1, PHASE_ACTIVE, 301));
    ck_assert_int_eq(message->state, MESSAGE_IN_DELIVERY);

    ck_assert(message_set_phase(message, &ledger, 1, PHASE_DELIVERED, 302));
    ck_assert_int_eq(message->state, MESSAGE_DELIVERED);
    ck_assert_int_eq(message->finished, 302);
    assert_only_in(&ledger, MESSAGE_DELIVERED);
    message_free(message);
}
END_TEST

/* The queue lifetime expires for a deferred recipient. */
START_TEST(deferred_expires_to_bounced)
{
    struct ledger ledger;
    ledger_init(&ledger);
    struct message *message = message_new(&ledger, 1, 1, 0);

    message_set_phase(message, &ledger, 0, PHASE_ACTIVE, 1);
    message_set_phase(message, &ledger, 0, PHASE_DEFERRED, 2);
    ck_assert(message_set_phase(message, &ledger, 0, PHASE_BOUNCED, 5 * SIM_DAY));
    ck_assert_int_eq(message->state, MESSAGE_BOUNCED);
    ck_assert_int_eq(message->finished, 5 * SIM_DAY);
    assert_only_in(&ledger, MESSAGE_BOUNCED);
    message_free(message);
}
END_TEST

START_TEST(final_recipient_moved_aborts)
{
    struct ledger ledger;
    ledger_init(&ledger);
    struct message *message = message_new(&ledger, 1, 2, 0);

    message_set_phase(message, &ledger, 0, PHASE_ACTIVE, 1);
    message_set_phase(message, &ledger, 1, PHASE_ACTIVE, 1);
    message_set_phase(message, &ledger, 0, PHASE_DELIVERED, 2);
    message_set_phase(message, &ledger, 0, PHASE_QUEUED, 3);
}
END_TEST

START_TEST(finished_message_moved_aborts)
{
    struct ledger ledger;
    ledger_init(&ledger);
    struct message *message = message_new(&ledger, 1, 1, 0);

    message_set_phase(message, &ledger, 0, PHASE_REJECTED, 1);
    message_set_phase(message, &ledger, 0, PHASE_REJECTED, 2);
}
END_TEST

START_TEST(phase_and_reason_names)
{
    ck_assert_str_eq(recipient_phase_name(PHASE_NEW), "new");
    ck_assert_str_eq(recipient_phase_name(PHASE_ACTIVE), "active");
    ck_assert_str_eq(recipient_phase_name(PHASE_DROPPED), "dropped");
    ck_assert_str_eq(recipient_phase_name(PHASE_COUNT), "invalid");
    ck_assert_str_eq(outcome_reason_name(REASON_NONE), "");
    ck_assert_str_eq(outcome_reason_name(REASON_LIFETIME), "queue_lifetime");
    ck_assert_str_eq(outcome_reason_name(REASON_NO_MX), "no_mx");
    ck_assert_str_eq(outcome_reason_name(REASON_COUNT), "invalid");
}
END_TEST

Suite *message_suite(void);

Suite *message_suite(void)
{
    Suite *suite = suite_create("message");
    TCase *new_case = tcase_create("new");
    TCase *phase_case = tcase_create("phase");

    tcase_add_test(new_case, new_message_fields);
    tcase_add_test(new_case, new_messages_add_up);
    tcase_add_test(new_case, phase_and_reason_names);
    suite_add_tcase(suite, new_case);

    tcase_add_test(phase_case, active_and_queued_is_in_delivery);
    tcase_add_test(phase_case, all_deferred_is_deferred);
    tcase_add_test(phase_case, queued_and_deferred_is_queued);
    tcase_add_test(phase_case, all_delivered_finishes_once);
    tcase_add_test(phase_case, bounce_outranks_delivery);
    tcase_add_test(phase_case, all_rejected_from_new);
    tcase_add_test(phase_case, new_to_delivered_direct);
    tcase_add_test(phase_case, dsn_dropped);
    tcase_add_test(phase_case, retry_after_deferral);
    tcase_add_test(phase_case, deferred_expires_to_bounced);
    tcase_add_test_raise_signal(phase_case, final_recipient_moved_aborts,
                                SIGABRT);
    tcase_add_test_raise_signal(phase_case, finished_message_moved_aborts,
                                SIGABRT);
    suite_add_tcase(suite, phase_case);
    return suite;
}

TEST_MAIN(message_suite)

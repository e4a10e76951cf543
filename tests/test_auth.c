/* test_auth.c: request signatures (auth.h): signing, verification, the
 * tolerance window and malformed headers. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

#define SECRET "gateway-secret-0123456789"
#define BODY "{\"event_id\":\"ev-0001\",\"type\":\"call.started\"}"
#define NOW 1577807940 /* 2019-12-31T15:59:00Z */
#define TOLERANCE 300

static void auth_setup(void)
{
	ck_assert_int_eq(auth_init(), 0);
}

static enum auth_result verify_at(const char *secret, const char *ts, const char *sig,
				  const char *body, int64_t now)
{
	return auth_verify(secret, ts, sig, body, strlen(body), now, TOLERANCE);
}

START_TEST (test_signature_matches_an_independent_hmac) {
	/* Computed with:
	 * printf '%s' '1577807940.{"event_id":"ev-0001","type":"call.started"}' |
	 *     openssl dgst -sha256 -hmac 'gateway-secret-0123456789' */
	char sig[AUTH_SIGNATURE_LEN];
	auth_sign(SECRET, NOW, BODY, strlen(BODY), sig);
	ck_assert_str_eq(sig,
			 "v1=c938a298b300224d4db166d081b09f1d5533c638c834a4133beec19740285c02");

	/* An empty body signs just "<timestamp>.". */
	auth_sign(SECRET, NOW, "", 0, sig);
	ck_assert_str_eq(sig,
			 "v1=e05711b373c1b5d59d71f818c4a06c6d4afe6b2b089b01c25acbe83eed4f8770");
	ck_assert_int_eq(auth_verify(SECRET, "1577807940", sig, NULL, 0, NOW, TOLERANCE), AUTH_OK);
}
END_TEST

START_TEST (test_sign_then_verify_round_trips) {
	char sig[AUTH_SIGNATURE_LEN];
	auth_sign(SECRET, NOW, BODY, strlen(BODY), sig);
	ck_assert_uint_eq(strlen(sig), AUTH_SIGNATURE_LEN - 1);
	ck_assert_int_eq(verify_at(SECRET, "1577807940", sig, BODY, NOW), AUTH_OK);

	/* Upper-case hex is the same signature. */
	for (char *p = sig + 3; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	ck_assert_int_eq(verify_at(SECRET, "1577807940", sig, BODY, NOW), AUTH_OK);
}
END_TEST

START_TEST (test_tampered_body_is_refused) {
	char sig[AUTH_SIGNATURE_LEN];
	auth_sign(SECRET, NOW, BODY, strlen(BODY), sig);
	ck_assert_int_eq(verify_at(SECRET, "1577807940", sig,
				   "{\"event_id\":\"ev-0002\",\"type\":\"call.started\"}", NOW),
			 AUTH_BAD_SIGNATURE);
	/* Same body, another timestamp: the timestamp is signed too. */
	ck_assert_int_eq(verify_at(SECRET, "1577807941", sig, BODY, NOW), AUTH_BAD_SIGNATURE);
	/* A body one byte shorter. */
	ck_assert_int_eq(auth_verify(SECRET, "1577807940", sig, BODY, strlen(BODY) - 1, NOW,
				     TOLERANCE),
			 AUTH_BAD_SIGNATURE);
}
END_TEST

START_TEST (test_wrong_secret_is_refused) {
	char sig[AUTH_SIGNATURE_LEN];
	auth_sign("another-secret-0123456789", NOW, BODY, strlen(BODY), sig);
	ck_assert_int_eq(verify_at(SECRET, "1577807940", sig, BODY, NOW), AUTH_BAD_SIGNATURE);
}
END_TEST

START_TEST (test_tolerance_window_boundaries) {
	char sig[AUTH_SIGNATURE_LEN], ts[32];
	static const struct {
		int64_t skew; /* timestamp - now */
		enum auth_result want;
	} cases[] = {
		{-TOLERANCE - 1, AUTH_STALE}, {-TOLERANCE, AUTH_OK},       {0, AUTH_OK},
		{TOLERANCE, AUTH_OK},         {TOLERANCE + 1, AUTH_STALE}, {-86400, AUTH_STALE},
		{86400, AUTH_STALE},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t t = NOW + cases[i].skew;
		snprintf(ts, sizeof ts, "%lld", (long long)t);
		auth_sign(SECRET, t, BODY, strlen(BODY), sig);
		ck_assert_msg(verify_at(SECRET, ts, sig, BODY, NOW) == cases[i].want,
			      "skew %lld: got %d, want %d", (long long)cases[i].skew,
			      verify_at(SECRET, ts, sig, BODY, NOW), cases[i].want);
	}
}
END_TEST

START_TEST (test_missing_headers) {
	char sig[AUTH_SIGNATURE_LEN];
	auth_sign(SECRET, NOW, BODY, strlen(BODY), sig);
	ck_assert_int_eq(verify_at(SECRET, NULL, sig, BODY, NOW), AUTH_MISSING);
	ck_assert_int_eq(verify_at(SECRET, "1577807940", NULL, BODY, NOW), AUTH_MISSING);
	ck_assert_int_eq(verify_at(SECRET, NULL, NULL, BODY, NOW), AUTH_MISSING);
}
END_TEST

START_TEST (test_malformed_timestamps) {
	char sig[AUTH_SIGNATURE_LEN];
	static const char *const bad[] = {
		"",
		" 1577807940",
		"1577807940 ",
		"+1577807940",
		"-1577807940",
		"1577807940.0",
		"0x5E0B7044",
		"15778O7940",
		"1577807940000000000",
		"99999999999999999999",
	};
	auth_sign(SECRET, NOW, BODY, strlen(BODY), sig);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(verify_at(SECRET, bad[i], sig, BODY, NOW) == AUTH_BAD_TIMESTAMP,
			      "'%s' was accepted as a timestamp", bad[i]);
}
END_TEST

START_TEST (test_malformed_signatures) {
	char sig[AUTH_SIGNATURE_LEN], bad[AUTH_SIGNATURE_LEN + 8];
	auth_sign(SECRET, NOW, BODY, strlen(BODY), sig);

	/* Wrong scheme. */
	snprintf(bad, sizeof bad, "v2=%s", sig + 3);
	ck_assert_int_eq(verify_at(SECRET, "1577807940", bad, BODY, NOW), AUTH_BAD_SIGNATURE);
	/* No scheme at all. */
	ck_assert_int_eq(verify_at(SECRET, "1577807940", sig + 3, BODY, NOW), AUTH_BAD_SIGNATURE);
	/* One hex digit short, one too many. */
	snprintf(bad, sizeof bad, "%.*s", AUTH_SIGNATURE_LEN - 2, sig);
	ck_assert_int_eq(verify_at(SECRET, "1577807940", bad, BODY, NOW), AUTH_BAD_SIGNATURE);
	snprintf(bad, sizeof bad, "%s0", sig);
	ck_assert_int_eq(verify_at(SECRET, "1577807940", bad, BODY, NOW), AUTH_BAD_SIGNATURE);
	/* Right length, not hex. */
	snprintf(bad, sizeof bad, "%s", sig);
	bad[10] = 'g';
	ck_assert_int_eq(verify_at(SECRET, "1577807940", bad, BODY, NOW), AUTH_BAD_SIGNATURE);
	/* Empty. */
	ck_assert_int_eq(verify_at(SECRET, "1577807940", "", BODY, NOW), AUTH_BAD_SIGNATURE);
}
END_TEST

START_TEST (test_every_result_has_a_message) {
	ck_assert_str_eq(auth_result_message(AUTH_OK), "ok");
	ck_assert_ptr_nonnull(strstr(auth_result_message(AUTH_MISSING), AUTH_HEADER_SIGNATURE));
	ck_assert_ptr_nonnull(
		strstr(auth_result_message(AUTH_BAD_TIMESTAMP), AUTH_HEADER_TIMESTAMP));
	ck_assert_ptr_nonnull(strstr(auth_result_message(AUTH_STALE), "skew"));
	ck_assert_ptr_nonnull(
		strstr(auth_result_message(AUTH_BAD_SIGNATURE), AUTH_HEADER_SIGNATURE));
}
END_TEST

static Suite *auth_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tc = tcase_create("auth");

	tcase_add_checked_fixture(tc, auth_setup, NULL);
	tcase_add_test(tc, test_signature_matches_an_independent_hmac);
	tcase_add_test(tc, test_sign_then_verify_round_trips);
	tcase_add_test(tc, test_tampered_body_is_refused);
	tcase_add_test(tc, test_wrong_secret_is_refused);
	tcase_add_test(tc, test_tolerance_window_boundaries);
	tcase_add_test(tc, test_missing_headers);
	tcase_add_test(tc, test_malformed_timestamps);
	tcase_add_test(tc, test_malformed_signatures);
	tcase_add_test(tc, test_every_result_has_a_message);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(auth_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* test_privacy.c: normalising, masking and hashing caller numbers (privacy.h). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "privacy.h"

static const char *normalise(const char *raw)
{
	static char out[PRIVACY_NUMBER_MAX];
	ck_assert_msg(privacy_normalise_number(raw, out) == 0, "'%s' was refused", raw);
	return out;
}

static const char *mask(const char *number)
{
	static char out[PRIVACY_NUMBER_MAX];
	privacy_mask_number(number, out);
	return out;
}

START_TEST (test_normalise_keeps_digits_only) {
	ck_assert_str_eq(normalise("13812345678"), "13812345678");
	ck_assert_str_eq(normalise("138 1234 5678"), "13812345678");
	ck_assert_str_eq(normalise("138-1234-5678"), "13812345678");
	ck_assert_str_eq(normalise("025-8327 1234"), "02583271234");
	ck_assert_str_eq(normalise("12320"), "12320");
	ck_assert_str_eq(normalise("110"), "110");
}
END_TEST

START_TEST (test_normalise_drops_the_chinese_country_code) {
	ck_assert_str_eq(normalise("+8613812345678"), "13812345678");
	ck_assert_str_eq(normalise("+86 138 1234 5678"), "13812345678");
	ck_assert_str_eq(normalise("+86-25-8327-1234"), "2583271234");
	ck_assert_str_eq(normalise("008613812345678"), "13812345678");
	ck_assert_str_eq(normalise("0086 138-1234-5678"), "13812345678");
	/* Without '+' or "00", a leading 86 is part of the number. */
	ck_assert_str_eq(normalise("8613812345678"), "8613812345678");
	/* Other country codes are kept. */
	ck_assert_str_eq(normalise("+1 555 123 4567"), "15551234567");
	ck_assert_str_eq(normalise("+85212345678"), "85212345678");
}
END_TEST

START_TEST (test_normalise_refuses_what_is_not_a_number) {
	static const char *const bad[] = {
		"",
		"   ",
		"+",
		"-",
		"138abc45678",
		"138.1234.5678",
		"(025)83271234",
		"138+12345678",
		"++8613812345678",
		"13812345678#",
		"１３８１２３４５６７８", /* full-width digits */
		"123456789012345678901",  /* 21 digits */
	};
	char out[PRIVACY_NUMBER_MAX];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(privacy_normalise_number(bad[i], out) == -1, "'%s' was accepted",
			      bad[i]);
	ck_assert_int_eq(privacy_normalise_number(NULL, out), -1);
	/* Twenty digits is the longest accepted. */
	ck_assert_str_eq(normalise("12345678901234567890"), "12345678901234567890");
}
END_TEST

START_TEST (test_mask_keeps_three_and_four_digits) {
	ck_assert_str_eq(mask("13812345678"), "138****5678");
	ck_assert_str_eq(mask("02583271234"), "025****1234");
	ck_assert_str_eq(mask("83271234"), "832*1234");
	ck_assert_str_eq(mask("12345678901234567890"), "123*************7890");
	/* The masked number never contains the hidden digits. */
	ck_assert_ptr_null(strstr(mask("13812345678"), "1234"));
}
END_TEST

START_TEST (test_mask_short_numbers_show_only_the_last_digit) {
	ck_assert_str_eq(mask("1234567"), "******7");
	ck_assert_str_eq(mask("12320"), "****0");
	ck_assert_str_eq(mask("110"), "**0");
	ck_assert_str_eq(mask("7"), "7");
	ck_assert_str_eq(mask(""), "");
}
END_TEST

START_TEST (test_hash_depends_on_key_and_number) {
	static const unsigned char key1[] = "caller-key-0123456789abcdef012345";
	static const unsigned char key2[] = "caller-key-0123456789abcdef012346";
	unsigned char a[PRIVACY_HASH_BYTES], b[PRIVACY_HASH_BYTES], c[PRIVACY_HASH_BYTES],
		d[PRIVACY_HASH_BYTES];
	char hex[2 * PRIVACY_HASH_BYTES + 1];

	ck_assert_int_ge(sodium_init(), 0);
	privacy_hash_number(key1, sizeof key1 - 1, "13812345678", a);
	privacy_hash_number(key1, sizeof key1 - 1, "13812345678", b);
	privacy_hash_number(key2, sizeof key2 - 1, "13812345678", c);
	privacy_hash_number(key1, sizeof key1 - 1, "13812345679", d);
	ck_assert_mem_eq(a, b, sizeof a);
	ck_assert(memcmp(a, c, sizeof a) != 0);
	ck_assert(memcmp(a, d, sizeof a) != 0);

	/* Computed with:
	 * printf '%s' 13812345678 | openssl dgst -sha256 -hmac caller-key-0123456789abcdef012345 */
	sodium_bin2hex(hex, sizeof hex, a, sizeof a);
	ck_assert_str_eq(hex, "034a58267b62509e6413a4b8f44449dfe2d8f06e36df9df4cd494d408f1bd9f2");
}
END_TEST

START_TEST(test_a_sealed_number_opens_only_with_its_key_and_is_never_clear)
{
	const char *key = "a key of at least thirty-two characters!";
	const char *number = "13812345678";
	unsigned char sealed[64], again[64];
	char out[64];
	ck_assert_int_eq(sodium_init() >= 0, 1);
	privacy_seal(key, number, strlen(number), sealed);
	privacy_seal(key, number, strlen(number), again);
	size_t len = strlen(number) + PRIVACY_SEAL_OVERHEAD;
	/* a fresh nonce each time: two seals of one number differ */
	ck_assert(memcmp(sealed, again, len) != 0);
	ck_assert_ptr_null(memmem(sealed, len, number, strlen(number)));
	ck_assert_int_eq(privacy_open(key, sealed, len, out), (long)strlen(number));
	ck_assert_str_eq(out, number);
	ck_assert_int_eq(privacy_open("another key of at least thirty-two chars", sealed, len, out), -1);
	sealed[len - 1] ^= 1;
	ck_assert_int_eq(privacy_open(key, sealed, len, out), -1);
	ck_assert_int_eq(privacy_open(key, sealed, 10, out), -1);
}
END_TEST

static Suite *privacy_suite(void)
{
	Suite *s = suite_create("privacy");
	TCase *tc = tcase_create("privacy");

	tcase_add_test(tc, test_normalise_keeps_digits_only);
	tcase_add_test(tc, test_normalise_drops_the_chinese_country_code);
	tcase_add_test(tc, test_normalise_refuses_what_is_not_a_number);
	tcase_add_test(tc, test_mask_keeps_three_and_four_digits);
	tcase_add_test(tc, test_mask_short_numbers_show_only_the_last_digit);
	tcase_add_test(tc, test_hash_depends_on_key_and_number);
	tcase_add_test(tc, test_a_sealed_number_opens_only_with_its_key_and_is_never_clear);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(privacy_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

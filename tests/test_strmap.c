/* test_strmap.c: the byte-string hash map (strmap.h): put, get, remove and
 * overwrite, keys with NUL bytes inside, growth, removal in crowded probe
 * runs checked against a plain reference array, and strmap_each. */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

#define KEY_MAX 48

/* Check records a checkpoint for every ck_assert that passes, a write to
 * the runner each time; the loops below make millions of checks, so they
 * test with a plain if and only call into Check on failure. */
#define expect(cond, ...)                                                                          \
	do {                                                                                       \
		if (!(cond))                                                                       \
			ck_abort_msg(__VA_ARGS__);                                                 \
	} while (0)

/* A key the way the broker builds them: centre, a NUL, then an id. */
struct test_key {
	char bytes[KEY_MAX];
	size_t len;
};

static struct test_key centre_key(const char *centre, const char *id)
{
	struct test_key k;
	size_t c = strlen(centre), i = strlen(id);
	expect(c + 1 + i < KEY_MAX, "key too long for the test");
	memcpy(k.bytes, centre, c);
	k.bytes[c] = '\0';
	memcpy(k.bytes + c + 1, id, i);
	k.len = c + 1 + i;
	return k;
}

/* The n-th key of a test: a few centres, many call ids. */
static struct test_key nth_key(unsigned n)
{
	static const char *const centres[] = {"nanjing", "suzhou", "wuxi", "nantong"};
	char id[24];
	snprintf(id, sizeof id, "gw1-%06u", n);
	return centre_key(centres[n % 4], id);
}

static struct strmap *new_map(void)
{
	struct strmap *m = strmap_new();
	ck_assert_ptr_nonnull(m);
	return m;
}

static void put(struct strmap *m, const void *key, size_t len, void *value)
{
	expect(strmap_put(m, key, len, value) == 0, "strmap_put failed");
}

/* xorshift64*: a fixed sequence, the same on every run. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 2685821657736338717ULL;
}

START_TEST (test_put_get_remove_and_overwrite) {
	struct strmap *m = new_map();
	int a = 1, b = 2, c = 3;

	ck_assert_uint_eq(strmap_count(m), 0);
	ck_assert_ptr_null(strmap_get(m, "gw1-000001", 10));
	ck_assert_ptr_null(strmap_remove(m, "gw1-000001", 10));

	put(m, "gw1-000001", 10, &a);
	put(m, "gw1-000002", 10, &b);
	ck_assert_uint_eq(strmap_count(m), 2);
	ck_assert_ptr_eq(strmap_get(m, "gw1-000001", 10), &a);
	ck_assert_ptr_eq(strmap_get(m, "gw1-000002", 10), &b);

	/* Overwriting replaces the value, not the entry. */
	put(m, "gw1-000001", 10, &c);
	ck_assert_uint_eq(strmap_count(m), 2);
	ck_assert_ptr_eq(strmap_get(m, "gw1-000001", 10), &c);

	/* Removing returns the value it had, once. */
	ck_assert_ptr_eq(strmap_remove(m, "gw1-000001", 10), &c);
	ck_assert_uint_eq(strmap_count(m), 1);
	ck_assert_ptr_null(strmap_get(m, "gw1-000001", 10));
	ck_assert_ptr_null(strmap_remove(m, "gw1-000001", 10));
	ck_assert_uint_eq(strmap_count(m), 1);
	ck_assert_ptr_eq(strmap_get(m, "gw1-000002", 10), &b);

	/* And the key can come back. */
	put(m, "gw1-000001", 10, &a);
	ck_assert_ptr_eq(strmap_get(m, "gw1-000001", 10), &a);
	ck_assert_uint_eq(strmap_count(m), 2);
	strmap_free(m);
}
END_TEST

START_TEST (test_keys_are_copied_and_compared_by_length) {
	struct strmap *m = new_map();
	char key[] = "gw1-000001";
	int a = 1, b = 2, c = 3;

	put(m, key, 10, &a);
	/* The caller's buffer may change afterwards. */
	key[9] = '2';
	ck_assert_ptr_null(strmap_get(m, key, 10));
	ck_assert_ptr_eq(strmap_get(m, "gw1-000001", 10), &a);

	/* A prefix and an extension are other keys. */
	ck_assert_ptr_null(strmap_get(m, "gw1-00000", 9));
	ck_assert_ptr_null(strmap_get(m, "gw1-0000011", 11));
	put(m, "gw1-00000", 9, &b);
	put(m, "", 0, &c);
	ck_assert_uint_eq(strmap_count(m), 3);
	ck_assert_ptr_eq(strmap_get(m, "gw1-000001", 10), &a);
	ck_assert_ptr_eq(strmap_get(m, "gw1-00000", 9), &b);
	ck_assert_ptr_eq(strmap_get(m, "", 0), &c);
	ck_assert_ptr_eq(strmap_remove(m, "", 0), &c);
	ck_assert_ptr_eq(strmap_get(m, "gw1-00000", 9), &b);
	strmap_free(m);
}
END_TEST

START_TEST (test_keys_with_embedded_nul_bytes) {
	struct strmap *m = new_map();
	/* Each differs from the others only at or after a NUL byte. */
	static const struct {
		const char *bytes;
		size_t len;
	} keys[] = {
		{"nanjing\0gw1-000001", 18},
		{"nanjing\0gw1-000002", 18},
		{"suzhou\0gw1-000001", 17},
		{"nanjing", 7},
		{"nanjing\0", 8},
		{"nanjing\0\0", 9},
		{"nanjing\0gw1-00000", 17},
		{"\0nanjing", 8},
		{"\0", 1},
		{"nanjin\0ggw1-000001", 18},
	};
	enum { N = sizeof keys / sizeof keys[0] };
	int values[N];

	for (int i = 0; i < N; i++)
		put(m, keys[i].bytes, keys[i].len, &values[i]);
	ck_assert_uint_eq(strmap_count(m), N);
	for (int i = 0; i < N; i++)
		ck_assert_msg(strmap_get(m, keys[i].bytes, keys[i].len) == &values[i],
			      "key %d does not find its own value", i);

	/* Removing one leaves its neighbours. */
	ck_assert_ptr_eq(strmap_remove(m, keys[0].bytes, keys[0].len), &values[0]);
	ck_assert_ptr_null(strmap_get(m, keys[0].bytes, keys[0].len));
	for (int i = 1; i < N; i++)
		ck_assert_ptr_eq(strmap_get(m, keys[i].bytes, keys[i].len), &values[i]);

	/* Built the way the broker builds them. */
	struct test_key k = centre_key("nanjing", "gw1-000001");
	ck_assert_uint_eq(k.len, 18);
	ck_assert_ptr_null(strmap_get(m, k.bytes, k.len));
	put(m, k.bytes, k.len, &values[0]);
	ck_assert_ptr_eq(strmap_get(m, "nanjing\0gw1-000001", 18), &values[0]);
	strmap_free(m);
}
END_TEST

START_TEST (test_growth_past_many_thousand_entries) {
	enum { N = 50000 };
	struct strmap *m = new_map();
	int *values = calloc(N, sizeof *values);
	ck_assert_ptr_nonnull(values);

	for (unsigned i = 0; i < N; i++) {
		struct test_key k = nth_key(i);
		put(m, k.bytes, k.len, &values[i]);
		expect(strmap_count(m) == i + 1, "count %zu after %u puts", strmap_count(m), i + 1);
	}
	for (unsigned i = 0; i < N; i++) {
		struct test_key k = nth_key(i);
		expect(strmap_get(m, k.bytes, k.len) == &values[i], "key %u lost", i);
	}
	for (unsigned i = N; i < N + 1000; i++) {
		struct test_key k = nth_key(i);
		expect(strmap_get(m, k.bytes, k.len) == NULL, "absent key %u found", i);
	}

	/* Remove every other key; the rest stay. */
	for (unsigned i = 0; i < N; i += 2) {
		struct test_key k = nth_key(i);
		expect(strmap_remove(m, k.bytes, k.len) == &values[i], "removing key %u", i);
	}
	ck_assert_uint_eq(strmap_count(m), N / 2);
	for (unsigned i = 0; i < N; i++) {
		struct test_key k = nth_key(i);
		void *want = i % 2 ? &values[i] : NULL;
		expect(strmap_get(m, k.bytes, k.len) == want, "key %u: wrong after removals", i);
	}
	strmap_free(m);
	free(values);
}
END_TEST

/* Random puts, overwrites and removals over a pool of keys, compared after
 * every check_every operations with a plain array. The number of entries is
 * held between lo and hi: just below a growth point the table is at its
 * fullest, probe runs are long, meet each other and wrap around the end of
 * the table, which are the cases backward-shift deletion must get right. */
static void churn_against_reference(unsigned pool, size_t lo, size_t hi, unsigned ops,
				    unsigned check_every, uint64_t seed)
{
	struct strmap *m = new_map();
	struct test_key *keys = calloc(pool, sizeof *keys);
	void **reference = calloc(pool, sizeof *reference);
	int *values = calloc(pool * 2, sizeof *values);
	size_t present = 0;
	uint64_t rnd = seed;

	ck_assert(keys && reference && values);
	for (unsigned i = 0; i < pool; i++)
		keys[i] = nth_key(i);

	for (unsigned op = 0; op < ops; op++) {
		unsigned i = (unsigned)(next_random(&rnd) % pool);
		bool do_put = next_random(&rnd) % 2 == 0;
		if (present < lo || present >= hi) {
			/* Steer back into the band: find a key to add or to drop. */
			do_put = present < lo;
			while ((reference[i] == NULL) != do_put)
				i = (unsigned)(next_random(&rnd) % pool);
		}
		if (do_put) {
			/* One of two values, so that overwrites change something. */
			void *v = &values[i * 2 + (next_random(&rnd) & 1)];
			put(m, keys[i].bytes, keys[i].len, v);
			if (reference[i] == NULL)
				present++;
			reference[i] = v;
		} else {
			void *got = strmap_remove(m, keys[i].bytes, keys[i].len);
			expect(got == reference[i], "op %u: removing key %u gave %p, want %p", op,
			       i, got, reference[i]);
			if (reference[i] != NULL)
				present--;
			reference[i] = NULL;
		}
		expect(strmap_count(m) == present, "op %u: count %zu, want %zu", op,
		       strmap_count(m), present);
		if (op % check_every != 0)
			continue;
		for (unsigned k = 0; k < pool; k++)
			expect(strmap_get(m, keys[k].bytes, keys[k].len) == reference[k],
			       "op %u: key %u unreachable or wrong", op, k);
	}
	for (unsigned k = 0; k < pool; k++)
		expect(strmap_get(m, keys[k].bytes, keys[k].len) == reference[k],
		       "key %u at the end", k);
	strmap_free(m);
	free(keys);
	free(reference);
	free(values);
}

START_TEST (test_removal_in_crowded_runs_keeps_every_other_key) {
	/* The map starts with 64 slots and grows past three quarters full:
	 * 40 to 47 entries keep it at 64 slots, 80 to 95 at 128. */
	churn_against_reference(200, 40, 47, 50000, 1, 0x12320);
	churn_against_reference(200, 80, 95, 50000, 1, 0x2019);
	/* A larger table, checked less often. */
	churn_against_reference(6000, 2500, 3050, 200000, 97, 0x8320);
}
END_TEST

START_TEST (test_removal_down_to_empty_and_back) {
	enum { N = 5000 };
	struct strmap *m = new_map();
	int values[2];

	for (int round = 0; round < 2; round++) {
		for (unsigned i = 0; i < N; i++) {
			struct test_key k = nth_key(i);
			put(m, k.bytes, k.len, &values[round]);
		}
		/* Remove from the end so that later runs are emptied first. */
		for (unsigned i = N; i-- > 0;) {
			struct test_key k = nth_key(i);
			expect(strmap_remove(m, k.bytes, k.len) == &values[round],
			       "removing key %u", i);
			if (i % 500 == 0)
				for (unsigned j = 0; j < i; j++) {
					struct test_key other = nth_key(j);
					expect(strmap_get(m, other.bytes, other.len) ==
						       &values[round],
					       "key %u lost after removing key %u", j, i);
				}
		}
		ck_assert_uint_eq(strmap_count(m), 0);
	}
	strmap_free(m);
}
END_TEST

struct visit_log {
	unsigned pool;
	unsigned *seen; /* times each key index was visited */
	int *values;
	unsigned calls;
};

static void visit(const char *key, size_t key_len, void *value, void *arg)
{
	struct visit_log *log = arg;
	unsigned i = (unsigned)((int *)value - log->values);

	log->calls++;
	expect(i < log->pool, "a value that was never put");
	struct test_key want = nth_key(i);
	expect(key_len == want.len && memcmp(key, want.bytes, want.len) == 0,
	       "key %u comes with another key", i);
	expect(key[key_len] == '\0', "key %u is not NUL-terminated", i);
	log->seen[i]++;
}

START_TEST (test_each_visits_every_entry_once) {
	enum { N = 3000 };
	struct strmap *m = new_map();
	int *values = calloc(N, sizeof *values);
	unsigned *seen = calloc(N, sizeof *seen);
	struct visit_log log = {N, seen, values, 0};

	ck_assert(values && seen);
	strmap_each(m, visit, &log);
	ck_assert_uint_eq(log.calls, 0);

	for (unsigned i = 0; i < N; i++) {
		struct test_key k = nth_key(i);
		put(m, k.bytes, k.len, &values[i]);
	}
	/* Overwrite a few: still one entry each. */
	for (unsigned i = 0; i < N; i += 7) {
		struct test_key k = nth_key(i);
		put(m, k.bytes, k.len, &values[i]);
	}
	/* And remove every third. */
	for (unsigned i = 0; i < N; i += 3) {
		struct test_key k = nth_key(i);
		expect(strmap_remove(m, k.bytes, k.len) == &values[i], "removing key %u", i);
	}
	strmap_each(m, visit, &log);
	ck_assert_uint_eq(log.calls, strmap_count(m));
	for (unsigned i = 0; i < N; i++)
		expect(seen[i] == (i % 3 == 0 ? 0u : 1u), "key %u visited %u times", i, seen[i]);
	strmap_free(m);
	free(values);
	free(seen);
}
END_TEST

START_TEST (test_free_accepts_null) {
	strmap_free(NULL);
	strmap_free(new_map());
}
END_TEST

static Suite *strmap_suite(void)
{
	Suite *s = suite_create("strmap");
	TCase *tc = tcase_create("strmap");

	tcase_add_test(tc, test_put_get_remove_and_overwrite);
	tcase_add_test(tc, test_keys_are_copied_and_compared_by_length);
	tcase_add_test(tc, test_keys_with_embedded_nul_bytes);
	tcase_add_test(tc, test_growth_past_many_thousand_entries);
	tcase_add_test(tc, test_removal_in_crowded_runs_keeps_every_other_key);
	tcase_add_test(tc, test_removal_down_to_empty_and_back);
	tcase_add_test(tc, test_each_visits_every_entry_once);
	tcase_add_test(tc, test_free_accepts_null);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(strmap_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

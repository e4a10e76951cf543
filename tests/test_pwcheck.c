/* test_pwcheck.c: password checks on worker threads (pwcheck.h) with real
 * threads and a real event_base: answers, that the loop keeps running while a
 * check runs, exactly-once delivery on the loop thread, the max_pending bound,
 * cancel and free with checks in flight (ASan sees any leak); and the login
 * tokens. Hashes are made at libsodium's minimum cost for speed, plus one at
 * the agents' (interactive) cost. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <sodium.h>

#include "pwcheck.h"

#define PASSWORD "correct horse battery staple"
#define DEADLINE_S 30

static struct event_base *base;
static pthread_t loop_thread;
static char hash_min[PWCHECK_HASH_MAX]; /* PASSWORD at the minimum cost */

/* What one check's callback saw. */
struct outcome {
	int calls;
	int result;
	bool off_loop_thread; /* called on another thread than the loop's */
	bool inside_submit;   /* called while pwcheck_submit was running */
};

static int delivered;   /* callbacks of the current test */
static bool submitting; /* a test is inside pwcheck_submit */

static void make_hash(char out[PWCHECK_HASH_MAX], const char *password, size_t len,
		      unsigned long long ops, size_t mem, int alg)
{
	ck_assert_int_eq(crypto_pwhash_str_alg(out, password, len, ops, mem, alg), 0);
}

static void make_min_hash(char out[PWCHECK_HASH_MAX], const char *password, size_t len)
{
	make_hash(out, password, len, crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN,
		  crypto_pwhash_ALG_ARGON2ID13);
}

/* PASSWORD at the cost agents.c hashes with: about a tenth of a second and
 * 64 MiB to check. */
static void make_interactive_hash(char out[PWCHECK_HASH_MAX])
{
	make_hash(out, PASSWORD, strlen(PASSWORD), crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
		  crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13);
}

static void setup(void)
{
	ck_assert_int_ge(sodium_init(), 0);
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	loop_thread = pthread_self();
	delivered = 0;
	submitting = false;
	make_min_hash(hash_min, PASSWORD, strlen(PASSWORD));
}

static void teardown(void)
{
	event_base_free(base);
}

static void record(void *arg, int result)
{
	struct outcome *o = arg;

	o->calls++;
	o->result = result;
	if (!pthread_equal(pthread_self(), loop_thread))
		o->off_loop_thread = true;
	if (submitting)
		o->inside_submit = true;
	delivered++;
}

static int submit(struct pwcheck *p, const char *hash, const char *password, size_t len,
		  pwcheck_done_fn done, void *arg)
{
	submitting = true;
	int rc = pwcheck_submit(p, hash, password, len, done, arg);
	submitting = false;
	return rc;
}

static int submit_password(struct pwcheck *p, const char *hash, const char *password,
			   struct outcome *o)
{
	return submit(p, hash, password, strlen(password), record, o);
}

/* Asserts that exactly one callback came, on the loop thread, from the loop,
 * with result. */
static void expect_delivered_once(const struct outcome *o, int result)
{
	ck_assert_int_eq(o->calls, 1);
	ck_assert_int_eq(o->result, result);
	ck_assert(!o->off_loop_thread);
	ck_assert(!o->inside_submit);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Runs the loop until stop() says so. While checks are pending the checker
 * must have an event on the loop, so a loop with nothing to wait for is a
 * failure, not a reason to spin. */
static void run_loop_until(bool (*stop)(struct pwcheck *p), struct pwcheck *p)
{
	double deadline = now_s() + DEADLINE_S;

	while (!stop(p)) {
		ck_assert_msg(now_s() < deadline, "nothing delivered within %d s (%d so far)",
			      DEADLINE_S, delivered);
		int rc = event_base_loop(base, EVLOOP_ONCE);
		ck_assert_msg(rc == 0, "the loop had nothing to wait for with %zu check(s) pending",
			      pwcheck_pending(p));
	}
}

static bool nothing_pending(struct pwcheck *p)
{
	return pwcheck_pending(p) == 0;
}

static void run_until_nothing_pending(struct pwcheck *p)
{
	run_loop_until(nothing_pending, p);
}

/* Runs whatever is ready on the loop without waiting. */
static void run_loop_briefly(void)
{
	for (int i = 0; i < 5; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

/* ------------------------------------------------------------------------ */
/* answers                                                                   */
/* ------------------------------------------------------------------------ */

START_TEST (test_right_password_matches) {
	struct pwcheck *p = pwcheck_new(base, 2, 8);
	struct outcome o = {0};

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(submit_password(p, hash_min, PASSWORD, &o), 0);
	ck_assert_int_eq(o.calls, 0);
	ck_assert_uint_eq(pwcheck_pending(p), 1);
	run_until_nothing_pending(p);
	expect_delivered_once(&o, 0);
	pwcheck_free(p);
}
END_TEST

START_TEST (test_wrong_password_is_refused) {
	struct pwcheck *p = pwcheck_new(base, 2, 8);
	struct outcome wrong = {0}, prefix = {0}, longer = {0}, empty = {0};

	ck_assert_int_eq(submit_password(p, hash_min, "correct horse battery stapler", &wrong), 0);
	ck_assert_int_eq(submit_password(p, hash_min, "correct horse", &prefix), 0);
	ck_assert_int_eq(submit_password(p, hash_min, PASSWORD " ", &longer), 0);
	ck_assert_int_eq(submit(p, hash_min, NULL, 0, record, &empty), 0);
	run_until_nothing_pending(p);
	expect_delivered_once(&wrong, -EACCES);
	expect_delivered_once(&prefix, -EACCES);
	expect_delivered_once(&longer, -EACCES);
	expect_delivered_once(&empty, -EACCES);
	pwcheck_free(p);
}
END_TEST

START_TEST (test_password_length_is_honoured_not_its_first_nul) {
	static const char with_nul[] = "abc\0def";
	char hash_with_nul[PWCHECK_HASH_MAX], hash_empty[PWCHECK_HASH_MAX];
	struct pwcheck *p = pwcheck_new(base, 2, 8);
	struct outcome whole = {0}, cut = {0}, empty = {0};

	make_min_hash(hash_with_nul, with_nul, sizeof with_nul - 1);
	make_min_hash(hash_empty, "", 0);
	ck_assert_int_eq(submit(p, hash_with_nul, with_nul, sizeof with_nul - 1, record, &whole),
			 0);
	ck_assert_int_eq(submit(p, hash_with_nul, with_nul, 3, record, &cut), 0);
	ck_assert_int_eq(submit(p, hash_empty, NULL, 0, record, &empty), 0);
	run_until_nothing_pending(p);
	expect_delivered_once(&whole, 0);
	expect_delivered_once(&cut, -EACCES);
	expect_delivered_once(&empty, 0);
	pwcheck_free(p);
}
END_TEST

START_TEST (test_what_is_not_an_argon2id_hash_is_refused) {
	char argon2i[PWCHECK_HASH_MAX], truncated[PWCHECK_HASH_MAX], longest[PWCHECK_HASH_MAX];
	struct pwcheck *p = pwcheck_new(base, 2, 16);

	/* The right password, but Argon2i: not what agents are hashed with. */
	make_hash(argon2i, PASSWORD, strlen(PASSWORD), crypto_pwhash_argon2i_OPSLIMIT_MIN,
		  crypto_pwhash_argon2i_MEMLIMIT_MIN, crypto_pwhash_ALG_ARGON2I13);
	ck_assert_int_eq(crypto_pwhash_str_verify(argon2i, PASSWORD, strlen(PASSWORD)), 0);
	snprintf(truncated, sizeof truncated, "%.*s", (int)strlen(hash_min) - 10, hash_min);
	/* The longest hash accepted: 127 characters, of garbage. */
	memset(longest, 'x', sizeof longest - 1);
	longest[sizeof longest - 1] = '\0';

	const char *const garbage[] = {
		"",
		"not a hash",
		"$argon2id$",
		"$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
		"$argon2id$v=19$m=99999999999,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo",
		"$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
		argon2i,
		truncated,
		longest,
	};
	enum { N = sizeof garbage / sizeof garbage[0] };
	struct outcome o[N] = {{0}};

	for (size_t i = 0; i < N; i++)
		ck_assert_int_eq(submit_password(p, garbage[i], PASSWORD, &o[i]), 0);
	run_until_nothing_pending(p);
	for (size_t i = 0; i < N; i++) {
		ck_assert_msg(o[i].result == -EACCES, "hash %zu ('%s'): result %d", i, garbage[i],
			      o[i].result);
		expect_delivered_once(&o[i], -EACCES);
	}
	pwcheck_free(p);
}
END_TEST

START_TEST (test_submit_refuses_what_it_cannot_take) {
	char long_password[PWCHECK_PASSWORD_MAX_BYTES + 1];
	char long_hash[PWCHECK_HASH_MAX + 1];
	struct pwcheck *p = pwcheck_new(base, 1, 8);
	struct outcome o = {0};

	memset(long_password, 'p', sizeof long_password);
	memset(long_hash, 'h', sizeof long_hash - 1);
	long_hash[sizeof long_hash - 1] = '\0'; /* 128 characters: no room for the NUL */

	ck_assert_int_eq(submit(p, hash_min, long_password, sizeof long_password, record, &o),
			 -EINVAL);
	ck_assert_int_eq(submit(p, long_hash, PASSWORD, strlen(PASSWORD), record, &o), -EINVAL);
	ck_assert_int_eq(submit(p, NULL, PASSWORD, strlen(PASSWORD), record, &o), -EINVAL);
	ck_assert_int_eq(submit(p, hash_min, NULL, 5, record, &o), -EINVAL);
	ck_assert_int_eq(submit(p, hash_min, PASSWORD, strlen(PASSWORD), NULL, &o), -EINVAL);
	ck_assert_uint_eq(pwcheck_pending(p), 0);

	/* The longest password is taken (and is wrong). */
	ck_assert_int_eq(submit(p, hash_min, long_password, PWCHECK_PASSWORD_MAX_BYTES, record, &o),
			 0);
	run_until_nothing_pending(p);
	expect_delivered_once(&o, -EACCES);
	pwcheck_free(p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* off the loop, on the loop thread                                          */
/* ------------------------------------------------------------------------ */

START_TEST (test_only_the_loop_delivers_never_submit) {
	struct pwcheck *p = pwcheck_new(base, 1, 8);
	struct outcome o = {0};

	/* A garbage hash is refused at once by the worker; the answer still
	 * waits for the loop. */
	ck_assert_int_eq(submit_password(p, "not a hash", PASSWORD, &o), 0);
	sleep_ms(200);
	ck_assert_int_eq(o.calls, 0);
	ck_assert_uint_eq(pwcheck_pending(p), 1);
	run_until_nothing_pending(p);
	expect_delivered_once(&o, -EACCES);
	pwcheck_free(p);
}
END_TEST

struct ticker {
	struct event *ev;
	const struct outcome *check; /* the check being waited for */
	int ticks_during_check;
};

static void tick(evutil_socket_t fd, short what, void *arg)
{
	struct ticker *t = arg;
	if (t->check->calls == 0)
		t->ticks_during_check++;
}

START_TEST (test_the_loop_keeps_running_during_an_interactive_cost_check) {
	char hash_interactive[PWCHECK_HASH_MAX];
	struct pwcheck *p = pwcheck_new(base, 1, 8);
	struct outcome o = {0};
	struct ticker t = {.check = &o};
	const struct timeval every_ms = {0, 1000};

	make_interactive_hash(hash_interactive);
	t.ev = event_new(base, -1, EV_PERSIST, tick, &t);
	ck_assert_int_eq(event_add(t.ev, &every_ms), 0);

	double started = now_s();
	ck_assert_int_eq(submit_password(p, hash_interactive, PASSWORD, &o), 0);
	double submit_took = now_s() - started;
	run_loop_until(nothing_pending, p);
	double check_took = now_s() - started;

	expect_delivered_once(&o, 0);
	/* Had the check run on the loop, a 1 ms timer could have fired at most
	 * once before the answer. */
	ck_assert_msg(t.ticks_during_check >= 5,
		      "the timer fired %d time(s) during a %.3f s check (submit took %.3f s)",
		      t.ticks_during_check, check_took, submit_took);
	event_free(t.ev);
	pwcheck_free(p);
}
END_TEST

#define MANY 120

static bool delivered_many(struct pwcheck *p)
{
	return delivered == MANY;
}

START_TEST (test_many_concurrent_checks_all_complete_exactly_once) {
	static struct outcome o[MANY];
	char hash_other[PWCHECK_HASH_MAX];
	struct pwcheck *p = pwcheck_new(base, 4, MANY);

	make_min_hash(hash_other, "another password", strlen("another password"));
	memset(o, 0, sizeof o);
	for (int i = 0; i < MANY; i++) {
		switch (i % 4) {
		case 0:
			ck_assert_int_eq(submit_password(p, hash_min, PASSWORD, &o[i]), 0);
			break;
		case 1:
			ck_assert_int_eq(submit_password(p, hash_min, "another password", &o[i]),
					 0);
			break;
		case 2:
			ck_assert_int_eq(submit_password(p, hash_other, "another password", &o[i]),
					 0);
			break;
		default:
			ck_assert_int_eq(submit_password(p, "garbage", PASSWORD, &o[i]), 0);
			break;
		}
	}
	ck_assert_uint_eq(pwcheck_pending(p), MANY);
	run_loop_until(delivered_many, p);
	for (int i = 0; i < MANY; i++)
		expect_delivered_once(&o[i], i % 4 == 0 || i % 4 == 2 ? 0 : -EACCES);
	ck_assert_uint_eq(pwcheck_pending(p), 0);

	/* Nothing more comes, and an idle checker leaves the loop nothing to
	 * wait for: event_base_dispatch returns at once. */
	run_loop_briefly();
	ck_assert_int_eq(delivered, MANY);
	ck_assert_int_eq(event_base_dispatch(base), 1);
	pwcheck_free(p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* the max_pending bound                                                     */
/* ------------------------------------------------------------------------ */

START_TEST (test_beyond_max_pending_submit_says_again) {
	struct pwcheck *p = pwcheck_new(base, 1, 3);
	struct outcome o[4] = {{0}};

	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(submit_password(p, hash_min, PASSWORD, &o[i]), 0);
	ck_assert_int_eq(submit_password(p, hash_min, PASSWORD, &o[3]), -EAGAIN);
	ck_assert_uint_eq(pwcheck_pending(p), 3);

	/* Finished but not delivered still counts: the loop frees the slots. */
	sleep_ms(200);
	ck_assert_int_eq(submit_password(p, hash_min, PASSWORD, &o[3]), -EAGAIN);
	run_until_nothing_pending(p);
	for (int i = 0; i < 3; i++)
		expect_delivered_once(&o[i], 0);
	ck_assert_int_eq(o[3].calls, 0);

	ck_assert_int_eq(submit_password(p, hash_min, PASSWORD, &o[3]), 0);
	run_until_nothing_pending(p);
	expect_delivered_once(&o[3], 0);
	pwcheck_free(p);
}
END_TEST

struct chain {
	struct pwcheck *p;
	struct outcome first, second;
	int resubmit_rc;
};

static void record_and_submit_again(void *arg, int result)
{
	struct chain *c = arg;

	record(&c->first, result);
	c->resubmit_rc =
		pwcheck_submit(c->p, hash_min, PASSWORD, strlen(PASSWORD), record, &c->second);
}

START_TEST (test_a_callback_may_submit_into_the_slot_it_freed) {
	struct chain c = {.resubmit_rc = 1};

	c.p = pwcheck_new(base, 1, 1);
	ck_assert_int_eq(submit(c.p, hash_min, "wrong", 5, record_and_submit_again, &c), 0);
	run_until_nothing_pending(c.p);
	expect_delivered_once(&c.first, -EACCES);
	ck_assert_int_eq(c.resubmit_rc, 0);
	expect_delivered_once(&c.second, 0);
	pwcheck_free(c.p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* cancel and free                                                           */
/* ------------------------------------------------------------------------ */

START_TEST (test_cancel_suppresses_the_callback) {
	struct pwcheck *p = pwcheck_new(base, 1, 8);
	struct outcome a = {0}, b = {0}, c = {0}, unrelated = {0};

	ck_assert_int_eq(submit_password(p, hash_min, PASSWORD, &a), 0);
	ck_assert_int_eq(submit_password(p, hash_min, PASSWORD, &b), 0);
	ck_assert_int_eq(submit_password(p, hash_min, "wrong", &a), 0);
	ck_assert_int_eq(submit_password(p, hash_min, "wrong", &c), 0);
	pwcheck_cancel(p, &a);
	/* The second check of a was surely still queued: it goes at once. */
	size_t left = pwcheck_pending(p);
	ck_assert_uint_le(left, 3);
	ck_assert_uint_ge(left, 2);
	/* An arg with no checks changes nothing. */
	pwcheck_cancel(p, &unrelated);
	ck_assert_uint_eq(pwcheck_pending(p), left);
	run_until_nothing_pending(p);
	ck_assert_int_eq(a.calls, 0);
	expect_delivered_once(&b, 0);
	expect_delivered_once(&c, -EACCES);
	pwcheck_free(p);
}
END_TEST

START_TEST (test_cancel_drops_a_finished_check_not_yet_delivered) {
	struct pwcheck *p = pwcheck_new(base, 1, 8);
	struct outcome a = {0};

	ck_assert_int_eq(submit_password(p, hash_min, PASSWORD, &a), 0);
	sleep_ms(200); /* the worker is done; only the loop has not run */
	pwcheck_cancel(p, &a);
	ck_assert_uint_eq(pwcheck_pending(p), 0);
	run_loop_briefly();
	ck_assert_int_eq(a.calls, 0);
	pwcheck_free(p);
}
END_TEST

START_TEST (test_cancel_of_a_running_check_waits_for_it_silently) {
	char hash_interactive[PWCHECK_HASH_MAX];
	struct pwcheck *p = pwcheck_new(base, 1, 8);
	struct outcome a = {0}, b = {0};

	make_interactive_hash(hash_interactive);
	ck_assert_int_eq(submit_password(p, hash_interactive, PASSWORD, &a), 0);
	ck_assert_int_eq(submit_password(p, hash_min, PASSWORD, &b), 0);
	sleep_ms(20); /* the worker has most likely started on a */
	pwcheck_cancel(p, &a);
	/* Running, it still holds its slot until the worker is done. */
	ck_assert_uint_ge(pwcheck_pending(p), 1);
	run_until_nothing_pending(p);
	ck_assert_int_eq(a.calls, 0);
	expect_delivered_once(&b, 0);
	pwcheck_free(p);
}
END_TEST

/* Two checks whose callbacks each cancel the other. */
struct rival {
	struct pwcheck *p;
	struct outcome o;
	struct rival *other;
};

static void record_and_cancel_rival(void *arg, int result)
{
	struct rival *r = arg;
	record(&r->o, result);
	pwcheck_cancel(r->p, r->other);
}

START_TEST (test_cancel_from_a_callback_reaches_checks_not_yet_delivered) {
	struct pwcheck *p = pwcheck_new(base, 2, 8);
	struct rival r[2] = {{p, {0}, &r[1]}, {p, {0}, &r[0]}};

	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(submit(p, hash_min, PASSWORD, strlen(PASSWORD),
					record_and_cancel_rival, &r[i]),
				 0);
	sleep_ms(200); /* both are most likely finished: one delivery pass */
	run_until_nothing_pending(p);
	ck_assert_int_eq(r[0].o.calls + r[1].o.calls, 1);
	ck_assert_int_eq(delivered, 1);
	pwcheck_free(p);
}
END_TEST

START_TEST (test_free_with_checks_pending_calls_nothing_and_leaks_nothing) {
	char hash_interactive[PWCHECK_HASH_MAX];
	struct pwcheck *p = pwcheck_new(base, 2, 64);
	struct outcome o = {0};

	make_interactive_hash(hash_interactive);
	/* Some finished and waiting for the loop, two running, many queued. */
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(submit_password(p, hash_min, PASSWORD, &o), 0);
	sleep_ms(100);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(submit_password(p, hash_interactive, PASSWORD, &o), 0);
	for (int i = 0; i < 40; i++)
		ck_assert_int_eq(submit_password(p, hash_min, "wrong", &o), 0);
	sleep_ms(10);
	pwcheck_free(p);
	run_loop_briefly();
	ck_assert_int_eq(o.calls, 0);
	/* Its event is gone with it: the loop has nothing left to wait for. */
	ck_assert_int_eq(event_base_dispatch(base), 1);

	/* A checker that never checked anything, and NULL. */
	pwcheck_free(pwcheck_new(base, 3, 1));
	pwcheck_free(NULL);
}
END_TEST

struct freer {
	struct pwcheck *p;
	struct outcome o;
};

static void record_and_free(void *arg, int result)
{
	struct freer *f = arg;
	record(&f->o, result);
	pwcheck_free(f->p);
}

START_TEST (test_free_from_a_callback_stops_delivery_once_it_returns) {
	struct freer f[3] = {{0}};
	struct pwcheck *p = pwcheck_new(base, 1, 8);

	for (int i = 0; i < 3; i++) {
		f[i].p = p;
		ck_assert_int_eq(
			submit(p, hash_min, PASSWORD, strlen(PASSWORD), record_and_free, &f[i]), 0);
	}
	sleep_ms(200); /* all most likely finished: one delivery pass */
	double deadline = now_s() + DEADLINE_S;
	while (delivered == 0) {
		ck_assert(now_s() < deadline);
		ck_assert_int_eq(event_base_loop(base, EVLOOP_ONCE), 0);
	}
	run_loop_briefly();
	ck_assert_int_eq(delivered, 1);
	ck_assert_int_eq(f[0].o.calls, 1);
	ck_assert_int_eq(event_base_dispatch(base), 1);
}
END_TEST

START_TEST (test_new_refuses_zero_counts) {
	errno = 0;
	ck_assert_ptr_null(pwcheck_new(base, 0, 8));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(pwcheck_new(base, 2, 0));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(pwcheck_new(NULL, 2, 8));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* login tokens                                                              */
/* ------------------------------------------------------------------------ */

static bool is_base64url(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

#define TOKENS 200

START_TEST (test_tokens_are_43_base64url_characters_and_never_repeat) {
	static char tokens[TOKENS][PWCHECK_TOKEN_CHARS + 1];
	unsigned char sha[32], want[32], again[32];

	for (int i = 0; i < TOKENS; i++) {
		memset(tokens[i], '!', sizeof tokens[i]);
		pwcheck_new_token(tokens[i], sha);
		ck_assert_uint_eq(strlen(tokens[i]), PWCHECK_TOKEN_CHARS);
		for (int k = 0; k < PWCHECK_TOKEN_CHARS; k++)
			ck_assert_msg(is_base64url(tokens[i][k]), "token '%s', character %d",
				      tokens[i], k);
		/* The hash is of the text the client will present. */
		crypto_hash_sha256(want, (const unsigned char *)tokens[i], PWCHECK_TOKEN_CHARS);
		ck_assert_mem_eq(sha, want, sizeof want);
		ck_assert_int_eq(pwcheck_token_hash(tokens[i], again), 0);
		ck_assert_mem_eq(again, want, sizeof want);
		for (int j = 0; j < i; j++)
			ck_assert_str_ne(tokens[i], tokens[j]);
	}
}
END_TEST

START_TEST (test_token_hash_is_sha256_of_the_text) {
	/* printf %s 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO-_' | sha256sum */
	static const char token[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO-_";
	unsigned char sha[32];
	char hex[65];

	ck_assert_int_eq(pwcheck_token_hash(token, sha), 0);
	sodium_bin2hex(hex, sizeof hex, sha, sizeof sha);
	ck_assert_str_eq(hex, "2747acbc31e87abf2cacf5e0c47e0d9d3a39ebf1efef420b221d4ef49430d022");
}
END_TEST

START_TEST (test_token_hash_refuses_what_is_not_a_token) {
	static const char not_base64url[] = "+/= .\t\x80\xc3";
	char good[PWCHECK_TOKEN_CHARS + 1], bad[PWCHECK_TOKEN_CHARS + 2];
	unsigned char sha[32], untouched[32];

	memset(untouched, 0xa5, sizeof untouched);
	pwcheck_new_token(good, sha);

	/* One character outside the alphabet, anywhere. */
	for (size_t i = 0; i < sizeof not_base64url - 1; i++) {
		for (size_t at = 0; at < PWCHECK_TOKEN_CHARS; at += 21) {
			memcpy(bad, good, sizeof good);
			bad[at] = not_base64url[i];
			memcpy(sha, untouched, sizeof sha);
			ck_assert_msg(pwcheck_token_hash(bad, sha) == -EINVAL,
				      "'%s' (0x%02x at %zu) was taken", bad,
				      (unsigned char)not_base64url[i], at);
			ck_assert_mem_eq(sha, untouched, sizeof sha);
		}
	}
	/* One character short, one too many, empty, and NULL. */
	memcpy(bad, good, sizeof good);
	bad[PWCHECK_TOKEN_CHARS - 1] = '\0';
	ck_assert_int_eq(pwcheck_token_hash(bad, sha), -EINVAL);
	snprintf(bad, sizeof bad, "%sA", good);
	ck_assert_int_eq(pwcheck_token_hash(bad, sha), -EINVAL);
	ck_assert_int_eq(pwcheck_token_hash("", sha), -EINVAL);
	ck_assert_int_eq(pwcheck_token_hash(NULL, sha), -EINVAL);
	ck_assert_mem_eq(sha, untouched, sizeof sha);
	ck_assert_int_eq(pwcheck_token_hash(good, sha), 0);
}
END_TEST

static Suite *pwcheck_suite(void)
{
	Suite *s = suite_create("pwcheck");
	TCase *answers = tcase_create("answers");
	TCase *loop = tcase_create("loop");
	TCase *bound = tcase_create("bound");
	TCase *cancel = tcase_create("cancel and free");
	TCase *tokens = tcase_create("tokens");

	tcase_add_checked_fixture(answers, setup, teardown);
	tcase_add_test(answers, test_right_password_matches);
	tcase_add_test(answers, test_wrong_password_is_refused);
	tcase_add_test(answers, test_password_length_is_honoured_not_its_first_nul);
	tcase_add_test(answers, test_what_is_not_an_argon2id_hash_is_refused);
	tcase_add_test(answers, test_submit_refuses_what_it_cannot_take);
	tcase_add_test(answers, test_new_refuses_zero_counts);
	suite_add_tcase(s, answers);

	tcase_add_checked_fixture(loop, setup, teardown);
	tcase_add_test(loop, test_only_the_loop_delivers_never_submit);
	tcase_add_test(loop, test_the_loop_keeps_running_during_an_interactive_cost_check);
	tcase_add_test(loop, test_many_concurrent_checks_all_complete_exactly_once);
	suite_add_tcase(s, loop);

	tcase_add_checked_fixture(bound, setup, teardown);
	tcase_add_test(bound, test_beyond_max_pending_submit_says_again);
	tcase_add_test(bound, test_a_callback_may_submit_into_the_slot_it_freed);
	suite_add_tcase(s, bound);

	tcase_add_checked_fixture(cancel, setup, teardown);
	tcase_add_test(cancel, test_cancel_suppresses_the_callback);
	tcase_add_test(cancel, test_cancel_drops_a_finished_check_not_yet_delivered);
	tcase_add_test(cancel, test_cancel_of_a_running_check_waits_for_it_silently);
	tcase_add_test(cancel, test_cancel_from_a_callback_reaches_checks_not_yet_delivered);
	tcase_add_test(cancel, test_free_with_checks_pending_calls_nothing_and_leaks_nothing);
	tcase_add_test(cancel, test_free_from_a_callback_stops_delivery_once_it_returns);
	suite_add_tcase(s, cancel);

	tcase_add_checked_fixture(tokens, setup, teardown);
	tcase_add_test(tokens, test_tokens_are_43_base64url_characters_and_never_repeat);
	tcase_add_test(tokens, test_token_hash_is_sha256_of_the_text);
	tcase_add_test(tokens, test_token_hash_refuses_what_is_not_a_token);
	suite_add_tcase(s, tokens);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pwcheck_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* test_agents.c: agent provisioning. The unit part checks skill specs, the
 * input checks and passwords (reading, Argon2id hashing) without a server; the
 * integration part runs the built hotline-admin against a fresh migrated
 * database per test and reads the tables behind it: add, list, set and disable
 * round trips, what is refused and how it is explained, that no clear password
 * reaches the database, and that the agent state log is append-only. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "agentpool.h"
#include "agents.h"
#include "harness.h"

extern char **environ;

/* ------------------------------------------------------------------------ */
/* skill specs                                                               */
/* ------------------------------------------------------------------------ */

START_TEST(test_skill_spec_gives_name_and_level)
{
	struct agents_skill s;
	char err[256];

	ck_assert_int_eq(agents_parse_skill("booking:5", &s, err, sizeof err), 0);
	ck_assert_str_eq(s.name, "booking");
	ck_assert_int_eq(s.level, 5);
	ck_assert_int_eq(agents_parse_skill("nanjing_dialect:9", &s, err, sizeof err), 0);
	ck_assert_str_eq(s.name, "nanjing_dialect");
	ck_assert_int_eq(s.level, 9);
	ck_assert_int_eq(agents_parse_skill("a:1", &s, err, sizeof err), 0);
	ck_assert_str_eq(s.name, "a");
	ck_assert_int_eq(s.level, 1);
	/* 32 characters is the longest name. */
	ck_assert_int_eq(agents_parse_skill("abcdefghijklmnopqrstuvwxyz_01234:3", &s, err,
					    sizeof err),
			 0);
	ck_assert_str_eq(s.name, "abcdefghijklmnopqrstuvwxyz_01234");
}
END_TEST

/* Each bad spec and a phrase its error must contain. */
static const struct {
	const char *spec;
	const char *says;
} bad_skills[] = {
	{"", "empty"},
	{"booking", "'booking': the level is missing"},
	{":5", "the name is missing"},
	{"booking:", "give a digit from 1 to 9"},
	{"booking:0", "must be one digit from 1 to 9"},
	{"booking:10", "the level '10' must be one digit"},
	{"booking:5x", "the level '5x'"},
	{"booking: 5", "the level ' 5'"},
	{"booking:-1", "the level '-1'"},
	{"Booking:5", "only a-z, 0-9 and _, not 'B'"},
	{"book ing:5", "not byte 0x20"},
	{"普通话:5", "not byte 0xe6"},
	{"a:b:1", "the level 'b:1'"},
	{"abcdefghijklmnopqrstuvwxyz_012345:3", "the name has 33 characters, at most 32"},
};

START_TEST(test_skill_spec_errors_say_what_is_wrong)
{
	struct agents_skill s;
	char err[256];

	for (size_t i = 0; i < sizeof bad_skills / sizeof bad_skills[0]; i++) {
		err[0] = '\0';
		ck_assert_msg(agents_parse_skill(bad_skills[i].spec, &s, err, sizeof err) == -EINVAL,
			      "'%s' was accepted", bad_skills[i].spec);
		ck_assert_msg(strstr(err, bad_skills[i].says) != NULL, "'%s': %s",
			      bad_skills[i].spec, err);
	}
}
END_TEST

/* ------------------------------------------------------------------------ */
/* input checks                                                              */
/* ------------------------------------------------------------------------ */

START_TEST(test_agent_ids_use_the_gateway_alphabet)
{
	char err[256], long_id[AGENTS_ID_MAX + 2];

	ck_assert_int_eq(agents_check_id("a001", err, sizeof err), 0);
	ck_assert_int_eq(agents_check_id("Zhang.Wei_2:night-1", err, sizeof err), 0);
	memset(long_id, 'x', AGENTS_ID_MAX);
	long_id[AGENTS_ID_MAX] = '\0';
	ck_assert_int_eq(agents_check_id(long_id, err, sizeof err), 0);
	long_id[AGENTS_ID_MAX] = 'x';
	long_id[AGENTS_ID_MAX + 1] = '\0';
	ck_assert_int_eq(agents_check_id(long_id, err, sizeof err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "65 characters; it needs 1 to 64"));
	ck_assert_int_eq(agents_check_id("", err, sizeof err), -EINVAL);
	ck_assert_int_eq(agents_check_id("a b", err, sizeof err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not byte 0x20"));
	ck_assert_int_eq(agents_check_id("a/b", err, sizeof err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not '/'"));
}
END_TEST

START_TEST(test_extensions_are_digits_and_names_have_no_control_characters)
{
	char err[256];

	ck_assert_int_eq(agents_check_extension("8001", err, sizeof err), 0);
	ck_assert_int_eq(agents_check_extension("1234567890123456", err, sizeof err), 0);
	ck_assert_int_eq(agents_check_extension("12345678901234567", err, sizeof err), -EINVAL);
	ck_assert_int_eq(agents_check_extension("", err, sizeof err), -EINVAL);
	ck_assert_int_eq(agents_check_extension("80a1", err, sizeof err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "1 to 16 digits"));
	ck_assert_int_eq(agents_check_extension("+8001", err, sizeof err), -EINVAL);

	ck_assert_int_eq(agents_check_name("王芳 (夜班)", err, sizeof err), 0);
	ck_assert_int_eq(agents_check_name("", err, sizeof err), -EINVAL);
	ck_assert_int_eq(agents_check_name("Wang\tFang", err, sizeof err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "byte 0x09"));
	ck_assert_int_eq(agents_check_name("Wang\nFang", err, sizeof err), -EINVAL);

	ck_assert_int_eq(agents_check_centre("nanjing", err, sizeof err), 0);
	ck_assert_int_eq(agents_check_centre("Nanjing", err, sizeof err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "hotline-admin centre list"));
}
END_TEST

/* A pool's ids are padded to three digits, or to the digits of its size. */
START_TEST(test_pool_ids_are_zero_padded_to_the_size_of_the_pool)
{
	char id[AGENTS_ID_MAX + 1];

	ck_assert_int_eq(agentpool_id("sim-", 1, 8, id, sizeof id), 0);
	ck_assert_str_eq(id, "sim-001");
	ck_assert_int_eq(agentpool_id("sim-", 999, 999, id, sizeof id), 0);
	ck_assert_str_eq(id, "sim-999");
	ck_assert_int_eq(agentpool_id("sim-", 7, 1000, id, sizeof id), 0);
	ck_assert_str_eq(id, "sim-0007");
	ck_assert_int_eq(agentpool_id("t", 10000, 10000, id, sizeof id), 0);
	ck_assert_str_eq(id, "t10000");
	ck_assert_int_eq(agentpool_id("", 42, AGENTPOOL_MAX, id, sizeof id), 0);
	ck_assert_str_eq(id, "00042");
	ck_assert_int_eq(agentpool_id("sim-", 0, 8, id, sizeof id), -EINVAL);
	ck_assert_int_eq(agentpool_id("sim-", 9, 8, id, sizeof id), -EINVAL);
	ck_assert_int_eq(agentpool_id("sim-", 1, AGENTPOOL_MAX + 1, id, sizeof id), -EINVAL);
	ck_assert_int_eq(agentpool_id("sim-", 1, 8, id, 7), -ENAMETOOLONG);
}
END_TEST

START_TEST(test_pool_is_checked_before_anything_is_hashed)
{
	struct agents_skill skills[2] = {{"booking", 5}, {"crisis", 7}};
	struct agents_pool p = {.centre = "north",
				.prefix = "sim-",
				.count = 8,
				.first_extension = 7001,
				.skills = skills,
				.n_skills = 2};
	char err[256], prefix[80];

	ck_assert_int_eq(agents_check_pool(&p, err, sizeof err), 0);
	p.count = 0;
	ck_assert_int_eq(agents_check_pool(&p, err, sizeof err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "a pool has 1 to 99999 agents"));
	p.count = 8;
	p.prefix = "sim/";
	ck_assert_int_eq(agents_check_pool(&p, err, sizeof err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not '/'"));
	memset(prefix, 'p', 62);
	prefix[62] = '\0';
	p.prefix = prefix;
	ck_assert_int_eq(agents_check_pool(&p, err, sizeof err), -EINVAL);
	ck_assert_msg(strstr(err, "choose a shorter --prefix") != NULL, "%s", err);
	p.prefix = "sim-";
	p.first_extension = 9999999999999999ULL;
	ck_assert_int_eq(agents_check_pool(&p, err, sizeof err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "more than 16 digits"));
	p.first_extension = 7001;
	skills[1] = skills[0];
	ck_assert_int_eq(agents_check_pool(&p, err, sizeof err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "given twice"));
}
END_TEST

/* ------------------------------------------------------------------------ */
/* passwords                                                                 */
/* ------------------------------------------------------------------------ */

/* agents_read_password over text, as if it were a file. */
static int read_password_from(const char *text, char *out, char *err, size_t err_len)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	ck_assert_ptr_nonnull(f);
	int rc = agents_read_password(f, "the file", out, AGENTS_PASSWORD_MAX_BYTES + 1, err,
				      err_len);
	fclose(f);
	return rc;
}

START_TEST(test_password_hash_is_argon2id_and_verifies_only_the_right_password)
{
	char hash[AGENTS_PASSWORD_HASH_MAX], err[256];
	const char *password = "correct horse battery";

	ck_assert_int_eq(agents_hash_password(password, hash, err, sizeof err), 0);
	ck_assert_msg(strncmp(hash, "$argon2id$", 10) == 0, "%s", hash);
	ck_assert_ptr_null(strstr(hash, password));
	ck_assert_int_eq(crypto_pwhash_str_verify(hash, password, strlen(password)), 0);
	ck_assert_int_ne(crypto_pwhash_str_verify(hash, "correct horse battery!", 22), 0);
	ck_assert_int_ne(crypto_pwhash_str_verify(hash, "correct horse batter", 20), 0);
	/* The cost chosen in agents.c: the login path will not ask for a rehash. */
	ck_assert_int_eq(crypto_pwhash_str_needs_rehash(hash,
							crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
							crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE),
			 0);
}
END_TEST

START_TEST(test_password_hashes_are_salted)
{
	char a[AGENTS_PASSWORD_HASH_MAX], b[AGENTS_PASSWORD_HASH_MAX], err[256];

	ck_assert_int_eq(agents_hash_password("same password here", a, err, sizeof err), 0);
	ck_assert_int_eq(agents_hash_password("same password here", b, err, sizeof err), 0);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(crypto_pwhash_str_verify(b, "same password here", 18), 0);
}
END_TEST

START_TEST(test_password_file_is_one_line_without_its_newline)
{
	char pw[AGENTS_PASSWORD_MAX_BYTES + 1], err[256];

	ck_assert_int_eq(read_password_from("correct horse\n", pw, err, sizeof err), 0);
	ck_assert_str_eq(pw, "correct horse");
	ck_assert_int_eq(read_password_from("correct horse\r\n", pw, err, sizeof err), 0);
	ck_assert_str_eq(pw, "correct horse");
	ck_assert_int_eq(read_password_from("  spaces kept  ", pw, err, sizeof err), 0);
	ck_assert_str_eq(pw, "  spaces kept  ");

	ck_assert_int_eq(read_password_from("correct\nhorse battery\n", pw, err, sizeof err),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "the file holds more than one line"));
	ck_assert_int_eq(read_password_from("correct horse\n\n", pw, err, sizeof err), -EINVAL);
	ck_assert_int_eq(read_password_from("correct\0horse battery", pw, err, sizeof err),
			 -EINVAL);
}
END_TEST

START_TEST(test_password_under_ten_characters_is_refused)
{
	char pw[AGENTS_PASSWORD_MAX_BYTES + 1], err[256];

	ck_assert_int_eq(read_password_from("123456789\n", pw, err, sizeof err), -EINVAL);
	ck_assert_msg(strstr(err, "too short: 9 character(s); it needs at least 10") != NULL, "%s",
		      err);
	ck_assert_int_eq(read_password_from("1234567890\n", pw, err, sizeof err), 0);
	ck_assert_int_eq(read_password_from("", pw, err, sizeof err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "0 character(s)"));
	ck_assert_int_eq(read_password_from("\n", pw, err, sizeof err), -EINVAL);
	/* Characters, not bytes: nine Chinese characters are 27 bytes but too short,
	 * ten are enough. */
	ck_assert_int_eq(read_password_from("一二三四五六七八九\n", pw, err, sizeof err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "9 character(s)"));
	ck_assert_int_eq(read_password_from("一二三四五六七八九十\n", pw, err, sizeof err), 0);
	ck_assert_str_eq(pw, "一二三四五六七八九十");
}
END_TEST

START_TEST(test_password_longer_than_the_limit_is_refused)
{
	char pw[AGENTS_PASSWORD_MAX_BYTES + 1], err[256];
	char text[AGENTS_PASSWORD_MAX_BYTES + 8];

	memset(text, 'p', AGENTS_PASSWORD_MAX_BYTES);
	strcpy(text + AGENTS_PASSWORD_MAX_BYTES, "\r\n");
	ck_assert_int_eq(read_password_from(text, pw, err, sizeof err), 0);
	ck_assert_uint_eq(strlen(pw), AGENTS_PASSWORD_MAX_BYTES);
	strcpy(text + AGENTS_PASSWORD_MAX_BYTES, "p\n");
	ck_assert_int_eq(read_password_from(text, pw, err, sizeof err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "longer than 1024 bytes"));
}
END_TEST

/* ------------------------------------------------------------------------ */
/* hotline-admin agent, against a fresh database                             */
/* ------------------------------------------------------------------------ */

static char *test_db;                     /* this test's database */
static char test_dir[HARNESS_PATH_MAX];   /* its password files */

#define PASSWORD_ONE "Quiet-River-7391"
#define PASSWORD_TWO "Lantern-Mosaic-2046"

/* Two centres, so that keys can be seen to belong to a centre. */
static void admin_setup(void)
{
	test_db = harness_db_create(NULL);
	ck_assert_msg(test_db != NULL, "%s", harness_error());
	ck_assert_msg(harness_tmpdir("agents", test_dir) == 0, "%s", harness_error());
	ck_assert_msg(harness_pg_exec(test_db, "INSERT INTO centres (code, name) VALUES"
					       " ('north', 'North 北'), ('south', 'South 南')") ==
			      0,
		      "%s", harness_error());
}

static void admin_teardown(void)
{
	if (test_db != NULL)
		harness_db_drop(test_db);
	free(test_db);
	test_db = NULL;
}

struct admin_result {
	int code;
	char *out;
	char *err;
};

static void admin_result_free(struct admin_result *r)
{
	free(r->out);
	free(r->err);
}

/* Runs argv (argv[0] a path) with input on standard input (NULL: nothing),
 * its standard output and error captured through files of the test's folder.
 * Not harness_run_full: these tests read empty streams, and its capture of
 * an empty stream is not NUL-terminated (harness_drain). */
static struct admin_result admin_exec(const char *input, const char *const argv[])
{
	char in[HARNESS_PATH_MAX + 16], out[HARNESS_PATH_MAX + 16], err[HARNESS_PATH_MAX + 16];
	struct admin_result r = {-1, NULL, NULL};
	posix_spawn_file_actions_t actions;
	pid_t pid;
	int status;

	snprintf(in, sizeof in, "%s/stdin", test_dir);
	snprintf(out, sizeof out, "%s/stdout", test_dir);
	snprintf(err, sizeof err, "%s/stderr", test_dir);
	FILE *f = fopen(in, "w");
	ck_assert_ptr_nonnull(f);
	fputs(input != NULL ? input : "", f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(posix_spawn_file_actions_init(&actions), 0);
	ck_assert_int_eq(posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, in, O_RDONLY, 0),
			 0);
	ck_assert_int_eq(posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out,
							  O_WRONLY | O_CREAT | O_TRUNC, 0600),
			 0);
	ck_assert_int_eq(posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err,
							  O_WRONLY | O_CREAT | O_TRUNC, 0600),
			 0);
	int rc = posix_spawn(&pid, argv[0], &actions, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	ck_assert_msg(rc == 0, "cannot run %s: %s", argv[0], strerror(rc));
	while (waitpid(pid, &status, 0) < 0)
		ck_assert_int_eq(errno, EINTR);
	r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r.out = harness_read_file(out, NULL);
	r.err = harness_read_file(err, NULL);
	ck_assert_ptr_nonnull(r.out);
	ck_assert_ptr_nonnull(r.err);
	return r;
}

static const char *admin_program(void)
{
	const char *bin = harness_program(HARNESS_ENV_ADMIN_BIN);
	ck_assert_msg(bin != NULL, "hotline-admin was not built (HOTLINE_ADMIN_BIN unset)");
	return bin;
}

/* Runs hotline-admin --db TEST_DB ARGS... (NULL-terminated) with input on
 * standard input (may be NULL). */
static struct admin_result admin_run(const char *input, ...) __attribute__((sentinel));

static struct admin_result admin_run(const char *input, ...)
{
	const char *argv[40];
	size_t n = 0;
	va_list ap;

	argv[n++] = admin_program();
	argv[n++] = "--db";
	argv[n++] = test_db;
	va_start(ap, input);
	for (const char *a; (a = va_arg(ap, const char *)) != NULL;) {
		ck_assert_uint_lt(n, sizeof argv / sizeof argv[0] - 1);
		argv[n++] = a;
	}
	va_end(ap);
	argv[n] = NULL;
	return admin_exec(input, argv);
}

/* Runs the command and asserts that it succeeded. */
#define admin_ok(...)                                                                          \
	do {                                                                                   \
		struct admin_result ok_ = admin_run(__VA_ARGS__, NULL);                        \
		ck_assert_msg(ok_.code == 0, "exit %d: %s", ok_.code, ok_.err);                \
		admin_result_free(&ok_);                                                       \
	} while (0)

/* Writes text into a file of the test's folder; returns its path (static). */
static const char *password_file(const char *name, const char *text)
{
	static char path[HARNESS_PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/%s", test_dir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

static int64_t query_int(const char *sql)
{
	int64_t v = harness_pg_query_int(test_db, sql);
	ck_assert_msg(v != HARNESS_QUERY_FAILED, "%s: %s", sql, harness_error());
	return v;
}

/* The stored hash of an agent (free with free()). */
static char *stored_hash(const char *centre, const char *agent_id)
{
	char sql[256];
	snprintf(sql, sizeof sql,
		 "SELECT password_hash FROM agents WHERE centre = '%s' AND agent_id = '%s'", centre,
		 agent_id);
	char *hash = harness_pg_query_text(test_db, sql);
	ck_assert_msg(hash != NULL, "%s: %s", sql, harness_error());
	return hash;
}

static bool hash_accepts(const char *hash, const char *password)
{
	return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

/* Adds north/a001 (extension 8001, booking:5 and mandarin:9) with PASSWORD_ONE. */
static void add_first_agent(void)
{
	admin_ok(NULL, "agent", "add", "a001", "--centre", "north", "--name", "王芳",
		 "--extension", "8001", "--skill", "booking:5", "--skill", "mandarin:9",
		 "--password-file", password_file("one", PASSWORD_ONE "\n"));
}

START_TEST(test_add_then_list_round_trips)
{
	struct admin_result r = admin_run(NULL, "agent", "add", "a001", "--centre", "north",
					  "--name", "王芳", "--extension", "8001", "--skill",
					  "mandarin:9", "--skill", "booking:5", "--password-file",
					  password_file("one", PASSWORD_ONE "\n"), NULL);
	ck_assert_msg(r.code == 0, "exit %d: %s", r.code, r.err);
	ck_assert_str_eq(r.out, "added agent a001 to centre north (extension 8001, 2 skill(s))\n");
	admin_result_free(&r);
	/* --password-stdin, in the other centre, and options before the id. */
	r = admin_run(PASSWORD_TWO "\n", "agent", "add", "--centre", "south", "--name",
		      "Li Lei", "--extension", "8002", "--password-stdin", "b-2:late", NULL);
	ck_assert_msg(r.code == 0, "exit %d: %s", r.code, r.err);
	admin_result_free(&r);

	ck_assert_int_eq(query_int("SELECT count(*) FROM agents WHERE centre = 'north' AND"
				   " agent_id = 'a001' AND name = '王芳' AND extension = '8001'"
				   " AND enabled AND created_at = updated_at"),
			 1);
	ck_assert_int_eq(query_int("SELECT count(*) FROM agent_skills WHERE centre = 'north'"
				   " AND agent_id = 'a001' AND ((skill = 'booking' AND level = 5)"
				   " OR (skill = 'mandarin' AND level = 9))"),
			 2);
	char *hash = stored_hash("north", "a001");
	ck_assert_msg(strncmp(hash, "$argon2id$", 10) == 0, "%s", hash);
	ck_assert(hash_accepts(hash, PASSWORD_ONE));
	ck_assert(!hash_accepts(hash, PASSWORD_TWO));
	free(hash);
	hash = stored_hash("south", "b-2:late");
	ck_assert(hash_accepts(hash, PASSWORD_TWO));
	free(hash);

	r = admin_run(NULL, "agent", "list", NULL);
	ck_assert_msg(r.code == 0, "exit %d: %s", r.code, r.err);
	ck_assert_str_eq(r.out, "north\ta001\t王芳\t8001\tyes\tbooking:5,mandarin:9\n"
				"south\tb-2:late\tLi Lei\t8002\tyes\t\n");
	ck_assert_ptr_null(strstr(r.out, "$argon2id$"));
	admin_result_free(&r);
	r = admin_run(NULL, "agent", "list", "--centre", "south", NULL);
	ck_assert_int_eq(r.code, 0);
	ck_assert_str_eq(r.out, "south\tb-2:late\tLi Lei\t8002\tyes\t\n");
	admin_result_free(&r);
}
END_TEST

/* How many tables of the database hold text anywhere in a row (every column
 * of every row, as XML text); text must need no XML escaping. */
static int64_t tables_holding(const char *text)
{
	char sql[1024];
	snprintf(sql, sizeof sql,
		 "SELECT count(*) FROM information_schema.tables t"
		 " WHERE t.table_schema = 'public' AND t.table_type = 'BASE TABLE'"
		 " AND strpos(query_to_xml(format('SELECT * FROM %%I.%%I', t.table_schema,"
		 " t.table_name), true, false, '')::text, '%s') > 0",
		 text);
	return query_int(sql);
}

START_TEST(test_no_clear_password_is_stored_anywhere)
{
	add_first_agent();
	admin_ok(PASSWORD_TWO "\n", "agent", "set", "a001", "--centre", "north",
		 "--password-stdin");

	/* The scan is shown to find what is there (the agent's name), so its
	 * silence about the passwords counts. */
	ck_assert_int_eq(tables_holding("王芳"), 1);
	ck_assert_int_eq(tables_holding(PASSWORD_ONE), 0);
	ck_assert_int_eq(tables_holding(PASSWORD_TWO), 0);

	/* Nor does hotline-admin echo it. */
	struct admin_result r = admin_run(PASSWORD_ONE "\n", "agent", "set", "a001", "--centre",
					  "north", "--password-stdin", NULL);
	ck_assert_int_eq(r.code, 0);
	ck_assert_ptr_null(strstr(r.out, PASSWORD_ONE));
	ck_assert_ptr_null(strstr(r.err, PASSWORD_ONE));
	admin_result_free(&r);

	/* And the table itself refuses anything but an Argon2id hash. */
	ck_assert_int_eq(harness_pg_exec(test_db, "UPDATE agents SET password_hash = '" PASSWORD_ONE
						  "'"),
			 -1);
	ck_assert_ptr_nonnull(strstr(harness_error(), "agents_password_hash_check"));
}
END_TEST

START_TEST(test_password_on_the_command_line_is_refused)
{
	struct admin_result r = admin_run(NULL, "agent", "add", "a001", "--centre", "north",
					  "--name", "A", "--extension", "8001", "--password",
					  PASSWORD_ONE, NULL);
	ck_assert_int_eq(r.code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "never taken on the command line"));
	ck_assert_ptr_nonnull(strstr(r.err, "--password-file"));
	admin_result_free(&r);

	r = admin_run(NULL, "agent", "add", "a001", "--centre", "north", "--name", "A",
		      "--extension", "8001", NULL);
	ck_assert_int_eq(r.code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "--password-stdin are required"));
	admin_result_free(&r);

	r = admin_run(PASSWORD_ONE, "agent", "add", "a001", "--centre", "north", "--name", "A",
		      "--extension", "8001", "--password-stdin", "--password-file",
		      password_file("one", PASSWORD_ONE), NULL);
	ck_assert_int_eq(r.code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "give one of --password-file and --password-stdin"));
	admin_result_free(&r);

	r = admin_run("short\n", "agent", "add", "a001", "--centre", "north", "--name", "A",
		      "--extension", "8001", "--password-stdin", NULL);
	ck_assert_int_eq(r.code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "the password in standard input is too short"));
	admin_result_free(&r);

	char missing[HARNESS_PATH_MAX + 16];
	snprintf(missing, sizeof missing, "%s/missing", test_dir);
	r = admin_run(NULL, "agent", "add", "a001", "--centre", "north", "--name", "A",
		      "--extension", "8001", "--password-file", missing, NULL);
	ck_assert_int_eq(r.code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "cannot open the password file"));
	admin_result_free(&r);
	ck_assert_int_eq(query_int("SELECT count(*) FROM agents"), 0);
}
END_TEST

START_TEST(test_duplicate_extension_is_refused_with_a_clear_message)
{
	add_first_agent();
	struct admin_result r = admin_run(NULL, "agent", "add", "a002", "--centre", "north",
					  "--name", "Zhao", "--extension", "8001", "--skill",
					  "booking:3", "--password-file",
					  password_file("two", PASSWORD_TWO), NULL);
	ck_assert_int_eq(r.code, 2);
	ck_assert_msg(strstr(r.err, "extension 8001 is already used by agent 'a001' in centre "
				    "'north': choose another extension") != NULL,
		      "%s", r.err);
	admin_result_free(&r);
	/* Nothing of the refused agent stays, its skills included. */
	ck_assert_int_eq(query_int("SELECT count(*) FROM agents WHERE agent_id = 'a002'"), 0);
	ck_assert_int_eq(query_int("SELECT count(*) FROM agent_skills WHERE agent_id = 'a002'"),
			 0);

	/* Moving another agent onto the extension is refused the same way. */
	admin_ok(NULL, "agent", "add", "a002", "--centre", "north", "--name", "Zhao",
		 "--extension", "8002", "--password-file", password_file("two", PASSWORD_TWO));
	r = admin_run(NULL, "agent", "set", "a002", "--centre", "north", "--extension", "8001",
		      "--name", "Zhao Min", NULL);
	ck_assert_int_eq(r.code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "extension 8001 is already used by agent 'a001'"));
	admin_result_free(&r);
	ck_assert_int_eq(query_int("SELECT count(*) FROM agents WHERE agent_id = 'a002' AND"
				   " extension = '8002' AND name = 'Zhao'"),
			 1);

	/* Extensions and ids are per centre: the same ones in the south are fine. */
	admin_ok(NULL, "agent", "add", "a001", "--centre", "south", "--name", "South one",
		 "--extension", "8001", "--password-file", password_file("two", PASSWORD_TWO));
	ck_assert_int_eq(query_int("SELECT count(*) FROM agents WHERE agent_id = 'a001'"), 2);
}
END_TEST

START_TEST(test_unknown_centre_agent_and_duplicate_id_are_explained)
{
	add_first_agent();
	struct admin_result r = admin_run(NULL, "agent", "add", "a009", "--centre", "east",
					  "--name", "E", "--extension", "9001", "--password-file",
					  password_file("one", PASSWORD_ONE), NULL);
	ck_assert_int_eq(r.code, 2);
	ck_assert_msg(strstr(r.err, "unknown centre 'east': register it with `hotline-admin "
				    "centre add east NAME`") != NULL,
		      "%s", r.err);
	admin_result_free(&r);

	r = admin_run(NULL, "agent", "add", "a001", "--centre", "north", "--name", "Again",
		      "--extension", "8009", "--password-file", password_file("one", PASSWORD_ONE),
		      NULL);
	ck_assert_int_eq(r.code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "agent 'a001' already exists in centre 'north': "
					    "change it with `hotline-admin agent set"));
	admin_result_free(&r);

	r = admin_run(NULL, "agent", "set", "a404", "--centre", "north", "--name", "X", NULL);
	ck_assert_int_eq(r.code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "no agent 'a404' in centre 'north': see "
					    "`hotline-admin agent list --centre north`"));
	admin_result_free(&r);
	r = admin_run(NULL, "agent", "disable", "a404", "--centre", "north", NULL);
	ck_assert_int_eq(r.code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "no agent 'a404' in centre 'north'"));
	admin_result_free(&r);
	r = admin_run(NULL, "agent", "set", "a001", "--centre", "east", "--name", "X", NULL);
	ck_assert_int_eq(r.code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "unknown centre 'east'"));
	admin_result_free(&r);
	r = admin_run(NULL, "agent", "list", "--centre", "east", NULL);
	ck_assert_int_eq(r.code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "unknown centre 'east'"));
	ck_assert_str_eq(r.out, "");
	admin_result_free(&r);
}
END_TEST

START_TEST(test_bad_input_is_refused_before_anything_is_written)
{
	struct admin_result r = admin_run(NULL, "agent", "add", "a001", "--centre", "north",
					  "--name", "A", "--extension", "8001", "--skill",
					  "booking:10", "--password-file",
					  password_file("one", PASSWORD_ONE), NULL);
	ck_assert_int_eq(r.code, 2);
	ck_assert_msg(strstr(r.err, "skill 'booking:10': the level '10' must be one digit from 1 "
				    "to 9") != NULL,
		      "%s", r.err);
	admin_result_free(&r);

	static const char *const bad[][2] = {
		{"--extension", "80-01"},
		{"--name", "tab\there"},
		{"--skill", "Booking:5"},
		{"--centre", "North"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = admin_run(NULL, "agent", "add", "a001", "--centre", "north", "--name", "A",
			      "--extension", "8001", "--password-file",
			      password_file("one", PASSWORD_ONE), bad[i][0], bad[i][1], NULL);
		ck_assert_msg(r.code == 2, "%s %s: exit %d", bad[i][0], bad[i][1], r.code);
		admin_result_free(&r);
	}
	r = admin_run(NULL, "agent", "add", "a 1", "--centre", "north", "--name", "A",
		      "--extension", "8001", "--password-file", password_file("one", PASSWORD_ONE),
		      NULL);
	ck_assert_int_eq(r.code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "agent id 'a 1'"));
	admin_result_free(&r);
	r = admin_run(NULL, "agent", "add", "a001", "--centre", "north", "--name", "A",
		      "--extension", "8001", "--skill", "booking:5", "--skill", "booking:7",
		      "--password-file", password_file("one", PASSWORD_ONE), NULL);
	ck_assert_int_eq(r.code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "skill 'booking' is given twice (levels 5 and 7)"));
	admin_result_free(&r);
	r = admin_run(NULL, "agent", "disable", "a001", "--centre", "north", "--name", "A", NULL);
	ck_assert_int_eq(r.code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "--name does not apply here"));
	admin_result_free(&r);
	r = admin_run(NULL, "agent", "frobnicate", NULL);
	ck_assert_int_eq(r.code, 2);
	admin_result_free(&r);
	ck_assert_int_eq(query_int("SELECT count(*) FROM agents"), 0);
	ck_assert_int_eq(query_int("SELECT count(*) FROM agent_skills"), 0);
}
END_TEST

START_TEST(test_set_changes_only_what_is_given)
{
	add_first_agent();
	ck_assert_msg(harness_pg_exec(test_db, "UPDATE agents SET created_at = now() - interval"
					       " '1 day', updated_at = now() - interval '1 day'") ==
			      0,
		      "%s", harness_error());
	char *before = stored_hash("north", "a001");

	admin_ok(NULL, "agent", "set", "a001", "--centre", "north", "--name", "王芳芳", "--skill",
		 "booking:7", "--skill", "english:3", "--drop-skill", "mandarin");
	ck_assert_int_eq(query_int("SELECT count(*) FROM agents WHERE agent_id = 'a001' AND"
				   " name = '王芳芳' AND extension = '8001' AND enabled AND"
				   " updated_at > created_at"),
			 1);
	char *after = stored_hash("north", "a001");
	ck_assert_str_eq(after, before);
	free(after);
	struct admin_result r = admin_run(NULL, "agent", "list", "--centre", "north", NULL);
	ck_assert_str_eq(r.out, "north\ta001\t王芳芳\t8001\tyes\tbooking:7,english:3\n");
	admin_result_free(&r);

	/* A new password replaces the hash and ends the agent's sessions. */
	ck_assert_msg(harness_pg_exec(test_db, "INSERT INTO agent_sessions (token_sha256, centre,"
					       " agent_id, expires_at) VALUES (sha256('token'),"
					       " 'north', 'a001', now() + interval '8 hours')") == 0,
		      "%s", harness_error());
	r = admin_run(NULL, "agent", "set", "a001", "--centre", "north", "--extension", "8011",
		      "--password-file", password_file("two", PASSWORD_TWO "\n"), NULL);
	ck_assert_msg(r.code == 0, "exit %d: %s", r.code, r.err);
	ck_assert_str_eq(r.out, "updated agent a001 in centre north; its sessions ended\n");
	admin_result_free(&r);
	after = stored_hash("north", "a001");
	ck_assert_str_ne(after, before);
	ck_assert(hash_accepts(after, PASSWORD_TWO));
	ck_assert(!hash_accepts(after, PASSWORD_ONE));
	free(after);
	free(before);
	ck_assert_int_eq(query_int("SELECT count(*) FROM agent_sessions"), 0);
	ck_assert_int_eq(query_int("SELECT count(*) FROM agents WHERE extension = '8011'"), 1);

	/* Dropping a skill the agent lacks undoes the whole command. */
	r = admin_run(NULL, "agent", "set", "a001", "--centre", "north", "--name", "Changed",
		      "--drop-skill", "mandarin", NULL);
	ck_assert_int_eq(r.code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "has no skill 'mandarin' to drop"));
	admin_result_free(&r);
	ck_assert_int_eq(query_int("SELECT count(*) FROM agents WHERE name = 'Changed'"), 0);

	r = admin_run(NULL, "agent", "set", "a001", "--centre", "north", NULL);
	ck_assert_int_eq(r.code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "nothing to change"));
	admin_result_free(&r);
	r = admin_run(NULL, "agent", "set", "a001", "--centre", "north", "--skill", "english:4",
		      "--drop-skill", "english", NULL);
	ck_assert_int_eq(r.code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "both set and dropped"));
	admin_result_free(&r);
}
END_TEST

START_TEST(test_an_agent_has_at_most_sixteen_skills)
{
	add_first_agent();
	/* Two now; fourteen more make sixteen, one more is refused. */
	const char *args[64];
	char specs[AGENTS_SKILLS_MAX][16];
	size_t n = 0;
	args[n++] = admin_program();
	args[n++] = "--db";
	args[n++] = test_db;
	args[n++] = "agent";
	args[n++] = "set";
	args[n++] = "a001";
	args[n++] = "--centre";
	args[n++] = "north";
	for (int i = 0; i < 15; i++) {
		snprintf(specs[i], sizeof specs[i], "skill_%02d:2", i);
		args[n++] = "--skill";
		args[n++] = specs[i];
	}
	args[n] = NULL;
	struct admin_result r = admin_exec(NULL, args);
	ck_assert_int_eq(r.code, 2);
	ck_assert_msg(strstr(r.err, "agent 'a001' would have 17 skills, at most 16") != NULL, "%s",
		      r.err);
	admin_result_free(&r);
	ck_assert_int_eq(query_int("SELECT count(*) FROM agent_skills"), 2);

	args[n - 2] = "--drop-skill";
	args[n - 1] = "mandarin";
	r = admin_exec(NULL, args);
	ck_assert_msg(r.code == 0, "exit %d: %s", r.code, r.err);
	admin_result_free(&r);
	ck_assert_int_eq(query_int("SELECT count(*) FROM agent_skills"), 15);
}
END_TEST

START_TEST(test_disable_keeps_the_agent_and_ends_its_sessions)
{
	add_first_agent();
	ck_assert_msg(harness_pg_exec(test_db,
				      "INSERT INTO agent_sessions (token_sha256, centre, agent_id,"
				      " expires_at) VALUES (sha256('token'), 'north', 'a001',"
				      " now() + interval '8 hours');"
				      "INSERT INTO agent_state_log (centre, agent_id, state, at)"
				      " VALUES ('north', 'a001', 'ready', now())") == 0,
		      "%s", harness_error());

	struct admin_result r = admin_run(NULL, "agent", "disable", "a001", "--centre", "north",
					  NULL);
	ck_assert_msg(r.code == 0, "exit %d: %s", r.code, r.err);
	ck_assert_str_eq(r.out, "disabled agent a001 in centre north; its sessions ended\n");
	admin_result_free(&r);
	ck_assert_int_eq(query_int("SELECT count(*) FROM agents WHERE NOT enabled"), 1);
	ck_assert_int_eq(query_int("SELECT count(*) FROM agent_skills"), 2);
	ck_assert_int_eq(query_int("SELECT count(*) FROM agent_sessions"), 0);
	ck_assert_int_eq(query_int("SELECT count(*) FROM agent_state_log"), 1);
	r = admin_run(NULL, "agent", "list", NULL);
	ck_assert_str_eq(r.out, "north\ta001\t王芳\t8001\tno\tbooking:5,mandarin:9\n");
	admin_result_free(&r);

	r = admin_run(NULL, "agent", "disable", "a001", "--centre", "north", NULL);
	ck_assert_int_eq(r.code, 0);
	ck_assert_str_eq(r.out, "agent a001 in centre north was already disabled\n");
	admin_result_free(&r);

	admin_ok(NULL, "agent", "set", "a001", "--centre", "north", "--enable");
	ck_assert_int_eq(query_int("SELECT count(*) FROM agents WHERE enabled"), 1);
}
END_TEST

START_TEST(test_agent_state_log_is_append_only)
{
	add_first_agent();
	ck_assert_msg(harness_pg_exec(test_db,
				      "INSERT INTO agent_state_log (centre, agent_id, state, reason,"
				      " at) VALUES ('north', 'a001', 'ready', NULL, now()),"
				      " ('north', 'a001', 'not_ready', 'lunch', now())") == 0,
		      "%s", harness_error());
	ck_assert_int_eq(harness_pg_exec(test_db, "UPDATE agent_state_log SET state = 'ready'"),
			 -1);
	ck_assert_ptr_nonnull(strstr(harness_error(), "agent_state_log is append-only"));
	ck_assert_int_eq(harness_pg_exec(test_db, "DELETE FROM agent_state_log WHERE reason ="
						  " 'lunch'"),
			 -1);
	ck_assert_ptr_nonnull(strstr(harness_error(), "agent_state_log is append-only"));
	ck_assert_int_eq(harness_pg_exec(test_db, "TRUNCATE agent_state_log"), -1);
	ck_assert_ptr_nonnull(strstr(harness_error(), "agent_state_log is append-only"));
	ck_assert_int_eq(query_int("SELECT count(*) FROM agent_state_log WHERE state = 'not_ready'"
				   " AND reason = 'lunch'"),
			 2 - 1);
	ck_assert_int_eq(query_int("SELECT count(*) FROM agent_state_log"), 2);

	/* What a row may say: a known state, a reason for not_ready, a real agent. */
	ck_assert_int_eq(harness_pg_exec(test_db, "INSERT INTO agent_state_log (centre, agent_id,"
						  " state, at) VALUES ('north', 'a001', 'napping',"
						  " now())"),
			 -1);
	ck_assert_int_eq(harness_pg_exec(test_db, "INSERT INTO agent_state_log (centre, agent_id,"
						  " state, at) VALUES ('north', 'a001',"
						  " 'not_ready', now())"),
			 -1);
	ck_assert_ptr_nonnull(strstr(harness_error(), "agent_state_log_not_ready_has_reason"));
	ck_assert_int_eq(harness_pg_exec(test_db, "INSERT INTO agent_state_log (centre, agent_id,"
						  " state, at) VALUES ('south', 'a001', 'ready',"
						  " now())"),
			 -1);
	ck_assert_int_eq(query_int("SELECT count(*) FROM agent_state_log"), 2);
}
END_TEST

/* The skills every pool agent of these tests gets. */
#define POOL_SKILLS "booking:5,crisis:7,general:3"

START_TEST(test_pool_creates_numbered_agents_sharing_one_hash)
{
	struct admin_result r = admin_run(NULL, "agent", "pool", "--centre", "north", "--count",
					  "3", "--skills", POOL_SKILLS, "--password-file",
					  password_file("one", PASSWORD_ONE "\n"), NULL);
	ck_assert_msg(r.code == 0, "exit %d: %s", r.code, r.err);
	ck_assert_str_eq(r.out, "pool sim-001 .. sim-003 in centre north: 3 agent(s) created, 0 "
				"already existed\n");
	admin_result_free(&r);

	r = admin_run(NULL, "agent", "list", "--centre", "north", NULL);
	ck_assert_str_eq(r.out, "north\tsim-001\tsim-001\t7001\tyes\tbooking:5,crisis:7,general:3\n"
				"north\tsim-002\tsim-002\t7002\tyes\tbooking:5,crisis:7,general:3\n"
				"north\tsim-003\tsim-003\t7003\tyes\tbooking:5,crisis:7,general:3\n");
	admin_result_free(&r);
	/* Hashed once: one salt, one string, and it verifies. */
	ck_assert_int_eq(query_int("SELECT count(DISTINCT password_hash) FROM agents"), 1);
	char *hash = stored_hash("north", "sim-002");
	ck_assert(hash_accepts(hash, PASSWORD_ONE));
	free(hash);
	ck_assert_int_eq(tables_holding(PASSWORD_ONE), 0);
}
END_TEST

START_TEST(test_pool_can_be_run_again_and_grown)
{
	admin_ok(NULL, "agent", "add", "t002", "--centre", "south", "--name", "Kept",
		 "--extension", "9002", "--skill", "survey:2", "--password-file",
		 password_file("two", PASSWORD_TWO));
	struct admin_result r = admin_run(PASSWORD_ONE "\n", "agent", "pool", "--centre", "south",
					  "--prefix", "t", "--count", "2", "--first-extension",
					  "9101", "--skills", "booking:5", "--password-stdin", NULL);
	ck_assert_msg(r.code == 0, "exit %d: %s", r.code, r.err);
	ck_assert_str_eq(r.out, "pool t001 .. t002 in centre south: 1 agent(s) created, 1 already "
				"existed\n");
	admin_result_free(&r);
	/* The agent that existed keeps its name, extension, skills and password. */
	r = admin_run(NULL, "agent", "list", "--centre", "south", NULL);
	ck_assert_str_eq(r.out, "south\tt001\tt001\t9101\tyes\tbooking:5\n"
				"south\tt002\tKept\t9002\tyes\tsurvey:2\n");
	admin_result_free(&r);
	char *hash = stored_hash("south", "t002");
	ck_assert(hash_accepts(hash, PASSWORD_TWO));
	free(hash);

	/* Again, bigger: only the new ones are created. */
	r = admin_run(PASSWORD_ONE "\n", "agent", "pool", "--centre", "south", "--prefix", "t",
		      "--count", "4", "--first-extension", "9101", "--skills", "booking:5",
		      "--password-stdin", NULL);
	ck_assert_msg(r.code == 0, "exit %d: %s", r.code, r.err);
	ck_assert_str_eq(r.out, "pool t001 .. t004 in centre south: 2 agent(s) created, 2 already "
				"existed\n");
	admin_result_free(&r);
	r = admin_run(PASSWORD_ONE "\n", "agent", "pool", "--centre", "south", "--prefix", "t",
		      "--count", "5", "--first-extension", "9201", "--skills", "booking:5",
		      "--password-stdin", NULL);
	ck_assert_msg(r.code == 0, "exit %d: %s", r.code, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "1 agent(s) created, 4 already existed"));
	admin_result_free(&r);
	ck_assert_int_eq(query_int("SELECT count(*) FROM agents WHERE centre = 'south'"), 5);
	ck_assert_int_eq(query_int("SELECT count(*) FROM agents WHERE agent_id = 't005' AND"
				   " extension = '9205'"),
			 1);
	/* The ids are the same in every centre: a pool of the north may share them. */
	admin_ok(NULL, "agent", "pool", "--centre", "north", "--prefix", "t", "--count", "2",
		 "--first-extension", "9101", "--skills", "booking:5", "--password-file",
		 password_file("one", PASSWORD_ONE));
	ck_assert_int_eq(query_int("SELECT count(*) FROM agents WHERE agent_id = 't001'"), 2);
}
END_TEST

START_TEST(test_pool_is_all_or_nothing)
{
	add_first_agent(); /* north/a001 holds extension 8001 */
	struct admin_result r = admin_run(NULL, "agent", "pool", "--centre", "north", "--count",
					  "4", "--first-extension", "7999", "--skills",
					  POOL_SKILLS, "--password-file",
					  password_file("one", PASSWORD_ONE), NULL);
	ck_assert_int_eq(r.code, 2);
	ck_assert_msg(strstr(r.err, "extension 8001 is already used by agent 'a001' in centre "
				    "'north'") != NULL,
		      "%s", r.err);
	admin_result_free(&r);
	ck_assert_int_eq(query_int("SELECT count(*) FROM agents"), 1);
	ck_assert_int_eq(query_int("SELECT count(*) FROM agent_skills"), 2);

	r = admin_run(NULL, "agent", "pool", "--centre", "east", "--count", "2", "--skills",
		      POOL_SKILLS, "--password-file", password_file("one", PASSWORD_ONE), NULL);
	ck_assert_int_eq(r.code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "unknown centre 'east'"));
	admin_result_free(&r);
	ck_assert_int_eq(query_int("SELECT count(*) FROM agents"), 1);
}
END_TEST

START_TEST(test_pool_options_are_checked)
{
	static const struct {
		const char *option, *value, *says;
	} bad[] = {
		{"--count", "0", "--count '0': give a number from 1 to 99999"},
		{"--count", "100000", "from 1 to 99999"},
		{"--count", "3x", "--count '3x'"},
		{"--skills", "booking:5,,crisis:7", "skill '': empty"},
		{"--skills", "booking:5,crisis", "skill 'crisis': the level is missing"},
		{"--skills", "booking:5,booking:6", "given twice"},
		{"--first-extension", "70a1", "--first-extension: extension '70a1'"},
		{"--prefix", "sim 1", "not byte 0x20"},
		{"--name", "X", "--name does not apply here"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct admin_result r = admin_run(NULL, "agent", "pool", "--centre", "north",
						  "--count", "2", "--skills", "booking:5",
						  "--password-file",
						  password_file("one", PASSWORD_ONE), bad[i].option,
						  bad[i].value, NULL);
		ck_assert_msg(r.code == 2, "%s %s: exit %d", bad[i].option, bad[i].value, r.code);
		ck_assert_msg(strstr(r.err, bad[i].says) != NULL, "%s %s: %s", bad[i].option,
			      bad[i].value, r.err);
		admin_result_free(&r);
	}
	struct admin_result r = admin_run(NULL, "agent", "pool", "--centre", "north", "--count",
					  "2", "--password-file",
					  password_file("one", PASSWORD_ONE), NULL);
	ck_assert_int_eq(r.code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "--count, --skills and one of"));
	admin_result_free(&r);
	r = admin_run(NULL, "agent", "pool", "--count", "2", "--skills", "booking:5",
		      "--password-file", password_file("one", PASSWORD_ONE), NULL);
	ck_assert_int_eq(r.code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "--centre C is required"));
	admin_result_free(&r);
	r = admin_run("short\n", "agent", "pool", "--centre", "north", "--count", "2",
		      "--skills", "booking:5", "--password-stdin", NULL);
	ck_assert_int_eq(r.code, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "too short"));
	admin_result_free(&r);
	ck_assert_int_eq(query_int("SELECT count(*) FROM agents"), 0);
}
END_TEST

START_TEST(test_help_lists_the_agent_commands)
{
	const char *argv[] = {admin_program(), "--help", NULL};
	struct admin_result r = admin_exec(NULL, argv);
	const char *out = r.out;

	ck_assert_int_eq(r.code, 0);
	ck_assert_ptr_nonnull(strstr(out, "agent add AGENT_ID --centre C"));
	ck_assert_ptr_nonnull(strstr(out, "agent set AGENT_ID"));
	ck_assert_ptr_nonnull(strstr(out, "agent list [--centre C]"));
	ck_assert_ptr_nonnull(strstr(out, "agent disable AGENT_ID --centre C"));
	ck_assert_ptr_nonnull(strstr(out, "agent pool --centre C --count N --skills"));
	ck_assert_ptr_nonnull(strstr(out, "pool shares one password, hashed once"));
	ck_assert_ptr_nonnull(strstr(out, "never from the command line"));
	admin_result_free(&r);
}
END_TEST

static Suite *agents_suite(void)
{
	Suite *s = suite_create("agents");
	TCase *skills = tcase_create("skills");
	TCase *passwords = tcase_create("passwords");
	TCase *admin = tcase_create("admin");

	tcase_add_test(skills, test_skill_spec_gives_name_and_level);
	tcase_add_test(skills, test_skill_spec_errors_say_what_is_wrong);
	tcase_add_test(skills, test_agent_ids_use_the_gateway_alphabet);
	tcase_add_test(skills, test_extensions_are_digits_and_names_have_no_control_characters);
	tcase_add_test(skills, test_pool_ids_are_zero_padded_to_the_size_of_the_pool);
	tcase_add_test(skills, test_pool_is_checked_before_anything_is_hashed);
	suite_add_tcase(s, skills);

	tcase_add_test(passwords, test_password_hash_is_argon2id_and_verifies_only_the_right_password);
	tcase_add_test(passwords, test_password_hashes_are_salted);
	tcase_add_test(passwords, test_password_file_is_one_line_without_its_newline);
	tcase_add_test(passwords, test_password_under_ten_characters_is_refused);
	tcase_add_test(passwords, test_password_longer_than_the_limit_is_refused);
	suite_add_tcase(s, passwords);

	/* A fresh database per test, created in the forked test process. */
	tcase_add_checked_fixture(admin, admin_setup, admin_teardown);
	tcase_add_test(admin, test_add_then_list_round_trips);
	tcase_add_test(admin, test_no_clear_password_is_stored_anywhere);
	tcase_add_test(admin, test_password_on_the_command_line_is_refused);
	tcase_add_test(admin, test_duplicate_extension_is_refused_with_a_clear_message);
	tcase_add_test(admin, test_unknown_centre_agent_and_duplicate_id_are_explained);
	tcase_add_test(admin, test_bad_input_is_refused_before_anything_is_written);
	tcase_add_test(admin, test_set_changes_only_what_is_given);
	tcase_add_test(admin, test_an_agent_has_at_most_sixteen_skills);
	tcase_add_test(admin, test_disable_keeps_the_agent_and_ends_its_sessions);
	tcase_add_test(admin, test_agent_state_log_is_append_only);
	tcase_add_test(admin, test_pool_creates_numbered_agents_sharing_one_hash);
	tcase_add_test(admin, test_pool_can_be_run_again_and_grown);
	tcase_add_test(admin, test_pool_is_all_or_nothing);
	tcase_add_test(admin, test_pool_options_are_checked);
	tcase_add_test(admin, test_help_lists_the_agent_commands);
	suite_add_tcase(s, admin);
	return s;
}

int main(void)
{
	if (sodium_init() < 0) {
		fprintf(stderr, "test_agents: libsodium failed to initialise\n");
		return EXIT_FAILURE;
	}
	/* Start the shared server here, so forked tests share it. */
	if (harness_shared_pg() == NULL) {
		fprintf(stderr, "test_agents: cannot reach or start PostgreSQL: %s\n",
			harness_error());
		return EXIT_FAILURE;
	}
	SRunner *sr = srunner_create(agents_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

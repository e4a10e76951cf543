/* test_replay_e2e.c: a year profile replayed by hotline-sim through the real
 * hotlined into real PostgreSQL, then exported by hotline-stats: the export's
 * calls, work orders, province, bookings and platforms sections equal the
 * scaled profile the simulator expected, for Nanjing's profile and two
 * others with other hospitals and platforms, also when the broker restarts
 * in the middle of the replay. The calls go through the broker's distributor
 * to a pool of agents per centre, created with `hotline-admin agent pool`
 * and played by the simulator; the work orders come from the simulator
 * playing the 12345 platforms, signed with the secrets of the broker's
 * workorders.file; the phone bookings from the agents during booking calls
 * (or the gateway), the other channels from daily batches the simulator
 * imports into the same database after loading the centre's hospitals. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "timeutil.h"
#include "workorder.h"

extern char **environ;

/* A broker on a fresh database that already knows the profile's centres, and
 * a folder for the files the programs exchange. */
struct e2e {
	char dir[HARNESS_PATH_MAX];
	char *db;
	struct harness_broker broker;
	char profile[HARNESS_PATH_MAX];
	char secret_file[HARNESS_PATH_MAX + 16];
	char expected[HARNESS_PATH_MAX + 16];
	char actual[HARNESS_PATH_MAX + 16];
	char password_file[HARNESS_PATH_MAX + 16]; /* the agent pools' password */
	char platform_secrets[HARNESS_PATH_MAX + 32]; /* the 12345 platforms' secrets */
};

/* Agents per centre, in the pools and in the simulator. */
#define E2E_AGENTS "8"
#define E2E_PASSWORD "e2e-agent-pool-password"

static const char *program(const char *env_var, const char *name)
{
	const char *p = harness_program(env_var);
	ck_assert_msg(p != NULL, "%s was not built (%s is unset)", name, env_var);
	return p;
}

/* The last part of a program's output: Check's messages are limited. */
static const char *tail_of(const char *text)
{
	size_t n = text != NULL ? strlen(text) : 0;
	return n > 1200 ? text + n - 1200 : (text != NULL ? text : "");
}

/* Runs argv and asserts exit status 0; returns stdout (free with free()). */
static char *run_ok(const char *const argv[], const char *const env[])
{
	char *out = NULL, *err = NULL;
	int code = -1;

	ck_assert_msg(harness_run_full(argv, env, NULL, &out, &err, &code) == 0, "%s: %s", argv[0],
		      harness_error());
	if (code != 0)
		fprintf(stderr, "%s %s exited %d\nstdout:\n%s\nstderr:\n%s\n", argv[0], argv[1],
			code, out != NULL ? out : "", err != NULL ? err : "");
	ck_assert_msg(code == 0, "%s %s exited %d; stderr ends:\n%s", argv[0], argv[1], code,
		      tail_of(err));
	free(err);
	return out;
}

/* Every skill a queue of conf/queues.yaml asks for, at level 5:
 * "crisis:5,complaint:5,...", so that any agent can take any call. */
static void queue_skills(char *out, size_t out_len)
{
	char path[HARNESS_PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/conf/queues.yaml", harness_source_dir());
	char *text = harness_read_file(path, NULL);
	ck_assert_msg(text != NULL, "cannot read %s", path);
	out[0] = '\0';
	char *saved = NULL;
	for (char *line = strtok_r(text, "\n", &saved); line != NULL;
	     line = strtok_r(NULL, "\n", &saved)) {
		char skill[40], spec[48];
		if (sscanf(line, " skill: %39[a-z0-9_]", skill) != 1)
			continue;
		snprintf(spec, sizeof spec, "%s:5", skill);
		/* Once each: several queues share a skill. */
		bool seen = false;
		for (const char *p = out; (p = strstr(p, skill)) != NULL; p++)
			if ((p == out || p[-1] == ',') && p[strlen(skill)] == ':')
				seen = true;
		if (!seen) {
			size_t n = strlen(out);
			snprintf(out + n, out_len - n, "%s%s", n > 0 ? "," : "", spec);
		}
	}
	free(text);
	ck_assert_msg(out[0] != '\0', "no skill in %s", path);
}

/* A pool of E2E_AGENTS agents in every centre the database knows (centre
 * import registered the profile's), as the simulator expects them. */
static void provision_agent_pools(struct e2e *t)
{
	const char *admin = program(HARNESS_ENV_ADMIN_BIN, "hotline-admin");
	char skills[512];

	queue_skills(skills, sizeof skills);
	snprintf(t->password_file, sizeof t->password_file, "%s/agents.password", t->dir);
	FILE *f = fopen(t->password_file, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%s\n", E2E_PASSWORD);
	ck_assert_int_eq(fclose(f), 0);

	const char *list[] = {admin, "--db", t->db, "centre", "list", NULL};
	char *centres = run_ok(list, NULL);
	int pools = 0;
	char *saved = NULL;
	for (char *line = strtok_r(centres, "\n", &saved); line != NULL;
	     line = strtok_r(NULL, "\n", &saved)) {
		line[strcspn(line, "\t")] = '\0';
		const char *pool[] = {admin,      "--db",   t->db,       "agent",
				      "pool",     "--centre", line,      "--count",
				      E2E_AGENTS, "--skills", skills,    "--password-file",
				      t->password_file, NULL};
		free(run_ok(pool, NULL));
		pools++;
	}
	free(centres);
	ck_assert_int_gt(pools, 0);
}

/* The simulator signs the work orders as the platforms of the broker's
 * workorders.file: the harness gives the broker conf/workorders.yaml of
 * the source tree, so its (placeholder) secrets are read from there. */
static void write_platform_secrets(struct e2e *t)
{
	char path[HARNESS_PATH_MAX + 32], err[1024];
	struct wo_config *wc = NULL;

	snprintf(path, sizeof path, "%s/conf/workorders.yaml", harness_source_dir());
	ck_assert_int_eq(timeutil_set_zone(HARNESS_TIME_ZONE), 0);
	ck_assert_msg(wo_config_load_file(path, &wc, err, sizeof err) == 0, "%s", err);
	snprintf(t->platform_secrets, sizeof t->platform_secrets, "%s/platforms.secrets", t->dir);
	FILE *f = fopen(t->platform_secrets, "w");
	ck_assert_ptr_nonnull(f);
	static const char *const names[] = {"city_12345", "province_12345"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		const struct wo_platform *p = wo_platform_find(wc, names[i]);
		ck_assert_msg(p != NULL, "%s names no platform %s", path, names[i]);
		fprintf(f, "%s %s\n", p->name, p->secret);
	}
	ck_assert_int_eq(fclose(f), 0);
	wo_config_free(wc);
}

/* db_connections: the broker's database.connections, or NULL for its default. */
static void e2e_start(struct e2e *t, const char *profile_relative, const char *db_connections)
{
	const char *src = harness_source_dir();

	ck_assert_ptr_nonnull(src);
	memset(t, 0, sizeof *t);
	ck_assert_msg(harness_tmpdir("replay", t->dir) == 0, "%s", harness_error());
	snprintf(t->profile, sizeof t->profile, "%s/%s", src, profile_relative);
	snprintf(t->expected, sizeof t->expected, "%s/expected.yaml", t->dir);
	snprintf(t->actual, sizeof t->actual, "%s/actual.yaml", t->dir);

	/* The centres are registered before the broker starts, so it knows them
	 * from its first connection. */
	t->db = harness_db_create(NULL);
	ck_assert_msg(t->db != NULL, "%s", harness_error());
	const char *import[] = {program(HARNESS_ENV_ADMIN_BIN, "hotline-admin"),
				"--db",
				t->db,
				"centre",
				"import",
				t->profile,
				NULL};
	free(run_ok(import, NULL));
	provision_agent_pools(t);

	const char *const settings[] = {"database.connections", db_connections, NULL};
	struct harness_broker_options opt = {.database_url = t->db,
					     .settings = db_connections ? settings : NULL};
	ck_assert_msg(harness_broker_start(&t->broker, &opt) == 0, "%s", harness_error());

	snprintf(t->secret_file, sizeof t->secret_file, "%s/gateway.secret", t->dir);
	FILE *f = fopen(t->secret_file, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%s\n", t->broker.gateway_secret);
	ck_assert_int_eq(fclose(f), 0);
	write_platform_secrets(t);
}

static void e2e_stop(struct e2e *t)
{
	harness_broker_free(&t->broker);
	harness_db_drop(t->db);
	free(t->db);
}

/* Exports the year and compares every section with the simulator's
 * expectation. */
static void assert_export_equals_expectation(struct e2e *t, const char *year, const char *centre)
{
	const char *stats = program(HARNESS_ENV_STATS_BIN, "hotline-stats");
	const char *year_argv[] = {stats,      "--db",    t->db,   "--tz",     "Asia/Shanghai",
				   "year",     "--year",  year,    "--centre", centre,
				   "--format", "profile", "--out", t->actual,  NULL};
	free(run_ok(year_argv, NULL));

	const char *compare_argv[] = {stats,
				      "compare",
				      t->expected,
				      t->actual,
				      "--sections",
				      "calls,work_orders,province,bookings,platforms",
				      NULL};
	char *out = NULL;
	int code = -1;
	ck_assert_int_eq(harness_run(compare_argv, &out, &code), 0);
	if (code != 0)
		fprintf(stderr, "hotline-stats compare:\n%s\n", out != NULL ? out : "");
	ck_assert_msg(code == 0, "the export differs from the replayed profile:\n%s", tail_of(out));
	free(out);
}

/* The sim's own expect command prints what --expect-out wrote. */
static void assert_expect_matches_expect_out(struct e2e *t, const char *scale)
{
	const char *argv[] = {program(HARNESS_ENV_SIM_BIN, "hotline-sim"),
			      "expect",
			      "--profile",
			      t->profile,
			      "--scale",
			      scale,
			      NULL};
	char *printed = run_ok(argv, NULL);
	char *written = harness_read_file(t->expected, NULL);
	ck_assert_ptr_nonnull(written);
	ck_assert_str_eq(printed, written);
	free(printed);
	free(written);
}

/* Writes into argv (SIM_ARGV_MAX entries) hotline-sim replay of the test's
 * profile at scale with seed, with what every replay here gives (the broker,
 * the expectation's file, the agent pools), then extra (NULL-terminated). */
#define SIM_ARGV_MAX 40

static void sim_replay_argv(const struct e2e *t, const char *scale, const char *seed,
			    const char *const *extra, const char *argv[SIM_ARGV_MAX])
{
	const char *common[] = {program(HARNESS_ENV_SIM_BIN, "hotline-sim"),
				"replay",
				"--profile",
				t->profile,
				"--scale",
				scale,
				"--seed",
				seed,
				"--url",
				t->broker.url,
				"--expect-out",
				t->expected,
				"--agents",
				E2E_AGENTS,
				"--agent-password-file",
				t->password_file,
				"--platform-secrets",
				t->platform_secrets,
				"--db",
				t->db,
				NULL};
	size_t n = 0;

	for (size_t i = 0; common[i] != NULL; i++)
		argv[n++] = common[i];
	for (size_t i = 0; extra[i] != NULL; i++) {
		ck_assert_uint_lt(n, SIM_ARGV_MAX - 1);
		argv[n++] = extra[i];
	}
	argv[n] = NULL;
}

/* Loop index 0: the broker's default single store connection; 1: four
 * connections committing side by side, with many calls in flight at once. */
static const char *const store_connections[] = {NULL, "4"};

START_TEST(test_nanjing_at_small_scale_exports_exactly_the_scaled_profile)
{
	struct e2e t;

	e2e_start(&t, "data/nanjing-2019.yaml", store_connections[_i]);
	const char *extra[] = {"--secret-file", t.secret_file, "--connections", "16",
			       "--ring-delay-ms", "5", NULL};
	const char *sim[SIM_ARGV_MAX];
	sim_replay_argv(&t, "0.002", "1", extra, sim);
	char *out = run_ok(sim, NULL);
	ck_assert_msg(strstr(out, "hotline-sim: replayed ") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "classified differently") == NULL, "%s", out);
	/* 11085 and 3631 at scale 0.002. */
	ck_assert_msg(strstr(out, "hotline-sim: work orders: posted 29 of 29 for centre nanjing "
				  "(city_12345 22 of 22, province_12345 7 of 7), 29 new,") != NULL,
		      "%s", out);
	/* 1477316 phone bookings at 0.002 (row by row), the rest in batches. */
	ck_assert_msg(strstr(out, "hotline-sim: bookings: phone: posted 2952 of 2952 by the agents") !=
			      NULL,
		      "%s", out);
	ck_assert_msg(strstr(out, "hotline-sim: bookings: hospitals file of centre nanjing loaded: "
				  "52 hospitals, 416 departments, 9 platforms") != NULL,
		      "%s", out);
	free(out);
	assert_expect_matches_expect_out(&t, "0.002");
	assert_export_equals_expectation(&t, "2019", "nanjing");
	e2e_stop(&t);
}
END_TEST

/* The edge profile at full scale: a leap year, a centre with one call, a
 * category without calls; the secret comes from the environment. */
START_TEST(test_edge_profile_at_full_scale_exports_exactly_the_profile)
{
	struct e2e t;
	char secret_env[300];

	e2e_start(&t, "tests/data/edge-2020.yaml", NULL);
	snprintf(secret_env, sizeof secret_env, "HOTLINE_GATEWAY_SECRET=%s",
		 t.broker.gateway_secret);
	const char *env[] = {secret_env, NULL};
	const char *extra[] = {"--tz", "Asia/Shanghai", NULL};
	const char *sim[SIM_ARGV_MAX];
	sim_replay_argv(&t, "1", "20", extra, sim);
	char *out = run_ok(sim, env);
	ck_assert_msg(strstr(out, "replayed 326 of 326 calls") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "work orders: posted 11 of 11 for centre edge") != NULL, "%s",
		      out);
	ck_assert_msg(strstr(out, "bookings: phone: posted 60 of 60 by the agents") != NULL, "%s",
		      out);
	ck_assert_msg(strstr(out, "bookings: batches: imported 61 of 61 ") != NULL, "%s", out);
	free(out);
	assert_expect_matches_expect_out(&t, "1");
	assert_export_equals_expectation(&t, "2020", "edge");
	e2e_stop(&t);
}
END_TEST

/* Other hospitals and platforms, in many scripts: rows without bookings, a
 * hospital with clinic bookings only, platforms naming every online and
 * third-party booking; at full scale with the gateway posting the phone
 * bookings, and at a scale that re-ranks the rows. */
static const struct {
	const char *scale;
	const char *seed;
	const char *phone_by;
	const char *phone_line;
} harbour_runs[] = {
	{"1", "5", "gateway", "bookings: phone: posted 156 of 156 by the gateway"},
	{"0.37", "8", "agent", "bookings: phone: posted 57 of 57 by the agents"},
};

START_TEST(test_harbour_profile_exports_its_bookings_exactly)
{
	struct e2e t;

	e2e_start(&t, "tests/data/harbour-2021.yaml", NULL);
	const char *extra[] = {"--secret-file", t.secret_file, "--phone-bookings",
			       harbour_runs[_i].phone_by, NULL};
	const char *sim[SIM_ARGV_MAX];
	sim_replay_argv(&t, harbour_runs[_i].scale, harbour_runs[_i].seed, extra, sim);
	char *out = run_ok(sim, NULL);
	ck_assert_msg(strstr(out, "hotline-sim: replayed ") != NULL, "%s", out);
	ck_assert_msg(strstr(out, harbour_runs[_i].phone_line) != NULL, "%s", out);
	ck_assert_msg(strstr(out, "hospitals file of centre harbour loaded: 8 hospitals, 64 "
				  "departments, 4 platforms") != NULL,
		      "%s", out);
	free(out);
	assert_expect_matches_expect_out(&t, harbour_runs[_i].scale);
	assert_export_equals_expectation(&t, "2021", "harbour");
	e2e_stop(&t);
}
END_TEST

/* Starts hotline-sim without waiting; its stdout and stderr go to log. */
static pid_t spawn_sim(const char *const argv[], const char *log)
{
	posix_spawn_file_actions_t fa;
	pid_t pid = -1;

	ck_assert_int_eq(posix_spawn_file_actions_init(&fa), 0);
	ck_assert_int_eq(posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC,
							  0644),
			 0);
	ck_assert_int_eq(posix_spawn_file_actions_adddup2(&fa, 1, 2), 0);
	ck_assert_int_eq(posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

/* The broker stops while the simulator is replaying, cleanly (SIGTERM) or
 * killed outright (SIGKILL, loop index 1), and starts again: the simulator
 * retries the same events, and the export still equals the profile, with no
 * call lost or counted twice. */
static const int restart_signals[] = {SIGTERM, SIGKILL};

START_TEST(test_replay_survives_a_broker_restart)
{
	const int sig = restart_signals[_i];
	struct e2e t;
	char log[HARNESS_PATH_MAX + 16];
	int status = 0;

	/* Killed with three store connections, so that batches were in flight
	 * side by side when it died. */
	e2e_start(&t, "data/nanjing-2019.yaml", sig == SIGKILL ? "3" : NULL);
	snprintf(log, sizeof log, "%s/sim.log", t.dir);
	const char *extra[] = {"--secret-file", t.secret_file, "--retry-for", "90",
			       "--ring-delay-ms", "5", NULL};
	const char *sim[SIM_ARGV_MAX];
	sim_replay_argv(&t, "0.005", "3", extra, sim);
	pid_t pid = spawn_sim(sim, log);

	/* Wait until the replay is under way, then restart the broker. */
	const char *count_sql = "SELECT count(*) FROM call_events";
	for (int i = 0; i < 200 && harness_pg_query_int(t.db, count_sql) < 500; i++)
		usleep(50000);
	bool running = waitpid(pid, &status, WNOHANG) == 0;
	int restarted = -1;
	if (running) {
		int code = harness_broker_kill(&t.broker, sig);
		ck_assert_msg(code == (sig == SIGKILL ? 128 + SIGKILL : 0),
			      "the broker ended with %d after signal %d", code, sig);
		restarted = harness_broker_restart(&t.broker);
	}
	if (running && restarted != 0) {
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
	}
	ck_assert_msg(running, "the replay finished before the broker could be restarted");
	ck_assert_msg(restarted == 0, "%s", harness_error());

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	char *text = harness_read_file(log, NULL);
	ck_assert_ptr_nonnull(text);
	fprintf(stderr, "hotline-sim across a broker restart:\n%s\n", text);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "hotline-sim failed:\n%s",
		      tail_of(text));
	ck_assert_msg(strstr(text, "hotline-sim: replayed ") != NULL, "%s", tail_of(text));
	ck_assert_msg(strstr(text, "hotline-sim: work orders: posted 73 of 73 ") != NULL, "%s",
		      tail_of(text));
	/* The restart is seen by the gateway's posts (retries) or, when none was
	 * in flight at that moment, by the agents' streams (drops). */
	ck_assert_msg(strstr(text, ", 0 retries,") == NULL ||
			      strstr(text, ", 0 stream drops") == NULL,
		      "the restart went unnoticed: the replay must have finished first\n%s",
		      tail_of(text));
	free(text);
	assert_export_equals_expectation(&t, "2019", "nanjing");
	e2e_stop(&t);
}
END_TEST

static Suite *replay_e2e_suite(void)
{
	Suite *s = suite_create("replay_e2e");
	TCase *tc = tcase_create("replay");

	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, test_nanjing_at_small_scale_exports_exactly_the_scaled_profile, 0, 2);
	tcase_add_test(tc, test_edge_profile_at_full_scale_exports_exactly_the_profile);
	tcase_add_loop_test(tc, test_harbour_profile_exports_its_bookings_exactly, 0, 2);
	tcase_add_loop_test(tc, test_replay_survives_a_broker_restart, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	/* Start the shared servers here, so forked tests share them. */
	if (harness_shared_pg() == NULL || harness_shared_redis_port() < 0) {
		fprintf(stderr, "cannot start the test servers: %s\n", harness_error());
		return 1;
	}
	SRunner *sr = srunner_create(replay_e2e_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

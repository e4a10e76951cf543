/* harness.h: what the integration tests share: throwaway PostgreSQL and Redis
 * servers, fresh migrated databases, a running hotlined, a small blocking
 * HTTP/1.1 client and a way to run the command-line programs.
 *
 * Environment (tests/meson.build sets the first group for every test):
 *   HOTLINE_SOURCE_DIR      the source tree (tools/tmpserver, sql/, conf/)
 *   HOTLINE_HOTLINED_BIN    built programs; unset when the target does not
 *   HOTLINE_SIM_BIN         exist in this build
 *   HOTLINE_STATS_BIN
 *   HOTLINE_ADMIN_BIN
 *   HOTLINE_TEST_PG         conninfo of a suite-wide PostgreSQL (tools/test
 *   HOTLINE_TEST_REDIS_PORT starts one of each); when unset, the harness starts
 *                           private servers on first use
 *   HOTLINE_TEST_TMPDIR     where temporary folders go (else TMPDIR, /tmp);
 *                           tools/test sweeps it for servers left behind
 *
 * Cleanup contract: every server, database, broker and folder the harness
 * creates is recorded with the id of the process that created it, and that
 * process releases it on exit (atexit) or on SIGINT/SIGTERM/SIGHUP. A forked
 * Check test (CK_FORK) therefore cleans up what it started and never touches
 * what its parent started, so per-test resources belong in the test or a
 * checked fixture, and suite-wide ones in main() before srunner_run.
 * Brokers run in their own process group with a parent-death signal, so they
 * do not outlive a test that is killed outright.
 *
 * Error convention: functions return 0 / a pointer on success and -1 / NULL on
 * failure; the reason is printed to stderr (the test's log) and kept for
 * harness_error().
 */
#ifndef HOTLINE_TEST_HARNESS_H
#define HOTLINE_TEST_HARNESS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HARNESS_ENV_SOURCE_DIR "HOTLINE_SOURCE_DIR"
#define HARNESS_ENV_HOTLINED_BIN "HOTLINE_HOTLINED_BIN"
#define HARNESS_ENV_SIM_BIN "HOTLINE_SIM_BIN"
#define HARNESS_ENV_STATS_BIN "HOTLINE_STATS_BIN"
#define HARNESS_ENV_ADMIN_BIN "HOTLINE_ADMIN_BIN"
#define HARNESS_ENV_TEST_PG "HOTLINE_TEST_PG"
#define HARNESS_ENV_TEST_REDIS_PORT "HOTLINE_TEST_REDIS_PORT"
#define HARNESS_ENV_TMPDIR "HOTLINE_TEST_TMPDIR"

/* Defaults written into a broker's config unless the options say otherwise. */
#define HARNESS_GATEWAY_SECRET "harness-gateway-secret-0123456789abcdef"
#define HARNESS_CALLER_KEY "harness-caller-key-0123456789abcdef0123456789"
/* privacy.data_key of the brokers the harness starts (seals personal data). */
#define HARNESS_DATA_KEY "test-data-key-of-at-least-thirty-two-characters"
#define HARNESS_TIME_ZONE "Asia/Shanghai"

#define HARNESS_PATH_MAX 512
#define HARNESS_CONNINFO_MAX 512

/* harness_pg_query_int's answer when the query failed or was not one integer. */
#define HARNESS_QUERY_FAILED INT64_MIN

/* The last error message of this process ("" when none). */
const char *harness_error(void);

/* --- paths and files --------------------------------------------------------- */

/* HOTLINE_SOURCE_DIR, or NULL (with harness_error) when unset. */
const char *harness_source_dir(void);

/* A program's path from its environment variable (HARNESS_ENV_SIM_BIN ...), or
 * NULL when unset: the target was not part of this build. */
const char *harness_program(const char *env_var);

/* Creates a fresh folder "hotline-TAG-XXXXXX" (mode 0755) under
 * HOTLINE_TEST_TMPDIR, TMPDIR or /tmp, removed when this process exits.
 * Writes its path to out (HARNESS_PATH_MAX bytes). */
int harness_tmpdir(const char *tag, char out[HARNESS_PATH_MAX])
	__attribute__((warn_unused_result));

/* Reads a whole file; NUL-terminated, length in *len when len is not NULL.
 * Free with free(). NULL when unreadable. */
char *harness_read_file(const char *path, size_t *len);

/* --- servers ---------------------------------------------------------------- */

/* A PostgreSQL or Redis server run by tools/tmpserver. */
struct harness_server;

/* Starts a private server in dir (created if missing; NULL: a fresh temporary
 * folder). Use these for tests that stop or restart a server; tests that only
 * need one use harness_shared_pg / harness_shared_redis_port. */
struct harness_server *harness_pg_start(const char *dir) __attribute__((warn_unused_result));
struct harness_server *harness_redis_start(const char *dir) __attribute__((warn_unused_result));

/* Stops the server, keeping its data and port. */
int harness_server_stop(struct harness_server *s);
/* Starts it again on the same port (stopping it first when it runs). */
int harness_server_restart(struct harness_server *s) __attribute__((warn_unused_result));
/* Stops it and removes its folder (when the harness created the folder). */
void harness_server_free(struct harness_server *s);

/* "host=127.0.0.1 port=P dbname=hotline user=hotline" (PostgreSQL), "" (Redis). */
const char *harness_server_conninfo(const struct harness_server *s);
int harness_server_port(const struct harness_server *s);

/* Names kept for readability at the call site. */
#define harness_pg_stop harness_server_stop
#define harness_pg_restart harness_server_restart
#define harness_redis_stop harness_server_stop
#define harness_redis_restart harness_server_restart

/* The suite-wide servers: HOTLINE_TEST_PG / HOTLINE_TEST_REDIS_PORT when set,
 * else a private server started on the first call in this process (call it
 * from main() so that forked tests share it). NULL / -1 on failure. Never
 * stop these: tests run in parallel against them. */
const char *harness_shared_pg(void);
int harness_shared_redis_port(void);

/* --- databases -------------------------------------------------------------- */

/* Creates a database with a unique name on the server of server_conninfo
 * (NULL: harness_shared_pg()), applies every migration in sql/ with
 * db_migrate, and returns its conninfo (free with free()). The database is
 * dropped when this process exits, unless harness_db_drop did so before. */
char *harness_db_create(const char *server_conninfo) __attribute__((warn_unused_result));

/* Drops the database conninfo names (WITH (FORCE): open sessions end). */
int harness_db_drop(const char *conninfo);

/* Runs one statement (or several separated by ';', without parameters). */
int harness_pg_exec(const char *conninfo, const char *sql);

/* The single integer the query returns (count(*) and the like), or
 * HARNESS_QUERY_FAILED. */
int64_t harness_pg_query_int(const char *conninfo, const char *sql);

/* The first column of the first row as text (free with free()); NULL when the
 * query failed or returned no row or a NULL. */
char *harness_pg_query_text(const char *conninfo, const char *sql);

/* --- the broker --------------------------------------------------------------- */

struct harness_broker_options {
	/* database.url; NULL: a fresh database from harness_db_create(NULL),
	 * dropped by harness_broker_free. */
	const char *database_url;
	/* redis.port; 0: harness_shared_redis_port(); -1: a port where nothing
	 * listens (Redis down from the start). */
	int redis_port;
	const char *gateway_secret; /* NULL: HARNESS_GATEWAY_SECRET */
	const char *caller_key;     /* NULL: HARNESS_CALLER_KEY */
	const char *rules_file;     /* NULL: conf/rules.yaml of the source tree */
	const char *time_zone;      /* NULL: HARNESS_TIME_ZONE */
	const char *log_level;      /* NULL: "info" */
	/* Further keys, as a NULL-terminated list of pairs:
	 * {"http.max_body_bytes", "1024", "auth.tolerance_s", "30", NULL}.
	 * A pair replaces a default of the same key. Values that are integers,
	 * true/false, or start with '[' or '{' are written as they are; others
	 * as quoted strings. */
	const char *const *settings;
};

struct harness_broker {
	pid_t pid;  /* 0 when not running; also the process group id */
	int port;   /* listen.port */
	char url[64];                     /* "http://127.0.0.1:PORT" */
	char dir[HARNESS_PATH_MAX];       /* temporary folder */
	char config_path[HARNESS_PATH_MAX + 32];
	char log_path[HARNESS_PATH_MAX + 32]; /* the broker's stderr, appended across restarts */
	char gateway_secret[256];
	char database_url[HARNESS_CONNINFO_MAX];
	bool owns_database;
};

/* A broker is signalled, stopped and restarted only by the process that
 * started it (it alone can wait for it): a Check test that crashes or
 * restarts the broker starts its own, in the test or a checked fixture. */

/* Writes a config into a fresh temporary folder, starts hotlined
 * (HOTLINE_HOTLINED_BIN) with --config on a free port, and waits up to 10 s for
 * GET /healthz to answer with any status. On failure the log's tail is
 * printed and nothing is left running. b may live on the stack. */
int harness_broker_start(struct harness_broker *b, const struct harness_broker_options *opt)
	__attribute__((warn_unused_result));

/* Waits up to 10 s for GET /healthz to answer 200: /healthz answers before
 * the broker's first recovery is done. Returns 0, or -1 (harness_error). */
int harness_broker_wait_healthy(const struct harness_broker *b) __attribute__((warn_unused_result));

/* Sends sig to the broker's process group and returns at once (SIGHUP for a
 * reload). */
int harness_broker_signal(struct harness_broker *b, int sig);

/* Sends sig to the broker's process group and waits for the broker to exit
 * (SIGKILL after 10 s). Returns its exit code, or 128 + the signal that ended
 * it; -1 when it was not running. */
int harness_broker_kill(struct harness_broker *b, int sig);

/* harness_broker_kill(b, SIGTERM): a clean shutdown returns 0. */
int harness_broker_stop(struct harness_broker *b);

/* Starts the broker again with the same config and port (stopping it with
 * SIGTERM first when it runs) and waits for /healthz. */
int harness_broker_restart(struct harness_broker *b) __attribute__((warn_unused_result));

/* Stops the broker if it runs, drops its database if the harness created it,
 * and removes its folder. */
void harness_broker_free(struct harness_broker *b);

/* The broker's log so far (free with free()), e.g. to check that it never
 * contains an unmasked caller number. */
char *harness_broker_log(const struct harness_broker *b);

/* --- HTTP/1.1 client ------------------------------------------------------------ */

struct harness_header {
	char *name;
	char *value;
};

struct harness_response {
	int status;                     /* 0 when no complete response arrived */
	char *head;                     /* status line and header lines as received */
	struct harness_header *headers; /* parsed, in order */
	size_t n_headers;
	char *body; /* NUL-terminated; chunked bodies are decoded */
	size_t body_len;
};

struct harness_request {
	const char *method; /* NULL: "GET" */
	const char *path;   /* NULL: "/" */
	/* NULL-terminated "Name: value" lines, may be NULL. */
	const char *const *headers;
	const char *body;   /* NULL: none */
	size_t body_len;    /* 0 with a body: strlen(body) */
	/* NULL: "application/json" when there is a body; "": no Content-Type. */
	const char *content_type;
	/* When set, adds X-Hotline-Timestamp and X-Hotline-Signature (auth.h). */
	const char *sign_secret;
	int64_t sign_timestamp; /* 0: now */
};

/* One request on a new connection ("Connection: close"). Returns 0 with resp
 * filled, or -1 when the connection failed or closed before a complete
 * response (resp->status is then 0). Free resp with harness_response_free. */
int harness_http_request(int port, const struct harness_request *req,
			 struct harness_response *resp);

/* Shorthands: an unsigned request, and one signed with secret. */
int harness_http(int port, const char *method, const char *path, const char *const *headers,
		 const char *body, struct harness_response *resp);
int harness_http_signed(int port, const char *secret, const char *method, const char *path,
			const char *body, struct harness_response *resp);

/* Sends len arbitrary bytes on a new connection and reads one response, for
 * malformed and oversize requests. Send errors (the peer closing early) are
 * ignored; the result says whether a response arrived. */
int harness_http_raw(int port, const void *bytes, size_t len, struct harness_response *resp);

/* The value of the first header called name (case-insensitive), or NULL. */
const char *harness_response_header(const struct harness_response *resp, const char *name);

void harness_response_free(struct harness_response *resp);

/* A kept-alive connection, for pipelining and timeout tests. */
struct harness_conn;

struct harness_conn *harness_conn_open(int port) __attribute__((warn_unused_result));
/* Sends a request without "Connection: close" and reads its response. */
int harness_conn_request(struct harness_conn *c, const struct harness_request *req,
			 struct harness_response *resp);
int harness_conn_send_raw(struct harness_conn *c, const void *bytes, size_t len);
int harness_conn_read_response(struct harness_conn *c, struct harness_response *resp);
/* Waits up to timeout_ms for the peer to close; true when it did. */
bool harness_conn_wait_closed(struct harness_conn *c, int timeout_ms);
void harness_conn_close(struct harness_conn *c);

/* --- programs ------------------------------------------------------------------- */

/* Runs argv (argv[0] a path or a name on PATH), stdin from /dev/null, stderr to
 * the test's stderr; stdout captured into *output (NUL-terminated, free with
 * free(); may be NULL). *exit_code is the exit status, or 128 + the signal.
 * Returns 0 when the program ran, -1 when it could not be started. */
int harness_run(const char *const argv[], char **output, int *exit_code);

/* The same with extra environment ("NAME=value" sets, "NAME" unsets; may be
 * NULL), text on stdin (may be NULL) and stderr captured when err is not NULL. */
int harness_run_full(const char *const argv[], const char *const env[], const char *input,
		     char **output, char **err, int *exit_code);

#endif

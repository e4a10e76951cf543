/* harness.c: throwaway servers, databases, brokers, an HTTP client and a
 * program runner for the integration tests (see harness.h for the contracts).
 *
 * Everything started here is recorded with the id of the process that
 * started it; harness_cleanup (atexit) and the signal handler release only
 * what the current process owns, so that Check's forked tests and their
 * parent never tear down each other's servers.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "auth.h"
#include "db.h"

#define HARNESS_READY_TIMEOUT_MS 10000
#define HARNESS_STOP_TIMEOUT_MS 10000
#define HARNESS_IO_TIMEOUT_MS 30000
#define HARNESS_MAX_HEAD 65536
#define HARNESS_MAX_BROKERS 64

static char harness_last_error[1024];

static void harness_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Records and prints why something failed. */
static void harness_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(harness_last_error, sizeof harness_last_error, fmt, ap);
	va_end(ap);
	fprintf(stderr, "harness: %s\n", harness_last_error);
}

const char *harness_error(void)
{
	return harness_last_error;
}

/* --- the registry of what to release at exit ---------------------------------- */

enum harness_resource_kind {
	HARNESS_RESOURCE_DIR,
	HARNESS_RESOURCE_DATABASE,
	HARNESS_RESOURCE_SERVER,
};

struct harness_resource {
	enum harness_resource_kind kind;
	pid_t owner;
	char text[HARNESS_CONNINFO_MAX]; /* a folder path or a database conninfo */
	struct harness_server *server;
};

struct harness_server {
	bool is_pg;
	bool owns_dir;
	pid_t owner;
	int port;
	char dir[HARNESS_PATH_MAX];
	char conninfo[HARNESS_CONNINFO_MAX];
};

static struct harness_resource *harness_resources;
static size_t harness_n_resources;

/* Brokers live in a fixed table so that the signal handler can walk it
 * without racing a realloc. */
struct harness_broker_slot {
	pid_t owner;
	pid_t pid;
};
static struct harness_broker_slot harness_brokers[HARNESS_MAX_BROKERS];

static bool harness_cleanup_installed;
static char harness_shared_pg_conninfo[HARNESS_CONNINFO_MAX];
static int harness_shared_redis = -1;

static void harness_cleanup(void);
static int harness_drop_database(const char *conninfo, bool quiet);
static void harness_destroy_server(struct harness_server *s);
static int harness_remove_tree(const char *path);

/* Kills the brokers this process started, then restores the default action
 * and re-raises, so the exit status still tells what happened. Only
 * async-signal-safe calls; servers are left to tools/test's sweep. */
static void harness_on_signal(int sig)
{
	pid_t self = getpid();

	for (size_t i = 0; i < HARNESS_MAX_BROKERS; i++)
		if (harness_brokers[i].pid > 0 && harness_brokers[i].owner == self)
			kill(-harness_brokers[i].pid, SIGKILL);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void harness_install_cleanup(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};

	if (harness_cleanup_installed)
		return;
	harness_cleanup_installed = true;
	atexit(harness_cleanup);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		struct sigaction old;
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL) {
			struct sigaction sa;
			memset(&sa, 0, sizeof sa);
			sa.sa_handler = harness_on_signal;
			sigemptyset(&sa.sa_mask);
			sigaction(sigs[i], &sa, NULL);
		}
	}
}

static int harness_remember(enum harness_resource_kind kind, const char *text,
			    struct harness_server *server)
{
	struct harness_resource *grown;

	harness_install_cleanup();
	grown = realloc(harness_resources, (harness_n_resources + 1) * sizeof *grown);
	if (grown == NULL) {
		harness_fail("out of memory");
		return -1;
	}
	harness_resources = grown;
	struct harness_resource *r = &harness_resources[harness_n_resources++];
	memset(r, 0, sizeof *r);
	r->kind = kind;
	r->owner = getpid();
	if (text != NULL)
		snprintf(r->text, sizeof r->text, "%s", text);
	r->server = server;
	return 0;
}

/* Drops the record of a resource released by other means. */
static void harness_forget(enum harness_resource_kind kind, const char *text,
			   const struct harness_server *server)
{
	for (size_t i = 0; i < harness_n_resources; i++) {
		struct harness_resource *r = &harness_resources[i];
		if (r->kind != kind || r->owner != getpid())
			continue;
		if ((server != NULL && r->server == server) ||
		    (text != NULL && strcmp(r->text, text) == 0)) {
			harness_resources[i] = harness_resources[--harness_n_resources];
			return;
		}
	}
}

static void harness_broker_slot_set(pid_t old_pid, pid_t new_pid)
{
	for (size_t i = 0; i < HARNESS_MAX_BROKERS; i++) {
		if (harness_brokers[i].pid == old_pid &&
		    (old_pid == 0 || harness_brokers[i].owner == getpid())) {
			harness_brokers[i].owner = getpid();
			harness_brokers[i].pid = new_pid;
			return;
		}
	}
}

/* Waits for pid to exit for up to timeout_ms; returns its wait status or -1. */
static int harness_wait_exit(pid_t pid, int timeout_ms)
{
	int status;

	for (int waited = 0;; waited += 10) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;
		if (waited >= timeout_ms)
			return -1;
		usleep(10000);
	}
}

static int harness_decode_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

/* Releases, in order, the brokers, databases, servers and folders that this
 * process created and did not release itself. */
static void harness_cleanup(void)
{
	pid_t self = getpid();

	for (size_t i = 0; i < HARNESS_MAX_BROKERS; i++) {
		pid_t pid = harness_brokers[i].pid;
		if (pid <= 0 || harness_brokers[i].owner != self)
			continue;
		kill(-pid, SIGTERM);
		if (harness_wait_exit(pid, 5000) < 0) {
			kill(-pid, SIGKILL);
			harness_wait_exit(pid, HARNESS_STOP_TIMEOUT_MS);
		}
		harness_brokers[i].pid = 0;
	}
	for (size_t i = 0; i < harness_n_resources; i++)
		if (harness_resources[i].owner == self &&
		    harness_resources[i].kind == HARNESS_RESOURCE_DATABASE)
			harness_drop_database(harness_resources[i].text, true);
	for (size_t i = 0; i < harness_n_resources; i++) {
		if (harness_resources[i].kind != HARNESS_RESOURCE_SERVER)
			continue;
		/* A forked child frees its copy of its parent's record, and only that. */
		if (harness_resources[i].owner == self)
			harness_destroy_server(harness_resources[i].server);
		free(harness_resources[i].server);
	}
	for (size_t i = 0; i < harness_n_resources; i++)
		if (harness_resources[i].owner == self &&
		    harness_resources[i].kind == HARNESS_RESOURCE_DIR)
			harness_remove_tree(harness_resources[i].text);
	free(harness_resources);
	harness_resources = NULL;
	harness_n_resources = 0;
}

/* --- paths and files ------------------------------------------------------------ */

const char *harness_source_dir(void)
{
	const char *dir = getenv(HARNESS_ENV_SOURCE_DIR);

	if (dir == NULL || dir[0] == '\0') {
		harness_fail("%s is not set (tests/meson.build sets it for meson test)",
			     HARNESS_ENV_SOURCE_DIR);
		return NULL;
	}
	return dir;
}

const char *harness_program(const char *env_var)
{
	const char *path = getenv(env_var);

	if (path == NULL || path[0] == '\0') {
		harness_fail("%s is not set: that program is not part of this build", env_var);
		return NULL;
	}
	return path;
}

int harness_tmpdir(const char *tag, char out[HARNESS_PATH_MAX])
{
	const char *base = getenv(HARNESS_ENV_TMPDIR);

	if (base == NULL || base[0] == '\0')
		base = getenv("TMPDIR");
	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	if (snprintf(out, HARNESS_PATH_MAX, "%s/hotline-%s-XXXXXX", base, tag) >=
	    HARNESS_PATH_MAX) {
		harness_fail("temporary folder name too long under %s", base);
		return -1;
	}
	const char *made = mkdtemp(out);
	if (made == NULL) {
		harness_fail("creating a temporary folder under %s: %s", base, strerror(errno));
		return -1;
	}
	/* Traversable, so that a PostgreSQL running as user postgres can use it. */
	if (chmod(made, 0755) != 0) {
		harness_fail("chmod %s: %s", made, strerror(errno));
		rmdir(made);
		return -1;
	}
	if (harness_remember(HARNESS_RESOURCE_DIR, made, NULL) != 0) {
		rmdir(made);
		return -1;
	}
	return 0;
}

char *harness_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (f == NULL) {
		harness_fail("reading %s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (cap - n < 4096) {
			char *grown = realloc(buf, cap + 65536);
			if (grown == NULL) {
				free(buf);
				fclose(f);
				harness_fail("out of memory reading %s", path);
				return NULL;
			}
			buf = grown;
			cap += 65536;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

static int harness_remove_entry(const char *path, const struct stat *st, int type,
				struct FTW *ftw)
{
	if (remove(path) != 0 && errno != ENOENT)
		fprintf(stderr, "harness: removing %s: %s\n", path, strerror(errno));
	return 0;
}

/* rm -rf path, without following symbolic links. */
static int harness_remove_tree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return 0;
	return nftw(path, harness_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* --- programs ------------------------------------------------------------------- */

/* Appends what fd has to *buf; returns bytes read, 0 at EOF, -1 on error. */
static ssize_t harness_drain(int fd, char **buf, size_t *len, size_t *cap)
{
	if (*cap - *len < 4097) {
		size_t want = *cap ? *cap * 2 : 8192;
		char *grown = realloc(*buf, want);
		if (grown == NULL)
			return -1;
		*buf = grown;
		*cap = want;
	}
	ssize_t n = read(fd, *buf + *len, *cap - *len - 1);
	if (n > 0)
		*len += (size_t)n;
	/* Terminated after every read, an empty one too: a program that wrote
	 * nothing still leaves a valid empty string. */
	(*buf)[*len] = '\0';
	return n;
}

/* In the child: stdin, stdout and stderr in place, environment changed, then
 * exec. Never returns. */
static void harness_exec_child(const char *const argv[], const char *const env[], int in_fd,
			       int out_fd, int err_fd)
{
	if (dup2(in_fd, STDIN_FILENO) < 0 || (out_fd >= 0 && dup2(out_fd, STDOUT_FILENO) < 0) ||
	    (err_fd >= 0 && dup2(err_fd, STDERR_FILENO) < 0))
		_exit(127);
	for (size_t i = 0; env != NULL && env[i] != NULL; i++) {
		const char *eq = strchr(env[i], '=');
		if (eq == NULL) {
			unsetenv(env[i]);
		} else {
			char name[256];
			size_t n = (size_t)(eq - env[i]);
			if (n >= sizeof name)
				_exit(127);
			memcpy(name, env[i], n);
			name[n] = '\0';
			setenv(name, eq + 1, 1);
		}
	}
	execvp(argv[0], (char *const *)argv);
	fprintf(stderr, "harness: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int harness_run_full(const char *const argv[], const char *const env[], const char *input,
		     char **output, char **err, int *exit_code)
{
	int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
	char *out_buf = NULL, *err_buf = NULL;
	size_t out_len = 0, out_cap = 0, err_len = 0, err_cap = 0;
	size_t in_len = input ? strlen(input) : 0, in_off = 0;
	int status = 0, rc = -1;
	pid_t pid;

	if (output != NULL)
		*output = NULL;
	if (err != NULL)
		*err = NULL;
	if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0 ||
	    (err != NULL && pipe2(err_pipe, O_CLOEXEC) != 0)) {
		harness_fail("pipe: %s", strerror(errno));
		goto out;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		harness_fail("fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		harness_exec_child(argv, env, in_pipe[0], out_pipe[1], err_pipe[1]);
	close(in_pipe[0]);
	close(out_pipe[1]);
	in_pipe[0] = out_pipe[1] = -1;
	if (err_pipe[1] >= 0) {
		close(err_pipe[1]);
		err_pipe[1] = -1;
	}
	if (in_len == 0) {
		close(in_pipe[1]);
		in_pipe[1] = -1;
	} else {
		fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
	}

	/* Feed stdin and drain stdout and stderr together, so that neither side
	 * blocks on a full pipe. */
	while (out_pipe[0] >= 0 || err_pipe[0] >= 0) {
		struct pollfd p[3];
		int n = 0;
		int at_in = -1, at_out = -1, at_err = -1;
		if (in_pipe[1] >= 0) {
			p[n] = (struct pollfd){.fd = in_pipe[1], .events = POLLOUT};
			at_in = n++;
		}
		if (out_pipe[0] >= 0) {
			p[n] = (struct pollfd){.fd = out_pipe[0], .events = POLLIN};
			at_out = n++;
		}
		if (err_pipe[0] >= 0) {
			p[n] = (struct pollfd){.fd = err_pipe[0], .events = POLLIN};
			at_err = n++;
		}
		if (poll(p, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			harness_fail("poll: %s", strerror(errno));
			break;
		}
		if (at_in >= 0 && p[at_in].revents) {
			ssize_t w = write(in_pipe[1], input + in_off, in_len - in_off);
			if (w > 0)
				in_off += (size_t)w;
			if (w < 0 && errno != EAGAIN && errno != EINTR)
				in_off = in_len; /* the program closed stdin early */
			if (in_off == in_len) {
				close(in_pipe[1]);
				in_pipe[1] = -1;
			}
		}
		if (at_out >= 0 && p[at_out].revents) {
			ssize_t r = harness_drain(out_pipe[0], &out_buf, &out_len, &out_cap);
			if (r <= 0 && !(r < 0 && errno == EINTR)) {
				close(out_pipe[0]);
				out_pipe[0] = -1;
			}
		}
		if (at_err >= 0 && p[at_err].revents) {
			ssize_t r = harness_drain(err_pipe[0], &err_buf, &err_len, &err_cap);
			if (r <= 0 && !(r < 0 && errno == EINTR)) {
				close(err_pipe[0]);
				err_pipe[0] = -1;
			}
		}
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			harness_fail("waitpid: %s", strerror(errno));
			goto out;
		}
	}
	if (exit_code != NULL)
		*exit_code = harness_decode_status(status);
	if (output != NULL) {
		*output = out_buf ? out_buf : strdup("");
		out_buf = NULL;
	}
	if (err != NULL) {
		*err = err_buf ? err_buf : strdup("");
		err_buf = NULL;
	}
	rc = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (in_pipe[i] >= 0)
			close(in_pipe[i]);
		if (out_pipe[i] >= 0)
			close(out_pipe[i]);
		if (err_pipe[i] >= 0)
			close(err_pipe[i]);
	}
	free(out_buf);
	free(err_buf);
	return rc;
}

int harness_run(const char *const argv[], char **output, int *exit_code)
{
	return harness_run_full(argv, NULL, NULL, output, NULL, exit_code);
}

/* --- servers ---------------------------------------------------------------------- */

/* Runs tools/tmpserver KIND CMD DIR; *out gets its trimmed stdout when not NULL. */
static int harness_tmpserver(const char *kind, const char *cmd, const char *dir, char *out,
			     size_t out_len)
{
	const char *src = harness_source_dir();
	char script[HARNESS_PATH_MAX + 32];
	char *output = NULL;
	int code = -1;

	if (src == NULL)
		return -1;
	snprintf(script, sizeof script, "%s/tools/tmpserver", src);
	const char *argv[] = {script, kind, cmd, dir, NULL};
	if (harness_run(argv, &output, &code) != 0)
		return -1;
	if (code != 0) {
		harness_fail("tools/tmpserver %s %s %s exited with %d", kind, cmd, dir, code);
		free(output);
		return -1;
	}
	if (out != NULL) {
		size_t n = strlen(output);
		while (n > 0 && (output[n - 1] == '\n' || output[n - 1] == ' '))
			output[--n] = '\0';
		/* The last line is the answer. */
		const char *last = strrchr(output, '\n');
		snprintf(out, out_len, "%s", last ? last + 1 : output);
	}
	free(output);
	return 0;
}

/* Starts (or starts again) s and records its conninfo or port. */
static int harness_server_launch(struct harness_server *s)
{
	char answer[HARNESS_CONNINFO_MAX];

	if (harness_tmpserver(s->is_pg ? "postgres" : "redis", "start", s->dir, answer,
			      sizeof answer) != 0)
		return -1;
	if (s->is_pg) {
		const char *p = strstr(answer, "port=");
		snprintf(s->conninfo, sizeof s->conninfo, "%s", answer);
		s->port = p ? atoi(p + 5) : 0;
	} else {
		s->conninfo[0] = '\0';
		s->port = atoi(answer);
	}
	if (s->port <= 0) {
		harness_fail("tools/tmpserver answered '%s', not a server address", answer);
		return -1;
	}
	return 0;
}

static struct harness_server *harness_server_start(bool is_pg, const char *dir)
{
	struct harness_server *s = calloc(1, sizeof *s);

	if (s == NULL) {
		harness_fail("out of memory");
		return NULL;
	}
	s->is_pg = is_pg;
	s->owner = getpid();
	if (dir == NULL) {
		if (harness_tmpdir(is_pg ? "pg" : "redis", s->dir) != 0) {
			free(s);
			return NULL;
		}
		/* The server record removes the folder from now on. */
		harness_forget(HARNESS_RESOURCE_DIR, s->dir, NULL);
		s->owns_dir = true;
	} else {
		snprintf(s->dir, sizeof s->dir, "%s", dir);
	}
	if (harness_remember(HARNESS_RESOURCE_SERVER, NULL, s) != 0) {
		harness_destroy_server(s);
		free(s);
		return NULL;
	}
	if (harness_server_launch(s) != 0) {
		harness_server_free(s);
		return NULL;
	}
	return s;
}

struct harness_server *harness_pg_start(const char *dir)
{
	return harness_server_start(true, dir);
}

struct harness_server *harness_redis_start(const char *dir)
{
	return harness_server_start(false, dir);
}

int harness_server_stop(struct harness_server *s)
{
	return harness_tmpserver(s->is_pg ? "postgres" : "redis", "stop", s->dir, NULL, 0);
}

int harness_server_restart(struct harness_server *s)
{
	if (harness_server_stop(s) != 0)
		return -1;
	return harness_server_launch(s);
}

/* Stops s and, when the harness made its folder, removes it with all data. */
static void harness_destroy_server(struct harness_server *s)
{
	const char *kind = s->is_pg ? "postgres" : "redis";

	if (s->owns_dir)
		harness_tmpserver(kind, "destroy", s->dir, NULL, 0);
	else
		harness_tmpserver(kind, "stop", s->dir, NULL, 0);
}

void harness_server_free(struct harness_server *s)
{
	if (s == NULL)
		return;
	harness_destroy_server(s);
	harness_forget(HARNESS_RESOURCE_SERVER, NULL, s);
	free(s);
}

const char *harness_server_conninfo(const struct harness_server *s)
{
	return s->conninfo;
}

int harness_server_port(const struct harness_server *s)
{
	return s->port;
}

const char *harness_shared_pg(void)
{
	const char *env = getenv(HARNESS_ENV_TEST_PG);

	if (env != NULL && env[0] != '\0')
		return env;
	/* Started by this process or inherited from the parent of a fork. */
	if (harness_shared_pg_conninfo[0] != '\0')
		return harness_shared_pg_conninfo;
	struct harness_server *s = harness_pg_start(NULL);
	if (s == NULL)
		return NULL;
	snprintf(harness_shared_pg_conninfo, sizeof harness_shared_pg_conninfo, "%s",
		 s->conninfo);
	return harness_shared_pg_conninfo;
}

int harness_shared_redis_port(void)
{
	const char *env = getenv(HARNESS_ENV_TEST_REDIS_PORT);

	if (env != NULL && env[0] != '\0')
		return atoi(env);
	if (harness_shared_redis > 0)
		return harness_shared_redis;
	struct harness_server *s = harness_redis_start(NULL);
	if (s == NULL)
		return -1;
	harness_shared_redis = s->port;
	return harness_shared_redis;
}

/* A port on 127.0.0.1 that nothing listens on right now (the kernel's choice). */
static int harness_free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int port = -1;

	if (fd < 0) {
		harness_fail("socket: %s", strerror(errno));
		return -1;
	}
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	else
		harness_fail("finding a free port: %s", strerror(errno));
	close(fd);
	return port;
}

/* --- databases ------------------------------------------------------------------------ */

static PGconn *harness_connect(const char *conninfo)
{
	char err[1024];
	PGconn *conn = db_connect(conninfo, NULL, err, sizeof err);

	if (conn == NULL)
		harness_fail("%s", err);
	return conn;
}

/* Appends key='value' (libpq quoting) to out. */
static void harness_conninfo_append(char *out, size_t out_len, const char *key, const char *val)
{
	size_t n = strlen(out);

	n += (size_t)snprintf(out + n, n < out_len ? out_len - n : 0, "%s%s='", n ? " " : "", key);
	for (const char *p = val; *p != '\0' && n + 3 < out_len; p++) {
		if (*p == '\'' || *p == '\\')
			out[n++] = '\\';
		out[n++] = *p;
	}
	if (n + 2 <= out_len) {
		out[n++] = '\'';
		out[n] = '\0';
	}
}

/* Rewrites conninfo with dbname replaced (or read, when dbname is NULL into
 * name_out). Returns 0, or -1 when conninfo does not parse. */
static int harness_conninfo_with_db(const char *conninfo, const char *dbname, char *out,
				    size_t out_len, char *name_out, size_t name_len)
{
	char *msg = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &msg);

	if (opts == NULL) {
		harness_fail("conninfo '%s': %s", conninfo, msg ? msg : "does not parse");
		PQfreemem(msg);
		return -1;
	}
	if (out != NULL)
		out[0] = '\0';
	if (name_out != NULL)
		name_out[0] = '\0';
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
		bool is_db = strcmp(o->keyword, "dbname") == 0;
		if (is_db && name_out != NULL && o->val != NULL)
			snprintf(name_out, name_len, "%s", o->val);
		if (out == NULL)
			continue;
		if (is_db && dbname != NULL)
			harness_conninfo_append(out, out_len, o->keyword, dbname);
		else if (o->val != NULL && o->val[0] != '\0')
			harness_conninfo_append(out, out_len, o->keyword, o->val);
	}
	PQconninfoFree(opts);
	return 0;
}

char *harness_db_create(const char *server_conninfo)
{
	static unsigned counter;
	char name[64], conninfo[HARNESS_CONNINFO_MAX], sql[128], sql_dir[HARNESS_PATH_MAX + 8];
	char err[2048];
	const char *src = harness_source_dir();
	PGconn *conn;
	PGresult *r;

	if (src == NULL)
		return NULL;
	if (server_conninfo == NULL && (server_conninfo = harness_shared_pg()) == NULL)
		return NULL;
	if (auth_init() != 0) {
		harness_fail("libsodium failed to initialise");
		return NULL;
	}
	snprintf(name, sizeof name, "t_%ld_%u_%08x", (long)getpid(), counter++,
		 (unsigned)randombytes_random());
	if (harness_conninfo_with_db(server_conninfo, name, conninfo, sizeof conninfo, NULL, 0) !=
	    0)
		return NULL;

	if ((conn = harness_connect(server_conninfo)) == NULL)
		return NULL;
	snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\" TEMPLATE template0 ENCODING 'UTF8'",
		 name);
	r = db_exec(conn, sql, 0, NULL, err, sizeof err);
	PQfinish(conn);
	if (r == NULL) {
		harness_fail("creating database %s: %s", name, err);
		return NULL;
	}
	PQclear(r);
	if (harness_remember(HARNESS_RESOURCE_DATABASE, conninfo, NULL) != 0) {
		harness_drop_database(conninfo, true);
		return NULL;
	}

	if ((conn = harness_connect(conninfo)) == NULL)
		goto fail;
	snprintf(sql_dir, sizeof sql_dir, "%s/sql", src);
	int applied = db_migrate(conn, sql_dir, stderr, err, sizeof err);
	PQfinish(conn);
	if (applied < 0) {
		harness_fail("migrating database %s from %s: %s", name, sql_dir, err);
		goto fail;
	}
	char *result = strdup(conninfo);
	if (result == NULL) {
		harness_fail("out of memory");
		goto fail;
	}
	return result;
fail:
	harness_db_drop(conninfo);
	return NULL;
}

static int harness_drop_database(const char *conninfo, bool quiet)
{
	char name[128], admin[HARNESS_CONNINFO_MAX], sql[256], err[1024];
	PGconn *conn;
	PGresult *r;

	if (harness_conninfo_with_db(conninfo, "postgres", admin, sizeof admin, name,
				     sizeof name) != 0)
		return -1;
	if (name[0] == '\0' || strchr(name, '"') != NULL) {
		harness_fail("conninfo '%s' names no database the harness can drop", conninfo);
		return -1;
	}
	conn = db_connect(admin, NULL, err, sizeof err);
	if (conn == NULL) {
		if (!quiet)
			harness_fail("dropping database %s: %s", name, err);
		return -1;
	}
	snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", name);
	r = db_exec(conn, sql, 0, NULL, err, sizeof err);
	PQfinish(conn);
	if (r == NULL) {
		if (!quiet)
			harness_fail("dropping database %s: %s", name, err);
		return -1;
	}
	PQclear(r);
	return 0;
}

int harness_db_drop(const char *conninfo)
{
	int rc = harness_drop_database(conninfo, false);

	harness_forget(HARNESS_RESOURCE_DATABASE, conninfo, NULL);
	return rc;
}

int harness_pg_exec(const char *conninfo, const char *sql)
{
	PGconn *conn = harness_connect(conninfo);
	int rc = 0;

	if (conn == NULL)
		return -1;
	/* PQexec, unlike db_exec, takes several statements at once. */
	PGresult *r = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		harness_fail("%s: %s", sql, PQresultErrorMessage(r));
		rc = -1;
	}
	PQclear(r);
	PQfinish(conn);
	return rc;
}

char *harness_pg_query_text(const char *conninfo, const char *sql)
{
	char err[1024];
	char *text = NULL;
	PGconn *conn = harness_connect(conninfo);

	if (conn == NULL)
		return NULL;
	PGresult *r = db_exec(conn, sql, 0, NULL, err, sizeof err);
	if (r == NULL)
		harness_fail("%s: %s", sql, err);
	else if (PQntuples(r) < 1 || PQnfields(r) < 1 || PQgetisnull(r, 0, 0))
		harness_fail("%s: returned no value", sql);
	else if ((text = strdup(PQgetvalue(r, 0, 0))) == NULL)
		harness_fail("out of memory");
	PQclear(r);
	PQfinish(conn);
	return text;
}

int64_t harness_pg_query_int(const char *conninfo, const char *sql)
{
	char *text = harness_pg_query_text(conninfo, sql);
	char *end;
	int64_t v;

	if (text == NULL)
		return HARNESS_QUERY_FAILED;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0') {
		harness_fail("%s: returned '%s', not an integer", sql, text);
		v = HARNESS_QUERY_FAILED;
	}
	free(text);
	return v;
}

/* --- HTTP client ------------------------------------------------------------------------- */

struct harness_conn {
	int fd;
	int timeout_ms; /* for each wait on the peer */
	bool eof;
	char *buf; /* received, not yet consumed */
	size_t len, cap;
};

struct harness_conn *harness_conn_open(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct harness_conn *c = calloc(1, sizeof *c);
	int one = 1;

	if (c == NULL) {
		harness_fail("out of memory");
		return NULL;
	}
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		harness_fail("connecting to 127.0.0.1:%d: %s", port, strerror(errno));
		if (c->fd >= 0)
			close(c->fd);
		free(c);
		return NULL;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->timeout_ms = HARNESS_IO_TIMEOUT_MS;
	return c;
}

void harness_conn_close(struct harness_conn *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	free(c->buf);
	free(c);
}

int harness_conn_send_raw(struct harness_conn *c, const void *bytes, size_t len)
{
	const char *p = bytes;

	while (len > 0) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			harness_fail("sending: %s", strerror(errno));
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads more into c->buf, waiting up to timeout_ms. Returns bytes read, 0 at
 * EOF, -1 on error or timeout. */
static ssize_t harness_conn_fill(struct harness_conn *c, int timeout_ms)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	int ready;

	if (c->eof)
		return 0;
	if (c->cap - c->len < 16385) {
		size_t want = c->cap ? c->cap * 2 : 32768;
		char *grown = realloc(c->buf, want);
		if (grown == NULL) {
			harness_fail("out of memory");
			return -1;
		}
		c->buf = grown;
		c->cap = want;
	}
	do
		ready = poll(&p, 1, timeout_ms);
	while (ready < 0 && errno == EINTR);
	if (ready == 0) {
		harness_fail("no answer within %d ms", timeout_ms);
		return -1;
	}
	ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
	if (n < 0) {
		harness_fail("receiving: %s", strerror(errno));
		return -1;
	}
	if (n == 0)
		c->eof = true;
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	return n;
}

/* Ensures c->buf holds at least want bytes. */
static int harness_conn_need(struct harness_conn *c, size_t want)
{
	while (c->len < want) {
		ssize_t n = harness_conn_fill(c, c->timeout_ms);
		if (n <= 0) {
			if (n == 0)
				harness_fail("connection closed in the middle of a response");
			return -1;
		}
	}
	return 0;
}

/* Position just past the next CRLF at or after from, or 0 when none yet. */
static size_t harness_conn_line_end(struct harness_conn *c, size_t from)
{
	for (size_t i = from; i + 1 < c->len; i++)
		if (c->buf[i] == '\r' && c->buf[i + 1] == '\n')
			return i + 2;
	return 0;
}

static void harness_conn_consume(struct harness_conn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
	if (c->buf != NULL)
		c->buf[c->len] = '\0';
}

static int harness_body_append(struct harness_response *resp, const char *data, size_t n)
{
	char *grown = realloc(resp->body, resp->body_len + n + 1);

	if (grown == NULL) {
		harness_fail("out of memory");
		return -1;
	}
	resp->body = grown;
	memcpy(resp->body + resp->body_len, data, n);
	resp->body_len += n;
	resp->body[resp->body_len] = '\0';
	return 0;
}

/* Splits the header block into resp->headers and reads the status code. */
static int harness_parse_head(struct harness_response *resp)
{
	char *line = resp->head, *next;
	int status;

	if (sscanf(line, "HTTP/1.%*d %3d", &status) != 1 || status < 100) {
		harness_fail("not an HTTP/1.x status line: %.80s", line);
		return -1;
	}
	next = strstr(line, "\r\n");
	while (next != NULL) {
		line = next + 2;
		next = strstr(line, "\r\n");
		if (next == NULL || next == line)
			break;
		char *colon = memchr(line, ':', (size_t)(next - line));
		if (colon == NULL)
			continue;
		struct harness_header *grown =
			realloc(resp->headers, (resp->n_headers + 1) * sizeof *grown);
		if (grown == NULL) {
			harness_fail("out of memory");
			return -1;
		}
		resp->headers = grown;
		char *value = colon + 1;
		while (value < next && (*value == ' ' || *value == '\t'))
			value++;
		char *value_end = next;
		while (value_end > value && (value_end[-1] == ' ' || value_end[-1] == '\t'))
			value_end--;
		struct harness_header *h = &resp->headers[resp->n_headers];
		h->name = strndup(line, (size_t)(colon - line));
		h->value = strndup(value, (size_t)(value_end - value));
		if (h->name == NULL || h->value == NULL) {
			free(h->name);
			free(h->value);
			harness_fail("out of memory");
			return -1;
		}
		resp->n_headers++;
	}
	resp->status = status;
	return 0;
}

static int harness_read_chunked(struct harness_conn *c, struct harness_response *resp)
{
	for (;;) {
		size_t end;
		while ((end = harness_conn_line_end(c, 0)) == 0)
			if (harness_conn_need(c, c->len + 1) != 0)
				return -1;
		size_t size = strtoul(c->buf, NULL, 16);
		harness_conn_consume(c, end);
		if (size == 0) {
			/* Trailers, then the empty line. */
			for (;;) {
				while ((end = harness_conn_line_end(c, 0)) == 0)
					if (harness_conn_need(c, c->len + 1) != 0)
						return -1;
				harness_conn_consume(c, end);
				if (end == 2)
					return 0;
			}
		}
		if (harness_conn_need(c, size + 2) != 0 ||
		    harness_body_append(resp, c->buf, size) != 0)
			return -1;
		harness_conn_consume(c, size + 2);
	}
}

/* Reads one response; head_only when answering a HEAD request. */
static int harness_conn_read(struct harness_conn *c, struct harness_response *resp,
			     bool head_only)
{
	size_t head_end = 0;

	memset(resp, 0, sizeof *resp);
	for (;;) {
		char *end = c->len ? strstr(c->buf, "\r\n\r\n") : NULL;
		if (end != NULL) {
			head_end = (size_t)(end - c->buf) + 4;
			break;
		}
		if (c->len > HARNESS_MAX_HEAD) {
			harness_fail("response head longer than %d bytes", HARNESS_MAX_HEAD);
			return -1;
		}
		ssize_t n = harness_conn_fill(c, c->timeout_ms);
		if (n <= 0) {
			if (n == 0)
				harness_fail("connection closed before a complete response");
			return -1;
		}
	}
	resp->head = strndup(c->buf, head_end - 2);
	if (resp->head == NULL) {
		harness_fail("out of memory");
		return -1;
	}
	harness_conn_consume(c, head_end);
	if (harness_parse_head(resp) != 0)
		goto fail;
	if (harness_body_append(resp, "", 0) != 0)
		goto fail;

	const char *te = harness_response_header(resp, "Transfer-Encoding");
	const char *cl = harness_response_header(resp, "Content-Length");
	if (head_only || resp->status < 200 || resp->status == 204 || resp->status == 304)
		return 0;
	if (te != NULL && strcasestr(te, "chunked") != NULL) {
		if (harness_read_chunked(c, resp) != 0)
			goto fail;
	} else if (cl != NULL) {
		size_t n = strtoul(cl, NULL, 10);
		if (harness_conn_need(c, n) != 0 || harness_body_append(resp, c->buf, n) != 0)
			goto fail;
		harness_conn_consume(c, n);
	} else {
		/* Delimited by the end of the connection. */
		while (!c->eof)
			if (harness_conn_fill(c, c->timeout_ms) < 0)
				goto fail;
		if (harness_body_append(resp, c->buf, c->len) != 0)
			goto fail;
		harness_conn_consume(c, c->len);
	}
	return 0;
fail:
	harness_response_free(resp);
	return -1;
}

int harness_conn_read_response(struct harness_conn *c, struct harness_response *resp)
{
	return harness_conn_read(c, resp, false);
}

bool harness_conn_wait_closed(struct harness_conn *c, int timeout_ms)
{
	struct timeval start, now;

	gettimeofday(&start, NULL);
	for (;;) {
		gettimeofday(&now, NULL);
		long spent = (now.tv_sec - start.tv_sec) * 1000L +
			     (now.tv_usec - start.tv_usec) / 1000L;
		if (c->eof)
			return true;
		if (spent >= timeout_ms)
			return false;
		/* Whatever arrives before the close is kept and ignored. */
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		int ready = poll(&p, 1, (int)(timeout_ms - spent));
		if (ready < 0 && errno != EINTR)
			return false;
		if (ready > 0) {
			if (c->cap - c->len < 4097) {
				size_t want = c->cap ? c->cap * 2 : 32768;
				char *grown = realloc(c->buf, want);
				if (grown == NULL)
					return false;
				c->buf = grown;
				c->cap = want;
			}
			ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
			if (n == 0 || (n < 0 && errno == ECONNRESET))
				c->eof = true;
			else if (n > 0)
				c->len += (size_t)n;
		}
	}
}

/* Formats and sends req; close_after adds "Connection: close". */
static int harness_conn_send_request(struct harness_conn *c, const struct harness_request *req,
				     bool close_after, int port)
{
	const char *method = req->method ? req->method : "GET";
	const char *path = req->path ? req->path : "/";
	size_t body_len = req->body ? (req->body_len ? req->body_len : strlen(req->body)) : 0;
	bool has_length = req->body != NULL || strcmp(method, "POST") == 0 ||
			  strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0;
	char *head = NULL;
	size_t head_len = 0;
	FILE *f = open_memstream(&head, &head_len);
	int rc;

	if (f == NULL) {
		harness_fail("out of memory");
		return -1;
	}
	fprintf(f, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n", method, path, port);
	if (req->body != NULL) {
		const char *ct = req->content_type ? req->content_type : "application/json";
		if (ct[0] != '\0')
			fprintf(f, "Content-Type: %s\r\n", ct);
	}
	if (has_length)
		fprintf(f, "Content-Length: %zu\r\n", body_len);
	if (req->sign_secret != NULL) {
		char sig[AUTH_SIGNATURE_LEN];
		int64_t ts = req->sign_timestamp ? req->sign_timestamp : (int64_t)time(NULL);
		if (auth_init() != 0) {
			fclose(f);
			free(head);
			harness_fail("libsodium failed to initialise");
			return -1;
		}
		auth_sign(req->sign_secret, ts, req->body ? req->body : "", body_len, sig);
		fprintf(f, "%s: %lld\r\n%s: %s\r\n", AUTH_HEADER_TIMESTAMP, (long long)ts,
			AUTH_HEADER_SIGNATURE, sig);
	}
	for (size_t i = 0; req->headers != NULL && req->headers[i] != NULL; i++)
		fprintf(f, "%s\r\n", req->headers[i]);
	if (close_after)
		fputs("Connection: close\r\n", f);
	fputs("\r\n", f);
	fclose(f);
	rc = harness_conn_send_raw(c, head, head_len);
	free(head);
	/* The server may answer (413, 400) and close before reading the body:
	 * a failed send is not yet a failed exchange. */
	if (rc == 0 && body_len > 0)
		harness_conn_send_raw(c, req->body, body_len);
	return 0;
}

int harness_conn_request(struct harness_conn *c, const struct harness_request *req,
			 struct harness_response *resp)
{
	int port = 0;
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;

	memset(resp, 0, sizeof *resp);
	if (getpeername(c->fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	if (harness_conn_send_request(c, req, false, port) != 0)
		return -1;
	return harness_conn_read(c, resp, req->method && strcmp(req->method, "HEAD") == 0);
}

int harness_http_request(int port, const struct harness_request *req,
			 struct harness_response *resp)
{
	struct harness_conn *c;
	int rc = -1;

	memset(resp, 0, sizeof *resp);
	if ((c = harness_conn_open(port)) == NULL)
		return -1;
	if (harness_conn_send_request(c, req, true, port) == 0)
		rc = harness_conn_read(c, resp, req->method && strcmp(req->method, "HEAD") == 0);
	harness_conn_close(c);
	return rc;
}

int harness_http(int port, const char *method, const char *path, const char *const *headers,
		 const char *body, struct harness_response *resp)
{
	struct harness_request req = {
		.method = method, .path = path, .headers = headers, .body = body};

	return harness_http_request(port, &req, resp);
}

int harness_http_signed(int port, const char *secret, const char *method, const char *path,
			const char *body, struct harness_response *resp)
{
	struct harness_request req = {
		.method = method, .path = path, .body = body, .sign_secret = secret};

	return harness_http_request(port, &req, resp);
}

int harness_http_raw(int port, const void *bytes, size_t len, struct harness_response *resp)
{
	struct harness_conn *c;
	int rc;

	memset(resp, 0, sizeof *resp);
	if ((c = harness_conn_open(port)) == NULL)
		return -1;
	harness_conn_send_raw(c, bytes, len);
	rc = harness_conn_read(c, resp, false);
	harness_conn_close(c);
	return rc;
}

const char *harness_response_header(const struct harness_response *resp, const char *name)
{
	for (size_t i = 0; i < resp->n_headers; i++)
		if (strcasecmp(resp->headers[i].name, name) == 0)
			return resp->headers[i].value;
	return NULL;
}

void harness_response_free(struct harness_response *resp)
{
	if (resp == NULL)
		return;
	for (size_t i = 0; i < resp->n_headers; i++) {
		free(resp->headers[i].name);
		free(resp->headers[i].value);
	}
	free(resp->headers);
	free(resp->head);
	free(resp->body);
	memset(resp, 0, sizeof *resp);
}

/* --- the broker ------------------------------------------------------------------------------ */

/* One "section.key: value" of the config being written. */
struct harness_setting {
	char section[64];
	char key[64];
	const char *value;
};

static bool harness_yaml_plain(const char *v)
{
	const char *p = v;

	if (v[0] == '[' || v[0] == '{' || strcmp(v, "true") == 0 || strcmp(v, "false") == 0)
		return true;
	if (*p == '-')
		p++;
	if (*p == '\0')
		return false;
	for (; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

static void harness_yaml_value(FILE *f, const char *v)
{
	if (harness_yaml_plain(v)) {
		fputs(v, f);
		return;
	}
	fputc('"', f);
	for (const char *p = v; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', f);
		fputc(*p, f);
	}
	fputc('"', f);
}

/* Sets (or replaces) dotted = value in the list; -1 when not "section.key". */
static int harness_setting_put(struct harness_setting *list, size_t *n, size_t max,
			       const char *dotted, const char *value)
{
	const char *dot = strchr(dotted, '.');
	struct harness_setting s;

	memset(&s, 0, sizeof s);
	if (dot == NULL || strchr(dot + 1, '.') != NULL ||
	    (size_t)(dot - dotted) >= sizeof s.section || strlen(dot + 1) >= sizeof s.key) {
		harness_fail("setting '%s': expected section.key", dotted);
		return -1;
	}
	memcpy(s.section, dotted, (size_t)(dot - dotted));
	snprintf(s.key, sizeof s.key, "%s", dot + 1);
	s.value = value;
	for (size_t i = 0; i < *n; i++) {
		if (strcmp(list[i].section, s.section) == 0 && strcmp(list[i].key, s.key) == 0) {
			list[i].value = value;
			return 0;
		}
	}
	if (*n == max) {
		harness_fail("too many settings");
		return -1;
	}
	list[(*n)++] = s;
	return 0;
}

/* Writes the settings grouped by section, in order of first appearance. */
static int harness_write_config(const char *path, const struct harness_setting *list, size_t n)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		harness_fail("writing %s: %s", path, strerror(errno));
		return -1;
	}
	fputs("# Written by the test harness for one test's broker.\n", f);
	for (size_t i = 0; i < n; i++) {
		bool seen = false;
		for (size_t j = 0; j < i; j++)
			if (strcmp(list[j].section, list[i].section) == 0)
				seen = true;
		if (seen)
			continue;
		fprintf(f, "%s:\n", list[i].section);
		for (size_t j = i; j < n; j++) {
			if (strcmp(list[j].section, list[i].section) != 0)
				continue;
			fprintf(f, "  %s: ", list[j].key);
			harness_yaml_value(f, list[j].value);
			fputc('\n', f);
		}
	}
	if (fclose(f) != 0) {
		harness_fail("writing %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Prints the last lines of the broker's log to stderr. */
static void harness_broker_show_log(const struct harness_broker *b)
{
	size_t len;
	char *log;

	if (access(b->log_path, R_OK) != 0 || (log = harness_read_file(b->log_path, &len)) == NULL)
		return;
	size_t from = len > 4000 ? len - 4000 : 0;
	fprintf(stderr, "harness: --- end of %s ---\n%s\nharness: ---\n", b->log_path, log + from);
	free(log);
}

/* Forks and execs hotlined in its own process group, stderr to the log. */
static int harness_broker_spawn(struct harness_broker *b)
{
	const char *bin = harness_program(HARNESS_ENV_HOTLINED_BIN);
	pid_t parent = getpid();

	if (bin == NULL)
		return -1;
	int log_fd = open(b->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log_fd < 0) {
		harness_fail("opening %s: %s", b->log_path, strerror(errno));
		return -1;
	}
	int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null_fd < 0) {
		close(log_fd);
		harness_fail("opening /dev/null: %s", strerror(errno));
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		harness_fail("fork: %s", strerror(errno));
		close(log_fd);
		close(null_fd);
		return -1;
	}
	if (pid == 0) {
		/* Its own group, so that kill(-pid) reaches the broker and anything it
		 * starts, and dies with the test even when the test is killed. */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		const char *argv[] = {bin, "--config", b->config_path, NULL};
		harness_exec_child(argv, NULL, null_fd, log_fd, log_fd);
	}
	setpgid(pid, pid);
	close(log_fd);
	close(null_fd);
	b->pid = pid;
	harness_broker_slot_set(0, pid);
	return 0;
}

/* Waits until /healthz answers. Returns 0; -1 when the broker exited (its
 * exit code in *exit_code) or did not answer in time. */
static int harness_broker_wait_ready(struct harness_broker *b, int *exit_code)
{
	*exit_code = -1;
	for (int waited = 0; waited < HARNESS_READY_TIMEOUT_MS; waited += 50) {
		int status;
		if (waitpid(b->pid, &status, WNOHANG) == b->pid) {
			harness_broker_slot_set(b->pid, 0);
			b->pid = 0;
			*exit_code = harness_decode_status(status);
			return -1;
		}
		struct harness_conn *c = NULL;
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)b->port)};
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		bool listening = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
		if (fd >= 0)
			close(fd);
		if (listening && (c = harness_conn_open(b->port)) != NULL) {
			c->timeout_ms = 2000;
			struct harness_request req = {.method = "GET", .path = "/healthz"};
			struct harness_response resp;
			int rc = harness_conn_send_request(c, &req, true, b->port) == 0
					 ? harness_conn_read(c, &resp, false)
					 : -1;
			harness_conn_close(c);
			if (rc == 0) {
				harness_response_free(&resp);
				harness_last_error[0] = '\0';
				return 0;
			}
		}
		usleep(50000);
	}
	harness_fail("hotlined did not answer GET /healthz on port %d within %d ms", b->port,
		     HARNESS_READY_TIMEOUT_MS);
	return -1;
}

static int harness_broker_launch(struct harness_broker *b)
{
	int exit_code;

	if (harness_broker_spawn(b) != 0)
		return -1;
	if (harness_broker_wait_ready(b, &exit_code) == 0)
		return 0;
	if (b->pid > 0)
		harness_broker_kill(b, SIGKILL);
	else
		harness_fail("hotlined exited with %d while starting (log: %s)", exit_code,
			     b->log_path);
	return -1;
}

int harness_broker_start(struct harness_broker *b, const struct harness_broker_options *opt)
{
	static const struct harness_broker_options none;
	struct harness_setting settings[64];
	size_t n = 0;
	char port[16], redis_port[16], rules[HARNESS_PATH_MAX + 32],
	     queues[HARNESS_PATH_MAX + 32], workorders[HARNESS_PATH_MAX + 32];
	const char *src = harness_source_dir();
	int rp;

	memset(b, 0, sizeof *b);
	if (opt == NULL)
		opt = &none;
	if (src == NULL || harness_program(HARNESS_ENV_HOTLINED_BIN) == NULL)
		return -1;
	if (harness_tmpdir("broker", b->dir) != 0)
		return -1;
	snprintf(b->config_path, sizeof b->config_path, "%s/hotline.yaml", b->dir);
	snprintf(b->log_path, sizeof b->log_path, "%s/hotlined.log", b->dir);
	snprintf(b->gateway_secret, sizeof b->gateway_secret, "%s",
		 opt->gateway_secret ? opt->gateway_secret : HARNESS_GATEWAY_SECRET);

	if (opt->database_url != NULL) {
		snprintf(b->database_url, sizeof b->database_url, "%s", opt->database_url);
	} else {
		char *db = harness_db_create(NULL);
		if (db == NULL)
			goto fail;
		snprintf(b->database_url, sizeof b->database_url, "%s", db);
		b->owns_database = true;
		free(db);
	}
	rp = opt->redis_port == 0 ? harness_shared_redis_port()
	     : opt->redis_port < 0 ? harness_free_port()
				   : opt->redis_port;
	if (rp <= 0)
		goto fail;
	snprintf(redis_port, sizeof redis_port, "%d", rp);
	if (opt->rules_file != NULL)
		snprintf(rules, sizeof rules, "%s", opt->rules_file);
	else
		snprintf(rules, sizeof rules, "%s/conf/rules.yaml", src);
	snprintf(queues, sizeof queues, "%s/conf/queues.yaml", src);
	snprintf(workorders, sizeof workorders, "%s/conf/workorders.yaml", src);

	/* A port the kernel just handed out may be taken again before the broker
	 * binds it; then the broker exits at once and another port is tried. */
	for (int attempt = 0; attempt < 3; attempt++) {
		n = 0;
		if ((b->port = harness_free_port()) <= 0)
			goto fail;
		snprintf(port, sizeof port, "%d", b->port);
		snprintf(b->url, sizeof b->url, "http://127.0.0.1:%d", b->port);
		const char *defaults[] = {
			"listen.address", "127.0.0.1",
			"listen.port", port,
			"auth.gateway_secret", b->gateway_secret,
			"privacy.caller_key", opt->caller_key ? opt->caller_key : HARNESS_CALLER_KEY,
			"database.url", b->database_url,
			"redis.host", "127.0.0.1",
			"redis.port", redis_port,
			"classifier.rules_file", rules,
			"acd.queues_file", queues,
			"workorders.file", workorders,
			"privacy.data_key", HARNESS_DATA_KEY,
			"time.zone", opt->time_zone ? opt->time_zone : HARNESS_TIME_ZONE,
			"log.level", opt->log_level ? opt->log_level : "info",
			NULL,
		};
		for (size_t i = 0; defaults[i] != NULL; i += 2)
			if (harness_setting_put(settings, &n, 64, defaults[i], defaults[i + 1]) != 0)
				goto fail;
		for (size_t i = 0; opt->settings != NULL && opt->settings[i] != NULL; i += 2) {
			if (opt->settings[i + 1] == NULL) {
				harness_fail("setting '%s' has no value", opt->settings[i]);
				goto fail;
			}
			if (harness_setting_put(settings, &n, 64, opt->settings[i],
						opt->settings[i + 1]) != 0)
				goto fail;
		}
		if (harness_write_config(b->config_path, settings, n) != 0)
			goto fail;
		if (harness_broker_launch(b) == 0)
			return 0;
		char *log = harness_read_file(b->log_path, NULL);
		bool port_taken = log != NULL && strstr(log, "in use") != NULL;
		free(log);
		if (!port_taken)
			break;
	}
	harness_broker_show_log(b);
fail:
	harness_broker_free(b);
	return -1;
}

int harness_broker_signal(struct harness_broker *b, int sig)
{
	if (b->pid <= 0) {
		harness_fail("the broker is not running");
		return -1;
	}
	if (kill(-b->pid, sig) != 0) {
		harness_fail("signalling the broker: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int harness_broker_kill(struct harness_broker *b, int sig)
{
	int status;

	if (b->pid <= 0)
		return -1;
	kill(-b->pid, sig);
	status = harness_wait_exit(b->pid, HARNESS_STOP_TIMEOUT_MS);
	if (status < 0) {
		harness_fail("hotlined did not exit within %d ms of signal %d; killing it",
			     HARNESS_STOP_TIMEOUT_MS, sig);
		kill(-b->pid, SIGKILL);
		status = harness_wait_exit(b->pid, HARNESS_STOP_TIMEOUT_MS);
	}
	/* Anything the broker left in its group goes with it. */
	kill(-b->pid, SIGKILL);
	harness_broker_slot_set(b->pid, 0);
	b->pid = 0;
	return status < 0 ? -1 : harness_decode_status(status);
}

int harness_broker_stop(struct harness_broker *b)
{
	return harness_broker_kill(b, SIGTERM);
}

int harness_broker_wait_healthy(const struct harness_broker *b)
{
	for (int i = 0; i < 200; i++) {
		struct harness_response r;
		bool ready = harness_http(b->port, "GET", "/healthz", NULL, NULL, &r) == 0 &&
			     r.status == 200;
		harness_response_free(&r);
		if (ready)
			return 0;
		usleep(50000);
	}
	harness_fail("the broker on port %d did not become ready in 10 s", b->port);
	return -1;
}

int harness_broker_restart(struct harness_broker *b)
{
	if (b->pid > 0)
		harness_broker_stop(b);
	if (harness_broker_launch(b) != 0) {
		harness_broker_show_log(b);
		return -1;
	}
	return 0;
}

void harness_broker_free(struct harness_broker *b)
{
	if (b->pid > 0)
		harness_broker_stop(b);
	if (b->owns_database && b->database_url[0] != '\0')
		harness_db_drop(b->database_url);
	b->owns_database = false;
	if (b->dir[0] != '\0') {
		harness_remove_tree(b->dir);
		harness_forget(HARNESS_RESOURCE_DIR, b->dir, NULL);
		b->dir[0] = '\0';
	}
}

char *harness_broker_log(const struct harness_broker *b)
{
	return harness_read_file(b->log_path, NULL);
}

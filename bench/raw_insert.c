/* raw_insert.c: the raw insert limit of the ingest benchmark.
 *
 * A bare libpq program that writes the rows the broker writes for the same
 * gateway traffic, as fast as PostgreSQL takes them with fsync on: every call
 * goes call.offered, call.answered, call.ended; an offer inserts a calls row,
 * every event inserts a call_events row, a final event updates its calls row.
 * The values are the broker's kind: a 32-byte keyed caller hash, a masked
 * number, the SHA-256 of the request body, a small jsonb detail object and
 * the JSON answer as text.
 *
 * Events are grouped into transactions of --batch events, each transaction
 * being three statements fed with unnest() over array parameters (INSERT
 * calls, INSERT call_events, UPDATE calls) followed by a pipeline sync, which
 * makes it one implicit transaction and one commit. Up to --inflight
 * transactions are in the pipeline at once. The call stream runs across
 * batch boundaries (an offer in one transaction, its answer in the next), as
 * it does in the broker; pipelined transactions on one connection commit in
 * order, so a call's row is always written before its later events. With --connections N each connection owns
 * every N-th call, so a call's events still travel in order on one connection.
 * The default, one connection, is what the broker has.
 *
 * Output, on stdout, one line:
 *   raw_insert: events=N calls=N transactions=N connections=N elapsed=S rows_per_s=X synchronous_commit=on
 * where rows_per_s counts call_events rows.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "privacy.h"
#include "timeutil.h"

#define RAW_MAX_INFLIGHT 64
#define RAW_MAX_CONNECTIONS 16
#define RAW_MAX_SECONDS 600

/* A growable text buffer, reused across batches. */
struct strbuf {
	char *data;
	size_t len;
	size_t cap;
};

/* One PostgreSQL array literal under construction: "{a,b,...}". */
struct arraybuf {
	struct strbuf sb;
	size_t n;
};

struct options {
	const char *conninfo;
	const char *centre;
	uint64_t events;
	unsigned batch;
	unsigned inflight;
	unsigned connections;
};

/* The array parameters of one transaction, by statement. */
enum batch_array {
	/* calls: one element per offer */
	C_CALL_ID,
	C_CATEGORY,
	C_QUEUE,
	C_PRIORITY,
	C_RULE,
	C_CALLER_HASH,
	C_CALLER_MASKED,
	C_DIALLED,
	C_IVR_PATH,
	C_OFFERED_AT,
	/* call_events: one element per event */
	E_EVENT_ID,
	E_CALL_ID,
	E_TYPE,
	E_AT,
	E_PAYLOAD_SHA256,
	E_DETAIL,
	E_RESULT,
	/* final updates: one element per call.ended */
	U_CALL_ID,
	U_AGENT,
	U_ANSWERED_AT,
	U_ENDED_AT,
	BATCH_ARRAYS
};

struct batch {
	struct arraybuf a[BATCH_ARRAYS];
	size_t offers, events, ends;
};

static const char SQL_INSERT_CALLS[] =
	"INSERT INTO calls (centre, call_id, state, category, queue, priority, rule, caller_hash,"
	" caller_masked, dialled, ivr_path, offered_at)"
	" SELECT $1, u.call_id, 'queued', u.category, u.queue, u.priority, u.rule, u.caller_hash,"
	" u.caller_masked, u.dialled, u.ivr_path, u.offered_at"
	" FROM unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::bytea[],"
	" $8::text[], $9::text[], $10::text[], $11::timestamptz[])"
	" AS u(call_id, category, queue, priority, rule, caller_hash, caller_masked, dialled,"
	" ivr_path, offered_at)";

static const char SQL_INSERT_EVENTS[] =
	"INSERT INTO call_events (centre, event_id, call_id, type, at, payload_sha256, detail,"
	" result)"
	" SELECT $1, u.event_id, u.call_id, u.type, u.at, u.payload_sha256, u.detail, u.result"
	" FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::bytea[],"
	" $7::jsonb[], $8::text[]) AS u(event_id, call_id, type, at, payload_sha256, detail,"
	" result)";

static const char SQL_UPDATE_ENDED[] =
	"UPDATE calls AS c SET state = 'ended', agent = u.agent, answered_at = u.answered_at,"
	" ended_at = u.ended_at, outcome = 'handled'"
	" FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[])"
	" AS u(call_id, agent, answered_at, ended_at)"
	" WHERE c.centre = $1 AND c.call_id = u.call_id";

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);
	if (q == NULL) {
		fprintf(stderr, "raw_insert: out of memory (%zu bytes)\n", n);
		exit(1);
	}
	return q;
}

static void strbuf_reserve(struct strbuf *sb, size_t extra)
{
	if (sb->len + extra + 1 <= sb->cap)
		return;
	size_t cap = sb->cap ? sb->cap : 4096;
	while (cap < sb->len + extra + 1)
		cap *= 2;
	sb->data = xrealloc(sb->data, cap);
	sb->cap = cap;
}

static void strbuf_add(struct strbuf *sb, const char *s, size_t n)
{
	strbuf_reserve(sb, n);
	memcpy(sb->data + sb->len, s, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
}

static void array_reset(struct arraybuf *a)
{
	a->sb.len = 0;
	a->n = 0;
	strbuf_add(&a->sb, "{", 1);
}

/* Adds one element, double-quoted with " and \ escaped, as array input wants. */
static void array_add(struct arraybuf *a, const char *s, size_t n)
{
	strbuf_reserve(&a->sb, 2 * n + 4);
	char *p = a->sb.data + a->sb.len;
	if (a->n++ > 0)
		*p++ = ',';
	*p++ = '"';
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			*p++ = '\\';
		*p++ = s[i];
	}
	*p++ = '"';
	a->sb.len = (size_t)(p - a->sb.data);
	a->sb.data[a->sb.len] = '\0';
}

static void array_add_str(struct arraybuf *a, const char *s)
{
	array_add(a, s, strlen(s));
}

/* bytea in hex input form: \x0011... */
static void array_add_bytea(struct arraybuf *a, const unsigned char *bytes, size_t n)
{
	char hex[2 + 2 * 64 + 1];

	hex[0] = '\\';
	hex[1] = 'x';
	sodium_bin2hex(hex + 2, sizeof hex - 2, bytes, n);
	array_add(a, hex, 2 + 2 * n);
}

static const char *array_end(struct arraybuf *a)
{
	strbuf_add(&a->sb, "}", 1);
	return a->sb.data;
}

static void batch_reset(struct batch *b)
{
	for (size_t i = 0; i < BATCH_ARRAYS; i++)
		array_reset(&b->a[i]);
	b->offers = b->events = b->ends = 0;
}

static void batch_free(struct batch *b)
{
	for (size_t i = 0; i < BATCH_ARRAYS; i++)
		free(b->a[i].sb.data);
}

struct generator {
	const char *centre;
	char prefix[32];
	int64_t base_usec; /* first offer time */
	unsigned char caller_key[32];
};

/* The times of call k's three events: offers 50 ms apart, answered after
 * 15 s in the queue, ended after 3 minutes of talk. */
static int64_t gen_event_usec(const struct generator *g, uint64_t call, int phase)
{
	static const int64_t offset[] = { 0, 15000000, 195000000 };
	return g->base_usec + (int64_t)call * 50000 + offset[phase];
}

/* Adds event phase (0 offered, 1 answered, 2 ended) of call to the batch. */
static void gen_add_event(const struct generator *g, struct batch *b, uint64_t call, int phase)
{
	static const char *const type[] = { "call.offered", "call.answered", "call.ended" };
	char call_id[64], event_id[80], at[TIMEUTIL_RFC3339_LEN], agent[16];
	char caller[PRIVACY_NUMBER_MAX], masked[PRIVACY_NUMBER_MAX];
	char body[512], detail[160], result[320];
	unsigned char sha[crypto_hash_sha256_BYTES];

	snprintf(call_id, sizeof call_id, "%s%" PRIu64, g->prefix, call);
	snprintf(event_id, sizeof event_id, "%s-%d", call_id, phase + 1);
	timeutil_format_utc(gen_event_usec(g, call, phase), at);
	snprintf(agent, sizeof agent, "agent-%" PRIu64, call % 200 + 1);
	snprintf(caller, sizeof caller, "13%09" PRIu64, (uint64_t)((call * 2654435761U) % 1000000000U));
	privacy_mask_number(caller, masked);

	int body_len;
	switch (phase) {
	case 0:
		body_len = snprintf(body, sizeof body,
				    "{\"event_id\":\"%s\",\"type\":\"%s\",\"call_id\":\"%s\","
				    "\"centre\":\"%s\",\"time\":\"%s\",\"caller\":\"%s\","
				    "\"dialled\":\"12320\",\"ivr_path\":\"1\"}",
				    event_id, type[phase], call_id, g->centre, at, caller);
		snprintf(detail, sizeof detail,
			 "{\"caller_masked\":\"%s\",\"dialled\":\"12320\",\"ivr_path\":\"1\"}",
			 masked);
		snprintf(result, sizeof result,
			 "{\"event_id\":\"%s\",\"call_id\":\"%s\",\"state\":\"queued\","
			 "\"category\":\"booking\",\"queue\":\"booking\",\"priority\":4,"
			 "\"rule\":\"ivr-booking\"}",
			 event_id, call_id);
		break;
	case 1:
		body_len = snprintf(body, sizeof body,
				    "{\"event_id\":\"%s\",\"type\":\"%s\",\"call_id\":\"%s\","
				    "\"centre\":\"%s\",\"time\":\"%s\",\"agent\":\"%s\"}",
				    event_id, type[phase], call_id, g->centre, at, agent);
		snprintf(detail, sizeof detail, "{\"agent\":\"%s\"}", agent);
		snprintf(result, sizeof result,
			 "{\"event_id\":\"%s\",\"call_id\":\"%s\",\"state\":\"talking\"}", event_id,
			 call_id);
		break;
	default:
		body_len = snprintf(body, sizeof body,
				    "{\"event_id\":\"%s\",\"type\":\"%s\",\"call_id\":\"%s\","
				    "\"centre\":\"%s\",\"time\":\"%s\",\"cause\":\"hangup\"}",
				    event_id, type[phase], call_id, g->centre, at);
		snprintf(detail, sizeof detail, "{\"cause\":\"hangup\"}");
		snprintf(result, sizeof result,
			 "{\"event_id\":\"%s\",\"call_id\":\"%s\",\"state\":\"ended\"}", event_id,
			 call_id);
		break;
	}
	crypto_hash_sha256(sha, (const unsigned char *)body, (unsigned long long)body_len);

	if (phase == 0) {
		unsigned char caller_hash[PRIVACY_HASH_BYTES];
		privacy_hash_number(g->caller_key, sizeof g->caller_key, caller, caller_hash);
		array_add_str(&b->a[C_CALL_ID], call_id);
		array_add_str(&b->a[C_CATEGORY], "booking");
		array_add_str(&b->a[C_QUEUE], "booking");
		array_add_str(&b->a[C_PRIORITY], "4");
		array_add_str(&b->a[C_RULE], "ivr-booking");
		array_add_bytea(&b->a[C_CALLER_HASH], caller_hash, sizeof caller_hash);
		array_add_str(&b->a[C_CALLER_MASKED], masked);
		array_add_str(&b->a[C_DIALLED], "12320");
		array_add_str(&b->a[C_IVR_PATH], "1");
		array_add_str(&b->a[C_OFFERED_AT], at);
		b->offers++;
	}
	array_add_str(&b->a[E_EVENT_ID], event_id);
	array_add_str(&b->a[E_CALL_ID], call_id);
	array_add_str(&b->a[E_TYPE], type[phase]);
	array_add_str(&b->a[E_AT], at);
	array_add_bytea(&b->a[E_PAYLOAD_SHA256], sha, sizeof sha);
	array_add_str(&b->a[E_DETAIL], detail);
	array_add_str(&b->a[E_RESULT], result);
	b->events++;
	if (phase == 2) {
		char answered[TIMEUTIL_RFC3339_LEN];
		timeutil_format_utc(gen_event_usec(g, call, 1), answered);
		array_add_str(&b->a[U_CALL_ID], call_id);
		array_add_str(&b->a[U_AGENT], agent);
		array_add_str(&b->a[U_ANSWERED_AT], answered);
		array_add_str(&b->a[U_ENDED_AT], at);
		b->ends++;
	}
}

/* Queues the batch's statements and a sync. Returns 0 or -1 (message printed). */
static int batch_send(PGconn *conn, struct batch *b, const char *centre)
{
	if (b->offers > 0) {
		const char *p[] = {
			centre,
			array_end(&b->a[C_CALL_ID]),
			array_end(&b->a[C_CATEGORY]),
			array_end(&b->a[C_QUEUE]),
			array_end(&b->a[C_PRIORITY]),
			array_end(&b->a[C_RULE]),
			array_end(&b->a[C_CALLER_HASH]),
			array_end(&b->a[C_CALLER_MASKED]),
			array_end(&b->a[C_DIALLED]),
			array_end(&b->a[C_IVR_PATH]),
			array_end(&b->a[C_OFFERED_AT]),
		};
		if (!PQsendQueryPrepared(conn, "insert_calls", 11, p, NULL, NULL, 0))
			goto fail;
	}
	const char *pe[] = {
		centre,
		array_end(&b->a[E_EVENT_ID]),
		array_end(&b->a[E_CALL_ID]),
		array_end(&b->a[E_TYPE]),
		array_end(&b->a[E_AT]),
		array_end(&b->a[E_PAYLOAD_SHA256]),
		array_end(&b->a[E_DETAIL]),
		array_end(&b->a[E_RESULT]),
	};
	if (!PQsendQueryPrepared(conn, "insert_events", 8, pe, NULL, NULL, 0))
		goto fail;
	if (b->ends > 0) {
		const char *pu[] = {
			centre,
			array_end(&b->a[U_CALL_ID]),
			array_end(&b->a[U_AGENT]),
			array_end(&b->a[U_ANSWERED_AT]),
			array_end(&b->a[U_ENDED_AT]),
		};
		if (!PQsendQueryPrepared(conn, "update_ended", 5, pu, NULL, NULL, 0))
			goto fail;
	}
	if (!PQpipelineSync(conn))
		goto fail;
	return 0;
fail:
	fprintf(stderr, "raw_insert: sending a batch failed: %s", PQerrorMessage(conn));
	return -1;
}

static int64_t mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Reads every result that has arrived; counts finished transactions (one
 * PGRES_PIPELINE_SYNC each) into *done. Returns 0 or -1 on a failed statement. */
static int drain_results(PGconn *conn, unsigned *inflight, uint64_t *done)
{
	if (!PQconsumeInput(conn)) {
		fprintf(stderr, "raw_insert: connection lost: %s", PQerrorMessage(conn));
		return -1;
	}
	while (*inflight > 0 && !PQisBusy(conn)) {
		PGresult *res = PQgetResult(conn);
		if (res == NULL)
			continue; /* end of one statement's results */
		ExecStatusType st = PQresultStatus(res);
		if (st == PGRES_PIPELINE_SYNC) {
			(*inflight)--;
			(*done)++;
		} else if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
			fprintf(stderr, "raw_insert: a batch failed: %s",
				PQresultErrorMessage(res));
			PQclear(res);
			return -1;
		}
		PQclear(res);
	}
	return 0;
}

static int prepare_all(PGconn *conn)
{
	static const struct {
		const char *name, *sql;
	} stmts[] = {
		{ "insert_calls", SQL_INSERT_CALLS },
		{ "insert_events", SQL_INSERT_EVENTS },
		{ "update_ended", SQL_UPDATE_ENDED },
	};
	for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++) {
		PGresult *res = PQprepare(conn, stmts[i].name, stmts[i].sql, 0, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			fprintf(stderr, "raw_insert: preparing %s failed: %s", stmts[i].name,
				PQresultErrorMessage(res));
			PQclear(res);
			return -1;
		}
		PQclear(res);
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: raw_insert --db CONNINFO [options]\n"
		"  --db CONNINFO    libpq conninfo or URI of a database migrated with sql/ (else $HOTLINE_DB)\n"
		"  --centre CODE    an existing centre (default bench)\n"
		"  --events N       call events to write, rounded up to whole calls (default 90000)\n"
		"  --batch N        events per transaction (default 1000)\n"
		"  --inflight N     transactions in the pipeline at once, per connection (default 4)\n"
		"  --connections N  connections, each with its own share of the calls (default 1)\n");
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_options(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "centre", required_argument, NULL, 'C' },
		{ "events", required_argument, NULL, 'n' },
		{ "batch", required_argument, NULL, 'b' },
		{ "inflight", required_argument, NULL, 'i' },
		{ "connections", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			opt->conninfo = optarg;
			break;
		case 'C':
			opt->centre = optarg;
			break;
		case 'n':
			if (parse_u64(optarg, 3, 100000000, &opt->events) != 0) {
				fprintf(stderr, "raw_insert: --events must be 3..100000000\n");
				return -1;
			}
			break;
		case 'b':
			if (parse_u64(optarg, 3, 100000, &v) != 0) {
				fprintf(stderr, "raw_insert: --batch must be 3..100000\n");
				return -1;
			}
			opt->batch = (unsigned)v;
			break;
		case 'i':
			if (parse_u64(optarg, 1, RAW_MAX_INFLIGHT, &v) != 0) {
				fprintf(stderr, "raw_insert: --inflight must be 1..%d\n",
					RAW_MAX_INFLIGHT);
				return -1;
			}
			opt->inflight = (unsigned)v;
			break;
		case 'c':
			if (parse_u64(optarg, 1, RAW_MAX_CONNECTIONS, &v) != 0) {
				fprintf(stderr, "raw_insert: --connections must be 1..%d\n",
					RAW_MAX_CONNECTIONS);
				return -1;
			}
			opt->connections = (unsigned)v;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return -1;
	}
	if (opt->conninfo == NULL)
		opt->conninfo = getenv("HOTLINE_DB");
	if (opt->conninfo == NULL) {
		fprintf(stderr, "raw_insert: no database: give --db or set HOTLINE_DB\n");
		return -1;
	}
	opt->events = (opt->events + 2) / 3 * 3;
	if (opt->events / 3 < opt->connections) {
		fprintf(stderr, "raw_insert: --events must give every connection a call\n");
		return -1;
	}
	return 0;
}

/* One connection's share of the work: calls index, index + n, index + 2n, ...
 * so that every call's events go through one connection, in order. */
struct raw_conn {
	PGconn *pg;
	unsigned index;
	uint64_t next; /* next event of this connection's stream */
	uint64_t end;  /* events of this connection's stream */
	unsigned inflight;
	uint64_t transactions;
};

/* Connects, reads synchronous_commit, prepares and enters pipeline mode. */
static int raw_conn_open(struct raw_conn *rc, const char *conninfo, char *sync_commit,
			 size_t sync_len)
{
	rc->pg = PQconnectdb(conninfo);
	if (PQstatus(rc->pg) != CONNECTION_OK) {
		fprintf(stderr, "raw_insert: cannot connect: %s", PQerrorMessage(rc->pg));
		return -1;
	}
	PGresult *res = PQexec(rc->pg, "SHOW synchronous_commit");
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		snprintf(sync_commit, sync_len, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if (prepare_all(rc->pg) != 0)
		return -1;
	if (!PQenterPipelineMode(rc->pg) || PQsetnonblocking(rc->pg, 1) != 0) {
		fprintf(stderr, "raw_insert: cannot enter pipeline mode: %s", PQerrorMessage(rc->pg));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options opt = {
		.centre = "bench",
		.events = 90000,
		.batch = 1000,
		.inflight = 4,
		.connections = 1,
	};
	struct batch b;
	struct raw_conn conns[RAW_MAX_CONNECTIONS];
	struct pollfd pfd[RAW_MAX_CONNECTIONS];
	char sync_commit[32] = "unknown";
	int rc = 1;

	memset(&b, 0, sizeof b);
	memset(conns, 0, sizeof conns);
	if (parse_options(argc, argv, &opt) != 0)
		return 2;
	if (sodium_init() < 0) {
		fprintf(stderr, "raw_insert: libsodium failed to initialise\n");
		return 1;
	}

	struct generator g = { .centre = opt.centre, .base_usec = timeutil_now_usec() };
	snprintf(g.prefix, sizeof g.prefix, "raw%x-%llx-", (unsigned)getpid() & 0xfffff,
		 (unsigned long long)time(NULL) & 0xffffffffULL);
	randombytes_buf(g.caller_key, sizeof g.caller_key);

	uint64_t calls = opt.events / 3;
	for (unsigned i = 0; i < opt.connections; i++) {
		struct raw_conn *c = &conns[i];
		c->index = i;
		c->end = 3 * ((calls - i + opt.connections - 1) / opt.connections);
		if (raw_conn_open(c, opt.conninfo, sync_commit, sizeof sync_commit) != 0)
			goto out;
	}

	uint64_t transactions = 0;
	int64_t start = mono_usec();
	int64_t give_up = start + (int64_t)RAW_MAX_SECONDS * 1000000;
	for (;;) {
		bool busy = false;
		for (unsigned i = 0; i < opt.connections; i++) {
			struct raw_conn *c = &conns[i];
			while (c->next < c->end && c->inflight < opt.inflight) {
				batch_reset(&b);
				for (unsigned k = 0; k < opt.batch && c->next < c->end; k++, c->next++) {
					uint64_t call = c->next / 3 * opt.connections + c->index;
					gen_add_event(&g, &b, call, (int)(c->next % 3));
				}
				if (batch_send(c->pg, &b, opt.centre) != 0)
					goto out;
				c->inflight++;
			}
			int flush = PQflush(c->pg);
			if (flush < 0) {
				fprintf(stderr, "raw_insert: sending failed: %s", PQerrorMessage(c->pg));
				goto out;
			}
			pfd[i] = (struct pollfd){ .fd = PQsocket(c->pg),
						  .events = POLLIN | (flush ? POLLOUT : 0) };
			busy = busy || c->next < c->end || c->inflight > 0;
		}
		if (!busy)
			break;
		if (poll(pfd, opt.connections, 1000) < 0 && errno != EINTR) {
			perror("raw_insert: poll");
			goto out;
		}
		if (mono_usec() > give_up) {
			fprintf(stderr, "raw_insert: gave up after %d s\n", RAW_MAX_SECONDS);
			goto out;
		}
		for (unsigned i = 0; i < opt.connections; i++) {
			if ((pfd[i].revents & (POLLIN | POLLERR | POLLHUP)) &&
			    drain_results(conns[i].pg, &conns[i].inflight, &transactions) != 0)
				goto out;
		}
	}
	double elapsed = (double)(mono_usec() - start) / 1e6;
	printf("raw_insert: events=%" PRIu64 " calls=%" PRIu64 " transactions=%" PRIu64
	       " connections=%u elapsed=%.3f rows_per_s=%.1f synchronous_commit=%s\n",
	       3 * calls, calls, transactions, opt.connections, elapsed,
	       (double)(3 * calls) / elapsed, sync_commit);
	fflush(stdout);
	rc = 0;
out:
	batch_free(&b);
	for (unsigned i = 0; i < opt.connections; i++)
		PQfinish(conns[i].pg);
	return rc;
}

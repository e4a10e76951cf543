/* loadgen.c: the gateway load generator shared by every ingest measurement.
 *
 * C keep-alive HTTP/1.1 connections on one epoll loop, each with exactly one
 * request in flight. Each connection plays the gateway for one call at a
 * time: call.offered, then call.answered, then call.ended, sending the next
 * event only after the previous one was answered 200, so the broker only sees
 * legal transitions. Every request is signed like the real gateway signs it
 * (auth_sign: HMAC-SHA256 over "<timestamp>." + body).
 *
 * With --offers N it fills the broker instead (bench/route measures its
 * memory that way): exactly N call.offered events, each a new call with its
 * own caller number, their IVR paths spread over the queues of
 * conf/rules.yaml, and nothing after them; the run ends once all N are
 * answered. With no agent logged in, every accepted call stays waiting.
 *
 * The generator shares the machine with the server it measures, so the hot
 * path allocates nothing: every connection owns fixed request and response
 * buffers, bodies are assembled with memcpy from precomputed pieces, the
 * clock strings are rebuilt once per second, and latencies go into a
 * log-linear histogram (1/64 relative precision) instead of a sample list.
 *
 * Output, on stdout, one line:
 *   loadgen: requests=N ok=N errors=N elapsed=S rps=X p50_ms=Y p99_ms=Z ok_total=N lost=N
 * requests, ok, errors, rps and the percentiles cover the measured window
 * (after --warmup); rps counts 200 answers only. ok_total counts every 200
 * answer of the run, warm-up and drain included, so that a durable server's
 * row count can be checked against it; lost counts requests whose outcome is
 * unknown (still unanswered when the drain timed out, or cut by a closed
 * connection), which make such a check inexact.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"

#define LOADGEN_OUT_MAX 1536
#define LOADGEN_IN_MAX 8192
#define LOADGEN_BODY_MAX 768
#define LOADGEN_ID_MAX 64
#define LOADGEN_DRAIN_NS (10 * 1000000000LL)
#define LOADGEN_RETRY_NS (20 * 1000000LL)
#define LOADGEN_MAX_CONNECTIONS 4096
#define LOADGEN_MAX_ERROR_REPORTS 5

/* Histogram: values below 128 us are exact; above, each power of two is cut
 * into 64 sub-buckets. 40 exponents cover more than a week in microseconds. */
#define HIST_LINEAR 128
#define HIST_SUB_BITS 6
#define HIST_SUB (1 << HIST_SUB_BITS)
#define HIST_EXPONENTS 40
#define HIST_BUCKETS (HIST_LINEAR + HIST_EXPONENTS * HIST_SUB)

enum conn_state {
	CONN_CLOSED,     /* no socket; reconnect at retry_at_ns */
	CONN_CONNECTING, /* non-blocking connect in progress */
	CONN_IDLE,       /* connected, nothing in flight */
	CONN_WRITING,    /* request partly written, waiting for EPOLLOUT */
	CONN_READING,    /* request written, waiting for the whole response */
};

enum call_phase {
	PHASE_OFFERED,
	PHASE_ANSWERED,
	PHASE_ENDED,
};

struct conn {
	int fd;
	enum conn_state state;
	unsigned index;
	bool want_out; /* EPOLLOUT is part of the registration */

	/* the call this connection is driving */
	uint64_t call_seq;
	enum call_phase phase;
	char call_id[LOADGEN_ID_MAX];
	size_t call_id_len;
	char caller[16];
	const char *ivr_path;
	uint64_t rng;

	char out[LOADGEN_OUT_MAX];
	size_t out_len;
	size_t out_off;
	char in[LOADGEN_IN_MAX];
	size_t in_len;
	int64_t sent_ns;
	int64_t retry_at_ns;
};

struct options {
	const char *host;
	const char *port;
	const char *path;
	const char *centre;
	const char *secret_file;
	unsigned connections;
	double duration_s;
	double warmup_s;
	uint64_t requests; /* 0: run for duration_s */
	uint64_t offers;   /* 0: whole calls; N: N call.offered events, nothing else */
};

struct stats {
	uint64_t requests; /* answered (or failed) inside the measured window */
	uint64_t ok;
	uint64_t errors;
	uint64_t ok_total;
	uint64_t lost;
	uint64_t hist[HIST_BUCKETS];
	unsigned error_reports;
};

struct loadgen {
	struct options opt;
	char *secret;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	int epfd;
	struct conn *conns;

	/* "POST <path> HTTP/1.1\r\nHost: ...\r\nContent-Type: ...\r\nX-Hotline-Timestamp: " */
	char head[512];
	size_t head_len;
	char run_prefix[24];
	size_t run_prefix_len;
	size_t centre_len;
	uint64_t calls_started; /* every call of the run, for --offers callers and IVR paths */
	uint64_t offers_sent;

	/* clock strings, rebuilt when the second changes */
	int64_t clock_sec;
	char clock_ts[24]; /* unix seconds, decimal */
	size_t clock_ts_len;
	char clock_rfc[80]; /* "YYYY-MM-DDTHH:MM:SS" UTC (room for any int) */

	int64_t start_ns;
	int64_t window_start_ns;
	int64_t window_end_ns; /* duration mode: fixed; requests mode: set when reached */
	bool stopping;         /* no new requests */
	struct stats st;
};

static volatile sig_atomic_t loadgen_interrupted;

static void loadgen_on_signal(int sig)
{
	(void)sig;
	loadgen_interrupted = loadgen_interrupted + 1;
}

static int64_t clock_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static unsigned hist_index(uint64_t us)
{
	if (us < HIST_LINEAR)
		return (unsigned)us;
	unsigned e = 63u - (unsigned)__builtin_clzll(us); /* >= 7 */
	unsigned sub = (unsigned)(us >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1);
	unsigned idx = HIST_LINEAR + (e - 7) * HIST_SUB + sub;
	return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
}

/* The middle of a bucket, in microseconds. */
static double hist_value(unsigned idx)
{
	if (idx < HIST_LINEAR)
		return idx;
	unsigned e = (idx - HIST_LINEAR) / HIST_SUB + 7;
	unsigned sub = (idx - HIST_LINEAR) % HIST_SUB;
	double width = (double)(1ULL << (e - HIST_SUB_BITS));
	double low = (double)(1ULL << e) + sub * width;
	return low + width / 2;
}

/* The q-quantile (0..1) in milliseconds; 0 when nothing was recorded. */
static double hist_quantile_ms(const uint64_t *hist, uint64_t count, double q)
{
	if (count == 0)
		return 0;
	uint64_t rank = (uint64_t)(q * (double)count);
	if (rank >= count)
		rank = count - 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += hist[i];
		if (seen > rank)
			return hist_value(i) / 1000.0;
	}
	return hist_value(HIST_BUCKETS - 1) / 1000.0;
}

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64*: plenty for phone numbers */
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static size_t format_u64(char *out, uint64_t v)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

static void loadgen_update_clock(struct loadgen *lg, struct timespec *wall)
{
	clock_gettime(CLOCK_REALTIME, wall);
	if (wall->tv_sec == lg->clock_sec)
		return;
	struct tm tm;
	time_t t = wall->tv_sec;

	lg->clock_sec = wall->tv_sec;
	lg->clock_ts_len = format_u64(lg->clock_ts, (uint64_t)wall->tv_sec);
	gmtime_r(&t, &tm);
	snprintf(lg->clock_rfc, sizeof lg->clock_rfc, "%04d-%02d-%02dT%02d:%02d:%02d",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

#define APPEND_LIT(p, s)                        \
	do {                                    \
		memcpy((p), (s), sizeof(s) - 1); \
		(p) += sizeof(s) - 1;           \
	} while (0)
#define APPEND_MEM(p, s, n)          \
	do {                         \
		memcpy((p), (s), (n)); \
		(p) += (n);            \
	} while (0)

/* IVR paths of --offers, one per queue that conf/rules.yaml sends them to
 * (booking, consultation or night, complaint, expert, survey, general). */
static const char *const offer_ivr_paths[] = { "1", "2", "3", "4", "6", "" };

/* Starts the next call on c: a new call id, caller number and IVR path. */
static void conn_new_call(struct loadgen *lg, struct conn *c)
{
	char *p = c->call_id;
	uint64_t number = lg->calls_started++;

	c->call_seq++;
	c->phase = PHASE_OFFERED;
	APPEND_MEM(p, lg->run_prefix, lg->run_prefix_len);
	*p++ = 'c';
	p += format_u64(p, c->index);
	*p++ = '-';
	p += format_u64(p, c->call_seq);
	*p = '\0';
	c->call_id_len = (size_t)(p - c->call_id);

	uint64_t rest;
	if (lg->opt.offers != 0) {
		/* a caller of its own for every call: 139 + the call's number */
		memcpy(c->caller, "139", 3);
		rest = number;
		c->ivr_path = offer_ivr_paths[number %
					      (sizeof offer_ivr_paths / sizeof offer_ivr_paths[0])];
	} else {
		/* a mainland mobile number: 13x/15x/18x + 8 digits */
		static const char second[] = "358";
		uint64_t r = rng_next(&c->rng);
		c->caller[0] = '1';
		c->caller[1] = second[r % 3];
		c->caller[2] = (char)('0' + (r >> 8) % 10);
		rest = r >> 16;
		c->ivr_path = "1";
	}
	rest %= 100000000ULL;
	for (int i = 10; i >= 3; i--) {
		c->caller[i] = (char)('0' + rest % 10);
		rest /= 10;
	}
	c->caller[11] = '\0';
}

/* Writes the body of the event c is at into body; returns its length. */
static size_t conn_build_body(struct loadgen *lg, struct conn *c, const struct timespec *wall,
			      char *body)
{
	char *p = body;
	static const char *const suffix[] = { "-1", "-2", "-3" };
	static const char *const type[] = { "call.offered", "call.answered", "call.ended" };

	APPEND_LIT(p, "{\"event_id\":\"");
	APPEND_MEM(p, c->call_id, c->call_id_len);
	APPEND_MEM(p, suffix[c->phase], 2);
	APPEND_LIT(p, "\",\"type\":\"");
	APPEND_MEM(p, type[c->phase], strlen(type[c->phase]));
	APPEND_LIT(p, "\",\"call_id\":\"");
	APPEND_MEM(p, c->call_id, c->call_id_len);
	APPEND_LIT(p, "\",\"centre\":\"");
	APPEND_MEM(p, lg->opt.centre, lg->centre_len);
	APPEND_LIT(p, "\",\"time\":\"");
	APPEND_MEM(p, lg->clock_rfc, 19);
	long ms = wall->tv_nsec / 1000000;
	*p++ = '.';
	*p++ = (char)('0' + ms / 100);
	*p++ = (char)('0' + ms / 10 % 10);
	*p++ = (char)('0' + ms % 10);
	APPEND_LIT(p, "Z\"");
	switch (c->phase) {
	case PHASE_OFFERED:
		APPEND_LIT(p, ",\"caller\":\"");
		APPEND_MEM(p, c->caller, 11);
		APPEND_LIT(p, "\",\"dialled\":\"12320\",\"ivr_path\":\"");
		APPEND_MEM(p, c->ivr_path, strlen(c->ivr_path));
		APPEND_LIT(p, "\"}");
		break;
	case PHASE_ANSWERED:
		APPEND_LIT(p, ",\"agent\":\"agent-");
		p += format_u64(p, c->index % 200 + 1);
		APPEND_LIT(p, "\"}");
		break;
	case PHASE_ENDED:
		APPEND_LIT(p, ",\"cause\":\"hangup\"}");
		break;
	}
	return (size_t)(p - body);
}

/* Fills c->out with the signed request for the event c is at. */
static void conn_build_request(struct loadgen *lg, struct conn *c)
{
	struct timespec wall;
	char body[LOADGEN_BODY_MAX];
	char sig[AUTH_SIGNATURE_LEN];

	loadgen_update_clock(lg, &wall);
	size_t body_len = conn_build_body(lg, c, &wall, body);
	auth_sign(lg->secret, lg->clock_sec, body, body_len, sig);

	char *p = c->out;
	APPEND_MEM(p, lg->head, lg->head_len);
	APPEND_MEM(p, lg->clock_ts, lg->clock_ts_len);
	APPEND_LIT(p, "\r\n" AUTH_HEADER_SIGNATURE ": ");
	APPEND_MEM(p, sig, AUTH_SIGNATURE_LEN - 1);
	APPEND_LIT(p, "\r\nContent-Length: ");
	p += format_u64(p, body_len);
	APPEND_LIT(p, "\r\n\r\n");
	APPEND_MEM(p, body, body_len);
	c->out_len = (size_t)(p - c->out);
	c->out_off = 0;
}

static int conn_set_events(struct loadgen *lg, struct conn *c, bool want_out)
{
	if (c->want_out == want_out)
		return 0;
	struct epoll_event ev = { .events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.ptr = c };
	if (epoll_ctl(lg->epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0)
		return -errno;
	c->want_out = want_out;
	return 0;
}

static void conn_close(struct loadgen *lg, struct conn *c, int64_t now)
{
	if (c->fd >= 0) {
		epoll_ctl(lg->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->state = CONN_CLOSED;
	c->in_len = 0;
	c->want_out = false;
	c->retry_at_ns = now + LOADGEN_RETRY_NS;
}

static bool in_window(const struct loadgen *lg, int64_t t)
{
	return t >= lg->window_start_ns && (lg->window_end_ns == 0 || t < lg->window_end_ns);
}

static void loadgen_report_error(struct loadgen *lg, const struct conn *c, const char *what,
				 const char *detail, size_t detail_len)
{
	if (lg->st.error_reports >= LOADGEN_MAX_ERROR_REPORTS)
		return;
	lg->st.error_reports++;
	if (detail_len > 300)
		detail_len = 300;
	fprintf(stderr, "loadgen: connection %u, call %s: %s%s%.*s\n", c->index, c->call_id, what,
		detail_len ? ": " : "", (int)detail_len, detail ? detail : "");
}

/* Counts a failed request (transport error or non-200) finished at now. */
static void loadgen_count_error(struct loadgen *lg, int64_t now)
{
	if (in_window(lg, now)) {
		lg->st.requests++;
		lg->st.errors++;
	}
}

/* Accounts for a request that ended without a 200 and moves the connection
 * to a fresh call: after a failed event the call cannot go on legally. */
static void conn_fail_request(struct loadgen *lg, struct conn *c, int64_t now, bool outcome_known)
{
	loadgen_count_error(lg, now);
	if (!outcome_known)
		lg->st.lost++;
	conn_new_call(lg, c);
}

static void loadgen_check_target(struct loadgen *lg, int64_t now)
{
	if (lg->opt.requests != 0 && lg->window_end_ns == 0 && lg->st.requests >= lg->opt.requests) {
		lg->window_end_ns = now;
		lg->stopping = true;
	}
}

static int conn_connect(struct loadgen *lg, struct conn *c, int64_t now)
{
	int fd = socket(lg->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->fd = fd;
	c->in_len = 0;
	if (connect(fd, (struct sockaddr *)&lg->addr, lg->addr_len) != 0 && errno != EINPROGRESS) {
		int err = -errno;
		close(fd);
		c->fd = -1;
		c->retry_at_ns = now + LOADGEN_RETRY_NS;
		return err;
	}
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
	if (epoll_ctl(lg->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		int err = -errno;
		close(fd);
		c->fd = -1;
		return err;
	}
	c->want_out = true;
	c->state = CONN_CONNECTING;
	return 0;
}

/* Writes as much of the pending request as the socket takes. */
static void conn_flush(struct loadgen *lg, struct conn *c, int64_t now)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n > 0) {
			c->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->state = CONN_WRITING;
			if (conn_set_events(lg, c, true) != 0) {
				conn_fail_request(lg, c, now, false);
				conn_close(lg, c, now);
			}
			return;
		}
		loadgen_report_error(lg, c, "send failed", strerror(errno), strlen(strerror(errno)));
		/* nothing or part of the request left: the server may have seen it */
		conn_fail_request(lg, c, now, c->out_off > 0);
		conn_close(lg, c, now);
		return;
	}
	c->state = CONN_READING;
	if (conn_set_events(lg, c, false) != 0) {
		conn_fail_request(lg, c, now, false);
		conn_close(lg, c, now);
	}
}

/* Sends the next request on an idle connection, unless the run is stopping
 * or every offer of --offers has gone out. */
static void conn_send_next(struct loadgen *lg, struct conn *c, int64_t now)
{
	if (lg->stopping || c->state != CONN_IDLE)
		return;
	if (lg->opt.offers != 0) {
		if (lg->offers_sent == lg->opt.offers)
			return;
		lg->offers_sent++;
	}
	conn_build_request(lg, c);
	c->sent_ns = now;
	conn_flush(lg, c, now);
}

/* Parses a complete response at the start of c->in. Returns the number of
 * bytes it takes (0 if incomplete, -1 if unparseable) and sets *status and
 * *keep_alive. Bodies come with Content-Length or chunked encoding. */
static long conn_parse_response(const struct conn *c, int *status, bool *keep_alive)
{
	const char *buf = c->in;
	const char *hdr_end = memmem(buf, c->in_len, "\r\n\r\n", 4);
	if (hdr_end == NULL)
		return c->in_len >= LOADGEN_IN_MAX ? -1 : 0;
	size_t head_len = (size_t)(hdr_end - buf) + 4;
	if (head_len < 12 || memcmp(buf, "HTTP/1.", 7) != 0)
		return -1;
	*status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	*keep_alive = buf[7] == '1';

	long content_length = -1;
	bool chunked = false;
	const char *line = (const char *)memchr(buf, '\n', head_len) + 1;
	while (line < hdr_end) {
		const char *eol = memchr(line, '\n', (size_t)(hdr_end + 2 - line));
		if (eol == NULL)
			break;
		size_t len = (size_t)(eol - line);
		if (len > 15 && strncasecmp(line, "content-length:", 15) == 0) {
			content_length = strtol(line + 15, NULL, 10);
		} else if (len > 18 && strncasecmp(line, "transfer-encoding:", 18) == 0) {
			chunked = memmem(line + 18, len - 18, "chunked", 7) != NULL;
		} else if (len > 11 && strncasecmp(line, "connection:", 11) == 0) {
			if (memmem(line + 11, len - 11, "close", 5) != NULL)
				*keep_alive = false;
			else if (memmem(line + 11, len - 11, "keep-alive", 10) != NULL)
				*keep_alive = true;
		}
		line = eol + 1;
	}

	if (chunked) {
		size_t pos = head_len;
		for (;;) {
			const char *eol = memmem(buf + pos, c->in_len - pos, "\r\n", 2);
			if (eol == NULL)
				break;
			char *end;
			unsigned long size = strtoul(buf + pos, &end, 16);
			if (end == buf + pos)
				return -1;
			pos = (size_t)(eol - buf) + 2;
			if (size == 0) {
				/* no trailers expected: the final CRLF */
				if (c->in_len - pos < 2)
					break;
				return (long)(pos + 2);
			}
			if (c->in_len - pos < size + 2)
				break;
			pos += size + 2;
		}
		return c->in_len >= LOADGEN_IN_MAX ? -1 : 0;
	}
	if (content_length < 0) {
		if (*status == 204 || *status == 304 || *status / 100 == 1)
			return (long)head_len;
		return -1; /* read-until-close bodies are not used by our servers */
	}
	if (head_len + (size_t)content_length > LOADGEN_IN_MAX)
		return -1;
	if (c->in_len < head_len + (size_t)content_length)
		return 0;
	return (long)(head_len + (size_t)content_length);
}

static void conn_on_response(struct loadgen *lg, struct conn *c, int status, size_t head_len,
			     int64_t now)
{
	if (status == 200) {
		lg->st.ok_total++;
		if (in_window(lg, now)) {
			uint64_t us = (uint64_t)(now - c->sent_ns) / 1000;
			lg->st.requests++;
			lg->st.ok++;
			lg->st.hist[hist_index(us)]++;
		}
		if (c->phase == PHASE_ENDED || lg->opt.offers != 0)
			conn_new_call(lg, c);
		else
			c->phase++;
		return;
	}
	char what[32];
	snprintf(what, sizeof what, "HTTP %d", status);
	const char *body = c->in + head_len;
	loadgen_report_error(lg, c, what, body, c->in_len > head_len ? c->in_len - head_len : 0);
	conn_fail_request(lg, c, now, true);
}

static void conn_on_readable(struct loadgen *lg, struct conn *c, int64_t now)
{
	for (;;) {
		if (c->in_len == LOADGEN_IN_MAX)
			break;
		ssize_t n = recv(c->fd, c->in + c->in_len, LOADGEN_IN_MAX - c->in_len, 0);
		if (n > 0) {
			c->in_len += (size_t)n;
			if (c->in_len < LOADGEN_IN_MAX)
				break; /* one response per request: a short read is all there is */
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		/* closed or failed */
		if (c->state == CONN_READING || c->state == CONN_WRITING) {
			const char *why = n == 0 ? "server closed the connection" : strerror(errno);
			loadgen_report_error(lg, c, "no answer", why, strlen(why));
			conn_fail_request(lg, c, now, false);
		}
		conn_close(lg, c, now);
		return;
	}
	if (c->state != CONN_READING) {
		/* data while nothing is in flight: the protocol is out of step */
		loadgen_report_error(lg, c, "unexpected data from the server", NULL, 0);
		conn_close(lg, c, now);
		return;
	}

	int status = 0;
	bool keep_alive = true;
	long used = conn_parse_response(c, &status, &keep_alive);
	if (used == 0)
		return;
	if (used < 0) {
		loadgen_report_error(lg, c, "unparseable response", c->in, c->in_len);
		conn_fail_request(lg, c, now, true);
		conn_close(lg, c, now);
		return;
	}
	const char *hdr_end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
	conn_on_response(lg, c, status, (size_t)(hdr_end - c->in) + 4, now);
	loadgen_check_target(lg, now);
	c->in_len -= (size_t)used;
	if (c->in_len != 0)
		memmove(c->in, c->in + used, c->in_len);
	if (!keep_alive) {
		conn_close(lg, c, now);
		c->retry_at_ns = now; /* reconnect at once: nothing is wrong */
		return;
	}
	c->state = CONN_IDLE;
	conn_send_next(lg, c, now);
}

static void conn_on_writable(struct loadgen *lg, struct conn *c, int64_t now)
{
	if (c->state == CONN_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof err;
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err != 0) {
			loadgen_report_error(lg, c, "connect failed", strerror(err), strlen(strerror(err)));
			loadgen_count_error(lg, now);
			conn_close(lg, c, now);
			return;
		}
		c->state = CONN_IDLE;
		if (lg->stopping) {
			conn_set_events(lg, c, false);
			return;
		}
		conn_send_next(lg, c, now);
		return;
	}
	if (c->state == CONN_WRITING)
		conn_flush(lg, c, now);
}

static bool loadgen_busy(const struct loadgen *lg)
{
	for (unsigned i = 0; i < lg->opt.connections; i++) {
		enum conn_state s = lg->conns[i].state;
		if (s == CONN_READING || s == CONN_WRITING)
			return true;
	}
	return false;
}

static int loadgen_run(struct loadgen *lg)
{
	struct epoll_event events[256];
	int64_t now = clock_mono_ns();

	lg->start_ns = now;
	lg->window_start_ns = now + (int64_t)(lg->opt.warmup_s * 1e9);
	if (lg->opt.requests == 0)
		lg->window_end_ns = lg->window_start_ns + (int64_t)(lg->opt.duration_s * 1e9);
	/* a hard bound even in requests mode: duration_s counts from the window start */
	int64_t hard_stop_ns = lg->window_start_ns + (int64_t)(lg->opt.duration_s * 1e9);
	int64_t drain_until_ns = 0;

	for (unsigned i = 0; i < lg->opt.connections; i++) {
		struct conn *c = &lg->conns[i];
		int err = conn_connect(lg, c, now);
		if (err != 0) {
			fprintf(stderr, "loadgen: connection %u: connect: %s\n", i, strerror(-err));
			c->state = CONN_CLOSED;
		}
	}

	for (;;) {
		now = clock_mono_ns();
		bool offers_done = lg->opt.offers != 0 && lg->offers_sent == lg->opt.offers &&
				   !loadgen_busy(lg);
		if (!lg->stopping && (now >= hard_stop_ns || loadgen_interrupted || offers_done ||
				      (lg->window_end_ns != 0 && now >= lg->window_end_ns))) {
			if (lg->window_end_ns == 0 || lg->window_end_ns > now)
				lg->window_end_ns = now;
			lg->stopping = true;
		}
		if (lg->stopping) {
			if (drain_until_ns == 0)
				drain_until_ns = now + LOADGEN_DRAIN_NS;
			if (!loadgen_busy(lg) || now >= drain_until_ns || loadgen_interrupted > 1)
				break;
		} else {
			for (unsigned i = 0; i < lg->opt.connections; i++) {
				struct conn *c = &lg->conns[i];
				if (c->state == CONN_CLOSED && now >= c->retry_at_ns) {
					if (conn_connect(lg, c, now) != 0)
						loadgen_count_error(lg, now);
				}
			}
		}

		int n = epoll_wait(lg->epfd, events, 256, 10);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("loadgen: epoll_wait");
			return -1;
		}
		now = clock_mono_ns();
		for (int i = 0; i < n; i++) {
			struct conn *c = events[i].data.ptr;
			if (c->fd < 0)
				continue;
			if (c->state == CONN_CONNECTING) {
				conn_on_writable(lg, c, now);
				continue;
			}
			if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				conn_on_readable(lg, c, now);
			if (c->fd >= 0 && (events[i].events & EPOLLOUT))
				conn_on_writable(lg, c, now);
		}
	}

	for (unsigned i = 0; i < lg->opt.connections; i++) {
		struct conn *c = &lg->conns[i];
		if (c->state == CONN_READING || c->state == CONN_WRITING)
			lg->st.lost++;
		conn_close(lg, c, now);
	}
	return 0;
}

static char *read_secret_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "loadgen: cannot open secret file %s: %s\n", path, strerror(errno));
		return NULL;
	}
	char buf[1024];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	if (n == 0) {
		fprintf(stderr, "loadgen: secret file %s is empty\n", path);
		return NULL;
	}
	return strdup(buf);
}

/* Splits http://host[:port][/path] into the options (host and port only if
 * not given separately). */
static int parse_url(const char *url, struct options *opt, char *host_buf, size_t host_len,
		     char *port_buf, size_t port_len, char *path_buf, size_t path_len)
{
	if (strncmp(url, "http://", 7) != 0)
		return -1;
	const char *h = url + 7;
	const char *slash = strchr(h, '/');
	const char *end = slash ? slash : h + strlen(h);
	const char *colon = memchr(h, ':', (size_t)(end - h));
	const char *hend = colon ? colon : end;
	if (hend == h || (size_t)(hend - h) >= host_len)
		return -1;
	memcpy(host_buf, h, (size_t)(hend - h));
	host_buf[hend - h] = '\0';
	if (colon) {
		if ((size_t)(end - colon - 1) >= port_len || end == colon + 1)
			return -1;
		memcpy(port_buf, colon + 1, (size_t)(end - colon - 1));
		port_buf[end - colon - 1] = '\0';
	} else {
		snprintf(port_buf, port_len, "80");
	}
	if (slash && slash[1] != '\0') {
		if (strlen(slash) >= path_len)
			return -1;
		snprintf(path_buf, path_len, "%s", slash);
		opt->path = path_buf;
	}
	if (opt->host == NULL)
		opt->host = host_buf;
	if (opt->port == NULL)
		opt->port = port_buf;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: loadgen [options]\n"
		"  --url URL            http://host:port[/path] (default http://127.0.0.1:8320/v1/calls/events)\n"
		"  --host HOST          server address (overrides the URL's)\n"
		"  --port PORT          server port (overrides the URL's)\n"
		"  --connections C      concurrent keep-alive connections (default 64)\n"
		"  --duration S         measured seconds (default 10)\n"
		"  --requests N         stop after N measured answers instead (--duration still bounds it)\n"
		"  --offers N           send N call.offered events (new calls, IVR paths over the\n"
		"                       queues of conf/rules.yaml) and nothing else; --duration bounds it\n"
		"  --warmup S           seconds before measuring (default 1)\n"
		"  --centre CODE        centre code in every event (default bench)\n"
		"  --secret-file FILE   gateway secret (else $HOTLINE_GATEWAY_SECRET)\n");
}

static int parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_options(int argc, char **argv, struct options *opt, char *host_buf,
			 size_t host_len, char *port_buf, size_t port_len, char *path_buf,
			 size_t path_len)
{
	static const struct option longopts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "connections", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "requests", required_argument, NULL, 'n' },
		{ "offers", required_argument, NULL, 'o' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "centre", required_argument, NULL, 'C' },
		{ "secret-file", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url = "http://127.0.0.1:8320/v1/calls/events";
	double v;
	int ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'u':
			url = optarg;
			break;
		case 'H':
			opt->host = optarg;
			break;
		case 'p':
			opt->port = optarg;
			break;
		case 'c':
			if (parse_double(optarg, 1, LOADGEN_MAX_CONNECTIONS, &v) != 0) {
				fprintf(stderr, "loadgen: --connections must be 1..%d\n",
					LOADGEN_MAX_CONNECTIONS);
				return -1;
			}
			opt->connections = (unsigned)v;
			break;
		case 'd':
			if (parse_double(optarg, 0.1, 86400, &opt->duration_s) != 0) {
				fprintf(stderr, "loadgen: --duration must be 0.1..86400 seconds\n");
				return -1;
			}
			break;
		case 'n':
			if (parse_double(optarg, 1, 1e12, &v) != 0) {
				fprintf(stderr, "loadgen: --requests must be a positive number\n");
				return -1;
			}
			opt->requests = (uint64_t)v;
			break;
		case 'o':
			if (parse_double(optarg, 1, 1e8, &v) != 0) {
				fprintf(stderr, "loadgen: --offers must be 1..100000000\n");
				return -1;
			}
			opt->offers = (uint64_t)v;
			break;
		case 'w':
			if (parse_double(optarg, 0, 3600, &opt->warmup_s) != 0) {
				fprintf(stderr, "loadgen: --warmup must be 0..3600 seconds\n");
				return -1;
			}
			break;
		case 'C':
			opt->centre = optarg;
			break;
		case 's':
			opt->secret_file = optarg;
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
	if (opt->offers != 0 && opt->requests != 0) {
		fprintf(stderr, "loadgen: --offers and --requests do not go together; give one\n");
		return -1;
	}
	if (parse_url(url, opt, host_buf, host_len, port_buf, port_len, path_buf, path_len) != 0) {
		fprintf(stderr, "loadgen: --url %s: expected http://host[:port][/path]\n", url);
		return -1;
	}
	size_t centre_len = strlen(opt->centre);
	if (centre_len == 0 || centre_len > 32 || strspn(opt->centre,
		"abcdefghijklmnopqrstuvwxyz0123456789_-") != centre_len) {
		fprintf(stderr, "loadgen: --centre %s: expected 1-32 of a-z 0-9 _ -\n", opt->centre);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct loadgen *lg = NULL;
	char host_buf[256], port_buf[16], path_buf[256];
	struct addrinfo *ai = NULL;
	int rc = 1;

	lg = calloc(1, sizeof *lg);
	if (lg == NULL)
		return 1;
	lg->epfd = -1;
	lg->opt = (struct options){
		.path = "/v1/calls/events",
		.centre = "bench",
		.connections = 64,
		.duration_s = 10,
		.warmup_s = 1,
	};
	if (parse_options(argc, argv, &lg->opt, host_buf, sizeof host_buf, port_buf, sizeof port_buf,
			  path_buf, sizeof path_buf) != 0) {
		rc = 2;
		goto out;
	}

	if (lg->opt.secret_file != NULL) {
		lg->secret = read_secret_file(lg->opt.secret_file);
	} else if (getenv("HOTLINE_GATEWAY_SECRET") != NULL && *getenv("HOTLINE_GATEWAY_SECRET")) {
		lg->secret = strdup(getenv("HOTLINE_GATEWAY_SECRET"));
	} else {
		fprintf(stderr, "loadgen: no secret: give --secret-file or set HOTLINE_GATEWAY_SECRET\n");
	}
	if (lg->secret == NULL)
		goto out;
	if (auth_init() != 0) {
		fprintf(stderr, "loadgen: libsodium failed to initialise\n");
		goto out;
	}

	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	int gai = getaddrinfo(lg->opt.host, lg->opt.port, &hints, &ai);
	if (gai != 0) {
		fprintf(stderr, "loadgen: cannot resolve %s:%s: %s\n", lg->opt.host, lg->opt.port,
			gai_strerror(gai));
		goto out;
	}
	memcpy(&lg->addr, ai->ai_addr, ai->ai_addrlen);
	lg->addr_len = ai->ai_addrlen;

	int head_len = snprintf(lg->head, sizeof lg->head,
				"POST %s HTTP/1.1\r\nHost: %s:%s\r\n"
				"Content-Type: application/json\r\n" AUTH_HEADER_TIMESTAMP ": ",
				lg->opt.path, lg->opt.host, lg->opt.port);
	if (head_len < 0 || (size_t)head_len >= sizeof lg->head) {
		fprintf(stderr, "loadgen: host or path too long\n");
		goto out;
	}
	lg->head_len = (size_t)head_len;
	lg->centre_len = strlen(lg->opt.centre);
	/* unique per run: pid and start time, so repeated runs never collide */
	lg->run_prefix_len = (size_t)snprintf(lg->run_prefix, sizeof lg->run_prefix, "lg%x%llx-",
					      (unsigned)getpid() & 0xfffff,
					      (unsigned long long)time(NULL) & 0xffffffffULL);

	lg->conns = calloc(lg->opt.connections, sizeof *lg->conns);
	if (lg->conns == NULL) {
		fprintf(stderr, "loadgen: out of memory for %u connections\n", lg->opt.connections);
		goto out;
	}
	for (unsigned i = 0; i < lg->opt.connections; i++) {
		struct conn *c = &lg->conns[i];
		c->fd = -1;
		c->index = i;
		c->rng = 0x9E3779B97F4A7C15ULL * (i + 1) ^ (uint64_t)getpid();
		conn_new_call(lg, c);
	}

	lg->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (lg->epfd < 0) {
		perror("loadgen: epoll_create1");
		goto out;
	}
	struct sigaction sa = { .sa_handler = loadgen_on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (loadgen_run(lg) != 0)
		goto out;

	struct stats *st = &lg->st;
	double elapsed = (double)(lg->window_end_ns - lg->window_start_ns) / 1e9;
	if (elapsed <= 0)
		elapsed = 1e-9;
	printf("loadgen: requests=%" PRIu64 " ok=%" PRIu64 " errors=%" PRIu64
	       " elapsed=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f ok_total=%" PRIu64
	       " lost=%" PRIu64 "\n",
	       st->requests, st->ok, st->errors, elapsed, (double)st->ok / elapsed,
	       hist_quantile_ms(st->hist, st->ok, 0.50), hist_quantile_ms(st->hist, st->ok, 0.99),
	       st->ok_total, st->lost);
	fflush(stdout);
	rc = st->ok > 0 ? 0 : 1;
out:
	if (ai != NULL)
		freeaddrinfo(ai);
	if (lg->epfd >= 0)
		close(lg->epfd);
	free(lg->conns);
	if (lg->secret != NULL) {
		memset(lg->secret, 0, strlen(lg->secret));
		free(lg->secret);
	}
	free(lg);
	return rc;
}

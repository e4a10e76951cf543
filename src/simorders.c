/* simorders.c: the simulator's 12345 platforms, posting the plan's work
 * orders (see simorders.h).
 *
 * A fixed set of slots, twice a platform's connections for each platform in
 * use, each carrying one order from its first attempt until the broker took
 * it in; a free slot takes the next order of the plan. Slots are allocated
 * up front and recycled, never freed mid-run.
 */
#include "simorders.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <sodium.h>

#include "httpc.h"
#include "readfile.h"
#include "simretry.h"

#define SIMORDERS_PATH "/v1/workorders"
#define SIMORDERS_PLATFORM_HEADER "X-Hotline-Platform"
/* A secrets file is two lines; anything this long is not one. */
#define SIMORDERS_FILE_MAX 65536
/* Retries told one by one before only being counted (an order failing for
 * long is still told every 20 attempts). */
#define SIMORDERS_RETRY_REPORTS 5

/* One order on its way, or waiting for its retry. */
struct simorders_post {
	struct simorders *owner;
	struct replay_order order;
	char body[REPLAY_ORDER_BODY_MAX];
	size_t body_len;
	struct simretry retry;
	struct event *timer; /* the wait before a retry */
	struct simorders_post *next_free;
};

struct simorders {
	const struct replay *plan;
	struct simorders_hooks hooks;
	int retry_for_s;
	struct httpc *http[REPLAY_ORDER_SOURCES]; /* NULL for a source without orders */
	struct simorders_post *posts;
	size_t n_posts;
	struct simorders_post *free_posts;
	size_t next; /* the plan's next order to post */
	bool failed;
	struct simorders_counts counts;
};

/* --- the secrets file ------------------------------------------------------- */

/* One line of the file (its '\n' already cut). Returns 0, or -1 with err. */
static int simorders_parse_line(char *line, const char *path, int line_no,
				struct simorders_secrets *out, char *err, size_t err_len)
{
	size_t n = strlen(line);
	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	const char *name = line + strspn(line, " \t");
	if (*name == '\0' || *name == '#')
		return 0;
	size_t name_len = strcspn(name, " \t");
	const char *secret = name + name_len + strspn(name + name_len, " \t");
	size_t secret_len = strcspn(secret, " \t");
	const char *rest = secret + secret_len + strspn(secret + secret_len, " \t");

	int source = -1;
	for (int s = 0; s < REPLAY_ORDER_SOURCES; s++) {
		const char *known = replay_order_source_name((enum replay_order_source)s);
		if (strlen(known) == name_len && strncmp(name, known, name_len) == 0)
			source = s;
	}
	if (source < 0) {
		snprintf(err, err_len,
			 "%s:%d: \"%.*s\" is not a platform; use city_12345 or "
			 "province_12345",
			 path, line_no, (int)(name_len < 40 ? name_len : 40), name);
		return -1;
	}
	const char *platform = replay_order_source_name((enum replay_order_source)source);
	if (secret_len == 0) {
		snprintf(err, err_len, "%s:%d: %s has no secret after its name", path, line_no,
			 platform);
		return -1;
	}
	if (*rest != '\0') {
		snprintf(err, err_len,
			 "%s:%d: more than a platform and its secret; write \"%s SECRET\", the "
			 "secret without spaces",
			 path, line_no, platform);
		return -1;
	}
	if (secret_len >= SIMORDERS_SECRET_MAX) {
		snprintf(err, err_len, "%s:%d: the secret of %s is %zu characters long; at most %d",
			 path, line_no, platform, secret_len, SIMORDERS_SECRET_MAX - 1);
		return -1;
	}
	if (out->secret[source][0] != '\0') {
		snprintf(err, err_len, "%s:%d: %s is named a second time", path, line_no, platform);
		return -1;
	}
	memcpy(out->secret[source], secret, secret_len);
	out->secret[source][secret_len] = '\0';
	return 0;
}

int simorders_read_secrets(const char *path, struct simorders_secrets *out, char *err,
			   size_t err_len)
{
	char *text = NULL;
	size_t len = 0;
	int rc = 0;

	memset(out, 0, sizeof *out);
	if (readfile_all(path, SIMORDERS_FILE_MAX, &text, &len, err, err_len) != 0)
		return -1;
	if (strlen(text) != len) {
		snprintf(err, err_len, "%s: holds a NUL byte; write one \"PLATFORM SECRET\" a line",
			 path);
		rc = -1;
	}
	char *line = text;
	for (int line_no = 1; rc == 0 && line != NULL; line_no++) {
		char *end = strchr(line, '\n');
		if (end != NULL)
			*end = '\0';
		rc = simorders_parse_line(line, path, line_no, out, err, err_len);
		line = end != NULL ? end + 1 : NULL;
	}
	sodium_memzero(text, len);
	free(text);
	if (rc != 0)
		sodium_memzero(out, sizeof *out);
	return rc;
}

/* --- posting ------------------------------------------------------------------- */

static void simorders_fill(struct simorders *s);

static void simorders_fail(struct simorders *s)
{
	s->failed = true;
	s->hooks.failed(s->hooks.arg);
}

static const char *simorders_platform(const struct simorders_post *p)
{
	return replay_order_source_name(p->order.source);
}

static void simorders_on_answer(const struct httpc_response *r, void *arg);

/* Sends (or sends again) the post's order, the same bytes every time, with
 * its platform's secret and name. */
static void simorders_send(struct simorders_post *p)
{
	struct simorders *s = p->owner;
	int rc = httpc_post_json_header(s->http[p->order.source], SIMORDERS_PATH, p->body,
					p->body_len, SIMORDERS_PLATFORM_HEADER,
					simorders_platform(p), simorders_on_answer, p);
	if (rc != 0) {
		fprintf(stderr, "hotline-sim: cannot queue work order %s: %s\n",
			p->order.external_no, strerror(-rc));
		simorders_fail(s);
	}
}

static void simorders_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct simorders_post *p = arg;
	if (!p->owner->failed)
		simorders_send(p);
}

/* A refused order: what the broker said, and what to check. */
static void simorders_refused(struct simorders_post *p, const struct httpc_response *r,
			      const char *what)
{
	const char *advice = "";
	if (r->status == 401)
		advice = "; is its secret in --platform-secrets the broker's platforms[].secret "
			 "in its workorders.file?";
	else if (r->status == 409)
		advice = "; the broker holds another order under this number: replay into a fresh "
			 "database, or with another --seed";
	fprintf(stderr, "hotline-sim: work order %s of %s (centre %s) was refused: %s: %.*s%s\n",
		p->order.external_no, simorders_platform(p), p->order.centre, what,
		simretry_body_len(r, 2000), r->body, advice);
}

/* A failed attempt: retried as simretry.h says, or the end of the run. */
static void simorders_retry_or_fail(struct simorders_post *p, const struct httpc_response *r)
{
	struct simorders *s = p->owner;
	char what[256];

	simretry_describe(r, what, sizeof what);
	if (!simretry_retryable(r)) {
		simorders_refused(p, r, what);
		simorders_fail(s);
		return;
	}
	int64_t delay_ms = simretry_delay_ms(&p->retry, r, s->retry_for_s, simretry_now_usec());
	if (delay_ms < 0) {
		fprintf(stderr,
			"hotline-sim: work order %s of %s still failing after %d s of retries; "
			"last: %s%s%.*s\n",
			p->order.external_no, simorders_platform(p), s->retry_for_s, what,
			r->body_len > 0 ? ": " : "", simretry_body_len(r, 2000), r->body);
		simorders_fail(s);
		return;
	}
	s->counts.retries++;
	if (s->counts.retries <= SIMORDERS_RETRY_REPORTS || p->retry.failures % 20 == 0)
		fprintf(stderr,
			"hotline-sim: work order %s of %s: %s; retry %u in %" PRId64 " ms%s\n",
			p->order.external_no, simorders_platform(p), what, p->retry.failures,
			delay_ms,
			s->counts.retries == SIMORDERS_RETRY_REPORTS ?
				" (further retries of work orders are only counted)" :
				"");
	struct timeval tv = {.tv_sec = delay_ms / 1000, .tv_usec = (delay_ms % 1000) * 1000};
	if (evtimer_add(p->timer, &tv) != 0) {
		fprintf(stderr, "hotline-sim: cannot start a timer for work order %s\n",
			p->order.external_no);
		simorders_fail(s);
	}
}

/* httpc's callback: 201 (new) and 200 (taken in before) free the slot for
 * the next order; anything else is retried or ends the run. */
static void simorders_on_answer(const struct httpc_response *r, void *arg)
{
	struct simorders_post *p = arg;
	struct simorders *s = p->owner;

	if (s->failed)
		return;
	if (r->status != 200 && r->status != 201) {
		simorders_retry_or_fail(p, r);
		return;
	}
	s->counts.posted++;
	s->counts.posted_by_source[p->order.source]++;
	if (r->status == 201)
		s->counts.created++;
	else
		s->counts.replayed++;
	p->next_free = s->free_posts;
	s->free_posts = p;
	simorders_fill(s);
	if (simorders_done(s))
		s->hooks.finished(s->hooks.arg);
}

/* Starts the plan's next orders while slots are free. */
static void simorders_fill(struct simorders *s)
{
	while (!s->failed && s->free_posts != NULL) {
		struct simorders_post *p = s->free_posts;
		if (!replay_order_at(s->plan, s->next, &p->order))
			return;
		s->next++;
		s->free_posts = p->next_free;
		simretry_reset(&p->retry);
		int n = replay_format_order(&p->order, p->body, sizeof p->body);
		if (n < 0) {
			fprintf(stderr, "hotline-sim: work order %s does not fit in %d bytes\n",
				p->order.external_no, REPLAY_ORDER_BODY_MAX);
			simorders_fail(s);
			return;
		}
		p->body_len = (size_t)n;
		simorders_send(p);
	}
}

struct simorders *simorders_new(const struct simorders_options *o, char *err, size_t err_len)
{
	struct simorders *s = calloc(1, sizeof *s);
	size_t platforms = 0;

	if (s == NULL) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	s->plan = o->plan;
	s->hooks = o->hooks;
	s->retry_for_s = o->retry_for_s;
	s->counts.planned = replay_order_count(o->plan);
	for (int i = 0; i < REPLAY_ORDER_SOURCES; i++) {
		const enum replay_order_source source = (enum replay_order_source)i;
		const int64_t planned = replay_planned_orders(o->plan, source);
		if (planned == 0)
			continue;
		if (o->secrets->secret[i][0] == '\0') {
			snprintf(err, err_len,
				 "--platform-secrets names no secret for %s, and the profile plans "
				 "%" PRId64 " of its work orders",
				 replay_order_source_name(source), planned);
			goto fail;
		}
		s->http[i] = httpc_new(o->base, o->url, o->secrets->secret[i], o->connections,
				       o->timeout_ms, err, err_len);
		if (s->http[i] == NULL)
			goto fail;
		platforms++;
	}
	s->n_posts = (size_t)o->connections * 2 * platforms;
	if (s->n_posts > 0 && (s->posts = calloc(s->n_posts, sizeof *s->posts)) == NULL) {
		snprintf(err, err_len, "out of memory");
		goto fail;
	}
	for (size_t i = s->n_posts; i-- > 0;) {
		struct simorders_post *p = &s->posts[i];
		p->owner = s;
		p->timer = evtimer_new(o->base, simorders_on_timer, p);
		if (p->timer == NULL) {
			snprintf(err, err_len, "out of memory");
			goto fail;
		}
		p->next_free = s->free_posts;
		s->free_posts = p;
	}
	return s;
fail:
	simorders_free(s);
	return NULL;
}

void simorders_start(struct simorders *s)
{
	simorders_fill(s);
}

bool simorders_done(const struct simorders *s)
{
	return s->counts.posted == s->counts.planned;
}

void simorders_counts(const struct simorders *s, struct simorders_counts *out)
{
	*out = s->counts;
}

void simorders_free(struct simorders *s)
{
	if (s == NULL)
		return;
	/* The pools first: their requests point at the posts. */
	for (int i = 0; i < REPLAY_ORDER_SOURCES; i++)
		if (s->http[i] != NULL)
			httpc_free(s->http[i]);
	for (size_t i = 0; s->posts != NULL && i < s->n_posts; i++)
		if (s->posts[i].timer != NULL)
			event_free(s->posts[i].timer);
	free(s->posts);
	free(s);
}

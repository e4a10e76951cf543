/* simretry.c: the simulator's retry policy (see simretry.h). */
#include "simretry.h"

#include <stdio.h>
#include <time.h>

int64_t simretry_now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

bool simretry_retryable(const struct httpc_response *r)
{
	return r->status == 0 || r->status >= 500 || r->status == 429;
}

int64_t simretry_delay_ms(struct simretry *t, const struct httpc_response *r, int budget_s,
			  int64_t now_usec)
{
	if (t->first_failure_usec == 0)
		t->first_failure_usec = now_usec;
	int64_t left_ms = (int64_t)budget_s * 1000 - (now_usec - t->first_failure_usec) / 1000;
	if (left_ms <= 0)
		return -1;
	int64_t delay_ms;
	if (r->retry_after_s >= 0) {
		delay_ms = (int64_t)r->retry_after_s * 1000;
	} else {
		unsigned shift = t->failures < 6 ? t->failures : 6;
		delay_ms = (int64_t)SIMRETRY_FIRST_MS << shift;
		if (delay_ms > SIMRETRY_MAX_MS)
			delay_ms = SIMRETRY_MAX_MS;
	}
	t->failures++;
	return delay_ms < left_ms ? delay_ms : left_ms;
}

void simretry_reset(struct simretry *t)
{
	t->failures = 0;
	t->first_failure_usec = 0;
}

void simretry_describe(const struct httpc_response *r, char *out, size_t out_len)
{
	if (r->status == 0)
		snprintf(out, out_len, "%s", r->failure != NULL ? r->failure : "no response");
	else
		snprintf(out, out_len, "HTTP %d", r->status);
}

int simretry_body_len(const struct httpc_response *r, size_t max)
{
	return (int)(r->body_len > max ? max : r->body_len);
}

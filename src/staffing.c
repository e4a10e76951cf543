/* staffing.c: a day's staffing plan from history, by Erlang C (see
 * staffing.h). */
#include "staffing.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "erlang.h"

int staffing_plan(const struct staffing_history *h, const struct staffing_params *p,
		  struct staffing_slot out[STAFFING_SLOTS])
{
	int64_t answered_all = 0;
	double handle_all = 0;

	if (h->weeks < 1 || !(p->max_occupancy > 0 && p->max_occupancy <= 1) ||
	    !(p->shrinkage >= 0 && p->shrinkage < 1) ||
	    !(p->target_service_level >= 0 && p->target_service_level < 1) ||
	    !(p->answer_within_s >= 0))
		return -EINVAL;
	for (int i = 0; i < STAFFING_SLOTS; i++) {
		if (h->offered[i] < 0 || h->answered[i] < 0 || h->answered[i] > h->offered[i] ||
		    !(h->handle_s[i] >= 0))
			return -EINVAL;
		answered_all += h->answered[i];
		handle_all += h->handle_s[i];
	}
	memset(out, 0, STAFFING_SLOTS * sizeof *out);
	for (int i = 0; i < STAFFING_SLOTS; i++) {
		struct staffing_slot *s = &out[i];
		s->calls = (double)h->offered[i] / h->weeks;
		if (h->answered[i] > 0)
			s->aht_s = h->handle_s[i] / (double)h->answered[i];
		else if (answered_all > 0)
			s->aht_s = handle_all / (double)answered_all;
		s->service_level = 1.0;
		if (s->calls == 0 || !(s->aht_s > 0))
			continue;
		int n = erlang_agents_needed(s->calls, STAFFING_SLOT_S, s->aht_s,
					     p->target_service_level, p->answer_within_s,
					     p->max_occupancy, 0.0);
		if (n < 0)
			return n;
		int scheduled = erlang_agents_scheduled(n, p->shrinkage);
		if (scheduled < 0)
			return scheduled;
		s->traffic = erlang_traffic(s->calls, STAFFING_SLOT_S, s->aht_s);
		s->agents = n;
		s->scheduled = scheduled;
		s->wait_probability = erlang_c_probability_wait(s->traffic, n);
		s->service_level =
			erlang_service_level(s->traffic, n, s->aht_s, p->answer_within_s);
		s->asa_s = erlang_asa(s->traffic, n, s->aht_s);
		s->occupancy = erlang_occupancy(s->traffic, n);
	}
	return 0;
}

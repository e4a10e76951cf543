/* staffing.h: the agents to schedule per half hour of a coming day, by
 * Erlang C, from the same weekday's volumes and handle times of the last
 * weeks (pure: the caller reads the history; erlang.h does the queueing).
 *
 * Forecast: a half hour's calls are the mean over the weeks asked for
 * (weeks without a call count as 0), and its handle time the mean handle
 * time of the answered calls in that half hour over those weeks, or, when
 * none was answered then, over the whole history. Needed agents: the
 * smallest group meeting the target service level within T seconds and
 * the occupancy cap (erlang_agents_needed); scheduled agents add the
 * shrinkage (erlang_agents_scheduled).
 */
#ifndef HOTLINE_STAFFING_H
#define HOTLINE_STAFFING_H

#include <stdint.h>

#define STAFFING_SLOTS 48
#define STAFFING_SLOT_S 1800.0

/* Sums over the history's days, per half hour (0 = 00:00-00:30). */
struct staffing_history {
	int weeks;                        /* days summed (one per week) */
	int64_t offered[STAFFING_SLOTS];  /* calls that entered a queue */
	int64_t answered[STAFFING_SLOTS]; /* of which answered */
	double handle_s[STAFFING_SLOTS];  /* talk + hold + wrap-up of the answered */
};

struct staffing_params {
	double target_service_level; /* [0, 1) */
	double answer_within_s;      /* T */
	double max_occupancy;        /* (0, 1] */
	double shrinkage;            /* [0, 1) */
};

struct staffing_slot {
	double calls;         /* forecast calls in the half hour */
	double aht_s;         /* forecast mean handle time; 0 when no call */
	double traffic;       /* Erlangs */
	int agents;           /* on the phones */
	int scheduled;        /* with shrinkage */
	double service_level; /* at `agents`; 1 with no call */
	double asa_s;         /* at `agents`; 0 with no call */
	double occupancy;     /* at `agents`; 0 with no call */
	double wait_probability;
};

/* Fills out[STAFFING_SLOTS]. Returns 0, -EINVAL for bad parameters or
 * history (weeks < 1, negative sums, answered > offered), or -ERANGE from
 * erlang_agents_needed. */
int staffing_plan(const struct staffing_history *h, const struct staffing_params *p,
		  struct staffing_slot out[STAFFING_SLOTS]) __attribute__((warn_unused_result));

#endif

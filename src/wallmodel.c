/* wallmodel.c: the wallboard's figures and alerts from the broker's views
 * (see wallmodel.h). */
#include "wallmodel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agentjson.h"

/* The view is "stale" when no answer came for this long: the alert says
 * the board shows the past. */
#define WALLMODEL_STALE_USEC (5 * INT64_C(1000000))

static long wallmodel_int(json_t *o, const char *key)
{
	return (long)json_integer_value(json_object_get(o, key));
}

void wallmodel_init(struct wallmodel *w, const char *centre, const char *exclude_agent)
{
	memset(w, 0, sizeof *w);
	agentjson_copy(w->centre, sizeof w->centre, centre);
	agentjson_copy(w->exclude_agent, sizeof w->exclude_agent, exclude_agent);
}

void wallmodel_free(struct wallmodel *w)
{
	free(w->agents);
	w->agents = NULL;
	w->n_agents = 0;
}

int wallmodel_on_queues(struct wallmodel *w, const char *body, size_t len, int64_t now)
{
	json_t *o = json_loadb(body, len, 0, NULL);
	json_t *queues = json_object_get(o, "queues");
	json_t *agents = json_object_get(o, "agents");
	if (!json_is_array(queues) || !json_is_array(agents)) {
		json_decref(o);
		return -EINVAL;
	}
	size_t na = json_array_size(agents);
	struct wallmodel_agent *list = calloc(na > 0 ? na : 1, sizeof *list);
	if (list == NULL) {
		json_decref(o);
		return -ENOMEM;
	}
	w->n_queues = 0;
	for (size_t i = 0; i < json_array_size(queues) && w->n_queues < WALLMODEL_QUEUES_MAX; i++) {
		json_t *q = json_array_get(queues, i);
		struct wallmodel_queue *wq = &w->queues[w->n_queues++];
		memset(wq, 0, sizeof *wq);
		agentjson_copy(wq->name, sizeof wq->name, agentjson_str(q, "queue"));
		wq->waiting = wallmodel_int(q, "waiting");
		wq->longest_wait_s = wallmodel_int(q, "longest_wait_s");
		wq->offered = wallmodel_int(q, "offered_today");
		wq->answered = wallmodel_int(q, "answered_today");
		wq->abandoned = wallmodel_int(q, "abandoned_today");
		json_t *sl = json_object_get(q, "answered_in_sl_today");
		wq->has_sl = json_is_integer(sl);
		wq->answered_in_sl = wq->has_sl ? (long)json_integer_value(sl) : 0;
		json_t *calls = json_object_get(q, "calls");
		for (size_t k = 0; k < json_array_size(calls); k++) {
			json_t *c = json_array_get(calls, k);
			/* A crisis caller who hung up waits as a callback: that
			 * is the urgent-callback alert, not a caller on the line. */
			if (!json_is_true(json_object_get(c, "crisis")) ||
			    json_is_true(json_object_get(c, "callback")))
				continue;
			wq->crisis_waiting++;
			long waited = wallmodel_int(c, "waiting_s");
			if (waited > wq->crisis_longest_s)
				wq->crisis_longest_s = waited;
		}
	}
	size_t n = 0;
	for (size_t i = 0; i < na; i++) {
		json_t *a = json_array_get(agents, i);
		const char *id = agentjson_str(a, "agent_id");
		if (w->exclude_agent[0] != '\0' && strcmp(id, w->exclude_agent) == 0)
			continue;
		struct wallmodel_agent *wa = &list[n++];
		agentjson_copy(wa->id, sizeof wa->id, id);
		agentjson_copy(wa->name, sizeof wa->name, agentjson_str(a, "name"));
		agentjson_copy(wa->state, sizeof wa->state, agentjson_str(a, "state"));
		agentjson_copy(wa->reason, sizeof wa->reason, agentjson_str(a, "reason"));
		agentjson_copy(wa->call_id, sizeof wa->call_id, agentjson_str(a, "call_id"));
		wa->in_state_s = wallmodel_int(a, "in_state_s");
	}
	/* By id: a board that reshuffles every second cannot be read. */
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && strcmp(list[k - 1].id, list[k].id) > 0; k--) {
			struct wallmodel_agent t = list[k - 1];
			list[k - 1] = list[k];
			list[k] = t;
		}
	free(w->agents);
	w->agents = list;
	w->n_agents = n;
	w->queues_at = now;
	w->error[0] = '\0';
	json_decref(o);
	return 0;
}

int wallmodel_on_callbacks(struct wallmodel *w, const char *body, size_t len, int64_t now)
{
	json_t *list;
	json_t *o = agentjson_load_list(body, len, "callbacks", &list);
	if (o == NULL)
		return -EINVAL;
	w->callbacks_open = 0;
	w->callbacks_urgent = 0;
	w->n_callbacks = 0;
	/* The broker lists them urgent first, then by when they joined. */
	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *c = json_array_get(list, i);
		bool urgent = json_is_true(json_object_get(c, "urgent"));
		w->callbacks_open++;
		if (urgent)
			w->callbacks_urgent++;
		if (w->n_callbacks == WALLMODEL_CALLBACKS_SHOWN)
			continue;
		struct wallmodel_callback *wc = &w->callbacks[w->n_callbacks++];
		agentjson_copy(wc->call_id, sizeof wc->call_id, agentjson_str(c, "call_id"));
		agentjson_copy(wc->queue, sizeof wc->queue, agentjson_str(c, "queue"));
		wc->urgent = urgent;
		agentjson_copy(wc->reason, sizeof wc->reason, agentjson_str(c, "reason"));
		agentjson_copy(wc->state, sizeof wc->state, agentjson_str(c, "state"));
		agentjson_copy(wc->agent_id, sizeof wc->agent_id, agentjson_str(c, "agent_id"));
		agentjson_copy(wc->caller, sizeof wc->caller, agentjson_str(c, "caller"));
		wc->joined_at = agentjson_time(c, "joined_at");
	}
	w->callbacks_at = now;
	json_decref(o);
	return 0;
}

int wallmodel_on_orders(struct wallmodel *w, const char *body, size_t len, int64_t now)
{
	json_t *list;
	json_t *o = agentjson_load_list(body, len, "orders", &list);
	if (o == NULL)
		return -EINVAL;
	w->orders_known = true;
	w->orders_overdue = json_array_size(list);
	w->n_orders = 0;
	for (size_t i = 0; i < json_array_size(list) && w->n_orders < WALLMODEL_ORDERS_SHOWN; i++) {
		json_t *r = json_array_get(list, i);
		struct wallmodel_order *wo = &w->orders[w->n_orders++];
		wo->id = (long long)json_integer_value(json_object_get(r, "id"));
		agentjson_copy(wo->external_no, sizeof wo->external_no,
			       agentjson_str(r, "external_no"));
		agentjson_copy(wo->title, sizeof wo->title, agentjson_str(r, "title"));
		agentjson_copy(wo->stage, sizeof wo->stage, agentjson_str(r, "stage"));
		wo->due = agentjson_time(r, "due");
	}
	w->orders_at = now;
	json_decref(o);
	return 0;
}

void wallmodel_failed(struct wallmodel *w, const char *detail, int64_t now)
{
	if (w->error[0] == '\0')
		w->error_since = now;
	agentjson_copy(w->error, sizeof w->error, detail);
}

static void wallmodel_alert(struct wallmodel *w, enum wallmodel_alert_kind kind, const char *text)
{
	if (w->n_alerts == WALLMODEL_ALERTS_MAX)
		return;
	w->alerts[w->n_alerts].kind = kind;
	agentjson_copy(w->alerts[w->n_alerts].text, sizeof w->alerts[w->n_alerts].text, text);
	w->n_alerts++;
}

void wallmodel_alerts(struct wallmodel *w, int64_t now)
{
	char text[WALLMODEL_TEXT_MAX];
	w->n_alerts = 0;

	if (w->error[0] != '\0' || w->queues_at == 0 || now - w->queues_at > WALLMODEL_STALE_USEC) {
		long ago = w->queues_at > 0 ? (long)((now - w->queues_at) / 1000000) : -1;
		if (ago >= 0)
			snprintf(text, sizeof text, "数据已 %ld 秒未更新：%.180s", ago,
				 w->error[0] ? w->error : "服务器无应答");
		else
			snprintf(text, sizeof text, "尚未取得数据：%.180s",
				 w->error[0] ? w->error : "连接中");
		wallmodel_alert(w, WALLMODEL_ALERT_LINK, text);
	}
	long crisis = 0, crisis_longest = 0;
	for (size_t i = 0; i < w->n_queues; i++) {
		crisis += w->queues[i].crisis_waiting;
		if (w->queues[i].crisis_longest_s > crisis_longest)
			crisis_longest = w->queues[i].crisis_longest_s;
	}
	if (crisis > 0) {
		snprintf(text, sizeof text, "心理危机来电等待 %ld 通，最长 %ld 分 %02ld 秒", crisis,
			 crisis_longest / 60, crisis_longest % 60);
		wallmodel_alert(w, WALLMODEL_ALERT_CRISIS_WAITING, text);
	}
	if (w->callbacks_urgent > 0) {
		snprintf(text, sizeof text, "危机来电者挂断，紧急回拨待处理 %zu 个",
			 w->callbacks_urgent);
		wallmodel_alert(w, WALLMODEL_ALERT_CRISIS_CALLBACKS, text);
	}
	if (w->orders_known && w->orders_overdue > 0) {
		snprintf(text, sizeof text, "12345 工单已超期 %zu 件%s", w->orders_overdue,
			 w->orders_overdue >= 200 ? "（或更多）" : "");
		wallmodel_alert(w, WALLMODEL_ALERT_OVERDUE_ORDERS, text);
	}
}

void wallmodel_totals(const struct wallmodel *w, struct wallmodel_queue *out)
{
	memset(out, 0, sizeof *out);
	snprintf(out->name, sizeof out->name, "total");
	out->has_sl = w->n_queues > 0;
	for (size_t i = 0; i < w->n_queues; i++) {
		const struct wallmodel_queue *q = &w->queues[i];
		out->waiting += q->waiting;
		if (q->longest_wait_s > out->longest_wait_s)
			out->longest_wait_s = q->longest_wait_s;
		out->offered += q->offered;
		out->answered += q->answered;
		out->abandoned += q->abandoned;
		out->has_sl = out->has_sl && q->has_sl;
		out->answered_in_sl += q->answered_in_sl;
		out->crisis_waiting += q->crisis_waiting;
	}
}

void wallmodel_agent_counts(const struct wallmodel *w, size_t *ready, size_t *busy, size_t *wrap_up,
			    size_t *not_ready)
{
	*ready = *busy = *wrap_up = *not_ready = 0;
	for (size_t i = 0; i < w->n_agents; i++) {
		const char *s = w->agents[i].state;
		if (strcmp(s, "ready") == 0)
			(*ready)++;
		else if (strcmp(s, "on_call") == 0 || strcmp(s, "offered") == 0)
			(*busy)++;
		else if (strcmp(s, "wrap_up") == 0)
			(*wrap_up)++;
		else
			(*not_ready)++;
	}
}

void wallmodel_percent(long part, long whole, bool known, char out[8])
{
	if (!known || whole <= 0) {
		snprintf(out, 8, "—");
		return;
	}
	long p = (part * 100 + whole / 2) / whole;
	snprintf(out, 8, "%ld%%", p);
}

/* agentbatch.h: hotline-agent --batch: the agent client driven by lines on
 * standard input, for scripts and tests.
 *
 * Each line is one command; each command gets exactly one line on standard
 * output, "ok ..." or "error CODE message", before the next line is read
 * (doc/agent-client.md lists them). The commands fill the same forms and
 * go through the same model (agentmodel.h) and core (agentcli.h) as the
 * keys of the terminal view, so a script checks what an agent would get.
 * Waiting ("wait offer", "wait on_call") watches the model, which the
 * broker's stream keeps up to date.
 *
 * The run ends after "quit" or at the end of input once the last command
 * has its answer; agentbatch_failed then says whether any command failed
 * (the exit status is 1 then).
 */
#ifndef HOTLINE_AGENTBATCH_H
#define HOTLINE_AGENTBATCH_H

#include <stdbool.h>
#include <stdio.h>

struct event_base;
struct agentmodel;
struct agentcli;
struct agentbatch;

struct agentbatch_options {
	struct event_base *base;
	struct agentmodel *model;
	int in_fd;     /* commands, one a line (made non-blocking) */
	FILE *out;     /* answers, one a line, flushed each */
	int timeout_s; /* a command's longest wait; 0: 30 */
	/* The password "login" uses (from --password-file), copied and wiped
	 * on free; NULL: "login" fails saying so. */
	const char *password;
};

struct agentbatch *agentbatch_new(const struct agentbatch_options *o, char *err, size_t err_len)
	__attribute__((warn_unused_result));

/* The core the commands go to; before agentbatch_start. */
void agentbatch_attach(struct agentbatch *b, struct agentcli *c);

/* Starts reading standard input. Returns 0 or -errno. */
int agentbatch_start(struct agentbatch *b) __attribute__((warn_unused_result));

/* The model changed (agentcli's changed hook): a waiting command may be
 * answered. */
void agentbatch_changed(struct agentbatch *b);

/* The agent asked to quit through the core (agentcli's quit hook). */
void agentbatch_quit(struct agentbatch *b);

/* True once the run is over (the loop is told to stop then). */
bool agentbatch_finished(const struct agentbatch *b);

/* True when any command answered "error". */
bool agentbatch_failed(const struct agentbatch *b);

void agentbatch_free(struct agentbatch *b);

#endif

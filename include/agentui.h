/* agentui.h: the agent's terminal view (ncursesw): draws an agentmodel and
 * turns the keyboard into agentmodel keys, on the caller's libevent loop.
 *
 * Keys come from the terminal on standard input, read with get_wch when the
 * loop says the descriptor is readable, so that a Chinese character typed
 * through an input method arrives as one wide character. The screen is
 * redrawn a moment after the model changes (changes are coalesced), and
 * every second for the clocks. SIGWINCH resizes the screen (resizeterm);
 * SIGTERM and SIGHUP save the draft and end the program like F10; Ctrl-C
 * is F10 (the terminal is in raw mode: an agent's stray Ctrl-C does not
 * throw away unsent work without asking).
 *
 * Needs a UTF-8 locale (setlocale(LC_ALL, "") done by the caller) and a
 * terminal on standard input and output.
 */
#ifndef HOTLINE_AGENTUI_H
#define HOTLINE_AGENTUI_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct agentmodel;
struct agentcli;
struct agentui;

/* Takes over the terminal (initscr). Returns NULL with the reason in err;
 * the terminal is left as it was then. url is shown on the login screen. */
struct agentui *agentui_new(struct event_base *base, struct agentmodel *m, const char *url,
			    char *err, size_t err_len) __attribute__((warn_unused_result));

/* The core that carries out the agent's commands; before the loop runs. */
void agentui_attach(struct agentui *u, struct agentcli *c);

/* The model changed: redraw soon. */
void agentui_changed(struct agentui *u);

/* The core saved the draft and asks to quit: the loop is told to stop. */
void agentui_quit(struct agentui *u);

/* Gives the terminal back (endwin). */
void agentui_free(struct agentui *u);

#endif

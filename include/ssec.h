/* ssec.h: a Server-Sent Events client on the caller's libevent loop.
 *
 * The simulator's side of the broker's streams: the gateway's command stream
 * (GET /v1/gateway/commands, signed like the events) and each agent's stream
 * (GET /v1/agents/stream, with the agent's Bearer token). One ssec holds one
 * HTTP/1.1 GET on a plain TCP connection (a bufferevent), reads the body as
 * it arrives, chunked or not, and hands each complete message to on_message.
 *
 * It never gives up: after any close, error, timeout or non-200 answer it
 * reconnects after 50 ms, doubling up to 2 s, and back to 50 ms once a
 * stream was accepted. Each attempt is signed anew (a fresh timestamp), so a
 * stream that reconnects after a long outage is never stale.
 *
 * The message format is that of the WHATWG EventSource: "event:" names the
 * message ("message" when absent), "data:" lines are joined with "\n", a
 * line starting with ':' is a comment, a blank line ends the message; "id:"
 * and "retry:" are ignored. Lines end with "\n" or "\r\n" (a lone "\r" does
 * not end a line). A message cut by a disconnection is dropped.
 *
 * Runs on the caller's loop; nothing here blocks except resolving the host
 * once in ssec_new.
 */
#ifndef HOTLINE_SSEC_H
#define HOTLINE_SSEC_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct ssec;

/* How each request proves who is asking. */
enum ssec_auth_kind {
	SSEC_AUTH_NONE,
	SSEC_AUTH_SIGNED, /* X-Hotline-Timestamp and X-Hotline-Signature over the
			   * empty body (auth.h), with secret */
	SSEC_AUTH_BEARER, /* Authorization: Bearer <secret> */
};

struct ssec_auth {
	enum ssec_auth_kind kind;
	const char *secret; /* the gateway secret or the token; copied */
};

enum ssec_state {
	SSEC_CONNECTED,    /* the server answered 200: messages follow */
	SSEC_DISCONNECTED, /* a connected stream ended; reconnecting */
	SSEC_UNAUTHORISED, /* the server answered 401; reported once until a
			    * stream is accepted again; still retrying */
};

/* Called once per complete message. event is the message's name, data its
 * data lines joined with "\n" (NUL-terminated, data_len bytes). Both are
 * valid only during the call. */
typedef void (*ssec_message_fn)(const char *event, const char *data, size_t data_len, void *arg);

/* Called when the stream is accepted, lost, or refused with 401. detail says
 * why ("connection closed by the server", "HTTP 401: ..."); valid only
 * during the call. */
typedef void (*ssec_state_fn)(enum ssec_state state, const char *detail, void *arg);

/* Connects to url ("http://host:port", an optional path prefix allowed) and
 * GETs path (which may carry a query), from the next loop pass on. Callbacks
 * run only from the loop, never inside ssec_new, and may call ssec_free on
 * this client (it is freed once the callback returns) or ssec_set_bearer.
 * on_state may be NULL. Returns NULL with the reason in err. */
struct ssec *ssec_new(struct event_base *base, const char *url, const char *path,
		      const struct ssec_auth *auth, ssec_message_fn on_message,
		      ssec_state_fn on_state, void *arg, char *err, size_t err_len)
	__attribute__((warn_unused_result));

/* Replaces the Bearer token (copied) for the next connection; the current
 * one, if any, is kept. Returns 0, or -ENOMEM, or -EINVAL for a client that
 * does not use a Bearer token. */
int ssec_set_bearer(struct ssec *s, const char *token) __attribute__((warn_unused_result));

/* True while a stream is accepted and being read. */
bool ssec_connected(const struct ssec *s);

/* Messages delivered and connections accepted since ssec_new. */
unsigned long ssec_messages(const struct ssec *s);
unsigned long ssec_connections(const struct ssec *s);

/* The last failure: an HTTP status (>= 100), a negative errno, or 0 when the
 * stream has not failed since it was last accepted; errstr says it in words
 * ("" when err is 0). */
int ssec_err(const struct ssec *s);
const char *ssec_errstr(const struct ssec *s);

/* Closes the connection and frees the client without calling back. Safe
 * from inside the client's own callbacks. NULL is ignored. */
void ssec_free(struct ssec *s);

#endif

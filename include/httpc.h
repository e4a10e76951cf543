/* httpc.h: a pool of keep-alive HTTP/1.1 connections for JSON POSTs, signed
 * as the gateway signs, or carrying an agent's Bearer token.
 *
 * The simulator's client side of the gateway and agent protocols, and the
 * agent client's (hotline-agent), which also reads with GET. A pool owns N
 * connections to one server; each carries one request at a time, and requests
 * beyond that wait in a FIFO. Every request is signed at the moment it is
 * written (auth.h: X-Hotline-Timestamp is the current second, so a request
 * that waited or is retried is never stale). The pool does not retry: what to
 * do about a failure is the caller's policy.
 *
 * Runs on the caller's libevent loop; nothing here blocks except resolving a
 * host name once in httpc_new.
 */
#ifndef HOTLINE_HTTPC_H
#define HOTLINE_HTTPC_H

#include <stdbool.h>
#include <stddef.h>

/* The longest Bearer token httpc_post_json_bearer takes. */
#define HTTPC_TOKEN_MAX 512
/* The longest extra header value httpc_post_json_header takes. */
#define HTTPC_HEADER_VALUE_MAX 512

struct event_base;
struct httpc;

struct httpc_response {
	int status;          /* HTTP status; 0 when no response arrived */
	const char *failure; /* when status is 0: "timeout", "connection failed", ... */
	const char *body;    /* the response body, NUL-terminated; "" when none */
	size_t body_len;
	int retry_after_s;      /* Retry-After in seconds, -1 when absent or not a number */
	bool idempotent_replay; /* Idempotent-Replay: true */
};

/* Called exactly once per request that httpc_post_json accepted, unless the
 * pool is freed first. The response and its strings are valid only inside the
 * callback. The callback may post new requests. */
typedef void (*httpc_done_fn)(const struct httpc_response *response, void *arg);

/* A pool of `connections` connections to url ("http://host:port", an optional
 * path prefix allowed), signing with secret (copied). timeout_ms bounds each
 * request's connect, write and wait for the answer. Returns NULL with the
 * reason in err. */
struct httpc *httpc_new(struct event_base *base, const char *url, const char *secret,
			unsigned connections, int timeout_ms, char *err, size_t err_len)
	__attribute__((warn_unused_result));

/* Queues a POST of body (Content-Type: application/json) to path, which is
 * appended to the url's path ("/" when both are empty). body is not copied:
 * it must stay unchanged until done is called. Returns 0, or -ENOMEM. */
int httpc_post_json(struct httpc *c, const char *path, const char *body, size_t body_len,
		    httpc_done_fn done, void *arg) __attribute__((warn_unused_result));

/* The same, with "Authorization: Bearer <token>" instead of the signature
 * (an agent's request), or with no credentials at all when token is NULL
 * (the agent's login). token is copied. Returns 0, -ENOMEM, or -EINVAL for
 * an empty token, one longer than HTTPC_TOKEN_MAX or one holding spaces or
 * control characters. */
int httpc_post_json_bearer(struct httpc *c, const char *path, const char *body, size_t body_len,
			   const char *token, httpc_done_fn done, void *arg)
	__attribute__((warn_unused_result));

/* The same as httpc_post_json (signed), with one more header, e.g.
 * "Idempotency-Key: <key>"; name and value are copied. Returns 0, -ENOMEM,
 * or -EINVAL for an empty name or value, a name holding anything but
 * letters, digits and '-', or a value longer than HTTPC_HEADER_VALUE_MAX or
 * holding control characters. */
int httpc_post_json_header(struct httpc *c, const char *path, const char *body, size_t body_len,
			   const char *name, const char *value, httpc_done_fn done, void *arg)
	__attribute__((warn_unused_result));

/* Queues a GET of path (which may carry a query string) with
 * "Authorization: Bearer <token>", or, when token is NULL, signed with the
 * pool's secret over the empty body (the supervisors' views take either).
 * Answered like a POST; the agent client's reads (its state, lists, views).
 * Returns 0, -ENOMEM, or -EINVAL for a token httpc_post_json_bearer would
 * refuse. */
int httpc_get(struct httpc *c, const char *path, const char *token, httpc_done_fn done,
	      void *arg) __attribute__((warn_unused_result));

/* Requests accepted and not yet completed (queued or on a connection). */
size_t httpc_pending(const struct httpc *c);

/* Closes every connection. Requests still pending are dropped without their
 * callbacks. Must not be called from inside a callback. */
void httpc_free(struct httpc *c);

#endif

/* auth.h: request signing shared by the broker, the simulator and the benches.
 *
 * A signed request carries two headers:
 *   X-Hotline-Timestamp: <unix seconds>
 *   X-Hotline-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>." || body)>
 * The broker accepts a timestamp within the configured tolerance of its own
 * clock and compares the MAC in constant time (libsodium).
 */
#ifndef HOTLINE_AUTH_H
#define HOTLINE_AUTH_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_HEADER_TIMESTAMP "X-Hotline-Timestamp"
#define AUTH_HEADER_SIGNATURE "X-Hotline-Signature"
/* "v1=" + 64 hex digits + NUL */
#define AUTH_SIGNATURE_LEN 68

enum auth_result {
	AUTH_OK = 0,
	AUTH_MISSING,       /* a header is absent */
	AUTH_BAD_TIMESTAMP, /* not a decimal number of seconds */
	AUTH_STALE,         /* outside the tolerance window */
	AUTH_BAD_SIGNATURE, /* malformed or not matching */
};

/* Must be called once before any other auth_ function (initialises libsodium).
 * Returns 0 or -1. */
int auth_init(void) __attribute__((warn_unused_result));

/* Writes "v1=<hex>" for timestamp and body into out (AUTH_SIGNATURE_LEN bytes). */
void auth_sign(const char *secret, int64_t timestamp, const void *body, size_t body_len,
	       char out[AUTH_SIGNATURE_LEN]);

/* Checks the two header values (either may be NULL) against body at time now.
 * Constant-time in the signature comparison. */
enum auth_result auth_verify(const char *secret, const char *timestamp_header,
			     const char *signature_header, const void *body, size_t body_len,
			     int64_t now, int64_t tolerance_s);

/* A short English description of a result, for error bodies. */
const char *auth_result_message(enum auth_result r);

#endif

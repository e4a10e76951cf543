/* auth.c: HMAC-SHA256 request signatures (see auth.h for the wire form). */
#include "auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

int auth_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

static void auth_mac(const char *secret, int64_t timestamp, const void *body, size_t body_len,
		     unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256_state st;
	char prefix[32];
	int n = snprintf(prefix, sizeof prefix, "%lld.", (long long)timestamp);

	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)prefix, (unsigned long long)n);
	crypto_auth_hmacsha256_update(&st, body, body_len);
	crypto_auth_hmacsha256_final(&st, mac);
}

void auth_sign(const char *secret, int64_t timestamp, const void *body, size_t body_len,
	       char out[AUTH_SIGNATURE_LEN])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];

	auth_mac(secret, timestamp, body, body_len, mac);
	memcpy(out, "v1=", 3);
	sodium_bin2hex(out + 3, AUTH_SIGNATURE_LEN - 3, mac, sizeof mac);
}

/* Strict decimal parse: digits only, no sign, no spaces, fits in int64. */
static int auth_parse_timestamp(const char *s, int64_t *out)
{
	char *end;

	if (s == NULL || *s < '0' || *s > '9' || strlen(s) > 18)
		return -1;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

enum auth_result auth_verify(const char *secret, const char *timestamp_header,
			     const char *signature_header, const void *body, size_t body_len,
			     int64_t now, int64_t tolerance_s)
{
	int64_t ts;
	unsigned char want[crypto_auth_hmacsha256_BYTES];
	unsigned char got[crypto_auth_hmacsha256_BYTES];
	size_t got_len = 0;

	if (timestamp_header == NULL || signature_header == NULL)
		return AUTH_MISSING;
	if (auth_parse_timestamp(timestamp_header, &ts) != 0)
		return AUTH_BAD_TIMESTAMP;
	if (ts > now + tolerance_s || ts < now - tolerance_s)
		return AUTH_STALE;
	if (strncmp(signature_header, "v1=", 3) != 0 ||
	    strlen(signature_header) != AUTH_SIGNATURE_LEN - 1)
		return AUTH_BAD_SIGNATURE;
	if (sodium_hex2bin(got, sizeof got, signature_header + 3, AUTH_SIGNATURE_LEN - 4, NULL,
			   &got_len, NULL) != 0 ||
	    got_len != sizeof got)
		return AUTH_BAD_SIGNATURE;
	auth_mac(secret, ts, body, body_len, want);
	return sodium_memcmp(want, got, sizeof want) == 0 ? AUTH_OK : AUTH_BAD_SIGNATURE;
}

const char *auth_result_message(enum auth_result r)
{
	switch (r) {
	case AUTH_OK:
		return "ok";
	case AUTH_MISSING:
		return "missing " AUTH_HEADER_TIMESTAMP " or " AUTH_HEADER_SIGNATURE " header";
	case AUTH_BAD_TIMESTAMP:
		return AUTH_HEADER_TIMESTAMP " is not a number of seconds since the epoch";
	case AUTH_STALE:
		return AUTH_HEADER_TIMESTAMP " is outside the allowed clock skew";
	case AUTH_BAD_SIGNATURE:
		return AUTH_HEADER_SIGNATURE " does not match the body";
	}
	return "unknown";
}

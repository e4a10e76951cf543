/* privacy.h: how caller numbers are handled everywhere.
 *
 * A number is normalised (digits only; a leading +86/0086 country code
 * dropped), looked up by a keyed hash (HMAC-SHA256 with the configured key, so
 * a database dump alone cannot be reversed by enumerating numbers), and shown
 * masked: the first three and last four digits kept ("138****5678").
 */
#ifndef HOTLINE_PRIVACY_H
#define HOTLINE_PRIVACY_H

#include <stddef.h>

#define PRIVACY_NUMBER_MAX 32
#define PRIVACY_HASH_BYTES 32

/* Normalises raw into out (PRIVACY_NUMBER_MAX bytes). Returns 0, or -1 if raw is
 * not a phone number (no digits, other characters than digits, spaces, '-',
 * '+', or longer than 20 digits). */
int privacy_normalise_number(const char *raw, char out[PRIVACY_NUMBER_MAX])
	__attribute__((warn_unused_result));

/* Masks a (normalised) number into out: "138****5678"; short numbers keep
 * only their last digit visible. */
void privacy_mask_number(const char *number, char out[PRIVACY_NUMBER_MAX]);

/* Keyed hash of a normalised number. */
void privacy_hash_number(const unsigned char *key, size_t key_len, const char *number,
			 unsigned char out[PRIVACY_HASH_BYTES]);

#endif

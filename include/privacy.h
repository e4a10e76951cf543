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

/* Sealing: personal data kept so that only the broker can read it back
 * (libsodium secretbox, XSalsa20-Poly1305, a random nonce per value). The
 * key is derived from the configured text with a keyed BLAKE2b, so any
 * text of 32 characters or more serves. A sealed value is nonce + box. */
#define PRIVACY_SEAL_OVERHEAD 40 /* crypto_secretbox_NONCEBYTES + MACBYTES */

/* Seals len bytes of plain into out (len + PRIVACY_SEAL_OVERHEAD bytes). */
void privacy_seal(const char *key_text, const void *plain, size_t len, unsigned char *out);

/* Opens a sealed value of len bytes into out (len - PRIVACY_SEAL_OVERHEAD
 * bytes, plus a NUL written after them). Returns the plain length, or -1
 * when the value was not sealed with this key or was altered. */
long privacy_open(const char *key_text, const unsigned char *sealed, size_t len, char *out)
	__attribute__((warn_unused_result));

#endif

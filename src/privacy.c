/* privacy.c: normalising, masking and hashing caller numbers. */
#include "privacy.h"

#include <string.h>

#include <sodium.h>

int privacy_normalise_number(const char *raw, char out[PRIVACY_NUMBER_MAX])
{
	size_t n = 0;
	const char *p = raw;

	if (raw == NULL)
		return -1;
	if (*p == '+')
		p++;
	for (; *p; p++) {
		if (*p >= '0' && *p <= '9') {
			if (n >= 20)
				return -1;
			out[n++] = *p;
		} else if (*p != ' ' && *p != '-') {
			return -1;
		}
	}
	out[n] = '\0';
	if (n == 0)
		return -1;
	/* Drop the Chinese country code in its two written forms. */
	if (raw[0] == '+' && n > 2 && strncmp(out, "86", 2) == 0)
		memmove(out, out + 2, n - 1);
	else if (n > 4 && strncmp(out, "0086", 4) == 0)
		memmove(out, out + 4, n - 3);
	return 0;
}

void privacy_mask_number(const char *number, char out[PRIVACY_NUMBER_MAX])
{
	size_t n = strlen(number);

	if (n >= PRIVACY_NUMBER_MAX)
		n = PRIVACY_NUMBER_MAX - 1;
	if (n >= 8) {
		memcpy(out, number, 3);
		memset(out + 3, '*', n - 7);
		memcpy(out + n - 4, number + n - 4, 4);
	} else {
		memset(out, '*', n);
		if (n > 0)
			out[n - 1] = number[n - 1];
	}
	out[n] = '\0';
}

void privacy_hash_number(const unsigned char *key, size_t key_len, const char *number,
			 unsigned char out[PRIVACY_HASH_BYTES])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, key_len);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)number, strlen(number));
	crypto_auth_hmacsha256_final(&st, out);
}

static void privacy_seal_key(const char *key_text, unsigned char key[crypto_secretbox_KEYBYTES])
{
	static const unsigned char context[] = "hotline privacy seal v1";
	crypto_generichash(key, crypto_secretbox_KEYBYTES, (const unsigned char *)key_text,
			   strlen(key_text), context, sizeof context - 1);
}

void privacy_seal(const char *key_text, const void *plain, size_t len, unsigned char *out)
{
	unsigned char key[crypto_secretbox_KEYBYTES];
	_Static_assert(PRIVACY_SEAL_OVERHEAD == crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES,
		       "seal overhead");
	privacy_seal_key(key_text, key);
	randombytes_buf(out, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(out + crypto_secretbox_NONCEBYTES, plain, len, out, key);
	sodium_memzero(key, sizeof key);
}

long privacy_open(const char *key_text, const unsigned char *sealed, size_t len, char *out)
{
	unsigned char key[crypto_secretbox_KEYBYTES];
	if (len < PRIVACY_SEAL_OVERHEAD)
		return -1;
	privacy_seal_key(key_text, key);
	int rc = crypto_secretbox_open_easy((unsigned char *)out, sealed + crypto_secretbox_NONCEBYTES,
					    len - crypto_secretbox_NONCEBYTES, sealed, key);
	sodium_memzero(key, sizeof key);
	if (rc != 0)
		return -1;
	out[len - PRIVACY_SEAL_OVERHEAD] = '\0';
	return (long)(len - PRIVACY_SEAL_OVERHEAD);
}

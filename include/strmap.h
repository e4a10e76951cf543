/* strmap.h: an open-addressing hash map from byte-string keys to pointers.
 *
 * Keys are copied into the map; values are the caller's. Used for the
 * broker's calls-in-progress and event-id tables, where lookups happen on
 * every request, so it avoids per-lookup allocation. Not thread-safe (the
 * broker has one loop).
 */
#ifndef HOTLINE_STRMAP_H
#define HOTLINE_STRMAP_H

#include <stddef.h>

struct strmap;

struct strmap *strmap_new(void);
void strmap_free(struct strmap *m);

/* Returns the value for key, or NULL. */
void *strmap_get(const struct strmap *m, const void *key, size_t key_len);

/* Sets key to value (replacing any). Returns 0, or -1 when out of memory. */
int strmap_put(struct strmap *m, const void *key, size_t key_len, void *value)
	__attribute__((warn_unused_result));

/* Removes key; returns the value it had, or NULL. */
void *strmap_remove(struct strmap *m, const void *key, size_t key_len);

size_t strmap_count(const struct strmap *m);

/* Calls fn for each entry (do not modify the map inside fn). The key is
 * NUL-terminated after key_len bytes. */
void strmap_each(const struct strmap *m,
		 void (*fn)(const char *key, size_t key_len, void *value, void *arg), void *arg);

#endif

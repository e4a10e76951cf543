/* strmap.c: open addressing with linear probing and backward-shift deletion,
 * so there are no tombstones and lookups stay short under churn. */
#include "strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct strmap_slot {
	char *key; /* NULL when empty */
	size_t key_len;
	uint64_t hash;
	void *value;
};

struct strmap {
	struct strmap_slot *slots;
	size_t cap; /* power of two */
	size_t count;
};

/* FNV-1a, 64 bit: keys are short ids, for which it is fast and spreads well. */
static uint64_t strmap_hash(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h ^ (h >> 29);
}

struct strmap *strmap_new(void)
{
	struct strmap *m = calloc(1, sizeof *m);
	if (m == NULL)
		return NULL;
	m->cap = 64;
	m->slots = calloc(m->cap, sizeof *m->slots);
	if (m->slots == NULL) {
		free(m);
		return NULL;
	}
	return m;
}

void strmap_free(struct strmap *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->cap; i++)
		free(m->slots[i].key);
	free(m->slots);
	free(m);
}

static size_t strmap_find(const struct strmap *m, const void *key, size_t len, uint64_t h)
{
	size_t mask = m->cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		const struct strmap_slot *s = &m->slots[i];
		if (s->key == NULL)
			return i;
		if (s->hash == h && s->key_len == len && memcmp(s->key, key, len) == 0)
			return i;
	}
}

void *strmap_get(const struct strmap *m, const void *key, size_t key_len)
{
	size_t i = strmap_find(m, key, key_len, strmap_hash(key, key_len));
	return m->slots[i].key ? m->slots[i].value : NULL;
}

static int strmap_grow(struct strmap *m)
{
	size_t ncap = m->cap * 2;
	struct strmap_slot *ns = calloc(ncap, sizeof *ns);
	if (ns == NULL)
		return -1;
	for (size_t i = 0; i < m->cap; i++) {
		struct strmap_slot *s = &m->slots[i];
		if (s->key == NULL)
			continue;
		size_t j = s->hash & (ncap - 1);
		while (ns[j].key != NULL)
			j = (j + 1) & (ncap - 1);
		ns[j] = *s;
	}
	free(m->slots);
	m->slots = ns;
	m->cap = ncap;
	return 0;
}

int strmap_put(struct strmap *m, const void *key, size_t key_len, void *value)
{
	if ((m->count + 1) * 4 > m->cap * 3 && strmap_grow(m) != 0)
		return -1;
	uint64_t h = strmap_hash(key, key_len);
	size_t i = strmap_find(m, key, key_len, h);
	struct strmap_slot *s = &m->slots[i];
	if (s->key == NULL) {
		s->key = malloc(key_len + 1);
		if (s->key == NULL)
			return -1;
		memcpy(s->key, key, key_len);
		s->key[key_len] = '\0';
		s->key_len = key_len;
		s->hash = h;
		m->count++;
	}
	s->value = value;
	return 0;
}

void *strmap_remove(struct strmap *m, const void *key, size_t key_len)
{
	size_t mask = m->cap - 1;
	size_t i = strmap_find(m, key, key_len, strmap_hash(key, key_len));
	if (m->slots[i].key == NULL)
		return NULL;
	void *value = m->slots[i].value;
	free(m->slots[i].key);
	m->slots[i].key = NULL;
	m->count--;
	/* Backward-shift: move later entries of the probe run into the hole. */
	for (size_t j = (i + 1) & mask; m->slots[j].key != NULL; j = (j + 1) & mask) {
		size_t home = m->slots[j].hash & mask;
		int between = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
		if (!between) {
			m->slots[i] = m->slots[j];
			m->slots[j].key = NULL;
			i = j;
		}
	}
	return value;
}

size_t strmap_count(const struct strmap *m)
{
	return m->count;
}

void strmap_each(const struct strmap *m,
		 void (*fn)(const char *key, size_t key_len, void *value, void *arg), void *arg)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key != NULL)
			fn(m->slots[i].key, m->slots[i].key_len, m->slots[i].value, arg);
}

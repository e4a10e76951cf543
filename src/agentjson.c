/* agentjson.c: the agent client's readers of the broker's JSON answers
 * (see agentjson.h); shared by the agent's screen and the wallboard, so
 * that both read an answer alike. */
#include "agentjson.h"

#include <string.h>

#include "timeutil.h"

json_t *agentjson_load_list(const char *body, size_t len, const char *key, json_t **list)
{
	json_t *o = json_loadb(body, len, 0, NULL);
	*list = json_object_get(o, key);
	if (!json_is_array(*list)) {
		json_decref(o);
		*list = NULL;
		return NULL;
	}
	return o;
}

void agentjson_copy(char *dst, size_t cap, const char *src)
{
	size_t n = 0;
	if (src != NULL) {
		while (n + 1 < cap && src[n] != '\0')
			n++;
		/* Cut short: back to the start of the character cut. */
		if (src[n] != '\0')
			while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
				n--;
		if (n > 0 && dst != src)
			memmove(dst, src, n);
	}
	dst[n] = '\0';
}

const char *agentjson_str(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v != NULL ? v : "";
}

int64_t agentjson_time(json_t *o, const char *key)
{
	int64_t usec = 0;
	const char *v = json_string_value(json_object_get(o, key));
	if (v == NULL || timeutil_parse_rfc3339(v, &usec) != 0)
		return 0;
	return usec;
}

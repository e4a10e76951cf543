/* agentjson.h: reading the broker's JSON answers into the fixed fields of
 * the agent client's models (pure).
 *
 * The agent's screen (agentmodel.c) and the wallboard (wallmodel.c) read
 * the same answers the same way: a member that is missing or of another
 * type reads as empty (or 0), never as an error, so that a broker newer
 * than the client still fills in what both know; and text is cut to its
 * field at a character boundary, so that a long Chinese name never ends in
 * half a character on the terminal.
 */
#ifndef HOTLINE_AGENTJSON_H
#define HOTLINE_AGENTJSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Parses body (len bytes) and finds its array member key: the parsed
 * document, which the caller frees with json_decref and which owns
 * *list; or NULL, with nothing to free, when body is not JSON or the
 * member is missing or not an array (the answer is not the one asked). */
json_t *agentjson_load_list(const char *body, size_t len, const char *key, json_t **list);

/* Copies src into dst of cap (at least 1) bytes, NUL-terminated, cut at a
 * UTF-8 character boundary; a NULL src copies "". dst may be src (the text
 * is then only cut). */
void agentjson_copy(char *dst, size_t cap, const char *src);

/* The string member key of o; "" when o is not an object, or the member
 * is missing or not a string. Valid as long as o is. */
const char *agentjson_str(json_t *o, const char *key);

/* The RFC 3339 time member key of o, in microseconds since the epoch; 0
 * when it is missing, not a string or not such a time. */
int64_t agentjson_time(json_t *o, const char *key);

#endif

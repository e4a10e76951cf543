/* agents.h: provisioning call-centre agents for the command-line tools
 * (hotline-admin agent ...): checking what a person typed, reading and hashing
 * passwords, and the blocking writes over db.h, one transaction each. The
 * tables are those of sql/003_agents.sql; the broker never links this module
 * (hashing is slow and these calls block).
 *
 * Error convention: functions return 0, or a negative errno with a sentence in
 * err that says what was wrong and how to fix it:
 *   -EINVAL  the input is malformed (a bad skill, a short password, ...)
 *   -ENOENT  the centre, the agent or the skill named does not exist
 *   -EEXIST  the agent id or the extension is already taken
 *   -EIO     the database failed (its message is in err)
 *   -ENOMEM  out of memory (hashing needs tens of MiB)
 */
#ifndef HOTLINE_AGENTS_H
#define HOTLINE_AGENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "acd.h"
#include "db.h"

#define AGENTS_ID_MAX ACD_ID_MAX           /* as the gateway API's agent field */
#define AGENTS_CENTRE_MAX 32               /* as centres.code */
#define AGENTS_NAME_MAX 100                /* characters, not bytes */
#define AGENTS_EXTENSION_MAX 16            /* digits */
#define AGENTS_SKILL_NAME_MAX ACD_NAME_MAX /* [a-z0-9_] */
#define AGENTS_SKILLS_MAX ACD_SKILLS_MAX   /* what the ACD core holds per agent */
#define AGENTS_PASSWORD_MIN_CHARS 10       /* UTF-8 characters */
#define AGENTS_PASSWORD_MAX_BYTES 1024
#define AGENTS_PASSWORD_HASH_MAX 128 /* crypto_pwhash_STRBYTES, NUL included */

struct agents_skill {
	char name[AGENTS_SKILL_NAME_MAX + 1];
	int level; /* ACD_SKILL_LEVEL_MIN..ACD_SKILL_LEVEL_MAX; 9 is the most skilled */
};

/* Parses a skill spec "NAME:LEVEL" ("booking:5", "mandarin:9"): NAME is 1 to
 * 32 of [a-z0-9_], LEVEL one digit 1..9. The error names the spec and the part
 * that is wrong. */
int agents_parse_skill(const char *spec, struct agents_skill *out, char *err, size_t err_len)
	__attribute__((warn_unused_result));

/* Check what a person typed against the rules of the tables, so that the
 * answer is a sentence rather than a violated constraint. Each returns 0 or
 * -EINVAL with err. */
int agents_check_id(const char *agent_id, char *err, size_t err_len)
	__attribute__((warn_unused_result));
int agents_check_centre(const char *centre, char *err, size_t err_len)
	__attribute__((warn_unused_result));
int agents_check_name(const char *name, char *err, size_t err_len)
	__attribute__((warn_unused_result));
int agents_check_extension(const char *extension, char *err, size_t err_len)
	__attribute__((warn_unused_result));

/* Reads a password from f (a password file, or standard input; source names it
 * in errors): one line, whose single trailing "\n" or "\r\n" is removed. Refuses
 * more than one line, a NUL byte, more than AGENTS_PASSWORD_MAX_BYTES bytes and
 * fewer than AGENTS_PASSWORD_MIN_CHARS characters. out needs
 * AGENTS_PASSWORD_MAX_BYTES + 1 bytes; the caller wipes it (sodium_memzero)
 * once it is hashed. Internal copies are wiped before returning. */
int agents_read_password(FILE *f, const char *source, char *out, size_t out_len, char *err,
			 size_t err_len) __attribute__((warn_unused_result));

/* Hashes password with Argon2id (crypto_pwhash_str_alg) into out, a string
 * "$argon2id$v=19$m=...,t=...,p=1$salt$hash" that carries the salt and the
 * cost, for crypto_pwhash_str_verify. Slow on purpose (about a tenth of a
 * second and 64 MiB): never call it on an event loop. */
int agents_hash_password(const char *password, char out[AGENTS_PASSWORD_HASH_MAX], char *err,
			 size_t err_len) __attribute__((warn_unused_result));

/* agents_read_password then agents_hash_password: the clear password lives
 * only inside this call and is wiped before it returns, whatever happened. */
int agents_read_password_hash(FILE *f, const char *source, char out[AGENTS_PASSWORD_HASH_MAX],
			      char *err, size_t err_len) __attribute__((warn_unused_result));

/* A new agent. Every field is required; skills may be empty. */
struct agents_new {
	const char *centre;
	const char *agent_id;
	const char *name;
	const char *extension;
	const struct agents_skill *skills;
	size_t n_skills;
	const char *password_hash; /* from agents_hash_password */
};

/* Inserts the agent and its skills, enabled, in one transaction. -ENOENT for an
 * unknown centre, -EEXIST when the agent id or the extension is taken in the
 * centre (err names the agent holding the extension). */
int agents_add(PGconn *conn, const struct agents_new *agent, char *err, size_t err_len)
	__attribute__((warn_unused_result));

/* A pool of agents created together (hotline-admin agent pool): ids from
 * agentpool.h (PREFIX001 .. PREFIXN), each its own id as its name,
 * extensions first_extension, first_extension + 1, ..., the same skills and
 * the same password hash for all. */
struct agents_pool {
	const char *centre;
	const char *prefix;
	unsigned count; /* 1..AGENTPOOL_MAX */
	unsigned long long first_extension;
	const struct agents_skill *skills;
	size_t n_skills;
	const char *password_hash; /* one agents_hash_password for the whole pool */
};

/* Checks a pool before anything is hashed or written: its size, centre code
 * and skills, and that its ids and extensions follow the API's rules. 0 or
 * -EINVAL with err. */
int agents_check_pool(const struct agents_pool *pool, char *err, size_t err_len)
	__attribute__((warn_unused_result));

/* Creates the agents of the pool that do not exist yet, all in one
 * transaction: an agent whose id exists in the centre is left as it is
 * (so that the command can be run again), counted in *existing; the others
 * are counted in *created. All or nothing: -ENOENT for an unknown centre,
 * -EEXIST when an extension of the pool is held by another agent (err names
 * it), -EINVAL for ids or extensions out of the API's rules or a bad skill
 * list. */
int agents_add_pool(PGconn *conn, const struct agents_pool *pool, unsigned *created,
		    unsigned *existing, char *err, size_t err_len)
	__attribute__((warn_unused_result));

/* Changes to an existing agent; NULL / 0 / false leave a field as it is. */
struct agents_change {
	const char *centre;
	const char *agent_id;
	const char *name;
	const char *extension;
	const struct agents_skill *set_skills; /* added, or their level changed */
	size_t n_set_skills;
	const char *const *drop_skills; /* removed; each must be one the agent has */
	size_t n_drop_skills;
	const char *password_hash; /* a new password: the agent's sessions end */
	bool enable;               /* enable a disabled agent */
};

/* Applies the change in one transaction, all or nothing, and sets updated_at.
 * -ENOENT for an unknown centre or agent or a dropped skill the agent does not
 * have; -EEXIST for an extension another agent holds; -EINVAL when the agent
 * would end with more than AGENTS_SKILLS_MAX skills or a skill is both set and
 * dropped. */
int agents_set(PGconn *conn, const struct agents_change *change, char *err, size_t err_len)
	__attribute__((warn_unused_result));

/* Disables the agent and ends its sessions, in one transaction. The agent, its
 * skills and its state history stay. Sets *was_enabled (may be NULL) so that
 * the caller can say when nothing changed. -ENOENT for an unknown centre or
 * agent. */
int agents_disable(PGconn *conn, const char *centre, const char *agent_id, bool *was_enabled,
		   char *err, size_t err_len) __attribute__((warn_unused_result));

/* Writes one line per agent of centre (NULL: of every centre), ordered by
 * centre and agent id, tab-separated: centre, agent_id, name, extension,
 * enabled ("yes"/"no"), skills as "name:level,..." by name ("" when none).
 * Never the password hash. -ENOENT for an unknown centre. */
int agents_list(PGconn *conn, const char *centre, FILE *out, char *err, size_t err_len)
	__attribute__((warn_unused_result));

#endif

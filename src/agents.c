/* agents.c: agent provisioning for the tools: input checks with sentences for
 * people, password reading and Argon2id hashing, and one transaction per
 * add, set, disable and list over the tables of sql/003_agents.sql. */
#include "agents.h"
#include "agentpool.h"
#include "event.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

_Static_assert(AGENTS_PASSWORD_HASH_MAX == crypto_pwhash_STRBYTES,
	       "AGENTS_PASSWORD_HASH_MAX must be crypto_pwhash_STRBYTES");

/* The cost of a password hash. INTERACTIVE (2 passes over 64 MiB, about a
 * tenth of a second) rather than MODERATE (3 passes over 256 MiB, most of a
 * second): the broker verifies on its worker threads, on a machine of two
 * cores shared with PostgreSQL and Redis, and a shift change logs in a whole
 * floor of agents within minutes; at MODERATE a hundred logins would take a
 * core for over a minute and a few at once would need a GiB. Logins only come
 * from the centre's own network, and a login yields a session token, so the
 * password is verified once per shift, not per request. The cost is stored in
 * each hash string, so it can be raised later and old hashes still verify
 * (crypto_pwhash_str_needs_rehash tells the login path to rehash them). */
#define AGENTS_PWHASH_OPSLIMIT crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE
#define AGENTS_PWHASH_MEMLIMIT crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE

/* --- checking what a person typed ----------------------------------------- */

/* A byte for an error message: itself when printable ASCII, else its code. */
static void agents_describe_byte(unsigned char c, char *out, size_t out_len)
{
	if (c > 0x20 && c < 0x7f)
		snprintf(out, out_len, "'%c'", c);
	else
		snprintf(out, out_len, "byte 0x%02x", c);
}

/* Number of UTF-8 characters in s: the bytes that do not continue one. */
static size_t agents_utf8_length(const char *s, size_t n)
{
	size_t chars = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			chars++;
	return chars;
}

static bool agents_is_skill_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

int agents_parse_skill(const char *spec, struct agents_skill *out, char *err, size_t err_len)
{
	const char *example = "write NAME:LEVEL, e.g. booking:5 or mandarin:9";

	if (spec == NULL || *spec == '\0') {
		snprintf(err, err_len, "skill '': empty; %s", example);
		return -EINVAL;
	}
	const char *colon = strchr(spec, ':');
	if (colon == NULL) {
		snprintf(err, err_len, "skill '%s': the level is missing; %s", spec, example);
		return -EINVAL;
	}
	size_t name_len = (size_t)(colon - spec);
	if (name_len == 0) {
		snprintf(err, err_len, "skill '%s': the name is missing; %s", spec, example);
		return -EINVAL;
	}
	if (name_len > AGENTS_SKILL_NAME_MAX) {
		snprintf(err, err_len, "skill '%s': the name has %zu characters, at most %d", spec,
			 name_len, AGENTS_SKILL_NAME_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < name_len; i++) {
		if (!agents_is_skill_char((unsigned char)spec[i])) {
			char what[16];
			agents_describe_byte((unsigned char)spec[i], what, sizeof what);
			snprintf(err, err_len,
				 "skill '%s': the name may hold only a-z, 0-9 and _, not %s", spec,
				 what);
			return -EINVAL;
		}
	}
	const char *level = colon + 1;
	if (*level == '\0') {
		snprintf(err, err_len,
			 "skill '%s': the level is missing; give a digit from %d to %d after the "
			 "colon (%d is the most skilled)",
			 spec, ACD_SKILL_LEVEL_MIN, ACD_SKILL_LEVEL_MAX, ACD_SKILL_LEVEL_MAX);
		return -EINVAL;
	}
	if (level[0] < '0' + ACD_SKILL_LEVEL_MIN || level[0] > '0' + ACD_SKILL_LEVEL_MAX ||
	    level[1] != '\0') {
		snprintf(err, err_len,
			 "skill '%s': the level '%s' must be one digit from %d to %d (%d is the "
			 "most skilled)",
			 spec, level, ACD_SKILL_LEVEL_MIN, ACD_SKILL_LEVEL_MAX,
			 ACD_SKILL_LEVEL_MAX);
		return -EINVAL;
	}
	memcpy(out->name, spec, name_len);
	out->name[name_len] = '\0';
	out->level = level[0] - '0';
	return 0;
}

int agents_check_id(const char *agent_id, char *err, size_t err_len)
{
	size_t n = strlen(agent_id);

	if (n == 0 || n > AGENTS_ID_MAX) {
		snprintf(err, err_len, "agent id '%s': %zu characters; it needs 1 to %d", agent_id,
			 n, AGENTS_ID_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)agent_id[i];
		if (!event_id_char_ok(c)) {
			char what[16];
			agents_describe_byte(c, what, sizeof what);
			snprintf(err, err_len,
				 "agent id '%s': may hold only A-Z, a-z, 0-9 and . _ : - (as the "
				 "gateway's agent field), not %s",
				 agent_id, what);
			return -EINVAL;
		}
	}
	return 0;
}

int agents_check_centre(const char *centre, char *err, size_t err_len)
{
	size_t n = strlen(centre);

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)centre[i];
		if (!event_centre_char_ok(c)) {
			n = 0;
			break;
		}
	}
	if (n == 0 || n > AGENTS_CENTRE_MAX) {
		snprintf(err, err_len,
			 "centre '%s': a centre code is 1 to %d of a-z, 0-9, _ and -; see "
			 "`hotline-admin centre list`",
			 centre, AGENTS_CENTRE_MAX);
		return -EINVAL;
	}
	return 0;
}

int agents_check_name(const char *name, char *err, size_t err_len)
{
	size_t n = strlen(name);
	size_t chars = agents_utf8_length(name, n);

	if (chars == 0 || chars > AGENTS_NAME_MAX) {
		snprintf(err, err_len, "name '%s': %zu characters; it needs 1 to %d", name, chars,
			 AGENTS_NAME_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c < 0x20 || c == 0x7f) {
			snprintf(err, err_len,
				 "name: holds a control character (byte 0x%02x at %zu); tabs and "
				 "line breaks are not allowed",
				 c, i);
			return -EINVAL;
		}
	}
	return 0;
}

int agents_check_extension(const char *extension, char *err, size_t err_len)
{
	size_t n = strlen(extension);
	bool digits = n > 0;

	for (size_t i = 0; i < n; i++)
		if (extension[i] < '0' || extension[i] > '9')
			digits = false;
	if (!digits || n > AGENTS_EXTENSION_MAX) {
		snprintf(err, err_len,
			 "extension '%s': an extension is 1 to %d digits, the number the gateway "
			 "rings for the agent",
			 extension, AGENTS_EXTENSION_MAX);
		return -EINVAL;
	}
	return 0;
}

/* --- passwords ------------------------------------------------------------ */

int agents_read_password(FILE *f, const char *source, char *out, size_t out_len, char *err,
			 size_t err_len)
{
	/* Room for the longest password, its "\r\n", and one byte to notice more. */
	char buf[AGENTS_PASSWORD_MAX_BYTES + 3];
	size_t n = 0;
	int rc = -EINVAL;

	if (out_len < AGENTS_PASSWORD_MAX_BYTES + 1) {
		snprintf(err, err_len, "reading the password: the buffer is too small");
		return -EINVAL;
	}
	while (n < sizeof buf) {
		size_t got = fread(buf + n, 1, sizeof buf - n, f);
		if (got == 0)
			break;
		n += got;
	}
	if (ferror(f)) {
		snprintf(err, err_len, "reading the password from %s failed", source);
		rc = -EIO;
		goto out;
	}
	if (n == sizeof buf) {
		snprintf(err, err_len, "the password in %s is longer than %d bytes", source,
			 AGENTS_PASSWORD_MAX_BYTES);
		goto out;
	}
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n > AGENTS_PASSWORD_MAX_BYTES) {
		snprintf(err, err_len, "the password in %s is longer than %d bytes", source,
			 AGENTS_PASSWORD_MAX_BYTES);
		goto out;
	}
	if (memchr(buf, '\n', n) != NULL || memchr(buf, '\r', n) != NULL) {
		snprintf(err, err_len,
			 "%s holds more than one line; the password must be its only line", source);
		goto out;
	}
	if (memchr(buf, '\0', n) != NULL) {
		snprintf(err, err_len, "the password in %s holds a NUL byte", source);
		goto out;
	}
	size_t chars = agents_utf8_length(buf, n);
	if (chars < AGENTS_PASSWORD_MIN_CHARS) {
		snprintf(err, err_len,
			 "the password in %s is too short: %zu character(s); it needs at least %d",
			 source, chars, AGENTS_PASSWORD_MIN_CHARS);
		goto out;
	}
	memcpy(out, buf, n);
	out[n] = '\0';
	rc = 0;
out:
	sodium_memzero(buf, sizeof buf);
	return rc;
}

int agents_hash_password(const char *password, char out[AGENTS_PASSWORD_HASH_MAX], char *err,
			 size_t err_len)
{
	if (sodium_init() < 0) {
		snprintf(err, err_len, "hashing the password: libsodium failed to initialise");
		return -EIO;
	}
	if (crypto_pwhash_str_alg(out, password, strlen(password), AGENTS_PWHASH_OPSLIMIT,
				  AGENTS_PWHASH_MEMLIMIT, crypto_pwhash_ALG_ARGON2ID13) != 0) {
		snprintf(err, err_len,
			 "hashing the password: out of memory (Argon2id needs %u MiB here)",
			 (unsigned)(AGENTS_PWHASH_MEMLIMIT >> 20));
		return -ENOMEM;
	}
	return 0;
}

int agents_read_password_hash(FILE *f, const char *source, char out[AGENTS_PASSWORD_HASH_MAX],
			      char *err, size_t err_len)
{
	char password[AGENTS_PASSWORD_MAX_BYTES + 1];
	int rc = agents_read_password(f, source, password, sizeof password, err, err_len);

	if (rc == 0)
		rc = agents_hash_password(password, out, err, err_len);
	sodium_memzero(password, sizeof password);
	return rc;
}

/* --- the database ----------------------------------------------------------- */

/* What a failed statement left: SQLSTATE and the violated constraint, if any,
 * so that a taken key can be explained rather than quoted. */
struct agents_sql_error {
	char sqlstate[6];
	char constraint[64];
};

/* db_exec, keeping the SQLSTATE and constraint name of a failure in e. */
static PGresult *agents_exec(PGconn *conn, const char *sql, int nparams, const char *const *params,
			     struct agents_sql_error *e, char *err, size_t err_len)
{
	PGresult *r = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return r;
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	const char *constraint = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
	const char *message = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	if (e != NULL) {
		snprintf(e->sqlstate, sizeof e->sqlstate, "%s", state ? state : "");
		snprintf(e->constraint, sizeof e->constraint, "%s", constraint ? constraint : "");
	}
	snprintf(err, err_len, "the database refused: %s",
		 message ? message : PQerrorMessage(conn));
	size_t n = strlen(err);
	while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
		err[--n] = '\0';
	PQclear(r);
	return NULL;
}

/* Runs a statement whose result is not needed: 0 or -EIO. */
static int agents_run(PGconn *conn, const char *sql, int nparams, const char *const *params,
		      char *err, size_t err_len)
{
	PGresult *r = agents_exec(conn, sql, nparams, params, NULL, err, err_len);
	if (r == NULL)
		return -EIO;
	PQclear(r);
	return 0;
}

static void agents_rollback(PGconn *conn)
{
	PQclear(PQexec(conn, "ROLLBACK"));
}

/* 1 when the centre is registered, 0 when not, -EIO. */
static int agents_centre_exists(PGconn *conn, const char *centre, char *err, size_t err_len)
{
	const char *params[1] = {centre};
	PGresult *r = agents_exec(conn, "SELECT 1 FROM centres WHERE code = $1", 1, params, NULL,
				  err, err_len);
	if (r == NULL)
		return -EIO;
	int found = PQntuples(r) > 0;
	PQclear(r);
	return found;
}

static int agents_unknown_centre(const char *centre, char *err, size_t err_len)
{
	snprintf(err, err_len,
		 "unknown centre '%s': register it with `hotline-admin centre add %s NAME`, or "
		 "see `hotline-admin centre list`",
		 centre, centre);
	return -ENOENT;
}

/* After an agent was not found (and the transaction rolled back): says whether
 * the centre or the agent is unknown. */
static int agents_not_found(PGconn *conn, const char *centre, const char *agent_id, char *err,
			    size_t err_len)
{
	int exists = agents_centre_exists(conn, centre, err, err_len);
	if (exists < 0)
		return exists;
	if (exists == 0)
		return agents_unknown_centre(centre, err, err_len);
	snprintf(err, err_len,
		 "no agent '%s' in centre '%s': see `hotline-admin agent list --centre %s`, or "
		 "add it with `hotline-admin agent add`",
		 agent_id, centre, centre);
	return -ENOENT;
}

/* Turns a failed write (after its rollback) into advice: which key was taken
 * by whom, or which centre is missing. Other refusals keep the database's
 * message: a constraint the checks above did not foresee is an input error,
 * anything else a database error. */
static int agents_explain(PGconn *conn, const struct agents_sql_error *e, const char *centre,
			  const char *agent_id, const char *extension, char *err, size_t err_len)
{
	if (strcmp(e->constraint, "agents_centre_fkey") == 0)
		return agents_unknown_centre(centre, err, err_len);
	if (strcmp(e->constraint, "agents_pkey") == 0) {
		snprintf(err, err_len,
			 "agent '%s' already exists in centre '%s': change it with `hotline-admin "
			 "agent set %s --centre %s ...`",
			 agent_id, centre, agent_id, centre);
		return -EEXIST;
	}
	if (strcmp(e->constraint, "agents_extension_unique") == 0 && extension != NULL) {
		const char *params[2] = {centre, extension};
		char holder[AGENTS_ID_MAX + 1] = "another agent";
		PGresult *r = agents_exec(conn,
					  "SELECT agent_id FROM agents WHERE centre = $1 AND "
					  "extension = $2",
					  2, params, NULL, err, err_len);
		if (r != NULL && PQntuples(r) == 1)
			snprintf(holder, sizeof holder, "%s", PQgetvalue(r, 0, 0));
		PQclear(r);
		snprintf(
			err, err_len,
			"extension %s is already used by agent '%s' in centre '%s': choose another "
			"extension, or first move %s with `hotline-admin agent set %s --centre %s "
			"--extension NEW`",
			extension, holder, centre, holder, holder, centre);
		return -EEXIST;
	}
	return strncmp(e->sqlstate, "23", 2) == 0 ? -EINVAL : -EIO;
}

/* Refuses a skill named twice in one command: which level would win? */
static int agents_check_skill_list(const struct agents_skill *skills, size_t n_skills,
				   const char *const *drops, size_t n_drops, char *err,
				   size_t err_len)
{
	if (n_skills > AGENTS_SKILLS_MAX) {
		snprintf(err, err_len, "%zu skills given; an agent has at most %d", n_skills,
			 AGENTS_SKILLS_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n_skills; i++) {
		for (size_t j = i + 1; j < n_skills; j++) {
			if (strcmp(skills[i].name, skills[j].name) == 0) {
				snprintf(err, err_len,
					 "skill '%s' is given twice (levels %d and %d); give it "
					 "once",
					 skills[i].name, skills[i].level, skills[j].level);
				return -EINVAL;
			}
		}
		for (size_t j = 0; j < n_drops; j++) {
			if (strcmp(skills[i].name, drops[j]) == 0) {
				snprintf(err, err_len,
					 "skill '%s' is both set and dropped; give one of "
					 "--skill and --drop-skill",
					 drops[j]);
				return -EINVAL;
			}
		}
	}
	for (size_t i = 0; i < n_drops; i++) {
		for (size_t j = i + 1; j < n_drops; j++) {
			if (strcmp(drops[i], drops[j]) == 0) {
				snprintf(err, err_len, "skill '%s' is dropped twice", drops[i]);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* Inserts or re-levels one skill of the agent. */
static int agents_put_skill(PGconn *conn, const char *centre, const char *agent_id,
			    const struct agents_skill *skill, struct agents_sql_error *e, char *err,
			    size_t err_len)
{
	char level[8];
	snprintf(level, sizeof level, "%d", skill->level);
	const char *params[4] = {centre, agent_id, skill->name, level};
	PGresult *r = agents_exec(conn,
				  "INSERT INTO agent_skills (centre, agent_id, skill, level)"
				  " VALUES ($1, $2, $3, $4)"
				  " ON CONFLICT (centre, agent_id, skill)"
				  " DO UPDATE SET level = excluded.level",
				  4, params, e, err, err_len);
	if (r == NULL)
		return -EIO;
	PQclear(r);
	return 0;
}

/* Inserts the agent's row and its skills inside the caller's transaction.
 * With skip_existing, an agent whose id the centre already has is left as it
 * is and *inserted says false. -EIO with e filled when a statement failed. */
static int agents_insert(PGconn *conn, const struct agents_new *a, bool skip_existing,
			 bool *inserted, struct agents_sql_error *e, char *err, size_t err_len)
{
	const char *params[5] = {a->centre, a->agent_id, a->name, a->extension, a->password_hash};
	PGresult *r = agents_exec(conn,
				  skip_existing ?
					  "INSERT INTO agents (centre, agent_id, name, extension,"
					  " password_hash) VALUES ($1, $2, $3, $4, $5)"
					  " ON CONFLICT ON CONSTRAINT agents_pkey DO NOTHING"
					  " RETURNING 1" :
					  "INSERT INTO agents (centre, agent_id, name, extension,"
					  " password_hash) VALUES ($1, $2, $3, $4, $5) RETURNING 1",
				  5, params, e, err, err_len);
	if (r == NULL)
		return -EIO;
	*inserted = PQntuples(r) > 0;
	PQclear(r);
	for (size_t i = 0; *inserted && i < a->n_skills; i++)
		if (agents_put_skill(conn, a->centre, a->agent_id, &a->skills[i], e, err,
				     err_len) != 0)
			return -EIO;
	return 0;
}

int agents_add(PGconn *conn, const struct agents_new *a, char *err, size_t err_len)
{
	struct agents_sql_error e = {"", ""};
	bool inserted;
	int rc;

	if ((rc = agents_check_skill_list(a->skills, a->n_skills, NULL, 0, err, err_len)) != 0)
		return rc;
	if ((rc = agents_run(conn, "BEGIN", 0, NULL, err, err_len)) != 0)
		return rc;
	if (agents_insert(conn, a, false, &inserted, &e, err, err_len) != 0)
		goto failed;
	return agents_run(conn, "COMMIT", 0, NULL, err, err_len);
failed:
	agents_rollback(conn);
	return agents_explain(conn, &e, a->centre, a->agent_id, a->extension, err, err_len);
}

/* The id and extension of the pool's agent number i, checked as a person's
 * input would be. */
static int agents_pool_member(const struct agents_pool *p, unsigned i, char id[AGENTS_ID_MAX + 1],
			      char extension[AGENTS_EXTENSION_MAX + 1], char *err, size_t err_len)
{
	unsigned long long ext = p->first_extension + i - 1;
	int rc = agentpool_id(p->prefix, i, p->count, id, AGENTS_ID_MAX + 1);

	if (rc != 0) {
		snprintf(err, err_len,
			 "prefix '%s': the agent ids of the pool would be longer than %d "
			 "characters; choose a shorter --prefix",
			 p->prefix, AGENTS_ID_MAX);
		return -EINVAL;
	}
	if ((rc = agents_check_id(id, err, err_len)) != 0)
		return rc;
	int n = snprintf(extension, AGENTS_EXTENSION_MAX + 1, "%llu", ext);
	if (n < 0 || n > AGENTS_EXTENSION_MAX) {
		snprintf(err, err_len,
			 "--first-extension %llu: the pool's last extension would have more "
			 "than %d digits",
			 p->first_extension, AGENTS_EXTENSION_MAX);
		return -EINVAL;
	}
	return 0;
}

int agents_check_pool(const struct agents_pool *p, char *err, size_t err_len)
{
	char id[AGENTS_ID_MAX + 1], extension[AGENTS_EXTENSION_MAX + 1];
	int rc;

	if (p->count == 0 || p->count > AGENTPOOL_MAX) {
		snprintf(err, err_len, "--count %u: a pool has 1 to %d agents", p->count,
			 AGENTPOOL_MAX);
		return -EINVAL;
	}
	if ((rc = agents_check_centre(p->centre, err, err_len)) != 0 ||
	    (rc = agents_check_skill_list(p->skills, p->n_skills, NULL, 0, err, err_len)) != 0)
		return rc;
	/* The longest id and the highest extension are the last agent's. */
	return agents_pool_member(p, p->count, id, extension, err, err_len);
}

int agents_add_pool(PGconn *conn, const struct agents_pool *p, unsigned *created,
		    unsigned *existing, char *err, size_t err_len)
{
	struct agents_sql_error e = {"", ""};
	char id[AGENTS_ID_MAX + 1], extension[AGENTS_EXTENSION_MAX + 1];
	int rc;

	*created = 0;
	*existing = 0;
	if ((rc = agents_check_pool(p, err, err_len)) != 0)
		return rc;
	if ((rc = agents_run(conn, "BEGIN", 0, NULL, err, err_len)) != 0)
		return rc;
	for (unsigned i = 1; i <= p->count; i++) {
		bool inserted;
		if (agents_pool_member(p, i, id, extension, err, err_len) != 0)
			goto failed;
		struct agents_new a = {.centre = p->centre,
				       .agent_id = id,
				       .name = id,
				       .extension = extension,
				       .skills = p->skills,
				       .n_skills = p->n_skills,
				       .password_hash = p->password_hash};
		if (agents_insert(conn, &a, true, &inserted, &e, err, err_len) != 0)
			goto failed;
		if (inserted)
			(*created)++;
		else
			(*existing)++;
	}
	if ((rc = agents_run(conn, "COMMIT", 0, NULL, err, err_len)) != 0) {
		*created = *existing = 0;
		return rc;
	}
	return 0;
failed:
	agents_rollback(conn);
	*created = *existing = 0;
	return agents_explain(conn, &e, p->centre, id, extension, err, err_len);
}

int agents_set(PGconn *conn, const struct agents_change *c, char *err, size_t err_len)
{
	struct agents_sql_error e = {"", ""};
	int rc;

	if ((rc = agents_check_skill_list(c->set_skills, c->n_set_skills, c->drop_skills,
					  c->n_drop_skills, err, err_len)) != 0)
		return rc;
	if ((rc = agents_run(conn, "BEGIN", 0, NULL, err, err_len)) != 0)
		return rc;

	/* NULL parameters keep the column: one statement for every combination. */
	const char *params[6] = {c->centre,    c->agent_id,      c->name,
				 c->extension, c->password_hash, c->enable ? "true" : "false"};
	PGresult *r = agents_exec(conn,
				  "UPDATE agents SET name = coalesce($3, name),"
				  " extension = coalesce($4, extension),"
				  " password_hash = coalesce($5, password_hash),"
				  " enabled = enabled OR $6::boolean, updated_at = now()"
				  " WHERE centre = $1 AND agent_id = $2 RETURNING 1",
				  6, params, &e, err, err_len);
	if (r == NULL)
		goto failed;
	int found = PQntuples(r) > 0;
	PQclear(r);
	if (!found) {
		agents_rollback(conn);
		return agents_not_found(conn, c->centre, c->agent_id, err, err_len);
	}

	for (size_t i = 0; i < c->n_set_skills; i++)
		if (agents_put_skill(conn, c->centre, c->agent_id, &c->set_skills[i], &e, err,
				     err_len) != 0)
			goto failed;
	for (size_t i = 0; i < c->n_drop_skills; i++) {
		const char *drop[3] = {c->centre, c->agent_id, c->drop_skills[i]};
		r = agents_exec(conn,
				"DELETE FROM agent_skills WHERE centre = $1 AND agent_id = $2"
				" AND skill = $3",
				3, drop, &e, err, err_len);
		if (r == NULL)
			goto failed;
		bool dropped = strcmp(PQcmdTuples(r), "0") != 0;
		PQclear(r);
		if (!dropped) {
			agents_rollback(conn);
			snprintf(err, err_len,
				 "agent '%s' in centre '%s' has no skill '%s' to drop: see "
				 "`hotline-admin agent list --centre %s`",
				 c->agent_id, c->centre, c->drop_skills[i], c->centre);
			return -ENOENT;
		}
	}
	if (c->n_set_skills > 0) {
		r = agents_exec(conn,
				"SELECT count(*) FROM agent_skills WHERE centre = $1 AND"
				" agent_id = $2",
				2, params, &e, err, err_len);
		if (r == NULL)
			goto failed;
		long n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
		if (n > AGENTS_SKILLS_MAX) {
			agents_rollback(conn);
			snprintf(err, err_len,
				 "agent '%s' would have %ld skills, at most %d: drop some with "
				 "--drop-skill NAME",
				 c->agent_id, n, AGENTS_SKILLS_MAX);
			return -EINVAL;
		}
	}
	/* Whoever held the old password must log in again. */
	if (c->password_hash != NULL &&
	    agents_run(conn, "DELETE FROM agent_sessions WHERE centre = $1 AND agent_id = $2", 2,
		       params, err, err_len) != 0)
		goto failed;
	return agents_run(conn, "COMMIT", 0, NULL, err, err_len);
failed:
	agents_rollback(conn);
	return agents_explain(conn, &e, c->centre, c->agent_id, c->extension, err, err_len);
}

int agents_disable(PGconn *conn, const char *centre, const char *agent_id, bool *was_enabled,
		   char *err, size_t err_len)
{
	const char *params[2] = {centre, agent_id};
	int rc;

	if ((rc = agents_run(conn, "BEGIN", 0, NULL, err, err_len)) != 0)
		return rc;
	PGresult *r = agents_exec(conn,
				  "SELECT enabled FROM agents WHERE centre = $1 AND agent_id = $2"
				  " FOR UPDATE",
				  2, params, NULL, err, err_len);
	if (r == NULL)
		goto failed;
	if (PQntuples(r) == 0) {
		PQclear(r);
		agents_rollback(conn);
		return agents_not_found(conn, centre, agent_id, err, err_len);
	}
	bool enabled = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (was_enabled != NULL)
		*was_enabled = enabled;
	/* updated_at says when the agent last changed: a repeat changes nothing. */
	if (enabled && agents_run(conn,
				  "UPDATE agents SET enabled = false, updated_at = now()"
				  " WHERE centre = $1 AND agent_id = $2",
				  2, params, err, err_len) != 0)
		goto failed;
	if (agents_run(conn, "DELETE FROM agent_sessions WHERE centre = $1 AND agent_id = $2", 2,
		       params, err, err_len) != 0)
		goto failed;
	return agents_run(conn, "COMMIT", 0, NULL, err, err_len);
failed:
	agents_rollback(conn);
	return -EIO;
}

int agents_list(PGconn *conn, const char *centre, FILE *out, char *err, size_t err_len)
{
	const char *params[1] = {centre};
	int rc;

	/* One snapshot for the centre check and the rows. */
	if ((rc = agents_run(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, err,
			     err_len)) != 0)
		return rc;
	if (centre != NULL) {
		int exists = agents_centre_exists(conn, centre, err, err_len);
		if (exists <= 0) {
			agents_rollback(conn);
			return exists < 0 ? exists : agents_unknown_centre(centre, err, err_len);
		}
	}
	/* Byte order (COLLATE "C"): the same on every server, whatever its locale. */
	PGresult *r = agents_exec(conn,
				  "SELECT a.centre, a.agent_id, a.name, a.extension, a.enabled,"
				  " coalesce(string_agg(s.skill || ':' || s.level, ','"
				  " ORDER BY s.skill COLLATE \"C\"), '')"
				  " FROM agents a LEFT JOIN agent_skills s"
				  " ON s.centre = a.centre AND s.agent_id = a.agent_id"
				  " WHERE $1::text IS NULL OR a.centre = $1"
				  " GROUP BY a.centre, a.agent_id"
				  " ORDER BY a.centre COLLATE \"C\", a.agent_id COLLATE \"C\"",
				  1, params, NULL, err, err_len);
	if (r == NULL) {
		agents_rollback(conn);
		return -EIO;
	}
	for (int i = 0; i < PQntuples(r); i++)
		fprintf(out, "%s\t%s\t%s\t%s\t%s\t%s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
			PQgetvalue(r, i, 2), PQgetvalue(r, i, 3),
			strcmp(PQgetvalue(r, i, 4), "t") == 0 ? "yes" : "no", PQgetvalue(r, i, 5));
	PQclear(r);
	return agents_run(conn, "COMMIT", 0, NULL, err, err_len);
}

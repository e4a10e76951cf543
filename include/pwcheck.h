/* pwcheck.h: password checks (Argon2id, libsodium) on worker threads, with
 * results delivered on the caller's libevent loop; and the login tokens that a
 * successful check earns.
 *
 * Verifying an Argon2id hash costs about a tenth of a second and 64 MiB at the
 * cost agents.c hashes with, so the broker must never do it on its loop. A
 * struct pwcheck owns a few worker threads and a bounded queue; the loop thread
 * submits a check and gets its answer later from a loop callback. Workers never
 * touch libevent: they hand results back through a pipe watched by one event,
 * so the loop needs no evthread_use_pthreads.
 *
 * Threads: every pwcheck_ function is called from the thread that runs the
 * loop given to pwcheck_new (the token helpers from any thread). libsodium
 * must be initialised (sodium_init, or auth_init) before the token helpers;
 * pwcheck_new does it itself.
 *
 * Memory: each running check holds the memory its hash asks for (64 MiB at
 * the agents' cost), so a pwcheck holds up to threads times that while busy.
 * Hashes come from our own database; one that asked for absurd costs would
 * hold a worker for as long as it says.
 */
#ifndef HOTLINE_PWCHECK_H
#define HOTLINE_PWCHECK_H

#include <stddef.h>

struct event_base;
struct pwcheck;

#define PWCHECK_PASSWORD_MAX_BYTES 1024 /* as AGENTS_PASSWORD_MAX_BYTES */
#define PWCHECK_HASH_MAX 128            /* crypto_pwhash_STRBYTES, NUL included */

/* Called exactly once per accepted check, unless pwcheck_cancel (for its arg)
 * or pwcheck_free comes first; always on the loop thread from a loop callback,
 * never from inside pwcheck_submit. result:
 *   0        the password matches the hash;
 *   -EACCES  it does not, or the hash is not a valid Argon2id string;
 *   -ENOMEM  the worker could not get the memory the hash asks for.
 * The callback may submit, cancel, and even pwcheck_free (the free then
 * happens once the callback returns, and no other callback follows). */
typedef void (*pwcheck_done_fn)(void *arg, int result);

/* A checker for base with threads worker threads (at least 1) that holds at
 * most max_pending checks (at least 1). Workers start with every signal
 * blocked, so that signals reach the loop. The checker's one event is added
 * only while checks are pending: an idle checker does not keep
 * event_base_dispatch running. NULL with errno set on failure: EINVAL for a
 * NULL base or a zero count, EIO when libsodium cannot initialise, ENOMEM,
 * or what pipe or pthread_create said. */
struct pwcheck *pwcheck_new(struct event_base *base, unsigned threads, unsigned max_pending);

/* Queues a check of password (password_len bytes, NULs allowed) against hash
 * (a NUL-terminated "$argon2id$..." string, as agents_hash_password writes).
 * Both are copied; the copies are wiped with sodium_memzero once checked, and
 * on cancel and free. Returns
 *   0        accepted: done(arg, result) will follow (see pwcheck_done_fn);
 *   -EAGAIN  max_pending checks are already queued, running or waiting for
 *            their callback: the caller answers 503 or 429;
 *   -EINVAL  a password longer than PWCHECK_PASSWORD_MAX_BYTES, a hash that
 *            does not fit in PWCHECK_HASH_MAX bytes with its NUL, or a NULL
 *            hash, done, or password with a non-zero length;
 *   -ENOMEM  out of memory. */
int pwcheck_submit(struct pwcheck *p, const char *hash, const char *password, size_t password_len,
		   pwcheck_done_fn done, void *arg) __attribute__((warn_unused_result));

/* Forgets every pending check whose arg is arg: its done will not be called
 * (the request went away). Queued and finished ones are dropped at once; one
 * that a worker is running is dropped when the worker finishes. */
void pwcheck_cancel(struct pwcheck *p, void *arg);

/* The checks accepted and not yet delivered or dropped (what max_pending
 * bounds), including cancelled ones that a worker is still running. */
size_t pwcheck_pending(const struct pwcheck *p);

/* Stops the threads (waiting for the checks they are running), drops every
 * pending check without calling its done, wipes the copies and frees p.
 * NULL is allowed. */
void pwcheck_free(struct pwcheck *p);

/* --- login tokens ---------------------------------------------------------
 * A token is given to the client once; only its SHA-256 is stored
 * (agent_sessions.token_sha256 in sql/003_agents.sql). */

#define PWCHECK_TOKEN_CHARS 43 /* base64url of 32 random bytes, no padding */

/* Fills out (PWCHECK_TOKEN_CHARS + 1 bytes, NUL-terminated) with a fresh
 * random token (randombytes_buf, base64url without padding) and sha256 with
 * the SHA-256 of the token text (crypto_hash_sha256). */
void pwcheck_new_token(char out[PWCHECK_TOKEN_CHARS + 1], unsigned char sha256[32]);

/* The SHA-256 of a token a client presented, to look its session up. Returns
 * 0, or -EINVAL (sha256 untouched) if token is NULL or not exactly
 * PWCHECK_TOKEN_CHARS characters of [A-Za-z0-9_-]. */
int pwcheck_token_hash(const char *token, unsigned char sha256[32])
	__attribute__((warn_unused_result));

#endif

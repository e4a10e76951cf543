/* pwcheck.c: Argon2id password checks on worker threads, answered on the
 * caller's loop (see pwcheck.h for the contract), and login tokens.
 *
 * A check is a job on exactly one of three lists, all under one mutex:
 * queued (waiting for a worker), running (a worker holds it) and done
 * (waiting for the loop to deliver it). Workers move jobs from queued to
 * running to done and never free them; the loop thread creates, delivers,
 * cancels and frees them, so the pending count and the event belong to the
 * loop thread alone. A worker that makes the done list non-empty writes one
 * byte to a pipe; the loop, woken by it, empties the done list.
 */
#include "pwcheck.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

_Static_assert(PWCHECK_HASH_MAX == crypto_pwhash_STRBYTES, "a hash is a crypto_pwhash string");
_Static_assert(crypto_hash_sha256_BYTES == 32, "token hashes are 32 bytes");
_Static_assert(PWCHECK_TOKEN_CHARS + 1 ==
		       sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
	       "a token is 32 bytes in base64url without padding");

struct pwcheck_job {
	struct pwcheck_job *prev, *next; /* on queued, running or done */
	bool cancelled;                  /* cancelled while running: dropped once it is done */
	int result;                      /* set by the worker before the job goes to done */
	pwcheck_done_fn done;
	void *arg;
	size_t password_len;
	char hash[PWCHECK_HASH_MAX];
	char password[PWCHECK_PASSWORD_MAX_BYTES];
};

struct pwcheck_list {
	struct pwcheck_job *head, *tail;
};

struct pwcheck {
	/* The loop thread's alone. */
	struct event_base *base;
	struct event *ev_done; /* the pipe's read end; added while pending > 0 */
	bool watching;         /* ev_done is added */
	int pipe_read, pipe_write;
	unsigned max_pending;
	size_t pending;      /* jobs on any list */
	bool delivering;     /* inside pwcheck_on_done */
	bool free_requested; /* pwcheck_free was called from a done callback */
	pthread_t *threads;
	unsigned n_threads; /* started */

	/* Shared with the workers, under lock. */
	pthread_mutex_t lock;
	pthread_cond_t work; /* a job was queued, or stopping was set */
	bool stopping;
	struct pwcheck_list queued, running, done;
};

/* --- lists ------------------------------------------------------------------ */

static void pwcheck_list_append(struct pwcheck_list *l, struct pwcheck_job *job)
{
	job->next = NULL;
	job->prev = l->tail;
	if (l->tail != NULL)
		l->tail->next = job;
	else
		l->head = job;
	l->tail = job;
}

static void pwcheck_list_remove(struct pwcheck_list *l, struct pwcheck_job *job)
{
	if (job->prev != NULL)
		job->prev->next = job->next;
	else
		l->head = job->next;
	if (job->next != NULL)
		job->next->prev = job->prev;
	else
		l->tail = job->prev;
	job->prev = job->next = NULL;
}

/* Moves every job of from whose arg is arg to to. */
static void pwcheck_list_take_arg(struct pwcheck_list *from, struct pwcheck_list *to, void *arg)
{
	struct pwcheck_job *job = from->head;

	while (job != NULL) {
		struct pwcheck_job *next = job->next;
		if (job->arg == arg) {
			pwcheck_list_remove(from, job);
			pwcheck_list_append(to, job);
		}
		job = next;
	}
}

/* Wipes and frees a job that is on no shared list any more (loop thread). */
static void pwcheck_job_free(struct pwcheck *p, struct pwcheck_job *job)
{
	sodium_memzero(job, sizeof *job);
	free(job);
	p->pending--;
}

static void pwcheck_list_free(struct pwcheck *p, struct pwcheck_list *l)
{
	while (l->head != NULL) {
		struct pwcheck_job *job = l->head;
		pwcheck_list_remove(l, job);
		pwcheck_job_free(p, job);
	}
}

/* --- workers ---------------------------------------------------------------- */

/* The check itself. crypto_pwhash_str_verify would also accept an Argon2i
 * string; the contract says Argon2id, so anything else is refused up front.
 * libsodium sets errno to EINVAL on a mismatch and leaves it alone on a
 * string it cannot parse; only a failed allocation leaves ENOMEM. */
static int pwcheck_verify(const char *hash, const char *password, size_t password_len)
{
	static const char prefix[] = crypto_pwhash_argon2id_STRPREFIX;

	if (strncmp(hash, prefix, sizeof prefix - 1) != 0)
		return -EACCES;
	errno = 0;
	if (crypto_pwhash_str_verify(hash, password, password_len) == 0)
		return 0;
	return errno == ENOMEM ? -ENOMEM : -EACCES;
}

/* Tells the loop that the done list has something. Called under lock. A full
 * pipe already holds a wake-up, so a failed write loses nothing. */
static void pwcheck_wake_loop(struct pwcheck *p)
{
	const char byte = 0;
	ssize_t n = write(p->pipe_write, &byte, 1);
	(void)n;
}

/* A worker: takes the oldest queued job, checks it without the lock, wipes the
 * secrets it was given, and hands the result to the loop. Leaves as soon as
 * stopping is set, whatever is still queued (pwcheck_free drops it). */
static void *pwcheck_worker(void *arg)
{
	struct pwcheck *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->stopping && p->queued.head == NULL)
			pthread_cond_wait(&p->work, &p->lock);
		if (p->stopping)
			break;
		struct pwcheck_job *job = p->queued.head;
		pwcheck_list_remove(&p->queued, job);
		pwcheck_list_append(&p->running, job);
		pthread_mutex_unlock(&p->lock);

		/* A running job is this worker's until it is on done: cancel only
		 * marks it and pwcheck_free joins first. */
		int result = pwcheck_verify(job->hash, job->password, job->password_len);
		sodium_memzero(job->password, sizeof job->password);
		sodium_memzero(job->hash, sizeof job->hash);

		pthread_mutex_lock(&p->lock);
		job->result = result;
		pwcheck_list_remove(&p->running, job);
		bool was_empty = p->done.head == NULL;
		pwcheck_list_append(&p->done, job);
		if (was_empty)
			pwcheck_wake_loop(p);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* --- the loop side ------------------------------------------------------------ */

/* Watches the pipe exactly while checks are pending, so that an idle checker
 * does not keep the loop running. Returns 0 or -1 (event_add failed). */
static int pwcheck_watch(struct pwcheck *p)
{
	bool want = p->pending > 0;

	if (want == p->watching)
		return 0;
	if (want ? event_add(p->ev_done, NULL) : event_del(p->ev_done))
		return -1;
	p->watching = want;
	return 0;
}

static void pwcheck_destroy(struct pwcheck *p);

/* The pipe is readable: deliver every finished job, oldest first. One job is
 * taken at a time so that a callback that cancels another arg still reaches
 * the jobs not yet delivered; a job is freed before its callback runs, so the
 * callback sees the slot free. A pwcheck_free from a callback stops delivery
 * and is carried out here, once the callback has returned. */
static void pwcheck_on_done(evutil_socket_t fd, short what, void *arg)
{
	struct pwcheck *p = arg;
	char buf[64];

	while (read(fd, buf, sizeof buf) > 0)
		;
	p->delivering = true;
	while (!p->free_requested) {
		pthread_mutex_lock(&p->lock);
		struct pwcheck_job *job = p->done.head;
		if (job != NULL)
			pwcheck_list_remove(&p->done, job);
		pthread_mutex_unlock(&p->lock);
		if (job == NULL)
			break;

		bool call = !job->cancelled;
		pwcheck_done_fn done = job->done;
		void *done_arg = job->arg;
		int result = job->result;
		pwcheck_job_free(p, job);
		if (call)
			done(done_arg, result);
	}
	p->delivering = false;
	if (p->free_requested) {
		pwcheck_destroy(p);
		return;
	}
	(void)pwcheck_watch(p);
}

struct pwcheck *pwcheck_new(struct event_base *base, unsigned threads, unsigned max_pending)
{
	struct pwcheck *p;
	int fds[2];
	int rc;

	if (base == NULL || threads == 0 || max_pending == 0) {
		errno = EINVAL;
		return NULL;
	}
	if (sodium_init() < 0) {
		errno = EIO;
		return NULL;
	}
	p = calloc(1, sizeof *p);
	if (p == NULL)
		return NULL;
	p->base = base;
	p->max_pending = max_pending;
	p->pipe_read = p->pipe_write = -1;
	if ((rc = pthread_mutex_init(&p->lock, NULL)) != 0) {
		free(p);
		errno = rc;
		return NULL;
	}
	if ((rc = pthread_cond_init(&p->work, NULL)) != 0) {
		pthread_mutex_destroy(&p->lock);
		free(p);
		errno = rc;
		return NULL;
	}

	/* From here on pwcheck_destroy undoes whatever was done. */
	if (pipe(fds) != 0) {
		rc = errno;
		goto fail;
	}
	p->pipe_read = fds[0];
	p->pipe_write = fds[1];
	for (int i = 0; i < 2; i++) {
		if (fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK) != 0 ||
		    fcntl(fds[i], F_SETFD, FD_CLOEXEC) != 0) {
			rc = errno;
			goto fail;
		}
	}
	p->ev_done = event_new(base, p->pipe_read, EV_READ | EV_PERSIST, pwcheck_on_done, p);
	p->threads = calloc(threads, sizeof *p->threads);
	if (p->ev_done == NULL || p->threads == NULL) {
		rc = ENOMEM;
		goto fail;
	}

	/* Workers inherit a mask that blocks every signal: the loop's signal
	 * events, not a worker, should see SIGTERM and SIGHUP. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = 0;
	while (p->n_threads < threads && rc == 0) {
		rc = pthread_create(&p->threads[p->n_threads], NULL, pwcheck_worker, p);
		if (rc == 0)
			p->n_threads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		goto fail;
	return p;

fail:
	pwcheck_destroy(p);
	errno = rc;
	return NULL;
}

int pwcheck_submit(struct pwcheck *p, const char *hash, const char *password, size_t password_len,
		   pwcheck_done_fn done, void *arg)
{
	if (hash == NULL || done == NULL || (password == NULL && password_len > 0) ||
	    password_len > PWCHECK_PASSWORD_MAX_BYTES)
		return -EINVAL;
	size_t hash_len = strnlen(hash, PWCHECK_HASH_MAX);
	if (hash_len == PWCHECK_HASH_MAX)
		return -EINVAL;
	if (p->pending >= p->max_pending)
		return -EAGAIN;

	struct pwcheck_job *job = calloc(1, sizeof *job);
	if (job == NULL)
		return -ENOMEM;
	memcpy(job->hash, hash, hash_len + 1);
	if (password_len > 0)
		memcpy(job->password, password, password_len);
	job->password_len = password_len;
	job->done = done;
	job->arg = arg;
	p->pending++;
	if (pwcheck_watch(p) != 0) {
		pwcheck_job_free(p, job);
		return -ENOMEM;
	}

	pthread_mutex_lock(&p->lock);
	pwcheck_list_append(&p->queued, job);
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

void pwcheck_cancel(struct pwcheck *p, void *arg)
{
	struct pwcheck_list dropped = {NULL, NULL};

	pthread_mutex_lock(&p->lock);
	pwcheck_list_take_arg(&p->queued, &dropped, arg);
	pwcheck_list_take_arg(&p->done, &dropped, arg);
	for (struct pwcheck_job *job = p->running.head; job != NULL; job = job->next)
		if (job->arg == arg)
			job->cancelled = true;
	pthread_mutex_unlock(&p->lock);

	pwcheck_list_free(p, &dropped);
	(void)pwcheck_watch(p);
}

size_t pwcheck_pending(const struct pwcheck *p)
{
	return p->pending;
}

/* Stops and joins the workers (each finishes the job it runs), then drops
 * every job left. Also undoes a half-built pwcheck_new. */
static void pwcheck_destroy(struct pwcheck *p)
{
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);

	pwcheck_list_free(p, &p->queued);
	pwcheck_list_free(p, &p->running);
	pwcheck_list_free(p, &p->done);
	if (p->ev_done != NULL)
		event_free(p->ev_done);
	if (p->pipe_read >= 0)
		close(p->pipe_read);
	if (p->pipe_write >= 0)
		close(p->pipe_write);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->lock);
	free(p->threads);
	free(p);
}

void pwcheck_free(struct pwcheck *p)
{
	if (p == NULL)
		return;
	if (p->delivering) {
		p->free_requested = true;
		return;
	}
	pwcheck_destroy(p);
}

/* --- login tokens --------------------------------------------------------------- */

void pwcheck_new_token(char out[PWCHECK_TOKEN_CHARS + 1], unsigned char sha256[32])
{
	unsigned char raw[32];

	randombytes_buf(raw, sizeof raw);
	sodium_bin2base64(out, PWCHECK_TOKEN_CHARS + 1, raw, sizeof raw,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof raw);
	crypto_hash_sha256(sha256, (const unsigned char *)out, PWCHECK_TOKEN_CHARS);
}

static bool pwcheck_is_base64url(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* Only the alphabet and the length are checked: the token is looked up by the
 * hash of its text, so a string we never issued simply finds no session. */
int pwcheck_token_hash(const char *token, unsigned char sha256[32])
{
	if (token == NULL)
		return -EINVAL;
	for (size_t i = 0; i < PWCHECK_TOKEN_CHARS; i++)
		if (!pwcheck_is_base64url(token[i])) /* stops at a NUL too */
			return -EINVAL;
	if (token[PWCHECK_TOKEN_CHARS] != '\0')
		return -EINVAL;
	crypto_hash_sha256(sha256, (const unsigned char *)token, PWCHECK_TOKEN_CHARS);
	return 0;
}

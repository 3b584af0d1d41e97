/* A writer thread per stream output and the bounded queue in front of it
 * (writer.h states the rules). The main thread formats into a reusable
 * memory buffer through a stdio stream (fopencookie), so formats write to a
 * FILE as they would to a file, and hands the buffer over with a pointer
 * swap under the mutex. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "fmt.h"
#include "log.h"
#include "writer.h"

#define SPARE_MAX 2 /* emptied buffers kept for reuse (large batches fault less) */

struct fb_writer {
	struct fb_writer_opts o;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake; /* to the thread: work, reopen or stop */
	pthread_cond_t idle; /* from the thread: a batch is done */

	/* under mu */
	struct fb_wbatch *head, *tail; /* waiting */
	struct fb_wbatch *inflight; /* being written */
	struct fb_wbatch *spare;
	uint32_t nspare;
	uint32_t queued; /* waiting + the one being written */
	size_t bytes;
	bool reopen, stopping, closed;
	bool incident; /* dropping since the last time it caught up */
	uint64_t progress_ns; /* last byte written (or batch begun), atomic */
	uint64_t incident_drops;
	uint64_t written, dropped, failed;

	/* main thread only */
	FILE *mf;
	struct fb_wbatch *cur; /* the batch being formatted */
};

/* the writer of the calling thread, for the I/O helpers' progress */
static __thread struct fb_writer *tl_writer;

static void progress(void)
{
	if (tl_writer)
		__atomic_store_n(&tl_writer->progress_ns, fb_now_ns(), __ATOMIC_RELAXED);
}

uint64_t fb_writer_stall_ns(uint64_t interval_ns)
{
	uint64_t min = FB_WRITER_STALL_MS * 1000000ull;

	return 2 * interval_ns > min ? 2 * interval_ns : min;
}

/* stdio writes of the main thread's stream land here */
static ssize_t mem_write(void *cookie, const char *p, size_t n)
{
	struct fb_writer *w = cookie;
	struct fb_wbatch *b = w->cur;

	if (!b) {
		errno = EINVAL;
		return -1;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 1 << 16;
		char *d;

		while (cap < b->len + n)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d)
			return -1;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return (ssize_t)n;
}

static void batch_free(struct fb_wbatch *b)
{
	if (b)
		free(b->data);
	free(b);
}

/* under mu: keep a few emptied buffers for the next batches */
static void recycle(struct fb_writer *w, struct fb_wbatch *b)
{
	if (w->nspare >= SPARE_MAX) {
		batch_free(b);
		return;
	}
	b->len = 0;
	b->next = w->spare;
	w->spare = b;
	w->nspare++;
}

static void msg(const struct fb_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* one line, not interleaved with the other thread's messages */
static void msg(const struct fb_writer *w, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	flockfile(stderr);
	fb_err("output %s: %s\n", w->o.name, line);
	funlockfile(stderr);
}

static void *run(void *arg)
{
	struct fb_writer *w = arg;
	char why[256];

	/* cancelled only inside the I/O helpers (fb_writer__free at exit) */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	tl_writer = w;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct fb_wbatch *b;
		uint64_t recovered = 0;
		bool failed_now = false;
		int rc;

		while (!w->head && !w->reopen && !w->stopping)
			pthread_cond_wait(&w->wake, &w->mu);
		if (w->reopen) {
			w->reopen = false;
			pthread_mutex_unlock(&w->mu);
			if (w->o.reopen && !w->closed)
				w->o.reopen(w->o.ctx);
			pthread_mutex_lock(&w->mu);
			continue;
		}
		b = w->head;
		if (!b)
			break; /* stopping, nothing left */
		w->head = b->next;
		if (!w->head)
			w->tail = NULL;
		w->inflight = b;
		progress();
		pthread_mutex_unlock(&w->mu);

		why[0] = '\0';
		rc = w->o.write(w->o.ctx, b, why, sizeof(why));

		pthread_mutex_lock(&w->mu);
		w->inflight = NULL;
		w->queued--;
		w->bytes -= b->len;
		recycle(w, b);
		if (!rc) {
			w->written++;
			/* caught up: written, and nothing more waiting */
			if (w->incident && !w->head) {
				recovered = w->incident_drops;
				w->incident = false;
				w->incident_drops = 0;
			}
		} else if (rc == -EPIPE) {
			/* the reader went away: the run ends; nothing more is written */
			w->closed = true;
			while ((b = w->head)) {
				w->head = b->next;
				recycle(w, b);
			}
			w->tail = NULL;
			w->queued = 0;
			w->bytes = 0;
		} else {
			w->failed++;
			w->dropped++;
			w->incident_drops++;
			failed_now = !w->incident;
			w->incident = true;
		}
		pthread_cond_broadcast(&w->idle);
		if (failed_now || recovered) {
			pthread_mutex_unlock(&w->mu);
			if (failed_now)
				msg(w, "%s; dropping batches until it recovers", why[0] ? why : strerror(-rc));
			else
				msg(w, "writing again; %llu batch%s dropped", (unsigned long long)recovered,
				    recovered == 1 ? "" : "es");
			pthread_mutex_lock(&w->mu);
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct fb_writer *fb_writer__new(const struct fb_writer_opts *o)
{
	cookie_io_functions_t io = { .write = mem_write };
	struct fb_writer *w;
	pthread_condattr_t ca;
	sigset_t all, old;
	int rc;

	if (!o->write) {
		errno = EINVAL;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->o = *o;
	if (!w->o.max_batches)
		w->o.max_batches = FB_WRITER_MAX_BATCHES;
	if (!w->o.max_bytes)
		w->o.max_bytes = FB_WRITER_MAX_BYTES;
	if (!w->o.stall_ns)
		w->o.stall_ns = FB_WRITER_STALL_MS * 1000000ull;
	if (!w->o.name)
		w->o.name = "?";
	w->mf = fopencookie(w, "w", io);
	if (!w->mf) {
		free(w);
		return NULL;
	}
	/* formats write row by row: fewer trips into mem_write */
	setvbuf(w->mf, NULL, _IOFBF, 1 << 16);
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->wake, NULL);
	pthread_cond_init(&w->idle, &ca);
	pthread_condattr_destroy(&ca);
	/* signals are the main thread's (signalfd): the writer takes none */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&w->thread, NULL, run, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		fclose(w->mf);
		pthread_cond_destroy(&w->wake);
		pthread_cond_destroy(&w->idle);
		pthread_mutex_destroy(&w->mu);
		free(w);
		errno = rc;
		return NULL;
	}
	return w;
}

FILE *fb_writer__begin(struct fb_writer *w)
{
	if (!w->cur) {
		pthread_mutex_lock(&w->mu);
		w->cur = w->spare;
		if (w->cur) {
			w->spare = w->cur->next;
			w->nspare--;
		}
		pthread_mutex_unlock(&w->mu);
		if (!w->cur)
			w->cur = calloc(1, sizeof(*w->cur));
	}
	/* whatever an unfinished batch left behind is discarded */
	fflush(w->mf);
	clearerr(w->mf);
	if (w->cur)
		w->cur->len = 0;
	return w->mf;
}

int fb_writer__commit(struct fb_writer *w, uint64_t number, int64_t start_ns, int64_t end_ns)
{
	struct fb_wbatch *b;
	uint64_t stuck_ns = 0;
	bool drop_now = false;
	uint32_t waiting;
	size_t bytes;
	int rc = 0;

	if (fflush(w->mf) || ferror(w->mf) || !w->cur) {
		clearerr(w->mf);
		if (w->cur)
			w->cur->len = 0;
		pthread_mutex_lock(&w->mu);
		w->dropped++;
		pthread_mutex_unlock(&w->mu);
		return -ENOMEM;
	}
	b = w->cur;
	b->number = number;
	b->start_ns = start_ns;
	b->end_ns = end_ns;
	b->next = NULL;

	pthread_mutex_lock(&w->mu);
	if (w->inflight)
		stuck_ns = fb_now_ns() - __atomic_load_n(&w->progress_ns, __ATOMIC_RELAXED);
	if (w->closed) {
		rc = -EPIPE;
	} else if (w->queued && (stuck_ns >= w->o.stall_ns || w->queued >= w->o.max_batches ||
				 w->bytes + b->len > w->o.max_bytes)) {
		w->dropped++;
		w->incident_drops++;
		drop_now = !w->incident;
		w->incident = true;
	} else {
		if (w->tail)
			w->tail->next = b;
		else
			w->head = b;
		w->tail = b;
		w->queued++;
		w->bytes += b->len;
		w->cur = NULL;
		pthread_cond_signal(&w->wake);
	}
	waiting = w->queued;
	bytes = w->bytes;
	pthread_mutex_unlock(&w->mu);
	if (w->cur) /* not handed over: the buffer is reused */
		w->cur->len = 0;
	if (drop_now && stuck_ns >= w->o.stall_ns)
		msg(w, "no progress for %.1f s (%u batch%s waiting); dropping batches until it catches up",
		    stuck_ns / 1e9, waiting, waiting == 1 ? "" : "es");
	else if (drop_now)
		msg(w, "not keeping up (%u batch%s, %.1f MiB waiting); dropping batches until it catches up",
		    waiting, waiting == 1 ? "" : "es", bytes / 1048576.0);
	return rc;
}

void fb_writer__reopen(struct fb_writer *w)
{
	pthread_mutex_lock(&w->mu);
	w->reopen = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->mu);
}

void fb_writer__stats(struct fb_writer *w, struct fb_writer_stats *s)
{
	pthread_mutex_lock(&w->mu);
	s->written = w->written;
	s->dropped = w->dropped;
	s->failed = w->failed;
	s->queued = w->queued;
	s->closed = w->closed;
	pthread_mutex_unlock(&w->mu);
}

static void free_list(struct fb_wbatch *b)
{
	while (b) {
		struct fb_wbatch *n = b->next;

		batch_free(b);
		b = n;
	}
}

bool fb_writer__free(struct fb_writer *w, unsigned wait_ms)
{
	struct timespec dl;
	uint32_t left;
	bool joined = true;

	if (!w)
		return true;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += wait_ms / 1000;
	dl.tv_nsec += (long)(wait_ms % 1000) * 1000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&w->mu);
	w->stopping = true;
	pthread_cond_signal(&w->wake);
	while (w->queued && !w->closed)
		if (pthread_cond_timedwait(&w->idle, &w->mu, &dl) == ETIMEDOUT)
			break;
	left = w->closed ? 0 : w->queued;
	w->dropped += left;
	pthread_mutex_unlock(&w->mu);

	if (left) {
		msg(w, "%u batch%s not written at exit (still waiting after %u ms)", left,
		    left == 1 ? "" : "es", wait_ms);
		/* it is blocked in its output: cancel it there, and do not wait
		 * long for a call that cannot be cancelled */
		pthread_cancel(w->thread);
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_nsec += 200 * 1000000;
		if (dl.tv_nsec >= 1000000000) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000;
		}
		joined = !pthread_timedjoin_np(w->thread, NULL, &dl);
		if (!joined) {
			pthread_detach(w->thread);
			return false; /* its memory stays: the thread may still use it */
		}
	} else {
		pthread_join(w->thread, NULL);
	}
	free_list(w->head);
	batch_free(w->inflight); /* cancelled while writing it */
	free_list(w->spare);
	fclose(w->mf);
	batch_free(w->cur);
	pthread_cond_destroy(&w->wake);
	pthread_cond_destroy(&w->idle);
	pthread_mutex_destroy(&w->mu);
	free(w);
	return joined;
}

/* cancellation is allowed only while blocked here */
static int cancel_on(void)
{
	int old;

	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
	return old;
}

static void cancel_restore(int old)
{
	pthread_setcancelstate(old, NULL);
}

/* write() or, with off, pwrite() at *off, until all n bytes are out;
 * cancellable while in the system call. */
static int io_all(int fd, const char *c, size_t n, off_t *off)
{
	while (n) {
		int old = cancel_on();
		ssize_t r = off ? pwrite(fd, c, n, *off) : write(fd, c, n);
		int e = errno;

		cancel_restore(old);
		if (r < 0) {
			if (e == EINTR)
				continue;
			return -e;
		}
		c += r;
		n -= (size_t)r;
		if (off)
			*off += r;
		progress();
	}
	return 0;
}

int fb_writer_io_write(int fd, const void *p, size_t n)
{
	return io_all(fd, p, n, NULL);
}

int fb_writer_io_pwrite(int fd, const void *p, size_t n, off_t off)
{
	return io_all(fd, p, n, &off);
}

int fb_writer_io_open(const char *path, int flags, mode_t mode)
{
	int old = cancel_on();
	int fd = open(path, flags, mode);
	int e = errno;

	cancel_restore(old);
	return fd < 0 ? -e : fd;
}

/* The writer thread and its bounded queue (writer.c), driven by fake write
 * callbacks: batches arrive whole and in order, a full queue drops whole
 * batches and counts them, a failing output drops and reports once per
 * incident, EPIPE closes, a stuck output is cancelled at exit. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "writer.h"

/* A fake output: appends every batch to a memory log; can be held at a
 * gate (a slow or stuck output) and made to fail with a given errno. */
struct fake {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool hold;
	int fail; /* -errno the next writes return while set */
	char log[4096];
	size_t len;
	int calls, reopens;
	int block_fd; /* >= 0: block writing here (a pipe nobody reads) */
};

static struct fake fk;

static void fake_init(void)
{
	memset(&fk, 0, sizeof(fk));
	pthread_mutex_init(&fk.mu, NULL);
	pthread_cond_init(&fk.cv, NULL);
	fk.block_fd = -1;
}

static int fake_write(void *ctx, const struct fb_wbatch *b, char *why, size_t whylen)
{
	struct fake *f = ctx;
	int rc;

	if (f->block_fd >= 0)
		return fb_writer_io_write(f->block_fd, b->data, b->len);
	pthread_mutex_lock(&f->mu);
	f->calls++;
	while (f->hold)
		pthread_cond_wait(&f->cv, &f->mu);
	rc = f->fail;
	if (rc)
		snprintf(why, whylen, "cannot write batch %llu", (unsigned long long)b->number);
	else if (b->len && f->len + b->len < sizeof(f->log)) {
		memcpy(f->log + f->len, b->data, b->len);
		f->len += b->len;
	}
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static void fake_reopen(void *ctx)
{
	struct fake *f = ctx;

	pthread_mutex_lock(&f->mu);
	f->reopens++;
	snprintf(f->log + f->len, sizeof(f->log) - f->len, "R\n");
	f->len += 2;
	pthread_mutex_unlock(&f->mu);
}

static void gate(bool hold)
{
	pthread_mutex_lock(&fk.mu);
	fk.hold = hold;
	pthread_cond_broadcast(&fk.cv);
	pthread_mutex_unlock(&fk.mu);
}

static struct fb_writer *mk_stall(uint32_t max_batches, size_t max_bytes, uint64_t stall_ns)
{
	struct fb_writer_opts o = {
		.name = "fake", .max_batches = max_batches, .max_bytes = max_bytes, .stall_ns = stall_ns,
		.write = fake_write, .reopen = fake_reopen, .ctx = &fk,
	};
	struct fb_writer *w = fb_writer__new(&o);

	cr_assert_not_null(w);
	return w;
}

static struct fb_writer *mk(uint32_t max_batches, size_t max_bytes)
{
	return mk_stall(max_batches, max_bytes, 0);
}

/* one batch: "b<N> row<i>" lines */
static int put(struct fb_writer *w, uint64_t n, int rows)
{
	FILE *f = fb_writer__begin(w);
	int i;

	for (i = 0; i < rows; i++)
		fprintf(f, "b%llu r%d\n", (unsigned long long)n, i);
	return fb_writer__commit(w, n, (int64_t)n * 1000, (int64_t)n * 1000 + 999);
}

/* waits (bounded) until the writer has nothing queued and made calls */
static void settle(struct fb_writer *w, int calls)
{
	struct fb_writer_stats s;
	int i;

	for (i = 0; i < 5000; i++) {
		fb_writer__stats(w, &s);
		pthread_mutex_lock(&fk.mu);
		bool done = !s.queued && fk.calls >= calls;
		pthread_mutex_unlock(&fk.mu);
		if (done)
			return;
		usleep(1000);
	}
	cr_assert_fail("writer did not settle");
}

/* the fake is in its write call (holding the batch) */
static void wait_calls(int calls)
{
	int i, c = 0;

	for (i = 0; i < 5000; i++) {
		pthread_mutex_lock(&fk.mu);
		c = fk.calls;
		pthread_mutex_unlock(&fk.mu);
		if (c >= calls)
			return;
		usleep(1000);
	}
	cr_assert_fail("writer made %d calls, expected %d", c, calls);
}

TestSuite(writer, .init = fake_init, .timeout = 20);

Test(writer, batches_whole_in_order)
{
	struct fb_writer *w = mk(0, 0);
	struct fb_writer_stats s;

	cr_assert_eq(put(w, 1, 2), 0);
	cr_assert_eq(put(w, 2, 0), 0);
	cr_assert_eq(put(w, 3, 1), 0);
	settle(w, 3);
	fb_writer__stats(w, &s);
	cr_assert_eq(s.written, 3);
	cr_assert_eq(s.dropped, 0);
	cr_assert(fb_writer__free(w, 1000));
	fk.log[fk.len] = '\0';
	cr_assert_str_eq(fk.log, "b1 r0\nb1 r1\nb3 r0\n");
}

/* a batch larger than the stream's own buffer and the first allocation */
Test(writer, large_batch)
{
	struct fb_writer *w = mk(0, 0);
	FILE *f = fb_writer__begin(w);
	char *big = malloc(300000);
	struct fb_writer_stats s;
	int i;

	for (i = 0; i < 300000; i++)
		big[i] = (char)('a' + i % 26);
	fwrite(big, 1, 300000, f);
	fk.block_fd = -1;
	/* the fake keeps only the first 4 KiB: count the call */
	cr_assert_eq(fb_writer__commit(w, 1, 0, 1), 0);
	settle(w, 1);
	fb_writer__stats(w, &s);
	cr_assert_eq(s.written, 1);
	cr_assert(fb_writer__free(w, 1000));
	free(big);
}

/* A slow output: the one being written and max-1 more wait; later batches
 * are dropped whole, counted, and the others come out whole once it moves. */
Test(writer, full_queue_drops_whole_batches, .init = cr_redirect_stderr)
{
	struct fb_writer *w;
	struct fb_writer_stats s;
	char err[512] = "";
	FILE *e;
	uint64_t n;

	fake_init();
	w = mk(3, 0);
	gate(true);
	cr_assert_eq(put(w, 1, 1), 0);
	wait_calls(1); /* batch 1 is in the output's hands */
	for (n = 2; n <= 6; n++)
		cr_assert_eq(put(w, n, 1), 0); /* never blocks */
	fb_writer__stats(w, &s);
	cr_assert_eq(s.queued, 3);
	cr_assert_eq(s.dropped, 3); /* 4, 5, 6 */
	cr_assert_eq(s.failed, 0);
	gate(false);
	settle(w, 3);
	cr_assert_eq(put(w, 7, 1), 0);
	settle(w, 4);
	fb_writer__stats(w, &s);
	cr_assert_eq(s.written, 4);
	cr_assert_eq(s.dropped, 3);
	cr_assert(fb_writer__free(w, 1000));
	fk.log[fk.len] = '\0';
	cr_assert_str_eq(fk.log, "b1 r0\nb2 r0\nb3 r0\nb7 r0\n");
	fflush(stderr);
	e = cr_get_redirected_stderr();
	cr_assert_gt(fread(err, 1, sizeof(err) - 1, e), 0);
	/* once per incident: one line when it starts, one when it is over */
	cr_assert_str_eq(err, "flowbatch: output fake: not keeping up (3 batches, 0.0 MiB waiting); "
			      "dropping batches until it catches up\n"
			      "flowbatch: output fake: writing again; 3 batches dropped\n");
}

/* A burst (the consumer catching up after it was stopped) to an output
 * that keeps writing: every batch queued, none dropped. */
Test(writer, burst_queued_whole)
{
	struct fb_writer *w;
	struct fb_writer_stats s;
	uint64_t n;

	fake_init();
	w = mk(0, 0);
	gate(true); /* the whole burst arrives before the first write ends */
	cr_assert_eq(put(w, 1, 1), 0);
	wait_calls(1);
	for (n = 2; n <= 40; n++)
		cr_assert_eq(put(w, n, 1), 0);
	gate(false);
	settle(w, 40);
	fb_writer__stats(w, &s);
	cr_assert_eq(s.written, 40);
	cr_assert_eq(s.dropped, 0);
	cr_assert(fb_writer__free(w, 1000));
}

/* A stuck output (no byte written for stall_ns): batches are dropped from
 * then on, though the queue has room; it takes them again once it writes. */
Test(writer, stuck_drops_after_stall, .init = cr_redirect_stderr)
{
	struct fb_writer *w;
	struct fb_writer_stats s;
	char err[512] = "";
	FILE *e;

	fake_init();
	w = mk_stall(0, 0, 400 * 1000000ull);
	gate(true);
	cr_assert_eq(put(w, 1, 1), 0);
	wait_calls(1);
	cr_assert_eq(put(w, 2, 1), 0); /* stuck for less than 0.4 s: queued */
	usleep(800 * 1000);
	cr_assert_eq(put(w, 3, 1), 0); /* stuck for 0.8 s: dropped */
	fb_writer__stats(w, &s);
	cr_assert_eq(s.queued, 2);
	cr_assert_eq(s.dropped, 1);
	gate(false);
	settle(w, 2);
	cr_assert_eq(put(w, 4, 1), 0);
	settle(w, 3);
	fb_writer__stats(w, &s);
	cr_assert_eq(s.written, 3);
	cr_assert_eq(s.dropped, 1);
	cr_assert(fb_writer__free(w, 1000));
	fk.log[fk.len] = '\0';
	cr_assert_str_eq(fk.log, "b1 r0\nb2 r0\nb4 r0\n");
	fflush(stderr);
	e = cr_get_redirected_stderr();
	cr_assert_gt(fread(err, 1, sizeof(err) - 1, e), 0);
	cr_assert(!strncmp(err, "flowbatch: output fake: no progress for 0.", 42), "%s", err);
	cr_assert(strstr(err, " s (2 batches waiting); dropping batches until it catches up\n"
			      "flowbatch: output fake: writing again; 1 batch dropped\n"), "%s", err);
}

/* the stall time of an output: 2 batch intervals, at least 2 s */
Test(writer, stall_time)
{
	cr_assert_eq(fb_writer_stall_ns(250 * 1000000ull), 2000 * 1000000ull);
	cr_assert_eq(fb_writer_stall_ns(10 * 1000000000ull), 20 * 1000000000ull);
}

/* the byte bound: a waiting queue refuses a batch that would pass it, an
 * empty one takes any batch */
Test(writer, byte_bound)
{
	struct fb_writer *w;
	struct fb_writer_stats s;

	fake_init();
	w = mk(8, 40);
	gate(true);
	cr_assert_eq(put(w, 1, 10), 0); /* 60 bytes: taken, the queue was empty */
	wait_calls(1);
	cr_assert_eq(put(w, 2, 5), 0); /* 30 + 60 > 40 */
	fb_writer__stats(w, &s);
	cr_assert_eq(s.queued, 1);
	cr_assert_eq(s.dropped, 1);
	gate(false);
	settle(w, 1);
	cr_assert_eq(put(w, 3, 5), 0);
	settle(w, 2);
	fb_writer__stats(w, &s);
	cr_assert_eq(s.written, 2);
	cr_assert_eq(s.dropped, 1);
	cr_assert(fb_writer__free(w, 1000));
}

/* a failing output (ENOSPC): each batch dropped whole and counted, one
 * line when it starts and one when it writes again */
Test(writer, write_errors_once_per_incident, .init = cr_redirect_stderr)
{
	struct fb_writer *w;
	struct fb_writer_stats s;
	char err[512] = "";
	FILE *e;

	fake_init();
	w = mk(0, 0);
	cr_assert_eq(put(w, 1, 1), 0);
	settle(w, 1);
	fk.fail = -ENOSPC;
	cr_assert_eq(put(w, 2, 1), 0);
	settle(w, 2);
	cr_assert_eq(put(w, 3, 1), 0);
	settle(w, 3);
	cr_assert_eq(put(w, 4, 1), 0);
	settle(w, 4);
	fk.fail = 0;
	cr_assert_eq(put(w, 5, 1), 0);
	settle(w, 5);
	fb_writer__stats(w, &s);
	cr_assert_eq(s.written, 2);
	cr_assert_eq(s.dropped, 3);
	cr_assert_eq(s.failed, 3);
	cr_assert(fb_writer__free(w, 1000));
	fk.log[fk.len] = '\0';
	cr_assert_str_eq(fk.log, "b1 r0\nb5 r0\n");
	fflush(stderr);
	e = cr_get_redirected_stderr();
	cr_assert_gt(fread(err, 1, sizeof(err) - 1, e), 0);
	cr_assert_str_eq(err, "flowbatch: output fake: cannot write batch 2; dropping batches until it recovers\n"
			      "flowbatch: output fake: writing again; 3 batches dropped\n");
}

/* the reader went away: refused from then on, not counted as drops */
Test(writer, epipe_closes)
{
	struct fb_writer *w;
	struct fb_writer_stats s;

	fake_init();
	w = mk(0, 0);
	fk.fail = -EPIPE;
	cr_assert_eq(put(w, 1, 1), 0);
	settle(w, 1);
	cr_assert_eq(put(w, 2, 1), -EPIPE);
	fb_writer__stats(w, &s);
	cr_assert(s.closed);
	cr_assert_eq(s.written, 0);
	cr_assert_eq(s.dropped, 0);
	cr_assert(fb_writer__free(w, 1000));
}

/* SIGHUP's reopen runs on the writer thread between two batches */
Test(writer, reopen_between_batches)
{
	struct fb_writer *w;
	int i;

	fake_init();
	w = mk(0, 0);
	cr_assert_eq(put(w, 1, 1), 0);
	settle(w, 1);
	fb_writer__reopen(w);
	for (i = 0; i < 5000 && !__atomic_load_n(&fk.reopens, __ATOMIC_SEQ_CST); i++)
		usleep(1000);
	cr_assert_eq(put(w, 2, 1), 0);
	settle(w, 2);
	cr_assert(fb_writer__free(w, 1000));
	fk.log[fk.len] = '\0';
	cr_assert_str_eq(fk.log, "b1 r0\nR\nb2 r0\n");
}

/* At exit a stuck output (blocked writing to a pipe nobody reads) is waited
 * for only so long: what it holds is counted as dropped and it is cancelled. */
Test(writer, stuck_at_exit, .init = cr_redirect_stderr)
{
	struct fb_writer *w;
	struct fb_writer_stats s;
	char fill[4096], err[512] = "";
	int p[2];
	FILE *e;

	fake_init();
	cr_assert_eq(pipe2(p, O_NONBLOCK), 0);
	memset(fill, 'x', sizeof(fill));
	while (write(p[1], fill, sizeof(fill)) > 0)
		;
	cr_assert_eq(fcntl(p[1], F_SETFL, 0), 0); /* blocking from here */
	fk.block_fd = p[1];
	w = mk(0, 0);
	cr_assert_eq(put(w, 1, 1), 0);
	cr_assert_eq(put(w, 2, 1), 0);
	fb_writer__stats(w, &s);
	cr_assert_eq(s.queued, 2);
	cr_assert(fb_writer__free(w, 50));
	close(p[0]);
	close(p[1]);
	fflush(stderr);
	e = cr_get_redirected_stderr();
	cr_assert_gt(fread(err, 1, sizeof(err) - 1, e), 0);
	cr_assert_str_eq(err, "flowbatch: output fake: 2 batches not written at exit (still waiting after 50 ms)\n");
}

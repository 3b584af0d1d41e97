/* The pipeline: drain protocol, ticks, dispatch by record type, ledger
 * plumbing and the end-of-run verdict. See pipeline.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include "flows.h"
#include "fmt.h"
#include "log.h"
#include "loop.h"
#include "out.h"
#include "pipeline.h"
#include "ring.h"

#define MAX_ROUNDS 1000000 /* bound on close-and-drain rounds in one drain */

struct fb_pipeline {
	struct fb_pipeline_opts o;
	struct fb_batcher *b;
	struct fb_ring **rings;
	uint32_t nrings, ncpus;
	struct fb_counters *percpu;
	uint64_t *lost;
	int tfd;
	uint64_t drains, wakeups;
	/* run totals of the packet family, for the verdict line */
	uint64_t parse_errors, overflow;
};

static uint64_t clock_cb(void *ctx)
{
	return fb_now_ns();
}

static int emit_cb(void *ctx, struct fb_batch_view *v)
{
	struct fb_pipeline *p = ctx;
	const struct fb_flows_view *fv = v->fam[FB_REC_PKT];

	if (fv) {
		p->parse_errors += fv->parse_errors;
		p->overflow += fv->overflow;
	}
	v->ifaces = p->o.ifaces;
	v->nifaces = p->o.nifaces;
	return fb_outputs__write(p->o.outs, v);
}

static int records_cb(void *ctx, const void *recs, uint32_t n)
{
	struct fb_pipeline *p = ctx;

	return fb_batcher__add(p->b, recs, n);
}

static void bad_cb(void *ctx, uint8_t type, uint32_t len, const void *rec)
{
	struct fb_pipeline *p = ctx;

	fb_batcher__unknown(p->b, 1);
	fb_dbg("record of type %u and length %u has no family; counted as unknown\n", type, len);
}

struct fb_pipeline *fb_pipeline__new(const struct fb_pipeline_opts *o)
{
	struct fb_ring_handlers h = { 0 };
	struct fb_batcher_opts bo = o->batch;
	struct fb_pipeline *p = calloc(1, sizeof(*p));
	uint32_t i;
	int t, e;

	bo.emit = emit_cb;
	bo.emit_ctx = p;
	bo.clock = clock_cb;
	if (!p) {
		bo.emit = NULL; /* makes new fail, freeing the families */
		fb_batcher__free(fb_batcher__new(&bo));
		errno = ENOMEM;
		return NULL;
	}
	p->o = *o;
	p->tfd = -1;
	p->ncpus = bo.ncpus;
	p->b = fb_batcher__new(&bo);
	if (!p->b)
		goto err;
	for (t = 0; t < FB_REC_TYPES; t++) {
		if (!bo.fams[t].ops)
			continue;
		h.by_type[t].len = bo.fams[t].ops->rec_len;
		h.by_type[t].fn = records_cb;
		h.by_type[t].ctx = p;
	}
	h.bad = bad_cb;
	h.bad_ctx = p;
	p->percpu = calloc(p->ncpus, sizeof(*p->percpu));
	p->lost = calloc(p->ncpus, sizeof(*p->lost));
	p->rings = calloc(o->nrings ? o->nrings : 1, sizeof(*p->rings));
	if (!p->percpu || !p->lost || !p->rings) {
		errno = ENOMEM;
		goto err;
	}
	for (i = 0; i < o->nrings; i++) {
		p->rings[i] = o->ring_new ? o->ring_new(o->ring_new_ctx, i, &h)
					  : fb_ring__new(o->ring_fds[i], o->ring_size, &h);
		if (!p->rings[i]) {
			e = errno;
			fb_err("cannot map the ring buffer: %s\n", strerror(e));
			errno = e;
			goto err;
		}
		p->nrings++;
	}
	return p;
err:
	e = errno;
	fb_pipeline__free(p);
	errno = e;
	return NULL;
}

void fb_pipeline__free(struct fb_pipeline *p)
{
	uint32_t i;

	if (!p)
		return;
	if (p->tfd >= 0)
		close(p->tfd);
	for (i = 0; i < p->nrings; i++)
		fb_ring__free(p->rings[i]);
	free(p->rings);
	free(p->lost);
	free(p->percpu);
	fb_batcher__free(p->b);
	free(p);
}

/* Drains every ring. Each ring is drained only up to the batcher's horizon
 * (the end of the next open window); when a ring still holds records past
 * it, every ring has given all it had below it, so the oldest window is
 * complete and is closed before going on. Records thus land in their own
 * batch whatever order the rings are read in, even after a stall. */
static int drain(struct fb_pipeline *p)
{
	uint64_t t0 = fb_now_ns(), horizon;
	int64_t n;
	uint32_t i, round;
	bool blocked, any;
	int err = 0;

	p->drains++;
	for (round = 0; round < MAX_ROUNDS; round++) {
		horizon = fb_batcher__done(p->b) ? UINT64_MAX : fb_batcher__horizon(p->b);
		any = false;
		for (i = 0; i < p->nrings; i++) {
			n = fb_ring__drain_until(p->rings[i], 0, horizon, &blocked);
			if (n < 0) {
				err = (int)n;
				goto out;
			}
			any |= blocked;
		}
		if (!any)
			break;
		err = fb_batcher__close_window(p->b, fb_now_ns());
		if (err)
			break;
	}
out:
	fb_batcher__charge(p->b, fb_now_ns() - t0);
	return err;
}

/* Losses after each CPU's last record, from the kernel's counters, for
 * every family that is on. */
static int sync_lost(struct fb_pipeline *p)
{
	uint32_t i;
	int t, err;

	for (t = 0; t < FB_REC_TYPES; t++) {
		if (!p->o.batch.fams[t].ops)
			continue;
		err = p->o.counters(p->o.counters_ctx, (uint8_t)t, p->percpu);
		if (err)
			return err;
		for (i = 0; i < p->ncpus; i++)
			p->lost[i] = p->percpu[i].lost;
		fb_batcher__sync_lost(p->b, (uint8_t)t, p->lost);
	}
	return 0;
}

/* After a drain (and a tick): stop on an error or once -c is complete. */
static int after_drain(struct fb_pipeline *p, int err)
{
	if (err)
		return err;
	return fb_batcher__done(p->b) ? 1 : 0;
}

static int on_ring(void *ctx, int fd, uint32_t events)
{
	struct fb_pipeline *p = ctx;

	p->wakeups++;
	return after_drain(p, drain(p));
}

static int on_tick(void *ctx, int fd, uint32_t events)
{
	struct fb_pipeline *p = ctx;
	uint64_t exp;
	int err;

	if (read(fd, &exp, sizeof(exp)) < 0 && errno != EAGAIN)
		return -errno;
	err = drain(p);
	if (!err)
		err = sync_lost(p);
	if (!err)
		err = fb_batcher__tick(p->b, fb_now_ns());
	return after_drain(p, err);
}

int fb_pipeline__register(struct fb_pipeline *p, struct fb_loop *loop)
{
	uint32_t i;
	int err;

	p->tfd = fb_timer_fd(fb_batcher__next_deadline(p->b), p->o.batch.interval_ns);
	if (p->tfd < 0)
		return p->tfd;
	for (i = 0; i < p->nrings; i++) {
		err = fb_loop__add(loop, fb_ring__fd(p->rings[i]), EPOLLIN | EPOLLET, on_ring, p);
		if (err)
			return err;
	}
	return fb_loop__add(loop, p->tfd, EPOLLIN, on_tick, p);
}

bool fb_pipeline__done(const struct fb_pipeline *p)
{
	return fb_batcher__done(p->b);
}

int fb_pipeline__finish(struct fb_pipeline *p, enum fb_finish how)
{
	int err = drain(p);

	if (!err)
		err = sync_lost(p);
	if (!err)
		err = fb_batcher__finish(p->b, fb_now_ns(), how);
	return err;
}

static void kernel_sum(struct fb_pipeline *p, uint8_t type, struct fb_counters *k)
{
	uint32_t i;

	memset(k, 0, sizeof(*k));
	if (p->o.counters(p->o.counters_ctx, type, p->percpu))
		return;
	for (i = 0; i < p->ncpus; i++) {
		k->seen += p->percpu[i].seen;
		k->lost += p->percpu[i].lost;
		k->wakeups += p->percpu[i].wakeups;
	}
}

bool fb_pipeline__verdict(struct fb_pipeline *p)
{
	struct fb_run_totals t;
	struct fb_counters k;
	bool all = true, exact;
	int ty;

	fb_batcher__totals(p->b, &t);
	for (ty = 0; ty < FB_REC_TYPES; ty++) {
		const struct fb_family_ops *ops = p->o.batch.fams[ty].ops;
		const struct fb_ledger *l = &t.led[ty];

		if (!ops)
			continue;
		kernel_sum(p, (uint8_t)ty, &k);
		/* the ledger's seen is records + lost, batch by batch */
		exact = l->records + l->lost == k.seen && l->lost == k.lost && l->seen == k.seen;
		all &= exact;
		if (ty == FB_REC_PKT)
			fprintf(stderr,
				"flowbatch: %llu batches: seen %llu = records %llu + ring lost %llu; "
				"parse errors %llu, late %llu, overflow %llu; kernel counted seen %llu, lost %llu%s\n",
				(unsigned long long)t.batches, (unsigned long long)l->seen,
				(unsigned long long)l->records, (unsigned long long)l->lost,
				(unsigned long long)p->parse_errors, (unsigned long long)t.late,
				(unsigned long long)p->overflow, (unsigned long long)k.seen,
				(unsigned long long)k.lost, exact ? " (ledger exact)" : " (LEDGER MISMATCH)");
		else
			fprintf(stderr,
				"flowbatch: %s events: seen %llu = records %llu + ring lost %llu; "
				"kernel counted seen %llu, lost %llu%s\n",
				ops->name, (unsigned long long)l->seen, (unsigned long long)l->records,
				(unsigned long long)l->lost, (unsigned long long)k.seen, (unsigned long long)k.lost,
				exact ? " (ledger exact)" : " (LEDGER MISMATCH)");
		fb_dbg("%s: %llu forced wake-ups by the kernel\n", ops->name, (unsigned long long)k.wakeups);
	}
	if (t.unknown)
		fb_warn("%llu records of unknown type or length were counted, not aggregated\n",
			(unsigned long long)t.unknown);
	fb_dbg("%llu drains, %llu ring wake-ups, %llu reordered\n", (unsigned long long)p->drains,
	       (unsigned long long)p->wakeups, (unsigned long long)t.reordered);
	return all;
}

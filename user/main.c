/* flowbatch: wiring only. Parse options, load and attach the programs, run
 * the event loop (ring, batch timer, signals, deadline, link removal), then
 * tear down in reverse order and flush the last batch. */
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include "batch.h"
#include "capture.h"
#include "cli.h"
#include "log.h"
#include "loop.h"
#include "netwatch.h"
#include "ring.h"
#include "sink.h"

enum stop_reason { STOP_NONE, STOP_SIGNAL, STOP_DEADLINE, STOP_COUNT, STOP_IFACE_GONE, STOP_PIPE, STOP_ERROR };

struct app {
	struct fb_config cfg;
	struct fb_capture *cap;
	struct fb_ring **rings; /* one per CPU, or one shared */
	uint32_t nrings;
	struct fb_batcher *batcher;
	const struct fb_sink_ops *sink_ops;
	void *sink;
	struct fb_counters *percpu;
	uint64_t *lost;
	enum stop_reason why;
	int err; /* -errno behind STOP_ERROR */
	uint32_t gone_ifindex;
	uint64_t drains, wakeups_seen;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t clock_cb(void *ctx)
{
	return mono_ns();
}

static int64_t mono_to_epoch(void)
{
	struct timespec r, m1, m2;

	clock_gettime(CLOCK_MONOTONIC, &m1);
	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m2);
	return ((int64_t)r.tv_sec * 1000000000 + r.tv_nsec) -
	       (((int64_t)m1.tv_sec * 1000000000 + m1.tv_nsec) / 2 +
		((int64_t)m2.tv_sec * 1000000000 + m2.tv_nsec) / 2);
}

static int emit_cb(void *ctx, const struct fb_batch_view *v)
{
	struct app *a = ctx;

	return a->sink_ops->write_batch(a->sink, v);
}

static int ring_cb(void *ctx, const struct fb_pkt *recs, uint32_t n)
{
	struct app *a = ctx;

	return fb_batcher__add(a->batcher, recs, n);
}

/* Drains every ring. Each ring is drained only up to the batcher's horizon
 * (the end of the next open window); when a ring still holds records past
 * it, every ring has given all it had below it, so the oldest window is
 * complete and is closed before going on. Records thus land in their own
 * batch whatever order the rings are read in, even after a stall. */
static int drain(struct app *a)
{
	uint64_t t0 = mono_ns(), horizon;
	int64_t n;
	uint32_t i, round;
	bool blocked, any;
	int err = 0;

	a->drains++;
	for (round = 0; round < 1000000; round++) {
		horizon = fb_batcher__done(a->batcher) ? UINT64_MAX : fb_batcher__horizon(a->batcher);
		any = false;
		for (i = 0; i < a->nrings; i++) {
			n = fb_ring__drain_until(a->rings[i], ring_cb, a, 0, horizon, &blocked);
			if (n < 0) {
				err = (int)n;
				goto out;
			}
			any |= blocked;
		}
		if (!any)
			break;
		err = fb_batcher__close_window(a->batcher, mono_ns());
		if (err)
			break;
	}
out:
	fb_batcher__charge(a->batcher, mono_ns() - t0);
	return err;
}

static int stop_on(struct app *a, int err)
{
	if (err == -EPIPE) {
		a->why = STOP_PIPE;
		return 1;
	}
	a->why = STOP_ERROR;
	a->err = err;
	return err;
}

static int sync_lost(struct app *a)
{
	uint32_t i, n = fb_capture__ncpus(a->cap);

	if (fb_capture__counters(a->cap, a->percpu, NULL))
		return -errno;
	for (i = 0; i < n; i++)
		a->lost[i] = a->percpu[i].lost;
	fb_batcher__sync_lost(a->batcher, a->lost);
	return 0;
}

/* After a drain (and a tick): stop on an error or once -c is complete. */
static int after_drain(struct app *a, int err)
{
	if (err)
		return stop_on(a, err);
	if (fb_batcher__done(a->batcher)) {
		a->why = STOP_COUNT;
		return 1;
	}
	return 0;
}

static int on_ring(void *ctx, int fd, uint32_t events)
{
	struct app *a = ctx;

	a->wakeups_seen++;
	return after_drain(a, drain(a));
}

static int on_tick(void *ctx, int fd, uint32_t events)
{
	struct app *a = ctx;
	uint64_t exp;
	int err;

	if (read(fd, &exp, sizeof(exp)) < 0 && errno != EAGAIN)
		return stop_on(a, -errno);
	err = drain(a);
	if (!err)
		err = sync_lost(a);
	if (!err)
		err = fb_batcher__tick(a->batcher, mono_ns());
	return after_drain(a, err);
}

static int on_deadline(void *ctx, int fd, uint32_t events)
{
	struct app *a = ctx;

	a->why = STOP_DEADLINE;
	return 1;
}

static int on_signal(void *ctx, int fd, uint32_t events)
{
	struct app *a = ctx;
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return 0;
	if (si.ssi_signo == SIGHUP) /* reserved for reopening file sinks */
		return 0;
	a->why = STOP_SIGNAL;
	return 1;
}

static int on_netlink(void *ctx, int fd, uint32_t events)
{
	struct app *a = ctx;
	const uint32_t *ifs;
	int n = fb_capture__ifaces(a->cap, &ifs);
	int gone = fb_netwatch_read(fd, ifs, n);

	if (gone <= 0)
		return 0;
	a->gone_ifindex = (uint32_t)gone;
	a->why = STOP_IFACE_GONE;
	return 1;
}

static int timer_at(uint64_t first_ns, uint64_t period_ns)
{
	struct itimerspec its = {
		.it_value = { (time_t)(first_ns / 1000000000ull), (long)(first_ns % 1000000000ull) },
		.it_interval = { (time_t)(period_ns / 1000000000ull), (long)(period_ns % 1000000000ull) },
	};
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);

	if (fd < 0)
		return -errno;
	if (timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL)) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

static void summary(struct app *a)
{
	struct fb_run_totals t;
	struct fb_counters k;
	uint64_t alloc_seen;

	fb_batcher__totals(a->batcher, &t);
	if (fb_capture__counters(a->cap, a->percpu, &k))
		memset(&k, 0, sizeof(k));
	alloc_seen = t.packets + t.lost;
	fprintf(stderr,
		"flowbatch: %llu batches: seen %llu = packets %llu + ring lost %llu; "
		"parse errors %llu, late %llu, overflow %llu; kernel counted seen %llu, lost %llu%s\n",
		(unsigned long long)t.batches, (unsigned long long)t.seen,
		(unsigned long long)t.packets, (unsigned long long)t.lost,
		(unsigned long long)t.parse_errors, (unsigned long long)t.late,
		(unsigned long long)t.overflow, (unsigned long long)k.seen,
		(unsigned long long)k.lost,
		alloc_seen == k.seen && t.lost == k.lost ? " (ledger exact)" : " (LEDGER MISMATCH)");
	fb_dbg("%llu drains, %llu ring wake-ups, %llu forced by the kernel, %llu reordered\n",
	       (unsigned long long)a->drains, (unsigned long long)a->wakeups_seen,
	       (unsigned long long)k.wakeups, (unsigned long long)t.reordered);
}

int main(int argc, char **argv)
{
	struct app a = { 0 };
	struct fb_out_ctx octx = { 0 };
	struct fb_batcher_opts bo = { 0 };
	struct fb_loop *loop = NULL;
	char err[512];
	sigset_t mask;
	int sfd = -1, tfd = -1, dfd = -1, nfd = -1, r, rc = 1;
	uint32_t i;
	uint64_t start;

	switch (fb_cli_parse(argc, argv, &a.cfg, stdout, err, sizeof(err))) {
	case FB_CLI_BAD:
		fprintf(stderr, "flowbatch: %s\n", err);
		return 2;
	case FB_CLI_EXIT_OK:
		return 0;
	case FB_CLI_RUN:
		break;
	}
	fb_log_set_level(a.cfg.verbose ? FB_LOG_DEBUG : FB_LOG_WARN);
	if (!a.cfg.n_ifaces) {
		if (fb_default_route_iface(a.cfg.ifaces[0], FB_IFNAMSIZ)) {
			fb_err("no default route to pick an interface from; name one with -i\n");
			return 1;
		}
		a.cfg.n_ifaces = 1;
	}
	if (a.cfg.output == FB_OUT_AUTO)
		a.cfg.output = isatty(STDOUT_FILENO) ? FB_OUT_TABLE : FB_OUT_JSONL;
	if (!a.cfg.top_set)
		a.cfg.top = a.cfg.output == FB_OUT_TABLE ? 20 : 0;

	/* signals arrive through signalfd; a closed stdout is an EPIPE, not a kill */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		fb_err("signalfd: %s\n", strerror(errno));
		return 1;
	}

	a.cap = fb_capture__open(&a.cfg, err, sizeof(err));
	if (!a.cap) {
		fb_err("%s\n", err);
		goto out;
	}
	a.percpu = calloc(fb_capture__ncpus(a.cap), sizeof(*a.percpu));
	a.lost = calloc(fb_capture__ncpus(a.cap), sizeof(*a.lost));
	a.nrings = fb_capture__nrings(a.cap);
	a.rings = calloc(a.nrings, sizeof(*a.rings));
	if (!a.percpu || !a.lost || !a.rings) {
		fb_err("out of memory\n");
		goto out;
	}
	for (i = 0; i < a.nrings; i++) {
		a.rings[i] = fb_ring__new(fb_capture__ring_fd(a.cap, i), fb_capture__ring_size(a.cap));
		if (!a.rings[i]) {
			fb_err("cannot map the ring buffer: %s\n", strerror(errno));
			goto out;
		}
	}

	octx.key_fields = a.cfg.keys.fields;
	octx.mono_to_epoch_ns = mono_to_epoch();
	octx.ifname = fb_capture__ifname;
	octx.ifname_ctx = a.cap;
	/* rows are written in bursts at each batch; flushed after each */
	setvbuf(stdout, NULL, _IOFBF, 1u << 20);
	a.sink_ops = a.cfg.output == FB_OUT_TABLE ? &fb_sink_table : &fb_sink_jsonl;
	a.sink = a.sink_ops->open(stdout, &octx);
	if (!a.sink) {
		fb_err("cannot open output: %s\n", strerror(errno));
		goto out;
	}

	nfd = fb_netwatch_open();
	if (nfd < 0) {
		fb_err("cannot watch interfaces: %s\n", strerror(-nfd));
		goto out;
	}
	start = mono_ns();
	bo.interval_ns = a.cfg.interval_ns;
	bo.grace_ns = a.cfg.grace_ns;
	bo.start_ns = start;
	bo.max_flows = a.cfg.max_flows;
	bo.ncpus = fb_capture__ncpus(a.cap);
	bo.top = a.cfg.top;
	bo.sort_all = a.cfg.output == FB_OUT_TABLE;
	bo.max_batches = a.cfg.count;
	bo.keys = a.cfg.keys;
	bo.emit = emit_cb;
	bo.emit_ctx = &a;
	bo.clock = clock_cb;
	a.batcher = fb_batcher__new(&bo);
	if (!a.batcher) {
		fb_err("cannot allocate flow tables for %u flows: %s\n", a.cfg.max_flows, strerror(errno));
		goto out;
	}

	if (fb_capture__attach(a.cap, err, sizeof(err))) {
		fb_err("%s\n", err);
		goto out;
	}
	fb_dbg("attached to %s%s (%s); %u ring(s) of %llu bytes\n", a.cfg.ifaces[0],
	       a.cfg.n_ifaces > 1 ? " and more" : "", fb_capture__method(a.cap), a.nrings,
	       (unsigned long long)fb_capture__ring_size(a.cap));
	if (isatty(STDERR_FILENO) && a.cfg.output == FB_OUT_TABLE)
		fprintf(stderr, "flowbatch: capturing on %s%s (%s), %.3gs batches; Ctrl-C to stop\n",
			a.cfg.ifaces[0], a.cfg.n_ifaces > 1 ? " and more" : "", fb_capture__method(a.cap),
			a.cfg.interval_ns / 1e9);

	tfd = timer_at(fb_batcher__next_deadline(a.batcher), a.cfg.interval_ns);
	if (a.cfg.duration_ns)
		dfd = timer_at(start + a.cfg.duration_ns, 0);
	loop = fb_loop__new();
	if (tfd < 0 || (a.cfg.duration_ns && dfd < 0) || !loop) {
		fb_err("cannot set up the event loop: %s\n", strerror(errno));
		goto out_detach;
	}
	/* edge-triggered: the ring wakes us only when the kernel forces it */
	r = 0;
	for (i = 0; i < a.nrings && !r; i++)
		r = fb_loop__add(loop, fb_ring__fd(a.rings[i]), EPOLLIN | EPOLLET, on_ring, &a);
	if (!r)
		r = fb_loop__add(loop, tfd, EPOLLIN, on_tick, &a);
	if (!r)
		r = fb_loop__add(loop, sfd, EPOLLIN, on_signal, &a);
	if (!r)
		r = fb_loop__add(loop, nfd, EPOLLIN, on_netlink, &a);
	if (!r && dfd >= 0)
		r = fb_loop__add(loop, dfd, EPOLLIN, on_deadline, &a);
	if (r) {
		fb_err("cannot set up the event loop: %s\n", strerror(-r));
		goto out_detach;
	}

	r = fb_loop__run(loop);
	if (r < 0 && a.why == STOP_NONE) {
		a.why = STOP_ERROR;
		a.err = r;
	}

out_detach:
	/* detach first so the kernel's counters stop, then drain everything:
	 * the final ledger then matches the counters exactly */
	fb_capture__detach(a.cap);
	if (a.why != STOP_NONE && a.why != STOP_PIPE && a.why != STOP_ERROR) {
		r = drain(&a);
		if (!r)
			r = sync_lost(&a);
		if (!r)
			r = fb_batcher__finish(a.batcher, mono_ns(),
					       a.why == STOP_COUNT ? FB_FINISH_COUNT : FB_FINISH_PARTIAL);
		if (r == -EPIPE)
			a.why = STOP_PIPE;
		else if (r) {
			a.why = STOP_ERROR;
			a.err = r;
		}
	}
	if (a.why != STOP_NONE && a.why != STOP_PIPE)
		summary(&a);
	switch (a.why) {
	case STOP_SIGNAL:
	case STOP_DEADLINE:
	case STOP_COUNT:
	case STOP_PIPE:
		rc = 0;
		break;
	case STOP_IFACE_GONE:
		fb_err("interface %s was removed; stopping\n", fb_capture__ifname(a.cap, a.gone_ifindex));
		rc = 1;
		break;
	case STOP_ERROR:
		fb_err("%s\n", strerror(-a.err));
		rc = 1;
		break;
	case STOP_NONE:
		rc = 1;
		break;
	}
out:
	if (a.sink)
		a.sink_ops->close(a.sink);
	fb_loop__free(loop);
	if (dfd >= 0)
		close(dfd);
	if (tfd >= 0)
		close(tfd);
	if (nfd >= 0)
		close(nfd);
	fb_batcher__free(a.batcher);
	for (i = 0; a.rings && i < a.nrings; i++)
		fb_ring__free(a.rings[i]);
	free(a.rings);
	fb_capture__free(a.cap);
	free(a.lost);
	free(a.percpu);
	close(sfd);
	return rc;
}

/* flowbatch: wiring only. Options -> capture -> families and pipeline ->
 * outputs -> event loop -> teardown in reverse order -> exit code. What each
 * step does lives in its module; what main adds is the order, the signals
 * and the reasons a run stops. */
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include "capture.h"
#include "cli.h"
#include "events.h"
#include "flows.h"
#include "fmt.h"
#include "log.h"
#include "loop.h"
#include "netwatch.h"
#include "out.h"
#include "pipeline.h"

enum stop { STOP_NONE, STOP_SIGNAL, STOP_DEADLINE, STOP_COUNT, STOP_IFACES_GONE, STOP_PIPE, STOP_ERROR };

struct app {
	struct fb_config cfg;
	struct fb_capture *cap;
	struct fb_outputs *outs;
	struct fb_pipeline *pipe;
	struct fb_loop *loop;
	struct fb_iface_state ifaces[FB_MAX_IFACES];
	const uint32_t *ifindex; /* capture's, one per interface */
	int sfd, dfd, nfd;
	enum stop why;
	int err; /* -errno behind STOP_ERROR */
};

static int on_signal(void *ctx, int fd, uint32_t events)
{
	struct app *a = ctx;
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return 0;
	if (si.ssi_signo == SIGHUP) { /* logrotate moved the files */
		fb_outputs__reopen(a->outs);
		return 0;
	}
	a->why = STOP_SIGNAL;
	return 1;
}

static int on_deadline(void *ctx, int fd, uint32_t events)
{
	((struct app *)ctx)->why = STOP_DEADLINE;
	return 1;
}

/* An interface went away: the run goes on with the others, and ends when
 * none is left. Deleting one end of a veth pair takes both, so every
 * interface is checked, not only the one netlink named. */
static int on_netlink(void *ctx, int fd, uint32_t events)
{
	struct app *a = ctx;
	int i, left = 0, n = a->cfg.cap.n_ifaces;
	int r = fb_netwatch_read(fd, a->ifindex, n);

	if (r == 0 || (r < 0 && r != -ENOBUFS))
		return 0;
	for (i = 0; i < n; i++) {
		char name[IF_NAMESIZE];

		if (!a->ifaces[i].gone && !if_indextoname(a->ifindex[i], name)) {
			a->ifaces[i].gone = true;
			left = fb_capture__iface_gone(a->cap, a->ifindex[i]);
			fb_err("interface %s was removed; %s\n", a->ifaces[i].name,
			       left ? "going on with the others" : "stopping");
		}
	}
	for (i = 0; i < n; i++)
		left += !a->ifaces[i].gone;
	if (left)
		return 0;
	a->why = STOP_IFACES_GONE;
	return 1;
}

/* Families, outputs and the pipeline, from the configuration. */
static int build(struct app *a, uint64_t start_ns)
{
	const struct fb_config *c = &a->cfg;
	struct fb_pipeline_opts po = { 0 };
	struct fb_out_ctx octx = { 0 };
	struct fb_flows_opts fo = { .max_flows = c->max_flows, .top = c->top, .keys = c->keys };
	int i, t, err;

	po.batch.interval_ns = c->interval_ns;
	po.batch.grace_ns = c->grace_ns;
	po.batch.start_ns = start_ns;
	po.batch.ncpus = fb_capture__ncpus(a->cap);
	po.batch.max_batches = c->count;
	fo.sort_all = c->output == FB_FMT_TABLE;
	if (c->cap.n_ifaces) {
		po.batch.fams[FB_REC_PKT] = fb_flows__new(&fo);
		if (!po.batch.fams[FB_REC_PKT].ops) {
			fb_err("cannot allocate flow tables for %u flows: %s\n", c->max_flows, strerror(errno));
			return -ENOMEM;
		}
	}
	struct fb_events_opts eo = { .mask = c->events, .keys = c->keys, .max_keys = c->max_flows,
				     .drop_reason = fb_capture__drop_reason, .drop_reason_ctx = a->cap };
	err = fb_events__families(&eo, po.batch.fams);
	if (err)
		fb_err("cannot allocate event tables: %s\n", strerror(-err));
	octx.key_fields = c->keys.fields;
	octx.mono_to_epoch_ns = fb_mono_to_epoch_ns();
	octx.ifname = fb_capture__ifname;
	octx.ifname_ctx = a->cap;
	octx.interval_ns = c->interval_ns;
	octx.table_rows = c->table_rows;
	for (t = 0; t < FB_REC_TYPES; t++)
		octx.fams[t] = po.batch.fams[t].ops;
	a->outs = fb_outputs__new(&octx);
	for (i = 0, err = err ? err : a->outs ? 0 : -ENOMEM; i < c->n_outs && !err; i++)
		err = fb_outputs__add(a->outs, &c->outs[i]);
	if (err) {
		po.batch.emit = NULL; /* frees the families */
		fb_batcher__free(fb_batcher__new(&po.batch));
		return err;
	}
	po.ring_fds = fb_capture__ring_fds(a->cap);
	po.nrings = fb_capture__nrings(a->cap);
	po.ring_size = fb_capture__ring_size(a->cap);
	po.counters = fb_capture__counters;
	po.counters_ctx = a->cap;
	po.outs = a->outs;
	po.ifaces = a->ifaces;
	po.nifaces = (uint32_t)c->cap.n_ifaces;
	a->pipe = fb_pipeline__new(&po);
	return a->pipe ? 0 : -errno;
}

static int run(struct app *a)
{
	uint64_t start;
	int i, err;

	for (i = 0; i < a->cfg.cap.n_ifaces; i++)
		a->ifaces[i].name = a->cfg.cap.ifaces[i];
	a->cap = fb_capture__open(&a->cfg.cap);
	if (!a->cap)
		return -errno;
	fb_capture__ifaces(a->cap, &a->ifindex);
	start = fb_now_ns();
	err = build(a, start);
	if (err)
		return err;
	a->nfd = fb_netwatch_open();
	a->loop = fb_loop__new();
	if (a->nfd < 0 || !a->loop) {
		fb_err("cannot set up the event loop: %s\n", strerror(a->nfd < 0 ? -a->nfd : errno));
		return -EIO;
	}
	err = fb_capture__attach(a->cap);
	if (err)
		return err;
	if (isatty(STDERR_FILENO) && a->cfg.output == FB_FMT_TABLE && a->cfg.cap.n_ifaces)
		fprintf(stderr, "flowbatch: capturing on %s%s (%s), %.3gs batches; Ctrl-C to stop\n",
			a->cfg.cap.ifaces[0], a->cfg.cap.n_ifaces > 1 ? " and more" : "",
			fb_capture__method(a->cap), a->cfg.interval_ns / 1e9);
	err = 0;
	if (a->cfg.duration_ns) {
		a->dfd = fb_timer_fd(start + a->cfg.duration_ns, 0);
		err = a->dfd < 0 ? a->dfd : 0;
	}
	if (!err)
		err = fb_pipeline__register(a->pipe, a->loop);
	if (!err)
		err = fb_outputs__register(a->outs, a->loop);
	if (!err)
		err = fb_loop__add(a->loop, a->sfd, EPOLLIN, on_signal, a);
	if (!err)
		err = fb_loop__add(a->loop, a->nfd, EPOLLIN, on_netlink, a);
	if (!err && a->dfd >= 0)
		err = fb_loop__add(a->loop, a->dfd, EPOLLIN, on_deadline, a);
	if (err) {
		fb_err("cannot set up the event loop: %s\n", strerror(-err));
		return err;
	}
	err = fb_loop__run(a->loop);
	if (err == 1 && a->why == STOP_NONE && fb_pipeline__done(a->pipe))
		a->why = STOP_COUNT;
	if (err < 0 && err != -EPIPE)
		fb_err("%s\n", strerror(-err));
	return err < 0 ? err : 0;
}

/* The kernel does not run a tracing program that fires while that program
 * is already running on the same CPU; such events never reach a record
 * or a counter of ours, so the summary says how many there were. */
static void missed_events(struct app *a)
{
	uint32_t bit;
	uint64_t n;

	for (bit = 1; bit && bit <= a->cfg.events; bit <<= 1) {
		if (!(a->cfg.events & bit))
			continue;
		n = fb_capture__events_missed(a->cap, bit);
		if (n)
			fb_warn("%s events: the kernel skipped %llu (its program was already running on that CPU)\n",
				fb_events__name(bit), (unsigned long long)n);
	}
}

/* Detach first so the kernel's counters stop, then drain everything: the
 * final ledger then matches the counters exactly. */
static int stop(struct app *a)
{
	int err;

	fb_capture__detach(a->cap);
	if (a->why == STOP_NONE || a->why == STOP_PIPE || a->why == STOP_ERROR)
		return 0;
	err = fb_pipeline__finish(a->pipe, a->why == STOP_COUNT ? FB_FINISH_COUNT : FB_FINISH_PARTIAL);
	if (err == -EPIPE) {
		a->why = STOP_PIPE;
		return 0;
	}
	if (err)
		fb_err("%s\n", strerror(-err));
	fb_pipeline__verdict(a->pipe);
	missed_events(a);
	fb_outputs__summary(a->outs);
	return err;
}

int main(int argc, char **argv)
{
	struct app a = { .sfd = -1, .dfd = -1, .nfd = -1 };
	sigset_t mask;
	char msg[512];
	int err;

	switch (fb_cli_parse(argc, argv, &a.cfg, stdout, msg, sizeof(msg))) {
	case FB_CLI_BAD:
		fprintf(stderr, "flowbatch: %s\n", msg);
		return 2;
	case FB_CLI_EXIT_OK:
		return 0;
	case FB_CLI_RUN:
		break;
	}
	fb_log_set_level(a.cfg.verbose ? FB_LOG_DEBUG : FB_LOG_WARN);
	if (fb_config_resolve(&a.cfg, isatty(STDOUT_FILENO))) {
		fb_err("no default route to pick an interface from; name one with -i\n");
		return 1;
	}
	/* signals arrive through signalfd; a closed stdout is an EPIPE, not a kill */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	a.sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

	if (a.sfd < 0)
		fb_err("signalfd: %s\n", strerror(errno));
	err = a.sfd < 0 ? -errno : run(&a);
	if (err == -EPIPE)
		a.why = STOP_PIPE;
	else if (err && a.why == STOP_NONE)
		a.why = STOP_ERROR, a.err = err;
	if (a.cap && (err = stop(&a)) && a.why != STOP_PIPE)
		a.why = STOP_ERROR, a.err = err;

	fb_pipeline__free(a.pipe);
	fb_outputs__free(a.outs);
	fb_loop__free(a.loop);
	fb_capture__free(a.cap);
	if (a.dfd >= 0)
		close(a.dfd);
	if (a.nfd >= 0)
		close(a.nfd);
	if (a.sfd >= 0)
		close(a.sfd);
	return a.why == STOP_SIGNAL || a.why == STOP_DEADLINE || a.why == STOP_COUNT || a.why == STOP_PIPE ? 0 : 1;
}

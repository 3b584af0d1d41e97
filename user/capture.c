/* Program loading and attachment. Links (XDP, tcx) detach by themselves when
 * the process dies however it dies; the clsact fallback cannot, so at start
 * it removes filters an earlier killed run left at flowbatch's own
 * handle/priority, and at exit it removes what it added. */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include "capture.h"
#include "capture_events.h"
#include "flowbatch.skel.h"
#include "linktype.h"
#include "log.h"

/* libbpf 1.1 and Debian 12's headers predate tcx: the kernel's values */
#ifndef BPF_TCX_INGRESS
#define BPF_TCX_INGRESS 46
#define BPF_TCX_EGRESS 47
#endif

#define FB_TC_HANDLE 0xfb
/* priority 1: filters run in priority order and an earlier one that returns
 * a verdict would hide packets from an observer placed behind it */
#define FB_TC_PRIO 1

struct iface {
	char name[FB_IFNAMSIZ];
	uint32_t ifindex;
	int xdp_link; /* link fds, -1 when unused */
	int tcx_in, tcx_out;
	bool cls_in, cls_out; /* clsact filters we attached */
	bool made_qdisc; /* the clsact qdisc did not exist before us */
	bool gone; /* the interface was deleted while we ran */
	enum fb_linkkind link; /* read at attach: picks the program variant */
	const char *method;
};

#define FB_MAX_RINGS 1024

struct fb_capture {
	struct flowbatch *skel;
	struct fb_capture_opts o;
	const struct fb_capture_opts *cfg; /* = &o */
	int ring_fds[FB_MAX_RINGS]; /* per-CPU rings we created; -1 unused */
	uint32_t nrings;
	uint64_t ring_size;
	struct iface ifs[FB_MAX_IFACES];
	uint32_t ifindexes[FB_MAX_IFACES];
	int n;
	uint32_t ncpus;
	char method[64];
	struct fb_evcap *ev; /* --events programs and their links */
};

/* libbpf's messages go through the logger: its info and debug output with
 * -v, its warnings always, except while a step runs whose failure
 * flowbatch explains itself in one line: those warnings are held, and
 * shown if the step succeeds after all (load) or dropped (attach, where
 * libbpf warns about paths flowbatch tries and falls back from); -v shows
 * everything as it comes. libbpf's callback has no context pointer, so
 * the held text is file-scope state. */
static struct {
	bool on;
	char buf[4096];
	size_t len;
} held;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum fb_log_level l = level == LIBBPF_WARN ? FB_LOG_WARN : FB_LOG_DEBUG;
	int n;

	if (l > fb_log_level())
		return 0;
	if (held.on && fb_log_level() < FB_LOG_DEBUG) {
		n = vsnprintf(held.buf + held.len, sizeof(held.buf) - held.len, fmt, ap);
		if (n > 0)
			held.len = held.len + (size_t)n < sizeof(held.buf) ? held.len + (size_t)n : sizeof(held.buf) - 1;
		return 0;
	}
	fb_vlog(l, fmt, ap);
	return 0;
}

static void hold_libbpf(void)
{
	held.on = true;
	held.len = 0;
	held.buf[0] = '\0';
}

/* show: print what was held as warnings, else drop it */
static void release_libbpf(bool show)
{
	char *line, *save = NULL;

	held.on = false;
	if (show)
		for (line = strtok_r(held.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			fb_warn("%s\n", line);
	held.len = 0;
	held.buf[0] = '\0';
}

static bool want_in(const struct fb_capture_opts *cfg)
{
	return cfg->dir & FB_DIR_IN;
}

static bool want_out(const struct fb_capture_opts *cfg)
{
	return cfg->dir & FB_DIR_OUT;
}

/* The interfaces asked for, by name; -ENODEV (said) for one that is not. */
static int find_ifaces(struct fb_capture *c)
{
	int i;

	for (i = 0; i < FB_MAX_IFACES; i++)
		c->ifs[i].xdp_link = c->ifs[i].tcx_in = c->ifs[i].tcx_out = -1;
	for (i = 0; i < c->cfg->n_ifaces; i++) {
		struct iface *f = &c->ifs[i];

		snprintf(f->name, sizeof(f->name), "%s", c->cfg->ifaces[i]);
		f->ifindex = if_nametoindex(f->name);
		if (!f->ifindex) {
			fb_err("no such interface '%s'\n", f->name);
			return -ENODEV;
		}
		c->ifindexes[i] = f->ifindex;
	}
	c->n = c->cfg->n_ifaces;
	return 0;
}

/* Before load: ring sizes and wake-up points, and which programs load.
 * Returns the inner-map template fd to close after load, or -1. */
static int configure(struct fb_capture *c)
{
	const struct fb_capture_opts *cfg = c->cfg;
	struct flowbatch *sk = c->skel;
	uint64_t rs = c->ring_size;
	bool raw_ip = fb_linktype_any_raw_ip(cfg->ifaces, cfg->n_ifaces), tc = cfg->hook == FB_HOOK_TC;
	bool xdp = cfg->hook == FB_HOOK_XDP, in = cfg->n_ifaces && want_in(cfg), out = cfg->n_ifaces && want_out(cfg);
	int tmpl = -1;

	/* wake the consumer at a quarter full, then again every 1/16 */
	sk->rodata->watermark = rs / 4;
	sk->rodata->kick_step = rs / 16 > 4096 ? rs / 16 : 4096;
	sk->rodata->percpu_rings = !cfg->shared_ring;
	if (cfg->shared_ring) {
		bpf_map__set_max_entries(sk->maps.fb_ring, (uint32_t)rs);
		bpf_map__set_max_entries(sk->maps.fb_rings, 1);
	} else {
		/* the shared ring stays, unused, at its smallest size */
		bpf_map__set_max_entries(sk->maps.fb_ring, (uint32_t)sysconf(_SC_PAGESIZE));
		bpf_map__set_max_entries(sk->maps.fb_rings, c->ncpus);
		/* the outer map needs an inner template at load; any ring will
		 * do (the kernel does not compare sizes), so a one-page one */
		tmpl = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "fb_ring_tmpl", 0, 0,
				      (uint32_t)sysconf(_SC_PAGESIZE), NULL);
		if (tmpl >= 0)
			bpf_map__set_inner_map_fd(sk->maps.fb_rings, tmpl);
	}
	/* XDP receives (TC sends, with --direction both); the raw-IP variants
	 * (no link header) only when an interface needs them */
	bpf_program__set_autoload(sk->progs.fb_xdp, in && xdp);
	bpf_program__set_autoload(sk->progs.fb_tc_in, in && tc);
	bpf_program__set_autoload(sk->progs.fb_tc_out, out);
	bpf_program__set_autoload(sk->progs.fb_xdp_l3, raw_ip && in && xdp);
	bpf_program__set_autoload(sk->progs.fb_tc_in_l3, raw_ip && in && tc);
	bpf_program__set_autoload(sk->progs.fb_tc_out_l3, raw_ip && out);
	return tmpl;
}

/* After load: the per-CPU rings, made and put in the outer map, or the
 * shared one. 0 or -errno (said). */
static int make_rings(struct fb_capture *c)
{
	int outer = bpf_map__fd(c->skel->maps.fb_rings), fd, e;
	uint32_t k;

	if (c->cfg->shared_ring) {
		/* the skeleton owns this one: not closed with the per-CPU ones */
		c->ring_fds[0] = bpf_map__fd(c->skel->maps.fb_ring);
		c->nrings = 1;
		return 0;
	}
	for (k = 0; k < c->ncpus; k++) {
		fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "fb_ring_cpu", 0, 0, (uint32_t)c->ring_size, NULL);
		if (fd < 0 || bpf_map_update_elem(outer, &k, &fd, BPF_ANY)) {
			e = errno;
			if (fd >= 0)
				close(fd);
			fb_err("cannot create %u ring buffers of %llu bytes: %s\n", c->ncpus,
			       (unsigned long long)c->ring_size, strerror(e));
			return -e;
		}
		c->ring_fds[k] = fd;
		c->nrings = k + 1;
	}
	return 0;
}

struct fb_capture *fb_capture__open(const struct fb_capture_opts *opts)
{
	struct fb_capture *c;
	uint32_t k;
	int e, tmpl;

	libbpf_set_print(libbpf_print);
	c = calloc(1, sizeof(*c));
	if (!c) {
		fb_err("out of memory\n");
		errno = ENOMEM;
		return NULL;
	}
	c->o = *opts;
	c->cfg = &c->o;
	for (k = 0; k < FB_MAX_RINGS; k++)
		c->ring_fds[k] = -1;
	e = find_ifaces(c);
	if (e)
		goto err_free;
	e = libbpf_num_possible_cpus();
	c->ncpus = e > 0 ? (uint32_t)e : 1;
	if (!c->cfg->shared_ring && c->ncpus > FB_MAX_RINGS) {
		fb_err("%u CPUs: use --ring shared (at most %d per-CPU rings)\n", c->ncpus, FB_MAX_RINGS);
		e = -EINVAL;
		goto err_free;
	}
	c->ring_size = fb_default_ring_size(c->cfg, c->ncpus);

	hold_libbpf();
	c->skel = flowbatch__open();
	if (!c->skel) {
		e = -errno;
		release_libbpf(false);
		fb_err("cannot open BPF object: %s\n", strerror(-e));
		goto err_free;
	}
	c->ev = fb_evcap__open(c->skel->obj, c->cfg->events); /* logs its own line */
	if (!c->ev) {
		e = -errno;
		goto err_destroy;
	}
	tmpl = configure(c);
	e = flowbatch__load(c->skel);
	release_libbpf(!e);
	if (tmpl >= 0)
		close(tmpl);
	if (e) {
		if (e == -EPERM || (e == -EACCES && geteuid() != 0))
			fb_err("permission denied loading BPF programs: run as root (or with CAP_BPF, "
			       "CAP_NET_ADMIN and CAP_PERFMON)\n");
		else
			fb_err("cannot load BPF programs: %s (run with -v for details)\n", strerror(-e));
		goto err_destroy;
	}
	e = make_rings(c);
	if (e)
		goto err_rings;
	return c;
err_rings:
	for (k = 0; k < c->nrings; k++)
		close(c->ring_fds[k]);
err_destroy:
	fb_evcap__free(c->ev);
	flowbatch__destroy(c->skel);
err_free:
	free(c);
	errno = -e;
	return NULL;
}

static const char *prog_name_by_id(uint32_t id, char *buf, size_t len)
{
	struct bpf_prog_info info;
	uint32_t ilen = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	snprintf(buf, len, "?");
	if (fd < 0)
		return buf;
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(fd, &info, &ilen))
		snprintf(buf, len, "%s", info.name);
	close(fd);
	return buf;
}

static int attach_xdp(struct fb_capture *c, struct iface *f, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	LIBBPF_OPTS(bpf_link_create_opts, lo);
	bool raw_ip = f->link == FB_LINK_RAW_IP;
	int prog = bpf_program__fd(raw_ip ? c->skel->progs.fb_xdp_l3 : c->skel->progs.fb_xdp);
	char pname[32];
	int fd;

	/* no driver gives a link without an Ethernet header native XDP: the
	 * kernel runs XDP there on the skb (generic mode) only */
	if (raw_ip && c->cfg->xdp_mode == FB_XDP_NATIVE) {
		snprintf(err, errlen,
			 "%s has no link header (raw IP): XDP runs there in generic mode only; use "
			 "--xdp-mode generic, or --hook tc",
			 f->name);
		return -EOPNOTSUPP;
	}

	if (!bpf_xdp_query((int)f->ifindex, 0, &q) && q.prog_id) {
		prog_name_by_id(q.prog_id, pname, sizeof(pname));
		if (!c->cfg->force) {
			snprintf(err, errlen,
				 "%s already has XDP program '%s' (id %u) attached; use --hook tc to "
				 "observe alongside it, or --force to replace it",
				 f->name, pname, q.prog_id);
			return -EBUSY;
		}
		if (bpf_xdp_detach((int)f->ifindex, 0, NULL) && bpf_xdp_query_id((int)f->ifindex, 0, &q.prog_id) == 0 &&
		    q.prog_id) {
			snprintf(err, errlen,
				 "cannot replace XDP program '%s' (id %u) on %s: it is held by a BPF link "
				 "of another process",
				 pname, q.prog_id, f->name);
			return -EBUSY;
		}
		fb_warn("replaced XDP program '%s' (id %u) on %s; it will not be restored\n", pname,
			q.prog_id, f->name);
	}
	if (c->cfg->xdp_mode == FB_XDP_NATIVE)
		lo.flags = XDP_FLAGS_DRV_MODE;
	else if (c->cfg->xdp_mode == FB_XDP_GENERIC || raw_ip)
		lo.flags = XDP_FLAGS_SKB_MODE;
	fd = bpf_link_create(prog, (int)f->ifindex, BPF_XDP, &lo);
	if (fd < 0) {
		snprintf(err, errlen, "cannot attach XDP to %s: %s", f->name, strerror(errno));
		return -errno;
	}
	f->xdp_link = fd;
	if (!bpf_xdp_query((int)f->ifindex, 0, &q))
		f->method = q.attach_mode == XDP_ATTACHED_SKB ? "xdp/generic" : "xdp/native";
	else
		f->method = "xdp";
	return 0;
}

/* the TC program for f's link type and the direction */
static struct bpf_program *tc_prog(struct fb_capture *c, struct iface *f, bool egress)
{
	if (f->link == FB_LINK_RAW_IP)
		return egress ? c->skel->progs.fb_tc_out_l3 : c->skel->progs.fb_tc_in_l3;
	return egress ? c->skel->progs.fb_tc_out : c->skel->progs.fb_tc_in;
}

static int attach_tcx(struct fb_capture *c, struct iface *f, bool egress)
{
	struct bpf_program *p = tc_prog(c, f, egress);
	int fd = bpf_link_create(bpf_program__fd(p), (int)f->ifindex,
				 egress ? BPF_TCX_EGRESS : BPF_TCX_INGRESS, NULL);

	if (fd < 0)
		return -errno;
	if (egress)
		f->tcx_out = fd;
	else
		f->tcx_in = fd;
	return 0;
}

static bool is_ours(const char *name)
{
	return !strcmp(name, "fb_tc_in") || !strcmp(name, "fb_tc_out") ||
	       !strcmp(name, "fb_tc_in_l3") || !strcmp(name, "fb_tc_out_l3");
}

static int attach_clsact(struct fb_capture *c, struct iface *f, bool egress, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)f->ifindex,
		    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = FB_TC_HANDLE, .priority = FB_TC_PRIO);
	struct bpf_program *p = tc_prog(c, f, egress);
	char pname[32];
	int e;

	e = bpf_tc_hook_create(&hook);
	if (!e)
		f->made_qdisc = true;
	else if (e != -EEXIST) {
		snprintf(err, errlen, "cannot add clsact qdisc to %s: %s", f->name, strerror(-e));
		return e;
	}
	/* a filter at our handle/priority is left over from a killed run */
	if (!bpf_tc_query(&hook, &q)) {
		prog_name_by_id(q.prog_id, pname, sizeof(pname));
		if (!is_ours(pname)) {
			snprintf(err, errlen, "%s already has a TC filter at handle 0x%x priority %u ('%s')",
				 f->name, FB_TC_HANDLE, FB_TC_PRIO, pname);
			return -EBUSY;
		}
		LIBBPF_OPTS(bpf_tc_opts, d, .handle = FB_TC_HANDLE, .priority = FB_TC_PRIO);
		bpf_tc_detach(&hook, &d);
		fb_info("removed a stale flowbatch filter from %s %s\n", f->name, egress ? "egress" : "ingress");
	}
	LIBBPF_OPTS(bpf_tc_opts, a, .handle = FB_TC_HANDLE, .priority = FB_TC_PRIO,
		    .prog_fd = bpf_program__fd(p));
	e = bpf_tc_attach(&hook, &a);
	if (e) {
		snprintf(err, errlen, "cannot attach TC filter to %s: %s", f->name, strerror(-e));
		return e;
	}
	if (egress)
		f->cls_out = true;
	else
		f->cls_in = true;
	return 0;
}

static int attach_tc(struct fb_capture *c, struct iface *f, bool egress, char *err, size_t errlen)
{
	int e;

	if (c->cfg->tc_mode != FB_TC_CLSACT) {
		e = attach_tcx(c, f, egress);
		if (!e) {
			f->method = "tcx";
			return 0;
		}
		if (c->cfg->tc_mode == FB_TC_TCX || (e != -EINVAL && e != -EOPNOTSUPP && e != -524)) {
			snprintf(err, errlen, "cannot attach tcx to %s: %s", f->name, strerror(-e));
			return e;
		}
		fb_dbg("tcx unavailable (%s); using a clsact qdisc\n", strerror(-e));
	}
	e = attach_clsact(c, f, egress, err, errlen);
	if (!e)
		f->method = "clsact";
	return e;
}

int fb_capture__attach(struct fb_capture *c)
{
	const struct fb_capture_opts *cfg = c->cfg;
	char err[512] = "";
	size_t errlen = sizeof(err);
	int i, e = 0;

	hold_libbpf();
	for (i = 0; i < c->n && !e; i++) {
		struct iface *f = &c->ifs[i];

		/* a link layer the parser cannot read is refused here, before
		 * anything is attached, rather than turned into made-up flows */
		f->link = fb_linktype_of(f->name, err, errlen);
		if (f->link == FB_LINK_UNSUPPORTED) {
			e = -EPROTONOSUPPORT;
			break;
		}
		if (want_in(cfg))
			e = cfg->hook == FB_HOOK_XDP ? attach_xdp(c, f, err, errlen)
						     : attach_tc(c, f, false, err, errlen);
		if (!e && want_out(cfg))
			e = attach_tc(c, f, true, err, errlen);
	}
	release_libbpf(false); /* fallbacks were tried; a failure is said below */
	if (e) {
		fb_err("%s\n", err);
		fb_capture__detach(c);
		return e;
	}
	e = fb_evcap__attach(c->ev); /* logs its own line */
	if (e) {
		fb_capture__detach(c);
		return e;
	}
	if (!c->n)
		return 0;
	snprintf(c->method, sizeof(c->method), "%s%s%s", c->ifs[0].method ? c->ifs[0].method : "",
		 cfg->hook == FB_HOOK_XDP && want_out(cfg) ? " + tc egress" : "", "");
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void fb_capture__detach(struct fb_capture *c)
{
	int i;

	if (!c)
		return;
	fb_evcap__detach(c->ev);
	for (i = 0; i < c->n; i++) {
		struct iface *f = &c->ifs[i];
		int dirs[2] = { f->cls_in, f->cls_out }, k;

		close_fd(&f->xdp_link);
		close_fd(&f->tcx_in);
		close_fd(&f->tcx_out);
		for (k = 0; k < 2; k++) {
			LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)f->ifindex,
				    .attach_point = k ? BPF_TC_EGRESS : BPF_TC_INGRESS);
			LIBBPF_OPTS(bpf_tc_opts, d, .handle = FB_TC_HANDLE, .priority = FB_TC_PRIO);

			if (dirs[k])
				bpf_tc_detach(&hook, &d);
		}
		if (f->made_qdisc) {
			LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)f->ifindex,
				    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
			bpf_tc_hook_destroy(&hook);
		}
		f->cls_in = f->cls_out = f->made_qdisc = false;
	}
}

void fb_capture__free(struct fb_capture *c)
{
	uint32_t k;

	if (!c)
		return;
	fb_capture__detach(c);
	for (k = 0; k < c->nrings && !c->cfg->shared_ring; k++)
		if (c->ring_fds[k] >= 0)
			close(c->ring_fds[k]);
	fb_evcap__free(c->ev);
	flowbatch__destroy(c->skel);
	free(c);
}

const char *fb_capture__drop_reason(void *c, uint32_t reason)
{
	return fb_evcap__drop_reason(((struct fb_capture *)c)->ev, reason);
}

uint64_t fb_capture__events_missed(const struct fb_capture *c, uint32_t family_bit)
{
	return fb_evcap__missed(c->ev, family_bit);
}

uint32_t fb_capture__nrings(const struct fb_capture *c)
{
	return c->nrings;
}

uint64_t fb_capture__ring_size(const struct fb_capture *c)
{
	return c->ring_size;
}

uint64_t fb_default_ring_size(const struct fb_capture_opts *cfg, uint32_t ncpus)
{
	uint64_t rs = 8u << 20;

	if (cfg->ring_size)
		return cfg->ring_size;
	if (cfg->shared_ring)
		return 16u << 20;
	/* 8 MiB per CPU, but at most ~256 MiB in all, and never under 1 MiB */
	while (rs > (1u << 20) && rs * ncpus > (256u << 20))
		rs >>= 1;
	return rs;
}

uint32_t fb_capture__ncpus(const struct fb_capture *c)
{
	return c->ncpus;
}

int fb_capture__counters(void *ctx, uint8_t type, struct fb_counters *percpu)
{
	struct fb_capture *c = ctx;
	uint32_t key = type;

	if (bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.fb_counters), &key, percpu))
		return -errno;
	return 0;
}

const int *fb_capture__ring_fds(const struct fb_capture *c)
{
	return c->ring_fds;
}

int fb_capture__iface_gone(struct fb_capture *c, uint32_t ifindex)
{
	int i, left = 0;

	for (i = 0; i < c->n; i++) {
		struct iface *f = &c->ifs[i];

		if (f->ifindex == ifindex && !f->gone) {
			/* its links died with it; close our ends, and forget the
			 * clsact filters, which went with the device */
			if (f->xdp_link >= 0)
				close(f->xdp_link);
			if (f->tcx_in >= 0)
				close(f->tcx_in);
			if (f->tcx_out >= 0)
				close(f->tcx_out);
			f->xdp_link = f->tcx_in = f->tcx_out = -1;
			f->cls_in = f->cls_out = f->made_qdisc = false;
			f->gone = true;
		}
		left += !f->gone;
	}
	return left;
}

int fb_capture__ifaces(const struct fb_capture *c, const uint32_t **ifindexes)
{
	*ifindexes = c->ifindexes;
	return c->n;
}

const char *fb_capture__ifname(void *ctx, uint32_t ifindex)
{
	struct fb_capture *c = ctx;
	int i;

	for (i = 0; i < c->n; i++)
		if (c->ifs[i].ifindex == ifindex)
			return c->ifs[i].name;
	return "?";
}

const char *fb_capture__method(const struct fb_capture *c)
{
	return c->method;
}

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
#include "flowbatch.skel.h"
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
	const char *method;
};

#define FB_MAX_RINGS 1024

struct fb_capture {
	struct flowbatch *skel;
	const struct fb_config *cfg;
	int ring_fds[FB_MAX_RINGS]; /* per-CPU rings we created; -1 unused */
	uint32_t nrings;
	uint64_t ring_size;
	struct iface ifs[FB_MAX_IFACES];
	uint32_t ifindexes[FB_MAX_IFACES];
	int n;
	uint32_t ncpus;
	char method[64];
};

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (fb_log_level() < FB_LOG_DEBUG)
		return 0;
	/* libbpf's messages start with "libbpf: " already */
	fputs("flowbatch: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

int fb_default_route_iface(char *name, size_t len)
{
	char line[512], ifn[64];
	unsigned long dst, mask, metric, best = ~0ul;
	unsigned flags;
	FILE *f = fopen("/proc/net/route", "r");
	int found = 0;

	if (f) {
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "%63s %lx %*x %x %*d %*d %lu %lx", ifn, &dst, &flags, &metric,
				   &mask) != 5)
				continue;
			if (dst || mask || !(flags & 1 /* RTF_UP */) || metric >= best)
				continue;
			best = metric;
			snprintf(name, len, "%s", ifn);
			found = 1;
		}
		fclose(f);
	}
	if (found)
		return 0;
	f = fopen("/proc/net/ipv6_route", "r");
	if (f) {
		char d[40];
		unsigned plen;

		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "%32s %x %*s %*s %*s %lx %*s %*s %*s %63s", d, &plen, &metric, ifn) != 4)
				continue;
			if (plen || strcmp(d, "00000000000000000000000000000000") || !strcmp(ifn, "lo") ||
			    metric >= best)
				continue;
			best = metric;
			snprintf(name, len, "%s", ifn);
			found = 1;
		}
		fclose(f);
	}
	return found ? 0 : -ENOENT;
}

static bool want_in(const struct fb_config *cfg)
{
	return cfg->dir & FB_DIR_IN;
}

static bool want_out(const struct fb_config *cfg)
{
	return cfg->dir & FB_DIR_OUT;
}

struct fb_capture *fb_capture__open(const struct fb_config *cfg, char *err, size_t errlen)
{
	struct fb_capture *c;
	uint64_t rs;
	uint32_t k;
	int i, e, tmpl = -1;

	libbpf_set_print(libbpf_print);
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->cfg = cfg;
	for (i = 0; i < FB_MAX_IFACES; i++) {
		c->ifs[i].xdp_link = c->ifs[i].tcx_in = c->ifs[i].tcx_out = -1;
	}
	for (i = 0; i < cfg->n_ifaces; i++) {
		struct iface *f = &c->ifs[i];

		snprintf(f->name, sizeof(f->name), "%s", cfg->ifaces[i]);
		f->ifindex = if_nametoindex(f->name);
		if (!f->ifindex) {
			snprintf(err, errlen, "no such interface '%s'", f->name);
			free(c);
			errno = ENODEV;
			return NULL;
		}
		c->ifindexes[i] = f->ifindex;
	}
	c->n = cfg->n_ifaces;
	e = libbpf_num_possible_cpus();
	c->ncpus = e > 0 ? (uint32_t)e : 1;
	for (k = 0; k < FB_MAX_RINGS; k++)
		c->ring_fds[k] = -1;
	if (!cfg->shared_ring && c->ncpus > FB_MAX_RINGS) {
		snprintf(err, errlen, "%u CPUs: use --ring shared (at most %d per-CPU rings)", c->ncpus,
			 FB_MAX_RINGS);
		free(c);
		errno = EINVAL;
		return NULL;
	}
	rs = fb_default_ring_size(cfg, c->ncpus);
	c->ring_size = rs;

	c->skel = flowbatch__open();
	if (!c->skel) {
		e = errno;
		snprintf(err, errlen, "cannot open BPF object: %s", strerror(e));
		goto err_free;
	}
	/* wake the consumer at a quarter full, then again every 1/16 */
	c->skel->rodata->watermark = rs / 4;
	c->skel->rodata->kick_step = rs / 16 > 4096 ? rs / 16 : 4096;
	c->skel->rodata->percpu_rings = !cfg->shared_ring;
	if (cfg->shared_ring) {
		bpf_map__set_max_entries(c->skel->maps.fb_ring, (uint32_t)rs);
		bpf_map__set_max_entries(c->skel->maps.fb_rings, 1);
	} else {
		/* the shared ring stays, unused, at its smallest size */
		bpf_map__set_max_entries(c->skel->maps.fb_ring, (uint32_t)sysconf(_SC_PAGESIZE));
		bpf_map__set_max_entries(c->skel->maps.fb_rings, c->ncpus);
		/* the outer map needs an inner template at load; any ring will
		 * do (the kernel does not compare sizes), so a one-page one */
		tmpl = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "fb_ring_tmpl", 0, 0,
				      (uint32_t)sysconf(_SC_PAGESIZE), NULL);
		if (tmpl >= 0)
			bpf_map__set_inner_map_fd(c->skel->maps.fb_rings, tmpl);
	}
	bpf_program__set_autoload(c->skel->progs.fb_xdp, cfg->hook == FB_HOOK_XDP);
	bpf_program__set_autoload(c->skel->progs.fb_tc_in, cfg->hook == FB_HOOK_TC && want_in(cfg));
	bpf_program__set_autoload(c->skel->progs.fb_tc_out, want_out(cfg));
	e = flowbatch__load(c->skel);
	if (tmpl >= 0)
		close(tmpl);
	if (e) {
		e = -e;
		if (e == EPERM || (e == EACCES && geteuid() != 0))
			snprintf(err, errlen,
				 "permission denied loading BPF programs: run as root (or with CAP_BPF, "
				 "CAP_NET_ADMIN and CAP_PERFMON)");
		else
			snprintf(err, errlen, "cannot load BPF programs: %s (run with -v for details)",
				 strerror(e));
		goto err_destroy;
	}
	if (!cfg->shared_ring) {
		int outer = bpf_map__fd(c->skel->maps.fb_rings);

		for (k = 0; k < c->ncpus; k++) {
			int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "fb_ring_cpu", 0, 0, (uint32_t)rs, NULL);

			if (fd < 0 || bpf_map_update_elem(outer, &k, &fd, BPF_ANY)) {
				e = errno;
				if (fd >= 0)
					close(fd);
				snprintf(err, errlen, "cannot create %u ring buffers of %llu bytes: %s",
					 c->ncpus, (unsigned long long)rs, strerror(e));
				goto err_rings;
			}
			c->ring_fds[k] = fd;
		}
		c->nrings = c->ncpus;
	} else {
		c->nrings = 1;
	}
	return c;
err_rings:
	for (k = 0; k < c->ncpus; k++)
		if (c->ring_fds[k] >= 0)
			close(c->ring_fds[k]);
err_destroy:
	flowbatch__destroy(c->skel);
err_free:
	free(c);
	errno = e;
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
	int prog = bpf_program__fd(c->skel->progs.fb_xdp);
	char pname[32];
	int fd;

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
	else if (c->cfg->xdp_mode == FB_XDP_GENERIC)
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

static int attach_tcx(struct fb_capture *c, struct iface *f, bool egress)
{
	struct bpf_program *p = egress ? c->skel->progs.fb_tc_out : c->skel->progs.fb_tc_in;
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
	return !strcmp(name, "fb_tc_in") || !strcmp(name, "fb_tc_out");
}

static int attach_clsact(struct fb_capture *c, struct iface *f, bool egress, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)f->ifindex,
		    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = FB_TC_HANDLE, .priority = FB_TC_PRIO);
	struct bpf_program *p = egress ? c->skel->progs.fb_tc_out : c->skel->progs.fb_tc_in;
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

int fb_capture__attach(struct fb_capture *c, char *err, size_t errlen)
{
	const struct fb_config *cfg = c->cfg;
	int i, e = 0;

	for (i = 0; i < c->n && !e; i++) {
		struct iface *f = &c->ifs[i];

		if (want_in(cfg))
			e = cfg->hook == FB_HOOK_XDP ? attach_xdp(c, f, err, errlen)
						     : attach_tc(c, f, false, err, errlen);
		if (!e && want_out(cfg))
			e = attach_tc(c, f, true, err, errlen);
	}
	if (e) {
		fb_capture__detach(c);
		return e;
	}
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
	flowbatch__destroy(c->skel);
	for (k = 0; k < c->nrings; k++)
		if (c->ring_fds[k] >= 0)
			close(c->ring_fds[k]);
	free(c);
}

uint32_t fb_capture__nrings(const struct fb_capture *c)
{
	return c->nrings;
}

int fb_capture__ring_fd(const struct fb_capture *c, uint32_t i)
{
	if (c->cfg->shared_ring)
		return bpf_map__fd(c->skel->maps.fb_ring);
	return c->ring_fds[i];
}

uint64_t fb_capture__ring_size(const struct fb_capture *c)
{
	return c->ring_size;
}

uint64_t fb_default_ring_size(const struct fb_config *cfg, uint32_t ncpus)
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

int fb_capture__counters(const struct fb_capture *c, struct fb_counters *percpu,
			 struct fb_counters *sum)
{
	uint32_t key = FB_REC_PKT, i;

	if (bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.fb_counters), &key, percpu))
		return -errno;
	if (sum) {
		memset(sum, 0, sizeof(*sum));
		for (i = 0; i < c->ncpus; i++) {
			sum->seen += percpu[i].seen;
			sum->lost += percpu[i].lost;
			sum->parse_err += percpu[i].parse_err;
			sum->wakeups += percpu[i].wakeups;
		}
	}
	return 0;
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

/* See harness.h. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "flowbatch.skel.h"
#include "harness.h"
#include "ring.h"

/* BPF_PROG_TEST_RUN runs XDP on loopback's rx queue and TC with skb->dev set
 * to loopback, whose ifindex is always 1 (LOOPBACK_IFINDEX) in every netns. */
#define FBT_LO_IFINDEX 1

const uint8_t SRC4[4] = {192, 0, 2, 1};
const uint8_t DST4[4] = {198, 51, 100, 7};
const uint8_t SRC6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
const uint8_t DST6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};

static const char *const prog_names[FBT_NPROGS] = {"fb_xdp", "fb_tc_in", "fb_tc_out"};

static struct flowbatch *skel;
/* flowbatch's own reader (user/ring.c) over every ring, so these tests
 * also cover it against the kernel's real layout */
static struct fb_ring *rings[1024];
static int n_rings;
static int ring_fds[1024]; /* per-CPU rings the harness created */
static int n_ring_fds;
/* Which ring layout the next fbt_open loads: flowbatch's default, one ring
 * per CPU, or one shared ring (--ring shared). */
bool fbt_shared_ring;
static int pinned_cpu = -1;

struct drain_ctx {
	struct fb_pkt *recs;
	size_t max, n;
};

/* libbpf's debug and info chatter would bury criterion's report; warnings
 * (including a verifier log on a failed load) still matter. */
static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBBPF_WARN)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* Why BPF could not be used, when FLOWBATCH_REQUIRE_PRIV=1 turns that into
 * a failure. The failure is raised by the first call that needs the
 * skeleton (need_bpf), inside the test body: an assertion in a criterion
 * .init would be reported as a crash in setup instead. */
static char no_bpf_msg[256];

/* Skips the test, or with FLOWBATCH_REQUIRE_PRIV=1 remembers the failure;
 * fbt_open then returns without a skeleton. */
static void no_bpf(const char *why)
{
	const char *req = getenv("FLOWBATCH_REQUIRE_PRIV");

	if (req && strcmp(req, "1") == 0) {
		snprintf(no_bpf_msg, sizeof(no_bpf_msg),
			 "BPF is unavailable (%s) but FLOWBATCH_REQUIRE_PRIV=1 demands it: "
			 "run as root on a kernel with BPF",
			 why);
		return;
	}
	cr_skip_test("SKIP: needs root and BPF (%s)", why);
}

static void need_bpf(void)
{
	if (no_bpf_msg[0])
		cr_assert_fail("%s", no_bpf_msg);
	cr_assert_not_null(skel, "fbt_open was not called");
}

/* seq is per CPU, and BPF_PROG_TEST_RUN may be rescheduled between repeats;
 * staying on one CPU makes seq 1, 2, 3 ... and the cpu field predictable. */
static void pin_cpu(void)
{
	cpu_set_t set;
	int cpu = sched_getcpu();

	cr_assert_geq(cpu, 0, "sched_getcpu: %s", strerror(errno));
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	cr_assert_eq(sched_setaffinity(0, sizeof(set), &set), 0, "sched_setaffinity(%d): %s", cpu,
		     strerror(errno));
	pinned_cpu = cpu;
}

static struct drain_ctx drain;

/* The reader hands over only well-formed packet records (type FB_REC_PKT,
 * exactly sizeof(struct fb_pkt) bytes); anything else is counted as bad. */
static int on_pkts(void *ctx, const void *recs, uint32_t n)
{
	struct drain_ctx *d = ctx;
	const struct fb_pkt *p = recs;
	uint32_t i;

	for (i = 0; i < n; i++, d->n++)
		if (d->n < d->max)
			d->recs[d->n] = p[i];
	return 0;
}

static void add_ring(int fd, size_t bytes)
{
	struct fb_ring_handlers h = {0};

	h.by_type[FB_REC_PKT] = (struct fb_rec_handler){sizeof(struct fb_pkt), on_pkts, &drain};
	cr_assert_lt(n_rings, (int)(sizeof(rings) / sizeof(rings[0])), "too many rings");
	rings[n_rings] = fb_ring__new(fd, bytes, &h);
	cr_assert_not_null(rings[n_rings], "fb_ring__new(%zu bytes): %s", bytes, strerror(errno));
	n_rings++;
}

void fbt_open(size_t ring_bytes, uint64_t watermark, uint64_t kick_step)
{
	int err;

	libbpf_set_print(quiet_print);
	if (geteuid() != 0) {
		no_bpf("not root");
		return;
	}
	pin_cpu();

	skel = flowbatch__open();
	if (!skel) {
		err = errno;
		if (err == EPERM) {
			no_bpf("open: EPERM");
			return;
		}
		cr_assert_fail("flowbatch__open: %s", strerror(err));
	}
	skel->rodata->percpu_rings = !fbt_shared_ring;
	if (!ring_bytes)
		ring_bytes = 1u << 24;
	if (fbt_shared_ring) {
		err = bpf_map__set_max_entries(skel->maps.fb_ring, (uint32_t)ring_bytes);
		cr_assert_eq(err, 0, "set ring size %zu: %s", ring_bytes, strerror(-err));
	} else {
		int tmpl = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "tmpl", 0, 0, 4096, NULL);

		cr_assert_geq(tmpl, 0, "ring template: %s", strerror(errno));
		bpf_map__set_max_entries(skel->maps.fb_rings, (uint32_t)libbpf_num_possible_cpus());
		bpf_map__set_inner_map_fd(skel->maps.fb_rings, tmpl);
		ring_fds[n_ring_fds++] = tmpl;
	}
	if (watermark)
		skel->rodata->watermark = watermark;
	if (kick_step)
		skel->rodata->kick_step = kick_step;

	err = flowbatch__load(skel);
	/* EPERM is a missing capability; anything else (EACCES from the
	 * verifier, EINVAL) is a real failure and must not be skipped. */
	if (err == -EPERM) {
		flowbatch__destroy(skel);
		skel = NULL;
		no_bpf("load: EPERM");
		return;
	}
	cr_assert_eq(err, 0, "flowbatch__load: %s (verifier log above, if any)", strerror(-err));

	if (fbt_shared_ring) {
		add_ring(bpf_map__fd(skel->maps.fb_ring), ring_bytes);
		return;
	}
	/* like flowbatch: one ring per possible CPU in the outer map */
	for (uint32_t k = 0; k < (uint32_t)libbpf_num_possible_cpus(); k++) {
		int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "fbt_ring", 0, 0, (uint32_t)ring_bytes, NULL);

		cr_assert_geq(fd, 0, "ring of %zu bytes: %s", ring_bytes, strerror(errno));
		ring_fds[n_ring_fds++] = fd;
		cr_assert_eq(bpf_map_update_elem(bpf_map__fd(skel->maps.fb_rings), &k, &fd, BPF_ANY), 0);
		add_ring(fd, ring_bytes);
	}
}

void fbt_init(void)
{
	fbt_open(FBT_RING_DEFAULT, 0, 0);
}

void fbt_fini(void)
{
	while (n_rings > 0)
		fb_ring__free(rings[--n_rings]);
	while (n_ring_fds > 0)
		close(ring_fds[--n_ring_fds]);
	fbt_shared_ring = false;
	flowbatch__destroy(skel);
	skel = NULL;
}

int fbt_cpu(void)
{
	return pinned_cpu;
}

size_t fbt_page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

static struct bpf_program *prog_of(enum fbt_prog prog)
{
	switch (prog) {
	case FBT_XDP:
		return skel->progs.fb_xdp;
	case FBT_TC_IN:
		return skel->progs.fb_tc_in;
	case FBT_TC_OUT:
		return skel->progs.fb_tc_out;
	default:
		cr_assert_fail("bad program %d", prog);
	}
	return NULL;
}

int fbt_run_raw(enum fbt_prog prog, const void *data, size_t len, int repeat,
		uint32_t *retval, void *out, uint32_t *out_len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data, .data_size_in = (uint32_t)len,
		    .data_out = out, .data_size_out = out_len ? *out_len : 0, .repeat = repeat);
	int err;

	need_bpf();
	err = bpf_prog_test_run_opts(bpf_program__fd(prog_of(prog)), &o);
	if (retval)
		*retval = o.retval;
	if (out_len)
		*out_len = o.data_size_out;
	return err;
}

/* Returns 0 when the kernel refused the frame with EINVAL and
 * tolerate_einval is set, else 1 (the program ran, and was checked). */
static int run_checked(enum fbt_prog prog, const void *data, size_t len, int repeat,
		       int tolerate_einval)
{
	uint8_t out[4096];
	uint32_t out_len = sizeof(out), ret = 0;
	int err, want_ret = prog == FBT_XDP ? FBT_RET_XDP_PASS : FBT_RET_TC_UNSPEC;

	cr_assert_leq(len, sizeof(out), "frame too large for the test buffer");
	err = fbt_run_raw(prog, data, len, repeat, &ret, out, &out_len);
	if (err == -EINVAL && tolerate_einval)
		return 0;
	cr_assert_eq(err, 0, "%s: BPF_PROG_TEST_RUN on %zu bytes: %s", prog_names[prog], len,
		     strerror(-err));
	/* XDP_PASS / TC_ACT_UNSPEC: the capture never drops or redirects */
	cr_assert_eq((int)ret, want_ret, "%s: verdict: got %d, want %d", prog_names[prog], (int)ret,
		     want_ret);
	/* and it never touches the packet */
	cr_assert_eq(out_len, len, "%s: data_out length: got %u, want %zu", prog_names[prog],
		     out_len, len);
	cr_assert(memcmp(out, data, len) == 0, "%s: the program modified the frame",
		  prog_names[prog]);
	return 1;
}

void fbt_run_checked(enum fbt_prog prog, const void *data, size_t len, int repeat)
{
	run_checked(prog, data, len, repeat, 0);
}

size_t fbt_drain(struct fb_pkt *recs, size_t max)
{
	uint64_t bad = 0;
	int i;

	need_bpf();
	drain = (struct drain_ctx){.recs = recs, .max = max};
	for (i = 0; i < n_rings; i++) {
		int64_t n = fb_ring__drain(rings[i], 0);

		cr_assert_geq(n, 0, "fb_ring__drain: %s", strerror((int)-n));
		bad += fb_ring__bad(rings[i]);
		/* everything committed was read: the kernel sees the space free */
		cr_assert_eq(fb_ring__avail(rings[i]), 0, "ring %d: %llu bytes left after a drain", i,
			     (unsigned long long)fb_ring__avail(rings[i]));
	}
	cr_assert_eq(bad, 0, "%llu ring records were not %zu-byte packet records",
		     (unsigned long long)bad, sizeof(struct fb_pkt));
	cr_assert_leq(drain.n, max, "ring held %zu records, more than the %zu expected", drain.n,
		      max);
	return drain.n;
}

struct fb_counters fbt_counters(void)
{
	int ncpu = libbpf_num_possible_cpus();
	struct fb_counters sum = {0}, *per;
	uint32_t key = FB_REC_PKT;
	int i, err;

	need_bpf();
	cr_assert_gt(ncpu, 0, "libbpf_num_possible_cpus: %d", ncpu);
	per = calloc((size_t)ncpu, sizeof(*per));
	cr_assert_not_null(per);
	/* a per-CPU lookup returns one value per possible CPU */
	err = bpf_map_lookup_elem(bpf_map__fd(skel->maps.fb_counters), &key, per);
	cr_assert_eq(err, 0, "lookup fb_counters: %s", strerror(errno));
	for (i = 0; i < ncpu; i++) {
		sum.seen += per[i].seen;
		sum.lost += per[i].lost;
		sum.parse_err += per[i].parse_err;
		sum.wakeups += per[i].wakeups;
	}
	free(per);
	return sum;
}

void fbt_expect_counters(uint64_t seen, uint64_t lost, uint64_t parse_err)
{
	struct fb_counters c = fbt_counters();

	cr_expect_eq(c.seen, seen, "counter seen: got %llu, want %llu", (unsigned long long)c.seen,
		     (unsigned long long)seen);
	cr_expect_eq(c.lost, lost, "counter lost: got %llu, want %llu", (unsigned long long)c.lost,
		     (unsigned long long)lost);
	cr_expect_eq(c.parse_err, parse_err, "counter parse_err: got %llu, want %llu",
		     (unsigned long long)c.parse_err, (unsigned long long)parse_err);
}

/* ---- frame builder --------------------------------------------------- */

void f_bytes(struct frame *f, const void *p, size_t n)
{
	cr_assert_leq(f->len + n, sizeof(f->b), "frame builder overflow");
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

void f_fill(struct frame *f, uint8_t v, size_t n)
{
	cr_assert_leq(f->len + n, sizeof(f->b), "frame builder overflow");
	memset(f->b + f->len, v, n);
	f->len += n;
}

void f_be16(struct frame *f, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	f_bytes(f, b, 2);
}

static void f_be32(struct frame *f, uint32_t v)
{
	f_be16(f, (uint16_t)(v >> 16));
	f_be16(f, (uint16_t)v);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void f_eth(struct frame *f, uint16_t ethertype)
{
	static const uint8_t macs[12] = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01};

	f_bytes(f, macs, sizeof(macs));
	f_be16(f, ethertype);
}

void f_vlan(struct frame *f, uint16_t vid, uint16_t ethertype)
{
	f_be16(f, vid & 0x0fff);
	f_be16(f, ethertype);
}

void f_ipv4(struct frame *f, uint8_t proto, uint16_t frag, const void *opts, size_t optlen)
{
	cr_assert(optlen % 4 == 0 && optlen <= 40, "bad IPv4 options length %zu", optlen);
	f->l3 = f->len;
	f->l3_ver = 4;
	f_fill(f, (uint8_t)(0x40 | (5 + optlen / 4)), 1);
	f_fill(f, 0, 1);    /* TOS */
	f_be16(f, 0);       /* total length: f_fix */
	f_be16(f, 0x1234);  /* id */
	f_be16(f, frag);
	f_fill(f, 64, 1);   /* TTL */
	f_fill(f, proto, 1);
	f_be16(f, 0);       /* checksum: f_fix */
	f_bytes(f, SRC4, 4);
	f_bytes(f, DST4, 4);
	if (optlen)
		f_bytes(f, opts, optlen);
}

void f_ipv6(struct frame *f, uint8_t nh)
{
	f->l3 = f->len;
	f->l3_ver = 6;
	f_be32(f, 0x60000000); /* version, class, flow label */
	f_be16(f, 0);          /* payload length: f_fix */
	f_fill(f, nh, 1);
	f_fill(f, 64, 1);      /* hop limit */
	f_bytes(f, SRC6, 16);
	f_bytes(f, DST6, 16);
}

void f_ext6(struct frame *f, uint8_t nh, uint8_t len8)
{
	f_fill(f, nh, 1);
	f_fill(f, len8, 1);
	/* Pad1 options for hop-by-hop and destination options; for routing
	 * headers, type 0 with segments left 0, which receivers skip */
	f_fill(f, 0, 6 + 8 * (size_t)len8);
}

void f_frag6(struct frame *f, uint8_t nh, uint16_t offset, int more)
{
	f_fill(f, nh, 1);
	f_fill(f, 0, 1);
	f_be16(f, (uint16_t)(offset << 3 | (more ? 1 : 0)));
	f_be32(f, 0xfb000001); /* identification */
}

void f_udp(struct frame *f, uint16_t sport, uint16_t dport)
{
	f_be16(f, sport);
	f_be16(f, dport);
	f_be16(f, 8); /* length: header only */
	f_be16(f, 0); /* checksum: not checked by the parser */
}

void f_tcp(struct frame *f, uint16_t sport, uint16_t dport, uint8_t flags)
{
	f_be16(f, sport);
	f_be16(f, dport);
	f_be32(f, 1000); /* seq */
	f_be32(f, flags & 0x10 ? 2000 : 0);
	f_fill(f, 5 << 4, 1); /* data offset: 20 bytes */
	f_fill(f, flags, 1);
	f_be16(f, 65535); /* window */
	f_be16(f, 0);     /* checksum */
	f_be16(f, 0);     /* urgent */
}

void f_sctp(struct frame *f, uint16_t sport, uint16_t dport)
{
	f_be16(f, sport);
	f_be16(f, dport);
	f_be32(f, 0x01020304); /* verification tag */
	f_be32(f, 0);          /* CRC32c */
}

void f_icmp(struct frame *f, uint8_t type, uint8_t code)
{
	f_fill(f, type, 1);
	f_fill(f, code, 1);
	f_be16(f, 0);      /* checksum */
	f_be32(f, 0x00010001); /* echo id/seq, or unused */
}

void f_fix(struct frame *f)
{
	uint8_t *ip = f->b + f->l3;

	if (f->l3_ver == 4) {
		size_t ihl = (size_t)(ip[0] & 0x0f) * 4, i;
		uint32_t sum = 0;

		put_be16(ip + 2, (uint16_t)(f->len - f->l3));
		put_be16(ip + 10, 0);
		for (i = 0; i < ihl; i += 2)
			sum += (uint32_t)ip[i] << 8 | ip[i + 1];
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		put_be16(ip + 10, (uint16_t)~sum);
	} else if (f->l3_ver == 6) {
		put_be16(ip + 4, (uint16_t)(f->len - f->l3 - 40));
	}
	f->fixed = 1;
}

void f_cut(struct frame *f, size_t n)
{
	cr_assert_leq(n, f->len, "f_cut(%zu) beyond the frame (%zu bytes)", n, f->len);
	if (!f->fixed)
		f_fix(f);
	f->len = n;
}

/* ---- expected records ------------------------------------------------ */

struct fb_pkt want_none(uint16_t ethertype)
{
	return (struct fb_pkt){.ethertype = ethertype};
}

struct fb_pkt want_ip4(uint8_t proto)
{
	struct fb_pkt w = {.ethertype = FB_ETH_P_IP, .proto = proto};

	/* v4-mapped, spelled out: ::ffff:a.b.c.d */
	w.src[10] = w.src[11] = 0xff;
	w.dst[10] = w.dst[11] = 0xff;
	memcpy(&w.src[12], SRC4, 4);
	memcpy(&w.dst[12], DST4, 4);
	return w;
}

struct fb_pkt want_ip6(uint8_t proto)
{
	struct fb_pkt w = {.ethertype = FB_ETH_P_IPV6, .proto = proto, .flags = FB_F_IPV6};

	memcpy(w.src, SRC6, 16);
	memcpy(w.dst, DST6, 16);
	return w;
}

static const char *addr_str(const uint8_t a[16], char *buf)
{
	if (!inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN))
		strcpy(buf, "?");
	return buf;
}

void fbt_expect_pkt(const struct fb_pkt *r, const struct fb_pkt *w, const char *what)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	cr_expect_eq(r->flags, w->flags, "%s: flags: got 0x%02x, want 0x%02x", what, r->flags,
		     w->flags);
	cr_expect_eq(r->ethertype, w->ethertype, "%s: ethertype: got 0x%04x, want 0x%04x", what,
		     r->ethertype, w->ethertype);
	cr_expect_eq(r->proto, w->proto, "%s: proto: got %u, want %u", what, r->proto, w->proto);
	cr_expect_eq(r->tcp_flags, w->tcp_flags, "%s: tcp_flags: got 0x%02x, want 0x%02x", what,
		     r->tcp_flags, w->tcp_flags);
	cr_expect_eq(r->sport, w->sport, "%s: sport: got %u, want %u", what, r->sport, w->sport);
	cr_expect_eq(r->dport, w->dport, "%s: dport: got %u, want %u", what, r->dport, w->dport);
	cr_expect(memcmp(r->src, w->src, 16) == 0, "%s: src: got %s, want %s", what,
		  addr_str(r->src, a), addr_str(w->src, b));
	cr_expect(memcmp(r->dst, w->dst, 16) == 0, "%s: dst: got %s, want %s", what,
		  addr_str(r->dst, a), addr_str(w->dst, b));
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void check_frame(struct frame *f, const struct fb_pkt *want, int short_l3)
{
	struct fb_pkt rec[2];
	uint32_t ran = 0;
	int p;

	if (!f->fixed)
		f_fix(f);
	for (p = 0; p < FBT_NPROGS; p++) {
		struct fb_pkt w = *want;
		uint64_t t0, t1;
		size_t n;

		t0 = mono_ns();
		/* XDP takes any frame of 14 bytes or more; only TC may refuse */
		if (!run_checked((enum fbt_prog)p, f->b, f->len, 1, short_l3 && p != FBT_XDP))
			continue;
		t1 = mono_ns();
		ran++;
		n = fbt_drain(rec, 2);
		cr_assert_eq(n, 1, "%s: records in the ring: got %zu, want 1", prog_names[p], n);

		cr_expect_eq(rec[0].type, FB_REC_PKT, "%s: type: got %u, want FB_REC_PKT",
			     prog_names[p], rec[0].type);
		cr_expect_eq(rec[0].cpu, fbt_cpu(), "%s: cpu: got %u, want %d", prog_names[p],
			     rec[0].cpu, fbt_cpu());
		/* one packet per program on one CPU: seq counts 1, 2, 3 */
		cr_expect_eq(rec[0].seq, ran, "%s: seq: got %u, want %u", prog_names[p], rec[0].seq,
			     ran);
		cr_expect_eq(rec[0].ifindex, FBT_LO_IFINDEX, "%s: ifindex: got %u, want %d",
			     prog_names[p], rec[0].ifindex, FBT_LO_IFINDEX);
		/* bpf_ktime_get_ns is CLOCK_MONOTONIC: it must fall inside the run */
		cr_expect(rec[0].ts_ns != 0 && rec[0].ts_ns >= t0 && rec[0].ts_ns <= t1,
			  "%s: ts_ns %llu outside the run [%llu, %llu]", prog_names[p],
			  (unsigned long long)rec[0].ts_ns, (unsigned long long)t0,
			  (unsigned long long)t1);
		cr_expect_eq(rec[0].wire_len, f->len, "%s: wire_len: got %u, want %zu",
			     prog_names[p], rec[0].wire_len, f->len);

		if (p == FBT_TC_OUT)
			w.flags |= FB_F_EGRESS;
		fbt_expect_pkt(&rec[0], &w, prog_names[p]);
	}
	fbt_expect_counters(ran, 0, want->flags & FB_F_PARSE_ERR ? ran : 0);
}

void fbt_check_frame(struct frame *f, const struct fb_pkt *want)
{
	check_frame(f, want, 0);
}

void fbt_check_frame_short_l3(struct frame *f, const struct fb_pkt *want)
{
	check_frame(f, want, 1);
}

/* ---- any program by name, with an optional context ------------------- */

int fbt_run_prog(const char *name, const void *data, size_t len, const void *ctx, size_t ctx_len,
		 uint32_t *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data, .data_size_in = (uint32_t)len,
		    .ctx_in = ctx, .ctx_size_in = (uint32_t)ctx_len, .repeat = 1);
	struct bpf_program *p;
	int err;

	need_bpf();
	p = bpf_object__find_program_by_name(skel->obj, name);
	cr_assert_not_null(p, "no BPF program named %s", name);
	err = bpf_prog_test_run_opts(bpf_program__fd(p), &o);
	if (retval)
		*retval = o.retval;
	return err;
}

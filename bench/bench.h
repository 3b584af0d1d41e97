/* Helpers shared by the micro-benchmarks (bench/b_*.c): clocks, CPU pinning,
 * medians, BPF_PROG_TEST_RUN, and a drainer thread that empties rings in
 * batches and sleeps in between (edge-triggered epoll on the rings, woken by
 * forced wake-ups, plus a 10 ms timeout; it never spins). Everything is
 * static: each bench is one translation unit. */
#ifndef FB_BENCH_H
#define FB_BENCH_H
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "ring.h"

#define BENCH_MAX_RINGS 64

static inline uint64_t bench_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t mono_ns(void)
{
	return bench_ns(CLOCK_MONOTONIC);
}

static inline int pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* SCHED_FIFO at prio for the calling thread (0: back to SCHED_OTHER); the
 * benches use it so other load on a shared machine cannot stall a producer
 * or the drainer (RT throttling still leaves 5% to everything else). */
static inline int set_rt(int prio)
{
	struct sched_param sp = { .sched_priority = prio };

	return pthread_setschedparam(pthread_self(), prio ? SCHED_FIFO : SCHED_OTHER, &sp);
}

/* nice value of the calling thread (Linux: per thread); 0 or -errno */
static inline int set_nice(int nice)
{
	return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice) ? -errno : 0;
}

static inline void unpin(void)
{
	cpu_set_t set;
	long i, n = sysconf(_SC_NPROCESSORS_ONLN);

	CPU_ZERO(&set);
	for (i = 0; i < n && i < CPU_SETSIZE; i++)
		CPU_SET(i, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* median of n values (n small); v is reordered */
static inline double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_dbl);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static inline bool has_flag(int argc, char **argv, const char *flag)
{
	int i;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], flag))
			return true;
	return false;
}

static int bench_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static inline void bench_init(void)
{
	libbpf_set_print(bench_libbpf_print);
}

/* Runs prog repeat times on data; returns the kernel's mean ns per run
 * (BPF_PROG_TEST_RUN's duration) or a negative value on error. */
static inline double test_run(int prog_fd, const void *data, uint32_t len, uint32_t repeat)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data, .data_size_in = len, .repeat = repeat);
	int e = bpf_prog_test_run_opts(prog_fd, &o);

	if (e) {
		fprintf(stderr, "BPF_PROG_TEST_RUN: %s\n", strerror(errno));
		return -1;
	}
	return (double)o.duration;
}

/* ---- test frames ------------------------------------------------------ */

enum bench_frame { FR_UDP4, FR_IP6HBH, FR_VLAN4, FR_TCP4, FR_COUNT };
static const char *const frame_names[FR_COUNT] = { "udp4", "ip6hbh", "vlan4", "tcp4" };

static inline uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static inline uint8_t *put_ipv4(uint8_t *p, uint8_t proto, uint16_t l4_len)
{
	static const uint8_t src[4] = { 198, 18, 0, 1 }, dst[4] = { 198, 18, 0, 2 };

	*p++ = 0x45;
	*p++ = 0;
	p = put16(p, (uint16_t)(20 + l4_len));
	p = put16(p, 1);      /* id */
	p = put16(p, 0x4000); /* DF */
	*p++ = 64;
	*p++ = proto;
	p = put16(p, 0); /* checksum: not checked by parsers */
	memcpy(p, src, 4);
	memcpy(p + 4, dst, 4);
	return p + 8;
}

static inline uint8_t *put_udp(uint8_t *p, uint16_t payload)
{
	p = put16(p, 1024);
	p = put16(p, 9);
	p = put16(p, (uint16_t)(8 + payload));
	p = put16(p, 0);
	memset(p, 0xab, payload);
	return p + payload;
}

/* Writes frame kind into buf (>= 128 bytes); returns its length.
 * udp4: 64 B Ethernet/IPv4/UDP; ip6hbh: Ethernet/IPv6/hop-by-hop/UDP (86 B);
 * vlan4: 64 B Ethernet/802.1Q/IPv4/UDP; tcp4: 64 B Ethernet/IPv4/TCP (ACK|PSH). */
static inline uint32_t build_frame(enum bench_frame kind, uint8_t *buf)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 };
	uint8_t *p = buf;

	memset(buf, 0, 128);
	memcpy(p, macs, 12);
	p += 12;
	switch (kind) {
	case FR_UDP4:
		p = put16(p, 0x0800);
		p = put_ipv4(p, 17, 8 + 22);
		p = put_udp(p, 22);
		break;
	case FR_VLAN4:
		p = put16(p, 0x8100);
		p = put16(p, 100); /* VID 100 */
		p = put16(p, 0x0800);
		p = put_ipv4(p, 17, 8 + 18);
		p = put_udp(p, 18);
		break;
	case FR_TCP4:
		p = put16(p, 0x0800);
		p = put_ipv4(p, 6, 20 + 10);
		p = put16(p, 40000);
		p = put16(p, 443);
		p = put16(p, 0), p = put16(p, 1); /* seq */
		p = put16(p, 0), p = put16(p, 1); /* ack */
		*p++ = 0x50; /* data offset 5 */
		*p++ = 0x18; /* PSH|ACK */
		p = put16(p, 512);
		p = put16(p, 0), p = put16(p, 0); /* checksum, urgent */
		memset(p, 0xcd, 10);
		p += 10;
		break;
	case FR_IP6HBH: {
		static const uint8_t s6[16] = { 0x20, 0x01, 0, 2, [15] = 1 };
		static const uint8_t d6[16] = { 0x20, 0x01, 0, 2, [15] = 2 };

		p = put16(p, 0x86dd);
		*p++ = 0x60;
		*p++ = 0, *p++ = 0, *p++ = 0;
		p = put16(p, 8 + 8 + 16); /* payload: hop-by-hop + UDP + data */
		*p++ = 0;  /* next header: hop-by-hop */
		*p++ = 64; /* hop limit */
		memcpy(p, s6, 16);
		memcpy(p + 16, d6, 16);
		p += 32;
		*p++ = 17; /* hop-by-hop: next UDP, length 0 (8 bytes) */
		*p++ = 0;
		*p++ = 1; /* PadN, 4 bytes */
		*p++ = 4;
		p += 4;
		p = put_udp(p, 16);
		break;
	}
	default:
		break;
	}
	return (uint32_t)(p - buf);
}

/* ---- drainer ------------------------------------------------------- */

struct drainer {
	struct fb_ring *rings[BENCH_MAX_RINGS];
	int n;
	int epfd;
	int cpu; /* -1: not pinned */
	int rt; /* SCHED_FIFO priority, 0 = none */
	pthread_t th;
	int stop; /* atomic */
	/* results; records includes bad ones (not well-formed packet records) */
	uint64_t records, bad, drains, wakeups, timeouts;
};

static int bench_nop_cb(void *ctx, const void *recs, uint32_t n)
{
	return 0;
}

/* An fb_ring over a packet ring whose records go to fn (NULL: dropped after
 * the copy, which is the reader's whole cost). Anything that is not a
 * well-formed packet record is counted by fb_ring__bad(). */
static inline struct fb_ring *bench_ring_new(int map_fd, uint64_t size, fb_rec_fn fn, void *ctx)
{
	struct fb_ring_handlers h = { 0 };

	h.by_type[FB_REC_PKT] = (struct fb_rec_handler){
		.len = sizeof(struct fb_pkt), .fn = fn ? fn : bench_nop_cb, .ctx = ctx };
	return fb_ring__new(map_fd, size, &h);
}

static inline uint64_t drainer_drain_all(struct drainer *d)
{
	uint64_t got = 0;
	int i;

	for (i = 0; i < d->n; i++) {
		int64_t r = fb_ring__drain(d->rings[i], 0);

		if (r > 0)
			got += (uint64_t)r;
	}
	d->records += got;
	d->drains++;
	return got;
}

static void *drainer_main(void *arg)
{
	struct drainer *d = arg;
	struct epoll_event ev[BENCH_MAX_RINGS];

	if (d->cpu >= 0)
		pin_cpu(d->cpu);
	if (d->rt)
		set_rt(d->rt);
	while (!__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE)) {
		int k = epoll_wait(d->epfd, ev, BENCH_MAX_RINGS, 10);

		if (k > 0)
			d->wakeups++;
		else if (k == 0)
			d->timeouts++;
		drainer_drain_all(d);
	}
	drainer_drain_all(d); /* what was committed before the stop */
	return NULL;
}

/* rings: fb_ring readers, owned by the caller. cpu: where the drainer runs
 * (-1: anywhere); rt: its SCHED_FIFO priority (0: normal). */
static inline int drainer_start(struct drainer *d, struct fb_ring **rings, int n, int cpu, int rt)
{
	int i;

	memset(d, 0, sizeof(*d));
	d->n = n;
	d->cpu = cpu;
	d->rt = rt;
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u32 = (uint32_t)i };

		d->rings[i] = rings[i];
		if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fb_ring__fd(rings[i]), &ev))
			return -errno;
	}
	return -pthread_create(&d->th, NULL, drainer_main, d);
}

static inline void drainer_stop(struct drainer *d)
{
	int i;

	__atomic_store_n(&d->stop, 1, __ATOMIC_RELEASE);
	pthread_join(d->th, NULL);
	close(d->epfd);
	for (i = 0; i < d->n; i++)
		d->bad += fb_ring__bad(d->rings[i]);
}

/* Sums flowbatch's packet counters (key FB_REC_PKT) over CPUs. */
static inline int read_counters(int map_fd, struct fb_counters *sum, struct fb_counters *percpu,
				int ncpus)
{
	struct fb_counters *v = calloc((size_t)ncpus, sizeof(*v));
	uint32_t key = FB_REC_PKT;
	int i;

	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(map_fd, &key, v)) {
		free(v);
		return -errno;
	}
	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < ncpus; i++) {
		sum->seen += v[i].seen;
		sum->lost += v[i].lost;
		sum->parse_err += v[i].parse_err;
		sum->wakeups += v[i].wakeups;
		if (percpu)
			percpu[i] = v[i];
	}
	free(v);
	return 0;
}

static inline int zero_counters(int map_fd, int ncpus)
{
	struct fb_counters *v = calloc((size_t)ncpus, sizeof(*v));
	uint32_t key = FB_REC_PKT;
	int e;

	if (!v)
		return -ENOMEM;
	e = bpf_map_update_elem(map_fd, &key, v, BPF_ANY) ? -errno : 0;
	free(v);
	return e;
}

#endif

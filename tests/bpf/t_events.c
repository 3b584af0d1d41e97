/* The --events programs (bpf/events.bpf.h) against the real kernel: tracing
 * programs cannot run under BPF_PROG_TEST_RUN (tp_btf has no test_run), so
 * each test makes the events happen itself, inside a network namespace of
 * its own (loopback only), and reads the records back from the ring. The
 * programs are host-wide: records are matched by the test's own addresses
 * (127.x.y.1/.2 picked from the PID) and ports, anything else is ignored. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "flowbatch.skel.h"
#include "flowbatch/record.h"
#include "ring.h"

#define MAXR 4096
#define RING_BYTES (1u << 22)

static struct flowbatch *skel;
static struct fb_ring *ring;
static struct bpf_link *links[8];
static int nlinks;
static struct fb_tcp_ev tcp[MAXR];
static struct fb_drop drops[MAXR];
static int ntcp, ndrop;
static uint8_t addr_srv[16], addr_cli[16]; /* v4-mapped */
static uint32_t ip_srv, ip_cli; /* network order */

static int on_tcp(void *ctx, const void *recs, uint32_t n)
{
	const struct fb_tcp_ev *e = recs;

	for (uint32_t i = 0; i < n; i++)
		if (ntcp < MAXR)
			tcp[ntcp++] = e[i];
	return 0;
}

static int on_drop(void *ctx, const void *recs, uint32_t n)
{
	const struct fb_drop *d = recs;

	for (uint32_t i = 0; i < n; i++)
		if (ndrop < MAXR)
			drops[ndrop++] = d[i];
	return 0;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static void mapped(uint8_t a[16], uint32_t ip)
{
	memset(a, 0, 16);
	a[10] = a[11] = 0xff;
	memcpy(a + 12, &ip, 4);
}

/* Loads the programs named in progs (NULL-terminated) with one shared ring,
 * attaches them, and moves the test into a new network namespace with
 * loopback up. */
static void ev_open(const char *const *progs)
{
	struct fb_ring_handlers h = { 0 };
	struct ifreq ifr;
	int err, fd;

	libbpf_set_print(quiet);
	if (geteuid() != 0) {
		const char *req = getenv("FLOWBATCH_REQUIRE_PRIV");

		cr_assert(!(req && !strcmp(req, "1")), "needs root, and FLOWBATCH_REQUIRE_PRIV=1");
		cr_skip_test("SKIP: needs root and BPF");
	}
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare(CLONE_NEWNET): %s", strerror(errno));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	cr_assert_eq(ioctl(fd, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	cr_assert_eq(ioctl(fd, SIOCSIFFLAGS, &ifr), 0, "lo up: %s", strerror(errno));
	close(fd);

	skel = flowbatch__open();
	cr_assert_not_null(skel, "flowbatch__open: %s", strerror(errno));
	skel->rodata->percpu_rings = false;
	skel->rodata->fb_ev_retrans_has_err = true; /* 6.12+: this kernel */
	skel->rodata->fb_ev_rst_has_reason = true; /* 6.10+ */
	bpf_map__set_max_entries(skel->maps.fb_ring, RING_BYTES);
	/* only the programs under test (packet programs stay unloaded too) */
	bpf_program__set_autoload(skel->progs.fb_xdp, false);
	bpf_program__set_autoload(skel->progs.fb_tc_in, false);
	bpf_program__set_autoload(skel->progs.fb_tc_out, false);
	for (int i = 0; progs[i]; i++) {
		struct bpf_program *p = bpf_object__find_program_by_name(skel->obj, progs[i]);

		cr_assert_not_null(p, "no program %s", progs[i]);
		bpf_program__set_autoload(p, true);
	}
	err = flowbatch__load(skel);
	cr_assert_eq(err, 0, "load: %s (verifier log above)", strerror(-err));
	for (int i = 0; progs[i]; i++) {
		struct bpf_program *p = bpf_object__find_program_by_name(skel->obj, progs[i]);

		links[nlinks] = bpf_program__attach(p);
		cr_assert_not_null(links[nlinks], "attach %s: %s", progs[i], strerror(errno));
		nlinks++;
	}
	h.by_type[FB_REC_TCP_STATE] = (struct fb_rec_handler){ sizeof(struct fb_tcp_ev), on_tcp, NULL };
	h.by_type[FB_REC_RETRANS] = (struct fb_rec_handler){ sizeof(struct fb_tcp_ev), on_tcp, NULL };
	h.by_type[FB_REC_RESET] = (struct fb_rec_handler){ sizeof(struct fb_tcp_ev), on_tcp, NULL };
	h.by_type[FB_REC_RTT] = (struct fb_rec_handler){ sizeof(struct fb_tcp_ev), on_tcp, NULL };
	h.by_type[FB_REC_DROP] = (struct fb_rec_handler){ sizeof(struct fb_drop), on_drop, NULL };
	ring = fb_ring__new(bpf_map__fd(skel->maps.fb_ring), RING_BYTES, &h);
	cr_assert_not_null(ring, "fb_ring__new: %s", strerror(errno));

	/* 127.a.b.1 (server) and 127.a.b.2 (client): loopback answers all of
	 * 127/8, and the PID keeps concurrent runs apart */
	ip_srv = htonl(0x7f000001u | (uint32_t)(getpid() & 0xffff) << 8);
	ip_cli = htonl(ntohl(ip_srv) + 1);
	mapped(addr_srv, ip_srv);
	mapped(addr_cli, ip_cli);
}

static void ev_close(void)
{
	while (nlinks > 0)
		bpf_link__destroy(links[--nlinks]);
	fb_ring__free(ring);
	ring = NULL;
	flowbatch__destroy(skel);
	skel = NULL;
	ntcp = ndrop = 0;
}

static void drain(void)
{
	cr_assert_geq(fb_ring__drain(ring, 0), 0);
	cr_assert_eq(fb_ring__bad(ring), 0, "records of a wrong length");
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static struct sockaddr_in sin_of(uint32_t ip, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	a.sin_addr.s_addr = ip;
	return a;
}

/* A listener on the server address; returns its fd and port. */
static int listener(uint16_t *port)
{
	struct sockaddr_in a = sin_of(ip_srv, 0);
	socklen_t len = sizeof(a);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert_geq(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cr_assert_eq(bind(fd, (void *)&a, sizeof(a)), 0, "bind: %s", strerror(errno));
	cr_assert_eq(listen(fd, 16), 0);
	getsockname(fd, (void *)&a, &len);
	*port = ntohs(a.sin_port);
	return fd;
}

static int client(uint16_t port, uint16_t *cport, int *err)
{
	struct sockaddr_in a = sin_of(ip_cli, 0), d = sin_of(ip_srv, port);
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert_eq(bind(fd, (void *)&a, sizeof(a)), 0);
	getsockname(fd, (void *)&a, &len);
	*cport = ntohs(a.sin_port);
	*err = connect(fd, (void *)&d, sizeof(d)) ? errno : 0;
	return fd;
}

/* the record's tuple is (src:sport -> dst:dport) */
static bool tuple_is(const struct fb_tcp_ev *e, const uint8_t *src, uint16_t sport, const uint8_t *dst,
		     uint16_t dport)
{
	return !memcmp(e->src, src, 16) && !memcmp(e->dst, dst, 16) && e->sport == sport && e->dport == dport;
}

static int count_tcp(uint8_t type, const uint8_t *src, uint16_t sport, const uint8_t *dst, uint16_t dport,
		     int from, int to)
{
	int n = 0;

	for (int i = 0; i < ntcp; i++) {
		const struct fb_tcp_ev *e = &tcp[i];

		if (e->type != type || !tuple_is(e, src, sport, dst, dport))
			continue;
		if (from >= 0 && (e->aux >> 8) != from)
			continue;
		if (to >= 0 && (e->aux & 0xff) != to)
			continue;
		n++;
	}
	return n;
}

static struct fb_counters counters(uint32_t type)
{
	int ncpu = libbpf_num_possible_cpus();
	struct fb_counters c[ncpu], sum = { 0 };

	cr_assert_eq(bpf_map_lookup_elem(bpf_map__fd(skel->maps.fb_counters), &type, c), 0);
	for (int i = 0; i < ncpu; i++) {
		sum.seen += c[i].seen;
		sum.lost += c[i].lost;
	}
	return sum;
}

TestSuite(events, .fini = ev_close);

Test(events, all_programs_load_and_attach)
{
	static const char *const all[] = { "fb_ev_tcp_state", "fb_ev_retrans", "fb_ev_rst_send",
					   "fb_ev_rst_recv", "fb_ev_rtt", "fb_ev_drop", NULL };

	ev_open(all);
	cr_assert_eq(nlinks, 6);
}

/* Three connections opened and closed: each socket (client and server side)
 * reports ESTABLISHED once and CLOSE once, with its life, and from the
 * client the tuple is (client -> server), from the server the reverse. */
Test(events, tcp_lifecycle_exact)
{
	static const char *const p[] = { "fb_ev_tcp_state", NULL };
	uint16_t port, cport[3];
	int l, c[3], s[3], err, i;
	char buf[8];

	ev_open(p);
	l = listener(&port);
	for (i = 0; i < 3; i++) {
		c[i] = client(port, &cport[i], &err);
		cr_assert_eq(err, 0, "connect: %s", strerror(err));
		s[i] = accept(l, NULL, NULL);
		cr_assert_geq(s[i], 0);
	}
	for (i = 0; i < 3; i++) {
		close(c[i]); /* active close: FIN_WAIT1, FIN_WAIT2, then CLOSE (time-wait) */
		cr_assert_eq(read(s[i], buf, sizeof(buf)), 0);
		close(s[i]); /* CLOSE_WAIT, LAST_ACK, CLOSE on the last ACK */
	}
	close(l);
	for (int t = 0; t < 100; t++) {
		drain();
		int done = 0;

		for (i = 0; i < 3; i++)
			done += count_tcp(FB_REC_TCP_STATE, addr_srv, port, addr_cli, cport[i], -1, 7) == 1;
		if (done == 3)
			break;
		sleep_ms(10);
	}
	for (i = 0; i < 3; i++) {
		cr_expect_eq(count_tcp(FB_REC_TCP_STATE, addr_cli, cport[i], addr_srv, port, 7, 2), 1,
			     "client %d: CLOSE -> SYN_SENT", i);
		cr_expect_eq(count_tcp(FB_REC_TCP_STATE, addr_cli, cport[i], addr_srv, port, 2, 1), 1,
			     "client %d: SYN_SENT -> ESTABLISHED", i);
		cr_expect_eq(count_tcp(FB_REC_TCP_STATE, addr_cli, cport[i], addr_srv, port, -1, 7), 1,
			     "client %d: one change to CLOSE", i);
		cr_expect_eq(count_tcp(FB_REC_TCP_STATE, addr_srv, port, addr_cli, cport[i], 3, 1), 1,
			     "server %d: SYN_RECV -> ESTABLISHED", i);
		cr_expect_eq(count_tcp(FB_REC_TCP_STATE, addr_srv, port, addr_cli, cport[i], 9, 7), 1,
			     "server %d: LAST_ACK -> CLOSE", i);
	}
	for (i = 0; i < ntcp; i++) {
		const struct fb_tcp_ev *e = &tcp[i];

		if (!tuple_is(e, addr_cli, cport[0], addr_srv, port) || (e->aux & 0xff) != 7)
			continue;
		cr_expect_eq(e->flags & FB_EV_F_NOSTART, 0, "the open was seen");
		cr_expect_gt(e->val, 0, "a life");
		cr_expect_lt(e->val, 10ull * 1000000000ull, "a life under 10 s");
		cr_expect_eq(e->len, sizeof(struct fb_tcp_ev));
		cr_expect_eq(e->ifindex, 0);
	}
	cr_expect_eq(counters(FB_REC_TCP_STATE).lost, 0);
	cr_expect_geq(counters(FB_REC_TCP_STATE).seen, (uint64_t)ntcp);
}

/* A connection to a port nobody listens on: the server side sends a reset
 * without a socket (tuple from the SYN it answers), the client receives it
 * in SYN_SENT, the client socket goes SYN_SENT -> CLOSE, and the SYN itself
 * is dropped with reason NO_SOCKET. */
Test(events, refused_connection_resets_and_drop)
{
	static const char *const p[] = { "fb_ev_tcp_state", "fb_ev_rst_send", "fb_ev_rst_recv", "fb_ev_drop",
					  NULL };
	uint16_t port, cport;
	int l, c, err, sent = 0, recv = 0, nodrop = 0;

	ev_open(p);
	l = listener(&port);
	close(l); /* the port is now closed */
	c = client(port, &cport, &err);
	cr_assert_eq(err, ECONNREFUSED, "connect: %s", strerror(err));
	close(c);
	drain();
	for (int i = 0; i < ntcp; i++) {
		const struct fb_tcp_ev *e = &tcp[i];

		if (e->type != FB_REC_RESET)
			continue;
		if (tuple_is(e, addr_srv, port, addr_cli, cport)) {
			cr_expect(e->flags & FB_EV_F_NOSOCK, "sent without a socket");
			cr_expect_eq(e->flags & FB_EV_F_RST_RECV, 0);
			cr_expect_eq(e->aux, 0);
			sent++;
		} else if (tuple_is(e, addr_cli, cport, addr_srv, port)) {
			cr_expect(e->flags & FB_EV_F_RST_RECV);
			cr_expect_eq(e->aux, 2, "received in SYN_SENT");
			recv++;
		}
	}
	cr_expect_eq(sent, 1, "resets sent");
	cr_expect_eq(recv, 1, "resets received");
	cr_expect_eq(count_tcp(FB_REC_TCP_STATE, addr_cli, cport, addr_srv, port, 2, 7), 1, "SYN_SENT -> CLOSE");
	for (int i = 0; i < ndrop; i++) {
		const struct fb_drop *d = &drops[i];

		if (memcmp(d->src, addr_cli, 16) || memcmp(d->dst, addr_srv, 16) || d->sport != cport ||
		    d->dport != port)
			continue;
		cr_expect_eq(d->reason, 3 /* SKB_DROP_REASON_NO_SOCKET on this kernel */);
		cr_expect_eq(d->proto, 6);
		cr_expect_eq(d->flags, FB_EV_F_IP | FB_EV_F_PORTS);
		cr_expect_eq(d->aux, 0x0800);
		cr_expect_eq(d->ifindex, 1, "arrived on lo");
		nodrop++;
	}
	cr_expect_eq(nodrop, 1, "the SYN dropped once");
}

/* UDP datagrams to a closed port: each one dropped, NO_SOCKET, with its
 * tuple and length; nothing lost. */
Test(events, udp_closed_port_drops)
{
	static const char *const p[] = { "fb_ev_drop", NULL };
	struct sockaddr_in a, d;
	socklen_t len = sizeof(a);
	int fd, n = 0;

	ev_open(p);
	a = sin_of(ip_cli, 0);
	d = sin_of(ip_srv, 9); /* discard: nobody listens in this namespace */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_eq(bind(fd, (void *)&a, sizeof(a)), 0);
	getsockname(fd, (void *)&a, &len);
	for (int i = 0; i < 5; i++) {
		sendto(fd, "hello", 5, 0, (void *)&d, sizeof(d));
		sleep_ms(2); /* ICMP errors are rate limited, drops are not: pace anyway */
	}
	close(fd);
	drain();
	for (int i = 0; i < ndrop; i++) {
		const struct fb_drop *r = &drops[i];

		if (memcmp(r->src, addr_cli, 16) || memcmp(r->dst, addr_srv, 16) || r->sport != ntohs(a.sin_port) ||
		    r->dport != 9)
			continue;
		cr_expect_eq(r->reason, 3);
		cr_expect_eq(r->proto, 17);
		cr_expect_eq(r->bytes, 8 + 5, "skb->len where UDP drops it: its IP header is pulled already");
		n++;
	}
	cr_expect_eq(n, 5, "one drop per datagram");
	cr_expect_eq(counters(FB_REC_DROP).lost, 0);
}

/* Request/response over one connection: the client's socket reports a
 * smoothed RTT on the segments it receives, tuple (client -> server). */
Test(events, rtt_samples)
{
	static const char *const p[] = { "fb_ev_rtt", NULL };
	uint16_t port, cport;
	int l, c, s, err, n = 0;
	char buf[16];

	ev_open(p);
	l = listener(&port);
	c = client(port, &cport, &err);
	cr_assert_eq(err, 0);
	s = accept(l, NULL, NULL);
	for (int i = 0; i < 10; i++) {
		cr_assert_eq(write(c, "ping", 4), 4);
		cr_assert_eq(read(s, buf, sizeof(buf)), 4);
		cr_assert_eq(write(s, "pong", 4), 4);
		cr_assert_eq(read(c, buf, sizeof(buf)), 4);
	}
	close(c);
	close(s);
	close(l);
	drain();
	for (int i = 0; i < ntcp; i++) {
		const struct fb_tcp_ev *e = &tcp[i];

		if (e->type != FB_REC_RTT || !tuple_is(e, addr_cli, cport, addr_srv, port))
			continue;
		cr_expect_gt(e->info, 0, "srtt in us");
		cr_expect_lt(e->info, 1000000, "loopback RTT under a second");
		n++;
	}
	cr_expect_geq(n, 10, "one sample per segment received");
}

/* Program-level behaviour: verdicts, the packet left untouched, direction,
 * seq numbering, and the ring: losses when it is full, and wake-ups past
 * the watermark. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

TestSuite(prog, .init = fbt_init, .fini = fbt_fini);
/* ring tests open their own skeleton: they need a small ring or a tuned
 * watermark, both fixed at load time */
TestSuite(ring, .fini = fbt_fini);

static void udp4_frame(struct frame *f, size_t payload)
{
	f_eth(f, FB_ETH_P_IP);
	f_ipv4(f, IPPROTO_UDP, 0, NULL, 0);
	f_udp(f, 9000, 9001);
	f_fill(f, 0x5a, payload);
	f_fix(f);
}

static void expect_verdict(enum fbt_prog prog, int want)
{
	struct frame f = {0};
	uint8_t out[256];
	uint32_t ret = 0, out_len = sizeof(out);
	int err;

	udp4_frame(&f, 32);
	err = fbt_run_raw(prog, f.b, f.len, 1, &ret, out, &out_len);
	cr_assert_eq(err, 0, "BPF_PROG_TEST_RUN: %d", err);
	cr_expect_eq((int)ret, want, "verdict: got %d, want %d", (int)ret, want);
	cr_expect_eq(out_len, f.len, "data_out length: got %u, want %zu", out_len, f.len);
	cr_expect(memcmp(out, f.b, f.len) == 0, "the frame was modified");
}

Test(prog, xdp_returns_pass)
{
	expect_verdict(FBT_XDP, FBT_RET_XDP_PASS);
}

Test(prog, tc_in_returns_unspec)
{
	expect_verdict(FBT_TC_IN, FBT_RET_TC_UNSPEC);
}

Test(prog, tc_out_returns_unspec)
{
	expect_verdict(FBT_TC_OUT, FBT_RET_TC_UNSPEC);
}

/* A full-size frame, longer than the TC programs' pull length (192): it
 * still passes unchanged, and wire_len is the whole frame. */
Test(prog, full_size_frame)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip4(IPPROTO_UDP);

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_UDP, 0, NULL, 0);
	f_udp(&f, 9000, 9001);
	f_fill(&f, 0x5a, 1514 - f.len);
	w.sport = 9000;
	w.dport = 9001;
	fbt_check_frame(&f, &w);
}

/* The same frame in and out: the records differ only in FB_F_EGRESS (and
 * seq and time). */
Test(prog, tc_out_sets_egress)
{
	struct frame f = {0};
	struct fb_pkt in, out, a, b;

	udp4_frame(&f, 0);
	fbt_run_checked(FBT_TC_IN, f.b, f.len, 1);
	cr_assert_eq(fbt_drain(&in, 1), 1);
	fbt_run_checked(FBT_TC_OUT, f.b, f.len, 1);
	cr_assert_eq(fbt_drain(&out, 1), 1);

	cr_expect_eq(in.flags & FB_F_EGRESS, 0, "fb_tc_in set FB_F_EGRESS");
	cr_expect_eq(out.flags & FB_F_EGRESS, FB_F_EGRESS, "fb_tc_out did not set FB_F_EGRESS");
	a = in;
	b = out;
	a.seq = b.seq = 0;
	a.ts_ns = b.ts_ns = 0;
	b.flags &= (uint8_t)~FB_F_EGRESS;
	cr_expect(memcmp(&a, &b, sizeof(a)) == 0, "records differ beyond direction, seq and time");
}

/* XDP sees receive only: never FB_F_EGRESS */
Test(prog, xdp_is_ingress)
{
	struct frame f = {0};
	struct fb_pkt r;

	udp4_frame(&f, 0);
	fbt_run_checked(FBT_XDP, f.b, f.len, 1);
	cr_assert_eq(fbt_drain(&r, 1), 1);
	cr_expect_eq(r.flags & FB_F_EGRESS, 0, "fb_xdp set FB_F_EGRESS");
}

/* seq counts every packet on the CPU across all three programs, parse
 * errors included, and ts_ns does not go backwards */
Test(prog, seq_counts_every_packet)
{
	static const enum fbt_prog order[] = {FBT_XDP, FBT_TC_IN, FBT_XDP, FBT_TC_OUT, FBT_TC_IN};
	struct frame good = {0}, bad = {0};
	struct fb_pkt r[8];
	size_t i, n;

	udp4_frame(&good, 0);
	udp4_frame(&bad, 0);
	f_cut(&bad, 14 + 20 + 2); /* inside UDP */
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const struct frame *f = i % 2 ? &bad : &good;

		fbt_run_checked(order[i], f->b, f->len, 1);
	}
	n = fbt_drain(r, 8);
	cr_assert_eq(n, 5, "records: got %zu, want 5", n);
	for (i = 0; i < n; i++) {
		cr_expect_eq(r[i].seq, i + 1, "record %zu: seq %u", i, r[i].seq);
		cr_expect_eq(r[i].cpu, fbt_cpu(), "record %zu: cpu %u", i, r[i].cpu);
		cr_expect_eq(!!(r[i].flags & FB_F_PARSE_ERR), (int)(i % 2), "record %zu: parse error flag",
			     i);
		if (i)
			cr_expect_geq(r[i].ts_ns, r[i - 1].ts_ns, "record %zu: ts_ns went back", i);
	}
	fbt_expect_counters(5, 0, 2);
}

/* The smallest ring (one page) and 100 packets with nobody reading: the
 * ring takes page / 80 records (8-byte header + 72), the rest are lost.
 * seen = read + lost exactly, the records read carry seq 1..n, and the
 * next packet's seq shows the gap the consumer uses to account losses. */
Test(ring, lost_when_full)
{
	enum { N = 100 };
	size_t page = fbt_page_size(), fit = page / FBT_SLOT, n, i;
	struct fb_pkt *r = calloc(N, sizeof(*r));
	struct frame f = {0};
	struct fb_counters c;

	cr_assert_not_null(r);
	fbt_open(page, 0, 0);
	udp4_frame(&f, 0);
	fbt_run_checked(FBT_XDP, f.b, f.len, N);

	c = fbt_counters();
	n = fbt_drain(r, N);
	cr_assert_eq(c.seen, N, "seen: got %llu, want %d", (unsigned long long)c.seen, N);
	cr_assert_gt(c.lost, 0, "nothing was lost with a %zu-byte ring", page);
	cr_assert_eq(c.seen, n + c.lost, "seen %llu != read %zu + lost %llu",
		     (unsigned long long)c.seen, n, (unsigned long long)c.lost);
	cr_expect_eq(n, fit, "records read: got %zu, want %zu (%zu-byte ring)", n, fit, page);
	cr_expect_eq(c.parse_err, 0);
	for (i = 0; i < n; i++)
		cr_expect_eq(r[i].seq, i + 1, "record %zu: seq %u, want %zu", i, r[i].seq, i + 1);

	/* room again: the next record's seq jumps over the lost ones */
	fbt_run_checked(FBT_XDP, f.b, f.len, 1);
	cr_assert_eq(fbt_drain(r, 1), 1);
	cr_expect_eq(r[0].seq, N + 1, "seq after the losses: got %u, want %d", r[0].seq, N + 1);
	cr_expect_eq(r[0].seq - n - 1, c.lost, "seq gap %zu != lost %llu", r[0].seq - n - 1,
		     (unsigned long long)c.lost);
	fbt_expect_counters(N + 1, c.lost, 0);
	free(r);
}

/* record.h: parse_err counts written records only; a lost packet is not
 * parsed, so a full ring costs the producer as little as possible. */
Test(ring, lost_packets_are_not_parsed)
{
	enum { N = 100 };
	size_t page = fbt_page_size(), n;
	struct fb_pkt *r = calloc(N, sizeof(*r));
	struct frame f = {0};
	struct fb_counters c;

	cr_assert_not_null(r);
	fbt_open(page, 0, 0);
	udp4_frame(&f, 0);
	f_cut(&f, 14 + 20 + 2); /* inside UDP */
	fbt_run_checked(FBT_XDP, f.b, f.len, N);

	c = fbt_counters();
	n = fbt_drain(r, N);
	cr_assert_gt(c.lost, 0, "nothing was lost with a %zu-byte ring", page);
	cr_expect_eq(c.seen, n + c.lost);
	cr_expect_eq(c.parse_err, n, "parse_err: got %llu, want %zu (records written; lost %llu)",
		     (unsigned long long)c.parse_err, n, (unsigned long long)c.lost);
	free(r);
}

/* With nothing consumed, the ring holds 72 bytes per record. Watermark 144
 * and step 288: wake at 2 records (144), 6 (432) and 10 (720), i.e. when
 * avail - watermark is a multiple of the step, give or take one record. */
Test(ring, wakeups_past_watermark)
{
	struct frame f = {0};
	struct fb_counters c;

	fbt_open(fbt_page_size(), 2 * FBT_SLOT, 4 * FBT_SLOT);
	udp4_frame(&f, 0);
	fbt_run_checked(FBT_XDP, f.b, f.len, 1);
	c = fbt_counters();
	cr_expect_eq(c.wakeups, 0, "woken below the watermark");
	fbt_run_checked(FBT_XDP, f.b, f.len, 9);
	c = fbt_counters();
	cr_expect_eq(c.seen, 10);
	cr_expect_eq(c.lost, 0);
	cr_expect_eq(c.wakeups, 3, "wakeups: got %llu, want 3", (unsigned long long)c.wakeups);
}

/* The default watermark (1 MiB) is far above a few records: no wake-ups */
Test(ring, no_wakeups_below_watermark)
{
	struct frame f = {0};
	struct fb_counters c;

	fbt_open(FBT_RING_DEFAULT, 0, 0);
	udp4_frame(&f, 0);
	fbt_run_checked(FBT_XDP, f.b, f.len, 50);
	c = fbt_counters();
	cr_expect_eq(c.seen, 50);
	cr_expect_eq(c.wakeups, 0, "wakeups: got %llu, want 0", (unsigned long long)c.wakeups);
}

/* --ring shared: the same record path through one ring for all CPUs,
 * losses included. */
Test(ring, shared_ring_records_and_losses)
{
	enum { N = 100 };
	size_t page = fbt_page_size(), n;
	struct fb_pkt *r = calloc(N, sizeof(*r));
	struct frame f = {0};
	struct fb_counters c;

	cr_assert_not_null(r);
	fbt_shared_ring = true;
	fbt_open(page, 0, 0);
	udp4_frame(&f, 0);
	fbt_run_checked(FBT_XDP, f.b, f.len, N);
	c = fbt_counters();
	n = fbt_drain(r, N);
	cr_assert_eq(c.seen, N);
	cr_assert_gt(c.lost, 0);
	cr_assert_eq(c.seen, n + c.lost);
	cr_expect_eq(n, page / FBT_SLOT);
	cr_expect_eq(r[0].seq, 1);
	cr_expect_eq(r[0].proto, 17);
	free(r);
}

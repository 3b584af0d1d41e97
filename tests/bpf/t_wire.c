/* Wire counts: a GSO/GRO skb stands for gso_segs packets, each with its own
 * copy of the headers (TC, context with gso_segs/gso_size through
 * BPF_PROG_TEST_RUN); multi-buffer XDP frames count every buffer. */
#include <linux/bpf.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

TestSuite(wire, .init = fbt_init, .fini = fbt_fini);

#define GSO_BY_FRAGS_ 0xFFFF

static const char *const tc_progs[] = {"fb_tc_in", "fb_tc_out"};

/* TCP header with 12 bytes of options (NOP NOP timestamp), as Linux sends
 * its data segments: data offset 8, 32 bytes. */
static void f_tcp_ts(struct frame *f, uint16_t sport, uint16_t dport, uint8_t flags)
{
	static const uint8_t ts[12] = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};

	f_tcp(f, sport, dport, flags);
	f->b[f->len - 8] = 8 << 4;
	f_bytes(f, ts, sizeof(ts));
}

/* Runs the TC programs on f as an skb with gso_segs/gso_size and checks the
 * record: segs, wire_len, skb_len and the GSO flag. */
static void expect_wire(struct frame *f, uint32_t gso_segs, uint32_t gso_size,
			uint32_t want_segs, uint32_t want_wire, uint8_t want_err)
{
	struct __sk_buff ctx = {.gso_segs = gso_segs, .gso_size = gso_size};
	struct fb_pkt r[2];
	uint32_t ret = 0;
	size_t i, n;
	int err;

	if (!f->fixed)
		f_fix(f);
	for (i = 0; i < 2; i++) {
		err = fbt_run_prog(tc_progs[i], f->b, f->len, &ctx, sizeof(ctx), &ret);
		cr_assert_eq(err, 0, "%s: BPF_PROG_TEST_RUN with gso_segs %u gso_size %u: %s",
			     tc_progs[i], gso_segs, gso_size, strerror(-err));
		cr_expect_eq((int)ret, FBT_RET_TC_UNSPEC, "%s: verdict %d", tc_progs[i], (int)ret);
		n = fbt_drain(r, 2);
		cr_assert_eq(n, 1, "%s: records: got %zu, want 1", tc_progs[i], n);
		cr_expect_eq(r[0].segs, want_segs, "%s: segs: got %u, want %u", tc_progs[i],
			     r[0].segs, want_segs);
		cr_expect_eq(r[0].wire_len, want_wire, "%s: wire_len: got %u, want %u", tc_progs[i],
			     r[0].wire_len, want_wire);
		cr_expect_eq(r[0].skb_len, f->len, "%s: skb_len: got %u, want %zu", tc_progs[i],
			     r[0].skb_len, f->len);
		cr_expect_eq(!!(r[0].flags & FB_F_GSO), want_segs > 1, "%s: FB_F_GSO: flags 0x%02x",
			     tc_progs[i], r[0].flags);
		cr_expect_eq(r[0].flags & FB_F_PARSE_ERR, want_err, "%s: parse error: flags 0x%02x",
			     tc_progs[i], r[0].flags);
	}
}

/* TSO-sized TCP/IPv4 with timestamps: 3 segments of 500 bytes (the last
 * 400), each with 14 + 20 + 32 bytes of headers */
Test(wire, gso_tcp4)
{
	struct frame f = {0};

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_TCP, 0x4000, NULL, 0);
	f_tcp_ts(&f, 40000, 5001, 0x18);
	f_fill(&f, 0x5a, 1400);
	expect_wire(&f, 3, 500, 3, 1466 + 2 * 66, 0);
}

/* IPv4 options and a 60-byte TCP header are repeated in every segment */
Test(wire, gso_tcp4_ip_options_long_tcp_header)
{
	static const uint8_t opts[8] = {1, 1, 1, 1, 1, 1, 1, 0};
	struct frame f = {0};
	size_t hdr;

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_TCP, 0, opts, sizeof(opts));
	f_tcp(&f, 40000, 5001, 0x10);
	f.b[f.len - 8] = 15 << 4; /* 60 bytes: 40 of options */
	f_fill(&f, 1, 40);
	hdr = f.len;
	cr_assert_eq(hdr, 14 + 28 + 60);
	f_fill(&f, 0x5a, 1000);
	expect_wire(&f, 4, 250, 4, (uint32_t)(f.len + 3 * hdr), 0);
}

/* IPv6 with a hop-by-hop header: 14 + 40 + 8 + 32 per segment */
Test(wire, gso_tcp6_ext_header)
{
	struct frame f = {0};

	f_eth(&f, FB_ETH_P_IPV6);
	f_ipv6(&f, 0);
	f_ext6(&f, IPPROTO_TCP, 0);
	f_tcp_ts(&f, 40000, 5001, 0x10);
	f_fill(&f, 0x5a, 1200);
	expect_wire(&f, 2, 600, 2, 1294 + 94, 0);
}

/* UDP GSO (UDP_SEGMENT): the 8-byte UDP header per segment */
Test(wire, gso_udp4)
{
	struct frame f = {0};

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_UDP, 0, NULL, 0);
	f_udp(&f, 4000, 4001);
	f_fill(&f, 0x5a, 1000);
	expect_wire(&f, 5, 200, 5, 1042 + 4 * 42, 0);
}

/* Tags in the frame are in front of every segment too */
Test(wire, gso_vlan_in_frame)
{
	struct frame f = {0};

	f_eth(&f, FB_ETH_P_8021Q);
	f_vlan(&f, 10, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_TCP, 0, NULL, 0);
	f_tcp(&f, 40000, 5001, 0x10);
	f_fill(&f, 0x5a, 900);
	expect_wire(&f, 3, 300, 3, 958 + 2 * 58, 0);
}

/* SCTP GSO (gso_size GSO_BY_FRAGS): segments follow the chunks, each with
 * the 12-byte common header; the segment count is the kernel's */
Test(wire, gso_sctp_by_frags)
{
	struct frame f = {0};

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_SCTP, 0, NULL, 0);
	f_sctp(&f, 5000, 5001);
	f_fill(&f, 0x5a, 900);
	expect_wire(&f, 3, GSO_BY_FRAGS_, 3, 946 + 2 * 46, 0);
}

/* gso_segs 0 ("dodgy" skbs from virtio, tun and packet sockets): counted
 * from the payload as the kernel does, ceil(1400 / 500) = 3 */
Test(wire, gso_segs_zero_counted_from_payload)
{
	struct frame f = {0};

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_TCP, 0, NULL, 0);
	f_tcp_ts(&f, 40000, 5001, 0x10);
	f_fill(&f, 0x5a, 1400);
	expect_wire(&f, 0, 500, 3, 1466 + 2 * 66, 0);
}

/* gso_segs 0 with GSO_BY_FRAGS: nothing to count from; one packet */
Test(wire, gso_segs_zero_by_frags_is_one)
{
	struct frame f = {0};

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_SCTP, 0, NULL, 0);
	f_sctp(&f, 5000, 5001);
	f_fill(&f, 0x5a, 300);
	expect_wire(&f, 0, GSO_BY_FRAGS_, 1, 346, 0);
}

/* the kernel's test for GSO is gso_size: without it gso_segs means nothing */
Test(wire, segs_without_gso_size_is_one)
{
	struct frame f = {0};

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_TCP, 0, NULL, 0);
	f_tcp(&f, 40000, 5001, 0x10);
	f_fill(&f, 0x5a, 600);
	expect_wire(&f, 4, 0, 1, 654, 0);
}

/* one segment: one packet, not flagged */
Test(wire, one_segment_is_not_gso)
{
	struct frame f = {0};

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_TCP, 0, NULL, 0);
	f_tcp(&f, 40000, 5001, 0x10);
	f_fill(&f, 0x5a, 600);
	expect_wire(&f, 1, 1448, 1, 654, 0);
}

/* A GSO skb whose transport header cannot be read still counts its
 * segments; each extra one adds the headers that could be read (here
 * Ethernet and IPv4: a lower bound), and the record has the parse error. */
Test(wire, gso_unreadable_transport_counts_segments)
{
	struct frame f = {0};

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_TCP, 0, NULL, 0);
	f_fill(&f, 0, 10); /* 10 of TCP's 20 bytes */
	expect_wire(&f, 3, 100, 3, 44 + 2 * 34, FB_F_PARSE_ERR);
}

/* A protocol with no transport header flowbatch knows (GRE): the link and
 * IP headers are what every segment is known to repeat. No parse error:
 * nothing was malformed. */
Test(wire, gso_other_protocol_counts_ip_headers)
{
	struct frame f = {0};

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, 47, 0, NULL, 0);
	f_fill(&f, 0x5a, 600);
	expect_wire(&f, 2, 300, 2, 634 + 34, 0);
}

/* ---- multi-buffer XDP (xdp.frags) ------------------------------------ */

/* A 9000-byte frame, as on a veth with MTU 9000: BPF_PROG_TEST_RUN puts
 * what does not fit one page into fragments. The headers are parsed from
 * the first buffer and the length counts all of them. */
static void xdp_jumbo(const char *prog, int raw_ip, size_t total)
{
	struct frame f = {0};
	struct fb_pkt r[2], w;
	uint8_t *buf;
	uint32_t ret = 0;
	size_t n;
	int err;

	if (!raw_ip)
		f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_UDP, 0, NULL, 0);
	f_udp(&f, 7000, 7001);
	buf = calloc(1, total);
	cr_assert_not_null(buf);
	memcpy(buf, f.b, f.len);
	memset(buf + f.len, 0x5a, total - f.len);
	/* IP total length for the whole frame */
	buf[f.l3 + 2] = (uint8_t)((total - f.l3) >> 8);
	buf[f.l3 + 3] = (uint8_t)(total - f.l3);
	err = fbt_run_prog(prog, buf, total, NULL, 0, &ret);
	cr_assert_eq(err, 0, "%s: BPF_PROG_TEST_RUN on %zu bytes: %s", prog, total, strerror(-err));
	cr_expect_eq((int)ret, FBT_RET_XDP_PASS, "%s: verdict %d", prog, (int)ret);
	n = fbt_drain(r, 2);
	cr_assert_eq(n, 1, "%s: records: got %zu", prog, n);
	cr_expect_eq(r[0].wire_len, total, "%s: wire_len: got %u, want %zu", prog, r[0].wire_len,
		     total);
	cr_expect_eq(r[0].skb_len, total, "%s: skb_len: got %u, want %zu", prog, r[0].skb_len,
		     total);
	cr_expect_eq(r[0].segs, 1, "%s: segs %u", prog, r[0].segs);
	w = want_ip4(IPPROTO_UDP);
	w.sport = 7000;
	w.dport = 7001;
	fbt_expect_pkt(&r[0], &w, prog);
	free(buf);
}

Test(wire, xdp_frags_9000_byte_frame)
{
	xdp_jumbo("fb_xdp", 0, 9000);
}

Test(wire, xdp_frags_9000_byte_raw_ip)
{
	xdp_jumbo("fb_xdp_l3", 1, 9000);
}

/* TC sees the same jumbo frame as one skb of its full length */
Test(wire, tc_jumbo_frame)
{
	static uint8_t buf[3500];
	struct frame f = {0};
	struct fb_pkt r[2];
	size_t n, i;
	int err;

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_UDP, 0, NULL, 0);
	f_udp(&f, 7000, 7001);
	f_fix(&f);
	memcpy(buf, f.b, f.len);
	memset(buf + f.len, 0x5a, sizeof(buf) - f.len);
	buf[f.l3 + 2] = (uint8_t)((sizeof(buf) - f.l3) >> 8);
	buf[f.l3 + 3] = (uint8_t)(sizeof(buf) - f.l3);
	for (i = 0; i < 2; i++) {
		err = fbt_run_prog(tc_progs[i], buf, sizeof(buf), NULL, 0, NULL);
		cr_assert_eq(err, 0, "%s: %s", tc_progs[i], strerror(-err));
		n = fbt_drain(r, 2);
		cr_assert_eq(n, 1);
		cr_expect_eq(r[0].wire_len, sizeof(buf), "%s: wire_len %u", tc_progs[i],
			     r[0].wire_len);
		cr_expect_eq(r[0].sport, 7000);
	}
}

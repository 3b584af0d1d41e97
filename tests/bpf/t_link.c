/* Link types and parser corners: the raw-IP program variants (tun,
 * WireGuard, ipip/gre/sit, ppp) read IPv4 and IPv6 from the first byte;
 * a third VLAN tag is a parse error; ICMP type and code belong to
 * protocol 1 under IPv4 and 58 under IPv6 only. */
#include <linux/bpf.h>
#include <netinet/in.h>
#include <string.h>

#include "harness.h"

TestSuite(link, .init = fbt_init, .fini = fbt_fini);
TestSuite(corner, .init = fbt_init, .fini = fbt_fini);

static const char *const l3_progs[] = {"fb_xdp_l3", "fb_tc_in_l3", "fb_tc_out_l3"};

/* Runs f (an IP packet, no link header) through the three raw-IP programs
 * and checks each record against want, with wire_len the packet's length.
 *
 * BPF_PROG_TEST_RUN builds TC's skb as if the data were Ethernet, so
 * skb->protocol comes from bytes 12-13 of the IP header: the tests choose
 * those bytes to say what they need (see each test). */
static void check_l3(struct frame *f, const struct fb_pkt *want, struct __sk_buff *ctx)
{
	struct fb_pkt r[2];
	uint32_t ret = 0;
	size_t i, n;
	int err;

	if (!f->fixed)
		f_fix(f);
	for (i = 0; i < 3; i++) {
		struct fb_pkt w = *want;

		err = fbt_run_prog(l3_progs[i], f->b, f->len, i ? ctx : NULL,
				   i && ctx ? sizeof(*ctx) : 0, &ret);
		cr_assert_eq(err, 0, "%s: BPF_PROG_TEST_RUN on %zu bytes: %s", l3_progs[i], f->len,
			     strerror(-err));
		cr_expect_eq((int)ret, i ? FBT_RET_TC_UNSPEC : FBT_RET_XDP_PASS, "%s: verdict %d",
			     l3_progs[i], (int)ret);
		n = fbt_drain(r, 2);
		cr_assert_eq(n, 1, "%s: records: got %zu, want 1", l3_progs[i], n);
		if (i == 2)
			w.flags |= FB_F_EGRESS;
		fbt_expect_pkt(&r[0], &w, l3_progs[i]);
		cr_expect_eq(r[0].wire_len, f->len, "%s: wire_len: got %u, want %zu", l3_progs[i],
			     r[0].wire_len, f->len);
		cr_expect_eq(r[0].segs, 1, "%s: segs %u", l3_progs[i], r[0].segs);
	}
}

/* IPv4 from 8.0.2.1: bytes 12-13 are 0x0800, so TC's skb->protocol is IP */
static const uint8_t SRC4_ETHIP[4] = {8, 0, 2, 1};

static void raw_ipv4(struct frame *f, uint8_t proto)
{
	f_ipv4(f, proto, 0, NULL, 0);
	memcpy(f->b + f->l3 + 12, SRC4_ETHIP, 4);
}

static struct fb_pkt want_raw4(uint8_t proto)
{
	struct fb_pkt w = want_ip4(proto);

	memcpy(&w.src[12], SRC4_ETHIP, 4);
	return w;
}

Test(link, raw_ipv4_udp)
{
	struct frame f = {0};
	struct fb_pkt w = want_raw4(IPPROTO_UDP);

	raw_ipv4(&f, IPPROTO_UDP);
	f_udp(&f, 1234, 53);
	f_fill(&f, 0x5a, 21);
	w.sport = 1234;
	w.dport = 53;
	check_l3(&f, &w, NULL);
}

Test(link, raw_ipv4_tcp)
{
	struct frame f = {0};
	struct fb_pkt w = want_raw4(IPPROTO_TCP);

	raw_ipv4(&f, IPPROTO_TCP);
	f_tcp(&f, 40000, 443, 0x12);
	w.sport = 40000;
	w.dport = 443;
	w.tcp_flags = 0x12;
	check_l3(&f, &w, NULL);
}

/* SRC6's bytes 4-5 are 0: TC's skb->protocol is an 802.3 pseudo-value and
 * says nothing, so the version nibble decides, as on XDP */
Test(link, raw_ipv6_udp)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip6(IPPROTO_UDP);

	f_ipv6(&f, IPPROTO_UDP);
	f_udp(&f, 5353, 5353);
	f_fill(&f, 0x5a, 7);
	w.sport = 5353;
	w.dport = 5353;
	check_l3(&f, &w, NULL);
}

Test(link, raw_ipv6_icmpv6)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip6(IPPROTO_ICMPV6);

	f_ipv6(&f, IPPROTO_ICMPV6);
	f_icmp(&f, 129, 0);
	w.sport = 129;
	check_l3(&f, &w, NULL);
}

/* A first nibble that is neither 4 nor 6: no name, no made-up flow: a
 * parse error with EtherType 0 and no addresses on all three programs */
Test(link, raw_unknown_version_is_parse_error)
{
	struct frame f = {0};
	struct fb_pkt w = want_none(0);

	f_fill(&f, 0x00, 40); /* bytes 12-13 are 0 too: no protocol for TC */
	f.b[0] = 0x25;
	f.fixed = 1;
	w.flags = FB_F_PARSE_ERR;
	check_l3(&f, &w, NULL);
	fbt_expect_counters(3, 0, 3);
}

/* The Ethernet programs on the same raw IPv4 packet would invent a flow:
 * the reason flowbatch picks the variant by link type. Here the raw-IP
 * program on a GSO skb: the per-segment header has no link header. */
Test(link, raw_ipv4_gso_tcp)
{
	struct __sk_buff ctx = {.gso_segs = 3, .gso_size = 400};
	struct fb_pkt r[2];
	struct frame f = {0};
	size_t i;

	raw_ipv4(&f, IPPROTO_TCP);
	f_tcp(&f, 40000, 443, 0x10);
	f_fill(&f, 0x5a, 1000);
	f_fix(&f);
	for (i = 1; i < 3; i++) {
		int err = fbt_run_prog(l3_progs[i], f.b, f.len, &ctx, sizeof(ctx), NULL);

		cr_assert_eq(err, 0, "%s: %s", l3_progs[i], strerror(-err));
		cr_assert_eq(fbt_drain(r, 2), 1);
		cr_expect_eq(r[0].segs, 3, "%s: segs %u", l3_progs[i], r[0].segs);
		cr_expect_eq(r[0].wire_len, 1040 + 2 * 40, "%s: wire_len %u", l3_progs[i],
			     r[0].wire_len);
		cr_expect(r[0].flags & FB_F_GSO, "%s: no FB_F_GSO", l3_progs[i]);
		cr_expect_eq(r[0].ethertype, FB_ETH_P_IP);
	}
}

/* TC trusts a non-IP protocol from the kernel (MPLS over GRE): counted
 * under that EtherType, without addresses, even though the first nibble
 * happens to be 4; XDP has only the nibble */
Test(link, raw_tc_non_ip_protocol)
{
	static const uint8_t src_mpls[4] = {0x88, 0x47, 0, 1};
	struct frame f = {0};
	struct fb_pkt r[2];
	size_t i;

	f_ipv4(&f, IPPROTO_UDP, 0, NULL, 0);
	f_udp(&f, 1, 2);
	f_fix(&f);
	memcpy(f.b + 12, src_mpls, 4);
	for (i = 1; i < 3; i++) {
		struct fb_pkt w = want_none(0x8847);
		int err = fbt_run_prog(l3_progs[i], f.b, f.len, NULL, 0, NULL);

		cr_assert_eq(err, 0, "%s: %s", l3_progs[i], strerror(-err));
		cr_assert_eq(fbt_drain(r, 2), 1);
		if (i == 2)
			w.flags = FB_F_EGRESS;
		fbt_expect_pkt(&r[0], &w, l3_progs[i]);
	}
	fbt_expect_counters(2, 0, 0);
}

/* ---- parser corners -------------------------------------------------- */

/* Three tags: the third is one more than flowbatch reads. The record says
 * so (parse error), keeps the tag's TPID as EtherType, and has no
 * addresses: nothing behind the third tag is guessed at. */
Test(corner, third_vlan_tag_is_parse_error)
{
	struct frame f = {0};
	struct fb_pkt w = want_none(FB_ETH_P_8021Q);

	f_eth(&f, FB_ETH_P_8021AD);
	f_vlan(&f, 300, FB_ETH_P_8021Q);
	f_vlan(&f, 200, FB_ETH_P_8021Q);
	f_vlan(&f, 100, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_UDP, 0, NULL, 0);
	f_udp(&f, 1, 2);
	w.flags = FB_F_VLAN | FB_F_PARSE_ERR;
	fbt_check_frame(&f, &w);
}

/* two tags are still read through */
Test(corner, two_vlan_tags_are_fine)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip4(IPPROTO_UDP);

	f_eth(&f, FB_ETH_P_8021AD);
	f_vlan(&f, 200, FB_ETH_P_8021Q);
	f_vlan(&f, 100, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_UDP, 0, NULL, 0);
	f_udp(&f, 1, 2);
	w.flags = FB_F_VLAN;
	w.sport = 1;
	w.dport = 2;
	fbt_check_frame(&f, &w);
}

/* protocol 58 under IPv4 is not ICMPv6: no type, no code, no error */
Test(corner, ipv4_protocol_58_is_not_icmp)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip4(IPPROTO_ICMPV6);

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_ICMPV6, 0, NULL, 0);
	f_icmp(&f, 128, 3);
	fbt_check_frame(&f, &w);
}

/* protocol 1 under IPv6 is not ICMP either */
Test(corner, ipv6_protocol_1_is_not_icmp)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip6(IPPROTO_ICMP);

	f_eth(&f, FB_ETH_P_IPV6);
	f_ipv6(&f, IPPROTO_ICMP);
	f_icmp(&f, 8, 4);
	fbt_check_frame(&f, &w);
}

/* ICMP behind an IPv6 extension header is still ICMPv6 */
Test(corner, icmpv6_after_extension_header)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip6(IPPROTO_ICMPV6);

	f_eth(&f, FB_ETH_P_IPV6);
	f_ipv6(&f, 0);
	f_ext6(&f, IPPROTO_ICMPV6, 0);
	f_icmp(&f, 135, 0);
	w.sport = 135;
	fbt_check_frame(&f, &w);
}

/* Truncated frames, cut at or inside every header the parser reads. Each
 * must still produce a record (seen and written), with FB_F_PARSE_ERR, the
 * parse_err counter raised, and every field that lay in the bytes before
 * the cut filled in. What counts as parsable: Ethernet, VLAN, IPv4 (20) and
 * IPv6 (40) headers are used only whole; ports once their 4 bytes are
 * there, ICMP type and code once their 2 are; an IPv6 extension header's
 * next-header byte as soon as it is there (proto then names what the
 * chain was heading for).
 *
 * Frames shorter than Ethernet (< 14 bytes) cannot be tested here:
 * BPF_PROG_TEST_RUN rejects them with EINVAL for both XDP and TC (see
 * trunc.shorter_than_ethernet_is_untestable), so the parser's own < 14 byte
 * branch is only covered on a live interface. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "harness.h"

#define ETH_LEN 14
#define V4_L4 (ETH_LEN + 20) /* offset of L4 after an option-less IPv4 header */
#define V6_L4 (ETH_LEN + 40)

TestSuite(trunc, .init = fbt_init, .fini = fbt_fini);

/* Guards the claim above: if a kernel ever accepts such frames, this
 * fails and a real test of the < 14 byte path should replace it. */
Test(trunc, shorter_than_ethernet_is_untestable)
{
	static const uint8_t runt[ETH_LEN - 1] = {0x02};
	uint32_t ret;
	int p;

	for (p = 0; p < FBT_NPROGS; p++)
		cr_expect_eq(fbt_run_raw((enum fbt_prog)p, runt, sizeof(runt), 1, &ret, NULL, NULL),
			     -EINVAL, "program %d: a 13-byte frame was not rejected", p);
	fbt_expect_counters(0, 0, 0);
}

/* ---- link layer ------------------------------------------------------ */

/* 802.1Q TPID, then only half of the tag: no inner ethertype to report, so
 * the TPID is the innermost one read */
Test(trunc, inside_vlan_tag)
{
	struct frame f = {0};
	struct fb_pkt w = want_none(FB_ETH_P_8021Q);

	f_eth(&f, FB_ETH_P_8021Q);
	f_vlan(&f, 100, FB_ETH_P_IP);
	f_cut(&f, ETH_LEN + 2);
	w.flags = FB_F_VLAN | FB_F_PARSE_ERR;
	fbt_check_frame(&f, &w);
}

/* QinQ with the outer tag whole and the inner one cut */
Test(trunc, inside_inner_vlan_tag)
{
	struct frame f = {0};
	struct fb_pkt w = want_none(FB_ETH_P_8021Q);

	f_eth(&f, FB_ETH_P_8021AD);
	f_vlan(&f, 200, FB_ETH_P_8021Q);
	f_vlan(&f, 100, FB_ETH_P_IP);
	f_cut(&f, ETH_LEN + 4 + 3);
	w.flags = FB_F_VLAN | FB_F_PARSE_ERR;
	fbt_check_frame(&f, &w);
}

/* ---- IPv4 ------------------------------------------------------------ */

/* Ethernet header says IPv4, then nothing. This and the next two frames
 * are too short for the kernel to accept in a TC test run: see
 * fbt_check_frame_short_l3. */
Test(trunc, ipv4_missing)
{
	struct frame f = {0};
	struct fb_pkt w = want_none(FB_ETH_P_IP);

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_UDP, 0, NULL, 0);
	f_cut(&f, ETH_LEN);
	w.flags = FB_F_PARSE_ERR;
	fbt_check_frame_short_l3(&f, &w);
}

/* 19 of the 20 fixed bytes: the header is not used at all */
Test(trunc, inside_ipv4_header)
{
	struct frame f = {0};
	struct fb_pkt w = want_none(FB_ETH_P_IP);

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_UDP, 0, NULL, 0);
	f_udp(&f, 1, 2);
	f_cut(&f, ETH_LEN + 19);
	w.flags = FB_F_PARSE_ERR;
	fbt_check_frame_short_l3(&f, &w);
}

/* ihl 15 claims 40 bytes of options; the frame ends 4 bytes into them */
Test(trunc, ipv4_options_past_end)
{
	uint8_t opts[40];
	struct frame f = {0};
	struct fb_pkt w = want_ip4(IPPROTO_UDP);

	memset(opts, 0x01, sizeof(opts));
	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_UDP, 0, opts, sizeof(opts));
	f_udp(&f, 1, 2);
	f_cut(&f, ETH_LEN + 24);
	w.flags = FB_F_PARSE_ERR;
	fbt_check_frame(&f, &w);
}

/* a fragment's header cut inside its options: the fragment flag is known */
Test(trunc, ipv4_fragment_options_past_end)
{
	uint8_t opts[8];
	struct frame f = {0};
	struct fb_pkt w = want_ip4(IPPROTO_UDP);

	memset(opts, 0x01, sizeof(opts));
	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_UDP, 0x2000, opts, sizeof(opts));
	f_udp(&f, 1, 2);
	f_cut(&f, ETH_LEN + 22);
	w.flags = FB_F_FRAG | FB_F_PARSE_ERR;
	fbt_check_frame(&f, &w);
}

/* ---- IPv4 transport -------------------------------------------------- */

/* IP header whole, then 12 of TCP's 20 bytes: ports yes, flags no */
Test(trunc, inside_tcp_after_ports)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip4(IPPROTO_TCP);

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_TCP, 0, NULL, 0);
	f_tcp(&f, 40001, 80, 0x02);
	f_cut(&f, V4_L4 + 12);
	w.flags = FB_F_PARSE_ERR;
	w.sport = 40001;
	w.dport = 80;
	fbt_check_frame(&f, &w);
}

/* 19 bytes: byte 13 (the flags) is there, but the header is not whole */
Test(trunc, tcp_one_byte_short)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip4(IPPROTO_TCP);

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_TCP, 0, NULL, 0);
	f_tcp(&f, 40001, 80, 0x02);
	f_cut(&f, V4_L4 + 19);
	w.flags = FB_F_PARSE_ERR;
	w.sport = 40001;
	w.dport = 80;
	fbt_check_frame(&f, &w);
}

/* 3 bytes of TCP: not even both ports */
Test(trunc, inside_tcp_ports)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip4(IPPROTO_TCP);

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_TCP, 0, NULL, 0);
	f_tcp(&f, 40001, 80, 0x02);
	f_cut(&f, V4_L4 + 3);
	w.flags = FB_F_PARSE_ERR;
	fbt_check_frame(&f, &w);
}

/* IP says UDP, and the frame ends with the IP header */
Test(trunc, udp_missing)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip4(IPPROTO_UDP);

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_UDP, 0, NULL, 0);
	f_udp(&f, 53, 53);
	f_cut(&f, V4_L4);
	w.flags = FB_F_PARSE_ERR;
	fbt_check_frame(&f, &w);
}

Test(trunc, inside_udp_ports)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip4(IPPROTO_UDP);

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_UDP, 0, NULL, 0);
	f_udp(&f, 53, 53);
	f_cut(&f, V4_L4 + 3);
	w.flags = FB_F_PARSE_ERR;
	fbt_check_frame(&f, &w);
}

/* ports whole, length and checksum missing */
Test(trunc, inside_udp_after_ports)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip4(IPPROTO_UDP);

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_UDP, 0, NULL, 0);
	f_udp(&f, 5000, 53);
	f_cut(&f, V4_L4 + 6);
	w.flags = FB_F_PARSE_ERR;
	w.sport = 5000;
	w.dport = 53;
	fbt_check_frame(&f, &w);
}

/* SCTP's common header is 12 bytes */
Test(trunc, inside_sctp_after_ports)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip4(IPPROTO_SCTP);

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_SCTP, 0, NULL, 0);
	f_sctp(&f, 2905, 2905);
	f_cut(&f, V4_L4 + 8);
	w.flags = FB_F_PARSE_ERR;
	w.sport = 2905;
	w.dport = 2905;
	fbt_check_frame(&f, &w);
}

/* ICMP's header is 8 bytes; 6 are there, so type and code are known */
Test(trunc, inside_icmp_after_type_code)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip4(IPPROTO_ICMP);

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_ICMP, 0, NULL, 0);
	f_icmp(&f, 8, 0);
	f_cut(&f, V4_L4 + 6);
	w.flags = FB_F_PARSE_ERR;
	w.sport = 8;
	fbt_check_frame(&f, &w);
}

/* 1 byte of ICMP: the type alone does not make type and code */
Test(trunc, inside_icmp_type_code)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip4(IPPROTO_ICMP);

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_ICMP, 0, NULL, 0);
	f_icmp(&f, 3, 1);
	f_cut(&f, V4_L4 + 1);
	w.flags = FB_F_PARSE_ERR;
	fbt_check_frame(&f, &w);
}

/* ---- IPv6 ------------------------------------------------------------ */

/* 39 of the 40 fixed bytes: no addresses, so no FB_F_IPV6 either */
Test(trunc, inside_ipv6_header)
{
	struct frame f = {0};
	struct fb_pkt w = want_none(FB_ETH_P_IPV6);

	f_eth(&f, FB_ETH_P_IPV6);
	f_ipv6(&f, IPPROTO_UDP);
	f_udp(&f, 1, 2);
	f_cut(&f, ETH_LEN + 39);
	w.flags = FB_F_PARSE_ERR;
	fbt_check_frame_short_l3(&f, &w);
}

/* a hop-by-hop header of which only its first byte is there: the walk
 * stops at it, so proto is the header it could not read (0, hop-by-hop) */
Test(trunc, inside_ipv6_ext_next_header)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip6(IPPROTO_HOPOPTS);

	f_eth(&f, FB_ETH_P_IPV6);
	f_ipv6(&f, IPPROTO_HOPOPTS);
	f_ext6(&f, IPPROTO_UDP, 0);
	f_udp(&f, 1, 2);
	f_cut(&f, V6_L4 + 1);
	w.flags |= FB_F_PARSE_ERR;
	fbt_check_frame(&f, &w);
}

/* a destination options header cut after its next-header and length
 * bytes: the next header (UDP) was read, its length runs past the end */
Test(trunc, inside_ipv6_ext_body)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip6(IPPROTO_UDP);

	f_eth(&f, FB_ETH_P_IPV6);
	f_ipv6(&f, IPPROTO_HOPOPTS);
	f_ext6(&f, IPPROTO_DSTOPTS, 0);
	f_ext6(&f, IPPROTO_UDP, 1);
	f_udp(&f, 1, 2);
	f_cut(&f, V6_L4 + 8 + 5);
	w.flags |= FB_F_PARSE_ERR;
	fbt_check_frame(&f, &w);
}

/* 4 of the fragment header's 8 bytes: not known to be a fragment yet */
Test(trunc, inside_ipv6_fragment_header)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip6(IPPROTO_FRAGMENT);

	f_eth(&f, FB_ETH_P_IPV6);
	f_ipv6(&f, IPPROTO_FRAGMENT);
	f_frag6(&f, IPPROTO_UDP, 0, 1);
	f_udp(&f, 1, 2);
	f_cut(&f, V6_L4 + 4);
	w.flags |= FB_F_PARSE_ERR;
	fbt_check_frame(&f, &w);
}

/* the extension header chain whole, TCP cut after the ports */
Test(trunc, inside_tcp_after_ipv6_ext)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip6(IPPROTO_TCP);

	f_eth(&f, FB_ETH_P_IPV6);
	f_ipv6(&f, IPPROTO_HOPOPTS);
	f_ext6(&f, IPPROTO_FRAGMENT, 0);
	f_frag6(&f, IPPROTO_TCP, 0, 1);
	f_tcp(&f, 443, 55555, 0x12);
	f_cut(&f, V6_L4 + 16 + 10);
	w.flags |= FB_F_FRAG | FB_F_PARSE_ERR;
	w.sport = 443;
	w.dport = 55555;
	fbt_check_frame(&f, &w);
}

Test(trunc, inside_udp_ipv6)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip6(IPPROTO_UDP);

	f_eth(&f, FB_ETH_P_IPV6);
	f_ipv6(&f, IPPROTO_UDP);
	f_udp(&f, 53, 53);
	f_cut(&f, V6_L4 + 2);
	w.flags |= FB_F_PARSE_ERR;
	fbt_check_frame(&f, &w);
}

/* ICMPv6 echo with 3 of its 8 header bytes: type and code known */
Test(trunc, inside_icmpv6)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip6(IPPROTO_ICMPV6);

	f_eth(&f, FB_ETH_P_IPV6);
	f_ipv6(&f, IPPROTO_ICMPV6);
	f_icmp(&f, 128, 0);
	f_cut(&f, V6_L4 + 3);
	w.flags |= FB_F_PARSE_ERR;
	w.sport = 128;
	fbt_check_frame(&f, &w);
}

/* a VLAN-tagged IPv4 frame cut inside the IP header: the tag was stripped,
 * the inner ethertype is known */
Test(trunc, inside_ipv4_after_vlan)
{
	struct frame f = {0};
	struct fb_pkt w = want_none(FB_ETH_P_IP);

	f_eth(&f, FB_ETH_P_8021Q);
	f_vlan(&f, 5, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_UDP, 0, NULL, 0);
	f_cut(&f, ETH_LEN + 4 + 10);
	w.flags = FB_F_VLAN | FB_F_PARSE_ERR;
	fbt_check_frame(&f, &w);
}

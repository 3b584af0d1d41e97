/* Well-formed frames: each test builds one frame, runs it through fb_xdp,
 * fb_tc_in and fb_tc_out, and states the record it must produce. Fields not
 * named in a want are zero (no ports, no flags, no addresses). */
#include <netinet/in.h>
#include <string.h>

#include "harness.h"

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

#define IP_MF 0x2000
#define IP_DF 0x4000

TestSuite(l2, .init = fbt_init, .fini = fbt_fini);
TestSuite(ipv4, .init = fbt_init, .fini = fbt_fini);
TestSuite(ipv6, .init = fbt_init, .fini = fbt_fini);
TestSuite(ext6, .init = fbt_init, .fini = fbt_fini);
TestSuite(l4, .init = fbt_init, .fini = fbt_fini);

/* ---- IPv4 ------------------------------------------------------------ */

Test(ipv4, udp)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip4(IPPROTO_UDP);

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_UDP, 0, NULL, 0);
	f_udp(&f, 40000, 53);
	w.sport = 40000;
	w.dport = 53;
	fbt_check_frame(&f, &w);
}

/* The v4-mapped form is part of the record format; spell the bytes out
 * here rather than trusting want_ip4 alone. */
Test(ipv4, addresses_are_v4_mapped)
{
	static const uint8_t src[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
	static const uint8_t dst[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 7};
	struct frame f = {0};
	struct fb_pkt w = {.ethertype = FB_ETH_P_IP, .proto = IPPROTO_UDP, .sport = 1, .dport = 2};

	memcpy(w.src, src, 16);
	memcpy(w.dst, dst, 16);
	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_UDP, 0, NULL, 0);
	f_udp(&f, 1, 2);
	fbt_check_frame(&f, &w);
}

/* ihl 7: router alert + NOP NOP NOP EOL; the ports sit after the options */
Test(ipv4, options)
{
	static const uint8_t opts[8] = {0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00};
	struct frame f = {0};
	struct fb_pkt w = want_ip4(IPPROTO_UDP);

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_UDP, 0, opts, sizeof(opts));
	f_udp(&f, 5353, 5354);
	w.sport = 5353;
	w.dport = 5354;
	fbt_check_frame(&f, &w);
}

/* the longest header, ihl 15, still whole */
Test(ipv4, max_options)
{
	uint8_t opts[40];
	struct frame f = {0};
	struct fb_pkt w = want_ip4(IPPROTO_TCP);

	memset(opts, 0x01, sizeof(opts)); /* NOPs */
	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_TCP, 0, opts, sizeof(opts));
	f_tcp(&f, 443, 50000, TH_ACK);
	w.sport = 443;
	w.dport = 50000;
	w.tcp_flags = TH_ACK;
	fbt_check_frame(&f, &w);
}

/* MF set, offset 0: the L4 header is here, so ports are parsed */
Test(ipv4, first_fragment)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip4(IPPROTO_UDP);

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_UDP, IP_MF, NULL, 0);
	f_udp(&f, 1234, 5678);
	f_fill(&f, 0xab, 64);
	w.flags = FB_F_FRAG;
	w.sport = 1234;
	w.dport = 5678;
	fbt_check_frame(&f, &w);
}

/* offset 185 (1480 bytes), last fragment: the payload is mid-datagram
 * data, here made to look like a UDP header, which must not be read as one */
Test(ipv4, later_fragment)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip4(IPPROTO_UDP);

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_UDP, 185, NULL, 0);
	f_udp(&f, 1111, 2222);
	f_fill(&f, 0xab, 32);
	w.flags = FB_F_FRAG;
	fbt_check_frame(&f, &w);
}

/* a middle fragment: MF and an offset */
Test(ipv4, middle_fragment)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip4(IPPROTO_TCP);

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_TCP, IP_MF | 185, NULL, 0);
	f_tcp(&f, 80, 8080, TH_SYN);
	w.flags = FB_F_FRAG;
	fbt_check_frame(&f, &w);
}

/* DF alone is the common case and is not a fragment */
Test(ipv4, dont_fragment_is_not_a_fragment)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip4(IPPROTO_UDP);

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_UDP, IP_DF, NULL, 0);
	f_udp(&f, 123, 123);
	w.sport = 123;
	w.dport = 123;
	fbt_check_frame(&f, &w);
}

/* ethertype 0x0800 but version 6: malformed, nothing from the IP header */
Test(ipv4, wrong_version)
{
	struct frame f = {0};
	struct fb_pkt w = want_none(FB_ETH_P_IP);

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_UDP, 0, NULL, 0);
	f_udp(&f, 1, 2);
	f.b[14] = 0x65;
	w.flags = FB_F_PARSE_ERR;
	fbt_check_frame(&f, &w);
}

/* ihl 4 (16 bytes) is below the minimum: malformed; the fixed 20 bytes are
 * there, so protocol and addresses are still reported */
Test(ipv4, ihl_below_minimum)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip4(IPPROTO_UDP);

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_UDP, 0, NULL, 0);
	f_udp(&f, 1, 2);
	f.b[14] = 0x44;
	w.flags = FB_F_PARSE_ERR;
	fbt_check_frame(&f, &w);
}

/* ---- IPv6 ------------------------------------------------------------ */

Test(ipv6, udp)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip6(IPPROTO_UDP);

	f_eth(&f, FB_ETH_P_IPV6);
	f_ipv6(&f, IPPROTO_UDP);
	f_udp(&f, 546, 547);
	w.sport = 546;
	w.dport = 547;
	fbt_check_frame(&f, &w);
}

Test(ipv6, tcp)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip6(IPPROTO_TCP);

	f_eth(&f, FB_ETH_P_IPV6);
	f_ipv6(&f, IPPROTO_TCP);
	f_tcp(&f, 51000, 22, TH_PSH | TH_ACK);
	w.sport = 51000;
	w.dport = 22;
	w.tcp_flags = TH_PSH | TH_ACK;
	fbt_check_frame(&f, &w);
}

/* ethertype 0x86dd but version 4: malformed */
Test(ipv6, wrong_version)
{
	struct frame f = {0};
	struct fb_pkt w = want_none(FB_ETH_P_IPV6);

	f_eth(&f, FB_ETH_P_IPV6);
	f_ipv6(&f, IPPROTO_UDP);
	f_udp(&f, 1, 2);
	f.b[14] = 0x45;
	w.flags = FB_F_PARSE_ERR;
	fbt_check_frame(&f, &w);
}

/* next header 59: nothing follows, and that is not an error */
Test(ipv6, no_next_header)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip6(IPPROTO_NONE);

	f_eth(&f, FB_ETH_P_IPV6);
	f_ipv6(&f, IPPROTO_NONE);
	fbt_check_frame(&f, &w);
}

/* ---- IPv6 extension headers ------------------------------------------ */

Test(ext6, hop_by_hop)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip6(IPPROTO_UDP);

	f_eth(&f, FB_ETH_P_IPV6);
	f_ipv6(&f, IPPROTO_HOPOPTS);
	f_ext6(&f, IPPROTO_UDP, 0);
	f_udp(&f, 7000, 7001);
	w.sport = 7000;
	w.dport = 7001;
	fbt_check_frame(&f, &w);
}

/* 24-byte routing header: its length field is honoured, not assumed 8 */
Test(ext6, routing)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip6(IPPROTO_TCP);

	f_eth(&f, FB_ETH_P_IPV6);
	f_ipv6(&f, IPPROTO_ROUTING);
	f_ext6(&f, IPPROTO_TCP, 2);
	f_tcp(&f, 8443, 61000, TH_SYN | TH_ACK);
	w.sport = 8443;
	w.dport = 61000;
	w.tcp_flags = TH_SYN | TH_ACK;
	fbt_check_frame(&f, &w);
}

Test(ext6, destination_options)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip6(IPPROTO_UDP);

	f_eth(&f, FB_ETH_P_IPV6);
	f_ipv6(&f, IPPROTO_DSTOPTS);
	f_ext6(&f, IPPROTO_UDP, 1);
	f_udp(&f, 4789, 4790);
	w.sport = 4789;
	w.dport = 4790;
	fbt_check_frame(&f, &w);
}

/* AH counts its length in 4-byte units minus 2: (4 + 2) * 4 = 24 bytes */
Test(ext6, authentication_header)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip6(IPPROTO_UDP);

	f_eth(&f, FB_ETH_P_IPV6);
	f_ipv6(&f, IPPROTO_AH);
	f_fill(&f, IPPROTO_UDP, 1);
	f_fill(&f, 4, 1);
	f_fill(&f, 0, 2);     /* reserved */
	f_fill(&f, 0x11, 4);  /* SPI */
	f_fill(&f, 0x22, 4);  /* sequence */
	f_fill(&f, 0x33, 12); /* ICV */
	f_udp(&f, 500, 4500);
	w.sport = 500;
	w.dport = 4500;
	fbt_check_frame(&f, &w);
}

/* offset 0, M set: the L4 header follows the fragment header */
Test(ext6, first_fragment)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip6(IPPROTO_UDP);

	f_eth(&f, FB_ETH_P_IPV6);
	f_ipv6(&f, IPPROTO_FRAGMENT);
	f_frag6(&f, IPPROTO_UDP, 0, 1);
	f_udp(&f, 3000, 3001);
	f_fill(&f, 0xab, 64);
	w.flags |= FB_F_FRAG;
	w.sport = 3000;
	w.dport = 3001;
	fbt_check_frame(&f, &w);
}

/* offset > 0: protocol known from the fragment header, ports not */
Test(ext6, later_fragment)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip6(IPPROTO_UDP);

	f_eth(&f, FB_ETH_P_IPV6);
	f_ipv6(&f, IPPROTO_FRAGMENT);
	f_frag6(&f, IPPROTO_UDP, 185, 0);
	f_udp(&f, 1111, 2222); /* payload that looks like ports */
	f_fill(&f, 0xab, 32);
	w.flags |= FB_F_FRAG;
	fbt_check_frame(&f, &w);
}

/* hop-by-hop, destination options, routing, fragment (first), destination
 * options, then TCP: the order RFC 8200 recommends, every kind walked */
Test(ext6, chain)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip6(IPPROTO_TCP);

	f_eth(&f, FB_ETH_P_IPV6);
	f_ipv6(&f, IPPROTO_HOPOPTS);
	f_ext6(&f, IPPROTO_DSTOPTS, 1);
	f_ext6(&f, IPPROTO_ROUTING, 0);
	f_ext6(&f, IPPROTO_FRAGMENT, 2);
	f_frag6(&f, IPPROTO_DSTOPTS, 0, 1);
	f_ext6(&f, IPPROTO_TCP, 0);
	f_tcp(&f, 2049, 900, TH_SYN);
	w.flags |= FB_F_FRAG;
	w.sport = 2049;
	w.dport = 900;
	w.tcp_flags = TH_SYN;
	fbt_check_frame(&f, &w);
}

/* FB_IPV6_MAX_EXT (8) headers are walked: a chain of exactly 8 still
 * reaches the transport header */
Test(ext6, chain_at_walk_limit)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip6(IPPROTO_UDP);
	int i;

	f_eth(&f, FB_ETH_P_IPV6);
	f_ipv6(&f, IPPROTO_DSTOPTS);
	for (i = 0; i < 8; i++)
		f_ext6(&f, i < 7 ? IPPROTO_DSTOPTS : IPPROTO_UDP, 0);
	f_udp(&f, 9, 10);
	w.sport = 9;
	w.dport = 10;
	fbt_check_frame(&f, &w);
}

/* one more than the walk allows: reported as a parse error, proto is the
 * extension header the walk stopped at */
Test(ext6, chain_past_walk_limit)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip6(IPPROTO_DSTOPTS);
	int i;

	f_eth(&f, FB_ETH_P_IPV6);
	f_ipv6(&f, IPPROTO_DSTOPTS);
	for (i = 0; i < 9; i++)
		f_ext6(&f, i < 8 ? IPPROTO_DSTOPTS : IPPROTO_UDP, 0);
	f_udp(&f, 9, 10);
	w.flags |= FB_F_PARSE_ERR;
	fbt_check_frame(&f, &w);
}

/* ---- transport ------------------------------------------------------- */

static void tcp_flags_case(uint8_t flags)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip4(IPPROTO_TCP);

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_TCP, IP_DF, NULL, 0);
	f_tcp(&f, 49152, 443, flags);
	w.sport = 49152;
	w.dport = 443;
	w.tcp_flags = flags;
	fbt_check_frame(&f, &w);
}

Test(l4, tcp_syn)
{
	tcp_flags_case(TH_SYN);
}

Test(l4, tcp_syn_ack)
{
	tcp_flags_case(TH_SYN | TH_ACK);
}

Test(l4, tcp_fin_psh_ack)
{
	tcp_flags_case(TH_FIN | TH_PSH | TH_ACK);
}

Test(l4, tcp_rst)
{
	tcp_flags_case(TH_RST);
}

/* ECE and CWR are the top bits of the same byte */
Test(l4, tcp_ece_cwr)
{
	tcp_flags_case(0x80 | 0x40 | TH_SYN);
}

/* ICMP: type in sport, code in dport */
Test(l4, icmp_echo_request)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip4(IPPROTO_ICMP);

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_ICMP, 0, NULL, 0);
	f_icmp(&f, 8, 0);
	f_fill(&f, 0x5a, 56);
	w.sport = 8;
	w.dport = 0;
	fbt_check_frame(&f, &w);
}

/* a non-zero code lands in dport */
Test(l4, icmp_port_unreachable)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip4(IPPROTO_ICMP);

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_ICMP, 0, NULL, 0);
	f_icmp(&f, 3, 3);
	w.sport = 3;
	w.dport = 3;
	fbt_check_frame(&f, &w);
}

Test(l4, icmpv6_echo_request)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip6(IPPROTO_ICMPV6);

	f_eth(&f, FB_ETH_P_IPV6);
	f_ipv6(&f, IPPROTO_ICMPV6);
	f_icmp(&f, 128, 0);
	w.sport = 128;
	fbt_check_frame(&f, &w);
}

/* destination unreachable, code 4 (port unreachable) */
Test(l4, icmpv6_unreachable_code)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip6(IPPROTO_ICMPV6);

	f_eth(&f, FB_ETH_P_IPV6);
	f_ipv6(&f, IPPROTO_ICMPV6);
	f_icmp(&f, 1, 4);
	w.sport = 1;
	w.dport = 4;
	fbt_check_frame(&f, &w);
}

Test(l4, sctp)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip4(IPPROTO_SCTP);

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_SCTP, 0, NULL, 0);
	f_sctp(&f, 36412, 38412);
	w.sport = 36412;
	w.dport = 38412;
	fbt_check_frame(&f, &w);
}

Test(l4, sctp_ipv6)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip6(IPPROTO_SCTP);

	f_eth(&f, FB_ETH_P_IPV6);
	f_ipv6(&f, IPPROTO_SCTP);
	f_sctp(&f, 2905, 2906);
	w.sport = 2905;
	w.dport = 2906;
	fbt_check_frame(&f, &w);
}

Test(l4, udplite)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip4(IPPROTO_UDPLITE);

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_UDPLITE, 0, NULL, 0);
	f_udp(&f, 6000, 6001);
	w.sport = 6000;
	w.dport = 6001;
	fbt_check_frame(&f, &w);
}

/* a protocol without ports (GRE): proto only, no error */
Test(l4, portless_protocol)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip4(IPPROTO_GRE);

	f_eth(&f, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_GRE, 0, NULL, 0);
	f_be16(&f, 0);
	f_be16(&f, FB_ETH_P_IP);
	fbt_check_frame(&f, &w);
}

/* ---- link layer ------------------------------------------------------ */

Test(l2, vlan_8021q_ipv4_udp)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip4(IPPROTO_UDP);

	f_eth(&f, FB_ETH_P_8021Q);
	f_vlan(&f, 100, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_UDP, 0, NULL, 0);
	f_udp(&f, 67, 68);
	w.flags = FB_F_VLAN;
	w.sport = 67;
	w.dport = 68;
	fbt_check_frame(&f, &w);
}

/* QinQ: 802.1ad service tag outside, 802.1Q customer tag inside */
Test(l2, qinq_ipv4_udp)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip4(IPPROTO_UDP);

	f_eth(&f, FB_ETH_P_8021AD);
	f_vlan(&f, 200, FB_ETH_P_8021Q);
	f_vlan(&f, 100, FB_ETH_P_IP);
	f_ipv4(&f, IPPROTO_UDP, 0, NULL, 0);
	f_udp(&f, 161, 162);
	w.flags = FB_F_VLAN;
	w.sport = 161;
	w.dport = 162;
	fbt_check_frame(&f, &w);
}

Test(l2, vlan_ipv6_tcp)
{
	struct frame f = {0};
	struct fb_pkt w = want_ip6(IPPROTO_TCP);

	f_eth(&f, FB_ETH_P_8021Q);
	f_vlan(&f, 42, FB_ETH_P_IPV6);
	f_ipv6(&f, IPPROTO_TCP);
	f_tcp(&f, 179, 33000, TH_ACK);
	w.flags |= FB_F_VLAN;
	w.sport = 179;
	w.dport = 33000;
	w.tcp_flags = TH_ACK;
	fbt_check_frame(&f, &w);
}

/* ARP request: not IP, so no protocol and no addresses, and no error */
Test(l2, arp)
{
	static const uint8_t arp[28] = {
		0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01, /* Ethernet/IPv4, request */
		0x02, 0, 0, 0, 0, 0x01, 192, 0, 2, 1,     /* sender */
		0, 0, 0, 0, 0, 0, 198, 51, 100, 7,        /* target */
	};
	struct frame f = {0};
	struct fb_pkt w = want_none(FB_ETH_P_ARP);

	f_eth(&f, FB_ETH_P_ARP);
	f_bytes(&f, arp, sizeof(arp));
	f_fill(&f, 0, 18); /* padding to the 60-byte minimum */
	fbt_check_frame(&f, &w);
}

Test(l2, lldp)
{
	static const uint8_t tlvs[] = {
		0x02, 0x07, 0x04, 0x02, 0, 0, 0, 0, 0x01, /* chassis id: MAC */
		0x04, 0x03, 0x07, 'p', '1',               /* port id: local */
		0x06, 0x02, 0x00, 0x78,                   /* TTL 120 */
		0x00, 0x00,                               /* end */
	};
	struct frame f = {0};
	struct fb_pkt w = want_none(ETH_P_LLDP_);

	f_eth(&f, ETH_P_LLDP_);
	f_bytes(&f, tlvs, sizeof(tlvs));
	fbt_check_frame(&f, &w);
}

/* 802.3 frame: the type field is a length (< 0x600), followed by LLC;
 * here a spanning-tree BPDU. The record's ethertype is 0. */
Test(l2, ieee8023_length_frame)
{
	static const uint8_t llc_bpdu[] = {0x42, 0x42, 0x03, 0x00, 0x00, 0x00, 0x00};
	struct frame f = {0};
	struct fb_pkt w = want_none(0);

	f_eth(&f, 0x0026);
	f_bytes(&f, llc_bpdu, sizeof(llc_bpdu));
	f_fill(&f, 0, 32);
	fbt_check_frame(&f, &w);
}

/* 1500, the largest valid 802.3 length, is still a length */
Test(l2, ieee8023_max_length)
{
	struct frame f = {0};
	struct fb_pkt w = want_none(0);

	f_eth(&f, 1500);
	f_fill(&f, 0xaa, 46);
	fbt_check_frame(&f, &w);
}

/* a VLAN-tagged 802.3 frame: the inner length maps to 0 too */
Test(l2, vlan_ieee8023)
{
	struct frame f = {0};
	struct fb_pkt w = want_none(0);

	f_eth(&f, FB_ETH_P_8021Q);
	f_vlan(&f, 7, 0x0030);
	f_fill(&f, 0xaa, 48);
	w.flags = FB_F_VLAN;
	fbt_check_frame(&f, &w);
}

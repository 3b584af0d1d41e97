/* Header parser shared by the XDP and TC programs. It fills a struct fb_pkt
 * from a frame in [data, end) that starts with an Ethernet header or, on
 * links without one, with the IP header; it checks bounds before every read,
 * tells whether a header was cut short or malformed, and measures the headers
 * every segment of a GSO packet repeats. It never writes to the packet. */
#ifndef FLOWBATCH_PARSE_BPF_H
#define FLOWBATCH_PARSE_BPF_H

#include "flowbatch/record.h"

#define FB_IPV6_MAX_EXT 8 /* extension headers walked before giving up */
#define FB_MAX_VLAN_TAGS 2 /* 802.1Q / QinQ; a third tag is a parse error */

#define IPPROTO_HOPOPTS_ 0
#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_ROUTING_ 43
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_AH_ 51
#define IPPROTO_ICMPV6_ 58
#define IPPROTO_DSTOPTS_ 60
#define IPPROTO_SCTP_ 132
#define IPPROTO_UDPLITE_ 136

static __always_inline __u16 fb_rd16(const __u8 *p)
{
	return ((__u16)p[0] << 8) | p[1];
}

/* Fills the L4 fields; returns 1 when the header is shorter than its
 * protocol's fixed part. Ports are taken whenever their 4 bytes are there.
 * Each protocol checks its own constant length: the verifier then knows
 * every read is in bounds without tracking a variable. ICMP is protocol 1
 * under IPv4 and 58 under IPv6 only: the other number in the other family
 * is some other protocol, and its first bytes are no type and code.
 *
 * *hl grows by the transport header each GSO segment repeats: TCP's with
 * its options (data offset), UDP's 8 bytes (UDP GSO), SCTP's 12-byte common
 * header (SCTP GSO cuts along its chunks but repeats this header). */
static __always_inline int fb_parse_l4(const __u8 *l4, const void *end, struct fb_pkt *r,
				       bool v6, __u32 *hl)
{
	__u8 proto = r->proto;

	if ((proto == IPPROTO_ICMP_ && !v6) || (proto == IPPROTO_ICMPV6_ && v6)) {
		/* type and code, stored where ports go, whenever their 2 bytes
		 * are there; the header (type, code, checksum and the 4-byte
		 * rest/body every message has) is 8 bytes */
		if (l4 + 2 > (const __u8 *)end)
			return 1;
		r->sport = l4[0];
		r->dport = l4[1];
		return l4 + 8 > (const __u8 *)end;
	}
	if (proto != IPPROTO_TCP_ && proto != IPPROTO_UDP_ && proto != IPPROTO_UDPLITE_ &&
	    proto != IPPROTO_SCTP_)
		return 0;
	if (l4 + 4 > (const __u8 *)end)
		return 1;
	r->sport = fb_rd16(l4);
	r->dport = fb_rd16(l4 + 2);
	if (proto == IPPROTO_TCP_) {
		__u32 doff;

		if (l4 + 20 > (const __u8 *)end)
			return 1;
		r->tcp_flags = l4[13];
		/* options need not be readable: their length is enough */
		doff = (__u32)(l4[12] >> 4) * 4;
		*hl += doff < 20 ? 20 : doff;
		return 0;
	}
	if (proto == IPPROTO_SCTP_) {
		if (l4 + 12 > (const __u8 *)end)
			return 1;
		*hl += 12;
		return 0;
	}
	if (l4 + 8 > (const __u8 *)end)
		return 1;
	*hl += 8;
	return 0;
}

static __always_inline int fb_parse_ipv4(const __u8 *p, const void *end, struct fb_pkt *r,
					 __u32 *hl)
{
	__u32 ihl;
	__u16 frag;

	if (p + 20 > (const __u8 *)end)
		return 1;
	if ((p[0] >> 4) != 4)
		return 1;
	/* v4-mapped: ::ffff:a.b.c.d */
	__builtin_memset(r->src, 0, 10);
	__builtin_memset(r->dst, 0, 10);
	r->src[10] = r->src[11] = 0xff;
	r->dst[10] = r->dst[11] = 0xff;
	__builtin_memcpy(&r->src[12], p + 12, 4);
	__builtin_memcpy(&r->dst[12], p + 16, 4);
	r->proto = p[9];
	ihl = (p[0] & 0x0f) * 4;
	if (ihl < 20)
		return 1;
	frag = fb_rd16(p + 6);
	if (frag & 0x3fff) /* MF or an offset */
		r->flags |= FB_F_FRAG;
	*hl += ihl;
	if (frag & 0x1fff) /* not the first fragment: no L4 header here */
		return 0;
	p += ihl;
	if (p > (const __u8 *)end)
		return 1;
	return fb_parse_l4(p, end, r, false, hl);
}

static __always_inline int fb_parse_ipv6(const __u8 *p, const void *end, struct fb_pkt *r,
					 __u32 *hl)
{
	__u32 off = 40, step;
	__u8 nh;
	int i;

	if (p + 40 > (const __u8 *)end)
		return 1;
	if ((p[0] >> 4) != 6)
		return 1;
	r->flags |= FB_F_IPV6;
	__builtin_memcpy(r->src, p + 8, 16);
	__builtin_memcpy(r->dst, p + 24, 16);
	nh = p[6];
	p += 40;

#pragma unroll
	for (i = 0; i < FB_IPV6_MAX_EXT; i++) {
		switch (nh) {
		case IPPROTO_HOPOPTS_:
		case IPPROTO_ROUTING_:
		case IPPROTO_DSTOPTS_:
			if (p + 2 > (const __u8 *)end)
				goto trunc;
			nh = p[0];
			step = ((__u32)p[1] + 1) * 8;
			p += step;
			off += step;
			break;
		case IPPROTO_AH_:
			if (p + 2 > (const __u8 *)end)
				goto trunc;
			nh = p[0];
			step = ((__u32)p[1] + 2) * 4;
			p += step;
			off += step;
			break;
		case IPPROTO_FRAGMENT_:
			if (p + 8 > (const __u8 *)end)
				goto trunc;
			r->flags |= FB_F_FRAG;
			nh = p[0];
			if (fb_rd16(p + 2) & 0xfff8) { /* later fragment */
				r->proto = nh;
				*hl += off + 8;
				return 0;
			}
			p += 8;
			off += 8;
			break;
		default:
			goto l4;
		}
	}
	/* FB_IPV6_MAX_EXT headers walked: what follows may be L4 */
	if (nh != IPPROTO_HOPOPTS_ && nh != IPPROTO_ROUTING_ && nh != IPPROTO_DSTOPTS_ &&
	    nh != IPPROTO_AH_ && nh != IPPROTO_FRAGMENT_)
		goto l4;
	/* still inside extension headers after the walk's bound */
	r->proto = nh;
	*hl += off;
	return 1;
trunc:
	r->proto = nh;
	*hl += off;
	return 1;
l4:
	r->proto = nh;
	*hl += off;
	if (p > (const __u8 *)end)
		return 1;
	return fb_parse_l4(p, end, r, true, hl);
}

/* How the frame starts: what the interface's link type puts in front of the
 * network header. The programs pass a constant, so each variant is compiled
 * for its link type and pays nothing for the other. */
enum fb_link {
	FB_LINK_ETH,    /* Ethernet (and loopback, which has an all-zero one) */
	FB_LINK_RAW_IP, /* no link header: tun, WireGuard, ipip, gre, sit, ppp */
};

static __always_inline void fb_parse_reset(struct fb_pkt *r)
{
	r->ethertype = 0;
	r->proto = 0;
	r->tcp_flags = 0;
	r->sport = 0;
	r->dport = 0;
	__builtin_memset(r->src, 0, sizeof(r->src));
	__builtin_memset(r->dst, 0, sizeof(r->dst));
}

/* What follows the link header, by its EtherType (host order; below 0x600
 * an 802.3 length, recorded as 0): IPv4 and IPv6 are parsed, anything
 * else counts under its EtherType. */
static __always_inline int fb_parse_l3(const __u8 *p, const void *end, struct fb_pkt *r, __u16 et,
				       __u32 *hl)
{
	r->ethertype = et < 0x0600 ? 0 : et;
	if (et == FB_ETH_P_IP)
		return fb_parse_ipv4(p, end, r, hl);
	if (et == FB_ETH_P_IPV6)
		return fb_parse_ipv6(p, end, r, hl);
	return 0;
}

/* A frame that starts with the IP header. l3 is the protocol the kernel
 * gave the packet (TC: skb->protocol, host order), or 0 to go by the
 * version nibble (XDP has nothing else). A protocol other than IP from the
 * kernel (MPLS over GRE) is counted under that EtherType, as on Ethernet;
 * IP whose version nibble disagrees, or a nibble other than 4 or 6, is a
 * parse error: the packet has no name flowbatch knows, and gets none. */
static __always_inline int fb_parse_raw_ip(const __u8 *p, const void *end, struct fb_pkt *r,
					   __u16 l3, __u32 *hl)
{
	if (!l3) {
		if (p + 1 > (const __u8 *)end)
			return 1;
		if ((p[0] >> 4) == 4)
			l3 = FB_ETH_P_IP;
		else if ((p[0] >> 4) == 6)
			l3 = FB_ETH_P_IPV6;
		else
			return 1;
	}
	return fb_parse_l3(p, end, r, l3, hl);
}

/* Parses the frame into r (whose type, cpu, seq, ifindex, ts, len and
 * direction flag the caller sets). Returns 1 on a parse error.
 *
 * link says how the frame starts (a constant at every call); l3 is the
 * raw-IP protocol hint (see fb_parse_raw_ip). tags_out is the number of
 * VLAN tags the kernel already took out of the frame into metadata (TC:
 * skb->vlan_present): they count toward the two tags flowbatch reads, so
 * a frame with three tags is a parse error on XDP and TC alike.
 *
 * *hl is set to the bytes of headers read from the frame: link header and
 * tags in it, IP header with options or extension headers, and the
 * transport header (see fb_parse_l4); *l2 to the link header and tags
 * alone. After a parse error they are the part that could be read. */
static __always_inline int fb_parse(const void *data, const void *end, struct fb_pkt *r,
				    enum fb_link link, __u16 l3, __u32 tags_out, __u32 *hl,
				    __u32 *l2)
{
	const __u8 *p = data;
	__u16 et;
	int i;

	fb_parse_reset(r);
	*hl = 0;
	*l2 = 0;
	if (link == FB_LINK_RAW_IP)
		return fb_parse_raw_ip(p, end, r, l3, hl);

	if (p + 14 > (const __u8 *)end)
		return 1;
	et = fb_rd16(p + 12);
	p += 14;
	*hl = 14;
	*l2 = 14;
#pragma unroll
	for (i = 0; i < FB_MAX_VLAN_TAGS; i++) {
		if (et != FB_ETH_P_8021Q && et != FB_ETH_P_8021AD)
			break;
		r->flags |= FB_F_VLAN;
		if (i + tags_out >= FB_MAX_VLAN_TAGS)
			break;
		if (p + 4 > (const __u8 *)end) {
			r->ethertype = et;
			return 1;
		}
		et = fb_rd16(p + 2);
		p += 4;
		*hl += 4;
	}
	*l2 = *hl;
	if (et == FB_ETH_P_8021Q || et == FB_ETH_P_8021AD) {
		/* one tag too many: what it carries is not read */
		r->flags |= FB_F_VLAN;
		r->ethertype = et;
		return 1;
	}
	return fb_parse_l3(p, end, r, et, hl);
}

#endif

/* The records and counters that the kernel programs (bpf/) share with the
 * consumer (user/). Both sides compile this file, so every struct here has
 * fixed-width fields, natural alignment and no implicit padding; the size
 * asserts below stop the two sides from drifting apart. */
#ifndef FLOWBATCH_RECORD_H
#define FLOWBATCH_RECORD_H

#ifdef __bpf__
/* vmlinux.h already provides __u8 .. __u64 */
#else
#include <linux/types.h>
#endif

/* Record types: the first byte of every record in the ring. The record's
 * length is the ring's own (each ring entry carries it), so a consumer can
 * skip types it does not know. */
enum fb_rec_type {
	FB_REC_PKT = 1,
};

/* fb_pkt.flags */
enum fb_pkt_flags {
	FB_F_EGRESS = 1 << 0,    /* seen on transmit (TC egress), else receive */
	FB_F_PARSE_ERR = 1 << 1, /* a header was truncated or malformed */
	FB_F_FRAG = 1 << 2,      /* IP fragment; non-first ones have no ports */
	FB_F_IPV6 = 1 << 3,      /* addresses are IPv6, else v4-mapped IPv4 */
	FB_F_VLAN = 1 << 4,      /* at least one VLAN tag was stripped */
};

/* One packet. Addresses are 16 bytes: IPv4 is stored v4-mapped
 * (::ffff:a.b.c.d). For ICMP and ICMPv6, sport holds the type and dport the
 * code, as NetFlow/IPFIX exporters do. ethertype is the innermost one after
 * VLAN tags, host byte order; 0 for 802.3 length frames (LLC) and for frames
 * too short to carry one. */
struct fb_pkt {
	__u8 type;      /* FB_REC_PKT */
	__u8 flags;     /* enum fb_pkt_flags */
	__u8 proto;     /* IP protocol, 0 when not IP */
	__u8 tcp_flags; /* FIN=0x01 SYN=0x02 RST=0x04 PSH=0x08 ACK=0x10 ... */
	__u16 cpu;      /* CPU that produced it: seq counts per CPU */
	__u16 ethertype;
	__u32 seq;      /* per-CPU packet number (low 32 bits of seen); gaps = lost */
	__u32 ifindex;
	__u64 ts_ns;    /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 wire_len; /* bytes on the wire without FCS (XDP: frame, TC: skb->len) */
	__u16 sport;    /* host byte order */
	__u16 dport;
	__u8 src[16];
	__u8 dst[16];
};
_Static_assert(sizeof(struct fb_pkt) == 64, "fb_pkt must stay one cache line");

/* Per-CPU counters, one element of the fb_counters PERCPU_ARRAY.
 * Invariant per CPU: seen = records written + lost. parse_err counts written
 * records whose headers were cut short or malformed (a lost packet is not
 * parsed: a full ring must not make the producer slower). */
struct fb_counters {
	__u64 seen;      /* packets the programs ran on */
	__u64 lost;      /* records not written: ring full */
	__u64 parse_err; /* truncated or malformed headers */
	__u64 wakeups;   /* forced consumer wake-ups (ring past its watermark) */
};
_Static_assert(sizeof(struct fb_counters) == 32, "fb_counters layout");

#define FB_ETH_P_IP 0x0800
#define FB_ETH_P_IPV6 0x86DD
#define FB_ETH_P_ARP 0x0806
#define FB_ETH_P_8021Q 0x8100
#define FB_ETH_P_8021AD 0x88A8

#endif

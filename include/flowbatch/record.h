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

/* Record types: the first byte of every record in the ring. Each type is a
 * "family" with its own per-CPU sequence numbers and ledger (fb_counters is
 * indexed by type). 0 is never written. */
enum fb_rec_type {
	FB_REC_PKT = 1,
	FB_REC_TYPES = 8, /* room for the event families; fb_counters entries */
};

/* The header every record starts with. type and len let a consumer skip or
 * count what it does not know; cpu and seq make losses exact per family;
 * ts_ns places the record in its batch whatever its type. */
struct fb_rec_hdr {
	__u8 type;      /* enum fb_rec_type */
	__u8 flags;     /* meaning per type */
	__u16 len;      /* bytes of the whole record, this header included */
	__u16 cpu;      /* CPU that produced it: seq counts per CPU and type */
	__u16 aux;      /* per type (packets: EtherType) */
	__u32 seq;      /* per-CPU number of this type (low 32 bits of seen) */
	__u32 ifindex;  /* interface, 0 when none */
	__u64 ts_ns;    /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
};
_Static_assert(sizeof(struct fb_rec_hdr) == 24, "fb_rec_hdr layout");

/* fb_pkt.flags */
enum fb_pkt_flags {
	FB_F_EGRESS = 1 << 0,    /* seen on transmit (TC egress), else receive */
	FB_F_PARSE_ERR = 1 << 1, /* a header was truncated or malformed */
	FB_F_FRAG = 1 << 2,      /* IP fragment; non-first ones have no ports */
	FB_F_IPV6 = 1 << 3,      /* addresses are IPv6, else v4-mapped IPv4 */
	FB_F_VLAN = 1 << 4,      /* at least one VLAN tag was stripped */
	FB_F_GSO = 1 << 5,       /* one skb standing for several wire packets */
};

/* One packet as the program saw it: one skb (TC) or one frame (XDP). The
 * first 24 bytes are struct fb_rec_hdr, spelled out so both sides can name
 * the fields directly. Addresses are 16 bytes: IPv4 is stored v4-mapped
 * (::ffff:a.b.c.d). For ICMP (IPv4, protocol 1) and ICMPv6 (IPv6, 58),
 * sport holds the type and dport the code, as NetFlow/IPFIX exporters do.
 * ethertype is the innermost one after VLAN tags, host byte order; 0 for
 * 802.3 length frames (LLC) and for frames too short to carry one.
 *
 * Records vs wire: a GSO/GRO skb is one record but segs packets on the wire;
 * wire_len counts every segment with its own headers, so the flow rows
 * report wire packets and bytes while the ledger counts records. */
struct fb_pkt {
	__u8 type;      /* FB_REC_PKT */
	__u8 flags;     /* enum fb_pkt_flags */
	__u16 len;      /* sizeof(struct fb_pkt) */
	__u16 cpu;
	__u16 ethertype;
	__u32 seq;
	__u32 ifindex;
	__u64 ts_ns;
	__u32 wire_len; /* bytes on the wire without FCS, all segments */
	__u16 segs;     /* packets on the wire: 1, or the GSO segment count */
	__u8 proto;     /* IP protocol, 0 when not IP */
	__u8 tcp_flags; /* FIN=0x01 SYN=0x02 RST=0x04 PSH=0x08 ACK=0x10 ... */
	__u16 sport;    /* host byte order */
	__u16 dport;
	__u32 skb_len;  /* bytes the program saw (XDP: frame, TC: skb->len) */
	__u8 src[16];
	__u8 dst[16];
};
_Static_assert(sizeof(struct fb_pkt) == 72, "fb_pkt layout");
_Static_assert(__builtin_offsetof(struct fb_pkt, ts_ns) == __builtin_offsetof(struct fb_rec_hdr, ts_ns),
	       "fb_pkt starts with fb_rec_hdr");
_Static_assert(__builtin_offsetof(struct fb_pkt, ethertype) == __builtin_offsetof(struct fb_rec_hdr, aux),
	       "fb_pkt starts with fb_rec_hdr");

/* Per-CPU counters: element t of the fb_counters PERCPU_ARRAY counts
 * records of type t. Invariant per CPU and type: seen = written + lost. parse_err counts written
 * records whose headers were cut short or malformed (a lost packet is not
 * parsed: a full ring must not make the producer slower). */
struct fb_counters {
	__u64 seen;      /* records the programs tried to write */
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

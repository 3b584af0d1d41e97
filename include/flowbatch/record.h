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
	FB_REC_TCP_STATE = 2, /* struct fb_tcp_ev: a TCP socket changed state */
	FB_REC_RETRANS = 3,   /* struct fb_tcp_ev: a segment was retransmitted */
	FB_REC_RESET = 4,     /* struct fb_tcp_ev: a RST was sent or received */
	FB_REC_RTT = 5,       /* struct fb_tcp_ev: a segment arrived; the socket's srtt */
	FB_REC_DROP = 6,      /* struct fb_drop: the kernel freed a packet as dropped */
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

/* ---- kernel events (--events), bpf/events.bpf.h ------------------------ */

/* fb_tcp_ev.flags and fb_drop.flags (FB_F_IPV6 as for packets) */
enum fb_ev_flags {
	FB_EV_F_IPV6 = 1 << 3,     /* = FB_F_IPV6: addresses are IPv6 */
	FB_EV_F_NOSTART = 1 << 0,  /* tcp state -> CLOSE: the open was not seen, life_ns is 0 */
	FB_EV_F_RST_RECV = 1 << 0, /* reset: received (else sent) */
	FB_EV_F_NOSOCK = 1 << 1,   /* reset sent: no socket (tuple from the packet answered) */
	FB_EV_F_IP = 1 << 0,       /* drop: the packet had an IP header: addresses are valid */
	FB_EV_F_PORTS = 1 << 1,    /* drop: TCP/UDP/SCTP ports (or ICMP type/code) are valid */
};

/* One TCP event, seen from the socket's side: src is this host's end and
 * dst the peer, so the event joins the flow of the packets this socket
 * sends (a reset sent without a socket: from the address the offending
 * packet was sent to). The same layout serves four record types:
 *   FB_REC_TCP_STATE  aux = old state << 8 | new state (TCP_ESTABLISHED = 1 ..);
 *                     val = ns since the socket left CLOSE, on a change to
 *                     CLOSE (FB_EV_F_NOSTART when flowbatch did not see that)
 *   FB_REC_RETRANS    aux = socket state; info = the kernel's result (0: sent,
 *                     else -errno as a __u32; always 0 on kernels whose
 *                     tracepoint has no result); val = segments in the skb
 *   FB_REC_RESET      aux = socket state (0 without socket); info = reason
 *                     (enum sk_rst_reason, sent resets, kernels 6.10+)
 *   FB_REC_RTT        aux = socket state; info = smoothed RTT in us; val =
 *                     RTT variation (mdev) in us
 * ifindex is 0: a socket event has no interface. */
struct fb_tcp_ev {
	__u8 type;
	__u8 flags;     /* enum fb_ev_flags */
	__u16 len;      /* sizeof(struct fb_tcp_ev) */
	__u16 cpu;
	__u16 aux;
	__u32 seq;
	__u32 ifindex;
	__u64 ts_ns;
	__u8 src[16];   /* local address (v4-mapped for IPv4) */
	__u8 dst[16];   /* remote address */
	__u16 sport;    /* local port, host byte order */
	__u16 dport;    /* remote port */
	__u32 info;
	__u64 val;
};
_Static_assert(sizeof(struct fb_tcp_ev) == 72, "fb_tcp_ev layout");
_Static_assert(__builtin_offsetof(struct fb_tcp_ev, ts_ns) == __builtin_offsetof(struct fb_rec_hdr, ts_ns),
	       "fb_tcp_ev starts with fb_rec_hdr");

/* One packet the kernel freed as dropped (skb:kfree_skb, every reason but
 * "consumed"). Oriented as the packet travelled, like a flow row. aux is
 * the skb's protocol (EtherType, host order); ifindex the device it was on
 * (0 if none). */
struct fb_drop {
	__u8 type;      /* FB_REC_DROP */
	__u8 flags;     /* enum fb_ev_flags */
	__u16 len;      /* sizeof(struct fb_drop) */
	__u16 cpu;
	__u16 aux;
	__u32 seq;
	__u32 ifindex;
	__u64 ts_ns;
	__u8 src[16];
	__u8 dst[16];
	__u16 sport;    /* host byte order; ICMP: type and code */
	__u16 dport;
	__u32 reason;   /* enum skb_drop_reason of the running kernel */
	__u8 proto;     /* IP protocol, 0 when not IP */
	__u8 pad[3];    /* zero */
	__u32 bytes;    /* skb->len */
};
_Static_assert(sizeof(struct fb_drop) == 72, "fb_drop layout");
_Static_assert(__builtin_offsetof(struct fb_drop, ts_ns) == __builtin_offsetof(struct fb_rec_hdr, ts_ns),
	       "fb_drop starts with fb_rec_hdr");

#define FB_ETH_P_IP 0x0800
#define FB_ETH_P_IPV6 0x86DD
#define FB_ETH_P_ARP 0x0806
#define FB_ETH_P_8021Q 0x8100
#define FB_ETH_P_8021AD 0x88A8

#endif

/* Kernel event programs (--events): BTF-typed tracepoints (tp_btf, no
 * tracefs needed) on TCP state changes, retransmits, resets, incoming
 * segments (for the smoothed RTT) and dropped packets. Each writes one record
 * of its own type into the same rings as the packet programs, with its own
 * per-CPU sequence numbers and counters (fb_counters[type]), so every family
 * has an exact ledger. Included at the end of flowbatch.bpf.c: it uses that
 * file's rings and counters through ring.bpf.h. Every
 * program here is in a "?" section: libbpf loads it only when user space
 * turns its autoload on (user/capture_events.c), so the packet path and the
 * BPF tests load exactly what they did. */
#ifndef FB_EVENTS_BPF_H
#define FB_EVENTS_BPF_H
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

/* Set before load from the running kernel's BTF: whether the tracepoint
 * passes the retransmit's result (6.12+) and the reset's reason (6.10+).
 * A program must not read a tracepoint argument the kernel does not pass
 * (the verifier refuses it); with these false the branches that would are
 * dead code the verifier never walks. */
const volatile bool fb_ev_retrans_has_err = false;
const volatile bool fb_ev_rst_has_reason = false;

#define FB_AF_INET 2
#define FB_AF_INET6 10
#define FB_IPPROTO_TCP 6
#define FB_TCP_CLOSE 7
#define FB_TCP_ESTABLISHED 1
#define FB_TCP_TIME_WAIT 6
#define FB_TCP_NEW_SYN_RECV 12

/* When each socket left CLOSE, to give a connection's life at its close.
 * Socket storage lives and dies with the socket: nothing to clean up, no
 * table to fill up. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} fb_tcp_birth SEC(".maps");

static __always_inline void fb_v4mapped(__u8 *a, __be32 v4)
{
	__builtin_memset(a, 0, 10);
	a[10] = 0xff;
	a[11] = 0xff;
	__builtin_memcpy(a + 12, &v4, 4);
}

/* A socket's 5-tuple, local end first. Returns -1 for a socket that is not
 * IPv4/IPv6. Works for full, request and time-wait sockets (all start with
 * sock_common). */
static __always_inline int fb_ev_sk_tuple(const struct sock *sk, struct fb_tcp_ev *e)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	__u8 state = BPF_CORE_READ(sk, __sk_common.skc_state);

	e->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	/* a full socket changing to CLOSE has released its port (skc_num is
	 * 0 by then); inet_sport still holds it. Time-wait and request
	 * sockets are no inet_sock but keep skc_num. */
	if (!e->sport && state != FB_TCP_TIME_WAIT && state != FB_TCP_NEW_SYN_RECV)
		e->sport = bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
	e->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family == FB_AF_INET) {
		fb_v4mapped(e->src, BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr));
		fb_v4mapped(e->dst, BPF_CORE_READ(sk, __sk_common.skc_daddr));
		return 0;
	}
	if (family == FB_AF_INET6) {
		BPF_CORE_READ_INTO(e->src, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(e->dst, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
		e->flags |= FB_EV_F_IPV6;
		return 0;
	}
	return -1;
}

static __always_inline bool fb_ev_sk_is_inet(const struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	return family == FB_AF_INET || family == FB_AF_INET6;
}

/* Common to the four TCP families: a record with the socket's tuple. */
static __always_inline struct fb_tcp_ev *fb_ev_tcp_begin(__u32 type, const struct sock *sk, void **rb,
							 struct fb_counters **c)
{
	struct fb_tcp_ev *e = fb_rec_reserve(type, sizeof(struct fb_tcp_ev), 0, 0, rb, c);

	if (!e)
		return NULL;
	__builtin_memset(e->src, 0, sizeof(e->src) + sizeof(e->dst));
	e->sport = e->dport = 0;
	e->info = 0;
	e->val = 0;
	if (sk)
		fb_ev_sk_tuple(sk, e);
	return e;
}

SEC("?tp_btf/inet_sock_set_state")
int BPF_PROG(fb_ev_tcp_state, const struct sock *sk, const int oldstate, const int newstate)
{
	struct fb_counters *c;
	struct fb_tcp_ev *e;
	__u64 now, *birth;
	void *rb;

	if (BPF_CORE_READ(sk, sk_protocol) != FB_IPPROTO_TCP || !fb_ev_sk_is_inet(sk))
		return 0;
	if (oldstate == FB_TCP_CLOSE) {
		/* SYN sent or a child socket made by a listener: the start of
		 * a connection's life */
		birth = bpf_sk_storage_get(&fb_tcp_birth, (struct sock *)sk, 0,
					   BPF_SK_STORAGE_GET_F_CREATE);
		if (birth)
			*birth = bpf_ktime_get_ns();
	}
	e = fb_ev_tcp_begin(FB_REC_TCP_STATE, sk, &rb, &c);
	if (!e)
		return 0;
	e->aux = (__u16)((oldstate & 0xff) << 8 | (newstate & 0xff));
	if (newstate == FB_TCP_CLOSE) {
		birth = bpf_sk_storage_get(&fb_tcp_birth, (struct sock *)sk, 0, 0);
		now = e->ts_ns;
		if (birth && *birth && *birth <= now) {
			e->val = now - *birth;
			*birth = 0;
		} else {
			e->flags |= FB_EV_F_NOSTART;
		}
	}
	fb_rec_submit(rb, e, c);
	return 0;
}

SEC("?tp_btf/tcp_retransmit_skb")
int fb_ev_retrans(__u64 *ctx)
{
	const struct sock *sk = (const void *)ctx[0];
	const struct sk_buff *skb = (const void *)ctx[1];
	struct skb_shared_info *sh;
	struct fb_counters *c;
	struct fb_tcp_ev *e;
	__u16 segs;
	void *rb;

	e = fb_ev_tcp_begin(FB_REC_RETRANS, sk, &rb, &c);
	if (!e)
		return 0;
	e->aux = BPF_CORE_READ(sk, __sk_common.skc_state);
	if (fb_ev_retrans_has_err)
		e->info = (__u32)ctx[2];
	sh = (void *)(BPF_CORE_READ(skb, head) + BPF_CORE_READ(skb, end));
	segs = BPF_CORE_READ(sh, gso_segs);
	e->val = segs ? segs : 1;
	fb_rec_submit(rb, e, c);
	return 0;
}

/* Reads the IP header of skb at its network header: addresses, protocol
 * and the four bytes after the IP header (ports, ICMP type/code). Returns
 * the FB_EV_F_* flags it could fill (0 when there is no IP header). */
static __always_inline __u8 fb_ev_skb_ip(const struct sk_buff *skb, __u8 *src, __u8 *dst, __u8 *proto,
					 __u16 *sport, __u16 *dport)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 nh = BPF_CORE_READ(skb, network_header);
	__u32 tail = BPF_CORE_READ(skb, tail);
	__u16 eproto = bpf_ntohs(BPF_CORE_READ(skb, protocol));
	__u32 l4 = 0;
	__u8 flags = 0, p = 0;
	__u8 l4b[4];

	if (nh == (__u16)~0U)
		return 0;
	if (eproto == FB_ETH_P_IP) {
		struct iphdr ip;

		if (nh + sizeof(ip) > tail || bpf_probe_read_kernel(&ip, sizeof(ip), head + nh))
			return 0;
		if (ip.version != 4 || ip.ihl < 5)
			return 0;
		fb_v4mapped(src, ip.saddr);
		fb_v4mapped(dst, ip.daddr);
		p = ip.protocol;
		flags = FB_EV_F_IP;
		/* ports only in the first fragment */
		if (!(bpf_ntohs(ip.frag_off) & 0x1fff))
			l4 = nh + ip.ihl * 4;
	} else if (eproto == FB_ETH_P_IPV6) {
		struct ipv6hdr ip6;

		if (nh + sizeof(ip6) > tail || bpf_probe_read_kernel(&ip6, sizeof(ip6), head + nh))
			return 0;
		if (ip6.version != 6)
			return 0;
		__builtin_memcpy(src, &ip6.saddr, 16);
		__builtin_memcpy(dst, &ip6.daddr, 16);
		p = ip6.nexthdr; /* extension headers are not walked */
		flags = FB_EV_F_IP | FB_EV_F_IPV6;
		l4 = nh + sizeof(ip6);
	} else {
		return 0;
	}
	*proto = p;
	if (l4 && l4 + 4 <= tail &&
	    (p == 6 || p == 17 || p == 132 || p == 136 || p == 1 || p == 58) &&
	    !bpf_probe_read_kernel(l4b, 4, head + l4)) {
		if (p == 1 || p == 58) {
			*sport = l4b[0];
			*dport = l4b[1];
		} else {
			*sport = (__u16)(l4b[0] << 8 | l4b[1]);
			*dport = (__u16)(l4b[2] << 8 | l4b[3]);
		}
		flags |= FB_EV_F_PORTS;
	}
	return flags;
}

SEC("?tp_btf/tcp_send_reset")
int fb_ev_rst_send(__u64 *ctx)
{
	const struct sock *sk = (const void *)ctx[0];
	const struct sk_buff *skb = (const void *)ctx[1];
	struct fb_counters *c;
	struct fb_tcp_ev *e;
	__u8 proto = 0;
	__u16 sp = 0, dp = 0;
	void *rb;

	e = fb_ev_tcp_begin(FB_REC_RESET, sk, &rb, &c);
	if (!e)
		return 0;
	if (fb_ev_rst_has_reason)
		e->info = (__u32)ctx[2];
	if (sk) {
		e->aux = BPF_CORE_READ(sk, __sk_common.skc_state);
	} else if (skb) {
		/* no socket: the reset answers the packet in skb; this host's
		 * end is where that packet was going */
		e->flags |= FB_EV_F_NOSOCK;
		if (fb_ev_skb_ip(skb, e->dst, e->src, &proto, &dp, &sp) & FB_EV_F_IPV6)
			e->flags |= FB_EV_F_IPV6;
		e->sport = sp;
		e->dport = dp;
	}
	fb_rec_submit(rb, e, c);
	return 0;
}

SEC("?tp_btf/tcp_receive_reset")
int BPF_PROG(fb_ev_rst_recv, struct sock *sk)
{
	struct fb_counters *c;
	struct fb_tcp_ev *e;
	void *rb;

	e = fb_ev_tcp_begin(FB_REC_RESET, sk, &rb, &c);
	if (!e)
		return 0;
	e->flags |= FB_EV_F_RST_RECV;
	e->aux = BPF_CORE_READ(sk, __sk_common.skc_state);
	fb_rec_submit(rb, e, c);
	return 0;
}

/* Every segment an established TCP socket receives: its smoothed RTT as the
 * kernel keeps it (srtt_us holds 8x the RTT in us, mdev_us 4x the mean
 * deviation). A socket without an RTT sample yet writes nothing, counted
 * nowhere: it is not an event of this family. */
SEC("?tp_btf/tcp_probe")
int BPF_PROG(fb_ev_rtt, struct sock *sk, const struct sk_buff *skb)
{
	const struct tcp_sock *tp = (const void *)sk;
	struct fb_counters *c;
	struct fb_tcp_ev *e;
	__u32 srtt = BPF_CORE_READ(tp, srtt_us) >> 3;
	void *rb;

	if (!srtt || !fb_ev_sk_is_inet(sk))
		return 0;
	e = fb_ev_tcp_begin(FB_REC_RTT, sk, &rb, &c);
	if (!e)
		return 0;
	e->aux = BPF_CORE_READ(sk, __sk_common.skc_state);
	e->info = srtt;
	e->val = BPF_CORE_READ(tp, mdev_us) >> 2;
	fb_rec_submit(rb, e, c);
	return 0;
}

/* Packets freed as dropped. kfree_skb also reports SKB_CONSUMED on some
 * kernels (a normal end, not a drop): those are not events here. */
SEC("?tp_btf/kfree_skb")
int BPF_PROG(fb_ev_drop, struct sk_buff *skb, void *location, enum skb_drop_reason reason)
{
	struct fb_counters *c;
	struct fb_drop *d;
	void *rb;

	if (reason == bpf_core_enum_value(enum skb_drop_reason, SKB_CONSUMED))
		return 0;
	d = fb_rec_reserve(FB_REC_DROP, sizeof(struct fb_drop), 0, 0, &rb, &c);
	if (!d)
		return 0;
	__builtin_memset(d->src, 0, sizeof(d->src) + sizeof(d->dst));
	d->sport = d->dport = 0;
	d->proto = 0;
	d->pad[0] = d->pad[1] = d->pad[2] = 0;
	d->reason = (__u32)reason;
	d->bytes = BPF_CORE_READ(skb, len);
	d->ifindex = BPF_CORE_READ(skb, skb_iif);
	d->aux = bpf_ntohs(BPF_CORE_READ(skb, protocol));
	d->flags = fb_ev_skb_ip(skb, d->src, d->dst, &d->proto, &d->sport, &d->dport);
	fb_rec_submit(rb, d, c);
	return 0;
}

#endif

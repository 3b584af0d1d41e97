/* flowbatch's packet programs: XDP (receive) and TC (receive and transmit),
 * each in two variants: for links with an Ethernet header and for raw-IP
 * links (tun, WireGuard, ipip, gre, sit, ppp). Each packet becomes one
 * struct fb_pkt in a BPF ring buffer, with the wire packets and bytes it
 * stands for; every packet is counted per CPU, written or not, and always
 * passed on unchanged. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "parse.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by user space before load. The consumer is woken only when the ring
 * holds at least watermark bytes, and again every kick_step bytes beyond,
 * so a busy ring costs a handful of wake-ups, an idle one none. */
const volatile __u64 watermark = 1 << 20;
const volatile __u64 kick_step = 1 << 18;
/* One ring per CPU (default): producers on different CPUs never share the
 * ring's lock and positions, which made two CPUs producing at once ~2.5x
 * faster than one shared ring (bench/b_contention.c). */
const volatile bool percpu_rings = true;

/* the shared ring, used when percpu_rings is off */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24); /* resized by --ring-size */
} fb_ring SEC(".maps");

struct fb_ring_inner {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 24);
};

/* per-CPU rings, indexed by CPU; user space creates and inserts them */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1); /* resized to the number of possible CPUs */
	__type(key, __u32);
	__array(values, struct fb_ring_inner);
} fb_rings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FB_REC_TYPES); /* indexed by record type */
	__type(key, __u32);
	__type(value, struct fb_counters);
} fb_counters SEC(".maps");

#define FB_SLOT (sizeof(struct fb_pkt) + 8) /* ring header + record */

/* skb_shared_info.gso_size of SCTP GSO: segments follow the chunk list */
#define FB_GSO_BY_FRAGS 0xFFFF
#define FB_MAX_SEGS 0xFFFF /* fb_pkt.segs is 16 bits, as the kernel's count */

/* What a program knows about the packet besides its bytes. */
struct fb_ctx {
	__u32 len;      /* bytes the program saw: XDP frame (all buffers), skb->len */
	__u32 ifindex;
	__u32 gso_segs; /* skb_shinfo: segments of a GSO/GRO skb, 0 when unknown */
	__u32 gso_size; /* payload bytes per segment, 0 when not GSO */
	__u32 tags_out; /* VLAN tags in skb metadata, on the wire in front of each segment */
	__u16 l3;       /* raw IP on TC: skb->protocol (host order) */
	__u8 flags;     /* FB_F_EGRESS, FB_F_VLAN */
	__u8 xdp;       /* XDP: no skb, gso_* unknown; see fb_xdp_aggregate */
	void *xdp_ctx;
};

/* Wire packets and bytes of one record. A GSO/GRO skb stands for segs
 * packets, each with its own copy of the headers (hl, plus a VLAN tag the
 * kernel holds in metadata), so the wire carries
 *     len + tags + (segs - 1) * (hl + tags)
 * bytes. Where the sender left the count to the kernel (gso_segs 0: virtio,
 * tun and packet sockets mark such skbs "dodgy"), it is worked out as the
 * kernel's qdisc accounting does, from the payload and gso_size. hl covers
 * what the parser could read: after a parse error it lacks the headers it
 * could not, and the record carries the parse-error flag. */
static __always_inline void fb_wire(struct fb_pkt *r, const struct fb_ctx *x, __u32 hl)
{
	__u32 segs = 1, tag = x->tags_out * 4;

	if (x->gso_size) {
		segs = x->gso_segs;
		if (!segs) {
			segs = 1;
			if (x->gso_size != FB_GSO_BY_FRAGS && x->len > hl)
				segs = (x->len - hl + x->gso_size - 1) / x->gso_size;
		}
		if (segs > FB_MAX_SEGS)
			segs = FB_MAX_SEGS;
		if (!segs)
			segs = 1;
	}
	r->segs = (__u16)segs;
	r->wire_len = x->len + tag + (segs - 1) * (hl + tag);
	if (segs > 1)
		r->flags |= FB_F_GSO;
}

/* XDP has no gso_segs, and needs none where it runs in the driver: frames
 * there are what the wire carried. In generic mode it runs on the skb after
 * GRO, and on GSO skbs a veth peer passes along whole, so one "frame" can
 * be many packets. Such a frame is longer than the device's MTU allows;
 * its segments are counted as the MTU cuts them: payload per segment = MTU
 * minus the IP and transport headers. That is TCP's MSS between hosts with
 * the same MTU (exact then); where the sender used a smaller segment size
 * (MSS clamping, UDP GSO below the MTU) it is a lower bound. */
static __always_inline void fb_xdp_aggregate(struct fb_ctx *x, __u32 hl, __u32 l2)
{
	__u32 mtu = 0, l34 = hl - l2;

	/* a frame this short is one packet at any MTU of 1500 or more, so
	 * the common case costs no helper call */
	if (x->len <= 1500 + 18 || !x->xdp_ctx)
		return;
	if (bpf_check_mtu(x->xdp_ctx, 0, &mtu, 0, 0) < 0 || !mtu)
		return;
	if (x->len - l2 <= mtu || mtu <= l34 || x->len <= hl)
		return;
	x->gso_size = mtu - l34;
	x->gso_segs = 0; /* counted from the payload by fb_wire */
}

static __always_inline void fb_record(const void *data, const void *end, struct fb_ctx *x,
				      enum fb_link link)
{
	struct fb_counters *c;
	struct fb_pkt *r;
	__u32 key = FB_REC_PKT, cpu, hl = 0, l2 = 0;
	__u64 avail, over, wake, seq;
	void *rb = &fb_ring;

	c = bpf_map_lookup_elem(&fb_counters, &key);
	if (!c)
		return;
	/* the number is taken before the reserve, so a program nested on
	 * this CPU (a later tracepoint) cannot reuse it */
	seq = ++c->seen;
	cpu = bpf_get_smp_processor_id();
	if (percpu_rings) {
		rb = bpf_map_lookup_elem(&fb_rings, &cpu);
		if (!rb) {
			c->lost++;
			return;
		}
	}
	r = bpf_ringbuf_reserve(rb, sizeof(*r), 0);
	if (!r) {
		/* not parsed: an overloaded consumer should not make the
		 * producer slower; parse_err counts written records */
		c->lost++;
		return;
	}
	r->type = FB_REC_PKT;
	r->len = sizeof(*r);
	r->flags = x->flags;
	r->cpu = cpu;
	r->seq = (__u32)seq;
	r->ifindex = x->ifindex;
	r->ts_ns = bpf_ktime_get_ns();
	r->skb_len = x->len;
	if (fb_parse(data, end, r, link, x->l3, x->tags_out, &hl, &l2)) {
		r->flags |= FB_F_PARSE_ERR;
		c->parse_err++;
	}
	if (x->xdp)
		fb_xdp_aggregate(x, hl, l2);
	fb_wire(r, x, hl);

	wake = BPF_RB_NO_WAKEUP;
	avail = bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA);
	if (avail >= watermark) {
		over = avail - watermark;
		if (over % kick_step < FB_SLOT) {
			wake = BPF_RB_FORCE_WAKEUP;
			c->wakeups++;
		}
	}
	bpf_ringbuf_submit(r, wake);
}

/* XDP in the driver sees frames as the wire carried them (GRO comes later),
 * so a frame is one packet; generic XDP may not (fb_xdp_aggregate). The
 * frags-aware section lets the program attach where frames
 * span several buffers (MTU above a page, e.g. 9000 on veth); data..data_end
 * is the first buffer only, which holds the headers, and
 * bpf_xdp_get_buff_len counts all of them. */
static __always_inline void fb_xdp_common(struct xdp_md *ctx, enum fb_link link)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct fb_ctx x = {
		.len = (__u32)bpf_xdp_get_buff_len(ctx),
		.ifindex = ctx->ingress_ifindex,
		.xdp = 1,
		.xdp_ctx = ctx,
	};

	fb_record(data, end, &x, link);
}

SEC("xdp.frags")
int fb_xdp(struct xdp_md *ctx)
{
	fb_xdp_common(ctx, FB_LINK_ETH);
	return XDP_PASS;
}

/* raw-IP links: the kernel allows only generic (skb) XDP on them */
SEC("xdp.frags")
int fb_xdp_l3(struct xdp_md *ctx)
{
	fb_xdp_common(ctx, FB_LINK_RAW_IP);
	return XDP_PASS;
}

/* Enough linear bytes for Ethernet, two VLAN tags, IPv6 with a few extension
 * headers and TCP. Pulling makes headers readable; it does not change the
 * packet's content. */
#define FB_PULL_LEN 192

static __always_inline void fb_tc(struct __sk_buff *skb, __u8 dir_flag, enum fb_link link)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u32 want = skb->len < FB_PULL_LEN ? skb->len : FB_PULL_LEN;
	struct fb_ctx x = {
		.len = skb->len,
		.ifindex = skb->ifindex,
		.gso_segs = skb->gso_segs,
		.gso_size = skb->gso_size,
		.flags = dir_flag,
	};

	if (want > FB_PULL_LEN) /* for the verifier: want is bounded */
		want = FB_PULL_LEN;
	if (data + want > end) {
		bpf_skb_pull_data(skb, want);
		data = (void *)(long)skb->data;
		end = (void *)(long)skb->data_end;
	}
	/* A received VLAN tag is often moved out of the frame into skb
	 * metadata before TC runs (and a sent one may wait there for the
	 * NIC to insert it): it is on the wire in front of every segment, so
	 * count its 4 bytes and flag it as XDP would see it. */
	if (link == FB_LINK_ETH && skb->vlan_present) {
		x.tags_out = 1;
		x.flags |= FB_F_VLAN;
	}
	/* on raw IP the kernel's protocol names the packet; a value below
	 * 0x0600 (unset, or an 802.3 pseudo-protocol) says nothing, and the
	 * version nibble decides */
	if (link == FB_LINK_RAW_IP) {
		x.l3 = bpf_ntohs((__u16)skb->protocol);
		if (x.l3 < 0x0600)
			x.l3 = 0;
	}
	fb_record(data, end, &x, link);
}

#define TC_ACT_UNSPEC_ (-1) /* continue with the next program / default */

SEC("tc")
int fb_tc_in(struct __sk_buff *skb)
{
	fb_tc(skb, 0, FB_LINK_ETH);
	return TC_ACT_UNSPEC_;
}

SEC("tc")
int fb_tc_out(struct __sk_buff *skb)
{
	fb_tc(skb, FB_F_EGRESS, FB_LINK_ETH);
	return TC_ACT_UNSPEC_;
}

SEC("tc")
int fb_tc_in_l3(struct __sk_buff *skb)
{
	fb_tc(skb, 0, FB_LINK_RAW_IP);
	return TC_ACT_UNSPEC_;
}

SEC("tc")
int fb_tc_out_l3(struct __sk_buff *skb)
{
	fb_tc(skb, FB_F_EGRESS, FB_LINK_RAW_IP);
	return TC_ACT_UNSPEC_;
}

#include "events.bpf.h" /* --events: kernel tracepoint programs (issue 10) */

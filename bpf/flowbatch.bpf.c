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
#include "ring.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";


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
	__u32 hl = 0, l2 = 0;
	void *rb;

	r = fb_rec_reserve(FB_REC_PKT, sizeof(*r), x->flags, x->ifindex, &rb, &c);
	if (!r)
		return;
	r->skb_len = x->len;
	if (fb_parse(data, end, r, link, x->l3, x->tags_out, &hl, &l2)) {
		r->flags |= FB_F_PARSE_ERR;
		c->parse_err++;
	}
	if (x->xdp)
		fb_xdp_aggregate(x, hl, l2);
	fb_wire(r, x, hl);
	fb_rec_submit(rb, r, c);
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

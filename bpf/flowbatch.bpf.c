/* flowbatch's packet programs: XDP (receive) and TC (receive and transmit).
 * Each packet becomes one struct fb_pkt in a BPF ring buffer; every packet
 * is counted per CPU, written or not, and always passed on unchanged. */
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

static __always_inline void fb_record(const void *data, const void *end, __u32 wire_len,
				      __u32 ifindex, __u8 dir_flag)
{
	struct fb_counters *c;
	struct fb_pkt *r;
	__u32 key = FB_REC_PKT, cpu;
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
	r->flags = dir_flag;
	r->cpu = cpu;
	r->seq = (__u32)seq;
	r->ifindex = ifindex;
	r->ts_ns = bpf_ktime_get_ns();
	r->wire_len = wire_len;
	r->skb_len = wire_len;
	r->segs = 1;
	if (fb_parse(data, end, r)) {
		r->flags |= FB_F_PARSE_ERR;
		c->parse_err++;
	}

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

SEC("xdp")
int fb_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;

	fb_record(data, end, (__u32)(end - data), ctx->ingress_ifindex, 0);
	return XDP_PASS;
}

/* Enough linear bytes for Ethernet, two VLAN tags, IPv6 with a few extension
 * headers and TCP. Pulling makes headers readable; it does not change the
 * packet's content. */
#define FB_PULL_LEN 192

static __always_inline void fb_tc(struct __sk_buff *skb, __u8 dir_flag)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u32 want = skb->len < FB_PULL_LEN ? skb->len : FB_PULL_LEN;

	if (want > FB_PULL_LEN) /* for the verifier: want is bounded */
		want = FB_PULL_LEN;
	if (data + want > end) {
		bpf_skb_pull_data(skb, want);
		data = (void *)(long)skb->data;
		end = (void *)(long)skb->data_end;
	}
	/* A received VLAN tag is often moved out of the frame into skb
	 * metadata before TC runs: count its 4 bytes and flag it as XDP would
	 * see it. */
	if (skb->vlan_present)
		fb_record(data, end, skb->len + 4, skb->ifindex, dir_flag | FB_F_VLAN);
	else
		fb_record(data, end, skb->len, skb->ifindex, dir_flag);
}

#define TC_ACT_UNSPEC_ (-1) /* continue with the next program / default */

SEC("tc")
int fb_tc_in(struct __sk_buff *skb)
{
	fb_tc(skb, 0);
	return TC_ACT_UNSPEC_;
}

SEC("tc")
int fb_tc_out(struct __sk_buff *skb)
{
	fb_tc(skb, FB_F_EGRESS);
	return TC_ACT_UNSPEC_;
}

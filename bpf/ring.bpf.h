/* The rings and counters every flowbatch program writes to, and the one
 * way a record gets into them: counted seen first (its per-CPU sequence
 * number), counted lost when there is no ring space, its common header
 * filled, and submitted with the shared wake-up policy. Packets
 * (flowbatch.bpf.c) and kernel events (events.bpf.h) both go through here,
 * so every record family keeps the same exact ledger. */
#ifndef FB_RING_BPF_H
#define FB_RING_BPF_H
#include "flowbatch/record.h"

/* Set by user space before load. The consumer is woken only when the ring
 * holds at least watermark bytes, and again every kick_step bytes beyond,
 * so a busy ring costs a handful of wake-ups, an idle one none. */
const volatile __u64 watermark = 1 << 20;
const volatile __u64 kick_step = 1 << 18;
/* One ring per CPU (default): producers on different CPUs never share the
 * ring's lock and positions, which made two CPUs producing at once ~2.5x
 * faster than one shared ring (bench/b_contention.c). */
const volatile bool percpu_rings = true;
/* Timestamps from CLOCK_MONOTONIC_COARSE (one jiffy of resolution, 4 ms at
 * HZ=250) instead of the ns clock, which costs 33-46 ns a packet on a VM's
 * clock (bench/b_kcost.c, row fb_xdp_coarse). Off: measured, not offered. */
const volatile bool coarse_clock = false;

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

#define FB_SLOT (sizeof(struct fb_pkt) + 8) /* ring header + packet record */

/* Reserves a record of one type and fills its header. The number is taken
 * before the reserve, so a program nested on this CPU (a tracepoint firing
 * inside a packet program) cannot reuse it; a record that cannot be written
 * is counted lost, never parsed: an overloaded consumer should not make the
 * producer slower. NULL when nothing was reserved. */
static __always_inline void *fb_rec_reserve(__u32 type, __u32 size, __u8 flags, __u32 ifindex,
					    void **rbp, struct fb_counters **cp)
{
	struct fb_counters *c;
	struct fb_rec_hdr *h;
	__u32 cpu;
	__u64 seq;
	void *rb = &fb_ring;

	c = bpf_map_lookup_elem(&fb_counters, &type);
	if (!c)
		return NULL;
	seq = ++c->seen;
	cpu = bpf_get_smp_processor_id();
	if (percpu_rings) {
		rb = bpf_map_lookup_elem(&fb_rings, &cpu);
		if (!rb) {
			c->lost++;
			return NULL;
		}
	}
	h = bpf_ringbuf_reserve(rb, size, 0);
	if (!h) {
		c->lost++;
		return NULL;
	}
	h->type = type;
	h->flags = flags;
	h->len = size;
	h->cpu = cpu;
	h->aux = 0;
	h->seq = (__u32)seq;
	h->ifindex = ifindex;
	h->ts_ns = coarse_clock ? bpf_ktime_get_coarse_ns() : bpf_ktime_get_ns();
	*rbp = rb;
	*cp = c;
	return h;
}

/* Submits without waking the consumer unless the ring is past the
 * watermark, and then once every kick_step bytes: a busy ring costs a few
 * wake-ups a second, an idle one none (it is drained at each batch tick). */
static __always_inline void fb_rec_submit(void *rb, void *rec, struct fb_counters *c)
{
	__u64 avail, wake = BPF_RB_NO_WAKEUP;

	avail = bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA);
	if (avail >= watermark && (avail - watermark) % kick_step < FB_SLOT) {
		wake = BPF_RB_FORCE_WAKEUP;
		c->wakeups++;
	}
	bpf_ringbuf_submit(rec, wake);
}

#endif

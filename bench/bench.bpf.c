/* Programs for the micro-benchmarks (bench/b_*.c), run with BPF_PROG_TEST_RUN.
 *
 *  bench_empty     XDP that only returns XDP_PASS: the test-run loop's floor.
 *  bench_ref       minimal reference: Ethernet/IPv4/UDP by direct packet
 *                  access, bpf_ktime_get_ns, one 64-byte record reserved and
 *                  submitted into ref_ring with BPF_RB_NO_WAKEUP.
 *  bench_shared    flowbatch's record path (same parser, per-CPU counters,
 *                  ledger fields, NO_WAKEUP + watermark wake-ups) into ONE
 *                  ring shared by all CPUs (shared_ring).
 *  bench_percpu    the same into one ring per CPU: cpu_rings, an
 *                  ARRAY_OF_MAPS of RINGBUF indexed by bpf_get_smp_processor_id.
 *  bench_fill      BPF_PROG_TYPE_SYSCALL: bpf_loop writes fill_n records of
 *                  random flows (out of fill_flows) into fill_ring, so the
 *                  consumer benchmark can drain a full ring alone.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "../bpf/parse.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* ---- (a) empty ------------------------------------------------------- */

SEC("xdp")
int bench_empty(struct xdp_md *ctx)
{
	return XDP_PASS;
}

/* ---- (b) minimal reference ------------------------------------------- */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 12); /* sized by user space */
} ref_ring SEC(".maps");

__u64 ref_lost;

SEC("xdp")
int bench_ref(struct xdp_md *ctx)
{
	const __u8 *data = (const __u8 *)(long)ctx->data;
	const __u8 *end = (const __u8 *)(long)ctx->data_end;
	__u64 ts = bpf_ktime_get_ns();
	struct fb_pkt *r;
	__u16 et = 0, sport = 0, dport = 0;
	__u8 proto = 0;
	__u32 saddr = 0, daddr = 0;

	if (data + 14 <= end) {
		et = ((__u16)data[12] << 8) | data[13];
		if (et == FB_ETH_P_IP && data + 14 + 20 <= end) {
			const __u8 *ip = data + 14;

			proto = ip[9];
			__builtin_memcpy(&saddr, ip + 12, 4);
			__builtin_memcpy(&daddr, ip + 16, 4);
			if (proto == IPPROTO_UDP_ && ip[0] == 0x45 && ip + 20 + 8 <= end) {
				sport = ((__u16)ip[20] << 8) | ip[21];
				dport = ((__u16)ip[22] << 8) | ip[23];
			}
		}
	}
	r = bpf_ringbuf_reserve(&ref_ring, sizeof(*r), 0);
	if (!r) {
		ref_lost++;
		return XDP_PASS;
	}
	/* every byte of the record written once, v4-mapped addresses */
	r->type = FB_REC_PKT;
	r->flags = 0;
	r->proto = proto;
	r->tcp_flags = 0;
	r->cpu = 0;
	r->ethertype = et;
	r->seq = 0;
	r->ifindex = ctx->ingress_ifindex;
	r->ts_ns = ts;
	r->wire_len = (__u32)(end - data);
	r->sport = sport;
	r->dport = dport;
	*(__u64 *)&r->src[0] = 0;
	*(__u32 *)&r->src[8] = 0xffff0000; /* bytes 00 00 ff ff */
	*(__u32 *)&r->src[12] = saddr;
	*(__u64 *)&r->dst[0] = 0;
	*(__u32 *)&r->dst[8] = 0xffff0000;
	*(__u32 *)&r->dst[12] = daddr;
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	return XDP_PASS;
}

/* ---- contention: one shared ring vs one ring per CPU ------------------ */

/* like flowbatch's: set before load to a quarter and a sixteenth of a ring */
const volatile __u64 watermark = 1 << 20;
const volatile __u64 kick_step = 1 << 18;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 12);
} shared_ring SEC(".maps");

struct ring_inner {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 12);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1); /* set to the number of CPUs; filled by user space */
	__type(key, __u32);
	__array(values, struct ring_inner);
} cpu_rings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fb_counters);
} bench_counters SEC(".maps");

#define FB_SLOT (sizeof(struct fb_pkt) + 8)

/* flowbatch's fb_record (bpf/flowbatch.bpf.c), with the ring as a parameter */
static __always_inline void bench_record(void *ring, struct fb_counters *c, const void *data,
					 const void *end, __u32 wire_len, __u32 ifindex)
{
	struct fb_pkt *r;
	__u64 avail, over, wake;

	c->seen++;
	r = bpf_ringbuf_reserve(ring, sizeof(*r), 0);
	if (!r) {
		c->lost++;
		return;
	}
	r->type = FB_REC_PKT;
	r->flags = 0;
	r->cpu = bpf_get_smp_processor_id();
	r->seq = (__u32)c->seen;
	r->ifindex = ifindex;
	r->ts_ns = bpf_ktime_get_ns();
	r->wire_len = wire_len;
	if (fb_parse(data, end, r)) {
		r->flags |= FB_F_PARSE_ERR;
		c->parse_err++;
	}
	wake = BPF_RB_NO_WAKEUP;
	avail = bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA);
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
int bench_shared(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct fb_counters *c;
	__u32 zero = 0;

	c = bpf_map_lookup_elem(&bench_counters, &zero);
	if (!c)
		return XDP_PASS;
	bench_record(&shared_ring, c, data, end, (__u32)(end - data), ctx->ingress_ifindex);
	return XDP_PASS;
}

SEC("xdp")
int bench_percpu(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct fb_counters *c;
	__u32 zero = 0, cpu = bpf_get_smp_processor_id();
	void *ring;

	c = bpf_map_lookup_elem(&bench_counters, &zero);
	if (!c)
		return XDP_PASS;
	ring = bpf_map_lookup_elem(&cpu_rings, &cpu);
	if (!ring) { /* no ring for this CPU: count it as lost */
		c->seen++;
		c->lost++;
		return XDP_PASS;
	}
	bench_record(ring, c, data, end, (__u32)(end - data), ctx->ingress_ifindex);
	return XDP_PASS;
}

/* ---- fill: a full ring for the consumer benchmark -------------------- */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 12);
} fill_ring SEC(".maps");

__u32 fill_n;       /* records per run (<= 1 << 23, bpf_loop's bound) */
__u32 fill_flows;   /* distinct flows the records are drawn from */
__u64 fill_ts;      /* timestamp of the next record */
__u64 fill_ts_step; /* ns between records */
__u32 fill_seq;     /* last sequence number written (CPU 0) */
__u64 fill_written, fill_lost;

static long fill_one(__u32 i, void *ctx)
{
	struct fb_pkt *r;
	__u32 k = bpf_get_prandom_u32() % fill_flows;

	r = bpf_ringbuf_reserve(&fill_ring, sizeof(*r), 0);
	if (!r) {
		fill_lost++;
		return 1;
	}
	/* flow k: 10.k>>16.k>>8.k:1024+k%50000 -> 192.168.0.1:443 UDP */
	r->type = FB_REC_PKT;
	r->flags = 0;
	r->proto = IPPROTO_UDP_;
	r->tcp_flags = 0;
	r->cpu = 0;
	r->ethertype = FB_ETH_P_IP;
	r->seq = ++fill_seq;
	r->ifindex = 1;
	r->ts_ns = fill_ts;
	fill_ts += fill_ts_step;
	r->wire_len = 64 + (k & 1023);
	r->sport = 1024 + k % 50000;
	r->dport = 443;
	*(__u64 *)&r->src[0] = 0;
	*(__u32 *)&r->src[8] = 0xffff0000;
	r->src[12] = 10;
	r->src[13] = k >> 16;
	r->src[14] = k >> 8;
	r->src[15] = k;
	*(__u64 *)&r->dst[0] = 0;
	*(__u32 *)&r->dst[8] = 0xffff0000;
	*(__u32 *)&r->dst[12] = 0x0100a8c0; /* 192.168.0.1 */
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	fill_written++;
	return 0;
}

SEC("syscall")
int bench_fill(void *ctx)
{
	if (!fill_flows)
		return -1;
	bpf_loop(fill_n, fill_one, NULL, 0);
	return 0;
}

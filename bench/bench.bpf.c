/* Programs for the micro-benchmarks (bench/b_*.c), run with BPF_PROG_TEST_RUN.
 *
 *  bench_empty     XDP that only returns XDP_PASS: the test-run loop's floor.
 *  bench_ref       minimal reference: Ethernet/IPv4/UDP by direct packet
 *                  access, bpf_ktime_get_ns, one 72-byte record reserved and
 *                  submitted into ref_ring with BPF_RB_NO_WAKEUP.
 *  bench_ref_coarse the same with bpf_ktime_get_coarse_ns (CLOCK_MONOTONIC_
 *                  COARSE: one jiffy of resolution) instead of the ns clock.
 *  bench_clock     XDP that reads bpf_ktime_get_ns and passes: the clock's
 *                  own cost over the empty program.
 * (The contention bench runs flowbatch's own fb_xdp in its two ring layouts.)
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

static __always_inline int ref_body(struct xdp_md *ctx, __u64 ts)
{
	const __u8 *data = (const __u8 *)(long)ctx->data;
	const __u8 *end = (const __u8 *)(long)ctx->data_end;
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
	/* every byte of the record written once, v4-mapped addresses; the
	 * header (type, len) is what the typed reader checks */
	r->type = FB_REC_PKT;
	r->len = sizeof(*r);
	r->flags = 0;
	r->proto = proto;
	r->tcp_flags = 0;
	r->cpu = 0;
	r->ethertype = et;
	r->seq = 0;
	r->ifindex = ctx->ingress_ifindex;
	r->ts_ns = ts;
	r->wire_len = (__u32)(end - data);
	r->skb_len = r->wire_len;
	r->segs = 1;
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

SEC("xdp")
int bench_ref(struct xdp_md *ctx)
{
	return ref_body(ctx, bpf_ktime_get_ns());
}

SEC("xdp")
int bench_ref_coarse(struct xdp_md *ctx)
{
	return ref_body(ctx, bpf_ktime_get_coarse_ns());
}

__u64 clock_sink;

SEC("xdp")
int bench_clock(struct xdp_md *ctx)
{
	clock_sink = bpf_ktime_get_ns();
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
	r->len = sizeof(*r);
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
	r->skb_len = r->wire_len;
	r->segs = 1;
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

/* A synthetic finished batch for the output benchmarks: nflows rows sharing
 * a number of packets, every fourth flow IPv6, a view with every row and
 * empty rest and overflow rows, so an output can be handed the same batch
 * over and over with only its number and window changed. */
#ifndef FB_BENCH_SYNTH_H
#define FB_BENCH_SYNTH_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "batch.h"
#include "flows.h"

#define SYNTH_T0 (1000ull * 1000000000ull) /* monotonic time of batch 1 */

struct synth {
	uint32_t nflows;
	struct fb_flow *rows;
	const struct fb_flow **top;
	struct fb_flow rest, over;
	struct fb_flows_view fv;
	struct fb_batch_stats st;
	struct fb_batch_view v;
};

static inline void synth_fill(struct synth *s, uint32_t nflows, uint64_t packets)
{
	uint64_t x = 0x2545F4914F6CDD1Dull, left = packets;
	uint32_t i;

	memset(s, 0, sizeof(*s));
	s->nflows = nflows;
	s->rows = calloc(nflows, sizeof(*s->rows));
	s->top = calloc(nflows, sizeof(*s->top));
	if (!s->rows || !s->top)
		exit(1);
	for (i = 0; i < nflows; i++) {
		struct fb_flow *f = &s->rows[i];
		struct fb_key *k = &f->key;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		k->ifindex = 2;
		k->dir = (uint8_t)(i & 1);
		k->proto = (i % 5) ? 17 : 6;
		k->sport = (uint16_t)(1024 + i % 60000);
		k->dport = (i & 1) ? 443 : 53;
		if (i % 4 == 3) {
			k->ethertype = 0x86DD;
			k->src[0] = 0x20, k->src[1] = 0x01, k->src[3] = 2;
			k->src[13] = (uint8_t)(i >> 16), k->src[14] = (uint8_t)(i >> 8), k->src[15] = (uint8_t)i;
			k->dst[0] = 0x20, k->dst[1] = 0x01, k->dst[3] = 2, k->dst[15] = 9;
		} else {
			k->ethertype = 0x0800;
			k->src[10] = k->src[11] = 0xff;
			k->src[12] = 198, k->src[13] = 18, k->src[14] = (uint8_t)(i >> 8), k->src[15] = (uint8_t)i;
			k->dst[10] = k->dst[11] = 0xff;
			k->dst[12] = 198, k->dst[13] = 19, k->dst[15] = (uint8_t)(i % 5 + 1);
		}
		f->packets = i + 1 < nflows ? packets / nflows : left;
		left -= f->packets;
		f->bytes = f->packets * (64 + x % 1400);
		f->first_ns = SYNTH_T0 + x % 900000000ull;
		f->last_ns = f->first_ns + x % 100000000ull;
		f->tcp_flags = k->proto == 6 ? 0x1a : 0;
		s->top[i] = f;
		s->fv.packets += f->packets;
		s->fv.bytes += f->bytes;
	}
	s->fv.records = s->fv.packets;
	s->fv.flows = nflows;
	s->fv.ntop = nflows;
	s->fv.top = s->top;
	s->fv.rest = &s->rest;
	s->fv.overflow_row = &s->over;
	s->fv.key_fields = 0xff;
	s->st.led[FB_REC_PKT].records = s->st.led[FB_REC_PKT].seen = s->fv.packets;
	s->v.st = &s->st;
	s->v.fam[FB_REC_PKT] = &s->fv;
}

/* Batch n (from 1): its number and its 1 s window. */
static inline void synth_number(struct synth *s, uint64_t n)
{
	s->st.number = n;
	s->st.start_ns = SYNTH_T0 + (n - 1) * 1000000000ull;
	s->st.end_ns = s->st.start_ns + 1000000000ull;
}

static inline void synth_free(struct synth *s)
{
	free(s->rows);
	free(s->top);
}

#endif

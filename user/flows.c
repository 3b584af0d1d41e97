/* The packet family: keys, hashes and flow-table updates for packet records,
 * and the top-N view of a finished batch. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "batch.h"
#include "flows.h"

#define BIG_TABLE 16384 /* rows (1.4 MiB) beyond which rows are prefetched too */

struct win {
	struct fb_agg *agg;
	uint64_t packets, bytes, parse_errors;
	struct fb_flow rest;
	struct fb_flows_view view;
};

struct flows {
	struct fb_flows_opts o;
	struct win w[2];
	const struct fb_flow **topbuf;
};

static void flows_free(void *p)
{
	struct flows *f = p;

	if (!f)
		return;
	fb_agg__free(f->w[0].agg);
	fb_agg__free(f->w[1].agg);
	free(f->topbuf);
	free(f);
}

struct fb_family fb_flows__new(const struct fb_flows_opts *o)
{
	struct fb_family fam = { 0 };
	struct flows *f;

	if (!o->max_flows) {
		errno = EINVAL;
		return fam;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return fam;
	f->o = *o;
	f->topbuf = calloc(o->max_flows, sizeof(*f->topbuf));
	f->w[0].agg = fb_agg__new(o->max_flows);
	f->w[1].agg = fb_agg__new(o->max_flows);
	if (!f->topbuf || !f->w[0].agg || !f->w[1].agg) {
		flows_free(f);
		errno = ENOMEM;
		return fam;
	}
	fam.ops = &fb_flows_ops;
	fam.priv = f;
	return fam;
}

/* Three passes over a chunk: keys; hashes (a short loop, so the CPU
 * overlaps several multiply chains) with the buckets prefetched; then the
 * updates, by which time the buckets have arrived. */
static void flows_add(void *p, const void *recs, uint32_t n, const uint8_t *slot)
{
	struct flows *f = p;
	const struct fb_pkt *r = recs;
	struct fb_key keys[32];
	uint64_t hash[32];
	uint32_t i, j, m;

	for (i = 0; i < n; i += m) {
		m = n - i < 32 ? n - i : 32;
		for (j = 0; j < m; j++)
			fb_key_build(&f->o.keys, &r[i + j], &keys[j]);
		for (j = 0; j < m; j++) {
			hash[j] = fb_key_hash(&keys[j]);
			fb_agg__prefetch(f->w[slot[i + j]].agg, hash[j]);
		}
		/* rows too, once the table has outgrown the caches */
		if (fb_agg__count(f->w[0].agg) >= BIG_TABLE || fb_agg__count(f->w[1].agg) >= BIG_TABLE)
			for (j = 0; j < m; j++)
				fb_agg__prefetch_row(f->w[slot[i + j]].agg, hash[j]);
		for (j = 0; j < m; j++) {
			const struct fb_pkt *q = &r[i + j];
			struct win *w = &f->w[slot[i + j]];

			w->packets += q->segs;
			w->bytes += q->wire_len;
			w->parse_errors += !!(q->flags & FB_F_PARSE_ERR);
			fb_agg__add(w->agg, &keys[j], hash[j], q->segs, q->wire_len, q->ts_ns, q->tcp_flags);
		}
	}
}

static void flows_reset(void *p, int slot)
{
	struct win *w = &((struct flows *)p)->w[slot];

	fb_agg__reset(w->agg);
	w->packets = w->bytes = w->parse_errors = 0;
}

static void flows_merge(void *p, int dst, int src)
{
	struct flows *f = p;

	fb_agg__merge(f->w[dst].agg, f->w[src].agg);
	f->w[dst].packets += f->w[src].packets;
	f->w[dst].bytes += f->w[src].bytes;
	f->w[dst].parse_errors += f->w[src].parse_errors;
}

static const void *flows_view(void *p, int slot, const struct fb_batch_stats *st)
{
	struct flows *f = p;
	struct win *w = &f->w[slot];
	struct fb_flows_view *v = &w->view;
	uint64_t keys_over;

	memset(v, 0, sizeof(*v));
	v->records = st->led[FB_REC_PKT].records;
	v->packets = w->packets;
	v->bytes = w->bytes;
	v->parse_errors = w->parse_errors;
	v->key_fields = f->o.keys.fields;
	v->overflow_row = fb_agg__overflow(w->agg, &keys_over);
	v->overflow = v->overflow_row->packets;
	v->flows = fb_agg__count(w->agg);
	memset(&w->rest, 0, sizeof(w->rest));
	if (!f->o.top && !f->o.sort_all) {
		const struct fb_flow *rows = fb_agg__rows(w->agg);
		uint32_t i;

		v->ntop = fb_agg__count(w->agg);
		for (i = 0; i < v->ntop; i++)
			f->topbuf[i] = &rows[i];
	} else {
		v->ntop = fb_agg__top(w->agg, f->o.top, f->topbuf, &w->rest, &v->rest_flows);
	}
	v->top = f->topbuf;
	v->rest = &w->rest;
	return v;
}

const struct fb_family_ops fb_flows_ops = {
	.type = FB_REC_PKT,
	.name = "packets",
	.rec_len = sizeof(struct fb_pkt),
	.add = flows_add,
	.reset = flows_reset,
	.merge = flows_merge,
	.view = flows_view,
	.free = flows_free,
};

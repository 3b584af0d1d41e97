/* The packet family: keys, hashes and flow-table updates for packet records,
 * and the top-N view of a finished batch. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "batch.h"
#include "flows.h"

/* A record between its arrival and its update: keyed, hashed, its bucket
 * prefetched.
 *
 * Records go through a software pipeline that spans calls: on arrival the
 * key and hash are made and the bucket is prefetched; D_ROW records later
 * the bucket is read and the row its tag points to is prefetched; D_UPD
 * records after that the row is updated. At 64K-1M flows every record
 * misses cache twice (bucket, then row); spacing the two misses and the
 * update this way overlaps them with other records' work. The batcher
 * hands over 32 records at a time, too few for a pipeline that starts and
 * drains within each call. The queue is emptied (flush) before a table is
 * read, merged or reset, so no view misses a record. */
struct pend {
	struct fb_key key;
	uint64_t hash;
	uint64_t ts_ns;
	uint32_t bytes;
	uint16_t segs;
	uint8_t tcp_flags;
	uint8_t slot;
};

#define QLEN 32u /* power of two, > D_ROW + D_UPD */
#define D_ROW 12u
#define D_UPD 12u

struct win {
	struct fb_agg *agg;
	uint64_t parse_errors;
	struct fb_iface_total ift[FB_IFT_MAX];
	uint32_t nift, last; /* entries used; the one the last record hit */
	struct fb_flow rest;
	struct fb_flows_view view;
};

struct flows {
	struct fb_flows_opts o;
	struct win w[2];
	const struct fb_flow **topbuf;
	/* records added but not yet in their table: a software pipeline over
	 * calls, emptied before a table is read or changed otherwise */
	uint32_t head, rowp, tail;
	struct pend q[QLEN];
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

/* The last stage: the record into its row. */
static inline void apply(struct flows *f, const struct pend *e)
{
	fb_agg__add(f->w[e->slot].agg, &e->key, e->hash, e->segs, e->bytes, e->ts_ns, e->tcp_flags);
}

/* Everything in flight into the tables. */
static void flush(struct flows *f)
{
	for (; f->tail != f->head; f->tail++)
		apply(f, &f->q[f->tail & (QLEN - 1)]);
	f->rowp = f->head;
}

/* The totals of one interface and direction; consecutive records are
 * almost always of the same pair, so the last one is tried first. */
static inline struct fb_iface_total *ift_of(struct win *w, uint32_t ifindex, uint8_t dir)
{
	struct fb_iface_total *t = &w->ift[w->last];
	uint32_t i;

	if (t->ifindex == ifindex && t->dir == dir && w->nift)
		return t;
	for (i = 0; i < w->nift; i++)
		if (w->ift[i].ifindex == ifindex && w->ift[i].dir == dir)
			goto found;
	if (w->nift == FB_IFT_MAX) {
		i = FB_IFT_MAX - 1; /* the last entry becomes "the others" */
		w->ift[i].ifindex = 0;
		w->ift[i].dir = 0;
		goto found;
	}
	i = w->nift++;
	w->ift[i] = (struct fb_iface_total){ .ifindex = ifindex, .dir = dir };
found:
	w->last = i;
	return &w->ift[i];
}

static void flows_add(void *p, const void *recs, uint32_t n, const uint8_t *slot)
{
	struct flows *f = p;
	const struct fb_pkt *r = recs;
	uint32_t i, head = f->head, rowp = f->rowp, tail = f->tail;

	for (i = 0; i < n; i++) {
		const struct fb_pkt *q = &r[i];
		struct pend *e = &f->q[head & (QLEN - 1)];
		struct win *w = &f->w[slot[i]];

		e->hash = fb_key_build_hash(&f->o.keys, q, &e->key);
		e->ts_ns = q->ts_ns;
		e->bytes = q->wire_len;
		e->segs = q->segs;
		e->tcp_flags = q->tcp_flags;
		e->slot = slot[i];
		fb_agg__prefetch(w->agg, e->hash);
		{
			struct fb_iface_total *t = ift_of(w, q->ifindex, (q->flags & FB_F_EGRESS) != 0);

			t->records++;
			t->packets += q->segs;
			t->bytes += q->wire_len;
		}
		w->parse_errors += !!(q->flags & FB_F_PARSE_ERR);
		head++;
		if (head - rowp > D_ROW) {
			const struct pend *x = &f->q[rowp & (QLEN - 1)];

			fb_agg__prefetch_row(f->w[x->slot].agg, x->hash);
			rowp++;
		}
		if (head - tail > D_ROW + D_UPD) {
			apply(f, &f->q[tail & (QLEN - 1)]);
			tail++;
		}
	}
	f->head = head;
	f->rowp = rowp;
	f->tail = tail;
}

static void flows_reset(void *p, int slot)
{
	struct win *w = &((struct flows *)p)->w[slot];

	flush(p);
	fb_agg__reset(w->agg);
	w->parse_errors = 0;
	w->nift = w->last = 0;
}

static void flows_merge(void *p, int dst, int src)
{
	struct flows *f = p;
	uint32_t i;

	flush(f);
	fb_agg__merge(f->w[dst].agg, f->w[src].agg);
	for (i = 0; i < f->w[src].nift; i++) {
		const struct fb_iface_total *from = &f->w[src].ift[i];
		struct fb_iface_total *t = ift_of(&f->w[dst], from->ifindex, from->dir);

		t->records += from->records;
		t->packets += from->packets;
		t->bytes += from->bytes;
	}
	f->w[dst].parse_errors += f->w[src].parse_errors;
}

static const void *flows_view(void *p, int slot, const struct fb_batch_stats *st)
{
	struct flows *f = p;
	struct win *w = &f->w[slot];
	struct fb_flows_view *v = &w->view;
	uint64_t keys_over;
	uint32_t i;

	flush(f);
	memset(v, 0, sizeof(*v));
	v->records = st->led[FB_REC_PKT].records;
	for (i = 0; i < w->nift; i++) {
		v->packets += w->ift[i].packets;
		v->bytes += w->ift[i].bytes;
	}
	v->ifaces = w->ift;
	v->nifaces = w->nift;
	v->parse_errors = w->parse_errors;
	v->key_fields = f->o.keys.fields;
	v->overflow_row = fb_agg__overflow(w->agg, &keys_over);
	v->overflow = v->overflow_row->packets;
	v->flows = fb_agg__count(w->agg);
	memset(&w->rest, 0, sizeof(w->rest));
	if (!f->o.top && !f->o.sort_all) {
		const struct fb_flow *rows = fb_agg__rows(w->agg);

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

/* The drops family: two per-batch tables over the same records, one by
 * (reason, tuple) for the drop rows and one by tuple for the flow rows, so
 * a flow row's drops need one lookup whatever the number of reasons. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "batch.h"
#include "fam_drops.h"
#include "fmt.h"

struct win {
	struct fb_evtab *rows, *flows;
	uint64_t packets, bytes;
	uint32_t *order;
	struct fb_drops_view view;
};

struct scratch {
	char src[64], dst[64], reason[48];
};

struct drops {
	struct fb_drops_opts o;
	struct fb_keyspec ks;
	uint32_t max;
	struct win w[2];
	struct scratch sc;
};

static void dr_free(void *p)
{
	struct drops *d = p;
	int i;

	if (!d)
		return;
	for (i = 0; i < 2; i++) {
		fb_evtab__free(d->w[i].rows);
		fb_evtab__free(d->w[i].flows);
		free(d->w[i].order);
	}
	free(d);
}

struct fb_family fb_drops__new(const struct fb_drops_opts *o)
{
	struct fb_family fam = { 0 };
	struct drops *d;
	int i;

	if (!o->ev.max_keys) {
		errno = EINVAL;
		return fam;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return fam;
	d->o = *o;
	d->max = o->ev.max_keys;
	fb_evkeyspec(&o->ev.keys, &d->ks);
	for (i = 0; i < 2; i++) {
		d->w[i].rows = fb_evtab__new(d->max, sizeof(struct fb_drop_val));
		d->w[i].flows = fb_evtab__new(d->max, sizeof(struct fb_drop_val));
		d->w[i].order = calloc(d->max, sizeof(uint32_t));
		if (!d->w[i].rows || !d->w[i].flows || !d->w[i].order) {
			dr_free(d);
			errno = ENOMEM;
			return fam;
		}
	}
	fam.ops = &fb_drops_ops;
	fam.priv = d;
	return fam;
}

static void val_add(struct fb_drop_val *v, uint64_t packets, uint64_t bytes, uint64_t flags)
{
	v->packets += packets;
	v->bytes += bytes;
	v->flags |= flags;
}

static void dr_add(void *p, const void *recs, uint32_t n, const uint8_t *slot)
{
	struct drops *d = p;
	const struct fb_drop *r = recs;
	uint32_t i;

	for (i = 0; i < n; i++, r++) {
		struct win *w = &d->w[slot[i]];
		uint64_t fl = r->flags & (FB_EV_F_IP | FB_EV_F_PORTS | FB_EV_F_IPV6);
		struct fb_key k;

		fb_evkey(&d->ks, r->src, r->dst, r->sport, r->dport, r->proto, r->aux, &k);
		if (r->flags & FB_EV_F_IP)
			val_add(fb_evtab__get(w->flows, &k), 1, r->bytes, fl);
		k.pad = r->reason; /* rows are per reason too */
		val_add(fb_evtab__get(w->rows, &k), 1, r->bytes, fl);
		w->packets++;
		w->bytes += r->bytes;
	}
}

static void dr_reset(void *p, int slot)
{
	struct win *w = &((struct drops *)p)->w[slot];

	fb_evtab__reset(w->rows);
	fb_evtab__reset(w->flows);
	w->packets = w->bytes = 0;
}

static void tab_merge(struct fb_evtab *dst, const struct fb_evtab *src)
{
	uint32_t i, n = fb_evtab__count(src);
	const struct fb_drop_val *o;
	uint64_t over;

	for (i = 0; i < n; i++) {
		const struct fb_drop_val *s = fb_evtab__val(src, i);

		val_add(fb_evtab__get(dst, fb_evtab__key(src, i)), s->packets, s->bytes, s->flags);
	}
	o = fb_evtab__overflow(src, &over);
	val_add(fb_evtab__overflow(dst, NULL), o->packets, o->bytes, o->flags);
}

static void dr_merge(void *p, int dst, int src)
{
	struct drops *d = p;

	tab_merge(d->w[dst].rows, d->w[src].rows);
	tab_merge(d->w[dst].flows, d->w[src].flows);
	d->w[dst].packets += d->w[src].packets;
	d->w[dst].bytes += d->w[src].bytes;
}

static const struct fb_evtab *sort_tab;

static int by_packets(const void *a, const void *b)
{
	const struct fb_drop_val *x = fb_evtab__val(sort_tab, *(const uint32_t *)a);
	const struct fb_drop_val *y = fb_evtab__val(sort_tab, *(const uint32_t *)b);

	if (x->packets != y->packets)
		return x->packets > y->packets ? -1 : 1;
	/* ties in first-seen order, so output is stable */
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

static const void *dr_view(void *p, int slot, const struct fb_batch_stats *st)
{
	struct drops *d = p;
	struct win *w = &d->w[slot];
	struct fb_drops_view *v = &w->view;
	const struct fb_drop_val *o;
	uint32_t i;

	memset(v, 0, sizeof(*v));
	v->records = st->led[FB_REC_DROP].records;
	v->packets = w->packets;
	v->bytes = w->bytes;
	o = fb_evtab__overflow(w->rows, NULL);
	v->overflow = o->packets;
	v->rows = w->rows;
	v->flows = w->flows;
	v->nrows = fb_evtab__count(w->rows);
	for (i = 0; i < v->nrows; i++)
		w->order[i] = i;
	/* single-threaded consumer: qsort's comparator reads the table here */
	sort_tab = w->rows;
	qsort(w->order, v->nrows, sizeof(*w->order), by_packets);
	v->order = w->order;
	v->key_fields = d->ks.fields;
	v->reason_name = d->o.reason_name;
	v->reason_ctx = d->o.reason_ctx;
	v->scratch = &d->sc;
	return v;
}

static void dr_flow_values(const void *view, const struct fb_key *fk, struct fb_value *vals)
{
	const struct fb_drops_view *v = view;
	const struct fb_drop_val *val;
	struct fb_key k;

	fb_evkey_of_flow(fk, &k);
	val = fb_evtab__find(v->flows, &k);
	vals[0] = (struct fb_value){ .present = val != NULL, .u = val ? val->packets : 0 };
	vals[1] = (struct fb_value){ .present = val != NULL, .u = val ? val->bytes : 0 };
}

/* The rows, then one for drops beyond --max-flows distinct keys, so that
 * drop rows always add up to the family's records. */
static uint32_t dr_nrows(const void *view)
{
	const struct fb_drops_view *v = view;

	return v->nrows + (v->overflow != 0);
}

enum { R_REASON, R_CODE, R_PROTO, R_SRC, R_DST, R_SPORT, R_DPORT, R_ITYPE, R_ICODE, R_PKTS, R_BYTES,
       R_OVERFLOW };

static void dr_row(const void *view, uint32_t i, struct fb_value *vals)
{
	const struct fb_drops_view *v = view;
	struct scratch *sc = v->scratch;
	const struct fb_key *k;
	const struct fb_drop_val *val;
	const char *name;
	uint32_t f = v->key_fields;
	bool ip, ports, icmp;

	memset(vals, 0, sizeof(*vals) * (R_OVERFLOW + 1));
	if (i >= v->nrows) {
		/* drops of (reason, tuple) keys the table had no room for */
		val = fb_evtab__overflow(v->rows, NULL);
		vals[R_PKTS] = (struct fb_value){ .present = true, .u = val->packets };
		vals[R_BYTES] = (struct fb_value){ .present = true, .u = val->bytes };
		vals[R_OVERFLOW] = (struct fb_value){ .present = true, .u = 1 };
		return;
	}
	k = fb_evtab__key(v->rows, v->order[i]);
	val = fb_evtab__val(v->rows, v->order[i]);
	name = v->reason_name ? v->reason_name(v->reason_ctx, k->pad) : NULL;
	ip = val->flags & FB_EV_F_IP;
	ports = val->flags & FB_EV_F_PORTS;
	icmp = k->proto == 1 || k->proto == 58;
	if (!name) {
		snprintf(sc->reason, sizeof(sc->reason), "%u", k->pad);
		name = sc->reason;
	}
	vals[R_REASON] = (struct fb_value){ .present = true, .s = name };
	vals[R_CODE] = (struct fb_value){ .present = true, .u = k->pad };
	vals[R_PROTO] = (struct fb_value){ .present = ip && (f & FB_K_PROTO), .u = k->proto };
	if (ip && (f & FB_K_SRC))
		vals[R_SRC] = (struct fb_value){ .present = true, .s = fb_fmt_addr(k->src, sc->src, sizeof(sc->src)) };
	if (ip && (f & FB_K_DST))
		vals[R_DST] = (struct fb_value){ .present = true, .s = fb_fmt_addr(k->dst, sc->dst, sizeof(sc->dst)) };
	vals[icmp ? R_ITYPE : R_SPORT] = (struct fb_value){ .present = ports && (f & FB_K_SPORT), .u = k->sport };
	vals[icmp ? R_ICODE : R_DPORT] = (struct fb_value){ .present = ports && (f & FB_K_DPORT), .u = k->dport };
	vals[R_PKTS] = (struct fb_value){ .present = true, .u = val->packets };
	vals[R_BYTES] = (struct fb_value){ .present = true, .u = val->bytes };
}

static const char *const flow_fields[] = { "drops", "drop_bytes", NULL };
static const char *const row_fields[] = { "reason", "reason_code", "proto", "src_addr", "dst_addr",
					  "src_port", "dst_port", "icmp_type", "icmp_code", "packets",
					  "bytes", "overflow", NULL };

const struct fb_family_ops fb_drops_ops = {
	.type = FB_REC_DROP,
	.name = "drops",
	.rec_len = sizeof(struct fb_drop),
	.add = dr_add,
	.reset = dr_reset,
	.merge = dr_merge,
	.view = dr_view,
	.free = dr_free,
	.flow_fields = flow_fields,
	.flow_values = dr_flow_values,
	.row_type = "drop",
	.row_fields = row_fields,
	.nrows = dr_nrows,
	.row = dr_row,
};

/* The TCP event families: one aggregation per record type over a shared
 * per-tuple table (fam_tab.c); what differs between tcp, retrans, resets
 * and rtt is the value kept per tuple, in the small kind table below. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "batch.h"
#include "fam_tcp.h"

#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_SYN_RECV 3
#define TCP_CLOSE 7

static const char *const state_names[] = {
	[1] = "ESTABLISHED", [2] = "SYN_SENT",  [3] = "SYN_RECV",	  [4] = "FIN_WAIT1",
	[5] = "FIN_WAIT2",   [6] = "TIME_WAIT", [7] = "CLOSE",		  [8] = "CLOSE_WAIT",
	[9] = "LAST_ACK",    [10] = "LISTEN",   [11] = "CLOSING",	  [12] = "NEW_SYN_RECV",
	[13] = "BOUND_INACTIVE",
};

const char *fb_tcp_state_name(unsigned state)
{
	if (state < sizeof(state_names) / sizeof(state_names[0]) && state_names[state])
		return state_names[state];
	return "?";
}

/* ---- per kind: value, update, merge, flow fields ---------------------- */

struct kind {
	size_t vsize;
	unsigned nfields; /* flow fields it fills */
	void (*add)(void *val, const struct fb_tcp_ev *e);
	void (*merge)(void *dst, const void *src);
	void (*values)(const void *val, struct fb_value *v);
};

static void st_add(void *p, const struct fb_tcp_ev *e)
{
	struct fb_tcp_state_val *v = p;
	unsigned from = e->aux >> 8, to = e->aux & 0xff;

	if (to == TCP_ESTABLISHED)
		v->opens++;
	if (to != TCP_CLOSE)
		return;
	if (from == TCP_SYN_SENT || from == TCP_SYN_RECV) {
		v->failed++;
		return;
	}
	if (from == TCP_CLOSE)
		return; /* never synchronized: not a connection's end */
	v->closes++;
	if (!(e->flags & FB_EV_F_NOSTART)) {
		v->life_ns += e->val;
		v->timed++;
	}
}

static void st_merge(void *d, const void *s)
{
	struct fb_tcp_state_val *a = d;
	const struct fb_tcp_state_val *b = s;

	a->opens += b->opens;
	a->closes += b->closes;
	a->failed += b->failed;
	a->life_ns += b->life_ns;
	a->timed += b->timed;
}

static void st_values(const void *p, struct fb_value *v)
{
	const struct fb_tcp_state_val *a = p;

	v[0] = (struct fb_value){ .present = true, .u = a->opens };
	v[1] = (struct fb_value){ .present = true, .u = a->closes };
	v[2] = (struct fb_value){ .present = true, .u = a->failed };
	v[3] = (struct fb_value){ .present = a->timed > 0,
				  .u = a->timed ? a->life_ns / a->timed / 1000 : 0 };
}

static void rx_add(void *p, const struct fb_tcp_ev *e)
{
	struct fb_retrans_val *v = p;

	if (e->info) {
		v->failed++;
		return;
	}
	v->sent++;
	v->segs += e->val ? e->val : 1;
}

static void rx_merge(void *d, const void *s)
{
	struct fb_retrans_val *a = d;
	const struct fb_retrans_val *b = s;

	a->sent += b->sent;
	a->segs += b->segs;
	a->failed += b->failed;
}

static void rx_values(const void *p, struct fb_value *v)
{
	const struct fb_retrans_val *a = p;

	v[0] = (struct fb_value){ .present = true, .u = a->sent };
	v[1] = (struct fb_value){ .present = true, .u = a->segs };
	v[2] = (struct fb_value){ .present = true, .u = a->failed };
}

static void rs_add(void *p, const struct fb_tcp_ev *e)
{
	struct fb_resets_val *v = p;

	if (e->flags & FB_EV_F_RST_RECV)
		v->recv++;
	else
		v->sent++;
}

static void rs_merge(void *d, const void *s)
{
	struct fb_resets_val *a = d;
	const struct fb_resets_val *b = s;

	a->sent += b->sent;
	a->recv += b->recv;
}

static void rs_values(const void *p, struct fb_value *v)
{
	const struct fb_resets_val *a = p;

	v[0] = (struct fb_value){ .present = true, .u = a->sent };
	v[1] = (struct fb_value){ .present = true, .u = a->recv };
}

static void rt_add(void *p, const struct fb_tcp_ev *e)
{
	struct fb_rtt_val *v = p;

	if (!v->n || e->info < v->min_us)
		v->min_us = e->info;
	if (e->info > v->max_us)
		v->max_us = e->info;
	v->sum_us += e->info;
	v->n++;
}

static void rt_merge(void *d, const void *s)
{
	struct fb_rtt_val *a = d;
	const struct fb_rtt_val *b = s;

	if (!b->n)
		return;
	if (!a->n || b->min_us < a->min_us)
		a->min_us = b->min_us;
	if (b->max_us > a->max_us)
		a->max_us = b->max_us;
	a->sum_us += b->sum_us;
	a->n += b->n;
}

static void rt_values(const void *p, struct fb_value *v)
{
	const struct fb_rtt_val *a = p;

	v[0] = (struct fb_value){ .present = a->n > 0, .u = a->min_us };
	v[1] = (struct fb_value){ .present = a->n > 0, .u = a->n ? a->sum_us / a->n : 0 };
	v[2] = (struct fb_value){ .present = a->n > 0, .u = a->max_us };
	v[3] = (struct fb_value){ .present = true, .u = a->n };
}

static const struct kind kinds[FB_REC_TYPES] = {
	[FB_REC_TCP_STATE] = { sizeof(struct fb_tcp_state_val), 4, st_add, st_merge, st_values },
	[FB_REC_RETRANS] = { sizeof(struct fb_retrans_val), 3, rx_add, rx_merge, rx_values },
	[FB_REC_RESET] = { sizeof(struct fb_resets_val), 2, rs_add, rs_merge, rs_values },
	[FB_REC_RTT] = { sizeof(struct fb_rtt_val), 4, rt_add, rt_merge, rt_values },
};

/* ---- the family -------------------------------------------------------- */

struct win {
	struct fb_evtab *tab;
	uint64_t trans[FB_TCP_NSTATES][FB_TCP_NSTATES];
	struct fb_tcpfam_view view;
};

struct tcpfam {
	const struct kind *k;
	uint8_t type;
	struct fb_keyspec ks; /* fb_evkeyspec of the flows' */
	struct win w[2];
};

static void tf_free(void *p)
{
	struct tcpfam *f = p;

	if (!f)
		return;
	fb_evtab__free(f->w[0].tab);
	fb_evtab__free(f->w[1].tab);
	free(f);
}

static void tf_add(void *p, const void *recs, uint32_t n, const uint8_t *slot)
{
	struct tcpfam *f = p;
	const struct fb_tcp_ev *e = recs;
	uint32_t i;

	for (i = 0; i < n; i++, e++) {
		struct win *w = &f->w[slot[i]];
		struct fb_key k;

		fb_evkey(&f->ks, e->src, e->dst, e->sport, e->dport, 6,
			 e->flags & FB_EV_F_IPV6 ? FB_ETH_P_IPV6 : FB_ETH_P_IP, &k);
		f->k->add(fb_evtab__get(w->tab, &k), e);
		if (f->type == FB_REC_TCP_STATE)
			w->trans[(e->aux >> 8) % FB_TCP_NSTATES][(e->aux & 0xff) % FB_TCP_NSTATES]++;
	}
}

static void tf_reset(void *p, int slot)
{
	struct win *w = &((struct tcpfam *)p)->w[slot];

	fb_evtab__reset(w->tab);
	memset(w->trans, 0, sizeof(w->trans));
}

static void tf_merge(void *p, int dst, int src)
{
	struct tcpfam *f = p;
	struct win *d = &f->w[dst], *s = &f->w[src];
	uint32_t i, j, n = fb_evtab__count(s->tab);
	uint64_t over;

	for (i = 0; i < n; i++)
		f->k->merge(fb_evtab__get(d->tab, fb_evtab__key(s->tab, i)), fb_evtab__val(s->tab, i));
	f->k->merge(fb_evtab__overflow(d->tab, NULL), fb_evtab__overflow(s->tab, &over));
	for (i = 0; i < FB_TCP_NSTATES; i++)
		for (j = 0; j < FB_TCP_NSTATES; j++)
			d->trans[i][j] += s->trans[i][j];
}

static const void *tf_view(void *p, int slot, const struct fb_batch_stats *st)
{
	struct tcpfam *f = p;
	struct win *w = &f->w[slot];
	struct fb_tcpfam_view *v = &w->view;
	uint32_t i, j;

	v->type = f->type;
	v->records = st->led[f->type].records;
	v->tuples = fb_evtab__count(w->tab);
	fb_evtab__overflow(w->tab, &v->overflow);
	v->tab = w->tab;
	memcpy(v->trans, w->trans, sizeof(v->trans));
	v->ntrans_rows = 0;
	for (i = 0; i < FB_TCP_NSTATES; i++)
		for (j = 0; j < FB_TCP_NSTATES; j++)
			if (w->trans[i][j])
				v->trans_rows[v->ntrans_rows++] = (uint16_t)(i << 8 | j);
	return v;
}

static void tf_flow_values(const void *view, const struct fb_key *fk, struct fb_value *vals)
{
	const struct fb_tcpfam_view *v = view;
	const struct kind *k = &kinds[v->type];
	struct fb_key ek;
	const void *val;

	fb_evkey_of_flow(fk, &ek);
	unsigned i;

	val = fb_evtab__find(v->tab, &ek);
	if (val) {
		k->values(val, vals);
		return;
	}
	/* no event of this family for the flow: its fields are absent */
	for (i = 0; i < k->nfields; i++)
		vals[i] = (struct fb_value){ .present = false };
}

static uint32_t st_nrows(const void *view)
{
	return ((const struct fb_tcpfam_view *)view)->ntrans_rows;
}

static void st_row(const void *view, uint32_t i, struct fb_value *vals)
{
	const struct fb_tcpfam_view *v = view;
	unsigned from = v->trans_rows[i] >> 8, to = v->trans_rows[i] & 0xff;

	vals[0] = (struct fb_value){ .present = true, .s = fb_tcp_state_name(from) };
	vals[1] = (struct fb_value){ .present = true, .s = fb_tcp_state_name(to) };
	vals[2] = (struct fb_value){ .present = true, .u = v->trans[from][to] };
}

struct fb_family fb_tcpfam__new(uint8_t type, const struct fb_evfam_opts *o)
{
	struct fb_family fam = { 0 };
	struct tcpfam *f;

	if (type >= FB_REC_TYPES || !kinds[type].add || !o->max_keys) {
		errno = EINVAL;
		return fam;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return fam;
	f->k = &kinds[type];
	f->type = type;
	fb_evkeyspec(&o->keys, &f->ks);
	f->w[0].tab = fb_evtab__new(o->max_keys, f->k->vsize);
	f->w[1].tab = fb_evtab__new(o->max_keys, f->k->vsize);
	if (!f->w[0].tab || !f->w[1].tab) {
		tf_free(f);
		errno = ENOMEM;
		return fam;
	}
	switch (type) {
	case FB_REC_TCP_STATE:
		fam.ops = &fb_tcp_state_ops;
		break;
	case FB_REC_RETRANS:
		fam.ops = &fb_retrans_ops;
		break;
	case FB_REC_RESET:
		fam.ops = &fb_resets_ops;
		break;
	default:
		fam.ops = &fb_rtt_ops;
		break;
	}
	fam.priv = f;
	return fam;
}

static const char *const st_fields[] = { "tcp_opens", "tcp_closes", "tcp_failed", "tcp_duration_us", NULL };
static const char *const st_row_fields[] = { "from", "to", "count", NULL };
static const char *const rx_fields[] = { "tcp_retrans", "tcp_retrans_segs", "tcp_retrans_failed", NULL };
static const char *const rs_fields[] = { "tcp_rst_sent", "tcp_rst_recv", NULL };
static const char *const rt_fields[] = { "rtt_min_us", "rtt_mean_us", "rtt_max_us", "rtt_samples", NULL };

#define TCPFAM_OPS(t, nm, ff)                                                                      \
	.type = t, .name = nm, .rec_len = sizeof(struct fb_tcp_ev), .add = tf_add, .reset = tf_reset, \
	.merge = tf_merge, .view = tf_view, .free = tf_free, .flow_fields = ff,                        \
	.flow_values = tf_flow_values

const struct fb_family_ops fb_tcp_state_ops = {
	TCPFAM_OPS(FB_REC_TCP_STATE, "tcp", st_fields),
	.row_type = "tcp_state",
	.row_fields = st_row_fields,
	.nrows = st_nrows,
	.row = st_row,
};
const struct fb_family_ops fb_retrans_ops = { TCPFAM_OPS(FB_REC_RETRANS, "retrans", rx_fields) };
const struct fb_family_ops fb_resets_ops = { TCPFAM_OPS(FB_REC_RESET, "resets", rs_fields) };
const struct fb_family_ops fb_rtt_ops = { TCPFAM_OPS(FB_REC_RTT, "rtt", rt_fields) };

/* The batcher: event-time windows, late records, the seen/lost ledger and
 * each batch's report about itself. See batch.h for the model. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "batch.h"

#define CHUNK 32 /* records keyed and prefetched together */
#define BIG_TABLE 16384 /* rows (1.4 MiB) beyond which rows are prefetched too */

struct open_batch {
	struct fb_agg *agg;
	struct fb_batch_stats st;
};

struct fb_batcher {
	struct fb_batcher_opts o;
	uint64_t first; /* window index of batch 1 */
	uint64_t b; /* oldest open window */
	struct open_batch ob[2]; /* window w lives in ob[w & 1] */
	uint64_t emitted;
	bool done;
	uint32_t *last_seq; /* per CPU */
	uint64_t *pre_lost; /* losses taken from counters, not yet seen as gaps */
	uint64_t *acct_lost; /* losses attributed so far */
	const struct fb_flow **topbuf;
	struct fb_run_totals tot;
};

static uint64_t win_start(const struct fb_batcher *b, uint64_t w)
{
	return w == b->first ? b->o.start_ns : w * b->o.interval_ns;
}

static uint64_t win_end(const struct fb_batcher *b, uint64_t w)
{
	return (w + 1) * b->o.interval_ns;
}

static void open_window(struct fb_batcher *b, uint64_t w)
{
	struct open_batch *ob = &b->ob[w & 1];

	fb_agg__reset(ob->agg);
	memset(&ob->st, 0, sizeof(ob->st));
	ob->st.number = w - b->first + 1;
	ob->st.start_ns = win_start(b, w);
	ob->st.end_ns = win_end(b, w);
}

struct fb_batcher *fb_batcher__new(const struct fb_batcher_opts *opts)
{
	struct fb_batcher *b;
	uint64_t k0, iv = opts->interval_ns;

	if (!iv || !opts->ncpus || !opts->emit || !opts->clock) {
		errno = EINVAL;
		return NULL;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->o = *opts;
	/* batch 1 runs from start to a window boundary at least half an
	 * interval away, so no batch is shorter than I/2 or longer than 3I/2 */
	k0 = opts->start_ns / iv;
	b->first = (k0 + 1) * iv - opts->start_ns < iv / 2 ? k0 + 1 : k0;
	b->b = b->first;
	b->last_seq = calloc(opts->ncpus, sizeof(*b->last_seq));
	b->pre_lost = calloc(opts->ncpus, sizeof(*b->pre_lost));
	b->acct_lost = calloc(opts->ncpus, sizeof(*b->acct_lost));
	b->topbuf = calloc(opts->max_flows, sizeof(*b->topbuf));
	b->ob[0].agg = fb_agg__new(opts->max_flows);
	b->ob[1].agg = fb_agg__new(opts->max_flows);
	if (!b->last_seq || !b->pre_lost || !b->acct_lost || !b->topbuf || !b->ob[0].agg ||
	    !b->ob[1].agg) {
		fb_batcher__free(b);
		errno = ENOMEM;
		return NULL;
	}
	open_window(b, b->b);
	open_window(b, b->b + 1);
	return b;
}

void fb_batcher__free(struct fb_batcher *b)
{
	if (!b)
		return;
	fb_agg__free(b->ob[0].agg);
	fb_agg__free(b->ob[1].agg);
	free(b->topbuf);
	free(b->acct_lost);
	free(b->pre_lost);
	free(b->last_seq);
	free(b);
}

static int emit_window(struct fb_batcher *b, struct open_batch *ob, uint64_t now_ns)
{
	struct fb_batch_stats *st = &ob->st;
	struct fb_flow rest;
	uint64_t t0 = b->o.clock(b->o.clock_ctx), keys_over;
	struct fb_batch_view v;
	int err;

	v.overflow = fb_agg__overflow(ob->agg, &keys_over);
	st->overflow = v.overflow->packets;
	st->flows = fb_agg__count(ob->agg);
	st->seen = st->packets + st->lost;
	st->delay_ns = (int64_t)(now_ns - st->end_ns);
	v.st = st;
	if (!b->o.top && !b->o.sort_all) {
		const struct fb_flow *rows = fb_agg__rows(ob->agg);
		uint32_t i;

		v.ntop = fb_agg__count(ob->agg);
		for (i = 0; i < v.ntop; i++)
			b->topbuf[i] = &rows[i];
		memset(&rest, 0, sizeof(rest));
		v.rest_flows = 0;
	} else {
		v.ntop = fb_agg__top(ob->agg, b->o.top, b->topbuf, &rest, &v.rest_flows);
	}
	v.clock = b->o.clock;
	v.clock_ctx = b->o.clock_ctx;
	v.top = b->topbuf;
	v.rest = &rest;
	st->proc_ns += b->o.clock(b->o.clock_ctx) - t0;
	err = b->o.emit(b->o.emit_ctx, &v);

	b->emitted++;
	b->tot.batches++;
	b->tot.seen += st->seen;
	b->tot.packets += st->packets;
	b->tot.bytes += st->bytes;
	b->tot.lost += st->lost;
	b->tot.parse_errors += st->parse_errors;
	b->tot.late += st->late;
	b->tot.overflow += st->overflow;
	return err < 0 ? err : 0;
}

/* Emits window b and opens b + 2 in its place. */
static int advance(struct fb_batcher *b, uint64_t now_ns)
{
	int err = emit_window(b, &b->ob[b->b & 1], now_ns);

	b->b++;
	open_window(b, b->b + 1);
	return err;
}

/* Would emitting window b complete the -c count? Then the run stops and
 * window b is finished by fb_batcher__finish instead. */
static bool last_by_count(const struct fb_batcher *b)
{
	return b->o.max_batches && b->emitted + 1 >= b->o.max_batches;
}

/* Losses a record reveals. A record older than its CPU's last one (nested
 * producers on one CPU) was counted lost in the gap before: it is taken back
 * from this batch's losses when they hold it (they almost always do, the two
 * records being nanoseconds apart), else only counted in totals. */
/* Does a record stamped ts lie two or more windows past b, so that placing
 * it closes window b first? */
static bool overtakes(const struct fb_batcher *b, uint64_t ts)
{
	return !b->done && ts >= (b->b + 2) * b->o.interval_ns;
}

static uint64_t ledger(struct fb_batcher *b, const struct fb_pkt *r, struct fb_batch_stats *st)
{
	uint32_t c = r->cpu, d;
	uint64_t gap, absorb;

	if (c >= b->o.ncpus)
		return 0;
	d = r->seq - b->last_seq[c];
	if (d == 0 || d > 0x80000000u) {
		b->tot.reordered++;
		if (d && st->lost && b->acct_lost[c]) {
			st->lost--;
			b->acct_lost[c]--;
		}
		return 0;
	}
	b->last_seq[c] = r->seq;
	gap = d - 1;
	absorb = gap < b->pre_lost[c] ? gap : b->pre_lost[c];
	b->pre_lost[c] -= absorb;
	gap -= absorb;
	b->acct_lost[c] += gap;
	return gap;
}

/* Window for a record, emitting windows it has overtaken. */
static int place(struct fb_batcher *b, uint64_t ts, uint64_t *w, bool *late)
{
	uint64_t iv = b->o.interval_ns, lo = b->b * iv, idx;
	int err;

	/* the common case, without a division: ts in window b or b + 1 */
	if (ts >= lo && ts - lo < 2 * iv) {
		*late = false;
		*w = b->b + (ts - lo >= iv);
		return 0;
	}
	idx = ts / iv;
	if (idx < b->first)
		idx = b->first;
	*late = false;
	while (overtakes(b, ts)) {
		err = fb_batcher__close_window(b, b->o.clock(b->o.clock_ctx));
		if (err)
			return err;
	}
	if (idx < b->b) {
		*late = true;
		idx = b->b;
	} else if (idx > b->b + 1) {
		idx = b->b + 1; /* only after done: finish merges it into b */
	}
	*w = idx;
	return 0;
}

int fb_batcher__add(struct fb_batcher *b, const struct fb_pkt *recs, uint32_t n)
{
	struct fb_key keys[CHUNK];
	uint64_t hash[CHUNK], win[CHUNK];
	bool late[CHUNK];
	uint32_t i, j, m;
	int err;

	for (i = 0; i < n; i += m) {
		m = n - i < CHUNK ? n - i : CHUNK;
		/* pass 1: window and key */
		for (j = 0; j < m; j++) {
			const struct fb_pkt *r = &recs[i + j];

			if (r->type != FB_REC_PKT) {
				win[j] = UINT64_MAX;
				continue;
			}
			/* a record that emits windows must wait until the records
			 * before it are in their tables: end the chunk here */
			if (j && overtakes(b, r->ts_ns)) {
				m = j;
				break;
			}
			err = place(b, r->ts_ns, &win[j], &late[j]);
			if (err)
				return err;
			fb_key_build(&b->o.keys, r, &keys[j]);
		}
		/* pass 2: hashes (a short loop, so the CPU overlaps several of
		 * their multiply chains); prefetch the buckets */
		for (j = 0; j < m; j++) {
			if (win[j] == UINT64_MAX)
				continue;
			hash[j] = fb_key_hash(&keys[j]);
			fb_agg__prefetch(b->ob[win[j] & 1].agg, hash[j]);
		}
		/* the buckets have arrived meanwhile: prefetch the rows, when
		 * the table has grown too big to stay in cache */
		if (fb_agg__count(b->ob[0].agg) >= BIG_TABLE || fb_agg__count(b->ob[1].agg) >= BIG_TABLE)
			for (j = 0; j < m; j++)
				if (win[j] != UINT64_MAX)
					fb_agg__prefetch_row(b->ob[win[j] & 1].agg, hash[j]);
		/* pass 3: ledger and table updates */
		for (j = 0; j < m; j++) {
			const struct fb_pkt *r = &recs[i + j];
			struct open_batch *ob;

			if (win[j] == UINT64_MAX)
				continue;
			ob = &b->ob[win[j] & 1];
			ob->st.lost += ledger(b, r, &ob->st);
			ob->st.packets++;
			ob->st.bytes += r->wire_len;
			ob->st.late += late[j];
			ob->st.parse_errors += !!(r->flags & FB_F_PARSE_ERR);
			fb_agg__add(ob->agg, &keys[j], hash[j], r->wire_len, r->ts_ns, r->tcp_flags);
		}
	}
	return 0;
}

void fb_batcher__charge(struct fb_batcher *b, uint64_t ns)
{
	b->ob[b->b & 1].st.proc_ns += ns;
}

void fb_batcher__sync_lost(struct fb_batcher *b, const uint64_t *kernel_lost)
{
	uint32_t c;

	for (c = 0; c < b->o.ncpus; c++) {
		uint64_t extra;

		if (kernel_lost[c] <= b->acct_lost[c])
			continue;
		extra = kernel_lost[c] - b->acct_lost[c];
		b->pre_lost[c] += extra;
		b->acct_lost[c] += extra;
		b->ob[b->b & 1].st.lost += extra;
	}
}

int fb_batcher__tick(struct fb_batcher *b, uint64_t now_ns)
{
	int err;

	while (!b->done && win_end(b, b->b) + b->o.grace_ns <= now_ns) {
		err = fb_batcher__close_window(b, now_ns);
		if (err)
			return err;
	}
	return 0;
}

bool fb_batcher__done(const struct fb_batcher *b)
{
	return b->done;
}

uint64_t fb_batcher__horizon(const struct fb_batcher *b)
{
	return win_end(b, b->b + 1);
}

int fb_batcher__close_window(struct fb_batcher *b, uint64_t now_ns)
{
	if (b->done)
		return 0;
	if (last_by_count(b)) {
		b->done = true;
		return 0;
	}
	return advance(b, now_ns);
}

uint64_t fb_batcher__next_deadline(const struct fb_batcher *b)
{
	return win_end(b, b->b) + b->o.grace_ns;
}

int fb_batcher__finish(struct fb_batcher *b, uint64_t now_ns, enum fb_finish how)
{
	struct open_batch *cur, *next;
	int err;

	if (how == FB_FINISH_PARTIAL) {
		while (win_end(b, b->b) <= now_ns) {
			err = advance(b, now_ns);
			if (err)
				return err;
		}
	}
	cur = &b->ob[b->b & 1];
	next = &b->ob[(b->b + 1) & 1];
	/* anything already in the next window joins the last batch */
	fb_agg__merge(cur->agg, next->agg);
	cur->st.packets += next->st.packets;
	cur->st.bytes += next->st.bytes;
	cur->st.lost += next->st.lost;
	cur->st.parse_errors += next->st.parse_errors;
	cur->st.late += next->st.late;
	cur->st.proc_ns += next->st.proc_ns;
	if (now_ns >= cur->st.start_ns)
		cur->st.end_ns = now_ns;
	cur->st.partial = how == FB_FINISH_PARTIAL;
	err = emit_window(b, cur, now_ns);
	b->done = true;
	return err;
}

void fb_batcher__totals(const struct fb_batcher *b, struct fb_run_totals *t)
{
	*t = b->tot;
}

/* The batcher: event-time windows, late records, the seen/lost ledger of
 * every record family and each batch's report about itself. See batch.h
 * for the model and family.h for what a family adds. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "batch.h"

#define CHUNK 32 /* records placed, then handed to their family, together */

struct open_batch {
	struct fb_batch_stats st;
};

/* Sequence state of one (record type, CPU) pair. */
struct seqstate {
	uint32_t last_seq;
	uint64_t pre_lost; /* losses taken from counters, not yet seen as gaps */
	uint64_t acct_lost; /* losses attributed so far */
};

struct fb_batcher {
	struct fb_batcher_opts o;
	uint64_t first; /* window index of batch 1 */
	uint64_t b; /* oldest open window */
	struct open_batch ob[2]; /* window w lives in ob[w & 1], slot w & 1 */
	uint64_t emitted;
	bool done;
	struct seqstate *seq; /* [type * ncpus + cpu] */
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

static void free_families(const struct fb_family *fams)
{
	int t;

	for (t = 0; t < FB_REC_TYPES; t++)
		if (fams[t].ops)
			fams[t].ops->free(fams[t].priv);
}

static void open_window(struct fb_batcher *b, uint64_t w)
{
	struct open_batch *ob = &b->ob[w & 1];
	int t;

	for (t = 0; t < FB_REC_TYPES; t++)
		if (b->o.fams[t].ops)
			b->o.fams[t].ops->reset(b->o.fams[t].priv, (int)(w & 1));
	memset(&ob->st, 0, sizeof(ob->st));
	ob->st.number = w - b->first + 1;
	ob->st.start_ns = win_start(b, w);
	ob->st.end_ns = win_end(b, w);
}

struct fb_batcher *fb_batcher__new(const struct fb_batcher_opts *opts)
{
	struct fb_batcher *b;
	uint64_t k0, iv = opts->interval_ns;
	int t;

	for (t = 0; t < FB_REC_TYPES; t++) {
		const struct fb_family_ops *ops = opts->fams[t].ops;

		if (ops && (ops->type != t || ops->rec_len < sizeof(struct fb_rec_hdr)))
			iv = 0;
	}
	if (!iv || !opts->ncpus || !opts->emit || !opts->clock) {
		free_families(opts->fams);
		errno = EINVAL;
		return NULL;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		free_families(opts->fams);
		return NULL;
	}
	b->o = *opts;
	/* batch 1 runs from start to a window boundary at least half an
	 * interval away, so no batch is shorter than I/2 or longer than 3I/2 */
	k0 = opts->start_ns / iv;
	b->first = (k0 + 1) * iv - opts->start_ns < iv / 2 ? k0 + 1 : k0;
	b->b = b->first;
	b->seq = calloc((size_t)opts->ncpus * FB_REC_TYPES, sizeof(*b->seq));
	if (!b->seq) {
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
	free_families(b->o.fams);
	free(b->seq);
	free(b);
}

static int emit_window(struct fb_batcher *b, struct open_batch *ob, uint64_t now_ns)
{
	struct fb_batch_stats *st = &ob->st;
	uint64_t t0 = b->o.clock(b->o.clock_ctx);
	struct fb_batch_view v;
	int t, err, slot = (int)(ob - b->ob);

	memset(&v, 0, sizeof(v));
	for (t = 0; t < FB_REC_TYPES; t++)
		st->led[t].seen = st->led[t].records + st->led[t].lost;
	st->delay_ns = (int64_t)(now_ns - st->end_ns);
	for (t = 0; t < FB_REC_TYPES; t++)
		if (b->o.fams[t].ops)
			v.fam[t] = b->o.fams[t].ops->view(b->o.fams[t].priv, slot, st);
	st->proc_ns += b->o.clock(b->o.clock_ctx) - t0;
	v.st = st;
	err = b->o.emit(b->o.emit_ctx, &v);

	b->emitted++;
	b->tot.batches++;
	b->tot.late += st->late;
	b->tot.unknown += st->unknown;
	for (t = 0; t < FB_REC_TYPES; t++) {
		b->tot.led[t].seen += st->led[t].seen;
		b->tot.led[t].records += st->led[t].records;
		b->tot.led[t].lost += st->led[t].lost;
	}
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

/* Does a record stamped ts lie two or more windows past b, so that placing
 * it closes window b first? */
static bool overtakes(const struct fb_batcher *b, uint64_t ts)
{
	return !b->done && ts >= (b->b + 2) * b->o.interval_ns;
}

/* Losses a record reveals, in its family's sequence on its CPU. A record
 * older than its CPU's last one (nested producers on one CPU) was counted
 * lost in the gap before: it is taken back from this batch's losses when
 * they hold it (they almost always do, the two records being nanoseconds
 * apart), else only counted in totals. */
static uint64_t ledger(struct fb_batcher *b, const struct fb_rec_hdr *r, struct fb_ledger *led)
{
	struct seqstate *q;
	uint32_t d;
	uint64_t gap, absorb;

	if (r->cpu >= b->o.ncpus)
		return 0;
	q = &b->seq[(size_t)r->type * b->o.ncpus + r->cpu];
	d = r->seq - q->last_seq;
	if (d == 0 || d > 0x80000000u) {
		b->tot.reordered++;
		if (d && led->lost && q->acct_lost) {
			led->lost--;
			q->acct_lost--;
		}
		return 0;
	}
	q->last_seq = r->seq;
	gap = d - 1;
	absorb = gap < q->pre_lost ? gap : q->pre_lost;
	q->pre_lost -= absorb;
	gap -= absorb;
	q->acct_lost += gap;
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

int fb_batcher__add(struct fb_batcher *b, const void *recs, uint32_t n)
{
	const struct fb_family *fam;
	const uint8_t *base = recs;
	uint8_t slot[CHUNK];
	uint32_t i, j, m, len;
	uint8_t type;
	int err;

	if (!n)
		return 0;
	type = ((const struct fb_rec_hdr *)recs)->type;
	if (type >= FB_REC_TYPES || !b->o.fams[type].ops)
		return -EINVAL;
	fam = &b->o.fams[type];
	len = fam->ops->rec_len;
	for (i = 0; i < n; i += m) {
		m = n - i < CHUNK ? n - i : CHUNK;
		for (j = 0; j < m; j++) {
			const struct fb_rec_hdr *r = (const void *)(base + (size_t)(i + j) * len);
			struct fb_ledger *led;
			uint64_t w;
			bool late;

			/* a record that emits windows must wait until the records
			 * before it are in their tables: end the chunk here */
			if (j && overtakes(b, r->ts_ns)) {
				m = j;
				break;
			}
			err = place(b, r->ts_ns, &w, &late);
			if (err)
				return err;
			slot[j] = (uint8_t)(w & 1);
			led = &b->ob[w & 1].st.led[type];
			led->lost += ledger(b, r, led);
			led->records++;
			b->ob[w & 1].st.late += late;
		}
		fam->ops->add(fam->priv, base + (size_t)i * len, m, slot);
	}
	return 0;
}

void fb_batcher__unknown(struct fb_batcher *b, uint64_t n)
{
	b->ob[b->b & 1].st.unknown += n;
}

void fb_batcher__charge(struct fb_batcher *b, uint64_t ns)
{
	b->ob[b->b & 1].st.proc_ns += ns;
}

void fb_batcher__sync_lost(struct fb_batcher *b, uint8_t type, const uint64_t *kernel_lost)
{
	uint32_t c;

	if (type >= FB_REC_TYPES)
		return;
	for (c = 0; c < b->o.ncpus; c++) {
		struct seqstate *q = &b->seq[(size_t)type * b->o.ncpus + c];
		uint64_t extra;

		if (kernel_lost[c] <= q->acct_lost)
			continue;
		extra = kernel_lost[c] - q->acct_lost;
		q->pre_lost += extra;
		q->acct_lost += extra;
		b->ob[b->b & 1].st.led[type].lost += extra;
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
	int t, err;

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
	for (t = 0; t < FB_REC_TYPES; t++) {
		if (b->o.fams[t].ops)
			b->o.fams[t].ops->merge(b->o.fams[t].priv, (int)(b->b & 1), (int)((b->b + 1) & 1));
		cur->st.led[t].records += next->st.led[t].records;
		cur->st.led[t].lost += next->st.led[t].lost;
	}
	cur->st.late += next->st.late;
	cur->st.unknown += next->st.unknown;
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

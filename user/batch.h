/* Micro-batches by event time, and the per-batch ledger.
 *
 * Batch windows are [k*I, (k+1)*I) on CLOCK_MONOTONIC (the clock of
 * bpf_ktime_get_ns), numbered from 1 in output. A record belongs to the
 * window its kernel timestamp falls in. At most two windows are open: the
 * oldest not yet emitted (b) and the next (b+1), which fills during the short
 * grace after a tick. A record for a window already emitted is "late": it is
 * counted and added to b. A record two or more windows ahead (the consumer
 * fell behind, e.g. stopped) emits b first: windows are closed by event time.
 *
 * Ledger, per batch and per run, exactly:
 *     seen = packets (flow rows + overflow row) + lost
 * lost comes from gaps in each CPU's record sequence numbers, attributed to
 * the batch of the record that reveals the gap; losses after a CPU's last
 * record are taken from the kernel's per-CPU lost counters at each tick and
 * at the end (fb_batcher__sync_lost), and not counted again when the gap
 * they belong to shows up later. */
#ifndef FB_BATCH_H
#define FB_BATCH_H
#include <stdbool.h>
#include <stdint.h>
#include "agg.h"

struct fb_batch_stats {
	uint64_t number; /* 1, 2, ... */
	uint64_t start_ns, end_ns; /* CLOCK_MONOTONIC */
	uint64_t seen, packets, bytes, lost;
	uint64_t parse_errors, late, overflow; /* overflow: packets in the overflow row */
	uint64_t flows; /* rows, overflow row not included */
	uint64_t proc_ns; /* consumer time spent on this batch */
	int64_t delay_ns; /* emitted this long after its window closed */
	bool partial; /* cut short by a stop (Ctrl-C, -D, interface gone) */
};

struct fb_batch_view {
	const struct fb_batch_stats *st;
	const struct fb_flow *const *top; /* ntop rows, most bytes first */
	uint32_t ntop;
	const struct fb_flow *rest; /* sum of rows beyond -n; packets == 0 if none */
	uint32_t rest_flows;
	const struct fb_flow *overflow; /* packets == 0 if nothing overflowed */
	uint64_t (*clock)(void *ctx); /* the batcher's clock, for sinks to time */
	void *clock_ctx;              /* their output into processing_ms */
};

/* Sinks' entry point; a negative return (-errno) stops the run. */
typedef int (*fb_emit_fn)(void *ctx, const struct fb_batch_view *v);
typedef uint64_t (*fb_clock_fn)(void *ctx);

struct fb_batcher_opts {
	uint64_t interval_ns;
	uint64_t grace_ns; /* a window is emitted at its end + grace */
	uint64_t start_ns; /* capture start: the first batch begins here */
	uint32_t max_flows;
	uint32_t ncpus;
	uint32_t top; /* -n; 0 = all rows */
	bool sort_all; /* with top 0: most bytes first (else first-seen order, cheaper) */
	uint64_t max_batches; /* -c; 0 = no limit */
	struct fb_keyspec keys;
	fb_emit_fn emit;
	void *emit_ctx;
	fb_clock_fn clock; /* CLOCK_MONOTONIC in ns; a fake one in tests */
	void *clock_ctx;
};

struct fb_run_totals {
	uint64_t batches, seen, packets, bytes, lost, parse_errors, late, overflow;
	uint64_t reordered; /* records older than their CPU's previous one */
};

struct fb_batcher;

struct fb_batcher *fb_batcher__new(const struct fb_batcher_opts *opts);
void fb_batcher__free(struct fb_batcher *b);

/* Adds records; returns <0 if an emit failed. */
int fb_batcher__add(struct fb_batcher *b, const struct fb_pkt *recs, uint32_t n);
/* Charges consumer time to the oldest open batch. */
void fb_batcher__charge(struct fb_batcher *b, uint64_t ns);
/* Takes the kernel's per-CPU lost counters (ncpus entries) after a full
 * drain and attributes losses no record has revealed yet to batch b. */
void fb_batcher__sync_lost(struct fb_batcher *b, const uint64_t *kernel_lost);
/* Emits every window whose end + grace <= now. Returns <0 on emit error. */
int fb_batcher__tick(struct fb_batcher *b, uint64_t now_ns);
/* True once -c batches are complete: the caller detaches, drains, finishes. */
bool fb_batcher__done(const struct fb_batcher *b);

enum fb_finish { FB_FINISH_PARTIAL, FB_FINISH_COUNT };
/* After detach and a full drain: emits what is open. PARTIAL (stop, -D):
 * windows that ended are emitted whole, the current one as partial ending at
 * now. COUNT (-c): the last batch takes every remaining record and ends now. */
int fb_batcher__finish(struct fb_batcher *b, uint64_t now_ns, enum fb_finish how);

/* Records stamped before this time fit the open windows (b and b+1). */
uint64_t fb_batcher__horizon(const struct fb_batcher *b);
/* Emits window b now (or, when that completes -c, marks the run done).
 * For a consumer that drained every ring up to the horizon and still has
 * records past it: window b cannot receive anything more. */
int fb_batcher__close_window(struct fb_batcher *b, uint64_t now_ns);

/* The next time a tick has work: end of window b + grace. */
uint64_t fb_batcher__next_deadline(const struct fb_batcher *b);
void fb_batcher__totals(const struct fb_batcher *b, struct fb_run_totals *t);

#endif

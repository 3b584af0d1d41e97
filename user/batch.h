/* Micro-batches by event time, and the per-batch ledger of every record
 * family.
 *
 * Batch windows are [k*I, (k+1)*I) on CLOCK_MONOTONIC (the clock of
 * bpf_ktime_get_ns), numbered from 1 in output. A record belongs to the
 * window its kernel timestamp falls in. At most two windows are open: the
 * oldest not yet emitted (b) and the next (b+1), which fills during the short
 * grace after a tick. A record for a window already emitted is "late": it is
 * counted and added to b. A record two or more windows ahead (the consumer
 * fell behind, e.g. stopped) emits b first: windows are closed by event time.
 *
 * Ledger, per family, per batch and per run, exactly:
 *     seen = records + lost
 * lost comes from gaps in each CPU's record sequence numbers of that family,
 * attributed to the batch of the record that reveals the gap; losses after a
 * CPU's last record are taken from the kernel's per-CPU lost counters at
 * each tick and at the end (fb_batcher__sync_lost), and not counted again
 * when the gap they belong to shows up later. What a family makes of its
 * records (flows, wire packets, events) is in its own view. */
#ifndef FB_BATCH_H
#define FB_BATCH_H
#include <stdbool.h>
#include <stdint.h>
#include "family.h"

struct fb_ledger {
	uint64_t seen, records, lost;
};

/* What every batch reports about itself, whatever families are on. */
struct fb_batch_stats {
	uint64_t number; /* 1, 2, ... */
	uint64_t start_ns, end_ns; /* CLOCK_MONOTONIC */
	struct fb_ledger led[FB_REC_TYPES]; /* by record type */
	uint64_t late; /* records placed after their own batch was emitted */
	uint64_t unknown; /* records of no known type or of a wrong length */
	uint64_t proc_ns; /* consumer time on this batch: drain, aggregate, views */
	int64_t delay_ns; /* emitted this long after its window closed */
	bool partial; /* cut short by a stop (Ctrl-C, -D, interface gone) */
};

/* An interface's state, for batch rows (set by the pipeline). */
struct fb_iface_state {
	const char *name;
	bool gone;
};

/* A finished batch, as every output receives it. */
struct fb_batch_view {
	const struct fb_batch_stats *st;
	const void *fam[FB_REC_TYPES]; /* each family's view; NULL when it is off */
	/* filled by the pipeline before the outputs see it */
	const struct fb_iface_state *ifaces;
	uint32_t nifaces;
	uint64_t outputs_dropped; /* batches any output dropped so far in the run (cumulative) */
	const struct fb_out_status *outputs; /* each output's own account, as of this batch */
	uint32_t noutputs;
};

/* One output's account in a batch view (set by the output set). */
struct fb_out_status {
	const char *name; /* "stdout", "file", "prometheus", "ipfix" */
	const char *target; /* its path or address; "" for stdout */
	uint64_t batches, dropped, errors;
};

/* The batch consumer; a negative return (-errno) stops the run. */
typedef int (*fb_emit_fn)(void *ctx, struct fb_batch_view *v);
typedef uint64_t (*fb_clock_fn)(void *ctx);

struct fb_batcher_opts {
	uint64_t interval_ns;
	uint64_t grace_ns; /* a window is emitted at its end + grace */
	uint64_t start_ns; /* capture start: the first batch begins here */
	uint32_t ncpus;
	uint64_t max_batches; /* -c; 0 = no limit */
	struct fb_family fams[FB_REC_TYPES]; /* by type; ops NULL = off */
	fb_emit_fn emit;
	void *emit_ctx;
	fb_clock_fn clock; /* CLOCK_MONOTONIC in ns; a fake one in tests */
	void *clock_ctx;
};

struct fb_run_totals {
	uint64_t batches, late, unknown;
	struct fb_ledger led[FB_REC_TYPES];
	uint64_t reordered; /* records older than their CPU's previous one */
};

struct fb_batcher;

/* The families in opts are owned by the batcher from here on (freed by
 * fb_batcher__free, also when new fails). */
struct fb_batcher *fb_batcher__new(const struct fb_batcher_opts *opts);
void fb_batcher__free(struct fb_batcher *b);

/* Adds n records of one type (each that type's rec_len long, back to back).
 * Returns <0 if an emit failed, -EINVAL for a type with no family. */
int fb_batcher__add(struct fb_batcher *b, const void *recs, uint32_t n);
/* Counts records no family could take (unknown type, wrong length). */
void fb_batcher__unknown(struct fb_batcher *b, uint64_t n);
/* Charges consumer time to the oldest open batch. */
void fb_batcher__charge(struct fb_batcher *b, uint64_t ns);
/* Takes the kernel's per-CPU lost counters of one record type (ncpus
 * entries) after a full drain and attributes losses no record has revealed
 * yet to batch b. */
void fb_batcher__sync_lost(struct fb_batcher *b, uint8_t type, const uint64_t *kernel_lost);
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

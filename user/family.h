/* A record family: one record type (include/flowbatch/record.h) and what
 * the consumer does with it in each batch. The batcher owns time (windows,
 * late records) and the ledger of every family (seen = records + lost, from
 * the per-CPU sequence numbers); a family owns its aggregation and the view
 * of a finished batch that outputs read. Adding a family is one file that
 * fills these ops, plus its BPF program and record type.
 *
 * The batcher keeps two windows open (the oldest not yet emitted and the
 * next); a family keeps one aggregate per open window, named by slot 0/1. */
#ifndef FB_FAMILY_H
#define FB_FAMILY_H
#include <stdbool.h>
#include <stdint.h>
#include "flowbatch/record.h"

struct fb_batch_stats;
struct fb_key;

/* A value in a row an output writes: a number, or a string when s is set.
 * present false: the field is absent from this row (JSON omits it, CSV
 * leaves the cell empty). */
struct fb_value {
	bool present;
	const char *s;
	uint64_t u;
};

struct fb_family_ops {
	uint8_t type;      /* FB_REC_* */
	const char *name;  /* for the ledger in outputs: "packets", "tcp", ... */
	uint16_t rec_len;  /* exact length of its records */
	/* Adds n records (rec_len apart); slot[i] is record i's window slot.
	 * Their ledger and window are already done. */
	void (*add)(void *fam, const void *recs, uint32_t n, const uint8_t *slot);
	/* Empties a slot for its next window. */
	void (*reset)(void *fam, int slot);
	/* Adds slot src into slot dst (the last batch takes the next window). */
	void (*merge)(void *fam, int dst, int src);
	/* The family's view of a finished window, valid until the slot is
	 * reset; st is the batch's common part (the family may read it). */
	const void *(*view)(void *fam, int slot, const struct fb_batch_stats *st);
	void (*free)(void *fam);

	/* Optional, for families whose data joins the packet flows or stands
	 * in rows of its own; outputs render these generically. */
	/* Fields added to each flow row (NULL-terminated names), and their
	 * values for the flow with key k in this family's view. */
	const char *const *flow_fields;
	void (*flow_values)(const void *view, const struct fb_key *k, struct fb_value *vals);
	/* Rows of its own: each has "type":row_type and the row_fields. */
	const char *row_type;
	const char *const *row_fields;
	uint32_t (*nrows)(const void *view);
	void (*row)(const void *view, uint32_t i, struct fb_value *vals);
};

struct fb_family {
	const struct fb_family_ops *ops;
	void *priv;
};

#endif

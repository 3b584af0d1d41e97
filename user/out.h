/* Outputs: where finished batches go. Each kind of output (stdout, file,
 * prometheus, ipfix) is one file filling struct fb_output_ops and one line
 * in the registry (out.c). The set (struct fb_outputs) opens the outputs
 * the command line asked for, hands every batch to each of them, flushes
 * them after each batch, reopens them on SIGHUP, gives the event loop their
 * file descriptors and closes them at exit. An output never sees libbpf,
 * the rings or the aggregation tables: only the batch view.
 *
 * Row formats (table, jsonl, csv) are separate (format.h): a stream output
 * (stdout, a file) pairs one with a destination. */
#ifndef FB_OUT_H
#define FB_OUT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "batch.h"
#include "family.h"

struct fb_loop;

typedef const char *(*fb_ifname_fn)(void *ctx, uint32_t ifindex);

/* What every output needs besides the batches themselves. */
struct fb_out_ctx {
	uint32_t key_fields; /* enum fb_key_field: which key fields flow rows have */
	int64_t mono_to_epoch_ns; /* add to a CLOCK_MONOTONIC time */
	fb_ifname_fn ifname;
	void *ifname_ctx;
	uint64_t interval_ns; /* the batch interval */
	/* table: flow rows shown, the others summed into one "(N more)" row;
	 * 0 = every row of the view (-n already cut it) */
	uint32_t table_rows;
	/* the families that are on, by record type (NULL = off), so outputs
	 * know every field they may meet before the first batch */
	const struct fb_family_ops *fams[FB_REC_TYPES];
};

enum fb_format { FB_FMT_AUTO, FB_FMT_TABLE, FB_FMT_JSONL, FB_FMT_CSV };

/* One output as the command line asked for it. Each kind reads the fields
 * it knows and ignores the rest. */
struct fb_out_opts {
	const char *kind; /* registry name: "stdout", "file", "prometheus", "ipfix" */
	const char *target; /* file: path pattern; prometheus/ipfix: ADDR:PORT */
	enum fb_format format; /* stdout and file */
	bool gzip; /* file: .gz */
	uint64_t rotate_secs; /* file: -G */
	uint64_t rotate_bytes; /* file: -C */
	uint32_t keep_files; /* file: -W, 0 = all */
	const char *prom_keys; /* prometheus: per-group keys, NULL = none */
	uint32_t prom_max_series;
	uint32_t ipfix_domain; /* ipfix: observation domain id */
};

/* An output's own account, for the summary and metrics. */
struct fb_out_report {
	uint64_t batches; /* batches written whole */
	uint64_t dropped; /* batches it could not write (counted, never partial) */
	uint64_t errors; /* failed writes/sends (e.g. IPFIX messages) */
};

struct fb_output_ops {
	const char *name;
	/* Opens the output; on failure logs one line saying why (fb_err) and
	 * returns NULL with errno set. */
	void *(*open)(const struct fb_out_opts *o, const struct fb_out_ctx *ctx);
	/* Takes one finished batch. 0, or -errno. -EPIPE from an output whose
	 * reader went away ends the run quietly (stdout | head); any other
	 * error is the output's own: counted, and the run goes on. */
	int (*write)(void *s, const struct fb_batch_view *v);
	/* After each batch (may be NULL). */
	int (*flush)(void *s);
	/* SIGHUP: close and reopen the current path (may be NULL). */
	int (*reopen)(void *s);
	/* A descriptor for the event loop to watch for input, or -1; then
	 * on_fd runs when it is readable (may be NULL). */
	int (*fd)(void *s);
	int (*on_fd)(void *s, uint32_t events);
	void (*report)(void *s, struct fb_out_report *r);
	void (*close)(void *s);
};

const struct fb_output_ops *fb_output_find(const char *name);

struct fb_outputs;

struct fb_outputs *fb_outputs__new(const struct fb_out_ctx *ctx);
/* Opens one output; -errno (and a line on stderr) when it cannot. */
int fb_outputs__add(struct fb_outputs *set, const struct fb_out_opts *o);
/* The same for an output kind that is not in the registry (tests). */
int fb_outputs__add_ops(struct fb_outputs *set, const struct fb_output_ops *ops,
			const struct fb_out_opts *o);
/* Gives every output the batch, in the order they were added, then
 * flushes them. v->outputs_dropped is set here. Returns -EPIPE when the
 * run should end quietly, else 0. */
int fb_outputs__write(struct fb_outputs *set, struct fb_batch_view *v);
/* SIGHUP */
void fb_outputs__reopen(struct fb_outputs *set);
/* Registers the outputs' descriptors with the loop. */
int fb_outputs__register(struct fb_outputs *set, struct fb_loop *loop);
/* One line per output that dropped or failed anything, for the summary. */
void fb_outputs__summary(const struct fb_outputs *set);
uint32_t fb_outputs__count(const struct fb_outputs *set);
void fb_outputs__free(struct fb_outputs *set);

#endif

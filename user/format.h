/* Row formats: how a batch becomes text. A format writes whole batches to a
 * FILE (a terminal, a pipe, a file, a memory stream); destinations are the
 * outputs' business (out.h). Adding a format is one file and one line in
 * the registry (format.c).
 *
 * Every format writes the same rows with the same field names (README,
 * "Output"): per batch its flow rows (with the rest and overflow rows), the
 * rows of any event family that is on, then one batch row with the ledger. */
#ifndef FB_FORMAT_H
#define FB_FORMAT_H
#include <stdio.h>
#include "out.h"

struct fb_format_ops {
	const char *name; /* "table", "jsonl", "csv" */
	const char *ext; /* file name extension, without the dot; NULL if none */
	enum fb_format id;
	/* NULL with errno set on failure */
	void *(*new)(const struct fb_out_ctx *ctx);
	/* Written once at the top of a stream or file (CSV's header line);
	 * may be NULL. Returns 0 or -errno. */
	int (*header)(void *s, FILE *f);
	/* One batch; 0 or -errno (from the stream). */
	int (*batch)(void *s, FILE *f, const struct fb_batch_view *v);
	void (*free)(void *s);
};

extern const struct fb_format_ops fb_format_table;
extern const struct fb_format_ops fb_format_jsonl;

const struct fb_format_ops *fb_format_find(enum fb_format id);
const struct fb_format_ops *fb_format_by_name(const char *name);
/* The format a file name asks for by its extension (".jsonl", ".csv",
 * either with ".gz"); NULL if none. *gzip tells about the ".gz". */
const struct fb_format_ops *fb_format_for_path(const char *path, bool *gzip);

/* 0, or -errno from the stream's error state (after a flush). */
int fb_stream_status(FILE *f);

#endif

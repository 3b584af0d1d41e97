/* Output sinks. Every sink gets the same finished batch through one small
 * interface; a sink never sees the aggregation table or libbpf. */
#ifndef FB_SINK_H
#define FB_SINK_H
#include <stdio.h>
#include "batch.h"
#include "fmt.h"

struct fb_sink_ops {
	const char *name;
	/* Returns the sink's state, or NULL with errno set. */
	void *(*open)(FILE *out, const struct fb_out_ctx *ctx);
	/* Returns 0 or -errno (e.g. -EPIPE when the reader went away). */
	int (*write_batch)(void *s, const struct fb_batch_view *v);
	int (*flush)(void *s);
	void (*close)(void *s);
};

extern const struct fb_sink_ops fb_sink_table;
extern const struct fb_sink_ops fb_sink_jsonl;

const struct fb_sink_ops *fb_sink_find(const char *name);

/* Shared by sinks: 0, or -errno from the stream's error state. */
int fb_sink_stream_status(FILE *f);

#endif

/* The stdout output: batches in one format (-o) on standard output. A
 * batch is formatted in memory on the main thread and written whole by
 * this output's writer thread (writer.h): a terminal or pipe that is not
 * read loses whole batches, counted, and never stalls capture. A closed
 * pipe (`| head`) ends the run quietly. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "format.h"
#include "log.h"
#include "out.h"
#include "writer.h"

struct out_stdout {
	const struct fb_format_ops *fmt;
	void *fs;
	struct fb_writer *w;
	int64_t to_epoch;
	char *header; /* CSV's column names, before the first batch written */
	size_t header_len;
	bool header_done; /* writer thread */
};

/* writer thread */
static int stdout_put(void *ctx, const struct fb_wbatch *b, char *why, size_t whylen)
{
	struct out_stdout *s = ctx;
	int err;

	if (!s->header_done && s->header_len) {
		err = fb_writer_io_write(STDOUT_FILENO, s->header, s->header_len);
		if (err)
			return err;
	}
	s->header_done = true;
	/* EPIPE goes back as it is: the writer closes and the run ends */
	return fb_writer_io_write(STDOUT_FILENO, b->data, b->len);
}

static void stdout_free(struct out_stdout *s)
{
	if (s->fs)
		s->fmt->free(s->fs);
	free(s->header);
	free(s);
}

static void *stdout_open(const struct fb_out_opts *o, const struct fb_out_ctx *ctx)
{
	struct fb_writer_opts wo = { .name = "stdout", .write = stdout_put };
	struct out_stdout *s = calloc(1, sizeof(*s));
	enum fb_format id = o->format;
	int err = ENOMEM;

	if (!s)
		return NULL;
	s->to_epoch = ctx->mono_to_epoch_ns;
	if (id == FB_FMT_AUTO)
		id = isatty(STDOUT_FILENO) ? FB_FMT_TABLE : FB_FMT_JSONL;
	s->fmt = fb_format_find(id);
	if (!s->fmt) {
		err = EINVAL;
		goto err_free;
	}
	s->fs = s->fmt->new(ctx);
	if (!s->fs)
		goto err_free;
	if (s->fmt->header) {
		FILE *hf = open_memstream(&s->header, &s->header_len);

		if (!hf || s->fmt->header(s->fs, hf) || fclose(hf))
			goto err_free;
	}
	wo.ctx = s;
	/* stuck: no byte written for 2 intervals (at least 2 s) */
	wo.stall_ns = fb_writer_stall_ns(ctx->interval_ns);
	s->w = fb_writer__new(&wo);
	if (!s->w) {
		err = errno;
		goto err_free;
	}
	return s;

err_free:
	fb_err("cannot set up the stdout output: %s\n", strerror(err));
	stdout_free(s);
	errno = err;
	return NULL;
}

static int stdout_write(void *p, const struct fb_batch_view *v)
{
	struct out_stdout *s = p;
	FILE *f = fb_writer__begin(s->w);
	int err;

	/* a format error leaves the stream in error: commit drops the batch
	 * whole and counts it */
	s->fmt->batch(s->fs, f, v);
	err = fb_writer__commit(s->w, v->st->number, (int64_t)v->st->start_ns + s->to_epoch,
				(int64_t)v->st->end_ns + s->to_epoch);
	/* other drops are counted and reported by the writer */
	return err == -EPIPE ? -EPIPE : 0;
}

static void stdout_report(void *p, struct fb_out_report *r)
{
	struct fb_writer_stats ws;

	fb_writer__stats(((struct out_stdout *)p)->w, &ws);
	r->batches = ws.written;
	r->dropped = ws.dropped;
	r->errors = ws.failed;
}

static void stdout_close(void *p)
{
	struct out_stdout *s = p;

	/* a terminal that is never read again keeps the thread and its memory */
	if (fb_writer__free(s->w, FB_WRITER_EXIT_WAIT_MS))
		stdout_free(s);
}

const struct fb_output_ops fb_out_stdout = {
	.name = "stdout",
	.open = stdout_open,
	.write = stdout_write,
	.report = stdout_report,
	.close = stdout_close,
};

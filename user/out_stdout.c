/* The stdout output: batches in one format (-o) on standard output. A
 * closed pipe (`| head`) ends the run quietly. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "format.h"
#include "log.h"
#include "out.h"

struct out_stdout {
	const struct fb_format_ops *fmt;
	void *fs;
	uint64_t batches;
};

static void *stdout_open(const struct fb_out_opts *o, const struct fb_out_ctx *ctx)
{
	struct out_stdout *s = calloc(1, sizeof(*s));
	enum fb_format id = o->format;

	if (!s)
		return NULL;
	if (id == FB_FMT_AUTO)
		id = isatty(STDOUT_FILENO) ? FB_FMT_TABLE : FB_FMT_JSONL;
	s->fmt = fb_format_find(id);
	s->fs = s->fmt ? s->fmt->new(ctx) : NULL;
	if (!s->fs) {
		fb_err("cannot set up the stdout output\n");
		errno = s->fmt ? ENOMEM : EINVAL;
		free(s);
		return NULL;
	}
	/* rows are written in bursts at each batch, flushed after each */
	setvbuf(stdout, NULL, _IOFBF, 1u << 20);
	if (s->fmt->header && s->fmt->header(s->fs, stdout) < 0) {
		s->fmt->free(s->fs);
		free(s);
		return NULL;
	}
	return s;
}

static int stdout_write(void *p, const struct fb_batch_view *v)
{
	struct out_stdout *s = p;
	int err = s->fmt->batch(s->fs, stdout, v);

	if (!err)
		s->batches++;
	return err;
}

static void stdout_report(void *p, struct fb_out_report *r)
{
	struct out_stdout *s = p;

	r->batches = s->batches;
	r->dropped = 0;
	r->errors = 0;
}

static void stdout_close(void *p)
{
	struct out_stdout *s = p;

	fflush(stdout);
	s->fmt->free(s->fs);
	free(s);
}

const struct fb_output_ops fb_out_stdout = {
	.name = "stdout",
	.open = stdout_open,
	.write = stdout_write,
	.report = stdout_report,
	.close = stdout_close,
};

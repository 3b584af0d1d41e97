/* The output registry and the set of outputs a run writes to. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include "log.h"
#include "loop.h"
#include "out.h"

extern const struct fb_output_ops fb_out_stdout;
extern const struct fb_output_ops fb_out_file;
extern const struct fb_output_ops fb_out_prometheus, fb_out_ipfix;

/* One line per kind of output. */
static const struct fb_output_ops *const registry[] = {
	&fb_out_stdout,
	&fb_out_file,
	&fb_out_prometheus, &fb_out_ipfix,
};
#define NREG (sizeof(registry) / sizeof(registry[0]))

#define MAX_OUTPUTS 32

struct output {
	const struct fb_output_ops *ops;
	void *s;
	char label[80]; /* "stdout", "file /var/log/x.jsonl" */
	char target[64];
	uint64_t set_dropped; /* writes that failed outright */
	bool failing; /* in an incident: said once, quiet until it recovers */
};

struct fb_outputs {
	struct fb_out_ctx ctx;
	struct output o[MAX_OUTPUTS];
	struct fb_out_status status[MAX_OUTPUTS]; /* handed to outputs in the view */
	uint32_t n;
};

const struct fb_output_ops *fb_output_find(const char *name)
{
	size_t i;

	for (i = 0; i < NREG; i++)
		if (!strcmp(registry[i]->name, name))
			return registry[i];
	return NULL;
}

struct fb_outputs *fb_outputs__new(const struct fb_out_ctx *ctx)
{
	struct fb_outputs *set = calloc(1, sizeof(*set));

	if (set)
		set->ctx = *ctx;
	return set;
}

int fb_outputs__add(struct fb_outputs *set, const struct fb_out_opts *o)
{
	const struct fb_output_ops *ops = fb_output_find(o->kind);

	if (!ops) {
		fb_err("no output of kind '%s' in this build\n", o->kind);
		return -ENOENT;
	}
	return fb_outputs__add_ops(set, ops, o);
}

int fb_outputs__add_ops(struct fb_outputs *set, const struct fb_output_ops *ops,
			const struct fb_out_opts *o)
{
	struct output *out;

	if (set->n == MAX_OUTPUTS) {
		fb_err("at most %d outputs\n", MAX_OUTPUTS);
		return -E2BIG;
	}
	out = &set->o[set->n];
	memset(out, 0, sizeof(*out));
	out->ops = ops;
	out->s = ops->open(o, &set->ctx);
	if (!out->s)
		return -(errno ? errno : EINVAL);
	snprintf(out->label, sizeof(out->label), "%s%s%s", ops->name, o->target ? " " : "",
		 o->target ? o->target : "");
	snprintf(out->target, sizeof(out->target), "%s", o->target ? o->target : "");
	set->n++;
	return 0;
}

/* Every output's account as of now; returns the batches dropped in all. */
static uint64_t take_status(struct fb_outputs *set)
{
	struct fb_out_report r;
	uint64_t sum = 0;
	uint32_t i;

	for (i = 0; i < set->n; i++) {
		struct fb_out_status *st = &set->status[i];

		memset(&r, 0, sizeof(r));
		if (set->o[i].ops->report)
			set->o[i].ops->report(set->o[i].s, &r);
		st->name = set->o[i].ops->name;
		st->target = set->o[i].target;
		st->batches = r.batches;
		st->dropped = r.dropped + set->o[i].set_dropped;
		st->errors = r.errors;
		sum += st->dropped;
	}
	return sum;
}

int fb_outputs__write(struct fb_outputs *set, struct fb_batch_view *v)
{
	int err, ret = 0;
	uint32_t i;

	v->outputs_dropped = take_status(set);
	v->outputs = set->status;
	v->noutputs = set->n;
	for (i = 0; i < set->n; i++) {
		struct output *out = &set->o[i];

		err = out->ops->write(out->s, v);
		if (!err && out->ops->flush)
			err = out->ops->flush(out->s);
		if (err == -EPIPE) {
			ret = -EPIPE;
			continue;
		}
		if (err) {
			/* this output's own trouble: counted, said once, the
			 * other outputs and the capture go on */
			out->set_dropped++;
			if (!out->failing)
				fb_err("output %s: %s; dropping its batches until it recovers\n", out->label,
				       strerror(-err));
			out->failing = true;
		} else if (out->failing) {
			fb_info("output %s recovered\n", out->label);
			out->failing = false;
		}
	}
	return ret;
}

void fb_outputs__reopen(struct fb_outputs *set)
{
	uint32_t i;
	int err;

	for (i = 0; i < set->n; i++) {
		if (!set->o[i].ops->reopen)
			continue;
		err = set->o[i].ops->reopen(set->o[i].s);
		if (err)
			fb_err("output %s: cannot reopen: %s\n", set->o[i].label, strerror(-err));
	}
}

static int on_output_fd(void *ctx, int fd, uint32_t events)
{
	struct output *out = ctx;
	int err = out->ops->on_fd(out->s, events);

	/* an output's trouble never stops the run */
	if (err < 0 && !out->failing) {
		fb_err("output %s: %s\n", out->label, strerror(-err));
		out->failing = true;
	}
	return 0;
}

int fb_outputs__register(struct fb_outputs *set, struct fb_loop *loop)
{
	uint32_t i;
	int fd, err;

	for (i = 0; i < set->n; i++) {
		struct output *out = &set->o[i];

		if (!out->ops->fd || !out->ops->on_fd || (fd = out->ops->fd(out->s)) < 0)
			continue;
		err = fb_loop__add(loop, fd, EPOLLIN, on_output_fd, out);
		if (err)
			return err;
	}
	return 0;
}

void fb_outputs__summary(const struct fb_outputs *set)
{
	struct fb_out_report r;
	uint32_t i;

	for (i = 0; i < set->n; i++) {
		memset(&r, 0, sizeof(r));
		if (set->o[i].ops->report)
			set->o[i].ops->report(set->o[i].s, &r);
		r.dropped += set->o[i].set_dropped;
		if (r.dropped || r.errors)
			fb_err("output %s: %llu batches written, %llu dropped, %llu failed sends\n",
			       set->o[i].label, (unsigned long long)r.batches, (unsigned long long)r.dropped,
			       (unsigned long long)r.errors);
	}
}

uint32_t fb_outputs__count(const struct fb_outputs *set)
{
	return set->n;
}

void fb_outputs__free(struct fb_outputs *set)
{
	uint32_t i;

	if (!set)
		return;
	/* reverse order of opening */
	for (i = set->n; i-- > 0;)
		set->o[i].ops->close(set->o[i].s);
	free(set);
}

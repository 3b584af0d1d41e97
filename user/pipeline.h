/* The pipeline: from the rings to the outputs. It owns the drain protocol
 * across the rings (every ring drained up to the batcher's horizon before a
 * window closes), the batch timer, the dispatch of records by type to their
 * family, the ledger plumbing (the kernel's per-CPU lost counters into the
 * batcher), the hand-over of each finished batch to the outputs, and the
 * end-of-run verdict that compares the ledger with the kernel's counters.
 * It knows nothing of libbpf: the rings are file descriptors and the
 * counters come through a callback. */
#ifndef FB_PIPELINE_H
#define FB_PIPELINE_H
#include <stdbool.h>
#include <stdint.h>
#include "batch.h"
#include "flowbatch/record.h"

struct fb_loop;
struct fb_outputs;

/* The kernel's per-CPU counters of one record type into percpu[ncpus];
 * 0 or -errno. */
typedef int (*fb_counters_fn)(void *ctx, uint8_t type, struct fb_counters *percpu);

struct fb_ring;
struct fb_ring_handlers;
/* Makes ring i (tests: over memory, fb_ring__new_mem); NULL with errno. */
typedef struct fb_ring *(*fb_ring_new_fn)(void *ctx, uint32_t i, const struct fb_ring_handlers *h);

struct fb_pipeline_opts {
	const int *ring_fds; /* BPF ring buffer maps: one per CPU, or one */
	uint32_t nrings;
	uint64_t ring_size;
	fb_ring_new_fn ring_new; /* NULL: map ring_fds[i] */
	void *ring_new_ctx;
	fb_counters_fn counters;
	void *counters_ctx;
	/* windows, families, -c; emit and clock are the pipeline's */
	struct fb_batcher_opts batch;
	struct fb_outputs *outs;
	/* interface states shown in batch rows (owned by the caller) */
	const struct fb_iface_state *ifaces;
	uint32_t nifaces;
};

struct fb_pipeline;

/* Takes the families in o->batch (freed with the pipeline, also on failure).
 * NULL with errno set on failure. */
struct fb_pipeline *fb_pipeline__new(const struct fb_pipeline_opts *o);
void fb_pipeline__free(struct fb_pipeline *p);
/* Puts the rings (edge-triggered: the kernel wakes the consumer only past a
 * watermark) and the batch timer on the loop. Their callbacks stop the loop
 * with 1 once -c batches are done, with -EPIPE when the output's reader
 * went away, with another -errno on failure. */
int fb_pipeline__register(struct fb_pipeline *p, struct fb_loop *loop);
/* True once -c batches are complete. */
bool fb_pipeline__done(const struct fb_pipeline *p);
/* After the programs are detached: drains everything, takes the final
 * counters and emits what is open (see fb_batcher__finish). 0, -EPIPE or
 * -errno. */
int fb_pipeline__finish(struct fb_pipeline *p, enum fb_finish how);
/* Prints the run's ledger against the kernel's counters, one line per
 * family ("... (ledger exact)"); true when every family adds up. */
bool fb_pipeline__verdict(struct fb_pipeline *p);

#endif

/* Isolation of a stream output from capture: the main thread formats a
 * batch into memory and hands it whole to the output's own writer thread
 * through a bounded queue; the thread does the I/O. The main thread only
 * ever waits for the queue's mutex, which no one holds across I/O (nor
 * across a message on stderr), so a stuck output (a full disk, a pipe that
 * is not read, a hung NFS mount) cannot stall capture or aggregation.
 *
 * Invariants:
 * - A batch is written whole or not at all: it is queued whole, and the
 *   write callback either writes all of it or makes sure nothing of it
 *   remains (truncates back, closes the file).
 * - A batch that arrives is queued unless the output is stuck or full: it
 *   is dropped whole and counted when the batch being written has made no
 *   progress (no byte written) for stall_ns, or when max_batches batches
 *   (the one being written included) or max_bytes bytes already wait. An
 *   empty queue always takes a batch, however large. So a stuck output
 *   starts losing batches stall_ns after it stopped, while a burst of
 *   batches (the consumer catching up after it was stopped) to an output
 *   that keeps writing is queued whole. Every dropped batch is counted:
 *   stuck, full, write failed, or still waiting at exit.
 * - An incident (a run of drops) is reported once on stderr when it starts
 *   and once when the output writes again, never once per batch.
 * - -EPIPE from the callback (the reader went away) closes the writer: later
 *   batches are refused with -EPIPE, uncounted, so the run can end quietly. */
#ifndef FB_WRITER_H
#define FB_WRITER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define FB_WRITER_MAX_BATCHES 64 /* per output, the one being written included */
#define FB_WRITER_MAX_BYTES (128u << 20)
#define FB_WRITER_STALL_MS 2000 /* at least; outputs use 2 batch intervals if longer */
#define FB_WRITER_EXIT_WAIT_MS 2000 /* at exit, per output, for what is queued */

/* One batch's bytes on their way to the writer thread. */
struct fb_wbatch {
	char *data;
	size_t len, cap;
	uint64_t number; /* batch number */
	int64_t start_ns, end_ns; /* its window, Unix epoch ns */
	struct fb_wbatch *next;
};

struct fb_writer_opts {
	const char *name; /* in messages: "stdout", a path */
	uint32_t max_batches; /* 0: FB_WRITER_MAX_BATCHES */
	size_t max_bytes; /* 0: FB_WRITER_MAX_BYTES */
	uint64_t stall_ns; /* 0: FB_WRITER_STALL_MS */
	/* On the writer thread: writes b whole, or leaves nothing of it.
	 * 0, or -errno with a reason for stderr in why (left empty: the
	 * errno's text). */
	int (*write)(void *ctx, const struct fb_wbatch *b, char *why, size_t whylen);
	/* On the writer thread, between two batches: SIGHUP's reopen (may be
	 * NULL). */
	void (*reopen)(void *ctx);
	void *ctx;
};

struct fb_writer_stats {
	uint64_t written; /* batches written whole */
	uint64_t dropped; /* batches dropped whole, for any reason */
	uint64_t failed; /* of those: the write failed (not the queue) */
	uint32_t queued; /* waiting now, the one being written included */
	bool closed; /* the reader went away (EPIPE) */
};

struct fb_writer;

/* Starts the writer thread; NULL with errno set on failure. */
struct fb_writer *fb_writer__new(const struct fb_writer_opts *o);
/* Main thread: a stream to format the next batch into (the same stream
 * every time; its contents go to the batch commit hands over). */
FILE *fb_writer__begin(struct fb_writer *w);
/* Main thread: hands the batch formatted since begin to the writer thread,
 * or drops it when the queue is full (counted; not an error for the
 * caller). Returns 0, -EPIPE once the reader went away, or -ENOMEM when the
 * batch could not be held in memory (dropped, counted). */
int fb_writer__commit(struct fb_writer *w, uint64_t number, int64_t start_ns, int64_t end_ns);
/* Main thread: the writer thread calls opts.reopen before its next batch. */
void fb_writer__reopen(struct fb_writer *w);
void fb_writer__stats(struct fb_writer *w, struct fb_writer_stats *s);
/* Waits up to wait_ms for queued batches to be written, counts the rest
 * as dropped (one line on stderr), stops the thread and frees. NULL-safe.
 * A thread stuck in a system call that cannot be cancelled is left behind
 * (with its memory) rather than waited for. Returns true when everything
 * was freed. */
bool fb_writer__free(struct fb_writer *w, unsigned wait_ms);

/* For write callbacks: blocking system calls during which fb_writer__free
 * may cancel the thread (it runs with cancellation off otherwise). */
int fb_writer_io_write(int fd, const void *p, size_t n); /* all of it: 0 or -errno */
int fb_writer_io_pwrite(int fd, const void *p, size_t n, off_t off);
int fb_writer_io_open(const char *path, int flags, mode_t mode); /* fd or -errno */

/* The stall_ns an output of this batch interval uses: 2 intervals, at
 * least FB_WRITER_STALL_MS. */
uint64_t fb_writer_stall_ns(uint64_t interval_ns);

#endif

/* A reader of a BPF ring buffer map, mmapped directly. libbpf 1.1 has no
 * bounded consume; this one copies records out in chunks and publishes the
 * consumer position once per chunk, not once per record, so producers and
 * the consumer do not trade the position's cache line on every packet. */
#ifndef FB_RING_H
#define FB_RING_H
#include <stdbool.h>
#include <stdint.h>
#include "flowbatch/record.h"

struct fb_ring;

/* Called with up to FB_RING_CHUNK records copied out of the ring; the ring
 * space is already released. Returns 0, or <0 to stop the drain. */
typedef int (*fb_ring_fn)(void *ctx, const struct fb_pkt *recs, uint32_t n);

#define FB_RING_CHUNK 256

struct fb_ring *fb_ring__new(int map_fd, uint64_t size);
void fb_ring__free(struct fb_ring *r);
int fb_ring__fd(const struct fb_ring *r);
/* Bytes waiting to be read. */
uint64_t fb_ring__avail(const struct fb_ring *r);
/* Reads everything committed so far (at most max records; 0 = no limit).
 * Returns the number of records read, or the callback's negative code. */
int64_t fb_ring__drain(struct fb_ring *r, fb_ring_fn fn, void *ctx, uint64_t max);
/* The same, but stops before the first packet record stamped at or after
 * ts_limit (a ring filled by one CPU is in time order), leaving it in the
 * ring; *blocked tells whether that happened. With one ring per CPU, the
 * consumer drains every ring up to a batch horizon before closing a batch,
 * so batch assignment by event time stays exact across rings. */
int64_t fb_ring__drain_until(struct fb_ring *r, fb_ring_fn fn, void *ctx, uint64_t max,
			     uint64_t ts_limit, bool *blocked);

#endif

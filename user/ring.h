/* A reader of a BPF ring buffer map, mmapped directly. libbpf 1.1 has no
 * bounded consume; this one copies records out in chunks and publishes the
 * consumer position once per chunk, not once per record, so producers and
 * the consumer do not trade the position's cache line on every packet.
 *
 * Records are typed: every record starts with struct fb_rec_hdr. The reader
 * hands each run of consecutive records of one type to that type's handler
 * (a table indexed by type), in ring order, so records of different types
 * keep their relative order. A record whose type has no handler, whose
 * length differs from its handler's, or that is shorter than the header is
 * never copied or dropped silently: it goes to the `bad` callback, which
 * counts it. Records the producer discarded (DISCARD bit) are skipped: the
 * producer's sequence numbers show them as lost. */
#ifndef FB_RING_H
#define FB_RING_H
#include <stdbool.h>
#include <stdint.h>
#include "flowbatch/record.h"

struct fb_ring;

/* Called with n (1 .. FB_RING_CHUNK) records of one type, each exactly the
 * handler's len bytes, packed back to back and 8-byte aligned, already
 * copied out of the ring (its space is released). Returns 0, or <0 to stop
 * the drain with that code. */
typedef int (*fb_rec_fn)(void *ctx, const void *recs, uint32_t n);
/* A record no handler takes: type 0 or unknown, wrong length, or shorter
 * than struct fb_rec_hdr (then type is 0). rec points at its len bytes, in
 * the ring (valid during the call only); len is its size in the ring. It is
 * called after the run of records before it went to its handler. */
typedef void (*fb_bad_rec_fn)(void *ctx, uint8_t type, uint32_t len, const void *rec);

/* fb_ring__new* fail with EINVAL unless each len is 0 or a multiple of 8
 * in sizeof(struct fb_rec_hdr) .. FB_RING_MAX_REC with fn set, and type 0
 * (never written) has none. A record is taken when its size in the ring
 * and its header's len both equal its type's len. */
struct fb_rec_handler {
	uint16_t len; /* exact record length; 0 = no handler for this type */
	fb_rec_fn fn;
	void *ctx;
};

struct fb_ring_handlers {
	struct fb_rec_handler by_type[FB_REC_TYPES];
	fb_bad_rec_fn bad; /* may be NULL: then only fb_ring__bad() counts */
	void *bad_ctx;
};

#define FB_RING_CHUNK 256
#define FB_RING_MAX_REC 256 /* longest record length a handler may declare */

/* Maps the ring of a BPF_MAP_TYPE_RINGBUF map of size bytes (a power of two).
 * The handlers are copied. NULL with errno set on failure. */
struct fb_ring *fb_ring__new(int map_fd, uint64_t size, const struct fb_ring_handlers *h);
/* The same over memory laid out as the kernel maps it: consumer position,
 * producer position, and size bytes of data mapped twice in a row (data and
 * data + size are the same bytes). For tests; nothing is unmapped at free. */
struct fb_ring *fb_ring__new_mem(unsigned long *consumer_pos, unsigned long *producer_pos,
				 uint8_t *data, uint64_t size, const struct fb_ring_handlers *h);
void fb_ring__free(struct fb_ring *r);
int fb_ring__fd(const struct fb_ring *r); /* -1 for a memory ring */
/* Bytes waiting to be read. */
uint64_t fb_ring__avail(const struct fb_ring *r);
/* Records handed to the bad callback so far. */
uint64_t fb_ring__bad(const struct fb_ring *r);
/* Reads everything committed so far (at most max records; 0 = no limit).
 * Returns the number of records read (bad ones included), or the first
 * negative code a handler returned. */
int64_t fb_ring__drain(struct fb_ring *r, uint64_t max);
/* The same, but stops before the first record stamped at or after ts_limit
 * (a ring filled by one CPU is in time order), leaving it in the ring;
 * *blocked tells whether that happened. With one ring per CPU, the consumer
 * drains every ring up to a batch horizon before closing a batch, so batch
 * assignment by event time stays exact across rings. Bad records do not
 * block (their time cannot be trusted). */
int64_t fb_ring__drain_until(struct fb_ring *r, uint64_t max, uint64_t ts_limit, bool *blocked);

#endif

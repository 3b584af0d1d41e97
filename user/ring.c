/* Ring buffer reader: the kernel's layout is a consumer page (rw), then a
 * producer page and the data area mapped twice (ro), so a record that wraps
 * reads as contiguous memory. Each record has an 8-byte header: length with
 * BUSY and DISCARD bits, then a page offset; records are 8-byte aligned. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/bpf.h>
#include "ring.h"

#define LEN_MASK (~(uint32_t)(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT))

struct fb_ring {
	unsigned long *consumer_pos;
	unsigned long *producer_pos;
	uint8_t *data;
	uint64_t mask;
	uint64_t size;
	uint64_t bad;
	uint32_t head_mask; /* see head_word() */
	size_t page; /* 0: memory ring, nothing to unmap */
	int fd;
	struct fb_ring_handlers h;
	/* FB_RING_CHUNK records of the longest handled type */
	uint8_t chunk[] __attribute__((aligned(64)));
};

/* The first 4 bytes of a record's header (type, flags, len), for comparing
 * type and len in one go; head_mask keeps all but flags. */
static inline uint32_t head_word(const struct fb_rec_hdr *h)
{
	uint32_t w;

	memcpy(&w, h, sizeof(w));
	return w;
}

/* Checks the handler table and returns the longest record length, or 0 when
 * the table is unusable. Type 0 is never written, so it cannot have a
 * handler; lengths are multiples of 8 (every record holds a __u64) so that
 * records packed back to back in the chunk stay 8-byte aligned. */
static uint32_t check_handlers(const struct fb_ring_handlers *h)
{
	uint32_t t, longest = sizeof(struct fb_rec_hdr);

	if (!h || h->by_type[0].len)
		return 0;
	for (t = 1; t < FB_REC_TYPES; t++) {
		const struct fb_rec_handler *x = &h->by_type[t];

		if (!x->len)
			continue;
		if (!x->fn || x->len < sizeof(struct fb_rec_hdr) || x->len > FB_RING_MAX_REC ||
		    x->len % 8)
			return 0;
		if (x->len > longest)
			longest = x->len;
	}
	return longest;
}

static struct fb_ring *ring_alloc(uint64_t size, const struct fb_ring_handlers *h)
{
	uint32_t longest = check_handlers(h);
	size_t bytes;
	struct fb_ring *r;

	if (!longest || !size || (size & (size - 1))) {
		errno = EINVAL;
		return NULL;
	}
	bytes = sizeof(*r) + (size_t)FB_RING_CHUNK * longest;
	bytes = (bytes + 63) & ~(size_t)63; /* aligned_alloc wants a multiple */
	r = aligned_alloc(64, bytes);
	if (!r)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->size = size;
	r->mask = size - 1;
	r->fd = -1;
	r->h = *h;
	r->head_mask = head_word(&(struct fb_rec_hdr){ .type = 0xff, .len = 0xffff });
	return r;
}

struct fb_ring *fb_ring__new(int map_fd, uint64_t size, const struct fb_ring_handlers *h)
{
	struct fb_ring *r = ring_alloc(size, h);
	void *p;
	int e;

	if (!r)
		return NULL;
	r->fd = map_fd;
	r->page = (size_t)sysconf(_SC_PAGESIZE);
	p = mmap(NULL, r->page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED)
		goto err_free;
	r->consumer_pos = p;
	p = mmap(NULL, r->page + 2 * size, PROT_READ, MAP_SHARED, map_fd, (off_t)r->page);
	if (p == MAP_FAILED)
		goto err_unmap_consumer;
	r->producer_pos = p;
	r->data = (uint8_t *)p + r->page;
	return r;
err_unmap_consumer:
	e = errno;
	munmap(r->consumer_pos, r->page);
	errno = e;
err_free:
	free(r);
	return NULL;
}

struct fb_ring *fb_ring__new_mem(unsigned long *consumer_pos, unsigned long *producer_pos,
				 uint8_t *data, uint64_t size, const struct fb_ring_handlers *h)
{
	struct fb_ring *r;

	if (!consumer_pos || !producer_pos || !data) {
		errno = EINVAL;
		return NULL;
	}
	r = ring_alloc(size, h);
	if (!r)
		return NULL;
	r->consumer_pos = consumer_pos;
	r->producer_pos = producer_pos;
	r->data = data;
	return r;
}

void fb_ring__free(struct fb_ring *r)
{
	if (!r)
		return;
	if (r->page) {
		munmap(r->consumer_pos, r->page);
		munmap(r->producer_pos, r->page + 2 * r->size);
	}
	free(r);
}

int fb_ring__fd(const struct fb_ring *r)
{
	return r->fd;
}

uint64_t fb_ring__avail(const struct fb_ring *r)
{
	return __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE) -
	       __atomic_load_n(r->consumer_pos, __ATOMIC_RELAXED);
}

uint64_t fb_ring__bad(const struct fb_ring *r)
{
	return r->bad;
}

int64_t fb_ring__drain(struct fb_ring *r, uint64_t max)
{
	bool blocked;

	return fb_ring__drain_until(r, max, UINT64_MAX, &blocked);
}

/* memcpy of a constant length compiles to a few moves; of a variable one,
 * to a call: about 1 ns more per record, a third of a drain from a ring in
 * cache. Records are short multiples of 8: name the lengths up to 128 so
 * each becomes a (well predicted) jump to inline moves. */
static inline void copy_rec(uint8_t *dst, const void *src, uint32_t len)
{
	switch (len) {
#define COPY_CASE(n)                   \
	case n:                        \
		memcpy(dst, src, n);   \
		return;
	COPY_CASE(24) COPY_CASE(32) COPY_CASE(40) COPY_CASE(48) COPY_CASE(56)
	COPY_CASE(64) COPY_CASE(72) COPY_CASE(80) COPY_CASE(88) COPY_CASE(96)
	COPY_CASE(104) COPY_CASE(112) COPY_CASE(120) COPY_CASE(128)
#undef COPY_CASE
	default:
		memcpy(dst, src, len);
	}
}

/* Why a run of records ended. */
enum run_end {
	RUN_FULL,    /* chunk full, max reached, or the next record is another type */
	RUN_BAD,     /* the next record is bad; hand it over after the run */
	RUN_EMPTY,   /* caught up with the producer */
	RUN_BUSY,    /* the next record is still being written */
	RUN_BLOCKED, /* the next record is at or past ts_limit */
};

/* The drain is a sequence of runs. A run starts at the first record of some
 * type and copies that record and every following one of the same type and
 * length into the chunk, skipping discarded ones, up to FB_RING_CHUNK (or
 * max). The consumer position is then published once, with release order,
 * and the run goes to its handler. A bad record is handed to the bad
 * callback only after the run before it, so the callbacks see ring order;
 * it is read in place, before the position moves past it. */
int64_t fb_ring__drain_until(struct fb_ring *r, uint64_t max, uint64_t ts_limit, bool *blocked)
{
	/* we are the only writer of consumer_pos */
	unsigned long cons = __atomic_load_n(r->consumer_pos, __ATOMIC_RELAXED);
	unsigned long prod = __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE);
	unsigned long published = cons;
	uint64_t left = max ? max : UINT64_MAX;
	int64_t total = 0;

	*blocked = false;
	while (left) {
		const struct fb_rec_handler *h = NULL;
		const struct fb_rec_hdr *rec = NULL;
		uint32_t n = 0, lim = left < FB_RING_CHUNK ? (uint32_t)left : FB_RING_CHUNK;
		uint32_t sz = 0, rlen = 0, key = 0;
		uint8_t type = 0, *out = r->chunk;
		enum run_end end = RUN_FULL;
		int err;

		while (n < lim) {
			const uint32_t *kh;
			uint32_t w;

			if (cons == prod) { /* caught up: look again once, records may have landed */
				prod = __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE);
				if (cons == prod) {
					end = RUN_EMPTY;
					break;
				}
			}
			kh = (const uint32_t *)(r->data + (cons & r->mask));
			/* pairs with the producer's release of the committed length:
			 * the record's bytes are visible once BUSY reads clear */
			w = __atomic_load_n(kh, __ATOMIC_ACQUIRE);
			rec = (const struct fb_rec_hdr *)(kh + 2);
			/* The common case, in two compares: one more record of the
			 * run's type and length, committed (no BUSY or DISCARD bit
			 * in w), its own header agreeing. */
			if (!n || w != rlen || (head_word(rec) & r->head_mask) != key) {
				if (w & BPF_RINGBUF_BUSY_BIT) {
					end = RUN_BUSY;
					break;
				}
				sz = w & LEN_MASK;
				if (w & BPF_RINGBUF_DISCARD_BIT) {
					cons += (BPF_RINGBUF_HDR_SZ + sz + 7) & ~7ul;
					continue;
				}
				if (n) /* another type or length: the run ends here */
					break;
				type = sz >= sizeof(*rec) ? rec->type : 0;
				h = type < FB_REC_TYPES ? &r->h.by_type[type] : NULL;
				rlen = h ? h->len : 0;
				if (!rlen || sz != rlen || rec->len != rlen) {
					end = RUN_BAD;
					break;
				}
				key = head_word(rec) & r->head_mask;
			}
			if (rec->ts_ns >= ts_limit) {
				end = RUN_BLOCKED;
				break;
			}
			copy_rec(out, rec, rlen);
			out += rlen;
			n++;
			cons += BPF_RINGBUF_HDR_SZ + rlen; /* rlen is a multiple of 8 */
		}

		if (cons != published) {
			__atomic_store_n(r->consumer_pos, cons, __ATOMIC_RELEASE);
			published = cons;
		}
		if (n) {
			err = h->fn(h->ctx, r->chunk, n);
			total += n;
			left -= n;
			if (err < 0)
				return err;
		}
		switch (end) {
		case RUN_FULL:
			break;
		case RUN_BAD: /* n is 0: a bad record always starts a run */
			r->bad++;
			if (r->h.bad)
				r->h.bad(r->h.bad_ctx, type, sz, rec);
			cons += (BPF_RINGBUF_HDR_SZ + sz + 7) & ~7ul;
			total++;
			left--;
			break;
		case RUN_BLOCKED:
			*blocked = true;
			return total;
		case RUN_EMPTY:
		case RUN_BUSY:
			/* the handler took time: more may be committed by now */
			if (!n)
				return total;
			break;
		}
	}
	if (cons != published)
		__atomic_store_n(r->consumer_pos, cons, __ATOMIC_RELEASE);
	return total;
}

/* Ring buffer reader: the kernel's layout is a consumer page (rw), then a
 * producer page and the data area mapped twice (ro), so a record that wraps
 * reads as contiguous memory. Each record has an 8-byte header: length with
 * BUSY and DISCARD bits, then a page offset. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/bpf.h>
#include "ring.h"

struct fb_ring {
	int fd;
	uint64_t mask;
	size_t page;
	unsigned long *consumer_pos;
	unsigned long *producer_pos;
	uint8_t *data;
	uint64_t size;
	struct fb_pkt chunk[FB_RING_CHUNK];
};

struct fb_ring *fb_ring__new(int map_fd, uint64_t size)
{
	struct fb_ring *r = calloc(1, sizeof(*r));
	void *p;

	if (!r)
		return NULL;
	r->fd = map_fd;
	r->size = size;
	r->mask = size - 1;
	r->page = (size_t)sysconf(_SC_PAGESIZE);
	p = mmap(NULL, r->page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED)
		goto err_free;
	r->consumer_pos = p;
	p = mmap(NULL, r->page + 2 * size, PROT_READ, MAP_SHARED, map_fd, (off_t)r->page);
	if (p == MAP_FAILED) {
		int e = errno;

		munmap(r->consumer_pos, r->page);
		errno = e;
		goto err_free;
	}
	r->producer_pos = p;
	r->data = (uint8_t *)p + r->page;
	return r;
err_free:
	free(r);
	return NULL;
}

void fb_ring__free(struct fb_ring *r)
{
	if (!r)
		return;
	munmap(r->consumer_pos, r->page);
	munmap(r->producer_pos, r->page + 2 * r->size);
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

int64_t fb_ring__drain(struct fb_ring *r, fb_ring_fn fn, void *ctx, uint64_t max)
{
	bool blocked;

	return fb_ring__drain_until(r, fn, ctx, max, UINT64_MAX, &blocked);
}

int64_t fb_ring__drain_until(struct fb_ring *r, fb_ring_fn fn, void *ctx, uint64_t max,
			     uint64_t ts_limit, bool *blocked)
{
	unsigned long cons = __atomic_load_n(r->consumer_pos, __ATOMIC_RELAXED);
	unsigned long prod = __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE);
	int64_t total = 0;
	uint32_t n = 0;
	int err;

	*blocked = false;

	for (;;) {
		if (cons == prod) /* caught up: look again once, records may have landed */
			prod = __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE);
		if (cons < prod && (!max || (uint64_t)total + n < max)) {
			const uint32_t *hdr = (const uint32_t *)(r->data + (cons & r->mask));
			uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);

			if (!(len & BPF_RINGBUF_BUSY_BIT)) {
				uint32_t sz = len & ~(uint32_t)(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);

				const struct fb_pkt *p = (const struct fb_pkt *)(hdr + 2);
				bool pkt = !(len & BPF_RINGBUF_DISCARD_BIT) && sz >= sizeof(struct fb_pkt);

				if (pkt && p->ts_ns >= ts_limit) {
					*blocked = true;
				} else {
					if (pkt)
						memcpy(&r->chunk[n++], p, sizeof(struct fb_pkt));
					cons += (BPF_RINGBUF_HDR_SZ + sz + 7) & ~7ul;
					if (n < FB_RING_CHUNK)
						continue;
				}
			}
		}
		/* chunk full, caught up, or the next record is still being written */
		__atomic_store_n(r->consumer_pos, cons, __ATOMIC_RELEASE);
		if (!n)
			return total;
		err = fn(ctx, r->chunk, n);
		total += n;
		n = 0;
		if (err < 0)
			return err;
		if (cons == prod || (max && (uint64_t)total >= max))
			prod = __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE);
		if (cons == prod || *blocked || (max && (uint64_t)total >= max))
			return total;
		{
			const uint32_t *hdr = (const uint32_t *)(r->data + (cons & r->mask));

			if (__atomic_load_n(hdr, __ATOMIC_ACQUIRE) & BPF_RINGBUF_BUSY_BIT)
				return total;
		}
	}
}

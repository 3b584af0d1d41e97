/* The ring reader (user/ring.c) on a fake of the kernel's mapped layout: a
 * memfd mapped twice back to back, so a record that wraps is read through
 * the second mapping exactly as from a BPF ring buffer, and a producer that
 * writes records the way kernel/bpf/ringbuf.c does (8-byte header with the
 * BUSY/DISCARD bits, producer_pos advanced at reserve, commit clears BUSY). */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/bpf.h>
#include "helpers.h"
#include "ring.h"

#define EV_TYPE 2 /* a second record family for the tests: 32 bytes */
struct ev {
	struct fb_rec_hdr h;
	uint64_t x;
};
_Static_assert(sizeof(struct ev) == 32, "ev layout");

#define SLOT_PKT (BPF_RINGBUF_HDR_SZ + sizeof(struct fb_pkt)) /* 80 */
#define SLOT_EV (BPF_RINGBUF_HDR_SZ + sizeof(struct ev))      /* 40 */
#define MAX_LOG 8192

/* ---- the fake ring ---------------------------------------------------- */

static struct {
	unsigned long cons, prod; /* the two position pages */
	uint8_t *data;            /* size bytes, then the same bytes again */
	uint64_t size;
	struct fb_ring *r;
} F;

/* What the handlers saw, in call order: one entry per record. */
struct seen {
	uint8_t type;
	uint32_t call;   /* which handler call (from 1) delivered it */
	uint32_t n;      /* records in that call */
	uint32_t seq;
	uint32_t len;    /* bad records: their size in the ring */
	bool bad;
	unsigned long cons_at_call; /* consumer_pos as the handler saw it */
};

static struct seen log_[MAX_LOG];
static uint32_t nlog, ncalls;
static int fail_at_call;   /* handler call that returns -EIO; 0 = none */
static uint32_t produce_in_call; /* handler call that writes one more record */
static void put_pkt(uint32_t seq, uint64_t ts);
static uint64_t bad_calls; /* calls of the bad callback */
static uint8_t first_pkt[sizeof(struct fb_pkt)]; /* bytes of the first packet delivered */

static void push(uint8_t type, uint32_t n, uint32_t seq, uint32_t len, bool bad)
{
	cr_assert_lt(nlog, MAX_LOG);
	log_[nlog++] = (struct seen){ .type = type, .call = ncalls, .n = n, .seq = seq, .len = len,
				      .bad = bad,
				      .cons_at_call = __atomic_load_n(&F.cons, __ATOMIC_ACQUIRE) };
}

static int on_recs(void *ctx, const void *recs, uint32_t n, uint8_t type, size_t len)
{
	const uint8_t *p = recs;
	uint32_t i;

	ncalls++;
	cr_assert(n >= 1 && n <= FB_RING_CHUNK, "handler called with %u records", n);
	cr_assert_eq((uintptr_t)recs % 8, 0, "records not 8-byte aligned");
	for (i = 0; i < n; i++, p += len) {
		const struct fb_rec_hdr *h = (const void *)p;

		cr_assert_eq(h->type, type, "record %u of a run: type %u in the type-%u handler", i,
			     h->type, type);
		cr_assert_eq(h->len, len);
		if (type == FB_REC_PKT && !nlog)
			memcpy(first_pkt, p, len);
		push(h->type, n, h->seq, h->len, false);
	}
	if (produce_in_call && produce_in_call == ncalls)
		put_pkt(1000 + ncalls, 1000);
	return (int)ncalls == fail_at_call ? -EIO : 0;
}

static int on_pkt(void *ctx, const void *recs, uint32_t n)
{
	cr_assert_eq(ctx, &F, "handler context not passed through");
	return on_recs(ctx, recs, n, FB_REC_PKT, sizeof(struct fb_pkt));
}

static int on_ev(void *ctx, const void *recs, uint32_t n)
{
	return on_recs(ctx, recs, n, EV_TYPE, sizeof(struct ev));
}

static void on_bad(void *ctx, uint8_t type, uint32_t len, const void *rec)
{
	const struct fb_rec_hdr *h = rec;

	cr_assert_eq(ctx, &bad_calls);
	bad_calls++;
	/* the bytes are still readable: the position has not moved past them */
	push(type, 0, len >= sizeof(*h) ? h->seq : 0, len, true);
}

static struct fb_ring_handlers handlers(void)
{
	struct fb_ring_handlers h = { 0 };

	h.by_type[FB_REC_PKT] = (struct fb_rec_handler){ sizeof(struct fb_pkt), on_pkt, &F };
	h.by_type[EV_TYPE] = (struct fb_rec_handler){ sizeof(struct ev), on_ev, NULL };
	h.bad = on_bad;
	h.bad_ctx = &bad_calls;
	return h;
}

/* size bytes of memfd mapped at data and again at data + size, inside one
 * reservation so nothing else can land in between. */
static uint8_t *map_twice(uint64_t size)
{
	int fd = memfd_create("fb_ring_test", MFD_CLOEXEC);
	uint8_t *base, *a, *b;

	cr_assert_geq(fd, 0, "memfd_create: %s", strerror(errno));
	cr_assert_eq(ftruncate(fd, (off_t)size), 0);
	base = mmap(NULL, 2 * size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(base, MAP_FAILED);
	a = mmap(base, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	b = mmap(base + size, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	cr_assert(a == base && b == base + size, "double mapping failed: %s", strerror(errno));
	close(fd);
	return base;
}

/* A ring of size bytes whose positions start at pos (free-running, as the
 * kernel's: only their low bits address the data). */
static void fake_open_at(uint64_t size, unsigned long pos)
{
	struct fb_ring_handlers h = handlers();

	F.size = size;
	F.data = map_twice(size);
	F.cons = F.prod = pos;
	F.r = fb_ring__new_mem(&F.cons, &F.prod, F.data, size, &h);
	cr_assert_not_null(F.r, "fb_ring__new_mem: %s", strerror(errno));
}

static void fake_open(uint64_t size)
{
	fake_open_at(size, 0);
}

static void fake_close(void)
{
	fb_ring__free(F.r);
	if (F.data)
		munmap(F.data, 2 * F.size);
	memset(&F, 0, sizeof(F));
	nlog = ncalls = 0;
	fail_at_call = 0;
	produce_in_call = 0;
	bad_calls = 0;
}

/* bpf_ringbuf_reserve: header (len | BUSY, page offset), then producer_pos
 * moves past the 8-byte aligned slot; the record's bytes follow. */
static void *reserve(uint32_t len)
{
	unsigned long slot = (BPF_RINGBUF_HDR_SZ + len + 7) & ~7ul;
	uint32_t *hdr;

	cr_assert_leq(F.prod + slot - F.cons, F.size, "test bug: the fake ring is full");
	hdr = (uint32_t *)(F.data + (F.prod & (F.size - 1)));
	hdr[0] = len | BPF_RINGBUF_BUSY_BIT;
	/* the kernel's offset of the header, in pages, from its ring
	 * struct (two position pages before the data); the reader ignores it */
	hdr[1] = (uint32_t)(((F.prod & (F.size - 1)) >> 12) + 2);
	__atomic_store_n(&F.prod, F.prod + slot, __ATOMIC_RELEASE);
	return hdr + 2;
}

/* bpf_ringbuf_submit / _discard: one atomic write of the length word */
static void commit(void *rec)
{
	uint32_t *hdr = (uint32_t *)rec - 2;

	__atomic_store_n(hdr, hdr[0] & ~(uint32_t)BPF_RINGBUF_BUSY_BIT, __ATOMIC_RELEASE);
}

static void discard(void *rec)
{
	uint32_t *hdr = (uint32_t *)rec - 2;
	uint32_t len = hdr[0] & ~(uint32_t)BPF_RINGBUF_BUSY_BIT;

	__atomic_store_n(hdr, len | BPF_RINGBUF_DISCARD_BIT, __ATOMIC_RELEASE);
}

static struct fb_pkt pkt(uint32_t seq, uint64_t ts)
{
	struct fb_pkt p = mkpkt(0, seq, ts, (uint16_t)(1000 + seq), 60 + seq);

	p.len = sizeof(p);
	p.segs = 1;
	p.skb_len = p.wire_len;
	return p;
}

static void *put_pkt_busy(uint32_t seq, uint64_t ts)
{
	struct fb_pkt p = pkt(seq, ts);
	void *rec = reserve(sizeof(p));

	memcpy(rec, &p, sizeof(p));
	return rec;
}

static void put_pkt(uint32_t seq, uint64_t ts)
{
	commit(put_pkt_busy(seq, ts));
}

static void put_ev(uint32_t seq, uint64_t ts)
{
	struct ev e = { .h = { .type = EV_TYPE, .len = sizeof(e), .seq = seq, .ts_ns = ts },
			.x = 0x1122334455667788ull };
	void *rec = reserve(sizeof(e));

	memcpy(rec, &e, sizeof(e));
	commit(rec);
}

/* any bytes, committed: for records that are malformed on purpose */
static void put_raw(const void *b, uint32_t len)
{
	void *rec = reserve(len);

	memcpy(rec, b, len);
	commit(rec);
}

static int64_t drain(uint64_t max)
{
	return fb_ring__drain(F.r, max);
}

static void expect_seqs(uint32_t from, const uint32_t *seqs, uint32_t n)
{
	uint32_t i;

	cr_assert_geq(nlog, from + n, "records delivered: %u, want at least %u", nlog, from + n);
	for (i = 0; i < n; i++)
		cr_expect_eq(log_[from + i].seq, seqs[i], "record %u: seq %u, want %u", from + i,
			     log_[from + i].seq, seqs[i]);
}

TestSuite(ring, .fini = fake_close);

/* ---- the cases ------------------------------------------------------- */

Test(ring, empty_ring_reads_nothing)
{
	fake_open(4096);
	cr_expect_eq(drain(0), 0);
	cr_expect_eq(ncalls, 0);
	cr_expect_eq(F.cons, 0);
	cr_expect_eq(fb_ring__avail(F.r), 0);
	cr_expect_eq(fb_ring__bad(F.r), 0);
	cr_expect_eq(fb_ring__fd(F.r), -1);
}

Test(ring, one_record_copied_exactly_and_released)
{
	struct fb_pkt want = pkt(7, 123);

	fake_open(4096);
	put_pkt(7, 123);
	cr_expect_eq(fb_ring__avail(F.r), SLOT_PKT);
	cr_assert_eq(drain(0), 1);
	cr_assert_eq(ncalls, 1);
	cr_expect(memcmp(first_pkt, &want, sizeof(want)) == 0, "record bytes differ");
	cr_expect_eq(F.cons, SLOT_PKT, "consumer_pos %lu, want %zu", F.cons, SLOT_PKT);
	cr_expect_eq(log_[0].cons_at_call, SLOT_PKT, "space not released before the handler");
	cr_expect_eq(fb_ring__avail(F.r), 0);
	cr_expect_eq(drain(0), 0, "a record was read twice");
}

/* 1000 records: chunks of 256, 256, 256, 232; consumer_pos is published
 * once per chunk, before its handler runs, and only up to that chunk. */
Test(ring, many_records_in_chunks_of_256)
{
	uint32_t i, seqs[1000];

	fake_open(1u << 17);
	for (i = 0; i < 1000; i++) {
		put_pkt(i + 1, 1000 + i);
		seqs[i] = i + 1;
	}
	cr_assert_eq(drain(0), 1000);
	cr_assert_eq(ncalls, 4);
	expect_seqs(0, seqs, 1000);
	for (i = 0; i < 1000; i++) {
		uint32_t call = i / 256 + 1, end = call * 256 < 1000 ? call * 256 : 1000;

		cr_expect_eq(log_[i].call, call, "record %u in call %u, want %u", i, log_[i].call, call);
		cr_expect_eq(log_[i].n, call < 4 ? 256 : 232);
		cr_expect_eq(log_[i].cons_at_call, end * SLOT_PKT,
			     "call %u saw consumer_pos %lu, want %zu", call, log_[i].cons_at_call,
			     end * SLOT_PKT);
	}
	cr_expect_eq(F.cons, F.prod);
}

/* A record that starts 40 bytes before the end of the data area: its bytes
 * run through the second mapping into the start of the first. */
Test(ring, record_wrapping_past_the_end_reads_whole)
{
	struct fb_pkt want = pkt(9, 55);
	const size_t head = 40 - BPF_RINGBUF_HDR_SZ; /* record bytes before the end */

	fake_open_at(4096, 4096 * 3 - 40);
	put_pkt(9, 55);
	/* the wrap is real: the record's tail is at the start of the data */
	cr_assert(memcmp(F.data, (const uint8_t *)&want + head, sizeof(want) - head) == 0,
		  "the fake ring does not wrap");
	put_pkt(10, 56); /* and one after it, past the wrap */
	cr_assert_eq(drain(0), 2);
	cr_expect(memcmp(first_pkt, &want, sizeof(want)) == 0, "wrapped record bytes differ");
	expect_seqs(0, (uint32_t[]){ 9, 10 }, 2);
	cr_expect_eq(F.cons, 4096 * 3 - 40 + 2 * SLOT_PKT);
}

/* Positions are free-running unsigned longs; the reader must compare them
 * for equality only, so it keeps working when they wrap past 2^64. */
Test(ring, positions_wrapping_around_zero)
{
	fake_open_at(4096, ULONG_MAX - SLOT_PKT + 1);
	put_pkt(1, 1);
	put_pkt(2, 2);
	cr_assert_lt(F.prod, F.cons, "test bug: positions did not wrap");
	cr_assert_eq(drain(0), 2);
	expect_seqs(0, (uint32_t[]){ 1, 2 }, 2);
	cr_expect_eq(F.cons, F.prod);
}

/* The kernel commits out of order: a later record can be ready while an
 * earlier one is still BUSY. Nothing from the BUSY one on is read until it
 * is committed. */
Test(ring, busy_record_stops_the_drain_until_committed)
{
	void *busy;

	fake_open(4096);
	put_pkt(1, 1);
	busy = put_pkt_busy(2, 2);
	put_pkt(3, 3);
	cr_assert_eq(drain(0), 1);
	expect_seqs(0, (uint32_t[]){ 1 }, 1);
	cr_expect_eq(F.cons, SLOT_PKT, "consumer_pos moved past a BUSY record");
	cr_expect_eq(drain(0), 0, "read past a BUSY record");
	commit(busy);
	cr_assert_eq(drain(0), 2);
	expect_seqs(1, (uint32_t[]){ 2, 3 }, 2);
	cr_expect_eq(F.cons, F.prod);
}

/* A discarded record is skipped without ending the run or counting as read
 * or bad; its space is still given back. */
Test(ring, discarded_records_skipped)
{
	void *d;

	fake_open(4096);
	put_pkt(1, 1);
	d = put_pkt_busy(2, 2);
	discard(d);
	put_pkt(3, 3);
	cr_assert_eq(drain(0), 2);
	cr_expect_eq(ncalls, 1, "a discarded record split the run");
	expect_seqs(0, (uint32_t[]){ 1, 3 }, 2);
	cr_expect_eq(fb_ring__bad(F.r), 0);
	cr_expect_eq(F.cons, 3 * SLOT_PKT);

	/* only discarded records: nothing read, the space still released */
	discard(put_pkt_busy(4, 4));
	cr_expect_eq(drain(0), 0);
	cr_expect_eq(F.cons, F.prod);
}

/* Shorter than struct fb_rec_hdr: bad with type 0; the next record reads. */
Test(ring, short_record_is_bad)
{
	uint8_t b[16] = { FB_REC_PKT, 0, sizeof(struct fb_pkt) };

	fake_open(4096);
	put_raw(b, sizeof(b));
	put_pkt(2, 2);
	cr_assert_eq(drain(0), 2, "bad records count as read");
	cr_assert_eq(nlog, 2);
	cr_expect(log_[0].bad && log_[0].type == 0 && log_[0].len == 16,
		  "bad callback: bad %d type %u len %u", log_[0].bad, log_[0].type, log_[0].len);
	cr_expect(!log_[1].bad && log_[1].seq == 2);
	cr_expect_eq(fb_ring__bad(F.r), 1);
	cr_expect_eq(F.cons, F.prod);
}

/* Type 0, a type without a handler, and one past the table. */
Test(ring, unknown_types_are_bad)
{
	static const uint8_t types[] = { 0, 3, FB_REC_TYPES, 255 };
	uint32_t i;

	fake_open(4096);
	for (i = 0; i < sizeof(types); i++) {
		struct ev e = { .h = { .type = types[i], .len = sizeof(e), .seq = 100 + i } };

		put_raw(&e, sizeof(e));
	}
	cr_assert_eq(drain(0), 4);
	cr_expect_eq(ncalls, 0);
	cr_expect_eq(fb_ring__bad(F.r), 4);
	cr_assert_eq(nlog, 4);
	for (i = 0; i < 4; i++)
		cr_expect(log_[i].bad && log_[i].type == types[i] && log_[i].seq == 100 + i &&
				  log_[i].len == sizeof(struct ev),
			  "bad record %u: bad %d type %u seq %u len %u", i, log_[i].bad, log_[i].type,
			  log_[i].seq, log_[i].len);
	cr_expect_eq(F.cons, F.prod);
}

/* Wrong length either way (the ring's size, or the header's len field),
 * in the middle of a run and at its start. */
Test(ring, wrong_length_is_bad)
{
	uint8_t big[sizeof(struct fb_pkt) + 8];
	struct fb_pkt p = pkt(0, 0), q = pkt(0, 0);
	static const uint32_t seqs[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	static const bool bad[] = { false, true, false, true, true, true, false, true, true, false };
	static const uint32_t lens[] = { 0, 72, 0, 80, 72, 80, 0, 80, 80, 0 };
	uint32_t i;

	fake_open(4096);
	memset(big, 0, sizeof(big));
	memcpy(big, &p, sizeof(p));
	((struct fb_rec_hdr *)big)->len = sizeof(big); /* 80 bytes, header agrees */
	q.len = 64;                                    /* 72 bytes, header says 64 */

	put_pkt(1, 1);
	q.seq = 2, put_raw(&q, sizeof(q));     /* header len, mid-run */
	put_pkt(3, 3);
	((struct fb_rec_hdr *)big)->seq = 4;
	put_raw(big, sizeof(big));             /* ring size, mid-run */
	q.seq = 5, put_raw(&q, sizeof(q));     /* header len, at a run's start */
	((struct fb_rec_hdr *)big)->seq = 6;
	put_raw(big, sizeof(big));             /* ring size, at a run's start */
	put_pkt(7, 7);
	/* 80 bytes in the ring, the header says 72: the ring size decides */
	((struct fb_rec_hdr *)big)->len = sizeof(struct fb_pkt);
	((struct fb_rec_hdr *)big)->seq = 8;
	put_raw(big, sizeof(big)); /* mid-run */
	((struct fb_rec_hdr *)big)->seq = 9;
	put_raw(big, sizeof(big)); /* at a run's start */
	put_pkt(10, 10);
	cr_assert_eq(drain(0), 10);
	cr_assert_eq(nlog, 10);
	for (i = 0; i < 10; i++) {
		cr_expect(log_[i].seq == seqs[i] && log_[i].bad == bad[i],
			  "record %u: seq %u bad %d, want seq %u bad %d", i, log_[i].seq, log_[i].bad,
			  seqs[i], bad[i]);
		if (bad[i])
			cr_expect(log_[i].type == FB_REC_PKT && log_[i].len == lens[i],
				  "bad record %u: type %u len %u", i, log_[i].type, log_[i].len);
	}
	cr_expect_eq(fb_ring__bad(F.r), 6);
	cr_expect_eq(ncalls, 4, "each bad record ends the run before it");
	cr_expect_eq(F.cons, F.prod);
}

/* Without a bad callback the reader still counts, and goes on. */
Test(ring, bad_counted_without_callback)
{
	struct fb_ring_handlers h = handlers();
	struct ev e = { .h = { .type = 6, .len = sizeof(e) } };

	fake_open(4096);
	fb_ring__free(F.r);
	h.bad = NULL;
	F.r = fb_ring__new_mem(&F.cons, &F.prod, F.data, F.size, &h);
	cr_assert_not_null(F.r);
	put_raw(&e, sizeof(e));
	put_pkt(1, 1);
	cr_assert_eq(drain(0), 2);
	cr_expect_eq(fb_ring__bad(F.r), 1);
	cr_expect_eq(bad_calls, 0);
	expect_seqs(0, (uint32_t[]){ 1 }, 1);
}

/* P P E P E E P: each run goes to its own handler, in ring order. */
Test(ring, mixed_types_keep_their_order)
{
	static const uint8_t kinds[] = { 1, 1, 2, 1, 2, 2, 1 };
	static const uint32_t runs[] = { 2, 1, 1, 2, 1 };
	uint32_t i;

	fake_open(4096);
	for (i = 0; i < sizeof(kinds); i++) {
		if (kinds[i] == FB_REC_PKT)
			put_pkt(i + 1, i);
		else
			put_ev(i + 1, i);
	}
	cr_assert_eq(drain(0), 7);
	cr_assert_eq(nlog, 7);
	cr_expect_eq(ncalls, 5);
	for (i = 0; i < 7; i++) {
		cr_expect_eq(log_[i].seq, i + 1, "record %u: seq %u", i, log_[i].seq);
		cr_expect_eq(log_[i].type, kinds[i], "record %u: type %u, want %u", i, log_[i].type,
			     kinds[i]);
		cr_expect_eq(log_[i].n, runs[log_[i].call - 1], "record %u: run of %u, want %u", i,
			     log_[i].n, runs[log_[i].call - 1]);
	}
}

/* Two types of the same length (as every record family is 72 bytes
 * today): a type change still ends the run. */
static int on_other(void *ctx, const void *recs, uint32_t n)
{
	const struct fb_rec_hdr *h = recs;
	uint32_t i;

	ncalls++;
	for (i = 0; i < n; i++, h = (const void *)((const uint8_t *)h + sizeof(struct fb_pkt))) {
		cr_assert_eq(h->type, 3, "type %u in the type-3 handler", h->type);
		push(h->type, n, h->seq, h->len, false);
	}
	return 0;
}

Test(ring, types_of_the_same_length_split_runs)
{
	struct fb_ring_handlers h = handlers();
	struct fb_pkt o = pkt(2, 2);
	uint32_t i;

	fake_open(4096);
	fb_ring__free(F.r);
	h.by_type[3] = (struct fb_rec_handler){ sizeof(struct fb_pkt), on_other, NULL };
	F.r = fb_ring__new_mem(&F.cons, &F.prod, F.data, F.size, &h);
	cr_assert_not_null(F.r);
	put_pkt(1, 1);
	o.type = 3;
	o.flags = 0xff; /* flags are the type's own business */
	put_raw(&o, sizeof(o));
	o.seq = 3;
	o.flags = 0x01; /* and differ from record to record within a run */
	put_raw(&o, sizeof(o));
	put_pkt(4, 4);
	cr_assert_eq(drain(0), 4);
	cr_expect_eq(ncalls, 3);
	cr_assert_eq(nlog, 4);
	for (i = 0; i < 4; i++)
		cr_expect(log_[i].seq == i + 1 && log_[i].type == (i == 1 || i == 2 ? 3 : FB_REC_PKT),
			  "record %u: seq %u type %u", i, log_[i].seq, log_[i].type);
	cr_expect_eq(log_[1].n, 2);
	cr_expect_eq(fb_ring__bad(F.r), 0);
}

/* A bad record between two good ones is handed over after the run before
 * it, and before the run after it. */
Test(ring, bad_record_keeps_ring_order)
{
	struct ev e = { .h = { .type = 7, .len = sizeof(e), .seq = 2 } };

	fake_open(4096);
	put_pkt(1, 1);
	put_raw(&e, sizeof(e));
	put_pkt(3, 3);
	cr_assert_eq(drain(0), 3);
	cr_assert_eq(nlog, 3);
	cr_expect(!log_[0].bad && log_[1].bad && !log_[2].bad);
	expect_seqs(0, (uint32_t[]){ 1, 2, 3 }, 3);
	/* bad handed over with the position still before it */
	cr_expect_eq(log_[1].cons_at_call, SLOT_PKT);
}

Test(ring, max_limits_the_records_read)
{
	uint32_t i;

	fake_open(1u << 16);
	for (i = 0; i < 600; i++)
		put_pkt(i + 1, i);
	cr_assert_eq(drain(3), 3);
	cr_expect_eq(F.cons, 3 * SLOT_PKT, "consumer_pos past the max'th record");
	cr_assert_eq(drain(300), 300); /* across a chunk boundary: 256 + 44 */
	cr_expect_eq(ncalls, 3);
	cr_expect_eq(log_[302].seq, 303);
	cr_assert_eq(drain(0), 297);
	cr_expect_eq(log_[599].seq, 600);
	cr_expect_eq(F.cons, F.prod);
}

/* Bad records count towards max like any other. */
Test(ring, max_counts_bad_records)
{
	struct ev e = { .h = { .type = 5, .len = sizeof(e) } };

	fake_open(4096);
	put_raw(&e, sizeof(e));
	put_pkt(2, 2);
	put_pkt(3, 3);
	put_pkt(4, 4);
	cr_assert_eq(drain(1), 1);
	cr_expect_eq(fb_ring__bad(F.r), 1);
	cr_expect_eq(ncalls, 0);
	cr_expect_eq(F.cons, SLOT_EV, "consumer_pos not past the bad record");
	cr_assert_eq(drain(2), 2);
	expect_seqs(1, (uint32_t[]){ 2, 3 }, 2);
	cr_assert_eq(drain(0), 1);
	expect_seqs(3, (uint32_t[]){ 4 }, 1);
}

/* Records are in time order per ring: the drain stops before the first one
 * at or after ts_limit and leaves it in the ring; bad records never block. */
Test(ring, ts_limit_blocks_at_the_first_later_record)
{
	struct ev e = { .h = { .type = 4, .len = sizeof(e), .ts_ns = 999 } };
	bool blocked = false;

	fake_open(4096);
	put_pkt(1, 10);
	put_raw(&e, sizeof(e)); /* bad, with a time past the limit */
	put_pkt(3, 20);
	put_ev(4, 30);
	put_pkt(5, 40);
	cr_assert_eq(fb_ring__drain_until(F.r, 0, 30, &blocked), 3);
	cr_expect(blocked, "not blocked at a record stamped at the limit");
	cr_expect_eq(fb_ring__bad(F.r), 1);
	cr_expect_eq(F.cons, 2 * SLOT_PKT + SLOT_EV, "the blocking record was taken");
	/* the same limit again: still blocked, nothing read */
	cr_expect_eq(fb_ring__drain_until(F.r, 0, 30, &blocked), 0);
	cr_expect(blocked);
	cr_assert_eq(fb_ring__drain_until(F.r, 0, 100, &blocked), 2);
	cr_expect(!blocked, "blocked with every record below the limit");
	expect_seqs(3, (uint32_t[]){ 4, 5 }, 2); /* after 1, the bad one, 3 */
	cr_expect_eq(F.cons, F.prod);
}

/* A record committed while a handler runs (the producer on another CPU)
 * is read by the same drain: it looks at producer_pos again. */
Test(ring, records_committed_during_the_handler_are_read)
{
	fake_open(4096);
	put_pkt(1, 1);
	produce_in_call = 1;
	cr_assert_eq(drain(0), 2);
	expect_seqs(0, (uint32_t[]){ 1, 1001 }, 2);
	cr_expect_eq(F.cons, F.prod);
}

/* A handler's negative code ends the drain at once; its records are
 * already released, the rest stay in the ring for the next drain. */
Test(ring, handler_error_stops_the_drain)
{
	uint32_t i;

	fake_open(1u << 16);
	for (i = 0; i < 300; i++)
		put_pkt(i + 1, i);
	fail_at_call = 1;
	cr_assert_eq(drain(0), -EIO);
	cr_expect_eq(ncalls, 1);
	cr_expect_eq(F.cons, 256 * SLOT_PKT);
	cr_assert_eq(drain(0), 44);
	cr_expect_eq(log_[256].seq, 257);
	cr_expect_eq(F.cons, F.prod);
}

/* A ring whose records were all produced while the reader was away wraps
 * many times over: the reader gives them back in order, each exactly once. */
Test(ring, long_run_through_many_wraps)
{
	uint32_t i, seq = 0, got = 0;

	fake_open(4096);
	for (i = 0; i < 200; i++) {
		uint32_t k, n = 1 + i % 50; /* 50 records = 4000 bytes: fits */

		for (k = 0; k < n; k++, seq++) {
			if (seq % 3)
				put_pkt(seq, seq);
			else
				put_ev(seq, seq);
		}
		got += (uint32_t)drain(0);
	}
	cr_assert_eq(got, seq);
	cr_assert_eq(nlog, seq);
	cr_assert_gt(seq * SLOT_EV / F.size, 40, "test bug: too few wraps");
	for (i = 0; i < nlog; i++)
		cr_assert_eq(log_[i].seq, i, "record %u: seq %u", i, log_[i].seq);
	cr_expect_eq(fb_ring__bad(F.r), 0);
}

/* ---- constructor checks ---------------------------------------------- */

static void expect_einval(const struct fb_ring_handlers *h, uint64_t size, const char *what)
{
	unsigned long c = 0, p = 0;
	static uint8_t data[8192];
	struct fb_ring *r;

	errno = 0;
	r = fb_ring__new_mem(&c, &p, data, size, h);
	cr_expect_null(r, "%s: accepted", what);
	cr_expect_eq(errno, EINVAL, "%s: errno %d, want EINVAL", what, errno);
	fb_ring__free(r);
}

Test(ring, constructor_rejects_bad_tables_and_sizes)
{
	struct fb_ring_handlers h;

	h = handlers();
	expect_einval(&h, 3000, "size not a power of two");
	expect_einval(&h, 0, "size 0");
	expect_einval(NULL, 4096, "no handler table");
	h = handlers();
	h.by_type[0] = (struct fb_rec_handler){ 32, on_ev, NULL };
	expect_einval(&h, 4096, "handler for type 0");
	h = handlers();
	h.by_type[3] = (struct fb_rec_handler){ 36, on_ev, NULL };
	expect_einval(&h, 4096, "length not a multiple of 8");
	h.by_type[3] = (struct fb_rec_handler){ 16, on_ev, NULL };
	expect_einval(&h, 4096, "length below the header");
	h.by_type[3] = (struct fb_rec_handler){ FB_RING_MAX_REC + 8, on_ev, NULL };
	expect_einval(&h, 4096, "length above FB_RING_MAX_REC");
	h.by_type[3] = (struct fb_rec_handler){ 32, NULL, NULL };
	expect_einval(&h, 4096, "no function");
	fb_ring__free(NULL); /* NULL-safe */
}

/* The longest record a handler may declare goes through whole chunks. */
static int on_long(void *ctx, const void *recs, uint32_t n)
{
	const uint8_t *p = recs;
	uint32_t i, k;

	ncalls++;
	for (i = 0; i < n; i++, p += FB_RING_MAX_REC) {
		const struct fb_rec_hdr *h = (const void *)p;

		for (k = sizeof(*h); k < FB_RING_MAX_REC; k++)
			cr_assert_eq(p[k], (uint8_t)h->seq, "record %u byte %u", h->seq, k);
		push(h->type, n, h->seq, h->len, false);
	}
	return 0;
}

Test(ring, longest_records_fill_a_chunk)
{
	struct fb_ring_handlers h = { 0 };
	uint8_t rec[FB_RING_MAX_REC];
	uint32_t i;

	fake_open(1u << 17);
	fb_ring__free(F.r);
	h.by_type[EV_TYPE] = (struct fb_rec_handler){ FB_RING_MAX_REC, on_long, NULL };
	F.r = fb_ring__new_mem(&F.cons, &F.prod, F.data, F.size, &h);
	cr_assert_not_null(F.r);
	for (i = 0; i < 300; i++) {
		memset(rec, (int)i, sizeof(rec));
		*(struct fb_rec_hdr *)rec = (struct fb_rec_hdr){ .type = EV_TYPE,
								 .len = FB_RING_MAX_REC, .seq = i };
		put_raw(rec, sizeof(rec));
	}
	cr_assert_eq(drain(0), 300);
	cr_expect_eq(ncalls, 2);
	cr_expect_eq(log_[0].n, FB_RING_CHUNK);
	cr_expect_eq(log_[299].seq, 299);
}

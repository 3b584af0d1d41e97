/* The pipeline without a kernel: two fake per-CPU rings over double-mapped
 * memory, fake kernel counters and a fake output that keeps every batch.
 * Checks the drain protocol (every ring drained up to the horizon before a
 * window closes, so records land in their own batch whatever ring they sit
 * in), the ledger fed from sequence gaps and counters, unknown records, the
 * hand-over to outputs and the verdict. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include "flows.h"
#include "fmt.h"
#include "helpers.h"
#include "out.h"
#include "pipeline.h"
#include "ring.h"

#define NRINGS 2
#define RING_SIZE (64 * 1024)
#define MAXB 16

struct fake_ring {
	unsigned long cons, prod;
	uint8_t *data;
	struct fb_ring *r;
};

static struct fake_ring R[NRINGS];
static struct fb_counters kc[NRINGS]; /* the kernel's per-CPU counters */

/* What the fake output saw, one entry per batch. */
static struct got {
	uint64_t number, seen, records, lost, packets, unknown, flows;
	bool partial;
} got[MAXB];
static int ngot;

static uint8_t *map_twice(uint64_t size)
{
	int fd = memfd_create("fb_pipe_test", MFD_CLOEXEC);
	uint8_t *base;

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)size), 0);
	base = mmap(NULL, 2 * size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(base, MAP_FAILED);
	cr_assert_eq(mmap(base, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0), base);
	cr_assert_eq(mmap(base + size, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0),
		     base + size);
	close(fd);
	return base;
}

static struct fb_ring *ring_new(void *ctx, uint32_t i, const struct fb_ring_handlers *h)
{
	R[i].data = map_twice(RING_SIZE);
	R[i].r = fb_ring__new_mem(&R[i].cons, &R[i].prod, R[i].data, RING_SIZE, h);
	return R[i].r;
}

/* A record committed the way the kernel commits it. */
static void put(int ring, const void *rec, uint32_t len)
{
	struct fake_ring *f = &R[ring];
	uint32_t *hdr = (uint32_t *)(f->data + (f->prod & (RING_SIZE - 1)));

	memcpy(hdr + 2, rec, len);
	hdr[1] = 0;
	__atomic_store_n(hdr, len, __ATOMIC_RELEASE);
	f->prod += (BPF_RINGBUF_HDR_SZ + len + 7) & ~7ul;
}

/* Packet seq of CPU cpu at time ts; the kernel's seen counts it. */
static void put_pkt(int cpu, uint32_t seq, uint64_t ts)
{
	struct fb_pkt p = mkpkt((uint16_t)cpu, seq, ts, (uint16_t)(100 + cpu), 100);

	put(cpu, &p, sizeof(p));
}

static int counters(void *ctx, uint8_t type, struct fb_counters *percpu)
{
	if (type != FB_REC_PKT)
		return -EINVAL;
	memcpy(percpu, kc, sizeof(kc));
	return 0;
}

static void *fake_open(const struct fb_out_opts *o, const struct fb_out_ctx *ctx)
{
	return &got;
}

static int fake_write(void *s, const struct fb_batch_view *v)
{
	const struct fb_flows_view *fv = v->fam[FB_REC_PKT];
	const struct fb_ledger *l = &v->st->led[FB_REC_PKT];

	cr_assert_lt(ngot, MAXB);
	got[ngot++] = (struct got){ .number = v->st->number, .seen = l->seen, .records = l->records,
				    .lost = l->lost, .packets = fv->packets, .unknown = v->st->unknown,
				    .flows = fv->flows, .partial = v->st->partial };
	return 0;
}

static void fake_close(void *s)
{
}

static const struct fb_output_ops fake_out = {
	.name = "fake", .open = fake_open, .write = fake_write, .close = fake_close,
};

static struct fb_pipeline *pipe_;
static struct fb_outputs *outs;

static void cleanup(void)
{
	int i;

	fb_pipeline__free(pipe_);
	fb_outputs__free(outs);
	for (i = 0; i < NRINGS; i++)
		if (R[i].data)
			munmap(R[i].data, 2 * RING_SIZE);
	memset(R, 0, sizeof(R));
	memset(kc, 0, sizeof(kc));
	memset(got, 0, sizeof(got));
	ngot = 0;
	pipe_ = NULL;
	outs = NULL;
}

TestSuite(pipeline, .fini = cleanup);

/* A pipeline whose batches are 1 s windows, the first starting at start. */
static void start(uint64_t start_ns)
{
	struct fb_pipeline_opts po = { 0 };
	struct fb_flows_opts fo = { .max_flows = 64 };
	struct fb_out_ctx octx = { 0 };
	struct fb_out_opts oo = { .kind = "fake" };
	char err[128];

	cr_assert_eq(fb_keyspec_parse("sport", &fo.keys, err, sizeof(err)), 0);
	octx.fams[FB_REC_PKT] = &fb_flows_ops;
	outs = fb_outputs__new(&octx);
	cr_assert_not_null(outs);
	cr_assert_eq(fb_outputs__add_ops(outs, &fake_out, &oo), 0);
	po.nrings = NRINGS;
	po.ring_new = ring_new;
	po.counters = counters;
	po.batch.interval_ns = SEC;
	po.batch.grace_ns = 5 * MS;
	po.batch.start_ns = start_ns;
	po.batch.ncpus = NRINGS;
	po.batch.fams[FB_REC_PKT] = fb_flows__new(&fo);
	po.outs = outs;
	pipe_ = fb_pipeline__new(&po);
	cr_assert_not_null(pipe_, "fb_pipeline__new: %s", strerror(errno));
}

/* Records of three past windows spread over two rings, ring 0 holding
 * the later ones first in drain order: each lands in its own batch. */
Test(pipeline, records_land_in_their_window_across_rings)
{
	uint64_t now = fb_now_ns(), w0 = (now / SEC - 4) * SEC;

	start(w0); /* batch 1 = [w0, w0 + 1s), ... batch 4 ends before now */
	put_pkt(0, 1, w0 + 100 * MS);
	put_pkt(0, 2, w0 + SEC + 100 * MS);
	put_pkt(0, 3, w0 + 2 * SEC + 100 * MS);
	put_pkt(0, 4, w0 + 2 * SEC + 200 * MS);
	put_pkt(1, 1, w0 + 900 * MS);
	put_pkt(1, 2, w0 + 2 * SEC + 900 * MS);
	kc[0].seen = 4;
	kc[1].seen = 2;
	cr_assert_eq(fb_pipeline__finish(pipe_, FB_FINISH_PARTIAL), 0);
	cr_assert_geq(ngot, 4, "three whole windows and the partial one at least");
	cr_assert_eq(got[0].records, 2, "ring 1's record of window 1 is not late");
	cr_assert_eq(got[1].records, 1);
	cr_assert_eq(got[2].records, 3);
	cr_assert_eq(got[0].number, 1);
	cr_assert_eq(got[2].number, 3);
	cr_assert(got[ngot - 1].partial);
	cr_assert(fb_pipeline__verdict(pipe_), "ledger matches the counters");
}

/* A gap in a CPU's numbers is lost records in the batch that reveals it;
 * losses after the last record come from the counters; the verdict checks
 * the sums against the kernel's. */
Test(pipeline, losses_from_gaps_and_counters)
{
	uint64_t now = fb_now_ns(), w0 = (now / SEC - 3) * SEC;
	uint64_t seen = 0, rec = 0, lost = 0;
	int i;

	start(w0);
	put_pkt(0, 1, w0 + 100 * MS);
	put_pkt(0, 4, w0 + 200 * MS); /* 2 and 3 lost */
	put_pkt(1, 1, w0 + SEC + 100 * MS);
	kc[0].seen = 6; /* 5 and 6 lost after the last record */
	kc[0].lost = 4;
	kc[1].seen = 1;
	cr_assert_eq(fb_pipeline__finish(pipe_, FB_FINISH_PARTIAL), 0);
	/* 2 from the gap, 2 from the counters: batch 1 was still the oldest
	 * open one when the counters were read */
	cr_assert_eq(got[0].lost, 4);
	cr_assert_eq(got[0].records, 2);
	for (i = 0; i < ngot; i++) {
		cr_assert_eq(got[i].seen, got[i].records + got[i].lost, "batch %d", i + 1);
		seen += got[i].seen;
		rec += got[i].records;
		lost += got[i].lost;
	}
	cr_assert_eq(seen, 7);
	cr_assert_eq(rec, 3);
	cr_assert_eq(lost, 4);
	cr_assert(fb_pipeline__verdict(pipe_));
}

/* The kernel counted more than the rings and counters account for: the
 * verdict says so. */
Test(pipeline, verdict_catches_a_mismatch)
{
	uint64_t now = fb_now_ns(), w0 = (now / SEC - 2) * SEC;

	start(w0);
	put_pkt(0, 1, w0 + 100 * MS);
	kc[0].seen = 2; /* one record the kernel says it wrote never came */
	cr_assert_eq(fb_pipeline__finish(pipe_, FB_FINISH_PARTIAL), 0);
	cr_assert(!fb_pipeline__verdict(pipe_));
}

/* Records of an unknown type, or of a known type with the wrong length,
 * are counted in the batch row, never aggregated. */
Test(pipeline, unknown_and_wrong_length_records_counted)
{
	uint64_t now = fb_now_ns(), w0 = (now / SEC - 2) * SEC;
	struct fb_pkt p = mkpkt(0, 2, w0 + 300 * MS, 7, 100);
	uint8_t odd[40] = { 0 };
	uint64_t unknown = 0, records = 0;
	int i;

	start(w0);
	put_pkt(0, 1, w0 + 100 * MS);
	odd[0] = 7; /* no family */
	put(0, odd, sizeof(odd));
	put(0, &p, sizeof(p) - 8); /* a packet record cut short */
	kc[0].seen = 1;
	cr_assert_eq(fb_pipeline__finish(pipe_, FB_FINISH_PARTIAL), 0);
	for (i = 0; i < ngot; i++) {
		unknown += got[i].unknown;
		records += got[i].records;
	}
	cr_assert_eq(unknown, 2);
	cr_assert_eq(records, 1);
	cr_assert(fb_pipeline__verdict(pipe_));
}

/* Consumer capacity on one core. A BPF_PROG_TYPE_SYSCALL program
 * (bench_fill, bpf_loop) writes M records of random flows out of N distinct
 * ones into a large ring; then the ring is drained alone, on CPU 0, with
 * flowbatch's reader (fb_ring__drain) into
 *   nop    a callback that does nothing
 *   batch  flowbatch's batcher (fb_batcher__add): one window holds every
 *          record, max_flows = N, default keys (FB_KEYS_DEFAULT)
 * at N = 1K, 64K, 1M. Rates are records per second of the consumer
 * thread's CPU time (CLOCK_THREAD_CPUTIME_ID; wall clock shown too), medians
 * of 3. Before the timed batches, two untimed ones fault in both of the
 * batcher's flow tables (it alternates two), so timed batches see a warm
 * table as a long-running flowbatch does; the first one gives the resident
 * memory per flow (RssAnon delta / flows).
 * Usage: b_consumer [--quick] [--records M] */
#include "bench.h"
#include "bench.skel.h"
#include "batch.h"
#include "flows.h"

#define REPS 3
#define WINDOW_NS 1000000000ull /* simulated windows of 1 s */
#define TS_BASE (1000 * WINDOW_NS)

struct emitted {
	uint64_t batches, flows, packets, lost, overflow;
};

static int emit_cb(void *ctx, struct fb_batch_view *v)
{
	struct emitted *e = ctx;
	const struct fb_flows_view *fv = v->fam[FB_REC_PKT];

	e->batches++;
	e->flows = fv->flows;
	e->packets = fv->records;
	e->lost = v->st->led[FB_REC_PKT].lost;
	e->overflow = fv->overflow;
	return 0;
}

static uint64_t fake_now;

static uint64_t clock_cb(void *ctx)
{
	return fake_now;
}

static int nop_cb(void *ctx, const void *recs, uint32_t n)
{
	return 0;
}

static int batch_cb(void *ctx, const void *recs, uint32_t n)
{
	return fb_batcher__add(ctx, recs, n);
}

/* The ring's handlers are fixed when it is mapped; each timed drain picks
 * where its chunks go (one more indirect call per chunk of 256 records). */
struct sink {
	fb_rec_fn fn;
	void *ctx;
};

static int sink_cb(void *ctx, const void *recs, uint32_t n)
{
	struct sink *s = ctx;

	return s->fn(s->ctx, recs, n);
}

static long rss_anon_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "RssAnon: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

struct ctx {
	struct bench *skel;
	struct fb_ring *ring;
	struct sink sink;
	int fill_fd;
	uint32_t records;
	bool rt;
};

/* Writes c->records records with timestamps inside window w. */
static int fill(struct ctx *c, uint32_t flows, uint64_t w)
{
	LIBBPF_OPTS(bpf_test_run_opts, o);
	uint32_t left = c->records;

	c->skel->bss->fill_flows = flows;
	c->skel->bss->fill_ts = w * WINDOW_NS + 1000;
	c->skel->bss->fill_ts_step = (WINDOW_NS / 2) / c->records;
	while (left) {
		uint32_t n = left < (1u << 20) ? left : (1u << 20);

		c->skel->bss->fill_n = n;
		if (bpf_prog_test_run_opts(c->fill_fd, &o) || o.retval) {
			fprintf(stderr, "b_consumer: fill failed: %s\n", strerror(errno));
			return -1;
		}
		left -= n;
	}
	if (c->skel->bss->fill_lost) {
		fprintf(stderr, "b_consumer: ring too small: %llu records not written\n",
			(unsigned long long)c->skel->bss->fill_lost);
		return -1;
	}
	return 0;
}

static int libbpf_nop_cb(void *ctx, void *data, size_t size)
{
	return 0;
}

/* libbpf's reader with a callback per record that does nothing: the "bare
 * drain" most BPF tools have (it publishes the consumer position after every
 * record). Returns CPU ns. */
static int64_t timed_libbpf_drain(struct ctx *c, struct ring_buffer *rb)
{
	uint64_t c0, c1;
	int n;

	if (c->rt)
		set_rt(10);
	c0 = bench_ns(CLOCK_THREAD_CPUTIME_ID);
	n = ring_buffer__consume(rb);
	c1 = bench_ns(CLOCK_THREAD_CPUTIME_ID);
	if (c->rt)
		set_rt(0);
	if (n != (int)c->records) {
		fprintf(stderr, "b_consumer: libbpf drained %d of %u records\n", n, c->records);
		return -1;
	}
	return (int64_t)(c1 - c0);
}

/* Drains the whole ring into fn; returns CPU ns (and wall ns in *wall). */
static int64_t timed_drain(struct ctx *c, fb_rec_fn fn, void *fctx, uint64_t *wall)
{
	uint64_t t0, c0, c1;
	int64_t n;

	c->sink = (struct sink){ fn, fctx };
	if (c->rt)
		set_rt(10);
	t0 = mono_ns();
	c0 = bench_ns(CLOCK_THREAD_CPUTIME_ID);
	n = fb_ring__drain(c->ring, 0);
	c1 = bench_ns(CLOCK_THREAD_CPUTIME_ID);
	*wall = mono_ns() - t0;
	if (c->rt)
		set_rt(0);
	if (n != (int64_t)c->records || fb_ring__bad(c->ring)) {
		fprintf(stderr, "b_consumer: drained %lld of %u records, %llu bad\n", (long long)n,
			c->records, (unsigned long long)fb_ring__bad(c->ring));
		return -1;
	}
	return (int64_t)(c1 - c0);
}

int main(int argc, char **argv)
{
	static const uint32_t flows_list[] = { 1024, 65536, 1048576 };
	static const char *const flows_names[] = { "1K", "64K", "1M" };
	enum { NN = 3 };
	bool quick = has_flag(argc, argv, "--quick");
	struct ctx c = { 0 };
	uint64_t ring_bytes;
	double nop[NN][REPS], bat[NN][REPS], nop_w[NN][REPS], bat_w[NN][REPS], lib[NN][REPS];
	struct ring_buffer *lrb = NULL;
	double mnop[NN], mbat[NN], mnop_w[NN], mbat_w[NN], rss_per_flow = 0;
	uint64_t rss_flows = 0, t_start = mono_ns();
	long rss_delta_kb = 0;
	char err[256];
	int i, rep, rc = 1;

	c.records = quick ? (1u << 20) : (8u << 20);
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--records") && i + 1 < argc)
			c.records = (uint32_t)strtoul(argv[++i], NULL, 0);
	ring_bytes = 4096;
	while (ring_bytes < (uint64_t)c.records * (sizeof(struct fb_pkt) + 8) + (1 << 20))
		ring_bytes *= 2;
	c.rt = !set_rt(1);
	set_rt(0);
	bench_init();
	pin_cpu(0);

	c.skel = bench__open();
	if (!c.skel)
		goto out;
	bpf_map__set_max_entries(c.skel->maps.fill_ring, (uint32_t)ring_bytes);
	if (bench__load(c.skel)) {
		fprintf(stderr, "b_consumer: cannot load BPF programs (root needed)\n");
		goto out;
	}
	c.fill_fd = bpf_program__fd(c.skel->progs.bench_fill);
	c.ring = bench_ring_new(bpf_map__fd(c.skel->maps.fill_ring), ring_bytes, sink_cb, &c.sink);
	lrb = ring_buffer__new(bpf_map__fd(c.skel->maps.fill_ring), libbpf_nop_cb, NULL, NULL);
	if (lrb) { /* fault in libbpf's own mapping of the ring before timing it */
		for (i = 0; i < 2; i++) { /* two fills cover the whole ring */
			if (fill(&c, 1024, TS_BASE / WINDOW_NS))
				goto out;
			ring_buffer__consume(lrb);
		}
		c.skel->bss->fill_seq = 0;
	}
	if (!lrb) {
		fprintf(stderr, "b_consumer: ring_buffer__new: %s\n", strerror(errno));
		goto out;
	}
	if (!c.ring) {
		fprintf(stderr, "b_consumer: cannot map the ring: %s\n", strerror(errno));
		goto out;
	}

	for (i = 0; i < NN; i++) {
		struct fb_batcher_opts bo = { 0 };
		struct fb_flows_opts fo = { 0 };
		struct fb_batcher *b;
		struct emitted em = { 0 };
		uint64_t w = TS_BASE / WINDOW_NS, wall;
		long rss0;
		int64_t ns;

		bo.interval_ns = WINDOW_NS;
		bo.grace_ns = 5000000;
		bo.start_ns = TS_BASE;
		bo.ncpus = 1;
		bo.emit = emit_cb;
		bo.emit_ctx = &em;
		bo.clock = clock_cb;
		fo.max_flows = flows_list[i];
		fo.top = 1;
		if (fb_keyspec_parse(FB_KEYS_DEFAULT, &fo.keys, err, sizeof(err))) {
			fprintf(stderr, "b_consumer: %s\n", err);
			goto out;
		}
		rss0 = rss_anon_kb();
		fake_now = TS_BASE;
		bo.fams[FB_REC_PKT] = fb_flows__new(&fo);
		if (!bo.fams[FB_REC_PKT].ops)
			goto out;
		b = fb_batcher__new(&bo); /* owns the family from here on */
		if (!b)
			goto out;
		/* two untimed batches: fault in both tables; the first gives RSS */
		for (rep = 0; rep < 2; rep++, w++) {
			if (fill(&c, flows_list[i], w) || timed_drain(&c, batch_cb, b, &wall) < 0)
				goto out;
			if (rep == 0 && i == NN - 1)
				rss_delta_kb = rss_anon_kb() - rss0;
			fake_now = (w + 1) * WINDOW_NS + bo.grace_ns;
			fb_batcher__tick(b, fake_now);
			if (rep == 0 && i == NN - 1) {
				rss_flows = em.flows;
				rss_per_flow = rss_delta_kb * 1024.0 / (double)em.flows;
			}
		}
		for (rep = 0; rep < REPS; rep++) {
			uint32_t seq = c.skel->bss->fill_seq;

			/* nop; then the batcher gets the same sequence numbers again,
			 * so it sees no gap (no loss) */
			if (fill(&c, flows_list[i], w))
				goto out;
			ns = timed_drain(&c, nop_cb, NULL, &wall);
			if (ns < 0)
				goto out;
			c.skel->bss->fill_seq = seq;
			nop[i][rep] = c.records / (ns / 1e9);
			nop_w[i][rep] = c.records / (wall / 1e9);
			/* batcher: the same records (same window) */
			if (fill(&c, flows_list[i], w))
				goto out;
			ns = timed_drain(&c, batch_cb, b, &wall);
			if (ns < 0)
				goto out;
			bat[i][rep] = c.records / (ns / 1e9);
			/* libbpf's per-record reader, the same records again */
			c.skel->bss->fill_seq = seq;
			if (fill(&c, flows_list[i], w))
				goto out;
			ns = timed_libbpf_drain(&c, lrb);
			if (ns < 0)
				goto out;
			lib[i][rep] = c.records / (ns / 1e9);
			c.skel->bss->fill_seq = seq + c.records;
			bat_w[i][rep] = c.records / (wall / 1e9);
			fake_now = (w + 1) * WINDOW_NS + bo.grace_ns;
			fb_batcher__tick(b, fake_now);
			if (em.packets != c.records || em.lost || em.overflow) {
				fprintf(stderr, "b_consumer: batch of %llu packets, %llu lost, %llu overflow; "
					"expected %u, 0, 0\n", (unsigned long long)em.packets,
					(unsigned long long)em.lost, (unsigned long long)em.overflow, c.records);
				goto out;
			}
			w++;
		}
		fb_batcher__free(b);
		printf("# N=%s: %llu batches emitted, last had %llu flows\n", flows_names[i],
		       (unsigned long long)em.batches, (unsigned long long)em.flows);
	}

	printf("# consumer: %u records per drain (ring %llu MiB), one thread on CPU 0%s, "
	       "rates per CPU second, median of %d, %.1f s\n",
	       c.records, (unsigned long long)(ring_bytes >> 20), c.rt ? " (SCHED_FIFO)" : "", REPS,
	       (mono_ns() - t_start) / 1e9);
	for (i = 0; i < NN; i++) {
		mnop[i] = median(nop[i], REPS);
		mbat[i] = median(bat[i], REPS);
		mnop_w[i] = median(nop_w[i], REPS);
		mbat_w[i] = median(bat_w[i], REPS);
		printf("RESULT consumer flows=%s mode=nop rec_per_s=%.0f ns_per_rec=%.1f wall_rec_per_s=%.0f\n",
		       flows_names[i], mnop[i], 1e9 / mnop[i], mnop_w[i]);
		printf("RESULT consumer flows=%s mode=batch rec_per_s=%.0f ns_per_rec=%.1f wall_rec_per_s=%.0f\n",
		       flows_names[i], mbat[i], 1e9 / mbat[i], mbat_w[i]);
		printf("RESULT consumer flows=%s mode=libbpf rec_per_s=%.0f ns_per_rec=%.1f\n",
		       flows_names[i], median(lib[i], REPS), 1e9 / median(lib[i], REPS));
		printf("RESULT consumer flows=%s ratio_batch_nop=%.2f ratio_batch_libbpf=%.2f\n", flows_names[i],
		       mbat[i] / mnop[i], mbat[i] / median(lib[i], REPS));
	}
	printf("RESULT consumer rss_per_flow_bytes=%.0f rss_delta_kb=%ld flows=%llu\n", rss_per_flow,
	       rss_delta_kb, (unsigned long long)rss_flows);

	printf("\nconsumer capacity, one core (records/s of CPU time, median of %d)\n", REPS);
	printf("%-6s %14s %14s %10s %10s %8s\n", "flows", "nop rec/s", "batch rec/s", "nop ns", "batch ns",
	       "batch/nop");
	for (i = 0; i < NN; i++)
		printf("%-6s %14.0f %14.0f %10.1f %10.1f %8.2f\n", flows_names[i], mnop[i], mbat[i],
		       1e9 / mnop[i], 1e9 / mbat[i], mbat[i] / mnop[i]);
	printf("resident memory at 1M flows: %.0f bytes/flow (RssAnon +%ld KiB for %llu flows)\n",
	       rss_per_flow, rss_delta_kb, (unsigned long long)rss_flows);
	rc = 0;
out:
	fb_ring__free(c.ring);
	ring_buffer__free(lrb);
	bench__destroy(c.skel);
	return rc;
}

/* Kernel cost per packet, with BPF_PROG_TEST_RUN (the kernel's mean ns per
 * run over `repeat` runs), medians of 3, rows side by side in one run:
 *   empty  XDP returning XDP_PASS (the test-run loop's own cost)
 *   ref    minimal reference (bench/bench.bpf.c: bench_ref)
 *   fb_xdp flowbatch's XDP program
 *   fb_tc  flowbatch's fb_tc_in (TC test run on an skb)
 *   ref_coarse  the reference with the coarse clock (one jiffy resolution)
 *   fb_xdp_coarse  flowbatch's XDP program with its coarse_clock switch on
 *   clock  XDP that only reads bpf_ktime_get_ns (the clock's cost + empty)
 * on four frames. A drainer thread on another CPU empties the rings in
 * batches meanwhile (epoll, edge-triggered, + 10 ms timeout).
 * Usage: b_kcost [--quick] [--repeat N] [--ring-mb N] */
#include "bench.h"
#include "bench.skel.h"
#include "flowbatch.skel.h"

enum row { R_EMPTY, R_REF, R_FB_XDP, R_FB_TC, R_REF_COARSE, R_CLOCK, R_FB_COARSE, R_COUNT };
static const char *const row_names[R_COUNT] = { "empty", "ref", "fb_xdp", "fb_tc", "ref_coarse", "clock",
						"fb_xdp_coarse" };

/* Opens flowbatch's programs as flowbatch configures them (one ring per
 * CPU), the clock chosen, and loads them; NULL on failure. */
static struct flowbatch *open_fb(uint64_t ring_bytes, int ncpus, bool coarse)
{
	struct flowbatch *fs = flowbatch__open();
	int tmpl;

	if (!fs)
		return NULL;
	fs->rodata->watermark = ring_bytes / 4;
	fs->rodata->kick_step = ring_bytes / 16;
	fs->rodata->coarse_clock = coarse;
	/* flowbatch's default layout: one ring per CPU (the producer runs on
	 * CPU 0, so only that ring fills) */
	bpf_map__set_max_entries(fs->maps.fb_rings, (uint32_t)ncpus);
	tmpl = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "tmpl", 0, 0, 4096, NULL);
	bpf_map__set_inner_map_fd(fs->maps.fb_rings, tmpl);
	bpf_program__set_autoload(fs->progs.fb_tc_out, false);
	if (flowbatch__load(fs)) {
		flowbatch__destroy(fs);
		return NULL;
	}
	return fs;
}

/* A ring per CPU into fs's fb_rings, appended to rings; false on failure. */
static bool add_rings(struct flowbatch *fs, uint64_t ring_bytes, int ncpus, struct fb_ring **rings,
		      int *nrings)
{
	int i;

	for (i = 0; i < ncpus; i++) {
		uint32_t k = (uint32_t)i;
		int rfd;

		if (*nrings >= BENCH_MAX_RINGS)
			return false;
		rfd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "fb_ring_cpu", 0, 0, (uint32_t)ring_bytes, NULL);
		if (rfd < 0 || bpf_map_update_elem(bpf_map__fd(fs->maps.fb_rings), &k, &rfd, BPF_ANY))
			return false;
		rings[*nrings] = bench_ring_new(rfd, ring_bytes, NULL, NULL);
		if (!rings[(*nrings)++])
			return false;
	}
	return true;
}

#define REPS 3

int main(int argc, char **argv)
{
	bool quick = has_flag(argc, argv, "--quick");
	uint32_t repeat = quick ? 1000000 : 10000000;
	uint64_t ring_bytes = 64ull << 20;
	struct bench *bs = NULL;
	struct flowbatch *fs = NULL, *fsc = NULL;
	struct fb_ring *rings[BENCH_MAX_RINGS] = { NULL };
	int nrings = 1;
	struct drainer d;
	uint8_t frames[FR_COUNT][128];
	uint32_t flen[FR_COUNT];
	double ns[FR_COUNT][R_COUNT][REPS], med[FR_COUNT][R_COUNT];
	int prog[R_COUNT], ncpus, i, f, r, rep, rc = 1, ncpu_online;
	uint64_t expect_ref = 0, expect_fb = 0, t0;
	struct fb_counters fc, fcc;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
			repeat = (uint32_t)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--ring-mb") && i + 1 < argc)
			ring_bytes = strtoull(argv[++i], NULL, 0) << 20;
	}
	bench_init();
	ncpus = libbpf_num_possible_cpus();
	ncpu_online = (int)sysconf(_SC_NPROCESSORS_ONLN);

	bs = bench__open();
	if (!bs) {
		fprintf(stderr, "b_kcost: cannot open BPF objects\n");
		goto out;
	}
	bpf_map__set_max_entries(bs->maps.ref_ring, (uint32_t)ring_bytes);
	if (bench__load(bs)) {
		fprintf(stderr, "b_kcost: cannot load BPF programs (root needed)\n");
		goto out;
	}
	fs = open_fb(ring_bytes, ncpus, false);
	fsc = open_fb(ring_bytes, ncpus, true);
	if (!fs || !fsc) {
		fprintf(stderr, "b_kcost: cannot load flowbatch's programs (root needed)\n");
		goto out;
	}
	prog[R_EMPTY] = bpf_program__fd(bs->progs.bench_empty);
	prog[R_REF] = bpf_program__fd(bs->progs.bench_ref);
	prog[R_FB_XDP] = bpf_program__fd(fs->progs.fb_xdp);
	prog[R_FB_TC] = bpf_program__fd(fs->progs.fb_tc_in);
	prog[R_REF_COARSE] = bpf_program__fd(bs->progs.bench_ref_coarse);
	prog[R_CLOCK] = bpf_program__fd(bs->progs.bench_clock);
	prog[R_FB_COARSE] = bpf_program__fd(fsc->progs.fb_xdp);
	rings[0] = bench_ring_new(bpf_map__fd(bs->maps.ref_ring), ring_bytes, NULL, NULL);
	if (!rings[0] || !add_rings(fs, ring_bytes, ncpus, rings, &nrings) ||
	    !add_rings(fsc, ring_bytes, ncpus, rings, &nrings)) {
		fprintf(stderr, "b_kcost: cannot map rings: %s\n", strerror(errno));
		goto out;
	}
	for (f = 0; f < FR_COUNT; f++)
		flen[f] = build_frame((enum bench_frame)f, frames[f]);

	/* producer (test runs) on CPU 0 at nice -20, drainer on CPU 1 when
	 * there is one, at SCHED_FIFO 20 (it sleeps between drains) */
	pin_cpu(0);
	set_nice(-20);
	if (drainer_start(&d, rings, nrings, ncpu_online > 1 ? 1 : -1, 20)) {
		fprintf(stderr, "b_kcost: cannot start drainer\n");
		goto out;
	}
	t0 = mono_ns();
	for (rep = 0; rep < REPS; rep++) {
		for (f = 0; f < FR_COUNT; f++) {
			for (r = 0; r < R_COUNT; r++) {
				double v = test_run(prog[r], frames[f], flen[f], repeat);

				if (v < 0) {
					drainer_stop(&d);
					goto out;
				}
				ns[f][r][rep] = v;
				if (r == R_REF || r == R_REF_COARSE)
					expect_ref += repeat;
				if (r == R_FB_XDP || r == R_FB_TC || r == R_FB_COARSE)
					expect_fb += repeat;
			}
		}
	}
	drainer_stop(&d);
	for (f = 0; f < FR_COUNT; f++)
		for (r = 0; r < R_COUNT; r++)
			med[f][r] = median(ns[f][r], REPS);

	read_counters(bpf_map__fd(fs->maps.fb_counters), &fc, NULL, ncpus);
	read_counters(bpf_map__fd(fsc->maps.fb_counters), &fcc, NULL, ncpus);
	fc.seen += fcc.seen;
	fc.lost += fcc.lost;
	fc.wakeups += fcc.wakeups;
	printf("# kcost: BPF_PROG_TEST_RUN, repeat %u, median of %d, ring %llu MiB each, "
	       "drainer on CPU %d, %.1f s\n",
	       repeat, REPS, (unsigned long long)(ring_bytes >> 20), ncpu_online > 1 ? 1 : -1,
	       (mono_ns() - t0) / 1e9);
	for (f = 0; f < FR_COUNT; f++) {
		for (r = 0; r < R_COUNT; r++)
			printf("RESULT kcost frame=%s row=%s ns=%.1f runs=%.0f/%.0f/%.0f\n", frame_names[f],
			       row_names[r], med[f][r], ns[f][r][0], ns[f][r][1], ns[f][r][2]);
		printf("RESULT kcost frame=%s ratio_fbxdp_ref=%.2f ratio_fbtc_ref=%.2f "
		       "net_ratio_fbxdp_ref=%.2f clock_ns=%.1f coarse_saves_ns=%.1f ratio_fbcoarse_ref=%.2f\n",
		       frame_names[f], med[f][R_FB_XDP] / med[f][R_REF], med[f][R_FB_TC] / med[f][R_REF],
		       (med[f][R_FB_XDP] - med[f][R_EMPTY]) / (med[f][R_REF] - med[f][R_EMPTY]),
		       med[f][R_CLOCK] - med[f][R_EMPTY], med[f][R_REF] - med[f][R_REF_COARSE],
		       med[f][R_FB_COARSE] / med[f][R_REF]);
	}
	printf("RESULT kcost lost_ref=%llu lost_fb=%llu records_ref=%llu records_fb=%llu "
	       "drained=%llu expected=%llu bad=%llu fb_seen=%llu fb_wakeups=%llu drains=%llu "
	       "epoll_wakeups=%llu timeouts=%llu\n",
	       (unsigned long long)bs->bss->ref_lost, (unsigned long long)fc.lost,
	       (unsigned long long)expect_ref, (unsigned long long)expect_fb,
	       (unsigned long long)d.records,
	       (unsigned long long)(expect_ref + expect_fb - bs->bss->ref_lost - fc.lost),
	       (unsigned long long)d.bad, (unsigned long long)fc.seen, (unsigned long long)fc.wakeups,
	       (unsigned long long)d.drains, (unsigned long long)d.wakeups,
	       (unsigned long long)d.timeouts);

	printf("\nkernel cost per packet (ns, median of %d x %u runs)\n", REPS, repeat);
	printf("%-8s %8s %8s %8s %8s  %s\n", "frame", "empty", "ref", "fb_xdp", "fb_tc", "fb_xdp/ref");
	for (f = 0; f < FR_COUNT; f++)
		printf("%-8s %8.1f %8.1f %8.1f %8.1f  %.2f\n", frame_names[f], med[f][R_EMPTY],
		       med[f][R_REF], med[f][R_FB_XDP], med[f][R_FB_TC], med[f][R_FB_XDP] / med[f][R_REF]);
	printf("records lost: ref %llu, flowbatch %llu; drained %llu of %llu written\n",
	       (unsigned long long)bs->bss->ref_lost, (unsigned long long)fc.lost,
	       (unsigned long long)d.records,
	       (unsigned long long)(expect_ref + expect_fb - bs->bss->ref_lost - fc.lost));
	rc = 0;
out:
	for (i = 0; i < nrings; i++)
		fb_ring__free(rings[i]);
	bench__destroy(bs);
	flowbatch__destroy(fs);
	flowbatch__destroy(fsc);
	return rc;
}

/* Producer contention: two threads pinned to CPU 0 and CPU 1 each run
 * BPF_PROG_TEST_RUN (the 64-byte UDP/IPv4 frame, `repeat` times) at once of
 *   shared  flowbatch's own fb_xdp with --ring shared: ONE ring for both CPUs
 *   percpu  flowbatch's default: one ring per CPU (ARRAY_OF_MAPS of RINGBUF
 *           indexed by bpf_get_smp_processor_id)
 * with the same total ring memory, all drained by one consumer thread in
 * batches (edge-triggered epoll on every ring, woken by the programs' forced
 * wake-ups, plus a 10 ms timeout). The machine may have only 2 CPUs: the
 * consumer is not pinned and takes its CPU time from the producers, as it
 * would on a busy host; the wall-clock rate includes that, the kernel's
 * per-run durations do not (the test-run loop stops its clock when it
 * yields). So that the two producers really run at the same time on a
 * shared machine, they run at nice -20 and the consumer at SCHED_FIFO 20
 * (it sleeps between drains; SCHED_FIFO producers would hit RT throttling,
 * which stalls the consumer with them). Medians of 3, the two cases
 * alternated.
 * Usage: b_contention [--quick] [--repeat N] [--ring-mb N] */
#include "bench.h"
#include "flowbatch.skel.h"

#define REPS 3
#define NPROD 2

struct producer {
	int cpu;
	int prog_fd;
	uint32_t repeat;
	const uint8_t *frame;
	uint32_t len;
	pthread_barrier_t *bar;
	bool prio;
	double ns; /* kernel's mean ns per run */
	uint64_t t_start, t_end;
};

static void *producer_main(void *arg)
{
	struct producer *p = arg;

	pin_cpu(p->cpu);
	if (p->prio)
		set_nice(-20);
	pthread_barrier_wait(p->bar);
	p->t_start = mono_ns();
	p->ns = test_run(p->prog_fd, p->frame, p->len, p->repeat);
	p->t_end = mono_ns();
	return NULL;
}

struct config {
	const char *name;
	struct flowbatch *skel;
	int prog_fd, counters_fd;
	struct fb_ring *rings[BENCH_MAX_RINGS];
	int ring_fds[BENCH_MAX_RINGS];
	int nrings;
	uint64_t ring_bytes; /* each */
};

struct sample {
	double rate; /* records written / wall second */
	double krate; /* sum over producers of 1e9 / kernel ns per run */
	double ns[NPROD];
	uint64_t seen, lost, written, drained, wakeups, epoll_wakeups, timeouts;
};

static int setup(struct config *c, bool percpu, uint64_t total_bytes, int ncpus)
{
	int i, tmpl, err;

	for (i = 0; i < BENCH_MAX_RINGS; i++)
		c->ring_fds[i] = -1;
	c->name = percpu ? "percpu" : "shared";
	c->nrings = percpu ? ncpus : 1;
	c->ring_bytes = total_bytes / (uint64_t)c->nrings;
	if (c->ring_bytes & (c->ring_bytes - 1)) { /* keep a power of two */
		uint64_t p = 4096;

		while (p * 2 <= c->ring_bytes)
			p *= 2;
		c->ring_bytes = p;
	}
	c->skel = flowbatch__open();
	if (!c->skel)
		return -1;
	c->skel->rodata->watermark = c->ring_bytes / 4;
	c->skel->rodata->kick_step = c->ring_bytes / 16;
	c->skel->rodata->percpu_rings = percpu;
	bpf_map__set_max_entries(c->skel->maps.fb_ring, percpu ? 4096 : (uint32_t)c->ring_bytes);
	bpf_map__set_max_entries(c->skel->maps.fb_rings, percpu ? (uint32_t)ncpus : 1);
	tmpl = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "tmpl", 0, 0, 4096, NULL);
	if (tmpl < 0 || bpf_map__set_inner_map_fd(c->skel->maps.fb_rings, tmpl))
		return -1;
	bpf_program__set_autoload(c->skel->progs.fb_tc_in, false);
	bpf_program__set_autoload(c->skel->progs.fb_tc_out, false);
	err = flowbatch__load(c->skel);
	close(tmpl);
	if (err)
		return -1;
	c->prog_fd = bpf_program__fd(c->skel->progs.fb_xdp);
	c->counters_fd = bpf_map__fd(c->skel->maps.fb_counters);
	for (i = 0; i < c->nrings; i++) {
		if (percpu) {
			uint32_t key = (uint32_t)i;

			c->ring_fds[i] = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "cpu_ring", 0, 0,
							(uint32_t)c->ring_bytes, NULL);
			if (c->ring_fds[i] < 0 ||
			    bpf_map_update_elem(bpf_map__fd(c->skel->maps.fb_rings), &key, &c->ring_fds[i],
						BPF_ANY))
				return -1;
		} else {
			c->ring_fds[i] = bpf_map__fd(c->skel->maps.fb_ring);
		}
		c->rings[i] = bench_ring_new(c->ring_fds[i], c->ring_bytes, NULL, NULL);
		if (!c->rings[i])
			return -1;
	}
	return 0;
}

static void teardown(struct config *c, bool percpu)
{
	int i;

	for (i = 0; i < c->nrings; i++) {
		fb_ring__free(c->rings[i]);
		if (percpu && c->ring_fds[i] >= 0)
			close(c->ring_fds[i]);
	}
	flowbatch__destroy(c->skel);
}

static int run_once(struct config *c, const uint8_t *frame, uint32_t len, uint32_t repeat,
		    int ncpus, bool rt, struct sample *s)
{
	struct producer p[NPROD];
	pthread_t th[NPROD];
	pthread_barrier_t bar;
	struct fb_counters before = { 0 }, after = { 0 };
	struct drainer d;
	uint64_t t0, t1 = 0;
	int i;

	memset(s, 0, sizeof(*s));
	read_counters(c->counters_fd, &before, NULL, ncpus);
	if (drainer_start(&d, c->rings, c->nrings, -1, rt ? 20 : 0))
		return -1;
	pthread_barrier_init(&bar, NULL, NPROD + 1);
	for (i = 0; i < NPROD; i++) {
		p[i] = (struct producer){ .cpu = i, .prog_fd = c->prog_fd, .repeat = repeat,
					  .frame = frame, .len = len, .bar = &bar,
					  .prio = rt };
		pthread_create(&th[i], NULL, producer_main, &p[i]);
	}
	pthread_barrier_wait(&bar);
	t0 = mono_ns();
	for (i = 0; i < NPROD; i++) {
		pthread_join(th[i], NULL);
		if (p[i].t_end > t1)
			t1 = p[i].t_end;
		s->ns[i] = p[i].ns;
		if (getenv("BENCH_DEBUG"))
			fprintf(stderr, "%s cpu%d: wall %.3f s, kernel %.3f s (start +%.3f ms)\n", c->name, i,
				(p[i].t_end - p[i].t_start) / 1e9, p[i].ns * repeat / 1e9,
				((double)p[i].t_start - (double)t0) / 1e6);
	}
	drainer_stop(&d);
	pthread_barrier_destroy(&bar);
	read_counters(c->counters_fd, &after, NULL, ncpus);
	s->seen = after.seen - before.seen;
	s->lost = after.lost - before.lost;
	s->wakeups = after.wakeups - before.wakeups;
	s->written = s->seen - s->lost;
	s->drained = d.records - d.bad; /* a bad record makes drained != written */
	s->epoll_wakeups = d.wakeups;
	s->timeouts = d.timeouts;
	s->rate = (double)s->written / ((t1 - t0) / 1e9);
	s->krate = 1e9 / p[0].ns + 1e9 / p[1].ns;
	return p[0].ns < 0 || p[1].ns < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	bool quick = has_flag(argc, argv, "--quick"), rt = !has_flag(argc, argv, "--no-rt");
	uint32_t repeat = quick ? 1000000 : 10000000;
	uint64_t total_bytes = 64ull << 20;
	struct config cf[2];
	struct sample s[2][REPS], warm;
	double rate[2][REPS], krate[2][REPS], mrate[2], mkrate[2], mns[2][NPROD];
	uint64_t lost[2] = { 0, 0 }, seen[2] = { 0, 0 }, drained[2] = { 0, 0 }, written[2] = { 0, 0 };
	uint64_t kw[2] = { 0, 0 }, ew[2] = { 0, 0 }, to[2] = { 0, 0 };
	uint8_t frame[128];
	uint32_t len = build_frame(FR_UDP4, frame);
	int ncpus, online, i, k, rep, rc = 1;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
			repeat = (uint32_t)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--ring-mb") && i + 1 < argc)
			total_bytes = strtoull(argv[++i], NULL, 0) << 20;
	}
	bench_init();
	ncpus = libbpf_num_possible_cpus();
	online = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (online < NPROD) {
		fprintf(stderr, "b_contention: needs 2 CPUs, this machine has %d\n", online);
		return 1;
	}
	if (rt && (set_rt(1) || set_nice(0))) { /* probe: no permission -> run without */
		fprintf(stderr, "b_contention: SCHED_FIFO or nice not permitted; running without\n");
		rt = false;
	}
	set_rt(0);
	memset(cf, 0, sizeof(cf));
	for (k = 0; k < 2; k++) {
		if (setup(&cf[k], k == 1, total_bytes, ncpus)) {
			fprintf(stderr, "b_contention: cannot set up %s rings: %s\n", k ? "per-CPU" : "shared",
				strerror(errno));
			goto out;
		}
	}
	/* warm-up, not counted: first touches of rings and mappings */
	for (k = 0; k < 2; k++)
		if (run_once(&cf[k], frame, len, repeat / 10, ncpus, rt, &warm))
			goto out;
	for (rep = 0; rep < REPS; rep++) {
		for (k = 0; k < 2; k++) {
			int kk = rep % 2 ? 1 - k : k; /* alternate which goes first */

			if (run_once(&cf[kk], frame, len, repeat, ncpus, rt, &s[kk][rep]))
				goto out;
			rate[kk][rep] = s[kk][rep].rate;
			krate[kk][rep] = s[kk][rep].krate;
		}
	}
	printf("# contention: %d producers (CPU 0, 1) x %u test runs each, udp4 frame, median of %d;"
	       " total ring memory %llu MiB (shared: 1 x %llu MiB, percpu: %d x %llu MiB);"
	       " one consumer thread, unpinned%s\n",
	       NPROD, repeat, REPS, (unsigned long long)(total_bytes >> 20),
	       (unsigned long long)(cf[0].ring_bytes >> 20), cf[1].nrings,
	       (unsigned long long)(cf[1].ring_bytes >> 20),
	       rt ? "; producers nice -20, consumer SCHED_FIFO 20" : "");
	for (k = 0; k < 2; k++) {
		double v[REPS];

		for (i = 0; i < NPROD; i++) {
			for (rep = 0; rep < REPS; rep++)
				v[rep] = s[k][rep].ns[i];
			mns[k][i] = median(v, REPS);
		}
		for (rep = 0; rep < REPS; rep++) {
			lost[k] += s[k][rep].lost;
			seen[k] += s[k][rep].seen;
			drained[k] += s[k][rep].drained;
			written[k] += s[k][rep].written;
			kw[k] += s[k][rep].wakeups;
			ew[k] += s[k][rep].epoll_wakeups;
			to[k] += s[k][rep].timeouts;
		}
		printf("RESULT contention ring=%s rec_per_s=%.0f runs=%.0f/%.0f/%.0f "
		       "wall_rec_per_s=%.0f wall_runs=%.0f/%.0f/%.0f ns_cpu0=%.1f ns_cpu1=%.1f "
		       "seen=%llu lost=%llu drained=%llu written=%llu forced_wakeups=%llu "
		       "epoll_wakeups=%llu timeouts=%llu\n",
		       cf[k].name, (mkrate[k] = median(krate[k], REPS)), s[k][0].krate, s[k][1].krate,
		       s[k][2].krate, (mrate[k] = median(rate[k], REPS)), s[k][0].rate, s[k][1].rate,
		       s[k][2].rate, mns[k][0], mns[k][1], (unsigned long long)seen[k],
		       (unsigned long long)lost[k], (unsigned long long)drained[k],
		       (unsigned long long)written[k], (unsigned long long)kw[k],
		       (unsigned long long)ew[k], (unsigned long long)to[k]);
	}
	printf("RESULT contention ratio_percpu_shared=%.2f wall_ratio_percpu_shared=%.2f\n",
	       mkrate[1] / mkrate[0], mrate[1] / mrate[0]);

	printf("\nproducer contention, 2 CPUs writing at once (median of %d)\n", REPS);
	printf("%-8s %14s %14s %10s %10s %8s %12s\n", "ring", "records/s", "wall rec/s",
	       "ns/pkt c0", "ns/pkt c1", "lost", "drained");
	for (k = 0; k < 2; k++)
		printf("%-8s %14.0f %14.0f %10.1f %10.1f %8llu %12llu\n", cf[k].name, mkrate[k], mrate[k],
		       mns[k][0], mns[k][1], (unsigned long long)lost[k], (unsigned long long)drained[k]);
	printf("percpu/shared records/s: %.2f (kernel time), %.2f (wall clock)\n", mkrate[1] / mkrate[0],
	       mrate[1] / mrate[0]);
	printf("records/s = sum over producers of 1e9 / (kernel ns per run): what both CPUs\n"
	       "sustain while writing at once; wall rec/s = records / wall time, which also\n"
	       "pays for the consumer and anything else on the 2 CPUs.\n");
	rc = 0;
	for (k = 0; k < 2; k++)
		if (drained[k] != written[k]) {
			fprintf(stderr, "b_contention: %s: drained %llu != written %llu\n", cf[k].name,
				(unsigned long long)drained[k], (unsigned long long)written[k]);
			rc = 1;
		}
out:
	for (k = 0; k < 2; k++)
		if (cf[k].skel)
			teardown(&cf[k], k == 1);
	return rc;
}

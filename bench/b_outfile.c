/* What a -w file costs per packet, gzip beside plain, side by side: the
 * same finished batches (1K and 100K flows, IPv4 and IPv6, 1M packets a
 * batch: 1 s batches at 1M packets/s) go to
 *   jsonl_sync   the JSON Lines format straight into a FILE (what stdout
 *                cost before outputs had writer threads; the baseline)
 *   .jsonl .jsonl.gz .csv .csv.gz   the file output itself (out_file.c):
 *                the batch formatted into memory on the calling thread,
 *                then named, compressed and written by its writer thread
 * For each: CPU ns per packet on the calling thread (what capture pays),
 * on the writer thread (compression and write(2)), and bytes per batch on
 * disk. Files go to /tmp (removed after). The bench waits for the writer
 * after each batch, as 1 s between batches would. Medians of 3.
 * Usage: b_outfile [--quick] */
#include "bench.h"
#include <dirent.h>
#include <sys/stat.h>
#include "batch.h"
#include "flows.h"
#include "synth.h"
#include "format.h"
#include "out.h"

#define REPS 3
#define PKTS 1000000ull

extern const struct fb_output_ops fb_out_file;

static const char *ifname_cb(void *ctx, uint32_t ifindex)
{
	return "eth0";
}


enum { M_SYNC, M_JSONL, M_JSONL_GZ, M_CSV, M_CSV_GZ, NMODE };
static const char *const mode_names[NMODE] = { "jsonl_sync", ".jsonl", ".jsonl.gz", ".csv", ".csv.gz" };

struct result {
	double main_ns, writer_ns; /* per packet */
	double bytes; /* per batch, on disk */
};

static uint64_t dir_bytes(const char *dir)
{
	char p[512];
	struct dirent *e;
	struct stat st;
	uint64_t n = 0;
	DIR *d = opendir(dir);

	while (d && (e = readdir(d))) {
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (e->d_name[0] != '.' && !stat(p, &st))
			n += (uint64_t)st.st_size;
	}
	if (d)
		closedir(d);
	return n;
}

static void rm_dir(const char *dir)
{
	char p[512];
	struct dirent *e;
	DIR *d = opendir(dir);

	while (d && (e = readdir(d))) {
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (e->d_name[0] != '.')
			unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static int run(int mode, struct synth *s, uint32_t nb, struct result *res)
{
	struct fb_out_ctx ctx = { .key_fields = 0xff, .ifname = ifname_cb, .interval_ns = 1000000000ull,
				  .mono_to_epoch_ns = 1700000000000000000ll - (int64_t)SYNTH_T0 };
	char dir[64] = "/tmp/fb_bench_outfile_XXXXXX", path[128];
	struct fb_out_opts o = { .kind = "file", .target = path };
	struct fb_out_report r;
	uint64_t main_ns = 0, p0, t, i;
	void *out = NULL, *fs = NULL;
	FILE *f = NULL;
	int spins;

	ctx.fams[FB_REC_PKT] = &fb_flows_ops;
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/flows%s", dir, mode == M_SYNC ? ".jsonl" : mode_names[mode]);
	if (mode == M_SYNC) {
		f = fopen(path, "w");
		fs = f ? fb_format_jsonl.new(&ctx) : NULL;
		if (!fs)
			return -1;
		setvbuf(f, NULL, _IOFBF, 1u << 20);
	} else {
		o.gzip = strstr(path, ".gz") != NULL;
		out = fb_out_file.open(&o, &ctx);
		if (!out)
			return -1;
	}
	p0 = bench_ns(CLOCK_PROCESS_CPUTIME_ID);
	for (i = 1; i <= nb; i++) {
		synth_number(s, i);
		t = bench_ns(CLOCK_THREAD_CPUTIME_ID);
		if (mode == M_SYNC) {
			if (fb_format_jsonl.batch(fs, f, &s->v) || fflush(f))
				return -1;
		} else if (fb_out_file.write(out, &s->v)) {
			return -1;
		}
		main_ns += bench_ns(CLOCK_THREAD_CPUTIME_ID) - t;
		/* the writer has the next second to itself: wait for it (this
		 * thread sleeps meanwhile, so its CPU time is not the writer's) */
		for (spins = 0; out && spins < 200000; spins++) {
			memset(&r, 0, sizeof(r));
			fb_out_file.report(out, &r);
			if (r.batches + r.dropped >= i)
				break;
			usleep(200);
		}
	}
	res->writer_ns = (double)(bench_ns(CLOCK_PROCESS_CPUTIME_ID) - p0) - (double)main_ns;
	if (out) {
		memset(&r, 0, sizeof(r));
		fb_out_file.report(out, &r);
		fb_out_file.close(out);
		if (r.dropped || r.batches != nb) {
			fprintf(stderr, "b_outfile: %s wrote %llu of %u batches\n", mode_names[mode],
				(unsigned long long)r.batches, nb);
			return -1;
		}
	} else {
		fb_format_jsonl.free(fs);
		fclose(f);
		res->writer_ns = 0;
	}
	res->main_ns = (double)main_ns / ((double)nb * PKTS);
	res->writer_ns /= (double)nb * PKTS;
	res->bytes = (double)dir_bytes(dir) / nb;
	rm_dir(dir);
	return 0;
}

int main(int argc, char **argv)
{
	static const uint32_t flows[] = { 1000, 100000 };
	static const char *const flow_names[] = { "1K", "100K" };
	bool quick = has_flag(argc, argv, "--quick");
	struct result r[REPS], med[NMODE];
	int fi, m, rep;

	/* the writer thread gets the other CPU, as it would beside capture */
	pin_cpu(0);
	printf("# outfile: CPU per packet of a -w file, plain and gzip, 1M packets a batch, median of %d\n",
	       REPS);
	for (fi = 0; fi < 2; fi++) {
		struct synth s;
		uint32_t nb = quick ? 2 : (fi ? 5 : 20);

		synth_fill(&s, flows[fi], PKTS);
		for (m = 0; m < NMODE; m++) {
			double a[REPS], b[REPS];

			for (rep = 0; rep < REPS; rep++) {
				if (run(m, &s, nb, &r[rep])) {
					fprintf(stderr, "b_outfile: %s at %s flows failed\n", mode_names[m], flow_names[fi]);
					return 1;
				}
				a[rep] = r[rep].main_ns;
				b[rep] = r[rep].writer_ns;
			}
			med[m].main_ns = median(a, REPS);
			med[m].writer_ns = median(b, REPS);
			med[m].bytes = r[0].bytes;
			printf("RESULT outfile flows=%s output=%s main_ns_per_pkt=%.3f writer_ns_per_pkt=%.3f "
			       "total_ns_per_pkt=%.3f kib_per_batch=%.0f\n",
			       flow_names[fi], mode_names[m], med[m].main_ns, med[m].writer_ns,
			       med[m].main_ns + med[m].writer_ns, med[m].bytes / 1024);
		}
		printf("RESULT outfile flows=%s gzip_over_plain_jsonl=%.2f gzip_over_plain_csv=%.2f "
		       "jsonl_gz_size_ratio=%.1f\n",
		       flow_names[fi],
		       (med[M_JSONL_GZ].main_ns + med[M_JSONL_GZ].writer_ns) /
			       (med[M_JSONL].main_ns + med[M_JSONL].writer_ns),
		       (med[M_CSV_GZ].main_ns + med[M_CSV_GZ].writer_ns) /
			       (med[M_CSV].main_ns + med[M_CSV].writer_ns),
		       med[M_JSONL].bytes / med[M_JSONL_GZ].bytes);
		synth_free(&s);
	}
	return 0;
}

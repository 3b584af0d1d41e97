/* The micro-batching claim: one synthetic record stream (1K flows, records
 * at 1M packets/s of simulated time) exported
 *   event   one JSON line per packet, written compactly with flowbatch's
 *           flow-row field names through a fully buffered stdio stream
 *           (the cheapest a per-event exporter can be), and
 *   batch   through flowbatch's batcher and its JSONL format (fb_format_jsonl)
 *           with 10 ms, 100 ms and 1 s batches, on a fake clock fed from
 *           the record timestamps (ticks at window end + 5 ms grace, as the
 *           timerfd does).
 * Output goes to a file in /tmp (deleted after), so write costs are real.
 * Reports CPU ns per packet (CLOCK_PROCESS_CPUTIME_ID), output bytes per
 * packet and latency from the end of a batch (or an event) to its output:
 * for batches the grace plus the measured time to emit one, for events the
 * time to format and write one line. A smaller line-flushed per-event run
 * (one write(2) per packet, as a tool writing to a pipe would) is shown for
 * reference. Medians of 3.
 * Usage: b_export [--quick] [--records N] */
#include "bench.h"
#include <fcntl.h>
#include <sys/stat.h>
#include "batch.h"
#include "flows.h"
#include "fmt.h"
#include "format.h"

#define REPS 3
#define NFLOWS 1024
#define PPS_GAP_NS 1000ull /* 1M packets/s */
#define T0 (1000ull * 1000000000ull)
#define GRACE_NS 5000000ull

static const char *ifname_cb(void *ctx, uint32_t ifindex)
{
	return "eth0";
}

static struct fb_pkt *make_stream(uint32_t n)
{
	struct fb_pkt *r = calloc(n, sizeof(*r));
	uint64_t x = 0x9E3779B97F4A7C15ull;
	uint32_t i;

	if (!r)
		return NULL;
	for (i = 0; i < n; i++) {
		struct fb_pkt *p = &r[i];
		uint32_t k;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		k = (uint32_t)(x % NFLOWS);
		p->type = FB_REC_PKT;
		p->len = sizeof(*p);
		p->segs = 1;
		p->proto = (k & 7) ? 17 : 6;
		p->tcp_flags = p->proto == 6 ? 0x18 : 0;
		p->ethertype = 0x0800;
		p->seq = i + 1;
		p->ifindex = 2;
		p->ts_ns = T0 + (uint64_t)i * PPS_GAP_NS;
		p->wire_len = 64 + (k * 37) % 1400;
		p->skb_len = p->wire_len;
		p->sport = (uint16_t)(1024 + k);
		p->dport = (k & 1) ? 443 : 53;
		p->src[10] = p->src[11] = 0xff;
		p->src[12] = 10, p->src[13] = 1, p->src[14] = (uint8_t)(k >> 8), p->src[15] = (uint8_t)k;
		p->dst[10] = p->dst[11] = 0xff;
		p->dst[12] = 192, p->dst[13] = 0, p->dst[14] = 2, p->dst[15] = (uint8_t)(k % 7 + 1);
	}
	return r;
}

static FILE *open_tmp(char *path, size_t len)
{
	int fd;

	snprintf(path, len, "/tmp/fb_bench_export_XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	return fdopen(fd, "w");
}

static uint64_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (uint64_t)st.st_size;
}

/* One line per packet, flowbatch's flow-row field names, compact. */
static void event_line(FILE *f, const struct fb_pkt *p, int64_t epoch)
{
	char s[64], d[64];
	bool icmp = p->proto == 1 || p->proto == 58;

	fputs("{\"type\":\"flow\",\"iface\":", f);
	fb_json_str(f, ifname_cb(NULL, p->ifindex));
	fprintf(f,
		",\"dir\":\"%s\",\"etype\":%u,\"proto\":%u,\"src_addr\":\"%s\",\"dst_addr\":\"%s\","
		"\"%s\":%u,\"%s\":%u,\"packets\":1,\"bytes\":%u,\"tcp_flags\":%u,"
		"\"time_flow_start_ns\":%llu,\"time_flow_end_ns\":%llu}\n",
		(p->flags & FB_F_EGRESS) ? "out" : "in", p->ethertype, p->proto,
		fb_fmt_addr(p->src, s, sizeof(s)), fb_fmt_addr(p->dst, d, sizeof(d)),
		icmp ? "icmp_type" : "src_port", p->sport, icmp ? "icmp_code" : "dst_port", p->dport,
		p->wire_len, p->tcp_flags, (unsigned long long)(p->ts_ns + epoch),
		(unsigned long long)(p->ts_ns + epoch));
}

struct result {
	double cpu_ns; /* per packet */
	double bytes; /* per packet */
	double lat_ns; /* mean latency */
	double lat_max_ns;
	uint64_t batches;
};

static int run_event(const struct fb_pkt *recs, uint32_t n, bool flush_each, int64_t epoch,
		     struct result *res)
{
	char path[64];
	FILE *f = open_tmp(path, sizeof(path));
	uint64_t c0, w0, w1;
	uint32_t i;

	if (!f)
		return -1;
	c0 = bench_ns(CLOCK_PROCESS_CPUTIME_ID);
	w0 = mono_ns();
	for (i = 0; i < n; i++) {
		event_line(f, &recs[i], epoch);
		if (flush_each)
			fflush(f);
	}
	fflush(f);
	w1 = mono_ns();
	res->cpu_ns = (double)(bench_ns(CLOCK_PROCESS_CPUTIME_ID) - c0) / n;
	fclose(f);
	res->bytes = (double)file_size(path) / n;
	res->lat_ns = (double)(w1 - w0) / n;
	res->lat_max_ns = res->lat_ns;
	res->batches = 0;
	unlink(path);
	return 0;
}

struct bctx {
	const struct fb_format_ops *ops;
	void *fmt;
	FILE *f;
	uint64_t now; /* fake clock */
	uint64_t emits, emit_ns_sum, emit_ns_max;
};

static uint64_t fake_clock(void *ctx)
{
	return ((struct bctx *)ctx)->now;
}

/* as flowbatch's stdout and file outputs do: the batch's rows, then a
 * flush, so a reader sees whole batches */
static int emit_cb(void *ctx, struct fb_batch_view *v)
{
	struct bctx *c = ctx;
	int err = c->ops->batch(c->fmt, c->f, v);

	if (!err && fflush(c->f))
		err = -errno;
	return err;
}

/* One tick, timed in wall time: what a batch costs from its deadline until
 * its lines are written and flushed. */
static int timed_tick(struct fb_batcher *b, struct bctx *c)
{
	uint64_t t0 = mono_ns(), before = 0, dt;
	struct fb_run_totals t;
	int err;

	fb_batcher__totals(b, &t);
	before = t.batches;
	err = fb_batcher__tick(b, c->now);
	dt = mono_ns() - t0;
	fb_batcher__totals(b, &t);
	if (t.batches > before) {
		c->emits += t.batches - before;
		c->emit_ns_sum += dt;
		if (dt / (t.batches - before) > c->emit_ns_max)
			c->emit_ns_max = dt / (t.batches - before);
	}
	return err;
}

static int run_batch(const struct fb_pkt *recs, uint32_t n, uint64_t interval, int64_t epoch,
		     struct result *res)
{
	struct fb_batcher_opts bo = { 0 };
	struct fb_flows_opts fo = { 0 };
	struct fb_out_ctx octx = { 0 };
	struct bctx c = { 0 };
	struct fb_batcher *b;
	struct fb_run_totals t;
	char path[64], err[128];
	FILE *f = open_tmp(path, sizeof(path));
	uint64_t c0;
	uint32_t i;
	int rc = -1;

	if (!f)
		return -1;
	if (fb_keyspec_parse(FB_KEYS_DEFAULT, &fo.keys, err, sizeof(err)))
		goto out;
	octx.key_fields = fo.keys.fields;
	octx.mono_to_epoch_ns = epoch;
	octx.ifname = ifname_cb;
	octx.interval_ns = interval;
	octx.fams[FB_REC_PKT] = &fb_flows_ops;
	c.ops = &fb_format_jsonl;
	c.f = f;
	c.now = T0;
	bo.interval_ns = interval;
	bo.grace_ns = GRACE_NS;
	bo.start_ns = T0;
	fo.max_flows = 65536; /* flowbatch's default */
	fo.top = 0; /* jsonl's default: every row, first-seen order */
	bo.fams[FB_REC_PKT] = fb_flows__new(&fo);
	bo.ncpus = 1;
	bo.emit = emit_cb;
	bo.emit_ctx = &c;
	bo.clock = fake_clock;
	bo.clock_ctx = &c;

	c0 = bench_ns(CLOCK_PROCESS_CPUTIME_ID);
	c.fmt = c.ops->new(&octx);
	b = fb_batcher__new(&bo); /* owns the family, also when it fails */
	if (!c.fmt || !b || (c.ops->header && c.ops->header(c.fmt, f)))
		goto out_free;
	/* as the consumer: chunks of FB_RING_CHUNK records, ticks at deadlines */
	for (i = 0; i < n; i += FB_RING_CHUNK) {
		uint32_t m = n - i < FB_RING_CHUNK ? n - i : FB_RING_CHUNK;

		while (recs[i].ts_ns > fb_batcher__next_deadline(b)) {
			c.now = fb_batcher__next_deadline(b);
			if (timed_tick(b, &c))
				goto out_free;
		}
		c.now = recs[i + m - 1].ts_ns;
		if (fb_batcher__add(b, &recs[i], m))
			goto out_free;
	}
	/* the last windows are emitted at their deadlines too */
	c.now = recs[n - 1].ts_ns + interval + GRACE_NS;
	if (timed_tick(b, &c))
		goto out_free;
	res->cpu_ns = (double)(bench_ns(CLOCK_PROCESS_CPUTIME_ID) - c0) / n;
	fb_batcher__totals(b, &t);
	res->batches = t.batches;
	if (t.led[FB_REC_PKT].records != n || t.led[FB_REC_PKT].lost || t.late) {
		fprintf(stderr, "b_export: batches hold %llu packets (%llu lost, %llu late), expected %u\n",
			(unsigned long long)t.led[FB_REC_PKT].records,
			(unsigned long long)t.led[FB_REC_PKT].lost, (unsigned long long)t.late, n);
		goto out_free;
	}
	res->lat_ns = GRACE_NS + (c.emits ? (double)c.emit_ns_sum / c.emits : 0);
	res->lat_max_ns = GRACE_NS + (double)c.emit_ns_max;
	rc = 0;
out_free:
	fb_batcher__free(b);
	if (c.fmt)
		c.ops->free(c.fmt);
out:
	fclose(f);
	res->bytes = (double)file_size(path) / n;
	unlink(path);
	return rc;
}

int main(int argc, char **argv)
{
	static const uint64_t ivs[] = { 10000000ull, 100000000ull, 1000000000ull };
	static const char *const iv_names[] = { "batch_10ms", "batch_100ms", "batch_1s" };
	enum { NIV = 3, NMODE = 5 }; /* event, event_flush, 3 batch sizes */
	const char *names[NMODE] = { "event", "event_flush", iv_names[0], iv_names[1], iv_names[2] };
	bool quick = has_flag(argc, argv, "--quick");
	uint32_t n = quick ? 500000 : 3000000, n_flush;
	struct result r[NMODE][REPS], med[NMODE];
	struct fb_pkt *recs;
	int64_t epoch = 1700000000ll * 1000000000ll - (int64_t)T0;
	uint64_t t_start = mono_ns();
	int i, k, rep;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--records") && i + 1 < argc)
			n = (uint32_t)strtoul(argv[++i], NULL, 0);
	n_flush = n / 10;
	recs = make_stream(n);
	if (!recs) {
		fprintf(stderr, "b_export: out of memory\n");
		return 1;
	}
	pin_cpu(0);
	for (rep = 0; rep < REPS; rep++) {
		for (k = 0; k < NMODE; k++) {
			int e;

			if (k == 0)
				e = run_event(recs, n, false, epoch, &r[k][rep]);
			else if (k == 1)
				e = run_event(recs, n_flush, true, epoch, &r[k][rep]);
			else
				e = run_batch(recs, n, ivs[k - 2], epoch, &r[k][rep]);
			if (e) {
				fprintf(stderr, "b_export: %s failed\n", names[k]);
				return 1;
			}
		}
	}
	for (k = 0; k < NMODE; k++) {
		double v[REPS];

		for (rep = 0; rep < REPS; rep++)
			v[rep] = r[k][rep].cpu_ns;
		med[k].cpu_ns = median(v, REPS);
		for (rep = 0; rep < REPS; rep++)
			v[rep] = r[k][rep].lat_ns;
		med[k].lat_ns = median(v, REPS);
		for (rep = 0; rep < REPS; rep++)
			v[rep] = r[k][rep].lat_max_ns;
		med[k].lat_max_ns = median(v, REPS);
		med[k].bytes = r[k][0].bytes;
		med[k].batches = r[k][0].batches;
	}
	printf("# export: %u records (%u for event_flush) of %d flows at 1M pkt/s simulated, "
	       "output to a file in /tmp, CPU time of the process, median of %d, %.1f s\n",
	       n, n_flush, NFLOWS, REPS, (mono_ns() - t_start) / 1e9);
	for (k = 0; k < NMODE; k++)
		printf("RESULT export mode=%s cpu_ns_per_pkt=%.1f runs=%.1f/%.1f/%.1f bytes_per_pkt=%.2f "
		       "latency_us=%.3f latency_max_us=%.3f batches=%llu\n",
		       names[k], med[k].cpu_ns, r[k][0].cpu_ns, r[k][1].cpu_ns, r[k][2].cpu_ns,
		       med[k].bytes, med[k].lat_ns / 1e3, med[k].lat_max_ns / 1e3,
		       (unsigned long long)med[k].batches);
	printf("RESULT export ratio_event_batch1s=%.1f ratio_event_batch100ms=%.1f "
	       "ratio_event_batch10ms=%.1f bytes_ratio_event_batch1s=%.1f\n",
	       med[0].cpu_ns / med[4].cpu_ns, med[0].cpu_ns / med[3].cpu_ns,
	       med[0].cpu_ns / med[2].cpu_ns, med[0].bytes / med[4].bytes);

	printf("\nexport of %u packets, 1K flows, 1M pkt/s (median of %d)\n", n, REPS);
	printf("%-12s %12s %12s %14s %14s\n", "mode", "CPU ns/pkt", "bytes/pkt", "latency", "latency max");
	for (k = 0; k < NMODE; k++)
		printf("%-12s %12.1f %12.2f %12.3fms %12.3fms\n", names[k], med[k].cpu_ns, med[k].bytes,
		       med[k].lat_ns / 1e6, med[k].lat_max_ns / 1e6);
	printf("per-event / 1 s batches, CPU per packet: %.1fx\n", med[0].cpu_ns / med[4].cpu_ns);
	free(recs);
	return 0;
}

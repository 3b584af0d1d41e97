/* CPU cost of each output per packet, side by side: JSON Lines (the format
 * to a file in /tmp, as stdout or -w write it), Prometheus (the snapshot
 * rendered at each batch, without and with --prometheus-keys), and IPFIX
 * (encoded and sent over UDP to a socket on 127.0.0.1 that this process
 * drains between batches). Each gets the same finished batches: 1K and 100K
 * flows (IPv4 and IPv6 mixed), 1M packets a batch (1 s batches at 1M
 * packets/s). Only the output's write (and flush) is timed, in thread CPU
 * time, so aggregation is not in the figures (b_consumer has it).
 * Medians of 3. Usage: b_outputs [--quick] */
#include "bench.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "batch.h"
#include "flows.h"
#include "synth.h"
#include "format.h"
#include "out_net.h"

#define REPS 3
#define PKTS_PER_BATCH 1000000ull

static const char *ifname_cb(void *ctx, uint32_t ifindex)
{
	return "eth0";
}

enum kind { K_JSONL, K_PROM, K_PROM_KEYS, K_IPFIX, NKIND };
static const char *const kind_names[NKIND] = { "jsonl", "prometheus", "prometheus_keys", "ipfix" };

static int free_port(int type)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int s = socket(AF_INET, type | SOCK_CLOEXEC, 0), port = -1;

	if (s >= 0 && !bind(s, (struct sockaddr *)&a, sizeof(a)) && !getsockname(s, (struct sockaddr *)&a, &al))
		port = ntohs(a.sin_port);
	if (s >= 0)
		close(s);
	return port;
}

struct result {
	double ns_per_pkt, ns_per_row;
	double bytes_per_batch; /* output bytes */
	uint64_t errors;
};

static void drain(int fd, uint64_t *bytes)
{
	static char buf[65536];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		*bytes += (uint64_t)n;
}

static int run(enum kind k, struct synth *b, uint32_t nbatches, struct result *res)
{
	struct fb_out_ctx ctx = { .key_fields = 0xff, .ifname = ifname_cb, .mono_to_epoch_ns = 1700000000000000000ll - (int64_t)SYNTH_T0,
				  .interval_ns = 1000000000ull };
	const struct fb_output_ops *ops = k == K_IPFIX ? &fb_out_ipfix : &fb_out_prometheus;
	struct fb_out_opts o = { 0 };
	char target[64], path[64];
	void *fs = NULL, *out = NULL;
	FILE *f = NULL;
	int rx = -1, fd;
	uint64_t cpu = 0, bytes = 0, t;
	uint32_t i;

	if (k == K_JSONL) {
		snprintf(path, sizeof(path), "/tmp/fb_bench_outputs_XXXXXX");
		fd = mkstemp(path);
		f = fd >= 0 ? fdopen(fd, "w") : NULL;
		fs = f ? fb_format_jsonl.new(&ctx) : NULL;
		if (!fs)
			return -1;
		setvbuf(f, NULL, _IOFBF, 1u << 20);
	} else if (k == K_IPFIX) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t al = sizeof(a);
		int big = 64 << 20;

		rx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		setsockopt(rx, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
		if (rx < 0 || bind(rx, (struct sockaddr *)&a, sizeof(a)) || getsockname(rx, (struct sockaddr *)&a, &al))
			return -1;
		snprintf(target, sizeof(target), "127.0.0.1:%u", ntohs(a.sin_port));
		o.kind = "ipfix", o.target = target, o.ipfix_domain = 1;
		out = ops->open(&o, &ctx);
	} else {
		snprintf(target, sizeof(target), "127.0.0.1:%d", free_port(SOCK_STREAM));
		o.kind = "prometheus", o.target = target, o.prom_max_series = 1000;
		if (k == K_PROM_KEYS)
			o.prom_keys = "src/24,proto";
		out = ops->open(&o, &ctx);
	}
	if (k != K_JSONL && !out)
		return -1;
	for (i = 1; i <= nbatches; i++) {
		synth_number(b, i);
		t = bench_ns(CLOCK_THREAD_CPUTIME_ID);
		if (k == K_JSONL) {
			if (fb_format_jsonl.batch(fs, f, &b->v) || fflush(f))
				return -1;
		} else if (ops->write(out, &b->v)) {
			return -1;
		}
		cpu += bench_ns(CLOCK_THREAD_CPUTIME_ID) - t;
		if (k == K_IPFIX)
			drain(rx, &bytes);
		if (k == K_PROM || k == K_PROM_KEYS) {
			size_t len;

			fb_prom__text(out, &len);
			bytes += len;
		}
	}
	res->ns_per_pkt = (double)cpu / ((double)nbatches * PKTS_PER_BATCH);
	res->ns_per_row = (double)cpu / ((double)nbatches * b->nflows);
	res->errors = 0;
	if (k == K_JSONL) {
		bytes = (uint64_t)ftell(f);
		fb_format_jsonl.free(fs);
		fclose(f);
		unlink(path);
	} else {
		struct fb_out_report r = { 0 };

		ops->report(out, &r);
		res->errors = r.errors;
		ops->close(out);
	}
	if (rx >= 0)
		close(rx);
	res->bytes_per_batch = (double)bytes / nbatches;
	return 0;
}

int main(int argc, char **argv)
{
	static const uint32_t flows[] = { 1000, 100000 };
	static const char *const flow_names[] = { "1K", "100K" };
	bool quick = has_flag(argc, argv, "--quick");
	struct result r[REPS], med;
	int fi, k, rep;

	pin_cpu(0);
	printf("# outputs: CPU per packet of each output's write, 1M packets a batch, median of %d\n", REPS);
	for (fi = 0; fi < 2; fi++) {
		struct synth b;
		uint32_t nb = quick ? 2 : (fi ? 5 : 20);

		synth_fill(&b, flows[fi], PKTS_PER_BATCH);
		for (k = 0; k < NKIND; k++) {
			double v[REPS], w[REPS];

			for (rep = 0; rep < REPS; rep++) {
				if (run((enum kind)k, &b, nb, &r[rep])) {
					fprintf(stderr, "b_outputs: %s at %s flows failed\n", kind_names[k], flow_names[fi]);
					return 1;
				}
				v[rep] = r[rep].ns_per_pkt;
				w[rep] = r[rep].ns_per_row;
			}
			med.ns_per_pkt = median(v, REPS);
			med.ns_per_row = median(w, REPS);
			printf("RESULT outputs flows=%s output=%s cpu_ns_per_pkt=%.3f cpu_ns_per_row=%.1f "
			       "bytes_per_batch=%.0f send_errors=%llu\n",
			       flow_names[fi], kind_names[k], med.ns_per_pkt, med.ns_per_row, r[0].bytes_per_batch,
			       (unsigned long long)r[0].errors);
		}
		synth_free(&b);
	}
	return 0;
}

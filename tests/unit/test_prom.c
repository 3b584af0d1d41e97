/* Prometheus output (out_prom.c): the exposition text (format, naming,
 * values after batches, the series cap) and the HTTP side driven the way
 * the event loop drives it (poll on the output's descriptor, then on_fd),
 * with a client on 127.0.0.1. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include "agg.h"
#include "batch.h"
#include "flows.h"
#include "helpers.h"
#include "out_net.h"

#define ALL_KEYS 0xffu
#define EPOCH 1700000000000000000ll

static void *out;
static char target[64];
static unsigned port;

static const char *ifname_cb(void *ctx, uint32_t ifindex)
{
	switch (ifindex) {
	case 2: return "eth0";
	case 3: return "veth\"x";
	default: return NULL;
	}
}

static void pick_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(s, 0);
	cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(s, (struct sockaddr *)&a, &al), 0);
	port = ntohs(a.sin_port);
	close(s);
	snprintf(target, sizeof(target), "127.0.0.1:%u", port);
}

static void *open_prom(uint32_t kf, const char *keys, uint32_t max_series)
{
	static const struct fb_family_ops fam = { .type = FB_REC_PKT, .name = "packets" };
	struct fb_out_ctx c = { .key_fields = kf, .mono_to_epoch_ns = EPOCH, .ifname = ifname_cb };
	struct fb_out_opts o = { .kind = "prometheus", .target = target, .prom_keys = keys,
				 .prom_max_series = max_series };

	c.fams[FB_REC_PKT] = &fam;
	return fb_out_prometheus.open(&o, &c);
}

static void setup(void)
{
	pick_port();
}

static void teardown(void)
{
	if (out)
		fb_out_prometheus.close(out);
	out = NULL;
}

TestSuite(prom, .init = setup, .fini = teardown);

/* ---- the text ---------------------------------------------------------------------- */

static char *text(void)
{
	size_t len;
	const char *t = fb_prom__text(out, &len);

	cr_assert_not_null(t);
	return strndup(t, len);
}

/* The value of the sample "name{labels}" (labels exactly as written), or
 * -1 when absent. */
static double sample(const char *series)
{
	char *t = text(), *line, *save = NULL;
	double v = -1;
	size_t n = strlen(series);

	for (line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, series, n) && line[n] == ' ') {
			v = strtod(line + n + 1, NULL);
			break;
		}
	free(t);
	return v;
}

static int count_prefix(const char *prefix)
{
	char *t = text(), *line, *save = NULL;
	int n = 0;

	for (line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		n += !strncmp(line, prefix, strlen(prefix));
	free(t);
	return n;
}

/* Every line is a HELP, a TYPE or a sample of the family the last TYPE
 * named (name, name_bucket/_sum/_count for histograms); names are valid,
 * counters end in _total; each family appears once. */
static void check_format(void)
{
	char *t = text(), *line, *save = NULL;
	char fam[128] = "", type[32] = "", seen[4096] = " ";
	regex_t name_re, sample_re;

	cr_assert_eq(regcomp(&name_re, "^[a-zA-Z_:][a-zA-Z0-9_:]*$", REG_EXTENDED | REG_NOSUB), 0);
	cr_assert_eq(regcomp(&sample_re,
			     "^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\",?)*\\})? "
			     "-?[0-9.e+Inf]+$",
			     REG_EXTENDED | REG_NOSUB),
		     0);
	cr_assert(t[strlen(t) - 1] != ' ');
	for (line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128], what[16], key[140];

		if (!strncmp(line, "# HELP ", 7)) {
			cr_assert_eq(sscanf(line, "# HELP %127s", name), 1);
			cr_assert_eq(regexec(&name_re, name, 0, NULL, 0), 0, "name %s", name);
			cr_assert_gt(strlen(line), strlen(name) + 8, "help text for %s", name);
			snprintf(key, sizeof(key), " %s ", name);
			cr_assert_null(strstr(seen, key), "family %s twice", name);
			strncat(seen, key + 1, sizeof(seen) - strlen(seen) - 1);
			snprintf(fam, sizeof(fam), "%s", name);
			type[0] = 0;
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			cr_assert_eq(sscanf(line, "# TYPE %127s %15s", name, what), 2);
			cr_assert_str_eq(name, fam, "TYPE right after HELP");
			cr_assert(!strcmp(what, "counter") || !strcmp(what, "gauge") || !strcmp(what, "histogram"));
			if (!strcmp(what, "counter"))
				cr_assert(strlen(name) > 6 && !strcmp(name + strlen(name) - 6, "_total"),
					  "counter %s ends in _total", name);
			cr_assert_eq(strncmp(name, "flowbatch_", 10), 0);
			snprintf(type, sizeof(type), "%s", what);
			continue;
		}
		cr_assert_neq(line[0], '#', "unknown comment: %s", line);
		cr_assert_eq(regexec(&sample_re, line, 0, NULL, 0), 0, "sample line: '%s'", line);
		cr_assert(type[0], "sample before TYPE: %s", line);
		cr_assert_eq(strncmp(line, fam, strlen(fam)), 0, "%s outside its family %s", line, fam);
		if (!strcmp(type, "histogram")) {
			const char *rest = line + strlen(fam);

			cr_assert(!strncmp(rest, "_bucket{le=", 11) || !strncmp(rest, "_sum ", 5) ||
				  !strncmp(rest, "_count ", 7), "%s", line);
		} else {
			cr_assert(line[strlen(fam)] == ' ' || line[strlen(fam)] == '{', "%s", line);
		}
	}
	regfree(&name_re);
	regfree(&sample_re);
	free(t);
}

/* ---- batches ------------------------------------------------------------------------ */

struct vb {
	struct fb_batch_stats st;
	struct fb_flows_view fv;
	struct fb_batch_view v;
	struct fb_flow flows[64];
	const struct fb_flow *top[64];
	struct fb_flow rest, over;
	struct fb_iface_total ift[8];
};

/* the flows family's per-record totals of one interface and direction */
static void vb_iface(struct vb *b, uint32_t ifindex, uint8_t dir, uint64_t rec, uint64_t pk, uint64_t by)
{
	uint32_t i;

	for (i = 0; i < b->fv.nifaces; i++)
		if (b->ift[i].ifindex == ifindex && b->ift[i].dir == dir)
			break;
	if (i == b->fv.nifaces) {
		cr_assert_lt(i, 8);
		b->ift[i] = (struct fb_iface_total){ .ifindex = ifindex, .dir = dir };
		b->fv.nifaces++;
	}
	b->ift[i].records += rec;
	b->ift[i].packets += pk;
	b->ift[i].bytes += by;
}

static void vb_init(struct vb *b, uint64_t number)
{
	memset(b, 0, sizeof(*b));
	b->st.number = number;
	b->st.start_ns = 100 * SEC + (number - 1) * SEC;
	b->st.end_ns = b->st.start_ns + SEC;
	b->fv.top = b->top;
	b->fv.rest = &b->rest;
	b->fv.overflow_row = &b->over;
	b->fv.ifaces = b->ift;
	b->v.st = &b->st;
	b->v.fam[FB_REC_PKT] = &b->fv;
}

static void add_row(struct vb *b, uint32_t ifindex, uint8_t dir, const char *src, uint8_t proto,
		    uint64_t pk, uint64_t by)
{
	struct fb_flow *f = &b->flows[b->fv.ntop];

	memset(f, 0, sizeof(*f));
	f->key.ifindex = ifindex;
	f->key.dir = dir;
	f->key.ethertype = FB_ETH_P_IP;
	f->key.proto = proto;
	addr_set(f->key.src, src);
	addr_set(f->key.dst, "198.18.0.1");
	f->key.sport = 1000;
	f->key.dport = 53;
	f->packets = pk;
	f->bytes = by;
	b->top[b->fv.ntop++] = f;
	b->fv.flows++;
	b->fv.packets += pk;
	b->fv.bytes += by;
	b->fv.records += pk;
	b->st.led[FB_REC_PKT].records += pk;
	b->st.led[FB_REC_PKT].seen += pk;
	vb_iface(b, ifindex, dir, pk, pk, by);
}

Test(prom, before_any_batch_every_family_is_there_at_zero)
{
	out = open_prom(ALL_KEYS, NULL, 1000);
	cr_assert_not_null(out);
	check_format();
	cr_assert_eq(sample("flowbatch_batches_total"), 0);
	cr_assert_eq(sample("flowbatch_records_total{family=\"packets\"}"), 0);
	cr_assert_eq(sample("flowbatch_ring_lost_records_total{family=\"packets\"}"), 0);
	cr_assert_eq(sample("flowbatch_batch_delay_seconds_count"), 0);
	cr_assert_eq(sample("flowbatch_build_info{version=\"" FB_VERSION "\"}"), 1);
	cr_assert_eq(count_prefix("flowbatch_group_"), 0, "no group series unless asked");
}

Test(prom, counters_add_up_batches_and_interfaces)
{
	struct vb b;

	out = open_prom(ALL_KEYS, NULL, 1000);
	cr_assert_not_null(out);
	vb_init(&b, 1);
	add_row(&b, 2, 0, "198.18.0.2", 17, 10, 1000);
	add_row(&b, 2, 0, "198.18.0.3", 6, 5, 300);
	add_row(&b, 2, 1, "198.18.0.2", 17, 7, 700);
	add_row(&b, 3, 0, "198.18.0.9", 17, 1, 60);
	b.st.led[FB_REC_PKT].lost = 4;
	b.st.led[FB_REC_PKT].seen += 4;
	b.st.late = 2;
	b.st.unknown = 1;
	b.fv.parse_errors = 3;
	b.st.proc_ns = 300000; /* 0.3 ms */
	b.st.delay_ns = 5500000; /* 5.5 ms */
	b.v.outputs_dropped = 6;
	cr_assert_eq(fb_out_prometheus.write(out, &b.v), 0);
	check_format();
	cr_assert_eq(sample("flowbatch_batches_total"), 1);
	cr_assert_eq(sample("flowbatch_interface_packets_total{iface=\"eth0\",dir=\"in\"}"), 15);
	cr_assert_eq(sample("flowbatch_interface_bytes_total{iface=\"eth0\",dir=\"in\"}"), 1300);
	cr_assert_eq(sample("flowbatch_interface_packets_total{iface=\"eth0\",dir=\"out\"}"), 7);
	cr_assert_eq(sample("flowbatch_interface_packets_total{iface=\"veth\\\"x\",dir=\"in\"}"), 1,
		     "a quote in a name is escaped");
	cr_assert_eq(sample("flowbatch_packets_total"), 23);
	cr_assert_eq(sample("flowbatch_bytes_total"), 2060);
	cr_assert_eq(sample("flowbatch_records_total{family=\"packets\"}"), 23);
	cr_assert_eq(sample("flowbatch_ring_lost_records_total{family=\"packets\"}"), 4);
	cr_assert_eq(sample("flowbatch_late_records_total"), 2);
	cr_assert_eq(sample("flowbatch_unknown_records_total"), 1);
	cr_assert_eq(sample("flowbatch_parse_errors_total"), 3);
	cr_assert_eq(sample("flowbatch_output_dropped_batches_total"), 6);
	cr_assert_eq(sample("flowbatch_last_batch_flows"), 4);
	cr_assert_eq(sample("flowbatch_last_batch_end_timestamp_seconds"), 1700000101.0);
	/* histograms: cumulative buckets */
	cr_assert_eq(sample("flowbatch_batch_processing_seconds_bucket{le=\"0.00025\"}"), 0);
	cr_assert_eq(sample("flowbatch_batch_processing_seconds_bucket{le=\"0.0005\"}"), 1);
	cr_assert_eq(sample("flowbatch_batch_processing_seconds_bucket{le=\"+Inf\"}"), 1);
	cr_assert_eq(sample("flowbatch_batch_delay_seconds_bucket{le=\"0.005\"}"), 0);
	cr_assert_eq(sample("flowbatch_batch_delay_seconds_bucket{le=\"0.0075\"}"), 1);
	cr_assert_float_eq(sample("flowbatch_batch_delay_seconds_sum"), 0.0055, 1e-9);
	cr_assert_eq(sample("flowbatch_batch_delay_seconds_count"), 1);

	/* a second batch adds to the counters; the interface counters come
	 * from the family's per-record totals, so the rest and overflow rows
	 * count there too */
	vb_init(&b, 2);
	add_row(&b, 2, 0, "198.18.0.2", 17, 100, 10000);
	b.rest.packets = 9, b.rest.bytes = 900, b.fv.packets += 9, b.fv.bytes += 900;
	b.over.packets = 2, b.over.bytes = 200, b.fv.packets += 2, b.fv.bytes += 200, b.fv.overflow = 2;
	/* the rest row's packets were on eth0 in, the overflow's on if 3 in,
	 * one of them a GSO record of 2 segments: the family's totals know */
	vb_iface(&b, 2, 0, 9, 9, 900);
	vb_iface(&b, 3, 0, 1, 2, 200);
	b.st.proc_ns = 2 * SEC;
	b.v.outputs_dropped = 6;
	cr_assert_eq(fb_out_prometheus.write(out, &b.v), 0);
	check_format();
	cr_assert_eq(sample("flowbatch_batches_total"), 2);
	cr_assert_eq(sample("flowbatch_interface_packets_total{iface=\"eth0\",dir=\"in\"}"), 124);
	cr_assert_eq(sample("flowbatch_interface_packets_total{iface=\"veth\\\"x\",dir=\"in\"}"), 3);
	cr_assert_eq(sample("flowbatch_interface_records_total{iface=\"veth\\\"x\",dir=\"in\"}"), 2,
		     "records and wire packets differ for a GSO record");
	cr_assert_eq(sample("flowbatch_packets_total"), 23 + 111);
	cr_assert_eq(sample("flowbatch_overflow_packets_total"), 2);
	cr_assert_eq(sample("flowbatch_batch_processing_seconds_bucket{le=\"1\"}"), 1);
	cr_assert_eq(sample("flowbatch_batch_processing_seconds_bucket{le=\"2.5\"}"), 2);
	cr_assert_eq(sample("flowbatch_batch_processing_seconds_count"), 2);
}

Test(prom, snapshot_changes_only_at_a_batch)
{
	struct vb b;
	size_t l1, l2;
	const char *t1, *t2;

	out = open_prom(ALL_KEYS, NULL, 1000);
	cr_assert_not_null(out);
	vb_init(&b, 1);
	add_row(&b, 2, 0, "198.18.0.2", 17, 10, 1000);
	fb_out_prometheus.write(out, &b.v);
	t1 = fb_prom__text(out, &l1);
	/* the loop running (no scrape) does not touch it */
	fb_out_prometheus.on_fd(out, 0);
	t2 = fb_prom__text(out, &l2);
	cr_assert(t1 == t2 && l1 == l2);
}

Test(prom, group_series_are_capped_with_one_other_series)
{
	struct vb b;
	char s[128];
	double sum = 0;
	int i;

	out = open_prom(ALL_KEYS, "src/24,proto", 3);
	cr_assert_not_null(out);
	vb_init(&b, 1);
	/* five /24s: the first three get series, the rest "other" */
	for (i = 0; i < 5; i++) {
		snprintf(s, sizeof(s), "198.18.%d.7", i);
		add_row(&b, 2, 0, s, 17, (uint64_t)(i + 1), (uint64_t)(i + 1) * 100);
	}
	add_row(&b, 2, 0, "198.18.0.99", 17, 10, 1000); /* same /24 as the first */
	b.rest.packets = 50, b.rest.bytes = 5000, b.fv.packets += 50, b.fv.bytes += 5000;
	cr_assert_eq(fb_out_prometheus.write(out, &b.v), 0);
	check_format();
	cr_assert_eq(sample("flowbatch_group_packets_total{proto=\"17\",src_addr=\"198.18.0.0\"}"), 11);
	cr_assert_eq(sample("flowbatch_group_packets_total{proto=\"17\",src_addr=\"198.18.1.0\"}"), 2);
	cr_assert_eq(sample("flowbatch_group_packets_total{proto=\"17\",src_addr=\"198.18.2.0\"}"), 3);
	cr_assert_eq(sample("flowbatch_group_packets_total{proto=\"17\",src_addr=\"198.18.3.0\"}"), -1);
	cr_assert_eq(sample("flowbatch_group_packets_total{proto=\"other\",src_addr=\"other\"}"), 4 + 5 + 50);
	cr_assert_eq(sample("flowbatch_group_bytes_total{proto=\"17\",src_addr=\"198.18.0.0\"}"), 1100);
	cr_assert_eq(sample("flowbatch_group_series"), 3);
	cr_assert_eq(count_prefix("flowbatch_group_packets_total{"), 4, "3 series and other");

	/* a later batch: a known group adds to its series, a new one to other */
	vb_init(&b, 2);
	add_row(&b, 2, 0, "198.18.2.1", 17, 1, 10);
	add_row(&b, 2, 0, "198.18.9.1", 17, 1, 10);
	cr_assert_eq(fb_out_prometheus.write(out, &b.v), 0);
	cr_assert_eq(sample("flowbatch_group_packets_total{proto=\"17\",src_addr=\"198.18.2.0\"}"), 4);
	cr_assert_eq(sample("flowbatch_group_packets_total{proto=\"other\",src_addr=\"other\"}"), 60);
	for (i = 0; i < 3; i++) {
		snprintf(s, sizeof(s), "flowbatch_group_packets_total{proto=\"17\",src_addr=\"198.18.%d.0\"}", i);
		sum += sample(s);
	}
	sum += sample("flowbatch_group_packets_total{proto=\"other\",src_addr=\"other\"}");
	cr_assert_eq(sum, sample("flowbatch_packets_total"), "groups sum to the total");
}

Test(prom, group_keys_must_be_among_the_flow_keys)
{
	errno = 0;
	out = open_prom(FB_K_SRC | FB_K_DST, "proto", 10);
	cr_assert_null(out);
	cr_assert_eq(errno, EINVAL);
	out = open_prom(ALL_KEYS, "colour", 10);
	cr_assert_null(out);
	cr_assert_eq(errno, EINVAL);
}

/* ---- HTTP ---------------------------------------------------------------------------- */

/* Sends req and runs the output as the event loop would until the server
 * closes the connection (HTTP/1.0). Returns the whole response. */
static char *http_pump(const char *req)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons((uint16_t)port) };
	size_t cap = 1 << 20, len = 0;
	char *resp = calloc(1, cap);
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), i;

	cr_assert_geq(c, 0);
	cr_assert_eq(connect(c, (struct sockaddr *)&a, sizeof(a)), 0, "connect: %s", strerror(errno));
	cr_assert_eq(write(c, req, strlen(req)), (ssize_t)strlen(req));
	fcntl(c, F_SETFL, O_NONBLOCK);
	for (i = 0; i < 400; i++) { /* at most ~4 s */
		struct pollfd p[2] = { { .fd = fb_out_prometheus.fd(out), .events = POLLIN },
				       { .fd = c, .events = POLLIN } };
		ssize_t n;

		poll(p, 2, 10);
		if (p[0].revents & POLLIN)
			cr_assert_eq(fb_out_prometheus.on_fd(out, EPOLLIN), 0);
		if (p[1].revents & (POLLIN | POLLHUP)) {
			n = read(c, resp + len, cap - len - 1);
			if (n == 0)
				break;
			if (n > 0)
				len += (size_t)n;
		}
	}
	close(c);
	resp[len] = 0;
	return resp;
}

Test(prom, http_get_head_404_405)
{
	struct vb b;
	char *r;
	size_t tl;
	const char *t;

	out = open_prom(ALL_KEYS, NULL, 1000);
	cr_assert_not_null(out);
	vb_init(&b, 1);
	add_row(&b, 2, 0, "198.18.0.2", 17, 10, 1000);
	fb_out_prometheus.write(out, &b.v);
	t = fb_prom__text(out, &tl);

	r = http_pump("GET /metrics HTTP/1.0\r\n\r\n");
	cr_assert_eq(strncmp(r + 8, " 200", 4), 0, "%.40s", r);
	cr_assert_not_null(strcasestr(r, "Content-Type: text/plain; version=0.0.4"));
	cr_assert_not_null(strstr(r, "\r\n\r\n"));
	cr_assert_str_eq(strstr(r, "\r\n\r\n") + 4, t, "the body is the snapshot");
	free(r);

	r = http_pump("HEAD /metrics HTTP/1.0\r\n\r\n");
	cr_assert_eq(strncmp(r + 8, " 200", 4), 0, "%.40s", r);
	cr_assert_eq(strlen(strstr(r, "\r\n\r\n")), 4, "no body for HEAD");
	free(r);

	r = http_pump("GET / HTTP/1.0\r\n\r\n");
	cr_assert_eq(strncmp(r + 8, " 404", 4), 0, "%.40s", r);
	free(r);
	r = http_pump("GET /metrics/x HTTP/1.0\r\n\r\n");
	cr_assert_eq(strncmp(r + 8, " 404", 4), 0, "%.40s", r);
	free(r);

	r = http_pump("POST /metrics HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc");
	cr_assert_eq(strncmp(r + 8, " 405", 4), 0, "%.40s", r);
	cr_assert_not_null(strcasestr(r, "Allow: GET, HEAD"));
	free(r);
	r = http_pump("DELETE /metrics HTTP/1.0\r\n\r\n");
	cr_assert_eq(strncmp(r + 8, " 405", 4), 0, "%.40s", r);
	free(r);
}

/* A client that sends half a request and waits does not hold up others. */
Test(prom, a_stalled_client_does_not_block_scrapes)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = 0 };
	int slow = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char *r;

	out = open_prom(ALL_KEYS, NULL, 1000);
	cr_assert_not_null(out);
	a.sin_port = htons((uint16_t)port);
	cr_assert_eq(connect(slow, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(write(slow, "GET /met", 8), 8);
	r = http_pump("GET /metrics HTTP/1.0\r\n\r\n");
	cr_assert_eq(strncmp(r + 8, " 200", 4), 0, "%.40s", r);
	free(r);
	close(slow);
}

Test(prom, port_in_use_and_bad_addresses_fail_at_open)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons((uint16_t)port) };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	static const char *const bad[] = { "localhost:9464", "127.0.0.1", "127.0.0.1:99999", "1.2.3:80",
					   "::1:9464" };
	size_t i;

	cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(s, 1), 0);
	errno = 0;
	cr_assert_null(open_prom(ALL_KEYS, NULL, 10));
	cr_assert_eq(errno, EADDRINUSE);
	close(s);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(target, sizeof(target), "%s", bad[i]);
		errno = 0;
		cr_assert_null(open_prom(ALL_KEYS, NULL, 10), "%s opened", bad[i]);
		cr_assert_eq(errno, EINVAL, "%s: errno %d", bad[i], errno);
	}
	/* an address that is not this host's */
	snprintf(target, sizeof(target), "192.0.2.1:%u", port);
	errno = 0;
	cr_assert_null(open_prom(ALL_KEYS, NULL, 10));
	cr_assert_eq(errno, EADDRNOTAVAIL);
	/* ":PORT" is the loopback address */
	snprintf(target, sizeof(target), ":%u", port);
	out = open_prom(ALL_KEYS, NULL, 10);
	cr_assert_not_null(out);
}

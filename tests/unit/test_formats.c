/* Row formats: JSON Lines (exact lines) and the terminal table. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "agg.h"
#include "helpers.h"
#include "flows.h"
#include "format.h"

#define ALL_KEYS 0xffu
#define EPOCH 1700000000000000000ll /* added to monotonic times */

static char *buf;
static size_t blen;
static FILE *mf;
static const struct fb_format_ops *ops;
static void *sink;

static const char *ifname_cb(void *ctx, uint32_t ifindex)
{
	if (ctx)
		return ctx;
	switch (ifindex) {
	case 1: return "lo";
	case 2: return "eth0";
	default: return "if?";
	}
}

static uint32_t table_rows; /* out_ctx.table_rows of the next open */

static void open_on(FILE *f, const struct fb_format_ops *o, uint32_t kf, int64_t epoch, void *ifctx)
{
	struct fb_out_ctx c = {
		.key_fields = kf, .mono_to_epoch_ns = epoch, .ifname = ifname_cb, .ifname_ctx = ifctx,
		.table_rows = table_rows,
	};

	c.fams[FB_REC_PKT] = &fb_flows_ops;
	mf = f;
	ops = o;
	sink = o->new(&c);
	cr_assert_not_null(sink);
}

static void open_sink(const struct fb_format_ops *o, uint32_t kf, int64_t epoch, void *ifctx)
{
	FILE *f = open_memstream(&buf, &blen);

	cr_assert_not_null(f);
	open_on(f, o, kf, epoch, ifctx);
}

static void cleanup(void)
{
	if (sink)
		ops->free(sink);
	if (mf)
		fclose(mf);
	free(buf);
	table_rows = 0;
	sink = NULL;
	mf = NULL;
	buf = NULL;
}

static void utc(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
}

TestSuite(jsonl, .fini = cleanup);
TestSuite(table, .init = utc, .fini = cleanup);
TestSuite(sink, .fini = cleanup);

/* ---- batch views ------------------------------------------------------------------ */

/* A batch's figures under their names in the batch row; write_view()
 * turns them into the batch stats and the flows view a format reads. */
struct tstats {
	uint64_t number, start_ns, end_ns;
	uint64_t seen, packets, bytes, lost, parse_errors, late, overflow, flows, unknown;
	uint64_t proc_ns;
	int64_t delay_ns;
	bool partial;
};

struct vb {
	struct tstats st;
	struct fb_flow flows[16];
	const struct fb_flow *top[16];
	struct fb_flow rest, over;
	struct {
		uint32_t ntop, rest_flows;
	} v;
	struct fb_batch_stats bst;
	struct fb_flows_view fv;
	struct fb_batch_view bv;
};

static struct vb V;

static void view_init(void)
{
	memset(&V, 0, sizeof(V));
	V.st.number = 1;
	V.st.start_ns = 10 * SEC;
	V.st.end_ns = 11 * SEC;
}

static const struct fb_batch_view *view(void)
{
	struct fb_ledger *l = &V.bst.led[FB_REC_PKT];

	memset(&V.bst, 0, sizeof(V.bst));
	V.bst.number = V.st.number;
	V.bst.start_ns = V.st.start_ns;
	V.bst.end_ns = V.st.end_ns;
	l->seen = V.st.seen;
	l->lost = V.st.lost;
	l->records = V.st.seen - V.st.lost;
	V.bst.late = V.st.late;
	V.bst.unknown = V.st.unknown;
	V.bst.proc_ns = V.st.proc_ns;
	V.bst.delay_ns = V.st.delay_ns;
	V.bst.partial = V.st.partial;
	V.fv = (struct fb_flows_view){
		.records = l->records, .packets = V.st.packets, .bytes = V.st.bytes,
		.parse_errors = V.st.parse_errors, .flows = V.st.flows, .overflow = V.st.overflow,
		.key_fields = 0, .top = V.top, .ntop = V.v.ntop, .rest = &V.rest,
		.rest_flows = V.v.rest_flows, .overflow_row = &V.over,
	};
	memset(&V.bv, 0, sizeof(V.bv));
	V.bv.st = &V.bst;
	V.bv.fam[FB_REC_PKT] = &V.fv;
	return &V.bv;
}

/* a UDP flow 198.18.0.2:1024 -> 198.18.0.1:9 on eth0, inbound */
static struct fb_flow *view_add(uint64_t packets, uint64_t bytes)
{
	uint32_t n = V.v.ntop;
	struct fb_flow *f = &V.flows[n];

	memset(f, 0, sizeof(*f));
	f->key.ifindex = 2;
	f->key.ethertype = FB_ETH_P_IP;
	f->key.proto = 17;
	addr_set(f->key.src, "198.18.0.2");
	addr_set(f->key.dst, "198.18.0.1");
	f->key.sport = 1024;
	f->key.dport = 9;
	f->packets = packets;
	f->bytes = bytes;
	f->first_ns = 10 * SEC + 100 * MS;
	f->last_ns = 10 * SEC + 900 * MS;
	V.top[n] = f;
	V.v.ntop++;
	V.st.packets += packets;
	V.st.bytes += bytes;
	V.st.seen += packets;
	V.st.flows++;
	return f;
}

static const char *write_view(void)
{
	cr_assert_eq(ops->batch(sink, mf, view()), 0);
	fflush(mf);
	return buf;
}

/* line n (0-based) of the output, without its newline */
static const char *line(int n)
{
	static char l[4096];
	const char *s = buf, *e;

	while (n-- > 0) {
		s = strchr(s, '\n');
		cr_assert_not_null(s, "too few lines in:\n%s", buf);
		s++;
	}
	e = strchr(s, '\n');
	cr_assert_not_null(e, "line not terminated in:\n%s", buf);
	cr_assert_lt((size_t)(e - s), sizeof(l));
	memcpy(l, s, (size_t)(e - s));
	l[e - s] = '\0';
	return l;
}

#define HEAD(type) "{\"type\":\"" type "\",\"batch\":1,\"start_ms\":1700000010000,\"end_ms\":1700000011000"
#define TIMES ",\"time_flow_start_ns\":1700000010100000000,\"time_flow_end_ns\":1700000010900000000}"

/* ---- JSONL ------------------------------------------------------------------------ */

Test(jsonl, flow_row_exact)
{
	view_init();
	view_add(10, 640);
	open_sink(&fb_format_jsonl, ALL_KEYS, EPOCH, NULL);
	write_view();
	cr_assert_eq(count_lines(buf), 2);
	cr_assert_str_eq(line(0), HEAD("flow") ",\"iface\":\"eth0\",\"dir\":\"in\",\"etype\":2048,\"proto\":17,"
					      "\"src_addr\":\"198.18.0.2\",\"dst_addr\":\"198.18.0.1\","
					      "\"src_port\":1024,\"dst_port\":9,\"packets\":10,\"bytes\":640,"
					      "\"tcp_flags\":0" TIMES);
}

Test(jsonl, batch_row_exact_with_every_field)
{
	view_init();
	view_add(10, 640);
	V.st.lost = 2;
	V.st.seen = 12;
	V.st.parse_errors = 1;
	V.st.late = 3;
	V.st.proc_ns = 1500000;
	V.st.delay_ns = 5000000;
	open_sink(&fb_format_jsonl, ALL_KEYS, EPOCH, NULL);
	write_view();
	cr_assert_str_eq(line(1), HEAD("batch") ",\"seen\":12,\"records\":10,\"packets\":10,\"bytes\":640,\"flows\":1,"
					       "\"ring_lost\":2,\"parse_errors\":1,\"late\":3,\"unknown\":0,\"overflow\":0,"
					       "\"processing_ms\":1.500,\"delay_ms\":5.000,\"partial\":false,"
					       "\"outputs_dropped\":0}");
}

Test(jsonl, batch_row_partial_and_negative_delay)
{
	view_init();
	V.st.partial = true;
	V.st.delay_ns = -2500000;
	V.st.proc_ns = 123;
	open_sink(&fb_format_jsonl, ALL_KEYS, EPOCH, NULL);
	write_view();
	cr_assert_eq(count_lines(buf), 1, "an empty batch is one line");
	cr_assert_str_eq(line(0), HEAD("batch") ",\"seen\":0,\"records\":0,\"packets\":0,\"bytes\":0,\"flows\":0,"
					       "\"ring_lost\":0,\"parse_errors\":0,\"late\":0,\"unknown\":0,\"overflow\":0,"
					       "\"processing_ms\":0.000,\"delay_ms\":-2.500,\"partial\":true,"
					       "\"outputs_dropped\":0}");
}

Test(jsonl, tcp_flags_and_dir_out)
{
	struct fb_flow *f;

	view_init();
	f = view_add(3, 180);
	f->key.proto = 6;
	f->key.dir = 1;
	f->key.sport = 443;
	f->key.dport = 51000;
	f->tcp_flags = 0x12;
	open_sink(&fb_format_jsonl, ALL_KEYS, EPOCH, NULL);
	write_view();
	cr_assert_str_eq(line(0), HEAD("flow") ",\"iface\":\"eth0\",\"dir\":\"out\",\"etype\":2048,\"proto\":6,"
					      "\"src_addr\":\"198.18.0.2\",\"dst_addr\":\"198.18.0.1\","
					      "\"src_port\":443,\"dst_port\":51000,\"packets\":3,\"bytes\":180,"
					      "\"tcp_flags\":18" TIMES);
}

Test(jsonl, keys_not_in_group_by_are_omitted)
{
	view_init();
	view_add(10, 640);
	open_sink(&fb_format_jsonl, FB_K_SRC | FB_K_DPORT, EPOCH, NULL);
	write_view();
	cr_assert_str_eq(line(0), HEAD("flow") ",\"src_addr\":\"198.18.0.2\",\"dst_port\":9,\"packets\":10,"
					      "\"bytes\":640,\"tcp_flags\":0" TIMES);
}

Test(jsonl, only_proto_key)
{
	view_init();
	view_add(1, 60);
	open_sink(&fb_format_jsonl, FB_K_PROTO, EPOCH, NULL);
	write_view();
	cr_assert_str_eq(line(0), HEAD("flow") ",\"proto\":17,\"packets\":1,\"bytes\":60,\"tcp_flags\":0" TIMES);
}

Test(jsonl, icmp_type_and_code)
{
	struct fb_flow *f;

	view_init();
	f = view_add(1, 98);
	f->key.proto = 1;
	f->key.sport = 8;
	f->key.dport = 0;
	open_sink(&fb_format_jsonl, FB_K_PROTO | FB_K_SPORT | FB_K_DPORT, EPOCH, NULL);
	write_view();
	cr_assert_str_eq(line(0), HEAD("flow") ",\"proto\":1,\"icmp_type\":8,\"icmp_code\":0,\"packets\":1,"
					      "\"bytes\":98,\"tcp_flags\":0" TIMES);
}

Test(jsonl, icmp6_with_ipv6_addresses)
{
	struct fb_flow *f;

	view_init();
	f = view_add(2, 172);
	f->key.ethertype = FB_ETH_P_IPV6;
	f->key.proto = 58;
	f->key.sport = 135;
	f->key.dport = 0;
	addr_set(f->key.src, "2001:db8::1");
	addr_set(f->key.dst, "ff02::1:ff00:1");
	open_sink(&fb_format_jsonl, ALL_KEYS, EPOCH, NULL);
	write_view();
	cr_assert_str_eq(line(0), HEAD("flow") ",\"iface\":\"eth0\",\"dir\":\"in\",\"etype\":34525,\"proto\":58,"
					      "\"src_addr\":\"2001:db8::1\",\"dst_addr\":\"ff02::1:ff00:1\","
					      "\"icmp_type\":135,\"icmp_code\":0,\"packets\":2,\"bytes\":172,"
					      "\"tcp_flags\":0" TIMES);
}

Test(jsonl, icmp_numbers_stay_ports_without_proto_key)
{
	struct fb_flow *f;

	view_init();
	f = view_add(1, 98);
	f->key.proto = 0; /* not in the key: zero */
	f->key.sport = 8;
	open_sink(&fb_format_jsonl, FB_K_SPORT, EPOCH, NULL);
	write_view();
	cr_assert_str_eq(line(0), HEAD("flow") ",\"src_port\":8,\"packets\":1,\"bytes\":98,\"tcp_flags\":0" TIMES);
}

Test(jsonl, non_ip_frame_has_no_addresses)
{
	struct fb_flow *f;

	view_init();
	f = view_add(1, 42);
	f->key.ethertype = FB_ETH_P_ARP;
	f->key.proto = 0;
	f->key.sport = f->key.dport = 0;
	memset(f->key.src, 0, 16);
	memset(f->key.dst, 0, 16);
	open_sink(&fb_format_jsonl, FB_K_ETYPE | FB_K_SRC | FB_K_DST, EPOCH, NULL);
	write_view();
	cr_assert_str_eq(line(0), HEAD("flow") ",\"etype\":2054,\"packets\":1,\"bytes\":42,\"tcp_flags\":0" TIMES);
}

Test(jsonl, iface_name_escaped)
{
	view_init();
	view_add(1, 60);
	open_sink(&fb_format_jsonl, FB_K_IFACE, EPOCH, "a\"b\\c\x01\x1f\n");
	write_view();
	cr_assert_str_eq(line(0), HEAD("flow") ",\"iface\":\"a\\\"b\\\\c\\u0001\\u001f\\n\",\"packets\":1,"
					      "\"bytes\":60,\"tcp_flags\":0" TIMES);
	cr_assert_eq(count_lines(buf), 2, "the escaped newline does not split the line");
}

Test(jsonl, iface_name_from_callback_per_ifindex)
{
	struct fb_flow *f;

	view_init();
	view_add(5, 500);
	f = view_add(1, 60);
	f->key.ifindex = 1;
	open_sink(&fb_format_jsonl, FB_K_IFACE, EPOCH, NULL);
	write_view();
	cr_assert_not_null(strstr(line(0), "\"iface\":\"eth0\""));
	cr_assert_not_null(strstr(line(1), "\"iface\":\"lo\""));
}

Test(jsonl, rest_row_exact)
{
	view_init();
	view_add(10, 640);
	V.rest.packets = 6;
	V.rest.bytes = 600;
	V.rest.tcp_flags = 0x12;
	V.rest.first_ns = 10 * SEC + 100 * MS;
	V.rest.last_ns = 10 * SEC + 900 * MS;
	V.v.rest_flows = 3;
	open_sink(&fb_format_jsonl, ALL_KEYS, EPOCH, NULL);
	write_view();
	cr_assert_eq(count_lines(buf), 3);
	cr_assert_str_eq(line(1), HEAD("flow") ",\"rest\":true,\"flows\":3,\"packets\":6,\"bytes\":600,"
					      "\"tcp_flags\":18" TIMES);
	cr_assert_eq(strncmp(line(2), HEAD("batch"), strlen(HEAD("batch"))), 0);
}

Test(jsonl, overflow_row_exact)
{
	view_init();
	view_add(10, 640);
	V.over.packets = 4;
	V.over.bytes = 256;
	V.over.first_ns = 10 * SEC + 100 * MS;
	V.over.last_ns = 10 * SEC + 900 * MS;
	V.st.overflow = 4;
	open_sink(&fb_format_jsonl, ALL_KEYS, EPOCH, NULL);
	write_view();
	cr_assert_eq(count_lines(buf), 3);
	cr_assert_str_eq(line(1), HEAD("flow") ",\"overflow\":true,\"packets\":4,\"bytes\":256,"
					      "\"tcp_flags\":0" TIMES);
	cr_assert_not_null(strstr(line(2), ",\"overflow\":4,"));
}

Test(jsonl, row_order_flows_rest_overflow_batch)
{
	view_init();
	view_add(10, 640);
	view_add(5, 320)->key.sport = 1025;
	V.rest.packets = 1;
	V.v.rest_flows = 1;
	V.over.packets = 1;
	open_sink(&fb_format_jsonl, ALL_KEYS, EPOCH, NULL);
	write_view();
	cr_assert_eq(count_lines(buf), 5);
	cr_assert_not_null(strstr(line(0), "\"src_port\":1024"));
	cr_assert_not_null(strstr(line(1), "\"src_port\":1025"));
	cr_assert_not_null(strstr(line(2), "\"rest\":true"));
	cr_assert_not_null(strstr(line(3), "\"overflow\":true"));
	cr_assert_not_null(strstr(line(4), "\"type\":\"batch\""));
}

Test(jsonl, batch_number_and_epoch_offset)
{
	view_init();
	V.st.number = 42;
	V.st.start_ns = 5 * SEC + 999999;
	V.st.end_ns = 6 * SEC;
	open_sink(&fb_format_jsonl, ALL_KEYS, 1000 * MS, NULL);
	write_view();
	const char *want = "{\"type\":\"batch\",\"batch\":42,\"start_ms\":6000,\"end_ms\":7000,";

	cr_assert_eq(strncmp(line(0), want, strlen(want)), 0, "%s", line(0));
}


/* Numbers at every digit count, and the shortcuts behind them: ports and
 * protocols and octets of 1-3 digits, counters up to 20 digits, and
 * flow times whose epoch seconds repeat, change, or are 0 (times below one
 * second keep no leading zeros), each as printf would write it. The
 * interface name is looked up again in the next batch. */
Test(jsonl, numbers_as_printf_writes_them)
{
	static const uint64_t big[] = { 0, 9, 10, 99, 100, 12345, 999999999, 1000000000,
					18446744073709551615ull };
	static const uint16_t ports[] = { 0, 7, 10, 99, 100, 999, 1000, 9999, 10000, 65535 };
	static const uint64_t ns[] = { 0, 5, 999999999, 1000000000, 1000000007, 1000000007,
				       2000000000, 1999999999, 123456789012345678ull };
	char want[1024], got[1024];
	unsigned i, b;

	for (b = 0; b < 2; b++) {
		view_init();
		for (i = 0; i < 9; i++) {
			struct fb_flow *f = view_add(big[i], big[8 - i]);

			f->key.sport = ports[i];
			f->key.dport = ports[9 - i];
			f->key.proto = (uint8_t)ports[i];
			f->key.src[12] = (uint8_t)ports[i];
			f->key.src[15] = (uint8_t)(ports[i] >> 8);
			f->key.ifindex = b ? 1 : 2;
			f->tcp_flags = (uint8_t)(i * 31);
			f->first_ns = ns[i];
			f->last_ns = ns[8 - i];
		}
		if (b == 0)
			open_sink(&fb_format_jsonl, ALL_KEYS, 0, NULL);
		write_view();
		for (i = 0; i < 9; i++) {
			const struct fb_flow *f = V.top[i];
			char src[16];

			snprintf(src, sizeof(src), "%u.18.0.%u", f->key.src[12], f->key.src[15]);
			snprintf(want, sizeof(want),
				 ",\"iface\":\"%s\",\"dir\":\"in\",\"etype\":%u,\"proto\":%u,\"src_addr\":\"%s\","
				 "\"dst_addr\":\"198.18.0.1\",\"src_port\":%u,\"dst_port\":%u,\"packets\":%llu,"
				 "\"bytes\":%llu,\"tcp_flags\":%u,\"time_flow_start_ns\":%llu,"
				 "\"time_flow_end_ns\":%llu}",
				 b ? "lo" : "eth0", f->key.ethertype, f->key.proto, src, f->key.sport,
				 f->key.dport, (unsigned long long)f->packets, (unsigned long long)f->bytes,
				 f->tcp_flags, (unsigned long long)f->first_ns, (unsigned long long)f->last_ns);
			snprintf(got, sizeof(got), "%s", strstr(line((int)(b * 10 + i)), ",\"iface\""));
			cr_assert_str_eq(got, want, "batch %u row %u:\n%s\n%s", b, i, got, want);
		}
	}
}

/* ---- failing streams ----------------------------------------------------------------- */

static ssize_t pipe_gone(void *c, const char *b, size_t n)
{
	errno = EPIPE;
	return -1;
}

static FILE *broken_stream(void)
{
	cookie_io_functions_t io = { .write = pipe_gone };
	FILE *f = fopencookie(NULL, "w", io);

	cr_assert_not_null(f);
	return f;
}

Test(sink, jsonl_write_to_broken_pipe_fails)
{
	view_init();
	view_add(10, 640);
	open_on(broken_stream(), &fb_format_jsonl, ALL_KEYS, EPOCH, NULL);
	cr_assert_eq(ops->batch(sink, mf, view()), -EPIPE);
}

Test(sink, table_write_to_broken_pipe_fails)
{
	view_init();
	view_add(10, 640);
	open_on(broken_stream(), &fb_format_table, ALL_KEYS, 0, NULL);
	cr_assert_eq(ops->batch(sink, mf, view()), -EPIPE);
}

Test(sink, jsonl_write_to_full_device_fails)
{
	FILE *f = fopen("/dev/full", "w");

	cr_assert_not_null(f);
	view_init();
	view_add(10, 640);
	open_on(f, &fb_format_jsonl, ALL_KEYS, EPOCH, NULL);
	cr_assert_eq(ops->batch(sink, mf, view()), -ENOSPC);
}

Test(sink, find_by_name_and_id)
{
	cr_assert_eq(fb_format_by_name("jsonl"), &fb_format_jsonl);
	cr_assert_eq(fb_format_by_name("table"), &fb_format_table);
	cr_assert_null(fb_format_by_name("xml"));
	cr_assert_eq(fb_format_find(FB_FMT_JSONL), &fb_format_jsonl);
	cr_assert_eq(fb_format_find(FB_FMT_TABLE), &fb_format_table);
	cr_assert_null(fb_format_find(FB_FMT_AUTO));
}

Test(sink, format_for_path)
{
	bool gz = true;

	cr_assert_eq(fb_format_for_path("flows.jsonl", &gz), &fb_format_jsonl);
	cr_assert(!gz);
	cr_assert_eq(fb_format_for_path("/var/log/fb/flows-%Y%m%d.jsonl.gz", &gz), &fb_format_jsonl);
	cr_assert(gz);
	cr_assert_null(fb_format_for_path("flows.json", &gz));
	cr_assert_null(fb_format_for_path("flows.gz", &gz), "no format before .gz");
	cr_assert_null(fb_format_for_path("jsonl", &gz), "no extension at all");
	cr_assert_null(fb_format_for_path("dir.jsonl/flows", &gz), "the extension is the file's");
	cr_assert_null(fb_format_for_path(".jsonl", &gz), "a hidden file, not an extension");
	cr_assert_null(fb_format_for_path("flows.table", &gz), "table is for terminals");
}

/* ---- table ----------------------------------------------------------------------------- */

Test(table, summary_line)
{
	view_init();
	view_add(10, 640);
	V.st.lost = 2;
	V.st.seen = 12;
	V.st.parse_errors = 1;
	V.st.late = 3;
	V.st.proc_ns = 1500000;
	V.st.delay_ns = 5000000;
	open_sink(&fb_format_table, ALL_KEYS, 0, NULL);
	write_view();
	cr_assert_str_eq(line(0), "batch 1  00:00:10.000-00:00:11.000  seen 12 = records 10 + lost 2  "
				  "packets 10  bytes 640B  flows 1  overflow 0  parse_err 1  late 3  proc 1.50ms  "
				  "delay 5.0ms");
}

Test(table, summary_line_units_and_partial)
{
	view_init();
	V.st.number = 7;
	V.st.start_ns = 3600 * SEC + 250 * MS;
	V.st.end_ns = 3600 * SEC + 750 * MS;
	V.st.packets = 1500000;
	V.st.lost = 1000;
	V.st.seen = 1501000;
	V.st.bytes = 1536;
	V.st.overflow = 9;
	V.st.partial = true;
	open_sink(&fb_format_table, ALL_KEYS, 2 * SEC, NULL);
	write_view();
	cr_assert_eq(count_lines(buf), 1, "no flows: the summary only");
	cr_assert_str_eq(line(0), "batch 7  01:00:02.250-01:00:02.750  seen 1.5M = records 1.5M + lost 1000  "
				  "packets 1.5M  bytes 1.5KiB  flows 0  overflow 9  parse_err 0  late 0  proc 0.00ms  "
				  "delay 0.0ms"
				  "  (partial)");
}

Test(table, one_flow_exact)
{
	view_init();
	view_add(10, 640);
	open_sink(&fb_format_table, ALL_KEYS, 0, NULL);
	write_view();
	cr_assert_eq(count_lines(buf), 3);
	cr_assert_str_eq(line(1), "  IFACE DIR PROTO SRC        SPORT DST        DPORT PKTS BYTES FLAGS");
	cr_assert_str_eq(line(2), "  eth0  in  udp   198.18.0.2 1024  198.18.0.1 9       10  640B      ");
}

/* start offset of column `name` in the header line */
static size_t col_at(const char *hdr, const char *name)
{
	char pat[16];
	const char *p;

	snprintf(pat, sizeof(pat), " %s", name);
	p = strstr(hdr, pat);
	cr_assert_not_null(p, "no column %s in '%s'", name, hdr);
	return (size_t)(p - hdr) + 1;
}

/* a left-aligned cell starts at its column and is followed by a blank */
static void left_cell(const char *row, size_t at, const char *want)
{
	cr_assert_eq(row[at - 1], ' ', "'%s' col %zu", row, at);
	cr_assert_eq(strncmp(row + at, want, strlen(want)), 0, "'%s': want '%s' at %zu", row, want, at);
	cr_assert(row[at + strlen(want)] == ' ' || row[at + strlen(want)] == '\0', "'%s'", row);
}

/* a right-aligned cell ends where its header ends */
static void right_cell(const char *row, size_t end, const char *want)
{
	size_t n = strlen(want);

	cr_assert_eq(strncmp(row + end - n, want, n), 0, "'%s': want '%s' ending at %zu", row, want, end);
	cr_assert_eq(row[end - n - 1], ' ', "'%s'", row);
}

Test(table, columns_aligned_across_rows)
{
	char hdr[512], rows[5][512];
	struct fb_flow *f;
	size_t w, src, dst, pk, by, fl, ifc;
	int i;

	view_init();
	view_add(1536, 1536);
	f = view_add(5, 1048576);
	f->key.ethertype = FB_ETH_P_IPV6;
	f->key.proto = 6;
	f->key.sport = 443;
	f->key.dport = 65535;
	f->key.ifindex = 1;
	f->key.dir = 1;
	f->tcp_flags = 0x1b;
	addr_set(f->key.src, "2001:db8:aaaa:bbbb::1");
	addr_set(f->key.dst, "2001:db8::2");
	f = view_add(999, 1023);
	f->key.proto = 1;
	f->key.sport = 8;
	f->key.dport = 0;
	V.rest.packets = 1000;
	V.rest.bytes = 1024;
	V.v.rest_flows = 12;
	V.over.packets = 7;
	V.over.bytes = 9;
	open_sink(&fb_format_table, ALL_KEYS, 0, NULL);
	write_view();
	cr_assert_eq(count_lines(buf), 7);
	snprintf(hdr, sizeof(hdr), "%s", line(1));
	for (i = 0; i < 5; i++)
		snprintf(rows[i], sizeof(rows[i]), "%s", line(i + 2));
	w = strlen(hdr);
	for (i = 0; i < 5; i++)
		cr_assert_eq(strlen(rows[i]), w, "row %d '%s' vs header '%s'", i, rows[i], hdr);
	ifc = col_at(hdr, "IFACE");
	src = col_at(hdr, "SRC");
	dst = col_at(hdr, "DST");
	pk = col_at(hdr, "PKTS") + 4;
	by = col_at(hdr, "BYTES") + 5;
	fl = col_at(hdr, "FLAGS");
	left_cell(rows[0], ifc, "eth0");
	left_cell(rows[1], ifc, "lo");
	left_cell(rows[3], ifc, "(12 more)");
	left_cell(rows[4], ifc, "(overflow)");
	left_cell(rows[0], src, "198.18.0.2");
	left_cell(rows[1], src, "2001:db8:aaaa:bbbb::1");
	left_cell(rows[1], dst, "2001:db8::2");
	left_cell(rows[1], col_at(hdr, "PROTO"), "tcp");
	left_cell(rows[2], col_at(hdr, "PROTO"), "icmp");
	left_cell(rows[1], col_at(hdr, "DIR"), "out");
	left_cell(rows[1], col_at(hdr, "DPORT"), "65535");
	left_cell(rows[1], fl, "FSPA");
	right_cell(rows[0], pk, "1.5k");
	right_cell(rows[0], by, "1.5KiB");
	right_cell(rows[1], pk, "5");
	right_cell(rows[1], by, "1.0MiB");
	right_cell(rows[2], pk, "999");
	right_cell(rows[2], by, "1023B");
	right_cell(rows[3], pk, "1.0k");
	right_cell(rows[3], by, "1.0KiB");
	right_cell(rows[4], pk, "7");
	right_cell(rows[4], by, "9B");
	right_cell(hdr, pk, "PKTS");
	right_cell(hdr, by, "BYTES");
}

static void header_words(const char *hdr, const char *want)
{
	char got[256], *p, *tok, *save = NULL;
	size_t n = 0;

	got[0] = '\0';
	p = strdup(hdr);
	for (tok = strtok_r(p, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%s", n ? " " : "", tok);
	free(p);
	cr_assert_str_eq(got, want);
}

Test(table, columns_follow_key_fields_default)
{
	view_init();
	view_add(1, 60);
	open_sink(&fb_format_table, ALL_KEYS, 0, NULL);
	write_view();
	header_words(line(1), "IFACE DIR PROTO SRC SPORT DST DPORT PKTS BYTES FLAGS");
}

Test(table, columns_follow_key_fields_src_dst_dport)
{
	view_init();
	view_add(1, 60);
	open_sink(&fb_format_table, FB_K_SRC | FB_K_DST | FB_K_DPORT, 0, NULL);
	write_view();
	header_words(line(1), "SRC DST DPORT PKTS BYTES FLAGS");
	header_words(line(2), "198.18.0.2 198.18.0.1 9 1 60B");
}

Test(table, columns_follow_key_fields_proto_only)
{
	view_init();
	view_add(1, 60);
	open_sink(&fb_format_table, FB_K_PROTO, 0, NULL);
	write_view();
	header_words(line(1), "PROTO PKTS BYTES FLAGS");
	header_words(line(2), "udp 1 60B");
}

Test(table, etype_key_names_non_ip_frames)
{
	struct fb_flow *f;

	view_init();
	f = view_add(2, 84);
	f->key.ethertype = FB_ETH_P_ARP;
	f->key.proto = 0;
	f = view_add(1, 60);
	f->key.ethertype = 0x88cc;
	f->key.proto = 0;
	open_sink(&fb_format_table, FB_K_ETYPE | FB_K_SRC, 0, NULL);
	write_view();
	header_words(line(1), "PROTO SRC PKTS BYTES FLAGS");
	header_words(line(2), "arp 2 84B");
	header_words(line(3), "0x88cc 1 60B");
}

/* Without etype in the key a frame that is not IP (protocol 0, no
 * addresses) says so, and shows no "::" addresses or ports. */
Test(table, non_ip_without_etype_key)
{
	struct fb_flow *f;

	view_init();
	view_add(3, 300);
	f = view_add(2, 84);
	f->key.ethertype = 0;
	f->key.proto = 0;
	memset(f->key.src, 0, 16);
	memset(f->key.dst, 0, 16);
	f->key.sport = f->key.dport = 0;
	open_sink(&fb_format_table, FB_K_PROTO | FB_K_SRC | FB_K_DST | FB_K_DPORT, 0, NULL);
	write_view();
	header_words(line(1), "PROTO SRC DST DPORT PKTS BYTES FLAGS");
	header_words(line(2), "udp 198.18.0.2 198.18.0.1 9 3 300B");
	header_words(line(3), "non-ip 2 84B");
	cr_assert_null(strstr(buf, "::"), "%s", buf);
}

Test(table, unnamed_protocol_number)
{
	struct fb_flow *f;

	view_init();
	f = view_add(1, 60);
	f->key.proto = 253;
	f->key.sport = f->key.dport = 0;
	open_sink(&fb_format_table, FB_K_PROTO | FB_K_SPORT, 0, NULL);
	write_view();
	header_words(line(2), "253 1 60B");
}

/* the rest and overflow rows keep their label when there is no IFACE column */
Test(table, rest_and_overflow_labels_without_iface_column)
{
	view_init();
	view_add(10, 640);
	V.rest.packets = 6;
	V.rest.bytes = 600;
	V.v.rest_flows = 3;
	V.over.packets = 4;
	V.over.bytes = 256;
	open_sink(&fb_format_table, FB_K_SRC | FB_K_DST, 0, NULL);
	write_view();
	cr_assert_eq(count_lines(buf), 5);
	header_words(line(3), "(3 more) 6 600B");
	header_words(line(4), "(overflow) 4 256B");
	cr_assert_eq(strlen(line(3)), strlen(line(1)));
	cr_assert_eq(strlen(line(4)), strlen(line(1)));
}


/* A view with every row (kept for other outputs): the table shows its own
 * first rows and sums the others, with the view's rest row, into one. */
Test(table, cuts_its_own_rows_from_a_full_view)
{
	int i;

	view_init();
	for (i = 0; i < 5; i++)
		view_add(10 - (uint64_t)i, 1000 - 100 * (uint64_t)i);
	V.rest.packets = 1;
	V.rest.bytes = 50;
	V.v.rest_flows = 1;
	table_rows = 2;
	open_sink(&fb_format_table, FB_K_SRC | FB_K_DST, 0, NULL);
	write_view();
	cr_assert_eq(count_lines(buf), 5, "summary, header, 2 rows, the rest:\n%s", buf);
	header_words(line(2), "198.18.0.2 198.18.0.1 10 1000B");
	header_words(line(3), "198.18.0.2 198.18.0.1 9 900B");
	/* rows 3..5 (8+7+6 packets, 800+700+600 bytes) and the view's rest */
	header_words(line(4), "(4 more) 22 2.1KiB");
}

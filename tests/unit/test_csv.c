/* CSV format (fmt_csv.c): the header from the key fields and families,
 * exact rows (flow, ICMP, non-IP, rest, overflow, family rows, batch row),
 * RFC 4180 quoting, and the same fields as JSON Lines. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include "agg.h"
#include "flows.h"
#include "format.h"
#include "helpers.h"

#define EPOCH 1700000000000000000ll

static const char *ifname = "eth0";

static const char *ifname_cb(void *ctx, uint32_t ifindex)
{
	return ifname;
}

/* a fake event family with a flow field and rows of its own */
static const char *const ev_flow_fields[] = { "retrans", NULL };
static const char *const ev_row_fields[] = { "reason", "count", "packets", NULL };

static void ev_flow_values(const void *view, const struct fb_key *k, struct fb_value *vals)
{
	vals[0].present = k->sport == 1024;
	vals[0].u = 7;
}

static uint32_t ev_nrows(const void *view)
{
	return 2;
}

static void ev_row(const void *view, uint32_t i, struct fb_value *vals)
{
	vals[0].present = true;
	vals[0].s = i ? "say \"hi\", twice" : "plain";
	vals[1].present = true;
	vals[1].u = 10 + i;
	vals[2].present = i == 1;
	vals[2].u = 99;
}

static const struct fb_family_ops ev_ops = {
	.type = FB_REC_TCP_STATE, .name = "tcp", .flow_fields = ev_flow_fields, .flow_values = ev_flow_values,
	.row_type = "drop", .row_fields = ev_row_fields, .nrows = ev_nrows, .row = ev_row,
};

static struct fb_flow rows[4], rest, over;
static const struct fb_flow *top[4];
static struct fb_flows_view fv;
static struct fb_batch_stats st;
static struct fb_iface_state ifs[2] = { { "eth0", false }, { "we,ird\"if", true } };
static struct fb_batch_view v;
static char *buf;
static size_t blen;

static struct fb_out_ctx mkctx(uint32_t kf, bool fam)
{
	struct fb_out_ctx c = { .key_fields = kf, .mono_to_epoch_ns = EPOCH, .ifname = ifname_cb };

	c.fams[FB_REC_PKT] = &fb_flows_ops;
	if (fam)
		c.fams[FB_REC_TCP_STATE] = &ev_ops;
	return c;
}

static void view_init(void)
{
	memset(rows, 0, sizeof(rows));
	memset(&rest, 0, sizeof(rest));
	memset(&over, 0, sizeof(over));
	memset(&fv, 0, sizeof(fv));
	memset(&st, 0, sizeof(st));
	memset(&v, 0, sizeof(v));
	st.number = 3;
	st.start_ns = 2 * SEC;
	st.end_ns = 3 * SEC;
	st.proc_ns = 1234567;
	st.delay_ns = 5 * MS;
	st.late = 1;
	st.led[FB_REC_PKT] = (struct fb_ledger){ .seen = 12, .records = 10, .lost = 2 };
	st.led[FB_REC_TCP_STATE] = (struct fb_ledger){ .seen = 5, .records = 4, .lost = 1 };
	fv.top = top;
	fv.rest = &rest;
	fv.overflow_row = &over;
	v.st = &st;
	v.fam[FB_REC_PKT] = &fv;
	v.fam[FB_REC_TCP_STATE] = &fv; /* the fake family ignores its view */
	v.outputs_dropped = 4;
}

static struct fb_flow *add(uint64_t packets, uint64_t bytes)
{
	struct fb_flow *f = &rows[fv.ntop];

	top[fv.ntop++] = f;
	f->packets = packets;
	f->bytes = bytes;
	f->first_ns = 2 * SEC + 100;
	f->last_ns = 2 * SEC + 900;
	f->key.ifindex = 2;
	f->key.ethertype = FB_ETH_P_IP;
	f->key.proto = 17;
	f->key.sport = 1024;
	f->key.dport = 9;
	addr_set(f->key.src, "198.18.0.2");
	addr_set(f->key.dst, "198.18.0.1");
	fv.packets += packets;
	fv.bytes += bytes;
	fv.flows++;
	return f;
}

/* header and one batch, as one string */
static const char *render(uint32_t kf, bool fam)
{
	struct fb_out_ctx c = mkctx(kf, fam);
	const struct fb_format_ops *ops = fb_format_by_name("csv");
	FILE *f = open_memstream(&buf, &blen);
	void *s;

	cr_assert_not_null(ops);
	s = ops->new(&c);
	cr_assert_not_null(s);
	cr_assert_eq(ops->header(s, f), 0);
	cr_assert_eq(ops->batch(s, f, &v), 0);
	fclose(f);
	ops->free(s);
	return buf;
}

static void cleanup(void)
{
	free(buf);
	buf = NULL;
}

TestSuite(csv, .init = view_init, .fini = cleanup);

Test(csv, registered_by_name_and_extension)
{
	bool gz;

	cr_assert_eq(fb_format_find(FB_FMT_CSV), fb_format_by_name("csv"));
	cr_assert_eq(fb_format_for_path("/x/flows-%H.csv.gz", &gz), fb_format_by_name("csv"));
	cr_assert(gz);
	cr_assert_eq(fb_format_for_path("a.b/flows.csv", &gz), fb_format_by_name("csv"));
	cr_assert_not(gz);
}

/* all keys: every column, flow rows IP (ports), ICMP (type, code), non-IP */
Test(csv, rows_all_keys)
{
	struct fb_flow *f;

	add(5, 640);
	f = add(2, 196);
	f->key.proto = 1;
	f->key.sport = 8;
	f->key.dport = 0;
	f = add(1, 60);
	memset(&f->key, 0, sizeof(f->key));
	f->key.ifindex = 2;
	f->key.dir = 1;
	f->key.ethertype = 0x0806;
	cr_assert_str_eq(render(0xff, false),
		"type,batch,start_ms,end_ms,iface,dir,etype,proto,src_addr,dst_addr,src_port,dst_port,"
		"icmp_type,icmp_code,packets,bytes,tcp_flags,time_flow_start_ns,time_flow_end_ns,rest,flows,"
		"overflow,seen,records,ring_lost,parse_errors,late,unknown,processing_ms,delay_ms,partial,"
		"outputs_dropped,ifaces\n"
		"flow,3,1700000002000,1700000003000,eth0,in,2048,17,198.18.0.2,198.18.0.1,1024,9,,,5,640,0,"
		"1700000002000000100,1700000002000000900,,,,,,,,,,,,,,\n"
		"flow,3,1700000002000,1700000003000,eth0,in,2048,1,198.18.0.2,198.18.0.1,,,8,0,2,196,0,"
		"1700000002000000100,1700000002000000900,,,,,,,,,,,,,,\n"
		"flow,3,1700000002000,1700000003000,eth0,out,2054,0,,,,,,,1,60,0,"
		"1700000002000000100,1700000002000000900,,,,,,,,,,,,,,\n"
		"batch,3,1700000002000,1700000003000,,,,,,,,,,,8,896,,,,,3,0,12,10,2,0,1,0,1.235,5.000,false,4,\n");
}

/* -k src,proto: only those key columns; rest and overflow rows; a partial
 * batch with interfaces, one of them gone */
Test(csv, rest_overflow_fewer_keys)
{
	add(5, 640);
	rest.packets = 3;
	rest.bytes = 300;
	rest.tcp_flags = 0x12;
	rest.first_ns = 2 * SEC;
	rest.last_ns = 2 * SEC + 1;
	fv.rest_flows = 2;
	over.packets = 4;
	over.bytes = 400;
	over.first_ns = 2 * SEC + 5;
	over.last_ns = 2 * SEC + 6;
	fv.overflow = 4;
	fv.packets += 7;
	fv.bytes += 700;
	fv.flows += 2;
	st.partial = true;
	v.ifaces = ifs;
	v.nifaces = 2;
	cr_assert_str_eq(render(FB_K_SRC | FB_K_PROTO, false),
		"type,batch,start_ms,end_ms,proto,src_addr,packets,bytes,tcp_flags,time_flow_start_ns,"
		"time_flow_end_ns,rest,flows,overflow,seen,records,ring_lost,parse_errors,late,unknown,"
		"processing_ms,delay_ms,partial,outputs_dropped,ifaces\n"
		"flow,3,1700000002000,1700000003000,17,198.18.0.2,5,640,0,1700000002000000100,"
		"1700000002000000900,,,,,,,,,,,,,,\n"
		"flow,3,1700000002000,1700000003000,,,3,300,18,1700000002000000000,1700000002000000001,"
		"true,2,,,,,,,,,,,,\n"
		"flow,3,1700000002000,1700000003000,,,4,400,0,1700000002000000005,1700000002000000006,"
		",,true,,,,,,,,,,,\n"
		"batch,3,1700000002000,1700000003000,,,12,1340,,,,,3,4,12,10,2,0,1,0,1.235,5.000,true,4,"
		"\"{\"\"eth0\"\":\"\"up\"\",\"\"we,ird\\\"\"if\"\":\"\"gone\"\"}\"\n");
}

/* RFC 4180: a cell with a comma or a quote is quoted, quotes doubled */
Test(csv, quoting)
{
	ifname = "a,b\"c";
	add(1, 60);
	render(FB_K_IFACE, false);
	ifname = "eth0";
	cr_assert(strstr(buf, "\nflow,3,1700000002000,1700000003000,\"a,b\"\"c\",1,60,"), "%s", buf);
}

/* a family's flow fields follow the flow row's own; its rows and its
 * ledger have their columns; a field name shared by two kinds of rows is
 * one column (packets) */
Test(csv, family_fields_and_rows)
{
	struct fb_flow *f;

	add(5, 640);
	f = add(1, 60);
	f->key.sport = 2000;
	cr_assert_str_eq(render(FB_K_SPORT, true),
		"type,batch,start_ms,end_ms,src_port,packets,bytes,tcp_flags,time_flow_start_ns,"
		"time_flow_end_ns,rest,flows,overflow,retrans,seen,records,ring_lost,parse_errors,late,"
		"unknown,tcp_seen,tcp_records,tcp_lost,processing_ms,delay_ms,partial,outputs_dropped,"
		"ifaces,reason,count\n"
		"flow,3,1700000002000,1700000003000,1024,5,640,0,1700000002000000100,1700000002000000900,"
		",,,7,,,,,,,,,,,,,,,,\n"
		"flow,3,1700000002000,1700000003000,2000,1,60,0,1700000002000000100,1700000002000000900,"
		",,,,,,,,,,,,,,,,,,,\n"
		"drop,3,1700000002000,1700000003000,,,,,,,,,,,,,,,,,,,,,,,,,plain,10\n"
		"drop,3,1700000002000,1700000003000,,99,,,,,,,,,,,,,,,,,,,,,,,"
		"\"say \"\"hi\"\", twice\",11\n"
		"batch,3,1700000002000,1700000003000,,6,700,,,,,2,0,,12,10,2,0,1,0,5,4,1,1.235,5.000,false,4,,,\n");
}

/* every row has as many cells as the header has columns */
Test(csv, cells_per_row)
{
	int i;

	for (i = 0; i < 4; i++)
		add(1 + i, 60);
	rest.packets = 1;
	over.packets = 1;
	render(0xff, true);
	{
		char *save = NULL, *line = strtok_r(buf, "\n", &save);
		int want = -1;

		for (; line; line = strtok_r(NULL, "\n", &save)) {
			int n = 1;
			bool q = false;

			for (char *p = line; *p; p++) {
				if (*p == '"')
					q = !q;
				else if (*p == ',' && !q)
					n++;
			}
			if (want < 0)
				want = n;
			cr_assert_eq(n, want, "%s", line);
		}
	}
}

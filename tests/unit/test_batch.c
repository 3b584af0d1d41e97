/* The event-time batcher with a fake clock: windows, grace, late records,
 * the seen/lost ledger, data-driven advance, -c and stop. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include "batch.h"
#include "flows.h"
#include "helpers.h"

#define MAXB 64
#define MAXF 64

/* A batch's figures under their names in the batch row. */
struct tstats {
	uint64_t number, start_ns, end_ns;
	uint64_t seen, records, packets, bytes, lost;
	uint64_t parse_errors, late, overflow, flows, unknown;
	uint64_t proc_ns;
	int64_t delay_ns;
	bool partial;
};

/* What a test sets; make() turns it into batcher options with a packet
 * family. */
struct topts {
	uint64_t interval_ns, grace_ns, start_ns;
	uint32_t ncpus, max_flows, top;
	bool sort_all;
	uint64_t max_batches;
	struct fb_keyspec keys;
	fb_emit_fn emit;
	fb_clock_fn clock;
};

struct cap {
	struct tstats st;
	struct fb_iface_total ift[8];
	uint32_t nift;
	struct fb_flow top[MAXF];
	uint32_t ntop;
	struct fb_flow rest, overflow;
	uint32_t rest_flows;
};

static struct cap got[MAXB];
static int ngot;
static int emit_ret;
static uint64_t now_ns; /* the fake CLOCK_MONOTONIC */
static struct fb_batcher *b;

static int emit(void *ctx, struct fb_batch_view *v)
{
	const struct fb_flows_view *fv = v->fam[FB_REC_PKT];
	const struct fb_ledger *l = &v->st->led[FB_REC_PKT];
	struct cap *c;
	uint32_t i;

	cr_assert_not_null(fv);
	cr_assert_lt(ngot, MAXB);
	cr_assert_leq(fv->ntop, MAXF);
	cr_assert_eq(fv->records, l->records);
	c = &got[ngot++];
	c->st = (struct tstats){
		.number = v->st->number, .start_ns = v->st->start_ns, .end_ns = v->st->end_ns,
		.seen = l->seen, .records = l->records, .packets = fv->packets, .bytes = fv->bytes,
		.lost = l->lost, .parse_errors = fv->parse_errors, .late = v->st->late,
		.overflow = fv->overflow, .flows = fv->flows, .unknown = v->st->unknown,
		.proc_ns = v->st->proc_ns, .delay_ns = v->st->delay_ns, .partial = v->st->partial,
	};
	c->nift = fv->nifaces < 8 ? fv->nifaces : 8;
	memcpy(c->ift, fv->ifaces, c->nift * sizeof(c->ift[0]));
	c->ntop = fv->ntop;
	for (i = 0; i < fv->ntop; i++)
		c->top[i] = *fv->top[i];
	c->rest = *fv->rest;
	c->rest_flows = fv->rest_flows;
	c->overflow = *fv->overflow_row;
	return emit_ret;
}

static struct fb_batcher *make(const struct topts *t)
{
	struct fb_batcher_opts o = { 0 };
	struct fb_flows_opts fo = { .max_flows = t->max_flows, .top = t->top, .sort_all = t->sort_all,
				    .keys = t->keys };

	o.interval_ns = t->interval_ns;
	o.grace_ns = t->grace_ns;
	o.start_ns = t->start_ns;
	o.ncpus = t->ncpus;
	o.max_batches = t->max_batches;
	o.emit = t->emit;
	o.clock = t->clock;
	o.fams[FB_REC_PKT] = fb_flows__new(&fo);
	cr_assert_not_null(o.fams[FB_REC_PKT].ops);
	return fb_batcher__new(&o);
}

static uint64_t fake_clock(void *ctx)
{
	return now_ns;
}

static void cleanup(void)
{
	fb_batcher__free(b);
	b = NULL;
}

static void setup(void)
{
	ngot = 0;
	emit_ret = 0;
	now_ns = 0;
	memset(got, 0, sizeof(got));
}

TestSuite(batch, .init = setup, .fini = cleanup);

/* interval 1s, grace 5ms, capture starting at 10s, flows keyed by sport */
static struct topts opts(void)
{
	struct topts o;
	char err[128];

	memset(&o, 0, sizeof(o));
	o.interval_ns = SEC;
	o.grace_ns = 5 * MS;
	o.start_ns = 10 * SEC;
	o.max_flows = 64;
	o.ncpus = 4;
	o.emit = emit;
	o.clock = fake_clock;
	cr_assert_eq(fb_keyspec_parse("sport", &o.keys, err, sizeof(err)), 0);
	return o;
}

static void start(const struct topts *o)
{
	b = make(o);
	cr_assert_not_null(b);
}

static void start_default(void)
{
	struct topts o = opts();

	start(&o);
}

static int add(uint16_t cpu, uint32_t seq, uint64_t ts, uint16_t sport)
{
	struct fb_pkt p = mkpkt(cpu, seq, ts, sport, 100);

	return fb_batcher__add(b, &p, 1);
}

static void tick(uint64_t t)
{
	now_ns = t;
	cr_assert_eq(fb_batcher__tick(b, t), 0);
}

static void finish(uint64_t t, enum fb_finish how)
{
	now_ns = t;
	cr_assert_eq(fb_batcher__finish(b, t, how), 0);
}

/* packets of the flow with this sport in captured batch i (0 if none) */
static uint64_t flow_pkts(int i, uint16_t sport)
{
	uint32_t j;

	for (j = 0; j < got[i].ntop; j++)
		if (got[i].top[j].key.sport == sport)
			return got[i].top[j].packets;
	return 0;
}

/* Every captured batch and the run totals keep the ledger. */
static void check_ledger(void)
{
	struct fb_run_totals t;
	uint64_t seen = 0, pk = 0, lost = 0, by = 0, late = 0, ov = 0;
	int i;

	for (i = 0; i < ngot; i++) {
		const struct cap *c = &got[i];
		uint64_t p = c->rest.packets + c->overflow.packets, bb = c->rest.bytes + c->overflow.bytes;
		uint32_t j;

		for (j = 0; j < c->ntop; j++) {
			p += c->top[j].packets;
			bb += c->top[j].bytes;
		}
		cr_assert_eq(c->st.number, (uint64_t)i + 1, "batches numbered 1, 2, ...");
		cr_assert_eq(c->st.seen, c->st.packets + c->st.lost, "batch %d: seen = packets + lost", i + 1);
		cr_assert_eq(p, c->st.packets, "batch %d: rows + rest + overflow = packets", i + 1);
		cr_assert_eq(bb, c->st.bytes, "batch %d: bytes", i + 1);
		cr_assert_eq(c->st.flows, c->ntop + c->rest_flows, "batch %d: flows", i + 1);
		cr_assert_eq(c->st.overflow, c->overflow.packets);
		if (i)
			cr_assert_eq(c->st.start_ns, got[i - 1].st.end_ns, "batches are contiguous");
		seen += c->st.seen;
		pk += c->st.packets;
		lost += c->st.lost;
		by += c->st.bytes;
		late += c->st.late;
		ov += c->st.overflow;
	}
	fb_batcher__totals(b, &t);
	cr_assert_eq(t.batches, (uint64_t)ngot);
	cr_assert_eq(t.led[FB_REC_PKT].seen, seen);
	cr_assert_eq(t.led[FB_REC_PKT].records, pk); /* one packet a record here */
	cr_assert_eq(t.led[FB_REC_PKT].lost, lost);
	cr_assert_eq(t.late, late);
	cr_assert_eq(t.led[FB_REC_PKT].seen, t.led[FB_REC_PKT].records + t.led[FB_REC_PKT].lost);
}

/* ---- construction ------------------------------------------------------- */

Test(batch, new_rejects_bad_options)
{
	struct topts o = opts();

	o.interval_ns = 0;
	errno = 0;
	cr_assert_null(make(&o));
	cr_assert_eq(errno, EINVAL);
	o = opts();
	o.ncpus = 0;
	cr_assert_null(make(&o));
	o = opts();
	o.emit = NULL;
	cr_assert_null(make(&o));
	o = opts();
	o.clock = NULL;
	cr_assert_null(make(&o));
}

/* ---- windows ------------------------------------------------------------------ */

Test(batch, first_batch_from_start_on_a_boundary)
{
	start_default();
	cr_assert_eq(fb_batcher__next_deadline(b), 11 * SEC + 5 * MS);
	tick(11 * SEC + 5 * MS);
	cr_assert_eq(ngot, 1);
	cr_assert_eq(got[0].st.number, 1);
	cr_assert_eq(got[0].st.start_ns, 10 * SEC);
	cr_assert_eq(got[0].st.end_ns, 11 * SEC);
	cr_assert_eq(got[0].st.partial, false);
}

Test(batch, first_batch_shorter_when_boundary_far_enough)
{
	struct topts o = opts();

	o.start_ns = 10 * SEC + 300 * MS;
	start(&o);
	tick(11 * SEC + 5 * MS);
	cr_assert_eq(ngot, 1);
	cr_assert_eq(got[0].st.start_ns, 10 * SEC + 300 * MS);
	cr_assert_eq(got[0].st.end_ns, 11 * SEC);
}

Test(batch, first_batch_exactly_half_interval)
{
	struct topts o = opts();

	o.start_ns = 10 * SEC + 500 * MS;
	start(&o);
	tick(11 * SEC + 5 * MS);
	cr_assert_eq(ngot, 1);
	cr_assert_eq(got[0].st.start_ns, 10 * SEC + 500 * MS);
	cr_assert_eq(got[0].st.end_ns, 11 * SEC);
}

Test(batch, first_batch_longer_when_boundary_too_close)
{
	struct topts o = opts();

	o.start_ns = 10 * SEC + 700 * MS;
	start(&o);
	cr_assert_eq(fb_batcher__next_deadline(b), 12 * SEC + 5 * MS);
	tick(11 * SEC + 5 * MS);
	cr_assert_eq(ngot, 0);
	cr_assert_eq(add(0, 1, 11 * SEC + 200 * MS, 1), 0);
	tick(12 * SEC + 5 * MS);
	cr_assert_eq(ngot, 1);
	cr_assert_eq(got[0].st.number, 1);
	cr_assert_eq(got[0].st.start_ns, 10 * SEC + 700 * MS);
	cr_assert_eq(got[0].st.end_ns, 12 * SEC);
	cr_assert_eq(got[0].st.packets, 1);
	tick(13 * SEC + 5 * MS);
	cr_assert_eq(ngot, 2);
	cr_assert_eq(got[1].st.number, 2);
	cr_assert_eq(got[1].st.start_ns, 12 * SEC);
	cr_assert_eq(got[1].st.end_ns, 13 * SEC);
}

Test(batch, empty_batches_numbered_on_ticks)
{
	int i;

	start_default();
	tick(13 * SEC + 5 * MS);
	cr_assert_eq(ngot, 3);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(got[i].st.number, (uint64_t)i + 1);
		cr_assert_eq(got[i].st.start_ns, (10 + (uint64_t)i) * SEC);
		cr_assert_eq(got[i].st.end_ns, (11 + (uint64_t)i) * SEC);
		cr_assert_eq(got[i].st.seen, 0);
		cr_assert_eq(got[i].st.packets, 0);
		cr_assert_eq(got[i].st.flows, 0);
		cr_assert_eq(got[i].ntop, 0);
		cr_assert_eq(got[i].rest.packets, 0);
		cr_assert_eq(got[i].overflow.packets, 0);
	}
	check_ledger();
}

Test(batch, grace_window_emitted_only_at_end_plus_grace)
{
	start_default();
	tick(11 * SEC);
	cr_assert_eq(ngot, 0);
	tick(11 * SEC + 5 * MS - 1);
	cr_assert_eq(ngot, 0);
	tick(11 * SEC + 5 * MS);
	cr_assert_eq(ngot, 1);
	cr_assert_eq(got[0].st.delay_ns, (int64_t)(5 * MS));
	cr_assert_eq(fb_batcher__next_deadline(b), 12 * SEC + 5 * MS);
	tick(12 * SEC + 5 * MS - 1);
	cr_assert_eq(ngot, 1);
}

Test(batch, delay_is_now_minus_end)
{
	start_default();
	tick(12 * SEC + 300 * MS);
	cr_assert_eq(ngot, 2);
	cr_assert_eq(got[0].st.delay_ns, (int64_t)(1300 * MS));
	cr_assert_eq(got[1].st.delay_ns, (int64_t)(300 * MS));
}

/* ---- records ------------------------------------------------------------------ */

Test(batch, records_go_to_the_window_of_their_timestamp)
{
	start_default();
	add(0, 1, 10 * SEC + 100 * MS, 1);
	add(0, 2, 11 * SEC - 1, 2);
	add(0, 3, 11 * SEC, 3);
	add(0, 4, 11 * SEC + 500 * MS, 3);
	add(0, 5, 12 * SEC - 1, 4);
	tick(12 * SEC + 5 * MS);
	cr_assert_eq(ngot, 2);
	cr_assert_eq(got[0].st.packets, 2);
	cr_assert_eq(got[0].st.bytes, 200);
	cr_assert_eq(got[0].st.flows, 2);
	cr_assert_eq(flow_pkts(0, 1), 1);
	cr_assert_eq(flow_pkts(0, 2), 1);
	cr_assert_eq(got[1].st.packets, 3);
	cr_assert_eq(got[1].st.flows, 2);
	cr_assert_eq(flow_pkts(1, 3), 2);
	cr_assert_eq(flow_pkts(1, 4), 1);
	cr_assert_eq(got[0].st.late + got[1].st.late, 0);
	check_ledger();
}

Test(batch, flow_times_and_bytes_come_from_records)
{
	struct fb_pkt p[3];

	start_default();
	p[0] = mkpkt(0, 1, 10 * SEC + 300 * MS, 7, 60);
	p[1] = mkpkt(0, 2, 10 * SEC + 100 * MS, 7, 1500);
	p[2] = mkpkt(0, 3, 10 * SEC + 200 * MS, 7, 40);
	p[0].tcp_flags = 0x02;
	p[2].tcp_flags = 0x10;
	cr_assert_eq(fb_batcher__add(b, p, 3), 0);
	tick(11 * SEC + 5 * MS);
	cr_assert_eq(got[0].ntop, 1);
	cr_assert_eq(got[0].top[0].packets, 3);
	cr_assert_eq(got[0].top[0].bytes, 1600);
	cr_assert_eq(got[0].top[0].first_ns, 10 * SEC + 100 * MS);
	cr_assert_eq(got[0].top[0].last_ns, 10 * SEC + 300 * MS);
	cr_assert_eq(got[0].top[0].tcp_flags, 0x12);
	cr_assert_eq(got[0].st.bytes, 1600);
}

Test(batch, record_during_grace_goes_to_next_batch)
{
	start_default();
	add(0, 1, 10 * SEC + 500 * MS, 1);
	add(0, 2, 11 * SEC + 1 * MS, 2);
	tick(11 * SEC + 5 * MS);
	cr_assert_eq(ngot, 1);
	cr_assert_eq(got[0].st.packets, 1);
	cr_assert_eq(flow_pkts(0, 1), 1);
	tick(12 * SEC + 5 * MS);
	cr_assert_eq(ngot, 2);
	cr_assert_eq(got[1].st.packets, 1);
	cr_assert_eq(flow_pkts(1, 2), 1);
	cr_assert_eq(got[1].st.late, 0);
}

Test(batch, late_record_counted_in_current_batch)
{
	start_default();
	add(0, 1, 10 * SEC + 500 * MS, 1);
	tick(11 * SEC + 5 * MS);
	cr_assert_eq(add(0, 2, 10 * SEC + 900 * MS, 2), 0); /* batch 1 is gone */
	add(0, 3, 11 * SEC + 100 * MS, 3);
	tick(12 * SEC + 5 * MS);
	cr_assert_eq(ngot, 2);
	cr_assert_eq(got[0].st.packets, 1);
	cr_assert_eq(got[0].st.late, 0);
	cr_assert_eq(got[1].st.packets, 2);
	cr_assert_eq(got[1].st.late, 1);
	cr_assert_eq(flow_pkts(1, 2), 1);
	cr_assert_eq(flow_pkts(1, 3), 1);
	check_ledger();
}

Test(batch, record_before_start_belongs_to_first_batch_not_late)
{
	start_default();
	add(0, 1, 9 * SEC + 500 * MS, 1);
	add(0, 2, 3, 2);
	tick(11 * SEC + 5 * MS);
	cr_assert_eq(ngot, 1);
	cr_assert_eq(got[0].st.packets, 2);
	cr_assert_eq(got[0].st.late, 0);
}

Test(batch, record_before_start_after_first_emission_is_late)
{
	start_default();
	tick(11 * SEC + 5 * MS);
	add(0, 1, 9 * SEC, 1);
	tick(12 * SEC + 5 * MS);
	cr_assert_eq(got[1].st.packets, 1);
	cr_assert_eq(got[1].st.late, 1);
}

Test(batch, record_in_long_first_batch_before_start_window)
{
	struct topts o = opts();

	o.start_ns = 10 * SEC + 700 * MS; /* batch 1 = [10.7, 12) */
	start(&o);
	add(0, 1, 10 * SEC + 800 * MS, 1); /* window 10, before batch 1's window 11 */
	add(0, 2, 11 * SEC + 800 * MS, 2);
	tick(12 * SEC + 5 * MS);
	cr_assert_eq(ngot, 1);
	cr_assert_eq(got[0].st.packets, 2);
	cr_assert_eq(got[0].st.late, 0);
}

/* Records of a type with no family are refused whole, never added as
 * packets; what the ring could not hand to a family is counted. */
Test(batch, unknown_record_types_refused_and_counted)
{
	struct fb_pkt p[2];

	start_default();
	p[0] = mkpkt(0, 1, 10 * SEC + 1, 1, 100);
	p[1] = mkpkt(0, 2, 10 * SEC + 2, 1, 100);
	p[1].type = 5; /* no family of that type in this batcher */
	cr_assert_eq(fb_batcher__add(b, &p[1], 1), -EINVAL);
	p[1].type = 200; /* beyond every type */
	cr_assert_eq(fb_batcher__add(b, &p[1], 1), -EINVAL);
	cr_assert_eq(fb_batcher__add(b, p, 1), 0);
	fb_batcher__unknown(b, 2);
	tick(11 * SEC + 5 * MS);
	cr_assert_eq(got[0].st.packets, 1);
	cr_assert_eq(got[0].st.bytes, 100);
	cr_assert_eq(got[0].st.unknown, 2);
	cr_assert_eq(got[0].st.seen, 1, "unknown records are not in the packet ledger");
}

/* A GSO/GRO record stands for several wire packets: the flow and the batch
 * count wire packets and bytes, the ledger counts records. */
Test(batch, gso_record_counts_its_segments)
{
	struct fb_pkt p[2];

	start_default();
	p[0] = mkpkt(0, 1, 10 * SEC + 1, 1, 100);
	p[1] = mkpkt(0, 2, 10 * SEC + 2, 1, 3 * 1514);
	p[1].segs = 3;
	p[1].flags |= FB_F_GSO;
	cr_assert_eq(fb_batcher__add(b, p, 2), 0);
	tick(11 * SEC + 5 * MS);
	cr_assert_eq(got[0].st.records, 2);
	cr_assert_eq(got[0].st.seen, 2);
	cr_assert_eq(got[0].st.packets, 4);
	cr_assert_eq(got[0].st.bytes, 100 + 3 * 1514);
	cr_assert_eq(got[0].top[0].packets, 4);
	cr_assert_eq(got[0].top[0].bytes, 100 + 3 * 1514);
}

Test(batch, parse_errors_counted)
{
	struct fb_pkt p[3];

	start_default();
	p[0] = mkpkt(0, 1, 10 * SEC + 1, 1, 100);
	p[1] = mkpkt(0, 2, 10 * SEC + 2, 1, 100);
	p[2] = mkpkt(0, 3, 10 * SEC + 3, 1, 100);
	p[1].flags |= FB_F_PARSE_ERR;
	p[2].flags |= FB_F_PARSE_ERR | FB_F_FRAG;
	fb_batcher__add(b, p, 3);
	tick(11 * SEC + 5 * MS);
	cr_assert_eq(got[0].st.parse_errors, 2);
	cr_assert_eq(got[0].st.packets, 3);
	check_ledger();
}

Test(batch, overflow_packets_reported)
{
	struct topts o = opts();
	uint16_t s;

	o.max_flows = 4;
	start(&o);
	for (s = 1; s <= 7; s++)
		add(0, s, 10 * SEC + s, s);
	add(0, 8, 10 * SEC + 8, 1); /* existing flow */
	add(0, 9, 10 * SEC + 9, 7); /* overflowed flow again */
	tick(11 * SEC + 5 * MS);
	cr_assert_eq(got[0].st.packets, 9);
	cr_assert_eq(got[0].st.flows, 4);
	cr_assert_eq(got[0].st.overflow, 4);
	cr_assert_eq(got[0].overflow.packets, 4);
	cr_assert_eq(got[0].overflow.bytes, 400);
	cr_assert_eq(flow_pkts(0, 1), 2);
	check_ledger();
}

Test(batch, top_n_with_rest_row)
{
	struct topts o = opts();
	uint16_t s;
	uint32_t seq = 1;

	o.top = 2;
	start(&o);
	for (s = 1; s <= 5; s++) {
		int k;

		for (k = 0; k < s; k++, seq++)
			add(0, seq, 10 * SEC + seq, s); /* flow s has s packets */
	}
	tick(11 * SEC + 5 * MS);
	cr_assert_eq(got[0].ntop, 2);
	cr_assert_eq(got[0].top[0].key.sport, 5);
	cr_assert_eq(got[0].top[1].key.sport, 4);
	cr_assert_eq(got[0].rest_flows, 3);
	cr_assert_eq(got[0].rest.packets, 6);
	cr_assert_eq(got[0].st.flows, 5);
	check_ledger();
}

Test(batch, charge_adds_processing_time)
{
	start_default();
	fb_batcher__charge(b, 1500000);
	fb_batcher__charge(b, 250000);
	tick(11 * SEC + 5 * MS);
	cr_assert_eq(got[0].st.proc_ns, 1750000);
	tick(12 * SEC + 5 * MS);
	cr_assert_eq(got[1].st.proc_ns, 0);
}

Test(batch, emit_error_returned_by_tick)
{
	start_default();
	emit_ret = -EPIPE;
	cr_assert_eq(fb_batcher__tick(b, 11 * SEC + 5 * MS), -EPIPE);
	cr_assert_eq(ngot, 1);
}

Test(batch, emit_error_returned_by_add)
{
	start_default();
	emit_ret = -EIO;
	cr_assert_eq(add(0, 1, 15 * SEC, 1), -EIO);
}

/* ---- ledger ------------------------------------------------------------------- */

Test(batch, sequence_gap_counts_as_lost)
{
	start_default();
	add(0, 1, 10 * SEC + 1, 1);
	add(0, 2, 10 * SEC + 2, 1);
	add(0, 5, 10 * SEC + 3, 1);
	tick(11 * SEC + 5 * MS);
	cr_assert_eq(got[0].st.packets, 3);
	cr_assert_eq(got[0].st.lost, 2);
	cr_assert_eq(got[0].st.seen, 5);
	check_ledger();
}

Test(batch, gaps_are_per_cpu)
{
	start_default();
	add(0, 1, 10 * SEC + 1, 1);
	add(1, 1, 10 * SEC + 2, 1);
	add(1, 2, 10 * SEC + 3, 1);
	add(0, 3, 10 * SEC + 4, 1); /* cpu 0 lost 2 */
	add(1, 4, 10 * SEC + 5, 1); /* cpu 1 lost 3 */
	add(2, 3, 10 * SEC + 6, 1); /* cpu 2 lost 1, 2 */
	tick(11 * SEC + 5 * MS);
	cr_assert_eq(got[0].st.packets, 6);
	cr_assert_eq(got[0].st.lost, 4);
	cr_assert_eq(got[0].st.seen, 10);
	check_ledger();
}

Test(batch, first_record_seq_1_has_no_gap)
{
	start_default();
	add(3, 1, 10 * SEC + 1, 1);
	tick(11 * SEC + 5 * MS);
	cr_assert_eq(got[0].st.lost, 0);
	cr_assert_eq(got[0].st.seen, 1);
}

Test(batch, gap_lost_in_batch_of_revealing_record)
{
	start_default();
	add(0, 1, 10 * SEC + 500 * MS, 1);
	tick(11 * SEC + 5 * MS);
	add(0, 4, 11 * SEC + 500 * MS, 1);
	tick(12 * SEC + 5 * MS);
	cr_assert_eq(got[0].st.lost, 0);
	cr_assert_eq(got[0].st.seen, 1);
	cr_assert_eq(got[1].st.lost, 2);
	cr_assert_eq(got[1].st.seen, 3);
	check_ledger();
}

Test(batch, gap_revealed_by_next_window_record_goes_to_that_batch)
{
	start_default();
	add(0, 1, 10 * SEC + 500 * MS, 1);
	add(0, 5, 11 * SEC + 1 * MS, 1); /* window b+1, during grace */
	tick(11 * SEC + 5 * MS);
	tick(12 * SEC + 5 * MS);
	cr_assert_eq(got[0].st.lost, 0);
	cr_assert_eq(got[1].st.lost, 3);
	check_ledger();
}

Test(batch, duplicate_and_old_sequence_numbers_are_reordered_not_lost)
{
	struct fb_run_totals t;

	start_default();
	add(0, 1, 10 * SEC + 1, 1);
	add(0, 2, 10 * SEC + 2, 1);
	add(0, 2, 10 * SEC + 3, 1); /* duplicate */
	add(0, 3, 10 * SEC + 4, 1);
	add(0, 1, 10 * SEC + 5, 1); /* older */
	add(0, 4, 10 * SEC + 6, 1); /* in order again: no false gap */
	tick(11 * SEC + 5 * MS);
	fb_batcher__totals(b, &t);
	cr_assert_eq(t.reordered, 2);
	cr_assert_eq(got[0].st.packets, 6);
	cr_assert_eq(got[0].st.lost, 0);
	check_ledger();
}

Test(batch, records_of_unknown_cpu_counted_without_ledger)
{
	start_default();
	add(9, 100, 10 * SEC + 1, 1);
	tick(11 * SEC + 5 * MS);
	cr_assert_eq(got[0].st.packets, 1);
	cr_assert_eq(got[0].st.lost, 0);
}

Test(batch, sequence_wraps_at_2_pow_32)
{
	struct fb_run_totals t;

	start_default();
	add(0, 1, 10 * SEC + 1, 1);
	add(0, 0x80000001u, 10 * SEC + 2, 1); /* gap 0x7fffffff */
	add(0, 0xffffffffu, 10 * SEC + 3, 1); /* gap 0x7ffffffd */
	add(0, 0, 10 * SEC + 4, 1);	      /* seen 2^32: no gap */
	add(0, 2, 10 * SEC + 5, 1);	      /* gap 1 */
	tick(11 * SEC + 5 * MS);
	cr_assert_eq(got[0].st.packets, 5);
	cr_assert_eq(got[0].st.lost, 0xfffffffdull);
	cr_assert_eq(got[0].st.seen, (1ull << 32) + 2); /* the kernel's seen after seq 2 */
	fb_batcher__totals(b, &t);
	cr_assert_eq(t.reordered, 0);
	check_ledger();
}

Test(batch, wrap_from_max_to_one_is_a_gap_of_one)
{
	start_default();
	add(0, 1, 10 * SEC + 1, 1);
	add(0, 0x7fffffffu, 10 * SEC + 2, 1);
	add(0, 0xfffffffeu, 10 * SEC + 3, 1);
	add(0, 1, 10 * SEC + 4, 1); /* 0xffffffff and 0 lost */
	tick(11 * SEC + 5 * MS);
	cr_assert_eq(got[0].st.lost, 0x7ffffffdull + 0x7ffffffeull + 2);
	cr_assert_eq(got[0].st.seen, (1ull << 32) + 1);
}

Test(batch, sync_lost_attributes_trailing_losses_once)
{
	uint64_t kl[4] = { 3, 0, 0, 0 };
	struct fb_run_totals t;

	start_default();
	add(0, 1, 10 * SEC + 1, 1);
	add(0, 2, 10 * SEC + 2, 1);
	fb_batcher__sync_lost(b, FB_REC_PKT, kl); /* seq 3..5 lost after the last record */
	fb_batcher__sync_lost(b, FB_REC_PKT, kl); /* same counters again: nothing new */
	tick(11 * SEC + 5 * MS);
	cr_assert_eq(got[0].st.packets, 2);
	cr_assert_eq(got[0].st.lost, 3);
	cr_assert_eq(got[0].st.seen, 5);
	add(0, 6, 11 * SEC + 1, 1); /* the gap 3..5 shows up: already counted */
	fb_batcher__sync_lost(b, FB_REC_PKT, kl);
	tick(12 * SEC + 5 * MS);
	cr_assert_eq(got[1].st.packets, 1);
	cr_assert_eq(got[1].st.lost, 0);
	cr_assert_eq(got[1].st.seen, 1);
	fb_batcher__totals(b, &t);
	cr_assert_eq(t.led[FB_REC_PKT].lost, 3);
	cr_assert_eq(t.led[FB_REC_PKT].seen, 6); /* kernel: seen 6 = 3 records + 3 lost */
	check_ledger();
}

Test(batch, sync_lost_then_bigger_gap_counts_only_the_new_part)
{
	uint64_t kl[4] = { 2, 0, 0, 0 };

	start_default();
	add(0, 1, 10 * SEC + 1, 1);
	fb_batcher__sync_lost(b, FB_REC_PKT, kl);
	add(0, 6, 10 * SEC + 2, 1); /* 2..5 missing: 2 known, 2 new */
	kl[0] = 4;
	fb_batcher__sync_lost(b, FB_REC_PKT, kl); /* kernel agrees: nothing more */
	tick(11 * SEC + 5 * MS);
	cr_assert_eq(got[0].st.lost, 4);
	cr_assert_eq(got[0].st.seen, 6);
	check_ledger();
}

Test(batch, sync_lost_gap_revealed_later_in_pieces)
{
	uint64_t kl[4] = { 5, 0, 0, 0 };

	start_default();
	add(0, 1, 10 * SEC + 1, 1);
	fb_batcher__sync_lost(b, FB_REC_PKT, kl); /* 5 lost, not yet seen as gaps */
	tick(11 * SEC + 5 * MS);
	add(0, 3, 11 * SEC + 1, 1); /* gap 1: absorbed */
	add(0, 6, 11 * SEC + 2, 1); /* gap 2: absorbed */
	add(0, 9, 11 * SEC + 3, 1); /* gap 2: absorbed; 0 pending */
	add(0, 11, 11 * SEC + 4, 1); /* gap 1: new */
	tick(12 * SEC + 5 * MS);
	cr_assert_eq(got[0].st.lost, 5);
	cr_assert_eq(got[1].st.lost, 1);
	cr_assert_eq(got[1].st.packets, 4);
	check_ledger();
}

Test(batch, sync_lost_on_cpu_without_records)
{
	uint64_t kl[4] = { 0, 4, 0, 0 };

	start_default();
	fb_batcher__sync_lost(b, FB_REC_PKT, kl);
	add(1, 5, 10 * SEC + 1, 1); /* seq 1..4 were those losses */
	tick(11 * SEC + 5 * MS);
	cr_assert_eq(got[0].st.lost, 4);
	cr_assert_eq(got[0].st.packets, 1);
	cr_assert_eq(got[0].st.seen, 5);
}

Test(batch, sync_lost_goes_to_oldest_open_batch)
{
	uint64_t kl[4] = { 0, 0, 2, 0 };

	start_default();
	tick(11 * SEC + 5 * MS);
	fb_batcher__sync_lost(b, FB_REC_PKT, kl);
	tick(12 * SEC + 5 * MS);
	cr_assert_eq(got[0].st.lost, 0);
	cr_assert_eq(got[1].st.lost, 2);
	cr_assert_eq(got[1].st.seen, 2);
	check_ledger();
}

Test(batch, sync_lost_below_counted_gaps_adds_nothing)
{
	uint64_t kl[4] = { 1, 0, 0, 0 };

	start_default();
	add(0, 1, 10 * SEC + 1, 1);
	add(0, 4, 10 * SEC + 2, 1); /* gap 2 */
	fb_batcher__sync_lost(b, FB_REC_PKT, kl);
	tick(11 * SEC + 5 * MS);
	cr_assert_eq(got[0].st.lost, 2);
}

/* ---- data-driven advance ------------------------------------------------------- */

Test(batch, record_two_windows_ahead_emits_the_windows_between)
{
	start_default();
	add(0, 1, 10 * SEC + 500 * MS, 1);
	cr_assert_eq(add(0, 2, 13 * SEC + 200 * MS, 2), 0); /* window 13 = batch 4 */
	cr_assert_eq(ngot, 2);
	cr_assert_eq(got[0].st.number, 1);
	cr_assert_eq(got[0].st.packets, 1);
	cr_assert_eq(flow_pkts(0, 1), 1);
	cr_assert_eq(got[1].st.number, 2);
	cr_assert_eq(got[1].st.packets, 0);
	cr_assert_eq(got[1].st.start_ns, 11 * SEC);
	tick(14 * SEC + 5 * MS);
	cr_assert_eq(ngot, 4);
	cr_assert_eq(got[2].st.packets, 0);
	cr_assert_eq(got[2].st.start_ns, 12 * SEC);
	cr_assert_eq(got[3].st.packets, 1);
	cr_assert_eq(got[3].st.start_ns, 13 * SEC);
	cr_assert_eq(flow_pkts(3, 2), 1);
	check_ledger();
}

Test(batch, record_one_window_ahead_emits_nothing)
{
	start_default();
	add(0, 1, 10 * SEC + 500 * MS, 1);
	add(0, 2, 11 * SEC + 999 * MS, 2);
	cr_assert_eq(ngot, 0);
}

/* The same, with both records handed over in one call. */
Test(batch, record_two_windows_ahead_in_same_call)
{
	struct fb_pkt p[2];

	start_default();
	p[0] = mkpkt(0, 1, 10 * SEC + 500 * MS, 1, 100);
	p[1] = mkpkt(0, 2, 13 * SEC + 200 * MS, 2, 100);
	cr_assert_eq(fb_batcher__add(b, p, 2), 0);
	cr_assert_eq(ngot, 2);
	cr_assert_eq(got[0].st.packets, 1, "the first record stays in batch 1");
	cr_assert_eq(flow_pkts(0, 1), 1);
	cr_assert_eq(got[1].st.packets, 0);
	tick(14 * SEC + 5 * MS);
	cr_assert_eq(ngot, 4);
	cr_assert_eq(got[2].st.packets, 0);
	cr_assert_eq(got[3].st.packets, 1);
	cr_assert_eq(flow_pkts(3, 2), 1);
	cr_assert_eq(got[3].st.late, 0);
	check_ledger();
}

/* 40 records, 10 per window, in one call: more than one internal chunk, and
 * windows closed by data in the middle of chunks. */
Test(batch, one_call_spanning_many_windows)
{
	struct fb_pkt p[40];
	int i;

	start_default();
	for (i = 0; i < 40; i++)
		p[i] = mkpkt((uint16_t)(i % 2), (uint32_t)(i / 2 + 1), 10 * SEC + (uint64_t)i * 100 * MS + 1,
			     (uint16_t)(i / 10 + 1), 100);
	cr_assert_eq(fb_batcher__add(b, p, 40), 0);
	cr_assert_eq(ngot, 2); /* windows 10 and 11, closed by records of 12 and 13 */
	tick(14 * SEC + 5 * MS);
	cr_assert_eq(ngot, 4);
	for (i = 0; i < 4; i++) {
		cr_assert_eq(got[i].st.packets, 10, "batch %d", i + 1);
		cr_assert_eq(got[i].st.flows, 1, "batch %d", i + 1);
		cr_assert_eq(flow_pkts(i, (uint16_t)(i + 1)), 10, "batch %d", i + 1);
		cr_assert_eq(got[i].st.late, 0);
		cr_assert_eq(got[i].st.lost, 0);
	}
	check_ledger();
}

Test(batch, gap_revealed_by_record_that_closes_windows)
{
	struct fb_pkt p[2];

	start_default();
	p[0] = mkpkt(0, 1, 10 * SEC + 500 * MS, 1, 100);
	p[1] = mkpkt(0, 4, 12 * SEC + 500 * MS, 2, 100);
	fb_batcher__add(b, p, 2);
	tick(13 * SEC + 5 * MS);
	cr_assert_eq(ngot, 3);
	cr_assert_eq(got[0].st.lost, 0);
	cr_assert_eq(got[0].st.packets, 1);
	cr_assert_eq(got[2].st.lost, 2);
	cr_assert_eq(got[2].st.packets, 1);
	check_ledger();
}

/* Past the size where the batcher also prefetches rows. */
Test(batch, big_tables_count_every_flow)
{
	struct topts o = opts();
	uint32_t i, n = 20100;
	struct fb_pkt *p = calloc(n, sizeof(*p));

	cr_assert_not_null(p);
	o.max_flows = 32768;
	o.top = 10;
	start(&o);
	for (i = 0; i < n; i++) {
		uint64_t ts = i < 20000 ? 10 * SEC + i : 11 * SEC + i;

		p[i] = mkpkt(0, i + 1, ts, (uint16_t)(i < 20000 ? i : i - 20000), 100 + i % 3);
	}
	cr_assert_eq(fb_batcher__add(b, p, n), 0);
	cr_assert_eq(fb_batcher__add(b, p + 19990, 10), 0); /* again: old seqs, existing rows */
	free(p);
	tick(12 * SEC + 5 * MS);
	cr_assert_eq(ngot, 2);
	cr_assert_eq(got[0].st.flows, 20000);
	cr_assert_eq(got[0].st.packets, 20010);
	cr_assert_eq(got[0].ntop, 10);
	cr_assert_eq(got[0].rest_flows, 19990);
	cr_assert_eq(got[0].rest.packets, 20010 - 20);
	cr_assert_eq(got[0].top[0].packets, 2);
	cr_assert_eq(got[1].st.flows, 100);
	cr_assert_eq(got[1].st.packets, 100);
	cr_assert_eq(got[0].st.lost + got[1].st.lost, 0);
	check_ledger();
}

/* ---- -c --------------------------------------------------------------------------- */

Test(batch, count_done_when_last_batch_due)
{
	struct topts o = opts();

	o.max_batches = 3;
	start(&o);
	add(0, 1, 10 * SEC + 500 * MS, 1);
	tick(12 * SEC + 5 * MS);
	cr_assert_eq(ngot, 2);
	cr_assert_eq(fb_batcher__done(b), false);
	add(0, 2, 12 * SEC + 500 * MS, 3);
	tick(13 * SEC + 5 * MS);
	cr_assert_eq(ngot, 2, "the 3rd batch is left to finish");
	cr_assert_eq(fb_batcher__done(b), true);
	tick(20 * SEC);
	cr_assert_eq(ngot, 2, "no ticks after done");
}

Test(batch, count_finish_emits_exactly_one_more_with_next_window)
{
	struct topts o = opts();
	struct fb_run_totals t;

	o.max_batches = 3;
	start(&o);
	tick(12 * SEC + 5 * MS);
	add(0, 1, 12 * SEC + 500 * MS, 3);
	add(0, 2, 13 * SEC + 1 * MS, 4); /* next window, during grace */
	tick(13 * SEC + 5 * MS);
	cr_assert(fb_batcher__done(b));
	add(0, 3, 13 * SEC + 6 * MS, 4); /* drained after detach */
	finish(13 * SEC + 10 * MS, FB_FINISH_COUNT);
	cr_assert_eq(ngot, 3);
	cr_assert_eq(got[2].st.number, 3);
	cr_assert_eq(got[2].st.start_ns, 12 * SEC);
	cr_assert_eq(got[2].st.end_ns, 13 * SEC + 10 * MS);
	cr_assert_eq(got[2].st.packets, 3);
	cr_assert_eq(got[2].st.flows, 2);
	cr_assert_eq(flow_pkts(2, 3), 1);
	cr_assert_eq(flow_pkts(2, 4), 2);
	cr_assert_eq(got[2].st.partial, false);
	cr_assert_eq(got[2].st.delay_ns, 0);
	fb_batcher__totals(b, &t);
	cr_assert_eq(t.batches, 3);
	check_ledger();
}

Test(batch, count_of_one)
{
	struct topts o = opts();

	o.max_batches = 1;
	start(&o);
	add(0, 1, 10 * SEC + 500 * MS, 1);
	tick(11 * SEC + 5 * MS);
	cr_assert_eq(ngot, 0);
	cr_assert(fb_batcher__done(b));
	finish(11 * SEC + 6 * MS, FB_FINISH_COUNT);
	cr_assert_eq(ngot, 1);
	cr_assert_eq(got[0].st.number, 1);
	cr_assert_eq(got[0].st.packets, 1);
	cr_assert_eq(got[0].st.end_ns, 11 * SEC + 6 * MS);
}

Test(batch, count_reached_by_data_driven_advance)
{
	struct topts o = opts();

	o.max_batches = 2;
	start(&o);
	add(0, 1, 10 * SEC + 500 * MS, 1);
	add(0, 2, 13 * SEC + 500 * MS, 2);
	cr_assert_eq(ngot, 1);
	cr_assert(fb_batcher__done(b));
	add(0, 3, 15 * SEC, 3); /* far ahead once done: kept for the last batch */
	finish(15 * SEC + 1, FB_FINISH_COUNT);
	cr_assert_eq(ngot, 2);
	cr_assert_eq(got[1].st.number, 2);
	cr_assert_eq(got[1].st.packets, 2);
	cr_assert_eq(got[1].st.start_ns, 11 * SEC);
	cr_assert_eq(got[1].st.end_ns, 15 * SEC + 1);
	check_ledger();
}

/* ---- stop ------------------------------------------------------------------------- */

Test(batch, finish_partial_marks_last_batch)
{
	start_default();
	add(0, 1, 10 * SEC + 500 * MS, 1);
	add(0, 2, 11 * SEC + 200 * MS, 2);
	finish(11 * SEC + 400 * MS, FB_FINISH_PARTIAL);
	cr_assert_eq(ngot, 2);
	cr_assert_eq(got[0].st.partial, false);
	cr_assert_eq(got[0].st.end_ns, 11 * SEC);
	cr_assert_eq(got[0].st.packets, 1);
	cr_assert_eq(got[1].st.partial, true);
	cr_assert_eq(got[1].st.start_ns, 11 * SEC);
	cr_assert_eq(got[1].st.end_ns, 11 * SEC + 400 * MS);
	cr_assert_eq(got[1].st.packets, 1);
	cr_assert_eq(flow_pkts(1, 2), 1);
	cr_assert_eq(fb_batcher__done(b), true);
	check_ledger();
}

Test(batch, finish_partial_inside_first_batch)
{
	start_default();
	add(0, 1, 10 * SEC + 200 * MS, 1);
	finish(10 * SEC + 500 * MS, FB_FINISH_PARTIAL);
	cr_assert_eq(ngot, 1);
	cr_assert_eq(got[0].st.number, 1);
	cr_assert_eq(got[0].st.partial, true);
	cr_assert_eq(got[0].st.start_ns, 10 * SEC);
	cr_assert_eq(got[0].st.end_ns, 10 * SEC + 500 * MS);
	cr_assert_eq(got[0].st.packets, 1);
}

/* stopped exactly at a window boundary: the last batch is [now, now) */
Test(batch, finish_partial_at_window_boundary_ends_now)
{
	start_default();
	add(0, 1, 10 * SEC + 200 * MS, 1);
	finish(11 * SEC, FB_FINISH_PARTIAL);
	cr_assert_eq(ngot, 2);
	cr_assert_eq(got[0].st.end_ns, 11 * SEC);
	cr_assert_eq(got[0].st.partial, false);
	cr_assert_eq(got[0].st.packets, 1);
	cr_assert_eq(got[1].st.partial, true);
	cr_assert_eq(got[1].st.start_ns, 11 * SEC);
	cr_assert_eq(got[1].st.end_ns, 11 * SEC);
	cr_assert_eq(got[1].st.delay_ns, 0);
	check_ledger();
}

Test(batch, finish_partial_emits_ended_windows_whole)
{
	uint64_t kl[4] = { 0, 2, 0, 0 };

	start_default();
	add(0, 1, 10 * SEC + 200 * MS, 1);
	add(1, 1, 12 * SEC + 100 * MS, 2);
	fb_batcher__sync_lost(b, FB_REC_PKT, kl); /* losses after the last record, at stop */
	finish(12 * SEC + 300 * MS, FB_FINISH_PARTIAL);
	cr_assert_eq(ngot, 3);
	cr_assert_eq(got[0].st.partial, false);
	cr_assert_eq(got[1].st.partial, false);
	cr_assert_eq(got[1].st.packets, 0);
	cr_assert_eq(got[2].st.partial, true);
	cr_assert_eq(got[2].st.packets, 1);
	cr_assert_eq(got[2].st.end_ns, 12 * SEC + 300 * MS);
	check_ledger();
}

static const struct fb_iface_total *ift(const struct cap *c, uint32_t ifindex, uint8_t dir)
{
	uint32_t i;

	for (i = 0; i < c->nift; i++)
		if (c->ift[i].ifindex == ifindex && c->ift[i].dir == dir)
			return &c->ift[i];
	return NULL;
}

/* Per-interface totals are counted per record: exact when the key has no
 * interface, when -n cuts rows and when flows overflow. */
Test(batch, interface_totals_exact_whatever_the_rows)
{
	struct topts o = opts(); /* key: sport only */
	struct fb_pkt p[6];
	const struct fb_iface_total *t;
	int i;

	o.top = 1;
	o.max_flows = 2;
	start(&o);
	for (i = 0; i < 6; i++) {
		p[i] = mkpkt(0, (uint32_t)i + 1, 10 * SEC + (uint64_t)i, (uint16_t)(i + 1), 100);
		p[i].ifindex = i < 4 ? 2 : 3;
		if (i & 1)
			p[i].flags |= FB_F_EGRESS;
	}
	p[5].segs = 4; /* a GSO record */
	p[5].wire_len = 4 * 100;
	cr_assert_eq(fb_batcher__add(b, p, 6), 0);
	tick(11 * SEC + 5 * MS);
	cr_assert_eq(ngot, 1);
	cr_assert_eq(got[0].nift, 4);
	t = ift(&got[0], 2, 0);
	cr_assert(t && t->records == 2 && t->packets == 2 && t->bytes == 200);
	t = ift(&got[0], 2, 1);
	cr_assert(t && t->records == 2 && t->packets == 2 && t->bytes == 200);
	t = ift(&got[0], 3, 0);
	cr_assert(t && t->records == 1 && t->packets == 1 && t->bytes == 100);
	t = ift(&got[0], 3, 1);
	cr_assert(t && t->records == 1 && t->packets == 4 && t->bytes == 400);
	cr_assert_eq(got[0].st.packets, 9);
	cr_assert_eq(got[0].st.bytes, 900);
	cr_assert_eq(got[0].ntop, 1, "-n 1 cut the rows, not the totals");
	cr_assert_gt(got[0].overflow.packets, 0, "flows overflowed, totals did not");
}

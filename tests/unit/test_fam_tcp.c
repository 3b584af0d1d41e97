/* The TCP event families (fam_tcp.c) with hand-built records: per-tuple
 * values joined to flow rows by key (any interface, any direction), the
 * tcp_state rows, merge, overflow, and each family's own ledger through the
 * batcher. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include "batch.h"
#include "events.h"
#include "fam_tcp.h"
#include "helpers.h"

#define CLI "198.18.0.2"
#define SRV "198.18.0.1"

static struct fb_keyspec keys(const char *spec)
{
	struct fb_keyspec ks;
	char err[128];

	cr_assert_eq(fb_keyspec_parse(spec, &ks, err, sizeof(err)), 0, "%s", err);
	return ks;
}

static struct fb_tcp_ev ev(uint8_t type, const char *src, uint16_t sport, const char *dst, uint16_t dport)
{
	struct fb_tcp_ev e;

	memset(&e, 0, sizeof(e));
	e.type = type;
	e.len = sizeof(e);
	addr_set(e.src, src);
	addr_set(e.dst, dst);
	if (strchr(src, ':'))
		e.flags |= FB_EV_F_IPV6;
	e.sport = sport;
	e.dport = dport;
	return e;
}

static struct fb_tcp_ev st(const char *src, uint16_t sport, const char *dst, uint16_t dport, int from, int to,
			   uint64_t life)
{
	struct fb_tcp_ev e = ev(FB_REC_TCP_STATE, src, sport, dst, dport);

	e.aux = (uint16_t)(from << 8 | to);
	e.val = life;
	if (to == 7 && !life)
		e.flags |= FB_EV_F_NOSTART;
	return e;
}

/* The key of a packet flow row src:sport -> dst:dport (TCP) on interface
 * ifindex, direction dir, under spec ks. */
static struct fb_key flow_key(const struct fb_keyspec *ks, const char *src, uint16_t sport, const char *dst,
			      uint16_t dport, uint32_t ifindex, int out)
{
	struct fb_pkt p = mkpkt(0, 1, 0, sport, 100);
	struct fb_key k;

	addr_set(p.src, src);
	addr_set(p.dst, dst);
	p.dport = dport;
	p.proto = 6;
	p.ifindex = ifindex;
	p.flags = out ? FB_F_EGRESS : 0;
	if (strchr(src, ':'))
		p.ethertype = FB_ETH_P_IPV6;
	fb_key_build(ks, &p, &k);
	return k;
}

static struct fb_family fam;
static struct fb_batch_stats bst;

static void fam_open(uint8_t type, const char *spec, uint32_t max)
{
	struct fb_evfam_opts o = { .keys = keys(spec), .max_keys = max };

	fam = fb_tcpfam__new(type, &o);
	cr_assert_not_null(fam.ops, "new: %s", strerror(errno));
	cr_assert_eq(fam.ops->type, type);
	cr_assert_eq(fam.ops->rec_len, sizeof(struct fb_tcp_ev));
	fam.ops->reset(fam.priv, 0);
	fam.ops->reset(fam.priv, 1);
	memset(&bst, 0, sizeof(bst));
}

static void fam_close(void)
{
	if (fam.ops)
		fam.ops->free(fam.priv);
	memset(&fam, 0, sizeof(fam));
}

static void add(const struct fb_tcp_ev *recs, uint32_t n, uint8_t slot)
{
	uint8_t s[64];

	cr_assert_leq(n, 64);
	memset(s, slot, sizeof(s));
	fam.ops->add(fam.priv, recs, n, s);
}

static int nfields(void)
{
	int n = 0;

	while (fam.ops->flow_fields[n])
		n++;
	return n;
}

/* The values of a flow row for key k in slot's view. */
static const struct fb_tcpfam_view *vals(int slot, const struct fb_key *k, struct fb_value *v)
{
	const struct fb_tcpfam_view *view = fam.ops->view(fam.priv, slot, &bst);

	memset(v, 0xa5, sizeof(*v) * 8);
	fam.ops->flow_values(view, k, v);
	return view;
}

TestSuite(fam_tcp, .fini = fam_close);

Test(fam_tcp, lifecycle_joins_flows_of_any_interface_and_direction)
{
	struct fb_keyspec ks = keys(FB_KEYS_DEFAULT);
	struct fb_tcp_ev r[] = {
		st(CLI, 40000, SRV, 80, 7, 2, 0), st(CLI, 40000, SRV, 80, 2, 1, 0),
		st(SRV, 80, CLI, 40000, 7, 3, 0), st(SRV, 80, CLI, 40000, 3, 1, 0),
		st(CLI, 40000, SRV, 80, 1, 4, 0), st(CLI, 40000, SRV, 80, 4, 5, 0),
		st(CLI, 40000, SRV, 80, 5, 7, 5000000), /* 5 ms */
		st(SRV, 80, CLI, 40000, 1, 8, 0), st(SRV, 80, CLI, 40000, 8, 9, 0),
		st(SRV, 80, CLI, 40000, 9, 7, 0), /* open not seen: no life */
	};
	struct fb_key k;
	struct fb_value v[8];

	fam_open(FB_REC_TCP_STATE, FB_KEYS_DEFAULT, 64);
	cr_assert_eq(nfields(), 4);
	cr_assert_str_eq(fam.ops->flow_fields[0], "tcp_opens");
	cr_assert_str_eq(fam.ops->flow_fields[3], "tcp_duration_us");
	add(r, 10, 0);
	/* the client's socket: the flow client -> server, seen leaving on
	 * interface 3 and arriving on interface 4 */
	for (int i = 0; i < 2; i++) {
		k = flow_key(&ks, CLI, 40000, SRV, 80, 3 + i, !i);
		vals(0, &k, v);
		cr_expect(v[0].present && v[0].u == 1, "opens");
		cr_expect(v[1].present && v[1].u == 1, "closes");
		cr_expect(v[2].present && v[2].u == 0, "failed");
		cr_expect(v[3].present && v[3].u == 5000, "duration 5 ms in us, got %lu", (unsigned long)v[3].u);
	}
	k = flow_key(&ks, SRV, 80, CLI, 40000, 4, 1);
	vals(0, &k, v);
	cr_expect(v[0].present && v[0].u == 1);
	cr_expect(v[1].present && v[1].u == 1);
	cr_expect_not(v[3].present, "no duration without the open");
	/* another flow, and the right tuple in the other slot: no events */
	k = flow_key(&ks, CLI, 40001, SRV, 80, 3, 1);
	vals(0, &k, v);
	for (int i = 0; i < 4; i++)
		cr_expect_not(v[i].present, "field %d absent", i);
	k = flow_key(&ks, CLI, 40000, SRV, 80, 3, 1);
	vals(1, &k, v);
	cr_expect_not(v[0].present);
}

Test(fam_tcp, state_rows_count_each_transition)
{
	struct fb_tcp_ev r[] = {
		st(CLI, 1, SRV, 80, 7, 2, 0), st(CLI, 2, SRV, 80, 7, 2, 0), st(CLI, 3, SRV, 80, 7, 2, 0),
		st(CLI, 1, SRV, 80, 2, 1, 0), st(CLI, 2, SRV, 80, 2, 7, 0),
	};
	const struct fb_tcpfam_view *view;
	struct fb_value v[3];

	fam_open(FB_REC_TCP_STATE, FB_KEYS_DEFAULT, 64);
	cr_assert_str_eq(fam.ops->row_type, "tcp_state");
	add(r, 5, 1);
	view = fam.ops->view(fam.priv, 1, &bst);
	cr_assert_eq(fam.ops->nrows(view), 3);
	/* rows in state order: ESTABLISHED(1) < SYN_SENT(2) < CLOSE(7) as "from" */
	fam.ops->row(view, 0, v);
	cr_expect_str_eq(v[0].s, "SYN_SENT");
	cr_expect_str_eq(v[1].s, "ESTABLISHED");
	cr_expect_eq(v[2].u, 1);
	fam.ops->row(view, 1, v);
	cr_expect_str_eq(v[0].s, "SYN_SENT");
	cr_expect_str_eq(v[1].s, "CLOSE");
	cr_expect_eq(v[2].u, 1);
	fam.ops->row(view, 2, v);
	cr_expect_str_eq(v[0].s, "CLOSE");
	cr_expect_str_eq(v[1].s, "SYN_SENT");
	cr_expect_eq(v[2].u, 3);
	cr_expect_eq(view->tuples, 3);
	/* reset empties the slot */
	fam.ops->reset(fam.priv, 1);
	view = fam.ops->view(fam.priv, 1, &bst);
	cr_expect_eq(fam.ops->nrows(view), 0);
	cr_expect_eq(view->tuples, 0);
}

Test(fam_tcp, refused_connect_is_failed_not_closed)
{
	struct fb_keyspec ks = keys(FB_KEYS_DEFAULT);
	struct fb_tcp_ev r[] = { st(CLI, 5, SRV, 81, 7, 2, 0), st(CLI, 5, SRV, 81, 2, 7, 1000) };
	struct fb_key k = flow_key(&ks, CLI, 5, SRV, 81, 2, 1);
	struct fb_value v[8];

	fam_open(FB_REC_TCP_STATE, FB_KEYS_DEFAULT, 64);
	add(r, 2, 0);
	vals(0, &k, v);
	cr_expect_eq(v[0].u, 0, "opens");
	cr_expect_eq(v[1].u, 0, "closes");
	cr_expect_eq(v[2].u, 1, "failed");
	cr_expect_not(v[3].present, "a failed attempt has no duration");
}

Test(fam_tcp, key_spec_prefixes_aggregate_tuples)
{
	struct fb_keyspec ks = keys("src/24,proto");
	struct fb_tcp_ev r[] = { st("198.18.0.2", 1, SRV, 80, 2, 1, 0), st("198.18.0.77", 2, "198.18.9.9", 443, 3, 1, 0),
				 st("198.18.1.2", 1, SRV, 80, 2, 1, 0) };
	struct fb_key k = flow_key(&ks, "198.18.0.200", 9, "10.0.0.1", 53, 7, 0);
	struct fb_value v[8];
	const struct fb_tcpfam_view *view;

	fam_open(FB_REC_TCP_STATE, "src/24,proto", 64);
	add(r, 3, 0);
	view = vals(0, &k, v);
	cr_expect_eq(v[0].u, 2, "two opens in 198.18.0.0/24");
	cr_expect_eq(view->tuples, 2);
}

Test(fam_tcp, ipv6_tuples_join_ipv6_flows)
{
	struct fb_keyspec ks = keys(FB_KEYS_DEFAULT);
	struct fb_tcp_ev r[] = { st("2001:2::2", 7, "2001:2::1", 80, 2, 1, 0) };
	struct fb_key k6 = flow_key(&ks, "2001:2::2", 7, "2001:2::1", 80, 2, 1);
	struct fb_value v[8];

	fam_open(FB_REC_TCP_STATE, FB_KEYS_DEFAULT, 64);
	add(r, 1, 0);
	vals(0, &k6, v);
	cr_expect(v[0].present && v[0].u == 1);
	cr_expect_eq(k6.ethertype, FB_ETH_P_IPV6);
}

Test(fam_tcp, merge_adds_the_next_window)
{
	struct fb_keyspec ks = keys(FB_KEYS_DEFAULT);
	struct fb_tcp_ev a = st(CLI, 1, SRV, 80, 2, 1, 0), b = st(CLI, 1, SRV, 80, 1, 7, 2000000),
			 c = st(CLI, 9, SRV, 80, 2, 1, 0);
	struct fb_key k = flow_key(&ks, CLI, 1, SRV, 80, 2, 1), k9 = flow_key(&ks, CLI, 9, SRV, 80, 2, 1);
	const struct fb_tcpfam_view *view;
	struct fb_value v[8], r[3];

	fam_open(FB_REC_TCP_STATE, FB_KEYS_DEFAULT, 64);
	add(&a, 1, 0);
	add(&b, 1, 1);
	add(&c, 1, 1);
	fam.ops->merge(fam.priv, 0, 1);
	view = vals(0, &k, v);
	cr_expect_eq(v[0].u, 1);
	cr_expect_eq(v[1].u, 1);
	cr_expect_eq(v[3].u, 2000);
	vals(0, &k9, v);
	cr_expect_eq(v[0].u, 1);
	cr_expect_eq(fam.ops->nrows(view), 2);
	fam.ops->row(view, 0, r);
	cr_expect_eq(r[2].u, 1);
}

Test(fam_tcp, overflow_keeps_every_event)
{
	struct fb_tcp_ev r[] = { st(CLI, 1, SRV, 80, 2, 1, 0), st(CLI, 2, SRV, 80, 2, 1, 0),
				 st(CLI, 3, SRV, 80, 2, 1, 0), st(CLI, 3, SRV, 80, 1, 4, 0) };
	const struct fb_tcpfam_view *view;

	fam_open(FB_REC_TCP_STATE, FB_KEYS_DEFAULT, 2);
	add(r, 4, 0);
	view = fam.ops->view(fam.priv, 0, &bst);
	cr_expect_eq(view->tuples, 2);
	cr_expect_eq(view->overflow, 2, "the third tuple's two events");
	cr_expect_eq(view->trans[2][1] + view->trans[1][4], 4, "transitions count them all");
}

Test(fam_tcp, retrans_sent_segments_and_failures)
{
	struct fb_keyspec ks = keys(FB_KEYS_DEFAULT);
	struct fb_tcp_ev r[3];
	struct fb_key k = flow_key(&ks, CLI, 1, SRV, 80, 2, 1);
	struct fb_value v[8];

	fam_open(FB_REC_RETRANS, FB_KEYS_DEFAULT, 64);
	cr_assert_str_eq(fam.ops->name, "retrans");
	cr_assert_null(fam.ops->row_type);
	for (int i = 0; i < 3; i++)
		r[i] = ev(FB_REC_RETRANS, CLI, 1, SRV, 80);
	r[0].val = 1;
	r[1].val = 4; /* a GSO skb of 4 segments */
	r[2].info = (uint32_t)-16; /* -EBUSY: not sent */
	add(r, 3, 0);
	vals(0, &k, v);
	cr_expect_str_eq(fam.ops->flow_fields[0], "tcp_retrans");
	cr_expect_eq(v[0].u, 2);
	cr_expect_eq(v[1].u, 5);
	cr_expect_eq(v[2].u, 1);
}

Test(fam_tcp, resets_sent_and_received)
{
	struct fb_keyspec ks = keys(FB_KEYS_DEFAULT);
	struct fb_tcp_ev r[3];
	struct fb_key k = flow_key(&ks, SRV, 81, CLI, 5, 2, 1), kc = flow_key(&ks, CLI, 5, SRV, 81, 2, 1);
	struct fb_value v[8];

	fam_open(FB_REC_RESET, FB_KEYS_DEFAULT, 64);
	r[0] = ev(FB_REC_RESET, SRV, 81, CLI, 5);
	r[0].flags |= FB_EV_F_NOSOCK;
	r[1] = r[0];
	r[2] = ev(FB_REC_RESET, CLI, 5, SRV, 81);
	r[2].flags |= FB_EV_F_RST_RECV;
	add(r, 3, 0);
	vals(0, &k, v);
	cr_expect_eq(v[0].u, 2, "sent by the server side");
	cr_expect_eq(v[1].u, 0);
	vals(0, &kc, v);
	cr_expect_eq(v[0].u, 0);
	cr_expect_eq(v[1].u, 1, "received by the client");
}

Test(fam_tcp, rtt_min_mean_max)
{
	struct fb_keyspec ks = keys(FB_KEYS_DEFAULT);
	static const uint32_t us[] = { 300, 100, 200, 400 };
	struct fb_tcp_ev r[4];
	struct fb_key k = flow_key(&ks, CLI, 1, SRV, 80, 2, 1);
	struct fb_value v[8];

	fam_open(FB_REC_RTT, FB_KEYS_DEFAULT, 64);
	for (int i = 0; i < 4; i++) {
		r[i] = ev(FB_REC_RTT, CLI, 1, SRV, 80);
		r[i].info = us[i];
	}
	add(r, 3, 0);
	add(r + 3, 1, 1);
	vals(0, &k, v);
	cr_expect_eq(v[0].u, 100);
	cr_expect_eq(v[1].u, 200);
	cr_expect_eq(v[2].u, 300);
	cr_expect_eq(v[3].u, 3);
	fam.ops->merge(fam.priv, 0, 1);
	vals(0, &k, v);
	cr_expect_eq(v[2].u, 400);
	cr_expect_eq(v[1].u, 250);
	cr_expect_eq(v[3].u, 4);
}

Test(fam_tcp, bad_type_or_size_is_refused)
{
	struct fb_evfam_opts o = { .keys = keys(FB_KEYS_DEFAULT), .max_keys = 8 };
	struct fb_family f = fb_tcpfam__new(FB_REC_PKT, &o);

	cr_expect_null(f.ops);
	o.max_keys = 0;
	f = fb_tcpfam__new(FB_REC_RTT, &o);
	cr_expect_null(f.ops);
}

/* ---- through the batcher: each family's own ledger -------------------- */

static struct fb_batch_stats got[8];
static int ngot;
static uint64_t opens_seen;

static int emit(void *ctx, struct fb_batch_view *v)
{
	const struct fb_tcpfam_view *tv = v->fam[FB_REC_TCP_STATE];

	got[ngot++] = *v->st;
	cr_assert_not_null(tv);
	cr_assert_null(v->fam[FB_REC_PKT], "packets are off");
	opens_seen += tv->trans[2][1];
	return 0;
}

static uint64_t clk(void *ctx)
{
	return 0;
}

Test(fam_tcp, ledger_per_family_from_sequence_gaps)
{
	struct fb_events_opts eo = { .mask = FB_EV_TCP | FB_EV_RTT, .keys = keys(FB_KEYS_DEFAULT), .max_keys = 64 };
	struct fb_batcher_opts bo = { .interval_ns = SEC, .start_ns = 0, .ncpus = 2, .emit = emit, .clock = clk };
	struct fb_batcher *b;
	struct fb_tcp_ev r[4], q;

	cr_assert_eq(fb_events__families(&eo, bo.fams), 0);
	cr_assert_not_null(bo.fams[FB_REC_TCP_STATE].ops);
	cr_assert_not_null(bo.fams[FB_REC_RTT].ops);
	cr_assert_null(bo.fams[FB_REC_RETRANS].ops);
	b = fb_batcher__new(&bo);
	cr_assert_not_null(b);
	/* CPU 0: seq 1, 2, 5 (3 and 4 lost); CPU 1: seq 1 */
	for (int i = 0; i < 4; i++) {
		r[i] = st(CLI, (uint16_t)(10 + i), SRV, 80, 2, 1, 0);
		r[i].ts_ns = 100 * MS + (uint64_t)i;
		r[i].seq = (uint32_t)(i + 1);
	}
	r[2].seq = 5;
	r[3].cpu = 1;
	r[3].seq = 1;
	q = ev(FB_REC_RTT, CLI, 10, SRV, 80);
	q.info = 50;
	q.seq = 7; /* the rtt family's own numbers: 6 lost before it */
	q.ts_ns = 200 * MS;
	cr_assert_eq(fb_batcher__add(b, r, 4), 0);
	cr_assert_eq(fb_batcher__add(b, &q, 1), 0);
	cr_assert_eq(fb_batcher__finish(b, 900 * MS, FB_FINISH_PARTIAL), 0);
	cr_assert_eq(ngot, 1);
	cr_expect_eq(got[0].led[FB_REC_TCP_STATE].records, 4);
	cr_expect_eq(got[0].led[FB_REC_TCP_STATE].lost, 2);
	cr_expect_eq(got[0].led[FB_REC_TCP_STATE].seen, 6);
	cr_expect_eq(got[0].led[FB_REC_RTT].records, 1);
	cr_expect_eq(got[0].led[FB_REC_RTT].lost, 6);
	cr_expect_eq(got[0].led[FB_REC_PKT].seen, 0);
	cr_expect_eq(opens_seen, 4);
	fb_batcher__free(b);
}

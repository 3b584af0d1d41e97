/* The drops family (fam_drops.c) with hand-built records: rows per reason
 * and tuple (names from a callback, numbers without one), most drops first;
 * flow rows get the drops of their tuple whatever the reason; non-IP and
 * ICMP drops; merge. */
#include <criterion/criterion.h>
#include <string.h>
#include "batch.h"
#include "events.h"
#include "fam_drops.h"
#include "helpers.h"

enum { R_REASON, R_CODE, R_PROTO, R_SRC, R_DST, R_SPORT, R_DPORT, R_ITYPE, R_ICODE, R_PKTS, R_BYTES, R_OVER, R_N };

static struct fb_family fam;
static struct fb_batch_stats bst;

static const char *names(void *ctx, uint32_t reason)
{
	cr_assert_eq(ctx, (void *)&fam, "the callback gets its context");
	return reason == 12 ? "NETFILTER_DROP" : reason == 3 ? "NO_SOCKET" : NULL;
}

static uint32_t max_keys = 64; /* of the next open_fam */

static void open_fam(const char *spec, bool with_names)
{
	struct fb_drops_opts o = { .ev.max_keys = max_keys };
	char err[128];

	cr_assert_eq(fb_keyspec_parse(spec, &o.ev.keys, err, sizeof(err)), 0);
	if (with_names) {
		o.reason_name = names;
		o.reason_ctx = &fam;
	}
	fam = fb_drops__new(&o);
	cr_assert_not_null(fam.ops);
	fam.ops->reset(fam.priv, 0);
	fam.ops->reset(fam.priv, 1);
	memset(&bst, 0, sizeof(bst));
}

static void close_fam(void)
{
	if (fam.ops)
		fam.ops->free(fam.priv);
	memset(&fam, 0, sizeof(fam));
	max_keys = 64;
}

static struct fb_drop drop(uint32_t reason, uint8_t proto, const char *src, uint16_t sport, const char *dst,
			   uint16_t dport, uint32_t bytes)
{
	struct fb_drop d;

	memset(&d, 0, sizeof(d));
	d.type = FB_REC_DROP;
	d.len = sizeof(d);
	d.reason = reason;
	d.proto = proto;
	d.bytes = bytes;
	d.aux = FB_ETH_P_IP;
	d.flags = FB_EV_F_IP | FB_EV_F_PORTS;
	addr_set(d.src, src);
	addr_set(d.dst, dst);
	d.sport = sport;
	d.dport = dport;
	return d;
}

static void add(const struct fb_drop *d, uint32_t n, uint8_t slot)
{
	uint8_t s[32];

	memset(s, slot, sizeof(s));
	fam.ops->add(fam.priv, d, n, s);
}

static struct fb_key flow_key(const char *spec, uint8_t proto, const char *src, uint16_t sport, const char *dst,
			      uint16_t dport)
{
	struct fb_keyspec ks;
	struct fb_pkt p = mkpkt(0, 1, 0, sport, 60);
	struct fb_key k;
	char err[64];

	fb_keyspec_parse(spec, &ks, err, sizeof(err));
	addr_set(p.src, src);
	addr_set(p.dst, dst);
	p.dport = dport;
	p.proto = proto;
	p.ifindex = 5;
	fb_key_build(&ks, &p, &k);
	return k;
}

TestSuite(fam_drops, .fini = close_fam);

Test(fam_drops, rows_per_reason_and_tuple_most_first)
{
	struct fb_drop d[] = {
		drop(3, 17, "198.18.0.2", 5000, "198.18.0.1", 9, 13),
		drop(12, 6, "198.18.0.2", 40000, "198.18.0.1", 80, 1000),
		drop(12, 6, "198.18.0.2", 40000, "198.18.0.1", 80, 500),
		drop(3, 17, "198.18.0.2", 5000, "198.18.0.1", 9, 13),
		drop(12, 6, "198.18.0.2", 40000, "198.18.0.1", 80, 100),
	};
	const struct fb_drops_view *v;
	struct fb_value r[R_N];

	open_fam(FB_KEYS_DEFAULT, true);
	cr_assert_str_eq(fam.ops->row_type, "drop");
	cr_assert_str_eq(fam.ops->row_fields[R_REASON], "reason");
	cr_assert_str_eq(fam.ops->row_fields[R_BYTES], "bytes");
	cr_assert_null(fam.ops->row_fields[R_N]);
	add(d, 5, 0);
	v = fam.ops->view(fam.priv, 0, &bst);
	cr_assert_eq(fam.ops->nrows(v), 2);
	cr_expect_eq(v->packets, 5);
	cr_expect_eq(v->bytes, 1626);
	fam.ops->row(v, 0, r);
	cr_expect_str_eq(r[R_REASON].s, "NETFILTER_DROP");
	cr_expect_eq(r[R_CODE].u, 12);
	cr_expect_eq(r[R_PROTO].u, 6);
	cr_expect_str_eq(r[R_SRC].s, "198.18.0.2");
	cr_expect_str_eq(r[R_DST].s, "198.18.0.1");
	cr_expect(r[R_SPORT].present && r[R_SPORT].u == 40000);
	cr_expect(r[R_DPORT].present && r[R_DPORT].u == 80);
	cr_expect_not(r[R_ITYPE].present);
	cr_expect_eq(r[R_PKTS].u, 3);
	cr_expect_eq(r[R_BYTES].u, 1600);
	fam.ops->row(v, 1, r);
	cr_expect_str_eq(r[R_REASON].s, "NO_SOCKET");
	cr_expect_eq(r[R_PKTS].u, 2);
	cr_expect_eq(r[R_DPORT].u, 9);
}

Test(fam_drops, flow_rows_sum_every_reason)
{
	struct fb_drop d[] = {
		drop(12, 6, "198.18.0.2", 40000, "198.18.0.1", 80, 1000),
		drop(7, 6, "198.18.0.2", 40000, "198.18.0.1", 80, 10),
		drop(12, 6, "198.18.0.2", 40001, "198.18.0.1", 80, 1),
	};
	struct fb_key k = flow_key(FB_KEYS_DEFAULT, 6, "198.18.0.2", 40000, "198.18.0.1", 80);
	struct fb_key other = flow_key(FB_KEYS_DEFAULT, 6, "198.18.0.1", 80, "198.18.0.2", 40000);
	const struct fb_drops_view *v;
	struct fb_value f[2];

	open_fam(FB_KEYS_DEFAULT, true);
	cr_assert_str_eq(fam.ops->flow_fields[0], "drops");
	add(d, 3, 0);
	v = fam.ops->view(fam.priv, 0, &bst);
	fam.ops->flow_values(v, &k, f);
	cr_expect(f[0].present && f[0].u == 2, "both reasons");
	cr_expect(f[1].present && f[1].u == 1010);
	fam.ops->flow_values(v, &other, f);
	cr_expect_not(f[0].present, "the reverse direction dropped nothing");
	cr_expect_not(f[1].present);
}

Test(fam_drops, unknown_reason_is_its_number)
{
	struct fb_drop d = drop(99, 17, "198.18.0.2", 1, "198.18.0.1", 2, 30);
	const struct fb_drops_view *v;
	struct fb_value r[R_N];

	open_fam(FB_KEYS_DEFAULT, false);
	add(&d, 1, 0);
	v = fam.ops->view(fam.priv, 0, &bst);
	fam.ops->row(v, 0, r);
	cr_expect_str_eq(r[R_REASON].s, "99");
	cr_expect_eq(r[R_CODE].u, 99);
}

Test(fam_drops, non_ip_drop_has_no_tuple_and_no_flow)
{
	struct fb_drop d = drop(2, 0, "0.0.0.0", 0, "0.0.0.0", 0, 60);
	struct fb_key k = flow_key(FB_KEYS_DEFAULT, 0, "0.0.0.0", 0, "0.0.0.0", 0);
	const struct fb_drops_view *v;
	struct fb_value r[R_N], f[2];

	memset(d.src, 0, 16);
	memset(d.dst, 0, 16);
	d.flags = 0;
	d.aux = FB_ETH_P_ARP;
	open_fam(FB_KEYS_DEFAULT, true);
	add(&d, 1, 0);
	v = fam.ops->view(fam.priv, 0, &bst);
	cr_assert_eq(fam.ops->nrows(v), 1);
	fam.ops->row(v, 0, r);
	cr_expect_not(r[R_SRC].present);
	cr_expect_not(r[R_DST].present);
	cr_expect_not(r[R_PROTO].present);
	cr_expect_not(r[R_SPORT].present);
	cr_expect_eq(r[R_PKTS].u, 1);
	fam.ops->flow_values(v, &k, f);
	cr_expect_not(f[0].present);
}

Test(fam_drops, icmp_type_and_code)
{
	struct fb_drop d = drop(5, 1, "198.18.0.2", 8, "198.18.0.1", 0, 84);
	const struct fb_drops_view *v;
	struct fb_value r[R_N];

	open_fam(FB_KEYS_DEFAULT, true);
	add(&d, 1, 0);
	v = fam.ops->view(fam.priv, 0, &bst);
	fam.ops->row(v, 0, r);
	cr_expect(r[R_ITYPE].present && r[R_ITYPE].u == 8);
	cr_expect(r[R_ICODE].present && r[R_ICODE].u == 0);
	cr_expect_not(r[R_SPORT].present);
	cr_expect_not(r[R_DPORT].present);
}

Test(fam_drops, key_spec_limits_row_fields)
{
	struct fb_drop d[] = { drop(12, 6, "198.18.0.2", 1, "198.18.0.1", 80, 10),
			       drop(12, 6, "198.18.0.3", 2, "198.18.0.9", 81, 10) };
	const struct fb_drops_view *v;
	struct fb_value r[R_N];

	open_fam("proto,dst/24", true);
	add(d, 2, 0);
	v = fam.ops->view(fam.priv, 0, &bst);
	cr_assert_eq(fam.ops->nrows(v), 1, "one row: same reason, proto and /24");
	fam.ops->row(v, 0, r);
	cr_expect_not(r[R_SRC].present);
	cr_expect_str_eq(r[R_DST].s, "198.18.0.0");
	cr_expect_not(r[R_SPORT].present);
	cr_expect_eq(r[R_PKTS].u, 2);
}

Test(fam_drops, merge_and_reset)
{
	struct fb_drop a = drop(12, 6, "198.18.0.2", 1, "198.18.0.1", 80, 10);
	const struct fb_drops_view *v;
	struct fb_value r[R_N];

	open_fam(FB_KEYS_DEFAULT, true);
	add(&a, 1, 0);
	add(&a, 1, 1);
	add(&a, 1, 1);
	fam.ops->merge(fam.priv, 0, 1);
	v = fam.ops->view(fam.priv, 0, &bst);
	cr_assert_eq(fam.ops->nrows(v), 1);
	fam.ops->row(v, 0, r);
	cr_expect_eq(r[R_PKTS].u, 3);
	cr_expect_eq(v->packets, 3);
	fam.ops->reset(fam.priv, 0);
	v = fam.ops->view(fam.priv, 0, &bst);
	cr_expect_eq(fam.ops->nrows(v), 0);
	cr_expect_eq(v->packets, 0);
}

Test(fam_drops, events_families_make_the_asked_ones)
{
	struct fb_events_opts eo = { .mask = FB_EV_DROPS | FB_EV_RESETS, .max_keys = 16 };
	struct fb_family f[FB_REC_TYPES] = { 0 };
	char err[64];

	fb_keyspec_parse(FB_KEYS_DEFAULT, &eo.keys, err, sizeof(err));
	cr_assert_eq(fb_events__families(&eo, f), 0);
	cr_expect_eq(f[FB_REC_DROP].ops, &fb_drops_ops);
	cr_expect_eq(f[FB_REC_RESET].ops, &fb_resets_ops);
	cr_expect_null(f[FB_REC_TCP_STATE].ops);
	cr_expect_null(f[FB_REC_RTT].ops);
	cr_expect_null(f[FB_REC_PKT].ops);
	cr_expect_eq(fb_events__type(FB_EV_RTT), FB_REC_RTT);
	cr_expect_str_eq(fb_events__name(FB_EV_RETRANS), "retrans");
	for (int t = 0; t < FB_REC_TYPES; t++)
		if (f[t].ops)
			f[t].ops->free(f[t].priv);
}

/* Drops of keys beyond --max-flows are in no (reason, tuple) row: one
 * overflow row holds them, so the drop rows add up to the records. */
Test(fam_drops, overflow_row_makes_rows_add_up)
{
	struct fb_drop d[5] = {
		drop(12, 6, "198.18.0.2", 40000, "198.18.0.1", 80, 100),
		drop(3, 17, "198.18.0.2", 5000, "198.18.0.1", 9, 200),
		drop(3, 17, "198.18.0.3", 5001, "198.18.0.1", 9, 300),
		drop(5, 17, "198.18.0.4", 5002, "198.18.0.1", 9, 400),
		drop(12, 6, "198.18.0.2", 40000, "198.18.0.1", 80, 100),
	};
	const struct fb_drops_view *v;
	struct fb_value r[R_N];
	uint64_t pk = 0, by = 0;
	uint32_t i, n;

	max_keys = 2;
	open_fam(FB_KEYS_DEFAULT, true);
	cr_assert_str_eq(fam.ops->row_fields[R_OVER], "overflow");
	add(d, 5, 0);
	bst.led[FB_REC_DROP].records = 5;
	v = fam.ops->view(fam.priv, 0, &bst);
	n = fam.ops->nrows(v);
	cr_assert_eq(n, 3, "two rows and the overflow row");
	for (i = 0; i < n; i++) {
		memset(r, 0, sizeof(r));
		fam.ops->row(v, i, r);
		pk += r[R_PKTS].u;
		by += r[R_BYTES].u;
		cr_assert_eq(r[R_OVER].present, i == n - 1, "only the last row is the overflow row");
		cr_assert_eq(r[R_REASON].present, i != n - 1, "the overflow row has no reason");
	}
	cr_assert_eq(pk, 5);
	cr_assert_eq(by, 1100);
}

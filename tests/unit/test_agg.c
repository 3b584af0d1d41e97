/* The per-batch flow table: rows, collisions, overflow, reset, top-N, merge;
 * the word-wise key build; the packet family's record pipeline. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include "agg.h"
#include "batch.h"
#include "flows.h"
#include "helpers.h"

static struct fb_agg *agg, *agg2;

static void cleanup(void)
{
	fb_agg__free(agg);
	fb_agg__free(agg2);
	agg = agg2 = NULL;
}

TestSuite(agg, .fini = cleanup);

/* key number i: distinct sport/dport/src per i */
static struct fb_key key(uint32_t i)
{
	struct fb_key k;

	memset(&k, 0, sizeof(k));
	addr_set(k.src, "10.0.0.1");
	k.src[14] = (uint8_t)(i >> 8);
	k.src[15] = (uint8_t)i;
	k.sport = (uint16_t)(1000 + i);
	k.dport = 80;
	k.proto = 6;
	k.ethertype = FB_ETH_P_IP;
	return k;
}

static int add(struct fb_agg *a, uint32_t i, uint32_t bytes, uint64_t ts, uint8_t flags)
{
	struct fb_key k = key(i);

	return fb_agg__add(a, &k, fb_key_hash(&k), 1, bytes, ts, flags);
}

/* the row holding key i, or NULL */
static const struct fb_flow *find(const struct fb_agg *a, uint32_t i)
{
	struct fb_key k = key(i);
	const struct fb_flow *r = fb_agg__rows(a);
	uint32_t j;

	for (j = 0; j < fb_agg__count(a); j++)
		if (!memcmp(&r[j].key, &k, sizeof(k)))
			return &r[j];
	return NULL;
}

static uint64_t total_packets(const struct fb_agg *a, uint64_t *bytes)
{
	const struct fb_flow *r = fb_agg__rows(a), *o = fb_agg__overflow(a, NULL);
	uint64_t p = o->packets, b = o->bytes;
	uint32_t j;

	for (j = 0; j < fb_agg__count(a); j++) {
		p += r[j].packets;
		b += r[j].bytes;
	}
	if (bytes)
		*bytes = b;
	return p;
}

/* ---- basics ----------------------------------------------------------------- */

Test(agg, zero_capacity_rejected)
{
	errno = 0;
	cr_assert_null(fb_agg__new(0));
	cr_assert_eq(errno, EINVAL);
}

Test(agg, new_table_is_empty)
{
	uint64_t over = 99;

	agg = fb_agg__new(8);
	cr_assert_not_null(agg);
	cr_assert_eq(fb_agg__count(agg), 0);
	cr_assert_eq(fb_agg__overflow(agg, &over)->packets, 0);
	cr_assert_eq(over, 0);
}

Test(agg, one_flow_counts_bytes_first_last_and_flags)
{
	const struct fb_flow *f;

	agg = fb_agg__new(8);
	cr_assert_eq(add(agg, 1, 100, 2000, 0x02), 0);
	cr_assert_eq(add(agg, 1, 60, 1000, 0x10), 0); /* earlier timestamp */
	cr_assert_eq(add(agg, 1, 40, 3000, 0x01), 0);
	cr_assert_eq(fb_agg__count(agg), 1);
	f = &fb_agg__rows(agg)[0];
	cr_assert_eq(f->packets, 3);
	cr_assert_eq(f->bytes, 200);
	cr_assert_eq(f->first_ns, 1000);
	cr_assert_eq(f->last_ns, 3000);
	cr_assert_eq(f->tcp_flags, 0x13);
	struct fb_key k = key(1);
	cr_assert_eq(memcmp(&f->key, &k, sizeof(k)), 0);
}

Test(agg, first_ns_zero_timestamp_kept)
{
	const struct fb_flow *f;

	agg = fb_agg__new(8);
	add(agg, 1, 1, 0, 0);
	add(agg, 1, 1, 5, 0);
	f = &fb_agg__rows(agg)[0];
	cr_assert_eq(f->first_ns, 0);
	cr_assert_eq(f->last_ns, 5);
}

Test(agg, distinct_keys_get_rows_in_insertion_order)
{
	const struct fb_flow *r;
	uint32_t i;

	agg = fb_agg__new(16);
	for (i = 0; i < 10; i++)
		add(agg, i, 10 + i, 100 + i, 0);
	add(agg, 3, 1, 50, 0);
	cr_assert_eq(fb_agg__count(agg), 10);
	r = fb_agg__rows(agg);
	for (i = 0; i < 10; i++) {
		struct fb_key k = key(i);

		cr_assert_eq(memcmp(&r[i].key, &k, sizeof(k)), 0, "row %u", i);
		cr_assert_eq(r[i].packets, i == 3 ? 2u : 1u);
		cr_assert_eq(r[i].bytes, i == 3 ? 14u : 10u + i);
	}
	cr_assert_eq(r[3].first_ns, 50);
	cr_assert_eq(r[3].last_ns, 103);
}

/* ---- collisions ----------------------------------------------------------- */

/* Every key has the same hash: same slot, same tag; only the key compare
 * tells them apart. */
Test(agg, all_keys_same_hash)
{
	uint32_t i, rep;

	agg = fb_agg__new(50);
	for (rep = 0; rep < 3; rep++)
		for (i = 0; i < 50; i++) {
			struct fb_key k = key(i);

			cr_assert_eq(fb_agg__add(agg, &k, 0x1234567800000005ull, 1, i + 1, rep, 0), 0);
		}
	cr_assert_eq(fb_agg__count(agg), 50);
	for (i = 0; i < 50; i++) {
		const struct fb_flow *f = find(agg, i);

		cr_assert_not_null(f);
		cr_assert_eq(f->packets, 3);
		cr_assert_eq(f->bytes, 3 * (i + 1));
	}
}

/* Same first slot, different tags: probing must skip foreign tags. */
Test(agg, same_slot_different_tags)
{
	uint32_t i;

	agg = fb_agg__new(40);
	for (i = 0; i < 40; i++) {
		struct fb_key k = key(i);

		fb_agg__add(agg, &k, ((uint64_t)(i + 1) << 32) | 7, 1, 1, 0, 0);
	}
	for (i = 0; i < 40; i++) {
		struct fb_key k = key(i);

		fb_agg__add(agg, &k, ((uint64_t)(i + 1) << 32) | 7, 1, 2, 0, 0);
	}
	cr_assert_eq(fb_agg__count(agg), 40);
	for (i = 0; i < 40; i++)
		cr_assert_eq(find(agg, i)->bytes, 3);
}

/* Probing wraps from the last slot to the first. */
Test(agg, probe_wraps_around_the_end)
{
	uint32_t i;

	agg = fb_agg__new(4); /* 64 slots */
	for (i = 0; i < 4; i++) {
		struct fb_key k = key(i);

		fb_agg__add(agg, &k, 63, 1, 1, 0, 0);
		fb_agg__add(agg, &k, 63, 1, 1, 0, 0);
	}
	cr_assert_eq(fb_agg__count(agg), 4);
	for (i = 0; i < 4; i++)
		cr_assert_eq(find(agg, i)->packets, 2);
}

/* A small table filled to capacity with real hashes. */
Test(agg, full_small_table_real_hashes)
{
	uint32_t i;

	agg = fb_agg__new(32); /* 64 slots for 32 keys */
	for (i = 0; i < 32 * 5; i++)
		cr_assert_eq(add(agg, i % 32, 100, i, 0), 0);
	cr_assert_eq(fb_agg__count(agg), 32);
	for (i = 0; i < 32; i++)
		cr_assert_eq(find(agg, i)->packets, 5);
	cr_assert_eq(fb_agg__overflow(agg, NULL)->packets, 0);
}

/* ---- capacity overflow ---------------------------------------------------- */

Test(agg, overflow_row_holds_exactly_the_rest)
{
	const struct fb_flow *o;
	uint64_t over;
	uint32_t i;

	agg = fb_agg__new(8);
	for (i = 0; i < 13; i++)
		cr_assert_eq(add(agg, i, 100 + i, 1000 + i, (uint8_t)(1u << (i % 8))), i >= 8);
	cr_assert_eq(fb_agg__count(agg), 8);
	o = fb_agg__overflow(agg, &over);
	cr_assert_eq(over, 5);
	cr_assert_eq(o->packets, 5);
	cr_assert_eq(o->bytes, 108 + 109 + 110 + 111 + 112);
	cr_assert_eq(o->first_ns, 1008);
	cr_assert_eq(o->last_ns, 1012);
	cr_assert_eq(o->tcp_flags, 0x1f);
	for (i = 0; i < 8; i++)
		cr_assert_not_null(find(agg, i));
	for (i = 8; i < 13; i++)
		cr_assert_null(find(agg, i));
}

Test(agg, existing_keys_still_counted_when_full)
{
	agg = fb_agg__new(2);
	add(agg, 0, 10, 0, 0);
	add(agg, 1, 10, 0, 0);
	cr_assert_eq(add(agg, 2, 10, 0, 0), 1);
	cr_assert_eq(add(agg, 1, 10, 0, 0), 0);
	cr_assert_eq(find(agg, 1)->packets, 2);
	cr_assert_eq(fb_agg__overflow(agg, NULL)->packets, 1);
}

Test(agg, overflowing_key_repeated_stays_in_overflow)
{
	uint64_t over;

	agg = fb_agg__new(1);
	add(agg, 0, 10, 0, 0);
	cr_assert_eq(add(agg, 5, 20, 0, 0), 1);
	cr_assert_eq(add(agg, 5, 20, 0, 0), 1);
	cr_assert_eq(fb_agg__count(agg), 1);
	cr_assert_eq(fb_agg__overflow(agg, &over)->packets, 2);
	cr_assert_eq(fb_agg__overflow(agg, NULL)->bytes, 40);
	cr_assert_eq(over, 2);
}

/* Pseudo-random adds over a key space bigger than the table: after every add,
 * rows + overflow account for every packet and byte. */
Test(agg, rows_plus_overflow_equal_added_always)
{
	uint64_t x = 88172645463325252ull, added = 0, bytes_added = 0, b;
	uint32_t i;

	agg = fb_agg__new(16);
	for (i = 0; i < 5000; i++) {
		uint32_t k, len;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		k = (uint32_t)(x % 40);
		len = (uint32_t)(x >> 40) % 1500 + 1;
		add(agg, k, len, i, 0);
		added++;
		bytes_added += len;
		cr_assert_eq(total_packets(agg, &b), added, "after %u adds", i + 1);
		cr_assert_eq(b, bytes_added);
	}
	cr_assert_eq(fb_agg__count(agg), 16);
	cr_assert_gt(fb_agg__overflow(agg, NULL)->packets, 0);
}

/* ---- reset ------------------------------------------------------------------- */

/* Few rows in a big index: only the used slots are cleared. */
Test(agg, reset_small_path_then_reuse)
{
	uint64_t over;
	uint32_t i;

	agg = fb_agg__new(64); /* 128 slots; 3 rows * 16 < 128 */
	for (i = 0; i < 3; i++)
		add(agg, i, 100, 5, 0x02);
	fb_agg__reset(agg);
	cr_assert_eq(fb_agg__count(agg), 0);
	cr_assert_eq(fb_agg__overflow(agg, &over)->packets, 0);
	cr_assert_eq(over, 0);
	cr_assert_eq(total_packets(agg, NULL), 0);
	/* the same keys come back as fresh rows, in the new order */
	add(agg, 2, 7, 9, 0);
	add(agg, 0, 8, 10, 0);
	add(agg, 2, 7, 11, 0);
	cr_assert_eq(fb_agg__count(agg), 2);
	cr_assert_eq(find(agg, 2)->packets, 2);
	cr_assert_eq(find(agg, 2)->bytes, 14);
	cr_assert_eq(find(agg, 2)->first_ns, 9);
	cr_assert_eq(find(agg, 2)->tcp_flags, 0);
	cr_assert_eq(find(agg, 0)->packets, 1);
	cr_assert_null(find(agg, 1));
	cr_assert_eq(fb_agg__rows(agg)[0].key.sport, key(2).sport);
}

/* Full table with overflow: the whole index is wiped. */
Test(agg, reset_memset_path_then_reuse)
{
	uint64_t over;
	uint32_t i;

	agg = fb_agg__new(4); /* 64 slots; 4 rows * 16 == 64: memset */
	for (i = 0; i < 6; i++)
		add(agg, i, 100, 5, 0);
	cr_assert_eq(fb_agg__overflow(agg, NULL)->packets, 2);
	fb_agg__reset(agg);
	cr_assert_eq(fb_agg__count(agg), 0);
	cr_assert_eq(fb_agg__overflow(agg, &over)->packets, 0);
	cr_assert_eq(fb_agg__overflow(agg, NULL)->bytes, 0);
	cr_assert_eq(over, 0);
	for (i = 10; i < 14; i++)
		cr_assert_eq(add(agg, i, 1, 1, 0), 0);
	cr_assert_eq(add(agg, 0, 1, 1, 0), 1);
	cr_assert_eq(fb_agg__count(agg), 4);
	for (i = 10; i < 14; i++)
		cr_assert_eq(find(agg, i)->packets, 1);
}

/* Many cycles with collisions (same hash for all keys) through both paths. */
Test(agg, reset_many_cycles_with_collisions)
{
	uint32_t cyc, i;

	agg = fb_agg__new(8);
	for (cyc = 0; cyc < 20; cyc++) {
		uint32_t n = cyc % 2 ? 8 : 3;

		for (i = 0; i < n; i++) {
			struct fb_key k = key(cyc * 100 + i);

			fb_agg__add(agg, &k, 0xabcdef0100000000ull | cyc, 1, 1, 0, 0);
			fb_agg__add(agg, &k, 0xabcdef0100000000ull | cyc, 1, 1, 0, 0);
		}
		cr_assert_eq(fb_agg__count(agg), n);
		cr_assert_eq(fb_agg__overflow(agg, NULL)->packets, 0);
		for (i = 0; i < n; i++)
			cr_assert_eq(fb_agg__rows(agg)[i].packets, 2, "cycle %u row %u", cyc, i);
		fb_agg__reset(agg);
	}
}

/* ---- top-N ------------------------------------------------------------------- */

/* ten rows, row i has (i*7 % 10 + 1) * 100 bytes: all different */
static void fill_ten(void)
{
	uint32_t i;

	agg = fb_agg__new(16);
	for (i = 0; i < 10; i++) {
		uint32_t b = (i * 7 % 10 + 1) * 100;

		add(agg, i, b, 1000 + i, (uint8_t)(1u << (i % 8)));
	}
}

Test(agg, top_orders_by_bytes)
{
	const struct fb_flow *out[16];
	struct fb_flow rest;
	uint32_t rf = 99, n, i;

	fill_ten();
	n = fb_agg__top(agg, 3, out, &rest, &rf);
	cr_assert_eq(n, 3);
	cr_assert_eq(out[0]->bytes, 1000);
	cr_assert_eq(out[1]->bytes, 900);
	cr_assert_eq(out[2]->bytes, 800);
	for (i = 0; i < 3; i++)
		cr_assert_eq(out[i]->packets, 1);
	/* bytes 1000 = key 7 (7*7%10 = 9) */
	cr_assert_eq(out[0]->key.sport, key(7).sport);
}

Test(agg, top_rest_row_sums_the_rest_exactly)
{
	const struct fb_flow *out[16];
	struct fb_flow rest;
	uint32_t rf = 99, i;
	uint8_t flags = 0;
	uint64_t first = UINT64_MAX, last = 0;

	fill_ten();
	fb_agg__top(agg, 3, out, &rest, &rf);
	cr_assert_eq(rf, 7);
	cr_assert_eq(rest.packets, 7);
	cr_assert_eq(rest.bytes, 100 + 200 + 300 + 400 + 500 + 600 + 700);
	for (i = 0; i < 10; i++) {
		const struct fb_flow *f = find(agg, i);

		if (f == out[0] || f == out[1] || f == out[2])
			continue;
		flags |= f->tcp_flags;
		first = f->first_ns < first ? f->first_ns : first;
		last = f->last_ns > last ? f->last_ns : last;
	}
	cr_assert_eq(rest.tcp_flags, flags);
	cr_assert_eq(rest.first_ns, first);
	cr_assert_eq(rest.last_ns, last);
	cr_assert_eq(rest.first_ns, 1000);
	cr_assert_eq(rest.last_ns, 1009);
}

Test(agg, top_plus_rest_cover_every_row)
{
	const struct fb_flow *out[16];
	struct fb_flow rest;
	uint32_t rf, n, i, k;

	fill_ten();
	for (n = 1; n <= 10; n++) {
		uint64_t p = 0, b = 0;

		k = fb_agg__top(agg, n, out, &rest, &rf);
		cr_assert_eq(k, n);
		cr_assert_eq(rf, 10 - n);
		for (i = 0; i < k; i++) {
			p += out[i]->packets;
			b += out[i]->bytes;
			if (i)
				cr_assert_geq(out[i - 1]->bytes, out[i]->bytes);
		}
		cr_assert_eq(p + rest.packets, 10, "n=%u", n);
		cr_assert_eq(b + rest.bytes, 5500, "n=%u", n);
		cr_assert_eq(out[k - 1]->bytes, (11 - n) * 100, "n=%u: the n-th largest", n);
	}
}

Test(agg, top_zero_returns_all_rows_descending)
{
	const struct fb_flow *out[16];
	struct fb_flow rest;
	uint32_t rf = 99, n, i;

	fill_ten();
	n = fb_agg__top(agg, 0, out, &rest, &rf);
	cr_assert_eq(n, 10);
	for (i = 0; i < 10; i++)
		cr_assert_eq(out[i]->bytes, (10 - i) * 100);
	cr_assert_eq(rest.packets, 0);
	cr_assert_eq(rest.bytes, 0);
	cr_assert_eq(rf, 0);
}

Test(agg, top_larger_than_count_returns_all)
{
	const struct fb_flow *out[16];
	struct fb_flow rest;
	uint32_t rf = 99;

	fill_ten();
	cr_assert_eq(fb_agg__top(agg, 50, out, &rest, &rf), 10);
	cr_assert_eq(rest.packets, 0);
	cr_assert_eq(rf, 0);
}

Test(agg, top_of_empty_table)
{
	const struct fb_flow *out[1];
	struct fb_flow rest;
	uint32_t rf = 99;

	agg = fb_agg__new(4);
	cr_assert_eq(fb_agg__top(agg, 3, out, &rest, &rf), 0);
	cr_assert_eq(fb_agg__top(agg, 0, out, &rest, &rf), 0);
	cr_assert_eq(rest.packets, 0);
	cr_assert_eq(rf, 0);
}

Test(agg, top_ties_broken_by_packets_then_insertion)
{
	const struct fb_flow *out[8];
	struct fb_flow rest;
	uint32_t rf;

	agg = fb_agg__new(8);
	add(agg, 0, 300, 0, 0); /* 300 bytes, 1 packet */
	add(agg, 1, 150, 0, 0); /* 300 bytes, 2 packets */
	add(agg, 1, 150, 0, 0);
	add(agg, 2, 300, 0, 0); /* like key 0, inserted later */
	add(agg, 3, 10, 0, 0);
	cr_assert_eq(fb_agg__top(agg, 0, out, &rest, &rf), 4);
	cr_assert_eq(out[0]->key.sport, key(1).sport);
	cr_assert_eq(out[1]->key.sport, key(0).sport);
	cr_assert_eq(out[2]->key.sport, key(2).sport);
	cr_assert_eq(out[3]->key.sport, key(3).sport);
	cr_assert_eq(fb_agg__top(agg, 2, out, &rest, &rf), 2);
	cr_assert_eq(out[0]->key.sport, key(1).sport);
	cr_assert_eq(out[1]->key.sport, key(0).sport);
	cr_assert_eq(rest.bytes, 310);
	cr_assert_eq(rf, 2);
}

Test(agg, top_rest_excludes_overflow_row)
{
	const struct fb_flow *out[4];
	struct fb_flow rest;
	uint32_t rf, i;

	agg = fb_agg__new(4);
	for (i = 0; i < 7; i++)
		add(agg, i, 100 * (i + 1), 0, 0);
	cr_assert_eq(fb_agg__top(agg, 1, out, &rest, &rf), 1);
	cr_assert_eq(out[0]->bytes, 400);
	cr_assert_eq(rf, 3);
	cr_assert_eq(rest.packets, 3);
	cr_assert_eq(rest.bytes, 100 + 200 + 300);
	cr_assert_eq(fb_agg__overflow(agg, NULL)->bytes, 500 + 600 + 700);
}

/* ---- merge ------------------------------------------------------------------ */

Test(agg, merge_sums_common_and_appends_new)
{
	const struct fb_flow *f;

	agg = fb_agg__new(8);
	agg2 = fb_agg__new(8);
	add(agg, 0, 100, 50, 0x02);
	add(agg, 1, 10, 60, 0);
	add(agg2, 1, 20, 40, 0x10);
	add(agg2, 1, 20, 70, 0x01);
	add(agg2, 2, 30, 80, 0);
	fb_agg__merge(agg, agg2);
	cr_assert_eq(fb_agg__count(agg), 3);
	f = find(agg, 1);
	cr_assert_eq(f->packets, 3);
	cr_assert_eq(f->bytes, 50);
	cr_assert_eq(f->first_ns, 40);
	cr_assert_eq(f->last_ns, 70);
	cr_assert_eq(f->tcp_flags, 0x11);
	f = find(agg, 2);
	cr_assert_eq(f->packets, 1);
	cr_assert_eq(f->bytes, 30);
	cr_assert_eq(f->first_ns, 80);
	cr_assert_eq(find(agg, 0)->packets, 1);
	cr_assert_eq(total_packets(agg, NULL), 5);
	/* src untouched */
	cr_assert_eq(fb_agg__count(agg2), 2);
	cr_assert_eq(total_packets(agg2, NULL), 3);
}

Test(agg, merged_rows_are_found_by_later_adds)
{
	agg = fb_agg__new(8);
	agg2 = fb_agg__new(8);
	add(agg2, 5, 20, 40, 0);
	fb_agg__merge(agg, agg2);
	add(agg, 5, 1, 41, 0);
	cr_assert_eq(fb_agg__count(agg), 1);
	cr_assert_eq(find(agg, 5)->packets, 2);
}

Test(agg, merge_into_full_table_goes_to_overflow)
{
	const struct fb_flow *o;
	uint64_t over;

	agg = fb_agg__new(2);
	agg2 = fb_agg__new(4);
	add(agg, 0, 1, 10, 0);
	add(agg, 1, 1, 10, 0);
	add(agg2, 1, 5, 20, 0);   /* existing: merged into its row */
	add(agg2, 2, 100, 5, 0);  /* new: no room */
	add(agg2, 2, 100, 6, 0);
	add(agg2, 3, 1000, 30, 0x04); /* new: no room */
	fb_agg__merge(agg, agg2);
	cr_assert_eq(fb_agg__count(agg), 2);
	cr_assert_eq(find(agg, 1)->packets, 2);
	cr_assert_eq(find(agg, 1)->bytes, 6);
	o = fb_agg__overflow(agg, &over);
	cr_assert_eq(o->packets, 3);
	cr_assert_eq(o->bytes, 1200);
	cr_assert_eq(o->first_ns, 5);
	cr_assert_eq(o->last_ns, 30);
	cr_assert_eq(o->tcp_flags, 0x04);
	cr_assert_eq(over, 2);
	cr_assert_eq(total_packets(agg, NULL), 6);
}

Test(agg, merge_adds_overflow_rows)
{
	uint64_t over;

	agg = fb_agg__new(1);
	agg2 = fb_agg__new(1);
	add(agg, 0, 1, 0, 0);
	add(agg, 1, 2, 0, 0); /* overflow 1 packet */
	add(agg2, 0, 4, 0, 0);
	add(agg2, 2, 8, 0, 0); /* overflow in src */
	add(agg2, 3, 16, 0, 0);
	fb_agg__merge(agg, agg2);
	cr_assert_eq(fb_agg__count(agg), 1);
	cr_assert_eq(find(agg, 0)->bytes, 5);
	cr_assert_eq(fb_agg__overflow(agg, &over)->packets, 3);
	cr_assert_eq(fb_agg__overflow(agg, NULL)->bytes, 26);
	cr_assert_eq(over, 3);
	cr_assert_eq(total_packets(agg, NULL), 5);
}

Test(agg, merge_empty_source_changes_nothing)
{
	agg = fb_agg__new(4);
	agg2 = fb_agg__new(4);
	add(agg, 0, 1, 7, 0);
	fb_agg__merge(agg, agg2);
	cr_assert_eq(fb_agg__count(agg), 1);
	cr_assert_eq(find(agg, 0)->first_ns, 7);
	cr_assert_eq(fb_agg__overflow(agg, NULL)->packets, 0);
	cr_assert_eq(fb_agg__overflow(agg, NULL)->first_ns, 0);
}

Test(agg, merge_into_empty_table_copies)
{
	uint32_t i;

	agg = fb_agg__new(64);
	agg2 = fb_agg__new(64);
	for (i = 0; i < 40; i++)
		add(agg2, i, i + 1, i, 0);
	fb_agg__merge(agg, agg2);
	cr_assert_eq(fb_agg__count(agg), 40);
	for (i = 0; i < 40; i++)
		cr_assert_eq(find(agg, i)->bytes, i + 1);
}

/* ---- buckets and the word-wise key build ------------------------------------ */

/* Keys whose home is the last bucket fill it, then wrap to the first ones;
 * each is found again, before and after a reset. */
Test(agg, full_last_bucket_wraps_to_the_first)
{
	uint32_t i, rep;

	agg = fb_agg__new(32); /* 64 slots: 8 buckets of 8 */
	for (rep = 0; rep < 2; rep++) {
		for (i = 0; i < 30; i++) {
			struct fb_key k = key(i);

			/* bucket 7, and one tag for every key: only keys tell them apart */
			cr_assert_eq(fb_agg__add(agg, &k, 0x5555555500000007ull, 1, 10, i, 0), 0);
			cr_assert_eq(fb_agg__add(agg, &k, 0x5555555500000007ull, 1, 10, i, 0), 0);
		}
		cr_assert_eq(fb_agg__count(agg), 30);
		for (i = 0; i < 30; i++)
			cr_assert_eq(find(agg, i)->packets, 2, "rep %u key %u", rep, i);
		fb_agg__reset(agg);
		cr_assert_eq(fb_agg__count(agg), 0);
	}
}

/* The reference: a key built field by field with fb_key_addr_masked. */
static void key_by_fields(const struct fb_keyspec *ks, const struct fb_pkt *r, struct fb_key *k)
{
	memset(k, 0, sizeof(*k));
	if (ks->fields & FB_K_SRC)
		fb_key_addr_masked(k->src, r->src, ks->src4, ks->src6);
	if (ks->fields & FB_K_DST)
		fb_key_addr_masked(k->dst, r->dst, ks->dst4, ks->dst6);
	k->ifindex = ks->fields & FB_K_IFACE ? r->ifindex : 0;
	k->sport = ks->fields & FB_K_SPORT ? r->sport : 0;
	k->dport = ks->fields & FB_K_DPORT ? r->dport : 0;
	k->ethertype = ks->fields & FB_K_ETYPE ? r->ethertype : 0;
	k->proto = ks->fields & FB_K_PROTO ? r->proto : 0;
	k->dir = ks->fields & FB_K_DIR ? !!(r->flags & FB_F_EGRESS) : 0;
}

/* Masks are words over the address bytes: every prefix length of both
 * kinds, on addresses with every bit set and on random ones, v4-mapped or
 * IPv6 (one differing only in the v4-mapped marker), for source and
 * destination; the hash equals the hash of the stored key. */
Test(agg, word_key_build_equals_field_by_field)
{
	static const char *const specs[] = { FB_KEYS_DEFAULT, "src", "dst,proto", "iface,dir,sport" };
	uint64_t x = 0x9E3779B97F4A7C15ull;
	unsigned s, p4, p6, a;
	char err[256];

	for (s = 0; s < 4; s++)
		for (p4 = 0; p4 <= 32; p4++)
			for (p6 = 0; p6 <= 128; p6 += (p6 < 8 || p6 > 120) ? 1 : 7)
				for (a = 0; a < 4; a++) {
					struct fb_keyspec ks;
					struct fb_pkt r;
					struct fb_key k1, k2;
					unsigned i;

					cr_assert_eq(fb_keyspec_parse(specs[s], &ks, err, sizeof(err)), 0);
					ks.src4 = ks.dst4 = (uint8_t)p4;
					ks.src6 = (uint8_t)p6;
					ks.dst6 = (uint8_t)(128 - p6);
					fb_keyspec_prepare(&ks);
					memset(&r, 0, sizeof(r));
					for (i = 0; i < 16; i++) {
						x ^= x << 13, x ^= x >> 7, x ^= x << 17;
						r.src[i] = a == 0 ? 0xff : (uint8_t)x;
						r.dst[i] = a == 0 ? 0xff : (uint8_t)(x >> 8);
					}
					if (a == 1 || a == 3) { /* v4-mapped */
						memset(r.src, 0, 10);
						r.src[10] = r.src[11] = 0xff;
						memcpy(r.dst, r.src, 12);
					}
					if (a == 3) /* not quite: IPv6 */
						r.dst[9] = 1;
					r.ifindex = (uint32_t)x;
					r.sport = (uint16_t)(x >> 16);
					r.dport = (uint16_t)(x >> 32);
					r.ethertype = 0x86dd;
					r.proto = 17;
					r.flags = FB_F_EGRESS | FB_F_IPV6;
					key_by_fields(&ks, &r, &k1);
					cr_assert_eq(fb_key_build_hash(&ks, &r, &k2), fb_key_hash(&k1));
					cr_assert_eq(memcmp(&k1, &k2, sizeof(k1)), 0, "spec %s /%u /%u kind %u",
						     specs[s], p4, p6, a);
				}
}

/* ---- the packet family's record pipeline ------------------------------------- */

static struct fb_pkt pkt(uint32_t i, uint64_t ts)
{
	struct fb_pkt r;

	memset(&r, 0, sizeof(r));
	r.type = FB_REC_PKT;
	r.len = sizeof(r);
	r.segs = 1;
	r.wire_len = 100;
	r.ts_ns = ts;
	r.proto = 17;
	r.ethertype = FB_ETH_P_IP;
	r.sport = (uint16_t)i;
	r.src[10] = r.src[11] = 0xff;
	r.src[15] = (uint8_t)i;
	return r;
}

/* Records wait in the family's pipeline between calls; a view, a merge and
 * a reset see every record added before them, in first-seen order. */
Test(flows, records_in_flight_reach_views_merges_and_resets)
{
	struct fb_flows_opts o = { .max_flows = 100 };
	struct fb_batch_stats st = { 0 };
	const struct fb_flows_view *v;
	struct fb_family fam;
	uint8_t slot0[64] = { 0 }, slot1[64];
	struct fb_pkt r[64];
	char err[256];
	uint32_t i;

	cr_assert_eq(fb_keyspec_parse(FB_KEYS_DEFAULT, &o.keys, err, sizeof(err)), 0);
	fam = fb_flows__new(&o);
	cr_assert_not_null(fam.ops);
	memset(slot1, 1, sizeof(slot1));
	for (i = 0; i < 64; i++)
		r[i] = pkt(i % 5, 1000 + i);
	fam.ops->add(fam.priv, r, 3, slot0); /* fewer than the pipeline holds */
	v = fam.ops->view(fam.priv, 0, &st);
	cr_assert_eq(v->packets, 3);
	cr_assert_eq(v->flows, 3);
	for (i = 0; i < 3; i++)
		cr_assert_eq(v->top[i]->key.sport, i, "first-seen order");
	fam.ops->reset(fam.priv, 0);
	fam.ops->add(fam.priv, r, 64, slot0);
	fam.ops->add(fam.priv, r, 7, slot1); /* still in flight at the merge */
	fam.ops->merge(fam.priv, 0, 1);
	v = fam.ops->view(fam.priv, 0, &st);
	cr_assert_eq(v->packets, 71);
	cr_assert_eq(v->bytes, 7100);
	cr_assert_eq(v->flows, 5);
	fam.ops->add(fam.priv, r, 9, slot1); /* in flight at the reset of slot 1 */
	fam.ops->reset(fam.priv, 1);
	v = fam.ops->view(fam.priv, 1, &st);
	cr_assert_eq(v->packets, 0);
	cr_assert_eq(v->flows, 0);
	fam.ops->free(fam.priv);
}

/* Aggregation of packet records into flows for one batch.
 *
 * A flow key is built from a record through a key spec (the -k group-by
 * fields and address prefixes); fields outside the spec are zero, so they
 * never split flows. The table holds at most max_flows distinct keys; a key
 * that arrives once it is full is counted in the single overflow row, so
 * every packet added is in exactly one row: sum(rows) + overflow = added.
 * Rows live in a dense array in insertion order, indexed by an
 * open-addressing hash of buckets of slots (hash tag, row number). */
#ifndef FB_AGG_H
#define FB_AGG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "flowbatch/record.h"

enum fb_key_field {
	FB_K_IFACE = 1 << 0,
	FB_K_DIR = 1 << 1,
	FB_K_ETYPE = 1 << 2,
	FB_K_PROTO = 1 << 3,
	FB_K_SRC = 1 << 4,
	FB_K_DST = 1 << 5,
	FB_K_SPORT = 1 << 6,
	FB_K_DPORT = 1 << 7,
};

struct fb_keyspec {
	uint32_t fields; /* enum fb_key_field */
	uint8_t src4, src6; /* prefix lengths kept of source addresses */
	uint8_t dst4, dst6;
	uint64_t wmask[2]; /* key words 4 and 5 masked to the fields (prepare) */
	/* address words masked to the fields and prefixes (prepare): source
	 * v4-mapped, source IPv6, destination v4-mapped, destination IPv6 */
	uint64_t amask[4][2];
};

#define FB_KEYS_DEFAULT "iface,dir,etype,proto,src,dst,sport,dport"

/* Parses "src/24,dst,proto,...". Returns 0, or -1 with a message in err. */
int fb_keyspec_parse(const char *s, struct fb_keyspec *ks, char *err, size_t errlen);
/* Derives wmask and amask from fields and prefixes; parse calls it, so
 * does anyone who fills a key spec by hand. */
void fb_keyspec_prepare(struct fb_keyspec *ks);

struct fb_key {
	uint8_t src[16];
	uint8_t dst[16];
	uint32_t ifindex;
	uint16_t sport;
	uint16_t dport;
	uint16_t ethertype;
	uint8_t proto;
	uint8_t dir; /* 0 in, 1 out */
	uint32_t pad; /* always zero: keys are hashed and compared as bytes */
};
_Static_assert(sizeof(struct fb_key) == 48, "fb_key has no holes");

/* Copies a 16-byte address keeping a prefix: p4 bits of a v4-mapped one,
 * p6 bits of an IPv6 one. */
void fb_key_addr_masked(uint8_t *a, const uint8_t *from, unsigned p4, unsigned p6);

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "fb_key_build packs words little-endian");

static inline uint64_t fb_mum(uint64_t x, uint64_t y)
{
	__uint128_t m = (__uint128_t)x * y;

	return (uint64_t)m ^ (uint64_t)(m >> 64);
}

/* Three independent 64x64->128 multiplies over word pairs, then one more to
 * mix them: short dependency chains, so hashing a chunk of keys overlaps. */
static inline uint64_t fb_key_hash_words(const uint64_t w[6])
{
	return fb_mum(fb_mum(w[0] ^ 0x243F6A8885A308D3ull, w[1] ^ 0x13198A2E03707344ull) ^
			      0xA4093822299F31D0ull,
		      fb_mum(w[2] ^ 0x082EFA98EC4E6C89ull, w[3] ^ 0x452821E638D01377ull) ^
			      fb_mum(w[4] ^ 0xBE5466CF34E90C6Cull, w[5] ^ 0xC0AC29B7C97C50DDull));
}

/* The key of a record as the six words of struct fb_key: addresses are
 * masked with the prefix of their kind (v4-mapped or not), scalar fields
 * packed with shifts, everything masked to the spec. */
static inline void fb_key_words(const struct fb_keyspec *ks, const struct fb_pkt *r, uint64_t w[6])
{
	const uint64_t *m;

	memcpy(&w[0], r->src, 8);
	memcpy(&w[1], r->src + 8, 8);
	memcpy(&w[2], r->dst, 8);
	memcpy(&w[3], r->dst + 8, 8);
	/* v4-mapped: bytes 0-9 zero, 10-11 0xff (little-endian words) */
	m = ks->amask[!(w[0] == 0 && (uint32_t)w[1] == 0xffff0000u)];
	w[0] &= m[0];
	w[1] &= m[1];
	m = ks->amask[2 + !(w[2] == 0 && (uint32_t)w[3] == 0xffff0000u)];
	w[2] &= m[0];
	w[3] &= m[1];
	w[4] = ((uint64_t)r->ifindex | (uint64_t)r->sport << 32 | (uint64_t)r->dport << 48) & ks->wmask[0];
	w[5] = ((uint64_t)r->ethertype | (uint64_t)r->proto << 16 |
		(uint64_t)((r->flags & FB_F_EGRESS) != 0) << 24) & ks->wmask[1];
}

/* Stores the words one by one. One memcpy of the array let the compiler
 * copy it with 16-byte moves that read pairs of 8-byte stores back: store
 * forwarding fails on that, a fifth of the record loop at 1K flows. */
static inline void fb_key_put(struct fb_key *k, const uint64_t w[6])
{
	typedef uint64_t __attribute__((may_alias, aligned(4))) word;
	word *d = (word *)k;

	d[0] = w[0];
	d[1] = w[1];
	d[2] = w[2];
	d[3] = w[3];
	d[4] = w[4];
	d[5] = w[5];
}

/* Builds the key of a record. */
static inline void fb_key_build(const struct fb_keyspec *ks, const struct fb_pkt *r, struct fb_key *k)
{
	uint64_t w[6];

	fb_key_words(ks, r, w);
	fb_key_put(k, w);
}

/* Builds the key of a record and returns its hash, computed from the words
 * in registers rather than read back from the stored key. */
static inline uint64_t fb_key_build_hash(const struct fb_keyspec *ks, const struct fb_pkt *r,
					 struct fb_key *k)
{
	uint64_t w[6];

	fb_key_words(ks, r, w);
	fb_key_put(k, w);
	return fb_key_hash_words(w);
}

static inline uint64_t fb_key_hash(const struct fb_key *k)
{
	uint64_t w[6];

	memcpy(w, k, sizeof(w));
	return fb_key_hash_words(w);
}

struct fb_flow {
	struct fb_key key;
	uint64_t packets;
	uint64_t bytes;
	uint64_t first_ns;
	uint64_t last_ns;
	uint32_t slot; /* index slot of this row (bucket * 8 + i), for cheap resets */
	uint8_t tcp_flags;
	uint8_t pad[3];
};

/* The index: buckets of 8 slots in one cache line, a 32-bit tag (never 0;
 * 0 = empty) and a row number per slot. A key lives in the first bucket
 * from its hash's home bucket onwards that had room when it arrived; slots
 * fill in order and are only emptied all at once (reset), so a lookup
 * compares the 8 tags of a bucket at once and stops at the first bucket
 * with an empty slot. One line per lookup, and no branch per slot: with
 * linear probing over single slots, a second probe cost a mispredicted
 * branch a third of the time. */
#define FB_AGG_BUCKET 8
struct fb_agg_bucket {
	uint32_t tag[FB_AGG_BUCKET];
	uint32_t row[FB_AGG_BUCKET];
} __attribute__((aligned(64)));

/* The table. Its fields are private to agg.c; they are in the header only
 * so the per-packet functions below can inline into the record loop. */
struct fb_agg {
	struct fb_agg_bucket *b;
	struct fb_flow *rows;
	uint64_t bmask; /* buckets - 1 */
	uint32_t max_flows;
	uint32_t count;
	struct fb_flow overflow;
	uint64_t keys_over;
	size_t slots_bytes, rows_bytes;
};

struct fb_agg *fb_agg__new(uint32_t max_flows);
void fb_agg__free(struct fb_agg *agg);
/* Empties the table for the next batch (cost ~ rows used, not capacity). */
void fb_agg__reset(struct fb_agg *agg);

static inline bool fb_key_eq(const struct fb_key *a, const struct fb_key *b)
{
	uint64_t x[6], y[6];

	memcpy(x, a, sizeof(x));
	memcpy(y, b, sizeof(y));
	return !((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) | (x[4] ^ y[4]) |
		 (x[5] ^ y[5]));
}

static inline uint32_t fb_agg_tag(uint64_t hash)
{
	return (uint32_t)(hash >> 32) | 1;
}

/* Bit i set when tag[i] == x, for the 8 slots of a bucket. */
static inline uint32_t fb_agg_match(const struct fb_agg_bucket *bk, uint32_t x)
{
	typedef uint32_t v4u __attribute__((vector_size(16)));
	typedef int32_t v4i __attribute__((vector_size(16)));
	v4u lo, hi;
	v4i mlo, mhi;

	memcpy(&lo, &bk->tag[0], sizeof(lo));
	memcpy(&hi, &bk->tag[4], sizeof(hi));
	mlo = (v4i)(lo == x);
	mhi = (v4i)(hi == x);
#ifdef __SSE2__
	return (uint32_t)__builtin_ia32_movmskps((__attribute__((vector_size(16))) float)mlo) |
	       (uint32_t)__builtin_ia32_movmskps((__attribute__((vector_size(16))) float)mhi) << 4;
#else
	{
		uint32_t m = 0;
		int i;

		for (i = 0; i < 4; i++)
			m |= (uint32_t)(mlo[i] & 1) << i | (uint32_t)(mhi[i] & 1) << (i + 4);
		return m;
	}
#endif
}

/* A prefetch for writing. The empty asm is a side effect: GCC 12 counts
 * __builtin_prefetch as none, finds a static inline function made only of
 * loads and prefetches "pure", and deletes its call (result unused) before
 * inlining it. That silently removed every row prefetch here until the
 * row prefetch was measured against one placed by hand (3x apart). */
static inline void fb_prefetch(const void *p)
{
	__builtin_prefetch(p, 1);
	__asm__ volatile("" : : "r"(p));
}

/* Hints the CPU to fetch the bucket a hash looks in first. */
static inline void fb_agg__prefetch(const struct fb_agg *agg, uint64_t hash)
{
	fb_prefetch(&agg->b[hash & agg->bmask]);
}

/* Once the bucket is in cache: fetch the row whose tag matches, if any. */
static inline void fb_agg__prefetch_row(const struct fb_agg *agg, uint64_t hash)
{
	const struct fb_agg_bucket *bk = &agg->b[hash & agg->bmask];
	uint32_t m = fb_agg_match(bk, fb_agg_tag(hash));

	if (m) {
		const char *f = (const char *)&agg->rows[bk->row[__builtin_ctz(m)]];

		/* a row is 88 bytes: it touches two or three cache lines */
		fb_prefetch(f);
		fb_prefetch(f + 64);
		fb_prefetch(f + sizeof(struct fb_flow) - 1);
	}
}

/* One record: segs wire packets (a GSO/GRO skb stands for several) of
 * bytes in all. */
static inline void fb_flow_update(struct fb_flow *f, uint32_t segs, uint32_t bytes, uint64_t ts_ns,
				  uint8_t tcp_flags)
{
	if (!f->packets || ts_ns < f->first_ns)
		f->first_ns = ts_ns;
	if (ts_ns > f->last_ns)
		f->last_ns = ts_ns;
	f->packets += segs;
	f->bytes += bytes;
	f->tcp_flags |= tcp_flags;
}

int fb_agg__insert_slow(struct fb_agg *agg, const struct fb_key *k, uint64_t hash, uint64_t i,
			uint32_t segs, uint32_t bytes, uint64_t ts_ns, uint8_t tcp_flags);

/* The row holding key k, or NULL with *slot set to the empty slot where
 * the key would go (bucket * FB_AGG_BUCKET + index in it). */
static inline struct fb_flow *fb_agg__find(const struct fb_agg *agg, const struct fb_key *k,
					   uint64_t hash, uint64_t *slot)
{
	uint32_t tag = fb_agg_tag(hash);
	uint64_t b = hash & agg->bmask;

	for (;;) {
		const struct fb_agg_bucket *bk = &agg->b[b];
		uint32_t m = fb_agg_match(bk, tag), e;

		while (m) {
			struct fb_flow *f = &agg->rows[bk->row[__builtin_ctz(m)]];

			if (fb_key_eq(&f->key, k))
				return f;
			m &= m - 1;
		}
		e = fb_agg_match(bk, 0);
		if (e) {
			*slot = b * FB_AGG_BUCKET + (uint32_t)__builtin_ctz(e);
			return NULL;
		}
		b = (b + 1) & agg->bmask;
	}
}

/* Adds one record (segs wire packets). Returns 1 when it went to the
 * overflow row, else 0. */
static inline int fb_agg__add(struct fb_agg *agg, const struct fb_key *k, uint64_t hash, uint32_t segs,
			      uint32_t bytes, uint64_t ts_ns, uint8_t tcp_flags)
{
	uint64_t i = 0;
	struct fb_flow *f = fb_agg__find(agg, k, hash, &i);

	if (__builtin_expect(!f, 0))
		return fb_agg__insert_slow(agg, k, hash, i, segs, bytes, ts_ns, tcp_flags);
	fb_flow_update(f, segs, bytes, ts_ns, tcp_flags);
	return 0;
}

uint32_t fb_agg__count(const struct fb_agg *agg);
const struct fb_flow *fb_agg__rows(const struct fb_agg *agg);
/* The overflow row (packets == 0 when nothing overflowed); keys_dropped
 * counts the distinct-key insert attempts that landed there. */
const struct fb_flow *fb_agg__overflow(const struct fb_agg *agg, uint64_t *keys_over);

/* Top-N view: the n rows with most bytes, in descending order, and a "rest"
 * row summing every other row (not the overflow row). n == 0 means all rows,
 * in descending order. out must hold min(n, count) pointers (or count when
 * n == 0). Returns the number of pointers written. rest->packets == 0 when
 * nothing was left out; *rest_flows counts the rows summed into it. */
uint32_t fb_agg__top(const struct fb_agg *agg, uint32_t n, const struct fb_flow **out,
		     struct fb_flow *rest, uint32_t *rest_flows);

/* Adds row s's counts into d (rest rows, merges, the overflow row): the
 * key of d stays. */
void fb_flow_add(struct fb_flow *d, const struct fb_flow *s);

/* Adds every row (and the overflow row) of src into dst. */
void fb_agg__merge(struct fb_agg *dst, const struct fb_agg *src);

#endif

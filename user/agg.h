/* Aggregation of packet records into flows for one batch.
 *
 * A flow key is built from a record through a key spec (the -k group-by
 * fields and address prefixes); fields outside the spec are zero, so they
 * never split flows. The table holds at most max_flows distinct keys; a key
 * that arrives once it is full is counted in the single overflow row, so
 * every packet added is in exactly one row: sum(rows) + overflow = added.
 * Rows live in a dense array in insertion order, indexed by an
 * open-addressing hash of 8-byte slots (hash tag | row number). */
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
};

#define FB_KEYS_DEFAULT "iface,dir,etype,proto,src,dst,sport,dport"

/* Parses "src/24,dst,proto,...". Returns 0, or -1 with a message in err. */
int fb_keyspec_parse(const char *s, struct fb_keyspec *ks, char *err, size_t errlen);
/* Derives wmask from fields; parse calls it, so does anyone who fills a
 * key spec by hand. */
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

/* Builds the key of a record. The scalar fields are packed into the key's
 * last two words with shifts and stored whole, then masked to the spec:
 * writing them one by one and reading the words back (to hash and compare)
 * stalls store forwarding, which cost ~10 ns a record. */
static inline void fb_key_build(const struct fb_keyspec *ks, const struct fb_pkt *r, struct fb_key *k)
{
	uint32_t f = ks->fields;
	uint64_t w[2];

	w[0] = ((uint64_t)r->ifindex | (uint64_t)r->sport << 32 | (uint64_t)r->dport << 48) & ks->wmask[0];
	w[1] = ((uint64_t)r->ethertype | (uint64_t)r->proto << 16 |
		(uint64_t)((r->flags & FB_F_EGRESS) != 0) << 24) & ks->wmask[1];
	memcpy(&k->ifindex, w, sizeof(w));
	if (!(f & FB_K_SRC))
		memset(k->src, 0, 16);
	else if (ks->src4 >= 32 && ks->src6 >= 128)
		memcpy(k->src, r->src, 16);
	else
		fb_key_addr_masked(k->src, r->src, ks->src4, ks->src6);
	if (!(f & FB_K_DST))
		memset(k->dst, 0, 16);
	else if (ks->dst4 >= 32 && ks->dst6 >= 128)
		memcpy(k->dst, r->dst, 16);
	else
		fb_key_addr_masked(k->dst, r->dst, ks->dst4, ks->dst6);
}
uint64_t fb_key_hash(const struct fb_key *k);

struct fb_flow {
	struct fb_key key;
	uint64_t packets;
	uint64_t bytes;
	uint64_t first_ns;
	uint64_t last_ns;
	uint32_t slot; /* index slot of this row, for cheap resets */
	uint8_t tcp_flags;
	uint8_t pad[3];
};

/* The table. Its fields are private to agg.c; they are in the header only
 * so the per-packet functions below can inline into the record loop. */
struct fb_agg {
	uint64_t *slots; /* 0 = empty, else (hash >> 32) << 32 | (row + 1) */
	struct fb_flow *rows;
	uint64_t mask; /* nslots - 1 */
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

/* Hints the CPU to fetch the slot a hash will probe first. */
static inline void fb_agg__prefetch(const struct fb_agg *agg, uint64_t hash)
{
	__builtin_prefetch(&agg->slots[hash & agg->mask], 1);
}

/* Once the slot is in cache: fetch the row it points to, if the tag says
 * it is likely this key's. Worth it only for tables beyond the caches. */
static inline void fb_agg__prefetch_row(const struct fb_agg *agg, uint64_t hash)
{
	uint64_t s = agg->slots[hash & agg->mask];

	if (s && (s & 0xffffffff00000000ull) == (hash & 0xffffffff00000000ull)) {
		const char *f = (const char *)&agg->rows[(uint32_t)s - 1];

		/* a row is 88 bytes: it touches two or three cache lines */
		__builtin_prefetch(f, 1);
		__builtin_prefetch(f + 64, 1);
		__builtin_prefetch(f + sizeof(struct fb_flow) - 1, 1);
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
 * the key would go (linear probing from the hash). */
static inline struct fb_flow *fb_agg__find(const struct fb_agg *agg, const struct fb_key *k,
					   uint64_t hash, uint64_t *slot)
{
	uint64_t tag = hash & 0xffffffff00000000ull;
	uint64_t i = hash & agg->mask;

	for (;;) {
		uint64_t s = agg->slots[i];

		if (!s) {
			*slot = i;
			return NULL;
		}
		if ((s & 0xffffffff00000000ull) == tag) {
			struct fb_flow *f = &agg->rows[(uint32_t)s - 1];

			if (fb_key_eq(&f->key, k))
				return f;
		}
		i = (i + 1) & agg->mask;
	}
}

/* Adds one record (segs wire packets). Returns 1 when it went to the
 * overflow row, else 0. */
static inline int fb_agg__add(struct fb_agg *agg, const struct fb_key *k, uint64_t hash, uint32_t segs,
			      uint32_t bytes, uint64_t ts_ns, uint8_t tcp_flags)
{
	uint64_t i = 0;
	struct fb_flow *f = fb_agg__find(agg, k, hash, &i);

	if (!f)
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

/* Adds every row (and the overflow row) of src into dst. */
void fb_agg__merge(struct fb_agg *dst, const struct fb_agg *src);

#endif

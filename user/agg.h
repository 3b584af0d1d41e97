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
};

#define FB_KEYS_DEFAULT "iface,dir,etype,proto,src,dst,sport,dport"

/* Parses "src/24,dst,proto,...". Returns 0, or -1 with a message in err. */
int fb_keyspec_parse(const char *s, struct fb_keyspec *ks, char *err, size_t errlen);

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

void fb_key_build(const struct fb_keyspec *ks, const struct fb_pkt *r, struct fb_key *k);
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

struct fb_agg;

struct fb_agg *fb_agg__new(uint32_t max_flows);
void fb_agg__free(struct fb_agg *agg);
/* Empties the table for the next batch (cost ~ rows used, not capacity). */
void fb_agg__reset(struct fb_agg *agg);
/* Adds one packet. Returns 1 when it went to the overflow row, else 0. */
int fb_agg__add(struct fb_agg *agg, const struct fb_key *k, uint64_t hash, uint32_t bytes,
		uint64_t ts_ns, uint8_t tcp_flags);
/* Hints the CPU to fetch the slot a hash will probe first. */
void fb_agg__prefetch(const struct fb_agg *agg, uint64_t hash);
/* Then, once that slot has arrived: hints the CPU to fetch the row it
 * points to, when its hash tag matches. */
void fb_agg__prefetch_row(const struct fb_agg *agg, uint64_t hash);

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

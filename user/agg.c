/* The per-batch flow table and the key spec that shapes its keys. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "agg.h"

/* ---- key spec -------------------------------------------------------- */

static const struct {
	const char *name;
	uint32_t bit;
} key_names[] = {
	{ "iface", FB_K_IFACE }, { "dir", FB_K_DIR },	  { "etype", FB_K_ETYPE },
	{ "proto", FB_K_PROTO }, { "src", FB_K_SRC },	  { "dst", FB_K_DST },
	{ "sport", FB_K_SPORT }, { "dport", FB_K_DPORT },
};

static int parse_prefix(const char *s, unsigned max, uint8_t *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max)
		return -1;
	*out = (uint8_t)v;
	return 0;
}

int fb_keyspec_parse(const char *s, struct fb_keyspec *ks, char *err, size_t errlen)
{
	char buf[256], *tok, *save = NULL;

	memset(ks, 0, sizeof(*ks));
	ks->src4 = ks->dst4 = 32;
	ks->src6 = ks->dst6 = 128;
	if (!s || !*s || strlen(s) >= sizeof(buf)) {
		snprintf(err, errlen, "empty or too long key list '%s'", s ? s : "");
		return -1;
	}
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *slash = strchr(tok, '/');
		uint32_t bit = 0;
		size_t i;

		if (slash)
			*slash = '\0';
		for (i = 0; i < sizeof(key_names) / sizeof(key_names[0]); i++)
			if (!strcmp(tok, key_names[i].name))
				bit = key_names[i].bit;
		if (!bit) {
			snprintf(err, errlen,
				 "unknown key '%s' in -k (keys: iface dir etype proto src dst sport dport, "
				 "src/N and dst/N for prefixes)", tok);
			return -1;
		}
		if (ks->fields & bit) {
			snprintf(err, errlen, "key '%s' given twice in -k", tok);
			return -1;
		}
		ks->fields |= bit;
		if (slash) {
			/* src/V4[/V6]: IPv4 prefix, optional IPv6 prefix (default /64) */
			uint8_t *p4 = bit == FB_K_SRC ? &ks->src4 : &ks->dst4;
			uint8_t *p6 = bit == FB_K_SRC ? &ks->src6 : &ks->dst6;
			char *second = strchr(slash + 1, '/');

			if (bit != FB_K_SRC && bit != FB_K_DST) {
				snprintf(err, errlen, "key '%s' takes no prefix length", tok);
				return -1;
			}
			if (second)
				*second = '\0';
			if (parse_prefix(slash + 1, 32, p4)) {
				snprintf(err, errlen, "bad IPv4 prefix length '%s' for %s (0-32)", slash + 1, tok);
				return -1;
			}
			*p6 = 64;
			if (second && parse_prefix(second + 1, 128, p6)) {
				snprintf(err, errlen, "bad IPv6 prefix length '%s' for %s (0-128)", second + 1, tok);
				return -1;
			}
		}
	}
	if (!ks->fields) {
		snprintf(err, errlen, "no keys in -k '%s'", s);
		return -1;
	}
	fb_keyspec_prepare(ks);
	return 0;
}

/* The 16-byte mask that keeps the first bits bits of an address. */
static void prefix_mask(unsigned bits, uint64_t m[2])
{
	uint8_t b[16];
	unsigned i;

	for (i = 0; i < 16; i++)
		b[i] = bits >= 8 * (i + 1) ? 0xff : bits > 8 * i ? (uint8_t)(0xff00 >> (bits - 8 * i)) : 0;
	memcpy(m, b, sizeof(b));
}

void fb_keyspec_prepare(struct fb_keyspec *ks)
{
	struct fb_key m;
	uint32_t f = ks->fields;

	memset(&m, 0, sizeof(m));
	m.ifindex = f & FB_K_IFACE ? 0xffffffffu : 0;
	m.sport = f & FB_K_SPORT ? 0xffff : 0;
	m.dport = f & FB_K_DPORT ? 0xffff : 0;
	m.ethertype = f & FB_K_ETYPE ? 0xffff : 0;
	m.proto = f & FB_K_PROTO ? 0xff : 0;
	m.dir = f & FB_K_DIR ? 0xff : 0;
	memcpy(ks->wmask, &m.ifindex, sizeof(ks->wmask));
	prefix_mask(96 + (ks->src4 < 32 ? ks->src4 : 32), ks->amask[0]);
	prefix_mask(ks->src6 < 128 ? ks->src6 : 128, ks->amask[1]);
	prefix_mask(96 + (ks->dst4 < 32 ? ks->dst4 : 32), ks->amask[2]);
	prefix_mask(ks->dst6 < 128 ? ks->dst6 : 128, ks->amask[3]);
	if (!(f & FB_K_SRC))
		memset(ks->amask[0], 0, 2 * sizeof(ks->amask[0]));
	if (!(f & FB_K_DST))
		memset(ks->amask[2], 0, 2 * sizeof(ks->amask[2]));
}

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

void fb_key_addr_masked(uint8_t *a, const uint8_t *from, unsigned p4, unsigned p6)
{
	unsigned bits, i;

	memcpy(a, from, 16);
	bits = memcmp(a, v4mapped, 12) ? p6 : 96 + p4;
	if (bits >= 128)
		return;
	i = bits / 8;
	if (bits % 8)
		a[i++] &= (uint8_t)(0xff00 >> (bits % 8));
	memset(a + i, 0, 16 - i);
}

/* ---- table ------------------------------------------------------------ */

/* Large tables get transparent huge pages: at a million flows the probes
 * are TLB misses on 4 KiB pages. */
static void *big_alloc(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (bytes >= (2u << 20))
		madvise(p, bytes, MADV_HUGEPAGE);
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
	/* fault the pages in now, not while the first busy batch runs (a
	 * kernel before 5.14 says EINVAL and pages fault in lazily) */
	madvise(p, bytes, MADV_POPULATE_WRITE);
	return p;
}

struct fb_agg *fb_agg__new(uint32_t max_flows)
{
	struct fb_agg *agg;
	uint64_t nslots = 64;

	if (!max_flows) {
		errno = EINVAL;
		return NULL;
	}
	/* at most half full: a bucket then overflows into the next ~2% of the
	 * time (at 8 keys out of a mean of 4) */
	while (nslots < 2ull * max_flows)
		nslots <<= 1;
	agg = calloc(1, sizeof(*agg));
	if (!agg)
		return NULL;
	agg->max_flows = max_flows;
	agg->bmask = nslots / FB_AGG_BUCKET - 1;
	agg->slots_bytes = nslots / FB_AGG_BUCKET * sizeof(struct fb_agg_bucket);
	agg->rows_bytes = (size_t)max_flows * sizeof(struct fb_flow);
	agg->b = big_alloc(agg->slots_bytes);
	agg->rows = big_alloc(agg->rows_bytes);
	if (!agg->b || !agg->rows) {
		fb_agg__free(agg);
		errno = ENOMEM;
		return NULL;
	}
	return agg;
}

void fb_agg__free(struct fb_agg *agg)
{
	if (!agg)
		return;
	if (agg->b)
		munmap(agg->b, agg->slots_bytes);
	if (agg->rows)
		munmap(agg->rows, agg->rows_bytes);
	free(agg);
}

void fb_agg__reset(struct fb_agg *agg)
{
	uint32_t i;

	if ((uint64_t)agg->count * 2 < agg->bmask + 1) {
		for (i = 0; i < agg->count; i++) {
			uint32_t s = agg->rows[i].slot;

			agg->b[s / FB_AGG_BUCKET].tag[s % FB_AGG_BUCKET] = 0;
		}
	} else {
		memset(agg->b, 0, agg->slots_bytes);
	}
	agg->count = 0;
	agg->keys_over = 0;
	memset(&agg->overflow, 0, sizeof(agg->overflow));
}

/* A row for a new key at empty slot i, or NULL when the table is full. */
static struct fb_flow *new_row(struct fb_agg *agg, const struct fb_key *k, uint64_t hash, uint64_t i)
{
	struct fb_flow *f;

	if (agg->count == agg->max_flows)
		return NULL;
	f = &agg->rows[agg->count];
	memset(f, 0, sizeof(*f));
	f->key = *k;
	f->slot = (uint32_t)i;
	agg->b[i / FB_AGG_BUCKET].row[i % FB_AGG_BUCKET] = agg->count;
	agg->b[i / FB_AGG_BUCKET].tag[i % FB_AGG_BUCKET] = fb_agg_tag(hash);
	agg->count++;
	return f;
}

/* A new key (or the table is full): the insert half of fb_agg__add. */
int fb_agg__insert_slow(struct fb_agg *agg, const struct fb_key *k, uint64_t hash, uint64_t i,
			uint32_t segs, uint32_t bytes, uint64_t ts_ns, uint8_t tcp_flags)
{
	struct fb_flow *f = new_row(agg, k, hash, i);

	if (!f) {
		agg->keys_over++;
		f = &agg->overflow;
	}
	fb_flow_update(f, segs, bytes, ts_ns, tcp_flags);
	return f == &agg->overflow;
}

uint32_t fb_agg__count(const struct fb_agg *agg)
{
	return agg->count;
}

const struct fb_flow *fb_agg__rows(const struct fb_agg *agg)
{
	return agg->rows;
}

const struct fb_flow *fb_agg__overflow(const struct fb_agg *agg, uint64_t *keys_over)
{
	if (keys_over)
		*keys_over = agg->keys_over;
	return &agg->overflow;
}

/* Order: more bytes first, then more packets, then insertion order, so
 * output is deterministic. */
static int flow_before(const struct fb_flow *a, const struct fb_flow *b)
{
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes;
	if (a->packets != b->packets)
		return a->packets > b->packets;
	return a < b;
}

static int cmp_desc(const void *pa, const void *pb)
{
	const struct fb_flow *a = *(const struct fb_flow *const *)pa;
	const struct fb_flow *b = *(const struct fb_flow *const *)pb;

	return flow_before(a, b) ? -1 : flow_before(b, a) ? 1 : 0;
}

/* min-heap on "flow_before" order: the root is the weakest kept row */
static void heap_down(const struct fb_flow **h, uint32_t n, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		const struct fb_flow *t;

		if (l < n && flow_before(h[m], h[l]))
			m = l;
		if (r < n && flow_before(h[m], h[r]))
			m = r;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

void fb_flow_add(struct fb_flow *d, const struct fb_flow *s)
{
	if (!s->packets)
		return;
	if (!d->packets || s->first_ns < d->first_ns)
		d->first_ns = s->first_ns;
	if (s->last_ns > d->last_ns)
		d->last_ns = s->last_ns;
	d->packets += s->packets;
	d->bytes += s->bytes;
	d->tcp_flags |= s->tcp_flags;
}

uint32_t fb_agg__top(const struct fb_agg *agg, uint32_t n, const struct fb_flow **out,
		     struct fb_flow *rest, uint32_t *rest_flows)
{
	uint32_t i, k;

	memset(rest, 0, sizeof(*rest));
	*rest_flows = 0;
	if (n == 0 || n >= agg->count) {
		for (i = 0; i < agg->count; i++)
			out[i] = &agg->rows[i];
		qsort(out, agg->count, sizeof(*out), cmp_desc);
		return agg->count;
	}
	k = 0;
	for (i = 0; i < agg->count; i++) {
		const struct fb_flow *f = &agg->rows[i];

		if (k < n) {
			out[k++] = f;
			if (k == n) {
				uint32_t j;

				for (j = n / 2 + 1; j-- > 0;)
					heap_down(out, n, j);
			}
			continue;
		}
		if (flow_before(f, out[0])) {
			fb_flow_add(rest, out[0]);
			out[0] = f;
			heap_down(out, n, 0);
		} else {
			fb_flow_add(rest, f);
		}
		(*rest_flows)++;
	}
	qsort(out, n, sizeof(*out), cmp_desc);
	return n;
}

void fb_agg__merge(struct fb_agg *dst, const struct fb_agg *src)
{
	uint32_t i;

	for (i = 0; i < src->count; i++) {
		const struct fb_flow *s = &src->rows[i];
		uint64_t h = fb_key_hash(&s->key), j = 0;
		struct fb_flow *f = fb_agg__find(dst, &s->key, h, &j);

		if (!f)
			f = new_row(dst, &s->key, h, j);
		if (!f) {
			dst->keys_over++;
			f = &dst->overflow;
		}
		fb_flow_add(f, s);
	}
	dst->keys_over += src->keys_over;
	fb_flow_add(&dst->overflow, &src->overflow);
}

/* The event families' per-batch table: open addressing over a power-of-two
 * index, entries in a dense array in insertion order (see fam_tab.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "fam_tab.h"

struct fb_evtab {
	uint32_t *idx; /* 0 = empty, else entry + 1 */
	uint64_t mask;
	struct fb_key *keys;
	uint8_t *vals;
	size_t vsize;
	uint32_t max, n;
	uint8_t *over;
	uint64_t over_events;
};

struct fb_evtab *fb_evtab__new(uint32_t max_keys, size_t vsize)
{
	struct fb_evtab *t;
	uint64_t slots = 16;

	if (!max_keys || !vsize || vsize % 8) {
		errno = EINVAL;
		return NULL;
	}
	while (slots < 2ull * max_keys)
		slots <<= 1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->max = max_keys;
	t->vsize = vsize;
	t->mask = slots - 1;
	/* the index is sized for max keys; entries grow with use */
	t->idx = calloc(slots, sizeof(*t->idx));
	t->keys = calloc(max_keys, sizeof(*t->keys));
	t->vals = calloc(max_keys, vsize);
	t->over = calloc(1, vsize);
	if (!t->idx || !t->keys || !t->vals || !t->over) {
		fb_evtab__free(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

void fb_evtab__free(struct fb_evtab *t)
{
	if (!t)
		return;
	free(t->idx);
	free(t->keys);
	free(t->vals);
	free(t->over);
	free(t);
}

static uint64_t find_slot(const struct fb_evtab *t, const struct fb_key *k, bool *found)
{
	uint64_t i = fb_key_hash(k) & t->mask;

	for (;; i = (i + 1) & t->mask) {
		uint32_t e = t->idx[i];

		if (!e) {
			*found = false;
			return i;
		}
		if (fb_key_eq(&t->keys[e - 1], k)) {
			*found = true;
			return i;
		}
	}
}

void fb_evtab__reset(struct fb_evtab *t)
{
	uint32_t i;
	bool found;

	/* clear only the slots in use: cost ~ keys, not capacity */
	for (i = 0; i < t->n; i++)
		t->idx[find_slot(t, &t->keys[i], &found)] = 0;
	memset(t->vals, 0, (size_t)t->n * t->vsize);
	memset(t->over, 0, t->vsize);
	t->n = 0;
	t->over_events = 0;
}

void *fb_evtab__get(struct fb_evtab *t, const struct fb_key *k)
{
	bool found;
	uint64_t s = find_slot(t, k, &found);

	if (found)
		return t->vals + (size_t)(t->idx[s] - 1) * t->vsize;
	if (t->n >= t->max) {
		t->over_events++;
		return t->over;
	}
	t->keys[t->n] = *k;
	t->idx[s] = ++t->n;
	return t->vals + (size_t)(t->n - 1) * t->vsize;
}

const void *fb_evtab__find(const struct fb_evtab *t, const struct fb_key *k)
{
	bool found;
	uint64_t s = find_slot(t, k, &found);

	return found ? t->vals + (size_t)(t->idx[s] - 1) * t->vsize : NULL;
}

uint32_t fb_evtab__count(const struct fb_evtab *t)
{
	return t->n;
}

const struct fb_key *fb_evtab__key(const struct fb_evtab *t, uint32_t i)
{
	return &t->keys[i];
}

void *fb_evtab__val(const struct fb_evtab *t, uint32_t i)
{
	return t->vals + (size_t)i * t->vsize;
}

void *fb_evtab__overflow(const struct fb_evtab *t, uint64_t *events)
{
	if (events)
		*events = t->over_events;
	return t->over;
}

void fb_evkeyspec(const struct fb_keyspec *flows, struct fb_keyspec *ev)
{
	*ev = *flows;
	ev->fields &= ~(uint32_t)(FB_K_IFACE | FB_K_DIR);
	fb_keyspec_prepare(ev);
}

void fb_evkey(const struct fb_keyspec *ev, const uint8_t *src, const uint8_t *dst, uint16_t sport,
	      uint16_t dport, uint8_t proto, uint16_t ethertype, struct fb_key *k)
{
	struct fb_pkt p;

	memset(&p, 0, sizeof(p));
	memcpy(p.src, src, 16);
	memcpy(p.dst, dst, 16);
	p.sport = sport;
	p.dport = dport;
	p.proto = proto;
	p.ethertype = ethertype;
	fb_key_build(ev, &p, k);
}

void fb_evkey_of_flow(const struct fb_key *flow, struct fb_key *k)
{
	*k = *flow;
	k->ifindex = 0;
	k->dir = 0;
}

/* A small per-batch table for the event families: keyed by a flow key (the
 * -k spec applied to an event's 5-tuple, without interface and direction,
 * so events join the flow rows of either interface and direction the tuple
 * was seen on), each key holding a fixed-size value the family defines.
 * Bounded: once max keys are in, further keys share one overflow value, so
 * every event lands somewhere and sums stay exact. Plain C, no kernel. */
#ifndef FB_FAM_TAB_H
#define FB_FAM_TAB_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "agg.h"

struct fb_evtab;

/* vsize bytes of value per key (a multiple of 8); NULL with errno. */
struct fb_evtab *fb_evtab__new(uint32_t max_keys, size_t vsize);
void fb_evtab__free(struct fb_evtab *t);
void fb_evtab__reset(struct fb_evtab *t);
/* The value of key k, zeroed when new; the overflow value once full. */
void *fb_evtab__get(struct fb_evtab *t, const struct fb_key *k);
/* The value of key k, or NULL. */
const void *fb_evtab__find(const struct fb_evtab *t, const struct fb_key *k);
uint32_t fb_evtab__count(const struct fb_evtab *t);
/* Entry i (0 .. count-1) in insertion order. */
const struct fb_key *fb_evtab__key(const struct fb_evtab *t, uint32_t i);
void *fb_evtab__val(const struct fb_evtab *t, uint32_t i);
/* The overflow value (all zero when nothing overflowed) and how many
 * events went there (fb_evtab__get calls once full). */
void *fb_evtab__overflow(const struct fb_evtab *t, uint64_t *events);

/* The flow key spec without interface and direction, for fb_evkey. */
void fb_evkeyspec(const struct fb_keyspec *flows, struct fb_keyspec *ev);
/* The key of an event tuple under an fb_evkeyspec spec: the -k address
 * prefixes, ports, protocol and EtherType, no interface, no direction. */
void fb_evkey(const struct fb_keyspec *ev, const uint8_t *src, const uint8_t *dst, uint16_t sport,
	      uint16_t dport, uint8_t proto, uint16_t ethertype, struct fb_key *k);
/* A flow row's key as the event tables hold it (interface, direction off). */
void fb_evkey_of_flow(const struct fb_key *flow, struct fb_key *k);

#endif

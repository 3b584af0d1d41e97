/* Kernel event families (--events): names and the bits that turn them on.
 * Each family is a BPF program on a tracepoint writing its own record type
 * into the same rings as packets, and a family file aggregating it. */
#ifndef FB_EVENTS_H
#define FB_EVENTS_H
#include <stddef.h>
#include <stdint.h>
#include "agg.h"
#include "fam_drops.h"
#include "family.h"

enum fb_event_bit {
	FB_EV_TCP = 1 << 0,
	FB_EV_RETRANS = 1 << 1,
	FB_EV_RESETS = 1 << 2,
	FB_EV_RTT = 1 << 3,
	FB_EV_DROPS = 1 << 4,
};

/* "tcp,drops" -> bits. Returns 0, or -EINVAL with a one-line reason in err. */
int fb_events_parse(const char *list, uint32_t *mask, char *err, size_t errlen);

/* What the event families need from the command line and the kernel. */
struct fb_events_opts {
	uint32_t mask; /* enum fb_event_bit */
	struct fb_keyspec keys; /* -k: events are keyed like the flow rows they join */
	uint32_t max_keys; /* --max-flows: distinct tuples kept per batch and family */
	fb_reason_name_fn drop_reason; /* fb_evcap__drop_reason, or NULL: numbers only */
	void *drop_reason_ctx;
};

/* Fills fams[FB_REC_TCP_STATE ..] for the families in o->mask (the others
 * are left as they are). Returns 0, or -errno after freeing the ones it
 * made. */
int fb_events__families(const struct fb_events_opts *o, struct fb_family fams[FB_REC_TYPES]);
/* The record type of one family bit (FB_EV_TCP -> FB_REC_TCP_STATE). */
uint8_t fb_events__type(uint32_t bit);
/* "tcp", "retrans", ... for one bit */
const char *fb_events__name(uint32_t bit);

#endif

/* The drops family (--events drops): packets the kernel freed as dropped
 * (struct fb_drop), per batch: one "drop" row per reason and tuple (the -k
 * spec without interface and direction), and on each flow row with a
 * matching tuple the drops of that flow, whatever the reason. Reason names
 * come from the caller (the running kernel's BTF, capture_events.c), so
 * this file stays plain C. */
#ifndef FB_FAM_DROPS_H
#define FB_FAM_DROPS_H
#include <stdint.h>
#include "agg.h"
#include "fam_tab.h"
#include "fam_tcp.h"
#include "family.h"

/* A reason's name, or NULL when unknown. */
typedef const char *(*fb_reason_name_fn)(void *ctx, uint32_t reason);

struct fb_drops_opts {
	struct fb_evfam_opts ev;
	fb_reason_name_fn reason_name; /* may be NULL: rows carry the number only */
	void *reason_ctx;
};

struct fb_drop_val {
	uint64_t packets, bytes;
	uint64_t flags; /* OR of the records' FB_EV_F_IP / FB_EV_F_PORTS / FB_EV_F_IPV6 */
};

/* A finished batch's drops. Row i is the tuple fb_evtab__key(rows, order[i])
 * with the reason in the key's pad field. */
struct fb_drops_view {
	uint64_t records, packets, bytes;
	uint64_t overflow; /* drops of keys beyond max_keys (in no row) */
	const struct fb_evtab *rows; /* (reason, tuple) -> fb_drop_val */
	const struct fb_evtab *flows; /* tuple -> fb_drop_val, for flow rows */
	const uint32_t *order; /* rows, most packets first */
	uint32_t nrows;
	uint32_t key_fields; /* which tuple fields the rows have */
	fb_reason_name_fn reason_name;
	void *reason_ctx;
	void *scratch; /* strings of the row being written (valid until the next row) */
};

extern const struct fb_family_ops fb_drops_ops;

struct fb_family fb_drops__new(const struct fb_drops_opts *o);

#endif

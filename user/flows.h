/* The packet family: packet records aggregated into flows per batch, by the
 * -k key spec, with top-N, a rest row and an overflow row. Flow rows report
 * wire packets and bytes (a GSO/GRO record counts its segments); the batch
 * ledger counts records. */
#ifndef FB_FLOWS_H
#define FB_FLOWS_H
#include <stdbool.h>
#include <stdint.h>
#include "agg.h"
#include "family.h"

struct fb_flows_opts {
	uint32_t max_flows;
	uint32_t top; /* -n; 0 = all rows */
	bool sort_all; /* with top 0: most bytes first (else first-seen order, cheaper) */
	struct fb_keyspec keys;
};

/* Records, wire packets and bytes of one interface and direction in a
 * batch, counted per record: exact whatever -k, -n or --max-flows do to
 * the rows. ifindex 0 sums whatever is beyond FB_IFT_MAX pairs. */
struct fb_iface_total {
	uint32_t ifindex;
	uint8_t dir; /* 0 in, 1 out */
	uint64_t records, packets, bytes;
};

#define FB_IFT_MAX 64 /* 32 interfaces, both ways: FB_MAX_IFACES is 16 */

/* A finished batch's flows. */
struct fb_flows_view {
	uint64_t records; /* packet records aggregated (the ledger's) */
	uint64_t packets, bytes; /* on the wire, every row included */
	uint64_t parse_errors;
	uint64_t flows; /* rows, overflow row not included */
	uint64_t overflow; /* wire packets in the overflow row */
	uint32_t key_fields; /* enum fb_key_field: which key fields rows have */
	const struct fb_flow *const *top; /* ntop rows, most bytes first */
	uint32_t ntop;
	const struct fb_flow *rest; /* sum of rows beyond -n; packets == 0 if none */
	uint32_t rest_flows;
	const struct fb_flow *overflow_row; /* packets == 0 if nothing overflowed */
	const struct fb_iface_total *ifaces; /* every (interface, direction) seen */
	uint32_t nifaces;
};

extern const struct fb_family_ops fb_flows_ops;

/* A packet family for fb_batcher_opts.fams[FB_REC_PKT]; ops NULL with errno
 * set on failure. */
struct fb_family fb_flows__new(const struct fb_flows_opts *o);

#endif

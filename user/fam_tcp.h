/* The TCP event families (--events tcp,retrans,resets,rtt): records from
 * bpf/events.bpf.h (struct fb_tcp_ev) aggregated per batch by 5-tuple (the
 * -k spec without interface and direction), seen from the socket: source =
 * this host's end. Each family adds fields to the flow rows whose key
 * matches; tcp also writes one "tcp_state" row per state transition seen in
 * the batch. Plain C: unit tests feed hand-built records. */
#ifndef FB_FAM_TCP_H
#define FB_FAM_TCP_H
#include <stdint.h>
#include "agg.h"
#include "fam_tab.h"
#include "family.h"

struct fb_evfam_opts {
	struct fb_keyspec keys; /* the flow rows' -k spec */
	uint32_t max_keys; /* distinct tuples kept per batch (--max-flows) */
};

#define FB_TCP_NSTATES 16 /* TCP_ESTABLISHED (1) .. TCP_BOUND_INACTIVE (13), room to spare */

/* Per tuple, per batch. */
struct fb_tcp_state_val {
	uint64_t opens; /* changes to ESTABLISHED */
	uint64_t closes; /* changes to CLOSE from a synchronized state */
	uint64_t failed; /* changes to CLOSE from SYN_SENT / SYN_RECV */
	uint64_t life_ns; /* summed life (from leaving CLOSE) of timed closes */
	uint64_t timed; /* closes whose start was seen */
};
struct fb_retrans_val {
	uint64_t sent, segs, failed;
};
struct fb_resets_val {
	uint64_t sent, recv;
};
struct fb_rtt_val {
	uint64_t n, sum_us, min_us, max_us;
};

/* A finished batch of one of these families. */
struct fb_tcpfam_view {
	uint8_t type; /* FB_REC_* */
	uint64_t records; /* aggregated (the ledger's) */
	uint64_t tuples; /* distinct tuples */
	uint64_t overflow; /* events of tuples beyond max_keys */
	const struct fb_evtab *tab; /* values: the family's fb_*_val */
	/* tcp only: transitions of the batch, from/to state numbers */
	uint64_t trans[FB_TCP_NSTATES][FB_TCP_NSTATES];
	uint32_t ntrans_rows;
	uint16_t trans_rows[FB_TCP_NSTATES * FB_TCP_NSTATES]; /* from << 8 | to, row order */
};

extern const struct fb_family_ops fb_tcp_state_ops, fb_retrans_ops, fb_resets_ops, fb_rtt_ops;

/* One family per record type (FB_REC_TCP_STATE, FB_REC_RETRANS, FB_REC_RESET,
 * FB_REC_RTT); ops NULL with errno set on failure. */
struct fb_family fb_tcpfam__new(uint8_t type, const struct fb_evfam_opts *o);

/* "ESTABLISHED", "SYN_SENT", ...; "?" beyond the known states */
const char *fb_tcp_state_name(unsigned state);

#endif

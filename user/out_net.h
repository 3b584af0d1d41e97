/* The network outputs: Prometheus /metrics (out_prom.c) and IPFIX export
 * (out_ipfix.c). Their ops for the registry (out.c) and the tests. */
#ifndef FB_OUT_NET_H
#define FB_OUT_NET_H
#include "out.h"

extern const struct fb_output_ops fb_out_prometheus;
extern const struct fb_output_ops fb_out_ipfix;

/* Prometheus: the text every scrape gets now (for the tests). */
const char *fb_prom__text(void *s, size_t *len);

/* IPFIX: largest message (UDP payload) flowbatch sends, within a 1500-byte
 * path MTU with room for IPv6 and tunnel headers. */
#define FB_IPFIX_MSG_MAX 1400
/* Template IDs (data sets use them as set IDs). */
enum {
	FB_IPFIX_T_V4 = 256,	/* IPv4 flows with ports */
	FB_IPFIX_T_V6 = 257,	/* IPv6 flows with ports */
	FB_IPFIX_T_ICMP4 = 258, /* ICMP over IPv4 */
	FB_IPFIX_T_ICMP6 = 259, /* ICMPv6 */
	FB_IPFIX_T_L2 = 260,	/* frames that are not IP (ARP, LLDP, ...) */
	FB_IPFIX_T_BATCH = 261, /* options: one record per batch, the ledger */
};
/* Templates are sent at start, after a failed send, and at least this often. */
#define FB_IPFIX_TEMPLATE_PERIOD_NS (10ull * 1000000000ull)

#endif

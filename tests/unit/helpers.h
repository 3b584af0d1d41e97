/* Small helpers shared by the unit tests (header only, everything static). */
#ifndef FB_TEST_HELPERS_H
#define FB_TEST_HELPERS_H
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "flowbatch/record.h"

#define MS 1000000ull
#define SEC 1000000000ull

/* "1.2.3.4" -> v4-mapped 16 bytes; anything with ':' -> IPv6 */
static inline void addr_set(uint8_t a[16], const char *s)
{
	memset(a, 0, 16);
	if (strchr(s, ':')) {
		if (inet_pton(AF_INET6, s, a) != 1)
			abort();
		return;
	}
	a[10] = a[11] = 0xff;
	if (inet_pton(AF_INET, s, a + 12) != 1)
		abort();
}

static inline struct fb_pkt mkpkt(uint16_t cpu, uint32_t seq, uint64_t ts, uint16_t sport,
				  uint32_t len)
{
	struct fb_pkt p;

	memset(&p, 0, sizeof(p));
	p.type = FB_REC_PKT;
	p.len = sizeof(p);
	p.segs = 1;
	p.cpu = cpu;
	p.seq = seq;
	p.ts_ns = ts;
	p.wire_len = len;
	p.skb_len = len;
	p.ethertype = FB_ETH_P_IP;
	p.proto = 17;
	p.ifindex = 2;
	p.sport = sport;
	p.dport = 9;
	addr_set(p.src, "198.18.0.2");
	addr_set(p.dst, "198.18.0.1");
	return p;
}

/* the whole contents of a memstream, after fflush */
static inline int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

#endif

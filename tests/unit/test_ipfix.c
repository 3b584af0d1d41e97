/* IPFIX export (out_ipfix.c): batches go to a UDP socket on 127.0.0.1 that
 * the test binds; a small decoder written from RFC 7011 (not from the
 * encoder) reads the messages back field by field. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "agg.h"
#include "batch.h"
#include "flows.h"
#include "helpers.h"
#include "out_net.h"

#define ALL_KEYS 0xffu
#define EPOCH 1700000000000000000ll /* added to monotonic times */

/* ---- a decoder of IPFIX messages (RFC 7011 sections 3.1-3.4) ----------------------- */

#define MAXT 16
#define MAXF 32
#define MAXREC 4096

struct dtmpl {
	uint16_t id, n, scope;
	uint16_t ie[MAXF], len[MAXF];
};

struct drec {
	uint16_t tid;
	uint32_t msg; /* index of its message */
	uint16_t n;
	uint16_t ie[MAXF], len[MAXF];
	uint8_t val[MAXF][16];
};

struct dmsg {
	uint16_t version, length;
	uint32_t export_s, seq, domain;
	uint32_t nrec; /* data records in it */
	bool has_tmpl, has_opt_tmpl;
	size_t size; /* datagram size */
};

static struct {
	struct dtmpl t[MAXT];
	int nt;
	struct drec r[MAXREC];
	int nr;
	struct dmsg m[1024];
	int nm;
	int templates_seen; /* template records (set 2 and 3) */
} D;

static uint16_t g16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t g32(const uint8_t *p)
{
	return (uint32_t)g16(p) << 16 | g16(p + 2);
}

static uint64_t gnum(const uint8_t *p, unsigned len)
{
	uint64_t v = 0;

	while (len--)
		v = v << 8 | *p++;
	return v;
}

static struct dtmpl *dfind(uint16_t id)
{
	for (int i = 0; i < D.nt; i++)
		if (D.t[i].id == id)
			return &D.t[i];
	return NULL;
}

static void dtmpl_put(const struct dtmpl *t)
{
	struct dtmpl *o = dfind(t->id);

	if (!o) {
		cr_assert_lt(D.nt, MAXT);
		o = &D.t[D.nt++];
	}
	*o = *t;
	D.templates_seen++;
}

/* Decodes one message; asserts that it is well formed. */
static void decode(const uint8_t *b, size_t size)
{
	struct dmsg *m = &D.m[D.nm];
	size_t off = 16;

	cr_assert_lt(D.nm, 1024);
	cr_assert_geq(size, 16);
	m->size = size;
	m->version = g16(b);
	m->length = g16(b + 2);
	m->export_s = g32(b + 4);
	m->seq = g32(b + 8);
	m->domain = g32(b + 12);
	cr_assert_eq(m->version, 10);
	cr_assert_eq(m->length, size, "header length %u, datagram %zu", m->length, size);
	cr_assert_leq(size, FB_IPFIX_MSG_MAX);
	while (off < size) {
		uint16_t sid, slen;
		size_t end, p;

		cr_assert_leq(off + 4, size, "set header beyond the message");
		sid = g16(b + off);
		slen = g16(b + off + 2);
		cr_assert_geq(slen, 4);
		end = off + slen;
		cr_assert_leq(end, size, "set %u of %u bytes beyond the message", sid, slen);
		p = off + 4;
		if (sid == 2 || sid == 3) {
			if (sid == 2)
				m->has_tmpl = true;
			else
				m->has_opt_tmpl = true;
			while (p + 4 <= end) {
				struct dtmpl t = { .id = g16(b + p), .n = g16(b + p + 2) };

				p += 4;
				if (sid == 3) {
					t.scope = g16(b + p);
					p += 2;
				}
				cr_assert_geq(t.id, 256);
				cr_assert_leq(t.n, MAXF);
				for (int i = 0; i < t.n; i++) {
					cr_assert_leq(p + 4, end);
					t.ie[i] = g16(b + p);
					t.len[i] = g16(b + p + 2);
					cr_assert_eq(t.ie[i] & 0x8000, 0, "no enterprise elements");
					p += 4;
				}
				dtmpl_put(&t);
			}
			cr_assert_eq(p, end, "template set %u has %zu stray bytes", sid, end - p);
		} else {
			const struct dtmpl *t = dfind(sid);
			unsigned rl = 0;

			cr_assert_geq(sid, 256, "set id %u", sid);
			cr_assert_not_null(t, "data set %u before its template", sid);
			for (int i = 0; i < t->n; i++)
				rl += t->len[i];
			cr_assert_eq((end - p) % rl, 0, "set %u: %zu bytes, records of %u", sid, end - p, rl);
			while (p + rl <= end) {
				struct drec *r = &D.r[D.nr++];

				cr_assert_lt(D.nr, MAXREC);
				r->tid = sid;
				r->msg = (uint32_t)D.nm;
				r->n = t->n;
				for (int i = 0; i < t->n; i++) {
					r->ie[i] = t->ie[i];
					r->len[i] = t->len[i];
					memcpy(r->val[i], b + p, t->len[i]);
					p += t->len[i];
				}
				m->nrec++;
			}
		}
		off = end;
	}
	D.nm++;
}

static bool has_ie(const struct drec *r, uint16_t ie)
{
	for (int i = 0; i < r->n; i++)
		if (r->ie[i] == ie)
			return true;
	return false;
}

static uint64_t num(const struct drec *r, uint16_t ie)
{
	for (int i = 0; i < r->n; i++)
		if (r->ie[i] == ie)
			return gnum(r->val[i], r->len[i]);
	cr_assert_fail("element %u not in the record of template %u", ie, r->tid);
	return 0;
}

static const char *addr(const struct drec *r, uint16_t ie, char *buf)
{
	for (int i = 0; i < r->n; i++)
		if (r->ie[i] == ie) {
			inet_ntop(r->len[i] == 4 ? AF_INET : AF_INET6, r->val[i], buf, INET6_ADDRSTRLEN);
			return buf;
		}
	cr_assert_fail("element %u not in the record", ie);
	return NULL;
}

/* ---- the collector socket and the output ------------------------------------------ */

static int coll = -1;
static char target[64];
static void *out;

static void bind_collector(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int rcv = 8 << 20;

	coll = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(coll, 0);
	setsockopt(coll, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	cr_assert_eq(bind(coll, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(coll, (struct sockaddr *)&a, &al), 0);
	snprintf(target, sizeof(target), "127.0.0.1:%u", ntohs(a.sin_port));
}

static void *open_ipfix(uint32_t kf, uint32_t domain)
{
	struct fb_out_ctx c = { .key_fields = kf, .mono_to_epoch_ns = EPOCH };
	struct fb_out_opts o = { .kind = "ipfix", .target = target, .ipfix_domain = domain };

	return fb_out_ipfix.open(&o, &c);
}

/* Reads every datagram waiting (the sends were done before). */
static void drain(void)
{
	static uint8_t b[65536];

	for (;;) {
		struct pollfd p = { .fd = coll, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 200) <= 0)
			return;
		n = recv(coll, b, sizeof(b), 0);
		cr_assert_gt(n, 0);
		decode(b, (size_t)n);
	}
}

static void setup(void)
{
	memset(&D, 0, sizeof(D));
	bind_collector();
}

static void teardown(void)
{
	if (out)
		fb_out_ipfix.close(out);
	out = NULL;
	if (coll >= 0)
		close(coll);
	coll = -1;
}

TestSuite(ipfix, .init = setup, .fini = teardown);

/* ---- batches ------------------------------------------------------------------------ */

struct vb {
	struct fb_batch_stats st;
	struct fb_flows_view fv;
	struct fb_batch_view v;
	struct fb_flow *flows;
	const struct fb_flow **top;
	struct fb_flow rest, over;
};

static struct vb *vb_new(uint32_t n, uint64_t number)
{
	struct vb *b = calloc(1, sizeof(*b));

	b->flows = calloc(n ? n : 1, sizeof(*b->flows));
	b->top = calloc(n ? n : 1, sizeof(*b->top));
	b->st.number = number;
	b->st.start_ns = 100 * SEC + (number - 1) * SEC;
	b->st.end_ns = b->st.start_ns + SEC;
	b->fv.top = b->top;
	b->fv.ntop = n;
	b->fv.rest = &b->rest;
	b->fv.overflow_row = &b->over;
	b->fv.key_fields = ALL_KEYS;
	for (uint32_t i = 0; i < n; i++)
		b->top[i] = &b->flows[i];
	b->v.st = &b->st;
	b->v.fam[FB_REC_PKT] = &b->fv;
	return b;
}

static void vb_free(struct vb *b)
{
	free(b->flows);
	free(b->top);
	free(b);
}

static void flow4(struct fb_flow *f, const char *s, const char *d, uint8_t proto, uint16_t sp, uint16_t dp,
		  uint64_t pk, uint64_t by)
{
	memset(f, 0, sizeof(*f));
	addr_set(f->key.src, s);
	addr_set(f->key.dst, d);
	f->key.ethertype = strchr(s, ':') ? FB_ETH_P_IPV6 : FB_ETH_P_IP;
	f->key.proto = proto;
	f->key.sport = sp;
	f->key.dport = dp;
	f->key.ifindex = 7;
	f->packets = pk;
	f->bytes = by;
	f->first_ns = 100 * SEC + 250 * MS;
	f->last_ns = 100 * SEC + 750 * MS + 999999; /* ms are truncated */
}

static int write_batch(struct vb *b)
{
	return fb_out_ipfix.write(out, &b->v);
}

static const struct drec *rec_of(uint16_t tid, int nth)
{
	for (int i = 0; i < D.nr; i++)
		if (D.r[i].tid == tid && nth-- == 0)
			return &D.r[i];
	cr_assert_fail("no record %d of template %u", nth, tid);
	return NULL;
}

static int count_of(uint16_t tid)
{
	int n = 0;

	for (int i = 0; i < D.nr; i++)
		n += D.r[i].tid == tid;
	return n;
}

/* ---- tests -------------------------------------------------------------------------- */

Test(ipfix, rows_decode_field_by_field)
{
	struct vb *b = vb_new(5, 1);
	const struct drec *r;
	char a[INET6_ADDRSTRLEN];
	time_t now = time(NULL);

	out = open_ipfix(ALL_KEYS, 42);
	cr_assert_not_null(out);
	flow4(&b->flows[0], "198.18.0.2", "198.18.0.1", 17, 7000, 9, 400, 36000);
	flow4(&b->flows[1], "2001:2::2", "2001:2::1", 6, 7100, 443, 100, 10000);
	b->flows[1].tcp_flags = 0x12;
	b->flows[1].key.dir = 1;
	flow4(&b->flows[2], "198.18.0.2", "198.18.0.1", 1, 8, 0, 3, 294); /* echo request */
	flow4(&b->flows[3], "2001:2::2", "2001:2::1", 58, 128, 0, 2, 236);
	flow4(&b->flows[4], "0.0.0.0", "0.0.0.0", 0, 0, 0, 5, 300);
	memset(b->flows[4].key.src, 0, 16);
	memset(b->flows[4].key.dst, 0, 16);
	b->flows[4].key.ethertype = FB_ETH_P_ARP;
	cr_assert_eq(write_batch(b), 0);
	drain();

	cr_assert_eq(D.nm, 1);
	cr_assert_eq(D.m[0].domain, 42);
	cr_assert_eq(D.m[0].seq, 0);
	cr_assert(D.m[0].export_s >= now && D.m[0].export_s <= now + 5);
	cr_assert(D.m[0].has_tmpl && D.m[0].has_opt_tmpl, "templates in the first message");
	cr_assert_eq(D.nr, 6, "5 flows and the batch record: %d", D.nr);

	r = rec_of(FB_IPFIX_T_V4, 0);
	cr_assert_eq(num(r, 1), 36000);			  /* octetDeltaCount */
	cr_assert_eq(num(r, 2), 400);			  /* packetDeltaCount */
	cr_assert_eq(num(r, 152), EPOCH / 1000000 + 100250); /* flowStartMilliseconds */
	cr_assert_eq(num(r, 153), EPOCH / 1000000 + 100750); /* flowEndMilliseconds */
	cr_assert_str_eq(addr(r, 8, a), "198.18.0.2");
	cr_assert_str_eq(addr(r, 12, a), "198.18.0.1");
	cr_assert_eq(num(r, 4), 17);
	cr_assert_eq(num(r, 7), 7000);
	cr_assert_eq(num(r, 11), 9);
	cr_assert_eq(num(r, 6), 0);
	cr_assert_eq(num(r, 10), 7); /* ingressInterface */
	cr_assert_eq(num(r, 14), 0); /* egressInterface */
	cr_assert_eq(num(r, 61), 0); /* flowDirection ingress */
	cr_assert_not(has_ie(r, 32), "no ICMP field on a UDP row");

	r = rec_of(FB_IPFIX_T_V6, 0);
	cr_assert_str_eq(addr(r, 27, a), "2001:2::2");
	cr_assert_str_eq(addr(r, 28, a), "2001:2::1");
	cr_assert_eq(num(r, 4), 6);
	cr_assert_eq(num(r, 6), 0x12);
	cr_assert_eq(num(r, 7), 7100);
	cr_assert_eq(num(r, 11), 443);
	cr_assert_eq(num(r, 10), 0);
	cr_assert_eq(num(r, 14), 7, "an egress row has its interface as egressInterface");
	cr_assert_eq(num(r, 61), 1);
	cr_assert_eq(num(r, 2), 100);
	cr_assert_eq(num(r, 1), 10000);

	r = rec_of(FB_IPFIX_T_ICMP4, 0);
	cr_assert_eq(num(r, 32), 8 << 8, "icmpTypeCodeIPv4 = type * 256 + code");
	cr_assert_not(has_ie(r, 7));
	cr_assert_not(has_ie(r, 11));
	cr_assert_eq(num(r, 2), 3);
	r = rec_of(FB_IPFIX_T_ICMP6, 0);
	cr_assert_eq(num(r, 139), 128 << 8);
	cr_assert_str_eq(addr(r, 27, a), "2001:2::2");

	r = rec_of(FB_IPFIX_T_L2, 0);
	cr_assert_eq(num(r, 256), FB_ETH_P_ARP);
	cr_assert_not(has_ie(r, 8));
	cr_assert_eq(num(r, 2), 5);
	vb_free(b);
}

Test(ipfix, templates_follow_the_key_fields)
{
	struct vb *b = vb_new(1, 1);
	const struct dtmpl *t;
	const struct drec *r;

	out = open_ipfix(FB_K_SRC | FB_K_PROTO, 1);
	cr_assert_not_null(out);
	flow4(&b->flows[0], "198.18.0.0", "0.0.0.0", 17, 0, 0, 10, 640);
	memset(b->flows[0].key.dst, 0, 16);
	b->flows[0].key.ethertype = 0;
	b->flows[0].key.ifindex = 0;
	cr_assert_eq(write_batch(b), 0);
	drain();
	t = dfind(FB_IPFIX_T_V4);
	cr_assert_not_null(t);
	/* counts and times, then only the source address and the protocol */
	cr_assert_eq(t->n, 4 + 2 + 1, "fields: %u", t->n);
	r = rec_of(FB_IPFIX_T_V4, 0);
	cr_assert(has_ie(r, 8) && has_ie(r, 4) && has_ie(r, 6));
	cr_assert_not(has_ie(r, 12) || has_ie(r, 7) || has_ie(r, 11) || has_ie(r, 10) || has_ie(r, 61));
	vb_free(b);
}

Test(ipfix, batch_record_carries_losses_and_rows_not_sent)
{
	struct vb *b = vb_new(1, 1), *b2 = vb_new(0, 2);
	const struct drec *r;

	out = open_ipfix(ALL_KEYS, 9);
	cr_assert_not_null(out);
	flow4(&b->flows[0], "198.18.0.2", "198.18.0.1", 17, 1, 2, 10, 1000);
	b->rest.packets = 30, b->rest.bytes = 3000, b->fv.rest_flows = 4;
	b->over.packets = 7, b->over.bytes = 700;
	b->fv.packets = 47, b->fv.bytes = 4700;
	b->st.led[FB_REC_PKT].lost = 5;
	b2->st.led[FB_REC_PKT].lost = 2;
	cr_assert_eq(write_batch(b), 0);
	cr_assert_eq(write_batch(b2), 0);
	drain();
	cr_assert_eq(count_of(FB_IPFIX_T_BATCH), 2);
	cr_assert_eq(D.nr, 3, "the rest and overflow rows are not flow records");
	r = rec_of(FB_IPFIX_T_BATCH, 0);
	cr_assert_eq(dfind(FB_IPFIX_T_BATCH)->scope, 1);
	cr_assert_eq(r->ie[0], 149, "scope: observationDomainId");
	cr_assert_eq(num(r, 149), 9);
	cr_assert_eq(num(r, 359), EPOCH / 1000000 + 100000);
	cr_assert_eq(num(r, 360), EPOCH / 1000000 + 101000);
	cr_assert_eq(num(r, 2), 47);
	cr_assert_eq(num(r, 1), 4700);
	cr_assert_eq(num(r, 42), 1);
	cr_assert_eq(num(r, 164), 5);
	cr_assert_eq(num(r, 166), 5, "4 rest flows + the overflow row");
	cr_assert_eq(num(r, 167), 37);
	cr_assert_eq(num(r, 168), 3700);
	r = rec_of(FB_IPFIX_T_BATCH, 1);
	cr_assert_eq(num(r, 164), 7, "totals since start");
	cr_assert_eq(num(r, 167), 37);
	cr_assert_eq(num(r, 2), 0);
	vb_free(b);
	vb_free(b2);
}

/* Many rows: messages within the MTU, sequence numbers counting the data
 * records of earlier messages, across batches. */
Test(ipfix, messages_fit_and_sequence_numbers_count_records)
{
	uint32_t n = 1000, expect = 0;
	struct vb *b = vb_new(n, 1), *b2 = vb_new(n, 2);
	int i, v4 = 0, v6 = 0;

	out = open_ipfix(ALL_KEYS, 1);
	cr_assert_not_null(out);
	for (uint32_t k = 0; k < n; k++) {
		char s[64];

		if (k % 3) {
			snprintf(s, sizeof(s), "198.18.%u.%u", k >> 8, k & 255);
			flow4(&b->flows[k], s, "198.18.0.1", 17, (uint16_t)k, 53, k + 1, 100 * (k + 1));
		} else {
			snprintf(s, sizeof(s), "2001:2::%x", k);
			flow4(&b->flows[k], s, "2001:2::1", 6, (uint16_t)k, 443, k + 1, 100 * (k + 1));
		}
		b2->flows[k] = b->flows[k];
	}
	cr_assert_eq(write_batch(b), 0);
	cr_assert_eq(write_batch(b2), 0);
	drain();
	cr_assert_eq(D.nr, 2 * (n + 1));
	cr_assert_gt(D.nm, 2 * 50, "1000 rows need ~55 messages a batch: %d", D.nm);
	for (i = 0; i < D.nm; i++) {
		cr_assert_leq(D.m[i].size, FB_IPFIX_MSG_MAX);
		cr_assert_eq(D.m[i].seq, expect, "message %d: seq %u, expected %u", i, D.m[i].seq, expect);
		expect += D.m[i].nrec;
	}
	/* every row arrived once, with its own counts */
	for (i = 0; i < D.nr; i++) {
		const struct drec *r = &D.r[i];

		if (r->tid == FB_IPFIX_T_BATCH)
			continue;
		cr_assert_eq(num(r, 1), 100 * num(r, 2));
		v4 += r->tid == FB_IPFIX_T_V4;
		v6 += r->tid == FB_IPFIX_T_V6;
	}
	cr_assert_eq(v4, 2 * 666);
	cr_assert_eq(v6, 2 * 334);
	vb_free(b);
	vb_free(b2);
}

Test(ipfix, templates_at_start_and_on_a_period)
{
	struct vb *b = vb_new(1, 1);
	int i, with = 0;

	out = open_ipfix(ALL_KEYS, 1);
	cr_assert_not_null(out);
	flow4(&b->flows[0], "198.18.0.2", "198.18.0.1", 17, 1, 2, 1, 60);
	/* 1 s batches for 25 s: templates with batches 1, 11 and 21 */
	for (i = 1; i <= 25; i++) {
		b->st.number = (uint64_t)i;
		b->st.start_ns = 100 * SEC + (uint64_t)(i - 1) * SEC;
		b->st.end_ns = b->st.start_ns + SEC;
		cr_assert_eq(write_batch(b), 0);
	}
	drain();
	cr_assert_eq(D.nm, 25);
	for (i = 0; i < D.nm; i++) {
		cr_assert_eq(D.m[i].has_tmpl, D.m[i].has_opt_tmpl);
		with += D.m[i].has_tmpl;
	}
	cr_assert(D.m[0].has_tmpl && D.m[10].has_tmpl && D.m[20].has_tmpl);
	cr_assert_eq(with, 3);
	/* SIGHUP sends them with the next batch */
	fb_out_ipfix.reopen(out);
	b->st.end_ns += SEC;
	cr_assert_eq(write_batch(b), 0);
	drain();
	cr_assert(D.m[25].has_tmpl);
	vb_free(b);
}

/* A collector that is not listening: sends fail (ICMP port unreachable
 * comes back as ECONNREFUSED), are counted, and writing goes on. */
Test(ipfix, collector_not_listening_is_counted)
{
	struct vb *b = vb_new(200, 1);
	struct fb_out_report rep = { 0 };
	int i;

	close(coll);
	coll = -1;
	out = open_ipfix(ALL_KEYS, 1);
	cr_assert_not_null(out);
	for (uint32_t k = 0; k < 200; k++)
		flow4(&b->flows[k], "198.18.0.2", "198.18.0.1", 17, (uint16_t)k, 2, 1, 60);
	for (i = 0; i < 5; i++)
		cr_assert_eq(write_batch(b), 0, "a failed send is not the run's error");
	fb_out_ipfix.report(out, &rep);
	cr_assert_gt(rep.errors, 0);
	cr_assert_gt(rep.dropped, 0);
	cr_assert_eq(rep.batches + rep.dropped, 5);
	vb_free(b);
}

Test(ipfix, bad_targets_fail_at_open)
{
	static const char *const bad[] = { "", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536",
					   "127.0.0.1:x", "::1:4739", "[::1]4739", "300.1.1.1:4739" };
	struct fb_out_ctx c = { .key_fields = ALL_KEYS };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fb_out_opts o = { .kind = "ipfix", .target = bad[i] };

		errno = 0;
		cr_assert_null(fb_out_ipfix.open(&o, &c), "'%s' opened", bad[i]);
		cr_assert_eq(errno, EINVAL, "'%s': errno %d", bad[i], errno);
	}
}

Test(ipfix, ipv6_collector)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	socklen_t al = sizeof(a);
	struct vb *b = vb_new(1, 1);
	int s6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(s6, 0);
	if (bind(s6, (struct sockaddr *)&a, sizeof(a))) {
		close(s6);
		vb_free(b);
		cr_skip_test("no IPv6 loopback here");
	}
	getsockname(s6, (struct sockaddr *)&a, &al);
	close(coll);
	coll = s6;
	snprintf(target, sizeof(target), "[::1]:%u", ntohs(a.sin6_port));
	out = open_ipfix(ALL_KEYS, 3);
	cr_assert_not_null(out);
	flow4(&b->flows[0], "198.18.0.2", "198.18.0.1", 17, 1, 2, 1, 60);
	cr_assert_eq(write_batch(b), 0);
	drain();
	cr_assert_eq(D.nm, 1);
	cr_assert_eq(D.m[0].domain, 3);
	vb_free(b);
}

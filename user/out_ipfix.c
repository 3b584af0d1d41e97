/* --ipfix HOST:PORT: every flow row of every batch as an IPFIX (RFC 7011)
 * data record with delta counts, over UDP, from a small fixed-template
 * encoder (why not libfixbuf: README, "IPFIX"). Templates follow the -k
 * key fields, so a record carries only what the key kept.
 *
 * Per batch: the flow records (one template per kind of row: IPv4, IPv6,
 * ICMP, ICMPv6, not IP), then one options record with the batch's ledger
 * (ring losses, rows not sent as records). Messages stay within
 * FB_IPFIX_MSG_MAX bytes and go out in bursts of sendmmsg on a nonblocking
 * connected socket: a slow or absent collector costs failed sends, counted,
 * never a wait. Sequence numbers count every data record exported before
 * the message, those of failed messages included, so a collector sees the
 * gap. */
#define _GNU_SOURCE /* sendmmsg */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include "flows.h"
#include "fmt.h"
#include "hostport.h"
#include "log.h"
#include "out_net.h"

#define BURST 64 /* messages per sendmmsg */
#define HDR_LEN 16 /* message header */
#define SET_HDR 4
#define MAX_FIELDS 16
#define NTMPL 5 /* data templates: 256 .. 260 */
#define QUIET_NS (10ull * 1000000000ull) /* no failed send this long ends an incident */

/* What a template field takes from a flow row. */
enum what {
	W_OCTETS,
	W_PACKETS,
	W_START,
	W_END,
	W_IN_IF,
	W_OUT_IF,
	W_DIR,
	W_SRC4,
	W_DST4,
	W_SRC6,
	W_DST6,
	W_PROTO,
	W_SPORT,
	W_DPORT,
	W_TCP_FLAGS,
	W_ICMP,
	W_ETYPE,
};

/* IANA information element IDs (RFC 7012 and the IANA registry) */
enum ie {
	IE_OCTET_DELTA = 1,
	IE_PACKET_DELTA = 2,
	IE_PROTO = 4,
	IE_TCP_FLAGS = 6,
	IE_SPORT = 7,
	IE_SRC4 = 8,
	IE_IN_IF = 10,
	IE_DPORT = 11,
	IE_DST4 = 12,
	IE_OUT_IF = 14,
	IE_SRC6 = 27,
	IE_DST6 = 28,
	IE_ICMP4 = 32,
	IE_EXPORTED_FLOW_TOTAL = 42,
	IE_DIRECTION = 61,
	IE_ICMP6 = 139,
	IE_DOMAIN_ID = 149,
	IE_START_MS = 152,
	IE_END_MS = 153,
	IE_IGNORED_PACKET_TOTAL = 164,
	IE_NOT_SENT_FLOW_TOTAL = 166,
	IE_NOT_SENT_PACKET_TOTAL = 167,
	IE_NOT_SENT_OCTET_TOTAL = 168,
	IE_ETHERTYPE = 256,
	IE_INTERVAL_START_MS = 359,
	IE_INTERVAL_END_MS = 360,
};

struct tfield {
	uint16_t ie, len;
	uint8_t what;
};

struct tmpl {
	uint16_t id, reclen;
	uint32_t n;
	struct tfield f[MAX_FIELDS];
};

/* The batch options record: scope observationDomainId, then these. */
static const struct tfield batch_fields[] = {
	{ IE_DOMAIN_ID, 4, 0 }, /* scope */
	{ IE_INTERVAL_START_MS, 8, 0 },
	{ IE_INTERVAL_END_MS, 8, 0 },
	{ IE_PACKET_DELTA, 8, 0 },
	{ IE_OCTET_DELTA, 8, 0 },
	{ IE_EXPORTED_FLOW_TOTAL, 8, 0 },
	{ IE_IGNORED_PACKET_TOTAL, 8, 0 },
	{ IE_NOT_SENT_FLOW_TOTAL, 8, 0 },
	{ IE_NOT_SENT_PACKET_TOTAL, 8, 0 },
	{ IE_NOT_SENT_OCTET_TOTAL, 8, 0 },
};
#define NBATCH_FIELDS (sizeof(batch_fields) / sizeof(batch_fields[0]))
#define BATCH_REC_LEN (4 + 9 * 8)

struct ipfix {
	int fd;
	struct fb_hostport hp;
	uint32_t domain;
	uint32_t key_fields;
	int64_t epoch_ns; /* add to CLOCK_MONOTONIC */
	struct tmpl t[NTMPL];
	uint8_t tsets[FB_IPFIX_MSG_MAX]; /* template set + options template set */
	uint32_t tsets_len;

	/* messages: BURST buffers, sent together */
	uint8_t (*buf)[FB_IPFIX_MSG_MAX];
	struct iovec iov[BURST];
	struct mmsghdr mm[BURST];
	uint32_t nmsg; /* finished, waiting for sendmmsg */
	uint32_t len; /* bytes in the open message buf[nmsg]; 0 = none open */
	uint32_t set_off; /* its open data set's header; 0 = none */
	uint16_t set_id;
	uint32_t msg_recs; /* data records in the open message */
	uint32_t seq; /* data records exported before the open message */
	uint32_t export_s; /* export time of this batch's messages */

	bool tmpl_due;
	uint64_t tmpl_sent_ns; /* batch end (monotonic) when templates last went */
	bool failing; /* in an incident of failed sends (one warning each) */
	uint64_t last_fail_ns; /* end of the last batch with a failed send */

	/* the account */
	uint64_t batches, dropped, errors, msgs;
	uint64_t batch_errors; /* failed messages in the batch being written */
	uint64_t flow_records; /* flow data records exported */
	uint64_t lost_total; /* packet records the rings lost */
	uint64_t notsent_flows, notsent_packets, notsent_bytes;
};

static inline uint8_t *put8(uint8_t *p, uint8_t v)
{
	*p = v;
	return p + 1;
}

static inline uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static inline uint8_t *put32(uint8_t *p, uint32_t v)
{
	v = __builtin_bswap32(v);
	memcpy(p, &v, 4);
	return p + 4;
}

static inline uint8_t *put64(uint8_t *p, uint64_t v)
{
	v = __builtin_bswap64(v);
	memcpy(p, &v, 8);
	return p + 8;
}

static void tadd(struct tmpl *t, uint16_t ie, uint16_t len, enum what w)
{
	t->f[t->n++] = (struct tfield){ ie, len, (uint8_t)w };
	t->reclen += len;
}

/* The data templates for the key fields in use: each holds only what the
 * key kept (a field outside -k is zero in every row and would mislead). */
static void build_templates(struct ipfix *x)
{
	uint32_t kf = x->key_fields;
	int i;

	for (i = 0; i < NTMPL; i++) {
		struct tmpl *t = &x->t[i];
		uint16_t id = (uint16_t)(FB_IPFIX_T_V4 + i);
		bool v6 = id == FB_IPFIX_T_V6 || id == FB_IPFIX_T_ICMP6;
		bool icmp = id == FB_IPFIX_T_ICMP4 || id == FB_IPFIX_T_ICMP6;

		memset(t, 0, sizeof(*t));
		t->id = id;
		tadd(t, IE_OCTET_DELTA, 8, W_OCTETS);
		tadd(t, IE_PACKET_DELTA, 8, W_PACKETS);
		tadd(t, IE_START_MS, 8, W_START);
		tadd(t, IE_END_MS, 8, W_END);
		if (kf & FB_K_IFACE) {
			tadd(t, IE_IN_IF, 4, W_IN_IF);
			tadd(t, IE_OUT_IF, 4, W_OUT_IF);
		}
		if (kf & FB_K_DIR)
			tadd(t, IE_DIRECTION, 1, W_DIR);
		if (id == FB_IPFIX_T_L2) {
			if (kf & FB_K_ETYPE)
				tadd(t, IE_ETHERTYPE, 2, W_ETYPE);
			continue;
		}
		if (kf & FB_K_SRC)
			tadd(t, v6 ? IE_SRC6 : IE_SRC4, v6 ? 16 : 4, v6 ? W_SRC6 : W_SRC4);
		if (kf & FB_K_DST)
			tadd(t, v6 ? IE_DST6 : IE_DST4, v6 ? 16 : 4, v6 ? W_DST6 : W_DST4);
		if (kf & FB_K_PROTO)
			tadd(t, IE_PROTO, 1, W_PROTO);
		if (icmp) {
			if (kf & (FB_K_SPORT | FB_K_DPORT))
				tadd(t, v6 ? IE_ICMP6 : IE_ICMP4, 2, W_ICMP);
			continue;
		}
		if (kf & FB_K_SPORT)
			tadd(t, IE_SPORT, 2, W_SPORT);
		if (kf & FB_K_DPORT)
			tadd(t, IE_DPORT, 2, W_DPORT);
		tadd(t, IE_TCP_FLAGS, 2, W_TCP_FLAGS);
	}
}

/* Template set (ID 2) with the data templates, then an options template set
 * (ID 3) with the batch template; sent as the head of a message. */
static void encode_template_sets(struct ipfix *x)
{
	uint8_t *p = x->tsets, *set = p;
	uint32_t i, j;

	p += SET_HDR; /* the set header, filled in below */
	for (i = 0; i < NTMPL; i++) {
		p = put16(p, x->t[i].id);
		p = put16(p, (uint16_t)x->t[i].n);
		for (j = 0; j < x->t[i].n; j++) {
			p = put16(p, x->t[i].f[j].ie);
			p = put16(p, x->t[i].f[j].len);
		}
	}
	put16(set, 2);
	put16(set + 2, (uint16_t)(p - set));
	set = p;
	p += SET_HDR;
	p = put16(p, FB_IPFIX_T_BATCH);
	p = put16(p, (uint16_t)NBATCH_FIELDS);
	p = put16(p, 1); /* scope field count */
	for (i = 0; i < NBATCH_FIELDS; i++) {
		p = put16(p, batch_fields[i].ie);
		p = put16(p, batch_fields[i].len);
	}
	put16(set, 3);
	put16(set + 2, (uint16_t)(p - set));
	x->tsets_len = (uint32_t)(p - x->tsets);
}

/* Sends the finished messages; a message that fails is counted and left
 * behind (nothing waits, nothing retries). */
static void send_burst(struct ipfix *x)
{
	uint32_t i = 0;

	while (i < x->nmsg) {
		int r = sendmmsg(x->fd, &x->mm[i], x->nmsg - i, MSG_DONTWAIT);

		if (r > 0) {
			i += (uint32_t)r;
			x->msgs += (uint32_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		/* the message at i failed: ECONNREFUSED (an ICMP port unreachable
		 * for an earlier one), EAGAIN (socket buffer full), ... */
		if (!x->batch_errors)
			fb_dbg("ipfix %s: send failed: %s\n", x->hp.text, strerror(errno));
		x->errors++;
		x->batch_errors++;
		i++;
	}
	x->nmsg = 0;
}

static void msg_open(struct ipfix *x)
{
	x->len = HDR_LEN;
	x->set_off = 0;
	x->set_id = 0;
	x->msg_recs = 0;
}

static void set_close(struct ipfix *x)
{
	if (x->set_off)
		put16(x->buf[x->nmsg] + x->set_off + 2, (uint16_t)(x->len - x->set_off));
	x->set_off = 0;
	x->set_id = 0;
}

static void msg_close(struct ipfix *x)
{
	uint8_t *m = x->buf[x->nmsg];

	if (!x->len)
		return;
	set_close(x);
	put16(m, 10);
	put16(m + 2, (uint16_t)x->len);
	put32(m + 4, x->export_s);
	put32(m + 8, x->seq);
	put32(m + 12, x->domain);
	x->iov[x->nmsg].iov_len = x->len;
	x->seq += x->msg_recs;
	x->len = 0;
	if (++x->nmsg == BURST)
		send_burst(x);
}

/* Room for one record of reclen bytes in a data set of set_id; returns
 * where it goes. */
static uint8_t *rec_room(struct ipfix *x, uint16_t set_id, uint32_t reclen)
{
	uint32_t need = reclen + (x->set_id == set_id ? 0 : SET_HDR);

	if (x->len && x->len + need > FB_IPFIX_MSG_MAX) {
		msg_close(x);
		need = reclen + SET_HDR;
	}
	if (!x->len)
		msg_open(x);
	if (x->set_id != set_id) {
		set_close(x);
		x->set_off = x->len;
		x->set_id = set_id;
		put16(x->buf[x->nmsg] + x->len, set_id);
		x->len += SET_HDR;
	}
	x->len += reclen;
	x->msg_recs++;
	return x->buf[x->nmsg] + x->len - reclen;
}

static inline uint64_t to_ms(const struct ipfix *x, uint64_t mono_ns)
{
	return (uint64_t)((int64_t)mono_ns + x->epoch_ns) / 1000000ull;
}

static void encode_flow(struct ipfix *x, const struct tmpl *t, const struct fb_flow *f)
{
	const struct fb_key *k = &f->key;
	uint8_t *p = rec_room(x, t->id, t->reclen);
	uint32_t i;

	for (i = 0; i < t->n; i++) {
		switch (t->f[i].what) {
		case W_OCTETS:
			p = put64(p, f->bytes);
			break;
		case W_PACKETS:
			p = put64(p, f->packets);
			break;
		case W_START:
			p = put64(p, to_ms(x, f->first_ns));
			break;
		case W_END:
			p = put64(p, to_ms(x, f->last_ns));
			break;
		case W_IN_IF:
			p = put32(p, k->dir ? 0 : k->ifindex);
			break;
		case W_OUT_IF:
			p = put32(p, k->dir ? k->ifindex : 0);
			break;
		case W_DIR:
			p = put8(p, k->dir); /* 0 ingress, 1 egress: as IANA's flowDirection */
			break;
		case W_SRC4:
			memcpy(p, k->src + 12, 4);
			p += 4;
			break;
		case W_DST4:
			memcpy(p, k->dst + 12, 4);
			p += 4;
			break;
		case W_SRC6:
			memcpy(p, k->src, 16);
			p += 16;
			break;
		case W_DST6:
			memcpy(p, k->dst, 16);
			p += 16;
			break;
		case W_PROTO:
			p = put8(p, k->proto);
			break;
		case W_SPORT:
			p = put16(p, k->sport);
			break;
		case W_DPORT:
			p = put16(p, k->dport);
			break;
		case W_TCP_FLAGS:
			p = put16(p, f->tcp_flags);
			break;
		case W_ICMP: /* type in sport, code in dport (record.h) */
			p = put16(p, (uint16_t)((k->sport & 0xff) << 8 | (k->dport & 0xff)));
			break;
		case W_ETYPE:
			p = put16(p, k->ethertype);
			break;
		}
	}
}

static const struct tmpl *tmpl_for(const struct ipfix *x, const struct fb_key *k)
{
	uint32_t kf = x->key_fields;

	if (!fb_key_is_ip(k, kf))
		return &x->t[FB_IPFIX_T_L2 - 256];
	if (fb_key_is_icmp(k, kf))
		return &x->t[(k->proto == 58 ? FB_IPFIX_T_ICMP6 : FB_IPFIX_T_ICMP4) - 256];
	return &x->t[(fb_key_is_ipv6(k, kf) ? FB_IPFIX_T_V6 : FB_IPFIX_T_V4) - 256];
}

static void encode_batch_record(struct ipfix *x, const struct fb_batch_view *v,
				const struct fb_flows_view *fv)
{
	uint8_t *p = rec_room(x, FB_IPFIX_T_BATCH, BATCH_REC_LEN);

	p = put32(p, x->domain);
	p = put64(p, to_ms(x, v->st->start_ns));
	p = put64(p, to_ms(x, v->st->end_ns));
	p = put64(p, fv ? fv->packets : 0);
	p = put64(p, fv ? fv->bytes : 0);
	p = put64(p, x->flow_records);
	p = put64(p, x->lost_total);
	p = put64(p, x->notsent_flows);
	p = put64(p, x->notsent_packets);
	put64(p, x->notsent_bytes);
}

static int ipfix_write(void *s, const struct fb_batch_view *v)
{
	struct ipfix *x = s;
	const struct fb_flows_view *fv = v->fam[FB_REC_PKT];
	uint32_t i;

	x->export_s = (uint32_t)time(NULL);
	x->batch_errors = 0;
	if (!x->tmpl_sent_ns || v->st->end_ns >= x->tmpl_sent_ns + FB_IPFIX_TEMPLATE_PERIOD_NS)
		x->tmpl_due = true;
	if (x->tmpl_due) {
		msg_open(x);
		memcpy(x->buf[x->nmsg] + x->len, x->tsets, x->tsets_len);
		x->len += x->tsets_len;
		x->tmpl_due = false;
		x->tmpl_sent_ns = v->st->end_ns ? v->st->end_ns : 1;
	}
	x->lost_total += v->st->led[FB_REC_PKT].lost;
	if (fv) {
		for (i = 0; i < fv->ntop; i++)
			encode_flow(x, tmpl_for(x, &fv->top[i]->key), fv->top[i]);
		x->flow_records += fv->ntop;
		/* Rows without a key do not travel as flow records (a collector
		 * would file them under address 0 and port 0); their sums are
		 * in the batch record as "not sent". */
		if (fv->rest && fv->rest->packets) {
			x->notsent_flows += fv->rest_flows;
			x->notsent_packets += fv->rest->packets;
			x->notsent_bytes += fv->rest->bytes;
		}
		if (fv->overflow_row && fv->overflow_row->packets) {
			x->notsent_flows += 1;
			x->notsent_packets += fv->overflow_row->packets;
			x->notsent_bytes += fv->overflow_row->bytes;
		}
	}
	encode_batch_record(x, v, fv);
	msg_close(x);
	send_burst(x);
	if (x->batch_errors) {
		x->dropped++;
		/* the collector may have restarted: templates with the next batch */
		x->tmpl_due = true;
		if (!x->failing)
			fb_warn("ipfix %s: cannot send (%llu of this batch's messages failed); counting failed messages\n",
				x->hp.text, (unsigned long long)x->batch_errors);
		x->failing = true;
		x->last_fail_ns = v->st->end_ns;
	} else {
		x->batches++;
		/* A send that succeeds proves little: to a closed port every
		 * other one does (the ICMP error fails the next). An incident
		 * ends after a quiet spell. */
		if (x->failing && v->st->end_ns >= x->last_fail_ns + QUIET_NS) {
			fb_info("ipfix %s: sending again\n", x->hp.text);
			x->failing = false;
		}
	}
	return 0;
}

static int ipfix_reopen(void *s)
{
	((struct ipfix *)s)->tmpl_due = true;
	return 0;
}

static void ipfix_report(void *s, struct fb_out_report *r)
{
	struct ipfix *x = s;

	r->batches = x->batches;
	r->dropped = x->dropped;
	r->errors = x->errors;
}

static void ipfix_close(void *s)
{
	struct ipfix *x = s;

	if (!x)
		return;
	if (x->fd >= 0)
		close(x->fd);
	free(x->buf);
	free(x);
}

static void *ipfix_open(const struct fb_out_opts *o, const struct fb_out_ctx *ctx)
{
	struct ipfix *x = calloc(1, sizeof(*x));
	char err[256];
	int sndbuf = 4 << 20, e;
	uint32_t i;

	if (!x)
		return NULL;
	x->fd = -1;
	if (fb_hostport_parse(o->target, NULL, false, &x->hp, err, sizeof(err))) {
		fb_err("--ipfix %s\n", err);
		e = EINVAL;
		goto err;
	}
	x->domain = o->ipfix_domain;
	x->key_fields = ctx->key_fields;
	x->epoch_ns = ctx->mono_to_epoch_ns;
	x->buf = calloc(BURST, sizeof(*x->buf));
	if (!x->buf) {
		e = ENOMEM;
		fb_err("--ipfix: out of memory\n");
		goto err;
	}
	for (i = 0; i < BURST; i++) {
		x->iov[i].iov_base = x->buf[i];
		x->mm[i].msg_hdr.msg_iov = &x->iov[i];
		x->mm[i].msg_hdr.msg_iovlen = 1;
	}
	x->fd = socket(x->hp.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (x->fd < 0) {
		e = errno;
		fb_err("--ipfix %s: cannot create a UDP socket: %s\n", x->hp.text, strerror(e));
		goto err;
	}
	/* a 100K-flow batch is ~6000 messages in one go */
	setsockopt(x->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	/* connected: the kernel reports a collector that is not listening
	 * (ICMP port unreachable) as ECONNREFUSED on a later send */
	if (connect(x->fd, (struct sockaddr *)&x->hp.ss, x->hp.len)) {
		e = errno;
		fb_err("--ipfix %s: %s\n", x->hp.text, strerror(e));
		goto err;
	}
	build_templates(x);
	encode_template_sets(x);
	x->tmpl_due = true;
	return x;
err:
	ipfix_close(x);
	errno = e;
	return NULL;
}

const struct fb_output_ops fb_out_ipfix = {
	.name = "ipfix",
	.open = ipfix_open,
	.write = ipfix_write,
	.reopen = ipfix_reopen,
	.report = ipfix_report,
	.close = ipfix_close,
};

/* --prometheus [ADDR]:PORT: /metrics in the Prometheus text exposition
 * format, served by libmicrohttpd from flowbatch's own event loop (no
 * thread). At each batch the whole response is rendered once into a new
 * buffer and becomes the response every scrape gets until the next batch,
 * so a scrape sees every metric as of the same batch and costs no
 * formatting. libmicrohttpd counts references to a response: a scrape still
 * being sent keeps its snapshot while the next one is made.
 *
 * Loop: the output's descriptor is an epoll set of its own holding MHD's
 * epoll descriptor and a timerfd armed from MHD_get_timeout, so idle and
 * slow connections time out without anything from the loop but readability. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include "flows.h"
#include "fmt.h"
#include "hostport.h"
#include "log.h"
#include "out_net.h"

#define CONN_LIMIT 8 /* concurrent connections */
#define CONN_TIMEOUT_S 10 /* idle or stalled connection */
#define MAX_IFC 64 /* (interface, direction) series */
#define PROM_MAX_OUTS 32 /* outputs with their own drop series */
#define NBUCKETS 14

static const double proc_le[NBUCKETS] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
					  0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5 };
static const double delay_le[NBUCKETS] = { 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05,
					   0.1, 0.25, 0.5, 1, 2.5, 5, 10 };

struct hist {
	const double *le;
	uint64_t n[NBUCKETS + 1]; /* per bucket, not cumulative; last = +Inf */
	uint64_t count;
	double sum;
};

struct ifc {
	uint32_t ifindex;
	uint8_t dir;
	char name[64];
	uint64_t records, packets, bytes;
};

struct group {
	struct fb_key k;
	uint64_t packets, bytes;
};

struct tbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

struct prom {
	struct fb_out_ctx ctx;
	struct fb_hostport hp;
	struct MHD_Daemon *d;
	int efd, tfd, lfd;
	struct MHD_Response *snap, *r404, *r405;
	const char *snap_text; /* the snapshot's text, owned by snap */
	size_t snap_len;

	/* running totals, as of the last batch */
	uint64_t batches, packets, bytes, parse_errors, late, unknown, overflow, out_dropped;
	struct fb_out_status outs[PROM_MAX_OUTS]; /* names point into the set, which outlives us */
	uint32_t nouts;
	uint64_t records[FB_REC_TYPES], lost[FB_REC_TYPES];
	uint64_t last_flows;
	double last_end_s;
	struct ifc ifc[MAX_IFC];
	uint32_t nifc, ifc_hit;
	struct hist proc, delay;

	/* per-group series (--prometheus-keys) */
	bool groups;
	struct fb_keyspec gk;
	uint32_t max_series;
	struct group *g;
	uint32_t ng;
	uint32_t *slots; /* 0 = empty, else group index + 1 */
	uint32_t mask;
	uint64_t other_packets, other_bytes;
	bool other_used;
	uint64_t scrapes;
};

/* ---- text --------------------------------------------------------------------------- */

static void tb_printf(struct tbuf *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void tb_printf(struct tbuf *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->oom = true;
			return;
		}
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		{
			size_t cap = t->cap * 2 + (size_t)n;
			char *s = realloc(t->s, cap);

			if (!s) {
				t->oom = true;
				return;
			}
			t->s = s;
			t->cap = cap;
		}
	}
}

/* A label value: backslash, double quote and newline escaped. */
static void tb_label(struct tbuf *t, const char *name, const char *v, bool first)
{
	char buf[256];
	size_t o = 0;

	for (; *v && o < sizeof(buf) - 3; v++) {
		if (*v == '\\' || *v == '"') {
			buf[o++] = '\\';
			buf[o++] = *v;
		} else if (*v == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else {
			buf[o++] = *v;
		}
	}
	buf[o] = 0;
	tb_printf(t, "%s%s=\"%s\"", first ? "" : ",", name, buf);
}

static void head(struct tbuf *t, const char *name, const char *type, const char *help)
{
	tb_printf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void counter(struct tbuf *t, const char *name, const char *help, uint64_t v)
{
	head(t, name, "counter", help);
	tb_printf(t, "%s %llu\n", name, (unsigned long long)v);
}

static void hist_render(struct tbuf *t, const char *name, const char *help, const struct hist *h)
{
	uint64_t cum = 0;
	int i;

	head(t, name, "histogram", help);
	for (i = 0; i < NBUCKETS; i++) {
		cum += h->n[i];
		tb_printf(t, "%s_bucket{le=\"%g\"} %llu\n", name, h->le[i], (unsigned long long)cum);
	}
	tb_printf(t, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)h->count);
	tb_printf(t, "%s_sum %.9f\n%s_count %llu\n", name, h->sum, name, (unsigned long long)h->count);
}

static void hist_observe(struct hist *h, double v)
{
	int i;

	if (v < 0)
		v = 0;
	for (i = 0; i < NBUCKETS && v > h->le[i]; i++)
		;
	h->n[i]++;
	h->count++;
	h->sum += v;
}

static const char *fam_name(const struct prom *p, int t)
{
	if (p->ctx.fams[t])
		return p->ctx.fams[t]->name;
	return t == FB_REC_PKT ? "packets" : NULL;
}

static void ifc_labels(struct tbuf *t, const struct prom *p, const struct ifc *c)
{
	tb_label(t, "iface", c->ifindex ? c->name : "other", true);
	tb_label(t, "dir", c->dir ? "out" : "in", false);
}

/* The labels of one group series; other: the series beyond the cap. */
static void group_labels(struct tbuf *t, const struct prom *p, const struct fb_key *k, bool other)
{
	static const struct {
		uint32_t f;
		const char *name;
	} lab[] = { { FB_K_IFACE, "iface" },	 { FB_K_DIR, "dir" },	    { FB_K_ETYPE, "etype" },
		    { FB_K_PROTO, "proto" },	 { FB_K_SRC, "src_addr" }, { FB_K_DST, "dst_addr" },
		    { FB_K_SPORT, "src_port" }, { FB_K_DPORT, "dst_port" } };
	uint32_t kf = p->gk.fields;
	bool first = true, ip = !other && fb_key_is_ip(k, kf);
	char v[64];
	size_t i;

	for (i = 0; i < sizeof(lab) / sizeof(lab[0]); i++) {
		if (!(kf & lab[i].f))
			continue;
		if (other) {
			snprintf(v, sizeof(v), "other");
		} else {
			switch (lab[i].f) {
			case FB_K_IFACE: {
				const char *n = p->ctx.ifname ? p->ctx.ifname(p->ctx.ifname_ctx, k->ifindex) : NULL;

				if (n)
					snprintf(v, sizeof(v), "%s", n);
				else
					snprintf(v, sizeof(v), "if%u", k->ifindex);
				break;
			}
			case FB_K_DIR:
				snprintf(v, sizeof(v), "%s", k->dir ? "out" : "in");
				break;
			case FB_K_ETYPE:
				snprintf(v, sizeof(v), "%u", k->ethertype);
				break;
			case FB_K_PROTO:
				snprintf(v, sizeof(v), "%u", k->proto);
				break;
			case FB_K_SRC:
				if (ip)
					fb_fmt_addr(k->src, v, sizeof(v));
				else
					v[0] = 0;
				break;
			case FB_K_DST:
				if (ip)
					fb_fmt_addr(k->dst, v, sizeof(v));
				else
					v[0] = 0;
				break;
			case FB_K_SPORT:
				snprintf(v, sizeof(v), "%u", k->sport);
				break;
			default:
				snprintf(v, sizeof(v), "%u", k->dport);
				break;
			}
		}
		tb_label(t, lab[i].name, v, first);
		first = false;
	}
}

static void render_groups(struct tbuf *t, const struct prom *p, bool bytes)
{
	const char *name = bytes ? "flowbatch_group_bytes_total" : "flowbatch_group_packets_total";
	uint32_t i;

	head(t, name, "counter",
	     bytes ? "Bytes on the wire per group of --prometheus-keys; beyond --prometheus-max-series, and rows without a key (rest, overflow), in the series labelled other."
		   : "Packets on the wire per group of --prometheus-keys; beyond --prometheus-max-series, and rows without a key (rest, overflow), in the series labelled other.");
	for (i = 0; i < p->ng; i++) {
		tb_printf(t, "%s{", name);
		group_labels(t, p, &p->g[i].k, false);
		tb_printf(t, "} %llu\n", (unsigned long long)(bytes ? p->g[i].bytes : p->g[i].packets));
	}
	if (p->other_used) {
		tb_printf(t, "%s{", name);
		group_labels(t, p, NULL, true);
		tb_printf(t, "} %llu\n", (unsigned long long)(bytes ? p->other_bytes : p->other_packets));
	}
}

/* Renders every metric into a new buffer. NULL when out of memory. */
static char *render(const struct prom *p, size_t *len, size_t hint)
{
	struct tbuf t = { .cap = hint ? hint : 8192 };
	uint32_t i;
	int f;

	t.s = malloc(t.cap);
	if (!t.s)
		return NULL;
	head(&t, "flowbatch_build_info", "gauge", "flowbatch's version, as a label.");
	tb_printf(&t, "flowbatch_build_info{version=\"%s\"} 1\n", FB_VERSION);
	counter(&t, "flowbatch_batches_total", "Batches emitted.", p->batches);
	head(&t, "flowbatch_last_batch_end_timestamp_seconds", "gauge",
	     "End of the last batch's window, Unix time.");
	tb_printf(&t, "flowbatch_last_batch_end_timestamp_seconds %.3f\n", p->last_end_s);
	head(&t, "flowbatch_last_batch_flows", "gauge", "Flow rows in the last batch (overflow row not counted).");
	tb_printf(&t, "flowbatch_last_batch_flows %llu\n", (unsigned long long)p->last_flows);

	head(&t, "flowbatch_records_total", "counter",
	     "Records the consumer received, per record family (the ledger: seen = records + lost).");
	for (f = 0; f < FB_REC_TYPES; f++)
		if (fam_name(p, f))
			tb_printf(&t, "flowbatch_records_total{family=\"%s\"} %llu\n", fam_name(p, f),
				  (unsigned long long)p->records[f]);
	head(&t, "flowbatch_ring_lost_records_total", "counter",
	     "Records the kernel could not write because the ring buffer was full, per record family.");
	for (f = 0; f < FB_REC_TYPES; f++)
		if (fam_name(p, f))
			tb_printf(&t, "flowbatch_ring_lost_records_total{family=\"%s\"} %llu\n",
				  fam_name(p, f), (unsigned long long)p->lost[f]);
	counter(&t, "flowbatch_late_records_total", "Records that arrived after their batch was emitted (added to a later one).",
		p->late);
	counter(&t, "flowbatch_unknown_records_total", "Records of no known type or of a wrong length.", p->unknown);
	counter(&t, "flowbatch_parse_errors_total", "Packets whose headers were truncated or malformed (still counted in a flow).",
		p->parse_errors);
	counter(&t, "flowbatch_packets_total", "Packets on the wire in flow rows, every row included.", p->packets);
	counter(&t, "flowbatch_bytes_total", "Bytes on the wire in flow rows, every row included.", p->bytes);
	counter(&t, "flowbatch_overflow_packets_total", "Packets of flows beyond --max-flows (the overflow row).",
		p->overflow);

	head(&t, "flowbatch_interface_records_total", "counter",
	     "Packet records (skbs on TC, frames on XDP) per interface and direction.");
	for (i = 0; i < p->nifc; i++) {
		tb_printf(&t, "flowbatch_interface_records_total{");
		ifc_labels(&t, p, &p->ifc[i]);
		tb_printf(&t, "} %llu\n", (unsigned long long)p->ifc[i].records);
	}
	head(&t, "flowbatch_interface_packets_total", "counter",
	     "Packets on the wire per interface and direction (a GSO/GRO record counts its segments).");
	for (i = 0; i < p->nifc; i++) {
		tb_printf(&t, "flowbatch_interface_packets_total{");
		ifc_labels(&t, p, &p->ifc[i]);
		tb_printf(&t, "} %llu\n", (unsigned long long)p->ifc[i].packets);
	}
	head(&t, "flowbatch_interface_bytes_total", "counter",
	     "Bytes on the wire per interface and direction.");
	for (i = 0; i < p->nifc; i++) {
		tb_printf(&t, "flowbatch_interface_bytes_total{");
		ifc_labels(&t, p, &p->ifc[i]);
		tb_printf(&t, "} %llu\n", (unsigned long long)p->ifc[i].bytes);
	}
	counter(&t, "flowbatch_output_dropped_batches_total",
		"Batches that outputs dropped (a stuck or failing output), all outputs together.", p->out_dropped);
	head(&t, "flowbatch_output_batch_drops_total", "counter",
	     "Batches each output dropped, by output kind and target.");
	for (i = 0; i < p->nouts; i++) {
		tb_printf(&t, "flowbatch_output_batch_drops_total{");
		tb_label(&t, "output", p->outs[i].name, true);
		tb_label(&t, "target", p->outs[i].target, false);
		tb_printf(&t, "} %llu\n", (unsigned long long)p->outs[i].dropped);
	}
	head(&t, "flowbatch_output_send_errors_total", "counter",
	     "Failed writes or sends of each output (e.g. IPFIX messages a collector refused).");
	for (i = 0; i < p->nouts; i++) {
		tb_printf(&t, "flowbatch_output_send_errors_total{");
		tb_label(&t, "output", p->outs[i].name, true);
		tb_label(&t, "target", p->outs[i].target, false);
		tb_printf(&t, "} %llu\n", (unsigned long long)p->outs[i].errors);
	}
	hist_render(&t, "flowbatch_batch_processing_seconds",
		    "Consumer time spent on a batch: draining, aggregating and writing its rows.", &p->proc);
	hist_render(&t, "flowbatch_batch_delay_seconds",
		    "How long after its window closed a batch was emitted (includes --grace).", &p->delay);
	if (p->groups) {
		render_groups(&t, p, false);
		render_groups(&t, p, true);
		head(&t, "flowbatch_group_series", "gauge",
		     "Group series in use, at most --prometheus-max-series (the other series not counted).");
		tb_printf(&t, "flowbatch_group_series %u\n", p->ng);
	}
	if (t.oom) {
		free(t.s);
		return NULL;
	}
	*len = t.len;
	return t.s;
}

/* Makes the text of the current state the response of every scrape from
 * now on. Out of memory: the previous snapshot stays. */
static int publish(struct prom *p)
{
	struct MHD_Response *r;
	size_t len = 0;
	char *s = render(p, &len, p->snap_len + p->snap_len / 4 + 256);

	if (!s)
		return -ENOMEM;
	r = MHD_create_response_from_buffer(len, s, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(s);
		return -ENOMEM;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
	if (p->snap)
		MHD_destroy_response(p->snap); /* scrapes in flight keep their reference */
	p->snap = r;
	p->snap_text = s;
	p->snap_len = len;
	return 0;
}

/* ---- counting a batch ------------------------------------------------------------- */

static struct ifc *ifc_get(struct prom *p, uint32_t ifindex, uint8_t dir)
{
	struct ifc *c = &p->ifc[p->ifc_hit];
	const char *n;
	uint32_t i;

	if (p->nifc && c->ifindex == ifindex && c->dir == dir)
		return c;
	for (i = 0; i < p->nifc; i++)
		if (p->ifc[i].ifindex == ifindex && p->ifc[i].dir == dir) {
			p->ifc_hit = i;
			return &p->ifc[i];
		}
	if (p->nifc == MAX_IFC)
		return NULL;
	c = &p->ifc[p->nifc];
	c->ifindex = ifindex;
	c->dir = dir;
	n = p->ctx.ifname ? p->ctx.ifname(p->ctx.ifname_ctx, ifindex) : NULL;
	if (n)
		snprintf(c->name, sizeof(c->name), "%s", n);
	else
		snprintf(c->name, sizeof(c->name), "if%u", ifindex);
	p->ifc_hit = p->nifc++;
	return c;
}

static void group_add(struct prom *p, const struct fb_flow *f)
{
	const struct fb_keyspec *gk = &p->gk;
	struct fb_key k;
	uint64_t h;
	uint32_t i;

	memset(&k, 0, sizeof(k));
	if (gk->fields & FB_K_IFACE)
		k.ifindex = f->key.ifindex;
	if (gk->fields & FB_K_DIR)
		k.dir = f->key.dir;
	if (gk->fields & FB_K_ETYPE)
		k.ethertype = f->key.ethertype;
	if (gk->fields & FB_K_PROTO)
		k.proto = f->key.proto;
	if (gk->fields & FB_K_SPORT)
		k.sport = f->key.sport;
	if (gk->fields & FB_K_DPORT)
		k.dport = f->key.dport;
	if (gk->fields & FB_K_SRC)
		fb_key_addr_masked(k.src, f->key.src, gk->src4, gk->src6);
	if (gk->fields & FB_K_DST)
		fb_key_addr_masked(k.dst, f->key.dst, gk->dst4, gk->dst6);
	h = fb_key_hash(&k);
	for (i = (uint32_t)h & p->mask; p->slots[i]; i = (i + 1) & p->mask) {
		struct group *g = &p->g[p->slots[i] - 1];

		if (fb_key_eq(&g->k, &k)) {
			g->packets += f->packets;
			g->bytes += f->bytes;
			return;
		}
	}
	if (p->ng == p->max_series) {
		p->other_packets += f->packets;
		p->other_bytes += f->bytes;
		p->other_used = true;
		return;
	}
	p->g[p->ng] = (struct group){ .k = k, .packets = f->packets, .bytes = f->bytes };
	p->slots[i] = ++p->ng;
}

static void count_flows(struct prom *p, const struct fb_flows_view *fv)
{
	uint32_t i;

	p->packets += fv->packets;
	p->bytes += fv->bytes;
	p->parse_errors += fv->parse_errors;
	p->overflow += fv->overflow;
	p->last_flows = fv->flows;
	/* the family counts them per record: exact whatever -k, -n and
	 * --max-flows did to the rows */
	for (i = 0; i < fv->nifaces; i++) {
		const struct fb_iface_total *it = &fv->ifaces[i];
		struct ifc *c = ifc_get(p, it->ifindex, it->dir);

		if (c) {
			c->records += it->records;
			c->packets += it->packets;
			c->bytes += it->bytes;
		}
	}
	for (i = 0; p->groups && i < fv->ntop; i++)
		group_add(p, fv->top[i]);
	if (p->groups) {
		/* rows without a key */
		const struct fb_flow *nk[2] = { fv->rest, fv->overflow_row };

		for (i = 0; i < 2; i++)
			if (nk[i] && nk[i]->packets) {
				p->other_packets += nk[i]->packets;
				p->other_bytes += nk[i]->bytes;
				p->other_used = true;
			}
	}
}

static int prom_write(void *s, const struct fb_batch_view *v)
{
	struct prom *p = s;
	const struct fb_batch_stats *st = v->st;
	int t;

	p->batches++;
	for (t = 0; t < FB_REC_TYPES; t++) {
		p->records[t] += st->led[t].records;
		p->lost[t] += st->led[t].lost;
	}
	p->late += st->late;
	p->unknown += st->unknown;
	p->out_dropped = v->outputs_dropped;
	p->nouts = v->noutputs < PROM_MAX_OUTS ? v->noutputs : PROM_MAX_OUTS;
	if (p->nouts)
		memcpy(p->outs, v->outputs, p->nouts * sizeof(*p->outs));
	hist_observe(&p->proc, (double)st->proc_ns / 1e9);
	hist_observe(&p->delay, (double)st->delay_ns / 1e9);
	p->last_end_s = (double)((int64_t)st->end_ns + p->ctx.mono_to_epoch_ns) / 1e9;
	if (v->fam[FB_REC_PKT])
		count_flows(p, v->fam[FB_REC_PKT]);
	return publish(p);
}

/* ---- HTTP ------------------------------------------------------------------------- */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **req_cls)
{
	struct prom *p = cls;

	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return MHD_queue_response(c, MHD_HTTP_METHOD_NOT_ALLOWED, p->r405);
	if (strcmp(url, "/metrics"))
		return MHD_queue_response(c, MHD_HTTP_NOT_FOUND, p->r404);
	p->scrapes++;
	return MHD_queue_response(c, MHD_HTTP_OK, p->snap);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	/* libmicrohttpd's own words (a client that went away, ...): -v only */
	if (fb_log_level() < FB_LOG_DEBUG)
		return;
	fputs("flowbatch: debug: libmicrohttpd: ", stderr);
	vfprintf(stderr, fmt, ap);
}

/* The timer says when MHD_run is due even with no socket ready: a timed
 * out connection, or work MHD left pending (timeout 0). */
static void arm_timer(struct prom *p)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };
	MHD_UNSIGNED_LONG_LONG ms = 0;

	if (MHD_get_timeout(p->d, &ms) == MHD_YES) {
		if (!ms)
			its.it_value.tv_nsec = 1;
		else {
			its.it_value.tv_sec = (time_t)(ms / 1000);
			its.it_value.tv_nsec = (long)(ms % 1000) * 1000000;
		}
	}
	timerfd_settime(p->tfd, 0, &its, NULL);
}

static int prom_fd(void *s)
{
	return ((struct prom *)s)->efd;
}

static int prom_on_fd(void *s, uint32_t events)
{
	struct prom *p = s;
	uint64_t n;

	if (read(p->tfd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return -errno;
	MHD_run(p->d);
	arm_timer(p);
	return 0;
}

static void prom_report(void *s, struct fb_out_report *r)
{
	r->batches = ((struct prom *)s)->batches;
}

static void prom_close(void *s)
{
	struct prom *p = s;

	if (!p)
		return;
	if (p->d)
		MHD_stop_daemon(p->d); /* closes the listening socket */
	else if (p->lfd >= 0)
		close(p->lfd);
	if (p->snap)
		MHD_destroy_response(p->snap);
	if (p->r404)
		MHD_destroy_response(p->r404);
	if (p->r405)
		MHD_destroy_response(p->r405);
	if (p->efd >= 0)
		close(p->efd);
	if (p->tfd >= 0)
		close(p->tfd);
	free(p->g);
	free(p->slots);
	free(p);
}

static int open_groups(struct prom *p, const struct fb_out_opts *o)
{
	static const char *const names[] = { "iface", "dir", "etype", "proto", "src", "dst", "sport", "dport" };
	char err[200];
	uint32_t cap = 16, missing;
	int i;

	if (fb_keyspec_parse(o->prom_keys, &p->gk, err, sizeof(err))) {
		fb_err("--prometheus-keys: %s\n", err);
		return -EINVAL;
	}
	missing = p->gk.fields & ~p->ctx.key_fields;
	if (missing) {
		for (i = 0; !(missing & (1u << i)); i++)
			;
		fb_err("--prometheus-keys: '%s' is not among the -k keys, so flow rows do not have it\n",
		       names[i]);
		return -EINVAL;
	}
	p->groups = true;
	p->max_series = o->prom_max_series;
	while (cap < 2 * (uint64_t)p->max_series)
		cap *= 2;
	p->mask = cap - 1;
	p->g = calloc(p->max_series ? p->max_series : 1, sizeof(*p->g));
	p->slots = calloc(cap, sizeof(*p->slots));
	if (!p->g || !p->slots) {
		fb_err("--prometheus-max-series %u: out of memory\n", p->max_series);
		return -ENOMEM;
	}
	return 0;
}

static int listen_on(struct prom *p)
{
	int one = 1, e;

	p->lfd = socket(p->hp.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->lfd < 0) {
		e = errno;
		fb_err("--prometheus %s: cannot create a socket: %s\n", p->hp.text, strerror(e));
		return -e;
	}
	setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(p->lfd, (struct sockaddr *)&p->hp.ss, p->hp.len) || listen(p->lfd, 64)) {
		e = errno;
		if (e == EADDRINUSE)
			fb_err("--prometheus %s: address already in use (another program listens there)\n",
			       p->hp.text);
		else if (e == EADDRNOTAVAIL)
			fb_err("--prometheus %s: not an address of this host\n", p->hp.text);
		else
			fb_err("--prometheus %s: cannot listen: %s\n", p->hp.text, strerror(e));
		return -e;
	}
	return 0;
}

static void *prom_open(const struct fb_out_opts *o, const struct fb_out_ctx *ctx)
{
	static const char nf[] = "not found: flowbatch serves /metrics\n";
	static const char na[] = "method not allowed: GET or HEAD\n";
	struct prom *p = calloc(1, sizeof(*p));
	struct epoll_event ev = { .events = EPOLLIN };
	const union MHD_DaemonInfo *di;
	char err[256];
	int e = EINVAL;

	if (!p)
		return NULL;
	p->efd = p->tfd = p->lfd = -1;
	p->ctx = *ctx;
	p->proc.le = proc_le;
	p->delay.le = delay_le;
	/* the host by default: serving beyond it takes an explicit address */
	if (fb_hostport_parse(o->target, "127.0.0.1", true, &p->hp, err, sizeof(err))) {
		fb_err("--prometheus %s\n", err);
		goto err;
	}
	if (o->prom_keys && *o->prom_keys) {
		e = -open_groups(p, o);
		if (e)
			goto err;
	}
	e = -listen_on(p);
	if (e)
		goto err;
	p->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG | (p->hp.family == AF_INET6 ? MHD_USE_IPv6 : 0), 0,
				NULL, NULL, on_request, p, MHD_OPTION_LISTEN_SOCKET, p->lfd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CONN_LIMIT,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONN_TIMEOUT_S,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, p, MHD_OPTION_END);
	di = p->d ? MHD_get_daemon_info(p->d, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	if (!di) {
		e = EIO;
		fb_err("--prometheus %s: cannot start the HTTP server (libmicrohttpd)\n", p->hp.text);
		goto err;
	}
	p->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	p->efd = epoll_create1(EPOLL_CLOEXEC);
	if (p->tfd < 0 || p->efd < 0 || epoll_ctl(p->efd, EPOLL_CTL_ADD, di->epoll_fd, &ev) ||
	    epoll_ctl(p->efd, EPOLL_CTL_ADD, p->tfd, &ev)) {
		e = errno;
		fb_err("--prometheus %s: %s\n", p->hp.text, strerror(e));
		goto err;
	}
	p->r404 = MHD_create_response_from_buffer(sizeof(nf) - 1, (void *)nf, MHD_RESPMEM_PERSISTENT);
	p->r405 = MHD_create_response_from_buffer(sizeof(na) - 1, (void *)na, MHD_RESPMEM_PERSISTENT);
	if (!p->r404 || !p->r405 || publish(p)) {
		e = ENOMEM;
		fb_err("--prometheus: out of memory\n");
		goto err;
	}
	MHD_add_response_header(p->r404, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	MHD_add_response_header(p->r405, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	MHD_add_response_header(p->r405, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	arm_timer(p);
	fb_info("serving Prometheus metrics on http://%s/metrics\n", p->hp.text);
	return p;
err:
	prom_close(p);
	errno = e;
	return NULL;
}

/* For the tests: the text every scrape gets now. */
const char *fb_prom__text(void *s, size_t *len)
{
	struct prom *p = s;

	*len = p->snap_len;
	return p->snap_text;
}

const struct fb_output_ops fb_out_prometheus = {
	.name = "prometheus",
	.open = prom_open,
	.write = prom_write,
	.fd = prom_fd,
	.on_fd = prom_on_fd,
	.report = prom_report,
	.close = prom_close,
};

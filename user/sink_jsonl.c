/* JSON Lines sink: one object per flow row, then one per batch, flushed
 * after each batch. Field names follow goflow2 where a counterpart exists. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agg.h"
#include "sink.h"

struct jsonl {
	FILE *f;
	struct fb_out_ctx ctx;
};

static void *jsonl_open(FILE *out, const struct fb_out_ctx *ctx)
{
	struct jsonl *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->f = out;
	j->ctx = *ctx;
	return j;
}

static unsigned long long epoch_ms(const struct jsonl *j, uint64_t mono_ns)
{
	return (unsigned long long)(((int64_t)mono_ns + j->ctx.mono_to_epoch_ns) / 1000000);
}

static unsigned long long epoch_ns(const struct jsonl *j, uint64_t mono_ns)
{
	return (unsigned long long)((int64_t)mono_ns + j->ctx.mono_to_epoch_ns);
}

/* Rows are formatted by hand into a line buffer and written with one
 * fwrite: at 100K flows a batch, printf's format parsing cost ~1 us a row. */
#define LIT(p, s) (memcpy((p), (s), sizeof(s) - 1), (p) + sizeof(s) - 1)

/* Decimal digits two at a time: epoch nanoseconds have 19 of them, two per
 * row, and this was the row's single biggest cost. */
static char *put_u64(char *p, uint64_t v)
{
	static const char pairs[201] = "00010203040506070809101112131415161718192021222324"
				       "25262728293031323334353637383940414243444546474849"
				       "50515253545556575859606162636465666768697071727374"
				       "75767778798081828384858687888990919293949596979899";
	char t[20];
	int n = 20, len;

	while (v >= 100) {
		unsigned d = (unsigned)(v % 100);

		v /= 100;
		t[--n] = pairs[2 * d + 1];
		t[--n] = pairs[2 * d];
	}
	if (v >= 10) {
		t[--n] = pairs[2 * v + 1];
		t[--n] = pairs[2 * v];
	} else {
		t[--n] = (char)('0' + v);
	}
	len = 20 - n;
	memcpy(p, t + n, (size_t)len);
	return p + len;
}

static char *put_addr(char *p, const uint8_t a[16])
{
	char buf[64];
	size_t n;
	int i;

	if (fb_addr_is_v4(a)) {
		for (i = 12; i < 16; i++) {
			p = put_u64(p, a[i]);
			if (i < 15)
				*p++ = '.';
		}
		return p;
	}
	fb_fmt_addr(a, buf, sizeof(buf));
	n = strlen(buf);
	memcpy(p, buf, n);
	return p + n;
}

/* JSON string of an interface name (at most 15 bytes: <= 92 written) */
static char *put_jstr(char *p, const char *s)
{
	const unsigned char *c = (const unsigned char *)s;
	int i;

	*p++ = '"';
	for (i = 0; c[i] && i < 64; i++)
		p += fb_json_esc(p, c[i]);
	*p++ = '"';
	return p;
}

/* {"type":"flow","batch":N,"start_ms":S,"end_ms":E  -- the same for every
 * row of a batch, so it is formatted once */
static size_t head(const struct jsonl *j, const struct fb_batch_stats *st, const char *type, char *out)
{
	return (size_t)snprintf(out, 160, "{\"type\":\"%s\",\"batch\":%llu,\"start_ms\":%llu,\"end_ms\":%llu",
				type, (unsigned long long)st->number, epoch_ms(j, st->start_ns),
				epoch_ms(j, st->end_ns));
}

static char *counts(const struct jsonl *j, char *p, const struct fb_flow *f)
{
	p = LIT(p, ",\"packets\":");
	p = put_u64(p, f->packets);
	p = LIT(p, ",\"bytes\":");
	p = put_u64(p, f->bytes);
	p = LIT(p, ",\"tcp_flags\":");
	p = put_u64(p, f->tcp_flags);
	p = LIT(p, ",\"time_flow_start_ns\":");
	p = put_u64(p, epoch_ns(j, f->first_ns));
	p = LIT(p, ",\"time_flow_end_ns\":");
	p = put_u64(p, epoch_ns(j, f->last_ns));
	return LIT(p, "}\n");
}

static void flow_row(struct jsonl *j, const char *hd, size_t hdlen, const struct fb_flow *f)
{
	const struct fb_key *k = &f->key;
	uint32_t kf = j->ctx.key_fields;
	bool icmp = (kf & FB_K_PROTO) && (k->proto == 1 || k->proto == 58);
	bool ip = k->ethertype == 0x0800 || k->ethertype == 0x86dd || !(kf & FB_K_ETYPE);
	char line[1024], *p = line;

	memcpy(p, hd, hdlen);
	p += hdlen;
	if (kf & FB_K_IFACE) {
		p = LIT(p, ",\"iface\":");
		p = put_jstr(p, j->ctx.ifname(j->ctx.ifname_ctx, k->ifindex));
	}
	if (kf & FB_K_DIR)
		p = k->dir ? LIT(p, ",\"dir\":\"out\"") : LIT(p, ",\"dir\":\"in\"");
	if (kf & FB_K_ETYPE) {
		p = LIT(p, ",\"etype\":");
		p = put_u64(p, k->ethertype);
	}
	if (kf & FB_K_PROTO) {
		p = LIT(p, ",\"proto\":");
		p = put_u64(p, k->proto);
	}
	/* a frame without IP has no addresses and no ports: omit them */
	if (kf & FB_K_SRC && ip) {
		p = LIT(p, ",\"src_addr\":\"");
		p = put_addr(p, k->src);
		*p++ = '"';
	}
	if (kf & FB_K_DST && ip) {
		p = LIT(p, ",\"dst_addr\":\"");
		p = put_addr(p, k->dst);
		*p++ = '"';
	}
	if (kf & FB_K_SPORT && ip) {
		p = icmp ? LIT(p, ",\"icmp_type\":") : LIT(p, ",\"src_port\":");
		p = put_u64(p, k->sport);
	}
	if (kf & FB_K_DPORT && ip) {
		p = icmp ? LIT(p, ",\"icmp_code\":") : LIT(p, ",\"dst_port\":");
		p = put_u64(p, k->dport);
	}
	p = counts(j, p, f);
	fwrite(line, 1, (size_t)(p - line), j->f);
}

static void special_row(struct jsonl *j, const char *hd, size_t hdlen, const char *what,
			const struct fb_flow *f, long flows)
{
	char line[512], *p = line;

	memcpy(p, hd, hdlen);
	p += hdlen;
	p += sprintf(p, ",\"%s\":true", what);
	if (flows >= 0) {
		p = LIT(p, ",\"flows\":");
		p = put_u64(p, (uint64_t)flows);
	}
	p = counts(j, p, f);
	fwrite(line, 1, (size_t)(p - line), j->f);
}

static int jsonl_write(void *s, const struct fb_batch_view *v)
{
	struct jsonl *j = s;
	const struct fb_batch_stats *st = v->st;
	uint64_t t0 = v->clock ? v->clock(v->clock_ctx) : 0, out_ns = 0;
	char hd[160];
	size_t hdlen = head(j, st, "flow", hd);
	uint32_t i;

	for (i = 0; i < v->ntop; i++)
		flow_row(j, hd, hdlen, v->top[i]);
	if (v->rest->packets)
		special_row(j, hd, hdlen, "rest", v->rest, v->rest_flows);
	if (v->overflow->packets)
		special_row(j, hd, hdlen, "overflow", v->overflow, -1);
	/* the batch's processing time includes writing its rows */
	if (v->clock)
		out_ns = v->clock(v->clock_ctx) - t0;
	hdlen = head(j, st, "batch", hd);
	fwrite(hd, 1, hdlen, j->f);
	fprintf(j->f,
		",\"seen\":%llu,\"packets\":%llu,\"bytes\":%llu,\"flows\":%llu,\"ring_lost\":%llu,"
		"\"parse_errors\":%llu,\"late\":%llu,\"overflow\":%llu,\"processing_ms\":%.3f,"
		"\"delay_ms\":%.3f,\"partial\":%s}\n",
		(unsigned long long)st->seen, (unsigned long long)st->packets,
		(unsigned long long)st->bytes, (unsigned long long)st->flows,
		(unsigned long long)st->lost, (unsigned long long)st->parse_errors,
		(unsigned long long)st->late, (unsigned long long)st->overflow,
		(st->proc_ns + out_ns) / 1e6, st->delay_ns / 1e6, st->partial ? "true" : "false");
	return fb_sink_stream_status(j->f);
}

static int jsonl_flush(void *s)
{
	return fb_sink_stream_status(((struct jsonl *)s)->f);
}

static void jsonl_close(void *s)
{
	free(s);
}

const struct fb_sink_ops fb_sink_jsonl = {
	.name = "jsonl",
	.open = jsonl_open,
	.write_batch = jsonl_write,
	.flush = jsonl_flush,
	.close = jsonl_close,
};

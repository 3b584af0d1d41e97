/* JSON Lines format: one object per flow row (and per row of an event
 * family), then one per batch with the ledger. Field names follow goflow2
 * where a counterpart exists. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agg.h"
#include "flows.h"
#include "fmt.h"
#include "format.h"

struct jsonl {
	FILE *f; /* the stream of the batch being written */
	struct fb_out_ctx ctx;
	struct fb_value vals[32];
	/* the epoch second last written, as digits (time_flow_*_ns of a
	 * batch's rows mostly share it) */
	uint64_t sec;
	char sec_str[24];
	size_t sec_len;
	/* the last interface's name as a JSON string, quotes included, for
	 * this batch (names can change between batches) */
	uint32_t ifx;
	bool ifx_ok;
	size_t ifx_len;
	char ifx_str[392]; /* put_jstr writes at most 64 * 6 + 2 */
};

static void *jsonl_new(const struct fb_out_ctx *ctx)
{
	struct jsonl *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
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

static const char pairs[201] = "00010203040506070809101112131415161718192021222324"
			       "25262728293031323334353637383940414243444546474849"
			       "50515253545556575859606162636465666768697071727374"
			       "75767778798081828384858687888990919293949596979899";

/* Number of decimal digits of v: log2 scaled by log10(2) ~ 1233/4096,
 * corrected by one compare (p10[0] is 0 so that 0 has one digit). */
static inline unsigned ndigits(uint64_t v)
{
	static const uint64_t p10[20] = {
		0, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000,
		10000000000ull, 100000000000ull, 1000000000000ull, 10000000000000ull,
		100000000000000ull, 1000000000000000ull, 10000000000000000ull,
		100000000000000000ull, 1000000000000000000ull, 10000000000000000000ull,
	};
	unsigned t = (unsigned)(64 - __builtin_clzll(v | 1)) * 1233 >> 12;

	return t + (v >= p10[t]);
}

/* Decimal digits two at a time, written backwards from where the number
 * ends: no scratch buffer and no copy of a variable length (a call to
 * memcpy), which with the divisions made this half of a row's cost. */
static char *put_u64(char *p, uint64_t v)
{
	char *e = p + ndigits(v), *q = e;

	while (v >= 100) {
		unsigned d = (unsigned)(v % 100);

		v /= 100;
		q -= 2;
		memcpy(q, &pairs[2 * d], 2);
	}
	if (v >= 10)
		memcpy(q - 2, &pairs[2 * v], 2);
	else
		q[-1] = (char)('0' + v);
	return e;
}

/* Exactly 9 digits, zeros in front: the nanoseconds of a second. */
static char *put_9(char *p, uint32_t v)
{
	uint32_t hi = v / 100000, lo = v % 100000; /* 4 and 5 digits */

	memcpy(p, &pairs[2 * (hi / 100)], 2);
	memcpy(p + 2, &pairs[2 * (hi % 100)], 2);
	p[4] = (char)('0' + lo / 10000);
	lo %= 10000;
	memcpy(p + 5, &pairs[2 * (lo / 100)], 2);
	memcpy(p + 7, &pairs[2 * (lo % 100)], 2);
	return p + 9;
}

/* Epoch nanoseconds: the seconds' digits are cached (the rows of a batch
 * share a handful of seconds), the rest is 9 fixed digits. */
static char *put_ns(struct jsonl *j, char *p, uint64_t v)
{
	uint64_t sec = v / 1000000000;

	if (!sec)
		return put_u64(p, v);
	if (sec != j->sec || !j->sec_len) {
		j->sec = sec;
		j->sec_len = (size_t)(put_u64(j->sec_str, sec) - j->sec_str);
	}
	memcpy(p, j->sec_str, sizeof(j->sec_str)); /* constant length; the line has room */
	return put_9(p + j->sec_len, (uint32_t)(v - sec * 1000000000));
}

/* An IPv4 octet. */
static char *put_u8(char *p, unsigned v)
{
	if (v >= 100) {
		p[0] = (char)('0' + v / 100);
		memcpy(p + 1, &pairs[2 * (v % 100)], 2);
		return p + 3;
	}
	if (v >= 10) {
		memcpy(p, &pairs[2 * v], 2);
		return p + 2;
	}
	*p = (char)('0' + v);
	return p + 1;
}

/* Ports, EtherTypes: up to 5 digits. */
static char *put_u16(char *p, unsigned v)
{
	if (v < 100)
		return put_u8(p, v);
	if (v < 10000) {
		if (v < 1000) {
			p[0] = (char)('0' + v / 100);
			memcpy(p + 1, &pairs[2 * (v % 100)], 2);
			return p + 3;
		}
		memcpy(p, &pairs[2 * (v / 100)], 2);
		memcpy(p + 2, &pairs[2 * (v % 100)], 2);
		return p + 4;
	}
	p[0] = (char)('0' + v / 10000);
	v %= 10000;
	memcpy(p + 1, &pairs[2 * (v / 100)], 2);
	memcpy(p + 3, &pairs[2 * (v % 100)], 2);
	return p + 5;
}

static char *put_addr(char *p, const uint8_t a[16])
{
	char buf[64];
	size_t n;

	if (fb_addr_is_v4(a)) {
		p = put_u8(p, a[12]);
		*p++ = '.';
		p = put_u8(p, a[13]);
		*p++ = '.';
		p = put_u8(p, a[14]);
		*p++ = '.';
		return put_u8(p, a[15]);
	}
	fb_fmt_addr(a, buf, sizeof(buf));
	n = strlen(buf);
	memcpy(p, buf, n);
	return p + n;
}

/* JSON string of an interface name (at most 15 bytes: <= 92 written; the
 * loop stops at 64 bytes: <= 386) */
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

static char *counts(struct jsonl *j, char *p, const struct fb_flow *f)
{
	p = LIT(p, ",\"packets\":");
	p = put_u64(p, f->packets);
	p = LIT(p, ",\"bytes\":");
	p = put_u64(p, f->bytes);
	p = LIT(p, ",\"tcp_flags\":");
	p = put_u8(p, f->tcp_flags);
	p = LIT(p, ",\"time_flow_start_ns\":");
	p = put_ns(j, p, epoch_ns(j, f->first_ns));
	p = LIT(p, ",\"time_flow_end_ns\":");
	p = put_ns(j, p, epoch_ns(j, f->last_ns));
	return LIT(p, "}\n");
}

/* ,"name":value for each value present; strings are short names */
static char *put_values(char *p, const char *const *names, const struct fb_value *vals)
{
	int i;

	for (i = 0; names[i]; i++) {
		if (!vals[i].present)
			continue;
		*p++ = ',';
		p = put_jstr(p, names[i]);
		*p++ = ':';
		p = vals[i].s ? put_jstr(p, vals[i].s) : put_u64(p, vals[i].u);
	}
	return p;
}

/* The fields event families add to a flow row, then "}\n" again. */
static char *fam_fields(struct jsonl *j, char *p, const struct fb_batch_view *v, const struct fb_key *k)
{
	int t;

	for (t = 0; t < FB_REC_TYPES; t++) {
		const struct fb_family_ops *ops = j->ctx.fams[t];

		if (!ops || !ops->flow_fields || !v->fam[t])
			continue;
		memset(j->vals, 0, sizeof(j->vals));
		ops->flow_values(v->fam[t], k, j->vals);
		p = put_values(p, ops->flow_fields, j->vals);
	}
	return LIT(p, "}\n");
}

static bool any_flow_fields(const struct jsonl *j)
{
	int t;

	for (t = 0; t < FB_REC_TYPES; t++)
		if (j->ctx.fams[t] && j->ctx.fams[t]->flow_fields)
			return true;
	return false;
}

static void flow_row(struct jsonl *j, const char *hd, size_t hdlen, const struct fb_flow *f,
		     const struct fb_batch_view *fams)
{
	const struct fb_key *k = &f->key;
	uint32_t kf = j->ctx.key_fields;
	bool icmp = fb_key_is_icmp(k, kf);
	bool ip = fb_key_is_ip(k, kf);
	char line[2048], *p = line;

	memcpy(p, hd, hdlen);
	p += hdlen;
	if (kf & FB_K_IFACE) {
		p = LIT(p, ",\"iface\":");
		if (!j->ifx_ok || k->ifindex != j->ifx) {
			j->ifx = k->ifindex;
			j->ifx_ok = true;
			j->ifx_len = (size_t)(put_jstr(j->ifx_str, j->ctx.ifname(j->ctx.ifname_ctx, k->ifindex)) -
					      j->ifx_str);
		}
		if (j->ifx_len <= 32) /* a constant length is a few moves; the line has room */
			memcpy(p, j->ifx_str, 32);
		else
			memcpy(p, j->ifx_str, j->ifx_len);
		p += j->ifx_len;
	}
	if (kf & FB_K_DIR)
		p = k->dir ? LIT(p, ",\"dir\":\"out\"") : LIT(p, ",\"dir\":\"in\"");
	if (kf & FB_K_ETYPE) {
		p = LIT(p, ",\"etype\":");
		p = put_u16(p, k->ethertype);
	}
	if (kf & FB_K_PROTO) {
		p = LIT(p, ",\"proto\":");
		p = put_u8(p, k->proto);
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
		p = put_u16(p, k->sport);
	}
	if (kf & FB_K_DPORT && ip) {
		p = icmp ? LIT(p, ",\"icmp_code\":") : LIT(p, ",\"dst_port\":");
		p = put_u16(p, k->dport);
	}
	p = counts(j, p, f);
	if (fams)
		p = fam_fields(j, p - 2, fams, k); /* before the closing "}\n" */
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

/* Rows of the event families that have rows of their own. */
static void family_rows(struct jsonl *j, const struct fb_batch_view *v)
{
	char hd[160], line[2048], *p;
	int t;

	for (t = 0; t < FB_REC_TYPES; t++) {
		const struct fb_family_ops *ops = j->ctx.fams[t];
		uint32_t i, n;
		size_t hdlen;

		if (!ops || !ops->row_type || !v->fam[t])
			continue;
		hdlen = head(j, v->st, ops->row_type, hd);
		n = ops->nrows(v->fam[t]);
		for (i = 0; i < n; i++) {
			memset(j->vals, 0, sizeof(j->vals));
			ops->row(v->fam[t], i, j->vals);
			p = line;
			memcpy(p, hd, hdlen);
			p = put_values(p + hdlen, ops->row_fields, j->vals);
			p = LIT(p, "}\n");
			fwrite(line, 1, (size_t)(p - line), j->f);
		}
	}
}

static void batch_row(struct jsonl *j, const struct fb_batch_view *v)
{
	const struct fb_batch_stats *st = v->st;
	const struct fb_flows_view *fv = v->fam[FB_REC_PKT];
	const struct fb_ledger *pl = &st->led[FB_REC_PKT];
	char hd[160];
	size_t hdlen = head(j, st, "batch", hd);
	uint32_t i;
	int t;

	fwrite(hd, 1, hdlen, j->f);
	fprintf(j->f,
		",\"seen\":%llu,\"records\":%llu,\"packets\":%llu,\"bytes\":%llu,\"flows\":%llu,"
		"\"ring_lost\":%llu,\"parse_errors\":%llu,\"late\":%llu,\"unknown\":%llu,"
		"\"overflow\":%llu",
		(unsigned long long)pl->seen, (unsigned long long)pl->records,
		(unsigned long long)(fv ? fv->packets : 0), (unsigned long long)(fv ? fv->bytes : 0),
		(unsigned long long)(fv ? fv->flows : 0), (unsigned long long)pl->lost,
		(unsigned long long)(fv ? fv->parse_errors : 0), (unsigned long long)st->late,
		(unsigned long long)st->unknown, (unsigned long long)(fv ? fv->overflow : 0));
	/* each event family's ledger: <name>_seen = <name>_records + <name>_lost */
	for (t = 0; t < FB_REC_TYPES; t++) {
		const struct fb_family_ops *ops = j->ctx.fams[t];

		if (!ops || t == FB_REC_PKT)
			continue;
		fprintf(j->f, ",\"%s_seen\":%llu,\"%s_records\":%llu,\"%s_lost\":%llu", ops->name,
			(unsigned long long)st->led[t].seen, ops->name,
			(unsigned long long)st->led[t].records, ops->name,
			(unsigned long long)st->led[t].lost);
	}
	fprintf(j->f, ",\"processing_ms\":%.3f,\"delay_ms\":%.3f,\"partial\":%s,\"outputs_dropped\":%llu",
		st->proc_ns / 1e6, st->delay_ns / 1e6, st->partial ? "true" : "false",
		(unsigned long long)v->outputs_dropped);
	if (v->nifaces) {
		fputs(",\"ifaces\":{", j->f);
		for (i = 0; i < v->nifaces; i++) {
			if (i)
				fputc(',', j->f);
			fb_json_str(j->f, v->ifaces[i].name);
			fputs(v->ifaces[i].gone ? ":\"gone\"" : ":\"up\"", j->f);
		}
		fputc('}', j->f);
	}
	fputs("}\n", j->f);
}

static int jsonl_batch(void *s, FILE *f, const struct fb_batch_view *v)
{
	struct jsonl *j = s;
	const struct fb_flows_view *fv = v->fam[FB_REC_PKT];
	const struct fb_batch_view *fams = any_flow_fields(j) ? v : NULL;
	char hd[160];
	size_t hdlen;
	uint32_t i;

	j->f = f;
	j->ifx_ok = false;
	if (fv) {
		hdlen = head(j, v->st, "flow", hd);
		for (i = 0; i < fv->ntop; i++)
			flow_row(j, hd, hdlen, fv->top[i], fams);
		if (fv->rest->packets)
			special_row(j, hd, hdlen, "rest", fv->rest, fv->rest_flows);
		if (fv->overflow_row->packets)
			special_row(j, hd, hdlen, "overflow", fv->overflow_row, -1);
	}
	family_rows(j, v);
	batch_row(j, v);
	return fb_stream_status(f);
}

static void jsonl_free(void *s)
{
	free(s);
}

const struct fb_format_ops fb_format_jsonl = {
	.name = "jsonl",
	.ext = "jsonl",
	.id = FB_FMT_JSONL,
	.new = jsonl_new,
	.batch = jsonl_batch,
	.free = jsonl_free,
};

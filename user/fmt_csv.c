/* CSV format: one header line, then per batch its flow rows (rest and
 * overflow rows included), the rows of any event family, and one batch row
 * with the ledger, all in one table told apart by the `type` column. Field
 * names are those of the JSON Lines schema; the columns are every field any
 * row can have, fixed at the start from the key fields and the families
 * that are on, so the header never changes. A field a row lacks is an empty
 * cell; cells holding a comma, quote, CR or LF are quoted as RFC 4180 says
 * (quotes doubled). Lines end in LF. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agg.h"
#include "flows.h"
#include "fmt.h"
#include "format.h"

#define MAXCOL 160
#define CELLS_BYTES 8192

/* Columns of a flow row, in order; the first of these are also every other
 * row's head (type, batch, start_ms, end_ms). Key columns come and go with
 * -k; the rest are always there. */
enum {
	C_TYPE, C_BATCH, C_START, C_END,
	C_IFACE, C_DIR, C_ETYPE, C_PROTO, C_SRC, C_DST, C_SPORT, C_DPORT, C_ICMPT, C_ICMPC,
	C_PACKETS, C_BYTES, C_FLAGS, C_TSTART, C_TEND, C_REST, C_FLOWS, C_OVERFLOW,
	C_NFLOW
};

static const char *const flow_names[C_NFLOW] = {
	"type", "batch", "start_ms", "end_ms",
	"iface", "dir", "etype", "proto", "src_addr", "dst_addr", "src_port", "dst_port",
	"icmp_type", "icmp_code",
	"packets", "bytes", "tcp_flags", "time_flow_start_ns", "time_flow_end_ns", "rest", "flows",
	"overflow",
};

/* The batch row's fields, in JSON Lines order; a family's ledger goes
 * where B_FAMS stands. */
static const char *const batch_names[] = {
	"seen", "records", "packets", "bytes", "flows", "ring_lost", "parse_errors", "late", "unknown",
	"overflow", "", "processing_ms", "delay_ms", "partial", "outputs_dropped", "ifaces", NULL,
};
#define B_FAMS 10

/* a row being assembled: one cell per column, empty unless set */
struct cells {
	uint16_t off[MAXCOL], len[MAXCOL];
	char buf[CELLS_BYTES];
	size_t used;
	int ncol;
};

struct csv {
	struct fb_out_ctx ctx;
	const char *col[MAXCOL];
	char *owned[MAXCOL]; /* names made here (a family's ledger fields) */
	int ncol;
	int fcol[C_NFLOW]; /* column of each flow row field, -1 if absent (-k) */
	int nflowcols; /* flow rows write these directly; family fields follow */
	int bcol[FB_REC_TYPES][3]; /* columns of <family>_seen/_records/_lost */
	int bfix[16]; /* columns of the batch row's fixed fields (batch_names) */
	int *ffcol[FB_REC_TYPES]; /* columns of each family's flow fields */
	int *rfcol[FB_REC_TYPES]; /* columns of each family's row fields */
	bool fam_flow_fields;
	char tail[MAXCOL + 1]; /* the commas that end a flow row */
	struct fb_value vals[64];
	struct cells c;
};

/* the column named name, added at the end if new; -1 when full */
static int column(struct csv *x, const char *name, bool own)
{
	int i;

	for (i = 0; i < x->ncol; i++)
		if (!strcmp(x->col[i], name))
			return i;
	if (x->ncol == MAXCOL)
		return -1;
	x->col[x->ncol] = name;
	if (own) {
		x->owned[x->ncol] = strdup(name);
		if (!x->owned[x->ncol])
			return -1;
		x->col[x->ncol] = x->owned[x->ncol];
	}
	return x->ncol++;
}

static size_t count_names(const char *const *names)
{
	size_t n = 0;

	while (names && names[n])
		n++;
	return n;
}

static void csv_free(void *s)
{
	struct csv *x = s;
	int i;

	if (!x)
		return;
	for (i = 0; i < MAXCOL; i++)
		free(x->owned[i]);
	for (i = 0; i < FB_REC_TYPES; i++) {
		free(x->ffcol[i]);
		free(x->rfcol[i]);
	}
	free(x);
}

/* The key columns flow rows can have with these key fields: ICMP type and
 * code exist only when the protocol is a key (fb_key_is_icmp). */
static bool key_column(int c, uint32_t kf)
{
	switch (c) {
	case C_IFACE: return kf & FB_K_IFACE;
	case C_DIR: return kf & FB_K_DIR;
	case C_ETYPE: return kf & FB_K_ETYPE;
	case C_PROTO: return kf & FB_K_PROTO;
	case C_SRC: return kf & FB_K_SRC;
	case C_DST: return kf & FB_K_DST;
	case C_SPORT: return kf & FB_K_SPORT;
	case C_DPORT: return kf & FB_K_DPORT;
	case C_ICMPT: return (kf & FB_K_SPORT) && (kf & FB_K_PROTO);
	case C_ICMPC: return (kf & FB_K_DPORT) && (kf & FB_K_PROTO);
	default: return true;
	}
}

static void *csv_new(const struct fb_out_ctx *ctx)
{
	struct csv *x = calloc(1, sizeof(*x));
	char name[96];
	int c, t, i, k;

	if (!x)
		return NULL;
	x->ctx = *ctx;
	for (c = 0; c < C_NFLOW; c++)
		x->fcol[c] = key_column(c, ctx->key_fields) ? column(x, flow_names[c], false) : -1;
	x->nflowcols = x->ncol;
	/* fields families add to flow rows come right after, so a flow row
	 * is its fixed part, these, and empty cells to the end */
	for (t = 0; t < FB_REC_TYPES; t++) {
		const struct fb_family_ops *ops = ctx->fams[t];
		size_t n = ops ? count_names(ops->flow_fields) : 0;

		if (!n)
			continue;
		if (n > 64 || !(x->ffcol[t] = calloc(n, sizeof(int))))
			goto err_free;
		for (i = 0; i < (int)n; i++) {
			k = column(x, ops->flow_fields[i], false);
			/* a family's field must not reuse a flow row's own name */
			if (k < x->nflowcols)
				goto err_free;
			x->ffcol[t][i] = k;
		}
		x->fam_flow_fields = true;
	}
	for (i = 0; batch_names[i]; i++) {
		if (i != B_FAMS) {
			x->bfix[i] = column(x, batch_names[i], false);
			if (x->bfix[i] < 0)
				goto err_free;
			continue;
		}
		for (t = 0; t < FB_REC_TYPES; t++) {
			const struct fb_family_ops *ops = ctx->fams[t];
			static const char *const sfx[3] = { "seen", "records", "lost" };

			if (!ops || t == FB_REC_PKT)
				continue;
			for (k = 0; k < 3; k++) {
				snprintf(name, sizeof(name), "%s_%s", ops->name, sfx[k]);
				x->bcol[t][k] = column(x, name, true);
				if (x->bcol[t][k] < 0)
					goto err_free;
			}
		}
	}
	for (t = 0; t < FB_REC_TYPES; t++) {
		const struct fb_family_ops *ops = ctx->fams[t];
		size_t n = ops && ops->row_type ? count_names(ops->row_fields) : 0;

		if (!n)
			continue;
		if (n > 64 || !(x->rfcol[t] = calloc(n, sizeof(int))))
			goto err_free;
		for (i = 0; i < (int)n; i++)
			if ((x->rfcol[t][i] = column(x, ops->row_fields[i], false)) < 0)
				goto err_free;
	}
	memset(x->tail, ',', (size_t)(x->ncol - x->nflowcols));
	x->tail[x->ncol - x->nflowcols] = '\0';
	return x;

err_free:
	csv_free(x);
	errno = EINVAL;
	return NULL;
}

/* Writes cell text s (n bytes) to p, quoted when RFC 4180 requires it. */
static char *put_cell(char *p, const char *s, size_t n)
{
	size_t i;

	if (!memchr(s, ',', n) && !memchr(s, '"', n) && !memchr(s, '\n', n) && !memchr(s, '\r', n)) {
		memcpy(p, s, n);
		return p + n;
	}
	*p++ = '"';
	for (i = 0; i < n; i++) {
		if (s[i] == '"')
			*p++ = '"';
		*p++ = s[i];
	}
	*p++ = '"';
	return p;
}

/* Decimal, two digits a step: a flow row has two 19-digit times. */
static char *put_u64(char *p, uint64_t v)
{
	static const char dd[] = "0001020304050607080910111213141516171819"
				 "2021222324252627282930313233343536373839"
				 "4041424344454647484950515253545556575859"
				 "6061626364656667686970717273747576777879"
				 "8081828384858687888990919293949596979899";
	char t[20];
	int n = 20;

	for (; v >= 100; v /= 100) {
		memcpy(t + n - 2, dd + 2 * (v % 100), 2);
		n -= 2;
	}
	if (v >= 10) {
		memcpy(t + n - 2, dd + 2 * v, 2);
		n -= 2;
	} else {
		t[--n] = (char)('0' + v);
	}
	memcpy(p, t + n, (size_t)(20 - n));
	return p + 20 - n;
}

/* an address cell: IPv4 by hand (most rows), IPv6 by fb_fmt_addr */
static char *put_addr(char *p, const uint8_t a[16])
{
	char b[64];
	int i;

	if (!fb_addr_is_v4(a))
		return stpcpy(p, fb_fmt_addr(a, b, sizeof(b)));
	for (i = 12; i < 16; i++) {
		p = put_u64(p, a[i]);
		*p++ = '.';
	}
	return p - 1;
}

/* --- generic rows (batch and family rows): a cell per column ---------- */

static void cells_reset(struct cells *c, int ncol)
{
	memset(c->len, 0, sizeof(c->len[0]) * (size_t)ncol);
	c->used = 0;
	c->ncol = ncol;
}

/* sets column k (k < 0: no such column) to the cell form of s */
static void cell_str(struct cells *c, int k, const char *s)
{
	size_t n = strlen(s);
	char *p;

	if (k < 0 || c->used + 2 * n + 2 > sizeof(c->buf))
		return;
	p = put_cell(c->buf + c->used, s, n);
	c->off[k] = (uint16_t)c->used;
	c->len[k] = (uint16_t)(p - (c->buf + c->used));
	c->used += c->len[k];
}

static void cell_u64(struct cells *c, int k, uint64_t v)
{
	char b[24];

	*put_u64(b, v) = '\0';
	cell_str(c, k, b);
}

static void cell_ms(struct cells *c, int k, double ms)
{
	char b[40];

	snprintf(b, sizeof(b), "%.3f", ms);
	cell_str(c, k, b);
}

static void cells_write(const struct cells *c, FILE *f)
{
	int k;

	for (k = 0; k < c->ncol; k++) {
		if (k)
			fputc(',', f);
		if (c->len[k])
			fwrite(c->buf + c->off[k], 1, c->len[k], f);
	}
	fputc('\n', f);
}

static unsigned long long epoch_ms(const struct csv *x, uint64_t mono_ns)
{
	return (unsigned long long)(((int64_t)mono_ns + x->ctx.mono_to_epoch_ns) / 1000000);
}

static uint64_t epoch_ns(const struct csv *x, uint64_t mono_ns)
{
	return (uint64_t)((int64_t)mono_ns + x->ctx.mono_to_epoch_ns);
}

static void head_cells(struct csv *x, const struct fb_batch_stats *st, const char *type)
{
	cells_reset(&x->c, x->ncol);
	cell_str(&x->c, C_TYPE, type);
	cell_u64(&x->c, C_BATCH, st->number);
	cell_u64(&x->c, C_START, epoch_ms(x, st->start_ns));
	cell_u64(&x->c, C_END, epoch_ms(x, st->end_ns));
}

static void values_cells(struct csv *x, const int *cols, const char *const *names)
{
	int i;

	for (i = 0; names[i]; i++) {
		if (!x->vals[i].present)
			continue;
		if (x->vals[i].s)
			cell_str(&x->c, cols[i], x->vals[i].s);
		else
			cell_u64(&x->c, cols[i], x->vals[i].u);
	}
}

/* --- flow rows: written straight into a line ------------------------- */

/* type,batch,start_ms,end_ms of every flow row of a batch */
static size_t flow_head(const struct csv *x, const struct fb_batch_stats *st, char *out)
{
	return (size_t)snprintf(out, 96, "flow,%llu,%llu,%llu", (unsigned long long)st->number,
				epoch_ms(x, st->start_ns), epoch_ms(x, st->end_ns));
}

static char *counts(const struct csv *x, char *p, const struct fb_flow *f)
{
	*p++ = ',';
	p = put_u64(p, f->packets);
	*p++ = ',';
	p = put_u64(p, f->bytes);
	*p++ = ',';
	p = put_u64(p, f->tcp_flags);
	*p++ = ',';
	p = put_u64(p, epoch_ns(x, f->first_ns));
	*p++ = ',';
	return put_u64(p, epoch_ns(x, f->last_ns));
}

/* the cells after the flow row's own: family flow fields, then empty */
static char *flow_tail(struct csv *x, char *p, char *end, const struct fb_batch_view *v,
		       const struct fb_key *k)
{
	int t, i, c;

	if (!x->fam_flow_fields || !k) {
		size_t n = (size_t)(x->ncol - x->nflowcols);

		memcpy(p, x->tail, n);
		return p + n;
	}
	cells_reset(&x->c, x->ncol);
	for (t = 0; t < FB_REC_TYPES; t++) {
		const struct fb_family_ops *ops = x->ctx.fams[t];

		if (!ops || !ops->flow_fields || !v->fam[t])
			continue;
		memset(x->vals, 0, sizeof(x->vals));
		ops->flow_values(v->fam[t], k, x->vals);
		values_cells(x, x->ffcol[t], ops->flow_fields);
	}
	for (c = x->nflowcols; c < x->ncol; c++) {
		*p++ = ',';
		i = x->c.len[c];
		if (i && p + i < end) {
			memcpy(p, x->c.buf + x->c.off[c], (size_t)i);
			p += i;
		}
	}
	return p;
}

static void flow_row(struct csv *x, const char *hd, size_t hdlen, const struct fb_flow *f,
		     const struct fb_batch_view *v, FILE *out)
{
	const struct fb_key *k = &f->key;
	const int *fc = x->fcol;
	uint32_t kf = x->ctx.key_fields;
	bool icmp = fb_key_is_icmp(k, kf);
	bool ip = fb_key_is_ip(k, kf);
	char line[4096], *p = line;
	const char *s;

	memcpy(p, hd, hdlen);
	p += hdlen;
	if (fc[C_IFACE] >= 0) {
		*p++ = ',';
		s = x->ctx.ifname(x->ctx.ifname_ctx, k->ifindex);
		p = put_cell(p, s, strnlen(s, 64));
	}
	if (fc[C_DIR] >= 0)
		p = stpcpy(p, k->dir ? ",out" : ",in");
	if (fc[C_ETYPE] >= 0) {
		*p++ = ',';
		p = put_u64(p, k->ethertype);
	}
	if (fc[C_PROTO] >= 0) {
		*p++ = ',';
		p = put_u64(p, k->proto);
	}
	/* as in JSON Lines: no addresses and ports without IP; ICMP's type and
	 * code in their own columns, its port columns empty */
	if (fc[C_SRC] >= 0) {
		*p++ = ',';
		if (ip)
			p = put_addr(p, k->src);
	}
	if (fc[C_DST] >= 0) {
		*p++ = ',';
		if (ip)
			p = put_addr(p, k->dst);
	}
	if (fc[C_SPORT] >= 0) {
		*p++ = ',';
		if (ip && !icmp)
			p = put_u64(p, k->sport);
	}
	if (fc[C_DPORT] >= 0) {
		*p++ = ',';
		if (ip && !icmp)
			p = put_u64(p, k->dport);
	}
	if (fc[C_ICMPT] >= 0) {
		*p++ = ',';
		if (ip && icmp)
			p = put_u64(p, k->sport);
	}
	if (fc[C_ICMPC] >= 0) {
		*p++ = ',';
		if (ip && icmp)
			p = put_u64(p, k->dport);
	}
	p = counts(x, p, f);
	p = stpcpy(p, ",,,"); /* rest, flows, overflow */
	p = flow_tail(x, p, line + sizeof(line) - 1, v, k);
	*p++ = '\n';
	fwrite(line, 1, (size_t)(p - line), out);
}

/* The rest and overflow rows: no key, and "true" in their own column. */
static void special_row(struct csv *x, const char *hd, size_t hdlen, bool rest, const struct fb_flow *f,
			uint64_t flows, const struct fb_batch_view *v, FILE *out)
{
	char line[1024], *p = line;
	int c;

	memcpy(p, hd, hdlen);
	p += hdlen;
	for (c = C_IFACE; c <= C_ICMPC; c++)
		if (x->fcol[c] >= 0)
			*p++ = ',';
	p = counts(x, p, f);
	if (rest) {
		p = stpcpy(p, ",true,");
		p = put_u64(p, flows);
		*p++ = ',';
	} else {
		p = stpcpy(p, ",,,true");
	}
	p = flow_tail(x, p, line + sizeof(line) - 1, v, NULL);
	*p++ = '\n';
	fwrite(line, 1, (size_t)(p - line), out);
}

static void family_rows(struct csv *x, const struct fb_batch_view *v, FILE *f)
{
	int t;

	for (t = 0; t < FB_REC_TYPES; t++) {
		const struct fb_family_ops *ops = x->ctx.fams[t];
		uint32_t i, n;

		if (!ops || !ops->row_type || !v->fam[t] || !x->rfcol[t])
			continue;
		n = ops->nrows(v->fam[t]);
		for (i = 0; i < n; i++) {
			head_cells(x, v->st, ops->row_type);
			memset(x->vals, 0, sizeof(x->vals));
			ops->row(v->fam[t], i, x->vals);
			values_cells(x, x->rfcol[t], ops->row_fields);
			cells_write(&x->c, f);
		}
	}
}

/* the interfaces' states as the JSON object JSON Lines has, in one cell */
static void ifaces_cell(struct csv *x, const struct fb_batch_view *v, int col)
{
	char s[2048], *p = s;
	uint32_t i;
	size_t j;

	if (!v->nifaces)
		return;
	*p++ = '{';
	for (i = 0; i < v->nifaces && p < s + sizeof(s) - 128; i++) {
		const unsigned char *n = (const unsigned char *)v->ifaces[i].name;

		if (i)
			*p++ = ',';
		*p++ = '"';
		for (j = 0; n[j] && j < 16; j++)
			p += fb_json_esc(p, n[j]);
		p = stpcpy(p, v->ifaces[i].gone ? "\":\"gone\"" : "\":\"up\"");
	}
	*p++ = '}';
	*p = '\0';
	cell_str(&x->c, col, s);
}

static void batch_row(struct csv *x, const struct fb_batch_view *v, FILE *f)
{
	const struct fb_batch_stats *st = v->st;
	const struct fb_flows_view *fv = v->fam[FB_REC_PKT];
	const struct fb_ledger *pl = &st->led[FB_REC_PKT];
	const uint64_t fix[] = {
		pl->seen, pl->records, fv ? fv->packets : 0, fv ? fv->bytes : 0, fv ? fv->flows : 0,
		pl->lost, fv ? fv->parse_errors : 0, st->late, st->unknown, fv ? fv->overflow : 0,
	};
	int i, t;

	head_cells(x, st, "batch");
	for (i = 0; i < B_FAMS; i++)
		cell_u64(&x->c, x->bfix[i], fix[i]);
	for (t = 0; t < FB_REC_TYPES; t++) {
		if (!x->ctx.fams[t] || t == FB_REC_PKT)
			continue;
		cell_u64(&x->c, x->bcol[t][0], st->led[t].seen);
		cell_u64(&x->c, x->bcol[t][1], st->led[t].records);
		cell_u64(&x->c, x->bcol[t][2], st->led[t].lost);
	}
	cell_ms(&x->c, x->bfix[B_FAMS + 1], st->proc_ns / 1e6);
	cell_ms(&x->c, x->bfix[B_FAMS + 2], st->delay_ns / 1e6);
	cell_str(&x->c, x->bfix[B_FAMS + 3], st->partial ? "true" : "false");
	cell_u64(&x->c, x->bfix[B_FAMS + 4], v->outputs_dropped);
	ifaces_cell(x, v, x->bfix[B_FAMS + 5]);
	cells_write(&x->c, f);
}

static int csv_header(void *s, FILE *f)
{
	struct csv *x = s;
	int k;

	for (k = 0; k < x->ncol; k++) {
		if (k)
			fputc(',', f);
		fputs(x->col[k], f);
	}
	fputc('\n', f);
	return fb_stream_status(f);
}

static int csv_batch(void *s, FILE *f, const struct fb_batch_view *v)
{
	struct csv *x = s;
	const struct fb_flows_view *fv = v->fam[FB_REC_PKT];
	char hd[96];
	size_t hdlen;
	uint32_t i;

	if (fv) {
		hdlen = flow_head(x, v->st, hd);
		for (i = 0; i < fv->ntop; i++)
			flow_row(x, hd, hdlen, fv->top[i], v, f);
		if (fv->rest->packets)
			special_row(x, hd, hdlen, true, fv->rest, fv->rest_flows, v, f);
		if (fv->overflow_row->packets)
			special_row(x, hd, hdlen, false, fv->overflow_row, 0, v, f);
	}
	family_rows(x, v, f);
	batch_row(x, v, f);
	return fb_stream_status(f);
}

const struct fb_format_ops fb_format_csv = {
	.name = "csv",
	.ext = "csv",
	.id = FB_FMT_CSV,
	.new = csv_new,
	.header = csv_header,
	.batch = csv_batch,
	.free = csv_free,
};

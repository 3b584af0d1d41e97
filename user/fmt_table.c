/* Table format, for terminals: per batch a summary line, then the top
 * flows in aligned columns with human units. Columns follow the -k key
 * fields, then any fields event families add to flows; their own rows
 * follow the flows. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "agg.h"
#include "flows.h"
#include "fmt.h"
#include "format.h"

#define MAX_EXTRA 16 /* family fields shown as extra columns */

enum { C_IFACE, C_DIR, C_PROTO, C_SRC, C_SPORT, C_DST, C_DPORT, C_PKTS, C_BYTES, C_FLAGS, NFIXED };
#define NCOL (NFIXED + MAX_EXTRA)

static const char *const col_name[NFIXED] = { "IFACE", "DIR",   "PROTO", "SRC",	"SPORT",
					      "DST",   "DPORT", "PKTS",  "BYTES", "FLAGS" };

struct table {
	FILE *f;
	struct fb_out_ctx ctx;
	/* extra columns: family type and field index of each */
	uint8_t xfam[MAX_EXTRA], xidx[MAX_EXTRA];
	char xname[MAX_EXTRA][24];
	int nextra;
	bool xused[MAX_EXTRA]; /* any row of this batch has a value */
};

static void *table_new(const struct fb_out_ctx *ctx)
{
	struct table *t = calloc(1, sizeof(*t));
	int ty, i, c;

	if (!t)
		return NULL;
	t->ctx = *ctx;
	for (ty = 0; ty < FB_REC_TYPES; ty++) {
		const struct fb_family_ops *ops = ctx->fams[ty];

		for (i = 0; ops && ops->flow_fields && ops->flow_fields[i] && t->nextra < MAX_EXTRA; i++) {
			t->xfam[t->nextra] = (uint8_t)ty;
			t->xidx[t->nextra] = (uint8_t)i;
			for (c = 0; c < 23 && ops->flow_fields[i][c]; c++)
				t->xname[t->nextra][c] = (char)toupper((unsigned char)ops->flow_fields[i][c]);
			t->nextra++;
		}
	}
	return t;
}

static bool col_shown(const struct table *t, int c)
{
	uint32_t kf = t->ctx.key_fields;

	switch (c) {
	case C_IFACE: return kf & FB_K_IFACE;
	case C_DIR: return kf & FB_K_DIR;
	case C_PROTO: return kf & (FB_K_PROTO | FB_K_ETYPE);
	case C_SRC: return kf & FB_K_SRC;
	case C_SPORT: return kf & FB_K_SPORT;
	case C_DST: return kf & FB_K_DST;
	case C_DPORT: return kf & FB_K_DPORT;
	case C_PKTS: case C_BYTES: case C_FLAGS: return true;
	default: return c - NFIXED < t->nextra && t->xused[c - NFIXED];
	}
}

static const char *col_title(const struct table *t, int c)
{
	return c < NFIXED ? col_name[c] : t->xname[c - NFIXED];
}

static void addr_cell(const uint8_t a[16], char *buf, size_t len)
{
	fb_fmt_addr(a, buf, len);
}

/* Cells of the family fields for a flow row; marks the columns used. */
static void extra_cells(struct table *t, const struct fb_batch_view *v, const struct fb_key *k,
			char cell[NCOL][48])
{
	struct fb_value vals[32];
	int x, ty = -1;

	for (x = 0; x < t->nextra; x++) {
		const struct fb_family_ops *ops = t->ctx.fams[t->xfam[x]];
		const struct fb_value *val = &vals[t->xidx[x]];

		if (!v->fam[t->xfam[x]])
			continue;
		if (t->xfam[x] != ty) {
			ty = t->xfam[x];
			memset(vals, 0, sizeof(vals));
			ops->flow_values(v->fam[ty], k, vals);
		}
		if (!val->present)
			continue;
		t->xused[x] = true;
		if (val->s)
			snprintf(cell[NFIXED + x], 48, "%s", val->s);
		else
			snprintf(cell[NFIXED + x], 48, "%llu", (unsigned long long)val->u);
	}
}

static void cells(const struct table *t, const struct fb_flow *f, const char *label,
		  char cell[NCOL][48])
{
	const struct fb_key *k = &f->key;
	bool ip = fb_key_is_ip(k, t->ctx.key_fields);
	const char *pn;
	char tmp[16];
	int c;

	for (c = 0; c < NCOL; c++)
		cell[c][0] = '\0';
	fb_fmt_si(f->packets, cell[C_PKTS], 48);
	fb_fmt_bytes(f->bytes, cell[C_BYTES], 48);
	fb_fmt_tcp_flags(f->tcp_flags, cell[C_FLAGS], 48);
	if (label) {
		/* in the first key column shown, which need not be IFACE */
		for (c = C_IFACE; c < C_PKTS - 1 && !col_shown(t, c); c++)
			;
		snprintf(cell[c], 48, "%s", label);
		return;
	}
	snprintf(cell[C_IFACE], 48, "%s", t->ctx.ifname(t->ctx.ifname_ctx, k->ifindex));
	snprintf(cell[C_DIR], 48, "%s", k->dir ? "out" : "in");
	if (!ip) {
		/* no addresses or ports for a frame that is not IP */
		if (t->ctx.key_fields & FB_K_ETYPE)
			snprintf(cell[C_PROTO], 48, k->ethertype == FB_ETH_P_ARP ? "arp" : "0x%04x",
				 k->ethertype);
		else
			snprintf(cell[C_PROTO], 48, "non-ip");
		return;
	}
	pn = fb_proto_name(k->proto);
	if (t->ctx.key_fields & FB_K_PROTO)
		snprintf(cell[C_PROTO], 48, "%s", pn ? pn : (snprintf(tmp, sizeof(tmp), "%u", k->proto), tmp));
	else
		snprintf(cell[C_PROTO], 48, fb_key_is_ipv6(k, t->ctx.key_fields) ? "ip6" : "ip");
	addr_cell(k->src, cell[C_SRC], 48);
	addr_cell(k->dst, cell[C_DST], 48);
	if (fb_key_is_icmp(k, t->ctx.key_fields) || k->sport || k->dport || k->proto == 6 ||
	    k->proto == 17) {
		snprintf(cell[C_SPORT], 48, "%u", k->sport);
		snprintf(cell[C_DPORT], 48, "%u", k->dport);
	}
}

static void clock_str(const struct table *t, uint64_t mono_ns, char *buf, size_t len)
{
	int64_t ns = (int64_t)mono_ns + t->ctx.mono_to_epoch_ns;
	time_t s = (time_t)(ns / 1000000000);
	struct tm tm;

	localtime_r(&s, &tm);
	snprintf(buf, len, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(ns / 1000000 % 1000));
}

static void summary_line(struct table *t, const struct fb_batch_view *v)
{
	const struct fb_batch_stats *st = v->st;
	const struct fb_flows_view *fv = v->fam[FB_REC_PKT];
	const struct fb_ledger *pl = &st->led[FB_REC_PKT];
	char a[24], b[24], c1[16], c2[16], c3[16], c4[16];
	uint32_t i;
	int ty;

	clock_str(t, st->start_ns, a, sizeof(a));
	clock_str(t, st->end_ns, b, sizeof(b));
	fprintf(t->f, "batch %llu  %s-%s", (unsigned long long)st->number, a, b);
	if (fv)
		fprintf(t->f,
			"  seen %s = records %s + lost %llu  packets %s  bytes %s  flows %llu  overflow %llu  "
			"parse_err %llu",
			fb_fmt_si(pl->seen, c1, sizeof(c1)), fb_fmt_si(pl->records, c2, sizeof(c2)),
			(unsigned long long)pl->lost, fb_fmt_si(fv->packets, c4, sizeof(c4)),
			fb_fmt_bytes(fv->bytes, c3, sizeof(c3)), (unsigned long long)fv->flows,
			(unsigned long long)fv->overflow, (unsigned long long)fv->parse_errors);
	for (ty = 0; ty < FB_REC_TYPES; ty++)
		if (t->ctx.fams[ty] && ty != FB_REC_PKT)
			fprintf(t->f, "  %s %llu = %llu + lost %llu", t->ctx.fams[ty]->name,
				(unsigned long long)st->led[ty].seen, (unsigned long long)st->led[ty].records,
				(unsigned long long)st->led[ty].lost);
	fprintf(t->f, "  late %llu", (unsigned long long)st->late);
	if (st->unknown)
		fprintf(t->f, "  unknown %llu", (unsigned long long)st->unknown);
	if (v->outputs_dropped)
		fprintf(t->f, "  outputs_dropped %llu", (unsigned long long)v->outputs_dropped);
	for (i = 0; i < v->nifaces; i++)
		if (v->ifaces[i].gone)
			fprintf(t->f, "  %s gone", v->ifaces[i].name);
	fprintf(t->f, "  proc %.2fms  delay %.1fms%s\n", st->proc_ns / 1e6, st->delay_ns / 1e6,
		st->partial ? "  (partial)" : "");
}

/* Rows of event families, one line each: "  drop reason=... count=..." */
static void family_rows(struct table *t, const struct fb_batch_view *v)
{
	struct fb_value vals[32];
	uint32_t i, n;
	int ty, k;

	for (ty = 0; ty < FB_REC_TYPES; ty++) {
		const struct fb_family_ops *ops = t->ctx.fams[ty];

		if (!ops || !ops->row_type || !v->fam[ty])
			continue;
		n = ops->nrows(v->fam[ty]);
		for (i = 0; i < n; i++) {
			memset(vals, 0, sizeof(vals));
			ops->row(v->fam[ty], i, vals);
			fprintf(t->f, "  %s", ops->row_type);
			for (k = 0; ops->row_fields[k]; k++) {
				if (!vals[k].present)
					continue;
				if (vals[k].s)
					fprintf(t->f, " %s=%s", ops->row_fields[k], vals[k].s);
				else
					fprintf(t->f, " %s=%llu", ops->row_fields[k],
						(unsigned long long)vals[k].u);
			}
			fputc('\n', t->f);
		}
	}
}

static int table_batch(void *s, FILE *f, const struct fb_batch_view *v)
{
	struct table *t = s;
	const struct fb_flows_view *fv = v->fam[FB_REC_PKT];
	uint32_t nrows = 0, i, shown = 0, more_flows = 0;
	struct fb_flow more;
	char(*rows)[NCOL][48];
	char c4[24];
	int width[NCOL], c;

	t->f = f;
	summary_line(t, v);
	if (fv) {
		/* the view may hold every row (for other outputs): show the
		 * first table_rows, the others join the rest row */
		shown = fv->ntop;
		more = *fv->rest;
		more_flows = fv->rest_flows;
		if (t->ctx.table_rows && shown > t->ctx.table_rows) {
			shown = t->ctx.table_rows;
			for (i = shown; i < fv->ntop; i++)
				fb_flow_add(&more, fv->top[i]);
			more_flows += fv->ntop - shown;
		}
		nrows = shown + !!more.packets + !!fv->overflow_row->packets;
	}
	rows = calloc(nrows ? nrows : 1, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	memset(t->xused, 0, sizeof(t->xused));
	for (i = 0; fv && i < shown; i++) {
		cells(t, fv->top[i], NULL, rows[i]);
		extra_cells(t, v, &fv->top[i]->key, rows[i]);
	}
	if (fv && more.packets) {
		snprintf(c4, sizeof(c4), "(%u more)", more_flows);
		cells(t, &more, c4, rows[i++]);
	}
	if (fv && fv->overflow_row->packets)
		cells(t, fv->overflow_row, "(overflow)", rows[i++]);
	if (nrows) {
		for (c = 0; c < NCOL; c++) {
			width[c] = c < NFIXED + t->nextra ? (int)strlen(col_title(t, c)) : 0;
			for (i = 0; i < nrows; i++)
				if ((int)strlen(rows[i][c]) > width[c])
					width[c] = (int)strlen(rows[i][c]);
		}
		fputs(" ", f);
		for (c = 0; c < NCOL; c++)
			if (col_shown(t, c))
				fprintf(f, c >= C_PKTS && c != C_FLAGS ? " %*s" : " %-*s", width[c],
					col_title(t, c));
		fputc('\n', f);
		for (i = 0; i < nrows; i++) {
			fputs(" ", f);
			for (c = 0; c < NCOL; c++)
				if (col_shown(t, c))
					fprintf(f, c >= C_PKTS && c != C_FLAGS ? " %*s" : " %-*s",
						width[c], rows[i][c]);
			fputc('\n', f);
		}
	}
	free(rows);
	family_rows(t, v);
	return fb_stream_status(f);
}

static void table_free(void *s)
{
	free(s);
}

const struct fb_format_ops fb_format_table = {
	.name = "table",
	.ext = NULL,
	.id = FB_FMT_TABLE,
	.new = table_new,
	.batch = table_batch,
	.free = table_free,
};

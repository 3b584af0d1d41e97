/* Terminal sink: per batch a summary line, then the top flows in aligned
 * columns with human units. Columns follow the -k key fields. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "agg.h"
#include "sink.h"

struct table {
	FILE *f;
	struct fb_out_ctx ctx;
};

enum { C_IFACE, C_DIR, C_PROTO, C_SRC, C_SPORT, C_DST, C_DPORT, C_PKTS, C_BYTES, C_FLAGS, NCOL };

static const char *const col_name[NCOL] = { "IFACE", "DIR",   "PROTO", "SRC",	"SPORT",
					    "DST",   "DPORT", "PKTS",  "BYTES", "FLAGS" };

static void *table_open(FILE *out, const struct fb_out_ctx *ctx)
{
	struct table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->f = out;
	t->ctx = *ctx;
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
	default: return true;
	}
}

static void addr_cell(const uint8_t a[16], char *buf, size_t len)
{
	fb_fmt_addr(a, buf, len);
}

static void cells(const struct table *t, const struct fb_flow *f, const char *label,
		  char cell[NCOL][48])
{
	const struct fb_key *k = &f->key;
	bool ip = k->ethertype == 0x0800 || k->ethertype == 0x86dd ||
		  !(t->ctx.key_fields & FB_K_ETYPE);
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
	if (!ip && (t->ctx.key_fields & FB_K_ETYPE)) {
		snprintf(cell[C_PROTO], 48, k->ethertype == 0x0806 ? "arp" : "0x%04x", k->ethertype);
		return;
	}
	pn = fb_proto_name(k->proto);
	if (t->ctx.key_fields & FB_K_PROTO)
		snprintf(cell[C_PROTO], 48, "%s", pn ? pn : (snprintf(tmp, sizeof(tmp), "%u", k->proto), tmp));
	else
		snprintf(cell[C_PROTO], 48, k->ethertype == 0x86dd ? "ip6" : "ip");
	addr_cell(k->src, cell[C_SRC], 48);
	addr_cell(k->dst, cell[C_DST], 48);
	if (k->proto == 1 || k->proto == 58 || k->sport || k->dport || k->proto == 6 || k->proto == 17) {
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

static int table_write(void *s, const struct fb_batch_view *v)
{
	struct table *t = s;
	const struct fb_batch_stats *st = v->st;
	uint32_t nrows = v->ntop + !!v->rest->packets + !!v->overflow->packets, i;
	char (*rows)[NCOL][48] = calloc(nrows ? nrows : 1, sizeof(*rows));
	char a[24], b[24], c1[16], c2[16], c3[16], c4[16];
	int width[NCOL], c;

	if (!rows)
		return -ENOMEM;
	clock_str(t, st->start_ns, a, sizeof(a));
	clock_str(t, st->end_ns, b, sizeof(b));
	fprintf(t->f,
		"batch %llu  %s-%s  seen %s = packets %s + lost %llu  bytes %s  flows %llu  "
		"overflow %llu  late %llu  parse_err %llu  proc %.2fms  delay %.1fms%s\n",
		(unsigned long long)st->number, a, b, fb_fmt_si(st->seen, c1, sizeof(c1)),
		fb_fmt_si(st->packets, c2, sizeof(c2)), (unsigned long long)st->lost,
		fb_fmt_bytes(st->bytes, c3, sizeof(c3)), (unsigned long long)st->flows,
		(unsigned long long)st->overflow, (unsigned long long)st->late,
		(unsigned long long)st->parse_errors, st->proc_ns / 1e6, st->delay_ns / 1e6,
		st->partial ? "  (partial)" : "");
	(void)c4;
	for (i = 0; i < v->ntop; i++)
		cells(t, v->top[i], NULL, rows[i]);
	if (v->rest->packets) {
		snprintf(c4, sizeof(c4), "(%u more)", v->rest_flows);
		cells(t, v->rest, c4, rows[i++]);
	}
	if (v->overflow->packets)
		cells(t, v->overflow, "(overflow)", rows[i++]);
	if (nrows) {
		for (c = 0; c < NCOL; c++) {
			width[c] = (int)strlen(col_name[c]);
			for (i = 0; i < nrows; i++)
				if ((int)strlen(rows[i][c]) > width[c])
					width[c] = (int)strlen(rows[i][c]);
		}
		fputs(" ", t->f);
		for (c = 0; c < NCOL; c++)
			if (col_shown(t, c))
				fprintf(t->f, c >= C_PKTS && c != C_FLAGS ? " %*s" : " %-*s", width[c],
					col_name[c]);
		fputc('\n', t->f);
		for (i = 0; i < nrows; i++) {
			fputs(" ", t->f);
			for (c = 0; c < NCOL; c++)
				if (col_shown(t, c))
					fprintf(t->f, c >= C_PKTS && c != C_FLAGS ? " %*s" : " %-*s",
						width[c], rows[i][c]);
			fputc('\n', t->f);
		}
	}
	free(rows);
	return fb_sink_stream_status(t->f);
}

static int table_flush(void *s)
{
	return fb_sink_stream_status(((struct table *)s)->f);
}

static void table_close(void *s)
{
	free(s);
}

const struct fb_sink_ops fb_sink_table = {
	.name = "table",
	.open = table_open,
	.write_batch = table_write,
	.flush = table_flush,
	.close = table_close,
};

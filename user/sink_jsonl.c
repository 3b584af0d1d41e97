/* JSON Lines sink: one object per flow row, then one per batch, flushed
 * after each batch. Field names follow goflow2 where a counterpart exists. */
#include <errno.h>
#include <stdlib.h>
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

static void head(struct jsonl *j, const struct fb_batch_stats *st, const char *type)
{
	fprintf(j->f, "{\"type\":\"%s\",\"batch\":%llu,\"start_ms\":%llu,\"end_ms\":%llu", type,
		(unsigned long long)st->number, epoch_ms(j, st->start_ns), epoch_ms(j, st->end_ns));
}

static void counts(struct jsonl *j, const struct fb_flow *f)
{
	fprintf(j->f,
		",\"packets\":%llu,\"bytes\":%llu,\"tcp_flags\":%u,\"time_flow_start_ns\":%llu,"
		"\"time_flow_end_ns\":%llu}\n",
		(unsigned long long)f->packets, (unsigned long long)f->bytes, f->tcp_flags,
		epoch_ns(j, f->first_ns), epoch_ns(j, f->last_ns));
}

static void flow_row(struct jsonl *j, const struct fb_batch_stats *st, const struct fb_flow *f)
{
	const struct fb_key *k = &f->key;
	uint32_t kf = j->ctx.key_fields;
	bool icmp = (kf & FB_K_PROTO) && (k->proto == 1 || k->proto == 58);
	char addr[64];

	head(j, st, "flow");
	if (kf & FB_K_IFACE) {
		fputs(",\"iface\":", j->f);
		fb_json_str(j->f, j->ctx.ifname(j->ctx.ifname_ctx, k->ifindex));
	}
	if (kf & FB_K_DIR)
		fprintf(j->f, ",\"dir\":\"%s\"", k->dir ? "out" : "in");
	if (kf & FB_K_ETYPE)
		fprintf(j->f, ",\"etype\":%u", k->ethertype);
	if (kf & FB_K_PROTO)
		fprintf(j->f, ",\"proto\":%u", k->proto);
	/* a frame without IP has no addresses: omit them rather than print :: */
	if (kf & FB_K_SRC && (k->ethertype == 0x0800 || k->ethertype == 0x86dd || !(kf & FB_K_ETYPE)))
		fprintf(j->f, ",\"src_addr\":\"%s\"", fb_fmt_addr(k->src, addr, sizeof(addr)));
	if (kf & FB_K_DST && (k->ethertype == 0x0800 || k->ethertype == 0x86dd || !(kf & FB_K_ETYPE)))
		fprintf(j->f, ",\"dst_addr\":\"%s\"", fb_fmt_addr(k->dst, addr, sizeof(addr)));
	/* likewise ports: ARP, LLDP and friends have none */
	if (kf & FB_K_ETYPE && k->ethertype != 0x0800 && k->ethertype != 0x86dd)
		kf &= ~(uint32_t)(FB_K_SPORT | FB_K_DPORT);
	if (kf & FB_K_SPORT)
		fprintf(j->f, icmp ? ",\"icmp_type\":%u" : ",\"src_port\":%u", k->sport);
	if (kf & FB_K_DPORT)
		fprintf(j->f, icmp ? ",\"icmp_code\":%u" : ",\"dst_port\":%u", k->dport);
	counts(j, f);
}

static int jsonl_write(void *s, const struct fb_batch_view *v)
{
	struct jsonl *j = s;
	const struct fb_batch_stats *st = v->st;
	uint32_t i;

	for (i = 0; i < v->ntop; i++)
		flow_row(j, st, v->top[i]);
	if (v->rest->packets) {
		head(j, st, "flow");
		fprintf(j->f, ",\"rest\":true,\"flows\":%u", v->rest_flows);
		counts(j, v->rest);
	}
	if (v->overflow->packets) {
		head(j, st, "flow");
		fputs(",\"overflow\":true", j->f);
		counts(j, v->overflow);
	}
	head(j, st, "batch");
	fprintf(j->f,
		",\"seen\":%llu,\"packets\":%llu,\"bytes\":%llu,\"flows\":%llu,\"ring_lost\":%llu,"
		"\"parse_errors\":%llu,\"late\":%llu,\"overflow\":%llu,\"processing_ms\":%.3f,"
		"\"delay_ms\":%.3f,\"partial\":%s}\n",
		(unsigned long long)st->seen, (unsigned long long)st->packets,
		(unsigned long long)st->bytes, (unsigned long long)st->flows,
		(unsigned long long)st->lost, (unsigned long long)st->parse_errors,
		(unsigned long long)st->late, (unsigned long long)st->overflow, st->proc_ns / 1e6,
		st->delay_ns / 1e6, st->partial ? "true" : "false");
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

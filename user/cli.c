/* The options table, its parser and --help, and the value parsers.
 *
 * Each option is declared once, in the manner of xdp-tools' params: its
 * kind, bounds or choices, default and target field. Defaults are applied
 * by parsing the default text with the option's own parser, and --help
 * prints the same text, so defaults, validation and help cannot disagree. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "events.h"
#include "format.h"
#include "netwatch.h"

#define MIN_INTERVAL_NS 10000000ull /* 10ms */
#define MAX_INTERVAL_NS 3600000000000ull /* 1h */
#define MIN_RING (4096ull)
#define MAX_RING (1ull << 30)
#define MAX_FLOWS_LIMIT (16u << 20)

int fb_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	char *end;
	unsigned long long x;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || *end || x < min || x > max)
		return -1;
	*v = x;
	return 0;
}

int fb_parse_duration(const char *s, uint64_t *ns)
{
	static const struct {
		const char *sfx;
		uint64_t mul;
	} units[] = { { "ns", 1 },	    { "us", 1000 },	     { "ms", 1000000 },
		      { "s", 1000000000 }, { "m", 60000000000ull }, { "h", 3600000000000ull },
		      { "", 1000000000 } };
	char *end;
	double v;
	size_t i;

	if (!s || !(isdigit((unsigned char)*s) || *s == '.'))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].sfx))
			continue;
		if (v * (double)units[i].mul > 1e18)
			return -1;
		*ns = (uint64_t)(v * (double)units[i].mul + 0.5);
		return 0;
	}
	return -1;
}

int fb_parse_size(const char *s, uint64_t *bytes)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	if (*end) {
		switch (tolower((unsigned char)*end)) {
		case 'k': mul = 1ull << 10; break;
		case 'm': mul = 1ull << 20; break;
		case 'g': mul = 1ull << 30; break;
		default: return -1;
		}
		end++;
		if (*end == 'i' || *end == 'I')
			end++;
		if (*end == 'b' || *end == 'B')
			end++;
		if (*end)
			return -1;
	}
	if (v > (1ull << 40) / mul) /* at most 1 TiB; also keeps v * mul from wrapping */
		return -1;
	*bytes = v * mul;
	return 0;
}

enum kind {
	K_FLAG,     /* bool = true */
	K_COUNT,    /* int += 1 */
	K_UINT32,   /* decimal within [min, max] */
	K_UINT64,
	K_DURATION, /* 250ms, 1s; within [min, max] ns */
	K_SIZE,     /* 64k, 16M; within [min, max] */
	K_ENUM,     /* one of choices; stores the index + base in an int-sized enum */
	K_STRING,   /* copied into a char array of size bytes */
	K_IFACE,    /* appended to cap.ifaces */
	K_WRITE,    /* appended to writes */
	K_HELP,
	K_VERSION,
};

/* flags */
#define F_POW2 1u     /* a power of two */
#define F_SET_TOP 2u  /* also sets top_set */

struct opt {
	const char *lname;
	int sname; /* short letter, or 0 */
	enum kind kind;
	const char *arg; /* metavariable in --help */
	const char *help;
	const char *def; /* default as text, parsed like user input; NULL = zero */
	uint64_t min, max;
	const char *const *choices; /* K_ENUM, NULL-terminated */
	int base; /* K_ENUM: value of choices[0] */
	size_t off, size; /* target field in struct fb_config */
	unsigned flags;
	const char *range; /* for messages: "10ms to 1h" */
	const char *noun; /* for messages: "invalid interval '5x' for -t/--interval" */
};

#define FIELD(f) .off = offsetof(struct fb_config, f), .size = sizeof(((struct fb_config *)0)->f)

static const char *const hooks[] = { "tc", "xdp", NULL };
static const char *const dirs[] = { "in", "out", "both", NULL };
static const char *const formats[] = { "table", "jsonl", "csv", NULL };
static const char *const tcmodes[] = { "auto", "tcx", "clsact", NULL };
static const char *const xdpmodes[] = { "auto", "native", "generic", NULL };
static const char *const ringmodes[] = { "percpu", "shared", NULL };

#define MIN_INTERVAL_NS 10000000ull /* 10ms */
#define MAX_INTERVAL_NS 3600000000000ull /* 1h */
#define MAX_FLOWS_LIMIT (16u << 20)

/* The one place options are declared. */
static const struct opt opts[] = {
	{ "interface", 'i', K_IFACE, "IFACE", "capture on IFACE (repeatable; default: the default route's, none with --events alone)", .def = NULL },
	{ "hook", 0, K_ENUM, "HOOK", "tc: TC ingress/egress; xdp: XDP for ingress, TC for egress",
	  .def = "tc", .choices = hooks, .base = FB_HOOK_TC, FIELD(cap.hook) },
	{ "direction", 0, K_ENUM, "DIR", "packets received, sent, or both",
	  .def = "both", .choices = dirs, .base = FB_DIR_IN, FIELD(cap.dir) },
	{ "interval", 't', K_DURATION, "DUR", "batch interval, e.g. 250ms, 1s, 2m",
	  .def = "1s", .min = MIN_INTERVAL_NS, .max = MAX_INTERVAL_NS, FIELD(interval_ns),
	  .range = "10ms to 1h, e.g. 250ms, 1s, 2m", .noun = "interval" },
	{ "keys", 'k', K_STRING, "KEYS", "group-by keys; src/24 or src/24/64 for prefixes",
	  .def = FB_KEYS_DEFAULT, FIELD(keys_str) },
	{ "top", 'n', K_UINT32, "N", "show the N flows with most bytes and one row for the rest (0 = all; default 20 for table, all otherwise)",
	  .max = 1000000, FIELD(top), .flags = F_SET_TOP, .range = "0 to 1000000", .noun = "count" },
	{ "output", 'o', K_ENUM, "FORMAT", "stdout format (default: table on a terminal, else jsonl)",
	  .choices = formats, .base = FB_FMT_TABLE, FIELD(output) },
	{ "write", 'w', K_WRITE, "PATH", "also write every batch to PATH (.jsonl or .csv, +.gz; strftime patterns; repeatable)", .def = NULL },
	{ "rotate-seconds", 'G', K_DURATION, "SECS", "start a new -w file when a batch starts at a multiple of SECS on the wall clock",
	  .min = 1000000000ull, .max = 366 * 86400000000000ull, FIELD(rotate_secs), .range = "1s to 366 days", .noun = "rotation period" },
	{ "rotate-size", 'C', K_SIZE, "SIZE", "start a new -w file after the batch that takes it past SIZE (100M, 1G)",
	  .min = 4096, .max = 1ull << 40, FIELD(rotate_bytes), .range = "4k to 1T", .noun = "rotation size" },
	{ "rotate-keep", 'W', K_UINT32, "N", "keep at most N files of each -w output (the oldest it wrote go)",
	  .min = 1, .max = 1000000, FIELD(keep_files), .range = "1 to 1000000", .noun = "file count" },
	{ "prometheus", 0, K_STRING, "[ADDR]:PORT", "serve /metrics for Prometheus (ADDR defaults to 127.0.0.1)",
	  FIELD(prom_addr) },
	{ "prometheus-keys", 0, K_STRING, "KEYS", "per-group counters by these -k keys (off by default)",
	  FIELD(prom_keys) },
	{ "prometheus-max-series", 0, K_UINT32, "N", "at most N per-group series; the rest sum into one \"other\"",
	  .def = "1000", .min = 1, .max = 1000000, FIELD(prom_max_series), .range = "1 to 1000000", .noun = "series limit" },
	{ "ipfix", 0, K_STRING, "HOST:PORT", "export flow rows as IPFIX over UDP to a collector", FIELD(ipfix_addr) },
	{ "ipfix-domain", 0, K_UINT32, "N", "IPFIX observation domain id",
	  .def = "1", .max = UINT32_MAX, FIELD(ipfix_domain), .range = "0 to 4294967295", .noun = "domain id" },
	{ "events", 0, K_STRING, "LIST", "kernel event families: tcp,retrans,resets,rtt,drops (default none)",
	  FIELD(events_str) },
	{ "count", 'c', K_UINT64, "N", "stop after N batches",
	  .min = 1, .max = UINT64_MAX, FIELD(count), .range = "a positive integer", .noun = "batch count" },
	{ "duration", 'D', K_DURATION, "DUR", "stop after DUR",
	  .min = 1, .max = UINT64_MAX, FIELD(duration_ns), .range = "e.g. 500ms, 10s, 2m", .noun = "duration" },
	{ "ring-size", 0, K_SIZE, "BYTES", "size of each ring buffer (default 8M per CPU, less on many CPUs)",
	  .min = 4096, .max = 1ull << 30, FIELD(cap.ring_size), .flags = F_POW2,
	  .range = "a power of two from 4k to 1G", .noun = "ring size" },
	{ "ring", 0, K_ENUM, "MODE", "one ring per CPU, or one shared by all CPUs",
	  .def = "percpu", .choices = ringmodes, FIELD(cap.shared_ring) },
	{ "max-flows", 0, K_UINT32, "N", "distinct flows kept per batch; more go to an overflow row",
	  .def = "65536", .min = 1, .max = MAX_FLOWS_LIMIT, FIELD(max_flows), .range = "1 to 16777216", .noun = "flow limit" },
	{ "force", 0, K_FLAG, NULL, "replace another program's XDP attachment", FIELD(cap.force) },
	{ "tc-attach", 0, K_ENUM, "MODE", "TC attach method: tcx links, else a clsact qdisc",
	  .def = "auto", .choices = tcmodes, .base = FB_TC_AUTO, FIELD(cap.tc_mode) },
	{ "xdp-mode", 0, K_ENUM, "MODE", "XDP attach mode: native where the driver has it",
	  .def = "auto", .choices = xdpmodes, .base = FB_XDP_AUTO, FIELD(cap.xdp_mode) },
	{ "grace", 0, K_DURATION, "DUR", "wait this long after a batch ends before emitting it",
	  .def = "5ms", .max = 1000000000ull, FIELD(grace_ns), .range = "0 to 1s", .noun = "grace" },
	{ "verbose", 'v', K_COUNT, NULL, "more messages, libbpf's included", FIELD(verbose) },
	{ "help", 'h', K_HELP, NULL, "show this help", .def = NULL },
	{ "version", 'V', K_VERSION, NULL, "show the version", .def = NULL },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static int opt_id(const struct opt *o)
{
	return o->sname ? o->sname : 256 + (int)(o - opts);
}

/* "--hook" or "-t/--interval": both names the user may have typed */
static const char *label(const struct opt *o, char *buf, size_t len)
{
	if (o->sname && o->sname < 256)
		snprintf(buf, len, "-%c/--%s", o->sname, o->lname);
	else
		snprintf(buf, len, "--%s", o->lname);
	return buf;
}

static void choices_text(const struct opt *o, char *buf, size_t len)
{
	size_t n = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; o->choices[i] && n + 1 < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? "|" : "", o->choices[i]);
}

static void usage(FILE *f)
{
	char left[160], ch[64];
	size_t i;

	fprintf(f, "Usage: flowbatch [OPTIONS]\n"
		   "Counts packets crossing network interfaces with eBPF, in micro-batches of flows.\n\n");
	for (i = 0; i < NOPTS; i++) {
		const struct opt *o = &opts[i];
		const char *arg = o->arg;

		if (o->kind == K_ENUM) {
			choices_text(o, ch, sizeof(ch));
			arg = ch;
		}
		if (o->sname && o->sname < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->sname, o->lname, arg ? " " : "",
				 arg ? arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->lname, arg ? " " : "", arg ? arg : "");
		fprintf(f, "  %-32s %s", left, o->help);
		if (o->def)
			fprintf(f, " (default %s)", o->def);
		fputc('\n', f);
	}
	fprintf(f, "\nExit status: 0 done (also after Ctrl-C), 1 failed to start or run,\n"
		   "2 bad command line. Needs root (CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON).\n");
}

static void store_uint(void *field, size_t size, uint64_t v)
{
	if (size == sizeof(uint32_t)) {
		uint32_t x = (uint32_t)v;

		memcpy(field, &x, sizeof(x));
	} else {
		memcpy(field, &v, sizeof(v));
	}
}

/* Parses one value of option o into cfg. 0, or -1 with a message. */
static int apply(const struct opt *o, const char *a, struct fb_config *cfg, char *err, size_t errlen)
{
	void *field = (char *)cfg + o->off;
	char lbl[48];
	uint64_t v;
	int k;

	switch (o->kind) {
	case K_FLAG:
		*(bool *)field = true;
		return 0;
	case K_COUNT:
		(*(int *)field)++;
		return 0;
	case K_UINT32:
	case K_UINT64:
		if (fb_parse_uint(a, o->min, o->max, &v))
			goto bad_range;
		store_uint(field, o->size, v);
		break;
	case K_DURATION:
		if (fb_parse_duration(a, &v) || v < o->min || v > o->max)
			goto bad_range;
		store_uint(field, o->size, v);
		break;
	case K_SIZE:
		if (fb_parse_size(a, &v) || v < o->min || v > o->max || ((o->flags & F_POW2) && (v & (v - 1))))
			goto bad_range;
		store_uint(field, o->size, v);
		break;
	case K_ENUM:
		for (k = 0; o->choices[k]; k++)
			if (!strcmp(a, o->choices[k]))
				break;
		if (!o->choices[k]) {
			char ch[64];

			choices_text(o, ch, sizeof(ch));
			snprintf(err, errlen, "invalid value '%s' for %s (%s)", a, label(o, lbl, sizeof(lbl)), ch);
			return -1;
		}
		if (o->size == sizeof(bool))
			*(bool *)field = k != 0;
		else
			*(int *)field = o->base + k;
		break;
	case K_STRING:
		if (strlen(a) >= o->size) {
			snprintf(err, errlen, "value for %s is too long", label(o, lbl, sizeof(lbl)));
			return -1;
		}
		memcpy(field, a, strlen(a) + 1);
		break;
	case K_IFACE:
		if (!*a || strlen(a) >= FB_IFNAMSIZ || strchr(a, '/') || strchr(a, ' ')) {
			snprintf(err, errlen, "invalid interface name '%s'", a);
			return -1;
		}
		if (cfg->cap.n_ifaces == FB_MAX_IFACES) {
			snprintf(err, errlen, "at most %d interfaces (-i)", FB_MAX_IFACES);
			return -1;
		}
		for (k = 0; k < cfg->cap.n_ifaces; k++)
			if (!strcmp(cfg->cap.ifaces[k], a)) {
				snprintf(err, errlen, "interface '%s' given twice", a);
				return -1;
			}
		snprintf(cfg->cap.ifaces[cfg->cap.n_ifaces++], FB_IFNAMSIZ, "%s", a);
		break;
	case K_WRITE:
		if (cfg->n_writes == FB_MAX_WRITES) {
			snprintf(err, errlen, "at most %d outputs with -w", FB_MAX_WRITES);
			return -1;
		}
		cfg->writes[cfg->n_writes++] = a;
		break;
	case K_HELP:
	case K_VERSION:
		break;
	}
	if (o->flags & F_SET_TOP)
		cfg->top_set = true;
	return 0;
bad_range:
	snprintf(err, errlen, "invalid %s '%s' for %s (%s)", o->noun ? o->noun : "value", a,
		 label(o, lbl, sizeof(lbl)), o->range ? o->range : "out of range");
	return -1;
}

static void defaults(struct fb_config *c)
{
	char err[128];
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < NOPTS; i++)
		if (opts[i].def && apply(&opts[i], opts[i].def, c, err, sizeof(err)))
			abort(); /* a default that does not parse is a bug in the table */
	c->top_set = false;
}

/* Checks across options, and the outputs the run will open. */
static int finish(struct fb_config *cfg, char *err, size_t errlen)
{
	struct fb_out_opts *o;
	int i;

	if (fb_keyspec_parse(cfg->keys_str, &cfg->keys, err, errlen))
		return -1;
	if (cfg->cap.hook == FB_HOOK_XDP && cfg->cap.dir == FB_DIR_OUT) {
		snprintf(err, errlen, "--hook xdp sees received packets only; use --hook tc for --direction out");
		return -1;
	}
	if (cfg->grace_ns >= cfg->interval_ns) {
		snprintf(err, errlen, "--grace must be shorter than the interval");
		return -1;
	}
	if (cfg->events_str[0] && fb_events_parse(cfg->events_str, &cfg->events, err, errlen))
		return -1;
	cfg->cap.events = cfg->events;
	if ((cfg->rotate_secs || cfg->rotate_bytes || cfg->keep_files) && !cfg->n_writes) {
		snprintf(err, errlen, "-G, -C and -W apply to -w files; no -w given");
		return -1;
	}
	if (cfg->prom_keys[0] && !cfg->prom_addr[0]) {
		snprintf(err, errlen, "--prometheus-keys needs --prometheus");
		return -1;
	}
	if (cfg->prom_keys[0]) {
		struct fb_keyspec ks;
		char kerr[200];

		if (fb_keyspec_parse(cfg->prom_keys, &ks, kerr, sizeof(kerr))) {
			snprintf(err, errlen, "--prometheus-keys: %s", kerr);
			return -1;
		}
	}
	cfg->n_outs = 0;
	o = &cfg->outs[cfg->n_outs++];
	memset(o, 0, sizeof(*o));
	o->kind = "stdout";
	o->format = cfg->output;
	for (i = 0; i < cfg->n_writes; i++) {
		o = &cfg->outs[cfg->n_outs++];
		memset(o, 0, sizeof(*o));
		o->kind = "file";
		o->target = cfg->writes[i];
		if (!fb_format_for_path(o->target, &o->gzip) || strchr(o->target, '\n')) {
			snprintf(err, errlen,
				 "cannot tell the format of -w '%s': name it .jsonl or .csv, or either with .gz",
				 o->target);
			return -1;
		}
		o->format = fb_format_for_path(o->target, &o->gzip)->id;
		o->rotate_secs = cfg->rotate_secs / 1000000000; /* -G is read as a duration (ns) */
		o->rotate_bytes = cfg->rotate_bytes;
		o->keep_files = cfg->keep_files;
	}
	if (cfg->prom_addr[0]) {
		o = &cfg->outs[cfg->n_outs++];
		memset(o, 0, sizeof(*o));
		o->kind = "prometheus";
		o->target = cfg->prom_addr;
		o->prom_keys = cfg->prom_keys[0] ? cfg->prom_keys : NULL;
		o->prom_max_series = cfg->prom_max_series;
	}
	if (cfg->ipfix_addr[0]) {
		o = &cfg->outs[cfg->n_outs++];
		memset(o, 0, sizeof(*o));
		o->kind = "ipfix";
		o->target = cfg->ipfix_addr;
		o->ipfix_domain = cfg->ipfix_domain;
	}
	return 0;
}

enum fb_cli_result fb_cli_parse(int argc, char **argv, struct fb_config *cfg, FILE *out,
				char *err, size_t errlen)
{
	struct option lopts[NOPTS + 1];
	char sopts[NOPTS * 2 + 2];
	size_t i, n = 0;
	int c;

	defaults(cfg);
	sopts[n++] = ':';
	for (i = 0; i < NOPTS; i++) {
		bool has_arg = opts[i].kind != K_FLAG && opts[i].kind != K_COUNT && opts[i].kind != K_HELP &&
			       opts[i].kind != K_VERSION;

		lopts[i] = (struct option){ opts[i].lname, has_arg, NULL, opt_id(&opts[i]) };
		if (opts[i].sname && opts[i].sname < 256) {
			sopts[n++] = (char)opts[i].sname;
			if (has_arg)
				sopts[n++] = ':';
		}
	}
	sopts[n] = '\0';
	memset(&lopts[NOPTS], 0, sizeof(lopts[NOPTS]));

	optind = 0; /* 0, not 1: also resets getopt's state from an earlier call */
	opterr = 0;
	while ((c = getopt_long(argc, argv, sopts, lopts, NULL)) != -1) {
		const struct opt *o = NULL;

		if (c == ':') {
			/* name the option as typed: -t or --interval */
			snprintf(err, errlen, "option '%s' needs a value", argv[optind - 1]);
			return FB_CLI_BAD;
		}
		for (i = 0; i < NOPTS && !o; i++)
			if (opt_id(&opts[i]) == c)
				o = &opts[i];
		if (!o) {
			if (optopt && optopt < 256)
				snprintf(err, errlen, "unknown option '-%c' (see --help)", optopt);
			else
				snprintf(err, errlen, "unknown option '%s' (see --help)", argv[optind - 1]);
			return FB_CLI_BAD;
		}
		if (o->kind == K_HELP) {
			usage(out);
			return FB_CLI_EXIT_OK;
		}
		if (o->kind == K_VERSION) {
			fprintf(out, "flowbatch %s\n", FB_VERSION);
			return FB_CLI_EXIT_OK;
		}
		if (apply(o, optarg, cfg, err, errlen))
			return FB_CLI_BAD;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
		return FB_CLI_BAD;
	}
	return finish(cfg, err, errlen) ? FB_CLI_BAD : FB_CLI_RUN;
}

int fb_config_resolve(struct fb_config *cfg, bool stdout_is_tty)
{
	int err;

	if (cfg->output == FB_FMT_AUTO)
		cfg->output = stdout_is_tty ? FB_FMT_TABLE : FB_FMT_JSONL;
	cfg->outs[0].format = cfg->output;
	/* A table is read by a person: its top 20 rows. Files, pipes and the
	 * network outputs get every row, so without -n the batch view keeps
	 * them all and the table cuts its own; with the table alone the view
	 * keeps only 20 (a heap instead of a sort). -n cuts for everyone. */
	if (!cfg->top_set) {
		bool table_only = cfg->output == FB_FMT_TABLE && cfg->n_outs == 1;

		cfg->top = table_only ? 20 : 0;
		cfg->table_rows = cfg->output == FB_FMT_TABLE && !table_only ? 20 : 0;
	}
	if (!cfg->cap.n_ifaces && !cfg->events) {
		err = fb_default_route_iface(cfg->cap.ifaces[0], FB_IFNAMSIZ);
		if (err)
			return err;
		cfg->cap.n_ifaces = 1;
	}
	return 0;
}

/* Options table, value parsers and usage text. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

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

enum opt_id {
	O_IFACE = 'i', O_INTERVAL = 't', O_KEYS = 'k', O_TOP = 'n', O_OUTPUT = 'o', O_COUNT = 'c',
	O_DURATION = 'D', O_VERBOSE = 'v', O_HELP = 'h', O_VERSION = 'V',
	O_HOOK = 256, O_DIRECTION, O_RING, O_RINGMODE, O_MAXFLOWS, O_FORCE, O_TCMODE, O_XDPMODE, O_GRACE,
};

struct opt {
	const char *lname;
	int id;
	int has_arg;
	const char *arg;
	const char *help;
};

/* The one place options are declared: getopt tables and --help derive from it. */
static const struct opt opts[] = {
	{ "interface", O_IFACE, 1, "IFACE", "capture on IFACE (repeatable; default: the default route's)" },
	{ "hook", O_HOOK, 1, "xdp|tc", "tc (default): TC ingress/egress; xdp: XDP for ingress, TC for egress" },
	{ "direction", O_DIRECTION, 1, "in|out|both", "packets received, sent, or both (default both)" },
	{ "interval", O_INTERVAL, 1, "DUR", "batch interval, e.g. 250ms, 1s, 2m (default 1s)" },
	{ "keys", O_KEYS, 1, "KEYS", "group-by keys (default " FB_KEYS_DEFAULT "); src/24 or src/24/64 for prefixes" },
	{ "top", O_TOP, 1, "N", "show the N flows with most bytes and one row for the rest (0 = all; default 20 for table, all for jsonl)" },
	{ "output", O_OUTPUT, 1, "table|jsonl", "output format (default: table on a terminal, else jsonl)" },
	{ "count", O_COUNT, 1, "N", "stop after N batches" },
	{ "duration", O_DURATION, 1, "DUR", "stop after DUR" },
	{ "ring-size", O_RING, 1, "BYTES", "size of each ring buffer, power of two, 4k..1G (default 8M per CPU, less on many CPUs)" },
	{ "ring", O_RINGMODE, 1, "percpu|shared", "one ring per CPU (default) or one shared by all CPUs" },
	{ "max-flows", O_MAXFLOWS, 1, "N", "distinct flows kept per batch; more go to an overflow row (default 65536)" },
	{ "force", O_FORCE, 0, NULL, "replace another program's XDP attachment" },
	{ "tc-attach", O_TCMODE, 1, "auto|tcx|clsact", "TC attach method (default auto: tcx links, else a clsact qdisc)" },
	{ "xdp-mode", O_XDPMODE, 1, "auto|native|generic", "XDP attach mode (default auto: native where the driver has it)" },
	{ "grace", O_GRACE, 1, "DUR", "wait this long after a batch ends before emitting it (default 5ms)" },
	{ "verbose", O_VERBOSE, 0, NULL, "more messages, libbpf's included" },
	{ "help", O_HELP, 0, NULL, "show this help" },
	{ "version", O_VERSION, 0, NULL, "show the version" },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: flowbatch [OPTIONS]\n"
		   "Counts packets crossing network interfaces with eBPF, in micro-batches of flows.\n\n");
	for (i = 0; i < NOPTS; i++) {
		char left[64];

		if (opts[i].id < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", opts[i].id, opts[i].lname,
				 opts[i].arg ? " " : "", opts[i].arg ? opts[i].arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", opts[i].lname, opts[i].arg ? " " : "",
				 opts[i].arg ? opts[i].arg : "");
		fprintf(f, "  %-32s %s\n", left, opts[i].help);
	}
	fprintf(f, "\nExit status: 0 done (also after Ctrl-C), 1 failed to start or run,\n"
		   "2 bad command line. Needs root (CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON).\n");
}

static const char *opt_label(int id, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < NOPTS; i++)
		if (opts[i].id == id) {
			snprintf(buf, len, "--%s", opts[i].lname);
			return buf;
		}
	return "?";
}

static int pick(const char *v, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(v, names[i]))
			return i;
	return -1;
}

static void defaults(struct fb_config *c)
{
	memset(c, 0, sizeof(*c));
	c->hook = FB_HOOK_TC;
	c->dir = FB_DIR_BOTH;
	c->interval_ns = 1000000000ull;
	c->grace_ns = 5000000ull;
	snprintf(c->keys_str, sizeof(c->keys_str), "%s", FB_KEYS_DEFAULT);
	c->ring_size = 0;
	c->max_flows = 65536;
}

enum fb_cli_result fb_cli_parse(int argc, char **argv, struct fb_config *cfg, FILE *out,
				char *err, size_t errlen)
{
	static const char *const dirs[] = { "in", "out", "both" };
	static const char *const hooks[] = { "tc", "xdp" };
	static const char *const outs[] = { "table", "jsonl" };
	static const char *const tcm[] = { "auto", "tcx", "clsact" };
	static const char *const xdpm[] = { "auto", "native", "generic" };
	static const char *const ringm[] = { "percpu", "shared" };
	struct option lopts[NOPTS + 1];
	char sopts[NOPTS * 2 + 2], lbl[32];
	size_t i, n = 0;
	uint64_t v;
	int c, k;

	defaults(cfg);
	sopts[n++] = ':';
	for (i = 0; i < NOPTS; i++) {
		lopts[i] = (struct option){ opts[i].lname, opts[i].has_arg, NULL, opts[i].id };
		if (opts[i].id < 256) {
			sopts[n++] = (char)opts[i].id;
			if (opts[i].has_arg)
				sopts[n++] = ':';
		}
	}
	sopts[n] = '\0';
	memset(&lopts[NOPTS], 0, sizeof(lopts[NOPTS]));

	optind = 0; /* 0, not 1: also resets getopt's state from an earlier call */
	opterr = 0;
	while ((c = getopt_long(argc, argv, sopts, lopts, NULL)) != -1) {
		const char *a = optarg;

		switch (c) {
		case O_IFACE:
			if (!*a || strlen(a) >= FB_IFNAMSIZ || strchr(a, '/') || strchr(a, ' ')) {
				snprintf(err, errlen, "invalid interface name '%s'", a);
				return FB_CLI_BAD;
			}
			if (cfg->n_ifaces == FB_MAX_IFACES) {
				snprintf(err, errlen, "at most %d interfaces (-i)", FB_MAX_IFACES);
				return FB_CLI_BAD;
			}
			for (k = 0; k < cfg->n_ifaces; k++)
				if (!strcmp(cfg->ifaces[k], a)) {
					snprintf(err, errlen, "interface '%s' given twice", a);
					return FB_CLI_BAD;
				}
			snprintf(cfg->ifaces[cfg->n_ifaces++], FB_IFNAMSIZ, "%s", a);
			break;
		case O_HOOK:
			if ((k = pick(a, hooks, 2)) < 0)
				goto bad_choice;
			cfg->hook = (enum fb_hook)k;
			break;
		case O_DIRECTION:
			if ((k = pick(a, dirs, 3)) < 0)
				goto bad_choice;
			cfg->dir = (enum fb_dir)(k + 1);
			break;
		case O_OUTPUT:
			if ((k = pick(a, outs, 2)) < 0)
				goto bad_choice;
			cfg->output = k == 0 ? FB_OUT_TABLE : FB_OUT_JSONL;
			break;
		case O_TCMODE:
			if ((k = pick(a, tcm, 3)) < 0)
				goto bad_choice;
			cfg->tc_mode = (enum fb_tc_mode)k;
			break;
		case O_XDPMODE:
			if ((k = pick(a, xdpm, 3)) < 0)
				goto bad_choice;
			cfg->xdp_mode = (enum fb_xdp_mode)k;
			break;
		case O_INTERVAL:
			if (fb_parse_duration(a, &cfg->interval_ns) || cfg->interval_ns < MIN_INTERVAL_NS ||
			    cfg->interval_ns > MAX_INTERVAL_NS) {
				snprintf(err, errlen, "invalid interval '%s' for -t (10ms to 1h, e.g. 250ms, 1s, 2m)", a);
				return FB_CLI_BAD;
			}
			break;
		case O_DURATION:
			if (fb_parse_duration(a, &cfg->duration_ns) || !cfg->duration_ns) {
				snprintf(err, errlen, "invalid duration '%s' for -D (e.g. 500ms, 10s, 2m)", a);
				return FB_CLI_BAD;
			}
			break;
		case O_GRACE:
			if (fb_parse_duration(a, &cfg->grace_ns) || cfg->grace_ns > 1000000000ull) {
				snprintf(err, errlen, "invalid grace '%s' (0 to 1s)", a);
				return FB_CLI_BAD;
			}
			break;
		case O_KEYS:
			if (strlen(a) >= sizeof(cfg->keys_str)) {
				snprintf(err, errlen, "key list for -k is too long");
				return FB_CLI_BAD;
			}
			snprintf(cfg->keys_str, sizeof(cfg->keys_str), "%s", a);
			break;
		case O_TOP:
			if (fb_parse_uint(a, 0, 1000000, &v)) {
				snprintf(err, errlen, "invalid count '%s' for -n (0 to 1000000)", a);
				return FB_CLI_BAD;
			}
			cfg->top = (uint32_t)v;
			cfg->top_set = true;
			break;
		case O_COUNT:
			if (fb_parse_uint(a, 1, UINT64_MAX, &v)) {
				snprintf(err, errlen, "invalid batch count '%s' for -c (a positive integer)", a);
				return FB_CLI_BAD;
			}
			cfg->count = v;
			break;
		case O_RING:
			if (fb_parse_size(a, &v) || v < MIN_RING || v > MAX_RING || (v & (v - 1))) {
				snprintf(err, errlen,
					 "invalid ring size '%s' for --ring-size (a power of two from 4k to 1G)", a);
				return FB_CLI_BAD;
			}
			cfg->ring_size = v;
			break;
		case O_RINGMODE:
			if ((k = pick(a, ringm, 2)) < 0)
				goto bad_choice;
			cfg->shared_ring = k == 1;
			break;
		case O_MAXFLOWS:
			if (fb_parse_uint(a, 1, MAX_FLOWS_LIMIT, &v)) {
				snprintf(err, errlen, "invalid flow limit '%s' for --max-flows (1 to %u)", a,
					 MAX_FLOWS_LIMIT);
				return FB_CLI_BAD;
			}
			cfg->max_flows = (uint32_t)v;
			break;
		case O_FORCE:
			cfg->force = true;
			break;
		case O_VERBOSE:
			cfg->verbose++;
			break;
		case O_HELP:
			usage(out);
			return FB_CLI_EXIT_OK;
		case O_VERSION:
			fprintf(out, "flowbatch %s\n", FB_VERSION);
			return FB_CLI_EXIT_OK;
		case ':':
			/* name the option as typed: -t or --interval */
			snprintf(err, errlen, "option '%s' needs a value", argv[optind - 1]);
			return FB_CLI_BAD;
		default:
			if (optopt && optopt < 256)
				snprintf(err, errlen, "unknown option '-%c' (see --help)", optopt);
			else
				snprintf(err, errlen, "unknown option '%s' (see --help)", argv[optind - 1]);
			return FB_CLI_BAD;
		}
		continue;
bad_choice:
		snprintf(err, errlen, "invalid value '%s' for %s", a, opt_label(c, lbl, sizeof(lbl)));
		return FB_CLI_BAD;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
		return FB_CLI_BAD;
	}
	if (fb_keyspec_parse(cfg->keys_str, &cfg->keys, err, errlen))
		return FB_CLI_BAD;
	if (cfg->hook == FB_HOOK_XDP && cfg->dir == FB_DIR_OUT) {
		snprintf(err, errlen, "--hook xdp sees received packets only; use --hook tc for --direction out");
		return FB_CLI_BAD;
	}
	if (cfg->grace_ns >= cfg->interval_ns) {
		snprintf(err, errlen, "--grace must be shorter than the interval");
		return FB_CLI_BAD;
	}
	return FB_CLI_RUN;
}

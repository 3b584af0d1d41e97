/* Command line: one typed table of options gives parsing, validation,
 * defaults and --help (cli.c). Parsing fills a struct fb_config and never
 * exits or prints by itself, except --help/--version on the given stream. */
#ifndef FB_CLI_H
#define FB_CLI_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "agg.h"
#include "capture.h"
#include "out.h"

#define FB_MAX_WRITES 8 /* -w outputs */

struct fb_config {
	struct fb_capture_opts cap; /* -i, --hook, --direction, rings, attach modes */
	uint64_t interval_ns;
	uint64_t grace_ns;
	char keys_str[256];
	struct fb_keyspec keys;
	uint32_t top; /* 0 = all */
	bool top_set;
	uint32_t table_rows; /* rows the table shows of a view with more (resolved) */
	enum fb_format output; /* -o: the stdout format */
	uint64_t count; /* 0 = unlimited */
	uint64_t duration_ns; /* 0 = unlimited */
	uint32_t max_flows;
	int verbose;
	/* file outputs */
	const char *writes[FB_MAX_WRITES]; /* -w PATH (pointers into argv) */
	int n_writes;
	uint64_t rotate_secs; /* -G */
	uint64_t rotate_bytes; /* -C */
	uint32_t keep_files; /* -W */
	/* prometheus, ipfix */
	char prom_addr[128];
	char prom_keys[256];
	uint32_t prom_max_series;
	char ipfix_addr[128];
	uint32_t ipfix_domain;
	/* kernel events */
	char events_str[128];
	uint32_t events; /* enum fb_event_bit */

	/* derived by fb_cli_parse: every output to open, stdout first */
	struct fb_out_opts outs[FB_MAX_WRITES + 3];
	int n_outs;
};

enum fb_cli_result { FB_CLI_RUN = 0, FB_CLI_EXIT_OK = 1, FB_CLI_BAD = -1 };

/* Fills cfg from argv. FB_CLI_EXIT_OK after --help/--version (printed to
 * out); FB_CLI_BAD with a one-line reason in err. cfg keeps pointers into
 * argv. */
enum fb_cli_result fb_cli_parse(int argc, char **argv, struct fb_config *cfg, FILE *out,
				char *err, size_t errlen);

/* Settles what depends on the machine: the stdout format when -o was not
 * given (table on a terminal, else jsonl), -n's default (20 for a table,
 * all otherwise), and the default route's interface when neither -i nor
 * --events was given. 0, or -ENOENT when there is no default route. */
int fb_config_resolve(struct fb_config *cfg, bool stdout_is_tty);

/* "250ms", "1s", "2m", "1h", "500us"; bare numbers are seconds. */
int fb_parse_duration(const char *s, uint64_t *ns);
/* "4096", "64k", "16M", "1G" (binary multiples). */
int fb_parse_size(const char *s, uint64_t *bytes);
/* decimal, no sign, no junk, within [min, max] */
int fb_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *v);

#endif

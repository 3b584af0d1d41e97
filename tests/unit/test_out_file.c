/* The file output (out_file.c): name expansion, numbered names and -G
 * periods; then the output itself in a temporary directory: -G aligned
 * rotation, -C, -W keeping only its own newest files, gzip members (one per
 * batch), CSV headers per file, SIGHUP after a move, write errors, and the
 * errors at start. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include "agg.h"
#include "flows.h"
#include "out.h"
#include "out_file.h"
#include "helpers.h"

extern const struct fb_output_ops fb_out_file;

#define T0 1700000000ll /* 2023-11-14 22:13:20 UTC: 20 s into a minute */

static void utc(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
}

Test(out_file_names, expand)
{
	char out[64];

	utc();
	cr_assert_eq(fb_file_expand("d/flows-%Y%m%d-%H%M%S.jsonl.gz", T0 * 1000000000 + 999999999, out,
				    sizeof(out)), 0);
	cr_assert_str_eq(out, "d/flows-20231114-221320.jsonl.gz");
	cr_assert_eq(fb_file_expand("plain.csv", 0, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "plain.csv");
	cr_assert_eq(fb_file_expand("%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y.jsonl", 0, out, sizeof(out)),
		     -ENAMETOOLONG);
	cr_assert_eq(fb_file_expand("%p", 0, out, sizeof(out)), 0); /* "AM" */
	cr_assert_eq(fb_file_expand("", 0, out, sizeof(out)), -ENAMETOOLONG);
	/* the local time zone */
	setenv("TZ", "IST-5:30", 1);
	tzset();
	cr_assert_eq(fb_file_expand("%H%M", T0 * 1000000000, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "0343");
	utc();
}

Test(out_file_names, numbered)
{
	char out[64];

	cr_assert_eq(fb_file_numbered("d/flows.jsonl.gz", 2, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "d/flows.2.jsonl.gz");
	cr_assert_eq(fb_file_numbered("a.b/flows.csv", 1, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "a.b/flows.1.csv");
	cr_assert_eq(fb_file_numbered("a.b/flows", 3, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "a.b/flows.3");
	cr_assert_eq(fb_file_numbered("x.gz", 1, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "x.gz.1"); /* ".gz" is all there is: no name before it */
	cr_assert_eq(fb_file_numbered("d/flows.jsonl", 12, out, 16), -ENAMETOOLONG);
}

/* -G: periods of the wall clock, whatever the batch windows */
Test(out_file_names, period_aligned)
{
	int64_t s = 1000000000;

	utc();
	/* T0 is 20 s into a minute: the minute turns 40 s later */
	cr_assert_eq(fb_file_period(T0 * s, 60), fb_file_period((T0 + 39) * s + 999999999, 60));
	cr_assert_eq(fb_file_period((T0 + 40) * s, 60), fb_file_period(T0 * s, 60) + 1);
	cr_assert_eq(fb_file_period((T0 + 40) * s, 60), (T0 + 40) / 60);
	/* -G 86400 turns at local midnight: 18:30 UTC in India */
	setenv("TZ", "IST-5:30", 1);
	tzset();
	cr_assert_eq(fb_file_period((T0 - 22 * 3600 - 13 * 60 - 20 + 18 * 3600 + 1800) * s - 1, 86400) + 1,
		     fb_file_period((T0 - 22 * 3600 - 13 * 60 - 20 + 18 * 3600 + 1800) * s, 86400));
	utc();
}

/* --- the output ------------------------------------------------------- */

static char dir[64];
static struct fb_flow row;
static const struct fb_flow *top[1] = { &row };
static struct fb_flows_view fv;
static struct fb_batch_stats st;
static struct fb_batch_view v;
static const struct fb_output_ops *ops;
static char *gc[64]; /* strings the checks returned, freed at teardown */
static int ngc;

static char *keep(char *p)
{
	if (ngc < 64)
		gc[ngc++] = p;
	return p;
}

static const char *ifname_cb(void *ctx, uint32_t ifindex)
{
	return "eth0";
}

static void setup(void)
{
	static struct fb_flow none;

	utc();
	strcpy(dir, "/tmp/fbof.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	ops = &fb_out_file;
	memset(&row, 0, sizeof(row));
	row.packets = 1;
	row.bytes = 60;
	row.key.proto = 17;
	fv.top = top;
	fv.ntop = 1;
	fv.rest = &none;
	fv.overflow_row = &none;
	fv.packets = 1;
	fv.bytes = 60;
	fv.flows = 1;
	v.st = &st;
	v.fam[FB_REC_PKT] = &fv;
}

static void teardown(void)
{
	char cmd[128];

	while (ngc)
		free(gc[--ngc]);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

/* opens -w DIR/name: mono 0 is wall T0 */
static void *open_file(const char *name, uint64_t G, uint64_t C, uint32_t W)
{
	struct fb_out_ctx ctx = { .key_fields = FB_K_PROTO, .mono_to_epoch_ns = T0 * 1000000000,
				  .ifname = ifname_cb };
	char path[160];
	struct fb_out_opts o = { .kind = "file", .target = path, .rotate_secs = G, .rotate_bytes = C,
				 .keep_files = W };

	ctx.fams[FB_REC_PKT] = &fb_flows_ops;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return ops->open(&o, &ctx);
}

/* waits (bounded) until n batches were written or dropped */
static void settle(void *s, uint64_t n)
{
	struct fb_out_report r;
	int i;

	for (i = 0; i < 5000; i++) {
		memset(&r, 0, sizeof(r));
		ops->report(s, &r);
		if (r.batches + r.dropped >= n)
			return;
		usleep(1000);
	}
	cr_assert_fail("file output did not write %llu batches", (unsigned long long)n);
}

/* batch n, window [start_s, start_s + len_s) after T0 */
static void put(void *s, uint64_t n, uint64_t start_s, uint64_t len_s)
{
	st.number = n;
	st.start_ns = start_s * SEC;
	st.end_ns = (start_s + len_s) * SEC;
	st.led[FB_REC_PKT].seen = st.led[FB_REC_PKT].records = 1;
	cr_assert_eq(ops->write(s, &v), 0);
	/* one at a time: faster, the queue's bound would drop some */
	settle(s, n);
}

static char *slurp(const char *name)
{
	char path[160], *b = NULL;
	size_t n = 0;
	FILE *f, *m = open_memstream(&b, &n);
	int c;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s missing", path);
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(f);
	fclose(m);
	return keep(b);
}

/* "1,2" : the batch numbers of a JSON Lines file's batch rows; it must
 * begin with a row of its first batch and end with a batch row */
static char *batches_of(const char *name)
{
	char *b = slurp(name), *out = keep(calloc(1, 256)), *p = b, *last = NULL;

	while ((p = strstr(p, "{\"type\":\"batch\",\"batch\":"))) {
		p += strlen("{\"type\":\"batch\",\"batch\":");
		sprintf(out + strlen(out), "%s%ld", *out ? "," : "", strtol(p, NULL, 10));
		last = p;
	}
	cr_assert_not_null(last, "%s has no batch row", name);
	cr_assert(strchr(last, '\n') && strchr(last, '\n')[1] == '\0', "%s does not end on a batch row", name);
	cr_assert(!strncmp(b, "{\"type\":\"flow\",\"batch\":", 23), "%s does not begin with a flow row", name);
	return out;
}

static int nfiles(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

TestSuite(out_file, .init = setup, .fini = teardown, .timeout = 30);

/* -G 60: a file per wall-clock minute, turning with the first window that
 * starts in a new minute; named by its first window */
Test(out_file, rotate_aligned)
{
	void *s = open_file("f-%H%M%S.jsonl", 60, 0, 0);
	uint64_t i;

	cr_assert_not_null(s);
	/* windows of 20 s from T0 (22:13:20): :20 :40 | :00 :20 :40 | :00 :20 */
	for (i = 0; i < 7; i++)
		put(s, i + 1, 20 * i, 20);
	settle(s, 7);
	ops->close(s);
	cr_assert_eq(nfiles(), 3);
	cr_assert_str_eq(batches_of("f-221320.jsonl"), "1,2");
	cr_assert_str_eq(batches_of("f-221400.jsonl"), "3,4,5");
	cr_assert_str_eq(batches_of("f-221500.jsonl"), "6,7");
}

/* -C: a new file after the batch that takes it past SIZE; a name that is
 * taken (here by an earlier run's file) gets a number, and that file is
 * left alone */
Test(out_file, rotate_size_numbered)
{
	char path[160];
	void *s;
	int fd;

	snprintf(path, sizeof(path), "%s/c.jsonl", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	cr_assert_eq(write(fd, "old\n", 4), 4);
	close(fd);
	/* a batch here is ~360 bytes: past 500 after the second */
	s = open_file("c.jsonl", 0, 500, 0);
	cr_assert_not_null(s);
	put(s, 1, 0, 1);
	put(s, 2, 1, 1);
	put(s, 3, 2, 1);
	put(s, 4, 3, 1);
	put(s, 5, 4, 1);
	settle(s, 5);
	ops->close(s);
	cr_assert_str_eq(slurp("c.jsonl"), "old\n");
	cr_assert_str_eq(batches_of("c.1.jsonl"), "1,2");
	cr_assert_str_eq(batches_of("c.2.jsonl"), "3,4");
	cr_assert_str_eq(batches_of("c.3.jsonl"), "5");
	cr_assert_eq(nfiles(), 4);
}

/* -W 2: only this run's two newest files stay; others' files are kept */
Test(out_file, keep_newest_own)
{
	char path[160];
	void *s;
	uint64_t i;

	snprintf(path, sizeof(path), "%s/w-foreign.jsonl", dir);
	close(open(path, O_WRONLY | O_CREAT, 0644));
	s = open_file("w-%H%M%S.jsonl", 0, 1, 2); /* -C 1: a file per batch */
	cr_assert_not_null(s);
	for (i = 0; i < 5; i++)
		put(s, i + 1, i, 1);
	settle(s, 5);
	ops->close(s);
	cr_assert_eq(nfiles(), 3);
	cr_assert_str_eq(batches_of("w-221324.jsonl"), "5");
	cr_assert_str_eq(batches_of("w-221323.jsonl"), "4");
	cr_assert_eq(access(path, F_OK), 0);
}

/* zlib: one complete gzip member per batch, the first at offset 0 */
static int gz_members(const char *name, char *out, size_t outlen)
{
	char *b, path[160];
	unsigned char in[65536];
	size_t n, used = 0;
	z_stream z;
	int members = 0, zr = Z_OK;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	n = fread(in, 1, sizeof(in), f);
	fclose(f);
	cr_assert(n > 2 && in[0] == 0x1f && in[1] == 0x8b);
	memset(&z, 0, sizeof(z));
	cr_assert_eq(inflateInit2(&z, 31), Z_OK);
	z.next_in = in;
	z.avail_in = (uInt)n;
	b = out;
	while (z.avail_in) {
		z.next_out = (unsigned char *)b + used;
		z.avail_out = (uInt)(outlen - 1 - used);
		zr = inflate(&z, Z_NO_FLUSH);
		used = (size_t)((char *)z.next_out - b);
		if (zr == Z_STREAM_END) {
			members++;
			/* a member ends exactly after a batch row */
			cr_assert(used > 1 && b[used - 1] == '\n');
			cr_assert(strstr(b, "{\"type\":\"batch\"") != NULL);
			inflateReset(&z);
		} else {
			cr_assert_eq(zr, Z_OK);
		}
	}
	cr_assert_eq(zr, Z_STREAM_END, "the file ends inside a member");
	inflateEnd(&z);
	out[used] = '\0';
	return members;
}

Test(out_file, gzip_member_per_batch)
{
	static char text[65536];
	void *s = open_file("g.jsonl.gz", 0, 0, 0);
	char *p;
	int rows = 0;

	cr_assert_not_null(s);
	put(s, 1, 0, 1);
	put(s, 2, 1, 1);
	put(s, 3, 2, 1);
	settle(s, 3);
	ops->close(s);
	cr_assert_eq(gz_members("g.jsonl.gz", text, sizeof(text)), 3);
	for (p = text; (p = strchr(p, '\n')); p++)
		rows++;
	cr_assert_eq(rows, 6);
}

/* CSV: the header line opens every file, and only there */
Test(out_file, csv_header_per_file)
{
	void *s = open_file("c-%H%M%S.csv", 0, 1, 0);
	char *a, *b;

	cr_assert_not_null(s);
	put(s, 1, 0, 1);
	put(s, 2, 1, 1);
	settle(s, 2);
	ops->close(s);
	a = slurp("c-221320.csv");
	b = slurp("c-221321.csv");
	cr_assert(!strncmp(a, "type,batch,start_ms,end_ms,proto,", 33), "%s", a);
	cr_assert(!strncmp(b, "type,batch,start_ms,end_ms,proto,", 33), "%s", b);
	cr_assert_eq(count_lines(a), 3);
	cr_assert(strstr(a, "\nbatch,1,") && !strstr(a, "\nbatch,2,"));
	cr_assert(strstr(b, "\nbatch,2,"));
}

/* SIGHUP after logrotate moved the file: the moved file keeps what it had,
 * the path starts again (with its header), nothing lost or doubled */
Test(out_file, reopen_after_move)
{
	void *s = open_file("r.csv", 0, 0, 0);
	char from[160], to[160], *a, *b;

	cr_assert_not_null(s);
	put(s, 1, 0, 1);
	settle(s, 1);
	snprintf(from, sizeof(from), "%s/r.csv", dir);
	snprintf(to, sizeof(to), "%s/r.csv.1", dir);
	cr_assert_eq(rename(from, to), 0);
	cr_assert_eq(ops->reopen(s), 0);
	put(s, 2, 1, 1);
	put(s, 3, 2, 1);
	settle(s, 3);
	/* not moved: the same file goes on */
	cr_assert_eq(ops->reopen(s), 0);
	put(s, 4, 3, 1);
	settle(s, 4);
	ops->close(s);
	a = slurp("r.csv.1");
	b = slurp("r.csv");
	cr_assert_eq(count_lines(a), 3);
	cr_assert(strstr(a, "\nbatch,1,"));
	cr_assert_eq(count_lines(b), 7, "%s", b);
	cr_assert(!strncmp(b, "type,", 5));
	cr_assert(strstr(b, "\nbatch,2,") && strstr(b, "\nbatch,3,") && strstr(b, "\nbatch,4,"));
	cr_assert_null(strstr(b + 5, "type,"), "one header");
	cr_assert_eq(nfiles(), 2);
}

/* a device that is full: every batch dropped whole and counted */
Test(out_file, write_error_counted, .init = cr_redirect_stderr)
{
	char path[160];
	struct fb_out_report r = { 0 };
	void *s;

	setup();
	snprintf(path, sizeof(path), "%s/full.jsonl", dir);
	cr_assert_eq(symlink("/dev/full", path), 0);
	s = open_file("full.jsonl", 0, 0, 0);
	cr_assert_not_null(s);
	put(s, 1, 0, 1);
	put(s, 2, 1, 1);
	settle(s, 2);
	ops->report(s, &r);
	cr_assert_eq(r.batches, 0);
	cr_assert_eq(r.dropped, 2);
	cr_assert_eq(r.errors, 2);
	ops->close(s);
	teardown();
}

/* at start: one line and errno for a missing directory, a directory as
 * the path, an unknown extension */
Test(out_file, open_errors, .init = cr_redirect_stderr)
{
	char sub[160];

	setup();
	errno = 0;
	cr_assert_null(open_file("nodir/x.jsonl", 0, 0, 0));
	cr_assert_eq(errno, ENOENT);
	snprintf(sub, sizeof(sub), "%s/d.jsonl", dir);
	cr_assert_eq(mkdir(sub, 0755), 0);
	cr_assert_null(open_file("d.jsonl", 0, 0, 0));
	cr_assert_eq(errno, EISDIR);
	cr_assert_null(open_file("x.txt", 0, 0, 0));
	cr_assert_eq(errno, EINVAL);
	fflush(stderr);
	{
		char err[1024] = "";
		FILE *e = cr_get_redirected_stderr();
		int lines;

		cr_assert_gt(fread(err, 1, sizeof(err) - 1, e), 0);
		lines = count_lines(err);
		cr_assert_eq(lines, 3, "%s", err);
		cr_assert(strstr(err, "flowbatch: output /tmp/fbof.") && strstr(err, "nodir/x.jsonl: no directory /tmp/fbof."),
			  "%s", err);
		cr_assert(strstr(err, "is a directory"), "%s", err);
		cr_assert(strstr(err, "unknown file type"), "%s", err);
	}
	teardown();
}

/* The file output (-w PATH): batches in the format of PATH's extension
 * (.jsonl, .csv, + .gz), with strftime names, rotation on batch boundaries
 * (-G on the wall clock, -C by size), at most -W files kept and reopen on
 * SIGHUP. Formatting runs on the main thread; naming, opening, compressing
 * and writing on the output's writer thread (writer.h), so a slow or full
 * disk never stalls capture.
 *
 * A file holds whole batches only. A new file (the first, after a
 * rotation, after a failed write) is always one this run creates: if its
 * name is taken, ".1", ".2", ... go before the extension; nothing is ever
 * appended to a file flowbatch did not create, except the current path it
 * reopens on SIGHUP. With gzip each batch is one complete gzip member,
 * written with its first byte zero and that byte set last, so a reader of
 * the live file (zcat) sees the new member whole or not at all. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include "format.h"
#include "log.h"
#include "out.h"
#include "out_file.h"
#include "writer.h"

struct kept {
	char *path;
	dev_t dev;
	ino_t ino;
};

struct out_file {
	/* main thread */
	const struct fb_format_ops *fmt;
	void *fs;
	struct fb_writer *w;
	int64_t to_epoch;

	/* fixed at open */
	char *pattern;
	char *header; /* written at the top of each file (CSV's column names) */
	size_t header_len;
	bool gzip;
	uint64_t rotate_secs, rotate_bytes;
	uint32_t keep;

	/* the writer thread's */
	int fd; /* -1: no file open */
	bool seekable; /* a regular file: written at offsets, truncated back on errors */
	char path[PATH_MAX];
	uint64_t size;
	int64_t period; /* -G period of the current file */
	bool rotate_next; /* -C reached */
	z_stream z;
	bool z_ok;
	unsigned char *zbuf;
	size_t zcap;
	char *pay; /* header + batch, when there is a header to add */
	size_t paycap;
	struct kept *files; /* files this run created (with -W), oldest first */
	uint32_t nfiles;
};

int fb_file_expand(const char *pattern, int64_t t_ns, char *out, size_t len)
{
	time_t t = (time_t)(t_ns / 1000000000);
	struct tm tm;
	size_t n;

	if (!strchr(pattern, '%')) {
		if (strlen(pattern) >= len || !*pattern)
			return -ENAMETOOLONG;
		strcpy(out, pattern);
		return 0;
	}
	localtime_r(&t, &tm);
	n = strftime(out, len, pattern, &tm);
	return n ? 0 : -ENAMETOOLONG;
}

/* where ".N" goes: before ".jsonl"/".csv" (and ".gz"), or at the end */
static size_t ext_at(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n = strlen(path), end = n;
	const char *dot;

	base = base ? base + 1 : path;
	if (end - (size_t)(base - path) > 3 && !strcmp(path + end - 3, ".gz"))
		end -= 3;
	for (dot = path + end; dot > base && dot[-1] != '.'; dot--)
		;
	/* no extension, or a dot file's name */
	if (dot <= base + 1)
		return n;
	return (size_t)(dot - path) - 1;
}

int fb_file_numbered(const char *path, unsigned n, char *out, size_t len)
{
	size_t at = ext_at(path);
	int w = snprintf(out, len, "%.*s.%u%s", (int)at, path, n, path + at);

	return w < 0 || (size_t)w >= len ? -ENAMETOOLONG : 0;
}

int64_t fb_file_period(int64_t t_ns, uint64_t secs)
{
	time_t t = (time_t)(t_ns / 1000000000);
	struct tm tm;
	int64_t local;

	localtime_r(&t, &tm);
	local = (int64_t)t + tm.tm_gmtoff;
	/* floor, also before the epoch */
	return local >= 0 ? local / (int64_t)secs : -((-local + (int64_t)secs - 1) / (int64_t)secs);
}

/* --- the writer thread ------------------------------------------------ */

/* A message from the writer thread: one line, not interleaved with the
 * main thread's (fb_log writes its prefix and text in two calls). */
#define say(level, ...)                      \
	do {                                 \
		flockfile(stderr);           \
		fb_log(level, __VA_ARGS__);  \
		funlockfile(stderr);         \
	} while (0)

static void file_close(struct out_file *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/* -W: forget and remove the oldest files this run created beyond keep;
 * one that is no longer ours (moved by logrotate, replaced) stays. */
static void prune(struct out_file *s)
{
	struct stat st;

	while (s->keep && s->nfiles > s->keep) {
		struct kept *k = &s->files[0];

		if (!stat(k->path, &st) && st.st_dev == k->dev && st.st_ino == k->ino) {
			if (unlink(k->path))
				say(FB_LOG_WARN, "output %s: cannot remove %s: %s\n", s->pattern, k->path,
				    strerror(errno));
			else
				say(FB_LOG_DEBUG, "output %s: removed %s (-W %u)\n", s->pattern, k->path, s->keep);
		}
		free(k->path);
		memmove(&s->files[0], &s->files[1], (s->nfiles - 1) * sizeof(*s->files));
		s->nfiles--;
	}
}

static void remember(struct out_file *s, const struct stat *st)
{
	struct kept *k;

	if (!s->keep)
		return;
	k = realloc(s->files, (s->nfiles + 1) * sizeof(*k));
	if (!k)
		return; /* not kept track of: never removed */
	s->files = k;
	k = &s->files[s->nfiles];
	k->path = strdup(s->path);
	if (!k->path)
		return;
	k->dev = st->st_dev;
	k->ino = st->st_ino;
	s->nfiles++;
	prune(s);
}

static void forget_last(struct out_file *s)
{
	if (s->nfiles && !strcmp(s->files[s->nfiles - 1].path, s->path)) {
		s->nfiles--;
		free(s->files[s->nfiles].path);
	}
}

/* A new file for a batch whose window starts at t_ns. */
static int file_new(struct out_file *s, int64_t t_ns, char *why, size_t whylen)
{
	char name[PATH_MAX];
	struct stat st;
	unsigned n;
	int fd = -EEXIST, err;

	err = fb_file_expand(s->pattern, t_ns, name, sizeof(name));
	if (err) {
		snprintf(why, whylen, "cannot expand the file name: %s", strerror(-err));
		return err;
	}
	for (n = 0; n < 100000; n++) {
		if (n && (err = fb_file_numbered(name, n, s->path, sizeof(s->path)))) {
			snprintf(why, whylen, "cannot name a new file after %s", name);
			return err;
		}
		if (!n)
			strcpy(s->path, name);
		/* a FIFO or a device is written as it is, never renamed */
		if (!stat(s->path, &st) && !S_ISREG(st.st_mode)) {
			fd = fb_writer_io_open(s->path, O_WRONLY | O_CLOEXEC, 0);
			s->seekable = false;
			break;
		}
		fd = fb_writer_io_open(s->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		s->seekable = true;
		if (fd != -EEXIST)
			break;
	}
	if (fd < 0) {
		snprintf(why, whylen, "cannot create %s: %s", s->path, strerror(-fd));
		return fd;
	}
	s->fd = fd;
	s->size = 0;
	s->rotate_next = false;
	if (s->rotate_secs)
		s->period = fb_file_period(t_ns, s->rotate_secs);
	if (s->seekable && !fstat(fd, &st))
		remember(s, &st);
	say(FB_LOG_DEBUG, "output %s: writing %s\n", s->pattern, s->path);
	return 0;
}

static bool need_new(const struct out_file *s, int64_t t_ns)
{
	if (s->fd < 0 || s->rotate_next)
		return true;
	return s->rotate_secs && fb_file_period(t_ns, s->rotate_secs) != s->period;
}

/* Compresses len bytes into one complete gzip member in zbuf; its size or
 * -errno. */
static ssize_t deflate_member(struct out_file *s, const char *p, size_t len)
{
	size_t bound;
	int zr;

	if (deflateReset(&s->z) != Z_OK)
		return -EINVAL;
	bound = deflateBound(&s->z, len) + 64;
	if (bound > s->zcap) {
		unsigned char *b = realloc(s->zbuf, bound);

		if (!b)
			return -ENOMEM;
		s->zbuf = b;
		s->zcap = bound;
	}
	s->z.next_out = s->zbuf;
	s->z.avail_out = (uInt)(s->zcap < UINT_MAX ? s->zcap : UINT_MAX);
	s->z.next_in = (unsigned char *)p;
	do {
		size_t chunk = len < (1u << 30) ? len : (1u << 30);

		s->z.avail_in = (uInt)chunk;
		len -= chunk;
		zr = deflate(&s->z, len ? Z_NO_FLUSH : Z_FINISH);
	} while (len && zr == Z_OK);
	if (zr != Z_STREAM_END)
		return -EIO;
	return (ssize_t)s->z.total_out;
}

/* Appends p to the current file as one piece. A gzip member goes out with
 * its first byte zero (no reader takes it for a member yet), then that
 * byte: the member appears whole, at once. */
static int append(struct out_file *s, const char *p, size_t len)
{
	unsigned char magic;
	int err;

	if (!len)
		return 0;
	if (!s->seekable)
		return fb_writer_io_write(s->fd, p, len);
	if (!s->gzip)
		return fb_writer_io_pwrite(s->fd, p, len, (off_t)s->size);
	/* p is our own zbuf */
	magic = s->zbuf[0];
	s->zbuf[0] = 0;
	err = fb_writer_io_pwrite(s->fd, s->zbuf, len, (off_t)s->size);
	if (!err)
		err = fb_writer_io_pwrite(s->fd, &magic, 1, (off_t)s->size);
	return err;
}

static int file_write(void *ctx, const struct fb_wbatch *b, char *why, size_t whylen)
{
	struct out_file *s = ctx;
	const char *p = b->data;
	size_t len = b->len;
	ssize_t zlen;
	int err;

	if (need_new(s, b->start_ns)) {
		file_close(s);
		err = file_new(s, b->start_ns, why, whylen);
		if (err)
			return err;
	}
	/* a file's first batch carries the header */
	if (!s->size && s->header_len) {
		if (s->paycap < s->header_len + len) {
			char *np = realloc(s->pay, s->header_len + len);

			if (!np) {
				snprintf(why, whylen, "out of memory");
				return -ENOMEM;
			}
			s->pay = np;
			s->paycap = s->header_len + len;
		}
		memcpy(s->pay, s->header, s->header_len);
		if (len)
			memcpy(s->pay + s->header_len, b->data, len);
		p = s->pay;
		len += s->header_len;
	}
	if (s->gzip) {
		zlen = deflate_member(s, p, len);
		if (zlen < 0) {
			snprintf(why, whylen, "cannot compress a batch: %s", strerror((int)-zlen));
			return (int)zlen;
		}
		p = (const char *)s->zbuf;
		len = (size_t)zlen;
	}
	err = append(s, p, len);
	if (err) {
		/* nothing of this batch may stay: cut the file back to its last
		 * whole batch and go on with a new file when writing works again */
		snprintf(why, whylen, "cannot write %s: %s", s->path, strerror(-err));
		if (s->seekable && ftruncate(s->fd, (off_t)s->size))
			say(FB_LOG_WARN, "output %s: cannot cut %s back to its last whole batch: %s\n",
			    s->pattern, s->path, strerror(errno));
		if (s->seekable && !s->size) {
			/* an empty file is no use to anyone */
			unlink(s->path);
			forget_last(s);
		}
		file_close(s);
		/* EPIPE is the stdout output's way to end the run, not a file's */
		return err == -EPIPE ? -EIO : err;
	}
	s->size += len;
	if (s->rotate_bytes && s->size > s->rotate_bytes)
		s->rotate_next = true;
	return 0;
}

/* SIGHUP: the current path again (logrotate moved the file away: a new
 * one; it did not: the same, appended to). */
static void file_reopen(void *ctx)
{
	struct out_file *s = ctx;
	struct stat st;
	int fd;

	if (s->fd < 0)
		return; /* the next batch opens a file anyway */
	file_close(s);
	if (!s->seekable) {
		fd = fb_writer_io_open(s->path, O_WRONLY | O_CLOEXEC, 0);
	} else {
		fd = fb_writer_io_open(s->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	}
	if (fd < 0) {
		say(FB_LOG_ERR, "output %s: cannot reopen %s: %s\n", s->pattern, s->path, strerror(-fd));
		return; /* the next batch tries a new file */
	}
	s->fd = fd;
	if (!s->seekable || fstat(fd, &st))
		return;
	s->size = (uint64_t)st.st_size;
	/* the file at this path is the one -W counts now; the moved one is
	 * logrotate's */
	if (s->nfiles && !strcmp(s->files[s->nfiles - 1].path, s->path)) {
		s->files[s->nfiles - 1].dev = st.st_dev;
		s->files[s->nfiles - 1].ino = st.st_ino;
	}
	if (s->rotate_bytes && s->size > s->rotate_bytes)
		s->rotate_next = true;
	say(FB_LOG_DEBUG, "output %s: reopened %s\n", s->pattern, s->path);
}

/* --- the output --------------------------------------------------------- */

static void file_free(struct out_file *s)
{
	uint32_t i;

	file_close(s);
	if (s->z_ok)
		deflateEnd(&s->z);
	if (s->fs)
		s->fmt->free(s->fs);
	for (i = 0; i < s->nfiles; i++)
		free(s->files[i].path);
	free(s->files);
	free(s->zbuf);
	free(s->pay);
	free(s->header);
	free(s->pattern);
	free(s);
}

/* At start: the directory of the first file must exist and be writable,
 * and the path must not be a directory. */
static int check_path(const char *pattern, char *why, size_t whylen)
{
	char path[PATH_MAX], dir[PATH_MAX];
	struct timespec now;
	struct stat st;
	char *slash;
	int err;

	clock_gettime(CLOCK_REALTIME, &now);
	err = fb_file_expand(pattern, (int64_t)now.tv_sec * 1000000000, path, sizeof(path));
	if (err) {
		snprintf(why, whylen, "the file name is too long or expands to nothing");
		return err;
	}
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (stat(dir, &st)) {
		err = -errno;
		if (err == -ENOENT)
			snprintf(why, whylen, "no directory %s (flowbatch does not create it)", dir);
		else
			snprintf(why, whylen, "directory %s: %s", dir, strerror(errno));
		return err;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, whylen, "%s is not a directory", dir);
		return -ENOTDIR;
	}
	if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS)) {
		err = -errno;
		snprintf(why, whylen, "cannot create files in %s: %s", dir, strerror(errno));
		return err;
	}
	if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		snprintf(why, whylen, "%s is a directory", path);
		return -EISDIR;
	}
	return 0;
}

static void *out_file_open(const struct fb_out_opts *o, const struct fb_out_ctx *ctx)
{
	struct fb_writer_opts wo = { .write = file_write, .reopen = file_reopen };
	struct out_file *s;
	char why[PATH_MAX + 128];
	bool gz = false;
	int err = -EINVAL;

	if (!o->target || !*o->target) {
		fb_err("output file: no path\n");
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->fd = -1;
	s->to_epoch = ctx->mono_to_epoch_ns;
	s->fmt = fb_format_for_path(o->target, &gz);
	if (!s->fmt || !s->fmt->ext) {
		fb_err("output %s: unknown file type (use .jsonl or .csv, with .gz for gzip)\n", o->target);
		goto err_free;
	}
	s->gzip = gz || o->gzip;
	s->rotate_secs = o->rotate_secs;
	s->rotate_bytes = o->rotate_bytes;
	s->keep = o->keep_files;
	s->pattern = strdup(o->target);
	if (!s->pattern) {
		err = -ENOMEM;
		goto err_free;
	}
	tzset(); /* localtime_r on the writer thread uses the zone read here */
	err = check_path(o->target, why, sizeof(why));
	if (err) {
		fb_err("output %s: %s\n", o->target, why);
		goto err_free;
	}
	s->fs = s->fmt->new(ctx);
	if (!s->fs) {
		err = -(errno ? errno : ENOMEM);
		fb_err("output %s: cannot set up its format: %s\n", o->target, strerror(-err));
		goto err_free;
	}
	if (s->fmt->header) {
		FILE *hf = open_memstream(&s->header, &s->header_len);

		if (!hf || s->fmt->header(s->fs, hf) || fclose(hf)) {
			err = -ENOMEM;
			fb_err("output %s: cannot set up its format: %s\n", o->target, strerror(-err));
			goto err_free;
		}
	}
	if (s->gzip) {
		/* windowBits 15 + 16: a gzip wrapper around each member. Level 1:
		 * measured (b_outfile) at 100K flows, it takes 0.45x the CPU of
		 * level 6 for files 1.4x larger (9x smaller than plain, not 13x) */
		if (deflateInit2(&s->z, Z_BEST_SPEED, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
			err = -ENOMEM;
			fb_err("output %s: cannot set up gzip\n", o->target);
			goto err_free;
		}
		s->z_ok = true;
	}
	wo.name = s->pattern;
	wo.ctx = s;
	/* stuck: no byte written for 2 intervals (at least 2 s) */
	wo.stall_ns = fb_writer_stall_ns(ctx->interval_ns);
	s->w = fb_writer__new(&wo);
	if (!s->w) {
		err = -(errno ? errno : ENOMEM);
		fb_err("output %s: cannot start its writer: %s\n", o->target, strerror(-err));
		goto err_free;
	}
	return s;

err_free:
	file_free(s);
	errno = -err;
	return NULL;
}

static int out_file_write(void *p, const struct fb_batch_view *v)
{
	struct out_file *s = p;
	FILE *f = fb_writer__begin(s->w);

	/* a format error leaves the stream in error: commit drops the batch
	 * whole and counts it */
	s->fmt->batch(s->fs, f, v);
	fb_writer__commit(s->w, v->st->number, (int64_t)v->st->start_ns + s->to_epoch,
			  (int64_t)v->st->end_ns + s->to_epoch);
	/* drops are the output's own business (counted, reported once) */
	return 0;
}

static int out_file_reopen(void *p)
{
	fb_writer__reopen(((struct out_file *)p)->w);
	return 0;
}

static void out_file_report(void *p, struct fb_out_report *r)
{
	struct fb_writer_stats ws;

	fb_writer__stats(((struct out_file *)p)->w, &ws);
	r->batches = ws.written;
	r->dropped = ws.dropped;
	r->errors = ws.failed;
}

static void out_file_close(void *p)
{
	struct out_file *s = p;

	/* a thread stuck in its disk keeps its memory: the process ends */
	if (fb_writer__free(s->w, FB_WRITER_EXIT_WAIT_MS))
		file_free(s);
}

const struct fb_output_ops fb_out_file = {
	.name = "file",
	.open = out_file_open,
	.write = out_file_write,
	.reopen = out_file_reopen,
	.report = out_file_report,
	.close = out_file_close,
};

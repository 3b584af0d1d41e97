/* The file output's naming and rotation rules, apart from its I/O so unit
 * tests can check them (out_file.c has the output itself, "file" in the
 * output registry). */
#ifndef FB_OUT_FILE_H
#define FB_OUT_FILE_H
#include <stddef.h>
#include <stdint.h>

/* PATH with its strftime patterns expanded for time t_ns (Unix epoch ns,
 * local time zone). 0, or -ENAMETOOLONG (also for a pattern that expands
 * to nothing). */
int fb_file_expand(const char *pattern, int64_t t_ns, char *out, size_t len);

/* The n-th (n >= 1) alternative to a name already taken: n before the
 * format's extension, "d/flows.jsonl.gz" -> "d/flows.2.jsonl.gz",
 * "flows" -> "flows.2". 0 or -ENAMETOOLONG. */
int fb_file_numbered(const char *path, unsigned n, char *out, size_t len);

/* -G SECS: the period a batch window starting at t_ns (Unix epoch ns) lies
 * in, counted in SECS from the epoch on the local wall clock (so -G 86400
 * turns at local midnight). A file holds windows of one period. */
int64_t fb_file_period(int64_t t_ns, uint64_t secs);

#endif

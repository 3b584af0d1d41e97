/* The format registry and helpers formats share. */
#include <errno.h>
#include <string.h>
#include "format.h"

extern const struct fb_format_ops fb_format_csv;

/* One line per format. */
static const struct fb_format_ops *const formats[] = {
	&fb_format_table,
	&fb_format_jsonl,
	&fb_format_csv,
};
#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

const struct fb_format_ops *fb_format_find(enum fb_format id)
{
	size_t i;

	for (i = 0; i < NFORMATS; i++)
		if (formats[i]->id == id)
			return formats[i];
	return NULL;
}

const struct fb_format_ops *fb_format_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < NFORMATS; i++)
		if (!strcmp(formats[i]->name, name))
			return formats[i];
	return NULL;
}

const struct fb_format_ops *fb_format_for_path(const char *path, bool *gzip)
{
	const char *base = strrchr(path, '/'), *dot;
	char ext[32];
	size_t i, n;

	base = base ? base + 1 : path;
	n = strlen(base);
	*gzip = n > 3 && !strcmp(base + n - 3, ".gz");
	if (*gzip)
		n -= 3;
	for (dot = base + n; dot > base && dot[-1] != '.'; dot--)
		;
	/* a name before the dot: ".jsonl" alone is a hidden file */
	if (dot <= base + 1 || (size_t)(base + n - dot) >= sizeof(ext))
		return NULL;
	memcpy(ext, dot, (size_t)(base + n - dot));
	ext[base + n - dot] = '\0';
	for (i = 0; i < NFORMATS; i++)
		if (formats[i]->ext && !strcmp(formats[i]->ext, ext))
			return formats[i];
	return NULL;
}

int fb_stream_status(FILE *f)
{
	if (fflush(f) == 0 && !ferror(f))
		return 0;
	return -(errno ? errno : EIO);
}

/* Sink registry and helpers shared by the sinks. */
#include <errno.h>
#include <string.h>
#include "sink.h"

static const struct fb_sink_ops *const all_sinks[] = { &fb_sink_table, &fb_sink_jsonl };

const struct fb_sink_ops *fb_sink_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(all_sinks) / sizeof(all_sinks[0]); i++)
		if (!strcmp(all_sinks[i]->name, name))
			return all_sinks[i];
	return NULL;
}

int fb_sink_stream_status(FILE *f)
{
	if (fflush(f) == 0 && !ferror(f))
		return 0;
	return -(errno ? errno : EIO);
}

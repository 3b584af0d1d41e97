/* --events: family names, and the families main hands to the batcher. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "events.h"
#include "fam_drops.h"
#include "fam_tcp.h"

static const struct {
	const char *name;
	uint32_t bit;
	uint8_t type;
} names[] = {
	{ "tcp", FB_EV_TCP, FB_REC_TCP_STATE }, { "retrans", FB_EV_RETRANS, FB_REC_RETRANS },
	{ "resets", FB_EV_RESETS, FB_REC_RESET }, { "rtt", FB_EV_RTT, FB_REC_RTT },
	{ "drops", FB_EV_DROPS, FB_REC_DROP },
};

#define NNAMES (sizeof(names) / sizeof(names[0]))

uint8_t fb_events__type(uint32_t bit)
{
	size_t i;

	for (i = 0; i < NNAMES; i++)
		if (names[i].bit == bit)
			return names[i].type;
	return 0;
}

const char *fb_events__name(uint32_t bit)
{
	size_t i;

	for (i = 0; i < NNAMES; i++)
		if (names[i].bit == bit)
			return names[i].name;
	return "?";
}

int fb_events__families(const struct fb_events_opts *o, struct fb_family fams[FB_REC_TYPES])
{
	struct fb_evfam_opts eo = { .keys = o->keys, .max_keys = o->max_keys ? o->max_keys : 65536 };
	size_t i;
	int e;

	for (i = 0; i < NNAMES; i++) {
		struct fb_family f;
		uint8_t t = names[i].type;

		if (!(o->mask & names[i].bit))
			continue;
		if (t == FB_REC_DROP) {
			struct fb_drops_opts d = { .ev = eo, .reason_name = o->drop_reason,
						   .reason_ctx = o->drop_reason_ctx };

			f = fb_drops__new(&d);
		} else {
			f = fb_tcpfam__new(t, &eo);
		}
		if (!f.ops) {
			e = errno ? -errno : -ENOMEM;
			goto err_free;
		}
		fams[t] = f;
	}
	return 0;
err_free:
	while (i-- > 0) {
		uint8_t t = names[i].type;

		if ((o->mask & names[i].bit) && fams[t].ops) {
			fams[t].ops->free(fams[t].priv);
			fams[t] = (struct fb_family){ 0 };
		}
	}
	return e;
}

int fb_events_parse(const char *list, uint32_t *mask, char *err, size_t errlen)
{
	char buf[128], *tok, *save = NULL;
	size_t i;

	*mask = 0;
	if (!list || !*list || strlen(list) >= sizeof(buf)) {
		snprintf(err, errlen, "empty or too long event list for --events");
		return -EINVAL;
	}
	strcpy(buf, list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint32_t bit = 0;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(tok, names[i].name))
				bit = names[i].bit;
		if (!bit) {
			snprintf(err, errlen,
				 "unknown event family '%s' for --events (families: tcp retrans resets rtt drops)",
				 tok);
			return -EINVAL;
		}
		*mask |= bit;
	}
	return 0;
}

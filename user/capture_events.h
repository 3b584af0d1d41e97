/* The libbpf side of --events: before load, turns on the tracepoint
 * programs of the families asked for (bpf/events.bpf.h) and tells them what
 * the running kernel's tracepoints pass; after load, attaches them with BPF
 * links (they die with the process, however it ends). Also reads the
 * kernel's own names of drop reasons from its BTF. */
#ifndef FB_CAPTURE_EVENTS_H
#define FB_CAPTURE_EVENTS_H
#include <stdint.h>

struct bpf_object;
struct btf;
struct fb_evcap;

/* Does kernel BTF vm have every tracepoint the families in mask need, with
 * the arguments their programs read? 0, or -EOPNOTSUPP after one line
 * naming the family and the tracepoint. (fb_evcap__open runs it on the
 * running kernel's BTF.) */
int fb_evcap_check_btf(const struct btf *vm, uint32_t mask);

/* Before bpf_object__load: checks that the kernel has every tracepoint the
 * families in mask (enum fb_event_bit) need and turns their programs on;
 * with mask 0 it only makes sure none loads. On failure logs one line
 * naming the family and returns NULL with errno set. */
struct fb_evcap *fb_evcap__open(struct bpf_object *obj, uint32_t mask);
/* After load: attaches the programs; on failure logs one line, leaves
 * nothing attached and returns -errno. */
int fb_evcap__attach(struct fb_evcap *ev);
/* Destroys the links (idempotent). */
void fb_evcap__detach(struct fb_evcap *ev);
void fb_evcap__free(struct fb_evcap *ev);

/* The running kernel's name of a drop reason (enum skb_drop_reason, without
 * its SKB_DROP_REASON_ prefix: "NETFILTER_DROP", "NO_SOCKET"), or NULL. ctx
 * is the struct fb_evcap (fb_reason_name_fn). */
const char *fb_evcap__drop_reason(void *ctx, uint32_t reason);
/* Events the kernel skipped because the program was already running on that
 * CPU (a tracepoint hit inside itself, e.g. a drop while handling a drop):
 * they never reached the program, so no ledger holds them. By family bit. */
uint64_t fb_evcap__missed(const struct fb_evcap *ev, uint32_t bit);
/* Programs attached now. */
int fb_evcap__nlinks(const struct fb_evcap *ev);

#endif

/* --events in libbpf terms: which programs serve which family, the BTF
 * checks that turn a missing tracepoint into one clear line, the read-only
 * settings the programs take from the kernel's BTF, the links, and the drop
 * reason names. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "capture_events.h"
#include "events.h" /* the family bits only */
#include "log.h"

/* Each program, the family that turns it on and its tracepoint. min_args
 * counts the tracepoint's arguments the program reads unconditionally. */
static const struct evprog {
	const char *prog;
	uint32_t bit;
	const char *family; /* as --events names it */
	const char *tp;
	unsigned min_args;
} progs[] = {
	{ "fb_ev_tcp_state", FB_EV_TCP, "tcp", "inet_sock_set_state", 3 },
	{ "fb_ev_retrans", FB_EV_RETRANS, "retrans", "tcp_retransmit_skb", 2 },
	{ "fb_ev_rst_send", FB_EV_RESETS, "resets", "tcp_send_reset", 2 },
	{ "fb_ev_rst_recv", FB_EV_RESETS, "resets", "tcp_receive_reset", 1 },
	{ "fb_ev_rtt", FB_EV_RTT, "rtt", "tcp_probe", 2 },
	{ "fb_ev_drop", FB_EV_DROPS, "drops", "kfree_skb", 3 },
};

#define NPROGS (sizeof(progs) / sizeof(progs[0]))

struct reason_name {
	uint32_t value;
	const char *name;
};

struct fb_evcap {
	struct bpf_object *obj;
	uint32_t mask;
	struct bpf_link *links[NPROGS];
	int prog_fds[NPROGS]; /* -1 when not loaded */
	struct reason_name *reasons; /* sorted by value */
	uint32_t nreasons;
	char *names; /* storage of the reason names */
};

/* The number of arguments the kernel passes to tracepoint tp (the leading
 * void * of btf_trace_<tp> not counted), or -1 when it has no such
 * tracepoint. */
static int tp_nargs(const struct btf *vm, const char *tp)
{
	char name[128];
	const struct btf_type *t;
	int id;

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf__find_by_name_kind(vm, name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return -1;
	t = btf__type_by_id(vm, id);
	t = btf__type_by_id(vm, t->type); /* pointer */
	if (!t || !btf_is_ptr(t))
		return -1;
	t = btf__type_by_id(vm, t->type);
	if (!t || !btf_is_func_proto(t) || btf_vlen(t) < 1)
		return -1;
	return btf_vlen(t) - 1;
}

/* Sets a bool in the object's .rodata by name, before load. */
static int set_rodata_bool(struct bpf_object *obj, const char *var, bool val)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, ".rodata");
	const struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;
	size_t size = 0;
	uint8_t *data;
	int id, i;

	if (!m || !btf)
		return -ENOENT;
	/* libbpf 1.1 returns it const, but before load it is the writable
	 * image the skeletons' ->rodata points at */
	data = (uint8_t *)(uintptr_t)bpf_map__initial_value(m, &size);
	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (!data || id < 0)
		return -ENOENT;
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	for (i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *v = btf__type_by_id(btf, vs->type);

		if (strcmp(btf__name_by_offset(btf, v->name_off), var))
			continue;
		if (vs->offset + 1 > size)
			return -ERANGE;
		data[vs->offset] = val;
		return 0;
	}
	return -ENOENT;
}

static int cmp_reason(const void *a, const void *b)
{
	const struct reason_name *x = a, *y = b;

	return x->value < y->value ? -1 : x->value > y->value;
}

/* Copies enum skb_drop_reason's names out of the kernel's BTF. */
static int load_reasons(struct fb_evcap *ev, const struct btf *vm)
{
	static const char prefix[] = "SKB_DROP_REASON_";
	const struct btf_type *t;
	const struct btf_enum *en;
	size_t total = 0, off = 0;
	int id, i, n;

	id = btf__find_by_name_kind(vm, "skb_drop_reason", BTF_KIND_ENUM);
	if (id < 0)
		return -ENOENT;
	t = btf__type_by_id(vm, id);
	n = btf_vlen(t);
	en = btf_enum(t);
	for (i = 0; i < n; i++)
		total += strlen(btf__name_by_offset(vm, en[i].name_off)) + 1;
	ev->reasons = calloc((size_t)n, sizeof(*ev->reasons));
	ev->names = malloc(total);
	if (!ev->reasons || !ev->names)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const char *s = btf__name_by_offset(vm, en[i].name_off);

		/* SKB_DROP_REASON_NETFILTER_DROP -> NETFILTER_DROP; SKB_CONSUMED
		 * -> CONSUMED */
		if (!strncmp(s, prefix, sizeof(prefix) - 1))
			s += sizeof(prefix) - 1;
		else if (!strncmp(s, "SKB_", 4))
			s += 4;
		strcpy(ev->names + off, s);
		ev->reasons[i].value = (uint32_t)en[i].val;
		ev->reasons[i].name = ev->names + off;
		off += strlen(s) + 1;
	}
	ev->nreasons = (uint32_t)n;
	qsort(ev->reasons, ev->nreasons, sizeof(*ev->reasons), cmp_reason);
	return 0;
}

const char *fb_evcap__drop_reason(void *ctx, uint32_t reason)
{
	const struct fb_evcap *ev = ctx;
	struct reason_name key = { .value = reason }, *r;

	if (!ev || !ev->nreasons)
		return NULL;
	r = bsearch(&key, ev->reasons, ev->nreasons, sizeof(key), cmp_reason);
	/* the enum's upper bound is not a reason */
	return r && strcmp(r->name, "MAX") ? r->name : NULL;
}

int fb_evcap_check_btf(const struct btf *vm, uint32_t mask)
{
	size_t i;

	for (i = 0; i < NPROGS; i++) {
		const struct evprog *q = &progs[i];
		int n;

		if (!(mask & q->bit))
			continue;
		n = tp_nargs(vm, q->tp);
		if (n < 0) {
			fb_err("--events %s: this kernel has no tracepoint %s\n", q->family, q->tp);
			return -EOPNOTSUPP;
		}
		if ((unsigned)n < q->min_args) {
			fb_err("--events %s: this kernel's tracepoint %s passes %d arguments, %u needed%s\n",
			       q->family, q->tp, n, q->min_args,
			       q->bit == FB_EV_DROPS ? " (drop reasons: kernel 5.17 or later)" : "");
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

struct fb_evcap *fb_evcap__open(struct bpf_object *obj, uint32_t mask)
{
	struct btf *vm = NULL;
	struct fb_evcap *ev;
	size_t i;
	int e = 0;

	ev = calloc(1, sizeof(*ev));
	if (!ev) {
		fb_err("out of memory\n");
		errno = ENOMEM;
		return NULL;
	}
	ev->obj = obj;
	ev->mask = mask;
	for (i = 0; i < NPROGS; i++)
		ev->prog_fds[i] = -1;
	/* the programs are in "?" sections (off unless turned on); say so
	 * explicitly too, so a family that is off never loads */
	for (i = 0; i < NPROGS; i++) {
		struct bpf_program *p = bpf_object__find_program_by_name(obj, progs[i].prog);

		if (p)
			bpf_program__set_autoload(p, false);
	}
	if (!mask)
		return ev;
	vm = btf__load_vmlinux_btf();
	if (!vm) {
		e = errno ? errno : ENOENT;
		fb_err("--events needs the kernel's BTF (/sys/kernel/btf/vmlinux, CONFIG_DEBUG_INFO_BTF): %s\n",
		       strerror(e));
		goto err;
	}
	e = -fb_evcap_check_btf(vm, mask);
	if (e)
		goto err;
	for (i = 0; i < NPROGS; i++) {
		const struct evprog *q = &progs[i];
		struct bpf_program *p;

		if (!(mask & q->bit))
			continue;
		p = bpf_object__find_program_by_name(obj, q->prog);
		if (!p) {
			fb_err("--events %s: program %s missing from the BPF object\n", q->family, q->prog);
			e = ENOENT;
			goto err;
		}
		bpf_program__set_autoload(p, true);
	}
	/* newer kernels pass one more argument; reading it on an older one
	 * would fail verification */
	if ((mask & FB_EV_RETRANS) &&
	    set_rodata_bool(obj, "fb_ev_retrans_has_err", tp_nargs(vm, "tcp_retransmit_skb") >= 3))
		e = ENOENT;
	if ((mask & FB_EV_RESETS) &&
	    set_rodata_bool(obj, "fb_ev_rst_has_reason", tp_nargs(vm, "tcp_send_reset") >= 3))
		e = ENOENT;
	if (e) {
		fb_err("--events: the BPF object lacks its settings (a stale build?)\n");
		goto err;
	}
	if ((mask & FB_EV_DROPS) && load_reasons(ev, vm))
		fb_warn("drop reasons have no names in this kernel's BTF; rows carry numbers only\n");
	btf__free(vm);
	return ev;
err:
	btf__free(vm);
	fb_evcap__free(ev);
	errno = e;
	return NULL;
}

int fb_evcap__attach(struct fb_evcap *ev)
{
	size_t i;
	int e;

	if (!ev)
		return 0;
	for (i = 0; i < NPROGS; i++) {
		const struct evprog *q = &progs[i];
		struct bpf_program *p;

		if (!(ev->mask & q->bit) || ev->links[i])
			continue;
		p = bpf_object__find_program_by_name(ev->obj, q->prog);
		ev->links[i] = p ? bpf_program__attach(p) : NULL;
		if (!ev->links[i]) {
			e = errno ? errno : ENOENT;
			fb_err("--events %s: cannot attach to tracepoint %s: %s\n", q->family, q->tp,
			       strerror(e));
			fb_evcap__detach(ev);
			return -e;
		}
		ev->prog_fds[i] = bpf_program__fd(p);
	}
	return 0;
}

void fb_evcap__detach(struct fb_evcap *ev)
{
	size_t i;

	if (!ev)
		return;
	for (i = 0; i < NPROGS; i++) {
		bpf_link__destroy(ev->links[i]);
		ev->links[i] = NULL;
	}
}

void fb_evcap__free(struct fb_evcap *ev)
{
	if (!ev)
		return;
	fb_evcap__detach(ev);
	free(ev->reasons);
	free(ev->names);
	free(ev);
}

uint64_t fb_evcap__missed(const struct fb_evcap *ev, uint32_t bit)
{
	uint64_t sum = 0;
	size_t i;

	if (!ev)
		return 0;
	for (i = 0; i < NPROGS; i++) {
		struct bpf_prog_info info;
		uint32_t len = sizeof(info);

		if (progs[i].bit != bit || ev->prog_fds[i] < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(ev->prog_fds[i], &info, &len))
			sum += info.recursion_misses;
	}
	return sum;
}

int fb_evcap__nlinks(const struct fb_evcap *ev)
{
	size_t i;
	int n = 0;

	for (i = 0; ev && i < NPROGS; i++)
		n += ev->links[i] != NULL;
	return n;
}

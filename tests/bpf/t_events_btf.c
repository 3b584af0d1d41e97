/* The --events kernel checks (capture_events.c) on made-up kernel BTF: a
 * kernel without a tracepoint, or whose tracepoint passes fewer arguments
 * than the program reads, gets one line naming the family and the
 * tracepoint, before anything is loaded; this kernel's own BTF passes for
 * every family. */
#include <errno.h>
#include <stdio.h>
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <bpf/btf.h>
#include <linux/btf.h>

#include "capture_events.h"
#include "events.h"

/* typedef void (*btf_trace_<tp>)(void *, void *...) with nargs pointers */
static void add_tp(struct btf *b, const char *tp, int nargs)
{
	char name[64];
	int vp = btf__add_ptr(b, 0), proto, i;

	proto = btf__add_func_proto(b, 0);
	cr_assert_gt(proto, 0);
	btf__add_func_param(b, "", vp);
	for (i = 0; i < nargs; i++)
		btf__add_func_param(b, "", vp);
	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	cr_assert_gt(btf__add_typedef(b, name, btf__add_ptr(b, proto)), 0);
}

Test(events_btf, missing_tracepoint_is_one_line, .init = cr_redirect_stderr)
{
	struct btf *b = btf__new_empty();

	add_tp(b, "kfree_skb", 4);
	cr_assert_eq(fb_evcap_check_btf(b, FB_EV_DROPS), 0);
	cr_assert_eq(fb_evcap_check_btf(b, FB_EV_DROPS | FB_EV_RTT), -EOPNOTSUPP);
	fflush(stderr);
	cr_assert_stderr_eq_str("flowbatch: --events rtt: this kernel has no tracepoint tcp_probe\n");
	btf__free(b);
}

Test(events_btf, kfree_skb_without_reason, .init = cr_redirect_stderr)
{
	struct btf *b = btf__new_empty();

	add_tp(b, "kfree_skb", 2); /* before 5.17: skb, location */
	cr_assert_eq(fb_evcap_check_btf(b, FB_EV_DROPS), -EOPNOTSUPP);
	fflush(stderr);
	cr_assert_stderr_eq_str("flowbatch: --events drops: this kernel's tracepoint kfree_skb passes 2 "
				"arguments, 3 needed (drop reasons: kernel 5.17 or later)\n");
	btf__free(b);
}

Test(events_btf, resets_need_both_tracepoints, .init = cr_redirect_stderr)
{
	struct btf *b = btf__new_empty();

	add_tp(b, "tcp_send_reset", 2);
	cr_assert_eq(fb_evcap_check_btf(b, FB_EV_RESETS), -EOPNOTSUPP);
	fflush(stderr);
	cr_assert_stderr_eq_str("flowbatch: --events resets: this kernel has no tracepoint tcp_receive_reset\n");
	btf__free(b);
}

Test(events_btf, this_kernel_has_every_family)
{
	struct btf *vm = btf__load_vmlinux_btf();

	if (!vm)
		cr_skip_test("SKIP: no kernel BTF");
	cr_expect_eq(fb_evcap_check_btf(vm, FB_EV_TCP | FB_EV_RETRANS | FB_EV_RESETS | FB_EV_RTT | FB_EV_DROPS), 0);
	btf__free(vm);
}

#!/bin/bash
# Another TC filter is already on $HOST_IF ingress, in a clsact qdisc that
# flowbatch did not create. flowbatch, with --tc-attach clsact and with the
# default (tcx), counts a known number of frames exactly, and after it exits
# the other filter is unchanged (`tc filter show` identical) and the clsact
# qdisc is still there.
#
# This kernel has neither cls_matchall nor act_gact, so the other filter is
# a u32 one, in two kinds:
#  - "aside": matches only UDP port 12345, which the test's frames do not
#    use, so classification continues to later filters;
#  - "ahead": matches every packet (like `matchall action pass`), which ends
#    classification with TC_ACT_OK before any later-priority filter runs.
#    flowbatch must still see every packet: it observes the interface, not
#    what is left after other filters.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"

e2e_setup
need_fbsend
quiet_link
command -v tc >/dev/null || skip "needs tc"

FAILS=""
note_fail() {
	echo "  $*" >&2
	FAILS="$FAILS
  $*"
}

SPORT=41000
# one_run KIND METHOD: flowbatch with --tc-attach METHOD, 1000 frames
one_run() {
	local kind=$1 method=$2 before_f before_q after_f after_q pid ids
	before_f=$(tc filter show dev "$HOST_IF" ingress)
	before_q=$(tc qdisc show dev "$HOST_IF")
	SPORT=$((SPORT + 1))
	e2e_bg "$FB" -i "$HOST_IF" --direction in --tc-attach "$method" -o jsonl -t 250ms -D 30s \
		>"$TMP/$kind-$method.out" 2>"$TMP/$kind-$method.err"
	pid=$!
	wait_ready "$pid" "$HOST_IF"
	ids=$(bpf_ids "$pid")
	send -p udp4 --sport "$SPORT" --dport 9 -n 1000 -r 20000
	sleep 0.3
	kill -INT "$pid"
	wait_exit "$pid" 50
	[ "$RC" -eq 0 ] || fail "[$kind/$method] flowbatch exited $RC: $(cat "$TMP/$kind-$method.err")"
	eval "$(check_jsonl "$TMP/$kind-$method.out" "$PEER_IP" "$HOST_IP")"
	check_summary "$TMP/$kind-$method.err"
	[ -z "$BAD" ] || note_fail "[$kind/$method] $BAD"
	[ "$SUM_EXACT" = 1 ] || note_fail "[$kind/$method] summary not exact: $SUMMARY"
	[ -z "$OTHER" ] || note_fail "[$kind/$method] traffic other than the test's: $OTHER"
	if [ "$SEEN" -ne "$SENT" ] || [ "$OURS" -ne "$SENT" ]; then
		note_fail "[$kind/$method] sent $SENT frames, flowbatch saw $SEEN (test flow: $OURS packets) ($SUMMARY)"
	else
		echo "[$kind/$method] sent $SENT, seen $SEEN"
	fi
	after_f=$(tc filter show dev "$HOST_IF" ingress)
	after_q=$(tc qdisc show dev "$HOST_IF")
	[ "$after_f" = "$before_f" ] ||
		fail "[$kind/$method] ingress filters changed: before
$before_f
after
$after_f"
	[ "$after_q" = "$before_q" ] || fail "[$kind/$method] qdiscs changed: before '$before_q', after '$after_q'"
	echo "$after_q" | grep -q clsact || fail "[$kind/$method] the clsact qdisc is gone"
	assert_detached "$HOST_IF"
	# shellcheck disable=SC2086
	assert_released $ids
}

tc qdisc add dev "$HOST_IF" clsact || skip "cannot add a clsact qdisc"

tc filter add dev "$HOST_IF" ingress prio 10 protocol ip u32 match ip dport 12345 0xffff classid 1:1 ||
	skip "cannot add a u32 filter"
one_run aside clsact
one_run aside tcx

tc filter del dev "$HOST_IF" ingress prio 10 || fail "cannot remove the u32 filter"
tc filter add dev "$HOST_IF" ingress prio 10 u32 match u32 0 0 classid 1:1 || fail "cannot add a u32 filter"
one_run ahead clsact
one_run ahead tcx

[ -z "$FAILS" ] || fail "$FAILS"
exit 0

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
need python3 fbsend tc
e2e_setup
quiet_link

SPORT=41000
# one_run KIND METHOD: flowbatch with --tc-attach METHOD, 1000 frames
one_run() {
	local kind=$1 method=$2 before_f before_q after_f after_q ids
	before_f=$(tc filter show dev "$HOST_IF" ingress)
	before_q=$(tc qdisc show dev "$HOST_IF")
	SPORT=$((SPORT + 1))
	fb_start -i "$HOST_IF" --direction in --tc-attach "$method" -o jsonl -t 250ms -D 30s
	wait_attached "$FB_PID" "$HOST_IF"
	ids=$(bpf_ids "$FB_PID")
	send -p udp4 --sport "$SPORT" --dport 9 -n 1000 -r 20000
	sleep 0.3
	fb_stop INT 5
	[ "$RC" -eq 0 ] || fail "[$kind/$method] flowbatch exited $RC: $(cat "$ERR")"
	echo "[$kind/$method] sent $SENT"
	check --summary "$ERR" --seen "$SENT" --max-other 0 \
		--flow "src_addr=$PEER_IP dst_addr=$HOST_IP src_port=$SPORT packets=$SENT"
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
exit 0

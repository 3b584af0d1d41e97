#!/bin/bash
# --tc-attach clsact: exact counts through a cls_bpf filter; the filter shows
# in `tc filter show` while running, and the filter and the clsact qdisc
# flowbatch created are gone after it exits. A SIGKILLed run leaves its
# filter behind (nothing can remove it); the next clsact run removes that
# stale filter when it starts and leaves none after it exits.
. "$(dirname "$0")/lib.sh"
need python3 fbsend tc
e2e_setup
tc qdisc show dev "$HOST_IF" | grep -q clsact && fail "$HOST_IF already has a clsact qdisc"

# 1. a clean run
fb_start -i "$HOST_IF" -o jsonl -D 2s --direction in --tc-attach clsact
wait_attached "$FB_PID" "$HOST_IF"
ids=$(bpf_ids "$FB_PID")
tc filter show dev "$HOST_IF" ingress | grep -q 'bpf.*fb_tc_in' ||
	fail "no bpf filter fb_tc_in on ingress: $(tc filter show dev "$HOST_IF" ingress)"
tc qdisc show dev "$HOST_IF" | grep -q clsact || fail "no clsact qdisc while running"
[ "$(fb_links "$FB_PID")" = 0 ] || fail "clsact mode holds BPF links"
send -p udp4 --sport 4000 --dport 9 --flows 3 -n 600 --size 150
assert_running "$FB_PID"
fb_wait 10
v4="iface=$HOST_IF dir=in proto=17 src_addr=$PEER_IP dst_addr=$HOST_IP dst_port=9"
check --summary "$ERR" --max-other 50 \
	--flow "$v4 src_port=4000 packets=200 bytes=30000" \
	--flow "$v4 src_port=4001 packets=200 bytes=30000" \
	--flow "$v4 src_port=4002 packets=200 bytes=30000"
[ "$(fb_filters "$HOST_IF" ingress)" = 0 ] || fail "filter left after exit: $(tc filter show dev "$HOST_IF" ingress)"
tc qdisc show dev "$HOST_IF" | grep -q clsact && fail "the clsact qdisc flowbatch added is still there"
assert_detached "$HOST_IF"
# shellcheck disable=SC2086
assert_released $ids

# 2. SIGKILL leaves the filter (the fallback's known limit) ...
fb_start -i "$HOST_IF" -o jsonl -D 30s --direction in --tc-attach clsact
wait_attached "$FB_PID" "$HOST_IF"
fb_stop KILL 5
[ "$(fb_filters "$HOST_IF" ingress)" = 1 ] ||
	fail "expected the killed run's filter to stay: $(tc filter show dev "$HOST_IF" ingress)"
stale=$(tc filter show dev "$HOST_IF" ingress | sed -n 's/.*fb_tc.* id \([0-9]*\).*/\1/p' | head -1)
[ -n "$stale" ] || fail "cannot read the stale filter's program id: $(tc filter show dev "$HOST_IF" ingress)"

# ... and the next run removes it at start, and its own at exit
fb_start -i "$HOST_IF" -o jsonl -D 1s --direction in --tc-attach clsact -v
fb_wait 10
grep -q 'removed a stale flowbatch filter' "$ERR" || fail "no 'removed a stale flowbatch filter' message with -v"
[ "$(fb_filters "$HOST_IF" ingress)" = 0 ] ||
	fail "a flowbatch filter remains after the second run: $(tc filter show dev "$HOST_IF" ingress)"
assert_released "prog:$stale"
assert_detached "$HOST_IF"
echo "ok"

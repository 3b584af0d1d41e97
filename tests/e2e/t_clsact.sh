#!/bin/bash
# --tc-attach clsact: exact counts through a cls_bpf filter; the filter shows
# in `tc filter show` while running, and the filter and the clsact qdisc
# flowbatch created are gone after it exits. A SIGKILLed run leaves its
# filter behind (nothing can remove it); the next clsact run removes that
# stale filter when it starts and leaves none after it exits.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_flows.sh"
need_tools
e2e_setup
command -v tc >/dev/null || skip "needs tc"
tc qdisc show dev "$HOST_IF" | grep -q clsact && fail "$HOST_IF already has a clsact qdisc"

# 1. a clean run
fb_start -i "$HOST_IF" -o jsonl -D 2s --direction in --tc-attach clsact
wait_filter "$FB_PID"
ids=$(fb_prog_ids "$FB_PID")
tc filter show dev "$HOST_IF" ingress | grep -q 'bpf.*fb_tc_in' ||
	fail "no bpf filter fb_tc_in on ingress: $(tc filter show dev "$HOST_IF" ingress)"
tc qdisc show dev "$HOST_IF" | grep -q clsact || fail "no clsact qdisc while running"
[ "$(fb_links "$FB_PID")" = 0 ] || fail "clsact mode holds BPF links"
send -p udp4 --src "$PEER_IP" --dst "$HOST_IP" --sport 4000 --dport 9 --flows 3 -n 600 --size 150
assert_running "$FB_PID"
wait_exit "$FB_PID" 10
[ "$FB_RC" = 0 ] || fail "flowbatch exited with $FB_RC: $(cat "$ERR")"
v4="iface=$HOST_IF dir=in proto=17 src_addr=$PEER_IP dst_addr=$HOST_IP dst_port=9"
check --summary "$ERR" --max-other 50 \
	--flow "$v4 src_port=4000 packets=200 bytes=30000" \
	--flow "$v4 src_port=4001 packets=200 bytes=30000" \
	--flow "$v4 src_port=4002 packets=200 bytes=30000"
[ "$(fb_filters "$HOST_IF" ingress)" = 0 ] || fail "filter left after exit: $(tc filter show dev "$HOST_IF" ingress)"
tc qdisc show dev "$HOST_IF" | grep -q clsact && fail "the clsact qdisc flowbatch added is still there"
assert_detached "$HOST_IF"
assert_progs_gone $ids

# 2. SIGKILL leaves the filter (the fallback's known limit) ...
fb_start -i "$HOST_IF" -o jsonl -D 30s --direction in --tc-attach clsact
wait_filter "$FB_PID"
kill -KILL "$FB_PID"
wait_exit "$FB_PID" 5
[ "$(fb_filters "$HOST_IF" ingress)" = 1 ] ||
	fail "expected the killed run's filter to stay: $(tc filter show dev "$HOST_IF" ingress)"
stale=$(tc filter show dev "$HOST_IF" ingress | sed -n 's/.* id \([0-9]*\).*/\1/p' | head -1)

# ... and the next run removes it at start, and its own at exit
fb_start -i "$HOST_IF" -o jsonl -D 1s --direction in --tc-attach clsact -v
wait_exit "$FB_PID" 10
[ "$FB_RC" = 0 ] || fail "second clsact run exited with $FB_RC: $(grep -v libbpf "$ERR")"
grep -q 'removed a stale flowbatch filter' "$ERR" || fail "no 'removed a stale flowbatch filter' message with -v"
[ "$(fb_filters "$HOST_IF" ingress)" = 0 ] ||
	fail "a flowbatch filter remains after the second run: $(tc filter show dev "$HOST_IF" ingress)"
[ -n "$stale" ] && assert_progs_gone "$stale"
assert_detached "$HOST_IF"
echo "ok"

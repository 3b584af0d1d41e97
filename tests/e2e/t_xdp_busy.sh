#!/bin/bash
# Another program's XDP is already attached to the interface.
#  - --hook xdp refuses to start: exit 1, one stderr line "flowbatch: ..."
#    naming the other program and pointing at --force; the other program
#    stays attached (same program ID), in native and in generic mode.
#  - --hook tc runs alongside it and counts exactly what the XDP program
#    passes.
#  - --hook xdp --force replaces it and runs. The replaced program is NOT
#    restored when flowbatch exits: that is flowbatch's documented behaviour
#    (--force "replace another program's XDP attachment"; it warns "it will
#    not be restored"). So afterwards nothing is attached at all, and nothing
#    of flowbatch is left.
#  - an XDP program held by another process's BPF link (a second flowbatch)
#    cannot be replaced even with --force, and the first run is unharmed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"

XDP_OBJ=$(dirname "$FB")/xdp_pass.bpf.o
[ -f "$XDP_OBJ" ] || XDP_OBJ=build/xdp_pass.bpf.o
[ -f "$XDP_OBJ" ] || skip "build/xdp_pass.bpf.o not built (make build/xdp_pass.bpf.o)"

e2e_setup
need_fbsend
quiet_link

# xdp_id IFACE: "NAME ID" of the XDP program attached (any mode), or nothing
xdp_id() {
	ip -j link show dev "$1" | "$PY" -c '
import json, sys
x = json.load(sys.stdin)[0].get("xdp")
if x:
    p = x.get("prog") or (x.get("attached") or [{}])[0].get("prog")
    if p:
        print(p["name"], p["id"])'
}

# refused MODE: flowbatch --hook xdp must refuse while other_xdp is attached
# in MODE (xdp = native, xdpgeneric = generic)
refused() {
	local mode=$1 before after lines
	ip link set dev "$HOST_IF" "$mode" obj "$XDP_OBJ" sec xdp || fail "cannot attach $XDP_OBJ ($mode)"
	before=$(xdp_id "$HOST_IF")
	case $before in "other_xdp "*) ;; *) fail "other_xdp is not attached ($mode): '$before'" ;; esac
	timeout 10 "$FB" -i "$HOST_IF" --hook xdp -D 1s -o jsonl >"$TMP/busy.out" 2>"$TMP/busy.err"
	RC=$?
	[ "$RC" -eq 1 ] || fail "--hook xdp with other_xdp attached ($mode) exited $RC, want 1: $(cat "$TMP/busy.err")"
	lines=$(wc -l <"$TMP/busy.err")
	[ "$lines" -eq 1 ] || fail "want one stderr line ($mode), got $lines: $(cat "$TMP/busy.err")"
	grep -q '^flowbatch: ' "$TMP/busy.err" || fail "stderr line does not start with 'flowbatch: ': $(cat "$TMP/busy.err")"
	grep -q "other_xdp" "$TMP/busy.err" || fail "stderr does not name other_xdp: $(cat "$TMP/busy.err")"
	grep -q -- "--force" "$TMP/busy.err" || fail "stderr does not mention --force: $(cat "$TMP/busy.err")"
	after=$(xdp_id "$HOST_IF")
	[ "$after" = "$before" ] || fail "XDP attachment changed ($mode): before '$before', after '$after'"
	echo "refused ($mode): $(cat "$TMP/busy.err")"
}

# 1. generic mode first (then removed), then native, which stays for 2 and 3
refused xdpgeneric
ip link set dev "$HOST_IF" xdpgeneric off || fail "cannot detach other_xdp (generic)"
refused xdp
OTHER_XDP=$(xdp_id "$HOST_IF")

# 2. --hook tc alongside it: runs, counts exactly, leaves other_xdp alone
e2e_bg "$FB" -i "$HOST_IF" --hook tc --direction in -o jsonl -t 250ms -D 30s \
	>"$TMP/tc.out" 2>"$TMP/tc.err"
FBPID=$!
wait_ready "$FBPID" "$HOST_IF"
IDS=$(bpf_ids "$FBPID")
send -p udp4 --sport 40002 --dport 9 -n 1000 -r 20000
sleep 0.3
kill -INT "$FBPID"
wait_exit "$FBPID" 50
[ "$RC" -eq 0 ] || fail "--hook tc alongside other_xdp exited $RC: $(cat "$TMP/tc.err")"
eval "$(check_jsonl "$TMP/tc.out" "$PEER_IP" "$HOST_IP")"
check_summary "$TMP/tc.err"
[ -z "$BAD" ] || fail "--hook tc: $BAD"
[ "$SEEN" -eq "$SENT" ] && [ "$OURS" -eq "$SENT" ] && [ "$SUM_EXACT" = 1 ] ||
	fail "--hook tc alongside other_xdp: sent $SENT, seen $SEEN, ours $OURS ($SUMMARY)"
[ "$(xdp_id "$HOST_IF")" = "$OTHER_XDP" ] || fail "--hook tc changed the XDP attachment: '$OTHER_XDP' -> '$(xdp_id "$HOST_IF")'"
# shellcheck disable=SC2086
assert_released $IDS

# 3. --force: replaces other_xdp (not restored afterwards, see above)
e2e_bg "$FB" -i "$HOST_IF" --hook xdp --force --direction in -o jsonl -t 250ms -D 30s \
	>"$TMP/force.out" 2>"$TMP/force.err"
FBPID=$!
wait_ready "$FBPID" "$HOST_IF"
IDS=$(bpf_ids "$FBPID")
case $(xdp_id "$HOST_IF") in
"fb_xdp "*) ;;
*) fail "with --force, the XDP program on $HOST_IF is '$(xdp_id "$HOST_IF")', not fb_xdp" ;;
esac
send -p udp4 --sport 40003 --dport 9 -n 1000 -r 20000
sleep 0.3
kill -INT "$FBPID"
wait_exit "$FBPID" 50
[ "$RC" -eq 0 ] || fail "--hook xdp --force exited $RC: $(cat "$TMP/force.err")"
grep -q "other_xdp" "$TMP/force.err" || fail "--force did not say it replaced other_xdp: $(cat "$TMP/force.err")"
eval "$(check_jsonl "$TMP/force.out" "$PEER_IP" "$HOST_IP")"
check_summary "$TMP/force.err"
[ -z "$BAD" ] || fail "--force: $BAD"
[ "$SEEN" -eq "$SENT" ] && [ "$OURS" -eq "$SENT" ] && [ "$SUM_EXACT" = 1 ] ||
	fail "--hook xdp --force: sent $SENT, seen $SEEN, ours $OURS ($SUMMARY); $(cat "$TMP/send.out"); $(link_drops)"
[ -z "$(xdp_id "$HOST_IF")" ] || fail "after --force run, XDP still attached: $(xdp_id "$HOST_IF")"
assert_detached "$HOST_IF"
# shellcheck disable=SC2086
assert_released $IDS

# 4. XDP held by another process's link: a first flowbatch --hook xdp runs,
# a second one is refused, with and without --force; the first is unharmed
e2e_bg "$FB" -i "$HOST_IF" --hook xdp --direction in -o jsonl -t 250ms -D 30s \
	>"$TMP/first.out" 2>"$TMP/first.err"
FBPID=$!
wait_ready "$FBPID" "$HOST_IF"
IDS=$(bpf_ids "$FBPID")
HELD=$(xdp_id "$HOST_IF")
for force in "" --force; do
	kill -0 "$FBPID" 2>/dev/null || fail "first flowbatch ended early: $(cat "$TMP/first.err")"
	timeout 10 "$FB" -i "$HOST_IF" --hook xdp $force -D 1s -o jsonl >"$TMP/second.out" 2>"$TMP/second.err"
	RC=$?
	[ "$RC" -eq 1 ] || fail "second flowbatch --hook xdp $force exited $RC, want 1: $(cat "$TMP/second.err")"
	[ "$(wc -l <"$TMP/second.err")" -eq 1 ] && grep -q '^flowbatch: .*fb_xdp' "$TMP/second.err" ||
		fail "second flowbatch $force: want one 'flowbatch: ' line naming fb_xdp, got: $(cat "$TMP/second.err")"
	[ "$(xdp_id "$HOST_IF")" = "$HELD" ] || fail "second flowbatch $force changed the XDP attachment"
	echo "second flowbatch $force: $(cat "$TMP/second.err")"
done
send -p udp4 --sport 40004 --dport 9 -n 1000 -r 20000
sleep 0.3
kill -INT "$FBPID"
wait_exit "$FBPID" 50
[ "$RC" -eq 0 ] || fail "first flowbatch exited $RC: $(cat "$TMP/first.err")"
eval "$(check_jsonl "$TMP/first.out" "$PEER_IP" "$HOST_IP")"
check_summary "$TMP/first.err"
[ -z "$BAD" ] || fail "first flowbatch: $BAD"
[ "$SEEN" -eq "$SENT" ] && [ "$SUM_EXACT" = 1 ] || fail "first flowbatch: sent $SENT, seen $SEEN ($SUMMARY)"
assert_detached "$HOST_IF"
# shellcheck disable=SC2086
assert_released $IDS
exit 0

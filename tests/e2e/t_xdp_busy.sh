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
need python3 fbsend xdp_pass
e2e_setup
quiet_link

# refused MODE: flowbatch --hook xdp must refuse while other_xdp is attached
# in MODE (xdp = native, xdpgeneric = generic)
refused() {
	local mode=$1 before after lines
	ip link set dev "$HOST_IF" "$mode" obj "$XDP_OBJ" sec xdp || fail "cannot attach $XDP_OBJ ($mode)"
	before=$(xdp_prog "$HOST_IF")
	case $before in "other_xdp "*) ;; *) fail "other_xdp is not attached ($mode): '$before'" ;; esac
	timeout 10 "$FB" -i "$HOST_IF" --hook xdp -D 1s -o jsonl >"$TMP/busy.out" 2>"$TMP/busy.err"
	RC=$?
	[ "$RC" -eq 1 ] || fail "--hook xdp with other_xdp attached ($mode) exited $RC, want 1: $(cat "$TMP/busy.err")"
	lines=$(wc -l <"$TMP/busy.err")
	[ "$lines" -eq 1 ] || fail "want one stderr line ($mode), got $lines: $(cat "$TMP/busy.err")"
	grep -q '^flowbatch: ' "$TMP/busy.err" || fail "stderr line does not start with 'flowbatch: ': $(cat "$TMP/busy.err")"
	grep -q "other_xdp" "$TMP/busy.err" || fail "stderr does not name other_xdp: $(cat "$TMP/busy.err")"
	grep -q -- "--force" "$TMP/busy.err" || fail "stderr does not mention --force: $(cat "$TMP/busy.err")"
	after=$(xdp_prog "$HOST_IF")
	[ "$after" = "$before" ] || fail "XDP attachment changed ($mode): before '$before', after '$after'"
	echo "refused ($mode): $(cat "$TMP/busy.err")"
}

# 1. generic mode first (then removed), then native, which stays for 2 and 3
refused xdpgeneric
ip link set dev "$HOST_IF" xdpgeneric off || fail "cannot detach other_xdp (generic)"
refused xdp
OTHER_XDP=$(xdp_prog "$HOST_IF")

# 2. --hook tc alongside it: runs, counts exactly, leaves other_xdp alone
fb_start -i "$HOST_IF" --hook tc --direction in -o jsonl -t 250ms -D 30s
wait_attached "$FB_PID" "$HOST_IF"
IDS=$(bpf_ids "$FB_PID")
send -p udp4 --sport 40002 --dport 9 -n 1000 -r 20000
sleep 0.3
fb_stop INT 5
[ "$RC" -eq 0 ] || fail "--hook tc alongside other_xdp exited $RC: $(cat "$ERR")"
check --summary "$ERR" --seen "$SENT" --flow "src_addr=$PEER_IP dst_addr=$HOST_IP packets=$SENT"
[ "$(xdp_prog "$HOST_IF")" = "$OTHER_XDP" ] || fail "--hook tc changed the XDP attachment: '$OTHER_XDP' -> '$(xdp_prog "$HOST_IF")'"
# shellcheck disable=SC2086
assert_released $IDS

# 3. --force: replaces other_xdp (not restored afterwards, see above)
fb_start -i "$HOST_IF" --hook xdp --force --direction in -o jsonl -t 250ms -D 30s
wait_attached "$FB_PID" "$HOST_IF"
IDS=$(bpf_ids "$FB_PID")
case $(xdp_prog "$HOST_IF") in
"fb_xdp "*) ;;
*) fail "with --force, the XDP program on $HOST_IF is '$(xdp_prog "$HOST_IF")', not fb_xdp" ;;
esac
send -p udp4 --sport 40003 --dport 9 -n 1000 -r 20000
sleep 0.3
fb_stop INT 5
[ "$RC" -eq 0 ] || fail "--hook xdp --force exited $RC: $(cat "$ERR")"
grep -q "other_xdp" "$ERR" || fail "--force did not say it replaced other_xdp: $(cat "$ERR")"
check --summary "$ERR" --seen "$SENT" --flow "src_addr=$PEER_IP dst_addr=$HOST_IP packets=$SENT"
[ -z "$(xdp_prog "$HOST_IF")" ] || fail "after --force run, XDP still attached: $(xdp_prog "$HOST_IF")"
assert_detached "$HOST_IF"
# shellcheck disable=SC2086
assert_released $IDS

# 4. XDP held by another process's link: a first flowbatch --hook xdp runs,
# a second one is refused, with and without --force; the first is unharmed
fb_start -i "$HOST_IF" --hook xdp --direction in -o jsonl -t 250ms -D 30s
wait_attached "$FB_PID" "$HOST_IF"
IDS=$(bpf_ids "$FB_PID")
HELD=$(xdp_prog "$HOST_IF")
for force in "" --force; do
	assert_running "$FB_PID" "first flowbatch ended early: $(cat "$ERR")"
	timeout 10 "$FB" -i "$HOST_IF" --hook xdp $force -D 1s -o jsonl >"$TMP/second.out" 2>"$TMP/second.err"
	RC=$?
	[ "$RC" -eq 1 ] || fail "second flowbatch --hook xdp $force exited $RC, want 1: $(cat "$TMP/second.err")"
	[ "$(wc -l <"$TMP/second.err")" -eq 1 ] && grep -q '^flowbatch: .*fb_xdp' "$TMP/second.err" ||
		fail "second flowbatch $force: want one 'flowbatch: ' line naming fb_xdp, got: $(cat "$TMP/second.err")"
	[ "$(xdp_prog "$HOST_IF")" = "$HELD" ] || fail "second flowbatch $force changed the XDP attachment"
	echo "second flowbatch $force: $(cat "$TMP/second.err")"
done
send -p udp4 --sport 40004 --dport 9 -n 1000 -r 20000
sleep 0.3
fb_stop INT 5
[ "$RC" -eq 0 ] || fail "first flowbatch exited $RC: $(cat "$ERR")"
check --summary "$ERR" --seen "$SENT"
assert_detached "$HOST_IF"
# shellcheck disable=SC2086
assert_released $IDS
exit 0

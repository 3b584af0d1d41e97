#!/bin/bash
# The interface is deleted while flowbatch captures on it (with traffic
# flowing): flowbatch stops within 3 s with exit 1 and one stderr line
# "flowbatch: interface X was removed; stopping", and none of its BPF
# programs or links is left. For tcx links, the clsact fallback and XDP.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fault_lib.sh"

e2e_setup
need_fbsend

first=1
for opts in "--hook tc" "--hook tc --tc-attach clsact" "--hook xdp"; do
	# deleting one end deleted both: recreate the pair
	[ "$first" = 1 ] || e2e_link
	first=0
	quiet_link
	# shellcheck disable=SC2086
	e2e_bg "$FB" -i "$HOST_IF" $opts -o jsonl -t 250ms -D 30s >"$TMP/fb.out" 2>"$TMP/fb.err"
	FBPID=$!
	wait_ready "$FBPID" "$HOST_IF"
	IDS=$(bpf_ids "$FBPID")
	[ -n "$IDS" ] || fail "[$opts] no BPF objects found in flowbatch's descriptors"
	# traffic until the link goes away (fbsend then fails; its status is not checked)
	send_bg -p udp4 --sport 42000 --dport 9 -n 1000000 -r 20000 -T 5
	sleep 0.5
	T0=$(now_ms)
	ip link del "$HOST_IF" || fail "cannot delete $HOST_IF"
	for _ in $(seq 1 30); do
		kill -0 "$FBPID" 2>/dev/null || break
		sleep 0.1
	done
	T1=$(now_ms)
	kill -0 "$FBPID" 2>/dev/null && fail "[$opts] flowbatch still running 3 s after $HOST_IF was deleted"
	wait "$FBPID"
	RC=$?
	send_wait 60
	[ "$RC" -eq 1 ] || fail "[$opts] flowbatch exited $RC after $HOST_IF was deleted, want 1: $(cat "$TMP/fb.err")"
	n=$(grep -c 'removed' "$TMP/fb.err")
	[ "$n" -eq 1 ] || fail "[$opts] want one stderr line saying 'removed', got $n: $(cat "$TMP/fb.err")"
	grep -qx "flowbatch: interface $HOST_IF was removed; stopping" "$TMP/fb.err" ||
		fail "[$opts] unexpected message: $(grep removed "$TMP/fb.err")"
	grep -q 'Segmentation\|Aborted\|AddressSanitizer\|runtime error' "$TMP/fb.err" &&
		fail "[$opts] flowbatch crashed: $(cat "$TMP/fb.err")"
	eval "$(check_jsonl "$TMP/fb.out")"
	[ -z "$BAD" ] || fail "[$opts] $BAD"
	# shellcheck disable=SC2086
	assert_released $IDS
	echo "[$opts] stopped $((T1 - T0)) ms after the deletion; $(grep -v removed "$TMP/fb.err" | head -3)"
done
exit 0

#!/bin/bash
# The interface is deleted while flowbatch captures on it (with traffic
# flowing): flowbatch stops within 3 s with exit 1 and one stderr line
# "flowbatch: interface X was removed; stopping", its output up to then is
# whole (every batch's ledger holds), and none of its BPF programs or links
# is left. For tcx links, the clsact fallback and XDP.
. "$(dirname "$0")/lib.sh"
need python3 fbsend
e2e_setup

first=1
for opts in "--hook tc" "--hook tc --tc-attach clsact" "--hook xdp"; do
	# deleting one end deleted both: recreate the pair
	[ "$first" = 1 ] || e2e_link
	first=0
	quiet_link
	# shellcheck disable=SC2086
	fb_start -i "$HOST_IF" $opts -o jsonl -t 250ms -D 30s
	wait_attached "$FB_PID" "$HOST_IF"
	IDS=$(bpf_ids "$FB_PID")
	[ -n "$IDS" ] || fail "[$opts] no BPF objects found in flowbatch's descriptors"
	# traffic until the link goes away (fbsend then fails; its status is not checked)
	send_bg -p udp4 --sport 42000 --dport 9 -n 1000000 -r 20000 -T 5
	sleep 0.5
	T0=$(now_ms)
	ip link del "$HOST_IF" || fail "cannot delete $HOST_IF"
	for _ in $(seq 1 30); do
		is_running "$FB_PID" || break
		sleep 0.1
	done
	T1=$(now_ms)
	is_running "$FB_PID" && fail "[$opts] flowbatch still running 3 s after $HOST_IF was deleted"
	wait_exit "$FB_PID" 1
	send_wait 6
	[ "$RC" -eq 1 ] || fail "[$opts] flowbatch exited $RC after $HOST_IF was deleted, want 1: $(cat "$ERR")"
	n=$(grep -c 'removed' "$ERR")
	[ "$n" -eq 1 ] || fail "[$opts] want one stderr line saying 'removed', got $n: $(cat "$ERR")"
	grep -qx "flowbatch: interface $HOST_IF was removed; stopping" "$ERR" ||
		fail "[$opts] unexpected message: $(grep removed "$ERR")"
	grep -q 'Segmentation\|Aborted\|AddressSanitizer\|runtime error' "$ERR" &&
		fail "[$opts] flowbatch crashed: $(cat "$ERR")"
	check
	# shellcheck disable=SC2086
	assert_released $IDS
	echo "[$opts] stopped $((T1 - T0)) ms after the deletion; $(grep -v removed "$ERR" | head -3)"
done
exit 0

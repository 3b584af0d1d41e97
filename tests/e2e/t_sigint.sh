#!/bin/bash
# SIGINT and SIGTERM stop flowbatch cleanly: exit 0, the last batch row is
# flagged "partial":true, the packets sent before the signal are all counted,
# the summary line is printed with an exact ledger, nothing stays attached.
. "$(dirname "$0")/lib.sh"
need python3 fbsend
e2e_setup

port=6000
for sig in INT TERM; do
	fb_start -i "$HOST_IF" -o jsonl -t 200ms -D 30s --direction in
	wait_attached "$FB_PID" "$HOST_IF"
	ids=$(bpf_ids "$FB_PID")
	send -p udp4 --sport $port --dport 9 -n 321 --size 80
	sleep 0.5 # a few whole batches go by
	assert_running "$FB_PID"
	fb_stop "$sig" 5
	[ "$RC" = 0 ] || fail "[SIG$sig] exit status $RC, expected 0: $(cat "$ERR")"
	check --summary "$ERR" --batches 3.. --last-partial true --max-other 50 \
		--flow "iface=$HOST_IF dir=in proto=17 src_addr=$PEER_IP src_port=$port dst_port=9 packets=321 bytes=25680"
	assert_detached "$HOST_IF"
	# shellcheck disable=SC2086
	assert_released $ids
	port=$((port + 1))
done

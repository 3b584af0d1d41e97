#!/bin/bash
# SIGINT and SIGTERM stop flowbatch cleanly: exit 0, the last batch row is
# flagged "partial":true, the packets sent before the signal are all counted,
# the summary line is printed with an exact ledger, nothing stays attached.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_flows.sh"
need_tools
e2e_setup

port=6000
for sig in INT TERM; do
	fb_start -i "$HOST_IF" -o jsonl -t 200ms -D 30s --direction in
	wait_links "$FB_PID" 1
	ids=$(fb_prog_ids "$FB_PID")
	send -p udp4 --src "$PEER_IP" --dst "$HOST_IP" --sport $port --dport 9 -n 321 --size 80
	sleep 0.5 # a few whole batches go by
	assert_running "$FB_PID"
	kill -"$sig" "$FB_PID"
	wait_exit "$FB_PID" 5
	[ "$FB_RC" = 0 ] || fail "[SIG$sig] exit status $FB_RC, expected 0: $(cat "$ERR")"
	n=$(grep -c '"type":"batch"' "$OUT")
	[ "$n" -ge 3 ] || fail "[SIG$sig] only $n batch rows"
	check --summary "$ERR" --last-partial true --max-other 50 \
		--flow "iface=$HOST_IF dir=in proto=17 src_addr=$PEER_IP src_port=$port dst_port=9 packets=321 bytes=25680"
	assert_detached "$HOST_IF"
	assert_progs_gone $ids
	port=$((port + 1))
done

#!/bin/bash
# --ipfix to a port on 127.0.0.1 where no collector listens: the kernel
# answers with ICMP port unreachable, sends fail with ECONNREFUSED; capture
# is not disturbed (every frame counted, ledger exact, exit 0), flowbatch
# says so once on stderr, and the exit summary reports the failed sends.
. "$(dirname "$0")/lib.sh"
need python3 fbsend ss
e2e_setup
quiet_link

# a port nobody listens on: bound once to find it, then closed
port=$("$PY" -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ss -Hlun "sport = :$port" | grep -q . && fail "port $port is in use"

fb_start -i "$HOST_IF" -o jsonl -t 200ms --direction in --ipfix "127.0.0.1:$port"
wait_attached "$FB_PID" "$HOST_IF"
send -p udp4 --sport 7000 --dport 9 --flows 4 -n 2000 --size 100
sleep 0.5
send -p udp4 --sport 8000 --dport 9 -n 500 --size 80
sleep 0.5
fb_stop INT 5
[ "$RC" = 0 ] || fail "flowbatch exited with $RC: $(cat "$ERR")"
check --summary "$ERR" --last-partial true --max-other 0 \
	--flow "src_addr=$PEER_IP proto=17 dst_port=9 packets=2500 bytes=240000 rows=5.."
n=$(grep -c "^flowbatch: ipfix 127.0.0.1:$port: cannot send" "$ERR")
[ "$n" = 1 ] || fail "expected one 'cannot send' line for the incident, got $n: $(cat "$ERR")"
line=$(grep "^flowbatch: output ipfix 127.0.0.1:$port: " "$ERR") ||
	fail "no summary line for the ipfix output: $(cat "$ERR")"
failed=$(echo "$line" | sed -n 's/.* \([0-9][0-9]*\) failed sends$/\1/p')
[ -n "$failed" ] && [ "$failed" -gt 0 ] || fail "no failed sends reported: $line"
echo "ipfix output: $line"

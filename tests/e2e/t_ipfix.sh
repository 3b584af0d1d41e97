#!/bin/bash
# --ipfix to real collectors on 127.0.0.1: nfcapd (nfdump) receives while
# known IPv4 and IPv6 traffic (UDP, TCP, ICMP, ICMPv6) crosses the test's
# veth, with JSON Lines on stdout at the same time. nfdump reads the files
# back: every flow row of every batch (non-IP rows included) is one nfdump
# record with the same packets, bytes, addresses, ports and first/last
# milliseconds. tshark, capturing the test's collector port on lo, decodes
# every message as IPFIX with no malformed-packet or other warning.
. "$(dirname "$0")/lib.sh"
need python3 fbsend nfcapd nfdump tshark ss
e2e_setup

free_udp_port() {
	"$PY" -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port=$(free_udp_port)
mkdir -p "$TMP/nf"
e2e_bg nfcapd -b 127.0.0.1 -p "$port" -w "$TMP/nf" -t 60 -I flowbatch >"$TMP/nfcapd.log" 2>&1
nf_pid=$BG_PID
for _ in $(seq 1 100); do
	ss -Hlun "sport = :$port" | grep -q . && break
	is_running "$nf_pid" || fail "nfcapd ended: $(cat "$TMP/nfcapd.log")"
	sleep 0.05
done
ss -Hlun "sport = :$port" | grep -q . || fail "nfcapd not listening on 127.0.0.1:$port after 5 s"

e2e_bg tshark -i lo -f "udp and dst port $port" -w "$TMP/ipfix.pcapng" >"$TMP/tshark.log" 2>&1
ts_pid=$BG_PID
for _ in $(seq 1 200); do
	grep -q "^Capturing on" "$TMP/tshark.log" && break
	is_running "$ts_pid" || fail "tshark ended: $(cat "$TMP/tshark.log")"
	sleep 0.05
done
grep -q "^Capturing on" "$TMP/tshark.log" || fail "tshark not capturing after 10 s"

fb_start -i "$HOST_IF" -o jsonl -t 500ms --direction in --ipfix "127.0.0.1:$port" --ipfix-domain 77
wait_attached "$FB_PID" "$HOST_IF"
send -p udp4 --sport 7000 --dport 9 --flows 3 -n 600 --size 101
send -p tcp6 --sport 7100 --dport 443 -n 200 --size 90 --tcp-flags SA
send -p icmp4 -n 50 --size 99
send -p icmp6 -n 40 --size 94
send -p udp6 --sport 7200 --dport 53 --flows 2 -n 100 --size 120
sleep 0.6 # a batch boundary after the last frame
fb_stop INT 5
[ "$RC" = 0 ] || fail "flowbatch exited with $RC: $(cat "$ERR")"
p6=$(canon6 "$PEER_IP6")
check --summary "$ERR" --last-partial true --max-other 200 \
	--flow "src_addr=$PEER_IP proto=17 dst_port=9 packets=600 bytes=60600" \
	--flow "src_addr=$p6 proto=6 src_port=7100 packets=200 bytes=18000" \
	--flow "src_addr=$PEER_IP proto=1 packets=50 bytes=4950" \
	--flow "src_addr=$p6 proto=58 icmp_type=128 packets=40 bytes=3760" \
	--flow "src_addr=$p6 proto=17 dst_port=53 packets=100 bytes=12000"

# the last messages have left; let both collectors take them
sleep 0.5
kill -INT "$ts_pid"
wait_exit "$ts_pid" 10
kill -TERM "$nf_pid" # nfcapd writes its file at exit
wait_exit "$nf_pid" 10
grep -q "IPFIX\|ipfix" "$TMP/nfcapd.log" || fail "nfcapd saw no IPFIX: $(cat "$TMP/nfcapd.log")"
grep -q "Bad Packets: 0" "$TMP/nfcapd.log" || fail "nfcapd found bad packets: $(cat "$TMP/nfcapd.log")"

TZ=UTC nfdump -R "$TMP/nf" -N -o json >"$TMP/nfdump.json" 2>"$TMP/nfdump.err" ||
	fail "nfdump failed: $(cat "$TMP/nfdump.err")"

# every flow row of the JSON Lines is one nfdump record, and the other way
fbcheck nfdump "$OUT" "$TMP/nfdump.json" --min-rows 8 --min-ipv6 1

# tshark decodes every captured message as IPFIX, without warnings
frames=$(tshark -r "$TMP/ipfix.pcapng" 2>/dev/null | wc -l)
ipfix=$(tshark -r "$TMP/ipfix.pcapng" -d "udp.port==$port,cflow" -Y "cflow.version == 10 && cflow.od_id == 77" 2>/dev/null | wc -l)
[ "$frames" -gt 0 ] || fail "tshark captured nothing on lo port $port"
[ "$ipfix" = "$frames" ] || fail "tshark decoded $ipfix of $frames messages as IPFIX of domain 77"
bad=$(tshark -r "$TMP/ipfix.pcapng" -d "udp.port==$port,cflow" -Y "_ws.malformed || _ws.expert.severity >= 6291456" 2>/dev/null | wc -l)
[ "$bad" = 0 ] || fail "tshark: $bad messages malformed or with warnings: $(tshark -r "$TMP/ipfix.pcapng" -d "udp.port==$port,cflow" -q -z expert 2>&1 | head -20)"
echo "tshark: $frames IPFIX messages, none malformed or with warnings"

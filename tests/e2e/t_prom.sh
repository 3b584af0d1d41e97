#!/bin/bash
# --prometheus: a real Prometheus server (Debian's), started here on
# 127.0.0.1 with a temporary config and storage, scrapes flowbatch every
# second while known traffic crosses the test's veth; the counters it
# returns through its HTTP API equal the packets and bytes sent. promtool
# checks a scrape; other paths are 404, other methods 405, HEAD works.
# A port in use and a bad address are one clear line and exit 1 at start.
. "$(dirname "$0")/lib.sh"
need python3 fbsend curl prometheus promtool
e2e_setup
quiet_link

free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
fport=$(free_port)
pport=$(free_port)
[ "$fport" != "$pport" ] || pport=$(free_port)

# one clear line and exit 1: an address of no interface here, not an address
for bad in "192.0.2.1:$fport" "1.2.3:$fport" "localhost:$fport" "127.0.0.1:0"; do
	fb_start -i "$HOST_IF" -o jsonl --prometheus "$bad"
	wait_exit "$FB_PID" 10
	[ "$RC" = 1 ] || fail "--prometheus $bad: exit $RC, expected 1: $(cat "$ERR")"
	[ "$(wc -l <"$ERR")" = 1 ] && grep -q "^flowbatch: --prometheus .*$bad" "$ERR" ||
		fail "--prometheus $bad: not one clear line: $(cat "$ERR")"
done

fb_start -i "$HOST_IF" -o jsonl -t 250ms --direction in --prometheus "127.0.0.1:$fport" \
	--prometheus-keys proto,dport
wait_attached "$FB_PID" "$HOST_IF"
main_out=$OUT main_err=$ERR main_pid=$FB_PID

# the port is taken now: a second flowbatch says so and exits 1
fb_start -i "$HOST_IF" -o jsonl --prometheus "127.0.0.1:$fport"
wait_exit "$FB_PID" 10
[ "$RC" = 1 ] || fail "port in use: exit $RC, expected 1: $(cat "$ERR")"
grep -q "^flowbatch: --prometheus 127.0.0.1:$fport: address already in use" "$ERR" ||
	fail "port in use: $(cat "$ERR")"
OUT=$main_out ERR=$main_err FB_PID=$main_pid

url="http://127.0.0.1:$fport/metrics"
curl -sS --max-time 5 -o "$TMP/scrape.txt" "$url" || fail "cannot scrape $url"
promtool check metrics <"$TMP/scrape.txt" >"$TMP/promtool.out" 2>&1 ||
	fail "promtool check metrics: $(cat "$TMP/promtool.out")"
[ "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$fport/")" = 404 ] || fail "/ is not 404"
[ "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -X POST -d x "$url")" = 405 ] || fail "POST is not 405"
[ "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -I "$url")" = 200 ] || fail "HEAD is not 200"

cat >"$TMP/prometheus.yml" <<EOC
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: flowbatch
    static_configs:
      - targets: ['127.0.0.1:$fport']
EOC
e2e_bg prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/tsdb" \
	--web.listen-address="127.0.0.1:$pport" --log.level=warn >"$TMP/prometheus.log" 2>&1
prom_pid=$BG_PID
api="http://127.0.0.1:$pport"
for _ in $(seq 1 150); do # start-up bounded: 15 s
	curl -sf --max-time 1 -o /dev/null "$api/-/ready" && break
	is_running "$prom_pid" || fail "prometheus ended: $(tail -5 "$TMP/prometheus.log")"
	sleep 0.1
done
curl -sf --max-time 1 -o /dev/null "$api/-/ready" || fail "prometheus not ready after 15 s: $(tail -5 "$TMP/prometheus.log")"

send -p udp4 --sport 7000 --dport 9 --flows 3 -n 1500 --size 100
sent_udp=$SENT
send -p tcp4 --sport 7100 --dport 443 -n 250 --size 80
sent=$((sent_udp + SENT))
bytes=$((sent_udp * 100 + SENT * 80))

# Prometheus's own view: poll its API until the last batch is scraped
query() {
	curl -sf --max-time 2 --data-urlencode "query=$1" "$api/api/v1/query" |
		"$PY" -c 'import json, sys; r = json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if len(r) == 1 else "none")'
}
got="" gotb="" gotp=""
for _ in $(seq 1 100); do # bounded: 10 s
	got=$(query "flowbatch_interface_packets_total{iface=\"$HOST_IF\",dir=\"in\"}")
	gotb=$(query "flowbatch_interface_bytes_total{iface=\"$HOST_IF\",dir=\"in\"}")
	[ "$got" = "$sent" ] && [ "$gotb" = "$bytes" ] && break
	sleep 0.1
done
[ "$got" = "$sent" ] || fail "prometheus has packets $got for $HOST_IF in, sent $sent"
[ "$gotb" = "$bytes" ] || fail "prometheus has bytes $gotb for $HOST_IF in, sent $bytes"
gotp=$(query "flowbatch_packets_total")
[ "$gotp" = "$sent" ] || fail "prometheus has flowbatch_packets_total $gotp, sent $sent"
g443=$(query "flowbatch_group_packets_total{proto=\"6\",dst_port=\"443\"}")
[ "$g443" = 250 ] || fail "prometheus has group proto=6,dst_port=443 at $g443, sent 250"
lost=$(query "sum(flowbatch_ring_lost_records_total)")
[ "$lost" = 0 ] || fail "ring losses: $lost"
up=$(query "up{job=\"flowbatch\"}")
[ "$up" = 1 ] || fail "prometheus says the target is not up: $up"

fb_stop INT 5
[ "$RC" = 0 ] || fail "flowbatch exited with $RC: $(cat "$ERR")"
check --summary "$ERR" --last-partial true --max-other 0 \
	--flow "src_addr=$PEER_IP proto=17 dst_port=9 packets=$sent_udp" \
	--flow "src_addr=$PEER_IP proto=6 dst_port=443 packets=250"
echo "prometheus: $got packets, $gotb bytes on $HOST_IF in, as sent"

#!/bin/bash
# --events drops,retrans: an nftables rule in the test's namespace drops the
# 4th and 5th packets that arrive there from the client (root namespace) on
# one connection (conntrack's own packet count, so each packet is dropped at
# most once and exactly two are). The rule sits on input, not on the
# client's output: a segment refused on output is an error TCP sends again
# later as new data, not a loss it retransmits.
# flowbatch must show exactly the rule's count under NETFILTER_DROP on that
# connection's tuple, in a drop row and on the flow row, and as many
# retransmitted segments on the client's flow as the client's own tcp_info
# counts. K UDP datagrams to a closed port show as K drops under NO_SOCKET.
# Then the same drops with --events alone (no -i): drop rows, no flows.
. "$(dirname "$0")/lib.sh"

need root python3 nft
e2e_setup
PORT=$((20000 + ID % 20000))
UPORT=$((PORT + 1))
K=7

ip netns exec "$NS" nft -f - <<NFT || skip "nftables cannot load a ct rule here"
table inet fbt$ID {
	chain in {
		type filter hook input priority 0; policy accept;
		ip saddr $HOST_IP tcp dport $PORT ct original packets 4-5 counter drop
	}
}
NFT
# ct byte/packet counters are off by default; the ct rule loaded conntrack
ip netns exec "$NS" sysctl -qw net.netfilter.nf_conntrack_acct=1 || skip "no conntrack accounting"

cat >"$TMP/srv.py" <<'PY'
import socket, sys
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], int(sys.argv[2])))
l.listen(1)
l.settimeout(15)
print("listening", flush=True)
c, _ = l.accept()
c.settimeout(15)
got = 0
while True:
    d = c.recv(65536)
    if not d:
        break
    got += len(d)
c.close()
print("got", got, flush=True)
PY
# ten 1000-byte writes, 20 ms apart, no Nagle: one segment each
cat >"$TMP/cli.py" <<'PY'
import socket, struct, sys, time
host, port, uport, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
c = socket.create_connection((host, port), timeout=10)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for _ in range(10):
    c.sendall(b"x" * 1000)
    time.sleep(0.02)
for _ in range(300):  # until everything is acknowledged (retransmits done)
    b = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 232)
    if struct.unpack_from("I", b, 24)[0] == 0:  # tcpi_unacked
        break
    time.sleep(0.01)
# tcpi_total_retrans: segments this socket retransmitted
print("port", c.getsockname()[1], "retrans", struct.unpack_from("I", b, 100)[0], flush=True)
c.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("", 0))
print("udp", u.getsockname()[1], flush=True)
for _ in range(k):
    u.sendto(b"hello", (host, uport))
    time.sleep(0.005)
time.sleep(0.2)
PY

"$PY" -c 1 || skip "python3 does not run"
fb_start -i "$HOST_IF" --events drops,retrans -o jsonl -t 30s
wait_attached "$FB_PID" "$HOST_IF" 2
for _ in $(seq 1 100); do [ "$(fb_links "$FB_PID")" -ge 4 ] && break; sleep 0.05; done
e2e_bg ip netns exec "$NS" "$PY" "$TMP/srv.py" "$PEER_IP" "$PORT" >"$TMP/srv.out"
SRV=$BG_PID
for _ in $(seq 1 100); do grep -q listening "$TMP/srv.out" && break; sleep 0.05; done
"$PY" "$TMP/cli.py" "$PEER_IP" "$PORT" "$UPORT" "$K" >"$TMP/cli.out" ||
	fail "client failed: $(cat "$TMP/cli.out")"
wait_exit "$SRV" 10
grep -q "got 10000" "$TMP/srv.out" || fail "server got $(cat "$TMP/srv.out")"
fb_stop INT 5
[ "$RC" = 0 ] || fail "flowbatch exited $RC: $(cat "$ERR")"

nft_drops=$(ip netns exec "$NS" nft list table inet "fbt$ID" | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p')
[ "$nft_drops" = 2 ] || fail "the nftables rule dropped $nft_drops packets, 2 expected (conntrack accounting?)"
read -r _ cport _ retrans < <(grep '^port' "$TMP/cli.out")
uport=$(awk '$1 == "udp" { print $2 }' "$TMP/cli.out")
[ "$retrans" -ge 1 ] || fail "the client retransmitted nothing: $(cat "$TMP/cli.out")"

# the drops happened in the namespace, after the packets left $HOST_IF:
# the flow row seen there (dir out) carries them by tuple
t="src_addr=$HOST_IP src_port=$cport dst_addr=$PEER_IP dst_port=$PORT"
u="src_addr=$HOST_IP src_port=$uport dst_addr=$PEER_IP dst_port=$UPORT proto=17"
check --summary "$ERR" --events drops,retrans \
	--row "type=drop reason=NETFILTER_DROP proto=6 $t packets=$nft_drops" \
	--row "type=drop $t packets=$nft_drops" \
	--row "$t dir=out sum:drops=$nft_drops" \
	--row "$t sum:tcp_retrans_segs=$retrans sum:tcp_retrans=1.." \
	--row "type=drop reason=NO_SOCKET $u packets=$K" \
	--row "$u dir=out sum:drops=$K"
echo "tcp: nft dropped $nft_drops = flowbatch NETFILTER_DROP; retransmitted segments $retrans; udp: $K NO_SOCKET"

# events alone: no -i, no packet capture, drop rows only
fb_start --events drops -o jsonl -t 30s
for _ in $(seq 1 100); do [ "$(fb_links "$FB_PID")" -ge 1 ] && break; sleep 0.05; done
[ "$(fb_links "$FB_PID")" -eq 1 ] || fail "--events drops alone: $(fb_links "$FB_PID") links, 1 expected: $(cat "$ERR")"
ids=$(bpf_ids "$FB_PID")
"$PY" -c '
import socket, sys, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("", 0))
print(u.getsockname()[1], flush=True)
for _ in range(int(sys.argv[3])):
    u.sendto(b"hello", (sys.argv[1], int(sys.argv[2])))
    time.sleep(0.005)
time.sleep(0.2)' "$PEER_IP" "$UPORT" "$K" >"$TMP/u2.out"
fb_stop INT 5
[ "$RC" = 0 ] || fail "--events drops alone exited $RC: $(cat "$ERR")"
assert_released $ids
u="src_addr=$HOST_IP src_port=$(cat "$TMP/u2.out") dst_addr=$PEER_IP dst_port=$UPORT"
check --summary "$ERR" --events drops --events-only --row "type=drop reason=NO_SOCKET $u packets=$K"
echo "events alone: $K NO_SOCKET drops, no flow rows; $ids gone"

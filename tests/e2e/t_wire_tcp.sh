#!/bin/bash
# Wire counts of a real TCP transfer (8 MiB each way over the veth pair)
# with TSO/GSO/GRO on and with them off: on TC ingress and egress, on XDP
# ingress in native mode, and with offloads on in generic mode (which runs
# after GRO; with them off it sees what native mode sees). The
# truth is the kernel's own count of the segments each socket put on the
# wire (tcp_info segs_out, +1 for the SYN-ACK, which the listener sends):
# flowbatch's packets and bytes must equal it exactly in every case. Prints
# the figures, records beside packets, for the on/off comparison.
. "$(dirname "$0")/lib.sh"

need root python3 ethtool
e2e_setup
quiet_link
N=$((8 << 20))
PORT=$((20000 + ID % 20000))

# Headers of known length make the bytes exact: timestamps and window
# scaling on both ends (Linux's defaults; the server's end is the root
# namespace), SACK off at the client (in the test's namespace), so no ACK
# carries SACK blocks, whose number tcp_info does not tell. Every segment
# but the SYN and SYN-ACK then has 20 + 12 bytes of TCP header, those two
# 20 + 20 (MSS, timestamps, window scale). Elsewhere only packets are checked.
ip netns exec "$NS" sysctl -qw net.ipv4.tcp_sack=0 net.ipv4.tcp_timestamps=1 net.ipv4.tcp_window_scaling=1 ||
	fail "cannot set the namespace's TCP options"
BYTES_EXACT=1
for s in tcp_timestamps tcp_window_scaling; do
	[ "$(sysctl -n net.ipv4.$s)" = 1 ] || BYTES_EXACT=0
done
[ "$BYTES_EXACT" = 1 ] || skip_check "bytes (the root namespace does not use TCP timestamps and window scaling)"

# client: connects, sends N bytes, half-closes, reads the server's N bytes
# to the end; server: reads to the end, sends N bytes back, closes and waits
# for its FIN to be acknowledged. Each prints its tcp_info afterwards.
cat >"$TMP/xfer.py" <<'PY'
import socket, struct, sys, time
mode, addr, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
buf = b"x" * 65536

def info(s):
    b = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 232)
    # struct tcp_info: state at 0, tcpi_total_retrans at 100, tcpi_segs_out
    # at 136 (every segment it sent, retransmits included), tcpi_bytes_sent
    # (payload, retransmits included) at 200
    return b[0], struct.unpack_from("I", b, 136)[0], struct.unpack_from("Q", b, 200)[0], \
        struct.unpack_from("I", b, 100)[0]

def send_n(s, k):
    while k:
        k -= s.send(buf[:min(k, len(buf))])

def read_all(s):
    t = 0
    while True:
        d = s.recv(1 << 20)
        if not d:
            return t
        t += len(d)

if mode == "server":
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((addr, port))
    l.listen(1)
    l.settimeout(15)
    print("listening", flush=True)
    c, _ = l.accept()
    c.settimeout(15)
else:
    c = socket.create_connection((addr, port), timeout=15)
    send_n(c, n)
    c.shutdown(socket.SHUT_WR)
got = read_all(c)
if mode == "server":
    send_n(c, n)
    c.shutdown(socket.SHUT_WR)
    for _ in range(500):  # until our FIN is acknowledged (TCP_CLOSE)
        if info(c)[0] == 7:
            break
        time.sleep(0.01)
st, segs, sent, retrans = info(c)
print("got=%d state=%d segs_out=%d bytes_sent=%d retrans=%d" % (got, st, segs, sent, retrans), flush=True)
sys.exit(0 if got == n else 1)
PY

field() { sed -n "s/.*\b$1=\([0-9]*\).*/\1/p" "$2"; }

# One transfer while flowbatch watches both directions of $HOST_IF with
# "$@"; checks ingress (client -> server) and egress (server -> client,
# TC egress in every run).
run() {
	local off=$1 label=$2 cseg csent sseg ssent in_p in_b out_b out_p d0 drops lo
	shift 2
	ethtool -K "$HOST_IF" tso "$off" gso "$off" gro "$off" >/dev/null 2>&1 ||
		fail "ethtool -K $HOST_IF tso/gso/gro $off failed"
	ip netns exec "$NS" ethtool -K "$PEER_IF" tso "$off" gso "$off" gro "$off" >/dev/null 2>&1 ||
		fail "ethtool -K $PEER_IF tso/gso/gro $off failed"
	fb_start -i "$HOST_IF" -o jsonl -t 1s --direction both "$@"
	wait_attached "$FB_PID" "$HOST_IF" 2
	d0=$(peer_drops)
	e2e_bg "$PY" "$TMP/xfer.py" server "$HOST_IP" "$PORT" "$N" >"$TMP/srv.out" 2>&1
	local srv=$BG_PID
	wait_for_line "$TMP/srv.out" listening || fail "server did not start: $(cat "$TMP/srv.out")"
	ip netns exec "$NS" "$PY" "$TMP/xfer.py" client "$HOST_IP" "$PORT" "$N" >"$TMP/cli.out" 2>&1 ||
		fail "[$label] client: $(cat "$TMP/cli.out")"
	wait_exit "$srv" 15
	[ "$RC" = 0 ] || fail "[$label] server: $(cat "$TMP/srv.out")"
	drops=$(($(peer_drops) - d0))
	sleep 0.2 # the last ACK's record reaches the ring
	fb_stop INT 5
	[ "$RC" = 0 ] || fail "[$label] flowbatch exited $RC: $(cat "$ERR")"
	PORT=$((PORT + 1))

	cseg=$(field segs_out "$TMP/cli.out") csent=$(field bytes_sent "$TMP/cli.out")
	sseg=$(field segs_out "$TMP/srv.out") ssent=$(field bytes_sent "$TMP/srv.out")
	out_p=$((sseg + 1))
	# Every segment has 14 + 20 + 32 bytes of headers, the SYN (SYN-ACK) 8
	# more. A segment the peer's veth dropped before it reached $HOST_IF (its
	# queue toward XDP or the backlog was full) left the client but never
	# arrived: it is not in the ingress count, and its payload, at most an
	# MSS (1448), is not in the bytes. Egress is seen before any drop.
	in_p=$((cseg - drops))
	in_b=$((csent + 66 * in_p + 8))
	out_b=$((ssent + 66 * out_p + 8))
	lo=$((in_b - 1448 * drops))
	local in="dir=in proto=6 src_addr=$PEER_IP dst_addr=$HOST_IP dst_port=$((PORT - 1))"
	local out="dir=out proto=6 src_addr=$HOST_IP dst_addr=$PEER_IP src_port=$((PORT - 1))"
	local bi="" bo=""
	[ "$BYTES_EXACT" = 1 ] && bi=" bytes=$lo..$in_b" bo=" bytes=$out_b"
	# (check prints flowbatch's records and each direction's packets and bytes)
	check --summary "$ERR" --max-other 0 --flow "$in packets=$in_p$bi" --flow "$out packets=$out_p$bo"
	echo "[$label] offloads $off: truth in $in_p packets $in_b bytes ($drops dropped on the way);" \
		"out $out_p packets $out_b bytes"
}

# packets the peer's veth dropped on the way to $HOST_IF
peer_drops() {
	ip netns exec "$NS" cat "/sys/class/net/$PEER_IF/statistics/tx_dropped"
}

wait_for_line() {
	local i
	for i in $(seq 1 100); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

for off in on off; do
	run "$off" "tc" --hook tc
	run "$off" "xdp native" --hook xdp --xdp-mode native
done
run on "xdp generic" --hook xdp --xdp-mode generic
exit 0

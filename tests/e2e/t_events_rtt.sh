#!/bin/bash
# --events rtt: a sleep-paced echo (the server in the test's namespace
# waits D ms before each answer and keeps delayed ACKs on, so each request
# is acknowledged with its answer, D later) makes the client's RTT D. The
# kernel's smoothed RTT moves 1/8 of the way to each sample, so after 40
# exchanges it is within 1% of D: the flow's rtt_max_us must be D within
# -15%/+50% (scheduling delays only lengthen the sleep), and the minimum,
# taken before it converged, lower. Timing is asserted only as that
# tolerance, not as speed.
. "$(dirname "$0")/lib.sh"

need root python3
e2e_setup
PORT=$((20000 + ID % 20000))
D_MS=20

cat >"$TMP/echo.py" <<'PY'
import socket, sys, time
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], int(sys.argv[2])))
l.listen(1)
l.settimeout(15)
print("listening", flush=True)
c, _ = l.accept()
c.settimeout(15)
while True:
    # off again each time: the kernel may fall back to quick ACKs
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 0)
    d = c.recv(100)
    if not d:
        break
    time.sleep(float(sys.argv[3]) / 1000)
    c.sendall(d)
c.close()
PY

"$PY" -c 1 || skip "python3 does not run"
fb_start -i "$HOST_IF" --events rtt -o jsonl -t 30s
wait_attached "$FB_PID" "$HOST_IF" 2
for _ in $(seq 1 100); do [ "$(fb_links "$FB_PID")" -ge 3 ] && break; sleep 0.05; done
e2e_bg ip netns exec "$NS" "$PY" "$TMP/echo.py" "$PEER_IP" "$PORT" "$D_MS" >"$TMP/srv.out"
SRV=$BG_PID
for _ in $(seq 1 100); do grep -q listening "$TMP/srv.out" && break; sleep 0.05; done
cport=$("$PY" -c '
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
for _ in range(40):
    c.sendall(b"ping")
    assert c.recv(100) == b"ping"
print(c.getsockname()[1])
c.close()' "$PEER_IP" "$PORT") || fail "client failed"
wait_exit "$SRV" 10
fb_stop INT 5
[ "$RC" = 0 ] || fail "flowbatch exited $RC: $(cat "$ERR")"

t="src_addr=$HOST_IP src_port=$cport dst_addr=$PEER_IP dst_port=$PORT dir=out"
d=$((D_MS * 1000))
check --summary "$ERR" --events rtt \
	--row "$t sum:rtt_samples=40.. max:rtt_max_us=$((d * 85 / 100))..$((d * 150 / 100))"
v=$(fbcheck value "$OUT" max:rtt_min_us,max:rtt_max_us,sum:rtt_samples "$t") || fail "RTT of the client's flow"
read -r min max n <<<"$v"
[ "$min" -lt "$max" ] || fail "rtt_min_us $min not below the converged $max"
echo "delay $d us: rtt min $min max $max us over $n samples"

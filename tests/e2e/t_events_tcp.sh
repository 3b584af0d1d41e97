#!/bin/bash
# --events tcp,resets,retrans,rtt beside packet capture: N TCP connections
# from the test's namespace to a server in the root namespace give, on
# their flow rows, exactly one open and one close per socket (the client's
# on client -> server, the server's on server -> client), with a duration;
# a connection to a closed port gives one reset sent (server side, no
# socket), one received and one failed attempt. Each family's ledger is
# exact per batch and per run, and every program and link is gone after a
# normal exit and after SIGKILL. Rows are selected by the test's own tuples:
# events are host-wide.
. "$(dirname "$0")/lib.sh"

need root python3
e2e_setup
N=5
PORT=$((20000 + ID % 20000))
CLOSED=$((PORT + 1))

cat >"$TMP/srv.py" <<'PY'
import socket, sys
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], int(sys.argv[2])))
l.listen(16)
l.settimeout(15)
print("listening", flush=True)
for _ in range(int(sys.argv[3])):
    c, _ = l.accept()
    c.settimeout(15)
    while c.recv(4096):
        pass
    c.close()  # passive close: CLOSE_WAIT, LAST_ACK, CLOSE
PY
cat >"$TMP/cli.py" <<'PY'
import errno, socket, sys, time
host, port, closed, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
for _ in range(n):
    c = socket.create_connection((host, port), timeout=10)
    print("port", c.getsockname()[1], flush=True)
    c.sendall(b"hello")
    c.close()  # active close; the socket reaches CLOSE via time-wait
c = socket.socket()
c.bind(("", 0))
print("refused", c.getsockname()[1], flush=True)
try:
    c.connect((host, closed))
    sys.exit("connected to a closed port")
except OSError as e:
    if e.errno != errno.ECONNREFUSED:
        raise
time.sleep(0.3)  # the last FINs and ACKs
PY

"$PY" -c 1 || skip "python3 does not run"
for run in int kill; do
	fb_start -i "$HOST_IF" --events tcp,resets,retrans,rtt -o jsonl -t 30s
	wait_attached "$FB_PID" "$HOST_IF" 2
	# 2 packet links + 5 tracepoint links (tcp, retrans, 2 resets, rtt)
	for _ in $(seq 1 100); do [ "$(fb_links "$FB_PID")" -ge 7 ] && break; sleep 0.05; done
	[ "$(fb_links "$FB_PID")" -eq 7 ] || fail "[$run] $(fb_links "$FB_PID") BPF links, 7 expected: $(cat "$ERR")"
	ids=$(bpf_ids "$FB_PID")
	[ "$run" = kill ] && { fb_stop KILL 5; assert_released $ids; echo "[kill] $ids gone"; continue; }

	e2e_bg "$PY" "$TMP/srv.py" "$HOST_IP" "$PORT" "$N" >"$TMP/srv.out"
	SRV=$BG_PID
	for _ in $(seq 1 100); do grep -q listening "$TMP/srv.out" && break; sleep 0.05; done
	ip netns exec "$NS" "$PY" "$TMP/cli.py" "$HOST_IP" "$PORT" "$CLOSED" "$N" >"$TMP/cli.out" ||
		fail "client failed: $(cat "$TMP/cli.out")"
	wait_exit "$SRV" 10
	[ "$RC" = 0 ] || fail "server failed"
	fb_stop INT 5
	[ "$RC" = 0 ] || fail "flowbatch exited $RC: $(cat "$ERR")"
	assert_released $ids

	c2s="src_addr=$PEER_IP dst_addr=$HOST_IP dst_port=$PORT"
	s2c="src_addr=$HOST_IP src_port=$PORT dst_addr=$PEER_IP"
	r=$(awk '$1 == "refused" { print $2 }' "$TMP/cli.out")
	specs=(--row "$c2s dir=in sum:tcp_opens=$N sum:tcp_closes=$N"
		--row "$s2c dir=out sum:tcp_opens=$N sum:tcp_closes=$N")
	for p in $(awk '$1 == "port" { print $2 }' "$TMP/cli.out"); do
		specs+=(--row "$c2s src_port=$p sum:tcp_opens=1 sum:tcp_closes=1 sum:tcp_failed=0 max:tcp_duration_us=1..9999999"
			--row "$s2c dst_port=$p sum:tcp_opens=1 sum:tcp_closes=1")
	done
	# the refused connection: one failed attempt, one reset each way, no open
	specs+=(--row "src_addr=$PEER_IP src_port=$r dst_port=$CLOSED sum:tcp_failed=1 sum:tcp_rst_recv=1"
		--row "src_addr=$HOST_IP src_port=$CLOSED dst_port=$r sum:tcp_rst_sent=1"
		--row "src_addr=$PEER_IP src_port=$r sum:tcp_opens=0"
		# the transitions rows count at least this test's own
		--row "type=tcp_state from=SYN_SENT to=ESTABLISHED sum:count=$N..")
	check --summary "$ERR" --events tcp,resets,retrans,rtt "${specs[@]}"
	echo "[int] $N connections: opens and closes exact on both directions; refused: 1 reset each way; $ids gone"
done

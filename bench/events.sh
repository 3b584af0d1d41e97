#!/bin/bash
# Kernel cost of the --events programs (bench/run.sh runs it; or alone:
# bench/events.sh [--quick], FB=path/to/flowbatch). Tracing programs cannot
# run under BPF_PROG_TEST_RUN, so the kernel's own BPF statistics
# (kernel.bpf_stats_enabled=1: run_time_ns and run_cnt per program) are read
# while a fixed workload runs over a veth pair into a private namespace
# (198.19.0.0/24): short TCP connections, connections to a closed port, a
# bulk TCP transfer with 1% of its segments dropped by nftables in the
# namespace (retransmits, drops), and UDP datagrams to a closed port. The
# same workload then runs with events off: the packet programs' cost per
# packet and the transfer's time, on and off.
set -u
cd "$(dirname "$0")/.." || exit 1
FB=${FB:-build/flowbatch}
quick=${1:-}
CONNS=2000 BULK=$((400 << 20)) UDP=20000
[ "$quick" = --quick ] && CONNS=200 BULK=$((40 << 20)) UDP=2000
NS=fbbe$$ H=fbbh$$ P=fbbp$$ HIP=198.19.0.1 PIP=198.19.0.2 PORT=5201
tmp=$(mktemp -d)
old=$(sysctl -n kernel.bpf_stats_enabled)
fbpid=""
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

cleanup() {
	[ -n "$fbpid" ] && kill -INT "$fbpid" 2>/dev/null && wait "$fbpid" 2>/dev/null
	ip link del "$H" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	sysctl -qw kernel.bpf_stats_enabled="$old"
	rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$NS" || exit 1
ip link add "$H" type veth peer name "$P" netns "$NS"
ip addr add "$HIP/24" dev "$H"
ip link set "$H" up
ip -n "$NS" addr add "$PIP/24" dev "$P"
ip -n "$NS" link set "$P" up
ip -n "$NS" link set lo up
ip netns exec "$NS" nft -f - <<NFT
table inet fbbench {
	chain in {
		type filter hook input priority 0; policy accept;
		ip saddr $HIP tcp dport $PORT meta length > 1000 numgen random mod 100 0 drop
	}
}
NFT
sysctl -qw kernel.bpf_stats_enabled=1

cat >"$tmp/srv.py" <<'PY'
import socket, sys
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], int(sys.argv[2])))
l.listen(128)
print("listening", flush=True)
while True:
    c, _ = l.accept()
    while c.recv(1 << 20):
        pass
    c.close()
PY
cat >"$tmp/load.py" <<'PY'
import errno, socket, sys, time
host, port, conns, bulk, udp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
for _ in range(conns):
    c = socket.create_connection((host, port))
    c.sendall(b"x" * 100)
    c.close()
    r = socket.socket()
    try:
        r.connect((host, port + 1))
    except OSError:
        pass
    r.close()
buf = b"x" * (1 << 16)
t0 = time.monotonic()
c = socket.create_connection((host, port))
left = bulk
while left:
    left -= c.send(buf[:min(left, len(buf))])
c.shutdown(socket.SHUT_WR)
c.recv(1)
t = time.monotonic() - t0
c.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(udp):
    u.sendto(b"u", (host, port + 2))
print("bulk_s %.3f" % t)
PY
ip netns exec "$NS" "$PY" "$tmp/srv.py" "$PIP" "$PORT" >"$tmp/srv.out" &
srv=$!
for _ in $(seq 1 100); do grep -q listening "$tmp/srv.out" && break; sleep 0.05; done

# prints "name run_cnt run_time_ns" for every program flowbatch holds
progstats() {
	local id
	for id in $(awk '/^prog_id:/ { print $2 }' /proc/"$1"/fdinfo/* 2>/dev/null | sort -u); do
		bpftool prog show id "$id" 2>/dev/null |
			sed -n 's/^[0-9]*: [a-z_]*  name \([a-z_0-9]*\) .*run_time_ns \([0-9]*\) run_cnt \([0-9]*\).*/\1 \3 \2/p'
	done
}

run() { # label, flowbatch args...
	local label=$1 n
	shift
	"$FB" -i "$H" -o jsonl -t 1s "$@" >/dev/null 2>"$tmp/$label.err" &
	fbpid=$!
	for _ in $(seq 1 100); do
		n=$(grep -l '^link_type:' /proc/"$fbpid"/fdinfo/* 2>/dev/null | wc -l)
		[ "$n" -ge "$want" ] && break
		sleep 0.05
	done
	"$PY" "$tmp/load.py" "$PIP" "$PORT" "$CONNS" "$BULK" "$UDP" >"$tmp/$label.load"
	progstats "$fbpid" >"$tmp/$label.stats"
	kill -INT "$fbpid"
	wait "$fbpid"
	fbpid=""
}

want=2 run off
want=8 run on --events tcp,retrans,resets,rtt,drops
kill "$srv" 2>/dev/null
wait "$srv" 2>/dev/null

echo "## Kernel events (--events): cost per event"
echo
echo "Workload: $CONNS short TCP connections and $CONNS refused ones, $((BULK >> 20)) MiB of TCP with 1% of segments dropped"
echo "by nftables in the receiver's namespace, $UDP UDP datagrams to a closed port (veth, host-wide programs: other"
echo "traffic on the machine is counted too). Kernel BPF statistics (run_time_ns / run_cnt) per program."
echo
echo "| program | family | tracepoint | runs | ns per run |"
echo "|---|---|---|---|---|"
while read -r name cnt ns; do
	case $name in
	fb_ev_tcp_state) f=tcp tp=inet_sock_set_state ;;
	fb_ev_retrans) f=retrans tp=tcp_retransmit_skb ;;
	fb_ev_rst_send) f=resets tp=tcp_send_reset ;;
	fb_ev_rst_recv) f=resets tp=tcp_receive_reset ;;
	fb_ev_rtt) f=rtt tp=tcp_probe ;;
	fb_ev_drop) f=drops tp=kfree_skb ;;
	*) continue ;;
	esac
	echo "| $name | $f | $tp | $cnt | $(awk -v a="$ns" -v b="$cnt" 'BEGIN { printf "%.0f", b ? a / b : 0 }') |"
done <"$tmp/on.stats"
echo
echo "Packet path with events off and on (same workload; TC programs on the sender's side of the pair):"
echo
echo "| events | fb_tc_in ns/pkt | fb_tc_out ns/pkt | packets (tc out) | event program time per tc packet | bulk transfer |"
echo "|---|---|---|---|---|---|"
for label in off on; do
	awk -v label="$label" -v bulk="$(awk '{print $2}' "$tmp/$label.load")" '
		$1 == "fb_tc_in" { ic = $2; it = $3 }
		$1 == "fb_tc_out" { oc = $2; ot = $3 }
		$1 ~ /^fb_ev_/ { et += $3 }
		END { printf "| %s | %.0f | %.0f | %d | %.0f ns | %s s |\n", label, ic ? it / ic : 0, oc ? ot / oc : 0, oc,
		      (ic + oc) ? et / (ic + oc) : 0, bulk }' "$tmp/$label.stats"
done
echo

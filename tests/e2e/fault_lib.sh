# shellcheck shell=bash disable=SC2034
# Helpers for the fault tests (t_ring_overflow, t_sigstop, t_xdp_busy,
# t_clsact_other, t_iface_deleted); sourced after lib.sh. Not a test itself
# (run.sh runs only t_*.sh).

# The system's python3 when there is one: a pyenv shim first on PATH costs
# up to 2 s per start on a loaded machine. Only the standard library is used.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

# No IPv6 and permanent neighbour entries on the test link, so nothing but
# the test's own frames arrives on $HOST_IF ingress (no DAD, MLD, ND, ARP;
# the host's ICMP errors go out, which --direction in does not count).
quiet_link() {
	sysctl -qw "net.ipv6.conf.$HOST_IF.disable_ipv6=1"
	ip netns exec "$NS" sysctl -qw "net.ipv6.conf.$PEER_IF.disable_ipv6=1"
	ip neigh replace "$PEER_IP" lladdr "$PEER_MAC" dev "$HOST_IF" nud permanent
	ip -n "$NS" neigh replace "$HOST_IP" lladdr "$HOST_MAC" dev "$PEER_IF" nud permanent
}

need_fbsend() {
	[ -x "$FBSEND" ] || skip "$FBSEND not built (make build/fbsend)"
}

# send ARGS...: fbsend from inside $NS to $HOST_IF; its output goes to
# $TMP/send.out, and SENT is set to the count it reports.
send() {
	ip netns exec "$NS" "$FBSEND" -i "$PEER_IF" --dst-mac "$HOST_MAC" \
		--src "$PEER_IP" --dst "$HOST_IP" "$@" >"$TMP/send.out" 2>&1
	SEND_RC=$?
	SENT=$(sed -n 's/^sent \([0-9][0-9]*\) in .*/\1/p' "$TMP/send.out" | tail -1)
	[ -n "$SENT" ] || fail "fbsend printed no 'sent N' line (exit $SEND_RC): $(cat "$TMP/send.out")"
}

# wait_ready PID IFACE: waits (bounded, 5 s) until flowbatch process PID has
# its ingress program on IFACE: a BPF link (tcx or XDP) held by PID for that
# ifindex, or its clsact filter. Fails if PID exits first.
wait_ready() {
	local pid=$1 ifc=$2 idx f
	idx=$(cat "/sys/class/net/$ifc/ifindex") || fail "no interface $ifc"
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || fail "flowbatch exited before attaching: $(cat "$TMP"/*.err 2>/dev/null)"
		for f in /proc/"$pid"/fdinfo/*; do
			grep -q '^link_type:' "$f" 2>/dev/null &&
				grep -qx "ifindex:[[:space:]]*$idx" "$f" 2>/dev/null && return 0
		done
		tc filter show dev "$ifc" ingress 2>/dev/null | grep -q 'fb_tc_in' && return 0
		sleep 0.1
	done
	fail "flowbatch did not attach to $ifc within 5 s"
}

# bpf_ids PID: the BPF program and link IDs process PID holds, as
# "prog:N" / "link:N" words (read them while it runs).
bpf_ids() {
	local f
	for f in /proc/"$1"/fdinfo/*; do
		awk '/^link_id:/ { print "link:" $2 } /^prog_id:/ { print "prog:" $2 }' "$f" 2>/dev/null
	done | sort -u
}

# assert_released IDS...: waits (bounded, 3 s) until none of the programs and
# links named (as bpf_ids prints them) exists any more. Scoped to the IDs of
# this test's flowbatch, so other flowbatch runs on the machine do not count.
assert_released() {
	local left id
	[ $# -gt 0 ] || return 0
	for _ in $(seq 1 30); do
		left=""
		for id in "$@"; do
			case $id in
			prog:*) bpftool prog show id "${id#prog:}" >/dev/null 2>&1 && left="$left $id" ;;
			link:*) bpftool link show id "${id#link:}" >/dev/null 2>&1 && left="$left $id" ;;
			esac
		done
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	fail "flowbatch's BPF objects still exist 3 s after it exited:$left"
}

# wait_exit PID TENTHS: waits (bounded) for background child PID to end and
# sets RC to its exit status; fails if it is still running.
wait_exit() {
	local pid=$1 n=$2
	for _ in $(seq 1 "$n"); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && fail "flowbatch (pid $pid) still running after $((n / 10)) s"
	wait "$pid"
	RC=$?
}

# check_jsonl FILE [SRC DST]: validates flowbatch's JSON lines and prints
# shell assignments: BATCHES, SEEN, PACKETS, LOST, LOSSY (batches with
# ring_lost > 0), MAXLOST, BAD (problems found, as text; empty if none),
# OURS (packets in flow rows from SRC to DST), OTHER (flow rows not ours,
# as text). Checks: every line is JSON, batch numbers run 1..N without gaps
# and each batch's start_ms is the previous end_ms, seen == packets +
# ring_lost in every batch row, and flow rows of a batch add up to its
# packets.
check_jsonl() {
	"$PY" - "$@" <<'EOF'
import json, shlex, sys
path = sys.argv[1]
src = sys.argv[2] if len(sys.argv) > 2 else None
dst = sys.argv[3] if len(sys.argv) > 3 else None
bad, other = [], []
batches, flowpk = [], {}
ours = 0
with open(path) as f:
    for n, line in enumerate(f, 1):
        try:
            r = json.loads(line)
        except ValueError:
            bad.append("line %d is not JSON: %r" % (n, line[:120]))
            continue
        if r.get("type") == "batch":
            batches.append(r)
        elif r.get("type") == "flow":
            flowpk[r["batch"]] = flowpk.get(r["batch"], 0) + r["packets"]
            if src and r.get("src_addr") in (src, "::ffff:" + src) and r.get("dst_addr") in (dst, "::ffff:" + dst):
                ours += r["packets"]
            else:
                other.append("batch %s %s -> %s proto %s: %s packets" % (
                    r.get("batch"), r.get("src_addr"), r.get("dst_addr"), r.get("proto"), r.get("packets")))
prev = None
for i, b in enumerate(batches, 1):
    if b["batch"] != i:
        bad.append("batch row %d has number %s" % (i, b["batch"]))
    if b["seen"] != b["packets"] + b["ring_lost"]:
        bad.append("batch %s: seen %s != packets %s + ring_lost %s" % (b["batch"], b["seen"], b["packets"], b["ring_lost"]))
    if flowpk.get(b["batch"], 0) != b["packets"]:
        bad.append("batch %s: flow rows add up to %s packets, batch row says %s" % (b["batch"], flowpk.get(b["batch"], 0), b["packets"]))
    if prev is not None and b["start_ms"] != prev["end_ms"]:
        bad.append("batch %s starts at %s, batch %s ended at %s" % (b["batch"], b["start_ms"], prev["batch"], prev["end_ms"]))
    if b.get("partial") and i != len(batches):
        bad.append("batch %s is partial but not the last" % b["batch"])
    prev = b
if not batches:
    bad.append("no batch rows")
out = dict(BATCHES=len(batches), SEEN=sum(b["seen"] for b in batches),
           PACKETS=sum(b["packets"] for b in batches), LOST=sum(b["ring_lost"] for b in batches),
           LOSSY=sum(1 for b in batches if b["ring_lost"] > 0),
           MAXLOST=max([b["ring_lost"] for b in batches] or [0]),
           BAD="; ".join(bad[:10]), OURS=ours, OTHER="; ".join(other[:10]))
for k, v in out.items():
    print("%s=%s" % (k, shlex.quote(str(v))))
EOF
}

# check_summary FILE: the stderr summary line; sets SUM_SEEN, SUM_PACKETS,
# SUM_LOST, K_SEEN, K_LOST, SUM_EXACT (1 if "(ledger exact)").
check_summary() {
	local line re
	line=$(grep '^flowbatch: [0-9]* batches: seen' "$1" | tail -1)
	re='seen ([0-9]+) = packets ([0-9]+) \+ ring lost ([0-9]+);.*kernel counted seen ([0-9]+), lost ([0-9]+) \((.*)\)$'
	[[ $line =~ $re ]] || fail "no summary line on stderr: $(cat "$1")"
	SUM_SEEN=${BASH_REMATCH[1]}
	SUM_PACKETS=${BASH_REMATCH[2]}
	SUM_LOST=${BASH_REMATCH[3]}
	K_SEEN=${BASH_REMATCH[4]}
	K_LOST=${BASH_REMATCH[5]}
	SUM_EXACT=0
	[ "${BASH_REMATCH[6]}" = "ledger exact" ] && SUM_EXACT=1
	SUMMARY=$line
}

# Diagnostics for a count mismatch: drops on the veth pair and the backlog.
link_drops() {
	echo "host side: $(ip -s -j link show dev "$HOST_IF" 2>/dev/null | "$PY" -c 'import json,sys; s=json.load(sys.stdin)[0]["stats64"]; print("rx", s["rx"], "tx", s["tx"])' 2>/dev/null)"
	echo "peer side: $(ip -n "$NS" -s -j link show dev "$PEER_IF" 2>/dev/null | "$PY" -c 'import json,sys; s=json.load(sys.stdin)[0]["stats64"]; print("rx", s["rx"], "tx", s["tx"])' 2>/dev/null)"
}

# send_bg ARGS...: like send, in the background (SEND_PID); send_wait TENTHS
# waits for it (bounded) and sets SENT / SEND_RC.
send_bg() {
	e2e_bg ip netns exec "$NS" "$FBSEND" -i "$PEER_IF" --dst-mac "$HOST_MAC" \
		--src "$PEER_IP" --dst "$HOST_IP" "$@" >"$TMP/send.out" 2>&1
	SEND_PID=$!
}

send_wait() {
	for _ in $(seq 1 "$1"); do
		kill -0 "$SEND_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$SEND_PID" 2>/dev/null && fail "fbsend (pid $SEND_PID) still running after $(($1 / 10)) s"
	wait "$SEND_PID"
	SEND_RC=$?
	SENT=$(sed -n 's/^sent \([0-9][0-9]*\) in .*/\1/p' "$TMP/send.out" | tail -1)
	[ -n "$SENT" ] || fail "fbsend printed no 'sent N' line (exit $SEND_RC): $(cat "$TMP/send.out")"
}

now_ms() {
	date +%s%3N
}

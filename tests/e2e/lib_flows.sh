# Helpers for the traffic-counting e2e tests (t_exact_*, t_both_dirs,
# t_clsact, t_sigkill, t_sigint, t_count, t_keys). Source after lib.sh.
#
#   fb_start ARGS...       runs "$FB ARGS" in the background, stdout to $OUT,
#                          stderr to $ERR; sets FB_PID
#   fb_links PID           number of BPF links PID holds (from /proc fdinfo:
#                          this bpftool's `link show` names no programs)
#   wait_links PID N       bounded wait until PID holds N links (= attached)
#   wait_filter PID        bounded wait for a clsact filter on $HOST_IF ingress
#   fb_filters IF DIR      number of flowbatch clsact filters on IF's DIR
#   wait_exit PID SECS     bounded wait for PID to end; sets FB_RC
#   assert_running PID     PID still runs (sends finished before -D / -c ran out)
#   fb_prog_ids PID        IDs of the BPF programs PID holds
#   assert_progs_gone IDS  bounded wait until none of those programs exists
#                          (links, XDP and filters all hold their program, so
#                          this scopes "nothing left" to one run even when
#                          other flowbatch instances run on the machine)
#   send ARGS...           fbsend from $NS's $PEER_IF to $HOST_MAC; must send all
#   check ARGS...          tests/e2e/fbcheck.py $OUT ARGS (fails the test on error;
#                          E2E_PRINT=1 also prints the summed flows)
#   canon6 ADDR            ADDR as flowbatch prints it
#   exact_test ARGS...     the body of t_exact_tc / t_exact_xdp

E2E_DIR=$(dirname "$0")
OUT="$TMP/out.jsonl"
ERR="$TMP/err.txt"
FB_PID=""
FB_RC=""

# a python3 that starts fast (a pyenv shim takes over a second per call)
PY=""
for _py in /usr/bin/python3 /usr/local/bin/python3 "$(command -v python3 2>/dev/null)"; do
	[ -n "$_py" ] && [ -x "$_py" ] && { PY=$_py; break; }
done

need_tools() {
	[ -n "$PY" ] || skip "needs python3"
	[ -x "$FBSEND" ] || fail "$FBSEND not built"
}

fb_start() {
	e2e_bg "$FB" "$@" >"$OUT" 2>"$ERR"
	FB_PID=$!
}

fb_links() {
	grep -l '^link_type:' /proc/"$1"/fdinfo/* 2>/dev/null | wc -l
}

wait_links() {
	local i
	for i in $(seq 1 200); do
		kill -0 "$1" 2>/dev/null || fail "flowbatch ended before attaching: $(cat "$ERR" 2>/dev/null)"
		[ "$(fb_links "$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	fail "flowbatch (pid $1) did not attach $2 link(s) within 10s"
}

# Waits until $1 ends (at most $2 seconds); FB_RC gets its exit status.
wait_exit() {
	local i
	for i in $(seq 1 $(($2 * 20))); do
		if ! kill -0 "$1" 2>/dev/null; then
			wait "$1" 2>/dev/null # no "Killed" job notice
			FB_RC=$?
			return 0
		fi
		sleep 0.05
	done
	fail "pid $1 still running after $2s"
}

fb_prog_ids() {
	cat /proc/"$1"/fdinfo/* 2>/dev/null | awk '/^prog_id:/ { print $2 }' | sort -un | tr '\n' ' '
}

assert_progs_gone() {
	local i id left
	command -v bpftool >/dev/null || { echo "note: no bpftool, program removal not checked"; return 0; }
	[ -n "$*" ] || fail "no program IDs to check"
	for i in $(seq 1 100); do
		left=""
		for id in "$@"; do
			bpftool prog show id "$id" >/dev/null 2>&1 && left="$left $id"
		done
		[ -z "$left" ] && return 0
		sleep 0.05
	done
	fail "flowbatch BPF programs still loaded 5s after the process ended:$left"
}

send() {
	local o
	o=$(ip netns exec "$NS" "$FBSEND" -i "$PEER_IF" --dst-mac "$HOST_MAC" -T 5 "$@" 2>&1) ||
		fail "fbsend $* failed: $o"
}

check() {
	[ "${E2E_PRINT:-0}" = 1 ] && set -- --print "$@"
	"$PY" "$E2E_DIR/fbcheck.py" "$OUT" "$@" || {
		echo "--- flowbatch stdout:" >&2
		head -c 6000 "$OUT" >&2
		echo "--- flowbatch stderr:" >&2
		cat "$ERR" >&2
		fail "output check failed"
	}
}

# the form flowbatch prints (RFC 5952), e.g. 2001:2:0:0::1 -> 2001:2::1
canon6() {
	"$PY" -c 'import ipaddress, sys; print(ipaddress.ip_address(sys.argv[1]))' "$1"
}

# Sends exact numbers of packets over known flows into $HOST_IF while
# flowbatch watches its ingress with the extra options "$@", then checks
# every flow's packets and bytes, the per-batch ledger and the summary.
# Frame sizes differ per protocol and several are odd (bytes = packets x size).
exact_test() {
	local ids h6 p6 v4 v6
	need_tools
	e2e_setup
	h6=$(canon6 "$HOST_IP6")
	p6=$(canon6 "$PEER_IP6")
	fb_start -i "$HOST_IF" -o jsonl -D 3s --direction in "$@"
	wait_links "$FB_PID" 1
	ids=$(fb_prog_ids "$FB_PID")

	send -p udp4 --src "$PEER_IP" --dst "$HOST_IP" --sport 1024 --dport 9 --flows 4 -n 1000 --size 101
	send -p tcp4 --src "$PEER_IP" --dst "$HOST_IP" --sport 2000 --dport 9 -n 300 --size 74
	send -p icmp4 --src "$PEER_IP" --dst "$HOST_IP" -n 200 --size 99
	send -p sctp4 --src "$PEER_IP" --dst "$HOST_IP" --sport 5000 --dport 9 -n 50 --size 82
	# 802.1Q-tagged: TC sees the tag moved into skb metadata, XDP sees it in
	# the frame; both must count the same 105 bytes
	send -p udp4 --vlan 7 --src "$PEER_IP" --dst "$HOST_IP" --sport 6000 --dport 9 -n 60 --size 105
	send -p udp6 --src "$PEER_IP6" --dst "$HOST_IP6" --sport 3000 --dport 9 --flows 2 -n 400 --size 121
	send -p tcp6 --src "$PEER_IP6" --dst "$HOST_IP6" --sport 4000 --dport 9 -n 120 --size 87
	send -p icmp6 --src "$PEER_IP6" --dst "$HOST_IP6" -n 150 --size 90
	assert_running "$FB_PID"

	wait_exit "$FB_PID" 10
	[ "$FB_RC" = 0 ] || fail "flowbatch exited with $FB_RC: $(cat "$ERR")"
	v4="iface=$HOST_IF dir=in etype=2048 src_addr=$PEER_IP dst_addr=$HOST_IP"
	v6="iface=$HOST_IF dir=in etype=34525 src_addr=$p6 dst_addr=$h6"
	check --summary "$ERR" --last-partial true --max-other 100 \
		--flow "$v4 proto=17 src_port=1024 dst_port=9 packets=250 bytes=25250" \
		--flow "$v4 proto=17 src_port=1025 dst_port=9 packets=250 bytes=25250" \
		--flow "$v4 proto=17 src_port=1026 dst_port=9 packets=250 bytes=25250" \
		--flow "$v4 proto=17 src_port=1027 dst_port=9 packets=250 bytes=25250" \
		--flow "$v4 proto=6 src_port=2000 dst_port=9 packets=300 bytes=22200 tcp_flags=2" \
		--flow "$v4 proto=1 icmp_type=8 icmp_code=0 packets=200 bytes=19800" \
		--flow "$v4 proto=132 src_port=5000 dst_port=9 packets=50 bytes=4100" \
		--flow "$v4 proto=17 src_port=6000 dst_port=9 packets=60 bytes=6300" \
		--flow "$v6 proto=17 src_port=3000 dst_port=9 packets=200 bytes=24200" \
		--flow "$v6 proto=17 src_port=3001 dst_port=9 packets=200 bytes=24200" \
		--flow "$v6 proto=6 src_port=4000 dst_port=9 packets=120 bytes=10440 tcp_flags=2" \
		--flow "$v6 proto=58 icmp_type=128 icmp_code=0 packets=150 bytes=13500"
	assert_detached "$HOST_IF"
	assert_progs_gone $ids
}

# flowbatch's clsact filters on $1's ingress|egress ($2): lines naming fb_tc
fb_filters() {
	tc filter show dev "$1" "$2" 2>/dev/null | grep -c 'fb_tc'
}

# bounded wait until $HOST_IF ingress has flowbatch's filter (pid $1 alive)
wait_filter() {
	local i
	for i in $(seq 1 200); do
		kill -0 "$1" 2>/dev/null || fail "flowbatch ended before attaching: $(cat "$ERR" 2>/dev/null)"
		[ "$(fb_filters "$HOST_IF" ingress)" -ge 1 ] && return 0
		sleep 0.05
	done
	fail "no flowbatch TC filter on $HOST_IF ingress within 10s"
}

# after sending: flowbatch must still be capturing, or the counts cannot add
# up (a machine so loaded that the sends outlasted -D / -c)
assert_running() {
	kill -0 "$1" 2>/dev/null ||
		fail "flowbatch stopped before all frames were sent (machine too slow for this test's timing)"
}

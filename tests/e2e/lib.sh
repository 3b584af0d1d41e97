# shellcheck shell=bash disable=SC2034
# The one helper library of the end-to-end tests: every tests/e2e/t_*.sh
# sources it. A test gets its own network namespace and veth pair (addresses
# from 198.18.0.0/15 and 2001:2::/48 only), removed on exit by a trap, pass or
# fail; only processes the test started are ended, by PID, and every wait is
# bounded. Not a test itself (run.sh runs only t_*.sh).
#
# Variables (set on sourcing; FB, FBSEND, TCXQ, XDP_OBJ may come from the
# environment, the others default to the directory of $FB):
#   FB FBSEND TCXQ XDP_OBJ   flowbatch, the traffic generator (bench/fbsend.c),
#                            the tcx query helper (tcxq.c), a stand-in foreign
#                            XDP program (xdp_pass.bpf.c)
#   TEST TMP PY              test name, private temporary dir, a python3
#   NS HOST_IF PEER_IF       the test's namespace; veth root side <-> side in NS
#   HOST_IP PEER_IP HOST_IP6 PEER_IP6 HOST_MAC PEER_MAC   the pair's addresses
#   OUT ERR FB_PID           stdout (JSON Lines), stderr and PID of the last
#                            fb_start; each run gets new files under $TMP
#   RC                       exit status from the last wait_exit / fb_stop
#   SENT SEND_RC             frames the last send reported, and its status
#
# Outcome:
#   fail MSG...          ends the test: "FAIL test: MSG", exit 1
#   skip MSG...          ends the test: "SKIP test: MSG", exit 77; under
#                        FLOWBATCH_REQUIRE_PRIV=1 it fails instead
#   skip_check MSG...    one check cannot run here: the test goes on with
#                        the others and ends as skipped (exit 77, "SKIP ...")
#                        instead of passing; under FLOWBATCH_REQUIRE_PRIV=1
#                        it fails at once
#   need WHAT...         skip unless each is here: root, python3, fbsend, tcxq,
#                        bpftool, xdp_pass, or any command name (tc, ping, ...)
#
# Set-up:
#   e2e_setup            needs root; creates $NS and the pair (e2e_link)
#   e2e_link             (re)creates $HOST_IF <-> $PEER_IF with addresses, up,
#                        waits for carrier; sets HOST_MAC, PEER_MAC
#   e2e_pair HOST PEER   one more veth pair HOST <-> PEER (in $NS), up, no
#                        addresses; removed at exit
#   quiet_link           no IPv6 and fixed neighbours on the pair, so only the
#                        test's own frames arrive on $HOST_IF (no DAD, MLD, ND,
#                        ARP)
#
# Processes:
#   e2e_bg CMD...        runs CMD in the background (BG_PID), ended at exit
#   wait_exit PID [SECS] waits (default 10 s) for background PID to end, sets
#                        RC; fails if it still runs
#   fb_start [--netns] ARGS...   flowbatch ARGS in the background (inside $NS
#                        with --netns), stdout to a new $OUT, stderr to a new
#                        $ERR; sets FB_PID
#   wait_attached PID IFACE [N]  waits (10 s) until PID has N (default 1) of
#                        its programs on IFACE: BPF links (XDP, tcx) whose
#                        ifindex is IFACE's, plus flowbatch clsact filters;
#                        fails if PID ends first
#   is_running PID       true while background PID runs (a zombie has ended)
#   assert_running PID [MSG]   PID still runs (by default: the sends ended
#                        before -D / -c did), else fails with MSG
#   fb_kill SIG          sends SIG to $FB_PID, which must still run
#   fb_stop [SIG] [SECS] fb_kill SIG (default INT), then wait_exit $FB_PID SECS
#                        (default 5)
#   fb_wait [SECS]       wait_exit $FB_PID SECS (default 10), and RC must be 0
#
# Traffic (fbsend; output in $TMP/send.out):
#   send ARGS...         from $PEER_IF (in $NS) to $HOST_MAC; --src/--dst
#                        default to the peer's and host's addresses (IPv6 ones
#                        for -p udp6|tcp6|icmp6); fails unless every frame
#                        was sent; sets SENT
#   send_out ARGS...     the same from $HOST_IF to $PEER_MAC (host -> peer)
#   send_via NS|- IFACE MAC ARGS...   the same on any interface ("-": root
#                        namespace), no default addresses
#   send_bg ARGS...      like send, in the background (SEND_PID)
#   send_wait [SECS]     waits (default 10 s) for send_bg; sets SENT and
#                        SEND_RC (not checked: the caller decides)
#
# Checks:
#   check ARGS...        tests/e2e/fbcheck.py check $OUT ARGS: schema, per-batch
#                        ledger and expectations (see fbcheck.py); on failure
#                        prints flowbatch's stdout and stderr and fails.
#                        E2E_PRINT=1 also prints the summed flows
#   fbcheck CMD ARGS...  any other fbcheck.py subcommand, failing the test
#   assert_detached IFACE   nothing of flowbatch's on IFACE (in the root
#                        namespace or $NS): no XDP program at all, no fb_*
#                        tcx program (tcxq), no fb_tc clsact filter; without
#                        tcxq or tc, skip_check for that part
#   bpf_ids PID          the BPF programs and links PID holds, as prog:N and
#                        link:N words (read them while it runs)
#   assert_released IDS...  waits (5 s) until none of those programs and links
#                        exists (bpftool; without it, skip_check); scoped to
#                        one run, so other flowbatch instances do not matter
#   fb_links PID         number of BPF links PID holds
#   fb_filters IFACE ingress|egress   number of flowbatch clsact filters there
#   xdp_prog IFACE       "NAME ID" of the XDP program on IFACE, or nothing
#   canon6 ADDR          ADDR as flowbatch prints it (RFC 5952)
#   link_drops           the pair's rx/tx counters (check prints them when
#                        it fails)
#   now_ms               wall clock in milliseconds

set -u
FB=${FB:-build/flowbatch}
FB_BIN_DIR=$(dirname "$FB")
FBSEND=${FBSEND:-$FB_BIN_DIR/fbsend}
TCXQ=${TCXQ:-$FB_BIN_DIR/tcxq}
XDP_OBJ=${XDP_OBJ:-$FB_BIN_DIR/xdp_pass.bpf.o}
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FBCHECK="$E2E_DIR/fbcheck.py"
TEST=$(basename "$0" .sh)
ID=$$
NS="fbt$ID"
HOST_IF="fbh$ID"
PEER_IF="fbp$ID"
HOST_IP=198.18.$((ID % 250)).1
PEER_IP=198.18.$((ID % 250)).2
HOST_IP6=2001:2:0:$(printf %x $((ID % 65535)))::1
PEER_IP6=2001:2:0:$(printf %x $((ID % 65535)))::2
HOST_MAC="" PEER_MAC=""
TMP=$(mktemp -d /tmp/fbe2e.XXXXXX)
OUT="$TMP/none.jsonl" ERR="$TMP/none.err"
FB_PID="" FB_RUNS=0 RC="" SENT="" SEND_RC="" SEND_PID="" BG_PID=""
BG_PIDS="" EXTRA_LINKS="" SKIPPED="" _STATE=""

# The system's python3 first: a pyenv shim first on PATH costs up to 2 s a
# start on a loaded machine. Only the standard library is used.
PY=""
for _py in /usr/bin/python3 /usr/local/bin/python3 "$(command -v python3 2>/dev/null)"; do
	[ -n "$_py" ] && [ -x "$_py" ] && { PY=$_py; break; }
done

fail() {
	echo "FAIL $TEST: $*" >&2
	exit 1
}

skip() {
	[ "${FLOWBATCH_REQUIRE_PRIV:-0}" = 1 ] &&
		fail "cannot run here ($*) and FLOWBATCH_REQUIRE_PRIV=1"
	echo "SKIP $TEST: $*"
	exit 77
}

skip_check() {
	[ "${FLOWBATCH_REQUIRE_PRIV:-0}" = 1 ] &&
		fail "a check cannot run here ($*) and FLOWBATCH_REQUIRE_PRIV=1"
	echo "note: not checked: $*"
	case "; $SKIPPED; " in *"; $*; "*) ;; *) SKIPPED="$SKIPPED${SKIPPED:+; }$*" ;; esac
}

need() {
	local w
	for w in "$@"; do
		case $w in
		root) [ "$(id -u)" -eq 0 ] || skip "needs root" ;;
		python3) [ -n "$PY" ] || skip "needs python3" ;;
		fbsend) [ -x "$FBSEND" ] || skip "$FBSEND not built (make $FBSEND)" ;;
		tcxq) [ -x "$TCXQ" ] || skip "$TCXQ not built (make $TCXQ)" ;;
		xdp_pass) [ -f "$XDP_OBJ" ] || skip "$XDP_OBJ not built (make $XDP_OBJ)" ;;
		*) command -v "$w" >/dev/null || skip "needs $w" ;;
		esac
	done
}

# _is_child PID: PID is still a child of this shell (maybe a zombie, which is
# safe to signal). Bash reaps finished jobs by itself, after which the PID
# may belong to anyone: check this before every kill.
_is_child() {
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	# shellcheck disable=SC2086
	set -- $st
	[ "$2" = "$$" ] && _STATE=$1
}

is_running() {
	_is_child "$1" && [ "$_STATE" != Z ]
}

e2e_cleanup() {
	local rc=$? p
	for p in $BG_PIDS; do
		_is_child "$p" && kill -TERM "$p" 2>/dev/null
	done
	for p in $BG_PIDS; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			is_running "$p" || break
			sleep 0.1
		done
		_is_child "$p" && kill -KILL "$p" 2>/dev/null
	done
	for p in $EXTRA_LINKS "$HOST_IF"; do
		ip link del "$p" 2>/dev/null
	done
	ip netns del "$NS" 2>/dev/null
	rm -rf "$TMP"
	if [ "$rc" = 0 ] && [ -n "$SKIPPED" ]; then
		echo "SKIP $TEST: $SKIPPED"
		exit 77
	fi
	exit "$rc"
}
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

e2e_link() {
	ip link add "$HOST_IF" type veth peer name "$PEER_IF" netns "$NS" || skip "cannot create veth pairs"
	ip addr add "$HOST_IP/24" dev "$HOST_IF"
	ip -6 addr add "$HOST_IP6/64" dev "$HOST_IF" nodad
	ip link set "$HOST_IF" up
	ip -n "$NS" addr add "$PEER_IP/24" dev "$PEER_IF"
	ip -n "$NS" -6 addr add "$PEER_IP6/64" dev "$PEER_IF" nodad
	ip -n "$NS" link set "$PEER_IF" up
	# keep IPv6 autoconfiguration chatter (RS) off the captured link
	sysctl -qw "net.ipv6.conf.$HOST_IF.router_solicitations=0" 2>/dev/null
	ip netns exec "$NS" sysctl -qw "net.ipv6.conf.$PEER_IF.router_solicitations=0" 2>/dev/null
	HOST_MAC=$(cat "/sys/class/net/$HOST_IF/address")
	PEER_MAC=$(ip netns exec "$NS" cat "/sys/class/net/$PEER_IF/address")
	for _ in $(seq 1 50); do
		[ "$(cat "/sys/class/net/$HOST_IF/operstate")" = up ] && break
		sleep 0.1
	done
}

e2e_setup() {
	need root ip
	[ -x "$FB" ] || fail "$FB not built"
	ip netns add "$NS" || skip "cannot create network namespaces"
	ip -n "$NS" link set lo up
	e2e_link
}

e2e_pair() {
	ip link add "$1" type veth peer name "$2" netns "$NS" || fail "cannot add veth pair $1/$2"
	EXTRA_LINKS="$EXTRA_LINKS $1"
	ip link set "$1" up
	ip -n "$NS" link set "$2" up
}

quiet_link() {
	sysctl -qw "net.ipv6.conf.$HOST_IF.disable_ipv6=1"
	ip netns exec "$NS" sysctl -qw "net.ipv6.conf.$PEER_IF.disable_ipv6=1"
	ip neigh replace "$PEER_IP" lladdr "$PEER_MAC" dev "$HOST_IF" nud permanent
	ip -n "$NS" neigh replace "$HOST_IP" lladdr "$HOST_MAC" dev "$PEER_IF" nud permanent
}

e2e_bg() {
	"$@" &
	BG_PID=$!
	BG_PIDS="$BG_PIDS $BG_PID"
}

wait_exit() {
	local pid=$1 secs=${2:-10} i
	for i in $(seq 1 $((secs * 20))); do
		is_running "$pid" || break
		sleep 0.05
	done
	is_running "$pid" && fail "pid $pid still running after ${secs}s"
	wait "$pid" 2>/dev/null # 2>/dev/null: no "Killed" job notice
	RC=$?
	BG_PIDS=$(echo "$BG_PIDS" | tr ' ' '\n' | grep -vx "$pid" | tr '\n' ' ')
}

fb_start() {
	local pre=()
	if [ "${1:-}" = --netns ]; then
		pre=(ip netns exec "$NS")
		shift
	fi
	FB_RUNS=$((FB_RUNS + 1))
	OUT="$TMP/fb$FB_RUNS.jsonl"
	ERR="$TMP/fb$FB_RUNS.err"
	e2e_bg "${pre[@]}" "$FB" "$@" >"$OUT" 2>"$ERR"
	FB_PID=$BG_PID
}

# the namespace IFACE lives in: "" for the root one, else $NS
_ns_of() {
	if [ -e "/sys/class/net/$1" ]; then
		echo ""
	elif ip -n "$NS" link show dev "$1" >/dev/null 2>&1; then
		echo "$NS"
	else
		return 1
	fi
}

# runs a command in the namespace IFACE ($1) lives in
_in_ns_of() {
	local ns
	ns=$(_ns_of "$1") || return 1
	shift
	if [ -n "$ns" ]; then
		ip netns exec "$ns" "$@"
	else
		"$@"
	fi
}

fb_filters() {
	_in_ns_of "$1" tc filter show dev "$1" "$2" 2>/dev/null | grep -c 'fb_tc'
}

fb_links() {
	grep -l '^link_type:' /proc/"$1"/fdinfo/* 2>/dev/null | wc -l
}

# links PID ($1) holds on ifindex $2
_links_on() {
	local f n=0
	for f in /proc/"$1"/fdinfo/*; do
		grep -q '^link_type:' "$f" 2>/dev/null &&
			grep -qx "ifindex:[[:space:]]*$2" "$f" 2>/dev/null && n=$((n + 1))
	done
	echo "$n"
}

wait_attached() {
	local pid=$1 ifc=$2 want=${3:-1} idx have i
	need tc
	idx=$(_in_ns_of "$ifc" cat "/sys/class/net/$ifc/ifindex") || fail "no interface $ifc"
	for i in $(seq 1 200); do
		is_running "$pid" || fail "flowbatch ended before attaching to $ifc: $(cat "$ERR" 2>/dev/null)"
		have=$(($(_links_on "$pid" "$idx") + $(fb_filters "$ifc" ingress) + $(fb_filters "$ifc" egress)))
		[ "$have" -ge "$want" ] && return 0
		sleep 0.05
	done
	fail "flowbatch (pid $pid) has $have of $want programs on $ifc after 10s"
}

assert_running() {
	local why="flowbatch stopped before all frames were sent (machine too slow for the test's timing)"
	is_running "$1" || fail "${2:-$why}"
}

fb_kill() {
	is_running "$FB_PID" || fail "flowbatch (pid $FB_PID) ended before SIG$1: $(cat "$ERR")"
	kill -"$1" "$FB_PID" || fail "cannot send SIG$1 to flowbatch (pid $FB_PID)"
}

fb_stop() {
	fb_kill "${1:-INT}"
	wait_exit "$FB_PID" "${2:-5}"
}

fb_wait() {
	wait_exit "$FB_PID" "${1:-10}"
	[ "$RC" = 0 ] || fail "flowbatch exited with $RC: $(cat "$ERR")"
}

# default --src/--dst for "send ARGS": IPv6 ones when -p names an IPv6 protocol
_send_addrs() {
	local a prev="" six=0
	for a in "$@"; do
		case "$prev$a" in -pudp6 | -ptcp6 | -picmp6 | --protoudp6 | --prototcp6 | --protoicmp6) six=1 ;; esac
		prev=$a
	done
	if [ "$six" = 1 ]; then
		echo "$PEER_IP6 $HOST_IP6"
	else
		echo "$PEER_IP $HOST_IP"
	fi
}

_sent() {
	SENT=$(sed -n 's/^sent \([0-9][0-9]*\) in .*/\1/p' "$TMP/send.out" | tail -1)
	[ -n "$SENT" ] || fail "fbsend printed no 'sent N' line (exit $SEND_RC): $(cat "$TMP/send.out")"
}

# _fbsend fg|bg NS|- IFACE MAC ARGS...: the one place fbsend is started
_fbsend() {
	local mode=$1 ns=$2 ifc=$3 mac=$4 pre=()
	shift 4
	need fbsend
	[ "$ns" = - ] || pre=(ip netns exec "$ns")
	if [ "$mode" = bg ]; then
		e2e_bg "${pre[@]}" "$FBSEND" -i "$ifc" --dst-mac "$mac" "$@" >"$TMP/send.out" 2>&1
		SEND_PID=$BG_PID
		return 0
	fi
	"${pre[@]}" "$FBSEND" -i "$ifc" --dst-mac "$mac" "$@" >"$TMP/send.out" 2>&1
	SEND_RC=$?
	[ "$SEND_RC" = 0 ] || fail "fbsend -i $ifc $* failed (exit $SEND_RC): $(cat "$TMP/send.out")"
	_sent
}

send_via() {
	_fbsend fg "$@"
}

send() {
	local a
	read -r -a a <<<"$(_send_addrs "$@")"
	_fbsend fg "$NS" "$PEER_IF" "$HOST_MAC" --src "${a[0]}" --dst "${a[1]}" "$@"
}

send_out() {
	local a
	read -r -a a <<<"$(_send_addrs "$@")"
	_fbsend fg - "$HOST_IF" "$PEER_MAC" --src "${a[1]}" --dst "${a[0]}" "$@"
}

send_bg() {
	local a
	read -r -a a <<<"$(_send_addrs "$@")"
	_fbsend bg "$NS" "$PEER_IF" "$HOST_MAC" --src "${a[0]}" --dst "${a[1]}" "$@"
}

send_wait() {
	local keep=$RC
	wait_exit "$SEND_PID" "${1:-10}"
	SEND_RC=$RC
	RC=$keep
	_sent
}

_dump() {
	echo "--- flowbatch stdout ($OUT):" >&2
	head -c 6000 "$OUT" >&2 2>/dev/null
	echo "--- flowbatch stderr:" >&2
	cat "$ERR" >&2 2>/dev/null
	echo "--- last fbsend: $(cat "$TMP/send.out" 2>/dev/null)" >&2
	link_drops >&2
}

check() {
	need python3
	[ "${E2E_PRINT:-0}" = 1 ] && set -- --print "$@"
	"$PY" "$FBCHECK" check "$OUT" "$@" || {
		_dump
		fail "output check failed"
	}
}

fbcheck() {
	need python3
	"$PY" "$FBCHECK" "$@" || {
		_dump
		fail "fbcheck $1 failed"
	}
}

assert_detached() {
	local ifc=$1 ns
	# an interface that is gone has nothing attached
	ns=$(_ns_of "$ifc") || return 0
	_in_ns_of "$ifc" ip link show dev "$ifc" | grep -q 'xdp' &&
		fail "an XDP program is still attached to $ifc"
	if [ -x "$TCXQ" ]; then
		local q
		q=$(_in_ns_of "$ifc" "$TCXQ" "$ifc") || fail "$TCXQ $ifc failed"
		echo "$q" | grep -qE ' fb_[a-z_]+$' && fail "a flowbatch tcx program is still attached to $ifc: $q"
	else
		skip_check "tcx programs on $ifc ($TCXQ not built)"
	fi
	if command -v tc >/dev/null; then
		[ "$(fb_filters "$ifc" ingress)" = 0 ] || fail "a flowbatch TC filter remains on $ifc ingress"
		[ "$(fb_filters "$ifc" egress)" = 0 ] || fail "a flowbatch TC filter remains on $ifc egress"
	else
		skip_check "clsact filters on $ifc (no tc)"
	fi
	return 0
}

bpf_ids() {
	local f
	for f in /proc/"$1"/fdinfo/*; do
		awk '/^link_id:/ { print "link:" $2 } /^prog_id:/ { print "prog:" $2 }' "$f" 2>/dev/null
	done | sort -u | tr '\n' ' '
}

assert_released() {
	local left id
	[ $# -gt 0 ] || fail "no BPF program or link IDs to check"
	command -v bpftool >/dev/null || { skip_check "BPF programs/links freed (no bpftool)"; return 0; }
	for _ in $(seq 1 100); do
		left=""
		for id in "$@"; do
			case $id in
			link:*) bpftool link show id "${id#link:}" >/dev/null 2>&1 && left="$left $id" ;;
			*) bpftool prog show id "${id#prog:}" >/dev/null 2>&1 && left="$left $id" ;;
			esac
		done
		[ -z "$left" ] && return 0
		sleep 0.05
	done
	fail "flowbatch's BPF objects still exist 5 s after it exited:$left"
}

xdp_prog() {
	ip -d link show dev "$1" | sed -n 's/.*prog\/xdp[a-z]* id \([0-9]*\) name \([^ ]*\).*/\2 \1/p' | head -1
}

canon6() {
	need python3
	"$PY" -c 'import ipaddress, sys; print(ipaddress.ip_address(sys.argv[1]))' "$1"
}

link_drops() {
	local ifc c line
	for ifc in "$HOST_IF" "$PEER_IF"; do
		line="$ifc:"
		for c in rx_packets rx_dropped tx_packets tx_dropped; do
			line="$line $c $(_in_ns_of "$ifc" cat "/sys/class/net/$ifc/statistics/$c" 2>/dev/null)"
		done
		echo "$line"
	done
}

now_ms() {
	date +%s%3N
}

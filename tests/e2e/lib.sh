# Shared helpers for end-to-end tests; sourced by each tests/e2e/t_*.sh.
# Every test gets its own network namespace and veth pair, with addresses
# from 198.18.0.0/15 and 2001:2::/48 only, and removes them on exit (trap),
# pass or fail. Only processes the test started are ended, by PID.
#
#   e2e_setup            creates $NS (peer namespace) and $HOST_IF (root side)
#                        <-> $PEER_IF (in $NS); $HOST_IP/$PEER_IP, $HOST_IP6/$PEER_IP6
#   e2e_bg CMD...        runs CMD in the background, remembers its PID ($!)
#   fail MSG / skip MSG  end the test (skip fails under FLOWBATCH_REQUIRE_PRIV=1)

set -u
FB=${FB:-build/flowbatch}
FBSEND=${FBSEND:-build/fbsend}
TEST=$(basename "$0" .sh)
ID=$$
NS="fbt$ID"
HOST_IF="fbh$ID"
PEER_IF="fbp$ID"
HOST_IP=198.18.$((ID % 250)).1
PEER_IP=198.18.$((ID % 250)).2
HOST_IP6=2001:2:0:$(printf %x $((ID % 65535)))::1
PEER_IP6=2001:2:0:$(printf %x $((ID % 65535)))::2
TMP=$(mktemp -d /tmp/fbe2e.XXXXXX)
BG_PIDS=""

fail() {
	echo "FAIL $TEST: $*" >&2
	exit 1
}

skip() {
	if [ "${FLOWBATCH_REQUIRE_PRIV:-0}" = 1 ]; then
		echo "FAIL $TEST: cannot run here ($*) and FLOWBATCH_REQUIRE_PRIV=1" >&2
		exit 1
	fi
	echo "SKIP $TEST: $*"
	exit 77
}

e2e_cleanup() {
	for p in $BG_PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $BG_PIDS; do
		# bounded wait, then force
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
	done
	ip link del "$HOST_IF" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$TMP"
}
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

e2e_require_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	command -v ip >/dev/null || skip "needs iproute2"
	[ -x "$FB" ] || fail "$FB not built"
}

# Creates the veth pair $HOST_IF <-> $PEER_IF (in $NS) with its addresses,
# brings it up, sets $HOST_MAC/$PEER_MAC and waits (bounded) for carrier.
# e2e_setup calls it; a test that deletes the pair calls it to recreate it.
e2e_link() {
	ip link add "$HOST_IF" type veth peer name "$PEER_IF" netns "$NS" || skip "cannot create veth pairs"
	ip addr add "$HOST_IP/24" dev "$HOST_IF"
	ip -6 addr add "$HOST_IP6/64" dev "$HOST_IF" nodad
	ip link set "$HOST_IF" up
	ip -n "$NS" addr add "$PEER_IP/24" dev "$PEER_IF"
	ip -n "$NS" -6 addr add "$PEER_IP6/64" dev "$PEER_IF" nodad
	ip -n "$NS" link set "$PEER_IF" up
	# keep IPv6 autoconfiguration chatter (RS, MLD) off the captured link
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
	e2e_require_root
	ip netns add "$NS" || skip "cannot create network namespaces"
	ip -n "$NS" link set lo up
	e2e_link
}

e2e_bg() {
	"$@" &
	BG_PIDS="$BG_PIDS $!"
}

# Waits (bounded, up to $2 tenths of a second) until file $1 contains text $3.
wait_for() {
	for _ in $(seq 1 "$2"); do
		grep -q -- "$3" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# Nothing of flowbatch's may stay attached to $1 (an interface name).
assert_detached() {
	if ip link show dev "$1" 2>/dev/null | grep -q 'xdp'; then
		fail "an XDP program is still attached to $1"
	fi
	# tcx attachments of this interface, by program name (build/tcxq)
	if [ -x "${TCXQ:-build/tcxq}" ] && ip link show dev "$1" >/dev/null 2>&1; then
		"${TCXQ:-build/tcxq}" "$1" | grep -qE ' fb_(tc_in|tc_out)$' &&
			fail "a flowbatch tcx program is still attached to $1"
	fi
	tc filter show dev "$1" ingress 2>/dev/null | grep -q 'fb_tc' && fail "a flowbatch TC filter remains on $1 ingress"
	tc filter show dev "$1" egress 2>/dev/null | grep -q 'fb_tc' && fail "a flowbatch TC filter remains on $1 egress"
	return 0
}

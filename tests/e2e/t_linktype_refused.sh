#!/bin/bash
# A link type flowbatch cannot parse is refused at start: a tun device in
# the test's namespace, its link type set to InfiniBand (TUNSETLINK), gives
# exit 1 and one stderr line naming the interface and the type, on both
# hooks, and nothing stays attached. No made-up flows.
. "$(dirname "$0")/lib.sh"
need python3
e2e_setup
DEV=fbib$((ID % 100000))
ip netns exec "$NS" "$PY" - "$DEV" <<'PYEOF' || fail "cannot make a tun device with link type 32"
import fcntl, os, struct, sys
TUNSETIFF, TUNSETPERSIST, TUNSETLINK = 0x400454ca, 0x400454cb, 0x400454cd
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", sys.argv[1].encode(), 0x0001 | 0x1000))
fcntl.ioctl(fd, TUNSETLINK, 32)  # ARPHRD_INFINIBAND
fcntl.ioctl(fd, TUNSETPERSIST, 1)
PYEOF
ip -n "$NS" link set "$DEV" up
[ "$(ip netns exec "$NS" cat "/sys/class/net/$DEV/type")" = 32 ] || fail "link type not set"

for hook in tc xdp; do
	ip netns exec "$NS" timeout 20 "$FB" -i "$DEV" --hook $hook -o jsonl -D 2s >"$TMP/out" 2>"$TMP/err"
	rc=$?
	[ "$rc" = 1 ] || fail "[$hook] exit $rc, want 1: $(cat "$TMP/err")"
	[ "$(wc -l <"$TMP/err")" = 1 ] || fail "[$hook] not one line on stderr: $(cat "$TMP/err")"
	grep -q "^flowbatch: .*$DEV.*link type 32" "$TMP/err" || fail "[$hook] unexpected message: $(cat "$TMP/err")"
	[ ! -s "$TMP/out" ] || fail "[$hook] rows written: $(head -3 "$TMP/out")"
	assert_detached "$DEV"
done
exit 0

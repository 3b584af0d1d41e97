#!/bin/bash
# Jumbo frames: a veth pair at MTU 9000. XDP attaches there in native mode
# (the frags-aware program; a single-buffer one is refused at this MTU) and
# every frame counts its full length, 9014 bytes included; generic XDP and
# TC count the same.
. "$(dirname "$0")/lib.sh"

need root fbsend python3
e2e_setup
# why the program is frags-aware: the kernel refuses a single-buffer one
# on a veth whose peer's MTU does not fit a page
if [ -f "$XDP_OBJ" ] && ip link set "$HOST_IF" mtu 9000 && ip -n "$NS" link set "$PEER_IF" mtu 9000; then
	ip link set dev "$HOST_IF" xdpdrv obj "$XDP_OBJ" sec xdp 2>/dev/null &&
		{ ip link set dev "$HOST_IF" xdpdrv off; echo "note: this kernel takes single-buffer XDP at MTU 9000"; }
fi
ip link set "$HOST_IF" mtu 9000 || skip "cannot set MTU 9000 on veth"
ip -n "$NS" link set "$PEER_IF" mtu 9000
quiet_link

run() {
	local label=$1 mode
	shift
	fb_start -i "$HOST_IF" -o jsonl -t 1s --direction in "$@"
	wait_attached "$FB_PID" "$HOST_IF" 1
	mode=$(ip link show dev "$HOST_IF" | head -1 | grep -o ' xdp[a-z]* ' | tr -d ' ')
	send -p udp4 --sport 7000 --dport 9 -n 100 --size 9014
	send -p udp4 --sport 7001 --dport 9 -n 50 --size 9000
	send -p udp4 --sport 7002 --dport 9 -n 30 --size 4000
	send -p udp6 --sport 7003 --dport 9 -n 20 --size 9014
	assert_running "$FB_PID"
	fb_stop INT 5
	[ "$RC" = 0 ] || fail "[$label] flowbatch exited $RC: $(cat "$ERR")"
	local v4="iface=$HOST_IF dir=in etype=2048 proto=17 src_addr=$PEER_IP dst_addr=$HOST_IP"
	check --summary "$ERR" --max-other 0 \
		--flow "$v4 src_port=7000 packets=100 bytes=901400" \
		--flow "$v4 src_port=7001 packets=50 bytes=450000" \
		--flow "$v4 src_port=7002 packets=30 bytes=120000" \
		--flow "iface=$HOST_IF dir=in etype=34525 proto=17 src_port=7003 packets=20 bytes=180280"
	echo "[$label] exact${mode:+ ($mode)}"
	RUN_MODE=$mode
}

run "xdp native" --hook xdp --xdp-mode native
[ "$RUN_MODE" = xdp ] || fail "XDP was not attached in native mode at MTU 9000 (ip link: '$RUN_MODE')"
run "xdp generic" --hook xdp --xdp-mode generic
[ "$RUN_MODE" = xdpgeneric ] || fail "XDP was not attached in generic mode (ip link: '$RUN_MODE')"
run "tc" --hook tc
exit 0

#!/bin/bash
# `make demo`: a namespace and a veth pair of its own (198.18.0.0/15 and
# 2001:2::/48 only), a few seconds of mixed TCP/UDP/ICMP traffic across it,
# and flowbatch showing the live batches. Removes everything on exit.
set -u
FB=${1:-build/flowbatch}
SEND=${2:-build/fbsend}
NS=fbdemo$$
H=fbdemo0
P=fbdemo1
pids=""

cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip link del "$H" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$(id -u)" -ne 0 ]; then
	echo "flowbatch: the demo needs root (try: sudo make demo)" >&2
	exit 1
fi
ip link del "$H" 2>/dev/null
ip netns add "$NS" || exit 1
ip link add "$H" type veth peer name "$P" netns "$NS" || exit 1
ip addr add 198.18.0.1/24 dev "$H"
ip -6 addr add 2001:2::1/64 dev "$H" nodad
ip link set "$H" up
ip -n "$NS" addr add 198.18.0.2/24 dev "$P"
ip -n "$NS" -6 addr add 2001:2::2/64 dev "$P" nodad
ip -n "$NS" link set "$P" up
ip -n "$NS" link set lo up
mac=$(cat /sys/class/net/$H/address)

# traffic starts once flowbatch is attached; each sender is bounded in
# count and time
(
	sleep 0.5
	s="ip netns exec $NS $SEND -i $P --dst-mac $mac -T 6"
	$s -p udp4 --src 198.18.0.2 --dst 198.18.0.1 --sport 40000 --dport 53 --flows 4 --size 90 -n 12000 -r 2500 >/dev/null &
	$s -p tcp4 --src 198.18.0.2 --dst 198.18.0.1 --sport 50000 --dport 443 --tcp-flags PA --size 1400 -n 6000 -r 1200 >/dev/null &
	$s -p tcp4 --src 198.18.0.3 --dst 198.18.0.1 --sport 51000 --dport 22 --tcp-flags S --size 64 -n 600 -r 120 >/dev/null &
	$s -p icmp4 --src 198.18.0.2 --dst 198.18.0.1 --size 98 -n 25 -r 5 >/dev/null &
	$s -p udp6 --src 2001:2::2 --dst 2001:2::1 --sport 5353 --dport 5353 --size 120 -n 1500 -r 300 >/dev/null &
	$s -p arp --src 198.18.0.2 --dst 198.18.0.1 -n 10 -r 2 >/dev/null &
	wait
) &
pids="$pids $!"

echo "flowbatch demo: capturing on $H (veth into namespace $NS) for 6 seconds"
"$FB" -i "$H" -t 1s -D 6s -n 8 -o table

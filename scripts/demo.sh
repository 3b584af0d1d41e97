#!/bin/bash
# `make demo`: a namespace and a veth pair of its own (198.18.0.0/15 and
# 2001:2::/48 only), a few seconds of mixed traffic across it: real TCP
# connections (handshake, data both ways, close; python3 sockets) beside
# UDP, ICMP and ARP (fbsend), and flowbatch showing the live batches.
# Removes everything on exit.
set -u
FB=${1:-build/flowbatch}
SEND=${2:-build/fbsend}
NS=fbdemo$$
H=fbdemo0
P=fbdemo1
pids=""
TCP_PY=$(mktemp /tmp/fbdemo.XXXXXX.py)

cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip link del "$H" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -f "$TCP_PY"
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

# Real TCP: "web" fetches (a short request, ~300 KB back, close) every
# 0.4 s over IPv4, and one long interactive session over IPv6 with small
# messages both ways. The servers listen on the host side, the clients
# run in the namespace; everything stops after the given seconds.
cat >"$TCP_PY" <<'PY'
import socket, sys, threading, time
role, secs = sys.argv[1], float(sys.argv[2])
end = time.time() + secs

def serve(fam, addr, port, handler):
    l = socket.socket(fam)
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((addr, port))
    l.listen(16)
    l.settimeout(0.2)
    while time.time() < end:
        try:
            c, _ = l.accept()
        except socket.timeout:
            continue
        threading.Thread(target=handler, args=(c,), daemon=True).start()

def web(c):
    with c:
        c.settimeout(2)
        if c.recv(4096):
            c.sendall(b"HTTP/1.0 200 OK\r\n\r\n" + b"w" * 300000)

def shell(c):
    with c:
        c.settimeout(2)
        while True:
            d = c.recv(4096)
            if not d:
                return
            c.sendall(d * 8)

if role == "server":
    for a in ((socket.AF_INET, "198.18.0.1", 443, web), (socket.AF_INET6, "2001:2::1", 22, shell)):
        threading.Thread(target=serve, args=a, daemon=True).start()
    time.sleep(secs + 0.5)
else:
    def fetches():
        while time.time() < end - 0.5:
            try:
                with socket.create_connection(("198.18.0.1", 443), timeout=2) as s:
                    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                    while s.recv(65536):
                        pass
            except OSError:
                pass
            time.sleep(0.4)
    threading.Thread(target=fetches, daemon=True).start()
    try:
        with socket.create_connection(("2001:2::1", 22), timeout=2) as s:
            while time.time() < end - 0.5:
                s.sendall(b"ls -l\n")
                s.recv(4096)
                time.sleep(0.1)
    except OSError:
        pass
    time.sleep(max(0, end - time.time()))
PY

# traffic starts once flowbatch is attached; each sender is bounded in
# count and time
(
	python3 "$TCP_PY" server 6.5 &
	sleep 0.5
	ip netns exec "$NS" python3 "$TCP_PY" client 5.5 &
	s="ip netns exec $NS $SEND -i $P --dst-mac $mac -T 6"
	$s -p udp4 --src 198.18.0.2 --dst 198.18.0.1 --sport 40000 --dport 53 --flows 4 --size 90 -n 12000 -r 2500 >/dev/null &
	$s -p icmp4 --src 198.18.0.2 --dst 198.18.0.1 --size 98 -n 25 -r 5 >/dev/null &
	$s -p udp6 --src 2001:2::2 --dst 2001:2::1 --sport 5353 --dport 5353 --size 120 -n 1500 -r 300 >/dev/null &
	$s -p arp --src 198.18.0.2 --dst 198.18.0.1 -n 10 -r 2 >/dev/null &
	wait
) &
pids="$pids $!"

echo "flowbatch demo: capturing on $H (veth into namespace $NS) for 6 seconds"
"$FB" -i "$H" -t 1s -D 6s -n 8 -o table

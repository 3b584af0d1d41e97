#!/bin/sh
# Installs the Debian packages flowbatch needs to build and test, only those
# that are missing, so running it twice is cheap. Usage: scripts/deps.sh [bench]
set -eu
pkgs="clang llvm make gcc pkg-config libbpf-dev libelf-dev zlib1g-dev bpftool iproute2 libcriterion-dev nftables python3 iputils-ping ethtool"
# the network outputs and the programs their tests talk to (issue 9)
pkgs="$pkgs libmicrohttpd-dev prometheus nfdump tshark curl"
# file outputs' tests read them back with jq and zcat, and rotate with logrotate (issue 8)
pkgs="$pkgs jq gzip logrotate"
[ "${1:-}" = bench ] && pkgs="$pkgs tcpdump pmacct softflowd nfdump linux-perf"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "flowbatch: missing packages:$missing (run as root, or: sudo $0 $*)" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || true
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null

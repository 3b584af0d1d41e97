#!/bin/bash
# `make bench`: every benchmark in one run, so ratios compare like with like
# on this (noisy) machine. Prints the tables and writes them, with machine,
# kernel and date, to bench/results-<date>.md. Usage: bench/run.sh [--quick]
set -u
cd "$(dirname "$0")/.." || exit 1
if [ "$(id -u)" -ne 0 ]; then
	echo "flowbatch: the benchmarks need root (try: sudo make bench)" >&2
	exit 1
fi
quick=${1:-}
stamp=$(date -u +%Y-%m-%d)
out=bench/results-$stamp.md
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

{
	echo "# flowbatch benchmarks, $stamp"
	echo
	echo "- machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
	echo "- kernel: $(uname -r); flowbatch $("${OUT:-build}"/flowbatch --version | cut -d' ' -f2), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
} > "$tmp"

bench/run_micro.sh $quick | tee -a "$tmp"
bench/e2e.sh $quick | tee -a "$tmp"
bench/events.sh $quick | tee -a "$tmp"

cp "$tmp" "$out"
echo
echo "written: $out"

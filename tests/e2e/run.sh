#!/bin/sh
# Runs every tests/e2e/t_*.sh; prints output only for failures.
# Usage: tests/e2e/run.sh [build/flowbatch] [pattern]
# fbsend, tcxq and xdp_pass.bpf.o are taken from flowbatch's directory
# unless FBSEND, TCXQ, XDP_OBJ say otherwise (see lib.sh).
cd "$(dirname "$0")/../.." || exit 1
export FB="${1:-build/flowbatch}"
pat="${2:-}"
pass=0 failn=0 skipn=0
for t in tests/e2e/t_*.sh; do
	case "$t" in *"$pat"*) ;; *) continue ;; esac
	out=$(timeout 120 bash "$t" 2>&1)
	rc=$?
	case $rc in
	0) pass=$((pass + 1)); echo "ok   $t" ;;
	77) skipn=$((skipn + 1)); echo "$out" | grep SKIP ;;
	*) failn=$((failn + 1)); echo "FAIL $t (exit $rc)"; echo "$out" | sed 's/^/    /' ;;
	esac
done
echo "e2e: $pass passed, $failn failed, $skipn skipped"
[ "$failn" -eq 0 ]

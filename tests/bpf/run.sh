#!/bin/sh
# Runs the BPF test binary. Usage: tests/bpf/run.sh [build/tests/bpf] [criterion args]
# e.g. --filter 'trunc/*' or --verbose (which also lists skipped tests).
#
# --jobs 1: every test loads its own skeleton and pins itself to one CPU;
# one at a time keeps verifier work from piling up on a small machine and
# keeps failure output in order.
#
# Without root (or with load failing on EPERM) each test skips; criterion's
# summary then shows "Tested: 0", so say why here. FLOWBATCH_REQUIRE_PRIV=1
# turns the skips into failures, for runners that are meant to have BPF.
bin=${1:-build/tests/bpf}
[ $# -gt 0 ] && shift
if [ "$(id -u)" -ne 0 ] && [ "${FLOWBATCH_REQUIRE_PRIV:-}" != 1 ]; then
	echo "SKIP: tests/bpf needs root and BPF; every test will skip" >&2
fi
exec "$bin" --jobs 1 "$@"

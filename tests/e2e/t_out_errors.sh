#!/bin/bash
# -w paths that cannot work: one line on stderr that says why, the
# documented exit code (1: cannot start; 2: bad command line), and nothing
# left attached. A missing directory, a directory as the path, no permission
# (root without CAP_DAC_OVERRIDE, through setpriv), a read-only file system;
# an unknown extension and -G without -w are command line errors.
. "$(dirname "$0")/lib.sh"
need python3
e2e_setup
RO="$TMP/ro"
mkdir -p "$RO"
trap 'rc=$?; umount -l "$RO" 2>/dev/null; (exit $rc); e2e_cleanup' EXIT

# expect CODE REGEX ARGS...: flowbatch ARGS exits CODE, one stderr line matching REGEX
expect() {
	local code=$1 re=$2 err
	shift 2
	"$@" -i "$HOST_IF" -c 1 -t 100ms >/dev/null 2>"$TMP/e.err"
	rc=$?
	err=$(cat "$TMP/e.err")
	[ "$rc" = "$code" ] || fail "$*: exit $rc, expected $code: $err"
	[ "$(wc -l <"$TMP/e.err")" = 1 ] || fail "$*: not one line on stderr: $err"
	echo "$err" | grep -qE "^flowbatch: $re\$" || fail "$*: stderr does not match '$re': $err"
	assert_detached "$HOST_IF"
}

expect 1 "output $TMP/nodir/f.jsonl: no directory $TMP/nodir \(flowbatch does not create it\)" \
	"$FB" -w "$TMP/nodir/f.jsonl"
mkdir "$TMP/d.jsonl"
expect 1 "output $TMP/d.jsonl: $TMP/d.jsonl is a directory" "$FB" -w "$TMP/d.jsonl"
expect 1 "output $TMP/d.jsonl/%Y/f.csv: no directory $TMP/d.jsonl/[0-9]{4} .*" "$FB" -w "$TMP/d.jsonl/%Y/f.csv"
# the other -w is fine: still one line, and nothing written there
expect 2 "cannot tell the format of -w '$TMP/f.txt': .*" "$FB" -w "$TMP/ok.jsonl" -w "$TMP/f.txt"
expect 2 "-G, -C and -W apply to -w files; no -w given" "$FB" -G 60
[ -e "$TMP/ok.jsonl" ] && fail "a file was created before the command line was refused"

if command -v setpriv >/dev/null; then
	mkdir "$TMP/locked"
	chmod 555 "$TMP/locked"
	expect 1 "output $TMP/locked/f.jsonl: cannot create files in $TMP/locked: Permission denied" \
		setpriv --bounding-set=-dac_override,-dac_read_search "$FB" -w "$TMP/locked/f.jsonl"
else
	skip_check "no permission (no setpriv)"
fi
if mount -t tmpfs -o ro,size=64k fbtest "$RO" 2>/dev/null; then
	expect 1 "output $RO/f.csv.gz: cannot create files in $RO: Read-only file system" "$FB" -w "$RO/f.csv.gz"
else
	skip_check "a read-only file system (cannot mount a tmpfs)"
fi
exit 0

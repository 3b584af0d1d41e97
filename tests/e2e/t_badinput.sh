#!/bin/bash
# Bad input: every bad command line gives exactly one line on stderr,
# "flowbatch: ..." naming the problem, nothing on stdout, exit 2; start
# failures (no such interface, no privileges) give one line and exit 1.
# --help lists every option and --version prints the version, both exit 0.
. "$(dirname "$0")/lib.sh"
[ -x "$FB" ] || fail "$FB not built"

# expect RC REGEX ARGS...: run $FB ARGS, check status, stdout empty, and one
# stderr line "flowbatch: " matching REGEX (extended, case-insensitive)
expect() {
	local rc=$1 re=$2 got n
	shift 2
	timeout 10 "$FB" "$@" >"$TMP/so" 2>"$TMP/se"
	got=$?
	[ "$got" = "$rc" ] || fail "flowbatch $*: exit $got, expected $rc (stderr: $(cat "$TMP/se"))"
	[ -s "$TMP/so" ] && fail "flowbatch $*: wrote to stdout: $(head -c 300 "$TMP/so")"
	n=$(wc -l <"$TMP/se")
	[ "$n" = 1 ] || fail "flowbatch $*: $n lines on stderr, expected 1: $(cat "$TMP/se")"
	grep -q '^flowbatch: ' "$TMP/se" || fail "flowbatch $*: stderr does not start with 'flowbatch: ': $(cat "$TMP/se")"
	grep -qiE -- "$re" "$TMP/se" || fail "flowbatch $*: stderr does not mention /$re/: $(cat "$TMP/se")"
}

expect 2 "unknown option.*--bogus" --bogus
expect 2 "unknown option.*-x" -x
expect 2 "interval.*5x" -t 5x
expect 2 "interval.*1ms" -t 1ms
expect 2 "interval" -t ""
expect 2 "duration.*abc" -D abc
expect 2 "duration.*'0'" -D 0
expect 2 "duration" -D -1s
expect 2 "ring size.*3000" --ring-size 3000
expect 2 "ring size" --ring-size 2g
expect 2 "unknown key.*foo" -k foo
expect 2 "prefix" -k src/33
expect 2 "count.*'0'" -c 0
expect 2 "count" -c -3
expect 2 "count" -n x
expect 2 "xdp.*(direction|received)" --hook xdp --direction out
expect 2 "unexpected argument.*extra" -i lo extra
expect 2 "-i.*needs a value" -i
expect 2 "needs a value" -D
expect 2 "needs a value" --interval
expect 2 "--direction.*needs a value" --direction
expect 2 "sideways.*--direction" --direction sideways
expect 2 "xml.*--output" -o xml
expect 2 "--hook" --hook ebpf
expect 2 "--tc-attach" --tc-attach qdisc
expect 2 "grace" --grace 2s
expect 2 "max-flows" --max-flows 0
expect 2 "interface" -i ""
expect 2 "interface" -i waytoolonginterfacename0
expect 2 "twice" -i lo -i lo

# start failures
expect 1 "no such interface.*nosuchif0" -i nosuchif0 -D 1s
# without privileges, on the test's own interface: one line, exit 1, and
# nothing attached. The binary is copied where uid 65534 can run it.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	e2e_setup
	nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)
	chmod 711 "$TMP"
	cp "$FB" "$TMP/flowbatch" && chmod 755 "$TMP/flowbatch"
	if "${nobody[@]}" "$TMP/flowbatch" --version >/dev/null 2>&1; then
		"${nobody[@]}" "$TMP/flowbatch" -i "$HOST_IF" -D 1s >"$TMP/so" 2>"$TMP/se"
		rc=$?
		[ "$rc" = 1 ] || fail "unprivileged run: exit $rc, expected 1: $(cat "$TMP/se")"
		[ "$(wc -l <"$TMP/se")" = 1 ] || fail "unprivileged run: not one line on stderr: $(cat "$TMP/se")"
		grep -qiE '^flowbatch: .*(permission|root|privilege)' "$TMP/se" ||
			fail "unprivileged run does not mention permission/root: $(cat "$TMP/se")"
		assert_detached "$HOST_IF"
	else
		skip_check "an unprivileged run (uid 65534 cannot execute a copy of $FB in $TMP)"
	fi
else
	skip_check "an unprivileged run (needs root and setpriv)"
fi

# --help / -h: stdout, exit 0, every option listed
for h in --help -h; do
	"$FB" $h >"$TMP/so" 2>"$TMP/se" || fail "flowbatch $h: exit $?"
	[ -s "$TMP/se" ] && fail "flowbatch $h wrote to stderr: $(cat "$TMP/se")"
	for o in "-i, --interface" "--hook" "--direction" "-t, --interval" "-k, --keys" "-n, --top" \
		"-o, --output" "-c, --count" "-D, --duration" "--ring-size" "--max-flows" "--force" \
		"--tc-attach" "--xdp-mode" "--grace" "-v, --verbose" "-h, --help" "-V, --version"; do
		grep -q -- "$o" "$TMP/so" || fail "flowbatch $h does not list '$o'"
	done
	grep -qi 'exit status' "$TMP/so" || fail "flowbatch $h does not describe exit status"
done

for v in --version -V; do
	"$FB" $v >"$TMP/so" 2>"$TMP/se" || fail "flowbatch $v: exit $?"
	grep -qE '^flowbatch [0-9]+\.[0-9]+\.[0-9]+' "$TMP/so" || fail "flowbatch $v printed: $(cat "$TMP/so")"
	[ "$(wc -l <"$TMP/so")" = 1 ] || fail "flowbatch $v: more than one line"
	[ -s "$TMP/se" ] && fail "flowbatch $v wrote to stderr"
done
echo ok

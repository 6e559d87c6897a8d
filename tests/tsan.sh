#!/usr/bin/env bash
# The unit tests and the integration tests of the threaded code (the poller
# and the stream generator) against a ThreadSanitizer build, so that a data
# race fails a test. One line per test: "ok NAME", "FAIL NAME" or
# "skip NAME"; exits 1 when anything failed.
#
#   tests/tsan.sh [BUILD_DIR]   (default build-tsan; set up when missing)
#
# A test fails when it fails, or when ThreadSanitizer reported anything in
# any process it ran (each report goes to a log file under BUILD_DIR/tsan,
# so that children whose exit status nobody reads count too).
# tests/tsan.supp lists the reports known to be false, each with its reason.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-tsan}
INTEGRATION="t0620-poller-veth.sh t0300-stream-testbed.sh"
fail=0

result() { # name status log-prefix
	local logs
	logs=$(ls "$3".* 2>/dev/null)
	if [ -n "$logs" ]; then
		cat $logs | head -60
		[ "$2" -eq 0 ] || [ "$2" -eq 77 ] && set -- "$1" 66 "$3"
	fi
	case $2 in
	0) echo "ok $1" ;;
	77) echo "skip $1" ;;
	*) fail=1; echo "FAIL $1 (exit $2)" ;;
	esac
}

if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup "$BUILD" -Db_sanitize=thread -Db_lundef=false >/dev/null || { echo "FAIL build-tsan"; exit 1; }
fi
ninja -C "$BUILD" >/dev/null || { echo "FAIL build-tsan"; exit 1; }

# gcc 12's TSan runtime knows only some address-space layouts: with
# vm.mmap_rnd_bits above 28 (some kernels' default is 32) the program may
# die at start with "unexpected memory mapping". Running it with address
# randomisation off (setarch -R, inherited by children) avoids that without
# touching the host's sysctl.
RUN=(setarch "$(uname -m)" -R)
"${RUN[@]}" true 2>/dev/null || RUN=()

logs=$PWD/$BUILD/tsan
rm -rf "$logs"
mkdir -p "$logs"
tsan_options() { # log prefix
	echo "log_path=$1 exitcode=66 halt_on_error=0 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp"
}

while read -r name; do
	[ -n "$name" ] || continue
	TSAN_OPTIONS=$(tsan_options "$logs/report-$name") "${RUN[@]}" \
		meson test -C "$BUILD" --suite unit "$name" --no-rebuild --print-errorlogs \
		>"$logs/test-$name.out" 2>&1
	st=$?
	[ "$st" -ne 0 ] && tail -30 "$logs/test-$name.out"
	result "unit/$name (tsan)" "$st" "$logs/report-$name"
done < <(meson test -C "$BUILD" --suite unit --list --no-rebuild 2>/dev/null | grep -v '^ninja' | sed 's|^.* / ||')

for t in $INTEGRATION; do
	out=$logs/$t.out
	RTVNET="$PWD/$BUILD/cli/rtvnet" TSAN_OPTIONS=$(tsan_options "$logs/report-$t") \
		"${RUN[@]}" bash "tests/integration/$t" >"$out" 2>&1
	st=$?
	[ "$st" -ne 0 ] && [ "$st" -ne 77 ] && tail -40 "$out"
	[ "$st" -eq 77 ] && sed -n '1,3p' "$out"
	result "$t (tsan)" "$st" "$logs/report-$t"
done
exit "$fail"

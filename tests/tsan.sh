#!/usr/bin/env bash
# The unit tests and the integration tests of the threaded code (the poller
# and the stream generator) against a ThreadSanitizer build, so that a data
# race fails a test. One line per test: "ok NAME", "FAIL NAME" or
# "skip NAME"; exits 1 when anything failed.
#
#   tests/tsan.sh [BUILD_DIR]   (default build-tsan; set up when missing)
#   tests/tsan.sh BUILD_DIR list          the tests, "unit NAME" or "integration tNNNN-x.sh"
#   tests/tsan.sh BUILD_DIR unit NAME     one of them (tests/run.sh runs them so,
#   tests/tsan.sh BUILD_DIR integration T   each with the host snapshot around it):
#                                          exit 0, 77 (skipped) or another status
#
# A test fails when it fails, or when ThreadSanitizer reported anything in
# any process it ran (each report goes to a log file under BUILD_DIR/tsan,
# so that children whose exit status nobody reads count too).
# tests/tsan.supp lists the reports known to be false, each with its reason.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-tsan}
ONLY=${2:-}
INTEGRATION="t0620-poller-veth.sh t0300-stream-testbed.sh"
fail=0


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
[ -n "$ONLY" ] || rm -rf "$logs"
mkdir -p "$logs"
tsan_options() { # log prefix
	echo "log_path=$1 exitcode=66 halt_on_error=0 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp"
}

unit_tests() {
	meson test -C "$BUILD" --suite unit --list --no-rebuild 2>/dev/null | grep -v '^ninja' | sed 's|^.* / ||'
}

# one_unit NAME / one_integration T: run it, its output in $logs; the status
one_unit() {
	TSAN_OPTIONS=$(tsan_options "$logs/report-$1") "${RUN[@]}" \
		meson test -C "$BUILD" --suite unit "$1" --no-rebuild --print-errorlogs --verbose \
		>"$logs/test-$1.out" 2>&1
}
one_integration() {
	RTVNET="$PWD/$BUILD/cli/rtvnet" TSAN_OPTIONS=$(tsan_options "$logs/report-$1") \
		"${RUN[@]}" bash "tests/integration/$1" >"$logs/$1.out" 2>&1
}
# the status of one test, with any report of ThreadSanitizer a failure (66)
one() { # unit|integration NAME
	local st
	rm -f "$logs/report-$2".*
	"one_$1" "$2"
	st=$?
	if ls "$logs/report-$2".* >/dev/null 2>&1; then
		cat "$logs/report-$2".* | head -60
		[ "$st" -eq 0 ] || [ "$st" -eq 77 ] && st=66
	fi
	return "$st"
}

case $ONLY in
list)
	unit_tests | sed 's/^/unit /'
	printf 'integration %s\n' $INTEGRATION
	exit 0 ;;
unit | integration)
	one "$ONLY" "$3"
	st=$?
	[ "$ONLY" = unit ] && cat "$logs/test-$3.out" || cat "$logs/$3.out"
	exit "$st" ;;
esac

while read -r kind name; do
	one "$kind" "$name"
	st=$?
	[ "$st" -ne 0 ] && [ "$st" -ne 77 ] && { [ "$kind" = unit ] && tail -30 "$logs/test-$name.out" || tail -40 "$logs/$name.out"; }
	case $st in
	0) echo "ok $kind/$name (tsan)" ;;
	77) echo "skip $kind/$name (tsan)" ;;
	*) fail=1; echo "FAIL $kind/$name (tsan) (exit $st)" ;;
	esac
done < <(unit_tests | sed 's/^/unit /'; printf 'integration %s\n' $INTEGRATION)
exit "$fail"

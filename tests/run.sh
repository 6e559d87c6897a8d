#!/usr/bin/env bash
# Runs every test and ends with one line: "N passed, N failed, N skipped".
#  - unit tests (cmocka) through meson, also built with ASan/UBSan, and with
#    ThreadSanitizer together with the poller's and the stream's integration
#    tests (tests/tsan.sh);
#  - integration tests tests/integration/tNNNN-*.sh: exit 0 pass, 77 skip,
#    anything else fail.
# Around every test, unit or integration, passed or skipped, the host must
# be left as found: `rtvnet status --snapshot` (every kind of journal entry
# reads the state of what rtvnet could change, its run files too) and the journal
# are compared before and after.
# Skips are counted: a whole test (exit 77), a section of one
# ("skip-section: ..." in its output) and a unit case (cmocka's SKIPPED,
# whose reason the case printed as "rtv-skip: ..."). Each reason says
# "needs CAPABILITY: ..."; a skip for a capability that README.md's
# "Capabilities this machine lacks" does not list is a failure: on the
# reference machine every test runs. A run where no test passed fails.
# Every test's log is kept in BUILD/test-logs/.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
export RTVNET="$PWD/$BUILD/cli/rtvnet"
LOGS=$BUILD/test-logs
rm -rf "$LOGS" && mkdir -p "$LOGS"
pass=0 fail=0 skip=0
failed=()
# the capabilities README.md names as missing on the reference machine
mapfile -t lacking < <(sed -n '/^## Capabilities this machine lacks/,/^## /p' README.md |
	sed -n 's/^- `\([^`]*\)`.*/\1/p')

snapshot() {
	"$RTVNET" status --snapshot 2>&1
	sed 's/^/journal /' /run/rtvnet/journal 2>/dev/null
}

result() { # name status
	case $2 in
	0) pass=$((pass + 1)); echo "ok   $1" ;;
	77) skip=$((skip + 1)); echo "skip $1" ;;
	*) fail=$((fail + 1)); failed+=("$1"); echo "FAIL $1 (exit $2)" ;;
	esac
}

# allowed REASON: 0 when the reason names a capability the README lists as
# lacking here
allowed() {
	local cap
	cap=$(sed -n 's/^\(skip\|skip-section\|rtv-skip\): *needs \([^:]*\).*/\2/p' <<<"$1" | head -n 1)
	[ -n "$cap" ] || return 1
	for l in "${lacking[@]}"; do [ "$cap" = "$l" ] && return 0; done
	return 1
}

# check_skips NAME LOG: count the skipped sections and cases in LOG; 1 when
# one of them is not allowed here
check_skips() {
	local name=$1 log=$2 bad=0 reason n
	while IFS= read -r reason; do
		skip=$((skip + 1))
		if allowed "$reason"; then
			echo "     skipped in $name: $reason"
		else
			echo "     skipped in $name, which must run here: $reason"
			bad=1
		fi
	done < <(grep -E '^(skip-section|rtv-skip): ' "$log")
	# a cmocka case skipped without saying why
	n=$(grep -c '^\[  SKIPPED \]' "$log")
	local told
	told=$(grep -c '^rtv-skip: ' "$log")
	if [ "$n" -gt "$told" ]; then
		echo "     $((n - told)) case(s) in $name skipped without a reason (use RTV_SKIP)"
		skip=$((skip + n - told))
		bad=1
	fi
	return $bad
}

# run_one NAME LOG CMD...: one test with the host snapshot around it
run_one() {
	local name=$1 log=$2 st before after
	shift 2
	before=$(snapshot)
	"$@" >"$log" 2>&1
	st=$?
	after=$(snapshot)
	if [ "$before" != "$after" ]; then
		echo "host changed by $name:"; diff <(echo "$before") <(echo "$after") | head -20
		[ "$st" -eq 0 ] || [ "$st" -eq 77 ] && st=99
	fi
	if [ "$st" -eq 77 ]; then
		reason=$(grep -m1 '^skip: ' "$log")
		if allowed "$reason"; then
			echo "     $reason"
		else
			echo "     must run here: ${reason:-no reason given}"
			st=98
		fi
	elif [ "$st" -eq 0 ]; then
		check_skips "$name" "$log" || st=97
	fi
	[ "$st" -ne 0 ] && [ "$st" -ne 77 ] && tail -40 "$log"
	result "$name" "$st"
}

# unit tests, plain and with sanitizers
for variant in plain asan; do
	dir=$BUILD
	if [ $variant = asan ]; then
		dir=$BUILD-asan
		[ -f "$dir/build.ninja" ] || meson setup "$dir" -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
		ninja -C "$dir" >/dev/null || { result "build-asan" 1; continue; }
	fi
	while read -r name; do
		[ -n "$name" ] || continue
		run_one "unit/$name ($variant)" "$LOGS/unit-$name-$variant.log" \
			meson test -C "$dir" --suite unit "$name" --print-errorlogs --verbose --no-rebuild
	done < <(meson test -C "$dir" --suite unit --list --no-rebuild 2>/dev/null | grep -v '^ninja' | sed 's|^.* / ||')
done

# unit tests and the threaded code's integration tests under ThreadSanitizer
# (tests/tsan.sh sets up BUILD-tsan; a report of it fails the test)
if bash tests/tsan.sh "$BUILD-tsan" list >"$LOGS/tsan-list" 2>&1; then
	while read -r kind name; do
		run_one "$kind/$name (tsan)" "$LOGS/tsan-$name.log" bash tests/tsan.sh "$BUILD-tsan" "$kind" "$name"
	done <"$LOGS/tsan-list"
else
	cat "$LOGS/tsan-list"
	result "build-tsan" 1
fi

# integration tests
for t in tests/integration/t[0-9]*.sh; do
	name=${t#tests/integration/}
	run_one "$name" "$LOGS/${name%.sh}.log" bash "$t"
done

[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[@]}"
if [ "$pass" -eq 0 ]; then
	echo "no test passed: nothing was tested"
	fail=$((fail + 1))
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]

#!/usr/bin/env bash
# 100 faults (or N) at random: each draws, from its seed, a target (compare
# with each method, in force or at any instant; apply separate, busypoll or
# hybrid; reserve; taskset run --reserve; a recovery killed half-way), a
# signal (KILL, INT, TERM, HUP) and an instant. After each the next rtvnet
# command recovers and the host must be exactly as before. Target: 0
# differences. A failing fault replays with: bench/bench_faults.sh RTVNET 1 SEED
# Usage: bench_faults.sh RTVNET [N [FIRST_SEED]]
set -uo pipefail
RTVNET=${1:?usage: bench_faults.sh RTVNET [N [FIRST_SEED]]}
N=${2:-100}
FIRST=${3:-1}
export RTVNET
cd "$(dirname "$0")/.."
. tests/integration/lib.sh
. tests/faults.sh
[ -z "$(ip netns list | grep '^rtv-')" ] || die "rtv-* namespaces exist: bring the testbed down first"
trap 'fault_teardown; rm -rf "$TMP"' EXIT
fault_setup
host_state >"$TMP/fault-before"
bad=0 recovered=0
t0=$(date +%s)
for ((s = FIRST; s < FIRST + N; s++)); do
	line=$(fault_random "$s")
	echo "$line"
	case $line in
	*": FAIL"*) bad=$((bad + 1)) ;;
	*recovered*) recovered=$((recovered + 1)) ;;
	esac
done
echo "faults: $N (seeds $FIRST-$((FIRST + N - 1))), differences or hangs: $bad, recoveries after kill -9: $recovered, $(( $(date +%s) - t0 )) s"
if [ "$bad" -eq 0 ]; then
	echo "PASS bench_faults: target 0 host differences after $N random faults; measured 0"
else
	echo "FAIL bench_faults: target 0 host differences after $N random faults; measured $bad"
fi
[ "$bad" -eq 0 ]

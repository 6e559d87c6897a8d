#!/usr/bin/env bash
# Runs every benchmark. Each prints its figures against a reference measured
# in the same run and one "PASS|FAIL bench_x ...: target ... measured ..."
# line per target, and exits with the number of targets it missed (77:
# skipped, what it needs is missing). This runner keeps each bench's whole
# output in BUILD/bench-logs/NAME.log, shows it, then repeats the verdict
# lines and a summary, and exits with the number of targets missed (a bench
# that fails without a verdict line counts as one; a skip counts as one,
# since the benches are run to be judged).
#
# A target is never loosened after a run misses it: a verdict or threshold
# that changes says why in its commit.
#
# usage: bench/run.sh [BUILD]    (default build)
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
RTVNET="$PWD/$BUILD/cli/rtvnet"
LOGS="$PWD/$BUILD/bench-logs"
mkdir -p "$LOGS" results
: >"$LOGS/verdicts.txt"
missed=0

# bench NAME TITLE COMMAND...: run it, its output to the log and the screen
bench() {
	local name=$1 title=$2 rc nv nf
	shift 2
	echo "== $name: $title"
	"$@" >"$LOGS/$name.log" 2>&1
	rc=$?
	cat "$LOGS/$name.log"
	grep -E "^(PASS|FAIL) $name\b" "$LOGS/$name.log" >>"$LOGS/verdicts.txt"
	nv=$(grep -cE "^(PASS|FAIL) $name\b" "$LOGS/$name.log")
	nf=$(grep -cE "^FAIL $name\b" "$LOGS/$name.log")
	if [ "$rc" -eq 77 ]; then
		echo "FAIL $name: skipped (exit 77): $(tail -1 "$LOGS/$name.log")" | tee -a "$LOGS/verdicts.txt"
		missed=$((missed + 1))
	elif [ "$rc" -ne 0 ] && [ "$nf" -eq 0 ]; then
		echo "FAIL $name: exit status $rc without a verdict line (see $LOGS/$name.log)" |
			tee -a "$LOGS/verdicts.txt"
		missed=$((missed + 1))
	elif [ "$rc" -eq 0 ] && [ "$nf" -gt 0 ]; then
		echo "FAIL $name: exit status 0 with $nf FAIL lines" | tee -a "$LOGS/verdicts.txt"
		missed=$((missed + nf))
	else
		missed=$((missed + nf))
		[ "$nv" -gt 0 ] || { echo "FAIL $name: no verdict line" | tee -a "$LOGS/verdicts.txt"; missed=$((missed + 1)); }
	fi
	echo
}

# compare's expected effects, judged from its JSON: the phenomenon and the
# cure must be there, and every check met
bench_compare() {
	local j=results/bench-compare.json rc=0 n
	"$RTVNET" compare --methods vanilla,dedicated --repeats 3 --duration 15s --json "$j" || rc=$?
	[ "$rc" -eq 0 ] || { echo "FAIL bench_compare: rtvnet compare exited $rc"; return 1; }
	jq -r '.checks[] | "\(if .met then "PASS" else "FAIL" end) bench_compare \(.name) (\(.method) \(.metric)): target \(.expected): measured \(.value)"' "$j" ||
		{ echo "FAIL bench_compare: cannot read the checks of '$j'"; return 1; }
	for n in phenomenon cure; do
		jq -e --arg n "$n" 'any(.checks[]; .name == $n)' "$j" >/dev/null ||
			echo "FAIL bench_compare $n: target a '$n' check in the JSON: measured none"
	done
	return "$(jq '[.checks[] | select(.met | not)] | length' "$j")"
}

bench bench_hist "cost of taking and recording one sample" "$BUILD/bench/bench_hist"
bench bench_clients "the open-loop clients' own time per request (NetRT, memcached, SIP; no I/O)" \
	"$BUILD/bench/bench_clients"
bench bench_udpgen "the RFC 2544 generator on loopback: its limit, and the offered rate against the requested (5 interleaved rounds)" \
	"$BUILD/bench/bench_udpgen"
bench bench_analysis "partitioning 100 tasks on 8 vCPUs, global MPR of 20 tasks" "$BUILD/bench/bench_analysis"
bench bench_netrt "rtvnet netrt vs sockperf ping-pong on one veth path" bash bench/bench_netrt.sh "$RTVNET"
bench bench_stream "rtvnet stream vs iperf3 on one veth pair" bash bench/bench_stream.sh "$RTVNET"
bench bench_compare "the phenomenon and the cure (rtvnet compare, 3 repeats)" bench_compare
bench bench_rxpath "separate, busypoll, hybrid against prio and dedicated (one interleaved run)" \
	bash bench/bench_rxpath.sh "$RTVNET"
bench bench_taskset "rtvnet taskset run vs rt-app 1.0 on the same taskset (interleaved, 5 repeats)" \
	bash bench/bench_taskset.sh "$RTVNET" 5 8
bench bench_protection "a taskset under CPU hogs, without and with reservations" \
	bash bench/bench_protection.sh "$RTVNET"
bench bench_outsource "socket() through the outsourcing supervisor vs plain; NetRT RTT outsourced vs direct (interleaved)" \
	bash bench/bench_outsource.sh "$RTVNET"
bench bench_topology "the testbed's host and direct shapes: idle, vanilla, dedicated (interleaved)" \
	bash bench/bench_topology.sh "$RTVNET"
bench bench_outsource_paper "the outsourcing paper's claims: outsource against prio and dedicated under 2 streams (one interleaved run)" \
	bash bench/bench_outsource_paper.sh "$RTVNET"
bench bench_shared "issue 12's target: a shared-CPU method at idle's p99 and vanilla's throughput, 1 and 2 streams" \
	bash bench/bench_shared.sh "$RTVNET"
bench bench_stages "NetRT p50/p99 without and with the stage tracer (rtvnet trace, interleaved)" \
	bash bench/bench_stages.sh "$RTVNET"
bench bench_runtimes "hosting environments: startup, memory, cyclictest loaded p99, reservation, parsing, hyperfine (issue 13)" \
	bash bench/bench_runtimes.sh "$RTVNET"
bench bench_services "real RT services (issue 14): rtvnet's memcached client vs memaslap (low rate, saturation); the phenomenon with memcached and SIP (compare, SIPp cross-check)" \
	bash bench/bench_services.sh "$RTVNET"
bench bench_rfc2544 "RFC 2544 on the RT path (issue 15): throughput and fixed-rate latency, vanilla vs busypoll vs hybrid, sockperf beside" \
	bash bench/bench_rfc2544.sh "$RTVNET"
bench bench_faults "100 random faults (kill -9, INT, TERM, HUP) with methods in force: the host as found" \
	bash bench/bench_faults.sh "$RTVNET" 100

echo "== verdicts (logs in $LOGS)"
cat "$LOGS/verdicts.txt"
echo "$(grep -c '^PASS' "$LOGS/verdicts.txt") targets met, $missed missed"
exit "$((missed > 255 ? 255 : missed))"

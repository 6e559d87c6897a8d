#!/usr/bin/env bash
# The outsourcing paper's claims for RT socket outsourcing (section 4,
# Table 3) on the host-shaped testbed under the paper's load (2 streams):
# outsource's RTT standard deviation against prio's (paper: -76%) and
# dedicated's (-63%), and its stream throughput against dedicated's (about
# 2x), with outsource+separate beside it. One interleaved compare run
# (idle, prio, dedicated, outsource, outsource+separate, then again), 3
# repeats of 15 s; the ratios are of means over the repeats, with the
# repeats' spread.
#
# usage: bench/bench_outsource_paper.sh RTVNET [REPEATS] [SECONDS]
set -uo pipefail
RTVNET=${1:?usage: bench_outsource_paper.sh RTVNET [REPEATS] [SECONDS]}
REPEATS=${2:-3}
SECS=${3:-15}
command -v jq >/dev/null || { echo "needs jq"; exit 77; }
mkdir -p results
J=results/bench-outsource-paper.json
rc=0
"$RTVNET" compare --streams 2 --methods prio,dedicated,outsource,outsource+separate \
	--repeats "$REPEATS" --duration "${SECS}s" --json "$J" || rc=$?
[ "$rc" -eq 0 ] || { echo "FAIL bench_outsource_paper: rtvnet compare exited $rc"; exit 1; }

# per method: mean over repeats of sd, p99 and Gbit/s, with min-max
jq -r '.runs | group_by(.method)[] |
  "\(.[0].method): sd \([.[].rtt_us.sd] | add / length | . * 10 | round / 10) us (\([.[].rtt_us.sd] | min)-\([.[].rtt_us.sd] | max)), p99 \([.[].rtt_us.p99] | add / length | round) us, Gbit/s \(if .[0].stream_gbit_s then ([.[].stream_gbit_s] | add / length | . * 100 | round / 100) else "-" end)"' "$J"

ratio() { # METRIC METHOD REF: mean(METHOD) / mean(REF)
	jq -r --arg m "$2" --arg r "$3" --arg k "$1" '
	  def mean($x): [.runs[] | select(.method == $x) | (if $k == "sd" then .rtt_us.sd else .stream_gbit_s end)] | add / length;
	  (mean($m) / mean($r)) * 1000 | round / 1000' "$J"
}
missed=0
verdict() { # NAME RATIO OP BOUND PAPER
	local ok
	ok=$(awk -v r="$2" -v b="$4" -v op="$3" 'BEGIN { print (op == "le" ? r <= b : r >= b) ? 1 : 0 }')
	if [ "$ok" = 1 ]; then
		echo "PASS bench_outsource_paper $1: target $3 $4 (paper: $5): measured $2"
	else
		echo "FAIL bench_outsource_paper $1: target $3 $4 (paper: $5): measured $2"
		missed=$((missed + 1))
	fi
}
verdict "outsource sd / prio's" "$(ratio sd outsource prio)" le 0.24 "0.24, -76%"
verdict "outsource sd / dedicated's" "$(ratio sd outsource dedicated)" le 0.37 "0.37, -63%"
verdict "outsource Gbit/s / dedicated's" "$(ratio gbit outsource dedicated)" ge 1.5 "about 2x"
echo "outsource+separate: sd / prio's $(ratio sd outsource+separate prio), / dedicated's $(ratio sd outsource+separate dedicated), Gbit/s / dedicated's $(ratio gbit outsource+separate dedicated)"
exit "$missed"

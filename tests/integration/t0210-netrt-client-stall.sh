#!/usr/bin/env bash
# Coordinated omission shows: a netrt client that is itself stalled while it
# runs open loop (SIGSTOP for 200 ms; then a SCHED_FIFO hog above it on its
# CPU for 200 ms) sends the requests scheduled in the stall late, measures
# each from its intended send time, and counts them late. The rtt tail holds
# the stall (max and p99.9 within a margin of it, about 100 samples over half
# of it); the service time, from the actual send, does not. The `late` count
# equals the samples' own (actual send - intended > 50 us).
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "jq missing"

NS=rtv-stall
PORT=7411
created=()
pids=()

cleanup() {
	local p
	for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ ${#created[@]} -eq 0 ] || ip netns del "$NS" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
remember_host

netns_add "$NS"
ip -n "$NS" link set lo up || die "lo up"
now_ns() { date +%s%N; }

ip netns exec "$NS" "$RTVNET" netrt server --bind 127.0.0.1 --port $PORT --cpu 0 >/dev/null 2>&1 &
pids+=($!)
for i in $(seq 100); do
	[ -n "$(ip netns exec "$NS" ss -Hnlu "sport = :$PORT")" ] && break
	sleep 0.05
done

# check NAME TIMED_NS: the run's JSON and samples against the stall of
# STALL_MS; TIMED_NS is how long this shell saw it last, for the record.
# STALL_MS is a lower bound of the stall: SIGSTOP before the sleep, SIGCONT
# after; the hog spins that long once it runs above the client. Margins: 10 ms on the maximum (the first
# request scheduled after the stop waits the whole stall, less 1 ms), 20 ms
# on p99.9 (about the 3rd largest of 2500), 10 samples over half the stall
# (the first half's, 1 ms apart: about 100).
STALL_MS=200
check() {
	local name=$1 s_us=$((STALL_MS * 1000)) late slow slow_svc
	jq -e --argjson s "$s_us" '.result.sent >= 2400 and .result.received == .result.sent
	       and .result.rtt_us.max >= $s - 10000 and .result.rtt_us.p999 >= $s - 20000
	       and .result.service_us.p99 < $s / 4' "$TMP/$name.json" >/dev/null \
		|| { cat "$TMP/$name.json"; die "$name: a stall of $STALL_MS ms is not in the rtt tail"; }
	# per sample: latency_ns = reply - S_i, service_ns = reply - actual send
	late=$(awk '$3 - $4 > 50000 { n++ } END { print n + 0 }' "$TMP/$name.samples")
	slow=$(awk -v h=$((STALL_MS * 500000)) '$3 >= h { n++ } END { print n + 0 }' "$TMP/$name.samples")
	slow_svc=$(awk -v h=$((STALL_MS * 500000)) '$4 >= h { n++ } END { print n + 0 }' "$TMP/$name.samples")
	[ "$late" = "$(jq .result.late "$TMP/$name.json")" ] \
		|| die "$name: late $(jq .result.late "$TMP/$name.json"), the samples say $late"
	[ "$slow" -ge $((STALL_MS / 2 - 10)) ] || die "$name: only $slow samples over half the stall"
	[ "$late" -ge $((STALL_MS - 10)) ] || die "$name: only $late late sends"
	# a closed-loop view (service) shows at most the requests in flight at the stop
	[ "$slow_svc" -le 2 ] || die "$name: $slow_svc service times over half the stall"
	echo "$name: stall timed $(($2 / 1000)) us here; late $late; rtt over half the stall: $slow;" \
		"service over it: $slow_svc;" \
		"$(jq -r '"rtt max \(.result.rtt_us.max) p99.9 \(.result.rtt_us.p999) p99 \(.result.rtt_us.p99) us, service p99 \(.result.service_us.p99) max \(.result.service_us.max) us"' "$TMP/$name.json")"
}

# client NAME ARGS...: 3 s at 1 ms, 500 ms warm-up; run with & it is the
# client's own process that $! names (exec: no subshell in between)
client() {
	local name=$1; shift
	exec ip netns exec "$NS" "$RTVNET" netrt client --target 127.0.0.1 --port $PORT --duration 3s \
		--warmup 500ms --interval 1ms --json "$TMP/$name.json" --samples "$TMP/$name.samples" \
		"$@" >"$TMP/$name.out" 2>&1
}

# -- SIGSTOP for 200 ms, 1.5 s in --
client stop &
cpid=$!
pids+=($cpid)
sleep 1.5
t0=$(now_ns)
kill -STOP $cpid || die "cannot stop the client"
sleep $((STALL_MS / 1000)).$(printf %03d $((STALL_MS % 1000)))
kill -CONT $cpid
t1=$(now_ns)
wait $cpid || { cat "$TMP/stop.out"; die "the stopped client failed"; }
check stop $((t1 - t0))

# -- a SCHED_FIFO 50 hog for 200 ms on the CPU of a SCHED_FIFO 10 client --
if [ "$(getconf _NPROCESSORS_ONLN)" -lt 2 ]; then
	skip_section "needs 2 CPUs: the hog and the client on one, the server on the other"
else
	client hog --cpu 1 --policy fifo --prio 10 &
	cpid=$!
	pids+=($cpid)
	sleep 1.5
	t0=$(now_ns)
	# the hog spins STALL_MS from when it runs at SCHED_FIFO on CPU 1 (bash's
	# clock, no fork); timeout, on CPU 0, only guards against a hog that
	# would not end
	taskset -c 0 timeout 5 taskset -c 1 chrt -f 50 bash -c \
		'end=$(( ${EPOCHREALTIME/./} + '$STALL_MS' * 1000 )); while (( ${EPOCHREALTIME/./} < end )); do :; done'
	st=$?
	t1=$(now_ns)
	[ $st -eq 0 ] || die "the hog exited $st (chrt refused?)"
	wait $cpid || { cat "$TMP/hog.out"; die "the client under the hog failed"; }
	check hog $((t1 - t0))
fi

kill "${pids[0]}"
wait "${pids[0]}"
pids=()
ip netns del "$NS" || die "cannot delete $NS"
created=()
same_as_before "after the stalls"
echo ok

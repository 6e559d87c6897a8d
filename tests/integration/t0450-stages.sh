#!/usr/bin/env bash
# rtvnet trace (the per-stage tracer, lib/probe/stages.h) on a NetRT run over
# the testbed: every stage of the RT path is there, each datagram's points
# are in time order; a delay injected in one stage (the server sleeping
# before its reply) shows in that stage and in no other; a SCHED_FIFO hog on
# the server's CPU shows as what held it for the slowest round trips; bad
# input exits 2 naming it; the host is left as found.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq: the results are JSON"
[ -r /sys/kernel/btf/vmlinux ] || skip "needs BTF: /sys/kernel/btf/vmlinux"
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs: the hog and the client apart"
PORT=7451
SP= HP=
cleanup() {
	[ -n "$HP" ] && kill "$HP" 2>/dev/null
	[ -n "$SP" ] && kill "$SP" 2>/dev/null
	wait 2>/dev/null
	"$RTVNET" testbed down >/dev/null 2>&1
	rm -rf "$TMP"
}
remember_host
trap cleanup EXIT

# bad input: named, exit 2, nothing loaded
expect 2 "$RTVNET" trace --port 0
out_has "'--port'"
expect 2 "$RTVNET" trace --port "$PORT" --netns rtv-no-such-ns
out_has "rtv-no-such-ns"
expect 2 "$RTVNET" trace --port "$PORT" --duration 0
out_has "'--duration'"
expect 2 "$RTVNET" trace --duration 1

expect 0 "$RTVNET" testbed up --streams 1
server() { # [OPTIONS]: the NetRT server on CPU 1
	[ -n "$SP" ] && { kill "$SP"; wait "$SP" 2>/dev/null; }
	ip netns exec rtv-rts "$RTVNET" netrt server --port "$PORT" --cpu 1 "$@" >/dev/null 2>&1 &
	SP=$!
	sleep 0.3
}
# trace NAME SECS INTERVAL [TRACE OPTIONS]: trace a client run of SECS
trace() {
	local name=$1 secs=$2 iv=$3 tp
	shift 3
	"$RTVNET" trace --port "$PORT" --duration "$((secs + 2))s" --json "$TMP/$name.json" \
		--points "$TMP/$name.points" "$@" >"$TMP/$name.out" 2>&1 &
	tp=$!
	sleep 1
	ip netns exec rtv-rtc "$RTVNET" netrt client --target 198.19.0.2 --port "$PORT" --cpu 0 \
		--duration "${secs}s" --warmup 200ms --interval "$iv" >/dev/null 2>&1 ||
		die "netrt client failed ($name)"
	wait "$tp" || { cat "$TMP/$name.out" >&2; die "trace failed ($name)"; }
}
# the p50 of a stage seen at least 100 times, else nothing
p50() { jq -r --arg s "$2" '.stages[] | select(.stage == $s and .count >= 100) | .p50_us' "$TMP/$1.json"; }

# 1. every stage, points in time order
server
trace base 3 5ms-6ms
for s in "req send>xmit:rtvc0" "req xmit:rtvc0>rx:rtvh0" "req rx:rtvh0>xmit:rtv-br0" \
	"req xmit:rtvb0>rx:rtvs0" "req total" "srv" "rep send>xmit:rtvs0" \
	"rep xmit:rtvs0>rx:rtvb0" "rep xmit:rtvh0>rx:rtvc0" "rep total" "rtt"; do
	jq -e --arg s "$s" '[.stages[] | select(.stage == $s and .count > 300)] | length == 1' \
		"$TMP/base.json" >/dev/null || { cat "$TMP/base.out"; die "stage '$s' missing or short"; }
done
# the receive call's return closes both directions, after a wake-up or not
jq -e '[.stages[] | select(.stage | test("^req .*>ret$"))] | length >= 1' "$TMP/base.json" >/dev/null &&
	jq -e '[.stages[] | select(.stage | test("^rep .*>ret$"))] | length >= 1' "$TMP/base.json" >/dev/null ||
	{ cat "$TMP/base.out"; die "no receive-call stage"; }
jq -e '[.stages[] | select(.stage == "req wake>run" and .count > 100)] | length == 1' \
	"$TMP/base.json" >/dev/null || { cat "$TMP/base.out"; die "the server's wake-up is not traced"; }
jq -e '.counts.paired > 300 and .counts.nonmonotone == 0 and .counts.kernel_drops == 0' \
	"$TMP/base.json" >/dev/null || { cat "$TMP/base.json"; die "counts"; }
# each datagram's points, as written, in time order and from send to ret
awk '{ n++; if ($3 !~ /^send@/ || $NF !~ /^ret@/) bad++
       prev = 0; for (i = 3; i <= NF; i++) { split($i, a, "@"); if (a[2] + 0 < prev) bad++; prev = a[2] + 0 } }
     END { print n, bad + 0; exit !(n > 600 && bad == 0) }' "$TMP/base.points" ||
	die "points not in time order, or paths not from send to ret (lines, bad: $(awk '{n++} END {print n}' "$TMP/base.points"))"

# with --netns, only the sockets (and senders) of that namespace: the
# server's replies are sent there, the client's requests are not
trace ns 2 5ms-6ms --netns rtv-rts
jq -e '([.stages[] | select(.stage == "rep send>xmit:rtvs0" and .count > 100)] | length == 1) and
       ([.stages[] | select(.stage | test("^req send"))] | length == 0) and
       ([.stages[] | select(.stage | test("^rep .*>ret$"))] | length == 0)' "$TMP/ns.json" >/dev/null ||
	{ cat "$TMP/ns.out"; die "--netns rtv-rts: the client's send or receive traced, or the server's send not"; }

# 2. the server sleeps 2 ms before each reply: "srv" grows by it, nothing else
server --reply-delay 2ms
trace delay 3 5ms-6ms
jq -r '.stages[].stage' "$TMP/base.json" | while read -r s; do
	a=$(p50 base "$s") b=$(p50 delay "$s")
	[ -n "$a" ] && [ -n "$b" ] || continue # a rare path (a wake-up with no switch) is not compared
	case "$s" in
	srv) awk -v a="$a" -v b="$b" 'BEGIN { exit !(b - a > 1800) }' ||
		die "stage '$s': p50 $a us without the delay, $b us with 2 ms" ;;
	rtt) # the round trip grows by what srv grew, whatever the sleep overshot
		sa=$(p50 base srv) sb=$(p50 delay srv)
		awk -v a="$a" -v b="$b" -v sa="$sa" -v sb="$sb" \
			'BEGIN { d = (b - a) - (sb - sa); exit !(b - a > 1800 && d < 300 && d > -300) }' ||
		die "stage 'rtt': p50 $a us, then $b us with 2 ms, while srv went $sa -> $sb us" ;;
	*) awk -v a="$a" -v b="$b" 'BEGIN { d = b - a; exit !(d < 300 && d > -300) }' ||
		die "stage '$s' moved with a delay elsewhere: p50 $a us, then $b us" ;;
	esac
done || exit 1

# 3. a SCHED_FIFO hog on the server's CPU: what held it
server
cp "$(command -v dash || command -v sh)" "$TMP/rtv-hog"
chrt -f 50 taskset -c 1 "$TMP/rtv-hog" -c \
	'while :; do i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 0.03; done' &
HP=$!
trace hog 3 1ms-2ms --cpus 1 --slowest 5
kill "$HP"; wait "$HP" 2>/dev/null; HP=
jq -e '[.blockers[] | select(.comm == "rtv-hog" and .kind == "task" and .us > 300)] | length >= 1' \
	"$TMP/hog.json" >/dev/null || { cat "$TMP/hog.out"; die "the hog is not among the slowest round trips' blockers"; }

kill "$SP"; wait "$SP" 2>/dev/null; SP=
expect 0 "$RTVNET" testbed down
same_as_before "after the traces"
echo ok

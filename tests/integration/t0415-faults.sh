#!/usr/bin/env bash
# Faults with every method in force: for each method compare knows
# (rtv_methods[], read from compare itself), a compare run is hit by kill -9,
# SIGINT, SIGTERM or SIGHUP (in turn) while the method's run measures; so are
# apply (separate, busypoll, hybrid), reserve and taskset run --reserve; two
# signals back to back hit compare and apply, and a recovery is itself
# killed half-way. A caught signal must be undone by the run itself. After each fault the next rtvnet
# command recovers and the host is exactly as before (rtvnet status
# --snapshot and the journal). Two rtvnet started together: one runs, the
# other is refused naming the holder's pid, and changes nothing.
# bench/bench_faults.sh draws 100 such faults at random instants.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../faults.sh"
command -v script >/dev/null || skip "needs script: from bsdutils"
[ "$(nproc)" -ge 2 ] || skip "needs 2-cpus: dedicated needs an RT CPU and another"
[ -z "$(ip netns list | grep '^rtv-')" ] || skip "needs a-clean-host: rtv-* namespaces exist"

trap 'fault_teardown; rm -rf "$TMP"' EXIT
fault_setup
host_state >"$TMP/fault-before"

read -r -a methods <<<"$(fault_methods)"
[ "${#methods[@]}" -ge 7 ] || die "compare knows only '${methods[*]}'"
bad=0 i=0
for m in "${methods[@]}"; do
	sig=${FAULT_SIGS[i % ${#FAULT_SIGS[@]}]}
	fault_one "t0415-$i" "compare:$m" "$sig" $((300 + 400 * (i % 4))) || bad=$((bad + 1))
	i=$((i + 1))
done
for t in apply:separate apply:busypoll apply:hybrid reserve taskset; do
	sig=${FAULT_SIGS[i % ${#FAULT_SIGS[@]}]}
	fault_one "t0415-$i" "$t" "$sig" $((500 + 300 * (i % 3))) || bad=$((bad + 1))
	i=$((i + 1))
done
# two signals back to back, as timeout(1) and systemd send them: the second
# must not kill the run before it undoes its changes
fault_one "t0415-$i" compare:dedicated INT+INT 700 || bad=$((bad + 1))
i=$((i + 1))
fault_one "t0415-$i" apply:busypoll TERM+HUP 500 || bad=$((bad + 1))
i=$((i + 1))
fault_in_recovery "t0415-$i" dedicated 3000 || bad=$((bad + 1))
[ "$bad" -eq 0 ] || die "$bad fault(s) left the host changed or hung"

# two at once: the second is refused with the first's pid, changing nothing
"$RTVNET" reserve --pid "$FAULT_SLEEPER" --runtime 2 --period 10 --duration 3s >"$TMP/first" 2>&1 &
first=$!
wait_for "$TMP/first" "holding" 30 || die "the first rtvnet did not start: $(cat "$TMP/first")"
holder=$(cat /run/rtvnet/lock)
[ "$holder" = "$first" ] || die "the lock names '$holder', not the holding reserve ($first)"
host_state >"$TMP/during"
expect 1 "$RTVNET" compare --quick --methods prio
out_has "another rtvnet \(pid $holder\) is changing this host"
host_state >"$TMP/during2"
diff -u "$TMP/during" "$TMP/during2" >&2 || die "the refused rtvnet changed the host"
wait "$first" || die "the first rtvnet failed: $(cat "$TMP/first")"
host_state >"$TMP/fault-after"
diff -u "$TMP/fault-before" "$TMP/fault-after" >&2 || die "host not restored after the two"
echo "ok"

#!/usr/bin/env bash
# While compare runs, the methods really are in force: under prio the RT
# server runs at SCHED_FIFO 80; under dedicated the RT hosts' cpuset is the
# last CPU, the streams' the others, and no movable IRQ is left on the RT CPU.
# Afterwards the runner checks that all of it was undone.
. "$(dirname "$0")/lib.sh"
ncpu=$(nproc)
[ "$ncpu" -ge 2 ] || skip "needs 2-cpus: an RT CPU and another"
last=$((ncpu - 1))
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then cg=/sys/fs/cgroup/rtvnet; else cg=/sys/fs/cgroup/cpuset/rtvnet; fi
"$RTVNET" compare --quick --duration 4s --methods prio,dedicated --rt-prio 80 \
	--json "$TMP/m.json" >"$TMP/run.out" 2>&1 &
pid=$!
saw_fifo=0 saw_cpuset=0 irq_on_rt=0
while kill -0 $pid 2>/dev/null; do
	for p in $(cat "$cg/rts/cgroup.procs" 2>/dev/null); do
		chrt -p "$p" 2>/dev/null | grep -q "SCHED_FIFO" && \
			chrt -p "$p" | grep -q "priority: 80" && saw_fifo=1
	done
	if [ "$(cat "$cg/rts/cpuset.cpus" 2>/dev/null)" = "$last" ] &&
	   [ "$(cat "$cg/s1c/cpuset.cpus" 2>/dev/null)" != "$last" ]; then
		saw_cpuset=1
		for f in /proc/irq/*/smp_affinity_list; do
			a=$(cat "$f")
			# only IRQs the kernel lets us move count (effective list may be fixed)
			[ "$a" = "$last" ] && irq_on_rt=1
		done
	fi
	sleep 0.2
done
wait $pid || { cat "$TMP/run.out"; die "compare failed"; }
[ $saw_fifo -eq 1 ] || die "prio: the RT server never ran at SCHED_FIFO 80"
[ $saw_cpuset -eq 1 ] || die "dedicated: the RT hosts' cpuset was never the RT CPU"
[ $irq_on_rt -eq 0 ] || die "dedicated: an IRQ was pinned to the RT CPU alone"
grep -q "moved off the RT CPUs" "$TMP/run.out" || die "dedicated did not report what it moved"
echo ok

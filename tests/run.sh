#!/usr/bin/env bash
# Runs every test and ends with one line: "N passed, N failed, N skipped".
#  - unit tests (cmocka) through meson, also built with ASan/UBSan;
#  - integration tests tests/integration/tNNNN-*.sh: exit 0 pass, 77 skip,
#    anything else fail. After each one the host must be as it was before it
#    (namespaces, cgroups, the journal, scheduling of kernel threads): checked
#    here, once, for every test.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
export RTVNET="$PWD/$BUILD/cli/rtvnet"
pass=0 fail=0 skip=0
failed=()

snapshot() {
	{
		ip netns list 2>/dev/null | awk '{print $1}' | grep '^rtv-' | sort
		find /sys/fs/cgroup -maxdepth 3 -type d -name 'rtvnet*' 2>/dev/null | sort
		cat /run/rtvnet/journal 2>/dev/null
		# policy and priority of every kernel thread
		ps -eLo tid=,cls=,rtprio=,comm= 2>/dev/null | awk '$4 ~ /^\[?(ksoftirqd|napi|irq)/' | sort
		sysctl -n net.core.busy_poll net.core.busy_read 2>/dev/null
		# the apply/reserve service file, tracefs mounts and our instances,
		# cpufreq limits, and threads left at SCHED_DEADLINE
		ls /run/rtvnet/apply 2>/dev/null
		grep tracefs /proc/mounts 2>/dev/null
		ls /sys/kernel/tracing/instances 2>/dev/null
		cat /sys/devices/system/cpu/cpu*/cpufreq/scaling_{max_freq,setspeed} 2>/dev/null
		ps -eLo tid=,cls= 2>/dev/null | awk '$2 == "DLN"'
		grep -H . /proc/irq/*/smp_affinity_list /sys/devices/virtual/workqueue/cpumask 2>/dev/null
		# CPU affinity of long-lived processes (dedicated moves them and must restore them)
		for p in 1 $$ $PPID; do taskset -cp "$p" 2>/dev/null; done
	}
}

result() { # name status
	case $2 in
	0) pass=$((pass + 1)); echo "ok   $1" ;;
	77) skip=$((skip + 1)); echo "skip $1" ;;
	*) fail=$((fail + 1)); failed+=("$1"); echo "FAIL $1 (exit $2)" ;;
	esac
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
		if meson test -C "$dir" --suite unit "$name" --print-errorlogs >"$dir/test-$name.log" 2>&1; then
			result "unit/$name ($variant)" 0
		else
			result "unit/$name ($variant)" 1
			tail -30 "$dir/test-$name.log"
		fi
	done < <(meson test -C "$dir" --suite unit --list --no-rebuild 2>/dev/null | grep -v '^ninja' | sed 's|^.* / ||')
done

# integration tests
for t in tests/integration/t[0-9]*.sh; do
	name=${t#tests/integration/}
	before=$(snapshot)
	log=$(mktemp)
	bash "$t" >"$log" 2>&1
	st=$?
	after=$(snapshot)
	if [ "$st" -ne 77 ] && [ "$before" != "$after" ]; then
		echo "host changed by $name:"; diff <(echo "$before") <(echo "$after") | head -20
		[ "$st" -eq 0 ] && st=99
	fi
	[ "$st" -ne 0 ] && [ "$st" -ne 77 ] && tail -40 "$log"
	[ "$st" -eq 77 ] && sed -n '1,3p' "$log"
	rm -f "$log"
	result "$name" "$st"
done

[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[@]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]

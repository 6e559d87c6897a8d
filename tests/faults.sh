# Fault injection, shared by tests/integration/t0415-faults.sh and
# bench/bench_faults.sh: deliver a signal to a running rtvnet command at a
# chosen instant, let the next rtvnet command recover, and check that the
# host is exactly as before (`rtvnet status --snapshot` and the journal).
# Source after tests/integration/lib.sh (die, TMP, RTVNET). Each fault is
# one line: "fault SEED TARGET SIGNAL DELAY: ok|DIFF ...", so a failure
# replays with its seed.

FAULT_SIGS=(KILL INT TERM HUP)
FAULT_NS_A=rtv-fl-a
FAULT_NS_B=rtv-fl-b
FAULT_DEV=rtvfl0

host_state() {
	"$RTVNET" status --snapshot 2>&1
	sed 's/^/journal /' /run/rtvnet/journal 2>/dev/null
}

# The methods compare knows (rtv_methods[]), from its own refusal.
fault_methods() {
	"$RTVNET" compare --methods rtv-no-such-method 2>&1 |
		sed -n 's/.*(known: \(.*\)).*/\1/p' | tr -d ' ' | tr ',' ' '
}

# A veth pair in two throwaway namespaces for apply (made before the
# reference snapshot; removed by fault_devs_down).
fault_devs_up() {
	ip netns add "$FAULT_NS_A" && ip netns add "$FAULT_NS_B" || die "cannot add the namespaces"
	ip -n "$FAULT_NS_A" link add "$FAULT_DEV" type veth peer name rtvfl1 netns "$FAULT_NS_B" ||
		die "cannot add the veth pair"
	ip -n "$FAULT_NS_A" addr add 198.19.78.1/24 dev "$FAULT_DEV"
	ip -n "$FAULT_NS_B" addr add 198.19.78.2/24 dev rtvfl1
	ip -n "$FAULT_NS_A" link set "$FAULT_DEV" up && ip -n "$FAULT_NS_B" link set rtvfl1 up ||
		die "link up"
}

fault_devs_down() {
	ip netns del "$FAULT_NS_A" 2>/dev/null
	ip netns del "$FAULT_NS_B" 2>/dev/null
}

# The rtvnet that script(1) runs (its child: script runs "$SHELL -c 'exec
# CMD'", and with SHELL unset /bin/sh, which without the exec would fork),
# once it holds the host lock, which names its holder. With "any", the child
# whatever it is doing: a fault at any instant may land before the lock.
cmd_pid() {
	local p
	p=$(pgrep -P "$1" | head -n 1)
	[ -n "$p" ] || return 0
	if [ "${2:-}" = any ] || [ "$(cat /run/rtvnet/lock 2>/dev/null)" = "$p" ]; then
		echo "$p"
	fi
}

# wait_for FILE REGEX SECONDS: until the file matches
wait_for() {
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# wait_gone PID SECONDS
wait_gone() {
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		[ -d "/proc/$1" ] || return 0
		sleep 0.05
	done
	return 1
}

# The command of a target, one word a line. Targets: compare:METHOD (the
# fault lands while METHOD is in force), any:compare:METHOD (at any instant
# from the start), apply:METHOD, reserve, taskset.
fault_cmd() {
	case $1 in
	compare:* | any:compare:*)
		echo "$RTVNET -v compare --methods ${1##*:} --repeats 1 --duration 5s --warmup 0.2s --idle-phase 0.3s --json $TMP/fault.json" ;;
	apply:*)
		echo "$RTVNET apply ${1#apply:} --rt-dev $FAULT_DEV@$FAULT_NS_A --duration 4s --cpufreq-root $TMP/cpu" ;;
	reserve)
		echo "$RTVNET reserve --pid $FAULT_SLEEPER --runtime 2 --period 10 --duration 4s" ;;
	taskset)
		echo "$RTVNET taskset run $TMP/fault-ts.json --reserve --duration 3s --warmup 0.2s --json $TMP/fault-ts-out.json" ;;
	esac
}

# When the fault may fire: a regex the command's output must match first.
fault_ready() {
	case $1 in
	compare:*) echo "run +2/2\] ${1#compare:} " ;;
	apply:*) echo "^applied " ;;
	reserve) echo "holding" ;;
	*) echo "" ;;
	esac
}

fault_setup() {
	# The harness at SCHED_FIFO 1 (the commands it starts at SCHED_OTHER):
	# under dedicated, every movable thread shares the non-RT CPU with the
	# bulk stream, and a starved harness would fire its faults seconds late.
	chrt -f -p 1 $$ >/dev/null || die "cannot give the harness SCHED_FIFO"
	mkdir -p "$TMP/cpu"
	cat >"$TMP/fault-ts.json" <<'JSON'
{"tasks":[{"name":"fast","wcet_ms":0.5,"period_ms":5},
          {"name":"slow","wcet_ms":2,"period_ms":20,"deadline_ms":15}]}
JSON
	chrt -o 0 sleep 600 &
	FAULT_SLEEPER=$!
	fault_devs_up
}

fault_teardown() {
	[ -n "${FAULT_SLEEPER:-}" ] && kill "$FAULT_SLEEPER" 2>/dev/null
	fault_devs_down
}

# Says how the host differs from $TMP/fault-before, if it does, and then
# leaves it as found all the same for the next fault.
host_differs() {
	host_state >"$TMP/fault-after"
	if ! diff -u "$TMP/fault-before" "$TMP/fault-after" >"$TMP/fault.diff"; then
		echo "; the host differs: $(grep '^[-+][^-+]' "$TMP/fault.diff" | head -n 6 | tr '\n' '|')"
		"$RTVNET" -q revert >/dev/null 2>&1
	fi
}

# fault_kill SIGNAL PID: SIGNAL is one name or several joined by '+', each
# sent once the one before was delivered (no longer pending: two pending
# signals of a kind merge), as timeout(1) signals its child, then the
# child's group.
fault_kill() {
	local s i pnd n=0
	for s in ${1//+/ }; do
		for ((i = 0; i < 1000; i++)); do
			pnd=$(awk '/^(SigPnd|ShdPnd):/ { printf "%s", $2 }' "/proc/$2/status" 2>/dev/null)
			[[ "$pnd" =~ ^0*$ ]] && break
			sleep 0.001
		done
		# the first must land; a later one may find the command done
		kill -s "$s" "$2" 2>/dev/null || [ "$n" -gt 0 ] || return 1
		n=$((n + 1))
	done
}

# fault_one SEED TARGET SIGNAL DELAY_MS: run TARGET, deliver SIGNAL DELAY_MS
# after it is ready, let `rtvnet testbed down` (any command taking the lock)
# recover, compare with $TMP/fault-before. Prints the fault's line; returns
# 1 on a difference or a hang.
fault_one() {
	local seed=$1 target=$2 sig=$3 delay=$4 cmd ready pid spid st t0 why=""
	cmd=$(fault_cmd "$target")
	ready=$(fault_ready "$target")
	: >"$TMP/fault.out"
	# a pseudo-terminal: compare shows its progress line only to one
	chrt -o 0 script -qfec "exec $cmd" /dev/null >"$TMP/fault.out" 2>&1 &
	spid=$!
	if [ -n "$ready" ] && ! wait_for "$TMP/fault.out" "$ready" 60; then
		why="never ready ('$ready')"
	fi
	# the command that holds the host lock: once ready, or at the instant
	[ -n "$ready" ] && pid=$(cmd_pid "$spid")
	t0=$(date +%s%N)
	sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
	[ -n "$ready" ] || pid=$(cmd_pid "$spid" any)
	if [ -n "$pid" ] && fault_kill "$sig" "$pid"; then
		wait_gone "$pid" 60 || why="$why; pid $pid still runs 60 s after SIG$sig"
	elif [ -z "$why" ]; then
		why="the command ${pid:+(pid $pid) }was not running $(( ($(date +%s%N) - t0) / 1000000 )) ms after it was $([ -n "$ready" ] && echo ready || echo started), at the fault: $(ps -o pid=,stat=,args= --ppid "$spid" | head -n 2 | tr '\n' '|')"
	fi
	wait "$spid" 2>/dev/null
	# the next command recovers what a dead run left
	"$RTVNET" testbed down >"$TMP/fault.next" 2>&1 || why="$why; the next command failed: $(tail -n 2 "$TMP/fault.next")"
	# a caught signal once the command is ready: it undoes its own changes
	if [ -n "$ready" ] && [ "$sig" != KILL ] && grep -q "recovered from an earlier run" "$TMP/fault.next"; then
		why="$why; SIG$sig is caught, yet the next command recovered: $(sed -n 's/.*undid //p' "$TMP/fault.next")"
	fi
	why="$why$(host_differs)"
	if [ -n "$why" ]; then
		echo "fault $seed $target SIG$sig ${delay}ms: FAIL${why}"
		sed 's/^/    | /' "$TMP/fault.out" | tail -n 8
		return 1
	fi
	st=$(grep -c "recovered from an earlier run" "$TMP/fault.next")
	echo "fault $seed $target SIG$sig ${delay}ms: ok$([ "$st" -gt 0 ] && echo ", recovered: $(sed -n 's/.*undid //p' "$TMP/fault.next")")"
	return 0
}

# A crash inside the undo of a crash: kill -9 a method run, then kill -9 the
# recovering command DELAY_US into its run, then recover again.
fault_in_recovery() {
	local seed=$1 method=$2 delay_us=$3 why="" pid rpid
	chrt -o 0 script -qfec "exec $(fault_cmd "compare:$method")" /dev/null >"$TMP/fault.out" 2>&1 &
	local spid=$!
	wait_for "$TMP/fault.out" "$(fault_ready "compare:$method")" 60 || why="never ready"
	pid=$(cmd_pid "$spid")
	if [ -n "$pid" ]; then
		kill -KILL "$pid" && wait_gone "$pid" 30
	elif [ -z "$why" ]; then
		why="the command was not running when it was ready"
	fi
	wait "$spid" 2>/dev/null
	chrt -o 0 "$RTVNET" testbed down >"$TMP/fault.next" 2>&1 &
	rpid=$!
	sleep "$(printf '0.%06d' "$delay_us")"
	kill -KILL "$rpid" 2>/dev/null
	wait "$rpid" 2>/dev/null
	"$RTVNET" testbed down >"$TMP/fault.next2" 2>&1 || why="$why; the second recovery failed"
	why="$why$(host_differs)"
	if [ -n "$why" ]; then
		echo "fault $seed recovery:$method SIGKILL ${delay_us}us: FAIL$why"
		return 1
	fi
	echo "fault $seed recovery:$method SIGKILL ${delay_us}us: ok"
}

# One random fault from a seed: target, signal and instant drawn from it.
fault_random() {
	local seed=$1 methods targets t sig delay
	RANDOM=$seed
	read -r -a methods <<<"$(fault_methods)"
	targets=()
	for m in "${methods[@]}"; do targets+=("compare:$m" "any:compare:$m"); done
	targets+=(apply:separate apply:busypoll apply:hybrid reserve taskset recovery)
	t=${targets[RANDOM % ${#targets[@]}]}
	sig=${FAULT_SIGS[RANDOM % ${#FAULT_SIGS[@]}]}
	case $t in
	recovery) fault_in_recovery "$seed" "${methods[RANDOM % ${#methods[@]}]}" $((RANDOM % 200000)) ;;
	any:*) fault_one "$seed" "$t" "$sig" $((RANDOM % 9000)) ;;
	*) fault_one "$seed" "$t" "$sig" $((RANDOM % 2500)) ;;
	esac
}

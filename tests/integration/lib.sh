# Shared by the integration tests: source it first.
set -uo pipefail
: "${RTVNET:?RTVNET must name the rtvnet binary}"
die() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "skip: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# expect STATUS CMD...: run, keep output in $TMP/out, check the exit status
expect() {
	local want=$1; shift
	"$@" >"$TMP/out" 2>&1
	local got=$?
	[ "$got" -eq "$want" ] || { cat "$TMP/out" >&2; die "'$*' exited $got, expected $want"; }
}
# out_has REGEX: the last command's output matches
out_has() { grep -Eq -- "$1" "$TMP/out" || { cat "$TMP/out" >&2; die "output lacks /$1/"; }; }

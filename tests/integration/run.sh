#!/bin/bash
# run.sh - the integration tests: the real wsserverd driven over 127.0.0.1.
#
# Under "make check" the Makefile sets top_srcdir, top_builddir and
# WSSERVERD. Standalone, run it from anywhere in a built tree:
#	tests/integration/run.sh [pytest arguments]
# or point WSSERVERD at another binary.
#
# Two pytest runs: the tests that may share the machine run in parallel
# (pytest-xdist, WSSERVERD_TEST_JOBS processes, default 4: most of the
# suite's time is spent waiting, not computing, so even on 2 CPUs four
# processes finish sooner than two), then the tests marked "serial"
# (fd and process limits, MaxMemory, anything that measures the daemon's
# CPU time, memory or latency) run one at a time with nothing beside them.
# Without python3-pytest-xdist, or with WSSERVERD_TEST_JOBS=1, the first
# run is serial too. The last line is the sum of both runs,
# "N passed, M failed, K skipped in S s", which .ci/run reads; a run that
# exits non-zero without a failure in its summary counts as one failure.
#
# Debian's /usr/bin/python3 is used on purpose: it is the interpreter that
# sees python3-pytest and python3-websockets (a python3 earlier on PATH,
# e.g. from pyenv, does not).

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
: "${top_srcdir:=$(CDPATH='' cd -- "$here/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${WSSERVERD:=$top_builddir/wsserverd}"
export top_srcdir top_builddir WSSERVERD

python=${WSSERVERD_PYTHON:-/usr/bin/python3}
if ! "$python" -c 'import pytest' 2>/dev/null; then
	echo "run.sh: $python has no pytest (apt-get install python3-pytest)" >&2
	exit 99
fi
if [ ! -x "$WSSERVERD" ]; then
	echo "run.sh: no wsserverd at $WSSERVERD (build it, or set WSSERVERD)" >&2
	exit 99
fi

jobs=${WSSERVERD_TEST_JOBS:-4}
xdist=
if [ "$jobs" -gt 1 ] && "$python" -c 'import xdist' 2>/dev/null; then
	xdist="-p xdist -n $jobs --dist load"
elif [ "$jobs" -gt 1 ]; then
	echo "run.sh: no pytest-xdist (apt-get install python3-pytest-xdist):" \
	    "running every test one at a time"
fi

# The tests write nothing into the source tree.
PYTHONDONTWRITEBYTECODE=1
export PYTHONDONTWRITEBYTECODE

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wsserverd-run.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
start=$(date +%s)

# Runs pytest (run $1, options $2...) on the test directory with the
# caller's arguments; output to the terminal and to $tmp/$1.out, the exit
# status to $tmp/$1.rc.
run_pytest() {
	local name=$1
	shift
	{
		"$python" -m pytest -q -p no:cacheprovider -rfEs "$@" \
		    "$top_srcdir/tests/integration" "${args[@]}"
		echo $? >"$tmp/$name.rc"
	} 2>&1 | tee "$tmp/$name.out"
}

# The number before $2 (a regex) in run $1's closing line (0 if none).
count() {
	local line n
	line=$(grep -E '^=*[ ]*[0-9]+ (passed|failed|errors?|skipped|deselected|xfailed|xpassed)' \
	    "$tmp/$1.out" | tail -n 1)
	n=$(echo "$line" | grep -Eo "[0-9]+ $2" | head -n 1 | grep -Eo '^[0-9]+')
	echo "${n:-0}"
}

args=("$@")
# shellcheck disable=SC2086 # $xdist is words on purpose
run_pytest parallel $xdist -m "not serial"
run_pytest serial -m serial

passed=0 failed=0 skipped=0 status=0
for r in parallel serial; do
	rc=$(cat "$tmp/$r.rc" 2>/dev/null || echo 99)
	p=$(count "$r" passed)
	f=$(count "$r" failed)
	e=$(count "$r" 'errors?')
	s=$(count "$r" skipped)
	passed=$((passed + p))
	skipped=$((skipped + s))
	failed=$((failed + f + e))
	case $rc in
	0) ;;
	5) ;;	# nothing selected in this run (e.g. -k), fine if the other ran
	*)
		status=1
		if [ $((f + e)) -eq 0 ]; then
			echo "run.sh: the $r run exited $rc without a failure" \
			    "in its summary: counted as one"
			failed=$((failed + 1))
		fi
		;;
	esac
done
if [ "$status" -eq 0 ] && [ $((passed + failed)) -eq 0 ]; then
	status=5	# pytest's "no tests collected"
fi
echo "$passed passed, $failed failed, $skipped skipped in" \
    "$(($(date +%s) - start))s (integration, parallel and serial runs)"
exit $status

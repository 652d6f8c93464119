#!/bin/sh
# run.sh - the fleet test (make check-fleet): three wsserverd nodes and a
# redis-server, each in a network namespace of its own (needs root and
# ip netns; skips with the reason otherwise).
#
# Under "make check-fleet" the Makefile sets top_srcdir, top_builddir and
# WSSERVERD. Standalone: tests/fleet/run.sh [pytest arguments].

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
: "${top_srcdir:=$(CDPATH='' cd -- "$here/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${WSSERVERD:=$top_builddir/wsserverd}"
: "${WSSERVERCTL:=$top_builddir/wsserverctl}"
export top_srcdir top_builddir WSSERVERD WSSERVERCTL

python=${WSSERVERD_PYTHON:-/usr/bin/python3}
if ! "$python" -c 'import pytest, websockets' 2>/dev/null; then
	echo "run.sh: $python has no pytest or websockets" >&2
	exit 99
fi
PYTHONDONTWRITEBYTECODE=1
export PYTHONDONTWRITEBYTECODE
exec "$python" -m pytest -q -s -p no:cacheprovider -rfEs \
	"$top_srcdir/tests/fleet" "$@"

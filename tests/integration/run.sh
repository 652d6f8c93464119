#!/bin/sh
# run.sh - the integration tests: the real wsserverd driven over 127.0.0.1.
#
# Under "make check" the Makefile sets top_srcdir, top_builddir and
# WSSERVERD. Standalone, run it from anywhere in a built tree:
#	tests/integration/run.sh [pytest arguments]
# or point WSSERVERD at another binary.
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

# The tests write nothing into the source tree.
PYTHONDONTWRITEBYTECODE=1
export PYTHONDONTWRITEBYTECODE
exec "$python" -m pytest -q -p no:cacheprovider -rfEs \
	"$top_srcdir/tests/integration" "$@"

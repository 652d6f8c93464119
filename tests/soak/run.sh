#!/bin/sh
# run.sh - the soak: mixed traffic against wsserverd, then leak checks.
#
# From a built tree (make soak runs it with SOAK_ARGS):
#	tests/soak/run.sh [--duration SECONDS] [--concurrency N] [--seed N]
#	    [--valgrind] [other soak.py options, see --help]
# WSSERVERD (default: ./wsserverd of top_builddir) and WSSERVERCTL (default:
# next to wsserverd) choose the binaries; an --enable-sanitizers build is
# detected and its leak report at exit checked.
#
# Debian's /usr/bin/python3 is used on purpose: it is the interpreter that
# sees python3-websockets.

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
: "${top_srcdir:=$(CDPATH='' cd -- "$here/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${WSSERVERD:=$top_builddir/wsserverd}"
export WSSERVERD

python=${WSSERVERD_PYTHON:-/usr/bin/python3}
if ! "$python" -c 'import websockets' 2>/dev/null; then
	echo "run.sh: $python has no websockets module (apt-get install python3-websockets)" >&2
	exit 2
fi
if [ ! -x "$WSSERVERD" ]; then
	echo "run.sh: no wsserverd at $WSSERVERD (build it, or set WSSERVERD)" >&2
	exit 2
fi

PYTHONDONTWRITEBYTECODE=1
export PYTHONDONTWRITEBYTECODE
exec "$python" "$here/soak.py" "$@"

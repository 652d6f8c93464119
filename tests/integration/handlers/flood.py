#!/usr/bin/python3
# flood.py MARKER - writes numbered 1 KiB lines to stdout as fast as it can,
# never reading stdin; stops after 4 GiB or 60 s or when stdout closes.
import sys
import time

out = sys.stdout.buffer
pad = b"x" * (1024 - 15)
deadline = time.monotonic() + 60
try:
    for i in range(4 * 1024 * 1024):
        out.write(b"line %08d %s\n" % (i, pad))
        if i % 64 == 0 and time.monotonic() > deadline:
            break
    out.flush()
except (BrokenPipeError, OSError):
    sys.exit(1)

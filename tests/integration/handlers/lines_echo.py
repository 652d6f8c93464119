#!/usr/bin/python3
# lines_echo.py MARKER - echoes every stdin line to stdout, exits 0 at EOF.
import sys

for line in sys.stdin.buffer:
    sys.stdout.buffer.write(line)
    sys.stdout.buffer.flush()

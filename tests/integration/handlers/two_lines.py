#!/usr/bin/python3
# two_lines.py - for every stdin line, prints "first", then 2 ms later
# "second" (two small writes close together: what Nagle's algorithm holds).
import sys
import time

for line in sys.stdin.buffer:
    sys.stdout.buffer.write(b"first\n")
    sys.stdout.buffer.flush()
    time.sleep(0.002)
    sys.stdout.buffer.write(b"second\n")
    sys.stdout.buffer.flush()

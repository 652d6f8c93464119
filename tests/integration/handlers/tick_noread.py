#!/usr/bin/python3
# tick_noread.py MARKER - never reads stdin; prints "tick N" every 50 ms for
# at most 30 s.
import sys
import time

for i in range(600):
    sys.stdout.write("tick %d\n" % i)
    sys.stdout.flush()
    time.sleep(0.05)

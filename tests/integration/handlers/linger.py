#!/usr/bin/python3
# linger.py MARKER STATEFILE MODE - a handler that outlives stdin EOF.
# Says "ready", reads stdin to EOF, then keeps running (at most 60 s).
# Appends "start", "eof" and "term" events with CLOCK_MONOTONIC times to
# STATEFILE. MODE "term": exit 0 on SIGTERM; MODE "ignore": note SIGTERM and
# keep running (only SIGKILL ends it).
import os
import signal
import sys
import time

state = sys.argv[2]
mode = sys.argv[3]


def note(event):
    fd = os.open(state, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, ("%s %.6f\n" % (event, time.monotonic())).encode())
    os.close(fd)


def on_term(signum, frame):
    note("term")
    if mode == "term":
        os._exit(0)


signal.signal(signal.SIGTERM, on_term)
note("start")
sys.stdout.write("ready\n")
sys.stdout.flush()
while os.read(0, 65536):
    pass
note("eof")
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    time.sleep(0.05)

#!/usr/bin/python3
# printenv.py - prints its environment as NAME=VALUE lines, then "END", exits 0.
import os
import sys

for name in sorted(os.environ):
    value = os.environ[name].replace("\n", "\\n")
    sys.stdout.write("%s=%s\n" % (name, value))
sys.stdout.write("END\n")

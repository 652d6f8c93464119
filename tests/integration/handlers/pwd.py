#!/usr/bin/python3
# pwd.py - prints its working directory, SCRIPT_NAME and PATH_INFO as lines, exits 0.
import os
import sys

sys.stdout.write("%s\n%s\n%s\n" % (os.getcwd(), os.environ.get("SCRIPT_NAME"),
    os.environ.get("PATH_INFO")))

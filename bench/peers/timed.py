#!/usr/bin/env python3
"""Runs a command and prints, as its last line, what the operating system accounted for it once it was reaped:
{"exit": ..., "wall": s, "user": s, "sys": s, "cpu": s, "peakMB": MB} (peak resident set of the largest process
the command waited for: ru_maxrss of os.wait4). The command's own output goes to stderr.

usage: timed.py COMMAND [ARG ...]
"""
import json
import os
import subprocess
import sys
import time

if len(sys.argv) < 2:
    sys.exit(__doc__)
t0 = time.monotonic()
proc = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=sys.stderr)
_, status, ru = os.wait4(proc.pid, 0)
wall = time.monotonic() - t0
print(json.dumps({
    'exit': os.waitstatus_to_exitcode(status),
    'wall': round(wall, 3),
    'user': round(ru.ru_utime, 3),
    'sys': round(ru.ru_stime, 3),
    'cpu': round(ru.ru_utime + ru.ru_stime, 3),
    'peakMB': round(ru.ru_maxrss / 1024, 1),
}))

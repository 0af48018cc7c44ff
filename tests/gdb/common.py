# SPDX-License-Identifier: GPL-3.0-or-later
"""Starting vireo-run with --gdb for the GDB stub's tests."""
import os
import re
import subprocess
import sys
import time


def start_vireo(vireo_run, elf, cpus=2, spec="tcp:127.0.0.1:0", extra=()):
    """Starts vireo-run waiting for a debugger; returns (process, "host:port")."""
    env = dict(os.environ, LC_ALL="C", LANGUAGE="C")
    proc = subprocess.Popen(
        [vireo_run, "--test", elf, "--cpus", str(cpus), "--gdb", spec, *extra],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=env, text=True)
    line = proc.stderr.readline()
    m = re.search(r"(?:waiting for a debugger|a debugger can connect) on (\S+)", line)
    if not m:
        proc.kill()
        sys.exit("vireo-run did not listen: %r" % line)
    return proc, m.group(1)


def finish(proc, timeout=60):
    """Waits for vireo-run; returns its exit status and its standard error."""
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        return None, err
    return proc.returncode, err


class Failures:
    def __init__(self):
        self.n = 0

    def check(self, cond, what):
        print(("ok    " if cond else "FAIL  ") + what)
        if not cond:
            self.n += 1

    def exit(self):
        print("%d failure(s)" % self.n)
        sys.exit(1 if self.n else 0)


def wait_until(pred, seconds=10):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False

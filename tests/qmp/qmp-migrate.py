#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Live migration between two vireo-run processes (docs/MIGRATION.md), with
the QMP test guest, which prints "qmp-guest: ready" once and then waits on
its UART: "f" powers it off with status 3.

  - a destination given garbage refuses it and goes on waiting;
  - a machine with a writable disk migrates to it through QMP's migrate:
    query-migrate says completed with its figures, the source is
    "postmigrate" and refuses cont, the destination runs the guest where it
    was (no second "ready") and it answers "f" there; the source exits 0 on
    quit;
  - a destination that is not there, hangs up mid-stream, refuses the
    stream, or refuses it after the switch-over (the source then takes its
    disk's lock back): the source says "failed" with the reason and runs on;
  - migrate_cancel while the destination takes nothing: "cancelled", and
    the source runs on.

Usage: qmp-migrate.py VIREO_RUN GUEST_ELF
"""

import importlib.util
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("qmp_protocol", os.path.join(HERE, "qmp-protocol.py"))
qp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(qp)

F = qp.Failures()
ENV = dict(os.environ, LC_ALL="C", LANGUAGE="C")


def start(vireo_run, elf, disk, extra):
    return qp.Server([vireo_run, "--kernel", elf, "--cpus", "2", "--memory", "64M",
                      "--disk", disk + ",format=raw", *extra], None, ENV)


def ask(c, data):
    return c.ask(data)[1]


def connect_qmp(sock):
    if not qp.wait_for(lambda: os.path.exists(sock)):
        raise RuntimeError("no QMP socket at %s" % sock)
    c = qp.Client(sock)
    c.reply()  # the greeting
    ask(c, {"execute": "qmp_capabilities"})
    return c


def wait_migration(c, seconds=30):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        r = ask(c, {"execute": "query-migrate"}).get("return", {})
        if r.get("status") in ("completed", "failed", "cancelled"):
            return r
        time.sleep(0.05)
    return {}


def read_all(sock):
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk


def fake_destination(path, behaviour):
    """A listener that takes one connection and misbehaves."""
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)

    def serve():
        conn, _ = srv.accept()
        try:
            if behaviour == "hang-up":
                conn.recv(4096)
                conn.close()
                return
            f = conn.makefile("rb")
            f.read(12)
            # Rounds of RAM ("P"), then the final state ("S").
            while True:
                kind = f.read(1)
                while True:
                    (n,) = struct.unpack("<I", f.read(4))
                    if n == 0:
                        break
                    f.read(n)
                if kind != b"P":
                    break
            if behaviour == "refuse":
                msg = b"not\x01today"
                conn.sendall(b"E" + struct.pack("<I", len(msg)) + msg)
            elif behaviour == "refuse-late":
                conn.sendall(b"R" + struct.pack("<I", 0))
                F.check(f.read(1) == b"U", "the source gives up its disk's lock after R")
                # The disk is free now: another writer could lock it.
                conn.sendall(b"E" + struct.pack("<I", 4) + b"late")
            time.sleep(0.2)
        finally:
            conn.close()
            srv.close()

    t = threading.Thread(target=serve)
    t.start()
    return t


def check_failures(vireo_run, elf, tmp, disk):
    qsock = os.path.join(tmp, "src-fail.sock")
    src = start(vireo_run, elf, disk, ["--qmp", "unix:%s,server,wait=off" % qsock])
    try:
        c = connect_qmp(qsock)
        F.check(src.wait_ready(), "the source's guest starts")
        r = ask(c, {"execute": "migrate", "arguments": {"uri": "unix:" + os.path.join(tmp, "none")}})
        F.check("return" in r, "migrate to nowhere is accepted, then fails: %s" % r)
        m = wait_migration(c)
        F.check(m.get("status") == "failed" and "connect" in m.get("error-desc", ""),
                "no destination: failed, with why: %s" % m)
        r = ask(c, {"execute": "migrate", "arguments": {"uri": "ftp:x"}})
        F.check(r.get("error", {}).get("class") == "GenericError", "a foreign URI is refused")
        # A destination that takes nothing: the migration stays active, and
        # nothing may change the machine meanwhile.
        path = os.path.join(tmp, "stall.sock")
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(path)
        srv.listen(1)
        ask(c, {"execute": "migrate", "arguments": {"uri": "unix:" + path}})
        srv.settimeout(10)
        conn, _ = srv.accept()
        F.check(qp.wait_for(lambda: ask(c, {"execute": "query-migrate"})["return"].get("status")
                            == "active"), "a stalled destination: active")
        for cmd in ("cont", "system_reset"):
            r = ask(c, {"execute": cmd})
            F.check("migrating" in r.get("error", {}).get("desc", ""),
                    "%s is refused while migrating: %s" % (cmd, r))
        r = ask(c, {"execute": "human-monitor-command",
                    "arguments": {"command-line": "loadvm x"}})
        F.check("migrating" in r.get("return", ""), "loadvm is refused while migrating: %s" % r)
        r = ask(c, {"execute": "migrate", "arguments": {"uri": "unix:" + path}})
        F.check("in progress" in r.get("error", {}).get("desc", ""), "one migration at a time")
        conn.close()
        srv.close()
        m = wait_migration(c)
        F.check(m.get("status") == "failed", "the stalled destination hangs up: failed: %s" % m)
        st = ask(c, {"execute": "query-status"}).get("return", {})
        F.check(st.get("status") == "running", "the source runs on: %s" % st)
        # migrate_cancel while a destination takes nothing: cancelled, and
        # the machine runs on.
        os.unlink(path)
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(path)
        srv.listen(1)
        ask(c, {"execute": "migrate", "arguments": {"uri": "unix:" + path}})
        conn, _ = srv.accept()
        F.check(qp.wait_for(lambda: ask(c, {"execute": "query-migrate"})["return"].get("status")
                            == "active"), "a second stalled destination: active")
        r = ask(c, {"execute": "migrate_cancel"})
        F.check(r.get("return") == {}, "migrate_cancel: %s" % r)
        # Without waiting for the silent destination.
        m = wait_migration(c, 5)
        F.check(m.get("status") == "cancelled", "cancelled: %s" % m)
        conn.close()
        st = ask(c, {"execute": "query-status"}).get("return", {})
        F.check(st.get("status") == "running", "the source runs on after a cancel: %s" % st)
        srv.close()
        for behaviour, words in (("hang-up", "connection"), ("refuse", "not?today"),
                                 ("refuse-late", "late")):
            path = os.path.join(tmp, behaviour + ".sock")
            t = fake_destination(path, behaviour)
            r = ask(c, {"execute": "migrate", "arguments": {"uri": "unix:" + path}})
            m = wait_migration(c)
            t.join()
            F.check(m.get("status") == "failed" and words in m.get("error-desc", ""),
                    "%s: failed, with why: %s" % (behaviour, m))
            st = ask(c, {"execute": "query-status"}).get("return", {})
            F.check(st.get("status") == "running", "%s: the source runs on: %s" % (behaviour, st))
        # Its disk lock is back: a second machine cannot take the disk.
        p = subprocess.run([vireo_run, "--kernel", elf, "--disk", disk + ",format=raw"],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, env=ENV,
                           timeout=30)
        F.check(p.returncode != 0 and "in use" in p.stderr,
                "the source holds its disk again: %s" % p.stderr.strip())
        src.console(b"f")
        F.check(src.finish() == 3, "the source's guest still answers")
        c.close()
    finally:
        if src.proc.poll() is None:
            src.proc.kill()


def check_migration(vireo_run, elf, tmp, disk):
    qsock = os.path.join(tmp, "src.sock")
    msock = os.path.join(tmp, "mig.sock")
    dst = start(vireo_run, elf, disk, ["--incoming", "unix:" + msock])
    src = None
    try:
        if not qp.wait_for(lambda: os.path.exists(msock)):
            raise RuntimeError("the destination does not listen: %s" % dst.err.text())
        # Garbage first: refused, and the destination waits on.
        g = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        g.connect(msock)
        g.sendall(b"GARBAGE!" * 64)
        g.shutdown(socket.SHUT_WR)
        reply = read_all(g)
        g.close()
        F.check(reply[:1] == b"E", "garbage gets an error reply: %r" % reply[:40])
        F.check(qp.wait_for(lambda: "refused a migration" in dst.err.text()),
                "the destination says it refused the garbage")
        # A stream that claims far more than the machine holds.
        g = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        g.connect(msock)
        g.sendall(b"VIREOMIG\x02\x00\x00\x00P" + struct.pack("<I", 0xFFFFFFFF))
        reply = read_all(g)
        g.close()
        F.check(b"larger" in reply, "an oversized chunk is refused: %r" % reply)
        F.check(dst.proc.poll() is None, "the destination waits on after garbage")

        src = start(vireo_run, elf, disk, ["--qmp", "unix:%s,server,wait=off" % qsock])
        c = connect_qmp(qsock)
        F.check(src.wait_ready(), "the source's guest starts")
        r = ask(c, {"execute": "query-migrate"})
        F.check(r.get("return") == {}, "query-migrate before any: {}")
        r = ask(c, {"execute": "migrate-set-parameters", "arguments": {"downtime-limit": 500}})
        F.check("return" in r, "migrate-set-parameters downtime-limit")
        r = ask(c, {"execute": "query-migrate-parameters"})
        F.check(r.get("return", {}).get("downtime-limit") == 500,
                "query-migrate-parameters: %s" % r)
        r = ask(c, {"execute": "migrate", "arguments": {"uri": "unix:" + msock}})
        F.check("return" in r, "migrate: %s" % r)
        m = wait_migration(c)
        F.check(m.get("status") == "completed", "completed: %s" % m)
        ram = m.get("ram", {})
        F.check(ram.get("transferred", 0) > 0 and ram.get("total") == 64 << 20,
                "ram figures: %s" % ram)
        F.check(isinstance(m.get("total-time"), int) and isinstance(m.get("downtime"), int),
                "total-time and downtime: %s" % m)
        # Pre-copy: RAM went out while the guest ran, then the dirty log was
        # looked at once more with the machine paused.
        F.check(ram.get("dirty-sync-count", 0) >= 2 and ram.get("normal", 0) > 0 and
                ram.get("page-size") == 4096, "pre-copy's figures: %s" % ram)
        print("info  migration: total-time %s ms, downtime %s ms, %s bytes" %
              (m.get("total-time"), m.get("downtime"), ram.get("transferred")))
        st = ask(c, {"execute": "query-status"}).get("return", {})
        F.check(st.get("status") == "postmigrate", "the source is postmigrate: %s" % st)
        r = ask(c, {"execute": "cont"})
        F.check("error" in r, "cont after the migration is refused")
        F.check(qp.wait_for(lambda: "arrived" in dst.err.text()), "the destination has it")
        time.sleep(0.3)
        F.check(dst.out.text().count("qmp-guest: ready") == 0,
                "the destination goes on where the source stopped: %r" % dst.out.text())
        dst.console(b"f")
        F.check(dst.finish() == 3, "the guest answers on the destination: %s" % dst.err.text())
        c.send({"execute": "quit"})
        F.check(src.finish() == 0, "the source exits 0 after quit")
        c.close()
    finally:
        for s in (dst, src):
            if s is not None and s.proc.poll() is None:
                s.proc.kill()


def main():
    vireo_run, elf = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="vireo-mig-")
    try:
        disk = os.path.join(tmp, "disk.img")
        with open(disk, "wb") as f:
            f.truncate(1 << 20)
        check_migration(vireo_run, elf, tmp, disk)
        check_failures(vireo_run, elf, tmp, disk)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d failure(s)" % F.n)
    sys.exit(1 if F.n else 0)


if __name__ == "__main__":
    main()

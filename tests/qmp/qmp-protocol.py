#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""vireo-run's QMP monitor, spoken to over its socket (docs/QMP.md).

Usage: qmp-protocol.py VIREO-RUN QMP-GUEST-ELF [DEMO-ELF]

One script of requests runs against vireo-run and, where
qemu-system-riscv64 is installed, against QEMU with the same guest: the
replies must have the same shape (members and their types, error classes,
the events that come before each reply), and the same text where Vireo
gives QEMU's. Then what only Vireo's side checks: several clients, TCP,
waiting for a client, the guest's power-off, hostile input, screendump with
the demo program's display, and the option's errors. Plain sockets and json,
no other package.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

TIMEOUT = 20


class Failures:
    def __init__(self):
        self.n = 0

    def check(self, cond, what):
        print(("ok    " if cond else "FAIL  ") + what)
        if not cond:
            self.n += 1
        return cond


F = Failures()


class Client:
    """A QMP client: whole messages, however the server cuts its writes."""

    def __init__(self, address):
        if isinstance(address, tuple):
            self.sock = socket.create_connection(address, timeout=TIMEOUT)
        else:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(TIMEOUT)
            self.sock.connect(address)
        self.buf = b""
        self.eof = False

    def close(self):
        self.sock.close()

    def send(self, data):
        if isinstance(data, (dict, list)):
            data = json.dumps(data)
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def message(self):
        """The next message, or None at the end of the connection."""
        while b"\r\n" not in self.buf:
            if self.eof:
                return None
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                self.eof = True
                continue
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        # Only ASCII, one JSON object per line.
        line.decode("ascii")
        return json.loads(line)

    def reply(self):
        """(events before the reply, the reply)."""
        events = []
        while True:
            m = self.message()
            if m is None:
                raise EOFError("the connection ended before a reply")
            if "event" in m:
                events.append(m)
            else:
                return events, m

    def ask(self, data):
        self.send(data)
        return self.reply()

    def event(self, name):
        while True:
            m = self.message()
            if m is None:
                raise EOFError("the connection ended before %s" % name)
            if m.get("event") == name:
                return m

    def rest(self):
        """Every message up to the end of the connection."""
        out = []
        while True:
            m = self.message()
            if m is None:
                return out
            out.append(m)


def wait_for(pred, seconds=TIMEOUT):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return False


class Output:
    """What a process writes on a pipe, read without blocking it."""

    def __init__(self, pipe):
        os.set_blocking(pipe.fileno(), False)
        self.pipe = pipe
        self.data = b""

    def text(self):
        try:
            while True:
                chunk = self.pipe.read()
                if not chunk:
                    break
                self.data += chunk
        except (BlockingIOError, TypeError):
            pass
        return self.data.decode("utf-8", "replace")


class Server:
    """vireo-run or QEMU running the test guest with a QMP socket."""

    def __init__(self, argv, sock, env=None):
        self.sock = sock
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        self.out = Output(self.proc.stdout)
        self.err = Output(self.proc.stderr)

    def wait_socket(self):
        if not wait_for(lambda: os.path.exists(self.sock) or self.proc.poll() is not None):
            raise RuntimeError("no QMP socket at %s" % self.sock)
        if self.proc.poll() is not None:
            raise RuntimeError("the server ended: %s" % self.err.text())

    def wait_ready(self, count=1):
        return wait_for(lambda: self.out.text().count("qmp-guest: ready") >= count)

    def console(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def finish(self, seconds=TIMEOUT):
        try:
            return self.proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None


def vireo(vireo_run, elf, sock, extra=()):
    env = dict(os.environ, LC_ALL="C", LANGUAGE="C")
    return Server([vireo_run, "--kernel", elf, "--cpus", "2",
                   "--qmp", "unix:%s,server,wait=off" % sock, *extra], sock, env)


def qemu(qemu_bin, elf, sock):
    return Server([qemu_bin, "-machine", "virt", "-smp", "2", "-m", "256M", "-bios", "none",
                   "-kernel", elf, "-nographic", "-monitor", "none", "-serial", "stdio",
                   "-qmp", "unix:%s,server,wait=off" % sock], sock)


# ---- the script both servers run ----------------------------------------

def shape(v):
    """Members and types, recursively; a list by its first item."""
    if isinstance(v, dict):
        return {k: shape(x) for k, x in sorted(v.items())}
    if isinstance(v, list):
        return [shape(v[0])] if v else []
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "number"
    return "str"


def summary(events, reply):
    """What must be the same on both servers: the events before the reply
    (names and data shapes), the reply's shape and error class."""
    out = {"events": [(e["event"], shape(e.get("data"))) for e in events],
           "timestamps": [shape(e["timestamp"]) for e in events]}
    if "error" in reply:
        out["error"] = reply["error"]["class"]
        out["error-shape"] = shape(reply["error"])
    else:
        out["return"] = shape(reply.get("return"))
    out["id"] = reply.get("id", "<none>")
    return out


# Requests in order: (name, what to send, how to compare: "shape", "desc"
# (and the error's text), "text" (and the return's text)).
SCRIPT = [
    ("command before negotiation", {"execute": "query-status", "id": 1}, "desc"),
    ("negotiation with a bad capability",
     {"execute": "qmp_capabilities", "arguments": {"enable": [1]}}, "desc"),
    ("negotiation with an unknown argument",
     {"execute": "qmp_capabilities", "arguments": {"bogus": 1}}, "desc"),
    ("exec-oob before negotiation", {"exec-oob": "query-status"}, "desc"),
    ("negotiation", {"execute": "qmp_capabilities", "id": "neg"}, "text"),
    ("negotiation again", {"execute": "qmp_capabilities", "id": 7}, "desc"),
    ("query-status", {"execute": "query-status"}, "text"),
    ("stop", {"execute": "stop", "id": "s"}, "text"),
    ("stop again", {"execute": "stop"}, "text"),
    ("query-status paused", {"execute": "query-status"}, "text"),
    ("info status paused",
     {"execute": "human-monitor-command", "arguments": {"command-line": "info status"}}, "text"),
    ("cont", {"execute": "cont"}, "text"),
    ("system_reset", {"execute": "system_reset", "id": {"any": ["json", 1, None]}}, "text"),
    ("system_powerdown", {"execute": "system_powerdown"}, "text"),
    ("query-cpus-fast", {"execute": "query-cpus-fast"}, "shape"),
    ("query-version", {"execute": "query-version"}, "shape"),
    ("query-name", {"execute": "query-name"}, "text"),
    ("query-commands", {"execute": "query-commands"}, "shape"),
    ("info status",
     {"execute": "human-monitor-command", "arguments": {"command-line": "info status"}}, "text"),
    ("hmp with cpu-index",
     {"execute": "human-monitor-command",
      "arguments": {"command-line": "info status", "cpu-index": 1}}, "text"),
    ("hmp bad cpu-index",
     {"execute": "human-monitor-command",
      "arguments": {"command-line": "info status", "cpu-index": 9}}, "desc"),
    ("hmp unknown command",
     {"execute": "human-monitor-command", "arguments": {"command-line": "bogus"}}, "text"),
    ("hmp unknown info",
     {"execute": "human-monitor-command", "arguments": {"command-line": "info bogus"}}, "text"),
    ("hmp loadvm without a tag",
     {"execute": "human-monitor-command", "arguments": {"command-line": "loadvm"}}, "text"),
    ("hmp extraneous characters",
     {"execute": "human-monitor-command", "arguments": {"command-line": "stop now"}}, "text"),
    ("hmp empty line",
     {"execute": "human-monitor-command", "arguments": {"command-line": ""}}, "text"),
    ("hmp without command-line", {"execute": "human-monitor-command"}, "desc"),
    ("screendump without a display",
     {"execute": "screendump", "arguments": {"filename": "/nonexistent/x.ppm"}}, "desc"),
    ("screendump without filename", {"execute": "screendump", "arguments": {}}, "desc"),
    ("screendump with a number", {"execute": "screendump", "arguments": {"filename": 5}}, "desc"),
    ("screendump format jpg",
     {"execute": "screendump", "arguments": {"filename": "x", "format": "jpg"}}, "desc"),
    ("unknown command", {"execute": "no-such-command", "id": 3}, "desc"),
    ("unexpected argument", {"execute": "query-status", "arguments": {"x": 1}}, "desc"),
    ("arguments not an object", {"execute": "query-status", "arguments": []}, "desc"),
    ("execute not a string", {"execute": 5}, "desc"),
    ("unexpected member", {"execute": "query-status", "extra": 1}, "desc"),
    ("no execute", {"id": 5}, "desc"),
    ("not an object", "[1, 2]", "desc"),
    ("a string", '"str"', "desc"),
    ("exec-oob not negotiated", {"exec-oob": "query-status"}, "desc"),
    ("repeated key", '{"execute": "query-status", "execute": "stop"}', "parse"),
    ("malformed JSON", "{bad json}", "parse"),
    ("single quotes", "{'execute': 'query-name', 'id': 'single'}", "text"),
]


def run_script(server, label):
    """Runs SCRIPT, then split and merged requests, a guest reset and quit;
    returns {step: (summary, events, reply)} and checks what needs no peer."""
    results = {}
    server.wait_socket()
    c = Client(server.sock)
    greeting = c.message()
    results["greeting"] = ({"greeting": shape(greeting)}, [], greeting)
    F.check(greeting is not None and greeting["QMP"]["capabilities"] == ["oob"],
            "%s: greeting %s" % (label, greeting))
    F.check(server.wait_ready(), "%s: the guest runs" % label)
    for name, request, _ in SCRIPT:
        events, reply = c.ask(request)
        results[name] = (summary(events, reply), events, reply)

    # One request over three writes, two in one.
    c.send('{"execute": "query-')
    time.sleep(0.05)
    c.send('status", "id"')
    time.sleep(0.05)
    c.send(': "split"}')
    events, reply = c.reply()
    results["split request"] = (summary(events, reply), events, reply)
    c.send('{"execute": "query-name", "id": 1}\n{"execute": "query-status", "id": 2}')
    e1, r1 = c.reply()
    e2, r2 = c.reply()
    results["merged requests"] = ({"1": summary(e1, r1), "2": summary(e2, r2)}, e1 + e2, [r1, r2])

    # The guest resets itself.
    server.console(b"r")
    ev = c.event("RESET")
    results["guest reset"] = ({"event": shape(ev), "data": ev.get("data")}, [ev], None)
    F.check(server.wait_ready(2), "%s: the guest started again after its reset" % label)

    # quit: its events and reply, then the end of the connection and of the
    # program, status 0.
    events, reply = c.ask({"execute": "quit", "id": "q"})
    results["quit"] = (summary(events, reply), events, reply)
    c.rest()
    F.check(c.eof, "%s: the connection ends after quit" % label)
    status = server.finish()
    F.check(status == 0, "%s: quit ends the program with status 0 (got %s)" % (label, status))
    c.close()
    return results


def check_vireo_script(r):
    """What the script's replies must be on Vireo's side alone."""
    def ret(name):
        return r[name][2].get("return")

    def err(name):
        return r[name][2].get("error", {})

    F.check(err("command before negotiation") == {
        "class": "CommandNotFound",
        "desc": "Expecting capabilities negotiation with 'qmp_capabilities'"}
        and r["command before negotiation"][2].get("id") == 1, "vireo: negotiation first")
    F.check(r["greeting"][2]["QMP"]["version"]["package"].startswith("Vireo "),
            "vireo: Vireo's version in the greeting's package")
    F.check(ret("query-status") == {"status": "running", "singlestep": False, "running": True},
            "vireo: query-status running")
    F.check([e["event"] for e in r["stop"][1]] == ["STOP"] and ret("stop") == {},
            "vireo: STOP before stop's reply")
    F.check(r["stop again"][1] == [], "vireo: a second stop sends no event")
    F.check(ret("query-status paused")["status"] == "paused", "vireo: paused")
    F.check([e["event"] for e in r["cont"][1]] == ["RESUME"], "vireo: RESUME before cont's reply")
    reset = r["system_reset"][1]
    F.check([e["event"] for e in reset] == ["RESET"]
            and reset[0]["data"] == {"guest": False, "reason": "host-qmp-system-reset"}
            and r["system_reset"][2]["id"] == {"any": ["json", 1, None]},
            "vireo: RESET (host) before system_reset's reply, the id as sent")
    F.check([e["event"] for e in r["system_powerdown"][1]] == ["POWERDOWN"],
            "vireo: POWERDOWN, and the guest runs on (no power button)")
    F.check(r["guest reset"][1][0]["data"] == {"guest": True, "reason": "guest-reset"},
            "vireo: RESET (guest)")
    quit_events = r["quit"][1]
    F.check([e["event"] for e in quit_events] == ["SHUTDOWN"]
            and quit_events[0]["data"] == {"guest": False, "reason": "host-qmp-quit"}
            and r["quit"][2] == {"return": {}, "id": "q"}, "vireo: SHUTDOWN before quit's reply")
    for e in reset + quit_events:
        ts = e["timestamp"]
        F.check(abs(ts["seconds"] - time.time()) < 120 and 0 <= ts["microseconds"] < 1000000,
                "vireo: %s's timestamp %s" % (e["event"], ts))
    names = {c["name"] for c in ret("query-commands")}
    F.check(names >= {"qmp_capabilities", "query-status", "stop", "cont", "system_reset",
                      "system_powerdown", "quit", "screendump", "query-cpus-fast",
                      "query-version", "query-commands", "query-name", "human-monitor-command"},
            "vireo: query-commands lists every command")
    cpus = ret("query-cpus-fast")
    F.check([c["cpu-index"] for c in cpus] == [0, 1]
            and [c["qom-path"] for c in cpus] == ["/machine/soc0/harts[0]", "/machine/soc0/harts[1]"]
            and all(c["target"] == "riscv64" and c["thread-id"] > 0 for c in cpus),
            "vireo: query-cpus-fast %s" % cpus)
    F.check(ret("hmp unknown command") == "unknown command: 'bogus'\r\n", "vireo: HMP unknown")
    F.check(r["split request"][2] == {"return": {"status": "running", "singlestep": False,
                                                 "running": True}, "id": "split"},
            "vireo: a request split over three writes")
    F.check([x.get("id") for x in r["merged requests"][2]] == [1, 2],
            "vireo: two requests in one write")
    F.check(ret("single quotes") == {} and r["single quotes"][2]["id"] == "single",
            "vireo: 'single-quoted' strings")


def compare(v, q):
    """Vireo's replies against QEMU's."""
    modes = {name: mode for name, _, mode in SCRIPT}
    for name in v:
        if name not in q:
            continue
        vs, ve, vr = v[name]
        qs, qe, qr = q[name]
        mode = modes.get(name, "shape")
        # Both answer alike: same members and types, same error class, the
        # same events before the reply.
        if name == "guest reset":
            F.check(vs == qs, "same as QEMU: %s: %s" % (name, vs["data"]))
            continue
        if not F.check(vs == qs, "same shape as QEMU: %s" % name):
            print("      vireo: %s\n      qemu:  %s" % (json.dumps(vs), json.dumps(qs)))
            print("      vireo: %s\n      qemu:  %s" % (json.dumps(vr), json.dumps(qr)))
            continue
        if mode == "desc":
            if not F.check(vr["error"]["desc"] == qr["error"]["desc"],
                           "same text as QEMU: %s: %s" % (name, vr["error"]["desc"])):
                print("      qemu:  %s" % qr["error"]["desc"])
        elif mode == "parse":
            F.check(vr["error"]["desc"].startswith("JSON parse error")
                    and qr["error"]["desc"].startswith("JSON parse error"),
                    "both a JSON parse error: %s" % name)
        elif mode == "text":
            F.check(vr == qr, "same reply as QEMU: %s: %s" % (name, json.dumps(vr)))


# ---- Vireo's side alone --------------------------------------------------

def check_clients_and_hostile(vireo_run, elf, tmp):
    """Several clients, events to each, hostile input, the guest's
    power-off while clients are connected."""
    sock = os.path.join(tmp, "many.sock")
    s = vireo(vireo_run, elf, sock)
    s.wait_socket()
    a, b, lazy = Client(sock), Client(sock), Client(sock)
    for c in (a, b, lazy):
        c.message()
    a.ask({"execute": "qmp_capabilities"})
    b.ask({"execute": "qmp_capabilities"})
    # lazy never negotiates: it gets no events.
    F.check(s.wait_ready(), "clients: the guest runs")
    a.ask({"execute": "stop"})
    F.check(b.event("STOP")["event"] == "STOP", "clients: the other client hears STOP")
    a.ask({"execute": "cont"})
    b.event("RESUME")
    _, r = lazy.ask({"execute": "query-status"})
    F.check(r["error"]["class"] == "CommandNotFound", "clients: no commands before negotiation")

    # Thread ids are the vCPU threads of vireo-run.
    _, r = a.ask({"execute": "query-cpus-fast"})
    tids = [c["thread-id"] for c in r["return"]]
    F.check(all(os.path.exists("/proc/%d/task/%d" % (s.proc.pid, t)) for t in tids),
            "clients: thread-ids %s are vireo-run's threads" % tids)

    # Hostile input on b: every bad request gets an error, and b goes on.
    cases = [
        (b'{"execute": "query-name", "id": "\xff', None),  # 0xFF: the pending input goes
        (b'\xff{"execute": "query-name", "id": "after-sync"}', "return"),
        (b'{"execute": "query-name", "id": "\xc3\x28"}', "invalid UTF-8"),
        (b'{"execute": "query-name", "id": "a\x00b"}', "control character"),
        (b'{"execute": "query-name", "id": 1e999}', "out of range"),
        (b'{"execute": "query-name", "id": 123456789012345678901234567890}', "return"),
        (b'{"execute": "query-name", "arguments": {"x": [' + b'[' * 2000 + b']' * 2000 + b']}}',
         "JSON nesting depth limit exceeded"),
        (b'{"execute": "query-name", "id": "' + b'x' * (2 * 1024 * 1024) + b'"}',
         "JSON input too large"),
        (b'{"execute": "\xe2\x82\xac"}', "has not been found"),
        (b'{"execute": "query-name", "id": "\\ud800"}', "not a valid Unicode character"),
    ]
    for data, expect in cases:
        b.send(data)
        if expect is None:
            continue
        _, r = b.reply()
        text = json.dumps(r)
        F.check(expect in text, "hostile: %r… -> %s" % (data[:40], text[:100]))
    _, r = b.ask({"execute": "query-status", "id": "still"})
    F.check(r.get("id") == "still", "hostile: the client is still served")

    # A client that leaves in the middle of a request.
    gone = Client(sock)
    gone.message()
    gone.send(b'{"execute": "qmp_capabilities"}{"execute": "sto')
    gone.close()
    _, r = a.ask({"execute": "query-status"})
    F.check(r["return"]["running"], "clients: a client that left changed nothing")

    # The guest powers off with status 3 while three clients are connected:
    # the negotiated ones hear SHUTDOWN, every connection ends, and so does
    # vireo-run, with the guest's status.
    s.console(b"f")
    for name, c in (("a", a), ("b", b)):
        rest = c.rest()
        ev = [m for m in rest if m.get("event") == "SHUTDOWN"]
        F.check(len(ev) == 1 and ev[0]["data"] == {"guest": True, "reason": "guest-shutdown"},
                "power-off: client %s hears SHUTDOWN (guest-shutdown)" % name)
    F.check(lazy.rest() == [] and lazy.eof, "power-off: the client that did not negotiate "
            "hears no event and is closed")
    status = s.finish()
    F.check(status == 3, "power-off: vireo-run ends with the guest's status 3 (got %s)" % status)
    F.check(not os.path.exists(sock), "power-off: the socket file is removed")


def check_tcp_and_wait(vireo_run, elf, tmp):
    env = dict(os.environ, LC_ALL="C", LANGUAGE="C")
    # tcp:HOST:0 picks a port; vireo-run names it.
    s = Server([vireo_run, "--kernel", elf, "--qmp", "tcp:127.0.0.1:0,server=on,nowait"],
               "", env)
    F.check(wait_for(lambda: "QMP monitor on" in s.err.text()), "tcp: vireo-run names its port")
    m = re.search(r"QMP monitor on 127\.0\.0\.1:(\d+)", s.err.text())
    if F.check(m is not None, "tcp: %s" % s.err.text().strip()):
        c = Client(("127.0.0.1", int(m.group(1))))
        F.check("QMP" in c.message(), "tcp: greeting")
        c.ask({"execute": "qmp_capabilities"})
        _, r = c.ask({"execute": "human-monitor-command",
                      "arguments": {"command-line": "savevm snap"}})
        F.check(r["return"] == "Error: Snapshots are not available on this machine\r\n",
                "tcp: savevm says snapshots are not available: %r" % r["return"])
        _, r = c.ask({"execute": "human-monitor-command",
                      "arguments": {"command-line": "info snapshots"}})
        F.check(r["return"] == "Snapshots are not available on this machine\r\n",
                "tcp: info snapshots says so too")
        c.ask({"execute": "human-monitor-command", "arguments": {"command-line": "q"}})
        c.rest()
    F.check(s.finish() == 0, "tcp: HMP q ends vireo-run with status 0")

    # ",server" alone waits for a client before the machine starts.
    sock = os.path.join(tmp, "wait.sock")
    s = Server([vireo_run, "--kernel", elf, "--qmp", "unix:%s,server" % sock], sock, env)
    s.wait_socket()
    F.check(wait_for(lambda: "waiting for a QMP client" in s.err.text()),
            "wait: vireo-run says it waits")
    time.sleep(0.5)
    F.check("ready" not in s.out.text(), "wait: the guest has not started")
    c = Client(sock)
    c.message()
    F.check(s.wait_ready(), "wait: the guest starts once a client connected")
    c.ask({"execute": "qmp_capabilities"})
    c.ask({"execute": "quit"})
    c.rest()
    F.check(s.finish() == 0, "wait: quit")

    # A client that quits at once, maybe before the machine has started:
    # status 0 either way.
    sock = os.path.join(tmp, "wait2.sock")
    s = Server([vireo_run, "--kernel", elf, "--qmp", "unix:%s,server=on" % sock], sock, env)
    s.wait_socket()
    c = Client(sock)
    c.send('{"execute": "qmp_capabilities"}{"execute": "quit"}')
    c.rest()
    status = s.finish()
    F.check(status == 0, "wait: a quit as the client connects ends with status 0 (got %s, %s)"
            % (status, s.err.text().strip().splitlines()[-1:]))


def check_screendump(vireo_run, demo, tmp, gpu):
    """The demo's picture: in 2D, and with virgl, where the device renders
    into a texture and publishes pixels only for presenters that need them
    (Mesa's llvmpipe without a screen; 2D where OpenGL cannot start)."""
    sock = os.path.join(tmp, "gpu-%s.sock" % gpu)
    env = dict(os.environ, LC_ALL="C", LANGUAGE="C", LIBGL_ALWAYS_SOFTWARE="1")
    s = Server([vireo_run, "--kernel", demo, "--gpu", gpu, "--qmp", "unix:" + sock], sock, env)
    s.wait_socket()
    c = Client(sock)
    c.message()
    c.ask({"execute": "qmp_capabilities"})
    ppm = os.path.join(tmp, "shot-%s.png" % gpu)  # the format, not the name, decides
    png = os.path.join(tmp, "shot-%s" % gpu)
    header = b"P6\n1024 768\n255\n"
    data = b""
    ok = False
    for _ in range(400):
        _, r = c.ask({"execute": "screendump", "arguments": {"filename": ppm}})
        if "return" in r:
            with open(ppm, "rb") as f:
                data = f.read()
            # Until the demo has set its mode and drawn its first frame.
            if len(set(data[len(header):])) > 2:
                ok = True
                break
        time.sleep(0.05)
    if F.check(ok, "screendump %s: a picture: %s" % (gpu, r)):
        F.check(data.startswith(header) and len(data) == len(header) + 1024 * 768 * 3,
                "screendump %s: a 1024x768 PPM (%d bytes)" % (gpu, len(data)))
        _, r = c.ask({"execute": "screendump", "arguments": {"filename": png, "format": "png"}})
        with open(png, "rb") as f:
            head = f.read(24)
        F.check(r == {"return": {}} and head[:8] == b"\x89PNG\r\n\x1a\n"
                and head[16:24] == b"\0\0\x04\0\0\0\x03\0", "screendump %s: a 1024x768 PNG" % gpu)
    _, r = c.ask({"execute": "screendump",
                  "arguments": {"filename": os.path.join(tmp, "no", "dir.ppm")}})
    F.check(r.get("error", {}).get("class") == "GenericError", "screendump %s: a folder that is "
            "not there: %s" % (gpu, r))
    # The demo powers off on "q".
    s.console(b"q")
    ev = [m for m in c.rest() if m.get("event") == "SHUTDOWN"]
    F.check(len(ev) == 1, "screendump %s: SHUTDOWN when the demo powers off" % gpu)
    F.check(s.finish() == 0, "screendump %s: vireo-run ends with status 0" % gpu)


def check_option_errors(vireo_run, elf, tmp):
    env = dict(os.environ, LC_ALL="C", LANGUAGE="C")

    def run(*args):
        p = subprocess.run([vireo_run, "--kernel", elf, *args], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, env=env, timeout=60)
        return p.returncode, p.stderr

    for spec, text in (("stdio", "is not unix:PATH or tcp:[HOST]:PORT"),
                       ("unix:", "names no socket"),
                       ("unix:%s/x.sock,server=off" % tmp, "server=off"),
                       ("unix:%s/x.sock,reconnect=1" % tmp, "unknown option"),
                       ("tcp:127.0.0.1:99999", "is not a TCP port"),
                       ("tcp:not-an-address:1", "is not an IP address"),
                       ("unix:%s/%s" % (tmp, "x" * 200), "is not a socket path")):
        status, err = run("--qmp", spec)
        F.check(status == 2 and "--qmp" in err and text in err,
                "--qmp %s: status %s, %s" % (spec[:40], status, err.strip().splitlines()[0]))
    # An address in use is this host's problem: status 1.
    busy = os.path.join(tmp, "busy.sock")
    holder = socket.socket(socket.AF_UNIX)
    holder.bind(busy)
    holder.listen(1)
    status, err = run("--qmp", "unix:" + busy)
    F.check(status == 1 and "cannot listen" in err, "--qmp on a socket in use: status %s" % status)
    holder.close()
    _, err = run("--help")
    F.check("--qmp" in err or "--qmp" in subprocess.run(
        [vireo_run, "--help"], capture_output=True, text=True, env=env).stdout,
        "--help names --qmp")


def main():
    vireo_run, elf = sys.argv[1], sys.argv[2]
    demo = sys.argv[3] if len(sys.argv) > 3 else None
    tmp = tempfile.mkdtemp(prefix="vireo-qmp-")
    try:
        v = run_script(vireo(vireo_run, elf, os.path.join(tmp, "vireo.sock")), "vireo")
        check_vireo_script(v)
        qemu_bin = shutil.which("qemu-system-riscv64")
        if qemu_bin:
            q = run_script(qemu(qemu_bin, elf, os.path.join(tmp, "qemu.sock")), "qemu")
            compare(v, q)
        else:
            print("skip  the same script against QEMU: qemu-system-riscv64 is not installed")
        check_clients_and_hostile(vireo_run, elf, tmp)
        check_tcp_and_wait(vireo_run, elf, tmp)
        if demo and os.path.exists(demo):
            check_screendump(vireo_run, demo, tmp, "2d")
            check_screendump(vireo_run, demo, tmp, "virgl")
        else:
            print("skip  screendump of a picture: no demo program")
        check_option_errors(vireo_run, elf, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d failure(s)" % F.n)
    sys.exit(1 if F.n else 0)


if __name__ == "__main__":
    main()

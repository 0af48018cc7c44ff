#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The GDB stub's remote protocol, packet by packet, malformed ones included.

Usage: gdb-protocol.py VIREO-RUN GDB-TARGET-ELF
"""
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Failures, finish, start_vireo  # noqa: E402


class Client:
    def __init__(self, address):
        host, port = address.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=20)
        self.buf = b""

    def _read(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("the stub closed the connection")
        self.buf += data

    def raw(self, data):
        self.sock.sendall(data)

    def byte(self):
        while not self.buf:
            self._read()
        b, self.buf = self.buf[:1], self.buf[1:]
        return b

    def packet(self):
        """The next packet's payload (acknowledged)."""
        while True:
            while b"$" not in self.buf:
                self._read()
            self.buf = self.buf[self.buf.index(b"$"):]
            while b"#" not in self.buf or len(self.buf) < self.buf.index(b"#") + 3:
                self._read()
            end = self.buf.index(b"#")
            payload, csum = self.buf[1:end], self.buf[end + 1:end + 3]
            self.buf = self.buf[end + 3:]
            if int(csum, 16) != sum(payload) % 256:
                raise ValueError("bad checksum from the stub: %r" % payload)
            self.raw(b"+")
            return payload.decode("latin-1")

    def send(self, payload, checksum=None):
        data = payload.encode("latin-1")
        csum = sum(data) % 256 if checksum is None else checksum
        self.raw(b"$" + data + b"#%02x" % csum)

    def ask(self, payload):
        """Sends a packet; returns (ack byte, reply payload)."""
        self.send(payload)
        ack = self.byte()
        return ack, self.packet()


def main():
    vireo_run, elf = sys.argv[1], sys.argv[2]
    proc, address = start_vireo(vireo_run, elf)
    f = Failures()
    c = Client(address)

    ack, r = c.ask("qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386")
    f.check(ack == b"+" and "PacketSize=4000" in r and "qXfer:features:read+" in r,
            "qSupported: %s" % r)

    # A bad checksum is refused with '-'; the packet sent again is served.
    c.send("?", checksum=0x00)
    f.check(c.byte() == b"-", "bad checksum: '-'")
    ack, r = c.ask("?")
    f.check(ack == b"+" and r == "T05thread:01;", "? after a bad checksum: %s" % r)

    # Unknown packets get an empty reply.
    for p in ["qNoSuchQuery", "vNoSuchThing", "jUnknown", "!"]:
        ack, r = c.ask(p)
        f.check(ack == b"+" and r == "", "unknown %s: empty reply" % p)

    # An oversized packet is skipped to its end and refused; the
    # connection goes on.
    c.send("M80000000,10000:" + "00" * 0x10000)
    ack = c.byte()
    r = c.packet()
    f.check(ack == b"+" and r.startswith("E"), "oversized packet: %s" % r)
    # Noise and garbage between packets.
    c.raw(b"+++garbage")
    ack, r = c.ask("qAttached")
    f.check(r == "1", "qAttached after noise: %s" % r)

    # Malformed arguments.
    for p in ["m", "mzz,4", "m80000000", "p", "pzz", "Hx1", "Hg99", "T99", "Z0,zz,2",
              "M80000000,4:zz", "P1=", "vCont;q"]:
        ack, r = c.ask(p)
        f.check(ack == b"+" and r.startswith("E"), "malformed %s: %s" % (p, r))

    ack, r = c.ask("qfThreadInfo")
    f.check(r == "m1,2", "qfThreadInfo: %s" % r)
    f.check(c.ask("qsThreadInfo")[1] == "l", "qsThreadInfo")
    f.check(c.ask("qC")[1] == "QC1", "qC")
    f.check(c.ask("T2")[1] == "OK" and c.ask("T3")[1].startswith("E"), "T thread-alive")
    f.check(c.ask("vCont?")[1] == "vCont;c;C;s;S", "vCont?")

    xml = ""
    off = 0
    while True:
        r = c.ask("qXfer:features:read:target.xml:%x,400" % off)[1]
        xml += r[1:]
        off += len(r) - 1
        if r[0] == "l":
            break
    f.check("org.gnu.gdb.riscv.cpu" in xml and "org.gnu.gdb.riscv.fpu" in xml and
            "org.gnu.gdb.riscv.csr" in xml and 'name="mstatus"' in xml and
            'name="fcsr"' in xml, "target description (%d bytes)" % len(xml))
    f.check(c.ask("qXfer:features:read:nothing.xml:0,100")[1].startswith("E"),
            "unknown annex")

    g = c.ask("g")[1]
    f.check(len(g) == 33 * 16 and g[32 * 16:] == "0000008000000000", "g: pc at 0x80000000")
    f.check(c.ask("p20")[1] == "0000008000000000", "p pc")
    f.check(c.ask("p0")[1] == "0" * 16, "p x0")
    f.check(c.ask("p42")[1] == "0" * 8, "p fflags (32 bits)")
    f.check(c.ask("p%x" % (70 + 0xf14))[1] == "0" * 16, "p mhartid")
    f.check(c.ask("p1000")[1].startswith("E"), "p of no register")
    f.check(c.ask("Pa=2a00000000000000")[1] == "OK" and
            c.ask("pa")[1] == "2a00000000000000", "P a0 then p a0")
    f.check(c.ask("Hg2")[1] == "OK" and c.ask("pa")[1] == "0" * 16, "Hg2: hart 1's a0")
    f.check(c.ask("Hg1")[1] == "OK", "Hg1")

    # Memory: csrr a0, mhartid is the first instruction.
    f.check(c.ask("m80000000,4")[1] == "732540f1", "m _start")
    f.check(c.ask("m10,4")[1] == "E14", "m of unmapped memory: E14")
    f.check(c.ask("M80007000,4:11223344")[1] == "OK" and
            c.ask("m80007000,4")[1] == "11223344", "M then m")
    ack, r = c.ask("X80007000,2:" + "\x7d\x03" + "A")
    f.check(r == "OK" and c.ask("m80007000,2")[1] == "2341", "X binary write")

    # Breakpoint at gdb_add (0x80000022 in the program; looked up by the
    # session test with symbols), continue, and the stop reply.
    f.check(c.ask("Z0,80000022,2")[1] == "OK", "Z0")
    f.check(c.ask("Z9,80000022,2")[1] == "", "Z9: not supported")
    c.send("vCont;c")
    r = c.packet()
    f.check(r == "T05thread:01;", "continue to the breakpoint: %s" % r)
    f.check(c.ask("p20")[1] == "2200008000000000", "pc at the breakpoint")
    f.check(c.ask("z0,80000022,2")[1] == "OK", "z0")
    f.check(c.ask("z0,80000022,2")[1].startswith("E"), "z0 of no breakpoint")
    c.send("vCont;s:1;c")
    r = c.packet()
    f.check(r == "T05thread:01;" and c.ask("p20")[1] == "2400008000000000",
            "step: %s" % r)

    # While the machine runs only an interrupt (or D, k) is served; then
    # Ctrl-C stops it.
    c.send("c")
    ack, r = c.ask("Z0,80000022,2")
    f.check(ack == b"+" and r == "E16", "Z0 while running: %s" % r)
    c.raw(b"\x03")
    r = c.packet()
    f.check(r.startswith("T02thread:"), "Ctrl-C: %s" % r)

    ack, r = c.ask("qRcmd," + b"info registers".hex())
    out = ""
    while r.startswith("O") and r != "OK":
        out += bytes.fromhex(r[1:]).decode()
        r = c.packet()
    f.check(r == "OK" and "mstatus" in out and "hart" in out, "monitor info registers")

    # Detach: the program runs to its end and vireo-run exits with its status.
    f.check(c.ask("D")[1] == "OK", "D")
    status, err = finish(proc)
    f.check(status == 0, "vireo-run after detach: %s %s" % (status, err.strip()))
    f.exit()


if __name__ == "__main__":
    main()

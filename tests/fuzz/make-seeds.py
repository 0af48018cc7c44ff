#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes the hand-made seed inputs of the targets whose inputs are binary
programs or byte streams (fuzz-virtio, fuzz-virtio-gpu, fuzz-gdb) into
tests/fuzz/corpus/<target>/.
The files are committed; run this again only when an input format changes.

    tests/fuzz/make-seeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def u16(v):
    return struct.pack('<H', v & 0xffff)


def u32(v):
    return struct.pack('<I', v & 0xffffffff)


def u64(v):
    return struct.pack('<Q', v & 0xffffffffffffffff)


def write(target, name, data):
    folder = os.path.join(HERE, 'corpus', target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), 'wb') as f:
        f.write(data)


# ---- fuzz-virtio -------------------------------------------------------------

BLK, BLK_RO, NET, CONSOLE, RNG, KEYBOARD, TABLET, GPU = range(8)
OP_CHAIN, OP_KICK, OP_CFG_READ, OP_CFG_WRITE, OP_RESET = 0, 3, 5, 6, 7
OP_STATUS, OP_QREADY, OP_HOST, OP_BACKEND, OP_AVAIL, OP_OTHER = 8, 9, 10, 11, 12, 13
INDIRECT, EVENT_IDX = 1, 2


def init(kind, queues, choice=0, device_bits=None):
    """The device, the feature choice (with the device's feature bits to
    accept) and one size byte (log2) per queue."""
    if device_bits is not None:
        return bytes([kind, choice | 4]) + u32(device_bits) + bytes(queues)
    return bytes([kind, choice]) + bytes(queues)


def desc(offset, length, write=False):
    """A descriptor in the data area with a 16-bit length."""
    return bytes([(1 if write else 0) | 0x40]) + u16(offset) + u16(length)


def chain(queue, descs, payload=b'', indirect=False):
    return (bytes([OP_CHAIN, queue, len(descs) - 1, 1 if indirect else 0]) + b''.join(descs) +
            u16(len(payload)) + payload)


def kick(queue):
    return bytes([OP_KICK, queue])


SLOT = [0]


def request(queue, out, in_lens, indirect=False):
    """A request in the next 8 KiB of the data area: `out` in one readable
    buffer, then writable buffers."""
    base = SLOT[0] % 8 * 0x2000
    SLOT[0] += 1
    descs = [desc(base, len(out))] if out else []
    at = base + 0x1000
    for n in in_lens:
        descs.append(desc(at, n, True))
        at += (n + 0xff) & ~0xff
    return chain(queue, descs, out, indirect)


def blk_header(kind, sector):
    return u32(kind) + u32(0) + u64(sector)


def virtio_seeds():
    t = 'fuzz-virtio'
    # The disk: write two sectors, read them back, flush, its ID; discard
    # and write zeroes; the read-only disk refusing a write.
    data = bytes(range(256)) * 4
    write(t, 'blk-write-read', init(BLK, [4], INDIRECT | EVENT_IDX) +
          request(0, blk_header(1, 2) + data, [1]) + kick(0) +
          request(0, blk_header(0, 2), [1024, 1]) + kick(0) +
          request(0, blk_header(4, 0), [1], indirect=True) +
          request(0, blk_header(8, 0), [20, 1]) + kick(0))
    segment = u64(4) + u32(8) + u32(0)
    write(t, 'blk-discard-zeroes', init(BLK, [4], device_bits=0xffffff) +
          request(0, blk_header(11, 0) + segment, [1]) +
          request(0, blk_header(13, 0) + u64(16) + u32(4) + u32(1), [1]) + kick(0) +
          bytes([OP_CFG_READ, 0, 3]))
    write(t, 'blk-ro', init(BLK_RO, [3]) + request(0, blk_header(1, 0) + bytes(512), [1]) +
          request(0, blk_header(0, 127), [512, 1]) + kick(0))
    # The network card: a frame out, a buffer for one in, a frame in.
    frame = bytes([0xff] * 6 + [2, 0, 0, 0, 0, 1, 8, 0]) + bytes(46)
    write(t, 'net-tx-rx', init(NET, [4, 4], EVENT_IDX) + request(1, bytes(12) + frame, []) +
          kick(1) + request(0, b'', [1526]) + kick(0) + bytes([OP_HOST]) + u16(len(frame)) +
          frame + bytes([OP_BACKEND, 1]) + request(1, bytes(12) + frame, []) + kick(1) +
          bytes([OP_BACKEND, 0]))
    # The console: output, an emergency write, input.
    write(t, 'console', init(CONSOLE, [3, 3]) + request(1, b'hello, world\n', []) + kick(1) +
          bytes([OP_CFG_WRITE, 8, 0]) + u64(ord('!')) + request(0, b'', [64]) + kick(0) +
          bytes([OP_HOST, 5]) + b'input')
    write(t, 'rng', init(RNG, [3]) + request(0, b'', [64]) + request(0, b'', [8, 8]) + kick(0) +
          bytes([OP_BACKEND, 1]) + request(0, b'', [100]) + kick(0))
    # The keyboard: its name, an LED from the guest, a key in two buffers.
    event = u16(17) + u16(1) + u32(1)
    write(t, 'keyboard', init(KEYBOARD, [3, 3]) + bytes([OP_CFG_WRITE, 0, 0]) + u64(1) +
          bytes([OP_CFG_READ, 8, 3]) + request(1, event, []) + kick(1) + request(0, b'', [8]) +
          request(0, b'', [8]) + kick(0) + bytes([OP_HOST, 4]) + u16(30))
    write(t, 'tablet', init(TABLET, [3, 3]) + request(0, b'', [8]) + request(0, b'', [8]) +
          request(0, b'', [8]) + kick(0) + bytes([OP_HOST, 1]) + u16(100) + u16(50) + u16(640) +
          u16(480) + bytes([OP_HOST, 3]) + u32(120) + u32(0xffffffc4))
    # The GPU: a resource, its backing, a transfer, on an output, flushed.
    def gpu(kind, body):
        return u32(kind) + u32(0) + u64(0) + u32(0) + u32(0) + body
    write(t, 'gpu', init(GPU, [4, 4]) +
          request(0, gpu(0x101, u32(1) + u32(2) + u32(16) + u32(16)), [24]) +
          request(0, gpu(0x106, u32(1) + u32(1) + u64(0x80030000) + u32(1024) + u32(0)), [24]) +
          request(0, gpu(0x105, u32(0) + u32(0) + u32(16) + u32(16) + u64(0) + u32(1) + u32(0)),
                  [24]) +
          request(0, gpu(0x103, u32(0) + u32(0) + u32(16) + u32(16) + u32(0) + u32(1)), [24]) +
          request(0, gpu(0x104, u32(0) + u32(0) + u32(8) + u32(8) + u32(1) + u32(0)), [24]) +
          kick(0) + request(1, gpu(0x301, u32(0) + u32(5) + u32(5) + bytes(20)), [24]) + kick(1) +
          bytes([OP_HOST, 0]) + u16(800) + u16(600))


# ---- fuzz-virtio-gpu ---------------------------------------------------------

(G_DISPLAY, G_CREATE, G_UNREF, G_SET_SCANOUT, G_FLUSH, G_TRANSFER, G_ATTACH, G_DETACH, G_EDID,
 G_CAPSET_INFO, G_CAPSET, G_UPDATE_CURSOR, G_MOVE_CURSOR, G_3D, G_RAW, G_RAW2, G_HOST) = range(17)
FENCE, OTHER_QUEUE, CUT, SPLIT, SEND = 1, 2, 4, 0x40, 0x80
R_HDR, R_64, R_DISPLAY, R_EDID, R_NONE, R_8, R_23, R_4096 = (i << 3 for i in range(8))


def cmd(op, flags, fields=b''):
    return bytes([op, flags]) + fields


def rect(x, y, w, h):
    return bytes([x, y, w, h])  # each below 80


def dim(n):
    return bytes([n - 1]) if n <= 64 else bytes([0x80]) + u16(n - 1)


def entry(offset_16, length):
    """A backing entry at GD_BACKING + offset_16 * 16 of `length` bytes."""
    return bytes([0x80]) + u16(offset_16) + u16(length >> 4)


def gpu_seeds():
    t = 'fuzz-virtio-gpu'
    b8g8r8a8 = 0
    write(t, 'scanout-cursor',
          cmd(G_CREATE, 0, bytes([1, b8g8r8a8]) + dim(16) + dim(16)) +
          cmd(G_ATTACH, 0, bytes([2, 0, 1]) + entry(0, 512) + entry(64, 512)) +
          cmd(G_TRANSFER, 0, bytes([0]) + rect(0, 0, 16, 16) + u16(0) + bytes([1])) +
          cmd(G_SET_SCANOUT, 0, rect(0, 0, 16, 16) + bytes([0, 1])) +
          cmd(G_TRANSFER, 0, bytes([0]) + rect(4, 4, 8, 8) + u16(64 * 4 + 16) + bytes([1])) +
          cmd(G_FLUSH, SEND, rect(0, 0, 8, 8) + bytes([1])) +
          cmd(G_DISPLAY, R_DISPLAY) + cmd(G_EDID, R_EDID | SEND, bytes([0])) +
          cmd(G_CREATE, 0, bytes([2, 4, 0x40, 0x40])) +
          cmd(G_ATTACH, SEND, bytes([1, 1, 2]) + entry(0x1000, 16384)) +
          cmd(G_UPDATE_CURSOR, 0, bytes([0, 10, 10, 2, 1, 1])) +
          cmd(G_MOVE_CURSOR, SEND, bytes([0, 20, 30, 0, 0, 0])) +
          cmd(G_UNREF, 0, bytes([1])) + cmd(G_DETACH, SEND, bytes([2])))
    write(t, 'errors',
          cmd(G_CREATE, 0, bytes([0, 0, 3, 3])) +             # id 0
          cmd(G_CREATE, 0, bytes([1, 8, 3, 3])) +             # no format
          cmd(G_CREATE, 0, bytes([1, 0, 0xc5, 3])) +          # too wide
          cmd(G_CREATE, 0, bytes([1, 0, 3, 3])) +
          cmd(G_CREATE, 0, bytes([1, 0, 3, 3])) +             # the id is taken
          cmd(G_ATTACH, 0, bytes([1, 0xe0, 1]) + entry(0, 64)) +  # claims more entries
          cmd(G_ATTACH, 0, bytes([1, 0, 1, 0x04, 0, 0, 0x40, 0])) +  # across the end of RAM
          cmd(G_ATTACH, 0, bytes([1, 0, 1]) + entry(0, 16)) +   # too small
          cmd(G_TRANSFER, 0, bytes([0]) + rect(0, 0, 4, 4) + u16(0) + bytes([1])) +  # no backing
          cmd(G_SET_SCANOUT, 0, rect(2, 2, 2, 2) + bytes([0, 1])) +  # off the resource
          cmd(G_SET_SCANOUT, 0, rect(0, 0, 1, 1) + bytes([2, 1])) +  # no such output
          cmd(G_FLUSH, 0, rect(0, 0xc0, 1, 1) + bytes([1])) +        # y + height wraps
          cmd(G_CAPSET_INFO, 0, bytes([0, 0])) + cmd(G_3D, 0, bytes([0]) + u32(1) + u32(0)) +
          cmd(G_UPDATE_CURSOR, SEND, bytes([0, 0, 0, 1, 0, 0])) +  # not 64 x 64
          cmd(G_RAW, SEND, bytes([4, 0x10, 0x05, 1, 2, 3, 4])))
    write(t, 'fences-short',
          cmd(G_DISPLAY, FENCE | R_64) + u64(0x1122334455667788) + bytes([7]) +
          cmd(G_DISPLAY, R_23) + cmd(G_DISPLAY, R_8 | SPLIT, bytes([10])) +
          cmd(G_CREATE, CUT | R_NONE, bytes([1, 0, 3, 3, 30])) +
          cmd(G_EDID, FENCE | R_EDID | SEND, bytes([1]) + u64(42) + bytes([0])) +
          cmd(G_MOVE_CURSOR, OTHER_QUEUE | SEND, bytes([0, 1, 1, 0, 0, 0])))
    write(t, 'host',
          cmd(G_HOST, 0) + u16(800) + u16(600) + bytes([G_HOST, 2]) + u32(1) +
          cmd(G_DISPLAY, R_DISPLAY | SEND) + bytes([G_HOST, 4 | 3]) +
          cmd(G_EDID, SEND, bytes([0])) + bytes([G_HOST, 1]))


# ---- fuzz-gdb ----------------------------------------------------------------


def pkt(payload):
    data = payload.encode('latin-1') if isinstance(payload, str) else payload
    return b'$' + data + b'#%02x' % (sum(data) % 256)


def gdb(ctx, piece, *packets):
    return bytes([ctx, piece]) + b''.join(pkt(p) if isinstance(p, str) else p for p in packets)


M_MODE, S_SV39, S_SV48_MPRV, U_SV57 = 2, 1 | 1 << 2, 2 | 2 << 2 | 1 << 4 | 1 << 5, 0 | 3 << 2


def gdb_seeds():
    t = 'fuzz-gdb'
    write(t, 'queries', gdb(M_MODE, 0, 'qSupported:multiprocess+;swbreak+;hwbreak+', '?',
                            'qfThreadInfo', 'qsThreadInfo', 'qC', 'qAttached', 'Hg1', 'Hc-1',
                            'T1', 'qThreadExtraInfo,1', 'vCont?', 'qNoSuchThing', ''))
    write(t, 'registers', gdb(M_MODE, 7, 'g', 'p20', 'Pa=2a00000000000000', 'pa', 'p42',
                              'P43=01000000', 'P44=0000000000000000', 'p45',
                              'p%x' % (70 + 0x300), 'p%x' % (70 + 0xf14), 'p1000', 'P45=ff',
                              'G' + '11' * 8 * 33, 'g'))
    write(t, 'memory', gdb(M_MODE, 0, 'M80000100,4:11223344', 'm80000100,4',
                           pkt(b'X80000110,4:}\x03}\x04}]A'), 'm80000110,4', 'm1000,10',
                           'M1000,4:00000000', 'm10000000,4', 'm0,4', 'm8000fff0,20',
                           'm80000000,2000', 'Mffffffffffffffff,2:0000'))
    # S mode with Sv39: a second mapping made with M, read through it.
    write(t, 'page-tables', gdb(S_SV39, 0, 'm80000000,4', 'M80001000,8:cf00002000000000',
                                'm0,4', 'M80001008,8:0100000000000000', 'm40000000,4'))
    write(t, 'page-tables-mprv', gdb(S_SV48_MPRV, 5, 'm80000000,8', 'M80002010,8:0000000000000000',
                                     'm80000000,8'))
    write(t, 'page-tables-sv57', gdb(U_SV57, 0, 'm80000000,4', 'm100000000000000,4'))
    write(t, 'points-run', gdb(M_MODE, 3, 'Z0,80000000,2', 'Z1,80000004,4', 'Z2,80000100,8',
                               'Z3,80000200,4', 'Z4,80000300,1', 'Z9,0,0', 'z2,80000100,8',
                               'c', b'\x03', 's', b'\x03', 'vCont;s:1;c', b'\x03', 'vCont;c',
                               b'\x03', 'c80000010', b'\x03', 'z0,80000000,2', 'D'))
    write(t, 'xfer-monitor', gdb(M_MODE, 0, 'qXfer:features:read:target.xml:0,400',
                                 'qXfer:features:read:target.xml:fff0,ffff',
                                 'qXfer:features:read:target.xml:ffffffffffffffff,10',
                                 'qXfer:features:read:no.xml:0,10',
                                 'qRcmd,' + b'info registers'.hex(), 'qRcmd,' + b'help'.hex(),
                                 'qRcmd,' + b'reset'.hex(), 'qRcmd,' + b'what'.hex(), 'k'))
    # After a packet too long for the stub (bit 7 of byte 1).
    write(t, 'framing', bytes([M_MODE, 0x80 | 2]) + b'+++noise$?#00' + pkt('?') + b'-' +
          pkt('M80000000,10000:' + '00' * 0x100) + pkt('qAttached') + b'$m80000000,4#z' +
          b'\x03' + pkt('qC'))


def main():
    virtio_seeds()
    gpu_seeds()
    gdb_seeds()


if __name__ == '__main__':
    main()

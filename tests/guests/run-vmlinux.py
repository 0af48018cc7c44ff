#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Boots a Linux kernel given as a vmlinux ELF file far enough to see its
"Linux version" banner on the serial console.

A vmlinux is linked at the kernel's virtual addresses (0xffffffff80000000 on
riscv64) with physical addresses of 0 (p_paddr = p_vaddr - the link address)
or equal to the virtual ones; vireo-run lays it out by its virtual addresses
at the kernel load address, after the firmware (docs/BOARD.md). The kernel
of every kit folder given boots: the Debian kit's `vmlinux`
(tests/guests/build-debian.py) and the Linux guest kit's `vmlinux`
(tests/guests/build-kit.py; its `Image` where an older kit has no vmlinux).
A file that is already an ELF file (the guest kit's, as the kernel build
links it) boots as it is. Debian's /boot/vmlinux is a RISC-V Linux `Image`
with its EFI stub: such a file is the loadable contents of the
vmlinux it was made from (objcopy -O binary), so it is put back into that
ELF layout here, in two PT_LOAD segments (text, then data with the bss up to
the header's image_size), once with p_paddr 0 and once with p_paddr equal to
p_vaddr. Each boots through OpenSBI fw_jump, which jumps to 0x80200000; the
banner must name the kit's kernel-release when the kit has that file, and
the kernel must then name the board from its device tree.
Standard library only.

Usage: run-vmlinux.py --vireo-run PATH --kit DIR [--kit DIR...]
                      [--firmware FILE] [--timeout SECONDS]
Exit status: 0 pass, 1 failure, 77 when no kit or no firmware is there.
"""

import argparse
import os
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time

FIRMWARE = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin"
LINK_ADDR = 0xFFFFFFFF80000000  # KERNEL_LINK_ADDR of riscv64 Linux
EM_RISCV = 243
PT_LOAD = 1
PF_X, PF_W, PF_R = 1, 2, 4


def find_kernels(kits):
    """(kit, kernel file) for every kit folder that holds one."""
    found = []
    for kit in kits:
        for name in ("vmlinux", "Image"):
            path = os.path.join(kit, name)
            if os.path.isfile(path):
                found.append((kit, path))
                break
    return found


def image_size(data):
    """The memory a RISC-V Linux Image takes (its header's image_size), or
    None when `data` has no such header."""
    if len(data) < 64 or data[56:60] != b"RSC\x05":
        return None
    return max(len(data), struct.unpack_from("<Q", data, 16)[0])


def write_vmlinux(image, path, paddr_of):
    """Writes `image` (the bytes of an Image) as a riscv64 ELF executable
    linked at LINK_ADDR: text up to the middle page boundary, then data and
    bss. `paddr_of(vaddr)` gives each segment's p_paddr."""
    mem_size = image_size(image)
    split = (len(image) // 2) & ~0xFFF
    segments = [
        (0, split, split, PF_R | PF_X),
        (split, len(image) - split, mem_size - split, PF_R | PF_W),
    ]
    ehsize, phentsize = 64, 56
    data_offset = 0x1000
    out = bytearray()
    out += b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    out += struct.pack("<HHIQQQIHHHHHH", 2, EM_RISCV, 1, LINK_ADDR, ehsize, 0, 0,
                       ehsize, phentsize, len(segments), 64, 0, 0)
    for start, file_size, size, flags in segments:
        vaddr = LINK_ADDR + start
        out += struct.pack("<IIQQQQQQ", PT_LOAD, flags, data_offset + start, vaddr,
                           paddr_of(vaddr), file_size, size, 0x1000)
    out += bytes(data_offset - len(out))
    out += image
    with open(path, "wb") as f:
        f.write(out)


# After the banner, the kernel names the board from the device tree that
# the firmware passed on: it runs where it was put and found its tree.
MODEL = b"Machine model: riscv-virtio,qemu"


def boot(vireo_run, firmware, kernel, release, timeout):
    """Runs vireo-run until the banner and the machine's model show; returns
    an error or None."""
    argv = [vireo_run, "--memory", "512M", "--firmware", firmware, "--kernel", kernel,
            "--append", "console=ttyS0 earlycon=sbi"]
    banner = b"Linux version " + (release.encode() if release else b"")
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    out = b""
    err = b""
    started = time.monotonic()
    deadline = started + timeout
    try:
        streams = [proc.stdout, proc.stderr]
        while not (banner in out and MODEL in out) and streams and time.monotonic() < deadline:
            ready, _, _ = select.select(streams, [], [], 0.5)
            for stream in ready:
                data = os.read(stream.fileno(), 65536)
                if not data:
                    streams.remove(stream)
                elif stream is proc.stdout:
                    out += data
                else:
                    err += data
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    seconds = time.monotonic() - started
    if banner in out and MODEL in out:
        line = out[out.index(b"Linux version"):].split(b"\n")[0]
        print(f"  banner and model after {seconds:.1f} s: "
              f"{line.decode('utf-8', 'replace').strip()}")
        return None
    missing = banner if banner not in out else MODEL
    tail = out[-1500:].decode("utf-8", "replace")
    return (f"no “{missing.decode()}” within {seconds:.0f} s (exit status {proc.returncode})\n"
            f"--- stderr:\n{err.decode('utf-8', 'replace')}--- console (end):\n{tail}")


def boot_kit(args, kit, kernel):
    """Boots one kit's kernel: an ELF file as it is, an Image in vmlinux's
    layout both ways; returns the number of failures."""
    failures = 0
    release = None
    release_file = os.path.join(kit, "kernel-release")
    if os.path.isfile(release_file):
        with open(release_file) as f:
            release = f.read().strip()
    with open(kernel, "rb") as f:
        data = f.read()

    with tempfile.TemporaryDirectory(prefix="vireo-vmlinux-") as tmp:
        if data[:4] == b"\x7fELF":
            cases = [("as it is", kernel)]
        elif image_size(data) is not None:
            cases = []
            for name, paddr_of in (("p_paddr 0", lambda v: v - LINK_ADDR),
                                   ("p_paddr = p_vaddr", lambda v: v)):
                path = os.path.join(tmp, "vmlinux-" + name.replace(" ", "").replace("=", "-"))
                write_vmlinux(data, path, paddr_of)
                cases.append((name, path))
        else:
            print(f"FAIL: {kernel} is neither an ELF file nor a RISC-V Linux Image")
            return 1
        for name, path in cases:
            print(f"{kernel} ({name}):")
            error = boot(args.vireo_run, args.firmware, path, release, args.timeout)
            if error is not None:
                print(f"FAIL: {error}")
                failures += 1
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vireo-run", required=True)
    parser.add_argument("--kit", action="append", required=True,
                        help="a kit folder; the kernel of every one that holds one boots")
    parser.add_argument("--firmware", default=FIRMWARE)
    parser.add_argument("--timeout", type=float, default=240)
    args = parser.parse_args()

    if not os.path.isfile(args.firmware):
        print(f"SKIP: {args.firmware} is not installed (opensbi)")
        return 77
    kernels = find_kernels(args.kit)
    if not kernels:
        print("SKIP: no kit with a kernel in " + ", ".join(args.kit) +
              " (tests/guests/build-debian.py --out DIR or build-kit.py --out DIR)")
        return 77
    failures = 0
    for kit, kernel in kernels:
        failures += boot_kit(args, kit, kernel)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Builds the Linux guest kit: a small riscv64 kernel Image from Debian's
linux-source-6.1 (tinyconfig plus kernel.config) and an initramfs holding the
kit's static init (init/*.c), both cross-compiled with riscv64-linux-gnu-gcc.

The results are cached outside the source tree, keyed by a hash of every
input (the linux-source package version, kernel.config, this script, the init
sources, the cross compiler, binutils and C library versions and the host
compiler):

    ${XDG_CACHE_HOME:-~/.cache}/vireo/guest-kit/<key>/{Image,vmlinux,initramfs.cpio,config}

(vmlinux is the kernel as an ELF file with its symbols, for a debugger.)

With --variant display the kernel also gets kernel-display.config, merged
after kernel.config (DRM with the virtio-gpu driver, /dev/fb0 and the
framebuffer console); that kernel and kit have keys of their own, so both
variants stay cached side by side.

A second run with the same inputs builds nothing. The kernel alone is cached
under kernel-<key>, whose key has the same inputs less the init sources and
with only the parts of this script that build the kernel, so a change to the
init rebuilds only the initramfs. With --out DIR the three files are copied
(or hard-linked) there as well. The last lines printed name the files.

usage: build-kit.py [--out DIR] [--jobs N] [--force]
                    [--keep-tree] [--print-key] [--source TARBALL]
                    [--variant base|display]

Exit status: 0 when the kit is there; 1 when a build step fails; 77 when a
prerequisite is missing (see scripts/setup); with --out, the reason is
also written to DIR/unavailable, which the runners report when they skip.
"""

import argparse
import fcntl
import hashlib
import inspect
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BASE_FRAGMENT = os.path.join(HERE, "kernel.config")
# The configuration fragments of each variant, merged in this order.
VARIANTS = {
    "base": (BASE_FRAGMENT,),
    "display": (BASE_FRAGMENT, os.path.join(HERE, "kernel-display.config")),
}
# The fragment build_kernel() merges and verify_config() checks: kernel.config
# for the base variant, a file merging the variant's fragments otherwise
# (set by build()).
FRAGMENT = BASE_FRAGMENT
INIT_DIR = os.path.join(HERE, "init")
SOURCE_PACKAGE = "linux-source-6.1"
DEFAULT_TARBALL = "/usr/src/linux-source-6.1.tar.xz"
CROSS = "riscv64-linux-gnu-"
KIT_FILES = ("Image", "vmlinux", "initramfs.cpio", "config")
KERNEL_FILES = ("Image", "vmlinux", "config", "gen_init_cpio.c")

# What the initramfs holds besides /init (gen_init_cpio's list format).
CPIO_LIST = """\
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
nod /dev/null 0666 0 0 c 1 3
dir /proc 0555 0 0
dir /sys 0555 0 0
dir /tmp 1777 0 0
file /init {init} 0755 0 0
"""


class Missing(Exception):
    """A prerequisite is not installed."""


class BuildError(Exception):
    """A build step failed."""


def log(msg):
    print(f"build-kit: {msg}", flush=True)


def cache_root():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "vireo", "guest-kit")


def command_output(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None


def package_version(name):
    out = command_output(["dpkg-query", "-W", "-f=${Version}", name])
    return out.strip() if out else None


def file_digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def init_sources():
    names = sorted(n for n in os.listdir(INIT_DIR) if n.endswith((".c", ".h")))
    return [os.path.join(INIT_DIR, n) for n in names]


def check_prerequisites(tarball):
    missing = []
    if not os.path.isfile(tarball):
        missing.append(f"{tarball} (package {SOURCE_PACKAGE})")
    for tool, package in ((CROSS + "gcc", "gcc-riscv64-linux-gnu"),
                          ("make", "make"), ("cc", "build-essential"),
                          ("flex", "flex"), ("bison", "bison"), ("bc", "bc"),
                          ("xz", "xz-utils"), ("tar", "tar")):
        if shutil.which(tool) is None:
            missing.append(f"{tool} (package {package})")
    libc = command_output([CROSS + "gcc", "-print-file-name=libc.a"]) if shutil.which(CROSS + "gcc") else None
    if shutil.which(CROSS + "gcc") and (not libc or not os.path.isabs(libc.strip())):
        missing.append("the riscv64 static C library (package libc6-dev-riscv64-cross)")
    if missing:
        raise Missing("missing: " + ", ".join(missing) + "; run scripts/setup")


def describe_inputs(tarball, variant="base"):
    """The inputs as (name, value) pairs, in a fixed order. The base
    variant's pairs name only kernel.config, so its keys do not depend on
    the other variants."""
    version = package_version(SOURCE_PACKAGE) if tarball == DEFAULT_TARBALL else None
    source = f"{SOURCE_PACKAGE} {version}" if version else f"sha256 {file_digest(tarball)}"

    def first_line(argv):
        out = command_output(argv)
        return out.splitlines()[0] if out else "unknown"

    tools = [
        ("linux-source", source),
        ("cross-gcc", first_line([CROSS + "gcc", "--version"])),
        ("cross-binutils", first_line([CROSS + "ld", "--version"])),
        ("cross-libc", package_version("libc6-dev-riscv64-cross") or "unknown"),
        ("host-cc", first_line(["cc", "--version"])),
    ]
    with open(BASE_FRAGMENT, "rb") as f:
        fragment = hashlib.sha256(f.read()).hexdigest()
    with open(os.path.abspath(__file__), "rb") as f:
        script = hashlib.sha256(f.read()).hexdigest()
    # The kernel's own key covers the parts of this script that build it, so
    # that other changes to the script rebuild only the initramfs.
    recipe = "".join(inspect.getsource(fn) for fn in (build_kernel, verify_config, read_config))
    recipe_hash = hashlib.sha256(recipe.encode()).hexdigest()
    kernel = tools + [("kernel.config", fragment), ("kernel-recipe", recipe_hash)]
    if variant != "base":
        kernel.append(("variant", variant))
        kernel += [(os.path.basename(p), file_digest(p)) for p in VARIANTS[variant][1:]]
        merge = inspect.getsource(merge_fragments)
        kernel.append(("fragment-merge", hashlib.sha256(merge.encode()).hexdigest()))
    init = [(os.path.relpath(p, HERE), file_digest(p)) for p in init_sources()]
    return kernel, kernel + [("build-kit.py", script)] + init


def key_of(pairs):
    h = hashlib.sha256()
    for name, value in pairs:
        h.update(f"{name}={value}\n".encode())
    return h.hexdigest()[:16]


def run(argv, cwd=None, env=None, quiet=False):
    shown = " ".join(argv)
    log(f"$ {shown}" if not cwd else f"$ (cd {cwd} && {shown})")
    try:
        proc = subprocess.run(argv, cwd=cwd, env=env,
                              stdout=subprocess.PIPE if quiet else None,
                              stderr=subprocess.STDOUT if quiet else None, text=True)
    except OSError as e:
        raise BuildError(f"{argv[0]}: {e}") from e
    if proc.returncode != 0:
        if quiet and proc.stdout:
            sys.stdout.write(proc.stdout[-8000:])
        raise BuildError(f"{argv[0]} failed with status {proc.returncode}")
    return proc


def read_config(path):
    """CONFIG_X -> value ('n' for `# CONFIG_X is not set`)."""
    values = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            m = re.match(r"^(CONFIG_\w+)=(.*)$", line)
            if m:
                values[m.group(1)] = m.group(2)
                continue
            m = re.match(r"^# (CONFIG_\w+) is not set$", line)
            if m:
                values[m.group(1)] = "n"
    return values


def verify_config(config_path):
    wanted = read_config(FRAGMENT)
    got = read_config(config_path)
    wrong = []
    for name, value in wanted.items():
        have = got.get(name, "n")
        if have != value:
            wrong.append(f"{name}: wanted {value}, got {have}")
    if wrong:
        raise BuildError("kernel.config options that did not take:\n  " + "\n  ".join(wrong))


def merge_fragments(paths, out):
    """Writes one fragment holding every option of `paths`, a later file's
    value replacing an earlier one's (each option once, so that
    verify_config() checks the value that counts)."""
    values = {}
    for path in paths:
        values.update(read_config(path))
    with open(out, "w") as f:
        for name, value in values.items():
            f.write(f"# {name} is not set\n" if value == "n" else f"{name}={value}\n")


def build_kernel(tarball, work, jobs, dest, config_only=False):
    """Extracts the source, configures it (tinyconfig + kernel.config,
    checked) and builds arch/riscv/boot/Image; leaves Image, vmlinux (its
    ELF, with the symbol table), config and gen_init_cpio.c in `dest` (only
    config with `config_only`)."""
    log(f"extracting {tarball}")
    run(["tar", "-xJf", tarball, "-C", work])
    tops = [d for d in os.listdir(work) if d.startswith("linux")]
    if len(tops) != 1:
        raise BuildError(f"unexpected layout of {tarball}: {tops}")
    src = os.path.join(work, tops[0])
    obj = os.path.join(work, "obj")
    os.makedirs(obj)
    env = dict(os.environ, ARCH="riscv", CROSS_COMPILE=CROSS,
               KBUILD_BUILD_USER="vireo", KBUILD_BUILD_HOST="guest-kit",
               KBUILD_BUILD_TIMESTAMP="Thu Jan  1 00:00:00 UTC 1970", LC_ALL="C")
    make = ["make", "-C", src, f"O={obj}", "ARCH=riscv", f"CROSS_COMPILE={CROSS}"]
    run(make + ["-s", "tinyconfig"], env=env)
    run([os.path.join(src, "scripts/kconfig/merge_config.sh"), "-m", "-O", obj,
         os.path.join(obj, ".config"), FRAGMENT], cwd=src, env=env, quiet=True)
    run(make + ["-s", "olddefconfig"], env=env)
    shutil.copyfile(os.path.join(obj, ".config"), os.path.join(dest, "config"))
    verify_config(os.path.join(obj, ".config"))
    if config_only:
        return
    started = time.monotonic()
    run(make + [f"-j{jobs}", "Image"], env=env)
    log(f"kernel built in {time.monotonic() - started:.0f} s")
    shutil.copyfile(os.path.join(obj, "arch/riscv/boot/Image"), os.path.join(dest, "Image"))
    shutil.copyfile(os.path.join(obj, "vmlinux"), os.path.join(dest, "vmlinux"))
    shutil.copyfile(os.path.join(src, "usr/gen_init_cpio.c"), os.path.join(dest, "gen_init_cpio.c"))


def build_initramfs(gen_init_cpio_c, work, dest):
    """Cross-compiles init/*.c into a static /init and packs the initramfs."""
    init = os.path.join(work, "init")
    run([CROSS + "gcc", "-static", "-O2", "-g0", "-pthread", "-std=gnu11", "-D_GNU_SOURCE",
         "-Wall", "-Wextra", "-Werror", "-o", init] + [p for p in init_sources() if p.endswith(".c")])
    run([CROSS + "strip", init])
    gen = os.path.join(work, "gen_init_cpio")
    run(["cc", "-O2", "-o", gen, gen_init_cpio_c])
    listing = os.path.join(work, "initramfs.list")
    with open(listing, "w") as f:
        f.write(CPIO_LIST.format(init=init))
    with open(os.path.join(dest, "initramfs.cpio"), "wb") as out:
        proc = subprocess.run([gen, "-t", "0", listing], stdout=out)
    if proc.returncode != 0:
        raise BuildError("gen_init_cpio failed")


def link_or_copy(src, dst):
    tmp = dst + ".tmp"
    if os.path.lexists(tmp):
        os.unlink(tmp)
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def complete(d, names):
    return all(os.path.isfile(os.path.join(d, n)) for n in names) and \
        os.path.isfile(os.path.join(d, "inputs"))


def publish(staging, final):
    """Moves a finished staging folder into place (atomically)."""
    if os.path.isdir(final):
        shutil.rmtree(final)
    os.replace(staging, final)


def write_inputs(d, pairs, extra=""):
    with open(os.path.join(d, "inputs"), "w") as f:
        for name, value in pairs:
            f.write(f"{name}={value}\n")
        f.write(extra)


def build(args):
    global FRAGMENT
    tarball = args.source
    check_prerequisites(tarball)
    kernel_pairs, kit_pairs = describe_inputs(tarball, args.variant)
    kit_key = key_of(kit_pairs)
    kernel_key = key_of(kernel_pairs)
    if args.print_key:
        print(kit_key)
        return os.path.join(cache_root(), kit_key)

    root = cache_root()
    os.makedirs(root, exist_ok=True)
    kit_dir = os.path.join(root, kit_key)
    kernel_dir = os.path.join(root, f"kernel-{kernel_key}")

    # One build at a time per cache; whoever waits finds the results.
    with open(os.path.join(root, ".lock"), "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log("another build of the kit is running; waiting for it")
            fcntl.flock(lock, fcntl.LOCK_EX)

        if args.force:
            for d in (kit_dir, kernel_dir):
                if os.path.isdir(d):
                    shutil.rmtree(d)

        if complete(kit_dir, KIT_FILES) and not args.config_only:
            log(f"cached: {kit_dir}")
            return kit_dir

        work = tempfile.mkdtemp(prefix="work-", dir=root)
        try:
            if args.variant != "base":
                FRAGMENT = os.path.join(work, f"kernel-{args.variant}-merged.config")
                merge_fragments(VARIANTS[args.variant], FRAGMENT)
            started = time.monotonic()
            if args.config_only:
                build_kernel(tarball, work, args.jobs, work, config_only=True)
                log(f"kernel.config applies; the configuration is {os.path.join(work, 'config')}")
                return None
            if not complete(kernel_dir, KERNEL_FILES):
                fragments = " + ".join(os.path.basename(p) for p in VARIANTS[args.variant])
                log(f"building the kernel ({SOURCE_PACKAGE}, tinyconfig + {fragments}, -j{args.jobs})")
                staging = tempfile.mkdtemp(prefix="staging-", dir=root)
                build_kernel(tarball, work, args.jobs, staging)
                write_inputs(staging, kernel_pairs)
                publish(staging, kernel_dir)
            else:
                log(f"kernel cached: {kernel_dir}")
            staging = tempfile.mkdtemp(prefix="staging-", dir=root)
            build_initramfs(os.path.join(kernel_dir, "gen_init_cpio.c"), work, staging)
            link_or_copy(os.path.join(kernel_dir, "Image"), os.path.join(staging, "Image"))
            link_or_copy(os.path.join(kernel_dir, "vmlinux"), os.path.join(staging, "vmlinux"))
            link_or_copy(os.path.join(kernel_dir, "config"), os.path.join(staging, "config"))
            write_inputs(staging, kit_pairs, f"kernel={kernel_dir}\n")
            publish(staging, kit_dir)
            log(f"kit built in {time.monotonic() - started:.0f} s")
        finally:
            if args.keep_tree:
                log(f"work tree kept: {work}")
            else:
                shutil.rmtree(work, ignore_errors=True)
            for name in os.listdir(root):
                if name.startswith("staging-"):
                    shutil.rmtree(os.path.join(root, name), ignore_errors=True)
    return kit_dir


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", help="also place Image, vmlinux, initramfs.cpio and config in this folder")
    ap.add_argument("--jobs", "-j", type=int, default=2, help="make jobs (default 2)")
    ap.add_argument("--force", action="store_true", help="rebuild even when cached")
    ap.add_argument("--keep-tree", action="store_true", help="keep the kernel build tree")
    ap.add_argument("--print-key", action="store_true", help="print the cache key and exit")
    ap.add_argument("--config-only", action="store_true",
                    help="only configure the kernel and check kernel.config (keeps the tree)")
    ap.add_argument("--source", default=DEFAULT_TARBALL, help="kernel source tarball")
    ap.add_argument("--variant", choices=sorted(VARIANTS), default="base",
                    help="base (default) or display (adds kernel-display.config)")
    args = ap.parse_args()

    status = 0
    try:
        if args.config_only:
            args.keep_tree = True
        kit_dir = build(args)
        if args.print_key or args.config_only:
            return 0
        if args.out:
            os.makedirs(args.out, exist_ok=True)
            for name in os.listdir(args.out):
                if name == "unavailable":
                    os.unlink(os.path.join(args.out, name))
            for name in KIT_FILES + ("inputs",):
                link_or_copy(os.path.join(kit_dir, name), os.path.join(args.out, name))
        place = args.out or kit_dir
        for name in KIT_FILES:
            print(f"{name}: {os.path.join(place, name)}")
        if args.out:
            print(f"cache: {kit_dir}")
    except Missing as e:
        log(str(e))
        status = 77
        if args.out:
            os.makedirs(args.out, exist_ok=True)
            for name in KIT_FILES:
                if os.path.lexists(os.path.join(args.out, name)):
                    os.unlink(os.path.join(args.out, name))
            with open(os.path.join(args.out, "unavailable"), "w") as f:
                f.write(str(e) + "\n")
    except BuildError as e:
        log(f"error: {e}")
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())

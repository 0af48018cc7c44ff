#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Builds the Debian kit: a Debian 13 (trixie) riscv64 system made with
mmdebstrap from the Debian archive, configured for the virt board (serial
console with root logged in automatically, DHCP on the network through
systemd-networkd), and two bootable raw disk images of it:

  debian-extlinux.img  GPT, one ext4 partition (LegacyBIOSBootable) with the
                       system and /boot/extlinux/extlinux.conf, which Debian's
                       U-Boot (qemu-riscv64_smode) boots through distro boot
  debian-efi.img       GPT, an EFI system partition with GRUB as
                       EFI/BOOT/BOOTRISCV64.EFI and an ext4 root with
                       /boot/grub/grub.cfg (the layout of Debian's riscv64
                       cloud images), booted through U-Boot's UEFI

plus the kernel (`vmlinux`, Debian's linux-image-riscv64) and its initramfs
(`initrd.img`) for direct --kernel/--initrd boots. The images are sparse 2 GiB
files made without mounting anything: sfdisk writes the partition tables,
`mkfs.ext4 -d` and mkfs.vfat + mtools the file systems, dd puts them in place.

The results are cached outside the source tree:

    ${XDG_CACHE_HOME:-~/.cache}/vireo/debian-kit/<key>/

The key is a hash of this script (which holds the package list and every
configuration file) and of the suite, architecture and mirror. Package
versions are whatever the archive has when the kit is built: they are not
part of the key, so a cached kit stays as it was until the script changes or
--force rebuilds it; `packages.txt` in the kit lists the versions it holds.

With --out DIR the files are hard-linked there (or copied). The images in the
cache are read-only and must not be booted in place: a guest writes to its
disk, so copy them first (cp --sparse=always); the test runner does.

usage: build-debian.py [--out DIR] [--jobs N] [--force] [--print-key]
                       [--keep-root] [--mirror URL]

Needs root (mmdebstrap's root mode), mmdebstrap with arch-test,
qemu-user-static with binfmt-support (binfmt_misc mounted and qemu-riscv64
enabled: done here when root), fdisk (sfdisk), e2fsprogs, dosfstools, mtools
and the archive over the network. Exit status: 0 when the kit is there; 1
when a build step fails; 77 when something it needs is missing (with --out,
the reason is also written to DIR/unavailable).
"""

import argparse
import fcntl
import hashlib
import inspect
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SUITE = "trixie"
ARCH = "riscv64"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
HOSTNAME = "vireo-debian"
ROOT_LABEL = "debian-root"
ESP_LABEL = "EFI"
CMDLINE = f"root=LABEL={ROOT_LABEL} rw console=ttyS0"

# What the system holds besides the minbase variant (Essential: yes and apt).
PACKAGES = [
    "systemd-sysv", "udev", "dbus", "kmod", "procps", "iproute2", "e2fsprogs",
    "linux-image-riscv64", "initramfs-tools", "xz-utils", "gzip", "apt",
    "login", "passwd", "grub-efi-riscv64-bin",
]

IMAGES = ("debian-extlinux.img", "debian-efi.img")
KIT_FILES = IMAGES + ("vmlinux", "initrd.img", "packages.txt", "kernel-release")
MIB = 1 << 20
IMAGE_SIZE = 2048 * MIB
# Partition layout in MiB: (start, size). The last MiB stays free for the
# backup GPT.
EXTLINUX_ROOT = (1, 2046)
EFI_ESP = (1, 127)
EFI_ROOT = (128, 1919)

# Files written into the system after mmdebstrap: path -> (mode, content).
CONFIG_FILES = {
    "etc/hostname": (0o644, f"{HOSTNAME}\n"),
    "etc/hosts": (0o644, f"127.0.0.1\tlocalhost\n127.0.1.1\t{HOSTNAME}\n\n"
                  "::1\tlocalhost ip6-localhost ip6-loopback\n"
                  "ff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"),
    # Root logged in on the serial console without a password: the getty
    # that systemd starts for console=ttyS0, told to log root in.
    "etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf": (0o644, """\
# build-debian.py: root is logged in on the serial console.
[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin root --noreset --noclear --keep-baud 115200,57600,38400,9600 - ${TERM}
"""),
    # DHCP on every wired interface (virtio-net is enp0s1 or eth0 or end0).
    "etc/systemd/network/20-wired.network": (0o644, """\
# build-debian.py: DHCP on every wired interface.
[Match]
Name=en* eth*

[Network]
DHCP=yes
"""),
    # No journal on the console: its messages would cut through what the
    # tests type and read there.
    "etc/systemd/journald.conf.d/10-vireo.conf": (0o644, """\
# build-debian.py
[Journal]
ForwardToConsole=no
"""),
}

# Units enabled by hand (the symlinks `systemctl enable` would make).
ENABLE = {
    "etc/systemd/system/multi-user.target.wants/systemd-networkd.service":
        "/usr/lib/systemd/system/systemd-networkd.service",
    "etc/systemd/system/sockets.target.wants/systemd-networkd.socket":
        "/usr/lib/systemd/system/systemd-networkd.socket",
    "etc/systemd/system/dbus-org.freedesktop.network1.service":
        "/usr/lib/systemd/system/systemd-networkd.service",
}

FSTAB_ROOT = f"LABEL={ROOT_LABEL}\t/\text4\trw,errors=remount-ro\t0\t1\n"
FSTAB_ESP = f"LABEL={ESP_LABEL}\t/boot/efi\tvfat\tumask=0077\t0\t0\n"

# No `menu` lines: U-Boot shows a menu and waits for a choice when there are
# any (with `timeout 0`, for ever); without them it boots the default.
EXTLINUX_CONF = """\
# build-debian.py: read by U-Boot's distro boot (extlinux).
# Debian GNU/Linux 13 (trixie), Linux {release}
default debian

label debian
	linux /boot/vmlinux-{release}
	initrd /boot/initrd.img-{release}
	append {cmdline}
"""

# Built into GRUB's EFI image: find the root file system by its label and
# read its grub.cfg.
GRUB_EMBEDDED = f"""\
search --no-floppy --label {ROOT_LABEL} --set=root
set prefix=($root)/boot/grub
configfile $prefix/grub.cfg
"""
GRUB_CFG = """\
# build-debian.py: read by GRUB (EFI/BOOT/BOOTRISCV64.EFI on the ESP).
set default=0
set timeout=0
menuentry 'Debian GNU/Linux 13 (trixie), Linux {release}' {{
	linux /boot/vmlinux-{release} {cmdline}
	initrd /boot/initrd.img-{release}
}}
"""
GRUB_MODULES = ["part_gpt", "part_msdos", "fat", "ext2", "normal", "linux", "search",
                "search_label", "search_fs_uuid", "configfile", "echo", "test", "ls", "cat",
                "boot", "reboot", "halt", "minicmd"]

# What the tools are called and which package brings them.
TOOLS = (("mmdebstrap", "mmdebstrap"), ("arch-test", "arch-test"), ("sfdisk", "fdisk"),
         ("mkfs.ext4", "e2fsprogs"), ("mkfs.vfat", "dosfstools"), ("mcopy", "mtools"), ("mmd", "mtools"),
         ("update-binfmts", "binfmt-support"), ("chroot", "coreutils"), ("dd", "coreutils"))
BINFMT = "/proc/sys/fs/binfmt_misc"


class Missing(Exception):
    """Something the build needs is not there."""


class BuildError(Exception):
    """A build step failed."""


def log(msg):
    print(f"build-debian: {msg}", flush=True)


def cache_root():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "vireo", "debian-kit")


def run(argv, quiet=False, **kw):
    log("$ " + " ".join(argv))
    try:
        proc = subprocess.run(argv, text=True, stdout=subprocess.PIPE if quiet else None,
                              stderr=subprocess.STDOUT if quiet else None, **kw)
    except OSError as e:
        raise BuildError(f"{argv[0]}: {e}") from e
    if proc.returncode != 0:
        if quiet and proc.stdout:
            sys.stdout.write(proc.stdout[-6000:])
        raise BuildError(f"{argv[0]} failed with status {proc.returncode}")
    return proc


def describe_inputs(mirror):
    """The inputs of the bootstrapped tree, and of the whole kit (those and
    the whole script), as (name, value) pairs."""
    with open(os.path.abspath(__file__), "rb") as f:
        script = hashlib.sha256(f.read()).hexdigest()
    recipe = inspect.getsource(bootstrap)
    tree = [("suite", SUITE), ("arch", ARCH), ("variant", "minbase"), ("mirror", mirror),
            ("packages", ",".join(PACKAGES)),
            ("bootstrap-recipe", hashlib.sha256(recipe.encode()).hexdigest())]
    return tree, tree + [("build-debian.py", script)]


def key_of(pairs):
    h = hashlib.sha256()
    for name, value in pairs:
        h.update(f"{name}={value}\n".encode())
    return h.hexdigest()[:16]


def qemu_riscv64_interpreter():
    for path in ("/usr/libexec/qemu-binfmt/riscv64-binfmt-P", "/usr/bin/qemu-riscv64-static"):
        if os.path.exists(path):
            return path
    return None


def binfmt_state():
    """None when riscv64 programs run through qemu-user, else why not."""
    entry = os.path.join(BINFMT, "qemu-riscv64")
    if not os.path.exists(os.path.join(BINFMT, "status")):
        return f"binfmt_misc is not mounted on {BINFMT}"
    if not os.path.exists(entry):
        return "qemu-riscv64 is not registered with binfmt_misc"
    with open(entry) as f:
        text = f.read()
    if not text.startswith("enabled"):
        return "the qemu-riscv64 binfmt entry is disabled"
    if "flags:" in text and "F" not in text.split("flags:")[1].split("\n")[0]:
        return "the qemu-riscv64 binfmt entry lacks the F flag (qemu-user-static sets it)"
    return None


def check_prerequisites(mirror, archive=True):
    missing = [f"{tool} (package {package})" for tool, package in TOOLS
               if shutil.which(tool) is None]
    if qemu_riscv64_interpreter() is None:
        missing.append("qemu-riscv64 for binfmt_misc (package qemu-user-static)")
    if missing:
        raise Missing("missing: " + ", ".join(missing) + "; run scripts/setup")
    root = os.geteuid() == 0
    why = binfmt_state()
    if why and root:
        if not os.path.exists(os.path.join(BINFMT, "status")):
            run(["mount", "-t", "binfmt_misc", "binfmt_misc", BINFMT])
        if binfmt_state():
            run(["update-binfmts", "--enable", "qemu-riscv64"])
        why = binfmt_state()
    if why:
        raise Missing(f"riscv64 programs cannot run on this host: {why}; as root: "
                      f"mount -t binfmt_misc binfmt_misc {BINFMT} && "
                      "update-binfmts --enable qemu-riscv64")
    if not root:
        raise Missing("building the Debian kit needs root (mmdebstrap's root mode makes the "
                      "device nodes and file owners that mkfs.ext4 -d copies)")
    if not archive:
        return
    url = f"{mirror}/dists/{SUITE}/Release"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=30):
            pass
    except OSError as e:
        raise Missing(f"the Debian archive is not reachable ({url}: {e})") from e


def write_file(root, rel, mode, content):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.lexists(path):
        os.unlink(path)
    with open(path, "w") as f:
        f.write(content)
    os.chmod(path, mode)


def remove_tree(path):
    """rmtree for a work folder, after unmounting whatever a build that was
    killed mid-way left mounted in it (mmdebstrap mounts /proc, /sys and
    /dev/pts in the root it fills): removing through a live mount would
    reach the host's files."""
    if not os.path.isdir(path):
        return
    real = os.path.realpath(path)
    with open("/proc/self/mounts") as f:
        points = [line.split()[1].replace("\\040", " ") for line in f]
    inside = sorted((p for p in points if p == real or p.startswith(real + "/")),
                    key=len, reverse=True)
    for point in inside:
        if subprocess.run(["umount", "-l", point]).returncode != 0:
            raise BuildError(f"{point} is still mounted; unmount it and remove {path}")
    shutil.rmtree(path, ignore_errors=True)


def remove_stale(cache):
    """Work and staging folders of builds that were killed (the lock is held,
    so no build is using them)."""
    for name in os.listdir(cache):
        if name.startswith(("work-", "staging-")):
            log(f"removing {name}, left by a build that did not finish")
            remove_tree(os.path.join(cache, name))


def bootstrap(root, work, mirror):
    """mmdebstrap into `root`: Debian's own configuration throughout,
    the initramfs included (initramfs-tools' default, MODULES=most)."""
    started = time.monotonic()
    run(["mmdebstrap", "--mode=root", f"--arch={ARCH}", "--variant=minbase",
         "--include=" + ",".join(PACKAGES), SUITE, root, mirror])
    log(f"mmdebstrap took {time.monotonic() - started:.0f} s")


def kernel_release(root):
    names = sorted(n[len("vmlinux-"):] for n in os.listdir(os.path.join(root, "boot"))
                   if n.startswith("vmlinux-"))
    if len(names) != 1:
        raise BuildError(f"expected one kernel in /boot, found {names}")
    release = names[0]
    if not os.path.isfile(os.path.join(root, "boot", f"initrd.img-{release}")):
        raise BuildError(f"/boot/initrd.img-{release} is missing")
    return release


def configure(root):
    """Hostname, root without a password and logged in on ttyS0, networkd,
    and the first-boot update steps done now."""
    for rel, (mode, content) in CONFIG_FILES.items():
        write_file(root, rel, mode, content)
    for link, target in ENABLE.items():
        path = os.path.join(root, link)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if os.path.lexists(path):
            os.unlink(path)
        os.symlink(target, path)
    # Root without a password (the shadow field empty; Debian's PAM allows it
    # with nullok).
    shadow = os.path.join(root, "etc/shadow")
    with open(shadow) as f:
        lines = f.read().splitlines()
    for i, line in enumerate(lines):
        fields = line.split(":")
        if fields[0] == "root":
            fields[1] = ""
            lines[i] = ":".join(fields)
    with open(shadow, "w") as f:
        f.write("\n".join(lines) + "\n")
    # The resolver file mmdebstrap copied from the host does not belong in
    # the guest (nothing writes one there: there is no systemd-resolved).
    resolv = os.path.join(root, "etc/resolv.conf")
    if os.path.lexists(resolv):
        os.unlink(resolv)
    # Mark /etc and /var as up to date with /usr, as a finished installation
    # is, so that ConditionNeedsUpdate= units (ldconfig, sysusers, the
    # journal catalog) do not run on each boot of a fresh copy.
    for d in ("etc", "var"):
        write_file(root, os.path.join(d, ".updated"), 0o644,
                   "# This file was created by build-debian.py in place of "
                   "systemd-update-done.\n")
    # An empty machine-id: each boot of a copy gets its own.
    write_file(root, "etc/machine-id", 0o444, "")


def grub_image(root, out):
    """GRUB's EFI image for the removable-media path, made in the guest's
    own tree by trixie's grub-mkimage (through qemu-user)."""
    embedded = os.path.join(root, "tmp/vireo-grub-embedded.cfg")
    with open(embedded, "w") as f:
        f.write(GRUB_EMBEDDED)
    inside = "/tmp/vireo-bootriscv64.efi"
    try:
        run(["chroot", root, "grub-mkimage", "-O", "riscv64-efi", "-o", inside,
             "-c", "/tmp/vireo-grub-embedded.cfg", "-p", "/boot/grub"] + GRUB_MODULES)
        shutil.copyfile(os.path.join(root, inside.lstrip("/")), out)
    finally:
        for p in (embedded, os.path.join(root, inside.lstrip("/"))):
            if os.path.exists(p):
                os.unlink(p)


def sfdisk(image, script):
    run(["sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", image], input=script,
        quiet=True)


def place(part_file, image, start_mib):
    run(["dd", f"if={part_file}", f"of={image}", "bs=1M", f"seek={start_mib}",
         "conv=notrunc,sparse", "status=none"])
    os.unlink(part_file)


def make_ext4(root, part_file, size_mib):
    with open(part_file, "wb") as f:
        f.truncate(size_mib * MIB)
    run(["mkfs.ext4", "-q", "-F", "-L", ROOT_LABEL, "-d", root, part_file])


def make_extlinux_image(root, work, release, out):
    write_file(root, "etc/fstab", 0o644, FSTAB_ROOT)
    write_file(root, "boot/extlinux/extlinux.conf", 0o644,
               EXTLINUX_CONF.format(release=release, cmdline=CMDLINE))
    with open(out, "wb") as f:
        f.truncate(IMAGE_SIZE)
    start, size = EXTLINUX_ROOT
    sfdisk(out, "label: gpt\n"
           f"start={start * 2048}, size={size * 2048}, type=L, name=debian-root, "
           "attrs=LegacyBIOSBootable\n")
    part = os.path.join(work, "root.ext4")
    make_ext4(root, part, size)
    place(part, out, start)
    shutil.rmtree(os.path.join(root, "boot/extlinux"))


def make_efi_image(root, work, release, out):
    write_file(root, "etc/fstab", 0o644, FSTAB_ROOT + FSTAB_ESP)
    write_file(root, "boot/grub/grub.cfg", 0o644,
               GRUB_CFG.format(release=release, cmdline=CMDLINE))
    os.makedirs(os.path.join(root, "boot/efi"), exist_ok=True)
    grub = os.path.join(work, "BOOTRISCV64.EFI")
    grub_image(root, grub)
    with open(out, "wb") as f:
        f.truncate(IMAGE_SIZE)
    # Partition 15 is the ESP at the start of the disk, partition 1 the root
    # after it, as in Debian's cloud images.
    base = os.path.basename(out)
    esp_start, esp_size = EFI_ESP
    root_start, root_size = EFI_ROOT
    sfdisk(out, "label: gpt\n"
           f"{base}1 : start={root_start * 2048}, size={root_size * 2048}, type=L, "
           "name=debian-root\n"
           f"{base}15 : start={esp_start * 2048}, size={esp_size * 2048}, type=U, name=EFI, "
           "attrs=LegacyBIOSBootable\n")
    esp = os.path.join(work, "esp.vfat")
    if os.path.exists(esp):
        os.unlink(esp)
    run(["mkfs.vfat", "-F", "32", "-n", ESP_LABEL, "-C", esp, str(esp_size * 1024)], quiet=True)
    run(["mmd", "-i", esp, "::/EFI", "::/EFI/BOOT"])
    run(["mcopy", "-i", esp, grub, "::/EFI/BOOT/BOOTRISCV64.EFI"])
    place(esp, out, esp_start)
    part = os.path.join(work, "root.ext4")
    make_ext4(root, part, root_size)
    place(part, out, root_start)
    shutil.rmtree(os.path.join(root, "boot/grub"))


def package_list(root):
    proc = run(["chroot", root, "dpkg-query", "-W", "-f=${Package} ${Version} ${Architecture}\\n"],
               quiet=True)
    return proc.stdout


def link_or_copy(src, dst):
    tmp = dst + ".tmp"
    if os.path.lexists(tmp):
        os.unlink(tmp)
    try:
        os.link(src, tmp)
    except OSError:
        subprocess.run(["cp", "--sparse=always", "--reflink=auto", src, tmp], check=True)
    os.replace(tmp, dst)


def stamp_of(path):
    st = os.stat(path)
    return f"{st.st_size} {st.st_mtime_ns}"


def complete(d):
    """The kit in `d` is whole, and no image was written to since it was
    made (an image booted in place would be)."""
    if not all(os.path.isfile(os.path.join(d, n)) for n in KIT_FILES + ("inputs", "stamps")):
        return False
    with open(os.path.join(d, "stamps")) as f:
        stamps = dict(line.rstrip("\n").split(" ", 1) for line in f if " " in line)
    for name in IMAGES:
        if stamps.get(name) != stamp_of(os.path.join(d, name)):
            log(f"{os.path.join(d, name)} was changed since it was built; rebuilding")
            return False
    return True


def tree_tarball(cache, tree_pairs):
    return os.path.join(cache, f"tree-{key_of(tree_pairs)}.tar")


def cached_tree(cache, tree_pairs, root, work, mirror):
    """The bootstrapped system in `root`: unpacked from the cache's
    tree-<key>.tar, or made by mmdebstrap and then saved there. The tree's
    key leaves out the rest of this script, so that a change to the
    configuration or the images takes a minute instead of a bootstrap."""
    tarball = tree_tarball(cache, tree_pairs)
    if os.path.isfile(tarball):
        log(f"bootstrapped tree cached: {tarball}")
        os.makedirs(root)
        run(["tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpf", tarball,
             "-C", root])
        return
    bootstrap(root, work, mirror)
    run(["tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "-cf", tarball + ".tmp",
         "-C", root, "."])
    os.replace(tarball + ".tmp", tarball)


def build(args):
    tree_pairs, pairs = describe_inputs(args.mirror)
    key = key_of(pairs)
    if args.print_key:
        print(key)
        return None
    cache = cache_root()
    kit_dir = os.path.join(cache, key)
    os.makedirs(cache, exist_ok=True)
    with open(os.path.join(cache, ".lock"), "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log("another build of the Debian kit is running; waiting for it")
            fcntl.flock(lock, fcntl.LOCK_EX)
        if args.force and os.path.isdir(kit_dir):
            shutil.rmtree(kit_dir)
        if complete(kit_dir):
            log(f"cached: {kit_dir}")
            return kit_dir
        remove_stale(cache)
        check_prerequisites(args.mirror,
                            archive=not os.path.isfile(tree_tarball(cache, tree_pairs)))
        started = time.monotonic()
        work = tempfile.mkdtemp(prefix="work-", dir=cache)
        staging = tempfile.mkdtemp(prefix="staging-", dir=cache)
        root = os.path.join(work, "root")
        try:
            cached_tree(cache, tree_pairs, root, work, args.mirror)
            release = kernel_release(root)
            log(f"kernel {release}")
            configure(root)
            packages = package_list(root)
            for name, text in (("packages.txt", packages), ("kernel-release", release + "\n")):
                with open(os.path.join(staging, name), "w") as f:
                    f.write(text)
            shutil.copyfile(os.path.join(root, f"boot/vmlinux-{release}"),
                            os.path.join(staging, "vmlinux"))
            shutil.copyfile(os.path.join(root, f"boot/initrd.img-{release}"),
                            os.path.join(staging, "initrd.img"))
            make_extlinux_image(root, work, release, os.path.join(staging, IMAGES[0]))
            make_efi_image(root, work, release, os.path.join(staging, IMAGES[1]))
            with open(os.path.join(staging, "inputs"), "w") as f:
                for name, value in pairs:
                    f.write(f"{name}={value}\n")
                f.write(f"kernel={release}\ncmdline={CMDLINE}\n")
                f.write(f"built={time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n")
            for name in IMAGES:
                os.chmod(os.path.join(staging, name), 0o444)
            with open(os.path.join(staging, "stamps"), "w") as f:
                for name in IMAGES:
                    f.write(f"{name} {stamp_of(os.path.join(staging, name))}\n")
            if os.path.isdir(kit_dir):
                shutil.rmtree(kit_dir)
            os.replace(staging, kit_dir)
            log(f"kit built in {time.monotonic() - started:.0f} s")
        finally:
            if args.keep_root and os.path.isdir(root):
                log(f"root tree kept: {root}")
            else:
                remove_tree(work)
            remove_tree(staging)
    return kit_dir


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", help="also place the kit's files in this folder (hard links)")
    ap.add_argument("--jobs", "-j", type=int, default=2,
                    help="accepted like build-kit.py's; the steps here are downloads, "
                         "package installs and file system writes that run one at a time")
    ap.add_argument("--force", action="store_true", help="rebuild even when cached")
    ap.add_argument("--print-key", action="store_true", help="print the cache key and exit")
    ap.add_argument("--keep-root", action="store_true",
                    help="keep the system's tree (in the cache folder) to look at")
    ap.add_argument("--mirror", default=DEFAULT_MIRROR, help=f"Debian mirror ({DEFAULT_MIRROR})")
    args = ap.parse_args()

    try:
        kit_dir = build(args)
        if kit_dir is None:
            return 0
        place_dir = kit_dir
        if args.out:
            os.makedirs(args.out, exist_ok=True)
            note = os.path.join(args.out, "unavailable")
            if os.path.exists(note):
                os.unlink(note)
            for name in KIT_FILES + ("inputs",):
                link_or_copy(os.path.join(kit_dir, name), os.path.join(args.out, name))
            place_dir = args.out
        for name in KIT_FILES[:4]:
            print(f"{name}: {os.path.join(place_dir, name)}")
        if args.out:
            print(f"cache: {kit_dir}")
    except Missing as e:
        log(str(e))
        if args.out:
            os.makedirs(args.out, exist_ok=True)
            for name in KIT_FILES:
                if os.path.lexists(os.path.join(args.out, name)):
                    os.unlink(os.path.join(args.out, name))
            with open(os.path.join(args.out, "unavailable"), "w") as f:
                f.write(str(e) + "\n")
        return 77
    except BuildError as e:
        log(f"error: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

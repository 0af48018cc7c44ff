/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "devices/board.h"
#include "vireo-vm-library.h"

G_BEGIN_DECLS

/*
 * Importing a disk image: a VM that boots the operating system installed on
 * a raw disk image, through the board's own firmware and boot loader (on
 * riscv64, OpenSBI fw_jump and U-Boot, whose distro boot finds extlinux.conf
 * or an EFI loader on the disk). The image stays where it is: the VM refers
 * to it as its first disk and writes to it.
 */

#define VIREO_IMPORT_CPUS   2
#define VIREO_IMPORT_MEMORY (1ull << 30)

/* Whether `path` is an image the VM can use: a readable and writable
 * regular file, not empty, and not in a format Vireo does not read yet
 * (qcow2, VMDK, VHDX, VDI) or compressed; the error says what to do. */
gboolean vireo_import_check_image(const char *path, GError **error);

/* The VM for `image` on `board` (vireo_board_find() of the architecture):
 * named after the file, 2 vCPUs, 1 GiB, the board's firmware and boot
 * loader (missing ones name their Debian packages), the image as the first
 * disk, read-write, user-mode networking, no display. */
VireoVmConfig *vireo_import_config_new(const char *image, const VireoBoardOps *board,
                                       GError **error);

/* Adds the VM for `image` on riscv64's board to `library`. */
VireoVmEntry *vireo_import_create(VireoVmLibrary *library, const char *image, GError **error);

G_END_DECLS

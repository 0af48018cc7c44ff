/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "devices/board.h"
#include "vireo-vm-library.h"

G_BEGIN_DECLS

/* The console demo's firmware (package opensbi) and boot loader (package
 * u-boot-qemu): those the virt board boots a disk with. */
#define VIREO_DEMO_FIRMWARE VIREO_BOARD_VIRT_FIRMWARE
#define VIREO_DEMO_KERNEL   VIREO_BOARD_VIRT_LOADER

/* The demo program (data/demo, docs/DEMO.md): a bare-metal RISC-V 64
 * program that draws an animated scene on a virtio-gpu display. Vireo
 * installs it as VIREO_DATADIR/demo/vireo-demo.elf. */
#define VIREO_DEMO_PROGRAM "vireo-demo.elf"
/* Names the folder holding the demo program instead of the installed one
 * (scripts/run points it at the build tree); empty: no demo program. */
#define VIREO_DEMO_DIR_ENV "VIREO_DEMO_DIR"
/* The graphical demo's empty qcow2 disk, in its folder, for its snapshots. */
#define VIREO_DEMO_DISK      "disk.qcow2"
#define VIREO_DEMO_DISK_SIZE (64ull << 20)

/* The demo program's path, or NULL with the reason (translated) when this
 * build or installation has none. */
char *vireo_demo_find_program(char **reason);

/* The demo VM: RISC-V 64, 2 vCPUs, 256 MiB. With the demo program, it boots
 * that program (in M-mode, no firmware) with a virtio-gpu display; without
 * it, OpenSBI starting U-Boot with the serial console only, and a message
 * on the log says why. The files are looked up when it starts; when they
 * are missing, the entry's error says which (and the package to install). */
VireoVmConfig *vireo_demo_config_new(void);
/* The firmware demo: OpenSBI starting U-Boot with the serial console only,
 * whatever else is installed. */
VireoVmConfig *vireo_demo_config_new_console(void);
VireoVmEntry *vireo_demo_create(VireoVmLibrary *library, GError **error);
VireoVmEntry *vireo_demo_create_firmware(VireoVmLibrary *library, GError **error);
/* What a new library starts with: the demo VM and, when that is the
 * graphical demo, the firmware demo beside it. Returns the demo VM. */
VireoVmEntry *vireo_demo_populate(VireoVmLibrary *library, GError **error);

G_END_DECLS

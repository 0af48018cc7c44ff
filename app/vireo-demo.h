/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "vireo-vm-library.h"

G_BEGIN_DECLS

/* Where Debian's packages install the demo VM's firmware (package opensbi)
 * and boot loader (package u-boot-qemu). */
#define VIREO_DEMO_FIRMWARE "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin"
#define VIREO_DEMO_KERNEL   "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin"

/* The demo VM: RISC-V 64, 2 vCPUs, 256 MiB, OpenSBI starting U-Boot. The
 * files are looked up when it starts; when they are missing, the entry's
 * error names the package to install. */
VireoVmConfig *vireo_demo_config_new(void);
VireoVmEntry *vireo_demo_create(VireoVmLibrary *library, GError **error);

G_END_DECLS

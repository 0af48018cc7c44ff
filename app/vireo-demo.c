/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "vireo-demo"

#include "config.h"

#include <glib/gi18n.h>

#include "vireo-demo.h"

VireoVmConfig *vireo_demo_config_new(void)
{
    VireoVmConfig *config = vireo_vm_config_new();

    vireo_vm_config_set_name(config, _("RISC-V Demo"));
    vireo_vm_config_set_arch(config, VIREO_ARCH_RISCV64);
    vireo_vm_config_set_accel(config, VIREO_ACCEL_SOFT);
    vireo_vm_config_set_cpus(config, 2);
    vireo_vm_config_set_memory(config, 256ull << 20);
    vireo_vm_config_set_firmware(config, VIREO_DEMO_FIRMWARE);
    vireo_vm_config_set_kernel(config, VIREO_DEMO_KERNEL);
    return config;
}

VireoVmEntry *vireo_demo_create(VireoVmLibrary *library, GError **error)
{
    g_autoptr(VireoVmConfig) config = NULL;

    g_return_val_if_fail(VIREO_IS_VM_LIBRARY(library), NULL);

    config = vireo_demo_config_new();
    return vireo_vm_library_create(library, config, error);
}

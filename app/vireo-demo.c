/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "vireo-demo"

#include "config.h"

#include <glib/gi18n.h>

#include "vireo-demo.h"

#include "devices/block.h"

/* Set by app/meson.build: whether this build compiled the demo program
 * (it needs riscv64-unknown-elf-gcc). */
#ifndef VIREO_DEMO_PROGRAM_BUILT
#define VIREO_DEMO_PROGRAM_BUILT 0
#endif

char *vireo_demo_find_program(char **reason)
{
    const char *dir = g_getenv(VIREO_DEMO_DIR_ENV);
    g_autofree char *path = NULL;

    if (dir != NULL && dir[0] == '\0') {
        if (reason != NULL) {
            *reason = g_strdup_printf(_("the demo program is turned off (%s is empty)"),
                                      VIREO_DEMO_DIR_ENV);
        }
        return NULL;
    }
    /* Absolute, as the configuration wants its paths, also when the
     * variable names a relative folder. */
    path = g_build_filename(dir != NULL ? dir : VIREO_DATADIR "/demo", VIREO_DEMO_PROGRAM, NULL);
    if (!g_path_is_absolute(path)) {
        char *absolute = g_canonicalize_filename(path, NULL);
        g_free(path);
        path = absolute;
    }
    if (g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
        return g_steal_pointer(&path);
    }
    if (reason != NULL && !VIREO_DEMO_PROGRAM_BUILT) {
        *reason = g_strdup(_("this build of Vireo has no demo program: "
                             "riscv64-unknown-elf-gcc was missing when it was built "
                             "(scripts/setup installs gcc-riscv64-unknown-elf)"));
    } else if (reason != NULL) {
        *reason = g_strdup_printf(_("the demo program %s is missing"), path);
    }
    return NULL;
}

static VireoVmConfig *demo_base(const char *name)
{
    VireoVmConfig *config = vireo_vm_config_new();

    vireo_vm_config_set_name(config, name);
    vireo_vm_config_set_arch(config, VIREO_ARCH_RISCV64);
    vireo_vm_config_set_accel(config, VIREO_ACCEL_SOFT);
    vireo_vm_config_set_cpus(config, 2);
    vireo_vm_config_set_memory(config, 256ull << 20);
    return config;
}

VireoVmConfig *vireo_demo_config_new_console(void)
{
    VireoVmConfig *config = demo_base(_("RISC-V Firmware Demo"));

    vireo_vm_config_set_firmware(config, VIREO_DEMO_FIRMWARE);
    vireo_vm_config_set_kernel(config, VIREO_DEMO_KERNEL);
    return config;
}

VireoVmConfig *vireo_demo_config_new(void)
{
    static gboolean told;
    g_autofree char *reason = NULL;
    g_autofree char *program = vireo_demo_find_program(&reason);
    VireoVmConfig *config;

    if (program == NULL) {
        /* Said once per process: the tests make many demo VMs. */
        if (!told) {
            g_message(_("The demo VM boots OpenSBI and U-Boot instead of the graphical demo: %s"),
                      reason);
            told = TRUE;
        }
        return vireo_demo_config_new_console();
    }
    /* The program runs alone in M-mode: no firmware, the board starts it
     * at its ELF entry with the device tree in a1. */
    config = demo_base(_("RISC-V Demo"));
    vireo_vm_config_set_kernel(config, program);
    vireo_vm_config_set_display(config, VIREO_DISPLAY_VIRTIO_GPU);
    return config;
}

/* The graphical demo gets an empty qcow2 disk in its folder, which the demo
 * program does not use but which keeps its snapshots (docs/SNAPSHOTS.md), so
 * that the camera button works on the first start. */
static gboolean add_snapshot_disk(VireoVmLibrary *library, VireoVmEntry *entry, GError **error)
{
    VireoVmConfig *current = vireo_vm_entry_get_config(entry);
    g_autoptr(VireoVmConfig) config = NULL;
    g_autofree char *path = NULL;

    if (current == NULL || vireo_vm_config_get_display(current) == VIREO_DISPLAY_NONE) {
        return TRUE;
    }
    path = g_build_filename(vireo_vm_entry_get_dir(entry), VIREO_DEMO_DISK, NULL);
    if (!vireo_qcow2_create(path, VIREO_DEMO_DISK_SIZE, NULL, error)) {
        return FALSE;
    }
    config = vireo_vm_config_copy(current);
    vireo_vm_config_add_disk(config, path, FALSE);
    vireo_vm_config_set_disk_format(config, vireo_vm_config_get_n_disks(config) - 1,
                                    VIREO_BLOCK_FORMAT_QCOW2);
    return vireo_vm_library_save(library, entry, config, error);
}

VireoVmEntry *vireo_demo_create(VireoVmLibrary *library, GError **error)
{
    g_autoptr(VireoVmConfig) config = NULL;
    VireoVmEntry *entry;

    g_return_val_if_fail(VIREO_IS_VM_LIBRARY(library), NULL);

    config = vireo_demo_config_new();
    entry = vireo_vm_library_create(library, config, error);
    if (entry != NULL) {
        g_autoptr(GError) disk_error = NULL;
        /* The demo runs without it; the camera then says why it cannot. */
        if (!add_snapshot_disk(library, entry, &disk_error)) {
            g_message(_("The demo VM has no disk for its snapshots: %s"), disk_error->message);
        }
    }
    return entry;
}

VireoVmEntry *vireo_demo_create_firmware(VireoVmLibrary *library, GError **error)
{
    g_autoptr(VireoVmConfig) config = NULL;

    g_return_val_if_fail(VIREO_IS_VM_LIBRARY(library), NULL);

    config = vireo_demo_config_new_console();
    return vireo_vm_library_create(library, config, error);
}

VireoVmEntry *vireo_demo_populate(VireoVmLibrary *library, GError **error)
{
    VireoVmEntry *demo;
    VireoVmConfig *config;

    g_return_val_if_fail(VIREO_IS_VM_LIBRARY(library), NULL);

    demo = vireo_demo_create(library, error);
    if (demo == NULL) {
        return NULL;
    }
    /* The graphical demo shows the display; the firmware demo beside it
     * shows the serial console, OpenSBI and U-Boot. Without the demo
     * program the first VM is already the firmware demo. */
    config = vireo_vm_entry_get_config(demo);
    if (config != NULL && vireo_vm_config_get_display(config) != VIREO_DISPLAY_NONE &&
        vireo_demo_create_firmware(library, error) == NULL) {
        return NULL;
    }
    return demo;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The VM configuration file (vm.conf) as a user, an import or a copied
 * folder may hand it to Vireo. A file that loads must also survive a save
 * and a reload unchanged.
 */
#include "config.h"

#include "vireo-vm-config.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *base_dir = "/vireo-fuzz/vm";
    g_autoptr(GError) error = NULL;
    g_autoptr(VireoVmConfig) config = NULL;
    g_autoptr(VireoVmConfig) again = NULL;
    g_autofree char *saved = NULL;
    gsize saved_len = 0;

    if (size > 64 * 1024) {
        return 0;
    }
    config = vireo_vm_config_load_from_data((const char *)data, size, base_dir, &error);
    if (config == NULL) {
        /* A refusal always says why. */
        if (error == NULL || error->message == NULL) {
            abort();
        }
        return 0;
    }
    if (!vireo_vm_config_validate(config, NULL)) {
        abort();
    }
    saved = vireo_vm_config_to_data(config, base_dir, &saved_len);
    again = vireo_vm_config_load_from_data(saved, saved_len, base_dir, &error);
    if (again == NULL) {
        g_printerr("a loaded configuration did not reload: %s\n%s", error->message, saved);
        abort();
    }
    if (!vireo_vm_config_equal(config, again)) {
        g_printerr("a configuration changed through a save and a reload:\n%s", saved);
        abort();
    }
    return 0;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "vireo-vm-entry.h"

G_BEGIN_DECLS

/*
 * The user's virtual machines: one folder per VM under a base folder
 * ($XDG_DATA_HOME/vireo/vms by default), each holding vm.conf and the disk
 * images the VM owns. A GListModel of VireoVmEntry, sorted by name.
 */

#define VIREO_TYPE_VM_LIBRARY (vireo_vm_library_get_type())

G_DECLARE_FINAL_TYPE(VireoVmLibrary, vireo_vm_library, VIREO, VM_LIBRARY, GObject)

/* `base_dir` NULL: $XDG_DATA_HOME/vireo/vms. Call load() to read it. */
VireoVmLibrary *vireo_vm_library_new(const char *base_dir);
const char *vireo_vm_library_get_base_dir(VireoVmLibrary *self);

/* Reads every VM folder again. A VM whose vm.conf does not load is listed
 * as an entry in its error state. Fails only when the base folder cannot be
 * created or read. */
gboolean vireo_vm_library_load(VireoVmLibrary *self, GError **error);

VireoVmEntry *vireo_vm_library_lookup(VireoVmLibrary *self, const char *id);

/* A new VM folder with `config`; returns the entry (owned by the library). */
VireoVmEntry *vireo_vm_library_create(VireoVmLibrary *self, VireoVmConfig *config, GError **error);
gboolean vireo_vm_library_rename(VireoVmLibrary *self, VireoVmEntry *entry, const char *name,
                                 GError **error);
/* A copy under a new identifier: the configuration and the images inside
 * the VM's folder; images outside it are shared, not copied. */
VireoVmEntry *vireo_vm_library_clone(VireoVmLibrary *self, VireoVmEntry *entry, const char *name,
                                     GError **error);
/* Removes the VM's own folder and nothing outside it: disk images stored
 * elsewhere are left alone. */
gboolean vireo_vm_library_delete(VireoVmLibrary *self, VireoVmEntry *entry, GError **error);
/* Saves a new configuration of `entry` and keeps the list sorted. */
gboolean vireo_vm_library_save(VireoVmLibrary *self, VireoVmEntry *entry, VireoVmConfig *config,
                               GError **error);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "vireo-vm-config.h"
#include "vireo-vm-controller.h"

G_BEGIN_DECLS

/*
 * One VM of the library: its identifier and folder, its configuration when
 * that loads, or the reason it does not ("error"), and its controller,
 * created when first asked for.
 */

#define VIREO_TYPE_VM_ENTRY (vireo_vm_entry_get_type())

G_DECLARE_FINAL_TYPE(VireoVmEntry, vireo_vm_entry, VIREO, VM_ENTRY, GObject)

VireoVmEntry *vireo_vm_entry_new(const char *id, const char *dir);

const char *vireo_vm_entry_get_id(VireoVmEntry *self);
/* The VM's own folder; everything in it belongs to the VM. */
const char *vireo_vm_entry_get_dir(VireoVmEntry *self);
char *vireo_vm_entry_dup_config_path(VireoVmEntry *self);
/* The display name: the configured name, or the identifier when the
 * configuration does not load. */
const char *vireo_vm_entry_get_name(VireoVmEntry *self);
/* NULL when the configuration does not load. */
VireoVmConfig *vireo_vm_entry_get_config(VireoVmEntry *self);
/* Why the VM cannot run as configured (its file does not load, or a file
 * it names is missing), or NULL. */
const char *vireo_vm_entry_get_error(VireoVmEntry *self);

/* Reads vm.conf again; returns FALSE with the entry in its error state when
 * it does not load. */
gboolean vireo_vm_entry_reload(VireoVmEntry *self);
/* Replaces the configuration and writes it (atomically). */
gboolean vireo_vm_entry_save(VireoVmEntry *self, VireoVmConfig *config, GError **error);
/* Checks again the files the configuration names. */
void vireo_vm_entry_check_files(VireoVmEntry *self);

VireoVmController *vireo_vm_entry_get_controller(VireoVmEntry *self);
/* The controller if one was created, without creating one. */
VireoVmController *vireo_vm_entry_peek_controller(VireoVmEntry *self);
VireoVmState vireo_vm_entry_get_state(VireoVmEntry *self);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "vireo-vm-library.h"

G_BEGIN_DECLS

/*
 * The dialog that creates a VM or edits one: every field of its
 * configuration, checked as it is typed (an invalid field shows why next to
 * it, and Save stays disabled until every field is valid).
 */

#define VIREO_TYPE_VM_EDITOR (vireo_vm_editor_get_type())

G_DECLARE_FINAL_TYPE(VireoVmEditor, vireo_vm_editor, VIREO, VM_EDITOR, AdwWindow)

/* `entry` NULL: a new VM. */
GtkWidget *vireo_vm_editor_new(GtkWindow *parent, VireoVmLibrary *library, VireoVmEntry *entry);
/* A field's input widget by name: "name", "architecture", "accelerator",
 * "memory", "cpus", "firmware", "kernel", "initrd", "cmdline", "forwards",
 * "network", "display", "gdb-switch", "gdb" (the debugger's port),
 * "save". */
GtkWidget *vireo_vm_editor_get_field(VireoVmEditor *self, const char *name);
/* The error shown next to a field, or NULL when it is valid. */
const char *vireo_vm_editor_get_field_error(VireoVmEditor *self, const char *name);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "vireo-vm-entry.h"

G_BEGIN_DECLS

/* A VM in the main window's list: name, architecture, memory, vCPUs and a
 * state badge (stopped, running, paused, error). */

#define VIREO_TYPE_VM_ROW (vireo_vm_row_get_type())

G_DECLARE_FINAL_TYPE(VireoVmRow, vireo_vm_row, VIREO, VM_ROW, GtkListBoxRow)

GtkWidget *vireo_vm_row_new(VireoVmEntry *entry);
VireoVmEntry *vireo_vm_row_get_entry(VireoVmRow *self);
/* The badge's text, as shown. */
const char *vireo_vm_row_get_badge(VireoVmRow *self);

G_END_DECLS

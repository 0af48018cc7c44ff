/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "vireo-application.h"
#include "vireo-vm-entry.h"

G_BEGIN_DECLS

#define VIREO_TYPE_WINDOW (vireo_window_get_type())

G_DECLARE_FINAL_TYPE(VireoWindow, vireo_window, VIREO, WINDOW, AdwApplicationWindow)

VireoWindow *vireo_window_new(VireoApplication *app);

/* Shows `text` as it is, not as markup, in a toast. */
void vireo_window_show_toast(VireoWindow *self, const char *text);
/* Selects `entry` in the list and shows its pane. */
void vireo_window_select_entry(VireoWindow *self, VireoVmEntry *entry);
/* The entry shown, or NULL. */
VireoVmEntry *vireo_window_get_selected_entry(VireoWindow *self);
/* The pane of the entry shown (a VireoVmView), or NULL. */
GtkWidget *vireo_window_get_selected_view(VireoWindow *self);
GtkListBox *vireo_window_get_list(VireoWindow *self);
/* Opens the editor for a new VM and returns it. */
GtkWidget *vireo_window_new_vm(VireoWindow *self);
/* Opens the file chooser of New VM → Import a Disk Image and returns it;
 * accepting a file imports it as vireo_window_import_disk_file() does. */
GtkFileChooser *vireo_window_import_disk(VireoWindow *self);
/* Creates a VM that boots the disk image `file` (vireo_import_create()),
 * selects it and shows its console; or shows why it cannot, in a dialog,
 * and returns NULL. */
VireoVmEntry *vireo_window_import_disk_file(VireoWindow *self, GFile *file);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "vireo-console-view.h"
#include "vireo-display-page.h"
#include "vireo-snapshots-view.h"
#include "vireo-stats-view.h"
#include "vireo-vm-library.h"

G_BEGIN_DECLS

/*
 * One VM in the main window's content pane: its toolbar (start,
 * pause/resume, reset, force off, take a snapshot) and the Console, Display,
 * Statistics and Snapshots views, with a progress bar while a snapshot is
 * taken or restored; or, when its configuration does not load, the reason
 * and a way to retry or delete it.
 */

#define VIREO_TYPE_VM_VIEW (vireo_vm_view_get_type())

G_DECLARE_FINAL_TYPE(VireoVmView, vireo_vm_view, VIREO, VM_VIEW, GtkWidget)

GtkWidget *vireo_vm_view_new(VireoVmLibrary *library, VireoVmEntry *entry);
VireoVmEntry *vireo_vm_view_get_entry(VireoVmView *self);
VireoConsoleView *vireo_vm_view_get_console(VireoVmView *self);
VireoStatsView *vireo_vm_view_get_stats(VireoVmView *self);
VireoDisplayPage *vireo_vm_view_get_display_page(VireoVmView *self);
VireoSnapshotsView *vireo_vm_view_get_snapshots(VireoVmView *self);
/* "console", "display", "statistics" or "snapshots" (also the action
 * vm.show-page). */
void vireo_vm_view_set_page(VireoVmView *self, const char *name);
const char *vireo_vm_view_get_page(VireoVmView *self);
/* The message shown in the error bar, or NULL when it is hidden. */
const char *vireo_vm_view_get_error(VireoVmView *self);

G_END_DECLS

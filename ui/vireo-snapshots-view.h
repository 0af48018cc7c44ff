/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "vireo-console-view.h"
#include "vireo-vm-controller.h"

G_BEGIN_DECLS

/*
 * The Snapshots view of a VM's pane: the snapshots kept in its disk images,
 * each with the screen it had, when it was taken, the guest's clock then and
 * the size of the saved state, with Restore and Delete (both confirmed);
 * Take Snapshot… with a name of one's own. Listed when first shown and
 * after the configuration changed; the controller lists them again after
 * each operation.
 *
 * - Pages: "loading" (not listed yet), "list", "empty" (how to take one) and
 *   "unavailable" (why the VM has none: no writable disk, a raw image, ...).
 * - Actions: "snapshots.take-named" (asks for a name, the date and time
 *   offered), "snapshots.restore" and "snapshots.delete" (a listed
 *   snapshot's id).
 * - A thumbnail is the guest's screen while its display is on, else the
 *   console's last lines.
 */

#define VIREO_TYPE_SNAPSHOTS_VIEW (vireo_snapshots_view_get_type())

G_DECLARE_FINAL_TYPE(VireoSnapshotsView, vireo_snapshots_view, VIREO, SNAPSHOTS_VIEW, GtkWidget)

GtkWidget *vireo_snapshots_view_new(void);
void vireo_snapshots_view_set_controller(VireoSnapshotsView *self, VireoVmController *controller);
/* Where the console's thumbnail comes from. */
void vireo_snapshots_view_set_console(VireoSnapshotsView *self, VireoConsoleView *console);
/* Takes a snapshot now, named by the date and time, with a thumbnail. */
void vireo_snapshots_view_take(VireoSnapshotsView *self);
/* A new snapshot's name: the local date and time ("2026-12-06 10:42:13"),
 * followed by " (2)", " (3)", ... when the VM has a snapshot of that name. */
char *vireo_snapshots_view_dup_default_name(VireoSnapshotsView *self);
/* The thumbnail a snapshot taken now gets (a PNG), or NULL. */
GBytes *vireo_snapshots_view_make_thumbnail(VireoSnapshotsView *self);

/* "loading", "list", "empty" or "unavailable". */
const char *vireo_snapshots_view_get_page(VireoSnapshotsView *self);
/* The row of the snapshot `name`, or NULL. */
GtkWidget *vireo_snapshots_view_find_row(VireoSnapshotsView *self, const char *name);

G_END_DECLS

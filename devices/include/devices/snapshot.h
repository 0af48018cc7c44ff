/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "devices/block.h"
#include "devices/board.h"

#include <glib.h>
#include <stdbool.h>

G_BEGIN_DECLS

/*
 * Snapshots of a whole machine (docs/SNAPSHOTS.md), kept where QEMU keeps
 * them: every writable disk, which must be a qcow2 image, gets an internal
 * snapshot of the same name, and the first one also holds the machine's
 * state (engine/snap.h) as that snapshot's vm-state. `qemu-img snapshot -l`
 * lists them; the VM's folder stays its disk images and its configuration.
 *
 * These run on any thread but one at a time per board, never on a vCPU
 * thread. Saving and loading pause a running machine and leave it as it
 * was (running or paused).
 */

/* How far a long save or load is, from 0 to 1; any thread. */
typedef void (*VireoSnapshotProgressFunc)(double fraction, void *user_data);

/* Whether the machine's snapshots can be taken: false with the reason (no
 * writable disk, a disk that is not qcow2, a device whose state cannot be
 * saved such as a 3D display). */
bool vireo_snapshot_supported(VireoBoard *board, GError **error);

/* Takes the snapshot `name` (1 to 127 bytes of UTF-8; an existing snapshot
 * of that name is replaced, as QEMU's savevm does). `thumbnail`, a PNG of
 * the display or of the console, is optional and kept with it. */
bool vireo_snapshot_save(VireoBoard *board, const char *name, GBytes *thumbnail,
                         VireoSnapshotProgressFunc progress, void *user_data, GError **error);
/* Brings the machine and every disk back to the snapshot `name` (its id or
 * its name). The machine's state is read and checked first: a snapshot that
 * is corrupt or from a machine of another shape fails with a message and
 * changes nothing. */
bool vireo_snapshot_load(VireoBoard *board, const char *name, VireoSnapshotProgressFunc progress,
                         void *user_data, GError **error);
bool vireo_snapshot_delete(VireoBoard *board, const char *name, GError **error);
/* The snapshots with machine state, in the first writable disk's order
 * (an array of VireoBlockSnapshot). */
GPtrArray *vireo_snapshot_list(VireoBoard *board, GError **error);
/* The snapshot's thumbnail (PNG), or NULL: with `error` set when it cannot
 * be read, without when the snapshot has none. */
GBytes *vireo_snapshot_thumbnail(VireoBoard *board, const char *name, GError **error);

/* The same two for a machine that is not running, from its first writable
 * disk's image file (opened read-only). */
GPtrArray *vireo_snapshot_list_file(const char *disk_path, GError **error);
GBytes *vireo_snapshot_thumbnail_file(const char *disk_path, const char *name, GError **error);

G_END_DECLS

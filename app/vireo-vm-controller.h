/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "engine/input.h"
#include "engine/scanout.h"
#include "engine/stats.h"
#include "vireo-json.h"
#include "vireo-vm-config.h"

G_BEGIN_DECLS

/*
 * Runs one virtual machine. Built with a configuration; each start builds a
 * new machine from it on a worker thread. Every signal and property change
 * happens on the main context the controller was created in; operations that
 * wait for the vCPUs (start, pause, power off) run on worker threads, and
 * "busy" is TRUE while one is under way.
 */

typedef enum {
    VIREO_VM_STATE_STOPPED,
    VIREO_VM_STATE_RUNNING,
    VIREO_VM_STATE_PAUSED,
} VireoVmState;

#define VIREO_TYPE_VM_STATE (vireo_vm_state_get_type())
GType vireo_vm_state_get_type(void);

/* What the controller is doing with snapshots. */
typedef enum {
    VIREO_SNAPSHOT_OP_NONE,
    VIREO_SNAPSHOT_OP_TAKE,
    VIREO_SNAPSHOT_OP_RESTORE,
    VIREO_SNAPSHOT_OP_DELETE,
    VIREO_SNAPSHOT_OP_LIST,
    VIREO_SNAPSHOT_OP_CONVERT, /* raw disks to qcow2 */
} VireoSnapshotOp;

#define VIREO_TYPE_SNAPSHOT_OP (vireo_snapshot_op_get_type())
GType vireo_snapshot_op_get_type(void);

/*
 * One snapshot of a VM (devices/snapshot.h): an internal snapshot of its
 * qcow2 disk images with the machine's state. Immutable.
 */
#define VIREO_VM_SNAPSHOT_MAX_NAME 127 /* bytes */

#define VIREO_TYPE_VM_SNAPSHOT (vireo_vm_snapshot_get_type())

G_DECLARE_FINAL_TYPE(VireoVmSnapshot, vireo_vm_snapshot, VIREO, VM_SNAPSHOT, GObject)

/* The snapshot's name, as the disk image keeps it (text from a file). */
const char *vireo_vm_snapshot_get_name(VireoVmSnapshot *self);
const char *vireo_vm_snapshot_get_id(VireoVmSnapshot *self);
/* When it was taken, in UTC. */
GDateTime *vireo_vm_snapshot_get_date(VireoVmSnapshot *self);
/* The guest's clock then: how long the machine had run. */
guint64 vireo_vm_snapshot_get_vm_clock_ns(VireoVmSnapshot *self);
/* Bytes of machine state it holds. */
guint64 vireo_vm_snapshot_get_state_size(VireoVmSnapshot *self);
/* A PNG of the screen (or the console) then, or NULL. */
GBytes *vireo_vm_snapshot_get_thumbnail(VireoVmSnapshot *self);

#define VIREO_TYPE_VM_CONTROLLER (vireo_vm_controller_get_type())

G_DECLARE_FINAL_TYPE(VireoVmController, vireo_vm_controller, VIREO, VM_CONTROLLER, GObject)

VireoVmController *vireo_vm_controller_new(VireoVmConfig *config);

VireoVmConfig *vireo_vm_controller_get_config(VireoVmController *self);
/* Takes effect at the next start. */
void vireo_vm_controller_set_config(VireoVmController *self, VireoVmConfig *config);

VireoVmState vireo_vm_controller_get_state(VireoVmController *self);
gboolean vireo_vm_controller_get_busy(VireoVmController *self);
/* The message of the last error, or NULL; cleared by the next start. */
const char *vireo_vm_controller_get_last_error(VireoVmController *self);

void vireo_vm_controller_start(VireoVmController *self);
void vireo_vm_controller_pause(VireoVmController *self);
void vireo_vm_controller_resume(VireoVmController *self);
void vireo_vm_controller_reset(VireoVmController *self);
/* Force off: stops the vCPUs without asking the guest. */
void vireo_vm_controller_power_off(VireoVmController *self);

/* Console: output arrives through the "console-output" signal; what came
 * before (up to a limit) is kept for views attached later. */
GBytes *vireo_vm_controller_get_console_history(VireoVmController *self);
void vireo_vm_controller_send_input(VireoVmController *self, const guint8 *data, gsize len);

/* The display: the scanout of the current machine's display device, NULL
 * without one (a configuration without a display, no machine built yet).
 * It changes with the "scanout" property, which is notified before a
 * machine is freed: a view showing it lets go then. */
VireoScanout *vireo_vm_controller_get_scanout(VireoVmController *self);
/* Whether the guest has turned its display on (set a mode on the output):
 * the "display-active" property. FALSE while the guest has not, without a
 * display, and while the machine is stopped. */
gboolean vireo_vm_controller_get_display_active(VireoVmController *self);
/* Whether the configuration has a display device (the "[display]" group):
 * the machine then also gets a keyboard and a tablet. */
gboolean vireo_vm_controller_has_display(VireoVmController *self);
/* Keys and the pointer for the machine's keyboard and tablet, called on the
 * main thread with the controller as `opaque`. They reach the guest while
 * the machine runs or is paused and has the devices, and go nowhere
 * otherwise. */
const VireoInputOps *vireo_vm_controller_get_input_ops(void);

/* Counters of the current (or last) machine: vCPU `index`, or the sum with
 * -1. Returns FALSE (and zeros) when no machine was built yet. */
guint vireo_vm_controller_get_n_vcpus(VireoVmController *self);
gboolean vireo_vm_controller_get_stats(VireoVmController *self, int index, VireoVcpuStats *stats);

/* Live migration of a VM with a QMP monitor ([debug] qmp), started by a
 * client of the monitor (docs/MIGRATION.md): query-migrate's reply, or NULL
 * when none was started on the running machine; free it with
 * vireo_json_free. Main thread. */
VireoJson *vireo_vm_controller_query_migration(VireoVmController *self);
/* Whether the running machine migrated: it stays paused for good (resume
 * is refused) until it is stopped. */
gboolean vireo_vm_controller_has_migrated(VireoVmController *self);

/*
 * Snapshots, kept in the VM's qcow2 disk images. Taking, restoring,
 * deleting and listing run on worker threads with "busy" set; "snapshot-op"
 * says which, "snapshot-progress" how far a take or a restore is. Success
 * emits "snapshot-done" (the operation and the snapshot's name), failure
 * "error" with the message. Each operation lists the snapshots again
 * afterwards.
 */

/* Whether a snapshot can be taken now (the machine runs or is paused and
 * every part of it can be saved); FALSE with the reason otherwise. */
gboolean vireo_vm_controller_get_can_snapshot(VireoVmController *self, const char **reason);
/* `thumbnail` (a PNG) is optional. A snapshot of the same name is
 * replaced. */
void vireo_vm_controller_take_snapshot(VireoVmController *self, const char *name,
                                       GBytes *thumbnail);
/* Running or paused, the machine goes back to `snapshot` (one of the
 * list's); stopped, it starts from it. Either way the disks go back to it
 * too. */
void vireo_vm_controller_restore_snapshot(VireoVmController *self, VireoVmSnapshot *snapshot);
void vireo_vm_controller_delete_snapshot(VireoVmController *self, VireoVmSnapshot *snapshot);
/* Lists the snapshots again: from the machine while there is one, else
 * from the first writable disk's image. */
void vireo_vm_controller_refresh_snapshots(VireoVmController *self);
/* The snapshots (VireoVmSnapshot), oldest first, as last listed. */
GListModel *vireo_vm_controller_get_snapshots(VireoVmController *self);
/* Whether they were listed since the configuration was last set. */
gboolean vireo_vm_controller_get_snapshots_listed(VireoVmController *self);
/* Why the last listing failed (no writable disk, an image that is not
 * qcow2, ...), or NULL. */
const char *vireo_vm_controller_get_snapshots_error(VireoVmController *self);
/* Whether a writable disk is a raw image (as last listed), which keeps no
 * snapshots: converting it to qcow2 makes room for them. */
gboolean vireo_vm_controller_get_has_raw_disk(VireoVmController *self);
/* Converts each writable raw disk image of the stopped VM to a qcow2 image
 * beside it ("disk.img" to "disk.qcow2"), on a worker, with "snapshot-op"
 * VIREO_SNAPSHOT_OP_CONVERT and its progress. The raw images stay; the
 * result is the configuration with the new images, for the caller to
 * save. */
void vireo_vm_controller_convert_disks(VireoVmController *self, GAsyncReadyCallback callback,
                                       gpointer user_data);
VireoVmConfig *vireo_vm_controller_convert_disks_finish(VireoVmController *self,
                                                        GAsyncResult *result, GError **error);
VireoSnapshotOp vireo_vm_controller_get_snapshot_op(VireoVmController *self);
/* How far the running take or restore is, from 0 to 1. */
double vireo_vm_controller_get_snapshot_progress(VireoVmController *self);

G_END_DECLS

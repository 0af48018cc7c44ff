/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "devices/virtio-input.h"
#include "engine/machine.h"
#include "vireo-migrate.h"
#include "vireo-qmp.h"

G_BEGIN_DECLS

/*
 * A QMP monitor for a running VireoMachine: the host operations on the
 * machine's run control, and the machine's changes as QMP events:
 *
 *   paused                  STOP
 *   running                 RESUME
 *   reset by the supervisor RESET {"guest": true, "reason": "guest-reset"}, or
 *                           {"guest": false, "reason": "host-qmp-system-reset"}
 *                           for the monitor's system_reset
 *   stopped                 SHUTDOWN {"guest": true, "reason": "guest-shutdown"} for
 *                           a power-off; {"guest": false, "reason": …} otherwise:
 *                           "host-qmp-quit" (quit), "host-error" (a fault), or
 *                           the cause the host set (vireo_qmp_machine_set_stop_cause)
 *
 * The machine's event function belongs to the program that runs it, which
 * passes each state change on with vireo_qmp_machine_state_changed(); the
 * reset notification (vireo_machine_set_reset_notify) is the binding's own
 * while it lives. quit stops the machine (vireo_machine_stop), which ends a
 * program that waits for it.
 */
typedef struct VireoQmpMachine VireoQmpMachine;

typedef struct {
    /* The display's output for screendump, or NULL. */
    VireoScanout *scanout;
    /* The machine's keyboard, whose KEY_POWER system_powerdown presses; NULL
     * (or a pair without a keyboard): the POWERDOWN event only, as on QEMU's
     * riscv "virt", which has no power button. */
    const VireoVirtioInputPair *input;
    /* Snapshots: the savevm, loadvm, delvm and list_snapshots members of
     * this table (the others are not used), called with `snapshot_host`;
     * NULL for none: the monitor then says snapshots are not available. */
    const VireoQmpHostOps *snapshot_ops;
    void *snapshot_host;
    /* query-name; NULL for none. */
    const char *name;
    /* migrate and query-migrate on it; NULL: not available. Once it has
     * completed, the machine's status is "postmigrate" and cont refuses. */
    VireoMigration *migration;
} VireoQmpMachineConfig;

/* Snapshot operations on a board's disks (devices/snapshot.h), for
 * VireoQmpMachineConfig's snapshot_ops with the VireoBoard as snapshot_host. */
const VireoQmpHostOps *vireo_qmp_board_snapshot_ops(void);

/* Why the host stopped the machine, for SHUTDOWN's "reason". */
typedef enum {
    VIREO_QMP_SHUTDOWN_HOST_UI,     /* "host-ui": the console, a window (the default) */
    VIREO_QMP_SHUTDOWN_HOST_SIGNAL, /* "host-signal": a signal, a time limit */
} VireoQmpShutdownCause;

/* Before the machine starts. */
VireoQmpMachine *vireo_qmp_machine_new(VireoMachine *machine, const VireoQmpMachineConfig *config);
/* Once the machine has stopped and the monitor's server is freed, before the
 * machine is freed. */
void vireo_qmp_machine_free(VireoQmpMachine *binding);
/* The monitor to serve (vireo_qmp_server_new). */
VireoQmp *vireo_qmp_machine_get_qmp(VireoQmpMachine *binding);
/* From the machine's event function, on whatever thread it runs. */
void vireo_qmp_machine_state_changed(VireoQmpMachine *binding, VireoMachineState state);
/* Before the host stops the machine. */
void vireo_qmp_machine_set_stop_cause(VireoQmpMachine *binding, VireoQmpShutdownCause cause);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "devices/board.h"
#include "devices/snapshot.h"
#include "vireo-migrate.h"
#include "vireo-vm-config.h"

G_BEGIN_DECLS

/*
 * From a VM's configuration to a machine: the one path the controller takes
 * on every start. It checks that the architecture, the accelerator and the
 * execution engine can run, every value and every file; picks the board of
 * the architecture (devices/board.h); describes the machine to it (CPUs and
 * their engine, memory, boot images, disks, the network card with its port
 * forwards, the display); and builds the machine, ready to start or
 * started, with a GDB stub on 127.0.0.1 when [debug] gdb is set and a QMP
 * monitor (with migration) on the Unix socket [debug] qmp names (both freed
 * with the machine).
 */

/* The host's side of a machine. */
typedef struct {
    VireoRing *console; /* the serial console's output; not owned, must outlive the machine */
    VireoRing *hvc;     /* the virtio console's output; NULL discards it */
    VireoMachineEventFunc event; /* set before the machine starts; may be NULL */
    void *event_data;
    /* Called with the built machine before it starts, the moment to attach
     * to its board (a presenter to its display, ...); may be NULL. */
    void (*prepare)(VireoMachine *machine, VireoBoard *board, void *data);
    void *prepare_data;
    /* The snapshot (its id or its name, devices/snapshot.h) the machine
     * starts from instead of booting: its state and its disks are loaded
     * after `prepare`, before the vCPUs run. NULL boots. Only
     * vireo_vm_machine_start() reads it. */
    const char *snapshot;
    VireoSnapshotProgressFunc snapshot_progress; /* may be NULL */
    void *snapshot_progress_data;
    /* With [debug] qmp: where the machine's migration (what its monitor's
     * migrate starts) is stored; it lives as long as the machine. May be
     * NULL. */
    VireoMigration **migration;
    /* Called on the migration's thread with each change of its status. */
    VireoMigrationNotify migration_notify;
    void *migration_notify_data;
} VireoVmMachineHost;

/* What the board is given for a configuration. `config` points into the VM's
 * configuration and into this structure, which must both outlive its use. */
typedef struct {
    const VireoBoardOps *board;
    VireoBoardConfig config;
    VireoBoardDisk disks[VIREO_VM_CONFIG_MAX_DISKS];
    VireoNetConfig *net; /* NULL without a network */
} VireoVmMachineSpec;

/* Whether this build can run a VM of `arch` on `accel`: the accelerator's
 * probe, the back ends this version has, a board for the architecture. */
gboolean vireo_vm_machine_can_run(VireoArch arch, VireoAccelKind accel, GError **error);

/* Whether this build runs guest code on `engine` on this host (the JIT is
 * built for x86-64 only); VIREO_ENGINE_DEFAULT always runs. */
gboolean vireo_vm_machine_check_engine(VireoEngineKind engine, GError **error);

/* The network card of `config`'s [network], or NULL with none (mode=none,
 * no error). Each forward listens on the host's loopback address. */
VireoNetConfig *vireo_vm_machine_net_config(VireoVmConfig *config, GError **error);

/* Fills `spec` for `config` (checked with vireo_vm_config_validate()); the
 * host's side is left empty. */
gboolean vireo_vm_machine_spec_init(VireoVmMachineSpec *spec, VireoVmConfig *config,
                                    GError **error);
void vireo_vm_machine_spec_clear(VireoVmMachineSpec *spec);

/* Checks everything and builds the machine, not started. `board`
 * (optional) receives the board, which lives as long as the machine. */
VireoMachine *vireo_vm_machine_new(VireoVmConfig *config, const VireoVmMachineHost *host,
                                   VireoBoard **board, GError **error);
/* The same, started (from host->snapshot when set). */
VireoMachine *vireo_vm_machine_start(VireoVmConfig *config, const VireoVmMachineHost *host,
                                     VireoBoard **board, GError **error);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The QMP monitor's host operations on a VireoMachine, and the machine's
 * state changes and resets as QMP events.
 */
#include "vireo-qmp-machine.h"
#include "devices/snapshot.h"

#include <string.h>

#include "engine/error.h"

#define KEY_POWER 116 /* evdev's power key */
/* How long system_reset waits for the supervisor's reset. */
#define RESET_WAIT_US (5 * G_USEC_PER_SEC)

struct VireoQmpMachine {
    VireoMachine *machine;
    VireoQmp *qmp;
    VireoQmpHostOps ops; /* the machine's, with the snapshot operations given */
    VireoQmpMachineConfig config;

    GMutex lock;
    GCond cond;
    guint64 resets;  /* made by the supervisor */
    bool host_reset; /* the next one is system_reset's */
    bool quitting;   /* quit stopped it */
    VireoQmpShutdownCause stop_cause;
};

static VireoJson *reason_data(bool guest, const char *reason)
{
    VireoJson *d = vireo_json_new_object();

    vireo_json_object_set(d, "guest", vireo_json_new_bool(guest));
    vireo_json_object_set(d, "reason", vireo_json_new_string(reason));
    return d;
}

/* ---- events ---- */

static void on_reset(VireoMachine *machine, void *user_data)
{
    VireoQmpMachine *b = user_data;
    bool host;

    g_mutex_lock(&b->lock);
    host = b->host_reset;
    b->host_reset = false;
    b->resets++;
    vireo_qmp_emit_event(b->qmp, "RESET",
                         host ? reason_data(false, "host-qmp-system-reset")
                              : reason_data(true, "guest-reset"));
    g_cond_broadcast(&b->cond);
    g_mutex_unlock(&b->lock);
}

void vireo_qmp_machine_state_changed(VireoQmpMachine *binding, VireoMachineState state)
{
    VireoQmpMachine *b = binding;
    const char *cause;

    switch (state) {
    case VIREO_MACHINE_PAUSED: vireo_qmp_emit_event(b->qmp, "STOP", NULL); break;
    case VIREO_MACHINE_RUNNING: vireo_qmp_emit_event(b->qmp, "RESUME", NULL); break;
    case VIREO_MACHINE_STOPPED:
        switch (vireo_machine_exit_reason(b->machine, NULL, NULL)) {
        case VIREO_EXIT_POWEROFF:
            vireo_qmp_emit_event(b->qmp, "SHUTDOWN", reason_data(true, "guest-shutdown"));
            break;
        case VIREO_EXIT_FAULT:
            vireo_qmp_emit_event(b->qmp, "SHUTDOWN", reason_data(false, "host-error"));
            break;
        default:
            g_mutex_lock(&b->lock);
            cause = b->quitting                                       ? "host-qmp-quit"
                    : b->stop_cause == VIREO_QMP_SHUTDOWN_HOST_SIGNAL ? "host-signal"
                                                                      : "host-ui";
            g_mutex_unlock(&b->lock);
            vireo_qmp_emit_event(b->qmp, "SHUTDOWN", reason_data(false, cause));
            break;
        }
        g_mutex_lock(&b->lock);
        g_cond_broadcast(&b->cond); /* a system_reset that waits gives up */
        g_mutex_unlock(&b->lock);
        break;
    case VIREO_MACHINE_CREATED: break;
    }
}

void vireo_qmp_machine_set_stop_cause(VireoQmpMachine *binding, VireoQmpShutdownCause cause)
{
    g_mutex_lock(&binding->lock);
    binding->stop_cause = cause;
    g_mutex_unlock(&binding->lock);
}

/* ---- host operations ---- */

static bool migrated(VireoQmpMachine *b)
{
    return b->config.migration != NULL &&
           vireo_migration_get_status(b->config.migration) == VIREO_MIGRATION_COMPLETED;
}

/* While a migration sends the machine, nothing may change it. */
static bool refuse_while_migrating(VireoQmpMachine *b, GError **error)
{
    VireoMigrationStatus status = b->config.migration != NULL
                                      ? vireo_migration_get_status(b->config.migration)
                                      : VIREO_MIGRATION_NONE;

    if (status == VIREO_MIGRATION_SETUP || status == VIREO_MIGRATION_ACTIVE ||
        status == VIREO_MIGRATION_CANCELLING) {
        g_set_error(error, VIREO_QMP_ERROR, VIREO_QMP_ERROR_GENERIC,
                    "The machine is migrating; wait until query-migrate says it is done");
        return true;
    }
    /* Its disks belong to the destination now. */
    if (status == VIREO_MIGRATION_COMPLETED) {
        g_set_error(error, VIREO_QMP_ERROR, VIREO_QMP_ERROR_GENERIC,
                    "The machine has migrated; it runs on the destination now");
        return true;
    }
    return false;
}

static VireoQmpStatus machine_get_status(void *host)
{
    VireoQmpMachine *b = host;

    if (migrated(b) && vireo_machine_state(b->machine) == VIREO_MACHINE_PAUSED) {
        return VIREO_QMP_STATUS_POSTMIGRATE;
    }

    switch (vireo_machine_state(b->machine)) {
    case VIREO_MACHINE_CREATED: return VIREO_QMP_STATUS_PRELAUNCH;
    case VIREO_MACHINE_RUNNING: return VIREO_QMP_STATUS_RUNNING;
    case VIREO_MACHINE_PAUSED: return VIREO_QMP_STATUS_PAUSED;
    case VIREO_MACHINE_STOPPED: break;
    }
    return vireo_machine_exit_reason(b->machine, NULL, NULL) == VIREO_EXIT_FAULT
               ? VIREO_QMP_STATUS_INTERNAL_ERROR
               : VIREO_QMP_STATUS_SHUTDOWN;
}

static bool machine_stop(void *host, GError **error)
{
    VireoQmpMachine *b = host;

    vireo_machine_pause(b->machine); /* returns at once unless it runs */
    return true;
}

static bool machine_cont(void *host, GError **error)
{
    VireoQmpMachine *b = host;

    if (vireo_machine_state(b->machine) == VIREO_MACHINE_STOPPED) {
        g_set_error(error, VIREO_QMP_ERROR, VIREO_QMP_ERROR_GENERIC,
                    "The machine has shut down and cannot run again");
        return false;
    }
    if (migrated(b)) {
        g_set_error(error, VIREO_QMP_ERROR, VIREO_QMP_ERROR_GENERIC,
                    "The machine has migrated; it runs on the destination now");
        return false;
    }
    if (refuse_while_migrating(b, error)) {
        return false;
    }
    vireo_machine_resume(b->machine);
    return true;
}

/* Resets through the supervisor and waits until it has, so that the RESET
 * event comes before the reply, as in QEMU. */
static bool machine_system_reset(void *host, GError **error)
{
    VireoQmpMachine *b = host;
    VireoMachineState state = vireo_machine_state(b->machine);
    gint64 end = g_get_monotonic_time() + RESET_WAIT_US;
    guint64 before;
    bool done;

    if (state != VIREO_MACHINE_RUNNING && state != VIREO_MACHINE_PAUSED) {
        g_set_error(error, VIREO_QMP_ERROR, VIREO_QMP_ERROR_GENERIC,
                    "The machine is not running (it is %s)",
                    vireo_qmp_status_name(machine_get_status(b)));
        return false;
    }
    if (refuse_while_migrating(b, error)) {
        return false;
    }
    g_mutex_lock(&b->lock);
    before = b->resets;
    b->host_reset = true;
    vireo_machine_request_reset(b->machine);
    while (b->resets == before && vireo_machine_state(b->machine) != VIREO_MACHINE_STOPPED &&
           g_cond_wait_until(&b->cond, &b->lock, end)) {}
    done = b->resets != before;
    if (!done) {
        b->host_reset = false;
    }
    g_mutex_unlock(&b->lock);
    if (!done) {
        g_set_error(error, VIREO_QMP_ERROR, VIREO_QMP_ERROR_GENERIC,
                    "The machine stopped before it was reset");
    }
    return done;
}

static bool machine_system_powerdown(void *host, GError **error)
{
    VireoQmpMachine *b = host;
    const VireoVirtioInputPair *pair = b->config.input;

    if (pair != NULL && pair->keyboard != NULL) {
        const VireoInputOps *ops = vireo_virtio_input_pair_get_ops();
        ops->key((void *)pair, KEY_POWER, true);
        ops->key((void *)pair, KEY_POWER, false);
    }
    return true;
}

static void machine_quit(void *host)
{
    VireoQmpMachine *b = host;

    g_mutex_lock(&b->lock);
    b->quitting = true;
    g_mutex_unlock(&b->lock);
    vireo_machine_stop(b->machine);
}

static unsigned machine_n_cpus(void *host)
{
    return vireo_machine_n_vcpus(((VireoQmpMachine *)host)->machine);
}

static gint64 machine_cpu_thread_id(void *host, unsigned index)
{
    return vireo_machine_vcpu_thread_id(((VireoQmpMachine *)host)->machine, index);
}

static VireoScanout *machine_get_scanout(void *host)
{
    return ((VireoQmpMachine *)host)->config.scanout;
}

/* The snapshot operations, passed on to the table the host gave. */
static bool snap_savevm(void *host, const char *name, GError **error)
{
    VireoQmpMachine *b = host;
    if (refuse_while_migrating(b, error)) {
        return false;
    }
    return b->config.snapshot_ops->savevm(b->config.snapshot_host, name, error);
}

static bool snap_loadvm(void *host, const char *name, GError **error)
{
    VireoQmpMachine *b = host;
    if (refuse_while_migrating(b, error)) {
        return false;
    }
    return b->config.snapshot_ops->loadvm(b->config.snapshot_host, name, error);
}

static bool snap_delvm(void *host, const char *name, GError **error)
{
    VireoQmpMachine *b = host;
    if (refuse_while_migrating(b, error)) {
        return false;
    }
    return b->config.snapshot_ops->delvm(b->config.snapshot_host, name, error);
}

static GPtrArray *snap_list(void *host, GError **error)
{
    VireoQmpMachine *b = host;
    return b->config.snapshot_ops->list_snapshots(b->config.snapshot_host, error);
}

static bool machine_migrate(void *host, const char *uri, GError **error)
{
    VireoQmpMachine *b = host;
    VireoMachineState state = vireo_machine_state(b->machine);

    if (state != VIREO_MACHINE_RUNNING && state != VIREO_MACHINE_PAUSED) {
        g_set_error(error, VIREO_QMP_ERROR, VIREO_QMP_ERROR_GENERIC,
                    "The machine is not running (it is %s)",
                    vireo_qmp_status_name(machine_get_status(b)));
        return false;
    }
    return vireo_migration_start(b->config.migration, uri, error);
}

static VireoJson *machine_query_migrate(void *host)
{
    return vireo_migration_query(((VireoQmpMachine *)host)->config.migration);
}

static void machine_migrate_cancel(void *host)
{
    vireo_migration_cancel(((VireoQmpMachine *)host)->config.migration);
}

static void machine_migrate_set_downtime_limit(void *host, gint64 ms)
{
    vireo_migration_set_downtime_limit(((VireoQmpMachine *)host)->config.migration, (guint64)ms);
}

static bool machine_busy(void *host, GError **error)
{
    return refuse_while_migrating(host, error);
}

static const VireoQmpHostOps machine_ops = {
    .get_status = machine_get_status,
    .stop = machine_stop,
    .cont = machine_cont,
    .system_reset = machine_system_reset,
    .system_powerdown = machine_system_powerdown,
    .quit = machine_quit,
    .n_cpus = machine_n_cpus,
    .cpu_thread_id = machine_cpu_thread_id,
    .get_scanout = machine_get_scanout,
};

VireoQmpMachine *vireo_qmp_machine_new(VireoMachine *machine, const VireoQmpMachineConfig *config)
{
    VireoQmpMachine *b = g_new0(VireoQmpMachine, 1);
    const VireoQmpHostOps *snap = config != NULL ? config->snapshot_ops : NULL;

    b->machine = machine;
    if (config != NULL) {
        b->config = *config;
    }
    b->config.name = NULL; /* not kept */
    b->ops = machine_ops;
    if (snap != NULL && snap->savevm != NULL && snap->loadvm != NULL && snap->delvm != NULL &&
        snap->list_snapshots != NULL) {
        b->ops.savevm = snap_savevm;
        b->ops.loadvm = snap_loadvm;
        b->ops.delvm = snap_delvm;
        b->ops.list_snapshots = snap_list;
        b->ops.busy = machine_busy;
    }
    if (b->config.migration != NULL) {
        b->ops.migrate = machine_migrate;
        b->ops.query_migrate = machine_query_migrate;
        b->ops.migrate_cancel = machine_migrate_cancel;
        b->ops.migrate_set_downtime_limit = machine_migrate_set_downtime_limit;
    }
    g_mutex_init(&b->lock);
    g_cond_init(&b->cond);
    b->qmp = vireo_qmp_new(&b->ops, b);
    if (config != NULL && config->name != NULL) {
        vireo_qmp_set_name(b->qmp, config->name);
    }
    vireo_machine_set_reset_notify(machine, on_reset, b);
    return b;
}

void vireo_qmp_machine_free(VireoQmpMachine *binding)
{
    if (binding == NULL) {
        return;
    }
    /* The machine has stopped: its supervisor makes no more resets. */
    vireo_machine_set_reset_notify(binding->machine, NULL, NULL);
    vireo_qmp_free(binding->qmp);
    g_mutex_clear(&binding->lock);
    g_cond_clear(&binding->cond);
    g_free(binding);
}

VireoQmp *vireo_qmp_machine_get_qmp(VireoQmpMachine *binding)
{
    return binding->qmp;
}

/* ---- A board's snapshots (devices/snapshot.h) --------------------------- */

static bool board_savevm(void *host, const char *name, GError **error)
{
    return vireo_snapshot_save(host, name, NULL, NULL, NULL, error);
}

static bool board_loadvm(void *host, const char *name, GError **error)
{
    return vireo_snapshot_load(host, name, NULL, NULL, error);
}

static bool board_delvm(void *host, const char *name, GError **error)
{
    return vireo_snapshot_delete(host, name, error);
}

static GPtrArray *board_list(void *host, GError **error)
{
    g_autoptr(GPtrArray) list = vireo_snapshot_list(host, error);
    GPtrArray *rows;

    if (list == NULL) {
        return NULL;
    }
    rows = g_ptr_array_new_with_free_func((GDestroyNotify)vireo_qmp_snapshot_free);
    for (guint i = 0; i < list->len; i++) {
        const VireoBlockSnapshot *s = g_ptr_array_index(list, i);
        g_ptr_array_add(rows, vireo_qmp_snapshot_new(s->id, s->name, s->vm_state_size, s->date_sec,
                                                     s->vm_clock_ns));
    }
    return rows;
}

static const VireoQmpHostOps board_snapshot_ops = {
    .savevm = board_savevm,
    .loadvm = board_loadvm,
    .delvm = board_delvm,
    .list_snapshots = board_list,
};

const VireoQmpHostOps *vireo_qmp_board_snapshot_ops(void)
{
    return &board_snapshot_ops;
}

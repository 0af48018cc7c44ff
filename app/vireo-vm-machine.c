/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "vireo-vm-machine"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "vireo-vm-machine.h"

#include "engine/error.h"
#include "engine/gdbstub.h"
#include "engine/riscv.h"
#include "vireo-qmp-machine.h"
#include "vireo-qmp-server.h"

/* A configuration's forwards all fit one user network. */
G_STATIC_ASSERT(VIREO_VM_CONFIG_MAX_FORWARDS == VIREO_NET_MAX_FWD);

gboolean vireo_vm_machine_can_run(VireoArch arch, VireoAccelKind accel, GError **error)
{
    if (!vireo_accel_probe(accel, arch, error)) {
        return FALSE;
    }
    if (accel != VIREO_ACCEL_SOFT) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_ACCEL_UNAVAILABLE,
                    _("This build of Vireo has no %s back end yet; use the software engine"),
                    vireo_accel_name(accel));
        return FALSE;
    }
    if (vireo_board_find(arch) == NULL) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_ACCEL_UNAVAILABLE,
                    _("This build of Vireo has no board for %s yet"), vireo_arch_name(arch));
        return FALSE;
    }
    return TRUE;
}

gboolean vireo_vm_machine_check_engine(VireoEngineKind engine, GError **error)
{
    if (vireo_engine_available(engine, NULL)) {
        return TRUE;
    }
    if (engine == VIREO_ENGINE_JIT) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_ACCEL_UNAVAILABLE,
                    _("This build of Vireo has no just-in-time compiler for this computer; choose "
                      "the interpreter as the execution engine"));
    } else {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_ACCEL_UNAVAILABLE,
                    _("This build of Vireo has no %s execution engine"), vireo_engine_name(engine));
    }
    return FALSE;
}

VireoNetConfig *vireo_vm_machine_net_config(VireoVmConfig *config, GError **error)
{
    const char *const *forwards;
    g_autoptr(GString) spec = NULL;
    g_autoptr(GError) cause = NULL;
    VireoNetConfig *net;

    g_return_val_if_fail(VIREO_IS_VM_CONFIG(config), NULL);

    if (vireo_vm_config_get_network(config) != VIREO_NETWORK_USER) {
        return NULL;
    }
    /* The same description vireo-run's --net takes, read by the same
     * parser: "user,hostfwd=tcp:127.0.0.1:8022-:22,...". */
    spec = g_string_new("user");
    forwards = vireo_vm_config_get_forwards(config);
    for (guint i = 0; forwards[i] != NULL; i++) {
        gboolean udp;
        guint host_port, guest_port;

        if (!vireo_vm_config_parse_forward(forwards[i], &udp, &host_port, &guest_port, &cause)) {
            g_propagate_prefixed_error(error, g_steal_pointer(&cause), "[network] forwards: ");
            return NULL;
        }
        g_string_append_printf(spec, ",hostfwd=%s:127.0.0.1:%u-:%u", udp ? "udp" : "tcp", host_port,
                               guest_port);
    }
    net = vireo_net_config_parse(spec->str, &cause);
    if (net == NULL) {
        g_propagate_prefixed_error(error, g_steal_pointer(&cause), "[network] forwards: ");
    }
    return net;
}

gboolean vireo_vm_machine_spec_init(VireoVmMachineSpec *spec, VireoVmConfig *config, GError **error)
{
    VireoArch arch;
    guint n_disks;

    g_return_val_if_fail(spec != NULL, FALSE);
    g_return_val_if_fail(VIREO_IS_VM_CONFIG(config), FALSE);

    memset(spec, 0, sizeof *spec);
    if (!vireo_vm_config_validate(config, error)) {
        return FALSE;
    }
    if (!vireo_vm_machine_check_engine(vireo_vm_config_get_engine(config), error)) {
        return FALSE;
    }
    arch = vireo_vm_config_get_arch(config);
    spec->board = vireo_board_find(arch);
    if (spec->board == NULL) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_ACCEL_UNAVAILABLE,
                    _("This build of Vireo has no board for %s yet"), vireo_arch_name(arch));
        return FALSE;
    }
    if (vireo_vm_config_get_network(config) == VIREO_NETWORK_USER) {
        spec->net = vireo_vm_machine_net_config(config, error);
        if (spec->net == NULL) {
            return FALSE;
        }
    }
    /* Disks become virtio disks, in order: disk.0 is the guest's first. */
    n_disks = vireo_vm_config_get_n_disks(config);
    g_assert(n_disks <= G_N_ELEMENTS(spec->disks)); /* validated */
    for (guint i = 0; i < n_disks; i++) {
        spec->disks[i].path = vireo_vm_config_get_disk_path(config, i);
        spec->disks[i].read_only = vireo_vm_config_get_disk_read_only(config, i);
        /* Without a format the disk is raw (the files were checked). */
        spec->disks[i].format = vireo_vm_config_get_disk_format(config, i);
        if (spec->disks[i].format == VIREO_BLOCK_FORMAT_AUTO) {
            spec->disks[i].format = VIREO_BLOCK_FORMAT_RAW;
        }
    }
    spec->config = (VireoBoardConfig){
        .ram_size = vireo_vm_config_get_memory(config),
        .n_cpus = vireo_vm_config_get_cpus(config),
        .cpu = vireo_vm_config_get_cpu(config),
        .engine = vireo_vm_config_get_engine(config),
        .firmware = vireo_vm_config_get_firmware(config),
        .kernel = vireo_vm_config_get_kernel(config),
        .initrd = vireo_vm_config_get_initrd(config),
        .cmdline = vireo_vm_config_get_cmdline(config),
        .disks = spec->disks,
        .n_disks = n_disks,
        .net = spec->net,
    };
    /* A display is virtio-gpu in 2D, with a keyboard and a tablet. */
    if (vireo_vm_config_get_display(config) == VIREO_DISPLAY_VIRTIO_GPU) {
        spec->config.display = VIREO_BOARD_DISPLAY_2D;
        spec->config.input = TRUE;
    }
    return TRUE;
}

void vireo_vm_machine_spec_clear(VireoVmMachineSpec *spec)
{
    g_return_if_fail(spec != NULL);

    g_clear_pointer(&spec->net, vireo_net_config_free);
    memset(spec, 0, sizeof *spec);
}

/* What listens beside a machine: the debugger of [debug] gdb, the monitor
 * of [debug] qmp with its migration; and the host's event function, which
 * the machine's events go on to. */
typedef struct {
    VireoGdbStub *stub;
    VireoQmpMachine *qmp_machine;
    VireoQmpServer *qmp_server;
    VireoMigration *migration;
    VireoMachineEventFunc event;
    void *event_data;
} Link;

static void link_event(VireoMachine *machine, VireoMachineState state, void *user_data)
{
    Link *link = user_data;

    if (state == VIREO_MACHINE_STOPPED && link->stub != NULL) {
        int code = 0;
        vireo_machine_exit_reason(machine, &code, NULL);
        vireo_gdb_stub_machine_stopped(link->stub, code);
    }
    if (link->qmp_machine != NULL) {
        vireo_qmp_machine_state_changed(link->qmp_machine, state);
    }
    if (link->event != NULL) {
        link->event(machine, state, link->event_data);
    }
}

/* Before the vCPUs go: the monitor first (no more commands), then a
 * migration still under way, then the debugger. */
static void link_free_listeners(gpointer data)
{
    Link *link = data;

    g_clear_pointer(&link->qmp_server, vireo_qmp_server_free);
    if (link->migration != NULL) {
        vireo_migration_cancel(link->migration);
        g_clear_pointer(&link->migration, vireo_migration_free);
    }
    g_clear_pointer(&link->qmp_machine, vireo_qmp_machine_free);
    g_clear_pointer(&link->stub, vireo_gdb_stub_free);
}

/* The machine's link, made on first use. */
static Link *machine_link(VireoMachine *machine, const VireoVmMachineHost *host, Link **link)
{
    if (*link == NULL) {
        *link = g_new0(Link, 1);
        (*link)->event = host->event;
        (*link)->event_data = host->event_data;
        /* The listeners go before the vCPUs they use, the link after the
         * machine's last event. */
        vireo_machine_add_cleanup(machine, g_free, *link);
        vireo_machine_add_stop_cleanup(machine, link_free_listeners, *link);
        vireo_machine_set_event_func(machine, link_event, *link);
    }
    return *link;
}

/* Listens for a debugger on 127.0.0.1:`port`; the machine runs without
 * waiting for one (a debugger that connects stops it). */
static gboolean attach_debugger(VireoMachine *machine, const VireoVmMachineHost *host, guint port,
                                Link **link, GError **error)
{
    g_autofree char *spec = g_strdup_printf("tcp:127.0.0.1:%u", port);
    g_autoptr(GError) cause = NULL;
    VireoGdbStub *stub;

    vireo_machine_set_start_paused(machine, false);
    stub = vireo_gdb_stub_new(machine, vireo_rv_gdb_arch(), spec, &cause);
    if (stub == NULL) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO,
                    _("Cannot allow debugger connections on port %u: %s"), port, cause->message);
        return FALSE;
    }
    machine_link(machine, host, link)->stub = stub;
    return TRUE;
}

/* A QMP monitor on the Unix socket `path`, with snapshots and migration
 * (docs/QMP.md). */
static gboolean attach_monitor(VireoMachine *machine, VireoBoard *board, const char *name,
                               const VireoVmMachineHost *host, const char *path, Link **link,
                               GError **error)
{
    g_autofree char *spec = g_strdup_printf("unix:%s", path);
    g_autoptr(GError) cause = NULL;
    Link *l = machine_link(machine, host, link);
    VireoQmpMachineConfig config = {
        .input = vireo_board_get_input(board),
        .snapshot_ops = vireo_qmp_board_snapshot_ops(),
        .snapshot_host = board,
        .name = name,
    };

    l->migration = vireo_migration_new(board, host->migration_notify, host->migration_notify_data);
    config.migration = l->migration;
    l->qmp_machine = vireo_qmp_machine_new(machine, &config);
    l->qmp_server = vireo_qmp_server_new(vireo_qmp_machine_get_qmp(l->qmp_machine), spec, &cause);
    if (l->qmp_server == NULL) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, _("Cannot open the QMP monitor on %s: %s"),
                    path, cause->message);
        return FALSE;
    }
    if (host->migration != NULL) {
        *host->migration = l->migration;
    }
    return TRUE;
}

VireoMachine *vireo_vm_machine_new(VireoVmConfig *config, const VireoVmMachineHost *host,
                                   VireoBoard **board, GError **error)
{
    VireoVmMachineSpec spec;
    VireoMachine *machine;
    VireoBoard *built = NULL;
    Link *link = NULL;

    g_return_val_if_fail(VIREO_IS_VM_CONFIG(config), NULL);
    g_return_val_if_fail(host != NULL, NULL);

    if (!vireo_vm_machine_can_run(vireo_vm_config_get_arch(config),
                                  vireo_vm_config_get_accel(config), error) ||
        !vireo_vm_machine_spec_init(&spec, config, error)) {
        return NULL;
    }
    if (!vireo_vm_config_check_files(config, error)) {
        vireo_vm_machine_spec_clear(&spec);
        return NULL;
    }
    spec.config.console = host->console;
    spec.config.hvc = host->hvc;
    machine = vireo_board_new(spec.board, &spec.config, &built, error);
    vireo_vm_machine_spec_clear(&spec);
    if (machine == NULL) {
        return NULL;
    }
    if (host->event != NULL) {
        vireo_machine_set_event_func(machine, host->event, host->event_data);
    }
    if ((vireo_vm_config_get_gdb_port(config) != 0 &&
         !attach_debugger(machine, host, vireo_vm_config_get_gdb_port(config), &link, error)) ||
        (vireo_vm_config_get_qmp_socket(config) != NULL &&
         !attach_monitor(machine, built, vireo_vm_config_get_name(config), host,
                         vireo_vm_config_get_qmp_socket(config), &link, error))) {
        if (host->migration != NULL) {
            *host->migration = NULL;
        }
        vireo_machine_free(machine);
        return NULL;
    }
    if (board != NULL) {
        *board = built;
    }
    return machine;
}

VireoMachine *vireo_vm_machine_start(VireoVmConfig *config, const VireoVmMachineHost *host,
                                     VireoBoard **board, GError **error)
{
    VireoBoard *built = NULL;
    VireoMachine *machine = vireo_vm_machine_new(config, host, &built, error);

    if (machine == NULL) {
        return NULL;
    }
    if (host->prepare != NULL) {
        host->prepare(machine, built, host->prepare_data);
    }
    if (host->snapshot != NULL) {
        g_autoptr(GError) cause = NULL;

        if (!vireo_snapshot_load(built, host->snapshot, host->snapshot_progress,
                                 host->snapshot_progress_data, &cause)) {
            g_set_error(error, cause->domain, cause->code, _("Cannot start from the snapshot: %s"),
                        cause->message);
            vireo_machine_free(machine);
            return NULL;
        }
    }
    if (!vireo_machine_start(machine, error)) {
        vireo_machine_free(machine);
        return NULL;
    }
    if (board != NULL) {
        *board = built;
    }
    return machine;
}

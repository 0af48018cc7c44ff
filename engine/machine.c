/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "engine/machine.h"
#include "engine/error.h"
#include "engine/softfloat.h"
#include "machine-state.h"

#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    VireoMachine *machine;
    const VireoVcpuOps *ops;
    void *vcpu;
    GThread *thread;
    gint64 thread_id; /* under the machine's lock; -1 until the thread runs */
} VcpuSlot;

typedef struct {
    GDestroyNotify destroy;
    void *data;
} Cleanup;

struct VireoMachine {
    VireoBus *bus;
    VireoClock *clock;
    GPtrArray *vcpus; /* VcpuSlot */
    GArray *cleanups;
    GArray *stop_cleanups; /* run once stopped, before the vCPUs go */

    GMutex lock;
    GCond cond;
    /* Serializes the host's transitions of the devices (pause, resume) and
     * state saves and loads; taken before `lock`, never under it. */
    GMutex control;
    bool devices_paused;
    VireoMachineState state;
    atomic_bool stop_flag; /* every vCPU must leave run() and park */
    guint n_parked;
    bool quit;          /* threads must exit */
    bool stopping;      /* vireo_machine_stop() is under way */
    bool reset_request; /* guest asked for a reset */
    bool exit_request;  /* guest asked to stop (power-off or fault) */
    bool host_pause;    /* paused by vireo_machine_pause() */
    bool debug_request; /* a vCPU stopped for the debugger */
    bool start_paused;
    VireoExitReason exit_reason;
    int exit_code;
    char *exit_message;
    GThread *supervisor;

    VireoMachineEventFunc event_func;
    void *event_data;
    VireoMachineResetFunc reset_func;
    void *reset_data;
    VireoMachineDebugFunc debug_func;
    void *debug_data;
    VireoMachineResetNotifyFunc reset_notify;
    void *reset_notify_data;
};

VireoMachine *vireo_machine_new(VireoBus *bus, VireoClock *clock)
{
    VireoMachine *m = g_new0(VireoMachine, 1);

    m->bus = bus;
    m->clock = clock;
    m->vcpus = g_ptr_array_new();
    m->cleanups = g_array_new(FALSE, FALSE, sizeof(Cleanup));
    m->stop_cleanups = g_array_new(FALSE, FALSE, sizeof(Cleanup));
    g_mutex_init(&m->lock);
    g_cond_init(&m->cond);
    g_mutex_init(&m->control);
    atomic_init(&m->stop_flag, true);
    m->state = VIREO_MACHINE_CREATED;
    return m;
}

static void emit(VireoMachine *m, VireoMachineState state)
{
    if (m->event_func != NULL) {
        m->event_func(m, state, m->event_data);
    }
}

static void kick_all(VireoMachine *m)
{
    for (guint i = 0; i < m->vcpus->len; i++) {
        VcpuSlot *slot = g_ptr_array_index(m->vcpus, i);
        slot->ops->kick(slot->vcpu);
    }
}

/* With the lock held: stop every vCPU at a block boundary and wait until all
 * of them are parked. */
static void park_all_locked(VireoMachine *m)
{
    atomic_store(&m->stop_flag, true);
    kick_all(m);
    while (m->n_parked < m->vcpus->len) {
        g_cond_wait(&m->cond, &m->lock);
    }
}

static void unpark_all_locked(VireoMachine *m)
{
    atomic_store(&m->stop_flag, false);
    g_cond_broadcast(&m->cond);
}

static void join_all(VireoMachine *m)
{
    for (guint i = 0; i < m->vcpus->len; i++) {
        VcpuSlot *slot = g_ptr_array_index(m->vcpus, i);
        if (slot->thread != NULL) {
            g_thread_join(slot->thread);
            slot->thread = NULL;
        }
    }
}

void vireo_machine_stop(VireoMachine *machine)
{
    VireoMachine *m = machine;
    bool was_running;

    g_mutex_lock(&m->lock);
    if (m->stopping) {
        /* Another thread stops it (the console and a monitor may both):
         * return once it has, without joining its threads a second time. */
        while (m->state != VIREO_MACHINE_STOPPED) {
            g_cond_wait(&m->cond, &m->lock);
        }
        g_mutex_unlock(&m->lock);
        return;
    }
    m->stopping = true;
    was_running = m->state == VIREO_MACHINE_RUNNING || m->state == VIREO_MACHINE_PAUSED;
    if (m->exit_reason == VIREO_EXIT_NONE) {
        m->exit_reason = VIREO_EXIT_STOPPED;
    }
    m->quit = true;
    atomic_store(&m->stop_flag, true);
    kick_all(m);
    g_cond_broadcast(&m->cond);
    g_mutex_unlock(&m->lock);

    /* The supervisor first: when it is ending the machine for the guest, it
     * joins the vCPU threads itself before it returns. */
    if (m->supervisor != NULL) {
        g_thread_join(m->supervisor);
        m->supervisor = NULL;
    }
    join_all(m);
    vireo_clock_pause(m->clock);
    g_mutex_lock(&m->lock);
    if (m->state != VIREO_MACHINE_STOPPED) {
        m->state = VIREO_MACHINE_STOPPED;
        g_cond_broadcast(&m->cond);
        g_mutex_unlock(&m->lock);
        if (was_running) {
            emit(m, VIREO_MACHINE_STOPPED);
        }
        return;
    }
    g_mutex_unlock(&m->lock);
}

void vireo_machine_free(VireoMachine *machine)
{
    if (machine == NULL) {
        return;
    }
    vireo_machine_stop(machine);
    /* What uses the vCPUs (a debugger) goes while they are still there. */
    for (guint i = machine->stop_cleanups->len; i > 0; i--) {
        Cleanup *c = &g_array_index(machine->stop_cleanups, Cleanup, i - 1);
        c->destroy(c->data);
    }
    g_array_free(machine->stop_cleanups, TRUE);
    /* Device threads (a display's, a disk's) may still be finishing a
     * request and raising its interrupt: they stop before the vCPUs the
     * interrupt lines lead to go. */
    vireo_bus_pause_devices(machine->bus);
    for (guint i = 0; i < machine->vcpus->len; i++) {
        VcpuSlot *slot = g_ptr_array_index(machine->vcpus, i);
        if (slot->ops->free != NULL) {
            slot->ops->free(slot->vcpu);
        }
        g_free(slot);
    }
    g_ptr_array_free(machine->vcpus, TRUE);
    /* Board state goes in reverse order of registration. */
    for (guint i = machine->cleanups->len; i > 0; i--) {
        Cleanup *c = &g_array_index(machine->cleanups, Cleanup, i - 1);
        c->destroy(c->data);
    }
    g_array_free(machine->cleanups, TRUE);
    vireo_clock_free(machine->clock);
    vireo_bus_free(machine->bus);
    g_free(machine->exit_message);
    g_mutex_clear(&machine->lock);
    g_mutex_clear(&machine->control);
    g_cond_clear(&machine->cond);
    g_free(machine);
}

VireoBus *vireo_machine_bus(VireoMachine *machine)
{
    return machine->bus;
}

VireoClock *vireo_machine_clock(VireoMachine *machine)
{
    return machine->clock;
}

unsigned vireo_machine_add_vcpu(VireoMachine *machine, const VireoVcpuOps *ops, void *vcpu)
{
    VcpuSlot *slot = g_new0(VcpuSlot, 1);

    g_return_val_if_fail(machine->state == VIREO_MACHINE_CREATED, 0);
    slot->machine = machine;
    slot->ops = ops;
    slot->vcpu = vcpu;
    slot->thread_id = -1;
    g_ptr_array_add(machine->vcpus, slot);
    return machine->vcpus->len - 1;
}

unsigned vireo_machine_n_vcpus(VireoMachine *machine)
{
    return machine->vcpus->len;
}

void *vireo_machine_vcpu(VireoMachine *machine, unsigned index)
{
    if (index >= machine->vcpus->len) {
        return NULL;
    }
    return ((VcpuSlot *)g_ptr_array_index(machine->vcpus, index))->vcpu;
}

const VireoVcpuOps *vireo_machine_vcpu_ops(VireoMachine *machine, unsigned index)
{
    g_return_val_if_fail(index < machine->vcpus->len, NULL);
    return ((VcpuSlot *)g_ptr_array_index(machine->vcpus, index))->ops;
}

gint64 vireo_machine_vcpu_thread_id(VireoMachine *machine, unsigned index)
{
    gint64 id = -1;

    g_mutex_lock(&machine->lock);
    if (index < machine->vcpus->len) {
        id = ((VcpuSlot *)g_ptr_array_index(machine->vcpus, index))->thread_id;
    }
    g_mutex_unlock(&machine->lock);
    return id;
}

void vireo_machine_set_event_func(VireoMachine *machine, VireoMachineEventFunc func,
                                  void *user_data)
{
    machine->event_func = func;
    machine->event_data = user_data;
}

void vireo_machine_set_reset_func(VireoMachine *machine, VireoMachineResetFunc func,
                                  void *user_data)
{
    machine->reset_func = func;
    machine->reset_data = user_data;
}

void vireo_machine_set_debug_func(VireoMachine *machine, VireoMachineDebugFunc func,
                                  void *user_data)
{
    machine->debug_func = func;
    machine->debug_data = user_data;
}

void vireo_machine_set_reset_notify(VireoMachine *machine, VireoMachineResetNotifyFunc func,
                                    void *user_data)
{
    g_mutex_lock(&machine->lock);
    machine->reset_notify = func;
    machine->reset_notify_data = user_data;
    g_mutex_unlock(&machine->lock);
}

void vireo_machine_set_start_paused(VireoMachine *machine, bool paused)
{
    machine->start_paused = paused;
}

void vireo_machine_add_cleanup(VireoMachine *machine, GDestroyNotify destroy, void *data)
{
    Cleanup c = { destroy, data };
    g_array_append_val(machine->cleanups, c);
}

void vireo_machine_add_stop_cleanup(VireoMachine *machine, GDestroyNotify destroy, void *data)
{
    Cleanup c = { destroy, data };
    g_array_append_val(machine->stop_cleanups, c);
}

static gpointer vcpu_thread(gpointer data)
{
    VcpuSlot *slot = data;
    VireoMachine *m = slot->machine;

    vireo_softfloat_thread_init();
    g_mutex_lock(&m->lock);
#ifdef __linux__
    slot->thread_id = gettid();
#endif
    while (!m->quit) {
        if (atomic_load(&m->stop_flag)) {
            m->n_parked++;
            g_cond_broadcast(&m->cond);
            while (atomic_load(&m->stop_flag) && !m->quit) {
                g_cond_wait(&m->cond, &m->lock);
            }
            m->n_parked--;
            continue;
        }
        g_mutex_unlock(&m->lock);
        slot->ops->run(slot->vcpu);
        g_mutex_lock(&m->lock);
    }
    m->n_parked++;
    g_cond_broadcast(&m->cond);
    g_mutex_unlock(&m->lock);
    return NULL;
}

/* Every vCPU parked: the devices stop touching guest memory too. */
static void pause_devices(VireoMachine *m)
{
    g_mutex_lock(&m->control);
    if (!m->devices_paused) {
        m->devices_paused = true;
        vireo_bus_pause_devices(m->bus);
    }
    g_mutex_unlock(&m->control);
}

static void resume_devices(VireoMachine *m)
{
    g_mutex_lock(&m->control);
    if (m->devices_paused) {
        m->devices_paused = false;
        vireo_bus_resume_devices(m->bus);
    }
    g_mutex_unlock(&m->control);
}

/* Serves the guest's requests (reset, power-off, fault), which cannot be
 * handled on a vCPU thread because they stop every vCPU. */
/* Without the lock, every vCPU parked: the board's reset (or the bus's),
 * then every vCPU's. */
static void reset_parked(VireoMachine *m)
{
    if (m->reset_func != NULL) {
        m->reset_func(m, m->reset_data);
    } else {
        vireo_bus_reset(m->bus);
    }
    for (guint i = 0; i < m->vcpus->len; i++) {
        VcpuSlot *slot = g_ptr_array_index(m->vcpus, i);
        slot->ops->reset(slot->vcpu);
    }
}

static gpointer supervisor_thread(gpointer data)
{
    VireoMachine *m = data;

    g_mutex_lock(&m->lock);
    while (!m->quit) {
        if (m->reset_request) {
            VireoMachineResetNotifyFunc notify;
            void *notify_data;

            m->reset_request = false;
            park_all_locked(m);
            notify = m->reset_notify;
            notify_data = m->reset_notify_data;
            g_mutex_unlock(&m->lock);
            reset_parked(m);
            if (notify != NULL) {
                notify(m, notify_data);
            }
            g_mutex_lock(&m->lock);
            if (!m->host_pause && !m->exit_request) {
                unpark_all_locked(m);
            }
            continue;
        }
        if (m->debug_request && !m->exit_request) {
            bool was_running = m->state == VIREO_MACHINE_RUNNING;
            m->debug_request = false;
            park_all_locked(m);
            if (was_running) {
                m->host_pause = true;
                m->state = VIREO_MACHINE_PAUSED;
                vireo_clock_pause(m->clock);
            }
            g_mutex_unlock(&m->lock);
            if (was_running) {
                pause_devices(m);
                emit(m, VIREO_MACHINE_PAUSED);
            }
            if (m->debug_func != NULL) {
                m->debug_func(m, m->debug_data);
            }
            g_mutex_lock(&m->lock);
            continue;
        }
        if (m->exit_request) {
            park_all_locked(m);
            m->quit = true;
            g_cond_broadcast(&m->cond);
            g_mutex_unlock(&m->lock);
            join_all(m);
            vireo_clock_pause(m->clock);
            g_mutex_lock(&m->lock);
            m->state = VIREO_MACHINE_STOPPED;
            g_cond_broadcast(&m->cond);
            g_mutex_unlock(&m->lock);
            emit(m, VIREO_MACHINE_STOPPED);
            return NULL;
        }
        g_cond_wait(&m->cond, &m->lock);
    }
    g_mutex_unlock(&m->lock);
    return NULL;
}

bool vireo_machine_start(VireoMachine *machine, GError **error)
{
    VireoMachine *m = machine;

    g_mutex_lock(&m->lock);
    if (m->state != VIREO_MACHINE_CREATED) {
        g_mutex_unlock(&m->lock);
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG, "The machine was already started");
        return false;
    }
    if (m->vcpus->len == 0) {
        g_mutex_unlock(&m->lock);
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG, "The machine has no vCPU");
        return false;
    }
    atomic_store(&m->stop_flag, m->start_paused);
    for (guint i = 0; i < m->vcpus->len; i++) {
        VcpuSlot *slot = g_ptr_array_index(m->vcpus, i);
        char name[16];
        g_snprintf(name, sizeof name, "vcpu%u", i);
        slot->thread = g_thread_new(name, vcpu_thread, slot);
    }
    m->supervisor = g_thread_new("vireo-machine", supervisor_thread, m);
    if (m->start_paused) {
        /* The vCPU threads park before their first instruction. */
        m->host_pause = true;
        m->state = VIREO_MACHINE_PAUSED;
        while (m->n_parked < m->vcpus->len) {
            g_cond_wait(&m->cond, &m->lock);
        }
        g_mutex_unlock(&m->lock);
        pause_devices(m);
        emit(m, VIREO_MACHINE_PAUSED);
        return true;
    }
    m->state = VIREO_MACHINE_RUNNING;
    vireo_clock_resume(m->clock);
    g_mutex_unlock(&m->lock);
    emit(m, VIREO_MACHINE_RUNNING);
    return true;
}

void vireo_machine_pause(VireoMachine *machine)
{
    VireoMachine *m = machine;

    g_mutex_lock(&m->lock);
    if (m->state != VIREO_MACHINE_RUNNING || m->quit) {
        g_mutex_unlock(&m->lock);
        return;
    }
    m->host_pause = true;
    park_all_locked(m);
    vireo_clock_pause(m->clock);
    m->state = VIREO_MACHINE_PAUSED;
    g_mutex_unlock(&m->lock);
    pause_devices(m);
    emit(m, VIREO_MACHINE_PAUSED);
}

void vireo_machine_resume(VireoMachine *machine)
{
    VireoMachine *m = machine;

    g_mutex_lock(&m->lock);
    if (m->state != VIREO_MACHINE_PAUSED || m->quit) {
        g_mutex_unlock(&m->lock);
        return;
    }
    g_mutex_unlock(&m->lock);
    resume_devices(m);
    g_mutex_lock(&m->lock);
    if (m->state != VIREO_MACHINE_PAUSED || m->quit) {
        g_mutex_unlock(&m->lock);
        return;
    }
    m->host_pause = false;
    m->debug_request = false; /* a stop that came with the pause */
    m->state = VIREO_MACHINE_RUNNING;
    vireo_clock_resume(m->clock);
    if (!m->exit_request && !m->reset_request) {
        unpark_all_locked(m);
    }
    g_cond_broadcast(&m->cond);
    g_mutex_unlock(&m->lock);
    emit(m, VIREO_MACHINE_RUNNING);
}

VireoMachineState vireo_machine_state(VireoMachine *machine)
{
    VireoMachineState s;

    g_mutex_lock(&machine->lock);
    s = machine->state;
    g_mutex_unlock(&machine->lock);
    return s;
}

/* With the control lock held: whether the machine stands still (paused, or
 * not started), so its state can be written or replaced. */
static bool still_locked(VireoMachine *m, GError **error)
{
    bool still;

    g_mutex_lock(&m->lock);
    still = !m->quit && (m->state == VIREO_MACHINE_CREATED ||
                         (m->state == VIREO_MACHINE_PAUSED && m->n_parked == m->vcpus->len));
    g_mutex_unlock(&m->lock);
    if (!still) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "The machine must be paused for its state to be saved or loaded");
    }
    return still;
}

/* With the control lock held: a machine that was never started has devices
 * that were never paused (their back ends run, a loaded state's queues
 * would be looked at before its RAM is in place); they are paused for the
 * save or the load, and resume after it. Returns whether to resume them. */
static bool hold_devices_locked(VireoMachine *m)
{
    if (m->devices_paused) {
        return false;
    }
    vireo_bus_pause_devices(m->bus);
    return true;
}

static bool save_state(VireoMachine *machine, VireoSnapWriter *w, const uint64_t *dirty,
                       GError **error)
{
    bool ok = false;

    g_mutex_lock(&machine->control);
    if (still_locked(machine, error)) {
        bool held = hold_devices_locked(machine);
        ok = vireo_machine_state_write(machine, w, dirty, error);
        if (held) {
            vireo_bus_resume_devices(machine->bus);
        }
    }
    g_mutex_unlock(&machine->control);
    return ok;
}

bool vireo_machine_save_state(VireoMachine *machine, VireoSnapWriter *w, GError **error)
{
    return save_state(machine, w, NULL, error);
}

bool vireo_machine_save_state_dirty(VireoMachine *machine, VireoSnapWriter *w,
                                    const uint64_t *dirty, GError **error)
{
    g_return_val_if_fail(dirty != NULL, false);
    return save_state(machine, w, dirty, error);
}

bool vireo_machine_save_ram(VireoMachine *machine, VireoSnapWriter *w, const uint64_t *dirty,
                            VireoRamSaveStats *stats, GError **error)
{
    return vireo_machine_ram_write(machine, w, dirty, stats, error);
}

static bool load_state(VireoMachine *machine, const guint8 *stream, gsize len, VireoRamImage *image,
                       GError **error)
{
    bool ok = false;

    g_mutex_lock(&machine->control);
    if (still_locked(machine, error)) {
        bool held = hold_devices_locked(machine);
        ok = vireo_machine_state_read(machine, stream, len, image, error);
        if (held) {
            vireo_bus_resume_devices(machine->bus);
        }
    }
    g_mutex_unlock(&machine->control);
    return ok;
}

bool vireo_machine_load_state(VireoMachine *machine, const guint8 *stream, gsize len,
                              GError **error)
{
    return load_state(machine, stream, len, NULL, error);
}

bool vireo_machine_load_state_with_ram(VireoMachine *machine, const guint8 *stream, gsize len,
                                       VireoRamImage *image, GError **error)
{
    g_return_val_if_fail(image != NULL, false);
    return load_state(machine, stream, len, image, error);
}

/* Guest-side requests must not block: vCPU threads call them with the
 * machine running. They only record the request and wake the supervisor. */
/* With the lock held: raise one of the supervisor's requests and have
 * every vCPU stop at its next block boundary. */
static void request_locked(VireoMachine *m, bool *request)
{
    *request = true;
    atomic_store(&m->stop_flag, true);
    kick_all(m);
    g_cond_broadcast(&m->cond);
}

static void request_exit(VireoMachine *m, VireoExitReason reason, int code, const char *message)
{
    g_mutex_lock(&m->lock);
    if (m->exit_reason == VIREO_EXIT_NONE) {
        m->exit_reason = reason;
        m->exit_code = code;
        m->exit_message = g_strdup(message);
    }
    request_locked(m, &m->exit_request);
    g_mutex_unlock(&m->lock);
}

void vireo_machine_request_poweroff(VireoMachine *machine, int code)
{
    request_exit(machine, VIREO_EXIT_POWEROFF, code, NULL);
}

void vireo_machine_request_fault(VireoMachine *machine, const char *message)
{
    request_exit(machine, VIREO_EXIT_FAULT, -1, message);
}

void vireo_machine_request_debug_stop(VireoMachine *machine)
{
    VireoMachine *m = machine;

    g_mutex_lock(&m->lock);
    request_locked(m, &m->debug_request);
    g_mutex_unlock(&m->lock);
}

bool vireo_machine_reset_paused(VireoMachine *machine)
{
    VireoMachine *m = machine;

    g_mutex_lock(&m->lock);
    if (m->state != VIREO_MACHINE_PAUSED || m->quit) {
        g_mutex_unlock(&m->lock);
        return false;
    }
    g_mutex_unlock(&m->lock);
    /* Every vCPU is parked and stays so while host_pause is set. */
    reset_parked(m);
    return true;
}

void vireo_machine_request_reset(VireoMachine *machine)
{
    VireoMachine *m = machine;

    g_mutex_lock(&m->lock);
    request_locked(m, &m->reset_request);
    g_mutex_unlock(&m->lock);
}

VireoExitReason vireo_machine_exit_reason(VireoMachine *machine, int *code, const char **message)
{
    VireoExitReason r;

    g_mutex_lock(&machine->lock);
    r = machine->state == VIREO_MACHINE_STOPPED ? machine->exit_reason : VIREO_EXIT_NONE;
    if (code != NULL) {
        *code = machine->exit_code;
    }
    if (message != NULL) {
        *message = machine->exit_message;
    }
    g_mutex_unlock(&machine->lock);
    return r;
}

VireoExitReason vireo_machine_wait(VireoMachine *machine, int *code, const char **message)
{
    g_mutex_lock(&machine->lock);
    while (machine->state != VIREO_MACHINE_STOPPED && machine->state != VIREO_MACHINE_CREATED) {
        g_cond_wait(&machine->cond, &machine->lock);
    }
    g_mutex_unlock(&machine->lock);
    return vireo_machine_exit_reason(machine, code, message);
}

bool vireo_machine_vcpu_should_stop(VireoMachine *machine)
{
    return atomic_load_explicit(&machine->stop_flag, memory_order_relaxed);
}

void vireo_machine_get_stats(VireoMachine *machine, int index, VireoVcpuStats *stats)
{
    memset(stats, 0, sizeof *stats);
    for (guint i = 0; i < machine->vcpus->len; i++) {
        VcpuSlot *slot = g_ptr_array_index(machine->vcpus, i);
        if (index >= 0 && (guint)index != i) {
            continue;
        }
        VireoVcpuStats one;
        slot->ops->get_stats(slot->vcpu, &one);
        vireo_vcpu_stats_add(stats, &one);
    }
}

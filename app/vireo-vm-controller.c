/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "vireo-vm-controller"

#include "config.h"

#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <stdatomic.h>
#include <string.h>

#include "vireo-vm-controller.h"

#include "engine/error.h"
#include "vireo-vm-machine.h"

#define CONSOLE_RING_SIZE   (256 * 1024)
#define CONSOLE_HISTORY_MAX (1024 * 1024)
#define CONSOLE_CHUNK       (64 * 1024) /* read per main-loop dispatch */
#define INPUT_RETRY_MS      10
#define INPUT_PENDING_MAX   (1024 * 1024)

/*
 * What a machine's event callback reaches: the controller through a weak
 * reference and the main context to post to. Shared (reference-counted) by
 * the controller and every machine it built, so it outlives both.
 */
typedef struct {
    GWeakRef controller;
    GMainContext *context;
} EventSink;

/*
 * Whether the guest's display is on: a presenter of the machine's display
 * output that looks only at each frame's size (the device publishes a frame
 * when the guest sets or clears its mode). It belongs to the machine, which
 * frees it (a cleanup, before the board and its display go).
 */
typedef struct {
    VireoScanout *scanout;
    int presenter;
    atomic_bool on;
    EventSink *sink;
} DisplayWatch;

struct _VireoVmController {
    GObject parent_instance;

    VireoVmConfig *config;
    GMainContext *context;
    EventSink *sink;

    VireoVmState state;
    gboolean busy;
    char *last_error;

    /* The current or last machine, kept after it stops so that its counters
     * stay readable; freed on a worker thread before the next start. */
    VireoMachine *machine;
    VireoBoard *board;
    gboolean exit_reported;
    VireoScanout *scanout;       /* the machine's display, while it is kept */
    DisplayWatch *display_watch; /* the machine's, while it is kept */
    gboolean display_active;

    VireoRing *ring;
    guint console_source;
    guint console_idle;
    GByteArray *history;
    GByteArray *pending_input;
    guint input_source;
};

G_DEFINE_FINAL_TYPE(VireoVmController, vireo_vm_controller, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE(VireoVmState, vireo_vm_state,
                   G_DEFINE_ENUM_VALUE(VIREO_VM_STATE_STOPPED, "stopped"),
                   G_DEFINE_ENUM_VALUE(VIREO_VM_STATE_RUNNING, "running"),
                   G_DEFINE_ENUM_VALUE(VIREO_VM_STATE_PAUSED, "paused"))

enum {
    PROP_0,
    PROP_CONFIG,
    PROP_STATE,
    PROP_BUSY,
    PROP_LAST_ERROR,
    PROP_SCANOUT,
    PROP_DISPLAY_ACTIVE,
    N_PROPS,
};

enum {
    STATE_CHANGED,
    SIG_ERROR,
    CONSOLE_OUTPUT,
    N_SIGNALS,
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* ---- Event sink --------------------------------------------------------- */

static void event_sink_clear(gpointer data)
{
    EventSink *sink = data;

    g_weak_ref_clear(&sink->controller);
    g_main_context_unref(sink->context);
}

static EventSink *event_sink_new(VireoVmController *self)
{
    EventSink *sink = g_atomic_rc_box_new0(EventSink);

    g_weak_ref_init(&sink->controller, self);
    sink->context = g_main_context_ref(self->context);
    return sink;
}

static void event_sink_unref(EventSink *sink)
{
    g_atomic_rc_box_release_full(sink, event_sink_clear);
}

static void sync_state(VireoVmController *self);
static void sync_display(VireoVmController *self);

static gboolean deliver_event(gpointer data)
{
    EventSink *sink = data;
    g_autoptr(VireoVmController) self = g_weak_ref_get(&sink->controller);

    /* The event only says that something changed: the controller reads the
     * current machine's state, so late or stale events are harmless. */
    if (self != NULL) {
        sync_state(self);
        sync_display(self);
    }
    return G_SOURCE_REMOVE;
}

/* From any thread: the controller looks again, on its main context. */
static void post_event(EventSink *sink)
{
    GSource *source = g_idle_source_new();

    g_source_set_priority(source, G_PRIORITY_DEFAULT);
    g_source_set_callback(source, deliver_event, g_atomic_rc_box_acquire(sink),
                          (GDestroyNotify)event_sink_unref);
    g_source_set_static_name(source, "[vireo] machine event");
    g_source_attach(source, sink->context);
    g_source_unref(source);
}

/* On a machine thread (or whichever thread drove the change). */
static void on_machine_event(VireoMachine *machine, VireoMachineState state, void *user_data)
{
    post_event(user_data);
}

/* ---- The guest's display ------------------------------------------------ */

/* On the display device's thread. */
static void display_watch_notify(void *opaque)
{
    DisplayWatch *w = opaque;
    VireoScanoutFrame frame;
    bool on;

    if (!vireo_scanout_acquire(w->scanout, w->presenter, &frame)) {
        return;
    }
    on = frame.width > 0 && frame.height > 0;
    vireo_scanout_release(w->scanout, w->presenter);
    if (atomic_exchange(&w->on, on) != on) {
        post_event(w->sink);
    }
}

static void display_watch_free(void *data)
{
    DisplayWatch *w = data;

    if (w->presenter >= 0) {
        vireo_scanout_detach(w->scanout, w->presenter);
    }
    event_sink_unref(w->sink);
    g_free(w);
}

/* ---- Machines on worker threads ----------------------------------------- */

/* Everything a machine needs until it is freed. */
typedef struct {
    VireoMachine *machine;
    VireoRing *ring; /* freed after the machine when set */
    EventSink *sink;
} Teardown;

static void teardown_run(Teardown *t)
{
    vireo_machine_free(t->machine);
    if (t->ring != NULL) {
        vireo_ring_free(t->ring);
    }
    if (t->sink != NULL) {
        event_sink_unref(t->sink);
    }
    g_free(t);
}

static gpointer teardown_thread(gpointer data)
{
    teardown_run(data);
    return NULL;
}

typedef struct {
    VireoVmConfig *config;
    VireoRing *ring;
    EventSink *sink;
    VireoMachine *old_machine;
    VireoMachine *machine;
    VireoBoard *board;
    DisplayWatch *display_watch;
} StartData;

static void start_data_free(gpointer data)
{
    StartData *d = data;

    g_clear_object(&d->config);
    if (d->sink != NULL) {
        event_sink_unref(d->sink);
    }
    if (d->machine != NULL) {
        vireo_machine_free(d->machine);
    }
    g_free(d);
}

/* Before the machine starts, so that no change of the display escapes
 * the watch. */
static void prepare_machine(VireoMachine *machine, VireoBoard *board, void *data)
{
    StartData *d = data;
    VireoScanout *scanout = vireo_board_get_scanout(board);
    DisplayWatch *w;

    if (scanout == NULL) {
        return;
    }
    w = g_new0(DisplayWatch, 1);
    w->scanout = scanout;
    w->sink = g_atomic_rc_box_acquire(d->sink);
    /* Nothing publishes before the machine starts. */
    w->presenter = vireo_scanout_attach(scanout, display_watch_notify, w);
    vireo_machine_add_cleanup(machine, display_watch_free, w);
    d->display_watch = w;
}

static void start_thread(GTask *task, gpointer source, gpointer task_data,
                         GCancellable *cancellable)
{
    StartData *d = task_data;
    GError *error = NULL;
    /* The sink outlives every machine: the controller releases its
     * reference only after freeing the last one. */
    const VireoVmMachineHost host = {
        .console = d->ring,
        .event = on_machine_event,
        .event_data = d->sink,
        .prepare = prepare_machine,
        .prepare_data = d,
    };

    if (d->old_machine != NULL) {
        vireo_machine_free(d->old_machine);
        d->old_machine = NULL;
    }
    d->machine = vireo_vm_machine_start(d->config, &host, &d->board, &error);
    if (d->machine == NULL) {
        d->display_watch = NULL; /* freed with the machine */
        g_task_return_error(task, error);
        return;
    }
    g_task_return_boolean(task, TRUE);
}

static void machine_thread_pause(GTask *task, gpointer source, gpointer task_data,
                                 GCancellable *cancellable)
{
    vireo_machine_pause(task_data);
    g_task_return_boolean(task, TRUE);
}

static void machine_thread_stop(GTask *task, gpointer source, gpointer task_data,
                                GCancellable *cancellable)
{
    vireo_machine_stop(task_data);
    g_task_return_boolean(task, TRUE);
}

/* ---- Display and input -------------------------------------------------- */

/* The display device's output on `board`, or NULL. */
static VireoScanout *board_scanout(VireoBoard *board)
{
    return board != NULL ? vireo_board_get_scanout(board) : NULL;
}

static void set_scanout(VireoVmController *self, VireoScanout *scanout)
{
    if (self->scanout != scanout) {
        self->scanout = scanout;
        g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_SCANOUT]);
    }
}

static void sync_display(VireoVmController *self)
{
    gboolean active = self->state != VIREO_VM_STATE_STOPPED && self->scanout != NULL &&
                      self->display_watch != NULL && atomic_load(&self->display_watch->on);

    if (active != self->display_active) {
        self->display_active = active;
        g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_DISPLAY_ACTIVE]);
    }
}

/* The board's keyboard and tablet while the machine can take input. */
static const VireoVirtioInputPair *input_pair(void *opaque)
{
    VireoVmController *self = opaque;

    if (self->board == NULL || self->state == VIREO_VM_STATE_STOPPED) {
        return NULL;
    }
    return vireo_board_get_input(self->board);
}

static void input_key(void *opaque, unsigned code, bool pressed)
{
    const VireoVirtioInputPair *pair = input_pair(opaque);

    if (pair != NULL) {
        vireo_virtio_input_pair_get_ops()->key((void *)pair, code, pressed);
    }
}

static void input_pointer_motion(void *opaque, int x, int y, int width, int height)
{
    const VireoVirtioInputPair *pair = input_pair(opaque);

    if (pair != NULL) {
        vireo_virtio_input_pair_get_ops()->pointer_motion((void *)pair, x, y, width, height);
    }
}

static void input_pointer_button(void *opaque, unsigned button, bool pressed)
{
    const VireoVirtioInputPair *pair = input_pair(opaque);

    if (pair != NULL) {
        vireo_virtio_input_pair_get_ops()->pointer_button((void *)pair, button, pressed);
    }
}

static void input_wheel(void *opaque, int dx, int dy)
{
    const VireoVirtioInputPair *pair = input_pair(opaque);

    if (pair != NULL) {
        vireo_virtio_input_pair_get_ops()->wheel((void *)pair, dx, dy);
    }
}

static const VireoInputOps controller_input_ops = {
    .key = input_key,
    .pointer_motion = input_pointer_motion,
    .pointer_button = input_pointer_button,
    .wheel = input_wheel,
};

/* ---- State -------------------------------------------------------------- */

static void set_busy(VireoVmController *self, gboolean busy)
{
    if (self->busy != busy) {
        self->busy = busy;
        g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_BUSY]);
    }
}

static void report_error(VireoVmController *self, const char *message)
{
    g_free(self->last_error);
    self->last_error = g_strdup(message);
    g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_LAST_ERROR]);
    g_signal_emit(self, signals[SIG_ERROR], 0, message);
}

static void sync_state(VireoVmController *self)
{
    VireoVmState state = VIREO_VM_STATE_STOPPED;

    if (self->busy) {
        return; /* the operation under way syncs when it completes */
    }
    if (self->machine != NULL) {
        switch (vireo_machine_state(self->machine)) {
        case VIREO_MACHINE_RUNNING: state = VIREO_VM_STATE_RUNNING; break;
        case VIREO_MACHINE_PAUSED: state = VIREO_VM_STATE_PAUSED; break;
        case VIREO_MACHINE_CREATED:
        case VIREO_MACHINE_STOPPED:
        default: state = VIREO_VM_STATE_STOPPED; break;
        }
    }
    if (state != self->state) {
        self->state = state;
        sync_display(self);
        g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_STATE]);
        g_signal_emit(self, signals[STATE_CHANGED], 0, state);
    }
    if (state == VIREO_VM_STATE_STOPPED && self->machine != NULL && !self->exit_reported) {
        const char *message = NULL;
        int code = 0;
        VireoExitReason reason = vireo_machine_exit_reason(self->machine, &code, &message);

        if (reason != VIREO_EXIT_NONE) {
            self->exit_reported = TRUE;
        }
        if (reason == VIREO_EXIT_FAULT) {
            g_autofree char *text = g_strdup_printf(_("The virtual machine stopped: %s"),
                                                    message != NULL ? message : _("unknown fault"));
            report_error(self, text);
        }
    }
}

/* ---- Console ------------------------------------------------------------ */

static void history_append(VireoVmController *self, const guint8 *data, gsize len)
{
    g_byte_array_append(self->history, data, (guint)len);
    if (self->history->len > CONSOLE_HISTORY_MAX) {
        g_byte_array_remove_range(self->history, 0, self->history->len - CONSOLE_HISTORY_MAX / 2);
    }
}

static gboolean drain_console(gpointer data);

/* Reads what the ring holds, a bounded amount per dispatch so that a guest
 * flooding its console cannot starve the main loop; then re-arms the ring's
 * wake-up. */
static gboolean drain_console(gpointer data)
{
    VireoVmController *self = data;
    gsize total = 0;
    guint8 buf[8192];

    self->console_idle = 0;
    for (;;) {
        gsize n = vireo_ring_read(self->ring, buf, sizeof buf);
        if (n > 0) {
            g_autoptr(GBytes) bytes = g_bytes_new(buf, n);
            history_append(self, buf, n);
            g_signal_emit(self, signals[CONSOLE_OUTPUT], 0, bytes);
            total += n;
            if (total >= CONSOLE_CHUNK) {
                self->console_idle =
                    g_idle_add_full(G_PRIORITY_DEFAULT_IDLE, drain_console, self, NULL);
                return G_SOURCE_REMOVE;
            }
            continue;
        }
        if (!vireo_ring_arm(self->ring)) {
            break; /* empty and armed: the fd wakes us at the next write */
        }
    }
    return G_SOURCE_REMOVE;
}

static gboolean on_console_fd(int fd, GIOCondition condition, gpointer data)
{
    VireoVmController *self = data;

    if (self->console_idle == 0) {
        drain_console(self);
    }
    return G_SOURCE_CONTINUE;
}

static void feed_input(VireoVmController *self)
{
    gsize n;

    if (self->board == NULL || self->state != VIREO_VM_STATE_RUNNING) {
        return;
    }
    n = vireo_board_console_receive(self->board, self->pending_input->data,
                                    self->pending_input->len);
    g_byte_array_remove_range(self->pending_input, 0, (guint)n);
}

static gboolean retry_input(gpointer data)
{
    VireoVmController *self = data;

    if (self->machine == NULL || self->state == VIREO_VM_STATE_STOPPED) {
        g_byte_array_set_size(self->pending_input, 0);
    }
    feed_input(self);
    if (self->pending_input->len == 0) {
        self->input_source = 0;
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

/* ---- GObject ------------------------------------------------------------ */

static void vireo_vm_controller_dispose(GObject *object)
{
    VireoVmController *self = VIREO_VM_CONTROLLER(object);

    g_clear_handle_id(&self->console_source, g_source_remove);
    g_clear_handle_id(&self->console_idle, g_source_remove);
    g_clear_handle_id(&self->input_source, g_source_remove);

    /* Views let go of the display before its machine goes. */
    set_scanout(self, NULL);
    self->display_watch = NULL;
    if (self->ring != NULL) {
        Teardown *t = g_new0(Teardown, 1);
        t->machine = g_steal_pointer(&self->machine);
        t->ring = g_steal_pointer(&self->ring);
        t->sink = g_steal_pointer(&self->sink);
        self->board = NULL;
        if (t->machine != NULL && vireo_machine_state(t->machine) != VIREO_MACHINE_STOPPED) {
            /* Stopping waits for the vCPU threads: not on this thread. */
            g_thread_unref(g_thread_new("vireo-teardown", teardown_thread, t));
        } else {
            teardown_run(t);
        }
    }
    G_OBJECT_CLASS(vireo_vm_controller_parent_class)->dispose(object);
}

static void vireo_vm_controller_finalize(GObject *object)
{
    VireoVmController *self = VIREO_VM_CONTROLLER(object);

    g_clear_object(&self->config);
    g_clear_pointer(&self->context, g_main_context_unref);
    g_clear_pointer(&self->last_error, g_free);
    g_clear_pointer(&self->history, g_byte_array_unref);
    g_clear_pointer(&self->pending_input, g_byte_array_unref);
    G_OBJECT_CLASS(vireo_vm_controller_parent_class)->finalize(object);
}

static void vireo_vm_controller_get_property(GObject *object, guint prop_id, GValue *value,
                                             GParamSpec *pspec)
{
    VireoVmController *self = VIREO_VM_CONTROLLER(object);

    switch (prop_id) {
    case PROP_CONFIG: g_value_set_object(value, self->config); break;
    case PROP_STATE: g_value_set_enum(value, self->state); break;
    case PROP_BUSY: g_value_set_boolean(value, self->busy); break;
    case PROP_LAST_ERROR: g_value_set_string(value, self->last_error); break;
    case PROP_SCANOUT: g_value_set_pointer(value, self->scanout); break;
    case PROP_DISPLAY_ACTIVE: g_value_set_boolean(value, self->display_active); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void vireo_vm_controller_set_property(GObject *object, guint prop_id, const GValue *value,
                                             GParamSpec *pspec)
{
    VireoVmController *self = VIREO_VM_CONTROLLER(object);

    switch (prop_id) {
    case PROP_CONFIG: vireo_vm_controller_set_config(self, g_value_get_object(value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    }
}

static void vireo_vm_controller_class_init(VireoVmControllerClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->dispose = vireo_vm_controller_dispose;
    object_class->finalize = vireo_vm_controller_finalize;
    object_class->get_property = vireo_vm_controller_get_property;
    object_class->set_property = vireo_vm_controller_set_property;

    properties[PROP_CONFIG] =
        g_param_spec_object("config", NULL, NULL, VIREO_TYPE_VM_CONFIG,
                            G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    properties[PROP_STATE] =
        g_param_spec_enum("state", NULL, NULL, VIREO_TYPE_VM_STATE, VIREO_VM_STATE_STOPPED,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    properties[PROP_BUSY] =
        g_param_spec_boolean("busy", NULL, NULL, FALSE,
                             G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    properties[PROP_LAST_ERROR] =
        g_param_spec_string("last-error", NULL, NULL, NULL,
                            G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    /* The VireoScanout of the machine's display, or NULL. */
    properties[PROP_SCANOUT] = g_param_spec_pointer(
        "scanout", NULL, NULL, G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    /* Whether the guest has its display on: a mode set on the display's
     * output. FALSE without a display, until the guest sets one, and while
     * the machine is stopped. */
    properties[PROP_DISPLAY_ACTIVE] =
        g_param_spec_boolean("display-active", NULL, NULL, FALSE,
                             G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(object_class, N_PROPS, properties);

    /* The new state, after the "state" property changed. */
    signals[STATE_CHANGED] =
        g_signal_new("state-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 1, VIREO_TYPE_VM_STATE);
    /* A message for the user: the machine could not start or stopped on a
     * fault. */
    signals[SIG_ERROR] = g_signal_new("error", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                      NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
    /* Bytes the guest wrote to its serial console. */
    signals[CONSOLE_OUTPUT] =
        g_signal_new("console-output", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 1, G_TYPE_BYTES);
}

static void vireo_vm_controller_init(VireoVmController *self)
{
    self->context = g_main_context_ref_thread_default();
    self->sink = event_sink_new(self);
    self->state = VIREO_VM_STATE_STOPPED;
    self->history = g_byte_array_new();
    self->pending_input = g_byte_array_new();
    self->ring = vireo_ring_new(CONSOLE_RING_SIZE);
    vireo_ring_arm(self->ring);
    self->console_source =
        g_unix_fd_add(vireo_ring_get_fd(self->ring), G_IO_IN, on_console_fd, self);
}

/* ---- Public API --------------------------------------------------------- */

VireoVmController *vireo_vm_controller_new(VireoVmConfig *config)
{
    g_return_val_if_fail(VIREO_IS_VM_CONFIG(config), NULL);
    return g_object_new(VIREO_TYPE_VM_CONTROLLER, "config", config, NULL);
}

VireoVmConfig *vireo_vm_controller_get_config(VireoVmController *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONTROLLER(self), NULL);
    return self->config;
}

void vireo_vm_controller_set_config(VireoVmController *self, VireoVmConfig *config)
{
    g_return_if_fail(VIREO_IS_VM_CONTROLLER(self));
    g_return_if_fail(config == NULL || VIREO_IS_VM_CONFIG(config));

    if (g_set_object(&self->config, config)) {
        g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_CONFIG]);
    }
}

VireoVmState vireo_vm_controller_get_state(VireoVmController *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONTROLLER(self), VIREO_VM_STATE_STOPPED);
    return self->state;
}

gboolean vireo_vm_controller_get_busy(VireoVmController *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONTROLLER(self), FALSE);
    return self->busy;
}

const char *vireo_vm_controller_get_last_error(VireoVmController *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONTROLLER(self), NULL);
    return self->last_error;
}

static void start_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    VireoVmController *self = VIREO_VM_CONTROLLER(source);
    StartData *d = g_task_get_task_data(G_TASK(result));
    g_autoptr(GError) error = NULL;

    set_busy(self, FALSE);
    if (!g_task_propagate_boolean(G_TASK(result), &error)) {
        sync_state(self);
        report_error(self, error->message);
        return;
    }
    self->machine = g_steal_pointer(&d->machine);
    self->board = d->board;
    self->display_watch = d->display_watch;
    self->exit_reported = FALSE;
    /* The display first, so that views showing the new state find it. */
    set_scanout(self, board_scanout(self->board));
    sync_state(self);
    sync_display(self);
}

void vireo_vm_controller_start(VireoVmController *self)
{
    g_autoptr(GTask) task = NULL;
    StartData *d;

    g_return_if_fail(VIREO_IS_VM_CONTROLLER(self));

    if (self->busy || self->state != VIREO_VM_STATE_STOPPED) {
        return;
    }
    if (self->config == NULL) {
        report_error(self, _("The virtual machine has no configuration"));
        return;
    }
    g_clear_pointer(&self->last_error, g_free);
    g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_LAST_ERROR]);

    d = g_new0(StartData, 1);
    d->config = vireo_vm_config_copy(self->config);
    d->ring = self->ring;
    d->sink = g_atomic_rc_box_acquire(self->sink);
    /* The stopped machine goes: freed on the worker before the new one is
     * built, so its memory is released first. Its display goes first. */
    set_scanout(self, NULL);
    self->display_watch = NULL;
    sync_display(self);
    d->old_machine = g_steal_pointer(&self->machine);
    self->board = NULL;

    set_busy(self, TRUE);
    task = g_task_new(self, NULL, start_done, NULL);
    g_task_set_source_tag(task, vireo_vm_controller_start);
    g_task_set_task_data(task, d, start_data_free);
    g_task_run_in_thread(task, start_thread);
}

static void operation_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    VireoVmController *self = VIREO_VM_CONTROLLER(source);

    g_task_propagate_boolean(G_TASK(result), NULL);
    set_busy(self, FALSE);
    sync_state(self);
}

static void run_operation(VireoVmController *self, GTaskThreadFunc func, gpointer tag)
{
    g_autoptr(GTask) task = g_task_new(self, NULL, operation_done, NULL);

    set_busy(self, TRUE);
    g_task_set_source_tag(task, tag);
    g_task_set_task_data(task, self->machine, NULL);
    g_task_run_in_thread(task, func);
}

void vireo_vm_controller_pause(VireoVmController *self)
{
    g_return_if_fail(VIREO_IS_VM_CONTROLLER(self));

    if (self->busy || self->machine == NULL || self->state != VIREO_VM_STATE_RUNNING) {
        return;
    }
    run_operation(self, machine_thread_pause, vireo_vm_controller_pause);
}

void vireo_vm_controller_resume(VireoVmController *self)
{
    g_return_if_fail(VIREO_IS_VM_CONTROLLER(self));

    if (self->busy || self->machine == NULL || self->state != VIREO_VM_STATE_PAUSED) {
        return;
    }
    /* Resuming only wakes the vCPUs; it does not wait for them. */
    vireo_machine_resume(self->machine);
}

void vireo_vm_controller_reset(VireoVmController *self)
{
    g_return_if_fail(VIREO_IS_VM_CONTROLLER(self));

    if (self->busy || self->machine == NULL || self->state == VIREO_VM_STATE_STOPPED) {
        return;
    }
    vireo_machine_request_reset(self->machine);
}

void vireo_vm_controller_power_off(VireoVmController *self)
{
    g_return_if_fail(VIREO_IS_VM_CONTROLLER(self));

    if (self->busy || self->machine == NULL || self->state == VIREO_VM_STATE_STOPPED) {
        return;
    }
    run_operation(self, machine_thread_stop, vireo_vm_controller_power_off);
}

GBytes *vireo_vm_controller_get_console_history(VireoVmController *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONTROLLER(self), NULL);
    return g_bytes_new(self->history->data, self->history->len);
}

void vireo_vm_controller_send_input(VireoVmController *self, const guint8 *data, gsize len)
{
    g_return_if_fail(VIREO_IS_VM_CONTROLLER(self));
    g_return_if_fail(data != NULL || len == 0);

    if (self->board == NULL || self->state != VIREO_VM_STATE_RUNNING) {
        return; /* nobody to type to */
    }
    if (self->pending_input->len + len > INPUT_PENDING_MAX) {
        return;
    }
    g_byte_array_append(self->pending_input, data, (guint)len);
    feed_input(self);
    if (self->pending_input->len > 0 && self->input_source == 0) {
        self->input_source = g_timeout_add(INPUT_RETRY_MS, retry_input, self);
    }
}

VireoScanout *vireo_vm_controller_get_scanout(VireoVmController *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONTROLLER(self), NULL);
    return self->scanout;
}

gboolean vireo_vm_controller_get_display_active(VireoVmController *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONTROLLER(self), FALSE);
    return self->display_active;
}

gboolean vireo_vm_controller_has_display(VireoVmController *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONTROLLER(self), FALSE);
    return self->config != NULL && vireo_vm_config_get_display(self->config) != VIREO_DISPLAY_NONE;
}

const VireoInputOps *vireo_vm_controller_get_input_ops(void)
{
    return &controller_input_ops;
}

guint vireo_vm_controller_get_n_vcpus(VireoVmController *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONTROLLER(self), 0);
    return self->machine != NULL ? vireo_machine_n_vcpus(self->machine) : 0;
}

gboolean vireo_vm_controller_get_stats(VireoVmController *self, int index, VireoVcpuStats *stats)
{
    g_return_val_if_fail(VIREO_IS_VM_CONTROLLER(self), FALSE);
    g_return_val_if_fail(stats != NULL, FALSE);

    if (self->machine == NULL) {
        memset(stats, 0, sizeof *stats);
        return FALSE;
    }
    vireo_machine_get_stats(self->machine, index, stats);
    return TRUE;
}

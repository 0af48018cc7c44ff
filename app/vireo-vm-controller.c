/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "vireo-vm-controller"

#include "config.h"

#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <glib/gi18n.h>
#include <stdatomic.h>
#include <string.h>

#include "vireo-vm-controller.h"

#include "devices/snapshot.h"
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

/*
 * How far a snapshot's save or load is, passed from the worker to the main
 * thread: the worker stores the newest fraction and posts an idle source
 * only when none is pending, so a fast stream of reports costs one
 * dispatch per main-loop iteration.
 */
typedef struct {
    EventSink *sink;
    atomic_uint permille;
    atomic_bool posted;
} SnapshotProgress;

/* What a listing found, on a worker, for the main thread. */
typedef struct {
    GPtrArray *snapshots; /* VireoVmSnapshot; NULL when the listing failed */
    char *error;
    gboolean raw_disk; /* a writable disk is a raw image */
} SnapshotListing;

struct _VireoVmController {
    GObject parent_instance;

    VireoVmConfig *config;
    VireoMigration *migration; /* the machine's, with [debug] qmp; it lives as long */
    gboolean migrated;         /* as last told: the machine runs elsewhere now */
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

    /* Snapshots */
    char *machine_snapshot_reason; /* the machine's, when it cannot take one */
    gboolean can_snapshot;
    char *snapshot_reason; /* why a snapshot cannot be taken */
    GListStore *snapshots;
    gboolean snapshots_listed;
    char *snapshots_error;
    gboolean has_raw_disk;
    VireoSnapshotOp snapshot_op;
    double snapshot_progress;
    SnapshotProgress *progress; /* the running operation's */
    gboolean refresh_pending;

    VireoRing *ring;
    guint console_source;
    guint console_idle;
    GByteArray *history;
    GByteArray *pending_input;
    guint input_source;
};

G_DEFINE_FINAL_TYPE(VireoVmController, vireo_vm_controller, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE(VireoSnapshotOp, vireo_snapshot_op,
                   G_DEFINE_ENUM_VALUE(VIREO_SNAPSHOT_OP_NONE, "none"),
                   G_DEFINE_ENUM_VALUE(VIREO_SNAPSHOT_OP_TAKE, "take"),
                   G_DEFINE_ENUM_VALUE(VIREO_SNAPSHOT_OP_RESTORE, "restore"),
                   G_DEFINE_ENUM_VALUE(VIREO_SNAPSHOT_OP_DELETE, "delete"),
                   G_DEFINE_ENUM_VALUE(VIREO_SNAPSHOT_OP_LIST, "list"),
                   G_DEFINE_ENUM_VALUE(VIREO_SNAPSHOT_OP_CONVERT, "convert"))

/* ---- A snapshot ----------------------------------------------------------- */

struct _VireoVmSnapshot {
    GObject parent_instance;

    char *id;
    char *name;
    GDateTime *date;
    guint64 vm_clock_ns;
    guint64 state_size;
    GBytes *thumbnail;
};

G_DEFINE_FINAL_TYPE(VireoVmSnapshot, vireo_vm_snapshot, G_TYPE_OBJECT)

static void vireo_vm_snapshot_finalize(GObject *object)
{
    VireoVmSnapshot *self = VIREO_VM_SNAPSHOT(object);

    g_free(self->id);
    g_free(self->name);
    g_clear_pointer(&self->date, g_date_time_unref);
    g_clear_pointer(&self->thumbnail, g_bytes_unref);
    G_OBJECT_CLASS(vireo_vm_snapshot_parent_class)->finalize(object);
}

static void vireo_vm_snapshot_class_init(VireoVmSnapshotClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = vireo_vm_snapshot_finalize;
}

static void vireo_vm_snapshot_init(VireoVmSnapshot *self)
{
}

/* On a worker: `info` as listed, with its thumbnail (taken). */
static VireoVmSnapshot *vireo_vm_snapshot_new(const VireoBlockSnapshot *info, GBytes *thumbnail)
{
    VireoVmSnapshot *self = g_object_new(VIREO_TYPE_VM_SNAPSHOT, NULL);
    g_autoptr(GDateTime) seconds = g_date_time_new_from_unix_utc((gint64)info->date_sec);

    self->id = g_strdup(info->id);
    self->name = g_strdup(info->name);
    if (seconds != NULL) {
        self->date = g_date_time_add(seconds, (GTimeSpan)(info->date_nsec / 1000));
    }
    if (self->date == NULL) {
        self->date = g_date_time_new_from_unix_utc(0); /* a date out of range */
    }
    self->vm_clock_ns = info->vm_clock_ns;
    self->state_size = info->vm_state_size;
    self->thumbnail = thumbnail;
    return self;
}

const char *vireo_vm_snapshot_get_name(VireoVmSnapshot *self)
{
    g_return_val_if_fail(VIREO_IS_VM_SNAPSHOT(self), NULL);
    return self->name;
}

const char *vireo_vm_snapshot_get_id(VireoVmSnapshot *self)
{
    g_return_val_if_fail(VIREO_IS_VM_SNAPSHOT(self), NULL);
    return self->id;
}

GDateTime *vireo_vm_snapshot_get_date(VireoVmSnapshot *self)
{
    g_return_val_if_fail(VIREO_IS_VM_SNAPSHOT(self), NULL);
    return self->date;
}

guint64 vireo_vm_snapshot_get_vm_clock_ns(VireoVmSnapshot *self)
{
    g_return_val_if_fail(VIREO_IS_VM_SNAPSHOT(self), 0);
    return self->vm_clock_ns;
}

guint64 vireo_vm_snapshot_get_state_size(VireoVmSnapshot *self)
{
    g_return_val_if_fail(VIREO_IS_VM_SNAPSHOT(self), 0);
    return self->state_size;
}

GBytes *vireo_vm_snapshot_get_thumbnail(VireoVmSnapshot *self)
{
    g_return_val_if_fail(VIREO_IS_VM_SNAPSHOT(self), NULL);
    return self->thumbnail;
}

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
    PROP_CAN_SNAPSHOT,
    PROP_SNAPSHOT_REASON,
    PROP_SNAPSHOTS_LISTED,
    PROP_SNAPSHOTS_ERROR,
    PROP_HAS_RAW_DISK,
    PROP_SNAPSHOT_OP,
    PROP_SNAPSHOT_PROGRESS,
    PROP_MIGRATED,
    N_PROPS,
};

enum {
    STATE_CHANGED,
    SIG_ERROR,
    CONSOLE_OUTPUT,
    SNAPSHOT_DONE,
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

static void sync_migrated(VireoVmController *self);

static gboolean deliver_event(gpointer data)
{
    EventSink *sink = data;
    g_autoptr(VireoVmController) self = g_weak_ref_get(&sink->controller);

    /* The event only says that something changed: the controller reads the
     * current machine's state, so late or stale events are harmless. */
    if (self != NULL) {
        sync_state(self);
        sync_display(self);
        sync_migrated(self);
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

/* On the migration's thread. */
static void on_migration_status(void *opaque, VireoMigrationStatus status)
{
    post_event(opaque);
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

/* ---- Snapshots on worker threads ---------------------------------------- */

static SnapshotProgress *snapshot_progress_new(EventSink *sink)
{
    SnapshotProgress *p = g_atomic_rc_box_new0(SnapshotProgress);

    p->sink = g_atomic_rc_box_acquire(sink);
    return p;
}

static void snapshot_progress_clear(gpointer data)
{
    SnapshotProgress *p = data;

    event_sink_unref(p->sink);
}

static void snapshot_progress_unref(gpointer data)
{
    g_atomic_rc_box_release_full(data, snapshot_progress_clear);
}

static void set_snapshot_progress(VireoVmController *self, double fraction);

static gboolean deliver_progress(gpointer data)
{
    SnapshotProgress *p = data;
    g_autoptr(VireoVmController) self = g_weak_ref_get(&p->sink->controller);

    atomic_store(&p->posted, false);
    /* A report of an operation that is over changes nothing. */
    if (self != NULL && self->progress == p) {
        set_snapshot_progress(self, atomic_load(&p->permille) / 1000.0);
    }
    return G_SOURCE_REMOVE;
}

/* A VireoSnapshotProgressFunc: on the worker. */
static void report_progress(double fraction, void *data)
{
    SnapshotProgress *p = data;
    GSource *source;

    if (!(fraction >= 0.0)) {
        fraction = 0.0; /* NaN too */
    }
    atomic_store(&p->permille, (unsigned)(MIN(fraction, 1.0) * 1000.0));
    if (atomic_exchange(&p->posted, true)) {
        return; /* the pending source reads the newest value */
    }
    source = g_idle_source_new();
    g_source_set_priority(source, G_PRIORITY_DEFAULT);
    g_source_set_callback(source, deliver_progress, g_atomic_rc_box_acquire(p),
                          snapshot_progress_unref);
    g_source_set_static_name(source, "[vireo] snapshot progress");
    g_source_attach(source, p->sink->context);
    g_source_unref(source);
}

static void snapshot_listing_clear(SnapshotListing *l)
{
    g_clear_pointer(&l->snapshots, g_ptr_array_unref);
    g_clear_pointer(&l->error, g_free);
}

/* The image that holds a stopped VM's snapshots: its first writable disk,
 * as vireo_snapshot_list() takes it from a machine. */
static const char *snapshot_disk(VireoVmConfig *config)
{
    guint n = config != NULL ? vireo_vm_config_get_n_disks(config) : 0;

    for (guint i = 0; i < n; i++) {
        if (!vireo_vm_config_get_disk_read_only(config, i)) {
            return vireo_vm_config_get_disk_path(config, i);
        }
    }
    return NULL;
}

/* How the machine reads disk `index` of `config`: its format, or what the
 * image is where the configuration does not say. */
static VireoBlockFormat disk_format(VireoVmConfig *config, guint index)
{
    VireoBlockFormat format = vireo_vm_config_get_disk_format(config, index);

    if (format == VIREO_BLOCK_FORMAT_AUTO) {
        format = vireo_vm_config_detect_format(vireo_vm_config_get_disk_path(config, index));
    }
    return format;
}

/* Whether a writable disk of `board`, else of `config`, is a raw image,
 * which keeps no snapshots. */
static gboolean has_raw_disk(VireoBoard *board, VireoVmConfig *config)
{
    VireoBlock *block;
    guint n = config != NULL ? vireo_vm_config_get_n_disks(config) : 0;

    if (board != NULL) {
        for (unsigned i = 0; (block = vireo_board_get_disk(board, i)) != NULL; i++) {
            if (!(vireo_block_get_flags(block) & VIREO_BLOCK_READ_ONLY) &&
                vireo_block_get_format(block) == VIREO_BLOCK_FORMAT_RAW) {
                return TRUE;
            }
        }
        return FALSE;
    }
    for (guint i = 0; i < n; i++) {
        if (!vireo_vm_config_get_disk_read_only(config, i) &&
            disk_format(config, i) == VIREO_BLOCK_FORMAT_RAW) {
            return TRUE;
        }
    }
    return FALSE;
}

/* On a worker: the snapshots of `board`, else of the first writable disk
 * image of `config`, with their thumbnails. A thumbnail that cannot be read
 * is left out. */
static void list_snapshots(SnapshotListing *out, VireoBoard *board, VireoVmConfig *config)
{
    const char *disk_path = board == NULL ? snapshot_disk(config) : NULL;
    g_autoptr(GPtrArray) list = NULL;
    g_autoptr(GError) error = NULL;

    snapshot_listing_clear(out);
    out->raw_disk = has_raw_disk(board, config);
    if (board != NULL) {
        list = vireo_snapshot_list(board, &error);
    } else if (disk_path != NULL) {
        list = vireo_snapshot_list_file(disk_path, &error);
    } else {
        out->error = g_strdup(_("Snapshots are kept in a writable disk image, and this virtual "
                                "machine has none"));
        return;
    }
    if (list == NULL) {
        out->error = g_strdup(error->message);
        return;
    }
    out->snapshots = g_ptr_array_new_with_free_func(g_object_unref);
    for (guint i = 0; i < list->len; i++) {
        const VireoBlockSnapshot *info = g_ptr_array_index(list, i);
        g_autoptr(GError) thumb_error = NULL;
        GBytes *thumbnail;

        if (board != NULL) {
            thumbnail = vireo_snapshot_thumbnail(board, info->id, &thumb_error);
        } else {
            thumbnail = vireo_snapshot_thumbnail_file(disk_path, info->id, &thumb_error);
        }
        if (thumb_error != NULL) {
            g_debug("snapshot “%s”: no thumbnail: %s", info->name, thumb_error->message);
        }
        g_ptr_array_add(out->snapshots, vireo_vm_snapshot_new(info, thumbnail));
    }
}

typedef struct {
    VireoSnapshotOp op;
    char *name; /* taken, or restored or deleted (for messages) */
    char *id;   /* restored or deleted */
    GBytes *thumbnail;
    VireoBoard *board;         /* the machine's, while it runs or is paused */
    VireoMachine *old_machine; /* a stopped machine, freed first */
    VireoVmConfig *config;     /* without a board: the VM, whose images are used */
    SnapshotProgress *progress;
    SnapshotListing listing;
} SnapshotData;

static void snapshot_data_free(gpointer data)
{
    SnapshotData *d = data;

    g_free(d->name);
    g_free(d->id);
    g_clear_pointer(&d->thumbnail, g_bytes_unref);
    g_assert(d->old_machine == NULL);
    g_clear_object(&d->config);
    if (d->progress != NULL) {
        snapshot_progress_unref(d->progress);
    }
    snapshot_listing_clear(&d->listing);
    g_free(d);
}

/* The id of the snapshot of `block` called `name`, or NULL (with `error`
 * set when the list cannot be read). */
static char *block_snapshot_id(VireoBlock *block, const char *name, GError **error)
{
    g_autoptr(GPtrArray) list = vireo_block_snapshot_list(block, error);

    for (guint i = 0; list != NULL && i < list->len; i++) {
        const VireoBlockSnapshot *info = g_ptr_array_index(list, i);
        if (g_strcmp0(info->name, name) == 0) {
            return g_strdup(info->id);
        }
    }
    return NULL;
}

/* On a worker, for a stopped VM, as vireo_snapshot_delete() does on a
 * machine: the snapshot goes from the first writable disk image, which
 * must have it (the id names it there), and from the other writable images
 * that have one of its name. */
static gboolean delete_stopped(SnapshotData *d, GError **error)
{
    guint n_disks = d->config != NULL ? vireo_vm_config_get_n_disks(d->config) : 0;
    gboolean first = TRUE;

    for (guint i = 0; i < n_disks; i++) {
        const char *path = vireo_vm_config_get_disk_path(d->config, i);
        g_autoptr(VireoBlock) block = NULL;
        g_autoptr(GError) cause = NULL;
        g_autofree char *id = NULL;

        if (vireo_vm_config_get_disk_read_only(d->config, i)) {
            continue;
        }
        block = vireo_block_open_format(path, disk_format(d->config, i), false, error);
        if (block == NULL) {
            return FALSE;
        }
        if (first) {
            first = FALSE;
            if (!vireo_block_snapshot_delete(block, d->id, error)) {
                return FALSE;
            }
            continue;
        }
        if (!vireo_block_supports_snapshots(block)) {
            continue;
        }
        id = block_snapshot_id(block, d->name, &cause);
        if (cause != NULL) {
            g_propagate_error(error, g_steal_pointer(&cause));
            return FALSE;
        }
        if (id != NULL && !vireo_block_snapshot_delete(block, id, error)) {
            return FALSE;
        }
    }
    if (first) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    _("The virtual machine has no writable disk"));
        return FALSE;
    }
    return TRUE;
}

static void snapshot_thread(GTask *task, gpointer source, gpointer task_data,
                            GCancellable *cancellable)
{
    SnapshotData *d = task_data;
    GError *error = NULL;
    gboolean ok = TRUE;

    /* A stopped machine holds its disks locked: it goes, and the images are
     * read on their own. */
    if (d->old_machine != NULL) {
        vireo_machine_free(d->old_machine);
        d->old_machine = NULL;
    }
    switch (d->op) {
    case VIREO_SNAPSHOT_OP_TAKE:
        ok = vireo_snapshot_save(d->board, d->name, d->thumbnail, report_progress, d->progress,
                                 &error);
        break;
    case VIREO_SNAPSHOT_OP_RESTORE:
        ok = vireo_snapshot_load(d->board, d->id, report_progress, d->progress, &error);
        break;
    case VIREO_SNAPSHOT_OP_DELETE:
        ok = d->board != NULL ? vireo_snapshot_delete(d->board, d->id, &error)
                              : delete_stopped(d, &error);
        break;
    case VIREO_SNAPSHOT_OP_LIST:
    case VIREO_SNAPSHOT_OP_NONE:
    default: break;
    }
    list_snapshots(&d->listing, d->board, d->config);
    if (!ok) {
        g_task_return_error(task, error);
        return;
    }
    g_task_return_boolean(task, TRUE);
}

/* ---- Raw disks to qcow2, on a worker -------------------------------------- */

#define CONVERT_CHUNK (1024 * 1024)

typedef struct {
    VireoVmConfig *config; /* in: the VM's; out: with the new images */
    VireoMachine *old_machine;
    SnapshotProgress *progress;
    GPtrArray *created; /* the new images, removed again on a failure */
} ConvertData;

static void convert_data_free(gpointer data)
{
    ConvertData *d = data;

    g_clear_object(&d->config);
    g_assert(d->old_machine == NULL);
    if (d->progress != NULL) {
        snapshot_progress_unref(d->progress);
    }
    g_clear_pointer(&d->created, g_ptr_array_unref);
    g_free(d);
}

/* "disk.img" → "disk.qcow2" beside it, or "disk-2.qcow2", ... for a name
 * that is taken. */
static char *qcow2_name(const char *raw)
{
    g_autofree char *dir = g_path_get_dirname(raw);
    g_autofree char *base = g_path_get_basename(raw);
    char *dot = strrchr(base, '.');
    char *path;

    if (dot != NULL && dot != base) {
        *dot = '\0';
    }
    path = g_strdup_printf("%s/%s.qcow2", dir, base);
    for (guint n = 2; g_file_test(path, G_FILE_TEST_EXISTS); n++) {
        g_free(path);
        path = g_strdup_printf("%s/%s-%u.qcow2", dir, base, n);
    }
    return path;
}

static gboolean all_zero(const guint8 *p, gsize len)
{
    for (gsize i = 0; i < len; i++) {
        if (p[i] != 0) {
            return FALSE;
        }
    }
    return TRUE;
}

/* Copies the raw image `src` into the new qcow2 image `dst` of the same
 * size, writing only what is not zero; progress goes from `base` to
 * `base + share`. */
static gboolean copy_raw(VireoBlock *src, VireoBlock *dst, SnapshotProgress *progress, double base,
                         double share, GError **error)
{
    guint64 size = vireo_block_get_size(src);
    g_autofree guint8 *buf = g_malloc(CONVERT_CHUNK);
    int r;

    for (guint64 off = 0; off < size; off += CONVERT_CHUNK) {
        struct iovec iov = { buf, (size_t)MIN(CONVERT_CHUNK, size - off) };

        r = vireo_block_preadv(src, &iov, 1, off);
        if (r < 0) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, _("Cannot read “%s”: %s"),
                        vireo_block_get_name(src), g_strerror(-r));
            return FALSE;
        }
        if (!all_zero(buf, iov.iov_len)) {
            r = vireo_block_pwritev(dst, &iov, 1, off);
            if (r < 0) {
                g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, _("Cannot write “%s”: %s"),
                            vireo_block_get_name(dst), g_strerror(-r));
                return FALSE;
            }
        }
        report_progress(base + share * (double)(off + iov.iov_len) / (double)size, progress);
    }
    r = vireo_block_flush(dst);
    if (r < 0) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, _("Cannot write “%s”: %s"),
                    vireo_block_get_name(dst), g_strerror(-r));
        return FALSE;
    }
    return TRUE;
}

static gboolean convert_disks(ConvertData *d, GError **error)
{
    g_autoptr(VireoVmConfig) out = vireo_vm_config_copy(d->config);
    guint n = vireo_vm_config_get_n_disks(d->config);

    vireo_vm_config_clear_disks(out);
    for (guint i = 0; i < n; i++) {
        const char *path = vireo_vm_config_get_disk_path(d->config, i);
        gboolean read_only = vireo_vm_config_get_disk_read_only(d->config, i);
        g_autoptr(VireoBlock) src = NULL;
        g_autoptr(VireoBlock) dst = NULL;
        g_autofree char *target = NULL;

        if (read_only || disk_format(d->config, i) != VIREO_BLOCK_FORMAT_RAW) {
            vireo_vm_config_add_disk(out, path, read_only);
            vireo_vm_config_set_disk_format(out, i, vireo_vm_config_get_disk_format(d->config, i));
            continue;
        }
        /* Read-only, it still locks out a machine that would write. */
        src = vireo_block_open_format(path, VIREO_BLOCK_FORMAT_RAW, true, error);
        if (src == NULL) {
            return FALSE;
        }
        target = qcow2_name(path);
        if (!vireo_qcow2_create(target, vireo_block_get_size(src), NULL, error)) {
            return FALSE;
        }
        g_ptr_array_add(d->created, g_strdup(target));
        dst = vireo_block_open_format(target, VIREO_BLOCK_FORMAT_QCOW2, false, error);
        if (dst == NULL || !copy_raw(src, dst, d->progress, (double)i / n, 1.0 / n, error)) {
            return FALSE;
        }
        vireo_vm_config_add_disk(out, target, FALSE);
        vireo_vm_config_set_disk_format(out, i, VIREO_BLOCK_FORMAT_QCOW2);
    }
    g_set_object(&d->config, out);
    return TRUE;
}

static void convert_thread(GTask *task, gpointer source, gpointer task_data,
                           GCancellable *cancellable)
{
    ConvertData *d = task_data;
    GError *error = NULL;

    if (d->old_machine != NULL) {
        vireo_machine_free(d->old_machine);
        d->old_machine = NULL;
    }
    if (!convert_disks(d, &error)) {
        for (guint i = 0; i < d->created->len; i++) {
            g_unlink(g_ptr_array_index(d->created, i));
        }
        g_task_return_error(task, error);
        return;
    }
    g_task_return_pointer(task, g_object_ref(d->config), g_object_unref);
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
    VireoMigration *migration;
    DisplayWatch *display_watch;
    char *snapshot; /* the id of the snapshot to start from, or NULL */
    char *snapshot_name;
    SnapshotProgress *progress;
    /* The new machine's snapshots. */
    gboolean can_snapshot;
    char *snapshot_reason;
    SnapshotListing listing;
} StartData;

static void start_data_free(gpointer data)
{
    StartData *d = data;

    g_clear_object(&d->config);
    g_free(d->snapshot);
    g_free(d->snapshot_name);
    if (d->progress != NULL) {
        snapshot_progress_unref(d->progress);
    }
    g_free(d->snapshot_reason);
    snapshot_listing_clear(&d->listing);
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
        .snapshot = d->snapshot,
        .snapshot_progress = d->progress != NULL ? report_progress : NULL,
        .snapshot_progress_data = d->progress,
        .migration = &d->migration,
        .migration_notify = on_migration_status,
        .migration_notify_data = d->sink,
    };
    g_autoptr(GError) unsupported = NULL;

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
    d->can_snapshot = vireo_snapshot_supported(d->board, &unsupported);
    if (!d->can_snapshot) {
        d->snapshot_reason = g_strdup(unsupported->message);
    }
    list_snapshots(&d->listing, d->board, NULL);
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

/* Replaces *field with `value` and notifies `prop` when it changed. */
static void set_string(VireoVmController *self, char **field, const char *value, guint prop)
{
    if (g_strcmp0(*field, value) != 0) {
        g_free(*field);
        *field = g_strdup(value);
        g_object_notify_by_pspec(G_OBJECT(self), properties[prop]);
    }
}

static void set_snapshot_progress(VireoVmController *self, double fraction)
{
    if (self->snapshot_progress != fraction) {
        self->snapshot_progress = fraction;
        g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_SNAPSHOT_PROGRESS]);
    }
}

static void set_snapshot_op(VireoVmController *self, VireoSnapshotOp op)
{
    if (self->snapshot_op != op) {
        self->snapshot_op = op;
        g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_SNAPSHOT_OP]);
    }
}

/* Returns the operation's progress link (a reference for its task). */
static SnapshotProgress *begin_snapshot_op(VireoVmController *self, VireoSnapshotOp op)
{
    g_clear_pointer(&self->progress, snapshot_progress_unref);
    self->progress = snapshot_progress_new(self->sink);
    set_snapshot_progress(self, 0.0);
    set_snapshot_op(self, op);
    return g_atomic_rc_box_acquire(self->progress);
}

static void end_snapshot_op(VireoVmController *self)
{
    g_clear_pointer(&self->progress, snapshot_progress_unref);
    set_snapshot_op(self, VIREO_SNAPSHOT_OP_NONE);
    set_snapshot_progress(self, 0.0);
}

static void apply_listing(VireoVmController *self, SnapshotListing *listing)
{
    guint n = g_list_model_get_n_items(G_LIST_MODEL(self->snapshots));

    if (listing->snapshots != NULL) {
        g_list_store_splice(self->snapshots, 0, n, listing->snapshots->pdata,
                            listing->snapshots->len);
    } else {
        g_list_store_remove_all(self->snapshots);
    }
    set_string(self, &self->snapshots_error, listing->error, PROP_SNAPSHOTS_ERROR);
    if (self->has_raw_disk != listing->raw_disk) {
        self->has_raw_disk = listing->raw_disk;
        g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_HAS_RAW_DISK]);
    }
    self->refresh_pending = FALSE;
    if (!self->snapshots_listed) {
        self->snapshots_listed = TRUE;
        g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_SNAPSHOTS_LISTED]);
    }
}

/* Whether a snapshot can be taken: the machine's answer while it runs or
 * is paused. */
static void sync_can_snapshot(VireoVmController *self)
{
    gboolean can = FALSE;
    const char *reason = NULL;

    if (self->state == VIREO_VM_STATE_STOPPED || self->machine == NULL) {
        reason = _("Start the virtual machine to take a snapshot");
    } else if (self->machine_snapshot_reason != NULL) {
        reason = self->machine_snapshot_reason;
    } else {
        can = TRUE;
    }
    set_string(self, &self->snapshot_reason, reason, PROP_SNAPSHOT_REASON);
    if (can != self->can_snapshot) {
        self->can_snapshot = can;
        g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_CAN_SNAPSHOT]);
    }
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
        sync_can_snapshot(self);
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
    g_clear_pointer(&self->progress, snapshot_progress_unref);

    /* Views let go of the display before its machine goes. */
    set_scanout(self, NULL);
    self->display_watch = NULL;
    if (self->ring != NULL) {
        Teardown *t = g_new0(Teardown, 1);
        t->machine = g_steal_pointer(&self->machine);
        t->ring = g_steal_pointer(&self->ring);
        t->sink = g_steal_pointer(&self->sink);
        self->board = NULL;
        self->migration = NULL;
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
    g_clear_pointer(&self->machine_snapshot_reason, g_free);
    g_clear_pointer(&self->snapshot_reason, g_free);
    g_clear_pointer(&self->snapshots_error, g_free);
    g_clear_object(&self->snapshots);
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
    case PROP_MIGRATED: g_value_set_boolean(value, self->migrated); break;
    case PROP_LAST_ERROR: g_value_set_string(value, self->last_error); break;
    case PROP_SCANOUT: g_value_set_pointer(value, self->scanout); break;
    case PROP_DISPLAY_ACTIVE: g_value_set_boolean(value, self->display_active); break;
    case PROP_CAN_SNAPSHOT: g_value_set_boolean(value, self->can_snapshot); break;
    case PROP_SNAPSHOT_REASON: g_value_set_string(value, self->snapshot_reason); break;
    case PROP_SNAPSHOTS_LISTED: g_value_set_boolean(value, self->snapshots_listed); break;
    case PROP_SNAPSHOTS_ERROR: g_value_set_string(value, self->snapshots_error); break;
    case PROP_HAS_RAW_DISK: g_value_set_boolean(value, self->has_raw_disk); break;
    case PROP_SNAPSHOT_OP: g_value_set_enum(value, self->snapshot_op); break;
    case PROP_SNAPSHOT_PROGRESS: g_value_set_double(value, self->snapshot_progress); break;
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
    /* The running machine migrated (vireo_vm_controller_has_migrated). */
    properties[PROP_MIGRATED] =
        g_param_spec_boolean("migrated", NULL, NULL, FALSE,
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
    /* Whether a snapshot can be taken now; "snapshot-reason" says why not. */
    properties[PROP_CAN_SNAPSHOT] =
        g_param_spec_boolean("can-snapshot", NULL, NULL, FALSE,
                             G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    properties[PROP_SNAPSHOT_REASON] =
        g_param_spec_string("snapshot-reason", NULL, NULL, NULL,
                            G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    properties[PROP_SNAPSHOTS_LISTED] =
        g_param_spec_boolean("snapshots-listed", NULL, NULL, FALSE,
                             G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    properties[PROP_SNAPSHOTS_ERROR] =
        g_param_spec_string("snapshots-error", NULL, NULL, NULL,
                            G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    properties[PROP_HAS_RAW_DISK] =
        g_param_spec_boolean("has-raw-disk", NULL, NULL, FALSE,
                             G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    properties[PROP_SNAPSHOT_OP] =
        g_param_spec_enum("snapshot-op", NULL, NULL, VIREO_TYPE_SNAPSHOT_OP, VIREO_SNAPSHOT_OP_NONE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
    properties[PROP_SNAPSHOT_PROGRESS] =
        g_param_spec_double("snapshot-progress", NULL, NULL, 0.0, 1.0, 0.0,
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
    /* A snapshot was taken, restored or deleted: the operation and the
     * snapshot's name. */
    signals[SNAPSHOT_DONE] =
        g_signal_new("snapshot-done", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 2, VIREO_TYPE_SNAPSHOT_OP, G_TYPE_STRING);
}

static void vireo_vm_controller_init(VireoVmController *self)
{
    self->context = g_main_context_ref_thread_default();
    self->sink = event_sink_new(self);
    self->state = VIREO_VM_STATE_STOPPED;
    self->history = g_byte_array_new();
    self->pending_input = g_byte_array_new();
    self->snapshots = g_list_store_new(VIREO_TYPE_VM_SNAPSHOT);
    sync_can_snapshot(self);
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
        /* Its disks may be others. */
        if (self->snapshots_listed) {
            self->snapshots_listed = FALSE;
            g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_SNAPSHOTS_LISTED]);
        }
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

static void refresh_if_pending(VireoVmController *self);

static void start_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    VireoVmController *self = VIREO_VM_CONTROLLER(source);
    StartData *d = g_task_get_task_data(G_TASK(result));
    g_autoptr(GError) error = NULL;
    VireoSnapshotOp op = self->snapshot_op;

    set_busy(self, FALSE);
    end_snapshot_op(self);
    if (!g_task_propagate_boolean(G_TASK(result), &error)) {
        sync_state(self);
        report_error(self, error->message);
        refresh_if_pending(self);
        return;
    }
    self->machine = g_steal_pointer(&d->machine);
    self->board = d->board;
    self->migration = d->migration;
    self->display_watch = d->display_watch;
    self->exit_reported = FALSE;
    g_free(self->machine_snapshot_reason);
    self->machine_snapshot_reason = g_steal_pointer(&d->snapshot_reason);
    apply_listing(self, &d->listing);
    /* The display first, so that views showing the new state find it. */
    set_scanout(self, board_scanout(self->board));
    sync_state(self);
    sync_display(self);
    sync_can_snapshot(self);
    if (op == VIREO_SNAPSHOT_OP_RESTORE) {
        g_signal_emit(self, signals[SNAPSHOT_DONE], 0, op, d->snapshot_name);
    }
}

/* Takes the stopped machine away from the controller, for a worker to free:
 * its display goes first. */
static VireoMachine *steal_machine(VireoVmController *self)
{
    set_scanout(self, NULL);
    self->display_watch = NULL;
    sync_display(self);
    self->board = NULL;
    self->migration = NULL;
    sync_migrated(self);
    g_clear_pointer(&self->machine_snapshot_reason, g_free);
    return g_steal_pointer(&self->machine);
}

/* Builds and starts a new machine, from `snapshot` when set. */
static void start_machine(VireoVmController *self, VireoVmSnapshot *snapshot)
{
    g_autoptr(GTask) task = NULL;
    StartData *d;

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
    if (snapshot != NULL) {
        d->snapshot = g_strdup(snapshot->id);
        d->snapshot_name = g_strdup(snapshot->name);
        d->progress = begin_snapshot_op(self, VIREO_SNAPSHOT_OP_RESTORE);
    }
    /* The stopped machine goes: freed on the worker before the new one is
     * built, so its memory is released first. */
    d->old_machine = steal_machine(self);

    set_busy(self, TRUE);
    task = g_task_new(self, NULL, start_done, NULL);
    g_task_set_source_tag(task, vireo_vm_controller_start);
    g_task_set_task_data(task, d, start_data_free);
    g_task_run_in_thread(task, start_thread);
}

void vireo_vm_controller_start(VireoVmController *self)
{
    g_return_if_fail(VIREO_IS_VM_CONTROLLER(self));

    if (self->busy || self->state != VIREO_VM_STATE_STOPPED) {
        return;
    }
    start_machine(self, NULL);
}

static void operation_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    VireoVmController *self = VIREO_VM_CONTROLLER(source);

    g_task_propagate_boolean(G_TASK(result), NULL);
    set_busy(self, FALSE);
    sync_state(self);
    refresh_if_pending(self);
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
    /* A machine that migrated runs elsewhere now, on the same disks. */
    if (vireo_vm_controller_has_migrated(self)) {
        report_error(self, _("The virtual machine moved to another Vireo; it cannot run here "
                             "again"));
        return;
    }
    /* Resuming only wakes the vCPUs; it does not wait for them. */
    vireo_machine_resume(self->machine);
}

void vireo_vm_controller_reset(VireoVmController *self)
{
    g_return_if_fail(VIREO_IS_VM_CONTROLLER(self));

    if (self->busy || self->machine == NULL || self->state == VIREO_VM_STATE_STOPPED ||
        vireo_vm_controller_has_migrated(self)) {
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

/* ---- Snapshots ---------------------------------------------------------- */

static void refresh_if_pending(VireoVmController *self)
{
    if (self->refresh_pending && !self->busy) {
        vireo_vm_controller_refresh_snapshots(self);
    }
}

static void snapshot_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    VireoVmController *self = VIREO_VM_CONTROLLER(source);
    SnapshotData *d = g_task_get_task_data(G_TASK(result));
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;

    set_busy(self, FALSE);
    end_snapshot_op(self);
    apply_listing(self, &d->listing);
    sync_state(self);
    if (g_task_propagate_boolean(G_TASK(result), &error)) {
        if (d->op != VIREO_SNAPSHOT_OP_LIST) {
            g_signal_emit(self, signals[SNAPSHOT_DONE], 0, d->op, d->name);
        }
        return;
    }
    switch (d->op) {
    case VIREO_SNAPSHOT_OP_TAKE:
        text = g_strdup_printf(_("Cannot take the snapshot “%s”: %s"), d->name, error->message);
        break;
    case VIREO_SNAPSHOT_OP_RESTORE:
        text = g_strdup_printf(_("Cannot restore the snapshot “%s”: %s"), d->name, error->message);
        break;
    case VIREO_SNAPSHOT_OP_DELETE:
        text = g_strdup_printf(_("Cannot delete the snapshot “%s”: %s"), d->name, error->message);
        break;
    case VIREO_SNAPSHOT_OP_LIST:
    case VIREO_SNAPSHOT_OP_NONE:
    default: text = g_strdup(error->message); break;
    }
    report_error(self, text);
}

/* Runs `op` on a worker: on the machine while it runs or is paused, on the
 * disk images otherwise. */
/* Whether a migration sends the running machine, or sent it: its disks
 * must not change here. */
static gboolean migration_holds_disks(VireoVmController *self)
{
    VireoMigrationStatus status = self->migration != NULL
                                      ? vireo_migration_get_status(self->migration)
                                      : VIREO_MIGRATION_NONE;

    return status == VIREO_MIGRATION_SETUP || status == VIREO_MIGRATION_ACTIVE ||
           status == VIREO_MIGRATION_CANCELLING || status == VIREO_MIGRATION_COMPLETED;
}

static void run_snapshot_op(VireoVmController *self, VireoSnapshotOp op, const char *name,
                            const char *id, GBytes *thumbnail)
{
    g_autoptr(GTask) task = NULL;
    SnapshotData *d;

    if (migration_holds_disks(self)) {
        report_error(self, vireo_vm_controller_has_migrated(self)
                               ? _("The virtual machine moved to another Vireo; it cannot run "
                                   "here again")
                               : _("The virtual machine is migrating; snapshots wait until it is "
                                   "done"));
        return;
    }
    d = g_new0(SnapshotData, 1);

    d->op = op;
    d->name = g_strdup(name);
    d->id = g_strdup(id);
    d->thumbnail = thumbnail != NULL ? g_bytes_ref(thumbnail) : NULL;
    if (self->state != VIREO_VM_STATE_STOPPED && self->board != NULL) {
        d->board = self->board;
    } else {
        d->old_machine = steal_machine(self);
        d->config = self->config != NULL ? vireo_vm_config_copy(self->config) : NULL;
    }
    d->progress = begin_snapshot_op(self, op);
    self->refresh_pending = FALSE;

    set_busy(self, TRUE);
    task = g_task_new(self, NULL, snapshot_done, NULL);
    g_task_set_source_tag(task, run_snapshot_op);
    g_task_set_task_data(task, d, snapshot_data_free);
    g_task_run_in_thread(task, snapshot_thread);
}

/* A name the back end keeps: 1 to 127 bytes of UTF-8. */
static gboolean check_snapshot_name(VireoVmController *self, const char *name)
{
    gsize len = strlen(name);

    if (len == 0 || len > VIREO_VM_SNAPSHOT_MAX_NAME || !g_utf8_validate(name, -1, NULL)) {
        report_error(self, _("A snapshot's name is 1 to 127 bytes of text"));
        return FALSE;
    }
    return TRUE;
}

gboolean vireo_vm_controller_get_can_snapshot(VireoVmController *self, const char **reason)
{
    g_return_val_if_fail(VIREO_IS_VM_CONTROLLER(self), FALSE);

    if (self->migrated) {
        if (reason != NULL) {
            *reason = _("The virtual machine moved to another Vireo");
        }
        return FALSE;
    }
    if (reason != NULL) {
        *reason = self->snapshot_reason;
    }
    return self->can_snapshot;
}

void vireo_vm_controller_take_snapshot(VireoVmController *self, const char *name, GBytes *thumbnail)
{
    g_return_if_fail(VIREO_IS_VM_CONTROLLER(self));
    g_return_if_fail(name != NULL);

    if (self->busy || !self->can_snapshot || !check_snapshot_name(self, name)) {
        return;
    }
    run_snapshot_op(self, VIREO_SNAPSHOT_OP_TAKE, name, NULL, thumbnail);
}

void vireo_vm_controller_restore_snapshot(VireoVmController *self, VireoVmSnapshot *snapshot)
{
    g_return_if_fail(VIREO_IS_VM_CONTROLLER(self));
    g_return_if_fail(VIREO_IS_VM_SNAPSHOT(snapshot));

    if (self->busy) {
        return;
    }
    if (self->state == VIREO_VM_STATE_STOPPED) {
        start_machine(self, snapshot);
    } else if (self->board != NULL) {
        run_snapshot_op(self, VIREO_SNAPSHOT_OP_RESTORE, snapshot->name, snapshot->id, NULL);
    }
}

void vireo_vm_controller_delete_snapshot(VireoVmController *self, VireoVmSnapshot *snapshot)
{
    g_return_if_fail(VIREO_IS_VM_CONTROLLER(self));
    g_return_if_fail(VIREO_IS_VM_SNAPSHOT(snapshot));

    if (self->busy) {
        return;
    }
    run_snapshot_op(self, VIREO_SNAPSHOT_OP_DELETE, snapshot->name, snapshot->id, NULL);
}

void vireo_vm_controller_refresh_snapshots(VireoVmController *self)
{
    g_return_if_fail(VIREO_IS_VM_CONTROLLER(self));

    if (self->busy) {
        self->refresh_pending = TRUE; /* after the operation under way */
        return;
    }
    run_snapshot_op(self, VIREO_SNAPSHOT_OP_LIST, NULL, NULL, NULL);
}

GListModel *vireo_vm_controller_get_snapshots(VireoVmController *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONTROLLER(self), NULL);
    return G_LIST_MODEL(self->snapshots);
}

gboolean vireo_vm_controller_get_snapshots_listed(VireoVmController *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONTROLLER(self), FALSE);
    return self->snapshots_listed;
}

const char *vireo_vm_controller_get_snapshots_error(VireoVmController *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONTROLLER(self), NULL);
    return self->snapshots_error;
}

VireoSnapshotOp vireo_vm_controller_get_snapshot_op(VireoVmController *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONTROLLER(self), VIREO_SNAPSHOT_OP_NONE);
    return self->snapshot_op;
}

double vireo_vm_controller_get_snapshot_progress(VireoVmController *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONTROLLER(self), 0.0);
    return self->snapshot_progress;
}

static void convert_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
    VireoVmController *self = VIREO_VM_CONTROLLER(source);
    GTask *outer = user_data;
    g_autoptr(VireoVmConfig) config = NULL;
    GError *error = NULL;

    set_busy(self, FALSE);
    end_snapshot_op(self);
    config = g_task_propagate_pointer(G_TASK(result), &error);
    if (config == NULL) {
        g_task_return_error(outer, error);
    } else {
        g_task_return_pointer(outer, g_steal_pointer(&config), g_object_unref);
    }
    g_object_unref(outer);
}

void vireo_vm_controller_convert_disks(VireoVmController *self, GAsyncReadyCallback callback,
                                       gpointer user_data)
{
    GTask *outer;
    g_autoptr(GTask) task = NULL;
    ConvertData *d;

    g_return_if_fail(VIREO_IS_VM_CONTROLLER(self));

    outer = g_task_new(self, NULL, callback, user_data);
    g_task_set_source_tag(outer, vireo_vm_controller_convert_disks);
    if (self->busy || self->state != VIREO_VM_STATE_STOPPED || self->config == NULL) {
        g_task_return_new_error(outer, VIREO_ERROR, VIREO_ERROR_CONFIG,
                                _("Stop the virtual machine to convert its disks"));
        g_object_unref(outer);
        return;
    }
    d = g_new0(ConvertData, 1);
    d->config = vireo_vm_config_copy(self->config);
    d->created = g_ptr_array_new_with_free_func(g_free);
    /* The stopped machine holds its images locked: it goes first. */
    d->old_machine = steal_machine(self);
    d->progress = begin_snapshot_op(self, VIREO_SNAPSHOT_OP_CONVERT);

    set_busy(self, TRUE);
    task = g_task_new(self, NULL, convert_done, outer);
    g_task_set_task_data(task, d, convert_data_free);
    g_task_set_source_tag(task, vireo_vm_controller_convert_disks);
    g_task_run_in_thread(task, convert_thread);
}

VireoVmConfig *vireo_vm_controller_convert_disks_finish(VireoVmController *self,
                                                        GAsyncResult *result, GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, self), NULL);
    return g_task_propagate_pointer(G_TASK(result), error);
}

gboolean vireo_vm_controller_get_has_raw_disk(VireoVmController *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONTROLLER(self), FALSE);
    return self->has_raw_disk;
}

VireoJson *vireo_vm_controller_query_migration(VireoVmController *self)
{
    VireoJson *r;

    g_return_val_if_fail(VIREO_IS_VM_CONTROLLER(self), NULL);

    if (self->migration == NULL ||
        vireo_migration_get_status(self->migration) == VIREO_MIGRATION_NONE) {
        return NULL;
    }
    r = vireo_migration_query(self->migration);
    return r;
}

gboolean vireo_vm_controller_has_migrated(VireoVmController *self)
{
    g_return_val_if_fail(VIREO_IS_VM_CONTROLLER(self), FALSE);

    return self->migration != NULL &&
           vireo_migration_get_status(self->migration) == VIREO_MIGRATION_COMPLETED;
}

static void sync_migrated(VireoVmController *self)
{
    gboolean migrated = vireo_vm_controller_has_migrated(self);

    if (migrated != self->migrated) {
        self->migrated = migrated;
        g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_MIGRATED]);
    }
}

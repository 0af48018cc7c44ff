/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The QMP protocol and its commands. A session parses what its client sends
 * into requests, checks each one as QEMU's dispatcher does (the request's
 * members, capabilities negotiation, the command, its arguments against the
 * command's table), runs it on the host and writes the reply. Events are
 * queued from any thread and written by the monitor's thread, before any
 * reply, to the sessions that negotiated before they happened.
 */
#include "config.h"

#include "vireo-qmp-private.h"

#include <string.h>

#include "display/scanout-file.h"
#include "engine/error.h"

G_DEFINE_QUARK(vireo - qmp - error - quark, vireo_qmp_error)

typedef struct {
    guint64 seq;
    char *text; /* the event's JSON and CRLF */
} QueuedEvent;

struct VireoQmpSession {
    VireoQmp *qmp;
    VireoQmpWriteFunc write;
    void *opaque;
    VireoJsonStream *stream;
    bool negotiated;
    bool oob;
    bool quitting;
    guint64 events_from; /* the first event sequence number it gets */
};

static const char *const error_class_names[] = {
    [VIREO_QMP_ERROR_GENERIC] = "GenericError",
    [VIREO_QMP_ERROR_COMMAND_NOT_FOUND] = "CommandNotFound",
    [VIREO_QMP_ERROR_DEVICE_NOT_FOUND] = "DeviceNotFound",
};

const char *vireo_qmp_status_name(VireoQmpStatus status)
{
    switch (status) {
    case VIREO_QMP_STATUS_PRELAUNCH: return "prelaunch";
    case VIREO_QMP_STATUS_RUNNING: return "running";
    case VIREO_QMP_STATUS_PAUSED: return "paused";
    case VIREO_QMP_STATUS_SHUTDOWN: return "shutdown";
    case VIREO_QMP_STATUS_INTERNAL_ERROR: return "internal-error";
    case VIREO_QMP_STATUS_POSTMIGRATE: return "postmigrate";
    }
    return "paused";
}

VireoQmpSnapshot *vireo_qmp_snapshot_new(const char *id, const char *name, guint64 vm_state_size,
                                         gint64 date, guint64 vm_clock_ns)
{
    VireoQmpSnapshot *s = g_new0(VireoQmpSnapshot, 1);

    s->id = g_strdup(id);
    s->name = g_strdup(name);
    s->vm_state_size = vm_state_size;
    s->date = date;
    s->vm_clock_ns = vm_clock_ns;
    return s;
}

void vireo_qmp_snapshot_free(VireoQmpSnapshot *snapshot)
{
    if (snapshot != NULL) {
        g_free(snapshot->id);
        g_free(snapshot->name);
        g_free(snapshot);
    }
}

/* ---- the monitor and its events ---- */

VireoQmp *vireo_qmp_new(const VireoQmpHostOps *ops, void *host)
{
    VireoQmp *qmp = g_new0(VireoQmp, 1);

    qmp->ops = ops;
    qmp->host = host;
    qmp->sessions = g_ptr_array_new();
    qmp->downtime_limit = 300; /* QEMU's default, ms */
    g_mutex_init(&qmp->run_lock);
    g_mutex_init(&qmp->lock);
    g_queue_init(&qmp->events);
    qmp->next_seq = 1;
    return qmp;
}

static void queued_event_free(gpointer data)
{
    QueuedEvent *e = data;

    g_free(e->text);
    g_free(e);
}

void vireo_qmp_free(VireoQmp *qmp)
{
    if (qmp == NULL) {
        return;
    }
    g_warn_if_fail(qmp->sessions->len == 0);
    g_ptr_array_free(qmp->sessions, TRUE);
    g_queue_clear_full(&qmp->events, queued_event_free);
    g_mutex_clear(&qmp->run_lock);
    g_mutex_clear(&qmp->lock);
    g_free(qmp->name);
    g_free(qmp);
}

void vireo_qmp_set_name(VireoQmp *qmp, const char *name)
{
    g_free(qmp->name);
    qmp->name = g_strdup(name);
}

void vireo_qmp_set_event_notify(VireoQmp *qmp, VireoQmpNotifyFunc func, void *opaque)
{
    g_mutex_lock(&qmp->lock);
    qmp->notify = func;
    qmp->notify_opaque = opaque;
    g_mutex_unlock(&qmp->lock);
}

void vireo_qmp_emit_event(VireoQmp *qmp, const char *name, VireoJson *data)
{
    g_autoptr(VireoJson) e = vireo_json_new_object();
    VireoJson *timestamp = vireo_json_new_object();
    gint64 now = g_get_real_time();
    QueuedEvent *q = g_new0(QueuedEvent, 1);
    GString *text = g_string_new(NULL);

    vireo_json_object_set(timestamp, "seconds", vireo_json_new_int(now / G_USEC_PER_SEC));
    vireo_json_object_set(timestamp, "microseconds", vireo_json_new_int(now % G_USEC_PER_SEC));
    vireo_json_object_set(e, "timestamp", timestamp);
    vireo_json_object_set(e, "event", vireo_json_new_string(name));
    if (data != NULL) {
        vireo_json_object_set(e, "data", data);
    }
    vireo_json_write(text, e);
    g_string_append(text, "\r\n");
    q->text = g_string_free(text, FALSE);

    g_mutex_lock(&qmp->lock);
    q->seq = qmp->next_seq++;
    g_queue_push_tail(&qmp->events, q);
    while (qmp->events.length > VIREO_QMP_MAX_QUEUED_EVENTS) {
        queued_event_free(g_queue_pop_head(&qmp->events));
    }
    /* Under the lock, so that once vireo_qmp_set_event_notify() returns the
     * previous function is not running. */
    if (qmp->notify != NULL) {
        qmp->notify(qmp->notify_opaque);
    }
    g_mutex_unlock(&qmp->lock);
}

void vireo_qmp_flush_events(VireoQmp *qmp)
{
    GQueue events = G_QUEUE_INIT;

    g_mutex_lock(&qmp->lock);
    events = qmp->events;
    g_queue_init(&qmp->events);
    g_mutex_unlock(&qmp->lock);
    for (GList *l = events.head; l != NULL; l = l->next) {
        QueuedEvent *e = l->data;
        for (guint i = 0; i < qmp->sessions->len; i++) {
            VireoQmpSession *s = g_ptr_array_index(qmp->sessions, i);
            if (s->negotiated && e->seq >= s->events_from) {
                s->write(s->opaque, e->text, strlen(e->text));
            }
        }
    }
    g_queue_clear_full(&events, queued_event_free);
}

/* ---- replies ---- */

static void send_message(VireoQmpSession *s, VireoJson *message)
{
    g_autoptr(GString) text = g_string_new(NULL);

    /* What happened before the reply is told first. */
    vireo_qmp_flush_events(s->qmp);
    vireo_json_write(text, message);
    g_string_append(text, "\r\n");
    s->write(s->opaque, text->str, text->len);
}

static void send_return(VireoQmpSession *s, VireoJson *value, const VireoJson *id)
{
    g_autoptr(VireoJson) reply = vireo_json_new_object();

    vireo_json_object_set(reply, "return", value);
    if (id != NULL) {
        vireo_json_object_set(reply, "id", vireo_json_copy(id));
    }
    send_message(s, reply);
}

static void send_error(VireoQmpSession *s, const GError *error, const VireoJson *id)
{
    g_autoptr(VireoJson) reply = vireo_json_new_object();
    VireoJson *e = vireo_json_new_object();
    VireoQmpErrorClass klass = VIREO_QMP_ERROR_GENERIC;

    if (error->domain == VIREO_QMP_ERROR && error->code >= 0 &&
        error->code < (int)G_N_ELEMENTS(error_class_names)) {
        klass = (VireoQmpErrorClass)error->code;
    }
    vireo_json_object_set(e, "class", vireo_json_new_string(error_class_names[klass]));
    vireo_json_object_set(e, "desc", vireo_json_new_string(error->message));
    vireo_json_object_set(reply, "error", e);
    if (id != NULL) {
        vireo_json_object_set(reply, "id", vireo_json_copy(id));
    }
    send_message(s, reply);
}

static void reply_error(VireoQmpSession *s, const VireoJson *id, VireoQmpErrorClass klass,
                        const char *format, ...) G_GNUC_PRINTF(4, 5);

static void reply_error(VireoQmpSession *s, const VireoJson *id, VireoQmpErrorClass klass,
                        const char *format, ...)
{
    g_autoptr(GError) error = NULL;
    va_list ap;

    va_start(ap, format);
    error = g_error_new_valist(VIREO_QMP_ERROR, (gint)klass, format, ap);
    va_end(ap);
    send_error(s, error, id);
}

static VireoJson *version_object(void)
{
    VireoJson *v = vireo_json_new_object();
    VireoJson *qemu = vireo_json_new_object();

    vireo_json_object_set(qemu, "micro", vireo_json_new_int(VIREO_QMP_QEMU_MICRO));
    vireo_json_object_set(qemu, "minor", vireo_json_new_int(VIREO_QMP_QEMU_MINOR));
    vireo_json_object_set(qemu, "major", vireo_json_new_int(VIREO_QMP_QEMU_MAJOR));
    vireo_json_object_set(v, "qemu", qemu);
    vireo_json_object_set(v, "package", vireo_json_new_string("Vireo " PACKAGE_VERSION));
    return v;
}

/* ---- the operations QMP and HMP share ---- */

static bool not_available(GError **error, const char *what)
{
    g_set_error(error, VIREO_QMP_ERROR, VIREO_QMP_ERROR_GENERIC,
                "%s are not available on this machine", what);
    return false;
}

bool _vireo_qmp_stop(VireoQmp *qmp, GError **error)
{
    return qmp->ops->stop(qmp->host, error);
}

bool _vireo_qmp_cont(VireoQmp *qmp, GError **error)
{
    return qmp->ops->cont(qmp->host, error);
}

bool _vireo_qmp_system_reset(VireoQmp *qmp, GError **error)
{
    return qmp->ops->system_reset(qmp->host, error);
}

bool _vireo_qmp_system_powerdown(VireoQmp *qmp, GError **error)
{
    vireo_qmp_emit_event(qmp, "POWERDOWN", NULL);
    return qmp->ops->system_powerdown == NULL || qmp->ops->system_powerdown(qmp->host, error);
}

void _vireo_qmp_quit(VireoQmp *qmp)
{
    qmp->ops->quit(qmp->host);
}

static bool has_snapshots(VireoQmp *qmp, GError **error)
{
    const VireoQmpHostOps *o = qmp->ops;

    if (o->savevm == NULL || o->loadvm == NULL || o->delvm == NULL || o->list_snapshots == NULL) {
        return not_available(error, "Snapshots");
    }
    return true;
}

/* A name of a snapshot: text without NUL (the caller checks the rest). */
static bool check_snapshot_name(const char *name, GError **error)
{
    if (name[0] == '\0') {
        g_set_error(error, VIREO_QMP_ERROR, VIREO_QMP_ERROR_GENERIC, "A snapshot needs a name");
        return false;
    }
    return true;
}

bool _vireo_qmp_savevm(VireoQmp *qmp, const char *name, GError **error)
{
    g_autofree char *made = NULL;
    bool was_running, ok;

    if (!has_snapshots(qmp, error)) {
        return false;
    }
    if (name == NULL) {
        g_autoptr(GDateTime) now = g_date_time_new_now_local();
        made = g_date_time_format(now, "vm-%Y%m%d%H%M%S");
        name = made;
    }
    if (!check_snapshot_name(name, error) ||
        (qmp->ops->busy != NULL && qmp->ops->busy(qmp->host, error))) {
        return false;
    }
    was_running = qmp->ops->get_status(qmp->host) == VIREO_QMP_STATUS_RUNNING;
    if (was_running && !qmp->ops->stop(qmp->host, error)) {
        return false;
    }
    ok = qmp->ops->savevm(qmp->host, name, error);
    /* The machine runs on whether or not the snapshot was taken. */
    if (was_running) {
        g_autoptr(GError) cont_error = NULL;
        if (!qmp->ops->cont(qmp->host, &cont_error) && ok) {
            g_propagate_error(error, g_steal_pointer(&cont_error));
            ok = false;
        }
    }
    return ok;
}

bool _vireo_qmp_loadvm(VireoQmp *qmp, const char *name, GError **error)
{
    bool was_running;

    if (!has_snapshots(qmp, error) || !check_snapshot_name(name, error) ||
        (qmp->ops->busy != NULL && qmp->ops->busy(qmp->host, error))) {
        return false;
    }
    was_running = qmp->ops->get_status(qmp->host) == VIREO_QMP_STATUS_RUNNING;
    if (was_running && !qmp->ops->stop(qmp->host, error)) {
        return false;
    }
    /* A machine whose state could not be loaded stays paused. */
    if (!qmp->ops->loadvm(qmp->host, name, error)) {
        return false;
    }
    return !was_running || qmp->ops->cont(qmp->host, error);
}

bool _vireo_qmp_delvm(VireoQmp *qmp, const char *name, GError **error)
{
    return has_snapshots(qmp, error) && check_snapshot_name(name, error) &&
           qmp->ops->delvm(qmp->host, name, error);
}

GPtrArray *_vireo_qmp_list_snapshots(VireoQmp *qmp, GError **error)
{
    GPtrArray *list;

    if (!has_snapshots(qmp, error)) {
        return NULL;
    }
    list = qmp->ops->list_snapshots(qmp->host, error);
    if (list != NULL) {
        g_ptr_array_set_free_func(list, (GDestroyNotify)vireo_qmp_snapshot_free);
    }
    return list;
}

bool vireo_qmp_savevm(VireoQmp *qmp, const char *name, GError **error)
{
    bool ok;

    g_mutex_lock(&qmp->run_lock);
    ok = _vireo_qmp_savevm(qmp, name, error);
    g_mutex_unlock(&qmp->run_lock);
    return ok;
}

bool vireo_qmp_loadvm(VireoQmp *qmp, const char *name, GError **error)
{
    bool ok;

    g_mutex_lock(&qmp->run_lock);
    ok = _vireo_qmp_loadvm(qmp, name, error);
    g_mutex_unlock(&qmp->run_lock);
    return ok;
}

bool vireo_qmp_delvm(VireoQmp *qmp, const char *name, GError **error)
{
    bool ok;

    g_mutex_lock(&qmp->run_lock);
    ok = _vireo_qmp_delvm(qmp, name, error);
    g_mutex_unlock(&qmp->run_lock);
    return ok;
}

GPtrArray *vireo_qmp_list_snapshots(VireoQmp *qmp, GError **error)
{
    GPtrArray *list;

    g_mutex_lock(&qmp->run_lock);
    list = _vireo_qmp_list_snapshots(qmp, error);
    g_mutex_unlock(&qmp->run_lock);
    return list;
}

/* ---- commands ---- */

typedef enum {
    ARG_STRING,
    ARG_INT,
    ARG_ENUM,      /* a string among `values` */
    ARG_ENUM_LIST, /* an array of those */
} ArgType;

typedef struct {
    const char *name;
    ArgType type;
    bool optional;
    const char *const *values; /* ARG_ENUM, ARG_ENUM_LIST: NULL-terminated */
} ArgSpec;

typedef struct {
    VireoQmpSession *session;
    VireoQmp *qmp;
    const VireoJson *args; /* an object, checked against the command's table */
} Call;

typedef struct {
    const char *name;
    const ArgSpec *args; /* ends with a NULL name; NULL for none */
    /* The "return" value, or NULL and an error. */
    VireoJson *(*run)(Call *call, GError **error);
} Command;

static const char *arg_string(const Call *c, const char *name)
{
    VireoJson *v = vireo_json_object_get(c->args, name);
    return v != NULL ? vireo_json_get_string(v, NULL) : NULL;
}

static VireoJson *ok_or_null(bool ok)
{
    return ok ? vireo_json_new_object() : NULL;
}

static VireoJson *cmd_qmp_capabilities(Call *c, GError **error)
{
    VireoJson *enable = vireo_json_object_get(c->args, "enable");

    /* Every capability in the greeting ("oob") can be enabled. */
    c->session->oob = false;
    for (size_t i = 0; enable != NULL && i < vireo_json_length(enable); i++) {
        if (vireo_json_string_equal(vireo_json_array_get(enable, i), "oob")) {
            c->session->oob = true;
        }
    }
    c->session->negotiated = true;
    g_mutex_lock(&c->qmp->lock);
    c->session->events_from = c->qmp->next_seq;
    g_mutex_unlock(&c->qmp->lock);
    return vireo_json_new_object();
}

static VireoJson *cmd_query_status(Call *c, GError **error)
{
    VireoQmpStatus status = c->qmp->ops->get_status(c->qmp->host);
    VireoJson *r = vireo_json_new_object();

    vireo_json_object_set(r, "status", vireo_json_new_string(vireo_qmp_status_name(status)));
    vireo_json_object_set(r, "singlestep", vireo_json_new_bool(false));
    vireo_json_object_set(r, "running", vireo_json_new_bool(status == VIREO_QMP_STATUS_RUNNING));
    return r;
}

static VireoJson *cmd_stop(Call *c, GError **error)
{
    return ok_or_null(_vireo_qmp_stop(c->qmp, error));
}

static VireoJson *cmd_cont(Call *c, GError **error)
{
    return ok_or_null(_vireo_qmp_cont(c->qmp, error));
}

static VireoJson *cmd_system_reset(Call *c, GError **error)
{
    return ok_or_null(_vireo_qmp_system_reset(c->qmp, error));
}

static VireoJson *cmd_system_powerdown(Call *c, GError **error)
{
    return ok_or_null(_vireo_qmp_system_powerdown(c->qmp, error));
}

static VireoJson *cmd_quit(Call *c, GError **error)
{
    c->session->quitting = true;
    _vireo_qmp_quit(c->qmp);
    return vireo_json_new_object();
}

/* Called on the device's thread when the display publishes. */
typedef struct {
    GMutex lock;
    GCond cond;
    bool published;
} DumpWait;

static void dump_notify(void *opaque)
{
    DumpWait *w = opaque;

    g_mutex_lock(&w->lock);
    w->published = true;
    g_cond_broadcast(&w->cond);
    g_mutex_unlock(&w->lock);
}

/* The picture the display shows now, written to `path`. A presenter of its
 * own takes the newest frame; when the device renders into a texture and
 * publishes pixels only for presenters that need them, the picture comes
 * with the device's next publication (a second at most). */
static bool screendump(VireoScanout *scanout, const char *path, VireoImageFormat format,
                       GError **error)
{
    DumpWait w = { .published = false };
    bool stale = !vireo_scanout_needs_pixels(scanout);
    VireoScanoutFrame frame;
    bool ok;
    int id;

    g_mutex_init(&w.lock);
    g_cond_init(&w.cond);
    id = vireo_scanout_attach(scanout, dump_notify, &w);
    if (id < 0) {
        g_set_error(error, VIREO_QMP_ERROR, VIREO_QMP_ERROR_GENERIC,
                    "The display has too many viewers to take a screendump; try again");
        ok = false;
        goto out;
    }
    if (stale) {
        gint64 end = g_get_monotonic_time() + G_USEC_PER_SEC;
        g_mutex_lock(&w.lock);
        while (!w.published && g_cond_wait_until(&w.cond, &w.lock, end)) {}
        g_mutex_unlock(&w.lock);
    }
    if (!vireo_scanout_acquire(scanout, id, &frame)) {
        g_set_error(error, VIREO_QMP_ERROR, VIREO_QMP_ERROR_GENERIC,
                    "The display shows no picture yet");
        ok = false;
    } else {
        ok = vireo_scanout_frame_write_as(&frame, path, format, error);
        vireo_scanout_release(scanout, id);
    }
    vireo_scanout_detach(scanout, id);
out:
    g_mutex_clear(&w.lock);
    g_cond_clear(&w.cond);
    return ok;
}

static VireoJson *cmd_screendump(Call *c, GError **error)
{
    const char *path = arg_string(c, "filename");
    const char *device = arg_string(c, "device");
    const char *format = arg_string(c, "format");
    VireoJson *head = vireo_json_object_get(c->args, "head");
    VireoScanout *scanout = NULL;
    size_t len;

    vireo_json_get_string(vireo_json_object_get(c->args, "filename"), &len);
    if (c->qmp->ops->get_scanout != NULL) {
        scanout = c->qmp->ops->get_scanout(c->qmp->host);
    }
    if (device != NULL) {
        g_set_error(error, VIREO_QMP_ERROR, VIREO_QMP_ERROR_DEVICE_NOT_FOUND,
                    "Device '%s' not found (the machine has one display; leave out 'device')",
                    device);
        return NULL;
    }
    if (scanout == NULL) {
        g_set_error(error, VIREO_QMP_ERROR, VIREO_QMP_ERROR_GENERIC,
                    "There is no console to take a screendump from");
        return NULL;
    }
    if (head != NULL && vireo_json_get_int(head) != 0) {
        g_set_error(error, VIREO_QMP_ERROR, VIREO_QMP_ERROR_GENERIC,
                    "The display has no head %" G_GINT64_FORMAT " (only head 0)",
                    vireo_json_get_int(head));
        return NULL;
    }
    if (path[0] == '\0' || strlen(path) != len) {
        g_set_error(error, VIREO_QMP_ERROR, VIREO_QMP_ERROR_GENERIC,
                    "'filename' is not a file name");
        return NULL;
    }
    return ok_or_null(screendump(
        scanout, path,
        format != NULL && strcmp(format, "png") == 0 ? VIREO_IMAGE_PNG : VIREO_IMAGE_PPM, error));
}

static VireoJson *cmd_query_cpus_fast(Call *c, GError **error)
{
    VireoJson *list = vireo_json_new_array();
    unsigned n = c->qmp->ops->n_cpus(c->qmp->host);

    /* As QEMU's riscv64 "virt" machine names its harts. */
    for (unsigned i = 0; i < n; i++) {
        VireoJson *cpu = vireo_json_new_object();
        VireoJson *props = vireo_json_new_object();
        g_autofree char *path = g_strdup_printf("/machine/soc0/harts[%u]", i);

        vireo_json_object_set(props, "core-id", vireo_json_new_int(i));
        vireo_json_object_set(cpu, "thread-id",
                              vireo_json_new_int(c->qmp->ops->cpu_thread_id(c->qmp->host, i)));
        vireo_json_object_set(cpu, "props", props);
        vireo_json_object_set(cpu, "qom-path", vireo_json_new_string(path));
        vireo_json_object_set(cpu, "cpu-index", vireo_json_new_int(i));
        vireo_json_object_set(cpu, "target", vireo_json_new_string("riscv64"));
        vireo_json_array_add(list, cpu);
    }
    return list;
}

static VireoJson *cmd_query_version(Call *c, GError **error)
{
    return version_object();
}

static VireoJson *cmd_query_commands(Call *c, GError **error);

static VireoJson *cmd_query_name(Call *c, GError **error)
{
    VireoJson *r = vireo_json_new_object();

    if (c->qmp->name != NULL) {
        vireo_json_object_set(r, "name", vireo_json_new_string(c->qmp->name));
    }
    return r;
}

static VireoJson *cmd_human_monitor_command(Call *c, GError **error)
{
    VireoJson *line = vireo_json_object_get(c->args, "command-line");
    VireoJson *cpu = vireo_json_object_get(c->args, "cpu-index");
    g_autofree char *out = NULL;
    size_t len;
    const char *text = vireo_json_get_string(line, &len);
    bool quit = false;

    if (cpu != NULL && (vireo_json_get_int(cpu) < 0 ||
                        vireo_json_get_int(cpu) >= (gint64)c->qmp->ops->n_cpus(c->qmp->host))) {
        g_set_error(error, VIREO_QMP_ERROR, VIREO_QMP_ERROR_GENERIC,
                    "Parameter 'cpu-index' expects a CPU number");
        return NULL;
    }
    out = _vireo_qmp_hmp_run(c->qmp, text, len, &quit);
    if (quit) {
        c->session->quitting = true;
    }
    return vireo_json_new_string(out);
}

static bool have_migration(Call *c, GError **error)
{
    if (c->qmp->ops->migrate == NULL || c->qmp->ops->query_migrate == NULL ||
        c->qmp->ops->migrate_cancel == NULL || c->qmp->ops->migrate_set_downtime_limit == NULL) {
        g_set_error(error, VIREO_QMP_ERROR, VIREO_QMP_ERROR_GENERIC,
                    "Migration is not available on this machine");
        return false;
    }
    return true;
}

static VireoJson *cmd_migrate(Call *c, GError **error)
{
    return ok_or_null(have_migration(c, error) &&
                      c->qmp->ops->migrate(c->qmp->host, arg_string(c, "uri"), error));
}

static VireoJson *cmd_migrate_cancel(Call *c, GError **error)
{
    if (!have_migration(c, error)) {
        return NULL;
    }
    c->qmp->ops->migrate_cancel(c->qmp->host);
    return vireo_json_new_object();
}

static VireoJson *cmd_query_migrate(Call *c, GError **error)
{
    return have_migration(c, error) ? c->qmp->ops->query_migrate(c->qmp->host) : NULL;
}

/* QEMU's bounds: up to 2000 seconds. */
#define MAX_DOWNTIME_LIMIT 2000000

static VireoJson *cmd_migrate_set_parameters(Call *c, GError **error)
{
    VireoJson *limit = vireo_json_object_get(c->args, "downtime-limit");

    if (!have_migration(c, error)) {
        return NULL;
    }
    if (limit != NULL) {
        gint64 value = vireo_json_get_int(limit);
        if (value < 0 || value > MAX_DOWNTIME_LIMIT) {
            g_set_error(error, VIREO_QMP_ERROR, VIREO_QMP_ERROR_GENERIC,
                        "Parameter 'downtime_limit' expects an integer in the range of 0 to %d "
                        "milliseconds",
                        MAX_DOWNTIME_LIMIT);
            return NULL;
        }
        c->qmp->downtime_limit = value;
        c->qmp->ops->migrate_set_downtime_limit(c->qmp->host, value);
    }
    return vireo_json_new_object();
}

static VireoJson *cmd_query_migrate_parameters(Call *c, GError **error)
{
    VireoJson *r;

    if (!have_migration(c, error)) {
        return NULL;
    }
    r = vireo_json_new_object();
    vireo_json_object_set(r, "downtime-limit", vireo_json_new_int(c->qmp->downtime_limit));
    return r;
}

static const char *const capability_values[] = { "oob", NULL };
static const char *const image_formats[] = { "ppm", "png", NULL };

static const ArgSpec capabilities_args[] = {
    { "enable", ARG_ENUM_LIST, true, capability_values },
    { NULL },
};

static const ArgSpec screendump_args[] = {
    { "filename", ARG_STRING, false, NULL },
    { "device", ARG_STRING, true, NULL },
    { "head", ARG_INT, true, NULL },
    { "format", ARG_ENUM, true, image_formats },
    { NULL },
};

static const ArgSpec hmp_args[] = {
    { "command-line", ARG_STRING, false, NULL },
    { "cpu-index", ARG_INT, true, NULL },
    { NULL },
};

static const ArgSpec migrate_args[] = {
    { "uri", ARG_STRING, false, NULL },
    { NULL },
};

static const ArgSpec migrate_parameters_args[] = {
    { "downtime-limit", ARG_INT, true, NULL },
    { NULL },
};

static const Command commands[] = {
    { "qmp_capabilities", capabilities_args, cmd_qmp_capabilities },
    { "query-status", NULL, cmd_query_status },
    { "stop", NULL, cmd_stop },
    { "cont", NULL, cmd_cont },
    { "system_reset", NULL, cmd_system_reset },
    { "system_powerdown", NULL, cmd_system_powerdown },
    { "quit", NULL, cmd_quit },
    { "screendump", screendump_args, cmd_screendump },
    { "query-cpus-fast", NULL, cmd_query_cpus_fast },
    { "query-version", NULL, cmd_query_version },
    { "query-commands", NULL, cmd_query_commands },
    { "query-name", NULL, cmd_query_name },
    { "human-monitor-command", hmp_args, cmd_human_monitor_command },
    { "migrate", migrate_args, cmd_migrate },
    { "migrate_cancel", NULL, cmd_migrate_cancel },
    { "query-migrate", NULL, cmd_query_migrate },
    { "migrate-set-parameters", migrate_parameters_args, cmd_migrate_set_parameters },
    { "query-migrate-parameters", NULL, cmd_query_migrate_parameters },
};

static VireoJson *cmd_query_commands(Call *c, GError **error)
{
    VireoJson *list = vireo_json_new_array();

    for (unsigned i = 0; i < G_N_ELEMENTS(commands); i++) {
        VireoJson *cmd = vireo_json_new_object();
        vireo_json_object_set(cmd, "name", vireo_json_new_string(commands[i].name));
        vireo_json_array_add(list, cmd);
    }
    return list;
}

static const Command *find_command(const VireoJson *name)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (vireo_json_string_equal(name, commands[i].name)) {
            return &commands[i];
        }
    }
    return NULL;
}

static bool key_is(const char *key, size_t len, const char *name)
{
    return len == strlen(name) && memcmp(key, name, len) == 0;
}

static bool is_value_of(const VireoJson *v, const char *const *values)
{
    for (unsigned i = 0; values[i] != NULL; i++) {
        if (vireo_json_string_equal(v, values[i])) {
            return true;
        }
    }
    return false;
}

static bool arg_error(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

static bool arg_error(GError **error, const char *format, ...)
{
    va_list ap;

    va_start(ap, format);
    g_propagate_error(error,
                      g_error_new_valist(VIREO_QMP_ERROR, VIREO_QMP_ERROR_GENERIC, format, ap));
    va_end(ap);
    return false;
}

/* A value of an argument, for a message: a string as it is (up to a limit),
 * anything else as JSON. */
static char *show_value(const VireoJson *v)
{
    g_autofree char *text = NULL;

    if (vireo_json_type(v) == VIREO_JSON_STRING) {
        text = g_strdup(vireo_json_get_string(v, NULL));
    } else {
        text = vireo_json_to_string(v);
    }
    if (strlen(text) > 64) {
        return g_strdup_printf("%.64s…", text);
    }
    return g_steal_pointer(&text);
}

/* The checks QEMU makes on a command's arguments, in its order: each
 * argument the command has (missing, of the wrong type, not one of its
 * values), then the members it does not have. */
static bool check_args(const Command *cmd, const VireoJson *args, GError **error)
{
    for (const ArgSpec *a = cmd->args; a != NULL && a->name != NULL; a++) {
        VireoJson *v = vireo_json_object_get(args, a->name);

        if (v == NULL) {
            if (!a->optional) {
                return arg_error(error, "Parameter '%s' is missing", a->name);
            }
            continue;
        }
        switch (a->type) {
        case ARG_STRING:
        case ARG_ENUM:
            if (vireo_json_type(v) != VIREO_JSON_STRING) {
                return arg_error(error, "Invalid parameter type for '%s', expected: string",
                                 a->name);
            }
            if (a->type == ARG_ENUM && !is_value_of(v, a->values)) {
                g_autofree char *shown = show_value(v);
                return arg_error(error, "Parameter '%s' does not accept value '%s'", a->name,
                                 shown);
            }
            break;
        case ARG_INT:
            if (vireo_json_type(v) != VIREO_JSON_INT) {
                return arg_error(error, "Invalid parameter type for '%s', expected: integer",
                                 a->name);
            }
            break;
        case ARG_ENUM_LIST:
            if (vireo_json_type(v) != VIREO_JSON_ARRAY) {
                return arg_error(error, "Invalid parameter type for '%s', expected: array",
                                 a->name);
            }
            for (size_t i = 0; i < vireo_json_length(v); i++) {
                VireoJson *item = vireo_json_array_get(v, i);
                if (vireo_json_type(item) != VIREO_JSON_STRING) {
                    return arg_error(error,
                                     "Invalid parameter type for '%s[%zu]', expected: string",
                                     a->name, i);
                }
                if (!is_value_of(item, a->values)) {
                    g_autofree char *shown = show_value(item);
                    return arg_error(error, "Parameter '%s[%zu]' does not accept value '%s'",
                                     a->name, i, shown);
                }
            }
            break;
        }
    }
    for (size_t i = 0; i < vireo_json_length(args); i++) {
        size_t len;
        const char *key = vireo_json_object_key(args, i, &len);
        bool known = false;

        for (const ArgSpec *a = cmd->args; a != NULL && a->name != NULL && !known; a++) {
            known = key_is(key, len, a->name);
        }
        if (!known) {
            return arg_error(error, "Parameter '%s' is unexpected", key);
        }
    }
    return true;
}

/* One request: its members checked as QEMU's dispatcher checks them, then
 * negotiation, the command and its arguments. */
static void handle_request(VireoQmpSession *s, VireoJson *req)
{
    const VireoJson *id = NULL, *execute = NULL, *exec_oob = NULL, *arguments = NULL, *name;
    g_autoptr(VireoJson) no_args = NULL;
    g_autoptr(GError) error = NULL;
    const Command *cmd;
    VireoJson *result;
    Call call;

    if (vireo_json_type(req) != VIREO_JSON_OBJECT) {
        reply_error(s, NULL, VIREO_QMP_ERROR_GENERIC, "QMP input must be a JSON object");
        return;
    }
    id = vireo_json_object_get(req, "id");
    for (size_t i = 0; i < vireo_json_length(req); i++) {
        size_t len;
        const char *key = vireo_json_object_key(req, i, &len);
        VireoJson *v = vireo_json_object_value(req, i);
        bool is_execute = key_is(key, len, "execute");
        bool is_exec_oob = s->oob && key_is(key, len, "exec-oob");

        if (is_execute || is_exec_oob) {
            if (vireo_json_type(v) != VIREO_JSON_STRING) {
                reply_error(s, id, VIREO_QMP_ERROR_GENERIC,
                            "QMP input member '%s' must be a string", key);
                return;
            }
            if (is_execute) {
                execute = v;
            } else {
                exec_oob = v;
            }
        } else if (key_is(key, len, "arguments")) {
            if (vireo_json_type(v) != VIREO_JSON_OBJECT) {
                reply_error(s, id, VIREO_QMP_ERROR_GENERIC,
                            "QMP input member 'arguments' must be an object");
                return;
            }
            arguments = v;
        } else if (!key_is(key, len, "id")) {
            reply_error(s, id, VIREO_QMP_ERROR_GENERIC, "QMP input member '%s' is unexpected", key);
            return;
        }
    }
    if (execute != NULL && exec_oob != NULL) {
        reply_error(s, id, VIREO_QMP_ERROR_GENERIC,
                    "QMP input member 'execute' clashes with 'exec-oob'");
        return;
    }
    name = execute != NULL ? execute : exec_oob;
    if (name == NULL) {
        reply_error(s, id, VIREO_QMP_ERROR_GENERIC, "QMP input lacks member 'execute'");
        return;
    }
    if (!s->negotiated && !vireo_json_string_equal(name, "qmp_capabilities")) {
        reply_error(s, id, VIREO_QMP_ERROR_COMMAND_NOT_FOUND,
                    "Expecting capabilities negotiation with 'qmp_capabilities'");
        return;
    }
    if (s->negotiated && vireo_json_string_equal(name, "qmp_capabilities")) {
        reply_error(s, id, VIREO_QMP_ERROR_COMMAND_NOT_FOUND,
                    "Capabilities negotiation is already complete, command ignored");
        return;
    }
    cmd = find_command(name);
    if (cmd == NULL) {
        g_autofree char *shown = show_value(name);
        reply_error(s, id, VIREO_QMP_ERROR_COMMAND_NOT_FOUND, "The command %s has not been found",
                    shown);
        return;
    }
    if (exec_oob != NULL) {
        reply_error(s, id, VIREO_QMP_ERROR_GENERIC, "The command %s does not support OOB",
                    cmd->name);
        return;
    }
    if (arguments == NULL) {
        no_args = vireo_json_new_object();
        arguments = no_args;
    }
    if (!check_args(cmd, arguments, &error)) {
        send_error(s, error, id);
        return;
    }
    call = (Call){ s, s->qmp, arguments };
    g_mutex_lock(&s->qmp->run_lock);
    result = cmd->run(&call, &error);
    g_mutex_unlock(&s->qmp->run_lock);
    if (result == NULL) {
        if (error == NULL) {
            g_set_error(&error, VIREO_QMP_ERROR, VIREO_QMP_ERROR_GENERIC, "The command %s failed",
                        cmd->name);
        }
        send_error(s, error, id);
        return;
    }
    send_return(s, result, id);
}

/* ---- sessions ---- */

static void on_value(void *opaque, VireoJson *value, const GError *error)
{
    VireoQmpSession *s = opaque;
    g_autoptr(VireoJson) v = value;

    if (s->quitting) {
        return;
    }
    if (error != NULL) {
        send_error(s, error, NULL);
        return;
    }
    handle_request(s, v);
}

VireoQmpSession *vireo_qmp_session_new(VireoQmp *qmp, VireoQmpWriteFunc write, void *opaque)
{
    VireoQmpSession *s = g_new0(VireoQmpSession, 1);
    g_autoptr(VireoJson) greeting = vireo_json_new_object();
    VireoJson *body = vireo_json_new_object();
    VireoJson *caps = vireo_json_new_array();

    s->qmp = qmp;
    s->write = write;
    s->opaque = opaque;
    s->stream = vireo_json_stream_new(VIREO_QMP_MAX_INPUT, on_value, s);
    g_ptr_array_add(qmp->sessions, s);

    vireo_json_array_add(caps, vireo_json_new_string("oob"));
    vireo_json_object_set(body, "version", version_object());
    vireo_json_object_set(body, "capabilities", caps);
    vireo_json_object_set(greeting, "QMP", body);
    send_message(s, greeting);
    return s;
}

void vireo_qmp_session_feed(VireoQmpSession *session, const void *data, size_t len)
{
    if (!session->quitting) {
        vireo_json_stream_feed(session->stream, data, len);
    }
}

bool vireo_qmp_session_negotiated(VireoQmpSession *session)
{
    return session->negotiated;
}

bool vireo_qmp_session_quitting(VireoQmpSession *session)
{
    return session->quitting;
}

void vireo_qmp_session_free(VireoQmpSession *session)
{
    if (session == NULL) {
        return;
    }
    g_ptr_array_remove(session->qmp->sessions, session);
    vireo_json_stream_free(session->stream);
    g_free(session);
}

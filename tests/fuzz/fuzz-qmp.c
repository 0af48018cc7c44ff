/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The QMP monitor's parser and dispatcher (app/vireo-json.c, vireo-qmp.c,
 * vireo-qmp-hmp.c) on what a client sends, with a fake host that keeps its
 * state in memory and writes no file. Byte 0 chooses how the rest arrives:
 * bit 0, a session already negotiated; bits 1-4, pieces of that many bytes
 * (0: all at once). Everything the monitor writes must be JSON objects on
 * CRLF-ended lines, in ASCII.
 */
#include "vireo-qmp.h"

#include <stdlib.h>
#include <string.h>

#include "engine/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    VireoQmpStatus status;
    VireoScanout *scanout; /* without a picture: screendump fails before writing */
    GPtrArray *snapshots;  /* VireoQmpSnapshot */
    VireoQmp *qmp;
    GString *out;
    bool quit;
} Host;

static VireoQmpStatus get_status(void *h)
{
    return ((Host *)h)->status;
}

static bool stop(void *opaque, GError **error)
{
    Host *h = opaque;

    if (h->status == VIREO_QMP_STATUS_RUNNING) {
        h->status = VIREO_QMP_STATUS_PAUSED;
        vireo_qmp_emit_event(h->qmp, "STOP", NULL);
    }
    return true;
}

static bool cont(void *opaque, GError **error)
{
    Host *h = opaque;

    if (h->status == VIREO_QMP_STATUS_SHUTDOWN) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG, "shut down");
        return false;
    }
    if (h->status == VIREO_QMP_STATUS_PAUSED) {
        h->status = VIREO_QMP_STATUS_RUNNING;
        vireo_qmp_emit_event(h->qmp, "RESUME", NULL);
    }
    return true;
}

static bool system_reset(void *opaque, GError **error)
{
    Host *h = opaque;
    VireoJson *d = vireo_json_new_object();

    vireo_json_object_set(d, "guest", vireo_json_new_bool(false));
    vireo_json_object_set(d, "reason", vireo_json_new_string("host-qmp-system-reset"));
    vireo_qmp_emit_event(h->qmp, "RESET", d);
    return true;
}

static void quit(void *opaque)
{
    Host *h = opaque;

    h->quit = true;
    h->status = VIREO_QMP_STATUS_SHUTDOWN;
    vireo_qmp_emit_event(h->qmp, "SHUTDOWN", NULL);
}

static unsigned n_cpus(void *h)
{
    return 2;
}

static gint64 cpu_thread_id(void *h, unsigned index)
{
    return 100 + index;
}

static VireoScanout *get_scanout(void *h)
{
    return ((Host *)h)->scanout;
}

static VireoQmpSnapshot *find(Host *h, const char *name)
{
    for (guint i = 0; i < h->snapshots->len; i++) {
        VireoQmpSnapshot *s = g_ptr_array_index(h->snapshots, i);
        if (strcmp(s->name, name) == 0) {
            return s;
        }
    }
    return NULL;
}

static bool savevm(void *opaque, const char *name, GError **error)
{
    Host *h = opaque;
    VireoQmpSnapshot *old = find(h, name);

    if (h->status == VIREO_QMP_STATUS_RUNNING) {
        abort(); /* the monitor pauses the machine first */
    }
    if (old != NULL) {
        g_ptr_array_remove(h->snapshots, old);
    }
    if (h->snapshots->len >= 8) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "no room");
        return false;
    }
    g_ptr_array_add(h->snapshots, vireo_qmp_snapshot_new(NULL, name, strlen(name) * 1000003ull,
                                                         (gint64)strlen(name) * 86400 * 365,
                                                         strlen(name) * 999999999ull));
    return true;
}

static bool loadvm(void *opaque, const char *name, GError **error)
{
    Host *h = opaque;

    if (h->status == VIREO_QMP_STATUS_RUNNING) {
        abort();
    }
    if (find(h, name) == NULL) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG, "no snapshot '%s'", name);
        return false;
    }
    return true;
}

static bool delvm(void *opaque, const char *name, GError **error)
{
    Host *h = opaque;
    VireoQmpSnapshot *s = find(h, name);

    if (s == NULL) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG, "no snapshot '%s'", name);
        return false;
    }
    g_ptr_array_remove(h->snapshots, s);
    return true;
}

static GPtrArray *list_snapshots(void *opaque, GError **error)
{
    Host *h = opaque;
    GPtrArray *list = g_ptr_array_new();

    for (guint i = 0; i < h->snapshots->len; i++) {
        const VireoQmpSnapshot *s = g_ptr_array_index(h->snapshots, i);
        g_ptr_array_add(list, vireo_qmp_snapshot_new(s->id, s->name, s->vm_state_size, s->date,
                                                     s->vm_clock_ns));
    }
    return list;
}

static const VireoQmpHostOps ops = {
    .get_status = get_status,
    .stop = stop,
    .cont = cont,
    .system_reset = system_reset,
    .quit = quit,
    .n_cpus = n_cpus,
    .cpu_thread_id = cpu_thread_id,
    .get_scanout = get_scanout,
    .savevm = savevm,
    .loadvm = loadvm,
    .delvm = delvm,
    .list_snapshots = list_snapshots,
};

static void sink(void *opaque, const char *text, size_t len)
{
    g_string_append_len(((Host *)opaque)->out, text, (gssize)len);
}

/* Every line the monitor wrote is one JSON object in ASCII. */
static void check_output(GString *out)
{
    const char *p = out->str, *end = out->str + out->len;

    while (p < end) {
        const char *nl = g_strstr_len(p, end - p, "\r\n");
        g_autoptr(VireoJson) v = NULL;

        if (nl == NULL) {
            abort(); /* a message without its CRLF */
        }
        for (const char *c = p; c < nl; c++) {
            if ((guint8)*c >= 0x80 || (guint8)*c < 0x20) {
                abort();
            }
        }
        v = vireo_json_parse(p, (size_t)(nl - p), NULL);
        if (v == NULL || vireo_json_type(v) != VIREO_JSON_OBJECT) {
            abort();
        }
        p = nl + 2;
    }
    g_string_truncate(out, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Host h = { .status = VIREO_QMP_STATUS_RUNNING };
    VireoQmpSession *session;
    size_t piece;

    if (size == 0) {
        return 0;
    }
    g_setenv("TZ", "UTC", TRUE);
    h.scanout = vireo_scanout_new();
    h.snapshots = g_ptr_array_new_with_free_func((GDestroyNotify)vireo_qmp_snapshot_free);
    h.out = g_string_new(NULL);
    h.qmp = vireo_qmp_new(&ops, &h);
    vireo_qmp_set_name(h.qmp, "fuzz");
    session = vireo_qmp_session_new(h.qmp, sink, &h);
    if (data[0] & 1) {
        static const char negotiate[] = "{\"execute\": \"qmp_capabilities\"}";
        vireo_qmp_session_feed(session, negotiate, sizeof negotiate - 1);
    }
    piece = (data[0] >> 1) & 15;
    data++;
    size--;
    if (piece == 0) {
        piece = size;
    }
    for (size_t at = 0; at < size; at += piece) {
        vireo_qmp_session_feed(session, data + at, MIN(piece, size - at));
        check_output(h.out);
    }
    vireo_qmp_flush_events(h.qmp);
    check_output(h.out);
    if (h.quit && !vireo_qmp_session_quitting(session)) {
        abort(); /* quit's session takes no more commands */
    }
    vireo_qmp_session_free(session);
    vireo_qmp_free(h.qmp);
    vireo_scanout_free(h.scanout);
    g_ptr_array_free(h.snapshots, TRUE);
    g_string_free(h.out, TRUE);
    return 0;
}

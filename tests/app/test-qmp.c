/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The QMP monitor's protocol and commands (app/vireo-qmp.c, vireo-qmp-hmp.c)
 * on a fake host, without a socket: well-formed sessions, then everything a
 * hostile client can send. */
#include "config.h"

#include "vireo-qmp.h"

#include <glib/gstdio.h>
#include <string.h>

#include "engine/error.h"

/* ---- a fake host ---- */

typedef struct {
    VireoQmpStatus status;
    GString *log; /* the operations called, "stop;cont;..." */
    bool fail_reset;
    unsigned n_cpus;
    VireoScanout *scanout;
    GPtrArray *snapshots; /* VireoQmpSnapshot; NULL: no snapshot operations */
    bool fail_load;
    VireoQmp *qmp;
} Host;

static VireoQmpStatus host_get_status(void *opaque)
{
    return ((Host *)opaque)->status;
}

static bool host_stop(void *opaque, GError **error)
{
    Host *h = opaque;

    g_string_append(h->log, "stop;");
    if (h->status == VIREO_QMP_STATUS_RUNNING) {
        h->status = VIREO_QMP_STATUS_PAUSED;
        vireo_qmp_emit_event(h->qmp, "STOP", NULL);
    }
    return true;
}

static bool host_cont(void *opaque, GError **error)
{
    Host *h = opaque;

    g_string_append(h->log, "cont;");
    if (h->status == VIREO_QMP_STATUS_PAUSED) {
        h->status = VIREO_QMP_STATUS_RUNNING;
        vireo_qmp_emit_event(h->qmp, "RESUME", NULL);
    }
    return true;
}

static bool host_system_reset(void *opaque, GError **error)
{
    Host *h = opaque;

    g_string_append(h->log, "reset;");
    if (h->fail_reset) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE, "the reset failed");
        return false;
    }
    return true;
}

static bool host_system_powerdown(void *opaque, GError **error)
{
    g_string_append(((Host *)opaque)->log, "powerdown;");
    return true;
}

static void host_quit(void *opaque)
{
    Host *h = opaque;

    g_string_append(h->log, "quit;");
    h->status = VIREO_QMP_STATUS_SHUTDOWN;
}

static unsigned host_n_cpus(void *opaque)
{
    return ((Host *)opaque)->n_cpus;
}

static gint64 host_cpu_thread_id(void *opaque, unsigned index)
{
    return 1000 + index;
}

static VireoScanout *host_get_scanout(void *opaque)
{
    return ((Host *)opaque)->scanout;
}

static VireoQmpSnapshot *find_snapshot(Host *h, const char *name)
{
    for (guint i = 0; i < h->snapshots->len; i++) {
        VireoQmpSnapshot *s = g_ptr_array_index(h->snapshots, i);
        if (strcmp(s->name, name) == 0) {
            return s;
        }
    }
    return NULL;
}

static bool host_savevm(void *opaque, const char *name, GError **error)
{
    Host *h = opaque;
    VireoQmpSnapshot *old = find_snapshot(h, name);

    g_string_append_printf(h->log, "savevm %s (%s);", name, vireo_qmp_status_name(h->status));
    if (old != NULL) {
        g_ptr_array_remove(h->snapshots, old);
    }
    /* 2023-11-14 22:13:20 UTC, 1 h 2 min 3.456 s of guest time. */
    g_ptr_array_add(h->snapshots,
                    vireo_qmp_snapshot_new("1", name, 470000, 1700000000, 3723456000000ull));
    return true;
}

static bool host_loadvm(void *opaque, const char *name, GError **error)
{
    Host *h = opaque;

    g_string_append_printf(h->log, "loadvm %s (%s);", name, vireo_qmp_status_name(h->status));
    if (h->fail_load || find_snapshot(h, name) == NULL) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG, "Snapshot '%s' does not exist", name);
        return false;
    }
    return true;
}

static bool host_delvm(void *opaque, const char *name, GError **error)
{
    Host *h = opaque;
    VireoQmpSnapshot *s = find_snapshot(h, name);

    g_string_append_printf(h->log, "delvm %s;", name);
    if (s == NULL) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG, "Snapshot '%s' does not exist", name);
        return false;
    }
    g_ptr_array_remove(h->snapshots, s);
    return true;
}

static GPtrArray *host_list_snapshots(void *opaque, GError **error)
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

static const VireoQmpHostOps host_ops = {
    .get_status = host_get_status,
    .stop = host_stop,
    .cont = host_cont,
    .system_reset = host_system_reset,
    .system_powerdown = host_system_powerdown,
    .quit = host_quit,
    .n_cpus = host_n_cpus,
    .cpu_thread_id = host_cpu_thread_id,
    .get_scanout = host_get_scanout,
    .savevm = host_savevm,
    .loadvm = host_loadvm,
    .delvm = host_delvm,
    .list_snapshots = host_list_snapshots,
};

/* The same without a display, snapshots or a power button. */
static const VireoQmpHostOps bare_ops = {
    .get_status = host_get_status,
    .stop = host_stop,
    .cont = host_cont,
    .system_reset = host_system_reset,
    .quit = host_quit,
    .n_cpus = host_n_cpus,
    .cpu_thread_id = host_cpu_thread_id,
};

/* ---- a client ---- */

typedef struct {
    Host host;
    VireoQmp *qmp;
    VireoQmpSession *session;
    GString *out; /* what the session wrote, not yet taken */
} Fixture;

static void sink_write(void *opaque, const char *data, size_t len)
{
    g_string_append_len(((Fixture *)opaque)->out, data, (gssize)len);
}

static void fixture_init(Fixture *f, const VireoQmpHostOps *ops)
{
    memset(f, 0, sizeof *f);
    f->host.status = VIREO_QMP_STATUS_RUNNING;
    f->host.log = g_string_new(NULL);
    f->host.n_cpus = 2;
    f->host.snapshots = g_ptr_array_new_with_free_func((GDestroyNotify)vireo_qmp_snapshot_free);
    f->qmp = vireo_qmp_new(ops, &f->host);
    f->host.qmp = f->qmp;
    f->out = g_string_new(NULL);
    f->session = vireo_qmp_session_new(f->qmp, sink_write, f);
}

static void fixture_clear(Fixture *f)
{
    vireo_qmp_session_free(f->session);
    vireo_qmp_free(f->qmp);
    g_string_free(f->out, TRUE);
    g_string_free(f->host.log, TRUE);
    g_ptr_array_free(f->host.snapshots, TRUE);
    g_clear_pointer(&f->host.scanout, vireo_scanout_free);
}

/* Every message written since the last call, parsed; each must be one JSON
 * object on a line ending in CRLF, in ASCII. */
static GPtrArray *take(Fixture *f)
{
    GPtrArray *msgs = g_ptr_array_new_with_free_func((GDestroyNotify)vireo_json_free);
    const char *p = f->out->str;
    const char *nl;

    for (gsize i = 0; i < f->out->len; i++) {
        g_assert_cmpint((guint8)f->out->str[i], <, 0x80);
    }
    while ((nl = strstr(p, "\r\n")) != NULL) {
        g_autoptr(GError) error = NULL;
        VireoJson *v = vireo_json_parse(p, (size_t)(nl - p), &error);

        g_assert_no_error(error);
        g_assert_cmpint(vireo_json_type(v), ==, VIREO_JSON_OBJECT);
        g_ptr_array_add(msgs, v);
        p = nl + 2;
    }
    g_assert_cmpstr(p, ==, ""); /* nothing half-written */
    g_string_truncate(f->out, 0);
    return msgs;
}

static void send_bytes(Fixture *f, const void *data, size_t len)
{
    vireo_qmp_session_feed(f->session, data, len);
}

static void send_text(Fixture *f, const char *text)
{
    send_bytes(f, text, strlen(text));
}

/* Sends `request` and returns the one message it brings (events first are
 * not allowed here). */
static VireoJson *ask(Fixture *f, const char *request)
{
    g_autoptr(GPtrArray) msgs = NULL;

    send_text(f, request);
    msgs = take(f);
    if (msgs->len != 1) {
        g_error("%s: %u messages", request, msgs->len);
    }
    return g_ptr_array_steal_index(msgs, 0);
}

static char *text_of(const VireoJson *v)
{
    return vireo_json_to_string(v);
}

/* The reply `r` is the error of `klass` whose description contains `desc`. */
static void assert_error(const VireoJson *r, const char *klass, const char *desc)
{
    VireoJson *e = vireo_json_object_get(r, "error");
    g_autofree char *text = text_of(r);

    if (e == NULL || !vireo_json_string_equal(vireo_json_object_get(e, "class"), klass) ||
        strstr(vireo_json_get_string(vireo_json_object_get(e, "desc"), NULL), desc) == NULL) {
        g_error("%s is not a %s error with “%s”", text, klass, desc);
    }
    g_assert_null(vireo_json_object_get(r, "return"));
}

static void ask_error(Fixture *f, const char *request, const char *klass, const char *desc)
{
    g_autoptr(VireoJson) r = ask(f, request);
    assert_error(r, klass, desc);
}

/* The reply's "return" as JSON text. */
static char *ask_return(Fixture *f, const char *request)
{
    g_autoptr(VireoJson) r = ask(f, request);
    VireoJson *ret = vireo_json_object_get(r, "return");
    g_autofree char *text = text_of(r);

    if (ret == NULL) {
        g_error("%s: %s", request, text);
    }
    return text_of(ret);
}

/* The text human-monitor-command returns for `line`; events that come
 * before the reply are dropped. */
static char *hmp(Fixture *f, const char *line)
{
    g_autoptr(VireoJson) req = vireo_json_new_object();
    g_autoptr(VireoJson) args = vireo_json_new_object();
    g_autoptr(GPtrArray) msgs = NULL;
    g_autofree char *text = NULL;
    VireoJson *ret;

    vireo_json_object_set(req, "execute", vireo_json_new_string("human-monitor-command"));
    vireo_json_object_set(args, "command-line", vireo_json_new_string(line));
    vireo_json_object_set(req, "arguments", g_steal_pointer(&args));
    text = text_of(req);
    send_text(f, text);
    msgs = take(f);
    g_assert_cmpuint(msgs->len, >=, 1);
    for (guint i = 0; i + 1 < msgs->len; i++) {
        g_assert_nonnull(vireo_json_object_get(msgs->pdata[i], "event"));
    }
    ret = vireo_json_object_get(msgs->pdata[msgs->len - 1], "return");
    g_assert_nonnull(ret);
    return g_strdup(vireo_json_get_string(ret, NULL));
}

static void negotiate(Fixture *f)
{
    g_autofree char *r = NULL;
    g_autoptr(GPtrArray) greeting = take(f);

    g_assert_cmpuint(greeting->len, ==, 1);
    r = ask_return(f, "{\"execute\": \"qmp_capabilities\"}");
    g_assert_cmpstr(r, ==, "{}");
}

#define ASSERT_RETURN(f, request, expected)             \
    do {                                                \
        g_autofree char *got_ = ask_return(f, request); \
        g_assert_cmpstr(got_, ==, expected);            \
    } while (0)

/* ---- tests ---- */

static void test_greeting(void)
{
    Fixture f;
    g_autoptr(GPtrArray) msgs = NULL;
    g_autofree char *text = NULL;

    fixture_init(&f, &host_ops);
    msgs = take(&f);
    g_assert_cmpuint(msgs->len, ==, 1);
    text = text_of(g_ptr_array_index(msgs, 0));
    g_assert_cmpstr(
        text, ==,
        "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, "
        "\"package\": \"Vireo " PACKAGE_VERSION "\"}, \"capabilities\": [\"oob\"]}}");
    fixture_clear(&f);
}

static void test_negotiation(void)
{
    Fixture f;
    g_autoptr(VireoJson) r = NULL;
    g_autofree char *text = NULL;

    fixture_init(&f, &host_ops);
    take(&f);
    /* Nothing but qmp_capabilities before negotiation; the id comes back. */
    ask_error(&f, "{\"execute\": \"query-status\", \"id\": 1}", "CommandNotFound",
              "Expecting capabilities negotiation with 'qmp_capabilities'");
    ask_error(&f, "{\"execute\": \"no-such-command\"}", "CommandNotFound",
              "Expecting capabilities negotiation");
    ask_error(&f, "{\"exec-oob\": \"query-status\"}", "GenericError",
              "QMP input member 'exec-oob' is unexpected");
    ask_error(&f, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"x\"]}}",
              "GenericError", "Parameter 'enable[0]' does not accept value 'x'");
    ask_error(&f, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": \"oob\"}}",
              "GenericError", "Invalid parameter type for 'enable', expected: array");
    ask_error(&f, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [1]}}",
              "GenericError", "Invalid parameter type for 'enable[0]', expected: string");
    ask_error(&f, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"bogus\": 1}}",
              "GenericError", "Parameter 'bogus' is unexpected");
    g_assert_false(vireo_qmp_session_negotiated(f.session));
    r = ask(&f, "{\"execute\": \"qmp_capabilities\", \"id\": \"neg\"}");
    text = text_of(r);
    g_assert_cmpstr(text, ==, "{\"return\": {}, \"id\": \"neg\"}");
    g_assert_true(vireo_qmp_session_negotiated(f.session));
    ask_error(&f, "{\"execute\": \"qmp_capabilities\", \"id\": 7}", "CommandNotFound",
              "Capabilities negotiation is already complete, command ignored");
    /* Without the oob capability, exec-oob is not a member of a request. */
    ask_error(&f, "{\"exec-oob\": \"query-status\"}", "GenericError", "'exec-oob' is unexpected");
    fixture_clear(&f);

    /* With it, every command answers that it cannot run out of band. */
    fixture_init(&f, &host_ops);
    take(&f);
    ASSERT_RETURN(&f, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"oob\"]}}",
                  "{}");
    ask_error(&f, "{\"exec-oob\": \"query-status\", \"id\": 3}", "GenericError",
              "The command query-status does not support OOB");
    ask_error(&f, "{\"exec-oob\": \"nope\"}", "CommandNotFound",
              "The command nope has not been found");
    ask_error(&f, "{\"exec-oob\": \"stop\", \"execute\": \"stop\"}", "GenericError",
              "QMP input member 'execute' clashes with 'exec-oob'");
    ask_error(&f, "{\"exec-oob\": 1}", "GenericError", "'exec-oob' must be a string");
    g_assert_cmpstr(f.host.log->str, ==, "");
    fixture_clear(&f);
}

static void test_requests(void)
{
    Fixture f;
    g_autoptr(VireoJson) r = NULL;
    g_autofree char *text = NULL;

    fixture_init(&f, &host_ops);
    negotiate(&f);
    /* The members of a request, as QEMU checks them. */
    ask_error(&f, "[1, 2]", "GenericError", "QMP input must be a JSON object");
    ask_error(&f, "\"str\"", "GenericError", "QMP input must be a JSON object");
    ask_error(&f, "{}", "GenericError", "QMP input lacks member 'execute'");
    ask_error(&f, "{\"execute\": 5}", "GenericError",
              "QMP input member 'execute' must be a string");
    ask_error(&f, "{\"exec\": \"stop\"}", "GenericError", "QMP input member 'exec' is unexpected");
    ask_error(&f, "{\"execute\": \"stop\", \"extra\": 1}", "GenericError",
              "QMP input member 'extra' is unexpected");
    ask_error(&f, "{\"execute\": \"query-status\", \"arguments\": []}", "GenericError",
              "QMP input member 'arguments' must be an object");
    ask_error(&f, "{\"execute\": \"query-status\", \"arguments\": null}", "GenericError",
              "'arguments' must be an object");
    ask_error(&f, "{\"execute\": \"no-such\"}", "CommandNotFound",
              "The command no-such has not been found");
    ask_error(&f, "{\"execute\": \"stop\\u0000\"}", "CommandNotFound", "has not been found");
    ask_error(&f, "{\"execute\": \"query-status\", \"arguments\": {\"x\": 1}}", "GenericError",
              "Parameter 'x' is unexpected");
    ask_error(&f, "{\"execute\": \"query-status\", \"execute\": \"stop\"}", "GenericError",
              "JSON parse error, duplicate key 'execute'");
    g_assert_cmpstr(f.host.log->str, ==, "");

    /* Any id comes back as it was sent, on errors too. */
    r = ask(&f, "{\"id\": {\"a\": [1, \"\\u00e9\", null, 1.5, -3]}, \"execute\": \"query-name\"}");
    text = text_of(r);
    g_assert_cmpstr(text, ==, "{\"return\": {}, \"id\": {\"a\": [1, \"\\u00E9\", null, 1.5, -3]}}");
    g_clear_pointer(&r, vireo_json_free);
    g_clear_pointer(&text, g_free);
    r = ask(&f, "{\"id\": 5}");
    text = text_of(r);
    g_assert_cmpstr(text, ==,
                    "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input lacks member "
                    "'execute'\"}, \"id\": 5}");
    fixture_clear(&f);
}

static void test_arguments(void)
{
    Fixture f;

    fixture_init(&f, &host_ops);
    negotiate(&f);
    ask_error(&f, "{\"execute\": \"screendump\"}", "GenericError",
              "Parameter 'filename' is missing");
    ask_error(&f, "{\"execute\": \"screendump\", \"arguments\": {\"filename\": 5}}", "GenericError",
              "Invalid parameter type for 'filename', expected: string");
    ask_error(&f, "{\"execute\": \"screendump\", \"arguments\": {\"filename\": null}}",
              "GenericError", "Invalid parameter type for 'filename', expected: string");
    ask_error(&f,
              "{\"execute\": \"screendump\", \"arguments\": {\"filename\": \"x\", \"format\": "
              "\"jpg\"}}",
              "GenericError", "Parameter 'format' does not accept value 'jpg'");
    ask_error(&f,
              "{\"execute\": \"screendump\", \"arguments\": {\"filename\": \"x\", \"head\": "
              "\"0\"}}",
              "GenericError", "Invalid parameter type for 'head', expected: integer");
    ask_error(&f,
              "{\"execute\": \"screendump\", \"arguments\": {\"filename\": \"x\", \"head\": 1.0}}",
              "GenericError", "expected: integer");
    ask_error(&f,
              "{\"execute\": \"screendump\", \"arguments\": {\"filename\": \"x\", \"head\": "
              "18446744073709551615}}",
              "GenericError", "expected: integer");
    /* The arguments it has come first, then the ones it does not. */
    ask_error(&f, "{\"execute\": \"screendump\", \"arguments\": {\"zzz\": 1}}", "GenericError",
              "Parameter 'filename' is missing");
    ask_error(&f, "{\"execute\": \"screendump\", \"arguments\": {\"filename\": \"x\", \"zzz\": 1}}",
              "GenericError", "Parameter 'zzz' is unexpected");
    ask_error(&f, "{\"execute\": \"human-monitor-command\"}", "GenericError",
              "Parameter 'command-line' is missing");
    ask_error(&f,
              "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info "
              "status\", \"cpu-index\": 2}}",
              "GenericError", "Parameter 'cpu-index' expects a CPU number");
    ask_error(&f,
              "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info "
              "status\", \"cpu-index\": -1}}",
              "GenericError", "Parameter 'cpu-index' expects a CPU number");
    ask_error(&f,
              "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info "
              "status\", \"cpu-index\": \"x\"}}",
              "GenericError", "Invalid parameter type for 'cpu-index', expected: integer");
    ASSERT_RETURN(&f,
                  "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": "
                  "\"info status\", \"cpu-index\": 1}}",
                  "\"VM status: running\\r\\n\"");
    g_assert_cmpstr(f.host.log->str, ==, "");
    fixture_clear(&f);
}

static void test_commands(void)
{
    Fixture f;
    g_autoptr(GPtrArray) msgs = NULL;
    g_autofree char *text = NULL;

    fixture_init(&f, &host_ops);
    negotiate(&f);
    ASSERT_RETURN(&f, "{\"execute\": \"query-status\"}",
                  "{\"status\": \"running\", \"singlestep\": false, \"running\": true}");
    f.host.status = VIREO_QMP_STATUS_PRELAUNCH;
    ASSERT_RETURN(&f, "{\"execute\": \"query-status\"}",
                  "{\"status\": \"prelaunch\", \"singlestep\": false, \"running\": false}");
    f.host.status = VIREO_QMP_STATUS_INTERNAL_ERROR;
    ASSERT_RETURN(&f, "{\"execute\": \"query-status\"}",
                  "{\"status\": \"internal-error\", \"singlestep\": false, \"running\": false}");
    f.host.status = VIREO_QMP_STATUS_RUNNING;
    ASSERT_RETURN(&f, "{\"execute\": \"query-version\", \"arguments\": {}}",
                  "{\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, \"package\": "
                  "\"Vireo " PACKAGE_VERSION "\"}");
    ASSERT_RETURN(&f, "{\"execute\": \"query-name\"}", "{}");
    vireo_qmp_set_name(f.qmp, "guest-1");
    ASSERT_RETURN(&f, "{\"execute\": \"query-name\"}", "{\"name\": \"guest-1\"}");
    ASSERT_RETURN(&f, "{\"execute\": \"query-cpus-fast\"}",
                  "[{\"thread-id\": 1000, \"props\": {\"core-id\": 0}, \"qom-path\": "
                  "\"/machine/soc0/harts[0]\", \"cpu-index\": 0, \"target\": \"riscv64\"}, "
                  "{\"thread-id\": 1001, \"props\": {\"core-id\": 1}, \"qom-path\": "
                  "\"/machine/soc0/harts[1]\", \"cpu-index\": 1, \"target\": \"riscv64\"}]");
    text = ask_return(&f, "{\"execute\": \"query-commands\"}");
    for (const char *const *c =
             (const char *const[]){ "qmp_capabilities", "query-status", "stop", "cont",
                                    "system_reset", "system_powerdown", "quit", "screendump",
                                    "query-cpus-fast", "query-version", "query-commands",
                                    "query-name", "human-monitor-command", NULL };
         *c != NULL; c++) {
        g_autofree char *entry = g_strdup_printf("{\"name\": \"%s\"}", *c);
        g_assert_nonnull(strstr(text, entry));
    }

    /* stop and cont: the event comes before the reply; twice is no error. */
    send_text(&f, "{\"execute\": \"stop\", \"id\": 1}");
    msgs = take(&f);
    g_assert_cmpuint(msgs->len, ==, 2);
    g_assert_true(vireo_json_string_equal(vireo_json_object_get(msgs->pdata[0], "event"), "STOP"));
    g_assert_nonnull(vireo_json_object_get(msgs->pdata[1], "return"));
    g_clear_pointer(&msgs, g_ptr_array_unref);
    ASSERT_RETURN(&f, "{\"execute\": \"stop\"}", "{}");
    ASSERT_RETURN(&f, "{\"execute\": \"query-status\"}",
                  "{\"status\": \"paused\", \"singlestep\": false, \"running\": false}");
    send_text(&f, "{\"execute\": \"cont\"}");
    msgs = take(&f);
    g_assert_cmpuint(msgs->len, ==, 2);
    g_assert_true(
        vireo_json_string_equal(vireo_json_object_get(msgs->pdata[0], "event"), "RESUME"));
    g_clear_pointer(&msgs, g_ptr_array_unref);
    ASSERT_RETURN(&f, "{\"execute\": \"cont\"}", "{}");

    ASSERT_RETURN(&f, "{\"execute\": \"system_reset\"}", "{}");
    f.host.fail_reset = true;
    ask_error(&f, "{\"execute\": \"system_reset\", \"id\": \"r\"}", "GenericError",
              "the reset failed");
    f.host.fail_reset = false;

    /* system_powerdown: the event, then the host's power button. */
    send_text(&f, "{\"execute\": \"system_powerdown\"}");
    msgs = take(&f);
    g_assert_cmpuint(msgs->len, ==, 2);
    g_assert_true(
        vireo_json_string_equal(vireo_json_object_get(msgs->pdata[0], "event"), "POWERDOWN"));
    g_assert_null(vireo_json_object_get(msgs->pdata[0], "data"));
    g_clear_pointer(&msgs, g_ptr_array_unref);
    g_assert_cmpstr(f.host.log->str, ==, "stop;stop;cont;cont;reset;reset;powerdown;");

    /* quit: the reply, then nothing more is read. */
    send_text(&f, "{\"execute\": \"quit\"}{\"execute\": \"stop\"}");
    msgs = take(&f);
    g_assert_cmpuint(msgs->len, ==, 1);
    g_assert_nonnull(vireo_json_object_get(msgs->pdata[0], "return"));
    g_assert_true(vireo_qmp_session_quitting(f.session));
    send_text(&f, "{\"execute\": \"stop\"}");
    g_assert_cmpuint(f.out->len, ==, 0);
    g_assert_true(g_str_has_suffix(f.host.log->str, "powerdown;quit;"));
    fixture_clear(&f);
}

static void test_bare_host(void)
{
    Fixture f;
    g_autoptr(GPtrArray) msgs = NULL;
    g_autofree char *out = NULL;

    fixture_init(&f, &bare_ops);
    negotiate(&f);
    ask_error(&f, "{\"execute\": \"screendump\", \"arguments\": {\"filename\": \"/tmp/x.ppm\"}}",
              "GenericError", "There is no console to take a screendump from");
    /* Without a power button, the event alone, as on QEMU's riscv virt. */
    send_text(&f, "{\"execute\": \"system_powerdown\"}");
    msgs = take(&f);
    g_assert_cmpuint(msgs->len, ==, 2);
    g_assert_cmpstr(f.host.log->str, ==, "");
    /* No snapshot operations: a clear error for each. */
    out = hmp(&f, "savevm a");
    g_assert_cmpstr(out, ==, "Error: Snapshots are not available on this machine\r\n");
    g_free(out);
    out = hmp(&f, "loadvm a");
    g_assert_cmpstr(out, ==, "Error: Snapshots are not available on this machine\r\n");
    g_free(out);
    out = hmp(&f, "delvm a");
    g_assert_cmpstr(out, ==, "Error: Snapshots are not available on this machine\r\n");
    g_free(out);
    out = hmp(&f, "info snapshots");
    g_assert_cmpstr(out, ==, "Snapshots are not available on this machine\r\n");
    g_assert_cmpstr(f.host.log->str, ==, "");
    fixture_clear(&f);
}

static void test_screendump(void)
{
    Fixture f;
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("vireo-qmp-XXXXXX", &error);
    g_autofree char *ppm = g_build_filename(dir, "shot.png", NULL); /* the name does not matter */
    g_autofree char *png = g_build_filename(dir, "shot", NULL);
    g_autofree char *req = NULL;
    g_autofree char *data = NULL;
    guint8 pixels[4 * 2 * 4];
    gsize len;

    g_assert_no_error(error);
    fixture_init(&f, &host_ops);
    negotiate(&f);
    f.host.scanout = vireo_scanout_new();
    req = g_strdup_printf("{\"execute\": \"screendump\", \"arguments\": {\"filename\": \"%s\"}}",
                          ppm);
    ask_error(&f, req, "GenericError", "The display shows no picture");

    for (int i = 0; i < 8; i++) {
        pixels[4 * i] = (guint8)(10 * i);    /* blue */
        pixels[4 * i + 1] = (guint8)(i + 1); /* green */
        pixels[4 * i + 2] = 200;             /* red */
        pixels[4 * i + 3] = 0;
    }
    g_assert_true(vireo_scanout_set_mode(f.host.scanout, 4, 2, VIREO_PIXEL_B8G8R8X8));
    vireo_scanout_update(f.host.scanout, pixels, 16, (VireoScanoutRect){ 0, 0, 4, 2 });
    ASSERT_RETURN(&f, req, "{}");
    g_assert_true(g_file_get_contents(ppm, &data, &len, NULL));
    g_assert_cmpuint(len, ==, 11 + 24);
    g_assert_cmpmem(data, 11, "P6\n4 2\n255\n", 11);
    g_assert_cmpuint((guint8)data[11], ==, 200);
    g_assert_cmpuint((guint8)data[12], ==, 1);
    g_assert_cmpuint((guint8)data[13], ==, 0);
    g_assert_cmpuint((guint8)data[11 + 21 + 1], ==, 8);
    g_clear_pointer(&data, g_free);
    /* The same again, with nothing new on the display. */
    ASSERT_RETURN(&f, req, "{}");

    g_free(req);
    req = g_strdup_printf(
        "{\"execute\": \"screendump\", \"arguments\": {\"filename\": \"%s\", \"format\": \"png\", "
        "\"head\": 0}}",
        png);
    ASSERT_RETURN(&f, req, "{}");
    g_assert_true(g_file_get_contents(png, &data, &len, NULL));
    g_assert_cmpmem(data, 8, "\x89PNG\r\n\x1a\n", 8);

    g_free(req);
    req = g_strdup_printf(
        "{\"execute\": \"screendump\", \"arguments\": {\"filename\": \"%s\", \"head\": 1}}", png);
    ask_error(&f, req, "GenericError", "no head 1");
    ask_error(&f,
              "{\"execute\": \"screendump\", \"arguments\": {\"filename\": \"x\", \"device\": "
              "\"gpu\"}}",
              "DeviceNotFound", "Device 'gpu' not found");
    ask_error(&f,
              "{\"execute\": \"screendump\", \"arguments\": {\"filename\": "
              "\"/nonexistent-dir/x.ppm\"}}",
              "GenericError", "/nonexistent-dir/x.ppm");
    ask_error(&f, "{\"execute\": \"screendump\", \"arguments\": {\"filename\": \"\"}}",
              "GenericError", "'filename' is not a file name");
    ask_error(&f, "{\"execute\": \"screendump\", \"arguments\": {\"filename\": \"a\\u0000b\"}}",
              "GenericError", "'filename' is not a file name");
    g_unlink(ppm);
    g_unlink(png);
    g_rmdir(dir);
    fixture_clear(&f);
}

static void test_hmp(void)
{
    Fixture f;
    g_autofree char *out = NULL;
    g_autoptr(GPtrArray) msgs = NULL;

#define HMP_IS(line, expected)              \
    do {                                    \
        g_free(out);                        \
        out = hmp(&f, line);                \
        g_assert_cmpstr(out, ==, expected); \
    } while (0)

    fixture_init(&f, &host_ops);
    negotiate(&f);
    HMP_IS("", "");
    HMP_IS("   ", "");
    HMP_IS("info status", "VM status: running\r\n");
    HMP_IS("  info   status  ", "VM status: running\r\n");
    HMP_IS("info status extra",
           "status: extraneous characters at the end of line\r\nTry \"help info status\" for more "
           "information\r\n");
    HMP_IS("info bogus", "unknown command: 'info bogus'\r\n");
    HMP_IS("bogus", "unknown command: 'bogus'\r\n");
    HMP_IS("info name", "");
    vireo_qmp_set_name(f.qmp, "vm1");
    HMP_IS("info name", "vm1\r\n");
    HMP_IS("stop now",
           "stop|s: extraneous characters at the end of line\r\nTry \"help stop\" for more "
           "information\r\n");
    HMP_IS("loadvm", "loadvm: string expected\r\nTry \"help loadvm\" for more information\r\n");
    HMP_IS("savevm a b",
           "savevm: extraneous characters at the end of line\r\nTry \"help savevm\" for more "
           "information\r\n");
    HMP_IS("savevm \"open",
           "savevm: unterminated string literal\r\nTry \"help savevm\" for more information\r\n");
    g_assert_cmpstr(f.host.log->str, ==, "");
    HMP_IS("help savevm",
           "savevm [tag] -- save the machine's state as the snapshot tag (one named after the "
           "date and time without tag)\r\n");
    HMP_IS("help info status", "info status -- whether the machine runs or is paused\r\n");
    HMP_IS("help nope", "unknown command: 'nope'\r\n");
    g_free(out);
    out = hmp(&f, "info");
    g_assert_nonnull(strstr(out, "info snapshots -- "));
    g_free(out);
    out = hmp(&f, "help");
    g_assert_nonnull(strstr(out, "system_reset -- "));
    g_assert_nonnull(strstr(out, "\r\nquit -- "));

    /* stop and cont through HMP send their events before the reply. */
    send_text(&f,
              "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"s\"}}");
    msgs = take(&f);
    g_assert_cmpuint(msgs->len, ==, 2);
    g_clear_pointer(&msgs, g_ptr_array_unref);
    HMP_IS("info status", "VM status: paused\r\n");
    send_text(&f,
              "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"c\"}}");
    msgs = take(&f);
    g_assert_cmpuint(msgs->len, ==, 2);
    g_assert_true(
        vireo_json_string_equal(vireo_json_object_get(msgs->pdata[0], "event"), "RESUME"));
    g_assert_true(vireo_json_string_equal(vireo_json_object_get(msgs->pdata[1], "return"), ""));
    g_clear_pointer(&msgs, g_ptr_array_unref);
    HMP_IS("system_reset", "");
    f.host.fail_reset = true;
    HMP_IS("system_reset", "Error: the reset failed\r\n");
    HMP_IS("info status", "VM status: running\r\n");
    f.host.status = VIREO_QMP_STATUS_SHUTDOWN;
    HMP_IS("info status", "VM status: paused (shutdown)\r\n");
    f.host.status = VIREO_QMP_STATUS_RUNNING;
    g_string_truncate(f.host.log, 0);

    /* Snapshots: saved and loaded with the machine paused, then running
     * again; a failed load leaves it paused. */
    HMP_IS("info snapshots", "There is no snapshot available.\r\n");
    HMP_IS("savevm first", "");
    g_assert_cmpstr(f.host.log->str, ==, "stop;savevm first (paused);cont;");
    HMP_IS("savevm \"with \\\"quotes\\\" and spaces\"", "");
    HMP_IS("savevm", "");
    g_assert_cmpuint(f.host.snapshots->len, ==, 3);
    g_assert_true(g_str_has_prefix(
        ((VireoQmpSnapshot *)g_ptr_array_index(f.host.snapshots, 2))->name, "vm-20"));
    ((VireoQmpSnapshot *)g_ptr_array_index(f.host.snapshots, 2))->vm_state_size = 1000;
    g_free(out);
    out = hmp(&f, "info snapshots");
    {
        g_auto(GStrv) lines = g_strsplit(out, "\r\n", -1);
        g_autofree char *name =
            g_strdup(((VireoQmpSnapshot *)g_ptr_array_index(f.host.snapshots, 2))->name);
        g_autofree char *row3 = g_strdup_printf("--        %-16s 0.977 KiB 2023-11-14 22:13:20 "
                                                "01:02:03.456           ",
                                                name);

        g_assert_cmpuint(g_strv_length(lines), ==, 6);
        g_assert_cmpstr(lines[0], ==, "List of snapshots present on all disks:");
        g_assert_cmpstr(lines[1], ==,
                        "ID        TAG               VM SIZE                DATE     VM CLOCK     "
                        "ICOUNT");
        g_assert_cmpstr(lines[2], ==,
                        "--        first             459 KiB 2023-11-14 22:13:20 01:02:03.456    "
                        "       ");
        g_assert_cmpstr(lines[3], ==,
                        "--        with \"quotes\" and spaces  459 KiB 2023-11-14 22:13:20 "
                        "01:02:03.456           ");
        g_assert_cmpstr(lines[4], ==, row3);
        g_assert_cmpstr(lines[5], ==, "");
    }
    g_string_truncate(f.host.log, 0);
    HMP_IS("loadvm first", "");
    g_assert_cmpstr(f.host.log->str, ==, "stop;loadvm first (paused);cont;");
    g_string_truncate(f.host.log, 0);
    HMP_IS("loadvm nope", "Error: Snapshot 'nope' does not exist\r\n");
    g_assert_cmpstr(f.host.log->str, ==, "stop;loadvm nope (paused);");
    HMP_IS("info status", "VM status: paused\r\n");
    g_string_truncate(f.host.log, 0);
    /* Paused: it stays paused. */
    HMP_IS("loadvm first", "");
    HMP_IS("savevm first", "");
    g_assert_cmpstr(f.host.log->str, ==, "loadvm first (paused);savevm first (paused);");
    HMP_IS("delvm first", "");
    HMP_IS("delvm first", "Error: Snapshot 'first' does not exist\r\n");
    HMP_IS("delvm \"\"", "Error: A snapshot needs a name\r\n");
    g_assert_cmpuint(f.host.snapshots->len, ==, 2);

    /* A NUL ends the line. */
    g_free(out);
    out = NULL;
    send_text(&f, "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": "
                  "\"info status\\u0000 junk\"}}");
    msgs = take(&f);
    g_assert_cmpuint(msgs->len, ==, 1);
    g_assert_true(vireo_json_string_equal(vireo_json_object_get(msgs->pdata[0], "return"),
                                          "VM status: paused\r\n"));

    HMP_IS("q", "");
    g_assert_true(vireo_qmp_session_quitting(f.session));
    g_assert_true(g_str_has_suffix(f.host.log->str, "quit;"));
    fixture_clear(&f);
#undef HMP_IS
}

/* The public snapshot operations, for a host's own controls, take the
 * path of the human monitor's commands. */
static void test_public_snapshots(void)
{
    Fixture f;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) list = NULL;
    g_autoptr(GPtrArray) msgs = NULL;

    fixture_init(&f, &host_ops);
    negotiate(&f);
    g_assert_true(vireo_qmp_savevm(f.qmp, "button", &error));
    g_assert_no_error(error);
    g_assert_cmpstr(f.host.log->str, ==, "stop;savevm button (paused);cont;");
    /* Its events reach the clients. */
    vireo_qmp_flush_events(f.qmp);
    msgs = take(&f);
    g_assert_cmpuint(msgs->len, ==, 2);
    g_assert_true(vireo_json_string_equal(vireo_json_object_get(msgs->pdata[0], "event"), "STOP"));
    g_assert_true(
        vireo_json_string_equal(vireo_json_object_get(msgs->pdata[1], "event"), "RESUME"));
    list = vireo_qmp_list_snapshots(f.qmp, &error);
    g_assert_nonnull(list);
    g_assert_cmpuint(list->len, ==, 1);
    g_assert_cmpstr(((VireoQmpSnapshot *)g_ptr_array_index(list, 0))->name, ==, "button");
    g_assert_true(vireo_qmp_loadvm(f.qmp, "button", &error));
    g_assert_false(vireo_qmp_loadvm(f.qmp, "other", &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    g_clear_error(&error);
    g_assert_true(vireo_qmp_delvm(f.qmp, "button", &error));
    g_assert_false(vireo_qmp_delvm(f.qmp, "", &error));
    g_assert_error(error, VIREO_QMP_ERROR, VIREO_QMP_ERROR_GENERIC);
    g_clear_error(&error);
    fixture_clear(&f);

    fixture_init(&f, &bare_ops);
    g_assert_false(vireo_qmp_savevm(f.qmp, NULL, &error));
    g_assert_error(error, VIREO_QMP_ERROR, VIREO_QMP_ERROR_GENERIC);
    g_clear_error(&error);
    g_assert_null(vireo_qmp_list_snapshots(f.qmp, &error));
    g_assert_nonnull(strstr(error->message, "not available"));
    g_assert_cmpstr(f.host.log->str, ==, "");
    fixture_clear(&f);
}

typedef struct {
    VireoQmp *qmp;
    int n;
} Emitter;

static gpointer emit_thread(gpointer data)
{
    Emitter *e = data;

    for (int i = 0; i < e->n; i++) {
        VireoJson *d = vireo_json_new_object();
        vireo_json_object_set(d, "guest", vireo_json_new_bool(true));
        vireo_json_object_set(d, "reason", vireo_json_new_string("guest-reset"));
        vireo_qmp_emit_event(e->qmp, "RESET", d);
    }
    return NULL;
}

static void test_events(void)
{
    Fixture f, g;
    g_autoptr(GPtrArray) msgs = NULL;
    Emitter e;
    VireoJson *ts;
    gint64 before = g_get_real_time() / G_USEC_PER_SEC;

    fixture_init(&f, &host_ops);
    /* A second session on the same monitor, not negotiated. */
    g = f;
    g.out = g_string_new(NULL);
    g.session = vireo_qmp_session_new(f.qmp, sink_write, &g);
    take(&g);

    /* An event before negotiation is not sent, not even later. */
    vireo_qmp_emit_event(f.qmp, "STOP", NULL);
    negotiate(&f);
    vireo_qmp_flush_events(f.qmp);
    msgs = take(&f);
    g_assert_cmpuint(msgs->len, ==, 0);
    g_clear_pointer(&msgs, g_ptr_array_unref);

    /* Events from another thread, in order, with timestamps. */
    e = (Emitter){ f.qmp, 100 };
    g_thread_join(g_thread_new("emit", emit_thread, &e));
    vireo_qmp_flush_events(f.qmp);
    msgs = take(&f);
    g_assert_cmpuint(msgs->len, ==, 100);
    ts = vireo_json_object_get(msgs->pdata[99], "timestamp");
    g_assert_cmpint(vireo_json_get_int(vireo_json_object_get(ts, "seconds")), >=, before);
    g_assert_cmpint(vireo_json_get_int(vireo_json_object_get(ts, "microseconds")), <, 1000000);
    {
        g_autofree char *d = text_of(vireo_json_object_get(msgs->pdata[0], "data"));
        g_assert_cmpstr(d, ==, "{\"guest\": true, \"reason\": \"guest-reset\"}");
    }
    g_clear_pointer(&msgs, g_ptr_array_unref);
    g_assert_cmpuint(g.out->len, ==, 0); /* the session that did not negotiate */

    /* A monitor thread that falls behind keeps the newest events only. */
    e.n = VIREO_QMP_MAX_QUEUED_EVENTS + 10;
    emit_thread(&e);
    vireo_qmp_flush_events(f.qmp);
    msgs = take(&f);
    g_assert_cmpuint(msgs->len, ==, VIREO_QMP_MAX_QUEUED_EVENTS);
    vireo_qmp_session_free(g.session);
    g_string_free(g.out, TRUE);
    fixture_clear(&f);
}

/* Hostile input: JSON split anywhere, merged, oversized, too deep, not
 * UTF-8; the session answers each with an error and goes on. */
static void test_hostile(void)
{
    Fixture f;
    g_autoptr(GPtrArray) msgs = NULL;
    const char *req = "{\"execute\": \"query-name\", \"id\": \"split\"}";
    g_autofree char *big = NULL;
    g_autofree char *deep = NULL;

    fixture_init(&f, &host_ops);
    negotiate(&f);
    /* One byte at a time. */
    for (const char *p = req; *p; p++) {
        send_bytes(&f, p, 1);
        if (p[1] != '\0') {
            g_assert_cmpuint(f.out->len, ==, 0);
        }
    }
    msgs = take(&f);
    g_assert_cmpuint(msgs->len, ==, 1);
    g_clear_pointer(&msgs, g_ptr_array_unref);
    /* Three requests in one piece, with white space and a bad one between. */
    send_text(&f,
              "{\"execute\": \"query-name\"}\r\n{bad}\n {\"execute\": \"query-name\", \"id\": 2}");
    msgs = take(&f);
    g_assert_cmpuint(msgs->len, ==, 3);
    assert_error(msgs->pdata[1], "GenericError", "JSON parse error");
    g_clear_pointer(&msgs, g_ptr_array_unref);

    ask_error(&f, "\xff{\"execute\": 1}", "GenericError", "'execute' must be a string");
    ask_error(&f, "{\"execute\": \"query-name\", \"id\": \"\xfe\"}", "GenericError",
              "invalid UTF-8");
    ask_error(&f, "{\"execute\": \"query-name\", \"id\": \"\xc3\x28\"}", "GenericError",
              "invalid UTF-8");
    ask_error(&f, "{\"execute\": \"query-name\", \"id\": \"a\x01\"}", "GenericError",
              "control character");
    ask_error(&f, "{\"execute\": \"query-name\", \"id\": 1e999}", "GenericError", "out of range");
    ask_error(&f, "}", "GenericError", "unexpected '}'");
    ask_error(&f, "nonsense ", "GenericError", "invalid keyword 'nonsense'");
    ask_error(&f, "42 ", "GenericError", "QMP input must be a JSON object");

    /* Larger than the limit: one error at once, then the next request. */
    big = g_strnfill(VIREO_QMP_MAX_INPUT + 100, 'a');
    send_text(&f, "{\"execute\": \"query-name\", \"id\": \"");
    send_text(&f, big);
    msgs = take(&f);
    g_assert_cmpuint(msgs->len, ==, 1);
    assert_error(msgs->pdata[0], "GenericError", "JSON input too large");
    g_clear_pointer(&msgs, g_ptr_array_unref);
    send_text(&f, big);
    g_assert_cmpuint(f.out->len, ==, 0);
    ASSERT_RETURN(&f, "\"}{\"execute\": \"query-name\"}", "{}");

    /* Nested too deep, in an id. */
    deep = g_strnfill(100000, '[');
    send_text(&f, "{\"execute\": \"query-name\", \"id\": ");
    send_text(&f, deep);
    msgs = take(&f);
    g_assert_cmpuint(msgs->len, ==, 1);
    assert_error(msgs->pdata[0], "GenericError", "JSON nesting depth limit exceeded");
    g_clear_pointer(&msgs, g_ptr_array_unref);
    memset(deep, ']', 100000);
    send_text(&f, deep);
    ASSERT_RETURN(&f, "}{\"execute\": \"query-name\"}", "{}");

    /* The synchronization byte drops a half-sent request. */
    ASSERT_RETURN(&f, "{\"execute\": \"stop\", \xff{\"execute\": \"query-name\"}", "{}");
    g_assert_cmpstr(f.host.log->str, ==, "");
    fixture_clear(&f);
}

int main(int argc, char *argv[])
{
    g_setenv("TZ", "UTC", TRUE);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qmp/greeting", test_greeting);
    g_test_add_func("/qmp/negotiation", test_negotiation);
    g_test_add_func("/qmp/requests", test_requests);
    g_test_add_func("/qmp/arguments", test_arguments);
    g_test_add_func("/qmp/commands", test_commands);
    g_test_add_func("/qmp/bare-host", test_bare_host);
    g_test_add_func("/qmp/screendump", test_screendump);
    g_test_add_func("/qmp/hmp", test_hmp);
    g_test_add_func("/qmp/public-snapshots", test_public_snapshots);
    g_test_add_func("/qmp/events", test_events);
    g_test_add_func("/qmp/hostile", test_hostile);
    return g_test_run();
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The QMP monitor on a machine (app/vireo-qmp-machine.c: run control and
 * events, with vCPUs that run no code) and on a socket
 * (app/vireo-qmp-server.c: addresses, clients, the end of the server). */
#include "vireo-qmp-machine.h"
#include "vireo-qmp-server.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "devices/virtio-input.h"
#include "engine/error.h"

#include "../devices/fake-vcpu.h"

/* ---- the binding, through a session ---- */

typedef struct {
    VireoMachine *machine;
    FakeVcpu vcpus[2];
    VireoQmpMachine *binding;
    VireoQmpSession *session;
    GString *out;
} Fixture;

static void on_event(VireoMachine *machine, VireoMachineState state, void *user_data)
{
    Fixture *f = user_data;
    vireo_qmp_machine_state_changed(f->binding, state);
}

static void sink_write(void *opaque, const char *data, size_t len)
{
    g_string_append_len(((Fixture *)opaque)->out, data, (gssize)len);
}

static void feed(VireoQmpSession *session, const char *text)
{
    vireo_qmp_session_feed(session, text, strlen(text));
}

static void fixture_init(Fixture *f, const VireoQmpMachineConfig *config)
{
    g_autoptr(GError) error = NULL;

    memset(f, 0, sizeof *f);
    f->machine = vireo_machine_new(vireo_bus_new(), vireo_clock_new(10000000));
    for (unsigned i = 0; i < 2; i++) {
        f->vcpus[i].machine = f->machine;
        vireo_machine_add_vcpu(f->machine, &fake_vcpu_ops, &f->vcpus[i]);
    }
    f->binding = vireo_qmp_machine_new(f->machine, config);
    vireo_machine_set_event_func(f->machine, on_event, f);
    f->out = g_string_new(NULL);
    f->session = vireo_qmp_session_new(vireo_qmp_machine_get_qmp(f->binding), sink_write, f);
    feed(f->session, "{\"execute\": \"qmp_capabilities\"}");
    g_assert_true(vireo_machine_start(f->machine, &error));
    /* The start is a RESUME for the session that negotiated before it. */
    vireo_qmp_flush_events(vireo_qmp_machine_get_qmp(f->binding));
    g_assert_nonnull(strstr(f->out->str, "\"event\": \"RESUME\"}\r\n"));
    g_string_truncate(f->out, 0);
}

static void fixture_clear(Fixture *f)
{
    vireo_machine_stop(f->machine);
    vireo_qmp_session_free(f->session);
    vireo_qmp_machine_free(f->binding);
    vireo_machine_free(f->machine);
    g_string_free(f->out, TRUE);
}

/* Runs `request` and returns every message since the last call, flushing
 * the events other threads queued, as "event NAME DATA" or the reply's
 * JSON, one per line. */
static char *run(Fixture *f, const char *request)
{
    g_autoptr(GString) lines = g_string_new(NULL);
    g_auto(GStrv) msgs = NULL;

    if (request != NULL) {
        vireo_qmp_session_feed(f->session, request, strlen(request));
    }
    vireo_qmp_flush_events(vireo_qmp_machine_get_qmp(f->binding));
    msgs = g_strsplit(f->out->str, "\r\n", -1);
    for (unsigned i = 0; msgs[i] != NULL && msgs[i][0] != '\0'; i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(VireoJson) v = vireo_json_parse(msgs[i], strlen(msgs[i]), &error);
        VireoJson *event;

        g_assert_no_error(error);
        event = vireo_json_object_get(v, "event");
        if (event != NULL) {
            VireoJson *data = vireo_json_object_get(v, "data");
            g_autofree char *d = data != NULL ? vireo_json_to_string(data) : g_strdup("");
            g_assert_nonnull(vireo_json_object_get(v, "timestamp"));
            g_string_append_printf(lines, "event %s %s\n", vireo_json_get_string(event, NULL), d);
        } else {
            g_string_append_printf(lines, "%s\n", msgs[i]);
        }
    }
    g_string_truncate(f->out, 0);
    return g_string_free(g_steal_pointer(&lines), FALSE);
}

#define RUN_IS(f, request, expected)             \
    do {                                         \
        g_autofree char *got_ = run(f, request); \
        g_assert_cmpstr(got_, ==, expected);     \
    } while (0)

/* Waits until the events other threads queue come to `expected`. */
static void wait_events(Fixture *f, const char *expected)
{
    g_autoptr(GString) got = g_string_new(NULL);

    for (int i = 0; i < 1000 && strcmp(got->str, expected) != 0; i++) {
        g_autofree char *more = run(f, NULL);
        g_string_append(got, more);
        if (strcmp(got->str, expected) != 0) {
            g_usleep(5000);
        }
    }
    g_assert_cmpstr(got->str, ==, expected);
}

static void test_run_control(void)
{
    Fixture f;
    g_autofree char *cpus = NULL;

    fixture_init(&f, NULL);
    RUN_IS(&f, "{\"execute\": \"query-status\"}",
           "{\"return\": {\"status\": \"running\", \"singlestep\": false, \"running\": true}}\n");
    RUN_IS(&f, "{\"execute\": \"stop\"}", "event STOP \n{\"return\": {}}\n");
    g_assert_cmpint(vireo_machine_state(f.machine), ==, VIREO_MACHINE_PAUSED);
    RUN_IS(&f, "{\"execute\": \"stop\"}", "{\"return\": {}}\n");
    RUN_IS(&f, "{\"execute\": \"query-status\"}",
           "{\"return\": {\"status\": \"paused\", \"singlestep\": false, \"running\": false}}\n");

    /* A reset of the paused machine: the event, then the reply; it stays
     * paused. */
    RUN_IS(&f, "{\"execute\": \"system_reset\"}",
           "event RESET {\"guest\": false, \"reason\": \"host-qmp-system-reset\"}\n"
           "{\"return\": {}}\n");
    g_assert_cmpint(f.vcpus[0].resets, ==, 1);
    g_assert_cmpint(vireo_machine_state(f.machine), ==, VIREO_MACHINE_PAUSED);
    RUN_IS(&f, "{\"execute\": \"cont\"}", "event RESUME \n{\"return\": {}}\n");
    RUN_IS(&f, "{\"execute\": \"cont\"}", "{\"return\": {}}\n");
    RUN_IS(&f, "{\"execute\": \"system_reset\", \"id\": 1}",
           "event RESET {\"guest\": false, \"reason\": \"host-qmp-system-reset\"}\n"
           "{\"return\": {}, \"id\": 1}\n");
    g_assert_cmpint(f.vcpus[1].resets, ==, 2);
    g_assert_cmpint(vireo_machine_state(f.machine), ==, VIREO_MACHINE_RUNNING);

    /* The guest's own reset. */
    vireo_machine_request_reset(f.machine);
    wait_events(&f, "event RESET {\"guest\": true, \"reason\": \"guest-reset\"}\n");

    /* Without a keyboard, system_powerdown is the event alone. */
    RUN_IS(&f, "{\"execute\": \"system_powerdown\"}", "event POWERDOWN \n{\"return\": {}}\n");
    g_assert_cmpint(vireo_machine_state(f.machine), ==, VIREO_MACHINE_RUNNING);

    /* The vCPU threads' host ids. */
    cpus = run(&f, "{\"execute\": \"query-cpus-fast\"}");
    g_assert_nonnull(strstr(cpus, "\"qom-path\": \"/machine/soc0/harts[1]\""));
    g_assert_null(strstr(cpus, "\"thread-id\": -1"));
    g_assert_null(strstr(cpus, "\"thread-id\": 0,"));

    /* quit: the machine stops, SHUTDOWN comes before the reply. */
    RUN_IS(&f, "{\"execute\": \"quit\"}",
           "event SHUTDOWN {\"guest\": false, \"reason\": \"host-qmp-quit\"}\n{\"return\": {}}\n");
    g_assert_cmpint(vireo_machine_state(f.machine), ==, VIREO_MACHINE_STOPPED);
    g_assert_cmpint(vireo_machine_exit_reason(f.machine, NULL, NULL), ==, VIREO_EXIT_STOPPED);
    fixture_clear(&f);
}

static void test_after_shutdown(void)
{
    Fixture f;
    Fixture *g = g_new0(Fixture, 1);
    VireoQmpSession *second;

    fixture_init(&f, NULL);
    /* The guest powers off: SHUTDOWN says so. */
    vireo_machine_request_poweroff(f.machine, 0);
    vireo_machine_wait(f.machine, NULL, NULL);
    wait_events(&f, "event SHUTDOWN {\"guest\": true, \"reason\": \"guest-shutdown\"}\n");
    RUN_IS(&f, "{\"execute\": \"query-status\"}",
           "{\"return\": {\"status\": \"shutdown\", \"singlestep\": false, \"running\": false}}\n");
    RUN_IS(&f, "{\"execute\": \"stop\"}", "{\"return\": {}}\n");
    RUN_IS(&f, "{\"execute\": \"cont\"}",
           "{\"error\": {\"class\": \"GenericError\", \"desc\": \"The machine has shut down and "
           "cannot run again\"}}\n");
    RUN_IS(
        &f, "{\"execute\": \"system_reset\"}",
        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"The machine is not running (it is "
        "shutdown)\"}}\n");
    /* A second session may quit too: the stopped machine stays stopped. */
    g->out = g_string_new(NULL);
    second = vireo_qmp_session_new(vireo_qmp_machine_get_qmp(f.binding), sink_write, g);
    feed(second, "{\"execute\": \"qmp_capabilities\"}{\"execute\": \"quit\", \"id\": 2}");
    g_assert_nonnull(strstr(g->out->str, "{\"return\": {}, \"id\": 2}\r\n"));
    vireo_qmp_session_free(second);
    g_string_free(g->out, TRUE);
    g_free(g);
    fixture_clear(&f);

    /* Stopped by the host, with the cause it gives. */
    fixture_init(&f, NULL);
    vireo_qmp_machine_set_stop_cause(f.binding, VIREO_QMP_SHUTDOWN_HOST_SIGNAL);
    vireo_machine_stop(f.machine);
    RUN_IS(&f, NULL, "event SHUTDOWN {\"guest\": false, \"reason\": \"host-signal\"}\n");
    fixture_clear(&f);
    fixture_init(&f, NULL);
    vireo_machine_stop(f.machine);
    RUN_IS(&f, NULL, "event SHUTDOWN {\"guest\": false, \"reason\": \"host-ui\"}\n");
    fixture_clear(&f);
    fixture_init(&f, NULL);
    vireo_machine_request_fault(f.machine, "broken");
    vireo_machine_wait(f.machine, NULL, NULL);
    wait_events(&f, "event SHUTDOWN {\"guest\": false, \"reason\": \"host-error\"}\n");
    RUN_IS(&f, "{\"execute\": \"query-status\"}",
           "{\"return\": {\"status\": \"internal-error\", \"singlestep\": false, \"running\": "
           "false}}\n");
    fixture_clear(&f);
}

/* system_powerdown presses the keyboard's power key; the test's keyboard
 * has no driver, so it counts the key's events as dropped. */
static void test_power_key(void)
{
    VireoBus *bus = vireo_bus_new();
    VireoVirtio *keyboard = vireo_virtio_input_new(bus, VIREO_VIRTIO_INPUT_KEYBOARD);
    VireoVirtioInputPair pair = { keyboard, NULL };
    VireoQmpMachineConfig config = { .input = &pair, .name = "kbd" };
    VireoVirtioInputStats stats;
    Fixture f;

    fixture_init(&f, &config);
    RUN_IS(&f, "{\"execute\": \"query-name\"}", "{\"return\": {\"name\": \"kbd\"}}\n");
    RUN_IS(&f, "{\"execute\": \"system_powerdown\"}", "event POWERDOWN \n{\"return\": {}}\n");
    g_assert_true(vireo_virtio_input_get_stats(keyboard, &stats));
    g_assert_cmpuint(stats.dropped, ==, 4); /* press, release, each with its SYN_REPORT */
    fixture_clear(&f);
    vireo_virtio_free(keyboard);
    vireo_bus_free(bus);
}

/* The snapshot operations a host gives are the monitor's. */
static bool snap_savevm(void *host, const char *name, GError **error)
{
    g_string_append_printf(host, "save %s;", name);
    return true;
}

static bool snap_loadvm(void *host, const char *name, GError **error)
{
    g_string_append_printf(host, "load %s;", name);
    return true;
}

static bool snap_delvm(void *host, const char *name, GError **error)
{
    g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "no %s here", name);
    return false;
}

static GPtrArray *snap_list(void *host, GError **error)
{
    GPtrArray *list = g_ptr_array_new();
    g_ptr_array_add(list, vireo_qmp_snapshot_new("1", "one", 2048, 0, 1500000000));
    return list;
}

static void test_snapshots(void)
{
    static const VireoQmpHostOps snap_ops = {
        .savevm = snap_savevm,
        .loadvm = snap_loadvm,
        .delvm = snap_delvm,
        .list_snapshots = snap_list,
    };
    g_autoptr(GString) log = g_string_new(NULL);
    VireoQmpMachineConfig config = { .snapshot_ops = &snap_ops, .snapshot_host = log };
    Fixture f;

    fixture_init(&f, &config);
    RUN_IS(&f,
           "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"savevm "
           "a\"}}",
           "event STOP \nevent RESUME \n{\"return\": \"\"}\n");
    RUN_IS(&f,
           "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"loadvm "
           "a\"}}",
           "event STOP \nevent RESUME \n{\"return\": \"\"}\n");
    RUN_IS(&f,
           "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"delvm "
           "a\"}}",
           "{\"return\": \"Error: no a here\\r\\n\"}\n");
    RUN_IS(
        &f,
        "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info "
        "snapshots\"}}",
        "{\"return\": \"List of snapshots present on all disks:\\r\\nID        TAG              "
        " VM SIZE                DATE     VM CLOCK     ICOUNT\\r\\n--        one                 "
        "2 KiB 1970-01-01 00:00:00 00:00:01.500           \\r\\n\"}\n");
    g_assert_cmpstr(log->str, ==, "save a;load a;");
    g_assert_cmpint(vireo_machine_state(f.machine), ==, VIREO_MACHINE_RUNNING);
    fixture_clear(&f);

    /* Without them, the monitor says so. */
    fixture_init(&f, NULL);
    RUN_IS(&f,
           "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"savevm "
           "a\"}}",
           "{\"return\": \"Error: Snapshots are not available on this machine\\r\\n\"}\n");
    g_assert_cmpint(vireo_machine_state(f.machine), ==, VIREO_MACHINE_RUNNING);
    fixture_clear(&f);
}

/* ---- the server ---- */

static void test_parse(void)
{
    static const struct {
        const char *spec, *address;
        bool wait;
    } good[] = {
        { "unix:/tmp/q.sock", "unix:/tmp/q.sock", false },
        { "unix:/tmp/q.sock,server", "unix:/tmp/q.sock", true },
        { "unix:/tmp/q.sock,server=on", "unix:/tmp/q.sock", true },
        { "unix:/tmp/q.sock,server,wait=off", "unix:/tmp/q.sock", false },
        { "unix:/tmp/q.sock,server=on,wait=off", "unix:/tmp/q.sock", false },
        { "unix:/tmp/q.sock,server,nowait", "unix:/tmp/q.sock", false },
        { "unix:/tmp/q.sock,wait=on", "unix:/tmp/q.sock", true },
        { "unix:/tmp/a,,b.sock,server,wait=off", "unix:/tmp/a,b.sock", false },
        { "tcp:127.0.0.1:4444", "tcp:127.0.0.1:4444", false },
        { "tcp::0,server,wait=off", "tcp::0", false },
        { "tcp:[::1]:4444,server", "tcp:[::1]:4444", true },
    };
    static const struct {
        const char *spec, *part;
    } bad[] = {
        { "/tmp/q.sock", "is not unix:PATH or tcp:[HOST]:PORT" },
        { "stdio", "is not unix:PATH" },
        { "unix:", "names no socket" },
        { "unix:,server", "names no socket" },
        { "unix:/tmp/q.sock,server=off", "server=off" },
        { "unix:/tmp/q.sock,server,wait=maybe", "unknown option “wait=maybe”" },
        { "unix:/tmp/q.sock,", "unknown option “”" },
        { "tcp:127.0.0.1:4444,ipv4", "unknown option “ipv4”" },
    };

    for (unsigned i = 0; i < G_N_ELEMENTS(good); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *address = NULL;
        bool wait = !good[i].wait;

        g_assert_true(vireo_qmp_server_parse(good[i].spec, &address, &wait, &error));
        g_assert_no_error(error);
        g_assert_cmpstr(address, ==, good[i].address);
        g_assert_cmpint(wait, ==, good[i].wait);
    }
    for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;

        g_assert_false(vireo_qmp_server_parse(bad[i].spec, NULL, NULL, &error));
        g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
        if (strstr(error->message, bad[i].part) == NULL) {
            g_error("%s: “%s” lacks “%s”", bad[i].spec, error->message, bad[i].part);
        }
    }
}

static int connect_unix(const char *path)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_assert_cmpint(fd, >=, 0);
    g_strlcpy(sun.sun_path, path, sizeof sun.sun_path);
    g_assert_cmpint(connect(fd, (struct sockaddr *)&sun, sizeof sun), ==, 0);
    return fd;
}

/* Reads until `text` has come (10 s at most); returns all that came. */
static char *read_until(int fd, const char *text)
{
    GString *got = g_string_new(NULL);
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    while (strstr(got->str, text) == NULL && g_get_monotonic_time() < end) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        char buf[4096];
        ssize_t n;

        if (poll(&p, 1, 100) <= 0) {
            continue;
        }
        n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            break;
        }
        g_string_append_len(got, buf, n);
    }
    if (strstr(got->str, text) == NULL) {
        g_error("“%s” never came; got “%s”", text, got->str);
    }
    return g_string_free(got, FALSE);
}

static void send_str(int fd, const char *text)
{
    g_assert_cmpint(send(fd, text, strlen(text), MSG_NOSIGNAL), ==, (ssize_t)strlen(text));
}

static void test_server(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("vireo-qmp-XXXXXX", &error);
    g_autofree char *path = g_build_filename(dir, "qmp.sock", NULL);
    g_autofree char *spec = g_strdup_printf("unix:%s,server,wait=off", path);
    g_autofree char *got = NULL;
    Fixture f;
    VireoQmpServer *server;
    int a, b, extra[VIREO_QMP_MAX_CLIENTS];

    fixture_init(&f, NULL);
    server = vireo_qmp_server_new(vireo_qmp_machine_get_qmp(f.binding), spec, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(vireo_qmp_server_address(server), ==, path);
    g_assert_false(vireo_qmp_server_get_wait(server));
    /* Its address cannot be taken twice. */
    g_assert_null(vireo_qmp_server_new(vireo_qmp_machine_get_qmp(f.binding), spec, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_IO);
    g_clear_error(&error);

    a = connect_unix(path);
    vireo_qmp_server_wait_for_client(server);
    got = read_until(a, "\"capabilities\": [\"oob\"]}}\r\n");
    g_clear_pointer(&got, g_free);
    b = connect_unix(path);
    g_free(read_until(b, "}}\r\n"));
    /* A request in three pieces, then two in one. */
    send_str(a, "{\"execute\": \"qmp_");
    send_str(a, "capabilities\"");
    send_str(a, "}");
    g_free(read_until(a, "{\"return\": {}}\r\n"));
    send_str(b, "{\"execute\": \"qmp_capabilities\"}{\"execute\": \"stop\", \"id\": \"b\"}");
    got = read_until(b, "\"id\": \"b\"}\r\n");
    g_assert_nonnull(strstr(got, "\"event\": \"STOP\""));
    g_clear_pointer(&got, g_free);
    /* The other negotiated client hears of it too. */
    g_free(read_until(a, "\"event\": \"STOP\"}\r\n"));
    /* An event from the machine's thread reaches both. */
    vireo_machine_request_reset(f.machine);
    g_free(read_until(a, "\"reason\": \"guest-reset\"}}\r\n"));
    g_free(read_until(b, "\"reason\": \"guest-reset\"}}\r\n"));

    /* Beyond the client limit, a connection is closed at once. */
    for (int i = 0; i < VIREO_QMP_MAX_CLIENTS - 2; i++) {
        extra[i] = connect_unix(path);
        g_free(read_until(extra[i], "}}\r\n"));
    }
    {
        int over = connect_unix(path);
        char c;
        struct pollfd p = { .fd = over, .events = POLLIN };
        g_assert_cmpint(poll(&p, 1, 10000), ==, 1);
        g_assert_cmpint(recv(over, &c, 1, 0), ==, 0);
        close(over);
    }
    /* A client that leaves makes room. */
    close(extra[0]);
    for (int i = 0; i < 100; i++) {
        int again = connect_unix(path);
        struct pollfd p = { .fd = again, .events = POLLIN };
        char buf[8];
        ssize_t n = poll(&p, 1, 10000) == 1 ? recv(again, buf, sizeof buf, 0) : -1;
        if (n > 0) {
            extra[0] = again;
            break;
        }
        close(again);
        g_usleep(10000);
    }

    /* A client that sends half a request and stays: the server still ends,
     * and what was queued (the SHUTDOWN of quit) reaches the others. */
    send_str(b, "{\"execute\": ");
    send_str(a, "{\"execute\": \"quit\"}");
    g_free(read_until(a, "{\"return\": {}}\r\n"));
    vireo_qmp_server_free(server);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    got = read_until(b, "\"reason\": \"host-qmp-quit\"}}\r\n");
    close(a);
    close(b);
    for (int i = 0; i < VIREO_QMP_MAX_CLIENTS - 2; i++) {
        close(extra[i]);
    }
    fixture_clear(&f);
    g_rmdir(dir);
}

/* A client that never reads is cut off once its output passes the limit;
 * the others go on. */
static void test_slow_reader(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("vireo-qmp-XXXXXX", &error);
    g_autofree char *path = g_build_filename(dir, "qmp.sock", NULL);
    g_autofree char *spec = g_strdup_printf("unix:%s", path);
    Fixture f;
    VireoQmpServer *server;
    int lazy, other, size = 4096;
    gint64 end;
    bool cut = false;

    fixture_init(&f, NULL);
    server = vireo_qmp_server_new(vireo_qmp_machine_get_qmp(f.binding), spec, &error);
    g_assert_no_error(error);
    lazy = connect_unix(path);
    setsockopt(lazy, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    send_str(lazy, "{\"execute\": \"qmp_capabilities\"}");
    other = connect_unix(path);
    send_str(other, "{\"execute\": \"qmp_capabilities\"}");
    g_free(read_until(other, "{\"return\": {}}\r\n"));
    /* Events pile up for the client that does not read. */
    end = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
    while (!cut && g_get_monotonic_time() < end) {
        for (int i = 0; i < 2000; i++) {
            vireo_qmp_emit_event(vireo_qmp_machine_get_qmp(f.binding), "STOP", NULL);
        }
        g_usleep(1000);
        {
            struct pollfd p = { .fd = lazy, .events = POLLIN };
            cut = poll(&p, 1, 0) == 1 && (p.revents & POLLHUP);
        }
        /* The other client reads what it gets. */
        {
            char buf[65536];
            while (recv(other, buf, sizeof buf, MSG_DONTWAIT) > 0) {}
        }
    }
    g_assert_true(cut);
    send_str(other, "{\"execute\": \"query-name\", \"id\": \"still\"}");
    g_free(read_until(other, "\"id\": \"still\"}\r\n"));
    vireo_qmp_server_free(server);
    close(lazy);
    close(other);
    fixture_clear(&f);
    g_rmdir(dir);
}

int main(int argc, char *argv[])
{
    g_setenv("TZ", "UTC", TRUE);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qmp-machine/run-control", test_run_control);
    g_test_add_func("/qmp-machine/after-shutdown", test_after_shutdown);
    g_test_add_func("/qmp-machine/power-key", test_power_key);
    g_test_add_func("/qmp-machine/snapshots", test_snapshots);
    g_test_add_func("/qmp-server/parse", test_parse);
    g_test_add_func("/qmp-server/clients", test_server);
    g_test_add_func("/qmp-server/slow-reader", test_slow_reader);
    return g_test_run();
}

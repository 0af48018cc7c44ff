/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The application's network, end to end (suite `slow`): a VM whose
 * configuration has [network] mode=user and a port forward, started by the
 * controller as the application starts it, boots the Linux guest kit
 * (docs/GUEST-KIT.md) with `vireo.checks=net`. The guest's init brings up
 * eth0 on the user network, fetches a page from this program through the
 * gateway 10.0.2.2, and serves one client on port 7777, which this program
 * reaches through the configured forward on the host's loopback. The test
 * passes when init reports the check and itself passed and the guest powers
 * off.
 *
 * Arguments: the kit's folder and tests/guests/build-kit.py, which builds the
 * kit there (or copies it from its cache). Exit status 77 (skipped) with the
 * reason when the kit or the firmware is unavailable.
 */
#include "config.h"

#include "test-dirs.h"

#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/board.h"
#include "vireo-vm-controller.h"

#define EXIT_SKIP    77
#define BOOT_SECONDS 900
#define GUEST_PORT   7777
#define BODY_SIZE    12345

static const char *kit_dir;

/* ---- The host's side ------------------------------------------------------ */

/* The page the guest fetches: HTTP/1.0, one request per connection. */
static gboolean serve_http(GThreadedSocketService *service, GSocketConnection *connection,
                           GObject *source, gpointer data)
{
    GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(connection));
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(connection));
    g_autoptr(GString) request = g_string_new(NULL);
    g_autofree char *body = g_malloc(BODY_SIZE);
    g_autofree char *header = NULL;
    char buf[512];

    g_socket_set_timeout(g_socket_connection_get_socket(connection), 30);
    while (strstr(request->str, "\r\n\r\n") == NULL && request->len < 8192) {
        gssize n = g_input_stream_read(in, buf, sizeof buf, NULL, NULL);
        if (n <= 0) {
            return TRUE;
        }
        g_string_append_len(request, buf, n);
    }
    for (gsize i = 0; i < BODY_SIZE; i++) {
        body[i] = (char)('a' + i % 26);
    }
    header = g_strdup_printf("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                             "Content-Length: %d\r\nConnection: close\r\n\r\n",
                             BODY_SIZE);
    g_output_stream_write_all(out, header, strlen(header), NULL, NULL, NULL);
    g_output_stream_write_all(out, body, BODY_SIZE, NULL, NULL, NULL);
    g_io_stream_close(G_IO_STREAM(connection), NULL, NULL);
    return TRUE;
}

static guint16 start_http(GSocketService **service)
{
    g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    g_autoptr(GSocketAddress) any = g_inet_socket_address_new(loopback, 0);
    g_autoptr(GSocketAddress) bound = NULL;
    g_autoptr(GError) error = NULL;

    *service = g_threaded_socket_service_new(4);
    g_assert_true(g_socket_listener_add_address(G_SOCKET_LISTENER(*service), any,
                                                G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
                                                &bound, &error));
    g_assert_no_error(error);
    g_signal_connect(*service, "run", G_CALLBACK(serve_http), NULL);
    g_socket_service_start(*service);
    return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
}

/* A TCP port nobody listens on now, for the forward. */
static guint16 free_port(void)
{
    g_autoptr(GSocketListener) listener = g_socket_listener_new();
    g_autoptr(GError) error = NULL;
    guint16 port = g_socket_listener_add_any_inet_port(listener, NULL, &error);

    g_assert_no_error(error);
    return port;
}

/* The client of the guest's server, through the forward, on a thread of its
 * own so that the main loop keeps draining the console. */
typedef struct {
    guint16 port;
    char *reply; /* what the guest answered, or the error */
    gboolean ok;
} Client;

static gpointer client_thread(gpointer data)
{
    Client *c = data;
    g_autoptr(GSocketClient) client = g_socket_client_new();
    g_autoptr(GSocketConnection) connection = NULL;
    g_autoptr(GDataInputStream) in = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *hello = NULL;
    const char line[] = "vireo-app-test\n";

    g_socket_client_set_timeout(client, 30);
    connection = g_socket_client_connect_to_host(client, "127.0.0.1", c->port, NULL, &error);
    if (connection == NULL) {
        c->reply = g_strdup_printf("connect: %s", error->message);
        return NULL;
    }
    in = g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(connection)));
    hello = g_data_input_stream_read_line_utf8(in, NULL, NULL, &error);
    if (g_strcmp0(hello, "VIREO-GUEST-HELLO") != 0) {
        c->reply = g_strdup_printf("greeting: %s", hello != NULL ? hello : error->message);
        return NULL;
    }
    if (!g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(connection)), line,
                                   strlen(line), NULL, NULL, &error)) {
        c->reply = g_strdup_printf("send: %s", error->message);
        return NULL;
    }
    c->reply = g_data_input_stream_read_line_utf8(in, NULL, NULL, &error);
    if (c->reply == NULL) {
        c->reply = g_strdup_printf("echo: %s", error != NULL ? error->message : "end of stream");
        return NULL;
    }
    c->ok = TRUE;
    g_io_stream_close(G_IO_STREAM(connection), NULL, NULL);
    return NULL;
}

/* ---- The guest's side ----------------------------------------------------- */

static char *console_text(VireoVmController *c)
{
    g_autoptr(GBytes) bytes = vireo_vm_controller_get_console_history(c);
    gsize len;
    const char *data = g_bytes_get_data(bytes, &len);

    return g_strndup(data != NULL ? data : "", len);
}

/* Until the console shows `text`, or the VM stopped. */
typedef struct {
    VireoVmController *controller;
    const char *text;
} Wait;

static gboolean console_has(gpointer data)
{
    Wait *w = data;
    g_autofree char *all = console_text(w->controller);

    return strstr(all, w->text) != NULL ||
           (vireo_vm_controller_get_state(w->controller) == VIREO_VM_STATE_STOPPED &&
            !vireo_vm_controller_get_busy(w->controller));
}

static void dump_console(VireoVmController *c)
{
    g_autofree char *all = console_text(c);
    g_auto(GStrv) lines = g_strsplit(all, "\n", -1);

    for (guint i = 0; lines[i] != NULL; i++) {
        g_test_message("guest: %s", g_strchomp(lines[i]));
    }
}

static void wait_for(VireoVmController *c, const char *text, gint64 deadline)
{
    Wait w = { c, text };
    g_autofree char *all = NULL;

    while (!console_has(&w)) {
        if (g_get_monotonic_time() > deadline) {
            dump_console(c);
            g_error("timed out waiting for “%s” on the guest's console", text);
        }
        g_main_context_iteration(NULL, FALSE);
        g_usleep(2000);
    }
    all = console_text(c);
    if (strstr(all, text) == NULL) {
        dump_console(c);
        g_error("the VM stopped before “%s” (%s)", text,
                vireo_vm_controller_get_last_error(c) != NULL
                    ? vireo_vm_controller_get_last_error(c)
                    : "no error");
    }
}

static void test_user_network(void)
{
    g_autoptr(GSocketService) http = NULL;
    g_autoptr(VireoVmConfig) config = vireo_vm_config_new();
    g_autoptr(VireoVmController) c = NULL;
    g_autofree char *image = g_build_filename(kit_dir, "Image", NULL);
    g_autofree char *initrd = g_build_filename(kit_dir, "initramfs.cpio", NULL);
    g_autofree char *cmdline = NULL;
    g_autofree char *forward = NULL;
    g_autofree char *fetched = NULL;
    g_autofree char *served = NULL;
    guint16 http_port = start_http(&http);
    guint16 host_port = free_port();
    gint64 deadline = g_get_monotonic_time() + (gint64)BOOT_SECONDS * G_USEC_PER_SEC;
    Client client = { 0 };
    GThread *thread;

    cmdline = g_strdup_printf("console=ttyS0 vireo.checks=net vireo.http_port=%u "
                              "vireo.serve_port=%d",
                              http_port, GUEST_PORT);
    forward = g_strdup_printf("tcp:%u:%d", host_port, GUEST_PORT);
    vireo_vm_config_set_name(config, "Network");
    vireo_vm_config_set_cpus(config, 1);
    vireo_vm_config_set_memory(config, 256ull << 20);
    vireo_vm_config_set_firmware(config, VIREO_BOARD_VIRT_FIRMWARE);
    vireo_vm_config_set_kernel(config, image);
    vireo_vm_config_set_initrd(config, initrd);
    vireo_vm_config_set_cmdline(config, cmdline);
    vireo_vm_config_set_network(config, VIREO_NETWORK_USER);
    vireo_vm_config_set_forwards(config, (const char *const[]){ forward, NULL });
    g_test_message("HTTP on 127.0.0.1:%u, forward %s", http_port, forward);

    c = vireo_vm_controller_new(config);
    vireo_vm_controller_start(c);
    wait_for(c, "VIREO-INIT: start", deadline);
    /* The page came through the gateway, whole. */
    fetched = g_strdup_printf("status 200 bytes %d", BODY_SIZE);
    wait_for(c, fetched, deadline);
    served = g_strdup_printf("listening on port %d", GUEST_PORT);
    wait_for(c, served, deadline);

    client.port = host_port;
    thread = g_thread_new("client", client_thread, &client);
    wait_for(c, "VIREO-CHECK net: served", deadline);
    g_thread_join(thread);
    g_test_message("the guest answered: %s", client.reply);
    g_assert_true(client.ok);
    g_assert_cmpstr(client.reply, ==, "VIREO-GUEST-ECHO vireo-app-test");
    g_free(client.reply);

    wait_for(c, "VIREO-CHECK net: PASS", deadline);
    wait_for(c, "VIREO-INIT: PASS", deadline);
    dump_console(c);
    /* init powers the machine off. */
    while (vireo_vm_controller_get_state(c) != VIREO_VM_STATE_STOPPED ||
           vireo_vm_controller_get_busy(c)) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(NULL, FALSE);
        g_usleep(2000);
    }
    g_assert_null(vireo_vm_controller_get_last_error(c));
    g_socket_service_stop(http);
}

/* ---- The kit -------------------------------------------------------------- */

/* Builds the kit (or takes it from the cache); FALSE with `reason` when it
 * is unavailable. A failed build is an error. */
static gboolean prepare_kit(const char *build_kit, char **reason)
{
    g_autofree char *output = NULL;
    g_autofree char *errors = NULL;
    g_autoptr(GError) error = NULL;
    const char *argv[] = { "python3", build_kit, "--out", kit_dir, "--jobs", "2", NULL };
    int status;

    if (!g_file_test(VIREO_BOARD_VIRT_FIRMWARE, G_FILE_TEST_IS_REGULAR)) {
        *reason = g_strdup(VIREO_BOARD_VIRT_FIRMWARE " is missing (package opensbi)");
        return FALSE;
    }
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &output, &errors,
                      &status, &error)) {
        *reason = g_strdup_printf("cannot run %s: %s", build_kit, error->message);
        return FALSE;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_SKIP) {
        g_autofree char *note = g_build_filename(kit_dir, "unavailable", NULL);
        g_autofree char *text = NULL;
        *reason = g_file_get_contents(note, &text, NULL, NULL)
                      ? g_strdup_printf("the guest kit cannot be built: %s", g_strstrip(text))
                      : g_strdup("the guest kit cannot be built");
        return FALSE;
    }
    if (!g_spawn_check_wait_status(status, &error)) {
        g_printerr("%s%s\nbuild-kit.py failed: %s\n", output, errors, error->message);
        exit(1);
    }
    return TRUE;
}

int main(int argc, char *argv[])
{
    g_autofree char *reason = NULL;

    g_test_init(&argc, &argv, NULL);
    if (argc != 3) {
        g_printerr("usage: %s KIT-DIR BUILD-KIT\n", argv[0]);
        return 2;
    }
    kit_dir = argv[1];
    /* With the user's cache, where the kit is kept between builds; the VM's
     * own folders are fresh. */
    if (!prepare_kit(argv[2], &reason)) {
        g_print("SKIP: %s\n", reason);
        return EXIT_SKIP;
    }
    test_fresh_dirs();
    g_test_add_func("/network/user-mode-guest", test_user_network);
    return g_test_run();
}

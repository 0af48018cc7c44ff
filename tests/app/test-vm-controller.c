/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * VireoVmController with a real machine running OpenSBI and U-Boot: the
 * state-changed signals of start, pause, resume and power off (recorded with
 * glib-testing's signal logger), the console, the counters, reset, and the
 * errors of configurations that cannot run.
 */
#include "config.h"

#include "test-dirs.h"

#include <arpa/inet.h>
#include <libglib-testing/signal-logger.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "vireo-demo.h"
#include "vireo-vm-controller.h"

#define WAIT_SECONDS 60

static gboolean have_firmware(void)
{
    if (!g_file_test(VIREO_DEMO_FIRMWARE, G_FILE_TEST_IS_REGULAR) ||
        !g_file_test(VIREO_DEMO_KERNEL, G_FILE_TEST_IS_REGULAR)) {
        g_test_skip("OpenSBI or U-Boot is not installed (packages opensbi, u-boot-qemu)");
        return FALSE;
    }
    return TRUE;
}

typedef gboolean (*Condition)(gpointer data);

/* Runs the main loop until `cond` holds; fails the test after a while. */
static void wait_for(Condition cond, gpointer data, const char *what)
{
    gint64 deadline = g_get_monotonic_time() + WAIT_SECONDS * G_USEC_PER_SEC;

    while (!cond(data)) {
        if (g_get_monotonic_time() > deadline) {
            g_error("timed out waiting for %s", what);
        }
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
}

static gboolean has_emission(gpointer data)
{
    return gt_signal_logger_get_n_emissions(data) > 0;
}

typedef struct {
    VireoVmController *controller;
    const char *text;
    guint count;
} ConsoleWait;

static guint count_in_console(VireoVmController *c, const char *text)
{
    g_autoptr(GBytes) bytes = vireo_vm_controller_get_console_history(c);
    gsize len;
    const char *data = g_bytes_get_data(bytes, &len);
    g_autofree char *copy = g_strndup(data != NULL ? data : "", len);
    guint n = 0;

    for (const char *p = copy; (p = strstr(p, text)) != NULL; p += strlen(text)) {
        n++;
    }
    return n;
}

static gboolean console_has(gpointer data)
{
    ConsoleWait *w = data;
    return count_in_console(w->controller, w->text) >= w->count;
}

static void expect_state(GtSignalLogger *logger, VireoVmController *c, VireoVmState expected)
{
    int state = -1;

    wait_for(has_emission, logger, "a state change");
    gt_signal_logger_assert_emission_pop(logger, c, "state-changed", &state);
    g_assert_cmpint(state, ==, expected);
    g_assert_cmpint(vireo_vm_controller_get_state(c), ==, expected);
}

static gboolean not_busy(gpointer data)
{
    return !vireo_vm_controller_get_busy(data);
}

static void test_lifecycle(void)
{
    g_autoptr(GtSignalLogger) logger = NULL;
    g_autoptr(VireoVmConfig) config = NULL;
    g_autoptr(VireoVmController) c = NULL;
    VireoVcpuStats s1, s2, v0;
    ConsoleWait banner;
    ConsoleWait prompt;

    if (!have_firmware()) {
        return;
    }
    logger = gt_signal_logger_new();
    config = vireo_demo_config_new();
    c = vireo_vm_controller_new(config);
    gt_signal_logger_connect(logger, c, "state-changed");
    gt_signal_logger_connect(logger, c, "error");
    g_assert_cmpint(vireo_vm_controller_get_state(c), ==, VIREO_VM_STATE_STOPPED);
    g_assert_false(vireo_vm_controller_get_stats(c, -1, &s1));

    vireo_vm_controller_start(c);
    g_assert_true(vireo_vm_controller_get_busy(c));
    expect_state(logger, c, VIREO_VM_STATE_RUNNING);
    g_assert_false(vireo_vm_controller_get_busy(c));
    g_assert_cmpuint(vireo_vm_controller_get_n_vcpus(c), ==, 2);

    banner = (ConsoleWait){ c, "OpenSBI v1.1", 1 };
    wait_for(console_has, &banner, "the OpenSBI banner");
    prompt = (ConsoleWait){ c, "=> ", 1 };
    wait_for(console_has, &prompt, "the U-Boot prompt");

    g_assert_true(vireo_vm_controller_get_stats(c, -1, &s1));
    g_assert_cmpuint(s1.insns, >, 0);
    g_assert_cmpuint(s1.blocks, >, 0);
    g_assert_true(vireo_vm_controller_get_stats(c, 0, &v0));
    g_assert_cmpuint(v0.insns, >, 0);
    g_assert_cmpuint(v0.insns, <=, s1.insns);

    /* Typing reaches the guest: U-Boot echoes a command and runs it. */
    vireo_vm_controller_send_input(c, (const guint8 *)"version\r", 8);
    prompt = (ConsoleWait){ c, "U-Boot 2023", 2 };
    wait_for(console_has, &prompt, "the output of U-Boot's version command");

    vireo_vm_controller_pause(c);
    expect_state(logger, c, VIREO_VM_STATE_PAUSED);
    vireo_vm_controller_get_stats(c, -1, &s1);
    g_usleep(200 * 1000);
    vireo_vm_controller_get_stats(c, -1, &s2);
    g_assert_cmpuint(s1.insns, ==, s2.insns);

    vireo_vm_controller_resume(c);
    expect_state(logger, c, VIREO_VM_STATE_RUNNING);
    g_usleep(200 * 1000);
    vireo_vm_controller_get_stats(c, -1, &s2);
    g_assert_cmpuint(s2.insns, >, s1.insns);

    /* Reset starts the firmware again without a state change. */
    vireo_vm_controller_reset(c);
    banner.count = 2;
    wait_for(console_has, &banner, "OpenSBI after the reset");
    g_assert_cmpint(vireo_vm_controller_get_state(c), ==, VIREO_VM_STATE_RUNNING);

    vireo_vm_controller_power_off(c);
    expect_state(logger, c, VIREO_VM_STATE_STOPPED);
    g_assert_null(vireo_vm_controller_get_last_error(c));
    /* The counters of the stopped machine stay readable. */
    g_assert_true(vireo_vm_controller_get_stats(c, -1, &s2));
    g_assert_cmpuint(s2.insns, >, 0);
    gt_signal_logger_assert_no_emissions(logger);

    /* It starts again, with a fresh machine. */
    vireo_vm_controller_start(c);
    expect_state(logger, c, VIREO_VM_STATE_RUNNING);
    vireo_vm_controller_power_off(c);
    expect_state(logger, c, VIREO_VM_STATE_STOPPED);
    wait_for(not_busy, c, "the controller to finish");
    gt_signal_logger_assert_no_emissions(logger);
}

static void expect_error(VireoVmConfig *config, const char *fragment)
{
    g_autoptr(GtSignalLogger) logger = gt_signal_logger_new();
    g_autoptr(VireoVmController) c = vireo_vm_controller_new(config);
    g_autofree char *message = NULL;

    gt_signal_logger_connect(logger, c, "state-changed");
    gt_signal_logger_connect(logger, c, "error");
    vireo_vm_controller_start(c);
    wait_for(has_emission, logger, "an error");
    gt_signal_logger_assert_emission_pop(logger, c, "error", &message);
    g_test_message("error: %s", message);
    g_assert_nonnull(strstr(message, fragment));
    g_assert_cmpstr(vireo_vm_controller_get_last_error(c), ==, message);
    g_assert_cmpint(vireo_vm_controller_get_state(c), ==, VIREO_VM_STATE_STOPPED);
    g_assert_false(vireo_vm_controller_get_busy(c));
    gt_signal_logger_assert_no_emissions(logger);
}

static void test_errors(void)
{
    g_autoptr(VireoVmConfig) config = vireo_demo_config_new();
    g_autoptr(GError) probe = NULL;

    /* An architecture the engine has no frontend for. */
    vireo_vm_config_set_arch(config, VIREO_ARCH_X86_64);
    g_assert_false(vireo_accel_probe(VIREO_ACCEL_SOFT, VIREO_ARCH_X86_64, &probe));
    expect_error(config, probe->message);
    g_clear_error(&probe);

    /* An accelerator this host or build does not have. */
    vireo_vm_config_set_arch(config, VIREO_ARCH_RISCV64);
    vireo_vm_config_set_accel(config, VIREO_ACCEL_HVF);
    g_assert_false(vireo_accel_probe(VIREO_ACCEL_HVF, VIREO_ARCH_RISCV64, &probe));
    expect_error(config, probe->message);

    /* Missing firmware names its package. */
    vireo_vm_config_set_accel(config, VIREO_ACCEL_SOFT);
    vireo_vm_config_set_firmware(config, "/usr/lib/riscv64-linux-gnu/opensbi/generic/gone.bin");
    expect_error(config, "“opensbi”");

    /* A file that is not firmware at all: the board refuses it. */
    vireo_vm_config_set_firmware(config, "/dev/null");
    expect_error(config, "/dev/null");
}

/* Disks are attached: U-Boot finds the image as a virtio block device. */
static void test_disk(void)
{
    g_autoptr(GtSignalLogger) logger = NULL;
    g_autoptr(VireoVmConfig) config = NULL;
    g_autoptr(VireoVmController) c = NULL;
    g_autofree char *image = g_build_filename(g_get_user_data_dir(), "disk.img", NULL);
    g_autofree char *zeros = g_malloc0(1 << 20);
    ConsoleWait w;

    if (!have_firmware()) {
        return;
    }
    g_assert_cmpint(g_mkdir_with_parents(g_get_user_data_dir(), 0700), ==, 0);
    g_assert_true(g_file_set_contents(image, zeros, 1 << 20, NULL));
    logger = gt_signal_logger_new();
    config = vireo_demo_config_new();
    vireo_vm_config_add_disk(config, image, TRUE);
    c = vireo_vm_controller_new(config);
    gt_signal_logger_connect(logger, c, "state-changed");
    gt_signal_logger_connect(logger, c, "error");
    vireo_vm_controller_start(c);
    expect_state(logger, c, VIREO_VM_STATE_RUNNING);
    w = (ConsoleWait){ c, "=> ", 1 };
    wait_for(console_has, &w, "the U-Boot prompt");
    vireo_vm_controller_send_input(c, (const guint8 *)"virtio info\r", 12);
    w = (ConsoleWait){ c, "Type: Hard Disk", 1 };
    wait_for(console_has, &w, "U-Boot to list the virtio disk");
    vireo_vm_controller_power_off(c);
    expect_state(logger, c, VIREO_VM_STATE_STOPPED);
    gt_signal_logger_assert_no_emissions(logger);
}

static gboolean display_active(gpointer data)
{
    return vireo_vm_controller_get_display_active(data);
}

/* Whether the guest turned its display on: U-Boot never does, the demo
 * program does at once. */
static void test_display_active(void)
{
    g_autoptr(GtSignalLogger) logger = NULL;
    g_autoptr(VireoVmConfig) config = NULL;
    g_autoptr(VireoVmController) c = NULL;
    const char *program = g_getenv("VIREO_TEST_DEMO_PROGRAM");
    ConsoleWait w;

    if (!have_firmware()) {
        return;
    }
    logger = gt_signal_logger_new();
    config = vireo_demo_config_new_console();
    vireo_vm_config_set_display(config, VIREO_DISPLAY_VIRTIO_GPU);
    c = vireo_vm_controller_new(config);
    gt_signal_logger_connect(logger, c, "state-changed");
    gt_signal_logger_connect(logger, c, "notify::display-active");
    g_assert_false(vireo_vm_controller_get_display_active(c));
    vireo_vm_controller_start(c);
    expect_state(logger, c, VIREO_VM_STATE_RUNNING);
    w = (ConsoleWait){ c, "=> ", 1 };
    wait_for(console_has, &w, "the U-Boot prompt");
    g_assert_nonnull(vireo_vm_controller_get_scanout(c));
    g_assert_false(vireo_vm_controller_get_display_active(c));
    vireo_vm_controller_power_off(c);
    expect_state(logger, c, VIREO_VM_STATE_STOPPED);
    gt_signal_logger_assert_no_emissions(logger);

    if (program == NULL || !g_file_test(program, G_FILE_TEST_IS_REGULAR)) {
        g_test_message("no demo program: the display turned on is not tried");
        return;
    }
    vireo_vm_config_set_firmware(config, NULL);
    vireo_vm_config_set_kernel(config, program);
    vireo_vm_controller_set_config(c, config);
    gt_signal_logger_connect(logger, c, "notify::config");
    gt_signal_logger_assert_no_emissions(logger);
    vireo_vm_controller_start(c);
    expect_state(logger, c, VIREO_VM_STATE_RUNNING);
    wait_for(display_active, c, "the demo program to turn its display on");
    gt_signal_logger_assert_emission_pop(logger, c, "notify::display-active", NULL);
    vireo_vm_controller_power_off(c);
    /* A stopped machine's display is off, whatever the guest left. */
    wait_for(has_emission, logger, "the display to go off");
    gt_signal_logger_assert_emission_pop(logger, c, "notify::display-active", NULL);
    expect_state(logger, c, VIREO_VM_STATE_STOPPED);
    g_assert_false(vireo_vm_controller_get_display_active(c));
    gt_signal_logger_assert_no_emissions(logger);
}

static void test_dispose_running(void)
{
    g_autoptr(GtSignalLogger) logger = NULL;
    g_autoptr(VireoVmConfig) config = NULL;
    VireoVmController *c;

    if (!have_firmware()) {
        return;
    }
    logger = gt_signal_logger_new();
    config = vireo_demo_config_new();
    c = vireo_vm_controller_new(config);
    gt_signal_logger_connect(logger, c, "state-changed");
    vireo_vm_controller_start(c);
    expect_state(logger, c, VIREO_VM_STATE_RUNNING);
    /* Dropping a running controller stops its machine off the main thread;
     * late machine events find no controller and are ignored. */
    g_object_unref(c);
    for (int i = 0; i < 50; i++) {
        g_main_context_iteration(NULL, FALSE);
        g_usleep(10 * 1000);
    }
}

/* A TCP socket bound to a free port of 127.0.0.1 (still open, so that the
 * port stays taken), and its port. */
static int bind_free_port(guint *port)
{
    struct sockaddr_in sin = { .sin_family = AF_INET };
    socklen_t len = sizeof sin;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_assert_cmpint(fd, >=, 0);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&sin, sizeof sin), ==, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&sin, &len), ==, 0);
    *port = ntohs(sin.sin_port);
    return fd;
}

static int connect_port(guint port)
{
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((guint16)port) };
    struct timeval tv = { .tv_sec = WAIT_SECONDS };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_assert_cmpint(fd, >=, 0);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    g_assert_cmpint(connect(fd, (struct sockaddr *)&sin, sizeof sin), ==, 0);
    g_assert_cmpint(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), ==, 0);
    return fd;
}

/* Sends `packet` and returns the acknowledgement and the reply up to its
 * checksum ("+$T05thread:1;#xx"). */
static char *gdb_exchange(int fd, const char *packet)
{
    g_autoptr(GString) got = g_string_new(NULL);
    char c;

    g_assert_cmpint(write(fd, packet, strlen(packet)), ==, (gssize)strlen(packet));
    for (;;) {
        const char *hash;
        g_assert_cmpint(read(fd, &c, 1), ==, 1);
        g_string_append_c(got, c);
        hash = strchr(got->str, '#');
        if (hash != NULL && strlen(hash) == 3) {
            break;
        }
    }
    /* Acknowledge the reply. */
    g_assert_cmpint(write(fd, "+", 1), ==, 1);
    return g_string_free(g_steal_pointer(&got), FALSE);
}

static gboolean guest_runs(gpointer data)
{
    VireoVmController *c = data;
    static guint64 last;
    VireoVcpuStats s;

    vireo_vm_controller_get_stats(c, -1, &s);
    if (s.insns > last) {
        last = s.insns;
        return TRUE;
    }
    return FALSE;
}

/* [debug] gdb: the machine runs at once and a debugger reaches it on
 * 127.0.0.1; a port another program holds is a start error. */
static void test_debugger(void)
{
    g_autoptr(GtSignalLogger) logger = NULL;
    g_autoptr(VireoVmConfig) config = NULL;
    g_autoptr(VireoVmController) c = NULL;
    g_autofree char *reply = NULL;
    g_autofree char *taken = NULL;
    ConsoleWait w;
    guint port;
    int fd;

    if (!have_firmware()) {
        return;
    }
    fd = bind_free_port(&port);
    g_assert_cmpint(close(fd), ==, 0);
    logger = gt_signal_logger_new();
    config = vireo_demo_config_new();
    vireo_vm_config_set_gdb_port(config, port);
    c = vireo_vm_controller_new(config);
    gt_signal_logger_connect(logger, c, "state-changed");
    gt_signal_logger_connect(logger, c, "error");
    vireo_vm_controller_start(c);
    expect_state(logger, c, VIREO_VM_STATE_RUNNING);
    /* Nothing waits for the debugger. */
    w = (ConsoleWait){ c, "OpenSBI v1.1", 1 };
    wait_for(console_has, &w, "the OpenSBI banner without a debugger");

    fd = connect_port(port);
    reply = gdb_exchange(fd, "$?#3f");
    g_test_message("reply to ?: %s", reply);
    g_assert_true(g_str_has_prefix(reply, "+$T") || g_str_has_prefix(reply, "+$S"));
    g_clear_pointer(&reply, g_free);
    /* The debugger stopped the machine, which shows as paused. */
    expect_state(logger, c, VIREO_VM_STATE_PAUSED);
    /* Detached, the guest goes on. */
    reply = gdb_exchange(fd, "$D#44");
    g_assert_true(g_str_has_prefix(reply, "+$OK#"));
    g_assert_cmpint(close(fd), ==, 0);
    expect_state(logger, c, VIREO_VM_STATE_RUNNING);
    guest_runs(c);
    wait_for(guest_runs, c, "the guest to run after the debugger detached");
    w = (ConsoleWait){ c, "=> ", 1 };
    wait_for(console_has, &w, "the U-Boot prompt");
    g_assert_cmpint(vireo_vm_controller_get_state(c), ==, VIREO_VM_STATE_RUNNING);
    vireo_vm_controller_power_off(c);
    expect_state(logger, c, VIREO_VM_STATE_STOPPED);
    wait_for(not_busy, c, "the controller to finish");
    gt_signal_logger_assert_no_emissions(logger);

    /* A port in use: the machine does not start, and says which port. */
    fd = bind_free_port(&port);
    g_assert_cmpint(listen(fd, 1), ==, 0);
    vireo_vm_config_set_gdb_port(config, port);
    taken = g_strdup_printf("port %u", port);
    expect_error(config, taken);
    g_assert_cmpint(close(fd), ==, 0);
}

int main(int argc, char *argv[])
{
    test_fresh_dirs();
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/controller/lifecycle", test_lifecycle);
    g_test_add_func("/controller/errors", test_errors);
    g_test_add_func("/controller/disk", test_disk);
    g_test_add_func("/controller/display-active", test_display_active);
    g_test_add_func("/controller/dispose-running", test_dispose_running);
    g_test_add_func("/controller/debugger", test_debugger);
    return g_test_run();
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A VM of the application migrated from the command line, under a display
 * (tests/with-display.sh): the VM has a QMP monitor ([debug] qmp), a client
 * of it starts a migration to a real vireo-run --incoming, and the
 * Statistics view shows the migration: hidden before, then completed with
 * its figures; afterwards the window offers only to power the VM off
 * (resuming, resetting and snapshots would touch what runs on the
 * destination now, on the same disk), and the destination has the machine.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "devices/block.h"
#include "ui-helpers.h"
#include "vireo-demo.h"
#include "vireo-json.h"
#include "vireo-vm-view.h"

/* ---- A QMP client --------------------------------------------------------- */

static int qmp_connect(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_assert_cmpint(fd, >=, 0);
    g_strlcpy(sa.sun_path, path, sizeof sa.sun_path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        g_error("cannot connect to the monitor at %s: %s", path, g_strerror(errno));
    }
    return fd;
}

/* The next message (a line), within 30 s. */
static VireoJson *qmp_read(int fd)
{
    g_autoptr(GString) line = g_string_new(NULL);
    g_autoptr(GError) error = NULL;
    VireoJson *msg;
    char c;

    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        if (poll(&pfd, 1, 30000) != 1 || read(fd, &c, 1) != 1) {
            g_error("the monitor went silent after %s", line->str);
        }
        if (c == '\n') {
            break;
        }
        g_string_append_c(line, c);
    }
    msg = vireo_json_parse(line->str, line->len, &error);
    g_assert_no_error(error);
    return msg;
}

/* Sends `command` and returns its reply ("return" or "error"), skipping
 * events. */
static VireoJson *qmp_execute(int fd, const char *command)
{
    g_assert_cmpint(write(fd, command, strlen(command)), ==, (gssize)strlen(command));
    for (;;) {
        VireoJson *msg = qmp_read(fd);
        if (vireo_json_object_get(msg, "event") == NULL) {
            return msg;
        }
        vireo_json_free(msg);
    }
}

/* ---- The test ------------------------------------------------------------- */

typedef struct {
    GtkWidget *widget;
    const char *text;
} TextWait;

static gboolean text_shown(gpointer data)
{
    TextWait *w = data;
    return ui_shows_text(w->widget, w->text);
}

static gboolean path_exists(gpointer data)
{
    return g_file_test(data, G_FILE_TEST_EXISTS);
}

static gboolean migrated_notified(gpointer data)
{
    gboolean migrated = FALSE;

    g_object_get(data, "migrated", &migrated, NULL);
    return migrated;
}

static gboolean button_sensitive(GtkWidget *top, const char *action)
{
    GtkWidget *button = ui_find_button(top, action);

    g_assert_nonnull(button);
    return gtk_widget_is_sensitive(button);
}

static gboolean error_reported(gpointer data)
{
    return vireo_vm_controller_get_last_error(data) != NULL;
}

static void test_migrate_from_command_line(void)
{
    g_autofree char *program = vireo_demo_find_program(NULL);
    const char *vireo_run = g_getenv("VIREO_RUN");
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = NULL, *disk = NULL, *qmp_path = NULL, *mig = NULL, *disk_arg = NULL;
    g_autofree char *incoming = NULL, *uri = NULL, *migrate = NULL;
    g_autoptr(VireoVmConfig) config = NULL;
    VireoApplication *app;
    VireoWindow *window;
    VireoVmEntry *entry;
    VireoVmController *controller;
    VireoVmView *view;
    GtkWidget *stats;
    GPid dst;
    int dst_err, fd;
    TextWait done;
    g_autoptr(VireoJson) reply = NULL;
    g_autoptr(GString) dst_log = g_string_new(NULL);

    if (program == NULL) {
        g_test_skip("this build has no demo program (riscv64-unknown-elf-gcc)");
        return;
    }
    if (vireo_run == NULL) {
        g_test_skip("VIREO_RUN does not name vireo-run");
        return;
    }
    dir = g_dir_make_tmp("vireo-ui-migrate-XXXXXX", &error);
    g_assert_no_error(error);
    disk = g_build_filename(dir, "disk.qcow2", NULL);
    qmp_path = g_build_filename(dir, "vm.qmp", NULL);
    mig = g_build_filename(dir, "mig.sock", NULL);
    g_assert_true(vireo_qcow2_create(disk, 64 << 20, NULL, &error));

    /* The demo program on a machine vireo-run can build alike: no display,
     * no network, the disk. */
    config = vireo_vm_config_new();
    vireo_vm_config_set_name(config, "Moving");
    vireo_vm_config_set_kernel(config, program);
    vireo_vm_config_set_memory(config, 64 << 20);
    vireo_vm_config_set_cpus(config, 1);
    vireo_vm_config_set_network(config, VIREO_NETWORK_NONE);
    vireo_vm_config_set_display(config, VIREO_DISPLAY_NONE);
    vireo_vm_config_add_disk(config, disk, FALSE);
    vireo_vm_config_set_disk_format(config, 0, VIREO_BLOCK_FORMAT_QCOW2);
    vireo_vm_config_set_qmp_socket(config, qmp_path);

    app = ui_app_start();
    window = ui_app_window(app);
    gtk_window_set_default_size(GTK_WINDOW(window), 1100, 900);
    entry = vireo_vm_library_create(vireo_application_get_library(app), config, &error);
    g_assert_no_error(error);
    vireo_window_select_entry(window, entry);
    ui_spin(100);
    view = VIREO_VM_VIEW(vireo_window_get_selected_view(window));
    controller = vireo_vm_entry_get_controller(entry);
    stats = GTK_WIDGET(vireo_vm_view_get_stats(view));
    vireo_vm_view_set_page(view, "statistics");

    vireo_vm_controller_start(controller);
    ui_wait_state(entry, VIREO_VM_STATE_RUNNING, "the VM to run");
    ui_wait(path_exists, qmp_path, "the VM's monitor to listen");
    ui_spin(1200);
    /* No migration yet: no Migration group. */
    g_assert_false(ui_shows_text(stats, "Migration"));

    /* The destination, waiting for the machine. */
    disk_arg = g_strdup_printf("%s,format=qcow2", disk);
    incoming = g_strdup_printf("unix:%s", mig);
    {
        const char *argv[] = { vireo_run, "--kernel", program,  "--memory",   "64M",    "--cpus",
                               "1",       "--disk",   disk_arg, "--incoming", incoming, NULL };
        g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL,
                                               NULL, &dst, NULL, NULL, &dst_err, &error));
        g_assert_no_error(error);
    }
    ui_wait(path_exists, mig, "the destination to listen");

    /* A client of the VM's monitor migrates it. */
    fd = qmp_connect(qmp_path);
    vireo_json_free(qmp_read(fd)); /* the greeting */
    vireo_json_free(qmp_execute(fd, "{\"execute\": \"qmp_capabilities\"}\n"));
    uri = g_strdup_printf("unix:%s", mig);
    migrate =
        g_strdup_printf("{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"%s\"}}\n", uri);
    reply = qmp_execute(fd, migrate);
    g_assert_nonnull(vireo_json_object_get(reply, "return"));

    done = (TextWait){ stats, "Completed: the virtual machine runs on the destination" };
    ui_wait(text_shown, &done, "the Statistics view to show the migration completed");
    g_assert_true(ui_shows_text(stats, "Migration"));
    g_assert_true(ui_shows_text(stats, "Downtime"));
    g_assert_true(vireo_vm_controller_has_migrated(controller));

    /* The VM is paused for good: the window offers only to power it off,
     * and resuming it here is refused. */
    ui_wait_state(entry, VIREO_VM_STATE_PAUSED, "the migrated VM to be paused");
    ui_wait(migrated_notified, controller, "the controller to say the VM migrated");
    g_assert_false(button_sensitive(GTK_WIDGET(view), "vm.pause"));
    g_assert_false(button_sensitive(GTK_WIDGET(view), "vm.reset"));
    g_assert_false(button_sensitive(GTK_WIDGET(view), "vm.snapshot"));
    g_assert_true(button_sensitive(GTK_WIDGET(view), "vm.power-off"));
    ui_screenshot("migration");
    vireo_vm_controller_resume(controller);
    ui_wait(error_reported, controller, "the refusal to resume");
    g_assert_nonnull(strstr(vireo_vm_controller_get_last_error(controller), "moved"));
    ui_spin(300);
    g_assert_cmpint(vireo_vm_entry_get_state(entry), ==, VIREO_VM_STATE_PAUSED);

    /* The destination has the machine. */
    {
        gint64 end = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
        char buf[512];
        while (strstr(dst_log->str, "the machine arrived") == NULL &&
               g_get_monotonic_time() < end) {
            struct pollfd pfd = { .fd = dst_err, .events = POLLIN };
            ssize_t n;
            if (poll(&pfd, 1, 200) == 1 && (n = read(dst_err, buf, sizeof buf)) > 0) {
                g_string_append_len(dst_log, buf, n);
            }
        }
        if (strstr(dst_log->str, "the machine arrived") == NULL) {
            g_error("the destination did not take the machine: %s", dst_log->str);
        }
    }
    close(fd);
    kill(dst, SIGKILL);
    g_spawn_close_pid(dst);
    close(dst_err);

    vireo_vm_controller_power_off(controller);
    ui_wait_state(entry, VIREO_VM_STATE_STOPPED, "the VM to stop");
    ui_app_quit(app);
}

int main(int argc, char *argv[])
{
    ui_fresh_dirs();
    gtk_test_init(&argc, &argv, NULL);
    g_test_add_func("/ui/migrate/from-command-line", test_migrate_from_command_line);
    return g_test_run();
}

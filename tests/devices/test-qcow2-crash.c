/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Crash safety of qcow2 images: qcow2-crash-writer works on an image and is
 * killed with SIGKILL after a random delay, many times over; each time
 * qemu-img check must accept the image (leaked clusters counted and
 * repaired; in "snapshots" mode also the COPIED-flag window docs/QCOW2.md
 * describes), and every block must hold what the journal allows: its value
 * at the last flush (or snapshot operation that returned), or a write or
 * discard begun after it. Snapshots that were taken must be there with
 * their disk and machine state; deleted ones gone.
 *
 *   test-qcow2-crash WRITER           (VIREO_QCOW2_CRASH_ROUNDS=N for more)
 *
 * Exits 77 without qemu-img.
 */
#include "qcow2-crash.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *writer;

/* Starts the writer, waits until it has the image open, lets it work for
 * `delay_us`, and kills it. */
static void run_writer(const char *img, const char *journal, guint32 seed, uint64_t first_seq,
                       const char *mode, gulong delay_us)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *seed_s = g_strdup_printf("%u", seed);
    g_autofree char *seq_s = g_strdup_printf("%" G_GUINT64_FORMAT, first_seq);
    const char *argv[] = { writer, img, journal, seed_s, seq_s, mode, NULL };
    char line[16] = { 0 };
    GPid pid;
    int out_fd, err_fd, status;
    ssize_t n;

    g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                           NULL, NULL, &pid, NULL, &out_fd, &err_fd, &error));
    g_assert_no_error(error);
    n = read(out_fd, line, sizeof line - 1);
    if (n <= 0 || strncmp(line, "ready", 5) != 0) {
        char err[4096] = { 0 };
        g_assert_cmpint(read(err_fd, err, sizeof err - 1), >=, 0);
        g_error("the writer did not start: %s", err);
    }
    g_usleep(delay_us);
    kill(pid, SIGKILL);
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    if (!WIFSIGNALED(status)) {
        char err[4096] = { 0 };
        g_assert_cmpint(read(err_fd, err, sizeof err - 1), >=, 0);
        g_error("the writer stopped by itself (%d): %s", status, err);
    }
    close(out_fd);
    close(err_fd);
    g_spawn_close_pid(pid);
}

static int rounds(void)
{
    const char *s = g_getenv("VIREO_QCOW2_CRASH_ROUNDS");
    return s != NULL ? atoi(s) : 30;
}

static void test_crash(gconstpointer data)
{
    const char *mode = data;
    bool snapshots = strcmp(mode, "snapshots") == 0;
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = tmp_dir();
    g_autofree char *img = g_build_filename(dir, "crash.qcow2", NULL);
    g_autofree char *journal = g_build_filename(dir, "journal", NULL);
    g_autofree uint64_t *now = g_new0(uint64_t, CRASH_BLOCKS);
    GRand *rand = g_rand_new_with_seed(snapshots ? 2 : 1);
    uint64_t next_seq = 1;
    CrashStats st = { 0 };
    int lines = 0;

    for (int round = 0; round < rounds(); round++) {
        g_autofree char *text = NULL;
        CrashReplay *r;

        if (snapshots || round == 0) {
            g_unlink(img);
            g_assert_true(vireo_qcow2_create(img, CRASH_DISK_SIZE, NULL, &error));
            g_assert_no_error(error);
            memset(now, 0, CRASH_BLOCKS * sizeof *now);
        }
        r = crash_replay_new(now);
        g_unlink(journal);
        run_writer(img, journal, (guint32)round, next_seq, mode,
                   (gulong)g_rand_int_range(rand, 1000, snapshots ? 400000 : 150000));
        g_assert_true(g_file_get_contents(journal, &text, NULL, &error));
        crash_replay(r, text);
        lines += r->lines;
        next_seq += 10000000;
        st.rounds++;

        crash_check_image(img, snapshots, &st);
        crash_check_blocks(img, r, now);
        if (snapshots) {
            crash_check_snapshots(dir, img, r, g_rand_int(rand), &st);
        }
        crash_replay_free(r);
    }
    g_print("crash %s: %d kills, %d journal lines; qemu-img check clean %d, leaks %d, COPIED "
            "flags behind %d; %d snapshots gone to and compared\n",
            mode, st.rounds, lines, st.clean, st.leaks, st.flag_window, st.snapshots_checked);
    g_rand_free(rand);
    rm_rf(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (argc != 2) {
        g_printerr("usage: %s WRITER\n", argv[0]);
        return 2;
    }
    writer = argv[1];
    if (!have_qemu_img()) {
        g_print("qemu-img is not installed (package qemu-utils): skipped\n");
        return 77;
    }
    g_test_add_data_func("/qcow2/crash/io", "io", test_crash);
    g_test_add_data_func("/qcow2/crash/snapshots", "snapshots", test_crash);
    return g_test_run();
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The process test-qcow2-crash kills: the crash workload (qcow2-crash.h)
 * on a qcow2 image, its journal appended to a file, until it is killed.
 *
 *   qcow2-crash-writer IMAGE JOURNAL SEED FIRST_SEQ io|snapshots
 */
#include "qcow2-crash.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void append(void *ctx, const char *line)
{
    int fd = GPOINTER_TO_INT(ctx);

    /* One write per line: a kill leaves at most the last line cut. */
    if (write(fd, line, strlen(line)) != (ssize_t)strlen(line)) {
        exit(4);
    }
}

int main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *why = NULL;
    g_autofree guint8 *buf = g_malloc(CRASH_BLOCK);
    CrashWorkload *w = g_new0(CrashWorkload, 1);
    VireoBlock *b;
    GRand *r;
    int fd;

    if (argc != 6) {
        fprintf(stderr, "usage: %s IMAGE JOURNAL SEED FIRST_SEQ io|snapshots\n", argv[0]);
        return 2;
    }
    r = g_rand_new_with_seed((guint32)g_ascii_strtoull(argv[3], NULL, 10));
    fd = open(argv[2], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "qcow2-crash-writer: cannot open the journal\n");
        return 3;
    }
    b = vireo_block_open_format(argv[1], VIREO_BLOCK_FORMAT_QCOW2, false, &error);
    if (b == NULL) {
        fprintf(stderr, "qcow2-crash-writer: %s\n", error->message);
        return 3;
    }
    /* The disk as it is now: the test starts it on an image it read. */
    for (uint32_t i = 0; i < CRASH_BLOCKS; i++) {
        int64_t v;

        if (block_read(b, buf, CRASH_BLOCK, (uint64_t)i * CRASH_BLOCK) != 0 ||
            (v = crash_identify(buf, i)) < 0) {
            fprintf(stderr, "qcow2-crash-writer: block %u is unreadable or garbage\n", i);
            return 3;
        }
        w->cur[i] = (uint64_t)v;
    }
    w->note = append;
    w->ctx = GINT_TO_POINTER(fd);
    w->seq = g_ascii_strtoull(argv[4], NULL, 10);
    w->tag = argv[3];
    printf("ready\n");
    fflush(stdout);
    if (!crash_workload_run(w, b, r, strcmp(argv[5], "snapshots") == 0, 10000000, &why)) {
        fprintf(stderr, "qcow2-crash-writer: %s\n", why);
        return 3;
    }
    return 0;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The `counter` check, for snapshot tests: counts for ever, keeping the count
 * in RAM and in a 4 KiB block of the disk (vireo.counter_offset= bytes into
 * vireo.disk_dev=, default 1 MiB into /dev/vda), written with O_DIRECT and
 * fdatasync. Before each step it reads the block back and checks that it
 * holds the count RAM holds, so a machine whose RAM and disk came back from
 * different moments is caught. Prints "VIREO-INIT: count N" after each step,
 * every vireo.counter_ms= milliseconds (default 100); returns only when RAM
 * and disk disagree or the disk fails.
 *
 * With vireo.counter_dirty_mb=N, a child process fills N MiB of its memory
 * with pseudo-random words, over and over, as fast as it can: a guest that
 * dirties memory faster than a migration can send it, with pages that do
 * not compress.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 4096
#define MAGIC "VIREO-COUNTER "

static bool put(int fd, char *buf, off_t off, unsigned long long n)
{
    memset(buf, 0, BLOCK);
    snprintf(buf, BLOCK, MAGIC "%llu", n);
    return pwrite(fd, buf, BLOCK, off) == BLOCK && fdatasync(fd) == 0;
}

static bool get(int fd, char *buf, off_t off, unsigned long long *n)
{
    if (pread(fd, buf, BLOCK, off) != BLOCK || strncmp(buf, MAGIC, strlen(MAGIC)) != 0)
        return false;
    *n = strtoull(buf + strlen(MAGIC), NULL, 10);
    return true;
}

/* The child that dirties `mb` MiB for ever. */
static void dirty_memory(struct check *c, long mb)
{
    size_t size = (size_t)mb << 20;
    volatile unsigned long *p;
    pid_t pid;

    if (mb <= 0)
        return;
    p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        check_info(c, "cannot map %ld MiB to dirty: %s", mb, strerror(errno));
        return;
    }
    pid = fork();
    if (pid < 0) {
        check_info(c, "cannot start the dirtying process: %s", strerror(errno));
        return;
    }
    if (pid > 0) {
        check_info(c, "dirtying %ld MiB", mb);
        return;
    }
    for (unsigned long x = 0x9e3779b97f4a7c15ul;;) {
        for (size_t i = 0; i < size / sizeof *p; i++) {
            /* xorshift64 */
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            p[i] = x;
        }
    }
}

enum result check_counter(struct check *c)
{
    const char *dev = param("disk_dev");
    off_t off = param_long("counter_offset", 1 << 20);
    long ms = param_long("counter_ms", 100);
    /* The count in RAM: volatile so that it lives in memory. */
    static volatile unsigned long long count;
    char *buf;
    int fd;

    if (!dev)
        dev = "/dev/vda";
    if (!wait_for_path(dev, 5))
        return check_missing(c, "virtio-blk device");
    fd = open(dev, O_RDWR | O_DIRECT | O_CLOEXEC);
    if (fd < 0)
        return check_fail(c, "open %s: %s", dev, strerror(errno));
    if (posix_memalign((void **)&buf, BLOCK, BLOCK) != 0)
        return check_fail(c, "no memory");
    dirty_memory(c, param_long("counter_dirty_mb", 0));
    count = 0;
    if (!put(fd, buf, off, count))
        return check_fail(c, "write at %lld: %s", (long long)off, strerror(errno));
    for (;;) {
        struct timespec pace = { ms / 1000, (ms % 1000) * 1000000L };
        unsigned long long on_disk;

        nanosleep(&pace, NULL);
        if (!get(fd, buf, off, &on_disk))
            return check_fail(c, "read at %lld: %s", (long long)off, strerror(errno));
        if (on_disk != count)
            return check_fail(c, "RAM holds %llu but the disk %llu", count, on_disk);
        count = count + 1;
        if (!put(fd, buf, off, count))
            return check_fail(c, "write at %lld: %s", (long long)off, strerror(errno));
        say("count %llu", count);
    }
}

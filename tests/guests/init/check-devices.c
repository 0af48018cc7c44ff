/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The `disk`, `hvc` and `rng` checks: virtio block, console and entropy. */
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define DISK_BLOCK 4096

/* ---- disk ---------------------------------------------------------------- */

/* The block the guest writes: a header line, then bytes from a linear
 * congruential generator. tests/guests/kit.py makes the same block. */
static void disk_pattern(uint8_t *buf, size_t len, uint32_t seed)
{
    int head = snprintf((char *)buf, len, "VIREO-DISK seed=%u\n", seed);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = (size_t)head; i < len; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
}

static bool full_pwrite(int fd, const void *buf, size_t len, off_t off)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return true;
}

static bool full_pread(int fd, void *buf, size_t len, off_t off)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pread(fd, p, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return true;
}

/* Reads the host's marker line in the first sector ("VIREO-HOST token"). */
static void host_marker(int fd, char *out, size_t size)
{
    char sector[512];
    out[0] = '\0';
    if (!full_pread(fd, sector, sizeof sector, 0) || strncmp(sector, "VIREO-HOST ", 11) != 0)
        return;
    size_t len = 0;
    for (const char *p = sector + 11; p < sector + sizeof sector && len + 1 < size; p++) {
        if (*p < '!' || *p > '~')
            break;
        out[len++] = *p;
    }
    out[len] = '\0';
}

enum result check_disk(struct check *c)
{
    const char *dev = param("disk_dev");
    if (!dev)
        dev = "/dev/vda";
    if (!wait_for_path(dev, virtio_present(VIRTIO_ID_BLOCK) ? 5 : 1))
        return check_missing(c, virtio_present(VIRTIO_ID_BLOCK) ? "block device node"
                                                                : "virtio-blk device");
    long off = param_long("disk_offset", 1 << 20);
    uint32_t seed = (uint32_t)param_long("disk_seed", 1);

    int fd = open(dev, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return check_fail(c, "open %s: %s", dev, strerror(errno));
    enum result r = RESULT_PASS;
    uint64_t size = 0;
    if (ioctl(fd, BLKGETSIZE64, &size) != 0) {
        r = check_fail(c, "BLKGETSIZE64: %s", strerror(errno));
        goto out;
    }
    if (off < 0 || (uint64_t)off + DISK_BLOCK > size) {
        r = check_fail(c, "%s has %llu bytes, too small for offset %ld", dev,
                       (unsigned long long)size, off);
        goto out;
    }
    char marker[128];
    host_marker(fd, marker, sizeof marker);
    const char *want_marker = param("disk_host");
    check_info(c, "%s: %llu bytes, host marker '%s'", dev, (unsigned long long)size, marker);
    if (want_marker && strcmp(marker, want_marker) != 0) {
        r = check_fail(c, "host marker '%s', expected '%s'", marker, want_marker);
        goto out;
    }

    static uint8_t block[DISK_BLOCK], back[DISK_BLOCK];
    disk_pattern(block, sizeof block, seed);
    if (!full_pwrite(fd, block, sizeof block, off)) {
        r = check_fail(c, "write at %ld: %s", off, strerror(errno));
        goto out;
    }
    if (fsync(fd) != 0) {
        r = check_fail(c, "fsync: %s", strerror(errno));
        goto out;
    }
    /* Drop the cached copy, so the read comes from the device. */
    if (ioctl(fd, BLKFLSBUF, 0) != 0) {
        r = check_fail(c, "BLKFLSBUF: %s", strerror(errno));
        goto out;
    }
    memset(back, 0, sizeof back);
    if (!full_pread(fd, back, sizeof back, off)) {
        r = check_fail(c, "read at %ld: %s", off, strerror(errno));
        goto out;
    }
    if (memcmp(block, back, sizeof block) != 0) {
        size_t i = 0;
        while (block[i] == back[i])
            i++;
        r = check_fail(c, "read back differs at byte %zu: 0x%02x, wrote 0x%02x", i, back[i],
                       block[i]);
        goto out;
    }
    check_info(c, "wrote %d bytes at offset %ld (seed %u, crc32 %08x), synced, read back equal",
               DISK_BLOCK, off, seed, crc32_update(0, block, sizeof block));
out:
    close(fd);
    return r;
}

/* ---- hvc ----------------------------------------------------------------- */

enum result check_hvc(struct check *c)
{
    if (!wait_for_path("/dev/hvc0", virtio_present(VIRTIO_ID_CONSOLE) ? 5 : 1))
        return check_missing(c, virtio_present(VIRTIO_ID_CONSOLE) ? "/dev/hvc0"
                                                                  : "virtio-console device");
    int fd = open("/dev/hvc0", O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return check_fail(c, "open /dev/hvc0: %s", strerror(errno));
    char line[128];
    int n =
        snprintf(line, sizeof line, "VIREO-HVC: hello from /dev/hvc0 (%d harts)\n", online_harts());
    /* The host prints both consoles on one stream: serial bytes still on
     * their way would interleave with these (and cut a line of the
     * report in two), so the serial console is drained first, and this
     * console before the report goes on. */
    tcdrain(STDOUT_FILENO);
    ssize_t w = write(fd, line, (size_t)n);
    int err = errno;
    tcdrain(fd);
    close(fd);
    if (w != n)
        return check_fail(c, "write to /dev/hvc0: %s", w < 0 ? strerror(err) : "short write");
    check_info(c, "wrote %d bytes to /dev/hvc0", n);
    return RESULT_PASS;
}

/* ---- rng ----------------------------------------------------------------- */

static void on_alarm(int sig)
{
    (void)sig;
}

enum result check_rng(struct check *c)
{
    if (!virtio_present(VIRTIO_ID_RNG))
        return check_missing(c, "virtio-rng device");
    if (!wait_for_path("/dev/hwrng", 5))
        return check_missing(c, "/dev/hwrng");
    char current[64];
    if (read_text("/sys/class/misc/hw_random/rng_current", current, sizeof current) < 0)
        snprintf(current, sizeof current, "?");

    int fd = open("/dev/hwrng", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return check_fail(c, "open /dev/hwrng: %s", strerror(errno));
    /* A device that never answers interrupts the read instead of hanging. */
    struct sigaction sa = { .sa_handler = on_alarm };
    sigaction(SIGALRM, &sa, NULL);
    alarm(10);
    uint8_t buf[64];
    size_t got = 0;
    int err = 0;
    while (got < sizeof buf) {
        ssize_t n = read(fd, buf + got, sizeof buf - got);
        if (n <= 0) {
            err = n < 0 ? errno : EIO;
            break;
        }
        got += (size_t)n;
    }
    alarm(0);
    close(fd);
    if (got < sizeof buf)
        return check_fail(c, "read %zu of %zu bytes from /dev/hwrng: %s", got, sizeof buf,
                          strerror(err));
    bool same = true;
    for (size_t i = 1; i < sizeof buf; i++)
        same = same && buf[i] == buf[0];
    char hex[33];
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", buf[i]);
    check_info(c, "rng_current %s, %zu bytes: %s...", current, sizeof buf, hex);
    if (same)
        return check_fail(c, "all %zu bytes are 0x%02x", sizeof buf, buf[0]);
    return RESULT_PASS;
}

/* ---- diskbench ------------------------------------------------------------- */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Random 4 KiB writes (ending with fsync) then reads at places in the
 * first `span` bytes of the disk; the seconds each phase took. */
static bool random_phase(struct check *c, int fd, uint8_t *buf, long ops, uint64_t span,
                         double *t_write, double *t_read)
{
    uint32_t x = 12345;
    double t0;

    for (int phase = 0; phase < 2; phase++) {
        t0 = now_seconds();
        for (long i = 0; i < ops; i++) {
            off_t off;

            x = x * 1103515245u + 12345u;
            off = (off_t)((x >> 4) % (span / 4096)) * 4096;
            if (phase == 0 ? !full_pwrite(fd, buf, 4096, off) : !full_pread(fd, buf, 4096, off)) {
                check_fail(c, "random %s at %lld: %s", phase == 0 ? "write" : "read",
                           (long long)off, strerror(errno));
                return false;
            }
        }
        if (phase == 0 && fsync(fd) != 0) {
            check_fail(c, "fsync: %s", strerror(errno));
            return false;
        }
        *(phase == 0 ? t_write : t_read) = now_seconds() - t0;
    }
    return true;
}

/* Sequential 1 MiB writes then reads of vireo.diskbench_mb MiB (default 64)
 * on the disk with O_DIRECT, so the guest's page cache is out of the way;
 * the write phase ends with fsync. With vireo.diskbench_rand=N, then N
 * random 4 KiB writes (and an fsync) and N random 4 KiB reads over the same
 * stretch. Prints the rates for the host to read. */
enum result check_diskbench(struct check *c)
{
    const char *dev = param("disk_dev");
    const size_t chunk = 1 << 20;
    long mb = param_long("diskbench_mb", 64);
    long rand_ops = param_long("diskbench_rand", 0);
    uint64_t size = 0;
    void *buf = NULL;
    enum result r = RESULT_PASS;
    double t0, t_write, t_read;
    int fd;

    if (!dev)
        dev = "/dev/vda";
    if (!wait_for_path(dev, virtio_present(VIRTIO_ID_BLOCK) ? 5 : 1))
        return check_missing(c, "virtio-blk device");
    fd = open(dev, O_RDWR | O_DIRECT | O_CLOEXEC);
    if (fd < 0)
        return check_fail(c, "open %s with O_DIRECT: %s", dev, strerror(errno));
    if (ioctl(fd, BLKGETSIZE64, &size) != 0 || mb <= 0 || (uint64_t)mb * chunk > size) {
        r = check_fail(c, "%s has %llu bytes, less than %ld MiB", dev, (unsigned long long)size,
                       mb);
        goto out;
    }
    if (posix_memalign(&buf, 4096, chunk) != 0) {
        r = check_fail(c, "no memory for the buffer");
        goto out;
    }
    disk_pattern(buf, chunk, 7);
    t0 = now_seconds();
    for (long i = 0; i < mb; i++) {
        if (!full_pwrite(fd, buf, chunk, (off_t)i * (off_t)chunk)) {
            r = check_fail(c, "write of MiB %ld: %s", i, strerror(errno));
            goto out;
        }
    }
    if (fsync(fd) != 0) {
        r = check_fail(c, "fsync: %s", strerror(errno));
        goto out;
    }
    t_write = now_seconds() - t0;
    t0 = now_seconds();
    for (long i = 0; i < mb; i++) {
        if (!full_pread(fd, buf, chunk, (off_t)i * (off_t)chunk)) {
            r = check_fail(c, "read of MiB %ld: %s", i, strerror(errno));
            goto out;
        }
    }
    t_read = now_seconds() - t0;
    printf("VIREO-DISKBENCH: %ld MiB write %.1f MiB/s read %.1f MiB/s\n", mb, (double)mb / t_write,
           (double)mb / t_read);
    fflush(stdout);
    if (rand_ops > 0) {
        double t_rw, t_rr;

        if (!random_phase(c, fd, buf, rand_ops, (uint64_t)mb * chunk, &t_rw, &t_rr)) {
            r = RESULT_FAIL;
            goto out;
        }
        printf("VIREO-DISKBENCH-RANDOM: %ld x 4 KiB write %.0f IOPS read %.0f IOPS\n", rand_ops,
               (double)rand_ops / t_rw, (double)rand_ops / t_rr);
        fflush(stdout);
    }
out:
    free(buf);
    close(fd);
    return r;
}

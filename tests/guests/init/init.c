/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The guest kit's init (PID 1): mounts /proc, /sys and /dev, runs the checks
 * named by vireo.checks= on the kernel command line, prints one marker line
 * per result and a summary, and powers the machine off. See
 * docs/GUEST-KIT.md for the markers and parameters. */
#include "init.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_CHECKS "harts,smp"
/* syslog(2) action: set the level of messages printed to the console. */
#define SYSLOG_CONSOLE_LEVEL 8
#define MAX_FAILED           512

static char cmdline[4096];

/* ---- Output -------------------------------------------------------------- */

static void emit(const char *prefix, const char *name, const char *fmt, va_list ap)
{
    char line[1024];
    int n = snprintf(line, sizeof line, "%s%s%s", prefix, name ? name : "", name ? ": " : "");
    if (n < 0 || (size_t)n >= sizeof line)
        return;
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    if (m < 0)
        return;
    n += m;
    if ((size_t)n > sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    for (int off = 0; off < n;) {
        ssize_t w = write(STDOUT_FILENO, line + off, (size_t)(n - off));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (int)w;
    }
}

void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit("VIREO-INIT: ", NULL, fmt, ap);
    va_end(ap);
}

void check_info(const struct check *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit("VIREO-CHECK ", c->name, fmt, ap);
    va_end(ap);
}

enum result check_fail(struct check *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->reason, sizeof c->reason, fmt, ap);
    va_end(ap);
    return RESULT_FAIL;
}

enum result check_missing(struct check *c, const char *what)
{
    snprintf(c->reason, sizeof c->reason, "no %s", what);
    return c->optional ? RESULT_SKIP : RESULT_FAIL;
}

/* ---- Helpers ------------------------------------------------------------- */

const char *param(const char *name)
{
    static char value[512];
    char key[64];
    snprintf(key, sizeof key, "vireo.%s=", name);
    size_t klen = strlen(key);
    const char *p = cmdline;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *end = strchr(p, ' ');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len >= klen && strncmp(p, key, klen) == 0) {
            size_t vlen = len - klen;
            if (vlen >= sizeof value)
                vlen = sizeof value - 1;
            memcpy(value, p + klen, vlen);
            value[vlen] = '\0';
            return value;
        }
        p += len;
    }
    return NULL;
}

long param_long(const char *name, long fallback)
{
    const char *v = param(name);
    if (!v)
        return fallback;
    char *end;
    long n = strtol(v, &end, 0);
    return *end == '\0' ? n : fallback;
}

int read_text(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    while (len + 1 < size) {
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
        len--;
    buf[len] = '\0';
    return (int)len;
}

bool wait_for_path(const char *path, int seconds)
{
    for (int i = 0; i <= seconds * 10; i++) {
        if (access(path, F_OK) == 0)
            return true;
        struct timespec ts = { 0, 100 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    return false;
}

bool virtio_present(unsigned id)
{
    DIR *d = opendir("/sys/bus/virtio/devices");
    if (!d)
        return false;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[300], text[32];
        snprintf(path, sizeof path, "/sys/bus/virtio/devices/%s/device", e->d_name);
        if (read_text(path, text, sizeof text) > 0 && strtoul(text, NULL, 0) == id)
            found = true;
    }
    closedir(d);
    return found;
}

double uptime_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int online_harts(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

uint32_t crc32_update(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

/* ---- Start and stop ------------------------------------------------------ */

static void mount_one(const char *source, const char *target, const char *type)
{
    mkdir(target, 0755);
    if (mount(source, target, type, MS_NOSUID | MS_NOEXEC, NULL) != 0 && errno != EBUSY)
        say("mount %s on %s: %s", type, target, strerror(errno));
}

static void setup(void)
{
    mount_one("proc", "/proc", "proc");
    mount_one("sysfs", "/sys", "sysfs");
    mkdir("/dev", 0755);
    if (mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, NULL) != 0 && errno != EBUSY)
        say("mount devtmpfs on /dev: %s", strerror(errno));
    /* Without /dev/console in the initramfs the kernel opened nothing. */
    if (fcntl(STDOUT_FILENO, F_GETFD) < 0) {
        int fd = open("/dev/console", O_RDWR | O_NOCTTY);
        if (fd >= 0) {
            dup2(fd, STDIN_FILENO);
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            if (fd > STDERR_FILENO)
                close(fd);
        }
    }
    if (read_text("/proc/cmdline", cmdline, sizeof cmdline) < 0)
        cmdline[0] = '\0';
}

static void power_off(void)
{
    say("power-off (uptime %.2f s)", uptime_seconds());
    net_down();
    sync();
    reboot(RB_POWER_OFF);
    say("power-off failed: %s", strerror(errno));
    for (;;)
        pause();
}

/* ---- The checks ---------------------------------------------------------- */

static const struct {
    const char *name;
    enum result (*run)(struct check *c);
} checks[] = {
    { "harts", check_harts },
    { "smp", check_smp },
    { "disk", check_disk },
    { "hvc", check_hvc },
    { "rng", check_rng },
    { "net", check_net },
    { "diskbench", check_diskbench },
    { "fb", check_fb },
    { "fbcon", check_fbcon },
    { "stress", check_stress },
    { "osbench", check_osbench },
    { "counter", check_counter },
};

static enum result run_check(struct check *c)
{
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        if (strcmp(checks[i].name, c->name) == 0)
            return checks[i].run(c);
    }
    return check_fail(c, "unknown check (known: harts, smp, disk, hvc, rng, net, diskbench, fb, "
                         "fbcon, stress, osbench)");
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "stress-exec") == 0)
        return stress_exec_main();
    if (argc > 1 && strcmp(argv[1], "osbench-exec") == 0)
        return osbench_exec_main();
    setup();
    /* Keep the kernel's messages from interleaving with the markers. */
    klogctl(SYSLOG_CONSOLE_LEVEL, NULL, (int)param_long("loglevel", 4));

    struct utsname u;
    if (uname(&u) != 0)
        strcpy(u.release, "?");
    const char *list = param("checks");
    char wanted[512];
    snprintf(wanted, sizeof wanted, "%s", list ? list : DEFAULT_CHECKS);
    say("start: Linux %s, %d harts online, uptime %.2f s, checks %s", u.release, online_harts(),
        uptime_seconds(), wanted[0] ? wanted : "(none)");

    char failed[MAX_FAILED] = "";
    char *save = NULL;
    for (char *name = strtok_r(wanted, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        struct check c = { .name = name };
        size_t len = strlen(name);
        if (len > 1 && name[len - 1] == '?') {
            name[len - 1] = '\0';
            c.optional = true;
        }
        double t0 = uptime_seconds();
        enum result r = run_check(&c);
        double dt = uptime_seconds() - t0;
        switch (r) {
        case RESULT_PASS: check_info(&c, "PASS (%.2f s)", dt); break;
        case RESULT_SKIP: check_info(&c, "SKIP %s", c.reason); break;
        case RESULT_FAIL:
            check_info(&c, "FAIL %s", c.reason);
            if (strlen(failed) + strlen(name) + 2 < sizeof failed) {
                if (failed[0])
                    strcat(failed, ",");
                strcat(failed, name);
            }
            break;
        }
    }

    if (failed[0])
        say("FAIL %s", failed);
    else
        say("PASS");
    power_off();
    return 0;
}

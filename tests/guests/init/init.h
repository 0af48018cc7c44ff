/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The guest kit's init: shared helpers and the checks. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum result { RESULT_PASS, RESULT_FAIL, RESULT_SKIP };

/* One check being run: its name and, once it fails or is skipped, why. */
struct check {
    const char *name;
    bool optional; /* named with a trailing '?': a missing device is a skip */
    char reason[256];
};

/* Console output. Every line is written with one write(2), so lines from
 * several processes and threads never mix. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void check_info(const struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
enum result check_fail(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The device a check needs is not there: a skip when the check is
 * optional, a failure otherwise. */
enum result check_missing(struct check *c, const char *what);

/* The value of vireo.NAME=VALUE on the kernel command line, or NULL. */
const char *param(const char *name);
long param_long(const char *name, long fallback);

/* Reads a whole (small) file into buf, NUL-terminated, without the trailing
 * newline. Returns the length or -1. */
int read_text(const char *path, char *buf, size_t size);
/* Waits up to `seconds` for a path to appear. */
bool wait_for_path(const char *path, int seconds);
/* Whether a virtio device with this device ID has been probed. */
bool virtio_present(unsigned id);
double uptime_seconds(void);
int online_harts(void);
uint32_t crc32_update(uint32_t crc, const void *buf, size_t len);

enum {
    VIRTIO_ID_NET = 1,
    VIRTIO_ID_BLOCK = 2,
    VIRTIO_ID_CONSOLE = 3,
    VIRTIO_ID_RNG = 4,
    VIRTIO_ID_GPU = 16,
};

enum result check_harts(struct check *c);
enum result check_smp(struct check *c);
enum result check_disk(struct check *c);
enum result check_diskbench(struct check *c);
enum result check_hvc(struct check *c);
enum result check_rng(struct check *c);
enum result check_net(struct check *c);
/* Before power-off: takes every network interface but lo down. */
void net_down(void);
enum result check_fb(struct check *c);
enum result check_fbcon(struct check *c);
enum result check_stress(struct check *c);
enum result check_osbench(struct check *c);
enum result check_counter(struct check *c);
/* /init run again by the osbench check's fork+exec ("/init osbench-exec"). */
int osbench_exec_main(void);
/* /init run again by the stress check's exec part ("/init stress-exec"). */
int stress_exec_main(void);

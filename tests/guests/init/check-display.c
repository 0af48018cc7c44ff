/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The display checks of the kit's display variant (kernel-display.config):
 *
 * - `fbcon`: the framebuffer console took over the virtual terminal (the
 *   kernel's log line, the vtconsole in sysfs), init writes a marker line on
 *   it, and the frame buffer then holds lit pixels in the console's top
 *   rows.
 * - `fb`: reads /dev/fb0's geometry (FBIOGET_VSCREENINFO and
 *   FBIOGET_FSCREENINFO), switches the terminal to graphics mode so that the
 *   console no longer draws, fills the whole visible screen with a pattern
 *   the host can recompute, reads it back, and waits for the host to show
 *   it.
 *
 * Both hold the picture for vireo.fb_hold milliseconds (default 1500) at the
 * end, so that the deferred flush of the fbdev emulation reaches the host's
 * scanout before the power-off.
 */
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fb.h>
#include <linux/kd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define FB_DEVICE          "/dev/fb0"
#define SYSLOG_READ_ALL    3
#define FBCON_MARKER       "VIREO-FBCON: the framebuffer console shows this line"
#define FBCON_ROWS_CHECKED 64

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* The kernel log line holding `what`, copied into `out` (empty if none). */
static bool kernel_log_line(const char *what, char *out, size_t size)
{
    static char log[1 << 17];
    int n = klogctl(SYSLOG_READ_ALL, log, (int)sizeof log - 1);
    out[0] = '\0';
    if (n <= 0)
        return false;
    log[n] = '\0';
    const char *hit = strstr(log, what);
    if (!hit)
        return false;
    const char *start = hit;
    while (start > log && start[-1] != '\n')
        start--;
    /* Leave out the "<6>[    1.234567] " prefix. */
    const char *text = strstr(start, "] ");
    if (text && text < hit)
        start = text + 2;
    size_t len = strcspn(start, "\n");
    if (len >= size)
        len = size - 1;
    memcpy(out, start, len);
    out[len] = '\0';
    return true;
}

struct fb {
    int fd;
    struct fb_var_screeninfo var;
    struct fb_fix_screeninfo fix;
    uint8_t *mem;
    size_t size;
};

static enum result fb_open(struct check *c, struct fb *fb, int flags)
{
    if (!virtio_present(VIRTIO_ID_GPU))
        return check_missing(c, "virtio-gpu device");
    if (!wait_for_path(FB_DEVICE, 10))
        return check_fail(c, "no %s (the virtio-gpu driver has no fbdev emulation)", FB_DEVICE);
    fb->fd = open(FB_DEVICE, flags | O_CLOEXEC);
    if (fb->fd < 0)
        return check_fail(c, "open %s: %s", FB_DEVICE, strerror(errno));
    if (ioctl(fb->fd, FBIOGET_VSCREENINFO, &fb->var) != 0 ||
        ioctl(fb->fd, FBIOGET_FSCREENINFO, &fb->fix) != 0)
        return check_fail(c, "FBIOGET_*SCREENINFO: %s", strerror(errno));
    check_info(c,
               "%s '%.16s': %ux%u (virtual %ux%u), %u bpp, line %u bytes, memory %u bytes, "
               "red %u/%u green %u/%u blue %u/%u",
               FB_DEVICE, fb->fix.id, fb->var.xres, fb->var.yres, fb->var.xres_virtual,
               fb->var.yres_virtual, fb->var.bits_per_pixel, fb->fix.line_length, fb->fix.smem_len,
               fb->var.red.offset, fb->var.red.length, fb->var.green.offset, fb->var.green.length,
               fb->var.blue.offset, fb->var.blue.length);
    if (fb->var.bits_per_pixel != 32)
        return check_fail(c, "%u bits per pixel; the check draws 32", fb->var.bits_per_pixel);
    if (fb->var.xres == 0 || fb->var.yres == 0 ||
        (size_t)fb->fix.line_length < (size_t)fb->var.xres * 4)
        return check_fail(c, "bad geometry");
    fb->size = (size_t)fb->fix.line_length * (fb->var.yoffset + fb->var.yres);
    if (fb->size > fb->fix.smem_len)
        return check_fail(c, "the visible screen (%zu bytes) is beyond the memory (%u bytes)",
                          fb->size, fb->fix.smem_len);
    int prot = PROT_READ | ((flags & O_ACCMODE) == O_RDWR ? PROT_WRITE : 0);
    fb->mem = mmap(NULL, fb->size, prot, MAP_SHARED, fb->fd, 0);
    if (fb->mem == MAP_FAILED)
        return check_fail(c, "mmap %s: %s", FB_DEVICE, strerror(errno));
    return RESULT_PASS;
}

static void fb_close(struct fb *fb)
{
    if (fb->mem && fb->mem != MAP_FAILED)
        munmap(fb->mem, fb->size);
    if (fb->fd >= 0)
        close(fb->fd);
}

static uint32_t *fb_row(struct fb *fb, unsigned y)
{
    return (uint32_t *)(fb->mem + (size_t)fb->fix.line_length * (fb->var.yoffset + y) +
                        (size_t)fb->var.xoffset * 4);
}

/* ---- fbcon ---------------------------------------------------------------- */

enum result check_fbcon(struct check *c)
{
    struct fb fb = { .fd = -1 };
    char line[256];

    enum result r = fb_open(c, &fb, O_RDONLY);
    if (r != RESULT_PASS) {
        fb_close(&fb);
        return r;
    }
    if (kernel_log_line("fb0: ", line, sizeof line))
        check_info(c, "kernel: %s", line);
    if (!kernel_log_line("Console: switching to colour frame buffer device", line, sizeof line)) {
        fb_close(&fb);
        return check_fail(c, "the kernel log has no framebuffer console line");
    }
    check_info(c, "kernel: %s", line);
    for (int i = 0; i < 4; i++) {
        char path[64], name[128];
        snprintf(path, sizeof path, "/sys/class/vtconsole/vtcon%d/name", i);
        if (read_text(path, name, sizeof name) > 0 && strstr(name, "frame buffer")) {
            check_info(c, "vtcon%d: %s", i, name);
            break;
        }
    }

    /* A line of our own on the console, then time for fbcon to draw it and
     * for the fbdev emulation to flush it. */
    int tty = open("/dev/tty0", O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (tty < 0) {
        fb_close(&fb);
        return check_fail(c, "open /dev/tty0: %s", strerror(errno));
    }
    static const char text[] = "\r\n" FBCON_MARKER "\r\n";
    if (write(tty, text, sizeof text - 1) != (ssize_t)sizeof text - 1)
        check_info(c, "write /dev/tty0: %s", strerror(errno));
    close(tty);
    sleep_ms(300);

    /* Lit pixels in the console's top rows. */
    unsigned rows = fb.var.yres < FBCON_ROWS_CHECKED ? fb.var.yres : FBCON_ROWS_CHECKED;
    unsigned long lit = 0;
    for (unsigned y = 0; y < rows; y++) {
        const uint32_t *p = fb_row(&fb, y);
        for (unsigned x = 0; x < fb.var.xres; x++)
            lit += (p[x] & 0x00ffffffu) != 0;
    }
    check_info(c, "%lu lit pixels in the top %u rows", lit, rows);
    fb_close(&fb);
    if (lit == 0)
        return check_fail(c, "the console drew nothing into %s", FB_DEVICE);
    sleep_ms(param_long("fb_hold", 1500));
    return RESULT_PASS;
}

/* ---- fb ------------------------------------------------------------------- */

/* The pattern's colour at (x, y) of a w × h screen, as 0xRRGGBB: red
 * rises to the right, green downwards, blue alternates in 32-pixel
 * squares, and a one-pixel white frame marks the edges. The host
 * (tests/guests/guestkit.py, fb_pattern) computes the same. */
static uint32_t pattern_rgb(unsigned x, unsigned y, unsigned w, unsigned h)
{
    if (x == 0 || y == 0 || x == w - 1 || y == h - 1)
        return 0xffffffu;
    uint32_t r = w > 1 ? x * 255u / (w - 1) : 0;
    uint32_t g = h > 1 ? y * 255u / (h - 1) : 0;
    uint32_t b = (((x >> 5) + (y >> 5)) & 1) ? 0xc0 : 0x30;
    return (r << 16) | (g << 8) | b;
}

static uint32_t channel(uint32_t value8, const struct fb_bitfield *f)
{
    if (f->length == 0)
        return 0;
    uint32_t v = f->length >= 8 ? value8 << (f->length - 8) : value8 >> (8 - f->length);
    return v << f->offset;
}

enum result check_fb(struct check *c)
{
    struct fb fb = { .fd = -1 };

    enum result r = fb_open(c, &fb, O_RDWR);
    if (r != RESULT_PASS) {
        fb_close(&fb);
        return r;
    }
    /* Graphics mode: the console stops drawing (text, cursor) on the VT. */
    int tty = open("/dev/tty0", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (tty < 0 || ioctl(tty, KDSETMODE, KD_GRAPHICS) != 0)
        check_info(c, "KDSETMODE KD_GRAPHICS: %s (the console may draw over the pattern)",
                   strerror(errno));
    else
        check_info(c, "terminal in graphics mode");

    unsigned w = fb.var.xres, h = fb.var.yres;
    uint32_t crc = 0;
    for (unsigned y = 0; y < h; y++) {
        uint32_t *p = fb_row(&fb, y);
        for (unsigned x = 0; x < w; x++) {
            uint32_t v = pattern_rgb(x, y, w, h);
            p[x] = channel(v >> 16, &fb.var.red) | channel((v >> 8) & 0xff, &fb.var.green) |
                   channel(v & 0xff, &fb.var.blue);
        }
        crc = crc32_update(crc, p, (size_t)w * 4);
    }
    if (msync(fb.mem, fb.size, MS_SYNC) != 0)
        check_info(c, "msync: %s", strerror(errno));
    /* fsync on fbdev flushes the deferred I/O now rather than later. */
    fsync(fb.fd);

    unsigned long wrong = 0;
    uint32_t again = 0;
    for (unsigned y = 0; y < h; y++) {
        const uint32_t *p = fb_row(&fb, y);
        again = crc32_update(again, p, (size_t)w * 4);
        for (unsigned x = 0; x < w; x++) {
            uint32_t v = pattern_rgb(x, y, w, h);
            uint32_t want = channel(v >> 16, &fb.var.red) |
                            channel((v >> 8) & 0xff, &fb.var.green) |
                            channel(v & 0xff, &fb.var.blue);
            wrong += p[x] != want;
        }
    }
    check_info(c, "pattern drawn on %ux%u, crc32 %08x, read back crc32 %08x", w, h, crc, again);
    fb_close(&fb);
    if (wrong != 0) {
        if (tty >= 0)
            close(tty);
        return check_fail(c, "%lu pixels read back differ from the pattern", wrong);
    }
    sleep_ms(param_long("fb_hold", 1500));
    check_info(c, "held the pattern for %ld ms", param_long("fb_hold", 1500));
    /* tty stays in graphics mode until the power-off. */
    (void)tty;
    return RESULT_PASS;
}

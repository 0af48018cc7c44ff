/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The demo's main loop: finds the virtio-gpu device in the device tree,
 * makes a 2D resource of the display's size backed by RAM, and draws the
 * scene into it at a steady rate, sending the host only the rectangles that
 * changed. When the host changes the display's size, the resource is made
 * again at the new size. The serial console shows a banner and takes a few
 * keys. Boot arguments (/chosen/bootargs) can end the run:
 *
 *   demo.frames=N    power off after N frames
 *   demo.seconds=S   power off after S seconds
 *   demo.fps=N       frames per second (default 30, 1 to 120)
 */
#include "gpu.h"
#include "scene.h"

#define DEFAULT_WIDTH  1024
#define DEFAULT_HEIGHT 768
#define MIN_SIDE       64
#define MAX_SIDE       8192
#define PAGE           4096ul

extern char _end[];

static struct board_info board;
static struct gpu gpu;
static uintptr_t heap_start, heap_end;

/* The resource on the scanout: its frame buffer (the backing the host
 * reads) and the background the frames are restored from. */
struct display {
    uint32_t id; /* 0: none */
    struct surface fb, bg;
    uintptr_t base;
    size_t bytes;
};

static struct display current, retired;
static uint32_t next_id = 1;
static bool scanout_pending;

static uintptr_t align_up(uintptr_t v)
{
    return (v + PAGE - 1) & ~(PAGE - 1);
}

static bool fits(uintptr_t at, size_t bytes)
{
    if (at < heap_start || at + bytes > heap_end || at + bytes < at)
        return false;
    /* Not over the memory the scanout still shows. */
    return current.id == 0 || at + bytes <= current.base || at >= current.base + current.bytes;
}

/* Takes the current resource off the scanout and frees it. */
static void release_current(void)
{
    if (current.id == 0)
        return;
    gpu_set_scanout(&gpu, 0, 0, (struct gpu_rect){ 0, 0, 0, 0 });
    gpu_detach_backing(&gpu, current.id);
    gpu_resource_unref(&gpu, current.id);
    gpu_submit(&gpu);
    current.id = 0;
}

/* Makes a resource of w × h for scanout 0. The old one stays on the
 * scanout until the first frame of the new one is ready, unless there is
 * not enough memory for both. */
static bool make_display(int w, int h)
{
    size_t room = heap_end - heap_start;
    w = iclamp(w, MIN_SIDE, MAX_SIDE);
    h = iclamp(h, MIN_SIDE, MAX_SIDE);
    while ((size_t)2 * align_up((uintptr_t)w * (uintptr_t)h * 4) > room && w > MIN_SIDE &&
           h > MIN_SIDE) {
        w = w * 7 / 8;
        h = h * 7 / 8;
        uart_printf("vireo-demo: not enough RAM for the display's size, trying %dx%d\n", w, h);
    }
    size_t fb_bytes = align_up((uintptr_t)w * (uintptr_t)h * 4);
    size_t bytes = 2 * fb_bytes;
    uintptr_t at = heap_start;
    if (!fits(at, bytes))
        at = align_up(current.base + current.bytes);
    if (!fits(at, bytes)) {
        release_current();
        at = heap_start;
        if (!fits(at, bytes))
            return false;
    }

    struct display d = {
        next_id++, { (uint32_t *)at, w, h, w }, { (uint32_t *)(at + fb_bytes), w, h, w }, at, bytes
    };
    gpu_resource_create_2d(&gpu, d.id, GPU_FORMAT_B8G8R8X8_UNORM, (uint32_t)w, (uint32_t)h);
    gpu_attach_backing(&gpu, d.id, at, (uint32_t)((size_t)w * (size_t)h * 4));
    if (!gpu_submit(&gpu))
        return false;
    scene_layout(w, h);
    scene_background(&d.bg);
    retired = current;
    current = d;
    scanout_pending = true;
    return true;
}

/* Sends the changed rectangles: transfers, then (after a new resource's
 * first frame) the scanout switch, then the flushes. */
static void present(const struct rect *dirty, int n)
{
    for (int i = 0; i < n; i++) {
        struct rect r = dirty[i];
        struct gpu_rect g = { (uint32_t)r.x0, (uint32_t)r.y0, (uint32_t)(r.x1 - r.x0),
                              (uint32_t)(r.y1 - r.y0) };
        uint64_t offset = ((uint64_t)r.y0 * (uint64_t)current.fb.stride + (uint64_t)r.x0) * 4;
        gpu_transfer_to_host_2d(&gpu, current.id, g, offset);
    }
    gpu_submit(&gpu);
    if (scanout_pending) {
        struct gpu_rect all = { 0, 0, (uint32_t)current.fb.width, (uint32_t)current.fb.height };
        gpu_set_scanout(&gpu, 0, current.id, all);
        gpu_submit(&gpu);
        scanout_pending = false;
    }
    for (int i = 0; i < n; i++) {
        struct rect r = dirty[i];
        gpu_resource_flush(&gpu, current.id,
                           (struct gpu_rect){ (uint32_t)r.x0, (uint32_t)r.y0,
                                              (uint32_t)(r.x1 - r.x0), (uint32_t)(r.y1 - r.y0) });
    }
    if (retired.id != 0) {
        gpu_detach_backing(&gpu, retired.id);
        gpu_resource_unref(&gpu, retired.id);
        retired.id = 0;
    }
    gpu_submit(&gpu);
}

/* Scanout 0's size from the device, or false when it has none. */
static bool display_size(int *w, int *h)
{
    struct gpu_display modes[GPU_MAX_SCANOUTS];
    if (!gpu_get_display_info(&gpu, modes) || !modes[0].enabled || modes[0].r.width == 0 ||
        modes[0].r.height == 0)
        return false;
    *w = (int)modes[0].r.width;
    *h = (int)modes[0].r.height;
    return true;
}

static void help(void)
{
    uart_puts("vireo-demo: keys: p pause/resume, i information, q power off, h help\n");
}

/* Without a GPU there is nothing to draw: answer the keys only. */
static _Noreturn void idle(void)
{
    for (;;) {
        int c = uart_getc();
        if (c == 'q') {
            uart_puts("vireo-demo: power-off\n");
            power_off(TEST_POWER_OFF);
        }
        platform_wait(read_time() + timebase_hz / 20);
    }
}

void demo_main(uint64_t hartid, const void *fdt);

void demo_main(uint64_t hartid, const void *fdt)
{
    uart_init();
    font_init();
    bool have_tree = fdt_read_board(fdt, &board);
    if (!have_tree || board.ram_size == 0) {
        board.ram_base = BOARD_RAM;
        board.ram_size = 64ul << 20;
    }
    if (board.timebase_hz != 0)
        timebase_hz = board.timebase_hz;
    uart_printf("vireo-demo: Vireo's bare-metal RISC-V 64 demo for virtio-gpu (M-mode, hart %lu "
                "of %u, %lu MiB RAM)\n",
                hartid, board.n_harts ? board.n_harts : 1, board.ram_size >> 20);
    if (!have_tree)
        uart_puts("vireo-demo: no device tree in a1; assuming 64 MiB of RAM\n");

    /* The heap: from the end of the program to the device tree (which the
     * board puts near the top of RAM) or the end of RAM. */
    heap_start = align_up((uintptr_t)_end);
    heap_end = (uintptr_t)(board.ram_base + board.ram_size);
    uint32_t fdt_size = fdt_total_size(fdt);
    if (fdt_size != 0 && (uintptr_t)fdt >= heap_start && (uintptr_t)fdt < heap_end)
        heap_end = (uintptr_t)fdt & ~(PAGE - 1);

    uint64_t stop_frames = arg_number(board.bootargs, "demo.frames", 0);
    uint64_t stop_seconds = arg_number(board.bootargs, "demo.seconds", 0);
    uint64_t fps = arg_number(board.bootargs, "demo.fps", 30);
    fps = fps < 1 ? 1 : fps > 120 ? 120 : fps;

    if (!gpu_open(&gpu, &board)) {
        uart_puts("vireo-demo: no virtio-gpu device on this machine: give it a display "
                  "(Vireo: display device virtio-gpu; QEMU: -device virtio-gpu-device); "
                  "q powers off\n");
        idle();
    }
    int w = DEFAULT_WIDTH, h = DEFAULT_HEIGHT;
    if (!display_size(&w, &h))
        uart_printf("vireo-demo: scanout 0 reports no size; using %dx%d\n", w, h);
    gpu_take_events(&gpu);
    uart_printf("vireo-demo: virtio-gpu at %lx (interrupt %u), %u scanout%s; scanout 0 is %dx%d; "
                "drawing at %lu frames per second\n",
                (uint64_t)gpu.dev.base, gpu.dev.irq, gpu.num_scanouts,
                gpu.num_scanouts == 1 ? "" : "s", w, h, fps);
    help();
    if (!make_display(w, h)) {
        uart_puts("vireo-demo: the display cannot be set up\n");
        idle();
    }

    const uint64_t period = timebase_hz / fps;
    uint64_t start = read_time(), next = start, paused_at = 0, paused_for = 0;
    uint64_t frames = 0, mark_time = 0, mark_frames = 0, busy = 0, mark_busy = 0;
    struct scene_status status = { 0 };
    bool paused = false, pause_drawn = false, have_mark = false;
    double load = 0.0;

    for (;;) {
        uint64_t now = read_time();
        int c = uart_getc();
        if (c == 'p') {
            paused = !paused;
            if (paused) {
                paused_at = now;
                pause_drawn = false;
                have_mark = false;
            } else {
                paused_for += now - paused_at;
            }
            uart_puts(paused ? "vireo-demo: paused\n" : "vireo-demo: running\n");
        } else if (c == 'i') {
            uart_printf("vireo-demo: %dx%d, frame %lu, %lu.%lu s, %d.%d fps, busy %d%%\n",
                        current.fb.width, current.fb.height, frames,
                        (uint64_t)(status.seconds * 10) / 10, (uint64_t)(status.seconds * 10) % 10,
                        (int)(status.fps * 10) / 10, (int)(status.fps * 10) % 10,
                        (int)(load * 100 + 0.5));
        } else if (c == 'q') {
            uart_puts("vireo-demo: power-off\n");
            power_off(TEST_POWER_OFF);
        } else if (c == 'h' || c == '?') {
            help();
        }

        if (gpu_take_events(&gpu) & GPU_EVENT_DISPLAY) {
            int nw, nh;
            if (display_size(&nw, &nh) && (nw != current.fb.width || nh != current.fb.height)) {
                uart_printf("vireo-demo: the display is now %dx%d\n", nw, nh);
                if (!make_display(nw, nh)) {
                    uart_puts("vireo-demo: the display cannot be set up\n");
                    idle();
                }
                pause_drawn = false;
            }
        }

        bool drawn = false;
        if (!paused || !pause_drawn) {
            uint64_t t_ticks = (paused ? paused_at : now) - start - paused_for;
            status.seconds = (double)t_ticks / (double)timebase_hz;
            status.frames = frames + 1;
            status.paused = paused;
            struct rect dirty[SCENE_MAX_DIRTY];
            int n = scene_frame(&current.fb, &current.bg, status.seconds, &status, dirty);
            present(dirty, n);
            frames++;
            pause_drawn = paused;
            drawn = true;
        }

        uint64_t done = read_time();
        busy += done - now;
        /* The rate over about half a second: the frames started between
         * the marked frame and this one, over the time between their
         * starts (and how much of it hart 0 worked). */
        if (drawn) {
            uint64_t busy_before = busy - (done - now);
            if (!have_mark || now - mark_time >= timebase_hz / 2) {
                if (have_mark) {
                    double dt = (double)(now - mark_time) / (double)timebase_hz;
                    status.fps = (double)(frames - mark_frames) / dt;
                    load = (double)(busy_before - mark_busy) / (double)(now - mark_time);
                }
                have_mark = true;
                mark_time = now;
                mark_frames = frames;
                mark_busy = busy_before;
            }
        }
        if ((stop_frames != 0 && frames >= stop_frames) ||
            (stop_seconds != 0 && done - start >= stop_seconds * timebase_hz)) {
            double secs = (double)(done - start) / (double)timebase_hz;
            uart_printf("vireo-demo: %lu frames in %lu.%02lu s, power-off\n", frames,
                        (uint64_t)secs, (uint64_t)(secs * 100) % 100);
            power_off(TEST_POWER_OFF);
        }

        /* The next frame's time; after a slow frame, from now on. */
        next += period;
        if (next < done)
            next = done;
        while (read_time() < next) {
            uint32_t irq = platform_wait(next);
            if (irq != 0) {
                if (irq == gpu.dev.irq)
                    virtio_ack(&gpu.dev);
                platform_complete(irq);
            }
        }
    }
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "devices/block.h"
#include "devices/net.h"
#include "devices/virtio-input.h"
#include "devices/virtio.h"
#include "engine/arch.h"
#include "engine/backend.h"
#include "engine/machine.h"
#include "engine/ring.h"
#include "engine/scanout.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

G_BEGIN_DECLS

/*
 * The boards, one per guest architecture, behind one table of operations:
 * whoever builds a machine (the application's controller, vireo-run) looks
 * the board up by architecture and describes the machine the same way
 * whatever the board, so that a new architecture's board is one more entry
 * here and nothing above changes. Only riscv64's `virt` exists today.
 */

/* A disk: an image file, raw or qcow2 (AUTO, the zero value: detected). */
typedef struct {
    const char *path;
    bool read_only;
    VireoBlockFormat format;
} VireoBoardDisk;

/* The display device. */
typedef enum {
    VIREO_BOARD_DISPLAY_NONE,
    VIREO_BOARD_DISPLAY_2D,    /* virtio-gpu in 2D */
    VIREO_BOARD_DISPLAY_VIRGL, /* virtio-gpu in 3D where OpenGL allows it, else 2D */
} VireoBoardDisplay;

/* What a machine is built from, on every board. Paths may be NULL; nothing
 * is kept after the board is built except the rings, the scanout and the GL
 * provider, which must outlive the machine. */
typedef struct {
    uint64_t ram_size; /* bytes, a multiple of 4 KiB */
    unsigned n_cpus;
    const char *cpu;        /* the CPU model, one of the board's `cpus`; NULL: its default */
    VireoEngineKind engine; /* what runs guest code (zero: the process's default) */
    const char *firmware;   /* started first, in the most privileged mode */
    const char *kernel;     /* the next stage: a kernel or a boot loader */
    const char *initrd;
    const char *cmdline;
    const char *test_elf; /* a bare-metal test program run alone, reporting through HTIF */
    const VireoBoardDisk *disks;
    unsigned n_disks;
    const VireoNetConfig *net; /* a network card on this back end; NULL or VIREO_NET_NONE: none */
    VireoBoardDisplay display;
    bool input;            /* a keyboard and a tablet, for a display */
    VireoRing *console;    /* the serial console's output; may be NULL */
    VireoRing *hvc;        /* the virtio console's output; NULL discards it */
    VireoScanout *scanout; /* the display's output; NULL: the board makes one */
    int display_width;     /* the display's first mode; 0 x 0: the board's default */
    int display_height;
    VireoGlProvider *gl;  /* OpenGL contexts for VIREO_BOARD_DISPLAY_VIRGL */
    const char *gl_error; /* without `gl`, why there is none */
    /* The machine's state will be loaded (a migration arriving): the boot
     * images are read, for a later reset, but not copied into memory. */
    bool state_follows;
} VireoBoardConfig;

/* A built board; it lives as long as its machine. */
typedef struct VireoBoard VireoBoard;

typedef struct {
    const char *name; /* "virt" */
    VireoArch arch;
    /* The boot chain for an operating system on a disk: a firmware and a
     * boot loader that finds the system on the disk, where Debian installs
     * them, with their packages. */
    const char *disk_firmware;
    const char *disk_firmware_package;
    const char *disk_loader;
    const char *disk_loader_package;
    /* The CPU models the board offers, NULL-terminated; the first is the
     * default. */
    const char *const *cpus;
    /* How many disks fit beside the other devices. */
    unsigned (*max_disks)(bool net, VireoBoardDisplay display, bool input);
    /* Builds the machine, ready to start; `impl` receives the board's own
     * object. A VIREO_ERROR_CONFIG error for a configuration the board
     * cannot take, VIREO_ERROR_IO for a file or back end that fails. */
    VireoMachine *(*create)(const VireoBoardConfig *config, void **impl, GError **error);
    /* Host to guest on the serial console; returns how many bytes were
     * taken. */
    gsize (*console_receive)(void *impl, const guint8 *data, gsize len);
    VireoVirtio *(*get_virtio_console)(void *impl);
    VireoVirtio *(*get_net)(void *impl);
    VireoVirtio *(*get_gpu)(void *impl);
    VireoScanout *(*get_scanout)(void *impl);
    const VireoVirtioInputPair *(*get_input)(void *impl);
    /* The device tree the guest is given, or NULL on a board without one. */
    GBytes *(*get_fdt)(void *impl);
    /* Disk `index` in the configuration's order, or NULL past the last. */
    VireoBlock *(*get_disk)(void *impl, unsigned index);
} VireoBoardOps;

/* Where Debian's packages install the virt board's firmware and U-Boot. */
#define VIREO_BOARD_VIRT_FIRMWARE "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin"
#define VIREO_BOARD_VIRT_LOADER   "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin"

/* The board of `arch`, or NULL when there is none yet. */
const VireoBoardOps *vireo_board_find(VireoArch arch);

/* Builds a machine on the board `ops`; `board` (optional) receives the
 * board, which lives as long as the machine. */
VireoMachine *vireo_board_new(const VireoBoardOps *ops, const VireoBoardConfig *config,
                              VireoBoard **board, GError **error);

const VireoBoardOps *vireo_board_get_ops(VireoBoard *board);
VireoMachine *vireo_board_get_machine(VireoBoard *board);
/* The board's own object (a VireoVirt for `virt`). */
void *vireo_board_get_impl(VireoBoard *board);
gsize vireo_board_console_receive(VireoBoard *board, const guint8 *data, gsize len);
VireoVirtio *vireo_board_get_virtio_console(VireoBoard *board);
/* The network card, or NULL without a network. */
VireoVirtio *vireo_board_get_net(VireoBoard *board);
/* The display device, or NULL without one. */
VireoVirtio *vireo_board_get_gpu(VireoBoard *board);
/* The display's output, or NULL without a display. */
VireoScanout *vireo_board_get_scanout(VireoBoard *board);
/* The keyboard and the tablet, or NULL without them. */
const VireoVirtioInputPair *vireo_board_get_input(VireoBoard *board);
GBytes *vireo_board_get_fdt(VireoBoard *board);
/* The disk `index` (the board config's order), or NULL past the last. */
VireoBlock *vireo_board_get_disk(VireoBoard *board, unsigned index);

G_END_DECLS

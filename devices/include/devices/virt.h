/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "devices/block.h"
#include "devices/net.h"
#include "devices/uart.h"
#include "devices/virtio-gpu.h"
#include "devices/virtio-input.h"
#include "devices/virtio.h"
#include "engine/machine.h"
#include "engine/riscv.h"
#include "engine/ring.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

G_BEGIN_DECLS

/*
 * The RISC-V `virt` board, laid out like QEMU's so that stock firmware for
 * that board (OpenSBI's generic platform, U-Boot's qemu-riscv64 builds)
 * runs on it: a reset ROM, the SiFive test device, a Goldfish RTC, the
 * CLINT, the PLIC, an NS16550A UART, eight virtio-mmio slots (a console, an
 * entropy device, up to six disks, or five and a network card, and a
 * display (virtio-gpu) and a keyboard and a tablet in the slots left) and
 * RAM from 0x80000000.
 * docs/BOARD.md describes the map, the device tree and where boot images go.
 */

/* Regions of the memory map, in address order. */
typedef enum {
    VIREO_VIRT_MROM,
    VIREO_VIRT_TEST,
    VIREO_VIRT_RTC,
    VIREO_VIRT_CLINT,
    VIREO_VIRT_PLIC,
    VIREO_VIRT_UART0,
    VIREO_VIRT_VIRTIO, /* the first virtio-mmio slot; the others follow it */
    VIREO_VIRT_DRAM,
    VIREO_VIRT_N_REGIONS,
} VireoVirtRegion;

typedef struct {
    const char *name; /* device-tree node name */
    uint64_t base;
    uint64_t size; /* 0 where it depends on the configuration (PLIC, RAM) */
} VireoVirtMapEntry;

const VireoVirtMapEntry *vireo_virt_map_entry(VireoVirtRegion region);
/* The size of `region` on a board with `n_harts` harts and `ram_size` of RAM. */
uint64_t vireo_virt_region_size(VireoVirtRegion region, unsigned n_harts, uint64_t ram_size);

#define VIREO_VIRT_MAX_HARTS     64
#define VIREO_VIRT_TIMEBASE_HZ   10000000
#define VIREO_VIRT_UART_IRQ      10
#define VIREO_VIRT_RTC_IRQ       11
#define VIREO_VIRT_UART_CLOCK_HZ 3686400

/* virtio-mmio slots, as on QEMU's virt board: slot n at 0x10001000 +
 * 0x1000 * n on PLIC source 1 + n. The console and the entropy device take
 * the two lowest slots; disk i takes slot 7 - i, so that the first disk sits
 * where QEMU puts its first virtio device and the guest names it vda. */
#define VIREO_VIRT_VIRTIO_SLOTS 8
#define VIREO_VIRT_VIRTIO_IRQ   1
#define VIREO_VIRT_CONSOLE_SLOT 0
#define VIREO_VIRT_RNG_SLOT     1
#define VIREO_VIRT_MAX_DISKS    6
#define VIREO_VIRT_DISK_SLOT(i) (VIREO_VIRT_VIRTIO_SLOTS - 1 - (i))
/* The network card takes slot 2, the slot of a sixth disk: with a network
 * the board takes at most five disks. */
#define VIREO_VIRT_NET_SLOT           2
#define VIREO_VIRT_MAX_DISKS_WITH_NET 5
/* The display (virtio-gpu) takes the lowest slot the console, the entropy
 * device, the network card and the disks leave free; the keyboard and the
 * tablet (virtio-input) of a machine with a display take the lowest slots
 * the other devices leave free. */
#define VIREO_VIRT_INPUT_DEVICES 2
/* The guest-physical base of a slot. */
uint64_t vireo_virt_virtio_base(unsigned slot);
/* The slots in use with `n_disks` disks, one bit per slot. */
guint32 vireo_virt_virtio_slots(unsigned n_disks);

#define VIREO_VIRT_MIN_RAM (2ull << 20)
#define VIREO_VIRT_MAX_RAM (1ull << 40)
/* Where fw_jump expects the next stage, and where a raw kernel goes after
 * a firmware that ends below it. */
#define VIREO_VIRT_KERNEL_ADDR  0x80200000ull
#define VIREO_VIRT_KERNEL_ALIGN (2ull << 20)
/* The device tree stays below RAM base + 3 GiB, 2 MiB-aligned. */
#define VIREO_VIRT_FDT_LIMIT (3ull << 30)
#define VIREO_VIRT_FDT_ALIGN (2ull << 20)

/* The display device. */
typedef enum {
    VIREO_VIRT_GPU_NONE,
    VIREO_VIRT_GPU_2D,    /* virtio-gpu in 2D */
    VIREO_VIRT_GPU_VIRGL, /* virtio-gpu in 3D where OpenGL allows it, else 2D */
} VireoVirtGpu;

/* A disk: an image file, raw or qcow2 (AUTO, the zero value: detected). */
typedef struct {
    const char *path;
    bool read_only;
    VireoBlockFormat format;
} VireoVirtDisk;

/* What the board is built from. Paths may be NULL. */
typedef struct {
    uint64_t ram_size;          /* bytes, a multiple of 4 KiB */
    unsigned n_harts;           /* 1 to VIREO_VIRT_MAX_HARTS */
    VireoRvCpuModel cpu;        /* every hart's model (zero: VIREO_RV_CPU_MAX) */
    VireoEngineKind engine;     /* what runs the harts' code (zero: the process's default) */
    const char *firmware;       /* loaded at 0x80000000 (raw) or its ELF addresses */
    const char *kernel;         /* the next stage: 0x80200000 or after the firmware */
    const char *initrd;         /* high in RAM, below the device tree */
    const char *cmdline;        /* /chosen/bootargs */
    VireoRing *console;         /* what the UART (and, in test mode, HTIF) transmits; not
                                   owned, must outlive the machine; may be NULL */
    const char *test_elf;       /* ISA test mode: this ELF alone, harts start at its entry */
    const VireoVirtDisk *disks; /* virtio-blk disks, at most VIREO_VIRT_MAX_DISKS */
    unsigned n_disks;
    VireoRing *hvc;            /* what the virtio console transmits; not owned, must outlive
                                  the machine; NULL discards it */
    const VireoNetConfig *net; /* a virtio network card on this back end; NULL or
                                  VIREO_NET_NONE: none */
    bool input;                /* a virtio keyboard and tablet, for a display */
    VireoVirtGpu gpu;          /* a virtio-gpu display */
    VireoScanout *scanout;     /* the display's output: not owned, must outlive the machine;
                                  NULL: the board makes one (vireo_virt_get_scanout) */
    int display_width;         /* the display's preferred mode until a presenter asks for */
    int display_height;        /* another; 0 x 0: 1024 x 768 */
    VireoGlProvider *gl;       /* OpenGL contexts for VIREO_VIRT_GPU_VIRGL (display/egl-context.h);
                                  not owned, must outlive the machine */
    const char *gl_error;      /* without `gl`, why there is none */
    bool state_follows;        /* the machine's state will be loaded: the boot images are not
                                  copied into memory until a reset */
} VireoVirtConfig;

/* Whether `config` has a network card. */
bool vireo_virt_config_has_net(const VireoVirtConfig *config);
/* The display's slot: false without one, or when no slot is free. */
bool vireo_virt_config_gpu_slot(const VireoVirtConfig *config, unsigned *slot);
/* Every virtio slot `config` uses, one bit per slot. */
guint32 vireo_virt_config_virtio_slots(const VireoVirtConfig *config);
/* The slots of the keyboard and the tablet: the two lowest that the other
 * devices leave free. False without input devices, or when fewer than two
 * slots are free. */
bool vireo_virt_config_input_slots(const VireoVirtConfig *config, unsigned *keyboard,
                                   unsigned *tablet);

/*
 * The device tree.
 */
typedef struct {
    unsigned n_harts;
    VireoRvCpuModel cpu; /* what the cpu nodes' ISA properties describe */
    uint64_t ram_size;
    const char *cmdline; /* NULL: no bootargs */
    bool has_initrd;
    uint64_t initrd_start, initrd_end;
    guint32 virtio_slots; /* bit n: a virtio-mmio transport in slot n */
    /* /chosen/rng-seed and /chosen/kaslr-seed, zero-filled here: the boot
     * code fills them with fresh host randomness each time it copies the
     * tree into RAM (vireo_virt_fdt_fill_seeds), so the guest kernel's
     * random pool is ready at boot instead of minutes later. */
    bool seeds;
} VireoVirtFdtParams;

#define VIREO_VIRT_RNG_SEED_BYTES 32
/* The longest kernel command line the board passes (bytes, without the
 * NUL): more than any kernel keeps (Linux on RISC-V keeps 1024). */
#define VIREO_VIRT_MAX_CMDLINE 4096

/* Builds the flattened device tree describing the board (libfdt's
 * sequential-write API). */
GBytes *vireo_virt_build_fdt(const VireoVirtFdtParams *params, GError **error);
/* Fills the seed properties of `fdt` (a tree of `size` bytes that has them)
 * with fresh bytes from the host's random source. False when it cannot. */
bool vireo_virt_fdt_fill_seeds(void *fdt, gsize size, GError **error);

/*
 * The reset ROM at 0x1000, where every hart starts in M-mode:
 *
 *   0x00  auipc t0, 0              t0 = 0x1000
 *   0x04  addi  a2, t0, 0x28       a2 = &fw_dynamic_info
 *   0x08  csrr  a0, mhartid        a0 = this hart's ID
 *   0x0c  ld    a1, 0x20(t0)       a1 = device tree address
 *   0x10  ld    t0, 0x18(t0)       t0 = entry
 *   0x14  jr    t0
 *   0x18  entry (64 bits)
 *   0x20  device tree address (64 bits)
 *   0x28  fw_dynamic_info: magic, version, next_addr, next_mode, options,
 *         boot_hart (six 64-bit words)
 */
#define VIREO_VIRT_ROM_ENTRY_SLOT 0x18
#define VIREO_VIRT_ROM_FDT_SLOT   0x20
#define VIREO_VIRT_ROM_INFO       0x28
#define VIREO_VIRT_ROM_SIZE       (VIREO_VIRT_ROM_INFO + 6 * 8)
#define VIREO_FW_DYNAMIC_MAGIC    0x4942534full /* "OSBI" */
#define VIREO_FW_DYNAMIC_VERSION  2
#define VIREO_FW_DYNAMIC_NEXT_S   1

GBytes *vireo_virt_build_rom(uint64_t entry, uint64_t fdt_addr, uint64_t next_addr);

/*
 * A boot plan: the images read and checked, their places in RAM, the device
 * tree and the reset ROM. It needs no machine, so callers can check a
 * configuration or write its device tree without starting anything.
 */
typedef struct VireoVirtBoot VireoVirtBoot;

VireoVirtBoot *vireo_virt_boot_new(const VireoVirtConfig *config, GError **error);
void vireo_virt_boot_free(VireoVirtBoot *boot);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VireoVirtBoot, vireo_virt_boot_free)

GBytes *vireo_virt_boot_get_fdt(const VireoVirtBoot *boot);
GBytes *vireo_virt_boot_get_rom(const VireoVirtBoot *boot);
/* Where the ROM jumps (or, in test mode, where the harts start). */
uint64_t vireo_virt_boot_get_entry(const VireoVirtBoot *boot);
/* The address handed to the firmware as the next stage (fw_dynamic_info). */
uint64_t vireo_virt_boot_get_next_addr(const VireoVirtBoot *boot);
uint64_t vireo_virt_boot_get_fdt_addr(const VireoVirtBoot *boot);
/* Load range of the kernel; false when there is none. */
bool vireo_virt_boot_get_kernel(const VireoVirtBoot *boot, uint64_t *start, uint64_t *end);
bool vireo_virt_boot_get_initrd(const VireoVirtBoot *boot, uint64_t *start, uint64_t *end);
bool vireo_virt_boot_is_test(const VireoVirtBoot *boot);
/* Test mode: the addresses of the ELF's `tohost` and `fromhost`. */
void vireo_virt_boot_get_htif(const VireoVirtBoot *boot, uint64_t *tohost, uint64_t *fromhost);
/* Copies every image, the device tree and the ROM into guest memory. */
bool vireo_virt_boot_load(const VireoVirtBoot *boot, VireoBus *bus, GError **error);

/*
 * The board: a machine with its devices, vCPUs and images, ready to start.
 * Everything the board allocates is released by vireo_machine_free().
 */
typedef struct VireoVirt VireoVirt;

/* Builds the machine: RAM, ROM, devices, one vCPU per hart and the images
 * loaded, ready for vireo_machine_start(). `board` (optional) receives the
 * board, which lives as long as the machine. The caller drives the machine
 * (start, pause, stop, wait), drains `config->console` and `config->hvc`, and
 * feeds console input with vireo_uart_receive() on vireo_virt_get_uart() and
 * vireo_virtio_console_receive() on vireo_virt_get_virtio_console(). A disk
 * image that cannot be opened is a VIREO_ERROR_IO error naming it, and so is
 * a network back end that cannot start (a TAP interface that cannot be
 * attached, a forwarded port that cannot be bound). */
VireoMachine *vireo_virt_new(const VireoVirtConfig *config, VireoVirt **board, GError **error);

VireoMachine *vireo_virt_get_machine(VireoVirt *board);
/* The UART, for console input (vireo_uart_receive). */
VireoUart *vireo_virt_get_uart(VireoVirt *board);
/* The virtio device in `slot`, or NULL for an empty slot. */
VireoVirtio *vireo_virt_get_virtio(VireoVirt *board, unsigned slot);
/* The virtio console, for console input (vireo_virtio_console_receive). */
VireoVirtio *vireo_virt_get_virtio_console(VireoVirt *board);
/* The network card, or NULL without a network. */
VireoVirtio *vireo_virt_get_virtio_net(VireoVirt *board);
/* The keyboard and the tablet, for a presenter's input
 * (vireo_virtio_input_pair_get_ops()); NULL without them. The pair lives as
 * long as the machine. */
const VireoVirtioInputPair *vireo_virt_get_input(VireoVirt *board);
/* The display device (vireo_virtio_gpu_get_3d_status() says whether it runs
 * in 3D), or NULL without one. */
VireoVirtio *vireo_virt_get_gpu(VireoVirt *board);
/* The display's output (config->scanout, or the one the board made), or
 * NULL without a display. */
VireoScanout *vireo_virt_get_scanout(VireoVirt *board);
const VireoVirtBoot *vireo_virt_get_boot(VireoVirt *board);
/* Disk `index` in the configuration's order, or NULL past the last. */
VireoBlock *vireo_virt_get_disk(VireoVirt *board, unsigned index);

G_END_DECLS

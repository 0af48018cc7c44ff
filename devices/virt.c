/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "devices/virt.h"
#include "devices/clint.h"
#include "devices/goldfish-rtc.h"
#include "devices/plic.h"
#include "devices/sifive-test.h"
#include "devices/virtio-blk.h"
#include "devices/virtio-console.h"
#include "devices/virtio-gpu.h"
#include "devices/virtio-input.h"
#include "devices/virtio-mmio.h"
#include "devices/virtio-net.h"
#include "devices/virtio-rng.h"
#include "engine/error.h"
#include "engine/riscv.h"

#include <errno.h>
#include <string.h>

/* HTIF, the host interface of bare-metal RISC-V test programs: the guest
 * stores a command in `tohost`; bits 63:56 name the device, 55:48 the
 * command, 47:0 the payload. */
#define HTIF_DEV(cmd)     ((unsigned)((cmd) >> 56))
#define HTIF_CMD(cmd)     ((unsigned)(((cmd) >> 48) & 0xff))
#define HTIF_PAYLOAD(cmd) ((cmd)&0xffffffffffffull)
#define HTIF_SYS_WRITE    64
#define HTIF_SYS_EXIT     93
#define HTIF_MAGIC_WORDS  8
#define HTIF_MAX_WRITE    (1u << 20)

struct VireoVirt {
    VireoMachine *machine;
    VireoVirtBoot *boot;
    unsigned n_harts;
    VireoRvCpu **harts;
    VireoUart *uart;
    VireoPlic *plic;
    VireoClint *clint;
    VireoGoldfishRtc *rtc;
    VireoSifiveTest *test;
    VireoVirtio *virtio[VIREO_VIRT_VIRTIO_SLOTS];
    VireoVirtioMmio *virtio_mmio[VIREO_VIRT_VIRTIO_SLOTS];
    VireoVirtioInputPair input;              /* both NULL without input devices */
    VireoVirtio *gpu;                        /* the display, or NULL */
    VireoBlock *disks[VIREO_VIRT_MAX_DISKS]; /* owned by their virtio-blk devices */
    unsigned n_disks;
    VireoRing *console;
    GMutex htif_lock;
    uint64_t tohost, fromhost;
};

static void virt_free(void *data)
{
    VireoVirt *v = data;

    /* Transports first; freeing a device stops its threads. */
    for (unsigned i = 0; i < VIREO_VIRT_VIRTIO_SLOTS; i++) {
        vireo_virtio_mmio_free(v->virtio_mmio[i]);
        vireo_virtio_free(v->virtio[i]);
    }
    vireo_uart_free(v->uart);
    vireo_goldfish_rtc_free(v->rtc);
    vireo_clint_free(v->clint);
    vireo_plic_free(v->plic);
    vireo_sifive_test_free(v->test);
    vireo_virt_boot_free(v->boot);
    g_free(v->harts);
    g_mutex_clear(&v->htif_lock);
    g_free(v);
}

/* An interrupt line into a hart: `line` is the mip bit it drives. */
static void hart_set_irq(void *opaque, unsigned line, bool level)
{
    vireo_rv_cpu_set_irq(opaque, line, level);
}

static VireoIrq hart_irq(VireoVirt *v, unsigned hart, uint64_t mip_bit)
{
    VireoIrq irq = { hart_set_irq, v->harts[hart], (unsigned)mip_bit };
    return irq;
}

/* Writes test-program output into the console ring, waiting for the reader
 * when it is full (as the UART makes a guest wait), unless the machine is
 * stopping. */
static void console_write(VireoVirt *v, const guint8 *data, gsize len)
{
    while (len > 0 && v->console != NULL) {
        gsize n = vireo_ring_write(v->console, data, len);
        data += n;
        len -= n;
        if (len > 0) {
            if (vireo_machine_vcpu_should_stop(v->machine)) {
                return;
            }
            g_usleep(100);
        }
    }
}

static int htif_exit_code(uint64_t code)
{
    return code > G_MAXINT ? G_MAXINT : (int)code;
}

/* write(fd, buf, len) of the magic-memory protocol; returns the result the
 * guest sees. */
static int64_t htif_sys_write(VireoVirt *v, uint64_t fd, uint64_t buf, uint64_t len)
{
    VireoBus *bus = vireo_machine_bus(v->machine);
    const guint8 *p;

    if (fd != 1 && fd != 2) {
        return -EBADF;
    }
    len = MIN(len, HTIF_MAX_WRITE);
    p = vireo_bus_host_ptr(bus, buf, len, false);
    if (p == NULL && len > 0) {
        return -EFAULT;
    }
    console_write(v, p, (gsize)len);
    return (int64_t)len;
}

static void htif_syscall(VireoVirt *v, uint64_t addr)
{
    VireoBus *bus = vireo_machine_bus(v->machine);
    uint64_t magic[HTIF_MAGIC_WORDS];
    int64_t ret;

    if (!vireo_bus_dma_read(bus, addr, magic, sizeof magic)) {
        vireo_machine_request_fault(
            v->machine, "The test program passed an HTIF system call block outside RAM");
        return;
    }
    for (unsigned i = 0; i < HTIF_MAGIC_WORDS; i++) {
        magic[i] = GUINT64_FROM_LE(magic[i]);
    }
    switch (magic[0]) {
    case HTIF_SYS_WRITE: ret = htif_sys_write(v, magic[1], magic[2], magic[3]); break;
    case HTIF_SYS_EXIT:
        vireo_machine_request_poweroff(v->machine, htif_exit_code(magic[1]));
        return;
    default: ret = -ENOSYS; break;
    }
    magic[0] = GUINT64_TO_LE((uint64_t)ret);
    vireo_bus_dma_write(bus, addr, &magic[0], sizeof magic[0]);
    vireo_bus_write(bus, v->fromhost, 8, 1);
}

/* Called on the storing vCPU's thread after every write to `tohost`. */
static void htif_watch(void *opaque, uint64_t addr, unsigned size)
{
    VireoVirt *v = opaque;
    VireoBus *bus = vireo_machine_bus(v->machine);
    uint64_t cmd = 0;

    /* Clearing tohost below lands here again; a zero is no command. */
    if (!vireo_bus_read(bus, v->tohost, 8, &cmd) || cmd == 0) {
        return;
    }
    g_mutex_lock(&v->htif_lock);
    vireo_bus_write(bus, v->tohost, 8, 0);
    if (HTIF_DEV(cmd) == 0 && HTIF_CMD(cmd) == 0) {
        uint64_t payload = HTIF_PAYLOAD(cmd);
        if (payload & 1) {
            /* Bit 0: the end of the test, with (code << 1) | 1. */
            vireo_machine_request_poweroff(v->machine, htif_exit_code(payload >> 1));
        } else {
            htif_syscall(v, payload);
        }
    } else if (HTIF_DEV(cmd) == 1 && HTIF_CMD(cmd) == 1) {
        guint8 c = (guint8)cmd;
        console_write(v, &c, 1);
        vireo_bus_write(bus, v->fromhost, 8, (1ull << 56) | (1ull << 48));
    }
    g_mutex_unlock(&v->htif_lock);
}

/* A guest reset: devices back to their power-on state, the images, the
 * device tree and the ROM copied in again. The machine resets the harts. */
static void virt_reset(VireoMachine *machine, void *user_data)
{
    VireoVirt *v = user_data;
    g_autoptr(GError) error = NULL;

    vireo_bus_reset(vireo_machine_bus(machine));
    if (!vireo_virt_boot_load(v->boot, vireo_machine_bus(machine), &error)) {
        vireo_machine_request_fault(machine, error->message);
    }
}

static bool add_mmio(VireoBus *bus, VireoVirtRegion region, unsigned n_harts,
                     const VireoDeviceOps *ops, void *opaque, GError **error)
{
    const VireoVirtMapEntry *m = vireo_virt_map_entry(region);

    return vireo_bus_add_mmio(bus, m->name, m->base, vireo_virt_region_size(region, n_harts, 0),
                              ops, opaque, error);
}

/* Puts `dev` in a virtio-mmio slot: its transport on the bus and on the
 * slot's PLIC source. The board owns both from here on. */
static bool add_virtio(VireoVirt *v, unsigned slot, VireoVirtio *dev, GError **error)
{
    VireoBus *bus = vireo_machine_bus(v->machine);
    VireoIrq irq;
    bool ok = vireo_plic_source_irq(v->plic, VIREO_VIRT_VIRTIO_IRQ + slot, &irq);

    g_assert(ok && v->virtio[slot] == NULL);
    v->virtio[slot] = dev;
    v->virtio_mmio[slot] = vireo_virtio_mmio_new(dev, &irq);
    return vireo_bus_add_mmio(bus, vireo_virt_map_entry(VIREO_VIRT_VIRTIO)->name,
                              vireo_virt_virtio_base(slot), VIREO_VIRTIO_MMIO_SIZE,
                              vireo_virtio_mmio_ops(), v->virtio_mmio[slot], error);
}

static bool build_virtio(VireoVirt *v, const VireoVirtConfig *config, GError **error)
{
    VireoBus *bus = vireo_machine_bus(v->machine);

    if (!add_virtio(v, VIREO_VIRT_CONSOLE_SLOT, vireo_virtio_console_new(bus, config->hvc),
                    error) ||
        !add_virtio(v, VIREO_VIRT_RNG_SLOT, vireo_virtio_rng_new(bus, NULL, NULL), error)) {
        return false;
    }
    for (unsigned i = 0; i < config->n_disks; i++) {
        VireoBlock *block = vireo_block_open_format(config->disks[i].path, config->disks[i].format,
                                                    config->disks[i].read_only, error);
        if (block == NULL ||
            !add_virtio(v, VIREO_VIRT_DISK_SLOT(i), vireo_virtio_blk_new(bus, block), error)) {
            return false;
        }
        v->disks[v->n_disks++] = block;
    }
    if (vireo_virt_config_has_net(config)) {
        VireoNetBackend *backend = vireo_net_backend_new(config->net, error);
        if (backend == NULL ||
            !add_virtio(v, VIREO_VIRT_NET_SLOT,
                        vireo_virtio_net_new(bus, backend, config->net->mac), error)) {
            return false;
        }
    }
    if (config->gpu != VIREO_VIRT_GPU_NONE) {
        VireoVirtioGpuConfig gc;
        unsigned slot;

        if (!vireo_virt_config_gpu_slot(config, &slot)) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                        "No virtio slot is left for the display");
            return false;
        }
        vireo_virtio_gpu_config_init(&gc);
        gc.scanouts[0] = config->scanout;
        if (config->display_width > 0 && config->display_height > 0) {
            gc.width = config->display_width;
            gc.height = config->display_height;
        }
        gc.virgl = config->gpu == VIREO_VIRT_GPU_VIRGL;
        gc.gl = config->gl;
        gc.gl_error = config->gl_error;
        v->gpu = vireo_virtio_gpu_new(bus, &gc);
        if (!add_virtio(v, slot, v->gpu, error)) {
            return false;
        }
    }
    /* Last: the keyboard and the tablet take the slots the others leave. */
    if (config->input) {
        unsigned keyboard, tablet;

        if (!vireo_virt_config_input_slots(config, &keyboard, &tablet)) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                        "No virtio slots are left for the keyboard and the tablet");
            return false;
        }
        v->input.keyboard = vireo_virtio_input_new(bus, VIREO_VIRTIO_INPUT_KEYBOARD);
        if (!add_virtio(v, keyboard, v->input.keyboard, error)) {
            return false;
        }
        v->input.tablet = vireo_virtio_input_new(bus, VIREO_VIRTIO_INPUT_TABLET);
        if (!add_virtio(v, tablet, v->input.tablet, error)) {
            return false;
        }
    }
    return true;
}

static bool build_devices(VireoVirt *v, const VireoVirtConfig *config, GError **error)
{
    VireoBus *bus = vireo_machine_bus(v->machine);
    VireoClock *clock = vireo_machine_clock(v->machine);
    unsigned n = v->n_harts;
    g_autofree VireoIrq *contexts = g_new(VireoIrq, 2 * n);
    g_autofree VireoIrq *msip = g_new(VireoIrq, n);
    g_autofree VireoIrq *mtip = g_new(VireoIrq, n);
    VireoIrq uart_irq, rtc_irq;
    bool ok;

    for (unsigned h = 0; h < n; h++) {
        contexts[2 * h] = hart_irq(v, h, VIREO_RV_MIP_MEIP);
        contexts[2 * h + 1] = hart_irq(v, h, VIREO_RV_MIP_SEIP);
        msip[h] = hart_irq(v, h, VIREO_RV_MIP_MSIP);
        mtip[h] = hart_irq(v, h, VIREO_RV_MIP_MTIP);
    }
    v->plic = vireo_plic_new(n, contexts);
    v->clint = vireo_clint_new(clock, n, msip, mtip);
    g_assert(v->plic != NULL && v->clint != NULL); /* n was checked */
    ok = vireo_plic_source_irq(v->plic, VIREO_VIRT_UART_IRQ, &uart_irq) &&
         vireo_plic_source_irq(v->plic, VIREO_VIRT_RTC_IRQ, &rtc_irq);
    g_assert(ok);
    v->uart = vireo_uart_new(config->console, &uart_irq);
    v->rtc = vireo_goldfish_rtc_new(clock, &rtc_irq);
    v->test = vireo_sifive_test_new(v->machine);

    return add_mmio(bus, VIREO_VIRT_TEST, n, vireo_sifive_test_ops(), v->test, error) &&
           add_mmio(bus, VIREO_VIRT_RTC, n, vireo_goldfish_rtc_ops(), v->rtc, error) &&
           add_mmio(bus, VIREO_VIRT_CLINT, n, vireo_clint_ops(), v->clint, error) &&
           add_mmio(bus, VIREO_VIRT_PLIC, n, vireo_plic_ops(), v->plic, error) &&
           add_mmio(bus, VIREO_VIRT_UART0, n, vireo_uart_ops(), v->uart, error) &&
           build_virtio(v, config, error);
}

VireoMachine *vireo_virt_new(const VireoVirtConfig *config, VireoVirt **board, GError **error)
{
    g_autoptr(VireoVirtBoot) boot = NULL;
    const VireoVirtMapEntry *mrom = vireo_virt_map_entry(VIREO_VIRT_MROM);
    const VireoVirtMapEntry *dram = vireo_virt_map_entry(VIREO_VIRT_DRAM);
    VireoMachine *machine;
    VireoBus *bus;
    VireoVirt *v;
    GBytes *rom;
    uint64_t reset_pc;

    boot = vireo_virt_boot_new(config, error);
    if (boot == NULL) {
        return NULL;
    }
    bus = vireo_bus_new();
    machine = vireo_machine_new(bus, vireo_clock_new(VIREO_VIRT_TIMEBASE_HZ));
    v = g_new0(VireoVirt, 1);
    g_mutex_init(&v->htif_lock);
    v->machine = machine;
    v->boot = g_steal_pointer(&boot);
    v->n_harts = config->n_harts;
    v->console = config->console;
    /* From here on, freeing the machine frees the board. */
    vireo_machine_add_cleanup(machine, virt_free, v);

    rom = vireo_virt_boot_get_rom(v->boot);
    if (vireo_bus_add_ram(bus, dram->base, config->ram_size, error) == NULL ||
        !vireo_bus_add_rom(bus, mrom->name, mrom->base, mrom->size, g_bytes_get_data(rom, NULL),
                           g_bytes_get_size(rom), error)) {
        goto fail;
    }

    /* Every hart starts in the ROM in M-mode; in test mode at the program's
     * entry. */
    reset_pc = vireo_virt_boot_is_test(v->boot) ? vireo_virt_boot_get_entry(v->boot) : mrom->base;
    v->harts = g_new0(VireoRvCpu *, v->n_harts);
    for (unsigned h = 0; h < v->n_harts; h++) {
        v->harts[h] = vireo_rv_cpu_new(machine, h, reset_pc, config->cpu);
        if (config->engine != VIREO_ENGINE_DEFAULT &&
            !vireo_rv_cpu_set_engine(v->harts[h], config->engine, error)) {
            goto fail;
        }
    }

    if (!build_devices(v, config, error) ||
        (!config->state_follows && !vireo_virt_boot_load(v->boot, bus, error))) {
        goto fail;
    }
    if (vireo_virt_boot_is_test(v->boot)) {
        vireo_virt_boot_get_htif(v->boot, &v->tohost, &v->fromhost);
        if (!vireo_bus_set_watch(bus, v->tohost, 8, htif_watch, v, error)) {
            goto fail;
        }
    }
    vireo_machine_set_reset_func(machine, virt_reset, v);
    if (board != NULL) {
        *board = v;
    }
    return machine;

fail:
    vireo_machine_free(machine);
    return NULL;
}

VireoMachine *vireo_virt_get_machine(VireoVirt *board)
{
    return board->machine;
}

VireoUart *vireo_virt_get_uart(VireoVirt *board)
{
    return board->uart;
}

VireoVirtio *vireo_virt_get_virtio(VireoVirt *board, unsigned slot)
{
    return slot < VIREO_VIRT_VIRTIO_SLOTS ? board->virtio[slot] : NULL;
}

VireoVirtio *vireo_virt_get_virtio_console(VireoVirt *board)
{
    return board->virtio[VIREO_VIRT_CONSOLE_SLOT];
}

VireoVirtio *vireo_virt_get_virtio_net(VireoVirt *board)
{
    VireoVirtio *dev = board->virtio[VIREO_VIRT_NET_SLOT];

    if (dev == NULL || vireo_virtio_get_model_ops(dev)->device_id != VIREO_VIRTIO_ID_NET) {
        return NULL;
    }
    return dev;
}

bool vireo_virt_config_has_net(const VireoVirtConfig *config)
{
    return config->net != NULL && config->net->kind != VIREO_NET_NONE;
}

/* The slots of the console, the entropy device, the disks and the network
 * card. */
static guint32 base_slots(const VireoVirtConfig *config)
{
    guint32 slots = vireo_virt_virtio_slots(config->n_disks);

    if (vireo_virt_config_has_net(config)) {
        slots |= 1u << VIREO_VIRT_NET_SLOT;
    }
    return slots;
}

bool vireo_virt_config_gpu_slot(const VireoVirtConfig *config, unsigned *slot)
{
    guint32 used = base_slots(config);

    if (config->gpu == VIREO_VIRT_GPU_NONE) {
        return false;
    }
    for (unsigned i = 0; i < VIREO_VIRT_VIRTIO_SLOTS; i++) {
        if (!(used & (1u << i))) {
            if (slot != NULL) {
                *slot = i;
            }
            return true;
        }
    }
    return false;
}

/* The slots of every device but the keyboard and the tablet. A device with
 * a slot of its own adds it here, so that they stay clear of it. */
static guint32 fixed_slots(const VireoVirtConfig *config)
{
    guint32 slots = base_slots(config);
    unsigned gpu;

    if (vireo_virt_config_gpu_slot(config, &gpu)) {
        slots |= 1u << gpu;
    }
    return slots;
}

bool vireo_virt_config_input_slots(const VireoVirtConfig *config, unsigned *keyboard,
                                   unsigned *tablet)
{
    guint32 used = fixed_slots(config);
    unsigned found[VIREO_VIRT_INPUT_DEVICES];
    unsigned n = 0;

    if (!config->input) {
        return false;
    }
    for (unsigned slot = 0; slot < VIREO_VIRT_VIRTIO_SLOTS && n < G_N_ELEMENTS(found); slot++) {
        if (!(used & (1u << slot))) {
            found[n++] = slot;
        }
    }
    if (n < G_N_ELEMENTS(found)) {
        return false;
    }
    if (keyboard != NULL) {
        *keyboard = found[0];
    }
    if (tablet != NULL) {
        *tablet = found[1];
    }
    return true;
}

guint32 vireo_virt_config_virtio_slots(const VireoVirtConfig *config)
{
    guint32 slots = fixed_slots(config);
    unsigned keyboard, tablet;

    if (vireo_virt_config_input_slots(config, &keyboard, &tablet)) {
        slots |= (1u << keyboard) | (1u << tablet);
    }
    return slots;
}

const VireoVirtioInputPair *vireo_virt_get_input(VireoVirt *board)
{
    return board->input.keyboard != NULL ? &board->input : NULL;
}

VireoVirtio *vireo_virt_get_gpu(VireoVirt *board)
{
    return board->gpu;
}

VireoScanout *vireo_virt_get_scanout(VireoVirt *board)
{
    return board->gpu != NULL ? vireo_virtio_gpu_get_scanout(board->gpu, 0) : NULL;
}

const VireoVirtBoot *vireo_virt_get_boot(VireoVirt *board)
{
    return board->boot;
}

VireoBlock *vireo_virt_get_disk(VireoVirt *board, unsigned index)
{
    return index < board->n_disks ? board->disks[index] : NULL;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "devices/clint.h"
#include "devices/entropy.h"
#include "devices/goldfish-rtc.h"
#include "devices/plic.h"
#include "devices/sifive-test.h"
#include "devices/virt.h"
#include "devices/virtio-mmio.h"
#include "engine/error.h"
#include "engine/riscv.h"

#include <errno.h>
#include <libfdt.h>
#include <string.h>

/* The board's memory map. Sizes of 0 depend on the configuration. */
static const VireoVirtMapEntry virt_map[VIREO_VIRT_N_REGIONS] = {
    [VIREO_VIRT_MROM] = { "mrom", 0x1000, 0xf000 },
    [VIREO_VIRT_TEST] = { "test", 0x100000, VIREO_SIFIVE_TEST_MMIO_SIZE },
    [VIREO_VIRT_RTC] = { "rtc", 0x101000, VIREO_GOLDFISH_RTC_MMIO_SIZE },
    [VIREO_VIRT_CLINT] = { "clint", 0x2000000, VIREO_CLINT_MMIO_SIZE },
    [VIREO_VIRT_PLIC] = { "plic", 0xc000000, 0 },
    [VIREO_VIRT_UART0] = { "serial", 0x10000000, VIREO_UART_MMIO_SIZE },
    [VIREO_VIRT_VIRTIO] = { "virtio_mmio", 0x10001000, VIREO_VIRTIO_MMIO_SIZE },
    [VIREO_VIRT_DRAM] = { "memory", 0x80000000, 0 },
};

const VireoVirtMapEntry *vireo_virt_map_entry(VireoVirtRegion region)
{
    g_assert((unsigned)region < VIREO_VIRT_N_REGIONS);
    return &virt_map[region];
}

uint64_t vireo_virt_region_size(VireoVirtRegion region, unsigned n_harts, uint64_t ram_size)
{
    switch (region) {
    case VIREO_VIRT_PLIC: return vireo_plic_mmio_size(n_harts);
    case VIREO_VIRT_DRAM: return ram_size;
    default: return vireo_virt_map_entry(region)->size;
    }
}

uint64_t vireo_virt_virtio_base(unsigned slot)
{
    g_assert(slot < VIREO_VIRT_VIRTIO_SLOTS);
    return virt_map[VIREO_VIRT_VIRTIO].base + (uint64_t)slot * virt_map[VIREO_VIRT_VIRTIO].size;
}

guint32 vireo_virt_virtio_slots(unsigned n_disks)
{
    guint32 slots = (1u << VIREO_VIRT_CONSOLE_SLOT) | (1u << VIREO_VIRT_RNG_SLOT);

    for (unsigned i = 0; i < MIN(n_disks, (unsigned)VIREO_VIRT_MAX_DISKS); i++) {
        slots |= 1u << VIREO_VIRT_DISK_SLOT(i);
    }
    return slots;
}

/* Phandles: each hart's cpu node and interrupt controller, then the PLIC
 * and the test device. */
static guint32 cpu_phandle(unsigned hart)
{
    return 1 + 2 * hart;
}

static guint32 intc_phandle(unsigned hart)
{
    return 2 + 2 * hart;
}

static guint32 plic_phandle(unsigned n_harts)
{
    return 1 + 2 * n_harts;
}

static guint32 test_phandle(unsigned n_harts)
{
    return 2 + 2 * n_harts;
}

/* A sequential-write session that remembers the first libfdt error, so the
 * tree is written without a check after every call. */
typedef struct {
    void *fdt;
    int err;
} FdtWriter;

static void w_check(FdtWriter *w, int ret)
{
    if (ret < 0 && w->err == 0) {
        w->err = ret;
    }
}

static void w_begin(FdtWriter *w, const char *name)
{
    if (w->err == 0) {
        w_check(w, fdt_begin_node(w->fdt, name));
    }
}

static void w_begin_at(FdtWriter *w, const char *name, uint64_t addr)
{
    char node[64];

    g_snprintf(node, sizeof node, "%s@%" G_GINT64_MODIFIER "x", name, addr);
    w_begin(w, node);
}

static void w_end(FdtWriter *w)
{
    if (w->err == 0) {
        w_check(w, fdt_end_node(w->fdt));
    }
}

static void w_prop(FdtWriter *w, const char *name, const void *value, int len)
{
    if (w->err == 0) {
        w_check(w, fdt_property(w->fdt, name, value, len));
    }
}

static void w_string(FdtWriter *w, const char *name, const char *value)
{
    w_prop(w, name, value, (int)strlen(value) + 1);
}

/* A string list: the strings one after the other, each with its NUL. */
static void w_strings(FdtWriter *w, const char *name, const char *const *values, unsigned n)
{
    GString *s = g_string_new(NULL);

    for (unsigned i = 0; i < n; i++) {
        g_string_append_len(s, values[i], (gssize)strlen(values[i]) + 1);
    }
    w_prop(w, name, s->str, (int)s->len);
    g_string_free(s, TRUE);
}

static void w_u32(FdtWriter *w, const char *name, guint32 value)
{
    fdt32_t v = cpu_to_fdt32(value);
    w_prop(w, name, &v, sizeof v);
}

static void w_u64(FdtWriter *w, const char *name, uint64_t value)
{
    fdt64_t v = cpu_to_fdt64(value);
    w_prop(w, name, &v, sizeof v);
}

static void w_cells(FdtWriter *w, const char *name, const guint32 *cells, unsigned n)
{
    fdt32_t *v = g_new(fdt32_t, n);

    for (unsigned i = 0; i < n; i++) {
        v[i] = cpu_to_fdt32(cells[i]);
    }
    w_prop(w, name, v, (int)(n * sizeof *v));
    g_free(v);
}

static void w_empty(FdtWriter *w, const char *name)
{
    w_prop(w, name, NULL, 0);
}

/* reg = <base size> with two cells each. */
static void w_reg(FdtWriter *w, uint64_t base, uint64_t size)
{
    guint32 cells[4] = { (guint32)(base >> 32), (guint32)base, (guint32)(size >> 32),
                         (guint32)size };
    w_cells(w, "reg", cells, 4);
}

static void write_cpus(FdtWriter *w, const VireoVirtFdtParams *p)
{
    g_autofree char *isa = vireo_rv_isa_string(p->cpu);
    g_auto(GStrv) extensions = vireo_rv_isa_extensions(p->cpu);

    w_begin(w, "cpus");
    w_u32(w, "#address-cells", 1);
    w_u32(w, "#size-cells", 0);
    w_u32(w, "timebase-frequency", VIREO_VIRT_TIMEBASE_HZ);
    for (unsigned i = 0; i < p->n_harts; i++) {
        w_begin_at(w, "cpu", i);
        w_u32(w, "phandle", cpu_phandle(i));
        w_string(w, "device_type", "cpu");
        w_u32(w, "reg", i);
        w_string(w, "status", "okay");
        w_string(w, "compatible", "riscv");
        w_string(w, "riscv,isa", isa);
        w_string(w, "riscv,isa-base", "rv64i");
        w_strings(w, "riscv,isa-extensions", (const char *const *)extensions,
                  g_strv_length(extensions));
        w_string(w, "mmu-type", VIREO_RV_MMU_TYPE);
        if (vireo_rv_isa_has(p->cpu, "zicbom")) {
            w_u32(w, "riscv,cbom-block-size", VIREO_RV_CACHE_BLOCK);
        }
        if (vireo_rv_isa_has(p->cpu, "zicbop")) {
            w_u32(w, "riscv,cbop-block-size", VIREO_RV_CACHE_BLOCK);
        }
        if (vireo_rv_isa_has(p->cpu, "zicboz")) {
            w_u32(w, "riscv,cboz-block-size", VIREO_RV_CACHE_BLOCK);
        }
        w_begin(w, "interrupt-controller");
        w_u32(w, "#address-cells", 0);
        w_u32(w, "#interrupt-cells", 1);
        w_empty(w, "interrupt-controller");
        w_string(w, "compatible", "riscv,cpu-intc");
        w_u32(w, "phandle", intc_phandle(i));
        w_end(w);
        w_end(w);
    }
    w_begin(w, "cpu-map");
    w_begin(w, "cluster0");
    for (unsigned i = 0; i < p->n_harts; i++) {
        char core[24];
        g_snprintf(core, sizeof core, "core%u", i);
        w_begin(w, core);
        w_u32(w, "cpu", cpu_phandle(i));
        w_end(w);
    }
    w_end(w);
    w_end(w);
    w_end(w);
}

/* interrupts-extended naming, for every hart, its interrupt controller
 * with each of `causes`. */
static void w_per_hart_irqs(FdtWriter *w, unsigned n_harts, const guint32 *causes,
                            unsigned n_causes)
{
    g_autofree guint32 *cells = g_new(guint32, (gsize)n_harts * n_causes * 2);
    unsigned n = 0;

    for (unsigned h = 0; h < n_harts; h++) {
        for (unsigned c = 0; c < n_causes; c++) {
            cells[n++] = intc_phandle(h);
            cells[n++] = causes[c];
        }
    }
    w_cells(w, "interrupts-extended", cells, n);
}

static void write_soc(FdtWriter *w, const VireoVirtFdtParams *p)
{
    static const char *const test_compat[] = { "sifive,test1", "sifive,test0", "syscon" };
    static const char *const clint_compat[] = { "sifive,clint0", "riscv,clint0" };
    static const char *const plic_compat[] = { "sifive,plic-1.0.0", "riscv,plic0" };
    /* Interrupt causes: machine software 3, machine timer 7, machine
     * external 11, supervisor external 9. */
    static const guint32 clint_causes[] = { 3, 7 };
    static const guint32 plic_causes[] = { 11, 9 };
    const VireoVirtMapEntry *m;

    w_begin(w, "soc");
    w_u32(w, "#address-cells", 2);
    w_u32(w, "#size-cells", 2);
    w_string(w, "compatible", "simple-bus");
    w_empty(w, "ranges");

    m = vireo_virt_map_entry(VIREO_VIRT_TEST);
    w_begin_at(w, m->name, m->base);
    w_u32(w, "phandle", test_phandle(p->n_harts));
    w_reg(w, m->base, m->size);
    w_strings(w, "compatible", test_compat, G_N_ELEMENTS(test_compat));
    w_end(w);

    m = vireo_virt_map_entry(VIREO_VIRT_RTC);
    w_begin_at(w, m->name, m->base);
    w_u32(w, "interrupts", VIREO_VIRT_RTC_IRQ);
    w_u32(w, "interrupt-parent", plic_phandle(p->n_harts));
    w_reg(w, m->base, m->size);
    w_string(w, "compatible", "google,goldfish-rtc");
    w_end(w);

    m = vireo_virt_map_entry(VIREO_VIRT_UART0);
    w_begin_at(w, m->name, m->base);
    w_u32(w, "interrupts", VIREO_VIRT_UART_IRQ);
    w_u32(w, "interrupt-parent", plic_phandle(p->n_harts));
    w_u32(w, "clock-frequency", VIREO_VIRT_UART_CLOCK_HZ);
    w_reg(w, m->base, m->size);
    w_string(w, "compatible", "ns16550a");
    w_end(w);

    /* virtio-mmio slots from the highest address down, the order in which
     * QEMU's tree lists them: Linux probes them in this order, so the disk in
     * the highest slot becomes vda. */
    for (unsigned slot = VIREO_VIRT_VIRTIO_SLOTS; slot-- > 0;) {
        if (!(p->virtio_slots & (1u << slot))) {
            continue;
        }
        m = vireo_virt_map_entry(VIREO_VIRT_VIRTIO);
        w_begin_at(w, m->name, vireo_virt_virtio_base(slot));
        w_u32(w, "interrupts", VIREO_VIRT_VIRTIO_IRQ + slot);
        w_u32(w, "interrupt-parent", plic_phandle(p->n_harts));
        w_reg(w, vireo_virt_virtio_base(slot), m->size);
        w_string(w, "compatible", "virtio,mmio");
        w_end(w);
    }

    m = vireo_virt_map_entry(VIREO_VIRT_PLIC);
    w_begin_at(w, m->name, m->base);
    w_u32(w, "phandle", plic_phandle(p->n_harts));
    w_u32(w, "riscv,ndev", VIREO_PLIC_NDEV);
    w_reg(w, m->base, vireo_virt_region_size(VIREO_VIRT_PLIC, p->n_harts, p->ram_size));
    w_per_hart_irqs(w, p->n_harts, plic_causes, G_N_ELEMENTS(plic_causes));
    w_empty(w, "interrupt-controller");
    w_strings(w, "compatible", plic_compat, G_N_ELEMENTS(plic_compat));
    w_u32(w, "#address-cells", 0);
    w_u32(w, "#interrupt-cells", 1);
    w_end(w);

    m = vireo_virt_map_entry(VIREO_VIRT_CLINT);
    w_begin_at(w, m->name, m->base);
    w_per_hart_irqs(w, p->n_harts, clint_causes, G_N_ELEMENTS(clint_causes));
    w_reg(w, m->base, m->size);
    w_strings(w, "compatible", clint_compat, G_N_ELEMENTS(clint_compat));
    w_end(w);

    w_end(w);
}

/* /poweroff and /reboot: writes of 0x5555 and 0x7777 to the test device. */
static void write_syscon(FdtWriter *w, const VireoVirtFdtParams *p, const char *node,
                         const char *compatible, guint32 value)
{
    w_begin(w, node);
    w_u32(w, "value", value);
    w_u32(w, "offset", 0);
    w_u32(w, "regmap", test_phandle(p->n_harts));
    w_string(w, "compatible", compatible);
    w_end(w);
}

static int write_tree(void *buf, int size, const VireoVirtFdtParams *p)
{
    FdtWriter w = { buf, 0 };
    const VireoVirtMapEntry *uart = vireo_virt_map_entry(VIREO_VIRT_UART0);
    const VireoVirtMapEntry *dram = vireo_virt_map_entry(VIREO_VIRT_DRAM);
    char stdout_path[64];

    w_check(&w, fdt_create(buf, size));
    if (w.err == 0) {
        w_check(&w, fdt_finish_reservemap(buf));
    }
    w_begin(&w, "");
    w_u32(&w, "#address-cells", 2);
    w_u32(&w, "#size-cells", 2);
    w_string(&w, "compatible", "riscv-virtio");
    w_string(&w, "model", "riscv-virtio,qemu");

    w_begin(&w, "chosen");
    g_snprintf(stdout_path, sizeof stdout_path, "/soc/%s@%" G_GINT64_MODIFIER "x", uart->name,
               uart->base);
    w_string(&w, "stdout-path", stdout_path);
    if (p->cmdline != NULL) {
        w_string(&w, "bootargs", p->cmdline);
    }
    if (p->has_initrd) {
        w_u64(&w, "linux,initrd-start", p->initrd_start);
        w_u64(&w, "linux,initrd-end", p->initrd_end);
    }
    if (p->seeds) {
        static const guint8 zero[VIREO_VIRT_RNG_SEED_BYTES];
        w_prop(&w, "rng-seed", zero, sizeof zero);
        w_prop(&w, "kaslr-seed", zero, sizeof(guint64));
    }
    w_end(&w);

    w_begin_at(&w, dram->name, dram->base);
    w_string(&w, "device_type", "memory");
    w_reg(&w, dram->base, p->ram_size);
    w_end(&w);

    write_cpus(&w, p);
    write_soc(&w, p);
    write_syscon(&w, p, "poweroff", "syscon-poweroff", VIREO_SIFIVE_TEST_PASS);
    write_syscon(&w, p, "reboot", "syscon-reboot", VIREO_SIFIVE_TEST_RESET);

    w_end(&w);
    if (w.err == 0) {
        w_check(&w, fdt_finish(buf));
    }
    return w.err;
}

bool vireo_virt_fdt_fill_seeds(void *fdt, gsize size, GError **error)
{
    static const char *const props[] = { "rng-seed", "kaslr-seed" };
    int chosen;

    if (fdt_check_header(fdt) != 0 || fdt_totalsize(fdt) > size ||
        (chosen = fdt_path_offset(fdt, "/chosen")) < 0) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT, "The device tree has no /chosen node");
        return false;
    }
    for (unsigned i = 0; i < G_N_ELEMENTS(props); i++) {
        int len;
        void *value = fdt_getprop_w(fdt, chosen, props[i], &len);
        if (value == NULL) {
            continue;
        }
        for (int done = 0; done < len;) {
            gssize n = vireo_entropy_getrandom(NULL, (guint8 *)value + done, (gsize)(len - done));
            if (n <= 0) {
                g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO,
                            "Cannot read the host's random source for the device tree's %s: %s",
                            props[i], g_strerror(n < 0 ? (int)-n : EIO));
                return false;
            }
            done += (int)n;
        }
    }
    return true;
}

GBytes *vireo_virt_build_fdt(const VireoVirtFdtParams *params, GError **error)
{
    int size = 16 * 1024;

    if (params->n_harts == 0 || params->n_harts > VIREO_VIRT_MAX_HARTS) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "The virt board takes 1 to %u harts, not %u", VIREO_VIRT_MAX_HARTS,
                    params->n_harts);
        return NULL;
    }
    if (params->cmdline != NULL && strlen(params->cmdline) > VIREO_VIRT_MAX_CMDLINE) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "The kernel command line is %zu bytes long; the virt board passes at most %d",
                    strlen(params->cmdline), VIREO_VIRT_MAX_CMDLINE);
        return NULL;
    }
    /* Grow the buffer until the tree fits. */
    for (;;) {
        void *buf = g_malloc0((gsize)size);
        int err = write_tree(buf, size, params);

        if (err == 0) {
            return g_bytes_new_take(buf, fdt_totalsize(buf));
        }
        g_free(buf);
        if (err != -FDT_ERR_NOSPACE || size >= (64 << 20)) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE, "Cannot build the device tree: %s",
                        fdt_strerror(err));
            return NULL;
        }
        size *= 2;
    }
}

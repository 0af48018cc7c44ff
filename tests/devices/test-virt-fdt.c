/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "devices/plic.h"
#include "devices/virt.h"
#include "engine/error.h"
#include "engine/riscv.h"

#include <libfdt.h>
#include <string.h>

static GBytes *build(unsigned n_harts, const char *cmdline, bool initrd)
{
    g_autoptr(GError) error = NULL;
    VireoVirtFdtParams p = {
        .n_harts = n_harts,
        .ram_size = 512ull << 20,
        .cmdline = cmdline,
        .has_initrd = initrd,
        .initrd_start = 0x8f000000,
        .initrd_end = 0x8f123456,
    };
    GBytes *fdt = vireo_virt_build_fdt(&p, &error);

    g_assert_no_error(error);
    g_assert_nonnull(fdt);
    g_assert_cmpint(fdt_check_header(g_bytes_get_data(fdt, NULL)), ==, 0);
    g_assert_cmpuint(fdt_totalsize(g_bytes_get_data(fdt, NULL)), ==, g_bytes_get_size(fdt));
    return fdt;
}

static int node(const void *fdt, const char *path)
{
    int off = fdt_path_offset(fdt, path);

    if (off < 0) {
        g_error("node %s: %s", path, fdt_strerror(off));
    }
    return off;
}

static const void *prop(const void *fdt, int off, const char *name, int *len)
{
    const void *v = fdt_getprop(fdt, off, name, len);

    if (v == NULL) {
        g_error("property %s missing", name);
    }
    return v;
}

static guint32 prop_u32(const void *fdt, int off, const char *name)
{
    int len;
    const fdt32_t *v = prop(fdt, off, name, &len);

    g_assert_cmpint(len, ==, 4);
    return fdt32_to_cpu(*v);
}

static uint64_t prop_u64(const void *fdt, int off, const char *name)
{
    int len;
    const fdt64_t *v = prop(fdt, off, name, &len);

    g_assert_cmpint(len, ==, 8);
    return fdt64_ld(v);
}

static const char *prop_str(const void *fdt, int off, const char *name)
{
    int len;
    const char *v = prop(fdt, off, name, &len);

    g_assert_cmpint(len, >, 0);
    g_assert_cmpint(v[len - 1], ==, '\0');
    return v;
}

static void check_reg(const void *fdt, int off, uint64_t base, uint64_t size)
{
    int len;
    const fdt32_t *v = prop(fdt, off, "reg", &len);

    g_assert_cmpint(len, ==, 16);
    g_assert_cmphex(((uint64_t)fdt32_to_cpu(v[0]) << 32) | fdt32_to_cpu(v[1]), ==, base);
    g_assert_cmphex(((uint64_t)fdt32_to_cpu(v[2]) << 32) | fdt32_to_cpu(v[3]), ==, size);
}

static void check_compatible(const void *fdt, int off, const char *const *expected, unsigned n)
{
    int len, count = fdt_stringlist_count(fdt, off, "compatible");

    g_assert_cmpint(count, ==, (int)n);
    for (unsigned i = 0; i < n; i++) {
        g_assert_cmpstr(fdt_stringlist_get(fdt, off, "compatible", (int)i, &len), ==, expected[i]);
    }
}

/* interrupts-extended: for each hart, its cpu interrupt controller with the
 * given causes, in that order. */
static void check_irqs_extended(const void *fdt, int off, unsigned n_harts, const guint32 *causes,
                                unsigned n_causes)
{
    int len;
    const fdt32_t *v = prop(fdt, off, "interrupts-extended", &len);
    unsigned i = 0;

    g_assert_cmpint(len, ==, (int)(n_harts * n_causes * 2 * 4));
    for (unsigned h = 0; h < n_harts; h++) {
        char path[64];
        g_snprintf(path, sizeof path, "/cpus/cpu@%x/interrupt-controller", h);
        for (unsigned c = 0; c < n_causes; c++) {
            int target = fdt_node_offset_by_phandle(fdt, fdt32_to_cpu(v[i++]));
            g_assert_cmpint(target, ==, node(fdt, path));
            g_assert_cmpuint(fdt32_to_cpu(v[i++]), ==, causes[c]);
        }
    }
}

/* riscv,isa, riscv,isa-base and riscv,isa-extensions of `model`. */
static void check_isa(const void *fdt, int cpu, VireoRvCpuModel model)
{
    g_autofree char *isa = vireo_rv_isa_string(model);
    g_auto(GStrv) exts = vireo_rv_isa_extensions(model);
    int len;
    const char *list = prop(fdt, cpu, "riscv,isa-extensions", &len);
    int pos = 0;

    g_assert_cmpstr(prop_str(fdt, cpu, "riscv,isa"), ==, isa);
    g_assert_cmpstr(prop_str(fdt, cpu, "riscv,isa-base"), ==, "rv64i");
    for (unsigned i = 0; exts[i] != NULL; i++) {
        g_assert_cmpint(pos, <, len);
        g_assert_cmpstr(list + pos, ==, exts[i]);
        pos += (int)strlen(exts[i]) + 1;
    }
    g_assert_cmpint(pos, ==, len);
}

static void check_tree(unsigned n_harts)
{
    static const char *const test_compat[] = { "sifive,test1", "sifive,test0", "syscon" };
    static const char *const clint_compat[] = { "sifive,clint0", "riscv,clint0" };
    static const char *const plic_compat[] = { "sifive,plic-1.0.0", "riscv,plic0" };
    static const char *const riscv[] = { "riscv" };
    static const char *const intc[] = { "riscv,cpu-intc" };
    static const char *const uart_compat[] = { "ns16550a" };
    static const char *const rtc_compat[] = { "google,goldfish-rtc" };
    static const char *const simple_bus[] = { "simple-bus" };
    static const char *const root_compat[] = { "riscv-virtio" };
    static const guint32 clint_causes[] = { 3, 7 };
    static const guint32 plic_causes[] = { 11, 9 };
    g_autoptr(GBytes) bytes = build(n_harts, NULL, false);
    const void *fdt = g_bytes_get_data(bytes, NULL);
    int root = node(fdt, "/"), off, plic, test;
    guint32 plic_ph, test_ph;

    g_assert_cmpuint(prop_u32(fdt, root, "#address-cells"), ==, 2);
    g_assert_cmpuint(prop_u32(fdt, root, "#size-cells"), ==, 2);
    check_compatible(fdt, root, root_compat, 1);
    g_assert_cmpstr(prop_str(fdt, root, "model"), ==, "riscv-virtio,qemu");

    /* /chosen without command line or initrd. */
    off = node(fdt, "/chosen");
    g_assert_cmpstr(prop_str(fdt, off, "stdout-path"), ==, "/soc/serial@10000000");
    g_assert_null(fdt_getprop(fdt, off, "bootargs", NULL));
    g_assert_null(fdt_getprop(fdt, off, "linux,initrd-start", NULL));
    g_assert_null(fdt_getprop(fdt, off, "linux,initrd-end", NULL));

    off = node(fdt, "/memory@80000000");
    g_assert_cmpstr(prop_str(fdt, off, "device_type"), ==, "memory");
    check_reg(fdt, off, 0x80000000, 512ull << 20);

    off = node(fdt, "/cpus");
    g_assert_cmpuint(prop_u32(fdt, off, "timebase-frequency"), ==, 10000000);
    g_assert_cmpuint(prop_u32(fdt, off, "#address-cells"), ==, 1);
    g_assert_cmpuint(prop_u32(fdt, off, "#size-cells"), ==, 0);
    for (unsigned h = 0; h < n_harts; h++) {
        char path[64];
        int cpu, ic;
        g_snprintf(path, sizeof path, "/cpus/cpu@%x", h);
        cpu = node(fdt, path);
        g_assert_cmpstr(prop_str(fdt, cpu, "device_type"), ==, "cpu");
        g_assert_cmpuint(prop_u32(fdt, cpu, "reg"), ==, h);
        g_assert_cmpstr(prop_str(fdt, cpu, "status"), ==, "okay");
        check_compatible(fdt, cpu, riscv, 1);
        check_isa(fdt, cpu, VIREO_RV_CPU_DEFAULT);
        g_assert_cmpstr(prop_str(fdt, cpu, "mmu-type"), ==, VIREO_RV_MMU_TYPE);
        g_snprintf(path, sizeof path, "/cpus/cpu@%x/interrupt-controller", h);
        ic = node(fdt, path);
        check_compatible(fdt, ic, intc, 1);
        g_assert_cmpuint(prop_u32(fdt, ic, "#interrupt-cells"), ==, 1);
        g_assert_nonnull(fdt_getprop(fdt, ic, "interrupt-controller", NULL));
        g_assert_cmpuint(fdt_get_phandle(fdt, ic), !=, 0);
        g_snprintf(path, sizeof path, "/cpus/cpu-map/cluster0/core%u", h);
        g_assert_cmpint(fdt_node_offset_by_phandle(fdt, prop_u32(fdt, node(fdt, path), "cpu")), ==,
                        cpu);
    }
    /* Exactly n_harts cpus. */
    {
        char path[64];
        g_snprintf(path, sizeof path, "/cpus/cpu@%x", n_harts);
        g_assert_cmpint(fdt_path_offset(fdt, path), <, 0);
    }

    off = node(fdt, "/soc");
    check_compatible(fdt, off, simple_bus, 1);
    g_assert_nonnull(fdt_getprop(fdt, off, "ranges", NULL));
    g_assert_cmpuint(prop_u32(fdt, off, "#address-cells"), ==, 2);

    off = node(fdt, "/soc/clint@2000000");
    check_compatible(fdt, off, clint_compat, 2);
    check_reg(fdt, off, 0x2000000, 0x10000);
    check_irqs_extended(fdt, off, n_harts, clint_causes, 2);

    plic = node(fdt, "/soc/plic@c000000");
    check_compatible(fdt, plic, plic_compat, 2);
    check_reg(fdt, plic, 0xc000000, 0x200000 + 0x2000ull * n_harts);
    check_irqs_extended(fdt, plic, n_harts, plic_causes, 2);
    g_assert_cmpuint(prop_u32(fdt, plic, "riscv,ndev"), ==, 95);
    g_assert_cmpuint(prop_u32(fdt, plic, "#interrupt-cells"), ==, 1);
    g_assert_cmpuint(prop_u32(fdt, plic, "#address-cells"), ==, 0);
    g_assert_nonnull(fdt_getprop(fdt, plic, "interrupt-controller", NULL));
    plic_ph = fdt_get_phandle(fdt, plic);
    g_assert_cmpuint(plic_ph, !=, 0);

    off = node(fdt, "/soc/serial@10000000");
    check_compatible(fdt, off, uart_compat, 1);
    check_reg(fdt, off, 0x10000000, 0x100);
    g_assert_cmpuint(prop_u32(fdt, off, "clock-frequency"), ==, 0x384000);
    g_assert_cmpuint(prop_u32(fdt, off, "interrupts"), ==, 10);
    g_assert_cmpuint(prop_u32(fdt, off, "interrupt-parent"), ==, plic_ph);

    off = node(fdt, "/soc/rtc@101000");
    check_compatible(fdt, off, rtc_compat, 1);
    check_reg(fdt, off, 0x101000, 0x1000);
    g_assert_cmpuint(prop_u32(fdt, off, "interrupts"), ==, 11);
    g_assert_cmpuint(prop_u32(fdt, off, "interrupt-parent"), ==, plic_ph);

    test = node(fdt, "/soc/test@100000");
    check_compatible(fdt, test, test_compat, 3);
    check_reg(fdt, test, 0x100000, 0x1000);
    test_ph = fdt_get_phandle(fdt, test);
    g_assert_cmpuint(test_ph, !=, 0);

    off = node(fdt, "/poweroff");
    g_assert_cmpstr(prop_str(fdt, off, "compatible"), ==, "syscon-poweroff");
    g_assert_cmpuint(prop_u32(fdt, off, "regmap"), ==, test_ph);
    g_assert_cmpuint(prop_u32(fdt, off, "offset"), ==, 0);
    g_assert_cmphex(prop_u32(fdt, off, "value"), ==, 0x5555);
    off = node(fdt, "/reboot");
    g_assert_cmpstr(prop_str(fdt, off, "compatible"), ==, "syscon-reboot");
    g_assert_cmpuint(prop_u32(fdt, off, "regmap"), ==, test_ph);
    g_assert_cmphex(prop_u32(fdt, off, "value"), ==, 0x7777);

    /* Nothing else: no PCI, virtio or flash that the board does not have. */
    g_assert_cmpint(fdt_node_offset_by_compatible(fdt, -1, "virtio,mmio"), <, 0);
    g_assert_cmpint(fdt_node_offset_by_compatible(fdt, -1, "pci-host-ecam-generic"), <, 0);
    g_assert_cmpint(fdt_node_offset_by_compatible(fdt, -1, "cfi-flash"), <, 0);
}

static void test_fdt_one_hart(void)
{
    check_tree(1);
}

static void test_fdt_four_harts(void)
{
    check_tree(4);
}

static void test_fdt_max_harts(void)
{
    check_tree(VIREO_VIRT_MAX_HARTS);
}

/* Each model's cpu nodes: the ISA strings, and the cache-block sizes
 * where the model has the cache-block extensions. */
static void test_fdt_cpu_models(void)
{
    static const struct {
        VireoRvCpuModel model;
        const char *isa;
        bool cbo;
    } models[] = {
        { VIREO_RV_CPU_RV64GC, "rv64imafdc_zicsr_zifencei", false },
        { VIREO_RV_CPU_RVA22,
          "rv64imafdc_zic64b_zicbom_zicbop_zicboz_ziccamoa_ziccif_zicclsm_ziccrse_zicntr_zicsr_"
          "zifencei_zihintpause_zihpm_za64rs_zfhmin_zba_zbb_zbs_zkt_ssccptr_sscounterenw_sstvala_"
          "sstvecd_ssu64xl_svade_svbare_svinval_svpbmt",
          true },
        { VIREO_RV_CPU_MAX,
          "rv64imafdc_zic64b_zicbom_zicbop_zicboz_ziccamoa_ziccif_zicclsm_ziccrse_zicntr_"
          "zicond_zicsr_zifencei_zihintntl_zihintpause_zihpm_za64rs_zfh_zfhmin_zba_zbb_zbc_zbkb_"
          "zbs_"
          "zkt_"
          "ssccptr_sscounterenw_sstc_sstvala_sstvecd_ssu64xl_svbare_svinval_svnapot_svpbmt",
          true },
    };

    for (unsigned i = 0; i < G_N_ELEMENTS(models); i++) {
        g_autoptr(GError) error = NULL;
        VireoVirtFdtParams p = { .n_harts = 2, .cpu = models[i].model, .ram_size = 1 << 28 };
        g_autoptr(GBytes) bytes = vireo_virt_build_fdt(&p, &error);
        const void *fdt;
        g_auto(GStrv) parts = NULL;
        g_auto(GStrv) exts = vireo_rv_isa_extensions(models[i].model);
        g_autofree char *isa = vireo_rv_isa_string(models[i].model);
        int cpu;

        g_assert_no_error(error);
        fdt = g_bytes_get_data(bytes, NULL);
        g_assert_cmpstr(isa, ==, models[i].isa);
        for (unsigned h = 0; h < 2; h++) {
            cpu = node(fdt, h == 0 ? "/cpus/cpu@0" : "/cpus/cpu@1");
            check_isa(fdt, cpu, models[i].model);
            g_assert_cmpint(fdt_getprop(fdt, cpu, "riscv,cbom-block-size", NULL) != NULL, ==,
                            models[i].cbo);
            if (models[i].cbo) {
                g_assert_cmpuint(prop_u32(fdt, cpu, "riscv,cbom-block-size"), ==, 64);
                g_assert_cmpuint(prop_u32(fdt, cpu, "riscv,cbop-block-size"), ==, 64);
                g_assert_cmpuint(prop_u32(fdt, cpu, "riscv,cboz-block-size"), ==, 64);
            }
        }
        /* riscv,isa-extensions: the letters, then riscv,isa's parts */
        parts = g_strsplit(models[i].isa + strlen("rv64imafdc_"), "_", -1);
        g_assert_cmpstr(exts[0], ==, "i");
        g_assert_cmpstr(exts[5], ==, "c");
        g_assert_cmpuint(g_strv_length(exts), ==, 6 + g_strv_length(parts));
        for (unsigned k = 0; parts[k] != NULL; k++) {
            g_assert_cmpstr(exts[6 + k], ==, parts[k]);
        }
    }
}

static void test_fdt_chosen(void)
{
    g_autoptr(GBytes) bytes = build(1, "console=ttyS0 earlycon", true);
    const void *fdt = g_bytes_get_data(bytes, NULL);
    int off = node(fdt, "/chosen");

    g_assert_cmpstr(prop_str(fdt, off, "bootargs"), ==, "console=ttyS0 earlycon");
    g_assert_cmphex(prop_u64(fdt, off, "linux,initrd-start"), ==, 0x8f000000);
    g_assert_cmphex(prop_u64(fdt, off, "linux,initrd-end"), ==, 0x8f123456);
    /* stdout-path names a node that exists. */
    g_assert_cmpint(fdt_path_offset(fdt, prop_str(fdt, off, "stdout-path")), >=, 0);
}

static bool all_zero(const guint8 *p, int len)
{
    for (int i = 0; i < len; i++) {
        if (p[i] != 0) {
            return false;
        }
    }
    return true;
}

/* The seeds: placeholders in the built tree, filled with fresh bytes at
 * each load, every other byte of the tree unchanged. */
static void test_fdt_seeds(void)
{
    g_autoptr(GError) error = NULL;
    VireoVirtFdtParams p = { .n_harts = 1, .ram_size = 64ull << 20, .seeds = true };
    g_autoptr(GBytes) bytes = vireo_virt_build_fdt(&p, &error);
    gsize size = g_bytes_get_size(bytes);
    g_autofree guint8 *a = g_memdup2(g_bytes_get_data(bytes, NULL), size);
    g_autofree guint8 *b = g_memdup2(a, size);
    const guint8 *rng_a, *rng_b, *kaslr_a, *kaslr_b;
    int len, off;

    g_assert_no_error(error);
    off = node(a, "/chosen");
    rng_a = prop(a, off, "rng-seed", &len);
    g_assert_cmpint(len, ==, VIREO_VIRT_RNG_SEED_BYTES);
    g_assert_true(all_zero(rng_a, len));
    kaslr_a = prop(a, off, "kaslr-seed", &len);
    g_assert_cmpint(len, ==, 8);

    g_assert_true(vireo_virt_fdt_fill_seeds(a, size, &error));
    g_assert_no_error(error);
    g_assert_true(vireo_virt_fdt_fill_seeds(b, size, &error));
    g_assert_no_error(error);
    g_assert_false(all_zero(rng_a, VIREO_VIRT_RNG_SEED_BYTES));
    g_assert_false(all_zero(kaslr_a, 8));
    rng_b = prop(b, node(b, "/chosen"), "rng-seed", NULL);
    kaslr_b = prop(b, node(b, "/chosen"), "kaslr-seed", NULL);
    g_assert_true(memcmp(rng_a, rng_b, VIREO_VIRT_RNG_SEED_BYTES) != 0);
    /* Only the seeds differ. */
    for (gsize i = 0; i < size; i++) {
        bool in_seed = (a + i >= rng_a && a + i < rng_a + VIREO_VIRT_RNG_SEED_BYTES) ||
                       (a + i >= kaslr_a && a + i < kaslr_a + 8);
        if (!in_seed) {
            g_assert_cmpuint(a[i], ==, b[i]);
        }
    }
    g_assert_true(rng_a - a == rng_b - b && kaslr_a - a == kaslr_b - b);

    /* Without seeds the tree has none, and filling it changes nothing. */
    p.seeds = false;
    g_autoptr(GBytes) plain = vireo_virt_build_fdt(&p, &error);
    g_autofree guint8 *c = g_memdup2(g_bytes_get_data(plain, NULL), g_bytes_get_size(plain));
    g_assert_null(fdt_getprop(c, node(c, "/chosen"), "rng-seed", NULL));
    g_assert_true(vireo_virt_fdt_fill_seeds(c, g_bytes_get_size(plain), &error));
    g_assert_cmpmem(c, g_bytes_get_size(plain), g_bytes_get_data(plain, NULL),
                    g_bytes_get_size(plain));
    /* Not a device tree: an error. */
    memset(c, 0, g_bytes_get_size(plain));
    g_assert_false(vireo_virt_fdt_fill_seeds(c, g_bytes_get_size(plain), &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT);
}

static void test_fdt_long_cmdline(void)
{
    g_autofree char *cmdline = g_strnfill(VIREO_VIRT_MAX_CMDLINE, 'a');
    g_autofree char *too_long = g_strnfill(100000, 'a');
    g_autoptr(GBytes) bytes = build(2, cmdline, false);
    const void *fdt = g_bytes_get_data(bytes, NULL);
    g_autoptr(GError) error = NULL;
    VireoVirtFdtParams p = { .n_harts = 1, .ram_size = 64ull << 20, .cmdline = too_long };

    g_assert_cmpstr(prop_str(fdt, node(fdt, "/chosen"), "bootargs"), ==, cmdline);
    /* Longer: a clear error. */
    g_assert_null(vireo_virt_build_fdt(&p, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    g_assert_nonnull(strstr(error->message, "100000 bytes"));
}

/* virtio-mmio nodes: one per slot in use, from the highest address down
 * (QEMU's order), each on its PLIC source. */
static void test_fdt_virtio(void)
{
    static const char *const virtio_compat[] = { "virtio,mmio" };
    static const char *const expected[] = { "virtio_mmio@10008000", "virtio_mmio@10007000",
                                            "virtio_mmio@10002000", "virtio_mmio@10001000" };
    g_autoptr(GError) error = NULL;
    VireoVirtFdtParams p = {
        .n_harts = 2,
        .ram_size = 512ull << 20,
        .virtio_slots = vireo_virt_virtio_slots(2),
    };
    g_autoptr(GBytes) bytes = vireo_virt_build_fdt(&p, &error);
    const void *fdt = g_bytes_get_data(bytes, NULL);
    guint32 plic_ph = fdt_get_phandle(fdt, node(fdt, "/soc/plic@c000000"));
    unsigned n = 0;
    int soc = node(fdt, "/soc"), off;

    g_assert_no_error(error);
    g_assert_cmphex(p.virtio_slots, ==, 0xc3);
    fdt_for_each_subnode(off, fdt, soc)
    {
        const char *name = fdt_get_name(fdt, off, NULL);
        uint64_t base;
        unsigned slot;

        if (!g_str_has_prefix(name, "virtio_mmio@")) {
            continue;
        }
        g_assert_cmpuint(n, <, G_N_ELEMENTS(expected));
        g_assert_cmpstr(name, ==, expected[n++]);
        base = g_ascii_strtoull(name + strlen("virtio_mmio@"), NULL, 16);
        slot = (unsigned)((base - 0x10001000) / 0x1000);
        check_compatible(fdt, off, virtio_compat, 1);
        check_reg(fdt, off, base, 0x1000);
        g_assert_cmpuint(prop_u32(fdt, off, "interrupts"), ==, 1 + slot);
        g_assert_cmpuint(prop_u32(fdt, off, "interrupt-parent"), ==, plic_ph);
        g_assert_cmphex(vireo_virt_virtio_base(slot), ==, base);
    }
    g_assert_cmpuint(n, ==, G_N_ELEMENTS(expected));
    g_assert_cmpint(fdt_path_offset(fdt, "/soc/virtio_mmio@10003000"), <, 0);

    g_assert_cmphex(vireo_virt_virtio_slots(0), ==, 0x03);
    g_assert_cmphex(vireo_virt_virtio_slots(1), ==, 0x83);
    g_assert_cmphex(vireo_virt_virtio_slots(VIREO_VIRT_MAX_DISKS), ==, 0xff);
    g_assert_cmpuint(VIREO_VIRT_DISK_SLOT(0), ==, 7);
}

static void test_fdt_bad_harts(void)
{
    g_autoptr(GError) error = NULL;
    VireoVirtFdtParams p = { .n_harts = 0, .ram_size = 1 << 28 };

    g_assert_null(vireo_virt_build_fdt(&p, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    g_clear_error(&error);
    p.n_harts = VIREO_VIRT_MAX_HARTS + 1;
    g_assert_null(vireo_virt_build_fdt(&p, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
}

static void test_memory_map(void)
{
    static const struct {
        VireoVirtRegion region;
        uint64_t base, size;
    } expected[] = {
        { VIREO_VIRT_MROM, 0x1000, 0xf000 },       { VIREO_VIRT_TEST, 0x100000, 0x1000 },
        { VIREO_VIRT_RTC, 0x101000, 0x1000 },      { VIREO_VIRT_CLINT, 0x2000000, 0x10000 },
        { VIREO_VIRT_PLIC, 0xc000000, 0 },         { VIREO_VIRT_UART0, 0x10000000, 0x100 },
        { VIREO_VIRT_VIRTIO, 0x10001000, 0x1000 }, { VIREO_VIRT_DRAM, 0x80000000, 0 },
    };

    for (unsigned i = 0; i < G_N_ELEMENTS(expected); i++) {
        const VireoVirtMapEntry *m = vireo_virt_map_entry(expected[i].region);
        g_assert_cmphex(m->base, ==, expected[i].base);
        g_assert_cmphex(m->size, ==, expected[i].size);
    }
    g_assert_cmphex(vireo_virt_region_size(VIREO_VIRT_PLIC, 1, 0), ==, 0x202000);
    g_assert_cmphex(vireo_virt_region_size(VIREO_VIRT_PLIC, 64, 0), ==, 0x280000);
    g_assert_cmphex(vireo_virt_region_size(VIREO_VIRT_DRAM, 1, 1 << 30), ==, 1 << 30);
    g_assert_cmphex(vireo_virt_region_size(VIREO_VIRT_CLINT, 8, 0), ==, 0x10000);
    /* Regions are in address order and do not overlap. */
    for (unsigned r = 1; r < VIREO_VIRT_N_REGIONS; r++) {
        const VireoVirtMapEntry *prev = vireo_virt_map_entry(r - 1);
        g_assert_cmphex(prev->base + vireo_virt_region_size(r - 1, 64, 1 << 20), <=,
                        vireo_virt_map_entry(r)->base);
    }
}

static guint32 rom_word(const guint8 *rom, unsigned off)
{
    guint32 v;
    memcpy(&v, rom + off, 4);
    return GUINT32_FROM_LE(v);
}

static uint64_t rom_dword(const guint8 *rom, unsigned off)
{
    uint64_t v;
    memcpy(&v, rom + off, 8);
    return GUINT64_FROM_LE(v);
}

static void test_reset_rom(void)
{
    g_autoptr(GBytes) bytes = vireo_virt_build_rom(0x80000000, 0x8fe00000, 0x80200000);
    gsize size;
    const guint8 *rom = g_bytes_get_data(bytes, &size);

    g_assert_cmpuint(size, ==, VIREO_VIRT_ROM_SIZE);
    /* The instructions, as the RISC-V assembler encodes them. */
    g_assert_cmphex(rom_word(rom, 0x00), ==, 0x00000297); /* auipc t0, 0 */
    g_assert_cmphex(rom_word(rom, 0x04), ==, 0x02828613); /* addi a2, t0, 40 */
    g_assert_cmphex(rom_word(rom, 0x08), ==, 0xf1402573); /* csrr a0, mhartid */
    g_assert_cmphex(rom_word(rom, 0x0c), ==, 0x0202b583); /* ld a1, 32(t0) */
    g_assert_cmphex(rom_word(rom, 0x10), ==, 0x0182b283); /* ld t0, 24(t0) */
    g_assert_cmphex(rom_word(rom, 0x14), ==, 0x00028067); /* jr t0 */
    g_assert_cmphex(rom_dword(rom, VIREO_VIRT_ROM_ENTRY_SLOT), ==, 0x80000000);
    g_assert_cmphex(rom_dword(rom, VIREO_VIRT_ROM_FDT_SLOT), ==, 0x8fe00000);
    /* fw_dynamic_info. */
    g_assert_cmphex(rom_dword(rom, VIREO_VIRT_ROM_INFO + 0), ==, 0x4942534f);
    g_assert_cmphex(rom_dword(rom, VIREO_VIRT_ROM_INFO + 8), ==, 2);
    g_assert_cmphex(rom_dword(rom, VIREO_VIRT_ROM_INFO + 16), ==, 0x80200000);
    g_assert_cmphex(rom_dword(rom, VIREO_VIRT_ROM_INFO + 24), ==, 1);
    g_assert_cmphex(rom_dword(rom, VIREO_VIRT_ROM_INFO + 32), ==, 0);
    g_assert_cmphex(rom_dword(rom, VIREO_VIRT_ROM_INFO + 40), ==, G_MAXUINT64);
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virt/fdt/one-hart", test_fdt_one_hart);
    g_test_add_func("/virt/fdt/four-harts", test_fdt_four_harts);
    g_test_add_func("/virt/fdt/max-harts", test_fdt_max_harts);
    g_test_add_func("/virt/fdt/cpu-models", test_fdt_cpu_models);
    g_test_add_func("/virt/fdt/chosen", test_fdt_chosen);
    g_test_add_func("/virt/fdt/seeds", test_fdt_seeds);
    g_test_add_func("/virt/fdt/long-cmdline", test_fdt_long_cmdline);
    g_test_add_func("/virt/fdt/virtio", test_fdt_virtio);
    g_test_add_func("/virt/fdt/bad-harts", test_fdt_bad_harts);
    g_test_add_func("/virt/memory-map", test_memory_map);
    g_test_add_func("/virt/reset-rom", test_reset_rom);
    return g_test_run();
}

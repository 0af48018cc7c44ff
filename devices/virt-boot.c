/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "devices/loader.h"
#include "devices/virt.h"
#include "engine/error.h"

#include <libfdt.h>
#include <string.h>

/* RISC-V instruction encodings for the reset ROM. */
#define OP_LOAD     0x03
#define OP_IMM      0x13
#define OP_AUIPC    0x17
#define OP_JALR     0x67
#define OP_SYSTEM   0x73
#define REG_ZERO    0
#define REG_T0      5
#define REG_A0      10
#define REG_A1      11
#define REG_A2      12
#define F3_ADDI     0
#define F3_LD       3
#define F3_CSRRS    2
#define CSR_MHARTID 0xf14

static guint32 encode_i(unsigned opcode, unsigned rd, unsigned funct3, unsigned rs1, unsigned imm)
{
    return ((guint32)(imm & 0xfff) << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode;
}

static guint32 encode_u(unsigned opcode, unsigned rd, guint32 imm20)
{
    return (imm20 << 12) | (rd << 7) | opcode;
}

static void put32(guint8 *p, guint32 v)
{
    v = GUINT32_TO_LE(v);
    memcpy(p, &v, 4);
}

static void put64(guint8 *p, uint64_t v)
{
    v = GUINT64_TO_LE(v);
    memcpy(p, &v, 8);
}

GBytes *vireo_virt_build_rom(uint64_t entry, uint64_t fdt_addr, uint64_t next_addr)
{
    guint8 *rom = g_malloc0(VIREO_VIRT_ROM_SIZE);
    const guint32 code[] = {
        /* auipc t0, 0: t0 = the ROM's own address */
        encode_u(OP_AUIPC, REG_T0, 0),
        /* addi a2, t0, INFO: a2 = &fw_dynamic_info */
        encode_i(OP_IMM, REG_A2, F3_ADDI, REG_T0, VIREO_VIRT_ROM_INFO),
        /* csrr a0, mhartid (csrrs a0, mhartid, zero) */
        encode_i(OP_SYSTEM, REG_A0, F3_CSRRS, REG_ZERO, CSR_MHARTID),
        /* ld a1, FDT_SLOT(t0): a1 = the device tree */
        encode_i(OP_LOAD, REG_A1, F3_LD, REG_T0, VIREO_VIRT_ROM_FDT_SLOT),
        /* ld t0, ENTRY_SLOT(t0): t0 = the entry */
        encode_i(OP_LOAD, REG_T0, F3_LD, REG_T0, VIREO_VIRT_ROM_ENTRY_SLOT),
        /* jr t0 (jalr zero, 0(t0)) */
        encode_i(OP_JALR, REG_ZERO, 0, REG_T0, 0),
    };
    /* OpenSBI's fw_dynamic_info: magic, version, next_addr, next_mode,
     * options, boot_hart. A boot_hart of -1 lets the firmware choose the
     * boot hart itself, which is safe here because no earlier stage runs
     * from the firmware's memory. */
    const uint64_t info[] = {
        VIREO_FW_DYNAMIC_MAGIC,
        VIREO_FW_DYNAMIC_VERSION,
        next_addr,
        VIREO_FW_DYNAMIC_NEXT_S,
        0,
        G_MAXUINT64,
    };

    G_STATIC_ASSERT(sizeof code == VIREO_VIRT_ROM_ENTRY_SLOT);
    for (unsigned i = 0; i < G_N_ELEMENTS(code); i++) {
        put32(rom + 4 * i, code[i]);
    }
    put64(rom + VIREO_VIRT_ROM_ENTRY_SLOT, entry);
    put64(rom + VIREO_VIRT_ROM_FDT_SLOT, fdt_addr);
    for (unsigned i = 0; i < G_N_ELEMENTS(info); i++) {
        put64(rom + VIREO_VIRT_ROM_INFO + 8 * i, info[i]);
    }
    return g_bytes_new_take(rom, VIREO_VIRT_ROM_SIZE);
}

struct VireoVirtBoot {
    uint64_t ram_base, ram_size;
    VireoImage *firmware, *kernel, *initrd, *test;
    uint64_t entry, next_addr;
    uint64_t fdt_addr;
    GBytes *fdt;
    GBytes *rom;
    uint64_t tohost, fromhost;
};

void vireo_virt_boot_free(VireoVirtBoot *boot)
{
    if (boot == NULL) {
        return;
    }
    vireo_image_free(boot->firmware);
    vireo_image_free(boot->kernel);
    vireo_image_free(boot->initrd);
    vireo_image_free(boot->test);
    if (boot->fdt != NULL) {
        g_bytes_unref(boot->fdt);
    }
    if (boot->rom != NULL) {
        g_bytes_unref(boot->rom);
    }
    g_free(boot);
}

static uint64_t align_up(uint64_t v, uint64_t align)
{
    return v > G_MAXUINT64 - (align - 1) ? G_MAXUINT64 & ~(align - 1)
                                         : (v + align - 1) & ~(align - 1);
}

static uint64_t align_down(uint64_t v, uint64_t align)
{
    return v & ~(align - 1);
}

/* A range of RAM an image takes, [low, high). */
typedef struct {
    const char *what;
    uint64_t low, high;
    bool placed; /* put there by the board (raw images, initrd, device tree) */
} Span;

/* Fails when `a` overlaps one of `spans`. */
static bool check_overlaps(const Span *a, const GArray *spans, GError **error)
{
    for (guint i = 0; i < spans->len; i++) {
        const Span *b = &g_array_index(spans, Span, i);
        if (a->low >= b->high || b->low >= a->high) {
            continue;
        }
        if (a->placed || b->placed) {
            const Span *moved = a->placed ? a : b;
            const Span *fixed = a->placed ? b : a;
            g_set_error(
                error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                "Not enough RAM for %s: at 0x%" G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER
                "x it would overlap %s (0x%" G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER "x)",
                moved->what, moved->low, moved->high - 1, fixed->what, fixed->low, fixed->high - 1);
        } else {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                        "The images overlap: %s takes 0x%" G_GINT64_MODIFIER
                        "x-0x%" G_GINT64_MODIFIER "x and %s 0x%" G_GINT64_MODIFIER
                        "x-0x%" G_GINT64_MODIFIER "x",
                        a->what, a->low, a->high - 1, b->what, b->low, b->high - 1);
        }
        return false;
    }
    return true;
}

/* Checks each part of an image against the spans taken so far, then adds
 * its parts: the segments of an ELF image, the whole of a raw one. */
static bool add_image_spans(const VireoImage *img, GArray *spans, GError **error)
{
    g_autoptr(GArray) mine = g_array_new(FALSE, FALSE, sizeof(Span));

    if (vireo_image_is_elf(img)) {
        guint n;
        const VireoImageSegment *seg = vireo_image_segments(img, &n);
        for (guint i = 0; i < n; i++) {
            Span s = { vireo_image_what(img), seg[i].addr, seg[i].addr + seg[i].mem_size, false };
            g_array_append_val(mine, s);
        }
    } else {
        Span s = { vireo_image_what(img), vireo_image_low(img), vireo_image_high(img), true };
        g_array_append_val(mine, s);
    }
    for (guint i = 0; i < mine->len; i++) {
        if (!check_overlaps(&g_array_index(mine, Span, i), spans, error)) {
            return false;
        }
    }
    g_array_append_vals(spans, mine->data, mine->len);
    return true;
}

static bool check_config(const VireoVirtConfig *c, GError **error)
{
    if (c->n_harts == 0 || c->n_harts > VIREO_VIRT_MAX_HARTS) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "The virt board takes 1 to %u harts, not %u", VIREO_VIRT_MAX_HARTS, c->n_harts);
        return false;
    }
    if ((unsigned)c->cpu >= VIREO_RV_CPU_N_MODELS) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG, "The virt board has no CPU model %u",
                    (unsigned)c->cpu);
        return false;
    }
    if (c->ram_size < VIREO_VIRT_MIN_RAM || c->ram_size > VIREO_VIRT_MAX_RAM ||
        c->ram_size % VIREO_PAGE_SIZE != 0) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "The virt board takes 2 MiB to 1 TiB of RAM in whole 4 KiB pages, not "
                    "%" G_GUINT64_FORMAT " bytes",
                    c->ram_size);
        return false;
    }
    if (c->test_elf != NULL && (c->firmware != NULL || c->kernel != NULL || c->initrd != NULL)) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "A test program runs alone, without firmware, kernel or initrd");
        return false;
    }
    if (c->test_elf == NULL && c->firmware == NULL && c->kernel == NULL) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "Nothing to boot: give a firmware, a kernel or a test program");
        return false;
    }
    if (c->initrd != NULL && c->kernel == NULL) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG, "An initrd needs a kernel");
        return false;
    }
    if (c->n_disks > VIREO_VIRT_MAX_DISKS) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "The virt board takes at most %u disks, not %u", VIREO_VIRT_MAX_DISKS,
                    c->n_disks);
        return false;
    }
    if (vireo_virt_config_has_net(c) && c->n_disks > VIREO_VIRT_MAX_DISKS_WITH_NET) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "With a network card the virt board takes at most %u disks, not %u",
                    VIREO_VIRT_MAX_DISKS_WITH_NET, c->n_disks);
        return false;
    }
    if (c->gpu != VIREO_VIRT_GPU_NONE && !vireo_virt_config_gpu_slot(c, NULL)) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "The display needs a virtio slot, and %u disks leave none: take fewer disks",
                    c->n_disks);
        return false;
    }
    if (c->input && !vireo_virt_config_input_slots(c, NULL, NULL)) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "The keyboard and the tablet need two virtio slots, and %u disks leave "
                    "too few: take fewer disks",
                    c->n_disks);
        return false;
    }
    for (unsigned i = 0; i < c->n_disks; i++) {
        if (c->disks == NULL || c->disks[i].path == NULL) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG, "Disk %u has no image file", i);
            return false;
        }
    }
    return true;
}

static bool plan_test(VireoVirtBoot *b, const VireoVirtConfig *c, GError **error)
{
    b->test =
        vireo_image_load(c->test_elf, "the test program", VIREO_IMAGE_ELF, b->ram_size, error);
    if (b->test == NULL || !vireo_image_check_ram(b->test, b->ram_base, b->ram_size, error) ||
        !vireo_image_find_symbol(b->test, "tohost", &b->tohost, error) ||
        !vireo_image_find_symbol(b->test, "fromhost", &b->fromhost, error)) {
        return false;
    }
    if (b->tohost < b->ram_base || b->tohost - b->ram_base > b->ram_size - 8 ||
        b->fromhost < b->ram_base || b->fromhost - b->ram_base > b->ram_size - 8) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                    "The test program “%s” has its tohost or fromhost outside RAM", c->test_elf);
        return false;
    }
    b->entry = vireo_image_entry(b->test);
    b->next_addr = b->entry;
    return true;
}

static GBytes *build_fdt(const VireoVirtConfig *c, const VireoVirtBoot *b, GError **error)
{
    VireoVirtFdtParams p = {
        .n_harts = c->n_harts,
        .cpu = c->cpu,
        .ram_size = c->ram_size,
        .cmdline = c->cmdline,
        .has_initrd = b->initrd != NULL,
        .virtio_slots = vireo_virt_config_virtio_slots(c),
        .seeds = true,
    };

    if (b->initrd != NULL) {
        p.initrd_start = vireo_image_low(b->initrd);
        p.initrd_end = vireo_image_high(b->initrd);
    }
    return vireo_virt_build_fdt(&p, error);
}

static bool plan_boot(VireoVirtBoot *b, const VireoVirtConfig *c, GError **error)
{
    uint64_t ram_end = b->ram_base + b->ram_size;
    uint64_t top, fdt_size;
    g_autoptr(GArray) spans = g_array_new(FALSE, FALSE, sizeof(Span));
    Span fdt_span;

    if (c->firmware != NULL) {
        b->firmware =
            vireo_image_load(c->firmware, "the firmware", VIREO_IMAGE_AUTO, b->ram_size, error);
        if (b->firmware == NULL) {
            return false;
        }
        vireo_image_place(b->firmware, b->ram_base, 0);
        if (!vireo_image_check_ram(b->firmware, b->ram_base, b->ram_size, error) ||
            !add_image_spans(b->firmware, spans, error)) {
            return false;
        }
    }
    if (c->kernel != NULL) {
        uint64_t addr = b->ram_base;
        b->kernel = vireo_image_load(c->kernel, "the kernel", VIREO_IMAGE_AUTO, b->ram_size, error);
        if (b->kernel == NULL) {
            return false;
        }
        if (b->firmware != NULL) {
            addr = MAX(VIREO_VIRT_KERNEL_ADDR,
                       align_up(vireo_image_high(b->firmware), VIREO_VIRT_KERNEL_ALIGN));
        }
        if (!vireo_image_is_elf(b->kernel)) {
            vireo_image_place(b->kernel, addr, vireo_image_kernel_footprint(b->kernel));
        } else if (!vireo_image_within(b->kernel, b->ram_base, VIREO_VIRT_MAX_RAM)) {
            /* Physical addresses where the board can have no RAM (p_paddr 0,
             * or the virtual 0xffffffff80000000 of a Linux vmlinux): the
             * kernel goes where a raw one would, laid out by its virtual
             * addresses, 2 MiB-aligned as Linux's boot protocol wants. */
            vireo_image_relocate(b->kernel, addr, VIREO_VIRT_KERNEL_ALIGN);
        }
        if (!vireo_image_check_ram(b->kernel, b->ram_base, b->ram_size, error) ||
            !add_image_spans(b->kernel, spans, error)) {
            return false;
        }
    }
    if (c->initrd != NULL) {
        b->initrd = vireo_image_load(c->initrd, "the initrd", VIREO_IMAGE_RAW, b->ram_size, error);
        if (b->initrd == NULL) {
            return false;
        }
    }

    /* The device tree: as high as possible below RAM base + 3 GiB,
     * 2 MiB-aligned. Its size does not depend on the initrd's address. */
    b->fdt = build_fdt(c, b, error);
    if (b->fdt == NULL) {
        return false;
    }
    fdt_size = g_bytes_get_size(b->fdt);
    top = MIN(ram_end, b->ram_base + VIREO_VIRT_FDT_LIMIT);
    if (top - b->ram_base < fdt_size) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "Not enough RAM for the device tree (%" G_GUINT64_FORMAT " bytes)", fdt_size);
        return false;
    }
    b->fdt_addr = align_down(top - fdt_size, VIREO_VIRT_FDT_ALIGN);
    fdt_span = (Span){ "the device tree", b->fdt_addr, b->fdt_addr + fdt_size, true };
    if (!check_overlaps(&fdt_span, spans, error)) {
        return false;
    }
    g_array_append_val(spans, fdt_span);

    /* The initrd right below the device tree, page-aligned. */
    if (b->initrd != NULL) {
        uint64_t size = vireo_image_file_size(b->initrd);
        if (b->fdt_addr - b->ram_base < size) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                        "Not enough RAM for the initrd “%s” (%" G_GUINT64_FORMAT
                        " bytes) below the device tree at 0x%" G_GINT64_MODIFIER "x",
                        c->initrd, size, b->fdt_addr);
            return false;
        }
        vireo_image_place(b->initrd, align_down(b->fdt_addr - size, VIREO_PAGE_SIZE), size);
        if (!add_image_spans(b->initrd, spans, error)) {
            return false;
        }
        g_bytes_unref(b->fdt);
        b->fdt = build_fdt(c, b, error);
        if (b->fdt == NULL) {
            return false;
        }
        g_assert(g_bytes_get_size(b->fdt) == fdt_size);
    }

    b->next_addr = b->kernel != NULL ? vireo_image_entry(b->kernel) : VIREO_VIRT_KERNEL_ADDR;
    b->entry = b->firmware != NULL ? vireo_image_entry(b->firmware) : b->next_addr;
    return true;
}

VireoVirtBoot *vireo_virt_boot_new(const VireoVirtConfig *config, GError **error)
{
    VireoVirtBoot *b;
    bool ok;

    if (!check_config(config, error)) {
        return NULL;
    }
    b = g_new0(VireoVirtBoot, 1);
    b->ram_base = vireo_virt_map_entry(VIREO_VIRT_DRAM)->base;
    b->ram_size = config->ram_size;
    if (config->test_elf != NULL) {
        ok = plan_test(b, config, error) && (b->fdt = build_fdt(config, b, error)) != NULL;
    } else {
        ok = plan_boot(b, config, error);
    }
    if (!ok) {
        vireo_virt_boot_free(b);
        return NULL;
    }
    b->rom = vireo_virt_build_rom(b->entry, b->fdt_addr, b->next_addr);
    return b;
}

GBytes *vireo_virt_boot_get_fdt(const VireoVirtBoot *boot)
{
    return boot->fdt;
}

GBytes *vireo_virt_boot_get_rom(const VireoVirtBoot *boot)
{
    return boot->rom;
}

uint64_t vireo_virt_boot_get_entry(const VireoVirtBoot *boot)
{
    return boot->entry;
}

uint64_t vireo_virt_boot_get_next_addr(const VireoVirtBoot *boot)
{
    return boot->next_addr;
}

uint64_t vireo_virt_boot_get_fdt_addr(const VireoVirtBoot *boot)
{
    return boot->fdt_addr;
}

static bool image_range(const VireoImage *img, uint64_t *start, uint64_t *end)
{
    if (img == NULL) {
        return false;
    }
    *start = vireo_image_low(img);
    *end = vireo_image_high(img);
    return true;
}

bool vireo_virt_boot_get_kernel(const VireoVirtBoot *boot, uint64_t *start, uint64_t *end)
{
    return image_range(boot->kernel, start, end);
}

bool vireo_virt_boot_get_initrd(const VireoVirtBoot *boot, uint64_t *start, uint64_t *end)
{
    return image_range(boot->initrd, start, end);
}

bool vireo_virt_boot_is_test(const VireoVirtBoot *boot)
{
    return boot->test != NULL;
}

void vireo_virt_boot_get_htif(const VireoVirtBoot *boot, uint64_t *tohost, uint64_t *fromhost)
{
    *tohost = boot->tohost;
    *fromhost = boot->fromhost;
}

bool vireo_virt_boot_load(const VireoVirtBoot *boot, VireoBus *bus, GError **error)
{
    const VireoImage *images[] = { boot->firmware, boot->kernel, boot->initrd, boot->test };
    gsize size;
    const void *data;

    for (unsigned i = 0; i < G_N_ELEMENTS(images); i++) {
        if (images[i] != NULL && !vireo_image_copy_to(images[i], bus, error)) {
            return false;
        }
    }
    /* In test mode the program runs without a device tree in RAM. */
    if (boot->test == NULL) {
        g_autofree void *fdt = g_bytes_unref_to_data(g_bytes_ref(boot->fdt), &size);
        if (!vireo_virt_fdt_fill_seeds(fdt, size, error) ||
            !vireo_bus_write_block(bus, boot->fdt_addr, fdt, size, error)) {
            g_prefix_error(error, "Cannot load the device tree: ");
            return false;
        }
    }
    data = g_bytes_get_data(boot->rom, &size);
    if (!vireo_bus_write_block(bus, vireo_virt_map_entry(VIREO_VIRT_MROM)->base, data, size,
                               error)) {
        g_prefix_error(error, "Cannot load the reset ROM: ");
        return false;
    }
    return true;
}

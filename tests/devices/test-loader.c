/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "devices/loader.h"
#include "devices/virt.h"
#include "engine/error.h"

#include <glib/gstdio.h>
#include <libfdt.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#define RAM_BASE 0x80000000ull

/* ---- A small ELF writer for the tests ---------------------------------- */

typedef struct {
    uint64_t addr;
    gsize file_size;
    uint64_t mem_size;
    guint8 fill;
} TestSegment;

typedef struct {
    guint8 class_, data;
    uint16_t machine;
    uint64_t entry;
    TestSegment seg[2];
    unsigned n_seg;
    bool symbols; /* tohost, fromhost and _start in a symbol table */
    uint64_t tohost, fromhost;
    /* Each segment's p_paddr: its address plus this (0: the same as
     * p_vaddr), or 0 for all of them. */
    uint64_t paddr_delta;
    bool paddr_zero;
} ElfSpec;

static void put16(GByteArray *b, gsize off, uint16_t v)
{
    b->data[off] = (guint8)v;
    b->data[off + 1] = (guint8)(v >> 8);
}

static void put32(GByteArray *b, gsize off, uint32_t v)
{
    put16(b, off, (uint16_t)v);
    put16(b, off + 2, (uint16_t)(v >> 16));
}

static void put64(GByteArray *b, gsize off, uint64_t v)
{
    put32(b, off, (uint32_t)v);
    put32(b, off + 4, (uint32_t)(v >> 32));
}

static uint64_t read64(const GByteArray *b, gsize off)
{
    uint64_t v = 0;

    for (unsigned k = 0; k < 8; k++) {
        v |= (uint64_t)b->data[off + k] << (8 * k);
    }
    return v;
}

static gsize grow(GByteArray *b, gsize n)
{
    gsize off = b->len;
    g_byte_array_set_size(b, (guint)(b->len + n));
    memset(b->data + off, 0, n);
    return off;
}

static ElfSpec default_spec(void)
{
    ElfSpec s = {
        .class_ = 2,
        .data = 1,
        .machine = 243,
        .entry = RAM_BASE,
        .seg = { { RAM_BASE, 0x100, 0x1000, 0xaa }, { RAM_BASE + 0x2000, 0x10, 0x10, 0xbb } },
        .n_seg = 2,
        .symbols = true,
        .tohost = RAM_BASE + 0x2000,
        .fromhost = RAM_BASE + 0x2008,
    };
    return s;
}

static GBytes *build_elf(const ElfSpec *s)
{
    GByteArray *b = g_byte_array_new();
    gsize ph, shoff = 0;

    grow(b, 64);
    memcpy(b->data, "\177ELF", 4);
    b->data[4] = s->class_;
    b->data[5] = s->data;
    b->data[6] = 1;
    put16(b, 16, 2); /* ET_EXEC */
    put16(b, 18, s->machine);
    put32(b, 20, 1);
    put64(b, 24, s->entry);
    put64(b, 32, 64);
    put16(b, 52, 64);
    put16(b, 54, 56);
    put16(b, 56, (uint16_t)s->n_seg);
    ph = grow(b, 56 * s->n_seg);
    for (unsigned i = 0; i < s->n_seg; i++) {
        gsize data = grow(b, s->seg[i].file_size);
        memset(b->data + data, s->seg[i].fill, s->seg[i].file_size);
        put32(b, ph + 56 * i, 1); /* PT_LOAD */
        put32(b, ph + 56 * i + 4, 7);
        put64(b, ph + 56 * i + 8, data);
        put64(b, ph + 56 * i + 16, s->seg[i].addr);
        put64(b, ph + 56 * i + 24, s->paddr_zero ? 0 : s->seg[i].addr + s->paddr_delta);
        put64(b, ph + 56 * i + 32, s->seg[i].file_size);
        put64(b, ph + 56 * i + 40, s->seg[i].mem_size);
    }
    if (s->symbols) {
        static const char strtab[] = "\0tohost\0fromhost\0_start";
        gsize str = grow(b, sizeof strtab);
        gsize sym = grow(b, 4 * 24);
        memcpy(b->data + str, strtab, sizeof strtab);
        /* Symbols 1-3: tohost, fromhost, _start; section index 1. */
        put32(b, sym + 24, 1);
        put16(b, sym + 24 + 6, 1);
        put64(b, sym + 24 + 8, s->tohost);
        put32(b, sym + 48, 8);
        put16(b, sym + 48 + 6, 1);
        put64(b, sym + 48 + 8, s->fromhost);
        put32(b, sym + 72, 17);
        put16(b, sym + 72 + 6, 1);
        put64(b, sym + 72 + 8, s->entry);
        shoff = grow(b, 3 * 64);
        /* Section 1: .symtab (linked to 2); section 2: .strtab. */
        put32(b, shoff + 64 + 4, 2);
        put64(b, shoff + 64 + 24, sym);
        put64(b, shoff + 64 + 32, 4 * 24);
        put32(b, shoff + 64 + 40, 2);
        put64(b, shoff + 64 + 56, 24);
        put32(b, shoff + 128 + 4, 3);
        put64(b, shoff + 128 + 24, str);
        put64(b, shoff + 128 + 32, sizeof strtab);
        put64(b, 40, shoff);
        put16(b, 58, 64);
        put16(b, 60, 3);
    }
    return g_byte_array_free_to_bytes(b);
}

static VireoImage *parse(GBytes *bytes, VireoImageFormat format, GError **error)
{
    return vireo_image_new_from_bytes(bytes, "test.elf", "the kernel", format, error);
}

/* Parsing fails with VIREO_ERROR_FORMAT and a message containing `text`. */
static void expect_format_error(GBytes *bytes, VireoImageFormat format, const char *text)
{
    g_autoptr(GError) error = NULL;
    VireoImage *img = parse(bytes, format, &error);

    g_assert_null(img);
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT);
    if (strstr(error->message, text) == NULL) {
        g_error("“%s” does not mention “%s”", error->message, text);
    }
    g_assert_nonnull(strstr(error->message, "test.elf"));
}

/* ---- Images --------------------------------------------------------------- */

static void test_elf_valid(void)
{
    ElfSpec spec = default_spec();
    g_autoptr(GBytes) bytes = build_elf(&spec);
    g_autoptr(GError) error = NULL;
    g_autoptr(VireoImage) img = parse(bytes, VIREO_IMAGE_AUTO, &error);
    VireoBus *bus = vireo_bus_new();
    guint8 buf[0x1000];
    guint n;
    uint64_t v;

    g_assert_no_error(error);
    g_assert_true(vireo_image_is_elf(img));
    g_assert_cmphex(vireo_image_entry(img), ==, RAM_BASE);
    g_assert_cmphex(vireo_image_low(img), ==, RAM_BASE);
    g_assert_cmphex(vireo_image_high(img), ==, RAM_BASE + 0x2010);
    vireo_image_segments(img, &n);
    g_assert_cmpuint(n, ==, 2);
    g_assert_true(vireo_image_check_ram(img, RAM_BASE, 1 << 20, &error));
    g_assert_no_error(error);

    g_assert_nonnull(vireo_bus_add_ram(bus, RAM_BASE, 1 << 20, &error));
    memset(vireo_bus_host_ptr(bus, RAM_BASE, 0x3000, true), 0x55, 0x3000);
    g_assert_true(vireo_image_copy_to(img, bus, &error));
    g_assert_no_error(error);
    g_assert_true(vireo_bus_read_block(bus, RAM_BASE, buf, sizeof buf, &error));
    for (unsigned i = 0; i < sizeof buf; i++) {
        /* File bytes, then the zeroed bss. */
        g_assert_cmphex(buf[i], ==, i < 0x100 ? 0xaa : 0);
    }
    g_assert_true(vireo_bus_read(bus, RAM_BASE + 0x1000, 1, &v));
    g_assert_cmphex(v, ==, 0x55); /* untouched between the segments */
    g_assert_true(vireo_bus_read(bus, RAM_BASE + 0x2000, 8, &v));
    g_assert_cmphex(v, ==, 0xbbbbbbbbbbbbbbbbull);

    g_assert_true(vireo_image_find_symbol(img, "tohost", &v, &error));
    g_assert_cmphex(v, ==, RAM_BASE + 0x2000);
    g_assert_true(vireo_image_find_symbol(img, "fromhost", &v, &error));
    g_assert_cmphex(v, ==, RAM_BASE + 0x2008);
    g_assert_false(vireo_image_find_symbol(img, "tohos", &v, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT);
    g_assert_nonnull(strstr(error->message, "tohos"));
    g_clear_error(&error);
    g_assert_false(vireo_image_find_symbol(img, "missing", &v, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT);
    vireo_bus_free(bus);
}

static void test_elf_no_symbols(void)
{
    ElfSpec spec = default_spec();
    g_autoptr(GBytes) bytes = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(VireoImage) img = NULL;
    uint64_t v;

    spec.symbols = false;
    bytes = build_elf(&spec);
    img = parse(bytes, VIREO_IMAGE_ELF, &error);
    g_assert_no_error(error);
    g_assert_false(vireo_image_find_symbol(img, "tohost", &v, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT);
    g_assert_nonnull(strstr(error->message, "no symbol table"));
}

static void test_elf_truncated(void)
{
    ElfSpec spec = default_spec();
    g_autoptr(GBytes) full = build_elf(&spec);
    gsize size;
    const guint8 *data = g_bytes_get_data(full, &size);
    /* Cut inside the header, the program headers and the first segment. */
    const gsize cuts[] = { 10, 63, 64 + 56, 64 + 2 * 56 + 0x80 };

    for (unsigned i = 0; i < G_N_ELEMENTS(cuts); i++) {
        g_autoptr(GBytes) cut = g_bytes_new(data, cuts[i]);
        expect_format_error(cut, VIREO_IMAGE_ELF, "truncated");
    }
    /* Section headers past the end. */
    {
        g_autoptr(GByteArray) b = g_byte_array_new();
        g_byte_array_append(b, data, (guint)size);
        put64(b, 40, size - 10);
        g_autoptr(GBytes) bad = g_bytes_new(b->data, b->len);
        expect_format_error(bad, VIREO_IMAGE_ELF, "truncated");
    }
    /* A file that is not even an ELF identification. */
    {
        g_autoptr(GBytes) tiny = g_bytes_new("\177EL", 3);
        expect_format_error(tiny, VIREO_IMAGE_ELF, "bad magic");
    }
}

static void test_elf_bad_magic(void)
{
    ElfSpec spec = default_spec();
    g_autoptr(GBytes) good = build_elf(&spec);
    g_autoptr(GByteArray) b = g_byte_array_new();
    g_autoptr(GBytes) bad = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(VireoImage) raw = NULL;

    g_byte_array_append(b, g_bytes_get_data(good, NULL), (guint)g_bytes_get_size(good));
    b->data[1] = 'X';
    bad = g_bytes_new(b->data, b->len);
    expect_format_error(bad, VIREO_IMAGE_ELF, "bad magic");
    /* Without the magic, an image of unspecified format is raw. */
    raw = parse(bad, VIREO_IMAGE_AUTO, &error);
    g_assert_no_error(error);
    g_assert_false(vireo_image_is_elf(raw));
}

static void test_elf_wrong_class(void)
{
    ElfSpec spec = default_spec();
    g_autoptr(GBytes) b32 = NULL, bbe = NULL, bclass = NULL;

    spec.class_ = 1;
    b32 = build_elf(&spec);
    expect_format_error(b32, VIREO_IMAGE_AUTO, "32-bit");
    spec.class_ = 7;
    bclass = build_elf(&spec);
    expect_format_error(bclass, VIREO_IMAGE_AUTO, "class");
    spec.class_ = 2;
    spec.data = 2;
    bbe = build_elf(&spec);
    expect_format_error(bbe, VIREO_IMAGE_AUTO, "little-endian");
}

static void test_elf_wrong_machine(void)
{
    ElfSpec spec = default_spec();
    g_autoptr(GBytes) bytes = NULL;

    spec.machine = 62; /* x86-64 */
    bytes = build_elf(&spec);
    expect_format_error(bytes, VIREO_IMAGE_AUTO, "another machine");
}

static void test_elf_bad_segments(void)
{
    ElfSpec spec = default_spec();
    g_autoptr(GBytes) big_file = NULL, wrap = NULL, none = NULL;

    spec.seg[0].mem_size = 0x10; /* smaller than its file data */
    big_file = build_elf(&spec);
    expect_format_error(big_file, VIREO_IMAGE_AUTO, "larger in the file");

    spec = default_spec();
    spec.seg[1].addr = G_MAXUINT64 - 4;
    wrap = build_elf(&spec);
    expect_format_error(wrap, VIREO_IMAGE_AUTO, "address space");

    spec = default_spec();
    spec.n_seg = 0;
    none = build_elf(&spec);
    expect_format_error(none, VIREO_IMAGE_AUTO, "program headers");
}

static void test_elf_outside_ram(void)
{
    ElfSpec spec = default_spec();
    g_autoptr(GBytes) low = NULL, high = NULL;
    g_autoptr(VireoImage) img_low = NULL, img_high = NULL;
    g_autoptr(GError) error = NULL;

    spec.seg[1].addr = 0x1000;
    low = build_elf(&spec);
    img_low = parse(low, VIREO_IMAGE_AUTO, &error);
    g_assert_no_error(error);
    g_assert_false(vireo_image_check_ram(img_low, RAM_BASE, 1 << 20, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT);
    g_assert_nonnull(strstr(error->message, "outside RAM"));
    g_clear_error(&error);

    spec = default_spec();
    spec.seg[1].addr = RAM_BASE + (1 << 20) - 8;
    high = build_elf(&spec);
    img_high = parse(high, VIREO_IMAGE_AUTO, &error);
    g_assert_no_error(error);
    g_assert_false(vireo_image_check_ram(img_high, RAM_BASE, 1 << 20, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    g_assert_nonnull(strstr(error->message, "Not enough RAM for the kernel"));
}

/* Segments that share virtual addresses, an entry outside every segment,
 * and segments that share physical addresses are refused, naming what. */
static void test_elf_inconsistent(void)
{
    ElfSpec spec = default_spec();
    g_autoptr(GBytes) overlap = NULL, entry = NULL, phys = NULL;
    g_autoptr(VireoImage) img = NULL;
    g_autoptr(GError) error = NULL;

    spec.seg[1].addr = RAM_BASE + 0xff0; /* inside the first one's 0x1000 */
    overlap = build_elf(&spec);
    expect_format_error(overlap, VIREO_IMAGE_AUTO,
                        "overlapping segments: 0 and 1 both take virtual address 0x80000ff0");

    spec = default_spec();
    spec.entry = RAM_BASE + 0x1800; /* between the segments */
    entry = build_elf(&spec);
    expect_format_error(entry, VIREO_IMAGE_AUTO, "entry point (0x80001800) outside");
    spec.entry = 0xffffffff80000000ull;
    g_clear_pointer(&entry, g_bytes_unref);
    entry = build_elf(&spec);
    expect_format_error(entry, VIREO_IMAGE_AUTO, "entry point (0xffffffff80000000) outside");

    /* Apart in the virtual layout, on top of each other physically: fine to
     * parse, refused where it would be loaded. */
    spec = default_spec();
    spec.paddr_zero = true;
    phys = build_elf(&spec);
    img = parse(phys, VIREO_IMAGE_AUTO, &error);
    g_assert_no_error(error);
    g_assert_false(vireo_image_check_ram(img, 0, 1 << 20, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT);
    g_assert_nonnull(strstr(error->message, "both take physical address 0x0"));
}

/* vireo_image_relocate: the virtual layout at a new place, keeping the
 * lowest address's offset in its block; the entry and symbols follow. */
static void test_elf_relocate(void)
{
    ElfSpec spec = default_spec();
    g_autoptr(GBytes) bytes = NULL;
    g_autoptr(VireoImage) img = NULL;
    g_autoptr(GError) error = NULL;
    const VireoImageSegment *seg;
    guint n;
    uint64_t v;

    spec.entry = 0xffffffff80001040ull;
    spec.seg[0].addr = 0xffffffff80001000ull;
    spec.seg[1].addr = 0xffffffff80203000ull;
    spec.tohost = 0xffffffff80203000ull;
    spec.fromhost = 0xffffffff80203008ull;
    spec.paddr_zero = true;
    bytes = build_elf(&spec);
    img = parse(bytes, VIREO_IMAGE_AUTO, &error);
    g_assert_no_error(error);
    g_assert_false(vireo_image_within(img, RAM_BASE, 1ull << 40));
    vireo_image_relocate(img, 0x80400000, 2 << 20);
    g_assert_true(vireo_image_within(img, RAM_BASE, 1ull << 40));
    seg = vireo_image_segments(img, &n);
    g_assert_cmpuint(n, ==, 2);
    g_assert_cmphex(seg[0].addr, ==, 0x80401000);
    g_assert_cmphex(seg[1].addr, ==, 0x80603000);
    g_assert_cmphex(vireo_image_entry(img), ==, 0x80401040);
    g_assert_cmphex(vireo_image_low(img), ==, 0x80401000);
    g_assert_cmphex(vireo_image_high(img), ==, 0x80603010);
    g_assert_true(vireo_image_find_symbol(img, "fromhost", &v, &error));
    g_assert_cmphex(v, ==, 0x80603008);
    g_assert_true(vireo_image_check_ram(img, RAM_BASE, 16 << 20, &error));
    g_assert_no_error(error);
}

static void test_raw(void)
{
    g_autoptr(GBytes) bytes = g_bytes_new_static("\x13\x00\x00\x00", 4);
    g_autoptr(GBytes) empty = g_bytes_new_static("", 0);
    g_autoptr(GError) error = NULL;
    g_autoptr(VireoImage) img = parse(bytes, VIREO_IMAGE_AUTO, &error);

    g_assert_no_error(error);
    g_assert_false(vireo_image_is_elf(img));
    vireo_image_place(img, RAM_BASE + 0x200000, 0);
    g_assert_cmphex(vireo_image_entry(img), ==, RAM_BASE + 0x200000);
    g_assert_cmphex(vireo_image_high(img), ==, RAM_BASE + 0x200004);
    g_assert_cmpuint(vireo_image_kernel_footprint(img), ==, 4);
    /* A raw image placed past the end of RAM. */
    g_assert_false(vireo_image_check_ram(img, RAM_BASE, 0x200002, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    expect_format_error(empty, VIREO_IMAGE_AUTO, "empty");
}

static void test_raw_linux_header(void)
{
    guint8 header[64] = { 0 };
    g_autoptr(GBytes) bytes = NULL;
    g_autoptr(VireoImage) img = NULL;
    g_autoptr(GError) error = NULL;

    header[16 + 2] = 0x40; /* image_size 0x400000 */
    memcpy(header + 56, "RSC\x05", 4);
    bytes = g_bytes_new(header, sizeof header);
    img = parse(bytes, VIREO_IMAGE_AUTO, &error);
    g_assert_no_error(error);
    g_assert_cmphex(vireo_image_kernel_footprint(img), ==, 0x400000);
}

/* ---- Boot plans ------------------------------------------------------------ */

typedef struct {
    char *dir;
} TmpDir;

static char *write_file(TmpDir *t, const char *name, GBytes *bytes)
{
    char *path = g_build_filename(t->dir, name, NULL);
    g_autoptr(GError) error = NULL;

    g_assert_true(g_file_set_contents(path, g_bytes_get_data(bytes, NULL),
                                      (gssize)g_bytes_get_size(bytes), &error));
    return path;
}

static char *write_raw(TmpDir *t, const char *name, gsize size)
{
    g_autofree guint8 *data = g_malloc(size);
    g_autoptr(GBytes) bytes = NULL;

    memset(data, 0x13, size);
    bytes = g_bytes_new(data, size);
    return write_file(t, name, bytes);
}

static void tmp_setup(TmpDir *t, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    t->dir = g_dir_make_tmp("vireo-loader-XXXXXX", &error);
    g_assert_no_error(error);
}

static void tmp_teardown(TmpDir *t, gconstpointer data)
{
    g_autoptr(GDir) dir = g_dir_open(t->dir, 0, NULL);
    const char *name;

    while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
        g_autofree char *path = g_build_filename(t->dir, name, NULL);
        g_unlink(path);
    }
    g_rmdir(t->dir);
    g_free(t->dir);
}

/* Loading fails with `code` and a message containing `text`. */
static void expect_load_error(const char *path, VireoImageFormat format, uint64_t max_size,
                              VireoErrorCode code, const char *text)
{
    g_autoptr(GError) error = NULL;
    VireoImage *img = vireo_image_load(path, "the kernel", format, max_size, &error);

    g_assert_null(img);
    g_assert_error(error, VIREO_ERROR, (gint)code);
    if (strstr(error->message, text) == NULL) {
        g_error("“%s” does not mention “%s”", error->message, text);
    }
}

/* The peak resident size of this process in KiB. */
static long max_rss_kib(void)
{
    struct rusage ru;

    g_assert_cmpint(getrusage(RUSAGE_SELF, &ru), ==, 0);
    return ru.ru_maxrss;
}

/* Only regular files are read: a FIFO without a writer, a device that never
 * ends and a folder are refused before any read. The alarm fails the test
 * if opening the FIFO waits for a writer. */
static void test_load_not_regular(TmpDir *t, gconstpointer data)
{
    g_autofree char *fifo = g_build_filename(t->dir, "fifo", NULL);

    g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
    alarm(20);
    expect_load_error(fifo, VIREO_IMAGE_AUTO, 1 << 20, VIREO_ERROR_IO, "not a regular file");
    expect_load_error("/dev/zero", VIREO_IMAGE_RAW, 1 << 20, VIREO_ERROR_IO, "not a regular file");
    expect_load_error(t->dir, VIREO_IMAGE_AUTO, 1 << 20, VIREO_ERROR_IO, "folder");
    alarm(0);
}

/* A file larger than the RAM it must fit in is refused from its size alone:
 * a 4 GiB sparse raw image, and an ELF file whose one segment claims 3 GiB of
 * file data, take no memory and no time. */
static void test_load_too_large(TmpDir *t, gconstpointer data)
{
    g_autofree char *raw = g_build_filename(t->dir, "sparse.bin", NULL);
    g_autofree char *elf_path = NULL;
    ElfSpec spec = default_spec();
    g_autoptr(GBytes) elf = NULL;
    gint64 start = g_get_monotonic_time();
    long rss = max_rss_kib();
    int fd;

    fd = g_open(raw, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, 4ll << 30), ==, 0);
    close(fd);
    expect_load_error(raw, VIREO_IMAGE_RAW, 256 << 20, VIREO_ERROR_CONFIG,
                      "Not enough RAM for the kernel");
    expect_load_error(raw, VIREO_IMAGE_AUTO, 256 << 20, VIREO_ERROR_CONFIG, "it is 4.0");

    /* One segment of 3 GiB in the file: the headers, then a hole. */
    spec.n_seg = 1;
    spec.symbols = false;
    spec.seg[0].file_size = 0x100;
    elf = build_elf(&spec);
    {
        g_autoptr(GByteArray) b = g_byte_array_new();
        g_byte_array_append(b, g_bytes_get_data(elf, NULL), (guint)g_bytes_get_size(elf));
        put64(b, 64 + 32, 3ull << 30); /* p_filesz */
        put64(b, 64 + 40, 3ull << 30); /* p_memsz */
        elf_path = g_build_filename(t->dir, "big.elf", NULL);
        g_assert_true(g_file_set_contents(elf_path, (const char *)b->data, b->len, NULL));
    }
    fd = g_open(elf_path, O_WRONLY, 0);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, 3ll << 31), ==, 0);
    close(fd);
    expect_load_error(elf_path, VIREO_IMAGE_AUTO, 256 << 20, VIREO_ERROR_CONFIG,
                      "its segments hold 3.0");

    /* Nothing was read: no time to speak of, no memory. */
    g_assert_cmpint(g_get_monotonic_time() - start, <, 2 * G_USEC_PER_SEC);
    g_assert_cmpint(max_rss_kib() - rss, <, 64 * 1024);
}

/* Of an ELF file only the segments and the symbol table are read: a file
 * with a large hole between them loads with little memory. */
static void test_load_elf_parts(TmpDir *t, gconstpointer data)
{
    ElfSpec spec = default_spec();
    g_autoptr(GBytes) elf = build_elf(&spec);
    g_autoptr(GByteArray) b = g_byte_array_new();
    g_autofree char *path = g_build_filename(t->dir, "holey.elf", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(VireoImage) img = NULL;
    const guint64 hole = 1ull << 30;
    gsize size = g_bytes_get_size(elf), shoff, first;
    long rss = max_rss_kib();
    guint n;
    const VireoImageSegment *seg;
    uint64_t v;
    int fd;

    /* The same file with 1 GiB of nothing inserted before the string and
     * symbol tables (build_elf puts them after the segments' data), which
     * move up by as much, with the section headers. */
    g_byte_array_append(b, g_bytes_get_data(elf, NULL), (guint)size);
    shoff = (gsize)read64(b, 40);
    first = (gsize)MIN(read64(b, shoff + 64 + 24), read64(b, shoff + 128 + 24));
    g_assert_cmpuint(first, ==, 64 + 2 * 56 + 0x100 + 0x10);
    for (unsigned i = 1; i < 3; i++) {
        put64(b, shoff + 64 * i + 24, read64(b, shoff + 64 * i + 24) + hole);
    }
    put64(b, 40, shoff + hole);
    fd = g_open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pwrite(fd, b->data, first, 0), ==, (gssize)first);
    g_assert_cmpint(pwrite(fd, b->data + first, size - first, (off_t)(first + hole)), ==,
                    (gssize)(size - first));
    close(fd);

    img = vireo_image_load(path, "the test program", VIREO_IMAGE_ELF, 256 << 20, &error);
    g_assert_no_error(error);
    seg = vireo_image_segments(img, &n);
    g_assert_cmpuint(n, ==, 2);
    g_assert_cmphex(seg[0].addr, ==, RAM_BASE);
    g_assert_true(vireo_image_find_symbol(img, "tohost", &v, &error));
    g_assert_no_error(error);
    g_assert_cmphex(v, ==, RAM_BASE + 0x2000);
    g_assert_cmpint(max_rss_kib() - rss, <, 64 * 1024);
}

static VireoVirtConfig base_config(void)
{
    VireoVirtConfig c = { .ram_size = 256ull << 20, .n_harts = 1 };
    return c;
}

static void expect_config_error(const VireoVirtConfig *c, VireoErrorCode code, const char *text)
{
    g_autoptr(GError) error = NULL;
    VireoVirtBoot *boot = vireo_virt_boot_new(c, &error);

    g_assert_null(boot);
    g_assert_error(error, VIREO_ERROR, (gint)code);
    if (strstr(error->message, text) == NULL) {
        g_error("“%s” does not mention “%s”", error->message, text);
    }
}

static uint64_t rom_dword(GBytes *rom, unsigned off)
{
    uint64_t v;
    memcpy(&v, (const guint8 *)g_bytes_get_data(rom, NULL) + off, 8);
    return GUINT64_FROM_LE(v);
}

static void test_plan_firmware_kernel_initrd(TmpDir *t, gconstpointer data)
{
    g_autofree char *fw = write_raw(t, "fw.bin", 100000);
    g_autofree char *kernel = write_raw(t, "kernel.bin", 700000);
    g_autofree char *initrd = write_raw(t, "initrd.img", 3000000);
    VireoVirtConfig c = base_config();
    g_autoptr(GError) error = NULL;
    g_autoptr(VireoVirtBoot) boot = NULL;
    uint64_t start, end, fdt_addr;
    GBytes *fdt;
    const void *tree;
    int chosen;

    c.firmware = fw;
    c.kernel = kernel;
    c.initrd = initrd;
    c.cmdline = "console=ttyS0";
    boot = vireo_virt_boot_new(&c, &error);
    g_assert_no_error(error);
    g_assert_cmphex(vireo_virt_boot_get_entry(boot), ==, RAM_BASE);
    g_assert_cmphex(vireo_virt_boot_get_next_addr(boot), ==, 0x80200000);
    g_assert_true(vireo_virt_boot_get_kernel(boot, &start, &end));
    g_assert_cmphex(start, ==, 0x80200000);
    g_assert_cmphex(end, ==, 0x80200000 + 700000);
    /* The device tree 2 MiB-aligned near the top of the 256 MiB. */
    fdt_addr = vireo_virt_boot_get_fdt_addr(boot);
    g_assert_cmphex(fdt_addr, ==, 0x8fe00000);
    /* The initrd right below it, page-aligned. */
    g_assert_true(vireo_virt_boot_get_initrd(boot, &start, &end));
    g_assert_cmphex(start % 4096, ==, 0);
    g_assert_cmphex(end - start, ==, 3000000);
    g_assert_cmphex(end, <=, fdt_addr);
    g_assert_cmphex(fdt_addr - end, <, 4096);
    /* The tree names them. */
    fdt = vireo_virt_boot_get_fdt(boot);
    tree = g_bytes_get_data(fdt, NULL);
    chosen = fdt_path_offset(tree, "/chosen");
    g_assert_cmpint(chosen, >=, 0);
    g_assert_cmphex(
        fdt64_ld((const fdt64_t *)fdt_getprop(tree, chosen, "linux,initrd-start", NULL)), ==,
        start);
    g_assert_cmphex(fdt64_ld((const fdt64_t *)fdt_getprop(tree, chosen, "linux,initrd-end", NULL)),
                    ==, end);
    g_assert_cmpstr(fdt_getprop(tree, chosen, "bootargs", NULL), ==, "console=ttyS0");
    /* The ROM jumps to the firmware with the tree and the kernel's address. */
    g_assert_cmphex(rom_dword(vireo_virt_boot_get_rom(boot), VIREO_VIRT_ROM_ENTRY_SLOT), ==,
                    RAM_BASE);
    g_assert_cmphex(rom_dword(vireo_virt_boot_get_rom(boot), VIREO_VIRT_ROM_FDT_SLOT), ==,
                    fdt_addr);
    g_assert_cmphex(rom_dword(vireo_virt_boot_get_rom(boot), VIREO_VIRT_ROM_INFO + 16), ==,
                    0x80200000);

    /* Loading puts everything in guest memory. */
    {
        VireoBus *bus = vireo_bus_new();
        guint8 rom[VIREO_VIRT_ROM_SIZE];
        uint64_t v;
        g_assert_nonnull(vireo_bus_add_ram(bus, RAM_BASE, c.ram_size, &error));
        g_assert_true(vireo_bus_add_rom(bus, "mrom", 0x1000, 0xf000, NULL, 0, &error));
        g_assert_true(vireo_virt_boot_load(boot, bus, &error));
        g_assert_no_error(error);
        g_assert_true(vireo_bus_read_block(bus, 0x1000, rom, sizeof rom, &error));
        g_assert_cmpmem(rom, sizeof rom, g_bytes_get_data(vireo_virt_boot_get_rom(boot), NULL),
                        VIREO_VIRT_ROM_SIZE);
        g_assert_cmpint(fdt_check_header(vireo_bus_host_ptr(bus, fdt_addr, 64, false)), ==, 0);
        g_assert_true(vireo_bus_read(bus, 0x80200000, 4, &v));
        g_assert_cmphex(v, ==, 0x13131313);
        g_assert_true(vireo_bus_read(bus, start, 4, &v));
        g_assert_cmphex(v, ==, 0x13131313);
        vireo_bus_free(bus);
    }
}

static void test_plan_kernel_only(TmpDir *t, gconstpointer data)
{
    g_autofree char *kernel = write_raw(t, "kernel.bin", 4096);
    VireoVirtConfig c = base_config();
    g_autoptr(GError) error = NULL;
    g_autoptr(VireoVirtBoot) boot = NULL;

    c.kernel = kernel;
    c.ram_size = 4ull << 30;
    boot = vireo_virt_boot_new(&c, &error);
    g_assert_no_error(error);
    /* Without firmware the kernel starts at RAM's base, in M-mode. */
    g_assert_cmphex(vireo_virt_boot_get_entry(boot), ==, RAM_BASE);
    /* With 4 GiB, the tree stays below RAM base + 3 GiB. */
    g_assert_cmphex(vireo_virt_boot_get_fdt_addr(boot), ==, 0x13fe00000);
    g_assert_false(vireo_virt_boot_get_initrd(boot, &(uint64_t){ 0 }, &(uint64_t){ 0 }));
}

static void test_plan_elf_firmware(TmpDir *t, gconstpointer data)
{
    ElfSpec spec = default_spec();
    g_autoptr(GBytes) elf = NULL;
    g_autofree char *fw = NULL;
    g_autofree char *kernel = write_raw(t, "kernel.bin", 4096);
    VireoVirtConfig c = base_config();
    g_autoptr(GError) error = NULL;
    g_autoptr(VireoVirtBoot) boot = NULL;
    uint64_t start, end;

    /* A firmware reaching past 0x80200000 pushes the kernel to the next
     * 2 MiB boundary. */
    spec.entry = RAM_BASE + 0x40;
    spec.seg[1].addr = RAM_BASE + 0x300000;
    elf = build_elf(&spec);
    fw = write_file(t, "fw.elf", elf);
    c.firmware = fw;
    c.kernel = kernel;
    boot = vireo_virt_boot_new(&c, &error);
    g_assert_no_error(error);
    g_assert_cmphex(vireo_virt_boot_get_entry(boot), ==, RAM_BASE + 0x40);
    g_assert_true(vireo_virt_boot_get_kernel(boot, &start, &end));
    g_assert_cmphex(start, ==, 0x80400000);
    g_assert_cmphex(vireo_virt_boot_get_next_addr(boot), ==, 0x80400000);
}

static void test_plan_overlap(TmpDir *t, gconstpointer data)
{
    ElfSpec fw_spec = default_spec(), k_spec = default_spec();
    g_autoptr(GBytes) fw_elf = NULL, k_elf = NULL;
    g_autofree char *fw = NULL, *kernel = NULL;
    VireoVirtConfig c = base_config();

    fw_spec.seg[1].addr = 0x80200000;
    fw_spec.seg[1].mem_size = 0x10000;
    k_spec.entry = 0x80200800;
    k_spec.seg[0].addr = 0x80200800;
    k_spec.seg[1].addr = 0x80300000;
    fw_elf = build_elf(&fw_spec);
    k_elf = build_elf(&k_spec);
    fw = write_file(t, "fw.elf", fw_elf);
    kernel = write_file(t, "kernel.elf", k_elf);
    c.firmware = fw;
    c.kernel = kernel;
    expect_config_error(&c, VIREO_ERROR_CONFIG, "overlap");
}

static void test_plan_too_large(TmpDir *t, gconstpointer data)
{
    g_autofree char *big = write_raw(t, "big.bin", 3u << 20);
    g_autofree char *small = write_raw(t, "small.bin", 4096);
    VireoVirtConfig c = base_config();

    /* A raw firmware larger than RAM. */
    c.ram_size = 2u << 20;
    c.firmware = big;
    expect_config_error(&c, VIREO_ERROR_CONFIG, "Not enough RAM for the firmware");

    /* The kernel's address (0x80200000) is past a 2 MiB RAM. */
    c.firmware = small;
    c.kernel = small;
    expect_config_error(&c, VIREO_ERROR_CONFIG, "Not enough RAM for the kernel");

    /* No room for the device tree above a kernel that fills RAM. */
    c.ram_size = 4u << 20;
    c.firmware = NULL;
    c.kernel = big;
    expect_config_error(&c, VIREO_ERROR_CONFIG, "Not enough RAM for the device tree");

    /* An initrd that does not fit between the kernel and the tree. */
    c.ram_size = 6u << 20;
    c.kernel = small;
    c.firmware = small;
    c.initrd = big;
    expect_config_error(&c, VIREO_ERROR_CONFIG, "Not enough RAM for the initrd");
    c.ram_size = 16u << 20;
    {
        g_autoptr(GError) error = NULL;
        g_autoptr(VireoVirtBoot) boot = vireo_virt_boot_new(&c, &error);
        g_assert_no_error(error);
        g_assert_nonnull(boot);
    }
}

static void test_plan_bad_config(TmpDir *t, gconstpointer data)
{
    g_autofree char *small = write_raw(t, "small.bin", 4096);
    g_autofree char *missing = g_build_filename(t->dir, "missing.bin", NULL);
    VireoVirtConfig c = base_config();

    expect_config_error(&c, VIREO_ERROR_CONFIG, "Nothing to boot");
    c.kernel = missing;
    expect_config_error(&c, VIREO_ERROR_IO, "missing.bin");
    c.kernel = small;
    c.n_harts = 0;
    expect_config_error(&c, VIREO_ERROR_CONFIG, "harts");
    c.n_harts = 65;
    expect_config_error(&c, VIREO_ERROR_CONFIG, "harts");
    c.n_harts = 1;
    c.ram_size = (64u << 20) + 1;
    expect_config_error(&c, VIREO_ERROR_CONFIG, "RAM");
    c.ram_size = 1u << 20;
    expect_config_error(&c, VIREO_ERROR_CONFIG, "RAM");
    c.ram_size = 64u << 20;
    c.test_elf = small;
    expect_config_error(&c, VIREO_ERROR_CONFIG, "alone");
    c.test_elf = NULL;
    c.kernel = NULL;
    c.firmware = small;
    c.initrd = small;
    expect_config_error(&c, VIREO_ERROR_CONFIG, "initrd");
}

/* A kernel linked like Linux's vmlinux: virtual addresses at
 * 0xffffffff80000000 and physical ones of 0 (p_paddr = p_vaddr - the link
 * address), or the same as the virtual ones. It goes where a raw kernel
 * would: after the firmware at the 2 MiB boundary, or at RAM's base without
 * firmware; its entry follows it into the reset ROM's next_addr. */
static void test_plan_vmlinux(TmpDir *t, gconstpointer data)
{
    const uint64_t link = 0xffffffff80000000ull;
    g_autofree char *fw = write_raw(t, "fw.bin", 100000);
    g_autofree char *big_fw = write_raw(t, "big-fw.bin", 0x280000);
    const uint64_t deltas[] = { 0x80000000ull /* p_paddr = p_vaddr - link */, 0 };

    for (unsigned d = 0; d < G_N_ELEMENTS(deltas); d++) {
        ElfSpec spec = default_spec();
        g_autoptr(GBytes) elf = NULL;
        g_autofree char *kernel = NULL;
        VireoVirtConfig c = base_config();
        g_autoptr(GError) error = NULL;
        g_autoptr(VireoVirtBoot) boot = NULL;
        uint64_t start, end, v;

        spec.symbols = false;
        spec.entry = link;
        spec.seg[0] = (TestSegment){ link, 0x100, 0x1000, 0xaa };
        spec.seg[1] = (TestSegment){ link + 0x3000, 0x10, 0x2000, 0xbb };
        spec.paddr_delta = deltas[d];
        elf = build_elf(&spec);
        kernel = write_file(t, "vmlinux", elf);

        c.firmware = fw;
        c.kernel = kernel;
        c.cmdline = "console=ttyS0";
        boot = vireo_virt_boot_new(&c, &error);
        g_assert_no_error(error);
        g_assert_true(vireo_virt_boot_get_kernel(boot, &start, &end));
        g_assert_cmphex(start, ==, 0x80200000);
        g_assert_cmphex(end, ==, 0x80205000);
        g_assert_cmphex(vireo_virt_boot_get_next_addr(boot), ==, 0x80200000);
        g_assert_cmphex(rom_dword(vireo_virt_boot_get_rom(boot), VIREO_VIRT_ROM_INFO + 16), ==,
                        0x80200000);
        {
            VireoBus *bus = vireo_bus_new();
            g_assert_nonnull(vireo_bus_add_ram(bus, RAM_BASE, c.ram_size, &error));
            g_assert_true(vireo_bus_add_rom(bus, "mrom", 0x1000, 0xf000, NULL, 0, &error));
            memset(vireo_bus_host_ptr(bus, 0x80203000, 0x2000, true), 0x55, 0x2000);
            g_assert_true(vireo_virt_boot_load(boot, bus, &error));
            g_assert_no_error(error);
            g_assert_true(vireo_bus_read(bus, 0x80200000, 8, &v));
            g_assert_cmphex(v, ==, 0xaaaaaaaaaaaaaaaaull);
            g_assert_true(vireo_bus_read(bus, 0x80203008, 8, &v));
            g_assert_cmphex(v, ==, 0xbbbbbbbbbbbbbbbbull);
            g_assert_true(vireo_bus_read(bus, 0x80203010, 8, &v));
            g_assert_cmphex(v, ==, 0); /* the second segment's bss */
            vireo_bus_free(bus);
        }
        g_clear_pointer(&boot, vireo_virt_boot_free);

        /* A firmware reaching past 0x80200000 pushes it to 0x80400000. */
        c.firmware = big_fw;
        boot = vireo_virt_boot_new(&c, &error);
        g_assert_no_error(error);
        g_assert_true(vireo_virt_boot_get_kernel(boot, &start, &end));
        g_assert_cmphex(start, ==, 0x80400000);
        g_assert_cmphex(vireo_virt_boot_get_next_addr(boot), ==, 0x80400000);
        g_clear_pointer(&boot, vireo_virt_boot_free);

        /* Without firmware, at RAM's base, where the harts start. */
        c.firmware = NULL;
        boot = vireo_virt_boot_new(&c, &error);
        g_assert_no_error(error);
        g_assert_cmphex(vireo_virt_boot_get_entry(boot), ==, RAM_BASE);
        g_clear_pointer(&boot, vireo_virt_boot_free);

        /* Too large for RAM where it goes. */
        c.firmware = fw;
        c.ram_size = 2u << 20;
        expect_config_error(&c, VIREO_ERROR_CONFIG, "Not enough RAM for the kernel");
    }
}

/* Only a kernel is moved: an ELF kernel whose physical addresses are where
 * the board's RAM is keeps them (and fits or not), and firmware or a test
 * program outside RAM is an error. */
static void test_plan_elf_in_place(TmpDir *t, gconstpointer data)
{
    ElfSpec spec = default_spec();
    g_autoptr(GBytes) high = NULL, zero = NULL;
    g_autofree char *high_path = NULL, *zero_path = NULL;
    g_autofree char *fw = write_raw(t, "fw.bin", 4096);
    VireoVirtConfig c = base_config();

    spec.entry = 0x90000000;
    spec.seg[0].addr = 0x90000000;
    spec.seg[1].addr = 0x90002000;
    high = build_elf(&spec);
    high_path = write_file(t, "high.elf", high);
    c.firmware = fw;
    c.kernel = high_path;
    expect_config_error(&c, VIREO_ERROR_CONFIG, "it needs 0x90000000-");
    c.ram_size = 512u << 20;
    {
        g_autoptr(GError) error = NULL;
        g_autoptr(VireoVirtBoot) boot = vireo_virt_boot_new(&c, &error);
        uint64_t start, end;
        g_assert_no_error(error);
        g_assert_true(vireo_virt_boot_get_kernel(boot, &start, &end));
        g_assert_cmphex(start, ==, 0x90000000);
        g_assert_cmphex(vireo_virt_boot_get_next_addr(boot), ==, 0x90000000);
    }

    spec = default_spec();
    spec.paddr_delta = (uint64_t)0 - RAM_BASE; /* p_paddr 0 and 0x2000 */
    zero = build_elf(&spec);
    zero_path = write_file(t, "zero.elf", zero);
    c = base_config();
    c.firmware = zero_path;
    expect_config_error(&c, VIREO_ERROR_FORMAT, "The firmware");
    expect_config_error(&c, VIREO_ERROR_FORMAT, "outside RAM");
    c.firmware = NULL;
    c.test_elf = zero_path;
    expect_config_error(&c, VIREO_ERROR_FORMAT, "outside RAM");
}

static void test_plan_test_mode(TmpDir *t, gconstpointer data)
{
    ElfSpec spec = default_spec();
    g_autoptr(GBytes) elf = NULL, nosym = NULL;
    g_autofree char *path = NULL, *nosym_path = NULL, *raw = write_raw(t, "raw.bin", 4096);
    VireoVirtConfig c = base_config();
    g_autoptr(GError) error = NULL;
    g_autoptr(VireoVirtBoot) boot = NULL;
    uint64_t tohost, fromhost;

    spec.entry = RAM_BASE + 0x10;
    elf = build_elf(&spec);
    path = write_file(t, "test.elf", elf);
    c.test_elf = path;
    boot = vireo_virt_boot_new(&c, &error);
    g_assert_no_error(error);
    g_assert_true(vireo_virt_boot_is_test(boot));
    g_assert_cmphex(vireo_virt_boot_get_entry(boot), ==, RAM_BASE + 0x10);
    vireo_virt_boot_get_htif(boot, &tohost, &fromhost);
    g_assert_cmphex(tohost, ==, RAM_BASE + 0x2000);
    g_assert_cmphex(fromhost, ==, RAM_BASE + 0x2008);

    spec.symbols = false;
    nosym = build_elf(&spec);
    nosym_path = write_file(t, "nosym.elf", nosym);
    c.test_elf = nosym_path;
    expect_config_error(&c, VIREO_ERROR_FORMAT, "symbol table");
    /* A test program must be an ELF file. */
    c.test_elf = raw;
    expect_config_error(&c, VIREO_ERROR_FORMAT, "bad magic");
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/loader/elf/valid", test_elf_valid);
    g_test_add_func("/loader/elf/no-symbols", test_elf_no_symbols);
    g_test_add_func("/loader/elf/truncated", test_elf_truncated);
    g_test_add_func("/loader/elf/bad-magic", test_elf_bad_magic);
    g_test_add_func("/loader/elf/wrong-class", test_elf_wrong_class);
    g_test_add_func("/loader/elf/wrong-machine", test_elf_wrong_machine);
    g_test_add_func("/loader/elf/bad-segments", test_elf_bad_segments);
    g_test_add_func("/loader/elf/outside-ram", test_elf_outside_ram);
    g_test_add_func("/loader/elf/inconsistent", test_elf_inconsistent);
    g_test_add_func("/loader/elf/relocate", test_elf_relocate);
    g_test_add_func("/loader/raw", test_raw);
    g_test_add_func("/loader/raw-linux-header", test_raw_linux_header);
#define ADD(name, func) g_test_add(name, TmpDir, NULL, tmp_setup, func, tmp_teardown)
    ADD("/loader/plan/firmware-kernel-initrd", test_plan_firmware_kernel_initrd);
    ADD("/loader/plan/kernel-only", test_plan_kernel_only);
    ADD("/loader/plan/elf-firmware", test_plan_elf_firmware);
    ADD("/loader/plan/overlap", test_plan_overlap);
    ADD("/loader/plan/too-large", test_plan_too_large);
    ADD("/loader/plan/bad-config", test_plan_bad_config);
    ADD("/loader/plan/test-mode", test_plan_test_mode);
    ADD("/loader/plan/vmlinux", test_plan_vmlinux);
    ADD("/loader/plan/elf-in-place", test_plan_elf_in_place);
    ADD("/loader/load/not-regular", test_load_not_regular);
    ADD("/loader/load/too-large", test_load_too_large);
    ADD("/loader/load/elf-parts", test_load_elf_parts);
#undef ADD
    return g_test_run();
}

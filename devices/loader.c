/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "devices/loader.h"
#include "engine/error.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef EM_RISCV
#define EM_RISCV 243
#endif

/* Sizes of the ELF64 structures as the file stores them. */
#define EHDR_SIZE 64
#define PHDR_SIZE 56
#define SHDR_SIZE 64
#define SYM_SIZE  24

/* What the image keeps of an ELF file's symbol table. */
typedef enum {
    SYMTAB_NONE,
    SYMTAB_READ,
    SYMTAB_MALFORMED,
} SymtabState;

struct VireoImage {
    char *name;    /* the file, for messages */
    char *what;    /* "the kernel", for messages */
    GBytes *bytes; /* raw: the file; ELF: its segments' data, one after another */
    const guint8 *data;
    gsize size; /* of the file */
    bool elf;
    uint64_t entry;     /* ELF: e_entry, a virtual address */
    GArray *segments;   /* VireoImageSegment; offsets are into `data` */
    uint64_t footprint; /* raw: the memory it takes from its load address */
    SymtabState symtab_state;
    GBytes *symtab, *strtab; /* ELF: the symbol table and its strings */
};

/* Where an image's bytes come from: a file in memory, or an open file read
 * piece by piece, so that only what is loaded is ever read. */
typedef struct {
    const guint8 *data; /* NULL: read `fd` */
    int fd;
    uint64_t size;
} Source;

static uint16_t rd16(const guint8 *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t rd32(const guint8 *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint64_t rd64(const guint8 *p)
{
    return (uint64_t)rd32(p) | ((uint64_t)rd32(p + 4) << 32);
}

/* Whether [offset, offset + len) lies inside a file of `size` bytes. */
static bool in_file(gsize size, uint64_t offset, uint64_t len)
{
    return offset <= size && len <= size - offset;
}

static void image_free_contents(VireoImage *img)
{
    g_free(img->name);
    g_free(img->what);
    g_clear_pointer(&img->bytes, g_bytes_unref);
    g_clear_pointer(&img->symtab, g_bytes_unref);
    g_clear_pointer(&img->strtab, g_bytes_unref);
    if (img->segments != NULL) {
        g_array_free(img->segments, TRUE);
    }
}

void vireo_image_free(VireoImage *image)
{
    if (image == NULL) {
        return;
    }
    image_free_contents(image);
    g_free(image);
}

#define FORMAT_ERROR(error, img, ...) format_error(error, img, g_strdup_printf(__VA_ARGS__))

/* `what` with its first letter capitalised, to start a sentence. */
static char *capitalised(const char *what)
{
    char *s = g_strdup(what);

    if (s[0] != '\0') {
        s[0] = g_ascii_toupper(s[0]);
    }
    return s;
}

/* "<What> “<name>” <problem>"; takes `problem`. */
static bool format_error(GError **error, const VireoImage *img, char *problem)
{
    g_autofree char *what = capitalised(img->what);

    g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT, "%s “%s” %s", what, img->name, problem);
    g_free(problem);
    return false;
}

/* Reads [offset, offset + len) of the source, which the caller has checked
 * lies inside it. */
static bool source_read(const Source *src, const VireoImage *img, uint64_t offset, void *buf,
                        gsize len, GError **error)
{
    guint8 *p = buf;

    if (src->data != NULL) {
        memcpy(buf, src->data + offset, len);
        return true;
    }
    while (len > 0) {
        ssize_t n = pread(src->fd, p, MIN(len, (gsize)1 << 30), (off_t)offset);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            int err = errno;
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "Cannot read %s “%s”: %s", img->what,
                        img->name, g_strerror(err));
            return false;
        }
        if (n == 0) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO,
                        "Cannot read %s “%s”: it became shorter while it was read", img->what,
                        img->name);
            return false;
        }
        p += n;
        offset += (uint64_t)n;
        len -= (gsize)n;
    }
    return true;
}

/* [offset, offset + len) of the source as a new buffer. */
static guint8 *source_dup(const Source *src, const VireoImage *img, uint64_t offset, gsize len,
                          GError **error)
{
    guint8 *buf = g_malloc(MAX(len, 1));

    if (!source_read(src, img, offset, buf, len, error)) {
        g_free(buf);
        return NULL;
    }
    return buf;
}

static bool too_large(GError **error, const VireoImage *img, const char *part, uint64_t size,
                      uint64_t max_size)
{
    g_autofree char *have = g_format_size_full(size, G_FORMAT_SIZE_IEC_UNITS);
    g_autofree char *room = g_format_size_full(max_size, G_FORMAT_SIZE_IEC_UNITS);

    g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                "Not enough RAM for %s “%s”: %s %s and RAM has room for %s", img->what, img->name,
                part, have, room);
    return false;
}

/* The first symbol table and its string table, from the section headers
 * `sh` (`shnum` of them). A table that does not make sense is remembered,
 * and reported only when a symbol is looked up. */
static bool read_symtab(VireoImage *img, const Source *src, const guint8 *sh, guint shnum,
                        uint64_t max_size, GError **error)
{
    for (guint i = 0; i < shnum; i++) {
        const guint8 *s = sh + (uint64_t)i * SHDR_SIZE;
        uint64_t off, size, str_off, str_size;
        uint32_t link;
        const guint8 *strsh;
        guint8 *buf;

        if (rd32(s + 4) != SHT_SYMTAB) {
            continue;
        }
        off = rd64(s + 24);
        size = rd64(s + 32);
        link = rd32(s + 40);
        if (rd64(s + 56) != SYM_SIZE || !in_file(src->size, off, size) || link >= shnum) {
            img->symtab_state = SYMTAB_MALFORMED;
            return true;
        }
        strsh = sh + (uint64_t)link * SHDR_SIZE;
        str_off = rd64(strsh + 24);
        str_size = rd64(strsh + 32);
        if (rd32(strsh + 4) != SHT_STRTAB || !in_file(src->size, str_off, str_size)) {
            img->symtab_state = SYMTAB_MALFORMED;
            return true;
        }
        if (size + str_size > max_size) {
            return too_large(error, img, "its symbol table takes", size + str_size, max_size);
        }
        buf = source_dup(src, img, off, (gsize)size, error);
        if (buf == NULL) {
            return false;
        }
        img->symtab = g_bytes_new_take(buf, (gsize)size);
        buf = source_dup(src, img, str_off, (gsize)str_size, error);
        if (buf == NULL) {
            return false;
        }
        img->strtab = g_bytes_new_take(buf, (gsize)str_size);
        img->symtab_state = SYMTAB_READ;
        return true;
    }
    return true;
}

/* The address in memory of virtual address `v`, through the segment that
 * holds it. */
static bool virt_to_phys(const VireoImage *img, uint64_t v, uint64_t *addr)
{
    for (guint i = 0; i < img->segments->len; i++) {
        const VireoImageSegment *s = &g_array_index(img->segments, VireoImageSegment, i);
        if (v - s->vaddr < s->mem_size) {
            *addr = v - s->vaddr + s->addr;
            return true;
        }
    }
    return false;
}

typedef struct {
    uint64_t start, last;
    guint index;
} Range;

static int compare_ranges(gconstpointer a, gconstpointer b)
{
    const Range *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* The last address of `size` (> 0) bytes at `start`, saturated at the top
 * of the address space: a relocated segment may run past it. */
static uint64_t last_address(uint64_t start, uint64_t size)
{
    return size - 1 > G_MAXUINT64 - start ? G_MAXUINT64 : start + size - 1;
}

/* Fails when two segments share an address: virtual ones (`virtual`) or
 * where they are loaded. */
static bool check_overlap(const VireoImage *img, bool virtual, GError **error)
{
    guint n = img->segments->len;
    g_autofree Range *r = g_new(Range, n);

    for (guint i = 0; i < n; i++) {
        const VireoImageSegment *s = &g_array_index(img->segments, VireoImageSegment, i);
        uint64_t start = virtual ? s->vaddr : s->addr;
        r[i] = (Range){ start, last_address(start, s->mem_size), i };
    }
    qsort(r, n, sizeof *r, compare_ranges);
    for (guint i = 1; i < n; i++) {
        if (r[i].start <= r[i - 1].last) {
            return FORMAT_ERROR(error, img,
                                "has overlapping segments: %u and %u both take %s address "
                                "0x%" G_GINT64_MODIFIER "x",
                                MIN(r[i - 1].index, r[i].index), MAX(r[i - 1].index, r[i].index),
                                virtual ? "virtual" : "physical", r[i].start);
        }
    }
    return true;
}

/* Checks the ELF headers and reads what is loaded: the PT_LOAD segments'
 * file data (at most `max_size` bytes) and the symbol table. */
static bool parse_elf(VireoImage *img, const Source *src, uint64_t max_size, GError **error)
{
    guint8 d[EHDR_SIZE];
    g_autofree guint8 *ph_table = NULL;
    g_autofree guint8 *sh_table = NULL;
    uint16_t type, machine, phentsize, phnum, shentsize, shnum;
    uint64_t phoff, shoff, total = 0;
    guint8 *data;

    if (!source_read(src, img, 0, d, (gsize)MIN(src->size, (uint64_t)EHDR_SIZE), error)) {
        return false;
    }
    if (src->size < SELFMAG || memcmp(d, ELFMAG, SELFMAG) != 0) {
        return FORMAT_ERROR(error, img, "is not an ELF file (bad magic number)");
    }
    if (src->size < EHDR_SIZE) {
        return FORMAT_ERROR(error, img, "is truncated: its ELF header is incomplete");
    }
    if (d[EI_CLASS] == ELFCLASS32) {
        return FORMAT_ERROR(error, img, "is a 32-bit ELF file; a 64-bit RISC-V image is needed");
    }
    if (d[EI_CLASS] != ELFCLASS64) {
        return FORMAT_ERROR(error, img, "has an unknown ELF class %u", d[EI_CLASS]);
    }
    if (d[EI_DATA] != ELFDATA2LSB) {
        return FORMAT_ERROR(error, img, "is not a little-endian ELF file");
    }
    if (d[EI_VERSION] != EV_CURRENT) {
        return FORMAT_ERROR(error, img, "has an unknown ELF version %u", d[EI_VERSION]);
    }
    type = rd16(d + 16);
    machine = rd16(d + 18);
    if (machine != EM_RISCV) {
        return FORMAT_ERROR(
            error, img, "is an ELF file for another machine (e_machine %u), not RISC-V", machine);
    }
    if (type != ET_EXEC && type != ET_DYN) {
        return FORMAT_ERROR(error, img, "is not an executable ELF file (e_type %u)", type);
    }
    img->entry = rd64(d + 24);
    phoff = rd64(d + 32);
    shoff = rd64(d + 40);
    phentsize = rd16(d + 54);
    phnum = rd16(d + 56);
    shentsize = rd16(d + 58);
    shnum = rd16(d + 60);

    if (phnum == 0) {
        return FORMAT_ERROR(error, img, "has no program headers");
    }
    if (phnum == PN_XNUM) {
        return FORMAT_ERROR(error, img, "has too many program headers");
    }
    if (phentsize != PHDR_SIZE) {
        return FORMAT_ERROR(error, img, "has program headers of an unexpected size (%u bytes)",
                            phentsize);
    }
    if (!in_file(src->size, phoff, (uint64_t)phnum * PHDR_SIZE)) {
        return FORMAT_ERROR(error, img, "is truncated: its program headers lie past its end");
    }
    if (shnum != 0) {
        if (shentsize != SHDR_SIZE) {
            return FORMAT_ERROR(error, img, "has section headers of an unexpected size (%u bytes)",
                                shentsize);
        }
        if (!in_file(src->size, shoff, (uint64_t)shnum * SHDR_SIZE)) {
            return FORMAT_ERROR(error, img, "is truncated: its section headers lie past its end");
        }
    }

    ph_table = source_dup(src, img, phoff, (gsize)phnum * PHDR_SIZE, error);
    if (ph_table == NULL) {
        return false;
    }
    for (guint i = 0; i < phnum; i++) {
        const guint8 *ph = ph_table + (gsize)i * PHDR_SIZE;
        VireoImageSegment seg;

        if (rd32(ph) != PT_LOAD) {
            continue;
        }
        seg.offset = rd64(ph + 8);
        seg.vaddr = rd64(ph + 16);
        seg.addr = rd64(ph + 24);
        seg.file_size = rd64(ph + 32);
        seg.mem_size = rd64(ph + 40);
        if (seg.mem_size == 0) {
            continue;
        }
        if (seg.file_size > seg.mem_size) {
            return FORMAT_ERROR(error, img, "has a segment (%u) larger in the file than in memory",
                                i);
        }
        if (!in_file(src->size, seg.offset, seg.file_size)) {
            return FORMAT_ERROR(error, img, "is truncated: segment %u lies past its end", i);
        }
        if (seg.addr + seg.mem_size - 1 < seg.addr || seg.vaddr + seg.mem_size - 1 < seg.vaddr) {
            return FORMAT_ERROR(error, img, "has a segment (%u) past the end of the address space",
                                i);
        }
        g_array_append_val(img->segments, seg);
        total += seg.file_size; /* no overflow: each is at most the file's size */
    }
    if (img->segments->len == 0) {
        return FORMAT_ERROR(error, img, "has no loadable segment");
    }
    if (total > max_size) {
        return too_large(error, img, "its segments hold", total, max_size);
    }

    /* The segments' data, and nothing else of the file. */
    data = g_malloc(MAX(total, 1));
    img->bytes = g_bytes_new_take(data, (gsize)total);
    img->data = data;
    total = 0;
    for (guint i = 0; i < img->segments->len; i++) {
        VireoImageSegment *s = &g_array_index(img->segments, VireoImageSegment, i);
        if (!source_read(src, img, s->offset, data + total, (gsize)s->file_size, error)) {
            return false;
        }
        s->offset = total;
        total += s->file_size;
    }
    if (shnum != 0) {
        sh_table = source_dup(src, img, shoff, (gsize)shnum * SHDR_SIZE, error);
        if (sh_table == NULL || !read_symtab(img, src, sh_table, shnum, max_size, error)) {
            return false;
        }
    }

    /* Two segments at one virtual address, or an entry in none, is not a
     * program that can run. */
    if (!check_overlap(img, true, error)) {
        return false;
    }
    if (!virt_to_phys(img, img->entry, &(uint64_t){ 0 })) {
        return FORMAT_ERROR(error, img,
                            "has its entry point (0x%" G_GINT64_MODIFIER
                            "x) outside its loadable segments",
                            img->entry);
    }
    return true;
}

static VireoImage *image_new(const char *name, const char *what)
{
    VireoImage *img = g_new0(VireoImage, 1);

    img->name = g_strdup(name);
    img->what = g_strdup(what);
    img->segments = g_array_new(FALSE, TRUE, sizeof(VireoImageSegment));
    return img;
}

/* Whether the source starts with the ELF magic. */
static bool source_is_elf(const Source *src, const VireoImage *img, GError **error, bool *elf)
{
    guint8 magic[SELFMAG];

    *elf = false;
    if (src->size < SELFMAG) {
        return true;
    }
    if (!source_read(src, img, 0, magic, SELFMAG, error)) {
        return false;
    }
    *elf = memcmp(magic, ELFMAG, SELFMAG) == 0;
    return true;
}

static VireoImage *image_parse(VireoImage *img, const Source *src, GBytes *whole,
                               VireoImageFormat format, uint64_t max_size, GError **error)
{
    bool elf = format == VIREO_IMAGE_ELF;

    img->size = (gsize)src->size;
    if (src->size == 0) {
        FORMAT_ERROR(error, img, "is empty");
        goto fail;
    }
    if (format == VIREO_IMAGE_AUTO && !source_is_elf(src, img, error, &elf)) {
        goto fail;
    }
    if (elf) {
        img->elf = true;
        if (!parse_elf(img, src, max_size, error)) {
            goto fail;
        }
    } else {
        VireoImageSegment seg = { 0, 0, 0, src->size, src->size };

        if (src->size > max_size) {
            too_large(error, img, "it is", src->size, max_size);
            goto fail;
        }
        if (whole != NULL) {
            img->bytes = g_bytes_ref(whole);
        } else {
            guint8 *data = source_dup(src, img, 0, (gsize)src->size, error);
            if (data == NULL) {
                goto fail;
            }
            img->bytes = g_bytes_new_take(data, (gsize)src->size);
        }
        img->data = g_bytes_get_data(img->bytes, NULL);
        g_array_append_val(img->segments, seg);
        img->footprint = src->size;
    }
    return img;

fail:
    vireo_image_free(img);
    return NULL;
}

VireoImage *vireo_image_new_from_bytes(GBytes *data, const char *name, const char *what,
                                       VireoImageFormat format, GError **error)
{
    gsize size;
    Source src = { .fd = -1 };

    src.data = g_bytes_get_data(data, &size);
    src.size = size;
    return image_parse(image_new(name, what), &src, data, format, G_MAXUINT64, error);
}

VireoImage *vireo_image_load(const char *path, const char *what, VireoImageFormat format,
                             uint64_t max_size, GError **error)
{
    VireoImage *img;
    Source src = { .data = NULL };
    struct stat st;
    int fd, err;

    /* Not blocking: opening a FIFO must not wait for a writer. */
    fd = g_open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
    if (fd < 0) {
        err = errno;
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "Cannot read %s “%s”: %s", what, path,
                    g_strerror(err));
        return NULL;
    }
    if (fstat(fd, &st) != 0) {
        err = errno;
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "Cannot read %s “%s”: %s", what, path,
                    g_strerror(err));
        close(fd);
        return NULL;
    }
    /* Only regular files: a folder, a FIFO or a device such as /dev/zero has
     * no size to check, and reading it may never end. */
    if (!S_ISREG(st.st_mode)) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_IO, "Cannot read %s “%s”: %s", what, path,
                    S_ISDIR(st.st_mode) ? "it is a folder" : "it is not a regular file");
        close(fd);
        return NULL;
    }
    /* What is read is a private copy: a file changed or truncated while the
     * machine runs cannot affect it. */
    src.fd = fd;
    src.size = (uint64_t)st.st_size;
    img = image_parse(image_new(path, what), &src, NULL, format, max_size, error);
    close(fd);
    return img;
}

bool vireo_image_is_elf(const VireoImage *image)
{
    return image->elf;
}

const char *vireo_image_name(const VireoImage *image)
{
    return image->name;
}

const char *vireo_image_what(const VireoImage *image)
{
    return image->what;
}

gsize vireo_image_file_size(const VireoImage *image)
{
    return image->size;
}

void vireo_image_place(VireoImage *image, uint64_t addr, uint64_t footprint)
{
    VireoImageSegment *seg;

    if (image->elf) {
        return;
    }
    seg = &g_array_index(image->segments, VireoImageSegment, 0);
    seg->addr = seg->vaddr = addr;
    image->footprint = MAX(footprint, (uint64_t)image->size);
}

uint64_t vireo_image_low(const VireoImage *image)
{
    uint64_t low = G_MAXUINT64;

    for (guint i = 0; i < image->segments->len; i++) {
        low = MIN(low, g_array_index(image->segments, VireoImageSegment, i).addr);
    }
    return low;
}

uint64_t vireo_image_high(const VireoImage *image)
{
    uint64_t high = 0;

    if (!image->elf) {
        uint64_t addr = g_array_index(image->segments, VireoImageSegment, 0).addr;
        /* Saturate rather than wrap for a placement past the address space. */
        return image->footprint > G_MAXUINT64 - addr ? G_MAXUINT64 : addr + image->footprint;
    }
    for (guint i = 0; i < image->segments->len; i++) {
        const VireoImageSegment *s = &g_array_index(image->segments, VireoImageSegment, i);
        high = MAX(high, last_address(s->addr, s->mem_size));
    }
    return high == G_MAXUINT64 ? G_MAXUINT64 : high + 1;
}

uint64_t vireo_image_entry(const VireoImage *image)
{
    uint64_t addr = 0;

    if (!image->elf) {
        return g_array_index(image->segments, VireoImageSegment, 0).addr;
    }
    /* Checked at load: the entry lies in a segment. */
    virt_to_phys(image, image->entry, &addr);
    return addr;
}

bool vireo_image_within(const VireoImage *image, uint64_t base, uint64_t size)
{
    for (guint i = 0; i < image->segments->len; i++) {
        const VireoImageSegment *s = &g_array_index(image->segments, VireoImageSegment, i);
        if (s->addr < base || s->addr - base >= size || s->mem_size > size - (s->addr - base)) {
            return false;
        }
    }
    return true;
}

void vireo_image_relocate(VireoImage *image, uint64_t addr, uint64_t align)
{
    uint64_t low = G_MAXUINT64;

    g_return_if_fail(image->elf && align != 0 && (align & (align - 1)) == 0);
    for (guint i = 0; i < image->segments->len; i++) {
        low = MIN(low, g_array_index(image->segments, VireoImageSegment, i).vaddr);
    }
    addr += low & (align - 1);
    for (guint i = 0; i < image->segments->len; i++) {
        VireoImageSegment *s = &g_array_index(image->segments, VireoImageSegment, i);
        s->addr = addr + (s->vaddr - low);
    }
}

const VireoImageSegment *vireo_image_segments(const VireoImage *image, guint *n_segments)
{
    *n_segments = image->segments->len;
    return (const VireoImageSegment *)(void *)image->segments->data;
}

/* The RISC-V Linux image header: image_size at byte 16, the magic "RSC\x05"
 * at byte 56. */
uint64_t vireo_image_kernel_footprint(const VireoImage *image)
{
    if (!image->elf && image->size >= 64 && memcmp(image->data + 56, "RSC\x05", 4) == 0) {
        return MAX((uint64_t)image->size, rd64(image->data + 16));
    }
    return image->size;
}

bool vireo_image_check_ram(const VireoImage *image, uint64_t ram_base, uint64_t ram_size,
                           GError **error)
{
    uint64_t ram_end = ram_base + ram_size;

    if (image->elf && !check_overlap(image, false, error)) {
        return false;
    }

    for (guint i = 0; i < image->segments->len; i++) {
        const VireoImageSegment *s = &g_array_index(image->segments, VireoImageSegment, i);
        uint64_t last = last_address(s->addr, s->mem_size);
        uint64_t end = !image->elf           ? vireo_image_high(image)
                       : last == G_MAXUINT64 ? G_MAXUINT64
                                             : last + 1;

        if (s->addr < ram_base) {
            return FORMAT_ERROR(error, image,
                                "has a segment at 0x%" G_GINT64_MODIFIER
                                "x, outside RAM (0x%" G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER
                                "x)",
                                s->addr, ram_base, ram_end - 1);
        }
        if (end > ram_end || end == 0) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                        "Not enough RAM for %s “%s”: it needs 0x%" G_GINT64_MODIFIER
                        "x-0x%" G_GINT64_MODIFIER "x, and RAM ends at 0x%" G_GINT64_MODIFIER "x",
                        image->what, image->name, s->addr, end - 1, ram_end - 1);
            return false;
        }
    }
    return true;
}

bool vireo_image_copy_to(const VireoImage *image, VireoBus *bus, GError **error)
{
    for (guint i = 0; i < image->segments->len; i++) {
        const VireoImageSegment *s = &g_array_index(image->segments, VireoImageSegment, i);
        uint64_t bss = s->mem_size - s->file_size;

        if (s->file_size > G_MAXSIZE ||
            !vireo_bus_write_block(bus, s->addr, image->data + s->offset, (gsize)s->file_size,
                                   error)) {
            g_prefix_error(error, "Cannot load %s “%s”: ", image->what, image->name);
            return false;
        }
        if (bss > 0) {
            guint8 *p = vireo_bus_host_ptr(bus, s->addr + s->file_size, bss, true);
            if (p == NULL) {
                g_set_error(error, VIREO_ERROR, VIREO_ERROR_MEMORY,
                            "Cannot load %s “%s”: 0x%" G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER
                            "x is not in RAM",
                            image->what, image->name, s->addr + s->file_size,
                            s->addr + s->mem_size - 1);
                return false;
            }
            memset(p, 0, bss);
            vireo_bus_note_ram_write(bus, s->addr + s->file_size, bss);
        }
    }
    return true;
}

bool vireo_image_find_symbol(const VireoImage *image, const char *symbol, uint64_t *value,
                             GError **error)
{
    gsize len = strlen(symbol), size, str_size;
    const guint8 *d, *str_base;

    if (!image->elf) {
        return FORMAT_ERROR(error, image, "is not an ELF file");
    }
    if (image->symtab_state == SYMTAB_NONE) {
        return FORMAT_ERROR(error, image, "has no symbol table");
    }
    if (image->symtab_state == SYMTAB_MALFORMED) {
        return FORMAT_ERROR(error, image, "has a malformed symbol table");
    }
    d = g_bytes_get_data(image->symtab, &size);
    str_base = g_bytes_get_data(image->strtab, &str_size);
    for (gsize s = 0; s + SYM_SIZE <= size; s += SYM_SIZE) {
        const guint8 *sym = d + s;
        uint32_t name = rd32(sym);
        const char *str;
        gsize room;

        if (name == 0 || name >= str_size || rd16(sym + 6) == SHN_UNDEF) {
            continue;
        }
        str = (const char *)str_base + name;
        room = str_size - name;
        if (room > len && memcmp(str, symbol, len) == 0 && str[len] == '\0') {
            uint64_t v = rd64(sym + 8);
            if (!virt_to_phys(image, v, value)) {
                *value = v;
            }
            return true;
        }
    }
    return FORMAT_ERROR(error, image, "has no symbol “%s”", symbol);
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "engine/bus.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

G_BEGIN_DECLS

/*
 * Boot images: RISC-V ELF64 executables, loaded at the physical addresses
 * of their PT_LOAD segments, and raw binaries, loaded where the board puts
 * them. Everything read from the file is checked before use: a malformed,
 * truncated or foreign file is a VIREO_ERROR_FORMAT error that names it.
 */
typedef enum {
    VIREO_IMAGE_AUTO, /* ELF when the file starts with the ELF magic, else raw */
    VIREO_IMAGE_ELF,  /* must be a RISC-V ELF64 executable */
    VIREO_IMAGE_RAW,  /* taken as is, whatever it holds */
} VireoImageFormat;

typedef struct {
    uint64_t addr;      /* physical load address */
    uint64_t vaddr;     /* virtual address (ELF), for the entry and symbols */
    uint64_t offset;    /* of its data in the image's copy of the file */
    uint64_t file_size; /* bytes copied from the file */
    uint64_t mem_size;  /* bytes in memory; the rest after file_size is zeroed */
} VireoImageSegment;

typedef struct VireoImage VireoImage;

/* Reads and checks `path`. `what` names the image in messages ("the
 * kernel"). Only a regular file is read (anything else is a VIREO_ERROR_IO
 * error, before any read), and only what is loaded: all of a raw image, an
 * ELF file's headers, segments and symbol table. When that is more than
 * `max_size` bytes (the RAM it must fit in), the image is refused with a
 * VIREO_ERROR_CONFIG error ("Not enough RAM for ...") before it is read. */
VireoImage *vireo_image_load(const char *path, const char *what, VireoImageFormat format,
                             uint64_t max_size, GError **error);
/* The same for a file already in memory; `name` stands for the file name. */
VireoImage *vireo_image_new_from_bytes(GBytes *data, const char *name, const char *what,
                                       VireoImageFormat format, GError **error);
void vireo_image_free(VireoImage *image);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VireoImage, vireo_image_free)

bool vireo_image_is_elf(const VireoImage *image);
const char *vireo_image_name(const VireoImage *image);
const char *vireo_image_what(const VireoImage *image);
gsize vireo_image_file_size(const VireoImage *image);

/* Sets where a raw image goes and how much memory it takes from there
 * (at least its file size; a kernel may ask for room for its bss). No effect
 * on an ELF image. */
void vireo_image_place(VireoImage *image, uint64_t addr, uint64_t footprint);

/* Whether every segment lies in [base, base + size). */
bool vireo_image_within(const VireoImage *image, uint64_t base, uint64_t size);
/* Lays an ELF image out by its virtual addresses instead of its physical
 * ones: the segment with the lowest virtual address goes to `addr` plus that
 * address's offset in an `align`-sized block (a power of two), and every
 * other one as far from it as in the virtual layout. The entry and symbols
 * follow. This is how a kernel linked for its own virtual addresses (a
 * Linux vmlinux) is loaded where a raw kernel would be. */
void vireo_image_relocate(VireoImage *image, uint64_t addr, uint64_t align);

/* The lowest address the image occupies and one past its highest. A raw
 * image not yet placed occupies [0, footprint). */
uint64_t vireo_image_low(const VireoImage *image);
uint64_t vireo_image_high(const VireoImage *image);
/* Where execution starts: the ELF entry translated to where its segment is
 * loaded (an ELF image whose entry lies in no loadable segment is refused
 * at load), or a raw image's load address. */
uint64_t vireo_image_entry(const VireoImage *image);
const VireoImageSegment *vireo_image_segments(const VireoImage *image, guint *n_segments);

/* The memory a raw RISC-V Linux kernel image needs, from its header's
 * image_size, or the file size when the image has no such header. */
uint64_t vireo_image_kernel_footprint(const VireoImage *image);

/* Fails unless every segment lies inside [ram_base, ram_base + ram_size),
 * and, for an ELF image, when two segments overlap where they are loaded. */
bool vireo_image_check_ram(const VireoImage *image, uint64_t ram_base, uint64_t ram_size,
                           GError **error);

/* Copies the segments into guest memory and zeroes their bss. */
bool vireo_image_copy_to(const VireoImage *image, VireoBus *bus, GError **error);

/* The value of a symbol of an ELF image's symbol table, translated to a
 * physical address when it falls in a segment. Fails when the image has no
 * symbol table, the table is malformed or the symbol is absent. */
bool vireo_image_find_symbol(const VireoImage *image, const char *symbol, uint64_t *value,
                             GError **error);

G_END_DECLS

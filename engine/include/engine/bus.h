/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

G_BEGIN_DECLS

/*
 * The physical address space of a machine: RAM (one host mapping), ROM and
 * MMIO regions. The map is built before the vCPUs start and is read without
 * locks afterwards; each device protects its own state.
 */

/* A little-endian value of 1, 2, 4 or 8 bytes at host address `p`, which
 * need not be aligned: guest RAM as a load or a store sees it. */
static inline uint64_t vireo_load_le(const void *p, unsigned size)
{
    switch (size) {
    case 1: return *(const uint8_t *)p;
    case 2: {
        uint16_t v;
        memcpy(&v, p, 2);
        return GUINT16_FROM_LE(v);
    }
    case 4: {
        uint32_t v;
        memcpy(&v, p, 4);
        return GUINT32_FROM_LE(v);
    }
    default: {
        uint64_t v;
        memcpy(&v, p, 8);
        return GUINT64_FROM_LE(v);
    }
    }
}

static inline void vireo_store_le(void *p, unsigned size, uint64_t value)
{
    switch (size) {
    case 1: *(uint8_t *)p = (uint8_t)value; break;
    case 2: {
        uint16_t v = GUINT16_TO_LE((uint16_t)value);
        memcpy(p, &v, 2);
        break;
    }
    case 4: {
        uint32_t v = GUINT32_TO_LE((uint32_t)value);
        memcpy(p, &v, 4);
        break;
    }
    default: {
        uint64_t v = GUINT64_TO_LE(value);
        memcpy(p, &v, 8);
        break;
    }
    }
}

typedef struct VireoSnapWriter VireoSnapWriter;
typedef struct VireoSnapReader VireoSnapReader;

/* The interface every device model implements. `read` and `write` get the
 * offset inside the device's region and an access size of 1, 2, 4 or 8 bytes;
 * they return false for an access the device rejects, which the CPU turns into
 * an access fault. */
typedef struct VireoDeviceOps {
    const char *name;
    bool (*read)(void *opaque, uint64_t offset, unsigned size, uint64_t *value);
    bool (*write)(void *opaque, uint64_t offset, unsigned size, uint64_t value);
    void (*reset)(void *opaque);
    /* Optional: the machine's state (engine/snap.h, docs/SNAPSHOTS.md). Called
     * while the machine is paused. A device without `save` cannot be saved,
     * and a machine holding one cannot either; `save` may also refuse with
     * a message (state that cannot be saved, such as 3D contexts). `load`
     * replaces the device's whole state with the section's, checking every
     * value; on a failure the machine loads the state it had before. */
    bool (*save)(void *opaque, VireoSnapWriter *w, GError **error);
    bool (*load)(void *opaque, VireoSnapReader *r, GError **error);
    /* Optional: the machine pauses (every vCPU stopped): finish or hold the
     * work in flight and stop touching guest memory and raising interrupts
     * until `resume`. Called without the machine's lock. */
    void (*pause)(void *opaque);
    void (*resume)(void *opaque);
} VireoDeviceOps;

typedef enum {
    VIREO_REGION_RAM,
    VIREO_REGION_ROM,
    VIREO_REGION_MMIO,
} VireoRegionKind;

typedef struct VireoRegion {
    VireoRegionKind kind;
    uint64_t base;
    uint64_t size;
    char *name;
    guint8 *host; /* RAM and ROM */
    const VireoDeviceOps *ops;
    void *opaque;
} VireoRegion;

typedef struct VireoBus VireoBus;

VireoBus *vireo_bus_new(void);
void vireo_bus_free(VireoBus *bus);

/* The host's physical memory in bytes, or 0 where the host does not say. */
uint64_t vireo_host_ram_size(void);
/* Fails (VIREO_ERROR_MEMORY) when `size` bytes of guest RAM are more than
 * the host's physical memory. */
bool vireo_bus_check_ram_size(uint64_t size, GError **error);
/* Guest RAM: one anonymous host mapping, backed lazily by the host. The
 * mapping counts against the host's commit limit, so a size the host cannot
 * provide fails here (VIREO_ERROR_MEMORY), not later in the guest; so does a
 * size above vireo_bus_check_ram_size()'s limit. */
guint8 *vireo_bus_add_ram(VireoBus *bus, uint64_t base, uint64_t size, GError **error);
/* A mapping for `size` bytes of guest RAM, as vireo_bus_add_ram() makes
 * it, outside any bus (RAM that arrives before its machine); NULL with
 * VIREO_ERROR_MEMORY. */
guint8 *vireo_bus_map_ram(uint64_t size, GError **error);
void vireo_bus_unmap_ram(guint8 *host, uint64_t size);
/* Replaces the contents of the bus's RAM with those of `mapping` (from
 * vireo_bus_map_ram() with RAM's size), which it takes: moved where the
 * host can, copied otherwise. The host address of RAM stays the same.
 * Only while no vCPU or device touches RAM. */
void vireo_bus_replace_ram(VireoBus *bus, guint8 *mapping);
/* A read-only region holding a copy of `data`, padded with zeros to `size`. */
bool vireo_bus_add_rom(VireoBus *bus, const char *name, uint64_t base, uint64_t size,
                       const void *data, gsize len, GError **error);
bool vireo_bus_add_mmio(VireoBus *bus, const char *name, uint64_t base, uint64_t size,
                        const VireoDeviceOps *ops, void *opaque, GError **error);

/* The region holding `addr`, or NULL for a hole. */
const VireoRegion *vireo_bus_find(const VireoBus *bus, uint64_t addr);
const VireoRegion *vireo_bus_regions(const VireoBus *bus, guint *n_regions);

/* The RAM region (there is one per machine) and its bounds. */
const VireoRegion *vireo_bus_ram(const VireoBus *bus);

/* A host pointer to [addr, addr + len) when that range lies wholly in RAM
 * (writable = true) or in RAM or ROM (writable = false); NULL otherwise. This
 * is how devices reach guest memory for DMA. */
guint8 *vireo_bus_host_ptr(const VireoBus *bus, uint64_t addr, uint64_t len, bool writable);

/* Physical accesses of 1, 2, 4 or 8 bytes, little-endian, to any region.
 * They return false for holes, ROM writes and accesses a device rejects. */
bool vireo_bus_read(const VireoBus *bus, uint64_t addr, unsigned size, uint64_t *value);
bool vireo_bus_write(VireoBus *bus, uint64_t addr, unsigned size, uint64_t value);

/* Copy to or from guest physical memory (RAM or ROM), for loaders and
 * debuggers. Fail without a partial copy when the range is not all memory. */
bool vireo_bus_write_block(VireoBus *bus, uint64_t addr, const void *data, gsize len,
                           GError **error);
bool vireo_bus_read_block(const VireoBus *bus, uint64_t addr, void *data, gsize len,
                          GError **error);

/*
 * Per-page state of RAM, 4 KiB pages. A vCPU's store fast path reads the
 * page's flag byte and takes the slow path when it is not zero; every write
 * to RAM that does not come from a vCPU (DMA, loaders) must be reported with
 * vireo_bus_note_ram_write() so that decoded code on those pages is dropped.
 */
#define VIREO_PAGE_SHIFT     12
#define VIREO_PAGE_SIZE      (1u << VIREO_PAGE_SHIFT)
#define VIREO_PAGE_CODE      0x01 /* code was decoded from the page */
#define VIREO_PAGE_WATCH     0x02 /* stores call the watch function */
#define VIREO_PAGE_DIRTY_LOG 0x04 /* the next store marks the page dirty (migration) */

typedef void (*VireoWatchFunc)(void *opaque, uint64_t addr, unsigned size);

/* The flag byte of the RAM page holding `addr` (which must be in RAM). */
guint8 *vireo_bus_page_flags(const VireoBus *bus, uint64_t addr);
/* The page's code generation: it changes whenever a write touches the
 * page's decoded code, so a block decoded at generation g is stale when it differs. */
uint32_t vireo_bus_code_generation(const VireoBus *bus, uint64_t addr);
/* The page's generation counter itself (a counter that never changes for
 * memory outside RAM), for fast validity checks of decoded blocks. */
const uint32_t *vireo_bus_code_generation_ptr(const VireoBus *bus, uint64_t addr);
/* Marks [addr, addr + len), clipped to its page, as holding decoded code,
 * and returns the page's generation. Code is tracked in 64-byte chunks, so
 * that writes to data beside code (the end of .text and the start of .data
 * in one page) leave the page's blocks alone. */
uint32_t vireo_bus_mark_code(VireoBus *bus, uint64_t addr, uint64_t len);
/* Reports a write to [addr, addr + len): bumps the generation of each page
 * where it touched a chunk marked as code (true when it did), and calls the
 * watch function for watched pages. */
bool vireo_bus_note_ram_write(VireoBus *bus, uint64_t addr, uint64_t len);
/* Calls `func` after every write into [addr, addr + len) of RAM. One watch per
 * bus; used by the ISA test mode for its `tohost` word. */
bool vireo_bus_set_watch(VireoBus *bus, uint64_t addr, uint64_t len, VireoWatchFunc func,
                         void *opaque, GError **error);
/*
 * Dirty-page logging, for live migration (docs/MIGRATION.md): which RAM
 * pages were written since the last look. A page's first vCPU store after
 * it was armed (VIREO_PAGE_DIRTY_LOG) takes the slow path, which marks the
 * page and disarms it; every write reported with vireo_bus_note_ram_write()
 * marks its pages. The bitmap has one bit per RAM page, in 64-bit words
 * (vireo_bus_dirty_words() of them), bit p % 64 of word p / 64.
 */
gsize vireo_bus_dirty_words(const VireoBus *bus);
/* Arms every page. Once it returns, every write to RAM not yet visible to
 * this thread is marked by a later vireo_bus_dirty_log_sync(). Fails with
 * VIREO_ERROR_UNSUPPORTED where the host cannot order other threads' stores
 * (Linux's membarrier(2)), and on a bus without RAM. */
bool vireo_bus_dirty_log_start(VireoBus *bus, GError **error);
/* ORs the pages marked since the start or the last sync into `bitmap`,
 * clears their marks, re-arms them and returns how many there were. Once it
 * returns, a page it did not report reads as every write made to it before
 * the call (or that write is reported by the next call). Several threads
 * may not sync at once. */
uint64_t vireo_bus_dirty_log_sync(VireoBus *bus, uint64_t *bitmap);
/* Stops logging and disarms every page. */
void vireo_bus_dirty_log_stop(VireoBus *bus);
bool vireo_bus_dirty_logging(const VireoBus *bus);

/* DMA: copy into or out of guest RAM (ROM too for reads); false, with
 * nothing copied, unless the whole range is memory. Writes are reported. */
bool vireo_bus_dma_write(VireoBus *bus, uint64_t addr, const void *data, gsize len);
bool vireo_bus_dma_read(const VireoBus *bus, uint64_t addr, void *data, gsize len);

/* Reset every device in the map. */
void vireo_bus_reset(VireoBus *bus);
/* Calls every device's `pause` (in map order) or `resume` (in reverse). */
void vireo_bus_pause_devices(VireoBus *bus);
void vireo_bus_resume_devices(VireoBus *bus);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "engine/bus.h"
#include "engine/error.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/membarrier.h>
#include <sys/syscall.h>
#endif

struct VireoBus {
    GArray *regions; /* VireoRegion, sorted by base */
    int ram_index;
    uint64_t ram_base, ram_size;
    guint8 *ram_host;
    guint8 *page_flags;         /* one byte per RAM page */
    _Atomic uint32_t *code_gen; /* one counter per RAM page */
    /* Per RAM page, the 64-byte chunks that hold decoded code (bit i: bytes
     * 64 i to 64 i + 63), a superset of what the page's current blocks
     * cover; meaningful while the page has VIREO_PAGE_CODE. */
    _Atomic uint64_t *code_chunks;
    _Atomic uint64_t *dirty; /* one bit per RAM page, while logging */
    atomic_bool dirty_logging;
    uint64_t watch_addr, watch_len;
    VireoWatchFunc watch_func;
    void *watch_opaque;
};

VireoBus *vireo_bus_new(void)
{
    VireoBus *bus = g_new0(VireoBus, 1);
    bus->regions = g_array_new(FALSE, TRUE, sizeof(VireoRegion));
    bus->ram_index = -1;
    return bus;
}

void vireo_bus_free(VireoBus *bus)
{
    if (bus == NULL) {
        return;
    }
    for (guint i = 0; i < bus->regions->len; i++) {
        VireoRegion *r = &g_array_index(bus->regions, VireoRegion, i);
        if (r->kind == VIREO_REGION_RAM) {
            munmap(r->host, r->size);
            g_free(bus->page_flags);
            g_free((void *)bus->code_gen);
            g_free((void *)bus->code_chunks);
            g_free((void *)bus->dirty);
        } else if (r->kind == VIREO_REGION_ROM) {
            g_free(r->host);
        }
        g_free(r->name);
    }
    g_array_free(bus->regions, TRUE);
    g_free(bus);
}

static bool insert_region(VireoBus *bus, VireoRegion *nr, GError **error)
{
    guint pos = 0;

    if (nr->size == 0 || nr->base + nr->size - 1 < nr->base) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "Region %s at 0x%" G_GINT64_MODIFIER "x has an invalid size", nr->name,
                    nr->base);
        return false;
    }
    for (guint i = 0; i < bus->regions->len; i++) {
        VireoRegion *r = &g_array_index(bus->regions, VireoRegion, i);
        if (nr->base <= r->base + r->size - 1 && r->base <= nr->base + nr->size - 1) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                        "Region %s overlaps region %s at 0x%" G_GINT64_MODIFIER "x", nr->name,
                        r->name, r->base);
            return false;
        }
        if (r->base < nr->base) {
            pos = i + 1;
        }
    }
    g_array_insert_val(bus->regions, pos, *nr);
    bus->ram_index = -1;
    for (guint i = 0; i < bus->regions->len; i++) {
        if (g_array_index(bus->regions, VireoRegion, i).kind == VIREO_REGION_RAM) {
            bus->ram_index = (int)i;
        }
    }
    return true;
}

uint64_t vireo_host_ram_size(void)
{
    long pages = sysconf(_SC_PHYS_PAGES);
    long page_size = sysconf(_SC_PAGESIZE);

    if (pages <= 0 || page_size <= 0) {
        return 0;
    }
    return (uint64_t)pages * (uint64_t)page_size;
}

bool vireo_bus_check_ram_size(uint64_t size, GError **error)
{
    uint64_t host = vireo_host_ram_size();

    if (host != 0 && size > host) {
        g_autofree char *want = g_format_size_full(size, G_FORMAT_SIZE_IEC_UNITS);
        g_autofree char *have = g_format_size_full(host, G_FORMAT_SIZE_IEC_UNITS);
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_MEMORY,
                    "Cannot give the guest %s of RAM: the host has %s", want, have);
        return false;
    }
    return true;
}

guint8 *vireo_bus_map_ram(uint64_t size, GError **error)
{
    void *host;

    if (!vireo_bus_check_ram_size(size, error)) {
        return NULL;
    }
    /* Without MAP_NORESERVE: the host's overcommit policy judges the whole
     * size now, so RAM the host cannot give is refused here rather than the
     * process being killed when the guest touches it. */
    host = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (host == MAP_FAILED) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_MEMORY,
                    "Cannot reserve %" G_GUINT64_FORMAT " MiB of guest RAM: %s", size >> 20,
                    g_strerror(errno));
        return NULL;
    }
#ifdef MADV_HUGEPAGE
    madvise(host, size, MADV_HUGEPAGE);
#endif
    return host;
}

void vireo_bus_unmap_ram(guint8 *host, uint64_t size)
{
    munmap(host, size);
}

void vireo_bus_replace_ram(VireoBus *bus, guint8 *mapping)
{
    g_return_if_fail(bus->ram_host != NULL && mapping != NULL);
#ifdef MREMAP_FIXED
    /* The mapping's pages move to RAM's addresses, and RAM's old pages go. */
    if (mremap(mapping, bus->ram_size, bus->ram_size, MREMAP_MAYMOVE | MREMAP_FIXED,
               bus->ram_host) != MAP_FAILED) {
        return;
    }
#endif
    memcpy(bus->ram_host, mapping, bus->ram_size);
    munmap(mapping, bus->ram_size);
}

guint8 *vireo_bus_add_ram(VireoBus *bus, uint64_t base, uint64_t size, GError **error)
{
    VireoRegion r = { .kind = VIREO_REGION_RAM, .base = base, .size = size };
    void *host;

    if (bus->ram_index >= 0) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG, "The machine already has RAM");
        return NULL;
    }
    if (size == 0 || (size & 0xfff) != 0) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "RAM size must be a non-zero multiple of 4 KiB");
        return NULL;
    }
    host = vireo_bus_map_ram(size, error);
    if (host == NULL) {
        return NULL;
    }
    r.host = host;
    r.name = g_strdup("ram");
    if (!insert_region(bus, &r, error)) {
        munmap(host, size);
        g_free(r.name);
        return NULL;
    }
    bus->ram_base = base;
    bus->ram_size = size;
    bus->ram_host = host;
    bus->page_flags = g_malloc0(size >> VIREO_PAGE_SHIFT);
    bus->code_gen = g_malloc0((size >> VIREO_PAGE_SHIFT) * sizeof(uint32_t));
    bus->code_chunks = g_malloc0((size >> VIREO_PAGE_SHIFT) * sizeof(uint64_t));
    return host;
}

bool vireo_bus_add_rom(VireoBus *bus, const char *name, uint64_t base, uint64_t size,
                       const void *data, gsize len, GError **error)
{
    VireoRegion r = { .kind = VIREO_REGION_ROM, .base = base, .size = size };

    if (len > size) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "ROM %s: %" G_GSIZE_FORMAT " bytes do not fit in %" G_GUINT64_FORMAT, name, len,
                    size);
        return false;
    }
    r.host = g_malloc0(size);
    if (len > 0) {
        memcpy(r.host, data, len);
    }
    r.name = g_strdup(name);
    if (!insert_region(bus, &r, error)) {
        g_free(r.host);
        g_free(r.name);
        return false;
    }
    return true;
}

bool vireo_bus_add_mmio(VireoBus *bus, const char *name, uint64_t base, uint64_t size,
                        const VireoDeviceOps *ops, void *opaque, GError **error)
{
    VireoRegion r = {
        .kind = VIREO_REGION_MMIO,
        .base = base,
        .size = size,
        .ops = ops,
        .opaque = opaque,
        .name = g_strdup(name),
    };

    if (!insert_region(bus, &r, error)) {
        g_free(r.name);
        return false;
    }
    return true;
}

const VireoRegion *vireo_bus_find(const VireoBus *bus, uint64_t addr)
{
    guint lo = 0, hi = bus->regions->len;
    const VireoRegion *regions = (const VireoRegion *)(void *)bus->regions->data;

    /* Main RAM first: page-table walks and TLB fills look it up millions
     * of times a second. */
    if (bus->ram_index >= 0 && addr - regions[bus->ram_index].base < regions[bus->ram_index].size) {
        return &regions[bus->ram_index];
    }
    while (lo < hi) {
        guint mid = (lo + hi) / 2;
        const VireoRegion *r = &regions[mid];
        if (addr < r->base) {
            hi = mid;
        } else if (addr - r->base >= r->size) {
            lo = mid + 1;
        } else {
            return r;
        }
    }
    return NULL;
}

const VireoRegion *vireo_bus_regions(const VireoBus *bus, guint *n_regions)
{
    *n_regions = bus->regions->len;
    return (const VireoRegion *)(void *)bus->regions->data;
}

const VireoRegion *vireo_bus_ram(const VireoBus *bus)
{
    if (bus->ram_index < 0) {
        return NULL;
    }
    return &g_array_index(bus->regions, VireoRegion, bus->ram_index);
}

guint8 *vireo_bus_host_ptr(const VireoBus *bus, uint64_t addr, uint64_t len, bool writable)
{
    const VireoRegion *r = vireo_bus_find(bus, addr);

    if (r == NULL || r->host == NULL || (writable && r->kind != VIREO_REGION_RAM)) {
        return NULL;
    }
    if (len > r->size - (addr - r->base)) {
        return NULL;
    }
    return r->host + (addr - r->base);
}

static bool valid_size(unsigned size)
{
    return size == 1 || size == 2 || size == 4 || size == 8;
}

bool vireo_bus_read(const VireoBus *bus, uint64_t addr, unsigned size, uint64_t *value)
{
    const VireoRegion *r = vireo_bus_find(bus, addr);
    uint64_t off;

    if (r == NULL || !valid_size(size)) {
        return false;
    }
    off = addr - r->base;
    if (size > r->size - off) {
        return false;
    }
    if (r->host != NULL) {
        *value = vireo_load_le(r->host + off, size);
        return true;
    }
    if (r->ops->read == NULL) {
        return false;
    }
    return r->ops->read(r->opaque, off, size, value);
}

bool vireo_bus_write(VireoBus *bus, uint64_t addr, unsigned size, uint64_t value)
{
    const VireoRegion *r = vireo_bus_find(bus, addr);
    uint64_t off;

    if (r == NULL || !valid_size(size) || r->kind == VIREO_REGION_ROM) {
        return false;
    }
    off = addr - r->base;
    if (size > r->size - off) {
        return false;
    }
    if (r->kind == VIREO_REGION_RAM) {
        vireo_store_le(r->host + off, size, value);
        vireo_bus_note_ram_write(bus, addr, size);
        return true;
    }
    if (r->ops->write == NULL) {
        return false;
    }
    return r->ops->write(r->opaque, off, size, value);
}

static const VireoRegion *memory_range(const VireoBus *bus, uint64_t addr, gsize len,
                                       GError **error)
{
    const VireoRegion *r = vireo_bus_find(bus, addr);

    if (r == NULL || r->host == NULL || len > r->size - (addr - r->base)) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_MEMORY,
                    "Range 0x%" G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER
                    "x is not in guest memory",
                    addr, addr + len);
        return NULL;
    }
    return r;
}

bool vireo_bus_write_block(VireoBus *bus, uint64_t addr, const void *data, gsize len,
                           GError **error)
{
    const VireoRegion *r = memory_range(bus, addr, len, error);

    if (r == NULL) {
        return false;
    }
    memcpy(r->host + (addr - r->base), data, len);
    if (r->kind == VIREO_REGION_RAM) {
        vireo_bus_note_ram_write(bus, addr, len);
    }
    return true;
}

bool vireo_bus_read_block(const VireoBus *bus, uint64_t addr, void *data, gsize len, GError **error)
{
    const VireoRegion *r = memory_range(bus, addr, len, error);

    if (r == NULL) {
        return false;
    }
    memcpy(data, r->host + (addr - r->base), len);
    return true;
}

static inline uint64_t ram_page(const VireoBus *bus, uint64_t addr)
{
    return (addr - bus->ram_base) >> VIREO_PAGE_SHIFT;
}

static inline bool in_ram(const VireoBus *bus, uint64_t addr)
{
    return bus->ram_host != NULL && addr - bus->ram_base < bus->ram_size;
}

guint8 *vireo_bus_page_flags(const VireoBus *bus, uint64_t addr)
{
    g_assert(in_ram(bus, addr));
    return &bus->page_flags[ram_page(bus, addr)];
}

uint32_t vireo_bus_code_generation(const VireoBus *bus, uint64_t addr)
{
    if (!in_ram(bus, addr)) {
        return 0; /* ROM never changes */
    }
    return atomic_load_explicit(&bus->code_gen[ram_page(bus, addr)], memory_order_acquire);
}

const uint32_t *vireo_bus_code_generation_ptr(const VireoBus *bus, uint64_t addr)
{
    static const uint32_t constant_generation = 0;

    if (!in_ram(bus, addr)) {
        return &constant_generation;
    }
    return (const uint32_t *)&bus->code_gen[ram_page(bus, addr)];
}

#define CODE_CHUNK_SHIFT 6
G_STATIC_ASSERT((VIREO_PAGE_SIZE >> CODE_CHUNK_SHIFT) == 64);

/* The chunks of a page that bytes [lo, hi) of it touch (lo < hi <= page). */
static uint64_t chunk_mask(uint64_t lo, uint64_t hi)
{
    unsigned first = (unsigned)(lo >> CODE_CHUNK_SHIFT),
             last = (unsigned)((hi - 1) >> CODE_CHUNK_SHIFT);

    return (~0ull >> (63 - last)) & (~0ull << first);
}

/*
 * A write that touches a chunk holding code clears the page's chunks and
 * its flag, then bumps its generation. A marker sets chunks and flag, reads
 * the generation, and checks that they are still set: when a writer
 * cleared them in between, either the marker read the generation before
 * that writer's bump (its block is stale at once, and marks again when it
 * is revived) or it finds them cleared here and marks again.
 */
uint32_t vireo_bus_mark_code(VireoBus *bus, uint64_t addr, uint64_t len)
{
    uint64_t p, off, bits;
    uint32_t gen;

    if (!in_ram(bus, addr)) {
        return 0;
    }
    p = ram_page(bus, addr);
    off = (addr - bus->ram_base) & (VIREO_PAGE_SIZE - 1);
    bits = chunk_mask(off, MIN(off + MAX(len, 1), VIREO_PAGE_SIZE));
    for (unsigned tries = 0;; tries++) {
        if ((atomic_load_explicit(&bus->code_chunks[p], memory_order_relaxed) & bits) != bits) {
            atomic_fetch_or_explicit(&bus->code_chunks[p], bits, memory_order_seq_cst);
        }
        if (!(__atomic_load_n(&bus->page_flags[p], __ATOMIC_RELAXED) & VIREO_PAGE_CODE)) {
            __atomic_fetch_or(&bus->page_flags[p], VIREO_PAGE_CODE, __ATOMIC_SEQ_CST);
        }
        gen = atomic_load_explicit(&bus->code_gen[p], memory_order_seq_cst);
        if ((atomic_load_explicit(&bus->code_chunks[p], memory_order_seq_cst) & bits) == bits &&
            (__atomic_load_n(&bus->page_flags[p], __ATOMIC_SEQ_CST) & VIREO_PAGE_CODE)) {
            return gen;
        }
        if (tries == 64) {
            /* Another hart writes this code without pause: a generation
             * that is stale already, so that the block decoded now runs
             * at most once and is looked at again (through the run loop,
             * which serves interrupts meanwhile). */
            return gen - 1;
        }
    }
}

bool vireo_bus_note_ram_write(VireoBus *bus, uint64_t addr, uint64_t len)
{
    uint64_t first, last;
    bool logging, code = false;

    if (len == 0 || bus->ram_host == NULL) {
        return false;
    }
    /* Clip to RAM. */
    if (addr < bus->ram_base) {
        if (addr + len <= bus->ram_base) {
            return false;
        }
        len -= bus->ram_base - addr;
        addr = bus->ram_base;
    }
    if (!in_ram(bus, addr)) {
        return false;
    }
    len = MIN(len, bus->ram_size - (addr - bus->ram_base));
    first = ram_page(bus, addr);
    last = ram_page(bus, addr + len - 1);
    logging = atomic_load_explicit(&bus->dirty_logging, memory_order_seq_cst);
    for (uint64_t p = first; p <= last; p++) {
        guint8 f = __atomic_load_n(&bus->page_flags[p], __ATOMIC_ACQUIRE);
        if (f & VIREO_PAGE_CODE) {
            /* the part of [addr, addr + len) in page p, as offsets */
            uint64_t base = p << VIREO_PAGE_SHIFT, at = addr - bus->ram_base;
            uint64_t lo = MAX(at, base) - base, hi = MIN(at + len, base + VIREO_PAGE_SIZE) - base;
            if (atomic_load_explicit(&bus->code_chunks[p], memory_order_seq_cst) &
                chunk_mask(lo, hi)) {
                atomic_store_explicit(&bus->code_chunks[p], 0, memory_order_seq_cst);
                __atomic_fetch_and(&bus->page_flags[p], (guint8)~VIREO_PAGE_CODE, __ATOMIC_SEQ_CST);
                atomic_fetch_add_explicit(&bus->code_gen[p], 1, memory_order_seq_cst);
                code = true;
            }
        }
        if ((f & VIREO_PAGE_WATCH) && bus->watch_func != NULL) {
            uint64_t lo = MAX(addr, bus->watch_addr);
            uint64_t hi = MIN(addr + len, bus->watch_addr + bus->watch_len);
            if (lo < hi) {
                bus->watch_func(bus->watch_opaque, lo, (unsigned)(hi - lo));
            }
        }
        /* Disarm, then mark: a page found disarmed is always marked (or
         * about to be), so a sync that re-arms it has seen the mark. */
        if (f & VIREO_PAGE_DIRTY_LOG) {
            __atomic_fetch_and(&bus->page_flags[p], (guint8)~VIREO_PAGE_DIRTY_LOG,
                               __ATOMIC_SEQ_CST);
        }
        if (logging || (f & VIREO_PAGE_DIRTY_LOG)) {
            atomic_fetch_or_explicit(&bus->dirty[p / 64], (uint64_t)1 << (p % 64),
                                     memory_order_seq_cst);
        }
    }
    return code;
}

/*
 * Dirty-page logging. A vCPU stores to RAM and then reads the page's flag
 * byte; the sync re-arms a page and then reads it. Each side's store may
 * pass its own later load (x86's store buffer), so the sync makes every
 * thread of the process run a full memory barrier (membarrier(2)) between
 * the two: a store whose flag read came before that barrier is visible to
 * the sync's caller, and a flag read after it sees the page armed.
 */
static bool process_barrier(void)
{
#if defined(__linux__) && defined(__NR_membarrier)
    return syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0 ||
           syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0;
#else
    return false;
#endif
}

gsize vireo_bus_dirty_words(const VireoBus *bus)
{
    return (gsize)(((bus->ram_size >> VIREO_PAGE_SHIFT) + 63) / 64);
}

bool vireo_bus_dirty_log_start(VireoBus *bus, GError **error)
{
    uint64_t n_pages = bus->ram_size >> VIREO_PAGE_SHIFT;

    if (bus->ram_host == NULL) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_UNSUPPORTED, "The machine has no RAM");
        return false;
    }
#if defined(__linux__) && defined(__NR_membarrier)
    syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0);
#endif
    if (!process_barrier()) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_UNSUPPORTED,
                    "This host cannot track which pages the guest writes (no membarrier)");
        return false;
    }
    if (bus->dirty == NULL) {
        bus->dirty = g_new0(_Atomic uint64_t, vireo_bus_dirty_words(bus));
    }
    for (gsize w = 0; w < vireo_bus_dirty_words(bus); w++) {
        atomic_store_explicit(&bus->dirty[w], 0, memory_order_relaxed);
    }
    atomic_store_explicit(&bus->dirty_logging, true, memory_order_seq_cst);
    for (uint64_t p = 0; p < n_pages; p++) {
        __atomic_fetch_or(&bus->page_flags[p], VIREO_PAGE_DIRTY_LOG, __ATOMIC_SEQ_CST);
    }
    process_barrier();
    return true;
}

uint64_t vireo_bus_dirty_log_sync(VireoBus *bus, uint64_t *bitmap)
{
    uint64_t count = 0;

    if (bus->dirty == NULL) {
        return 0;
    }
    for (gsize w = 0; w < vireo_bus_dirty_words(bus); w++) {
        uint64_t bits;

        if (atomic_load_explicit(&bus->dirty[w], memory_order_relaxed) == 0) {
            continue;
        }
        bits = atomic_exchange_explicit(&bus->dirty[w], 0, memory_order_seq_cst);
        bitmap[w] |= bits;
        count += (uint64_t)__builtin_popcountll(bits);
        if (atomic_load_explicit(&bus->dirty_logging, memory_order_relaxed)) {
            for (uint64_t b = bits; b != 0; b &= b - 1) {
                uint64_t p = (uint64_t)w * 64 + (uint64_t)__builtin_ctzll(b);
                __atomic_fetch_or(&bus->page_flags[p], VIREO_PAGE_DIRTY_LOG, __ATOMIC_SEQ_CST);
            }
        }
    }
    process_barrier();
    return count;
}

void vireo_bus_dirty_log_stop(VireoBus *bus)
{
    uint64_t n_pages = bus->ram_size >> VIREO_PAGE_SHIFT;

    if (!atomic_exchange_explicit(&bus->dirty_logging, false, memory_order_seq_cst)) {
        return;
    }
    for (uint64_t p = 0; p < n_pages; p++) {
        __atomic_fetch_and(&bus->page_flags[p], (guint8)~VIREO_PAGE_DIRTY_LOG, __ATOMIC_SEQ_CST);
    }
}

bool vireo_bus_dirty_logging(const VireoBus *bus)
{
    return atomic_load_explicit(&bus->dirty_logging, memory_order_relaxed);
}

bool vireo_bus_set_watch(VireoBus *bus, uint64_t addr, uint64_t len, VireoWatchFunc func,
                         void *opaque, GError **error)
{
    if (len == 0 || !in_ram(bus, addr) || !in_ram(bus, addr + len - 1)) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_MEMORY,
                    "Cannot watch 0x%" G_GINT64_MODIFIER "x: not in RAM", addr);
        return false;
    }
    bus->watch_addr = addr;
    bus->watch_len = len;
    bus->watch_func = func;
    bus->watch_opaque = opaque;
    for (uint64_t p = ram_page(bus, addr); p <= ram_page(bus, addr + len - 1); p++) {
        __atomic_fetch_or(&bus->page_flags[p], VIREO_PAGE_WATCH, __ATOMIC_SEQ_CST);
    }
    return true;
}

bool vireo_bus_dma_write(VireoBus *bus, uint64_t addr, const void *data, gsize len)
{
    guint8 *p = vireo_bus_host_ptr(bus, addr, len, true);

    if (p == NULL) {
        return false;
    }
    memcpy(p, data, len);
    vireo_bus_note_ram_write(bus, addr, len);
    return true;
}

bool vireo_bus_dma_read(const VireoBus *bus, uint64_t addr, void *data, gsize len)
{
    const guint8 *p = vireo_bus_host_ptr(bus, addr, len, false);

    if (p == NULL) {
        return false;
    }
    memcpy(data, p, len);
    return true;
}

void vireo_bus_reset(VireoBus *bus)
{
    for (guint i = 0; i < bus->regions->len; i++) {
        VireoRegion *r = &g_array_index(bus->regions, VireoRegion, i);
        if (r->kind == VIREO_REGION_MMIO && r->ops->reset != NULL) {
            r->ops->reset(r->opaque);
        }
    }
}

void vireo_bus_pause_devices(VireoBus *bus)
{
    for (guint i = 0; i < bus->regions->len; i++) {
        VireoRegion *r = &g_array_index(bus->regions, VireoRegion, i);
        if (r->kind == VIREO_REGION_MMIO && r->ops->pause != NULL) {
            r->ops->pause(r->opaque);
        }
    }
}

void vireo_bus_resume_devices(VireoBus *bus)
{
    for (guint i = bus->regions->len; i-- > 0;) {
        VireoRegion *r = &g_array_index(bus->regions, VireoRegion, i);
        if (r->kind == VIREO_REGION_MMIO && r->ops->resume != NULL) {
            r->ops->resume(r->opaque);
        }
    }
}

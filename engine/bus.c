/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "engine/bus.h"
#include "engine/error.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

struct VireoBus {
    GArray *regions; /* VireoRegion, sorted by base */
    int ram_index;
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
    host = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
                0);
    if (host == MAP_FAILED) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_MEMORY,
                    "Cannot reserve %" G_GUINT64_FORMAT " MiB of guest RAM: %s", size >> 20,
                    g_strerror(errno));
        return NULL;
    }
#ifdef MADV_HUGEPAGE
    madvise(host, size, MADV_HUGEPAGE);
#endif
    r.host = host;
    r.name = g_strdup("ram");
    if (!insert_region(bus, &r, error)) {
        munmap(host, size);
        g_free(r.name);
        return NULL;
    }
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

static uint64_t load_le(const guint8 *p, unsigned size)
{
    switch (size) {
    case 1: return p[0];
    case 2: {
        guint16 v;
        memcpy(&v, p, 2);
        return GUINT16_FROM_LE(v);
    }
    case 4: {
        guint32 v;
        memcpy(&v, p, 4);
        return GUINT32_FROM_LE(v);
    }
    default: {
        guint64 v;
        memcpy(&v, p, 8);
        return GUINT64_FROM_LE(v);
    }
    }
}

static void store_le(guint8 *p, unsigned size, uint64_t value)
{
    switch (size) {
    case 1: p[0] = (guint8)value; break;
    case 2: {
        guint16 v = GUINT16_TO_LE((guint16)value);
        memcpy(p, &v, 2);
        break;
    }
    case 4: {
        guint32 v = GUINT32_TO_LE((guint32)value);
        memcpy(p, &v, 4);
        break;
    }
    default: {
        guint64 v = GUINT64_TO_LE(value);
        memcpy(p, &v, 8);
        break;
    }
    }
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
        *value = load_le(r->host + off, size);
        return true;
    }
    if (r->ops->read == NULL) {
        return false;
    }
    return r->ops->read(r->opaque, off, size, value);
}

bool vireo_bus_write(const VireoBus *bus, uint64_t addr, unsigned size, uint64_t value)
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
        store_le(r->host + off, size, value);
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

void vireo_bus_reset(VireoBus *bus)
{
    for (guint i = 0; i < bus->regions->len; i++) {
        VireoRegion *r = &g_array_index(bus->regions, VireoRegion, i);
        if (r->kind == VIREO_REGION_MMIO && r->ops->reset != NULL) {
            r->ops->reset(r->opaque);
        }
    }
}

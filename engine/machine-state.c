/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The whole machine's state as one stream (docs/SNAPSHOTS.md): its shape,
 * the clock, the vCPUs, the devices, ROM contents and RAM. RAM goes in
 * chunks of 2 MiB, zero pages left out and the rest compressed with zstd
 * on several threads; loading decompresses into a fresh mapping that
 * replaces RAM only once everything else has been checked and applied.
 */
#include "machine-state.h"

#include "engine/error.h"
#include "engine/snap.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <zstd.h>

#define RAM_PAGE        4096u
#define RAM_CHUNK       (2u << 20)
#define PAGES_PER_CHUNK (RAM_CHUNK / RAM_PAGE)
#define RAM_ZSTD_LEVEL  1
#define SHAPE_VERSION   1
#define CLOCK_VERSION   1
#define RAM_VERSION     1
#define ROM_VERSION     1
#define MAX_REGION_NAME 256
#define MAX_WORKERS     8

static unsigned n_workers(void)
{
    return CLAMP(g_get_num_processors(), 1, MAX_WORKERS);
}

/*
 * The machine's shape: what a stream must have been saved from.
 */

static void put_shape(VireoMachine *m, VireoSnapWriter *w)
{
    guint n_regions;
    const VireoRegion *regions = vireo_bus_regions(vireo_machine_bus(m), &n_regions);

    vireo_snap_begin_section(w, "machine", 0, SHAPE_VERSION);
    vireo_snap_put_u32(w, vireo_machine_n_vcpus(m));
    vireo_snap_put_u64(w, vireo_clock_frequency(vireo_machine_clock(m)));
    vireo_snap_put_u32(w, n_regions);
    for (guint i = 0; i < n_regions; i++) {
        vireo_snap_put_u8(w, (uint8_t)regions[i].kind);
        vireo_snap_put_u64(w, regions[i].base);
        vireo_snap_put_u64(w, regions[i].size);
        vireo_snap_put_string(w, regions[i].name);
        vireo_snap_put_string(w,
                              regions[i].kind == VIREO_REGION_MMIO ? regions[i].ops->name : NULL);
    }
}

static bool check_shape(VireoMachine *m, const VireoSnapSection *section, GError **error)
{
    g_autoptr(VireoSnapReader) r = vireo_snap_reader_new(section);
    guint n_regions;
    const VireoRegion *regions = vireo_bus_regions(vireo_machine_bus(m), &n_regions);
    uint32_t n_vcpus = vireo_snap_get_u32(r);
    uint64_t hz = vireo_snap_get_u64(r);
    uint32_t n = vireo_snap_get_u32(r);
    const char *what = NULL;

    if (vireo_snap_reader_version(r) != SHAPE_VERSION) {
        vireo_snap_fail(r, "layout version %u is not %u", vireo_snap_reader_version(r),
                        SHAPE_VERSION);
    }
    if (!vireo_snap_failed(r) && n_vcpus != vireo_machine_n_vcpus(m)) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "The saved machine has %u vCPUs; this one has %u", n_vcpus,
                    vireo_machine_n_vcpus(m));
        return false;
    }
    if (!vireo_snap_failed(r) && hz != vireo_clock_frequency(vireo_machine_clock(m))) {
        what = "its timer frequency";
    }
    /* Every region is read, also after a difference, so that the section
     * is known to be whole before the difference is reported. */
    for (uint32_t i = 0; i < n && !vireo_snap_failed(r); i++) {
        uint8_t kind = vireo_snap_get_u8(r);
        uint64_t base = vireo_snap_get_u64(r);
        uint64_t size = vireo_snap_get_u64(r);
        g_autofree char *name = vireo_snap_get_string(r, MAX_REGION_NAME);
        g_autofree char *device = vireo_snap_get_string(r, MAX_REGION_NAME);
        const VireoRegion *mine = i < n_regions ? &regions[i] : NULL;

        if (vireo_snap_failed(r) || what != NULL) {
            continue;
        }
        if (mine == NULL) {
            what = "more devices";
        } else if (kind == VIREO_REGION_RAM && mine->kind == VIREO_REGION_RAM &&
                   size != mine->size) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                        "The saved machine has %" G_GUINT64_FORMAT " MiB of memory; this one has "
                        "%" G_GUINT64_FORMAT " MiB",
                        size >> 20, mine->size >> 20);
            return false;
        } else if (kind != mine->kind || base != mine->base || size != mine->size ||
                   g_strcmp0(name, mine->name) != 0 ||
                   g_strcmp0(device, mine->kind == VIREO_REGION_MMIO ? mine->ops->name : NULL) !=
                       0) {
            what = "other devices";
        }
    }
    if (!vireo_snap_failed(r) && what == NULL && n != n_regions) {
        what = "fewer devices";
    }
    if (!vireo_snap_reader_finish(r, error)) {
        return false;
    }
    if (what != NULL) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "The state was saved from a machine with %s than this one", what);
        return false;
    }
    return true;
}

/*
 * Everything but RAM: the clock, the vCPUs, the devices and ROM.
 */

static bool is_note(const VireoSnapSection *s)
{
    return g_str_has_prefix(s->name, VIREO_SNAP_NOTE_PREFIX);
}

static bool is_saved_device(const VireoRegion *r)
{
    return r->kind == VIREO_REGION_MMIO && r->ops != NULL;
}

static bool put_parts(VireoMachine *m, VireoSnapWriter *w, GError **error)
{
    guint n_regions;
    const VireoRegion *regions = vireo_bus_regions(vireo_machine_bus(m), &n_regions);

    vireo_snap_begin_section(w, "clock", 0, CLOCK_VERSION);
    vireo_snap_put_u64(w, vireo_clock_now(vireo_machine_clock(m)));
    if (!vireo_snap_end_section(w, error)) {
        return false;
    }
    for (unsigned i = 0; i < vireo_machine_n_vcpus(m); i++) {
        const VireoVcpuOps *ops = vireo_machine_vcpu_ops(m, i);
        if (ops->save == NULL) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE,
                        "This machine's vCPUs cannot be saved");
            return false;
        }
        vireo_snap_begin_section(w, "cpu", i, ops->state_version != 0 ? ops->state_version : 1);
        if (!ops->save(vireo_machine_vcpu(m, i), w, error) || !vireo_snap_end_section(w, error)) {
            return false;
        }
    }
    for (guint i = 0; i < n_regions; i++) {
        const VireoRegion *r = &regions[i];
        if (r->kind == VIREO_REGION_ROM) {
            if (!vireo_snap_write_section(w, "rom", r->base, ROM_VERSION, r->host, r->size,
                                          error)) {
                return false;
            }
            continue;
        }
        if (!is_saved_device(r)) {
            continue;
        }
        if (r->ops->save == NULL) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE,
                        "The device %s (%s at 0x%" G_GINT64_MODIFIER "x) cannot be saved", r->name,
                        r->ops->name, r->base);
            return false;
        }
        vireo_snap_begin_section(w, r->ops->name, r->base, 1);
        if (!r->ops->save(r->opaque, w, error) || !vireo_snap_end_section(w, error)) {
            return false;
        }
    }
    return true;
}

/* Applies the parts found in `sections` (already known to be complete).
 * Stops at the first failure. */
static bool apply_parts(VireoMachine *m, GArray *sections, GError **error)
{
    guint n_regions;
    const VireoRegion *regions = vireo_bus_regions(vireo_machine_bus(m), &n_regions);
    const VireoSnapSection *s = vireo_snap_find(sections, "clock", 0);
    g_autoptr(VireoSnapReader) clock = vireo_snap_reader_new(s);
    uint64_t ticks = vireo_snap_get_u64(clock);

    if (vireo_snap_reader_version(clock) != CLOCK_VERSION) {
        vireo_snap_fail(clock, "layout version %u is not %u", vireo_snap_reader_version(clock),
                        CLOCK_VERSION);
    }
    if (!vireo_snap_reader_finish(clock, error)) {
        return false;
    }
    vireo_clock_set(vireo_machine_clock(m), ticks);
    for (unsigned i = 0; i < vireo_machine_n_vcpus(m); i++) {
        g_autoptr(VireoSnapReader) r = vireo_snap_reader_new(vireo_snap_find(sections, "cpu", i));
        if (!vireo_machine_vcpu_ops(m, i)->load(vireo_machine_vcpu(m, i), r, error)) {
            return false;
        }
    }
    for (guint i = 0; i < n_regions; i++) {
        const VireoRegion *reg = &regions[i];
        if (reg->kind == VIREO_REGION_ROM) {
            s = vireo_snap_find(sections, "rom", reg->base);
            if (s->version != ROM_VERSION || s->len != reg->size) {
                g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                            "The saved contents of %s do not fit it", reg->name);
                return false;
            }
            memcpy(reg->host, s->data, s->len);
        } else if (is_saved_device(reg)) {
            g_autoptr(VireoSnapReader) r =
                vireo_snap_reader_new(vireo_snap_find(sections, reg->ops->name, reg->base));
            if (!reg->ops->load(reg->opaque, r, error)) {
                return false;
            }
        }
    }
    return true;
}

/* Whether every part of the machine has its section, and every section but
 * RAM's belongs to a part. */
static bool check_parts(VireoMachine *m, GArray *sections, GError **error)
{
    guint n_regions, n_parts = 1;
    const VireoRegion *regions = vireo_bus_regions(vireo_machine_bus(m), &n_regions);
    guint n_other = 0;

    if (vireo_snap_find(sections, "clock", 0) == NULL) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT, "The machine state has no clock");
        return false;
    }
    for (unsigned i = 0; i < vireo_machine_n_vcpus(m); i++, n_parts++) {
        if (vireo_machine_vcpu_ops(m, i)->load == NULL) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE,
                        "This machine's vCPUs cannot be loaded");
            return false;
        }
        if (vireo_snap_find(sections, "cpu", i) == NULL) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                        "The machine state has no state for vCPU %u", i);
            return false;
        }
    }
    for (guint i = 0; i < n_regions; i++) {
        const VireoRegion *r = &regions[i];
        const char *name;
        if (r->kind == VIREO_REGION_ROM) {
            name = "rom";
        } else if (is_saved_device(r)) {
            name = r->ops->name;
            if (r->ops->load == NULL) {
                g_set_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE,
                            "The device %s (%s) cannot be loaded", r->name, r->ops->name);
                return false;
            }
        } else {
            continue;
        }
        n_parts++;
        if (vireo_snap_find(sections, name, r->base) == NULL) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                        "The machine state has no state for %s at 0x%" G_GINT64_MODIFIER "x",
                        r->name, r->base);
            return false;
        }
    }
    for (guint i = 0; i < sections->len; i++) {
        const VireoSnapSection *s = &g_array_index(sections, VireoSnapSection, i);
        if (strcmp(s->name, "ram") != 0 && strcmp(s->name, "machine") != 0 && !is_note(s)) {
            n_other++;
        }
    }
    /* Every part was found; anything more is a duplicate or a stranger. */
    if (n_other != n_parts) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                    "The machine state holds %u sections for this machine's %u parts", n_other,
                    n_parts);
        return false;
    }
    return true;
}

/*
 * RAM.
 */

static bool page_is_zero(const guint8 *p)
{
    const uint64_t *q = (const uint64_t *)(const void *)p;
    uint64_t acc = 0;

    for (unsigned i = 0; i < RAM_PAGE / 8; i += 8) {
        acc |= q[i] | q[i + 1] | q[i + 2] | q[i + 3] | q[i + 4] | q[i + 5] | q[i + 6] | q[i + 7];
        if (acc != 0) {
            return false;
        }
    }
    return true;
}

typedef struct {
    GByteArray *payload; /* NULL: an all-zero chunk */
    bool done;
} RamSlot;

typedef struct {
    const guint8 *ram;
    uint64_t size;
    guint n_chunks;
    GMutex lock;
    GCond cond;
    guint next;    /* the next chunk to compress */
    guint written; /* chunks the writer is done with */
    guint window;  /* chunks compressed ahead of the writer, at most */
    bool stop;
    RamSlot *slots;
    char *error;
} RamSave;

static guint chunk_pages(uint64_t size, uint64_t offset)
{
    return (guint)(MIN((uint64_t)RAM_CHUNK, size - offset) / RAM_PAGE);
}

/* The payload of one chunk: u32 page size, u32 pages, the bitmap of stored
 * pages, then one zstd frame of the stored pages. NULL when all are zero. */
static GByteArray *compress_chunk(ZSTD_CCtx *cctx, guint8 *staging, const guint8 *chunk,
                                  guint n_pages, char **error)
{
    guint8 bitmap[PAGES_PER_CHUNK / 8] = { 0 };
    gsize stored = 0, bound, head, n;
    GByteArray *payload;
    uint32_t v;

    for (guint p = 0; p < n_pages; p++) {
        if (!page_is_zero(chunk + (gsize)p * RAM_PAGE)) {
            bitmap[p / 8] |= (guint8)(1u << (p % 8));
            memcpy(staging + stored, chunk + (gsize)p * RAM_PAGE, RAM_PAGE);
            stored += RAM_PAGE;
        }
    }
    if (stored == 0) {
        return NULL;
    }
    bound = ZSTD_compressBound(stored);
    head = 8 + (n_pages + 7) / 8;
    payload = g_byte_array_sized_new((guint)(head + bound));
    v = GUINT32_TO_LE(RAM_PAGE);
    g_byte_array_append(payload, (const guint8 *)&v, 4);
    v = GUINT32_TO_LE(n_pages);
    g_byte_array_append(payload, (const guint8 *)&v, 4);
    g_byte_array_append(payload, bitmap, (n_pages + 7) / 8);
    g_byte_array_set_size(payload, (guint)(head + bound));
    n = ZSTD_compressCCtx(cctx, payload->data + head, bound, staging, stored, RAM_ZSTD_LEVEL);
    if (ZSTD_isError(n)) {
        *error = g_strdup_printf("RAM cannot be compressed: %s", ZSTD_getErrorName(n));
        g_byte_array_unref(payload);
        return NULL;
    }
    g_byte_array_set_size(payload, (guint)(head + n));
    return payload;
}

static gpointer ram_save_worker(gpointer data)
{
    RamSave *rs = data;
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    guint8 *staging = g_malloc(RAM_CHUNK);

    g_mutex_lock(&rs->lock);
    for (;;) {
        guint i;
        GByteArray *payload;
        char *error = NULL;
        uint64_t offset;

        while (!rs->stop && rs->next < rs->n_chunks && rs->next >= rs->written + rs->window) {
            g_cond_wait(&rs->cond, &rs->lock);
        }
        if (rs->stop || rs->next >= rs->n_chunks) {
            break;
        }
        i = rs->next++;
        g_mutex_unlock(&rs->lock);
        offset = (uint64_t)i * RAM_CHUNK;
        payload =
            compress_chunk(cctx, staging, rs->ram + offset, chunk_pages(rs->size, offset), &error);
        g_mutex_lock(&rs->lock);
        rs->slots[i].payload = payload;
        rs->slots[i].done = true;
        if (error != NULL) {
            if (rs->error == NULL) {
                rs->error = error;
            } else {
                g_free(error);
            }
            rs->stop = true;
        }
        g_cond_broadcast(&rs->cond);
    }
    g_mutex_unlock(&rs->lock);
    g_free(staging);
    ZSTD_freeCCtx(cctx);
    return NULL;
}

static bool put_ram(VireoMachine *m, VireoSnapWriter *w, GError **error)
{
    const VireoRegion *ram = vireo_bus_ram(vireo_machine_bus(m));
    RamSave rs = { 0 };
    unsigned n = n_workers();
    GThread *threads[MAX_WORKERS];
    bool ok = true;

    if (ram == NULL) {
        return true;
    }
    rs.ram = ram->host;
    rs.size = ram->size;
    rs.n_chunks = (guint)((ram->size + RAM_CHUNK - 1) / RAM_CHUNK);
    rs.window = 2 * n + 2;
    rs.slots = g_new0(RamSlot, rs.n_chunks);
    g_mutex_init(&rs.lock);
    g_cond_init(&rs.cond);
    for (unsigned t = 0; t < n; t++) {
        threads[t] = g_thread_new("vireo-save", ram_save_worker, &rs);
    }
    for (guint i = 0; i < rs.n_chunks && ok; i++) {
        GByteArray *payload;

        g_mutex_lock(&rs.lock);
        while (!rs.slots[i].done && rs.error == NULL) {
            g_cond_wait(&rs.cond, &rs.lock);
        }
        if (rs.error != NULL) {
            g_set_error_literal(error, VIREO_ERROR, VIREO_ERROR_MEMORY, rs.error);
            ok = false;
            g_mutex_unlock(&rs.lock);
            break;
        }
        payload = g_steal_pointer(&rs.slots[i].payload);
        g_mutex_unlock(&rs.lock);
        if (payload != NULL) {
            ok = vireo_snap_write_section(w, "ram", (uint64_t)i * RAM_CHUNK, RAM_VERSION,
                                          payload->data, payload->len, error);
            g_byte_array_unref(payload);
        }
        g_mutex_lock(&rs.lock);
        rs.written = i + 1;
        if (!ok) {
            rs.stop = true;
        }
        g_cond_broadcast(&rs.cond);
        g_mutex_unlock(&rs.lock);
    }
    g_mutex_lock(&rs.lock);
    rs.stop = true;
    g_cond_broadcast(&rs.cond);
    g_mutex_unlock(&rs.lock);
    for (unsigned t = 0; t < n; t++) {
        g_thread_join(threads[t]);
    }
    for (guint i = 0; i < rs.n_chunks; i++) {
        if (rs.slots[i].payload != NULL) {
            g_byte_array_unref(rs.slots[i].payload);
        }
    }
    g_free(rs.slots);
    g_free(rs.error);
    g_mutex_clear(&rs.lock);
    g_cond_clear(&rs.cond);
    return ok;
}

typedef struct {
    guint8 *dest; /* the new RAM */
    uint64_t size;
    const VireoSnapSection **chunks; /* the RAM sections */
    guint n_chunks;
    gint next;
    GMutex lock;
    char *error;
} RamLoad;

static char *load_chunk(ZSTD_DCtx *dctx, guint8 *staging, guint8 *dest, uint64_t size,
                        const VireoSnapSection *s)
{
    uint64_t offset = s->instance;
    guint n_pages, stored = 0;
    const guint8 *bitmap;
    unsigned long long content;
    gsize head, n;
    uint32_t v;

    if (s->version != RAM_VERSION) {
        return g_strdup_printf("a RAM chunk has layout version %u", s->version);
    }
    n_pages = chunk_pages(size, offset);
    head = 8 + (n_pages + 7) / 8;
    if (s->len < head) {
        return g_strdup_printf("the RAM chunk at 0x%" G_GINT64_MODIFIER "x is cut short", offset);
    }
    memcpy(&v, s->data, 4);
    if (GUINT32_FROM_LE(v) != RAM_PAGE) {
        return g_strdup_printf("the RAM chunk at 0x%" G_GINT64_MODIFIER "x has pages of %u bytes",
                               offset, GUINT32_FROM_LE(v));
    }
    memcpy(&v, s->data + 4, 4);
    if (GUINT32_FROM_LE(v) != n_pages) {
        return g_strdup_printf("the RAM chunk at 0x%" G_GINT64_MODIFIER "x has %u pages, not %u",
                               offset, GUINT32_FROM_LE(v), n_pages);
    }
    bitmap = s->data + 8;
    for (guint p = 0; p < n_pages; p++) {
        stored += (bitmap[p / 8] >> (p % 8)) & 1;
    }
    content = ZSTD_getFrameContentSize(s->data + head, s->len - head);
    if (content != (unsigned long long)stored * RAM_PAGE) {
        return g_strdup_printf("the RAM chunk at 0x%" G_GINT64_MODIFIER "x does not hold its %u "
                               "pages",
                               offset, stored);
    }
    n = ZSTD_decompressDCtx(dctx, staging, RAM_CHUNK, s->data + head, s->len - head);
    if (ZSTD_isError(n) || n != (gsize)stored * RAM_PAGE) {
        return g_strdup_printf("the RAM chunk at 0x%" G_GINT64_MODIFIER "x is corrupt", offset);
    }
    for (guint p = 0, k = 0; p < n_pages; p++) {
        if ((bitmap[p / 8] >> (p % 8)) & 1) {
            memcpy(dest + offset + (gsize)p * RAM_PAGE, staging + (gsize)k * RAM_PAGE, RAM_PAGE);
            k++;
        }
    }
    return NULL;
}

static gpointer ram_load_worker(gpointer data)
{
    RamLoad *rl = data;
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    guint8 *staging = g_malloc(RAM_CHUNK);

    for (;;) {
        gint i = g_atomic_int_add(&rl->next, 1);
        char *error;

        if (i >= (gint)rl->n_chunks || g_atomic_pointer_get(&rl->error) != NULL) {
            break;
        }
        error = load_chunk(dctx, staging, rl->dest, rl->size, rl->chunks[i]);
        if (error != NULL) {
            g_mutex_lock(&rl->lock);
            if (rl->error == NULL) {
                g_atomic_pointer_set(&rl->error, error);
            } else {
                g_free(error);
            }
            g_mutex_unlock(&rl->lock);
        }
    }
    g_free(staging);
    ZSTD_freeDCtx(dctx);
    return NULL;
}

/* RAM from the stream in a new mapping of RAM's size, or NULL. */
static guint8 *load_ram(VireoMachine *m, GArray *sections, GError **error)
{
    const VireoRegion *ram = vireo_bus_ram(vireo_machine_bus(m));
    guint n_chunks = (guint)((ram->size + RAM_CHUNK - 1) / RAM_CHUNK);
    g_autofree guint8 *seen = g_malloc0(n_chunks);
    RamLoad rl = { 0 };
    unsigned n = n_workers();
    GThread *threads[MAX_WORKERS];
    guint8 *dest;

    rl.chunks = g_new(const VireoSnapSection *, sections->len);
    for (guint i = 0; i < sections->len; i++) {
        const VireoSnapSection *s = &g_array_index(sections, VireoSnapSection, i);
        if (strcmp(s->name, "ram") != 0) {
            continue;
        }
        if (s->instance % RAM_CHUNK != 0 || s->instance >= ram->size ||
            seen[s->instance / RAM_CHUNK]) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                        "The machine state has a RAM chunk at 0x%" G_GINT64_MODIFIER
                        "x, which is %s",
                        s->instance,
                        s->instance < ram->size && s->instance % RAM_CHUNK == 0 ? "repeated"
                                                                                : "out of RAM");
            g_free(rl.chunks);
            return NULL;
        }
        seen[s->instance / RAM_CHUNK] = 1;
        rl.chunks[rl.n_chunks++] = s;
    }
    dest = mmap(NULL, ram->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (dest == MAP_FAILED) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_MEMORY,
                    "No memory for loading %" G_GUINT64_FORMAT " MiB of RAM", ram->size >> 20);
        g_free(rl.chunks);
        return NULL;
    }
    madvise(dest, ram->size, MADV_HUGEPAGE);
    rl.dest = dest;
    rl.size = ram->size;
    g_mutex_init(&rl.lock);
    n = MIN(n, MAX(rl.n_chunks, 1));
    for (unsigned t = 0; t < n; t++) {
        threads[t] = g_thread_new("vireo-load", ram_load_worker, &rl);
    }
    for (unsigned t = 0; t < n; t++) {
        g_thread_join(threads[t]);
    }
    g_mutex_clear(&rl.lock);
    g_free(rl.chunks);
    if (rl.error != NULL) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT, "The machine state is invalid: %s",
                    rl.error);
        g_free(rl.error);
        munmap(dest, ram->size);
        return NULL;
    }
    return dest;
}

/*
 * The whole machine.
 */

bool vireo_machine_state_write(VireoMachine *m, VireoSnapWriter *w, GError **error)
{
    put_shape(m, w);
    return vireo_snap_end_section(w, error) && put_parts(m, w, error) && put_ram(m, w, error) &&
           vireo_snap_writer_finish(w, error);
}

static bool to_bytes(void *opaque, const void *data, gsize len, GError **error)
{
    (void)error;
    g_byte_array_append(opaque, data, (guint)len);
    return true;
}

bool vireo_machine_state_read(VireoMachine *m, const guint8 *stream, gsize len, GError **error)
{
    const VireoRegion *ram = vireo_bus_ram(vireo_machine_bus(m));
    g_autoptr(GArray) sections = vireo_snap_parse(stream, len, error);
    g_autoptr(GByteArray) undo = NULL;
    g_autoptr(GArray) undo_sections = NULL;
    guint8 *new_ram = NULL;
    GError *apply_error = NULL;
    guint first;

    if (sections == NULL) {
        return false;
    }
    for (first = 0; first < sections->len; first++) {
        if (!is_note(&g_array_index(sections, VireoSnapSection, first))) {
            break;
        }
    }
    if (first == sections->len ||
        strcmp(g_array_index(sections, VireoSnapSection, first).name, "machine") != 0) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                    "The machine state does not start with the machine's shape");
        return false;
    }
    if (!check_shape(m, &g_array_index(sections, VireoSnapSection, first), error) ||
        !check_parts(m, sections, error)) {
        return false;
    }
    if (ram != NULL && (new_ram = load_ram(m, sections, error)) == NULL) {
        return false;
    }

    /* What the machine holds now, to go back to if a part refuses its
     * state. */
    undo = g_byte_array_new();
    {
        g_autoptr(VireoSnapWriter) uw = vireo_snap_writer_new(to_bytes, undo);
        if (!put_parts(m, uw, error) || !vireo_snap_writer_finish(uw, error)) {
            if (new_ram != NULL) {
                munmap(new_ram, ram->size);
            }
            return false;
        }
    }
    undo_sections = vireo_snap_parse(undo->data, undo->len, NULL);
    g_assert(undo_sections != NULL);

    if (!apply_parts(m, sections, &apply_error)) {
        g_autoptr(GError) undo_error = NULL;
        if (!apply_parts(m, undo_sections, &undo_error)) {
            g_warning("The machine's earlier state could not be restored: %s", undo_error->message);
        }
        if (new_ram != NULL) {
            munmap(new_ram, ram->size);
        }
        g_propagate_error(error, apply_error);
        return false;
    }
    if (new_ram != NULL) {
        if (mremap(new_ram, ram->size, ram->size, MREMAP_MAYMOVE | MREMAP_FIXED, ram->host) ==
            MAP_FAILED) {
            int saved = errno;
            g_autoptr(GError) undo_error = NULL;
            if (!apply_parts(m, undo_sections, &undo_error)) {
                g_warning("The machine's earlier state could not be restored: %s",
                          undo_error->message);
            }
            munmap(new_ram, ram->size);
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_MEMORY,
                        "The saved RAM cannot take the place of the machine's: %s",
                        g_strerror(saved));
            return false;
        }
        /* Decoded code of the old RAM is stale. */
        vireo_bus_note_ram_write(vireo_machine_bus(m), ram->base, ram->size);
    }
    return true;
}

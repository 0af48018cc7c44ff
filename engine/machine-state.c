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
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zstd.h>

#define RAM_PAGE        4096u
#define RAM_CHUNK       (2u << 20)
#define PAGES_PER_CHUNK (RAM_CHUNK / RAM_PAGE)
#define RAM_ZSTD_LEVEL  1
#define SHAPE_VERSION   1
#define CLOCK_VERSION   1
#define RAM_VERSION     1
#define RAM_NAME        "ram"       /* a chunk of RAM: pages not stored are zero */
#define RAM_DIRTY_NAME  "ram-dirty" /* pages of a chunk written since the last copy */
#define MASK_WORDS      (PAGES_PER_CHUNK / 64)
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

static bool is_ram(const VireoSnapSection *s)
{
    return strcmp(s->name, RAM_NAME) == 0 || strcmp(s->name, RAM_DIRTY_NAME) == 0;
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
        if (!is_ram(s) && strcmp(s->name, "machine") != 0 && !is_note(s)) {
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
    int pagemap;          /* /proc/self/pagemap, or -1 */
    const uint64_t *mask; /* the pages to store (ram-dirty), or NULL (ram) */
    uint64_t n_stored, n_zero;
    RamSlot *slots;
    char *error;
} RamSave;

static guint chunk_pages(uint64_t size, uint64_t offset)
{
    return (guint)(MIN((uint64_t)RAM_CHUNK, size - offset) / RAM_PAGE);
}

/* The payload of one chunk: u32 page size, u32 pages, the bitmap of stored
 * pages, then one zstd frame of the stored pages. NULL when all are zero. */
/* Which of the chunk's pages the host has ever given memory to (resident or
 * swapped out), from /proc/self/pagemap: the others read as zero, and
 * reading them would only make the host allocate them (with transparent
 * huge pages, two zeroed megabytes at a time). All of them when the host
 * does not say. */
static void touched_pages(int pagemap, const guint8 *chunk, guint n_pages, bool *touched)
{
    uint64_t entries[PAGES_PER_CHUNK];
    off_t at = (off_t)((uintptr_t)chunk / RAM_PAGE * sizeof(uint64_t));

    if (pagemap < 0 || pread(pagemap, entries, n_pages * sizeof(uint64_t), at) !=
                           (ssize_t)(n_pages * sizeof(uint64_t))) {
        for (guint p = 0; p < n_pages; p++) {
            touched[p] = true;
        }
        return;
    }
    for (guint p = 0; p < n_pages; p++) {
        /* Bit 63: present; bit 62: swapped. */
        touched[p] = (entries[p] >> 62) != 0;
    }
}

/* `mask`: the chunk's pages to store, zero or not (MASK_WORDS words); NULL
 * for every page that is not zero. */
static GByteArray *compress_chunk(ZSTD_CCtx *cctx, guint8 *staging, int pagemap,
                                  const guint8 *chunk, guint n_pages, const uint64_t *mask,
                                  guint *n_stored, guint *n_zero, char **error)
{
    guint8 bitmap[PAGES_PER_CHUNK / 8] = { 0 };
    bool touched[PAGES_PER_CHUNK];
    gsize stored = 0, bound, head, n;
    GByteArray *payload;
    uint32_t v;

    if (mask == NULL) {
        touched_pages(pagemap, chunk, n_pages, touched);
    }
    for (guint p = 0; p < n_pages; p++) {
        bool store = mask != NULL ? (mask[p / 64] >> (p % 64)) & 1 : touched[p];
        if (store && mask == NULL && page_is_zero(chunk + (gsize)p * RAM_PAGE)) {
            (*n_zero)++;
            store = false;
        }
        if (store) {
            bitmap[p / 8] |= (guint8)(1u << (p % 8));
            memcpy(staging + stored, chunk + (gsize)p * RAM_PAGE, RAM_PAGE);
            stored += RAM_PAGE;
        }
    }
    *n_stored = (guint)(stored / RAM_PAGE);
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

static bool mask_empty(const uint64_t *mask, guint n_pages)
{
    for (guint w = 0; w < (n_pages + 63) / 64; w++) {
        if (mask[w] != 0) {
            return false;
        }
    }
    return true;
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
        guint n_stored = 0, n_zero = 0;

        while (!rs->stop && rs->next < rs->n_chunks && rs->next >= rs->written + rs->window) {
            g_cond_wait(&rs->cond, &rs->lock);
        }
        if (rs->stop || rs->next >= rs->n_chunks) {
            break;
        }
        i = rs->next++;
        g_mutex_unlock(&rs->lock);
        offset = (uint64_t)i * RAM_CHUNK;
        payload = NULL;
        if (rs->mask == NULL ||
            !mask_empty(rs->mask + (gsize)i * MASK_WORDS, chunk_pages(rs->size, offset))) {
            payload = compress_chunk(cctx, staging, rs->pagemap, rs->ram + offset,
                                     chunk_pages(rs->size, offset),
                                     rs->mask != NULL ? rs->mask + (gsize)i * MASK_WORDS : NULL,
                                     &n_stored, &n_zero, &error);
        }
        g_mutex_lock(&rs->lock);
        rs->slots[i].payload = payload;
        rs->slots[i].done = true;
        rs->n_stored += n_stored;
        rs->n_zero += n_zero;
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

/* RAM's chunks as sections: RAM_NAME ones for every page (`mask` NULL), or
 * RAM_DIRTY_NAME ones for the pages set in `mask` (one bit per page). */
static bool put_ram(VireoMachine *m, VireoSnapWriter *w, const uint64_t *mask,
                    VireoRamSaveStats *stats, GError **error)
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
    rs.mask = mask;
    rs.slots = g_new0(RamSlot, rs.n_chunks);
    rs.pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
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
            ok = vireo_snap_write_section(w, mask != NULL ? RAM_DIRTY_NAME : RAM_NAME,
                                          (uint64_t)i * RAM_CHUNK, RAM_VERSION, payload->data,
                                          payload->len, error);
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
    if (stats != NULL) {
        stats->pages += rs.n_stored;
        stats->zero_pages += rs.n_zero;
    }
    g_free(rs.slots);
    g_free(rs.error);
    if (rs.pagemap >= 0) {
        close(rs.pagemap);
    }
    g_mutex_clear(&rs.lock);
    g_cond_clear(&rs.cond);
    return ok;
}

/*
 * Loading RAM takes two passes over the chunks, each on several threads:
 * the first checks every chunk's framing (its header, its bitmap, its
 * frame's size and block structure) before anything changes; the second,
 * once the vCPUs and devices took their state, writes RAM in place: stored
 * pages decompressed straight into their places, other pages zeroed where
 * they are not already. The stream's checksums make a frame that passes the
 * first pass and fails the second one made on purpose; the machine then
 * stops with a fault rather than run on half-loaded RAM.
 */
typedef struct {
    guint8 *ram;
    uint64_t size;
    const VireoSnapSection **by_chunk; /* per RAM chunk: its section or NULL */
    guint n_chunks;
    bool write;  /* the second pass */
    bool dirty;  /* RAM_DIRTY_NAME sections: pages not stored stay as they are */
    int pagemap; /* /proc/self/pagemap, or -1 */
    gint next;
    GMutex lock;
    char *error;
} RamLoad;

/* The stored pages of a checked chunk: how many, and its frame. */
static char *check_chunk(const VireoSnapSection *s, uint64_t size, guint *n_stored,
                         const guint8 **bitmap, const guint8 **frame, gsize *frame_len)
{
    uint64_t offset = s->instance;
    guint n_pages = chunk_pages(size, offset), stored = 0;
    gsize head = 8 + (n_pages + 7) / 8;
    unsigned long long content;
    uint32_t v;

    if (s->version != RAM_VERSION) {
        return g_strdup_printf("a RAM chunk has layout version %u", s->version);
    }
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
    *bitmap = s->data + 8;
    for (guint p = 0; p < n_pages; p++) {
        stored += ((*bitmap)[p / 8] >> (p % 8)) & 1;
    }
    if ((n_pages % 8) != 0 && ((*bitmap)[n_pages / 8] >> (n_pages % 8)) != 0) {
        return g_strdup_printf(
            "the RAM chunk at 0x%" G_GINT64_MODIFIER "x marks pages past its end", offset);
    }
    *frame = s->data + head;
    *frame_len = s->len - head;
    content = ZSTD_getFrameContentSize(*frame, *frame_len);
    if (stored == 0 || content != (unsigned long long)stored * RAM_PAGE) {
        return g_strdup_printf("the RAM chunk at 0x%" G_GINT64_MODIFIER "x does not hold its %u "
                               "pages",
                               offset, stored);
    }
    *n_stored = stored;
    return NULL;
}

/* Zeroes the pages of [p, p + n_pages) that are not zero already (pages the
 * host never gave memory to are). */
static void zero_pages(int pagemap, guint8 *p, guint n_pages)
{
    bool touched[PAGES_PER_CHUNK];

    touched_pages(pagemap, p, n_pages, touched);
    for (guint i = 0; i < n_pages; i++) {
        guint8 *page = p + (gsize)i * RAM_PAGE;
        if (touched[i] && !page_is_zero(page)) {
            memset(page, 0, RAM_PAGE);
        }
    }
}

static char *load_chunk(RamLoad *rl, ZSTD_DCtx *dctx, guint index)
{
    const VireoSnapSection *s = rl->by_chunk[index];
    uint64_t offset = (uint64_t)index * RAM_CHUNK;
    guint n_pages = chunk_pages(rl->size, offset), n_stored;
    const guint8 *bitmap = NULL, *frame = NULL;
    gsize frame_len = 0;
    ZSTD_inBuffer in;
    guint8 none;
    ZSTD_outBuffer end = { &none, 0, 0 };
    size_t left;
    bool done = false;
    char *why;

    if (s == NULL) {
        if (rl->write && !rl->dirty) {
            zero_pages(rl->pagemap, rl->ram + offset, n_pages);
        }
        return NULL;
    }
    why = check_chunk(s, rl->size, &n_stored, &bitmap, &frame, &frame_len);
    if (why != NULL) {
        return why;
    }
    if (!rl->write) {
        /* The frame's blocks must end where the section does. */
        size_t n = ZSTD_findFrameCompressedSize(frame, frame_len);
        if (ZSTD_isError(n) || n != frame_len) {
            return g_strdup_printf("the RAM chunk at 0x%" G_GINT64_MODIFIER "x is corrupt", offset);
        }
        return NULL;
    }
    in = (ZSTD_inBuffer){ frame, frame_len, 0 };
    ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
    for (guint p = 0; p < n_pages;) {
        bool stored = (bitmap[p / 8] >> (p % 8)) & 1;
        guint run = 1;
        ZSTD_outBuffer out;

        while (p + run < n_pages && (((bitmap[(p + run) / 8] >> ((p + run) % 8)) & 1) == stored)) {
            run++;
        }
        if (!stored) {
            if (!rl->dirty) {
                zero_pages(rl->pagemap, rl->ram + offset + (gsize)p * RAM_PAGE, run);
            }
            p += run;
            continue;
        }
        out = (ZSTD_outBuffer){ rl->ram + offset + (gsize)p * RAM_PAGE, (gsize)run * RAM_PAGE, 0 };
        while (out.pos < out.size) {
            size_t r = ZSTD_decompressStream(dctx, &out, &in);
            done = r == 0;
            if (ZSTD_isError(r) || (r != 0 && in.pos == in.size && out.pos < out.size)) {
                return g_strdup_printf("the RAM chunk at 0x%" G_GINT64_MODIFIER "x is corrupt",
                                       offset);
            }
            if (r == 0 && out.pos < out.size) {
                return g_strdup_printf("the RAM chunk at 0x%" G_GINT64_MODIFIER "x ends early",
                                       offset);
            }
        }
        p += run;
    }
    /* The frame's end, which a full output may have left unread. */
    left = done ? 0 : ZSTD_decompressStream(dctx, &end, &in);
    if (ZSTD_isError(left) || left != 0 || in.pos != in.size) {
        return g_strdup_printf("the RAM chunk at 0x%" G_GINT64_MODIFIER "x does not end with its "
                               "pages",
                               offset);
    }
    return NULL;
}

static gpointer ram_load_worker(gpointer data)
{
    RamLoad *rl = data;
    ZSTD_DCtx *dctx = ZSTD_createDCtx();

    for (;;) {
        gint i = g_atomic_int_add(&rl->next, 1);
        char *error;

        if (i >= (gint)rl->n_chunks || g_atomic_pointer_get(&rl->error) != NULL) {
            break;
        }
        error = load_chunk(rl, dctx, (guint)i);
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
    ZSTD_freeDCtx(dctx);
    return NULL;
}

/* One pass over RAM's chunks; false with the first problem. */
static bool ram_pass(RamLoad *rl, bool write, GError **error)
{
    unsigned n = MIN(n_workers(), MAX(rl->n_chunks, 1));
    GThread *threads[MAX_WORKERS];
    guint work = 0;

    rl->write = write;
    rl->next = 0;
    /* Chunks with something to do: every one, unless pages not stored stay
     * as they are (a few pages of a migration's last round). */
    for (guint i = 0; i < rl->n_chunks && work <= 1; i++) {
        work += !rl->dirty || rl->by_chunk[i] != NULL;
    }
    if (work <= 1) {
        ram_load_worker(rl); /* not worth a thread */
        n = 0;
    }
    for (unsigned t = 0; t < n; t++) {
        threads[t] = g_thread_new("vireo-load", ram_load_worker, rl);
    }
    for (unsigned t = 0; t < n; t++) {
        g_thread_join(threads[t]);
    }
    if (rl->error != NULL) {
        g_set_error(error, VIREO_ERROR, write ? VIREO_ERROR_MEMORY : VIREO_ERROR_FORMAT,
                    "The machine state is invalid: %s", rl->error);
        g_clear_pointer(&rl->error, g_free);
        return false;
    }
    return true;
}

/* Sets up a RAM load into [ram, ram + size) and checks every chunk. The
 * stream's RAM sections are all RAM_NAME ones or, where `dirty_ok`, all
 * RAM_DIRTY_NAME ones, one per chunk at most. */
static bool ram_check(GArray *sections, guint8 *ram, uint64_t size, bool dirty_ok, RamLoad *rl,
                      GError **error)
{
    bool seen = false;

    rl->ram = ram;
    rl->size = size;
    rl->n_chunks = (guint)((size + RAM_CHUNK - 1) / RAM_CHUNK);
    rl->by_chunk = g_new0(const VireoSnapSection *, rl->n_chunks);
    rl->pagemap = -1;
    g_mutex_init(&rl->lock);
    for (guint i = 0; i < sections->len; i++) {
        const VireoSnapSection *s = &g_array_index(sections, VireoSnapSection, i);
        bool dirty = strcmp(s->name, RAM_DIRTY_NAME) == 0;

        if (!is_ram(s)) {
            continue;
        }
        if (dirty && !dirty_ok) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                        "The machine state holds changes to RAM without the RAM they change");
            return false;
        }
        if (seen && dirty != rl->dirty) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                        "The machine state holds both RAM and changes to it");
            return false;
        }
        seen = true;
        rl->dirty = dirty;
        if (s->instance % RAM_CHUNK != 0 || s->instance >= size ||
            rl->by_chunk[s->instance / RAM_CHUNK] != NULL) {
            g_set_error(
                error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                "The machine state has a RAM chunk at 0x%" G_GINT64_MODIFIER "x, which is %s",
                s->instance,
                s->instance < size && s->instance % RAM_CHUNK == 0 ? "repeated" : "out of RAM");
            return false;
        }
        rl->by_chunk[s->instance / RAM_CHUNK] = s;
    }
    return ram_pass(rl, false, error);
}

static void ram_load_clear(RamLoad *rl)
{
    g_free(rl->by_chunk);
    if (rl->pagemap >= 0) {
        close(rl->pagemap);
    }
    if (rl->by_chunk != NULL || rl->ram != NULL) {
        g_mutex_clear(&rl->lock);
    }
}

/*
 * The whole machine.
 */

/* RAM arriving ahead of its machine (live migration). */
struct VireoRamImage {
    guint8 *host;
    uint64_t size;
};

bool vireo_machine_state_write(VireoMachine *m, VireoSnapWriter *w, const uint64_t *dirty,
                               GError **error)
{
    put_shape(m, w);
    return vireo_snap_end_section(w, error) && put_parts(m, w, error) &&
           put_ram(m, w, dirty, NULL, error) && vireo_snap_writer_finish(w, error);
}

bool vireo_machine_ram_write(VireoMachine *m, VireoSnapWriter *w, const uint64_t *dirty,
                             VireoRamSaveStats *stats, GError **error)
{
    return put_ram(m, w, dirty, stats, error) && vireo_snap_writer_finish(w, error);
}

static bool to_bytes(void *opaque, const void *data, gsize len, GError **error)
{
    (void)error;
    g_byte_array_append(opaque, data, (guint)len);
    return true;
}

bool vireo_machine_state_read(VireoMachine *m, const guint8 *stream, gsize len,
                              VireoRamImage *image, GError **error)
{
    const VireoRegion *ram = vireo_bus_ram(vireo_machine_bus(m));
    g_autoptr(GArray) sections = vireo_snap_parse(stream, len, error);
    g_autoptr(GByteArray) undo = NULL;
    g_autoptr(GArray) undo_sections = NULL;
    RamLoad rl = { 0 };
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
    if (image != NULL && (ram == NULL || image->host == NULL || image->size != ram->size)) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                    "The machine's RAM arrived in another size");
        return false;
    }
    if (image == NULL && ram != NULL &&
        !ram_check(sections, ram->host, ram->size, false, &rl, error)) {
        ram_load_clear(&rl);
        return false;
    }

    /* What the machine holds now, to go back to if a part refuses its
     * state. */
    undo = g_byte_array_new();
    {
        g_autoptr(VireoSnapWriter) uw = vireo_snap_writer_new(to_bytes, undo);
        if (!put_parts(m, uw, error) || !vireo_snap_writer_finish(uw, error)) {
            ram_load_clear(&rl);
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
        ram_load_clear(&rl);
        g_propagate_error(error, apply_error);
        return false;
    }
    if (image != NULL) {
        vireo_bus_replace_ram(vireo_machine_bus(m), image->host);
        image->host = NULL;
        vireo_bus_note_ram_write(vireo_machine_bus(m), ram->base, ram->size);
    } else if (ram != NULL) {
        GError *ram_error = NULL;
        bool ok;
        rl.pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
        ok = ram_pass(&rl, true, &ram_error);
        ram_load_clear(&rl);
        /* Decoded code of the old RAM is stale. */
        vireo_bus_note_ram_write(vireo_machine_bus(m), ram->base, ram->size);
        if (!ok) {
            g_prefix_error(&ram_error, "RAM was loaded only in part: ");
            vireo_machine_request_fault(m, ram_error->message);
            g_propagate_error(error, ram_error);
            return false;
        }
    }
    return true;
}

VireoRamImage *vireo_ram_image_new(uint64_t size, GError **error)
{
    VireoRamImage *image;
    guint8 *host = vireo_bus_map_ram(size, error);

    if (host == NULL) {
        return NULL;
    }
    image = g_new0(VireoRamImage, 1);
    image->host = host;
    image->size = size;
    return image;
}

void vireo_ram_image_free(VireoRamImage *image)
{
    if (image == NULL) {
        return;
    }
    if (image->host != NULL) {
        vireo_bus_unmap_ram(image->host, image->size);
    }
    g_free(image);
}

bool vireo_ram_image_apply(VireoRamImage *image, const guint8 *stream, gsize len, bool ram_only,
                           GError **error)
{
    g_autoptr(GArray) sections = vireo_snap_parse(stream, len, error);
    RamLoad rl = { 0 };
    bool ok;

    if (sections == NULL) {
        return false;
    }
    if (image->host == NULL) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT, "The RAM was given to a machine");
        return false;
    }
    ok = false;
    for (guint i = 0; i < sections->len; i++) {
        const VireoSnapSection *s = &g_array_index(sections, VireoSnapSection, i);
        if (is_ram(s)) {
            ok = true;
        } else if (ram_only) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                        "The RAM stream holds a section “%s”, which is not RAM", s->name);
            return false;
        }
    }
    if (!ok) {
        return true; /* no RAM in it: nothing to change */
    }
    ok = ram_check(sections, image->host, image->size, true, &rl, error);
    if (ok) {
        rl.pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
        ok = ram_pass(&rl, true, error);
    }
    ram_load_clear(&rl);
    return ok;
}

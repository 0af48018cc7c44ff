/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Snapshots of a whole machine, kept in its disks' qcow2 images
 * (docs/SNAPSHOTS.md): the machine's state stream goes into the first
 * writable disk's vm-state area, then every writable disk takes an
 * internal snapshot of the same name.
 */
#include "devices/snapshot.h"

#include "engine/error.h"
#include "engine/snap.h"

#include <string.h>
#include <sys/mman.h>

#define MAX_NAME      127
#define WRITE_BUFFER  (4u << 20)
#define MAX_THUMBNAIL (4u << 20)
#define STATE_SLACK   (64ull << 20) /* machine state beyond RAM's size */

/* The writable disks, in the board's order; NULL with the reason when the
 * machine's snapshots cannot be kept in them. */
static GPtrArray *snapshot_disks(VireoBoard *board, GError **error)
{
    g_autoptr(GPtrArray) disks = g_ptr_array_new();
    VireoBlock *block;

    for (unsigned i = 0; (block = vireo_board_get_disk(board, i)) != NULL; i++) {
        if (vireo_block_get_flags(block) & VIREO_BLOCK_READ_ONLY) {
            continue;
        }
        if (!vireo_block_supports_snapshots(block)) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                        "Snapshots need qcow2 disks; the disk %s is a raw image",
                        vireo_block_get_name(block));
            return NULL;
        }
        g_ptr_array_add(disks, block);
    }
    if (disks->len == 0) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "Snapshots need a writable qcow2 disk to be kept in; this VM has none");
        return NULL;
    }
    return g_steal_pointer(&disks);
}

bool vireo_snapshot_supported(VireoBoard *board, GError **error)
{
    g_autoptr(GPtrArray) disks = snapshot_disks(board, error);

    return disks != NULL;
}

static bool check_name(const char *name, GError **error)
{
    gsize len = name != NULL ? strlen(name) : 0;

    if (len == 0 || len > MAX_NAME || !g_utf8_validate(name, (gssize)len, NULL)) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "A snapshot's name must be 1 to %d bytes of text", MAX_NAME);
        return false;
    }
    for (const char *p = name; *p != '\0'; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if (g_unichar_iscntrl(c) || g_unichar_type(c) == G_UNICODE_FORMAT) {
            g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                        "A snapshot's name cannot hold control or formatting characters");
            return false;
        }
    }
    return true;
}

static VireoBlockSnapshot *find_snapshot(VireoBlock *block, const char *id_or_name, GError **error)
{
    g_autoptr(GPtrArray) list = vireo_block_snapshot_list(block, error);

    if (list == NULL) {
        return NULL;
    }
    /* An id first, then a name, as QEMU looks them up. */
    for (int pass = 0; pass < 2; pass++) {
        for (guint i = 0; i < list->len; i++) {
            VireoBlockSnapshot *s = g_ptr_array_index(list, i);
            if (g_strcmp0(pass == 0 ? s->id : s->name, id_or_name) == 0) {
                return g_ptr_array_steal_index(list, i);
            }
        }
    }
    g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG, "The disk %s has no snapshot “%s”",
                vireo_block_get_name(block), id_or_name);
    return NULL;
}

/* The machine's state, written in large pieces to the first disk's vm-state
 * area. */
typedef struct {
    VireoBlock *block;
    uint64_t pos;
    GByteArray *buffer;
    uint64_t expected; /* for progress */
    VireoSnapshotProgressFunc progress;
    void *user_data;
} StateOut;

static bool state_flush(StateOut *out, GError **error)
{
    if (out->buffer->len == 0) {
        return true;
    }
    if (!vireo_block_vmstate_write(out->block, out->pos, out->buffer->data, out->buffer->len,
                                   error)) {
        return false;
    }
    out->pos += out->buffer->len;
    g_byte_array_set_size(out->buffer, 0);
    if (out->progress != NULL && out->expected > 0) {
        out->progress(MIN(0.95, (double)out->pos / (double)out->expected), out->user_data);
    }
    return true;
}

static bool state_write(void *opaque, const void *data, gsize len, GError **error)
{
    StateOut *out = opaque;

    if (len >= WRITE_BUFFER) {
        if (!state_flush(out, error) ||
            !vireo_block_vmstate_write(out->block, out->pos, data, len, error)) {
            return false;
        }
        out->pos += len;
        return true;
    }
    g_byte_array_append(out->buffer, data, (guint)len);
    return out->buffer->len < WRITE_BUFFER || state_flush(out, error);
}

static uint64_t clock_ns(VireoMachine *machine)
{
    VireoClock *clock = vireo_machine_clock(machine);
    uint64_t ticks = vireo_clock_now(clock), hz = vireo_clock_frequency(clock);

    return ticks / hz * G_GUINT64_CONSTANT(1000000000) +
           ticks % hz * G_GUINT64_CONSTANT(1000000000) / hz;
}

/* Pauses a running machine; returns whether it ran. */
static bool hold(VireoMachine *machine)
{
    bool running = vireo_machine_state(machine) == VIREO_MACHINE_RUNNING;

    if (running) {
        vireo_machine_pause(machine);
    }
    return running;
}

static void release(VireoMachine *machine, bool running)
{
    if (running) {
        vireo_machine_resume(machine);
    }
}

static bool save_paused(VireoBoard *board, GPtrArray *disks, const char *name, GBytes *thumbnail,
                        VireoSnapshotProgressFunc progress, void *user_data, GError **error)
{
    VireoMachine *machine = vireo_board_get_machine(board);
    VireoBlock *first = g_ptr_array_index(disks, 0);
    const VireoRegion *ram = vireo_bus_ram(vireo_machine_bus(machine));
    StateOut out = {
        .block = first,
        .buffer = g_byte_array_new(),
        .expected = ram != NULL ? ram->size / 2 : 0,
        .progress = progress,
        .user_data = user_data,
    };
    g_autoptr(VireoSnapWriter) w = vireo_snap_writer_new(state_write, &out);
    uint64_t vm_ns = clock_ns(machine);
    bool ok = true;
    guint done = 0;

    if (thumbnail != NULL) {
        gsize len;
        const void *png = g_bytes_get_data(thumbnail, &len);
        ok = vireo_snap_write_section(w, VIREO_SNAP_THUMBNAIL, 0, 1, png, MIN(len, MAX_THUMBNAIL),
                                      error);
    }
    ok = ok && vireo_machine_save_state(machine, w, error) && state_flush(&out, error);
    g_byte_array_unref(out.buffer);
    if (!ok) {
        return false;
    }
    /* An earlier snapshot of that name goes, as with QEMU's savevm. */
    for (guint i = 0; i < disks->len; i++) {
        VireoBlock *block = g_ptr_array_index(disks, i);
        g_autoptr(VireoBlockSnapshot) old = find_snapshot(block, name, NULL);
        if (old != NULL && !vireo_block_snapshot_delete(block, old->id, error)) {
            return false;
        }
    }
    for (; done < disks->len; done++) {
        VireoBlock *block = g_ptr_array_index(disks, done);
        if (!vireo_block_snapshot_create(block, name, done == 0 ? out.pos : 0, vm_ns, error)) {
            break;
        }
    }
    if (done < disks->len) {
        /* All disks or none. */
        for (guint i = 0; i < done; i++) {
            vireo_block_snapshot_delete(g_ptr_array_index(disks, i), name, NULL);
        }
        return false;
    }
    if (progress != NULL) {
        progress(1.0, user_data);
    }
    return true;
}

bool vireo_snapshot_save(VireoBoard *board, const char *name, GBytes *thumbnail,
                         VireoSnapshotProgressFunc progress, void *user_data, GError **error)
{
    VireoMachine *machine = vireo_board_get_machine(board);
    g_autoptr(GPtrArray) disks = NULL;
    bool running, ok;

    if (!check_name(name, error) || (disks = snapshot_disks(board, error)) == NULL) {
        return false;
    }
    running = hold(machine);
    ok = save_paused(board, disks, name, thumbnail, progress, user_data, error);
    release(machine, running);
    return ok;
}

/* The whole vm-state of snapshot `s` of `block`, in a mapping of its size
 * (munmap). */
static guint8 *read_state(VireoBlock *block, const VireoBlockSnapshot *s, uint64_t limit,
                          GError **error)
{
    guint8 *data;

    if (s->vm_state_size == 0) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "The snapshot “%s” holds only the disk, not the machine's state", s->name);
        return NULL;
    }
    if (s->vm_state_size > limit) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT,
                    "The snapshot “%s” claims %" G_GUINT64_FORMAT
                    " bytes of machine state, more than this machine can hold",
                    s->name, s->vm_state_size);
        return NULL;
    }
    /* Huge pages where the host has them: fewer faults while it fills. */
    data = mmap(NULL, s->vm_state_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (data != MAP_FAILED) {
        madvise(data, s->vm_state_size, MADV_HUGEPAGE);
    } else {
        data = NULL;
    }
    if (data == NULL) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_MEMORY,
                    "No memory for reading %" G_GUINT64_FORMAT " MiB of machine state",
                    s->vm_state_size >> 20);
        return NULL;
    }
    if (!vireo_block_snapshot_read_vmstate(block, s->id, 0, data, s->vm_state_size, error)) {
        munmap(data, s->vm_state_size);
        return NULL;
    }
    return data;
}

bool vireo_snapshot_load(VireoBoard *board, const char *name, VireoSnapshotProgressFunc progress,
                         void *user_data, GError **error)
{
    VireoMachine *machine = vireo_board_get_machine(board);
    const VireoRegion *ram = vireo_bus_ram(vireo_machine_bus(machine));
    g_autoptr(GPtrArray) disks = snapshot_disks(board, error);
    g_autoptr(VireoBlockSnapshot) snap = NULL;
    guint8 *state = NULL;
    bool running, ok;

    if (disks == NULL) {
        return false;
    }
    snap = find_snapshot(g_ptr_array_index(disks, 0), name, error);
    if (snap == NULL) {
        return false;
    }
    /* Every disk must be able to go back with the machine. */
    for (guint i = 1; i < disks->len; i++) {
        g_autoptr(VireoBlockSnapshot) other =
            find_snapshot(g_ptr_array_index(disks, i), snap->name, error);
        if (other == NULL) {
            return false;
        }
    }
    state = read_state(g_ptr_array_index(disks, 0), snap,
                       (ram != NULL ? ram->size : 0) * 2 + STATE_SLACK, error);
    if (state == NULL) {
        return false;
    }
    if (progress != NULL) {
        progress(0.5, user_data);
    }
    running = hold(machine);
    ok = vireo_machine_load_state(machine, state, snap->vm_state_size, error);
    munmap(state, snap->vm_state_size);
    if (!ok) {
        release(machine, running);
        return false;
    }
    for (guint i = 0; i < disks->len; i++) {
        VireoBlock *block = g_ptr_array_index(disks, i);
        if (!vireo_block_snapshot_goto(block, i == 0 ? snap->id : snap->name, error)) {
            g_prefix_error(error, "The machine was restored but its disk %s was not: ",
                           vireo_block_get_name(block));
            release(machine, running);
            return false;
        }
    }
    if (progress != NULL) {
        progress(1.0, user_data);
    }
    release(machine, running);
    return true;
}

bool vireo_snapshot_delete(VireoBoard *board, const char *name, GError **error)
{
    g_autoptr(GPtrArray) disks = snapshot_disks(board, error);
    g_autoptr(VireoBlockSnapshot) snap = NULL;

    if (disks == NULL) {
        return false;
    }
    snap = find_snapshot(g_ptr_array_index(disks, 0), name, error);
    if (snap == NULL) {
        return false;
    }
    for (guint i = 0; i < disks->len; i++) {
        VireoBlock *block = g_ptr_array_index(disks, i);
        g_autoptr(VireoBlockSnapshot) mine = NULL;
        if (i == 0) {
            if (!vireo_block_snapshot_delete(block, snap->id, error)) {
                return false;
            }
            continue;
        }
        /* Other disks may lack it (a disk added later). */
        mine = find_snapshot(block, snap->name, NULL);
        if (mine != NULL && !vireo_block_snapshot_delete(block, mine->id, error)) {
            return false;
        }
    }
    return true;
}

static GPtrArray *with_state(GPtrArray *list)
{
    for (guint i = list->len; i-- > 0;) {
        VireoBlockSnapshot *s = g_ptr_array_index(list, i);
        if (s->vm_state_size == 0) {
            g_ptr_array_remove_index(list, i);
        }
    }
    return list;
}

GPtrArray *vireo_snapshot_list(VireoBoard *board, GError **error)
{
    g_autoptr(GPtrArray) disks = snapshot_disks(board, error);
    GPtrArray *list;

    if (disks == NULL) {
        return NULL;
    }
    list = vireo_block_snapshot_list(g_ptr_array_index(disks, 0), error);
    return list != NULL ? with_state(list) : NULL;
}

static GBytes *thumbnail_of(VireoBlock *block, const char *name, GError **error)
{
    g_autoptr(VireoBlockSnapshot) snap = find_snapshot(block, name, error);
    g_autofree guint8 *data = NULL;
    gsize have = 0, needed = 4096;
    VireoSnapSection section;

    if (snap == NULL) {
        return NULL;
    }
    for (;;) {
        GError *local = NULL;
        needed = MIN(needed, snap->vm_state_size);
        if (needed <= have) {
            return NULL; /* no thumbnail fits in the state: there is none */
        }
        data = g_realloc(data, needed);
        if (!vireo_block_snapshot_read_vmstate(block, snap->id, have, data + have, needed - have,
                                               error)) {
            return NULL;
        }
        have = needed;
        if (vireo_snap_parse_first(data, have, &section, &needed, &local)) {
            break;
        }
        if (local != NULL) {
            g_propagate_error(error, local);
            return NULL;
        }
        if (needed > MAX_THUMBNAIL + 4096) {
            return NULL;
        }
    }
    if (strcmp(section.name, VIREO_SNAP_THUMBNAIL) != 0) {
        return NULL;
    }
    return g_bytes_new(section.data, section.len);
}

GBytes *vireo_snapshot_thumbnail(VireoBoard *board, const char *name, GError **error)
{
    g_autoptr(GPtrArray) disks = snapshot_disks(board, error);

    if (disks == NULL) {
        return NULL;
    }
    return thumbnail_of(g_ptr_array_index(disks, 0), name, error);
}

static VireoBlock *open_file(const char *disk_path, GError **error)
{
    VireoBlock *block = vireo_block_open_format(disk_path, VIREO_BLOCK_FORMAT_AUTO, true, error);

    if (block != NULL && !vireo_block_supports_snapshots(block)) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG,
                    "Snapshots need qcow2 disks; %s is a raw image", disk_path);
        vireo_block_free(block);
        return NULL;
    }
    return block;
}

GPtrArray *vireo_snapshot_list_file(const char *disk_path, GError **error)
{
    VireoBlock *block = open_file(disk_path, error);
    GPtrArray *list;

    if (block == NULL) {
        return NULL;
    }
    list = vireo_block_snapshot_list(block, error);
    vireo_block_free(block);
    return list != NULL ? with_state(list) : NULL;
}

GBytes *vireo_snapshot_thumbnail_file(const char *disk_path, const char *name, GError **error)
{
    VireoBlock *block = open_file(disk_path, error);
    GBytes *png;

    if (block == NULL) {
        return NULL;
    }
    png = thumbnail_of(block, name, error);
    vireo_block_free(block);
    return png;
}

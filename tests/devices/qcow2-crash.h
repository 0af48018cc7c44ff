/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * The crash test's shared definitions: the disk is cut into 4 KiB blocks,
 * each holding a tag (its index and the number of the write that put it
 * there) and bytes derived from the tag, so that a block read back says
 * which write it came from, or that it is garbage. A workload of random
 * writes, discards, flushes and snapshot operations notes each operation
 * in a journal before it starts and, for flushes and snapshot operations,
 * again once it returned; replaying the journal says what each block may
 * hold after a crash at any point.
 */

#include "qcow2-util.h"

#include <glib.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define CRASH_BLOCK     4096u
#define CRASH_DISK_SIZE (8u << 20)
#define CRASH_BLOCKS    (CRASH_DISK_SIZE / CRASH_BLOCK)
#define CRASH_MAGIC     0x4b435156u /* "VQCK" */

static inline uint64_t crash_next(uint64_t *s)
{
    uint64_t x = *s;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

/* The block `index` as write `seq` leaves it (seq 0: zeros). */
static inline void crash_block(guint8 *buf, uint32_t index, uint64_t seq)
{
    uint64_t s = seq * 0x9e3779b97f4a7c15ull + index + 1;

    if (seq == 0) {
        memset(buf, 0, CRASH_BLOCK);
        return;
    }
    for (uint32_t i = 0; i < CRASH_BLOCK; i += 8) {
        uint64_t v = crash_next(&s);
        memcpy(buf + i, &v, 8);
    }
    memcpy(buf, &(uint32_t){ CRASH_MAGIC }, 4);
    memcpy(buf + 4, &index, 4);
    memcpy(buf + 8, &seq, 8);
}

/* Which write a block read back came from: its seq, 0 for zeros, or -1
 * for anything else. */
static inline int64_t crash_identify(const guint8 *buf, uint32_t index)
{
    guint8 want[CRASH_BLOCK];
    uint32_t magic, got_index;
    uint64_t seq;

    memcpy(&magic, buf, 4);
    memcpy(&got_index, buf + 4, 4);
    memcpy(&seq, buf + 8, 8);
    if (magic != CRASH_MAGIC) {
        for (uint32_t i = 0; i < CRASH_BLOCK; i++) {
            if (buf[i] != 0) {
                return -1;
            }
        }
        return 0;
    }
    if (got_index != index || seq == 0 || seq > (uint64_t)G_MAXINT64) {
        return -1;
    }
    crash_block(want, index, seq);
    return memcmp(want, buf, CRASH_BLOCK) == 0 ? (int64_t)seq : -1;
}

/* A snapshot's machine state: `size` bytes derived from its name. */
static inline void crash_vmstate(guint8 *buf, gsize size, const char *name)
{
    uint64_t s = g_str_hash(name) | 1;

    for (gsize i = 0; i < size; i++) {
        buf[i] = (guint8)(crash_next(&s) >> 24);
    }
}

/* ---- The workload ------------------------------------------------------------------ */

typedef struct {
    char *name;
    uint64_t *map;
} CrashSnap;

static inline void crash_snap_free(gpointer p)
{
    CrashSnap *s = p;

    g_free(s->name);
    g_free(s->map);
    g_free(s);
}

typedef struct {
    void (*note)(void *ctx, const char *line); /* appends a line to the journal */
    void *ctx;
    uint64_t cur[CRASH_BLOCKS]; /* what the disk holds, as far as the workload knows */
    uint64_t seq;               /* the number of the last block written */
    GPtrArray *snaps;           /* CrashSnap */
    int names;
    const char *tag; /* in snapshot names */
} CrashWorkload;

static inline void crash_note(CrashWorkload *w, const char *format, ...) G_GNUC_PRINTF(2, 3);

static inline void crash_note(CrashWorkload *w, const char *format, ...)
{
    g_autofree char *line = NULL;
    va_list ap;

    va_start(ap, format);
    line = g_strdup_vprintf(format, ap);
    va_end(ap);
    w->note(w->ctx, line);
}

/* Runs up to `ops` operations on `b`; false, with what failed in *why, at
 * the first that fails. */
static inline bool crash_workload_run(CrashWorkload *w, VireoBlock *b, GRand *r, bool snapshots,
                                      int ops, char **why)
{
    g_autoptr(GError) error = NULL;
    g_autofree guint8 *buf = g_malloc(16 * CRASH_BLOCK);
    g_autofree guint8 *vm = g_malloc(300000);

    if (w->snaps == NULL) {
        w->snaps = g_ptr_array_new_with_free_func(crash_snap_free);
    }
    for (int op = 0; op < ops; op++) {
        int kind = g_rand_int_range(r, 0, 100);
        uint32_t first = (uint32_t)g_rand_int_range(r, 0, CRASH_BLOCKS);
        uint32_t want = (uint32_t)g_rand_int_range(r, 1, 17);
        uint32_t n = MIN(want, CRASH_BLOCKS - first);
        struct iovec iov = { buf, (size_t)n * CRASH_BLOCK };
        int err;

        if (kind < 55) {
            crash_note(w, "W %u %u %" G_GUINT64_FORMAT "\n", first, n, w->seq + 1);
            for (uint32_t i = 0; i < n; i++) {
                w->cur[first + i] = ++w->seq;
                crash_block(buf + (size_t)i * CRASH_BLOCK, first + i, w->seq);
            }
            err = vireo_block_pwritev(b, &iov, 1, (uint64_t)first * CRASH_BLOCK);
            if (err != 0) {
                *why =
                    g_strdup_printf("a write of %u blocks at %u: %s", n, first, g_strerror(-err));
                return false;
            }
        } else if (kind < 65) {
            crash_note(w, "Z %u %u\n", first, n);
            err = kind & 1 ? vireo_block_discard(b, (uint64_t)first * CRASH_BLOCK,
                                                 (uint64_t)n * CRASH_BLOCK)
                           : vireo_block_write_zeroes(b, (uint64_t)first * CRASH_BLOCK,
                                                      (uint64_t)n * CRASH_BLOCK);
            if (err != 0) {
                *why = g_strdup_printf("a discard: %s", g_strerror(-err));
                return false;
            }
            memset(w->cur + first, 0, n * sizeof *w->cur);
        } else if (kind < 75) {
            err = vireo_block_flush(b);
            if (err != 0) {
                *why = g_strdup_printf("a flush: %s", g_strerror(-err));
                return false;
            }
            crash_note(w, "F\n");
        } else if (kind < 85) {
            err = vireo_block_preadv(b, &iov, 1, (uint64_t)first * CRASH_BLOCK);
            if (err != 0) {
                *why = g_strdup_printf("a read: %s", g_strerror(-err));
                return false;
            }
            for (uint32_t i = 0; i < n; i++) {
                if (crash_identify(buf + (size_t)i * CRASH_BLOCK, first + i) !=
                    (int64_t)w->cur[first + i]) {
                    /* Not a failure to stop at: a bug. */
                    g_error("block %u read back is not what was written", first + i);
                }
            }
        } else if (!snapshots) {
            continue;
        } else if (kind < 91 && w->snaps->len < 5) {
            CrashSnap *s = g_new0(CrashSnap, 1);
            gsize size = (gsize)g_rand_int_range(r, 0, 300000);

            s->name = g_strdup_printf("s%d-%s", w->names++, w->tag);
            s->map = g_memdup2(w->cur, sizeof w->cur);
            g_ptr_array_add(w->snaps, s);
            crash_vmstate(vm, size, s->name);
            for (gsize pos = 0; pos < size; pos += 65000) {
                if (!vireo_block_vmstate_write(b, pos, vm + pos, MIN(65000, size - pos), &error)) {
                    *why = g_strdup(error->message);
                    return false;
                }
            }
            crash_note(w, "C %s %" G_GSIZE_FORMAT "\n", s->name, size);
            if (!vireo_block_snapshot_create(b, s->name, size, (uint64_t)op, &error)) {
                *why = g_strdup(error->message);
                return false;
            }
            crash_note(w, "c %s\n", s->name);
        } else if (kind < 96 && w->snaps->len > 0) {
            CrashSnap *s =
                g_ptr_array_index(w->snaps, g_rand_int_range(r, 0, (gint32)w->snaps->len));

            crash_note(w, "G %s\n", s->name);
            if (!vireo_block_snapshot_goto(b, s->name, &error)) {
                *why = g_strdup(error->message);
                return false;
            }
            crash_note(w, "g %s\n", s->name);
            memcpy(w->cur, s->map, sizeof w->cur);
        } else if (w->snaps->len > 0) {
            guint k = (guint)g_rand_int_range(r, 0, (gint32)w->snaps->len);
            CrashSnap *s = g_ptr_array_index(w->snaps, k);

            crash_note(w, "D %s\n", s->name);
            if (!vireo_block_snapshot_delete(b, s->name, &error)) {
                *why = g_strdup(error->message);
                return false;
            }
            crash_note(w, "d %s\n", s->name);
            g_ptr_array_remove_index(w->snaps, k);
        }
    }
    return true;
}

/* ---- Replaying the journal ------------------------------------------------------------ */

typedef struct {
    uint64_t *map;
    gsize vm_size;
    bool done;    /* the create returned */
    bool deleted; /* a delete began */
} CrashSnapRec;

static inline void crash_snap_rec_free(gpointer p)
{
    CrashSnapRec *s = p;

    g_free(s->map);
    g_free(s);
}

typedef struct {
    uint64_t committed[CRASH_BLOCKS];
    uint64_t latest[CRASH_BLOCKS];
    GArray *pending[CRASH_BLOCKS]; /* values begun since the last durable point */
    GHashTable *snaps;             /* name -> CrashSnapRec */
    int lines;
} CrashReplay;

static inline CrashReplay *crash_replay_new(const uint64_t *now)
{
    CrashReplay *r = g_new0(CrashReplay, 1);

    memcpy(r->committed, now, sizeof r->committed);
    memcpy(r->latest, now, sizeof r->latest);
    r->snaps = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, crash_snap_rec_free);
    return r;
}

static inline void crash_pending_add(CrashReplay *r, uint32_t b, uint64_t v)
{
    if (r->pending[b] == NULL) {
        r->pending[b] = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    }
    g_array_append_val(r->pending[b], v);
}

static inline void crash_durable(CrashReplay *r)
{
    memcpy(r->committed, r->latest, sizeof r->committed);
    for (uint32_t b = 0; b < CRASH_BLOCKS; b++) {
        if (r->pending[b] != NULL) {
            g_array_free(r->pending[b], TRUE);
            r->pending[b] = NULL;
        }
    }
}

static inline void crash_replay_free(CrashReplay *r)
{
    crash_durable(r);
    g_hash_table_destroy(r->snaps);
    g_free(r);
}

static inline bool crash_allowed(CrashReplay *r, uint32_t b, uint64_t v)
{
    if (v == r->committed[b]) {
        return true;
    }
    for (guint i = 0; r->pending[b] != NULL && i < r->pending[b]->len; i++) {
        if (g_array_index(r->pending[b], uint64_t, i) == v) {
            return true;
        }
    }
    return false;
}

/* Replays the journal's whole lines (the kill may have cut the last). */
static inline void crash_replay(CrashReplay *r, const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

    for (guint i = 0; lines[i] != NULL && lines[i + 1] != NULL; i++, r->lines++) {
        const char *l = lines[i];
        unsigned first, count;
        guint64 seq;
        char name[64];
        gsize size;
        CrashSnapRec *s;

        if (sscanf(l, "W %u %u %" G_GUINT64_FORMAT, &first, &count, &seq) == 3) {
            for (unsigned k = 0; k < count; k++) {
                r->latest[first + k] = seq + k;
                crash_pending_add(r, first + k, seq + k);
            }
        } else if (sscanf(l, "Z %u %u", &first, &count) == 2) {
            for (unsigned k = 0; k < count; k++) {
                r->latest[first + k] = 0;
                crash_pending_add(r, first + k, 0);
            }
        } else if (strcmp(l, "F") == 0) {
            crash_durable(r);
        } else if (sscanf(l, "C %63s %" G_GSIZE_FORMAT, name, &size) == 2) {
            s = g_new0(CrashSnapRec, 1);
            s->map = g_memdup2(r->latest, sizeof r->latest);
            s->vm_size = size;
            g_hash_table_insert(r->snaps, g_strdup(name), s);
        } else if (sscanf(l, "c %63s", name) == 1) {
            s = g_hash_table_lookup(r->snaps, name);
            g_assert_nonnull(s);
            s->done = true;
            crash_durable(r);
        } else if (sscanf(l, "G %63s", name) == 1) {
            s = g_hash_table_lookup(r->snaps, name);
            g_assert_nonnull(s);
            for (uint32_t b = 0; b < CRASH_BLOCKS; b++) {
                crash_pending_add(r, b, s->map[b]);
            }
        } else if (sscanf(l, "g %63s", name) == 1) {
            s = g_hash_table_lookup(r->snaps, name);
            g_assert_nonnull(s);
            memcpy(r->latest, s->map, sizeof r->latest);
            crash_durable(r);
        } else if (sscanf(l, "D %63s", name) == 1) {
            s = g_hash_table_lookup(r->snaps, name);
            g_assert_nonnull(s);
            s->deleted = true;
        } else if (sscanf(l, "d %63s", name) == 1) {
            g_assert_true(g_hash_table_remove(r->snaps, name));
            crash_durable(r);
        } else {
            g_error("journal line %u: “%s”", i + 1, l);
        }
    }
}

/* ---- Judging the image -------------------------------------------------------------- */

typedef struct {
    int rounds;
    int clean;
    int leaks;
    int flag_window;
    int snapshots_checked;
} CrashStats;

/* qemu-img check; leaks and, where `flags_ok`, COPIED flags that lag behind
 * the counts (docs/QCOW2.md) are repaired and counted; anything else fails. */
static inline void crash_check_image(const char *img, bool flags_ok, CrashStats *st)
{
    g_autofree char *out = NULL;
    int rc = qemu_check(img, &out);

    if (rc == 0) {
        st->clean++;
        return;
    }
    if (rc == 2 && flags_ok) {
        g_auto(GStrv) lines = g_strsplit(out, "\n", -1);

        for (guint i = 0; lines[i] != NULL; i++) {
            if (g_str_has_prefix(lines[i], "ERROR") && strstr(lines[i], "OFLAG_COPIED") == NULL) {
                g_error("qemu-img check: %s\n%s", lines[i], out);
            }
        }
        st->flag_window++;
        g_test_message("COPIED flags behind the counts, repaired:\n%s", out);
        RUN_OK("qemu-img", "check", "-q", "-r", "all", img);
        assert_check_clean(img);
        return;
    }
    if (rc != 3) {
        g_error("qemu-img check %s: %d\n%s", img, rc, out);
    }
    st->leaks++;
    g_test_message("leaked clusters, repaired: %s", out);
    RUN_OK("qemu-img", "check", "-q", "-r", "leaks", img);
    assert_check_clean(img);
}

/* Every block as the journal allows it; their values into `now`. */
static inline void crash_check_blocks(const char *img, CrashReplay *r, uint64_t *now)
{
    g_autoptr(VireoBlock) b = open_or_die(img, VIREO_BLOCK_FORMAT_QCOW2, true);
    g_autofree guint8 *disk = block_read_all(b);

    for (uint32_t i = 0; i < CRASH_BLOCKS; i++) {
        int64_t v = crash_identify(disk + (size_t)i * CRASH_BLOCK, i);

        if (v < 0) {
            g_error("block %u holds garbage after the crash", i);
        }
        if (!crash_allowed(r, i, (uint64_t)v)) {
            g_error("block %u holds write %" G_GINT64_FORMAT
                    "; the last flush left %" G_GUINT64_FORMAT " there",
                    i, v, r->committed[i]);
        }
        now[i] = (uint64_t)v;
    }
}

/* The snapshots listed are those taken and not deleted, with their machine
 * state; one of them (`pick` of them), gone to on a copy, holds its disk. */
static inline void crash_check_snapshots(const char *dir, const char *img, CrashReplay *r,
                                         guint32 pick, CrashStats *st)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *copy = g_build_filename(dir, "copy.qcow2", NULL);
    g_autoptr(VireoBlock) b = open_or_die(img, VIREO_BLOCK_FORMAT_QCOW2, true);
    g_autoptr(GPtrArray) list = vireo_block_snapshot_list(b, &error);
    g_autofree char *chosen = NULL;
    GHashTableIter it;
    gpointer key, value;

    g_assert_no_error(error);
    for (guint i = 0; i < list->len; i++) {
        VireoBlockSnapshot *s = g_ptr_array_index(list, i);
        CrashSnapRec *rec = g_hash_table_lookup(r->snaps, s->name);
        g_autofree guint8 *vm = NULL, *want = NULL;

        if (rec == NULL) {
            g_error("snapshot %s was deleted, yet it is listed", s->name);
        }
        g_assert_cmpuint(s->vm_state_size, ==, rec->vm_size);
        vm = g_malloc(rec->vm_size + 1);
        want = g_malloc(rec->vm_size + 1);
        if (rec->vm_size > 0) {
            g_assert_true(
                vireo_block_snapshot_read_vmstate(b, s->name, 0, vm, rec->vm_size, &error));
            g_assert_no_error(error);
            crash_vmstate(want, rec->vm_size, s->name);
            g_assert_cmpmem(vm, rec->vm_size, want, rec->vm_size);
        }
        if (i == pick % list->len) {
            chosen = g_strdup(s->name);
        }
    }
    g_hash_table_iter_init(&it, r->snaps);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        CrashSnapRec *rec = value;
        bool listed = false;

        for (guint i = 0; i < list->len; i++) {
            listed |= strcmp(((VireoBlockSnapshot *)g_ptr_array_index(list, i))->name, key) == 0;
        }
        if (rec->done && !rec->deleted && !listed) {
            g_error("snapshot %s was taken, yet it is not listed", (const char *)key);
        }
    }
    if (chosen != NULL) {
        CrashSnapRec *rec = g_hash_table_lookup(r->snaps, chosen);
        g_autoptr(VireoBlock) c = NULL;
        g_autofree guint8 *disk = NULL;

        g_clear_pointer(&b, vireo_block_free);
        g_unlink(copy);
        RUN_OK("cp", "--sparse=always", img, copy);
        c = open_or_die(copy, VIREO_BLOCK_FORMAT_QCOW2, false);
        g_assert_true(vireo_block_snapshot_goto(c, chosen, &error));
        g_assert_no_error(error);
        disk = block_read_all(c);
        for (uint32_t i = 0; i < CRASH_BLOCKS; i++) {
            int64_t v = crash_identify(disk + (size_t)i * CRASH_BLOCK, i);
            if (v < 0 || (uint64_t)v != rec->map[i]) {
                g_error("snapshot %s: block %u holds %" G_GINT64_FORMAT ", not %" G_GUINT64_FORMAT,
                        chosen, i, v, rec->map[i]);
            }
        }
        st->snapshots_checked++;
        g_clear_pointer(&c, vireo_block_free);
        g_unlink(copy);
    }
}

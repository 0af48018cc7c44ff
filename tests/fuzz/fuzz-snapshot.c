/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer target: a machine-state stream (docs/SNAPSHOTS.md) loaded into a
 * real `virt` machine with two harts, 4 MiB of RAM, a disk, the console,
 * the entropy device, a 2D display, a keyboard and a tablet
 * (vireo_machine_load_state). The input's section checksums and the end
 * section's count are made right before the load, so that the fuzzer gets
 * past the framing to every part's own checks; the input itself is a
 * stream like the seeds, which are states of that machine.
 *
 * Invariants: a refused stream leaves the machine's saved state exactly as
 * it was, except for RAM frames that pass their checksums and framing but
 * do not decompress, which stop the machine with a fault (docs/SNAPSHOTS.md);
 * an accepted one is saved again without trouble. After an accepted one, or
 * such a fault, the machine goes back to its first state.
 */
#include "devices/virt.h"
#include "engine/error.h"
#include "engine/snap.h"
#include "snap-fix-up.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static VireoMachine *machine;
static GByteArray *baseline;

static bool to_bytes(void *opaque, const void *data, gsize len, GError **error)
{
    (void)error;
    g_byte_array_append(opaque, data, (guint)len);
    return true;
}

static GByteArray *save(void)
{
    GByteArray *out = g_byte_array_new();
    g_autoptr(VireoSnapWriter) w = vireo_snap_writer_new(to_bytes, out);
    g_autoptr(GError) error = NULL;

    if (!vireo_machine_save_state(machine, w, &error)) {
        fprintf(stderr, "save: %s\n", error->message);
        abort();
    }
    return out;
}

static void set_up(void)
{
    /* The hart spins at the kernel's address; it never runs here. */
    static const guint8 spin[] = { 0x6f, 0x00, 0x00, 0x00 }; /* j . */
    static VireoVirtDisk disk;
    g_autoptr(GError) error = NULL;
    char *dir = g_dir_make_tmp("vireo-fuzz-snap-XXXXXX", &error);
    char *kernel, *image;
    VireoVirtConfig c = { 0 };

    if (dir == NULL) {
        abort();
    }
    kernel = g_build_filename(dir, "spin.bin", NULL);
    image = g_build_filename(dir, "disk.img", NULL);
    if (!g_file_set_contents(kernel, (const char *)spin, sizeof spin, &error) ||
        !g_file_set_contents(image, "", 0, &error) || truncate(image, 1 << 20) != 0) {
        abort();
    }
    disk.path = image;
    c.ram_size = 4ull << 20;
    c.n_harts = 2;
    c.kernel = kernel;
    c.cmdline = "console=ttyS0";
    c.console = vireo_ring_new(4096);
    c.hvc = vireo_ring_new(4096);
    c.disks = &disk;
    c.n_disks = 1;
    c.gpu = VIREO_VIRT_GPU_2D;
    c.input = true;
    machine = vireo_virt_new(&c, NULL, &error);
    if (machine == NULL) {
        fprintf(stderr, "virt: %s\n", error->message);
        abort();
    }
    /* The files are open; their names can go. */
    g_unlink(kernel);
    g_unlink(image);
    g_rmdir(dir);
    g_free(kernel);
    g_free(image);
    g_free(dir);
    baseline = save();
    /* The seed corpus: this machine's own state. */
    if (g_getenv("VIREO_FUZZ_SEED_OUT") != NULL &&
        !g_file_set_contents(g_getenv("VIREO_FUZZ_SEED_OUT"), (const char *)baseline->data,
                             baseline->len, NULL)) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    g_autofree guint8 *stream = NULL;
    GByteArray *after;
    bool ok;

    if (machine == NULL) {
        set_up();
    }
    if (size > (32u << 20)) {
        return 0;
    }
    stream = g_memdup2(data, size);
    vireo_fuzz_snap_fix_up(stream, size);
    ok = vireo_machine_load_state(machine, stream, size, &error);
    if (!ok && (error == NULL || error->message == NULL || error->message[0] == '\0')) {
        abort(); /* a refusal says why */
    }
    if (!ok && strstr(error->message, "RAM was loaded only in part") != NULL) {
        /* A frame whose checksum passes but whose blocks do not decompress
         * (made so on purpose: the target fixes checksums up) is found only
         * while RAM is written; the machine then stops with a fault
         * (docs/SNAPSHOTS.md). The first state must still load. */
        g_autoptr(GError) back = NULL;
        if (!vireo_machine_load_state(machine, baseline->data, baseline->len, &back)) {
            fprintf(stderr, "the first state does not load again: %s\n", back->message);
            abort();
        }
        return 0;
    }
    after = save();
    if (!ok) {
        /* Nothing changed. */
        if (after->len != baseline->len || memcmp(after->data, baseline->data, after->len) != 0) {
            fprintf(stderr, "a refused stream changed the machine: %s\n", error->message);
            abort();
        }
    } else {
        g_autoptr(GError) back = NULL;
        if (!vireo_machine_load_state(machine, baseline->data, baseline->len, &back)) {
            fprintf(stderr, "the first state does not load again: %s\n", back->message);
            abort();
        }
    }
    g_byte_array_unref(after);
    return 0;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * libFuzzer target: a round of live migration's RAM (docs/MIGRATION.md), a
 * stream of "ram" or "ram-dirty" sections as a destination receives it,
 * applied to a 4 MiB RAM image with vireo_ram_image_apply (a stream holding
 * anything but RAM refused). The section checksums and the end count are
 * made right first, so that inputs reach the chunks' own checks.
 *
 * Invariants: a refusal says why; a stream the image took is taken again,
 * by the same image and by a fresh one (what is checked does not depend on
 * what the image held).
 *
 * With VIREO_FUZZ_SEED_OUT=DIR set, the first run writes seeds there: RAM
 * rounds of a machine whose RAM holds code, text and zero pages.
 */
#include "engine/error.h"
#include "engine/machine.h"
#include "engine/snap.h"
#include "snap-fix-up.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_SIZE (4u << 20)

static bool to_bytes(void *opaque, const void *data, gsize len, GError **error)
{
    (void)error;
    g_byte_array_append(opaque, data, (guint)len);
    return true;
}

static void write_seeds(const char *dir)
{
    VireoBus *bus = vireo_bus_new();
    guint8 *ram = vireo_bus_add_ram(bus, 0x80000000ull, RAM_SIZE, NULL);
    VireoMachine *m = vireo_machine_new(bus, vireo_clock_new(1000000));
    uint64_t dirty[RAM_SIZE / 4096 / 64] = { 0 };
    const uint64_t *masks[] = { NULL, dirty };

    for (unsigned i = 0; i < 40000; i++) {
        ram[(i * 7919u) % RAM_SIZE] = (guint8)(i * 31u);
    }
    memcpy(ram + 0x200000, "a page of text", 14);
    dirty[0] = 0x8000000000000011ull; /* pages 0, 4 and 63 */
    dirty[8] = 1;                     /* the first of the second chunk */
    for (unsigned k = 0; k < G_N_ELEMENTS(masks); k++) {
        g_autoptr(GByteArray) out = g_byte_array_new();
        g_autoptr(VireoSnapWriter) w = vireo_snap_writer_new(to_bytes, out);
        g_autofree char *path = g_strdup_printf("%s/%s", dir, k == 0 ? "ram" : "ram-dirty");

        if (!vireo_machine_save_ram(m, w, masks[k], NULL, NULL) ||
            !g_file_set_contents(path, (const char *)out->data, out->len, NULL)) {
            abort();
        }
    }
    vireo_machine_free(m);
}

static VireoRamImage *image_new(void)
{
    g_autoptr(GError) error = NULL;
    VireoRamImage *image = vireo_ram_image_new(RAM_SIZE, &error);

    if (image == NULL) {
        fprintf(stderr, "image: %s\n", error->message);
        abort();
    }
    return image;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool seeded;
    g_autoptr(GError) error = NULL;
    g_autoptr(GError) again = NULL;
    g_autoptr(VireoRamImage) image = NULL;
    g_autoptr(VireoRamImage) second = NULL;
    g_autofree guint8 *stream = NULL;

    if (!seeded) {
        seeded = true;
        if (g_getenv("VIREO_FUZZ_SEED_OUT") != NULL) {
            write_seeds(g_getenv("VIREO_FUZZ_SEED_OUT"));
        }
    }
    if (size > (8u << 20)) {
        return 0;
    }
    stream = g_memdup2(data, size);
    vireo_fuzz_snap_fix_up(stream, size);
    image = image_new();
    if (!vireo_ram_image_apply(image, stream, size, true, &error)) {
        if (error == NULL || error->message == NULL || error->message[0] == '\0') {
            abort(); /* a refusal says why */
        }
        return 0;
    }
    /* Taken once, taken again: by the same image and by a fresh one. */
    second = image_new();
    if (!vireo_ram_image_apply(image, stream, size, true, &again) ||
        !vireo_ram_image_apply(second, stream, size, true, &again)) {
        fprintf(stderr, "a stream taken once is refused again: %s\n", again->message);
        abort();
    }
    return 0;
}

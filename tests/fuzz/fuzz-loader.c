/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Firmware and kernel images (devices/loader.c) as a user's file gives them:
 * the input is the file. An image that loads is laid out both ways (by its
 * physical addresses, and relocated by its virtual ones as a vmlinux is),
 * checked against a small RAM and copied into it when it fits, and its
 * symbol table is searched.
 */
#include "config.h"

#include "devices/loader.h"
#include "engine/bus.h"

#include <stdint.h>
#include <stdlib.h>

#define RAM_BASE 0x80000000ull
#define RAM_SIZE 0x100000ull

static VireoBus *bus;

static void place(VireoImage *image)
{
    g_autoptr(GError) error = NULL;
    uint64_t value;

    if (vireo_image_low(image) > vireo_image_high(image)) {
        abort();
    }
    if (vireo_image_check_ram(image, RAM_BASE, RAM_SIZE, &error)) {
        if (!vireo_image_within(image, RAM_BASE, RAM_SIZE)) {
            abort();
        }
        if (!vireo_image_copy_to(image, bus, &error)) {
            g_printerr("an image inside RAM was not copied: %s\n", error->message);
            abort();
        }
    }
    g_clear_error(&error);
    (void)vireo_image_find_symbol(image, "_start", &value, &error);
    (void)vireo_image_entry(image);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GBytes) bytes = g_bytes_new(data, size);
    g_autoptr(GError) error = NULL;
    g_autoptr(VireoImage) image = NULL;

    if (bus == NULL) {
        bus = vireo_bus_new();
        if (vireo_bus_add_ram(bus, RAM_BASE, RAM_SIZE, &error) == NULL) {
            g_printerr("%s\n", error->message);
            abort();
        }
    }
    image = vireo_image_new_from_bytes(bytes, "fuzz.img", "the image", VIREO_IMAGE_AUTO, &error);
    if (image == NULL) {
        if (error == NULL) {
            abort();
        }
        return 0;
    }
    if (!vireo_image_is_elf(image)) {
        (void)vireo_image_kernel_footprint(image);
        vireo_image_place(image, RAM_BASE, vireo_image_file_size(image));
        place(image);
        return 0;
    }
    place(image);
    vireo_image_relocate(image, RAM_BASE, 0x1000);
    place(image);
    return 0;
}

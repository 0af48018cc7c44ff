/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The demo's virtio-gpu driver (virtio 1.2 §5.7): 2D resources on the
 * control queue, no 3D, no cursor. */
#pragma once

#include "virtio.h"

#define GPU_MAX_SCANOUTS  16
#define GPU_EVENT_DISPLAY 1u

/* Pixel formats (§5.7.6.8); the demo draws 0x00RRGGBB words, which is
 * B8G8R8X8 in memory order. */
#define GPU_FORMAT_B8G8R8X8_UNORM 2

struct gpu_rect {
    uint32_t x, y, width, height;
};

struct gpu_display {
    struct gpu_rect r;
    uint32_t enabled;
    uint32_t flags;
};

struct gpu {
    struct virtio_dev dev;
    struct virtq control;
    uint32_t num_scanouts;
    unsigned queued; /* commands in the current batch */
    unsigned errors; /* commands the device answered with an error */
};

/* Finds, starts and sets up the device. */
bool gpu_open(struct gpu *gpu, const struct board_info *board);
/* The pending display events (VIRTIO_GPU_EVENT_DISPLAY), cleared. */
uint32_t gpu_take_events(struct gpu *gpu);
/* GET_DISPLAY_INFO, sent alone and waited for. */
bool gpu_get_display_info(struct gpu *gpu, struct gpu_display out[GPU_MAX_SCANOUTS]);

/* The commands below are queued; gpu_submit() sends the batch and waits
 * for every answer (a full batch is sent on its own). */
void gpu_resource_create_2d(struct gpu *gpu, uint32_t id, uint32_t format, uint32_t width,
                            uint32_t height);
void gpu_resource_unref(struct gpu *gpu, uint32_t id);
void gpu_attach_backing(struct gpu *gpu, uint32_t id, uint64_t addr, uint32_t length);
void gpu_detach_backing(struct gpu *gpu, uint32_t id);
void gpu_set_scanout(struct gpu *gpu, uint32_t scanout, uint32_t id, struct gpu_rect r);
void gpu_transfer_to_host_2d(struct gpu *gpu, uint32_t id, struct gpu_rect r, uint64_t offset);
void gpu_resource_flush(struct gpu *gpu, uint32_t id, struct gpu_rect r);
bool gpu_submit(struct gpu *gpu);

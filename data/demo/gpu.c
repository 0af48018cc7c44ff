/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * virtio-gpu, 2D (virtio 1.2 §5.7). Each command is a chain of two
 * descriptors: the request, readable by the device, and the response,
 * writable. Command slot i uses descriptors 2i and 2i + 1, so a batch holds
 * half as many commands as the queue has entries; a batch is sent with one
 * notification and waited for as a whole, so slots are reused only once
 * the device is done with them.
 */
#include "gpu.h"

#define GPU_CMD_GET_DISPLAY_INFO        0x0100
#define GPU_CMD_RESOURCE_CREATE_2D      0x0101
#define GPU_CMD_RESOURCE_UNREF          0x0102
#define GPU_CMD_SET_SCANOUT             0x0103
#define GPU_CMD_RESOURCE_FLUSH          0x0104
#define GPU_CMD_TRANSFER_TO_HOST_2D     0x0105
#define GPU_CMD_RESOURCE_ATTACH_BACKING 0x0106
#define GPU_CMD_RESOURCE_DETACH_BACKING 0x0107
#define GPU_RESP_OK_NODATA              0x1100
#define GPU_RESP_OK_DISPLAY_INFO        0x1101

/* Configuration space (§5.7.4). */
#define GPU_CONFIG_EVENTS_READ  (VIRTIO_MMIO_CONFIG + 0)
#define GPU_CONFIG_EVENTS_CLEAR (VIRTIO_MMIO_CONFIG + 4)
#define GPU_CONFIG_NUM_SCANOUTS (VIRTIO_MMIO_CONFIG + 8)

#define GPU_TIMEOUT_MS 5000

struct gpu_ctrl_hdr {
    uint32_t type;
    uint32_t flags;
    uint64_t fence_id;
    uint32_t ctx_id;
    uint8_t ring_idx;
    uint8_t padding[3];
};

struct gpu_resp_display_info {
    struct gpu_ctrl_hdr hdr;
    struct gpu_display pmodes[GPU_MAX_SCANOUTS];
};

struct gpu_resource_create_2d {
    struct gpu_ctrl_hdr hdr;
    uint32_t resource_id, format, width, height;
};

struct gpu_resource_id {
    struct gpu_ctrl_hdr hdr;
    uint32_t resource_id, padding;
};

struct gpu_attach_backing {
    struct gpu_ctrl_hdr hdr;
    uint32_t resource_id, nr_entries;
    struct {
        uint64_t addr;
        uint32_t length, padding;
    } entry;
};

struct gpu_set_scanout {
    struct gpu_ctrl_hdr hdr;
    struct gpu_rect r;
    uint32_t scanout_id, resource_id;
};

struct gpu_transfer_to_host_2d {
    struct gpu_ctrl_hdr hdr;
    struct gpu_rect r;
    uint64_t offset;
    uint32_t resource_id, padding;
};

struct gpu_resource_flush {
    struct gpu_ctrl_hdr hdr;
    struct gpu_rect r;
    uint32_t resource_id, padding;
};

_Static_assert(sizeof(struct gpu_ctrl_hdr) == 24, "ctrl_hdr layout");
_Static_assert(sizeof(struct gpu_resp_display_info) == 24 + 16 * 24, "display info layout");
_Static_assert(sizeof(struct gpu_attach_backing) == 48, "attach_backing layout");
_Static_assert(sizeof(struct gpu_transfer_to_host_2d) == 56, "transfer layout");

#define SLOTS (VIRTQ_MAX_SIZE / 2)

static struct {
    union {
        struct gpu_ctrl_hdr hdr;
        uint8_t bytes[64];
    } req;
    struct gpu_ctrl_hdr resp;
} slots[SLOTS] __attribute__((aligned(64)));

static struct gpu_resp_display_info display_info __attribute__((aligned(64)));

bool gpu_open(struct gpu *gpu, const struct board_info *board)
{
    memset(gpu, 0, sizeof *gpu);
    if (!virtio_find(board, VIRTIO_ID_GPU, &gpu->dev))
        return false;
    if (!virtio_start(&gpu->dev, 0, NULL))
        return false;
    if (!virtio_queue_setup(&gpu->dev, &gpu->control, 0)) {
        uart_puts("vireo-demo: the GPU's control queue cannot be set up\n");
        return false;
    }
    virtio_ready(&gpu->dev);
    gpu->num_scanouts = mmio_read32(gpu->dev.base + GPU_CONFIG_NUM_SCANOUTS);
    platform_enable_irq(gpu->dev.irq);
    return true;
}

uint32_t gpu_take_events(struct gpu *gpu)
{
    uint32_t events = mmio_read32(gpu->dev.base + GPU_CONFIG_EVENTS_READ);
    if (events != 0)
        mmio_write32(gpu->dev.base + GPU_CONFIG_EVENTS_CLEAR, events);
    return events;
}

static unsigned batch_capacity(struct gpu *gpu)
{
    return gpu->control.size / 2;
}

/* The request buffer of a new command in the batch, zeroed, its header set. */
static void *queue_command(struct gpu *gpu, uint32_t type, uint32_t length)
{
    if (gpu->queued == batch_capacity(gpu))
        gpu_submit(gpu);
    unsigned i = gpu->queued++;
    struct virtq *q = &gpu->control;
    memset(&slots[i], 0, sizeof slots[i]);
    slots[i].req.hdr.type = type;
    q->desc[2 * i] = (struct virtq_desc){ (uintptr_t)&slots[i].req, length, VIRTQ_DESC_F_NEXT,
                                          (uint16_t)(2 * i + 1) };
    q->desc[2 * i + 1] = (struct virtq_desc){ (uintptr_t)&slots[i].resp, sizeof slots[i].resp,
                                              VIRTQ_DESC_F_WRITE, 0 };
    virtq_push(q, (uint16_t)(2 * i));
    return &slots[i].req;
}

static const char *command_name(uint32_t type)
{
    switch (type) {
    case GPU_CMD_RESOURCE_CREATE_2D: return "RESOURCE_CREATE_2D";
    case GPU_CMD_RESOURCE_UNREF: return "RESOURCE_UNREF";
    case GPU_CMD_SET_SCANOUT: return "SET_SCANOUT";
    case GPU_CMD_RESOURCE_FLUSH: return "RESOURCE_FLUSH";
    case GPU_CMD_TRANSFER_TO_HOST_2D: return "TRANSFER_TO_HOST_2D";
    case GPU_CMD_RESOURCE_ATTACH_BACKING: return "RESOURCE_ATTACH_BACKING";
    case GPU_CMD_RESOURCE_DETACH_BACKING: return "RESOURCE_DETACH_BACKING";
    default: return "command";
    }
}

bool gpu_submit(struct gpu *gpu)
{
    unsigned n = gpu->queued;
    bool ok = true;

    if (n == 0)
        return true;
    gpu->queued = 0;
    virtio_notify(&gpu->dev, &gpu->control);
    if (!virtio_wait_idle(&gpu->dev, &gpu->control, GPU_TIMEOUT_MS))
        power_off(TEST_FAIL(4));
    for (unsigned i = 0; i < n; i++) {
        if (slots[i].resp.type != GPU_RESP_OK_NODATA) {
            /* Report the first few; a device that refuses everything would
             * otherwise flood the console every frame. */
            if (gpu->errors++ < 8)
                uart_printf("vireo-demo: %s answered %x\n", command_name(slots[i].req.hdr.type),
                            slots[i].resp.type);
            ok = false;
        }
    }
    return ok;
}

bool gpu_get_display_info(struct gpu *gpu, struct gpu_display out[GPU_MAX_SCANOUTS])
{
    struct virtq *q = &gpu->control;

    gpu_submit(gpu);
    memset(&slots[0], 0, sizeof slots[0]);
    memset(&display_info, 0, sizeof display_info);
    slots[0].req.hdr.type = GPU_CMD_GET_DISPLAY_INFO;
    q->desc[0] = (struct virtq_desc){ (uintptr_t)&slots[0].req, sizeof(struct gpu_ctrl_hdr),
                                      VIRTQ_DESC_F_NEXT, 1 };
    q->desc[1] =
        (struct virtq_desc){ (uintptr_t)&display_info, sizeof display_info, VIRTQ_DESC_F_WRITE, 0 };
    virtq_push(q, 0);
    virtio_notify(&gpu->dev, q);
    if (!virtio_wait_idle(&gpu->dev, q, GPU_TIMEOUT_MS))
        power_off(TEST_FAIL(4));
    if (display_info.hdr.type != GPU_RESP_OK_DISPLAY_INFO) {
        uart_printf("vireo-demo: GET_DISPLAY_INFO answered %x\n", display_info.hdr.type);
        return false;
    }
    memcpy(out, display_info.pmodes, sizeof display_info.pmodes);
    return true;
}

void gpu_resource_create_2d(struct gpu *gpu, uint32_t id, uint32_t format, uint32_t width,
                            uint32_t height)
{
    struct gpu_resource_create_2d *c = queue_command(gpu, GPU_CMD_RESOURCE_CREATE_2D, sizeof *c);
    c->resource_id = id;
    c->format = format;
    c->width = width;
    c->height = height;
}

void gpu_resource_unref(struct gpu *gpu, uint32_t id)
{
    struct gpu_resource_id *c = queue_command(gpu, GPU_CMD_RESOURCE_UNREF, sizeof *c);
    c->resource_id = id;
}

void gpu_attach_backing(struct gpu *gpu, uint32_t id, uint64_t addr, uint32_t length)
{
    struct gpu_attach_backing *c = queue_command(gpu, GPU_CMD_RESOURCE_ATTACH_BACKING, sizeof *c);
    c->resource_id = id;
    c->nr_entries = 1;
    c->entry.addr = addr;
    c->entry.length = length;
}

void gpu_detach_backing(struct gpu *gpu, uint32_t id)
{
    struct gpu_resource_id *c = queue_command(gpu, GPU_CMD_RESOURCE_DETACH_BACKING, sizeof *c);
    c->resource_id = id;
}

void gpu_set_scanout(struct gpu *gpu, uint32_t scanout, uint32_t id, struct gpu_rect r)
{
    struct gpu_set_scanout *c = queue_command(gpu, GPU_CMD_SET_SCANOUT, sizeof *c);
    c->r = r;
    c->scanout_id = scanout;
    c->resource_id = id;
}

void gpu_transfer_to_host_2d(struct gpu *gpu, uint32_t id, struct gpu_rect r, uint64_t offset)
{
    struct gpu_transfer_to_host_2d *c = queue_command(gpu, GPU_CMD_TRANSFER_TO_HOST_2D, sizeof *c);
    c->r = r;
    c->offset = offset;
    c->resource_id = id;
}

void gpu_resource_flush(struct gpu *gpu, uint32_t id, struct gpu_rect r)
{
    struct gpu_resource_flush *c = queue_command(gpu, GPU_CMD_RESOURCE_FLUSH, sizeof *c);
    c->r = r;
    c->resource_id = id;
}

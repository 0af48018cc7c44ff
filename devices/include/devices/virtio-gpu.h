/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "devices/virtio.h"
#include "engine/scanout.h"

G_BEGIN_DECLS

/*
 * virtio-gpu (virtio 1.2, 5.7): a control queue and a cursor queue in front
 * of up to VIREO_VIRTIO_GPU_MAX_SCANOUTS outputs, each a VireoScanout.
 *
 * 2D: the guest creates host-side resources (width x height pixels of one of
 * eight 32-bit formats), attaches guest pages to them as backing, copies
 * rectangles from the backing into the host copy (TRANSFER_TO_HOST_2D),
 * links a resource to an output (SET_SCANOUT) and publishes rectangles of it
 * (RESOURCE_FLUSH), which the scanout copies into its back buffer. The
 * cursor queue sets a 64 x 64 cursor image and moves it. A presenter's size
 * request becomes the output's preferred mode, announced with
 * VIRTIO_GPU_EVENT_DISPLAY and a configuration-change interrupt; the EDID
 * (VIRTIO_GPU_F_EDID) describes the same mode.
 *
 * 3D (VIRTIO_GPU_F_VIRGL, offered only when virglrenderer starts): guest
 * contexts, 3D resources, transfers both ways and command streams go to
 * virglrenderer, which renders with OpenGL contexts from a VireoGlProvider
 * (engine/scanout.h; display/egl-context.h makes one without a window
 * system). A 3D resource on an output puts its scanout in texture mode:
 * presenters sharing the provider's contexts draw the texture in place,
 * the others get pixels read back on each flush. When 3D cannot start the
 * device offers 2D only and says why (vireo_virtio_gpu_get_3d_status).
 *
 * Every command runs on the device's own thread (virglrenderer's too, as it
 * is not thread-safe): a QueueNotify only wakes it, so the vCPU never copies
 * pixels. Every guest value is checked; a malformed command gets an error
 * response (VIREO_VIRTIO_GPU_RESP_ERR_*) and the device goes on.
 * docs/VIRTIO.md lists the rules.
 */

#define VIREO_VIRTIO_ID_GPU 16

/* Feature bits (5.7.3). */
#define VIREO_VIRTIO_GPU_F_VIRGL         0
#define VIREO_VIRTIO_GPU_F_EDID          1
#define VIREO_VIRTIO_GPU_F_RESOURCE_UUID 2
#define VIREO_VIRTIO_GPU_F_RESOURCE_BLOB 3
#define VIREO_VIRTIO_GPU_F_CONTEXT_INIT  4

/* Configuration space (5.7.4): four little-endian 32-bit words. */
#define VIREO_VIRTIO_GPU_CFG_EVENTS_READ  0
#define VIREO_VIRTIO_GPU_CFG_EVENTS_CLEAR 4
#define VIREO_VIRTIO_GPU_CFG_NUM_SCANOUTS 8
#define VIREO_VIRTIO_GPU_CFG_NUM_CAPSETS  12
#define VIREO_VIRTIO_GPU_CONFIG_SIZE      16
#define VIREO_VIRTIO_GPU_EVENT_DISPLAY    (1u << 0)

#define VIREO_VIRTIO_GPU_CONTROLQ   0
#define VIREO_VIRTIO_GPU_CURSORQ    1
#define VIREO_VIRTIO_GPU_QUEUE_SIZE 256

/* Commands and responses (5.7.6.7). */
#define VIREO_VIRTIO_GPU_CMD_GET_DISPLAY_INFO        0x0100
#define VIREO_VIRTIO_GPU_CMD_RESOURCE_CREATE_2D      0x0101
#define VIREO_VIRTIO_GPU_CMD_RESOURCE_UNREF          0x0102
#define VIREO_VIRTIO_GPU_CMD_SET_SCANOUT             0x0103
#define VIREO_VIRTIO_GPU_CMD_RESOURCE_FLUSH          0x0104
#define VIREO_VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D     0x0105
#define VIREO_VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING 0x0106
#define VIREO_VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING 0x0107
#define VIREO_VIRTIO_GPU_CMD_GET_CAPSET_INFO         0x0108
#define VIREO_VIRTIO_GPU_CMD_GET_CAPSET              0x0109
#define VIREO_VIRTIO_GPU_CMD_GET_EDID                0x010a
#define VIREO_VIRTIO_GPU_CMD_CTX_CREATE              0x0200
#define VIREO_VIRTIO_GPU_CMD_CTX_DESTROY             0x0201
#define VIREO_VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE     0x0202
#define VIREO_VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE     0x0203
#define VIREO_VIRTIO_GPU_CMD_RESOURCE_CREATE_3D      0x0204
#define VIREO_VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D     0x0205
#define VIREO_VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D   0x0206
#define VIREO_VIRTIO_GPU_CMD_SUBMIT_3D               0x0207
#define VIREO_VIRTIO_GPU_CMD_UPDATE_CURSOR           0x0300
#define VIREO_VIRTIO_GPU_CMD_MOVE_CURSOR             0x0301

#define VIREO_VIRTIO_GPU_RESP_OK_NODATA               0x1100
#define VIREO_VIRTIO_GPU_RESP_OK_DISPLAY_INFO         0x1101
#define VIREO_VIRTIO_GPU_RESP_OK_CAPSET_INFO          0x1102
#define VIREO_VIRTIO_GPU_RESP_OK_CAPSET               0x1103
#define VIREO_VIRTIO_GPU_RESP_OK_EDID                 0x1104
#define VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC              0x1200
#define VIREO_VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY       0x1201
#define VIREO_VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID  0x1202
#define VIREO_VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID 0x1203
#define VIREO_VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID  0x1204
#define VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER   0x1205

#define VIREO_VIRTIO_GPU_FLAG_FENCE 1u

/* The request and response header: type, flags, fence_id (64 bits),
 * ctx_id, ring_idx and three bytes of padding. */
#define VIREO_VIRTIO_GPU_HDR_SIZE 24

/* Resource formats (5.7.6.8), named by their bytes in memory. */
#define VIREO_VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM 1
#define VIREO_VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM 2
#define VIREO_VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM 3
#define VIREO_VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM 4
#define VIREO_VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM 67
#define VIREO_VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM 68
#define VIREO_VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM 121
#define VIREO_VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM 134

#define VIREO_VIRTIO_GPU_CAPSET_VIRGL  1
#define VIREO_VIRTIO_GPU_CAPSET_VIRGL2 2

/* Limits of this device. */
#define VIREO_VIRTIO_GPU_MAX_SCANOUTS 4
/* The display info response always has 16 entries. */
#define VIREO_VIRTIO_GPU_SPEC_MAX_SCANOUTS 16
/* Resources are at most this wide and high (the scanout's limit too). */
#define VIREO_VIRTIO_GPU_MAX_DIMENSION VIREO_SCANOUT_MAX_SIZE
/* Entries of one ATTACH_BACKING (4 MiB of entries: 1 GiB in 4 KiB pages). */
#define VIREO_VIRTIO_GPU_MAX_BACKING_ENTRIES 262144
/* Host memory all 2D resources together may use. */
#define VIREO_VIRTIO_GPU_MAX_HOST_MEMORY (512ull << 20)
/* What 3D resources together may take, estimated from their sizes at 4
 * bytes per texel. */
#define VIREO_VIRTIO_GPU_MAX_3D_MEMORY (2048ull << 20)
/* Guest 3D contexts at once. */
#define VIREO_VIRTIO_GPU_MAX_CONTEXTS 256
/* Bytes of one command read from the guest; longer ones are cut here. */
#define VIREO_VIRTIO_GPU_MAX_COMMAND (16u << 20)
/* The preferred mode when nothing else asked for one. */
#define VIREO_VIRTIO_GPU_DEFAULT_WIDTH  1024
#define VIREO_VIRTIO_GPU_DEFAULT_HEIGHT 768
#define VIREO_VIRTIO_GPU_EDID_SIZE      128

typedef struct {
    /* Outputs, 1 to VIREO_VIRTIO_GPU_MAX_SCANOUTS (0 means 1). */
    unsigned n_scanouts;
    /* The VireoScanout of each output: not owned, must outlive the device.
     * A NULL entry makes the device create one of its own (freed with it). */
    VireoScanout *scanouts[VIREO_VIRTIO_GPU_MAX_SCANOUTS];
    /* The preferred mode reported until a presenter asks for a size; 0 x 0
     * means 1024 x 768. */
    int width, height;
    /* Try 3D (virgl) with OpenGL contexts from `gl` (not owned; must outlive
     * the device). Without a provider, `gl_error` says why there is none. */
    bool virgl;
    VireoGlProvider *gl;
    const char *gl_error;
} VireoVirtioGpuConfig;

typedef enum {
    VIREO_VIRTIO_GPU_3D_OFF,         /* not asked for */
    VIREO_VIRTIO_GPU_3D_ACTIVE,      /* VIRTIO_GPU_F_VIRGL is offered */
    VIREO_VIRTIO_GPU_3D_UNAVAILABLE, /* asked for, could not start: 2D only */
} VireoVirtioGpu3dStatus;

void vireo_virtio_gpu_config_init(VireoVirtioGpuConfig *config);

/* A GPU on `bus`; its thread starts at once (and, with config->virgl,
 * starts virglrenderer before this returns). */
VireoVirtio *vireo_virtio_gpu_new(VireoBus *bus, const VireoVirtioGpuConfig *config);

/* Whether 3D runs and, when it does not although asked for, why (a
 * translated sentence, valid as long as the device): for the user
 * interface. */
VireoVirtioGpu3dStatus vireo_virtio_gpu_get_3d_status(VireoVirtio *dev, const char **reason);

/* Whether `dev` is a virtio-gpu device. */
bool vireo_virtio_is_gpu(VireoVirtio *dev);
unsigned vireo_virtio_gpu_get_n_scanouts(VireoVirtio *dev);
/* Output `index`'s scanout, or NULL. */
VireoScanout *vireo_virtio_gpu_get_scanout(VireoVirtio *dev, unsigned index);

/* Writes the EDID 1.4 base block (VIREO_VIRTIO_GPU_EDID_SIZE bytes) the
 * device reports for output `index` with a preferred mode of width x
 * height. Exposed for tests. */
void vireo_virtio_gpu_build_edid(guint8 *edid, unsigned index, int width, int height);

G_END_DECLS

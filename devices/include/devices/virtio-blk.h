/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "devices/block.h"
#include "devices/virtio.h"

G_BEGIN_DECLS

/*
 * virtio-blk (virtio 1.2, 5.2) on a VireoBlock: one request queue served by
 * the device's own worker thread, so no vCPU waits for the disk. Requests:
 * IN, OUT, FLUSH, GET_ID, and DISCARD and WRITE_ZEROES when the back end
 * supports them. A read-only back end offers VIRTIO_BLK_F_RO and answers
 * writes with VIRTIO_BLK_S_IOERR. Data goes through a bounce buffer in
 * pieces of VIREO_VIRTIO_BLK_CHUNK bytes, each copied under the device lock
 * after checking that no reset happened since the request was taken.
 */

/* Feature bits (5.2.3). */
#define VIREO_VIRTIO_BLK_F_SIZE_MAX     1
#define VIREO_VIRTIO_BLK_F_SEG_MAX      2
#define VIREO_VIRTIO_BLK_F_RO           5
#define VIREO_VIRTIO_BLK_F_BLK_SIZE     6
#define VIREO_VIRTIO_BLK_F_FLUSH        9
#define VIREO_VIRTIO_BLK_F_DISCARD      13
#define VIREO_VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types and status values (5.2.6). */
#define VIREO_VIRTIO_BLK_T_IN           0
#define VIREO_VIRTIO_BLK_T_OUT          1
#define VIREO_VIRTIO_BLK_T_FLUSH        4
#define VIREO_VIRTIO_BLK_T_GET_ID       8
#define VIREO_VIRTIO_BLK_T_DISCARD      11
#define VIREO_VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIREO_VIRTIO_BLK_S_OK           0
#define VIREO_VIRTIO_BLK_S_IOERR        1
#define VIREO_VIRTIO_BLK_S_UNSUPP       2
#define VIREO_VIRTIO_BLK_ID_BYTES       20

/* Configuration space offsets (5.2.4). */
#define VIREO_VIRTIO_BLK_CFG_CAPACITY                 0
#define VIREO_VIRTIO_BLK_CFG_SIZE_MAX                 8
#define VIREO_VIRTIO_BLK_CFG_SEG_MAX                  12
#define VIREO_VIRTIO_BLK_CFG_BLK_SIZE                 20
#define VIREO_VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS      36
#define VIREO_VIRTIO_BLK_CFG_MAX_DISCARD_SEG          40
#define VIREO_VIRTIO_BLK_CFG_DISCARD_ALIGNMENT        44
#define VIREO_VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SECTORS 48
#define VIREO_VIRTIO_BLK_CFG_MAX_WRITE_ZEROES_SEG     52
#define VIREO_VIRTIO_BLK_CFG_WRITE_ZEROES_MAY_UNMAP   56
#define VIREO_VIRTIO_BLK_CONFIG_SIZE                  60

#define VIREO_VIRTIO_BLK_QUEUE_SIZE   256
#define VIREO_VIRTIO_BLK_SEG_MAX      (VIREO_VIRTIO_BLK_QUEUE_SIZE - 2)
#define VIREO_VIRTIO_BLK_MAX_DWZ_SEG  32         /* segments of one discard or write zeroes */
#define VIREO_VIRTIO_BLK_MAX_DWZ_SECT (1u << 24) /* sectors of one segment */
#define VIREO_VIRTIO_BLK_CHUNK        (256 * 1024)

/* A disk on `block`, which it takes over (freed with the device). */
VireoVirtio *vireo_virtio_blk_new(VireoBus *bus, VireoBlock *block);

G_END_DECLS

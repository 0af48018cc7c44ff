/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "devices/virtio.h"
#include "engine/input.h"

G_BEGIN_DECLS

/*
 * virtio-input (virtio 1.2, 5.8): evdev events for the guest's input layer.
 * Two kinds of device, each a VireoInputOps sink (engine/input.h):
 *
 * - a keyboard: EV_KEY for every evdev key code a presenter can send
 *   (vireo_virtio_input_keyboard_has_key()), EV_REP (the guest repeats held
 *   keys) and EV_LED (Num, Caps and Scroll Lock), whose state the guest
 *   reports on the status queue;
 * - a tablet: an absolute pointer, EV_ABS ABS_X and ABS_Y from 0 to
 *   VIREO_VIRTIO_INPUT_ABS_MAX, the buttons BTN_LEFT, RIGHT, MIDDLE, SIDE
 *   and EXTRA, and the wheels REL_WHEEL and REL_HWHEEL with their
 *   high-resolution counterparts. INPUT_PROP_POINTER: the guest draws a
 *   pointer, which follows the host's without any grab.
 *
 * Every input becomes one report: its events then EV_SYN SYN_REPORT, each
 * event in one eventq buffer as a virtio_input_event (le16 type, le16 code,
 * le32 value). Reports wait in a backlog of VIREO_VIRTIO_INPUT_BACKLOG events
 * while the guest has no buffers; when it is full the oldest reports go
 * (a lost press is better than a lost release), and a pointer motion
 * replaces a motion still waiting at the end. Input before the driver is
 * ready (DRIVER_OK) is dropped. Both count as dropped.
 *
 * The VireoInputOps callbacks may run on any thread: they take the device's
 * lock, queue the report and deliver what the guest has buffers for.
 */

#define VIREO_VIRTIO_ID_INPUT 18

/* Configuration space (5.8.4): the driver writes select and subsel, the
 * device answers with size and the union u. */
#define VIREO_VIRTIO_INPUT_CFG_SELECT  0
#define VIREO_VIRTIO_INPUT_CFG_SUBSEL  1
#define VIREO_VIRTIO_INPUT_CFG_SIZE    2
#define VIREO_VIRTIO_INPUT_CFG_U       8
#define VIREO_VIRTIO_INPUT_U_SIZE      128
#define VIREO_VIRTIO_INPUT_CONFIG_SIZE (VIREO_VIRTIO_INPUT_CFG_U + VIREO_VIRTIO_INPUT_U_SIZE)

/* Values of select. */
#define VIREO_VIRTIO_INPUT_CFG_UNSET     0x00
#define VIREO_VIRTIO_INPUT_CFG_ID_NAME   0x01
#define VIREO_VIRTIO_INPUT_CFG_ID_SERIAL 0x02
#define VIREO_VIRTIO_INPUT_CFG_ID_DEVIDS 0x03
#define VIREO_VIRTIO_INPUT_CFG_PROP_BITS 0x10
#define VIREO_VIRTIO_INPUT_CFG_EV_BITS   0x11
#define VIREO_VIRTIO_INPUT_CFG_ABS_INFO  0x12

/* Sizes of the answers: virtio_input_absinfo (le32 min, max, fuzz, flat,
 * res) and virtio_input_devids (le16 bustype, vendor, product, version). */
#define VIREO_VIRTIO_INPUT_ABSINFO_SIZE 20
#define VIREO_VIRTIO_INPUT_DEVIDS_SIZE  8
#define VIREO_VIRTIO_INPUT_EVENT_SIZE   8

#define VIREO_VIRTIO_INPUT_EVENTQ     0
#define VIREO_VIRTIO_INPUT_STATUSQ    1
#define VIREO_VIRTIO_INPUT_QUEUE_SIZE 64
#define VIREO_VIRTIO_INPUT_BACKLOG    256 /* events waiting for eventq buffers */
#define VIREO_VIRTIO_INPUT_ABS_MAX    32767

typedef enum {
    VIREO_VIRTIO_INPUT_KEYBOARD,
    VIREO_VIRTIO_INPUT_TABLET,
} VireoVirtioInputKind;

VireoVirtio *vireo_virtio_input_new(VireoBus *bus, VireoVirtioInputKind kind);

/* Whether `dev` is an input device, and which kind. */
bool vireo_virtio_input_get_kind(VireoVirtio *dev, VireoVirtioInputKind *kind);

/* The evdev key codes the keyboard reports: the keys (1 to 255 and
 * KEY_OK 0x160 to 0x2bf), not the pointer and joystick buttons between and
 * after them, so that the guest sees a keyboard and nothing else. */
bool vireo_virtio_input_keyboard_has_key(unsigned code);

/* The input interface with an input device (a VireoVirtio) as `opaque`:
 * each device takes the calls for what it has (keys for the keyboard, the
 * pointer, buttons and wheel for the tablet) and ignores the others. */
const VireoInputOps *vireo_virtio_input_get_ops(void);

/* A keyboard and a tablet behind one input interface, for a presenter:
 * `opaque` is a VireoVirtioInputPair; either device may be NULL. */
typedef struct {
    VireoVirtio *keyboard;
    VireoVirtio *tablet;
} VireoVirtioInputPair;

const VireoInputOps *vireo_virtio_input_pair_get_ops(void);

/* What the device did since it was created (resets do not clear it). */
typedef struct {
    uint64_t events;    /* written into eventq buffers, EV_SYN included */
    uint64_t dropped;   /* events lost: driver not ready, backlog full */
    uint64_t malformed; /* buffers too short for an event, on either queue */
    uint64_t status;    /* events the guest sent on the status queue */
    unsigned backlog;   /* events waiting for eventq buffers now */
    uint32_t leds;      /* bit n: LED n (LED_NUML 0, LED_CAPSL 1, ...) is on */
} VireoVirtioInputStats;

/* False for a device that is not an input device. */
bool vireo_virtio_input_get_stats(VireoVirtio *dev, VireoVirtioInputStats *stats);

G_END_DECLS

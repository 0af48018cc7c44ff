/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "devices/virtio-input.h"

#include <linux/input-event-codes.h>
#include <string.h>

G_STATIC_ASSERT(VIREO_BTN_LEFT == BTN_LEFT && VIREO_BTN_EXTRA == BTN_EXTRA);
G_STATIC_ASSERT(VIREO_KEY_COUNT == KEY_CNT);
G_STATIC_ASSERT(LED_MAX < 32); /* the LED bits fit in VireoVirtioInputStats.leds */

/* The keyboard's keys: the ordinary keys, then, past the pointer, joystick
 * and gamepad buttons (BTN_MISC 0x100 to 0x15f), KEY_OK up to the
 * BTN_TRIGGER_HAPPY buttons (0x2c0). */
#define KEYS_LOW_END  0x100
#define KEYS_HIGH     KEY_OK
#define KEYS_HIGH_END BTN_TRIGGER_HAPPY
/* Status events read from one status chain at most: the guest sends one per
 * buffer, and a chain of huge buffers must not keep the vCPU here. */
#define STATUS_MAX_PER_CHAIN 64
/* Vireo has no vendor ID of its own: the devices say they are virtual
 * (BUS_VIRTUAL of <linux/input.h>). */
#define DEVIDS_BUS     0x06
#define DEVIDS_VENDOR  0x0000
#define DEVIDS_VERSION 0x0001

typedef struct {
    uint16_t type, code;
    int32_t value;
} Event;

typedef struct {
    VireoVirtio *dev;
    VireoVirtioInputKind kind;

    /* Configuration: what the driver selected and the answer. */
    guint8 select, subsel;
    guint8 config[VIREO_VIRTIO_INPUT_CONFIG_SIZE];

    /* Events waiting for eventq buffers: a ring of whole reports (each ends
     * with EV_SYN), of which the first may be partly delivered. */
    Event backlog[VIREO_VIRTIO_INPUT_BACKLOG];
    unsigned head, count;
    /* The last report is a pointer motion that none of is delivered yet:
     * the next motion replaces its position. */
    bool tail_motion;
    /* The first report waiting is partly delivered. */
    bool head_partial;

    /* The wheel's high-resolution movement not yet a whole notch. */
    int wheel_rest_x, wheel_rest_y;

    VireoVirtioInputStats stats;
} Input;

static const VireoVirtioModelOps input_ops;

static Input *input_of(void *opaque)
{
    VireoVirtio *dev = opaque;

    if (dev == NULL || vireo_virtio_get_model_ops(dev) != &input_ops) {
        return NULL;
    }
    return vireo_virtio_get_model(dev);
}

bool vireo_virtio_input_keyboard_has_key(unsigned code)
{
    return (code > KEY_RESERVED && code < KEYS_LOW_END) ||
           (code >= KEYS_HIGH && code < KEYS_HIGH_END);
}

static bool tablet_has_button(unsigned code)
{
    return code >= BTN_LEFT && code <= BTN_EXTRA;
}

/* ---- Configuration space -------------------------------------------------- */

static void put16(guint8 *p, uint16_t v)
{
    v = GUINT16_TO_LE(v);
    memcpy(p, &v, 2);
}

static void put32(guint8 *p, uint32_t v)
{
    v = GUINT32_TO_LE(v);
    memcpy(p, &v, 4);
}

static void set_bit(guint8 *bitmap, unsigned bit)
{
    bitmap[bit / 8] |= (guint8)(1u << (bit % 8));
}

/* A bitmap's size is up to its last byte with a bit set. */
static unsigned bitmap_size(const guint8 *bitmap)
{
    unsigned n = VIREO_VIRTIO_INPUT_U_SIZE;

    while (n > 0 && bitmap[n - 1] == 0) {
        n--;
    }
    return n;
}

/* Strings go without their terminating NUL; size says how long they are. */
static unsigned put_string(guint8 *u, const char *s)
{
    unsigned n = (unsigned)MIN(strlen(s), (size_t)VIREO_VIRTIO_INPUT_U_SIZE);

    memcpy(u, s, n);
    return n;
}

/* The codes of event type `type` the device sends (or, for EV_LED, takes). */
static void event_bits(const Input *in, unsigned type, guint8 *u)
{
    if (in->kind == VIREO_VIRTIO_INPUT_KEYBOARD) {
        switch (type) {
        case EV_SYN: set_bit(u, SYN_REPORT); break;
        case EV_KEY:
            for (unsigned code = 0; code < KEYS_HIGH_END; code++) {
                if (vireo_virtio_input_keyboard_has_key(code)) {
                    set_bit(u, code);
                }
            }
            break;
        case EV_LED:
            set_bit(u, LED_NUML);
            set_bit(u, LED_CAPSL);
            set_bit(u, LED_SCROLLL);
            break;
        case EV_REP:
            set_bit(u, REP_DELAY);
            set_bit(u, REP_PERIOD);
            break;
        default: break;
        }
        return;
    }
    switch (type) {
    case EV_SYN: set_bit(u, SYN_REPORT); break;
    case EV_KEY:
        for (unsigned code = BTN_LEFT; code <= BTN_EXTRA; code++) {
            set_bit(u, code);
        }
        break;
    case EV_REL:
        set_bit(u, REL_HWHEEL);
        set_bit(u, REL_WHEEL);
        set_bit(u, REL_WHEEL_HI_RES);
        set_bit(u, REL_HWHEEL_HI_RES);
        break;
    case EV_ABS:
        set_bit(u, ABS_X);
        set_bit(u, ABS_Y);
        break;
    default: break;
    }
}

/* The answer to the driver's select and subsel (5.8.4): size 0 for
 * anything the device does not have. */
static void update_config(Input *in)
{
    bool keyboard = in->kind == VIREO_VIRTIO_INPUT_KEYBOARD;
    guint8 *u = in->config + VIREO_VIRTIO_INPUT_CFG_U;
    unsigned size = 0;

    memset(in->config, 0, sizeof in->config);
    in->config[VIREO_VIRTIO_INPUT_CFG_SELECT] = in->select;
    in->config[VIREO_VIRTIO_INPUT_CFG_SUBSEL] = in->subsel;
    switch (in->select) {
    case VIREO_VIRTIO_INPUT_CFG_ID_NAME:
        if (in->subsel == 0) {
            size = put_string(u, keyboard ? "Vireo Keyboard" : "Vireo Tablet");
        }
        break;
    case VIREO_VIRTIO_INPUT_CFG_ID_SERIAL:
        if (in->subsel == 0) {
            size = put_string(u, keyboard ? "vireo-keyboard-0" : "vireo-tablet-0");
        }
        break;
    case VIREO_VIRTIO_INPUT_CFG_ID_DEVIDS:
        if (in->subsel == 0) {
            put16(u, DEVIDS_BUS);
            put16(u + 2, DEVIDS_VENDOR);
            put16(u + 4, keyboard ? 1 : 2);
            put16(u + 6, DEVIDS_VERSION);
            size = VIREO_VIRTIO_INPUT_DEVIDS_SIZE;
        }
        break;
    case VIREO_VIRTIO_INPUT_CFG_PROP_BITS:
        if (in->subsel == 0 && !keyboard) {
            set_bit(u, INPUT_PROP_POINTER);
        }
        size = bitmap_size(u);
        break;
    case VIREO_VIRTIO_INPUT_CFG_EV_BITS:
        event_bits(in, in->subsel, u);
        size = bitmap_size(u);
        break;
    case VIREO_VIRTIO_INPUT_CFG_ABS_INFO:
        if (!keyboard && (in->subsel == ABS_X || in->subsel == ABS_Y)) {
            put32(u, 0);                              /* min */
            put32(u + 4, VIREO_VIRTIO_INPUT_ABS_MAX); /* max */
            put32(u + 8, 0);                          /* fuzz */
            put32(u + 12, 0);                         /* flat */
            put32(u + 16, 0);                         /* res: unknown */
            size = VIREO_VIRTIO_INPUT_ABSINFO_SIZE;
        }
        break;
    default: break; /* VIREO_VIRTIO_INPUT_CFG_UNSET and unknown values */
    }
    in->config[VIREO_VIRTIO_INPUT_CFG_SIZE] = (guint8)size;
}

static void input_get_config(void *model, guint8 *config)
{
    Input *in = model;

    memcpy(config, in->config, sizeof in->config);
}

/* Only select and subsel are the driver's to write. */
static void input_set_config(void *model, unsigned offset, const guint8 *data, unsigned len)
{
    Input *in = model;

    for (unsigned i = 0; i < len; i++) {
        if (offset + i == VIREO_VIRTIO_INPUT_CFG_SELECT) {
            in->select = data[i];
        } else if (offset + i == VIREO_VIRTIO_INPUT_CFG_SUBSEL) {
            in->subsel = data[i];
        }
    }
    update_config(in);
}

/* ---- Events --------------------------------------------------------------- */

static Event *backlog_at(Input *in, unsigned i)
{
    return &in->backlog[(in->head + i) % VIREO_VIRTIO_INPUT_BACKLOG];
}

static void backlog_pop(Input *in)
{
    in->head = (in->head + 1) % VIREO_VIRTIO_INPUT_BACKLOG;
    in->count--;
}

static void backlog_clear(Input *in)
{
    in->stats.dropped += in->count;
    in->head = in->count = 0;
    in->tail_motion = false;
    in->head_partial = false;
}

static bool is_syn(const Event *e)
{
    return e->type == EV_SYN && e->code == SYN_REPORT;
}

/* Drops the oldest report that the guest has seen nothing of: the one
 * after a report it has the start of, which stays so that the guest sees
 * its end. */
static void drop_oldest_report(Input *in)
{
    unsigned keep = 0, end, n;

    if (in->head_partial) {
        while (keep < in->count && !is_syn(backlog_at(in, keep))) {
            keep++;
        }
        keep++;
    }
    end = keep;
    while (end < in->count && !is_syn(backlog_at(in, end))) {
        end++;
    }
    if (end >= in->count) {
        backlog_clear(in); /* no whole report after it: cannot happen when full */
        return;
    }
    /* The dropped report is [keep, end]; the kept events move up over it. */
    n = end + 1 - keep;
    for (unsigned i = keep; i-- > 0;) {
        *backlog_at(in, i + n) = *backlog_at(in, i);
    }
    in->head = (in->head + n) % VIREO_VIRTIO_INPUT_BACKLOG;
    in->count -= n;
    in->stats.dropped += n;
    in->tail_motion = false;
}

/* Writes waiting events into the buffers the driver made available, one
 * event per buffer. */
static void flush_locked(Input *in)
{
    VireoVirtioChain c;
    bool delivered = false;

    while (in->count > 0 && vireo_virtio_pop_locked(in->dev, VIREO_VIRTIO_INPUT_EVENTQ, &c)) {
        const Event *e = backlog_at(in, 0);
        guint8 buf[VIREO_VIRTIO_INPUT_EVENT_SIZE];

        if (c.in_len < VIREO_VIRTIO_INPUT_EVENT_SIZE) {
            /* No room for an event: back empty, the event waits. */
            in->stats.malformed++;
            vireo_virtio_push_locked(in->dev, &c, 0);
            continue;
        }
        put16(buf, e->type);
        put16(buf + 2, e->code);
        put32(buf + 4, (uint32_t)e->value);
        vireo_virtio_chain_write_locked(in->dev, &c, 0, buf, sizeof buf);
        vireo_virtio_push_locked(in->dev, &c, sizeof buf);
        in->head_partial = !is_syn(e);
        backlog_pop(in);
        in->stats.events++;
        delivered = true;
    }
    if (delivered) {
        in->tail_motion = false;
    }
    vireo_virtio_notify_locked(in->dev, VIREO_VIRTIO_INPUT_EVENTQ);
}

/* Whether input goes to the guest: not before DRIVER_OK, not after the
 * driver broke the protocol, and not while the machine is paused (a paused
 * machine sees no keys, and its state must not change). */
static bool accepting_locked(Input *in)
{
    return vireo_virtio_is_running_locked(in->dev) && !vireo_virtio_is_paused_locked(in->dev);
}

/* Queues `events` and EV_SYN as one report and delivers what it can. */
static void report_locked(Input *in, const Event *events, unsigned n)
{
    unsigned total = n + 1;

    if (!accepting_locked(in)) {
        in->stats.dropped += total;
        return;
    }
    while (in->count + total > VIREO_VIRTIO_INPUT_BACKLOG) {
        drop_oldest_report(in);
    }
    for (unsigned i = 0; i < n; i++) {
        *backlog_at(in, in->count++) = events[i];
    }
    *backlog_at(in, in->count++) = (Event){ EV_SYN, SYN_REPORT, 0 };
    in->tail_motion = false;
    flush_locked(in);
}

static void report(Input *in, const Event *events, unsigned n)
{
    vireo_virtio_lock(in->dev);
    report_locked(in, events, n);
    vireo_virtio_unlock(in->dev);
}

/* A guest pixel of `size` on the axis from 0 to VIREO_VIRTIO_INPUT_ABS_MAX,
 * the first pixel at 0 and the last at the maximum. */
static int32_t scale_axis(int pos, int size)
{
    if (size <= 1 || pos <= 0) {
        return 0;
    }
    if (pos >= size - 1) {
        return VIREO_VIRTIO_INPUT_ABS_MAX;
    }
    return (int32_t)(((int64_t)pos * VIREO_VIRTIO_INPUT_ABS_MAX + (size - 1) / 2) / (size - 1));
}

/* ---- The input interface -------------------------------------------------- */

static void input_key(void *opaque, unsigned code, bool pressed)
{
    Input *in = input_of(opaque);
    Event e = { EV_KEY, (uint16_t)code, pressed ? 1 : 0 };

    if (in == NULL || in->kind != VIREO_VIRTIO_INPUT_KEYBOARD ||
        !vireo_virtio_input_keyboard_has_key(code)) {
        return;
    }
    report(in, &e, 1);
}

static void input_pointer_motion(void *opaque, int x, int y, int width, int height)
{
    Input *in = input_of(opaque);
    Event e[2];

    if (in == NULL || in->kind != VIREO_VIRTIO_INPUT_TABLET || width <= 0 || height <= 0) {
        return;
    }
    e[0] = (Event){ EV_ABS, ABS_X, scale_axis(x, width) };
    e[1] = (Event){ EV_ABS, ABS_Y, scale_axis(y, height) };
    vireo_virtio_lock(in->dev);
    if (!accepting_locked(in)) {
        in->stats.dropped += 3;
    } else if (in->tail_motion && in->count >= 3) {
        /* The motion waiting last is not worth delivering any more. */
        backlog_at(in, in->count - 3)->value = e[0].value;
        backlog_at(in, in->count - 2)->value = e[1].value;
    } else {
        bool running = vireo_virtio_is_running_locked(in->dev);
        uint64_t delivered = in->stats.events;

        report_locked(in, e, 2);
        /* Queued whole, with nothing of it delivered: the next motion may
         * take its place. */
        in->tail_motion = running && in->stats.events == delivered;
    }
    vireo_virtio_unlock(in->dev);
}

static void input_pointer_button(void *opaque, unsigned button, bool pressed)
{
    Input *in = input_of(opaque);
    Event e = { EV_KEY, (uint16_t)button, pressed ? 1 : 0 };

    if (in == NULL || in->kind != VIREO_VIRTIO_INPUT_TABLET || !tablet_has_button(button)) {
        return;
    }
    report(in, &e, 1);
}

/* Whole notches of `rest` + `delta` (1/120 each), keeping the remainder. */
static int notches(int *rest, int delta)
{
    int n;

    *rest += delta;
    n = *rest / VIREO_WHEEL_NOTCH;
    *rest -= n * VIREO_WHEEL_NOTCH;
    return n;
}

static void input_wheel(void *opaque, int dx, int dy)
{
    Input *in = input_of(opaque);
    Event e[4];
    unsigned n = 0;
    int nx, ny;

    if (in == NULL || in->kind != VIREO_VIRTIO_INPUT_TABLET || (dx == 0 && dy == 0)) {
        return;
    }
    /* A host's wheel never moves this far at once; the bound keeps the
     * sums below from overflowing. */
    dx = CLAMP(dx, -1000 * VIREO_WHEEL_NOTCH, 1000 * VIREO_WHEEL_NOTCH);
    dy = CLAMP(dy, -1000 * VIREO_WHEEL_NOTCH, 1000 * VIREO_WHEEL_NOTCH);
    vireo_virtio_lock(in->dev);
    if (!accepting_locked(in)) {
        in->stats.dropped++;
        vireo_virtio_unlock(in->dev);
        return;
    }
    nx = notches(&in->wheel_rest_x, dx);
    ny = notches(&in->wheel_rest_y, dy);
    /* High-resolution counts for guests that read them, whole notches for
     * the others (as a high-resolution mouse reports both). */
    if (dy != 0) {
        e[n++] = (Event){ EV_REL, REL_WHEEL_HI_RES, dy };
    }
    if (ny != 0) {
        e[n++] = (Event){ EV_REL, REL_WHEEL, ny };
    }
    if (dx != 0) {
        e[n++] = (Event){ EV_REL, REL_HWHEEL_HI_RES, dx };
    }
    if (nx != 0) {
        e[n++] = (Event){ EV_REL, REL_HWHEEL, nx };
    }
    report_locked(in, e, n);
    vireo_virtio_unlock(in->dev);
}

static const VireoInputOps device_input_ops = {
    .key = input_key,
    .pointer_motion = input_pointer_motion,
    .pointer_button = input_pointer_button,
    .wheel = input_wheel,
};

const VireoInputOps *vireo_virtio_input_get_ops(void)
{
    return &device_input_ops;
}

static void pair_key(void *opaque, unsigned code, bool pressed)
{
    const VireoVirtioInputPair *pair = opaque;

    input_key(pair->keyboard, code, pressed);
}

static void pair_pointer_motion(void *opaque, int x, int y, int width, int height)
{
    const VireoVirtioInputPair *pair = opaque;

    input_pointer_motion(pair->tablet, x, y, width, height);
}

static void pair_pointer_button(void *opaque, unsigned button, bool pressed)
{
    const VireoVirtioInputPair *pair = opaque;

    input_pointer_button(pair->tablet, button, pressed);
}

static void pair_wheel(void *opaque, int dx, int dy)
{
    const VireoVirtioInputPair *pair = opaque;

    input_wheel(pair->tablet, dx, dy);
}

static const VireoInputOps pair_input_ops = {
    .key = pair_key,
    .pointer_motion = pair_pointer_motion,
    .pointer_button = pair_pointer_button,
    .wheel = pair_wheel,
};

const VireoInputOps *vireo_virtio_input_pair_get_ops(void)
{
    return &pair_input_ops;
}

/* ---- The status queue ----------------------------------------------------- */

/* The guest's own events: the keyboard's LEDs (EV_LED), its repeat rate
 * (EV_REP, which the guest applies itself). Each chain goes back at once. */
static void status_locked(Input *in)
{
    VireoVirtioChain c;

    while (vireo_virtio_pop_locked(in->dev, VIREO_VIRTIO_INPUT_STATUSQ, &c)) {
        uint64_t n = MIN(c.out_len / VIREO_VIRTIO_INPUT_EVENT_SIZE, STATUS_MAX_PER_CHAIN);

        if (c.out_len < VIREO_VIRTIO_INPUT_EVENT_SIZE) {
            in->stats.malformed++;
        }
        for (uint64_t i = 0; i < n; i++) {
            guint8 buf[VIREO_VIRTIO_INPUT_EVENT_SIZE];
            uint16_t type, code;
            uint32_t value;

            if (vireo_virtio_chain_read_locked(in->dev, &c, i * sizeof buf, buf, sizeof buf) !=
                sizeof buf) {
                break;
            }
            memcpy(&type, buf, 2);
            memcpy(&code, buf + 2, 2);
            memcpy(&value, buf + 4, 4);
            type = GUINT16_FROM_LE(type);
            code = GUINT16_FROM_LE(code);
            value = GUINT32_FROM_LE(value);
            in->stats.status++;
            if (type == EV_LED && code <= LED_MAX && in->kind == VIREO_VIRTIO_INPUT_KEYBOARD) {
                if (value != 0) {
                    in->stats.leds |= 1u << code;
                } else {
                    in->stats.leds &= ~(1u << code);
                }
            }
        }
        vireo_virtio_push_locked(in->dev, &c, 0);
    }
    vireo_virtio_notify_locked(in->dev, VIREO_VIRTIO_INPUT_STATUSQ);
}

/* ---- The model ------------------------------------------------------------ */

static void input_queue_notify(void *model, unsigned queue)
{
    Input *in = model;

    if (queue == VIREO_VIRTIO_INPUT_EVENTQ) {
        flush_locked(in);
    } else if (queue == VIREO_VIRTIO_INPUT_STATUSQ) {
        status_locked(in);
    }
}

/* Input meant for the driver that was reset goes with it. */
static void input_reset(void *model)
{
    Input *in = model;

    backlog_clear(in);
    in->wheel_rest_x = in->wheel_rest_y = 0;
    in->stats.leds = 0;
    in->select = in->subsel = 0;
    update_config(in);
}

static void input_free(void *model)
{
    g_free(model);
}

/* ---- Snapshots --------------------------------------------------------- */

#define INPUT_STATE_VERSION 1
#define LED_BITS            ((1u << (LED_MAX + 1)) - 1)
#define WHEEL_MAX           (1000 * VIREO_WHEEL_NOTCH) /* input_wheel's bound */

typedef struct {
    guint8 select, subsel;
    uint32_t leds;
    int32_t wheel_rest_x, wheel_rest_y;
    Event backlog[VIREO_VIRTIO_INPUT_BACKLOG];
    unsigned count;
    bool head_partial, tail_motion;
} InputLoad;

/* The device holds no chains: events wait in the backlog and the driver's
 * buffers in the ring. Its state is the driver's selection, the LEDs, the
 * wheel's remainder and the backlog, oldest event first. */
static bool input_save(void *model, VireoSnapWriter *w, GError **error)
{
    Input *in = model;

    vireo_snap_put_u32(w, INPUT_STATE_VERSION);
    vireo_snap_put_u8(w, (uint8_t)in->kind);
    vireo_snap_put_u8(w, in->select);
    vireo_snap_put_u8(w, in->subsel);
    vireo_snap_put_u32(w, in->stats.leds);
    vireo_snap_put_u32(w, (uint32_t)in->wheel_rest_x);
    vireo_snap_put_u32(w, (uint32_t)in->wheel_rest_y);
    vireo_snap_put_u32(w, in->count);
    vireo_snap_put_bool(w, in->head_partial);
    vireo_snap_put_bool(w, in->tail_motion);
    for (unsigned i = 0; i < in->count; i++) {
        const Event *e = backlog_at(in, i);

        vireo_snap_put_u16(w, e->type);
        vireo_snap_put_u16(w, e->code);
        vireo_snap_put_u32(w, (uint32_t)e->value);
    }
    return true;
}

/* Whether `e` is an event this kind of device sends. */
static bool event_valid(VireoVirtioInputKind kind, const Event *e)
{
    bool tablet = kind == VIREO_VIRTIO_INPUT_TABLET;

    switch (e->type) {
    case EV_SYN: return e->code == SYN_REPORT && e->value == 0;
    case EV_KEY:
        return (e->value == 0 || e->value == 1) &&
               (tablet ? tablet_has_button(e->code) : vireo_virtio_input_keyboard_has_key(e->code));
    case EV_REL:
        return tablet &&
               (e->code == REL_WHEEL || e->code == REL_HWHEEL || e->code == REL_WHEEL_HI_RES ||
                e->code == REL_HWHEEL_HI_RES) &&
               e->value >= -WHEEL_MAX && e->value <= WHEEL_MAX;
    case EV_ABS:
        return tablet && (e->code == ABS_X || e->code == ABS_Y) && e->value >= 0 &&
               e->value <= VIREO_VIRTIO_INPUT_ABS_MAX;
    default: return false;
    }
}

/* The backlog's shape: whole reports, each ending with EV_SYN; a pointer
 * motion at its end when tail_motion says so. */
static const char *backlog_problem(const InputLoad *l)
{
    const Event *b = l->backlog;
    unsigned n = l->count;

    if (n == 0) {
        return l->head_partial || l->tail_motion ? "an empty backlog has a report in it" : NULL;
    }
    if (!is_syn(&b[n - 1])) {
        return "the backlog ends in the middle of a report";
    }
    if (l->tail_motion &&
        (n < 3 || b[n - 3].type != EV_ABS || b[n - 3].code != ABS_X || b[n - 2].type != EV_ABS ||
         b[n - 2].code != ABS_Y || (n == 3 ? l->head_partial : !is_syn(&b[n - 4])))) {
        return "the backlog does not end with a pointer motion";
    }
    return NULL;
}

static void *input_load(void *model, VireoSnapReader *r)
{
    Input *in = model;
    InputLoad *l = g_new0(InputLoad, 1);
    uint32_t version = vireo_snap_get_u32(r);
    uint8_t kind = vireo_snap_get_u8(r);
    const char *problem;

    l->select = vireo_snap_get_u8(r);
    l->subsel = vireo_snap_get_u8(r);
    l->leds = vireo_snap_get_u32(r);
    l->wheel_rest_x = (int32_t)vireo_snap_get_u32(r);
    l->wheel_rest_y = (int32_t)vireo_snap_get_u32(r);
    l->count = vireo_snap_get_u32(r);
    l->head_partial = vireo_snap_get_bool(r);
    l->tail_motion = vireo_snap_get_bool(r);
    if (vireo_snap_failed(r)) {
        g_free(l);
        return NULL;
    }
    if (version != INPUT_STATE_VERSION) {
        vireo_snap_fail(r, "the input device's layout version %u is not %u", version,
                        INPUT_STATE_VERSION);
    } else if (kind != (uint8_t)in->kind) {
        vireo_snap_fail(r, "it holds a %s, not a %s",
                        kind == VIREO_VIRTIO_INPUT_KEYBOARD ? "keyboard" : "tablet",
                        in->kind == VIREO_VIRTIO_INPUT_KEYBOARD ? "keyboard" : "tablet");
    } else if ((l->leds & ~LED_BITS) != 0) {
        vireo_snap_fail(r, "the LED state 0x%x has unknown LEDs", l->leds);
    } else if (l->wheel_rest_x <= -VIREO_WHEEL_NOTCH || l->wheel_rest_x >= VIREO_WHEEL_NOTCH ||
               l->wheel_rest_y <= -VIREO_WHEEL_NOTCH || l->wheel_rest_y >= VIREO_WHEEL_NOTCH) {
        vireo_snap_fail(r, "the wheel's remainder is a whole notch or more");
    } else if (l->count > VIREO_VIRTIO_INPUT_BACKLOG) {
        vireo_snap_fail(r, "%u events wait, more than %u", l->count, VIREO_VIRTIO_INPUT_BACKLOG);
    }
    for (unsigned i = 0; i < l->count && !vireo_snap_failed(r); i++) {
        Event *e = &l->backlog[i];

        e->type = vireo_snap_get_u16(r);
        e->code = vireo_snap_get_u16(r);
        e->value = (int32_t)vireo_snap_get_u32(r);
        if (!vireo_snap_failed(r) && !event_valid(in->kind, e)) {
            vireo_snap_fail(r,
                            "a waiting event (type %u, code %u, value %d) is not one this "
                            "device sends",
                            e->type, e->code, e->value);
        }
    }
    if (!vireo_snap_failed(r) && (problem = backlog_problem(l)) != NULL) {
        vireo_snap_fail(r, "%s", problem);
    }
    if (vireo_snap_failed(r)) {
        g_free(l);
        return NULL;
    }
    return l;
}

/* The events wait for the driver's buffers, which the device looks at
 * when it resumes. */
static void input_apply(void *model, void *state)
{
    Input *in = model;
    InputLoad *l = state;

    in->select = l->select;
    in->subsel = l->subsel;
    update_config(in);
    in->stats.leds = l->leds;
    in->wheel_rest_x = l->wheel_rest_x;
    in->wheel_rest_y = l->wheel_rest_y;
    memcpy(in->backlog, l->backlog, sizeof in->backlog);
    in->head = 0;
    in->count = l->count;
    in->head_partial = l->head_partial;
    in->tail_motion = l->tail_motion;
    g_free(l);
}

static void input_discard(void *model, void *state)
{
    g_free(state);
}

static const VireoVirtioModelOps input_ops = {
    .name = "virtio-input",
    .device_id = VIREO_VIRTIO_ID_INPUT,
    .n_queues = 2,
    .queue_size = VIREO_VIRTIO_INPUT_QUEUE_SIZE,
    .config_size = VIREO_VIRTIO_INPUT_CONFIG_SIZE,
    .get_config = input_get_config,
    .set_config = input_set_config,
    .queue_notify = input_queue_notify,
    .reset = input_reset,
    .free = input_free,
    .save = input_save,
    .load = input_load,
    .apply = input_apply,
    .discard = input_discard,
};

VireoVirtio *vireo_virtio_input_new(VireoBus *bus, VireoVirtioInputKind kind)
{
    Input *in = g_new0(Input, 1);

    in->kind = kind;
    update_config(in);
    in->dev = vireo_virtio_new(bus, &input_ops, in);
    return in->dev;
}

bool vireo_virtio_input_get_kind(VireoVirtio *dev, VireoVirtioInputKind *kind)
{
    Input *in = input_of(dev);

    if (in == NULL) {
        return false;
    }
    if (kind != NULL) {
        *kind = in->kind;
    }
    return true;
}

bool vireo_virtio_input_get_stats(VireoVirtio *dev, VireoVirtioInputStats *stats)
{
    Input *in = input_of(dev);

    if (in == NULL) {
        return false;
    }
    vireo_virtio_lock(dev);
    *stats = in->stats;
    stats->backlog = in->count;
    vireo_virtio_unlock(dev);
    return true;
}

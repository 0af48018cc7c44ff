/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * virtio-input driven through its registers and rings, as a guest driver
 * would: the configuration space of the keyboard and the tablet, keys,
 * pointer, buttons and wheel landing in eventq buffers with EV_SYN, the
 * scaling of the pointer, the backlog while the guest has no buffers and
 * its bound, short and oddly laid out buffers, LED events on the status
 * queue, resets, and input from another thread while the guest reads.
 */
#include "devices/virt.h"
#include "devices/virtio-input.h"
#include "engine/error.h"
#include "snap-driver.h"

#include <glib/gstdio.h>
#include <libfdt.h>
#include <linux/input-event-codes.h>

#define Q_SIZE 16
/* The event buffer of descriptor d is at T_DATA + d * EVT_STRIDE. */
#define EVT_STRIDE 16
#define T_STATUS   (T_DATA + 0x10000)

typedef struct {
    uint16_t type, code;
    int32_t value;
} Ev;

typedef struct {
    Harness h;
    TestQueue q[2];
    uint16_t seen; /* used entries of the event queue already read */
} Fx;

static void fx_init(Fx *f, VireoVirtioInputKind kind)
{
    memset(f, 0, sizeof *f);
    harness_init(&f->h);
    harness_attach(&f->h, vireo_virtio_input_new(f->h.bus, kind));
}

static void fx_start(Fx *f, VireoVirtioInputKind kind)
{
    fx_init(f, kind);
    drv_start(&f->h, 1ull << VIREO_VIRTIO_F_VERSION_1, f->q, 2, Q_SIZE);
}

static void fx_clear(Fx *f)
{
    harness_clear(&f->h);
}

static VireoVirtioInputStats stats(Fx *f)
{
    VireoVirtioInputStats s;

    g_assert_true(vireo_virtio_input_get_stats(f->h.dev, &s));
    return s;
}

/* Makes `n` event buffers of `len` bytes available and notifies. */
static void post_len(Fx *f, unsigned n, uint32_t len)
{
    for (unsigned i = 0; i < n; i++) {
        TestBuf b = { T_DATA + (uint64_t)f->q[0].next_desc * EVT_STRIDE, len, true };
        memset(gpa(&f->h, b.addr), 0xee, EVT_STRIDE);
        drv_add(&f->h, &f->q[0], &b, 1);
    }
    drv_kick(&f->h, &f->q[0]);
}

static void post(Fx *f, unsigned n)
{
    post_len(f, n, VIREO_VIRTIO_INPUT_EVENT_SIZE);
}

/* Reads the events the device returned since the last call. */
static unsigned take(Fx *f, Ev *out, unsigned max)
{
    unsigned n = 0;
    uint16_t idx = used_idx(&f->h, &f->q[0]);

    while (f->seen != idx) {
        uint32_t id, len;
        const guint8 *p;

        used_elem(&f->h, &f->q[0], f->seen++, &id, &len);
        g_assert_cmpuint(len, ==, VIREO_VIRTIO_INPUT_EVENT_SIZE);
        g_assert_cmpuint(n, <, max);
        p = gpa(&f->h, T_DATA + (uint64_t)id * EVT_STRIDE);
        out[n].type = get16(p);
        out[n].code = get16(p + 2);
        out[n].value = (int32_t)get32le(p + 4);
        n++;
    }
    return n;
}

static void assert_ev(const Ev *e, uint16_t type, uint16_t code, int32_t value)
{
    g_assert_cmphex(e->type, ==, type);
    g_assert_cmphex(e->code, ==, code);
    g_assert_cmpint(e->value, ==, value);
}

static void assert_syn(const Ev *e)
{
    assert_ev(e, EV_SYN, SYN_REPORT, 0);
}

/* ---- Configuration space ------------------------------------------------ */

static void cfg_write8(Harness *h, unsigned off, uint8_t v)
{
    g_assert_true(vireo_bus_write(h->bus, T_MMIO + VIREO_VIRTIO_MMIO_CONFIG + off, 1, v));
}

/* Selects (select, subsel) and returns the size, with u copied out. */
static unsigned query(Harness *h, uint8_t select, uint8_t subsel, guint8 u[128])
{
    cfg_write8(h, VIREO_VIRTIO_INPUT_CFG_SELECT, select);
    cfg_write8(h, VIREO_VIRTIO_INPUT_CFG_SUBSEL, subsel);
    g_assert_cmpuint(cfg_read(h, VIREO_VIRTIO_INPUT_CFG_SELECT, 1), ==, select);
    g_assert_cmpuint(cfg_read(h, VIREO_VIRTIO_INPUT_CFG_SUBSEL, 1), ==, subsel);
    for (unsigned i = 0; i < VIREO_VIRTIO_INPUT_U_SIZE; i += 4) {
        put32le(u + i, (uint32_t)cfg_read(h, VIREO_VIRTIO_INPUT_CFG_U + i, 4));
    }
    return (unsigned)cfg_read(h, VIREO_VIRTIO_INPUT_CFG_SIZE, 1);
}

static bool bit(const guint8 *bitmap, unsigned n)
{
    return (bitmap[n / 8] >> (n % 8)) & 1;
}

static void assert_string(Harness *h, uint8_t select, const char *want)
{
    guint8 u[128];
    unsigned size = query(h, select, 0, u);

    g_assert_cmpuint(size, ==, strlen(want));
    g_assert_cmpmem(u, size, want, strlen(want));
    g_assert_cmpuint(u[size], ==, 0);
    /* Only subsel 0 has the string. */
    g_assert_cmpuint(query(h, select, 1, u), ==, 0);
}

static void test_config_common(Harness *h, VireoVirtioInputKind kind)
{
    guint8 u[128];

    g_assert_cmpuint(reg_read(h, VIREO_VIRTIO_MMIO_DEVICE_ID), ==, VIREO_VIRTIO_ID_INPUT);
    g_assert_cmpuint(VIREO_VIRTIO_ID_INPUT, ==, 18);
    /* No device features: only the transport's. */
    g_assert_cmphex(device_features(h) & VIREO_VIRTIO_MODEL_FEATURES, ==, 0);
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_SEL, VIREO_VIRTIO_INPUT_EVENTQ);
    g_assert_cmpuint(reg_read(h, VIREO_VIRTIO_MMIO_QUEUE_NUM_MAX), ==,
                     VIREO_VIRTIO_INPUT_QUEUE_SIZE);
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_SEL, VIREO_VIRTIO_INPUT_STATUSQ);
    g_assert_cmpuint(reg_read(h, VIREO_VIRTIO_MMIO_QUEUE_NUM_MAX), ==,
                     VIREO_VIRTIO_INPUT_QUEUE_SIZE);
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_SEL, 2);
    g_assert_cmpuint(reg_read(h, VIREO_VIRTIO_MMIO_QUEUE_NUM_MAX), ==, 0);

    /* Nothing selected yet. */
    g_assert_cmpuint(cfg_read(h, VIREO_VIRTIO_INPUT_CFG_SIZE, 1), ==, 0);
    g_assert_cmpuint(query(h, VIREO_VIRTIO_INPUT_CFG_UNSET, 0, u), ==, 0);
    /* Unknown selections answer size 0 with u cleared. */
    g_assert_cmpuint(query(h, 0x04, 0, u), ==, 0);
    g_assert_cmpuint(query(h, 0x13, 0, u), ==, 0);
    g_assert_cmpuint(query(h, 0xff, 0xff, u), ==, 0);
    for (unsigned i = 0; i < 128; i++) {
        g_assert_cmpuint(u[i], ==, 0);
    }
    /* The configuration space ends after u; what lies beyond reads 0. */
    g_assert_cmpuint(cfg_read(h, VIREO_VIRTIO_INPUT_CONFIG_SIZE, 4), ==, 0);

    g_assert_cmpuint(query(h, VIREO_VIRTIO_INPUT_CFG_ID_DEVIDS, 0, u), ==, 8);
    g_assert_cmpuint(get16(u), ==, 0x06); /* BUS_VIRTUAL */
    g_assert_cmpuint(get16(u + 4), ==, kind == VIREO_VIRTIO_INPUT_KEYBOARD ? 1 : 2);
    g_assert_cmpuint(query(h, VIREO_VIRTIO_INPUT_CFG_ID_DEVIDS, 1, u), ==, 0);

    /* Event types neither device has. */
    g_assert_cmpuint(query(h, VIREO_VIRTIO_INPUT_CFG_EV_BITS, EV_MSC, u), ==, 0);
    g_assert_cmpuint(query(h, VIREO_VIRTIO_INPUT_CFG_EV_BITS, EV_SW, u), ==, 0);
    g_assert_cmpuint(query(h, VIREO_VIRTIO_INPUT_CFG_EV_BITS, EV_SND, u), ==, 0);
    g_assert_cmpuint(query(h, VIREO_VIRTIO_INPUT_CFG_EV_BITS, EV_FF, u), ==, 0);
    g_assert_cmpuint(query(h, VIREO_VIRTIO_INPUT_CFG_EV_BITS, EV_SYN, u), ==, 1);
    g_assert_true(bit(u, SYN_REPORT));
}

static void test_config_keyboard(void)
{
    Fx f;
    guint8 u[128];
    unsigned size;

    fx_init(&f, VIREO_VIRTIO_INPUT_KEYBOARD);
    test_config_common(&f.h, VIREO_VIRTIO_INPUT_KEYBOARD);
    assert_string(&f.h, VIREO_VIRTIO_INPUT_CFG_ID_NAME, "Vireo Keyboard");
    assert_string(&f.h, VIREO_VIRTIO_INPUT_CFG_ID_SERIAL, "vireo-keyboard-0");
    g_assert_cmpuint(query(&f.h, VIREO_VIRTIO_INPUT_CFG_PROP_BITS, 0, u), ==, 0);

    /* Every key of the keyboard's set, and nothing else: no buttons, so
     * that the guest does not take it for a mouse or a joystick. */
    size = query(&f.h, VIREO_VIRTIO_INPUT_CFG_EV_BITS, EV_KEY, u);
    g_assert_cmpuint(size, ==, BTN_TRIGGER_HAPPY / 8);
    for (unsigned code = 0; code < size * 8; code++) {
        g_assert_cmpint(bit(u, code), ==, vireo_virtio_input_keyboard_has_key(code));
    }
    g_assert_false(vireo_virtio_input_keyboard_has_key(KEY_RESERVED));
    g_assert_true(vireo_virtio_input_keyboard_has_key(KEY_ESC));
    g_assert_true(vireo_virtio_input_keyboard_has_key(KEY_A));
    g_assert_true(vireo_virtio_input_keyboard_has_key(KEY_LEFTMETA));
    g_assert_true(vireo_virtio_input_keyboard_has_key(KEY_MICMUTE));
    g_assert_true(vireo_virtio_input_keyboard_has_key(KEY_OK));
    g_assert_true(vireo_virtio_input_keyboard_has_key(KEY_MACRO1));
    g_assert_false(vireo_virtio_input_keyboard_has_key(BTN_LEFT));
    g_assert_false(vireo_virtio_input_keyboard_has_key(BTN_TOUCH));
    g_assert_false(vireo_virtio_input_keyboard_has_key(BTN_TRIGGER_HAPPY1));
    g_assert_false(vireo_virtio_input_keyboard_has_key(KEY_MAX));
    g_assert_false(vireo_virtio_input_keyboard_has_key(VIREO_KEY_COUNT));

    g_assert_cmpuint(query(&f.h, VIREO_VIRTIO_INPUT_CFG_EV_BITS, EV_REP, u), ==, 1);
    g_assert_true(bit(u, REP_DELAY) && bit(u, REP_PERIOD));
    g_assert_cmpuint(query(&f.h, VIREO_VIRTIO_INPUT_CFG_EV_BITS, EV_LED, u), ==, 1);
    g_assert_cmphex(u[0], ==, (1 << LED_NUML) | (1 << LED_CAPSL) | (1 << LED_SCROLLL));
    g_assert_cmpuint(query(&f.h, VIREO_VIRTIO_INPUT_CFG_EV_BITS, EV_REL, u), ==, 0);
    g_assert_cmpuint(query(&f.h, VIREO_VIRTIO_INPUT_CFG_EV_BITS, EV_ABS, u), ==, 0);
    g_assert_cmpuint(query(&f.h, VIREO_VIRTIO_INPUT_CFG_ABS_INFO, ABS_X, u), ==, 0);
    fx_clear(&f);
}

static void test_config_tablet(void)
{
    Fx f;
    guint8 u[128];
    VireoVirtioInputKind kind;

    fx_init(&f, VIREO_VIRTIO_INPUT_TABLET);
    g_assert_true(vireo_virtio_input_get_kind(f.h.dev, &kind));
    g_assert_cmpint(kind, ==, VIREO_VIRTIO_INPUT_TABLET);
    test_config_common(&f.h, VIREO_VIRTIO_INPUT_TABLET);
    assert_string(&f.h, VIREO_VIRTIO_INPUT_CFG_ID_NAME, "Vireo Tablet");
    assert_string(&f.h, VIREO_VIRTIO_INPUT_CFG_ID_SERIAL, "vireo-tablet-0");

    g_assert_cmpuint(query(&f.h, VIREO_VIRTIO_INPUT_CFG_PROP_BITS, 0, u), ==, 1);
    g_assert_cmphex(u[0], ==, 1 << INPUT_PROP_POINTER);
    g_assert_cmpuint(query(&f.h, VIREO_VIRTIO_INPUT_CFG_PROP_BITS, 1, u), ==, 0);

    /* The five buttons and no key. */
    g_assert_cmpuint(query(&f.h, VIREO_VIRTIO_INPUT_CFG_EV_BITS, EV_KEY, u), ==, BTN_EXTRA / 8 + 1);
    for (unsigned code = 0; code < 128 * 8; code++) {
        g_assert_cmpint(bit(u, code), ==, code >= BTN_LEFT && code <= BTN_EXTRA);
    }
    g_assert_cmpuint(query(&f.h, VIREO_VIRTIO_INPUT_CFG_EV_BITS, EV_REL, u), ==, 2);
    g_assert_cmphex(get16(u), ==,
                    (1 << REL_HWHEEL) | (1 << REL_WHEEL) | (1 << REL_WHEEL_HI_RES) |
                        (1 << REL_HWHEEL_HI_RES));
    g_assert_cmpuint(query(&f.h, VIREO_VIRTIO_INPUT_CFG_EV_BITS, EV_ABS, u), ==, 1);
    g_assert_cmphex(u[0], ==, (1 << ABS_X) | (1 << ABS_Y));
    g_assert_cmpuint(query(&f.h, VIREO_VIRTIO_INPUT_CFG_EV_BITS, EV_REP, u), ==, 0);
    g_assert_cmpuint(query(&f.h, VIREO_VIRTIO_INPUT_CFG_EV_BITS, EV_LED, u), ==, 0);

    for (unsigned axis = ABS_X; axis <= ABS_Y; axis++) {
        g_assert_cmpuint(query(&f.h, VIREO_VIRTIO_INPUT_CFG_ABS_INFO, (uint8_t)axis, u), ==,
                         VIREO_VIRTIO_INPUT_ABSINFO_SIZE);
        g_assert_cmpuint(get32le(u), ==, 0);                              /* min */
        g_assert_cmpuint(get32le(u + 4), ==, VIREO_VIRTIO_INPUT_ABS_MAX); /* max */
        g_assert_cmpuint(get32le(u + 8), ==, 0);                          /* fuzz */
        g_assert_cmpuint(get32le(u + 12), ==, 0);                         /* flat */
    }
    g_assert_cmpuint(query(&f.h, VIREO_VIRTIO_INPUT_CFG_ABS_INFO, ABS_Z, u), ==, 0);
    g_assert_cmpuint(query(&f.h, VIREO_VIRTIO_INPUT_CFG_ABS_INFO, ABS_MT_POSITION_X, u), ==, 0);

    /* A 16-bit write sets select and subsel at once. */
    g_assert_true(vireo_bus_write(f.h.bus, T_MMIO + VIREO_VIRTIO_MMIO_CONFIG, 2,
                                  VIREO_VIRTIO_INPUT_CFG_EV_BITS | (EV_ABS << 8)));
    g_assert_cmpuint(cfg_read(&f.h, VIREO_VIRTIO_INPUT_CFG_SIZE, 1), ==, 1);
    /* Writes to size and u change nothing. */
    cfg_write8(&f.h, VIREO_VIRTIO_INPUT_CFG_SIZE, 77);
    cfg_write8(&f.h, VIREO_VIRTIO_INPUT_CFG_U, 0);
    g_assert_cmpuint(cfg_read(&f.h, VIREO_VIRTIO_INPUT_CFG_SIZE, 1), ==, 1);
    g_assert_cmphex(cfg_read(&f.h, VIREO_VIRTIO_INPUT_CFG_U, 1), ==, (1 << ABS_X) | (1 << ABS_Y));
    fx_clear(&f);
}

/* ---- Events ------------------------------------------------------------- */

static void test_keys(void)
{
    Fx f;
    Ev ev[16];
    const VireoInputOps *ops = vireo_virtio_input_get_ops();

    fx_start(&f, VIREO_VIRTIO_INPUT_KEYBOARD);
    post(&f, 8);
    g_assert_false(irq_probe_level(&f.h.irq));
    ops->key(f.h.dev, KEY_A, true);
    g_assert_true(irq_probe_level(&f.h.irq));
    g_assert_cmphex(isr(&f.h), ==, VIREO_VIRTIO_ISR_QUEUE);
    ack(&f.h);
    ops->key(f.h.dev, KEY_A, false);
    ops->key(f.h.dev, KEY_LEFTSHIFT, true);
    ops->key(f.h.dev, KEY_OK, true);
    g_assert_cmpuint(take(&f, ev, 16), ==, 8);
    assert_ev(&ev[0], EV_KEY, KEY_A, 1);
    assert_syn(&ev[1]);
    assert_ev(&ev[2], EV_KEY, KEY_A, 0);
    assert_syn(&ev[3]);
    assert_ev(&ev[4], EV_KEY, KEY_LEFTSHIFT, 1);
    assert_syn(&ev[5]);
    assert_ev(&ev[6], EV_KEY, KEY_OK, 1);
    assert_syn(&ev[7]);

    /* Not the keyboard's: buttons, codes out of range, the pointer. */
    ops->key(f.h.dev, BTN_LEFT, true);
    ops->key(f.h.dev, KEY_RESERVED, true);
    ops->key(f.h.dev, 0x2ff, true);
    ops->key(f.h.dev, 100000, true);
    ops->pointer_motion(f.h.dev, 1, 1, 10, 10);
    ops->pointer_button(f.h.dev, BTN_LEFT, true);
    ops->wheel(f.h.dev, 0, VIREO_WHEEL_NOTCH);
    g_assert_cmpuint(take(&f, ev, 16), ==, 0);
    g_assert_cmpuint(stats(&f).events, ==, 8);
    g_assert_cmpuint(stats(&f).dropped, ==, 0);
    fx_clear(&f);
}

/* Where a pointer at `x` of `width` lands on the axis. */
static int32_t scaled(Fx *f, int x, int width)
{
    Ev ev[4];

    vireo_virtio_input_get_ops()->pointer_motion(f->h.dev, x, 0, width, 100);
    g_assert_cmpuint(take(f, ev, 4), ==, 3);
    assert_ev(&ev[0], EV_ABS, ABS_X, ev[0].value);
    assert_ev(&ev[1], EV_ABS, ABS_Y, 0);
    assert_syn(&ev[2]);
    post(f, 3);
    return ev[0].value;
}

static void test_pointer(void)
{
    Fx f;
    Ev ev[16];
    const VireoInputOps *ops = vireo_virtio_input_get_ops();

    fx_start(&f, VIREO_VIRTIO_INPUT_TABLET);
    post(&f, 12);
    ops->pointer_motion(f.h.dev, 0, 0, 640, 480);
    ops->pointer_motion(f.h.dev, 639, 479, 640, 480);
    ops->pointer_button(f.h.dev, BTN_LEFT, true);
    ops->pointer_button(f.h.dev, BTN_LEFT, false);
    g_assert_cmpuint(take(&f, ev, 16), ==, 10);
    assert_ev(&ev[0], EV_ABS, ABS_X, 0);
    assert_ev(&ev[1], EV_ABS, ABS_Y, 0);
    assert_syn(&ev[2]);
    assert_ev(&ev[3], EV_ABS, ABS_X, VIREO_VIRTIO_INPUT_ABS_MAX);
    assert_ev(&ev[4], EV_ABS, ABS_Y, VIREO_VIRTIO_INPUT_ABS_MAX);
    assert_syn(&ev[5]);
    assert_ev(&ev[6], EV_KEY, BTN_LEFT, 1);
    assert_syn(&ev[7]);
    assert_ev(&ev[8], EV_KEY, BTN_LEFT, 0);
    assert_syn(&ev[9]);

    /* Every button; and others, and keys, are not the tablet's. */
    post(&f, 10);
    for (unsigned b = VIREO_BTN_LEFT; b <= VIREO_BTN_EXTRA; b++) {
        ops->pointer_button(f.h.dev, b, true);
    }
    ops->pointer_button(f.h.dev, BTN_TASK, true);
    ops->pointer_button(f.h.dev, BTN_TOUCH, true);
    ops->key(f.h.dev, KEY_A, true);
    g_assert_cmpuint(take(&f, ev, 16), ==, 10);
    for (unsigned i = 0; i < 5; i++) {
        assert_ev(&ev[2 * i], EV_KEY, (uint16_t)(BTN_LEFT + i), 1);
        assert_syn(&ev[2 * i + 1]);
    }

    /* The wheel: high-resolution counts each time, whole notches once
     * they add up; up and right are positive. Two buffers are left from
     * before: ten in all. */
    post(&f, 8);
    ops->wheel(f.h.dev, 0, VIREO_WHEEL_NOTCH);
    ops->wheel(f.h.dev, 0, -VIREO_WHEEL_NOTCH / 2);
    ops->wheel(f.h.dev, 0, -VIREO_WHEEL_NOTCH / 2);
    ops->wheel(f.h.dev, 2 * VIREO_WHEEL_NOTCH, 0);
    ops->wheel(f.h.dev, 0, 0);
    g_assert_cmpuint(take(&f, ev, 16), ==, 10);
    assert_ev(&ev[0], EV_REL, REL_WHEEL_HI_RES, 120);
    assert_ev(&ev[1], EV_REL, REL_WHEEL, 1);
    assert_syn(&ev[2]);
    assert_ev(&ev[3], EV_REL, REL_WHEEL_HI_RES, -60);
    assert_syn(&ev[4]);
    assert_ev(&ev[5], EV_REL, REL_WHEEL_HI_RES, -60);
    assert_ev(&ev[6], EV_REL, REL_WHEEL, -1);
    assert_syn(&ev[7]);
    assert_ev(&ev[8], EV_REL, REL_HWHEEL_HI_RES, 240);
    assert_ev(&ev[9], EV_REL, REL_HWHEEL, 2);
    post(&f, 10);
    g_assert_cmpuint(take(&f, ev, 16), ==, 1);
    assert_syn(&ev[0]);

    /* A motion without a size is meaningless. */
    ops->pointer_motion(f.h.dev, 5, 5, 0, 480);
    ops->pointer_motion(f.h.dev, 5, 5, 640, -1);
    g_assert_cmpuint(take(&f, ev, 16), ==, 0);
    fx_clear(&f);
}

/* Guest pixels to the axis: the first at 0, the last at the maximum, in
 * proportion between, whatever the size; out of the image clamps. */
static void test_scaling(void)
{
    Fx f;

    fx_start(&f, VIREO_VIRTIO_INPUT_TABLET);
    post(&f, 3);
    g_assert_cmpint(scaled(&f, 0, 640), ==, 0);
    g_assert_cmpint(scaled(&f, 639, 640), ==, 32767);
    g_assert_cmpint(scaled(&f, 320, 640), ==, (320 * 32767 + 319) / 639);
    g_assert_cmpint(scaled(&f, 1, 2), ==, 32767);
    g_assert_cmpint(scaled(&f, 0, 1), ==, 0);
    g_assert_cmpint(scaled(&f, 5, 1), ==, 0);
    g_assert_cmpint(scaled(&f, -10, 640), ==, 0);
    g_assert_cmpint(scaled(&f, 5000, 640), ==, 32767);
    g_assert_cmpint(scaled(&f, 8191, 16384), ==, (8191ll * 32767 + 8191) / 16383);
    g_assert_cmpint(scaled(&f, G_MAXINT, G_MAXINT), ==, 32767);
    g_assert_cmpint(
        scaled(&f, G_MAXINT - 1, G_MAXINT), ==,
        (int32_t)(((int64_t)(G_MAXINT - 1) * 32767 + (G_MAXINT - 1) / 2) / (G_MAXINT - 1)));
    /* Every pixel of a small screen lands on its own value, in order. */
    {
        int32_t last = -1;
        for (int x = 0; x < 37; x++) {
            int32_t v = scaled(&f, x, 37);
            g_assert_cmpint(v, >, last);
            last = v;
        }
        g_assert_cmpint(last, ==, 32767);
    }
    fx_clear(&f);
}

/* While the guest has no buffers, reports wait; the backlog keeps the
 * newest VIREO_VIRTIO_INPUT_BACKLOG events, whole reports, and a pointer
 * motion waiting last takes the next motion's position. */
static void test_backlog(void)
{
    Fx f;
    Ev ev[Q_SIZE];
    const VireoInputOps *ops = vireo_virtio_input_get_ops();
    unsigned n_reports = 200, got = 0, next;

    fx_start(&f, VIREO_VIRTIO_INPUT_KEYBOARD);
    ops->key(f.h.dev, KEY_Q, true);
    g_assert_cmpuint(stats(&f).backlog, ==, 2);
    post(&f, 1);
    g_assert_cmpuint(stats(&f).backlog, ==, 1);
    g_assert_cmpuint(take(&f, ev, Q_SIZE), ==, 1);
    assert_ev(&ev[0], EV_KEY, KEY_Q, 1);
    post(&f, 4);
    g_assert_cmpuint(take(&f, ev, Q_SIZE), ==, 1);
    assert_syn(&ev[0]);
    /* The three buffers left take the next reports at once. */
    ops->key(f.h.dev, KEY_Q, false);
    g_assert_cmpuint(take(&f, ev, Q_SIZE), ==, 2);
    ops->key(f.h.dev, KEY_W, true);
    g_assert_cmpuint(take(&f, ev, Q_SIZE), ==, 1);
    g_assert_cmpuint(stats(&f).backlog, ==, 1);
    post(&f, 1);
    g_assert_cmpuint(take(&f, ev, Q_SIZE), ==, 1);
    assert_syn(&ev[0]);

    /* 200 reports of two events into a backlog of 256: the oldest 72 go. */
    for (unsigned i = 0; i < n_reports; i++) {
        ops->key(f.h.dev, 1 + i, true);
    }
    g_assert_cmpuint(stats(&f).backlog, ==, VIREO_VIRTIO_INPUT_BACKLOG);
    g_assert_cmpuint(stats(&f).dropped, ==, 2 * n_reports - VIREO_VIRTIO_INPUT_BACKLOG);
    next = 1 + n_reports - VIREO_VIRTIO_INPUT_BACKLOG / 2;
    while (stats(&f).backlog > 0) {
        unsigned n;
        post(&f, Q_SIZE);
        n = take(&f, ev, Q_SIZE);
        g_assert_cmpuint(n % 2, ==, 0);
        for (unsigned i = 0; i < n; i += 2) {
            assert_ev(&ev[i], EV_KEY, (uint16_t)next++, 1);
            assert_syn(&ev[i + 1]);
        }
        got += n;
    }
    g_assert_cmpuint(got, ==, VIREO_VIRTIO_INPUT_BACKLOG);
    g_assert_cmpuint(next, ==, 1 + n_reports);

    /* A report the guest has the start of keeps its end: the report after
     * it is dropped instead. */
    post(&f, 1);
    ops->key(f.h.dev, KEY_F1, true);
    g_assert_cmpuint(take(&f, ev, Q_SIZE), ==, 1);
    assert_ev(&ev[0], EV_KEY, KEY_F1, 1);
    for (unsigned i = 0; i < n_reports; i++) {
        ops->key(f.h.dev, 1 + i, false);
    }
    g_assert_cmpuint(stats(&f).backlog, <=, VIREO_VIRTIO_INPUT_BACKLOG);
    post(&f, Q_SIZE - 1);
    g_assert_cmpuint(take(&f, ev, Q_SIZE), ==, Q_SIZE - 1);
    assert_syn(&ev[0]);
    next = ev[1].code;
    g_assert_cmpuint(next, >, 1);
    for (unsigned i = 1; i < Q_SIZE - 1; i += 2) {
        assert_ev(&ev[i], EV_KEY, (uint16_t)next++, 0);
        assert_syn(&ev[i + 1]);
    }
    while (stats(&f).backlog > 0) {
        unsigned n;
        post(&f, Q_SIZE);
        n = take(&f, ev, Q_SIZE);
        g_assert_cmpuint(n % 2, ==, 0);
        for (unsigned i = 0; i < n; i += 2) {
            assert_ev(&ev[i], EV_KEY, (uint16_t)next++, 0);
            assert_syn(&ev[i + 1]);
        }
    }
    g_assert_cmpuint(next, ==, 1 + n_reports);
    fx_clear(&f);

    /* Pointer motions: one report waits, with the newest position; after a
     * button the next motion is a report of its own again. */
    fx_start(&f, VIREO_VIRTIO_INPUT_TABLET);
    for (int i = 0; i < 50; i++) {
        ops->pointer_motion(f.h.dev, i, 2 * i, 100, 100);
    }
    g_assert_cmpuint(stats(&f).backlog, ==, 3);
    ops->pointer_button(f.h.dev, BTN_RIGHT, true);
    ops->pointer_motion(f.h.dev, 99, 99, 100, 100);
    ops->pointer_motion(f.h.dev, 0, 99, 100, 100);
    g_assert_cmpuint(stats(&f).backlog, ==, 8);
    post(&f, Q_SIZE);
    g_assert_cmpuint(take(&f, ev, Q_SIZE), ==, 8);
    assert_ev(&ev[0], EV_ABS, ABS_X, (49 * 32767 + 49) / 99);
    assert_ev(&ev[1], EV_ABS, ABS_Y, (98 * 32767 + 49) / 99);
    assert_syn(&ev[2]);
    assert_ev(&ev[3], EV_KEY, BTN_RIGHT, 1);
    assert_syn(&ev[4]);
    assert_ev(&ev[5], EV_ABS, ABS_X, 0);
    assert_ev(&ev[6], EV_ABS, ABS_Y, 32767);
    assert_syn(&ev[7]);
    g_assert_cmpuint(stats(&f).dropped, ==, 0);

    fx_clear(&f);

    /* A motion partly delivered is never rewritten: the next one queues. */
    fx_start(&f, VIREO_VIRTIO_INPUT_TABLET);
    post(&f, 1);
    ops->pointer_motion(f.h.dev, 10, 10, 100, 100);
    ops->pointer_motion(f.h.dev, 20, 20, 100, 100);
    g_assert_cmpuint(stats(&f).backlog, ==, 5);
    post(&f, Q_SIZE - 1);
    g_assert_cmpuint(take(&f, ev, Q_SIZE), ==, 6);
    assert_ev(&ev[0], EV_ABS, ABS_X, (10 * 32767 + 49) / 99);
    assert_ev(&ev[1], EV_ABS, ABS_Y, (10 * 32767 + 49) / 99);
    assert_syn(&ev[2]);
    assert_ev(&ev[3], EV_ABS, ABS_X, (20 * 32767 + 49) / 99);
    fx_clear(&f);
}

/* Before DRIVER_OK nothing is queued: the input is for nobody yet. */
static void test_not_ready(void)
{
    Fx f;
    Ev ev[4];
    const VireoInputOps *ops = vireo_virtio_input_get_ops();

    fx_init(&f, VIREO_VIRTIO_INPUT_KEYBOARD);
    ops->key(f.h.dev, KEY_A, true);
    g_assert_cmpuint(stats(&f).backlog, ==, 0);
    g_assert_cmpuint(stats(&f).dropped, ==, 2);
    g_assert_true(drv_negotiate(&f.h, 1ull << VIREO_VIRTIO_F_VERSION_1));
    drv_setup_queue(&f.h, &f.q[0], 0, Q_SIZE);
    drv_setup_queue(&f.h, &f.q[1], 1, Q_SIZE);
    post(&f, 4);
    ops->key(f.h.dev, KEY_A, false);
    g_assert_cmpuint(stats(&f).dropped, ==, 4);
    drv_driver_ok(&f.h);
    g_assert_cmpuint(take(&f, ev, 4), ==, 0);
    ops->key(f.h.dev, KEY_B, true);
    g_assert_cmpuint(take(&f, ev, 4), ==, 2);
    assert_ev(&ev[0], EV_KEY, KEY_B, 1);
    fx_clear(&f);
}

/* Buffers too short for an event go back empty and the event waits for
 * the next; an event may span two buffers of one chain; read-only buffers
 * before the writable part are skipped. */
static void test_malformed(void)
{
    Fx f;
    Ev ev[4];
    uint32_t id, len;
    const VireoInputOps *ops = vireo_virtio_input_get_ops();

    fx_start(&f, VIREO_VIRTIO_INPUT_KEYBOARD);
    post_len(&f, 1, 4);
    ops->key(f.h.dev, KEY_Z, true);
    g_assert_cmpuint(used_idx(&f.h, &f.q[0]), ==, 1);
    used_elem(&f.h, &f.q[0], 0, &id, &len);
    g_assert_cmpuint(len, ==, 0);
    f.seen = 1;
    g_assert_cmpuint(stats(&f).malformed, ==, 1);
    g_assert_cmpuint(stats(&f).backlog, ==, 2);

    /* A chain of a readable buffer only: nothing to write into. */
    {
        TestBuf b = { T_DATA + 0x1000, 8, false };
        drv_add(&f.h, &f.q[0], &b, 1);
        drv_kick(&f.h, &f.q[0]);
    }
    g_assert_cmpuint(used_idx(&f.h, &f.q[0]), ==, 2);
    used_elem(&f.h, &f.q[0], 1, &id, &len);
    g_assert_cmpuint(len, ==, 0);
    f.seen = 2;
    g_assert_cmpuint(stats(&f).malformed, ==, 2);
    g_assert_cmpuint(stats(&f).backlog, ==, 2);
    g_assert_null(vireo_virtio_get_error(f.h.dev));

    /* Two halves of one event, after a readable buffer. */
    {
        TestBuf b[3] = {
            { T_DATA + 0x2000, 16, false },
            { T_DATA + 0x3000, 4, true },
            { T_DATA + 0x3100, 4, true },
        };
        uint16_t head = drv_add(&f.h, &f.q[0], b, 3);
        const guint8 *lo = gpa(&f.h, T_DATA + 0x3000);
        const guint8 *hi = gpa(&f.h, T_DATA + 0x3100);
        drv_kick(&f.h, &f.q[0]);
        g_assert_cmpuint(used_idx(&f.h, &f.q[0]), ==, 3);
        used_elem(&f.h, &f.q[0], 2, &id, &len);
        g_assert_cmpuint(id, ==, head);
        g_assert_cmpuint(len, ==, 8);
        g_assert_cmpuint(get16(lo), ==, EV_KEY);
        g_assert_cmpuint(get16(lo + 2), ==, KEY_Z);
        g_assert_cmpuint(get32le(hi), ==, 1);
        f.seen = 3;
    }
    /* A large buffer takes one event, no more. */
    post_len(&f, 1, 16);
    g_assert_cmpuint(used_idx(&f.h, &f.q[0]), ==, 4);
    used_elem(&f.h, &f.q[0], 3, &id, &len);
    g_assert_cmpuint(len, ==, 8);
    f.seen = 4;
    g_assert_cmpuint(stats(&f).backlog, ==, 0);
    post(&f, 2);
    ops->key(f.h.dev, KEY_Z, false);
    g_assert_cmpuint(take(&f, ev, 4), ==, 2);
    assert_ev(&ev[0], EV_KEY, KEY_Z, 0);
    g_assert_null(vireo_virtio_get_error(f.h.dev));
    fx_clear(&f);
}

/* ---- The status queue --------------------------------------------------- */

/* Sends `n` events in one chain of one readable buffer (or `len` bytes). */
static void status_send(Fx *f, const Ev *events, unsigned n, uint32_t len)
{
    guint8 *p = gpa(&f->h, T_STATUS);
    TestBuf b = { T_STATUS, len != 0 ? len : n * VIREO_VIRTIO_INPUT_EVENT_SIZE, false };

    for (unsigned i = 0; i < n; i++) {
        put16(p + 8 * i, events[i].type);
        put16(p + 8 * i + 2, events[i].code);
        put32le(p + 8 * i + 4, (uint32_t)events[i].value);
    }
    drv_add(&f->h, &f->q[1], &b, 1);
    drv_kick(&f->h, &f->q[1]);
}

static void test_status(void)
{
    Fx f;
    uint32_t id, len;
    Ev caps_on = { EV_LED, LED_CAPSL, 1 }, caps_off = { EV_LED, LED_CAPSL, 0 };
    Ev two[2] = { { EV_LED, LED_NUML, 1 }, { EV_LED, LED_SCROLLL, 1 } };
    Ev other[3] = { { EV_REP, REP_DELAY, 250 }, { EV_LED, 40, 1 }, { EV_SND, SND_BELL, 1 } };

    fx_start(&f, VIREO_VIRTIO_INPUT_KEYBOARD);
    status_send(&f, &caps_on, 1, 0);
    g_assert_cmpuint(used_idx(&f.h, &f.q[1]), ==, 1);
    used_elem(&f.h, &f.q[1], 0, &id, &len);
    g_assert_cmpuint(len, ==, 0);
    g_assert_true(irq_probe_level(&f.h.irq));
    g_assert_cmphex(stats(&f).leds, ==, 1 << LED_CAPSL);
    status_send(&f, two, 2, 0);
    g_assert_cmphex(stats(&f).leds, ==, (1 << LED_CAPSL) | (1 << LED_NUML) | (1 << LED_SCROLLL));
    status_send(&f, &caps_off, 1, 0);
    g_assert_cmphex(stats(&f).leds, ==, (1 << LED_NUML) | (1 << LED_SCROLLL));
    /* Events that are not LEDs, and LEDs out of range, change nothing. */
    status_send(&f, other, 3, 0);
    g_assert_cmphex(stats(&f).leds, ==, (1 << LED_NUML) | (1 << LED_SCROLLL));
    g_assert_cmpuint(stats(&f).status, ==, 7);
    g_assert_cmpuint(stats(&f).malformed, ==, 0);

    /* Short: no event in it; a trailing part: the whole events count. */
    status_send(&f, &caps_on, 1, 6);
    g_assert_cmpuint(stats(&f).malformed, ==, 1);
    g_assert_cmphex(stats(&f).leds, ==, (1 << LED_NUML) | (1 << LED_SCROLLL));
    status_send(&f, &caps_on, 1, 12);
    g_assert_cmphex(stats(&f).leds, ==, (1 << LED_NUML) | (1 << LED_SCROLLL) | (1 << LED_CAPSL));
    g_assert_cmpuint(used_idx(&f.h, &f.q[1]), ==, 6);
    /* A writable buffer on the status queue is not the driver's to give;
     * it goes back unused. */
    {
        TestBuf b = { T_STATUS, 8, true };
        drv_add(&f.h, &f.q[1], &b, 1);
        drv_kick(&f.h, &f.q[1]);
        g_assert_cmpuint(used_idx(&f.h, &f.q[1]), ==, 7);
        g_assert_cmpuint(stats(&f).malformed, ==, 2);
    }
    g_assert_null(vireo_virtio_get_error(f.h.dev));
    fx_clear(&f);

    /* The tablet has no LEDs. */
    fx_start(&f, VIREO_VIRTIO_INPUT_TABLET);
    status_send(&f, &caps_on, 1, 0);
    g_assert_cmpuint(used_idx(&f.h, &f.q[1]), ==, 1);
    g_assert_cmphex(stats(&f).leds, ==, 0);
    fx_clear(&f);
}

/* ---- Resets ------------------------------------------------------------- */

static void test_reset(void)
{
    Fx f;
    Ev ev[8];
    guint8 u[128];
    Ev caps_on = { EV_LED, LED_CAPSL, 1 };
    const VireoInputOps *ops = vireo_virtio_input_get_ops();

    fx_start(&f, VIREO_VIRTIO_INPUT_TABLET);
    ops->pointer_motion(f.h.dev, 3, 3, 10, 10);
    ops->wheel(f.h.dev, 0, 60);
    g_assert_cmpuint(stats(&f).backlog, ==, 5);
    g_assert_cmpuint(query(&f.h, VIREO_VIRTIO_INPUT_CFG_EV_BITS, EV_ABS, u), ==, 1);

    /* The driver resets: the backlog and the half notch go, and so does
     * the selection. */
    reg_write(&f.h, VIREO_VIRTIO_MMIO_STATUS, 0);
    g_assert_cmpuint(stats(&f).backlog, ==, 0);
    g_assert_cmpuint(stats(&f).dropped, ==, 5);
    g_assert_cmpuint(cfg_read(&f.h, VIREO_VIRTIO_INPUT_CFG_SELECT, 1), ==, 0);
    g_assert_cmpuint(cfg_read(&f.h, VIREO_VIRTIO_INPUT_CFG_SIZE, 1), ==, 0);
    ops->pointer_motion(f.h.dev, 3, 3, 10, 10);
    g_assert_cmpuint(stats(&f).backlog, ==, 0);

    drv_start(&f.h, 1ull << VIREO_VIRTIO_F_VERSION_1, f.q, 2, Q_SIZE);
    f.seen = 0;
    post(&f, 8);
    ops->wheel(f.h.dev, 0, 60);
    g_assert_cmpuint(take(&f, ev, 8), ==, 2);
    assert_ev(&ev[0], EV_REL, REL_WHEEL_HI_RES, 60);
    assert_syn(&ev[1]);
    fx_clear(&f);

    /* A board reset forgets the LEDs too. */
    fx_start(&f, VIREO_VIRTIO_INPUT_KEYBOARD);
    status_send(&f, &caps_on, 1, 0);
    ops->key(f.h.dev, KEY_A, true);
    g_assert_cmphex(stats(&f).leds, ==, 1 << LED_CAPSL);
    vireo_virtio_lock(f.h.dev);
    vireo_virtio_reset_locked(f.h.dev);
    vireo_virtio_unlock(f.h.dev);
    g_assert_cmphex(stats(&f).leds, ==, 0);
    g_assert_cmpuint(stats(&f).backlog, ==, 0);
    g_assert_cmpuint(status(&f.h), ==, 0);
    fx_clear(&f);
}

/* ---- Both devices behind one interface ---------------------------------- */

static void test_pair(void)
{
    Fx kbd, tab;
    Ev ev[8];
    VireoVirtioInputPair pair;
    VireoVirtioInputPair half = { NULL, NULL };
    const VireoInputOps *ops = vireo_virtio_input_pair_get_ops();

    fx_start(&kbd, VIREO_VIRTIO_INPUT_KEYBOARD);
    fx_start(&tab, VIREO_VIRTIO_INPUT_TABLET);
    pair.keyboard = kbd.h.dev;
    pair.tablet = tab.h.dev;
    post(&kbd, 8);
    post(&tab, 8);
    ops->key(&pair, KEY_ENTER, true);
    ops->pointer_motion(&pair, 0, 0, 2, 2);
    ops->pointer_button(&pair, BTN_MIDDLE, true);
    ops->wheel(&pair, -VIREO_WHEEL_NOTCH, 0);
    g_assert_cmpuint(take(&kbd, ev, 8), ==, 2);
    assert_ev(&ev[0], EV_KEY, KEY_ENTER, 1);
    g_assert_cmpuint(take(&tab, ev, 8), ==, 8);
    assert_ev(&ev[3], EV_KEY, BTN_MIDDLE, 1);
    assert_ev(&ev[5], EV_REL, REL_HWHEEL_HI_RES, -120);
    assert_ev(&ev[6], EV_REL, REL_HWHEEL, -1);

    /* Devices that are missing, or not input devices, take nothing. */
    ops->key(&half, KEY_A, true);
    ops->pointer_motion(&half, 0, 0, 2, 2);
    ops->pointer_button(&half, BTN_LEFT, true);
    ops->wheel(&half, 0, 120);
    g_assert_false(vireo_virtio_input_get_stats(NULL, NULL));
    fx_clear(&kbd);
    fx_clear(&tab);
}

/* ---- Threads ------------------------------------------------------------ */

typedef struct {
    VireoVirtio *dev;
    unsigned n;
} Typist;

static gpointer typist_thread(gpointer data)
{
    Typist *t = data;
    const VireoInputOps *ops = vireo_virtio_input_get_ops();

    for (unsigned i = 0; i < t->n; i++) {
        ops->key(t->dev, KEY_A + i % 10, true);
        ops->key(t->dev, KEY_A + i % 10, false);
        if (i % 64 == 0) {
            g_usleep(100);
        }
    }
    return NULL;
}

/* Keys from another thread while the guest reads and gives buffers back:
 * every report arrives whole and in order, or is counted as dropped. */
static void test_threads(void)
{
    Fx f;
    Typist t;
    GThread *thread;
    Ev ev[Q_SIZE];
    unsigned delivered = 0, reports = 0;
    bool want_syn = false;
    VireoVirtioInputStats s;

    fx_start(&f, VIREO_VIRTIO_INPUT_KEYBOARD);
    t.dev = f.h.dev;
    t.n = 4000;
    post(&f, Q_SIZE);
    thread = g_thread_new("typist", typist_thread, &t);
    for (;;) {
        unsigned n;

        vireo_virtio_lock(f.h.dev);
        n = take(&f, ev, Q_SIZE);
        vireo_virtio_unlock(f.h.dev);
        /* Reports are never cut: a key, then its EV_SYN. */
        for (unsigned i = 0; i < n; i++) {
            if (want_syn) {
                assert_syn(&ev[i]);
                reports++;
            } else {
                g_assert_cmpuint(ev[i].type, ==, EV_KEY);
                g_assert_cmpuint(ev[i].code, >=, KEY_A);
            }
            want_syn = !want_syn;
        }
        delivered += n;
        if (n > 0) {
            post(&f, n);
        }
        s = stats(&f);
        if (delivered + s.dropped == 4 * t.n && s.backlog == 0) {
            break;
        }
        g_usleep(50);
    }
    g_thread_join(thread);
    g_test_message("%u events delivered, %" G_GUINT64_FORMAT " dropped", delivered, s.dropped);
    g_assert_cmpuint(s.events, ==, delivered);
    g_assert_cmpuint(reports, >, 0);
    g_assert_null(vireo_virtio_get_error(f.h.dev));
    fx_clear(&f);
}

/* ---- On the board -------------------------------------------------------- */

/* ---- Pausing and snapshots ---------------------------------------------- */

/* A second device of `kind` with the driver's view of the rings of `f`, on
 * a copy of its RAM, with `f`'s paused state loaded and resumed. */
static void twin_load(Fx *t, Fx *f, VireoVirtioInputKind kind, GBytes *section)
{
    g_autoptr(GError) error = NULL;

    fx_init(t, kind);
    t->q[0] = f->q[0];
    t->q[1] = f->q[1];
    t->seen = f->seen;
    snap_copy_ram(&t->h, &f->h);
    snap_pause(&t->h);
    g_assert_true(snap_load(&t->h, section, &error));
    g_assert_no_error(error);
    snap_resume(&t->h);
}

/* The keyboard's selection, LEDs and waiting events (the first report
 * partly delivered) go with the state; keys while paused are dropped. */
static void test_snapshot_keyboard(void)
{
    const VireoInputOps *ops = vireo_virtio_input_get_ops();
    Ev caps_num[2] = { { EV_LED, LED_CAPSL, 1 }, { EV_LED, LED_NUML, 1 } };
    g_autoptr(GBytes) section = NULL;
    guint8 u[128];
    Fx f, t;
    Ev ev[16];

    fx_start(&f, VIREO_VIRTIO_INPUT_KEYBOARD);
    status_send(&f, caps_num, 2, 0);
    cfg_write8(&f.h, VIREO_VIRTIO_INPUT_CFG_SELECT, VIREO_VIRTIO_INPUT_CFG_ID_NAME);
    cfg_write8(&f.h, VIREO_VIRTIO_INPUT_CFG_SUBSEL, 0);
    post(&f, 1);
    ops->key(f.h.dev, KEY_A, true);
    ops->key(f.h.dev, KEY_B, true);
    ops->key(f.h.dev, KEY_B, false);
    g_assert_cmpuint(take(&f, ev, 16), ==, 1);
    assert_ev(&ev[0], EV_KEY, KEY_A, 1);
    g_assert_cmpuint(stats(&f).backlog, ==, 5);

    snap_pause(&f.h);
    ops->key(f.h.dev, KEY_C, true);
    g_assert_cmpuint(stats(&f).backlog, ==, 5);
    g_assert_cmpuint(stats(&f).dropped, ==, 2);
    section = snap_save(&f.h);

    twin_load(&t, &f, VIREO_VIRTIO_INPUT_KEYBOARD, section);
    g_assert_cmpuint(cfg_read(&t.h, VIREO_VIRTIO_INPUT_CFG_SELECT, 1), ==,
                     VIREO_VIRTIO_INPUT_CFG_ID_NAME);
    g_assert_cmpuint(cfg_read(&t.h, VIREO_VIRTIO_INPUT_CFG_SIZE, 1), ==, 14);
    g_assert_cmpuint(query(&t.h, VIREO_VIRTIO_INPUT_CFG_ID_NAME, 0, u), ==, 14);
    g_assert_cmpmem(u, 14, "Vireo Keyboard", 14);
    g_assert_cmphex(stats(&t).leds, ==, (1 << LED_CAPSL) | (1 << LED_NUML));
    g_assert_cmpuint(stats(&t).backlog, ==, 5);
    post(&t, 8);
    g_assert_cmpuint(take(&t, ev, 16), ==, 5);
    assert_syn(&ev[0]);
    assert_ev(&ev[1], EV_KEY, KEY_B, 1);
    assert_syn(&ev[2]);
    assert_ev(&ev[3], EV_KEY, KEY_B, 0);
    assert_syn(&ev[4]);
    g_assert_true(irq_probe_level(&t.h.irq));
    ops->key(t.h.dev, KEY_D, true);
    g_assert_cmpuint(take(&t, ev, 16), ==, 2);
    assert_ev(&ev[0], EV_KEY, KEY_D, 1);
    g_assert_cmpuint(used_idx(&t.h, &t.q[0]), ==, 8);
    fx_clear(&t);
    fx_clear(&f);
}

/* The tablet's wheel remainder and a pointer motion waiting last go with
 * the state: after a load the next motion takes its place, and the next
 * half notch makes a whole one. */
static void test_snapshot_tablet(void)
{
    const VireoInputOps *ops = vireo_virtio_input_get_ops();
    g_autoptr(GBytes) section = NULL;
    Fx f, t;
    Ev ev[16];

    fx_start(&f, VIREO_VIRTIO_INPUT_TABLET);
    ops->wheel(f.h.dev, 0, VIREO_WHEEL_NOTCH / 2);
    ops->pointer_motion(f.h.dev, 0, 0, 100, 100);
    snap_pause(&f.h);
    section = snap_save(&f.h);
    twin_load(&t, &f, VIREO_VIRTIO_INPUT_TABLET, section);
    ops->pointer_motion(t.h.dev, 99, 99, 100, 100);
    g_assert_cmpuint(stats(&t).backlog, ==, 5);
    post(&t, 8);
    g_assert_cmpuint(take(&t, ev, 16), ==, 5);
    assert_ev(&ev[0], EV_REL, REL_WHEEL_HI_RES, VIREO_WHEEL_NOTCH / 2);
    assert_syn(&ev[1]);
    assert_ev(&ev[2], EV_ABS, ABS_X, VIREO_VIRTIO_INPUT_ABS_MAX);
    assert_ev(&ev[3], EV_ABS, ABS_Y, VIREO_VIRTIO_INPUT_ABS_MAX);
    assert_syn(&ev[4]);
    ops->wheel(t.h.dev, 0, VIREO_WHEEL_NOTCH / 2);
    g_assert_cmpuint(take(&t, ev, 16), ==, 3);
    assert_ev(&ev[0], EV_REL, REL_WHEEL_HI_RES, VIREO_WHEEL_NOTCH / 2);
    assert_ev(&ev[1], EV_REL, REL_WHEEL, 1);
    assert_syn(&ev[2]);
    fx_clear(&t);
    fx_clear(&f);
}

/* Event buffers the driver made available before the save are the loaded
 * device's: the next key goes into them. */
static void test_snapshot_buffers(void)
{
    const VireoInputOps *ops = vireo_virtio_input_get_ops();
    g_autoptr(GBytes) section = NULL;
    uint16_t head;
    uint32_t id, len;
    Fx f, t;
    Ev ev[4];

    fx_start(&f, VIREO_VIRTIO_INPUT_KEYBOARD);
    post(&f, 2);
    ops->key(f.h.dev, KEY_Q, true);
    g_assert_cmpuint(take(&f, ev, 4), ==, 2);
    head = f.q[0].next_desc;
    post(&f, 2);
    snap_pause(&f.h);
    section = snap_save(&f.h);
    twin_load(&t, &f, VIREO_VIRTIO_INPUT_KEYBOARD, section);
    g_assert_cmpuint(used_idx(&t.h, &t.q[0]), ==, 2);
    ack(&t.h);
    g_assert_false(irq_probe_level(&t.h.irq));
    ops->key(t.h.dev, KEY_E, true);
    g_assert_cmpuint(take(&t, ev, 4), ==, 2);
    assert_ev(&ev[0], EV_KEY, KEY_E, 1);
    assert_syn(&ev[1]);
    used_elem(&t.h, &t.q[0], 2, &id, &len);
    g_assert_cmpuint(id, ==, head);
    used_elem(&t.h, &t.q[0], 3, &id, &len);
    g_assert_cmpuint(id, ==, (uint16_t)(head + 1));
    g_assert_true(irq_probe_level(&t.h.irq));
    fx_clear(&t);
    fx_clear(&f);
}

/* Bad values in an input device's part are refused and change nothing. */
static void test_snapshot_hostile(void)
{
    const VireoInputOps *ops = vireo_virtio_input_get_ops();
    const gsize m = SNAP_OFF_MODEL(2);
    const gsize ev0 = m + 25;
    g_autoptr(GBytes) good = NULL;
    g_autoptr(GBytes) tablet = NULL;
    Fx f, t;
    const struct {
        gsize offset;
        unsigned size;
        uint32_t value;
        const char *what;
    } cases[] = {
        { m, 4, 3, "input device's layout version" },
        { m + 4, 1, VIREO_VIRTIO_INPUT_TABLET, "holds a tablet, not a keyboard" },
        { m + 7, 4, 1u << 20, "unknown LEDs" },
        { m + 11, 4, (uint32_t)VIREO_WHEEL_NOTCH, "whole notch" },
        { m + 15, 4, (uint32_t)-VIREO_WHEEL_NOTCH, "whole notch" },
        { m + 19, 4, VIREO_VIRTIO_INPUT_BACKLOG + 1, "more than" },
        { m + 19, 4, 2, "left over" },
        { m + 24, 1, 1, "does not end with a pointer motion" },
        { ev0, 2, EV_LED, "not one this device sends" },
        { ev0 + 2, 2, BTN_LEFT, "not one this device sends" },
        { ev0 + 4, 4, 2, "not one this device sends" },
        { ev0 + 8 * 3, 2, EV_KEY, "not one this device sends" },
        { ev0 + 8 * 3, 4, EV_KEY | (KEY_A << 16), "ends in the middle of a report" },
    };

    fx_start(&f, VIREO_VIRTIO_INPUT_KEYBOARD);
    ops->key(f.h.dev, KEY_A, true);
    ops->key(f.h.dev, KEY_A, false);
    snap_pause(&f.h);
    good = snap_save(&f.h);
    g_assert_cmpuint(g_bytes_get_size(good), ==, ev0 + 4 * 8);
    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GBytes) bad = NULL;

        switch (cases[i].size) {
        case 1: bad = snap_patch_u8(good, cases[i].offset, (uint8_t)cases[i].value); break;
        case 2: bad = snap_patch_u16(good, cases[i].offset, (uint16_t)cases[i].value); break;
        default: bad = snap_patch_u32(good, cases[i].offset, cases[i].value); break;
        }
        g_test_message("case %u: %s", i, cases[i].what);
        snap_assert_refused(&f.h, bad, cases[i].what);
    }
    snap_assert_truncations_refused(&f.h, good, 1);
    /* A keyboard's state does not go into a tablet. */
    fx_init(&t, VIREO_VIRTIO_INPUT_TABLET);
    snap_pause(&t.h);
    snap_assert_refused(&t.h, good, "holds a keyboard, not a tablet");
    /* A tablet's pointer motion at the end of its backlog is checked. */
    fx_clear(&t);
    fx_start(&t, VIREO_VIRTIO_INPUT_TABLET);
    ops->pointer_motion(t.h.dev, 5, 5, 10, 10);
    snap_pause(&t.h);
    tablet = snap_save(&t.h);
    {
        g_autoptr(GBytes) bad = snap_patch_u16(tablet, ev0 + 2, ABS_Y);
        snap_assert_refused(&t.h, bad, "does not end with a pointer motion");
    }
    {
        g_autoptr(GBytes) bad = snap_patch_u32(tablet, ev0 + 4, 40000);
        snap_assert_refused(&t.h, bad, "not one this device sends");
    }
    fx_clear(&t);
    snap_resume(&f.h);
    post(&f, 4);
    g_assert_cmpuint(used_idx(&f.h, &f.q[0]), ==, 4);
    fx_clear(&f);
}

static bool has_node(VireoVirt *board, unsigned slot)
{
    const void *fdt = g_bytes_get_data(vireo_virt_boot_get_fdt(vireo_virt_get_boot(board)), NULL);
    g_autofree char *path =
        g_strdup_printf("/soc/virtio_mmio@%" G_GINT64_MODIFIER "x", vireo_virt_virtio_base(slot));

    return fdt_path_offset(fdt, path) >= 0;
}

static uint64_t device_id_at(VireoMachine *m, unsigned slot)
{
    uint64_t v = 0;

    g_assert_true(vireo_bus_read(
        vireo_machine_bus(m), vireo_virt_virtio_base(slot) + VIREO_VIRTIO_MMIO_DEVICE_ID, 4, &v));
    return v;
}

/* The keyboard and the tablet take the lowest free slots, appear in the
 * device tree, and leave the configuration refused when no two are free. */
static void test_board(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("vireo-input-XXXXXX", &error);
    g_autofree char *kernel = g_build_filename(dir, "kernel.bin", NULL);
    g_autoptr(VireoNetConfig) net = vireo_net_config_parse("user", &error);
    VireoVirtDisk disks[6];
    VireoVirtConfig c = {
        .ram_size = 64ull << 20,
        .n_harts = 1,
        .kernel = kernel,
    };
    VireoVirt *board = NULL;
    VireoMachine *m;
    const VireoVirtioInputPair *pair;
    VireoVirtioInputKind kind;
    VireoVirtioInputStats s;
    unsigned kbd, tab;

    g_assert_no_error(error);
    g_assert_true(g_file_set_contents(kernel, "\x73\x00\x50\x10", 4, &error));
    for (unsigned i = 0; i < 6; i++) {
        disks[i] = (VireoVirtDisk){ kernel, true };
    }

    /* Without a display: no input devices. */
    m = vireo_virt_new(&c, &board, &error);
    g_assert_no_error(error);
    g_assert_null(vireo_virt_get_input(board));
    g_assert_false(vireo_virt_config_input_slots(&c, &kbd, &tab));
    g_assert_false(has_node(board, 2));
    vireo_machine_free(m);

    /* With: slots 2 and 3 after the console and the entropy device. */
    c.input = true;
    g_assert_true(vireo_virt_config_input_slots(&c, &kbd, &tab));
    g_assert_cmpuint(kbd, ==, 2);
    g_assert_cmpuint(tab, ==, 3);
    g_assert_cmphex(vireo_virt_config_virtio_slots(&c), ==, 0x0f);
    m = vireo_virt_new(&c, &board, &error);
    g_assert_no_error(error);
    pair = vireo_virt_get_input(board);
    g_assert_nonnull(pair);
    g_assert_true(vireo_virt_get_virtio(board, 2) == pair->keyboard);
    g_assert_true(vireo_virt_get_virtio(board, 3) == pair->tablet);
    g_assert_true(vireo_virtio_input_get_kind(pair->keyboard, &kind));
    g_assert_cmpint(kind, ==, VIREO_VIRTIO_INPUT_KEYBOARD);
    g_assert_true(vireo_virtio_input_get_kind(pair->tablet, &kind));
    g_assert_cmpint(kind, ==, VIREO_VIRTIO_INPUT_TABLET);
    g_assert_false(vireo_virtio_input_get_kind(vireo_virt_get_virtio_console(board), &kind));
    g_assert_cmpuint(device_id_at(m, 2), ==, VIREO_VIRTIO_ID_INPUT);
    g_assert_cmpuint(device_id_at(m, 3), ==, VIREO_VIRTIO_ID_INPUT);
    g_assert_true(has_node(board, 2) && has_node(board, 3));
    g_assert_false(has_node(board, 4));
    /* Before the guest's driver runs, input is dropped. */
    vireo_virtio_input_pair_get_ops()->key((void *)pair, KEY_A, true);
    g_assert_true(vireo_virtio_input_get_stats(pair->keyboard, &s));
    g_assert_cmpuint(s.dropped, ==, 2);
    g_assert_cmpuint(s.backlog, ==, 0);
    vireo_machine_free(m);

    /* With a network card and two disks: 3 and 4. */
    c.net = net;
    c.disks = disks;
    c.n_disks = 2;
    m = vireo_virt_new(&c, &board, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(device_id_at(m, 2), ==, VIREO_VIRTIO_ID_NET);
    g_assert_true(vireo_virt_get_virtio(board, 3) == vireo_virt_get_input(board)->keyboard);
    g_assert_true(vireo_virt_get_virtio(board, 4) == vireo_virt_get_input(board)->tablet);
    g_assert_cmphex(vireo_virt_config_virtio_slots(&c), ==, 0xdf);
    for (unsigned slot = 0; slot < VIREO_VIRT_VIRTIO_SLOTS; slot++) {
        g_assert_cmpint(has_node(board, slot), ==, slot != 5);
    }
    vireo_machine_free(m);

    /* Three disks still fit; four do not, and neither do six alone. */
    c.n_disks = 3;
    m = vireo_virt_new(&c, &board, &error);
    g_assert_no_error(error);
    g_assert_cmphex(vireo_virt_config_virtio_slots(&c), ==, 0xff);
    vireo_machine_free(m);
    c.n_disks = 4;
    g_assert_false(vireo_virt_config_input_slots(&c, &kbd, &tab));
    g_assert_null(vireo_virt_new(&c, &board, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    g_test_message("%s", error->message);
    g_clear_error(&error);
    c.net = NULL;
    c.n_disks = 6;
    g_assert_null(vireo_virt_new(&c, &board, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    g_clear_error(&error);
    c.n_disks = 4;
    m = vireo_virt_new(&c, &board, &error);
    g_assert_no_error(error);
    vireo_machine_free(m);

    /* The display takes the lowest free slot first; they take the next. */
    c.gpu = VIREO_VIRT_GPU_2D;
    c.n_disks = 3;
    g_assert_true(vireo_virt_config_input_slots(&c, &kbd, &tab));
    g_assert_cmpuint(kbd, ==, 3);
    g_assert_cmpuint(tab, ==, 4);
    m = vireo_virt_new(&c, &board, &error);
    g_assert_no_error(error);
    g_assert_true(vireo_virt_get_virtio(board, 2) == vireo_virt_get_gpu(board));
    g_assert_true(vireo_virt_get_virtio(board, 3) == vireo_virt_get_input(board)->keyboard);
    g_assert_true(vireo_virt_get_virtio(board, 4) == vireo_virt_get_input(board)->tablet);
    g_assert_cmphex(vireo_virt_config_virtio_slots(&c), ==, 0xff);
    vireo_machine_free(m);
    c.n_disks = 4;
    g_assert_null(vireo_virt_new(&c, &board, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    g_clear_error(&error);

    g_unlink(kernel);
    g_rmdir(dir);
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-input/config/keyboard", test_config_keyboard);
    g_test_add_func("/virtio-input/config/tablet", test_config_tablet);
    g_test_add_func("/virtio-input/keys", test_keys);
    g_test_add_func("/virtio-input/pointer", test_pointer);
    g_test_add_func("/virtio-input/scaling", test_scaling);
    g_test_add_func("/virtio-input/backlog", test_backlog);
    g_test_add_func("/virtio-input/not-ready", test_not_ready);
    g_test_add_func("/virtio-input/malformed", test_malformed);
    g_test_add_func("/virtio-input/status", test_status);
    g_test_add_func("/virtio-input/reset", test_reset);
    g_test_add_func("/virtio-input/pair", test_pair);
    g_test_add_func("/virtio-input/threads", test_threads);
    g_test_add_func("/virtio-input/board", test_board);
    g_test_add_func("/virtio-input/snapshot/keyboard", test_snapshot_keyboard);
    g_test_add_func("/virtio-input/snapshot/tablet", test_snapshot_tablet);
    g_test_add_func("/virtio-input/snapshot/buffers", test_snapshot_buffers);
    g_test_add_func("/virtio-input/snapshot/hostile", test_snapshot_hostile);
    return g_test_run();
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * A minimal virtio driver for register-level tests: it plays the guest,
 * with guest RAM as a real VireoBus RAM region and the device behind a
 * virtio-mmio transport on the same bus, and builds descriptor tables and
 * rings by hand (so tests can also build broken ones).
 */

#include "devices/virtio-mmio.h"
#include "devices/virtio.h"
#include "engine/bus.h"
#include "irq-probe.h"

#include <string.h>

#define T_RAM_BASE 0x80000000ull
#ifndef T_RAM_SIZE /* a fuzz target takes less */
#define T_RAM_SIZE (16ull << 20)
#endif
#define T_MMIO 0x10001000ull

/* Guest memory used by the tests: queue areas, then data buffers. */
#define T_DESC     0x80001000ull
#define T_AVAIL    0x80002000ull
#define T_USED     0x80003000ull
#define T_INDIRECT 0x80004000ull
#define T_DESC2    0x80005000ull /* a second queue */
#define T_AVAIL2   0x80006000ull
#define T_USED2    0x80007000ull
#define T_DATA     0x80100000ull

#define T_ALL_TRANSPORT                                                            \
    ((1ull << VIREO_VIRTIO_F_VERSION_1) | (1ull << VIREO_VIRTIO_F_INDIRECT_DESC) | \
     (1ull << VIREO_VIRTIO_F_EVENT_IDX))

typedef struct {
    VireoBus *bus;
    guint8 *ram;
    VireoVirtio *dev;
    VireoVirtioMmio *mmio;
    IrqProbe irq;
} Harness;

typedef struct {
    unsigned index;
    uint16_t num;
    uint64_t desc, avail, used;
    uint16_t avail_idx; /* the driver's next available index */
    uint16_t next_desc; /* descriptors are handed out in turn */
} TestQueue;

/* One buffer of a chain a test builds. */
typedef struct {
    uint64_t addr;
    uint32_t len;
    bool write;
} TestBuf;

static inline void harness_init(Harness *h)
{
    g_autoptr(GError) error = NULL;

    memset(h, 0, sizeof *h);
    h->bus = vireo_bus_new();
    h->ram = vireo_bus_add_ram(h->bus, T_RAM_BASE, T_RAM_SIZE, &error);
    g_assert_no_error(error);
    irq_probe_init(&h->irq);
}

/* Puts `dev` behind a transport at T_MMIO. */
static inline void harness_attach(Harness *h, VireoVirtio *dev)
{
    g_autoptr(GError) error = NULL;
    VireoIrq line = irq_probe_line(&h->irq, 1);

    h->dev = dev;
    h->mmio = vireo_virtio_mmio_new(dev, &line);
    g_assert_true(vireo_bus_add_mmio(h->bus, "virtio", T_MMIO, VIREO_VIRTIO_MMIO_SIZE,
                                     vireo_virtio_mmio_ops(), h->mmio, &error));
    g_assert_no_error(error);
}

static inline void harness_clear(Harness *h)
{
    vireo_virtio_mmio_free(h->mmio);
    vireo_virtio_free(h->dev);
    vireo_bus_free(h->bus);
    irq_probe_clear(&h->irq);
}

static inline guint8 *gpa(Harness *h, uint64_t addr)
{
    g_assert_cmpuint(addr - T_RAM_BASE, <, T_RAM_SIZE);
    return h->ram + (addr - T_RAM_BASE);
}

static inline uint32_t reg_read(Harness *h, unsigned off)
{
    uint64_t v = 0;
    g_assert_true(vireo_bus_read(h->bus, T_MMIO + off, 4, &v));
    return (uint32_t)v;
}

static inline void reg_write(Harness *h, unsigned off, uint32_t v)
{
    g_assert_true(vireo_bus_write(h->bus, T_MMIO + off, 4, v));
}

static inline uint64_t cfg_read(Harness *h, unsigned off, unsigned size)
{
    uint64_t v = 0;
    g_assert_true(vireo_bus_read(h->bus, T_MMIO + VIREO_VIRTIO_MMIO_CONFIG + off, size, &v));
    return v;
}

static inline void cfg_write(Harness *h, unsigned off, unsigned size, uint64_t v)
{
    g_assert_true(vireo_bus_write(h->bus, T_MMIO + VIREO_VIRTIO_MMIO_CONFIG + off, size, v));
}

static inline uint8_t status(Harness *h)
{
    return (uint8_t)reg_read(h, VIREO_VIRTIO_MMIO_STATUS);
}

static inline uint64_t device_features(Harness *h)
{
    uint64_t f;

    reg_write(h, VIREO_VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    f = reg_read(h, VIREO_VIRTIO_MMIO_DEVICE_FEATURES);
    reg_write(h, VIREO_VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    return f | ((uint64_t)reg_read(h, VIREO_VIRTIO_MMIO_DEVICE_FEATURES) << 32);
}

/* Reset, ACKNOWLEDGE, DRIVER, the features, FEATURES_OK; returns whether
 * the device kept FEATURES_OK. */
static inline bool drv_negotiate(Harness *h, uint64_t features)
{
    reg_write(h, VIREO_VIRTIO_MMIO_STATUS, 0);
    g_assert_cmpuint(status(h), ==, 0);
    reg_write(h, VIREO_VIRTIO_MMIO_STATUS, VIREO_VIRTIO_STATUS_ACKNOWLEDGE);
    reg_write(h, VIREO_VIRTIO_MMIO_STATUS,
              VIREO_VIRTIO_STATUS_ACKNOWLEDGE | VIREO_VIRTIO_STATUS_DRIVER);
    reg_write(h, VIREO_VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    reg_write(h, VIREO_VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
    reg_write(h, VIREO_VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    reg_write(h, VIREO_VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
    reg_write(h, VIREO_VIRTIO_MMIO_STATUS,
              VIREO_VIRTIO_STATUS_ACKNOWLEDGE | VIREO_VIRTIO_STATUS_DRIVER |
                  VIREO_VIRTIO_STATUS_FEATURES_OK);
    return (status(h) & VIREO_VIRTIO_STATUS_FEATURES_OK) != 0;
}

/* Clears a queue's areas and configures and enables it; returns whether it
 * became ready. */
static inline bool drv_setup_queue_at(Harness *h, TestQueue *q, unsigned index, uint16_t num,
                                      uint64_t desc, uint64_t avail, uint64_t used)
{
    memset(q, 0, sizeof *q);
    q->index = index;
    q->num = num;
    q->desc = desc;
    q->avail = avail;
    q->used = used;
    if (desc - T_RAM_BASE < T_RAM_SIZE && avail - T_RAM_BASE < T_RAM_SIZE &&
        used - T_RAM_BASE < T_RAM_SIZE) {
        memset(gpa(h, desc), 0, MIN((uint64_t)16 * num, T_RAM_BASE + T_RAM_SIZE - desc));
        memset(gpa(h, avail), 0, MIN(6 + 2ull * num, T_RAM_BASE + T_RAM_SIZE - avail));
        memset(gpa(h, used), 0, MIN(6 + 8ull * num, T_RAM_BASE + T_RAM_SIZE - used));
    }
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_SEL, index);
    g_assert_cmpuint(reg_read(h, VIREO_VIRTIO_MMIO_QUEUE_READY), ==, 0);
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_NUM, num);
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail);
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(avail >> 32));
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)used);
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(used >> 32));
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_READY, 1);
    return reg_read(h, VIREO_VIRTIO_MMIO_QUEUE_READY) == 1;
}

static inline void drv_setup_queue(Harness *h, TestQueue *q, unsigned index, uint16_t num)
{
    uint64_t off = index == 0 ? 0 : T_DESC2 - T_DESC;

    g_assert_true(drv_setup_queue_at(h, q, index, num, T_DESC + off, T_AVAIL + off, T_USED + off));
}

static inline void drv_driver_ok(Harness *h)
{
    reg_write(h, VIREO_VIRTIO_MMIO_STATUS, status(h) | VIREO_VIRTIO_STATUS_DRIVER_OK);
    g_assert_true(status(h) & VIREO_VIRTIO_STATUS_DRIVER_OK);
}

/* Negotiates `features`, sets up `n` queues of `num` entries and sets
 * DRIVER_OK. */
static inline void drv_start(Harness *h, uint64_t features, TestQueue *queues, unsigned n,
                             uint16_t num)
{
    g_assert_true(drv_negotiate(h, features));
    for (unsigned i = 0; i < n; i++) {
        drv_setup_queue(h, &queues[i], i, num);
    }
    drv_driver_ok(h);
}

static inline void put16(guint8 *p, uint16_t v)
{
    v = GUINT16_TO_LE(v);
    memcpy(p, &v, 2);
}

static inline uint16_t get16(const guint8 *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return GUINT16_FROM_LE(v);
}

static inline void put32le(guint8 *p, uint32_t v)
{
    v = GUINT32_TO_LE(v);
    memcpy(p, &v, 4);
}

static inline uint32_t get32le(const guint8 *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return GUINT32_FROM_LE(v);
}

static inline void put64le(guint8 *p, uint64_t v)
{
    v = GUINT64_TO_LE(v);
    memcpy(p, &v, 8);
}

/* Writes descriptor `i` of the table at `table`. */
static inline void drv_put_desc(Harness *h, uint64_t table, unsigned i, uint64_t addr, uint32_t len,
                                uint16_t flags, uint16_t next)
{
    guint8 *d = gpa(h, table + 16ull * i);

    put64le(d, addr);
    put32le(d + 8, len);
    put16(d + 12, flags);
    put16(d + 14, next);
}

/* Makes `head` available (without notifying). */
static inline void drv_publish(Harness *h, TestQueue *q, uint16_t head)
{
    guint8 *avail = gpa(h, q->avail);

    put16(avail + 4 + 2u * (q->avail_idx % q->num), head);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    q->avail_idx++;
    put16(avail + 2, q->avail_idx);
}

/* Builds a direct chain of `n` buffers from the next free descriptors and
 * makes it available; returns its head. */
static inline uint16_t drv_add(Harness *h, TestQueue *q, const TestBuf *bufs, unsigned n)
{
    uint16_t head = q->next_desc;

    for (unsigned i = 0; i < n; i++) {
        uint16_t d = (uint16_t)((head + i) % q->num);
        uint16_t flags = (uint16_t)((bufs[i].write ? VIREO_VIRTQ_DESC_F_WRITE : 0) |
                                    (i + 1 < n ? VIREO_VIRTQ_DESC_F_NEXT : 0));
        drv_put_desc(h, q->desc, d, bufs[i].addr, bufs[i].len, flags, (uint16_t)((d + 1) % q->num));
    }
    q->next_desc = (uint16_t)((head + n) % q->num);
    drv_publish(h, q, head);
    return head;
}

static inline void drv_kick(Harness *h, TestQueue *q)
{
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_NOTIFY, q->index);
}

static inline uint16_t used_idx(Harness *h, TestQueue *q)
{
    return __atomic_load_n((uint16_t *)(void *)gpa(h, q->used + 2), __ATOMIC_ACQUIRE);
}

static inline void used_elem(Harness *h, TestQueue *q, uint16_t i, uint32_t *id, uint32_t *len)
{
    const guint8 *e = gpa(h, q->used + 4 + 8u * (i % q->num));

    *id = get32le(e);
    *len = get32le(e + 4);
}

/* Whether the device serves its queues: DRIVER_OK and FEATURES_OK set,
 * neither DEVICE_NEEDS_RESET nor FAILED. */
static inline bool drv_running(Harness *h)
{
    const uint8_t need = VIREO_VIRTIO_STATUS_DRIVER_OK | VIREO_VIRTIO_STATUS_FEATURES_OK;
    const uint8_t stop = VIREO_VIRTIO_STATUS_NEEDS_RESET | VIREO_VIRTIO_STATUS_FAILED;
    uint8_t s = status(h);

    return (s & need) == need && (s & stop) == 0;
}

/* Waits up to `timeout_ms` until the used index reaches (or passes)
 * `target`, or, with `or_stopped`, until the device no longer serves its
 * queues (a chain it refused stops it short of the target). Most requests
 * take microseconds, so it yields before it sleeps. False on timeout. */
static inline bool drv_wait_until(Harness *h, TestQueue *q, uint16_t target, bool or_stopped,
                                  int timeout_ms)
{
    gint64 start = g_get_monotonic_time();
    gint64 end = start + (gint64)timeout_ms * 1000;

    while ((int16_t)(used_idx(h, q) - target) < 0 && !(or_stopped && !drv_running(h))) {
        gint64 now = g_get_monotonic_time();

        if (now > end) {
            return false;
        }
        if (now - start < 2000) {
            g_thread_yield();
        } else {
            g_usleep(200);
        }
    }
    return true;
}

/* Waits up to 5 s until the used index reaches `target`. */
static inline bool drv_wait_used(Harness *h, TestQueue *q, uint16_t target)
{
    return drv_wait_until(h, q, target, false, 5000);
}

static inline uint32_t isr(Harness *h)
{
    return reg_read(h, VIREO_VIRTIO_MMIO_INTERRUPT_STATUS);
}

static inline void ack(Harness *h)
{
    reg_write(h, VIREO_VIRTIO_MMIO_INTERRUPT_ACK, isr(h));
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The virtio-mmio transport and the split virtqueues, driven through the bus
 * as a guest driver would; the entropy and console devices. Queue checks are
 * exercised on the entropy device, which serves its queue synchronously.
 */
#include "devices/virtio-console.h"
#include "devices/virtio-rng.h"
#include "virtio-driver.h"

/* Entropy that counts up, so tests can check what lands where. */
static gssize counting_source(void *opaque, guint8 *buf, gsize len)
{
    guint8 *next = opaque;

    for (gsize i = 0; i < len; i++) {
        buf[i] = (*next)++;
    }
    return (gssize)len;
}

typedef struct {
    Harness h;
    guint8 counter;
    TestQueue q;
} RngFixture;

static void rng_setup(RngFixture *f, gconstpointer data)
{
    harness_init(&f->h);
    f->counter = 1;
    harness_attach(&f->h, vireo_virtio_rng_new(f->h.bus, counting_source, &f->counter));
}

static void rng_teardown(RngFixture *f, gconstpointer data)
{
    harness_clear(&f->h);
}

/* Starts the device with all transport features and one 8-entry queue. */
static void rng_start(RngFixture *f, uint64_t features)
{
    drv_start(&f->h, features, &f->q, 1, 8);
}

/* One writable buffer of `len` bytes at T_DATA; true when it came back
 * filled. */
static bool rng_request(RngFixture *f, uint32_t len)
{
    TestBuf b = { T_DATA, len, true };
    uint16_t target = (uint16_t)(f->q.avail_idx + 1);

    drv_add(&f->h, &f->q, &b, 1);
    drv_kick(&f->h, &f->q);
    return used_idx(&f->h, &f->q) == target;
}

/* The device is in DEVICE_NEEDS_RESET because of `reason`, and told the
 * driver with a configuration-change interrupt. */
static void assert_needs_reset(Harness *h, const char *reason)
{
    g_assert_true(status(h) & VIREO_VIRTIO_STATUS_NEEDS_RESET);
    g_assert_cmpstr(vireo_virtio_get_error(h->dev), ==, reason);
    g_assert_true(isr(h) & VIREO_VIRTIO_ISR_CONFIG);
    g_assert_true(irq_probe_level(&h->irq));
}

/* After a reset and a fresh start, the device serves requests again. */
static void assert_recovers(RngFixture *f)
{
    reg_write(&f->h, VIREO_VIRTIO_MMIO_STATUS, 0);
    g_assert_cmpuint(status(&f->h), ==, 0);
    g_assert_cmpuint(isr(&f->h), ==, 0);
    g_assert_false(irq_probe_level(&f->h.irq));
    g_assert_null(vireo_virtio_get_error(f->h.dev));
    rng_start(f, T_ALL_TRANSPORT);
    g_assert_true(rng_request(f, 16));
}

/* ---- Registers and negotiation --------------------------------------- */

static void test_registers(RngFixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    uint64_t v;

    g_assert_cmphex(reg_read(h, VIREO_VIRTIO_MMIO_MAGIC_VALUE), ==, 0x74726976);
    g_assert_cmpuint(reg_read(h, VIREO_VIRTIO_MMIO_VERSION_REG), ==, 2);
    g_assert_cmpuint(reg_read(h, VIREO_VIRTIO_MMIO_DEVICE_ID), ==, VIREO_VIRTIO_ID_ENTROPY);
    g_assert_cmphex(reg_read(h, VIREO_VIRTIO_MMIO_VENDOR_ID), ==, VIREO_VIRTIO_VENDOR_ID);
    g_assert_cmpuint(status(h), ==, 0);
    g_assert_cmpuint(reg_read(h, VIREO_VIRTIO_MMIO_CONFIG_GENERATION), ==, 0);
    /* Queue 0 exists, queue 1 does not. */
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_SEL, 0);
    g_assert_cmpuint(reg_read(h, VIREO_VIRTIO_MMIO_QUEUE_NUM_MAX), ==, VIREO_VIRTIO_RNG_QUEUE_SIZE);
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_SEL, 1);
    g_assert_cmpuint(reg_read(h, VIREO_VIRTIO_MMIO_QUEUE_NUM_MAX), ==, 0);
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_READY, 1);
    g_assert_cmpuint(reg_read(h, VIREO_VIRTIO_MMIO_QUEUE_READY), ==, 0);
    /* No shared memory regions: the length reads as -1. */
    reg_write(h, VIREO_VIRTIO_MMIO_SHM_SEL, 0);
    g_assert_cmphex(reg_read(h, VIREO_VIRTIO_MMIO_SHM_LEN_LOW), ==, 0xffffffff);
    g_assert_cmphex(reg_read(h, VIREO_VIRTIO_MMIO_SHM_LEN_HIGH), ==, 0xffffffff);
    /* Reserved registers read as 0 and ignore writes. */
    g_assert_cmpuint(reg_read(h, 0x0f0), ==, 0);
    reg_write(h, 0x0f0, 0x1234);
    /* Registers take aligned 32-bit accesses only. */
    g_assert_false(vireo_bus_read(h->bus, T_MMIO, 1, &v));
    g_assert_false(vireo_bus_read(h->bus, T_MMIO, 8, &v));
    g_assert_false(vireo_bus_read(h->bus, T_MMIO + 2, 4, &v));
    g_assert_false(vireo_bus_write(h->bus, T_MMIO + VIREO_VIRTIO_MMIO_STATUS, 2, 1));
    /* The entropy device has no configuration space: it reads as 0; an
     * unaligned configuration access is refused. */
    g_assert_cmpuint(cfg_read(h, 0, 4), ==, 0);
    g_assert_false(vireo_bus_read(h->bus, T_MMIO + VIREO_VIRTIO_MMIO_CONFIG + 1, 2, &v));
}

static void test_features(RngFixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    uint64_t offered = device_features(h);

    g_assert_cmphex(offered, ==, T_ALL_TRANSPORT);
    reg_write(h, VIREO_VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
    g_assert_cmpuint(reg_read(h, VIREO_VIRTIO_MMIO_DEVICE_FEATURES), ==, 0);

    /* A driver without VERSION_1 (a legacy driver) is refused. */
    g_assert_false(drv_negotiate(h, 0));
    g_assert_false(drv_negotiate(h, 1ull << VIREO_VIRTIO_F_EVENT_IDX));
    /* So is one that wants a feature that was not offered. */
    g_assert_false(drv_negotiate(h, (1ull << VIREO_VIRTIO_F_VERSION_1) | (1ull << 3)));
    g_assert_false(drv_negotiate(h, (1ull << VIREO_VIRTIO_F_VERSION_1) | (1ull << 34)));
    /* A subset with VERSION_1 is accepted. */
    g_assert_true(drv_negotiate(h, 1ull << VIREO_VIRTIO_F_VERSION_1));
    g_assert_true(drv_negotiate(h, T_ALL_TRANSPORT));
    /* Once FEATURES_OK is set the features stay. */
    reg_write(h, VIREO_VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    reg_write(h, VIREO_VIRTIO_MMIO_DRIVER_FEATURES, 0);
    vireo_virtio_lock(h->dev);
    g_assert_cmphex(vireo_virtio_get_features_locked(h->dev), ==, T_ALL_TRANSPORT);
    vireo_virtio_unlock(h->dev);
    /* The driver cannot clear status bits, nor set DEVICE_NEEDS_RESET. */
    reg_write(h, VIREO_VIRTIO_MMIO_STATUS, VIREO_VIRTIO_STATUS_ACKNOWLEDGE);
    g_assert_cmphex(status(h), ==,
                    VIREO_VIRTIO_STATUS_ACKNOWLEDGE | VIREO_VIRTIO_STATUS_DRIVER |
                        VIREO_VIRTIO_STATUS_FEATURES_OK);
    reg_write(h, VIREO_VIRTIO_MMIO_STATUS, status(h) | VIREO_VIRTIO_STATUS_NEEDS_RESET);
    g_assert_false(status(h) & VIREO_VIRTIO_STATUS_NEEDS_RESET);
    /* Writing 0 resets everything. */
    reg_write(h, VIREO_VIRTIO_MMIO_STATUS, 0);
    g_assert_cmpuint(status(h), ==, 0);
    vireo_virtio_lock(h->dev);
    g_assert_cmphex(vireo_virtio_get_features_locked(h->dev), ==, 0);
    vireo_virtio_unlock(h->dev);
}

/* Nothing is served before DRIVER_OK; buffers made available before it are
 * served once it is set. */
static void test_driver_ok(RngFixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    TestBuf b = { T_DATA, 8, true };

    g_assert_true(drv_negotiate(h, T_ALL_TRANSPORT));
    drv_setup_queue(h, &f->q, 0, 8);
    drv_add(h, &f->q, &b, 1);
    drv_kick(h, &f->q);
    g_assert_cmpuint(used_idx(h, &f->q), ==, 0);
    g_assert_cmpuint(isr(h), ==, 0);
    drv_driver_ok(h);
    g_assert_cmpuint(used_idx(h, &f->q), ==, 1);
    g_assert_cmpuint(isr(h), ==, VIREO_VIRTIO_ISR_QUEUE);
    g_assert_true(irq_probe_level(&h->irq));
    ack(h);
    g_assert_false(irq_probe_level(&h->irq));
}

/* ---- Queue setup ------------------------------------------------------- */

static void test_queue_setup_errors(RngFixture *f, gconstpointer data)
{
    static const struct {
        uint16_t num;
        uint64_t desc, avail, used;
        const char *reason;
    } cases[] = {
        { 0, T_DESC, T_AVAIL, T_USED, "queue size is not a power of two up to QueueNumMax" },
        { 3, T_DESC, T_AVAIL, T_USED, "queue size is not a power of two up to QueueNumMax" },
        { 128, T_DESC, T_AVAIL, T_USED, "queue size is not a power of two up to QueueNumMax" },
        { 8, T_DESC + 8, T_AVAIL, T_USED, "queue area not aligned" },
        { 8, T_DESC, T_AVAIL + 1, T_USED, "queue area not aligned" },
        { 8, T_DESC, T_AVAIL, T_USED + 2, "queue area not aligned" },
        { 8, 0x1000, T_AVAIL, T_USED, "queue area outside guest RAM" },
        { 8, T_DESC, 0x40000000, T_USED, "queue area outside guest RAM" },
        /* The used ring would run past the end of RAM. */
        { 8, T_DESC, T_AVAIL, T_RAM_BASE + T_RAM_SIZE - 16, "queue area outside guest RAM" },
        { 8, T_DESC, T_AVAIL, 0xfffffffffffffff0ull, "queue area outside guest RAM" },
    };
    Harness *h = &f->h;

    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_assert_true(drv_negotiate(h, T_ALL_TRANSPORT));
        g_assert_false(drv_setup_queue_at(h, &f->q, 0, cases[i].num, cases[i].desc, cases[i].avail,
                                          cases[i].used));
        g_assert_true(status(h) & VIREO_VIRTIO_STATUS_NEEDS_RESET);
        g_assert_cmpstr(vireo_virtio_get_error(h->dev), ==, cases[i].reason);
        /* Before DRIVER_OK there is no interrupt. */
        g_assert_cmpuint(isr(h), ==, 0);
    }
    /* A reset clears the error; a good setup works. */
    reg_write(h, VIREO_VIRTIO_MMIO_STATUS, 0);
    rng_start(f, T_ALL_TRANSPORT);
    g_assert_true(rng_request(f, 4));
    /* A ready queue ignores new settings until it is disabled. */
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_SEL, 0);
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_NUM, 3);
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
    g_assert_cmphex(reg_read(h, VIREO_VIRTIO_MMIO_QUEUE_DESC_LOW), ==, (uint32_t)T_DESC);
    g_assert_true(rng_request(f, 4));
    /* Disabling and re-enabling starts the ring from the beginning. */
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_READY, 0);
    g_assert_cmpuint(reg_read(h, VIREO_VIRTIO_MMIO_QUEUE_READY), ==, 0);
    g_assert_true(drv_setup_queue_at(h, &f->q, 0, 8, T_DESC, T_AVAIL, T_USED));
    g_assert_true(rng_request(f, 4));
    /* Notifications of queues that do not exist are ignored. */
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_NOTIFY, 5);
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_NOTIFY, 0xffffffff);
    g_assert_false(status(h) & VIREO_VIRTIO_STATUS_NEEDS_RESET);
}

/* ---- Requests and malformed chains ------------------------------------- */

static void test_rng_request(RngFixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    TestBuf bufs[2] = { { T_DATA, 5, true }, { T_DATA + 0x100, 3, true } };
    uint32_t id, len;
    uint16_t head;

    rng_start(f, T_ALL_TRANSPORT);
    memset(gpa(h, T_DATA), 0, 0x200);
    head = drv_add(h, &f->q, bufs, 2);
    drv_kick(h, &f->q);
    g_assert_cmpuint(used_idx(h, &f->q), ==, 1);
    used_elem(h, &f->q, 0, &id, &len);
    g_assert_cmpuint(id, ==, head);
    g_assert_cmpuint(len, ==, 8);
    /* The bytes went into both buffers in order. */
    g_assert_cmpmem(gpa(h, T_DATA), 5, ((guint8[]){ 1, 2, 3, 4, 5 }), 5);
    g_assert_cmpmem(gpa(h, T_DATA + 0x100), 3, ((guint8[]){ 6, 7, 8 }), 3);
    g_assert_cmpuint(gpa(h, T_DATA)[5], ==, 0);
}

/* Indirect descriptors: a table of two buffers. */
static void test_indirect(RngFixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    uint32_t id, len;

    rng_start(f, T_ALL_TRANSPORT);
    drv_put_desc(h, T_INDIRECT, 0, T_DATA, 4, VIREO_VIRTQ_DESC_F_WRITE | VIREO_VIRTQ_DESC_F_NEXT,
                 1);
    drv_put_desc(h, T_INDIRECT, 1, T_DATA + 0x40, 4, VIREO_VIRTQ_DESC_F_WRITE, 0);
    drv_put_desc(h, f->q.desc, 0, T_INDIRECT, 32, VIREO_VIRTQ_DESC_F_INDIRECT, 0);
    drv_publish(h, &f->q, 0);
    drv_kick(h, &f->q);
    g_assert_cmpuint(used_idx(h, &f->q), ==, 1);
    used_elem(h, &f->q, 0, &id, &len);
    g_assert_cmpuint(id, ==, 0);
    g_assert_cmpuint(len, ==, 8);
    g_assert_cmpmem(gpa(h, T_DATA + 0x40), 4, ((guint8[]){ 5, 6, 7, 8 }), 4);
}

typedef enum {
    BAD_BUFFER_OUTSIDE_RAM,
    BAD_BUFFER_PAST_RAM_END,
    BAD_BUFFER_WRAPS,
    BAD_ZERO_LENGTH,
    BAD_LOOP,
    BAD_LONG_CHAIN,
    BAD_NEXT_INDEX,
    BAD_HEAD_INDEX,
    BAD_ORDER,
    BAD_INDIRECT_OUTSIDE_RAM,
    BAD_INDIRECT_NESTED,
    BAD_INDIRECT_LENGTH,
    BAD_INDIRECT_IN_CHAIN,
    BAD_INDIRECT_LOOP,
    BAD_INDIRECT_NOT_NEGOTIATED,
    BAD_AVAIL_JUMP,
    N_BAD,
} BadChain;

static const char *const bad_reasons[N_BAD] = {
    [BAD_BUFFER_OUTSIDE_RAM] = "buffer outside guest RAM",
    [BAD_BUFFER_PAST_RAM_END] = "buffer outside guest RAM",
    [BAD_BUFFER_WRAPS] = "buffer outside guest RAM",
    [BAD_ZERO_LENGTH] = "zero-length buffer",
    [BAD_LOOP] = "descriptor chain longer than the queue",
    [BAD_LONG_CHAIN] = "descriptor chain longer than the queue",
    [BAD_NEXT_INDEX] = "descriptor index out of range",
    [BAD_HEAD_INDEX] = "descriptor index out of range",
    [BAD_ORDER] = "device-readable buffer after a device-writable one",
    [BAD_INDIRECT_OUTSIDE_RAM] = "indirect table outside guest RAM",
    [BAD_INDIRECT_NESTED] = "nested indirect table",
    [BAD_INDIRECT_LENGTH] = "bad indirect table length",
    [BAD_INDIRECT_IN_CHAIN] = "indirect descriptor inside a chain",
    [BAD_INDIRECT_LOOP] = "indirect chain longer than its table",
    [BAD_INDIRECT_NOT_NEGOTIATED] = "indirect descriptor without VIRTIO_F_INDIRECT_DESC",
    [BAD_AVAIL_JUMP] = "available index too far ahead",
};

static void test_malformed(RngFixture *f, gconstpointer data)
{
    BadChain kind = GPOINTER_TO_UINT(data);
    Harness *h = &f->h;
    uint64_t table;
    const uint16_t W = VIREO_VIRTQ_DESC_F_WRITE, N = VIREO_VIRTQ_DESC_F_NEXT,
                   I = VIREO_VIRTQ_DESC_F_INDIRECT;

    rng_start(f, kind == BAD_INDIRECT_NOT_NEGOTIATED ? (1ull << VIREO_VIRTIO_F_VERSION_1)
                                                     : T_ALL_TRANSPORT);
    table = f->q.desc;
    memset(gpa(h, T_DATA), 0x5a, 64);
    switch (kind) {
    case BAD_BUFFER_OUTSIDE_RAM: drv_put_desc(h, table, 0, 0x1000, 16, W, 0); break;
    case BAD_BUFFER_PAST_RAM_END:
        drv_put_desc(h, table, 0, T_RAM_BASE + T_RAM_SIZE - 8, 16, W, 0);
        break;
    case BAD_BUFFER_WRAPS: drv_put_desc(h, table, 0, 0xfffffffffffffff8ull, 16, W, 0); break;
    case BAD_ZERO_LENGTH:
        drv_put_desc(h, table, 0, T_DATA, 8, W | N, 1);
        drv_put_desc(h, table, 1, T_DATA + 8, 0, W, 0);
        break;
    case BAD_LOOP:
        drv_put_desc(h, table, 0, T_DATA, 8, W | N, 1);
        drv_put_desc(h, table, 1, T_DATA + 8, 8, W | N, 0);
        break;
    case BAD_LONG_CHAIN:
        /* Every descriptor of the queue, and then round again. */
        for (unsigned i = 0; i < f->q.num; i++) {
            drv_put_desc(h, table, i, T_DATA + 8 * i, 8, W | N, (uint16_t)((i + 1) % f->q.num));
        }
        break;
    case BAD_NEXT_INDEX: drv_put_desc(h, table, 0, T_DATA, 8, W | N, 200); break;
    case BAD_HEAD_INDEX: break;
    case BAD_ORDER:
        drv_put_desc(h, table, 0, T_DATA, 8, W | N, 1);
        drv_put_desc(h, table, 1, T_DATA + 8, 8, 0, 0);
        break;
    case BAD_INDIRECT_OUTSIDE_RAM: drv_put_desc(h, table, 0, 0x2000, 32, I, 0); break;
    case BAD_INDIRECT_NESTED:
        drv_put_desc(h, T_INDIRECT, 0, T_INDIRECT + 0x100, 16, I, 0);
        drv_put_desc(h, table, 0, T_INDIRECT, 16, I, 0);
        break;
    case BAD_INDIRECT_LENGTH:
        drv_put_desc(h, T_INDIRECT, 0, T_DATA, 8, W, 0);
        drv_put_desc(h, table, 0, T_INDIRECT, 20, I, 0);
        break;
    case BAD_INDIRECT_IN_CHAIN:
        drv_put_desc(h, T_INDIRECT, 0, T_DATA, 8, W, 0);
        drv_put_desc(h, table, 0, T_DATA + 8, 8, W | N, 1);
        drv_put_desc(h, table, 1, T_INDIRECT, 16, I, 0);
        break;
    case BAD_INDIRECT_LOOP:
        drv_put_desc(h, T_INDIRECT, 0, T_DATA, 8, W | N, 1);
        drv_put_desc(h, T_INDIRECT, 1, T_DATA + 8, 8, W | N, 0);
        drv_put_desc(h, table, 0, T_INDIRECT, 32, I, 0);
        break;
    case BAD_INDIRECT_NOT_NEGOTIATED:
        drv_put_desc(h, T_INDIRECT, 0, T_DATA, 8, W, 0);
        drv_put_desc(h, table, 0, T_INDIRECT, 16, I, 0);
        break;
    case BAD_AVAIL_JUMP: break;
    case N_BAD: g_assert_not_reached();
    }
    if (kind == BAD_AVAIL_JUMP) {
        drv_put_desc(h, table, 0, T_DATA, 8, W, 0);
        put16(gpa(h, f->q.avail + 4), 0);
        put16(gpa(h, f->q.avail + 2), (uint16_t)(f->q.num + 1));
    } else {
        drv_publish(h, &f->q, kind == BAD_HEAD_INDEX ? 9 : 0);
    }
    drv_kick(h, &f->q);
    assert_needs_reset(h, bad_reasons[kind]);
    /* Nothing was returned or written, and nothing more is served. */
    g_assert_cmpuint(used_idx(h, &f->q), ==, 0);
    g_assert_cmpuint(gpa(h, T_DATA)[0], ==, 0x5a);
    drv_kick(h, &f->q);
    g_assert_cmpuint(used_idx(h, &f->q), ==, 0);
    assert_recovers(f);
}

/* ---- Notification suppression ------------------------------------------ */

static void test_no_interrupt_flag(RngFixture *f, gconstpointer data)
{
    Harness *h = &f->h;

    rng_start(f, 1ull << VIREO_VIRTIO_F_VERSION_1);
    put16(gpa(h, f->q.avail), VIREO_VIRTQ_AVAIL_F_NO_INTERRUPT);
    g_assert_true(rng_request(f, 4));
    g_assert_cmpuint(isr(h), ==, 0);
    g_assert_false(irq_probe_level(&h->irq));
    put16(gpa(h, f->q.avail), 0);
    g_assert_true(rng_request(f, 4));
    g_assert_cmpuint(isr(h), ==, VIREO_VIRTIO_ISR_QUEUE);
}

static void test_event_idx(RngFixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    guint8 *used_event, *avail_event;

    rng_start(f, T_ALL_TRANSPORT);
    used_event = gpa(h, f->q.avail + 4 + 2 * 8);
    avail_event = gpa(h, f->q.used + 4 + 8 * 8);
    /* The driver wants an interrupt once the used index passes 3: after the
     * fourth buffer. The flag is ignored with EVENT_IDX. */
    put16(used_event, 3);
    put16(gpa(h, f->q.avail), VIREO_VIRTQ_AVAIL_F_NO_INTERRUPT);
    for (unsigned i = 1; i <= 6; i++) {
        g_assert_true(rng_request(f, 4));
        /* The device asks to be told about the next buffer. */
        g_assert_cmpuint(get16(avail_event), ==, i);
        if (i == 1 || i == 4) {
            /* The first completion always interrupts (nothing signalled
             * before); then only the one that passes used_event. */
            g_assert_cmpuint(isr(h), ==, VIREO_VIRTIO_ISR_QUEUE);
            ack(h);
        } else {
            g_assert_cmpuint(isr(h), ==, 0);
        }
    }
    /* Several completions in one go interrupt once if they pass it. */
    put16(used_event, 7);
    for (unsigned i = 0; i < 3; i++) {
        TestBuf b = { T_DATA, 4, true };
        drv_add(h, &f->q, &b, 1);
    }
    drv_kick(h, &f->q);
    g_assert_cmpuint(used_idx(h, &f->q), ==, 9);
    g_assert_cmpuint(isr(h), ==, VIREO_VIRTIO_ISR_QUEUE);
    g_assert_cmpuint(get16(avail_event), ==, 9);
}

/* ---- The console ---------------------------------------------------------- */

typedef struct {
    Harness h;
    VireoRing *out;
    TestQueue q[2];
} ConsoleFixture;

static void console_setup(ConsoleFixture *f, gconstpointer data)
{
    harness_init(&f->h);
    f->out = vireo_ring_new(GPOINTER_TO_SIZE(data) != 0 ? GPOINTER_TO_SIZE(data) : 4096);
    harness_attach(&f->h, vireo_virtio_console_new(f->h.bus, f->out));
}

static void console_teardown(ConsoleFixture *f, gconstpointer data)
{
    harness_clear(&f->h);
    vireo_ring_free(f->out);
}

static void test_console_output(ConsoleFixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    TestQueue *tx = &f->q[VIREO_VIRTIO_CONSOLE_TX];
    TestBuf bufs[2] = { { T_DATA, 6, false }, { T_DATA + 0x100, 6, false } };
    guint8 got[64];
    uint32_t id, len;

    g_assert_cmpuint(reg_read(h, VIREO_VIRTIO_MMIO_DEVICE_ID), ==, VIREO_VIRTIO_ID_CONSOLE);
    g_assert_true(device_features(h) & (1ull << VIREO_VIRTIO_CONSOLE_F_EMERG_WRITE));
    drv_start(h, T_ALL_TRANSPORT | (1ull << VIREO_VIRTIO_CONSOLE_F_EMERG_WRITE), f->q, 2, 8);
    memcpy(gpa(h, T_DATA), "Hello ", 6);
    memcpy(gpa(h, T_DATA + 0x100), "world\n", 6);
    drv_add(h, tx, bufs, 2);
    drv_kick(h, tx);
    /* Served on the notifying thread while the ring has room. */
    g_assert_cmpuint(used_idx(h, tx), ==, 1);
    used_elem(h, tx, 0, &id, &len);
    g_assert_cmpuint(len, ==, 0);
    g_assert_cmpuint(vireo_ring_read(f->out, got, sizeof got), ==, 12);
    g_assert_cmpmem(got, 12, "Hello world\n", 12);
    /* An emergency write puts one byte out, at any time. */
    g_assert_true(vireo_bus_write(h->bus, T_MMIO + VIREO_VIRTIO_MMIO_CONFIG + 8, 4, '!'));
    g_assert_cmpuint(vireo_ring_read(f->out, got, sizeof got), ==, 1);
    g_assert_cmpuint(got[0], ==, '!');
}

/* Output larger than the ring waits for the reader, on the device's
 * thread. */
static void test_console_output_full(ConsoleFixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    TestQueue *tx = &f->q[VIREO_VIRTIO_CONSOLE_TX];
    TestBuf b = { T_DATA, 100, false };
    guint8 got[128];
    gsize n = 0;
    gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

    drv_start(h, T_ALL_TRANSPORT, f->q, 2, 8);
    for (unsigned i = 0; i < 100; i++) {
        gpa(h, T_DATA)[i] = (guint8)i;
    }
    drv_add(h, tx, &b, 1);
    drv_kick(h, tx);
    g_assert_cmpuint(used_idx(h, tx), ==, 0); /* the ring holds 16 bytes */
    while (n < 100 && g_get_monotonic_time() < end) {
        n += vireo_ring_read(f->out, got + n, sizeof got - n);
        g_usleep(100);
    }
    g_assert_cmpuint(n, ==, 100);
    for (unsigned i = 0; i < 100; i++) {
        g_assert_cmpuint(got[i], ==, i);
    }
    g_assert_true(drv_wait_used(h, tx, 1));
    /* A reset while output waits drops it. */
    drv_add(h, tx, &b, 1);
    drv_kick(h, tx);
    reg_write(h, VIREO_VIRTIO_MMIO_STATUS, 0);
    g_usleep(5000);
    n = vireo_ring_read(f->out, got, sizeof got);
    g_assert_cmpuint(n, <=, 16);
    g_usleep(5000);
    g_assert_cmpuint(vireo_ring_read(f->out, got, sizeof got), ==, 0);
}

static void test_console_input(ConsoleFixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    TestQueue *rx = &f->q[VIREO_VIRTIO_CONSOLE_RX];
    TestBuf bufs[2] = { { T_DATA, 4, true }, { T_DATA + 0x100, 4, true } };
    uint32_t id, len;

    /* Nothing is taken before the driver is ready. */
    g_assert_cmpuint(vireo_virtio_console_receive(h->dev, (const guint8 *)"x", 1), ==, 0);
    drv_start(h, T_ALL_TRANSPORT, f->q, 2, 8);
    g_assert_cmpuint(vireo_virtio_console_receive(h->dev, (const guint8 *)"x", 1), ==, 0);
    memset(gpa(h, T_DATA), 0, 0x200);
    drv_add(h, rx, &bufs[0], 1);
    drv_add(h, rx, &bufs[1], 1);
    /* Six bytes: four fill the first buffer, two go into the second. */
    g_assert_cmpuint(vireo_virtio_console_receive(h->dev, (const guint8 *)"abcdef", 6), ==, 6);
    g_assert_cmpuint(used_idx(h, rx), ==, 2);
    used_elem(h, rx, 0, &id, &len);
    g_assert_cmpuint(len, ==, 4);
    used_elem(h, rx, 1, &id, &len);
    g_assert_cmpuint(len, ==, 2);
    g_assert_cmpmem(gpa(h, T_DATA), 4, "abcd", 4);
    g_assert_cmpmem(gpa(h, T_DATA + 0x100), 3, "ef\0", 3);
    g_assert_cmpuint(isr(h), ==, VIREO_VIRTIO_ISR_QUEUE);
    /* No buffers left: nothing taken. */
    g_assert_cmpuint(vireo_virtio_console_receive(h->dev, (const guint8 *)"g", 1), ==, 0);
}

/* receive() on a device that is not a console takes nothing. */
static void test_console_receive_other(void)
{
    Harness h;
    guint8 counter = 0;

    harness_init(&h);
    harness_attach(&h, vireo_virtio_rng_new(h.bus, counting_source, &counter));
    g_assert_cmpuint(vireo_virtio_console_receive(h.dev, (const guint8 *)"x", 1), ==, 0);
    harness_clear(&h);
}

/* The real entropy source. */
static void test_rng_getrandom(void)
{
    Harness h;
    TestQueue q;
    TestBuf b[2] = { { T_DATA, 64, true }, { T_DATA + 64, 64, true } };
    static const guint8 zero[64];

    harness_init(&h);
    harness_attach(&h, vireo_virtio_rng_new(h.bus, NULL, NULL));
    drv_start(&h, T_ALL_TRANSPORT, &q, 1, 8);
    memset(gpa(&h, T_DATA), 0, 128);
    drv_add(&h, &q, &b[0], 1);
    drv_add(&h, &q, &b[1], 1);
    drv_kick(&h, &q);
    g_assert_cmpuint(used_idx(&h, &q), ==, 2);
    g_assert_true(memcmp(gpa(&h, T_DATA), zero, 64) != 0);
    g_assert_true(memcmp(gpa(&h, T_DATA + 64), zero, 64) != 0);
    g_assert_true(memcmp(gpa(&h, T_DATA), gpa(&h, T_DATA + 64), 64) != 0);
    harness_clear(&h);
}

int main(int argc, char *argv[])
{
    static const char *const bad_names[N_BAD] = {
        [BAD_BUFFER_OUTSIDE_RAM] = "buffer-outside-ram",
        [BAD_BUFFER_PAST_RAM_END] = "buffer-past-ram-end",
        [BAD_BUFFER_WRAPS] = "buffer-wraps",
        [BAD_ZERO_LENGTH] = "zero-length",
        [BAD_LOOP] = "loop",
        [BAD_LONG_CHAIN] = "chain-longer-than-queue",
        [BAD_NEXT_INDEX] = "next-index",
        [BAD_HEAD_INDEX] = "head-index",
        [BAD_ORDER] = "readable-after-writable",
        [BAD_INDIRECT_OUTSIDE_RAM] = "indirect-outside-ram",
        [BAD_INDIRECT_NESTED] = "indirect-nested",
        [BAD_INDIRECT_LENGTH] = "indirect-length",
        [BAD_INDIRECT_IN_CHAIN] = "indirect-in-chain",
        [BAD_INDIRECT_LOOP] = "indirect-loop",
        [BAD_INDIRECT_NOT_NEGOTIATED] = "indirect-not-negotiated",
        [BAD_AVAIL_JUMP] = "avail-idx-jump",
    };

    g_test_init(&argc, &argv, NULL);
#define RNG_TEST(path, func) \
    g_test_add("/virtio/" path, RngFixture, NULL, rng_setup, func, rng_teardown)
    RNG_TEST("mmio/registers", test_registers);
    RNG_TEST("mmio/features", test_features);
    RNG_TEST("mmio/driver-ok", test_driver_ok);
    RNG_TEST("queue/setup-errors", test_queue_setup_errors);
    RNG_TEST("queue/indirect", test_indirect);
    RNG_TEST("queue/no-interrupt-flag", test_no_interrupt_flag);
    RNG_TEST("queue/event-idx", test_event_idx);
    RNG_TEST("rng/request", test_rng_request);
    for (unsigned i = 0; i < N_BAD; i++) {
        g_autofree char *path = g_strdup_printf("/virtio/malformed/%s", bad_names[i]);
        g_test_add(path, RngFixture, GUINT_TO_POINTER(i), rng_setup, test_malformed, rng_teardown);
    }
    g_test_add_func("/virtio/rng/getrandom", test_rng_getrandom);
    g_test_add("/virtio/console/output", ConsoleFixture, NULL, console_setup, test_console_output,
               console_teardown);
    g_test_add("/virtio/console/output-full", ConsoleFixture, GSIZE_TO_POINTER(16), console_setup,
               test_console_output_full, console_teardown);
    g_test_add("/virtio/console/input", ConsoleFixture, NULL, console_setup, test_console_input,
               console_teardown);
    g_test_add_func("/virtio/console/receive-other", test_console_receive_other);
    return g_test_run();
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The virtio-mmio transport and the split virtqueues, driven through the bus
 * as a guest driver would; the entropy and console devices. Queue checks are
 * exercised on the entropy device, which serves its queue synchronously.
 */
#include "devices/virtio-console.h"
#include "devices/virtio-rng.h"
#include "snap-driver.h"

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

/* ---- Pausing and snapshots -------------------------------------------------- */

/* A second entropy device on a bus of its own, for loading into. */
typedef struct {
    Harness h;
    guint8 counter;
} Twin;

static void twin_init(Twin *t, guint8 seed)
{
    harness_init(&t->h);
    t->counter = seed;
    harness_attach(&t->h, vireo_virtio_rng_new(t->h.bus, counting_source, &t->counter));
}

/* The driver asks to be interrupted for the next used entry (with
 * VIRTIO_F_EVENT_IDX), as Linux does once it has seen the ring. */
static void want_interrupt(Harness *h, TestQueue *q)
{
    put16(gpa(h, q->avail + 4 + 2u * q->num), used_idx(h, q));
}

/* Makes one writable buffer of `len` bytes at `addr` available and kicks. */
static void request_at(Harness *h, TestQueue *q, uint64_t addr, uint32_t len)
{
    TestBuf b = { addr, len, true };

    want_interrupt(h, q);
    drv_add(h, q, &b, 1);
    drv_kick(h, q);
}

static uint32_t queue_reg(Harness *h, unsigned q, unsigned reg)
{
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_SEL, q);
    return reg_read(h, reg);
}

/* A device with requests done, one notified while paused, the interrupt
 * pending and the selectors moved, saved and loaded into a fresh device on
 * a copy of RAM: the registers read the same, the line is high, and the
 * waiting request is served when the new device resumes, then new ones;
 * the first device serves it too when it resumes. */
static void test_snapshot_round_trip(RngFixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) section = NULL;
    TestQueue q2;
    Twin t;
    uint32_t id, len;

    rng_start(f, T_ALL_TRANSPORT);
    g_assert_true(rng_request(f, 16));
    g_assert_true(rng_request(f, 16));
    g_assert_cmpuint(isr(h), ==, VIREO_VIRTIO_ISR_QUEUE);
    reg_write(h, VIREO_VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_SEL, 5);

    snap_pause(h);
    /* Paused: a notified request waits. */
    memset(gpa(h, T_DATA + 0x100), 0, 8);
    request_at(h, &f->q, T_DATA + 0x100, 8);
    g_usleep(2000);
    g_assert_cmpuint(used_idx(h, &f->q), ==, 2);
    section = snap_save(h);

    twin_init(&t, 100);
    snap_copy_ram(&t.h, h);
    snap_pause(&t.h);
    g_assert_false(irq_probe_level(&t.h.irq));
    g_assert_true(snap_load(&t.h, section, &error));
    g_assert_no_error(error);
    /* The interrupt line follows the loaded interrupt status. */
    g_assert_true(irq_probe_level(&t.h.irq));
    g_assert_cmpuint(isr(&t.h), ==, VIREO_VIRTIO_ISR_QUEUE);
    g_assert_cmpuint(status(&t.h), ==, status(h));
    g_assert_cmphex(reg_read(&t.h, VIREO_VIRTIO_MMIO_DEVICE_FEATURES), ==, 1); /* word 1 */
    g_assert_cmpuint(reg_read(&t.h, VIREO_VIRTIO_MMIO_CONFIG_GENERATION), ==,
                     reg_read(h, VIREO_VIRTIO_MMIO_CONFIG_GENERATION));
    g_assert_cmpuint(reg_read(&t.h, VIREO_VIRTIO_MMIO_QUEUE_NUM_MAX), ==, 0); /* queue 5 */
    g_assert_cmpuint(queue_reg(&t.h, 0, VIREO_VIRTIO_MMIO_QUEUE_READY), ==, 1);
    g_assert_cmphex(queue_reg(&t.h, 0, VIREO_VIRTIO_MMIO_QUEUE_DESC_LOW), ==, (uint32_t)T_DESC);
    g_assert_cmphex(queue_reg(&t.h, 0, VIREO_VIRTIO_MMIO_QUEUE_DRIVER_LOW), ==, (uint32_t)T_AVAIL);
    g_assert_cmphex(queue_reg(&t.h, 0, VIREO_VIRTIO_MMIO_QUEUE_DEVICE_HIGH), ==,
                    (uint32_t)(T_USED >> 32));
    vireo_virtio_lock(t.h.dev);
    g_assert_cmphex(vireo_virtio_get_features_locked(t.h.dev), ==, T_ALL_TRANSPORT);
    vireo_virtio_unlock(t.h.dev);
    /* Nothing is served before the device resumes. */
    g_usleep(2000);
    g_assert_cmpuint(used_idx(&t.h, &f->q), ==, 2);

    ack(&t.h);
    g_assert_false(irq_probe_level(&t.h.irq));
    snap_resume(&t.h);
    g_assert_cmpuint(used_idx(&t.h, &f->q), ==, 3);
    used_elem(&t.h, &f->q, 2, &id, &len);
    g_assert_cmpuint(len, ==, 8);
    g_assert_cmpuint(gpa(&t.h, T_DATA + 0x100)[0], ==, 100);
    g_assert_true(irq_probe_level(&t.h.irq));
    /* New requests: the used index goes on, each interrupts. */
    q2 = f->q;
    for (unsigned i = 0; i < 10; i++) {
        ack(&t.h);
        request_at(&t.h, &q2, T_DATA + 0x200, 4);
        g_assert_cmpuint(used_idx(&t.h, &q2), ==, 4 + i);
        g_assert_cmpuint(isr(&t.h), ==, VIREO_VIRTIO_ISR_QUEUE);
    }

    /* The first device serves the request when it resumes. */
    snap_resume(h);
    g_assert_cmpuint(used_idx(h, &f->q), ==, 3);
    g_assert_cmpuint(gpa(h, T_DATA + 0x100)[0], ==, 33); /* after 2 x 16 bytes from 1 */
    harness_clear(&t.h);
}

/* Saving and loading need a paused device; pausing twice and resuming a
 * running device do nothing. */
static void test_snapshot_not_paused(RngFixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) section = NULL;

    rng_start(f, T_ALL_TRANSPORT);
    g_assert_null(snap_try_save(h, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE);
    g_assert_nonnull(strstr(error->message, "paused"));
    g_clear_error(&error);
    snap_pause(h);
    snap_pause(h);
    section = snap_save(h);
    snap_resume(h);
    snap_resume(h);
    g_assert_false(snap_load(h, section, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_DEVICE);
    g_assert_true(rng_request(f, 4));
}

/* A reset while paused (the board's, or the driver's) leaves the device
 * paused: a driver that starts again meanwhile is served on resume. */
static void test_snapshot_reset_while_paused(RngFixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    TestBuf b = { T_DATA, 4, true };

    rng_start(f, T_ALL_TRANSPORT);
    g_assert_true(rng_request(f, 4));
    snap_pause(h);
    vireo_bus_reset(h->bus);
    g_assert_cmpuint(status(h), ==, 0);
    rng_start(f, T_ALL_TRANSPORT);
    drv_add(h, &f->q, &b, 1);
    drv_kick(h, &f->q);
    g_assert_cmpuint(used_idx(h, &f->q), ==, 0);
    snap_resume(h);
    g_assert_cmpuint(used_idx(h, &f->q), ==, 1);
}

/* A device that needs a reset keeps its state and its reason through a
 * save and a load. */
static void test_snapshot_needs_reset(RngFixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) section = NULL;
    Twin t;

    rng_start(f, T_ALL_TRANSPORT);
    drv_publish(h, &f->q, 200); /* a head beyond the table */
    drv_kick(h, &f->q);
    assert_needs_reset(h, "descriptor index out of range");
    snap_pause(h);
    section = snap_save(h);
    twin_init(&t, 1);
    snap_copy_ram(&t.h, h);
    snap_pause(&t.h);
    g_assert_true(snap_load(&t.h, section, &error));
    snap_resume(&t.h);
    assert_needs_reset(&t.h, "descriptor index out of range");
    /* A reason without DEVICE_NEEDS_RESET does not go together. */
    {
        g_autoptr(GBytes) bad = snap_patch_u8(
            section, SNAP_OFF_STATUS, status(h) & (uint8_t)~VIREO_VIRTIO_STATUS_NEEDS_RESET);

        g_assert_cmpuint(((const guint8 *)g_bytes_get_data(section, NULL))[SNAP_OFF_ERROR], ==,
                         1); /* the reason is there */
        snap_pause(&t.h);
        snap_assert_refused(&t.h, bad, "do not agree");
    }
    harness_clear(&t.h);
}

/* Every kind of bad value in a section is refused with a message that says
 * which, and leaves the device as it was; the device then takes the good
 * section and works. */
static void test_snapshot_hostile(RngFixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    const gsize q0 = SNAP_OFF_QUEUE(0);
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) good = NULL;
    TestQueue q2;
    Twin t;
    uint8_t st;
    gsize len;
    const struct {
        gsize offset;
        unsigned size;
        uint64_t value;
        const char *what;
    } cases[] = {
        { SNAP_OFF_MMIO_VERSION, 4, 2, "transport's layout version" },
        { SNAP_OFF_CORE_VERSION, 4, 7, "virtio device's layout version" },
        { SNAP_OFF_DEVICE_ID, 4, VIREO_VIRTIO_ID_BLOCK, "of type 2" },
        { SNAP_OFF_DEV_FEATURES, 8, 1ull << VIREO_VIRTIO_F_VERSION_1, "offered the features" },
        { SNAP_OFF_DRV_FEATURES, 8, T_ALL_TRANSPORT | 1, "never offered" },
        { SNAP_OFF_DRV_FEATURES, 8, 1ull << VIREO_VIRTIO_F_EVENT_IDX, "never offered" },
        { SNAP_OFF_STATUS, 1, 0x2f, "unknown bits" },
        { SNAP_OFF_STATUS, 1, 0x4f, "do not agree" },
        { SNAP_OFF_ISR, 4, 4, "interrupt status" },
        { SNAP_OFF_ERROR, 1, 2, "a flag has the value 2" },
        { SNAP_OFF_N_QUEUES, 4, 2, "2 queues" },
        { q0 + SNAP_Q_MAX, 2, 128, "entries at most" },
        { q0 + SNAP_Q_NUM, 2, 3, "power of two" },
        { q0 + SNAP_Q_NUM, 2, 0, "power of two" },
        { q0 + SNAP_Q_NUM, 2, 128, "power of two" },
        { q0 + SNAP_Q_READY, 1, 3, "a flag has the value 3" },
        { q0 + SNAP_Q_DESC, 8, T_DESC + 8, "not aligned" },
        { q0 + SNAP_Q_AVAIL, 8, T_AVAIL + 1, "not aligned" },
        { q0 + SNAP_Q_DESC, 8, 0x1000, "outside guest RAM" },
        { q0 + SNAP_Q_DESC, 8, T_RAM_BASE + T_RAM_SIZE - 64, "outside guest RAM" },
        { q0 + SNAP_Q_AVAIL, 8, T_RAM_BASE + T_RAM_SIZE - 8, "outside guest RAM" },
        { q0 + SNAP_Q_USED, 8, 0xfffffffffffffff0ull, "outside guest RAM" },
        { q0 + SNAP_Q_LAST_AVAIL, 2, 3 + 9, "chains in flight" }, /* used_idx 3 */
        { q0 + SNAP_Q_LAST_AVAIL, 2, 2, "chains in flight" },     /* behind used */
        { q0 + SNAP_Q_USED_IDX, 2, 0x8000, "chains in flight" },
        { q0 + SNAP_Q_VALID, 1, 7, "a flag has the value 7" },
        { SNAP_OFF_MODEL(1), 4, 9, "entropy device's layout version" },
    };

    rng_start(f, T_ALL_TRANSPORT);
    for (unsigned i = 0; i < 3; i++) {
        g_assert_true(rng_request(f, 4));
    }
    snap_pause(h);
    good = snap_save(h);
    g_bytes_get_data(good, &len);
    g_assert_cmpuint(len, ==, SNAP_OFF_MODEL(1) + 4);

    twin_init(&t, 1);
    snap_copy_ram(&t.h, h);
    snap_pause(&t.h);
    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GBytes) bad = NULL;

        switch (cases[i].size) {
        case 1: bad = snap_patch_u8(good, cases[i].offset, (uint8_t)cases[i].value); break;
        case 2: bad = snap_patch_u16(good, cases[i].offset, (uint16_t)cases[i].value); break;
        case 4: bad = snap_patch_u32(good, cases[i].offset, (uint32_t)cases[i].value); break;
        default: bad = snap_patch_u64(good, cases[i].offset, cases[i].value); break;
        }
        g_test_message("case %u: %s", i, cases[i].what);
        snap_assert_refused(&t.h, bad, cases[i].what);
    }
    /* A disabled queue has no ring positions. */
    {
        g_autoptr(GBytes) off = snap_patch_u8(good, q0 + SNAP_Q_READY, 0);
        snap_assert_refused(&t.h, off, "disabled queue");
    }
    /* A byte too many, a section of another layout version, and every
     * piece cut short. */
    {
        gsize n;
        const guint8 *p = g_bytes_get_data(good, &n);
        g_autofree guint8 *longer = g_malloc0(n + 1);
        g_autoptr(GBytes) more = NULL;
        VireoSnapSection v2 = { .name = "virtio-mmio", .instance = T_MMIO, .version = 2 };
        g_autoptr(VireoSnapReader) r = NULL;

        memcpy(longer, p, n);
        more = g_bytes_new(longer, n + 1);
        snap_assert_refused(&t.h, more, "left over");
        v2.data = p;
        v2.len = n;
        r = vireo_snap_reader_new(&v2);
        g_assert_false(vireo_virtio_mmio_ops()->load(t.h.mmio, r, &error));
        g_assert_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT);
        g_clear_error(&error);
    }
    snap_assert_truncations_refused(&t.h, good, 1);
    g_assert_cmpuint(status(&t.h), ==, 0);

    /* The good one is taken, and the device goes on from there. */
    st = status(h);
    g_assert_true(snap_load(&t.h, good, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(status(&t.h), ==, st);
    snap_resume(&t.h);
    q2 = f->q;
    request_at(&t.h, &q2, T_DATA, 4);
    g_assert_cmpuint(used_idx(&t.h, &q2), ==, 4);
    harness_clear(&t.h);
}

/* ---- The console's snapshots ---------------------------------------------- */

/* Output that waits for room in the ring when the device pauses stays put
 * until it resumes; saved and loaded into a console with a ring of its
 * own, the rest of it (and nothing twice) goes out there. Input is not
 * taken while paused. */
static void test_console_snapshot(ConsoleFixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    TestQueue *tx = &f->q[VIREO_VIRTIO_CONSOLE_TX];
    TestQueue *rx = &f->q[VIREO_VIRTIO_CONSOLE_RX];
    TestBuf b = { T_DATA, 100, false };
    TestBuf in = { T_DATA + 0x1000, 16, true };
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) section = NULL;
    VireoRing *out2 = vireo_ring_new(4096);
    ConsoleFixture g;
    guint8 got[128], got2[128];
    gsize n;

    drv_start(h, T_ALL_TRANSPORT, f->q, 2, 8);
    for (unsigned i = 0; i < 100; i++) {
        gpa(h, T_DATA)[i] = (guint8)i;
    }
    drv_add(h, tx, &b, 1);
    drv_kick(h, tx);
    g_assert_cmpuint(used_idx(h, tx), ==, 0); /* 16 bytes went into the ring */
    drv_add(h, rx, &in, 1);

    snap_pause(h);
    g_assert_cmpuint(vireo_ring_read(f->out, got, sizeof got), ==, 16);
    g_usleep(5000); /* the device's thread would have retried by now */
    g_assert_cmpuint(vireo_ring_read(f->out, got + 16, sizeof got - 16), ==, 0);
    g_assert_cmpuint(vireo_virtio_console_receive(h->dev, (const guint8 *)"abc", 3), ==, 0);
    section = snap_save(h);

    harness_init(&g.h);
    harness_attach(&g.h, vireo_virtio_console_new(g.h.bus, out2));
    snap_copy_ram(&g.h, h);
    snap_pause(&g.h);
    g_assert_true(snap_load(&g.h, section, &error));
    g_assert_no_error(error);
    snap_resume(&g.h);
    /* The rest of the chain, bytes 16 to 99, went out on resume. */
    n = vireo_ring_read(out2, got2, sizeof got2);
    g_assert_cmpuint(n, ==, 84);
    for (unsigned i = 0; i < 84; i++) {
        g_assert_cmpuint(got2[i], ==, 16 + i);
    }
    g_assert_cmpuint(used_idx(&g.h, tx), ==, 1);
    /* Input goes into the receive buffer that waited in the ring. */
    g_assert_cmpuint(vireo_virtio_console_receive(g.h.dev, (const guint8 *)"abc", 3), ==, 3);
    g_assert_cmpuint(used_idx(&g.h, rx), ==, 1);
    g_assert_cmpmem(gpa(&g.h, T_DATA + 0x1000), 3, "abc", 3);

    /* The first console goes on where it stopped. */
    snap_resume(h);
    n = 16;
    for (gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
         n < 100 && g_get_monotonic_time() < end; g_usleep(100)) {
        n += vireo_ring_read(f->out, got + n, sizeof got - n);
    }
    g_assert_cmpuint(n, ==, 100);
    for (unsigned i = 0; i < 100; i++) {
        g_assert_cmpuint(got[i], ==, i);
    }
    g_assert_true(drv_wait_used(h, tx, 1));
    harness_clear(&g.h);
    vireo_ring_free(out2);
}

/* A console's part with a sent count no chain can have is refused. */
static void test_console_snapshot_hostile(ConsoleFixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    g_autoptr(GBytes) good = NULL;
    g_autoptr(GBytes) bad = NULL;

    drv_start(h, T_ALL_TRANSPORT, f->q, 2, 8);
    snap_pause(h);
    good = snap_save(h);
    bad = snap_patch_u64(good, SNAP_OFF_MODEL(2) + 4, G_MAXUINT64);
    snap_assert_refused(h, bad, "more than a chain holds");
    g_bytes_unref(bad);
    bad = snap_patch_u32(good, SNAP_OFF_MODEL(2), 2);
    snap_assert_refused(h, bad, "console's layout version");
    snap_assert_truncations_refused(h, good, 1);
    snap_resume(h);
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
    RNG_TEST("snapshot/round-trip", test_snapshot_round_trip);
    RNG_TEST("snapshot/not-paused", test_snapshot_not_paused);
    RNG_TEST("snapshot/reset-while-paused", test_snapshot_reset_while_paused);
    RNG_TEST("snapshot/needs-reset", test_snapshot_needs_reset);
    RNG_TEST("snapshot/hostile", test_snapshot_hostile);
    g_test_add("/virtio/console/snapshot", ConsoleFixture, GSIZE_TO_POINTER(16), console_setup,
               test_console_snapshot, console_teardown);
    g_test_add("/virtio/console/snapshot-hostile", ConsoleFixture, NULL, console_setup,
               test_console_snapshot_hostile, console_teardown);
    return g_test_run();
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * virtio-net driven through its registers and rings, as a guest driver
 * would: against a test back end (frames in and out, the receive backlog,
 * malformed transmit chains, resets with frames in flight); against libslirp,
 * with the test playing the guest's network stack (DHCP, ARP, a TCP
 * connection to the host, a forwarded port); against a real TAP interface in
 * a network namespace of its own where the host allows one; and on the virt
 * board. The network configuration parser is checked too.
 */
#include "devices/virt.h"
#include "devices/virtio-net.h"
#include "engine/error.h"
#include "snap-driver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <libfdt.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Guest memory of these tests, after the queue areas. */
#define RX_BUF_SIZE 2048
#define T_RX_BUFS   T_DATA              /* receive buffer of descriptor d at d * 2 KiB */
#define T_TX_BUFS   (T_DATA + 0x200000) /* transmit frame of descriptor d at d * 4 KiB */
#define T_TX_BIG    (T_DATA + 0x400000) /* one large transmit buffer */
#define Q_SIZE      64

#define ETH_HLEN     14
#define ETH_P_IPV4   0x0800
#define ETH_P_ARP    0x0806
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define TCP_SYN      0x02
#define TCP_ACK      0x10
#define WAIT_US      (10 * G_USEC_PER_SEC)

static const guint8 guest_mac[6] = { 0x02, 0x56, 0x49, 0x52, 0x45, 0x4f };
static const guint8 broadcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* ---- A back end for the tests ------------------------------------------- */

/* Records what the device sends; refuses frames while `full`. The tests
 * deliver frames to the device themselves, playing its thread. */
typedef struct {
    VireoNetBackend base;
    GMutex lock;
    GPtrArray *sent; /* GBytes */
    bool full;
    unsigned refused;
} TestBackend;

static bool tb_send(VireoNetBackend *backend, const guint8 *frame, gsize len)
{
    TestBackend *tb = (TestBackend *)backend;
    bool ok;

    g_mutex_lock(&tb->lock);
    ok = !tb->full;
    if (ok) {
        g_ptr_array_add(tb->sent, g_bytes_new(frame, len));
    } else {
        tb->refused++;
    }
    g_mutex_unlock(&tb->lock);
    return ok;
}

static void tb_free(VireoNetBackend *backend)
{
    TestBackend *tb = (TestBackend *)backend;

    g_ptr_array_free(tb->sent, TRUE);
    g_mutex_clear(&tb->lock);
    g_free(tb);
}

static const VireoNetBackendOps tb_ops = {
    .name = "test",
    .send = tb_send,
    .free = tb_free,
};

static TestBackend *tb_new(void)
{
    TestBackend *tb = g_new0(TestBackend, 1);

    tb->base.ops = &tb_ops;
    g_mutex_init(&tb->lock);
    tb->sent = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    return tb;
}

static unsigned tb_n_sent(TestBackend *tb)
{
    unsigned n;

    g_mutex_lock(&tb->lock);
    n = tb->sent->len;
    g_mutex_unlock(&tb->lock);
    return n;
}

/* The `i`th frame sent, which the caller unrefs. */
static GBytes *tb_sent(TestBackend *tb, unsigned i)
{
    GBytes *b;

    g_mutex_lock(&tb->lock);
    g_assert_cmpuint(i, <, tb->sent->len);
    b = g_bytes_ref(g_ptr_array_index(tb->sent, i));
    g_mutex_unlock(&tb->lock);
    return b;
}

static void tb_set_full(TestBackend *tb, bool full)
{
    g_mutex_lock(&tb->lock);
    tb->full = full;
    g_mutex_unlock(&tb->lock);
}

/* ---- The fixture: a device behind the test driver ----------------------- */

typedef struct {
    Harness h;
    VireoNetBackend *backend; /* owned by the device */
    TestBackend *tb;          /* the same, when it is the test back end */
    TestQueue rx, tx;
    uint16_t rx_seen;  /* used receive entries looked at */
    uint32_t guest_ip; /* network order; answered ARP requests for it */
} NetFixture;

static void fixture_init(NetFixture *f, VireoNetBackend *backend)
{
    memset(f, 0, sizeof *f);
    harness_init(&f->h);
    f->backend = backend;
    harness_attach(&f->h, vireo_virtio_net_new(f->h.bus, backend, guest_mac));
}

static void net_setup(NetFixture *f, gconstpointer data)
{
    TestBackend *tb = tb_new();

    fixture_init(f, &tb->base);
    f->tb = tb;
}

static void net_teardown(NetFixture *f, gconstpointer data)
{
    harness_clear(&f->h);
}

#define NET_FEATURES                                                         \
    ((1ull << VIREO_VIRTIO_F_VERSION_1) | (1ull << VIREO_VIRTIO_NET_F_MAC) | \
     (1ull << VIREO_VIRTIO_NET_F_STATUS) | (1ull << VIREO_VIRTIO_NET_F_MTU))

/* Resets the device, negotiates `features`, sets up both queues with Q_SIZE
 * entries and sets DRIVER_OK. */
static void net_start(NetFixture *f, uint64_t features)
{
    g_assert_true(drv_negotiate(&f->h, features));
    drv_setup_queue(&f->h, &f->rx, VIREO_VIRTIO_NET_RX, Q_SIZE);
    drv_setup_queue(&f->h, &f->tx, VIREO_VIRTIO_NET_TX, Q_SIZE);
    drv_driver_ok(&f->h);
    f->rx_seen = 0;
}

static VireoVirtioNetStats stats(NetFixture *f)
{
    VireoVirtioNetStats s;

    g_assert_true(vireo_virtio_net_get_stats(f->h.dev, &s));
    return s;
}

/* Makes `n` receive buffers of `size` bytes available and notifies. */
static void rx_post(NetFixture *f, unsigned n, uint32_t size)
{
    for (unsigned i = 0; i < n; i++) {
        TestBuf b = { T_RX_BUFS + (uint64_t)f->rx.next_desc * RX_BUF_SIZE, size, true };
        g_assert_cmpuint(size, <=, RX_BUF_SIZE);
        memset(gpa(&f->h, b.addr), 0xa5, size);
        drv_add(&f->h, &f->rx, &b, 1);
    }
    drv_kick(&f->h, &f->rx);
}

/* The next received packet, header included; NULL when there is none. */
static const guint8 *rx_take(NetFixture *f, uint32_t *len)
{
    uint32_t id;

    if (used_idx(&f->h, &f->rx) == f->rx_seen) {
        return NULL;
    }
    used_elem(&f->h, &f->rx, f->rx_seen++, &id, len);
    g_assert_cmpuint(id, <, Q_SIZE);
    g_assert_cmpuint(*len, <=, RX_BUF_SIZE);
    return gpa(&f->h, T_RX_BUFS + (uint64_t)id * RX_BUF_SIZE);
}

/* Transmits `frame` as a header buffer and a frame buffer; returns the
 * chain's head. */
static uint16_t tx_add(NetFixture *f, const guint8 *frame, gsize len)
{
    uint64_t addr = T_TX_BUFS + (uint64_t)f->tx.next_desc * 0x1000;
    TestBuf bufs[2] = {
        { addr, VIREO_VIRTIO_NET_HDR_SIZE, false },
        { addr + 64, (uint32_t)len, false },
    };

    g_assert_cmpuint(len, <=, 0x1000 - 64);
    memset(gpa(&f->h, addr), 0, VIREO_VIRTIO_NET_HDR_SIZE);
    memcpy(gpa(&f->h, addr + 64), frame, len);
    return drv_add(&f->h, &f->tx, bufs, 2);
}

static void tx_send(NetFixture *f, const guint8 *frame, gsize len)
{
    uint16_t target = (uint16_t)(used_idx(&f->h, &f->tx) + 1);

    tx_add(f, frame, len);
    drv_kick(&f->h, &f->tx);
    g_assert_cmpuint(used_idx(&f->h, &f->tx), ==, target);
}

/* An Ethernet frame of `len` bytes from the guest with a counting
 * payload. */
static void make_frame(guint8 *frame, gsize len, guint8 seed)
{
    memcpy(frame, broadcast_mac, 6);
    memcpy(frame + 6, guest_mac, 6);
    frame[12] = 0x88;
    frame[13] = 0xb5; /* local experimental EtherType */
    for (gsize i = ETH_HLEN; i < len; i++) {
        frame[i] = (guint8)(seed + i);
    }
}

/* ---- Registers, features, configuration ---------------------------------- */

static void test_config(NetFixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    uint64_t offered = device_features(h);

    g_assert_cmpuint(reg_read(h, VIREO_VIRTIO_MMIO_DEVICE_ID), ==, VIREO_VIRTIO_ID_NET);
    for (unsigned q = 0; q < 2; q++) {
        reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_SEL, q);
        g_assert_cmpuint(reg_read(h, VIREO_VIRTIO_MMIO_QUEUE_NUM_MAX), ==,
                         VIREO_VIRTIO_NET_QUEUE_SIZE);
    }
    /* No control queue. */
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_SEL, 2);
    g_assert_cmpuint(reg_read(h, VIREO_VIRTIO_MMIO_QUEUE_NUM_MAX), ==, 0);

    /* MAC, STATUS and MTU; no offloads, no mergeable buffers, no control
     * queue. */
    g_assert_cmphex(offered, ==, T_ALL_TRANSPORT | NET_FEATURES);
    g_assert_false(offered & (1ull << VIREO_VIRTIO_NET_F_CSUM));
    g_assert_false(offered & (1ull << VIREO_VIRTIO_NET_F_MRG_RXBUF));
    g_assert_false(offered & (1ull << VIREO_VIRTIO_NET_F_CTRL_VQ));

    /* The configuration: the MAC, link up, one queue pair, MTU 1500. */
    for (unsigned i = 0; i < 6; i++) {
        g_assert_cmphex(cfg_read(h, VIREO_VIRTIO_NET_CFG_MAC + i, 1), ==, guest_mac[i]);
    }
    g_assert_cmphex(cfg_read(h, VIREO_VIRTIO_NET_CFG_MAC, 4), ==, 0x52495602);
    g_assert_cmpuint(cfg_read(h, VIREO_VIRTIO_NET_CFG_STATUS, 2), ==, VIREO_VIRTIO_NET_S_LINK_UP);
    g_assert_cmpuint(cfg_read(h, VIREO_VIRTIO_NET_CFG_MAX_VIRTQUEUE_PAIRS, 2), ==, 1);
    g_assert_cmpuint(cfg_read(h, VIREO_VIRTIO_NET_CFG_MTU, 2), ==, 1500);
    g_assert_cmpuint(cfg_read(h, VIREO_VIRTIO_NET_CONFIG_SIZE, 4), ==, 0);
    /* The driver may not write the configuration: the MAC stays. */
    g_assert_true(vireo_bus_write(h->bus, T_MMIO + VIREO_VIRTIO_MMIO_CONFIG, 1, 0xee));
    g_assert_cmphex(cfg_read(h, VIREO_VIRTIO_NET_CFG_MAC, 1), ==, guest_mac[0]);

    /* Negotiation: a driver taking only MAC, one taking everything offered,
     * and one asking for checksum offload, which is not offered. */
    g_assert_true(
        drv_negotiate(h, (1ull << VIREO_VIRTIO_F_VERSION_1) | (1ull << VIREO_VIRTIO_NET_F_MAC)));
    g_assert_true(drv_negotiate(h, T_ALL_TRANSPORT | NET_FEATURES));
    g_assert_false(drv_negotiate(h, NET_FEATURES | (1ull << VIREO_VIRTIO_NET_F_CSUM)));
    g_assert_false(drv_negotiate(h, NET_FEATURES | (1ull << VIREO_VIRTIO_NET_F_MRG_RXBUF)));
}

/* ---- Transmit ------------------------------------------------------------ */

static void assert_sent(NetFixture *f, unsigned i, const guint8 *frame, gsize len)
{
    g_autoptr(GBytes) b = tb_sent(f->tb, i);
    gsize n;
    const guint8 *data = g_bytes_get_data(b, &n);

    g_assert_cmpmem(data, n, frame, len);
}

static void test_tx(NetFixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    guint8 frame[1514];
    guint8 whole[VIREO_VIRTIO_NET_HDR_SIZE + 100] = { 0 };
    uint64_t a = T_TX_BIG;
    TestBuf one = { a, VIREO_VIRTIO_NET_HDR_SIZE + 100, false };
    TestBuf four[4] = {
        { a + 0x1000, 5, false },
        { a + 0x2000, VIREO_VIRTIO_NET_HDR_SIZE - 5 + 15, false },
        { a + 0x3000, 1, false },
        { a + 0x4000, 84, false },
    };
    uint32_t id, len;
    uint16_t head;
    gsize off = 0;

    net_start(f, NET_FEATURES | T_ALL_TRANSPORT);
    make_frame(frame, sizeof frame, 1);
    head = tx_add(f, frame, sizeof frame);
    ack(h);
    drv_kick(h, &f->tx);
    /* Sent on the notifying thread: the chain is back, nothing written into
     * it, with an interrupt. */
    g_assert_cmpuint(used_idx(h, &f->tx), ==, 1);
    used_elem(h, &f->tx, 0, &id, &len);
    g_assert_cmpuint(id, ==, head);
    g_assert_cmpuint(len, ==, 0);
    g_assert_true(isr(h) & VIREO_VIRTIO_ISR_QUEUE);
    g_assert_cmpuint(tb_n_sent(f->tb), ==, 1);
    assert_sent(f, 0, frame, sizeof frame);

    /* Header and frame in one buffer; then the same split over four buffers,
     * the frame starting in the middle of the second. */
    memset(gpa(h, a), 0, VIREO_VIRTIO_NET_HDR_SIZE);
    make_frame(gpa(h, a + VIREO_VIRTIO_NET_HDR_SIZE), 100, 9);
    drv_add(h, &f->tx, &one, 1);
    make_frame(whole + VIREO_VIRTIO_NET_HDR_SIZE, 100, 11);
    for (unsigned i = 0; i < 4; i++) {
        memcpy(gpa(h, four[i].addr), whole + off, four[i].len);
        off += four[i].len;
    }
    g_assert_cmpuint(off, ==, sizeof whole);
    drv_add(h, &f->tx, four, 4);
    drv_kick(h, &f->tx);
    g_assert_cmpuint(used_idx(h, &f->tx), ==, 3);
    g_assert_cmpuint(tb_n_sent(f->tb), ==, 3);
    assert_sent(f, 1, gpa(h, a + VIREO_VIRTIO_NET_HDR_SIZE), 100);
    assert_sent(f, 2, whole + VIREO_VIRTIO_NET_HDR_SIZE, 100);

    /* The shortest frame: an Ethernet header. */
    make_frame(frame, ETH_HLEN, 0);
    tx_send(f, frame, ETH_HLEN);
    g_assert_cmpuint(tb_n_sent(f->tb), ==, 4);
    assert_sent(f, 3, frame, ETH_HLEN);
    g_assert_cmpuint(stats(f).tx_frames, ==, 4);
    g_assert_cmpuint(stats(f).tx_dropped, ==, 0);
}

/* Chains the device returns unsent, each followed by a good frame to show
 * that the device goes on. */
static void test_tx_dropped(NetFixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    guint8 frame[64];
    uint64_t a = T_TX_BIG;
    unsigned sent = 0;
    uint16_t used = 0;

    net_start(f, NET_FEATURES | T_ALL_TRANSPORT);
    memset(gpa(h, a), 0, 0x20000);
    make_frame(frame, sizeof frame, 3);
    for (unsigned c = 0; c < 6; c++) {
        TestBuf bufs[2];
        unsigned n = 1;
        uint32_t id, len;

        switch (c) {
        case 0: /* longer than the largest frame */
            bufs[0] = (TestBuf){ a, VIREO_VIRTIO_NET_HDR_SIZE + VIREO_NET_MAX_FRAME + 1, false };
            break;
        case 1: /* a header and no frame */
            bufs[0] = (TestBuf){ a, VIREO_VIRTIO_NET_HDR_SIZE, false };
            break;
        case 2: /* shorter than an Ethernet header */
            bufs[0] = (TestBuf){ a, VIREO_VIRTIO_NET_HDR_SIZE + ETH_HLEN - 1, false };
            break;
        case 3: /* shorter than the header */ bufs[0] = (TestBuf){ a, 6, false }; break;
        case 4: /* a writable buffer in a transmit chain */
            bufs[0] = (TestBuf){ a, VIREO_VIRTIO_NET_HDR_SIZE + 60, false };
            bufs[1] = (TestBuf){ a + 0x1000, 16, true };
            n = 2;
            break;
        case 5: /* segmentation asked for but not negotiated */
            bufs[0] = (TestBuf){ a, VIREO_VIRTIO_NET_HDR_SIZE + 60, false };
            gpa(h, a)[VIREO_VIRTIO_NET_HDR_GSO_TYPE] = 1; /* TCPv4 */
            break;
        }
        drv_add(h, &f->tx, bufs, n);
        drv_kick(h, &f->tx);
        gpa(h, a)[VIREO_VIRTIO_NET_HDR_GSO_TYPE] = 0;
        g_assert_cmpuint(used_idx(h, &f->tx), ==, ++used);
        used_elem(h, &f->tx, (uint16_t)(used - 1), &id, &len);
        g_assert_cmpuint(len, ==, 0);
        g_assert_cmpuint(tb_n_sent(f->tb), ==, sent);
        g_assert_cmpuint(stats(f).tx_dropped, ==, c + 1);
        g_assert_false(status(h) & VIREO_VIRTIO_STATUS_NEEDS_RESET);

        tx_send(f, frame, sizeof frame);
        used++;
        assert_sent(f, sent++, frame, sizeof frame);
    }
    /* Flags other than the ones of negotiated features are ignored. */
    {
        uint16_t head = tx_add(f, frame, sizeof frame);
        gpa(h, T_TX_BUFS + (uint64_t)head * 0x1000)[VIREO_VIRTIO_NET_HDR_FLAGS] = 0x80;
        drv_kick(h, &f->tx);
        g_assert_cmpuint(tb_n_sent(f->tb), ==, sent + 1);
    }
}

/* Chains the virtio layer refuses: a zero-length buffer and a buffer outside
 * RAM put the device in DEVICE_NEEDS_RESET, nothing is sent, and after a
 * reset the device works again. */
static void test_tx_malformed(NetFixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    guint8 frame[64];

    make_frame(frame, sizeof frame, 5);
    for (unsigned c = 0; c < 3; c++) {
        TestBuf bufs[2] = {
            { T_TX_BIG, VIREO_VIRTIO_NET_HDR_SIZE, false },
            { T_TX_BIG + 64, 60, false },
        };
        static const char *const reasons[] = { "zero-length buffer", "buffer outside guest RAM",
                                               "buffer outside guest RAM" };

        net_start(f, NET_FEATURES | T_ALL_TRANSPORT);
        switch (c) {
        case 0: bufs[1].len = 0; break;
        case 1: bufs[1].addr = 0x40000000; break;
        case 2: bufs[1].addr = T_RAM_BASE + T_RAM_SIZE - 30; break; /* straddles the end */
        }
        drv_add(h, &f->tx, bufs, 2);
        drv_kick(h, &f->tx);
        g_assert_true(status(h) & VIREO_VIRTIO_STATUS_NEEDS_RESET);
        g_assert_cmpstr(vireo_virtio_get_error(h->dev), ==, reasons[c]);
        g_assert_cmpuint(used_idx(h, &f->tx), ==, 0);
        g_assert_cmpuint(tb_n_sent(f->tb), ==, c);

        net_start(f, NET_FEATURES | T_ALL_TRANSPORT);
        tx_send(f, frame, sizeof frame);
        g_assert_cmpuint(tb_n_sent(f->tb), ==, c + 1);
    }
}

/* A back end without room: the device keeps one frame, leaves the others in
 * the ring, and sends them all in order once the back end has room. */
static void test_tx_backpressure(NetFixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    guint8 frames[4][80];

    net_start(f, NET_FEATURES | T_ALL_TRANSPORT);
    tb_set_full(f->tb, true);
    for (unsigned i = 0; i < 4; i++) {
        make_frame(frames[i], sizeof frames[i], (guint8)(i * 40));
        tx_add(f, frames[i], sizeof frames[i]);
    }
    drv_kick(h, &f->tx);
    g_assert_cmpuint(used_idx(h, &f->tx), ==, 1);
    g_assert_cmpuint(tb_n_sent(f->tb), ==, 0);
    /* Another notification changes nothing while the back end is full. */
    drv_kick(h, &f->tx);
    g_assert_cmpuint(used_idx(h, &f->tx), ==, 1);

    tb_set_full(f->tb, false);
    vireo_net_backend_writable(f->backend);
    g_assert_cmpuint(used_idx(h, &f->tx), ==, 4);
    g_assert_cmpuint(tb_n_sent(f->tb), ==, 4);
    for (unsigned i = 0; i < 4; i++) {
        assert_sent(f, i, frames[i], sizeof frames[i]);
    }
    g_assert_cmpuint(stats(f).tx_frames, ==, 4);
}

/* ---- Receive ------------------------------------------------------------- */

/* The packet is `frame` behind a header of zeros with num_buffers 1. */
static void assert_packet(const guint8 *p, uint32_t len, const guint8 *frame, gsize frame_len)
{
    static const guint8 hdr[VIREO_VIRTIO_NET_HDR_SIZE] = { [VIREO_VIRTIO_NET_HDR_NUM_BUFFERS] = 1 };

    g_assert_cmpuint(len, ==, VIREO_VIRTIO_NET_HDR_SIZE + frame_len);
    g_assert_cmpmem(p, VIREO_VIRTIO_NET_HDR_SIZE, hdr, sizeof hdr);
    g_assert_cmpmem(p + VIREO_VIRTIO_NET_HDR_SIZE, frame_len, frame, frame_len);
}

static void test_rx(NetFixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    g_autofree guint8 *frame = g_malloc0(VIREO_NET_MAX_FRAME + 1);
    const guint8 *p;
    uint32_t len;

    net_start(f, NET_FEATURES | T_ALL_TRANSPORT);
    rx_post(f, 2, RX_BUF_SIZE);
    g_assert_cmpuint(used_idx(h, &f->rx), ==, 0);
    make_frame(frame, 1514, 17);
    ack(h);
    g_assert_false(irq_probe_level(&h->irq));
    vireo_net_backend_deliver(f->backend, frame, 1514);
    p = rx_take(f, &len);
    g_assert_nonnull(p);
    assert_packet(p, len, frame, 1514);
    g_assert_true(isr(h) & VIREO_VIRTIO_ISR_QUEUE);
    g_assert_true(irq_probe_level(&h->irq));
    /* The bytes after the packet are untouched. */
    g_assert_cmphex(p[len], ==, 0xa5);

    /* A short frame into the second buffer, then one into a chain of three
     * buffers that splits the header. */
    {
        TestBuf bufs[3] = {
            { T_TX_BIG, 4, true },
            { T_TX_BIG + 0x100, 10, true },
            { T_TX_BIG + 0x200, 1600, true },
        };
        guint8 got[VIREO_VIRTIO_NET_HDR_SIZE + 20];
        uint32_t id;

        drv_add(h, &f->rx, bufs, 3);
        drv_kick(h, &f->rx);
        make_frame(frame, 20, 99);
        vireo_net_backend_deliver(f->backend, frame, 20);
        p = rx_take(f, &len);
        assert_packet(p, len, frame, 20);
        vireo_net_backend_deliver(f->backend, frame, 20);
        used_elem(h, &f->rx, f->rx_seen++, &id, &len);
        g_assert_cmpuint(len, ==, sizeof got);
        memcpy(got, gpa(h, T_TX_BIG), 4);
        memcpy(got + 4, gpa(h, T_TX_BIG + 0x100), 10);
        memcpy(got + 14, gpa(h, T_TX_BIG + 0x200), 18);
        assert_packet(got, len, frame, 20);
    }
    /* Runts and giants never reach the device. */
    vireo_net_backend_deliver(f->backend, frame, ETH_HLEN - 1);
    vireo_net_backend_deliver(f->backend, frame, VIREO_NET_MAX_FRAME + 1);
    g_assert_cmpuint(stats(f).rx_frames, ==, 3);
    g_assert_cmpuint(stats(f).rx_backlog, ==, 0);
}

/* Frames wait for buffers, in order, up to the backlog's size. */
static void test_rx_backlog(NetFixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    guint8 frame[200];
    const guint8 *p;
    uint32_t len;
    VireoVirtioNetStats s;

    /* Before DRIVER_OK, frames are dropped. */
    make_frame(frame, sizeof frame, 0);
    vireo_net_backend_deliver(f->backend, frame, sizeof frame);
    g_assert_cmpuint(stats(f).rx_dropped, ==, 1);
    g_assert_cmpuint(stats(f).rx_backlog, ==, 0);

    net_start(f, NET_FEATURES | T_ALL_TRANSPORT);
    for (unsigned i = 0; i < 3; i++) {
        make_frame(frame, sizeof frame, (guint8)i);
        vireo_net_backend_deliver(f->backend, frame, sizeof frame);
    }
    g_assert_cmpuint(stats(f).rx_backlog, ==, 3);
    g_assert_cmpuint(used_idx(h, &f->rx), ==, 0);
    rx_post(f, 2, RX_BUF_SIZE);
    g_assert_cmpuint(used_idx(h, &f->rx), ==, 2);
    g_assert_cmpuint(stats(f).rx_backlog, ==, 1);
    /* A frame arriving now queues behind the one waiting. */
    make_frame(frame, sizeof frame, 3);
    vireo_net_backend_deliver(f->backend, frame, sizeof frame);
    rx_post(f, 4, RX_BUF_SIZE);
    g_assert_cmpuint(used_idx(h, &f->rx), ==, 4);
    for (unsigned i = 0; i < 4; i++) {
        make_frame(frame, sizeof frame, (guint8)i);
        p = rx_take(f, &len);
        assert_packet(p, len, frame, sizeof frame);
    }
    g_assert_cmpuint(stats(f).rx_backlog, ==, 0);
    /* Two buffers are left: frames go straight in. */
    vireo_net_backend_deliver(f->backend, frame, sizeof frame);
    g_assert_cmpuint(used_idx(h, &f->rx), ==, 5);
    p = rx_take(f, &len);
    assert_packet(p, len, frame, sizeof frame);
    vireo_net_backend_deliver(f->backend, frame, sizeof frame);
    p = rx_take(f, &len);
    g_assert_nonnull(p);

    /* The bound: frames beyond it are dropped, the first ones kept. */
    s = stats(f);
    for (unsigned i = 0; i < VIREO_VIRTIO_NET_RX_BACKLOG + 10; i++) {
        make_frame(frame, 64, (guint8)i);
        vireo_net_backend_deliver(f->backend, frame, 64);
    }
    g_assert_cmpuint(stats(f).rx_backlog, ==, VIREO_VIRTIO_NET_RX_BACKLOG);
    g_assert_cmpuint(stats(f).rx_dropped, ==, s.rx_dropped + 10);
    rx_post(f, Q_SIZE, RX_BUF_SIZE);
    for (unsigned i = 0; i < Q_SIZE; i++) {
        make_frame(frame, 64, (guint8)i);
        p = rx_take(f, &len);
        g_assert_nonnull(p);
        assert_packet(p, len, frame, 64);
    }
    g_assert_cmpuint(stats(f).rx_backlog, ==, VIREO_VIRTIO_NET_RX_BACKLOG - Q_SIZE);
}

/* A frame larger than the buffer is dropped and the buffer kept; a buffer
 * too small for any frame is returned empty. */
static void test_rx_small_buffers(NetFixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    guint8 frame[300];
    const guint8 *p;
    uint32_t len, id;

    net_start(f, NET_FEATURES | T_ALL_TRANSPORT);
    rx_post(f, 1, VIREO_VIRTIO_NET_HDR_SIZE + 100);
    make_frame(frame, sizeof frame, 1);
    vireo_net_backend_deliver(f->backend, frame, sizeof frame);
    g_assert_cmpuint(used_idx(h, &f->rx), ==, 0);
    g_assert_cmpuint(stats(f).rx_dropped, ==, 1);
    vireo_net_backend_deliver(f->backend, frame, 100);
    p = rx_take(f, &len);
    assert_packet(p, len, frame, 100);

    /* Header-sized buffer, then a proper one. */
    rx_post(f, 1, VIREO_VIRTIO_NET_HDR_SIZE);
    rx_post(f, 1, RX_BUF_SIZE);
    vireo_net_backend_deliver(f->backend, frame, sizeof frame);
    g_assert_cmpuint(used_idx(h, &f->rx), ==, 3);
    used_elem(h, &f->rx, f->rx_seen++, &id, &len);
    g_assert_cmpuint(len, ==, 0);
    p = rx_take(f, &len);
    assert_packet(p, len, frame, sizeof frame);
    /* A receive chain of readable buffers only is returned as well. */
    {
        TestBuf b = { T_TX_BIG, 2000, false };
        drv_add(h, &f->rx, &b, 1);
        rx_post(f, 1, RX_BUF_SIZE);
        vireo_net_backend_deliver(f->backend, frame, sizeof frame);
        used_elem(h, &f->rx, f->rx_seen++, &id, &len);
        g_assert_cmpuint(len, ==, 0);
        p = rx_take(f, &len);
        assert_packet(p, len, frame, sizeof frame);
    }
}

/* ---- Resets --------------------------------------------------------------- */

/* A reset forgets the frames waiting, the chain taken, and a frame the back
 * end had no room for. */
static void test_reset(NetFixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    guint8 frame[100];
    const guint8 *p;
    uint32_t len, id;
    uint16_t head;

    net_start(f, NET_FEATURES | T_ALL_TRANSPORT);
    make_frame(frame, sizeof frame, 1);
    for (unsigned i = 0; i < 5; i++) {
        vireo_net_backend_deliver(f->backend, frame, sizeof frame);
    }
    tb_set_full(f->tb, true);
    tx_add(f, frame, sizeof frame);
    drv_kick(h, &f->tx);
    g_assert_cmpuint(stats(f).rx_backlog, ==, 5);

    reg_write(h, VIREO_VIRTIO_MMIO_STATUS, 0);
    g_assert_cmpuint(stats(f).rx_backlog, ==, 0);
    g_assert_cmpuint(stats(f).rx_dropped, ==, 5);
    g_assert_cmpuint(stats(f).tx_dropped, ==, 1);
    tb_set_full(f->tb, false);
    vireo_net_backend_writable(f->backend);
    g_assert_cmpuint(tb_n_sent(f->tb), ==, 0);

    /* A chain taken but not filled (too small for the frame) is forgotten
     * too. */
    net_start(f, NET_FEATURES | T_ALL_TRANSPORT);
    rx_post(f, 1, VIREO_VIRTIO_NET_HDR_SIZE + 50);
    vireo_net_backend_deliver(f->backend, frame, sizeof frame);
    g_assert_cmpuint(stats(f).rx_dropped, ==, 6);
    g_assert_cmpuint(used_idx(h, &f->rx), ==, 0);

    /* A fresh start: only new frames arrive, in new buffers. */
    net_start(f, NET_FEATURES | T_ALL_TRANSPORT);
    head = f->rx.next_desc;
    rx_post(f, 1, RX_BUF_SIZE);
    g_assert_cmpuint(used_idx(h, &f->rx), ==, 0);
    make_frame(frame, sizeof frame, 2);
    vireo_net_backend_deliver(f->backend, frame, sizeof frame);
    used_elem(h, &f->rx, 0, &id, &len);
    g_assert_cmpuint(id, ==, head);
    p = rx_take(f, &len);
    assert_packet(p, len, frame, sizeof frame);
    g_assert_cmpuint(used_idx(h, &f->rx), ==, 1);
    tx_send(f, frame, sizeof frame);
    g_assert_cmpuint(tb_n_sent(f->tb), ==, 1);
}

/* A receive chain the card kept (too small for the frame that came) goes
 * back to the driver with the queue: after QueueReady = 0 and a new start
 * of the queue, frames go into the new buffers only, and the used ring has
 * only their heads. */
static void test_rx_queue_disabled(NetFixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    guint8 frame[100], old[VIREO_VIRTIO_NET_HDR_SIZE + 50];
    const guint8 *p;
    uint32_t len, id;

    net_start(f, NET_FEATURES | T_ALL_TRANSPORT);
    rx_post(f, 1, VIREO_VIRTIO_NET_HDR_SIZE);      /* returned empty */
    rx_post(f, 1, VIREO_VIRTIO_NET_HDR_SIZE + 50); /* kept */
    make_frame(frame, sizeof frame, 1);
    vireo_net_backend_deliver(f->backend, frame, sizeof frame);
    g_assert_cmpuint(used_idx(h, &f->rx), ==, 1);
    g_assert_cmpuint(stats(f).rx_dropped, ==, 1);
    memcpy(old, gpa(h, T_RX_BUFS + RX_BUF_SIZE), sizeof old);

    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_SEL, VIREO_VIRTIO_NET_RX);
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_READY, 0);
    g_assert_cmpuint(reg_read(h, VIREO_VIRTIO_MMIO_QUEUE_READY), ==, 0);
    drv_setup_queue(h, &f->rx, VIREO_VIRTIO_NET_RX, Q_SIZE);
    f->rx_seen = 0;
    rx_post(f, 1, RX_BUF_SIZE);
    make_frame(frame, 40, 2); /* would fit the kept chain */
    vireo_net_backend_deliver(f->backend, frame, 40);
    g_assert_cmpuint(used_idx(h, &f->rx), ==, 1);
    used_elem(h, &f->rx, 0, &id, &len);
    g_assert_cmpuint(id, ==, 0);
    p = rx_take(f, &len);
    assert_packet(p, len, frame, 40);
    /* The buffer the driver took back was not written. */
    g_assert_cmpmem(gpa(h, T_RX_BUFS + RX_BUF_SIZE), sizeof old, old, sizeof old);
}

typedef struct {
    NetFixture *f;
    gint stop;
    unsigned delivered;
} Flood;

static gpointer flood_thread(gpointer data)
{
    Flood *fl = data;
    guint8 frame[600];

    while (!g_atomic_int_get(&fl->stop)) {
        make_frame(frame, sizeof frame, (guint8)fl->delivered);
        vireo_net_backend_deliver(fl->f->backend, frame, 60 + fl->delivered % 500);
        fl->delivered++;
    }
    return NULL;
}

/* Frames keep arriving from the back end's side while the driver resets
 * and restarts the device, transmits, and takes buffers back; every frame
 * is accounted for. */
static void test_reset_in_flight(NetFixture *f, gconstpointer data)
{
    Flood fl = { f, 0, 0 };
    GThread *thread = g_thread_new("flood", flood_thread, &fl);
    guint8 frame[200];
    VireoVirtioNetStats s;
    gint64 end = g_get_monotonic_time() + G_USEC_PER_SEC / 2;
    unsigned rounds = 0;

    make_frame(frame, sizeof frame, 0);
    while (g_get_monotonic_time() < end || rounds < 20) {
        net_start(f, NET_FEATURES | T_ALL_TRANSPORT);
        rx_post(f, Q_SIZE / 2, RX_BUF_SIZE);
        for (unsigned i = 0; i < 4; i++) {
            tb_set_full(f->tb, i == 2);
            tx_add(f, frame, sizeof frame);
            drv_kick(&f->h, &f->tx);
        }
        g_usleep(200);
        if (rounds % 3 == 0) {
            /* A bad chain: the device needs a reset. */
            TestBuf b = { 0x40000000, 64, false };
            drv_add(&f->h, &f->tx, &b, 1);
            drv_kick(&f->h, &f->tx);
        }
        rounds++;
        reg_write(&f->h, VIREO_VIRTIO_MMIO_STATUS, 0);
    }
    g_atomic_int_set(&fl.stop, 1);
    g_thread_join(thread);
    s = stats(f);
    g_assert_cmpuint(s.rx_backlog, ==, 0);
    g_assert_cmpuint(s.rx_frames + s.rx_dropped, ==, fl.delivered);
    g_assert_cmpuint(s.rx_frames, >, 0);
    g_assert_cmpuint(s.tx_frames, >, 0);
}

/* ---- The guest's network stack, in miniature ---------------------------- */

static void put_be16(guint8 *p, uint16_t v)
{
    p[0] = (guint8)(v >> 8);
    p[1] = (guint8)v;
}

static uint16_t get_be16(const guint8 *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t ip4(const char *dotted)
{
    struct in_addr a;
    g_assert_cmpint(inet_pton(AF_INET, dotted, &a), ==, 1);
    return a.s_addr;
}

/* The Internet checksum of `len` bytes, continuing `sum`. */
static uint32_t csum_add(uint32_t sum, const guint8 *p, gsize len)
{
    for (gsize i = 0; i + 1 < len; i += 2) {
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    }
    if (len & 1) {
        sum += (uint32_t)p[len - 1] << 8;
    }
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

static gsize eth_header(guint8 *frame, const guint8 dst[6], const guint8 src[6], uint16_t type)
{
    memcpy(frame, dst, 6);
    memcpy(frame + 6, src, 6);
    put_be16(frame + 12, type);
    return ETH_HLEN;
}

/* An IPv4 packet carrying `l4` (whose checksum, at `csum_at` when not -1,
 * is computed with the pseudo-header) in an Ethernet frame. */
static gsize ipv4_frame(guint8 *frame, const guint8 dst_mac[6], const guint8 src_mac[6],
                        uint8_t proto, uint32_t src, uint32_t dst, guint8 *l4, gsize l4_len,
                        int csum_at)
{
    guint8 *ip = frame + eth_header(frame, dst_mac, src_mac, ETH_P_IPV4);
    guint8 pseudo[12];

    if (csum_at >= 0) {
        memcpy(pseudo, &src, 4);
        memcpy(pseudo + 4, &dst, 4);
        pseudo[8] = 0;
        pseudo[9] = proto;
        put_be16(pseudo + 10, (uint16_t)l4_len);
        put_be16(l4 + csum_at, 0);
        put_be16(l4 + csum_at, csum_fold(csum_add(csum_add(0, pseudo, 12), l4, l4_len)));
    }
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put_be16(ip + 2, (uint16_t)(20 + l4_len));
    put_be16(ip + 4, 0x1234);
    ip[8] = 64;
    ip[9] = proto;
    memcpy(ip + 12, &src, 4);
    memcpy(ip + 16, &dst, 4);
    put_be16(ip + 10, csum_fold(csum_add(0, ip, 20)));
    memcpy(ip + 20, l4, l4_len);
    return ETH_HLEN + 20 + l4_len;
}

static gsize udp_frame(guint8 *frame, const guint8 dst_mac[6], uint32_t src, uint16_t sport,
                       uint32_t dst, uint16_t dport, const void *payload, gsize len)
{
    g_autofree guint8 *udp = g_malloc0(8 + len);

    put_be16(udp, sport);
    put_be16(udp + 2, dport);
    put_be16(udp + 4, (uint16_t)(8 + len));
    memcpy(udp + 8, payload, len);
    return ipv4_frame(frame, dst_mac, guest_mac, IPPROTO_UDP_, src, dst, udp, 8 + len, 6);
}

static gsize tcp_syn_frame(guint8 *frame, const guint8 dst_mac[6], uint32_t src, uint16_t sport,
                           uint32_t dst, uint16_t dport, uint32_t seq)
{
    guint8 tcp[24] = { 0 };

    put_be16(tcp, sport);
    put_be16(tcp + 2, dport);
    tcp[4] = (guint8)(seq >> 24);
    tcp[5] = (guint8)(seq >> 16);
    tcp[6] = (guint8)(seq >> 8);
    tcp[7] = (guint8)seq;
    tcp[12] = 6 << 4; /* 24 bytes of header */
    tcp[13] = TCP_SYN;
    put_be16(tcp + 14, 64240);
    tcp[20] = 2; /* MSS 1460 */
    tcp[21] = 4;
    put_be16(tcp + 22, 1460);
    return ipv4_frame(frame, dst_mac, guest_mac, IPPROTO_TCP_, src, dst, tcp, sizeof tcp, 16);
}

/* ARP over Ethernet for IPv4: an `op` (1 request, 2 reply). */
static gsize arp_frame(guint8 *frame, const guint8 dst_mac[6], uint16_t op, const guint8 sha[6],
                       uint32_t spa, const guint8 tha[6], uint32_t tpa)
{
    guint8 *a = frame + eth_header(frame, dst_mac, guest_mac, ETH_P_ARP);

    put_be16(a, 1);
    put_be16(a + 2, ETH_P_IPV4);
    a[4] = 6;
    a[5] = 4;
    put_be16(a + 6, op);
    memcpy(a + 8, sha, 6);
    memcpy(a + 14, &spa, 4);
    memcpy(a + 18, tha, 6);
    memcpy(a + 24, &tpa, 4);
    return ETH_HLEN + 28;
}

/* What the tests look at in a received frame. */
typedef struct {
    const guint8 *frame;
    gsize len;
    uint16_t type;
    /* ARP */
    uint16_t arp_op;
    const guint8 *arp_sha, *arp_tha;
    uint32_t arp_spa, arp_tpa;
    /* IPv4 */
    uint8_t proto;
    uint32_t src, dst;
    const guint8 *l4;
    gsize l4_len;
    uint16_t sport, dport;
} Frame;

static bool parse_frame(const guint8 *p, gsize len, Frame *fr)
{
    memset(fr, 0, sizeof *fr);
    fr->frame = p;
    fr->len = len;
    if (len < ETH_HLEN) {
        return false;
    }
    fr->type = get_be16(p + 12);
    if (fr->type == ETH_P_ARP && len >= ETH_HLEN + 28) {
        const guint8 *a = p + ETH_HLEN;
        fr->arp_op = get_be16(a + 6);
        fr->arp_sha = a + 8;
        memcpy(&fr->arp_spa, a + 14, 4);
        fr->arp_tha = a + 18;
        memcpy(&fr->arp_tpa, a + 24, 4);
    } else if (fr->type == ETH_P_IPV4 && len >= ETH_HLEN + 20) {
        const guint8 *ip = p + ETH_HLEN;
        gsize ihl = (gsize)(ip[0] & 0xf) * 4;
        gsize total = get_be16(ip + 2);

        if (ihl < 20 || total < ihl || ETH_HLEN + total > len) {
            return false;
        }
        fr->proto = ip[9];
        memcpy(&fr->src, ip + 12, 4);
        memcpy(&fr->dst, ip + 16, 4);
        fr->l4 = ip + ihl;
        fr->l4_len = total - ihl;
        if ((fr->proto == IPPROTO_TCP_ || fr->proto == IPPROTO_UDP_) && fr->l4_len >= 8) {
            fr->sport = get_be16(fr->l4);
            fr->dport = get_be16(fr->l4 + 2);
        }
    }
    return true;
}

static void guest_send(NetFixture *f, const guint8 *frame, gsize len)
{
    tx_send(f, frame, len);
}

typedef bool (*FrameMatch)(const Frame *fr, void *data);

/* Takes received frames (making their buffers available again) until one
 * matches, answering ARP requests for the guest's address on the way; false
 * after WAIT_US. The matching frame is copied into `out`. */
static bool guest_wait(NetFixture *f, FrameMatch match, void *data, guint8 *out, gsize *out_len)
{
    gint64 end = g_get_monotonic_time() + WAIT_US;

    while (g_get_monotonic_time() < end) {
        guint8 copy[RX_BUF_SIZE];
        const guint8 *p;
        uint32_t len;
        Frame fr;

        p = rx_take(f, &len);
        if (p == NULL) {
            g_usleep(1000);
            continue;
        }
        g_assert_cmpuint(len, >=, VIREO_VIRTIO_NET_HDR_SIZE);
        memcpy(copy, p + VIREO_VIRTIO_NET_HDR_SIZE, len - VIREO_VIRTIO_NET_HDR_SIZE);
        len -= VIREO_VIRTIO_NET_HDR_SIZE;
        rx_post(f, 1, RX_BUF_SIZE);
        if (!parse_frame(copy, len, &fr)) {
            continue;
        }
        if (fr.type == ETH_P_ARP && fr.arp_op == 1 && fr.arp_tpa == f->guest_ip) {
            guint8 reply[64] = { 0 };
            arp_frame(reply, fr.arp_sha, 2, guest_mac, f->guest_ip, fr.arp_sha, fr.arp_spa);
            guest_send(f, reply, sizeof reply);
            continue;
        }
        if (match(&fr, data)) {
            if (out != NULL) {
                memcpy(out, copy, len);
                *out_len = len;
            }
            return true;
        }
    }
    return false;
}

/* ---- User networking through libslirp ------------------------------------- */

static void user_init(NetFixture *f, const char *spec)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VireoNetConfig) config = vireo_net_config_parse(spec, &error);
    VireoNetBackend *backend;

    g_assert_no_error(error);
    backend = vireo_net_slirp_new(config, &error);
    g_assert_no_error(error);
    fixture_init(f, backend);
    f->guest_ip = ip4(VIREO_NET_USER_GUEST);
    net_start(f, NET_FEATURES | T_ALL_TRANSPORT);
    rx_post(f, Q_SIZE, RX_BUF_SIZE);
}

/* A DHCP option's value in a BOOTP message, or NULL. */
static const guint8 *dhcp_option(const guint8 *bootp, gsize len, guint8 code, guint8 *opt_len)
{
    gsize i = 240; /* fixed part and magic cookie */

    while (i < len && bootp[i] != 255) {
        if (bootp[i] == 0) {
            i++;
            continue;
        }
        if (i + 2 > len || i + 2 + bootp[i + 1] > len) {
            return NULL;
        }
        if (bootp[i] == code) {
            *opt_len = bootp[i + 1];
            return bootp + i + 2;
        }
        i += 2u + bootp[i + 1];
    }
    return NULL;
}

static bool is_dhcp_reply(const Frame *fr, void *data)
{
    return fr->proto == IPPROTO_UDP_ && fr->sport == 67 && fr->dport == 68;
}

static void test_user_dhcp(void)
{
    NetFixture f;
    guint8 bootp[548] = { 0 };
    guint8 frame[RX_BUF_SIZE];
    gsize len;
    Frame fr;
    const guint8 *msg, *opt;
    guint8 opt_len = 0;
    uint32_t yiaddr;

    user_init(&f, "user");
    bootp[0] = 1; /* BOOTREQUEST */
    bootp[1] = 1; /* Ethernet */
    bootp[2] = 6;
    bootp[4] = 0x56; /* xid */
    bootp[5] = 0x49;
    bootp[6] = 0x52;
    bootp[7] = 0x45;
    put_be16(bootp + 10, 0x8000); /* broadcast reply */
    memcpy(bootp + 28, guest_mac, 6);
    memcpy(bootp + 236, "\x63\x82\x53\x63", 4);
    memcpy(bootp + 240,
           "\x35\x01\x01"         /* DHCPDISCOVER */
           "\x37\x03\x01\x03\x06" /* subnet, router, DNS */
           "\xff",
           9);
    len = udp_frame(frame, broadcast_mac, 0, 68, 0xffffffffu, 67, bootp, sizeof bootp);
    guest_send(&f, frame, len);

    g_assert_true(guest_wait(&f, is_dhcp_reply, NULL, frame, &len));
    g_assert_true(parse_frame(frame, len, &fr));
    msg = fr.l4 + 8;
    len = fr.l4_len - 8;
    g_assert_cmpuint(len, >=, 240);
    g_assert_cmpuint(msg[0], ==, 2); /* BOOTREPLY */
    g_assert_cmpmem(msg + 4, 4, bootp + 4, 4);
    memcpy(&yiaddr, msg + 16, 4);
    g_assert_cmphex(yiaddr, ==, ip4("10.0.2.15"));
    opt = dhcp_option(msg, len, 53, &opt_len);
    g_assert_nonnull(opt);
    g_assert_cmpuint(opt[0], ==, 2); /* DHCPOFFER */
    opt = dhcp_option(msg, len, 3, &opt_len);
    g_assert_nonnull(opt);
    g_assert_cmpmem(opt, 4, &(uint32_t){ ip4("10.0.2.2") }, 4);
    opt = dhcp_option(msg, len, 6, &opt_len);
    g_assert_nonnull(opt);
    g_assert_cmpmem(opt, 4, &(uint32_t){ ip4("10.0.2.3") }, 4);
    /* To the guest's MAC address, or broadcast. */
    g_assert_true(memcmp(fr.frame, guest_mac, 6) == 0 || memcmp(fr.frame, broadcast_mac, 6) == 0);
    harness_clear(&f.h);
}

static bool is_arp_reply_from_host(const Frame *fr, void *data)
{
    return fr->type == ETH_P_ARP && fr->arp_op == 2 && fr->arp_spa == ip4(VIREO_NET_USER_HOST);
}

/* Asks for the host's MAC address, which teaches libslirp the guest's. */
static void arp_host(NetFixture *f, guint8 host_mac[6])
{
    static const guint8 zero[6] = { 0 };
    guint8 frame[64] = { 0 };
    guint8 reply[RX_BUF_SIZE];
    gsize len;
    Frame fr;

    arp_frame(frame, broadcast_mac, 1, guest_mac, f->guest_ip, zero, ip4(VIREO_NET_USER_HOST));
    guest_send(f, frame, sizeof frame);
    g_assert_true(guest_wait(f, is_arp_reply_from_host, NULL, reply, &len));
    g_assert_true(parse_frame(reply, len, &fr));
    g_assert_cmpmem(fr.frame, 6, guest_mac, 6);
    g_assert_cmpmem(fr.arp_tha, 6, guest_mac, 6);
    g_assert_cmphex(fr.arp_tpa, ==, f->guest_ip);
    memcpy(host_mac, fr.arp_sha, 6);
}

static void test_user_arp(void)
{
    NetFixture f;
    guint8 host_mac[6];

    user_init(&f, "user");
    arp_host(&f, host_mac);
    g_assert_false(host_mac[0] & 1);
    harness_clear(&f.h);
}

typedef struct {
    uint16_t sport, dport;
    uint8_t flags;
    uint32_t ack;
} TcpMatch;

static bool is_tcp(const Frame *fr, void *data)
{
    TcpMatch *m = data;

    if (fr->proto != IPPROTO_TCP_ || fr->l4_len < 20 || fr->sport != m->sport ||
        fr->dport != m->dport) {
        return false;
    }
    m->flags = fr->l4[13];
    m->ack = (uint32_t)fr->l4[8] << 24 | (uint32_t)fr->l4[9] << 16 | (uint32_t)fr->l4[10] << 8 |
             fr->l4[11];
    return true;
}

/* A TCP socket listening on 127.0.0.1; returns its port. */
static int listen_loopback(uint16_t *port)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t alen = sizeof a;
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_assert_cmpint(s, >=, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    g_assert_cmpint(bind(s, (struct sockaddr *)&a, sizeof a), ==, 0);
    g_assert_cmpint(listen(s, 4), ==, 0);
    g_assert_cmpint(getsockname(s, (struct sockaddr *)&a, &alen), ==, 0);
    *port = ntohs(a.sin_port);
    return s;
}

/* The guest opens a connection to 10.0.2.2, which libslirp makes to the
 * host's 127.0.0.1: a SYN-ACK comes back and the host sees the connection. */
static void test_user_tcp(void)
{
    NetFixture f;
    guint8 host_mac[6];
    guint8 frame[128] = { 0 };
    uint16_t port;
    int listener = listen_loopback(&port);
    TcpMatch m = { .sport = port, .dport = 40000 };
    struct pollfd pfd = { .fd = listener, .events = POLLIN };
    int conn;

    user_init(&f, "user");
    arp_host(&f, host_mac);
    tcp_syn_frame(frame, host_mac, f.guest_ip, 40000, ip4(VIREO_NET_USER_HOST), port, 1000);
    guest_send(&f, frame, ETH_HLEN + 20 + 24);
    g_assert_true(guest_wait(&f, is_tcp, &m, NULL, NULL));
    g_assert_cmphex(m.flags & (TCP_SYN | TCP_ACK), ==, TCP_SYN | TCP_ACK);
    g_assert_cmpuint(m.ack, ==, 1001);
    g_assert_cmpint(poll(&pfd, 1, 5000), ==, 1);
    conn = accept(listener, NULL, NULL);
    g_assert_cmpint(conn, >=, 0);
    close(conn);
    close(listener);
    harness_clear(&f.h);
}

static bool is_tcp_to_22(const Frame *fr, void *data)
{
    return fr->proto == IPPROTO_TCP_ && fr->l4_len >= 20 && fr->dport == 22;
}

/* A port the kernel hands out, free a moment ago. */
static uint16_t free_port(void)
{
    uint16_t port;
    int s = listen_loopback(&port);

    close(s);
    return port;
}

/* A connection to the forwarded host port reaches the guest as a SYN to its
 * port 22. */
static void test_user_hostfwd(void)
{
    NetFixture f;
    guint8 host_mac[6];
    uint16_t port = free_port();
    g_autofree char *spec = g_strdup_printf(
        "user,hostfwd=udp:127.0.0.1:%u-:53,hostfwd=tcp:127.0.0.1:%u-:22", port, port);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    guint8 frame[RX_BUF_SIZE];
    gsize len;
    Frame fr;
    int s;

    user_init(&f, spec);
    arp_host(&f, host_mac);
    s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    g_assert_cmpint(s, >=, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    g_assert_true(connect(s, (struct sockaddr *)&a, sizeof a) == 0 || errno == EINPROGRESS);
    /* libslirp picks the source port: match on the destination. */
    g_assert_true(guest_wait(&f, is_tcp_to_22, NULL, frame, &len));
    g_assert_true(parse_frame(frame, len, &fr));
    g_assert_cmphex(fr.dst, ==, f.guest_ip);
    g_assert_cmpmem(fr.frame, 6, guest_mac, 6);
    g_assert_cmphex(fr.l4[13] & (TCP_SYN | TCP_ACK), ==, TCP_SYN);
    close(s);
    harness_clear(&f.h);
}

/* ---- Pausing and snapshots ------------------------------------------------ */

/* A second card on a test back end of its own, with the driver's view of
 * the rings copied from `f`, on a copy of `f`'s RAM. */
static void twin_init(NetFixture *t, NetFixture *f)
{
    TestBackend *tb = tb_new();

    fixture_init(t, &tb->base);
    t->tb = tb;
    t->rx = f->rx;
    t->tx = f->tx;
    t->rx_seen = f->rx_seen;
    snap_copy_ram(&t->h, &f->h);
}

/* Saves the paused `f` and loads it into the paused twin `t`. */
static void save_load(NetFixture *f, NetFixture *t)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) section = snap_save(&f->h);

    snap_pause(&t->h);
    g_assert_true(snap_load(&t->h, section, &error));
    g_assert_no_error(error);
}

/* Waits for a configuration interrupt and acknowledges it; false after
 * `ms`. */
static bool wait_config_irq(Harness *h, int ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;

    while (!(isr(h) & VIREO_VIRTIO_ISR_CONFIG)) {
        if (g_get_monotonic_time() > end) {
            return false;
        }
        g_usleep(1000);
    }
    reg_write(h, VIREO_VIRTIO_MMIO_INTERRUPT_ACK, VIREO_VIRTIO_ISR_CONFIG);
    return true;
}

/* The receive buffer kept for the next frame (too small for the last one)
 * is saved as not taken: after a load, the next frame goes into it. The
 * loaded card's link goes down and comes up again. */
static void test_snapshot_held_rx(NetFixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    guint8 frame[300];
    const guint8 *p;
    uint32_t len, id, generation;
    uint16_t head;
    NetFixture t;

    net_start(f, NET_FEATURES | T_ALL_TRANSPORT);
    make_frame(frame, 60, 9);
    tx_send(f, frame, 60);
    head = f->rx.next_desc;
    rx_post(f, 1, VIREO_VIRTIO_NET_HDR_SIZE + 100);
    make_frame(frame, sizeof frame, 1);
    vireo_net_backend_deliver(f->backend, frame, sizeof frame);
    g_assert_cmpuint(used_idx(h, &f->rx), ==, 0);
    g_assert_cmpuint(stats(f).rx_dropped, ==, 1);
    ack(h);
    generation = reg_read(h, VIREO_VIRTIO_MMIO_CONFIG_GENERATION);

    snap_pause(h);
    twin_init(&t, f);
    save_load(f, &t);
    g_assert_cmpuint(cfg_read(&t.h, VIREO_VIRTIO_NET_CFG_STATUS, 2), ==,
                     VIREO_VIRTIO_NET_S_LINK_UP);
    g_assert_cmpuint(isr(&t.h), ==, 0);
    snap_resume(&t.h);
    /* The link goes down, then up: two configuration changes. */
    g_assert_true(wait_config_irq(&t.h, 100));
    g_assert_cmpuint(cfg_read(&t.h, VIREO_VIRTIO_NET_CFG_STATUS, 2), ==, 0);
    g_assert_cmpuint(reg_read(&t.h, VIREO_VIRTIO_MMIO_CONFIG_GENERATION), ==, generation + 1);
    g_assert_true(wait_config_irq(&t.h, 5000));
    g_assert_cmpuint(cfg_read(&t.h, VIREO_VIRTIO_NET_CFG_STATUS, 2), ==,
                     VIREO_VIRTIO_NET_S_LINK_UP);
    g_assert_cmpuint(reg_read(&t.h, VIREO_VIRTIO_MMIO_CONFIG_GENERATION), ==, generation + 2);
    /* The chain is taken again for the next frame that fits. */
    make_frame(frame, 100, 2);
    vireo_net_backend_deliver(t.backend, frame, 100);
    g_assert_cmpuint(used_idx(&t.h, &t.rx), ==, 1);
    used_elem(&t.h, &t.rx, 0, &id, &len);
    g_assert_cmpuint(id, ==, head);
    p = rx_take(&t, &len);
    assert_packet(p, len, frame, 100);
    g_assert_true(isr(&t.h) & VIREO_VIRTIO_ISR_QUEUE);
    make_frame(frame, 80, 3);
    tx_send(&t, frame, 80);
    g_assert_cmpuint(tb_n_sent(t.tb), ==, 1);
    g_assert_cmpuint(used_idx(&t.h, &t.tx), ==, 2);
    harness_clear(&t.h);

    /* The first card, only paused, keeps its link and its chain. */
    snap_resume(h);
    g_usleep(10000);
    g_assert_cmpuint(isr(h), ==, 0);
    make_frame(frame, 100, 2);
    vireo_net_backend_deliver(f->backend, frame, 100);
    used_elem(h, &f->rx, 0, &id, &len);
    g_assert_cmpuint(id, ==, head);
}

/* Frames waiting for receive buffers and a frame the back end refused go
 * with the state: after a load the refused frame and the transmit chains
 * behind it go out, and the waiting frames into new buffers, in order. A
 * driver that did not take VIRTIO_NET_F_STATUS sees no link change. */
static void test_snapshot_backlog_tx(NetFixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    guint8 frame[200];
    const guint8 *p;
    uint32_t len;
    NetFixture t;

    net_start(f, (NET_FEATURES | T_ALL_TRANSPORT) & ~(1ull << VIREO_VIRTIO_NET_F_STATUS));
    for (unsigned i = 0; i < 3; i++) {
        make_frame(frame, sizeof frame, (guint8)i);
        vireo_net_backend_deliver(f->backend, frame, sizeof frame - i);
    }
    tb_set_full(f->tb, true);
    make_frame(frame, 70, 70);
    tx_add(f, frame, 70);
    make_frame(frame, 71, 71);
    tx_add(f, frame, 71);
    drv_kick(h, &f->tx);
    g_assert_cmpuint(used_idx(h, &f->tx), ==, 1); /* the first went back, refused */
    g_assert_cmpuint(stats(f).rx_backlog, ==, 3);

    snap_pause(h);
    twin_init(&t, f);
    save_load(f, &t);
    g_assert_cmpuint(stats(&t).rx_backlog, ==, 3);
    ack(&t.h);
    snap_resume(&t.h);
    g_assert_cmpuint(tb_n_sent(t.tb), ==, 2);
    make_frame(frame, 70, 70);
    assert_sent(&t, 0, frame, 70);
    make_frame(frame, 71, 71);
    assert_sent(&t, 1, frame, 71);
    g_assert_cmpuint(used_idx(&t.h, &t.tx), ==, 2);
    rx_post(&t, 4, RX_BUF_SIZE);
    for (unsigned i = 0; i < 3; i++) {
        make_frame(frame, sizeof frame, (guint8)i);
        p = rx_take(&t, &len);
        g_assert_nonnull(p);
        assert_packet(p, len, frame, sizeof frame - i);
    }
    g_assert_null(rx_take(&t, &len));
    g_usleep(700 * 1000); /* longer than the link stays down */
    g_assert_false(isr(&t.h) & VIREO_VIRTIO_ISR_CONFIG);
    harness_clear(&t.h);
    snap_resume(h);
}

/* Bad values in the card's part are refused and change nothing. */
static void test_snapshot_hostile(NetFixture *f, gconstpointer data)
{
    Harness *h = &f->h;
    const gsize m = SNAP_OFF_MODEL(2);
    g_autoptr(GBytes) good = NULL;
    g_autoptr(GByteArray) big = g_byte_array_new();
    g_autoptr(GBytes) bad = NULL;
    g_autofree guint8 *jumbo = g_malloc0(VIREO_NET_MAX_FRAME);
    guint8 frame[100];
    const guint8 *p;
    gsize len;
    uint32_t v;

    net_start(f, NET_FEATURES | T_ALL_TRANSPORT);
    make_frame(frame, sizeof frame, 0);
    vireo_net_backend_deliver(f->backend, frame, sizeof frame);
    snap_pause(h);
    good = snap_save(h);
    p = g_bytes_get_data(good, &len);
    /* version, MAC, link, no frame refused, one frame waiting */
    g_assert_cmpuint(len, ==, m + 4 + 6 + 2 + 1 + 4 + 4 + sizeof frame);

    bad = snap_patch_u32(good, m, 2);
    snap_assert_refused(h, bad, "network card's layout version");
    g_clear_pointer(&bad, g_bytes_unref);
    bad = snap_patch_u8(good, m + 4, 0x03);
    snap_assert_refused(h, bad, "not a unicast address");
    g_clear_pointer(&bad, g_bytes_unref);
    bad = snap_patch(good, m + 4, "\0\0\0\0\0\0", 6);
    snap_assert_refused(h, bad, "not a unicast address");
    g_clear_pointer(&bad, g_bytes_unref);
    bad = snap_patch_u16(good, m + 10, 3);
    snap_assert_refused(h, bad, "link status");
    g_clear_pointer(&bad, g_bytes_unref);
    bad = snap_patch_u32(good, m + 13, VIREO_VIRTIO_NET_RX_BACKLOG + 1);
    snap_assert_refused(h, bad, "frames wait");
    g_clear_pointer(&bad, g_bytes_unref);
    bad = snap_patch_u32(good, m + 17, 13);
    snap_assert_refused(h, bad, "not an Ethernet frame");
    g_clear_pointer(&bad, g_bytes_unref);
    bad = snap_patch_u32(good, m + 17, 101);
    snap_assert_refused(h, bad, "ends 1 bytes early");
    g_clear_pointer(&bad, g_bytes_unref);
    /* A refused frame that is not one. */
    bad = snap_patch_u8(good, m + 12, 1);
    snap_assert_refused(h, bad, "not an Ethernet frame");
    g_clear_pointer(&bad, g_bytes_unref);
    snap_assert_truncations_refused(h, good, 1);

    /* 64 frames of the largest size: more bytes than the backlog holds. */
    g_byte_array_append(big, p, (guint)(m + 13));
    v = GUINT32_TO_LE(64);
    g_byte_array_append(big, (const guint8 *)&v, 4);
    for (unsigned i = 0; i < 64; i++) {
        v = GUINT32_TO_LE(VIREO_NET_MAX_FRAME);
        g_byte_array_append(big, (const guint8 *)&v, 4);
        g_byte_array_append(big, jumbo, VIREO_NET_MAX_FRAME);
    }
    bad = g_bytes_new(big->data, big->len);
    snap_assert_refused(h, bad, "hold more than");

    snap_resume(h);
    rx_post(f, 1, RX_BUF_SIZE);
    g_assert_cmpuint(used_idx(h, &f->rx), ==, 1);
}

/* A paused card's user network reads nothing from the host: a connection
 * to a forwarded port reaches the guest only once the card resumes. */
static void test_user_pause(void)
{
    NetFixture f;
    guint8 host_mac[6];
    uint16_t port = free_port();
    g_autofree char *spec = g_strdup_printf("user,hostfwd=tcp:127.0.0.1:%u-:22", port);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    uint16_t used;
    int s;

    user_init(&f, spec);
    arp_host(&f, host_mac);
    snap_pause(&f.h);
    used = used_idx(&f.h, &f.rx);
    s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    g_assert_cmpint(s, >=, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    g_assert_true(connect(s, (struct sockaddr *)&a, sizeof a) == 0 || errno == EINPROGRESS);
    g_usleep(300 * 1000);
    g_assert_cmpuint(used_idx(&f.h, &f.rx), ==, used);
    g_assert_cmpuint(stats(&f).rx_backlog, ==, 0);
    snap_resume(&f.h);
    g_assert_true(guest_wait(&f, is_tcp_to_22, NULL, NULL, NULL));
    close(s);
    harness_clear(&f.h);
}

/* Forwards that cannot be set up: a port already bound. */
static void test_user_hostfwd_busy(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VireoNetConfig) config = NULL;
    uint16_t port;
    int s = listen_loopback(&port);
    g_autofree char *spec = g_strdup_printf("user,hostfwd=tcp:127.0.0.1:%u-:22", port);

    config = vireo_net_config_parse(spec, &error);
    g_assert_no_error(error);
    g_assert_null(vireo_net_slirp_new(config, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_IO);
    g_assert_nonnull(strstr(error->message, "Cannot forward host TCP port 127.0.0.1:"));
    close(s);
}

/* ---- Configuration -------------------------------------------------------- */

static void test_config_parse(void)
{
    static const char *const bad[] = {
        "",
        "slirp",
        "user,",
        "user,foo=1",
        "none,mac=02:00:00:00:00:01",
        "tap",
        "tap=",
        "tap=a/b",
        "tap=0123456789abcdef",
        "tap=x,hostfwd=tcp::1-:2",
        "user,mac=01:00:00:00:00:01",
        "user,mac=00:00:00:00:00:00",
        "user,mac=02:00:00:00:00",
        "user,mac=02:00:00:00:00:0g",
        "user,mac=02:00:00:00:00:011",
        "user,hostfwd=2222-:22",
        "user,hostfwd=tcp:2222-:22",
        "user,hostfwd=sctp::2222-:22",
        "user,hostfwd=tcp::2222",
        "user,hostfwd=tcp::0-:22",
        "user,hostfwd=tcp::65536-:22",
        "user,hostfwd=tcp::2222-:",
        "user,hostfwd=tcp:localhost:2222-:22",
        "user,hostfwd=tcp::2222-10.0.3.15:22",
        "user,hostfwd=tcp::2222-10.0.2.2:22",
        "user,hostfwd=tcp::2222-10.0.2.255:22",
        "user,hostfwd=tcp::+22-:22",
    };
    g_autoptr(GError) error = NULL;
    VireoNetConfig *c;
    GString *many = g_string_new("user");

    for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
        c = vireo_net_config_parse(bad[i], &error);
        if (c != NULL) {
            g_error("“%s” was accepted", bad[i]);
        }
        g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
        g_clear_error(&error);
    }

    c = vireo_net_config_parse("none", &error);
    g_assert_no_error(error);
    g_assert_cmpint(c->kind, ==, VIREO_NET_NONE);
    vireo_net_config_free(c);

    c = vireo_net_config_parse("user", &error);
    g_assert_no_error(error);
    g_assert_cmpint(c->kind, ==, VIREO_NET_USER);
    g_assert_cmpmem(c->mac, 6, guest_mac, 6);
    g_assert_cmpuint(c->n_hostfwd, ==, 0);
    vireo_net_config_free(c);

    c = vireo_net_config_parse("user,hostfwd=tcp:127.0.0.1:2222-:22,mac=0a:BB:cc:00:11:22,"
                               "hostfwd=udp::5353-10.0.2.15:53,hostfwd=::8080-10.0.2.20:80",
                               &error);
    g_assert_no_error(error);
    g_assert_cmpuint(c->n_hostfwd, ==, 3);
    g_assert_false(c->hostfwd[0].udp);
    g_assert_cmphex(c->hostfwd[0].host_addr, ==, ip4("127.0.0.1"));
    g_assert_cmpuint(c->hostfwd[0].host_port, ==, 2222);
    g_assert_cmphex(c->hostfwd[0].guest_addr, ==, 0);
    g_assert_cmpuint(c->hostfwd[0].guest_port, ==, 22);
    g_assert_true(c->hostfwd[1].udp);
    g_assert_cmphex(c->hostfwd[1].host_addr, ==, 0);
    g_assert_cmphex(c->hostfwd[1].guest_addr, ==, ip4("10.0.2.15"));
    g_assert_false(c->hostfwd[2].udp);
    g_assert_cmphex(c->hostfwd[2].guest_addr, ==, ip4("10.0.2.20"));
    g_assert_cmpuint(c->hostfwd[2].guest_port, ==, 80);
    g_assert_cmpmem(c->mac, 6, ((const guint8[]){ 0x0a, 0xbb, 0xcc, 0x00, 0x11, 0x22 }), 6);
    vireo_net_config_free(c);

    c = vireo_net_config_parse("tap=vireo0,mac=02:00:00:00:00:07", &error);
    g_assert_no_error(error);
    g_assert_cmpint(c->kind, ==, VIREO_NET_TAP);
    g_assert_cmpstr(c->tap, ==, "vireo0");
    g_assert_cmphex(c->mac[5], ==, 7);
    vireo_net_config_free(c);

    /* At most VIREO_NET_MAX_FWD forwards. */
    for (unsigned i = 0; i < VIREO_NET_MAX_FWD; i++) {
        g_string_append_printf(many, ",hostfwd=tcp::%u-:22", 20000 + i);
    }
    c = vireo_net_config_parse(many->str, &error);
    g_assert_no_error(error);
    vireo_net_config_free(c);
    g_string_append(many, ",hostfwd=tcp::30000-:22");
    g_assert_null(vireo_net_config_parse(many->str, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    g_string_free(many, TRUE);

    g_clear_error(&error);
    g_assert_null(vireo_net_backend_new(&(VireoNetConfig){ .kind = VIREO_NET_NONE }, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
}

/* ---- TAP ------------------------------------------------------------------ */

static void test_tap_bad_name(void)
{
    g_autoptr(GError) error = NULL;

    g_assert_null(vireo_net_tap_new("", &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
    g_clear_error(&error);
    g_assert_null(vireo_net_tap_new("0123456789abcdef", &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);
}

/* Whether this process may make a network namespace and open
 * /dev/net/tun in it (tried in a child, so that nothing here changes). */
static bool can_use_tap(void)
{
    pid_t pid = fork();
    int st;

    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        int fd;
        if (unshare(CLONE_NEWNET) != 0) {
            _exit(1);
        }
        fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
        _exit(fd >= 0 ? 0 : 1);
    }
    g_assert_cmpint(waitpid(pid, &st, 0), ==, pid);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Without /dev/net/tun: where this process may open it, in a mount
 * namespace whose /dev/net is an empty tmpfs; elsewhere as it is. */
static void test_tap_no_tun(void)
{
    g_autoptr(GError) error = NULL;
    int fd;

    if (g_test_subprocess()) {
        if (unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0) {
            g_assert_cmpint(mount("none", "/dev/net", "tmpfs", 0, NULL), ==, 0);
        }
        g_assert_null(vireo_net_tap_new("vireo-tap0", &error));
        g_assert_error(error, VIREO_ERROR, VIREO_ERROR_IO);
        g_assert_nonnull(strstr(error->message, "Cannot open /dev/net/tun"));
        g_assert_nonnull(strstr(error->message, "vireo-tap0"));
        return;
    }
    fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        /* The real situation of an unprivileged user. */
        g_assert_null(vireo_net_tap_new("vireo-tap0", &error));
        g_assert_error(error, VIREO_ERROR, VIREO_ERROR_IO);
        g_assert_nonnull(strstr(error->message, "Cannot open /dev/net/tun"));
        return;
    }
    close(fd);
    if (!can_use_tap()) {
        g_test_skip("no mount namespace to hide /dev/net/tun in");
        return;
    }
    g_test_trap_subprocess(NULL, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
}

static void ifreq_addr(struct ifreq *ifr, const char *dotted)
{
    struct sockaddr_in *in = (struct sockaddr_in *)(void *)&ifr->ifr_addr;

    memset(in, 0, sizeof *in);
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = ip4(dotted);
}

static bool is_arp_reply_from_tap(const Frame *fr, void *data)
{
    return fr->type == ETH_P_ARP && fr->arp_op == 2 && fr->arp_spa == ip4("10.9.0.1");
}

typedef struct {
    uint16_t dport;
    const char *payload;
} UdpMatch;

static bool is_udp(const Frame *fr, void *data)
{
    UdpMatch *m = data;
    gsize n = strlen(m->payload);

    return fr->proto == IPPROTO_UDP_ && fr->dport == m->dport && fr->l4_len == 8 + n &&
           memcmp(fr->l4 + 8, m->payload, n) == 0;
}

/* The TAP interface vireo-tap0 in a network namespace of the test's own,
 * with 10.9.0.1/24 on the host side; the guest is 10.9.0.2. */
static void tap_child(void)
{
    g_autoptr(GError) error = NULL;
    NetFixture f;
    VireoNetBackend *backend;
    struct ifreq ifr;
    int ctl, udp, tun;
    guint8 host_mac[6], frame[RX_BUF_SIZE];
    gsize len;
    Frame fr;
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t alen = sizeof a;
    char got[64];
    UdpMatch m = { 5000, "from the host" };
    struct pollfd pfd;
    static const guint8 zero[6] = { 0 };

    g_assert_cmpint(unshare(CLONE_NEWNET), ==, 0);
    backend = vireo_net_tap_new("vireo-tap0", &error);
    g_assert_no_error(error);
    fixture_init(&f, backend);
    f.guest_ip = ip4("10.9.0.2");
    net_start(&f, NET_FEATURES | T_ALL_TRANSPORT);
    rx_post(&f, Q_SIZE, RX_BUF_SIZE);

    /* The host's side: address, netmask, up. */
    ctl = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(ctl, >=, 0);
    memset(&ifr, 0, sizeof ifr);
    g_strlcpy(ifr.ifr_name, "vireo-tap0", sizeof ifr.ifr_name);
    ifreq_addr(&ifr, "10.9.0.1");
    g_assert_cmpint(ioctl(ctl, SIOCSIFADDR, &ifr), ==, 0);
    ifreq_addr(&ifr, "255.255.255.0");
    g_assert_cmpint(ioctl(ctl, SIOCSIFNETMASK, &ifr), ==, 0);
    g_assert_cmpint(ioctl(ctl, SIOCGIFFLAGS, &ifr), ==, 0);
    ifr.ifr_flags |= IFF_UP;
    g_assert_cmpint(ioctl(ctl, SIOCSIFFLAGS, &ifr), ==, 0);

    /* Guest to kernel and back: ARP. */
    memset(frame, 0, 64);
    arp_frame(frame, broadcast_mac, 1, guest_mac, f.guest_ip, zero, ip4("10.9.0.1"));
    guest_send(&f, frame, 64);
    g_assert_true(guest_wait(&f, is_arp_reply_from_tap, NULL, frame, &len));
    g_assert_true(parse_frame(frame, len, &fr));
    g_assert_cmpmem(fr.arp_tha, 6, guest_mac, 6);
    memcpy(host_mac, fr.arp_sha, 6);

    /* Host to guest: a datagram to 10.9.0.2:5000. */
    udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(udp, >=, 0);
    a.sin_addr.s_addr = ip4("10.9.0.1");
    g_assert_cmpint(bind(udp, (struct sockaddr *)&a, sizeof a), ==, 0);
    g_assert_cmpint(getsockname(udp, (struct sockaddr *)&a, &alen), ==, 0);
    {
        struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(5000) };
        to.sin_addr.s_addr = f.guest_ip;
        g_assert_cmpint(
            sendto(udp, m.payload, strlen(m.payload), 0, (struct sockaddr *)&to, sizeof to), ==,
            (ssize_t)strlen(m.payload));
    }
    g_assert_true(guest_wait(&f, is_udp, &m, NULL, NULL));

    /* A paused card reads nothing from the interface: a datagram sent
     * meanwhile arrives once it resumes. */
    {
        UdpMatch later = { 5000, "while paused" };
        struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(5000) };
        uint16_t used;

        snap_pause(&f.h);
        used = used_idx(&f.h, &f.rx);
        to.sin_addr.s_addr = f.guest_ip;
        g_assert_cmpint(
            sendto(udp, later.payload, strlen(later.payload), 0, (struct sockaddr *)&to, sizeof to),
            ==, (ssize_t)strlen(later.payload));
        g_usleep(200 * 1000);
        g_assert_cmpuint(used_idx(&f.h, &f.rx), ==, used);
        g_assert_cmpuint(stats(&f).rx_backlog, ==, 0);
        snap_resume(&f.h);
        g_assert_true(guest_wait(&f, is_udp, &later, NULL, NULL));
    }

    /* Guest to host: a datagram to the socket. */
    len = udp_frame(frame, host_mac, f.guest_ip, 5001, ip4("10.9.0.1"), ntohs(a.sin_port),
                    "from the guest", 14);
    guest_send(&f, frame, MAX(len, (gsize)60));
    pfd = (struct pollfd){ .fd = udp, .events = POLLIN };
    g_assert_cmpint(poll(&pfd, 1, 5000), ==, 1);
    g_assert_cmpint(recv(udp, got, sizeof got, 0), ==, 14);
    g_assert_cmpmem(got, 14, "from the guest", 14);

    /* An interface that is a TUN device, not a TAP one: a clear error. */
    tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    g_assert_cmpint(tun, >=, 0);
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    g_strlcpy(ifr.ifr_name, "vireo-tun0", sizeof ifr.ifr_name);
    g_assert_cmpint(ioctl(tun, TUNSETIFF, &ifr), ==, 0);
    g_assert_null(vireo_net_tap_new("vireo-tun0", &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_IO);
    g_assert_nonnull(strstr(error->message, "Cannot attach to the TAP interface “vireo-tun0”"));

    close(tun);
    close(udp);
    close(ctl);
    harness_clear(&f.h);
}

static void test_tap_real(void)
{
    if (g_test_subprocess()) {
        tap_child();
        return;
    }
    if (!can_use_tap()) {
        g_test_skip("this process may not make a network namespace with a TAP interface");
        return;
    }
    g_test_trap_subprocess(NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
}

/* ---- The board ------------------------------------------------------------- */

static void test_board(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("vireo-net-XXXXXX", &error);
    g_autofree char *kernel = g_build_filename(dir, "kernel.bin", NULL);
    g_autoptr(VireoNetConfig) net = vireo_net_config_parse("user", &error);
    g_autoptr(VireoNetConfig) none = vireo_net_config_parse("none", &error);
    VireoVirtDisk disks[6];
    VireoVirtConfig c = {
        .ram_size = 64ull << 20,
        .n_harts = 1,
        .kernel = kernel,
        .net = net,
    };
    VireoVirt *board = NULL;
    VireoMachine *m;
    uint64_t v = 0;
    const void *fdt;
    int node;

    g_assert_no_error(error);
    g_assert_true(g_file_set_contents(kernel, "\x73\x00\x50\x10", 4, &error));

    m = vireo_virt_new(&c, &board, &error);
    g_assert_no_error(error);
    g_assert_nonnull(vireo_virt_get_virtio_net(board));
    g_assert_true(vireo_virt_get_virtio(board, VIREO_VIRT_NET_SLOT) ==
                  vireo_virt_get_virtio_net(board));
    g_assert_true(vireo_bus_read(
        vireo_machine_bus(m),
        vireo_virt_virtio_base(VIREO_VIRT_NET_SLOT) + VIREO_VIRTIO_MMIO_DEVICE_ID, 4, &v));
    g_assert_cmpuint(v, ==, VIREO_VIRTIO_ID_NET);
    fdt = g_bytes_get_data(vireo_virt_boot_get_fdt(vireo_virt_get_boot(board)), NULL);
    node = fdt_path_offset(fdt, "/soc/virtio_mmio@10003000");
    g_assert_cmpint(node, >=, 0);
    g_assert_cmpuint(fdt32_ld(fdt_getprop(fdt, node, "interrupts", NULL)), ==, 3);
    vireo_machine_free(m);

    /* None: no card, no node. */
    c.net = none;
    m = vireo_virt_new(&c, &board, &error);
    g_assert_no_error(error);
    g_assert_null(vireo_virt_get_virtio_net(board));
    fdt = g_bytes_get_data(vireo_virt_boot_get_fdt(vireo_virt_get_boot(board)), NULL);
    g_assert_cmpint(fdt_path_offset(fdt, "/soc/virtio_mmio@10003000"), <, 0);
    vireo_machine_free(m);

    /* Six disks leave no slot for the card. */
    for (unsigned i = 0; i < 6; i++) {
        disks[i] = (VireoVirtDisk){ kernel, true };
    }
    c.net = net;
    c.disks = disks;
    c.n_disks = 6;
    g_assert_null(vireo_virt_new(&c, &board, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_CONFIG);

    g_unlink(kernel);
    g_rmdir(dir);
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
#define NET_TEST(path, func) \
    g_test_add("/virtio-net/" path, NetFixture, NULL, net_setup, func, net_teardown)
    NET_TEST("config", test_config);
    NET_TEST("tx", test_tx);
    NET_TEST("tx-dropped", test_tx_dropped);
    NET_TEST("tx-malformed", test_tx_malformed);
    NET_TEST("tx-backpressure", test_tx_backpressure);
    NET_TEST("rx", test_rx);
    NET_TEST("rx-backlog", test_rx_backlog);
    NET_TEST("rx-small-buffers", test_rx_small_buffers);
    NET_TEST("reset", test_reset);
    NET_TEST("reset-in-flight", test_reset_in_flight);
    NET_TEST("rx-queue-disabled", test_rx_queue_disabled);
    NET_TEST("snapshot/held-rx", test_snapshot_held_rx);
    NET_TEST("snapshot/backlog-tx", test_snapshot_backlog_tx);
    NET_TEST("snapshot/hostile", test_snapshot_hostile);
    g_test_add_func("/virtio-net/board", test_board);
    g_test_add_func("/net/config", test_config_parse);
    g_test_add_func("/net/user/dhcp", test_user_dhcp);
    g_test_add_func("/net/user/arp", test_user_arp);
    g_test_add_func("/net/user/tcp", test_user_tcp);
    g_test_add_func("/net/user/hostfwd", test_user_hostfwd);
    g_test_add_func("/net/user/hostfwd-busy", test_user_hostfwd_busy);
    g_test_add_func("/net/user/pause", test_user_pause);
    g_test_add_func("/net/tap/bad-name", test_tap_bad_name);
    g_test_add_func("/net/tap/no-tun", test_tap_no_tun);
    g_test_add_func("/net/tap/real", test_tap_real);
    return g_test_run();
}

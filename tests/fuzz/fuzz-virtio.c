/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Every virtio device model driven by a hostile driver: the input is a
 * program for the guest side. Each device is the real model behind the
 * real virtio-mmio transport on a bus with RAM (tests/devices/
 * virtio-driver.h plays the guest's register accesses): a disk on a
 * temporary raw image (writable, and read-only), the network card on a
 * back end without a network, the console, the entropy device, the
 * keyboard, the tablet and the GPU (2D). The driver negotiates the
 * features the input chooses, lays out queues, builds descriptor chains
 * (direct, indirect, with hostile `next` fields, flags, addresses inside and
 * outside RAM, lengths) filled with the input's bytes, notifies, reads and
 * writes the configuration space, resets the device or single queues,
 * and plays the host side (frames from the network, console input, keys
 * and pointer motions, display size requests).
 *
 * After every step that lets the device work, the target waits until the
 * device took every chain it was given (a device that takes longer than
 * five seconds is stuck: a finding), then checks:
 *
 *   - every used element names a chain the driver made available and has
 *     not had back, that chain is well formed, and its length is at most
 *     the chain's writable bytes; the device's answer has the form its
 *     specification gives (a status byte, a response header, an event);
 *   - the device wrote nothing but the used rings and the writable buffers
 *     of chains it was given: the descriptor tables, available rings and
 *     indirect tables, and every other byte of RAM, are as the driver left
 *     them;
 *   - the interrupt line follows the interrupt status;
 *   - a reset clears the status, the interrupt status and every queue, and
 *     the device then serves a plain request correctly (checked at the end
 *     of every input).
 *
 * Input: byte 0 picks the device (below), then the initialization (the
 * features, each queue's size, whether the queue areas are valid and when
 * DRIVER_OK comes), then operations until the input ends; op_* below say
 * what each reads. Devices, their bus and RAM live across inputs; every
 * input starts with a reset and ends with one.
 */
#include "config.h"

#define T_RAM_SIZE (256ull << 10)
#include "virtio-driver.h"

#include "devices/net.h"
#include "devices/virtio-blk.h"
#include "devices/virtio-console.h"
#include "devices/virtio-gpu.h"
#include "devices/virtio-input.h"
#include "devices/virtio-net.h"
#include "devices/virtio-rng.h"
#include "engine/ring.h"

#include <errno.h>
#include <linux/input-event-codes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* RAM, as offsets from T_RAM_BASE: the areas of queue 0 and 1 (descriptor
 * table, available ring, used ring: 4 KiB each, enough for 256 entries),
 * indirect tables, and data buffers up to the end. */
#define Q_DESC(q)   (0x4000u * (q))
#define Q_AVAIL(q)  (0x4000u * (q) + 0x1000u)
#define Q_USED(q)   (0x4000u * (q) + 0x2000u)
#define IND_OFF     0x8000u
#define IND_SLOT    0x400u /* one table: up to 64 entries */
#define IND_TABLES  15     /* tables for chains; one more, fixed, after them */
#define IND_FIXED   (IND_OFF + IND_TABLES * IND_SLOT)
#define DATA_OFF    0x10000u
#define DATA_SIZE   ((uint32_t)(T_RAM_SIZE - DATA_OFF))
#define RAM_PAGES   (T_RAM_SIZE / VIREO_PAGE_SIZE)
#define MAX_QUEUES  2
#define QUEUE_CAP   256   /* the areas' room */
#define MAX_CHAIN   16    /* descriptors one operation builds */
#define STAMPS      65536 /* chains whose stamp says which they were */
#define MAX_BUFS    (VIREO_VIRTQ_MAX_INDIRECT + 1)
#define MAX_OPS     256
#define WAIT_MS     5000
#define IMAGE_SIZE  (64u * 1024)
#define CONSOLE_CAP 4096

#define DESC_SIZE 16
#define F_NEXT    VIREO_VIRTQ_DESC_F_NEXT
#define F_WRITE   VIREO_VIRTQ_DESC_F_WRITE
#define F_IND     VIREO_VIRTQ_DESC_F_INDIRECT

typedef enum {
    D_BLK,
    D_BLK_RO,
    D_NET,
    D_CONSOLE,
    D_RNG,
    D_KEYBOARD,
    D_TABLET,
    D_GPU,
    N_KINDS,
} Kind;

static const char *const kind_names[N_KINDS] = {
    "virtio-blk",
    "virtio-blk (read-only)",
    "virtio-net",
    "virtio-console",
    "virtio-rng",
    "virtio-input (keyboard)",
    "virtio-input (tablet)",
    "virtio-gpu",
};

/* A network back end with nothing behind it: it counts what the device
 * sends and refuses frames while `full`. Frames from the network come from
 * the target itself. */
typedef struct {
    VireoNetBackend base;
    bool full;
    uint64_t sent;
} NullNet;

typedef struct {
    Kind kind;
    Harness h;
    unsigned n_queues;
    int image_fd; /* the writable disk's image, to empty it between inputs */
    VireoRing *ring;
    NullNet *net;
    int presenter; /* the GPU's first output has a presenter */
} Dev;

typedef struct {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
} Desc;

typedef struct {
    uint64_t addr;
    uint32_t len;
    bool write;
} Buf;

typedef struct {
    TestQueue tq;
    bool ready;           /* enabled, as the driver knows */
    uint16_t seen;        /* used elements checked */
    uint16_t target;      /* the available index at the last notification */
    unsigned outstanding; /* chains made available and not used yet */
    bool pending[QUEUE_CAP];
    uint32_t stamp[QUEUE_CAP]; /* the stamp of each pending chain */
} Queue;

typedef struct {
    const uint8_t *p;
    size_t left;
} Input;

static struct {
    Dev *devs[N_KINDS];
    Dev *d;
    Input in;
    uint64_t features;
    Queue q[MAX_QUEUES];
    int table_owner[IND_TABLES]; /* queue * QUEUE_CAP + head, or -1 */
    unsigned rng_mode;
    guint8 *ram;
    uint64_t dirty;              /* pages the driver or the device may have written */
    guint8 shadow[T_RAM_SIZE];   /* RAM as the driver wrote it */
    guint8 writable[T_RAM_SIZE]; /* bytes a device-writable buffer covers */
    /* Which chain a byte's answer belongs to: the stamp of the last chain
     * made available with a writable buffer over it, 0 once the driver
     * wrote it, with SHARED set where the device may write it for another
     * chain after this one. Answers are checked where the chain alone owns
     * them. */
    uint32_t owner[T_RAM_SIZE];
    uint32_t next_stamp;
    uint16_t stamp_chain[STAMPS]; /* a recent stamp's queue * QUEUE_CAP + head */
    Buf bufs[MAX_BUFS];
    guint8 console[64]; /* the console's output */
    size_t console_len;
} F;

G_STATIC_ASSERT(RAM_PAGES <= 64);

/* In F.owner: the byte's answer is not the chain's alone (stamps stay below
 * this bit). */
#define SHARED 0x80000000u

/* The queue of the chain made available with `stamp` (SHARED aside) while
 * it waits for the device (or for the driver to see it used), else -1. */
static int stamp_pending_queue(uint32_t stamp)
{
    unsigned qi, head;

    stamp &= ~SHARED;
    if (stamp == 0 || F.next_stamp - stamp >= STAMPS) {
        return -1;
    }
    qi = F.stamp_chain[stamp % STAMPS] / QUEUE_CAP;
    head = F.stamp_chain[stamp % STAMPS] % QUEUE_CAP;
    return F.q[qi].pending[head] && F.q[qi].stamp[head] == stamp ? (int)qi : -1;
}

static void fail(const char *fmt, ...) G_GNUC_PRINTF(1, 2) G_GNUC_NORETURN;

static void fail(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "fuzz-virtio: %s: ", kind_names[F.d->kind]);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

/* ---- input -------------------------------------------------------------- */

static uint8_t in8(void)
{
    if (F.in.left == 0) {
        return 0;
    }
    F.in.left--;
    return *F.in.p++;
}

/* Little-endian numbers. */
static uint16_t in16(void)
{
    uint16_t lo = in8();
    return (uint16_t)(lo | in8() << 8);
}

static uint32_t in32(void)
{
    uint32_t lo = in16();
    return lo | (uint32_t)in16() << 16;
}

static uint64_t in64(void)
{
    uint64_t lo = in32();
    return lo | (uint64_t)in32() << 32;
}

/* ---- guest memory as the driver writes it ------------------------------- */

static void mark_dirty(uint64_t off, uint64_t len)
{
    for (uint64_t p = off / VIREO_PAGE_SIZE; p <= (off + len - 1) / VIREO_PAGE_SIZE; p++) {
        F.dirty |= 1ull << p;
    }
}

/* Writes RAM at `off` and the driver's copy of it. */
static void ram_write(uint32_t off, const void *data, size_t len)
{
    if (len == 0) {
        return;
    }
    g_assert(off <= T_RAM_SIZE && len <= T_RAM_SIZE - off);
    memcpy(F.ram + off, data, len);
    memcpy(F.shadow + off, data, len);
    memset(F.owner + off, 0, len * sizeof F.owner[0]);
    mark_dirty(off, len);
}

static void ram_clear(uint32_t off, size_t len)
{
    g_assert(off <= T_RAM_SIZE && len <= T_RAM_SIZE - off);
    memset(F.ram + off, 0, len);
    memset(F.shadow + off, 0, len);
    memset(F.owner + off, 0, len * sizeof F.owner[0]);
    mark_dirty(off, len);
}

/* The RAM offset of [addr, addr + len), or -1 when it is not wholly RAM. */
static int64_t ram_off(uint64_t addr, uint64_t len)
{
    if (addr < T_RAM_BASE || addr - T_RAM_BASE > T_RAM_SIZE ||
        len > T_RAM_SIZE - (addr - T_RAM_BASE)) {
        return -1;
    }
    return (int64_t)(addr - T_RAM_BASE);
}

/* The part of [addr, addr + len) in RAM may be written by the device. */
static void allow_write(uint64_t addr, uint64_t len)
{
    uint64_t start = MAX(addr, T_RAM_BASE);
    uint64_t end = addr + len < addr ? UINT64_MAX : addr + len;

    end = MIN(end, T_RAM_BASE + T_RAM_SIZE);
    if (start < end) {
        memset(F.writable + (start - T_RAM_BASE), 1, end - start);
        mark_dirty(start - T_RAM_BASE, end - start);
    }
}

static void put_desc(uint32_t off, const Desc *d)
{
    guint8 raw[DESC_SIZE];

    put64le(raw, d->addr);
    put32le(raw + 8, d->len);
    put16(raw + 12, d->flags);
    put16(raw + 14, d->next);
    ram_write(off, raw, sizeof raw);
    if ((d->flags & (F_WRITE | F_IND)) == F_WRITE) {
        allow_write(d->addr, d->len);
    }
}

static bool get_desc(uint64_t addr, Desc *d)
{
    int64_t off = ram_off(addr, DESC_SIZE);

    if (off < 0) {
        return false;
    }
    d->addr = get32le(F.shadow + off) | (uint64_t)get32le(F.shadow + off + 4) << 32;
    d->len = get32le(F.shadow + off + 8);
    d->flags = get16(F.shadow + off + 12);
    d->next = get16(F.shadow + off + 14);
    return true;
}

/* ---- the chains' shape, as the specification has it ---------------------- */

/* Follows the chain at `head` through the driver's copy of the tables
 * (virtio 1.2, 2.7.5 and docs/VIRTIO.md's rules); returns the number of
 * buffers, put in F.bufs, or -1 for a chain a device must refuse. */
static int walk(Queue *q, uint16_t head)
{
    uint64_t table = q->tq.desc;
    uint32_t size = q->tq.num, index = head, count = 0;
    bool indirect = false, wrote = false;
    int n = 0;

    for (;;) {
        Desc d;

        if (index >= size || ++count > size || !get_desc(table + (uint64_t)DESC_SIZE * index, &d)) {
            return -1;
        }
        if (d.flags & F_IND) {
            if (!(F.features & (1ull << VIREO_VIRTIO_F_INDIRECT_DESC)) || indirect || count != 1 ||
                (d.flags & F_NEXT) || d.len == 0 || d.len % DESC_SIZE != 0 ||
                d.len / DESC_SIZE > VIREO_VIRTQ_MAX_INDIRECT || ram_off(d.addr, d.len) < 0) {
                return -1;
            }
            table = d.addr;
            size = d.len / DESC_SIZE;
            indirect = true;
            count = 0;
            index = 0;
            continue;
        }
        if (d.len == 0 || ram_off(d.addr, d.len) < 0 || (wrote && !(d.flags & F_WRITE)) ||
            n == MAX_BUFS) {
            return -1;
        }
        wrote = (d.flags & F_WRITE) != 0;
        F.bufs[n++] = (Buf){ d.addr, d.len, wrote };
        if (!(d.flags & F_NEXT)) {
            return n;
        }
        index = d.next;
    }
}

/* Copies up to `len` bytes from the start of the writable part of the
 * chain in F.bufs (n buffers) out of RAM; returns how many, or 0 when a
 * later chain or the driver claimed any of them since the chain with
 * `stamp` was made available (its answer may be gone). */
static size_t gather_in(int n, uint32_t stamp, guint8 *out, size_t len)
{
    size_t done = 0;

    for (int i = 0; i < n && done < len; i++) {
        int64_t off;
        size_t k;
        if (!F.bufs[i].write) {
            continue;
        }
        off = ram_off(F.bufs[i].addr, F.bufs[i].len);
        k = MIN(len - done, (size_t)F.bufs[i].len);
        for (size_t j = 0; j < k; j++) {
            if (F.owner[off + j] != stamp) {
                return 0;
            }
        }
        memcpy(out + done, F.ram + off, k);
        done += k;
    }
    return done;
}

/* ---- devices ------------------------------------------------------------- */

static bool net_send(VireoNetBackend *backend, const guint8 *frame, gsize len)
{
    NullNet *n = (NullNet *)backend;

    if (len < VIREO_NET_MIN_FRAME || len > VIREO_NET_MAX_FRAME) {
        fail("a frame of %zu bytes reached the back end", (size_t)len);
    }
    if (n->full) {
        return false;
    }
    n->sent++;
    return true;
}

static void net_free(VireoNetBackend *backend)
{
    g_free(backend);
}

static const VireoNetBackendOps null_net_ops = {
    .name = "fuzz",
    .send = net_send,
    .free = net_free,
};

/* Deterministic entropy that can also run short or fail. */
static gssize entropy(void *opaque, guint8 *buf, gsize len)
{
    switch (F.rng_mode) {
    case 1: len = MIN(len, (gsize)3); break;
    case 2: return -EIO;
    case 3: return 0;
    default: break;
    }
    memset(buf, 0x5a, len);
    return (gssize)len;
}

/* A raw image of IMAGE_SIZE bytes in a temporary file, already unlinked;
 * *fd keeps it open for the target. */
static VireoBlock *open_image(bool read_only, int *fd)
{
    g_autoptr(GError) error = NULL;
    const char *dir = g_file_test("/dev/shm", G_FILE_TEST_IS_DIR) && access("/dev/shm", W_OK) == 0
                          ? "/dev/shm"
                          : g_get_tmp_dir();
    g_autofree char *path = g_build_filename(dir, "vireo-fuzz-XXXXXX", NULL);
    VireoBlock *block;

    *fd = g_mkstemp(path);
    if (*fd < 0 || ftruncate(*fd, IMAGE_SIZE) != 0) {
        fprintf(stderr, "fuzz-virtio: cannot make an image in %s: %s\n", dir, g_strerror(errno));
        abort();
    }
    if (read_only) {
        guint8 sector[512];
        for (unsigned i = 0; i < IMAGE_SIZE / sizeof sector; i++) {
            memset(sector, (int)i, sizeof sector);
            if (pwrite(*fd, sector, sizeof sector, (off_t)i * sizeof sector) != sizeof sector) {
                abort();
            }
        }
    }
    block = vireo_block_open(path, read_only, &error);
    unlink(path);
    if (block == NULL) {
        fprintf(stderr, "fuzz-virtio: %s\n", error->message);
        abort();
    }
    return block;
}

static Dev *dev_new(Kind kind)
{
    static const guint8 mac[VIREO_NET_MAC_LEN] = { 0x02, 0x56, 0x49, 0x52, 0x45, 0x4f };
    Dev *d = g_new0(Dev, 1);
    VireoBus *bus;
    VireoVirtio *dev = NULL;

    d->kind = kind;
    d->image_fd = -1;
    harness_init(&d->h);
    bus = d->h.bus;
    switch (kind) {
    case D_BLK:
    case D_BLK_RO:
        dev = vireo_virtio_blk_new(bus, open_image(kind == D_BLK_RO, &d->image_fd));
        break;
    case D_NET:
        d->net = g_new0(NullNet, 1);
        d->net->base.ops = &null_net_ops;
        dev = vireo_virtio_net_new(bus, &d->net->base, mac);
        break;
    case D_CONSOLE:
        d->ring = vireo_ring_new(CONSOLE_CAP);
        dev = vireo_virtio_console_new(bus, d->ring);
        break;
    case D_RNG: dev = vireo_virtio_rng_new(bus, entropy, NULL); break;
    case D_KEYBOARD: dev = vireo_virtio_input_new(bus, VIREO_VIRTIO_INPUT_KEYBOARD); break;
    case D_TABLET: dev = vireo_virtio_input_new(bus, VIREO_VIRTIO_INPUT_TABLET); break;
    case D_GPU: {
        VireoVirtioGpuConfig config;
        vireo_virtio_gpu_config_init(&config);
        config.n_scanouts = 2;
        config.width = 640;
        config.height = 480;
        dev = vireo_virtio_gpu_new(bus, &config);
        d->presenter = vireo_scanout_attach(vireo_virtio_gpu_get_scanout(dev, 0), NULL, NULL);
        break;
    }
    case N_KINDS: g_assert_not_reached();
    }
    harness_attach(&d->h, dev);
    vireo_virtio_lock(dev);
    d->n_queues = vireo_virtio_get_n_queues_locked(dev);
    vireo_virtio_unlock(dev);
    g_assert(d->n_queues <= MAX_QUEUES);
    return d;
}

/* Queues whose chains wait for the host: the device keeps them until a
 * frame, console input or an input event comes. */
static bool held_queue(unsigned q)
{
    switch (F.d->kind) {
    case D_NET: return q == VIREO_VIRTIO_NET_RX;
    case D_CONSOLE: return q == VIREO_VIRTIO_CONSOLE_RX;
    case D_KEYBOARD:
    case D_TABLET: return q == VIREO_VIRTIO_INPUT_EVENTQ;
    default: return false;
    }
}

/* Reads what the console wrote, keeping its first bytes since the last
 * console_clear(). */
static void drain_console(void)
{
    guint8 buf[1024];
    gsize n;

    if (F.d->ring == NULL) {
        return;
    }
    while ((n = vireo_ring_read(F.d->ring, buf, sizeof buf)) > 0) {
        gsize keep = MIN(n, sizeof F.console - MIN(F.console_len, sizeof F.console));
        memcpy(F.console + MIN(F.console_len, sizeof F.console), buf, keep);
        F.console_len += n;
    }
}

static void console_clear(void)
{
    drain_console();
    F.console_len = 0;
}

/* ---- the driver's queues ------------------------------------------------- */

static void tables_release(int owner_queue, int head)
{
    for (unsigned t = 0; t < IND_TABLES; t++) {
        int o = F.table_owner[t];
        if (o >= 0 && o / QUEUE_CAP == owner_queue && (head < 0 || o % QUEUE_CAP == head)) {
            F.table_owner[t] = -1;
        }
    }
}

/* The driver gives up queue `i` (it was reset or disabled): it forgets its
 * chains and clears its areas, so that nothing stale is served if the
 * queue comes back. */
static void queue_forget(unsigned i)
{
    Queue *q = &F.q[i];

    ram_clear(Q_DESC(i), 0x3000);
    tables_release((int)i, -1);
    memset(q, 0, sizeof *q);
    q->tq.index = i;
}

static void queues_forget(void)
{
    for (unsigned i = 0; i < MAX_QUEUES; i++) {
        queue_forget(i);
    }
}

/* Sets up queue `i` with `num` entries at the driver's areas, or, when
 * `hostile`, at addresses that break a rule. */
static void queue_setup(unsigned i, uint16_t num, uint8_t hostile)
{
    Harness *h = &F.d->h;
    Queue *q = &F.q[i];
    uint64_t desc = T_RAM_BASE + Q_DESC(i), avail = T_RAM_BASE + Q_AVAIL(i);
    uint64_t used = T_RAM_BASE + Q_USED(i);

    queue_forget(i);
    switch (hostile % 8) {
    case 1: desc += 8; break;                                               /* misaligned */
    case 2: avail += 1; break;                                              /* misaligned */
    case 3: used += 2; break;                                               /* misaligned */
    case 4: desc = T_RAM_BASE + T_RAM_SIZE - DESC_SIZE * (num - 1u); break; /* runs off RAM */
    case 5: used = T_RAM_BASE - 0x1000; break;                              /* below RAM */
    case 6: avail = UINT64_MAX - 1; break;                                  /* wraps */
    case 7: desc |= 1ull << 40; break;                                      /* far above RAM */
    default: break;
    }
    q->tq.num = num;
    q->tq.desc = desc;
    q->tq.avail = avail;
    q->tq.used = used;
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_SEL, i);
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_NUM, num);
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail);
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(avail >> 32));
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)used);
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(used >> 32));
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_READY, 1);
    q->ready = reg_read(h, VIREO_VIRTIO_MMIO_QUEUE_READY) == 1;
    if (q->ready && hostile % 8 != 0) {
        fail("queue %u was enabled with a bad area (case %u)", i, hostile % 8);
    }
}

/* What the driver does after a reset (virtio 1.2, 3.1.1), with the
 * features and queue sizes the input chooses. */
static void initialize(bool from_input)
{
    Harness *h = &F.d->h;
    uint64_t offered, features;
    uint8_t choice = from_input ? in8() : 0;
    bool deferred_ok = from_input && (choice & 0x80);

    queues_forget();
    offered = device_features(h);
    features = 1ull << VIREO_VIRTIO_F_VERSION_1;
    if (choice & 1) {
        features |= offered & (1ull << VIREO_VIRTIO_F_INDIRECT_DESC);
    }
    if (choice & 2) {
        features |= offered & (1ull << VIREO_VIRTIO_F_EVENT_IDX);
    }
    if (choice & 4) {
        features |= offered & in32() & 0xffffffu;
    }
    if (choice & 8) {
        features = in64(); /* anything, usually refused */
    }
    F.features = features;
    if (!drv_negotiate(h, features)) {
        if ((features & ~offered) == 0 && (features & (1ull << VIREO_VIRTIO_F_VERSION_1))) {
            fail("offered features %#" G_GINT64_MODIFIER "x were refused", features);
        }
        return;
    }
    for (unsigned i = 0; i < F.d->n_queues; i++) {
        uint8_t b = from_input ? in8() : 3;
        uint16_t max, num;

        reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_SEL, i);
        max = (uint16_t)reg_read(h, VIREO_VIRTIO_MMIO_QUEUE_NUM_MAX);
        num = (uint16_t)MIN(1u << (b % 9), MIN((unsigned)max, (unsigned)QUEUE_CAP));
        if (from_input && (b & 0x40)) {
            num = (uint16_t)(b & 0x10 ? 3 : max * 2); /* not a power of two, or too large */
        }
        if (reg_read(h, VIREO_VIRTIO_MMIO_QUEUE_READY) != 0) {
            fail("queue %u is ready after a reset", i);
        }
        queue_setup(i, num, from_input && (b & 0x80) ? in8() : 0);
        if (from_input && (b & 0x40) && F.q[i].ready) {
            fail("queue %u was enabled with %u entries", i, num);
        }
    }
    if (!deferred_ok) {
        reg_write(h, VIREO_VIRTIO_MMIO_STATUS, status(h) | VIREO_VIRTIO_STATUS_DRIVER_OK);
        for (unsigned i = 0; i < F.d->n_queues; i++) {
            F.q[i].target = F.q[i].tq.avail_idx;
        }
    }
}

/* ---- used elements --------------------------------------------------------- */

static bool gpu_response_known(uint32_t type)
{
    return (type >= VIREO_VIRTIO_GPU_RESP_OK_NODATA && type <= VIREO_VIRTIO_GPU_RESP_OK_EDID) ||
           (type >= VIREO_VIRTIO_GPU_RESP_ERR_UNSPEC &&
            type <= VIREO_VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
}

/* What a used element of queue `qi` says about the chain in F.bufs (n
 * buffers, `in_len` writable bytes), by device. */
static void check_answer(unsigned qi, uint32_t len, int n, uint64_t in_len, uint32_t stamp)
{
    guint8 head[VIREO_VIRTIO_GPU_HDR_SIZE] = { 0 };
    size_t got;

    switch (F.d->kind) {
    case D_BLK:
    case D_BLK_RO: {
        const Buf *last = NULL;
        guint8 st;
        for (int i = 0; i < n; i++) {
            if (F.bufs[i].write) {
                last = &F.bufs[i];
            }
        }
        if (last == NULL || len == 0) {
            fail("a request without a status byte was answered (len %u)", len);
        }
        st = F.ram[ram_off(last->addr, last->len) + last->len - 1];
        if (F.owner[ram_off(last->addr, last->len) + last->len - 1] == stamp &&
            st > VIREO_VIRTIO_BLK_S_UNSUPP) {
            fail("status byte %u", st);
        }
        break;
    }
    case D_NET:
        if (qi == VIREO_VIRTIO_NET_TX && len != 0) {
            fail("a transmit chain came back with %u bytes written", len);
        }
        if (qi == VIREO_VIRTIO_NET_RX && len != 0) {
            got = gather_in(n, stamp, head, VIREO_VIRTIO_NET_HDR_SIZE);
            if (len < VIREO_VIRTIO_NET_HDR_SIZE + VIREO_NET_MIN_FRAME ||
                (got == VIREO_VIRTIO_NET_HDR_SIZE &&
                 get16(head + VIREO_VIRTIO_NET_HDR_NUM_BUFFERS) != 1)) {
                fail("a received frame of %u bytes with a bad header", len);
            }
        }
        break;
    case D_CONSOLE:
        if (qi == VIREO_VIRTIO_CONSOLE_TX && len != 0) {
            fail("a transmit chain came back with %u bytes written", len);
        }
        break;
    case D_RNG:
        if (len > VIREO_VIRTIO_RNG_MAX_REQUEST) {
            fail("%u random bytes in one chain", len);
        }
        break;
    case D_KEYBOARD:
    case D_TABLET:
        if (qi == VIREO_VIRTIO_INPUT_STATUSQ && len != 0) {
            fail("a status chain came back with %u bytes written", len);
        }
        if (qi == VIREO_VIRTIO_INPUT_EVENTQ) {
            uint16_t type;
            if (len !=
                (in_len >= VIREO_VIRTIO_INPUT_EVENT_SIZE ? VIREO_VIRTIO_INPUT_EVENT_SIZE : 0)) {
                fail("an event chain of %" G_GUINT64_FORMAT " bytes came back with %u", in_len,
                     len);
            }
            got = gather_in(n, stamp, head, VIREO_VIRTIO_INPUT_EVENT_SIZE);
            type = get16(head);
            if (len != 0 && got != 0 && type != EV_SYN && type != EV_KEY && type != EV_REL &&
                type != EV_ABS) {
                fail("event type %u", type);
            }
        }
        break;
    case D_GPU:
        if (len < MIN(in_len, (uint64_t)VIREO_VIRTIO_GPU_HDR_SIZE)) {
            fail("a response of %u bytes in a chain of %" G_GUINT64_FORMAT, len, in_len);
        }
        if (len >= VIREO_VIRTIO_GPU_HDR_SIZE && gather_in(n, stamp, head, sizeof head) != 0) {
            if (!gpu_response_known(get32le(head))) {
                fail("response type %#x", get32le(head));
            }
        }
        break;
    case N_KINDS: break;
    }
}

/* Checks the used elements of queue `qi` that came since the last look. */
static void check_used(unsigned qi)
{
    Queue *q = &F.q[qi];
    uint16_t idx;

    if (!q->ready) {
        return;
    }
    idx = used_idx(&F.d->h, &q->tq);
    if ((uint16_t)(idx - q->seen) > q->outstanding) {
        fail("queue %u: the used index moved by %u with %u chains outstanding", qi,
             (uint16_t)(idx - q->seen), q->outstanding);
    }
    while (q->seen != idx) {
        uint32_t id, len;
        uint64_t in_len = 0;
        int n;

        used_elem(&F.d->h, &q->tq, q->seen, &id, &len);
        q->seen++;
        if (id >= q->tq.num || !q->pending[id]) {
            fail("queue %u: used element for descriptor %u, which the driver did not make "
                 "available",
                 qi, id);
        }
        n = walk(q, (uint16_t)id);
        if (n < 0) {
            fail("queue %u: a malformed chain (head %u) came back", qi, id);
        }
        for (int i = 0; i < n; i++) {
            in_len += F.bufs[i].write ? F.bufs[i].len : 0;
        }
        if (len > in_len) {
            fail("queue %u: %u bytes used of a chain with %" G_GUINT64_FORMAT " writable", qi, len,
                 in_len);
        }
        check_answer(qi, len, n, in_len, q->stamp[id]);
        q->pending[id] = false;
        q->outstanding--;
        tables_release((int)qi, (int)id);
    }
}

/* Waits until the device took every chain it was told about on every
 * queue that does not wait for the host, then checks what came back. */
static void settle(void)
{
    Harness *h = &F.d->h;

    for (unsigned i = 0; i < F.d->n_queues; i++) {
        Queue *q = &F.q[i];
        gint64 end = g_get_monotonic_time() + (gint64)WAIT_MS * 1000;

        if (!q->ready || held_queue(i) ||
            (F.d->kind == D_NET && i == VIREO_VIRTIO_NET_TX && F.d->net->full)) {
            continue;
        }
        drain_console();
        while (!drv_wait_until(h, &q->tq, q->target, true, 1)) {
            drain_console();
            if (g_get_monotonic_time() > end) {
                fail("queue %u: the device used %u of %u chains in %d ms", i, used_idx(h, &q->tq),
                     q->target, WAIT_MS);
            }
        }
    }
    for (unsigned i = 0; i < F.d->n_queues; i++) {
        check_used(i);
    }
    /* The line is high exactly while the interrupt status is not 0 (both
     * change under the device's lock). */
    vireo_virtio_lock(h->dev);
    if ((vireo_virtio_get_isr_locked(h->dev) != 0) != irq_probe_level(&h->irq)) {
        fail("the interrupt line does not follow the interrupt status");
    }
    vireo_virtio_unlock(h->dev);
}

/* Every byte of RAM that differs from what the driver wrote lies in a used
 * ring or a writable buffer the driver gave the device. */
static void check_ram(void)
{
    for (unsigned p = 0; p < RAM_PAGES; p++) {
        uint32_t base = p * VIREO_PAGE_SIZE;

        if (memcmp(F.ram + base, F.shadow + base, VIREO_PAGE_SIZE) == 0) {
            continue;
        }
        for (uint32_t off = base; off < base + VIREO_PAGE_SIZE; off++) {
            bool used_ring = false;
            for (unsigned q = 0; q < MAX_QUEUES; q++) {
                used_ring |= off >= Q_USED(q) && off < Q_USED(q) + 0x1000;
            }
            if (F.ram[off] != F.shadow[off] && !used_ring && !F.writable[off]) {
                fail("RAM at +%#x changed (%#x, the driver wrote %#x) outside the used rings and "
                     "the writable buffers",
                     off, F.ram[off], F.shadow[off]);
            }
        }
    }
}

/* ---- building chains ----------------------------------------------------- */

/* Publishes the chain at `head` of queue `qi` (without notifying). */
static void publish(unsigned qi, uint16_t head)
{
    Queue *q = &F.q[qi];
    guint8 v[2];
    uint32_t slot = Q_AVAIL(qi) + 4 + 2u * (q->tq.avail_idx % q->tq.num);

    put16(v, head);
    ram_write(slot, v, 2);
    q->tq.avail_idx++;
    put16(F.shadow + Q_AVAIL(qi) + 2, q->tq.avail_idx);
    __atomic_store_n((uint16_t *)(void *)(F.ram + Q_AVAIL(qi) + 2), GUINT16_TO_LE(q->tq.avail_idx),
                     __ATOMIC_RELEASE);
    q->pending[head] = true;
    q->outstanding++;
    /* The chain's writable bytes hold its answer from now on, except bytes
     * that the device may write twice: bytes two of its writable buffers
     * cover, and bytes a chain still pending on the other queue covers
     * (the device takes the queues' chains in turn, not in the order they
     * were made available). Which answer stays there is not the driver's
     * to predict. */
    if (F.next_stamp + 1 >= SHARED) { /* after a very long run: older answers go unchecked */
        memset(F.owner, 0, sizeof F.owner);
        F.next_stamp = 0;
    }
    q->stamp[head] = ++F.next_stamp;
    F.stamp_chain[F.next_stamp % STAMPS] = (uint16_t)(qi * QUEUE_CAP + head);
    for (int i = 0, n = walk(q, head); i < n; i++) {
        int64_t off = F.bufs[i].write ? ram_off(F.bufs[i].addr, F.bufs[i].len) : -1;
        for (uint32_t j = 0; off >= 0 && j < F.bufs[i].len; j++) {
            uint32_t *o = &F.owner[off + j];
            int other = stamp_pending_queue(*o);
            bool shared = (*o & ~SHARED) == q->stamp[head] || (other >= 0 && other != (int)qi);
            *o = q->stamp[head] | (shared ? SHARED : 0);
        }
    }
}

/* Fills the readable buffers among `descs` that lie in RAM with `payload`,
 * in order. */
static void fill(const Desc *descs, unsigned n, const guint8 *payload, size_t len)
{
    size_t done = 0;

    for (unsigned i = 0; i < n && done < len; i++) {
        int64_t off;
        size_t k;

        if ((descs[i].flags & (F_WRITE | F_IND)) != 0 ||
            (off = ram_off(descs[i].addr, descs[i].len)) < 0) {
            continue;
        }
        k = MIN(len - done, (size_t)descs[i].len);
        ram_write((uint32_t)off, payload + done, k);
        done += k;
    }
}

/* Builds a chain from `descs` on queue `qi`: in the descriptor table, or,
 * with `indirect`, in a free indirect table that one descriptor of
 * `table_len` bytes points at. In the descriptor table, `next` fields are
 * relative to the chain's first descriptor unless flag 0x8000 says they
 * are table indexes. Returns false when there is no room. */
static bool build_chain(unsigned qi, Desc *descs, unsigned n, bool indirect, uint32_t table_len,
                        uint16_t ring_flags, const guint8 *payload, size_t plen)
{
    Queue *q = &F.q[qi];
    uint16_t head;

    if (!q->ready || n == 0) {
        return false;
    }
    if (q->outstanding == 0) {
        q->tq.next_desc = 0; /* every descriptor is free again */
    }
    if (q->tq.next_desc + (indirect ? 1u : n) > q->tq.num) {
        return false;
    }
    head = q->tq.next_desc;
    fill(descs, n, payload, plen);
    if (indirect) {
        int table = -1;
        Desc ring;

        for (unsigned t = 0; t < IND_TABLES && table < 0; t++) {
            if (F.table_owner[t] < 0) {
                table = (int)t;
            }
        }
        if (table < 0 || n > IND_SLOT / DESC_SIZE) {
            return false;
        }
        for (unsigned i = 0; i < n; i++) {
            put_desc(IND_OFF + (uint32_t)table * IND_SLOT + DESC_SIZE * i, &descs[i]);
        }
        ring = (Desc){ T_RAM_BASE + IND_OFF + (uint32_t)table * IND_SLOT, table_len,
                       (uint16_t)(F_IND | ring_flags), 0 };
        put_desc(Q_DESC(qi) + DESC_SIZE * head, &ring);
        F.table_owner[table] = (int)(qi * QUEUE_CAP + head);
        q->tq.next_desc++;
    } else {
        for (unsigned i = 0; i < n; i++) {
            Desc d = descs[i];
            if (!(d.flags & 0x8000)) {
                d.next = (uint16_t)(head + d.next);
            }
            d.flags &= 0x7fff;
            put_desc(Q_DESC(qi) + DESC_SIZE * (head + i), &d);
        }
        q->tq.next_desc = (uint16_t)(q->tq.next_desc + n);
    }
    publish(qi, head);
    return true;
}

/* One descriptor from the input: flags and classes of address and length
 * (byte 0), a 16-bit address, a 16-bit length, and a `next` byte used when
 * bit 1 makes it hostile. Marks `next` absolute (0x8000 in flags, taken
 * out before it is written) when it points back at any descriptor already
 * written. */
static Desc parse_desc(unsigned i, unsigned n, bool indirect, uint16_t written)
{
    uint8_t b = in8();
    uint16_t a = in16(), l = in16();
    Desc d = { 0 };
    unsigned addr_class = (b >> 3) & 7, len_class = b >> 6;

    switch (len_class) {
    case 0: d.len = l % 257u; break;
    case 1: d.len = l; break;
    case 2: d.len = DESC_SIZE * (l % 65u); break;
    default: d.len = (uint32_t)l << 16 | l; break;
    }
    switch (addr_class) {
    case 0:
    case 1:
    case 2:
    case 3: d.addr = T_RAM_BASE + DATA_OFF + ((uint32_t)a * (addr_class + 1)) % DATA_SIZE; break;
    case 4: d.addr = T_RAM_BASE + T_RAM_SIZE - a; break; /* at the end of RAM */
    case 5: d.addr = T_RAM_BASE - 1 - a; break;
    case 6: d.addr = ((uint64_t)a + 1) << 32 | T_RAM_BASE; break; /* above RAM */
    default: d.addr = UINT64_MAX - a; break;
    }
    if (b & 1) {
        d.flags |= F_WRITE;
    }
    if (b & 4) {
        /* An indirect descriptor where none may be (nested, inside a
         * chain, without the feature) or the chain's only one, pointing at
         * the fixed table. */
        d.flags |= F_IND;
        d.addr = T_RAM_BASE + IND_FIXED;
    }
    if (b & 2) {
        d.flags |= F_NEXT;
        if (indirect) {
            d.next = (uint16_t)(in8() % (n + 1)); /* in the table, or just past it */
        } else {
            d.next = (uint16_t)(in8() % (written + i + 1u));
            d.flags |= 0x8000;
        }
    } else if (i + 1 < n) {
        d.flags |= F_NEXT;
        d.next = (uint16_t)(i + 1);
    }
    return d;
}

/* Op: a chain. Queue (byte), descriptors (byte: 1 + n % MAX_CHAIN), mode
 * (byte: bit 0 indirect, bit 1 a wrong table length, chosen by one more
 * byte, bit 2 NEXT on the ring's indirect descriptor), the descriptors, a
 * 16-bit payload length and the payload for the readable buffers. */
static void op_chain(void)
{
    unsigned qi = in8() % F.d->n_queues;
    unsigned n = 1 + in8() % MAX_CHAIN;
    uint8_t mode = in8();
    bool indirect = mode & 1;
    Desc descs[MAX_CHAIN];
    uint16_t written = F.q[qi].outstanding == 0 ? 0 : F.q[qi].tq.next_desc;
    uint32_t table_len = DESC_SIZE * n;
    size_t plen;

    for (unsigned i = 0; i < n; i++) {
        descs[i] = parse_desc(i, n, indirect, written);
    }
    if (indirect && (mode & 2)) {
        switch (in8() % 4) {
        case 0: table_len = 0; break;
        case 1: table_len = DESC_SIZE * n + 1 + in8() % 15; break; /* not whole entries */
        case 2: table_len = DESC_SIZE * (n - 1); break;            /* cuts the chain */
        default: table_len = DESC_SIZE * (VIREO_VIRTQ_MAX_INDIRECT + 1); break;
        }
    }
    plen = in16();
    plen = MIN(plen, F.in.left);
    build_chain(qi, descs, n, indirect, table_len, (mode & 4) ? F_NEXT : 0, F.in.p, plen);
    F.in.p += plen;
    F.in.left -= plen;
}

/* ---- operations ------------------------------------------------------------ */

static void notified(unsigned qi)
{
    if (qi < F.d->n_queues) {
        F.q[qi].target = F.q[qi].tq.avail_idx;
    }
}

/* Op: notify queue (byte). */
static void op_kick(void)
{
    unsigned qi = in8() % F.d->n_queues;

    reg_write(&F.d->h, VIREO_VIRTIO_MMIO_QUEUE_NOTIFY, qi);
    notified(qi);
    settle();
}

/* Op: a configuration space read or write: offset (byte), size (byte:
 * 1, 2, 4 or 8), and for a write the 64-bit value. Misaligned accesses are
 * refused by the transport. */
static void op_config(bool write)
{
    unsigned off = in8();
    unsigned size = 1u << (in8() % 4);
    uint64_t addr = T_MMIO + VIREO_VIRTIO_MMIO_CONFIG + off;
    uint64_t v = 0;

    if (write) {
        v = in64();
        (void)vireo_bus_write(F.d->h.bus, addr, size, v);
        drain_console(); /* an emergency write */
    } else {
        (void)vireo_bus_read(F.d->h.bus, addr, size, &v);
    }
}

/* After a reset every register says so. */
static void check_reset(void)
{
    Harness *h = &F.d->h;

    if (status(h) != 0 || isr(h) != 0 || irq_probe_level(&h->irq)) {
        fail("after a reset: status %#x, interrupt status %#x", status(h), isr(h));
    }
    for (unsigned i = 0; i < F.d->n_queues; i++) {
        reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_SEL, i);
        if (reg_read(h, VIREO_VIRTIO_MMIO_QUEUE_READY) != 0) {
            fail("after a reset queue %u is ready", i);
        }
    }
}

static void device_reset(void)
{
    settle();
    reg_write(&F.d->h, VIREO_VIRTIO_MMIO_STATUS, 0);
    check_reset();
    queues_forget();
}

/* Op: a status write (byte): 0 resets; other values set bits, which the
 * device takes or ignores. */
static void op_status(void)
{
    uint8_t v = in8();
    uint8_t before = status(&F.d->h);

    if (v == 0) {
        device_reset();
        return;
    }
    settle();
    reg_write(&F.d->h, VIREO_VIRTIO_MMIO_STATUS, v);
    if (!(before & VIREO_VIRTIO_STATUS_DRIVER_OK) &&
        (status(&F.d->h) & VIREO_VIRTIO_STATUS_DRIVER_OK)) {
        for (unsigned i = 0; i < F.d->n_queues; i++) {
            notified(i);
        }
    }
    settle();
}

/* Op: QueueReady of a queue (byte) set to a value (byte, bit 0). Disabling
 * makes the driver forget the queue; enabling again starts it afresh in the
 * same areas. */
static void op_queue_ready(void)
{
    Harness *h = &F.d->h;
    unsigned qi = in8() % F.d->n_queues;
    bool ready = in8() & 1;
    Queue *q = &F.q[qi];
    TestQueue keep = q->tq;

    settle();
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_SEL, qi);
    reg_write(h, VIREO_VIRTIO_MMIO_QUEUE_READY, ready);
    if (!ready) {
        if (reg_read(h, VIREO_VIRTIO_MMIO_QUEUE_READY) != 0) {
            fail("queue %u stays ready after the driver disabled it", qi);
        }
        queue_forget(qi);
        q->tq.num = keep.num;
        q->tq.desc = keep.desc;
        q->tq.avail = keep.avail;
        q->tq.used = keep.used;
    } else if (!q->ready && reg_read(h, VIREO_VIRTIO_MMIO_QUEUE_READY) == 1) {
        if (q->tq.num == 0) {
            fail("queue %u was enabled without a size", qi);
        }
        q->ready = true;
    }
    settle();
}

/* Op: the host's side: a frame from the network (16-bit length, then the
 * frame), console input (byte length, bytes), an input event, a display
 * size request or a presenter taking a frame. */
static void op_host(void)
{
    Dev *d = F.d;
    VireoVirtio *dev = d->h.dev;
    guint8 buf[2048] = { 0 };

    switch (d->kind) {
    case D_NET: {
        size_t len = in16() % sizeof buf;
        for (size_t i = 0; i < len; i++) {
            buf[i] = in8();
        }
        vireo_net_backend_deliver(&d->net->base, buf, len);
        break;
    }
    case D_CONSOLE: {
        size_t len = in8();
        for (size_t i = 0; i < len; i++) {
            buf[i] = in8();
        }
        vireo_virtio_console_receive(dev, buf, len);
        break;
    }
    case D_KEYBOARD:
    case D_TABLET: {
        const VireoInputOps *ops = vireo_virtio_input_get_ops();
        uint8_t what = in8();
        switch (what % 4) {
        case 0: ops->key(dev, in16() % VIREO_KEY_COUNT, what & 4); break;
        case 1: {
            int x = (int16_t)in16(), y = (int16_t)in16();
            int w = (int16_t)in16(), hh = (int16_t)in16();
            ops->pointer_motion(dev, x, y, w, hh);
            break;
        }
        case 2: ops->pointer_button(dev, VIREO_BTN_LEFT + in8() % 8, what & 4); break;
        default: {
            int dx = (int32_t)in32(), dy = (int32_t)in32();
            ops->wheel(dev, dx, dy);
            break;
        }
        }
        break;
    }
    case D_GPU: {
        uint8_t what = in8();
        VireoScanout *scanout = vireo_virtio_gpu_get_scanout(dev, what & 1);
        if (what & 2) {
            VireoScanoutFrame frame;
            if (vireo_scanout_acquire(vireo_virtio_gpu_get_scanout(dev, 0), d->presenter, &frame)) {
                vireo_scanout_release(vireo_virtio_gpu_get_scanout(dev, 0), d->presenter);
            }
        } else {
            int w = (int16_t)in16(), hh = (int16_t)in16();
            vireo_scanout_request_size(scanout, w, hh);
        }
        break;
    }
    default: break;
    }
    settle();
}

/* Op: the back end's state (byte): the network's room (with a `writable`
 * call when room comes back), the entropy source's behaviour. */
static void op_backend(void)
{
    uint8_t v = in8();

    if (F.d->kind == D_NET) {
        bool was_full = F.d->net->full;
        F.d->net->full = v & 1;
        if (was_full && !F.d->net->full) {
            vireo_net_backend_writable(&F.d->net->base);
            notified(VIREO_VIRTIO_NET_TX);
        }
        settle();
    } else if (F.d->kind == D_RNG) {
        F.rng_mode = v % 4;
    }
}

/* Op: the available ring's flags (16 bits) and used_event (16 bits) of a
 * queue (byte). */
static void op_avail_fields(void)
{
    unsigned qi = in8() % F.d->n_queues;
    Queue *q = &F.q[qi];
    guint8 v[2];

    put16(v, in16());
    if (q->ready) {
        ram_write(Q_AVAIL(qi), v, 2);
    }
    put16(v, in16());
    if (q->ready) {
        ram_write(Q_AVAIL(qi) + 4 + 2u * q->tq.num, v, 2);
    }
}

/* Op: a QueueNotify value (16 bits), any queue index. */
static void op_notify_raw(void)
{
    uint16_t v = in16();

    reg_write(&F.d->h, VIREO_VIRTIO_MMIO_QUEUE_NOTIFY, v);
    notified(v);
    settle();
}

static void run_ops(void)
{
    for (unsigned n = 0; n < MAX_OPS && F.in.left > 0; n++) {
        switch (in8() % 14) {
        case 0:
        case 1:
        case 2: op_chain(); break;
        case 3:
        case 4: op_kick(); break;
        case 5: op_config(false); break;
        case 6: op_config(true); break;
        case 7:
            device_reset();
            initialize(true);
            settle();
            break;
        case 8: op_status(); break;
        case 9: op_queue_ready(); break;
        case 10: op_host(); break;
        case 11: op_backend(); break;
        case 12: op_avail_fields(); break;
        default:
            if (in8() & 1) {
                op_notify_raw();
            } else {
                reg_write(&F.d->h, VIREO_VIRTIO_MMIO_INTERRUPT_ACK, in32());
                settle();
            }
            break;
        }
    }
    settle();
}

/* ---- after a reset the device works ------------------------------------- */

/* Sends one chain on queue `qi` (readable `out` of `out_len` bytes at the
 * start of the data area, `in_len` writable bytes after it), kicks and
 * returns the used length; the writable part is at *in. */
static uint32_t plain_request(unsigned qi, const void *out, uint32_t out_len, uint32_t in_len,
                              const guint8 **in, bool kick)
{
    Desc descs[2];
    unsigned n = 0;
    uint32_t id, len;
    Queue *q = &F.q[qi];
    uint16_t before = q->seen;

    if (out_len > 0) {
        descs[n++] = (Desc){ T_RAM_BASE + DATA_OFF, out_len, 0, 0 };
    }
    if (in_len > 0) {
        descs[n++] = (Desc){ T_RAM_BASE + DATA_OFF + 0x1000, in_len, F_WRITE, 0 };
        ram_clear(DATA_OFF + 0x1000, in_len);
    }
    if (n == 2) {
        descs[0].flags |= F_NEXT;
        descs[0].next = 1;
    }
    if (!build_chain(qi, descs, n, false, 0, 0, out, out_len)) {
        fail("no room for a plain request on queue %u after a reset", qi);
    }
    if (kick) {
        reg_write(&F.d->h, VIREO_VIRTIO_MMIO_QUEUE_NOTIFY, qi);
        notified(qi);
    }
    settle();
    if (in != NULL) {
        *in = F.ram + DATA_OFF + 0x1000;
    }
    if (q->seen == before) {
        return UINT32_MAX; /* not used (yet) */
    }
    used_elem(&F.d->h, &q->tq, before, &id, &len);
    return len;
}

static void check_works(void)
{
    Dev *d = F.d;
    Harness *h = &d->h;
    guint8 req[64] = { 0 };
    const guint8 *in;
    uint32_t len;

    device_reset();
    F.rng_mode = 0;
    if (d->net != NULL) {
        d->net->full = false;
    }
    initialize(false);
    if (!drv_running(h)) {
        fail("the device does not run after a reset and a plain initialization (status %#x)",
             status(h));
    }
    switch (d->kind) {
    case D_BLK:
    case D_BLK_RO:
        put32le(req, VIREO_VIRTIO_BLK_T_GET_ID);
        len = plain_request(0, req, 16, VIREO_VIRTIO_BLK_ID_BYTES + 1, &in, true);
        if (len != VIREO_VIRTIO_BLK_ID_BYTES + 1 || in[VIREO_VIRTIO_BLK_ID_BYTES] != 0) {
            fail("GET_ID after a reset: %u bytes", len);
        }
        break;
    case D_NET: {
        guint8 frame[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
        uint64_t sent = d->net->sent;
        guint8 pkt[VIREO_VIRTIO_NET_HDR_SIZE + sizeof frame] = { 0 };

        memcpy(pkt + VIREO_VIRTIO_NET_HDR_SIZE, frame, sizeof frame);
        len = plain_request(VIREO_VIRTIO_NET_TX, pkt, sizeof pkt, 0, NULL, true);
        if (len != 0 || d->net->sent != sent + 1) {
            fail("a frame after a reset: used %u, %" G_GUINT64_FORMAT " sent", len,
                 d->net->sent - sent);
        }
        plain_request(VIREO_VIRTIO_NET_RX, NULL, 0, 1526, NULL, true);
        vireo_net_backend_deliver(&d->net->base, frame, sizeof frame);
        settle();
        used_elem(h, &F.q[VIREO_VIRTIO_NET_RX].tq, 0, &(uint32_t){ 0 }, &len);
        if (F.q[VIREO_VIRTIO_NET_RX].seen != 1 || len != sizeof pkt) {
            fail("a received frame after a reset: %u bytes", len);
        }
        break;
    }
    case D_CONSOLE:
        console_clear();
        len = plain_request(VIREO_VIRTIO_CONSOLE_TX, "ok\n", 3, 0, NULL, true);
        drain_console();
        if (len != 0 || F.console_len != 3 || memcmp(F.console, "ok\n", 3) != 0) {
            fail("console output after a reset: %zu bytes", F.console_len);
        }
        break;
    case D_RNG:
        len = plain_request(0, NULL, 0, 16, NULL, true);
        if (len != 16) {
            fail("16 random bytes after a reset: %u", len);
        }
        break;
    case D_KEYBOARD:
    case D_TABLET: {
        const VireoInputOps *ops = vireo_virtio_input_get_ops();
        plain_request(VIREO_VIRTIO_INPUT_EVENTQ, NULL, 0, VIREO_VIRTIO_INPUT_EVENT_SIZE, &in, true);
        if (d->kind == D_KEYBOARD) {
            ops->key(h->dev, KEY_A, true);
        } else {
            ops->pointer_button(h->dev, VIREO_BTN_LEFT, true);
        }
        settle();
        if (F.q[0].seen != 1 || get16(in) != EV_KEY ||
            get16(in + 2) != (d->kind == D_KEYBOARD ? KEY_A : VIREO_BTN_LEFT) ||
            get32le(in + 4) != 1) {
            fail("an event after a reset");
        }
        break;
    }
    case D_GPU:
        put32le(req, VIREO_VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
        len = plain_request(VIREO_VIRTIO_GPU_CONTROLQ, req, VIREO_VIRTIO_GPU_HDR_SIZE, 512, &in,
                            true);
        if (len != VIREO_VIRTIO_GPU_HDR_SIZE + 16 * 24 ||
            get32le(in) != VIREO_VIRTIO_GPU_RESP_OK_DISPLAY_INFO) {
            fail("GET_DISPLAY_INFO after a reset: %u bytes, type %#x", len, get32le(in));
        }
        break;
    case N_KINDS: break;
    }
    check_ram();
    device_reset();
}

/* ---- one input ------------------------------------------------------------ */

static void start_input(Kind kind)
{
    if (F.devs[kind] == NULL) {
        F.devs[kind] = dev_new(kind);
    }
    F.d = F.devs[kind];
    F.ram = F.d->h.ram;
    for (unsigned t = 0; t < IND_TABLES; t++) {
        F.table_owner[t] = -1;
    }
    F.rng_mode = 0;
    if (F.d->net != NULL) {
        F.d->net->full = false;
    }
    if (F.d->kind == D_BLK && ftruncate(F.d->image_fd, 0) != 0) {
        abort();
    }
    if (F.d->kind == D_BLK && ftruncate(F.d->image_fd, IMAGE_SIZE) != 0) {
        abort();
    }
    drain_console();
    /* The fixed indirect table that hostile descriptors point at: a
     * readable and a writable buffer. */
    put_desc(IND_FIXED, &(Desc){ T_RAM_BASE + DATA_OFF, 16, F_NEXT, 1 });
    put_desc(IND_FIXED + DESC_SIZE, &(Desc){ T_RAM_BASE + DATA_OFF + 0x100, 16, F_WRITE, 0 });
    reg_write(&F.d->h, VIREO_VIRTIO_MMIO_STATUS, 0);
    check_reset();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    F.in = (Input){ data + 1, size - 1 };
    start_input((Kind)(data[0] % N_KINDS));
    initialize(true);
    settle();
    run_ops();
    check_ram();
    check_works();
    /* RAM back to zeros for the next input. */
    for (unsigned p = 0; p < RAM_PAGES; p++) {
        if (F.dirty & (1ull << p)) {
            memset(F.ram + p * VIREO_PAGE_SIZE, 0, VIREO_PAGE_SIZE);
            memset(F.shadow + p * VIREO_PAGE_SIZE, 0, VIREO_PAGE_SIZE);
            memset(F.writable + p * VIREO_PAGE_SIZE, 0, VIREO_PAGE_SIZE);
            memset(F.owner + p * VIREO_PAGE_SIZE, 0, VIREO_PAGE_SIZE * sizeof F.owner[0]);
        }
    }
    F.dirty = 0;
    return 0;
}

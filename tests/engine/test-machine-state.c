/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The machine-state stream end to end: a machine with a real RISC-V hart,
 * RAM, ROM and the board's devices other than virtio runs a small program
 * that sets registers and CSRs, writes RAM and arms the CLINT timer; its
 * state is saved while paused, loaded back after it ran on, and loaded into
 * a fresh machine of the same shape. Streams from machines of other shapes,
 * corrupt or cut streams and sections a device refuses fail with a message
 * and leave the machine exactly as it was.
 */
#include "devices/clint.h"
#include "devices/goldfish-rtc.h"
#include "devices/plic.h"
#include "devices/sifive-test.h"
#include "devices/uart.h"
#include "engine/error.h"
#include "engine/riscv.h"
#include "engine/snap.h"

#include <string.h>

#define MAX_HARTS  2
#define RAM_BASE   0x80000000ull
#define ROM_BASE   0x1000ull
#define ROM_SIZE   0x1000ull
#define TEST_BASE  0x100000ull
#define RTC_BASE   0x101000ull
#define CLINT_BASE 0x2000000ull
#define PLIC_BASE  0xc000000ull
#define UART_BASE  0x10000000ull
#define UART_IRQ   10
#define RTC_IRQ    11
#define TIMEBASE   10000000ull

/* The timer's deadline, after the program read mtime: half a second. */
#define DELTA 5000000ull
/* How late the interrupt may be taken after its deadline on a busy host. */
#define LATE_TICKS (5 * TIMEBASE)

/* The program's data, at DATA: constants it reads, results it writes. */
#define DATA          (RAM_BASE + 0x1000)
#define D_CLINT       0x00
#define D_DELTA       0x08
#define D_VALUE_A     0x10
#define D_VALUE_B     0x18
#define D_FS          0x20
#define D_MTIE        0x28
#define D_HANDLER     0x30
#define R_DEADLINE    0x100
#define R_READY       0x108
#define R_COUNTER     0x110
#define R_INTERRUPTS  0x118
#define R_MTIME       0x120
#define R_MCAUSE      0x128
#define VALUE_A       0x1122334455667788ull
#define VALUE_B       0xcafef00ddeadbeefull
#define NOISE         (RAM_BASE + 0x100000) /* random bytes, 64 KiB */
#define NOISE_SIZE    0x10000
#define CSR_SSCRATCH  0x140
#define CSR_MSTATUS   0x300
#define CSR_MIE       0x304
#define CSR_MTVEC     0x305
#define CSR_MSCRATCH  0x340
#define CSR_MEPC      0x341
#define CSR_MCAUSE    0x342
#define CSR_MIP       0x344
#define MIP_MTIP      0x80ull
#define MCAUSE_M_TIME 0x8000000000000007ull

/* Registers by ABI name. */
enum { T0 = 5, T1 = 6, T2 = 7, S0 = 8, S1 = 9, A0 = 10, A1 = 11, T3 = 28, T4 = 29, T5 = 30 };
#define T6 31

/*
 * Instructions.
 */

static uint32_t i_type(unsigned opcode, unsigned f3, unsigned rd, unsigned rs1, int32_t imm)
{
    return ((uint32_t)(imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opcode;
}

static uint32_t enc_addi(unsigned rd, unsigned rs1, int32_t imm)
{
    return i_type(0x13, 0, rd, rs1, imm);
}

static uint32_t enc_add(unsigned rd, unsigned rs1, unsigned rs2)
{
    return (rs2 << 20) | (rs1 << 15) | (rd << 7) | 0x33;
}

static uint32_t enc_lui(unsigned rd, uint32_t imm20)
{
    return (imm20 << 12) | (rd << 7) | 0x37;
}

static uint32_t enc_auipc(unsigned rd, uint32_t imm20)
{
    return (imm20 << 12) | (rd << 7) | 0x17;
}

static uint32_t enc_ld(unsigned rd, unsigned rs1, int32_t off)
{
    return i_type(0x03, 3, rd, rs1, off);
}

static uint32_t enc_sd(unsigned rs2, unsigned rs1, int32_t off)
{
    uint32_t imm = (uint32_t)off & 0xfff;
    return ((imm >> 5) << 25) | (rs2 << 20) | (rs1 << 15) | (3u << 12) | ((imm & 0x1f) << 7) | 0x23;
}

static uint32_t enc_csrw(unsigned csr, unsigned rs1)
{
    return i_type(0x73, 1, 0, rs1, (int32_t)csr);
}

static uint32_t enc_csrs(unsigned csr, unsigned rs1)
{
    return i_type(0x73, 2, 0, rs1, (int32_t)csr);
}

static uint32_t enc_csrsi(unsigned csr, unsigned uimm)
{
    return i_type(0x73, 6, 0, uimm, (int32_t)csr);
}

static uint32_t enc_csrr(unsigned rd, unsigned csr)
{
    return i_type(0x73, 2, rd, 0, (int32_t)csr);
}

static uint32_t enc_jal(unsigned rd, int32_t off)
{
    uint32_t imm = (uint32_t)off;
    return (((imm >> 20) & 1) << 31) | (((imm >> 1) & 0x3ff) << 21) | (((imm >> 11) & 1) << 20) |
           (((imm >> 12) & 0xff) << 12) | (rd << 7) | 0x6f;
}

/* fmv.d.x fd, rs1 */
static uint32_t enc_fmv_d_x(unsigned fd, unsigned rs1)
{
    return (0x79u << 25) | (rs1 << 15) | (fd << 7) | 0x53;
}

#define MRET 0x30200073u

/* The program, at RAM_BASE: sets registers, CSRs and an FP register,
 * points mtvec at the handler, arms the timer DELTA ticks ahead, says it
 * is ready, then counts forever in s1, storing the count. The handler
 * records mcause, mtime and the number of interrupts and disarms the
 * timer. Returns the handler's offset. */
static gsize build_program(uint32_t *p, gsize *n_words)
{
    gsize n = 0, loop, handler;

    p[n++] = enc_auipc(S0, 1); /* s0 = DATA */
    p[n++] = enc_ld(T0, S0, D_CLINT);
    p[n++] = enc_ld(A0, S0, D_VALUE_A);
    p[n++] = enc_ld(A1, S0, D_VALUE_B);
    p[n++] = enc_csrw(CSR_MSCRATCH, A0);
    p[n++] = enc_csrw(CSR_SSCRATCH, A1);
    p[n++] = enc_ld(T1, S0, D_FS);
    p[n++] = enc_csrs(CSR_MSTATUS, T1);
    p[n++] = enc_fmv_d_x(1, A1);
    p[n++] = enc_ld(T1, S0, D_HANDLER);
    p[n++] = enc_csrw(CSR_MTVEC, T1);
    p[n++] = enc_lui(T2, 0xc);
    p[n++] = enc_addi(T2, T2, -8); /* 0xbff8 */
    p[n++] = enc_add(T2, T0, T2);  /* t2 = &mtime */
    p[n++] = enc_ld(T3, T2, 0);
    p[n++] = enc_ld(T4, S0, D_DELTA);
    p[n++] = enc_add(T3, T3, T4);
    p[n++] = enc_lui(T4, 0x4);
    p[n++] = enc_add(T4, T0, T4); /* t4 = &mtimecmp[0] */
    p[n++] = enc_sd(T3, T4, 0);
    p[n++] = enc_sd(T3, S0, R_DEADLINE);
    p[n++] = enc_ld(T1, S0, D_MTIE);
    p[n++] = enc_csrw(CSR_MIE, T1);
    p[n++] = enc_csrsi(CSR_MSTATUS, 8); /* MIE */
    p[n++] = enc_addi(T1, 0, 1);
    p[n++] = enc_sd(T1, S0, R_READY);
    loop = n;
    p[n++] = enc_addi(S1, S1, 1);
    p[n++] = enc_sd(S1, S0, R_COUNTER);
    p[n] = enc_jal(0, -(int32_t)((n - loop) * 4));
    n++;
    handler = n;
    p[n++] = enc_csrr(T5, CSR_MCAUSE);
    p[n++] = enc_sd(T5, S0, R_MCAUSE);
    p[n++] = enc_ld(T6, T2, 0);
    p[n++] = enc_sd(T6, S0, R_MTIME);
    p[n++] = enc_ld(T6, S0, R_INTERRUPTS);
    p[n++] = enc_addi(T6, T6, 1);
    p[n++] = enc_sd(T6, S0, R_INTERRUPTS);
    p[n++] = enc_addi(T6, 0, -1);
    p[n++] = enc_sd(T6, T4, 0); /* mtimecmp = max: MTIP low */
    p[n++] = MRET;
    *n_words = n;
    return handler * 4;
}

/*
 * The board: the virt board's devices other than virtio, at its
 * addresses, around harts and RAM of a chosen number and size.
 */

typedef struct {
    unsigned n_harts;
    uint64_t ram_size;
    bool rtc;
    VireoRvCpuModel cpu;
} Shape;

typedef struct {
    VireoMachine *machine;
    VireoRvCpu *harts[MAX_HARTS];
    unsigned n_harts;
    guint8 *ram;
    uint64_t ram_size;
    VireoRing *console;
    VireoClint *clint;
    VireoPlic *plic;
    VireoUart *uart;
    VireoGoldfishRtc *rtc;
    VireoSifiveTest *test;
} Board;

static void hart_set_irq(void *opaque, unsigned line, bool level)
{
    vireo_rv_cpu_set_irq(opaque, line, level);
}

static void free_devices(void *data)
{
    Board *b = data;

    vireo_uart_free(b->uart);
    vireo_goldfish_rtc_free(b->rtc);
    vireo_clint_free(b->clint);
    vireo_plic_free(b->plic);
    vireo_sifive_test_free(b->test);
}

static Board *board_new(const Shape *shape)
{
    g_autoptr(GError) error = NULL;
    Board *b = g_new0(Board, 1);
    VireoBus *bus = vireo_bus_new();
    VireoIrq contexts[2 * MAX_HARTS], msip[MAX_HARTS], mtip[MAX_HARTS], uart_irq, rtc_irq;
    guint8 rom[64];

    for (unsigned i = 0; i < sizeof rom; i++) {
        rom[i] = (guint8)(0x40 + i);
    }
    b->n_harts = shape->n_harts;
    b->ram_size = shape->ram_size;
    b->ram = vireo_bus_add_ram(bus, RAM_BASE, shape->ram_size, &error);
    g_assert_no_error(error);
    g_assert_true(vireo_bus_add_rom(bus, "mrom", ROM_BASE, ROM_SIZE, rom, sizeof rom, &error));
    b->machine = vireo_machine_new(bus, vireo_clock_new(TIMEBASE));
    for (unsigned h = 0; h < b->n_harts; h++) {
        b->harts[h] = vireo_rv_cpu_new(b->machine, h, RAM_BASE, shape->cpu);
        contexts[2 * h] = (VireoIrq){ hart_set_irq, b->harts[h], (unsigned)VIREO_RV_MIP_MEIP };
        contexts[2 * h + 1] = (VireoIrq){ hart_set_irq, b->harts[h], (unsigned)VIREO_RV_MIP_SEIP };
        msip[h] = (VireoIrq){ hart_set_irq, b->harts[h], (unsigned)VIREO_RV_MIP_MSIP };
        mtip[h] = (VireoIrq){ hart_set_irq, b->harts[h], (unsigned)VIREO_RV_MIP_MTIP };
    }
    b->console = vireo_ring_new(4096);
    b->plic = vireo_plic_new(b->n_harts, contexts);
    b->clint = vireo_clint_new(vireo_machine_clock(b->machine), b->n_harts, msip, mtip);
    g_assert_true(vireo_plic_source_irq(b->plic, UART_IRQ, &uart_irq));
    g_assert_true(vireo_plic_source_irq(b->plic, RTC_IRQ, &rtc_irq));
    b->uart = vireo_uart_new(b->console, &uart_irq);
    b->rtc = vireo_goldfish_rtc_new(vireo_machine_clock(b->machine), &rtc_irq);
    b->test = vireo_sifive_test_new(b->machine);
    vireo_machine_add_cleanup(b->machine, free_devices, b);

    g_assert_true(vireo_bus_add_mmio(bus, "test", TEST_BASE, VIREO_SIFIVE_TEST_MMIO_SIZE,
                                     vireo_sifive_test_ops(), b->test, &error));
    if (shape->rtc) {
        g_assert_true(vireo_bus_add_mmio(bus, "rtc", RTC_BASE, VIREO_GOLDFISH_RTC_MMIO_SIZE,
                                         vireo_goldfish_rtc_ops(), b->rtc, &error));
    }
    g_assert_true(vireo_bus_add_mmio(bus, "clint", CLINT_BASE, VIREO_CLINT_MMIO_SIZE,
                                     vireo_clint_ops(), b->clint, &error));
    g_assert_true(vireo_bus_add_mmio(bus, "plic", PLIC_BASE, vireo_plic_mmio_size(b->n_harts),
                                     vireo_plic_ops(), b->plic, &error));
    g_assert_true(vireo_bus_add_mmio(bus, "serial", UART_BASE, VIREO_UART_MMIO_SIZE,
                                     vireo_uart_ops(), b->uart, &error));
    g_assert_no_error(error);
    return b;
}

static void board_free(Board *b)
{
    vireo_machine_free(b->machine);
    vireo_ring_free(b->console);
    g_free(b);
}

static const Shape one_hart = { 1, 4ull << 20, true };

static VireoBus *board_bus(Board *b)
{
    return vireo_machine_bus(b->machine);
}

/* A word of RAM, also while the hart writes it. */
static uint64_t ram_u64(Board *b, uint64_t addr)
{
    return __atomic_load_n((uint64_t *)(void *)(b->ram + (addr - RAM_BASE)), __ATOMIC_RELAXED);
}

static void ram_put_u64(Board *b, uint64_t addr, uint64_t value)
{
    g_autoptr(GError) error = NULL;

    value = GUINT64_TO_LE(value);
    g_assert_true(vireo_bus_write_block(board_bus(b), addr, &value, 8, &error));
}

static uint64_t mmio_read(Board *b, uint64_t addr, unsigned size)
{
    uint64_t v = 0;

    g_assert_true(vireo_bus_read(board_bus(b), addr, size, &v));
    return v;
}

static void mmio_write(Board *b, uint64_t addr, unsigned size, uint64_t value)
{
    g_assert_true(vireo_bus_write(board_bus(b), addr, size, value));
}

/* Waits up to 20 s for the word at `addr` to reach `at_least`. */
static void wait_for(Board *b, uint64_t addr, uint64_t at_least)
{
    gint64 end = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;

    while (ram_u64(b, addr) < at_least) {
        if (g_get_monotonic_time() > end) {
            g_error("the word at 0x%" G_GINT64_MODIFIER "x stayed below %" G_GUINT64_FORMAT, addr,
                    at_least);
        }
        g_usleep(1000);
    }
}

/* Loads the program and its data, fills a stretch of RAM with noise,
 * runs the program until it armed the timer and counted a while, and
 * pauses the machine. */
static void board_run_program(Board *b)
{
    g_autoptr(GError) error = NULL;
    uint32_t code[64];
    gsize n_words, handler = build_program(code, &n_words);
    GRand *rand = g_rand_new_with_seed(0x5a5a0001u);
    g_autofree guint8 *noise = g_malloc(NOISE_SIZE);

    for (gsize i = 0; i < n_words; i++) {
        code[i] = GUINT32_TO_LE(code[i]);
    }
    g_assert_true(vireo_bus_write_block(board_bus(b), RAM_BASE, code, n_words * 4, &error));
    ram_put_u64(b, DATA + D_CLINT, CLINT_BASE);
    ram_put_u64(b, DATA + D_DELTA, DELTA);
    ram_put_u64(b, DATA + D_VALUE_A, VALUE_A);
    ram_put_u64(b, DATA + D_VALUE_B, VALUE_B);
    ram_put_u64(b, DATA + D_FS, 0x2000);
    ram_put_u64(b, DATA + D_MTIE, MIP_MTIP);
    ram_put_u64(b, DATA + D_HANDLER, RAM_BASE + handler);
    for (gsize i = 0; i < NOISE_SIZE; i++) {
        noise[i] = (guint8)g_rand_int(rand);
    }
    g_assert_true(vireo_bus_write_block(board_bus(b), NOISE, noise, NOISE_SIZE, &error));
    g_rand_free(rand);

    g_assert_true(vireo_machine_start(b->machine, &error));
    g_assert_no_error(error);
    wait_for(b, DATA + R_READY, 1);
    wait_for(b, DATA + R_COUNTER, 1000);
    vireo_machine_pause(b->machine);
    g_assert_cmpint(vireo_machine_state(b->machine), ==, VIREO_MACHINE_PAUSED);
    /* The deadline is still ahead. */
    g_assert_cmpuint(ram_u64(b, DATA + R_INTERRUPTS), ==, 0);
    g_assert_cmpuint(vireo_clock_now(vireo_machine_clock(b->machine)), <,
                     ram_u64(b, DATA + R_DEADLINE));
}

/*
 * Streams.
 */

static bool to_bytes(void *opaque, const void *data, gsize len, GError **error)
{
    g_byte_array_append(opaque, data, (guint)len);
    return true;
}

static GByteArray *save(Board *b)
{
    GByteArray *stream = g_byte_array_new();
    g_autoptr(VireoSnapWriter) w = vireo_snap_writer_new(to_bytes, stream);
    g_autoptr(GError) error = NULL;

    g_assert_true(vireo_machine_save_state(b->machine, w, &error));
    g_assert_no_error(error);
    return stream;
}

static void load(Board *b, const GByteArray *stream)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(vireo_machine_load_state(b->machine, stream->data, stream->len, &error));
    g_assert_no_error(error);
}

static void assert_same(const GByteArray *a, const GByteArray *b)
{
    g_assert_cmpuint(a->len, ==, b->len);
    g_assert_true(memcmp(a->data, b->data, a->len) == 0);
}

/* Loading `stream` fails with `domain_code` and a message holding
 * `expect` (NULL: any), and the machine's state stays `before`. */
static void assert_refused(Board *b, const guint8 *stream, gsize len, gint code, const char *expect,
                           const GByteArray *before)
{
    g_autoptr(GError) error = NULL;

    g_assert_false(vireo_machine_load_state(b->machine, stream, len, &error));
    g_assert_error(error, VIREO_ERROR, code);
    if (expect != NULL && strstr(error->message, expect) == NULL) {
        g_error("\"%s\" does not say \"%s\"", error->message, expect);
    }
    if (before != NULL) {
        g_autoptr(GByteArray) after = save(b);
        assert_same(before, after);
    }
}

/* `stream` with the payload of section (name, instance) replaced by
 * `payload` (NULL: the section left out) and, unless `version` is 0, its
 * layout version. */
static GByteArray *with_section_version(const GByteArray *stream, const char *name,
                                        uint64_t instance, const GByteArray *payload,
                                        unsigned version)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) sections = vireo_snap_parse(stream->data, stream->len, &error);
    GByteArray *out = g_byte_array_new();
    g_autoptr(VireoSnapWriter) w = vireo_snap_writer_new(to_bytes, out);
    bool found = false;

    g_assert_no_error(error);
    for (guint i = 0; i < sections->len; i++) {
        const VireoSnapSection *s = &g_array_index(sections, VireoSnapSection, i);
        const void *data = s->data;
        gsize len = s->len;
        unsigned v = s->version;

        if (strcmp(s->name, name) == 0 && s->instance == instance) {
            found = true;
            if (payload == NULL) {
                continue;
            }
            data = payload->data;
            len = payload->len;
            v = version != 0 ? version : v;
        }
        g_assert_true(vireo_snap_write_section(w, s->name, s->instance, v, data, len, &error));
    }
    g_assert_true(found);
    g_assert_true(vireo_snap_writer_finish(w, &error));
    g_assert_no_error(error);
    return out;
}

/* A copy of the payload of section (name, instance). */
static GByteArray *with_section(const GByteArray *stream, const char *name, uint64_t instance,
                                const GByteArray *payload)
{
    return with_section_version(stream, name, instance, payload, 0);
}

static GByteArray *section_payload(const GByteArray *stream, const char *name, uint64_t instance)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) sections = vireo_snap_parse(stream->data, stream->len, &error);
    const VireoSnapSection *s;
    GByteArray *payload = g_byte_array_new();

    g_assert_no_error(error);
    s = vireo_snap_find(sections, name, instance);
    g_assert_nonnull(s);
    g_byte_array_append(payload, s->data, (guint)s->len);
    return payload;
}

/*
 * What a test compares besides the stream itself.
 */

typedef struct {
    uint64_t regs[64];
    uint64_t pc;
    uint64_t csr[6];
    uint64_t clock;
    uint64_t mtimecmp;
    guint8 *ram;
} Seen;

static const unsigned seen_csrs[6] = { CSR_MSTATUS,  CSR_MIE,      CSR_MTVEC,
                                       CSR_MSCRATCH, CSR_SSCRATCH, CSR_MIP };

static void seen_take(Seen *s, Board *b)
{
    for (unsigned i = 0; i < 64; i++) {
        s->regs[i] = vireo_rv_cpu_get_reg(b->harts[0], i);
    }
    s->pc = vireo_rv_cpu_get_pc(b->harts[0]);
    for (unsigned i = 0; i < G_N_ELEMENTS(seen_csrs); i++) {
        g_assert_true(vireo_rv_cpu_get_csr(b->harts[0], seen_csrs[i], &s->csr[i]));
    }
    s->clock = vireo_clock_now(vireo_machine_clock(b->machine));
    s->mtimecmp = mmio_read(b, CLINT_BASE + VIREO_CLINT_MTIMECMP, 8);
    s->ram = g_memdup2(b->ram, b->ram_size);
}

static void seen_clear(Seen *s)
{
    g_free(s->ram);
}

static void seen_assert_same(const Seen *a, const Seen *b, uint64_t ram_size)
{
    for (unsigned i = 0; i < 64; i++) {
        if (a->regs[i] != b->regs[i]) {
            g_error("register %u: 0x%" G_GINT64_MODIFIER "x, not 0x%" G_GINT64_MODIFIER "x", i,
                    b->regs[i], a->regs[i]);
        }
    }
    g_assert_cmphex(a->pc, ==, b->pc);
    for (unsigned i = 0; i < G_N_ELEMENTS(seen_csrs); i++) {
        g_assert_cmphex(a->csr[i], ==, b->csr[i]);
    }
    g_assert_cmpuint(a->clock, ==, b->clock);
    g_assert_cmphex(a->mtimecmp, ==, b->mtimecmp);
    g_assert_true(memcmp(a->ram, b->ram, ram_size) == 0);
}

/* Resumes the machine until the timer interrupt was taken once more, and
 * checks it was taken at its deadline, not before and not much after. */
static void run_to_interrupt(Board *b, uint64_t interrupts_before, uint64_t deadline)
{
    uint64_t mtime;

    g_assert_cmpuint(ram_u64(b, DATA + R_INTERRUPTS), ==, interrupts_before);
    vireo_machine_resume(b->machine);
    wait_for(b, DATA + R_INTERRUPTS, interrupts_before + 1);
    vireo_machine_pause(b->machine);
    g_assert_cmpuint(ram_u64(b, DATA + R_INTERRUPTS), ==, interrupts_before + 1);
    g_assert_cmphex(ram_u64(b, DATA + R_MCAUSE), ==, MCAUSE_M_TIME);
    mtime = ram_u64(b, DATA + R_MTIME);
    g_test_message("the timer interrupt came %" G_GUINT64_FORMAT " ticks after its deadline",
                   mtime - deadline);
    g_assert_cmpuint(mtime, >=, deadline);
    g_assert_cmpuint(mtime, <, deadline + LATE_TICKS);
}

/*
 * The tests.
 */

/* Save, run on, load: everything is back, and the timer interrupt comes at
 * the tick the program asked for. */
static void test_save_load(void)
{
    Board *b = board_new(&one_hart);
    g_autoptr(GByteArray) saved = NULL;
    g_autoptr(GByteArray) again = NULL;
    uint64_t deadline;
    Seen before, after;

    board_run_program(b);
    deadline = ram_u64(b, DATA + R_DEADLINE);
    /* The program ran: its registers, CSRs and RAM. */
    g_assert_cmphex(vireo_rv_cpu_get_reg(b->harts[0], A0), ==, VALUE_A);
    g_assert_cmphex(vireo_rv_cpu_get_reg(b->harts[0], 32 + 1), ==, VALUE_B);
    g_assert_cmphex(mmio_read(b, CLINT_BASE + VIREO_CLINT_MTIMECMP, 8), ==, deadline);
    mmio_write(b, UART_BASE + 7, 1, 0x5c);
    seen_take(&before, b);
    g_assert_cmphex(before.csr[3], ==, VALUE_A);
    g_assert_cmphex(before.csr[4], ==, VALUE_B);
    g_assert_cmphex(before.csr[1], ==, MIP_MTIP);
    g_assert_cmphex(before.csr[5] & MIP_MTIP, ==, 0);
    saved = save(b);
    /* A paused machine saves the same stream every time. */
    again = save(b);
    assert_same(saved, again);
    g_clear_pointer(&again, g_byte_array_unref);

    /* Run on past the interrupt, and change a device. */
    run_to_interrupt(b, 0, deadline);
    mmio_write(b, UART_BASE + 7, 1, 0x77);
    g_assert_cmpuint(ram_u64(b, DATA + R_COUNTER), >, before.regs[S1]);
    g_assert_cmphex(mmio_read(b, CLINT_BASE + VIREO_CLINT_MTIMECMP, 8), ==, G_MAXUINT64);

    load(b, saved);
    seen_take(&after, b);
    seen_assert_same(&before, &after, b->ram_size);
    g_assert_cmphex(mmio_read(b, UART_BASE + 7, 1), ==, 0x5c);
    again = save(b);
    assert_same(saved, again);
    /* The interrupt comes again, at the same tick. */
    run_to_interrupt(b, 0, deadline);
    seen_clear(&before);
    seen_clear(&after);
    board_free(b);
}

/* The state restored in a machine built afresh, not yet started: it runs
 * on from there, and its interrupt comes at the same tick. */
static void test_new_machine(void)
{
    Board *b = board_new(&one_hart);
    Board *fresh = board_new(&one_hart);
    g_autoptr(GByteArray) saved = NULL;
    g_autoptr(GByteArray) again = NULL;
    g_autoptr(GError) error = NULL;
    uint64_t deadline;
    Seen before, after;

    board_run_program(b);
    deadline = ram_u64(b, DATA + R_DEADLINE);
    seen_take(&before, b);
    saved = save(b);
    board_free(b);

    load(fresh, saved);
    seen_take(&after, fresh);
    seen_assert_same(&before, &after, fresh->ram_size);
    again = save(fresh);
    assert_same(saved, again);
    vireo_machine_set_start_paused(fresh->machine, true);
    g_assert_true(vireo_machine_start(fresh->machine, &error));
    g_assert_no_error(error);
    run_to_interrupt(fresh, 0, deadline);
    seen_clear(&before);
    seen_clear(&after);
    board_free(fresh);
}

/* A stream from a machine of another shape is refused before anything
 * changes. */
static void test_other_shape(void)
{
    Board *b = board_new(&one_hart);
    g_autoptr(GByteArray) saved = NULL;
    static const struct {
        Shape shape;
        const char *expect;
    } others[] = {
        { { 1, 8ull << 20, true }, "The saved machine has 4 MiB of memory; this one has 8 MiB" },
        { { 2, 4ull << 20, true }, "The saved machine has 1 vCPUs; this one has 2" },
        { { 1, 4ull << 20, false }, "saved from a machine with other devices" },
    };

    board_run_program(b);
    saved = save(b);
    for (gsize i = 0; i < G_N_ELEMENTS(others); i++) {
        Board *o = board_new(&others[i].shape);
        g_autoptr(GByteArray) before = save(o);
        g_autoptr(GByteArray) theirs = save(o);
        Seen seen_before, seen_after;

        seen_take(&seen_before, o);
        assert_refused(o, saved->data, saved->len, VIREO_ERROR_CONFIG, others[i].expect, before);
        seen_take(&seen_after, o);
        seen_assert_same(&seen_before, &seen_after, o->ram_size);
        /* And the other way round. */
        assert_refused(b, theirs->data, theirs->len, VIREO_ERROR_CONFIG, NULL, saved);
        seen_clear(&seen_before);
        seen_clear(&seen_after);
        board_free(o);
    }
    board_free(b);
}

/* Flipped bytes and cuts: vireo_snap_parse's checks refuse every one,
 * and the machine keeps its state. */
static void test_corrupt(void)
{
    Board *b = board_new(&one_hart);
    g_autoptr(GByteArray) saved = NULL;
    g_autoptr(GByteArray) now = NULL;
    g_autoptr(GByteArray) bad = g_byte_array_new();
    guint flips = 0, cuts = 0;
    Seen before, after;

    board_run_program(b);
    saved = save(b);
    vireo_machine_resume(b->machine);
    g_usleep(20000);
    vireo_machine_pause(b->machine);
    now = save(b);
    seen_take(&before, b);
    g_assert_cmpuint(saved->len, >, 4096);

    g_byte_array_append(bad, saved->data, saved->len);
    for (gsize i = 0; i < saved->len; i += i < 2048 ? 1 : 61) {
        bad->data[i] ^= (guint8)(1u << (i % 8));
        assert_refused(b, bad->data, bad->len, VIREO_ERROR_FORMAT, "machine state",
                       flips % 256 == 0 ? now : NULL);
        bad->data[i] = saved->data[i];
        flips++;
    }
    for (gsize len = 0; len < saved->len; len += len < 2048 ? 1 : 53) {
        assert_refused(b, saved->data, len, VIREO_ERROR_FORMAT, NULL, cuts % 256 == 0 ? now : NULL);
        cuts++;
    }
    for (gsize len = saved->len - 64; len < saved->len; len++) {
        assert_refused(b, saved->data, len, VIREO_ERROR_FORMAT, NULL, NULL);
        cuts++;
    }
    g_test_message("%u flipped bytes and %u cuts refused", flips, cuts);
    {
        g_autoptr(GByteArray) after_all = save(b);
        assert_same(now, after_all);
    }
    seen_take(&after, b);
    seen_assert_same(&before, &after, b->ram_size);
    seen_clear(&before);
    seen_clear(&after);
    board_free(b);
}

/* Offsets in the payload of a "cpu" section (docs/SNAPSHOTS.md), version
 * 2: menvcfg, and from the end the hart's extensions and stimecmp. */
#define CPU_MENVCFG   697
#define CPU_V2_EXTRA  12
#define CSR_STIMECMP  0x14d
#define MENVCFG_STCE  (1ull << 63)
#define MENVCFG_PBMTE (1ull << 62)
#define MIP_STIP      0x20ull

static void put_le64(guint8 *p, uint64_t v)
{
    v = GUINT64_TO_LE(v);
    memcpy(p, &v, 8);
}

static uint64_t hart_csr(Board *b, unsigned csr)
{
    uint64_t v = 0;

    g_assert_true(vireo_rv_cpu_get_csr(b->harts[0], csr, &v));
    return v;
}

/* The hart's layout versions: version 2 carries stimecmp, which a load puts
 * back with STIP and the timer that raises it; version 1 (without it) still
 * loads, with stimecmp all ones; a stream from a hart with extensions this
 * one lacks, or with envcfg fields it does not have, is refused. */
static void test_cpu_versions(void)
{
    static const Shape rv64gc = { 1, 4ull << 20, true, VIREO_RV_CPU_RV64GC };
    Board *b = board_new(&one_hart);
    Board *gc = board_new(&rv64gc);
    g_autoptr(GByteArray) saved = NULL;
    g_autoptr(GByteArray) payload = NULL;
    g_autoptr(GByteArray) v1 = NULL;
    g_autoptr(GByteArray) bad = NULL;
    uint64_t now;

    board_run_program(b);
    saved = save(b);
    payload = section_payload(saved, "cpu", 0);
    g_assert_cmpuint(payload->len, ==, CPU_MENVCFG + 8 * 4 + 16 + 16 * 8 + CPU_V2_EXTRA);

    /* stimecmp already passed, with STCE: STIP is up after the load. */
    put_le64(payload->data + CPU_MENVCFG, MENVCFG_STCE);
    put_le64(payload->data + payload->len - 8, 1);
    bad = with_section(saved, "cpu", 0, payload);
    load(b, bad);
    g_assert_cmphex(hart_csr(b, CSR_STIMECMP), ==, 1);
    g_assert_cmphex(hart_csr(b, CSR_MIP) & MIP_STIP, ==, MIP_STIP);
    g_clear_pointer(&bad, g_byte_array_unref);
    /* Ahead by 20 ms: down after the load, up once the clock gets there. */
    now = vireo_clock_now(vireo_machine_clock(b->machine));
    put_le64(payload->data + payload->len - 8, now + TIMEBASE / 50);
    bad = with_section(saved, "cpu", 0, payload);
    load(b, bad);
    g_assert_cmphex(hart_csr(b, CSR_MIP) & MIP_STIP, ==, 0);
    vireo_machine_resume(b->machine);
    for (int i = 0; i < 500 && !(hart_csr(b, CSR_MIP) & MIP_STIP); i++) {
        g_usleep(10000);
    }
    vireo_machine_pause(b->machine);
    g_assert_cmphex(hart_csr(b, CSR_MIP) & MIP_STIP, ==, MIP_STIP);
    g_assert_cmpuint(vireo_clock_now(vireo_machine_clock(b->machine)), >=, now + TIMEBASE / 50);
    g_clear_pointer(&bad, g_byte_array_unref);

    /* Version 1: what an RV64GC hart had. It loads on every model. */
    g_byte_array_set_size(payload, payload->len - CPU_V2_EXTRA);
    put_le64(payload->data + CPU_MENVCFG, 0);
    v1 = with_section_version(saved, "cpu", 0, payload, 1);
    load(b, v1);
    g_assert_cmphex(hart_csr(b, CSR_STIMECMP), ==, G_MAXUINT64);
    g_assert_cmphex(hart_csr(b, CSR_MIP) & MIP_STIP, ==, 0);
    load(gc, v1);

    /* The max hart's stream on an rv64gc hart; envcfg fields it lacks. */
    assert_refused(gc, saved->data, saved->len, VIREO_ERROR_FORMAT,
                   "saved on a hart with extensions this rv64gc hart does not have", NULL);
    put_le64(payload->data + CPU_MENVCFG, MENVCFG_PBMTE);
    bad = with_section_version(saved, "cpu", 0, payload, 1);
    assert_refused(gc, bad->data, bad->len, VIREO_ERROR_FORMAT, "menvcfg or senvcfg", NULL);
    load(b, bad);
    g_assert_cmphex(hart_csr(b, 0x30a), ==, MENVCFG_PBMTE);
    g_clear_pointer(&bad, g_byte_array_unref);
    /* CBIE's reserved value */
    put_le64(payload->data + CPU_MENVCFG, 2 << 4);
    bad = with_section_version(saved, "cpu", 0, payload, 1);
    assert_refused(b, bad->data, bad->len, VIREO_ERROR_FORMAT, "menvcfg or senvcfg", NULL);
    board_free(gc);
    board_free(b);
}

/* Sections a part refuses (well framed, so the parser lets them through):
 * the parts loaded before it go back to their earlier state, and the
 * machine is exactly as before. */
static void test_refused(void)
{
    Board *b = board_new(&one_hart);
    g_autoptr(GByteArray) saved = NULL;
    g_autoptr(GByteArray) now = NULL;
    g_autoptr(GByteArray) payload = NULL;
    g_autoptr(GByteArray) bad = NULL;
    uint32_t two = GUINT32_TO_LE(2);
    Seen before, after;

    board_run_program(b);
    mmio_write(b, UART_BASE + 7, 1, 0x11);
    saved = save(b);
    /* Another state to keep: run on past the interrupt, change devices. */
    run_to_interrupt(b, 0, ram_u64(b, DATA + R_DEADLINE));
    mmio_write(b, UART_BASE + 7, 1, 0x22);
    mmio_write(b, PLIC_BASE + 4 * UART_IRQ, 4, 3);
    now = save(b);
    seen_take(&before, b);

    /* A CLINT section of two harts for this one-hart CLINT. */
    payload = section_payload(saved, "clint", CLINT_BASE);
    memcpy(payload->data + 4, &two, 4);
    bad = with_section(saved, "clint", CLINT_BASE, payload);
    assert_refused(b, bad->data, bad->len, VIREO_ERROR_FORMAT,
                   "section \"clint\" (33554432) is invalid: it holds 2 harts; this CLINT serves 1",
                   now);
    g_clear_pointer(&payload, g_byte_array_unref);
    g_clear_pointer(&bad, g_byte_array_unref);

    /* A UART section refused after the clock, the hart, the CLINT and the
     * PLIC took theirs. */
    payload = section_payload(saved, "ns16550a", UART_BASE);
    payload->data[4] = 0xf0; /* IER */
    bad = with_section(saved, "ns16550a", UART_BASE, payload);
    assert_refused(b, bad->data, bad->len, VIREO_ERROR_FORMAT, "IER 0xf0", now);
    g_clear_pointer(&payload, g_byte_array_unref);
    g_clear_pointer(&bad, g_byte_array_unref);

    /* A hart in a privilege mode that does not exist. */
    payload = section_payload(saved, "cpu", 0);
    payload->data[4 + 64 * 8 + 8 + 4 + 3 * 8] = 2;
    bad = with_section(saved, "cpu", 0, payload);
    assert_refused(b, bad->data, bad->len, VIREO_ERROR_FORMAT, "privilege mode 2", now);
    g_clear_pointer(&payload, g_byte_array_unref);
    g_clear_pointer(&bad, g_byte_array_unref);

    /* A device's section left out. */
    bad = with_section(saved, "plic", PLIC_BASE, NULL);
    assert_refused(b, bad->data, bad->len, VIREO_ERROR_FORMAT, "no state for plic", now);
    g_clear_pointer(&bad, g_byte_array_unref);

    seen_take(&after, b);
    seen_assert_same(&before, &after, b->ram_size);
    g_assert_cmphex(mmio_read(b, UART_BASE + 7, 1), ==, 0x22);
    g_assert_cmphex(mmio_read(b, PLIC_BASE + 4 * UART_IRQ, 4), ==, 3);
    /* The machine runs on from where it was: the counter moves. */
    vireo_machine_resume(b->machine);
    wait_for(b, DATA + R_COUNTER, before.regs[S1] + 1000);
    vireo_machine_pause(b->machine);
    /* And the good stream still loads. */
    load(b, saved);
    g_assert_cmphex(mmio_read(b, UART_BASE + 7, 1), ==, 0x11);
    seen_clear(&before);
    seen_clear(&after);
    board_free(b);
}

/* Console input that arrives while the machine is paused is not in the
 * saved state and reaches the guest only once it runs again. */
static void test_paused_input(void)
{
    Board *b = board_new(&one_hart);
    g_autoptr(GByteArray) before = NULL;
    g_autoptr(GByteArray) after = NULL;

    board_run_program(b);
    mmio_write(b, PLIC_BASE + 4 * UART_IRQ, 4, 1);
    mmio_write(b, PLIC_BASE + VIREO_PLIC_ENABLE, 4, 1u << UART_IRQ);
    mmio_write(b, UART_BASE + 1, 1, 0x01); /* received-data interrupt */
    before = save(b);
    g_assert_cmpuint(vireo_uart_receive(b->uart, (const guint8 *)"k", 1), ==, 1);
    g_assert_cmphex(mmio_read(b, UART_BASE + 5, 1) & 0x01, ==, 0);
    g_assert_cmphex(mmio_read(b, PLIC_BASE + VIREO_PLIC_PENDING, 4), ==, 0);
    after = save(b);
    assert_same(before, after);
    vireo_machine_resume(b->machine);
    vireo_machine_pause(b->machine);
    g_assert_cmphex(mmio_read(b, UART_BASE + 5, 1) & 0x01, ==, 0x01);
    g_assert_cmphex(mmio_read(b, PLIC_BASE + VIREO_PLIC_PENDING, 4), ==, 1u << UART_IRQ);
    g_assert_cmphex(mmio_read(b, UART_BASE, 1), ==, 'k');
    board_free(b);
}

/*
 * Pre-copy (live migration): RAM copied while the harts write it.
 */

static uint32_t enc_slli(unsigned rd, unsigned rs1, unsigned shamt)
{
    return i_type(0x13, 1, rd, rs1, (int32_t)shamt);
}

static uint32_t enc_and(unsigned rd, unsigned rs1, unsigned rs2)
{
    return (rs2 << 20) | (rs1 << 15) | (7u << 12) | (rd << 7) | 0x33;
}

#define SCRIBBLE      (RAM_BASE + 0x200000) /* each hart's MiB after it */
#define SCRIBBLE_SIZE 0x100000

/* Every hart counts in s1 and stores the count at a place that moves by
 * 32776 bytes a step through its own MiB at SCRIBBLE: 32 pages a lap. */
static void write_scribbler(Board *b)
{
    g_autoptr(GError) error = NULL;
    uint32_t p[16];
    gsize n = 0, loop;

    p[n++] = enc_csrr(T5, 0xf14);  /* mhartid */
    p[n++] = enc_auipc(S0, 0x200); /* s0 = SCRIBBLE */
    p[n++] = enc_slli(T5, T5, 20);
    p[n++] = enc_add(S0, S0, T5);
    p[n++] = enc_lui(T3, 0x100);
    p[n++] = enc_addi(T3, T3, -8); /* t3 = 0xffff8 */
    loop = n;
    p[n++] = enc_addi(S1, S1, 1);
    p[n++] = enc_slli(T0, S1, 12);
    p[n++] = enc_add(T0, T0, S1);
    p[n++] = enc_slli(T0, T0, 3);
    p[n++] = enc_and(T0, T0, T3);
    p[n++] = enc_add(T0, T0, S0);
    p[n++] = enc_sd(S1, T0, 0);
    p[n] = enc_jal(0, -(int32_t)((n - loop) * 4));
    n++;
    for (gsize i = 0; i < n; i++) {
        p[i] = GUINT32_TO_LE(p[i]);
    }
    g_assert_true(vireo_bus_write_block(board_bus(b), RAM_BASE, p, n * 4, &error));
    g_assert_no_error(error);
}

static GByteArray *save_ram(Board *b, const uint64_t *dirty)
{
    GByteArray *stream = g_byte_array_new();
    g_autoptr(VireoSnapWriter) w = vireo_snap_writer_new(to_bytes, stream);
    g_autoptr(GError) error = NULL;
    VireoRamSaveStats stats = { 0 };

    g_assert_true(vireo_machine_save_ram(b->machine, w, dirty, &stats, &error));
    g_assert_no_error(error);
    if (dirty != NULL) {
        uint64_t set = 0;
        for (gsize i = 0; i < vireo_bus_dirty_words(board_bus(b)); i++) {
            set += (uint64_t)__builtin_popcountll(dirty[i]);
        }
        g_assert_cmpuint(stats.pages, ==, set);
    }
    return stream;
}

static bool dirty_bit(const uint64_t *dirty, uint64_t addr)
{
    uint64_t page = (addr - RAM_BASE) / VIREO_PAGE_SIZE;
    return (dirty[page / 64] >> (page % 64)) & 1;
}

/* Two harts write RAM all along while it goes out in rounds into an image;
 * a device writes too (DMA). With the machine paused, the pages written
 * since the last round and the rest of the state go out; a fresh machine
 * loaded from the image and that stream holds exactly what the paused one
 * does. */
static void test_precopy(void)
{
    static const Shape two_harts = { 2, 8ull << 20, true };
    Board *b = board_new(&two_harts);
    Board *fresh = board_new(&two_harts);
    VireoBus *bus = board_bus(b);
    gsize words = vireo_bus_dirty_words(bus);
    g_autofree uint64_t *dirty = g_new0(uint64_t, words);
    g_autoptr(VireoRamImage) image = NULL;
    g_autoptr(GByteArray) stream = NULL;
    g_autoptr(GError) error = NULL;
    guint8 dma[100];
    Seen before, after;

    g_assert_cmpuint(words, ==, (8u << 20) / VIREO_PAGE_SIZE / 64);
    write_scribbler(b);
    g_assert_true(vireo_machine_start(b->machine, &error));
    g_assert_no_error(error);
    g_usleep(20000);

    g_assert_true(vireo_bus_dirty_log_start(bus, &error));
    g_assert_no_error(error);
    g_assert_true(vireo_bus_dirty_logging(bus));
    image = vireo_ram_image_new(two_harts.ram_size, &error);
    g_assert_no_error(error);
    stream = save_ram(b, NULL);
    g_assert_true(vireo_ram_image_apply(image, stream->data, stream->len, true, &error));
    g_assert_no_error(error);
    for (unsigned round = 0; round < 5; round++) {
        uint64_t n, where = NOISE + round * 3 * VIREO_PAGE_SIZE - 50;

        /* A device writes across a page boundary the harts never touch. */
        memset(dma, 0x30 + round, sizeof dma);
        g_assert_true(vireo_bus_dma_write(bus, where, dma, sizeof dma));
        g_usleep(10000);
        memset(dirty, 0, words * sizeof *dirty);
        n = vireo_bus_dirty_log_sync(bus, dirty);
        g_test_message("round %u: %" G_GUINT64_FORMAT " pages written", round + 1, n);
        /* The harts' 64 pages, the device's two, and never the program. */
        g_assert_cmpuint(n, >=, 2);
        g_assert_true(dirty_bit(dirty, where));
        g_assert_true(dirty_bit(dirty, where + sizeof dma - 1));
        g_assert_false(dirty_bit(dirty, RAM_BASE));
        g_clear_pointer(&stream, g_byte_array_unref);
        stream = save_ram(b, dirty);
        g_assert_true(vireo_ram_image_apply(image, stream->data, stream->len, true, &error));
        g_assert_no_error(error);
    }
    /* The pages a vCPU stores to are armed again after each look: the
     * harts' pages come back round after round. */
    g_assert_true(dirty_bit(dirty, SCRIBBLE) || dirty_bit(dirty, SCRIBBLE + 8 * 32776) ||
                  vireo_bus_dirty_log_sync(bus, dirty) > 0);

    vireo_machine_pause(b->machine);
    memset(dirty, 0, words * sizeof *dirty);
    vireo_bus_dirty_log_sync(bus, dirty);
    g_clear_pointer(&stream, g_byte_array_unref);
    stream = g_byte_array_new();
    {
        g_autoptr(VireoSnapWriter) w = vireo_snap_writer_new(to_bytes, stream);
        g_assert_true(vireo_machine_save_state_dirty(b->machine, w, dirty, &error));
        g_assert_no_error(error);
    }
    vireo_bus_dirty_log_stop(bus);
    g_assert_false(vireo_bus_dirty_logging(bus));
    for (uint64_t a = RAM_BASE; a < RAM_BASE + two_harts.ram_size; a += VIREO_PAGE_SIZE) {
        g_assert_cmphex(*vireo_bus_page_flags(bus, a) & VIREO_PAGE_DIRTY_LOG, ==, 0);
    }
    /* The final stream is not a whole machine: RAM changes without RAM. */
    assert_refused(fresh, stream->data, stream->len, VIREO_ERROR_FORMAT,
                   "changes to RAM without the RAM", NULL);
    g_assert_true(vireo_ram_image_apply(image, stream->data, stream->len, false, &error));
    g_assert_no_error(error);
    g_assert_true(vireo_machine_load_state_with_ram(fresh->machine, stream->data, stream->len,
                                                    image, &error));
    g_assert_no_error(error);
    seen_take(&before, b);
    seen_take(&after, fresh);
    seen_assert_same(&before, &after, two_harts.ram_size);
    g_assert_cmphex(vireo_rv_cpu_get_reg(fresh->harts[1], S1), ==,
                    vireo_rv_cpu_get_reg(b->harts[1], S1));
    g_assert_cmpuint(vireo_rv_cpu_get_reg(fresh->harts[0], S1), >, 1000);
    /* The image gave its RAM away. */
    g_assert_false(vireo_ram_image_apply(image, stream->data, stream->len, false, &error));
    g_clear_error(&error);
    seen_clear(&before);
    seen_clear(&after);
    board_free(b);
    board_free(fresh);
}

/* An image of the wrong size, or RAM sections of both kinds, are refused
 * and change nothing. */
static void test_precopy_refused(void)
{
    Board *b = board_new(&one_hart);
    g_autoptr(GByteArray) saved = NULL;
    g_autoptr(GByteArray) ram = NULL;
    g_autoptr(GByteArray) mixed = NULL;
    g_autoptr(VireoRamImage) small = vireo_ram_image_new(2u << 20, NULL);
    g_autoptr(VireoRamImage) image = vireo_ram_image_new(one_hart.ram_size, NULL);
    g_autoptr(GError) error = NULL;
    g_autofree uint64_t *all = NULL;
    Seen seen_before, seen_after;

    board_run_program(b);
    saved = save(b);
    seen_take(&seen_before, b);
    g_assert_false(
        vireo_machine_load_state_with_ram(b->machine, saved->data, saved->len, small, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT);
    g_clear_error(&error);
    seen_take(&seen_after, b);
    seen_assert_same(&seen_before, &seen_after, b->ram_size);
    /* A stream with "ram" and "ram-dirty" sections. */
    all = g_new0(uint64_t, vireo_bus_dirty_words(board_bus(b)));
    all[0] = 1;
    ram = save_ram(b, all);
    mixed = g_byte_array_new();
    {
        g_autoptr(GArray) sections = vireo_snap_parse(saved->data, saved->len, NULL);
        g_autoptr(GByteArray) payload = section_payload(ram, "ram-dirty", 0);
        g_autoptr(VireoSnapWriter) w = vireo_snap_writer_new(to_bytes, mixed);
        for (guint i = 0; i < sections->len; i++) {
            const VireoSnapSection *s = &g_array_index(sections, VireoSnapSection, i);
            g_assert_true(vireo_snap_write_section(w, s->name, s->instance, s->version, s->data,
                                                   s->len, NULL));
        }
        g_assert_true(
            vireo_snap_write_section(w, "ram-dirty", 0, 1, payload->data, payload->len, NULL));
        g_assert_true(vireo_snap_writer_finish(w, NULL));
    }
    g_assert_false(vireo_ram_image_apply(image, mixed->data, mixed->len, false, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_FORMAT);
    g_assert_nonnull(strstr(error->message, "both RAM and changes"));
    seen_clear(&seen_before);
    seen_clear(&seen_after);
    board_free(b);
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/machine-state/save-load", test_save_load);
    g_test_add_func("/engine/machine-state/new-machine", test_new_machine);
    g_test_add_func("/engine/machine-state/other-shape", test_other_shape);
    g_test_add_func("/engine/machine-state/corrupt", test_corrupt);
    g_test_add_func("/engine/machine-state/refused", test_refused);
    g_test_add_func("/engine/machine-state/cpu-versions", test_cpu_versions);
    g_test_add_func("/engine/machine-state/paused-input", test_paused_input);
    g_test_add_func("/engine/machine-state/precopy", test_precopy);
    g_test_add_func("/engine/machine-state/precopy-refused", test_precopy_refused);
    return g_test_run();
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Misaligned loads and stores of every size complete in hardware without a
 * trap (a Vireo implementation choice, which QEMU 7.2 shares): integer,
 * floating-point and compressed forms at every misaligned offset, sign and
 * zero extension, stores writing exactly their bytes, accesses across a
 * 4 KiB boundary (physical, and virtual with the two pages mapped to frames
 * in reverse order), S-mode and U-mode, and the faults of an access whose
 * second part is not permitted: for a page fault mtval is the address of
 * that part (the start of the page), as the privileged specification says
 * for misaligned accesses that fault.
 */
#include "guest.h"

#define LEVELS 3
#include "pagetable.h"

#define OP_LD 0
#define OP_SD 1
#define OP_LW 7
#define OP_SW 8

#define PAGE    4096ull
#define VA_P1   0x40000000ull
#define VA_P2   (VA_P1 + PAGE)
#define VA_BAD  (VA_P1 + 2 * PAGE)
#define VA_RO   (VA_P1 + 4 * PAGE)
#define VA_RO2  (VA_P1 + 5 * PAGE)
#define VA_USTB 0x40800000ull

uint64_t vm_access(unsigned mode, unsigned op, uint64_t va, uint64_t value, uint64_t stub_va,
                   uint64_t *out);
void pmp_allow_all(void);
int test_main(void);
extern char vm_stub[];

static uint8_t frames[8][4096] __attribute__((aligned(4096)));
static uint8_t buf[64] __attribute__((aligned(64)));

static uint64_t frame(int i)
{
    return (uint64_t)frames[i];
}

/* The little-endian value of n bytes at p, read byte by byte. */
static uint64_t bytes_le(const volatile uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static int64_t sext(uint64_t v, int bits)
{
    return (int64_t)(v << (64 - bits)) >> (64 - bits);
}

static void fill(volatile uint8_t *p, int n, uint8_t first)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(first + 0x11 * i);
}

#define LOAD(insn, addr)                                                       \
    ({                                                                         \
        uint64_t v_;                                                           \
        __asm__ volatile(insn " %0, 0(%1)" : "=r"(v_) : "r"(addr) : "memory"); \
        v_;                                                                    \
    })

#define STORE(insn, addr, val) \
    __asm__ volatile(insn " %0, 0(%1)" : : "r"(val), "r"(addr) : "memory")

static uint64_t flw_at(uint64_t a)
{
    uint64_t v;
    __asm__ volatile("flw ft0, 0(%1)\n fmv.x.d %0, ft0" : "=r"(v) : "r"(a) : "ft0", "memory");
    return v;
}

static uint64_t fld_at(uint64_t a)
{
    uint64_t v;
    __asm__ volatile("fld ft0, 0(%1)\n fmv.x.d %0, ft0" : "=r"(v) : "r"(a) : "ft0", "memory");
    return v;
}

static void fsw_at(uint64_t a, uint64_t v)
{
    __asm__ volatile("fmv.d.x ft0, %0\n fsw ft0, 0(%1)" : : "r"(v), "r"(a) : "ft0", "memory");
}

static void fsd_at(uint64_t a, uint64_t v)
{
    __asm__ volatile("fmv.d.x ft0, %0\n fsd ft0, 0(%1)" : : "r"(v), "r"(a) : "ft0", "memory");
}

static uint64_t c_ld_at(uint64_t a)
{
    register uint64_t base __asm__("s0") = a;
    register uint64_t v __asm__("s1");
    __asm__ volatile("c.ld s1, 8(s0)" : "=r"(v) : "r"(base) : "memory");
    return v;
}

static uint64_t c_lw_at(uint64_t a)
{
    register uint64_t base __asm__("a4") = a;
    register uint64_t v __asm__("a5");
    __asm__ volatile("c.lw a5, 4(a4)" : "=r"(v) : "r"(base) : "memory");
    return v;
}

static void c_sd_at(uint64_t a, uint64_t val)
{
    register uint64_t base __asm__("a2") = a;
    register uint64_t v __asm__("a3") = val;
    __asm__ volatile("c.sd a3, 0(a2)" : : "r"(v), "r"(base) : "memory");
}

static void c_sw_at(uint64_t a, uint64_t val)
{
    register uint64_t base __asm__("a0") = a;
    register uint64_t v __asm__("a1") = val;
    __asm__ volatile("c.sw a1, 0(a0)" : : "r"(v), "r"(base) : "memory");
}

/* c.ldsp / c.lwsp / c.sdsp with sp pointing at a misaligned address. */
static uint64_t c_ldsp_at(uint64_t a)
{
    uint64_t v;
    __asm__ volatile("mv t0, sp\n mv sp, %1\n c.ldsp t1, 0(sp)\n mv sp, t0\n mv %0, t1"
                     : "=r"(v)
                     : "r"(a)
                     : "t0", "t1", "memory");
    return v;
}

static uint64_t c_lwsp_at(uint64_t a)
{
    uint64_t v;
    __asm__ volatile("mv t0, sp\n mv sp, %1\n c.lwsp t1, 0(sp)\n mv sp, t0\n mv %0, t1"
                     : "=r"(v)
                     : "r"(a)
                     : "t0", "t1", "memory");
    return v;
}

static void c_sdsp_at(uint64_t a, uint64_t val)
{
    __asm__ volatile("mv t0, sp\n mv sp, %1\n c.sdsp %0, 0(sp)\n mv sp, t0"
                     :
                     : "r"(val), "r"(a)
                     : "t0", "memory");
}

static void check_loads(volatile uint8_t *base)
{
    uint64_t a = (uint64_t)base;
    for (int o = 1; o < 8; o++) {
        uint64_t p = a + o;
        CHECK(LOAD("ld", p) == bytes_le(base + o, 8));
        CHECK(LOAD("lw", p) == (uint64_t)sext(bytes_le(base + o, 4), 32));
        CHECK(LOAD("lwu", p) == bytes_le(base + o, 4));
        CHECK(LOAD("lh", p) == (uint64_t)sext(bytes_le(base + o, 2), 16));
        CHECK(LOAD("lhu", p) == bytes_le(base + o, 2));
    }
}

/* Stores `n` bytes of `val` at base + o by `insn`; the bytes around stay. */
static void check_store(volatile uint8_t *base, int o, int n, uint64_t val)
{
    fill(base, 24, 0xa0);
    uint8_t before[24];
    for (int i = 0; i < 24; i++)
        before[i] = base[i];
    uint64_t p = (uint64_t)base + o;
    switch (n) {
    case 2: STORE("sh", p, val); break;
    case 4: STORE("sw", p, val); break;
    case 8: STORE("sd", p, val); break;
    default: test_fail();
    }
    for (int i = 0; i < 24; i++) {
        if (i >= o && i < o + n)
            CHECK(base[i] == (uint8_t)(val >> (8 * (i - o))));
        else
            CHECK(base[i] == before[i]);
    }
}

static uint64_t s_do(unsigned op, uint64_t va, uint64_t value, uint64_t *out)
{
    return vm_access(PRV_S, op, va, value, (uint64_t)vm_stub, out);
}

static uint64_t u_do(unsigned op, uint64_t va, uint64_t value, uint64_t *out)
{
    return vm_access(PRV_U, op, va, value, VA_USTB, out);
}

int test_main(void)
{
    uint64_t v;

    CASE(1);
    /* every integer load at every misaligned offset, low and high bytes */
    fill(buf, 64, 0x01);
    check_loads(buf);
    CASE(2);
    fill(buf, 64, 0x80);
    check_loads(buf);
    check_loads(buf + 24);
    CASE(3);
    /* every integer store */
    for (int o = 1; o < 8; o++) {
        check_store(buf, o, 8, 0x0102030405060708ull);
        check_store(buf, o, 4, 0x89abcdefull);
        check_store(buf, o, 2, 0xfedcull);
    }
    check_store(buf, 9, 8, 0xffeeddccbbaa9988ull);
    check_store(buf, 15, 4, 0x11223344ull);

    CASE(4);
    /* floating point */
    CSR_SET(mstatus, 1ull << 13);
    fill(buf, 64, 0x31);
    CHECK(fld_at((uint64_t)buf + 3) == bytes_le(buf + 3, 8));
    CHECK(flw_at((uint64_t)buf + 5) == (0xffffffff00000000ull | bytes_le(buf + 5, 4)));
    CASE(5);
    fsd_at((uint64_t)buf + 1, 0x1122334455667788ull);
    CHECK(bytes_le(buf + 1, 8) == 0x1122334455667788ull);
    fsw_at((uint64_t)buf + 10, 0xffffffff99aabbccull);
    CHECK(bytes_le(buf + 10, 4) == 0x99aabbccull);
    CHECK(buf[14] == (uint8_t)(0x31 + 0x11 * 14));

    CASE(6);
    /* compressed loads and stores */
    fill(buf, 64, 0x42);
    CHECK(c_ld_at((uint64_t)buf + 3) == bytes_le(buf + 11, 8));
    CHECK(c_lw_at((uint64_t)buf + 1) == (uint64_t)sext(bytes_le(buf + 5, 4), 32));
    CHECK(c_ldsp_at((uint64_t)buf + 7) == bytes_le(buf + 7, 8));
    CHECK(c_lwsp_at((uint64_t)buf + 6) == (uint64_t)sext(bytes_le(buf + 6, 4), 32));
    CASE(7);
    c_sd_at((uint64_t)buf + 5, 0xa1a2a3a4a5a6a7a8ull);
    CHECK(bytes_le(buf + 5, 8) == 0xa1a2a3a4a5a6a7a8ull);
    c_sw_at((uint64_t)buf + 18, 0xb1b2b3b4ull);
    CHECK(bytes_le(buf + 18, 4) == 0xb1b2b3b4ull);
    c_sdsp_at((uint64_t)buf + 27, 0xc1c2c3c4c5c6c7c8ull);
    CHECK(bytes_le(buf + 27, 8) == 0xc1c2c3c4c5c6c7c8ull);

    CASE(8);
    /* across a 4 KiB boundary (physical) */
    {
        volatile uint8_t *edge = frames[1] - 8;
        fill(edge, 16, 0x10);
        check_loads(edge);
        check_store(edge, 5, 8, 0x0f0e0d0c0b0a0908ull);
        check_store(edge, 7, 4, 0x76543210ull);
        check_store(edge, 7, 2, 0x8899ull);
    }

    /* virtual: two pages mapped to frames in reverse order */
    pmp_allow_all();
    root = alloc_table();
    map(0x80000000ull, 0x80000000ull, 1, PTE_V | PTE_R | PTE_W | PTE_X | PTE_AD);
    map(0x80200000ull, 0x80200000ull, 1, PTE_V | PTE_R | PTE_W | PTE_X | PTE_AD);
    map(VA_USTB, (uint64_t)vm_stub, 0, PTE_V | PTE_R | PTE_X | PTE_U | PTE_AD);
    map(VA_P1, frame(4), 0, PTE_V | PTE_R | PTE_W | PTE_U | PTE_AD);
    map(VA_P2, frame(2), 0, PTE_V | PTE_R | PTE_W | PTE_U | PTE_AD);
    map(VA_RO, frame(5), 0, PTE_V | PTE_R | PTE_W | PTE_U | PTE_AD);
    map(VA_RO2, frame(6), 0, PTE_V | PTE_R | PTE_U | PTE_AD);
    CSR_WRITE(satp, (8ull << 60) | ((uint64_t)root >> 12));
    sfence_vma_all();
    CSR_SET(mstatus, MSTATUS_SUM);
    fill(frames[4] + 4088, 8, 0x01);
    fill(frames[2], 8, 0x09);
    CASE(9);
    CHECK(s_do(OP_LD, VA_P2 - 3, 0, &v) == CAUSE_ECALL_S);
    CHECK(v == (bytes_le(frames[4] + 4093, 3) | (bytes_le(frames[2], 5) << 24)));
    CHECK(s_do(OP_LW, VA_P2 - 1, 0, &v) == CAUSE_ECALL_S);
    CHECK(v == (uint64_t)sext(frames[4][4095] | (bytes_le(frames[2], 3) << 8), 32));
    CASE(10);
    CHECK(u_do(OP_SD, VA_P2 - 6, 0x8877665544332211ull, 0) == CAUSE_ECALL_U);
    CHECK(bytes_le(frames[4] + 4090, 6) == 0x665544332211ull);
    CHECK(bytes_le(frames[2], 2) == 0x8877ull);
    CHECK(u_do(OP_LD, VA_P2 - 6, 0, &v) == CAUSE_ECALL_U);
    CHECK(v == 0x8877665544332211ull);
    CASE(11);
    CHECK(s_do(OP_SW, VA_P1 + 4093, 0xdeadbeef, 0) == CAUSE_ECALL_S);
    CHECK(bytes_le(frames[4] + 4093, 3) == 0xadbeefull);
    CHECK(frames[2][0] == 0xde);
    CASE(12);
    /* the second page is invalid: a page fault for that part */
    CHECK(s_do(OP_LD, VA_BAD - 4, 0, 0) == CAUSE_LOAD_PAGE);
    CHECK(trap_frame.mtval == VA_BAD);
    CHECK(s_do(OP_SW, VA_BAD - 2, 0, 0) == CAUSE_STORE_PAGE);
    CHECK(trap_frame.mtval == VA_BAD);
    CASE(13);
    /* the first page is invalid: its address */
    CHECK(s_do(OP_LD, VA_P1 - 4, 0, 0) == CAUSE_LOAD_PAGE);
    CHECK(trap_frame.mtval == VA_P1 - 4);
    CASE(14);
    /* read-only second page */
    CHECK(u_do(OP_SD, VA_RO2 - 4, 0, 0) == CAUSE_STORE_PAGE);
    CHECK(trap_frame.mtval == VA_RO2);
    CHECK(u_do(OP_LD, VA_RO2 - 4, 0, &v) == CAUSE_ECALL_U);
    CSR_WRITE(satp, 0);
    sfence_vma_all();

    CASE(15);
    /* a physical access whose second part no PMP entry allows fails (as one
     * access that an entry matches only in part, or as two parts of which
     * the second fails: the specification allows both, so mtval is not
     * checked) */
    CSR_WRITE(pmpaddr0, ((uint64_t)vm_stub >> 2) | 0x1ff);
    CSR_WRITE(pmpaddr1, (frame(3) >> 2) | 0x1ff);
    CSR_WRITE(pmpcfg0, ((uint64_t)(PMP_NAPOT | PMP_R | PMP_W) << 8) | (PMP_NAPOT | PMP_R | PMP_X));
    CSR_WRITE(pmpcfg2, 0);
    sfence_vma_all();
    CHECK(s_do(OP_LD, frame(3) + 4092, 0, 0) == CAUSE_LOAD_ACCESS);
    CHECK(s_do(OP_SD, frame(3) + 4090, 0, 0) == CAUSE_STORE_ACCESS);
    CHECK(s_do(OP_LD, frame(3) + 4087, 0, &v) == CAUSE_ECALL_S);
    return 0;
}

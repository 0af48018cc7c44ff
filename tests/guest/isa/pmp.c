/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Physical memory protection: TOR, NA4 and NAPOT regions restricting S and
 * U (R, W and X separately, load/store/fetch access faults with mtval), the
 * lowest-numbered matching entry deciding, accesses that match an entry only
 * in part failing, no matching entry failing for S/U while entries are
 * active, M-mode unaffected unless the entry is locked, MPRV checked with
 * MPP's privilege, page-table walks checked as S-mode reads, the 4-byte
 * granularity, and locked entries (L) binding M-mode and ignoring writes.
 * (AMOs to a region without any permission are checked in vireo-impl.S.)
 */
#include "guest.h"

#define OP_LD     0
#define OP_SD     1
#define OP_JUMP   2
#define OP_LBU    3
#define OP_SB     4
#define OP_AMOADD 5
#define OP_LR     6
#define OP_LW     7
#define OP_SW     8

#define EXEC_LI_A6 0x5a500813u /* addi a6, zero, 0x5a5 */
#define EXEC_ECALL 0x00000073u

#define STUB_ENTRY 7

uint64_t vm_access(unsigned mode, unsigned op, uint64_t va, uint64_t value, uint64_t stub_va,
                   uint64_t *out);
uint64_t mprv_access(unsigned mpp, unsigned op, uint64_t va, uint64_t value, uint64_t *out);
int test_main(void);
extern char vm_stub[];

static uint8_t frames[6][4096] __attribute__((aligned(4096)));
static uint64_t root_table[512] __attribute__((aligned(4096)));

static uint64_t frame(int i)
{
    return (uint64_t)frames[i];
}

static void poke64(uint64_t pa, uint64_t v)
{
    *(volatile uint64_t *)pa = v;
}

static uint64_t peek64(uint64_t pa)
{
    return *(volatile uint64_t *)pa;
}

static void set_pmpaddr(int i, uint64_t v)
{
    switch (i) {
    case 0: CSR_WRITE(pmpaddr0, v); break;
    case 1: CSR_WRITE(pmpaddr1, v); break;
    case 2: CSR_WRITE(pmpaddr2, v); break;
    case 3: CSR_WRITE(pmpaddr3, v); break;
    case 4: CSR_WRITE(pmpaddr4, v); break;
    case 5: CSR_WRITE(pmpaddr5, v); break;
    case 6: CSR_WRITE(pmpaddr6, v); break;
    case 7: CSR_WRITE(pmpaddr7, v); break;
    case 8: CSR_WRITE(pmpaddr8, v); break;
    case 9: CSR_WRITE(pmpaddr9, v); break;
    case 10: CSR_WRITE(pmpaddr10, v); break;
    case 11: CSR_WRITE(pmpaddr11, v); break;
    case 12: CSR_WRITE(pmpaddr12, v); break;
    case 13: CSR_WRITE(pmpaddr13, v); break;
    case 14: CSR_WRITE(pmpaddr14, v); break;
    case 15: CSR_WRITE(pmpaddr15, v); break;
    default: test_fail();
    }
}

static uint64_t get_pmpaddr(int i)
{
    switch (i) {
    case 5: return CSR_READ(pmpaddr5);
    case 6: return CSR_READ(pmpaddr6);
    case 15: return CSR_READ(pmpaddr15);
    default: test_fail();
    }
}

/* The 8-bit configuration of entry i, others in the same CSR untouched. */
static void set_pmpcfg(int i, unsigned cfg)
{
    uint64_t shift = (uint64_t)(i % 8) * 8;
    uint64_t mask = 0xffull << shift;
    uint64_t v = (uint64_t)cfg << shift;
    if (i < 8) {
        CSR_CLEAR(pmpcfg0, mask);
        CSR_SET(pmpcfg0, v);
    } else {
        CSR_CLEAR(pmpcfg2, mask);
        CSR_SET(pmpcfg2, v);
    }
    sfence_vma_all();
}

static unsigned get_pmpcfg(int i)
{
    uint64_t v = i < 8 ? CSR_READ(pmpcfg0) : CSR_READ(pmpcfg2);
    return (v >> ((i % 8) * 8)) & 0xff;
}

static uint64_t napot(uint64_t base, uint64_t size)
{
    return (base >> 2) | ((size >> 3) - 1);
}

/* Turns every entry off except the one that lets S and U run vm_stub. */
static void pmp_reset(void)
{
    CSR_WRITE(pmpcfg0, 0);
    CSR_WRITE(pmpcfg2, 0);
    set_pmpaddr(STUB_ENTRY, napot((uint64_t)vm_stub, 4096));
    set_pmpcfg(STUB_ENTRY, PMP_NAPOT | PMP_R | PMP_X);
}

static uint64_t s_do(unsigned op, uint64_t pa, uint64_t value, uint64_t *out)
{
    return vm_access(PRV_S, op, pa, value, (uint64_t)vm_stub, out);
}

static uint64_t u_do(unsigned op, uint64_t pa, uint64_t value, uint64_t *out)
{
    return vm_access(PRV_U, op, pa, value, (uint64_t)vm_stub, out);
}

#define S_OK(op, pa, value, out) CHECK(s_do(op, pa, value, out) == CAUSE_ECALL_S)
#define U_OK(op, pa, value, out) CHECK(u_do(op, pa, value, out) == CAUSE_ECALL_U)

static void s_fault(unsigned op, uint64_t pa, uint64_t cause)
{
    CHECK(s_do(op, pa, 0, 0) == cause);
    CHECK(trap_frame.mtval == pa);
}

static void u_fault(unsigned op, uint64_t pa, uint64_t cause)
{
    CHECK(u_do(op, pa, 0, 0) == cause);
    CHECK(trap_frame.mtval == pa);
}

/* One M-mode access; returns 0 or the exception's cause. */
static uint64_t m_do(unsigned op, uint64_t pa, uint64_t value, uint64_t *out)
{
    return mprv_access(PRV_M, op, pa, value, out);
}

int test_main(void)
{
    uint64_t v;

    CASE(1);
    /* 4-byte granularity: with the entry off, all ones written to pmpaddr
     * read back with bit 0 set (G = 0) */
    CSR_WRITE(pmpcfg0, 0);
    CSR_WRITE(pmpcfg2, 0);
    set_pmpaddr(15, ~0ull);
    CHECK((get_pmpaddr(15) & 1) == 1);
    set_pmpaddr(15, 0);
    CASE(2);
    set_pmpcfg(6, PMP_TOR | PMP_R | PMP_W | PMP_X);
    CHECK(get_pmpcfg(6) == (PMP_TOR | PMP_R | PMP_W | PMP_X));
    set_pmpcfg(15, PMP_NA4 | PMP_X);
    CHECK(get_pmpcfg(15) == (PMP_NA4 | PMP_X));
    set_pmpcfg(15, 0);

    pmp_reset();
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 512; j++)
            poke64(frame(i) + 8 * j, ((uint64_t)i << 32) | (uint64_t)j);

    /* the stub runs; nothing else matches, so S and U accesses fail */
    CASE(3);
    s_fault(OP_LD, frame(0), CAUSE_LOAD_ACCESS);
    s_fault(OP_SD, frame(0) + 8, CAUSE_STORE_ACCESS);
    s_fault(OP_JUMP, frame(0), CAUSE_FETCH_ACCESS);
    CASE(4);
    u_fault(OP_LD, frame(1) + 0x10, CAUSE_LOAD_ACCESS);
    u_fault(OP_LR, frame(1), CAUSE_LOAD_ACCESS);
    CASE(5);
    /* M-mode is not restricted by entries without L */
    CHECK(m_do(OP_SD, frame(0), 0x77, 0) == 0);
    CHECK(peek64(frame(0)) == 0x77);

    /* TOR: [pmpaddr(i-1), pmpaddr(i)) */
    CASE(6);
    set_pmpaddr(0, frame(0) >> 2);
    set_pmpaddr(1, (frame(0) + 4096) >> 2);
    set_pmpcfg(1, PMP_TOR | PMP_R);
    S_OK(OP_LD, frame(0) + 8, 0, &v);
    CHECK(v == 1);
    S_OK(OP_LD, frame(0) + 4088, 0, &v);
    CHECK(v == 511);
    U_OK(OP_LBU, frame(0), 0, &v);
    CHECK(v == 0x77);
    CASE(7);
    s_fault(OP_SD, frame(0) + 8, CAUSE_STORE_ACCESS);
    u_fault(OP_SB, frame(0) + 4095, CAUSE_STORE_ACCESS);
    u_fault(OP_AMOADD, frame(0) + 16, CAUSE_STORE_ACCESS);
    s_fault(OP_JUMP, frame(0), CAUSE_FETCH_ACCESS);
    CASE(8);
    /* just outside on both sides */
    s_fault(OP_LD, frame(0) - 8, CAUSE_LOAD_ACCESS);
    s_fault(OP_LBU, frame(0) + 4096, CAUSE_LOAD_ACCESS);
    CASE(9);
    set_pmpcfg(1, PMP_TOR | PMP_R | PMP_W);
    S_OK(OP_SD, frame(0) + 8, 0x1234, 0);
    CHECK(peek64(frame(0) + 8) == 0x1234);
    U_OK(OP_AMOADD, frame(0) + 8, 1, &v);
    CHECK(v == 0x1234);
    CHECK(peek64(frame(0) + 8) == 0x1235);
    CASE(10);
    /* entry 0 as TOR: from address 0 (the stub below the frames included,
     * hence X) */
    set_pmpaddr(0, (frame(0) + 16) >> 2);
    set_pmpcfg(0, PMP_TOR | PMP_R | PMP_X);
    set_pmpcfg(1, 0);
    S_OK(OP_LD, frame(0) + 8, 0, &v);
    CHECK(v == 0x1235);
    s_fault(OP_LD, frame(0) + 16, CAUSE_LOAD_ACCESS);
    s_fault(OP_SD, frame(0) + 8, CAUSE_STORE_ACCESS);
    CASE(11);
    /* an empty TOR range (top below bottom) matches nothing */
    set_pmpcfg(0, 0);
    set_pmpaddr(0, (frame(0) + 4096) >> 2);
    set_pmpaddr(1, frame(0) >> 2);
    set_pmpcfg(1, PMP_TOR | PMP_R | PMP_W | PMP_X);
    s_fault(OP_LD, frame(0) + 8, CAUSE_LOAD_ACCESS);
    pmp_reset();

    /* NA4: one 4-byte word */
    CASE(12);
    set_pmpaddr(2, (frame(1) + 8) >> 2);
    set_pmpcfg(2, PMP_NA4 | PMP_R);
    S_OK(OP_LW, frame(1) + 8, 0, &v);
    CHECK(v == 1);
    CASE(13);
    s_fault(OP_LW, frame(1) + 12, CAUSE_LOAD_ACCESS);
    s_fault(OP_LW, frame(1) + 4, CAUSE_LOAD_ACCESS);
    CASE(14);
    /* an access matching the entry only in part fails */
    s_fault(OP_LD, frame(1) + 8, CAUSE_LOAD_ACCESS);
    CASE(15);
    s_fault(OP_SW, frame(1) + 8, CAUSE_STORE_ACCESS);
    set_pmpcfg(2, PMP_NA4 | PMP_R | PMP_W);
    U_OK(OP_SW, frame(1) + 8, 0xabcd, 0);
    CHECK(*(volatile uint32_t *)(frame(1) + 8) == 0xabcd);
    CASE(16);
    /* a partial match fails M-mode accesses too, whatever L says */
    CHECK(m_do(OP_LD, frame(1) + 8, 0, 0) == CAUSE_LOAD_ACCESS);
    CHECK(m_do(OP_SD, frame(1) + 8, 0, 0) == CAUSE_STORE_ACCESS);
    CHECK(m_do(OP_LD, frame(1) + 16, 0, &v) == 0);
    pmp_reset();

    /* NAPOT */
    CASE(17);
    set_pmpaddr(3, napot(frame(2), 4096));
    set_pmpcfg(3, PMP_NAPOT | PMP_R | PMP_W);
    S_OK(OP_LD, frame(2), 0, &v);
    CHECK(v == (2ull << 32));
    S_OK(OP_SD, frame(2) + 4088, 5, 0);
    CHECK(peek64(frame(2) + 4088) == 5);
    U_OK(OP_LD, frame(2) + 2048, 0, &v);
    CHECK(v == ((2ull << 32) | 256));
    CASE(18);
    s_fault(OP_LD, frame(2) + 4096, CAUSE_LOAD_ACCESS);
    s_fault(OP_LD, frame(2) - 8, CAUSE_LOAD_ACCESS);
    s_fault(OP_JUMP, frame(2), CAUSE_FETCH_ACCESS);
    CASE(19);
    /* the smallest NAPOT region: 8 bytes */
    set_pmpaddr(3, napot(frame(2) + 16, 8));
    S_OK(OP_LD, frame(2) + 16, 0, &v);
    CHECK(v == ((2ull << 32) | 2));
    s_fault(OP_LD, frame(2) + 24, CAUSE_LOAD_ACCESS);
    s_fault(OP_LD, frame(2) + 8, CAUSE_LOAD_ACCESS);
    CASE(20);
    /* 8 KiB over two frames */
    {
        int i = (frame(0) & 0x1fff) ? 1 : 0;
        set_pmpaddr(3, napot(frame(i), 0x2000));
        S_OK(OP_LD, frame(i) + 32, 0, &v);
        CHECK(v == (((uint64_t)i << 32) | 4));
        S_OK(OP_LD, frame(i + 1) + 4088, 0, &v);
        CHECK(v == (((uint64_t)(i + 1) << 32) | 511));
        s_fault(OP_LD, frame(i + 2), CAUSE_LOAD_ACCESS);
    }
    pmp_reset();

    /* execute permission */
    CASE(21);
    ((volatile uint32_t *)frame(3))[0] = EXEC_LI_A6;
    ((volatile uint32_t *)frame(3))[1] = EXEC_ECALL;
    __asm__ volatile("fence.i" : : : "memory");
    set_pmpaddr(4, napot(frame(3), 4096));
    set_pmpcfg(4, PMP_NAPOT | PMP_R | PMP_W);
    s_fault(OP_JUMP, frame(3), CAUSE_FETCH_ACCESS);
    CHECK(trap_frame.mepc == frame(3));
    CASE(22);
    set_pmpcfg(4, PMP_NAPOT | PMP_X);
    S_OK(OP_JUMP, frame(3), 0, &v);
    CHECK(v == 0x5a5);
    U_OK(OP_JUMP, frame(3), 0, &v);
    CHECK(v == 0x5a5);
    s_fault(OP_LW, frame(3), CAUSE_LOAD_ACCESS);
    CASE(23);
    /* mstatus.MXR does not widen PMP permissions */
    CSR_SET(mstatus, MSTATUS_MXR);
    s_fault(OP_LW, frame(3), CAUSE_LOAD_ACCESS);
    CSR_CLEAR(mstatus, MSTATUS_MXR);
    pmp_reset();

    /* priority: the lowest-numbered matching entry decides */
    CASE(24);
    set_pmpaddr(1, napot(frame(4), 4096));
    set_pmpcfg(1, PMP_NAPOT | PMP_R);
    set_pmpaddr(5, napot(frame(4), 4096));
    set_pmpcfg(5, PMP_NAPOT | PMP_R | PMP_W | PMP_X);
    s_fault(OP_SD, frame(4), CAUSE_STORE_ACCESS);
    S_OK(OP_LD, frame(4), 0, &v);
    CASE(25);
    set_pmpcfg(1, PMP_NAPOT | PMP_R | PMP_W);
    set_pmpcfg(5, PMP_NAPOT);
    S_OK(OP_SD, frame(4), 6, 0);
    CHECK(peek64(frame(4)) == 6);
    CASE(26);
    /* an entry decides even when it grants nothing */
    set_pmpcfg(1, PMP_NAPOT);
    set_pmpcfg(5, PMP_NAPOT | PMP_R | PMP_W | PMP_X);
    s_fault(OP_LD, frame(4), CAUSE_LOAD_ACCESS);
    CASE(27);
    /* an entry matching part of an access fails it, even if a later one
     * covers all of it */
    set_pmpaddr(1, (frame(4) + 8) >> 2);
    set_pmpcfg(1, PMP_NA4 | PMP_R | PMP_W);
    s_fault(OP_LD, frame(4) + 8, CAUSE_LOAD_ACCESS);
    S_OK(OP_LD, frame(4) + 16, 0, &v);
    pmp_reset();

    /* MPRV: M-mode loads and stores checked with MPP's privilege */
    CASE(28);
    set_pmpaddr(1, napot(frame(4), 4096));
    set_pmpcfg(1, PMP_NAPOT | PMP_R);
    CHECK(mprv_access(PRV_U, OP_LD, frame(4), 0, &v) == 0);
    CHECK(v == 6);
    CHECK(mprv_access(PRV_S, OP_SD, frame(4), 1, 0) == CAUSE_STORE_ACCESS);
    CHECK(trap_frame.mtval == frame(4));
    CHECK(mprv_access(PRV_U, OP_LD, frame(5), 0, 0) == CAUSE_LOAD_ACCESS);
    CASE(29);
    CHECK(mprv_access(PRV_M, OP_SD, frame(4), 8, 0) == 0);
    CHECK(peek64(frame(4)) == 8);
    pmp_reset();

    /* page-table walks are S-mode reads: denied, they raise access faults
     * of the original access type */
    CASE(30);
    root_table[2] = ((0x80000000ull >> 12) << 10) | 0xcf; /* 1 GiB identity, RWX, AD */
    set_pmpaddr(0, napot((uint64_t)root_table, 4096));
    set_pmpcfg(0, PMP_NAPOT);
    set_pmpaddr(1, napot(frame(4), 4096));
    set_pmpcfg(1, PMP_NAPOT | PMP_R | PMP_W);
    CSR_WRITE(satp, (8ull << 60) | ((uint64_t)root_table >> 12));
    sfence_vma_all();
    CHECK(s_do(OP_LD, frame(4), 0, 0) == CAUSE_FETCH_ACCESS);
    CHECK(trap_frame.mtval == (uint64_t)vm_stub);
    CASE(31);
    /* readable page tables: the same accesses work */
    set_pmpcfg(0, PMP_NAPOT | PMP_R);
    S_OK(OP_LD, frame(4), 0, &v);
    CHECK(v == 8);
    CSR_WRITE(satp, 0);
    sfence_vma_all();
    pmp_reset();

    /* locked entries: M-mode is bound too, and writes to them are ignored */
    CASE(32);
    set_pmpaddr(6, napot(frame(5), 4096));
    set_pmpcfg(6, PMP_NAPOT | PMP_R | PMP_L);
    CHECK(get_pmpcfg(6) == (PMP_NAPOT | PMP_R | PMP_L));
    CHECK(m_do(OP_LD, frame(5) + 8, 0, &v) == 0);
    CHECK(v == ((5ull << 32) | 1));
    CASE(33);
    CHECK(m_do(OP_SD, frame(5) + 8, 0, 0) == CAUSE_STORE_ACCESS);
    CHECK(trap_frame.mtval == frame(5) + 8);
    CHECK(peek64(frame(5) + 8) == ((5ull << 32) | 1));
    CASE(34);
    CHECK(m_do(OP_SB, frame(5) + 4095, 1, 0) == CAUSE_STORE_ACCESS);
    CASE(35);
    /* M-mode outside the locked entry is unrestricted */
    CHECK(m_do(OP_SD, frame(4), 9, 0) == 0);
    CASE(36);
    set_pmpcfg(6, PMP_NAPOT | PMP_R | PMP_W | PMP_X);
    CHECK(get_pmpcfg(6) == (PMP_NAPOT | PMP_R | PMP_L));
    set_pmpaddr(6, 0);
    CHECK(get_pmpaddr(6) == napot(frame(5), 4096));
    CASE(37);
    /* the lock applies to S and U as well */
    S_OK(OP_LD, frame(5), 0, &v);
    s_fault(OP_SD, frame(5), CAUSE_STORE_ACCESS);
    CASE(38);
    /* a locked TOR entry also locks the pmpaddr below it */
    set_pmpaddr(4, frame(4) >> 2);
    set_pmpaddr(5, (frame(4) + 4096) >> 2);
    set_pmpcfg(5, PMP_TOR | PMP_R | PMP_W | PMP_L);
    set_pmpaddr(4, 0);
    set_pmpaddr(5, 0);
    CHECK(get_pmpaddr(5) == (frame(4) + 4096) >> 2);
    CHECK(m_do(OP_SD, frame(4), 10, 0) == 0);
    CHECK(m_do(OP_LD, frame(4) - 8, 0, 0) == 0);
    CASE(39);
    /* M-mode fetch from a locked region without X faults */
    ((volatile uint32_t *)frame(4))[0] = 0x00008067; /* ret */
    __asm__ volatile("fence.i" : : : "memory");
    trap_frame.mcause = NO_TRAP;
    {
        uint64_t cause;
        __asm__ volatile("la t0, 1f\n"
                         "la t1, trap_frame\n"
                         "sd t0, 48(t1)\n"
                         "jalr ra, 0(%1)\n"
                         "1:\n"
                         "ld %0, 16(t1)\n"
                         : "=r"(cause)
                         : "r"(frame(4))
                         : "t0", "t1", "t5", "t6", "ra", "memory");
        CHECK(cause == CAUSE_FETCH_ACCESS);
    }
    CHECK(trap_frame.mtval == frame(4));
    return 0;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Zicbom, Zicboz and Zicbop with 64-byte cache blocks (Zic64b), as the
 * unprivileged specification's CMO chapter and the envcfg registers of the
 * privileged one define them:
 *  - cbo.zero zeroes exactly the naturally aligned 64-byte block that holds
 *    rs1 (any offset), up to the last block of RAM; cbo.clean, cbo.flush and
 *    cbo.inval leave memory as it is (memory is coherent) and prefetches are
 *    no-ops;
 *  - menvcfg.CBZE/CBCFE/CBIE enable them below M-mode and senvcfg's in
 *    U-mode, else illegal instruction (M-mode always may); CBIE's reserved
 *    value 2 is not taken;
 *  - faults are store faults with the value of rs1 in mtval: page faults
 *    where translation allows no access (cbo.zero: no store), access faults
 *    for PMP, ROM, devices and vacant addresses; cbo.zero sets A and D,
 *    the management operations A only;
 *  - reserved encodings (rd != x0, other operations) are illegal.
 * QEMU 7.2 has none of these extensions: the program is Vireo-only. Runs
 * with the default 256 MiB of RAM.
 */
#include "guest.h"

#define LEVELS 3
#include "pagetable.h"

#define OP_LD       0
#define OP_CBO_ZERO 9
#define OP_CLEAN    10
#define OP_FLUSH    11
#define OP_INVAL    12

#define PAGE     4096ull
#define RAM_END  0x90000000ull
#define VA_RW    0x40000000ull /* RW, A and D set */
#define VA_RO    (VA_RW + PAGE)
#define VA_XO    (VA_RW + 2 * PAGE)
#define VA_NOAD  (VA_RW + 3 * PAGE) /* RW, A and D clear */
#define VA_NONE  (VA_RW + 4 * PAGE) /* not mapped */
#define VA_USER  (VA_RW + 5 * PAGE) /* RW, U */
#define VA_PMPRO (VA_RW + 6 * PAGE) /* RW, but PMP read-only */
#define VA_USTB  0x40800000ull

#define CSR_MENVCFG "0x30a"
#define CSR_SENVCFG "0x10a"
#define CBIE_FLUSH  (1ull << 4)
#define CBIE_INVAL  (3ull << 4)
#define CBIE_MASK   (3ull << 4)
#define CBCFE       (1ull << 6)
#define CBZE        (1ull << 7)

uint64_t vm_access(unsigned mode, unsigned op, uint64_t va, uint64_t value, uint64_t stub_va,
                   uint64_t *out);
void pmp_allow_all(void);
int test_main(void);
extern char vm_stub[];

static uint8_t frames[8][4096] __attribute__((aligned(4096)));

#define ENVCFG_WRITE(csr, v) __asm__ volatile("csrw " csr ", %0" : : "r"((uint64_t)(v)) : "memory")
#define ENVCFG_READ(csr)                              \
    ({                                                \
        uint64_t v_;                                  \
        __asm__ volatile("csrr %0, " csr : "=r"(v_)); \
        v_;                                           \
    })

static void cbo_zero(uint64_t a)
{
    __asm__ volatile(".insn i 0x0f, 2, x0, %0, 4" : : "r"(a) : "memory");
}

static void cbo_clean(uint64_t a)
{
    __asm__ volatile(".insn i 0x0f, 2, x0, %0, 1" : : "r"(a) : "memory");
}

static void cbo_flush(uint64_t a)
{
    __asm__ volatile(".insn i 0x0f, 2, x0, %0, 2" : : "r"(a) : "memory");
}

static void cbo_inval(uint64_t a)
{
    __asm__ volatile(".insn i 0x0f, 2, x0, %0, 0" : : "r"(a) : "memory");
}

/* Arms the M-mode handler to resume at label 1 of the asm that follows,
 * with mcause reading NO_TRAP until a trap comes (the trap frame's
 * mresume and mcause are at offsets 48 and 16). */
#define ARM_TRAP         \
    "la t5, 1f\n"        \
    "sd t5, 48(%[tf])\n" \
    "li t5, %[none]\n"   \
    "sd t5, 16(%[tf])\n"

/* One M-mode cache-block operation, cbo.zero (zero) or cbo.clean; returns
 * the cause of its trap (mtval in the trap frame), or NO_TRAP. */
static uint64_t m_cbo(int zero, uint64_t a)
{
    __asm__ volatile(
        ARM_TRAP "bnez %[zero], 2f\n"
                 ".insn i 0x0f, 2, x0, %[a], 1\n" /* cbo.clean */
                 "j 1f\n"
                 "2: .insn i 0x0f, 2, x0, %[a], 4\n" /* cbo.zero */
                 "1: sd zero, 48(%[tf])\n"
        :
        : [tf] "r"(&trap_frame), [none] "i"(NO_TRAP), [zero] "r"((uint64_t)zero), [a] "r"(a)
        : "t5", "memory");
    return trap_frame.mcause;
}

/* Runs the 32-bit word w as an instruction in M-mode with a0 = a; returns
 * the cause of its trap, or NO_TRAP. */
#define M_WORD(w, a)                                                                \
    ({                                                                              \
        __asm__ volatile("mv a0, %[arg]\n" ARM_TRAP ".word " #w "\n"                \
                         "1: sd zero, 48(%[tf])\n"                                  \
                         :                                                          \
                         : [tf] "r"(&trap_frame), [none] "i"(NO_TRAP), [arg] "r"(a) \
                         : "t5", "a0", "memory");                                   \
        trap_frame.mcause;                                                          \
    })

static uint64_t frame(int i)
{
    return (uint64_t)frames[i];
}

static void fill(volatile uint8_t *p, int n, uint8_t v)
{
    for (int i = 0; i < n; i++)
        p[i] = v;
}

/* Bytes [from, to) of p hold v. */
static int all(const volatile uint8_t *p, int from, int to, uint8_t v)
{
    for (int i = from; i < to; i++)
        if (p[i] != v)
            return 0;
    return 1;
}

static uint64_t s_do(unsigned op, uint64_t va)
{
    return vm_access(PRV_S, op, va, 0, (uint64_t)vm_stub, 0);
}

static uint64_t u_do(unsigned op, uint64_t va)
{
    return vm_access(PRV_U, op, va, 0, VA_USTB, 0);
}

int test_main(void)
{
    volatile uint8_t *f0 = frames[0];

    CASE(1);
    /* cbo.zero zeroes the aligned block that holds rs1, and only it */
    fill(f0, 256, 0xa5);
    cbo_zero(frame(0) + 64 + 13);
    CHECK(all(f0, 0, 64, 0xa5) && all(f0, 64, 128, 0) && all(f0, 128, 256, 0xa5));
    cbo_zero(frame(0) + 255);
    CHECK(all(f0, 128, 192, 0xa5) && all(f0, 192, 256, 0));
    cbo_zero(frame(0));
    CHECK(all(f0, 0, 128, 0) && all(f0, 128, 192, 0xa5));

    CASE(2);
    /* clean, flush and invalidate leave memory as it is; prefetches too */
    fill(f0, 64, 0x3c);
    cbo_clean(frame(0) + 5);
    cbo_flush(frame(0) + 63);
    cbo_inval(frame(0));
    __asm__ volatile("ori x0, %0, 0\n ori x0, %0, 1\n ori x0, %0, 3" : : "r"(frame(0)));
    CHECK(all(f0, 0, 64, 0x3c));

    CASE(3);
    /* the last block of RAM; past it, a store access fault at rs1 */
    {
        volatile uint64_t *last = (volatile uint64_t *)(RAM_END - 64);
        for (int i = 0; i < 8; i++)
            last[i] = ~0ull;
        cbo_zero(RAM_END - 1);
        for (int i = 0; i < 8; i++)
            CHECK(last[i] == 0);
        CHECK(m_cbo(1, RAM_END + 8) == CAUSE_STORE_ACCESS);
        CHECK(trap_frame.mtval == RAM_END + 8);
        CHECK(m_cbo(0, RAM_END) == CAUSE_STORE_ACCESS);
        CHECK(trap_frame.mtval == RAM_END);
    }

    CASE(4);
    /* cbo.zero to the reset ROM or to a device: store access fault; the
     * management operations may touch them (loads may) */
    CHECK(m_cbo(1, 0x1010) == CAUSE_STORE_ACCESS);
    CHECK(trap_frame.mtval == 0x1010);
    CHECK(m_cbo(1, 0x10000000) == CAUSE_STORE_ACCESS);
    CHECK(trap_frame.mtval == 0x10000000);
    CHECK(m_cbo(0, 0x1010) == NO_TRAP);
    CHECK(m_cbo(0, 0x10000000) == NO_TRAP);

    CASE(5);
    /* menvcfg and senvcfg: the CMO fields are writable, CBIE's reserved
     * value 2 is not taken */
    ENVCFG_WRITE(CSR_MENVCFG, CBIE_INVAL | CBCFE | CBZE);
    CHECK((ENVCFG_READ(CSR_MENVCFG) & 0xff) == (CBIE_INVAL | CBCFE | CBZE));
    ENVCFG_WRITE(CSR_MENVCFG, 2ull << 4);
    CHECK((ENVCFG_READ(CSR_MENVCFG) & 0xff) == CBIE_INVAL);
    ENVCFG_WRITE(CSR_SENVCFG, CBIE_FLUSH | CBCFE | CBZE);
    CHECK(ENVCFG_READ(CSR_SENVCFG) == (CBIE_FLUSH | CBCFE | CBZE));
    ENVCFG_WRITE(CSR_SENVCFG, (2ull << 4) | 0xff00);
    CHECK(ENVCFG_READ(CSR_SENVCFG) == CBIE_FLUSH);

    /* Page tables for S-mode and U-mode. */
    pmp_allow_all();
    root = alloc_table();
    map(0x80000000ull, 0x80000000ull, 1, PTE_V | PTE_R | PTE_W | PTE_X | PTE_AD);
    map(0x80200000ull, 0x80200000ull, 1, PTE_V | PTE_R | PTE_W | PTE_X | PTE_AD);
    map(VA_USTB, (uint64_t)vm_stub, 0, PTE_V | PTE_R | PTE_X | PTE_U | PTE_AD);
    map(VA_RW, frame(1), 0, PTE_V | PTE_R | PTE_W | PTE_AD);
    map(VA_RO, frame(2), 0, PTE_V | PTE_R | PTE_AD);
    map(VA_XO, frame(3), 0, PTE_V | PTE_X | PTE_AD);
    map(VA_NOAD, frame(4), 0, PTE_V | PTE_R | PTE_W);
    map(VA_USER, frame(5), 0, PTE_V | PTE_R | PTE_W | PTE_U | PTE_AD);
    map(VA_PMPRO, frame(6), 0, PTE_V | PTE_R | PTE_W | PTE_AD);
    CSR_WRITE(satp, (8ull << 60) | ((uint64_t)root >> 12));
    sfence_vma_all();

    CASE(6);
    /* below M-mode, each operation needs its menvcfg field */
    ENVCFG_WRITE(CSR_MENVCFG, 0);
    ENVCFG_WRITE(CSR_SENVCFG, 0);
    CHECK(s_do(OP_CBO_ZERO, VA_RW) == CAUSE_ILLEGAL);
    CHECK(trap_frame.mtval == 0x0046200f); /* cbo.zero (a2) */
    CHECK(s_do(OP_CLEAN, VA_RW) == CAUSE_ILLEGAL);
    CHECK(s_do(OP_FLUSH, VA_RW) == CAUSE_ILLEGAL);
    CHECK(s_do(OP_INVAL, VA_RW) == CAUSE_ILLEGAL);
    CHECK(trap_frame.mtval == 0x0006200f); /* cbo.inval (a2) */
    cbo_zero(frame(0));                    /* M-mode always may */
    ENVCFG_WRITE(CSR_MENVCFG, CBZE);
    CHECK(s_do(OP_CBO_ZERO, VA_RW) == CAUSE_ECALL_S);
    CHECK(s_do(OP_CLEAN, VA_RW) == CAUSE_ILLEGAL);
    ENVCFG_WRITE(CSR_MENVCFG, CBCFE);
    CHECK(s_do(OP_CBO_ZERO, VA_RW) == CAUSE_ILLEGAL);
    CHECK(s_do(OP_CLEAN, VA_RW) == CAUSE_ECALL_S);
    CHECK(s_do(OP_FLUSH, VA_RW) == CAUSE_ECALL_S);
    CHECK(s_do(OP_INVAL, VA_RW) == CAUSE_ILLEGAL);
    ENVCFG_WRITE(CSR_MENVCFG, CBIE_FLUSH);
    CHECK(s_do(OP_INVAL, VA_RW) == CAUSE_ECALL_S);
    CHECK(s_do(OP_FLUSH, VA_RW) == CAUSE_ILLEGAL);
    ENVCFG_WRITE(CSR_MENVCFG, CBIE_INVAL);
    CHECK(s_do(OP_INVAL, VA_RW) == CAUSE_ECALL_S);

    CASE(7);
    /* in U-mode, senvcfg's field too */
    ENVCFG_WRITE(CSR_MENVCFG, CBIE_INVAL | CBCFE | CBZE);
    ENVCFG_WRITE(CSR_SENVCFG, 0);
    CHECK(u_do(OP_CBO_ZERO, VA_USER) == CAUSE_ILLEGAL);
    CHECK(u_do(OP_CLEAN, VA_USER) == CAUSE_ILLEGAL);
    CHECK(u_do(OP_INVAL, VA_USER) == CAUSE_ILLEGAL);
    CHECK(s_do(OP_CBO_ZERO, VA_RW) == CAUSE_ECALL_S);
    ENVCFG_WRITE(CSR_SENVCFG, CBIE_FLUSH | CBCFE | CBZE);
    fill(frames[5], 64, 0x77);
    CHECK(u_do(OP_CBO_ZERO, VA_USER + 3) == CAUSE_ECALL_U);
    CHECK(all(frames[5], 0, 64, 0));
    CHECK(u_do(OP_CLEAN, VA_USER) == CAUSE_ECALL_U);
    CHECK(u_do(OP_FLUSH, VA_USER) == CAUSE_ECALL_U);
    CHECK(u_do(OP_INVAL, VA_USER) == CAUSE_ECALL_U);
    ENVCFG_WRITE(CSR_MENVCFG, 0);
    CHECK(u_do(OP_CBO_ZERO, VA_USER) == CAUSE_ILLEGAL);
    ENVCFG_WRITE(CSR_MENVCFG, CBIE_INVAL | CBCFE | CBZE);

    CASE(8);
    /* S-mode through the page table: zeroes the mapped frame's block */
    fill(frames[1], 128, 0x11);
    CHECK(s_do(OP_CBO_ZERO, VA_RW + 100) == CAUSE_ECALL_S);
    CHECK(all(frames[1], 0, 64, 0x11) && all(frames[1], 64, 128, 0));

    CASE(9);
    /* a page not mapped: store page fault with rs1 in mtval, for every
     * operation */
    CHECK(s_do(OP_CBO_ZERO, VA_NONE + 0x13) == CAUSE_STORE_PAGE);
    CHECK(trap_frame.mtval == VA_NONE + 0x13);
    CHECK(s_do(OP_CLEAN, VA_NONE + 0x41) == CAUSE_STORE_PAGE);
    CHECK(trap_frame.mtval == VA_NONE + 0x41);
    CHECK(s_do(OP_FLUSH, VA_NONE) == CAUSE_STORE_PAGE);
    CHECK(s_do(OP_INVAL, VA_NONE) == CAUSE_STORE_PAGE);

    CASE(10);
    /* a read-only page: cbo.zero faults (and leaves it), the management
     * operations may (a load may) */
    fill(frames[2], 64, 0x22);
    CHECK(s_do(OP_CBO_ZERO, VA_RO + 8) == CAUSE_STORE_PAGE);
    CHECK(trap_frame.mtval == VA_RO + 8);
    CHECK(all(frames[2], 0, 64, 0x22));
    CHECK(s_do(OP_CLEAN, VA_RO) == CAUSE_ECALL_S);
    CHECK(s_do(OP_FLUSH, VA_RO) == CAUSE_ECALL_S);
    CHECK(s_do(OP_INVAL, VA_RO) == CAUSE_ECALL_S);

    CASE(11);
    /* an execute-only page: no load, no store, so a store page fault; with
     * MXR the management operations may */
    CHECK(s_do(OP_CLEAN, VA_XO) == CAUSE_STORE_PAGE);
    CHECK(s_do(OP_CBO_ZERO, VA_XO) == CAUSE_STORE_PAGE);
    CSR_SET(mstatus, MSTATUS_MXR);
    CHECK(s_do(OP_CLEAN, VA_XO) == CAUSE_ECALL_S);
    CHECK(s_do(OP_CBO_ZERO, VA_XO) == CAUSE_STORE_PAGE);
    CSR_CLEAR(mstatus, MSTATUS_MXR);

    CASE(12);
    /* A and D: the management operations set A only, cbo.zero both */
    {
        volatile uint64_t *pte = pte_slot(VA_NOAD, 0);
        CHECK(s_do(OP_CLEAN, VA_NOAD) == CAUSE_ECALL_S);
        CHECK((*pte & PTE_AD) == PTE_A);
        sfence_vma_all();
        CHECK(s_do(OP_CBO_ZERO, VA_NOAD) == CAUSE_ECALL_S);
        CHECK((*pte & PTE_AD) == PTE_AD);
    }

    CASE(13);
    /* a user page from S-mode needs SUM */
    CHECK(s_do(OP_CBO_ZERO, VA_USER) == CAUSE_STORE_PAGE);
    CHECK(s_do(OP_CLEAN, VA_USER) == CAUSE_STORE_PAGE);
    CSR_SET(mstatus, MSTATUS_SUM);
    CHECK(s_do(OP_CBO_ZERO, VA_USER) == CAUSE_ECALL_S);
    CHECK(s_do(OP_CLEAN, VA_USER) == CAUSE_ECALL_S);
    CSR_CLEAR(mstatus, MSTATUS_SUM);
    /* and a supervisor page from U-mode is not allowed */
    CHECK(u_do(OP_CBO_ZERO, VA_RW) == CAUSE_STORE_PAGE);
    CHECK(u_do(OP_FLUSH, VA_RW) == CAUSE_STORE_PAGE);

    CASE(14);
    /* PMP: a read-only region gives a store access fault for cbo.zero; the
     * management operations may; a region without permissions refuses
     * them too */
    CSR_WRITE(pmpaddr0, (frame(6) >> 2) | 0x1ff); /* NAPOT 4 KiB */
    CSR_WRITE(pmpcfg0, PMP_NAPOT | PMP_R);
    sfence_vma_all();
    fill(frames[6], 64, 0x66);
    CHECK(s_do(OP_CBO_ZERO, VA_PMPRO + 1) == CAUSE_STORE_ACCESS);
    CHECK(trap_frame.mtval == VA_PMPRO + 1);
    CHECK(all(frames[6], 0, 64, 0x66));
    CHECK(s_do(OP_CLEAN, VA_PMPRO) == CAUSE_ECALL_S);
    CSR_WRITE(pmpcfg0, PMP_NAPOT);
    sfence_vma_all();
    CHECK(s_do(OP_CLEAN, VA_PMPRO + 2) == CAUSE_STORE_ACCESS);
    CHECK(trap_frame.mtval == VA_PMPRO + 2);
    CHECK(s_do(OP_INVAL, VA_PMPRO) == CAUSE_STORE_ACCESS);
    CSR_WRITE(pmpcfg0, 0);
    CSR_WRITE(satp, 0);
    sfence_vma_all();

    CASE(15);
    /* reserved encodings: rd != x0, operations 3 and 5 */
    CHECK(M_WORD(0x0045208f, frame(0)) == CAUSE_ILLEGAL); /* cbo.zero with rd = x1 */
    CHECK(trap_frame.mtval == 0x0045208f);
    CHECK(M_WORD(0x0015208f, frame(0)) == CAUSE_ILLEGAL); /* cbo.clean with rd = x1 */
    CHECK(trap_frame.mtval == 0x0015208f);
    CHECK(M_WORD(0x0035200f, frame(0)) == CAUSE_ILLEGAL); /* operation 3 */
    CHECK(M_WORD(0x0055200f, frame(0)) == CAUSE_ILLEGAL); /* operation 5 */
    CHECK(trap_frame.mtval == 0x0055200f);
    CHECK(M_WORD(0x0045200f, frame(0)) == NO_TRAP); /* cbo.zero (a0) */
    return 0;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The page-table extensions, built for Sv39 (VM_LEVELS=3) and Sv57 (5):
 *  - Svpbmt: with menvcfg.PBMTE set, a leaf's PBMT field (bits 62-61) may
 *    be PMA, NC or IO, which an emulator's coherent memory does not tell
 *    apart; the reserved value 3 is a page fault, and so is any PBMT value
 *    while PBMTE is clear, and PBMT in a non-leaf PTE;
 *  - Svnapot: a 4 KiB leaf with N (bit 63) and ppn[3:0] = 1000 is part of a
 *    64 KiB range; the page's own vpn[3:0] replaces ppn[3:0]; the other
 *    ppn[3:0] values, N in a superpage or in a non-leaf PTE are page faults;
 *    A and D are set in the PTE that was used;
 *  - Svinval: sfence.w.inval, sinval.vma and sfence.inval.ir make a new
 *    mapping visible as sfence.vma does (svinval.S checks who may run
 *    them).
 * Built with -DMODEL_RVA22 (vm-ext-rva22, run with --cpu rva22), N is
 * reserved instead, and Svade's page faults for a clear A or D bit are
 * checked. Validated on QEMU 7.2 with svpbmt=true,svnapot=true,svinval=true, except
 * the two PBMT faults QEMU 7.2 does not raise (PBMT while PBMTE is clear,
 * PBMT = 3), which only the VIREO_ONLY build (vm-ext-vireo) checks.
 */
#include "guest.h"

#ifndef VM_LEVELS
#error "VM_LEVELS (3 or 5) selects Sv39 or Sv57"
#endif

#define LEVELS    VM_LEVELS
#define SATP_MODE (LEVELS == 3 ? 8ull : LEVELS == 4 ? 9ull : 10ull)

#include "pagetable.h"

#define OP_LD 0
#define OP_SD 1

#define PAGE     4096ull
#define PTE_N    (1ull << 63)
#define PBMT_NC  (1ull << 61)
#define PBMT_IO  (2ull << 61)
#define PBMT_RSV (3ull << 61)
#define PTE_RWAD (PTE_V | PTE_R | PTE_W | PTE_AD)

#define CSR_MENVCFG "0x30a"
#define PBMTE       (1ull << 62)

/* Test virtual addresses. */
#define VA_BASE   0x40000000ull
#define VA_PMA    (VA_BASE + 0x1000)
#define VA_NC     (VA_BASE + 0x2000)
#define VA_IO     (VA_BASE + 0x3000)
#define VA_PRSV   (VA_BASE + 0x4000)
#define VA_NAPOT  (VA_BASE + 0x10000) /* 64 KiB aligned */
#define VA_NBAD   (VA_BASE + 0x20000) /* 64 KiB aligned */
#define VA_INVAL  (VA_BASE + 0x30000)
#define VA_N2M    (VA_BASE + 0x400000)
#define VA_NLEAF  0x80000000000ull /* 8 TiB: below the 256 TiB of Sv48 */
#define VA_USTUB  (VA_BASE + 0x800000)
#define VA_NLEAF2 0x100000000ull

uint64_t vm_access(unsigned mode, unsigned op, uint64_t va, uint64_t value, uint64_t stub_va,
                   uint64_t *out);
void pmp_allow_all(void);
int test_main(void);
extern char vm_stub[];

/* 64 KiB of frames aligned to 64 KiB, for the NAPOT range, then others. */
static uint8_t napot[16][4096] __attribute__((aligned(65536)));
static uint8_t frames[8][4096] __attribute__((aligned(4096)));

static uint64_t frame(int i)
{
    return (uint64_t)frames[i];
}

static uint64_t satp_value(void)
{
    return (SATP_MODE << 60) | ((uint64_t)root >> 12);
}

static uint64_t s_do(unsigned op, uint64_t va, uint64_t value, uint64_t *out)
{
    return vm_access(PRV_S, op, va, value, (uint64_t)vm_stub, out);
}

#define S_OK(op, va, value, out) CHECK(s_do(op, va, value, out) == CAUSE_ECALL_S)

static void s_fault(unsigned op, uint64_t va, uint64_t cause)
{
    CHECK(s_do(op, va, 0, 0) == cause);
    CHECK(trap_frame.mtval == va);
}

static void menvcfg_write(uint64_t v)
{
    __asm__ volatile("csrw " CSR_MENVCFG ", %0" : : "r"(v) : "memory");
}

static uint64_t menvcfg_read(void)
{
    uint64_t v;
    __asm__ volatile("csrr %0, " CSR_MENVCFG : "=r"(v));
    return v;
}

int test_main(void)
{
    uint64_t v;

    pmp_allow_all();
    root = alloc_table();
    map(0x80000000ull, 0x80000000ull, 1, PTE_V | PTE_R | PTE_W | PTE_X | PTE_AD);
    map(0x80200000ull, 0x80200000ull, 1, PTE_V | PTE_R | PTE_W | PTE_X | PTE_AD);
    map(VA_USTUB, (uint64_t)vm_stub, 0, PTE_V | PTE_R | PTE_X | PTE_U | PTE_AD);
    *(volatile uint64_t *)frame(0) = 0x1111;
    map(VA_PMA, frame(0), 0, PTE_RWAD);
    map(VA_NC, frame(0), 0, PTE_RWAD | PBMT_NC);
    map(VA_IO, frame(0), 0, PTE_RWAD | PBMT_IO);
    map(VA_PRSV, frame(0), 0, PTE_RWAD | PBMT_RSV);
    CSR_WRITE(satp, satp_value());
    sfence_vma_all();

    CASE(1);
    /* PBMTE is writable; clear, every PBMT value faults */
    menvcfg_write(PBMTE);
    CHECK(menvcfg_read() & PBMTE);
    menvcfg_write(0);
    CHECK(!(menvcfg_read() & PBMTE));
    sfence_vma_all();
    S_OK(OP_LD, VA_PMA, 0, &v);
    CHECK(v == 0x1111);
#ifdef VIREO_ONLY
    s_fault(OP_LD, VA_NC, CAUSE_LOAD_PAGE);
    s_fault(OP_SD, VA_IO, CAUSE_STORE_PAGE);
    s_fault(OP_LD, VA_PRSV, CAUSE_LOAD_PAGE);
#endif

    CASE(2);
    /* set: NC and IO map the page as usual, 3 stays reserved */
    menvcfg_write(PBMTE);
    sfence_vma_all();
    S_OK(OP_LD, VA_NC, 0, &v);
    CHECK(v == 0x1111);
    S_OK(OP_SD, VA_IO, 0x2222, 0);
    S_OK(OP_LD, VA_PMA, 0, &v);
    CHECK(v == 0x2222);
#ifdef VIREO_ONLY
    s_fault(OP_LD, VA_PRSV, CAUSE_LOAD_PAGE);
    s_fault(OP_SD, VA_PRSV, CAUSE_STORE_PAGE);
#endif

    CASE(3);
    /* PBMT in a non-leaf PTE is reserved */
    {
        volatile uint64_t *l1 = pte_slot(VA_NLEAF2, 1);
        map(VA_NLEAF2, frame(0), 0, PTE_RWAD);
        sfence_vma_all();
        S_OK(OP_LD, VA_NLEAF2, 0, &v);
        *l1 |= PBMT_NC;
        sfence_vma_all();
        s_fault(OP_LD, VA_NLEAF2, CAUSE_LOAD_PAGE);
        *l1 &= ~PBMT_NC;
        sfence_vma_all();
    }
    menvcfg_write(0);
    sfence_vma_all();

#ifndef MODEL_RVA22
    CASE(4);
    /* NAPOT: each PTE of the 64 KiB range names the range with ppn[3:0] =
     * 1000; the page number supplies the low bits */
    for (int i = 0; i < 16; i++) {
        *(volatile uint64_t *)napot[i] = 0xa000 + i;
        map(VA_NAPOT + i * PAGE, (uint64_t)napot[0] | 0x8000, 0, PTE_RWAD | PTE_N);
    }
    sfence_vma_all();
    for (int i = 0; i < 16; i++) {
        S_OK(OP_LD, VA_NAPOT + i * PAGE, 0, &v);
        CHECK(v == 0xa000u + (unsigned)i);
    }
    S_OK(OP_SD, VA_NAPOT + 5 * PAGE + 8, 0x5555, 0);
    CHECK(*(volatile uint64_t *)(napot[5] + 8) == 0x5555);

    CASE(5);
    /* one NAPOT PTE maps its own page, whatever its neighbours */
    for (int i = 0; i < 16; i++)
        *pte_slot(VA_NAPOT + i * PAGE, 0) = 0;
    map(VA_NAPOT + 9 * PAGE, (uint64_t)napot[0] | 0x8000, 0, PTE_V | PTE_R | PTE_W | PTE_N);
    sfence_vma_all();
    S_OK(OP_LD, VA_NAPOT + 9 * PAGE, 0, &v);
    CHECK(v == 0xa009);
    s_fault(OP_LD, VA_NAPOT + 8 * PAGE, CAUSE_LOAD_PAGE);
    /* A set by the load, D by a store, in the PTE used */
    CHECK((*pte_slot(VA_NAPOT + 9 * PAGE, 0) & PTE_AD) == PTE_A);
    S_OK(OP_SD, VA_NAPOT + 9 * PAGE, 0x99, 0);
    CHECK((*pte_slot(VA_NAPOT + 9 * PAGE, 0) & PTE_AD) == PTE_AD);

    CASE(6);
    /* the reserved ppn[3:0] encodings of an N PTE fault */
    {
        static const uint64_t low[] = { 0x0, 0x1, 0x2, 0x4, 0x7, 0x9, 0xc, 0xf };
        for (unsigned k = 0; k < sizeof low / sizeof low[0]; k++) {
            map(VA_NBAD, frame(1) | (low[k] << 12), 0, PTE_RWAD | PTE_N);
            sfence_vma_all();
            s_fault(OP_LD, VA_NBAD, CAUSE_LOAD_PAGE);
        }
    }

    CASE(7);
    /* N in a superpage leaf or in a non-leaf PTE is reserved */
    map(VA_N2M, 0x80600000ull, 1, PTE_RWAD | PTE_N);
    sfence_vma_all();
    s_fault(OP_LD, VA_N2M, CAUSE_LOAD_PAGE);
    {
        volatile uint64_t *l1 = pte_slot(VA_NLEAF2, 1);
        *l1 |= PTE_N;
        sfence_vma_all();
        s_fault(OP_LD, VA_NLEAF2, CAUSE_LOAD_PAGE);
        *l1 &= ~PTE_N;
        sfence_vma_all();
    }

#else
    CASE(4);
    /* rva22 has no Svnapot: N is reserved */
    map(VA_NAPOT, (uint64_t)napot[0] | 0x8000, 0, PTE_RWAD | PTE_N);
    sfence_vma_all();
    s_fault(OP_LD, VA_NAPOT, CAUSE_LOAD_PAGE);

    CASE(5);
    /* Svade: A or D clear is a page fault, and the PTE stays as it was */
    {
        volatile uint64_t *pte = pte_slot(VA_NBAD, 0);
        map(VA_NBAD, frame(1), 0, PTE_V | PTE_R | PTE_W);
        sfence_vma_all();
        s_fault(OP_LD, VA_NBAD, CAUSE_LOAD_PAGE);
        s_fault(OP_SD, VA_NBAD + 8, CAUSE_STORE_PAGE);
        CHECK((*pte & PTE_AD) == 0);
        *pte |= PTE_A;
        sfence_vma_all();
        S_OK(OP_LD, VA_NBAD, 0, &v);
        s_fault(OP_SD, VA_NBAD + 8, CAUSE_STORE_PAGE);
        CHECK((*pte & PTE_AD) == PTE_A);
        *pte |= PTE_D;
        sfence_vma_all();
        S_OK(OP_SD, VA_NBAD + 8, 0x77, 0);
        CHECK(*(volatile uint64_t *)(frame(1) + 8) == 0x77);
    }
#endif
    CASE(8);
    /* Svinval: a mapping changed, then the three-instruction sequence */
    map(VA_INVAL, frame(2), 0, PTE_RWAD);
    *(volatile uint64_t *)frame(2) = 0x2;
    *(volatile uint64_t *)frame(3) = 0x3;
    sfence_vma_all();
    S_OK(OP_LD, VA_INVAL, 0, &v);
    CHECK(v == 0x2);
    map(VA_INVAL, frame(3), 0, PTE_RWAD);
    __asm__ volatile(".insn i 0x73, 0, x0, x0, 0x180\n"    /* sfence.w.inval */
                     ".insn r 0x73, 0, 0x0b, x0, %0, x0\n" /* sinval.vma va, x0 */
                     ".insn i 0x73, 0, x0, x0, 0x181\n"    /* sfence.inval.ir */
                     :
                     : "r"(VA_INVAL)
                     : "memory");
    S_OK(OP_LD, VA_INVAL, 0, &v);
    CHECK(v == 0x3);
    CSR_WRITE(satp, 0);
    sfence_vma_all();
    return 0;
}

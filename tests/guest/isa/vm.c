/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Virtual memory, built three times: Sv39 (VM_LEVELS=3), Sv48 (4) and Sv57
 * (5). A small page-table builder maps test pages, then S-mode and U-mode
 * accesses (through vm_stub, see vm-asm.S) and M-mode accesses with MPRV
 * check: 4 KiB pages and every superpage size the mode has, misaligned
 * superpages, load/store/fetch page faults and their mtval, the R/W/X/U
 * permissions from S and U, SUM and MXR, W without R, invalid and non-leaf
 * PTEs, reserved PTE bits, non-canonical addresses, A/D updated by
 * hardware, sfence.vma (all, by address, by ASID, global pages), satp
 * writes (unsupported modes ignored, 16-bit ASID), page faults delegated
 * to S-mode, and a 32-bit instruction straddling into a non-executable page.
 */
#include "guest.h"

#ifndef VM_LEVELS
#error "VM_LEVELS (3, 4 or 5) selects Sv39, Sv48 or Sv57"
#endif

#define LEVELS    VM_LEVELS
#define SATP_MODE (LEVELS == 3 ? 8ull : LEVELS == 4 ? 9ull : 10ull)
#define VA_BITS   (12 + 9 * LEVELS)

#include "pagetable.h"

#define OP_LD     0
#define OP_SD     1
#define OP_JUMP   2
#define OP_LBU    3
#define OP_SB     4
#define OP_AMOADD 5
#define OP_LR     6
#define OP_LW     7

#define PAGE    4096ull
#define SZ_2M   (1ull << 21)
#define SZ_1G   (1ull << 30)
#define SZ_512G (1ull << 39)

/* Test virtual addresses. */
#define VA_BASE      0x40000000ull
#define VA_D4K       (VA_BASE + 0x3000)
#define VA_RO        (VA_BASE + 0x4000)
#define VA_WO        (VA_BASE + 0x5000)
#define VA_XO        (VA_BASE + 0x6000)
#define VA_NX        (VA_BASE + 0x7000)
#define VA_X         (VA_BASE + 0x8000)
#define VA_UPAGE     (VA_BASE + 0x9000)
#define VA_INVALID   (VA_BASE + 0xa000)
#define VA_NONLEAF   (VA_BASE + 0xb000)
#define VA_WX        (VA_BASE + 0xc000)
#define VA_AD        (VA_BASE + 0xd000)
#define VA_STR1      (VA_BASE + 0xe000)
#define VA_STR2      (VA_BASE + 0xf000)
#define VA_RSV       (VA_BASE + 0x10000)
#define VA_UX        (VA_BASE + 0x11000)
#define VA_ASID      (VA_BASE + 0x12000)
#define VA_GLOBAL    (VA_BASE + 0x13000)
#define VA_D2M       (VA_BASE + 0x400000)
#define VA_D2M_BAD   (VA_BASE + 0x600000)
#define VA_USTUB     (VA_BASE + 0x800000)
#define VA_D1G       0xc0000000ull
#define VA_D1G_BAD   0x100000000ull
#define VA_D512G     (1ull << 39)
#define VA_D512G_BAD (2ull << 39)
#define VA_D256T     (1ull << 48)
/* The lowest address of the upper (negative) half. */
#define VA_HIGH (~0ull << (VA_BITS - 1))
/* Just above the lower half: not canonical. */
#define VA_NONCANON (1ull << (VA_BITS - 1))

/* Physical memory for superpages: 2 MiB-aligned, past the program. */
#define PA_2M 0x80600000ull

#define EXEC_LI_A6 0x5a500813u /* addi a6, zero, 0x5a5 */
#define EXEC_ECALL 0x00000073u

uint64_t vm_access(unsigned mode, unsigned op, uint64_t va, uint64_t value, uint64_t stub_va,
                   uint64_t *out);
uint64_t vm_access_sdeleg(unsigned mode, unsigned op, uint64_t va, uint64_t value, uint64_t stub_va,
                          uint64_t *out);
uint64_t mprv_access(unsigned mpp, unsigned op, uint64_t va, uint64_t value, uint64_t *out);
void pmp_allow_all(void);
int test_main(void);
extern char vm_stub[];

#define NFRAMES 16
static uint8_t frames[NFRAMES][4096] __attribute__((aligned(4096)));

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

static void put_exec_target(uint64_t pa)
{
    ((volatile uint32_t *)pa)[0] = EXEC_LI_A6;
    ((volatile uint32_t *)pa)[1] = EXEC_ECALL;
    __asm__ volatile("fence.i" : : : "memory");
}

/* addi a6, zero, imm; ecall */
static void put_exec_value(uint64_t pa, unsigned imm)
{
    ((volatile uint32_t *)pa)[0] = 0x00000813u | ((imm & 0xfffu) << 20);
    ((volatile uint32_t *)pa)[1] = EXEC_ECALL;
    __asm__ volatile("fence.i" : : : "memory");
}

static uint64_t satp_value(uint64_t asid)
{
    return (SATP_MODE << 60) | (asid << 44) | ((uint64_t)root >> 12);
}

static uint64_t s_stub(void)
{
    return (uint64_t)vm_stub;
}

/* An access from S-mode or U-mode; returns the trap cause (ecall = done). */
static uint64_t s_do(unsigned op, uint64_t va, uint64_t value, uint64_t *out)
{
    return vm_access(PRV_S, op, va, value, s_stub(), out);
}

static uint64_t u_do(unsigned op, uint64_t va, uint64_t value, uint64_t *out)
{
    return vm_access(PRV_U, op, va, value, VA_USTUB, out);
}

#define S_OK(op, va, value, out) CHECK(s_do(op, va, value, out) == CAUSE_ECALL_S)
#define U_OK(op, va, value, out) CHECK(u_do(op, va, value, out) == CAUSE_ECALL_U)

/* An access that must fault with `cause` and mtval `va`. */
static void s_fault(unsigned op, uint64_t va, uint64_t cause)
{
    CHECK(s_do(op, va, 0, 0) == cause);
    CHECK(trap_frame.mtval == va);
    CHECK((trap_frame.mstatus & MSTATUS_MPP) >> 11 == PRV_S);
}

static void u_fault(unsigned op, uint64_t va, uint64_t cause)
{
    CHECK(u_do(op, va, 0, 0) == cause);
    CHECK(trap_frame.mtval == va);
    CHECK((trap_frame.mstatus & MSTATUS_MPP) >> 11 == PRV_U);
}

static void setup(void)
{
    pmp_allow_all();
    root = alloc_table();
    /* The program, identity-mapped with two 2 MiB pages (S only). */
    map(0x80000000ull, 0x80000000ull, 1, PTE_V | PTE_R | PTE_W | PTE_X | PTE_AD);
    map(0x80200000ull, 0x80200000ull, 1, PTE_V | PTE_R | PTE_W | PTE_X | PTE_AD);
    /* The stub again, where U-mode may run it. */
    map(VA_USTUB, (uint64_t)vm_stub, 0, PTE_V | PTE_R | PTE_X | PTE_U | PTE_AD);
}

int test_main(void)
{
    uint64_t v;

    setup();

    /* satp */
    CASE(1);
    CSR_WRITE(satp, satp_value(0));
    CHECK(CSR_READ(satp) == satp_value(0));
    sfence_vma_all();
    CASE(2);
    /* an unsupported mode leaves satp unchanged */
    CSR_WRITE(satp, (1ull << 60) | ((uint64_t)root >> 12));
    CHECK(CSR_READ(satp) == satp_value(0));
    CSR_WRITE(satp, (15ull << 60) | 0x123);
    CHECK(CSR_READ(satp) == satp_value(0));
    CSR_WRITE(satp, (11ull << 60) | 0x123);
    CHECK(CSR_READ(satp) == satp_value(0));
    /* every supported mode is taken (M-mode does not translate) */
    for (uint64_t mode = 8; mode <= 10; mode++) {
        CSR_WRITE(satp, (mode << 60) | 0x1234);
        CHECK(CSR_READ(satp) == ((mode << 60) | 0x1234));
    }
    CSR_WRITE(satp, 0);
    CHECK(CSR_READ(satp) == 0);
    CSR_WRITE(satp, (2ull << 60) | 0x1234);
    CHECK(CSR_READ(satp) == 0);
    CSR_WRITE(satp, satp_value(0));
    CASE(3);
    /* a 16-bit ASID */
    CSR_WRITE(satp, satp_value(0xffff));
    CHECK(((CSR_READ(satp) >> 44) & 0xffff) == 0xffff);
    CSR_WRITE(satp, satp_value(0));
    sfence_vma_all();

    /* the program runs in S-mode through the identity mapping */
    CASE(4);
    poke64(frame(0), 0x1111222233334444ull);
    S_OK(OP_LD, frame(0), 0, &v);
    CHECK(v == 0x1111222233334444ull);
    CASE(5);
    /* M-mode ignores satp */
    CHECK(peek64(frame(0)) == 0x1111222233334444ull);

    /* a 4 KiB page */
    CASE(6);
    map(VA_D4K, frame(1), 0, PTE_V | PTE_R | PTE_W | PTE_AD);
    sfence_vma_all();
    poke64(frame(1) + 8, 0x0123456789abcdefull);
    S_OK(OP_LD, VA_D4K + 8, 0, &v);
    CHECK(v == 0x0123456789abcdefull);
    CASE(7);
    S_OK(OP_SD, VA_D4K + 0xff8, 0x5555aaaa5555aaaaull, 0);
    CHECK(peek64(frame(1) + 0xff8) == 0x5555aaaa5555aaaaull);
    S_OK(OP_LBU, VA_D4K + 0xfff, 0, &v);
    CHECK(v == 0x55);

    /* read-only */
    CASE(8);
    map(VA_RO, frame(1), 0, PTE_V | PTE_R | PTE_AD);
    sfence_vma_all();
    S_OK(OP_LD, VA_RO + 8, 0, &v);
    CHECK(v == 0x0123456789abcdefull);
    CASE(9);
    s_fault(OP_SD, VA_RO + 16, CAUSE_STORE_PAGE);
    CASE(10);
    s_fault(OP_AMOADD, VA_RO + 24, CAUSE_STORE_PAGE);
    s_fault(OP_SB, VA_RO + 0x7ff, CAUSE_STORE_PAGE);
    CHECK(peek64(frame(1) + 16) == 0);

    /* W without R is reserved: every access faults */
    CASE(11);
    map(VA_WO, frame(1), 0, PTE_V | PTE_W | PTE_AD);
    sfence_vma_all();
    s_fault(OP_LD, VA_WO, CAUSE_LOAD_PAGE);
    CASE(12);
    s_fault(OP_SD, VA_WO + 8, CAUSE_STORE_PAGE);
    CASE(13);
    map(VA_WX, frame(2), 0, PTE_V | PTE_W | PTE_X | PTE_AD);
    put_exec_target(frame(2));
    sfence_vma_all();
    s_fault(OP_JUMP, VA_WX, CAUSE_FETCH_PAGE);
    s_fault(OP_LD, VA_WX, CAUSE_LOAD_PAGE);

    /* execute-only: not readable unless MXR */
    CASE(14);
    map(VA_XO, frame(2), 0, PTE_V | PTE_X | PTE_AD);
    sfence_vma_all();
    S_OK(OP_JUMP, VA_XO, 0, &v);
    CHECK(v == 0x5a5);
    CASE(15);
    s_fault(OP_LD, VA_XO, CAUSE_LOAD_PAGE);
    s_fault(OP_LR, VA_XO, CAUSE_LOAD_PAGE);
    CASE(16);
    CSR_SET(mstatus, MSTATUS_MXR);
    S_OK(OP_LW, VA_XO, 0, &v);
    CHECK(v == EXEC_LI_A6);
    s_fault(OP_SD, VA_XO, CAUSE_STORE_PAGE);
    CSR_CLEAR(mstatus, MSTATUS_MXR);
    s_fault(OP_LW, VA_XO + 4, CAUSE_LOAD_PAGE);

    /* not executable */
    CASE(17);
    map(VA_NX, frame(2), 0, PTE_V | PTE_R | PTE_W | PTE_AD);
    map(VA_X, frame(2), 0, PTE_V | PTE_R | PTE_X | PTE_AD);
    sfence_vma_all();
    s_fault(OP_JUMP, VA_NX, CAUSE_FETCH_PAGE);
    CHECK(trap_frame.mepc == VA_NX);
    CASE(18);
    S_OK(OP_JUMP, VA_X, 0, &v);
    CHECK(v == 0x5a5);
    S_OK(OP_LW, VA_NX + 4, 0, &v);
    CHECK(v == EXEC_ECALL);

    /* U pages from S: data only with SUM, never code */
    CASE(19);
    map(VA_UPAGE, frame(3), 0, PTE_V | PTE_R | PTE_W | PTE_U | PTE_AD);
    map(VA_UX, frame(2), 0, PTE_V | PTE_R | PTE_X | PTE_U | PTE_AD);
    sfence_vma_all();
    poke64(frame(3), 0xfeedfacecafef00dull);
    s_fault(OP_LD, VA_UPAGE, CAUSE_LOAD_PAGE);
    s_fault(OP_SD, VA_UPAGE, CAUSE_STORE_PAGE);
    CASE(20);
    CSR_SET(mstatus, MSTATUS_SUM);
    S_OK(OP_LD, VA_UPAGE, 0, &v);
    CHECK(v == 0xfeedfacecafef00dull);
    S_OK(OP_SD, VA_UPAGE + 8, 7, 0);
    CHECK(peek64(frame(3) + 8) == 7);
    CASE(21);
    s_fault(OP_JUMP, VA_UX, CAUSE_FETCH_PAGE);
    CSR_CLEAR(mstatus, MSTATUS_SUM);
    s_fault(OP_JUMP, VA_UX, CAUSE_FETCH_PAGE);

    /* U-mode: U pages only */
    CASE(22);
    U_OK(OP_LD, VA_UPAGE, 0, &v);
    CHECK(v == 0xfeedfacecafef00dull);
    U_OK(OP_SD, VA_UPAGE + 16, 9, 0);
    CHECK(peek64(frame(3) + 16) == 9);
    CASE(23);
    U_OK(OP_JUMP, VA_UX, 0, &v);
    CHECK(v == 0x5a5);
    CASE(24);
    u_fault(OP_LD, VA_D4K, CAUSE_LOAD_PAGE);
    u_fault(OP_SD, VA_D4K, CAUSE_STORE_PAGE);
    u_fault(OP_JUMP, VA_X, CAUSE_FETCH_PAGE);
    CASE(25);
    /* SUM does not open S pages to U */
    CSR_SET(mstatus, MSTATUS_SUM);
    u_fault(OP_LD, VA_D4K, CAUSE_LOAD_PAGE);
    CSR_CLEAR(mstatus, MSTATUS_SUM);
    CASE(26);
    /* MXR with U: an execute-only U page becomes readable */
    map(VA_UX, frame(2), 0, PTE_V | PTE_X | PTE_U | PTE_AD);
    sfence_vma_all();
    u_fault(OP_LW, VA_UX, CAUSE_LOAD_PAGE);
    CSR_SET(mstatus, MSTATUS_MXR);
    U_OK(OP_LW, VA_UX, 0, &v);
    CHECK(v == EXEC_LI_A6);
    CSR_CLEAR(mstatus, MSTATUS_MXR);

    /* invalid, non-leaf at the last level, reserved bits */
    CASE(27);
    map(VA_INVALID, frame(1), 0, PTE_R | PTE_W | PTE_X | PTE_AD);
    sfence_vma_all();
    s_fault(OP_LD, VA_INVALID, CAUSE_LOAD_PAGE);
    s_fault(OP_SD, VA_INVALID + 8, CAUSE_STORE_PAGE);
    s_fault(OP_JUMP, VA_INVALID, CAUSE_FETCH_PAGE);
    CASE(28);
    /* mtval keeps the page offset */
    s_fault(OP_LBU, VA_INVALID + 0x7ff, CAUSE_LOAD_PAGE);
    s_fault(OP_SB, VA_INVALID + 0xfff, CAUSE_STORE_PAGE);
    CASE(29);
    map(VA_NONLEAF, frame(1), 0, PTE_V);
    sfence_vma_all();
    s_fault(OP_LD, VA_NONLEAF, CAUSE_LOAD_PAGE);
    CASE(30);
    map(VA_RSV, frame(1), 0, PTE_V | PTE_R | PTE_W | PTE_AD | (1ull << 54));
    sfence_vma_all();
    s_fault(OP_LD, VA_RSV, CAUSE_LOAD_PAGE);

    /* non-canonical addresses */
    CASE(31);
    s_fault(OP_LD, VA_NONCANON, CAUSE_LOAD_PAGE);
    s_fault(OP_SD, VA_NONCANON + 8, CAUSE_STORE_PAGE);
    s_fault(OP_JUMP, VA_NONCANON, CAUSE_FETCH_PAGE);
    CASE(32);
    s_fault(OP_LD, VA_HIGH - 8, CAUSE_LOAD_PAGE);
    CASE(33);
    /* the upper half maps like any other address */
    map(VA_HIGH + PAGE, frame(1), 0, PTE_V | PTE_R | PTE_AD);
    sfence_vma_all();
    S_OK(OP_LD, VA_HIGH + PAGE + 8, 0, &v);
    CHECK(v == 0x0123456789abcdefull);
    map(~0ull - PAGE + 1, frame(1), 0, PTE_V | PTE_R | PTE_AD);
    sfence_vma_all();
    S_OK(OP_LD, ~0ull - 7, 0, &v);
    CHECK(v == 0x5555aaaa5555aaaaull);

    /* superpages */
    CASE(34);
    map(VA_D2M, PA_2M, 1, PTE_V | PTE_R | PTE_W | PTE_AD);
    sfence_vma_all();
    poke64(PA_2M + 0x12340, 0xabcdef0123456789ull);
    S_OK(OP_LD, VA_D2M + 0x12340, 0, &v);
    CHECK(v == 0xabcdef0123456789ull);
    S_OK(OP_SD, VA_D2M + SZ_2M - 8, 0x42, 0);
    CHECK(peek64(PA_2M + SZ_2M - 8) == 0x42);
    CASE(35);
    /* a 2 MiB page whose PPN[0] is not zero */
    map(VA_D2M_BAD, PA_2M + PAGE, 1, PTE_V | PTE_R | PTE_W | PTE_AD);
    sfence_vma_all();
    s_fault(OP_LD, VA_D2M_BAD, CAUSE_LOAD_PAGE);
    s_fault(OP_SD, VA_D2M_BAD + 0x1000, CAUSE_STORE_PAGE);
    CASE(36);
    map(VA_D1G, 0x80000000ull, 2, PTE_V | PTE_R | PTE_W | PTE_AD);
    sfence_vma_all();
    S_OK(OP_LD, VA_D1G + (PA_2M - 0x80000000ull) + 0x12340, 0, &v);
    CHECK(v == 0xabcdef0123456789ull);
    S_OK(OP_LD, VA_D1G + (frame(1) - 0x80000000ull) + 8, 0, &v);
    CHECK(v == 0x0123456789abcdefull);
    CASE(37);
    map(VA_D1G_BAD, 0x80200000ull, 2, PTE_V | PTE_R | PTE_W | PTE_AD);
    sfence_vma_all();
    s_fault(OP_LD, VA_D1G_BAD, CAUSE_LOAD_PAGE);
    CASE(38);
    /* a superpage with A and D clear gets them from the hardware */
    map(VA_D2M, PA_2M, 1, PTE_V | PTE_R | PTE_W);
    sfence_vma_all();
    S_OK(OP_LD, VA_D2M + 0x12340, 0, &v);
    CHECK(v == 0xabcdef0123456789ull);
    CHECK((*pte_slot(VA_D2M, 1) & PTE_AD) == PTE_A);
    S_OK(OP_SD, VA_D2M + 0x12340, 1, 0);
    CHECK((*pte_slot(VA_D2M, 1) & PTE_AD) == PTE_AD);
#if LEVELS >= 4
    CASE(39);
    /* a 512 GiB page (Sv48, Sv57) */
    map(VA_D512G, 0, 3, PTE_V | PTE_R | PTE_W | PTE_AD);
    sfence_vma_all();
    S_OK(OP_LD, VA_D512G + frame(1) + 8, 0, &v);
    CHECK(v == 0x0123456789abcdefull);
    CASE(40);
    map(VA_D512G_BAD, SZ_1G, 3, PTE_V | PTE_R | PTE_W | PTE_AD);
    sfence_vma_all();
    s_fault(OP_LD, VA_D512G_BAD + frame(1), CAUSE_LOAD_PAGE);
#endif
#if LEVELS >= 5
    CASE(41);
    /* a 256 TiB page (Sv57) */
    map(VA_D256T, 0, 4, PTE_V | PTE_R | PTE_W | PTE_AD);
    sfence_vma_all();
    S_OK(OP_LD, VA_D256T + frame(1) + 8, 0, &v);
    CHECK(v == 0x0123456789abcdefull);
    CASE(42);
    map(2 * VA_D256T, SZ_512G, 4, PTE_V | PTE_R | PTE_W | PTE_AD);
    sfence_vma_all();
    s_fault(OP_LD, 2 * VA_D256T + frame(1), CAUSE_LOAD_PAGE);
#endif

    /* A and D set by the hardware */
    CASE(43);
    map(VA_AD, frame(4), 0, PTE_V | PTE_R | PTE_W);
    sfence_vma_all();
    S_OK(OP_LD, VA_AD, 0, &v);
    CHECK((*pte_slot(VA_AD, 0) & PTE_AD) == PTE_A);
    CASE(44);
    S_OK(OP_SD, VA_AD, 3, 0);
    CHECK((*pte_slot(VA_AD, 0) & PTE_AD) == PTE_AD);
    CHECK(peek64(frame(4)) == 3);
    CASE(45);
    map(VA_AD, frame(4), 0, PTE_V | PTE_R | PTE_W | PTE_A);
    sfence_vma_all();
    S_OK(OP_SD, VA_AD, 4, 0);
    CHECK((*pte_slot(VA_AD, 0) & PTE_AD) == PTE_AD);
    CASE(46);
    /* a store that faults sets neither */
    map(VA_AD, frame(4), 0, PTE_V | PTE_R);
    sfence_vma_all();
    s_fault(OP_SD, VA_AD, CAUSE_STORE_PAGE);
    CHECK((*pte_slot(VA_AD, 0) & PTE_D) == 0);
    CASE(47);
    /* a U-mode access to an S page sets neither */
    map(VA_AD, frame(4), 0, PTE_V | PTE_R | PTE_W);
    sfence_vma_all();
    u_fault(OP_LD, VA_AD, CAUSE_LOAD_PAGE);
    CHECK((*pte_slot(VA_AD, 0) & PTE_AD) == 0);

    /* sfence.vma makes a changed mapping visible */
    CASE(48);
    poke64(frame(5), 0x5);
    poke64(frame(6), 0x6);
    map(VA_D4K, frame(5), 0, PTE_V | PTE_R | PTE_W | PTE_AD);
    sfence_vma_all();
    S_OK(OP_LD, VA_D4K, 0, &v);
    CHECK(v == 5);
    map(VA_D4K, frame(6), 0, PTE_V | PTE_R | PTE_W | PTE_AD);
    sfence_vma_all();
    S_OK(OP_LD, VA_D4K, 0, &v);
    CHECK(v == 6);
    CASE(49);
    map(VA_D4K, frame(5), 0, PTE_V | PTE_R | PTE_W | PTE_AD);
    sfence_vma_va(VA_D4K);
    S_OK(OP_LD, VA_D4K, 0, &v);
    CHECK(v == 5);
    CASE(50);
    /* by ASID (non-global pages) */
    CSR_WRITE(satp, satp_value(5));
    sfence_vma_all();
    map(VA_ASID, frame(5), 0, PTE_V | PTE_R | PTE_W | PTE_AD);
    sfence_vma_asid(5);
    S_OK(OP_LD, VA_ASID, 0, &v);
    CHECK(v == 5);
    map(VA_ASID, frame(6), 0, PTE_V | PTE_R | PTE_W | PTE_AD);
    sfence_vma_asid(5);
    S_OK(OP_LD, VA_ASID, 0, &v);
    CHECK(v == 6);
    CASE(51);
    map(VA_ASID, frame(5), 0, PTE_V | PTE_R | PTE_W | PTE_AD);
    sfence_vma(VA_ASID, 5);
    S_OK(OP_LD, VA_ASID, 0, &v);
    CHECK(v == 5);
    CASE(52);
    /* a switch of ASID with a fence of the new one */
    CSR_WRITE(satp, satp_value(6));
    map(VA_ASID, frame(6), 0, PTE_V | PTE_R | PTE_W | PTE_AD);
    sfence_vma_asid(6);
    S_OK(OP_LD, VA_ASID, 0, &v);
    CHECK(v == 6);
    CASE(53);
    /* global pages, fenced by address */
    map(VA_GLOBAL, frame(5), 0, PTE_V | PTE_R | PTE_W | PTE_G | PTE_AD);
    sfence_vma_va(VA_GLOBAL);
    S_OK(OP_LD, VA_GLOBAL, 0, &v);
    CHECK(v == 5);
    CSR_WRITE(satp, satp_value(7));
    map(VA_GLOBAL, frame(6), 0, PTE_V | PTE_R | PTE_W | PTE_G | PTE_AD);
    sfence_vma_va(VA_GLOBAL);
    S_OK(OP_LD, VA_GLOBAL, 0, &v);
    CHECK(v == 6);
    CASE(54);
    map(VA_GLOBAL, frame(5), 0, PTE_V | PTE_R | PTE_W | PTE_G | PTE_AD);
    sfence_vma_all();
    S_OK(OP_LD, VA_GLOBAL, 0, &v);
    CHECK(v == 5);
    CSR_WRITE(satp, satp_value(0));
    sfence_vma_all();

    /* MPRV: M-mode data accesses with MPP's translation and protection */
    CASE(55);
    CHECK(mprv_access(PRV_S, OP_LD, VA_D4K, 0, &v) == 0);
    CHECK(v == 5);
    CHECK(mprv_access(PRV_S, OP_SD, VA_D4K + 8, 0x99, 0) == 0);
    CHECK(peek64(frame(5) + 8) == 0x99);
    CASE(56);
    CHECK(mprv_access(PRV_U, OP_LD, VA_D4K, 0, 0) == CAUSE_LOAD_PAGE);
    CHECK(trap_frame.mtval == VA_D4K);
    CHECK(mprv_access(PRV_U, OP_SD, VA_D4K, 0, 0) == CAUSE_STORE_PAGE);
    CHECK(mprv_access(PRV_U, OP_LD, VA_UPAGE, 0, &v) == 0);
    CHECK(v == 0xfeedfacecafef00dull);
    CASE(57);
    CHECK(mprv_access(PRV_S, OP_LD, VA_UPAGE, 0, 0) == CAUSE_LOAD_PAGE);
    CSR_SET(mstatus, MSTATUS_SUM);
    CHECK(mprv_access(PRV_S, OP_LD, VA_UPAGE, 0, &v) == 0);
    CHECK(v == 0xfeedfacecafef00dull);
    CSR_CLEAR(mstatus, MSTATUS_SUM);
    CASE(58);
    CHECK(mprv_access(PRV_S, OP_LD, VA_XO, 0, 0) == CAUSE_LOAD_PAGE);
    CSR_SET(mstatus, MSTATUS_MXR);
    CHECK(mprv_access(PRV_S, OP_LD, VA_XO, 0, &v) == 0);
    CHECK((uint32_t)v == EXEC_LI_A6);
    CSR_CLEAR(mstatus, MSTATUS_MXR);
    CHECK(mprv_access(PRV_S, OP_AMOADD, VA_RO, 1, 0) == CAUSE_STORE_PAGE);
    CHECK(mprv_access(PRV_S, OP_LD, VA_NONCANON, 0, 0) == CAUSE_LOAD_PAGE);
    CASE(59);
    /* MPP = M: no translation */
    CHECK(mprv_access(PRV_M, OP_LD, frame(5), 0, &v) == 0);
    CHECK(v == 5);
    CHECK(mprv_access(PRV_M, OP_LBU, frame(0), 0, &v) == 0);
    CHECK(v == 0x44);
    CASE(60);
    /* with satp Bare, MPRV and MPP = S use physical addresses */
    CSR_WRITE(satp, 0);
    sfence_vma_all();
    CHECK(mprv_access(PRV_S, OP_LD, frame(6), 0, &v) == 0);
    CHECK(v == 6);
    CSR_WRITE(satp, satp_value(0));
    sfence_vma_all();

    /* page faults delegated to S-mode */
    CASE(61);
    CSR_WRITE(medeleg,
              (1u << CAUSE_LOAD_PAGE) | (1u << CAUSE_STORE_PAGE) | (1u << CAUSE_FETCH_PAGE));
    CHECK(vm_access_sdeleg(PRV_U, OP_LD, VA_D4K + 0x10, 0, VA_USTUB, 0) == CAUSE_ECALL_S);
    CHECK(trap_frame.scause == CAUSE_LOAD_PAGE);
    CHECK(trap_frame.stval == VA_D4K + 0x10);
    CHECK(trap_frame.sepc >= VA_USTUB && trap_frame.sepc < VA_USTUB + PAGE);
    CHECK((trap_frame.sstatus & MSTATUS_SPP) == 0);
    CASE(62);
    CHECK(vm_access_sdeleg(PRV_S, OP_SD, VA_RO, 0, s_stub(), 0) == CAUSE_ECALL_S);
    CHECK(trap_frame.scause == CAUSE_STORE_PAGE);
    CHECK(trap_frame.stval == VA_RO);
    CHECK((trap_frame.sstatus & MSTATUS_SPP) == MSTATUS_SPP);
    CASE(63);
    CHECK(vm_access_sdeleg(PRV_U, OP_JUMP, VA_X, 0, VA_USTUB, 0) == CAUSE_ECALL_S);
    CHECK(trap_frame.scause == CAUSE_FETCH_PAGE);
    CHECK(trap_frame.stval == VA_X);
    CHECK(trap_frame.sepc == VA_X);
    CSR_WRITE(medeleg, 0);

    /* a 32-bit instruction straddling into a page that is not executable:
     * mepc is its start, mtval the start of the second page */
    CASE(64);
    map(VA_STR1, frame(7), 0, PTE_V | PTE_R | PTE_X | PTE_AD);
    map(VA_STR2, frame(8), 0, PTE_V | PTE_R | PTE_W | PTE_AD);
    ((volatile uint16_t *)frame(7))[2047] = (uint16_t)EXEC_LI_A6;
    ((volatile uint16_t *)frame(8))[0] = (uint16_t)(EXEC_LI_A6 >> 16);
    ((volatile uint16_t *)frame(8))[1] = (uint16_t)EXEC_ECALL;
    ((volatile uint16_t *)frame(8))[2] = (uint16_t)(EXEC_ECALL >> 16);
    __asm__ volatile("fence.i" : : : "memory");
    sfence_vma_all();
    CHECK(s_do(OP_JUMP, VA_STR1 + PAGE - 2, 0, 0) == CAUSE_FETCH_PAGE);
    CHECK(trap_frame.mepc == VA_STR1 + PAGE - 2);
    CHECK(trap_frame.mtval == VA_STR2);
    CASE(65);
    /* executable on both sides: it runs */
    map(VA_STR2, frame(8), 0, PTE_V | PTE_R | PTE_X | PTE_AD);
    sfence_vma_all();
    S_OK(OP_JUMP, VA_STR1 + PAGE - 2, 0, &v);
    CHECK(v == 0x5a5);

    /* One virtual address whose code moves between physical pages, as a
     * process's executable does from one process to the next: every
     * change of translation runs the code of the new page, whether it
     * came with sfence.vma by address, a switch of ASID or everything. */
    CASE(66);
    put_exec_value(frame(9), 0x111);
    put_exec_value(frame(10), 0x222);
    for (int i = 0; i < 8; i++) {
        unsigned want = i & 1 ? 0x222 : 0x111;
        map(VA_X, frame(i & 1 ? 10 : 9), 0, PTE_V | PTE_R | PTE_X | PTE_AD);
        sfence_vma_va(VA_X);
        S_OK(OP_JUMP, VA_X, 0, &v);
        CHECK(v == want);
        S_OK(OP_JUMP, VA_X, 0, &v);
        CHECK(v == want);
    }
    CASE(67);
    for (int i = 0; i < 8; i++) {
        unsigned want = i & 1 ? 0x222 : 0x111;
        map(VA_X, frame(i & 1 ? 10 : 9), 0, PTE_V | PTE_R | PTE_X | PTE_AD);
        CSR_WRITE(satp, satp_value(20 + (uint64_t)(i & 1)));
        sfence_vma_asid(20 + (uint64_t)(i & 1));
        S_OK(OP_JUMP, VA_X, 0, &v);
        CHECK(v == want);
    }
    CASE(68);
    /* The same code page at two addresses, and code rewritten in place. */
    map(VA_X, frame(9), 0, PTE_V | PTE_R | PTE_X | PTE_AD);
    map(VA_UX, frame(9), 0, PTE_V | PTE_R | PTE_X | PTE_AD);
    sfence_vma_all();
    S_OK(OP_JUMP, VA_X, 0, &v);
    CHECK(v == 0x111);
    S_OK(OP_JUMP, VA_UX, 0, &v);
    CHECK(v == 0x111);
    put_exec_value(frame(9), 0x333);
    S_OK(OP_JUMP, VA_UX, 0, &v);
    CHECK(v == 0x333);
    S_OK(OP_JUMP, VA_X, 0, &v);
    CHECK(v == 0x333);

    CSR_WRITE(satp, 0);
    sfence_vma_all();
    return 0;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* Internal to engine/riscv64/: the state of a RISC-V 64 hart. */

#include "engine/cpu.h"
#include "engine/riscv.h"

#include <glib.h>

enum { PRV_U = 0, PRV_S = 1, PRV_M = 3 };

/* Translation contexts of the soft TLB. */
enum { CTX_M = 0, CTX_S = 1, CTX_S_SUM = 2, CTX_U = 3 };

/* Register numbers of the IR register file. */
#define RV_X(n)    (n)
#define RV_F(n)    (32 + (n))
#define RV_TMP0    64
#define RV_TMP1    65
#define RV_TMP2    66
#define RV_DISCARD 79

/* mstatus fields */
#define MSTATUS_SIE  (1ull << 1)
#define MSTATUS_MIE  (1ull << 3)
#define MSTATUS_SPIE (1ull << 5)
#define MSTATUS_MPIE (1ull << 7)
#define MSTATUS_SPP  (1ull << 8)
#define MSTATUS_MPP  (3ull << 11)
#define MSTATUS_FS   (3ull << 13)
#define MSTATUS_MPRV (1ull << 17)
#define MSTATUS_SUM  (1ull << 18)
#define MSTATUS_MXR  (1ull << 19)
#define MSTATUS_TVM  (1ull << 20)
#define MSTATUS_TW   (1ull << 21)
#define MSTATUS_TSR  (1ull << 22)
#define MSTATUS_UXL  (3ull << 32)
#define MSTATUS_SXL  (3ull << 34)
#define MSTATUS_SD   (1ull << 63)

#define FS_OFF   0
#define FS_DIRTY 3

/* exception causes */
enum {
    EXC_INSN_MISALIGNED = 0,
    EXC_INSN_ACCESS = 1,
    EXC_ILLEGAL = 2,
    EXC_BREAKPOINT = 3,
    EXC_LOAD_MISALIGNED = 4,
    EXC_LOAD_ACCESS = 5,
    EXC_STORE_MISALIGNED = 6,
    EXC_STORE_ACCESS = 7,
    EXC_ECALL_U = 8,
    EXC_ECALL_S = 9,
    EXC_ECALL_M = 11,
    EXC_INSN_PAGE = 12,
    EXC_LOAD_PAGE = 13,
    EXC_STORE_PAGE = 15,
};

#define IRQ_S_SOFT      1
#define IRQ_M_SOFT      3
#define IRQ_S_TIMER     5
#define IRQ_M_TIMER     7
#define IRQ_S_EXT       9
#define IRQ_M_EXT       11
#define CAUSE_INTERRUPT (1ull << 63)

#define MIP_MASK_ALL 0xaaaull /* SSIP MSIP STIP MTIP SEIP MEIP */
#define MIP_S_MASK   0x222ull /* SSIP STIP SEIP */

#define PMP_ENTRIES 16

/* Extensions beyond RV64GC that change what the hart does, one bit each in
 * RvCpu.ext; the hart's model (rv-isa.c) sets them when it is created. */
enum {
    RV_EXT_ZBA = 1u << 0,
    RV_EXT_ZBB = 1u << 1,
    RV_EXT_ZBC = 1u << 2,
    RV_EXT_ZBS = 1u << 3,
    RV_EXT_ZBKB = 1u << 4,
    RV_EXT_ZICOND = 1u << 5,
    RV_EXT_ZICBOM = 1u << 6,
    RV_EXT_ZICBOZ = 1u << 7,
    RV_EXT_SSTC = 1u << 8,
    RV_EXT_SVPBMT = 1u << 9,
    RV_EXT_SVNAPOT = 1u << 10,
    RV_EXT_SVINVAL = 1u << 11,
    RV_EXT_ZFHMIN = 1u << 12,
    RV_EXT_ZFH = 1u << 13,
    RV_EXT_SVADE = 1u << 14,
};

/* menvcfg and senvcfg fields */
#define ENVCFG_FIOM       (1ull << 0)
#define ENVCFG_CBIE       (3ull << 4)
#define ENVCFG_CBIE_FLUSH (1ull << 4)
#define ENVCFG_CBIE_INVAL (3ull << 4)
#define ENVCFG_CBCFE      (1ull << 6)
#define ENVCFG_CBZE       (1ull << 7)
#define ENVCFG_PBMTE      (1ull << 62)
#define ENVCFG_STCE       (1ull << 63)

/* The cache-block size of Zicbom and Zicboz (Zic64b). */
#define RV_CACHE_BLOCK VIREO_RV_CACHE_BLOCK

struct VireoRvCpu {
    VireoCpu base; /* first */
    VireoTlb tlb;
    unsigned hartid;
    uint64_t reset_pc;
    VireoRvCpuModel model;
    uint32_t ext; /* RV_EXT_* of the model */

    unsigned priv;
    uint64_t mstatus;
    uint64_t medeleg, mideleg, mie;
    uint64_t mip_sw;         /* bits written by software (SSIP, STIP, SEIP) */
    _Atomic uint64_t mip_hw; /* lines driven by devices */
    uint64_t mtvec, mscratch, mepc, mcause, mtval;
    uint64_t stvec, sscratch, sepc, scause, stval;
    uint64_t satp;
    uint32_t mcounteren, scounteren;
    uint64_t menvcfg, senvcfg;
    uint64_t cycle_offset, instret_offset; /* counter = retired + offset */
    /* Sstc: stimecmp drives STIP (a line in mip_hw) while menvcfg.STCE is
     * set, through a timer on the machine's clock. The timer's callback
     * runs on the clock's thread: stimecmp and menvcfg are read there under
     * sstc_lock, which their writers hold too. */
    uint64_t stimecmp;
    VireoTimer *stimer;
    GMutex sstc_lock;
    uint8_t pmpcfg[PMP_ENTRIES];
    uint64_t pmpaddr[PMP_ENTRIES];
    /* The active PMP entries in priority order, decoded from pmpcfg and
     * pmpaddr by rv_pmp_update() whenever they change: [lo, hi) and cfg. */
    unsigned pmp_active;
    uint64_t pmp_lo[PMP_ENTRIES], pmp_hi[PMP_ENTRIES];
    uint8_t pmp_cfg[PMP_ENTRIES];

    GMutex wfi_lock;
    GCond wfi_cond;
    bool wfi_waiting; /* blocked on wfi_cond (under wfi_lock): kicks signal it */
    unsigned kicks;   /* kicks so far (under wfi_lock) */
};

typedef struct VireoRvCpu RvCpu;

static inline RvCpu *rv_cpu(VireoCpu *cpu)
{
    return (RvCpu *)(void *)cpu;
}

/* rv-cpu.c */
void rv_raise(VireoCpu *cpu, uint64_t cause, uint64_t tval);
void rv_update_context(RvCpu *rv);
uint64_t rv_mip(RvCpu *rv);
/* Whether an interrupt would be taken now (pending, enabled, and allowed
 * at the current privilege). */
bool rv_irq_pending(RvCpu *rv);
uint64_t rv_retired(RvCpu *rv, const VireoIrInsn *insn);
/* Sstc: after a change of stimecmp or menvcfg.STCE, sets STIP from the
 * comparison with time and arms the timer for the deadline. */
void rv_sstc_update(RvCpu *rv);

/* rv-csr.c: CSR instruction helper and sret/mret/sfence/wfi helpers. */
int rv_helper_csr(VireoCpu *cpu, const VireoIrInsn *insn);
/* fflags, frm and fcsr, with the floating-point unit on (the decoder's
 * case: no privilege or state to check, FS made dirty before a write). */
int rv_helper_fcsr(VireoCpu *cpu, const VireoIrInsn *insn);
int rv_helper_mret(VireoCpu *cpu, const VireoIrInsn *insn);
int rv_helper_sret(VireoCpu *cpu, const VireoIrInsn *insn);
int rv_helper_sfence_vma(VireoCpu *cpu, const VireoIrInsn *insn);
int rv_helper_wfi_check(VireoCpu *cpu, const VireoIrInsn *insn);
int rv_helper_fence_i(VireoCpu *cpu, const VireoIrInsn *insn);
int rv_helper_set_fs_dirty(VireoCpu *cpu, const VireoIrInsn *insn);
int rv_helper_cbo(VireoCpu *cpu, const VireoIrInsn *insn);
int rv_helper_sfence_inval(VireoCpu *cpu, const VireoIrInsn *insn);
bool rv_csr_read(RvCpu *rv, unsigned csr, uint64_t *value, const VireoIrInsn *insn);
/* Whether `v` is a value menvcfg (`machine`) or senvcfg may hold. */
bool rv_envcfg_valid(const RvCpu *rv, uint64_t v, bool machine);

/* rv-mmu.c */
void rv_pmp_update(RvCpu *rv);
VireoXlateResult rv_translate(VireoCpu *cpu, uint64_t va, unsigned size, VireoAccess access,
                              VireoTlbEntry *entry);
/* A debugger's translation in the current data context: no permission or
 * PMP checks, no A/D updates, no TLB fill, no exception. */
bool rv_debug_translate(RvCpu *rv, uint64_t va, uint64_t *pa);

/* rv-isa.c: the RV_EXT_* bits of a model. */
uint32_t rv_isa_ext_bits(VireoRvCpuModel model);

/* rv-decode.c */
bool rv_decode(VireoCpu *cpu, VireoIrBlock *block);
/* Expands a 16-bit instruction to its 32-bit equivalent, or 0 if illegal. */
uint32_t rv_expand_compressed(uint16_t c);

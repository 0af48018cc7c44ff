/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Control and status registers, and the privileged instructions that act on
 * hart state (mret, sret, sfence.vma, wfi, fence.i).
 */
#include "rv-cpu.h"

enum {
    CSR_FFLAGS = 0x001,
    CSR_FRM = 0x002,
    CSR_FCSR = 0x003,
    CSR_CYCLE = 0xc00,
    CSR_TIME = 0xc01,
    CSR_INSTRET = 0xc02,
    CSR_HPMCOUNTER3 = 0xc03,
    CSR_HPMCOUNTER31 = 0xc1f,
    CSR_SSTATUS = 0x100,
    CSR_SIE = 0x104,
    CSR_STVEC = 0x105,
    CSR_SCOUNTEREN = 0x106,
    CSR_SENVCFG = 0x10a,
    CSR_STIMECMP = 0x14d,
    CSR_SSCRATCH = 0x140,
    CSR_SEPC = 0x141,
    CSR_SCAUSE = 0x142,
    CSR_STVAL = 0x143,
    CSR_SIP = 0x144,
    CSR_SATP = 0x180,
    CSR_MVENDORID = 0xf11,
    CSR_MARCHID = 0xf12,
    CSR_MIMPID = 0xf13,
    CSR_MHARTID = 0xf14,
    CSR_MCONFIGPTR = 0xf15,
    CSR_MSTATUS = 0x300,
    CSR_MISA = 0x301,
    CSR_MEDELEG = 0x302,
    CSR_MIDELEG = 0x303,
    CSR_MIE = 0x304,
    CSR_MTVEC = 0x305,
    CSR_MCOUNTEREN = 0x306,
    CSR_MENVCFG = 0x30a,
    CSR_MCOUNTINHIBIT = 0x320,
    CSR_MHPMEVENT3 = 0x323,
    CSR_MHPMEVENT31 = 0x33f,
    CSR_MSCRATCH = 0x340,
    CSR_MEPC = 0x341,
    CSR_MCAUSE = 0x342,
    CSR_MTVAL = 0x343,
    CSR_MIP = 0x344,
    CSR_PMPCFG0 = 0x3a0,
    CSR_PMPCFG15 = 0x3af,
    CSR_PMPADDR0 = 0x3b0,
    CSR_PMPADDR63 = 0x3ef,
    CSR_TSELECT = 0x7a0,
    CSR_TDATA1 = 0x7a1,
    CSR_TDATA2 = 0x7a2,
    CSR_TDATA3 = 0x7a3,
    CSR_TINFO = 0x7a4,
    CSR_MCYCLE = 0xb00,
    CSR_MINSTRET = 0xb02,
    CSR_MHPMCOUNTER3 = 0xb03,
    CSR_MHPMCOUNTER31 = 0xb1f,
};

#define MISA_VALUE                                                                           \
    ((2ull << 62) | (1u << ('A' - 'A')) | (1u << ('C' - 'A')) | (1u << ('D' - 'A')) |        \
     (1u << ('F' - 'A')) | (1u << ('I' - 'A')) | (1u << ('M' - 'A')) | (1u << ('S' - 'A')) | \
     (1u << ('U' - 'A')))

#define MSTATUS_WRITABLE                                                                   \
    (MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP | MSTATUS_MPP | \
     MSTATUS_FS | MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW |    \
     MSTATUS_TSR)
#define SSTATUS_VISIBLE                                                                  \
    (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR | \
     MSTATUS_UXL | MSTATUS_SD)
#define SSTATUS_WRITABLE \
    (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR)
#define MEDELEG_WRITABLE 0xb3ffull /* causes 0-9, 12, 13, 15 */
#define SATP_MODE_SHIFT  60

static uint64_t mstatus_read(const RvCpu *rv)
{
    uint64_t v = rv->mstatus;
    if ((v & MSTATUS_FS) == MSTATUS_FS) {
        v |= MSTATUS_SD;
    }
    return v;
}

static uint64_t fcsr_read(const RvCpu *rv)
{
    return ((uint64_t)rv->base.fp_rm << 5) | rv->base.fp_flags;
}

static uint64_t time_now(RvCpu *rv)
{
    return vireo_clock_now(vireo_machine_clock(rv->base.machine));
}

static bool is_fp_csr(unsigned csr)
{
    return csr == CSR_FFLAGS || csr == CSR_FRM || csr == CSR_FCSR;
}

/* Whether the hart has `csr` at all (independent of privilege). */
static bool csr_exists(const RvCpu *rv, unsigned csr)
{
    switch (csr) {
    case CSR_FFLAGS:
    case CSR_FRM:
    case CSR_FCSR:
    case CSR_CYCLE:
    case CSR_TIME:
    case CSR_INSTRET:
    case CSR_SSTATUS:
    case CSR_SIE:
    case CSR_STVEC:
    case CSR_SCOUNTEREN:
    case CSR_SENVCFG:
    case CSR_SSCRATCH:
    case CSR_SEPC:
    case CSR_SCAUSE:
    case CSR_STVAL:
    case CSR_SIP:
    case CSR_SATP:
    case CSR_MVENDORID:
    case CSR_MARCHID:
    case CSR_MIMPID:
    case CSR_MHARTID:
    case CSR_MCONFIGPTR:
    case CSR_MSTATUS:
    case CSR_MISA:
    case CSR_MEDELEG:
    case CSR_MIDELEG:
    case CSR_MIE:
    case CSR_MTVEC:
    case CSR_MCOUNTEREN:
    case CSR_MENVCFG:
    case CSR_MCOUNTINHIBIT:
    case CSR_MSCRATCH:
    case CSR_MEPC:
    case CSR_MCAUSE:
    case CSR_MTVAL:
    case CSR_MIP:
    case CSR_MCYCLE:
    case CSR_MINSTRET:
    /* The trigger registers exist, describing a hart without triggers
     * (tselect stays 0, tdata1's type is 0: "no trigger here"). */
    case CSR_TSELECT:
    case CSR_TDATA1:
    case CSR_TDATA2:
    case CSR_TDATA3:
    case CSR_TINFO: return true;
    default: break;
    }
    if (csr == CSR_STIMECMP) {
        return (rv->ext & RV_EXT_SSTC) != 0;
    }
    if ((csr >= CSR_HPMCOUNTER3 && csr <= CSR_HPMCOUNTER31) ||
        (csr >= CSR_MHPMCOUNTER3 && csr <= CSR_MHPMCOUNTER31) ||
        (csr >= CSR_MHPMEVENT3 && csr <= CSR_MHPMEVENT31) ||
        (csr >= CSR_PMPADDR0 && csr <= CSR_PMPADDR63)) {
        return true;
    }
    /* RV64 has only the even pmpcfg registers. */
    return csr >= CSR_PMPCFG0 && csr <= CSR_PMPCFG15 && (csr & 1) == 0;
}

bool rv_csr_read(RvCpu *rv, unsigned csr, uint64_t *value, const VireoIrInsn *insn)
{
    uint64_t v = 0;

    if (!csr_exists(rv, csr)) {
        return false;
    }
    switch (csr) {
    case CSR_FFLAGS: v = rv->base.fp_flags; break;
    case CSR_FRM: v = rv->base.fp_rm; break;
    case CSR_FCSR: v = fcsr_read(rv); break;
    case CSR_CYCLE:
    case CSR_MCYCLE: v = rv_retired(rv, insn) + rv->cycle_offset; break;
    case CSR_INSTRET:
    case CSR_MINSTRET: v = rv_retired(rv, insn) + rv->instret_offset; break;
    case CSR_TIME: v = time_now(rv); break;
    case CSR_SSTATUS: v = mstatus_read(rv) & SSTATUS_VISIBLE; break;
    case CSR_SIE: v = rv->mie & rv->mideleg; break;
    case CSR_STVEC: v = rv->stvec; break;
    case CSR_SCOUNTEREN: v = rv->scounteren; break;
    case CSR_SENVCFG: v = rv->senvcfg; break;
    case CSR_STIMECMP: v = rv->stimecmp; break;
    case CSR_SSCRATCH: v = rv->sscratch; break;
    case CSR_SEPC: v = rv->sepc; break;
    case CSR_SCAUSE: v = rv->scause; break;
    case CSR_STVAL: v = rv->stval; break;
    case CSR_SIP: v = rv_mip(rv) & rv->mideleg; break;
    case CSR_SATP: v = rv->satp; break;
    case CSR_MHARTID: v = rv->hartid; break;
    case CSR_MSTATUS: v = mstatus_read(rv); break;
    case CSR_MISA: v = MISA_VALUE; break;
    case CSR_MEDELEG: v = rv->medeleg; break;
    case CSR_MIDELEG: v = rv->mideleg; break;
    case CSR_MIE: v = rv->mie; break;
    case CSR_MTVEC: v = rv->mtvec; break;
    case CSR_MCOUNTEREN: v = rv->mcounteren; break;
    case CSR_MENVCFG: v = rv->menvcfg; break;
    case CSR_MSCRATCH: v = rv->mscratch; break;
    case CSR_MEPC: v = rv->mepc; break;
    case CSR_MCAUSE: v = rv->mcause; break;
    case CSR_MTVAL: v = rv->mtval; break;
    case CSR_MIP: v = rv_mip(rv); break;
    case CSR_TINFO:
        v = 1; /* only type 0, "no trigger", is supported */
        break;
    default:
        if (csr >= CSR_PMPCFG0 && csr <= CSR_PMPCFG15) {
            unsigned first = (csr - CSR_PMPCFG0) * 4; /* entries first .. first + 7 */
            for (unsigned i = 0; i < 8; i++) {
                if (first + i < PMP_ENTRIES) {
                    v |= (uint64_t)rv->pmpcfg[first + i] << (8 * i);
                }
            }
        } else if (csr >= CSR_PMPADDR0 && csr <= CSR_PMPADDR63) {
            unsigned i = csr - CSR_PMPADDR0;
            v = i < PMP_ENTRIES ? rv->pmpaddr[i] : 0;
        }
        /* Identity registers, mcountinhibit and the unimplemented
         * performance counters read as zero. */
        break;
    }
    *value = v;
    return true;
}

/* The fields of menvcfg (`machine`) or senvcfg that the hart has. */
static uint64_t envcfg_mask(const RvCpu *rv, bool machine)
{
    uint64_t mask = ENVCFG_FIOM;

    if (machine && (rv->ext & RV_EXT_SSTC)) {
        mask |= ENVCFG_STCE;
    }
    if (machine && (rv->ext & RV_EXT_SVPBMT)) {
        mask |= ENVCFG_PBMTE;
    }
    if (rv->ext & RV_EXT_ZICBOM) {
        mask |= ENVCFG_CBIE | ENVCFG_CBCFE;
    }
    if (rv->ext & RV_EXT_ZICBOZ) {
        mask |= ENVCFG_CBZE;
    }
    return mask;
}

bool rv_envcfg_valid(const RvCpu *rv, uint64_t v, bool machine)
{
    return (v & ~envcfg_mask(rv, machine)) == 0 && (v & ENVCFG_CBIE) != (2ull << 4);
}

/* menvcfg (`machine`) or senvcfg: the fields of the hart's extensions are
 * writable, the others read zero. CBIE's reserved value 2 keeps the old. */
static uint64_t envcfg_write(const RvCpu *rv, uint64_t old, uint64_t v, bool machine)
{
    uint64_t mask = envcfg_mask(rv, machine);

    if ((v & ENVCFG_CBIE) == (2ull << 4)) {
        v = (v & ~ENVCFG_CBIE) | (old & ENVCFG_CBIE);
    }
    return v & mask;
}

static bool pmp_locked(const RvCpu *rv, unsigned i)
{
    return (rv->pmpcfg[i] & 0x80) != 0;
}

/* Writes `v` to `csr`; returns false when the write is illegal. */
static bool csr_write(RvCpu *rv, unsigned csr, uint64_t v, const VireoIrInsn *insn)
{
    VireoCpu *cpu = &rv->base;

    switch (csr) {
    case CSR_FFLAGS: cpu->fp_flags = v & 0x1f; break;
    case CSR_FRM: cpu->fp_rm = v & 7; break;
    case CSR_FCSR:
        cpu->fp_flags = v & 0x1f;
        cpu->fp_rm = (v >> 5) & 7;
        break;
    case CSR_MCYCLE: rv->cycle_offset = v - (rv_retired(rv, insn) + 1); break;
    case CSR_MINSTRET: rv->instret_offset = v - (rv_retired(rv, insn) + 1); break;
    case CSR_SSTATUS:
        v = (rv->mstatus & ~SSTATUS_WRITABLE) | (v & SSTATUS_WRITABLE);
        G_GNUC_FALLTHROUGH;
    case CSR_MSTATUS: {
        uint64_t old = rv->mstatus;
        uint64_t nv = (old & ~MSTATUS_WRITABLE) | (v & MSTATUS_WRITABLE);
        if (((nv & MSTATUS_MPP) >> 11) == 2) {
            nv = (nv & ~MSTATUS_MPP) | (old & MSTATUS_MPP); /* reserved: keep */
        }
        rv->mstatus = nv;
        if ((old ^ nv) & MSTATUS_MXR) {
            vireo_tlb_flush_all(cpu);
        }
        rv_update_context(rv);
        break;
    }
    case CSR_SIE: {
        uint64_t mask = rv->mideleg & MIP_S_MASK;
        rv->mie = (rv->mie & ~mask) | (v & mask);
        break;
    }
    case CSR_STVEC: rv->stvec = v & ~2ull; break;
    case CSR_SCOUNTEREN: rv->scounteren = (uint32_t)v; break;
    case CSR_SENVCFG: rv->senvcfg = envcfg_write(rv, rv->senvcfg, v, false); break;
    case CSR_STIMECMP:
        g_mutex_lock(&rv->sstc_lock);
        rv->stimecmp = v;
        g_mutex_unlock(&rv->sstc_lock);
        rv_sstc_update(rv);
        break;
    case CSR_SSCRATCH: rv->sscratch = v; break;
    case CSR_SEPC: rv->sepc = v & ~1ull; break;
    case CSR_SCAUSE: rv->scause = v; break;
    case CSR_STVAL: rv->stval = v; break;
    case CSR_SIP: {
        uint64_t mask = rv->mideleg & (1ull << IRQ_S_SOFT);
        rv->mip_sw = (rv->mip_sw & ~mask) | (v & mask);
        break;
    }
    case CSR_SATP: {
        uint64_t mode = v >> SATP_MODE_SHIFT;
        uint64_t old = rv->satp;
        if (mode != 0 && mode != 8 && mode != 9 && mode != 10) {
            break; /* unsupported mode: the write has no effect */
        }
        rv->satp = v & ((0xfull << 60) | (0xffffull << 44) | ((1ull << 44) - 1));
        if ((old >> SATP_MODE_SHIFT) != mode) {
            vireo_tlb_flush_all(cpu);
        } else if (old != rv->satp) {
            /* The fast TLB only holds the current address space: drop the
             * non-global entries of the previous one. */
            vireo_tlb_flush(cpu, VIREO_TLB_INVALID, true, (uint16_t)(old >> 44));
        }
        break;
    }
    case CSR_MEDELEG: rv->medeleg = v & MEDELEG_WRITABLE; break;
    case CSR_MIDELEG: rv->mideleg = v & MIP_S_MASK; break;
    case CSR_MIE: rv->mie = v & MIP_MASK_ALL; break;
    case CSR_MTVEC: rv->mtvec = v & ~2ull; break;
    case CSR_MCOUNTEREN: rv->mcounteren = (uint32_t)v; break;
    case CSR_MENVCFG: {
        uint64_t old = rv->menvcfg;
        uint64_t nv = envcfg_write(rv, old, v, true);
        g_mutex_lock(&rv->sstc_lock); /* the Sstc timer reads STCE */
        rv->menvcfg = nv;
        g_mutex_unlock(&rv->sstc_lock);
        if ((old ^ nv) & ENVCFG_STCE) {
            /* STIP follows stimecmp from now on, or is software's again. */
            rv->mip_sw &= ~(1ull << IRQ_S_TIMER);
            rv_sstc_update(rv);
        }
        if ((old ^ nv) & ENVCFG_PBMTE) {
            /* Translations were checked with the old PBMTE. */
            vireo_tlb_flush_all(cpu);
        }
        break;
    }
    case CSR_MSCRATCH: rv->mscratch = v; break;
    case CSR_MEPC: rv->mepc = v & ~1ull; break;
    case CSR_MCAUSE: rv->mcause = v; break;
    case CSR_MTVAL: rv->mtval = v; break;
    case CSR_MIP: {
        /* With Sstc enabled, STIP is stimecmp's and read-only. */
        uint64_t mask = MIP_S_MASK & ~(rv->menvcfg & ENVCFG_STCE ? 1ull << IRQ_S_TIMER : 0);
        rv->mip_sw = (rv->mip_sw & ~mask) | (v & mask);
        break;
    }
    default:
        if (csr >= CSR_PMPCFG0 && csr <= CSR_PMPCFG15) {
            unsigned first = (csr - CSR_PMPCFG0) * 4;
            for (unsigned i = 0; i < 8 && first + i < PMP_ENTRIES; i++) {
                uint8_t c = (uint8_t)(v >> (8 * i)) & 0x9f;
                if (pmp_locked(rv, first + i)) {
                    continue;
                }
                if ((c & 0x3) == 0x2) {
                    c &= (uint8_t)~0x2; /* W without R is reserved */
                }
                rv->pmpcfg[first + i] = c;
            }
            rv_pmp_update(rv);
            vireo_tlb_flush_all(cpu);
        } else if (csr >= CSR_PMPADDR0 && csr <= CSR_PMPADDR63) {
            unsigned i = csr - CSR_PMPADDR0;
            if (i < PMP_ENTRIES && !pmp_locked(rv, i) &&
                !(i + 1 < PMP_ENTRIES && pmp_locked(rv, i + 1) &&
                  ((rv->pmpcfg[i + 1] >> 3) & 3) == 1)) {
                rv->pmpaddr[i] = v & ((1ull << 54) - 1);
                rv_pmp_update(rv);
                vireo_tlb_flush_all(cpu);
            }
        }
        /* Other registers are read-only zero (WARL). */
        break;
    }
    if (is_fp_csr(csr)) {
        rv->mstatus |= MSTATUS_FS;
        vireo_cpu_set_decode_flags(cpu);
    }
    return true;
}

/* Privilege and enable checks common to reads and writes. */
static bool csr_accessible(RvCpu *rv, unsigned csr)
{
    unsigned min_priv = (csr >> 8) & 3;

    if (!csr_exists(rv, csr) || rv->priv < min_priv) {
        return false;
    }
    if (is_fp_csr(csr) && (rv->mstatus & MSTATUS_FS) == 0) {
        return false;
    }
    if (csr == CSR_SATP && rv->priv == PRV_S && (rv->mstatus & MSTATUS_TVM)) {
        return false;
    }
    /* stimecmp below M-mode: enabled by menvcfg.STCE and mcounteren.TM. */
    if (csr == CSR_STIMECMP && rv->priv < PRV_M &&
        (!(rv->menvcfg & ENVCFG_STCE) || !(rv->mcounteren & 2))) {
        return false;
    }
    if (csr >= CSR_CYCLE && csr <= CSR_HPMCOUNTER31) {
        unsigned bit = csr - CSR_CYCLE;
        if (rv->priv < PRV_M && !((rv->mcounteren >> bit) & 1)) {
            return false;
        }
        if (rv->priv < PRV_S && !((rv->scounteren >> bit) & 1)) {
            return false;
        }
    }
    return true;
}

/* After a write to `csr`: whether the rest of the block may no longer run
 * as decoded (a new translation, PMP or menvcfg, or a new FP state, which decoding
 * depends on: FP instructions trap when it is off and mark it dirty unless
 * it is), or an interrupt must be taken before the next
 * instruction (the dispatcher is asked to look). Everything else, such as
 * SIE cleared around a critical section, goes on in the block: the
 * interpreter reloads the TLB context and decode key after every helper. */
static bool write_ends_block(RvCpu *rv, unsigned csr, uint64_t fs_before)
{
    bool ends = csr == CSR_SATP || csr == CSR_MENVCFG ||
                (csr >= CSR_PMPCFG0 && csr <= CSR_PMPADDR63) ||
                fs_before != (rv->mstatus & MSTATUS_FS);

    if (rv_irq_pending(rv)) {
        vireo_cpu_request_exit(&rv->base);
        ends = true;
    }
    return ends;
}

/* insn->imm: csr number | instruction bits << 32; flags: funct3;
 * a: rs1; b: uimm; d: rd (0 for none). */
int rv_helper_csr(VireoCpu *cpu, const VireoIrInsn *insn)
{
    RvCpu *rv = rv_cpu(cpu);
    unsigned csr = (unsigned)(insn->imm & 0xfff);
    uint64_t bits = (uint64_t)insn->imm >> 32;
    unsigned funct3 = insn->flags;
    bool imm_form = funct3 >= 5;
    uint64_t src = imm_form ? insn->b : cpu->regs[insn->a];
    bool src_zero = imm_form ? insn->b == 0 : insn->a == 0;
    bool do_read = (funct3 & 3) != 1 || insn->d != 0;
    bool do_write = (funct3 & 3) == 1 || !src_zero;
    uint64_t old = 0, nv, fs_before;

    if (!csr_accessible(rv, csr) || (do_write && (csr >> 10) == 3)) {
        cpu->pc = vireo_cpu_insn_pc(cpu, insn);
        rv_raise(cpu, EXC_ILLEGAL, bits);
        return VIREO_IR_TRAP;
    }
    if (do_read || (funct3 & 3) != 1) {
        rv_csr_read(rv, csr, &old, insn);
    }
    fs_before = rv->mstatus & MSTATUS_FS;
    if (do_write) {
        uint64_t base = old;
        if (csr == CSR_MIP) {
            /* Only the software-writable SEIP takes part in the
             * read-modify-write, not the line from the PLIC. */
            base = (old & ~(1ull << IRQ_S_EXT)) | (rv->mip_sw & (1ull << IRQ_S_EXT));
        }
        switch (funct3 & 3) {
        case 1: nv = src; break;
        case 2: nv = base | src; break;
        default: nv = base & ~src; break;
        }
        csr_write(rv, csr, nv, insn);
    }
    if (insn->d != 0) {
        cpu->regs[insn->d] = old;
    }
    if (do_write && write_ends_block(rv, csr, fs_before)) {
        cpu->pc = vireo_cpu_next_pc(cpu, insn);
        return VIREO_IR_EXIT;
    }
    return 0;
}

/* As rv_helper_csr() for fflags, frm and fcsr, which every privilege may
 * access: the decoder emits this one only while FS is on, and marks FS
 * dirty before an instruction that writes (fp_enter()), so nothing here
 * can trap or end the block. Programs read and write them around their
 * floating point (libgcc's soft long double, fenv). */
int rv_helper_fcsr(VireoCpu *cpu, const VireoIrInsn *insn)
{
    unsigned csr = (unsigned)(insn->imm & 0xfff);
    unsigned funct3 = insn->flags;
    bool imm_form = funct3 >= 5;
    uint64_t src = imm_form ? insn->b : cpu->regs[insn->a];
    bool do_write = (funct3 & 3) == 1 || (imm_form ? insn->b != 0 : insn->a != 0);
    uint64_t old = csr == CSR_FFLAGS ? cpu->fp_flags
                   : csr == CSR_FRM  ? cpu->fp_rm
                                     : fcsr_read(rv_cpu(cpu));

    if (do_write) {
        uint64_t nv = (funct3 & 3) == 1 ? src : (funct3 & 3) == 2 ? old | src : old & ~src;
        if (csr != CSR_FRM) {
            cpu->fp_flags = (uint8_t)(nv & 0x1f);
        }
        if (csr == CSR_FRM) {
            cpu->fp_rm = (uint8_t)(nv & 7);
        } else if (csr == CSR_FCSR) {
            cpu->fp_rm = (uint8_t)((nv >> 5) & 7);
        }
    }
    if (insn->d != 0) {
        cpu->regs[insn->d] = old;
    }
    return 0;
}

static int illegal(VireoCpu *cpu, const VireoIrInsn *insn)
{
    cpu->pc = vireo_cpu_insn_pc(cpu, insn);
    rv_raise(cpu, EXC_ILLEGAL, (uint64_t)insn->imm);
    return VIREO_IR_TRAP;
}

int rv_helper_mret(VireoCpu *cpu, const VireoIrInsn *insn)
{
    RvCpu *rv = rv_cpu(cpu);
    unsigned mpp;

    if (rv->priv < PRV_M) {
        return illegal(cpu, insn);
    }
    mpp = (unsigned)((rv->mstatus & MSTATUS_MPP) >> 11);
    rv->mstatus &= ~MSTATUS_MIE;
    if (rv->mstatus & MSTATUS_MPIE) {
        rv->mstatus |= MSTATUS_MIE;
    }
    rv->mstatus |= MSTATUS_MPIE;
    rv->mstatus &= ~MSTATUS_MPP; /* MPP = U */
    if (mpp != PRV_M) {
        rv->mstatus &= ~MSTATUS_MPRV;
    }
    rv->priv = mpp;
    rv_update_context(rv);
    if (rv_irq_pending(rv)) {
        vireo_cpu_request_exit(cpu);
    }
    cpu->pc = rv->mepc;
    return VIREO_IR_EXIT;
}

int rv_helper_sret(VireoCpu *cpu, const VireoIrInsn *insn)
{
    RvCpu *rv = rv_cpu(cpu);
    unsigned spp;

    if (rv->priv < PRV_S || (rv->priv == PRV_S && (rv->mstatus & MSTATUS_TSR))) {
        return illegal(cpu, insn);
    }
    spp = (rv->mstatus & MSTATUS_SPP) ? PRV_S : PRV_U;
    rv->mstatus &= ~MSTATUS_SIE;
    if (rv->mstatus & MSTATUS_SPIE) {
        rv->mstatus |= MSTATUS_SIE;
    }
    rv->mstatus |= MSTATUS_SPIE;
    rv->mstatus &= ~MSTATUS_SPP;
    rv->mstatus &= ~MSTATUS_MPRV;
    rv->priv = spp;
    rv_update_context(rv);
    if (rv_irq_pending(rv)) {
        vireo_cpu_request_exit(cpu);
    }
    cpu->pc = rv->sepc;
    return VIREO_IR_EXIT;
}

/* a: rs1 (virtual address), b: rs2 (ASID); imm: instruction bits. */
int rv_helper_sfence_vma(VireoCpu *cpu, const VireoIrInsn *insn)
{
    RvCpu *rv = rv_cpu(cpu);
    uint64_t va = insn->a != 0 ? cpu->regs[insn->a] : VIREO_TLB_INVALID;

    if (rv->priv == PRV_U || (rv->priv == PRV_S && (rv->mstatus & MSTATUS_TVM))) {
        return illegal(cpu, insn);
    }
    vireo_tlb_flush(cpu, va, insn->b != 0, (uint16_t)cpu->regs[insn->b]);
    cpu->pc = vireo_cpu_next_pc(cpu, insn);
    return VIREO_IR_EXIT;
}

/* sfence.w.inval and sfence.inval.ir (Svinval): they only order the
 * sinval.vma between them, which act at once; illegal in U-mode only. */
int rv_helper_sfence_inval(VireoCpu *cpu, const VireoIrInsn *insn)
{
    if (rv_cpu(cpu)->priv == PRV_U) {
        return illegal(cpu, insn);
    }
    return 0;
}

int rv_helper_wfi_check(VireoCpu *cpu, const VireoIrInsn *insn)
{
    RvCpu *rv = rv_cpu(cpu);

    if (rv->priv == PRV_U || (rv->priv == PRV_S && (rv->mstatus & MSTATUS_TW))) {
        return illegal(cpu, insn);
    }
    return 0;
}

int rv_helper_fence_i(VireoCpu *cpu, const VireoIrInsn *insn)
{
    /* Writes to code pages already dropped the blocks decoded from them;
     * ending the block here makes the next fetch look them up again. */
    cpu->pc = vireo_cpu_next_pc(cpu, insn);
    return VIREO_IR_EXIT;
}

/* Whether the envcfg field `bits` allows a cache-block operation at the
 * current privilege: menvcfg below M, senvcfg too in U. */
static bool cbo_enabled(const RvCpu *rv, uint64_t bits)
{
    return rv->priv == PRV_M ||
           ((rv->menvcfg & bits) != 0 && (rv->priv == PRV_S || (rv->senvcfg & bits) != 0));
}

/* cbo.clean, cbo.flush, cbo.inval and cbo.zero on the block that holds
 * x[a]. imm: the operation (0 inval, 1 clean, 2 flush, 4 zero) | the
 * instruction bits << 32. Memory is coherent: clean, flush and invalidate
 * (which is allowed to flush) only check that the block may be accessed. */
int rv_helper_cbo(VireoCpu *cpu, const VireoIrInsn *insn)
{
    RvCpu *rv = rv_cpu(cpu);
    unsigned op = (unsigned)(insn->imm & 0xfff);
    uint64_t bits = (uint64_t)insn->imm >> 32;
    uint64_t va = cpu->regs[insn->a];
    uint64_t need = op == 4 ? ENVCFG_CBZE : op == 0 ? ENVCFG_CBIE : ENVCFG_CBCFE;
    bool ok;

    cpu->pc = vireo_cpu_insn_pc(cpu, insn);
    if (!cbo_enabled(rv, need)) {
        rv_raise(cpu, EXC_ILLEGAL, bits);
        return VIREO_IR_TRAP;
    }
    if (op == 4) {
        ok = vireo_cpu_zero_block(cpu, va, RV_CACHE_BLOCK);
    } else {
        ok = vireo_cpu_probe_block(cpu, va, RV_CACHE_BLOCK);
    }
    return ok ? 0 : VIREO_IR_TRAP;
}

int rv_helper_set_fs_dirty(VireoCpu *cpu, const VireoIrInsn *insn)
{
    RvCpu *rv = rv_cpu(cpu);

    rv->mstatus |= MSTATUS_FS;
    vireo_cpu_set_decode_flags(cpu);
    return 0;
}

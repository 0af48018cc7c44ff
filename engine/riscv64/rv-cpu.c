/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A RISC-V 64 hart: reset, traps and interrupts, wfi, and the glue between
 * the architecture-neutral core (engine/cpu.c) and the RISC-V parts
 * (decoder, CSRs, MMU).
 */
#include "rv-cpu.h"

#include "engine/error.h"
#include "engine/snap.h"

#include <string.h>

uint64_t rv_mip(RvCpu *rv)
{
    return rv->mip_sw | atomic_load_explicit(&rv->mip_hw, memory_order_acquire);
}

uint64_t rv_retired(RvCpu *rv, const VireoIrInsn *insn)
{
    return insn != NULL ? vireo_cpu_retired(&rv->base, insn) : vireo_cpu_icount(&rv->base);
}

/* The farthest the Sstc timer is armed ahead of time, in ticks (228 years at
 * 10 MHz); a deadline beyond it is checked again when the timer fires. */
#define SSTC_MAX_AHEAD (1ull << 56)

/* With sstc_lock held: compares stimecmp with time, sets STIP and arms the
 * timer for a deadline still ahead. */
static void sstc_update_locked(RvCpu *rv)
{
    VireoClock *clock = vireo_machine_clock(rv->base.machine);
    uint64_t now;

    if (!(rv->menvcfg & ENVCFG_STCE)) {
        vireo_timer_cancel(rv->stimer);
        vireo_rv_cpu_set_irq(rv, VIREO_RV_MIP_STIP, false);
        return;
    }
    now = vireo_clock_now(clock);
    if (rv->stimecmp <= now) {
        vireo_timer_cancel(rv->stimer);
        vireo_rv_cpu_set_irq(rv, VIREO_RV_MIP_STIP, true);
        return;
    }
    vireo_rv_cpu_set_irq(rv, VIREO_RV_MIP_STIP, false);
    vireo_timer_arm(rv->stimer,
                    rv->stimecmp - now > SSTC_MAX_AHEAD ? now + SSTC_MAX_AHEAD : rv->stimecmp);
}

void rv_sstc_update(RvCpu *rv)
{
    g_mutex_lock(&rv->sstc_lock);
    sstc_update_locked(rv);
    g_mutex_unlock(&rv->sstc_lock);
}

/* On the clock's thread: the deadline may have moved since the timer was
 * armed, so the comparison is made again. */
static void sstc_timer_fired(void *opaque)
{
    RvCpu *rv = opaque;

    g_mutex_lock(&rv->sstc_lock);
    sstc_update_locked(rv);
    g_mutex_unlock(&rv->sstc_lock);
}

void rv_update_context(RvCpu *rv)
{
    unsigned eff = rv->priv;
    unsigned dctx, ictx;

    if (rv->priv == PRV_M && (rv->mstatus & MSTATUS_MPRV)) {
        eff = (unsigned)((rv->mstatus & MSTATUS_MPP) >> 11);
    }
    switch (eff) {
    case PRV_M: dctx = CTX_M; break;
    case PRV_S: dctx = (rv->mstatus & MSTATUS_SUM) ? CTX_S_SUM : CTX_S; break;
    default: dctx = CTX_U; break;
    }
    ictx = rv->priv == PRV_M ? CTX_M : rv->priv == PRV_S ? CTX_S : CTX_U;
    vireo_tlb_set_context(&rv->base, dctx, ictx);
    vireo_cpu_set_decode_flags(&rv->base);
}

static void take_trap(RvCpu *rv, uint64_t cause, uint64_t tval, bool interrupt)
{
    uint64_t code = cause;
    uint64_t epc = rv->base.pc;
    bool delegate = rv->priv <= PRV_S && (((interrupt ? rv->mideleg : rv->medeleg) >> code) & 1);
    uint64_t mcause = interrupt ? (code | CAUSE_INTERRUPT) : code;

    if (delegate) {
        rv->sepc = epc & ~1ull;
        rv->scause = mcause;
        rv->stval = tval;
        rv->mstatus &= ~(MSTATUS_SPIE | MSTATUS_SPP);
        if (rv->mstatus & MSTATUS_SIE) {
            rv->mstatus |= MSTATUS_SPIE;
        }
        if (rv->priv == PRV_S) {
            rv->mstatus |= MSTATUS_SPP;
        }
        rv->mstatus &= ~MSTATUS_SIE;
        rv->priv = PRV_S;
        rv->base.pc = rv->stvec & ~3ull;
        if (interrupt && (rv->stvec & 1)) {
            rv->base.pc += 4 * code;
        }
    } else {
        rv->mepc = epc & ~1ull;
        rv->mcause = mcause;
        rv->mtval = tval;
        rv->mstatus &= ~(MSTATUS_MPIE | MSTATUS_MPP);
        if (rv->mstatus & MSTATUS_MIE) {
            rv->mstatus |= MSTATUS_MPIE;
        }
        rv->mstatus |= (uint64_t)rv->priv << 11;
        rv->mstatus &= ~MSTATUS_MIE;
        rv->priv = PRV_M;
        rv->base.pc = rv->mtvec & ~3ull;
        if (interrupt && (rv->mtvec & 1)) {
            rv->base.pc += 4 * code;
        }
    }
    rv_update_context(rv);
    if (interrupt) {
        VIREO_STAT_ADD(&rv->base, interrupts, 1);
    } else {
        VIREO_STAT_ADD(&rv->base, exceptions, 1);
    }
}

void rv_raise(VireoCpu *cpu, uint64_t cause, uint64_t tval)
{
    take_trap(rv_cpu(cpu), cause, tval, false);
}

static void rv_raise_illegal(VireoCpu *cpu, uint64_t bits)
{
    take_trap(rv_cpu(cpu), EXC_ILLEGAL, bits, false);
}

static void rv_raise_access(VireoCpu *cpu, VireoAccess access, VireoXlateResult why, uint64_t va)
{
    static const uint64_t causes[3][3] = {
        /* page fault, access fault, misaligned */
        [VIREO_ACCESS_LOAD] = { EXC_LOAD_PAGE, EXC_LOAD_ACCESS, EXC_LOAD_MISALIGNED },
        [VIREO_ACCESS_STORE] = { EXC_STORE_PAGE, EXC_STORE_ACCESS, EXC_STORE_MISALIGNED },
        [VIREO_ACCESS_FETCH] = { EXC_INSN_PAGE, EXC_INSN_ACCESS, EXC_INSN_MISALIGNED },
    };
    unsigned kind = why == VIREO_XLATE_PAGE_FAULT ? 0 : why == VIREO_XLATE_ACCESS_FAULT ? 1 : 2;

    take_trap(rv_cpu(cpu), causes[access][kind], va, false);
}

/* The interrupt to take now, or -1. */
static int pending_interrupt(RvCpu *rv)
{
    static const int order[] = { IRQ_M_EXT, IRQ_M_SOFT, IRQ_M_TIMER,
                                 IRQ_S_EXT, IRQ_S_SOFT, IRQ_S_TIMER };
    uint64_t pending = rv_mip(rv) & rv->mie;
    uint64_t m_level, s_level, take = 0;

    if (pending == 0) {
        return -1;
    }
    m_level = pending & ~rv->mideleg;
    s_level = pending & rv->mideleg;
    if (m_level != 0 && (rv->priv < PRV_M || (rv->mstatus & MSTATUS_MIE))) {
        take = m_level;
    } else if (s_level != 0 &&
               (rv->priv < PRV_S || (rv->priv == PRV_S && (rv->mstatus & MSTATUS_SIE)))) {
        take = s_level;
    }
    for (unsigned i = 0; i < G_N_ELEMENTS(order); i++) {
        if (take & (1ull << order[i])) {
            return order[i];
        }
    }
    return -1;
}

bool rv_irq_pending(RvCpu *rv)
{
    return pending_interrupt(rv) >= 0;
}

static void rv_check_interrupts(VireoCpu *cpu)
{
    RvCpu *rv = rv_cpu(cpu);
    int irq;

    if (cpu->halted && (rv_mip(rv) & rv->mie) != 0) {
        cpu->halted = false;
    }
    irq = pending_interrupt(rv);
    if (irq >= 0) {
        cpu->halted = false;
        take_trap(rv, (uint64_t)irq, 0, true);
    }
}

static void rv_wait_for_interrupt(VireoCpu *cpu)
{
    RvCpu *rv = rv_cpu(cpu);

    g_mutex_lock(&rv->wfi_lock);
    while ((rv_mip(rv) & rv->mie) == 0 &&
           !atomic_load_explicit(&cpu->exit_request, memory_order_acquire)) {
        rv->wfi_waiting = true;
        g_cond_wait(&rv->wfi_cond, &rv->wfi_lock);
        rv->wfi_waiting = false;
    }
    g_mutex_unlock(&rv->wfi_lock);
    /* Let the loop look at the new state. */
    vireo_cpu_request_exit(cpu);
}

static void rv_wait_for_kick(VireoCpu *cpu, int64_t us)
{
    RvCpu *rv = rv_cpu(cpu);
    gint64 end = g_get_monotonic_time() + us;

    /* Only for a pending IPI: a timer or a device that stays pending is
     * what a program polls with interrupts masked, and it goes on at once
     * (the demo waits for virtio-gpu that way). */
    if ((rv_mip(rv) & rv->mie & ~((1ull << IRQ_M_SOFT) | (1ull << IRQ_S_SOFT))) != 0) {
        return;
    }
    g_mutex_lock(&rv->wfi_lock);
    /* Kicks from now on: exit_request may be set already, by the WFI
     * itself. */
    for (unsigned kicks = rv->kicks; rv->kicks == kicks;) {
        bool signalled;
        rv->wfi_waiting = true;
        signalled = g_cond_wait_until(&rv->wfi_cond, &rv->wfi_lock, end);
        rv->wfi_waiting = false;
        if (!signalled) {
            break;
        }
    }
    g_mutex_unlock(&rv->wfi_lock);
}

static uint32_t rv_decode_flags(VireoCpu *cpu)
{
    return (uint32_t)((rv_cpu(cpu)->mstatus & MSTATUS_FS) >> 13);
}

static const VireoCpuClass rv_class = {
    .translate = rv_translate,
    .raise_access = rv_raise_access,
    .raise = rv_raise,
    .raise_illegal = rv_raise_illegal,
    .decode = rv_decode,
    .max_insn_bytes = 4,
    .decode_flags = rv_decode_flags,
    .check_interrupts = rv_check_interrupts,
    .wait_for_interrupt = rv_wait_for_interrupt,
    .wait_for_kick = rv_wait_for_kick,
};

/* ---- vCPU operations ---- */

static void rv_reset(void *opaque)
{
    RvCpu *rv = opaque;
    VireoCpu *cpu = &rv->base;

    memset(cpu->regs, 0, sizeof cpu->regs);
    cpu->pc = rv->reset_pc;
    cpu->fp_rm = 0;
    cpu->fp_flags = 0;
    cpu->halted = false;
    cpu->res_valid = false;
    cpu->insns_at_reset = cpu->stats.insns;
    rv->priv = PRV_M;
    rv->mstatus = (2ull << 32) | (2ull << 34); /* UXL = SXL = 64 */
    rv->medeleg = rv->mideleg = rv->mie = rv->mip_sw = 0;
    rv->mtvec = rv->mscratch = rv->mepc = rv->mcause = rv->mtval = 0;
    rv->stvec = rv->sscratch = rv->sepc = rv->scause = rv->stval = 0;
    rv->satp = 0;
    rv->mcounteren = rv->scounteren = 0;
    rv->menvcfg = rv->senvcfg = 0;
    rv->stimecmp = G_MAXUINT64;
    rv_sstc_update(rv);
    rv->cycle_offset = rv->instret_offset = 0;
    memset(rv->pmpcfg, 0, sizeof rv->pmpcfg);
    memset(rv->pmpaddr, 0, sizeof rv->pmpaddr);
    rv_pmp_update(rv);
    vireo_tlb_flush_all(cpu);
    vireo_cpu_flush_code(cpu);
    rv_update_context(rv);
}

static void rv_run(void *opaque)
{
    vireo_cpu_run(&((RvCpu *)opaque)->base);
}

static void rv_kick(void *opaque)
{
    RvCpu *rv = opaque;

    vireo_cpu_request_exit(&rv->base);
    /* A waiter checks mip and exit_request under the lock before it
     * blocks, so only one that is blocked needs the signal (a system call
     * even with no one waiting; interrupt lines change thousands of times
     * a second). */
    g_mutex_lock(&rv->wfi_lock);
    rv->kicks++;
    if (rv->wfi_waiting) {
        g_cond_broadcast(&rv->wfi_cond);
    }
    g_mutex_unlock(&rv->wfi_lock);
}

static void rv_get_stats(void *opaque, VireoVcpuStats *stats)
{
    vireo_cpu_read_stats(&((RvCpu *)opaque)->base, stats);
}

static void rv_free(void *opaque)
{
    RvCpu *rv = opaque;

    vireo_timer_free(rv->stimer);
    vireo_cpu_finalize(&rv->base);
    g_mutex_clear(&rv->sstc_lock);
    g_mutex_clear(&rv->wfi_lock);
    g_cond_clear(&rv->wfi_cond);
    g_free(rv);
}

/* ---- machine state (docs/SNAPSHOTS.md, section "cpu" version 2) ---- */

/* Version 2 adds the hart's extensions and stimecmp; version 1 loads with
 * those of RV64GC and stimecmp all ones. */
#define RV_STATE_VERSION 2

static bool rv_save(void *opaque, VireoSnapWriter *w, GError **error)
{
    RvCpu *rv = opaque;
    VireoCpu *cpu = &rv->base;
    const VireoRegion *ram = vireo_bus_ram(cpu->bus);
    bool res = cpu->res_valid && ram != NULL && (guint8 *)cpu->res_host >= ram->host &&
               (guint8 *)cpu->res_host < ram->host + ram->size;

    (void)error;
    vireo_snap_put_u32(w, rv->hartid);
    for (unsigned i = 0; i < 64; i++) {
        vireo_snap_put_u64(w, cpu->regs[i]);
    }
    vireo_snap_put_u64(w, cpu->pc);
    vireo_snap_put_u8(w, cpu->fp_rm);
    vireo_snap_put_u8(w, cpu->fp_flags);
    vireo_snap_put_bool(w, cpu->halted);
    vireo_snap_put_bool(w, res);
    vireo_snap_put_u64(w, res ? ram->base + (uint64_t)((guint8 *)cpu->res_host - ram->host) : 0);
    vireo_snap_put_u64(w, res ? cpu->res_value : 0);
    vireo_snap_put_u64(w, vireo_cpu_icount(cpu));

    vireo_snap_put_u8(w, (uint8_t)rv->priv);
    vireo_snap_put_u64(w, rv->mstatus);
    vireo_snap_put_u64(w, rv->medeleg);
    vireo_snap_put_u64(w, rv->mideleg);
    vireo_snap_put_u64(w, rv->mie);
    vireo_snap_put_u64(w, rv->mip_sw);
    vireo_snap_put_u64(w, atomic_load(&rv->mip_hw));
    vireo_snap_put_u64(w, rv->mtvec);
    vireo_snap_put_u64(w, rv->mscratch);
    vireo_snap_put_u64(w, rv->mepc);
    vireo_snap_put_u64(w, rv->mcause);
    vireo_snap_put_u64(w, rv->mtval);
    vireo_snap_put_u64(w, rv->stvec);
    vireo_snap_put_u64(w, rv->sscratch);
    vireo_snap_put_u64(w, rv->sepc);
    vireo_snap_put_u64(w, rv->scause);
    vireo_snap_put_u64(w, rv->stval);
    vireo_snap_put_u64(w, rv->satp);
    vireo_snap_put_u32(w, rv->mcounteren);
    vireo_snap_put_u32(w, rv->scounteren);
    vireo_snap_put_u64(w, rv->menvcfg);
    vireo_snap_put_u64(w, rv->senvcfg);
    vireo_snap_put_u64(w, rv->cycle_offset);
    vireo_snap_put_u64(w, rv->instret_offset);
    vireo_snap_put_bytes(w, rv->pmpcfg, PMP_ENTRIES);
    for (unsigned i = 0; i < PMP_ENTRIES; i++) {
        vireo_snap_put_u64(w, rv->pmpaddr[i]);
    }
    vireo_snap_put_u32(w, rv->ext);
    vireo_snap_put_u64(w, rv->stimecmp);
    return true;
}

static bool rv_load(void *opaque, VireoSnapReader *r, GError **error)
{
    RvCpu *rv = opaque;
    VireoCpu *cpu = &rv->base;
    const VireoRegion *ram = vireo_bus_ram(cpu->bus);
    uint64_t regs[64], pc, res_addr, res_value, icount, satp_mode, stimecmp = G_MAXUINT64;
    unsigned version = vireo_snap_reader_version(r);
    uint32_t ext = 0;
    uint8_t fp_rm, fp_flags, priv;
    bool halted, res;
    struct {
        uint64_t mstatus, medeleg, mideleg, mie, mip_sw;
        uint64_t mtvec, mscratch, mepc, mcause, mtval;
        uint64_t stvec, sscratch, sepc, scause, stval, satp;
        uint32_t mcounteren, scounteren;
        uint64_t menvcfg, senvcfg, cycle_offset, instret_offset;
        uint8_t pmpcfg[PMP_ENTRIES];
        uint64_t pmpaddr[PMP_ENTRIES];
    } s; /* the CSRs, checked before any is applied */

    if (version != 1 && version != RV_STATE_VERSION) {
        vireo_snap_fail(r, "layout version %u is not 1 or %u", version, RV_STATE_VERSION);
    }
    if (vireo_snap_get_u32(r) != rv->hartid) {
        vireo_snap_fail(r, "it belongs to another hart");
    }
    for (unsigned i = 0; i < 64; i++) {
        regs[i] = vireo_snap_get_u64(r);
    }
    pc = vireo_snap_get_u64(r);
    fp_rm = vireo_snap_get_u8(r);
    fp_flags = vireo_snap_get_u8(r);
    halted = vireo_snap_get_bool(r);
    res = vireo_snap_get_bool(r);
    res_addr = vireo_snap_get_u64(r);
    res_value = vireo_snap_get_u64(r);
    icount = vireo_snap_get_u64(r);
    memset(&s, 0, sizeof s);
    priv = vireo_snap_get_u8(r);
    s.mstatus = vireo_snap_get_u64(r);
    s.medeleg = vireo_snap_get_u64(r);
    s.mideleg = vireo_snap_get_u64(r);
    s.mie = vireo_snap_get_u64(r);
    s.mip_sw = vireo_snap_get_u64(r);
    (void)vireo_snap_get_u64(r); /* the device lines: the devices drive them again */
    s.mtvec = vireo_snap_get_u64(r);
    s.mscratch = vireo_snap_get_u64(r);
    s.mepc = vireo_snap_get_u64(r);
    s.mcause = vireo_snap_get_u64(r);
    s.mtval = vireo_snap_get_u64(r);
    s.stvec = vireo_snap_get_u64(r);
    s.sscratch = vireo_snap_get_u64(r);
    s.sepc = vireo_snap_get_u64(r);
    s.scause = vireo_snap_get_u64(r);
    s.stval = vireo_snap_get_u64(r);
    s.satp = vireo_snap_get_u64(r);
    s.mcounteren = vireo_snap_get_u32(r);
    s.scounteren = vireo_snap_get_u32(r);
    s.menvcfg = vireo_snap_get_u64(r);
    s.senvcfg = vireo_snap_get_u64(r);
    s.cycle_offset = vireo_snap_get_u64(r);
    s.instret_offset = vireo_snap_get_u64(r);
    vireo_snap_get_bytes(r, s.pmpcfg, PMP_ENTRIES);
    for (unsigned i = 0; i < PMP_ENTRIES; i++) {
        s.pmpaddr[i] = vireo_snap_get_u64(r);
    }
    if (version >= 2) {
        ext = vireo_snap_get_u32(r);
        stimecmp = vireo_snap_get_u64(r);
    }

    satp_mode = s.satp >> 60;
    if (priv != PRV_U && priv != PRV_S && priv != PRV_M) {
        vireo_snap_fail(r, "privilege mode %u does not exist", priv);
    } else if (fp_rm > 7 || fp_flags > 0x1f) {
        vireo_snap_fail(r, "the floating-point state 0x%x/0x%x is invalid", fp_rm, fp_flags);
    } else if (satp_mode != 0 && (satp_mode < 8 || satp_mode > 10)) {
        vireo_snap_fail(r, "satp selects translation mode %" G_GUINT64_FORMAT, satp_mode);
    } else if ((s.mstatus & (MSTATUS_UXL | MSTATUS_SXL)) != ((2ull << 32) | (2ull << 34))) {
        vireo_snap_fail(r, "mstatus selects a register width other than 64 bits");
    } else if ((s.mip_sw & ~MIP_S_MASK) != 0 || (s.mie & ~MIP_MASK_ALL) != 0 ||
               (s.mideleg & ~MIP_S_MASK) != 0) {
        vireo_snap_fail(r, "the interrupt registers hold bits that do not exist");
    } else if (res && (ram == NULL || res_addr < ram->base || res_addr - ram->base >= ram->size ||
                       (res_addr & 3) != 0)) {
        vireo_snap_fail(r, "the LR/SC reservation at 0x%" G_GINT64_MODIFIER "x is not in RAM",
                        res_addr);
    } else if ((pc & 1) != 0) {
        vireo_snap_fail(r, "the pc 0x%" G_GINT64_MODIFIER "x is misaligned", pc);
    } else if ((ext & ~rv->ext) != 0) {
        /* Software on it may use what this hart lacks. */
        vireo_snap_fail(r, "it was saved on a hart with extensions this %s hart does not have",
                        vireo_rv_cpu_model_name(rv->model));
    } else if (!rv_envcfg_valid(rv, s.menvcfg, true) || !rv_envcfg_valid(rv, s.senvcfg, false)) {
        vireo_snap_fail(r, "menvcfg or senvcfg holds fields this hart does not have");
    }
    if (!vireo_snap_reader_finish(r, error)) {
        return false;
    }

    memcpy(cpu->regs, regs, sizeof regs);
    cpu->regs[0] = 0;
    cpu->pc = pc;
    cpu->fp_rm = fp_rm;
    cpu->fp_flags = fp_flags;
    cpu->halted = halted;
    cpu->halt_since_us = halted ? g_get_monotonic_time() : 0;
    cpu->res_valid = res;
    cpu->res_host = res ? ram->host + (res_addr - ram->base) : NULL;
    cpu->res_value = res_value;
    cpu->insns_at_reset = cpu->stats.insns - icount;
    rv->priv = priv;
    rv->mstatus = s.mstatus;
    rv->medeleg = s.medeleg;
    rv->mideleg = s.mideleg;
    rv->mie = s.mie;
    rv->mip_sw = s.mip_sw;
    rv->mtvec = s.mtvec;
    rv->mscratch = s.mscratch;
    rv->mepc = s.mepc;
    rv->mcause = s.mcause;
    rv->mtval = s.mtval;
    rv->stvec = s.stvec;
    rv->sscratch = s.sscratch;
    rv->sepc = s.sepc;
    rv->scause = s.scause;
    rv->stval = s.stval;
    rv->satp = s.satp;
    rv->mcounteren = s.mcounteren;
    rv->scounteren = s.scounteren;
    rv->menvcfg = s.menvcfg;
    rv->senvcfg = s.senvcfg;
    rv->stimecmp = stimecmp;
    rv->cycle_offset = s.cycle_offset;
    rv->instret_offset = s.instret_offset;
    memcpy(rv->pmpcfg, s.pmpcfg, sizeof rv->pmpcfg);
    memcpy(rv->pmpaddr, s.pmpaddr, sizeof rv->pmpaddr);
    rv_pmp_update(rv);
    vireo_tlb_flush_all(cpu);
    vireo_cpu_flush_code(cpu);
    rv_update_context(rv);
    /* The clock holds its loaded time: STIP is what stimecmp makes of it,
     * and a deadline still ahead is armed. */
    rv_sstc_update(rv);
    return true;
}

static const VireoVcpuOps rv_vcpu_ops = {
    .save = rv_save,
    .load = rv_load,
    .state_version = RV_STATE_VERSION,
    .run = rv_run,
    .kick = rv_kick,
    .reset = rv_reset,
    .get_stats = rv_get_stats,
    .free = rv_free,
};

bool vireo_rv_cpu_set_engine(VireoRvCpu *cpu, VireoEngineKind kind, GError **error)
{
    if (!vireo_engine_available(kind, error)) {
        return false;
    }
    if (!vireo_cpu_set_engine(&cpu->base, kind)) {
        g_set_error(error, VIREO_ERROR, VIREO_ERROR_ACCEL_UNAVAILABLE,
                    "the %s engine cannot run here: its code buffer cannot be made executable",
                    vireo_engine_name(kind));
        return false;
    }
    return true;
}

VireoRvCpu *vireo_rv_cpu_new(VireoMachine *machine, unsigned hartid, uint64_t reset_pc,
                             VireoRvCpuModel model)
{
    RvCpu *rv;

    g_return_val_if_fail((unsigned)model < VIREO_RV_CPU_N_MODELS, NULL);
    rv = g_new0(RvCpu, 1);
    vireo_cpu_init(&rv->base, &rv_class, machine, &rv->tlb);
    rv->hartid = hartid;
    rv->reset_pc = reset_pc;
    rv->model = model;
    rv->ext = rv_isa_ext_bits(model);
    atomic_init(&rv->mip_hw, 0);
    g_mutex_init(&rv->wfi_lock);
    g_cond_init(&rv->wfi_cond);
    g_mutex_init(&rv->sstc_lock);
    rv->stimer = vireo_timer_new(vireo_machine_clock(machine), sstc_timer_fired, rv);
    rv_reset(rv);
    vireo_machine_add_vcpu(machine, &rv_vcpu_ops, rv);
    return rv;
}

void vireo_rv_cpu_set_irq(VireoRvCpu *cpu, uint64_t mip_bit, bool level)
{
    RvCpu *rv = cpu;
    uint64_t old;

    if (level) {
        old = atomic_fetch_or(&rv->mip_hw, mip_bit);
    } else {
        old = atomic_fetch_and(&rv->mip_hw, ~mip_bit);
    }
    /* A line raised while it is high already is a new request too (an IPI
     * sent again): the hart looks, as it does for a change. */
    if (level || (old & mip_bit) != 0) {
        rv_kick(rv);
    }
}

uint64_t vireo_rv_cpu_get_reg(VireoRvCpu *cpu, unsigned index)
{
    return index < 64 ? cpu->base.regs[index] : 0;
}

void vireo_rv_cpu_set_reg(VireoRvCpu *cpu, unsigned index, uint64_t value)
{
    if (index > 0 && index < 64) {
        cpu->base.regs[index] = value;
    }
}

uint64_t vireo_rv_cpu_get_pc(VireoRvCpu *cpu)
{
    return cpu->base.pc;
}

void vireo_rv_cpu_set_pc(VireoRvCpu *cpu, uint64_t pc)
{
    cpu->base.pc = pc;
}

unsigned vireo_rv_cpu_get_priv(VireoRvCpu *cpu)
{
    return cpu->priv;
}

bool vireo_rv_cpu_get_csr(VireoRvCpu *cpu, unsigned csr, uint64_t *value)
{
    return rv_csr_read(cpu, csr, value, NULL);
}

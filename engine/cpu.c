/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The architecture-neutral part of a software vCPU: the dispatch loop, the
 * decoded-block cache, the soft TLB and the slow paths of memory accesses.
 */
#include "tb.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>

#define TB_HASH_BITS  18
#define TB_HASH_SIZE  (1u << TB_HASH_BITS)
#define TB_MAX_BYTES  (96u << 20)
#define PAGE_MASK     (~(uint64_t)(VIREO_PAGE_SIZE - 1))
#define TLB_INDEX(va) (((va) >> VIREO_PAGE_SHIFT) & (VIREO_TLB_SIZE - 1))

static const guint8 no_page_flags = 0;

/* Before an access raises an exception: cpu->pc is the pc of the
 * instruction whose slow access is under way (VireoCpu.access_insn), if
 * any. */
static void access_pc(VireoCpu *cpu)
{
    if (cpu->access_insn != NULL) {
        cpu->pc = vireo_cpu_insn_pc(cpu, cpu->access_insn);
        cpu->access_insn = NULL;
    }
}

static void entry_clear(VireoTlbEntry *e)
{
    e->tag_r = e->tag_w = e->tag_x = VIREO_TLB_INVALID;
    e->vpage = VIREO_TLB_INVALID;
    e->page_flags = &no_page_flags;
    e->perms = 0;
    e->flags = 0;
}

#define TLB_LOG_FULL (VIREO_TLB_LOG + 1)

/* Whether `log` must hold the slot of entry `e`. */
static bool log_keeps(const VireoTlbLog *log, const VireoTlbEntry *e)
{
    return e->vpage != VIREO_TLB_INVALID && !(log->nonglobal && e->global);
}

/* Notes that slot `i` of `array` has gone from empty (or, for a log of
 * non-global entries, from holding none) to holding one that the log
 * keeps. A full log is first compacted to the slots that it must still
 * hold, once each. */
static void tlb_log_note(VireoTlbLog *log, const VireoTlbEntry *array, unsigned i)
{
    if (log->n == VIREO_TLB_LOG) {
        uint64_t seen[VIREO_TLB_SIZE / 64] = { 0 };
        unsigned kept = 0;

        for (unsigned k = 0; k < VIREO_TLB_LOG; k++) {
            unsigned s = log->slot[k];
            if (log_keeps(log, &array[s]) && !(seen[s / 64] & (1ull << (s % 64)))) {
                seen[s / 64] |= 1ull << (s % 64);
                log->slot[kept++] = (uint16_t)s;
            }
        }
        log->n = (uint16_t)(kept < VIREO_TLB_LOG ? kept : TLB_LOG_FULL);
    }
    if (log->n < VIREO_TLB_LOG) {
        log->slot[log->n++] = (uint16_t)i;
    }
}

static bool entry_matches(const VireoTlbEntry *e, uint64_t va, bool match_asid, uint16_t asid);

/* Clears the entries of `array` that match (entry_matches()), looking at
 * the logged slots only where the log holds them all. */
static void tlb_array_flush(VireoTlbEntry *array, VireoTlbLog *log, uint64_t va, bool match_asid,
                            uint16_t asid)
{
    if (log->n == TLB_LOG_FULL) {
        unsigned kept = 0;
        for (unsigned i = 0; i < VIREO_TLB_SIZE; i++) {
            if (entry_matches(&array[i], va, match_asid, asid)) {
                entry_clear(&array[i]);
            } else if (log_keeps(log, &array[i])) {
                if (kept < VIREO_TLB_LOG) {
                    log->slot[kept] = (uint16_t)i;
                }
                kept++;
            }
        }
        log->n = (uint16_t)(kept <= VIREO_TLB_LOG ? kept : TLB_LOG_FULL);
        return;
    }
    unsigned kept = 0;
    for (unsigned k = 0; k < log->n; k++) {
        unsigned s = log->slot[k];
        if (entry_matches(&array[s], va, match_asid, asid)) {
            entry_clear(&array[s]);
        } else if (log_keeps(log, &array[s])) {
            log->slot[kept++] = (uint16_t)s;
        }
    }
    log->n = (uint16_t)kept;
}

static void tlb_clear_all(VireoTlb *tlb)
{
    for (unsigned c = 0; c < VIREO_TLB_CONTEXTS; c++) {
        tlb_array_flush(tlb->d[c], &tlb->dlog[c], VIREO_TLB_INVALID, false, 0);
        tlb_array_flush(tlb->i[c], &tlb->ilog[c], VIREO_TLB_INVALID, false, 0);
        tlb->dlog_ng[c].n = tlb->ilog_ng[c].n = 0; /* the arrays are empty */
        for (unsigned i = 0; i < VIREO_TLB_VICTIMS; i++) {
            entry_clear(&tlb->dv[c][i]);
            entry_clear(&tlb->iv[c][i]);
        }
    }
    tlb->super_lo = VIREO_TLB_INVALID;
    tlb->super_hi = 0;
}

void vireo_cpu_init(VireoCpu *cpu, const VireoCpuClass *cls, VireoMachine *machine, VireoTlb *tlb)
{
    memset(cpu, 0, sizeof *cpu);
    cpu->cls = cls;
    cpu->machine = machine;
    cpu->bus = vireo_machine_bus(machine);
    cpu->tlb = tlb;
    for (unsigned c = 0; c < VIREO_TLB_CONTEXTS; c++) {
        tlb->dlog[c].n = tlb->ilog[c].n = TLB_LOG_FULL; /* the arrays hold anything */
        tlb->dlog[c].nonglobal = tlb->ilog[c].nonglobal = 0;
        tlb->dlog_ng[c].nonglobal = tlb->ilog_ng[c].nonglobal = 1;
    }
    tlb_clear_all(tlb);
    cpu->dtlb = tlb->d[0];
    cpu->itlb = tlb->i[0];
    cpu->tb_hash = g_new0(VireoTb *, TB_HASH_SIZE);
    /* Address space only: pages are backed as blocks fill them. */
    cpu->code_buf = mmap(NULL, TB_MAX_BYTES, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (cpu->code_buf == MAP_FAILED) {
        g_error("cannot reserve %u MiB for decoded blocks: %s", TB_MAX_BYTES >> 20,
                g_strerror(errno));
    }
    /* Huge pages where the host gives them: a page fault per 2 MiB of
     * code instead of one per 4 KiB (faults are what a boot's code costs
     * most where they are slow, as under some hypervisors). Advice only. */
    (void)madvise(cpu->code_buf, TB_MAX_BYTES, MADV_HUGEPAGE);
    cpu->code_cap = TB_MAX_BYTES;
    cpu->backend = &vireo_interp_backend;
    cpu->engine = VIREO_ENGINE_INTERP;
    if (vireo_engine_get_default() != VIREO_ENGINE_INTERP &&
        !vireo_cpu_set_engine(cpu, vireo_engine_get_default())) {
        g_warning("the %s engine is not available: running the interpreter",
                  vireo_engine_name(vireo_engine_get_default()));
    }
    cpu->jit_threshold = vireo_engine_get_jit_threshold();
    cpu->jc = g_new0(VireoJumpCacheEntry, VIREO_JC_SIZE);
    cpu->jc_epoch = 1;
    vireo_cpu_update_exec_key(cpu);
    cpu->scratch = g_new(VireoIrBlock, 1);
    atomic_init(&cpu->exit_request, 0);
}

static void straddle_clear(VireoCpu *cpu)
{
    for (unsigned i = 0; i < VIREO_STRADDLE_CACHE; i++) {
        g_free(cpu->straddle[i].tb);
        cpu->straddle[i].tb = NULL;
    }
}

void vireo_cpu_flush_code(VireoCpu *cpu)
{
    straddle_clear(cpu);
    /* Without blocks every chain is empty already: no need to touch the
     * table's 2 MiB (untouched at first, and so not backed yet). */
    if (cpu->tb_hash != NULL && cpu->tb_count != 0) {
        memset(cpu->tb_hash, 0, sizeof(VireoTb *) * TB_HASH_SIZE);
    }
    cpu->tb_count = 0;
    cpu->code_used = 0;
    cpu->code_full = false;
    if (cpu->backend->free != NULL) {
        cpu->backend->free(cpu);
    }
    vireo_cpu_bump_epoch(cpu); /* links and the jump cache point to dropped blocks */
}

bool vireo_cpu_set_engine(VireoCpu *cpu, VireoEngineKind kind)
{
    const VireoBackendOps *ops = vireo_engine_backend(kind);

    if (ops == NULL) {
        return false;
    }
    if (ops->executable &&
        mprotect(cpu->code_buf, TB_MAX_BYTES, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) {
        g_warning("cannot make the code buffer executable: %s", g_strerror(errno));
        return false;
    }
    vireo_cpu_flush_code(cpu);
    cpu->backend = ops;
    cpu->engine = kind;
    return true;
}

void vireo_cpu_set_debug(VireoCpu *cpu, VireoCpuDebug *debug)
{
    cpu->debug = debug;
    vireo_cpu_debug_changed(cpu);
}

void vireo_cpu_debug_changed(VireoCpu *cpu)
{
    /* Blocks were decoded for the old breakpoints and stepping, TLB entries
     * filled for the old watchpoints. */
    vireo_cpu_flush_code(cpu);
    tlb_clear_all(cpu->tlb);
}

/* A store of this hart to a page whose flags are `flags` (non-zero),
 * reported to the bus. One that writes a page holding decoded code also
 * makes the hart leave its blocks at the next block boundary, so that the
 * next block is looked up and checked against the page's new generation
 * (links between blocks of one page do not check, vireo_tb_same_page()). */
static void note_store(VireoCpu *cpu, uint64_t pa, uint64_t len)
{
    if (vireo_bus_note_ram_write(cpu->bus, pa, len)) {
        atomic_fetch_or_explicit(&cpu->exit_request, VIREO_EXIT_BLOCKS, memory_order_relaxed);
    }
}

/* Whether a watchpoint lies in the 4 KiB page at `vpage`. */
static bool debug_watches_page(const VireoCpu *cpu, uint64_t vpage)
{
    const VireoDebugPoints *p = cpu->debug->points;

    for (unsigned i = 0; i < p->n_watchpoints; i++) {
        const VireoWatchpoint *w = &p->watchpoints[i];
        if (w->addr < vpage + VIREO_PAGE_SIZE && vpage <= w->addr + w->len - 1) {
            return true;
        }
    }
    return false;
}

/* A load or store of [va, va + size) went through a watched page: report a
 * hit after the instruction (blocks hold one instruction while watchpoints
 * are set, and the interpreter leaves at the block's end on exit_request). */
static void debug_check_watch(VireoCpu *cpu, uint64_t va, unsigned size, VireoWatchKind how)
{
    const VireoDebugPoints *p = cpu->debug->points;

    for (unsigned i = 0; i < p->n_watchpoints; i++) {
        const VireoWatchpoint *w = &p->watchpoints[i];
        if ((w->kind & how) && va < w->addr + w->len && w->addr < va + size) {
            if (cpu->debug->event == VIREO_DEBUG_NONE) {
                cpu->debug->event = VIREO_DEBUG_WATCH;
                cpu->debug->event_addr = w->addr;
                cpu->debug->event_how = w->kind;
            }
            vireo_cpu_request_exit(cpu);
            return;
        }
    }
}

void vireo_cpu_set_code_capacity(VireoCpu *cpu, size_t bytes)
{
    vireo_cpu_flush_code(cpu);
    cpu->code_cap = MIN(bytes, (size_t)TB_MAX_BYTES);
}

void vireo_cpu_set_decode_flags(VireoCpu *cpu)
{
    cpu->decode_flags = cpu->cls->decode_flags(cpu);
    vireo_cpu_update_exec_key(cpu);
}

void vireo_cpu_finalize(VireoCpu *cpu)
{
    vireo_cpu_flush_code(cpu);
    g_free(cpu->tb_hash);
    cpu->tb_hash = NULL;
    munmap(cpu->code_buf, TB_MAX_BYTES);
    cpu->code_buf = NULL;
    g_free(cpu->scratch);
    cpu->scratch = NULL;
    g_free(cpu->jc);
    cpu->jc = NULL;
}

void vireo_cpu_read_stats(VireoCpu *cpu, VireoVcpuStats *out)
{
    const uint64_t *src = (const uint64_t *)&cpu->stats;
    uint64_t *dst = (uint64_t *)out;
    int64_t since;

    /* The time of a wait still going on counts as halted, so that a vCPU
     * asleep for good reads as idle. A wait that starts or ends during the
     * copy changes halt_since_us: copy again, so that the sum never runs
     * backwards. */
    do {
        since = __atomic_load_n(&cpu->halt_since_us, __ATOMIC_ACQUIRE);
        for (unsigned i = 0; i < sizeof *out / sizeof(uint64_t); i++) {
            dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
        }
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
    } while (__atomic_load_n(&cpu->halt_since_us, __ATOMIC_RELAXED) != since);
    if (since != 0) {
        int64_t now = g_get_monotonic_time();
        out->halted_ns += now > since ? (uint64_t)(now - since) * 1000u : 0;
    }
    /* The hot paths count blocks and data accesses; every block dispatch is
     * an instruction TLB and a decode-cache lookup. Misses are counted on the
     * slow paths. */
    out->itlb_hits = out->blocks > out->itlb_misses ? out->blocks - out->itlb_misses : 0;
    out->decode_hits = out->blocks > out->decode_misses ? out->blocks - out->decode_misses : 0;
    out->dtlb_hits = out->dtlb_hits > out->dtlb_misses ? out->dtlb_hits - out->dtlb_misses : 0;
}

/* ---- TLB ---- */

void vireo_tlb_set_context(VireoCpu *cpu, unsigned data_ctx, unsigned insn_ctx)
{
    g_assert(data_ctx < VIREO_TLB_CONTEXTS && insn_ctx < VIREO_TLB_CONTEXTS);
    cpu->dtlb = cpu->tlb->d[data_ctx];
    cpu->itlb = cpu->tlb->i[insn_ctx];
    if (cpu->ictx != insn_ctx) {
        cpu->ictx = insn_ctx;
        vireo_cpu_update_exec_key(cpu);
    }
}

void vireo_tlb_flush_all(VireoCpu *cpu)
{
    tlb_clear_all(cpu->tlb);
    VIREO_STAT_ADD(cpu, itlb_flushes, 1);
    VIREO_STAT_ADD(cpu, dtlb_flushes, 1);
}

static bool entry_matches(const VireoTlbEntry *e, uint64_t va, bool match_asid, uint16_t asid)
{
    if (e->vpage == VIREO_TLB_INVALID) {
        return false;
    }
    if (match_asid && (e->global || e->asid != asid)) {
        return false;
    }
    if (va == VIREO_TLB_INVALID) {
        return true;
    }
    /* The entry maps a 4 KiB slice of a guest page of 2^shift bytes: it
     * belongs to `va`'s translation when both lie in that guest page. */
    return ((e->vpage ^ va) >> e->shift) == 0;
}

void vireo_tlb_flush(VireoCpu *cpu, uint64_t va, bool match_asid, uint16_t asid)
{
    VireoTlb *tlb = cpu->tlb;
    bool scan = va == VIREO_TLB_INVALID || (va >= tlb->super_lo && va < tlb->super_hi);

    if (va != VIREO_TLB_INVALID) {
        va &= PAGE_MASK;
    }
    for (unsigned c = 0; c < VIREO_TLB_CONTEXTS; c++) {
        if (scan) {
            /* Only non-global entries match a flush by ASID. */
            tlb_array_flush(tlb->d[c], match_asid ? &tlb->dlog_ng[c] : &tlb->dlog[c], va,
                            match_asid, asid);
            tlb_array_flush(tlb->i[c], match_asid ? &tlb->ilog_ng[c] : &tlb->ilog[c], va,
                            match_asid, asid);
        } else {
            unsigned i = TLB_INDEX(va);
            if (entry_matches(&tlb->d[c][i], va, match_asid, asid)) {
                entry_clear(&tlb->d[c][i]);
            }
            if (entry_matches(&tlb->i[c][i], va, match_asid, asid)) {
                entry_clear(&tlb->i[c][i]);
            }
        }
        for (unsigned i = 0; i < VIREO_TLB_VICTIMS; i++) {
            if (entry_matches(&tlb->dv[c][i], va, match_asid, asid)) {
                entry_clear(&tlb->dv[c][i]);
            }
            if (entry_matches(&tlb->iv[c][i], va, match_asid, asid)) {
                entry_clear(&tlb->iv[c][i]);
            }
        }
    }
    if (va == VIREO_TLB_INVALID && !match_asid) {
        tlb->super_lo = VIREO_TLB_INVALID;
        tlb->super_hi = 0;
    }
    VIREO_STAT_ADD(cpu, itlb_flushes, 1);
    VIREO_STAT_ADD(cpu, dtlb_flushes, 1);
}

static const uint8_t perm_needed[] = { VIREO_TLB_PERM_R, VIREO_TLB_PERM_W, VIREO_TLB_PERM_X };

/* Whether `e` serves an `access` to `va` (the check of tlb_get_as()). */
static bool entry_serves(const VireoTlbEntry *e, uint64_t va, VireoAccess access)
{
    return e->vpage == (va & PAGE_MASK) && (e->perms & perm_needed[access]) &&
           !(e->flags & VIREO_TLB_SLOW);
}

/* The array that `access` uses in the current context, with its log, its
 * victim entries (VireoTlb.dv) and where the next victim goes. */
typedef struct {
    VireoTlbEntry *array;
    VireoTlbLog *log, *log_ng;
    VireoTlbEntry *victims;
    uint8_t *next;
} TlbSide;

static TlbSide tlb_side(VireoCpu *cpu, VireoAccess access)
{
    VireoTlb *t = cpu->tlb;

    if (access == VIREO_ACCESS_FETCH) {
        unsigned c = (unsigned)((cpu->itlb - t->i[0]) / VIREO_TLB_SIZE);
        return (TlbSide){ cpu->itlb, &t->ilog[c], &t->ilog_ng[c], t->iv[c], &t->iv_next[c] };
    }
    unsigned c = (unsigned)((cpu->dtlb - t->d[0]) / VIREO_TLB_SIZE);
    return (TlbSide){ cpu->dtlb, &t->dlog[c], &t->dlog_ng[c], t->dv[c], &t->dv_next[c] };
}

/* Notes in the logs that slot `i`, holding `old`, is about to hold `e`. */
static void tlb_side_note(const TlbSide *side, unsigned i, const VireoTlbEntry *old,
                          const VireoTlbEntry *e)
{
    if (old->vpage == VIREO_TLB_INVALID) {
        tlb_log_note(side->log, side->array, i);
    }
    if (!e->global && !log_keeps(side->log_ng, old)) {
        tlb_log_note(side->log_ng, side->array, i);
    }
}

/* Installs `e` in the array's slot `slot`; the entry there becomes a
 * victim, unless it is empty or for the same page (one that lacked the
 * permission now filled). */
static void tlb_install(const TlbSide *side, VireoTlbEntry *slot, const VireoTlbEntry *e)
{
    tlb_side_note(side, (unsigned)(slot - side->array), slot, e);
    if (slot->vpage != VIREO_TLB_INVALID && slot->vpage != e->vpage) {
        side->victims[*side->next] = *slot;
        *side->next = (uint8_t)((*side->next + 1) % VIREO_TLB_VICTIMS);
    }
    *slot = *e;
}

/* Translate and install an entry for `va`. Returns NULL after taking the
 * exception, which is that of an access of kind `report` (cache-block
 * operations check one kind of access and fault as another). */
static VireoTlbEntry *tlb_fill_as(VireoCpu *cpu, uint64_t va, unsigned size, VireoAccess access,
                                  VireoAccess report)
{
    VireoTlbEntry tmp = { 0 };
    VireoXlateResult r;
    const VireoRegion *region;
    VireoTlbEntry *e;
    uint64_t vpage = va & PAGE_MASK;
    TlbSide side = tlb_side(cpu, access);
    VireoTlbEntry *victims = side.victims;

    e = &side.array[TLB_INDEX(va)];
    for (unsigned i = 0; i < VIREO_TLB_VICTIMS; i++) {
        if (entry_serves(&victims[i], va, access)) {
            /* swapped with the entry in the way */
            tlb_side_note(&side, TLB_INDEX(va), e, &victims[i]);
            tmp = *e;
            *e = victims[i];
            victims[i] = tmp;
            VIREO_STAT_ADD(cpu, tlb_victim_hits, 1);
            return e;
        }
    }
    entry_clear(&tmp);
    tmp.shift = VIREO_PAGE_SHIFT;
    r = cpu->cls->translate(cpu, va, size, access, &tmp);
    if (r == VIREO_XLATE_OK) {
        region = vireo_bus_find(cpu->bus, tmp.ppage);
        if (region == NULL || (access == VIREO_ACCESS_FETCH && region->host == NULL) ||
            (access == VIREO_ACCESS_STORE && region->kind == VIREO_REGION_ROM)) {
            r = VIREO_XLATE_ACCESS_FAULT;
        }
    }
    if (r != VIREO_XLATE_OK) {
        access_pc(cpu);
        cpu->cls->raise_access(cpu, report, r, va);
        return NULL;
    }
    tmp.vpage = vpage;
    tmp.tag_r = tmp.tag_w = tmp.tag_x = VIREO_TLB_INVALID;
    if (region->host != NULL) {
        tmp.addend = (uintptr_t)(region->host + (tmp.ppage - region->base)) - vpage;
        if (region->kind == VIREO_REGION_RAM) {
            tmp.page_flags = vireo_bus_page_flags(cpu->bus, tmp.ppage);
        } else {
            tmp.perms &= (uint8_t)~VIREO_TLB_PERM_W; /* ROM: writes fault on the slow path */
        }
        if (!(tmp.flags & VIREO_TLB_SLOW)) {
            if (tmp.perms & VIREO_TLB_PERM_R) {
                tmp.tag_r = vpage;
            }
            if (tmp.perms & VIREO_TLB_PERM_W) {
                tmp.tag_w = vpage;
            }
            if (tmp.perms & VIREO_TLB_PERM_X) {
                tmp.tag_x = vpage;
            }
        }
    } else {
        tmp.flags |= VIREO_TLB_IO;
    }
    if (cpu->debug != NULL && access != VIREO_ACCESS_FETCH &&
        cpu->debug->points->n_watchpoints > 0 && debug_watches_page(cpu, vpage)) {
        tmp.tag_r = tmp.tag_w = VIREO_TLB_INVALID;
        tmp.flags |= VIREO_TLB_WATCH;
    }
    if (tmp.shift > VIREO_PAGE_SHIFT) {
        uint64_t base = va & ~((1ull << tmp.shift) - 1);
        uint64_t end = base + (1ull << tmp.shift);
        cpu->tlb->super_lo = MIN(cpu->tlb->super_lo, base);
        cpu->tlb->super_hi = MAX(cpu->tlb->super_hi, end == 0 ? G_MAXUINT64 : end);
    }
    tlb_install(&side, e, &tmp);
    if (access == VIREO_ACCESS_FETCH) {
        VIREO_STAT_ADD(cpu, itlb_misses, 1);
    } else {
        VIREO_STAT_ADD(cpu, dtlb_misses, 1);
    }
    return e;
}

static VireoTlbEntry *tlb_fill(VireoCpu *cpu, uint64_t va, unsigned size, VireoAccess access)
{
    return tlb_fill_as(cpu, va, size, access, access);
}

/* The entry to use for `va`, filling it when the cached one lacks the
 * permission; NULL after an exception (that of a `report` access). */
static VireoTlbEntry *tlb_get_as(VireoCpu *cpu, uint64_t va, unsigned size, VireoAccess access,
                                 VireoAccess report)
{
    VireoTlbEntry *e =
        access == VIREO_ACCESS_FETCH ? &cpu->itlb[TLB_INDEX(va)] : &cpu->dtlb[TLB_INDEX(va)];

    if (entry_serves(e, va, access)) {
        return e;
    }
    return tlb_fill_as(cpu, va, size, access, report);
}

static VireoTlbEntry *tlb_get(VireoCpu *cpu, uint64_t va, unsigned size, VireoAccess access)
{
    return tlb_get_as(cpu, va, size, access, access);
}

/* ---- memory slow paths ---- */

static bool load_one(VireoCpu *cpu, uint64_t va, unsigned size, uint64_t *value)
{
    VireoTlbEntry *e = tlb_get(cpu, va, size, VIREO_ACCESS_LOAD);
    uint64_t pa;

    if (e == NULL) {
        return false;
    }
    if (e->flags & VIREO_TLB_IO) {
        pa = e->ppage + (va & ~PAGE_MASK);
        if ((va & (size - 1)) != 0 || !vireo_bus_read(cpu->bus, pa, size, value)) {
            access_pc(cpu);
            cpu->cls->raise_access(cpu, VIREO_ACCESS_LOAD, VIREO_XLATE_ACCESS_FAULT, va);
            return false;
        }
        return true;
    }
    *value = vireo_load_le((const void *)(uintptr_t)(va + e->addend), size);
    if (e->flags & VIREO_TLB_WATCH) {
        debug_check_watch(cpu, va, size, VIREO_WATCH_READ);
    }
    return true;
}

static bool store_one(VireoCpu *cpu, uint64_t va, unsigned size, uint64_t value)
{
    VireoTlbEntry *e = tlb_get(cpu, va, size, VIREO_ACCESS_STORE);
    uint64_t pa;

    if (e == NULL) {
        return false;
    }
    pa = e->ppage + (va & ~PAGE_MASK);
    if (e->flags & VIREO_TLB_IO) {
        if ((va & (size - 1)) != 0 || !vireo_bus_write(cpu->bus, pa, size, value)) {
            access_pc(cpu);
            cpu->cls->raise_access(cpu, VIREO_ACCESS_STORE, VIREO_XLATE_ACCESS_FAULT, va);
            return false;
        }
        return true;
    }
    vireo_store_le((void *)(uintptr_t)(va + e->addend), size, value);
    if (*e->page_flags != 0) {
        note_store(cpu, pa, size);
    }
    if (e->flags & VIREO_TLB_WATCH) {
        debug_check_watch(cpu, va, size, VIREO_WATCH_WRITE);
    }
    return true;
}

bool vireo_cpu_load(VireoCpu *cpu, uint64_t va, unsigned size, uint64_t *value)
{
    if (((va & ~PAGE_MASK) + size) > VIREO_PAGE_SIZE) {
        /* Misaligned across a page boundary: byte by byte. */
        uint64_t v = 0;
        for (unsigned i = 0; i < size; i++) {
            uint64_t b;
            if (!load_one(cpu, va + i, 1, &b)) {
                return false;
            }
            v |= b << (8 * i);
        }
        *value = v;
        return true;
    }
    return load_one(cpu, va, size, value);
}

bool vireo_cpu_store(VireoCpu *cpu, uint64_t va, unsigned size, uint64_t value)
{
    if (((va & ~PAGE_MASK) + size) > VIREO_PAGE_SIZE) {
        /* Check both pages before writing anything, so that a fault leaves
         * memory untouched. */
        uint64_t second = (va + size - 1) & PAGE_MASK;
        if (tlb_get(cpu, va, 1, VIREO_ACCESS_STORE) == NULL ||
            tlb_get(cpu, second, 1, VIREO_ACCESS_STORE) == NULL) {
            return false;
        }
        for (unsigned i = 0; i < size; i++) {
            if (!store_one(cpu, va + i, 1, (value >> (8 * i)) & 0xff)) {
                return false;
            }
        }
        return true;
    }
    return store_one(cpu, va, size, value);
}

bool vireo_cpu_load_slow(VireoCpu *cpu, const VireoIrInsn *insn, uint64_t va, unsigned size,
                         uint64_t *value)
{
    bool ok;

    cpu->access_insn = insn;
    ok = vireo_cpu_load(cpu, va, size, value);
    cpu->access_insn = NULL;
    return ok;
}

bool vireo_cpu_store_slow(VireoCpu *cpu, const VireoIrInsn *insn, uint64_t va, unsigned size,
                          uint64_t value)
{
    bool ok;

    cpu->access_insn = insn;
    ok = vireo_cpu_store(cpu, va, size, value);
    cpu->access_insn = NULL;
    return ok;
}

void *vireo_cpu_atomic_addr(VireoCpu *cpu, const VireoIrInsn *insn, uint64_t va, unsigned size,
                            bool is_lr)
{
    VireoAccess access = is_lr ? VIREO_ACCESS_LOAD : VIREO_ACCESS_STORE;
    VireoTlbEntry *e;
    uint64_t pa;

    cpu->pc = vireo_cpu_insn_pc(cpu, insn);
    if ((va & (size - 1)) != 0) {
        cpu->cls->raise_access(cpu, access, VIREO_XLATE_MISALIGNED, va);
        return NULL;
    }
    e = tlb_get(cpu, va, size, access);
    if (e == NULL) {
        return NULL;
    }
    /* Atomics need RAM; MMIO and ROM get an access fault. */
    if ((e->flags & VIREO_TLB_IO) || (!is_lr && !(e->perms & VIREO_TLB_PERM_W)) ||
        e->page_flags == &no_page_flags) {
        cpu->cls->raise_access(cpu, access, VIREO_XLATE_ACCESS_FAULT, va);
        return NULL;
    }
    pa = e->ppage + (va & ~PAGE_MASK);
    if (!is_lr && *e->page_flags != 0) {
        note_store(cpu, pa, size);
    }
    if (e->flags & VIREO_TLB_WATCH) {
        /* LR reads; SC, AMOs and CAS read and write. */
        debug_check_watch(cpu, va, size, is_lr ? VIREO_WATCH_READ : VIREO_WATCH_ACCESS);
    }
    return (void *)(uintptr_t)(va + e->addend);
}

/* ---- cache-block operations ---- */

bool vireo_cpu_probe_block(VireoCpu *cpu, uint64_t va, unsigned size)
{
    uint64_t block = va & ~(uint64_t)(size - 1);

    g_assert(size <= VIREO_PAGE_SIZE && (size & (size - 1)) == 0);
    /* Where a store may go, a load may too (a writable page or PMP region
     * is readable); an entry whose permissions vary inside the page is
     * checked again for the whole block. */
    VireoTlbEntry *e = tlb_get_as(cpu, va, 1, VIREO_ACCESS_LOAD, VIREO_ACCESS_STORE);
    if (e != NULL && (e->flags & VIREO_TLB_SLOW)) {
        e = tlb_fill_as(cpu, block, size, VIREO_ACCESS_LOAD, VIREO_ACCESS_STORE);
    }
    return e != NULL;
}

bool vireo_cpu_zero_block(VireoCpu *cpu, uint64_t va, unsigned size)
{
    uint64_t block = va & ~(uint64_t)(size - 1);
    VireoTlbEntry *e;

    g_assert(size <= VIREO_PAGE_SIZE && (size & (size - 1)) == 0);
    e = tlb_get(cpu, va, 1, VIREO_ACCESS_STORE);
    if (e != NULL && (e->flags & VIREO_TLB_SLOW)) {
        e = tlb_fill(cpu, block, size, VIREO_ACCESS_STORE);
    }
    if (e == NULL) {
        return false;
    }
    /* RAM only: devices take no cache-block writes. */
    if ((e->flags & VIREO_TLB_IO) || e->page_flags == &no_page_flags) {
        cpu->cls->raise_access(cpu, VIREO_ACCESS_STORE, VIREO_XLATE_ACCESS_FAULT, va);
        return false;
    }
    memset((void *)(uintptr_t)(block + e->addend), 0, size);
    if (*e->page_flags != 0) {
        note_store(cpu, e->ppage + (block & ~PAGE_MASK), size);
    }
    if (e->flags & VIREO_TLB_WATCH) {
        debug_check_watch(cpu, block, size, VIREO_WATCH_WRITE);
    }
    return true;
}

bool vireo_cpu_fetch16(VireoCpu *cpu, uint64_t va, uint16_t *value)
{
    VireoTlbEntry *e = tlb_get(cpu, va, 2, VIREO_ACCESS_FETCH);

    if (e == NULL) {
        return false;
    }
    memcpy(value, (const void *)(uintptr_t)(va + e->addend), 2);
    return true;
}

bool vireo_cpu_fetch32(VireoCpu *cpu, uint64_t va, uint32_t *value)
{
    VireoTlbEntry *e = tlb_get(cpu, va, 4, VIREO_ACCESS_FETCH);

    g_assert((va & 3) == 0);
    if (e == NULL) {
        return false;
    }
    *value = __atomic_load_n((const uint32_t *)(uintptr_t)(va + e->addend), __ATOMIC_RELAXED);
    return true;
}

/* ---- helpers' view of the current block ---- */

uint64_t vireo_cpu_insn_pc(const VireoCpu *cpu, const VireoIrInsn *insn)
{
    return cpu->cur_tb->vpc + cpu->cur_tb->pc_off[insn->gidx];
}

uint64_t vireo_cpu_next_pc(const VireoCpu *cpu, const VireoIrInsn *insn)
{
    return cpu->cur_tb->vpc + cpu->cur_tb->pc_off[insn->gidx + 1];
}

uint64_t vireo_cpu_retired(const VireoCpu *cpu, const VireoIrInsn *insn)
{
    return vireo_cpu_icount(cpu) + insn->gidx;
}

/* ---- spin-wait hints ---- */

/* Hints closer than this many instructions apart form a loop, and a loop
 * of this many hints (some microseconds) yields the host core. A lock
 * held by a running vCPU is released well within that. */
#define SPIN_LOOP_INSNS  256
#define SPIN_YIELD_HINTS 128

static void spin_step(VireoCpu *cpu, uint64_t now)
{
    if (now - cpu->spin_at < SPIN_LOOP_INSNS) {
        if (++cpu->spin_streak >= SPIN_YIELD_HINTS) {
            cpu->spin_streak = 0;
            sched_yield();
        }
    } else {
        cpu->spin_streak = 0;
    }
    cpu->spin_at = now;
}

/* A WFI that completed at once because an interrupt is pending that the
 * hart does not take (masked by mstatus.MIE or the like), as the
 * architecture allows: firmware loops on such WFIs while it waits for
 * another hart. OpenSBI's harts waiting to be started do, when an IPI of
 * its cold boot was left pending (it can be: the waiting hart clears its
 * IPI before the boot hart sends it). They then poll their state as fast as
 * they run, and OpenSBI 1.1 and 1.2 (Debian 12's) publish a hart's
 * START_PENDING state before the address it is to start at: a poll in
 * between sends the hart to the previous address, the kernel's entry, for
 * a second boot over the first. On hardware the gap is a few cycles; here
 * the starting hart's thread may be preempted in it.
 *
 * So a hart that goes through such WFIs many times in a row, close
 * together, waits at each for a kick (an interrupt line raised, even one
 * high already, as the starting hart's IPI is; the machine stopping) or
 * a time that grows from 1 to 200 ms: it polls when it is sent an IPI, or
 * a few times a second, instead of millions of times, and the starting
 * hart has written the address long before. An interrupt the hart takes
 * ends the streak, so an idle loop that meets a pending interrupt once
 * does not wait. */
#define WFI_LOOP_INSNS 1024
#define WFI_NAP_STREAK 8
#define WFI_NAP_MIN_US 1000
#define WFI_NAP_MAX_US 200000

static void wfi_spin(VireoCpu *cpu, uint64_t now)
{
    if (now - cpu->wfi_at < WFI_LOOP_INSNS) {
        if (++cpu->wfi_streak >= WFI_NAP_STREAK && cpu->cls->wait_for_kick != NULL) {
            unsigned naps = cpu->wfi_streak - WFI_NAP_STREAK;
            int64_t start = g_get_monotonic_time();
            int64_t us = naps < 8 ? (int64_t)WFI_NAP_MIN_US << naps : WFI_NAP_MAX_US;
            cpu->cls->wait_for_kick(cpu, MIN(us, (int64_t)WFI_NAP_MAX_US));
            VIREO_STAT_ADD(cpu, halted_ns, (uint64_t)(g_get_monotonic_time() - start) * 1000u);
        }
    } else {
        cpu->wfi_streak = 0;
    }
    cpu->wfi_at = now;
}

int vireo_cpu_spin_hint(VireoCpu *cpu, const VireoIrInsn *insn)
{
    spin_step(cpu, vireo_cpu_retired(cpu, insn));
    return 0;
}

/* ---- decoded-block cache and dispatch ---- */

/* Blocks are found by virtual pc, physical pc and decode flags: the same
 * code mapped at many addresses (shared libraries) and many pieces of code
 * at one address (every process's executable) spread over the table. */
static inline unsigned tb_hash(uint64_t vpc, uint64_t ppc)
{
    uint64_t h = (vpc ^ (ppc * 0x9e3779b97f4a7c15ull)) >> 1;
    return (unsigned)(h ^ (h >> TB_HASH_BITS) ^ (h >> (2 * TB_HASH_BITS))) & (TB_HASH_SIZE - 1);
}

static void tb_set_origin(VireoCpu *cpu, VireoTb *tb, uint64_t ppc, uint32_t gen, uint32_t flags)
{
    tb->ppc = ppc;
    tb->gen_ptr = vireo_bus_code_generation_ptr(cpu->bus, ppc);
    tb->gen = gen;
    tb->flags = flags;
}

/* A block whose page was written since it was decoded: when the write
 * missed its own bytes (they are still those it was decoded from), it is
 * current again at the page's new generation, without decoding or
 * compiling it again. Pages that mix code with data written often (the
 * end of .text and the start of .data) would otherwise have their blocks
 * decoded again after every such write. */
static bool tb_revive(VireoCpu *cpu, VireoTb *tb, const VireoTlbEntry *e)
{
    uint32_t gen;

    if (tb->guest_code == NULL || (e->flags & VIREO_TLB_IO)) {
        return false;
    }
    /* As for a decode: mark first, then read, then check nothing wrote
     * the page in between. */
    gen = vireo_bus_mark_code(cpu->bus, tb->ppc, tb->guest_len);
    if (memcmp((const void *)(uintptr_t)(tb->vpc + e->addend), tb->guest_code, tb->guest_len) !=
            0 ||
        __atomic_load_n(tb->gen_ptr, __ATOMIC_ACQUIRE) != gen) {
        return false;
    }
    tb->gen = gen;
    /* Its links were made at an older generation: to blocks that may be
     * stale, which links within a page would no longer check. */
    for (uint32_t i = 0; i < tb->n_links; i++) {
        tb->links[i] = (VireoTbLink){ NULL, 0 };
        if (tb->native_links != NULL) {
            cpu->backend->link(cpu, tb, i, NULL, 0);
        }
    }
    VIREO_STAT_ADD(cpu, decode_revived, 1);
    return true;
}

/* The code buffer is full: it is emptied, and the JIT compiles only
 * hotter blocks from now on (twice the runs, up to JIT_THRESHOLD_MAX), so
 * that a guest whose code does not fit spends less time compiling blocks
 * that are dropped again before they pay off. The cap is low: what fills
 * the buffer is mostly decoded blocks, which a higher threshold does not
 * save, and a block runs about 30 times on the interpreter in the time
 * compiling it takes (a Debian boot with a cap of 1,024 ran 2 % of its
 * instructions on the interpreter, and spent 11 % of its time there). */
#define JIT_THRESHOLD_MAX 32
static void flush_full(VireoCpu *cpu)
{
    if (cpu->jit_threshold < JIT_THRESHOLD_MAX) {
        cpu->jit_threshold = MIN(cpu->jit_threshold * 2, JIT_THRESHOLD_MAX);
    }
    vireo_cpu_flush_code(cpu);
}

/* The halfword at `va` through the instruction TLB as it is, in RAM: no
 * fill, no fault (false instead). */
static bool peek16(const VireoCpu *cpu, uint64_t va, uint16_t *value)
{
    const VireoTlbEntry *e = &cpu->itlb[TLB_INDEX(va)];

    if (e->tag_x != (va & PAGE_MASK) || (e->flags & VIREO_TLB_IO)) {
        return false;
    }
    memcpy(value, (const void *)(uintptr_t)(va + e->addend), 2);
    return true;
}

static VireoStraddle *straddle_slot(VireoCpu *cpu, uint64_t pc)
{
    return &cpu->straddle[(pc >> VIREO_PAGE_SHIFT) % VIREO_STRADDLE_CACHE];
}

static VireoTb *tb_find(VireoCpu *cpu, VireoIrBlock *scratch)
{
    uint64_t pc = cpu->pc;
    VireoTlbEntry *e = &cpu->itlb[TLB_INDEX(pc)];
    uint64_t ppc;
    uint32_t flags = cpu->decode_flags;
    VireoTb **link, *tb;
    VireoJumpCacheEntry *j;
    uint32_t gen;
    size_t bytes;
    const uint8_t *guest_host;
    uint32_t raw = 0; /* a 32-bit instruction at the page's last halfword */
    uint64_t span;    /* the bytes marked as code before decoding */

    if (__builtin_expect(cpu->code_full, 0)) {
        flush_full(cpu); /* no block runs now */
    }
    tb = vireo_jc_lookup(cpu);
    if (tb != NULL) {
        return tb;
    }
    if (e->tag_x != (pc & PAGE_MASK)) {
        e = tlb_fill(cpu, pc, 2, VIREO_ACCESS_FETCH);
        if (e == NULL) {
            return NULL;
        }
        /* With the page mapped again, the jump cache's block may do. */
        tb = vireo_jc_lookup(cpu);
        if (tb != NULL) {
            return tb;
        }
    }
    ppc = e->ppage + (pc & ~PAGE_MASK);
    link = &cpu->tb_hash[tb_hash(pc, ppc)];
    while ((tb = *link) != NULL) {
        if (tb->vpc == pc && tb->ppc == ppc && tb->flags == flags) {
            if (__atomic_load_n(tb->gen_ptr, __ATOMIC_RELAXED) == tb->gen ||
                tb_revive(cpu, tb, e)) {
                goto found;
            }
            /* Its page was written since: out of the chain (a newer block
             * for this key would sit in front of it). Links and the jump
             * cache may still point to it (they check the generation too),
             * so its memory is reused only with the whole buffer's. */
            *link = tb->next;
            cpu->tb_count--;
            if (cpu->backend->invalidate != NULL) {
                cpu->backend->invalidate(cpu, tb);
            }
            break;
        }
        link = &tb->next;
    }

    /* The last halfword of a page: a 32-bit instruction there straddles
     * two pages and is a block of its own, which depends on both pages'
     * mappings and contents. Its bytes as fetched now (a fault here is the
     * fetch fault the decoder would raise) say whether the one decoded
     * last time may run again. */
    if ((pc & ~PAGE_MASK) == VIREO_PAGE_SIZE - 2) {
        uint16_t lo, hi;
        if (!vireo_cpu_fetch16(cpu, pc, &lo)) {
            return NULL;
        }
        if ((lo & 3) == 3) {
            const VireoStraddle *c = straddle_slot(cpu, pc);
            if (!vireo_cpu_fetch16(cpu, pc + 2, &hi)) {
                return NULL;
            }
            raw = lo | (uint32_t)hi << 16;
            if (c->tb != NULL && c->vpc == pc && c->ppc == ppc && c->flags == flags &&
                c->raw == raw) {
                /* Its links were made at its last run: made again. */
                memset(c->tb->links, 0, sizeof(VireoTbLink) * c->tb->n_links);
                cpu->cur_scratch_tb = c->tb;
                return c->tb;
            }
        }
    }

    /* Decode. Mark the code first so that a write racing with the decode
     * bumps the generation we record: as many bytes as a block may cover,
     * or the rest of the page for an architecture that does not say. */
    span = cpu->cls->max_insn_bytes != 0 ? (uint64_t)VIREO_IR_MAX_GUEST * cpu->cls->max_insn_bytes
                                         : VIREO_PAGE_SIZE;
    gen = vireo_bus_mark_code(cpu->bus, ppc, span);
    vireo_ir_block_init(scratch, pc);
    if (!cpu->cls->decode(cpu, scratch)) {
        return NULL;
    }
    g_assert(scratch->guest_len <= span);
    /* The decoder read the whole block from this page (a block never
     * crosses a page without straddling, below). */
    guest_host = e->flags & VIREO_TLB_IO ? NULL : (const uint8_t *)(uintptr_t)(pc + e->addend);
    g_assert(vireo_ir_block_check(scratch) == NULL);
    VIREO_STAT_ADD(cpu, decode_misses, 1);
    if (((pc & ~PAGE_MASK) + scratch->guest_len) > VIREO_PAGE_SIZE) {
        /* An instruction straddles two pages: the block depends on the
         * second page too, so it is not in the hash, the jump cache or
         * links, but kept by its bytes (above), and interpreted (its memory
         * is not in the code buffer). If the bytes changed since they were
         * read, the next lookup decodes again. */
        VireoStraddle *c = straddle_slot(cpu, pc);
        uint16_t lo, hi;
        tb = vireo_interp_compile(scratch, g_malloc(vireo_interp_tb_bytes(scratch)));
        tb_set_origin(cpu, tb, ppc, gen, flags);
        g_free(c->tb);
        c->vpc = pc;
        c->ppc = ppc;
        c->flags = flags;
        /* Kept for its bytes only when they read the same before and after
         * the decoder read them (another hart may be writing them). */
        if (raw == 0 || !peek16(cpu, pc, &lo) || !peek16(cpu, pc + 2, &hi) ||
            (lo | (uint32_t)hi << 16) != raw) {
            raw = 0;
        }
        c->raw = raw;
        c->tb = tb;
        cpu->cur_scratch_tb = tb;
        return tb;
    }
    bytes = ((cpu->backend->size(cpu, scratch) + 15u) & ~(size_t)15u) +
            ((scratch->guest_len + 15u) & ~(size_t)15u);
    if (cpu->code_used + bytes > cpu->code_cap) {
        flush_full(cpu);
    }
    tb = cpu->backend->compile(cpu, scratch, cpu->code_buf + cpu->code_used, &bytes);
    cpu->code_used += (bytes + 15u) & ~(size_t)15u;
    tb_set_origin(cpu, tb, ppc, gen, flags);
    /* A copy of the guest code the block was decoded from, to revive it
     * when its page is written elsewhere; only when nothing wrote the page
     * since it was marked, so that the copy is what the decoder read. */
    tb->guest_code = NULL;
    tb->guest_len = scratch->guest_len;
    if (guest_host != NULL) {
        uint8_t *copy = cpu->code_buf + cpu->code_used;
        memcpy(copy, guest_host, scratch->guest_len);
        if (__atomic_load_n(tb->gen_ptr, __ATOMIC_ACQUIRE) == gen) {
            tb->guest_code = copy;
            cpu->code_used += (scratch->guest_len + 15u) & ~(size_t)15u;
        }
    }
    link = &cpu->tb_hash[tb_hash(pc, ppc)];
    tb->next = *link;
    *link = tb;
    cpu->tb_count++;
found:
    j = vireo_jc_entry(cpu, pc);
    j->vpc = pc;
    j->tb = tb;
    j->key = cpu->exec_key;
    return tb;
}

static void dispatch_once(VireoCpu *cpu, bool chain)
{
    VireoTb *tb;

    if (cpu->halted) {
        return;
    }
    tb = tb_find(cpu, cpu->scratch);
    if (tb == NULL) {
        return;
    }
    if (tb == cpu->cur_scratch_tb) {
        vireo_interp_exec(cpu, tb, chain);
    } else {
        cpu->backend->execute(cpu, tb, chain);
    }
    if (tb == cpu->cur_scratch_tb) {
        cpu->cur_scratch_tb = NULL; /* kept in cpu->straddle */
    }
}

void vireo_cpu_step(VireoCpu *cpu)
{
    if (atomic_exchange_explicit(&cpu->exit_request, 0, memory_order_acq_rel)) {
        cpu->cls->check_interrupts(cpu);
    }
    dispatch_once(cpu, false);
}

/* Single-stepping under a debugger: one instruction (blocks hold one while
 * stepping) with interrupts masked, then every vCPU stops. */
static void debug_step(VireoCpu *cpu)
{
    atomic_store_explicit(&cpu->exit_request, 0, memory_order_relaxed);
    if (vireo_machine_vcpu_should_stop(cpu->machine)) {
        return;
    }
    dispatch_once(cpu, false);
    if (cpu->debug->event == VIREO_DEBUG_NONE) {
        cpu->debug->event = VIREO_DEBUG_STEP;
    }
    vireo_machine_request_debug_stop(cpu->machine);
}

void vireo_cpu_run(VireoCpu *cpu)
{
    if (cpu->debug != NULL && cpu->debug->step) {
        debug_step(cpu);
        return;
    }
    for (;;) {
        unsigned request = atomic_load_explicit(&cpu->exit_request, memory_order_acquire);
        if (request == VIREO_EXIT_BLOCKS) {
            atomic_fetch_and_explicit(&cpu->exit_request, ~VIREO_EXIT_BLOCKS, memory_order_relaxed);
        } else if (request != 0) {
            atomic_store_explicit(&cpu->exit_request, 0, memory_order_relaxed);
            if (cpu->debug != NULL && cpu->debug->event != VIREO_DEBUG_NONE) {
                /* A breakpoint or watchpoint: stop every vCPU. */
                vireo_machine_request_debug_stop(cpu->machine);
            }
            if (vireo_machine_vcpu_should_stop(cpu->machine)) {
                break;
            }
            cpu->cls->check_interrupts(cpu);
        }
        if (cpu->halted) {
            /* An interrupt that ends the wait may be pending already: then
             * WFI is a no-op, and a loop of them (firmware waiting with an
             * IPI it has not cleared yet, as OpenSBI's secondary harts do
             * until they are started) naps (wfi_spin()). */
            uint64_t pc = cpu->pc;
            cpu->cls->check_interrupts(cpu);
            if (!cpu->halted) {
                if (cpu->pc == pc) {
                    wfi_spin(cpu, vireo_cpu_icount(cpu)); /* no trap: it goes on after the WFI */
                } else {
                    cpu->wfi_streak = 0;
                }
                continue;
            }
        }
        if (cpu->halted) {
            int64_t start = g_get_monotonic_time();
            __atomic_store_n(&cpu->halt_since_us, start, __ATOMIC_RELEASE);
            cpu->cls->wait_for_interrupt(cpu);
            VIREO_STAT_ADD(cpu, halted_ns, (uint64_t)(g_get_monotonic_time() - start) * 1000u);
            __atomic_store_n(&cpu->halt_since_us, 0, __ATOMIC_RELEASE);
            continue;
        }
        dispatch_once(cpu, true);
    }
}

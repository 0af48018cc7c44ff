/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Address translation: Bare, Sv39, Sv48 and Sv57 page walks with hardware
 * A/D updates, and physical memory protection (PMP). Called on TLB misses
 * only; the result is cached in the soft TLB by engine/cpu.c.
 */
#include "rv-cpu.h"

#include <string.h>

#define PTE_V         (1ull << 0)
#define PTE_R         (1ull << 1)
#define PTE_W         (1ull << 2)
#define PTE_X         (1ull << 3)
#define PTE_U         (1ull << 4)
#define PTE_G         (1ull << 5)
#define PTE_A         (1ull << 6)
#define PTE_D         (1ull << 7)
#define PTE_RESERVED  (0x7full << 54) /* bits 60-54 */
#define PTE_PBMT      (3ull << 61)    /* Svpbmt's memory type */
#define PTE_N         (1ull << 63)    /* Svnapot */
#define PTE_PPN_SHIFT 10
#define PTE_PPN_MASK  ((1ull << 44) - 1)
#define PA_BITS       56

#define PMP_R 0x1
#define PMP_W 0x2
#define PMP_X 0x4
#define PMP_L 0x80

static const uint8_t perm_of_access[3] = { PMP_R, PMP_W, PMP_X };

/* The byte range [lo, hi) that PMP entry i covers; false when it is off or
 * covers nothing. Addresses have at most 56 bits (pmpaddr holds bits 55:2),
 * so every bound fits in 64 bits. */
static bool pmp_range(const RvCpu *rv, unsigned i, uint64_t *lo, uint64_t *hi)
{
    unsigned a = (rv->pmpcfg[i] >> 3) & 3;
    uint64_t addr = rv->pmpaddr[i];

    switch (a) {
    case 1: /* TOR */
        *lo = i == 0 ? 0 : rv->pmpaddr[i - 1] << 2;
        *hi = addr << 2;
        break;
    case 2: /* NA4 */
        *lo = addr << 2;
        *hi = *lo + 4;
        break;
    case 3: {                                          /* NAPOT */
        unsigned t = (unsigned)__builtin_ctzll(~addr); /* trailing ones, at most 54 */
        uint64_t size = 1ull << (t + 3);
        *lo = (addr << 2) & ~(size - 1);
        *hi = *lo + size;
        break;
    }
    default: return false;
    }
    return *lo < *hi;
}

void rv_pmp_update(RvCpu *rv)
{
    rv->pmp_active = 0;
    for (unsigned i = 0; i < PMP_ENTRIES; i++) {
        uint64_t lo, hi;
        if (pmp_range(rv, i, &lo, &hi)) {
            rv->pmp_lo[rv->pmp_active] = lo;
            rv->pmp_hi[rv->pmp_active] = hi;
            rv->pmp_cfg[rv->pmp_active] = rv->pmpcfg[i];
            rv->pmp_active++;
        }
    }
}

/* PMP permissions for [pa, pa + len) at privilege `priv`. Sets *partial when
 * an entry matches only part of the range (the access then fails). */
static uint8_t pmp_perms(const RvCpu *rv, uint64_t pa, uint64_t len, unsigned priv, bool *partial)
{
    unsigned __int128 b = (unsigned __int128)pa + len;

    *partial = false;
    for (unsigned i = 0; i < rv->pmp_active; i++) {
        uint64_t lo = rv->pmp_lo[i], hi = rv->pmp_hi[i];
        if (hi <= pa || lo >= b) {
            continue;
        }
        if (lo > pa || hi < b) {
            *partial = true;
            return 0;
        }
        if (priv == PRV_M && !(rv->pmp_cfg[i] & PMP_L)) {
            return PMP_R | PMP_W | PMP_X;
        }
        return rv->pmp_cfg[i] & (PMP_R | PMP_W | PMP_X);
    }
    return priv == PRV_M ? (PMP_R | PMP_W | PMP_X) : 0;
}

static bool pmp_allows(const RvCpu *rv, uint64_t pa, unsigned size, VireoAccess access,
                       unsigned priv)
{
    bool partial;
    uint8_t p = pmp_perms(rv, pa, size, priv, &partial);
    return !partial && (p & perm_of_access[access]);
}

static unsigned effective_priv(const RvCpu *rv, VireoAccess access)
{
    if (access != VIREO_ACCESS_FETCH && rv->priv == PRV_M && (rv->mstatus & MSTATUS_MPRV)) {
        return (unsigned)((rv->mstatus & MSTATUS_MPP) >> 11);
    }
    return rv->priv;
}

/* Page walk. On success fills *pa, *perms (what this context may do through
 * the mapping without touching the PTE again), *global and *shift. A
 * debugger's walk (`debug`) checks neither permissions nor PMP and sets no
 * A or D bit: it only finds the mapping. */
static VireoXlateResult walk(RvCpu *rv, uint64_t va, VireoAccess access, unsigned priv,
                             uint64_t *pa, uint8_t *perms, bool *global, unsigned *shift,
                             bool debug)
{
    VireoBus *bus = rv->base.bus;
    unsigned mode = (unsigned)(rv->satp >> 60);
    unsigned levels = mode == 8 ? 3 : mode == 9 ? 4 : 5;
    unsigned va_bits = 12 + 9 * levels;
    uint64_t table = (rv->satp & PTE_PPN_MASK) << 12;
    bool sum = (rv->mstatus & MSTATUS_SUM) != 0;
    bool mxr = (rv->mstatus & MSTATUS_MXR) != 0;
    bool is_global = false;
    /* What a leaf may hold beyond the base PTE: a memory type (which
     * changes nothing here: all memory is coherent) while menvcfg.PBMTE
     * enables Svpbmt, and the N bit of Svnapot. */
    uint64_t leaf_ext = ((rv->ext & RV_EXT_SVPBMT) && (rv->menvcfg & ENVCFG_PBMTE) ? PTE_PBMT : 0) |
                        (rv->ext & RV_EXT_SVNAPOT ? PTE_N : 0);

    /* The address must be the sign extension of its low va_bits. */
    if ((uint64_t)((int64_t)(va << (64 - va_bits)) >> (64 - va_bits)) != va) {
        return VIREO_XLATE_PAGE_FAULT;
    }
    for (int level = (int)levels - 1; level >= 0; level--) {
        uint64_t vpn = (va >> (12 + 9 * level)) & 0x1ff;
        uint64_t pte_addr = table + vpn * 8;
        uint64_t *host;
        uint64_t pte;

        if (!debug && !pmp_allows(rv, pte_addr, 8, VIREO_ACCESS_LOAD, PRV_S)) {
            return VIREO_XLATE_ACCESS_FAULT;
        }
        host = (uint64_t *)(void *)vireo_bus_host_ptr(bus, pte_addr, 8, false);
        if (host == NULL) {
            return VIREO_XLATE_ACCESS_FAULT;
        }
    reload:
        pte = __atomic_load_n(host, __ATOMIC_ACQUIRE);
        if (!(pte & PTE_V) || (!(pte & PTE_R) && (pte & PTE_W)) || (pte & PTE_RESERVED)) {
            return VIREO_XLATE_PAGE_FAULT;
        }
        if (pte & PTE_G) {
            is_global = true;
        }
        if (!(pte & (PTE_R | PTE_X))) {
            /* Pointer to the next level. A, D, U, N and PBMT are reserved
             * here. */
            if (level == 0 || (pte & (PTE_A | PTE_D | PTE_U | PTE_N | PTE_PBMT))) {
                return VIREO_XLATE_PAGE_FAULT;
            }
            table = ((pte >> PTE_PPN_SHIFT) & PTE_PPN_MASK) << 12;
            continue;
        }

        /* Leaf. PBMT 3 is reserved. */
        uint64_t ppn = (pte >> PTE_PPN_SHIFT) & PTE_PPN_MASK;
        if ((pte & (PTE_N | PTE_PBMT) & ~leaf_ext) || (pte & PTE_PBMT) == PTE_PBMT) {
            return VIREO_XLATE_PAGE_FAULT;
        }
        if (level > 0 && (ppn & ((1ull << (9 * level)) - 1)) != 0) {
            return VIREO_XLATE_PAGE_FAULT; /* misaligned superpage */
        }
        unsigned map_shift = 12 + 9 * (unsigned)level;
        if (pte & PTE_N) {
            /* A 64 KiB NAPOT range (ppn[3:0] = 1000) of 4 KiB pages, the
             * only size defined; elsewhere N is reserved. The page's own
             * number replaces ppn[3:0]. */
            if (level != 0 || (ppn & 0xf) != 0x8) {
                return VIREO_XLATE_PAGE_FAULT;
            }
            ppn = (ppn & ~0xfull) | ((va >> 12) & 0xf);
            map_shift = 16;
        }
        bool user_page = (pte & PTE_U) != 0;
        bool can_r, can_w, can_x;
        if (priv == PRV_U) {
            can_r = can_w = can_x = user_page;
        } else {
            can_r = can_w = !user_page || sum;
            can_x = !user_page;
        }
        can_r = can_r && ((pte & PTE_R) || (mxr && (pte & PTE_X)));
        can_w = can_w && (pte & PTE_W);
        can_x = can_x && (pte & PTE_X);
        uint64_t offset_mask = (1ull << (12 + 9 * level)) - 1;
        if (debug) {
            *pa = ((ppn << 12) & ~offset_mask) | (va & offset_mask);
            return VIREO_XLATE_OK;
        }
        if ((access == VIREO_ACCESS_LOAD && !can_r) || (access == VIREO_ACCESS_STORE && !can_w) ||
            (access == VIREO_ACCESS_FETCH && !can_x)) {
            return VIREO_XLATE_PAGE_FAULT;
        }
        /* Hardware A/D update, atomically with respect to other harts; with
         * Svade, a page fault for software to set them. */
        uint64_t want = pte | PTE_A | (access == VIREO_ACCESS_STORE ? PTE_D : 0);
        if (want != pte && (rv->ext & RV_EXT_SVADE)) {
            return VIREO_XLATE_PAGE_FAULT;
        }
        if (want != pte) {
            uint64_t *whost;
            if (!pmp_allows(rv, pte_addr, 8, VIREO_ACCESS_STORE, PRV_S) ||
                (whost = (uint64_t *)(void *)vireo_bus_host_ptr(bus, pte_addr, 8, true)) == NULL) {
                return VIREO_XLATE_ACCESS_FAULT;
            }
            if (!__atomic_compare_exchange_n(whost, &pte, want, false, __ATOMIC_SEQ_CST,
                                             __ATOMIC_SEQ_CST)) {
                goto reload;
            }
            if (*vireo_bus_page_flags(bus, pte_addr) != 0) {
                vireo_bus_note_ram_write(bus, pte_addr, 8);
            }
            pte = want;
        }
        *pa = ((ppn << 12) & ~offset_mask) | (va & offset_mask);
        *perms = (uint8_t)((can_r ? VIREO_TLB_PERM_R : 0) |
                           (can_w && (pte & PTE_D) ? VIREO_TLB_PERM_W : 0) |
                           (can_x ? VIREO_TLB_PERM_X : 0));
        *global = is_global;
        *shift = map_shift;
        return VIREO_XLATE_OK;
    }
    return VIREO_XLATE_PAGE_FAULT;
}

VireoXlateResult rv_translate(VireoCpu *cpu, uint64_t va, unsigned size, VireoAccess access,
                              VireoTlbEntry *entry)
{
    RvCpu *rv = rv_cpu(cpu);
    unsigned priv = effective_priv(rv, access);
    uint64_t pa;
    uint8_t perms;
    bool global = true, partial;
    unsigned shift = 12;
    uint8_t pmp;

    if (priv == PRV_M || (rv->satp >> 60) == 0) {
        if (va >> PA_BITS) {
            return VIREO_XLATE_ACCESS_FAULT;
        }
        pa = va;
        perms = VIREO_TLB_PERM_R | VIREO_TLB_PERM_W | VIREO_TLB_PERM_X;
    } else {
        VireoXlateResult r = walk(rv, va, access, priv, &pa, &perms, &global, &shift, false);
        if (r != VIREO_XLATE_OK) {
            return r;
        }
    }

    /* PMP: cache the page's permissions when they are uniform, else check
     * this access alone and keep the entry off the fast path. */
    pmp = pmp_perms(rv, pa & ~(uint64_t)(VIREO_PAGE_SIZE - 1), VIREO_PAGE_SIZE, priv, &partial);
    if (partial) {
        if (!pmp_allows(rv, pa, size, access, priv)) {
            return VIREO_XLATE_ACCESS_FAULT;
        }
        entry->flags |= VIREO_TLB_SLOW;
    } else {
        perms &= pmp;
        if (!(pmp & perm_of_access[access])) {
            return VIREO_XLATE_ACCESS_FAULT;
        }
    }
    entry->ppage = pa & ~(uint64_t)(VIREO_PAGE_SIZE - 1);
    entry->perms = perms;
    entry->global = global;
    entry->asid = (uint16_t)(rv->satp >> 44);
    entry->shift = (uint8_t)shift;
    return VIREO_XLATE_OK;
}

bool rv_debug_translate(RvCpu *rv, uint64_t va, uint64_t *pa)
{
    unsigned priv = effective_priv(rv, VIREO_ACCESS_LOAD);
    uint8_t perms;
    bool global;
    unsigned shift;

    if (priv == PRV_M || (rv->satp >> 60) == 0) {
        *pa = va;
        return (va >> PA_BITS) == 0;
    }
    return walk(rv, va, VIREO_ACCESS_LOAD, priv, pa, &perms, &global, &shift, true) ==
           VIREO_XLATE_OK;
}

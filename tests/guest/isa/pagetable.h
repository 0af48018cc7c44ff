/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A small page-table builder for the C test programs: LEVELS (3, 4 or 5)
 * selects Sv39, Sv48 or Sv57 and must be defined before this header. Tables
 * come from a static pool; `root` is the root table.
 */
#pragma once

#include "guest.h"

#define PTE_V  (1ull << 0)
#define PTE_R  (1ull << 1)
#define PTE_W  (1ull << 2)
#define PTE_X  (1ull << 3)
#define PTE_U  (1ull << 4)
#define PTE_G  (1ull << 5)
#define PTE_A  (1ull << 6)
#define PTE_D  (1ull << 7)
#define PTE_AD (PTE_A | PTE_D)

#define PT_POOL_TABLES 48

static uint64_t pt_pool[PT_POOL_TABLES][512] __attribute__((aligned(4096)));
static unsigned pt_used;
static uint64_t *root;

static uint64_t *alloc_table(void)
{
    CHECK(pt_used < PT_POOL_TABLES);
    uint64_t *t = pt_pool[pt_used++];
    for (int i = 0; i < 512; i++)
        ((volatile uint64_t *)t)[i] = 0;
    return t;
}

static unsigned vpn(uint64_t va, int level)
{
    return (va >> (12 + 9 * level)) & 511;
}

/* The PTE that maps `va` at `level` (0 = 4 KiB), creating the tables above
 * it. */
static volatile uint64_t *pte_slot(uint64_t va, int level)
{
    uint64_t *t = root;
    for (int l = LEVELS - 1; l > level; l--) {
        volatile uint64_t *e = &t[vpn(va, l)];
        if (!(*e & PTE_V)) {
            uint64_t *n = alloc_table();
            *e = (((uint64_t)n >> 12) << 10) | PTE_V;
        }
        CHECK(!(*e & (PTE_R | PTE_W | PTE_X)));
        t = (uint64_t *)((*e >> 10) << 12);
    }
    return &t[vpn(va, level)];
}

static void map(uint64_t va, uint64_t pa, int level, uint64_t flags)
{
    *pte_slot(va, level) = ((pa >> 12) << 10) | flags;
}

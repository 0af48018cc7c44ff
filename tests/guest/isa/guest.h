/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * C side of Vireo's guest ISA test programs: case numbers, checks, CSR
 * access and the trap frame the harness (harness.S) fills in.
 */
#pragma once

#include <stdint.h>

/* Trap frame fields (see test-macros.inc). */
struct trap_frame {
    uint64_t m_t0, m_t1;
    uint64_t mcause, mtval, mepc, mstatus, mresume, mcount;
    uint64_t scause, stval, sepc, sstatus, sresume, scount;
    uint64_t ilog_n, ilog[8];
    uint64_t s_t0, s_t1;
    uint64_t vector, vec_t0;
};

extern volatile struct trap_frame trap_frame;

#define NO_TRAP 0x5a5a

#define CAUSE_FETCH_ACCESS     1
#define CAUSE_ILLEGAL          2
#define CAUSE_MISALIGNED_LOAD  4
#define CAUSE_LOAD_ACCESS      5
#define CAUSE_MISALIGNED_STORE 6
#define CAUSE_STORE_ACCESS     7
#define CAUSE_ECALL_U          8
#define CAUSE_ECALL_S          9
#define CAUSE_ECALL_M          11
#define CAUSE_FETCH_PAGE       12
#define CAUSE_LOAD_PAGE        13
#define CAUSE_STORE_PAGE       15

#define PRV_U 0
#define PRV_S 1
#define PRV_M 3

#define MSTATUS_SIE  (1ull << 1)
#define MSTATUS_MIE  (1ull << 3)
#define MSTATUS_SPP  (1ull << 8)
#define MSTATUS_MPP  (3ull << 11)
#define MSTATUS_MPRV (1ull << 17)
#define MSTATUS_SUM  (1ull << 18)
#define MSTATUS_MXR  (1ull << 19)
#define MSTATUS_TVM  (1ull << 20)

#define PMP_R     0x01
#define PMP_W     0x02
#define PMP_X     0x04
#define PMP_TOR   0x08
#define PMP_NA4   0x10
#define PMP_NAPOT 0x18
#define PMP_L     0x80

/* The current case number lives in gp; a failure reports it. 77 is left
 * out: meson's exitcode protocol reads it as "skipped". */
#define CASE(n)                                                                 \
    do {                                                                        \
        _Static_assert((n) >= 1 && (n) <= 255 && (n) != 77, "bad case number"); \
        __asm__ volatile("li gp, %0" : : "i"(n));                               \
    } while (0)

__attribute__((noreturn)) static inline void test_fail(void)
{
    __asm__ volatile("j fail");
    __builtin_unreachable();
}

#define CHECK(cond)      \
    do {                 \
        if (!(cond))     \
            test_fail(); \
    } while (0)

#define CSR_READ(csr)                                  \
    ({                                                 \
        uint64_t v_;                                   \
        __asm__ volatile("csrr %0, " #csr : "=r"(v_)); \
        v_;                                            \
    })

#define CSR_WRITE(csr, val) \
    __asm__ volatile("csrw " #csr ", %0" : : "r"((uint64_t)(val)) : "memory")
#define CSR_SET(csr, val) __asm__ volatile("csrs " #csr ", %0" : : "r"((uint64_t)(val)) : "memory")
#define CSR_CLEAR(csr, val) \
    __asm__ volatile("csrc " #csr ", %0" : : "r"((uint64_t)(val)) : "memory")

static inline void sfence_vma_all(void)
{
    __asm__ volatile("sfence.vma" : : : "memory");
}

static inline void sfence_vma(uint64_t va, uint64_t asid)
{
    __asm__ volatile("sfence.vma %0, %1" : : "r"(va), "r"(asid) : "memory");
}

static inline void sfence_vma_va(uint64_t va)
{
    __asm__ volatile("sfence.vma %0, zero" : : "r"(va) : "memory");
}

static inline void sfence_vma_asid(uint64_t asid)
{
    __asm__ volatile("sfence.vma zero, %0" : : "r"(asid) : "memory");
}

/* Freestanding helpers the compiler may call. */
void *memset(void *dst, int c, unsigned long n);
void *memcpy(void *dst, const void *src, unsigned long n);

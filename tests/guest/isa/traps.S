/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Traps and privilege: ecall from M, S and U (causes 11, 9, 8; mtval 0),
 * ebreak, illegal instructions (reserved encodings, mtval the bits), the
 * mstatus stack on trap entry and on mret/sret (MIE/MPIE/MPP, SIE/SPIE/SPP,
 * MPRV kept by mret to M), sret from M-mode, mret from S/U and sret from U
 * being illegal, medeleg delegation to S-mode (scause/sepc/stval/SPP,
 * M-mode traps never delegated), mstatus.TSR/TW/TVM, and access faults on
 * vacant physical addresses.
 */
#include "test-macros.inc"

/* mstatus field `mask` (shifted down by `shift`) of the mstatus saved at the
 * last M-mode trap equals `val`. */
.macro CHECK_SAVED_MSTATUS shift, mask, val
    la t6, trap_frame
    ld t6, TF_MSTATUS(t6)
    srli t6, t6, \shift
    andi t6, t6, \mask
    li t5, \val
    bne t6, t5, fail
.endm

/* Same for the sstatus saved at the last S-mode trap. */
.macro CHECK_SAVED_SSTATUS shift, mask, val
    la t6, trap_frame
    ld t6, TF_SSTATUS(t6)
    srli t6, t6, \shift
    andi t6, t6, \mask
    li t5, \val
    bne t6, t5, fail
.endm

/* The live mstatus field equals `val`. */
.macro CHECK_MSTATUS shift, mask, val
    csrr t6, mstatus
    srli t6, t6, \shift
    andi t6, t6, \mask
    li t5, \val
    bne t6, t5, fail
.endm

TEST_MAIN
    PMP_ALLOW_ALL

    /* ecall from M */
    CASE 1
    EXPECT_TRAP 1f
2:  ecall
1:  CHECK_TRAP CAUSE_ECALL_M
    CHECK_TRAP_EPC 2b
    CHECK_TF TF_MTVAL, 0
    CHECK_TRAP_FROM PRV_M
    CASE 2
    /* entering a trap: MPIE = MIE, MIE = 0, MPP = M; mret restores MIE */
    csrw mie, zero
    csrsi mstatus, MSTATUS_MIE
    EXPECT_TRAP 1f
    ecall
1:  CHECK_SAVED_MSTATUS 3, 1, 0   /* MIE */
    CHECK_SAVED_MSTATUS 7, 1, 1   /* MPIE */
    CHECK_SAVED_MSTATUS 11, 3, 3  /* MPP */
    CHECK_MSTATUS 3, 1, 1
    csrci mstatus, MSTATUS_MIE
    CASE 3
    csrci mstatus, MSTATUS_MIE
    EXPECT_TRAP 1f
    ecall
1:  CHECK_SAVED_MSTATUS 7, 1, 0
    CHECK_MSTATUS 3, 1, 0

    /* ecall from S and U */
    CASE 4
    ENTER_MODE PRV_S, 1f
1:  EXPECT_TRAP 3f
2:  ecall
3:  CHECK_TRAP CAUSE_ECALL_S
    CHECK_TRAP_EPC 2b
    CHECK_TF TF_MTVAL, 0
    CHECK_TRAP_FROM PRV_S
    CASE 5
    ENTER_MODE PRV_U, 1f
1:  EXPECT_TRAP 3f
2:  ecall
3:  CHECK_TRAP CAUSE_ECALL_U
    CHECK_TRAP_EPC 2b
    CHECK_TF TF_MTVAL, 0
    CHECK_TRAP_FROM PRV_U

    /* ebreak from each mode */
    CASE 6
    EXPECT_TRAP 1f
2:  ebreak
1:  CHECK_TRAP CAUSE_BREAKPOINT
    CHECK_TRAP_EPC 2b
    CASE 7
    ENTER_MODE PRV_S, 1f
1:  EXPECT_TRAP 3f
2:  ebreak
3:  CHECK_TRAP CAUSE_BREAKPOINT
    CHECK_TRAP_EPC 2b
    CHECK_TRAP_FROM PRV_S
    CASE 8
    ENTER_MODE PRV_U, 1f
1:  EXPECT_TRAP 3f
2:  c.ebreak
3:  CHECK_TRAP CAUSE_BREAKPOINT
    CHECK_TRAP_EPC 2b
    CHECK_TRAP_FROM PRV_U

    /* reserved encodings */
    CASE 9
    ILLEGAL .4byte 0x0000000b /* custom-0 */
    CASE 10
    ILLEGAL .4byte 0x00007003 /* LOAD funct3 7 */
    CASE 11
    ILLEGAL .4byte 0x00004023 /* STORE funct3 4 */
    CASE 12
    ILLEGAL .4byte 0x0200151b /* slliw with shamt[5] set */
    CASE 13
    ILLEGAL .4byte 0x4200551b /* sraiw with shamt[5] set */
    CASE 14
    ILLEGAL .4byte 0x00001067 /* jalr funct3 1 */
    CASE 15
    ILLEGAL .4byte 0x00002063 /* BRANCH funct3 2 */
    CASE 16
    ILLEGAL .4byte 0x00200073 /* SYSTEM imm 2 (uret, not in the ISA) */
    CASE 17
    ILLEGAL .4byte 0x04000033 /* OP funct7 2 */
    CASE 18
    ILLEGAL .4byte 0xf800202f /* AMO funct5 31 */
    CASE 19
    ILLEGAL .4byte 0x30300073 /* SYSTEM imm 0x303 */
    CASE 20
    ILLEGAL .4byte 0x0600007b /* custom-3 */
    CASE 21
    ILLEGAL .4byte 0x0000300f /* MISC-MEM funct3 3 */
    CASE 22
    ILLEGAL .4byte 0x40001033 /* sll with funct7 0x20 */
    CASE 23
    /* all ones: a reserved long encoding (its mtval is not checked, since
     * the encoding is longer than 32 bits) */
    EXPECT_TRAP 1f
2:  .4byte 0xffffffff
    .4byte 0xffffffff
1:  CHECK_TRAP CAUSE_ILLEGAL
    CHECK_TRAP_EPC 2b
    CASE 24
    ILLEGAL_IN PRV_U, .4byte 0x0000000b
    CASE 25
    ILLEGAL_IN PRV_S, .4byte 0x00002063

    /* mret: MIE = MPIE, MPIE = 1, MPP = U (least privilege) */
    CASE 26
    li t0, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE
    csrc mstatus, t0
    li t0, MSTATUS_MPP | MSTATUS_MPIE
    csrs mstatus, t0
    csrw mie, zero
    la t0, 1f
    csrw mepc, t0
    mret
1:  CHECK_MSTATUS 3, 1, 1
    CHECK_MSTATUS 7, 1, 1
    CHECK_MSTATUS 11, 3, 0
    csrci mstatus, MSTATUS_MIE
    CASE 27
    /* mret to S with MPIE = 0: SIE/MIE as set; at the next trap from S,
     * MPIE shows the M-mode MIE, which mret set from MPIE = 0 */
    li t0, MSTATUS_MPIE
    csrc mstatus, t0
    ENTER_MODE PRV_S, 1f
1:  RETURN_TO_M 1f
1:  CHECK_TRAP CAUSE_ECALL_S
    CHECK_SAVED_MSTATUS 7, 1, 0
    CASE 28
    /* MPIE = 1 before mret to U: M interrupts are enabled in U anyway;
     * MIE becomes 1 and is saved in MPIE at the next trap */
    li t0, MSTATUS_MPIE
    csrs mstatus, t0
    ENTER_MODE PRV_U, 1f
1:  RETURN_TO_M 1f
1:  CHECK_TRAP CAUSE_ECALL_U
    CHECK_SAVED_MSTATUS 7, 1, 1
    CHECK_SAVED_MSTATUS 3, 1, 0
    /* (mret to a lower mode clearing MPRV is checked in vireo-impl.S) */
    CASE 29
    li t0, MSTATUS_MPRV
    csrs mstatus, t0
    ENTER_MODE PRV_M, 1f
1:  csrr t1, mstatus
    li t0, MSTATUS_MPRV
    csrc mstatus, t0
    srli t1, t1, 17
    andi t1, t1, 1
    CHECK_EQ t1, 1

    /* sret: SIE = SPIE, SPIE = 1, SPP = U */
    CASE 30
    /* sret from M-mode returns to the mode in SPP */
    li t0, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE
    csrc mstatus, t0
    li t0, MSTATUS_SPP | MSTATUS_SPIE
    csrs mstatus, t0
    csrw mie, zero
    la t0, 1f
    csrw sepc, t0
    sret
1:  csrr t1, sstatus
    RETURN_TO_M 1f
1:  CHECK_TRAP CAUSE_ECALL_S
    andi t0, t1, MSTATUS_SIE
    CHECK_EQ t0, MSTATUS_SIE
    andi t0, t1, MSTATUS_SPIE
    CHECK_EQ t0, MSTATUS_SPIE
    andi t0, t1, MSTATUS_SPP
    CHECK_EQ t0, 0
    CASE 31
    /* sret from S to U with SPIE = 0 */
    li t0, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP
    csrc mstatus, t0
    ENTER_MODE PRV_S, 1f
1:  csrsi sstatus, MSTATUS_SIE
    la t0, 2f
    csrw sepc, t0
    sret
2:  RETURN_TO_M 1f
1:  CHECK_TRAP CAUSE_ECALL_U
    CHECK_SAVED_MSTATUS 1, 1, 0   /* SIE = SPIE = 0 */
    CHECK_SAVED_MSTATUS 5, 1, 1   /* SPIE = 1 */
    CHECK_SAVED_MSTATUS 8, 1, 0   /* SPP = U */
    CASE 32
    /* sret from S back to S */
    ENTER_MODE PRV_S, 1f
1:  li t0, MSTATUS_SPP
    csrs sstatus, t0
    la t0, 2f
    csrw sepc, t0
    sret
2:  RETURN_TO_M 1f
1:  CHECK_TRAP CAUSE_ECALL_S

    /* xRET below its privilege is illegal */
    CASE 33
    ILLEGAL_IN PRV_S, mret
    CASE 34
    ILLEGAL_IN PRV_U, mret
    CASE 35
    ILLEGAL_IN PRV_U, sret

    /* mstatus.TSR: sret in S is illegal; in M it still works */
    CASE 36
    li t0, MSTATUS_TSR
    csrs mstatus, t0
    ILLEGAL_IN PRV_S, sret
    CASE 37
    li t0, MSTATUS_SPP
    csrs mstatus, t0
    la t0, 1f
    csrw sepc, t0
    sret
1:  RETURN_TO_M 1f
1:  CHECK_TRAP CAUSE_ECALL_S
    CASE 38
    /* TSR does not affect mret */
    ENTER_MODE PRV_M, 1f
1:  li t0, MSTATUS_TSR
    csrc mstatus, t0
    CASE 39
    /* mstatus.TW: wfi in S (or U) is illegal */
    li t0, MSTATUS_TW
    csrs mstatus, t0
    ILLEGAL_IN PRV_S, wfi
    CASE 40
    ILLEGAL_IN PRV_U, wfi
    li t0, MSTATUS_TW
    csrc mstatus, t0
    CASE 41
    /* mstatus.TVM: satp and sfence.vma in S are illegal */
    li t0, MSTATUS_TVM
    csrs mstatus, t0
    ILLEGAL_IN PRV_S, csrr a0, satp
    CASE 42
    ILLEGAL_IN PRV_S, csrw satp, zero
    CASE 43
    ILLEGAL_IN PRV_S, sfence.vma
    CASE 44
    ILLEGAL_IN PRV_S, sfence.vma a0, a1
    CASE 45
    /* TVM leaves M-mode alone */
    csrr a0, satp
    csrw satp, zero
    sfence.vma
    li t0, MSTATUS_TVM
    csrc mstatus, t0
    CASE 46
    ENTER_MODE PRV_S, 1f
1:  csrr a0, satp
    csrw satp, zero
    sfence.vma
    RETURN_TO_M 1f
1:  CHECK_TRAP CAUSE_ECALL_S
    CASE 47
    /* sfence.vma in U is illegal */
    ILLEGAL_IN PRV_U, sfence.vma

    /* (mepc/sepc bit 0 reading zero is checked in vireo-impl.S) */

    /* delegation: medeleg sends U/S exceptions to S-mode */
    CASE 48
    li t0, (1 << CAUSE_ILLEGAL) | (1 << CAUSE_BREAKPOINT) | (1 << CAUSE_ECALL_U)
    csrw medeleg, t0
    csrr a0, medeleg
    CHECK_EQ a0, (1 << CAUSE_ILLEGAL) | (1 << CAUSE_BREAKPOINT) | (1 << CAUSE_ECALL_U)
    CASE 49
    /* illegal instruction in U goes to S: scause, sepc, stval, SPP = U */
    li t0, MSTATUS_SIE
    csrs mstatus, t0
    EXPECT_TRAP 9f
    li t5, NO_TRAP
    la t6, trap_frame
    sd t5, TF_MCAUSE(t6)
    S_EXPECT_TRAP 3f
    ENTER_MODE PRV_U, 1f
1:
2:  .4byte 0x0000000b
    j fail
3:  /* in S-mode now */
    csrr s1, sstatus
    ecall
9:  CHECK_TRAP CAUSE_ECALL_S
    CHECK_TF TF_SCAUSE, CAUSE_ILLEGAL
    CHECK_TF TF_STVAL, 0x0000000b
    CHECK_TF_ADDR TF_SEPC, 2b
    CHECK_SAVED_SSTATUS 8, 1, 0   /* SPP = U */
    CHECK_SAVED_SSTATUS 5, 1, 1   /* SPIE = old SIE */
    CHECK_SAVED_SSTATUS 1, 1, 0   /* SIE = 0 */
    CASE 50
    /* the resumed code ran in S-mode (sstatus readable), after an sret that
     * set SPP to U */
    andi t0, s1, MSTATUS_SPP
    CHECK_EQ t0, 0
    CASE 51
    /* a delegated trap does not enter the M handler: only the ecall does */
    TF_LOAD s2, TF_MCOUNT
    EXPECT_TRAP 9f
    S_EXPECT_TRAP 3f
    ENTER_MODE PRV_U, 1f
1:
2:  ebreak
    j fail
3:  ecall
9:  CHECK_TRAP CAUSE_ECALL_S
    CHECK_TF TF_SCAUSE, CAUSE_BREAKPOINT
    CHECK_TF_ADDR TF_SEPC, 2b
    TF_LOAD s3, TF_MCOUNT
    sub s3, s3, s2
    CHECK_EQ s3, 1
    CASE 52
    /* the S handler's sret resumed in S-mode (SPP was set to S) */
    CHECK_TRAP_FROM PRV_S
    CASE 53
    /* ecall from U delegated */
    EXPECT_TRAP 9f
    S_EXPECT_TRAP 3f
    ENTER_MODE PRV_U, 1f
1:
2:  ecall
    j fail
3:  ecall
9:  CHECK_TRAP CAUSE_ECALL_S
    CHECK_TF TF_SCAUSE, CAUSE_ECALL_U
    CHECK_TF_ADDR TF_SEPC, 2b
    CHECK_TF TF_STVAL, 0
    CASE 54
    /* an exception in S-mode is delegated too, SPP = S */
    EXPECT_TRAP 9f
    S_EXPECT_TRAP 3f
    ENTER_MODE PRV_S, 1f
1:
2:  .2byte 0x0000
    j fail
3:  ecall
9:  CHECK_TRAP CAUSE_ECALL_S
    CHECK_TF TF_SCAUSE, CAUSE_ILLEGAL
    CHECK_TF TF_STVAL, 0
    CHECK_TF_ADDR TF_SEPC, 2b
    CHECK_SAVED_SSTATUS 8, 1, 1
    CASE 55
    /* exceptions in M-mode are never delegated */
    li t0, -1
    csrw medeleg, t0
    ILLEGAL .4byte 0x0000000b
    CASE 56
    EXPECT_TRAP 1f
    ebreak
1:  CHECK_TRAP CAUSE_BREAKPOINT
    CASE 57
    EXPECT_TRAP 1f
    ecall
1:  CHECK_TRAP CAUSE_ECALL_M
    CASE 58
    /* not delegated: the bit clear sends it to M even from U */
    li t0, (1 << CAUSE_BREAKPOINT)
    csrw medeleg, t0
    ENTER_MODE PRV_U, 1f
1:  ILLEGAL .4byte 0x0000000b
    CHECK_TRAP_FROM PRV_U
    csrw medeleg, zero

    /* sstatus is a restricted view of mstatus */
    CASE 59
    li t0, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP
    csrs mstatus, t0
    csrr a0, sstatus
    and a0, a0, t0
    CHECK_EQ a0, 0
    li t0, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE
    csrc mstatus, t0
    CASE 60
    li t0, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR
    csrs sstatus, t0
    csrr a0, mstatus
    and a0, a0, t0
    CHECK_EQR a0, t0
    csrc sstatus, t0
    csrr a0, mstatus
    and a0, a0, t0
    CHECK_EQ a0, 0
    CASE 61
    /* writes to sstatus leave the M-only fields alone */
    li t0, MSTATUS_TVM | MSTATUS_MPP_S
    csrs mstatus, t0
    li t1, -1
    csrc sstatus, t1
    csrr a0, mstatus
    and a0, a0, t0
    CHECK_EQR a0, t0
    csrc mstatus, t0

    /* accesses to a hole in the physical address map: access faults with
     * the address in mtval (0x28000000 and 0x4000000 are vacant on the virt
     * board, 0xa0000000 lies past the end of RAM) */
    CASE 62
    li a1, 0x28000000
    EXPECT_TRAP 1f
    ld a0, 0(a1)
1:  CHECK_TRAP CAUSE_LOAD_ACCESS
    CHECK_TF_REG TF_MTVAL, a1
    CASE 63
    li a1, 0x4000010
    EXPECT_TRAP 1f
    sw a0, 0(a1)
1:  CHECK_TRAP CAUSE_STORE_ACCESS
    CHECK_TF_REG TF_MTVAL, a1
    CASE 64
    li a1, 0xa0000000
    EXPECT_TRAP 1f
    sd a0, 0(a1)
1:  CHECK_TRAP CAUSE_STORE_ACCESS
    CHECK_TF_REG TF_MTVAL, a1
    CASE 65
    /* instruction fetch: mepc and mtval the target */
    li a1, 0x28000000
    EXPECT_TRAP 1f
    jalr ra, 0(a1)
1:  CHECK_TRAP CAUSE_FETCH_ACCESS
    CHECK_TF_REG TF_MTVAL, a1
    CHECK_TF_REG TF_MEPC, a1
    CASE 66
    /* the same from U-mode */
    li a1, 0x28000008
    ENTER_MODE PRV_U, 2f
2:  EXPECT_TRAP 1f
    lbu a0, 0(a1)
1:  CHECK_TRAP CAUSE_LOAD_ACCESS
    CHECK_TF_REG TF_MTVAL, a1
    CHECK_TRAP_FROM PRV_U

    /* a fault after a forward branch not taken and a forward jal, which
     * blocks go on past: mepc is the faulting load's own pc and the jal's
     * link the pc after the jal */
    CASE 67
    li a1, 0x28000000
    li a2, 1
    ENTER_MODE PRV_S, 2f
2:  EXPECT_TRAP 1f
    beqz a2, 5f
    jal t1, 3f
4:  j fail
    j fail
3:  ld a0, 0(a1)
5:  j fail
1:  CHECK_TRAP CAUSE_LOAD_ACCESS
    CHECK_TRAP_EPC 3b
    CHECK_TF_REG TF_MTVAL, a1
    CHECK_TRAP_FROM PRV_S
    la t2, 4b
    bne t1, t2, fail
    PASS

/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "engine/bus.h"
#include "engine/machine.h"

G_BEGIN_DECLS

/*
 * The SiFive test device ("finisher"): a 32-bit write at offset 0 ends the
 * machine. The low 16 bits select the action:
 *
 *   0x5555                power off with status 0
 *   (code << 16) | 0x3333 power off with failure status `code`
 *   0x7777                reset the machine
 *
 * Other values are ignored; reads return 0.
 */
typedef struct VireoSifiveTest VireoSifiveTest;

#define VIREO_SIFIVE_TEST_MMIO_SIZE 0x1000
#define VIREO_SIFIVE_TEST_FAIL      0x3333
#define VIREO_SIFIVE_TEST_PASS      0x5555
#define VIREO_SIFIVE_TEST_RESET     0x7777

VireoSifiveTest *vireo_sifive_test_new(VireoMachine *machine);
void vireo_sifive_test_free(VireoSifiveTest *test);
const VireoDeviceOps *vireo_sifive_test_ops(void);

G_END_DECLS

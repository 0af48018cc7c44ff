/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "accel/accel.h"
#include "engine/error.h"

#include <unistd.h>

static void test_accel_names(void)
{
    for (int i = 0; i < VIREO_ACCEL_COUNT; i++) {
        VireoAccelKind k;
        g_assert_true(vireo_accel_from_name(vireo_accel_name((VireoAccelKind)i), &k));
        g_assert_cmpint(k, ==, i);
    }
    for (int i = 0; i < VIREO_ARCH_COUNT; i++) {
        VireoArch a;
        g_assert_true(vireo_arch_from_name(vireo_arch_name((VireoArch)i), &a));
        g_assert_cmpint(a, ==, i);
    }
    VireoAccelKind k;
    g_assert_false(vireo_accel_from_name("qemu", &k));
    g_assert_false(vireo_accel_from_name(NULL, &k));
}

static void test_accel_probe(void)
{
    g_autoptr(GError) error = NULL;

    /* The software engine runs RISC-V everywhere. */
    g_assert_true(vireo_accel_probe(VIREO_ACCEL_SOFT, VIREO_ARCH_RISCV64, &error));
    g_assert_no_error(error);
    g_assert_false(vireo_accel_probe(VIREO_ACCEL_SOFT, VIREO_ARCH_ARM64, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_ACCEL_UNAVAILABLE);
    g_clear_error(&error);
#ifndef __APPLE__
    g_assert_false(vireo_accel_probe(VIREO_ACCEL_HVF, VIREO_ARCH_X86_64, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_ACCEL_UNAVAILABLE);
    g_assert_nonnull(strstr(error->message, "macOS"));
    g_clear_error(&error);
#endif
    /* KVM never runs a guest of another architecture than the host's. */
    g_assert_false(vireo_accel_probe(
        VIREO_ACCEL_KVM,
        VIREO_ARCH_RISCV64 == vireo_arch_host() ? VIREO_ARCH_ARM64 : VIREO_ARCH_RISCV64, &error));
    g_assert_error(error, VIREO_ERROR, VIREO_ERROR_ACCEL_UNAVAILABLE);
    g_clear_error(&error);
    /* For the host architecture, KVM is available exactly when /dev/kvm
     * opens read-write. */
    gboolean expect = access("/dev/kvm", R_OK | W_OK) == 0;
    g_assert_cmpint(vireo_accel_probe(VIREO_ACCEL_KVM, vireo_arch_host(), NULL), ==, expect);
    g_assert_cmpint(vireo_accel_select(VIREO_ARCH_RISCV64), ==,
                    vireo_arch_host() == VIREO_ARCH_RISCV64 && expect ? VIREO_ACCEL_KVM
                                                                      : VIREO_ACCEL_SOFT);
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/accel/names", test_accel_names);
    g_test_add_func("/accel/probe", test_accel_probe);
    return g_test_run();
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "display/viewport.h"

static void assert_rect(VireoRect r, int x, int y, int w, int h)
{
    g_assert_cmpint(r.x, ==, x);
    g_assert_cmpint(r.y, ==, y);
    g_assert_cmpint(r.width, ==, w);
    g_assert_cmpint(r.height, ==, h);
}

static void test_viewport_fit(void)
{
    /* Wider target: pillar-boxed. */
    assert_rect(vireo_viewport_compute(640, 480, 1920, 1080, VIREO_SCALE_FIT), 240, 0, 1440, 1080);
    /* Taller target: letter-boxed. */
    assert_rect(vireo_viewport_compute(1280, 720, 1000, 1000, VIREO_SCALE_FIT), 0, 218, 1000, 563);
    /* Same aspect: fills. */
    assert_rect(vireo_viewport_compute(800, 600, 1600, 1200, VIREO_SCALE_FIT), 0, 0, 1600, 1200);
    /* Degenerate sizes give an empty rectangle. */
    assert_rect(vireo_viewport_compute(0, 600, 1600, 1200, VIREO_SCALE_FIT), 0, 0, 0, 0);
    assert_rect(vireo_viewport_compute(800, 600, 0, 1200, VIREO_SCALE_FIT), 0, 0, 0, 0);
}

static void test_viewport_integer_and_native(void)
{
    assert_rect(vireo_viewport_compute(640, 480, 1920, 1080, VIREO_SCALE_INTEGER), 320, 60, 1280,
                960);
    /* Larger than the target: falls back to fit. */
    assert_rect(vireo_viewport_compute(1920, 1080, 960, 540, VIREO_SCALE_INTEGER), 0, 0, 960, 540);
    /* 1:1 on a HiDPI target: centred, device pixels. */
    assert_rect(vireo_viewport_compute(800, 600, 1600, 1200, VIREO_SCALE_NATIVE), 400, 300, 800,
                600);
    /* 1:1 larger than the target is cropped around the centre. */
    assert_rect(vireo_viewport_compute(1000, 1000, 500, 500, VIREO_SCALE_NATIVE), -250, -250, 1000,
                1000);
}

static void test_viewport_to_guest(void)
{
    VireoRect v = vireo_viewport_compute(640, 480, 1920, 1080, VIREO_SCALE_FIT);
    int gx = -1, gy = -1;

    g_assert_true(vireo_viewport_to_guest(&v, 640, 480, 240, 0, &gx, &gy));
    g_assert_cmpint(gx, ==, 0);
    g_assert_cmpint(gy, ==, 0);
    g_assert_true(vireo_viewport_to_guest(&v, 640, 480, 1679.9, 1079.9, &gx, &gy));
    g_assert_cmpint(gx, ==, 639);
    g_assert_cmpint(gy, ==, 479);
    g_assert_true(vireo_viewport_to_guest(&v, 640, 480, 960, 540, &gx, &gy));
    g_assert_cmpint(gx, ==, 320);
    g_assert_cmpint(gy, ==, 240);
    g_assert_false(vireo_viewport_to_guest(&v, 640, 480, 100, 540, &gx, &gy));
    g_assert_false(vireo_viewport_to_guest(&v, 640, 480, 1680, 540, &gx, &gy));
}

int main(int argc, char *argv[])
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/display/viewport/fit", test_viewport_fit);
    g_test_add_func("/display/viewport/integer-and-native", test_viewport_integer_and_native);
    g_test_add_func("/display/viewport/to-guest", test_viewport_to_guest);
    return g_test_run();
}

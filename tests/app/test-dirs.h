/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

/*
 * Points the XDG folders at a new temporary folder before GLib caches them,
 * so that a test never touches the user's own. (G_TEST_OPTION_ISOLATE_DIRS
 * would do it per test case, but GLib 2.74 leaks its strings, which the
 * sanitizer build reports.)
 */
static inline void test_fresh_dirs(void)
{
    g_autofree char *root = g_dir_make_tmp("vireo-test-XXXXXX", NULL);
    const char *vars[][2] = {
        { "XDG_DATA_HOME", "data" },
        { "XDG_CONFIG_HOME", "config" },
        { "XDG_CACHE_HOME", "cache" },
    };

    g_assert_nonnull(root);
    for (guint i = 0; i < G_N_ELEMENTS(vars); i++) {
        g_autofree char *dir = g_build_filename(root, vars[i][1], NULL);
        g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
        g_setenv(vars[i][0], dir, TRUE);
    }
}

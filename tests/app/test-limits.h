/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <sys/resource.h>

/*
 * Caps the address space of a test process that reads files which a
 * careless reader would read without end (a link to /dev/zero): such a
 * test then fails with an allocation error instead of filling the
 * machine's memory. Not under AddressSanitizer, whose shadow memory
 * alone is larger than any such cap.
 */
#if defined(__SANITIZE_ADDRESS__)
#define TEST_LIMITS_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_LIMITS_SANITIZED 1
#endif
#endif

static inline void test_limit_memory(guint64 bytes)
{
#ifndef TEST_LIMITS_SANITIZED
    struct rlimit limit = { .rlim_cur = bytes, .rlim_max = bytes };

    g_assert_cmpint(setrlimit(RLIMIT_AS, &limit), ==, 0);
#endif
}

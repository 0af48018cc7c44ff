/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The freestanding helpers the compiler may call in the C test programs. */
#include "guest.h"

void *memset(void *dst, int c, unsigned long n)
{
    volatile uint8_t *d = dst;
    while (n--)
        *d++ = (uint8_t)c;
    return dst;
}

void *memcpy(void *dst, const void *src, unsigned long n)
{
    volatile uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

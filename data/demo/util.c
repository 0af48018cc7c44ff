/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The freestanding helpers: memory and string functions (the compiler may
 * call the first three itself), boot argument parsing and the bit of
 * floating-point arithmetic the scene needs. */
#include "demo.h"

void *memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    uint64_t word = (uint8_t)c * 0x0101010101010101ull;

    while (n > 0 && ((uintptr_t)d & 7) != 0) {
        *d++ = (uint8_t)c;
        n--;
    }
    for (; n >= 8; n -= 8, d += 8)
        *(uint64_t *)d = word;
    while (n-- > 0)
        *d++ = (uint8_t)c;
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;

    if ((((uintptr_t)d ^ (uintptr_t)s) & 7) == 0) {
        while (n > 0 && ((uintptr_t)d & 7) != 0) {
            *d++ = *s++;
            n--;
        }
        for (; n >= 32; n -= 32, d += 32, s += 32) {
            uint64_t a = ((const uint64_t *)s)[0], b = ((const uint64_t *)s)[1];
            uint64_t c = ((const uint64_t *)s)[2], e = ((const uint64_t *)s)[3];
            ((uint64_t *)d)[0] = a;
            ((uint64_t *)d)[1] = b;
            ((uint64_t *)d)[2] = c;
            ((uint64_t *)d)[3] = e;
        }
        for (; n >= 8; n -= 8, d += 8, s += 8)
            *(uint64_t *)d = *(const uint64_t *)s;
    } else if ((((uintptr_t)d ^ (uintptr_t)s) & 3) == 0) {
        while (n > 0 && ((uintptr_t)d & 3) != 0) {
            *d++ = *s++;
            n--;
        }
        for (; n >= 4; n -= 4, d += 4, s += 4)
            *(uint32_t *)d = *(const uint32_t *)s;
    }
    while (n-- > 0)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;

    if (d <= s || d >= s + n)
        return memcpy(dst, src, n);
    while (n-- > 0)
        d[n] = s[n];
    return dst;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n] != '\0')
        n++;
    return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n > 0; n--, a++, b++) {
        if (*a != *b || *a == '\0')
            return (unsigned char)*a - (unsigned char)*b;
    }
    return 0;
}

uint64_t arg_number(const char *args, const char *key, uint64_t fallback)
{
    size_t klen = strlen(key);
    const char *p = args;

    while (*p != '\0') {
        while (*p == ' ')
            p++;
        if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
            const char *v = p + klen + 1;
            uint64_t n = 0;
            if (*v < '0' || *v > '9')
                return fallback;
            while (*v >= '0' && *v <= '9')
                n = n * 10 + (uint64_t)(*v++ - '0');
            return (*v == ' ' || *v == '\0') ? n : fallback;
        }
        while (*p != ' ' && *p != '\0')
            p++;
    }
    return fallback;
}

double dsqrt(double x)
{
    double r;
    __asm__("fsqrt.d %0, %1" : "=f"(r) : "f"(x));
    return r;
}

double dfloor(double x)
{
    if (x >= 9.0e15 || x <= -9.0e15)
        return x;
    double t = (double)(int64_t)x;
    return t > x ? t - 1.0 : t;
}

double dmod(double x, double m)
{
    double r = x - dfloor(x / m) * m;
    return r < 0.0 ? 0.0 : r >= m ? 0.0 : r;
}

#define PI 3.14159265358979323846

/* sin(x): reduced to [-π/2, π/2], then its Taylor series to x¹³ (an error
 * below 1e-9 there). */
double dsin(double x)
{
    x = dmod(x + PI, 2.0 * PI) - PI;
    if (x > PI / 2)
        x = PI - x;
    else if (x < -PI / 2)
        x = -PI - x;
    double x2 = x * x, term = x, sum = x;
    for (int k = 1; k <= 6; k++) {
        term *= -x2 / (double)((2 * k) * (2 * k + 1));
        sum += term;
    }
    return sum;
}

double dcos(double x)
{
    return dsin(x + PI / 2);
}

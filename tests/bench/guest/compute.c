/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A compute-bound guest workload for the interpreter benchmark: integer
 * arithmetic, memory traffic and branches in roughly equal measure (sorting,
 * a sieve, a hash table, CRC-32 and a small matrix product). It prints a
 * checksum on the UART, so runs on different emulators can be compared.
 */
#include <stdint.h>

#define UART ((volatile uint8_t *)0x10000000)

#ifndef ROUNDS
#define ROUNDS 120
#endif

static void putc_(char c)
{
    while ((UART[5] & 0x20) == 0) {}
    UART[0] = (uint8_t)c;
}

static void puts_(const char *s)
{
    while (*s) {
        putc_(*s++);
    }
}

static void puthex(uint64_t v)
{
    for (int i = 60; i >= 0; i -= 4) {
        putc_("0123456789abcdef"[(v >> i) & 15]);
    }
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

#define N_SORT 20000
static uint32_t sort_buf[N_SORT];

static void quicksort(uint32_t *a, long lo, long hi)
{
    while (lo < hi) {
        uint32_t p = a[(lo + hi) / 2];
        long i = lo, j = hi;
        while (i <= j) {
            while (a[i] < p) {
                i++;
            }
            while (a[j] > p) {
                j--;
            }
            if (i <= j) {
                uint32_t t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                j--;
            }
        }
        if (j - lo < hi - i) {
            quicksort(a, lo, j);
            lo = i;
        } else {
            quicksort(a, i, hi);
            hi = j;
        }
    }
}

#define N_SIEVE 400000
static uint8_t sieve_buf[N_SIEVE];

static uint64_t sieve(void)
{
    uint64_t count = 0;
    for (long i = 0; i < N_SIEVE; i++) {
        sieve_buf[i] = 1;
    }
    for (long i = 2; i < N_SIEVE; i++) {
        if (sieve_buf[i]) {
            count += (uint64_t)i;
            for (long j = i * 2; j < N_SIEVE; j += i) {
                sieve_buf[j] = 0;
            }
        }
    }
    return count;
}

#define HASH_SIZE 8192
static uint64_t hash_keys[HASH_SIZE];
static uint32_t hash_vals[HASH_SIZE];

static uint64_t hash_work(void)
{
    uint64_t sum = 0;
    for (int i = 0; i < HASH_SIZE; i++) {
        hash_keys[i] = 0;
    }
    for (int i = 0; i < 6000; i++) {
        uint64_t k = (rng() | 1) & 0xffffffffffull;
        uint32_t h = (uint32_t)((k * 0x9e3779b97f4a7c15ull) >> 51);
        while (hash_keys[h] != 0 && hash_keys[h] != k) {
            h = (h + 1) & (HASH_SIZE - 1);
        }
        hash_keys[h] = k;
        hash_vals[h] += (uint32_t)i;
    }
    for (int i = 0; i < HASH_SIZE; i++) {
        sum = sum * 31 + hash_keys[i] + hash_vals[i];
    }
    return sum;
}

static uint32_t crc32(const uint8_t *p, long n)
{
    uint32_t crc = 0xffffffffu;
    for (long i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
        }
    }
    return ~crc;
}

#define MAT 48
static int32_t ma[MAT][MAT], mb[MAT][MAT], mc[MAT][MAT];

static uint64_t matmul(void)
{
    uint64_t sum = 0;
    for (int i = 0; i < MAT; i++) {
        for (int j = 0; j < MAT; j++) {
            ma[i][j] = (int32_t)(rng() & 0xff) - 128;
            mb[i][j] = (int32_t)(rng() & 0xff) - 128;
        }
    }
    for (int i = 0; i < MAT; i++) {
        for (int j = 0; j < MAT; j++) {
            int32_t acc = 0;
            for (int k = 0; k < MAT; k++) {
                acc += ma[i][k] * mb[k][j];
            }
            mc[i][j] = acc;
            sum += (uint64_t)(int64_t)acc;
        }
    }
    return sum;
}

int main(void)
{
    uint64_t check = 0;

    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < N_SORT; i++) {
            sort_buf[i] = (uint32_t)rng();
        }
        quicksort(sort_buf, 0, N_SORT - 1);
        for (int i = 1; i < N_SORT; i++) {
            if (sort_buf[i - 1] > sort_buf[i]) {
                puts_("sort failed\n");
                return 1;
            }
        }
        check = check * 1000003u + sort_buf[N_SORT / 2];
        check = check * 1000003u + sieve();
        check = check * 1000003u + hash_work();
        check = check * 1000003u + crc32(sieve_buf, N_SIEVE / 4);
        check = check * 1000003u + matmul();
    }
    puts_("checksum ");
    puthex(check);
    puts_("\n");
    return 0;
}

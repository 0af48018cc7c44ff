/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once
/*
 * For the targets whose input is a machine-state stream (engine/snap.h):
 * makes every whole section's CRC right and the end section's count match,
 * as far as the framing can be followed, so that mutated inputs get past
 * the checksums to the checks behind them.
 */
#include "engine/snap.h"

#include <string.h>

static inline void vireo_fuzz_snap_fix_up(guint8 *s, gsize len)
{
    gsize pos = 16; /* the header */
    uint64_t n = 0;

    while (pos < len) {
        gsize name_len = s[pos], start = pos;
        uint64_t payload;
        uint32_t crc;

        if (name_len == 0 || name_len > VIREO_SNAP_MAX_NAME || len - pos < 1 + name_len + 20) {
            return;
        }
        /* name length, name, u64 instance, u32 version, u64 payload length */
        memcpy(&payload, s + pos + 1 + name_len + 12, 8);
        payload = GUINT64_FROM_LE(payload);
        pos += 1 + name_len + 20;
        if (payload > len - pos || len - pos - payload < 4) {
            return;
        }
        if (name_len == 3 && memcmp(s + start + 1, "end", 3) == 0 && payload == 8) {
            uint64_t v = GUINT64_TO_LE(n);
            memcpy(s + pos, &v, 8);
        }
        pos += payload;
        crc = GUINT32_TO_LE(vireo_crc32c(0, s + start, pos - start));
        memcpy(s + pos, &crc, 4);
        pos += 4;
        n++;
    }
}

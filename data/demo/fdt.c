/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Reads the flattened device tree (Devicetree Specification 0.4, chapter 5)
 * the board passes in a1: RAM, the timebase, the boot arguments, the harts
 * and the virtio-mmio transports. One walk over the structure block; every
 * offset and length is checked against the blob's size.
 */
#include "demo.h"

#define FDT_MAGIC      0xd00dfeedu
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE   2
#define FDT_PROP       3
#define FDT_NOP        4
#define FDT_END        9
#define MAX_DEPTH      16

static uint32_t be32(const void *p)
{
    const uint8_t *b = p;
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

/* A number of `cells` 32-bit cells, big-endian. */
static uint64_t read_cells(const uint8_t *p, uint32_t cells)
{
    uint64_t v = 0;
    for (uint32_t i = 0; i < cells; i++)
        v = (v << 32) | be32(p + 4 * i);
    return v;
}

uint32_t fdt_total_size(const void *fdt)
{
    if (fdt == NULL || ((uintptr_t)fdt & 3) != 0 || be32(fdt) != FDT_MAGIC)
        return 0;
    return be32((const uint8_t *)fdt + 4);
}

static bool name_is(const char *node, const char *name)
{
    size_t n = strlen(name);
    return strncmp(node, name, n) == 0 && (node[n] == '\0' || node[n] == '@');
}

/* Whether a stringlist property holds `want`. */
static bool has_string(const uint8_t *value, uint32_t len, const char *want)
{
    size_t wlen = strlen(want);
    for (uint32_t i = 0; i < len;) {
        const char *s = (const char *)value + i;
        size_t slen = 0;
        while (i + slen < len && s[slen] != '\0')
            slen++;
        if (slen == wlen && strncmp(s, want, wlen) == 0)
            return true;
        i += (uint32_t)slen + 1;
    }
    return false;
}

bool fdt_read_board(const void *fdt, struct board_info *info)
{
    const uint8_t *blob = fdt;
    uint32_t size = fdt_total_size(fdt);

    memset(info, 0, sizeof *info);
    if (size < 40)
        return false;
    uint32_t off_struct = be32(blob + 8), off_strings = be32(blob + 12);
    uint32_t size_strings = be32(blob + 32), size_struct = be32(blob + 36);
    if (off_struct > size || size_struct > size - off_struct || off_strings > size ||
        size_strings > size - off_strings)
        return false;

    /* #address-cells and #size-cells that apply to the children of the
     * node at each depth; names of the nodes on the current path. */
    uint32_t addr_cells[MAX_DEPTH], size_cells[MAX_DEPTH];
    const char *names[MAX_DEPTH];
    int depth = -1;
    /* The node being read: is it a virtio-mmio transport, and its reg and
     * interrupts. */
    bool virtio = false;
    uint64_t reg = 0;
    uint32_t irq = 0;

    const uint8_t *p = blob + off_struct, *end = p + size_struct;
    while (p + 4 <= end) {
        uint32_t token = be32(p);
        p += 4;
        if (token == FDT_BEGIN_NODE) {
            const char *name = (const char *)p;
            size_t n = 0;
            while (p + n < end && name[n] != '\0')
                n++;
            if (p + n >= end || ++depth >= MAX_DEPTH)
                return false;
            names[depth] = name;
            addr_cells[depth] = 2;
            size_cells[depth] = 1;
            p += (n + 4) & ~(size_t)3;
            virtio = false;
            reg = 0;
            irq = 0;
            if (depth == 2 && name_is(names[1], "cpus") && name_is(name, "cpu"))
                info->n_harts++;
        } else if (token == FDT_END_NODE) {
            if (depth < 0)
                return false;
            if (virtio && info->n_virtio < FDT_MAX_VIRTIO) {
                info->virtio[info->n_virtio].base = reg;
                info->virtio[info->n_virtio].irq = irq;
                info->n_virtio++;
            }
            virtio = false;
            depth--;
        } else if (token == FDT_PROP) {
            if (p + 8 > end || depth < 0)
                return false;
            uint32_t len = be32(p), nameoff = be32(p + 4);
            const uint8_t *value = p + 8;
            if (len > (size_t)(end - value) || nameoff >= size_strings)
                return false;
            const char *prop = (const char *)blob + off_strings + nameoff;
            const char *node = names[depth];
            /* reg is read with the parent's cells. */
            uint32_t pa = depth > 0 ? addr_cells[depth - 1] : 2;
            uint32_t ps = depth > 0 ? size_cells[depth - 1] : 1;

            if (strncmp(prop, "#address-cells", 15) == 0 && len == 4)
                addr_cells[depth] = be32(value);
            else if (strncmp(prop, "#size-cells", 12) == 0 && len == 4)
                size_cells[depth] = be32(value);
            else if (strncmp(prop, "compatible", 11) == 0)
                virtio = virtio || has_string(value, len, "virtio,mmio");
            else if (strncmp(prop, "reg", 4) == 0 && pa >= 1 && pa <= 2 && ps <= 2 &&
                     len >= 4 * (pa + ps)) {
                reg = read_cells(value, pa);
                if (depth == 1 && name_is(node, "memory") && info->ram_size == 0) {
                    info->ram_base = reg;
                    info->ram_size = read_cells(value + 4 * pa, ps);
                }
            } else if (strncmp(prop, "interrupts", 11) == 0 && len >= 4)
                irq = be32(value);
            else if (strncmp(prop, "timebase-frequency", 19) == 0 && depth == 1 &&
                     name_is(node, "cpus") && (len == 4 || len == 8))
                info->timebase_hz = read_cells(value, len / 4);
            else if (strncmp(prop, "bootargs", 9) == 0 && depth == 1 && name_is(node, "chosen")) {
                uint32_t n = len < sizeof info->bootargs ? len : sizeof info->bootargs - 1;
                memcpy(info->bootargs, value, n);
                info->bootargs[n] = '\0';
            }
            p = value + ((len + 3) & ~3u);
        } else if (token == FDT_NOP) {
            continue;
        } else if (token == FDT_END) {
            return depth == -1;
        } else {
            return false;
        }
    }
    return false;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "vireo-file"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <unistd.h>

#include "vireo-file.h"

#include "engine/error.h"

static gboolean file_error(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

static gboolean file_error(GError **error, const char *format, ...)
{
    va_list ap;

    if (error != NULL) {
        va_start(ap, format);
        *error = g_error_new_valist(VIREO_ERROR, VIREO_ERROR_IO, format, ap);
        va_end(ap);
    }
    return FALSE;
}

static gboolean check_regular(const char *path, mode_t mode, GError **error)
{
    if (S_ISREG(mode)) {
        return TRUE;
    }
    if (S_ISDIR(mode)) {
        return file_error(error, _("“%s” is a folder, not a regular file"), path);
    }
    if (S_ISFIFO(mode)) {
        return file_error(error, _("“%s” is a named pipe (FIFO), not a regular file"), path);
    }
    if (S_ISCHR(mode) || S_ISBLK(mode)) {
        return file_error(error, _("“%s” is a device, not a regular file"), path);
    }
    if (S_ISSOCK(mode)) {
        return file_error(error, _("“%s” is a socket, not a regular file"), path);
    }
    return file_error(error, _("“%s” is not a regular file"), path);
}

int vireo_file_open_regular(const char *path, struct stat *st, GError **error)
{
    int fd;

    g_return_val_if_fail(path != NULL, -1);
    g_return_val_if_fail(st != NULL, -1);

    /* Opening a device can have effects of its own: what is not a regular
     * file is not opened at all. */
    if (stat(path, st) != 0) {
        int err = errno;
        file_error(error, _("cannot read “%s”: %s"), path, g_strerror(err));
        return -1;
    }
    if (!check_regular(path, st->st_mode, error)) {
        return -1;
    }
    do {
        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0 || fstat(fd, st) != 0) {
        int err = errno;
        if (fd >= 0) {
            close(fd);
        }
        file_error(error, _("cannot read “%s”: %s"), path, g_strerror(err));
        return -1;
    }
    if (!check_regular(path, st->st_mode, error)) {
        close(fd);
        return -1;
    }
    return fd;
}

gboolean vireo_file_read_regular(const char *path, gsize max_size, char **contents, gsize *length,
                                 GError **error)
{
    g_autofree char *data = NULL;
    struct stat st;
    gsize capacity, got = 0;
    int fd;

    g_return_val_if_fail(path != NULL, FALSE);
    g_return_val_if_fail(max_size < G_MAXSIZE - 1, FALSE);
    g_return_val_if_fail(contents != NULL, FALSE);

    fd = vireo_file_open_regular(path, &st, error);
    if (fd < 0) {
        return FALSE;
    }
    if (st.st_size < 0 || (guint64)st.st_size > max_size) {
        g_autofree char *size = g_format_size_full((guint64)st.st_size, G_FORMAT_SIZE_IEC_UNITS);
        g_autofree char *limit = g_format_size_full(max_size, G_FORMAT_SIZE_IEC_UNITS);
        close(fd);
        /* Translators: a file, the most it may hold, then its size. */
        return file_error(error, _("“%s” is larger than %s (%s)"), path, limit, size);
    }

    /* One byte more than the size said, to see the end; a file that grows
     * while it is read may grow up to the limit and one byte past it. */
    capacity = (gsize)st.st_size + 1;
    data = g_malloc(capacity + 1);
    for (;;) {
        gssize n;

        if (got == capacity) {
            if (capacity > max_size) {
                break;
            }
            capacity = MIN(capacity * 2, max_size + 1);
            data = g_realloc(data, capacity + 1);
        }
        n = read(fd, data + got, capacity - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            int err = errno;
            close(fd);
            return file_error(error, _("cannot read “%s”: %s"), path, g_strerror(err));
        }
        if (n == 0) {
            break;
        }
        got += (gsize)n;
    }
    close(fd);
    if (got > max_size) {
        g_autofree char *limit = g_format_size_full(max_size, G_FORMAT_SIZE_IEC_UNITS);
        return file_error(error, _("“%s” is larger than %s"), path, limit);
    }
    data[got] = '\0';
    if (length != NULL) {
        *length = got;
    }
    *contents = g_steal_pointer(&data);
    return TRUE;
}

/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <sys/stat.h>

G_BEGIN_DECLS

/*
 * Reading files that a user can point anywhere (a VM's vm.conf, a disk
 * image to import): a link to /dev/zero, a named pipe or a device is
 * refused before anything is read, and opening never waits. Errors are
 * VIREO_ERROR_IO and name the file and the reason.
 */

/* Opens the regular file at `path` for reading: refused by stat() first,
 * then opened with O_NONBLOCK | O_CLOEXEC | O_NOCTTY and checked again with
 * fstat() on the descriptor, so that a file swapped in between is refused
 * too. Returns the descriptor and fills `st`, or -1. */
int vireo_file_open_regular(const char *path, struct stat *st, GError **error);

/* Reads the whole regular file at `path`, refused when it holds more than
 * `max_size` bytes (before reading when its size says so). `contents` is
 * NUL-terminated; `length` does not count the terminator. */
gboolean vireo_file_read_regular(const char *path, gsize max_size, char **contents, gsize *length,
                                 GError **error);

G_END_DECLS

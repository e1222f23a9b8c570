/*
 * file.h - whole-file reads and write-once file creation (config, genesis,
 * key files). Thread safety: no shared state.
 */
#ifndef PEL_FILE_H
#define PEL_FILE_H

#include <stddef.h>

#include "core/err.h"

/* pel_read_file - whole file into a malloc'd NUL-terminated buffer (len
 * without the NUL). @return 0, PEL_ENOTFOUND, PEL_EIO, PEL_ENOMEM, PEL_ERANGE (> max). */
int pel_read_file(const char *path, size_t max, char **out, size_t *len) PEL_MUST_USE;

/* pel_write_file_excl - create path (O_EXCL, mode) with data, fsync. */
int pel_write_file_excl(const char *path, const void *data, size_t len, int mode) PEL_MUST_USE;

#endif

/* file.c - whole-file reads and write-once file creation (file.h). */
#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int pel_read_file(const char *path, size_t max, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return errno == ENOENT ? PEL_ENOTFOUND : PEL_EIO;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    int rc = buf ? 0 : PEL_ENOMEM;
    while (!rc) {
        if (n == cap) {
            if (cap >= max) { rc = PEL_ERANGE; break; }
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) { rc = PEL_ENOMEM; break; }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) { if (ferror(f)) rc = PEL_EIO; break; }
    }
    fclose(f);
    if (!rc && n > max) rc = PEL_ERANGE;
    if (rc) { free(buf); return rc; }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return 0;
}

int pel_write_file_excl(const char *path, const void *data, size_t len, int mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) return errno == EEXIST ? PEL_EEXIST : PEL_EIO;
    const char *p = data;
    int rc = 0;
    while (len && !rc) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) rc = PEL_EIO;
        else { p += w; len -= (size_t)w; }
    }
    if (!rc && fsync(fd) != 0) rc = PEL_EIO;
    if (close(fd) != 0 && !rc) rc = PEL_EIO;
    if (rc) unlink(path);
    return rc;
}


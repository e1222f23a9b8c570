/*
 * static.c - the explorer's files over HTTP (see static.h).
 *
 * A request path is checked as text first (a whitelist of characters, no
 * dot segments), then joined to the served directory and resolved with
 * realpath(): what is opened must still lie inside the directory after
 * every symlink is followed. The opened descriptor is checked again with
 * fstat (a regular file, bounded size) before it is read.
 */
#include "rpc/static.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct pel_static {
    char root[PATH_MAX];    /* realpath of the directory, no trailing '/' */
    size_t root_len;
};

/* ---------------------------------------------------------------------
 * Finding and opening the directory
 * ------------------------------------------------------------------- */

static bool has_index(const char *dir)
{
    char p[PATH_MAX];
    struct stat st;
    if ((size_t)snprintf(p, sizeof p, "%s/index.html", dir) >= sizeof p)
        return false;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* <directory of the running executable>/../web into out. */
static bool exe_web_dir(char *out, size_t outlen)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return false;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return false;
    *slash = '\0';
    return (size_t)snprintf(out, outlen, "%s/../web", exe) < outlen;
}

static int copy_out(const char *dir, char *out, size_t outlen)
{
    if (strlen(dir) >= outlen)
        return PEL_ERANGE;
    memcpy(out, dir, strlen(dir) + 1);
    return 0;
}

int pel_static_find_dir(const char *cli, char *out, size_t outlen)
{
    char exe_dir[PATH_MAX];
    const char *env = getenv("PEL_WEB_DIR");
    if (outlen)
        out[0] = '\0';
    if (cli)
        return copy_out(cli, out, outlen);
    if (env && *env && has_index(env))
        return copy_out(env, out, outlen);
    if (exe_web_dir(exe_dir, sizeof exe_dir) && has_index(exe_dir))
        return copy_out(exe_dir, out, outlen);
    if (has_index("web"))
        return copy_out("web", out, outlen);
    return PEL_ENOTFOUND;
}

int pel_static_open(const char *dir, pel_static **out)
{
    struct stat st;
    *out = NULL;
    pel_static *s = calloc(1, sizeof *s);
    if (!s)
        return PEL_ENOMEM;
    if (!realpath(dir, s->root) || stat(s->root, &st) != 0
        || !S_ISDIR(st.st_mode)) {
        free(s);
        return PEL_ENOTFOUND;
    }
    s->root_len = strlen(s->root);
    if (s->root_len == 1)           /* "/": keep the inside test uniform */
        s->root_len = 0;
    *out = s;
    return 0;
}

void pel_static_close(pel_static *s) { free(s); }

const char *pel_static_root(const pel_static *s) { return s->root; }

/* ---------------------------------------------------------------------
 * Content types
 * ------------------------------------------------------------------- */

static const struct { const char *ext, *type; } types[] = {
    {"html", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"json", "application/json"},
    {"ico", "image/x-icon"},
    {"txt", "text/plain; charset=utf-8"},
    {"map", "application/json"},
    {"woff2", "font/woff2"},
};

const char *pel_static_content_type(const char *name)
{
    const char *base = strrchr(name, '/');
    const char *dot = strrchr(base ? base : name, '.');
    if (dot)
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcasecmp(dot + 1, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

/* ---------------------------------------------------------------------
 * Serving
 * ------------------------------------------------------------------- */

static bool safe_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'
        || c == '~';
}

/* A path the handler will look up: starts with '/', each segment
 * non-empty, of safe characters, not starting with '.' (so no "..", no
 * hidden files); only the last segment may be empty (a directory). */
static bool safe_path(const char *path)
{
    size_t n = strlen(path);
    if (n == 0 || n > PEL_STATIC_PATH_MAX || path[0] != '/')
        return false;
    for (size_t i = 1; i < n; i++) {
        bool seg_start = path[i - 1] == '/';
        if (path[i] == '/' ? seg_start : !safe_char(path[i]))
            return false;
        if (seg_start && path[i] == '.')
            return false;
    }
    return true;
}

/* An error answer: status with a one-line text body. */
static int fail(pel_buf *body, int status)
{
    static const char *const text[] = {"bad path\n", "not found\n",
                                       "file too large\n", "internal error\n"};
    const char *t = status == 400 ? text[0] : status == 404 ? text[1]
                  : status == 413 ? text[2] : text[3];
    pel_buf_free(body);
    if (pel_buf_append(body, t, strlen(t)) != 0)
        return 500;
    return status;
}

/* Reads the whole regular file fd into body. @return an HTTP status. */
static int read_fd(int fd, pel_buf *body)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return 404;
    if ((unsigned long long)st.st_size > PEL_STATIC_FILE_MAX)
        return 413;
    if (pel_buf_reserve(body, (size_t)st.st_size + 1) != 0)
        return 500;
    for (;;) {
        if (body->cap - body->len < 4096 && pel_buf_reserve(body, 4096) != 0)
            return 500;
        ssize_t k = read(fd, body->data + body->len, body->cap - body->len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return 500;
        if (k == 0)
            return 200;
        body->len += (size_t)k;
        if (body->len > PEL_STATIC_FILE_MAX)
            return 413;         /* it grew while we read */
    }
}

int pel_static_get(void *ctx, const char *path, pel_buf *body,
                   const char **content_type)
{
    const pel_static *s = ctx;
    char want[PATH_MAX], real[PATH_MAX];
    if (!safe_path(path))
        return fail(body, 400);
    const char *tail = path[strlen(path) - 1] == '/' ? "index.html" : "";
    if ((size_t)snprintf(want, sizeof want, "%s%s%s", s->root, path, tail)
        >= sizeof want)
        return fail(body, 400);
    if (!realpath(want, real))
        return fail(body, 404);
    if (strncmp(real, s->root, s->root_len) != 0 || real[s->root_len] != '/')
        return fail(body, 404);   /* a symlink leading out of the directory */
    int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return fail(body, errno == ENOENT || errno == ELOOP ? 404 : 500);
    int status = read_fd(fd, body);
    close(fd);
    if (status != 200)
        return fail(body, status);
    *content_type = pel_static_content_type(real);
    return 200;
}

/*
 * static.h - serve the explorer's files (web/) over the node's HTTP server.
 *
 * A GET route (http.h pel_http_route) mapping "/" to DIR/index.html and
 * "/x/y.js" to DIR/x/y.js. Only plain paths are served: each segment made
 * of [A-Za-z0-9_.~-], not starting with '.', no empty segment ("//"), at
 * most PEL_STATIC_PATH_MAX bytes; anything else is 400. The file's real
 * path (symlinks resolved) must lie inside DIR's real path, and it must be
 * a regular file of at most PEL_STATIC_FILE_MAX bytes; otherwise 404. A NUL
 * can never reach the handler (http.c leaves "%00" undecoded, and '%' is
 * refused here).
 *
 * Example (node_cmd.c):
 *     char dir[PATH_MAX];
 *     pel_static *s;
 *     if (pel_static_find_dir(cli_web, dir, sizeof dir) == 0
 *         && pel_static_open(dir, &s) == 0)
 *         routes[n++] = (pel_http_route){"/", pel_static_get, s};
 *     ... pel_http_stop(h); pel_static_close(s);
 *
 * Thread safety: after pel_static_open() the pel_static is read-only, so
 * pel_static_get() may run on any number of server threads at once.
 */
#ifndef PEL_STATIC_H
#define PEL_STATIC_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

#define PEL_STATIC_PATH_MAX 1024          /* request path bytes */
#define PEL_STATIC_FILE_MAX (16u << 20)   /* largest file served */

typedef struct pel_static pel_static;

/* pel_static_find_dir - choose the explorer's directory: `cli` when not
 * NULL (used as given), else the first of $PEL_WEB_DIR,
 * <directory of /proc/self/exe>/../web and ./web that holds an index.html.
 * @param[in]  cli  the --web option, or NULL
 * @param[out] out  the directory (NUL-terminated); "" on failure
 * @return 0, PEL_ENOTFOUND (no candidate has an index.html; `cli` is not
 *         checked), PEL_ERANGE (a path longer than outlen). */
PEL_MUST_USE int pel_static_find_dir(const char *cli, char *out, size_t outlen)
    PEL_NONNULL(2);

/* pel_static_open - serve the files under `dir` (resolved once, now).
 * @param[out] out  the handle, owned by the caller (pel_static_close);
 *                  NULL on failure
 * @return 0, PEL_ENOTFOUND (dir missing or not a directory), PEL_ENOMEM. */
PEL_MUST_USE int pel_static_open(const char *dir, pel_static **out)
    PEL_NONNULL(1, 2);

/* pel_static_close - free the handle; NULL is fine. Only after the server
 * using it has stopped. */
void pel_static_close(pel_static *s);

/* pel_static_root - the resolved directory served (valid until close). */
const char *pel_static_root(const pel_static *s) PEL_NONNULL(1);

/* pel_static_get - the route handler (pel_http_get_fn); ctx is the
 * pel_static. @return 200 (body = the file, content_type by extension),
 * 400 (a path refused above), 404 (missing, outside, not a regular file),
 * 413 (file over PEL_STATIC_FILE_MAX), 500 (read error, out of memory). */
int pel_static_get(void *ctx, const char *path, pel_buf *body,
                   const char **content_type);

/* pel_static_content_type - the Content-Type for a file name, by its
 * extension (html, js, mjs, css, svg, png, json, ico, txt, map, woff2;
 * otherwise application/octet-stream). Returns a static string. */
const char *pel_static_content_type(const char *name) PEL_NONNULL(1);

#endif

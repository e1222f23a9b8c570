/* test_static.c - the explorer's file route (rpc/static.h) and the
 * Prometheus text of /metrics (rpc/metrics.h), served by a real pel_http
 * over loopback: content types, 404s, HEAD, every path-escape attempt
 * (dot segments raw and percent-encoded, %00, hidden files, empty
 * segments, symlinks out of the directory), the RPC still answering at
 * POST /, and /metrics parsed line by line as the exposition format. */
#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "rpc/http.h"
#include "rpc/metrics.h"
#include "rpc/static.h"
#include "test.h"

static pel_http *srv;
static pel_static *web;
static char root[256], outside[300];

static const char index_html[] = "<!doctype html><title>t</title>\n";

/* ---------------------------------------------------------------------
 * Fixture: a web directory, a file beside it, symlinks in and out
 * ------------------------------------------------------------------- */

static void put_file(const char *rel, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    FILE *f = fopen(p, "w");
    if (f) { fputs(text, f); fclose(f); }
}

static int make_fixture(void)
{
    char p[512], base[] = "/tmp/pel-static-XXXXXX";
    if (!mkdtemp(base)) return -1;
    snprintf(root, sizeof root, "%s/web", base);
    snprintf(outside, sizeof outside, "%s/secret.txt", base);
    if (mkdir(root, 0755) != 0) return -1;
    FILE *f = fopen(outside, "w");
    if (!f) return -1;
    fputs("secret\n", f);
    fclose(f);
    put_file("index.html", index_html);
    put_file("app.js", "export const x = 1;\n");
    put_file("style.css", "body{}\n");
    put_file("logo.svg", "<svg/>\n");
    put_file("img.png", "\x89PNG\r\n");
    put_file("data.json", "{}\n");
    put_file("notes.unknownext", "?\n");
    put_file(".hidden", "hidden\n");
    snprintf(p, sizeof p, "%s/sub", root);
    if (mkdir(p, 0755) != 0) return -1;
    snprintf(p, sizeof p, "%s/empty", root);
    if (mkdir(p, 0755) != 0) return -1;
    put_file("sub/index.html", "sub index\n");
    snprintf(p, sizeof p, "%s/out.html", root);
    if (symlink(outside, p) != 0) return -1;
    snprintf(p, sizeof p, "%s/in.html", root);
    return symlink("index.html", p);
}

static void remove_fixture(void)
{
    char cmd[600];
    char *slash = strrchr(root, '/');
    if (!slash) return;
    *slash = '\0';                       /* the mkdtemp directory */
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) fprintf(stderr, "note: cannot remove %s\n", root);
}

/* ---------------------------------------------------------------------
 * The server: files at /, a fixed metrics sample at /metrics, echo RPC
 * ------------------------------------------------------------------- */

static const pel_metrics_sample sample = {
    .chain_id = "odd \"chain\"\\id\nx", .engine = "blockstm", .threads = 2,
    .height = 12, .history_size = 3400, .head_timestamp_ms = 1764100000123,
    .blocks = 11, .txs = 3399, .tps_recent = 56.5, .last_exec_us = 1200,
    .last_commit_us = 3100, .mempool_txs = 7, .mempool_bytes = 1500,
    .mempool_senders = 3, .failed = 0,
    .stats = { .aborts = 42, .lat_count = { [1] = 1, [4] = 2, [PEL_NODE_LAT_BUCKETS - 1] = 1 },
               .lat_sum_us = 3500000 },
};

static int r_metrics(void *ctx, const char *path, pel_buf *body, const char **ctype)
{
    (void)ctx, (void)path;
    *ctype = PEL_METRICS_CONTENT_TYPE;
    return pel_metrics_format(&sample, body) == 0 ? 200 : 500;
}

static int m_echo(void *ctx, const cJSON *params, cJSON **result, pel_rpc_error *err)
{
    (void)ctx, (void)err;
    *result = params ? cJSON_Duplicate(params, 1) : NULL;
    return 0;
}

static int start(void)
{
    static const pel_rpc_method methods[] = {{"echo", m_echo}};
    pel_http_route routes[] = {{"/", pel_static_get, NULL}, {"/metrics", r_metrics, NULL}};
    pel_http_opts o = pel_http_defaults();
    if (pel_static_open(root, &web) != 0) return -1;
    routes[0].ctx = web;
    o.port = 0;
    o.routes = routes;
    o.n_routes = 2;
    return pel_http_start(&o, methods, 1, NULL, &srv);
}

/* ---------------------------------------------------------------------
 * Raw HTTP, so that paths reach the server exactly as written
 * ------------------------------------------------------------------- */

typedef struct resp {
    int status;
    char *text;          /* the whole response, NUL-terminated */
    const char *body;
    size_t body_len;
} resp;

static int request(const char *method, const char *path, const char *body, resp *r)
{
    char req[2048];
    struct sockaddr_in a = {0};
    struct timeval tv = {10, 0};
    size_t len = 0, cap = 1 << 16;
    memset(r, 0, sizeof *r);
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     method, path, body ? strlen(body) : 0, body ? body : "");
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    a.sin_family = AF_INET;
    a.sin_port = htons(pel_http_port(srv));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0
        || send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) { close(fd); return -1; }
    r->text = malloc(cap);
    for (ssize_t k; r->text && (k = recv(fd, r->text + len, cap - len - 1, 0)) > 0;) {
        len += (size_t)k;
        if (cap - len < 4096) r->text = realloc(r->text, cap *= 2);
    }
    close(fd);
    if (!r->text) return -1;
    r->text[len] = '\0';
    char *sep = strstr(r->text, "\r\n\r\n");
    if (sscanf(r->text, "HTTP/1.1 %d", &r->status) != 1 || !sep) return -1;
    r->body = sep + 4;
    r->body_len = len - (size_t)(r->body - r->text);
    return 0;
}

static bool has_header(const resp *r, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = strstr(r->text, "\r\n"); p && p < r->body; p = strstr(p + 2, "\r\n"))
        if (strncasecmp(p + 2, line, n) == 0 && p[2 + n] == '\r') return true;
    return false;
}

/* GET path: status, and (when ctype) the Content-Type header. */
static void expect(const char *path, int status, const char *ctype)
{
    resp r;
    char hdr[128];
    CHECK_EQ_INT(request("GET", path, NULL, &r), 0);
    if (r.status != status) fprintf(stderr, "  (GET %s)\n", path);
    CHECK_EQ_INT(r.status, status);
    if (ctype) {
        snprintf(hdr, sizeof hdr, "Content-Type: %s", ctype);
        CHECK(has_header(&r, hdr));
    }
    free(r.text);
}

/* ---------------------------------------------------------------------
 * Tests
 * ------------------------------------------------------------------- */

static void serves_files_with_types(void)
{
    resp r;
    CHECK_EQ_INT(request("GET", "/", NULL, &r), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK(has_header(&r, "Content-Type: text/html; charset=utf-8"));
    CHECK(r.body_len == strlen(index_html) && memcmp(r.body, index_html, r.body_len) == 0);
    free(r.text);
    expect("/index.html", 200, "text/html; charset=utf-8");
    expect("/app.js", 200, "text/javascript; charset=utf-8");
    expect("/style.css", 200, "text/css; charset=utf-8");
    expect("/logo.svg", 200, "image/svg+xml");
    expect("/img.png", 200, "image/png");
    expect("/data.json", 200, "application/json");
    expect("/notes.unknownext", 200, "application/octet-stream");
    expect("/app.js?v=2", 200, "text/javascript; charset=utf-8");   /* query ignored */
    expect("/sub/", 200, "text/html; charset=utf-8");               /* a directory's index */
    expect("/in.html", 200, "text/html; charset=utf-8");            /* a symlink inside */
    CHECK(strcmp(pel_static_content_type("A.HTML"), "text/html; charset=utf-8") == 0);
    CHECK(strcmp(pel_static_content_type("dir.js/file"), "application/octet-stream") == 0);
    CHECK(strcmp(pel_static_content_type("noext"), "application/octet-stream") == 0);
}

static void missing_is_404(void)
{
    expect("/missing.js", 404, "text/plain; charset=utf-8");
    expect("/sub/missing.html", 404, NULL);
    expect("/sub", 404, NULL);               /* a directory is not a file */
    expect("/empty/", 404, NULL);            /* a directory without index.html */
    expect("/app.js/", 404, NULL);
}

static void escapes_refused(void)
{
    expect("/../secret.txt", 400, NULL);
    expect("/sub/../../secret.txt", 400, NULL);
    expect("/sub/../index.html", 400, NULL);     /* no dot segments at all */
    expect("/%2e%2e/secret.txt", 400, NULL);
    expect("/%2E%2E%2Fsecret.txt", 400, NULL);
    expect("/./index.html", 400, NULL);
    expect("/.hidden", 400, NULL);
    expect("//etc/passwd", 400, NULL);
    expect("/sub//index.html", 400, NULL);
    expect("/index.html%00.png", 400, NULL);     /* %00 is never decoded */
    expect("/%00", 400, NULL);
    expect("/a%5cb", 400, NULL);                 /* backslash */
    expect("/out.html", 404, NULL);              /* symlink leading out */
    char longp[PEL_STATIC_PATH_MAX + 8];
    longp[0] = '/';
    memset(longp + 1, 'a', sizeof longp - 2);
    longp[sizeof longp - 1] = '\0';
    expect(longp, 400, NULL);
}

static void head_and_methods(void)
{
    resp r;
    char cl[64];
    CHECK_EQ_INT(request("HEAD", "/app.js", NULL, &r), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_INT(r.body_len, 0);
    snprintf(cl, sizeof cl, "Content-Length: %zu", strlen("export const x = 1;\n"));
    CHECK(has_header(&r, cl));
    CHECK(has_header(&r, "Content-Type: text/javascript; charset=utf-8"));
    free(r.text);
    CHECK_EQ_INT(request("POST", "/", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\",\"params\":[7]}", &r), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK(strstr(r.body, "\"result\":[7]") != NULL);   /* the RPC still answers at / */
    free(r.text);
    CHECK_EQ_INT(request("POST", "/index.html", "{}", &r), 0);
    CHECK_EQ_INT(r.status, 405);
    CHECK(has_header(&r, "Allow: GET, HEAD, OPTIONS"));
    free(r.text);
    expect("/health", 200, NULL);                       /* built in, not a file */
}

static void find_and_open(void)
{
    char dir[512];
    pel_static *s = NULL;
    CHECK_EQ_INT(pel_static_find_dir("/given/as/is", dir, sizeof dir), 0);
    CHECK(strcmp(dir, "/given/as/is") == 0);
    CHECK_EQ_INT(pel_static_find_dir("/given", dir, 4), PEL_ERANGE);
    setenv("PEL_WEB_DIR", root, 1);
    CHECK_EQ_INT(pel_static_find_dir(NULL, dir, sizeof dir), 0);
    CHECK(strcmp(dir, root) == 0);
    setenv("PEL_WEB_DIR", "/nonexistent-pel-web", 1);    /* no index.html: skipped */
    int rc = pel_static_find_dir(NULL, dir, sizeof dir);
    CHECK(rc == 0 ? strcmp(dir, "/nonexistent-pel-web") != 0 : rc == PEL_ENOTFOUND);
    unsetenv("PEL_WEB_DIR");
    CHECK_EQ_INT(pel_static_open("/nonexistent-pel-web", &s), PEL_ENOTFOUND);
    CHECK(s == NULL);
    CHECK_EQ_INT(pel_static_open(outside, &s), PEL_ENOTFOUND);   /* a file */
}

/* One exposition line: a comment (# HELP name text / # TYPE name kind) or
 * a sample: name, optional {labels}, a space, a float. Returns the kind
 * of line ('H', 'T', 'S') or 0 when malformed; the metric name in name. */
static int parse_line(const char *l, char *name, size_t cap)
{
    int kind = 'S';
    if (!strncmp(l, "# HELP ", 7) || !strncmp(l, "# TYPE ", 7)) { kind = l[2]; l += 7; }
    size_t n = 0;
    while (isalnum((unsigned char)l[n]) || l[n] == '_' || l[n] == ':') n++;
    if (n == 0 || n >= cap || isdigit((unsigned char)l[0])) return 0;
    memcpy(name, l, n);
    name[n] = '\0';
    l += n;
    if (kind == 'T')
        return !strcmp(l, " gauge") || !strcmp(l, " counter") || !strcmp(l, " histogram") ? 'T' : 0;
    if (kind == 'H') return l[0] == ' ' && l[1] ? 'H' : 0;
    if (*l == '{') {
        for (l++; *l && *l != '}'; l++)
            if (*l == '\\') { if (l[1] != '\\' && l[1] != '"' && l[1] != 'n') return 0; l++; }
        if (*l++ != '}') return 0;
    }
    if (*l++ != ' ') return 0;
    char *end;
    strtod(l, &end);
    return end != l && *end == '\0' ? 'S' : 0;
}

static void metrics_text(void)
{
    resp r;
    CHECK_EQ_INT(request("GET", "/metrics", NULL, &r), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK(has_header(&r, "Content-Type: text/plain; version=0.0.4; charset=utf-8"));
    CHECK(r.body_len > 0 && r.body[r.body_len - 1] == '\n');
    CHECK(strstr(r.body, "pel_chain_height 12\n") != NULL);
    CHECK(strstr(r.body, "pel_transactions_committed_total 3399\n") != NULL);
    CHECK(strstr(r.body, "pel_block_commit_seconds 0.0031\n") != NULL);
    CHECK(strstr(r.body, "pel_transactions_per_second 56.5\n") != NULL);
    CHECK(strstr(r.body, "pel_mempool_transactions 7\n") != NULL);
    CHECK(strstr(r.body, "# TYPE pel_blocks_produced_total counter\n") != NULL);
    CHECK(strstr(r.body, "chain_id=\"odd \\\"chain\\\"\\\\id\\nx\"") != NULL);   /* escaped */
    CHECK(strstr(r.body, "pel_engine_aborts_total 42\n") != NULL);
    /* the histogram: cumulative buckets, +Inf = count */
    CHECK(strstr(r.body, "# TYPE pel_block_latency_seconds histogram\n") != NULL);
    CHECK(strstr(r.body, "pel_block_latency_seconds_bucket{le=\"0.001\"} 0\n") != NULL);
    CHECK(strstr(r.body, "pel_block_latency_seconds_bucket{le=\"0.0025\"} 1\n") != NULL);
    CHECK(strstr(r.body, "pel_block_latency_seconds_bucket{le=\"0.025\"} 3\n") != NULL);
    CHECK(strstr(r.body, "pel_block_latency_seconds_bucket{le=\"2.5\"} 3\n") != NULL);
    CHECK(strstr(r.body, "pel_block_latency_seconds_bucket{le=\"+Inf\"} 4\n") != NULL);
    CHECK(strstr(r.body, "pel_block_latency_seconds_sum 3.500000\n") != NULL);
    CHECK(strstr(r.body, "pel_block_latency_seconds_count 4\n") != NULL);
    int lines = 0, bad = 0, samples = 0, helps = 0, types = 0, histogram = 0;
    char typed[64] = "", name[64];
    for (char *l = (char *)r.body, *nl; (nl = strchr(l, '\n')); l = nl + 1) {
        *nl = '\0';                       /* the checks above are done */
        int k = parse_line(l, name, sizeof name);
        lines++;
        if (!k) { bad++; fprintf(stderr, "  bad metrics line: %s\n", l); continue; }
        if (k == 'H') helps++;
        if (k == 'T') {
            types++;
            snprintf(typed, sizeof typed, "%s", name);
            histogram = strstr(l, " histogram") != NULL;
        }
        if (k == 'S') {                   /* a sample of the metric TYPE named last */
            size_t n = strlen(typed);
            samples++;
            if (strncmp(name, typed, n) != 0) bad++;
            else if (name[n] && !(histogram && (!strcmp(name + n, "_bucket") || !strcmp(name + n, "_sum")
                                                || !strcmp(name + n, "_count"))))
                bad++;
        }
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(types >= 12 && helps == types && lines == samples + helps + types);
    free(r.text);
}

int main(void)
{
    if (make_fixture() != 0 || start() != 0) {
        fprintf(stderr, "cannot set up the fixture or server\n");
        return 1;
    }
    RUN(serves_files_with_types);
    RUN(missing_is_404);
    RUN(escapes_refused);
    RUN(head_and_methods);
    RUN(find_and_open);
    RUN(metrics_text);
    pel_http_stop(srv);
    pel_static_close(web);
    remove_fixture();
    return TEST_END("test_static");
}

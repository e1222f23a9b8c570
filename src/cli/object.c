/*
 * object.c - `pel object`: register research objects and their versions,
 * manage maintainers, and query the registry (modules/registry.h). Files
 * are hashed here, streaming, and never leave the machine: only their
 * SHA-256 digests go into the transaction.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#include "cli/cli.h"
#include "cli/client.h"
#include "core/hash.h"
#include "core/hex.h"
#include "modules/registry.h"
#include "modules/spdx.h"

#define OBJ_TIMEOUT_MS 30000
#define HASH_CHUNK (1u << 20)
#define PROGRESS_MIN (64ull << 20)    /* show progress for files from 64 MiB */

static void object_usage(FILE *f)
{
    fprintf(f,
        "usage: pel object register FILE... --kind KIND --title TITLE --license SPDX [options]\n"
        "       pel object version ID FILE... [--title T] [--license L] [options]\n"
        "       pel object maintainer add|remove ID ADDRESS [--key FILE] [--wait]\n"
        "       pel object show ID[@vN] [--json]\n"
        "       pel object first FILE | --sha256 HEX [--json]\n"
        "       pel object upstream ID[@vN] [--depth N] [--json]     what it is built on\n"
        "       pel object downstream ID[@vN] [--depth N] [--json]   what builds on it\n"
        "       pel object contributions ADDRESS [--after ID@vN] [--limit N] [--json]\n"
        "       pel object proof ID[@vN] [--out FILE]   prior-art bundle, checked offline by\n"
        "                              pel verify FILE --key VERIFIER_KEY --file ORIGINAL\n"
        "\n"
        "register/version options:\n"
        "  --kind K            hypothesis protocol dataset code analysis preprint article\n"
        "                      review software other (version: the object's own)\n"
        "  --sha256 HEX        a content digest computed elsewhere (repeatable)\n"
        "  --uri U             doi:10.…, https://…, http://…, ipfs://… (repeatable)\n"
        "  --contributor A:R,R an address and its CRediT roles, e.g.\n"
        "                      pel1…:conceptualization,writing-original-draft (repeatable)\n"
        "  --link REL:ID[@vN]  cites uses-data derived-from replicates reviews supersedes\n"
        "  --key FILE          the signing key (default pel.key)\n"
        "  --wait              wait until committed and print the receipt\n"
        "Files are hashed locally (SHA-256, streaming); only digests are sent.\n"
        "Common: --rpc URL (or $PEL_RPC), --json.\n");
}

/* ---- options ---- */

typedef struct obj_opts {
    const char *files[PEL_OBJ_DIGESTS_MAX];
    int n_files;
    const char *kind, *title, *license, *key, *rpc, *out;
    const char *uris[PEL_OBJ_URIS_MAX]; int n_uris;
    const char *contrib[PEL_OBJ_CONTRIB_MAX]; int n_contrib;
    const char *links[PEL_OBJ_LINKS_MAX]; int n_links;
    const char *sha[PEL_OBJ_DIGESTS_MAX]; int n_sha;
    const char *id;
    unsigned depth;
    int wait, json;
} obj_opts;

/* parse_opts - every option; operands go to files (after the id when
 * want_id). @return 0, 1 (help printed), 2 (usage error). */
static int parse_opts(int argc, char **argv, int want_id, obj_opts *o)
{
    const char *pos[PEL_OBJ_DIGESTS_MAX + 1], *depth = NULL;
    int np;
    memset(o, 0, sizeof *o);
    const pel_cli_opt opts[] = {
        { "--wait", .flag = &o->wait }, { "--json", .flag = &o->json },
        { "--kind", .val = &o->kind }, { "--title", .val = &o->title },
        { "--license", .val = &o->license }, { "--key", .val = &o->key },
        { "--out", .val = &o->out }, { "--rpc", .val = &o->rpc }, { "--depth", .val = &depth },
        { "--uri", .val = o->uris, .n = &o->n_uris, .max = PEL_OBJ_URIS_MAX, .what = "URIs" },
        { "--contributor", .val = o->contrib, .n = &o->n_contrib, .max = PEL_OBJ_CONTRIB_MAX,
          .what = "contributors" },
        { "--link", .val = o->links, .n = &o->n_links, .max = PEL_OBJ_LINKS_MAX, .what = "links" },
        { "--sha256", .val = o->sha, .n = &o->n_sha, .max = PEL_OBJ_DIGESTS_MAX, .what = "digests" },
    };
    const pel_cli_cmd cmd = { "pel object", object_usage, opts, sizeof opts / sizeof opts[0] };
    int rc = pel_cli_parse(&cmd, argc, argv, pos, PEL_OBJ_DIGESTS_MAX + (want_id != 0), &np);
    if (rc) return rc;
    unsigned long long d = 3;
    if (depth && pel_cli_u64("--depth", depth, 1, 64, &d)) return 2;
    o->depth = (unsigned)d;
    int first = want_id && np > 0;
    if (first) o->id = pos[0];
    o->n_files = np - first;
    memcpy(o->files, pos + first, (size_t)o->n_files * sizeof *pos);
    return 0;
}

/* ---- hashing files ---- */

int pel_cli_hash_file(const char *path, uint8_t out[32])
{
    struct stat st;
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "pel object: cannot open %s: %s\n", path, strerror(errno)); return -1; }
    uint64_t size = fstat(fileno(f), &st) == 0 ? (uint64_t)st.st_size : 0, done = 0;
    int show = size >= PROGRESS_MIN && isatty(2);
    unsigned char *buf = malloc(HASH_CHUNK);
    pel_sha256_ctx c;
    size_t n;
    if (!buf) { fclose(f); return -1; }
    pel_sha256_init(&c);
    while ((n = fread(buf, 1, HASH_CHUNK, f)) > 0) {
        pel_sha256_update(&c, buf, n);
        done += n;
        if (show && (done % (64u * HASH_CHUNK) == 0 || done == size))
            fprintf(stderr, "\rhashing %s: %3.0f%%", path, 100.0 * (double)done / (double)size);
    }
    if (show) fprintf(stderr, "\n");
    int rc = ferror(f) ? -1 : 0;
    if (rc) fprintf(stderr, "pel object: cannot read %s: %s\n", path, strerror(errno));
    pel_sha256_final(&c, out);
    free(buf);
    fclose(f);
    return rc;
}

static int parse_sha(const char *s, uint8_t out[32])
{
    size_t n;
    if (!strncmp(s, "1220", 4) && strlen(s) == 68) s += 4;    /* multihash form */
    if (strlen(s) != 64 || pel_hex_decode(s, 64, out, 32, &n)) {
        fprintf(stderr, "pel object: not a SHA-256 digest (64 hex, or multihash 1220…): '%s'\n", s);
        return -1;
    }
    return 0;
}

/* ---- building the fields ---- */

static int parse_contrib(const char *s, pel_obj_contrib *c)
{
    char addr[PEL_ADDR_STR_LEN + 1], roles[512];
    const char *colon = strchr(s, ':');
    if (!colon || (size_t)(colon - s) > PEL_ADDR_STR_LEN || strlen(colon + 1) >= sizeof roles) {
        fprintf(stderr, "pel object: --contributor wants ADDRESS:role,role, got '%s'\n", s);
        return -1;
    }
    memcpy(addr, s, (size_t)(colon - s));
    addr[colon - s] = 0;
    if (pel_cli_parse_addr("--contributor", addr, &c->addr)) return -1;
    snprintf(roles, sizeof roles, "%s", colon + 1);
    c->roles = 0;
    for (char *r = strtok(roles, ","); r; r = strtok(NULL, ",")) {
        int k = pel_credit_role_parse(r);
        if (k < 0) {
            fprintf(stderr, "pel object: '%s' is not a CRediT role; the roles are:", r);
            for (int i = 0; i < PEL_CREDIT_ROLES; i++) fprintf(stderr, " %s", pel_credit_roles[i]);
            fprintf(stderr, "\n");
            return -1;
        }
        c->roles |= (uint16_t)(1u << k);
    }
    if (!c->roles) { fprintf(stderr, "pel object: --contributor %s names no role\n", s); return -1; }
    return 0;
}

static int parse_link(const char *s, pel_obj_link *l)
{
    char rel[32];
    const char *colon = strchr(s, ':');
    int r;
    if (!colon || (size_t)(colon - s) >= sizeof rel) goto bad;
    memcpy(rel, s, (size_t)(colon - s));
    rel[colon - s] = 0;
    if ((r = pel_obj_relation_parse(rel)) < 0) goto bad;
    l->relation = (uint8_t)r;
    if (pel_obj_id_parse(colon + 1, &l->target, &l->version) == 0) return 0;
bad:
    fprintf(stderr, "pel object: --link wants RELATION:pel:obj:…[@vN] with RELATION one of cites, "
            "uses-data, derived-from, replicates, reviews, supersedes; got '%s'\n", s);
    return -1;
}

/* fill - the fields from the options (digests into dg). @return 0 or -1. */
static int fill(const obj_opts *o, pel_obj_fields *f, uint8_t (*dg)[32])
{
    memset(f, 0, sizeof *f);
    int k = pel_obj_kind_parse(o->kind ? o->kind : "");
    if (k < 0) { fprintf(stderr, "pel object: --kind must be one of hypothesis, protocol, dataset, code, "
                         "analysis, preprint, article, review, software, other\n"); return -1; }
    f->kind = (uint8_t)k;
    if (!o->title || !*o->title) { fprintf(stderr, "pel object: --title is required\n"); return -1; }
    f->title = (const uint8_t *)o->title;
    f->title_len = (uint32_t)strlen(o->title);
    const pel_spdx_id *lic = o->license ? pel_spdx_canonical(o->license) : NULL;
    if (!lic) { fprintf(stderr, "pel object: --license must be an SPDX identifier (spdx.org/licenses), got '%s'\n",
                        o->license ? o->license : ""); return -1; }
    f->license = (const uint8_t *)lic->id;
    f->license_len = (uint32_t)strlen(lic->id);
    if (o->n_files + o->n_sha > PEL_OBJ_DIGESTS_MAX || o->n_files + o->n_sha == 0) {
        fprintf(stderr, "pel object: give 1 to %d files or --sha256 digests\n", PEL_OBJ_DIGESTS_MAX);
        return -1;
    }
    for (int i = 0; i < o->n_files; i++) if (pel_cli_hash_file(o->files[i], dg[f->n_digests++])) return -1;
    for (int i = 0; i < o->n_sha; i++) if (parse_sha(o->sha[i], dg[f->n_digests++])) return -1;
    f->digests = &dg[0][0];
    for (int i = 0; i < o->n_uris; i++) {
        f->uri[i] = (const uint8_t *)o->uris[i];
        f->uri_len[i] = (uint32_t)strlen(o->uris[i]);
    }
    f->n_uris = (uint32_t)o->n_uris;
    for (int i = 0; i < o->n_contrib; i++) if (parse_contrib(o->contrib[i], &f->contrib[f->n_contrib++])) return -1;
    for (int i = 0; i < o->n_links; i++) if (parse_link(o->links[i], &f->links[f->n_links++])) return -1;
    pel_obj_fields_sort(f);
    return 0;
}

/* encode the body and check it as the node will (clear messages before
 * anything is signed). */
static int make_body(const obj_opts *o, const pel_obj_id *id, uint16_t type, pel_buf *body,
                     uint8_t (*dg)[32])
{
    pel_obj_fields f;
    const char *why = NULL;
    if (fill(o, &f, dg)) return -1;
    if (id && pel_buf_append(body, id->b, PEL_OBJ_ID_LEN)) return -1;
    if (pel_obj_fields_encode(&f, body)) { fprintf(stderr, "pel object: cannot encode the object\n"); return -1; }
    int rc = pel_registry_module.check(type, body->data, (uint32_t)body->len, &why);
    if (rc) { fprintf(stderr, "pel object: %s\n", why ? why : pel_strerror(rc)); return -1; }
    if (!o->json) {
        for (uint32_t i = 0; i < f.n_digests; i++) {
            char hex[65];
            pel_hex_encode(f.digests + 32 * i, 32, hex);
            printf("%-13s %s\n", "sha256", hex);
        }
        fflush(stdout);
    }
    return 0;
}

/* ---- talking to the node ---- */

static int with_node(const char *rpc, pel_rpc_client **c)
{
    return pel_cli_connect(pel_cli_rpc_url(rpc), OBJ_TIMEOUT_MS, c) ? -1 : 0;
}

static int submit(const obj_opts *o, uint16_t type, const pel_buf *body)
{
    /* state costs: a few records of about the body's size, links, digests */
    uint64_t extra = 2000 + 4 * (uint64_t)body->len + 200 * (PEL_OBJ_LINKS_MAX + PEL_OBJ_DIGESTS_MAX);
    return pel_cli_send_body("pel object", &pel_registry_module, type, body, o->key, o->rpc, extra,
                             o->wait, o->json, NULL);
}

static int parse_id_arg(const char *s, pel_obj_id *id, uint32_t *v)
{
    if (s && pel_obj_id_parse(s, id, v) == 0) return 0;
    fprintf(stderr, "pel object: not an object id (pel:obj:<32 hex>[@vN]): '%s'\n", s ? s : "");
    return -1;
}

static int obj_register(int argc, char **argv)
{
    obj_opts o;
    pel_buf body;
    uint8_t dg[PEL_OBJ_DIGESTS_MAX][32];
    int rc = parse_opts(argc, argv, 0, &o);
    if (rc) return rc == 1 ? 0 : 2;
    pel_buf_init(&body);
    rc = make_body(&o, NULL, PEL_TX_OBJ_REGISTER, &body, dg) ? 2 : submit(&o, PEL_TX_OBJ_REGISTER, &body);
    pel_buf_free(&body);
    return rc;
}

/* The object's current kind and title, for a version that does not repeat them. */
static int current(const obj_opts *o, char *kind, size_t kl, char **title, char **license)
{
    pel_rpc_client *c;
    cJSON *p = cJSON_CreateObject(), *r = NULL;
    int rc = -1;
    cJSON_AddStringToObject(p, "id", o->id);
    if (with_node(o->rpc, &c) == 0) {
        if (pel_cli_call(c, "object", p, &r, "object") == 0) {
            const cJSON *k = cJSON_GetObjectItemCaseSensitive(r, "kind");
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "title");
            const cJSON *l = cJSON_GetObjectItemCaseSensitive(r, "license");
            if (cJSON_IsString(k) && cJSON_IsString(t) && cJSON_IsString(l)) {
                snprintf(kind, kl, "%s", k->valuestring);
                *title = strdup(t->valuestring);
                *license = strdup(l->valuestring);
                rc = *title && *license ? 0 : -1;
            }
            cJSON_Delete(r);
        }
        pel_rpc_client_free(c);
    }
    cJSON_Delete(p);
    return rc;
}

static int obj_version(int argc, char **argv)
{
    obj_opts o;
    pel_obj_id id;
    uint32_t v = 0;   /* parse_id_arg leaves it unset on failure */
    pel_buf body;
    uint8_t dg[PEL_OBJ_DIGESTS_MAX][32];
    char kind[32];
    char *title = NULL, *license = NULL;
    int rc = parse_opts(argc, argv, 1, &o);
    if (rc) return rc == 1 ? 0 : 2;
    if (parse_id_arg(o.id, &id, &v) || v) { if (v) fprintf(stderr, "pel object: give the object's id without @v\n"); return 2; }
    if ((!o.kind || !o.title || !o.license) && current(&o, kind, sizeof kind, &title, &license)) return 1;
    if (!o.kind) o.kind = kind;
    if (!o.title) o.title = title;
    if (!o.license) o.license = license;
    pel_buf_init(&body);
    rc = make_body(&o, &id, PEL_TX_OBJ_VERSION, &body, dg) ? 2 : submit(&o, PEL_TX_OBJ_VERSION, &body);
    pel_buf_free(&body);
    free(title);
    free(license);
    return rc;
}

static int obj_maintainer(int argc, char **argv)
{
    obj_opts o;
    pel_obj_id id;
    pel_addr who;
    uint32_t v;
    uint8_t b[PEL_OBJ_ID_LEN + 1 + PEL_ADDR_LEN];
    if (argc < 1 || (strcmp(argv[0], "add") && strcmp(argv[0], "remove"))) {
        fprintf(stderr, "pel object maintainer: add or remove?\n");
        return 2;
    }
    int rc = parse_opts(argc - 1, argv + 1, 1, &o);
    if (rc) return rc == 1 ? 0 : 2;
    if (parse_id_arg(o.id, &id, &v) || o.n_files != 1) {
        fprintf(stderr, "usage: pel object maintainer add|remove ID ADDRESS [--key FILE]\n");
        return 2;
    }
    if (pel_cli_parse_addr("ADDRESS", o.files[0], &who)) return 2;
    memcpy(b, id.b, PEL_OBJ_ID_LEN);
    b[PEL_OBJ_ID_LEN] = !strcmp(argv[0], "add") ? 1 : 2;
    memcpy(b + PEL_OBJ_ID_LEN + 1, who.b, PEL_ADDR_LEN);
    pel_buf body = { b, sizeof b, sizeof b };
    return submit(&o, PEL_TX_OBJ_MAINTAINER, &body);
}

/* ---- queries ---- */

static void print_list(const cJSON *arr, const char *label, const char *field)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        const cJSON *v = field ? cJSON_GetObjectItemCaseSensitive(it, field) : it;
        if (cJSON_IsString(v)) printf("%-13s %s\n", label, v->valuestring);
    }
}

static void print_object(const cJSON *r)
{
    const cJSON *it;
    const char *keys[] = { "id", "version", "versions", "kind", "title", "license", "creator",
                           "registrant", "height", "tx", "cited_by" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, keys[i]);
        if (cJSON_IsString(v)) printf("%-13s %s\n", keys[i], v->valuestring);
        else if (cJSON_IsNumber(v)) printf("%-13s %.0f\n", keys[i], v->valuedouble);
    }
    print_list(cJSON_GetObjectItemCaseSensitive(r, "maintainers"), "maintainer", NULL);
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r, "digests"))
        printf("%-13s %s%s\n", "sha256", cJSON_GetObjectItemCaseSensitive(it, "sha256")->valuestring,
               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "first")) ? " (first registration)" : " (registered earlier elsewhere)");
    print_list(cJSON_GetObjectItemCaseSensitive(r, "uris"), "uri", NULL);
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r, "contributors")) {
        const cJSON *role;
        printf("%-13s %s", "contributor", cJSON_GetObjectItemCaseSensitive(it, "address")->valuestring);
        cJSON_ArrayForEach(role, cJSON_GetObjectItemCaseSensitive(it, "roles")) printf(" %s", role->valuestring);
        printf("\n");
    }
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r, "links")) {
        double v = cJSON_GetObjectItemCaseSensitive(it, "version")->valuedouble;
        printf("%-13s %s %s", "link", cJSON_GetObjectItemCaseSensitive(it, "relation")->valuestring,
               cJSON_GetObjectItemCaseSensitive(it, "target")->valuestring);
        if (v > 0) printf("@v%.0f", v);
        printf("\n");
    }
}

static void print_first(const cJSON *r)
{
    const char *keys[] = { "sha256", "id", "version", "height", "registrant" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, keys[i]);
        if (cJSON_IsString(v)) printf("%-11s %s\n", keys[i], v->valuestring);
        else if (cJSON_IsNumber(v)) printf("%-11s %.0f\n", keys[i], v->valuedouble);
    }
    const cJSON *g, *regs = cJSON_GetObjectItemCaseSensitive(r, "registrations");
    if (cJSON_GetArraySize(regs) > 1) printf("registered %d times:\n", cJSON_GetArraySize(regs));
    cJSON_ArrayForEach(g, regs) {
        if (cJSON_GetArraySize(regs) < 2) break;
        printf("  %s@v%.0f at height %.0f\n", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(g, "id")),
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(g, "version")),
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(g, "height")));
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "truncated"))) printf("  (more)\n");
}

static void print_upstream(const cJSON *r)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(r, "edges")) {
        int depth = (int)cJSON_GetObjectItemCaseSensitive(e, "depth")->valuedouble;
        double tv = cJSON_GetObjectItemCaseSensitive(e, "to_version")->valuedouble;
        printf("%*s%s -[%s]-> %s", 2 * (depth - 1), "", cJSON_GetObjectItemCaseSensitive(e, "from")->valuestring,
               cJSON_GetObjectItemCaseSensitive(e, "relation")->valuestring,
               cJSON_GetObjectItemCaseSensitive(e, "to")->valuestring);
        if (tv > 0) printf("@v%.0f", tv);
        printf("\n");
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "truncated"))) printf("(truncated)\n");
}

static int query(const obj_opts *o, const char *method, cJSON *params, void (*show)(const cJSON *))
{
    pel_rpc_client *c;
    cJSON *r;
    int rc = 1;
    if (with_node(o->rpc, &c) == 0) {
        if (pel_cli_call(c, method, params, &r, method) == 0) {
            if (o->json) { char *s = cJSON_Print(r); if (s) printf("%s\n", s); free(s); }
            else show(r);
            cJSON_Delete(r);
            rc = 0;
        }
        pel_rpc_client_free(c);
    }
    cJSON_Delete(params);
    return rc;
}

static int obj_query(const char *what, int argc, char **argv)
{
    obj_opts o;
    pel_obj_id id;
    uint32_t v;
    int rc = parse_opts(argc, argv, strcmp(what, "first") != 0, &o);
    if (rc) return rc == 1 ? 0 : 2;
    cJSON *p = cJSON_CreateObject();
    if (!strcmp(what, "first")) {
        uint8_t dg[32];
        char hex[65];
        if (o.n_files + o.n_sha != 1) { fprintf(stderr, "pel object first: one FILE or --sha256 HEX\n"); cJSON_Delete(p); return 2; }
        if (o.n_files ? pel_cli_hash_file(o.files[0], dg) : parse_sha(o.sha[0], dg)) { cJSON_Delete(p); return 1; }
        pel_hex_encode(dg, 32, hex);
        cJSON_AddStringToObject(p, "sha256", hex);
        return query(&o, "object_first", p, print_first);
    }
    if (parse_id_arg(o.id, &id, &v)) { cJSON_Delete(p); return 2; }
    cJSON_AddStringToObject(p, "id", o.id);
    if (!strcmp(what, "show")) return query(&o, "object", p, print_object);
    cJSON_AddNumberToObject(p, "depth", o.depth);
    return query(&o, strcmp(what, "upstream") ? "object_downstream" : "object_upstream", p, print_upstream);
}

static void print_contributions(const cJSON *r)
{
    const cJSON *o, *role;
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(r, "objects")) {
        printf("%s  %-10s %s  [", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "id")),
               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "kind")),
               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "title")));
        int first = 1;
        cJSON_ArrayForEach(role, cJSON_GetObjectItemCaseSensitive(o, "roles")) {
            printf("%s%s", first ? "" : " ", cJSON_GetStringValue(role));
            first = 0;
        }
        printf("]\n");
    }
    const cJSON *nx = cJSON_GetObjectItemCaseSensitive(r, "next");
    if (cJSON_IsString(nx)) printf("more: --after %s\n", nx->valuestring);
}

/* contributions ADDRESS [--after ID@vN] [--limit N] */
static int obj_contributions(int argc, char **argv)
{
    obj_opts o;
    const char *addr = NULL, *after = NULL, *limit = NULL;
    int np;
    pel_addr a;
    memset(&o, 0, sizeof o);
    const pel_cli_opt opts[] = {
        { "--after", .val = &after }, { "--limit", .val = &limit },
        { "--rpc", .val = &o.rpc }, { "--json", .flag = &o.json },
    };
    const pel_cli_cmd cmd = { "pel object", object_usage, opts, sizeof opts / sizeof opts[0] };
    int prc = pel_cli_parse(&cmd, argc, argv, &addr, 1, &np);
    if (prc) return PEL_CLI_EXIT(prc);
    if (!addr) { fprintf(stderr, "pel object contributions: give an ADDRESS\n"); return 2; }
    if (pel_cli_parse_addr("contributions", addr, &a)) return 2;
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "address", addr);
    if (after) {
        pel_obj_id id;
        uint32_t v;
        if (pel_obj_id_parse(after, &id, &v) || v == 0) {
            fprintf(stderr, "pel object contributions: --after takes the previous page's last pel:obj:…@vN\n");
            cJSON_Delete(p);
            return 2;
        }
        cJSON_AddStringToObject(p, "after", after);
    }
    if (limit) {
        unsigned long long l;
        if (pel_cli_u64("--limit", limit, 1, 1000, &l)) { cJSON_Delete(p); return 2; }
        cJSON_AddNumberToObject(p, "limit", (double)l);
    }
    return query(&o, "contributions", p, print_contributions);
}

/* The registering transaction of version v, proven against the head. */
static int obj_proof(int argc, char **argv)
{
    obj_opts o;
    pel_obj_id id;
    uint32_t v;
    pel_rpc_client *c;
    cJSON *r = NULL, *pr = NULL;
    int rc = parse_opts(argc, argv, 1, &o);
    if (rc) return rc == 1 ? 0 : 2;
    if (parse_id_arg(o.id, &id, &v)) return 2;
    if (with_node(o.rpc, &c)) return 1;
    rc = 1;
    cJSON *p = cJSON_CreateObject(), *q = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "id", o.id);
    if (pel_cli_call(c, "object", p, &r, "object") == 0) {
        const cJSON *tx = cJSON_GetObjectItemCaseSensitive(r, "tx");
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(r, "height");
        if (cJSON_IsString(tx)) cJSON_AddStringToObject(q, "id", tx->valuestring);
        /* against its own block's checkpoint: the time bound is the block's */
        if (cJSON_IsNumber(h)) cJSON_AddNumberToObject(q, "height", h->valuedouble);
        if (cJSON_IsString(tx) && pel_cli_call(c, "prove_tx", q, &pr, "prove_tx") == 0)
            rc = pel_cli_write_proof(pr, o.out);
    }
    cJSON_Delete(p);
    cJSON_Delete(q);
    cJSON_Delete(r);
    cJSON_Delete(pr);
    pel_rpc_client_free(c);
    return rc;
}

int pel_cli_object(int argc, char **argv)
{
    if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        object_usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    const char *cmd = argv[0];
    if (!strcmp(cmd, "register")) return obj_register(argc - 1, argv + 1);
    if (!strcmp(cmd, "version")) return obj_version(argc - 1, argv + 1);
    if (!strcmp(cmd, "maintainer")) return obj_maintainer(argc - 1, argv + 1);
    if (!strcmp(cmd, "proof")) return obj_proof(argc - 1, argv + 1);
    if (!strcmp(cmd, "contributions")) return obj_contributions(argc - 1, argv + 1);
    if (!strcmp(cmd, "show") || !strcmp(cmd, "first") || !strcmp(cmd, "upstream") ||
        !strcmp(cmd, "downstream"))
        return obj_query(cmd, argc - 1, argv + 1);
    fprintf(stderr, "pel object: unknown command '%s'\n", cmd);
    object_usage(stderr);
    return 2;
}

/*
 * cluster.c - `pel cluster status`: ask every member of a raft cluster
 * (the peers of a node directory's config.json, or --rpc URLs) for its
 * node_info and show role, height, head hash and state root, and whether
 * all of them agree. Members at different heights are compared at the
 * lowest height among them (their signed `checkpoint` there): each one is
 * "agree" (signs the majority's state root), "DIVERGED" (another root, or
 * it marked itself diverged: node_info.ordering.diverged) or "?".
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "node/config.h"
#include "rpc/client.h"

static void cluster_usage(FILE *f)
{
    fprintf(f,
        "usage: pel cluster status [--dir D | --rpc URL...] [--json]\n"
        "\n"
        "Asks every member of the raft cluster for its node_info: the members are\n"
        "cluster.peers of D/config.json (default ./devnet), or the --rpc URLs given\n"
        "(repeatable). Shows each member's role, height, head hash and state root,\n"
        "then whether all answered and agree (same height, head hash and state\n"
        "root). Members at different heights are compared by their signed checkpoint\n"
        "at the lowest height: each is shown as agree (the majority's state root),\n"
        "DIVERGED (another root, or it reports itself diverged) or ? (unknown).\n"
        "Exit status 0 when they all agree, 1 otherwise.\n");
}

typedef struct member {
    char url[200];
    cJSON *info;
    int has_root;                /* root: state root at the compared height */
    char root[65];
    const char *status;          /* "agree", "DIVERGED", "?" */
} member;

static const char *jstr(const cJSON *o, const char *a, const char *b)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b) it = cJSON_GetObjectItemCaseSensitive(it, b);
    return cJSON_IsString(it) ? it->valuestring : "";
}

static double jnum(const cJSON *o, const char *name)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(it) ? it->valuedouble : -1;
}

static void ask(member *m)
{
    pel_rpc_client *c = NULL;
    m->info = NULL;
    if (pel_rpc_client_new(m->url, 2000, &c) == 0 &&
        pel_rpc_call(c, "node_info", NULL, &m->info, NULL) != 0)
        m->info = NULL;
    pel_rpc_client_free(c);
}

/* The member's state root after block `height`: from its head, or its
 * signed checkpoint there. */
static void root_at(member *m, double height)
{
    m->has_root = 0;
    if (jnum(m->info, "height") == height) {
        snprintf(m->root, sizeof m->root, "%s", jstr(m->info, "state_root", NULL));
        m->has_root = strlen(m->root) == 64;
        return;
    }
    pel_rpc_client *c = NULL;
    cJSON *p = cJSON_CreateObject(), *res = NULL;
    cJSON_AddNumberToObject(p, "height", height);
    if (pel_rpc_client_new(m->url, 2000, &c) == 0 && pel_rpc_call(c, "checkpoint", p, &res, NULL) == 0) {
        const char *note = jstr(res, "note", NULL), *r = strstr(note, "\nstate-root ");
        if (r && strlen(r) >= 12 + 64) {
            snprintf(m->root, sizeof m->root, "%.64s", r + 12);
            m->has_root = 1;
        }
    }
    cJSON_Delete(res);
    cJSON_Delete(p);
    pel_rpc_client_free(c);
}

/* Each member's status at the lowest height among them; returns that
 * height (-1 if none answered). */
static double classify(member *m, unsigned n)
{
    double low = -1;
    for (unsigned i = 0; i < n; i++)
        if (m[i].info && (low < 0 || jnum(m[i].info, "height") < low)) low = jnum(m[i].info, "height");
    for (unsigned i = 0; i < n; i++) if (m[i].info) root_at(&m[i], low);
    const char *major = NULL;
    for (unsigned i = 0; i < n && !major; i++) {
        unsigned same = 0;
        for (unsigned j = 0; j < n && m[i].has_root; j++) same += m[j].has_root && !strcmp(m[i].root, m[j].root);
        if (same > n / 2) major = m[i].root;
    }
    for (unsigned i = 0; i < n; i++) {
        const cJSON *ord = cJSON_GetObjectItemCaseSensitive(m[i].info, "ordering");
        if (cJSON_GetObjectItemCaseSensitive(ord, "diverged")) m[i].status = "DIVERGED";
        else if (!m[i].has_root || !major) m[i].status = "?";
        else m[i].status = strcmp(m[i].root, major) ? "DIVERGED" : "agree";
    }
    return low;
}

/* 1 when every member answered with the same height, head and state root. */
static int agree(const member *m, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (!m[i].info) return 0;
        if (jnum(m[i].info, "height") != jnum(m[0].info, "height") ||
            strcmp(jstr(m[i].info, "head_hash", NULL), jstr(m[0].info, "head_hash", NULL)) ||
            strcmp(jstr(m[i].info, "state_root", NULL), jstr(m[0].info, "state_root", NULL)))
            return 0;
    }
    return n > 0;
}

static void print_text(const member *m, unsigned n, int ok, double low)
{
    printf("%-28s %-10s %8s  %-16s  %-16s  %s\n", "member", "role", "height", "head", "state root",
           "at lowest height");
    for (unsigned i = 0; i < n; i++) {
        if (!m[i].info) { printf("%-28s unreachable\n", m[i].url); continue; }
        printf("%-28s %-10s %8.0f  %.16s  %.16s  %s\n", m[i].url, jstr(m[i].info, "ordering", "role"),
               jnum(m[i].info, "height"), jstr(m[i].info, "head_hash", NULL),
               jstr(m[i].info, "state_root", NULL), m[i].status);
    }
    if (low >= 0) printf("compared at height %.0f\n", low);
    if (ok) printf("all %u members agree at height %.0f\n", n, jnum(m[0].info, "height"));
    else printf("members DISAGREE, are unreachable, or are still catching up\n");
}

static void print_json(const member *m, unsigned n, int ok, double low)
{
    cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "members");
    for (unsigned i = 0; i < n; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "rpc", m[i].url);
        cJSON_AddBoolToObject(e, "reachable", m[i].info != NULL);
        if (m[i].info) {
            cJSON_AddStringToObject(e, "role", jstr(m[i].info, "ordering", "role"));
            cJSON_AddNumberToObject(e, "height", jnum(m[i].info, "height"));
            cJSON_AddStringToObject(e, "head_hash", jstr(m[i].info, "head_hash", NULL));
            cJSON_AddStringToObject(e, "state_root", jstr(m[i].info, "state_root", NULL));
            cJSON_AddStringToObject(e, "status", m[i].status);
            if (m[i].has_root) cJSON_AddStringToObject(e, "compared_state_root", m[i].root);
        }
        cJSON_AddItemToArray(arr, e);
    }
    cJSON_AddNumberToObject(o, "compared_height", low);
    cJSON_AddBoolToObject(o, "agree", ok);
    char *text = cJSON_Print(o);
    if (text) printf("%s\n", text);
    free(text);
    cJSON_Delete(o);
}

static int members_from_dir(const char *dir, member *m, unsigned *n)
{
    pel_node_config cfg;
    char err[512] = "";
    if (pel_node_config_load(dir, &cfg, err, sizeof err)) {
        fprintf(stderr, "pel cluster status: %s\n", err);
        return 1;
    }
    if (!cfg.ordering_raft) {
        fprintf(stderr, "pel cluster status: %s is not a cluster member (ordering is local)\n", dir);
        return 1;
    }
    for (unsigned i = 0; i < cfg.n_peers; i++)
        snprintf(m[(*n)++].url, sizeof m->url, "http://%s/rpc", cfg.peers[i].rpc);
    return 0;
}

int pel_cli_cluster(int argc, char **argv)
{
    const char *dir = "devnet";
    member m[PEL_CLUSTER_MAX];
    unsigned n = 0;
    int json = 0;
    memset(m, 0, sizeof m);
    if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        cluster_usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    if (strcmp(argv[0], "status")) {
        fprintf(stderr, "pel cluster: unknown command '%s' (init, join and leave are not there yet)\n", argv[0]);
        cluster_usage(stderr);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--help")) { cluster_usage(stdout); return 0; }
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
        else if (!strcmp(argv[i], "--rpc") && i + 1 < argc && n < PEL_CLUSTER_MAX)
            snprintf(m[n++].url, sizeof m->url, "%s", argv[++i]);
        else { cluster_usage(stderr); return 2; }
    }
    if (n == 0 && members_from_dir(dir, m, &n)) return 1;
    for (unsigned i = 0; i < n; i++) ask(&m[i]);
    int ok = agree(m, n);
    double low = classify(m, n);
    if (json) print_json(m, n, ok, low);
    else print_text(m, n, ok, low);
    for (unsigned i = 0; i < n; i++) cJSON_Delete(m[i].info);
    return ok ? 0 : 1;
}

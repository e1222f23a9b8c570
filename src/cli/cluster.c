/*
 * cluster.c - `pel cluster status`: ask every member of a raft cluster
 * (the peers of a node directory's config.json, or --rpc URLs) for its
 * node_info and show role, height, head hash and state root, and whether
 * all of them agree.
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
        "root). Exit status 0 when they all agree, 1 otherwise.\n");
}

typedef struct member { char url[200]; cJSON *info; } member;

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

static void print_text(const member *m, unsigned n, int ok)
{
    printf("%-28s %-10s %8s  %-16s  %-16s\n", "member", "role", "height", "head", "state root");
    for (unsigned i = 0; i < n; i++) {
        if (!m[i].info) { printf("%-28s unreachable\n", m[i].url); continue; }
        printf("%-28s %-10s %8.0f  %.16s  %.16s\n", m[i].url, jstr(m[i].info, "ordering", "role"),
               jnum(m[i].info, "height"), jstr(m[i].info, "head_hash", NULL),
               jstr(m[i].info, "state_root", NULL));
    }
    if (ok) printf("all %u members agree at height %.0f\n", n, jnum(m[0].info, "height"));
    else printf("members DISAGREE, are unreachable, or are still catching up\n");
}

static void print_json(const member *m, unsigned n, int ok)
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
        }
        cJSON_AddItemToArray(arr, e);
    }
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
    if (json) print_json(m, n, ok);
    else print_text(m, n, ok);
    for (unsigned i = 0; i < n; i++) cJSON_Delete(m[i].info);
    return ok ? 0 : 1;
}

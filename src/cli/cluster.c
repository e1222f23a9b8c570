/*
 * cluster.c - `pel cluster init|join|leave|members|status`: form a raft
 * cluster and change its membership (RPC cluster_add / cluster_remove,
 * rpc/membership.h), list its members, and check that they agree.
 *
 * status asks every member of the cluster (from the replicated
 * configuration, reached through the node directory's config.json, or the
 * --rpc URLs) for its node_info and shows role, height, head hash and
 * state root, and whether all of them agree. Members at different heights are compared at the
 * lowest height among them (their signed `checkpoint` there): each one is
 * "agree" (signs the majority's state root), "DIVERGED" (another root, or
 * it marked itself diverged: node_info.ordering.diverged) or "?".
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "core/hex.h"
#include "core/keyfile.h"
#include "ledger/genesis.h"
#include "node/config.h"
#include "rpc/client.h"

static void cluster_usage(FILE *f)
{
    fprintf(f,
        "usage: pel cluster init   [--dir D] [--chain-id X] [--rpc HOST:PORT] [--raft HOST:PORT]\n"
        "                          [--faucet-balance N]\n"
        "       pel cluster join   --via URL --token T [--dir D] [--rpc HOST:PORT]\n"
        "                          [--raft HOST:PORT] [--faucet-key FILE]\n"
        "       pel cluster leave  [--dir D | --rpc URL --token T] [--id N]\n"
        "       pel cluster members [--dir D | --rpc URL] [--json]\n"
        "       pel cluster status [--dir D | --rpc URL...] [--json]\n"
        "       pel cluster token  [--dir D]\n"
        "\n"
        "init creates the node directory D (default ./devnet) of a new chain run by\n"
        "a raft cluster that has this one member (id 1; API on --rpc, default\n"
        "127.0.0.1:8645; Raft on --raft, default 127.0.0.1:8745, an IPv4 address).\n"
        "Start it with pel node --dir D; other nodes then join it. Its config.json\n"
        "(mode 0600) holds the cluster's admin token, cluster.admin_token, which\n"
        "every membership change must carry (join and leave: --token T, or\n"
        "$PEL_CLUSTER_TOKEN; leave --dir D reads D's; token --dir D prints it).\n"
        "\n"
        "join creates the node directory D of a new member of the running cluster\n"
        "whose member API is URL (any member; the leader does the change): it\n"
        "fetches the chain's genesis (checked against its hash), has the leader add\n"
        "the member (a new random id, as a spare: not yet counted in the quorum) and writes\n"
        "D with a new node key. Start it with pel node --dir D: it catches up from\n"
        "the leader (a snapshot when far behind) and asks to become a voter, which\n"
        "the leader grants once it has caught up (pel cluster members shows it).\n"
        "--faucet-key copies a devnet's faucet key into D, so that the faucet works\n"
        "while this member leads (followers forward faucet calls to the leader).\n"
        "\n"
        "leave removes member N (default: the member whose API is URL, or D's own\n"
        "member) from the cluster; the leader may remove itself (it steps down).\n"
        "The removed node gets no more blocks: stop it. The last voter cannot leave.\n"
        "\n"
        "members lists the members in the replicated configuration: id, role\n"
        "(voter, standby, spare), leader, Raft and API addresses.\n"
        "\n"
        "status asks every member for its node_info (the members come from the\n"
        "configuration of the node of D/config.json, default ./devnet, else its\n"
        "cluster.peers, or the --rpc URLs given, repeatable). Shows each member's\n"
        "role, height, head hash and state root, then whether all answered and\n"
        "agree (same height, head hash and state root). Members at different heights\n"
        "are compared by their signed checkpoint at the lowest height: each is shown\n"
        "as agree (the majority's state root), DIVERGED (another root, or it reports\n"
        "itself diverged) or ? (unknown). Exit status 0 when they all agree, 1\n"
        "otherwise.\n"
        "\n"
        "URL is a node's JSON-RPC endpoint, like http://127.0.0.1:8645/rpc.\n");
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
            cJSON_AddStringToObject(e, "member", jstr(m[i].info, "ordering", "member"));
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

/* The API URL of the node of directory dir (its rpc.listen; a wildcard
 * host is reached on loopback). @return 0, or 1 after printing. */
static int dir_url(const char *who, const char *dir, pel_node_config *cfg, char *url, size_t cap)
{
    char err[512] = "";
    if (pel_node_config_load(dir, cfg, err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", who, err);
        return 1;
    }
    if (!cfg->ordering_raft) {
        fprintf(stderr, "%s: %s is not a cluster member (ordering is local)\n", who, dir);
        return 1;
    }
    const char *host = cfg->listen_host;
    if (!strcmp(host, "0.0.0.0") || !strcmp(host, "::") || !host[0]) host = "127.0.0.1";
    snprintf(url, cap, "http://%s:%u/rpc", host, cfg->listen_port);
    return 0;
}

/* cluster_members of the node at url, or NULL (quiet). */
static cJSON *live_members(const char *url)
{
    pel_rpc_client *c = NULL;
    cJSON *res = NULL;
    pel_rpc_error err;
    memset(&err, 0, sizeof err);
    int rc = pel_rpc_client_new(url, 2000, &c);
    if (!rc) rc = pel_rpc_call(c, "cluster_members", NULL, &res, &err);
    if (rc == PEL_EREMOTE) cJSON_Delete(err.data);
    pel_rpc_client_free(c);
    return rc ? NULL : res;
}

/* status's members: the configuration as the node of dir (or the first of
 * its peers that answers) knows it, else config.json's peers. */
static int members_from_dir(const char *dir, member *m, unsigned *n)
{
    pel_node_config cfg;
    char url[200];
    if (dir_url("pel cluster status", dir, &cfg, url, sizeof url)) return 1;
    cJSON *live = live_members(url);
    for (unsigned i = 0; !live && i < cfg.n_peers; i++) {
        snprintf(url, sizeof url, "http://%s/rpc", cfg.peers[i].rpc);
        live = live_members(url);
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(live, "members")) {
        const char *rpc = jstr(e, "rpc", NULL);
        if (rpc[0] && *n < PEL_CLUSTER_MAX) snprintf(m[(*n)++].url, sizeof m->url, "http://%s/rpc", rpc);
    }
    cJSON_Delete(live);
    for (unsigned i = 0; *n == 0 && i < cfg.n_peers; i++)
        snprintf(m[i].url, sizeof m->url, "http://%s/rpc", cfg.peers[i].rpc);
    if (*n == 0) *n = cfg.n_peers;
    return 0;
}

static int cluster_status(int argc, char **argv)
{
    const char *dir = "devnet";
    member m[PEL_CLUSTER_MAX];
    unsigned n = 0;
    int json = 0;
    memset(m, 0, sizeof m);
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { cluster_usage(stdout); return 0; }
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

/* The admin token: --token, else $PEL_CLUSTER_TOKEN, else (dir non-NULL)
 * the one in dir/config.json. NULL after printing why not. */
static const char *admin_token(const char *who, const char *opt, const char *dir, pel_node_config *cfg)
{
    const char *env = getenv("PEL_CLUSTER_TOKEN");
    char err[512] = "";
    if (opt) return opt;
    if (env && *env) return env;
    if (dir && pel_node_config_load(dir, cfg, err, sizeof err) == 0 && cfg->admin_token[0])
        return cfg->admin_token;
    fprintf(stderr, "%s: the cluster's admin token is needed: --token T or $PEL_CLUSTER_TOKEN (it is "
            "cluster.admin_token in a member's config.json)\n", who);
    return NULL;
}

/* ---- init ---- */

static int cluster_init(int argc, char **argv)
{
    const char *dir = "devnet", *chain = "pel-devnet", *rpc = "127.0.0.1:8645",
               *raft = "127.0.0.1:8745", *supply_s = NULL;
    unsigned long long supply = 1000000000000000000ull;
    const pel_cli_opt o[] = { { "--dir", .val = &dir }, { "--chain-id", .val = &chain },
                              { "--rpc", .val = &rpc }, { "--raft", .val = &raft },
                              { "--faucet-balance", .val = &supply_s } };
    const pel_cli_cmd cmd = { "pel cluster init", cluster_usage, o, sizeof o / sizeof o[0] };
    int npos = 0, rc = pel_cli_parse(&cmd, argc, argv, NULL, 0, &npos);
    if (rc) return PEL_CLI_EXIT(rc);
    if (supply_s && pel_cli_u64("--faucet-balance", supply_s, 0, INT64_MAX, &supply)) return 2;
    char err[512] = "";
    if (pel_node_init_cluster_founder(dir, chain, supply, rpc, raft, err, sizeof err)) {
        fprintf(stderr, "pel cluster init: %s\n", err);
        return 1;
    }
    printf("initialised %s: a raft cluster of one member (id 1, chain id %s, API on %s, Raft on %s)\n"
           "start it with: pel node --dir %s\n"
           "then add members: pel cluster join --via http://%s/rpc --token T --dir D2 --rpc HOST:PORT "
           "--raft HOST:PORT\n"
           "(T: the admin token, printed by pel cluster token --dir %s; keep it secret)\n",
           dir, chain, rpc, raft, dir, rpc, dir);
    return 0;
}

/* ---- join ---- */

/* The chain's genesis.json text from the member at c, checked: it parses
 * and hashes to the genesis_hash the member reports. */
static char *fetch_genesis(pel_rpc_client *c)
{
    cJSON *res = NULL;
    if (pel_cli_call(c, "genesis", NULL, &res, "genesis")) return NULL;
    const cJSON *doc = cJSON_GetObjectItemCaseSensitive(res, "genesis");
    const char *want = jstr(res, "genesis_hash", NULL);
    char *text = cJSON_IsObject(doc) ? cJSON_Print(doc) : NULL, hex[65], err[256] = "";
    pel_genesis g;
    memset(&g, 0, sizeof g);
    int rc = text ? pel_genesis_parse(text, strlen(text), &g, err, sizeof err) : PEL_EINVAL;
    if (!rc) {
        pel_hex_encode(g.hash, 32, hex);
        if (strcmp(hex, want)) {
            snprintf(err, sizeof err, "the genesis sent hashes to %.16s..., the member reports %.16s...", hex, want);
            rc = PEL_ECORRUPT;
        }
    }
    pel_genesis_free(&g);
    cJSON_Delete(res);
    if (rc) {
        fprintf(stderr, "pel cluster join: the member's genesis is not usable: %s\n", err[0] ? err : pel_strerror(rc));
        free(text);
        return NULL;
    }
    return text;
}

static unsigned peers_of(const cJSON *res, pel_cluster_peer *p)
{
    unsigned n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(res, "members")) {
        uint64_t id;
        if (n == PEL_CLUSTER_MAX || pel_cli_json_u64(e, "id", &id) || !jstr(e, "rpc", NULL)[0]) continue;
        memset(&p[n], 0, sizeof p[n]);
        p[n].id = id;
        snprintf(p[n].raft, sizeof p[n].raft, "%s", jstr(e, "raft", NULL));
        snprintf(p[n].rpc, sizeof p[n].rpc, "%s", jstr(e, "rpc", NULL));
        n++;
    }
    return n;
}

static int cluster_join(int argc, char **argv)
{
    const char *dir = "devnet", *via = NULL, *rpc = "127.0.0.1:8645", *raft = "127.0.0.1:8745",
               *faucet = NULL, *token_opt = NULL;
    const pel_cli_opt o[] = { { "--dir", .val = &dir }, { "--via", .val = &via },
                              { "--rpc", .val = &rpc }, { "--raft", .val = &raft },
                              { "--faucet-key", .val = &faucet }, { "--token", .val = &token_opt } };
    const pel_cli_cmd cmd = { "pel cluster join", cluster_usage, o, sizeof o / sizeof o[0] };
    int npos = 0, rc = pel_cli_parse(&cmd, argc, argv, NULL, 0, &npos);
    if (rc) return PEL_CLI_EXIT(rc);
    if (!via) { fprintf(stderr, "pel cluster join: --via URL (a member's API) is required\n"); return 2; }
    pel_node_config tcfg;
    const char *token = admin_token("pel cluster join", token_opt, NULL, &tcfg);
    if (!token) return 2;
    char path[4200], err[512] = "";
    snprintf(path, sizeof path, "%s/genesis.json", dir);
    if (access(path, F_OK) == 0) {
        fprintf(stderr, "pel cluster join: %s already holds a node (genesis.json exists)\n", dir);
        return 1;
    }
    uint8_t fpk[32], fsk[64];
    if (faucet && pel_keyfile_load(faucet, fpk, fsk, err, sizeof err)) {
        fprintf(stderr, "pel cluster join: --faucet-key: %s\n", err);
        return 1;
    }
    sodium_memzero(fsk, sizeof fsk);
    pel_rpc_client *c = NULL;
    if (pel_cli_connect(via, 30000, &c)) return 1;
    char *genesis = fetch_genesis(c);
    cJSON *params = cJSON_CreateObject(), *res = NULL;
    cJSON_AddStringToObject(params, "raft", raft);
    cJSON_AddStringToObject(params, "rpc", rpc);
    cJSON_AddStringToObject(params, "token", token);
    rc = genesis ? pel_cli_call(c, "cluster_add", params, &res, "cluster_add") : -1;
    cJSON_Delete(params);
    pel_rpc_client_free(c);
    uint64_t id = 0;
    if (!rc && pel_cli_json_u64(res, "id", &id)) {
        fprintf(stderr, "pel cluster join: the member's answer has no id\n");
        rc = -1;
    }
    if (rc) { free(genesis); cJSON_Delete(res); return 1; }
    pel_cluster_peer peers[PEL_CLUSTER_MAX];
    unsigned n = peers_of(res, peers);
    cJSON_Delete(res);
    rc = pel_node_init_cluster_joiner(dir, genesis, id, rpc, raft, peers, n, token, faucet, err,
                                      sizeof err);
    free(genesis);
    if (rc) {
        fprintf(stderr, "pel cluster join: member %llu was added to the cluster, but %s; remove it "
                "with: pel cluster leave --rpc %s --token T --id %llu\n", (unsigned long long)id, err, via,
                (unsigned long long)id);
        return 1;
    }
    printf("member %llu added to the cluster (as a spare until it has caught up); node directory %s\n"
           "start it with: pel node --dir %s\n"
           "it becomes a voter once it has caught up: pel cluster members --dir %s\n",
           (unsigned long long)id, dir, dir, dir);
    return 0;
}

/* ---- token ---- */

static int cluster_token(int argc, char **argv)
{
    const char *dir = "devnet";
    const pel_cli_opt o[] = { { "--dir", .val = &dir } };
    const pel_cli_cmd cmd = { "pel cluster token", cluster_usage, o, sizeof o / sizeof o[0] };
    int npos = 0, rc = pel_cli_parse(&cmd, argc, argv, NULL, 0, &npos);
    if (rc) return PEL_CLI_EXIT(rc);
    pel_node_config cfg;
    char err[512] = "", path[4200];
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "pel cluster token: cannot read %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (pel_node_config_load(dir, &cfg, err, sizeof err)) {
        fprintf(stderr, "pel cluster token: %s\n", err);
        return 1;
    }
    if (!cfg.ordering_raft || !cfg.admin_token[0]) {
        fprintf(stderr, "pel cluster token: %s has no cluster admin token (%s)\n", dir,
                cfg.ordering_raft ? "cluster.admin_token is not set" : "ordering is local");
        return 1;
    }
    printf("%s\n", cfg.admin_token);
    return 0;
}

/* ---- leave, members ---- */

/* The URL of --rpc, else of D's node (cfg_id: D's member id, else 0). */
static int target_url(const char *who, const char *rpc, const char *dir, char *url, size_t cap,
                      uint64_t *cfg_id)
{
    pel_node_config cfg;
    *cfg_id = 0;
    if (rpc) { snprintf(url, cap, "%s", rpc); return 0; }
    if (dir_url(who, dir, &cfg, url, cap)) return 1;
    *cfg_id = cfg.cluster_id;
    return 0;
}

static int cluster_leave(int argc, char **argv)
{
    const char *dir = "devnet", *rpc = NULL, *id_s = NULL, *token_opt = NULL;
    const pel_cli_opt o[] = { { "--dir", .val = &dir }, { "--rpc", .val = &rpc }, { "--id", .val = &id_s },
                              { "--token", .val = &token_opt } };
    const pel_cli_cmd cmd = { "pel cluster leave", cluster_usage, o, sizeof o / sizeof o[0] };
    int npos = 0, rc = pel_cli_parse(&cmd, argc, argv, NULL, 0, &npos);
    if (rc) return PEL_CLI_EXIT(rc);
    unsigned long long id = 0;
    if (id_s && pel_cli_u64("--id", id_s, 1, 9007199254740992ull, &id)) return 2;
    char url[4200];
    uint64_t own = 0;
    if (target_url("pel cluster leave", rpc, dir, url, sizeof url, &own)) return 1;
    pel_node_config tcfg;
    const char *token = admin_token("pel cluster leave", token_opt, rpc ? NULL : dir, &tcfg);
    if (!token) return 2;
    pel_rpc_client *c = NULL;
    if (pel_cli_connect(url, 30000, &c)) return 1;
    cJSON *res = NULL;
    if (!id && !own) {                          /* the member whose API this is */
        uint64_t got;
        if (pel_cli_call(c, "cluster_members", NULL, &res, "cluster_members") ||
            pel_cli_json_u64(res, "id", &got)) {
            pel_rpc_client_free(c);
            cJSON_Delete(res);
            return 1;
        }
        own = got;
        cJSON_Delete(res);
        res = NULL;
    }
    if (!id) id = own;
    cJSON *params = cJSON_CreateObject();
    cJSON_AddNumberToObject(params, "id", (double)id);
    cJSON_AddStringToObject(params, "token", token);
    rc = pel_cli_call(c, "cluster_remove", params, &res, "cluster_remove");
    cJSON_Delete(params);
    pel_rpc_client_free(c);
    cJSON_Delete(res);
    if (rc) return 1;
    printf("member %llu removed from the cluster; stop its node now (it gets no more blocks)\n", id);
    return 0;
}

static int cluster_members(int argc, char **argv)
{
    const char *dir = "devnet", *rpc = NULL;
    int json = 0;
    const pel_cli_opt o[] = { { "--dir", .val = &dir }, { "--rpc", .val = &rpc }, { "--json", .flag = &json } };
    const pel_cli_cmd cmd = { "pel cluster members", cluster_usage, o, sizeof o / sizeof o[0] };
    int npos = 0, rc = pel_cli_parse(&cmd, argc, argv, NULL, 0, &npos);
    if (rc) return PEL_CLI_EXIT(rc);
    char url[4200];
    uint64_t own;
    if (target_url("pel cluster members", rpc, dir, url, sizeof url, &own)) return 1;
    pel_rpc_client *c = NULL;
    cJSON *res = NULL;
    if (pel_cli_connect(url, 5000, &c)) return 1;
    rc = pel_cli_call(c, "cluster_members", NULL, &res, "cluster_members");
    pel_rpc_client_free(c);
    if (rc) return 1;
    if (json) {
        char *text = cJSON_Print(res);
        if (text) printf("%s\n", text);
        free(text);
    } else {
        const cJSON *e;
        printf("%-10s %-8s %-7s %-22s %s\n", "id", "role", "leader", "raft", "api");
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(res, "members"))
            printf("%-10.0f %-8s %-7s %-22s %s\n", jnum(e, "id"), jstr(e, "role", NULL),
                   cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "leader")) ? "yes" : "",
                   jstr(e, "raft", NULL), jstr(e, "rpc", NULL));
    }
    cJSON_Delete(res);
    return 0;
}

int pel_cli_cluster(int argc, char **argv)
{
    if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        cluster_usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    const char *sub = argv[0];
    if (!strcmp(sub, "status")) return cluster_status(argc - 1, argv + 1);
    if (!strcmp(sub, "init")) return cluster_init(argc - 1, argv + 1);
    if (!strcmp(sub, "join")) return cluster_join(argc - 1, argv + 1);
    if (!strcmp(sub, "leave")) return cluster_leave(argc - 1, argv + 1);
    if (!strcmp(sub, "members")) return cluster_members(argc - 1, argv + 1);
    if (!strcmp(sub, "token")) return cluster_token(argc - 1, argv + 1);
    fprintf(stderr, "pel cluster: unknown command '%s'\n", sub);
    cluster_usage(stderr);
    return 2;
}

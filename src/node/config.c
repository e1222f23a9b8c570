/*
 * config.c - node directory creation and config.json (see config.h).
 */
#include "node/config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/hex.h"
#include "core/keyfile.h"
#include "ledger/genesis.h"

pel_node_config pel_node_config_defaults(void)
{
    pel_node_config c;
    memset(&c, 0, sizeof c);
    snprintf(c.listen_host, sizeof c.listen_host, "127.0.0.1");
    c.listen_port = 8645;
    c.rpc_max_body_mb = 32;
    c.block_interval_ms = 200;
    c.max_block_txs = 10000;
    c.max_commit_group = 1;
    c.engine = PEL_ENGINE_BLOCKSTM;
    c.threads = 0;
    c.mempool_max_txs = 200000;
    c.mempool_max_bytes = 256ull << 20;
    c.mempool_max_per_sender = 8192;
    c.map_size_mb = 65536;
    c.state_trees = 1;
    c.state_versions_kept = PEL_CHAIN_DEFAULT_VERSIONS;
    c.state_prune_interval = PEL_CHAIN_DEFAULT_PRUNE_INTERVAL;
    c.state_tree_threads = 2;
    c.faucet_enabled = 1;
    c.faucet_amount = 1000000000ull;
    c.faucet_max_amount = 100000000000ull;
    snprintf(c.raft_dir, sizeof c.raft_dir, "raft");
    c.election_timeout_ms = 300;
    c.heartbeat_ms = 50;
    c.snapshot_threshold = 1024;
    c.snapshot_trailing = 256;
    return c;
}

int pel_parse_listen(const char *s, char *host, size_t hostlen, uint16_t *port)
{
    const char *colon = strrchr(s, ':');
    uint64_t p;
    if (!colon || colon == s || (size_t)(colon - s) >= hostlen) return PEL_EINVAL;
    if (pel_parse_u64(colon + 1, &p) || p > 65535) return PEL_EINVAL;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    *port = (uint16_t)p;
    return 0;
}

/* ---- reading ---- */

typedef struct reader { const cJSON *root; char *err; size_t errlen; int rc; } reader;

static const cJSON *field(const cJSON *o, const char *path)
{
    char part[64];
    const char *dot = strchr(path, '.');
    if (!dot) return cJSON_GetObjectItemCaseSensitive(o, path);
    snprintf(part, sizeof part, "%.*s", (int)(dot - path), path);
    return field(cJSON_GetObjectItemCaseSensitive(o, part), dot + 1);
}

static void rd_u64(reader *r, const char *path, uint64_t max, uint64_t *out)
{
    const cJSON *it = field(r->root, path);
    uint64_t v;
    if (!it || r->rc) return;
    if (pel_json_u64(it, &v) || v > max) {
        snprintf(r->err, r->errlen, "config.json: %s must be an integer <= %" PRIu64, path, max);
        r->rc = PEL_EINVAL;
        return;
    }
    *out = v;
}

static void rd_u32(reader *r, const char *path, uint32_t min, uint32_t max, uint32_t *out)
{
    uint64_t v = *out;
    rd_u64(r, path, max, &v);
    if (!r->rc && v < min) {
        snprintf(r->err, r->errlen, "config.json: %s must be at least %u", path, min);
        r->rc = PEL_EINVAL;
    }
    *out = (uint32_t)v;
}

static void rd_str(reader *r, const char *path, char *out, size_t cap)
{
    const cJSON *it = field(r->root, path);
    if (!it || cJSON_IsNull(it) || r->rc) return;
    if (!cJSON_IsString(it) || strlen(it->valuestring) >= cap) {
        snprintf(r->err, r->errlen, "config.json: %s must be a string (< %zu chars)", path, cap);
        r->rc = PEL_EINVAL;
        return;
    }
    snprintf(out, cap, "%s", it->valuestring);
}

static void rd_bool(reader *r, const char *path, int *out)
{
    const cJSON *it = field(r->root, path);
    if (!it || r->rc) return;
    if (!cJSON_IsBool(it)) {
        snprintf(r->err, r->errlen, "config.json: %s must be true or false", path);
        r->rc = PEL_EINVAL;
        return;
    }
    *out = cJSON_IsTrue(it);
}

static void rd_all(reader *r, pel_node_config *c)
{
    char listen[128] = "", engine[32] = "";
    uint32_t threads = c->threads;
    rd_str(r, "rpc.listen", listen, sizeof listen);
    if (!r->rc && listen[0] &&
        pel_parse_listen(listen, c->listen_host, sizeof c->listen_host, &c->listen_port)) {
        snprintf(r->err, r->errlen, "config.json: rpc.listen must be host:port");
        r->rc = PEL_EINVAL;
    }
    rd_u32(r, "rpc.max_body_mb", 1, 1024, &c->rpc_max_body_mb);
    rd_str(r, "rpc.cors_origin", c->cors_origin, sizeof c->cors_origin);
    rd_u32(r, "block_interval_ms", 1, 60000, &c->block_interval_ms);
    rd_u32(r, "max_block_txs", 1, 1000000, &c->max_block_txs);
    rd_u32(r, "max_commit_group", 1, PEL_MAX_COMMIT_GROUP, &c->max_commit_group);
    rd_str(r, "engine", engine, sizeof engine);
    if (!r->rc && engine[0] && pel_engine_kind_parse(engine, &c->engine)) {
        snprintf(r->err, r->errlen, "config.json: engine must be sequential, blockstm or declared");
        r->rc = PEL_EINVAL;
    }
    rd_u32(r, "threads", 0, 256, &threads);
    c->threads = threads;
    rd_u32(r, "mempool.max_txs", 1, 100000000, &c->mempool_max_txs);
    rd_u64(r, "mempool.max_bytes", UINT64_MAX, &c->mempool_max_bytes);
    rd_u32(r, "mempool.max_per_sender", 1, 100000000, &c->mempool_max_per_sender);
    rd_u64(r, "store.map_size_mb", 1u << 30, &c->map_size_mb);
    rd_bool(r, "state.trees", &c->state_trees);
    rd_u64(r, "state.versions_kept", UINT64_MAX, &c->state_versions_kept);
    rd_u32(r, "state.prune_interval", 1, 1000000, &c->state_prune_interval);
    rd_u32(r, "state.tree_threads", 1, 256, &c->state_tree_threads);
    const cJSON *fe = field(r->root, "faucet.enabled");
    if (fe) c->faucet_enabled = cJSON_IsTrue(fe);
    rd_u64(r, "faucet.amount", INT64_MAX, &c->faucet_amount);
    rd_u64(r, "faucet.max_amount", INT64_MAX, &c->faucet_max_amount);
}

static void rd_peers(reader *r, pel_node_config *c)
{
    const cJSON *arr = field(r->root, "cluster.peers"), *it;
    if (!arr || r->rc) return;
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) > PEL_CLUSTER_MAX) {
        snprintf(r->err, r->errlen, "config.json: cluster.peers must be a list of at most %d peers",
                 PEL_CLUSTER_MAX);
        r->rc = PEL_EINVAL;
        return;
    }
    c->n_peers = 0;
    cJSON_ArrayForEach(it, arr) {
        pel_cluster_peer *p = &c->peers[c->n_peers];
        reader pr = { it, r->err, r->errlen, 0 };
        rd_u64(&pr, "id", UINT64_MAX, &p->id);
        rd_str(&pr, "raft", p->raft, sizeof p->raft);
        rd_str(&pr, "rpc", p->rpc, sizeof p->rpc);
        if (!pr.rc && (p->id == 0 || !p->raft[0] || !p->rpc[0])) {
            snprintf(r->err, r->errlen, "config.json: each of cluster.peers needs id (>= 1), raft and rpc");
            pr.rc = PEL_EINVAL;
        }
        if (pr.rc) { r->rc = pr.rc; return; }
        c->n_peers++;
    }
}

static void rd_cluster(reader *r, pel_node_config *c)
{
    char ordering[16] = "";
    rd_str(r, "ordering", ordering, sizeof ordering);
    if (!r->rc && ordering[0] && strcmp(ordering, "local") && strcmp(ordering, "raft")) {
        snprintf(r->err, r->errlen, "config.json: ordering must be local or raft");
        r->rc = PEL_EINVAL;
    }
    c->ordering_raft = !strcmp(ordering, "raft");
    rd_u64(r, "cluster.id", UINT64_MAX, &c->cluster_id);
    rd_str(r, "cluster.raft_dir", c->raft_dir, sizeof c->raft_dir);
    rd_u32(r, "cluster.election_timeout_ms", 10, 600000, &c->election_timeout_ms);
    rd_u32(r, "cluster.heartbeat_ms", 1, 60000, &c->heartbeat_ms);
    rd_u32(r, "cluster.snapshot_threshold", 0, UINT32_MAX, &c->snapshot_threshold);
    rd_u32(r, "cluster.snapshot_trailing", 0, UINT32_MAX, &c->snapshot_trailing);
    rd_bool(r, "cluster.join", &c->cluster_join);
    rd_str(r, "cluster.admin_token", c->admin_token, sizeof c->admin_token);
    rd_peers(r, c);
    if (!r->rc && c->ordering_raft && (c->n_peers == 0 || c->cluster_id == 0)) {
        snprintf(r->err, r->errlen, "config.json: ordering raft needs cluster.id and cluster.peers");
        r->rc = PEL_EINVAL;
    }
}

int pel_node_config_load(const char *dir, pel_node_config *cfg, char *err, size_t errlen)
{
    char path[4096], *text;
    size_t len;
    *cfg = pel_node_config_defaults();
    if (errlen) err[0] = 0;
    snprintf(path, sizeof path, "%s/config.json", dir);
    int rc = pel_read_file(path, 1 << 20, &text, &len);
    if (rc == PEL_ENOTFOUND) return 0;
    if (rc) { snprintf(err, errlen, "cannot read %s: %s", path, pel_strerror(rc)); return rc; }
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        snprintf(err, errlen, "%s is not a JSON object", path);
        return PEL_EINVAL;
    }
    reader r = { root, err, errlen, 0 };
    rd_all(&r, cfg);
    rd_cluster(&r, cfg);
    cJSON_Delete(root);
    return r.rc;
}

/* ---- writing ---- */

static cJSON *u64s(uint64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%" PRIu64, v);
    return cJSON_CreateString(s);
}

static void add_cluster(cJSON *root, const pel_node_config *c)
{
    cJSON_AddStringToObject(root, "ordering", "raft");
    cJSON *cl = cJSON_AddObjectToObject(root, "cluster");
    cJSON_AddNumberToObject(cl, "id", (double)c->cluster_id);
    cJSON_AddStringToObject(cl, "raft_dir", c->raft_dir);
    cJSON_AddNumberToObject(cl, "election_timeout_ms", c->election_timeout_ms);
    cJSON_AddNumberToObject(cl, "heartbeat_ms", c->heartbeat_ms);
    cJSON_AddNumberToObject(cl, "snapshot_threshold", c->snapshot_threshold);
    cJSON_AddNumberToObject(cl, "snapshot_trailing", c->snapshot_trailing);
    if (c->cluster_join) cJSON_AddBoolToObject(cl, "join", 1);
    if (c->admin_token[0]) cJSON_AddStringToObject(cl, "admin_token", c->admin_token);
    cJSON *peers = cJSON_AddArrayToObject(cl, "peers");
    for (unsigned i = 0; i < c->n_peers; i++) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "id", (double)c->peers[i].id);
        cJSON_AddStringToObject(p, "raft", c->peers[i].raft);
        cJSON_AddStringToObject(p, "rpc", c->peers[i].rpc);
        cJSON_AddItemToArray(peers, p);
    }
}

int pel_node_config_write(const char *dir, const pel_node_config *c)
{
    char path[4096], listen[128];
    cJSON *root = cJSON_CreateObject();
    if (!root) return PEL_ENOMEM;
    cJSON *rpc = cJSON_AddObjectToObject(root, "rpc");
    snprintf(listen, sizeof listen, "%s:%u", c->listen_host, c->listen_port);
    cJSON_AddStringToObject(rpc, "listen", listen);
    cJSON_AddNumberToObject(rpc, "max_body_mb", c->rpc_max_body_mb);
    cJSON_AddNullToObject(rpc, "cors_origin");
    cJSON_AddNumberToObject(root, "block_interval_ms", c->block_interval_ms);
    cJSON_AddNumberToObject(root, "max_block_txs", c->max_block_txs);
    cJSON_AddNumberToObject(root, "max_commit_group", c->max_commit_group);
    cJSON_AddStringToObject(root, "engine", pel_engine_kind_name(c->engine));
    cJSON_AddNumberToObject(root, "threads", c->threads);
    cJSON *mp = cJSON_AddObjectToObject(root, "mempool");
    cJSON_AddNumberToObject(mp, "max_txs", c->mempool_max_txs);
    cJSON_AddNumberToObject(mp, "max_bytes", (double)c->mempool_max_bytes);
    cJSON_AddNumberToObject(mp, "max_per_sender", c->mempool_max_per_sender);
    cJSON *st = cJSON_AddObjectToObject(root, "store");
    cJSON_AddNumberToObject(st, "map_size_mb", (double)c->map_size_mb);
    cJSON *sa = cJSON_AddObjectToObject(root, "state");
    cJSON_AddBoolToObject(sa, "trees", c->state_trees);
    cJSON_AddNumberToObject(sa, "versions_kept", (double)c->state_versions_kept);
    cJSON_AddNumberToObject(sa, "prune_interval", (double)c->state_prune_interval);
    cJSON_AddNumberToObject(sa, "tree_threads", c->state_tree_threads);
    cJSON *f = cJSON_AddObjectToObject(root, "faucet");
    cJSON_AddBoolToObject(f, "enabled", c->faucet_enabled);
    cJSON_AddItemToObject(f, "amount", u64s(c->faucet_amount));
    cJSON_AddItemToObject(f, "max_amount", u64s(c->faucet_max_amount));
    if (c->ordering_raft) add_cluster(root, c);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return PEL_ENOMEM;
    snprintf(path, sizeof path, "%s/config.json", dir);
    size_t n = strlen(text);
    text[n] = '\n';   /* cJSON_Print leaves room: replace the NUL, write n+1 */
    /* a cluster member's holds its admin token: owner only */
    int rc = pel_write_file_excl(path, text, n + 1, c->admin_token[0] ? 0600 : 0644);
    free(text);
    return rc;
}

int pel_node_data_path(const char *dir, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/data", dir);
    return n < 0 || (size_t)n >= len ? PEL_EINVAL : 0;
}

/* ---- pel init ---- */

static int mkdir_ok(const char *path)
{
    return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : PEL_EIO;
}

/* A node directory's skeleton: dir, dir/data, and the node key (an
 * existing key is kept). 0, or a code with the reason in err. */
static int make_node_dir(const char *dir, char *err, size_t errlen)
{
    char path[4200];
    if (pel_node_data_path(dir, path, sizeof path)) {
        snprintf(err, errlen, "node directory path too long");
        return PEL_EINVAL;
    }
    int rc = mkdir_ok(dir);
    if (!rc) rc = mkdir_ok(path);
    if (rc) { snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno)); return rc; }
    snprintf(path, sizeof path, "%s/node.key", dir);
    rc = pel_keyfile_create(path, NULL, NULL);
    if (rc == PEL_EEXIST) rc = 0;
    if (rc) snprintf(err, errlen, "cannot create key %s: %s", path, pel_strerror(rc));
    return rc;
}

int pel_node_init_dir(const char *dir, const char *chain_id, uint64_t faucet_balance,
                      uint16_t port, char *err, size_t errlen)
{
    char path[4096], *json = NULL;
    uint8_t pk[PEL_PUBKEY_LEN];
    pel_genesis g;
    memset(&g, 0, sizeof g);
    snprintf(path, sizeof path, "%s/genesis.json", dir);
    if (access(path, F_OK) == 0) {
        snprintf(err, errlen, "%s already holds a node (genesis.json exists)", dir);
        return PEL_EEXIST;
    }
    int rc = make_node_dir(dir, err, errlen);
    if (rc) return rc;
    snprintf(path, sizeof path, "%s/faucet.key", dir);
    rc = pel_keyfile_create(path, pk, NULL);
    if (rc) { snprintf(err, errlen, "cannot create key %s: %s", path, pel_strerror(rc)); return rc; }
    snprintf(g.params.chain_id, sizeof g.params.chain_id, "%s", chain_id);
    g.params.gas = pel_gas_defaults();
    g.params.min_gas_price = 1;
    g.time_ms = (uint64_t)time(NULL) * 1000;
    g.accounts = calloc(1, sizeof *g.accounts);
    if (!g.accounts) return PEL_ENOMEM;
    pel_addr_from_pubkey(pk, &g.accounts[0].addr);
    g.accounts[0].balance = faucet_balance;
    g.n_accounts = 1;
    rc = pel_genesis_finish(&g, err, errlen);
    if (!rc) rc = pel_genesis_to_json(&g, &json);
    snprintf(path, sizeof path, "%s/genesis.json", dir);
    if (!rc) {
        size_t n = strlen(json);
        json[n] = '\n';
        rc = pel_write_file_excl(path, json, n + 1, 0644);
        if (rc) snprintf(err, errlen, "cannot write %s: %s", path, pel_strerror(rc));
    }
    free(json);
    pel_genesis_free(&g);
    pel_node_config cfg = pel_node_config_defaults();
    cfg.listen_port = port;
    if (!rc) rc = pel_node_config_write(dir, &cfg);
    if (rc == PEL_EEXIST) rc = 0;      /* keep an existing config */
    if (rc && !err[0]) snprintf(err, errlen, "cannot write config.json: %s", pel_strerror(rc));
    return rc;
}

/* ---- pel init --cluster ---- */

void pel_cluster_token_new(char out[PEL_CLUSTER_TOKEN_LEN + 1])
{
    uint8_t b[PEL_CLUSTER_TOKEN_LEN / 2];
    randombytes_buf(b, sizeof b);
    pel_hex_encode(b, sizeof b, out);
    sodium_memzero(b, sizeof b);
}

static int copy_file(const char *from, const char *to, int mode)
{
    char *text;
    size_t len;
    int rc = pel_read_file(from, 64u << 20, &text, &len);
    if (rc) return rc;
    rc = pel_write_file_excl(to, text, len, mode);
    free(text);
    return rc;
}

/* Node i (1-based) of the cluster: node key, the shared genesis and faucet
 * key copied from node 1, its config. */
static int init_member(const char *dir, unsigned i, const pel_node_config *cfg, char *err,
                       size_t errlen)
{
    char nd[4096], path[4200], from[4200];
    snprintf(nd, sizeof nd, "%s/node%u", dir, i);
    int rc = make_node_dir(nd, err, errlen);
    const char *shared[2] = { "genesis.json", "faucet.key" };
    for (int k = 0; !rc && k < 2; k++) {
        snprintf(from, sizeof from, "%s/node1/%s", dir, shared[k]);
        snprintf(path, sizeof path, "%s/%s", nd, shared[k]);
        rc = copy_file(from, path, k ? 0600 : 0644);
    }
    if (!rc) rc = pel_node_config_write(nd, cfg);
    if (rc && !err[0]) snprintf(err, errlen, "cannot write %s: %s", nd, pel_strerror(rc));
    return rc;
}

int pel_node_init_cluster(const char *dir, const char *chain_id, uint64_t faucet_balance,
                          unsigned n, const uint16_t *rpc_ports, const uint16_t *raft_ports,
                          char *err, size_t errlen)
{
    char nd[4096];
    if (errlen) err[0] = 0;
    if (n == 0 || n > PEL_CLUSTER_MAX) {
        snprintf(err, errlen, "a cluster has 1 to %d nodes", PEL_CLUSTER_MAX);
        return PEL_EINVAL;
    }
    int rc = mkdir_ok(dir);
    if (rc) { snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno)); return rc; }
    pel_node_config cfg = pel_node_config_defaults();
    cfg.ordering_raft = 1;
    pel_cluster_token_new(cfg.admin_token);
    cfg.n_peers = n;
    for (unsigned i = 0; i < n; i++) {
        cfg.peers[i].id = i + 1;
        snprintf(cfg.peers[i].raft, sizeof cfg.peers[i].raft, "127.0.0.1:%u", raft_ports[i]);
        snprintf(cfg.peers[i].rpc, sizeof cfg.peers[i].rpc, "127.0.0.1:%u", rpc_ports[i]);
    }
    /* node 1 creates the chain; its config is written below like the others' */
    snprintf(nd, sizeof nd, "%s/node1", dir);
    snprintf(cfg.listen_host, sizeof cfg.listen_host, "127.0.0.1");
    cfg.cluster_id = 1;
    cfg.listen_port = rpc_ports[0];
    if (mkdir_ok(nd) == 0) {
        rc = pel_node_config_write(nd, &cfg);
        if (rc && rc != PEL_EEXIST) { snprintf(err, errlen, "cannot write %s/config.json", nd); return rc; }
    }
    rc = pel_node_init_dir(nd, chain_id, faucet_balance, rpc_ports[0], err, errlen);
    for (unsigned i = 2; !rc && i <= n; i++) {
        cfg.cluster_id = i;
        cfg.listen_port = rpc_ports[i - 1];
        rc = init_member(dir, i, &cfg, err, errlen);
    }
    return rc;
}

/* ---- pel cluster init / join ---- */

/* One member's entry: raft and rpc "host:port", the rpc one also where
 * this node's API listens. */
static int member_cfg(pel_node_config *cfg, uint64_t id, const char *rpc, const char *raft,
                      char *err, size_t errlen)
{
    char host[64];
    uint16_t port;
    if (pel_parse_listen(rpc, cfg->listen_host, sizeof cfg->listen_host, &cfg->listen_port) ||
        strlen(rpc) >= sizeof cfg->peers[0].rpc) {
        snprintf(err, errlen, "bad API address '%s' (host:port)", rpc);
        return PEL_EINVAL;
    }
    if (pel_parse_listen(raft, host, sizeof host, &port) || strlen(raft) >= sizeof cfg->peers[0].raft) {
        snprintf(err, errlen, "bad Raft address '%s' (IPv4 host:port)", raft);
        return PEL_EINVAL;
    }
    cfg->ordering_raft = 1;
    cfg->cluster_id = id;
    return 0;
}

int pel_node_init_cluster_founder(const char *dir, const char *chain_id, uint64_t faucet_balance,
                                  const char *rpc, const char *raft, char *err, size_t errlen)
{
    char path[4200];
    if (errlen) err[0] = 0;
    pel_node_config cfg = pel_node_config_defaults();
    int rc = member_cfg(&cfg, 1, rpc, raft, err, errlen);
    if (rc) return rc;
    pel_cluster_token_new(cfg.admin_token);
    cfg.n_peers = 1;
    cfg.peers[0].id = 1;
    snprintf(cfg.peers[0].raft, sizeof cfg.peers[0].raft, "%s", raft);
    snprintf(cfg.peers[0].rpc, sizeof cfg.peers[0].rpc, "%s", rpc);
    snprintf(path, sizeof path, "%s/genesis.json", dir);
    if (access(path, F_OK) == 0) {
        snprintf(err, errlen, "%s already holds a node (genesis.json exists)", dir);
        return PEL_EEXIST;
    }
    if (mkdir_ok(dir)) { snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno)); return PEL_EIO; }
    rc = pel_node_config_write(dir, &cfg);
    if (rc) {
        snprintf(err, errlen, rc == PEL_EEXIST ? "%s/config.json exists: not overwritten"
                 : "cannot write %s/config.json", dir);
        return rc;
    }
    return pel_node_init_dir(dir, chain_id, faucet_balance, cfg.listen_port, err, errlen);
}

int pel_node_init_cluster_joiner(const char *dir, const char *genesis_json, uint64_t id,
                                 const char *rpc, const char *raft, const pel_cluster_peer *peers,
                                 unsigned n_peers, const char *token, const char *faucet_key,
                                 char *err, size_t errlen)
{
    char path[4200];
    if (errlen) err[0] = 0;
    pel_node_config cfg = pel_node_config_defaults();
    int rc = member_cfg(&cfg, id, rpc, raft, err, errlen);
    if (rc) return rc;
    cfg.cluster_join = 1;
    if (strlen(token) != PEL_CLUSTER_TOKEN_LEN) {
        snprintf(err, errlen, "the cluster admin token must be %d hex characters", PEL_CLUSTER_TOKEN_LEN);
        return PEL_EINVAL;
    }
    snprintf(cfg.admin_token, sizeof cfg.admin_token, "%s", token);
    for (unsigned i = 0; i < n_peers && cfg.n_peers < PEL_CLUSTER_MAX; i++)
        if (peers[i].id != id) cfg.peers[cfg.n_peers++] = peers[i];
    if (cfg.n_peers == PEL_CLUSTER_MAX) { snprintf(err, errlen, "too many members"); return PEL_EINVAL; }
    pel_cluster_peer *self = &cfg.peers[cfg.n_peers++];
    memset(self, 0, sizeof *self);
    self->id = id;
    snprintf(self->raft, sizeof self->raft, "%s", raft);
    snprintf(self->rpc, sizeof self->rpc, "%s", rpc);
    snprintf(path, sizeof path, "%s/genesis.json", dir);
    if (access(path, F_OK) == 0) {
        snprintf(err, errlen, "%s already holds a node (genesis.json exists)", dir);
        return PEL_EEXIST;
    }
    rc = make_node_dir(dir, err, errlen);
    if (rc) return rc;
    size_t len = strlen(genesis_json);
    char *text = malloc(len + 1);
    if (!text) return PEL_ENOMEM;
    memcpy(text, genesis_json, len);
    text[len] = '\n';
    rc = pel_write_file_excl(path, text, len + 1, 0644);
    free(text);
    if (rc) { snprintf(err, errlen, "cannot write %s: %s", path, pel_strerror(rc)); return rc; }
    snprintf(path, sizeof path, "%s/faucet.key", dir);
    if (faucet_key && (rc = copy_file(faucet_key, path, 0600)) != 0) {
        snprintf(err, errlen, "cannot copy %s to %s: %s", faucet_key, path, pel_strerror(rc));
        return rc;
    }
    rc = pel_node_config_write(dir, &cfg);
    if (rc) snprintf(err, errlen, "cannot write %s/config.json: %s", dir, pel_strerror(rc));
    return rc;
}

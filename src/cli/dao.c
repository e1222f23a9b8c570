/*
 * dao.c - `pel dao` and `pel grant`: create a research-funding DAO, fund
 * its treasury, make proposals (milestone grants, transfers, parameter and
 * member changes, cancellation, release), vote, execute, show a DAO or a
 * proposal; and a reviewer's milestone release (modules/dao.h; RPC methods
 * `dao`, `dao_proposal`, `dao_proposals`).
 *
 * Bodies are checked with the module's own check before anything is
 * signed, so a malformed command fails here with the module's message.
 * Member and reviewer lists are sorted and deduplicated here, as the
 * codec wants them strictly ascending.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "core/hex.h"
#include "modules/dao.h"

#define DAO_TIMEOUT_MS 30000
#define DAO_GAS 60000          /* on top of the intrinsic gas; see send() */

static void dao_usage(FILE *f)
{
    fprintf(f,
        "usage: pel dao create --name NAME --mode member|token|shares --member ADDR...\n"
        "                      [--share-object pel:obj:…] [--period BLOCKS] [--quorum BPS]\n"
        "                      [--threshold BPS]\n"
        "       pel dao deposit DAO AMOUNT\n"
        "       pel dao propose DAO KIND [--text DESCRIPTION]      (waits for the commit)\n"
        "       pel dao vote DAO N yes|no|abstain\n"
        "       pel dao execute DAO N\n"
        "       pel dao show DAO [N] [--address ADDR] [--json]\n"
        "       pel dao list DAO [--after N] [--limit N] [--json]\n"
        "       pel grant release DAO GRANT_N MILESTONE_INDEX --deliverable pel:obj:…\n"
        "Common: --key FILE (default pel.key), --wait, --rpc URL (or $PEL_RPC), --json.\n"
        "\n"
        "create: --period is the voting period in blocks (default 20), --quorum the share\n"
        "of the total weight that must vote and --threshold the share of yes among yes+no\n"
        "(basis points, default 5000 each). The signer is a member even if not listed.\n"
        "--share-object is required in shares mode (the object's share class weighs).\n"
        "Prints the DAO's id (pel:dao:…).\n"
        "\n"
        "propose KIND, exactly one of:\n"
        "  --grant --to ADDR --milestone AMOUNT:DELIVERABLE... [--reviewer ADDR...]\n"
        "  --transfer --to ADDR --amount N\n"
        "  --params [--period BLOCKS] [--quorum BPS] [--threshold BPS]   (others kept)\n"
        "  --add ADDR | --remove ADDR              a member\n"
        "  --cancel GRANT_N                        unreleased escrow back to the treasury\n"
        "  --release GRANT_N --milestone-index I --deliverable pel:obj:…\n"
        "Prints the proposal's number. Voting runs until its deadline (height + period);\n"
        "anyone may execute it after the deadline if it passed.\n"
        "\n"
        "show: the DAO (settings, members, treasury, weights; --address: its stake and\n"
        "weight), or proposal N (tally, status, action, milestones; --address: its vote).\n"
        "list: proposals after N (default 0), ascending, --limit per page (default 100).\n"
        "grant release: a reviewer named in grant GRANT_N releases milestone\n"
        "MILESTONE_INDEX (from 0) to the grantee, who registered the deliverable object\n"
        "after the grant was funded.\n");
}

/* ---- parsing ---- */

static int parse_dao(const char *s, pel_dao_id *id)
{
    if (s && pel_dao_id_parse(s, id) == 0) return 0;
    fprintf(stderr, "pel dao: not a DAO id (pel:dao:<32 hex>): '%s'\n", s ? s : "");
    return -1;
}

static int parse_obj(const char *opt, const char *s, pel_obj_id *id)
{
    uint32_t v;
    if (s && pel_obj_id_parse(s, id, &v) == 0 && v == 0) return 0;
    fprintf(stderr, "pel dao: %s wants an object id pel:obj:<32 hex> (no @vN), got '%s'\n", opt, s ? s : "");
    return -1;
}

static int parse_u32(const char *opt, const char *s, unsigned long long min, unsigned long long max,
                     uint32_t *out)
{
    unsigned long long v;
    if (pel_cli_u64(opt, s, min, max, &v)) return -1;
    *out = (uint32_t)v;
    return 0;
}

static int cmp_addr(const void *a, const void *b)
{
    return memcmp(((const pel_addr *)a)->b, ((const pel_addr *)b)->b, PEL_ADDR_LEN);
}

/* Sort a[0..*n) ascending and drop repeats. */
static void sort_unique(pel_addr *a, uint32_t *n)
{
    uint32_t k = 0;
    qsort(a, *n, sizeof *a, cmp_addr);
    for (uint32_t i = 0; i < *n; i++)
        if (k == 0 || cmp_addr(&a[k - 1], &a[i])) a[k++] = a[i];
    *n = k;
}

/* Parse addresses s[0..n) given to opt into out (sorted, unique). */
static int parse_addrs(const char *opt, const char *const *s, int n, pel_addr *out, uint32_t *n_out)
{
    *n_out = 0;
    for (int i = 0; i < n; i++)
        if (pel_cli_parse_addr(opt, s[i], &out[(*n_out)++])) return -1;
    sort_unique(out, n_out);
    return 0;
}

/* The choice word; 0 if it is none. */
static uint8_t parse_choice(const char *s)
{
    if (!s) return 0;
    if (!strcmp(s, "yes")) return PEL_DAO_YES;
    if (!strcmp(s, "no")) return PEL_DAO_NO;
    if (!strcmp(s, "abstain")) return PEL_DAO_ABSTAIN;
    return 0;
}

/* ---- sending ---- */

/* Check, sign, submit. State costs: the DAO record (up to 256 members) is
 * read by most transactions and rewritten by member changes; a grant's
 * execution moves tokens and writes its progress. */
static int send(const char *who, const char *key, const char *rpc, uint16_t type, const pel_buf *b,
                int wait, int json, uint8_t *txid)
{
    uint64_t gas = DAO_GAS + 8 * (uint64_t)b->len;
    return pel_cli_send_body(who, &pel_dao_module, type, b, key, rpc, gas, wait, json, txid);
}

/* The signer's address from its key file. @return 0 or -1 (printed). */
static int signer(const char *key, pel_addr *a)
{
    uint8_t pk[PEL_PUBKEY_LEN], sk[PEL_SECKEY_LEN];
    if (pel_cli_load_key(key, pk, sk)) return -1;
    sodium_memzero(sk, sizeof sk);
    pel_addr_from_pubkey(pk, a);
    return 0;
}

/* ---- create ---- */

typedef struct create_opts {
    const char *name, *mode, *share, *period, *quorum, *threshold, *key, *rpc;
    const char *members[PEL_DAO_MEMBERS_MAX];
    int n_members, wait, json;
} create_opts;

/* The settings from the options (members sorted, the signer added). */
static int create_fill(const create_opts *o, pel_dao *d)
{
    unsigned long long per = 20, q = 5000, t = 5000;
    int mode = o->mode ? pel_dao_mode_parse(o->mode) : -1;
    memset(d, 0, sizeof *d);
    if (!o->name || !*o->name) { fprintf(stderr, "pel dao create: --name NAME is required\n"); return -1; }
    if (mode < 0) { fprintf(stderr, "pel dao create: --mode is member, token or shares\n"); return -1; }
    if ((mode == PEL_DAO_SHARES) != (o->share != NULL)) {
        fprintf(stderr, "pel dao create: --share-object pel:obj:… is required in shares mode, and only there\n");
        return -1;
    }
    if (o->share && parse_obj("--share-object", o->share, &d->share_obj)) return -1;
    if ((o->period && pel_cli_u64("--period", o->period, 1, PEL_DAO_PERIOD_MAX, &per)) ||
        (o->quorum && pel_cli_u64("--quorum", o->quorum, 0, 10000, &q)) ||
        (o->threshold && pel_cli_u64("--threshold", o->threshold, 1, 10000, &t)))
        return -1;
    if (parse_addrs("--member", o->members, o->n_members, d->members, &d->n_members)) return -1;
    d->name = o->name;
    d->name_len = (uint32_t)strlen(o->name);
    d->mode = (uint8_t)mode;
    d->period = per;
    d->quorum_bps = (uint16_t)q;
    d->threshold_bps = (uint16_t)t;
    return 0;
}

/* Add the signer to the members unless listed (there is room: the
 * options hold at most PEL_DAO_MEMBERS_MAX, and a full list that lacks
 * the signer is refused). */
static int add_signer(const char *key, pel_dao *d)
{
    pel_addr me;
    if (signer(key, &me)) return -1;
    for (uint32_t i = 0; i < d->n_members; i++) if (!cmp_addr(&d->members[i], &me)) return 0;
    if (d->n_members == PEL_DAO_MEMBERS_MAX) {
        fprintf(stderr, "pel dao create: at most %d members, the signer included\n", PEL_DAO_MEMBERS_MAX);
        return -1;
    }
    d->members[d->n_members++] = me;
    sort_unique(d->members, &d->n_members);
    return 0;
}

static void print_dao_id(const uint8_t txid[32])
{
    pel_dao_id id;
    char s[PEL_DAO_ID_STR_LEN + 1];
    pel_dao_id_of(txid, &id);
    pel_dao_id_format(&id, s);
    s[PEL_DAO_ID_STR_LEN] = 0;
    printf("%-13s %s\n", "dao", s);
}

static int dao_create(int argc, char **argv)
{
    create_opts o = { .key = "pel.key" };
    int np;
    const pel_cli_opt opts[] = {
        { "--name", .val = &o.name }, { "--mode", .val = &o.mode }, { "--share-object", .val = &o.share },
        { "--period", .val = &o.period }, { "--quorum", .val = &o.quorum }, { "--threshold", .val = &o.threshold },
        { "--member", .val = o.members, .n = &o.n_members, .max = PEL_DAO_MEMBERS_MAX, .what = "members" },
        { "--key", .val = &o.key }, { "--rpc", .val = &o.rpc },
        { "--wait", .flag = &o.wait }, { "--json", .flag = &o.json },
    };
    const pel_cli_cmd cmd = { "pel dao", dao_usage, opts, sizeof opts / sizeof opts[0] };
    int prc = pel_cli_parse(&cmd, argc, argv, NULL, 0, &np);
    if (prc) return PEL_CLI_EXIT(prc);
    pel_dao *d = malloc(sizeof *d);
    pel_buf b;
    uint8_t txid[32];
    pel_buf_init(&b);
    int rc = !d ? 1 : create_fill(&o, d) ? 2 : add_signer(o.key, d) ? 1 : pel_dao_create_body(d, &b) ? 1 : 0;
    if (!rc) rc = send("pel dao", o.key, o.rpc, PEL_TX_DAO_CREATE, &b, o.wait, o.json, txid);
    if (!rc && !o.json) print_dao_id(txid);
    pel_buf_free(&b);
    free(d);
    return rc;
}

/* ---- deposit, vote, execute, grant release ---- */

typedef struct tx_opts {
    const char *pos[4], *key, *rpc, *deliverable;
    int npos, wait, json;
} tx_opts;

/* Operands and the common options (--deliverable for grant release). */
static int tx_parse(const char *who, int argc, char **argv, int want, tx_opts *o)
{
    memset(o, 0, sizeof *o);
    o->key = "pel.key";
    const pel_cli_opt opts[] = {
        { "--key", .val = &o->key }, { "--rpc", .val = &o->rpc }, { "--deliverable", .val = &o->deliverable },
        { "--wait", .flag = &o->wait }, { "--json", .flag = &o->json },
    };
    const pel_cli_cmd cmd = { who, dao_usage, opts, sizeof opts / sizeof opts[0] };
    int prc = pel_cli_parse(&cmd, argc, argv, o->pos, want, &o->npos);
    if (prc) return PEL_CLI_EXIT(prc);
    if (o->npos != want) {
        fprintf(stderr, "%s: expected %d arguments; see pel dao --help\n", who, want);
        return 2;
    }
    return 0;
}

static int dao_deposit(int argc, char **argv)
{
    tx_opts o;
    pel_dao_id id;
    unsigned long long amount;
    pel_buf b;
    int rc = tx_parse("pel dao deposit", argc, argv, 2, &o);
    if (rc) return rc;
    if (o.deliverable) { fprintf(stderr, "pel dao deposit: --deliverable is for pel grant release\n"); return 2; }
    if (parse_dao(o.pos[0], &id) || pel_cli_u64("AMOUNT", o.pos[1], 1, INT64_MAX, &amount)) return 2;
    pel_buf_init(&b);
    rc = pel_dao_deposit_body(&id, amount, &b) ? 1 : send("pel dao", o.key, o.rpc, PEL_TX_DAO_DEPOSIT, &b, o.wait, o.json, NULL);
    pel_buf_free(&b);
    return rc;
}

static int dao_vote(int argc, char **argv)
{
    tx_opts o;
    pel_dao_id id;
    uint32_t n;
    pel_buf b;
    int rc = tx_parse("pel dao vote", argc, argv, 3, &o);
    if (rc) return rc;
    uint8_t c = parse_choice(o.pos[2]);
    if (parse_dao(o.pos[0], &id) || parse_u32("N", o.pos[1], 1, UINT32_MAX, &n)) return 2;
    if (!c) { fprintf(stderr, "pel dao vote: the choice is yes, no or abstain, got '%s'\n", o.pos[2]); return 2; }
    if (o.deliverable) { fprintf(stderr, "pel dao vote: --deliverable is for pel grant release\n"); return 2; }
    pel_buf_init(&b);
    rc = pel_dao_vote_body(&id, n, c, &b) ? 1 : send("pel dao", o.key, o.rpc, PEL_TX_DAO_VOTE, &b, o.wait, o.json, NULL);
    pel_buf_free(&b);
    return rc;
}

static int dao_execute(int argc, char **argv)
{
    tx_opts o;
    pel_dao_id id;
    uint32_t n;
    pel_buf b;
    int rc = tx_parse("pel dao execute", argc, argv, 2, &o);
    if (rc) return rc;
    if (parse_dao(o.pos[0], &id) || parse_u32("N", o.pos[1], 1, UINT32_MAX, &n)) return 2;
    if (o.deliverable) { fprintf(stderr, "pel dao execute: --deliverable is for pel grant release\n"); return 2; }
    pel_buf_init(&b);
    rc = pel_dao_execute_body(&id, n, &b) ? 1 : send("pel dao", o.key, o.rpc, PEL_TX_DAO_EXECUTE, &b, o.wait, o.json, NULL);
    pel_buf_free(&b);
    return rc;
}

static int grant_release(int argc, char **argv)
{
    tx_opts o;
    pel_dao_id id;
    pel_obj_id obj;
    uint32_t n, m;
    pel_buf b;
    int rc = tx_parse("pel grant release", argc, argv, 3, &o);
    if (rc) return rc;
    if (parse_dao(o.pos[0], &id) || parse_u32("GRANT_N", o.pos[1], 1, UINT32_MAX, &n) ||
        parse_u32("MILESTONE_INDEX", o.pos[2], 0, PEL_DAO_MILESTONES_MAX - 1, &m))
        return 2;
    if (!o.deliverable) { fprintf(stderr, "pel grant release: --deliverable pel:obj:… is required\n"); return 2; }
    if (parse_obj("--deliverable", o.deliverable, &obj)) return 2;
    pel_buf_init(&b);
    rc = pel_dao_release_body(&id, n, (uint8_t)m, &obj, &b) ? 1
       : send("pel grant", o.key, o.rpc, PEL_TX_DAO_RELEASE, &b, o.wait, o.json, NULL);
    pel_buf_free(&b);
    return rc;
}

/* ---- propose ---- */

typedef struct prop_opts {
    const char *pos[1], *text, *to, *amount, *period, *quorum, *threshold, *add, *remove, *cancel;
    const char *release, *index, *deliverable, *key, *rpc;
    const char *milestones[PEL_DAO_MILESTONES_MAX], *reviewers[PEL_DAO_REVIEWERS_MAX];
    int npos, n_milestones, n_reviewers, grant, transfer, params, json;
    int wait;                  /* accepted; propose always waits */
} prop_opts;

/* The kind the options name; 0 after printing why (none or several). */
static int prop_kind(const prop_opts *o)
{
    int kinds[] = { o->grant, o->transfer, o->params, o->add != NULL, o->remove != NULL,
                    o->cancel != NULL, o->release != NULL };
    int kind = 0, n = 0;
    for (int i = 0; i < 7; i++) if (kinds[i]) { kind = i + 1; n++; }
    if (n == 1) return kind;
    fprintf(stderr, "pel dao propose: give exactly one of --grant, --transfer, --params, --add, --remove, "
            "--cancel, --release\n");
    return 0;
}

/* Options that belong to another kind than k are refused, not ignored. */
static int prop_stray(const prop_opts *o, int k)
{
    struct { int given, allowed; const char *name; } t[] = {
        { o->to != NULL, k == PEL_DAO_GRANT || k == PEL_DAO_TRANSFER, "--to" },
        { o->amount != NULL, k == PEL_DAO_TRANSFER, "--amount" },
        { o->n_milestones > 0, k == PEL_DAO_GRANT, "--milestone" },
        { o->n_reviewers > 0, k == PEL_DAO_GRANT, "--reviewer" },
        { o->period || o->quorum || o->threshold, k == PEL_DAO_PARAMS, "--period/--quorum/--threshold" },
        { o->index != NULL, k == PEL_DAO_RELEASE, "--milestone-index" },
        { o->deliverable != NULL, k == PEL_DAO_RELEASE, "--deliverable" },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i].given && !t[i].allowed) {
            fprintf(stderr, "pel dao propose: %s does not go with --%s\n", t[i].name, pel_dao_kind_name(k));
            return -1;
        }
    return 0;
}

/* "AMOUNT:DELIVERABLE" */
static int parse_milestone(const char *s, pel_dao_milestone *m)
{
    char num[32];
    unsigned long long v;
    const char *colon = strchr(s, ':');
    if (!colon || colon == s || (size_t)(colon - s) >= sizeof num || !colon[1]) {
        fprintf(stderr, "pel dao propose: --milestone AMOUNT:DELIVERABLE (e.g. 500:cleaned dataset), got '%s'\n", s);
        return -1;
    }
    memcpy(num, s, (size_t)(colon - s));
    num[colon - s] = 0;
    if (pel_cli_u64("--milestone", num, 1, INT64_MAX, &v)) return -1;
    m->amount = v;
    m->deliverable = colon + 1;
    m->deliverable_len = (uint32_t)strlen(colon + 1);
    return 0;
}

static int fill_grant(const prop_opts *o, pel_dao_action *a)
{
    if (!o->to || o->n_milestones == 0) {
        fprintf(stderr, "pel dao propose: --grant needs --to ADDR and at least one --milestone AMOUNT:DELIVERABLE\n");
        return -1;
    }
    if (pel_cli_parse_addr("--to", o->to, &a->addr) ||
        parse_addrs("--reviewer", o->reviewers, o->n_reviewers, a->reviewers, &a->n_reviewers))
        return -1;
    for (int i = 0; i < o->n_milestones; i++)
        if (parse_milestone(o->milestones[i], &a->milestones[a->n_milestones++])) return -1;
    return 0;
}

/* The DAO's current period, quorum and threshold (for --params without
 * all three). @return 0 or -1 (printed). */
static int current_params(const prop_opts *o, pel_dao_action *a)
{
    pel_rpc_client *c;
    cJSON *p = cJSON_CreateObject(), *r = NULL;
    uint64_t per, q, t;
    int rc = -1;
    if (!p || !cJSON_AddStringToObject(p, "dao", o->pos[0])) { cJSON_Delete(p); return -1; }
    if (pel_cli_connect(pel_cli_rpc_url(o->rpc), DAO_TIMEOUT_MS, &c) == 0) {
        if (pel_cli_call(c, "dao", p, &r, "dao") == 0) {
            if (pel_cli_json_u64(r, "period", &per) || pel_cli_json_u64(r, "quorum_bps", &q) ||
                pel_cli_json_u64(r, "threshold_bps", &t))
                fprintf(stderr, "pel dao: the node's dao answer lacks period, quorum_bps, threshold_bps\n");
            else {
                a->period = per;
                a->quorum_bps = (uint16_t)q;
                a->threshold_bps = (uint16_t)t;
                rc = 0;
            }
        }
        pel_rpc_client_free(c);
    }
    cJSON_Delete(p);
    cJSON_Delete(r);
    return rc;
}

static int fill_params(const prop_opts *o, pel_dao_action *a)
{
    unsigned long long per, q, t;
    if (!o->period && !o->quorum && !o->threshold) {
        fprintf(stderr, "pel dao propose: --params needs --period, --quorum or --threshold\n");
        return -1;
    }
    if ((o->period && pel_cli_u64("--period", o->period, 1, PEL_DAO_PERIOD_MAX, &per)) ||
        (o->quorum && pel_cli_u64("--quorum", o->quorum, 0, 10000, &q)) ||
        (o->threshold && pel_cli_u64("--threshold", o->threshold, 1, 10000, &t)))
        return -1;
    if ((!o->period || !o->quorum || !o->threshold) && current_params(o, a)) return -1;
    if (o->period) a->period = per;
    if (o->quorum) a->quorum_bps = (uint16_t)q;
    if (o->threshold) a->threshold_bps = (uint16_t)t;
    return 0;
}

static int fill_release(const prop_opts *o, pel_dao_action *a)
{
    uint32_t m;
    if (!o->index || !o->deliverable) {
        fprintf(stderr, "pel dao propose: --release GRANT_N needs --milestone-index I and --deliverable pel:obj:…\n");
        return -1;
    }
    if (parse_u32("--release", o->release, 1, UINT32_MAX, &a->grant) ||
        parse_u32("--milestone-index", o->index, 0, PEL_DAO_MILESTONES_MAX - 1, &m) ||
        parse_obj("--deliverable", o->deliverable, &a->deliverable))
        return -1;
    a->milestone = (uint8_t)m;
    return 0;
}

/* The action the options describe. @return 0 or -1 (printed). */
static int prop_fill(const prop_opts *o, pel_dao_action *a)
{
    unsigned long long v;
    int k = prop_kind(o);
    memset(a, 0, sizeof *a);
    if (!k || prop_stray(o, k)) return -1;
    a->kind = (uint8_t)k;
    switch (k) {
    case PEL_DAO_GRANT: return fill_grant(o, a);
    case PEL_DAO_TRANSFER:
        if (!o->to || !o->amount) { fprintf(stderr, "pel dao propose: --transfer needs --to ADDR and --amount N\n"); return -1; }
        if (pel_cli_parse_addr("--to", o->to, &a->addr) || pel_cli_u64("--amount", o->amount, 1, INT64_MAX, &v)) return -1;
        a->amount = v;
        return 0;
    case PEL_DAO_PARAMS: return fill_params(o, a);
    case PEL_DAO_ADD: return pel_cli_parse_addr("--add", o->add, &a->addr);
    case PEL_DAO_REMOVE: return pel_cli_parse_addr("--remove", o->remove, &a->addr);
    case PEL_DAO_CANCEL: return parse_u32("--cancel", o->cancel, 1, UINT32_MAX, &a->grant);
    default: return fill_release(o, a);
    }
}

/* The DAO event of op `op` in transaction txid's receipt: its proposal
 * number, decoded from the event's raw bytes (every event has "data": hex).
 * @return 0 or -1 (printed). */
static int event_proposal(const char *rpc, const uint8_t txid[32], uint8_t want, uint32_t *prop)
{
    pel_rpc_client *c;
    char hex[65];
    cJSON *p = cJSON_CreateObject(), *r = NULL;
    const cJSON *ev;
    int rc = -1;
    pel_hex_encode(txid, 32, hex);
    if (!p || !cJSON_AddStringToObject(p, "id", hex)) { cJSON_Delete(p); return -1; }
    if (pel_cli_connect(pel_cli_rpc_url(rpc), DAO_TIMEOUT_MS, &c) == 0) {
        if (pel_cli_call(c, "tx_status", p, &r, "tx_status") == 0) {
            const cJSON *rec = cJSON_GetObjectItemCaseSensitive(r, "receipt");
            cJSON_ArrayForEach(ev, cJSON_GetObjectItemCaseSensitive(rec, "events")) {
                const char *d = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "data"));
                uint8_t buf[128], op;
                size_t n;
                pel_dao_id id;
                pel_addr who;
                uint64_t value;
                if (d && strlen(d) <= 2 * sizeof buf && pel_hex_decode(d, strlen(d), buf, sizeof buf, &n) == 0 &&
                    pel_dao_event(buf, n, &op, &id, prop, &who, &value) == 0 && op == want) {
                    rc = 0;
                    break;
                }
            }
            if (rc) fprintf(stderr, "pel dao: transaction %s has no DAO event; see pel dao list\n", hex);
        }
        pel_rpc_client_free(c);
    }
    cJSON_Delete(p);
    cJSON_Delete(r);
    return rc;
}

static int prop_parse(int argc, char **argv, prop_opts *o)
{
    memset(o, 0, sizeof *o);
    o->key = "pel.key";
    o->text = "";
    const pel_cli_opt opts[] = {
        { "--grant", .flag = &o->grant }, { "--transfer", .flag = &o->transfer }, { "--params", .flag = &o->params },
        { "--add", .val = &o->add }, { "--remove", .val = &o->remove }, { "--cancel", .val = &o->cancel },
        { "--release", .val = &o->release }, { "--text", .val = &o->text }, { "--to", .val = &o->to },
        { "--amount", .val = &o->amount }, { "--period", .val = &o->period }, { "--quorum", .val = &o->quorum },
        { "--threshold", .val = &o->threshold }, { "--milestone-index", .val = &o->index },
        { "--deliverable", .val = &o->deliverable },
        { "--milestone", .val = o->milestones, .n = &o->n_milestones, .max = PEL_DAO_MILESTONES_MAX, .what = "milestones" },
        { "--reviewer", .val = o->reviewers, .n = &o->n_reviewers, .max = PEL_DAO_REVIEWERS_MAX, .what = "reviewers" },
        { "--key", .val = &o->key }, { "--rpc", .val = &o->rpc }, { "--json", .flag = &o->json },
        { "--wait", .flag = &o->wait },
    };
    const pel_cli_cmd cmd = { "pel dao", dao_usage, opts, sizeof opts / sizeof opts[0] };
    int prc = pel_cli_parse(&cmd, argc, argv, o->pos, 1, &o->npos);
    if (prc) return PEL_CLI_EXIT(prc);
    if (o->npos != 1) { fprintf(stderr, "pel dao propose: give the DAO (pel:dao:…)\n"); return 2; }
    return 0;
}

static int dao_propose(int argc, char **argv)
{
    prop_opts o;
    pel_dao_id id;
    pel_dao_action a;
    pel_buf b;
    uint8_t txid[32];
    uint32_t n;
    int rc = prop_parse(argc, argv, &o);
    if (rc) return rc;
    if (parse_dao(o.pos[0], &id) || prop_fill(&o, &a)) return 2;
    pel_buf_init(&b);
    rc = pel_dao_propose_body(&id, o.text, &a, &b) ? 1
       : send("pel dao", o.key, o.rpc, PEL_TX_DAO_PROPOSE, &b, 1, o.json, txid);
    pel_buf_free(&b);
    if (rc) return rc;
    if (event_proposal(o.rpc, txid, PEL_TX_DAO_PROPOSE - 32, &n)) return 1;
    if (!o.json) printf("%-13s %u\n", "proposal", n);
    return 0;
}

/* ---- show, list ---- */

static const char *jstr(const cJSON *o, const char *k)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
    return s ? s : "";
}

static double jnum(const cJSON *o, const char *k)
{
    return cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* Print the scalar fields keys[0..n) of o that are there, one a line. */
static void print_fields(const cJSON *o, const char *const *keys, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, keys[i]);
        if (cJSON_IsString(v)) printf("%-13s %s\n", keys[i], v->valuestring);
        else if (cJSON_IsNumber(v)) printf("%-13s %.0f\n", keys[i], v->valuedouble);
        else if (cJSON_IsBool(v)) printf("%-13s %s\n", keys[i], cJSON_IsTrue(v) ? "yes" : "no");
    }
}

static void print_dao(const cJSON *r)
{
    static const char *const head[] = { "id", "name", "mode", "share_object", "period", "quorum_bps",
                                        "threshold_bps", "creator", "height" };
    static const char *const tail[] = { "total_weight", "proposals" };
    const cJSON *it, *acc = cJSON_GetObjectItemCaseSensitive(r, "account");
    print_fields(r, head, sizeof head / sizeof head[0]);
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r, "members"))
        printf("%-13s %s\n", "member", cJSON_GetStringValue(it));
    printf("%-13s %s (balance %s)\n", "treasury", jstr(r, "treasury"), jstr(r, "treasury_balance"));
    print_fields(r, tail, sizeof tail / sizeof tail[0]);
    if (cJSON_IsObject(acc))
        printf("%-13s %s: %s, stake %s, weight %s\n", "account", jstr(acc, "address"),
               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(acc, "member")) ? "member" : "not a member",
               jstr(acc, "stake"), jstr(acc, "weight"));
}

static void print_grant(const cJSON *r)
{
    const cJSON *it;
    int i = 0;
    printf("%-13s %s\n", "recipient", jstr(r, "recipient"));
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r, "reviewers"))
        printf("%-13s %s\n", "reviewer", cJSON_GetStringValue(it));
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r, "milestones")) {
        int done = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "released"));
        printf("milestone %-3d %s \"%s\" %s%s\n", i++, jstr(it, "amount"), jstr(it, "deliverable"),
               done ? "released, deliverable " : "not released", done ? jstr(it, "deliverable_object") : "");
    }
    printf("%-13s %s (balance %s)\n", "escrow", jstr(r, "escrow"), jstr(r, "escrow_balance"));
    if (jnum(r, "funded") > 0) printf("%-13s at height %.0f%s\n", "funded", jnum(r, "funded"),
                                      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "cancelled")) ? ", cancelled" : "");
    else printf("%-13s not yet\n", "funded");
}

static void print_proposal(const cJSON *r)
{
    static const char *const head[] = { "proposer", "height", "deadline", "total_weight" };
    static const char *const act[] = { "to", "amount", "period", "quorum_bps", "threshold_bps", "address",
                                       "grant", "milestone", "deliverable" };
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "tally"), *v = cJSON_GetObjectItemCaseSensitive(r, "vote");
    const char *st = jstr(r, "status");
    printf("%-13s %.0f (%s)\n", "proposal", jnum(r, "number"), jstr(r, "kind"));
    if (!strcmp(st, "executed")) printf("%-13s executed at height %.0f\n", "status", jnum(r, "executed"));
    else printf("%-13s %s (deadline %.0f, head %.0f)\n", "status", st, jnum(r, "deadline"), jnum(r, "head"));
    printf("%-13s %s\n", "description", jstr(r, "description"));
    print_fields(r, head, sizeof head / sizeof head[0]);
    printf("%-13s yes %s, no %s, abstain %s\n", "tally", jstr(t, "yes"), jstr(t, "no"), jstr(t, "abstain"));
    if (!strcmp(jstr(r, "kind"), "grant")) print_grant(r);
    else print_fields(r, act, sizeof act / sizeof act[0]);
    if (cJSON_IsObject(v))
        printf("%-13s %s: %s (weight %s)\n", "vote", jstr(v, "voter"), jstr(v, "choice"), jstr(v, "weight"));
    else if (cJSON_IsNull(v))
        printf("%-13s none\n", "vote");
}

static void print_list(const cJSON *r)
{
    const cJSON *it, *t, *nx = cJSON_GetObjectItemCaseSensitive(r, "next");
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r, "proposals")) {
        t = cJSON_GetObjectItemCaseSensitive(it, "tally");
        printf("%-5.0f %-9s %-9s yes %s no %s abstain %s  %s\n", jnum(it, "number"), jstr(it, "kind"),
               jstr(it, "status"), jstr(t, "yes"), jstr(t, "no"), jstr(t, "abstain"), jstr(it, "description"));
    }
    if (cJSON_IsNumber(nx)) printf("more: --after %.0f\n", nx->valuedouble);
}

/* Call method with p (consumed), print the answer as JSON or with pr. */
static int query(const char *rpc, const char *method, cJSON *p, int json, void (*pr)(const cJSON *))
{
    pel_rpc_client *c;
    cJSON *r = NULL;
    int rc = 1;
    if (!p) { fprintf(stderr, "pel dao: out of memory\n"); return 1; }
    if (pel_cli_connect(pel_cli_rpc_url(rpc), DAO_TIMEOUT_MS, &c) == 0) {
        rc = pel_cli_call(c, method, p, &r, method) ? 1 : 0;
        pel_rpc_client_free(c);
    }
    cJSON_Delete(p);
    if (rc) return rc;
    char *s = json ? cJSON_PrintUnformatted(r) : NULL;
    if (s) printf("%s\n", s);
    else pr(r);
    free(s);
    cJSON_Delete(r);
    return 0;
}

static int dao_show(int argc, char **argv)
{
    const char *pos[2] = { NULL, NULL }, *addr = NULL, *rpc = NULL;
    int json = 0, np;
    pel_dao_id id;
    pel_addr a;
    uint32_t n = 0;
    const pel_cli_opt opts[] = { { "--address", .val = &addr }, { "--rpc", .val = &rpc }, { "--json", .flag = &json } };
    const pel_cli_cmd cmd = { "pel dao", dao_usage, opts, sizeof opts / sizeof opts[0] };
    int prc = pel_cli_parse(&cmd, argc, argv, pos, 2, &np);
    if (prc) return PEL_CLI_EXIT(prc);
    if (parse_dao(pos[0], &id) || (np == 2 && parse_u32("N", pos[1], 1, UINT32_MAX, &n))) return 2;
    if (addr && pel_cli_parse_addr("--address", addr, &a)) return 2;
    cJSON *p = cJSON_CreateObject();
    if (p) cJSON_AddStringToObject(p, "dao", pos[0]);
    if (p && np == 2) cJSON_AddNumberToObject(p, "proposal", n);
    if (p && addr) cJSON_AddStringToObject(p, np == 2 ? "voter" : "address", addr);
    return np == 2 ? query(rpc, "dao_proposal", p, json, print_proposal) : query(rpc, "dao", p, json, print_dao);
}

static int dao_list(int argc, char **argv)
{
    const char *pos[1] = { NULL }, *after = NULL, *limit = NULL, *rpc = NULL;
    int json = 0, np;
    pel_dao_id id;
    uint32_t af = 0, li = 100;
    const pel_cli_opt opts[] = { { "--after", .val = &after }, { "--limit", .val = &limit },
                                 { "--rpc", .val = &rpc }, { "--json", .flag = &json } };
    const pel_cli_cmd cmd = { "pel dao", dao_usage, opts, sizeof opts / sizeof opts[0] };
    int prc = pel_cli_parse(&cmd, argc, argv, pos, 1, &np);
    if (prc) return PEL_CLI_EXIT(prc);
    if (parse_dao(pos[0], &id) || (after && parse_u32("--after", after, 0, UINT32_MAX, &af)) ||
        (limit && parse_u32("--limit", limit, 1, 1000, &li)))
        return 2;
    cJSON *p = cJSON_CreateObject();
    if (p) {
        cJSON_AddStringToObject(p, "dao", pos[0]);
        cJSON_AddNumberToObject(p, "after", af);
        cJSON_AddNumberToObject(p, "limit", li);
    }
    return query(rpc, "dao_proposals", p, json, print_list);
}

/* ---- entry points ---- */

int pel_cli_dao(int argc, char **argv)
{
    static const struct { const char *verb; int (*fn)(int, char **); } verbs[] = {
        { "create", dao_create }, { "deposit", dao_deposit }, { "propose", dao_propose },
        { "vote", dao_vote }, { "execute", dao_execute }, { "show", dao_show }, { "list", dao_list },
    };
    if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        dao_usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (!strcmp(argv[0], verbs[i].verb)) return verbs[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "pel dao: unknown command '%s'\n", argv[0]);
    dao_usage(stderr);
    return 2;
}

int pel_cli_grant(int argc, char **argv)
{
    if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        dao_usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    if (!strcmp(argv[0], "release")) return grant_release(argc - 1, argv + 1);
    fprintf(stderr, "pel grant: unknown command '%s' (pel grant release …)\n", argv[0]);
    return 2;
}

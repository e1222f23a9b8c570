/*
 * license.c - `pel license`: set an object's licence terms, buy a licence,
 * show terms, sales and a buyer's licence (modules/licence.h; RPC method
 * `licence`). The command is spelt "license" like SPDX's; the code and the
 * documents say "licence".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "modules/licence.h"

static void license_usage(FILE *f)
{
    fprintf(f,
        "usage: pel license set pel:obj:… --price N --party ADDR:BPS [--party ADDR:BPS ...]\n"
        "                       [--upstream BPS] [--key FILE] [--wait]\n"
        "       pel license buy pel:obj:… [--max-price N] [--key FILE] [--wait]\n"
        "       pel license show pel:obj:… [--buyer ADDR] [--after HEIGHT:INDEX] [--limit N] [--json]\n"
        "Common: --rpc URL (or $PEL_RPC), --json.\n"
        "\n"
        "set: the object's controllers fix a price (native token units) and its split\n"
        "among the object's creator, maintainers and contributors in basis points\n"
        "(summing to 10000); --upstream BPS of every payment goes to the objects it is\n"
        "derived from or uses data from, cascading (default 0).\n"
        "buy: pays the current price to every party in one transaction; --max-price\n"
        "(default: the price shown now) refuses to pay more if the terms change.\n"
        "show: terms, licences sold and revenue, purchases (100 per page), and with\n"
        "--buyer that buyer's licence and the state key to prove it by\n"
        "(pel prove state KEY).\n");
}

/* "ADDR:BPS" */
static int parse_party(const char *s, pel_lic_party *p)
{
    char addr[128];
    const char *colon = strrchr(s, ':');
    unsigned long long bps;
    if (!colon || (size_t)(colon - s) >= sizeof addr) {
        fprintf(stderr, "pel license: --party ADDR:BPS, got '%s'\n", s);
        return -1;
    }
    memcpy(addr, s, (size_t)(colon - s));
    addr[colon - s] = 0;
    if (pel_cli_parse_addr("--party", addr, &p->addr)) return -1;
    if (pel_cli_u64("--party", colon + 1, 1, PEL_LIC_BPS, &bps)) return -1;
    p->bps = (uint16_t)bps;
    return 0;
}

static int parse_id(const char *s, pel_obj_id *id)
{
    uint32_t v;
    if (!s || pel_obj_id_parse(s, id, &v) || v) {
        fprintf(stderr, "pel license: give the object as pel:obj:<32 hex> (no @vN: a licence is of the object)\n");
        return -1;
    }
    return 0;
}

/* Check, sign and submit a body; the exit status. A purchase reads and
 * credits one object and its parties per hop. */
static int send(const char *key, const char *rpc, uint16_t type, const pel_buf *b, int wait, int json)
{
    uint64_t gas = 20000 + (type == PEL_TX_LIC_BUY ? 40000ull * PEL_LIC_HOPS_MAX : 0);
    return pel_cli_send_body("pel license", &pel_licence_module, type, b, key, rpc, gas, wait, json, NULL);
}

static int set(int argc, char **argv)
{
    const char *target = NULL, *price = NULL, *up = "0", *key = "pel.key", *rpc = NULL;
    const char *parties[PEL_LIC_PARTIES_MAX];
    int n_parties = 0, wait = 0, json = 0, np;
    const pel_cli_opt opts[] = {
        { "--price", .val = &price }, { "--upstream", .val = &up },
        { "--party", .val = parties, .n = &n_parties, .max = PEL_LIC_PARTIES_MAX, .what = "parties" },
        { "--key", .val = &key }, { "--rpc", .val = &rpc },
        { "--wait", .flag = &wait }, { "--json", .flag = &json },
    };
    const pel_cli_cmd cmd = { "pel license", license_usage, opts, sizeof opts / sizeof opts[0] };
    int prc = pel_cli_parse(&cmd, argc, argv, &target, 1, &np);
    if (prc) return PEL_CLI_EXIT(prc);
    pel_obj_id id;
    pel_lic_terms t;
    unsigned long long p, u;
    memset(&t, 0, sizeof t);
    if (parse_id(target, &id)) return 2;
    if (!price) { fprintf(stderr, "pel license: --price N is required\n"); return 2; }
    if (n_parties == 0) { fprintf(stderr, "pel license: at least one --party ADDR:BPS is required\n"); return 2; }
    if (pel_cli_u64("--price", price, 0, INT64_MAX, &p) || pel_cli_u64("--upstream", up, 0, PEL_LIC_BPS, &u))
        return 2;
    t.price = p;
    t.upstream_bps = (uint16_t)u;
    for (int i = 0; i < n_parties; i++)
        if (parse_party(parties[i], &t.party[t.n++])) return 2;
    pel_buf b;
    pel_buf_init(&b);
    int rc = pel_lic_terms_body(&id, &t, &b) ? 1 : send(key, rpc, PEL_TX_LIC_TERMS, &b, wait, json);
    pel_buf_free(&b);
    return rc;
}

/* The `licence` answer for an object (NULL after printing why). */
static cJSON *query(pel_rpc_client *c, const char *id, const char *buyer, const char *after,
                    const char *limit)
{
    cJSON *p = cJSON_CreateObject(), *r = NULL;
    if (!p) return NULL;
    cJSON_AddStringToObject(p, "id", id);
    if (buyer) cJSON_AddStringToObject(p, "buyer", buyer);
    if (after) {
        unsigned long long h, i;
        char hs[32];
        const char *colon = strchr(after, ':');
        if (!colon || (size_t)(colon - after) >= sizeof hs) {
            fprintf(stderr, "pel license: --after HEIGHT:INDEX (the previous page's next)\n");
            cJSON_Delete(p);
            return NULL;
        }
        memcpy(hs, after, (size_t)(colon - after));
        hs[colon - after] = 0;
        if (pel_cli_u64("--after", hs, 0, (1ull << 53) - 1, &h) || pel_cli_u64("--after", colon + 1, 0, UINT32_MAX, &i)) {
            cJSON_Delete(p);
            return NULL;
        }
        cJSON *a = cJSON_AddObjectToObject(p, "after");
        cJSON_AddNumberToObject(a, "height", (double)h);
        cJSON_AddNumberToObject(a, "index", (double)i);
    }
    if (limit) {
        unsigned long long l;
        if (pel_cli_u64("--limit", limit, 1, 1000, &l)) { cJSON_Delete(p); return NULL; }
        cJSON_AddNumberToObject(p, "limit", (double)l);
    }
    if (pel_cli_call(c, "licence", p, &r, "licence")) r = NULL;
    cJSON_Delete(p);
    return r;
}

static int buy(int argc, char **argv)
{
    const char *target = NULL, *max = NULL, *key = "pel.key", *rpc = NULL;
    int wait = 0, json = 0, np;
    const pel_cli_opt opts[] = {
        { "--max-price", .val = &max }, { "--key", .val = &key }, { "--rpc", .val = &rpc },
        { "--wait", .flag = &wait }, { "--json", .flag = &json },
    };
    const pel_cli_cmd cmd = { "pel license", license_usage, opts, sizeof opts / sizeof opts[0] };
    int prc = pel_cli_parse(&cmd, argc, argv, &target, 1, &np);
    if (prc) return PEL_CLI_EXIT(prc);
    pel_obj_id id;
    unsigned long long m = 0;
    if (parse_id(target, &id)) return 2;
    if (max && pel_cli_u64("--max-price", max, 0, UINT64_MAX, &m)) return 2;
    if (!max) {                        /* the price as it is now */
        pel_rpc_client *c;
        uint64_t price;
        if (pel_cli_connect(pel_cli_rpc_url(rpc), 30000, &c)) return 1;
        cJSON *r = query(c, target, NULL, NULL, "1");
        pel_rpc_client_free(c);
        const cJSON *t = r ? cJSON_GetObjectItemCaseSensitive(r, "terms") : NULL;
        int ok = cJSON_IsObject(t) && pel_cli_json_u64(t, "price", &price) == 0;
        if (r && !ok) fprintf(stderr, "pel license: %s has no licence terms\n", target);
        cJSON_Delete(r);
        if (!ok) return 1;
        m = price;
    }
    pel_buf b;
    pel_buf_init(&b);
    int rc = pel_lic_buy_body(&id, m, &b) ? 1 : send(key, rpc, PEL_TX_LIC_BUY, &b, wait, json);
    pel_buf_free(&b);
    return rc;
}

static void print_show(const cJSON *r)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "terms"), *it;
    printf("id            %s\n", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "id")));
    if (!cJSON_IsObject(t)) {
        printf("terms         none (no licence can be bought)\n");
    } else {
        printf("terms         revision %.0f (set at height %.0f), price %s, upstream %.0f bps\n",
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(t, "revision")),
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(t, "height")),
               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "price")),
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(t, "upstream_bps")));
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(t, "parties"))
            printf("  party       %s %5.0f bps\n", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "address")),
                   cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "bps")));
    }
    printf("sold          %.0f (revenue %s)\n", cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(r, "sold")),
           cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "revenue")));
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(r, "licence");
    if (cJSON_IsObject(l))
        printf("licence       %s bought %.0f time(s), last at height %.0f for %s (revision %.0f)\n"
               "  prove it:   pel prove state %s\n",
               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(l, "buyer")),
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(l, "count")),
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(l, "height")),
               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(l, "price")),
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(l, "revision")),
               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(l, "state_key")));
    else if (cJSON_IsNull(l))
        printf("licence       none for this buyer\n");
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r, "purchases"))
        printf("  bought      by %s at height %.0f (tx %.0f) for %s, revision %.0f\n",
               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "buyer")),
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "height")),
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "index")),
               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "price")),
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "revision")));
    const cJSON *nx = cJSON_GetObjectItemCaseSensitive(r, "next");
    if (cJSON_IsObject(nx))
        printf("more: --after %.0f:%.0f\n", cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(nx, "height")),
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(nx, "index")));
}

static int show(int argc, char **argv)
{
    const char *target = NULL, *buyer = NULL, *after = NULL, *limit = NULL, *rpc = NULL;
    int json = 0, np;
    const pel_cli_opt opts[] = {
        { "--buyer", .val = &buyer }, { "--after", .val = &after }, { "--limit", .val = &limit },
        { "--rpc", .val = &rpc }, { "--json", .flag = &json },
    };
    const pel_cli_cmd cmd = { "pel license", license_usage, opts, sizeof opts / sizeof opts[0] };
    int prc = pel_cli_parse(&cmd, argc, argv, &target, 1, &np);
    if (prc) return PEL_CLI_EXIT(prc);
    pel_obj_id id;
    pel_addr a;
    if (parse_id(target, &id)) return 2;
    if (buyer && pel_cli_parse_addr("--buyer", buyer, &a)) return 2;
    pel_rpc_client *c;
    if (pel_cli_connect(pel_cli_rpc_url(rpc), 30000, &c)) return 1;
    cJSON *r = query(c, target, buyer, after, limit);
    pel_rpc_client_free(c);
    if (!r) return 1;
    char *s = json ? cJSON_PrintUnformatted(r) : NULL;
    if (s) printf("%s\n", s);
    else print_show(r);
    free(s);
    cJSON_Delete(r);
    return 0;
}

int pel_cli_license(int argc, char **argv)
{
    if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        license_usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    if (!strcmp(argv[0], "set")) return set(argc - 1, argv + 1);
    if (!strcmp(argv[0], "buy")) return buy(argc - 1, argv + 1);
    if (!strcmp(argv[0], "show")) return show(argc - 1, argv + 1);
    fprintf(stderr, "pel license: unknown command '%s'\n", argv[0]);
    license_usage(stderr);
    return 2;
}

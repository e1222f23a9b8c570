/*
 * shares.c - `pel shares`: create an object's share class, transfer
 * shares, claim revenue, show a class and a holder (modules/shares.h; RPC
 * method `shares`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "modules/shares.h"

static void shares_usage(FILE *f)
{
    fprintf(f,
        "usage: pel shares create pel:obj:… --shares N [--key FILE] [--wait]\n"
        "       pel shares transfer pel:obj:… --to ADDR --amount N [--key FILE] [--wait]\n"
        "       pel shares claim pel:obj:… [--key FILE] [--wait]\n"
        "       pel shares show pel:obj:… [--holder ADDR] [--json]\n"
        "Common: --rpc URL (or $PEL_RPC), --json.\n"
        "\n"
        "create: a controller of the object splits its revenue rights into N shares\n"
        "(1..2^40), all to the signer; from then on the object's licence revenue goes\n"
        "to the holders, pro rata, instead of its licence parties.\n"
        "transfer: moves shares; what they earned so far stays with the sender.\n"
        "claim: pays the signer what its shares earned and it has not claimed.\n");
}

static int parse_id(const char *s, pel_obj_id *id)
{
    uint32_t v;
    if (!s || pel_obj_id_parse(s, id, &v) || v) {
        fprintf(stderr, "pel shares: give the object as pel:obj:<32 hex> (shares are of the object, no @vN)\n");
        return -1;
    }
    return 0;
}

static int send(const char *key, const char *rpc, uint16_t type, const pel_buf *b, int wait, int json)
{
    return pel_cli_send_body("pel shares", &pel_shares_module, type, b, key, rpc, 20000, wait, json, NULL);
}

/* create / transfer / claim */
static int act(uint16_t type, int argc, char **argv)
{
    const char *target = NULL, *n = NULL, *to = NULL, *amount = NULL, *key = "pel.key", *rpc = NULL;
    int wait = 0, json = 0, np;
    const pel_cli_opt opts[] = {
        { "--shares", .val = &n }, { "--to", .val = &to }, { "--amount", .val = &amount },
        { "--key", .val = &key }, { "--rpc", .val = &rpc }, { "--wait", .flag = &wait }, { "--json", .flag = &json },
    };
    const pel_cli_cmd cmd = { "pel shares", shares_usage, opts, sizeof opts / sizeof opts[0] };
    int prc = pel_cli_parse(&cmd, argc, argv, &target, 1, &np);
    if (prc) return PEL_CLI_EXIT(prc);
    pel_obj_id id;
    pel_addr a;
    unsigned long long x = 0;
    if (parse_id(target, &id)) return 2;
    pel_buf b;
    pel_buf_init(&b);
    int rc = 0;
    if (type == PEL_TX_SHARES_CREATE) {
        if (!n) { fprintf(stderr, "pel shares create: --shares N is required\n"); rc = 2; }
        else if (pel_cli_u64("--shares", n, 1, PEL_SHARES_MAX, &x)) rc = 2;
        else if (pel_shares_create_body(&id, x, &b)) rc = 1;
    } else if (type == PEL_TX_SHARES_TRANSFER) {
        if (!to || !amount) { fprintf(stderr, "pel shares transfer: --to ADDR and --amount N are required\n"); rc = 2; }
        else if (pel_cli_parse_addr("--to", to, &a) || pel_cli_u64("--amount", amount, 1, PEL_SHARES_MAX, &x)) rc = 2;
        else if (pel_shares_transfer_body(&id, &a, x, &b)) rc = 1;
    } else if (pel_shares_claim_body(&id, &b)) {
        rc = 1;
    }
    if (!rc) rc = send(key, rpc, type, &b, wait, json);
    pel_buf_free(&b);
    return rc;
}

static int show(int argc, char **argv)
{
    const char *target = NULL, *holder = NULL, *rpc = NULL;
    int json = 0, np;
    const pel_cli_opt opts[] = { { "--holder", .val = &holder }, { "--rpc", .val = &rpc }, { "--json", .flag = &json } };
    const pel_cli_cmd cmd = { "pel shares", shares_usage, opts, sizeof opts / sizeof opts[0] };
    int prc = pel_cli_parse(&cmd, argc, argv, &target, 1, &np);
    if (prc) return PEL_CLI_EXIT(prc);
    pel_obj_id id;
    pel_addr a;
    if (parse_id(target, &id)) return 2;
    if (holder && pel_cli_parse_addr("--holder", holder, &a)) return 2;
    pel_rpc_client *c;
    if (pel_cli_connect(pel_cli_rpc_url(rpc), 30000, &c)) return 1;
    cJSON *p = cJSON_CreateObject(), *r = NULL;
    cJSON_AddStringToObject(p, "id", target);
    if (holder) cJSON_AddStringToObject(p, "holder", holder);
    int rc = pel_cli_call(c, "shares", p, &r, "shares") ? 1 : 0;
    pel_rpc_client_free(c);
    cJSON_Delete(p);
    if (rc) return rc;
    char *s = json ? cJSON_PrintUnformatted(r) : NULL;
    if (s) {
        printf("%s\n", s);
    } else {
        const char *keys[] = { "id", "shares", "creator", "height", "pool", "pool_balance" };
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, keys[i]);
            if (cJSON_IsString(v)) printf("%-13s %s\n", keys[i], v->valuestring);
            else if (cJSON_IsNumber(v)) printf("%-13s %.0f\n", keys[i], v->valuedouble);
        }
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(r, "holder");
        if (cJSON_IsObject(h))
            printf("holder        %s: %s shares, %s claimable\n",
                   cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "address")),
                   cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "shares")),
                   cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "claimable")));
    }
    free(s);
    cJSON_Delete(r);
    return 0;
}

int pel_cli_shares(int argc, char **argv)
{
    if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        shares_usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    if (!strcmp(argv[0], "create")) return act(PEL_TX_SHARES_CREATE, argc - 1, argv + 1);
    if (!strcmp(argv[0], "transfer")) return act(PEL_TX_SHARES_TRANSFER, argc - 1, argv + 1);
    if (!strcmp(argv[0], "claim")) return act(PEL_TX_SHARES_CLAIM, argc - 1, argv + 1);
    if (!strcmp(argv[0], "show")) return show(argc - 1, argv + 1);
    fprintf(stderr, "pel shares: unknown command '%s'\n", argv[0]);
    shares_usage(stderr);
    return 2;
}

/*
 * main.c - entry point of the `pel` command: dispatch to subcommand groups.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/client.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: pel <command> [args]\n"
        "\n"
        "node:\n"
        "  init         create a node directory (keys, genesis, config)\n"
        "  node         run a node in the foreground\n"
        "  admin verify replay a stopped node's chain and check everything\n"
        "  admin rebuild-state-tree | verifier-key\n"
        "  cluster init|join|leave  form a raft cluster, add or remove a member\n"
        "  cluster members|status|token  its members; whether they agree; its admin token\n"
        "\n"
        "client (talks to a node: --rpc URL, $PEL_RPC, or http://127.0.0.1:8645/rpc):\n"
        "  keygen       create a key file\n"
        "  account show show an account\n"
        "  tx transfer|status  send a transfer, show a transaction\n"
        "  block show   show a block\n"
        "  faucet       devnet tokens\n"
        "  object register|version|maintainer|show|first|upstream|downstream|contributions\n"
        "               research objects and their provenance\n"
        "  prereg commit|reveal|results|status|show  preregistration\n"
        "  review submit|show  peer-review attestations\n"
        "  license set|buy|show  licence terms, purchases and royalties\n"
        "  shares create|transfer|claim|show  fractional revenue shares of an object\n"
        "  dao create|deposit|propose|vote|execute|show|list  research-funding DAOs\n"
        "  grant release  a reviewer releases a DAO grant's milestone\n"
        "  checkpoint   show the node's signed checkpoint and verifier key\n"
        "  prove tx|state|consistency  get a proof file from the node\n"
        "  loadgen      load generator (signed transfers or open-science transactions)\n"
        "\n"
        "tools:\n"
        "  verify FILE --key K  check a proof file offline\n"
        "  bench exec   benchmark the execution engines (JSON lines with --json)\n"
        "  bench trees  benchmark the state and history trees (updates, proofs)\n"
        "  demo         run a few blocks through every engine and compare them\n"
        "\n"
        "Run `pel <command> --help` for a command's options.\n");
}

int pel_cli_u64(const char *opt, const char *s, unsigned long long min,
                unsigned long long max, unsigned long long *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-') goto bad;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max) goto bad;
    *out = v;
    return 0;
bad:
    fprintf(stderr, "pel: %s needs a number from %llu to %llu, got '%s'\n",
            opt, min, max, s ? s : "");
    return -1;
}

/* tune_malloc - keep freed memory in the process. Every block allocates and
 * frees megabytes (arenas, tables); with glibc's defaults each such buffer
 * is a fresh mmap, so every block pays page faults for all of it again. */
static void tune_malloc(void)
{
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

int main(int argc, char **argv)
{
    tune_malloc();
    if (argc < 2) { usage(stderr); return 2; }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) { usage(stdout); return 0; }
    if (!strcmp(cmd, "bench")) return pel_cli_bench(argc - 2, argv + 2);
    if (!strcmp(cmd, "demo")) return pel_cli_demo(argc - 2, argv + 2);
    if (!strcmp(cmd, "init")) return pel_cli_init(argc - 2, argv + 2);
    if (!strcmp(cmd, "node")) return pel_cli_node(argc - 2, argv + 2);
    if (!strcmp(cmd, "admin")) return pel_cli_admin(argc - 2, argv + 2);
    if (!strcmp(cmd, "cluster")) return pel_cli_cluster(argc - 2, argv + 2);
    if (!strcmp(cmd, "keygen")) return pel_cli_keygen(argc - 2, argv + 2);
    if (!strcmp(cmd, "account")) return pel_cli_account(argc - 2, argv + 2);
    if (!strcmp(cmd, "tx")) return pel_cli_tx(argc - 2, argv + 2);
    if (!strcmp(cmd, "block")) return pel_cli_block(argc - 2, argv + 2);
    if (!strcmp(cmd, "faucet")) return pel_cli_faucet(argc - 2, argv + 2);
    if (!strcmp(cmd, "prove")) return pel_cli_prove(argc - 2, argv + 2);
    if (!strcmp(cmd, "object")) return pel_cli_object(argc - 2, argv + 2);
    if (!strcmp(cmd, "prereg")) return pel_cli_prereg(argc - 2, argv + 2);
    if (!strcmp(cmd, "review")) return pel_cli_review(argc - 2, argv + 2);
    if (!strcmp(cmd, "license") || !strcmp(cmd, "licence")) return pel_cli_license(argc - 2, argv + 2);
    if (!strcmp(cmd, "shares")) return pel_cli_shares(argc - 2, argv + 2);
    if (!strcmp(cmd, "dao")) return pel_cli_dao(argc - 2, argv + 2);
    if (!strcmp(cmd, "grant")) return pel_cli_grant(argc - 2, argv + 2);
    if (!strcmp(cmd, "verify")) return pel_cli_verify(argc - 2, argv + 2);
    if (!strcmp(cmd, "checkpoint")) return pel_cli_checkpoint(argc - 2, argv + 2);
    if (!strcmp(cmd, "loadgen")) return pel_cli_loadgen(argc - 2, argv + 2);
    fprintf(stderr, "pel: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}

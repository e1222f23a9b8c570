/*
 * cli.h - the `pel` command: one file per subcommand group.
 * Each group's entry point gets argv after the group name and returns the
 * process exit status (0 ok, 1 failure, 2 usage error).
 */
#ifndef PEL_CLI_H
#define PEL_CLI_H

#include <stddef.h>
#include <stdio.h>

int pel_cli_bench(int argc, char **argv);
int pel_cli_bench_verify(int argc, char **argv);
int pel_cli_bench_trees(int argc, char **argv);
int pel_cli_bench_science(int argc, char **argv);
int pel_cli_demo(int argc, char **argv);
int pel_cli_init(int argc, char **argv);
int pel_cli_node(int argc, char **argv);
int pel_cli_admin(int argc, char **argv);
int pel_cli_cluster(int argc, char **argv);     /* cluster.c */
int pel_cli_prove(int argc, char **argv);       /* prove.c */
int pel_cli_verify(int argc, char **argv);
int pel_cli_checkpoint(int argc, char **argv);
int pel_cli_object(int argc, char **argv);      /* object.c */
int pel_cli_prereg(int argc, char **argv);      /* prereg.c */
int pel_cli_review(int argc, char **argv);      /* review.c */
int pel_cli_license(int argc, char **argv);     /* license.c */
int pel_cli_shares(int argc, char **argv);      /* shares.c */
int pel_cli_dao(int argc, char **argv);         /* dao.c */
int pel_cli_grant(int argc, char **argv);       /* dao.c */

/* Shared by prove.c and object.c. */
/* pel_cli_write_proof - validate the proof object r (an RPC answer) and write
 * its canonical text to path (never overwriting), or stdout if NULL.
 * @return exit status. */
struct cJSON;
int pel_cli_write_proof(const struct cJSON *r, const char *path);
/* pel_cli_hash_file - SHA-256 of a file, streaming, with progress on big
 * files when stderr is a terminal. @return 0 or -1 (printed). */
int pel_cli_hash_file(const char *path, unsigned char out[32]);

/* pel_cli_u64 - parse a decimal option value; prints an error and returns
 * -1 if it is not a number in [min, max]. */
int pel_cli_u64(const char *opt, const char *s, unsigned long long min,
                unsigned long long max, unsigned long long *out);

/* ---- option parsing, shared by every command ---- */

/* pel_cli_opt - one option of a command. Set val or flag:
 *   flag      a flag: *flag = 1 when given;
 *   val       a value option: *val = the next argument, whatever it looks
 *             like (`--title --json` is a title); the last one given wins;
 *   val + n   a repeatable value option: appended to val[0..*n), at most
 *             max of them ("pel object: at most 8 URIs", what = "URIs").
 * Values are strings; the command converts them after parsing (pel_cli_u64).
 * Usually written with designated initialisers:
 *   pel_cli_opt s[] = { { "--key", .val = &key }, { "--wait", .flag = &wait },
 *                       { "--uri", .val = uris, .n = &n_uris, .max = 8, .what = "URIs" } };
 */
typedef struct pel_cli_opt {
    const char *name;
    const char **val;
    int *flag;
    int *n;
    int max;
    const char *what;
} pel_cli_opt;

/* pel_cli_cmd - a command's options: who prefixes its messages ("pel",
 * "pel object"); usage prints its help (stdout for --help, stderr after an
 * unknown option or an unexpected argument). */
typedef struct pel_cli_cmd {
    const char *who;
    void (*usage)(FILE *f);
    const pel_cli_opt *opts;
    size_t n_opts;
} pel_cli_cmd;

/* pel_cli_parse - parse argv[0..argc): options anywhere, in any order;
 * operands (anything else, "-" included, and everything after "--") go to
 * pos[0..*n_pos) in order, at most max_pos of them (pos may be NULL when
 * max_pos is 0). --help or -h prints the usage to stdout. Errors are one
 * line on stderr:
 *   WHO: unknown option 'OPT'           (then the usage)
 *   WHO: unexpected argument 'ARG'      (then the usage; more than max_pos)
 *   WHO: OPT needs a value
 *   WHO: at most MAX WHAT               (a repeatable option given too often)
 * @return 0; 1 after --help (exit status 0); 2 after a usage error (exit
 * status 2). PEL_CLI_EXIT(rc) maps a non-zero result to the exit status. */
int pel_cli_parse(const pel_cli_cmd *cmd, int argc, char **argv,
                  const char **pos, int max_pos, int *n_pos);
#define PEL_CLI_EXIT(rc) ((rc) == 1 ? 0 : 2)

#endif

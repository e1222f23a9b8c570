/*
 * cli.h - the `pel` command: one file per subcommand group.
 * Each group's entry point gets argv after the group name and returns the
 * process exit status (0 ok, 1 failure, 2 usage error).
 */
#ifndef PEL_CLI_H
#define PEL_CLI_H

int pel_cli_bench(int argc, char **argv);
int pel_cli_bench_verify(int argc, char **argv);
int pel_cli_bench_trees(int argc, char **argv);
int pel_cli_bench_science(int argc, char **argv);
int pel_cli_demo(int argc, char **argv);
int pel_cli_init(int argc, char **argv);
int pel_cli_node(int argc, char **argv);
int pel_cli_admin(int argc, char **argv);
int pel_cli_prove(int argc, char **argv);       /* prove.c */
int pel_cli_verify(int argc, char **argv);
int pel_cli_checkpoint(int argc, char **argv);
int pel_cli_object(int argc, char **argv);      /* object.c */
int pel_cli_prereg(int argc, char **argv);      /* prereg.c */
int pel_cli_review(int argc, char **argv);      /* review.c */

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

#endif

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
int pel_cli_demo(int argc, char **argv);
int pel_cli_init(int argc, char **argv);
int pel_cli_node(int argc, char **argv);
int pel_cli_admin(int argc, char **argv);
int pel_cli_prove(int argc, char **argv);       /* prove.c */
int pel_cli_verify(int argc, char **argv);
int pel_cli_checkpoint(int argc, char **argv);
int pel_cli_object(int argc, char **argv);      /* object.c */

/* pel_cli_u64 - parse a decimal option value; prints an error and returns
 * -1 if it is not a number in [min, max]. */
int pel_cli_u64(const char *opt, const char *s, unsigned long long min,
                unsigned long long max, unsigned long long *out);

#endif

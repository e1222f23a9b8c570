/*
 * client.h - the `pel` commands that talk to a node over its JSON-RPC API
 * (docs/API.md): keygen, account, tx, block, faucet, loadgen; and the few
 * helpers client.c shares with loadgen.c.
 *
 * Entry points take the words after `pel` and return the process exit
 * status: 0 ok, 1 failure (the reason is on stderr), 2 usage error. Called
 * like main.c calls pel_cli_bench (argv + 2: argv[0] is the verb, or the
 * first option or operand for the verb-less keygen, faucet and loadgen);
 * each also accepts its own command name as argv[0] (argv + 1) and skips
 * it, so either convention works.
 *
 * The node's URL comes from --rpc URL, else $PEL_RPC, else
 * http://127.0.0.1:8645/rpc. --json prints the method's result exactly as
 * the node returned it (one line), except keygen and loadgen, whose JSON
 * is their own.
 */
#ifndef PEL_CLI_CLIENT_H
#define PEL_CLI_CLIENT_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/buf.h"
#include "core/sign.h"
#include "ledger/ledger.h"
#include "ledger/tx.h"
#include "rpc/client.h"

/* ---- commands ---- */

int pel_cli_keygen(int argc, char **argv);   /* pel keygen [--out FILE] [--json] */
int pel_cli_account(int argc, char **argv);  /* pel account show ADDR */
int pel_cli_tx(int argc, char **argv);       /* pel tx transfer ... | pel tx status ID */
int pel_cli_block(int argc, char **argv);    /* pel block show N|latest [--receipts] */
int pel_cli_faucet(int argc, char **argv);   /* pel faucet ADDR [--amount N] [--wait] */
int pel_cli_loadgen(int argc, char **argv);  /* pel loadgen --rate R --duration S ... */

/* ---- shared by client.c and loadgen.c ---- */

#define PEL_CLI_DEFAULT_RPC "http://127.0.0.1:8645/rpc"
#define PEL_CLI_GAS_MARGIN 1000   /* added to the intrinsic gas by default */

/* pel_cli_rpc_url - opt if non-NULL, else $PEL_RPC if set and non-empty,
 * else PEL_CLI_DEFAULT_RPC. The result is static or points into opt or
 * the environment. */
const char *pel_cli_rpc_url(const char *opt);

/* pel_cli_connect - a client for url with a per-call timeout; prints the
 * reason on stderr on failure. @return 0 or -1. The caller frees the
 * client (pel_rpc_client_free). */
int pel_cli_connect(const char *url, unsigned timeout_ms, pel_rpc_client **out);

/* pel_cli_call - call method and print any failure on stderr:
 *   pel: cannot connect to the node at URL (detail)       transport failure
 *   pel: WHAT: MESSAGE (NAME, code PEL_CODE)              JSON-RPC error
 * where WHAT is `what` or the method name.
 * @param[in]  params  not consumed; NULL for none
 * @param[out] result  the result on success (caller deletes), else NULL
 * @return 0, or -1 after printing. */
int pel_cli_call(pel_rpc_client *c, const char *method, const cJSON *params,
                 cJSON **result, const char *what);

/* pel_cli_print_rpc_error - print a pel_rpc_call failure as above. */
void pel_cli_print_rpc_error(pel_rpc_client *c, int rc, const pel_rpc_error *err,
                             const char *what);

/* pel_cli_json_u64 - obj[key] as a u64, from a decimal string or an
 * integral number. @return 0, or -1 if absent or not such a value. */
int pel_cli_json_u64(const cJSON *obj, const char *key, uint64_t *out);

/* The chain parameters a client needs to sign, from `node_info`. */
typedef struct pel_cli_chain {
    char chain_id[PEL_CHAIN_ID_MAX + 1];
    pel_gas_schedule gas;
    uint64_t min_gas_price;
    uint64_t height;
} pel_cli_chain;

/* pel_cli_node_info - call node_info and read it. @return 0 or -1 (printed). */
int pel_cli_node_info(pel_rpc_client *c, pel_cli_chain *out);

/* pel_cli_next_nonce - `account`.next_nonce of addr, and its balance if
 * balance is non-NULL. @return 0 or -1 (printed). */
int pel_cli_next_nonce(pel_rpc_client *c, const pel_addr *addr, uint64_t *nonce,
                       uint64_t *balance);

/* A transfer to sign. gas_limit 0 means the intrinsic gas of the signed
 * size plus PEL_CLI_GAS_MARGIN. declare attaches the declared access list
 * (writes: nonce(from); deltas: balance(from), balance(to), fee pool). */
typedef struct pel_cli_transfer {
    const pel_cli_chain *chain;
    pel_addr to;
    uint64_t amount, nonce, gas_price, gas_limit, expiry_height;
    int declare;
} pel_cli_transfer;

/* pel_cli_sign_transfer - sign t with sk and append the signed encoding to
 * out; tx gets the id, from, size and the gas limit used. tx's byte
 * pointers are not valid after return (read only its fixed fields).
 * @return 0 or a PEL_E* code (out unchanged on failure). Thread-safe. */
int pel_cli_sign_transfer(const pel_cli_transfer *t, const uint8_t sk[PEL_SECKEY_LEN],
                          pel_buf *out, pel_tx *tx);

/* pel_cli_parse_addr - parse an address given to option `what`; prints
 * "pel: WHAT: REASON: 'TEXT'" on failure. @return 0 or -1. */
int pel_cli_parse_addr(const char *what, const char *s, pel_addr *out);

/* pel_cli_submit_body - sign a transaction of `type` with `body` by sk
 * (nonce: the node's next for the key; gas price: the node's minimum; gas
 * limit: intrinsic + extra_gas), submit it, and print the answer, or wait
 * up to timeout_s for its final status (wait). txid (NULL, or 32 bytes)
 * gets the signed transaction's id. @return the exit status (0 only for a
 * submitted, or committed-and-successful, transaction). */
int pel_cli_submit_body(pel_rpc_client *c, const uint8_t sk[PEL_SECKEY_LEN], uint16_t type,
                        const uint8_t *body, size_t len, uint64_t extra_gas, int wait,
                        double timeout_s, int json, uint8_t *txid);

/* pel_cli_send_body - the last step of the module commands (object,
 * prereg, review, license, shares): check the body with m's check (NULL:
 * none; a refusal prints "WHO: why" and returns 2), load the key file
 * (default pel.key), connect to rpc (pel_cli_rpc_url) and sign, submit and
 * print as pel_cli_submit_body (30 s wait). txid may be NULL.
 * @return the exit status. */
int pel_cli_send_body(const char *who, const pel_tx_module *m, uint16_t type, const pel_buf *body,
                      const char *key, const char *rpc, uint64_t extra_gas, int wait, int json,
                      uint8_t *txid);

/* pel_cli_load_key - read a key file, printing why it failed. @return 0 or -1. */
int pel_cli_load_key(const char *path, uint8_t pk[PEL_PUBKEY_LEN], uint8_t sk[PEL_SECKEY_LEN]);

/* pel_cli_now - monotonic seconds. */
double pel_cli_now(void);

#endif

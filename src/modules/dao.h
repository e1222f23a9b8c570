/*
 * dao.h - research-funding DAOs: members with voting weight, a treasury,
 * proposals (milestone grants, treasury transfers, parameter changes,
 * member changes, grant cancellation, milestone release), voting, tallying
 * at the deadline, execution by anyone, and milestone release by a named
 * reviewer once the grantee has registered the deliverable (DESIGN.md
 * section 6).
 *
 * ---- Transactions (types 33..38; canonical codec) ----
 *   33 create   name str (1..PEL_DAO_NAME_MAX) ‖ mode u8 ‖ share object
 *               raw16 (shares mode; zero otherwise) ‖ period u64 ‖
 *               quorum bps u16 ‖ threshold bps u16 ‖ u32 n ‖ address*n
 *               (1..PEL_DAO_MEMBERS_MAX members, strictly ascending)
 *   34 deposit  dao raw16 ‖ amount u64 (>= 1)
 *   35 propose  dao raw16 ‖ kind u8 ‖ description str (<= PEL_DAO_TEXT_MAX)
 *               ‖ payload (by kind, below)
 *   36 vote     dao raw16 ‖ proposal u32 ‖ choice u8 (1 yes, 2 no, 3 abstain)
 *   37 execute  dao raw16 ‖ proposal u32
 *   38 release  dao raw16 ‖ grant proposal u32 ‖ milestone u8 ‖
 *               deliverable object raw16
 * Payloads: grant: recipient raw20 ‖ u32 r ‖ reviewer*r (0..PEL_DAO_REVIEWERS_MAX,
 *   strictly ascending) ‖ u32 m ‖ (amount u64 >= 1 ‖ deliverable str)*m
 *   (1..PEL_DAO_MILESTONES_MAX, total <= 2^63-1); transfer: to raw20 ‖
 *   amount u64 (>= 1); params: period u64 ‖ quorum u16 ‖ threshold u16;
 *   add / remove: address raw20; cancel: grant proposal u32; release:
 *   grant proposal u32 ‖ milestone u8 ‖ deliverable object raw16.
 * Limits: period 1..PEL_DAO_PERIOD_MAX blocks, quorum 0..10000 bps,
 *   threshold 1..10000 bps.
 *
 * ---- Voting weight (the mode, fixed at creation) ----
 *   member  every member weighs 1; total = the number of members.
 *   token   a member weighs what it has deposited into the treasury (its
 *           stake; deposits are contributions, never withdrawn, so weight
 *           cannot be moved to vote twice); total = the members' stakes.
 *   shares  a member weighs its holding in the share class of the DAO's
 *           share object (shares.h); voting locks those shares until the
 *           proposal's deadline (a transfer before fails with
 *           PEL_ESHARE_LOCKED), so they cannot vote twice; total = the
 *           class's shares.
 *
 * ---- Rules ----
 * create: the DAO id is H("PEL/dao-id", tx id) cut to 16 bytes; shares
 *   mode needs the object to have a share class (PEL_ESHARE_NONE).
 * deposit: anyone (PEL_EFUNDS if the sender cannot pay; admission counts
 *   the amount as spent, pel_tx_spend); a member's deposit adds to its
 *   stake and weight.
 * propose: members only (PEL_EDAO_MEMBER); proposals are numbered 1, 2,
 *   ... per DAO; voting runs from the proposal's height to its deadline
 *   = height + period (inclusive); the total weight at this height, the
 *   quorum and the threshold are kept in the proposal (a later parameter
 *   change does not turn a rejected proposal into a passed one).
 * vote: members only; weight > 0 (PEL_EDAO_WEIGHT); once per member and
 *   proposal (PEL_EDAO_VOTED); not after the deadline (PEL_EDAO_CLOSED).
 *   Tallies are delta counters, so votes do not conflict with each other.
 *   The weight is the member's at vote time (a member added while a
 *   proposal is open may vote on it; in token mode later deposits count).
 * execute: anyone, after the deadline (PEL_EDAO_OPEN), once
 *   (PEL_EDAO_DONE). A proposal passes if yes + no + abstain >=
 *   quorum * total / 10000 and yes > 0 and yes * 10000 >= threshold *
 *   (yes + no), with the proposal's own total, quorum and threshold;
 *   otherwise PEL_EDAO_REJECTED. Its action then runs; if the
 *   action fails (the treasury holds too little: PEL_EDAO_FUNDS, a member
 *   change that does not apply: PEL_EDAO_MEMBERS, a grant in the wrong
 *   state) nothing changes and it may be executed again later.
 *   grant: the milestones' total moves from the treasury to the grant's
 *     escrow account; transfer: treasury -> to; params: the DAO's period,
 *     quorum and threshold (proposals already made keep their deadline);
 *     add / remove a member (not the last one); cancel: the unreleased
 *     escrow returns to the treasury; release: as the release transaction.
 * release (transaction by a reviewer named in the grant,
 *   PEL_EGRANT_REVIEWER, or a passed release proposal): the grant was
 *   executed and not cancelled (PEL_EGRANT_STATE); the milestone exists
 *   (PEL_EINVAL) and was not released (PEL_EGRANT_RELEASED); the
 *   deliverable object exists (PEL_EOBJ_UNKNOWN), the grant's recipient
 *   controls it and its latest version was registered at or after the
 *   grant was funded (PEL_EGRANT_DELIVERABLE). The milestone's amount
 *   moves from the escrow to the recipient.
 * Every movement of tokens emits a transfer event (ledger.h).
 *
 * ---- State ----
 *   H("PEL/dao", id)                 dao record (pel_dao: the fields of
 *                                    create, creator, height, members)
 *   H("PEL/dao-nprop", id)           u64: proposals made
 *   H("PEL/dao-stake", id ‖ addr)    counter: the address's deposits
 *   H("PEL/dao-weight", id)          counter: token mode, the members' stakes
 *   H("PEL/dao-prop", id ‖ n u32)    proposal record (pel_dao_proposal)
 *   H("PEL/dao-tally", id ‖ n ‖ c)   counter: weight voted with choice c
 *   H("PEL/dao-vote", id ‖ n ‖ addr) choice u8 ‖ weight u64 ‖ height u64
 *   H("PEL/dao-grant", id ‖ n)       grant progress (pel_dao_grant)
 *   treasury account  H("PEL/dao-treasury", id) cut to 20 bytes
 *   escrow account    H("PEL/dao-escrow", id ‖ n) cut to 20 bytes
 * Events: PEL_EV_DAO ‖ op u8 (the type - 32) ‖ dao raw16 ‖ proposal u32
 *   (0 for create and deposit) ‖ address raw20 (the sender) ‖ value u64
 *   (deposit: amount; vote: choice; release: milestone; else 0).
 *
 * Thread safety: no mutable state.
 */
#ifndef PEL_DAO_H
#define PEL_DAO_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "exec/state.h"
#include "ledger/module.h"
#include "modules/registry.h"

enum {
    PEL_TX_DAO_CREATE = 33, PEL_TX_DAO_DEPOSIT = 34, PEL_TX_DAO_PROPOSE = 35,
    PEL_TX_DAO_VOTE = 36, PEL_TX_DAO_EXECUTE = 37, PEL_TX_DAO_RELEASE = 38,
};
enum { PEL_EV_DAO = 6 };

typedef enum pel_dao_mode { PEL_DAO_MEMBER = 1, PEL_DAO_TOKEN = 2, PEL_DAO_SHARES = 3 } pel_dao_mode;
typedef enum pel_dao_kind {
    PEL_DAO_GRANT = 1, PEL_DAO_TRANSFER = 2, PEL_DAO_PARAMS = 3, PEL_DAO_ADD = 4,
    PEL_DAO_REMOVE = 5, PEL_DAO_CANCEL = 6, PEL_DAO_RELEASE = 7,
} pel_dao_kind;
enum { PEL_DAO_YES = 1, PEL_DAO_NO = 2, PEL_DAO_ABSTAIN = 3 };

#define PEL_DAO_ID_LEN 16
#define PEL_DAO_ID_STR_LEN (8 + 2 * PEL_DAO_ID_LEN)   /* "pel:dao:" + hex, no NUL */
#define PEL_DAO_NAME_MAX 64
#define PEL_DAO_TEXT_MAX 512
#define PEL_DAO_MEMBERS_MAX 256
#define PEL_DAO_REVIEWERS_MAX 8
#define PEL_DAO_MILESTONES_MAX 16
#define PEL_DAO_PERIOD_MAX 10000000u

extern const pel_tx_module pel_dao_module;

typedef struct pel_dao_id { uint8_t b[PEL_DAO_ID_LEN]; } pel_dao_id;

/* The DAO's settings and members. `name` points into the decoded bytes. */
typedef struct pel_dao {
    const char *name; uint32_t name_len;
    uint8_t mode;
    pel_obj_id share_obj;
    uint64_t period;
    uint16_t quorum_bps, threshold_bps;
    pel_addr creator;
    uint64_t height;
    uint32_t n_members;
    pel_addr members[PEL_DAO_MEMBERS_MAX];   /* ascending */
} pel_dao;

typedef struct pel_dao_milestone {
    uint64_t amount;
    const char *deliverable; uint32_t deliverable_len;
} pel_dao_milestone;

/* A proposal's action; which fields count depends on kind. */
typedef struct pel_dao_action {
    uint8_t kind;
    pel_addr addr;            /* grant recipient, transfer to, add/remove member */
    uint64_t amount;          /* transfer */
    uint64_t period; uint16_t quorum_bps, threshold_bps;   /* params */
    uint32_t grant;           /* cancel, release: the grant's proposal */
    uint8_t milestone;        /* release */
    pel_obj_id deliverable;   /* release */
    uint32_t n_reviewers;
    pel_addr reviewers[PEL_DAO_REVIEWERS_MAX];
    uint32_t n_milestones;
    pel_dao_milestone milestones[PEL_DAO_MILESTONES_MAX];
} pel_dao_action;

typedef struct pel_dao_proposal {
    pel_addr proposer;
    uint64_t height, deadline;     /* voting while height <= deadline */
    uint64_t total_weight;         /* at proposal time, for the quorum */
    uint16_t quorum_bps, threshold_bps;   /* the DAO's, at proposal time */
    uint64_t executed;             /* height of execution, 0 = not executed */
    const char *text; uint32_t text_len;
    pel_dao_action act;
} pel_dao_proposal;

/* A grant's progress (after its execution). */
typedef struct pel_dao_grant {
    uint64_t funded;               /* height the escrow was funded */
    bool cancelled;
    uint16_t released;             /* bit i: milestone i released */
    pel_obj_id deliverable[PEL_DAO_MILESTONES_MAX];   /* for released ones */
} pel_dao_grant;

/* ---- ids ---- */
void pel_dao_id_of(const uint8_t txid[32], pel_dao_id *out);
/* pel_dao_id_format - "pel:dao:<hex>" (PEL_DAO_ID_STR_LEN + 1 bytes). */
void pel_dao_id_format(const pel_dao_id *id, char *out);
/* pel_dao_id_parse - "pel:dao:<hex>" or the bare hex. @return 0, PEL_EINVAL. */
int pel_dao_id_parse(const char *s, pel_dao_id *id) PEL_MUST_USE;
const char *pel_dao_mode_name(int mode);     /* "member", "token", "shares", "?" */
int pel_dao_mode_parse(const char *s);       /* the mode, or -1 */
const char *pel_dao_kind_name(int kind);     /* "grant", ..., "?" */
void pel_dao_treasury(const pel_dao_id *id, pel_addr *out);
void pel_dao_escrow(const pel_dao_id *id, uint32_t prop, pel_addr *out);

/* ---- bodies, for the CLI and tests. @return 0, PEL_ENOMEM; the module's
 * check says whether the result is valid. ---- */
int pel_dao_create_body(const pel_dao *d, pel_buf *out) PEL_MUST_USE;   /* name..members */
int pel_dao_deposit_body(const pel_dao_id *id, uint64_t amount, pel_buf *out) PEL_MUST_USE;
int pel_dao_propose_body(const pel_dao_id *id, const char *text, const pel_dao_action *a,
                         pel_buf *out) PEL_MUST_USE;
int pel_dao_vote_body(const pel_dao_id *id, uint32_t prop, uint8_t choice, pel_buf *out) PEL_MUST_USE;
int pel_dao_execute_body(const pel_dao_id *id, uint32_t prop, pel_buf *out) PEL_MUST_USE;
int pel_dao_release_body(const pel_dao_id *id, uint32_t grant, uint8_t milestone,
                         const pel_obj_id *deliverable, pel_buf *out) PEL_MUST_USE;

/* pel_dao_is_member - is a among d's members? */
bool pel_dao_is_member(const pel_dao *d, const pel_addr *a);

/* ---- queries (committed state). Records that point into bytes (names,
 * texts) point into `raw`, which the caller owns and frees. ---- */
/* @return 0, PEL_EDAO_UNKNOWN, PEL_ECORRUPT, store errors. */
int pel_dao_get(const pel_state *st, const pel_dao_id *id, pel_dao *out, pel_buf *raw) PEL_MUST_USE;
/* Proposals made so far (the highest number). */
int pel_dao_nprops(const pel_state *st, const pel_dao_id *id, uint32_t *out) PEL_MUST_USE;
/* The address's stake (deposits) and, for a member, its voting weight now. */
int pel_dao_weight(const pel_state *st, const pel_dao_id *id, const pel_dao *d,
                   const pel_addr *a, uint64_t *stake, uint64_t *weight) PEL_MUST_USE;
/* The total weight now (what a new proposal's quorum would use). */
int pel_dao_total_weight(const pel_state *st, const pel_dao_id *id, const pel_dao *d,
                         uint64_t *out) PEL_MUST_USE;
/* @return 0, PEL_EDAO_PROP, PEL_ECORRUPT, store errors. */
int pel_dao_proposal_get(const pel_state *st, const pel_dao_id *id, uint32_t n,
                         pel_dao_proposal *out, pel_buf *raw) PEL_MUST_USE;
/* Tallies (yes, no, abstain). */
int pel_dao_tally(const pel_state *st, const pel_dao_id *id, uint32_t n, uint64_t out[3]) PEL_MUST_USE;
/* Would the proposal pass with these tallies (its quorum and threshold)? */
bool pel_dao_passes(const pel_dao_proposal *p, const uint64_t tally[3]);
/* A member's vote: 0 and *choice and *weight, or PEL_ENOTFOUND. */
int pel_dao_vote_get(const pel_state *st, const pel_dao_id *id, uint32_t n, const pel_addr *a,
                     uint8_t *choice, uint64_t *weight) PEL_MUST_USE;
/* A grant's progress: 0, or PEL_ENOTFOUND before its execution. */
int pel_dao_grant_get(const pel_state *st, const pel_dao_id *id, uint32_t n,
                      pel_dao_grant *out) PEL_MUST_USE;
/* pel_dao_event - decode a PEL_EV_DAO event: 0, or PEL_EINVAL if it is not one. */
int pel_dao_event(const uint8_t *ev, size_t len, uint8_t *op, pel_dao_id *id, uint32_t *prop,
                  pel_addr *who, uint64_t *value);

#endif

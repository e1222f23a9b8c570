/*
 * registry.h - the research-object registry: hypotheses, protocols, data
 * sets, code, analyses, papers, reviews... registered with their content
 * digests, licence, contributors and provenance links, versioned under a
 * persistent id (DESIGN.md section 6).
 *
 * ---- Transactions (types 16..18; bodies in the canonical codec) ----
 *   16 register    fields (below)
 *   17 version     object id raw16 ‖ fields: version n+1 of the object
 *   18 maintainer  object id raw16 ‖ op u8 (1 add, 2 remove) ‖ address raw20
 * fields:
 *   kind u8              pel_obj_kind (0..9), fixed for the object's life
 *   title bytes          1..PEL_OBJ_TITLE_MAX bytes of UTF-8, no control
 *                        characters
 *   digests u32 n ‖ raw32*n   1..PEL_OBJ_DIGESTS_MAX SHA-256 content
 *                        digests, strictly ascending
 *   uris u32 n ‖ bytes*n 0..PEL_OBJ_URIS_MAX, each 1..PEL_OBJ_URI_MAX bytes
 *                        of printable ASCII starting "doi:10.", "https://",
 *                        "http://" or "ipfs://", strictly ascending
 *   license bytes        an SPDX identifier in spdx.h's table, exact case
 *   contributors u32 n ‖ (address raw20 ‖ roles u16)*n
 *                        0..PEL_OBJ_CONTRIB_MAX, addresses strictly
 *                        ascending, roles a non-zero mask of the 14 CRediT
 *                        roles (bit i = pel_credit_roles[i])
 *   links u32 n ‖ (relation u8 ‖ target id raw16 ‖ target version u32)*n
 *                        0..PEL_OBJ_LINKS_MAX, strictly ascending as the
 *                        encoded bytes; version 0 = the object as a whole
 * Anything else (unknown kind, relation or role, bad order, duplicates,
 * trailing bytes) is refused at admission with a message.
 *
 * ---- Identity ----
 * An object's id is the first 16 bytes of H("PEL/obj-id", register tx id),
 * written "pel:obj:" + 32 lowercase hex; version v is "pel:obj:…@v<v>"
 * (versions count from 1). The id never changes across versions.
 *
 * ---- State (keys H(tag, …), values in the canonical codec) ----
 *   H("PEL/obj", id)                 head: kind u8 ‖ creator raw20 ‖
 *                                    versions u32 ‖ u32 n ‖ maintainer raw20*n
 *                                    (ascending, at most PEL_OBJ_MAINT_MAX)
 *   H("PEL/obj-ver", id ‖ v u32)     version: registrant raw20 ‖ height u64 ‖
 *                                    tx id raw32 ‖ first-mask u16 ‖
 *                                    bytes fields (as in the transaction)
 *   H("PEL/digest", sha256)          first registration of that content:
 *                                    id raw16 ‖ version u32 ‖ height u64 ‖
 *                                    registrant raw20 (written once)
 *   H("PEL/obj-refs", id)            counter: links made to the object (a
 *                                    delta counter, so many citations of
 *                                    one object in a block do not conflict)
 * first-mask bit i is set when digest i of the version was registered here
 * for the first time on the chain (later registrations of the same content
 * are allowed, and marked as not first).
 * Transactions on different objects touch different keys, so they never
 * conflict in the parallel engines; registering content that another
 * transaction of the block also registers conflicts on its digest key,
 * which is what decides who was first.
 *
 * ---- Rules ----
 * register: every link target exists (PEL_EOBJ_UNKNOWN) and a target
 *   version, if given, exists (PEL_EOBJ_VERSION).
 * version / maintainer: the object exists (PEL_EOBJ_UNKNOWN) and the
 *   sender is its creator or a maintainer (PEL_EOBJ_PERM); a version keeps
 *   the kind (PEL_EOBJ_KIND) and may not link to its own object; a
 *   maintainer is added only if absent and not the creator, removed only
 *   if present (PEL_EOBJ_MAINT).
 * Each success emits an event: PEL_EV_OBJECT ‖ id raw16 ‖ version u32 ‖
 *   first-mask u16 (maintainer changes: version 0, mask 0).
 *
 * Thread safety: no mutable state; the module's functions run on any
 * thread.
 */
#ifndef PEL_REGISTRY_H
#define PEL_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/codec.h"
#include "core/err.h"
#include "exec/state.h"
#include "ledger/module.h"
#include "ledger/tx.h"

enum {
    PEL_TX_OBJ_REGISTER = 16,
    PEL_TX_OBJ_VERSION = 17,
    PEL_TX_OBJ_MAINTAINER = 18
};

enum { PEL_EV_OBJECT = 2 };

#define PEL_OBJ_ID_LEN 16
#define PEL_OBJ_ID_STR_LEN (8 + 2 * PEL_OBJ_ID_LEN)   /* "pel:obj:" + hex, no NUL */
#define PEL_OBJ_TITLE_MAX 300
#define PEL_OBJ_DIGESTS_MAX 16
#define PEL_OBJ_URIS_MAX 8
#define PEL_OBJ_URI_MAX 512
#define PEL_OBJ_CONTRIB_MAX 64
#define PEL_OBJ_LINKS_MAX 64
#define PEL_OBJ_MAINT_MAX 16
#define PEL_CREDIT_ROLES 14

typedef enum pel_obj_kind {
    PEL_OBJ_HYPOTHESIS, PEL_OBJ_PROTOCOL, PEL_OBJ_DATASET, PEL_OBJ_CODE, PEL_OBJ_ANALYSIS,
    PEL_OBJ_PREPRINT, PEL_OBJ_ARTICLE, PEL_OBJ_REVIEW, PEL_OBJ_SOFTWARE, PEL_OBJ_OTHER,
    PEL_OBJ_KINDS
} pel_obj_kind;

typedef enum pel_obj_relation {
    PEL_REL_CITES, PEL_REL_USES_DATA, PEL_REL_DERIVED_FROM, PEL_REL_REPLICATES,
    PEL_REL_REVIEWS, PEL_REL_SUPERSEDES, PEL_REL_COUNT
} pel_obj_relation;

/* Names as the CLI and the API write them ("dataset", "derived-from",
 * "writing-original-draft"...). */
extern const char *const pel_obj_kind_names[PEL_OBJ_KINDS];
extern const char *const pel_obj_relation_names[PEL_REL_COUNT];
extern const char *const pel_credit_roles[PEL_CREDIT_ROLES];

typedef struct pel_obj_id { uint8_t b[PEL_OBJ_ID_LEN]; } pel_obj_id;

typedef struct pel_obj_contrib { pel_addr addr; uint16_t roles; } pel_obj_contrib;
typedef struct pel_obj_link {
    uint8_t relation;
    pel_obj_id target;
    uint32_t version;     /* 0 = the object as a whole */
} pel_obj_link;

/* Decoded fields. Byte strings point into the decoded buffer. */
typedef struct pel_obj_fields {
    uint8_t kind;
    const uint8_t *title; uint32_t title_len;
    uint32_t n_digests; const uint8_t *digests;          /* n * 32 bytes */
    uint32_t n_uris; const uint8_t *uri[PEL_OBJ_URIS_MAX]; uint32_t uri_len[PEL_OBJ_URIS_MAX];
    const uint8_t *license; uint32_t license_len;
    uint32_t n_contrib; pel_obj_contrib contrib[PEL_OBJ_CONTRIB_MAX];
    uint32_t n_links; pel_obj_link links[PEL_OBJ_LINKS_MAX];
} pel_obj_fields;

/* ---- the module ---- */

/* pel_registry_module - the ledger module (module.h) for types 16..18. */
extern const pel_tx_module pel_registry_module;

/* ---- bodies ---- */

/* pel_obj_fields_decode - strict decode and validation of `fields` from a
 * cursor (the rules at the top). @return 0, a codec error, PEL_EINVAL
 * (with *why), PEL_ELICENSE, PEL_ECREDIT. */
int pel_obj_fields_decode(pel_dec *d, pel_obj_fields *f, const char **why) PEL_MUST_USE;

/* pel_obj_fields_encode - append f's canonical encoding (f must be valid:
 * sorted as the rules say). @return 0, PEL_ENOMEM, PEL_ERANGE. */
int pel_obj_fields_encode(const pel_obj_fields *f, pel_buf *out) PEL_MUST_USE;

/* pel_obj_fields_sort - put digests, uris, contributors and links in the
 * canonical order (and so make a body from the CLI's unordered input);
 * does not remove duplicates (the decoder refuses them). */
void pel_obj_fields_sort(pel_obj_fields *f);

/* pel_obj_id_of - the id an object registered by transaction txid gets. */
void pel_obj_id_of(const uint8_t txid[32], pel_obj_id *out);
/* pel_obj_id_format - "pel:obj:<hex>" (PEL_OBJ_ID_STR_LEN + 1 bytes). */
void pel_obj_id_format(const pel_obj_id *id, char *out);
/* pel_obj_id_parse - "pel:obj:<32 hex>" with optional "@v<n>" (n >= 1);
 * *version = 0 without it. @return 0 or PEL_EINVAL. */
int pel_obj_id_parse(const char *s, pel_obj_id *id, uint32_t *version) PEL_MUST_USE;

/* Name lookups: index, or -1. */
int pel_obj_kind_parse(const char *s);
int pel_obj_relation_parse(const char *s);
int pel_credit_role_parse(const char *s);

/* ---- queries (over committed state) ---- */

typedef struct pel_obj_head {
    uint8_t kind;
    pel_addr creator;
    uint32_t versions;
    uint32_t n_maint;
    pel_addr maint[PEL_OBJ_MAINT_MAX];
} pel_obj_head;

/* One stored version; fields point into `raw`, which the caller owns. */
typedef struct pel_obj_version {
    pel_addr registrant;
    uint64_t height;
    uint8_t txid[32];
    uint16_t first_mask;
    pel_obj_fields fields;
} pel_obj_version;

typedef struct pel_digest_first {
    pel_obj_id id;
    uint32_t version;
    uint64_t height;
    pel_addr registrant;
} pel_digest_first;

/* pel_registry_head - @return 0, PEL_EOBJ_UNKNOWN, PEL_ECORRUPT, store errors. */
int pel_registry_head(const pel_state *st, const pel_obj_id *id, pel_obj_head *out) PEL_MUST_USE;

/* pel_registry_version - version v (0 = the latest) of an object; raw gets
 * the stored bytes that out's fields point into.
 * @return 0, PEL_EOBJ_UNKNOWN, PEL_EOBJ_VERSION, PEL_ECORRUPT, ... */
int pel_registry_version(const pel_state *st, const pel_obj_id *id, uint32_t v, pel_buf *raw,
                         pel_obj_version *out) PEL_MUST_USE;

/* For other modules' transactions: the head of an object as the executing
 * transaction sees it (PEL_EOBJ_UNKNOWN if absent), and whether address a
 * controls the object (creator or maintainer). */
int pel_registry_head_view(pel_view *v, const pel_obj_id *id, pel_obj_head *out) PEL_MUST_USE;
int pel_registry_controls(const pel_obj_head *h, const pel_addr *a);
/* pel_registry_version_view - version `version` (>= 1) as the executing
 * transaction sees it; out points into raw. @return 0, PEL_EOBJ_VERSION,
 * PEL_ECORRUPT, view errors. */
int pel_registry_version_view(pel_view *v, const pel_obj_id *id, uint32_t version, pel_buf *raw,
                              pel_obj_version *out) PEL_MUST_USE;
/* pel_registry_create - register a new object with fields f from inside
 * another module's transaction tx (its id is pel_obj_id_of(tx->id); one
 * per transaction): the rules, records and event of a registration.
 * @return 0 or the registration's failure codes. */
int pel_registry_create(pel_view *v, const pel_module_ctx *c, const pel_tx *tx,
                        const pel_obj_fields *f, pel_obj_id *id) PEL_MUST_USE;

/* pel_registry_version_get - version v (>= 1) read directly, without the
 * head: for indexes that learn (id, v) from an event.
 * @return 0, PEL_EOBJ_VERSION (no such record), PEL_ECORRUPT, ... */
int pel_registry_version_get(const pel_state *st, const pel_obj_id *id, uint32_t v, pel_buf *raw,
                             pel_obj_version *out) PEL_MUST_USE;

/* pel_registry_event - is this receipt event a new object version (not a
 * maintainer change)? Sets id and version when it is. @return 1 or 0. */
int pel_registry_event(const uint8_t *ev, size_t len, pel_obj_id *id, uint32_t *version);

/* pel_registry_first - who registered this content first.
 * @return 0, PEL_ENOTFOUND, PEL_ECORRUPT, ... */
int pel_registry_first(const pel_state *st, const uint8_t digest[32], pel_digest_first *out)
    PEL_MUST_USE;

/* pel_registry_refs - how many links point at the object (all versions of
 * all objects linking to it). @return 0, store errors. */
int pel_registry_refs(const pel_state *st, const pel_obj_id *id, uint64_t *out) PEL_MUST_USE;

/* One edge of a provenance walk: `from` (version from_v) links to `to`. */
typedef struct pel_obj_edge {
    pel_obj_id from; uint32_t from_v;
    uint8_t relation;
    pel_obj_id to; uint32_t to_v;     /* to_v as linked: 0 = whole object */
    uint32_t depth;                    /* 1 = a direct link of the start */
} pel_obj_edge;

/* A provenance graph as a walk sees it: edges(ctx, id, v, edge, w) calls
 * edge(w, e) for each edge at object (id, v) (0 = the object as a whole)
 * in a deterministic order, stopping at the first non-zero return, which
 * it returns. Upstream the far end of an edge is e->to (walked at the
 * linked version), downstream (down = 1) it is e->from (walked whole). */
typedef struct pel_obj_graph {
    int (*edges)(void *ctx, const pel_obj_id *id, uint32_t v,
                 int (*edge)(void *w, const pel_obj_edge *e), void *w);
    int down;
    void *ctx;
} pel_obj_graph;

/* pel_obj_walk - breadth first from (id, v) to `depth` levels, each object
 * expanded once (so cycles end). fn gets each edge, with its depth, in
 * order; returns 0 to go on, 1 to stop, or a negative code that the walk
 * returns. @return 0, fn's or edges' negative code, PEL_ENOMEM. */
int pel_obj_walk(const pel_obj_graph *g, const pel_obj_id *id, uint32_t v, uint32_t depth,
                 int (*fn)(void *arg, const pel_obj_edge *e), void *arg) PEL_MUST_USE;

/* pel_registry_upstream - what (id, v) is built on: pel_obj_walk along the
 * links of each reached object's linked version (its latest when the link
 * names the whole object).
 * @return 0, fn's code, PEL_EOBJ_UNKNOWN (the start), PEL_ENOMEM, ... */
int pel_registry_upstream(const pel_state *st, const pel_obj_id *id, uint32_t v, uint32_t depth,
                          int (*fn)(void *arg, const pel_obj_edge *e), void *arg) PEL_MUST_USE;

#endif

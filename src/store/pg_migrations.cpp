#include "store/pg_migrations.hpp"

#include <array>
#include <string>

#include "core/clock.hpp"
#include "store/pg_conn.hpp"
#include "store/pg_store_impl.hpp"

namespace store::pg {
namespace {

// The same conventions as the SQLite schema (sqlite_migrations.cpp), with these differences:
//  - ord BIGINT GENERATED ALWAYS AS IDENTITY stands in for SQLite's rowid: the tie-breaker of
//    the paging order "ORDER BY create_time_ms, ord" (insertion order for equal times);
//  - booleans are BOOLEAN, blobs BYTEA, unix-ms times BIGINT;
//  - the change feed's seq is assigned from a one-row counter (change_counter), not from a
//    sequence: see migration 3.
constexpr std::array<std::string_view, 4> kMigrations = {
    // 1: accounts and their tokens.
    R"sql(
CREATE TABLE accounts (
  id                TEXT    NOT NULL PRIMARY KEY,
  organization_name TEXT    NOT NULL,
  email             TEXT    NOT NULL CONSTRAINT accounts_email_key UNIQUE,  -- lower-cased by the caller
  password_hash     TEXT    NOT NULL,
  suspended         BOOLEAN NOT NULL DEFAULT false,
  create_time_ms    BIGINT  NOT NULL
);
CREATE TABLE tokens (
  id             TEXT   NOT NULL PRIMARY KEY,  -- also the X-Auth-Token secret
  ord            BIGINT GENERATED ALWAYS AS IDENTITY,
  account_id     TEXT   NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  token_data     TEXT   NOT NULL,
  create_time_ms BIGINT NOT NULL
);
CREATE INDEX tokens_account_time ON tokens(account_id, create_time_ms, ord);
)sql",

    // 2: persons, descriptors, lists and list memberships (see the SQLite migration 2 for
    // links and the lifetime clock).
    R"sql(
CREATE TABLE persons (
  id             TEXT   NOT NULL PRIMARY KEY,
  ord            BIGINT GENERATED ALWAYS AS IDENTITY,
  account_id     TEXT   NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  user_data      TEXT   NOT NULL,
  external_id    TEXT,
  create_time_ms BIGINT NOT NULL,
  last_update_ms BIGINT NOT NULL
);
CREATE INDEX persons_account_time ON persons(account_id, create_time_ms, ord);
CREATE INDEX persons_account_external ON persons(account_id, external_id, create_time_ms, ord)
  WHERE external_id IS NOT NULL;

CREATE TABLE descriptors (
  id              TEXT    NOT NULL PRIMARY KEY,
  ord             BIGINT  GENERATED ALWAYS AS IDENTITY,
  account_id      TEXT    NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  version         BIGINT  NOT NULL CHECK (version BETWEEN 0 AND 4294967295),
  values_f32le    BYTEA   NOT NULL CHECK (length(values_f32le) % 4 = 0),
  person_id       TEXT    REFERENCES persons(id) ON DELETE SET NULL,
  person_link_seq BIGINT,
  has_portrait    BOOLEAN NOT NULL,
  create_time_ms  BIGINT  NOT NULL,
  last_update_ms  BIGINT  NOT NULL,
  last_unlink_ms  BIGINT  NOT NULL
);
CREATE INDEX descriptors_account_time ON descriptors(account_id, create_time_ms, ord);
CREATE INDEX descriptors_time ON descriptors(create_time_ms, ord);
CREATE INDEX descriptors_person ON descriptors(person_id, person_link_seq) WHERE person_id IS NOT NULL;
CREATE INDEX descriptors_unlinked ON descriptors(last_unlink_ms) WHERE person_id IS NULL;

CREATE TABLE lists (
  id             TEXT   NOT NULL PRIMARY KEY,
  ord            BIGINT GENERATED ALWAYS AS IDENTITY,
  account_id     TEXT   NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  type           TEXT   NOT NULL CHECK (type IN ('persons', 'descriptors')),
  list_data      TEXT   NOT NULL,
  create_time_ms BIGINT NOT NULL
);
CREATE INDEX lists_account_type_time ON lists(account_id, type, create_time_ms, ord);

CREATE TABLE list_persons (
  seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- link order
  account_id   TEXT   NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  list_id      TEXT   NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
  person_id    TEXT   NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
  link_time_ms BIGINT NOT NULL,
  UNIQUE (list_id, person_id)
);
CREATE INDEX list_persons_person ON list_persons(person_id, seq);

CREATE TABLE list_descriptors (
  seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- link order
  account_id    TEXT   NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  list_id       TEXT   NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
  descriptor_id TEXT   NOT NULL REFERENCES descriptors(id) ON DELETE CASCADE,
  link_time_ms  BIGINT NOT NULL,
  UNIQUE (list_id, descriptor_id)
);
CREATE INDEX list_descriptors_descriptor ON list_descriptors(descriptor_id, seq);
)sql",

    // 3: the change feed (store.hpp, ChangeKind).
    //
    //  - seq is NOT a sequence/identity: nextval is not transactional (a rollback leaves a
    //    gap) and transactions commit in another order than they drew numbers, so a follower
    //    reading "everything after N" could skip a row committed later with a smaller seq.
    //    Instead every write transaction holds the store's write lock (a transaction-level
    //    advisory lock, pg_store_impl.hpp) and takes seq from change_counter, whose single row
    //    it updates: seq order is commit order and a rollback rolls the counter back.
    //  - change_counter.seq is the last seq ever assigned (LastChangeSeq), kept when pruning
    //    empties the table; change_counter.pruned_up_to is the prune horizon.
    //  - a committed write that appended rows also sends NOTIFY faceport_changes (delivered
    //    at commit), which wakes the other nodes' followers (pg_listener.cpp).
    R"sql(
CREATE TABLE changes (
  seq           BIGINT NOT NULL PRIMARY KEY,
  account_id    TEXT   NOT NULL,
  kind          TEXT   NOT NULL CHECK (kind IN ('descriptor_added', 'descriptor_removed',
                  'descriptor_person_set', 'list_member_added', 'list_member_removed',
                  'person_removed', 'list_removed')),
  descriptor_id TEXT   NOT NULL DEFAULT '',
  person_id     TEXT   NOT NULL DEFAULT '',
  list_id       TEXT   NOT NULL DEFAULT ''
);
CREATE TABLE change_counter (
  id           INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
  seq          BIGINT  NOT NULL,
  pruned_up_to BIGINT  NOT NULL
);
INSERT INTO change_counter(id, seq, pruned_up_to) VALUES (1, 0, 0);
)sql",

    // 4: handlers (API.md §4 H), three per account (see the SQLite migration 4).
    //
    //  - policies is a JSONB object holding only the keys ever PATCHed, merged in place by
    //    one UPDATE (faceport_json_merge_patch: RFC 7396 like SQLite's json_patch, nested
    //    objects merged), which also increments version; the UPDATE's row lock serialises
    //    concurrent PATCHes, so none is lost;
    //  - accounts created before this migration get their three handlers here
    //    (gen_random_uuid, PostgreSQL 13+).
    R"sql(
CREATE TABLE handlers (
  id             TEXT   NOT NULL PRIMARY KEY,
  account_id     TEXT   NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  type           TEXT   NOT NULL CHECK (type IN ('extractor', 'verify', 'identify')),
  policies       JSONB  NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(policies) = 'object'),
  version        BIGINT NOT NULL DEFAULT 1 CHECK (version >= 1),
  create_time_ms BIGINT NOT NULL,
  last_update_ms BIGINT NOT NULL,
  UNIQUE (account_id, type)
);
CREATE FUNCTION faceport_json_merge_patch(target JSONB, patch JSONB) RETURNS JSONB
LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
  result JSONB;
  k TEXT;
  v JSONB;
BEGIN
  IF jsonb_typeof(patch) <> 'object' THEN
    RETURN patch;
  END IF;
  result := CASE WHEN jsonb_typeof(target) = 'object' THEN target ELSE '{}'::JSONB END;
  FOR k, v IN SELECT * FROM jsonb_each(patch) LOOP
    IF jsonb_typeof(v) = 'null' THEN
      result := result - k;
    ELSE
      result := jsonb_set(result, ARRAY[k], faceport_json_merge_patch(result -> k, v), true);
    END IF;
  END LOOP;
  RETURN result;
END
$fn$;
INSERT INTO handlers(id, account_id, type, create_time_ms, last_update_ms)
SELECT gen_random_uuid()::text, a.id, t.type, a.create_time_ms, a.create_time_ms
  FROM accounts a CROSS JOIN (VALUES ('extractor'), ('verify'), ('identify')) AS t(type);
)sql",
};

}  // namespace

core::Status ApplyMigrations(Connection& conn) {
  auto tx = Tx::Begin(conn, Tx::Mode::Write);
  if (!tx) return std::move(tx).error();
  // Two nodes starting on a fresh database: the second waits here for the first's commit and
  // then finds the migrations recorded. (CREATE TABLE IF NOT EXISTS alone races on the
  // catalog's unique index.)
  if (auto lk = conn.Exec("SELECT pg_advisory_xact_lock($1)", "migration lock", MakeParams(kMigrationLockKey)); !lk)
    return std::move(lk).error();
  if (auto st = conn.ExecScript("CREATE TABLE IF NOT EXISTS schema_migrations ("
                                " version BIGINT NOT NULL PRIMARY KEY,"
                                " applied_at BIGINT NOT NULL)",
                                "create schema_migrations");
      !st)
    return st;
  auto cur = conn.Exec("SELECT coalesce(max(version), 0) FROM schema_migrations", "read schema version");
  if (!cur) return std::move(cur).error();
  const int64_t current = cur->Int(0, 0);
  const int64_t known = static_cast<int64_t>(kMigrations.size());
  if (current > known)
    return core::InternalError("postgresql schema version " + std::to_string(current) +
                               " is newer than this binary supports (" + std::to_string(known) + ")");
  for (int64_t version = current + 1; version <= known; ++version) {
    if (auto st = conn.ExecScript(std::string(kMigrations[version - 1]), "apply migration " + std::to_string(version));
        !st)
      return st;
    auto rec = conn.Exec("INSERT INTO schema_migrations(version, applied_at) VALUES ($1, $2)", "record migration",
                         MakeParams(version, core::NowMillis()));
    if (!rec) return std::move(rec).error();
  }
  return tx->Commit();
}

}  // namespace store::pg

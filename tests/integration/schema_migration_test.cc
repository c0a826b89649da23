// A database the previous release wrote (schema 2), made here from SQL as
// that release laid it out, opens in today's parzen-server, migrates to
// schema 4 (which rebuilds two tables so that -0.0 keeps its sign) and
// serves its study unchanged.
#include <gtest/gtest.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include "tests/testing/requests.h"
#include "tests/testing/server_process.h"

namespace parzen::testing {
namespace {

// The previous release's schema, as its migrations 1 and 2 left it.
constexpr const char* kSchemaTwo = R"sql(
CREATE TABLE studies (study_id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
  directions TEXT NOT NULL, config_json TEXT NOT NULL, create_time_us INTEGER NOT NULL);
CREATE TABLE study_user_attrs (study_id INTEGER NOT NULL, key TEXT NOT NULL,
  value_json TEXT NOT NULL, PRIMARY KEY (study_id, key)) WITHOUT ROWID;
CREATE TABLE trials (trial_id INTEGER PRIMARY KEY, study_id INTEGER NOT NULL,
  number INTEGER NOT NULL, state TEXT NOT NULL, trial_values TEXT NOT NULL,
  start_time_us INTEGER NOT NULL, complete_time_us INTEGER NOT NULL, fail_reason TEXT NOT NULL,
  retry_of INTEGER, retry_count INTEGER NOT NULL, worker_id TEXT NOT NULL,
  fixed_params_json TEXT NOT NULL);
CREATE TABLE trial_params (trial_id INTEGER NOT NULL, position INTEGER NOT NULL,
  name TEXT NOT NULL, distribution_json TEXT NOT NULL, internal_value REAL NOT NULL,
  PRIMARY KEY (trial_id, name)) WITHOUT ROWID;
CREATE TABLE trial_intermediate_values (trial_id INTEGER NOT NULL, step INTEGER NOT NULL,
  value REAL, PRIMARY KEY (trial_id, step)) WITHOUT ROWID;
CREATE TABLE parzen_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE trial_user_attrs (trial_id INTEGER NOT NULL, key TEXT NOT NULL,
  value_json TEXT NOT NULL, PRIMARY KEY (trial_id, key)) WITHOUT ROWID;
ALTER TABLE trials ADD COLUMN ask_request_id TEXT NOT NULL DEFAULT '';
PRAGMA user_version=2;
PRAGMA application_id=1350201966;  -- 'Pzrn'
)sql";

// Study "legacy" (id 1, maximize, the settings JSON that release wrote),
// with a COMPLETE, a WAITING (enqueued) and a RUNNING trial.
constexpr const char* kStudy = R"sql(
INSERT INTO parzen_meta VALUES ('max_study_id', 4);
INSERT INTO studies VALUES (1, 'legacy', 'MAXIMIZE', '{"heartbeat_grace_seconds":0.0,"max_retries":0,"max_trials":10,"pruner":{"interval_steps":1,"kind":"median","n_min_trials":1,"n_startup_trials":2,"n_warmup_steps":1,"percentile":50.0},"sampler":{"kind":"random","seed":42}}', 1700000000000000);
INSERT INTO study_user_attrs VALUES (1, 'team', '"vision"');
INSERT INTO trials VALUES (1099511627776, 1, 0, 'COMPLETE', '0.97', 1700000001000000, 1700000002000000, '', NULL, 0, 'w1', '{}', '');
INSERT INTO trials VALUES (1099511627777, 1, 1, 'WAITING', '', 0, 0, '', NULL, 0, '', '{"lr":0.01}', '');
INSERT INTO trials VALUES (1099511627778, 1, 2, 'RUNNING', '', 1700000003000000, 0, '', NULL, 0, 'w2', '{}', 'req-2');
INSERT INTO trial_params VALUES (1099511627776, 0, 'lr', '{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.0001, "high": 0.1, "log": true}}', 0.003);
INSERT INTO trial_params VALUES (1099511627776, 1, 'opt', '{"name": "CategoricalDistribution", "attributes": {"choices": ["adam", "sgd"]}}', 1.0);
INSERT INTO trial_params VALUES (1099511627778, 0, 'lr', '{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.0001, "high": 0.1, "log": true}}', 0.05);
INSERT INTO trial_intermediate_values VALUES (1099511627776, 0, 0.91), (1099511627776, 1, NULL);
INSERT INTO trial_user_attrs VALUES (1099511627776, 'test_accuracy', '0.98');
)sql";

TEST(SchemaMigrationTest, ASchemaTwoDatabaseOpensMigratesAndServesItsStudyUnchanged) {
  TempDir dir;
  const std::string db = dir.File("release2.db");
  {
    SQLite::Database sql(db, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    sql.exec("PRAGMA journal_mode=WAL");
    sql.exec(kSchemaTwo);
    sql.exec(kStudy);
  }
  auto server = ServerProcess::Start(db);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = (*server)->NewStub();

  v1::GetStudyResponse study;
  ASSERT_TRUE(GetStudy(*stub, "legacy", &study).ok());
  EXPECT_EQ(study.study().study_id(), 1);
  ASSERT_EQ(study.study().directions_size(), 1);
  EXPECT_EQ(study.study().directions(0), v1::MAXIMIZE);
  EXPECT_EQ(study.study().sampler().random().seed(), 42u);
  EXPECT_EQ(study.study().pruner().median().n_startup_trials(), 2);
  EXPECT_EQ(study.study().pruner().median().n_warmup_steps(), 1);
  EXPECT_EQ(study.study().max_trials(), 10);
  EXPECT_EQ(study.study().user_attrs().at("team").string_value(), "vision");
  EXPECT_EQ(study.summary().n_trials(), 3);
  EXPECT_EQ(study.summary().n_complete(), 1);
  EXPECT_EQ(study.summary().n_waiting(), 1);
  EXPECT_EQ(study.summary().n_running(), 1);
  ASSERT_TRUE(study.summary().has_best_trial());
  EXPECT_EQ(study.summary().best_trial().number(), 0);

  v1::ListTrialsResponse listed;
  ASSERT_TRUE(ListTrials(*stub, "legacy", &listed).ok());
  ASSERT_EQ(listed.trials_size(), 3);
  const v1::Trial& done = listed.trials(0);
  EXPECT_EQ(done.trial_id(), 1099511627776);
  EXPECT_EQ(done.state(), v1::COMPLETE);
  ASSERT_EQ(done.values_size(), 1);
  EXPECT_EQ(done.values(0), 0.97);
  ASSERT_EQ(done.params_size(), 2);
  EXPECT_EQ(done.params(0).name(), "lr");
  EXPECT_EQ(done.params(0).internal_value(), 0.003);
  EXPECT_TRUE(done.params(0).distribution().float_distribution().log());
  EXPECT_EQ(done.params(1).value().string_value(), "sgd");
  ASSERT_EQ(done.intermediate_values_size(), 2);
  EXPECT_EQ(done.intermediate_values(0).value(), 0.91);
  EXPECT_TRUE(std::isnan(done.intermediate_values(1).value()));
  EXPECT_EQ(done.user_attrs().at("test_accuracy").number_value(), 0.98);
  EXPECT_TRUE(done.system_attrs().empty());
  EXPECT_EQ(done.worker_id(), "w1");
  EXPECT_EQ(listed.trials(1).state(), v1::WAITING);
  EXPECT_EQ(listed.trials(1).fixed_params().at("lr").double_value(), 0.01);
  EXPECT_EQ(listed.trials(2).state(), v1::RUNNING);

  // The running trial's Ask, retried, still gets that trial; the next Ask
  // gets the enqueued one.
  {
    grpc::ClientContext ctx;
    v1::AskRequest req;
    req.set_study("legacy");
    req.set_worker_id("w2");
    req.set_request_id("req-2");
    *req.add_search_space() = FloatSpec("lr", 1e-4, 0.1, true);
    v1::AskResponse resp;
    ASSERT_TRUE(stub->Ask(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.trial().number(), 2);
  }
  v1::AskResponse queued;
  ASSERT_TRUE(Ask(*stub, "legacy", {FloatSpec("lr", 1e-4, 0.1, true)}, &queued).ok());
  EXPECT_EQ(queued.trial().number(), 1);
  EXPECT_EQ(queued.trial().params(0).internal_value(), 0.01);
  // A new study gets an id past every one ever used, deleted ones too.
  v1::CreateStudyRequest create;
  create.set_name("fresh");
  v1::CreateStudyResponse created;
  ASSERT_TRUE(CreateStudy(*stub, create, &created).ok());
  EXPECT_EQ(created.study().study_id(), 5);
  ASSERT_EQ((*server)->Terminate(), 0);

  SQLite::Database check(db, SQLite::OPEN_READONLY);
  EXPECT_EQ(check.execAndGet("PRAGMA user_version").getInt(), 4);
  EXPECT_EQ(check.execAndGet("SELECT count(*) FROM trial_system_attrs").getInt(), 0);
  EXPECT_EQ(check.execAndGet("SELECT count(*) FROM trials").getInt(), 3);
  // The rebuilt tables kept every row, the NULL that stands for NaN among them.
  EXPECT_EQ(check.execAndGet("SELECT internal_value FROM trial_params WHERE trial_id = "
                            "1099511627776 AND name = 'lr'")
                .getDouble(),
            0.003);
  EXPECT_EQ(check.execAndGet("SELECT count(*) FROM trial_intermediate_values WHERE value IS NULL")
                .getInt(),
            1);
  EXPECT_EQ(check.execAndGet("SELECT value FROM trial_intermediate_values WHERE step = 0")
                .getDouble(),
            0.91);
}

}  // namespace
}  // namespace parzen::testing

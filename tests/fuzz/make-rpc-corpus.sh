#!/usr/bin/env bash
# Writes tests/fuzz/corpus/rpc_request: one seed per line of SEEDS below,
# a method's index in StudyService (unary methods in declaration order)
# then its request in protobuf text format, encoded with protoc. Rerun it
# when the requests change.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=tests/fuzz/corpus/rpc_request
rm -rf "$out" && mkdir -p "$out"
declare -A INDEX=(
  [CreateStudy]=0 [GetStudy]=1 [ListStudies]=2 [DeleteStudy]=3 [SetStudyUserAttr]=4 [Ask]=5
  [Suggest]=6 [ReportIntermediate]=7 [Tell]=8 [Heartbeat]=9 [EnqueueTrial]=10
  [SetTrialUserAttr]=11 [GetTrial]=12 [ListTrials]=13 [BackupDatabase]=14)
SEEDS=(
  'CreateStudy|name: "s" max_trials: 5'
  'CreateStudy|name: "m" directions: [MINIMIZE, MAXIMIZE] sampler { nsga2 { seed: 1 } } load_if_exists: true'
  'CreateStudy|name: "t" sampler { tpe { seed: 3 n_startup_trials: 2 } } pruner { median { n_startup_trials: 1 } } user_attrs { key: "k" value { list_value { values { number_value: 1 } } } }'
  'CreateStudy|name: "g" sampler { grid { } }'
  'GetStudy|name: "s"'
  'ListStudies|page_size: 2'
  'DeleteStudy|name: "m"'
  'SetStudyUserAttr|study: "s" key: "note" value { string_value: "x" }'
  'Ask|study: "s" worker_id: "w" search_space { name: "x" distribution { float_distribution { low: 0 high: 1 } } }'
  'Ask|study: "t" request_id: "r1" search_space { name: "opt" distribution { categorical_distribution { choices { string_value: "sgd" } choices { string_value: "adam" } } } } search_space { name: "m" distribution { float_distribution { low: 0 high: 0.9 } } condition { parent: "opt" values { string_value: "sgd" } } } search_space { name: "n" distribution { int_distribution { low: 1 high: 64 log: true } } }'
  'Suggest|trial_id: 1 name: "y" distribution { int_distribution { low: -3 high: 9 step: 3 } }'
  'ReportIntermediate|trial_id: 1 step: 0 value: 0.5'
  'Tell|trial_id: 1 state: COMPLETE values: 0.25'
  'Tell|trial_id: 2 state: FAIL fail_reason: "oom"'
  'Heartbeat|trial_id: 1 worker_id: "w"'
  'EnqueueTrial|study: "s" params { key: "x" value { double_value: 0.5 } }'
  'SetTrialUserAttr|trial_id: 1 key: "k" value { bool_value: true }'
  'GetTrial|trial_id: 1'
  'ListTrials|study: "s" states: [COMPLETE] page_size: 1'
  'BackupDatabase|name: "b.db"'
)
i=0
for seed in "${SEEDS[@]}"; do
  method=${seed%%|*}
  text=${seed#*|}
  file=$(printf '%s/%02d-%s' "$out" "$i" "$method")
  printf "\\x$(printf '%02x' "${INDEX[$method]}")" > "$file"
  protoc -Iproto -I/usr/include --encode="parzen.v1.${method}Request" \
    parzen/v1/study_service.proto <<< "$text" >> "$file"
  i=$((i + 1))
done
echo "wrote $i seeds to $out"

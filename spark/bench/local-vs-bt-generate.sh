#!/usr/bin/env bash
# Prompts/s of the Spark job on this machine (local[2], through Spark's own SparkSubmit entry point with the jars a
# Spark distribution ships, as spark-submit runs it) beside `bt generate` on the same prompts. Prints one line per
# run, with the 1-minute load average before it (the machine may be shared); docs/benchmarks.md has the table.
# Both sides: the same prompts, preset, batch size and sampling (bt generate --seed S seeds prompt i with S + i;
# the job's --index-rows gives row i the same seed), every prompt run to --max-new-tokens.
# Usage: spark/bench/local-vs-bt-generate.sh [RUNS] [PROMPTS]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/scripts/lib/java.sh"
bt_select_java || exit 1
RUNS=${1:-3}
N=${2:-1024}
MODEL=block-b4-5m
NEW=32
SAMPLING=(--temperature 0.8 --top-k 40 --top-p 0.95 --seed 7)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$ROOT"

scripts/mvn -q -DskipTests package -pl spark -am >&2
scripts/mvn -q dependency:build-classpath -pl spark -Dmdep.includeScope=provided -Dmdep.outputFile="$WORK/cp" >&2

# The same prompts twice: bt generate's format (an id array per line) and JSON objects for Spark's reader.
python3 - "$WORK" "$N" <<'PY'
import json, random, sys
work, n = sys.argv[1], int(sys.argv[2])
r = random.Random(16)
ids = [[r.randrange(1, 50304) for _ in range(r.randint(16, 48))] for _ in range(n)]
open(f"{work}/prompts.jsonl", "w").write("".join(json.dumps(p) + "\n" for p in ids))
open(f"{work}/prompts-spark.jsonl", "w").write("".join(json.dumps({"prompt": p}) + "\n" for p in ids))
PY
cat > "$WORK/log4j2.properties" <<'L4J'
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{UNIX_MILLIS} %m%n
logger.bt.name = org.blocktransformer.spark
logger.bt.level = info
L4J

# What spark-submit's launcher adds for Java 17+ (JavaModuleOptions), plus the engine's Vector API.
OPENS="--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
 --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
 --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED
 --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
 --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
 --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED
 --add-opens=java.base/sun.util.calendar=ALL-UNNAMED -Dio.netty.tryReflectionSetAccessible=true
 --sun-misc-unsafe-memory-access=allow"

load() { cut -d' ' -f1 /proc/loadavg; }
secs() { awk "BEGIN { printf \"%.1f\", $1 - $2 }"; }
rate() { awk "BEGIN { printf \"%.1f\", $N / $1 }"; }
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) cores); $N prompts, $MODEL, $NEW new tokens, batch 32," \
    "${SAMPLING[*]}"
for run in $(seq "$RUNS"); do
    before=$(load)
    start=$(date +%s.%N)
    summary=$(scripts/bt generate --model $MODEL --prompts-file "$WORK/prompts.jsonl" --max-new-tokens $NEW \
        --batch-size 32 --ignore-eos "${SAMPLING[@]}" 2>&1 >/dev/null | grep 'prompts,')
    end=$(date +%s.%N)
    # "N prompts, T new tokens in S s: R tok/s (model loaded in L s)": S is from submission to the last token.
    gen=$(sed -E 's/.* in ([0-9.]+) s:.*/\1/' <<< "$summary")
    loaded=$(sed -E 's/.*model loaded in ([0-9.]+) s.*/\1/' <<< "$summary")
    wall=$(secs "$end" "$start")
    echo "bt generate     run $run (load $before): generation $gen s = $(rate "$gen") prompts/s;" \
        "model load $loaded s; wall $wall s = $(rate "$wall") prompts/s"
    for parts in 2 8; do
        before=$(load)
        log="$WORK/spark-$parts-$run.log"
        start=$(date +%s.%N)
        # shellcheck disable=SC2086
        line=$("$BT_JAVA" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED $OPENS -XX:MaxRAMPercentage=75 \
            -Dlog4j2.configurationFile="$WORK/log4j2.properties" -cp "$(cat "$WORK/cp")" \
            org.apache.spark.deploy.SparkSubmit --master 'local[2]' --conf spark.ui.enabled=false \
            --conf spark.plugins=org.blocktransformer.spark.BtSparkPlugin \
            --class org.blocktransformer.spark.examples.GenerateJob spark/target/bt-spark.jar \
            --input "$WORK/prompts-spark.jsonl" --output "$WORK/out.parquet" --model $MODEL --max-new-tokens $NEW \
            --batch-size 32 --ignore-eos "${SAMPLING[@]}" --index-rows --partitions "$parts" 2>"$log" | grep 'prompts,')
        end=$(date +%s.%N)
        wall=$(secs "$end" "$start")
        # The job's own timer (GenerateJob: transform + Parquet write, the engine's load inside it) ...
        job=$(sed -E 's/.* in ([0-9.]+) s:.*/\1/' <<< "$line")
        # ... and, from the executor's log, the engine's load and the span from the first partition's submission to
        # the last one's end (each partition logs "<end ms> partition i: ... in <ms> ms"): bt generate's figure.
        opened=$(sed -nE 's/.* opened .* in ([0-9]+) ms$/\1/p' "$log" | head -1)
        span=$(awk '/ partition [0-9]+: / { e = $1; d = $(NF - 1); s = e - d;
                   if (!n++ || s < lo) lo = s; if (e > hi) hi = e } END { printf "%.1f", (hi - lo) / 1000 }' "$log")
        echo "spark p=$parts     run $run (load $before): generation $span s = $(rate "$span") prompts/s;" \
            "model load $(awk "BEGIN { printf \"%.1f\", ${opened:-0} / 1000 }") s; job $job s = $(rate "$job") prompts/s;" \
            "wall $wall s = $(rate "$wall") prompts/s"
    done
done

# Shared by scripts/bt-tornado, scripts/test and .ci/run: finding a TornadoVM SDK and preparing the build for it.

# Sets TORNADOVM_HOME to an SDK: the variable if it names one, else the first SDK under /opt/tornadovm*,
# /usr/local/tornadovm* or ~/tornadovm* (a folder holding tornado-argfile). Returns 1 when there is none.
bt_find_tornado() {
    if [[ -n "${TORNADOVM_HOME:-}" && -f "$TORNADOVM_HOME/tornado-argfile" ]]; then
        return 0
    fi
    local f
    for f in /opt/tornadovm*/tornado-argfile /opt/tornadovm*/*/tornado-argfile /usr/local/tornadovm*/tornado-argfile \
             "$HOME"/tornadovm*/tornado-argfile "$HOME"/tornadovm*/*/tornado-argfile; do
        if [[ -f "$f" ]]; then
            TORNADOVM_HOME=$(dirname "$f")
            export TORNADOVM_HOME
            return 0
        fi
    done
    return 1
}

bt_require_tornado() {
    if ! bt_find_tornado; then
        echo "error: no TornadoVM SDK found: install a TornadoVM 5.2 SDK built for JDK 25 and set TORNADOVM_HOME" \
             "(see README.md, 'GPU backend')" >&2
        return 1
    fi
}

# Registers the SDK's tornado-api jar as io.github.beehive-lab:tornado-api:5.2.0-jdk25 in the local Maven repository
# (TornadoVM is not on Maven Central); does nothing when it is already there.
bt_install_tornado_api() {
    local root=$1 jar
    jar=$(ls "$TORNADOVM_HOME"/share/java/tornado/tornado-api-*.jar 2>/dev/null | head -1)
    if [[ -z "$jar" ]]; then
        echo "error: $TORNADOVM_HOME has no share/java/tornado/tornado-api-*.jar" >&2
        return 1
    fi
    local repo=${MAVEN_REPO:-$HOME/.m2/repository}
    if [[ -f "$repo/io/github/beehive-lab/tornado-api/5.2.0-jdk25/tornado-api-5.2.0-jdk25.jar" ]]; then
        return 0
    fi
    "$(bt_maven "$root")" -q install:install-file -Dfile="$jar" -DgroupId=io.github.beehive-lab \
        -DartifactId=tornado-api -Dversion=5.2.0-jdk25 -Dpackaging=jar
}

# Device memory TornadoVM may use (its -Dtornado.device.memory): BT_DEVICE_MEMORY when set, else 90% of the
# smallest NVIDIA GPU's memory when nvidia-smi answers, else 8GB (TornadoVM's own default is far smaller).
bt_device_memory() {
    if [[ -n "${BT_DEVICE_MEMORY:-}" ]]; then
        echo "$BT_DEVICE_MEMORY"
        return
    fi
    local mib
    mib=$(nvidia-smi --query-gpu=memory.total --format=csv,noheader,nounits 2>/dev/null | sort -n | head -1 || true)
    if [[ "$mib" =~ ^[0-9]+$ ]] && (( mib > 1024 )); then
        echo "$(( mib * 9 / 10 ))MB"
    else
        echo 8GB
    fi
}

# The JVM options of a TornadoVM run, into the array BT_TORNADO_OPTS: TornadoVM's argfile (JVMCI, its modules),
# loud JIT failures, the device memory above, room for a whole stack's layers in one task graph (one submission
# per stack call instead of one per layer), event lists of 1,024 entries, then BT_JAVA_OPTS.
# TornadoVM refills every event list of a graph (tornado.max.events ints each, 32,768 by default) on every execution:
# for a whole stack in one graph that is megabytes of memset per submission, most of a decode step's host time on PTX.
# No task of ours waits on more than a few events; a list that overflows fails loudly ("event list is too small").
bt_tornado_java_opts() {
    BT_TORNADO_OPTS=(@"$TORNADOVM_HOME/tornado-argfile" -XX:MaxRAMPercentage=75 --add-modules jdk.incubator.vector
        --enable-native-access=ALL-UNNAMED -Dtornado.recover.bailout=False
        "-Dtornado.device.memory=$(bt_device_memory)" -Dtornado.tvm.maxbytecodesize=131072 -Dtornado.max.events=1024)
    if [[ -n "${BT_JAVA_OPTS:-}" ]]; then
        local extra
        read -r -a extra <<< "$BT_JAVA_OPTS"
        BT_TORNADO_OPTS+=("${extra[@]}")
    fi
}

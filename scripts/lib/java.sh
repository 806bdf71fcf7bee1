# shellcheck shell=bash
# Finds a JDK 25 or newer for the scripts of this repository. Source it, then call bt_select_java:
#   . scripts/lib/java.sh && bt_select_java || exit 1
# On success JAVA_HOME is exported and points at the JDK, and BT_JAVA is its java command.
# The search order: $JAVA_HOME, the java on PATH, then common install locations (Linux packages, /opt,
# SDKMAN, macOS java_home and /Library/Java).

BT_MIN_JAVA=25

# The feature version (e.g. 25) of the Java installation at $1, or nothing.
bt_java_version() {
    local home=$1 v=""
    [[ -x "$home/bin/java" ]] || return 1
    if [[ -f "$home/release" ]]; then
        v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release" 2>/dev/null | head -n 1)
    fi
    if [[ -z "$v" ]]; then
        v=$("$home/bin/java" -XshowSettings:properties -version 2>&1 \
            | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1)
    fi
    [[ -n "$v" ]] && echo "$v"
}

# Succeeds when $1 is a Java home of version BT_MIN_JAVA or newer.
bt_java_ok() {
    local v
    v=$(bt_java_version "$1") || return 1
    [[ "$v" =~ ^[0-9]+$ ]] && (( v >= BT_MIN_JAVA ))
}

# Candidate Java homes, one per line, best guesses first.
bt_java_candidates() {
    [[ -n "${JAVA_HOME:-}" ]] && echo "$JAVA_HOME"
    local java
    if java=$(command -v java 2>/dev/null); then
        java=$(readlink -f "$java" 2>/dev/null || echo "$java")
        echo "${java%/bin/java}"
    fi
    if [[ -x /usr/libexec/java_home ]]; then
        /usr/libexec/java_home -v "$BT_MIN_JAVA" 2>/dev/null
        /usr/libexec/java_home -v "$BT_MIN_JAVA+" 2>/dev/null
    fi
    local d
    # Exactly 25 first, then anything that may be newer.
    for d in /usr/lib/jvm/*"$BT_MIN_JAVA"* /opt/*jdk*"$BT_MIN_JAVA"* /opt/java/*"$BT_MIN_JAVA"* \
             "$HOME"/.sdkman/candidates/java/"$BT_MIN_JAVA"* "$HOME"/.jdks/*"$BT_MIN_JAVA"* \
             /Library/Java/JavaVirtualMachines/*"$BT_MIN_JAVA"*/Contents/Home \
             /usr/lib/jvm/* /opt/*jdk* /opt/java/* "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/* \
             /Library/Java/JavaVirtualMachines/*/Contents/Home; do
        [[ -d "$d" ]] && echo "$d"
    done
}

# Exports JAVA_HOME (a JDK >= 25) and sets BT_JAVA; prints how to get one and fails otherwise.
bt_select_java() {
    local home
    while IFS= read -r home; do
        if bt_java_ok "$home"; then
            export JAVA_HOME="$home"
            BT_JAVA="$home/bin/java"
            # Keeps Maven's own sun.misc.Unsafe warnings (from its libraries, on JDK 24+) out of the output.
            case " ${MAVEN_OPTS:-} " in
                *" --sun-misc-unsafe-memory-access="*) ;;
                *) export MAVEN_OPTS="${MAVEN_OPTS:+$MAVEN_OPTS }--sun-misc-unsafe-memory-access=allow" ;;
            esac
            return 0
        fi
    done < <(bt_java_candidates)
    cat >&2 <<MSG
error: no JDK $BT_MIN_JAVA or newer found.
  Looked at \$JAVA_HOME (${JAVA_HOME:-unset}), the java on PATH, /usr/lib/jvm, /opt, ~/.sdkman and ~/.jdks
  (and /usr/libexec/java_home on macOS). Install one, then set JAVA_HOME to it if it is elsewhere, e.g.:
    SDKMAN:        sdk install java $BT_MIN_JAVA-tem
    macOS:         brew install --cask temurin@$BT_MIN_JAVA
    Debian/Ubuntu: the temurin-$BT_MIN_JAVA-jdk package from https://adoptium.net/installation/linux/
    any system:    download a JDK $BT_MIN_JAVA from https://adoptium.net/ and export JAVA_HOME=/path/to/it
MSG
    return 1
}

# The Maven command for this repository: the wrapper if present, else a mvn on PATH.
bt_maven() {
    local root=$1
    if [[ -x "$root/mvnw" ]]; then
        echo "$root/mvnw"
    elif command -v mvn >/dev/null 2>&1; then
        command -v mvn
    else
        echo "error: neither $root/mvnw nor mvn is available to build the project" >&2
        return 1
    fi
}

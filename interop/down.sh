#!/usr/bin/env bash
# Stops exactly what up.sh started, by the pid files under the state directory (never by name).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE="${INTEROP_STATE:-$HERE/state}"
RUN="$STATE/run"
[ -d "$RUN" ] || { echo "down: nothing to stop ($RUN missing)"; exit 0; }

# alive: exists and is not a zombie (PID 1 here may be slow to reap re-parented daemons)
alive() { local st; st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1; [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]; }

stop() { # name  pidfile  expected-executable-basename
  local name=$1 pf=$2 exe=$3 pid
  [ -s "$pf" ] || { echo "down: $name: no pid file"; return 0; }
  pid=$(tr -dc '0-9' < "$pf")
  if [ -z "$pid" ] || ! alive "$pid"; then
    echo "down: $name: not running (stale pid file)"; rm -f "$pf"; return 0
  fi
  # guard against a recycled pid: the process must be the expected program
  if [ "$(basename "$(readlink /proc/"$pid"/exe 2>/dev/null || echo ?)")" != "$exe" ]; then
    echo "down: $name: pid $pid is not $exe, leaving it alone"; rm -f "$pf"; return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true   # it may have exited since the check
  for _ in $(seq 1 200); do alive "$pid" || break; sleep 0.05; done
  if alive "$pid"; then echo "down: $name: pid $pid still alive, sending KILL"; kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$pf"
  echo "down: $name (pid $pid) stopped"
}

# up.sh copies Postfix's pid file into run/ once master is up; if it died before, master's own
# pid file under the queue directory still names it
pf="$RUN/postfix-master.pid"
[ -s "$pf" ] || pf="$STATE/postfix/spool/pid/master.pid"
stop postfix "$pf" master
stop nginx   "$RUN/nginx.pid"          nginx
stop unbound "$RUN/unbound.pid"        unbound
stop nsd     "$RUN/nsd.pid"            nsd
stop hostile-data "$RUN/hostile-data.pid" socat
stop hostile-ehlo "$RUN/hostile-ehlo.pid" socat

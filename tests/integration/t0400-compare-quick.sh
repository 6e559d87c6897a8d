#!/usr/bin/env bash
# compare --quick runs every method and writes JSON with all fields, and an SVG;
# the receive-path methods take the NAPI path, busypoll's poller costs CPU
# with no traffic, hybrid's does not (generous bounds: the machine is shared).
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq: the results are JSON"
expect 0 "$RTVNET" compare --quick --duration 3s --json "$TMP/c.json"
out_has "^method +load"
out_has "^dedicated"
[ -s "$TMP/c.svg" ] || die "no SVG"
grep -q '</svg>' "$TMP/c.svg" || die "SVG incomplete"
jq -e '
  (.meta.cmdline | test("compare --quick")) and (.meta | has("tool") and has("version") and has("kernel") and has("cpus") and has("cmdline") and has("start") and has("end"))
  and ([.runs[].method] | sort) == ["busypoll","dedicated","hybrid","idle","outsource","prio","separate","vanilla"]
  and all(.runs[]; .rtt_us | has("count") and has("lost") and has("mean") and has("sd") and has("min")
       and has("p50") and has("p90") and has("p99") and has("p999") and has("p9999") and has("max")
       and has("over_1ms_pct"))
  and all(.runs[]; has("service_us") and has("stream_gbit_s") and (.cpu | has("busy_pct") and has("softirq_pct")) and has("foreign_pct"))
  and all(.runs[]; .rtt_us.count > 100)
  and all(.runs[] | select(.method != "idle"); .stream_gbit_s > 0)
  and ([.summary[].method] == ["idle","vanilla","prio","dedicated","separate","busypoll","hybrid","outsource"])
  and all(.summary[]; has("cpu_pct") and has("poller_load_cpu_pct") and has("poller_idle_cpu_pct")
       and (has("energy_j") or has("energy_est_j")))
  and (.config.energy_source | type == "string")
  and .config.topology == "host" and .config.nat == false and .config.peer_cpus == "0"
  and all(.summary[] | select(.method == "busypoll"); .poller_load_cpu_pct > 50 and .poller_idle_cpu_pct > 50)
  and all(.summary[] | select(.method == "hybrid"); .poller_idle_cpu_pct < 20)
  and all(.runs[] | select(.method == "separate" or .method == "busypoll" or .method == "hybrid");
       .rt_napi_path_pct > 90)
  and all(.runs[] | select(.method == "vanilla"); .rt_napi_path_pct == 0)
  and all(.summary[]; has("p50_us") and has("p99_us") and has("p999_us") and has("sd_us") and has("stream_gbit_s")
       and has("cpu_pct") and has("p99_us_min") and has("p99_us_max"))
' "$TMP/c.json" >/dev/null || { jq . "$TMP/c.json" | head -80; die "compare JSON"; }
echo ok

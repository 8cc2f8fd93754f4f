# Firehose dynamic partitioning of the log archive (logs.tf): the partition keys of one CloudWatch
# Logs subscription message (decompressed), as jq 1.6 (Firehose's engine) evaluates it.
# The subscription filter's name is `,`-separated `key=value` pairs: the tiers name theirs
# `event=<event_id>,source=<service|rds|dms>`, the control plane `source=<functions|runner>`.
# event: the filter's, else (runner) the log stream's first part `<event_id>/<instance id>`, else
# (functions) the first `fields.event_id` of the JSON log lines, else "none".
(.subscriptionFilters[0] // "" | split(",") | map(select(contains("=")) | split("=") | {(.[0]): .[1]}) | add // {}) as $f
| {
  event: ($f.event
    // (if $f.source == "runner" then (.logStream | split("/")[0]) else null end)
    // ([.logEvents[].message | fromjson? | .fields.event_id? | strings][0])
    // "none"),
  source: ($f.source // "unknown")
}

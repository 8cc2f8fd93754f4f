# The default lead time, learned from real runs (issue 13, part 4; docs/readiness.md, "At risk").
# The functions keep what this module version's applies and its runners' boots take in the state
# bucket, and after each run write the lead time a start needs, (p95 apply + p95 boot) × 1.25 in
# whole minutes, to events/_history/lead-time.json. An event without its own lead_time_minutes gets
# that figure; 30 minutes before any run has been recorded. An event's own lead_time_minutes is
# always the operator's choice, and wins. The output default_lead_time_minutes says which.
#
# Not on the local stack (aws_endpoint_url set): the state bucket's TLS-only policy refuses moto's
# plain-HTTP requests (local/EMULATOR-GAPS.md), so there the default stays 30.

resource "aws_s3_object" "learned_lead" {
  count        = local.local_stack ? 0 : 1
  bucket       = aws_s3_bucket.state.id
  key          = "events/_history/lead-time.json"
  content      = jsonencode({})
  content_type = "application/json"
  kms_key_id   = aws_kms_key.control.arn

  # Written by the functions from then on.
  lifecycle {
    ignore_changes = all
  }
}

data "aws_s3_object" "learned_lead" {
  count      = local.local_stack ? 0 : 1
  bucket     = aws_s3_bucket.state.id
  key        = aws_s3_object.learned_lead[0].key
  depends_on = [aws_s3_object.learned_lead]
}

locals {
  learned_lead_minutes = try(tonumber(jsondecode(data.aws_s3_object.learned_lead[0].body).lead_time_minutes), null)
  # Whole minutes within what an event may set (1 to 1440); 30 until a run is recorded.
  default_lead_time_minutes = local.learned_lead_minutes == null ? 30 : max(1, min(1440, ceil(local.learned_lead_minutes)))
}

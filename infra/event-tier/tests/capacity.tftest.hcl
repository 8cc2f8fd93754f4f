# Capacity shaped to the event: the service's minimum rises at the opening and relaxes after the
# declared peak, in the event's time zone; an optional LCU reservation on the load balancer, which
# goes with the tier. Against a mocked AWS provider.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  event_id      = "winter-sale-2026"
  aws_region    = "ap-northeast-2"
  desired_count = 4
  max_count     = 20
}

run "without_shaping_the_tier_scales_on_cpu_alone" {
  command = plan

  assert {
    condition     = length(aws_appautoscaling_scheduled_action.opening) == 0 && length(aws_appautoscaling_scheduled_action.after_peak) == 0
    error_message = "no scheduled action unless peak_min_count is set"
  }
  assert {
    condition     = length(aws_lb.this.minimum_load_balancer_capacity) == 0
    error_message = "no LCU reservation unless lb_capacity_units is set"
  }
}

run "the_minimum_rises_at_the_opening_and_relaxes_after_the_peak_in_the_events_zone" {
  command = apply

  variables {
    timezone       = "Asia/Seoul"
    opens_at       = "2026-12-19T09:00:00"
    peak_min_count = 12
    peak_ends_at   = "2026-12-19T12:30:00"
  }

  assert {
    condition = [for a in aws_appautoscaling_scheduled_action.opening : {
      schedule = a.schedule, timezone = a.timezone, min = a.scalable_target_action[0].min_capacity,
      max      = a.scalable_target_action[0].max_capacity, target = a.resource_id
      }] == [{
      schedule = "at(2026-12-19T09:00:00)", timezone = "Asia/Seoul", min = "12", max = "20",
      target   = aws_appautoscaling_target.service.resource_id
    }]
    error_message = "at the opening (Seoul time) the minimum becomes peak_min_count, the maximum stays max_count"
  }
  assert {
    condition = [for a in aws_appautoscaling_scheduled_action.after_peak : {
      schedule = a.schedule, timezone = a.timezone, min = a.scalable_target_action[0].min_capacity,
      max      = a.scalable_target_action[0].max_capacity, target = a.resource_id
      }] == [{
      schedule = "at(2026-12-19T12:30:00)", timezone = "Asia/Seoul", min = "4", max = "20",
      target   = aws_appautoscaling_target.service.resource_id
    }]
    error_message = "after the peak the minimum relaxes to desired_count"
  }
  assert {
    condition     = aws_appautoscaling_target.service.min_capacity == 4
    error_message = "before the opening the minimum is desired_count"
  }
}

run "without_a_declared_peak_end_the_raised_minimum_stays" {
  command = plan

  variables {
    opens_at       = "2026-12-19T09:00:00"
    peak_min_count = 8
  }

  assert {
    condition     = length(aws_appautoscaling_scheduled_action.opening) == 1 && length(aws_appautoscaling_scheduled_action.after_peak) == 0
    error_message = "one raise at the opening, nothing after"
  }
}

run "an_lcu_reservation_is_made_on_the_tiers_load_balancer" {
  command = plan

  variables {
    lb_capacity_units = 150
  }

  assert {
    condition     = [for c in aws_lb.this.minimum_load_balancer_capacity : c.capacity_units] == [150]
    error_message = "the reservation is the load balancer's own setting, destroyed with it"
  }
}

run "a_peak_minimum_below_desired_count_is_refused" {
  command = plan
  variables {
    opens_at       = "2026-12-19T09:00:00"
    peak_min_count = 3
  }
  expect_failures = [var.peak_min_count]
}

run "a_peak_minimum_above_max_count_is_refused" {
  command = plan
  variables {
    opens_at       = "2026-12-19T09:00:00"
    peak_min_count = 21
  }
  expect_failures = [var.peak_min_count]
}

run "a_peak_minimum_without_an_opening_is_refused" {
  command = plan
  variables {
    peak_min_count = 8
  }
  expect_failures = [var.peak_min_count]
}

run "a_peak_ending_before_the_opening_is_refused" {
  command = plan
  variables {
    opens_at       = "2026-12-19T09:00:00"
    peak_min_count = 8
    peak_ends_at   = "2026-12-19T08:59:59"
  }
  expect_failures = [var.peak_ends_at]
}

run "an_opening_time_with_an_offset_is_refused" {
  command = plan
  variables {
    opens_at = "2026-12-19T09:00:00+09:00"
  }
  expect_failures = [var.opens_at]
}

run "a_time_zone_that_is_not_iana_is_refused" {
  command = plan
  variables {
    timezone = "KST"
  }
  expect_failures = [var.timezone]
}

run "a_negative_lcu_reservation_is_refused" {
  command = plan
  variables {
    lb_capacity_units = -100
  }
  expect_failures = [var.lb_capacity_units]
}

"""Gap: moto 5.2.5's RDS ignores EnablePerformanceInsights, PerformanceInsightsRetentionPeriod and
PerformanceInsightsKMSKeyId of CreateDBInstance (and answers ModifyDBInstance's
EnablePerformanceInsights under another name): DescribeDBInstances answers PerformanceInsightsEnabled
false, so the AWS provider plans `false -> true` after every apply.

Fix: an instance keeps the three settings and answers them as PerformanceInsightsEnabled,
PerformanceInsightsRetentionPeriod and PerformanceInsightsKMSKeyId; with Performance Insights on and no
retention given, the retention is 7 days, as in RDS.
"""

from moto.rds import models

from ._common import check_version


def _settings(db, kwargs):
    if kwargs.get("enable_performance_insights") is not None:
        db.performance_insights_enabled = bool(kwargs["enable_performance_insights"])
    if kwargs.get("performance_insights_retention_period") is not None:
        db.performance_insights_retention_period = kwargs["performance_insights_retention_period"]
    if kwargs.get("performance_insights_kms_key_id"):
        db.performance_insights_kms_key_id = kwargs["performance_insights_kms_key_id"]
    if db.performance_insights_enabled and not getattr(db, "performance_insights_retention_period", None):
        db.performance_insights_retention_period = 7


def apply():
    check_version(__name__)
    init = models.DBInstance.__init__
    update = models.DBInstance.update

    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.performance_insights_enabled = False
        _settings(self, kwargs)

    def update_(self, *args, **kwargs):
        pi = {k: kwargs.pop(k) for k in ("enable_performance_insights",) if k in kwargs}
        update(self, *args, **kwargs)
        _settings(self, pi)

    models.DBInstance.__init__ = __init__
    models.DBInstance.update = update_

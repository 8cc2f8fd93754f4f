//! The quotas the tier counts against, what a plan needs of each, and need against quota.

use super::{Check, Mark, Plan};

/// A quota the tier counts against, and how its use is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaRef {
    /// Service Quotas' service code (`dms`: its own account attributes).
    pub service: &'static str,
    /// Service Quotas' quota code (`dms`: the account quota's name).
    pub code: &'static str,
    pub name: &'static str,
    pub unit: &'static str,
}

pub const FARGATE_VCPU: QuotaRef = QuotaRef {
    service: "fargate",
    code: "L-3032A538",
    name: "Fargate On-Demand vCPU resource count",
    unit: "vCPU",
};
pub const LOAD_BALANCERS: QuotaRef = QuotaRef {
    service: "elasticloadbalancing",
    code: "L-53DA6B97",
    name: "Application Load Balancers per Region",
    unit: "load balancers",
};
pub const DB_INSTANCES: QuotaRef = QuotaRef {
    service: "rds",
    code: "L-7B6409FD",
    name: "DB instances",
    unit: "DB instances",
};
pub const DMS_INSTANCES: QuotaRef = QuotaRef {
    service: "dms",
    code: "ReplicationInstances",
    name: "DMS replication instances",
    unit: "replication instances",
};
pub const SECURITY_GROUPS: QuotaRef = QuotaRef {
    service: "vpc",
    code: "L-E79EC296",
    name: "VPC security groups per Region",
    unit: "security groups",
};

/// A quota's value, and what is in use when the service counts it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    pub value: f64,
    pub used: Option<f64>,
}

/// What the plan needs of one quota, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Need {
    pub quota: QuotaRef,
    pub need: f64,
    pub why: String,
}

/// The quotas the plan's resources count against.
pub fn needs(plan: &Plan) -> Vec<Need> {
    let mut out = Vec::new();
    if plan.count("aws_ecs_service") > 0
        && let (Some(max), Some(cpu)) = (plan.number("max_count"), plan.number("task_cpu"))
    {
        out.push(Need {
            quota: FARGATE_VCPU,
            need: max * cpu / 1024.0,
            why: format!("max_count {max} × {} vCPU", cpu / 1024.0),
        });
    }
    for (kind, quota) in [
        ("aws_lb", LOAD_BALANCERS),
        ("aws_db_instance", DB_INSTANCES),
        ("aws_dms_replication_instance", DMS_INSTANCES),
        ("aws_security_group", SECURITY_GROUPS),
    ] {
        let n = plan.count(kind);
        if n > 0 {
            out.push(Need {
                quota,
                need: n as f64,
                why: format!("{n} {kind}"),
            });
        }
    }
    out
}

/// Need against quota: the quota must hold what is in use plus what the plan creates.
pub fn quota_check(need: &Need, limit: std::result::Result<Limit, String>) -> Check {
    let name = format!("quota {}", need.quota.name);
    let limit = match limit {
        Ok(l) => l,
        Err(e) => return Check::new(name, Mark::Fail, format!("cannot be read: {e}")),
    };
    let unit = need.quota.unit;
    let n = |v: f64| {
        if v.fract() == 0.0 {
            format!("{v:.0}")
        } else {
            format!("{v}")
        }
    };
    let (total, used) = match limit.used {
        Some(u) => (u + need.need, format!(" + {} in use", n(u))),
        None => (need.need, " (use not counted)".to_owned()),
    };
    Check::pass_if(
        name,
        total <= limit.value,
        format!(
            "needs {} {unit} ({}){used} of {} ({})",
            n(need.need),
            need.why,
            n(limit.value),
            need.quota.code
        ),
    )
}

"""Gap: moto 5.2.5's RDS DescribeDBParameters answers the parameters a DB parameter group was given
without their `Source`, and ignores the request's `Source` filter. RDS marks a parameter set through
ModifyDBParameterGroup with `Source: user`, and the AWS provider keeps only those: an
aws_db_parameter_group with `parameter` blocks plans to add them again after every apply.

Fix: parameters set on a group are `Source: user`; DescribeDBParameters filters on `Source` when
asked.
"""

from moto.rds import models, responses

from ._common import check_version


def apply():
    check_version(__name__)
    update = models.DBParameterGroup.update_parameters
    describe = responses.RDSResponse.describe_db_parameters

    def update_parameters(self, new_parameters):
        new_parameters = [dict(p, Source=p.get("Source") or "user") for p in new_parameters]
        update(self, new_parameters)

    def describe_db_parameters(self):
        result = describe(self)
        source = self.params.get("Source")
        if source:
            result.result["Parameters"] = [
                p for p in result.result["Parameters"] if p.get("Source") == source]
        return result

    models.DBParameterGroup.update_parameters = update_parameters
    responses.RDSResponse.describe_db_parameters = describe_db_parameters

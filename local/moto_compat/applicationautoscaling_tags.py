"""Gap: moto 5.2.5's Application Auto Scaling does not implement ListTagsForResource, TagResource and
UntagResource (HTTP 500), and ignores RegisterScalableTarget's Tags. The AWS provider (which tags
scalable targets through default_tags) retries until its 10-minute create timeout.

Fix: the three actions, with tags kept per scalable target ARN; RegisterScalableTarget stores its
Tags; a deregistered target's tags go with it. An unknown ARN is a ResourceNotFoundException, as in
AWS.
"""

import json

from moto.applicationautoscaling import models, responses
from moto.core.exceptions import JsonRESTError
from moto.utilities.tagging_service import TaggingService

from ._common import check_version


class ResourceNotFound(JsonRESTError):
    def __init__(self, arn):
        super().__init__("ResourceNotFoundException", f"No scalable target found for {arn}")


def _tagger(backend):
    if not hasattr(backend, "compat_tagger"):
        backend.compat_tagger = TaggingService()
    return backend.compat_tagger


def _target_arns(backend):
    return {t.arn for per_dim in backend.targets.values() for t in per_dim.values()}


def apply():
    check_version(__name__)
    Response = responses.ApplicationAutoScalingResponse
    Backend = models.ApplicationAutoscalingBackend
    register = Response.register_scalable_target
    deregister = Backend.deregister_scalable_target

    def _backend(self):
        return self.applicationautoscaling_backend

    def _check(self, arn):
        if arn not in _target_arns(_backend(self)):
            raise ResourceNotFound(arn)

    def list_tags_for_resource(self):
        arn = self._get_param("ResourceARN")
        _check(self, arn)
        return json.dumps({"Tags": _tagger(_backend(self)).get_tag_dict_for_resource(arn)})

    def tag_resource(self):
        arn = self._get_param("ResourceARN")
        _check(self, arn)
        tags = self._get_param("Tags") or {}
        _tagger(_backend(self)).tag_resource(arn, [{"Key": k, "Value": v} for k, v in tags.items()])
        return json.dumps({})

    def untag_resource(self):
        arn = self._get_param("ResourceARN")
        _check(self, arn)
        _tagger(_backend(self)).untag_resource_using_names(arn, self._get_param("TagKeys") or [])
        return json.dumps({})

    def register_scalable_target(self):
        out = register(self)
        tags = self._get_param("Tags")
        if tags:
            arn = json.loads(out)["ScalableTargetARN"]
            _tagger(_backend(self)).tag_resource(arn, [{"Key": k, "Value": v} for k, v in tags.items()])
        return out

    def deregister_scalable_target(self, namespace, r_id, dimension):
        target = self.targets.get(dimension, {}).get(r_id)
        deregister(self, namespace, r_id, dimension)
        if target is not None:
            _tagger(self).delete_all_tags_for_resource(target.arn)

    Response.list_tags_for_resource = list_tags_for_resource
    Response.tag_resource = tag_resource
    Response.untag_resource = untag_resource
    Response.register_scalable_target = register_scalable_target
    Backend.deregister_scalable_target = deregister_scalable_target

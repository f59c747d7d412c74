"""The team's private container registry: immutable tags, scan on push, KMS, old images expired."""

from __future__ import annotations

import json
from dataclasses import dataclass

from constructs import Construct

from terraml.modules.core import Module, Resource


@dataclass(frozen=True, kw_only=True)
class EcrRegistryProps:
    name: str
    kms_key_arn: str
    immutable_tags: bool = True
    """A pushed tag can never point at another image (reproducible training and serving)."""
    scan_on_push: bool = True
    keep_images: int = 200
    """Images beyond the newest N are expired."""


class EcrRegistry(Module):
    def __init__(self, scope: Construct, id: str, props: EcrRegistryProps):
        super().__init__(scope, id)
        self.repository = Resource(self, "repository", "aws_ecr_repository", {
            "name": props.name,
            "image_tag_mutability": "IMMUTABLE" if props.immutable_tags else "MUTABLE",
            "image_scanning_configuration": {"scan_on_push": props.scan_on_push},
            "encryption_configuration": [{"encryption_type": "KMS", "kms_key": props.kms_key_arn}],
            "force_delete": False,
        }, tags={})
        rules = {"rules": [{"rulePriority": 1, "description": f"keep the newest {props.keep_images} images",
                            "selection": {"tagStatus": "any", "countType": "imageCountMoreThan",
                                          "countNumber": props.keep_images},
                            "action": {"type": "expire"}}]}
        Resource(self, "lifecycle", "aws_ecr_lifecycle_policy", {
            "repository": self.repository.attr("name"), "policy": json.dumps(rules, sort_keys=True)})
        self.arn = self.repository.attr("arn")
        self.url = self.repository.attr("repository_url")

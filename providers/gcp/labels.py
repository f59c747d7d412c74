"""GCP labels: tags made valid GCP labels, the one rule the stacks, the Vertex AI backend and billing share.

GCP labels are stricter than AWS tags: keys and values hold only lowercase letters, digits, '_' and '-',
at most 63 characters, and keys start with a lowercase letter
(https://cloud.google.com/resource-manager/docs/labels-overview#requirements). Tags are turned into labels
here, deterministically, so that the same spec always gives the same labels: lowercase, every other
character becomes '_', a key that does not start with a letter gets 'k_' in front, and a text past 63
characters keeps 56 of them plus a stable hash ('CC-2077' -> 'cc-2077', 'Owner: a@b.io' -> 'owner__a_b_io').
"""

from __future__ import annotations

import re

from terraml.errors import Problem, SpecError
from terraml.naming import fit

LIMIT = 63
_NOT_ALLOWED = re.compile(r"[^a-z0-9_-]")


def label_value(text: str) -> str:
    """A tag's value as a GCP label value."""
    return fit(_NOT_ALLOWED.sub("_", text.lower()), LIMIT)


def label_key(text: str) -> str:
    """A tag's key as a GCP label key (which must also start with a lowercase letter)."""
    key = _NOT_ALLOWED.sub("_", text.lower())
    return fit(key if key[:1].isalpha() else f"k_{key}", LIMIT)


def labels_from_tags(tags: dict[str, str]) -> dict[str, str]:
    """Tags as GCP labels; two tags that become one label key are a spec error (no silent overwrite)."""
    out: dict[str, str] = {}
    seen: dict[str, str] = {}
    for key, value in tags.items():
        label = label_key(key)
        if label in seen:
            raise SpecError([Problem(f"defaults.tags.{key}", f"becomes the GCP label key '{label}', as "
                                     f"'{seen[label]}' does (GCP label keys hold lowercase letters, digits, "
                                     "'_' and '-'); rename one of the tags.")])
        seen[label] = key
        out[label] = label_value(value)
    return out

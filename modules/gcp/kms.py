"""The team's Cloud KMS key ring and one key per purpose, and who may use each key.

Google services encrypt with a customer-managed key through their service agents; each agent gets
encrypt/decrypt on the one key its service uses, and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from constructs import Construct

from terraml.modules.core import Module, Resource

ENCRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"


@dataclass(frozen=True, kw_only=True)
class KeyRingProps:
    name: str
    location: str
    keys: dict[str, dict[str, str]] = field(default_factory=dict)
    """Key name -> {who: member}: the service agents that encrypt with it, e.g.
    {'storage': {'gcs-agent': 'serviceAccount:service-123@gs-project-accounts.iam.gserviceaccount.com'}}."""
    rotation_days: int = 90
    """A new key version every 90 days; older versions keep decrypting what they encrypted."""
    destroy_scheduled_days: int = 30
    """Days a destroyed key version stays recoverable; the maximum GCP allows, since losing it loses the data."""


class KeyRing(Module):
    def __init__(self, scope: Construct, id: str, props: KeyRingProps):
        super().__init__(scope, id)
        # Key rings and keys cannot be deleted in GCP (destroying a ring only forgets it); destroying a key in
        # Terraform schedules the destruction of all its versions, which loses every byte encrypted with it,
        # so keys refuse it (deletion_policy PREVENT).
        ring = Resource(self, "ring", "google_kms_key_ring", {"name": props.name, "location": props.location})
        self.key_ids: dict[str, str] = {}
        self._grants: dict[tuple[str, str], Resource] = {}
        for name, members in props.keys.items():
            key = Resource(self, f"key-{name}", "google_kms_crypto_key", {
                "name": name,
                "key_ring": ring.attr("id"),
                "purpose": "ENCRYPT_DECRYPT",
                "rotation_period": f"{props.rotation_days * 86400}s",
                "destroy_scheduled_duration": f"{props.destroy_scheduled_days * 86400}s",
                "version_template": {"algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION", "protection_level": "SOFTWARE"},
                "deletion_policy": "PREVENT",
            }, tags={}, lifecycle={"prevent_destroy": True})
            self.key_ids[name] = key.attr("id")
            for who, member in sorted(members.items()):
                self._grants[name, who] = Resource(self, f"key-{name}-{who}", "google_kms_crypto_key_iam_member", {
                    "crypto_key_id": key.attr("id"), "role": ENCRYPTER, "member": member})

    def key_for(self, name: str, who: str) -> str:
        """The key's id, read through ``who``'s grant on it: a resource encrypting with it is then created
        only after its service agent may use the key (creating it earlier fails)."""
        return self._grants[name, who].attr("crypto_key_id")

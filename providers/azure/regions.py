"""Azure location names, for validating specs offline.

Azure ships no offline list without its SDK, so the public location names are kept here (from the
regions page, 2026); a name missing here but shaped like a location is accepted with a warning.
"""

from __future__ import annotations

import re

AZURE_LOCATIONS = frozenset("""
eastus eastus2 westus westus2 westus3 centralus northcentralus southcentralus westcentralus canadacentral
canadaeast brazilsouth mexicocentral northeurope westeurope uksouth ukwest francecentral germanywestcentral
norwayeast swedencentral switzerlandnorth polandcentral italynorth spaincentral uaenorth qatarcentral
israelcentral southafricanorth centralindia southindia westindia eastasia southeastasia japaneast japanwest
koreacentral koreasouth australiaeast australiasoutheast australiacentral newzealandnorth
""".split())

REGION_SHAPE = re.compile(r"^[a-z]+\d?$")
MACHINE_SHAPE = re.compile(r"^Standard_[A-Za-z0-9_]+$")

"""Resource type -> pricer, per cloud. Adding a cloud's types is one module here and its price rows."""

from terraml.cost.pricers import aws, azure, gcp
from terraml.cost.pricers.base import Pricer, Resource

PRICERS: dict[str, Pricer] = {**aws.PRICERS, **gcp.PRICERS, **azure.PRICERS}
CLOUD_OF_PREFIX = {"aws": "aws", "google": "gcp", "azurerm": "azure", "azapi": "azure"}

__all__ = ["PRICERS", "CLOUD_OF_PREFIX", "Pricer", "Resource"]

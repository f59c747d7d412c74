"""Resource type -> pricer, per cloud. Adding a cloud's types is one module here and its price rows."""

from terraml.providers.aws import pricing as aws
from terraml.providers.azure import pricing as azure
from terraml.providers.gcp import pricing as gcp

from terraml.cost.pricing import Pricer, Resource

PRICERS: dict[str, Pricer] = {**aws.PRICERS, **gcp.PRICERS, **azure.PRICERS}
CLOUD_OF_PREFIX = {"aws": "aws", "google": "gcp", "azurerm": "azure", "azapi": "azure"}

__all__ = ["PRICERS", "CLOUD_OF_PREFIX", "Pricer", "Resource"]

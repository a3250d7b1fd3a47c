# The Data Export Service in one resource group: storage (control, queue, failures, payloads),
# three Flex Consumption function apps (api, poller, applier), monitoring, Key Vault, and an
# optional Azure SQL target. Same deployment as infra/bicep; names shared with the code:
# docs/azure-names.md (checked by infra/tests/test_names.py).

data "azurerm_resource_group" "des" {
  name = var.resource_group_name
}

data "azurerm_client_config" "current" {}

locals {
  location = var.location != "" ? var.location : data.azurerm_resource_group.des.location
  unique   = substr(sha1("${data.azurerm_resource_group.des.id}/${var.prefix}"), 0, 13)

  # Names the code uses (docs/azure-names.md, crates/des-azure/src/names.rs).
  des_containers = ["des-control", "des-payloads", "des-failures"]
  work_queue     = "des-apply"
  poison_queue   = "des-apply-poison"
  # The Functions host keeps timer schedules, locks and keys in these; made here so that the
  # apps' roles can be scoped to them.
  host_containers = ["azure-webjobs-hosts", "azure-webjobs-secrets"]
  apps = {
    api     = "${var.prefix}-api"
    poller  = "${var.prefix}-poller"
    applier = "${var.prefix}-applier"
  }
  deployment_containers = {
    api     = "deploy-api"
    poller  = "deploy-poller"
    applier = "deploy-applier"
  }

  api_base_url = var.public_base_url != "" ? var.public_base_url : "https://${local.apps.api}.azurewebsites.net"
}

resource "azurerm_log_analytics_workspace" "des" {
  name                = "${var.prefix}-logs"
  resource_group_name = data.azurerm_resource_group.des.name
  location            = local.location
  sku                 = "PerGB2018"
  retention_in_days   = var.log_retention_days
  tags                = var.tags
}

resource "azurerm_application_insights" "des" {
  name                          = "${var.prefix}-appi"
  resource_group_name           = data.azurerm_resource_group.des.name
  location                      = local.location
  workspace_id                  = azurerm_log_analytics_workspace.des.id
  application_type              = "web"
  local_authentication_disabled = true
  tags                          = var.tags
}

resource "azurerm_key_vault" "des" {
  # checkov:skip=CKV_AZURE_109: network ACL default action follows public_network_access_enabled (Deny when false)
  # checkov:skip=CKV_AZURE_189: public network access is the public_network_access_enabled variable; Flex apps without VNet integration reach the vault publicly
  # checkov:skip=CKV2_AZURE_32: no private endpoints in this configuration (needs VNet integration of the Flex apps); see infra/README.md
  # 7 + 4 + 13 = 24 characters at most, never ending in or doubling a hyphen.
  name                          = "${substr(replace(var.prefix, "-", ""), 0, 7)}-kv-${local.unique}"
  resource_group_name           = data.azurerm_resource_group.des.name
  location                      = local.location
  tenant_id                     = data.azurerm_client_config.current.tenant_id
  sku_name                      = "standard"
  enable_rbac_authorization     = true
  soft_delete_retention_days    = var.key_vault_soft_delete_days
  purge_protection_enabled      = var.key_vault_purge_protection
  public_network_access_enabled = var.public_network_access_enabled
  tags                          = var.tags

  network_acls {
    bypass         = "AzureServices"
    default_action = var.public_network_access_enabled ? "Allow" : "Deny"
  }
}

# All three apps read target connection strings (the API tests them, the poller applies
# schemas, the applier writes) and organizations' app secrets.
resource "azurerm_role_assignment" "secrets_user" {
  for_each             = local.apps
  scope                = azurerm_key_vault.des.id
  role_definition_name = "Key Vault Secrets User"
  principal_id         = azurerm_function_app_flex_consumption.app[each.key].identity[0].principal_id
  principal_type       = "ServicePrincipal"
}

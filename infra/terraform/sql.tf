# Optional Azure SQL target: a logical server with Entra-only authentication and one database.
# The apps' identities become database users by T-SQL (Terraform cannot do it without a SQL
# provider), see infra/README.md.

resource "azurerm_mssql_server" "target" {
  # checkov:skip=CKV2_AZURE_27: Entra-only auth is set; checkov reads the empty default of sql_admin_login, which a variable validation refuses when deploy_sql is true
  # checkov:skip=CKV2_AZURE_2: vulnerability assessment needs a storage account and Defender for SQL, a subscription-level choice
  # checkov:skip=CKV2_AZURE_45: no private endpoints in this configuration (needs VNet integration of the Flex apps); see infra/README.md
  count                         = var.deploy_sql ? 1 : 0
  name                          = "${var.prefix}-sql-${local.unique}"
  resource_group_name           = data.azurerm_resource_group.des.name
  location                      = local.location
  version                       = "12.0"
  minimum_tls_version           = "1.2"
  public_network_access_enabled = var.public_network_access_enabled
  tags                          = var.tags

  azuread_administrator {
    login_username              = var.sql_admin_login
    object_id                   = var.sql_admin_object_id
    azuread_authentication_only = true
  }

  identity {
    type = "SystemAssigned"
  }
}

# Flex Consumption apps without VNet integration have no fixed outbound addresses: the
# 0.0.0.0 rule admits Azure services (sign-in is still Entra-only).
resource "azurerm_mssql_firewall_rule" "azure_services" {
  # checkov:skip=CKV2_AZURE_34: the 0.0.0.0 rule admits Azure services only: Flex apps without VNet integration have no fixed outbound addresses; sign-in is Entra-only
  count            = var.deploy_sql && var.public_network_access_enabled ? 1 : 0
  name             = "AllowAllWindowsAzureIps"
  server_id        = azurerm_mssql_server.target[0].id
  start_ip_address = "0.0.0.0"
  end_ip_address   = "0.0.0.0"
}

resource "azurerm_mssql_database" "target" {
  count     = var.deploy_sql ? 1 : 0
  name      = "${var.prefix}-target"
  server_id = azurerm_mssql_server.target[0].id
  sku_name  = var.sql_database_sku
  tags      = var.tags
}

resource "azurerm_mssql_server_extended_auditing_policy" "target" {
  count                  = var.deploy_sql ? 1 : 0
  server_id              = azurerm_mssql_server.target[0].id
  log_monitoring_enabled = true
  retention_in_days      = 90
}

resource "azurerm_storage_account" "des" {
  # checkov:skip=CKV_AZURE_59: public network access is the public_network_access_enabled variable; Flex apps without VNet integration reach storage over its public endpoint
  # checkov:skip=CKV_AZURE_35: default action follows public_network_access_enabled (Deny when false); identity-only access, no shared key
  # checkov:skip=CKV2_AZURE_33: no private endpoints in this configuration (needs VNet integration of the Flex apps); see infra/README.md
  # checkov:skip=CKV_AZURE_206: replication is the storage_replication_type variable, default ZRS
  # checkov:skip=CKV_AZURE_33: classic Storage Analytics logging needs Shared Key; queue and blob resource logs go to Log Analytics by diagnostic settings
  # checkov:skip=CKV2_AZURE_1: Microsoft-managed keys plus infrastructure (double) encryption; customer-managed keys are an operator choice
  name                     = substr("${replace(var.prefix, "-", "")}${local.unique}", 0, 24)
  resource_group_name      = data.azurerm_resource_group.des.name
  location                 = local.location
  account_kind             = "StorageV2"
  account_tier             = "Standard"
  account_replication_type = var.storage_replication_type
  # Every client (the handlers, the Functions host, Flex deployment) uses Entra ID.
  shared_access_key_enabled         = false
  default_to_oauth_authentication   = true
  allow_nested_items_to_be_public   = false
  cross_tenant_replication_enabled  = false
  https_traffic_only_enabled        = true
  min_tls_version                   = "TLS1_2"
  infrastructure_encryption_enabled = true
  public_network_access_enabled     = var.public_network_access_enabled
  tags                              = var.tags

  network_rules {
    default_action = var.public_network_access_enabled ? "Allow" : "Deny"
    bypass         = ["AzureServices"]
  }

  blob_properties {
    delete_retention_policy {
      days = 7
    }
    container_delete_retention_policy {
      days = 7
    }
  }
}

resource "azurerm_storage_container" "des" {
  # checkov:skip=CKV2_AZURE_21: wants azurerm_log_analytics_storage_insights, which needs the account key (Shared Key is off); blob resource logs go to Log Analytics by diagnostic settings
  for_each              = toset(concat(local.des_containers, local.host_containers, values(local.deployment_containers)))
  name                  = each.value
  storage_account_id    = azurerm_storage_account.des.id
  container_access_type = "private"
}

resource "azurerm_storage_queue" "des" {
  for_each           = toset([local.work_queue, local.poison_queue])
  name               = each.value
  storage_account_id = azurerm_storage_account.des.id
}

# Resource logs of the blob, queue and table services (reads, writes, deletes) go to Log
# Analytics. Only the Functions host keeps tables here: its diagnostic events.
resource "azurerm_monitor_diagnostic_setting" "storage" {
  for_each                   = toset(["blob", "queue", "table"])
  name                       = "${each.value}-logs"
  target_resource_id         = "${azurerm_storage_account.des.id}/${each.value}Services/default"
  log_analytics_workspace_id = azurerm_log_analytics_workspace.des.id

  enabled_log {
    category = "StorageRead"
  }
  enabled_log {
    category = "StorageWrite"
  }
  enabled_log {
    category = "StorageDelete"
  }
}

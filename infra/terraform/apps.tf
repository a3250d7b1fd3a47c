locals {
  # AzureWebJobsStorage__tableServiceUri: the host writes its diagnostic events to tables;
  # without it the host cannot reach them.
  common_settings = {
    AzureWebJobsStorage__blobServiceUri       = azurerm_storage_account.des.primary_blob_endpoint
    AzureWebJobsStorage__queueServiceUri      = azurerm_storage_account.des.primary_queue_endpoint
    AzureWebJobsStorage__tableServiceUri      = azurerm_storage_account.des.primary_table_endpoint
    AzureWebJobsStorage__credential           = "managedidentity"
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING = "Authorization=AAD"
    DES_KEYVAULT_URL                          = azurerm_key_vault.des.vault_uri
    RUST_LOG                                  = "info"
  }

  api_settings = merge(local.common_settings, {
    DES_API_AUTHORITY   = var.api_authority
    DES_API_AUDIENCE    = var.api_audience
    DES_PUBLIC_BASE_URL = local.api_base_url
  })

  poller_settings = merge(local.common_settings, {
    DES_POLL_SCHEDULE       = var.poll_schedule
    DES_POLL_BUDGET_SECONDS = tostring(var.poll_budget_seconds)
  })

  applier_settings = merge(local.common_settings, {
    DES_MAX_DEQUEUE_COUNT = tostring(var.max_dequeue_count)
    # Keeps the host's last try equal to the handler's (docs/functions.md).
    AzureFunctionsJobHost__extensions__queues__maxDequeueCount = tostring(var.max_dequeue_count)
  })

  app_settings = {
    api     = local.api_settings
    poller  = local.poller_settings
    applier = local.applier_settings
  }

  # What each app is granted on storage (infra/README.md, "Roles"; checked by
  # infra/tests/test_roles.py). Every app opens (and creates if missing) all DES containers
  # and the work queue when it wires, so each needs create rights there; the host's two
  # containers and the app's deployment container serve the Functions host and Flex.
  app_containers = {
    api     = concat(local.des_containers, local.host_containers, [local.deployment_containers.api])
    poller  = concat(local.des_containers, local.host_containers, [local.deployment_containers.poller])
    applier = concat(local.des_containers, local.host_containers, [local.deployment_containers.applier])
  }
  app_queues = {
    api     = [local.work_queue]
    poller  = [local.work_queue]
    applier = [local.work_queue, local.poison_queue]
  }
  # The roles Microsoft documents for identity-based host storage, granted at account scope
  # when documented_host_storage_roles is set (Storage Table Data Contributor is granted
  # either way, for diagnostic events).
  documented_host_roles = ["Storage Blob Data Owner", "Storage Queue Data Contributor"]

  container_grants = merge([
    for app, containers in local.app_containers : {
      for container in containers : "${app}/${container}" => { app = app, container = container }
    }
  ]...)

  queue_grants = merge([
    for app, queues in local.app_queues : {
      for queue in queues : "${app}/${queue}" => { app = app, queue = queue }
    }
  ]...)

  documented_grants = merge([
    for app in keys(local.apps) : {
      for role in local.documented_host_roles : "${app}/${role}" => { app = app, role = role }
    }
  ]...)
}

# Flex Consumption allows one app per plan.
resource "azurerm_service_plan" "app" {
  # checkov:skip=CKV_AZURE_225: Flex Consumption zone redundancy is an opt-in with its own regional limits; not the default here
  # checkov:skip=CKV_AZURE_212: Flex Consumption scales from zero; always-ready instances are a cost choice, not a default
  for_each            = local.apps
  name                = "${each.value}-plan"
  resource_group_name = data.azurerm_resource_group.des.name
  location            = local.location
  os_type             = "Linux"
  sku_name            = var.function_plan_sku
  tags                = var.tags
}

resource "azurerm_function_app_flex_consumption" "app" {
  for_each            = local.apps
  name                = each.value
  resource_group_name = data.azurerm_resource_group.des.name
  location            = local.location
  service_plan_id     = azurerm_service_plan.app[each.key].id

  storage_container_type      = "blobContainer"
  storage_container_endpoint  = "${azurerm_storage_account.des.primary_blob_endpoint}${local.deployment_containers[each.key]}"
  storage_authentication_type = "SystemAssignedIdentity"
  # Custom handlers: the host starts `handler` from host.json (FUNCTIONS_WORKER_RUNTIME is
  # not an app setting on Flex; the runtime comes from here).
  runtime_name           = "custom"
  runtime_version        = var.custom_runtime_version
  maximum_instance_count = var.maximum_instance_count
  instance_memory_in_mb  = var.instance_memory_in_mb

  https_only = true
  # No publishing credentials: deploy with Entra (az functionapp deploy), never FTP or basic auth.
  webdeploy_publish_basic_authentication_enabled = false
  client_certificate_enabled                     = false
  app_settings                                   = local.app_settings[each.key]
  tags                                           = var.tags

  identity {
    type = "SystemAssigned"
  }

  site_config {
    minimum_tls_version                    = "1.2"
    scm_minimum_tls_version                = "1.2"
    http2_enabled                          = true
    application_insights_connection_string = azurerm_application_insights.des.connection_string
  }

  depends_on = [azurerm_storage_container.des, azurerm_storage_queue.des]
}

resource "azurerm_role_assignment" "container" {
  for_each             = local.container_grants
  scope                = "${azurerm_storage_account.des.id}/blobServices/default/containers/${azurerm_storage_container.des[each.value.container].name}"
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = azurerm_function_app_flex_consumption.app[each.value.app].identity[0].principal_id
  principal_type       = "ServicePrincipal"
}

resource "azurerm_role_assignment" "queue" {
  for_each             = local.queue_grants
  scope                = "${azurerm_storage_account.des.id}/queueServices/default/queues/${azurerm_storage_queue.des[each.value.queue].name}"
  role_definition_name = "Storage Queue Data Contributor"
  principal_id         = azurerm_function_app_flex_consumption.app[each.value.app].identity[0].principal_id
  principal_type       = "ServicePrincipal"
}

# The user-delegation key (failure-log links) is issued per account: no narrower scope exists.
resource "azurerm_role_assignment" "api_delegator" {
  scope                = azurerm_storage_account.des.id
  role_definition_name = "Storage Blob Delegator"
  principal_id         = azurerm_function_app_flex_consumption.app["api"].identity[0].principal_id
  principal_type       = "ServicePrincipal"
}

# Diagnostic events: the host creates a table per month (AzureFunctionsDiagnosticEvents
# <yyyyMM>), writes to it and deletes old ones, so no narrower scope than the account exists.
# DES keeps no tables, so this reaches the host's own tables only.
resource "azurerm_role_assignment" "diagnostic_events" {
  for_each             = local.apps
  scope                = azurerm_storage_account.des.id
  role_definition_name = "Storage Table Data Contributor"
  principal_id         = azurerm_function_app_flex_consumption.app[each.key].identity[0].principal_id
  principal_type       = "ServicePrincipal"
}

# The documented path for identity-based host storage, for operators who want it: the roles
# Microsoft lists, at account scope. They include everything the grants above give.
resource "azurerm_role_assignment" "documented_host_storage" {
  for_each             = var.documented_host_storage_roles ? local.documented_grants : {}
  scope                = azurerm_storage_account.des.id
  role_definition_name = each.value.role
  principal_id         = azurerm_function_app_flex_consumption.app[each.value.app].identity[0].principal_id
  principal_type       = "ServicePrincipal"
}

# Telemetry with Entra auth (APPLICATIONINSIGHTS_AUTHENTICATION_STRING): local auth is off.
resource "azurerm_role_assignment" "telemetry" {
  for_each             = local.apps
  scope                = azurerm_application_insights.des.id
  role_definition_name = "Monitoring Metrics Publisher"
  principal_id         = azurerm_function_app_flex_consumption.app[each.key].identity[0].principal_id
  principal_type       = "ServicePrincipal"
}

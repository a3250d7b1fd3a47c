output "api_base_url" {
  value = local.api_base_url
}

output "principal_ids" {
  description = "The apps' managed identities (api, poller, applier)."
  value       = { for key, app in azurerm_function_app_flex_consumption.app : key => app.identity[0].principal_id }
}

output "storage_account_name" {
  value = azurerm_storage_account.des.name
}

output "key_vault_name" {
  value = azurerm_key_vault.des.name
}

output "key_vault_uri" {
  value = azurerm_key_vault.des.vault_uri
}

output "sql_server_fqdn" {
  value = var.deploy_sql ? azurerm_mssql_server.target[0].fully_qualified_domain_name : ""
}

output "sql_database_name" {
  value = var.deploy_sql ? azurerm_mssql_database.target[0].name : ""
}

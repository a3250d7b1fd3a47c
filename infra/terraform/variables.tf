variable "resource_group_name" {
  description = "An existing resource group to deploy into."
  type        = string
}

variable "prefix" {
  description = "Prefix of every resource name; the apps are <prefix>-api, <prefix>-poller, <prefix>-applier."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,19}$", var.prefix))
    error_message = "3 to 20 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "location" {
  description = "Region; empty means the resource group's."
  type        = string
  default     = ""
}

variable "tags" {
  type    = map(string)
  default = {}
}

variable "storage_replication_type" {
  description = "LRS, ZRS, GRS, GZRS, RAGRS or RAGZRS."
  type        = string
  default     = "ZRS"
}

variable "public_network_access_enabled" {
  description = "Public network access of the storage account and Key Vault. Flex apps without VNet integration reach them over public endpoints, so false needs VNet integration and private endpoints (not in this configuration)."
  type        = bool
  default     = true
}

variable "function_plan_sku" {
  description = "Flex Consumption plan SKU."
  type        = string
  default     = "FC1"
}

variable "maximum_instance_count" {
  type    = number
  default = 40
}

variable "instance_memory_in_mb" {
  type    = number
  default = 2048
}

variable "poll_schedule" {
  description = "NCRONTAB schedule of the poller timer (DES_POLL_SCHEDULE)."
  type        = string
  default     = "*/10 * * * * *"
}

variable "poll_budget_seconds" {
  description = "Seconds one poller tick may read (DES_POLL_BUDGET_SECONDS)."
  type        = number
  default     = 50
}

variable "max_dequeue_count" {
  description = "Queue tries before a batch is poison (DES_MAX_DEQUEUE_COUNT and the host's maxDequeueCount)."
  type        = number
  default     = 5
}

variable "api_authority" {
  description = "Issuer of the API's bearer tokens, e.g. https://login.microsoftonline.com/<tenant>/v2.0 (DES_API_AUTHORITY)."
  type        = string
}

variable "api_audience" {
  description = "Accepted token audiences, comma-separated (DES_API_AUDIENCE)."
  type        = string
}

variable "public_base_url" {
  description = "Public URL of the API (DES_PUBLIC_BASE_URL); empty means https://<prefix>-api.azurewebsites.net."
  type        = string
  default     = ""
}

variable "log_retention_days" {
  type    = number
  default = 30
}

variable "key_vault_purge_protection" {
  description = "Key Vault purge protection (cannot be turned off again once on)."
  type        = bool
  default     = true
}

variable "key_vault_soft_delete_days" {
  type    = number
  default = 90
}

variable "deploy_sql" {
  description = "Deploy an Azure SQL logical server and database as a target (Entra-only auth)."
  type        = bool
  default     = false
}

variable "sql_admin_login" {
  description = "Entra ID admin of the SQL server: a user or group display name."
  type        = string
  default     = ""
  validation {
    condition     = !var.deploy_sql || var.sql_admin_login != ""
    error_message = "deploy_sql needs an Entra ID admin (sql_admin_login and sql_admin_object_id)."
  }
}

variable "sql_admin_object_id" {
  description = "Object id of that user or group."
  type        = string
  default     = ""
}

variable "sql_database_sku" {
  type    = string
  default = "GP_S_Gen5_1"
}

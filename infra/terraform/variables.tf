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
  validation {
    condition     = contains(["LRS", "ZRS", "GRS", "GZRS", "RAGRS", "RAGZRS"], var.storage_replication_type)
    error_message = "storage_replication_type is one of LRS, ZRS, GRS, GZRS, RAGRS, RAGZRS."
  }
}

variable "public_network_access_enabled" {
  description = "Public network access of the storage account and Key Vault. Flex apps without VNet integration reach them over public endpoints, so false needs VNet integration and private endpoints (not in this configuration)."
  type        = bool
  default     = true
}

# Flex Consumption's limits (infra/README.md, "Flex Consumption limits"; checked by
# infra/tests/test_flex_limits.py, which runs these validations, and against Bicep).
variable "function_plan_sku" {
  description = "Flex Consumption plan SKU: FC1 is the only one."
  type        = string
  default     = "FC1"
  validation {
    condition     = var.function_plan_sku == "FC1"
    error_message = "Flex Consumption has one plan SKU: FC1."
  }
}

variable "maximum_instance_count" {
  description = "Most instances one app may scale out to: Flex takes 40 to 1000."
  type        = number
  default     = 40
  validation {
    condition     = var.maximum_instance_count == floor(var.maximum_instance_count) && var.maximum_instance_count >= 40 && var.maximum_instance_count <= 1000
    error_message = "Flex Consumption takes a maximum instance count from 40 to 1000 (a whole number)."
  }
}

variable "instance_memory_in_mb" {
  description = "Instance memory: Flex offers 512, 2048 and 4096 MB. It is also the GB-s billed per active second."
  type        = number
  default     = 2048
  validation {
    condition     = contains([512, 2048, 4096], var.instance_memory_in_mb)
    error_message = "Flex Consumption offers instance memory of 512, 2048 or 4096 MB."
  }
}

variable "custom_runtime_version" {
  description = "Version of the custom handler runtime: Flex knows 1.0 only."
  type        = string
  default     = "1.0"
  validation {
    condition     = var.custom_runtime_version == "1.0"
    error_message = "Flex Consumption runs custom handlers as runtime custom, version 1.0."
  }
}

variable "poll_schedule" {
  description = "NCRONTAB schedule of the poller timer (DES_POLL_SCHEDULE), six fields with seconds. Every minute by default; see infra/README.md, \"Cost\", for the trade-off."
  type        = string
  default     = "0 * * * * *"
  validation {
    condition     = can(regex("^\\S+( \\S+){5}$", var.poll_schedule))
    error_message = "poll_schedule is an NCRONTAB expression of six fields ({second} {minute} {hour} {day} {month} {day-of-week})."
  }
}

variable "poll_budget_seconds" {
  description = "Seconds one poller tick may read (DES_POLL_BUDGET_SECONDS); below the 600 s functionTimeout and, to keep ticks from overlapping, below the schedule's interval."
  type        = number
  default     = 50
  validation {
    condition     = var.poll_budget_seconds >= 1 && var.poll_budget_seconds <= 540
    error_message = "poll_budget_seconds is from 1 to 540 (below the apps' 10-minute functionTimeout)."
  }
}

variable "max_dequeue_count" {
  description = "Queue tries before a batch is poison (DES_MAX_DEQUEUE_COUNT and the host's maxDequeueCount)."
  type        = number
  default     = 5
  validation {
    condition     = var.max_dequeue_count >= 1 && var.max_dequeue_count <= 100
    error_message = "max_dequeue_count is from 1 to 100."
  }
}

variable "documented_host_storage_roles" {
  description = "Also grant each app the roles Microsoft documents for identity-based host storage, at account scope (Storage Blob Data Owner, Storage Queue Data Contributor; Storage Table Data Contributor is granted either way). Off: the narrower grants of infra/README.md, \"Roles\", which cover every storage operation the host performs."
  type        = bool
  default     = false
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
  validation {
    condition     = var.log_retention_days >= 30 && var.log_retention_days <= 730
    error_message = "log_retention_days is from 30 to 730 (PerGB2018 workspaces)."
  }
}

variable "key_vault_purge_protection" {
  description = "Key Vault purge protection (cannot be turned off again once on)."
  type        = bool
  default     = true
}

variable "key_vault_soft_delete_days" {
  type    = number
  default = 90
  validation {
    condition     = var.key_vault_soft_delete_days >= 7 && var.key_vault_soft_delete_days <= 90
    error_message = "key_vault_soft_delete_days is from 7 to 90."
  }
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

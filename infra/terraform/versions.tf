terraform {
  required_version = ">= 1.9"
  required_providers {
    azurerm = {
      source = "hashicorp/azurerm"
      # azurerm_function_app_flex_consumption with runtime_name = "custom".
      version = "~> 4.40"
    }
  }
}

provider "azurerm" {
  features {}
  # The account refuses Shared Key, so data-plane calls go through Entra ID.
  storage_use_azuread = true
}

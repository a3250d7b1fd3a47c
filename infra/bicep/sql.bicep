// Optional Azure SQL target: a logical server with Entra-only authentication and one database.
// The apps' identities become database users by T-SQL (ARM cannot do it), see infra/README.md.

param prefix string
param unique string
param location string
param tags object
@description('Entra ID admin (user or group display name).')
param adminLogin string
param adminObjectId string
param adminPrincipalType string
param databaseSku string
param publicNetworkAccess string

resource server 'Microsoft.Sql/servers@2023-08-01-preview' = {
  // checkov:skip=CKV_AZURE_113: public network access is the publicNetworkAccess parameter; Flex apps without VNet integration reach SQL publicly
  // checkov:skip=CKV_AZURE_25: threat detection is Defender for SQL, a subscription-level choice
  name: toLower(take('${prefix}-sql-${unique}', 63))
  location: location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    minimalTlsVersion: '1.2'
    publicNetworkAccess: publicNetworkAccess
    administrators: {
      administratorType: 'ActiveDirectory'
      azureADOnlyAuthentication: true
      login: adminLogin
      sid: adminObjectId
      principalType: adminPrincipalType
      tenantId: subscription().tenantId
    }
  }
}

// Flex Consumption apps without VNet integration have no fixed outbound addresses: the
// 0.0.0.0 rule admits Azure services (sign-in is still Entra-only).
resource azureServices 'Microsoft.Sql/servers/firewallRules@2023-08-01-preview' = if (publicNetworkAccess == 'Enabled') {
  parent: server
  name: 'AllowAllWindowsAzureIps'
  properties: {
    startIpAddress: '0.0.0.0'
    endIpAddress: '0.0.0.0'
  }
}

resource database 'Microsoft.Sql/servers/databases@2023-08-01-preview' = {
  // checkov:skip=CKV_AZURE_229: zone redundancy is not available for every serverless SKU; an operator choice
  // checkov:skip=CKV_AZURE_23: auditing is on at server level (auditingSettings in this file), which covers every database
  // checkov:skip=CKV_AZURE_25: threat detection is Defender for SQL, a subscription-level choice
  // checkov:skip=CKV_AZURE_26: security alert e-mails need Defender for SQL and recipients, an operator choice
  // checkov:skip=CKV_AZURE_27: security alert e-mails need Defender for SQL and recipients, an operator choice
  parent: server
  name: '${prefix}-target'
  location: location
  tags: tags
  sku: {
    name: databaseSku
  }
  properties: {
    zoneRedundant: false
  }
}

resource auditing 'Microsoft.Sql/servers/auditingSettings@2023-08-01-preview' = {
  parent: server
  name: 'default'
  properties: {
    state: 'Enabled'
    isAzureMonitorTargetEnabled: true
    retentionDays: 90
  }
}

output fullyQualifiedDomainName string = server.properties.fullyQualifiedDomainName
output databaseName string = database.name

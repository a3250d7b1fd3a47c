// The Data Export Service in one resource group: storage (control, queue, failures, payloads),
// three Flex Consumption function apps (api, poller, applier), monitoring, Key Vault, and an
// optional Azure SQL target. Names shared with the code: docs/azure-names.md (checked by
// infra/tests/test_names.py).
targetScope = 'resourceGroup'

@description('Prefix of every resource name; the apps are <prefix>-api, <prefix>-poller, <prefix>-applier.')
@minLength(3)
@maxLength(20)
param prefix string

param location string = resourceGroup().location
param tags object = {}

@description('Storage account SKU (ZRS/GZRS where the region has zones).')
@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_GZRS', 'Standard_RAGRS', 'Standard_RAGZRS'])
param storageSku string = 'Standard_ZRS'

@description('Public network access of the storage account and Key Vault. Flex apps without VNet integration reach them over public endpoints, so Disabled needs VNet integration and private endpoints (not in this template).')
@allowed(['Enabled', 'Disabled'])
param publicNetworkAccess string = 'Enabled'

// Flex Consumption's limits (infra/README.md, "Flex Consumption limits"; checked by
// infra/tests/test_flex_limits.py against the same limits in Terraform).
@description('Flex Consumption plan SKU: FC1 is the only one.')
@allowed(['FC1'])
param functionPlanSku string = 'FC1'
@description('Most instances one app may scale out to: Flex takes 40 to 1000.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40
@description('Instance memory: Flex offers 512, 2048 and 4096 MB. It is also the GB-s billed per active second.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048
@description('Version of the custom handler runtime: Flex knows 1.0 only.')
@allowed(['1.0'])
param customRuntimeVersion string = '1.0'

@description('NCRONTAB schedule of the poller timer (DES_POLL_SCHEDULE), six fields with seconds. Every minute by default; see infra/README.md, "Cost", for the trade-off.')
@minLength(11)
param pollSchedule string = '0 * * * * *'
@description('Seconds one poller tick may read (DES_POLL_BUDGET_SECONDS); below the 600 s functionTimeout and, to keep ticks from overlapping, below the schedule\'s interval.')
@minValue(1)
@maxValue(540)
param pollBudgetSeconds int = 50
@description('Queue tries before a batch is poison (DES_MAX_DEQUEUE_COUNT and the host\'s maxDequeueCount).')
@minValue(1)
@maxValue(100)
param maxDequeueCount int = 5

@description('Also grant each app the roles Microsoft documents for identity-based host storage, at account scope (Storage Blob Data Owner, Storage Queue Data Contributor; Storage Table Data Contributor is granted either way). Off: the narrower grants of infra/README.md, "Roles", which cover every storage operation the host performs.')
param documentedHostStorageRoles bool = false

@description('Issuer of the API\'s bearer tokens, e.g. https://login.microsoftonline.com/<tenant>/v2.0 (DES_API_AUTHORITY).')
param apiAuthority string
@description('Accepted token audiences, comma-separated: the API app registration\'s app id URI and/or client id (DES_API_AUDIENCE).')
param apiAudience string
@description('Public URL of the API (DES_PUBLIC_BASE_URL); empty means https://<prefix>-api.azurewebsites.net.')
param publicBaseUrl string = ''

@description('Log Analytics retention in days.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

@description('Key Vault purge protection (cannot be turned off again once on).')
param keyVaultPurgeProtection bool = true
@minValue(7)
@maxValue(90)
param keyVaultSoftDeleteDays int = 90

@description('Deploy an Azure SQL logical server and database as a target (Entra-only auth).')
param deploySql bool = false
@description('Entra ID admin of the SQL server: a user or group display name.')
param sqlAdminLogin string = ''
@description('Object id of that user or group.')
param sqlAdminObjectId string = ''
@allowed(['User', 'Group', 'Application'])
param sqlAdminPrincipalType string = 'Group'
@description('SQL database SKU (serverless General Purpose by default).')
param sqlDatabaseSku string = 'GP_S_Gen5_1'

// Names the code uses (docs/azure-names.md, crates/des-azure/src/names.rs).
var desContainers = ['des-control', 'des-payloads', 'des-failures']
var workQueue = 'des-apply'
var poisonQueue = 'des-apply-poison'
// The Functions host keeps timer schedules, locks and keys in these; made here so that the
// apps' roles can be scoped to them.
var hostContainers = ['azure-webjobs-hosts', 'azure-webjobs-secrets']
var apps = {
  api: '${prefix}-api'
  poller: '${prefix}-poller'
  applier: '${prefix}-applier'
}
var deploymentContainers = {
  api: 'deploy-api'
  poller: 'deploy-poller'
  applier: 'deploy-applier'
}

var unique = uniqueString(resourceGroup().id, prefix)
var storageName = take('${toLower(replace(prefix, '-', ''))}${unique}', 24)
// 7 + 4 + 13 = 24 characters at most, never ending in or doubling a hyphen.
var vaultName = '${take(replace(prefix, '-', ''), 7)}-kv-${unique}'
var apiBaseUrl = empty(publicBaseUrl) ? 'https://${apps.api}.azurewebsites.net' : publicBaseUrl

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${prefix}-logs'
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: logRetentionDays
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${prefix}-appi'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    DisableLocalAuth: true
  }
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_59: public network access is the publicNetworkAccess parameter; Flex apps without VNet integration reach storage over its public endpoint
  // checkov:skip=CKV_AZURE_35: default action follows the publicNetworkAccess parameter (Deny when Disabled); identity-only access, no shared key
  // checkov:skip=CKV_AZURE_206: replication is the storageSku parameter, default Standard_ZRS
  // checkov:skip=CKV_AZURE_43: the name is computed (prefix + uniqueString, lower case, at most 24 characters), which checkov cannot evaluate
  name: storageName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: storageSku
  }
  properties: {
    // Every client (the handlers, the Functions host, Flex deployment) uses Entra ID.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    supportsHttpsTrafficOnly: true
    minimumTlsVersion: 'TLS1_2'
    publicNetworkAccess: publicNetworkAccess
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: publicNetworkAccess == 'Enabled' ? 'Allow' : 'Deny'
    }
    encryption: {
      requireInfrastructureEncryption: true
      keySource: 'Microsoft.Storage'
      services: {
        blob: { enabled: true }
        queue: { enabled: true, keyType: 'Account' }
        table: { enabled: true, keyType: 'Account' }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: { enabled: true, days: 7 }
    containerDeleteRetentionPolicy: { enabled: true, days: 7 }
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

// Only the Functions host keeps tables here: its diagnostic events.
resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for name in concat(desContainers, hostContainers, [deploymentContainers.api, deploymentContainers.poller, deploymentContainers.applier]): {
    parent: blobService
    name: name
    properties: {
      publicAccess: 'None'
    }
  }
]

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [
  for name in [workQueue, poisonQueue]: {
    parent: queueService
    name: name
  }
]

// Resource logs of the blob, queue and table services (reads, writes, deletes) go to Log
// Analytics.
var storageLogs = [
  { category: 'StorageRead', enabled: true }
  { category: 'StorageWrite', enabled: true }
  { category: 'StorageDelete', enabled: true }
]

resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  scope: blobService
  name: 'blob-logs'
  properties: {
    workspaceId: logs.id
    logs: storageLogs
  }
}

resource queueDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  scope: queueService
  name: 'queue-logs'
  properties: {
    workspaceId: logs.id
    logs: storageLogs
  }
}

resource tableDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  scope: tableService
  name: 'table-logs'
  properties: {
    workspaceId: logs.id
    logs: storageLogs
  }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  // checkov:skip=CKV_AZURE_109: network ACL default action follows the publicNetworkAccess parameter (Deny when Disabled)
  // checkov:skip=CKV_AZURE_189: public network access is the publicNetworkAccess parameter; Flex apps without VNet integration reach the vault publicly
  // checkov:skip=CKV_AZURE_110: purge protection is the keyVaultPurgeProtection parameter, default true
  // checkov:skip=CKV_AZURE_42: soft delete is always on; purge protection is the keyVaultPurgeProtection parameter, default true
  name: vaultName
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: keyVaultSoftDeleteDays
    // ARM accepts only true or absent here.
    enablePurgeProtection: keyVaultPurgeProtection ? true : null
    publicNetworkAccess: publicNetworkAccess
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: publicNetworkAccess == 'Enabled' ? 'Allow' : 'Deny'
    }
  }
}

var commonSettings = {
  AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
  // The host writes its diagnostic events to tables; without this it cannot reach them.
  AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
  AzureWebJobsStorage__credential: 'managedidentity'
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD'
  DES_KEYVAULT_URL: vault.properties.vaultUri
  RUST_LOG: 'info'
}

var apiSettings = union(commonSettings, {
  DES_API_AUTHORITY: apiAuthority
  DES_API_AUDIENCE: apiAudience
  DES_PUBLIC_BASE_URL: apiBaseUrl
})

var pollerSettings = union(commonSettings, {
  DES_POLL_SCHEDULE: pollSchedule
  DES_POLL_BUDGET_SECONDS: string(pollBudgetSeconds)
})

var applierSettings = union(commonSettings, {
  DES_MAX_DEQUEUE_COUNT: string(maxDequeueCount)
  // Keeps the host's last try equal to the handler's (docs/functions.md).
  AzureFunctionsJobHost__extensions__queues__maxDequeueCount: string(maxDequeueCount)
})

// Every app opens (and creates if missing) all DES containers and the work queue when it
// wires, so each needs create rights there; the host containers and tables serve the
// Functions host. See infra/README.md "Roles" (checked by infra/tests/test_roles.py). All three read
// secrets: the API tests target connection strings, the poller applies schemas, the applier
// writes, and all sign in to Dataverse with organizations' app secrets.
module api 'functionapp.bicep' = {
  name: 'des-api'
  params: {
    name: apps.api
    location: location
    tags: tags
    planSku: functionPlanSku
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    customRuntimeVersion: customRuntimeVersion
    documentedHostStorageRoles: documentedHostStorageRoles
    storageAccountName: storage.name
    deploymentContainerName: deploymentContainers.api
    blobContainerNames: concat(desContainers, hostContainers)
    queueNames: [workQueue]
    blobDelegator: true
    appInsightsName: appInsights.name
    keyVaultName: vault.name
    appSettings: apiSettings
  }
  dependsOn: [containers, queues]
}

module poller 'functionapp.bicep' = {
  name: 'des-poller'
  params: {
    name: apps.poller
    location: location
    tags: tags
    planSku: functionPlanSku
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    customRuntimeVersion: customRuntimeVersion
    documentedHostStorageRoles: documentedHostStorageRoles
    storageAccountName: storage.name
    deploymentContainerName: deploymentContainers.poller
    blobContainerNames: concat(desContainers, hostContainers)
    queueNames: [workQueue]
    appInsightsName: appInsights.name
    keyVaultName: vault.name
    appSettings: pollerSettings
  }
  dependsOn: [containers, queues]
}

module applier 'functionapp.bicep' = {
  name: 'des-applier'
  params: {
    name: apps.applier
    location: location
    tags: tags
    planSku: functionPlanSku
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    customRuntimeVersion: customRuntimeVersion
    documentedHostStorageRoles: documentedHostStorageRoles
    storageAccountName: storage.name
    deploymentContainerName: deploymentContainers.applier
    blobContainerNames: concat(desContainers, hostContainers)
    queueNames: [workQueue, poisonQueue]
    appInsightsName: appInsights.name
    keyVaultName: vault.name
    appSettings: applierSettings
  }
  dependsOn: [containers, queues]
}

module sql 'sql.bicep' = if (deploySql) {
  name: 'des-sql'
  params: {
    prefix: prefix
    unique: unique
    location: location
    tags: tags
    adminLogin: sqlAdminLogin
    adminObjectId: sqlAdminObjectId
    adminPrincipalType: sqlAdminPrincipalType
    databaseSku: sqlDatabaseSku
    publicNetworkAccess: publicNetworkAccess
  }
}

output apiBaseUrl string = apiBaseUrl
output apiPrincipalId string = api.outputs.principalId
output pollerPrincipalId string = poller.outputs.principalId
output applierPrincipalId string = applier.outputs.principalId
output storageAccountName string = storage.name
output keyVaultName string = vault.name
output keyVaultUri string = vault.properties.vaultUri
output sqlServerFqdn string = deploySql ? sql.outputs.fullyQualifiedDomainName : ''
output sqlDatabaseName string = deploySql ? sql.outputs.databaseName : ''

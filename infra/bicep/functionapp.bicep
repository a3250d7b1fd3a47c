// One DES function app on its own Flex Consumption plan (Flex allows one app per plan), with a
// system-assigned identity, identity-based host storage and the storage roles it needs.

@description('App name: <prefix>-api, <prefix>-poller or <prefix>-applier.')
param name string
param location string
param tags object
// The same Flex limits as main.bicep (infra/tests/test_flex_limits.py keeps them equal).
@description('Flex Consumption plan SKU.')
@allowed(['FC1'])
param planSku string
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int
@allowed([512, 2048, 4096])
param instanceMemoryMB int
@allowed(['1.0'])
param customRuntimeVersion string
param storageAccountName string
@description('The deployment container (Flex reads the package from it with the app identity).')
param deploymentContainerName string
@description('Blob containers the app reads and writes (DES data and the Functions host).')
param blobContainerNames array
@description('Queues the app may create, send to and read (see infra/README.md, roles).')
param queueNames array
@description('Give the app Storage Blob Delegator on the account (user-delegation SAS).')
param blobDelegator bool = false
@description('Also grant the roles Microsoft documents for host storage at account scope.')
param documentedHostStorageRoles bool = false
param appInsightsName string
@description('The vault whose secrets the app reads (Key Vault Secrets User).')
param keyVaultName string
@description('The app settings, as the handlers read them.')
param appSettings object

// Built-in role ids (the names are checked against them by infra/tests/test_roles.py).
var roles = {
  blobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  blobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  blobDelegator: 'db58b8e5-c6ad-4a2a-8342-4190687cbf4a'
  queueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  tableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: storage
  name: 'default'
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' existing = {
  parent: storage
  name: 'default'
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = [
  for container in concat([deploymentContainerName], blobContainerNames): {
    parent: blobService
    name: container
  }
]

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' existing = [
  for queue in queueNames: {
    parent: queueService
    name: queue
  }
]

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // checkov:skip=CKV_AZURE_225: Flex Consumption zone redundancy is an opt-in with its own regional limits; not the default here
  name: '${name}-plan'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: planSku
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  // checkov:skip=CKV_AZURE_222: the API is called by clients on the internet; all three apps are deployed over the public SCM endpoint (no VNet in this template)
  // checkov:skip=CKV_AZURE_17: the API authenticates callers with Entra bearer tokens; poller and applier have no HTTP functions
  // checkov:skip=CKV_AZURE_212: Flex Consumption scales from zero; always-ready instances are a cost choice, not a default
  // checkov:skip=CKV_AZURE_213: every API route needs a bearer token (no anonymous health route); poller and applier serve no HTTP
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'SystemAssignedIdentity'
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      // Custom handlers: the host starts `handler` from host.json (FUNCTIONS_WORKER_RUNTIME
      // is not an app setting on Flex; the runtime comes from here).
      runtime: {
        name: 'custom'
        version: customRuntimeVersion
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: [for setting in items(appSettings): { name: setting.key, value: setting.value }]
    }
  }
}

// No publishing credentials: deploy with Entra (az functionapp deploy), never FTP or basic auth.
resource ftp 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scm 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'scm'
  properties: {
    allow: false
  }
}

resource containerRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (container, i) in concat([deploymentContainerName], blobContainerNames): {
    scope: containers[i]
    name: guid(containers[i].id, app.id, roles.blobDataContributor)
    properties: {
      principalId: app.identity.principalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.blobDataContributor)
    }
  }
]

resource queueRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (queue, i) in queueNames: {
    scope: queues[i]
    name: guid(queues[i].id, app.id, roles.queueDataContributor)
    properties: {
      principalId: app.identity.principalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.queueDataContributor)
    }
  }
]

// The user-delegation key is issued per account, so this role cannot be narrower.
resource delegatorRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (blobDelegator) {
  scope: storage
  name: guid(storage.id, app.id, roles.blobDelegator)
  properties: {
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.blobDelegator)
  }
}

// Diagnostic events: the host creates a table per month (AzureFunctionsDiagnosticEvents
// <yyyyMM>), writes to it and deletes old ones, so no narrower scope than the account exists.
// DES keeps no tables, so this reaches the host's own tables only.
resource diagnosticEventsRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: storage
  name: guid(storage.id, app.id, roles.tableDataContributor)
  properties: {
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.tableDataContributor)
  }
}

// The documented path for identity-based host storage, for operators who want it: the roles
// Microsoft lists, at account scope. They include everything the grants above give.
resource documentedRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in (documentedHostStorageRoles ? [roles.blobDataOwner, roles.queueDataContributor] : []): {
    scope: storage
    name: guid(storage.id, app.id, role)
    properties: {
      principalId: app.identity.principalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    }
  }
]

// Telemetry with Entra auth (APPLICATIONINSIGHTS_AUTHENTICATION_STRING): local auth is off.
resource telemetryRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: appInsights
  name: guid(appInsights.id, app.id, roles.monitoringMetricsPublisher)
  properties: {
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
  }
}

// Secrets are named per profile and organization at run time, so the vault is the scope.
resource secretsRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: vault
  name: guid(vault.id, app.id, roles.keyVaultSecretsUser)
  properties: {
    principalId: app.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
  }
}

output name string = app.name
output principalId string = app.identity.principalId
output defaultHostName string = app.properties.defaultHostName

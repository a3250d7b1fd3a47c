-- create schema if missing
IF SCHEMA_ID(N'dbo') IS NULL EXEC(N'CREATE SCHEMA [dbo]')
GO
-- create table if missing 1
IF OBJECT_ID(N'[dbo].[crm_account]', N'U') IS NULL CREATE TABLE [dbo].[crm_account] (
    [Id] uniqueidentifier NOT NULL,
    [SinkCreatedOn] datetime NULL,
    [SinkModifiedOn] datetime NULL,
    [statecode] int NULL,
    [statuscode] int NULL,
    [industrycode] int NULL,
    [donotemail] bit NULL,
    [primarycontactid] uniqueidentifier NULL,
    [primarycontactid_entitytype] nvarchar(128) NULL,
    [ownerid] uniqueidentifier NULL,
    [ownerid_entitytype] nvarchar(128) NULL,
    [revenue] decimal(38,2) NULL,
    [revenue_base] decimal(38,4) NULL,
    [accountid] uniqueidentifier NULL,
    [name] nvarchar(160) NULL,
    [description] nvarchar(max) NULL,
    [exchangerate] decimal(38,10) NULL,
    [address1_latitude] decimal(38,5) NULL,
    [numberofemployees] int NULL,
    [versionnumber] bigint NULL,
    [createdon] datetime NULL,
    [owneridtype] nvarchar(4000) NULL,
    [owneridname] nvarchar(100) NULL,
    [owneridyominame] nvarchar(100) NULL,
    CONSTRAINT [EPK[dbo]].[crm_account]]] PRIMARY KEY CLUSTERED ([Id])
)
GO
-- create table if missing 2
IF OBJECT_ID(N'[dbo].[crm_systemuserroles]', N'U') IS NULL CREATE TABLE [dbo].[crm_systemuserroles] (
    [Id] uniqueidentifier NOT NULL,
    [SinkCreatedOn] datetime NULL,
    [SinkModifiedOn] datetime NULL,
    [systemuserid] uniqueidentifier NULL,
    [roleid] uniqueidentifier NULL,
    [systemuserroleid] uniqueidentifier NULL,
    [versionnumber] bigint NULL,
    CONSTRAINT [EPK[dbo]].[crm_systemuserroles]]] PRIMARY KEY CLUSTERED ([Id])
)
GO
-- create table if missing 3
IF OBJECT_ID(N'[dbo].[crm_OptionSetMetadata]', N'U') IS NULL CREATE TABLE [dbo].[crm_OptionSetMetadata] (
    [EntityName] nvarchar(64) NULL,
    [OptionSetName] nvarchar(64) NULL,
    [Option] int NULL,
    [IsUserLocalizedLabel] bit NULL,
    [LocalizedLabelLanguageCode] int NULL,
    [LocalizedLabel] nvarchar(256) NULL
)
GO
-- create table if missing 4
IF OBJECT_ID(N'[dbo].[crm_GlobalOptionSetMetadata]', N'U') IS NULL CREATE TABLE [dbo].[crm_GlobalOptionSetMetadata] (
    [OptionSetName] nvarchar(64) NULL,
    [Option] int NULL,
    [IsUserLocalizedLabel] bit NULL,
    [LocalizedLabelLanguageCode] int NULL,
    [LocalizedLabel] nvarchar(256) NULL
)
GO
-- create table if missing 5
IF OBJECT_ID(N'[dbo].[crm_StateMetadata]', N'U') IS NULL CREATE TABLE [dbo].[crm_StateMetadata] (
    [EntityName] nvarchar(64) NULL,
    [State] int NULL,
    [IsUserLocalizedLabel] bit NULL,
    [LocalizedLabelLanguageCode] int NULL,
    [LocalizedLabel] nvarchar(256) NULL
)
GO
-- create table if missing 6
IF OBJECT_ID(N'[dbo].[crm_StatusMetadata]', N'U') IS NULL CREATE TABLE [dbo].[crm_StatusMetadata] (
    [EntityName] nvarchar(64) NULL,
    [State] int NULL,
    [Status] int NULL,
    [IsUserLocalizedLabel] bit NULL,
    [LocalizedLabelLanguageCode] int NULL,
    [LocalizedLabel] nvarchar(256) NULL
)
GO
-- create table if missing 7
IF OBJECT_ID(N'[dbo].[crm_TargetMetadata]', N'U') IS NULL CREATE TABLE [dbo].[crm_TargetMetadata] (
    [EntityName] nvarchar(64) NULL,
    [AttributeName] nvarchar(64) NULL,
    [ReferencedEntity] nvarchar(64) NULL,
    [ReferencedAttribute] nvarchar(64) NULL
)
GO
-- create table if missing 8
IF OBJECT_ID(N'[dbo].[crm_AttributeMetadata]', N'U') IS NULL CREATE TABLE [dbo].[crm_AttributeMetadata] (
    [Id] bigint NULL,
    [EntityName] nvarchar(64) NULL,
    [AttributeName] nvarchar(64) NULL,
    [AttributeType] nvarchar(64) NULL,
    [AttributeTypeCode] int NULL,
    [Version] bigint NULL,
    [Timestamp] datetime NULL,
    [MetadataId] nvarchar(64) NULL,
    [Precision] int NULL,
    [MaxLength] int NULL
)
GO
-- create table if missing 9
IF OBJECT_ID(N'[dbo].[crm_DeleteLog]', N'U') IS NULL CREATE TABLE [dbo].[crm_DeleteLog] (
    [Id] bigint IDENTITY(1,1) NOT NULL,
    [EntityName] nvarchar(64) NULL,
    [RecordId] nvarchar(64) NULL,
    [SinkDeleteTime] datetime NULL,
    [VersionNumber] bigint NULL,
    PRIMARY KEY CLUSTERED ([Id])
)
GO
-- create table if missing 10
IF SCHEMA_ID(N'des_state') IS NULL EXEC(N'CREATE SCHEMA [des_state]')
GO
-- create table if missing 11
IF OBJECT_ID(N'[des_state].[Watermark]', N'U') IS NULL CREATE TABLE [des_state].[Watermark] ([Profile] uniqueidentifier NOT NULL, [Table] nvarchar(128) NOT NULL, [Seq] bigint NOT NULL, PRIMARY KEY ([Profile], [Table]))
GO
-- create table if missing 12
IF OBJECT_ID(N'[des_state].[Tombstone]', N'U') IS NULL CREATE TABLE [des_state].[Tombstone] ([Profile] uniqueidentifier NOT NULL, [Table] nvarchar(128) NOT NULL, [Id] uniqueidentifier NOT NULL, [Seq] bigint NOT NULL, PRIMARY KEY ([Profile], [Table], [Id]))
GO
-- create table if missing 13
IF OBJECT_ID(N'[des_state].[ResyncSeen]', N'U') IS NULL CREATE TABLE [des_state].[ResyncSeen] ([Profile] uniqueidentifier NOT NULL, [Table] nvarchar(128) NOT NULL, [FirstSeq] bigint NOT NULL, [Id] uniqueidentifier NOT NULL, PRIMARY KEY ([Profile], [Table], [FirstSeq], [Id]))
GO
-- create table if missing 14
IF OBJECT_ID(N'[des_state].[Target]', N'U') IS NULL CREATE TABLE [des_state].[Target] ([Profile] uniqueidentifier NOT NULL PRIMARY KEY, [Token] nvarchar(64) NOT NULL)
GO
-- labeled view 15
CREATE OR ALTER VIEW [dbo].[crm_account_Labeled] AS
SELECT t.*,
    (SELECT MIN(m.[LocalizedLabel]) FROM [dbo].[crm_StateMetadata] AS m WHERE m.[EntityName] = 'account' AND m.[IsUserLocalizedLabel] = 1 AND m.[State] = t.[statecode]) AS [statecodename],
    (SELECT MIN(m.[LocalizedLabel]) FROM [dbo].[crm_StatusMetadata] AS m WHERE m.[EntityName] = 'account' AND m.[IsUserLocalizedLabel] = 1 AND m.[Status] = t.[statuscode]) AS [statuscodename],
    (SELECT MIN(m.[LocalizedLabel]) FROM [dbo].[crm_OptionSetMetadata] AS m WHERE m.[EntityName] = 'account' AND m.[IsUserLocalizedLabel] = 1 AND m.[OptionSetName] = 'industrycode' AND m.[Option] = t.[industrycode]) AS [industrycodename],
    (SELECT MIN(m.[LocalizedLabel]) FROM [dbo].[crm_OptionSetMetadata] AS m WHERE m.[EntityName] = 'account' AND m.[IsUserLocalizedLabel] = 1 AND m.[OptionSetName] = 'donotemail' AND m.[Option] = t.[donotemail]) AS [donotemailname] FROM [dbo].[crm_account] AS t
GO
